// `libgrid report BASE.h5 SCENARIO.h5 [MORE.h5 ...] -o study.html [--pdf study.pdf] [--title T]`: the
// study report (issue 18, docs/report.md). It is Python (matplotlib, bindings/python/libgrid/report.py):
// this command checks its arguments, checks that the interpreter has matplotlib, h5py, PyYAML and the
// libgrid package with the report, and then replaces itself with `PYTHON -m libgrid.report ...` (exec),
// as `libgrid portal` does (cli_portal.cpp). PYTHON: $LIBGRID_PYTHON, else /usr/bin/python3.
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

struct ReportArgs {
    std::vector<std::string> files, labels, sets;
    std::string output = "study.html", pdf, title, catalogue, tornado_csv;
    int years = 0;
    bool no_economics = false, no_tornado = false, no_plots = false;
};

// exit 3: no matplotlib; 6: no h5py; 7: no PyYAML; 4: no libgrid package (or one without the report);
// 5: libgrid fails to import
constexpr const char* kReportProbe =
    "import importlib.util as u, sys\n"
    "if u.find_spec('matplotlib') is None: sys.exit(3)\n"
    "if u.find_spec('h5py') is None: sys.exit(6)\n"
    "if u.find_spec('yaml') is None: sys.exit(7)\n"
    "try:\n"
    "    import libgrid\n"
    "except ImportError as e:\n"
    "    sys.exit(4 if getattr(e, 'name', '') == 'libgrid' else 5)\n"
    "sys.exit(0 if u.find_spec('libgrid.report') is not None else 4)\n";

void check_file(const std::string& path, const char* what) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) throw Error(std::string("report: ") + what + " '" + path + "': no such file");
    if (!S_ISREG(st.st_mode)) throw Error(std::string("report: ") + what + " '" + path + "': not a regular file");
}

void check_out_dir(const std::string& path, const char* option) {
    const std::filesystem::path p = std::filesystem::absolute(path);
    std::error_code ec;
    if (std::filesystem::is_directory(p, ec)) throw Error(std::string("report: ") + option + " '" + path + "' is a directory");
    if (!std::filesystem::is_directory(p.parent_path(), ec))
        throw Error(std::string("report: ") + option + " '" + path + "': no directory '" + p.parent_path().string() + "'");
}

[[noreturn]] void exec_report(const char* argv0, const ReportArgs& a) {
    const std::string python = python_interpreter();
    if (access(python.c_str(), X_OK) != 0)
        throw Error("report: cannot run Python '" + python + "' (" + std::strerror(errno) +
                    "): install python3 or set LIBGRID_PYTHON to a Python 3 that has matplotlib and the libgrid package");
    const std::string pkg = python_package_dir(argv0);
    if (!pkg.empty()) {
        const char* old = std::getenv("PYTHONPATH");
        const std::string pp = pkg + (old && *old ? std::string(":") + old : std::string());
        setenv("PYTHONPATH", pp.c_str(), 1);
    }
    const std::string where = pkg.empty() ? std::string("on its own path (no package next to this program; set "
                                                        "LIBGRID_PYTHONPATH)")
                                          : "in " + pkg;
    switch (python_probe(python, kReportProbe)) {
        case 0: break;
        case 3:
            throw Error("report: " + python + " has no matplotlib: install it (Debian: apt-get install python3-matplotlib; docs/report.md)");
        case 6: throw Error("report: " + python + " has no h5py: install it (Debian: apt-get install python3-h5py)");
        case 7: throw Error("report: " + python + " has no PyYAML: install it (Debian: apt-get install python3-yaml)");
        case 4:
            throw Error("report: " + python + " finds no libgrid package with the report " + where +
                        ": build it (ninja -C build _libgrid) or pip install libgrid (docs/python.md)");
        case 5:
            throw Error("report: the libgrid package " + where + " does not import in " + python + " (run `" + python +
                        " -c 'import libgrid'` to see why)");
        default: throw Error("report: cannot run " + python + " to check for matplotlib and the libgrid package");
    }
    std::vector<std::string> args = {python, "-m", "libgrid.report"};
    args.insert(args.end(), a.files.begin(), a.files.end());
    args.insert(args.end(), {"--output", a.output});
    if (!a.pdf.empty()) args.insert(args.end(), {"--pdf", a.pdf});
    if (!a.title.empty()) args.insert(args.end(), {"--title", a.title});
    for (const std::string& l : a.labels) args.insert(args.end(), {"--label", l});
    if (!a.catalogue.empty()) args.insert(args.end(), {"--catalogue", a.catalogue});
    for (const std::string& s : a.sets) args.insert(args.end(), {"--set", s});
    if (a.years > 0) args.insert(args.end(), {"--years", std::to_string(a.years)});
    if (a.no_economics) args.emplace_back("--no-economics");
    if (a.no_tornado) args.emplace_back("--no-tornado");
    if (!a.tornado_csv.empty()) args.insert(args.end(), {"--tornado", a.tornado_csv});
    if (a.no_plots) args.emplace_back("--no-plots");
    std::vector<char*> cargs;
    for (std::string& s : args) cargs.push_back(s.data());
    cargs.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    execv(cargs[0], cargs.data());
    throw Error("report: cannot run " + python + ": " + std::strerror(errno));
}

}  // namespace

void add_report(CLI::App& app, const char* argv0) {
    auto* r = app.add_subcommand("report", "Write the study report: a baseline against one or more scenarios' results, "
                                           "one self-contained HTML file (and PDF); Python with matplotlib; docs/report.md");
    static ReportArgs a;
    static std::string argv0_s;
    argv0_s = argv0;
    r->add_option("FILES", a.files, "BASE.h5 SCENARIO.h5 [MORE.h5 ...]: results files written by `libgrid run`")->required();
    r->add_option("-o,--output", a.output, "the HTML file to write (default study.html)");
    r->add_option("--pdf", a.pdf, "also print the report to this PDF (headless chromium)");
    r->add_option("--title", a.title, "the report's title");
    r->add_option("--label", a.labels, "a name for each file, in order (repeat; default: the scenarios' names)");
    r->add_option("--catalogue", a.catalogue, "cost catalogue of the business case (default: the scenario's economics: key, "
                                              "else data/costs/malaysia_2024.yaml)");
    r->add_option("--set", a.sets, "override a catalogue figure of the business case: dotted.path=value (repeat)");
    r->add_option("--years", a.years, "project years of the business case");
    r->add_flag("--no-economics", a.no_economics, "leave the investment section out");
    r->add_option("--tornado", a.tornado_csv, "show this tornado table (CSV: input, npv_low_rm, npv_high_rm, ...)");
    r->add_flag("--no-tornado", a.no_tornado, "leave the tornado out (computing it re-runs the scenarios with the PV yield changed)");
    r->add_flag("--no-plots", a.no_plots, "leave the charts out");
    r->callback([r] {
        if (a.files.size() < 2) throw CLI::ValidationError("FILES: give BASE.h5 and at least one SCENARIO.h5");
        require_at_least(r, "--years", a.years, 1);
        if (a.output.empty()) throw CLI::ValidationError("--output: expected a file name");
        if (!a.tornado_csv.empty() && a.no_tornado) throw CLI::ValidationError("--tornado and --no-tornado: give one");
        for (const std::string& f : a.files) check_file(f, "results file");
        if (!a.tornado_csv.empty()) check_file(a.tornado_csv, "tornado table");
        if (!a.catalogue.empty()) check_file(a.catalogue, "catalogue");
        if (!a.labels.empty() && a.labels.size() != a.files.size())
            throw CLI::ValidationError("--label: give one per file (" + std::to_string(a.files.size()) + " files, " +
                                       std::to_string(a.labels.size()) + " labels)");
        check_out_dir(a.output, "--output");
        if (!a.pdf.empty()) check_out_dir(a.pdf, "--pdf");
        exec_report(argv0_s.c_str(), a);
    });
}

}  // namespace libgrid::cli
