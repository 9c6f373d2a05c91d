// Time-series throughput: a year at 15 minutes (35,040 steps) on the CIGRE LV network with PV and
// a self-consumption battery behind every load's meter, with and without HDF5 recording.
//   build/benches/bench_timeseries --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <libgrid/io/case_json.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/simulation/engine.hpp>

#include "../tests/regression/cigre_lv_devices.hpp"

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

}  // namespace

BENCHMARK(BM_CigreLvYear)->Args({1, 1, 0})->Args({1, 1, 1})->Args({1, 0, 0})->Args({0, 0, 0})->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK_MAIN();
