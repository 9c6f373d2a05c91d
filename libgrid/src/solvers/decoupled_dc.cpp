// libgrid: fast-decoupled (XB) and DC power flow, after MATPOWER's fdpf/makeB and dcpf/makeBdc.
#include <libgrid/core/errors.hpp>
#include <libgrid/solvers/linear_solver.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <cmath>

namespace libgrid {
namespace {

/// Series reactance of a branch's pi equivalent (what MATPOWER's x column holds).
double series_x(const BranchY& b) { return (1.0 / b.ys).imag(); }

/// Sub-matrix A(rows, cols) of a square sparse matrix given as triplets, with index maps.
SpMat restrict(int n, const std::vector<Eigen::Triplet<double>>& trip, const std::vector<int>& row_pos, int nr) {
    std::vector<Eigen::Triplet<double>> t;
    t.reserve(trip.size());
    for (const auto& e : trip) {
        int r = row_pos[e.row()], c = row_pos[e.col()];
        if (r >= 0 && c >= 0) t.emplace_back(r, c, e.value());
    }
    (void)n;
    SpMat A(nr, nr);
    A.setFromTriplets(t.begin(), t.end());
    A.makeCompressed();
    return A;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
struct FastDecoupledSolver::Impl {
    int n = 0;
    std::vector<int> pvpq, pq, pos_a, pos_m;
    SpMat Bp, Bpp;
    SparseLUSolver lu_p, lu_pp;
    std::vector<double> Vm, Va, P, Q;
    std::vector<cplx> I;

    double mismatch(const MathModel& m, const std::vector<cplx>& V, double& normP, double& normQ) {
        const int* yo = m.Ybus.outerIndexPtr();
        const int* yi = m.Ybus.innerIndexPtr();
        const cplx* yv = m.Ybus.valuePtr();
        std::fill(I.begin(), I.end(), cplx(0.0, 0.0));
        for (int j = 0; j < n; ++j)
            for (int k = yo[j]; k < yo[j + 1]; ++k) I[yi[k]] += yv[k] * V[j];
        normP = normQ = 0.0;
        double full = 0.0;
        for (int i = 0; i < n; ++i) {
            if (pos_a[i] < 0) continue;
            const cplx mis = V[i] * std::conj(I[i]) - specified_injection(m, i, Vm[i]);
            full = std::max(full, std::abs(mis.real()));
            P[pos_a[i]] = mis.real() / Vm[i];
            normP = std::max(normP, std::abs(P[pos_a[i]]));
            if (pos_m[i] >= 0) {
                full = std::max(full, std::abs(mis.imag()));
                Q[pos_m[i]] = mis.imag() / Vm[i];
                normQ = std::max(normQ, std::abs(Q[pos_m[i]]));
            }
        }
        return full;
    }
};

FastDecoupledSolver::FastDecoupledSolver() : impl_(std::make_unique<Impl>()) {}
FastDecoupledSolver::~FastDecoupledSolver() = default;

void FastDecoupledSolver::analyze(const MathModel& m) {
    Impl& s = *impl_;
    s.n = m.n;
    s.pvpq.clear();
    s.pq.clear();
    s.pos_a.assign(m.n, -1);
    s.pos_m.assign(m.n, -1);
    for (int i = 0; i < m.n; ++i) {
        if (m.node_type[i] == BusType::Slack) continue;
        s.pos_a[i] = int(s.pvpq.size());
        s.pvpq.push_back(i);
        if (m.node_type[i] == BusType::PQ) {
            s.pos_m[i] = int(s.pq.size());
            s.pq.push_back(i);
        }
    }
    // B': r = 0, no charging, no shunts, tap 1 (XB). B'': no phase shift, with r, charging, taps, shunts.
    std::vector<Eigen::Triplet<double>> tp, tpp;
    for (const BranchY& b : m.branches) {
        if (b.f >= 0 && b.t >= 0) {
            const double bp = 1.0 / series_x(b);
            tp.emplace_back(b.f, b.f, bp);
            tp.emplace_back(b.t, b.t, bp);
            tp.emplace_back(b.f, b.t, -bp);
            tp.emplace_back(b.t, b.f, -bp);
            const double a = std::abs(b.tap);
            tpp.emplace_back(b.f, b.f, -b.yff.imag());
            tpp.emplace_back(b.t, b.t, -b.ytt.imag());
            tpp.emplace_back(b.f, b.t, (b.ys / a).imag());
            tpp.emplace_back(b.t, b.f, (b.ys / a).imag());
        } else if (b.f >= 0) {
            tpp.emplace_back(b.f, b.f, -b.yff.imag());
        } else {
            tpp.emplace_back(b.t, b.t, -b.ytt.imag());
        }
    }
    for (int i = 0; i < m.n; ++i) tpp.emplace_back(i, i, -(-std::conj(m.s_z[i])).imag());
    s.Bp = restrict(m.n, tp, s.pos_a, int(s.pvpq.size()));
    s.Bpp = restrict(m.n, tpp, s.pos_m, int(s.pq.size()));
    if (!s.pvpq.empty()) {
        s.lu_p.analyze(s.Bp);
        if (!s.lu_p.factorize(s.Bp)) throw SolverError("fast-decoupled: B' is singular");
    }
    if (!s.pq.empty()) {
        s.lu_pp.analyze(s.Bpp);
        if (!s.lu_pp.factorize(s.Bpp)) throw SolverError("fast-decoupled: B'' is singular");
    }
    s.Vm.assign(m.n, 0.0);
    s.Va.assign(m.n, 0.0);
    s.P.assign(s.pvpq.size(), 0.0);
    s.Q.assign(s.pq.size(), 0.0);
    s.I.assign(m.n, 0.0);
}

SolveStatus FastDecoupledSolver::solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter) {
    Impl& s = *impl_;
    SolveStatus st;
    for (int i = 0; i < m.n; ++i) {
        s.Vm[i] = std::abs(V[i]);
        s.Va[i] = std::arg(V[i]);
    }
    double nP, nQ;
    double full = s.mismatch(m, V, nP, nQ);
    st.max_mismatch = full;
    // MATPOWER tests the scaled mismatch; we also require the unscaled one (what NR uses).
    auto done = [&] { return nP < tol && nQ < tol && full < tol; };
    if (done()) {
        st.converged = true;
        return st;
    }
    const int np = int(s.pvpq.size()), nq = int(s.pq.size());
    for (int it = 1; it <= max_iter; ++it) {
        st.iterations = it;
        for (double& x : s.P) x = -x;
        if (np) s.lu_p.solve(s.P.data(), np);
        for (int r = 0; r < np; ++r) s.Va[s.pvpq[r]] += s.P[r];
        for (int i : s.pvpq) V[i] = std::polar(s.Vm[i], s.Va[i]);
        full = s.mismatch(m, V, nP, nQ);
        st.max_mismatch = full;
        if (!std::isfinite(full)) return st;
        if (done()) {
            st.converged = true;
            return st;
        }
        for (double& x : s.Q) x = -x;
        if (nq) s.lu_pp.solve(s.Q.data(), nq);
        for (int r = 0; r < nq; ++r) s.Vm[s.pq[r]] += s.Q[r];
        for (int i : s.pvpq) V[i] = std::polar(s.Vm[i], s.Va[i]);
        full = s.mismatch(m, V, nP, nQ);
        st.max_mismatch = full;
        if (!std::isfinite(full)) return st;
        if (done()) {
            st.converged = true;
            return st;
        }
    }
    return st;
}

// ---------------------------------------------------------------------------------------------
struct DcSolver::Impl {
    std::vector<int> pvpq, pos;
    SpMat B;
    SparseLUSolver lu;
    std::vector<Eigen::Triplet<double>> trip;
    std::vector<double> rhs;
};

DcSolver::DcSolver() : impl_(std::make_unique<Impl>()) {}
DcSolver::~DcSolver() = default;

double DcSolver::branch_flow(const BranchY& b, const std::vector<cplx>& V) {
    if (b.f < 0 || b.t < 0) return 0.0;
    const double bb = 1.0 / (series_x(b) * std::abs(b.tap));
    return bb * (std::arg(V[b.f]) - std::arg(V[b.t]) - std::arg(b.tap));
}

void DcSolver::analyze(const MathModel& m) {
    Impl& s = *impl_;
    s.pvpq.clear();
    s.pos.assign(m.n, -1);
    for (int i = 0; i < m.n; ++i)
        if (m.node_type[i] != BusType::Slack) {
            s.pos[i] = int(s.pvpq.size());
            s.pvpq.push_back(i);
        }
    s.trip.clear();
    for (const BranchY& b : m.branches) {
        if (b.f < 0 || b.t < 0) continue;
        const double bb = 1.0 / (series_x(b) * std::abs(b.tap));
        s.trip.emplace_back(b.f, b.f, bb);
        s.trip.emplace_back(b.t, b.t, bb);
        s.trip.emplace_back(b.f, b.t, -bb);
        s.trip.emplace_back(b.t, b.f, -bb);
    }
    s.B = restrict(m.n, s.trip, s.pos, int(s.pvpq.size()));
    if (!s.pvpq.empty()) {
        s.lu.analyze(s.B);
        if (!s.lu.factorize(s.B)) throw SolverError("DC power flow: B is singular");
    }
    s.rhs.assign(s.pvpq.size(), 0.0);
}

SolveStatus DcSolver::solve(const MathModel& m, std::vector<cplx>& V) {
    Impl& s = *impl_;
    // P_spec at |V| = 1 (shunt conductance included as MATPOWER's Gs), minus the phase-shifter
    // injections and the coupling to the fixed slack angles.
    std::vector<double> theta(m.n, 0.0);
    for (int i = 0; i < m.n; ++i) theta[i] = m.node_type[i] == BusType::Slack ? std::arg(m.v_set[i]) : 0.0;
    std::fill(s.rhs.begin(), s.rhs.end(), 0.0);
    for (int i : s.pvpq) s.rhs[s.pos[i]] = (m.s_p[i] + m.s_i[i] + m.s_z[i]).real();
    for (const BranchY& b : m.branches) {
        if (b.f < 0 || b.t < 0) continue;
        const double bb = 1.0 / (series_x(b) * std::abs(b.tap));
        const double pfinj = -bb * std::arg(b.tap);  // flow from f to t at zero angles
        if (s.pos[b.f] >= 0) s.rhs[s.pos[b.f]] -= pfinj;
        if (s.pos[b.t] >= 0) s.rhs[s.pos[b.t]] += pfinj;
        // slack coupling
        if (s.pos[b.f] >= 0 && s.pos[b.t] < 0) s.rhs[s.pos[b.f]] += bb * theta[b.t];
        if (s.pos[b.t] >= 0 && s.pos[b.f] < 0) s.rhs[s.pos[b.t]] += bb * theta[b.f];
    }
    if (!s.pvpq.empty()) s.lu.solve(s.rhs.data(), int(s.rhs.size()));
    for (int i : s.pvpq) theta[i] = s.rhs[s.pos[i]];
    V.resize(m.n);
    for (int i = 0; i < m.n; ++i) V[i] = std::polar(1.0, theta[i]);
    SolveStatus st;
    st.converged = true;
    st.iterations = 1;
    for (double x : theta) st.converged = st.converged && std::isfinite(x);
    return st;
}

}  // namespace libgrid
