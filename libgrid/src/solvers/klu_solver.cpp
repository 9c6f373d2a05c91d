// libgrid: KLU wrapper (compiled only against SuiteSparse when found at configure time).
#include <libgrid/config.hpp>
#include <libgrid/core/errors.hpp>
#include <libgrid/solvers/linear_solver.hpp>

#if LIBGRID_HAVE_KLU
#include <amd.h>
#include <klu.h>
#endif

#include <string>

namespace libgrid {

#if LIBGRID_HAVE_KLU
struct KluSolver::Impl {
    klu_common common{};
    klu_symbolic* symbolic = nullptr;
    klu_numeric* numeric = nullptr;
    Impl() { klu_defaults(&common); }
    ~Impl() {
        if (numeric) klu_free_numeric(&numeric, &common);
        if (symbolic) klu_free_symbolic(&symbolic, &common);
    }
};
bool KluSolver::available() { return true; }
KluSolver::KluSolver() : impl_(std::make_unique<Impl>()) {}
std::vector<int> amd_ordering(int n, const int* outer, const int* inner) {
    std::vector<int> order(std::size_t(n > 0 ? n : 0));
    if (n == 0) return order;
    const int status = amd_order(n, outer, inner, order.data(), nullptr, nullptr);
    if (status != AMD_OK && status != AMD_OK_BUT_JUMBLED) throw SolverError("AMD ordering failed (status " + std::to_string(status) + ")");
    return order;
}
void KluSolver::analyze(const SpMat& A) { analyze(A, {}); }
void KluSolver::analyze(const SpMat& A, const std::vector<int>& order) {
    if (impl_->numeric) klu_free_numeric(&impl_->numeric, &impl_->common);
    if (impl_->symbolic) klu_free_symbolic(&impl_->symbolic, &impl_->common);
    int* Ap = const_cast<int*>(A.outerIndexPtr());
    int* Ai = const_cast<int*>(A.innerIndexPtr());
    if (order.empty()) {
        impl_->common.btf = 1;  // KLU's own: block triangular form, then AMD on each block
        impl_->symbolic = klu_analyze(int(A.rows()), Ap, Ai, &impl_->common);
    } else {
        // The ordering covers the whole matrix: a block triangular form first would only cost time
        // (a connected grid's Jacobian is one block).
        impl_->common.btf = 0;
        std::vector<int> p = order;  // KLU takes non-const arrays (and does not change them)
        impl_->symbolic = klu_analyze_given(int(A.rows()), Ap, Ai, p.data(), p.data(), &impl_->common);
    }
    if (!impl_->symbolic) throw SolverError("KLU: symbolic analysis failed (status " + std::to_string(impl_->common.status) + ")");
}
bool KluSolver::factorize(const SpMat& A) {
    int* Ap = const_cast<int*>(A.outerIndexPtr());
    int* Ai = const_cast<int*>(A.innerIndexPtr());
    double* Ax = const_cast<double*>(A.valuePtr());
    if (impl_->numeric) {
        if (klu_refactor(Ap, Ai, Ax, impl_->symbolic, impl_->numeric, &impl_->common) == 1) {
            // Guard against pivots that became poor with the new values.
            if (klu_rcond(impl_->symbolic, impl_->numeric, &impl_->common) == 1 && impl_->common.rcond > 1e-14) return true;
        }
        klu_free_numeric(&impl_->numeric, &impl_->common);
    }
    impl_->numeric = klu_factor(Ap, Ai, Ax, impl_->symbolic, &impl_->common);
    return impl_->numeric != nullptr && impl_->common.status == KLU_OK;
}
void KluSolver::solve(double* b, int n) {
    klu_solve(impl_->symbolic, impl_->numeric, n, 1, b, &impl_->common);
}
#else
struct KluSolver::Impl {};
std::vector<int> amd_ordering(int, const int*, const int*) { return {}; }
bool KluSolver::available() { return false; }
KluSolver::KluSolver() { throw SolverError("libgrid was built without SuiteSparse KLU; use the 'sparselu' linear solver"); }
void KluSolver::analyze(const SpMat&) {}
void KluSolver::analyze(const SpMat&, const std::vector<int>&) {}
bool KluSolver::factorize(const SpMat&) { return false; }
void KluSolver::solve(double*, int) {}
#endif

KluSolver::~KluSolver() = default;
KluSolver::KluSolver(KluSolver&&) noexcept = default;
KluSolver& KluSolver::operator=(KluSolver&&) noexcept = default;

}  // namespace libgrid
