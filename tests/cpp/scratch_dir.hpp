// A private scratch directory for one test process, so that two test runs on one machine (two clones
// running .ci/test.sh at once, or ctest -j) never share a file: <tmp>/libgrid_tests_<pid>_XXXXXX made
// by mkdtemp on first use, removed with everything in it when the process exits.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include <unistd.h>

namespace libgrid_test {

inline const std::filesystem::path& scratch_dir() {
    struct Dir {
        std::filesystem::path path;
        Dir() {
            std::string t = (std::filesystem::temp_directory_path() / ("libgrid_tests_" + std::to_string(::getpid()) + "_XXXXXX")).string();
            if (!::mkdtemp(t.data())) throw std::runtime_error("mkdtemp " + t + " failed");
            path = t;
        }
        ~Dir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };
    static const Dir dir;
    return dir.path;
}

/// `name` inside scratch_dir().
inline std::string scratch_path(const std::string& name) { return (scratch_dir() / name).string(); }

}  // namespace libgrid_test
