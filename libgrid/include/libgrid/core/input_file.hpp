// libgrid io: the one gate every file reader goes through.
//
// libgrid reads only regular files (symbolic links are followed) and never more than a fixed number
// of bytes: a directory, a device (/dev/zero, /dev/stdin), a FIFO or a socket given as a network,
// scenario, profile or weather file is refused with a clear error instead of being read forever or
// reported as missing. The limit is kMaxInputFileBytes (1 GiB) for text inputs (MATPOWER, network
// JSON, scenario YAML, CSV profiles and weather); HDF5 inputs are checked for being regular files
// and their datasets are read only up to the same number of bytes (see docs/guide.md, "Input files").
#pragma once

#include <cstdint>
#include <string>

namespace libgrid {

/// Largest input libgrid reads into memory: 1 GiB.
inline constexpr std::uint64_t kMaxInputFileBytes = std::uint64_t{1} << 30;

/// Why `path` cannot be read as an input, or "" when it is a regular file of at most `max_bytes`:
/// "no such file", "is a directory", "not a regular file (a character device)", "is 2147483648 bytes,
/// more than the limit of 1073741824 bytes (1 GiB)", "cannot open: Permission denied". Never throws.
std::string input_file_problem(const std::string& path, std::uint64_t max_bytes = kMaxInputFileBytes);

/// Throws ParseError(path, 0, <the problem>) unless `path` is a regular file of at most `max_bytes`.
void check_input_file(const std::string& path, std::uint64_t max_bytes = kMaxInputFileBytes);

/// The whole file, read after the same checks on the opened file (no race between the check and the
/// read; a FIFO is never waited on). A file that grows beyond `max_bytes` while being read is an
/// error too. Throws ParseError(path, 0, ...): "cannot open: no such file", "is a directory, not a
/// file", "not a regular file (a character device)", ...
std::string read_input_file(const std::string& path, std::uint64_t max_bytes = kMaxInputFileBytes);

/// True when `a` and `b` name the same file: the same device and inode when both exist (hard and
/// symbolic links included), else the same canonical path. For refusing to write over an input.
bool same_file(const std::string& a, const std::string& b);

}  // namespace libgrid
