// libgrid: Newton-Raphson power flow. The kernel is solvers/newton_kernel.hpp, instantiated here;
// NewtonRaphsonSolver picks the linear solver at run time (one virtual call per solve).
#include <libgrid/config.hpp>
#include <libgrid/core/errors.hpp>
#include <libgrid/solvers/newton_kernel.hpp>

namespace libgrid {

template class NewtonRaphsonKernel<symmetric_t, SparseLUSolver>;
template class NewtonRaphsonKernel<symmetric_t, KluSolver>;

namespace {

struct NRBase {
    virtual ~NRBase() = default;
    virtual void analyze(const MathModel& m) = 0;
    virtual SolveStatus solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter, NRTimings* t) = 0;
    virtual LinearSolverKind kind() const = 0;
    virtual const std::vector<double>& df() const = 0;
    virtual void set_df(const std::vector<double>& d) = 0;
    virtual const std::vector<char>& collapsed() const = 0;
    virtual const std::vector<signed char>& p_lim() const = 0;
    virtual const std::vector<signed char>& q_lim() const = 0;
    virtual void reset_limits() = 0;
};

template <class LinearSolver>
struct NR final : NRBase {
    LinearSolverKind kind_;
    NewtonRaphsonKernel<symmetric_t, LinearSolver> kernel;
    explicit NR(LinearSolverKind k) : kind_(k) {}
    LinearSolverKind kind() const override { return kind_; }
    void analyze(const MathModel& m) override { kernel.analyze(m); }
    SolveStatus solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter, NRTimings* t) override {
        return kernel.solve(m, V, tol, max_iter, t);
    }
    const std::vector<double>& df() const override { return kernel.island_df_hz(); }
    void set_df(const std::vector<double>& d) override { kernel.set_island_df_hz(d); }
    const std::vector<char>& collapsed() const override { return kernel.island_collapsed(); }
    const std::vector<signed char>& p_lim() const override { return kernel.forming_p_limit(); }
    const std::vector<signed char>& q_lim() const override { return kernel.forming_q_limit(); }
    void reset_limits() override { kernel.reset_forming_limits(); }
};

}  // namespace

struct NewtonRaphsonSolver::Impl {
    std::unique_ptr<NRBase> nr;
};

NewtonRaphsonSolver::NewtonRaphsonSolver(LinearSolverKind kind) : impl_(std::make_unique<Impl>()) {
    if (kind == LinearSolverKind::Default) kind = KluSolver::available() ? LinearSolverKind::KLU : LinearSolverKind::SparseLU;
    if (kind == LinearSolverKind::KLU) {
        if (!KluSolver::available()) throw SolverError("linear solver 'klu' requested, but libgrid was built without SuiteSparse KLU");
        impl_->nr = std::make_unique<NR<KluSolver>>(kind);
    } else {
        impl_->nr = std::make_unique<NR<SparseLUSolver>>(kind);
    }
}
NewtonRaphsonSolver::~NewtonRaphsonSolver() = default;
NewtonRaphsonSolver::NewtonRaphsonSolver(NewtonRaphsonSolver&&) noexcept = default;
NewtonRaphsonSolver& NewtonRaphsonSolver::operator=(NewtonRaphsonSolver&&) noexcept = default;
void NewtonRaphsonSolver::analyze(const MathModel& m) { impl_->nr->analyze(m); }
SolveStatus NewtonRaphsonSolver::solve(const MathModel& m, std::vector<cplx>& V, double tol, int max_iter, NRTimings* t) {
    return impl_->nr->solve(m, V, tol, max_iter, t);
}
LinearSolverKind NewtonRaphsonSolver::linear_solver() const { return impl_->nr->kind(); }
const std::vector<double>& NewtonRaphsonSolver::island_df_hz() const { return impl_->nr->df(); }
void NewtonRaphsonSolver::set_island_df_hz(const std::vector<double>& d) { impl_->nr->set_df(d); }
const std::vector<char>& NewtonRaphsonSolver::island_collapsed() const { return impl_->nr->collapsed(); }
const std::vector<signed char>& NewtonRaphsonSolver::forming_p_limit() const { return impl_->nr->p_lim(); }
const std::vector<signed char>& NewtonRaphsonSolver::forming_q_limit() const { return impl_->nr->q_lim(); }
void NewtonRaphsonSolver::reset_forming_limits() { impl_->nr->reset_limits(); }

void network_injection(const MathModel& m, const std::vector<cplx>& V, std::vector<cplx>& S) {
    S.assign(m.n, cplx(0.0, 0.0));
    const int* yo = m.Ybus.outerIndexPtr();
    const int* yi = m.Ybus.innerIndexPtr();
    const cplx* yv = m.Ybus.valuePtr();
    for (int j = 0; j < m.n; ++j)
        for (int k = yo[j]; k < yo[j + 1]; ++k) S[yi[k]] += yv[k] * V[j];
    for (int i = 0; i < m.n; ++i) S[i] = V[i] * std::conj(S[i]);
}

}  // namespace libgrid
