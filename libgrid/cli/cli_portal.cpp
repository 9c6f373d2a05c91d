// `libgrid portal RESULTS.h5 [--port N] [--host H]`: the customer energy portal (issue 17,
// docs/portal.md). It is Python (Flask, bindings/python/libgrid/portal.py): this command checks its
// arguments, checks that the interpreter has Flask and the libgrid package, and then replaces itself
// with `PYTHON -m libgrid.portal RESULTS.h5 --port N --host H` (exec), so Ctrl-C / SIGTERM reach
// the server directly and its exit status is the command's. PYTHON: $LIBGRID_PYTHON, else
// /usr/bin/python3 (as `sweep --scheduler`); the package is found as python_package_dir() says.
#include "cli.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace libgrid::cli {
namespace {

struct PortalArgs {
    std::string file, host = "127.0.0.1";
    int port = 5000;
};

/// PYTHONPATH with the package directory first (when one was found).
void set_pythonpath(const std::string& pkg) {
    if (pkg.empty()) return;
    const char* old = std::getenv("PYTHONPATH");
    const std::string pp = pkg + (old && *old ? std::string(":") + old : std::string());
    setenv("PYTHONPATH", pp.c_str(), 1);
}

// exit 3: no Flask; 4: no libgrid package (or not one with the portal); 5: libgrid fails to import
constexpr const char* kProbe =
    "import importlib.util as u, sys\n"
    "if u.find_spec('flask') is None: sys.exit(3)\n"
    "try:\n"
    "    import libgrid\n"
    "except ImportError as e:\n"
    "    sys.exit(4 if getattr(e, 'name', '') == 'libgrid' else 5)\n"
    "sys.exit(0 if u.find_spec('libgrid.portal') is not None else 4)\n";

[[noreturn]] void exec_portal(const char* argv0, const PortalArgs& a) {
    const std::string python = python_interpreter();
    if (access(python.c_str(), X_OK) != 0)
        throw Error("portal: cannot run Python '" + python + "' (" + std::strerror(errno) +
                    "): install python3 or set LIBGRID_PYTHON to a Python 3 that has Flask and the libgrid package");
    const std::string pkg = python_package_dir(argv0);
    set_pythonpath(pkg);
    const std::string where = pkg.empty() ? std::string("on its own path (no package next to this program; set "
                                                        "LIBGRID_PYTHONPATH)")
                                          : "in " + pkg;
    switch (python_probe(python, kProbe)) {
        case 0: break;
        case 3:
            throw Error("portal: " + python + " has no Flask: install it (Debian: apt-get install python3-flask; docs/portal.md)");
        case 4:
            throw Error("portal: " + python + " finds no libgrid package with the portal " + where +
                        ": build it (ninja -C build _libgrid) or pip install libgrid (docs/python.md)");
        case 5:
            throw Error("portal: the libgrid package " + where + " does not import in " + python +
                        " (run `" + python + " -c 'import libgrid'` to see why)");
        default:
            throw Error("portal: cannot run " + python + " to check for Flask and the libgrid package");
    }
    std::vector<std::string> args = {python, "-m", "libgrid.portal", a.file, "--port", std::to_string(a.port), "--host", a.host};
    std::vector<char*> cargs;
    for (std::string& s : args) cargs.push_back(s.data());
    cargs.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    execv(cargs[0], cargs.data());
    throw Error("portal: cannot run " + python + ": " + std::strerror(errno));
}

}  // namespace

void add_portal(CLI::App& app, const char* argv0) {
    auto* p = app.add_subcommand("portal", "Serve the customer energy portal over a results file on a local web page "
                                           "(read-only; Python with Flask; docs/portal.md)");
    static PortalArgs a;
    static std::string argv0_s;
    argv0_s = argv0;
    p->add_option("RESULTS", a.file, "results file (HDF5) written by `libgrid run`")->required();
    p->add_option("--port,-p", a.port, "TCP port (default 5000)");
    p->add_option("--host", a.host, "address to bind (default 127.0.0.1: this machine only)");
    p->callback([p] {
        require_at_least(p, "--port", a.port, 1);
        if (a.port > 65535) throw CLI::ValidationError("--port: expected a whole number in 1..65535, got " + std::to_string(a.port));
        if (a.host.empty()) throw CLI::ValidationError("--host: expected an address (e.g. 127.0.0.1)");
        struct stat st {};
        if (stat(a.file.c_str(), &st) != 0) throw Error("portal: results file '" + a.file + "': no such file");
        if (!S_ISREG(st.st_mode)) throw Error("portal: results file '" + a.file + "': not a regular file");
        exec_portal(argv0_s.c_str(), a);
    });
}

}  // namespace libgrid::cli
