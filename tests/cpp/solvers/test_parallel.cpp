// Feeder-parallel sweep: identical bit for bit at 1, 2 and 3 threads, and equal to Newton-Raphson.
#include <doctest/doctest.h>

#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/solvers.hpp>
#include <libgrid/scenario/melaka_grid.hpp>
#include <libgrid/core/thread_pool.hpp>

#include <cmath>
#include <cstring>

using namespace libgrid;

TEST_CASE("parallel sweep: same voltages bit for bit at any thread count, and equal to NR") {
    MelakaGridOptions go;
    go.size = GridSize::District;
    go.seed = 3;
    const MelakaGrid g = generate_melaka_grid(go);
    MathModel m = build_math_model(g.net);
    REQUIRE(sweep_applicable(m));
    REQUIRE(m.n > 1000);
    auto solve = [&](int threads) {
        ThreadPool pool(threads);
        SweepSolver sw;
        sw.analyze(m);
        sw.set_thread_pool(&pool);
        std::vector<cplx> V = initial_voltages(g.net, m, false, false);
        SolveStatus st = sw.solve(m, V, 1e-9, 100);
        REQUIRE(st.converged);
        // a second, warm-started solve after a load change, as in a time series
        for (auto& s : m.s_p) s *= 1.1;
        st = sw.solve(m, V, 1e-9, 100);
        for (auto& s : m.s_p) s /= 1.1;
        REQUIRE(st.converged);
        return V;
    };
    const auto v1 = solve(1), v2 = solve(2), v3 = solve(3);
    CHECK(std::memcmp(v1.data(), v2.data(), v1.size() * sizeof(cplx)) == 0);
    CHECK(std::memcmp(v1.data(), v3.data(), v1.size() * sizeof(cplx)) == 0);
    // against Newton-Raphson at the same (scaled) loads
    for (auto& s : m.s_p) s *= 1.1;
    NewtonRaphsonSolver nr;
    nr.analyze(m);
    std::vector<cplx> Vn = initial_voltages(g.net, m, false, true);
    REQUIRE(nr.solve(m, Vn, 1e-10, 30).converged);
    double worst = 0;
    for (int i = 0; i < m.n; ++i) worst = std::max(worst, std::abs(v1[i] - Vn[i]));
    CHECK(worst < 1e-8);
}

namespace {

/// A volt-var-like device at every 7th node: q = 0.5 * (1 - |V|) * |s| of the node's load,
/// re-evaluated when |V| moved more than 1e-6 since the last evaluation (as the PV group does).
struct VoltVarHook final : SweepNodeHook {
    MathModel* m = nullptr;
    std::vector<int> hooked;
    std::vector<cplx> base;
    std::vector<double> vm_eval;
    std::vector<int> calls;  // per node, how often at_node saw it
    explicit VoltVarHook(MathModel& model) : m(&model) {
        for (int i = 0; i < m->n; ++i)
            if (i % 7 == 3 && m->node_type[i] == BusType::PQ) hooked.push_back(i);
        base = m->s_p;
        vm_eval.assign(m->n, 1.0);
        calls.assign(m->n, 0);
    }
    const std::vector<int>& nodes() const override { return hooked; }
    bool at_node(int node, cplx v) override {
        calls[node]++;
        const double vm = std::abs(v);
        if (std::abs(vm - vm_eval[node]) <= 1e-6) return false;
        vm_eval[node] = vm;
        m->s_p[node] = base[node] + cplx(0.0, 0.5 * (1.0 - vm) * (std::abs(base[node]) + 1e-3));
        return true;
    }
};

}  // namespace

TEST_CASE("feeder-blocked sweep: small blocks, a per-node hook, bit for bit at 1, 2, 3 threads, NR at the fixed point") {
    MelakaGridOptions go;
    go.size = GridSize::District;
    go.seed = 5;
    const MelakaGrid g = generate_melaka_grid(go);
    const MathModel m0 = build_math_model(g.net);
    REQUIRE(sweep_applicable(m0));
    struct Out {
        std::vector<cplx> V;
        std::vector<cplx> s_p;
        int iterations;
        int outer;
        double inner;
        std::vector<int> calls;
    };
    auto solve = [&](int threads, int block_nodes) {
        MathModel m = m0;
        VoltVarHook hook(m);
        ThreadPool pool(threads);
        SweepSolver sw;
        sw.set_block_nodes(block_nodes);
        sw.analyze(m);
        sw.set_thread_pool(&pool);
        std::vector<cplx> V = initial_voltages(g.net, m, false, false);
        const SolveStatus st = sw.solve(m, V, 1e-10, 100, &hook);
        REQUIRE(st.converged);
        CHECK(st.max_mismatch <= 1e-10);
        return Out{V, m.s_p, st.iterations, sw.last_outer_iterations(), sw.last_inner_sweeps(), hook.calls};
    };
    const Out a = solve(1, 64), b = solve(2, 64), c = solve(3, 64);
    CHECK(std::memcmp(a.V.data(), b.V.data(), a.V.size() * sizeof(cplx)) == 0);
    CHECK(std::memcmp(a.V.data(), c.V.data(), a.V.size() * sizeof(cplx)) == 0);
    CHECK(std::memcmp(a.s_p.data(), c.s_p.data(), a.s_p.size() * sizeof(cplx)) == 0);
    CHECK(a.iterations == c.iterations);
    CHECK(a.calls == c.calls);
    CHECK(a.inner > 0.0);  // the blocks did sweep on their own
    // the hook ran at every hooked node after every forward pass that reached it
    VoltVarHook probe(const_cast<MathModel&>(m0));
    for (int node : probe.hooked) CHECK(a.calls[node] >= a.outer);
    CHECK(a.iterations >= a.outer);
    // other block sizes (one block per feeder, one large task) reach the same fixed point
    const Out d = solve(1, 4096), e = solve(2, 1 << 30);
    double worst = 0.0;
    for (std::size_t i = 0; i < a.V.size(); ++i) worst = std::max({worst, std::abs(a.V[i] - d.V[i]), std::abs(a.V[i] - e.V[i])});
    CHECK(worst < 1e-8);
    // Newton-Raphson with the hook's final injections: the same voltages to 1e-8 p.u.
    MathModel mn = m0;
    mn.s_p = a.s_p;
    NewtonRaphsonSolver nr;
    nr.analyze(mn);
    std::vector<cplx> Vn = initial_voltages(g.net, mn, false, true);
    REQUIRE(nr.solve(mn, Vn, 1e-10, 30).converged);
    double dn = 0.0;
    for (int i = 0; i < mn.n; ++i) dn = std::max(dn, std::abs(a.V[i] - Vn[i]));
    CHECK(dn < 1e-8);
}
