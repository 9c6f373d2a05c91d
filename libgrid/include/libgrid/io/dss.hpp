// libgrid io: OpenDSS scripts (.dss) in and out, for the subset the IEEE 13, 34, 123 and
// European LV test feeders use (docs/opendss.md lists it). The reader runs the script's commands
// in order on a UNetwork: Clear, New, Edit, property edits (`Transformer.Reg1.wdg=2 Tap=1.0625`),
// Compile/Redirect (file names matched without regard to case, relative to the including file),
// BatchEdit, Set, CalcVoltageBases, Solve (counted), Buscoords; LineCode, Line, Load, Transformer,
// RegControl, Capacitor, Vsource/Circuit, LoadShape. Other commands and classes (Show, Export,
// Plot, Monitor, EnergyMeter, ...) are accepted and ignored with one note each. Errors are
// ParseError "FILE:LINE: ..." naming the element and the property.
#pragma once

#include <libgrid/model/unetwork.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace libgrid {

struct DssReadResult {
    UNetwork net;
    std::vector<std::string> notes;  ///< one per ignored command or class ("FILE:LINE: ignored: Plot")
};

/// Read and run a script file.
DssReadResult read_dss(const std::string& path);

/// The same from text; `name` is used in error messages and `base_dir` resolves Redirect.
DssReadResult read_dss_string(std::string_view text, const std::string& name = "<string>",
                              const std::string& base_dir = ".");

/// Added: what the reader may do beyond the script text itself.
struct DssReadOptions {
    /// Compile/Redirect/Buscoords and `mult=(file=...)` open files (relative to the including file).
    /// false: each is an error naming the command (a fuzzer reads no file).
    bool allow_files = true;
    /// A Redirect/Compile of a file that does not exist: an error (OpenDSS's behaviour, default), or
    /// false: one note and the script goes on (Run_IEEE123Bus.DSS redirects a plotting script that
    /// EPRI does not ship).
    bool missing_redirect_is_error = true;
};
DssReadResult read_dss(const std::string& path, const DssReadOptions& options);
DssReadResult read_dss_string(std::string_view text, const std::string& name, const std::string& base_dir,
                              const DssReadOptions& options);

/// Write what the model holds as one script (LineCodes inline as line matrices, taps as set,
/// voltage bases, Buscoords omitted). read_dss(write_dss(net)) gives back an equal network.
void write_dss(const UNetwork& net, const std::string& path);
std::string to_dss_string(const UNetwork& net);

}  // namespace libgrid
