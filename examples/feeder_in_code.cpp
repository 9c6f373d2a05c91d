// Builds a small LV feeder in code (lv_feeder.hpp: ext grid, transformer, cables, four customers with
// load profiles, a PV system and a battery behind one customer's meter), runs a day in 15-minute
// steps without a results file and prints the summary as the command line's table; with a second
// argument, also writes the summary as JSON to that file.
//
//   ex/feeder_in_code [summary.json]
#include "lv_feeder.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/simulation/engine.hpp>  // Simulation, SimulationOptions, SimulationSummary
#include <libgrid/simulation/kpis.hpp>    // print_summary_table, summary_to_json

#include <cstdio>
#include <fstream>
#include <iostream>

int main(int argc, char** argv) {
    if (argc > 2) {
        std::fprintf(stderr, "usage: %s [SUMMARY.json]\n", argv[0]);
        return 2;
    }
    try {
        libgrid::SimulationOptions opt;
        opt.start = libgrid::from_civil(2025, 6, 2);  // a Monday, 00:00 local time
        opt.step_s = 900;                              // 15 minutes
        opt.n_steps = 96;                              // one day
        // no output_path: nothing is written, the summary is what the run returns
        libgrid::Simulation sim(example::lv_feeder(), example::lv_devices(opt.n_steps), opt);
        const libgrid::SimulationSummary s = sim.run();

        libgrid::print_summary_table(std::cout, s);  // the table `libgrid run` prints
        if (argc == 2) {
            std::ofstream out(argv[1]);
            out << libgrid::summary_to_json(s) << "\n";  // {"steps", "completed", ..., "kpis": {...}}
            if (!out) {
                std::fprintf(stderr, "cannot write %s\n", argv[1]);
                return 1;
            }
        }
        std::printf("feeder day: %zu steps, %zu not converged, PV %.2f kWh, import %.2f kWh\n", s.steps,
                    s.non_converged_steps, s.pv_mwh * 1e3, s.import_mwh * 1e3);
        return s.completed && s.non_converged_steps == 0 ? 0 : 1;
    } catch (const libgrid::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
