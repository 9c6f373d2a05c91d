// libgrid: the backward/forward sweep. The kernel is solvers/sweep_kernel.hpp, instantiated here.
#include <libgrid/solvers/sweep_kernel.hpp>

namespace libgrid {

template class SweepKernel<symmetric_t>;

struct SweepSolver::Impl {
    SweepKernel<symmetric_t> kernel;
};

SweepSolver::SweepSolver() : impl_(std::make_unique<Impl>()) {}
SweepSolver::~SweepSolver() = default;
void SweepSolver::analyze(const MathModel& m) { impl_->kernel.analyze(m); }
void SweepSolver::set_thread_pool(ThreadPool* pool) { impl_->kernel.pool = pool; }
void SweepSolver::update_branch(const BranchY& before, const BranchY& after) { impl_->kernel.update_branch(before, after); }
SolveStatus SweepSolver::solve(const MathModel& m, std::vector<cplx>& Vout, double tol, int max_iter) {
    return impl_->kernel.solve(m, Vout, tol, max_iter, nullptr);
}
SolveStatus SweepSolver::solve(const MathModel& m, std::vector<cplx>& Vout, double tol, int max_iter, SweepNodeHook* hook) {
    return impl_->kernel.solve(m, Vout, tol, max_iter, hook);
}
void SweepSolver::set_block_nodes(int nodes) {
    if (nodes < 0) throw SolverError("sweep: block_nodes must be >= 0, 0 for automatic (got " + std::to_string(nodes) + ")");
    impl_->kernel.task_nodes = nodes;
}
double SweepSolver::last_inner_sweeps() const { return impl_->kernel.last_inner_sweeps; }

}  // namespace libgrid

namespace libgrid {
int SweepSolver::last_outer_iterations() const { return impl_->kernel.outer_iterations; }
}  // namespace libgrid
