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
    /// After every iteration `hook(voltage_of_node, changed)` may change the model's injections at
    /// some nodes (listed in `changed`, returning true): the sweep re-reads them and goes on, so a
    /// voltage-dependent device (volt-var) converges inside the sweep's own iterations. The solve
    /// converges only in an iteration the hook leaves unchanged.
    using Hook = std::function<bool(const std::function<cplx(int)>& voltage_of_node, std::vector<int>& changed)>;
    SolveStatus solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter, const Hook& hook);
    /// tol: on the largest voltage change between sweeps (p.u.) and the power mismatch.
    SolveStatus solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// Complex power injected at every node by the network, S = V conj(Ybus V) (p.u.).
void network_injection(const MathModel& m, const std::vector<cplx>& V, std::vector<cplx>& S);

}  // namespace libgrid
