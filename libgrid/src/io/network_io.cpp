// libgrid io: dispatch on file extension.
#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/io/matpower.hpp>
#include <libgrid/io/network_io.hpp>

namespace libgrid {
namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

Network read_network(const std::string& path) {
    if (ends_with(path, ".m")) return read_matpower(path);
    if (ends_with(path, ".json")) return read_case_json(path);
    throw ParseError(path, 0, "unknown network file type: expected a MATPOWER case (.m) or a libgrid network (.json)");
}

void write_network(const Network& net, const std::string& path) {
    if (ends_with(path, ".m")) return write_matpower(net, path);
    if (ends_with(path, ".json")) return write_case_json(net, path);
    throw Error(path + ": unknown network file type: expected .m or .json");
}

}  // namespace libgrid
