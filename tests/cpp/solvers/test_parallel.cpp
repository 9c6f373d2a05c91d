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
