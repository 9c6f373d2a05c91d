// Writes the results of the CIGRE LV year (the benches/bench_timeseries.cpp workload: PV and a
// self-consumption battery behind every load, a year at 15 minutes) to an HDF5 file, float64 and
// uncompressed, for the behaviour-preservation check (tests/regression/README.md).
//   regression_cigre_lv_year OUT.h5 [steps]
#include <libgrid/io/case_json.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/simulation/engine.hpp>

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
    DeviceSet d;
    Id id = 1;
    for (const Load& l : net.loads) {
        PvUnit pv;
        pv.id = id;
        pv.bus = l.bus;
        pv.customer = l.id;
        pv.params.kwp_dc = std::max(1.0, l.p_mw * 1000.0 * 0.8);
        pv.params.inverter_kva = pv.params.kwp_dc;
        d.pv.push_back(pv);
        BatteryUnit b;
        b.id = id;
        b.bus = l.bus;
        b.customer = l.id;
        b.params.e_kwh = std::max(2.0, l.p_mw * 1000.0 * 2.0);
        b.params.p_charge_kw = b.params.p_discharge_kw = b.params.e_kwh / 2.0;
        b.params.strategy = BatteryStrategy::SelfConsumption;
        d.batteries.push_back(b);
        LoadProfileSpec sp;
        sp.load = l.id;
        sp.daily_kwh = l.p_mw * 1000.0 * 24.0 * 0.45;
        d.load_profiles.push_back(sp);
        ++id;
    }
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
