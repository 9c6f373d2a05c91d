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
    return impl_->kernel.solve(m, Vout, tol, max_iter, Hook{});
}
SolveStatus SweepSolver::solve(const MathModel& m, std::vector<cplx>& Vout, double tol, int max_iter, const Hook& hook) {
    return impl_->kernel.solve(m, Vout, tol, max_iter, hook);
}

}  // namespace libgrid
