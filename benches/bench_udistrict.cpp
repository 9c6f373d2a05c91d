// The Melaka grid as built (unbalanced, melaka_unetwork) against the balanced model of the same grid in
// the engine (issue 15: "the unbalanced district year under 3 times the balanced one"). Both runs have
// the scenario melaka_baseline's customers' load profiles only (no devices: the unbalanced scenario
// build is H1's), no recording, the same horizon; the year is this horizon x (35,040 / steps).
//   build/benches/bench_udistrict --benchmark_counters_tabular=true
//   LIBGRID_UD_SIZE=small LIBGRID_UD_STEPS=672 build/benches/bench_udistrict     (another grid / horizon)
// Counters: wall and CPU (whole process, all threads) per step, power-flow iterations per step,
// the year extrapolated (CPU s), the buses / nodes.
#include <benchmark/benchmark.h>

#include <libgrid/scenario/melaka_grid.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include <cstdlib>
#include <ctime>
#include <map>
#include <string>

using namespace libgrid;

namespace {

double process_cpu_s() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

GridSize grid_size(const std::string& s) {
    if (s == "small") return GridSize::Small;
    if (s == "city") return GridSize::City;
    return GridSize::District;
}

struct Inputs {
    BuiltScenario balanced;  ///< the scenario's network (balanced model) and options
    UNetwork unbalanced;     ///< melaka_unetwork of the same generated grid
    DeviceSet loads_only;    ///< the scenario's load profiles, nothing else
};

const Inputs& inputs(const std::string& size, std::size_t steps) {
    static std::map<std::string, Inputs> cache;
    const std::string key = size + "/" + std::to_string(steps);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    Inputs in;
    Scenario sc = load_scenario(std::string(LIBGRID_SCENARIOS) + "/melaka_baseline.yaml");
    override_key(sc, "network.size", size);
    override_key(sc, "network.model", "balanced");
    override_key(sc, "horizon.steps", std::to_string(steps));
    in.balanced = build_scenario(sc);
    MelakaGridOptions go;
    go.size = grid_size(size);
    go.seed = sc.seed;
    in.unbalanced = melaka_unetwork(generate_melaka_grid(go)).net;
    in.loads_only.load_profiles = in.balanced.devices.load_profiles;
    return cache.emplace(key, std::move(in)).first->second;
}

void BM_District(benchmark::State& state, std::string size, std::size_t steps, bool unbalanced) {
    const int threads = int(state.range(0));
    const Inputs& in = inputs(size, steps);
    SimulationSummary s;
    double cpu_s = 0.0;
    for (auto _ : state) {
        SimulationOptions opt = in.balanced.options;
        opt.threads = threads;
        opt.output_path.clear();
        opt.checkpoint_steps = 0;
        const double c0 = process_cpu_s();
        if (unbalanced) {
            Simulation sim(in.unbalanced, in.loads_only, opt);
            s = sim.run();
        } else {
            Simulation sim(in.balanced.net, in.loads_only, opt);
            s = sim.run();
        }
        cpu_s = process_cpu_s() - c0;
    }
    const double n = double(s.steps);
    state.counters["steps"] = n;
    state.counters["buses"] = double(unbalanced ? in.unbalanced.buses.size() : in.balanced.net.buses.size());
    state.counters["ms_per_step"] = s.wall_time_s / n * 1e3;
    state.counters["cpu_ms_per_step"] = cpu_s / n * 1e3;
    state.counters["pf_ms_per_step"] = s.time_powerflow_s / n * 1e3;
    state.counters["pf_iter_per_step"] = double(s.powerflow_iterations) / n;
    state.counters["year_cpu_s"] = cpu_s / n * 35040.0;
    state.counters["year_wall_s"] = s.wall_time_s / n * 35040.0;
    state.counters["non_converged"] = double(s.non_converged_steps);
    state.SetLabel(size + (unbalanced ? ", unbalanced" : ", balanced") + ", " + std::to_string(threads) + " thread(s)");
}

}  // namespace

int main(int argc, char** argv) {
    const char* env_size = std::getenv("LIBGRID_UD_SIZE");
    const char* env_steps = std::getenv("LIBGRID_UD_STEPS");
    const std::string size = env_size ? env_size : "district";
    const std::size_t steps = env_steps ? std::size_t(std::atol(env_steps)) : std::size_t(96);
    for (bool u : {false, true})
        for (int t : {1, 2})
            benchmark::RegisterBenchmark(("Melaka/" + size + (u ? "/unbalanced" : "/balanced")).c_str(), BM_District, size, steps, u)
                ->Arg(t)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
