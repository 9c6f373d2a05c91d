// NR solves per second on the shipped MATPOWER cases, each linear solver, with the time split
// into admittance build, Jacobian, factorisation and solve. Google Benchmark; run:
//   build/benches/bench_nr --benchmark_format=console
#include <benchmark/benchmark.h>

#include <libgrid/io/matpower.hpp>
#include <libgrid/solvers/linear_solver.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <chrono>
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

void register_all() {
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
