// The whole-city benchmark: the `city` Melaka grid (about a million buses) for a day at 15 minutes
// with the smart-city devices, power flow by the sweep, 1 and 2 threads, no recording (the HDF5
// writer is measured by bench_timeseries). Reports time per step, bus-steps per second and peak
// memory. Also the small grid for a year (the issue 6 target). Counters: ms_per_step and
// ns_per_bus_step (wall), cpu_ms_per_step / cpu_ns_per_bus_step (process CPU time over the run,
// all threads), pf_ms_per_step (power flow with its control rounds, wall), pf_iter_per_step
// (sweep outer iterations per step, over all control rounds).
//   build/benches/bench_city --benchmark_counters_tabular=true
//   LIBGRID_CITY_SIZE=district build/benches/bench_city     (a smaller grid)
#include <benchmark/benchmark.h>

#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include <cstdlib>
#include <ctime>
#include <sys/resource.h>

using namespace libgrid;

namespace {

double peak_rss_mb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_maxrss) / 1024.0;
}

double process_cpu_s() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
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
    double cpu_s = 0.0;
    for (auto _ : state) {
        SimulationOptions opt = b.options;
        opt.threads = threads;
        opt.output_path.clear();
        Simulation sim(b.net, b.devices, opt);
        const double c0 = process_cpu_s();
        s = sim.run();
        cpu_s = process_cpu_s() - c0;
    }
    const double bus_steps = double(b.net.buses.size()) * double(s.steps);
    state.counters["buses"] = double(b.net.buses.size());
    state.counters["steps"] = double(s.steps);
    state.counters["ms_per_step"] = s.wall_time_s / double(s.steps) * 1e3;
    state.counters["bus_steps_per_s"] = bus_steps / s.wall_time_s;
    // CPU time of the whole process (all threads) over run(): the figure to trust on a busy machine
    state.counters["cpu_ms_per_step"] = cpu_s / double(s.steps) * 1e3;
    state.counters["ns_per_bus_step"] = s.wall_time_s / bus_steps * 1e9;
    state.counters["cpu_ns_per_bus_step"] = cpu_s / bus_steps * 1e9;
    state.counters["pf_ms_per_step"] = s.time_powerflow_s / double(s.steps) * 1e3;
    state.counters["pf_iter_per_step"] = double(s.powerflow_iterations) / double(s.steps);
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
