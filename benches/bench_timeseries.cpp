// Time-series throughput: a year at 15 minutes (35,040 steps) on the CIGRE LV network with PV and
// a self-consumption battery behind every load's meter, with and without HDF5 recording; and
// (issue 16) a month of the same network, six times the PV, held as an island by its
// grid-forming batteries (the supply out from the first step) against the same month
// grid-connected: the cost of a droop island's step (target: at most 3x a grid-connected step).
// Issue 19: the year stepped by an application (step() loop, results in memory, set points).
//   build/benches/bench_timeseries --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <libgrid/io/case_json.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/simulation/engine.hpp>

#include "../tests/regression/cigre_lv_devices.hpp"

#include <cstdio>
#include <filesystem>
#include <string>

#include <unistd.h>

using namespace libgrid;

namespace {

DeviceSet cigre_devices(const Network& net) { return libgrid_cigre::cigre_lv_devices(net); }

void BM_CigreLvYear(benchmark::State& state) {
    const Network net = read_case_json(std::string(LIBGRID_DATA) + "/cigre/cigre_lv.input.json");
    const DeviceSet dev = cigre_devices(net);
    const bool record = state.range(0) != 0;
    const int level = int(state.range(1));
    const bool f32 = state.range(2) != 0;
    const std::string path =
        (std::filesystem::temp_directory_path() / ("libgrid_bench_year_" + std::to_string(::getpid()) + ".h5")).string();
    SimulationSummary s;
    for (auto _ : state) {
        SimulationOptions opt;
        opt.start = from_civil(2025, 1, 1);
        opt.n_steps = 35040;
        if (record) opt.output_path = path;
        opt.h5.compression_level = level;
        opt.h5.float32 = f32;
        Simulation sim(net, dev, opt);
        s = sim.run();
    }
    state.counters["steps_per_s"] = benchmark::Counter(double(s.steps) * state.iterations(), benchmark::Counter::kIsRate);
    state.counters["us_per_step"] = benchmark::Counter(double(s.steps) * state.iterations(), benchmark::Counter::kIsRate | benchmark::Counter::kInvert) ;
    state.counters["bus_steps_per_s"] = benchmark::Counter(double(s.steps * net.buses.size()) * state.iterations(), benchmark::Counter::kIsRate);
    state.SetLabel(record ? ("HDF5 gzip " + std::to_string(level) + (f32 ? " float32" : " float64")) : "no recording");
}

/// Issue 16: a month (2,976 steps), no recording; islanded = the ext grid out of service for it all.
void BM_CigreLvIsland(benchmark::State& state) {
    const Network net = read_case_json(std::string(LIBGRID_DATA) + "/cigre/cigre_lv.input.json");
    DeviceSet dev = cigre_devices(net);
    for (PvUnit& pv : dev.pv) {  // six times the roofs: the island is energy-positive over a day
        pv.params.kwp_dc *= 6.0;
        pv.params.inverter_kva *= 6.0;
    }
    for (BatteryUnit& b : dev.batteries) {  // backup-sized: they carry the month without collapsing
        b.params.e_kwh *= 40.0;
        b.params.p_charge_kw = b.params.p_discharge_kw = b.params.e_kwh / 40.0;
        b.params.grid_forming = true;
        b.params.ration_to_restoration = false;  // (a month's outage: rationing would shed nearly all)
    }
    const bool islanded = state.range(0) == 1 || state.range(0) == 2;
    SimulationOptions opt;
    opt.island_secondary_control = state.range(0) != 2;  // 2: primary droop only
    if (state.range(0) == 3) opt.method = Method::NewtonRaphson;  // 3: grid-connected, Newton-Raphson as the island
    opt.start = from_civil(2025, 6, 1);
    opt.n_steps = 2976;
    if (islanded) {
        Event e{opt.start, EventKind::OutOfService, "ext_grid", 0};
        e.duration_s = std::int64_t(opt.n_steps) * opt.step_s + opt.step_s;  // restored after the horizon
        dev.events.push_back(e);
    }
    SimulationSummary s;
    for (auto _ : state) {
        Simulation sim(net, dev, opt);
        s = sim.run();
    }
    if (islanded && (s.islanded_steps != s.steps || s.island_collapses != 0)) {
        std::fprintf(stderr, "islanded %zu of %zu steps, %zu collapses, non-converged %zu\n", s.islanded_steps, s.steps, s.island_collapses, s.non_converged_steps);
        state.SkipWithError("the island was not held every step");
    }
    state.counters["steps_per_s"] = benchmark::Counter(double(s.steps) * state.iterations(), benchmark::Counter::kIsRate);
    state.counters["us_per_step"] = benchmark::Counter(double(s.steps) * state.iterations(), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["nr_iter_per_step"] = double(s.powerflow_iterations) / double(std::max<std::size_t>(s.steps, 1));
    state.counters["shed_steps"] = double(s.shed_steps);
    state.SetLabel(!islanded ? (opt.method == Method::NewtonRaphson ? "grid-connected, nr" : "grid-connected (auto: sweep)")
                             : opt.island_secondary_control ? "islanded (grid-forming batteries)" : "islanded, primary droop only");
}

/// Issue 19: the same year driven by an application: 0 = run(), no recording; 1 = step() in a loop
/// (what a co-simulation does), no recording; 2 = step() with the results kept in memory; 3 = step()
/// with a battery set point changed every hour (the DERMS case) and results in memory.
void BM_CigreLvStepped(benchmark::State& state) {
    const Network net = read_case_json(std::string(LIBGRID_DATA) + "/cigre/cigre_lv.input.json");
    const DeviceSet dev = cigre_devices(net);
    const int mode = int(state.range(0));
    SimulationSummary s;
    for (auto _ : state) {
        SimulationOptions opt;
        opt.start = from_civil(2025, 1, 1);
        opt.n_steps = 35040;
        opt.results_in_memory = mode >= 2;
        Simulation sim(net, dev, opt);
        if (mode == 0) {
            s = sim.run();
            continue;
        }
        sim.start();
        while (!sim.done()) {
            if (mode == 3 && sim.steps_done() % 4 == 0 && !dev.batteries.empty())
                sim.set_battery_power(dev.batteries.front().id, (sim.steps_done() / 4) % 24 < 12 ? -2.0 : 2.0);
            sim.step();
        }
        s = sim.finish();
    }
    state.counters["steps_per_s"] = benchmark::Counter(double(s.steps) * state.iterations(), benchmark::Counter::kIsRate);
    state.counters["us_per_step"] = benchmark::Counter(double(s.steps) * state.iterations(), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    const char* labels[] = {"run(), no recording", "step() loop, no recording", "step() loop, results in memory", "step() + hourly battery set point, in memory"};
    state.SetLabel(labels[mode]);
}

}  // namespace

BENCHMARK(BM_CigreLvStepped)->DenseRange(0, 3)->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK(BM_CigreLvIsland)->Arg(0)->Arg(3)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK(BM_CigreLvYear)->Args({1, 1, 0})->Args({1, 1, 1})->Args({1, 0, 0})->Args({0, 0, 0})->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK_MAIN();
