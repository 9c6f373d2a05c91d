// libgrid layer 5: PV system with a smart inverter. Equations and sources:
// docs/devices_pv_battery.md.
#include "libgrid/devices/pv.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "libgrid/core/errors.hpp"

namespace libgrid {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDeg = kPi / 180.0;

std::string num(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", x);
    return buf;
}

[[noreturn]] void fail(const std::string& who, const char* field, const std::string& why) {
    throw ValidationError(who + ": field '" + field + "': " + why);
}

void require_finite(double x, const std::string& who, const char* field) {
    if (!std::isfinite(x)) fail(who, field, "must be a finite number (got " + num(x) + ")");
}

void require_range(double x, double lo, double hi, const std::string& who, const char* field) {
    require_finite(x, who, field);
    if (x < lo || x > hi)
        fail(who, field, "must be in [" + num(lo) + ", " + num(hi) + "] (got " + num(x) + ")");
}

void require_positive(double x, const std::string& who, const char* field) {
    require_finite(x, who, field);
    if (!(x > 0.0)) fail(who, field, "must be > 0 (got " + num(x) + ")");
}

void validate_curve(const VoltVarCurve& c, const std::string& who) {
    require_positive(c.v1_pu, who, "vv.v1_pu");
    require_positive(c.v2_pu, who, "vv.v2_pu");
    require_positive(c.v3_pu, who, "vv.v3_pu");
    require_positive(c.v4_pu, who, "vv.v4_pu");
    require_range(c.q1_pu, -1.0, 1.0, who, "vv.q1_pu");
    require_range(c.q2_pu, -1.0, 1.0, who, "vv.q2_pu");
    require_range(c.q3_pu, -1.0, 1.0, who, "vv.q3_pu");
    require_range(c.q4_pu, -1.0, 1.0, who, "vv.q4_pu");
    if (!(c.v1_pu < c.v2_pu)) fail(who, "vv.v2_pu", "must be > v1_pu (got " + num(c.v2_pu) + ")");
    if (!(c.v2_pu <= c.v3_pu)) fail(who, "vv.v3_pu", "must be >= v2_pu (got " + num(c.v3_pu) + ")");
    if (!(c.v3_pu < c.v4_pu)) fail(who, "vv.v4_pu", "must be > v3_pu (got " + num(c.v4_pu) + ")");
    // Q must not increase with voltage: q1 >= q2 >= q3 >= q4
    if (!(c.q2_pu <= c.q1_pu))
        fail(who, "vv.q2_pu", "must be <= q1_pu " + num(c.q1_pu) + " (got " + num(c.q2_pu) + ")");
    if (!(c.q3_pu <= c.q2_pu))
        fail(who, "vv.q3_pu", "must be <= q2_pu " + num(c.q2_pu) + " (got " + num(c.q3_pu) + ")");
    if (!(c.q4_pu <= c.q3_pu))
        fail(who, "vv.q4_pu", "must be <= q3_pu " + num(c.q3_pu) + " (got " + num(c.q4_pu) + ")");
}

void validate_curve(const VoltWattCurve& c, const std::string& who) {
    require_positive(c.v1_pu, who, "vw.v1_pu");
    require_positive(c.v2_pu, who, "vw.v2_pu");
    if (!(c.v1_pu < c.v2_pu)) fail(who, "vw.v2_pu", "must be > v1_pu (got " + num(c.v2_pu) + ")");
    require_range(c.p1_pu, 0.0, 1.0, who, "vw.p1_pu");
    require_range(c.p2_pu, 0.0, 1.0, who, "vw.p2_pu");
    if (!(c.p2_pu <= c.p1_pu)) fail(who, "vw.p2_pu", "must be <= p1_pu (got " + num(c.p2_pu) + ")");
}

}  // namespace

PvParams PvParams::ieee1547_cat_b(double kwp_dc, double inverter_kva) {
    PvParams p;
    p.kwp_dc = kwp_dc;
    p.inverter_kva = inverter_kva;
    p.qmode = QControl::VoltVar;
    p.vv = VoltVarCurve::ieee1547_cat_b();
    p.volt_watt = true;
    p.vw = VoltWattCurve::ieee1547_cat_b();
    p.priority = InverterPriority::Var;
    return p;
}

void validate(const PvParams& p, const std::string& who) {
    require_positive(p.kwp_dc, who, "kwp_dc");
    require_range(p.tilt_deg, 0.0, 90.0, who, "tilt_deg");
    require_finite(p.azimuth_deg, who, "azimuth_deg");
    if (p.azimuth_deg < 0.0 || p.azimuth_deg >= 360.0)
        fail(who, "azimuth_deg", "must be in [0, 360) (got " + num(p.azimuth_deg) + ")");
    require_range(p.albedo, 0.0, 1.0, who, "albedo");
    if (p.sky != SkyModel::Isotropic && p.sky != SkyModel::HayDavies)
        fail(who, "sky", "unknown sky model " + std::to_string(static_cast<int>(p.sky)));
    require_range(p.gamma_pdc_per_c, -0.02, 0.0, who, "gamma_pdc_per_c");
    switch (p.temp_model) {
        case CellTempModel::Noct: require_range(p.noct_c, 20.0, 80.0, who, "noct_c"); break;
        case CellTempModel::Faiman:
            require_positive(p.faiman_u0, who, "faiman_u0");
            require_range(p.faiman_u1, 0.0, 1000.0, who, "faiman_u1");
            break;
        default: fail(who, "temp_model", "unknown cell temperature model");
    }
    require_range(p.dc_losses, 0.0, 1.0, who, "dc_losses");
    if (p.dc_losses >= 1.0) fail(who, "dc_losses", "must be < 1 (got " + num(p.dc_losses) + ")");
    require_positive(p.inverter_kva, who, "inverter_kva");
    require_positive(p.inverter_eta_nom, who, "inverter_eta_nom");
    if (p.inverter_eta_nom > 1.0)
        fail(who, "inverter_eta_nom", "must be <= 1 (got " + num(p.inverter_eta_nom) + ")");
    switch (p.qmode) {
        case QControl::None: break;
        case QControl::FixedPF:
            require_range(p.pf, -1.0, 1.0, who, "pf");
            if (p.pf == 0.0) fail(who, "pf", "must be nonzero: 0 < |pf| <= 1");
            break;
        case QControl::VoltVar: validate_curve(p.vv, who); break;
        default: fail(who, "qmode", "unknown reactive power control");
    }
    if (p.volt_watt) validate_curve(p.vw, who);
    if (p.priority != InverterPriority::Var && p.priority != InverterPriority::Watt)
        fail(who, "priority", "unknown inverter priority");
}

void validate(const PvWeather& w, const std::string& who) {
    require_finite(w.ghi_wm2, who, "ghi_wm2");
    require_finite(w.dni_wm2, who, "dni_wm2");
    require_finite(w.dhi_wm2, who, "dhi_wm2");
    if (w.ghi_wm2 < 0.0) fail(who, "ghi_wm2", "must be >= 0 (got " + num(w.ghi_wm2) + ")");
    if (w.dni_wm2 < 0.0) fail(who, "dni_wm2", "must be >= 0 (got " + num(w.dni_wm2) + ")");
    if (w.dhi_wm2 < 0.0) fail(who, "dhi_wm2", "must be >= 0 (got " + num(w.dhi_wm2) + ")");
    require_range(w.sun_zenith_deg, 0.0, 180.0, who, "sun_zenith_deg");
    require_finite(w.sun_azimuth_deg, who, "sun_azimuth_deg");
    require_range(w.t_amb_c, -90.0, 70.0, who, "t_amb_c");
    require_range(w.wind_ms, 0.0, 100.0, who, "wind_ms");
    if (w.day_of_year < 1 || w.day_of_year > 366)
        fail(who, "day_of_year", "must be in [1, 366] (got " + std::to_string(w.day_of_year) + ")");
}

double cos_incidence(double tilt_deg, double surface_azimuth_deg, double sun_zenith_deg,
                     double sun_azimuth_deg) {
    const double beta = tilt_deg * kDeg;
    const double z = sun_zenith_deg * kDeg;
    return std::cos(z) * std::cos(beta) +
           std::sin(z) * std::sin(beta) * std::cos((sun_azimuth_deg - surface_azimuth_deg) * kDeg);
}

double extraterrestrial_irradiance(int day_of_year) {
    constexpr double G_sc = 1361.0;  // W/m2, Kopp and Lean (2011)
    return G_sc * (1.0 + 0.033 * std::cos(2.0 * kPi * day_of_year / 365.0));
}

PoaIrradiance poa_components(double tilt_deg, double surface_azimuth_deg, double albedo,
                             SkyModel sky, const PvWeather& w) {
    const double cos_beta = std::cos(tilt_deg * kDeg);
    const bool sun_up = w.sun_zenith_deg < 90.0;
    const double cos_theta =
        sun_up ? std::max(0.0, cos_incidence(tilt_deg, surface_azimuth_deg, w.sun_zenith_deg,
                                             w.sun_azimuth_deg))
               : 0.0;

    PoaIrradiance poa;
    poa.beam_wm2 = w.dni_wm2 * cos_theta;
    const double isotropic = (1.0 + cos_beta) / 2.0;
    if (sky == SkyModel::HayDavies) {
        // anisotropy index A_i = DNI / G_on; circumsolar part projected like the beam, R_b.
        const double A_i = std::min(1.0, w.dni_wm2 / extraterrestrial_irradiance(w.day_of_year));
        const double cos_z = std::max(std::cos(w.sun_zenith_deg * kDeg), 0.01745);  // cos 89 deg
        const double R_b = sun_up ? cos_theta / cos_z : 0.0;
        poa.sky_diffuse_wm2 = w.dhi_wm2 * (A_i * R_b + (1.0 - A_i) * isotropic);
    } else {
        poa.sky_diffuse_wm2 = w.dhi_wm2 * isotropic;
    }
    poa.ground_wm2 = w.ghi_wm2 * albedo * (1.0 - cos_beta) / 2.0;
    return poa;
}

double poa_irradiance(const PvParams& params, const PvWeather& w) {
    return poa_components(params.tilt_deg, params.azimuth_deg, params.albedo, params.sky, w)
        .total_wm2();
}

double cell_temperature(const PvParams& params, double poa_wm2, double t_amb_c, double wind_ms) {
    if (params.temp_model == CellTempModel::Faiman)
        return t_amb_c + poa_wm2 / (params.faiman_u0 + params.faiman_u1 * wind_ms);
    return t_amb_c + (params.noct_c - 20.0) / 800.0 * poa_wm2;
}

double dc_power_kw(const PvParams& params, double poa_wm2, double t_cell_c) {
    const double p_dc = params.kwp_dc * (poa_wm2 / 1000.0) *
                        (1.0 + params.gamma_pdc_per_c * (t_cell_c - 25.0)) *
                        (1.0 - params.dc_losses);
    return std::max(0.0, p_dc);
}

double inverter_efficiency(const PvParams& params, double p_dc_kw) {
    if (!(p_dc_kw > 0.0)) return 0.0;
    constexpr double eta_ref = 0.9637;  // PVWatts reference efficiency (Dobos 2014)
    const double p_dc0 = params.inverter_kva / params.inverter_eta_nom;
    const double zeta = p_dc_kw / p_dc0;
    const double eta =
        params.inverter_eta_nom / eta_ref * (-0.0162 * zeta - 0.0059 / zeta + 0.9858);
    return std::max(0.0, eta);
}

double inverter_ac_kw(const PvParams& params, double p_dc_kw) {
    const double p_ac = inverter_efficiency(params, p_dc_kw) * p_dc_kw;
    return std::clamp(p_ac, 0.0, params.inverter_kva);
}

double volt_var_q_pu(const VoltVarCurve& c, double v) {
    if (v <= c.v1_pu) return c.q1_pu;
    if (v >= c.v4_pu) return c.q4_pu;
    if (v < c.v2_pu) return c.q1_pu + (c.q2_pu - c.q1_pu) * (v - c.v1_pu) / (c.v2_pu - c.v1_pu);
    if (v <= c.v3_pu) {
        if (c.v3_pu == c.v2_pu) return c.q2_pu;
        return c.q2_pu + (c.q3_pu - c.q2_pu) * (v - c.v2_pu) / (c.v3_pu - c.v2_pu);
    }
    return c.q3_pu + (c.q4_pu - c.q3_pu) * (v - c.v3_pu) / (c.v4_pu - c.v3_pu);
}

double volt_watt_p_pu(const VoltWattCurve& c, double v) {
    if (v <= c.v1_pu) return c.p1_pu;
    if (v >= c.v2_pu) return c.p2_pu;
    return c.p1_pu + (c.p2_pu - c.p1_pu) * (v - c.v1_pu) / (c.v2_pu - c.v1_pu);
}

PvOutput pv_step(const PvParams& params, const PvWeather& w, double v_pu) {
    // Cheap input checks on the hot path; the message names the field, the caller adds the id.
    if (!(w.ghi_wm2 >= 0.0) || !(w.dni_wm2 >= 0.0) || !(w.dhi_wm2 >= 0.0) ||
        !std::isfinite(w.ghi_wm2 + w.dni_wm2 + w.dhi_wm2 + w.sun_zenith_deg + w.sun_azimuth_deg +
                       w.t_amb_c + w.wind_ms))
    {
        validate(w, "pv_step");  // throws naming the offending field
        fail("pv_step", "weather", "irradiance, angles, temperature and wind must be finite");
    }
    if (!(v_pu > 0.0) || !std::isfinite(v_pu))
        fail("pv_step", "v_pu", "must be a finite voltage > 0 (got " + num(v_pu) + ")");

    const double S = params.inverter_kva;
    PvOutput out;
    out.poa_wm2 = poa_irradiance(params, w);
    out.t_cell_c = cell_temperature(params, out.poa_wm2, w.t_amb_c, w.wind_ms);
    out.p_dc_kw = dc_power_kw(params, out.poa_wm2, out.t_cell_c);

    const double p_ac_unclipped = std::max(0.0, inverter_efficiency(params, out.p_dc_kw) * out.p_dc_kw);
    out.available_kw = std::min(p_ac_unclipped, S);
    out.clipped_kw = p_ac_unclipped - out.available_kw;

    // Volt-watt: active power limit relative to rated active power (= S at unity PF).
    const double p_limit = params.volt_watt ? volt_watt_p_pu(params.vw, v_pu) * S : S;
    double P = std::min(out.available_kw, p_limit);
    double Q = 0.0;
    const bool inverter_on = out.available_kw > 0.0 || params.var_at_night;

    switch (params.qmode) {
        case QControl::None: break;
        case QControl::FixedPF: {
            const double pf = std::abs(params.pf);
            const double tan_phi = std::sqrt(1.0 - pf * pf) / pf;
            Q = std::copysign(P * tan_phi, params.pf);
            const double S_req = std::hypot(P, Q);
            if (S_req > S) {  // keep the power factor: scale P and Q together
                const double k = S / S_req;
                P *= k;
                Q *= k;
            }
            break;
        }
        case QControl::VoltVar: {
            const double Q_want = inverter_on ? volt_var_q_pu(params.vv, v_pu) * S : 0.0;
            if (params.priority == InverterPriority::Var) {
                Q = std::clamp(Q_want, -S, S);
                P = std::min(P, std::sqrt(std::max(0.0, S * S - Q * Q)));
            } else {
                const double Q_max = std::sqrt(std::max(0.0, S * S - P * P));
                Q = std::clamp(Q_want, -Q_max, Q_max);
            }
            break;
        }
    }
    out.p_kw = P;
    out.q_kvar = Q;
    out.curtailed_kw = out.available_kw - P;
    return out;
}

}  // namespace libgrid
