// libgrid layer 4: the backward/forward sweep kernel for radial islands (current injection form),
// templated on the symmetry; instantiated for symmetric_t in solvers/sweep.cpp (extern template
// below). SweepSolver (solvers.hpp) is its public face.
//
// Every tree edge joins a parent node p (nearer the slack) and a child c. Its 2x2 block, the sum
// of all branches between p and c (parallel lines and transformers merge exactly), is
//   [I_p]   [Ypp Ypc] [V_p]
//   [I_c] = [Ycp Ycc] [V_c]      (currents INTO the branch at each end)
// Let L_c be the current node c's own elements draw (loads -conj(S/V), shunts, open-ended branches,
// branches with both ends in c) and D_c = L_c + what c feeds into its children's branches. KCL at c
// gives I_c = -D_c, hence
//   forward:  V_c = G_c V_p + H_c D_c,   G_c = -Ycp/Ycc,  H_c = -1/Ycc
//   backward: D_p += A_c V_p + B_c D_c,  A_c = Ypp - Ypc Ycp/Ycc,  B_c = -Ypc/Ycc
// which for a plain series impedance reduces to the textbook V_c = V_p - Z I. Transformers (taps,
// phase shift, magnetising branch) and line charging enter through the same four numbers.
//
// Convergence is checked on the exact power mismatch, the quantity Newton-Raphson tests. After a
// forward sweep every branch carries the current computed with the previous voltages, so the KCL
// residual at c (current out of c into all its branches and elements) is
//   r_c = L_c(V_new) - L_c(V_old) + (sum of A over c's children) (V_c,new - V_c,old)
// and the mismatch V_c conj(r_c) is what V .* conj(Ybus V) - S(|V|) gives at V_new. It costs one
// complex multiply per node, since L_c(V_new) is needed by the next backward sweep anyway.
//
// Layout: nodes renumbered in breadth-first order (all island roots first), every per-node array
// contiguous in that order (structure of arrays), parents before children; no allocation in solve.
#pragma once

#include <libgrid/core/errors.hpp>
#include <libgrid/core/symmetry.hpp>
#include <libgrid/core/thread_pool.hpp>
#include <libgrid/solvers/solvers.hpp>
#include <libgrid/topology/topology.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace libgrid {

template <symmetry_tag Sym>
class SweepKernel {
    static_assert(is_symmetric_v<Sym>, "SweepKernel: only symmetric_t is implemented yet");

public:
    /// BFS order from each island's slack. Throws SolverError if an island is meshed or has PV nodes.
    void analyze(const MathModel& m);
    /// A branch's admittances changed (a tap moved), same ends: updates that tree edge only.
    void update_branch(const BranchY& before, const BranchY& after);
    SolveStatus solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter, SweepNodeHook* hook);
    ThreadPool* pool = nullptr;

private:
    void check_sweepable(const MathModel& m) const;
    std::vector<cplx> node_shunts(const MathModel& m) const;
    std::vector<int> breadth_first_order(const MathModel& m);
    void make_blocks(std::vector<int>& order);
    void sum_edge_blocks(const MathModel& m);
    void set_coefficients(const MathModel& m, const std::vector<int>& order, const std::vector<cplx>& y_node);
    /// Injections and start voltages into breadth-first order; whether any constant-current part.
    bool gather(const MathModel& m, const std::vector<cplx>& Vout);

    int n = 0;        // nodes
    int n_roots = 0;  // positions [0, n_roots) are the islands' slacks
    std::vector<int> node_at;  // position -> node
    std::vector<int> par;      // position -> parent position (unused for roots)
    std::vector<cplx> G, H;    // forward coefficients, per child position
    std::vector<cplx> A, B;    // backward coefficients, per child position
    std::vector<cplx> A_sum;   // per position: sum of A over its children (mismatch)
    std::vector<cplx> y_sh;    // per position: constant admittance of open-ended / self-loop branches
    // per solve (sized in analyze)
    std::vector<cplx> V, D, L;  // voltages, drawn currents (accumulated), own elements' current
    std::vector<cplx> c_p, c_i, y_z;  // L = (y_z + c_p / |V|^2 + c_i / |V|) V
    // kept from analyze for update_branch: per child position the edge's summed blocks; node maps
    std::vector<cplx> Ypp, Ypc, Ycp, Ycc;
    std::vector<int> pos, parent_node;
    // Parallel layout: positions [n_roots, upper_end) are the "upper" nodes (subtrees larger than a
    // block), then the blocks: subtrees [block_lo[b], block_lo[b + 1]) whose roots hang from an
    // upper node or a root. The same layout is used at any thread count, so the floating-point
    // operations (and results) do not depend on it.
    int upper_end = 0;
    std::vector<int> block_lo;
    std::vector<cplx> R;  // per block root position: its contribution to its (upper) parent

    /// Coefficients of the tree edge into child position k from its summed blocks.
    void edge_coefficients(int k) {
        const cplx inv = 1.0 / Ycc[k];
        G[k] = -Ycp[k] * inv;
        H[k] = -inv;
        A[k] = Ypp[k] - Ypc[k] * Ycp[k] * inv;
        B[k] = -Ypc[k] * inv;
    }

    // Complex products written out: std::complex's operator* carries a NaN recovery branch
    // (C99 Annex G) that the inner loops do not need (a NaN is caught by the finiteness check).
    static cplx mul(const cplx a, const cplx b) {
        return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
    }
    static double norm2(const cplx a) { return a.real() * a.real() + a.imag() * a.imag(); }

    template <bool kConstI>
    static cplx own_current(const cplx v, const cplx cp, const cplx ci, const cplx yz) {
        const double inv2 = 1.0 / norm2(v);
        cplx y = yz + cp * inv2;
        if constexpr (kConstI) y += ci * std::sqrt(inv2);
        return mul(y, v);
    }

    /// Backward over positions [lo, hi) (the upper part, or a task's blocks): leaves to roots. A
    /// node whose parent lies before lo (a block root) leaves its contribution to that parent in R.
    void backward(int lo, int hi) {
        cplx* __restrict v = V.data();
        cplx* __restrict d = D.data();
        cplx* __restrict l = L.data();
        cplx* __restrict r = R.data();
        const int* __restrict pp = par.data();
        const cplx* __restrict a = A.data();
        const cplx* __restrict b = B.data();
        for (int k = hi - 1; k >= lo; --k) {
            const cplx dk = d[k] + l[k];
            d[k] = dk;
            const int p = pp[k];
            const cplx c = mul(a[k], v[p]) + mul(b[k], dk);
            if (p < lo) r[k] = c;
            else d[p] += c;
        }
    }

    /// Forward over positions [lo, hi): roots to leaves; the largest squared mismatch / voltage
    /// change and a NaN-keeping sum.
    template <bool kConstI>
    void forward(int lo, int hi, double& m2, double& x2, double& sum) {
        cplx* __restrict v = V.data();
        cplx* __restrict d = D.data();
        cplx* __restrict l = L.data();
        const int* __restrict pp = par.data();
        const cplx* __restrict g = G.data();
        const cplx* __restrict h = H.data();
        const cplx* __restrict as = A_sum.data();
        const cplx* __restrict cp = c_p.data();
        const cplx* __restrict ci = c_i.data();
        const cplx* __restrict yz = y_z.data();
        for (int k = lo; k < hi; ++k) {
            const cplx vk = mul(g[k], v[pp[k]]) + mul(h[k], d[k]);
            d[k] = 0.0;
            const cplx dv = vk - v[k];
            const cplx lk = own_current<kConstI>(vk, cp[k], ci[k], yz[k]);
            const cplx r = lk - l[k] + mul(as[k], dv);
            const double mk = norm2(vk) * norm2(r), xk = norm2(dv);
            m2 = std::max(m2, mk);
            x2 = std::max(x2, xk);
            sum += mk + xk;  // std::max drops NaNs; a sum keeps them (and infinities)
            v[k] = vk;
            l[k] = lk;
        }
    }

    /// Reads the hook's new injection at position k (the hook rewrites s_p only).
    template <bool kConstI>
    void reread(const MathModel& m, int k) {
        const int node = node_at[k];
        c_p[k] = -std::conj(m.s_p[node]);
        L[k] = own_current<kConstI>(V[k], c_p[k], c_i[k], y_z[k]);
    }
    /// The hook at the hooked positions [hook_lo[g], hook_lo[g + 1]) (group g: 0 the upper part,
    /// 1 + t task t); true if it changed an injection.
    template <bool kConstI>
    bool run_hook(const MathModel& m, int g) {
        bool any = false;
        for (int j = hook_lo[g]; j < hook_lo[g + 1]; ++j) {
            const int k = hook_pos[j];
            if (hook->at_node(node_at[k], V[k])) {
                reread<kConstI>(m, k);
                any = true;
            }
        }
        return any;
    }

    /// One task (consecutive blocks, sized for L2) in an outer iteration: a forward pass against
    /// the upper voltages just computed (its mismatch and voltage change are the outer
    /// iteration's), then, while its data sit in cache, backward/forward pairs against the same
    /// upper voltages until the task itself meets the tolerance, then the backward that feeds the
    /// next outer iteration.
    template <bool kConstI>
    void run_task(const MathModel& m, int t, double inner2, int max_inner) {
        const int lo = task_lo[t], hi = task_lo[t + 1];
        double m2 = 0.0, x2 = 0.0, sum = 0.0;
        forward<kConstI>(lo, hi, m2, x2, sum);
        bool changed = hook && run_hook<kConstI>(m, 1 + t);
        task_m2[t] = m2;
        task_x2[t] = x2;
        task_changed[t] = changed;
        int inner = 0;
        while ((changed || m2 > inner2 || x2 > inner2) && inner < max_inner && std::isfinite(sum)) {
            backward(lo, hi);
            double im2 = 0.0, ix2 = 0.0;
            forward<kConstI>(lo, hi, im2, ix2, sum);
            changed = hook && run_hook<kConstI>(m, 1 + t);
            m2 = im2;
            x2 = ix2;
            ++inner;
        }
        backward(lo, hi);
        task_sum[t] = sum;
        task_inner[t] = inner;
    }

    /// Runs fn(t) for every task on the pool, tasks handed out one by one (their costs differ);
    /// each task writes only its own slots, so the result does not depend on the thread count.
    template <class F>
    void run_tasks(F&& fn) {
        const int nt = int(task_lo.size()) - 1;
        if (!pool || pool->size() <= 1 || nt <= 1) {
            for (int t = 0; t < nt; ++t) fn(t);
            return;
        }
        std::atomic<int> next{0};
        pool->for_each(std::size_t(pool->size()), [&](std::size_t) {
            for (int t = next.fetch_add(1, std::memory_order_relaxed); t < nt; t = next.fetch_add(1, std::memory_order_relaxed)) fn(t);
        }, 1);
    }

    /// One outer iteration: the upper part backward (with the blocks' contributions) and forward,
    /// then every task (run_task). Returns false on a non-finite voltage. mis2 / dv2: the largest
    /// squared power mismatch / voltage change of the first pass over every non-root position.
    template <bool kConstI>
    bool outer_iteration(const MathModel& m, double tol2, int max_inner, double& mis2, double& dv2, bool& changed) {
        const int nb = int(block_lo.size()) - 1;
        for (int b = 0; b < nb; ++b) D[par[block_lo[b]]] += R[block_lo[b]];
        backward(n_roots, upper_end);
        for (int k = 0; k < n_roots; ++k) D[k] = 0.0;
        double m2 = 0.0, x2 = 0.0, sum = 0.0;
        forward<kConstI>(n_roots, upper_end, m2, x2, sum);
        changed = hook && run_hook<kConstI>(m, 0);
        // While the upper voltages still move, a block is solved only to a tenth of their change
        // (no sooner in cache than its boundary moves again); at the end, to tol.
        const double inner2 = std::max(tol2, 1e-2 * x2);
        run_tasks([&](int t) { run_task<kConstI>(m, t, inner2, max_inner); });
        const int nt = int(task_lo.size()) - 1;
        longest_inner = 0;
        for (int t = 0; t < nt; ++t) {
            m2 = std::max(m2, task_m2[t]);
            x2 = std::max(x2, task_x2[t]);
            sum += task_sum[t];
            changed = changed || task_changed[t];
            inner_sweeps += (long long)task_inner[t] * (task_lo[t + 1] - task_lo[t]);
            longest_inner = std::max(longest_inner, task_inner[t]);
        }
        mis2 = m2;
        dv2 = x2;
        return std::isfinite(sum);
    }
    void map_hook(SweepNodeHook* h);

public:
    /// Node sweeps of the last solve beyond its outer iterations, in whole-network sweeps.
    double last_inner_sweeps = 0.0;
    int outer_iterations = 0;  ///< of the last solve

private:
    long long inner_sweeps = 0;
    int longest_inner = 0;  // of the last outer iteration: the most extra sweeps a task made
    SweepNodeHook* hook = nullptr;
public:
    /// Nodes per task (set before analyze): a task's data, about 200 bytes a node, fit a 1 MiB L2.
    /// 0 (the default): automatic, blocks of kAutoTaskNodes on a network of at least
    /// kAutoBlockMinNodes nodes (too large for the caches: the blocked sweep saves memory traffic),
    /// else the plain sweep of the whole network (every node "upper", no blocks): on a network that
    /// fits in cache the blocks' convergence pass would cost more than it saves (docs/performance.md).
    int task_nodes = 0;
    static constexpr int kAutoTaskNodes = 4096;
    static constexpr int kAutoBlockMinNodes = 100000;

private:
    std::vector<int> task_lo;                    // tasks: runs of consecutive blocks, each <= task_nodes
    std::vector<double> task_m2, task_x2, task_sum;
    std::vector<char> task_changed;
    std::vector<int> task_inner;
    std::vector<int> hook_pos, hook_lo;          // hooked positions, sorted; per group (upper, tasks)
    const std::vector<int>* hook_nodes_seen = nullptr;
    std::size_t hook_nodes_size = 0;
};

template <symmetry_tag Sym>
void SweepKernel<Sym>::analyze(const MathModel& m) {
    n = m.n;
    check_sweepable(m);
    const std::vector<cplx> y_node = node_shunts(m);
    std::vector<int> order = breadth_first_order(m);
    make_blocks(order);
    sum_edge_blocks(m);
    set_coefficients(m, order, y_node);
}

template <symmetry_tag Sym>
void SweepKernel<Sym>::check_sweepable(const MathModel& m) const {
    for (int is = 0; is < m.n_islands; ++is)
        if (!m.island_radial[is]) throw SolverError("sweep: island " + std::to_string(is) + " is meshed; use Newton-Raphson (method 'nr' or 'auto')");
    std::vector<int> slacks_per_island(m.n_islands, 0);
    for (int i = 0; i < n; ++i) {
        if (m.node_type[i] == BusType::PV)
            throw SolverError("sweep: node of bus index " + std::to_string(m.node_bus[i]) + " is voltage controlled (PV); use Newton-Raphson");
        if (m.node_type[i] == BusType::Slack && ++slacks_per_island[m.node_island[i]] > 1)
            throw SolverError("sweep: an island has more than one slack; use Newton-Raphson");
    }
}

template <symmetry_tag Sym>
std::vector<cplx> SweepKernel<Sym>::node_shunts(const MathModel& m) const {
    // Branches with both ends in one node or one open end are node shunts; the rest are tree edges.
    std::vector<cplx> y_node(n, cplx(0.0, 0.0));
    for (const BranchY& b : m.branches) {
        if (b.f >= 0 && b.t >= 0 && b.f != b.t) {
            continue;
        } else if (b.f >= 0 && b.t >= 0) {
            y_node[b.f] += b.yff + b.yft + b.ytf + b.ytt;  // both ends in one node
        } else if (b.f >= 0) {
            y_node[b.f] += b.yff;  // open at the far end (already Kron-reduced)
        } else if (b.t >= 0) {
            y_node[b.t] += b.ytt;
        }
    }
    return y_node;
}

/// Breadth-first order from each island's slack (topology layer); all roots first, each island
/// contiguous. Fills pos, parent_node and n_roots.
template <symmetry_tag Sym>
std::vector<int> SweepKernel<Sym>::breadth_first_order(const MathModel& m) {
    std::vector<std::pair<int, int>> edges;
    edges.reserve(m.branches.size());
    for (const BranchY& b : m.branches)
        if (b.f >= 0 && b.t >= 0 && b.f != b.t) edges.emplace_back(b.f, b.t);
    std::vector<int> roots;
    for (int is = 0; is < m.n_islands; ++is) {
        const int root = m.island_slack[is];
        if (root < 0) throw SolverError("sweep: island " + std::to_string(is) + " has no slack");
        roots.push_back(root);
    }
    BfsTree tree = bfs_order(n, roots, edges);
    n_roots = int(roots.size());
    if (int(tree.order.size()) != n) throw SolverError("sweep: a node is not connected to its island's slack");
    parent_node = std::move(tree.parent);
    pos.assign(n, -1);
    for (int k = 0; k < n; ++k) pos[tree.order[k]] = k;
    return std::move(tree.order);
}

/// Blocks: a node whose subtree holds more than task_nodes nodes is "upper"; every other node whose
/// parent is upper (or a root) starts a block (its whole subtree: a feeder below a distribution
/// transformer or a lateral). Reorders `order` (roots, upper nodes, blocks) and pos; groups
/// consecutive blocks into tasks of at most task_nodes nodes.
template <symmetry_tag Sym>
void SweepKernel<Sym>::make_blocks(std::vector<int>& order) {
    SweepKernel& s = *this;
    std::vector<int> size(n, 1);
    for (int k = n - 1; k >= s.n_roots; --k) size[parent_node[order[k]]] += size[order[k]];
    const int target = task_nodes > 0 ? task_nodes : (n >= kAutoBlockMinNodes ? kAutoTaskNodes : 0);
    std::vector<int> block_of(n, -1);  // -1: root or upper
    std::vector<int> upper, block_root;
    for (int k = s.n_roots; k < n; ++k) {
        const int u = order[k], p = parent_node[u];
        const bool parent_upper = pos[p] < s.n_roots || block_of[p] < 0;
        if (parent_upper && size[u] > target) {
            upper.push_back(u);
        } else if (parent_upper) {
            block_of[u] = int(block_root.size());
            block_root.push_back(u);
        } else {
            block_of[u] = block_of[p];
        }
    }
    std::vector<int> count(block_root.size() + 1, 0);
    for (int u = 0; u < n; ++u)
        if (block_of[u] >= 0) count[block_of[u] + 1]++;
    std::vector<int> new_order(order.begin(), order.begin() + s.n_roots);
    new_order.insert(new_order.end(), upper.begin(), upper.end());
    s.upper_end = int(new_order.size());
    s.block_lo.assign(block_root.size() + 1, s.upper_end);
    for (std::size_t b = 0; b < block_root.size(); ++b) s.block_lo[b + 1] = s.block_lo[b] + count[b + 1];
    new_order.resize(n);
    std::vector<int> fill_at(s.block_lo.begin(), s.block_lo.end() - 1);
    for (int k = s.n_roots; k < n; ++k) {  // breadth-first order kept inside every block
        const int u = order[k];
        if (block_of[u] >= 0) new_order[fill_at[block_of[u]]++] = u;
    }
    order = std::move(new_order);
    for (int k = 0; k < n; ++k) pos[order[k]] = k;
    // tasks: runs of consecutive blocks of at most task_nodes nodes together
    s.task_lo.assign(1, s.upper_end);
    for (std::size_t b = 0; b < block_root.size(); ++b)
        if (s.block_lo[b + 1] - s.task_lo.back() > target && s.block_lo[b] > s.task_lo.back()) s.task_lo.push_back(s.block_lo[b]);
    if (s.task_lo.back() < n) s.task_lo.push_back(n);
    const std::size_t nt = s.task_lo.size() - 1;
    s.task_m2.assign(nt, 0.0);
    s.task_x2.assign(nt, 0.0);
    s.task_sum.assign(nt, 0.0);
    s.task_changed.assign(nt, 0);
    s.task_inner.assign(nt, 0);
    s.hook_nodes_seen = nullptr;
}

template <symmetry_tag Sym>
void SweepKernel<Sym>::sum_edge_blocks(const MathModel& m) {
    SweepKernel& s = *this;
    // Per tree edge: the sum of the oriented blocks of all branches between parent and child.
    std::vector<cplx>&Ypp = s.Ypp, &Ypc = s.Ypc, &Ycp = s.Ycp, &Ycc = s.Ycc;
    for (auto* y : {&Ypp, &Ypc, &Ycp, &Ycc}) y->assign(n, 0.0);
    for (const BranchY& b : m.branches) {
        if (b.f < 0 || b.t < 0 || b.f == b.t) continue;
        if (parent_node[b.t] == b.f) {
            const int c = pos[b.t];
            Ypp[c] += b.yff;
            Ypc[c] += b.yft;
            Ycp[c] += b.ytf;
            Ycc[c] += b.ytt;
        } else if (parent_node[b.f] == b.t) {
            const int c = pos[b.f];
            Ypp[c] += b.ytt;
            Ypc[c] += b.ytf;
            Ycp[c] += b.yft;
            Ycc[c] += b.yff;
        } else {
            throw SolverError("sweep: the network has a loop; use Newton-Raphson (method 'nr' or 'auto')");
        }
    }
}

template <symmetry_tag Sym>
void SweepKernel<Sym>::set_coefficients(const MathModel& m, const std::vector<int>& order, const std::vector<cplx>& y_node) {
    SweepKernel& s = *this;
    s.node_at = order;
    s.par.assign(n, 0);
    s.G.assign(n, 0.0);
    s.H.assign(n, 0.0);
    s.A.assign(n, 0.0);
    s.B.assign(n, 0.0);
    s.A_sum.assign(n, 0.0);
    s.y_sh.assign(n, 0.0);
    for (int k = 0; k < n; ++k) s.y_sh[k] = y_node[order[k]];
    for (int k = s.n_roots; k < n; ++k) {
        const int p = pos[parent_node[order[k]]];
        if (Ycc[k] == cplx(0.0, 0.0) || !std::isfinite(std::abs(Ycc[k])))
            throw SolverError("sweep: branch to the node of bus index " + std::to_string(m.node_bus[order[k]]) + " has no usable admittance");
        s.par[k] = p;
        s.edge_coefficients(k);
        s.A_sum[p] += s.A[k];
    }
    s.V.assign(n, 0.0);
    s.R.assign(n, 0.0);
    s.D.assign(n, 0.0);
    s.L.assign(n, 0.0);
    s.c_p.assign(n, 0.0);
    s.c_i.assign(n, 0.0);
    s.y_z.assign(n, 0.0);
}

template <symmetry_tag Sym>
void SweepKernel<Sym>::update_branch(const BranchY& before, const BranchY& after) {
    SweepKernel& s = *this;
    if (before.f != after.f || before.t != after.t) throw SolverError("sweep: update_branch cannot move a branch; call analyze");
    const int f = after.f, t = after.t;
    if (f < 0 || t < 0 || f == t) {  // a node shunt
        const int node = f >= 0 ? f : t;
        auto self = [&](const BranchY& b) { return f >= 0 && t >= 0 ? b.yff + b.yft + b.ytf + b.ytt : (f >= 0 ? b.yff : b.ytt); };
        s.y_sh[s.pos[node]] += self(after) - self(before);
        return;
    }
    int k;
    cplx dpp, dpc, dcp, dcc;
    if (s.parent_node[t] == f) {
        k = s.pos[t];
        dpp = after.yff - before.yff;
        dpc = after.yft - before.yft;
        dcp = after.ytf - before.ytf;
        dcc = after.ytt - before.ytt;
    } else {
        k = s.pos[f];
        dpp = after.ytt - before.ytt;
        dpc = after.ytf - before.ytf;
        dcp = after.yft - before.yft;
        dcc = after.yff - before.yff;
    }
    s.Ypp[k] += dpp;
    s.Ypc[k] += dpc;
    s.Ycp[k] += dcp;
    s.Ycc[k] += dcc;
    s.A_sum[s.par[k]] -= s.A[k];
    s.edge_coefficients(k);
    s.A_sum[s.par[k]] += s.A[k];
}

template <symmetry_tag Sym>
bool SweepKernel<Sym>::gather(const MathModel& m, const std::vector<cplx>& Vout) {
    SweepKernel& s = *this;
    // Gather this step's injections and the start voltages into breadth-first order.
    bool const_i = false;
    for (int k = 0; k < n; ++k) {
        const int i = s.node_at[k];
        s.V[k] = k < s.n_roots ? m.v_set[i] : Vout[i];
        s.c_p[k] = -std::conj(m.s_p[i]);
        s.c_i[k] = -std::conj(m.s_i[i]);
        s.y_z[k] = s.y_sh[k] - std::conj(m.s_z[i]);
        const_i = const_i || m.s_i[i] != cplx(0.0, 0.0);
        s.D[k] = 0.0;
    }
    for (int k = 0; k < n; ++k)
        s.L[k] = const_i ? own_current<true>(s.V[k], s.c_p[k], s.c_i[k], s.y_z[k])
                         : own_current<false>(s.V[k], s.c_p[k], s.c_i[k], s.y_z[k]);
    return const_i;
}

template <symmetry_tag Sym>
void SweepKernel<Sym>::map_hook(SweepNodeHook* h) {
    SweepKernel& s = *this;
    s.hook = h;
    if (!h) return;
    const std::vector<int>& nodes = h->nodes();
    if (s.hook_nodes_seen == &nodes && s.hook_nodes_size == nodes.size()) return;  // the same nodes as last time
    s.hook_nodes_seen = &nodes;
    s.hook_nodes_size = nodes.size();
    s.hook_pos.clear();
    for (int node : nodes) {
        if (node < 0 || node >= n) throw SolverError("sweep: the hook names node " + std::to_string(node) + ", outside the model");
        s.hook_pos.push_back(s.pos[node]);
    }
    std::sort(s.hook_pos.begin(), s.hook_pos.end());
    // groups: 0 the roots and the upper part, 1 + t task t
    const int nt = int(s.task_lo.size()) - 1;
    s.hook_lo.assign(std::size_t(nt) + 2, 0);
    for (int g = 0; g <= nt; ++g)
        s.hook_lo[g + 1] = int(std::lower_bound(s.hook_pos.begin(), s.hook_pos.end(), s.task_lo[g]) - s.hook_pos.begin());
}

template <symmetry_tag Sym>
SolveStatus SweepKernel<Sym>::solve(const MathModel& m, std::vector<cplx>& Vout, double tol, int max_iter, SweepNodeHook* h) {
    SweepKernel& s = *this;
    SolveStatus st;
    if (n != m.n || int(Vout.size()) < n) throw SolverError("sweep: solve called with a model or voltage vector that does not match analyze");
    const bool const_i = gather(m, Vout);
    map_hook(h);
    s.inner_sweeps = 0;
    s.outer_iterations = 0;
    // Converged when, in one outer iteration, the power mismatch at the new voltages and the
    // voltage change of its first pass are below tol everywhere and the hook changed nothing:
    // then that pass was exactly one plain backward/forward sweep of the whole network.
    const double tol2 = tol * tol;
    bool finite = true;
    if (n == s.n_roots) {
        st.converged = true;
    } else {
        run_tasks([&](int t) { s.backward(s.task_lo[t], s.task_lo[t + 1]); });
        for (int it = 1; st.iterations < max_iter; ++it) {
            s.outer_iterations = it;
            const int max_inner = max_iter - st.iterations - 1;  // max_iter bounds the longest path
            double mis2 = 0.0, dv2 = 0.0;
            bool changed = false;
            finite = const_i ? s.outer_iteration<true>(m, tol2, max_inner, mis2, dv2, changed)
                             : s.outer_iteration<false>(m, tol2, max_inner, mis2, dv2, changed);
            st.iterations += 1 + s.longest_inner;  // sweeps on the longest path
            st.max_mismatch = std::sqrt(mis2);
            if (!finite) break;
            if (!changed && mis2 <= tol2 && dv2 <= tol2) {
                st.converged = true;
                break;
            }
        }
    }
    s.last_inner_sweeps = double(s.inner_sweeps) / double(std::max(n, 1));
    for (int k = 0; k < n; ++k) Vout[s.node_at[k]] = s.V[k];
    if (!finite) st.max_mismatch = kInf;
    return st;
}

extern template class SweepKernel<symmetric_t>;

}  // namespace libgrid
