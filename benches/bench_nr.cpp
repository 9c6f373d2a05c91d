// NR solves per second on the shipped MATPOWER cases, each linear solver, with the time split
// into admittance build, Jacobian, factorisation and solve. Google Benchmark; run:
//   build/benches/bench_nr --benchmark_format=console
#include <benchmark/benchmark.h>

#include <libgrid/io/matpower.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/solvers/linear_solver.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/newton_kernel.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <chrono>
#include <ctime>
#include <map>
#include <string>

using namespace libgrid;

namespace {

const Network& case_network(const std::string& name) {
    static std::map<std::string, Network> cache;
    auto it = cache.find(name);
    if (it == cache.end()) it = cache.emplace(name, read_matpower(std::string(LIBGRID_DATA) + "/matpower/" + name + ".m")).first;
    return it->second;
}

/// One full NR solve from the case file's voltages, as a user would time it: symbolic analysis
/// excluded (done once per topology), numeric work included.
void BM_NR(benchmark::State& state, std::string name, LinearSolverKind kind) {
    const Network& net = case_network(name);
    MathModel m = build_math_model(net);
    const std::vector<cplx> V0 = initial_voltages(net, m, false);
    NewtonRaphsonSolver nr(kind);
    nr.analyze(m);
    std::vector<cplx> V = V0;
    NRTimings t;
    int iters = 0;
    bool ok = true;
    for (auto _ : state) {
        std::copy(V0.begin(), V0.end(), V.begin());
        SolveStatus st = nr.solve(m, V, 1e-8, 20, &t);
        ok = ok && st.converged;
        iters = st.iterations;
        benchmark::DoNotOptimize(V.data());
    }
    if (!ok) state.SkipWithError("did not converge");
    const double n = double(state.iterations());
    state.counters["solves_per_s"] = benchmark::Counter(n, benchmark::Counter::kIsRate);
    state.counters["iterations"] = iters;
    state.counters["jacobian_us"] = t.jacobian_s / n * 1e6;
    state.counters["factorize_us"] = t.factorize_s / n * 1e6;
    state.counters["solve_us"] = t.solve_s / n * 1e6;
    state.counters["mismatch_us"] = t.mismatch_s / n * 1e6;
    state.counters["buses"] = double(net.buses.size());
}

/// Admittance build (topology + per-unit conversion + Ybus) and symbolic analysis, per topology.
void BM_Setup(benchmark::State& state, std::string name, LinearSolverKind kind) {
    const Network& net = case_network(name);
    for (auto _ : state) {
        MathModel m = build_math_model(net);
        NewtonRaphsonSolver nr(kind);
        nr.analyze(m);
        benchmark::DoNotOptimize(m.Ybus.nonZeros());
    }
}

/// This thread's CPU time, s (the machine is shared: wall time is noisy).
struct Clock {
    static double now() {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
    }
};
double seconds_since(double& t0) {
    const double t1 = Clock::now();
    const double s = t1 - t0;
    t0 = t1;
    return s;
}

/// One power flow from a loaded network, everything a user pays for it: validation, topology,
/// math model (per-unit branches, Ybus), initial voltages, NR's analysis (ordering, symbolic) and
/// the NR solve. Counters split the time by phase (us of thread CPU time per power flow).
void BM_OnePF(benchmark::State& state, std::string name) {
    const Network& net = case_network(name);
    double t_validate = 0, t_topo = 0, t_model = 0, t_init = 0, t_analyze = 0, t_solve = 0;
    bool ok = true;
    for (auto _ : state) {
        auto t0 = Clock::now();
        net.validate();
        t_validate += seconds_since(t0);
        const Topology topo = analyze_topology(net);
        t_topo += seconds_since(t0);
        MathModel m = build_math_model(net, topo);
        t_model += seconds_since(t0);
        std::vector<cplx> V = initial_voltages(net, m, false);
        t_init += seconds_since(t0);
        NewtonRaphsonSolver nr;
        nr.analyze(m);
        t_analyze += seconds_since(t0);
        ok = ok && nr.solve(m, V, 1e-8, 30).converged;
        t_solve += seconds_since(t0);
        benchmark::DoNotOptimize(V.data());
    }
    if (!ok) state.SkipWithError("did not converge");
    const double n = double(state.iterations()) / 1e6;
    state.counters["validate_us"] = t_validate / n;
    state.counters["topology_us"] = t_topo / n;
    state.counters["math_model_us"] = t_model / n;
    state.counters["init_v_us"] = t_init / n;
    state.counters["nr_analyze_us"] = t_analyze / n;
    state.counters["nr_solve_us"] = t_solve / n;
}

/// run_power_flow as a whole (working copy of the network, model, solve, results tables).
void BM_RunPowerFlow(benchmark::State& state, std::string name) {
    const Network& net = case_network(name);
    bool ok = true;
    for (auto _ : state) {
        PowerFlowResult r = run_power_flow(net);
        ok = ok && r.converged;
        benchmark::DoNotOptimize(r.bus_vm_pu.data());
    }
    if (!ok) state.SkipWithError("did not converge");
}

void register_all() {
    for (const char* c : {"case118", "case2869pegase", "case_ACTIVSg2000"}) {
        benchmark::RegisterBenchmark((std::string("OnePF/") + c).c_str(), BM_OnePF, std::string(c))->Unit(benchmark::kMicrosecond);
        benchmark::RegisterBenchmark((std::string("RunPowerFlow/") + c).c_str(), BM_RunPowerFlow, std::string(c))
            ->Unit(benchmark::kMicrosecond);
    }
    for (const char* c : {"case9", "case14", "case30", "case57", "case118", "case300", "case1354pegase", "case2869pegase", "case_ACTIVSg2000"}) {
        for (LinearSolverKind k : {LinearSolverKind::KLU, LinearSolverKind::SparseLU}) {
            if (k == LinearSolverKind::KLU && !KluSolver::available()) continue;
            const std::string tag = std::string(c) + "/" + to_string(k);
            benchmark::RegisterBenchmark(("NR/" + tag).c_str(), BM_NR, std::string(c), k)->Unit(benchmark::kMicrosecond);
            benchmark::RegisterBenchmark(("Setup/" + tag).c_str(), BM_Setup, std::string(c), k)->Unit(benchmark::kMicrosecond);
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
namespace {
/// NR's analysis alone (index sets, Jacobian pattern, ordering, KLU symbolic) on a built model:
/// KLU's own ordering (BTF + AMD on the 2n x 2n Jacobian, the default) or AMD on the bus graph.
void BM_AnalyzeOnly(benchmark::State& state, bool bus_graph) {
    const Network& net = case_network("case2869pegase");
    MathModel m = build_math_model(net);
    for (auto _ : state) {
        NewtonRaphsonKernel<symmetric_t, KluSolver> nr;
        nr.use_bus_graph_ordering(bus_graph);
        nr.analyze(m);
    }
}
BENCHMARK_CAPTURE(BM_AnalyzeOnly, klu_own, false)->Name("NRAnalyze/case2869pegase/klu_own")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_AnalyzeOnly, bus_graph, true)->Name("NRAnalyze/case2869pegase/bus_graph")->Unit(benchmark::kMicrosecond);
}  // namespace
