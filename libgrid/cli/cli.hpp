// libgrid command line: one function per subcommand registers itself on the CLI11 app.
#pragma once

#include <libgrid/core/errors.hpp>
#include <libgrid/model/to_unetwork.hpp>

#include <CLI/CLI.hpp>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace libgrid::cli {

/// A numeric option that was given must be at least `min` (or above it, `strict`): no value is
/// silently ignored (`--steps 0` is an error, not "the scenario's horizon"). Throws a ValidationError
/// naming the option: "--steps: expected a whole number >= 1, got 0".
template <class T>
void require_at_least(const CLI::App* cmd, const std::string& option, T value, T min, bool strict = false) {
    if (cmd->count(option) == 0) return;
    if (strict ? value > min : value >= min) {
        if constexpr (std::is_floating_point_v<T>) {
            if (std::isfinite(value)) return;
        } else {
            return;
        }
    }
    std::ostringstream msg;
    msg << option << ": expected " << (std::is_floating_point_v<T> ? "a finite number " : "a whole number ") << (strict ? "> " : ">= ")
        << min << ", got " << value;
    throw ValidationError(msg.str());
}

/// Writes `text` to `path` (replacing it); an Error naming the option and the file when it cannot be
/// opened or written (a full disk).
inline void write_text_file(const std::string& path, const std::string& text, const std::string& option) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw Error(option + ": cannot open '" + path + "' for writing");
    f << text;
    f.flush();
    if (!f) throw Error(option + ": cannot write '" + path + "' (disk full?)");
}

/// "libgrid: warning: 3 buses are de-energised ..." on stderr when `ids` (in-service buses without a
/// source, see deenergized_buses) is not empty: the count and the first few ids.
void warn_deenergized(const std::vector<std::int64_t>& ids);

/// Ends the command with this exit status after printing `message` (if any) to stderr: a run
/// stopped by a signal exits 128 + the signal's number, as a shell reports it.
struct ExitStatus {
    int code = 1;
    std::string message;
};

/// Set by SIGINT / SIGTERM / SIGHUP once install_stop_handlers() ran (the signal's number): runs stop
/// at their next step boundary. A second signal ends the process at once.
extern std::atomic<int> g_stop;
void install_stop_handlers();

void add_bill(CLI::App& app);
void add_economics(CLI::App& app);  // issue 18 (cli_economics.cpp)
void add_pf(CLI::App& app);
void add_results_commands(CLI::App& app);
void add_run(CLI::App& app);
void add_study_commands(CLI::App& app);
void add_sweep(CLI::App& app, const char* argv0);
void add_portal(CLI::App& app, const char* argv0);

/// The Python the commands written in Python exec: $LIBGRID_PYTHON, else /usr/bin/python3 (cli_python.cpp).
std::string python_interpreter();
/// Runs `python -c code` and returns its exit status (-1 when it could not run or was killed).
int python_probe(const std::string& python, const char* code);
void add_report(CLI::App& app, const char* argv0);  ///< issue 18: `libgrid report` (cli_report.cpp, docs/report.md)

/// Directory holding the `libgrid` Python package: $LIBGRID_PYTHONPATH, else next to this program
/// (build tree: <build>/python), else where `cmake --install` put it; "" when none (the interpreter's
/// own path must have it). Used by `sweep --scheduler` and `portal` (cli_sweep.cpp).
std::string python_package_dir(const char* argv0);

/// `libgrid pf FEEDER.dss` (cli_pf_dss.cpp): the unbalanced power flow on an OpenDSS script.
/// Empty `controls` / `method` take the script's `Set controlmode` / "auto"; `at` is "HH:MM".
struct DssPfArgs {
    std::string path, controls, method, json_out, at;
    double tolerance_pu = 0.0;  ///< > 0: UPfOptions::tolerance
    int max_iterations = 0;     ///< > 0: UPfOptions::max_iterations
    bool skip_missing_redirect = false;  ///< DssReadOptions::missing_redirect_is_error = false
};
bool is_dss_path(const std::string& path);  ///< ends in .dss, any case
void run_pf_dss(const DssPfArgs& args);
/// Added (issue 15, h5): the balanced network as a three-phase one (model/to_unetwork.hpp), solved
/// and reported as run_pf_dss does.
void run_pf_converted(const Network& net, const DssPfArgs& args, const ToUnbalancedOptions& conv);

}  // namespace libgrid::cli
