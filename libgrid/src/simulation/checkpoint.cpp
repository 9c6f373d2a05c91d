// libgrid internal: checkpoint files (see checkpoint.hpp).
#include "checkpoint.hpp"

#include <libgrid/simulation/state_archive.hpp>

#include <libgrid/core/errors.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <zlib.h>
#include <sys/stat.h>
#include <unistd.h>

namespace libgrid::detail {
namespace {

constexpr char kMagic[12] = {'L', 'I', 'B', 'G', 'R', 'I', 'D', '-', 'C', 'K', 'P', 'T'};
constexpr std::uint32_t kFormat = 2;  // 2: summary losses_source_mwh (issue 13)
constexpr std::uint32_t kByteOrder = 0x01020304u;
constexpr std::size_t kHeader = 48;
/// A checkpoint larger than this is refused on reading (the city grid's is ~0.1 GiB).
constexpr std::uint64_t kMaxCheckpointBytes = std::uint64_t{16} << 30;

struct Header {
    char magic[12];
    std::uint32_t format;
    std::uint32_t byte_order;
    std::uint32_t sizes;  ///< sizeof(double) | sizeof(size_t) << 8 | sizeof(long double) << 16
    std::uint64_t payload_bytes;
    std::uint64_t checksum;
    std::uint64_t reserved;
};
static_assert(sizeof(Header) == kHeader);

std::uint32_t size_marker() { return std::uint32_t(sizeof(double) | sizeof(std::size_t) << 8 | sizeof(long double) << 16); }

[[noreturn]] void fail(const std::string& path, const std::string& msg) { throw Error("checkpoint '" + path + "': " + msg); }

std::string errno_text() { return std::strerror(errno); }

template <class Ar, class C>
void payload(Ar& ar, C& c) {
    ar.str("libgrid_version", c.libgrid_version);
    ar.pod("digest", c.digest);
    ar.pod("next_step", c.next_step);
    ar.pod("n_steps", c.n_steps);
    std::uint64_t n = c.series_rows.size();
    ar.pod("series", n);
    if constexpr (!Ar::saving) {
        if (n > ar.left() / 16) ar.bad("series", "count " + std::to_string(n) + " runs past the end");
        c.series_rows.resize(std::size_t(n));
    }
    for (auto& [name, rows] : c.series_rows) {
        ar.str("series.name", name);
        ar.pod("series.rows", rows);
    }
    ar.vec("state", c.state);
}

}  // namespace

std::uint64_t checksum(const void* data, std::size_t n, std::uint64_t previous) {
    // zlib's CRC-32 (fast: ~GB/s), continued over pieces; chunks of at most 1 GiB for its uInt length
    uLong crc = static_cast<uLong>(previous);
    const auto* p = static_cast<const Bytef*>(data);
    while (n > 0) {
        const std::size_t piece = std::min<std::size_t>(n, std::size_t{1} << 30);
        crc = crc32(crc, p, static_cast<uInt>(piece));
        p += piece;
        n -= piece;
    }
    return crc;
}

std::uint64_t fnv1a(const void* data, std::size_t n, std::uint64_t h) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

void save_checkpoint(const std::string& path, const Checkpoint& c) {
    // the payload without its state bytes (small), then the state bytes as they are: no copy of
    // the state, one checksum over both
    StateOut out;
    {
        Checkpoint head;
        head.libgrid_version = c.libgrid_version;
        head.digest = c.digest;
        head.next_step = c.next_step;
        head.n_steps = c.n_steps;
        head.series_rows = c.series_rows;
        payload(out, head);
        out.bytes.resize(out.bytes.size() - sizeof(std::uint64_t));  // the empty state's length
        out.pod("state", std::uint64_t(c.state.size()));
    }
    Header h{};
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.format = kFormat;
    h.byte_order = kByteOrder;
    h.sizes = size_marker();
    h.payload_bytes = out.bytes.size() + c.state.size();
    h.checksum = checksum(c.state.data(), c.state.size(), checksum(out.bytes.data(), out.bytes.size()));
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail(path, "cannot create '" + tmp + "': " + errno_text());
    auto write_all = [&](const void* data, std::size_t n) {
        const auto* p = static_cast<const unsigned char*>(data);
        while (n > 0) {
            const ssize_t w = ::write(fd, p, n);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                const std::string e = errno_text();
                ::close(fd);
                ::unlink(tmp.c_str());
                fail(path, "cannot write '" + tmp + "': " + e);
            }
            p += w;
            n -= std::size_t(w);
        }
    };
    write_all(&h, sizeof h);
    write_all(out.bytes.data(), out.bytes.size());
    write_all(c.state.data(), c.state.size());
    // No fsync: the guarantee is against the process dying (kill, crash, signal), which leaves the
    // kernel's page cache to the file system; the results file is not synced either (a power cut
    // can lose both). Syncing each checkpoint cost ~0.2 s on a busy disk (docs/reliability.md).
    if (::close(fd) != 0) {
        const std::string e = errno_text();
        ::unlink(tmp.c_str());
        fail(path, "cannot write '" + tmp + "': " + e);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string e = errno_text();
        ::unlink(tmp.c_str());
        fail(path, "cannot rename '" + tmp + "' over it: " + e);
    }
}

Checkpoint parse_checkpoint(const unsigned char* data, std::size_t size, const std::string& name) {
    if (size < kHeader) fail(name, "too short for a checkpoint (" + std::to_string(size) + " bytes)");
    Header h;
    std::memcpy(&h, data, sizeof h);
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) fail(name, "not a libgrid checkpoint (bad magic)");
    if (h.format != kFormat) fail(name, "format version " + std::to_string(h.format) + ", this libgrid reads " + std::to_string(kFormat));
    if (h.byte_order != kByteOrder || h.sizes != size_marker())
        fail(name, "written on a machine of another kind (byte order or type sizes differ)");
    if (h.payload_bytes != size - kHeader)
        fail(name, "truncated or padded: header says " + std::to_string(h.payload_bytes) + " payload bytes, file has " +
                       std::to_string(size - kHeader));
    if (checksum(data + kHeader, size - kHeader) != h.checksum) fail(name, "checksum mismatch (the file is damaged)");
    Checkpoint c;
    StateIn in(data + kHeader, size - kHeader, "checkpoint '" + name + "'");
    payload(in, c);
    if (in.left() != 0) fail(name, std::to_string(in.left()) + " bytes left over after the payload");
    if (c.next_step > c.n_steps) fail(name, "field 'next_step': " + std::to_string(c.next_step) + " > n_steps " + std::to_string(c.n_steps));
    return c;
}

Checkpoint load_checkpoint(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(path, errno == ENOENT ? "no such file" : "cannot open: " + errno_text());
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        fail(path, S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file");
    }
    if (std::uint64_t(st.st_size) > kMaxCheckpointBytes) {
        ::close(fd);
        fail(path, "larger than " + std::to_string(kMaxCheckpointBytes >> 30) + " GiB: not a checkpoint of this libgrid");
    }
    std::vector<unsigned char> bytes(std::size_t(st.st_size));
    std::size_t got = 0;
    while (got < bytes.size()) {
        const ssize_t r = ::read(fd, bytes.data() + got, bytes.size() - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += std::size_t(r);
    }
    ::close(fd);
    if (got != bytes.size()) fail(path, "short read (" + std::to_string(got) + " of " + std::to_string(bytes.size()) + " bytes)");
    return parse_checkpoint(bytes.data(), bytes.size(), path);
}

}  // namespace libgrid::detail
