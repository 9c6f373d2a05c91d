// libgrid math: loads in the unbalanced nodal model, as OpenDSS's Load.pas models them
// (SetNominalLoad, CalcYPrimMatrix, DoConstantPQLoad, DoConstantZLoad, DoMotorTypeLoad,
// DoConstantILoad, DoFixedQ, DoFixedQZ, DoZIPVModel).
#include "umath_internal.hpp"

#include <libgrid/core/errors.hpp>

#include <cmath>

namespace libgrid {

namespace {

const double kSqrt3 = std::sqrt(3.0);

/// Voltage across one phase element (Load.pas, `kV` side effect).
double load_vbase(const ULoad& l) {
    if (!l.delta && (l.nphases == 2 || l.nphases == 3)) return l.kv * 1000.0 / kSqrt3;
    return l.kv * 1000.0;
}

}  // namespace

cplx umath_detail::load_yeq(const ULoad& l) {
    const double vb = load_vbase(l);
    return cplx(l.kw * 1000.0 / l.nphases, -l.kvar * 1000.0 / l.nphases) / (vb * vb);
}

Eigen::MatrixXcd umath_detail::load_yprim(const ULoad& l) {
    const int nc = load_nconds(l);
    const int n = l.nphases;
    const cplx y = load_yeq(l);
    Eigen::MatrixXcd m = Eigen::MatrixXcd::Zero(nc, nc);
    if (!l.delta) {
        for (int i = 0; i < n; ++i) {
            m(i, i) = y;
            m(nc - 1, nc - 1) += y;
            m(i, nc - 1) = -y;
            m(nc - 1, i) = -y;
        }
        m(nc - 1, nc - 1) *= 1.000001;  // Rneut < 0: floating neutral, a slight bump (YNeut = 0)
        return m;
    }
    for (int i = 0; i < n; ++i) {
        const int j = (i + 1) % nc;
        m(i, i) += y;
        m(j, j) += y;
        m(i, j) -= y;
        m(j, i) -= y;
    }
    return m;
}

UMathLoad umath_detail::make_math_load(const ULoad& l, int load_index, int element_index, const UMathElement& elem) {
    const std::string who = quoted_name("load", l.name);
    if (!(l.kv > 0.0)) throw ValidationError(who + ": field 'kv': must be positive");
    if (l.nphases < 1 || l.nphases > 3) throw ValidationError(who + ": field 'phases': 1, 2 or 3 supported");
    const int m = l.model;
    if (m < 1 || m > 8)
        throw ValidationError(who + ": field 'model': model " + std::to_string(m) + " is not an OpenDSS load model (1 to 8)");
    if (m == 8 && l.zipv.size() != 7) throw ValidationError(who + ": field 'zipv': model 8 needs 7 values");
    UMathLoad ld;
    ld.element = element_index;
    ld.load = load_index;
    ld.nphases = l.nphases;
    const int nc = load_nconds(l);
    for (int k = 0; k < l.nphases; ++k) {
        ld.a[k] = elem.node[static_cast<std::size_t>(k)];
        ld.b[k] = l.delta ? elem.node[static_cast<std::size_t>((k + 1) % nc)] : elem.node[static_cast<std::size_t>(nc - 1)];
    }
    ld.p_w = l.kw * 1000.0 / l.nphases;
    ld.q_var = l.kvar * 1000.0 / l.nphases;
    ld.vbase_v = load_vbase(l);
    ld.model = m;
    for (std::size_t k = 0; k < l.zipv.size() && k < 7; ++k) ld.zipv[k] = l.zipv[k];
    ld.vminpu = l.vminpu;
    ld.vmaxpu = l.vmaxpu;
    ld.y_nom = load_yeq(l);
    ld.vlowpu = l.vlowpu;
    ld.q_fixed_var = l.base_kvar * 1000.0 / l.nphases;
    ld.delta = l.delta;
    return ld;
}

namespace {

/// The equivalent admittances of SetNominalLoad.
struct LoadYs {
    cplx yeq, yeq95, yeq105, yeq105i, ilow, m95, m95i;
    double vlow, v95, v105;
};

LoadYs load_ys(const UMathLoad& ld) {
    LoadYs s;
    const double vb = ld.vbase_v;
    s.yeq = ld.y_nom;
    s.yeq95 = ld.vminpu != 0.0 ? s.yeq / (ld.vminpu * ld.vminpu) : cplx(0.0, 0.0);
    s.yeq105 = ld.vmaxpu != 0.0 ? s.yeq / (ld.vmaxpu * ld.vmaxpu) : s.yeq;
    s.yeq105i = ld.vmaxpu != 0.0 ? s.yeq / ld.vmaxpu : s.yeq;
    s.vlow = ld.vlowpu * vb;
    s.v95 = ld.vminpu * vb;
    s.v105 = ld.vmaxpu * vb;
    s.ilow = s.yeq * s.vlow;
    const cplx i95 = s.yeq95 * s.v95;
    s.m95 = (i95 - s.ilow) / (s.v95 - s.vlow);
    s.m95i = (s.yeq * vb - s.ilow) / (s.v95 - s.vlow);
    return s;
}

cplx interp_y95(const LoadYs& s, double vmag) { return (s.ilow + s.m95 * (vmag - s.vlow)) / vmag; }
cplx interp_y95i(const LoadYs& s, double vmag) { return (s.ilow + s.m95i * (vmag - s.vlow)) / vmag; }

cplx zipv_current(const UMathLoad& ld, const LoadYs& s, cplx v, double vmag) {
    const double* z = ld.zipv;
    cplx cz(0.0, 0.0), ci(0.0, 0.0), cp(0.0, 0.0);
    cplx curr;
    if (vmag <= s.v95) {
        if (z[0] != 0.0 || z[3] != 0.0) cz = cplx(s.yeq.real() * z[0], s.yeq.imag() * z[3]);
        if (z[2] != 0.0 || z[5] != 0.0) cp = cplx(interp_y95(s, vmag).real() * z[2], interp_y95(s, vmag).imag() * z[5]);
        if (z[1] != 0.0 || z[4] != 0.0) ci = cplx(interp_y95i(s, vmag).real() * z[1], interp_y95i(s, vmag).imag() * z[4]);
        curr = (cz + ci + cp) * v;
    } else if (vmag > s.v105) {
        if (z[0] != 0.0 || z[3] != 0.0) cz = cplx(s.yeq.real() * z[0], s.yeq.imag() * z[3]);
        if (z[2] != 0.0 || z[5] != 0.0) cp = cplx(s.yeq105.real() * z[2], s.yeq105.imag() * z[5]);
        if (z[1] != 0.0 || z[4] != 0.0) ci = cplx(s.yeq105i.real() * z[1], s.yeq105i.imag() * z[4]);
        curr = (cz + ci + cp) * v;
    } else {
        if (z[0] != 0.0 || z[3] != 0.0) cz = cplx(s.yeq.real() * z[0], s.yeq.imag() * z[3]) * v;
        if (z[1] != 0.0 || z[4] != 0.0)
            ci = std::conj(cplx(ld.p_w * z[1], ld.q_var * z[4]) / ((v / vmag) * ld.vbase_v));
        if (z[2] != 0.0 || z[5] != 0.0) cp = std::conj(cplx(ld.p_w * z[2], ld.q_var * z[5]) / v);
        curr = cz + ci + cp;
    }
    if (z[6] > 0.0) {  // low-voltage drop-out
        const double vx = 500.0 * (vmag / ld.vbase_v - z[6]);
        if (vx < 20.0) {
            const double evx = std::exp(2.0 * vx);
            curr *= 0.5 * (1.0 + (evx - 1.0) / (evx + 1.0));
        }
    }
    return curr;
}

/// DoCVRModel inside the band: P = p_w (|V|/vbase)^cvrwatt, Q = q_var (|V|/vbase)^cvrvar.
cplx cvr_current(const UMathLoad& ld, const LoadYs& s, cplx v, double vmag) {
    const double ratio = vmag / ld.vbase_v;
    const double wf = ld.cvrwatt != 1.0 ? std::pow(ratio, ld.cvrwatt) : ratio;
    cplx curr = wf > 0.0 ? std::conj(cplx(ld.p_w * wf, 0.0) / v) : cplx(0.0, 0.0);
    if (vmag == 0.0) return curr;
    if (ld.cvrvar == 2.0) return curr + cplx(0.0, s.yeq.imag()) * v;
    const double vf = ld.cvrvar == 3.0 ? ratio * ratio * ratio : std::pow(ratio, ld.cvrvar);
    return curr + std::conj(cplx(0.0, ld.q_var * vf) / v);
}

}  // namespace

cplx load_phase_current(const UMathLoad& ld, cplx v) {
    if (ld.model == 2) return ld.y_nom * v;  // DoConstantZLoad
    const LoadYs s = load_ys(ld);
    const double vmag = std::abs(v);
    if (vmag <= s.vlow) return s.yeq * v;  // every other model: linear below Vlowpu
    if (ld.model == 8) return zipv_current(ld, s, v, vmag);
    const double yq_fixed = -ld.q_fixed_var / (ld.vbase_v * ld.vbase_v);
    switch (ld.model) {
    case 5:  // DoConstantILoad
        if (vmag <= s.v95) return interp_y95i(s, vmag) * v;
        if (vmag > s.v105) return s.yeq105i * v;
        return std::conj(cplx(ld.p_w, ld.q_var) / ((v / vmag) * ld.vbase_v));
    case 6:  // DoFixedQ
    case 7:  // DoFixedQZ
        if (vmag <= s.v95) return cplx(s.yeq95.real(), yq_fixed) * v;
        if (vmag > s.v105) return cplx(s.yeq105.real(), yq_fixed) * v;
        if (ld.model == 6) return std::conj(cplx(ld.p_w, ld.q_fixed_var) / v);
        return std::conj(cplx(ld.p_w, 0.0) / v) + cplx(0.0, yq_fixed) * v;
    default: break;
    }
    if (vmag <= s.v95) return interp_y95(s, vmag) * v;  // models 1 and 3
    if (vmag > s.v105) return s.yeq105 * v;
    if (ld.model == 3) return std::conj(cplx(ld.p_w, 0.0) / v) + cplx(0.0, s.yeq.imag()) * v;  // DoMotorTypeLoad
    if (ld.model == 4) return cvr_current(ld, s, v, vmag);
    return std::conj(cplx(ld.p_w, ld.q_var) / v);                                               // DoConstantPQLoad
}

namespace {

/// A load law as a sum of terms a |V|^p V (every Load.pas law is one, band by band).
struct Terms {
    cplx a[6];
    double p[6] = {0, 0, 0, 0, 0, 0};
    int n = 0;
    void add(cplx coef, double power) {
        a[n] = coef;
        p[n] = power;
        ++n;
    }
};

/// (Re y zr, Im y zi): OpenDSS's ZIP weighting of an admittance.
cplx weigh(cplx y, double zr, double zi) { return {y.real() * zr, y.imag() * zi}; }

void zipv_terms(const UMathLoad& ld, const LoadYs& s, double vmag, Terms& t) {
    const double* z = ld.zipv;
    const bool zz = z[0] != 0.0 || z[3] != 0.0, zi = z[1] != 0.0 || z[4] != 0.0, zp = z[2] != 0.0 || z[5] != 0.0;
    if (zz) t.add(weigh(s.yeq, z[0], z[3]), 0.0);
    if (vmag <= s.v95) {  // interpolated admittances M + C / |V|
        const cplx c95 = s.ilow - s.m95 * s.vlow, c95i = s.ilow - s.m95i * s.vlow;
        if (zp) {
            t.add(weigh(s.m95, z[2], z[5]), 0.0);
            t.add(weigh(c95, z[2], z[5]), -1.0);
        }
        if (zi) {
            t.add(weigh(s.m95i, z[1], z[4]), 0.0);
            t.add(weigh(c95i, z[1], z[4]), -1.0);
        }
    } else if (vmag > s.v105) {
        if (zp) t.add(weigh(s.yeq105, z[2], z[5]), 0.0);
        if (zi) t.add(weigh(s.yeq105i, z[1], z[4]), 0.0);
    } else {
        if (zi) t.add(std::conj(cplx(ld.p_w * z[1], ld.q_var * z[4])) / ld.vbase_v, -1.0);
        if (zp) t.add(std::conj(cplx(ld.p_w * z[2], ld.q_var * z[5])), -2.0);
    }
}

/// Models 1, 3, 4, 5, 6, 7 above Vlow.
void band_terms(const UMathLoad& ld, const LoadYs& s, double vmag, Terms& t) {
    const bool cur = ld.model == 5;
    const double yq = -ld.q_fixed_var / (ld.vbase_v * ld.vbase_v);
    if (vmag <= s.v95) {
        if (ld.model == 6 || ld.model == 7) return t.add(cplx(s.yeq95.real(), yq), 0.0);
        const cplx m = cur ? s.m95i : s.m95;
        t.add(m, 0.0);
        return t.add(s.ilow - m * s.vlow, -1.0);
    }
    if (vmag > s.v105) {
        if (ld.model == 6 || ld.model == 7) return t.add(cplx(s.yeq105.real(), yq), 0.0);
        return t.add(cur ? s.yeq105i : s.yeq105, 0.0);
    }
    switch (ld.model) {
    case 3: t.add(ld.p_w, -2.0); return t.add(cplx(0.0, s.yeq.imag()), 0.0);
    case 4:
        t.add(ld.p_w / std::pow(ld.vbase_v, ld.cvrwatt), ld.cvrwatt - 2.0);
        if (ld.cvrvar == 2.0) return t.add(cplx(0.0, s.yeq.imag()), 0.0);
        return t.add(cplx(0.0, -ld.q_var / std::pow(ld.vbase_v, ld.cvrvar)), ld.cvrvar - 2.0);
    case 5: return t.add(std::conj(cplx(ld.p_w, ld.q_var)) / ld.vbase_v, -1.0);
    case 6: return t.add(cplx(ld.p_w, -ld.q_fixed_var), -2.0);
    case 7: t.add(ld.p_w, -2.0); return t.add(cplx(0.0, yq), 0.0);
    default: return t.add(std::conj(cplx(ld.p_w, ld.q_var)), -2.0);
    }
}

}  // namespace

UMathLoadCurrentD load_phase_current_d(const UMathLoad& ld, cplx v) {
    const double vmag = std::abs(v);
    Terms t;
    const LoadYs s = load_ys(ld);
    if (ld.model == 2 || vmag <= s.vlow)
        t.add(ld.model == 2 ? ld.y_nom : s.yeq, 0.0);
    else if (ld.model == 8)
        zipv_terms(ld, s, vmag, t);
    else
        band_terms(ld, s, vmag, t);
    UMathLoadCurrentD r;
    const cplx j(0.0, 1.0);
    for (int k = 0; k < t.n; ++k) {  // a |V|^p V: d/dVr = a |V|^p + a p |V|^(p-2) Vr V, d/dVi likewise with j
        const double vp = t.p[k] == 0.0 ? 1.0 : std::pow(vmag, t.p[k]);
        const cplx g = t.p[k] == 0.0 ? cplx(0.0, 0.0) : t.a[k] * t.p[k] * std::pow(vmag, t.p[k] - 2.0) * v;
        r.i += t.a[k] * vp * v;
        r.di_dvr += t.a[k] * vp + g * v.real();
        r.di_dvi += j * t.a[k] * vp + g * v.imag();
    }
    if (ld.model == 8 && vmag > s.vlow && ld.zipv[6] > 0.0) {  // the drop-out factor yv(|V|)
        const double vx = 500.0 * (vmag / ld.vbase_v - ld.zipv[6]);
        if (vx < 20.0) {
            const double th = std::tanh(vx);
            const double yv = 0.5 * (1.0 + th), dyv = 0.5 * (1.0 - th * th) * 500.0 / ld.vbase_v / vmag;
            r.di_dvr = yv * r.di_dvr + r.i * (dyv * v.real());
            r.di_dvi = yv * r.di_dvi + r.i * (dyv * v.imag());
            r.i *= yv;
        }
    }
    return r;
}

void add_load_compensation(const UMathModel& m, const std::vector<cplx>& v, std::vector<cplx>& out) {
    auto node_v = [&v](int n) { return n < 0 ? cplx(0.0, 0.0) : v[static_cast<std::size_t>(n)]; };
    for (const UMathLoad& ld : m.loads) {
        const UMathElement& e = m.elements[static_cast<std::size_t>(ld.element)];
        const auto nc = static_cast<Eigen::Index>(e.node.size());
        // yprim V over the element's conductors (exactly the admittance it put into Y) ...
        for (Eigen::Index r = 0; r < nc; ++r) {
            const int nr = e.node[static_cast<std::size_t>(r)];
            if (nr < 0) continue;
            cplx acc(0.0, 0.0);
            for (Eigen::Index c = 0; c < nc; ++c) acc += e.yprim(r, c) * node_v(e.node[static_cast<std::size_t>(c)]);
            out[static_cast<std::size_t>(nr)] += acc;
        }
        // ... minus the load's own current (StickCurrInTerminalArray)
        for (int k = 0; k < ld.nphases; ++k) {
            const cplx i = load_phase_current(ld, node_v(ld.a[k]) - node_v(ld.b[k]));
            if (ld.a[k] >= 0) out[static_cast<std::size_t>(ld.a[k])] -= i;
            if (ld.b[k] >= 0) out[static_cast<std::size_t>(ld.b[k])] += i;
        }
    }
}

}  // namespace libgrid
