// libgrid internal: the checkpoint file of a run (`<output>.ckpt`), see docs/reliability.md.
//
// Layout: a 48-byte header (magic "LIBGRID-CKPT", format version, byte-order and size markers,
// payload size, CRC-32 of the payload), then the payload: libgrid version, input digest, the next
// step, the planned steps, the rows each results series held when the file was flushed, and the
// engine's state archive (state_archive.hpp). Written to a temporary file and renamed over the old
// checkpoint, so a kill at any moment leaves either the old or the new one whole.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace libgrid::detail {

struct Checkpoint {
    std::string libgrid_version;
    std::uint64_t digest = 0;     ///< of the run's inputs (scenario text, seed, horizon, options)
    std::uint64_t next_step = 0;  ///< the first step the resumed run computes
    std::uint64_t n_steps = 0;
    std::vector<std::pair<std::string, std::uint64_t>> series_rows;  ///< results series -> rows in the file
    std::vector<unsigned char> state;                                 ///< engine state archive
};

/// Atomic replace of `path` (write `path.tmp`, rename). Throws Error.
void save_checkpoint(const std::string& path, const Checkpoint& c);
/// Reads and checks a checkpoint (regular file, size, header, checksum, every length). Throws Error
/// naming the file and what is wrong.
Checkpoint load_checkpoint(const std::string& path);
/// The same from bytes in memory (`name` for messages): the fuzz harness's entry point.
Checkpoint parse_checkpoint(const unsigned char* data, std::size_t size, const std::string& name);

/// The header's checksum: CRC-32 (zlib) over bytes, continuing from `previous` (0 to start).
std::uint64_t checksum(const void* data, std::size_t n, std::uint64_t previous = 0);
/// FNV-1a 64-bit over bytes, continuing from `h` (the input digest).
std::uint64_t fnv1a(const void* data, std::size_t n, std::uint64_t h = 14695981039346656037ull);

}  // namespace libgrid::detail
