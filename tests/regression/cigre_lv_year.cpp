// Writes the results of the CIGRE LV year (the benches/bench_timeseries.cpp workload: PV and a
// self-consumption battery behind every load, a year at 15 minutes) to an HDF5 file, float64 and
// uncompressed, for the behaviour-preservation check (tests/regression/README.md).
//   regression_cigre_lv_year OUT.h5 [steps]
#include <libgrid/io/case_json.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/simulation/engine.hpp>

#include "cigre_lv_devices.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace libgrid;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s OUT.h5 [steps]\n", argv[0]);
        return 2;
    }
    const Network net = read_case_json(std::string(LIBGRID_DATA) + "/cigre/cigre_lv.input.json");
    const DeviceSet d = libgrid_cigre::cigre_lv_devices(net);
    SimulationOptions opt;
    opt.start = from_civil(2025, 1, 1);
    opt.n_steps = argc > 2 ? std::size_t(std::atol(argv[2])) : 35040;
    opt.output_path = argv[1];
    opt.h5.compression_level = 0;
    opt.h5.float32 = false;
    Simulation sim(net, d, opt);
    const SimulationSummary s = sim.run();
    std::printf("%zu steps, %zu not converged\n", s.steps, s.non_converged_steps);
    return 0;
}
