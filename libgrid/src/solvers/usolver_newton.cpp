// libgrid solvers: unbalanced Newton-Raphson on the current mismatch in rectangular coordinates,
//   F(V) = Y V - i_source - I_comp(V) = 0,
// as a real 2n system (node i: column 2i the real part of V_i, 2i+1 its imaginary part; row 2i the
// imaginary part of F_i, 2i+1 its real part), so Y's pattern in 2x2 blocks. I_comp(V) = yprim_load V - I_load(V), so the Jacobian is Y less the loads' yprims
// (constant, as Y's blocks) plus the derivatives of I_load(v) at the four blocks of each phase
// element's two nodes. Symbolic analysis once, a numeric
// (re)factorisation per iteration (KLU).
#include "usolver_detail.hpp"

#include <libgrid/core/errors.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <utility>

namespace libgrid::udetail {

namespace {
const char* const kWhat = "unbalanced Newton-Raphson";

/// Position of (row, col) in a compressed column-major matrix with sorted rows; -1 when absent.
int find_pos(const SpMat& A, int row, int col) {
    const int* inner = A.innerIndexPtr();
    const int* b = inner + A.outerIndexPtr()[col];
    const int* e = inner + A.outerIndexPtr()[col + 1];
    const int* p = std::lower_bound(b, e, row);
    return p != e && *p == row ? int(p - inner) : -1;
}
}  // namespace

NewtonUSolver::NewtonUSolver(const UMathModel& m) : m_(m), inv_vbase_(inverse_vbase(m)) {
    const int n = m.n_nodes;
    if (n <= 0) throw SolverError(std::string(kWhat) + ": the model has no node");
    if (m.Y.rows() != n || m.Y.cols() != n || int(m.i_source.size()) != n)
        throw SolverError(std::string(kWhat) + ": Y and i_source do not match the " + std::to_string(n) + " nodes");
    if (!m.Y.isCompressed()) throw SolverError(std::string(kWhat) + ": Y must be in compressed form (makeCompressed)");
    build_pattern();
    fill_y_values();
    // AMD on Y's pattern (n nodes), each node's two unknowns kept together: a fill-reducing order
    // of the 2x2 block structure, cheaper to find and better than one on the 2n pattern.
    std::vector<int> order;
    const std::vector<int> node_order = amd_ordering(n, m.Y.outerIndexPtr(), m.Y.innerIndexPtr());
    for (int k : node_order) {
        order.push_back(2 * k);
        order.push_back(2 * k + 1);
    }
    lu_.analyze(J_, order);
    std::copy(jy_.begin(), jy_.end(), J_.valuePtr());
    // The loads' blocks aside, J is Y in real form: singular exactly when Y is.
    if (!lu_.factorize(J_))
        throw SolverError(std::string(kWhat) +
                          ": the admittance matrix Y is singular (a node with no path to the source or to ground, or a floating winding)");
    f_.assign(std::size_t(2 * n), 0.0);
}

void NewtonUSolver::build_pattern() {
    const int n = m_.n_nodes;
    std::vector<Eigen::Triplet<double, int>> t;
    auto block = [&t](int i, int j) {
        for (int r = 0; r < 2; ++r)
            for (int c = 0; c < 2; ++c) t.emplace_back(2 * i + r, 2 * j + c, 0.0);
    };
    for (int j = 0; j < n; ++j)
        for (Eigen::SparseMatrix<cplx>::InnerIterator it(m_.Y, j); it; ++it) block(int(it.row()), j);
    for (const UMathLoad& ld : m_.loads)
        for (int k = 0; k < ld.nphases; ++k) {
            if (ld.a[k] >= 0) block(ld.a[k], ld.a[k]);
            if (ld.b[k] >= 0) block(ld.b[k], ld.b[k]);
            if (ld.a[k] >= 0 && ld.b[k] >= 0) {
                block(ld.a[k], ld.b[k]);
                block(ld.b[k], ld.a[k]);
            }
        }
    J_.resize(2 * n, 2 * n);
    J_.setFromTriplets(t.begin(), t.end());  // duplicates summed: zeros stay zeros
    J_.makeCompressed();
    // Each 2x2 block: the positions of its (0,0) in column 2j and of its (0,1) in column 2j+1
    // (the (1,c) entries follow them: rows are sorted).
    y_pos_.clear();
    for (int j = 0; j < n; ++j)
        for (Eigen::SparseMatrix<cplx>::InnerIterator it(m_.Y, j); it; ++it) {
            y_pos_.push_back(find_pos(J_, 2 * int(it.row()), 2 * j));
            y_pos_.push_back(find_pos(J_, 2 * int(it.row()), 2 * j + 1));
        }
    load_pos_.clear();
    for (const UMathLoad& ld : m_.loads)
        for (int k = 0; k < ld.nphases; ++k) {
            const int nodes[2] = {ld.a[k], ld.b[k]};
            for (int r = 0; r < 2; ++r)
                for (int c = 0; c < 2; ++c) {
                    const bool ok = nodes[r] >= 0 && nodes[c] >= 0;
                    load_pos_.push_back(ok ? find_pos(J_, 2 * nodes[r], 2 * nodes[c]) : -1);
                    load_pos_.push_back(ok ? find_pos(J_, 2 * nodes[r], 2 * nodes[c] + 1) : -1);
                }
        }
    lyp_pos_.clear();
    for (const UMathLoad& ld : m_.loads) {
        const UMathElement& e = m_.elements[std::size_t(ld.element)];
        for (int c : e.node)
            for (int r : e.node) {
                const bool ok = r >= 0 && c >= 0;
                lyp_pos_.push_back(ok ? find_pos(J_, 2 * r, 2 * c) : -1);
                lyp_pos_.push_back(ok ? find_pos(J_, 2 * r, 2 * c + 1) : -1);
            }
    }
    jy_.assign(std::size_t(J_.nonZeros()), 0.0);
}

namespace {
/// J's 2x2 block at p0 (column 2j) and p1 (column 2j+1) += s * [[Im p, Im q], [Re p, Re q]] for
/// p = dF/d vr, q = dF/d vi: row 2i is Im F_i, row 2i+1 Re F_i, so that a line's block
/// [[b, g], [g, -b]] has its susceptance on the diagonal (KLU prefers diagonal pivots; with g
/// there, the small pivots of inductive lines cost the solve accuracy).
void add_block(double* J, int p0, int p1, cplx p, cplx q, double s) {
    J[p0] += s * p.imag();
    J[p0 + 1] += s * p.real();
    J[p1] += s * q.imag();
    J[p1 + 1] += s * q.real();
}
constexpr cplx kJ{0.0, 1.0};
/// y v: d/d vr = y, d/d vi = j y
void add_real_form(double* J, int p0, int p1, cplx y, double s) { add_block(J, p0, p1, y, kJ * y, s); }
}  // namespace

void NewtonUSolver::fill_y_values() {
    std::fill(jy_.begin(), jy_.end(), 0.0);
    const cplx* y = m_.Y.valuePtr();
    const int nnz = int(y_pos_.size() / 2);
    if (nnz != int(m_.Y.nonZeros())) throw SolverError(std::string(kWhat) + ": Y's sparsity pattern changed (refactor() needs the same pattern)");
    // row sums of Y, in extended precision (a switch's 1e7 S entries cancel to a shunt's microsiemens)
    std::vector<std::complex<long double>> rs(std::size_t(m_.n_nodes));
    for (int j = 0; j < m_.n_nodes; ++j)
        for (Eigen::SparseMatrix<cplx>::InnerIterator it(m_.Y, j); it; ++it)
            rs[std::size_t(it.row())] += std::complex<long double>(it.value().real(), it.value().imag());
    row_sum_.resize(rs.size());
    for (std::size_t i = 0; i < rs.size(); ++i) row_sum_[i] = cplx(double(rs[i].real()), double(rs[i].imag()));
    for (int k = 0; k < nnz; ++k) add_real_form(jy_.data(), y_pos_[std::size_t(2 * k)], y_pos_[std::size_t(2 * k + 1)], y[k], 1.0);
    // less the loads' yprims: their part of Y is taken out again by the compensation currents
    const int* pos = lyp_pos_.data();
    for (const UMathLoad& ld : m_.loads) {
        const UMathElement& e = m_.elements[std::size_t(ld.element)];
        const int nc = int(e.node.size());
        for (int c = 0; c < nc; ++c)
            for (int r = 0; r < nc; ++r, pos += 2)
                if (pos[0] >= 0) add_real_form(jy_.data(), pos[0], pos[1], e.yprim(r, c), -1.0);
    }
}

void NewtonUSolver::refactor() {
    fill_y_values();
    std::copy(jy_.begin(), jy_.end(), J_.valuePtr());
    if (!lu_.factorize(J_)) throw SolverError(std::string(kWhat) + ": the admittance matrix Y is singular after the update");
}

void NewtonUSolver::residual(const std::vector<cplx>& v) {
    // f_ holds -F(v) = i_source + I_comp(v) - Y v, the Newton right-hand side
    cplx* r = reinterpret_cast<cplx*>(f_.data());
    const int n = m_.n_nodes;
    std::copy(m_.i_source.begin(), m_.i_source.end(), r);
    add_compensation(m_, v.data(), r);
    // (Y v)_i = rowsum_i v_i + sum_j Y_ij (v_j - v_i): a switch of 1e7 S makes Y_ij v_j terms of
    // 1e10 A that cancel to a few amperes; the differences keep the residual's rounding at the
    // size of the currents, not of those terms (else Newton stalls at ~1e-8 p.u. on IEEE 13).
    for (int i = 0; i < n; ++i) r[i] -= row_sum_[std::size_t(i)] * v[std::size_t(i)];
    for (int j = 0; j < n; ++j)
        for (Eigen::SparseMatrix<cplx>::InnerIterator it(m_.Y, j); it; ++it)
            r[it.row()] -= it.value() * (v[std::size_t(j)] - v[std::size_t(it.row())]);
    for (int i = 0; i < n; ++i) std::swap(f_[std::size_t(2 * i)], f_[std::size_t(2 * i + 1)]);  // rows: Im, then Re
}

void NewtonUSolver::jacobian(const std::vector<cplx>& v) {
    double* J = J_.valuePtr();
    std::copy(jy_.begin(), jy_.end(), J);
    const int* pos = load_pos_.data();
    for (const UMathLoad& ld : m_.loads)
        for (int k = 0; k < ld.nphases; ++k, pos += 8) {
            const int a = ld.a[k], b = ld.b[k];
            const cplx vk = (a >= 0 ? v[std::size_t(a)] : cplx(0.0)) - (b >= 0 ? v[std::size_t(b)] : cplx(0.0));
            const ULoadCurrentJac d = load_phase_current_jac(ld, vk);
            // F_a gains I(v), F_b its negative; v = V_a - V_b
            const cplx p = d.di_dvr, q = d.di_dvi;
            for (int blk = 0; blk < 4; ++blk)
                if (pos[2 * blk] >= 0) add_block(J, pos[2 * blk], pos[2 * blk + 1], p, q, (blk == 0 || blk == 3) ? 1.0 : -1.0);  // aa, bb: +; ab, ba: -
        }
}

USolveStats NewtonUSolver::solve(std::vector<cplx>& v, const USolveOptions& opt) {
    using clock = std::chrono::steady_clock;
    const int n = m_.n_nodes;
    if (int(v.size()) != n) throw SolverError(std::string(kWhat) + ": the start has " + std::to_string(v.size()) + " voltages for " + std::to_string(n) + " nodes");
    USolveStats st;
    const cplx* dx = reinterpret_cast<const cplx*>(f_.data());
    for (int it = 1; it <= opt.max_iterations; ++it) {
        residual(v);
        jacobian(v);
        const auto t0 = clock::now();
        const bool ok = lu_.factorize(J_);
        st.factor_seconds += std::chrono::duration<double>(clock::now() - t0).count();
        if (!ok) break;  // a singular Jacobian on the way (voltage collapse): not converged
        lu_.solve(f_.data(), 2 * n);
        double worst = 0.0;
        for (int i = 0; i < n; ++i) {
            v[std::size_t(i)] += dx[i];
            const double d = std::abs(dx[i]) * inv_vbase_[std::size_t(i)];
            if (!(d <= worst)) worst = d;
        }
        // Converged: the step is below the tolerance, or it stopped shrinking within 100 x the
        // tolerance: rounding noise (a floating delta winding held only by OpenDSS's ppm
        // anti-float conductance has a common-mode impedance of ~1e6 ohm, so 1e-12 A of rounding
        // in the residual moves it ~1e-8 p.u.: IEEE 123's 4.16/0.48 kV delta-delta bank).
        const bool stalled = it > 1 && worst >= 0.5 * st.max_dv_pu && worst < 100.0 * opt.tolerance;
        st.max_dv_pu = worst;
        st.iterations = it;
        if (worst < opt.tolerance || stalled) {
            st.converged = true;
            break;
        }
        if (!std::isfinite(worst)) break;
    }
    return st;
}

}  // namespace libgrid::udetail
