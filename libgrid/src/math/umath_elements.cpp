// libgrid math: primitive admittance matrices of the unbalanced elements, as OpenDSS forms them
// (PDElements/Line.pas, Transformer.pas, Capacitor.pas; PCElements/VSource.pas).
#include "umath_internal.hpp"

#include <libgrid/core/errors.hpp>

#include <cmath>
#include <numbers>

namespace libgrid {

namespace {

constexpr double kTwoPi = 2.0 * std::numbers::pi;
const double kSqrt3 = std::sqrt(3.0);

void require_size(const std::vector<double>& v, int n, const std::string& name, const char* field) {
    if (static_cast<int>(v.size()) != n * n)
        throw ValidationError(umath_detail::quoted_name("line", name) + ": field '" + field + "': expected " + std::to_string(n * n) +
                              " values (nphases^2), got " + std::to_string(v.size()));
}

/// [[A, -A], [-A, A]] plus `shunt` on both diagonal blocks.
Eigen::MatrixXcd two_terminal(const Eigen::MatrixXcd& series, const Eigen::MatrixXcd& shunt) {
    const Eigen::Index n = series.rows();
    Eigen::MatrixXcd y(2 * n, 2 * n);
    y.topLeftCorner(n, n) = series + shunt;
    y.bottomRightCorner(n, n) = series + shunt;
    y.topRightCorner(n, n) = -series;
    y.bottomLeftCorner(n, n) = -series;
    return y;
}

}  // namespace

std::string umath_detail::quoted_name(const char* kind, const std::string& name) {
    return std::string(kind) + "." + name;
}

// Line.pas CalcYPrim (no geometry, base frequency): Zinv = ((R + jX) * length)^-1,
// Yc = j 2 pi f C * length, half at each end.
Eigen::MatrixXcd line_yprim(const ULine& line, double frequency_hz) {
    const int n = line.nphases;
    require_size(line.r_ohm_per_km, n, line.name, "rmatrix");
    require_size(line.x_ohm_per_km, n, line.name, "xmatrix");
    require_size(line.c_nf_per_km, n, line.name, "cmatrix");
    Eigen::MatrixXcd z(n, n), yc(n, n);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j < n; ++j) {
            const auto k = static_cast<std::size_t>(i * n + j);
            z(i, j) = cplx(line.r_ohm_per_km[k], line.x_ohm_per_km[k]) * line.length_km;
            yc(i, j) = cplx(0.0, kTwoPi * frequency_hz * line.c_nf_per_km[k] * 1e-9 * line.length_km);
        }
    Eigen::FullPivLU<Eigen::MatrixXcd> lu(z);
    if (!lu.isInvertible())
        throw ValidationError(umath_detail::quoted_name("line", line.name) +
                              ": field 'rmatrix/xmatrix': the series impedance matrix is singular");
    return two_terminal(lu.inverse(), yc * 0.5);
}

namespace {

/// Winding's voltage base in volts (Transformer.pas RecalcElementData).
double winding_vbase(const UWinding& w, int nphases) {
    if (!w.delta && (nphases == 2 || nphases == 3)) return w.kv * 1000.0 / kSqrt3;
    return w.kv * 1000.0;
}

/// DeltaDirection (RecalcElementData): the delta of the HV side leads (-1: conductor i to i-1).
int delta_direction(const UTransformer& t) {
    const UWinding& w1 = t.windings[0];
    const UWinding& w2 = t.windings[1];
    if (w1.delta == w2.delta) return 1;
    const UWinding& hv = w1.kv >= w2.kv ? w1 : w2;
    return hv.delta ? -1 : 1;  // HVLeadsLV = false (ANSI)
}

int rotate_phase(int i, int dir, int nphases) {  // RotatePhases, 1-based
    int r = i + dir;
    if (nphases > 2) {
        if (r > nphases) r = 1;
        if (r < 1) r = nphases;
    } else if (r < 1) {
        r = 3;
    }
    return r;
}

/// TermRef (SetTermRef): for phase k (0-based) the 2 W conductor indices (0-based) of the windings'
/// two ends, phase-major.
std::vector<int> transformer_term_ref(const UTransformer& t) {
    const int nw = static_cast<int>(t.windings.size());
    const int nc = t.nphases + 1;
    std::vector<int> ref;
    if (t.nphases == 1) {
        for (int j = 1; j <= nw; ++j) {
            ref.push_back((j - 1) * nc);
            ref.push_back(j * nc - 1);
        }
        return ref;
    }
    const int dir = delta_direction(t);
    for (int i = 1; i <= t.nphases; ++i)
        for (int j = 1; j <= nw; ++j) {
            ref.push_back((j - 1) * nc + i - 1);
            if (!t.windings[static_cast<std::size_t>(j - 1)].delta)
                ref.push_back(j * nc - 1);
            else
                ref.push_back((j - 1) * nc + rotate_phase(i, dir, t.nphases) - 1);
        }
    return ref;
}

/// Y_1Volt (W x W, one phase on a one-volt base) from the short-circuit data (CalcY_Terminal).
Eigen::MatrixXcd transformer_y_1volt(const UTransformer& t, double zbase) {
    const int nw = static_cast<int>(t.windings.size());
    const std::vector<double> xsc = {t.xhl_pct / 100.0, t.xht_pct / 100.0, t.xlt_pct / 100.0};
    auto rpu = [&t](int w) { return t.windings[static_cast<std::size_t>(w)].r_pct / 100.0; };
    Eigen::MatrixXcd zb = Eigen::MatrixXcd::Zero(nw - 1, nw - 1);
    for (int i = 0; i < nw - 1; ++i) zb(i, i) = cplx(rpu(0) + rpu(i + 1), xsc[static_cast<std::size_t>(i)]) * zbase;
    std::size_t k = static_cast<std::size_t>(nw - 1);
    for (int i = 0; i < nw - 1; ++i)
        for (int j = i + 1; j < nw - 1; ++j) {
            zb(i, j) = (zb(i, i) + zb(j, j) - cplx(rpu(i + 1) + rpu(j + 1), xsc[k]) * zbase) * 0.5;
            zb(j, i) = zb(i, j);
            ++k;
        }
    Eigen::FullPivLU<Eigen::MatrixXcd> lu(zb);
    if (!lu.isInvertible())
        throw ValidationError(umath_detail::quoted_name("transformer", t.name) +
                              ": field 'xhl/%r': the short-circuit impedance matrix is singular");
    Eigen::MatrixXcd a = Eigen::MatrixXcd::Zero(nw - 1, nw);  // V_1volt differences: -1 on winding 1
    for (int i = 0; i < nw - 1; ++i) {
        a(i, 0) = -1.0;
        a(i, i + 1) = 1.0;
    }
    return a.transpose() * lu.inverse() * a;
}

void validate_transformer(const UTransformer& t) {
    const std::string who = umath_detail::quoted_name("transformer", t.name);
    const auto nw = t.windings.size();
    if (nw != 2 && nw != 3)
        throw ValidationError(who + ": field 'windings': " + std::to_string(nw) + " windings (2 or 3 supported)");
    if (t.nphases < 1) throw ValidationError(who + ": field 'phases': must be at least 1");
    for (std::size_t w = 0; w < nw; ++w) {
        const UWinding& wd = t.windings[w];
        if (!(wd.kv > 0.0) || !(wd.kva > 0.0))
            throw ValidationError(who + ": field 'kv/kva' of winding " + std::to_string(w + 1) + ": must be positive");
    }
}

}  // namespace

// Transformer.pas CalcY_Terminal + BuildYPrimComponent + AddNeutralToY.
Eigen::MatrixXcd transformer_yprim(const UTransformer& t) {
    validate_transformer(t);
    const int nw = static_cast<int>(t.windings.size());
    const int nph = t.nphases;
    const int nc = nph + 1;
    const double va_base = t.windings[0].kva * 1000.0;
    const double zbase = 1.0 / (va_base / nph);  // ohms on a one-volt base
    const double ppm = t.ppm_antifloat * 1e-6;

    Eigen::MatrixXcd y1 = transformer_y_1volt(t, zbase);
    Eigen::MatrixXcd y1_nl = Eigen::MatrixXcd::Zero(nw, nw);
    y1_nl(1, 1) += cplx(t.noload_loss_pct / 100.0 / zbase, -t.imag_pct / 100.0 / zbase);  // winding 2, as OpenDSS

    Eigen::MatrixXcd a = Eigen::MatrixXcd::Zero(nw, 2 * nw);  // winding turns voltage from its two ends
    std::vector<double> y_ppm(static_cast<std::size_t>(nw));
    for (int w = 0; w < nw; ++w) {
        const UWinding& wd = t.windings[static_cast<std::size_t>(w)];
        const double vbase = winding_vbase(wd, nph);
        const double tap = wd.tap == 0.0 ? 0.0001 : wd.tap;  // ZeroTapFix
        a(w, 2 * w) = 1.0 / (vbase * tap);
        a(w, 2 * w + 1) = -1.0 / (vbase * tap);
        y_ppm[static_cast<std::size_t>(w)] = -ppm / (vbase * vbase / (va_base / nph)) / 2.0;
    }
    Eigen::MatrixXcd y_term = a.transpose() * (y1 + y1_nl) * a;
    if (ppm != 0.0)
        for (int w = 0; w < nw; ++w)
            for (int j = 2 * w; j <= 2 * w + 1; ++j) y_term(j, j) += cplx(0.0, y_ppm[static_cast<std::size_t>(w)]);

    const std::vector<int> ref = transformer_term_ref(t);
    Eigen::MatrixXcd y = Eigen::MatrixXcd::Zero(nw * nc, nw * nc);
    for (int i = 0; i < 2 * nw; ++i)
        for (int j = 0; j <= i; ++j)
            for (int k = 0; k < nph; ++k) {
                const int r = ref[static_cast<std::size_t>(i + k * 2 * nw)];
                const int c = ref[static_cast<std::size_t>(j + k * 2 * nw)];
                y(c, r) += y_term(i, j);
                if (r != c) y(r, c) += y_term(i, j);
            }
    for (int w = 0; w < nw; ++w) {  // AddNeutralToY
        const UWinding& wd = t.windings[static_cast<std::size_t>(w)];
        if (wd.delta) continue;
        const int j = (w + 1) * nc - 1;
        if (wd.rneut_ohm >= 0.0)
            y(j, j) += (wd.rneut_ohm == 0.0 && wd.xneut_ohm == 0.0) ? cplx(1e6, 0.0)
                                                                    : 1.0 / cplx(wd.rneut_ohm, wd.xneut_ohm);
        else if (ppm != 0.0)
            y(j, j) += cplx(0.0, y_ppm[static_cast<std::size_t>(w)]);
    }
    return y;
}

// Capacitor.pas RecalcElementData + MakeYprimWork (kvar given; no series reactor): each energised
// step adds C = kvar[1] / nphases / (w kV_phase^2 1000) (OpenDSS sizes every step by the first
// step's kvar). Wye: 2 terminals (bus1, bus2); delta: 1 terminal, conductor i to i+1.
Eigen::MatrixXcd capacitor_yprim(const UCapacitor& c, double frequency_hz) {
    const std::string who = umath_detail::quoted_name("capacitor", c.name);
    if (c.kvar.empty()) throw ValidationError(who + ": field 'kvar': no step");
    if (!(c.kv > 0.0)) throw ValidationError(who + ": field 'kv': must be positive");
    const int n = c.nphases;
    double phase_kv = c.kv;
    if (!c.delta && (n == 2 || n == 3)) phase_kv = c.kv / kSqrt3;
    const double w = kTwoPi * frequency_hz;
    const double cap_f = 1.0 / (w * phase_kv * phase_kv * 1000.0 / (c.kvar[0] / n));
    int energised = 0;
    for (std::size_t s = 0; s < c.kvar.size(); ++s)
        if (s >= c.states.size() || c.states[s] == 1) ++energised;  // a step without a state is in (OpenDSS default)
    const cplx value(0.0, cap_f * w * energised);
    const int nc = umath_detail::capacitor_nconds(c);
    if (c.delta) {
        Eigen::MatrixXcd y = Eigen::MatrixXcd::Zero(nc, nc);
        for (int i = 0; i < n; ++i) {
            const int j = (i + 1) % nc;
            y(i, i) += value;
            y(j, j) += value;
            y(i, j) -= value;
            y(j, i) -= value;
        }
        return y;
    }
    const Eigen::MatrixXcd yd = Eigen::MatrixXcd::Identity(n, n) * value;
    return two_terminal(yd, Eigen::MatrixXcd::Zero(n, n));
}

// VSource.pas: Z = Zs on the diagonal, Zm off it (Zs = (2 Z1 + Z0)/3, Zm = (Z0 - Z1)/3);
// yprim = [[Zinv, -Zinv], [-Zinv, Zinv]] (bus2 = ground).
Eigen::MatrixXcd vsource_yprim(const UVsource& s) {
    const int n = s.nphases;
    const cplx zs = (2.0 * s.z1_ohm + s.z0_ohm) / 3.0;
    const cplx zm = (s.z0_ohm - s.z1_ohm) / 3.0;
    Eigen::MatrixXcd z = Eigen::MatrixXcd::Constant(n, n, zm);
    for (int i = 0; i < n; ++i) z(i, i) = zs;
    Eigen::FullPivLU<Eigen::MatrixXcd> lu(z);
    if (!lu.isInvertible())
        throw ValidationError(umath_detail::quoted_name("vsource", s.name) +
                              ": field 'z1/z0': the source impedance matrix is singular");
    return two_terminal(lu.inverse(), Eigen::MatrixXcd::Zero(n, n));
}

// VSource.pas GetVterminalForSource (snapshot): |E| = basekv pu 1000 / (2 sin(180/n)) (n = 1:
// basekv pu 1000), phase i at angle - (i-1) 360/n.
Eigen::VectorXcd umath_detail::vsource_voltages(const UVsource& s) {
    const int n = s.nphases;
    const double vmag = n == 1 ? s.basekv * s.pu * 1000.0
                               : s.basekv * s.pu * 1000.0 / 2.0 / std::sin(std::numbers::pi / n);
    Eigen::VectorXcd e(n);
    for (int i = 0; i < n; ++i)
        e(i) = std::polar(vmag, (s.angle_deg - i * 360.0 / n) * std::numbers::pi / 180.0);
    return e;
}

}  // namespace libgrid
