// libgrid io: MATPOWER case files (the `mpc` struct of MATPOWER case format version 2, as text).
//
// Reading maps one MATPOWER case onto a Network (see docs/matpower.md for the column-by-column
// mapping): every bus row gives a Bus, a nonzero Pd/Qd gives a Load and a nonzero Gs/Bs a Shunt
// (both with id = bus number), gen row k gives Gen k and branch row k gives Branch k (1-based).
// Only literal data is understood (numbers, Inf/NaN, strings, matrices, cell arrays); a case that
// computes its data with MATLAB code is rejected with a ParseError, never half-read.
//
// Writing produces a MATPOWER version 2 file that MATPOWER's loadcase reads and that read_matpower
// reads back into an equal Network when the Network came from read_matpower.
#pragma once

#include <libgrid/model/network.hpp>

#include <string>

namespace libgrid {

/// Read a MATPOWER case file. Throws ParseError(path, line, message) when the file cannot be
/// opened (line 0) or is not a valid MATPOWER case (line of the offending text).
Network read_matpower(const std::string& path);

/// Parse the text of a MATPOWER case file; `filename` is only used in error messages.
Network parse_matpower(const std::string& text, const std::string& filename = "<string>");

/// Write `net` as a MATPOWER case file (see to_matpower). Throws ValidationError / IdError as
/// to_matpower does, and Error when the file cannot be written.
void write_matpower(const Network& net, const std::string& path);

/// The MATPOWER case file text for `net`. Throws ValidationError naming the element when the
/// network holds something MATPOWER cannot express (Line, Transformer, SGen, Storage, ExtGrid,
/// Switch, ZIP loads, NaN values, names with control characters) and IdError for duplicate bus
/// ids or references to unknown buses.
std::string to_matpower(const Network& net);

}  // namespace libgrid
