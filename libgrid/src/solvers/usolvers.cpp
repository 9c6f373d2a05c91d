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
/// automatic: the sweep, and Newton-Raphson from the same start when the sweep does not converge
/// (Newton is built then, once). method() names the solver of the last solve.
class AutoUSolver final : public USolver {
public:
    AutoUSolver(const UMathModel& m, std::unique_ptr<USolver> first)
        : m_(m), first_(std::move(first)), start_(std::size_t(m.n_nodes)), last_(first_->method()) {}
    USolveStats solve(std::vector<cplx>& v, const USolveOptions& opt) override {
        if (v.size() == start_.size()) std::copy(v.begin(), v.end(), start_.begin());
        last_ = first_->method();
        const USolveStats st = first_->solve(v, opt);
        if (st.converged) return st;
        if (!newton_) newton_ = std::make_unique<udetail::NewtonUSolver>(m_);
        std::copy(start_.begin(), start_.end(), v.begin());
        last_ = UMethod::newton;
        USolveStats nr = newton_->solve(v, opt);
        nr.iterations += st.iterations;
        return nr;
    }
    void refactor() override {
        first_->refactor();
        if (newton_) newton_->refactor();
    }
    UMethod method() const override { return last_; }

private:
    const UMathModel& m_;
    std::unique_ptr<USolver> first_, newton_;
    std::vector<cplx> start_;
    UMethod last_;
};
}  // namespace

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
    std::unique_ptr<USolver> sweep;
    try {
        sweep = std::make_unique<udetail::SweepUSolver>(m);
    } catch (const SolverError&) {
        return std::make_unique<udetail::NewtonUSolver>(m);
    }
    return std::make_unique<AutoUSolver>(m, std::move(sweep));
}

// ---- the loads ---------------------------------------------------------------------------------
namespace {

constexpr cplx kJ{0.0, 1.0};

/// I = y v
ULoadCurrentJac constant_y(cplx y, cplx v) { return {y * v, y, kJ * y}; }

/// I = y(|v|) v with dy/d|v| = dy: an admittance that moves with the voltage's magnitude
ULoadCurrentJac varying_y(cplx y, cplx dy, cplx v, double mag) {
    const cplx k = dy * v / mag;  // d|v|/dvr = vr/|v|, d|v|/dvi = vi/|v|
    return {y * v, y + k * v.real(), kJ * y + k * v.imag()};
}

/// I = c / conj(v), c = conj(S): constant power
ULoadCurrentJac constant_pq(cplx c, cplx v) {
    const cplx cv = std::conj(v);
    const cplx i = c / cv;
    const cplx d = -i / cv;  // dI / d conj(v); d conj(v)/d vr = 1, / d vi = -j
    return {i, d, -kJ * d};
}

/// I = k |v| / conj(v), k = conj(S) / vbase: constant current magnitude, v's angle
ULoadCurrentJac constant_imag(cplx k, cplx v) {
    const double mag = std::abs(v);
    const cplx cv = std::conj(v);
    const cplx i = k * mag / cv;
    const cplx d = -i / cv;
    const cplx km = k / (cv * mag);
    return {i, km * v.real() + d, km * v.imag() - kJ * d};
}

/// I = c(|v|) / conj(v), dc/d|v| = dc: a power that moves with the voltage's magnitude (CVR)
ULoadCurrentJac scaled_pq(cplx c, cplx dc, cplx v, double mag) {
    const cplx cv = std::conj(v);
    const cplx i = c / cv;
    const cplx k = dc / (cv * mag);
    return {i, k * v.real() - i / cv, k * v.imag() + kJ * i / cv};
}

/// OpenDSS DoCVRModel in the band: P = p_w (|v|/vbase)^cvrwatt, Q = q_var (|v|/vbase)^cvrvar
/// (cvrvar 2: the constant susceptance Im(Yeq)).
ULoadCurrentJac cvr_current(const UMathLoad& ld, cplx yeq, cplx v, double mag) {
    const double ratio = mag / ld.vbase_v;
    ULoadCurrentJac r;
    const double wf = ld.cvrwatt != 1.0 ? std::pow(ratio, ld.cvrwatt) : ratio;
    if (wf > 0.0) r = scaled_pq(cplx(ld.p_w * wf), cplx(ld.p_w * ld.cvrwatt * wf / mag), v, mag);
    if (ld.cvrvar == 2.0) {
        r.i += cplx(0.0, yeq.imag()) * v;
        r.di_dvr += cplx(0.0, yeq.imag());
        r.di_dvi += kJ * cplx(0.0, yeq.imag());
        return r;
    }
    const double vf = ld.cvrvar == 3.0 ? ratio * ratio * ratio : std::pow(ratio, ld.cvrvar);
    const ULoadCurrentJac q = scaled_pq(cplx(0.0, -ld.q_var * vf), cplx(0.0, -ld.q_var * ld.cvrvar * vf / mag), v, mag);
    r.i += q.i;
    r.di_dvr += q.di_dvr;
    r.di_dvi += q.di_dvi;
    return r;
}

void add_to(ULoadCurrentJac& acc, const ULoadCurrentJac& x) {
    acc.i += x.i;
    acc.di_dvr += x.di_dvr;
    acc.di_dvi += x.di_dvi;
}

/// (y.re * fr, y.im * fi): OpenDSS's ZIP weighting of an admittance's real and imaginary parts
cplx weigh(cplx y, double fr, double fi) { return {y.real() * fr, y.imag() * fi}; }

/// The admittances of Load.pas SetNominalLoad, and the interpolation below vminpu:
/// y(|v|) = (ILow + M (|v| - Vlow)) / |v|, dy/d|v| = -(ILow - M Vlow) / |v|^2.
struct LoadYs {
    cplx yeq, yeq95, yeq105, yeq105i, ilow, m95, m95i;
    double vlow, v95, v105;
    explicit LoadYs(const UMathLoad& ld) {
        const double vb = ld.vbase_v;
        yeq = ld.y_nom;
        yeq95 = ld.vminpu != 0.0 ? yeq / (ld.vminpu * ld.vminpu) : cplx(0.0);
        yeq105 = ld.vmaxpu != 0.0 ? yeq / (ld.vmaxpu * ld.vmaxpu) : yeq;
        yeq105i = ld.vmaxpu != 0.0 ? yeq / ld.vmaxpu : yeq;
        vlow = ld.vlowpu * vb;
        v95 = ld.vminpu * vb;
        v105 = ld.vmaxpu * vb;
        ilow = yeq * vlow;
        m95 = (yeq95 * v95 - ilow) / (v95 - vlow);
        m95i = (yeq * vb - ilow) / (v95 - vlow);
    }
    cplx interp(cplx m, double mag) const { return (ilow + m * (mag - vlow)) / mag; }
    cplx dinterp(cplx m, double mag) const { return -(ilow - m * vlow) / (mag * mag); }
};

ULoadCurrentJac zip_current(const UMathLoad& ld, const LoadYs& s, cplx v, double mag) {
    const double* z = ld.zipv;
    const cplx cz = weigh(s.yeq, z[0], z[3]);
    ULoadCurrentJac r;
    if (mag <= s.v95) {
        const cplx y = cz + weigh(s.interp(s.m95, mag), z[2], z[5]) + weigh(s.interp(s.m95i, mag), z[1], z[4]);
        const cplx dy = weigh(s.dinterp(s.m95, mag), z[2], z[5]) + weigh(s.dinterp(s.m95i, mag), z[1], z[4]);
        r = varying_y(y, dy, v, mag);
    } else if (mag > s.v105) {
        r = constant_y(cz + weigh(s.yeq105, z[2], z[5]) + weigh(s.yeq105i, z[1], z[4]), v);
    } else {
        r = constant_y(cz, v);
        add_to(r, constant_imag(std::conj(cplx(ld.p_w * z[1], ld.q_var * z[4])) / ld.vbase_v, v));
        add_to(r, constant_pq(std::conj(cplx(ld.p_w * z[2], ld.q_var * z[5])), v));
    }
    if (z[6] > 0.0) {  // low-voltage drop-out: a smooth step at zipv[6] p.u.
        const double vx = 500.0 * (mag / ld.vbase_v - z[6]);
        if (vx < 20.0) {
            const double evx = std::exp(2.0 * vx);
            const double th = (evx - 1.0) / (evx + 1.0);
            const double yv = 0.5 * (1.0 + th);
            const double dyv = 0.5 * (1.0 - th * th) * 500.0 / ld.vbase_v / mag;  // d yv/d|v| / |v|
            r.di_dvr = yv * r.di_dvr + r.i * (dyv * v.real());
            r.di_dvi = yv * r.di_dvi + r.i * (dyv * v.imag());
            r.i *= yv;
        }
    }
    return r;
}

}  // namespace

ULoadCurrentJac load_phase_current_jac(const UMathLoad& ld, cplx v) {
    if (ld.model == 2) return constant_y(ld.y_nom, v);
    const LoadYs s(ld);
    const double mag = std::abs(v);
    if (mag <= s.vlow) return constant_y(s.yeq, v);  // every other model: linear below Vlowpu
    if (ld.model == 8) return zip_current(ld, s, v, mag);
    const double yq_fixed = -ld.q_fixed_var / (ld.vbase_v * ld.vbase_v);
    ULoadCurrentJac r;
    switch (ld.model) {
        case 5:  // DoConstantILoad
            if (mag <= s.v95) return varying_y(s.interp(s.m95i, mag), s.dinterp(s.m95i, mag), v, mag);
            if (mag > s.v105) return constant_y(s.yeq105i, v);
            return constant_imag(std::conj(cplx(ld.p_w, ld.q_var)) / ld.vbase_v, v);
        case 6:  // DoFixedQ
        case 7:  // DoFixedQZ
            if (mag <= s.v95) return constant_y(cplx(s.yeq95.real(), yq_fixed), v);
            if (mag > s.v105) return constant_y(cplx(s.yeq105.real(), yq_fixed), v);
            if (ld.model == 6) return constant_pq(std::conj(cplx(ld.p_w, ld.q_fixed_var)), v);
            r = constant_pq(cplx(ld.p_w, 0.0), v);
            add_to(r, constant_y(cplx(0.0, yq_fixed), v));
            return r;
        case 1:  // DoConstantPQLoad
        case 3:  // DoMotorTypeLoad
        case 4:  // DoCVRModel
            if (mag <= s.v95) return varying_y(s.interp(s.m95, mag), s.dinterp(s.m95, mag), v, mag);
            if (mag > s.v105) return constant_y(s.yeq105, v);
            if (ld.model == 1) return constant_pq(std::conj(cplx(ld.p_w, ld.q_var)), v);
            if (ld.model == 4) return cvr_current(ld, s.yeq, v, mag);
            r = constant_pq(cplx(ld.p_w, 0.0), v);
            add_to(r, constant_y(cplx(0.0, s.yeq.imag()), v));
            return r;
        default: break;
    }
    throw ValidationError("load " + std::to_string(ld.load) + ": field 'model': " + std::to_string(ld.model) +
                          " is not supported by the unbalanced solvers (1 to 8)");
}

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
            const cplx i = load_phase_current_jac(ld, vk).i;
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
    double worst = 0.0;
    for (int i = 0; i < n; ++i) {
        const double d = std::abs(a[i] - b[i]) * inv_vbase[std::size_t(i)];
        if (!(d <= worst)) worst = d;  // a NaN wins, so a diverged solve never reports convergence
    }
    return worst;
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
