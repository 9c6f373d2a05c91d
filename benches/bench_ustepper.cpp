// UTimeStepper (issue 15): the European LV feeder's day, 1,440 one-minute steps, each
// set_load (55 loads, multipliers from their shapes by loadshape_at) + solve (from the last answer)
// + every row (nodes, branches, transformers, sources, loads, VUF, neutral, balance), one core.
// Compare with bench_uresolve's UResolveWarm (update_loads + solve, no rows). Figures in
// docs/performance.md, "The time series' stepper".
//   taskset -c 0 build/benches/bench_ustepper --benchmark_min_time=2
// Argument: 1 EU LV as published, 2 EU LV with every load constant PQ (vmaxpu 1.2).
//  - UStepperDay: the day (time per iteration = one day; counters: us per step, iterations per step,
//    heap allocations per step counted by the replaced operator new);
//  - UStepperSolve: one step without the rows (set_load + solve), minutes alternating;
//  - UStepperRows: the rows alone after a solve;
//  - UStepperControls: IEEE 13 under static control, a step (counts the control loop's allocations).
#include <benchmark/benchmark.h>

#include <libgrid/io/dss.hpp>
#include <libgrid/powerflow/ustepper.hpp>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// The counting operator new / delete pair below is malloc / free throughout (GCC cannot see that).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace libgrid;

namespace {

const std::string kMaster = std::string(LIBGRID_DATA) + "/opendss/eulv/Master.dss";

UNetwork eulv(int variant) {
    UNetwork net = read_dss(kMaster).net;
    if (variant == 2)
        for (ULoad& l : net.loads) l.vmaxpu = 1.2;
    calc_voltage_bases(net);
    return net;
}

UPfOptions options() {
    UPfOptions opt;
    opt.controls = UControlMode::off;
    opt.tolerance = 1e-10;  // as bench_uresolve (OpenDSS's reference timing)
    return opt;
}

/// The stepper, the loads' shapes and every row's buffer.
struct Day {
    UNetwork net;
    UTimeStepper st;
    std::vector<const ULoadShape*> shape;
    std::vector<double> nv, npu, ndeg, bi, bload, bloss, tp, tq, sp, sq, lp, lq, vuf, vn;
    double by[4] = {0, 0, 0, 0};
    explicit Day(int variant) : net(eulv(variant)), st(net, {}, options()) {
        for (const ULoad& l : net.loads) shape.push_back(load_shape_of(net, l));
        const std::size_t n = std::size_t(st.n_nodes()), nb = std::size_t(st.n_branches());
        const std::size_t nt = net.transformers.size(), ns = std::size_t(st.n_sources());
        nv.resize(n), npu.resize(n), ndeg.resize(n);
        bi.resize(4 * nb), bload.resize(nb), bloss.resize(nb);
        tp.resize(6 * nt), tq.resize(6 * nt), sp.resize(3 * ns), sq.resize(3 * ns);
        lp.resize(net.loads.size()), lq.resize(net.loads.size());
        vuf.resize(net.buses.size()), vn.resize(net.buses.size());
    }
    void set_loads(int minute) {
        const double hour = minute / 60.0;
        for (std::size_t l = 0; l < net.loads.size(); ++l) {
            double p = 1.0, q = 1.0;
            bool has_q = false;
            if (shape[l] != nullptr) loadshape_at(*shape[l], hour, p, q, has_q);
            st.set_load(int(l), net.loads[l].base_kw * p, net.loads[l].base_kvar * q);
        }
    }
    double rows() {
        st.node_rows(nv.data(), npu.data(), ndeg.data());
        st.branch_rows(bi.data(), bload.data(), bloss.data());
        st.transformer_rows(tp.data(), tq.data());
        st.source_rows(sp.data(), sq.data());
        st.load_rows(lp.data(), lq.data());
        st.vuf_rows(vuf.data());
        st.neutral_rows(vn.data());
        return st.balance_kw(by);
    }
};

void guarded(benchmark::State& state, void (*body)(benchmark::State&)) {
    try {
        if (!std::filesystem::exists(kMaster)) {
            state.SkipWithError("missing feeder");
            return;
        }
        body(state);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
}

void BM_UStepperDay_body(benchmark::State& state) {
    Day d(int(state.range(0)));
    long iterations = 0, steps = 0, allocations = 0, failed = 0;
    double worst_balance = 0.0;
    for (auto _ : state) {
        const long before = g_allocations.load();
        for (int minute = 1; minute <= 1440; ++minute) {
            d.set_loads(minute);
            const USolveStats s = d.st.solve();
            iterations += s.iterations;
            failed += s.converged ? 0 : 1;
            worst_balance = std::max(worst_balance, std::abs(d.rows()));
            ++steps;
        }
        allocations += g_allocations.load() - before;
    }
    state.counters["us_per_step"] = benchmark::Counter(double(steps) * 1e-6, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["iterations_per_step"] = double(iterations) / double(std::max(steps, 1L));
    state.counters["allocs_per_step"] = double(allocations) / double(std::max(steps, 1L));
    state.counters["max_abs_balance_kw"] = worst_balance;
    if (failed > 0) state.SkipWithError("a step did not converge");
}

void BM_UStepperSolve_body(benchmark::State& state) {
    Day d(int(state.range(0)));
    int minute = 566;
    for (auto _ : state) {
        minute = minute == 566 ? 567 : 566;
        d.set_loads(minute);
        benchmark::DoNotOptimize(d.st.solve().iterations);
    }
}

void BM_UStepperRows_body(benchmark::State& state) {
    Day d(int(state.range(0)));
    d.set_loads(566);
    d.st.solve();
    for (auto _ : state) {
        // a solve invalidates the element currents: the rows as a step pays them, currents included
        benchmark::DoNotOptimize(d.rows());
        state.PauseTiming();
        d.st.solve();
        state.ResumeTiming();
    }
}

/// IEEE 13 under static control (regulators, capacitors): a step with the loads alternating between
/// 100 % and 102 %; counts the heap allocations of the control loop.
void BM_UStepperControls_body(benchmark::State& state) {
    UNetwork net = read_dss(std::string(LIBGRID_DATA) + "/opendss/ieee13/IEEE13Nodeckt.dss").net;
    UPfOptions opt;
    opt.tolerance = 1e-10;
    UTimeStepper st(net, {}, opt);
    st.solve();
    long steps = 0, allocations = 0, control_iterations = 0;
    double scale = 1.0;
    for (auto _ : state) {
        scale = scale == 1.0 ? 1.02 : 1.0;
        const long before = g_allocations.load();
        for (std::size_t l = 0; l < net.loads.size(); ++l)
            st.set_load(int(l), net.loads[l].kw * scale, net.loads[l].kvar * scale);
        benchmark::DoNotOptimize(st.solve().iterations);
        allocations += g_allocations.load() - before;
        control_iterations += st.status().control_iterations;
        ++steps;
    }
    state.counters["allocs_per_step"] = double(allocations) / double(std::max(steps, 1L));
    state.counters["control_iterations"] = double(control_iterations) / double(std::max(steps, 1L));
}

void BM_UStepperDay(benchmark::State& state) { guarded(state, BM_UStepperDay_body); }
void BM_UStepperControls(benchmark::State& state) { guarded(state, BM_UStepperControls_body); }
void BM_UStepperSolve(benchmark::State& state) { guarded(state, BM_UStepperSolve_body); }
void BM_UStepperRows(benchmark::State& state) { guarded(state, BM_UStepperRows_body); }

}  // namespace

BENCHMARK(BM_UStepperDay)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_UStepperSolve)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UStepperRows)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_UStepperControls)->Unit(benchmark::kMicrosecond);
BENCHMARK_MAIN();
