// For harnesses of readers that take a path: the input written to a file of this process's own
// (fuzzers may run as parallel jobs), under $TMPDIR or /tmp, removed at exit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

namespace fuzz {

inline const std::string& tmp_path(const char* suffix) {
    static const std::string path = [suffix] {
        const char* dir = std::getenv("TMPDIR");
        std::string p = std::string(dir && *dir ? dir : "/tmp") + "/libgrid_fuzz_" + std::to_string(::getpid()) + suffix;
        static std::string for_atexit;
        for_atexit = p;
        std::atexit([] { std::remove(for_atexit.c_str()); });
        return p;
    }();
    return path;
}

/// Writes data to tmp_path(suffix) (replacing it) and returns the path; "" when it cannot.
inline std::string write_tmp(const std::uint8_t* data, std::size_t size, const char* suffix) {
    const std::string& path = tmp_path(suffix);
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return "";
    const bool ok = std::fwrite(data, 1, size, f) == size;
    if (std::fclose(f) != 0 || !ok) return "";
    return path;
}

}  // namespace fuzz
