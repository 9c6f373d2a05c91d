// `libgrid`: the command-line face. Exit status 0 on success, 1 on bad input or a failed run
// (reason on stderr), 2 on bad usage, 3 when `info` reads an incomplete results file, 128 + N
// when a run was stopped by signal N (its file closed with the summary of the steps done).
#include "cli.hpp"

#include <libgrid/results/hdf5_results.hpp>

#include <libgrid/config.hpp>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
    libgrid::skip_hdf5_shutdown_at_exit();  // every file is closed explicitly; see hdf5_results.hpp
    CLI::App app{"libgrid " LIBGRID_VERSION ": time-series power flow for smart distribution grids"};
    app.set_version_flag("--version", LIBGRID_VERSION);
    app.require_subcommand(1);
    libgrid::cli::add_pf(app);
    libgrid::cli::add_run(app);
    libgrid::cli::add_results_commands(app);
    libgrid::cli::add_bill(app);
    libgrid::cli::add_economics(app);
    libgrid::cli::add_study_commands(app);
    libgrid::cli::add_sweep(app, argv[0]);
    libgrid::cli::add_portal(app, argv[0]);
    libgrid::cli::add_report(app, argv[0]);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    } catch (const libgrid::cli::ExitStatus& e) {
        if (!e.message.empty()) std::fprintf(stderr, "libgrid: %s\n", e.message.c_str());
        return e.code;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "libgrid: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
