// libgrid command line: one function per subcommand registers itself on the CLI11 app.
#pragma once

#include <libgrid/errors.hpp>

#include <CLI/CLI.hpp>

namespace libgrid::cli {

void add_pf(CLI::App& app);
void add_results_commands(CLI::App& app);
void add_run(CLI::App& app);
void add_study_commands(CLI::App& app, const char* argv0);

}  // namespace libgrid::cli
