// libgrid solvers: the unbalanced solvers' factory, the loads' currents with their derivatives, and
// the sparse LUs they share (KLU, complex and real, when libgrid has it).
#include "usolver_detail.hpp"

#include <libgrid/config.hpp>
#include <libgrid/core/errors.hpp>

#include <Eigen/SparseLU>

#if LIBGRID_HAVE_KLU
#include <klu.h>
#endif

#include <cctype>
#include <algorithm>
#include <cmath>
#include <string>

namespace libgrid {

const char* to_string(UMethod m) {
    switch (m) {
        case UMethod::automatic: return "auto";
        case UMethod::fixed_point: return "fixed_point";
        case UMethod::newton: return "nr";
        case UMethod::sweep: return "sweep";
    }
    return "?";
}

UMethod parse_umethod(const std::string& s) {
    std::string t;
    for (char c : s) t += char(std::tolower(static_cast<unsigned char>(c)));
    if (t == "auto" || t == "automatic") return UMethod::automatic;
    if (t == "fixed_point" || t == "fixed-point" || t == "fixedpoint" || t == "normal") return UMethod::fixed_point;
    if (t == "nr" || t == "newton" || t == "newton_raphson" || t == "newton-raphson") return UMethod::newton;
    if (t == "sweep" || t == "bfs") return UMethod::sweep;
    throw ValidationError("unbalanced solver method '" + s + "': expected auto, fixed_point, nr or sweep");
}

namespace {
/// automatic: the first method (the sweep, or the fixed point on a multi-earthed model), and
/// Newton-Raphson from the same start when it does not converge (Newton is built then, once).
/// A method that failed is not tried again: every later solve goes straight to Newton-Raphson
/// (issue 15: on the Melaka grid as built the sweep diverged, 100 iterations, at every step of a
/// time series before Newton-Raphson solved it). method() names the solver of the last solve.
class AutoUSolver final : public USolver {
public:
    AutoUSolver(const UMathModel& m, std::unique_ptr<USolver> first)
        : m_(m), first_(std::move(first)), start_(std::size_t(m.n_nodes)), last_(first_->method()) {}
    USolveStats solve(std::vector<cplx>& v, const USolveOptions& opt) override {
        if (first_failed_) {
            last_ = UMethod::newton;
            return newton_->solve(v, opt);
        }
        if (v.size() == start_.size()) std::copy(v.begin(), v.end(), start_.begin());
        last_ = first_->method();
        const USolveStats st = first_->solve(v, opt);
        if (st.converged) return st;
        if (!newton_) newton_ = std::make_unique<udetail::NewtonUSolver>(m_);
        first_failed_ = true;
        std::copy(start_.begin(), start_.end(), v.begin());
        last_ = UMethod::newton;
        USolveStats nr = newton_->solve(v, opt);
        nr.iterations += st.iterations;
        return nr;
    }
    void refactor() override {
        if (!first_failed_) first_->refactor();
        if (newton_) newton_->refactor();
    }
    UMethod method() const override { return last_; }

private:
    const UMathModel& m_;
    std::unique_ptr<USolver> first_, newton_;
    std::vector<cplx> start_;
    UMethod last_;
    bool first_failed_ = false;
};
}  // namespace

bool multi_earthed(const UMathModel& m) {
    // the branches (series elements of the tree) and the loads are not shunts here
    std::vector<char> skip(m.elements.size(), 0);
    for (const UMathBranch& b : m.branches)
        if (b.element >= 0 && b.element < int(m.elements.size())) skip[std::size_t(b.element)] = 1;
    for (const UMathLoad& ld : m.loads)
        if (ld.element >= 0 && ld.element < int(m.elements.size())) skip[std::size_t(ld.element)] = 1;
    int first_bus = -1;
    for (std::size_t e = 0; e < m.elements.size(); ++e) {
        const UMathElement& el = m.elements[e];
        if (skip[e] || el.kind == UElementKind::vsource) continue;
        const bool grounded = std::any_of(el.node.begin(), el.node.end(), [](int n) { return n < 0; });
        if (!grounded) continue;
        for (int n : el.node) {
            if (n < 0 || n >= int(m.node_phase.size()) || m.node_phase[std::size_t(n)] <= 3) continue;
            const int bus = m.node_bus[std::size_t(n)];
            if (first_bus < 0) first_bus = bus;
            else if (bus != first_bus) return true;
        }
    }
    return false;
}

std::unique_ptr<USolver> make_usolver(const UMathModel& m, UMethod method) {
    switch (method) {
        case UMethod::fixed_point: return std::make_unique<udetail::FixedPointUSolver>(m);
        case UMethod::newton: return std::make_unique<udetail::NewtonUSolver>(m);
        case UMethod::sweep: return std::make_unique<udetail::SweepUSolver>(m);
        case UMethod::automatic: break;
    }
    // automatic (docs/unbalanced.md, "Solvers"): the sweep on a model it can walk branch by branch
    // (radial at the nodes, one source: the four test feeders), with Newton-Raphson behind it when
    // it does not converge; Newton-Raphson otherwise (meshed, several sources, a node fed only
    // through a shunt). m.radial (one path per bus) is not required: three single-phase
    // regulators side by side make IEEE 13 "not radial" by buses, radial by nodes.
    // A neutral earthed at several buses (a multi-earthed neutral, the Melaka grid as built): the
    // sweep carries shunts as currents from the last voltages, and the customers' earths in parallel
    // (10 ohm each) against the common star-point earth (1 ohm) make it diverge; the fixed point
    // has them in Y (10 iterations there, at a sparse solve each).
    if (multi_earthed(m)) return std::make_unique<AutoUSolver>(m, std::make_unique<udetail::FixedPointUSolver>(m));
    std::unique_ptr<USolver> sweep;
    try {
        sweep = std::make_unique<udetail::SweepUSolver>(m);
    } catch (const SolverError&) {
        return std::make_unique<udetail::NewtonUSolver>(m);
    }
    return std::make_unique<AutoUSolver>(m, std::move(sweep));
}

// ---- the loads ---------------------------------------------------------------------------------
namespace udetail {

std::vector<double> inverse_vbase(const UMathModel& m) {
    std::vector<double> inv(std::size_t(m.n_nodes), 1.0);
    for (int n = 0; n < m.n_nodes; ++n) {
        const double vb = n < int(m.node_vbase_v.size()) ? m.node_vbase_v[std::size_t(n)] : NAN;
        double s = std::isfinite(vb) && vb > 0.0 ? vb : 0.0;
        if (s == 0.0 && n < int(m.v_start.size())) s = std::abs(m.v_start[std::size_t(n)]);
        inv[std::size_t(n)] = s > 1e-3 ? 1.0 / s : 1.0;
    }
    return inv;
}

void add_load_currents(const UMathModel& m, const cplx* v, cplx* out) {
    for (const UMathLoad& ld : m.loads) {
        for (int k = 0; k < ld.nphases; ++k) {
            const int a = ld.a[k], b = ld.b[k];
            const cplx vk = (a >= 0 ? v[a] : cplx(0.0)) - (b >= 0 ? v[b] : cplx(0.0));
            const cplx i = load_phase_current(ld, vk);
            if (a >= 0) out[a] += i;
            if (b >= 0) out[b] -= i;
        }
    }
}

void add_compensation(const UMathModel& m, const cplx* v, cplx* out) {
    for (const UMathLoad& ld : m.loads) {
        const UMathElement& e = m.elements[std::size_t(ld.element)];
        const int nc = int(e.node.size());
        for (int c = 0; c < nc; ++c) {
            const int nj = e.node[std::size_t(c)];
            if (nj < 0) continue;
            for (int r = 0; r < nc; ++r) {
                const int ni = e.node[std::size_t(r)];
                if (ni >= 0) out[ni] += e.yprim(r, c) * v[nj];
            }
        }
    }
    for (std::size_t n = 0; n < std::size_t(m.n_nodes); ++n) out[n] = -out[n];
    add_load_currents(m, v, out);
    for (std::size_t n = 0; n < std::size_t(m.n_nodes); ++n) out[n] = -out[n];
}

double max_dv_pu(const std::vector<double>& inv_vbase, const cplx* a, const cplx* b, int n) {
    // squared, one square root at the end (std::abs is hypot: ~10 % of a full fixed-point step on
    // the Melaka district as built)
    double worst = 0.0;
    for (int i = 0; i < n; ++i) {
        const double s = inv_vbase[std::size_t(i)];
        const double d = std::norm(a[i] - b[i]) * (s * s);
        if (!(d <= worst)) worst = d;  // a NaN wins, so a diverged solve never reports convergence
    }
    return std::sqrt(worst);
}

// ---- sparse LUs --------------------------------------------------------------------------------
namespace {
[[noreturn]] void throw_singular(const char* what, const std::string& detail) {
    throw SolverError(std::string(what) + ": the admittance matrix Y is singular" + detail +
                      " (a node with no path to the source or to ground, or a floating winding)");
}
}  // namespace

#if LIBGRID_HAVE_KLU
struct ComplexLU::Impl {
    klu_common common{};
    klu_symbolic* symbolic = nullptr;
    klu_numeric* numeric = nullptr;
    Impl() { klu_defaults(&common); }
    ~Impl() {
        if (numeric) klu_z_free_numeric(&numeric, &common);
        if (symbolic) klu_free_symbolic(&symbolic, &common);
    }
    void check(const char* what) {
        if (numeric && common.status == KLU_OK && klu_z_rcond(symbolic, numeric, &common) && common.rcond > 1e-15 &&
            std::isfinite(common.rcond))
            return;
        std::string detail;
        if (common.status == KLU_SINGULAR && common.singular_col >= 0)
            detail = " (zero pivot at node " + std::to_string(common.singular_col) + ")";
        else if (numeric)
            detail = " (reciprocal condition estimate " + std::to_string(common.rcond) + ")";
        throw_singular(what, detail);
    }
};
ComplexLU::ComplexLU() : impl_(std::make_unique<Impl>()) {}
void ComplexLU::factor(const Eigen::SparseMatrix<cplx>& Y, const char* what) {
    if (impl_->numeric) klu_z_free_numeric(&impl_->numeric, &impl_->common);
    if (impl_->symbolic) klu_free_symbolic(&impl_->symbolic, &impl_->common);
    int* Ap = const_cast<int*>(Y.outerIndexPtr());
    int* Ai = const_cast<int*>(Y.innerIndexPtr());
    double* Ax = reinterpret_cast<double*>(const_cast<cplx*>(Y.valuePtr()));  // interleaved re, im
    impl_->symbolic = klu_analyze(int(Y.rows()), Ap, Ai, &impl_->common);
    if (!impl_->symbolic) throw SolverError(std::string(what) + ": KLU symbolic analysis failed (status " + std::to_string(impl_->common.status) + ")");
    impl_->numeric = klu_z_factor(Ap, Ai, Ax, impl_->symbolic, &impl_->common);
    impl_->check(what);
}
void ComplexLU::refactor(const Eigen::SparseMatrix<cplx>& Y, const char* what) {
    int* Ap = const_cast<int*>(Y.outerIndexPtr());
    int* Ai = const_cast<int*>(Y.innerIndexPtr());
    double* Ax = reinterpret_cast<double*>(const_cast<cplx*>(Y.valuePtr()));
    if (impl_->numeric && klu_z_refactor(Ap, Ai, Ax, impl_->symbolic, impl_->numeric, &impl_->common) == 1 &&
        klu_z_rcond(impl_->symbolic, impl_->numeric, &impl_->common) == 1 && impl_->common.rcond > 1e-14)
        return;
    if (impl_->numeric) klu_z_free_numeric(&impl_->numeric, &impl_->common);
    impl_->numeric = klu_z_factor(Ap, Ai, Ax, impl_->symbolic, &impl_->common);
    impl_->check(what);
}
void ComplexLU::solve(cplx* b, int n) {
    klu_z_solve(impl_->symbolic, impl_->numeric, n, 1, reinterpret_cast<double*>(b), &impl_->common);
}
#else
struct ComplexLU::Impl {
    Eigen::SparseLU<Eigen::SparseMatrix<cplx>, Eigen::COLAMDOrdering<int>> lu;
};
ComplexLU::ComplexLU() : impl_(std::make_unique<Impl>()) {}
void ComplexLU::factor(const Eigen::SparseMatrix<cplx>& Y, const char* what) {
    impl_->lu.analyzePattern(Y);
    refactor(Y, what);
}
void ComplexLU::refactor(const Eigen::SparseMatrix<cplx>& Y, const char* what) {
    impl_->lu.factorize(Y);
    if (impl_->lu.info() != Eigen::Success) throw_singular(what, " (" + impl_->lu.lastErrorMessage() + ")");
}
void ComplexLU::solve(cplx* b, int n) {
    Eigen::Map<Eigen::VectorXcd> x(b, n);
    x = impl_->lu.solve(x);
}
#endif
ComplexLU::~ComplexLU() = default;

void RealLU::analyze(const SpMat& A, const std::vector<int>& order) {
    if (KluSolver::available()) {
        klu_ = std::make_unique<KluSolver>();
        klu_->analyze(A, order);
    } else {
        slu_ = std::make_unique<SparseLUSolver>();
        slu_->analyze(A);
    }
}
bool RealLU::factorize(const SpMat& A) { return klu_ ? klu_->factorize(A) : slu_->factorize(A); }
void RealLU::solve(double* b, int n) {
    if (klu_)
        klu_->solve(b, n);
    else
        slu_->solve(b, n);
}

}  // namespace udetail
}  // namespace libgrid
