// Backward/forward sweep vs Newton-Raphson on generated radial feeders of 100 to 100,000 buses,
// solved as in a time series: every benchmark iteration changes the loads a little (a fixed
// pattern of +-2 %), refills the injections (update_injections, not timed) and solves from the
// previous solution (timed, thread CPU time of the solve call). Setup (math model, BFS order /
// symbolic factorisation) is excluded.
// Counters: solves_per_s, ns_per_bus (solve time / buses), iterations (per solve, last one).
// Run:
//   build/benches/bench_sweep --benchmark_min_time=0.2 --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <libgrid/solvers/linear_solver.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <time.h>

using namespace libgrid;

namespace {

/// SplitMix64: a fixed, portable pseudo-random stream (same seed -> same feeder everywhere).
struct SplitMix {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
};

/// Cable data per km (pandapower standard types, values as in its std_types table).
struct Cable {
    double r, x, c_nf, max_i_ka;
};
// NA2XS2Y 1x240 RM/25 12/20 kV (MV trunk) and 1x95 RM/25 12/20 kV (MV lateral)
constexpr Cable kMvTrunk{0.122, 0.112, 304.0, 0.421};
constexpr Cable kMvLateral{0.313, 0.132, 216.0, 0.252};
// NAYY 4x150 SE 0.6/1 kV (LV trunk) and NAYY 4x50 SE (LV lateral)
constexpr Cable kLvTrunk{0.208, 0.080, 261.0, 0.270};
constexpr Cable kLvLateral{0.642, 0.083, 210.0, 0.142};

/// A radial network of n buses fed from one slack bus (bus 0) at vn_kv: feeders of 100 buses
/// (11 kV) or 40 buses (0.4 kV) leave bus 0; inside a feeder each bus hangs off one of the
/// `branching` buses before it (the nearest with probability 1/2, so a feeder is a trunk with
/// short laterals), through a trunk cable (nearest parent) or a lateral cable, 0.1-0.3 km (11 kV)
/// or 20-40 m (0.4 kV) long. Every bus but the slack has a constant-power load at power factor
/// 0.95: 20-50 kW per bus at 11 kV (3.5 MW and a 3 % drop per feeder), 1-3 kW at 0.4 kV.
Network make_feeder(int n, double vn_kv, int branching = 4, std::uint64_t seed = 7) {
    const bool lv = vn_kv < 1.0;
    const int feeder_size = lv ? 40 : 100;
    const Cable trunk = lv ? kLvTrunk : kMvTrunk, lateral = lv ? kLvLateral : kMvLateral;
    const double len_min = lv ? 0.02 : 0.1, len_max = lv ? 0.04 : 0.3;  // km
    const double p_min = lv ? 0.001 : 0.020, p_max = lv ? 0.003 : 0.050;  // MW
    const double tan_phi = std::tan(std::acos(0.95));
    SplitMix rng{seed};
    Network net;
    net.name = "feeder_" + std::to_string(n);
    net.sn_mva = 1.0;
    net.buses.resize(n);
    for (int i = 0; i < n; ++i) {
        net.buses[i].id = i;
        net.buses[i].vn_kv = vn_kv;
        net.buses[i].vmin_pu = 0.9;
        net.buses[i].vmax_pu = 1.1;
    }
    net.ext_grids.push_back(ExtGrid{0, 0, 1.03, 0.0, true});
    net.lines.reserve(n - 1);
    net.loads.reserve(n - 1);
    for (int i = 1; i < n; ++i) {
        const int j = (i - 1) % feeder_size;  // position inside its feeder
        const int first = i - j;              // first bus of the feeder
        int parent = 0;
        bool on_trunk = true;
        if (j > 0) {
            const int back = rng.uniform() < 0.5 ? 0 : int(rng.next() % std::uint64_t(std::min(j, branching)));
            parent = i - 1 - back;
            on_trunk = back == 0;
            if (parent < first) parent = first;
        }
        const Cable& c = on_trunk ? trunk : lateral;
        Line l;
        l.id = i;
        l.from_bus = parent;
        l.to_bus = i;
        l.length_km = len_min + (len_max - len_min) * rng.uniform();
        l.r_ohm_per_km = c.r;
        l.x_ohm_per_km = c.x;
        l.c_nf_per_km = c.c_nf;
        l.max_i_ka = c.max_i_ka;
        l.type = "cs";
        net.lines.push_back(l);
        Load ld;
        ld.id = i;
        ld.bus = i;
        ld.p_mw = p_min + (p_max - p_min) * rng.uniform();
        ld.q_mvar = ld.p_mw * tan_phi;
        net.loads.push_back(ld);
    }
    return net;
}

/// Load scaling of step s for load k: 1 + {-2,-1,0,1,2} %, a fixed pattern that changes every step.
inline double step_factor(std::size_t k, long s) { return 1.0 + 0.01 * double(long((k * 7 + std::size_t(s) * 3) % 5) - 2); }

struct Case {
    Network net;
    std::vector<double> p0, q0;
};

Case& feeder(int n, double vn_kv) {
    static std::map<std::pair<int, double>, Case> cache;
    auto key = std::make_pair(n, vn_kv);
    auto it = cache.find(key);
    if (it == cache.end()) {
        Case c;
        c.net = make_feeder(n, vn_kv);
        for (const Load& l : c.net.loads) {
            c.p0.push_back(l.p_mw);
            c.q0.push_back(l.q_mvar);
        }
        it = cache.emplace(key, std::move(c)).first;
    }
    return it->second;
}

void set_step(Case& c, long s) {
    for (std::size_t k = 0; k < c.net.loads.size(); ++k) {
        const double f = step_factor(k, s);
        c.net.loads[k].p_mw = c.p0[k] * f;
        c.net.loads[k].q_mvar = c.q0[k] * f;
    }
}

/// CPU time of the calling thread, s. The solves are single-threaded, so on an idle machine this
/// equals the wall time; on a shared one it leaves out the time the thread waited for a core.
double thread_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

template <class Solve>
void time_series(benchmark::State& state, Case& c, MathModel& m, std::vector<cplx>& V, Solve&& solve) {
    long step = 1;
    double total_s = 0.0;
    long solves = 0;
    int iters = 0;
    bool ok = true;
    for (auto _ : state) {
        set_step(c, step++);
        update_injections(c.net, m);
        const double t0 = thread_seconds();
        const SolveStatus st = solve(V);
        const double dt = thread_seconds() - t0;
        state.SetIterationTime(dt);
        total_s += dt;
        ++solves;
        ok = ok && st.converged;
        iters = st.iterations;
        benchmark::DoNotOptimize(V.data());
    }
    if (!ok) state.SkipWithError("did not converge");
    const double buses = double(c.net.buses.size());
    state.counters["buses"] = buses;
    state.counters["solves_per_s"] = double(solves) / total_s;
    state.counters["ns_per_bus"] = total_s / double(solves) / buses * 1e9;
    state.counters["iterations"] = iters;
}

void BM_Sweep(benchmark::State& state, double vn_kv) {
    Case& c = feeder(int(state.range(0)), vn_kv);
    set_step(c, 0);
    MathModel m = build_math_model(c.net);
    SweepSolver sweep;
    sweep.analyze(m);
    std::vector<cplx> V = initial_voltages(c.net, m, true);
    if (!sweep.solve(m, V, 1e-8, 100).converged) state.SkipWithError("initial solve did not converge");
    time_series(state, c, m, V, [&](std::vector<cplx>& v) { return sweep.solve(m, v, 1e-8, 100); });
}

void BM_NR(benchmark::State& state, double vn_kv) {
    Case& c = feeder(int(state.range(0)), vn_kv);
    set_step(c, 0);
    MathModel m = build_math_model(c.net);
    NewtonRaphsonSolver nr(LinearSolverKind::Default);
    nr.analyze(m);
    std::vector<cplx> V = initial_voltages(c.net, m, true);
    if (!nr.solve(m, V, 1e-8, 30).converged) state.SkipWithError("initial solve did not converge");
    time_series(state, c, m, V, [&](std::vector<cplx>& v) { return nr.solve(m, v, 1e-8, 30); });
}

/// The untimed part of a step above, for reference: loads -> injection vectors.
void BM_UpdateInjections(benchmark::State& state) {
    Case& c = feeder(int(state.range(0)), 11.0);
    MathModel m = build_math_model(c.net);
    for (auto _ : state) {
        update_injections(c.net, m);
        benchmark::DoNotOptimize(m.s_p.data());
    }
    state.counters["ns_per_bus"] = benchmark::Counter(double(c.net.buses.size()), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

/// Setup per topology: math model and the sweep's BFS analysis.
void BM_SweepSetup(benchmark::State& state) {
    Case& c = feeder(int(state.range(0)), 11.0);
    for (auto _ : state) {
        MathModel m = build_math_model(c.net);
        SweepSolver sweep;
        sweep.analyze(m);
        benchmark::DoNotOptimize(m.n);
    }
}

}  // namespace

BENCHMARK_CAPTURE(BM_Sweep, mv11kV, 11.0)->RangeMultiplier(10)->Range(100, 100000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_NR, mv11kV, 11.0)->RangeMultiplier(10)->Range(100, 100000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Sweep, lv04kV, 0.4)->Arg(1000)->Arg(10000)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UpdateInjections)->Arg(10000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SweepSetup)->Arg(10000)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
