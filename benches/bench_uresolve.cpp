// The unbalanced re-solve (issue 14): UPowerFlow compiled once, then update_loads + solve, as
// OpenDSS's `solve` on a compiled circuit and as a time series steps. On IEEE 123 and the European
// LV feeder at 09:26 (as published, and every load constant PQ); tolerance 1e-10 p.u. (OpenDSS's
// reference timing uses 1e-10: benches/opendss/README.md). Figures in docs/performance.md,
// "Re-solve and the reduced fixed point".
//   taskset -c 0 build/benches/bench_uresolve --benchmark_min_time=0.3
// Arguments: feeder (0 IEEE 123, 1 EU LV as published, 2 EU LV constant PQ), method (0 auto,
// 1 fixed point: the reduced one where reduced_fixed_point_fits, 2 NR, 3 sweep).
//  - UResolveCold: reset_start + update_loads + solve (OpenDSS's snapshot re-solve starts again too);
//  - UResolveWarm: update_loads + solve from the last answer, the loads alternating between 09:26
//    and 09:27 (one minute of a time series);
//  - UResult: result() (the tables); UBuild: the UPowerFlow constructor (model, solver, set-up).
#include <benchmark/benchmark.h>

#include <libgrid/io/dss.hpp>
#include <libgrid/powerflow/unbalanced.hpp>

#include <exception>
#include <filesystem>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

const std::string kData = LIBGRID_DATA;
enum Feeder : int { kIeee123 = 0, kEuLv = 1, kEuLvPq = 2 };
const UMethod kMethods[] = {UMethod::automatic, UMethod::fixed_point, UMethod::newton, UMethod::sweep};

std::string feeder_path(int f) {
    return f == kIeee123 ? kData + "/opendss/ieee123/IEEE123Master.dss" : kData + "/opendss/eulv/Master.dss";
}

UNetwork feeder(int f, double hour = 9.0 + 26.0 / 60.0) {
    UNetwork net = read_dss(feeder_path(f)).net;
    if (f != kIeee123) apply_loadshapes_at(net, hour);
    if (f == kEuLvPq)
        for (ULoad& l : net.loads) l.vmaxpu = 1.2;
    calc_voltage_bases(net);
    return net;
}

UPfOptions options(int method) {
    UPfOptions opt;
    opt.method = kMethods[method];
    opt.controls = UControlMode::off;
    opt.tolerance = 1e-10;
    return opt;
}

/// The loads' kW and kvar at two times (IEEE 123: as read, and scaled by 1.02).
struct TwoStates {
    std::vector<double> kw[2], kvar[2];
    explicit TwoStates(int f) {
        for (int s = 0; s < 2; ++s) {
            const UNetwork n = feeder(f, 9.0 + (26.0 + s) / 60.0);
            for (const ULoad& l : n.loads) {
                kw[s].push_back(f == kIeee123 ? l.kw * (1.0 + 0.02 * s) : l.kw);
                kvar[s].push_back(f == kIeee123 ? l.kvar * (1.0 + 0.02 * s) : l.kvar);
            }
        }
    }
    void set(UNetwork& net, int s) const {
        for (std::size_t i = 0; i < net.loads.size(); ++i) {
            net.loads[i].kw = kw[s][i];
            net.loads[i].kvar = kvar[s][i];
        }
    }
};

void guarded(benchmark::State& state, void (*body)(benchmark::State&)) {
    try {
        if (!std::filesystem::exists(feeder_path(int(state.range(0))))) {
            state.SkipWithError("missing feeder");
            return;
        }
        body(state);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
}

void resolve_body(benchmark::State& state, bool warm) {
    const int f = int(state.range(0));
    UNetwork net = feeder(f);
    const TwoStates states(f);
    UPowerFlow pf(net, options(int(state.range(1))));
    pf.solve();
    USolveStats st;
    int s = 0, iterations = 0, solves = 0;
    for (auto _ : state) {
        s = warm ? 1 - s : 0;
        states.set(net, s);
        pf.update_loads();
        if (!warm) pf.reset_start();
        st = pf.solve();
        iterations += st.iterations;
        ++solves;
        benchmark::DoNotOptimize(pf.v().data());
    }
    state.counters["iterations"] = double(iterations) / std::max(solves, 1);
    state.counters["reduced"] = pf.reduced();
    state.counters["load_nodes"] = load_node_count(pf.model());
    if (!st.converged) state.SkipWithError("did not converge");
}

void BM_UResolveCold_body(benchmark::State& state) { resolve_body(state, false); }
void BM_UResolveWarm_body(benchmark::State& state) { resolve_body(state, true); }

void BM_UResult_body(benchmark::State& state) {
    UNetwork net = feeder(int(state.range(0)));
    UPowerFlow pf(net, options(int(state.range(1))));
    pf.solve();
    for (auto _ : state) {
        UPfResult r = pf.result();
        benchmark::DoNotOptimize(r.element.data());
    }
}

void BM_UBuild_body(benchmark::State& state) {
    UNetwork net = feeder(int(state.range(0)));
    for (auto _ : state) {
        UPowerFlow pf(net, options(int(state.range(1))));
        benchmark::DoNotOptimize(pf.v().data());
    }
}

void BM_UResolveCold(benchmark::State& state) { guarded(state, BM_UResolveCold_body); }
void BM_UResolveWarm(benchmark::State& state) { guarded(state, BM_UResolveWarm_body); }
void BM_UResult(benchmark::State& state) { guarded(state, BM_UResult_body); }
void BM_UBuild(benchmark::State& state) { guarded(state, BM_UBuild_body); }

void args(benchmark::internal::Benchmark* b) {
    for (int f : {kIeee123, kEuLv, kEuLvPq})
        for (int m : {0, 1}) b->Args({f, m});
}

}  // namespace

BENCHMARK(BM_UResolveCold)->Apply(args)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UResolveWarm)->Apply(args)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UResult)->Apply(args)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UBuild)->Apply(args)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
