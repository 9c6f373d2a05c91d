// The whole-city benchmark: the `city` Melaka grid (about a million buses) for a day at 15 minutes
// with the smart-city devices, power flow by the sweep, 1 and 2 threads, no recording (the HDF5
// writer is measured by bench_timeseries). Reports time per step, bus-steps per second and peak
// memory. Also the small grid for a year (the issue 6 target).
//   build/benches/bench_city --benchmark_counters_tabular=true
//   LIBGRID_CITY_SIZE=district build/benches/bench_city     (a smaller grid)
#include <benchmark/benchmark.h>

#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include <cstdlib>
#include <sys/resource.h>

using namespace libgrid;

namespace {

double peak_rss_mb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;
}

const BuiltScenario& built(const std::string& size, std::size_t steps) {
    static std::string key;
    static BuiltScenario b;
    const std::string k = size + "/" + std::to_string(steps);
    if (key != k) {
        Scenario sc = load_scenario(std::string(LIBGRID_SCENARIOS) + "/melaka_smart_city.yaml");
        override_key(sc, "network.size", size);
        override_key(sc, "horizon.steps", std::to_string(steps));
        b = build_scenario(sc);
        key = k;
    }
    return b;
}

void BM_SmartCity(benchmark::State& state, std::string size, std::size_t steps) {
    const int threads = int(state.range(0));
    const BuiltScenario& b = built(size, steps);
    SimulationSummary s;
    for (auto _ : state) {
        SimulationOptions opt = b.options;
        opt.threads = threads;
        opt.output_path.clear();
        Simulation sim(b.net, b.devices, opt);
        s = sim.run();
    }
    const double bus_steps = double(b.net.buses.size()) * double(s.steps);
    state.counters["buses"] = double(b.net.buses.size());
    state.counters["steps"] = double(s.steps);
    state.counters["ms_per_step"] = s.wall_time_s / double(s.steps) * 1e3;
    state.counters["bus_steps_per_s"] = bus_steps / s.wall_time_s;
    state.counters["non_converged"] = double(s.non_converged_steps);
    state.counters["peak_rss_mb"] = peak_rss_mb();
    state.SetLabel(size + ", " + std::to_string(threads) + " thread(s)");
}

}  // namespace

int main(int argc, char** argv) {
    const char* env = std::getenv("LIBGRID_CITY_SIZE");
    const std::string size = env ? env : "city";
    for (int t : {1, 2})
        benchmark::RegisterBenchmark(("SmartCity/" + size + "/day").c_str(), BM_SmartCity, size, std::size_t(96))
            ->Arg(t)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
    for (int t : {1, 2})
        benchmark::RegisterBenchmark("SmartCity/small/year", BM_SmartCity, std::string("small"), std::size_t(35040))
            ->Arg(t)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
