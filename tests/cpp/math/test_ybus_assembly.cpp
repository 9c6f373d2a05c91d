// Ybus assembled straight in compressed column form (math_model.cpp) equals, entry by entry and
// bit for bit, the triplet assembly it replaced; the fill-reducing ordering of the bus graph,
// expanded to the Jacobian's unknowns, solves as KLU's own ordering does.
#include <doctest/doctest.h>

#include <libgrid/io/matpower.hpp>
#include <libgrid/math/math_model.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/linear_solver.hpp>
#include <libgrid/solvers/newton_kernel.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

Network load_case(const std::string& name) { return read_matpower(std::string(LIBGRID_TEST_DATA) + "/matpower/" + name + ".m"); }

/// The assembly before issue 13: triplets in branch order (every diagonal first), setFromTriplets.
Eigen::SparseMatrix<cplx> triplet_ybus(const MathModel& m) {
    std::vector<Eigen::Triplet<cplx>> trip;
    for (int i = 0; i < m.n; ++i) trip.emplace_back(i, i, cplx(0.0, 0.0));
    for (const BranchY& b : m.branches) {
        if (b.f >= 0 && b.t >= 0) {
            trip.emplace_back(b.f, b.f, b.yff);
            trip.emplace_back(b.f, b.t, b.yft);
            trip.emplace_back(b.t, b.f, b.ytf);
            trip.emplace_back(b.t, b.t, b.ytt);
        } else if (b.f >= 0) {
            trip.emplace_back(b.f, b.f, b.yff);
        } else {
            trip.emplace_back(b.t, b.t, b.ytt);
        }
    }
    Eigen::SparseMatrix<cplx> Y(m.n, m.n);
    Y.setFromTriplets(trip.begin(), trip.end());
    Y.makeCompressed();
    return Y;
}

void check_same(const Eigen::SparseMatrix<cplx>& a, const Eigen::SparseMatrix<cplx>& b) {
    REQUIRE(a.isCompressed());
    REQUIRE(a.rows() == b.rows());
    REQUIRE(a.nonZeros() == b.nonZeros());
    for (int j = 0; j <= a.cols(); ++j) REQUIRE(a.outerIndexPtr()[j] == b.outerIndexPtr()[j]);
    int differ = 0;
    for (int k = 0; k < a.nonZeros(); ++k) {
        differ += a.innerIndexPtr()[k] != b.innerIndexPtr()[k];
        differ += a.valuePtr()[k] != b.valuePtr()[k];
    }
    CHECK(differ == 0);
}

}  // namespace

TEST_CASE("Ybus in compressed form equals the triplet assembly bit for bit") {
    for (const char* name : {"case9", "case30", "case118", "case300", "case2869pegase"}) {
        CAPTURE(name);
        const MathModel m = build_math_model(load_case(name));
        check_same(m.Ybus, triplet_ybus(m));
    }
}

TEST_CASE("Ybus: parallel branches merge into one entry, an out-of-service one leaves no trace") {
    Network net = load_case("case9");
    const std::size_t nb = net.branches.size();
    net.branches.push_back(net.branches[3]);  // parallel to branch 3
    net.branches.back().id = 1000;
    net.branches.push_back(net.branches[5]);
    net.branches.back().id = 1001;
    net.branches.back().in_service = false;
    MathModel m = build_math_model(net);
    check_same(m.Ybus, triplet_ybus(m));
    const MathModel m0 = build_math_model(load_case("case9"));
    CHECK(m.Ybus.nonZeros() == m0.Ybus.nonZeros());  // the parallel branch adds no entry
    CHECK(m.branch_slot[nb] >= 0);
    CHECK(m.branch_slot[nb + 1] == -1);
    // Rebuilding from the same branches gives the same matrix.
    const Eigen::SparseMatrix<cplx> before = m.Ybus;
    rebuild_ybus_values(m);
    check_same(m.Ybus, before);
}

TEST_CASE("AMD on the bus graph: a permutation; KLU with it solves as with its own ordering") {
    if (!KluSolver::available()) return;
    const MathModel m = build_math_model(load_case("case118"));
    const std::vector<int> order = amd_ordering(m.n, m.Ybus.outerIndexPtr(), m.Ybus.innerIndexPtr());
    REQUIRE(int(order.size()) == m.n);
    std::vector<int> seen(m.n, 0);
    for (int i : order) seen[i]++;
    CHECK(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
    // A nonsymmetric, nonsingular matrix on Ybus's pattern: -B + G + a diagonal shift.
    SpMat A(m.n, m.n);
    A.reserve(m.Ybus.nonZeros());
    std::vector<Eigen::Triplet<double>> t;
    for (int j = 0; j < m.n; ++j)
        for (Eigen::SparseMatrix<cplx>::InnerIterator it(m.Ybus, j); it; ++it) {
            const double v = -it.value().imag() + 0.1 * it.value().real() * (it.row() < j ? 1.0 : -1.0);
            t.emplace_back(int(it.row()), j, it.row() == j ? v + 10.0 : v);
        }
    A.setFromTriplets(t.begin(), t.end());
    A.makeCompressed();
    std::vector<double> b(m.n), x_own, x_given;
    for (int i = 0; i < m.n; ++i) b[i] = std::sin(0.37 * i) + 0.5;
    for (int pass = 0; pass < 2; ++pass) {
        KluSolver ls;
        if (pass == 0) ls.analyze(A);
        else ls.analyze(A, order);
        REQUIRE(ls.factorize(A));
        std::vector<double> x = b;
        ls.solve(x.data(), m.n);
        (pass == 0 ? x_own : x_given) = x;
    }
    double diff = 0.0;
    for (int i = 0; i < m.n; ++i) diff = std::max(diff, std::abs(x_own[i] - x_given[i]));
    CHECK(diff < 1e-12);
    // The residual of the given-order solution.
    Eigen::Map<const Eigen::VectorXd> xg(x_given.data(), m.n), bb(b.data(), m.n);
    CHECK((A * xg - bb).cwiseAbs().maxCoeff() < 1e-10);
}

TEST_CASE("NR with the bus-graph ordering reaches the default ordering's solution") {
    if (!KluSolver::available()) return;
    for (const char* name : {"case118", "case2869pegase"}) {
        CAPTURE(name);
        const Network net = load_case(name);
        const MathModel m = build_math_model(net);
        std::vector<cplx> V[2];
        SolveStatus st[2];
        for (int pass = 0; pass < 2; ++pass) {
            NewtonRaphsonKernel<symmetric_t, KluSolver> nr;
            nr.use_bus_graph_ordering(pass == 1);
            nr.analyze(m);
            V[pass] = initial_voltages(net, m, false);
            st[pass] = nr.solve(m, V[pass], 1e-10, 30, nullptr);
            REQUIRE(st[pass].converged);
        }
        CHECK(st[0].iterations == st[1].iterations);
        double d = 0.0;
        for (int i = 0; i < m.n; ++i) d = std::max(d, std::abs(V[0][i] - V[1][i]));
        CHECK(d < 1e-11);
    }
}
