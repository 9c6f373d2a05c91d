// libgrid io: regular files only, and a bounded read (see io/input_file.hpp).
#include "libgrid/core/input_file.hpp"

#include "libgrid/core/errors.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace libgrid {

namespace {

std::string limit_text(std::uint64_t max_bytes) {
    std::string s = std::to_string(max_bytes) + " bytes";
    if (max_bytes >= (std::uint64_t{1} << 30) && max_bytes % (std::uint64_t{1} << 30) == 0)
        s += " (" + std::to_string(max_bytes >> 30) + " GiB)";
    else if (max_bytes >= (std::uint64_t{1} << 20) && max_bytes % (std::uint64_t{1} << 20) == 0)
        s += " (" + std::to_string(max_bytes >> 20) + " MiB)";
    return s;
}

std::string too_large(std::uint64_t size, std::uint64_t max_bytes, bool at_least = false) {
    return std::string("is ") + (at_least ? "more than " : "") + std::to_string(size) + " bytes, more than the limit of " +
           limit_text(max_bytes) + " for an input file";
}

/// "" for a regular file of at most max_bytes, else the problem.
std::string kind_problem(const struct stat& st, std::uint64_t max_bytes) {
    if (S_ISDIR(st.st_mode)) return "is a directory, not a file";
    if (!S_ISREG(st.st_mode)) {
        const char* kind = S_ISCHR(st.st_mode)    ? "a character device"
                           : S_ISBLK(st.st_mode)  ? "a block device"
                           : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                           : S_ISSOCK(st.st_mode) ? "a socket"
                                                  : "not a file";
        return std::string("not a regular file (") + kind + ")";
    }
    if (st.st_size > 0 && static_cast<std::uint64_t>(st.st_size) > max_bytes)
        return too_large(static_cast<std::uint64_t>(st.st_size), max_bytes);
    return "";
}

std::string open_problem(int err) {
    if (err == ENOENT) return "no such file";
    if (err == ENOTDIR) return "no such file (a part of the path is not a directory)";
    return std::string("cannot open: ") + std::strerror(err);
}

/// Closes a file descriptor on scope exit.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

bool same_file(const std::string& a, const std::string& b) {
    struct stat sa {}, sb {};
    const bool ea = ::stat(a.c_str(), &sa) == 0, eb = ::stat(b.c_str(), &sb) == 0;
    if (ea && eb) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ea != eb) return false;  // one exists, the other not
    auto canonical = [](const std::string& p) {
        std::error_code ec;
        std::filesystem::path abs = std::filesystem::absolute(p, ec);
        if (ec) return std::filesystem::path(p).lexically_normal();
        std::filesystem::path c = std::filesystem::weakly_canonical(abs, ec);
        return ec ? abs.lexically_normal() : c;
    };
    return canonical(a) == canonical(b);
}

std::string input_file_problem(const std::string& path, std::uint64_t max_bytes) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return open_problem(errno);
    std::string kind = kind_problem(st, max_bytes);
    if (!kind.empty()) return kind;
    if (::access(path.c_str(), R_OK) != 0) return open_problem(errno);
    return "";
}

void check_input_file(const std::string& path, std::uint64_t max_bytes) {
    const std::string p = input_file_problem(path, max_bytes);
    if (!p.empty()) throw ParseError(path, 0, p);
}

std::string read_input_file(const std::string& path, std::uint64_t max_bytes) {
    // O_NONBLOCK: opening a FIFO does not wait for a writer (it is refused below); no effect on
    // regular files. The checks are made on the opened descriptor, so the file read is the file checked.
    Fd f;
    f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (f.fd < 0) {
        const int err = errno;
        throw ParseError(path, 0, err == EACCES || err == EPERM ? open_problem(err) : "cannot open: " + open_problem(err));
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) throw ParseError(path, 0, std::string("cannot read: ") + std::strerror(errno));
    const std::string kind = kind_problem(st, max_bytes);
    if (!kind.empty()) throw ParseError(path, 0, kind);
    std::string text;
    // st_size is a hint (0 for some kernel files): read until EOF, never beyond max_bytes.
    text.resize(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 0) + 1);
    std::size_t n = 0;
    for (;;) {
        if (n == text.size()) {
            if (n > max_bytes) throw ParseError(path, 0, too_large(max_bytes, max_bytes, true));
            text.resize(std::min<std::uint64_t>(std::max<std::size_t>(2 * n, 4096), max_bytes + 1));
        }
        const ssize_t r = ::read(f.fd, text.data() + n, text.size() - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            throw ParseError(path, 0, std::string("error while reading the file: ") + std::strerror(errno));
        }
        if (r == 0) break;
        n += static_cast<std::size_t>(r);
        if (n > max_bytes) throw ParseError(path, 0, too_large(max_bytes, max_bytes, true));
    }
    text.resize(n);
    return text;
}

}  // namespace libgrid
