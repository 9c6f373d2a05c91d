// The Python that the commands written in Python (`libgrid portal`, `libgrid report`) exec, and the
// probe that checks it before (cli.hpp).
#include "cli.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace libgrid::cli {

std::string python_interpreter() {
    const char* e = std::getenv("LIBGRID_PYTHON");
    return e && *e ? std::string(e) : std::string("/usr/bin/python3");
}

int python_probe(const std::string& python, const char* code) {
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        std::vector<std::string> args = {python, "-c", code};
        std::vector<char*> cargs;
        for (std::string& a : args) cargs.push_back(a.data());
        cargs.push_back(nullptr);
        execv(cargs[0], cargs.data());
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace libgrid::cli
