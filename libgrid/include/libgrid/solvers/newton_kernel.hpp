// libgrid layer 4: the Newton-Raphson kernel, templated on the symmetry and the linear solver.
//
// Polar form, after MATPOWER's newtonpf:
//   F(x) = [ Re(mis(pvpq)) ; Im(mis(pq)) ],  mis = V .* conj(Ybus V) - Sbus(|V|)
//   J    = [ Re(dS_dVa(pvpq,pvpq))  Re(dS_dVm(pvpq,pq)) ;
//            Im(dS_dVa(pq,pvpq))    Im(dS_dVm(pq,pq))   ]
//   dS_dVm = diag(V) conj(Ybus diag(V/|V|)) + conj(diag(Ibus)) diag(V/|V|) - dSbus_dVm
//   dS_dVa = j diag(V) conj(diag(Ibus) - Ybus diag(V))
//
// The Jacobian's sparsity pattern is built once from Ybus's: every Ybus non-zero k = (i, j) knows
// the (up to four) positions of J it feeds, so an iteration fills J's value array in one pass over
// Ybus and refactorises with the symbolic analysis done once.
//
// Droop islands (docs/microgrid.md): every node is PQ; the island's reference node keeps its P
// and Q rows but its angle column is replaced by the island's frequency deviation df (Hz), whose
// column holds d mis_P_i / d df = kp_i at the nodes of the island's forming sources (the pattern
// is fixed per model, so the symbolic analysis stays once per topology). Forming sources inject
// p0 - kp df and q0 - kq (|V| - v_set); at a limit they are fixed there (like PV -> PQ) and
// released when the droop brings them back inside, checked after each converged solve.
//
// The members are defined here, out of the class, and instantiated once, in solvers/newton.cpp,
// for symmetric_t with SparseLUSolver and KluSolver (extern template below): including this header
// compiles none of it again. asymmetric_t (3x3 blocks) comes with three-phase.
#pragma once

#include <libgrid/core/symmetry.hpp>
#include <libgrid/solvers/linear_solver.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

namespace libgrid {

namespace detail {
using NRClock = std::chrono::steady_clock;
inline double nr_seconds_since(NRClock::time_point t0) {
    return std::chrono::duration<double>(NRClock::now() - t0).count();
}
}  // namespace detail

template <symmetry_tag Sym, class LinearSolver>
class NewtonRaphsonKernel {
    static_assert(is_symmetric_v<Sym>, "NewtonRaphsonKernel: only symmetric_t is implemented yet");

public:
    /// Index sets (pv, pq), Jacobian pattern and the linear solver's symbolic analysis.
    void analyze(const MathModel& m);
    /// Order J by AMD on the bus graph (block_ordering) instead of the linear solver's own ordering
    /// (KLU: BTF + AMD on J). Off by default: the analysis is about 7x cheaper on case2869pegase,
    /// but another elimination order changes NR's results in the last digits, and at a tolerance
    /// near the rounding floor (1e-12 p.u. on the PGM grids with a source impedance) NR then
    /// stagnates there by another path (docs/solvers_internals.md). Takes effect at analyze().
    void use_bus_graph_ordering(bool on) { bus_graph_ordering_ = on; }
    /// V: node voltages, in/out (warm start). Never throws on non-convergence.
    SolveStatus solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter, NRTimings* t);

    /// Per island of the model: the frequency deviation (Hz) of the last solve (0 where not a droop
    /// island); read at analyze() from m.island_df_hz, then warm-started from the last solve.
    const std::vector<double>& island_df_hz() const { return df_; }
    void set_island_df_hz(const std::vector<double>& df) {
        std::copy_n(df.begin(), std::min(df.size(), df_.size()), df_.begin());
    }
    /// Per island: 1 when the last solve found all its forming sources at a P limit (it cannot be held).
    const std::vector<char>& island_collapsed() const { return collapsed_; }
    /// Per forming source: +1 held at p_max, -1 at p_min, 0 on its droop (last solve); likewise for Q.
    const std::vector<signed char>& forming_p_limit() const { return p_lim_; }
    const std::vector<signed char>& forming_q_limit() const { return q_lim_; }
    void reset_forming_limits() {
        std::fill(p_lim_.begin(), p_lim_.end(), static_cast<signed char>(0));
        std::fill(q_lim_.begin(), q_lim_.end(), static_cast<signed char>(0));
    }

private:
    void build_jacobian_pattern(const MathModel& m);
    /// J's fill-reducing ordering: AMD on the n x n bus graph (Ybus's pattern), each node's angle
    /// then magnitude unknown in that order; empty when AMD is not available.
    std::vector<int> block_ordering(const MathModel& m) const;
    /// Ibus = Ybus V and the mismatch vector; returns max |F|.
    double mismatch(const MathModel& m, const std::vector<cplx>& V);
    void jacobian(const MathModel& m, const std::vector<cplx>& V);

    int n = 0, npvpq = 0, npq = 0, dim = 0;
    std::vector<int> pvpq, pq;       // node lists, ascending
    std::vector<int> pos_a, pos_m;   // node -> row of its angle / magnitude unknown, or -1
    SpMat J;
    // Per Ybus non-zero: offsets into J.valuePtr() of J11, J21 (column pos_a[j]) and J12, J22
    // (column pos_m[j]); -1 where absent.
    std::vector<int> k11, k21, k12, k22;
    std::vector<int> ybus_col;        // column of each Ybus non-zero
    std::vector<double> F, dx, Vm, Va;
    std::vector<cplx> I, Vn;
    LinearSolver ls;
    // Droop islands.
    std::vector<int> droop_ref;          // per island: its reference node (the df column), -1 if not droop
    std::vector<int> fk_node;            // per forming source: its node if in a droop island, else -1
    std::vector<int> kdf, kqq;           // per forming source: J offsets of (P row, df column), (Q row, |V| column)
    std::vector<int> fw_node, kfw;       // per sgen: its node if under frequency-watt, else -1; J offset (P row, df column)
    std::vector<double> df_, ref_va;     // per island: df (Hz), reference angle
    std::vector<char> collapsed_;
    std::vector<signed char> p_lim_, q_lim_;
    bool droop = false;
    double forming_p(const MathModel& m, int k) const;
    double forming_q(const MathModel& m, int k) const;
    /// Frequency-watt of sgen k at the island's df: its P (p.u.) and dP/d df (<= 0).
    double fw_p(const MathModel& m, int k, double* dp_ddf) const;
    /// After a converged solve: fix violators at their limits, release those the droop brings back
    /// inside. Returns true if anything changed; marks islands whose sources are all P-fixed.
    bool forming_limits(const MathModel& m);
    bool analyzed = false;
    bool bus_graph_ordering_ = false;
};

template <symmetry_tag Sym, class LinearSolver>
void NewtonRaphsonKernel<Sym, LinearSolver>::analyze(const MathModel& m) {
    n = m.n;
    pvpq.clear();
    pq.clear();
    for (int i = 0; i < n; ++i) {
        if (m.node_type[i] == BusType::Slack) continue;
        pvpq.push_back(i);
        if (m.node_type[i] == BusType::PQ) pq.push_back(i);
    }
    npvpq = int(pvpq.size());
    npq = int(pq.size());
    dim = npvpq + npq;
    pos_a.assign(n, -1);
    pos_m.assign(n, -1);
    for (int r = 0; r < npvpq; ++r) pos_a[pvpq[r]] = r;
    for (int r = 0; r < npq; ++r) pos_m[pq[r]] = npvpq + r;

    droop = m.has_droop();
    droop_ref.assign(m.n_islands, -1);
    fk_node.assign(m.forming_node.size(), -1);
    fw_node.assign(m.sgen_fw_node.size(), -1);
    if (droop) {
        fw_node = m.sgen_fw_node;
        for (int is = 0; is < m.n_islands; ++is)
            if (m.island_droop[is]) droop_ref[is] = m.island_slack[is];
        for (std::size_t k = 0; k < m.forming_node.size(); ++k) {
            const int i = m.forming_node[k];
            if (i >= 0 && m.island_droop[m.node_island[i]]) fk_node[k] = i;
        }
    }
    df_.assign(m.n_islands, 0.0);
    for (int is = 0; is < m.n_islands && is < int(m.island_df_hz.size()); ++is)
        if (droop_ref[is] >= 0) df_[is] = m.island_df_hz[is];
    ref_va.assign(m.n_islands, 0.0);
    collapsed_.assign(m.n_islands, 0);
    p_lim_.assign(m.forming_node.size(), 0);
    q_lim_.assign(m.forming_node.size(), 0);

    build_jacobian_pattern(m);
    F.assign(dim, 0.0);
    dx.assign(dim, 0.0);
    Vm.assign(n, 0.0);
    Va.assign(n, 0.0);
    I.assign(n, 0.0);
    Vn.assign(n, 0.0);
    if (dim > 0) {
        if (bus_graph_ordering_) ls.analyze(J, block_ordering(m));
        else ls.analyze(J);
    }
    analyzed = true;
}

template <symmetry_tag Sym, class LinearSolver>
void NewtonRaphsonKernel<Sym, LinearSolver>::build_jacobian_pattern(const MathModel& m) {
    // Pattern, column by column. J's column pos_a[j] takes rows pos_a[i] then pos_m[i] for the
    // non-zeros (i, j) of Ybus; both runs ascend with i, and all pos_a < all pos_m.
    const SpMat::StorageIndex* yo = m.Ybus.outerIndexPtr();
    const SpMat::StorageIndex* yi = m.Ybus.innerIndexPtr();
    const int nnzY = int(m.Ybus.nonZeros());
    k11.assign(nnzY, -1);
    k21.assign(nnzY, -1);
    k12.assign(nnzY, -1);
    k22.assign(nnzY, -1);
    ybus_col.assign(nnzY, 0);
    for (int j = 0; j < n; ++j)
        for (int k = yo[j]; k < yo[j + 1]; ++k) ybus_col[k] = j;
    std::vector<int> col_of(dim, -1);  // J column -> node
    for (int i = 0; i < n; ++i) {
        if (pos_a[i] >= 0) col_of[pos_a[i]] = i;
        if (pos_m[i] >= 0) col_of[pos_m[i]] = i;
    }
    // Droop islands: the reference node's angle column is the df column, whose rows are the P rows
    // of the island's forming nodes (distinct, ascending).
    std::vector<int> df_island(dim, -1);         // J column -> island, for df columns
    std::vector<std::vector<int>> df_rows;       // per island: nodes of its forming sources
    if (droop) {
        df_rows.resize(m.n_islands);
        for (int is = 0; is < m.n_islands; ++is)
            if (droop_ref[is] >= 0) df_island[pos_a[droop_ref[is]]] = is;
        for (int i : fk_node)
            if (i >= 0) df_rows[m.node_island[i]].push_back(i);
        for (int i : fw_node)
            if (i >= 0) df_rows[m.node_island[i]].push_back(i);
        for (auto& r : df_rows) {
            std::sort(r.begin(), r.end());
            r.erase(std::unique(r.begin(), r.end()), r.end());
        }
    }
    // Counts per column first, then the rows straight into J's own arrays (no staging copies).
    J.resize(dim, dim);
    int* outer = J.outerIndexPtr();
    outer[0] = 0;
    for (int c = 0; c < dim; ++c) {
        const int j = col_of[c];
        int cnt = 0;
        if (droop && df_island[c] >= 0) cnt = int(df_rows[df_island[c]].size());
        else
            for (int k = yo[j]; k < yo[j + 1]; ++k) cnt += (pos_a[yi[k]] >= 0) + (pos_m[yi[k]] >= 0);
        outer[c + 1] = outer[c] + cnt;
    }
    J.resizeNonZeros(outer[dim]);
    int* inner = J.innerIndexPtr();
    for (int c = 0; c < dim; ++c) {
        const int j = col_of[c];
        const bool angle_col = c < npvpq;
        int off = outer[c];
        if (droop && df_island[c] >= 0) {  // the df column (Ybus entries of this column feed no J entry)
            for (int i : df_rows[df_island[c]]) inner[off++] = pos_a[i];
            continue;
        }
        for (int pass = 0; pass < 2; ++pass)
            for (int k = yo[j]; k < yo[j + 1]; ++k) {
                const int r = pass == 0 ? pos_a[yi[k]] : pos_m[yi[k]];
                if (r < 0) continue;
                inner[off] = r;
                if (angle_col) (pass == 0 ? k11 : k21)[k] = off;
                else (pass == 0 ? k12 : k22)[k] = off;
                ++off;
            }
    }
    if (droop) {  // J offsets of each droop source's df entry and |V| diagonal
        kdf.assign(fk_node.size(), -1);
        kqq.assign(fk_node.size(), -1);
        for (std::size_t f = 0; f < fk_node.size(); ++f) {
            const int i = fk_node[f];
            if (i < 0) continue;
            const int c = pos_a[droop_ref[m.node_island[i]]];
            for (int k = outer[c]; k < outer[c + 1]; ++k)
                if (inner[k] == pos_a[i]) kdf[f] = k;
            for (int k = yo[i]; k < yo[i + 1]; ++k)
                if (yi[k] == i) kqq[f] = k22[k];
        }
        kfw.assign(fw_node.size(), -1);
        for (std::size_t g = 0; g < fw_node.size(); ++g) {
            const int i = fw_node[g];
            if (i < 0) continue;
            const int c = pos_a[droop_ref[m.node_island[i]]];
            for (int k = outer[c]; k < outer[c + 1]; ++k)
                if (inner[k] == pos_a[i]) kfw[g] = k;
        }
    }
    std::fill(J.valuePtr(), J.valuePtr() + outer[dim], 1.0);
    // A well-conditioned stand-in for the symbolic step: the pattern is all that is used.
    for (int c = 0; c < dim; ++c)
        for (int k = outer[c]; k < outer[c + 1]; ++k)
            if (inner[k] == c) J.valuePtr()[k] = 4.0 * (outer[c + 1] - outer[c]);
}

template <symmetry_tag Sym, class LinearSolver>
std::vector<int> NewtonRaphsonKernel<Sym, LinearSolver>::block_ordering(const MathModel& m) const {
    std::vector<int> order = amd_ordering(n, m.Ybus.outerIndexPtr(), m.Ybus.innerIndexPtr());
    if (order.empty()) return order;
    int r = 0;
    std::vector<int> out(dim);
    for (int i : order) {
        if (pos_a[i] >= 0) out[r++] = pos_a[i];
        if (pos_m[i] >= 0) out[r++] = pos_m[i];
    }
    return out;
}

template <symmetry_tag Sym, class LinearSolver>
double NewtonRaphsonKernel<Sym, LinearSolver>::mismatch(const MathModel& m, const std::vector<cplx>& V) {
    const int* yo = m.Ybus.outerIndexPtr();
    const int* yi = m.Ybus.innerIndexPtr();
    const cplx* yv = m.Ybus.valuePtr();
    std::fill(I.begin(), I.end(), cplx(0.0, 0.0));
    for (int j = 0; j < n; ++j) {
        const cplx vj = V[j];
        for (int k = yo[j]; k < yo[j + 1]; ++k) I[yi[k]] += yv[k] * vj;
    }
    double norm = 0.0;
    for (int i = 0; i < n; ++i) {
        const int ra = pos_a[i];
        if (ra < 0) continue;
        const cplx mis = V[i] * std::conj(I[i]) - specified_injection(m, i, Vm[i]);
        F[ra] = mis.real();
        norm = std::max(norm, std::abs(mis.real()));
        const int rm = pos_m[i];
        if (rm >= 0) {
            F[rm] = mis.imag();
            norm = std::max(norm, std::abs(mis.imag()));
        }
    }
    if (droop) {
        for (std::size_t k = 0; k < fk_node.size(); ++k) {
            const int i = fk_node[k];
            if (i < 0) continue;
            F[pos_a[i]] -= forming_p(m, int(k));
            F[pos_m[i]] -= forming_q(m, int(k));
        }
        for (std::size_t g = 0; g < fw_node.size(); ++g) {
            const int i = fw_node[g];
            if (i >= 0) F[pos_a[i]] -= fw_p(m, int(g), nullptr) - m.sgen_fw[g].p_avail;  // s_p holds p_avail
        }
        norm = 0.0;
        for (int r = 0; r < dim; ++r) norm = std::max(norm, std::abs(F[r]));
    }
    return norm;
}

template <symmetry_tag Sym, class LinearSolver>
double NewtonRaphsonKernel<Sym, LinearSolver>::forming_p(const MathModel& m, int k) const {
    const MathModel::FormingPu& u = m.forming_pu[k];
    if (p_lim_[k] > 0) return u.p_max;
    if (p_lim_[k] < 0) return u.p_min;
    return u.p0 - u.kp * df_[m.node_island[fk_node[k]]];
}

template <symmetry_tag Sym, class LinearSolver>
double NewtonRaphsonKernel<Sym, LinearSolver>::forming_q(const MathModel& m, int k) const {
    const MathModel::FormingPu& u = m.forming_pu[k];
    if (q_lim_[k] > 0) return u.q_max;
    if (q_lim_[k] < 0) return u.q_min;
    return u.q0 - u.kq * (Vm[fk_node[k]] - u.v_set);
}

template <symmetry_tag Sym, class LinearSolver>
double NewtonRaphsonKernel<Sym, LinearSolver>::fw_p(const MathModel& m, int k, double* dp_ddf) const {
    const MathModel::FwPu& u = m.sgen_fw[k];
    if (dp_ddf) *dp_ddf = 0.0;
    if (!(u.p_avail > 0)) return u.p_avail;
    const double p = u.p_avail - u.slope * (df_[m.node_island[fw_node[k]]] - u.db);
    if (p >= u.p_avail) return u.p_avail;
    if (p <= 0.0) return 0.0;
    if (dp_ddf) *dp_ddf = -u.slope;
    return p;
}

template <symmetry_tag Sym, class LinearSolver>
bool NewtonRaphsonKernel<Sym, LinearSolver>::forming_limits(const MathModel& m) {
    constexpr double eps = 1e-9;  // p.u.: a source counts as outside its limit beyond this
    bool changed = false;
    for (std::size_t k = 0; k < fk_node.size(); ++k) {
        const int i = fk_node[k];
        if (i < 0) continue;
        const MathModel::FormingPu& u = m.forming_pu[k];
        const double p = u.p0 - u.kp * df_[m.node_island[i]];
        const signed char pl = p > u.p_max + eps ? 1 : p < u.p_min - eps ? -1 : 0;
        // A held source is released only once its droop lies inside the limits.
        if (pl != p_lim_[k] && (pl != 0 || p_lim_[k] == 0 || (p_lim_[k] > 0 ? p < u.p_max - eps : p > u.p_min + eps))) {
            p_lim_[k] = pl;
            changed = true;
        }
        const double q = u.q0 - u.kq * (Vm[i] - u.v_set);
        const signed char ql = q > u.q_max + eps ? 1 : q < u.q_min - eps ? -1 : 0;
        if (ql != q_lim_[k] && (ql != 0 || q_lim_[k] == 0 || (q_lim_[k] > 0 ? q < u.q_max - eps : q > u.q_min + eps))) {
            q_lim_[k] = ql;
            changed = true;
        }
    }
    // An island whose every source is held at a P limit has nothing left to balance it.
    std::vector<char>& free_p = collapsed_;  // reused: 1 = has a free source, then inverted
    std::fill(free_p.begin(), free_p.end(), 0);
    for (std::size_t k = 0; k < fk_node.size(); ++k)
        if (fk_node[k] >= 0 && p_lim_[k] == 0) free_p[m.node_island[fk_node[k]]] = 1;
    // Frequency-watt PV can balance a surplus when every source is held at its lower (charging)
    // limit; not a deficit (it is at its available power then).
    for (std::size_t g = 0; g < fw_node.size(); ++g) {
        const int i = fw_node[g];
        if (i < 0 || !(m.sgen_fw[g].p_avail > 0)) continue;
        bool deficit = false;
        for (std::size_t k = 0; k < fk_node.size(); ++k)
            deficit = deficit || (fk_node[k] >= 0 && m.node_island[fk_node[k]] == m.node_island[i] && p_lim_[k] > 0);
        if (!deficit) free_p[m.node_island[i]] = 1;
    }
    for (int is = 0; is < m.n_islands; ++is) collapsed_[is] = droop_ref[is] >= 0 && !free_p[is];
    return changed;
}

template <symmetry_tag Sym, class LinearSolver>
void NewtonRaphsonKernel<Sym, LinearSolver>::jacobian(const MathModel& m, const std::vector<cplx>& V) {
    const int* yi = m.Ybus.innerIndexPtr();
    const cplx* yv = m.Ybus.valuePtr();
    double* jv = J.valuePtr();
    const int nnzY = int(m.Ybus.nonZeros());
    for (int i = 0; i < n; ++i) Vn[i] = V[i] / Vm[i];
    for (int k = 0; k < nnzY; ++k) {
        const int i = yi[k], j = ybus_col[k];
        const cplx y = yv[k];
        const cplx Vi = V[i];
        cplx dVa = cplx(0.0, -1.0) * Vi * std::conj(y * V[j]);
        cplx dVm = Vi * std::conj(y * Vn[j]);
        if (i == j) {
            dVa += cplx(0.0, 1.0) * Vi * std::conj(I[i]);
            dVm += std::conj(I[i]) * Vn[i] - (m.s_i[i] + 2.0 * m.s_z[i] * Vm[i]);
        }
        if (k11[k] >= 0) jv[k11[k]] = dVa.real();
        if (k21[k] >= 0) jv[k21[k]] = dVa.imag();
        if (k12[k] >= 0) jv[k12[k]] = dVm.real();
        if (k22[k] >= 0) jv[k22[k]] = dVm.imag();
    }
    if (droop) {
        for (int is = 0; is < m.n_islands; ++is) {
            if (droop_ref[is] < 0) continue;
            const int c = pos_a[droop_ref[is]];
            std::fill(jv + J.outerIndexPtr()[c], jv + J.outerIndexPtr()[c + 1], 0.0);
        }
        for (std::size_t k = 0; k < fk_node.size(); ++k) {
            if (fk_node[k] < 0) continue;
            const MathModel::FormingPu& u = m.forming_pu[k];
            if (p_lim_[k] == 0) jv[kdf[k]] += u.kp;  // mis_P = ... - (p0 - kp df)
            if (q_lim_[k] == 0) jv[kqq[k]] += u.kq;  // mis_Q = ... - (q0 - kq (|V| - v_set))
        }
        for (std::size_t g = 0; g < fw_node.size(); ++g) {
            if (fw_node[g] < 0) continue;
            double dp = 0.0;
            fw_p(m, int(g), &dp);
            jv[kfw[g]] -= dp;  // mis_P = ... - P_fw(df)
        }
    }
}

template <symmetry_tag Sym, class LinearSolver>
SolveStatus NewtonRaphsonKernel<Sym, LinearSolver>::solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter, NRTimings* t) {
    if (!analyzed) analyze(m);
    SolveStatus st;
    for (int i = 0; i < n; ++i) {
        Vm[i] = std::abs(V[i]);
        Va[i] = std::arg(V[i]);
    }
    if (droop) {
        for (int is = 0; is < m.n_islands; ++is)
            if (droop_ref[is] >= 0) ref_va[is] = Va[droop_ref[is]];
        std::fill(collapsed_.begin(), collapsed_.end(), 0);
        // Limit states carry over from the last solve (warm start), except at a limit that is no
        // longer finite (the caller lifted it).
        for (std::size_t k = 0; k < fk_node.size(); ++k) {
            if (fk_node[k] < 0) continue;
            const MathModel::FormingPu& u = m.forming_pu[k];
            if (!std::isfinite(p_lim_[k] > 0 ? u.p_max : u.p_min)) p_lim_[k] = 0;
            if (!std::isfinite(q_lim_[k] > 0 ? u.q_max : u.q_min)) q_lim_[k] = 0;
        }
        // An island left with every source held (it collapsed last time) starts from the droop again.
        for (std::size_t k = 0; k < fk_node.size(); ++k)
            if (fk_node[k] >= 0 && p_lim_[k] == 0) collapsed_[m.node_island[fk_node[k]]] = 1;  // 1 = has a free source
        for (std::size_t k = 0; k < fk_node.size(); ++k)
            if (fk_node[k] >= 0 && !collapsed_[m.node_island[fk_node[k]]]) p_lim_[k] = 0;
        std::fill(collapsed_.begin(), collapsed_.end(), 0);
    }
    // Limit rounds of the forming sources (each a converged solve); every change is a switch
    // between two of three states, so a few rounds per source bound it.
    int limit_rounds = droop ? 2 * int(fk_node.size()) + 2 : 0;
    auto t0 = detail::NRClock::now();
    double norm = mismatch(m, V);
    if (t) t->mismatch_s += detail::nr_seconds_since(t0);
    st.max_mismatch = norm;
    if (!std::isfinite(norm)) return st;
    // Converged: done, unless a forming source's limit state changes (then iterate on).
    auto settled = [&]() {
        if (!droop) return true;
        while (true) {
            if (!forming_limits(m)) return true;
            if (std::any_of(collapsed_.begin(), collapsed_.end(), [](char c) { return c != 0; })) return true;
            if (limit_rounds-- <= 0) return true;
            norm = mismatch(m, V);
            st.max_mismatch = norm;
            if (!(norm < tol)) return false;
        }
    };
    if (norm < tol && settled()) {
        st.converged = !std::any_of(collapsed_.begin(), collapsed_.end(), [](char c) { return c != 0; });
        return st;
    }
    for (int it = 1; it <= max_iter; ++it) {
        t0 = detail::NRClock::now();
        jacobian(m, V);
        if (t) t->jacobian_s += detail::nr_seconds_since(t0);
        t0 = detail::NRClock::now();
        const bool ok = ls.factorize(J);
        if (t) t->factorize_s += detail::nr_seconds_since(t0);
        if (!ok) {
            st.iterations = it;
            return st;  // singular Jacobian: not converged
        }
        t0 = detail::NRClock::now();
        for (int r = 0; r < dim; ++r) dx[r] = -F[r];
        ls.solve(dx.data(), dim);
        if (t) t->solve_s += detail::nr_seconds_since(t0);
        t0 = detail::NRClock::now();
        for (int r = 0; r < npvpq; ++r) Va[pvpq[r]] += dx[r];
        for (int r = 0; r < npq; ++r) Vm[pq[r]] += dx[npvpq + r];
        if (droop)
            for (int is = 0; is < m.n_islands; ++is)
                if (droop_ref[is] >= 0) {
                    df_[is] += dx[pos_a[droop_ref[is]]];
                    Va[droop_ref[is]] = ref_va[is];
                }
        for (int i : pvpq) V[i] = std::polar(Vm[i], Va[i]);
        norm = mismatch(m, V);
        if (t) {
            t->mismatch_s += detail::nr_seconds_since(t0);
            t->iterations++;
        }
        st.iterations = it;
        st.max_mismatch = norm;
        if (!std::isfinite(norm)) return st;
        if (norm < tol && settled()) {
            st.converged = !std::any_of(collapsed_.begin(), collapsed_.end(), [](char c) { return c != 0; });
            return st;
        }
    }
    return st;
}

extern template class NewtonRaphsonKernel<symmetric_t, SparseLUSolver>;
extern template class NewtonRaphsonKernel<symmetric_t, KluSolver>;

}  // namespace libgrid
