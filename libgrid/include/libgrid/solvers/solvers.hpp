// libgrid layer 4: the solvers. Each sees only the MathModel (never a component), works in per
// unit on node indices, is set up once per topology (index sets, sparsity pattern, symbolic
// factorisation) and then solves many times from a warm start without allocating.
#pragma once

#include <libgrid/math/math_model.hpp>
#include <libgrid/solvers/method.hpp>

#include <functional>
#include <memory>
#include <vector>

namespace libgrid {

class ThreadPool;

struct SolveStatus {
    bool converged = false;
    int iterations = 0;
    double max_mismatch = 0.0;  ///< p.u.
};

/// Where a Newton solve spends its time (filled when a pointer is passed).
struct NRTimings {
    double mismatch_s = 0, jacobian_s = 0, factorize_s = 0, solve_s = 0;
    int iterations = 0;
};

/// Newton-Raphson in polar form (MATPOWER's newtonpf), the linear solver a template parameter.
class NewtonRaphsonSolver {
public:
    explicit NewtonRaphsonSolver(LinearSolverKind kind = LinearSolverKind::Default);
    ~NewtonRaphsonSolver();
    NewtonRaphsonSolver(NewtonRaphsonSolver&&) noexcept;
    NewtonRaphsonSolver& operator=(NewtonRaphsonSolver&&) noexcept;
    /// Index sets (pv, pq), Jacobian pattern and its symbolic factorisation. Call again when the
    /// topology or the bus types change.
    void analyze(const MathModel& m);
    /// V: node voltages, in/out (warm start). Never throws on non-convergence.
    SolveStatus solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter, NRTimings* timings = nullptr);
    LinearSolverKind linear_solver() const;
    /// Droop islands (docs/microgrid.md). Per island: the frequency deviation f - f_nom (Hz) of the
    /// last solve, the solver's warm start (from m.island_df_hz at analyze, settable per step).
    const std::vector<double>& island_df_hz() const;
    void set_island_df_hz(const std::vector<double>& df_hz);
    /// Per island: 1 when the last solve found every forming source at a P limit (not converged).
    const std::vector<char>& island_collapsed() const;
    /// Per forming source: +1 held at its max, -1 at its min, 0 on its droop curve (last solve).
    const std::vector<signed char>& forming_p_limit() const;
    const std::vector<signed char>& forming_q_limit() const;
    /// Forgets the forming sources' limit states (the next solve starts every source on its droop
    /// curves instead of warm-starting them from the last solve).
    void reset_forming_limits();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Fast-decoupled power flow, XB version (MATPOWER's fdpf with alg = 2).
class FastDecoupledSolver {
public:
    FastDecoupledSolver();
    ~FastDecoupledSolver();
    void analyze(const MathModel& m);  ///< builds and factorises B' and B''
    SolveStatus solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// DC power flow (MATPOWER's dcpf): |V| = 1, angles from B theta = P. Returns node angles (rad)
/// in V as unit phasors; branch flows follow from dc_branch_flow.
class DcSolver {
public:
    DcSolver();
    ~DcSolver();
    void analyze(const MathModel& m);
    SolveStatus solve(const MathModel& m, std::vector<cplx>& V);
    /// DC active power flow of one branch, p.u., from -> to.
    static double branch_flow(const BranchY& b, const std::vector<cplx>& V);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Backward/forward sweep (current injection) for radial islands, transformers and line charging
/// included. Every island must be radial; PV nodes are not supported (use NR).
/// Voltage-dependent injections (volt-var, volt-watt) evaluated inside the sweep, node by node,
/// right after the forward pass that set the node's voltage, on the thread sweeping its feeder.
class SweepNodeHook {
public:
    virtual ~SweepNodeHook() = default;
    /// The nodes with voltage-dependent injections (distinct). Read at every solve; when it is
    /// the same vector (same address and size) as at the last solve, its positions are reused.
    virtual const std::vector<int>& nodes() const = 0;
    /// The node's new voltage: if the devices there move their set points, rewrite the model's
    /// constant-power injection s_p[node] (nothing else) and return true. Called concurrently for
    /// distinct nodes.
    virtual bool at_node(int node, cplx v) = 0;
};

class SweepSolver {
public:
    SweepSolver();
    ~SweepSolver();
    /// BFS order from each island's slack (Boost.Graph). Throws SolverError if an island is meshed
    /// or has PV nodes.
    void analyze(const MathModel& m);
    /// Sweep independent subtrees (feeders) on this pool's threads. Results are identical bit for
    /// bit with or without it, at any thread count. The pool must outlive the solves.
    void set_thread_pool(ThreadPool* pool);
    /// A branch's admittances changed (a tap moved), same ends: updates that tree edge only.
    void update_branch(const BranchY& before, const BranchY& after);
    /// Feeder-blocked: every outer iteration sweeps the upper grid once, then each feeder block
    /// (sized for L2) once and again against the same upper voltages until it meets tol itself,
    /// while its data sit in cache. Converged in an outer iteration whose first pass (one plain
    /// sweep of the whole network) has its largest power mismatch and voltage change <= tol and
    /// leaves the hook's set points unchanged. tol in p.u. SolveStatus::iterations: sweeps on the
    /// longest path, each outer iteration counting 1 + the most extra sweeps of any block (on a
    /// network that is one block, the plain sweep's count); at most max_iter.
    /// After every forward pass `hook->at_node` sees each hooked node's voltage, so a
    /// voltage-dependent device converges inside the sweep's own iterations.
    SolveStatus solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter, SweepNodeHook* hook);
    SolveStatus solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter);
    /// Nodes per feeder block task (4096 fits a 1 MiB L2 cache); takes effect at the next analyze.
    /// 0 (the default): automatic, blocks of 4096 on a network of at least 100,000 nodes, the plain
    /// sweep of the whole network below that (where it fits in cache and blocks cost more than they
    /// save). Results depend on it (not on the thread count).
    void set_block_nodes(int nodes);
    /// Of the last solve: the blocks' extra sweeps, in whole-network sweeps (node sweeps / nodes).
    double last_inner_sweeps() const;
    /// Of the last solve: its outer iterations.
    int last_outer_iterations() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Complex power injected at every node by the network, S = V conj(Ybus V) (p.u.).
void network_injection(const MathModel& m, const std::vector<cplx>& V, std::vector<cplx>& S);

}  // namespace libgrid
