// Speed of the unbalanced power flow (issue 14) on the IEEE 123 and European LV snapshots, split
// into its parts: read (read_dss: the script run), model build (build_umath_model: yprims, Y),
// solve (make_usolver + solve from the model's start: analysis, factorisation, iterations) and
// the whole run_unbalanced_pf (build + solve + controls + results); results = pf - build - solve.
// One core; figures and OpenDSS's own solve time beside them in docs/performance.md
// ("Issue 14: unbalanced snapshots").
//   taskset -c 0 build/benches/bench_unbalanced --benchmark_counters_tabular=true
//   taskset -c 0 build/benches/bench_unbalanced --benchmark_filter=EuLv
// Feeders: tests/data/opendss/ieee123/IEEE123Master.dss (controls static: the four regulator
// banks settle; and off), tests/data/opendss/eulv/Master.dss at 09:26 (its 1-minute load shapes'
// peak) as published and with every load constant PQ (vmaxpu = 1.2, the variant).
// Method argument: 0 auto, 1 fixed point, 2 Newton-Raphson, 3 sweep.
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

std::string feeder_path(int f) {
    return f == kIeee123 ? kData + "/opendss/ieee123/IEEE123Master.dss" : kData + "/opendss/eulv/Master.dss";
}

/// The feeder as the power flow sees it: read, and for the European LV feeder the loads at 09:26.
UNetwork feeder(int f) {
    UNetwork net = read_dss(feeder_path(f)).net;
    if (f != kIeee123) apply_loadshapes_at(net, 9.0 + 26.0 / 60.0);
    if (f == kEuLvPq)
        for (ULoad& l : net.loads) l.vmaxpu = 1.2;
    calc_voltage_bases(net);
    return net;
}

const UMethod kMethods[] = {UMethod::automatic, UMethod::fixed_point, UMethod::newton, UMethod::sweep};

/// An error of the library (a method that does not apply, a feeder that cannot be modelled) ends
/// that benchmark with the message instead of the program.
void guarded(benchmark::State& state, void (*body)(benchmark::State&)) {
    try {
        body(state);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
}

bool skip_missing(benchmark::State& state, int f) {
    if (std::filesystem::exists(feeder_path(f))) return false;
    state.SkipWithError(("missing " + feeder_path(f)).c_str());
    return true;
}

void BM_UnbalancedRead_body(benchmark::State& state) {
    const int f = int(state.range(0));
    if (skip_missing(state, f)) return;
    for (auto _ : state) benchmark::DoNotOptimize(read_dss(feeder_path(f)));
}

void BM_UnbalancedBuild_body(benchmark::State& state) {
    const int f = int(state.range(0));
    if (skip_missing(state, f)) return;
    const UNetwork net = feeder(f);
    for (auto _ : state) benchmark::DoNotOptimize(build_umath_model(net));
    state.counters["nodes"] = double(build_umath_model(net).n_nodes);
}

/// make_usolver (analysis, factorisation) + the iterations from the model's start, controls off.
void BM_UnbalancedSolve_body(benchmark::State& state) {
    const int f = int(state.range(0));
    if (skip_missing(state, f)) return;
    const UNetwork net = feeder(f);
    const UMathModel m = build_umath_model(net);
    USolveOptions opt;
    USolveStats st;
    for (auto _ : state) {
        std::vector<cplx> v = m.v_start;
        auto solver = make_usolver(m, kMethods[state.range(1)]);
        st = solver->solve(v, opt);
        benchmark::DoNotOptimize(v.data());
    }
    state.counters["solver_iterations"] = st.iterations;
    if (!st.converged) state.SkipWithError("did not converge");
}

/// The iterations alone: the solver made once, every repetition from the model's start.
void BM_UnbalancedIterate_body(benchmark::State& state) {
    const int f = int(state.range(0));
    if (skip_missing(state, f)) return;
    const UNetwork net = feeder(f);
    const UMathModel m = build_umath_model(net);
    auto solver = make_usolver(m, kMethods[state.range(1)]);
    USolveOptions opt;
    USolveStats st;
    std::vector<cplx> v;
    for (auto _ : state) {
        v = m.v_start;
        st = solver->solve(v, opt);
        benchmark::DoNotOptimize(v.data());
    }
    state.counters["solver_iterations"] = st.iterations;
    if (!st.converged) state.SkipWithError("did not converge");
}

/// run_unbalanced_pf whole: build, solve, controls (range 2: 1 static, 0 off), results.
void BM_UnbalancedPf_body(benchmark::State& state) {
    const int f = int(state.range(0));
    if (skip_missing(state, f)) return;
    const UNetwork base = feeder(f);
    UPfOptions opt;
    opt.method = kMethods[state.range(1)];
    opt.controls = state.range(2) ? UControlMode::static_ : UControlMode::off;
    UPfResult r;
    for (auto _ : state) {
        state.PauseTiming();
        UNetwork net = base;  // the controls write their taps back: every run from the same state
        state.ResumeTiming();
        r = run_unbalanced_pf(net, opt);
        benchmark::DoNotOptimize(r.node.vm_pu.data());
    }
    state.counters["solver_iterations"] = r.total_iterations;
    state.counters["control_iterations"] = r.control_iterations;
    state.counters["source_kw"] = r.source_kva.real();
    if (!r.converged) state.SkipWithError(("did not converge: " + r.message).c_str());
}

void BM_UnbalancedRead(benchmark::State& state) { guarded(state, BM_UnbalancedRead_body); }
void BM_UnbalancedBuild(benchmark::State& state) { guarded(state, BM_UnbalancedBuild_body); }
void BM_UnbalancedSolve(benchmark::State& state) { guarded(state, BM_UnbalancedSolve_body); }
void BM_UnbalancedIterate(benchmark::State& state) { guarded(state, BM_UnbalancedIterate_body); }
void BM_UnbalancedPf(benchmark::State& state) { guarded(state, BM_UnbalancedPf_body); }

void feeders(benchmark::internal::Benchmark* b) { b->Arg(kIeee123)->Arg(kEuLv)->Arg(kEuLvPq); }
void feeders_methods(benchmark::internal::Benchmark* b) {
    for (int f : {kIeee123, kEuLv, kEuLvPq})
        for (int m = 0; m < 4; ++m) b->Args({f, m});
}
void pf_args(benchmark::internal::Benchmark* b) {
    for (int f : {kIeee123, kEuLv, kEuLvPq})
        for (int m = 0; m < 4; ++m) b->Args({f, m, 0});
    b->Args({kIeee123, 0, 1})->Args({kIeee123, 1, 1})->Args({kEuLv, 0, 1});
}

}  // namespace

BENCHMARK(BM_UnbalancedRead)->Apply(feeders)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_UnbalancedBuild)->Apply(feeders)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UnbalancedSolve)->Apply(feeders_methods)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UnbalancedIterate)->Apply(feeders_methods)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UnbalancedPf)->Apply(pf_args)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
