// libgrid io: read or write a network by file extension (.m: MATPOWER, .json: mg-case-json/1).
#pragma once

#include <libgrid/model/network.hpp>

#include <string>

namespace libgrid {

/// Reads a MATPOWER case (.m) or a libgrid network JSON (.json). Throws ParseError naming the file.
Network read_network(const std::string& path);
/// Writes by extension (.m or .json).
void write_network(const Network& net, const std::string& path);

}  // namespace libgrid
