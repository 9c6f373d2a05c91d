// libgrid io: the project's network file, JSON schema "mg-case-json/1" plus libgrid extensions.
//
// The reader takes the `*.input.json` files in tests/data/cigre and tests/data/pgm_bench unchanged.
// The writer always writes the schema fields plus every libgrid extension field, so that
// parse_case_json(to_case_json(net)) == net for every Network that passes the reader's checks
// (all values finite, except the fields whose default is infinite, which are written as null).
// Field by field reference, units, defaults and what the model cannot hold: docs/network_json.md.
//
// Errors:
//  * JSON syntax error, wrong or missing "schema", top level not an object
//      -> ParseError(file, line, message); the line is computed from the parser's byte offset.
//  * a field of the wrong type, a required field missing, a value out of its domain
//      -> ValidationError "FILE: ARRAY[id=ID]: field 'FIELD': must be > 0, got -1".
//  * duplicate ids within one array, a reference to an unknown bus / line / transformer id
//      -> IdError naming the array, the id and the field.
#pragma once

#include <string>

#include "libgrid/model/network.hpp"

namespace libgrid {

/// The schema string the reader requires and the writer writes.
inline constexpr const char* kCaseJsonSchema = "mg-case-json/1";

/// Default voltage band of a bus whose file gives no `vmin_pu` / `vmax_pu` (see docs/network_json.md):
/// 0.94 / 1.05 p.u. below 1 kV, 0.90 / 1.10 p.u. from 1 kV up.
double case_json_default_vmin_pu(double vn_kv);
double case_json_default_vmax_pu(double vn_kv);

/// Read a network file. Throws ParseError / ValidationError / IdError (see above); a file that
/// cannot be opened gives ParseError(path, 0, ...).
Network read_case_json(const std::string& path);

/// Parse network JSON held in memory; `filename` is used in error messages only.
Network parse_case_json(const std::string& text, const std::string& filename = "<string>");

/// Write `net` to `path` (overwrites). Throws ValidationError if a value cannot be written
/// (NaN, or an infinity where null would read back as a different default), Error on I/O failure.
void write_case_json(const Network& net, const std::string& path);

/// The JSON text of `net`: schema "mg-case-json/1" plus all libgrid extension fields.
std::string to_case_json(const Network& net);

}  // namespace libgrid
