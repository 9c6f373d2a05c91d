// Loads a scenario file, shortens its horizon to one day, runs it to an HDF5 results file and prints
// its KPIs, then reads the file back (ResultsReader) to show what is in it.
//
//   ex/run_scenario scenarios/melaka_baseline.yaml /tmp/baseline_day.h5
#include <libgrid/core/errors.hpp>
#include <libgrid/results/hdf5_results.hpp>  // ResultsReader
#include <libgrid/scenario/scenario.hpp>     // load_scenario, override_key, build_scenario, make_simulation
#include <libgrid/simulation/kpis.hpp>       // print_summary_table

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s SCENARIO.yaml OUTPUT.h5\n", argv[0]);
        return 2;
    }
    const std::string scenario_file = argv[1], output = argv[2];
    try {
        libgrid::Scenario sc = libgrid::load_scenario(scenario_file);  // parse + validate; relative paths
                                                                       // in it are relative to the file
        libgrid::override_key(sc, "horizon.duration", "1d");          // as `libgrid run --set horizon.duration=1d`
        libgrid::check_output_is_not_input(sc, output);                // never overwrite an input file
        libgrid::BuiltScenario built = libgrid::build_scenario(sc);   // network, devices, options
        built.options.output_path = output;
        const libgrid::RunEstimate est = libgrid::check_run_resources(sc, built, output);
        std::printf("%s: %s\n", built.name.c_str(), est.text().c_str());

        libgrid::Simulation sim = libgrid::make_simulation(built);    // balanced or unbalanced network
        const libgrid::SimulationSummary s = sim.run();
        libgrid::print_summary_table(std::cout, s);

        const libgrid::ResultsReader file(output);  // groups per element kind (docs/results_hdf5.md)
        std::printf("%s: %zu steps (/time), import %.3f MWh (/summary/import_mwh), groups:", output.c_str(),
                    file.shape("/time").at(0), file.read_scalar("/summary/import_mwh"));
        for (const std::string& group : file.list("/")) std::printf(" %s", group.c_str());
        std::printf("\n%s network\n", built.unbalanced ? "unbalanced" : "balanced");  // unbalanced: /node/* per phase
        return s.completed ? 0 : 1;
    } catch (const libgrid::Error& e) {  // "melaka.yaml:14: key 'devices.pv.share': ..."
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
