// libgrid devices: building RC model with BEMS, presets, and the HEMS home. See building.hpp and
// docs/devices_ev_building.md.
#include <libgrid/devices/building.hpp>
#include <libgrid/core/errors.hpp>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <sstream>

namespace libgrid {

namespace {

std::string num(double x) {
    std::ostringstream os;
    os.precision(10);
    os << x;
    return os.str();
}

[[noreturn]] void fail(const std::string& who, const std::string& field, const std::string& msg) {
    throw ValidationError(who + ": field '" + field + "': " + msg);
}

// The checks take a function that names the owner, called only on failure: validating allocates nothing.
template <class Who>
void positive(const Who& who, const char* field, double x, bool allow_inf = false) {
    if (!(x > 0.0) || (!allow_inf && std::isinf(x)))
        fail(who(), field, std::string("must be > 0") + (allow_inf ? "" : " and finite") + " (got " + num(x) + ")");
}
template <class Who>
void nonneg(const Who& who, const char* field, double x, bool allow_inf = false) {
    if (std::isnan(x) || x < 0.0 || (!allow_inf && std::isinf(x)))
        fail(who(), field, std::string("must be >= 0") + (allow_inf ? "" : " and finite") + " (got " + num(x) + ")");
}
template <class Who>
void unit(const Who& who, const char* field, double x) {
    if (!(x >= 0.0 && x <= 1.0)) fail(who(), field, "must be in [0, 1] (got " + num(x) + ")");
}
template <class Who>
void schedule(const Who& who, const char* field, const DaySchedule& s) {
    for (int h = 0; h < 24; ++h) {
        const double a = s.weekday[static_cast<std::size_t>(h)], b = s.weekend[static_cast<std::size_t>(h)];
        if (std::isnan(a) || a < 0.0 || std::isinf(a))
            fail(who(), field, "weekday hour " + std::to_string(h) + " must be >= 0 and finite (got " + num(a) + ")");
        if (std::isnan(b) || b < 0.0 || std::isinf(b))
            fail(who(), field, "weekend hour " + std::to_string(h) + " must be >= 0 and finite (got " + num(b) + ")");
    }
}

std::string who_of(const BuildingParams& p) { return "Building " + std::to_string(p.id); }

double conductance(double R) { return std::isinf(R) ? 0.0 : 1.0 / R; }

}  // namespace

std::string to_string(BuildingType t) {
    switch (t) {
        case BuildingType::TerraceHouse: return "terrace_house";
        case BuildingType::Shophouse: return "shophouse";
        case BuildingType::Office: return "office";
        case BuildingType::Mall: return "mall";
        case BuildingType::Hotel: return "hotel";
    }
    return "?";
}

BuildingType parse_building_type(const std::string& s) {
    if (s == "terrace_house") return BuildingType::TerraceHouse;
    if (s == "shophouse") return BuildingType::Shophouse;
    if (s == "office") return BuildingType::Office;
    if (s == "mall") return BuildingType::Mall;
    if (s == "hotel") return BuildingType::Hotel;
    throw ValidationError("building type: unknown '" + s + "' (expected terrace_house, shophouse, office, mall, hotel)");
}

void validate(const BuildingParams& p) {
    const auto who = [&p] { return who_of(p); };
    positive(who, "floor_area_m2", p.floor_area_m2);
    positive(who, "R_ea_k_per_kw", p.R_ea_k_per_kw, true);
    positive(who, "R_am_k_per_kw", p.R_am_k_per_kw);
    positive(who, "R_me_k_per_kw", p.R_me_k_per_kw, true);
    if (std::isinf(p.R_ea_k_per_kw) && std::isinf(p.R_me_k_per_kw))
        fail(who(), "R_ea_k_per_kw", "R_ea and R_me are both infinite: the building has no path to outdoors");
    positive(who, "C_air_kwh_per_k", p.C_air_kwh_per_k);
    positive(who, "C_mass_kwh_per_k", p.C_mass_kwh_per_k);
    nonneg(who, "solar_aperture_m2", p.solar_aperture_m2);
    unit(who, "solar_to_air_fraction", p.solar_to_air_fraction);
    unit(who, "internal_to_air_fraction", p.internal_to_air_fraction);
    unit(who, "electric_gain_fraction", p.electric_gain_fraction);
    schedule(who, "occupant_gains_kw", p.occupant_gains_kw);
    schedule(who, "lighting_kw", p.lighting_kw);
    schedule(who, "plug_kw", p.plug_kw);
    schedule(who, "ac_schedule", p.ac_schedule);
    schedule(who, "hot_water_kw", p.hot_water_kw);
    nonneg(who, "ac_capacity_kw_th", p.ac_capacity_kw_th);
    if (!(p.sensible_heat_ratio > 0.0 && p.sensible_heat_ratio <= 1.0))
        fail(who(), "sensible_heat_ratio", "must be in (0, 1] (got " + num(p.sensible_heat_ratio) + ")");
    positive(who, "cop_nom", p.cop_nom);
    nonneg(who, "cop_slope_per_k", p.cop_slope_per_k);
    positive(who, "cop_min", p.cop_min);
    positive(who, "cop_max", p.cop_max);
    if (p.cop_min > p.cop_max) fail(who(), "cop_min", "must be <= cop_max (" + num(p.cop_max) + ")");
    if (!std::isfinite(p.setpoint_c) || p.setpoint_c < 10.0 || p.setpoint_c > 35.0)
        fail(who(), "setpoint_c", "must be in [10, 35] degC (got " + num(p.setpoint_c) + ")");
    positive(who, "band_k", p.band_k);
    if (!(p.optimum_start_max_h >= 0.0 && p.optimum_start_max_h < 24.0))
        fail(who(), "optimum_start_max_h", "must be in [0, 24) h (got " + num(p.optimum_start_max_h) + ")");
    if (static_cast<int>(p.mode) < 0 || static_cast<int>(p.mode) > 3) fail(who(), "mode", "unknown BEMS mode");
    if (static_cast<int>(p.ac_control) < 0 || static_cast<int>(p.ac_control) > 1) fail(who(), "ac_control", "unknown AC control");
    if (!(p.precool_start_hour >= 0.0 && p.precool_start_hour <= p.precool_end_hour && p.precool_end_hour <= 24.0))
        fail(who(), "precool_start_hour", "need 0 <= precool_start_hour <= precool_end_hour <= 24 (got " +
                                            num(p.precool_start_hour) + ", " + num(p.precool_end_hour) + ")");
    nonneg(who, "precool_offset_k", p.precool_offset_k);
    nonneg(who, "precool_peak_raise_k", p.precool_peak_raise_k);
    for (std::size_t i = 0; i < p.dr_events.size(); ++i) {
        const DrEvent& e = p.dr_events[i];
        const auto we = [&p, i] { return who_of(p) + " dr_events[" + std::to_string(i) + "]"; };
        if (!(e.end > e.start)) fail(we(), "end", "must be after start (" + std::to_string(e.start) + ")");
        nonneg(we, "setpoint_raise_k", e.setpoint_raise_k);
        nonneg(we, "power_cap_kw", e.power_cap_kw, true);
        if (i > 0 && e.start < p.dr_events[i - 1].end)
            fail(we(), "start", "events must be sorted by start and not overlap (previous ends at " +
                                  std::to_string(p.dr_events[i - 1].end) + ")");
    }
    positive(who, "water_heater_cop", p.water_heater_cop);
    if (static_cast<int>(p.solar_thermal_use) < 0 || static_cast<int>(p.solar_thermal_use) > 2)
        fail(who(), "solar_thermal_use", "unknown use");
    nonneg(who, "solar_thermal_area_m2", p.solar_thermal_area_m2);
    unit(who, "solar_thermal_eta", p.solar_thermal_eta);
    positive(who, "absorption_cop", p.absorption_cop);
    nonneg(who, "hot_water_tank_kwh", p.hot_water_tank_kwh);
}

double ac_cop(const BuildingParams& p, double t_out_c) {
    return std::clamp(p.cop_nom - p.cop_slope_per_k * (t_out_c - 35.0), p.cop_min, p.cop_max);
}

BuildingDiscretisation discretise(const BuildingParams& p, double dt_s) {
    const auto who = [&p] { return who_of(p); };
    if (!(dt_s > 0.0) || !std::isfinite(dt_s)) fail(who(), "dt_s", "must be > 0 and finite (got " + num(dt_s) + ")");
    positive(who, "R_ea_k_per_kw", p.R_ea_k_per_kw, true);
    positive(who, "R_am_k_per_kw", p.R_am_k_per_kw);
    positive(who, "R_me_k_per_kw", p.R_me_k_per_kw, true);
    positive(who, "C_air_kwh_per_k", p.C_air_kwh_per_k);
    positive(who, "C_mass_kwh_per_k", p.C_mass_kwh_per_k);

    const double Gea = conductance(p.R_ea_k_per_kw), Gam = 1.0 / p.R_am_k_per_kw, Gme = conductance(p.R_me_k_per_kw);
    if (Gea + Gme <= 0.0) fail(who(), "R_ea_k_per_kw", "R_ea and R_me are both infinite: the building has no path to outdoors");
    const double Ca = p.C_air_kwh_per_k, Cm = p.C_mass_kwh_per_k;
    // dx/dt = A x + B u, t in hours; x = (T_air, T_mass), u = (T_out, Phi_air, Phi_mass)
    const double a11 = -(Gea + Gam) / Ca, a12 = Gam / Ca;
    const double a21 = Gam / Cm, a22 = -(Gam + Gme) / Cm;
    const double B[2][3] = {{Gea / Ca, 1.0 / Ca, 0.0}, {Gme / Cm, 0.0, 1.0 / Cm}};

    const double tr = a11 + a22;
    const double det = a11 * a22 - a12 * a21;  // = (Gea Gam + Gea Gme + Gam Gme) / (Ca Cm) > 0
    const double disc = std::sqrt((a11 - a22) * (a11 - a22) + 4.0 * a12 * a21);  // > 0: distinct real eigenvalues
    const double lam2 = 0.5 * (tr - disc);  // fast (most negative)
    const double lam1 = det / lam2;         // slow; product form avoids cancellation
    const double dt_h = dt_s / 3600.0;
    const double e1 = std::exp(lam1 * dt_h), e2 = std::exp(lam2 * dt_h);
    // Sylvester: exp(A dt) = c0 I + c1 A
    const double c1 = (e1 - e2) / (lam1 - lam2);
    const double c0 = (lam1 * e2 - lam2 * e1) / (lam1 - lam2);

    BuildingDiscretisation d;
    d.dt_s = dt_s;
    d.R_ea = p.R_ea_k_per_kw;
    d.R_am = p.R_am_k_per_kw;
    d.R_me = p.R_me_k_per_kw;
    d.C_air = Ca;
    d.C_mass = Cm;
    d.Phi[0][0] = c0 + c1 * a11;
    d.Phi[0][1] = c1 * a12;
    d.Phi[1][0] = c1 * a21;
    d.Phi[1][1] = c0 + c1 * a22;
    // Gamma = A^-1 (Phi - I) B = ((c0 - 1) A^-1 + c1 I) B
    const double Ainv[2][2] = {{a22 / det, -a12 / det}, {-a21 / det, a11 / det}};
    double M[2][2];
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) M[i][j] = (c0 - 1.0) * Ainv[i][j] + (i == j ? c1 : 0.0);
    for (int i = 0; i < 2; ++i)
        for (int k = 0; k < 3; ++k) d.Gamma[i][k] = M[i][0] * B[0][k] + M[i][1] * B[1][k];
    d.A[0][0] = a11;
    d.A[0][1] = a12;
    d.A[1][0] = a21;
    d.A[1][1] = a22;
    for (int i = 0; i < 2; ++i)
        for (int k = 0; k < 3; ++k) d.B[i][k] = B[i][k];
    d.lambda_slow = lam1;
    d.lambda_fast = lam2;
    return d;
}

double predict_air_c(const BuildingDiscretisation& d, double T_air, double T_mass, double t_out_c, double phi_air_kw,
                     double phi_mass_kw, double tau_h) {
    if (!(tau_h > 0.0)) return T_air;
    // steady state x_ss = -A^-1 B u, then x(tau) = x_ss + exp(A tau) (x0 - x_ss), exp(A tau) = c0 I + c1 A
    const double a11 = d.A[0][0], a12 = d.A[0][1], a21 = d.A[1][0], a22 = d.A[1][1];
    const double det = a11 * a22 - a12 * a21;
    const double b0 = d.B[0][0] * t_out_c + d.B[0][1] * phi_air_kw + d.B[0][2] * phi_mass_kw;
    const double b1 = d.B[1][0] * t_out_c + d.B[1][1] * phi_air_kw + d.B[1][2] * phi_mass_kw;
    const double Ta_ss = -(a22 * b0 - a12 * b1) / det, Tm_ss = -(-a21 * b0 + a11 * b1) / det;
    const double l1 = d.lambda_slow, l2 = d.lambda_fast;
    const double e1 = std::exp(l1 * tau_h), e2 = std::exp(l2 * tau_h);
    const double c1 = (e1 - e2) / (l1 - l2);
    const double c0 = (l1 * e2 - l2 * e1) / (l1 - l2);
    return Ta_ss + (c0 + c1 * a11) * (T_air - Ta_ss) + c1 * a12 * (T_mass - Tm_ss);
}

namespace {

/// Rebuild the discretisation when the step or the RC parameters changed (validates p then).
void ensure_discretised(const BuildingParams& p, BuildingState& s, double dt_s) {
    BuildingDiscretisation& D = s.disc;
    if (D.dt_s != dt_s || D.R_ea != p.R_ea_k_per_kw || D.R_am != p.R_am_k_per_kw || D.R_me != p.R_me_k_per_kw ||
        D.C_air != p.C_air_kwh_per_k || D.C_mass != p.C_mass_kwh_per_k) {
        validate(p);
        D = discretise(p, dt_s);  // no heap: a plain struct
        s.dr_cursor = 0;
    }
}

void check_building_input(const BuildingParams& p, const BuildingState& s, const BuildingInput& in) {
    if (!std::isfinite(in.t_out_c) || in.t_out_c < -50.0 || in.t_out_c > 70.0)
        throw ValidationError(who_of(p) + ": input field 't_out_c': must be in [-50, 70] degC (got " + num(in.t_out_c) + ")");
    if (!std::isfinite(in.ghi_w_m2) || in.ghi_w_m2 < 0.0 || in.ghi_w_m2 > 2000.0)
        throw ValidationError(who_of(p) + ": input field 'ghi_w_m2': must be in [0, 2000] W/m2 (got " + num(in.ghi_w_m2) + ")");
    if (!(in.hour_of_day >= 0.0 && in.hour_of_day < 24.0))
        throw ValidationError(who_of(p) + ": input field 'hour_of_day': must be in [0, 24) (got " + num(in.hour_of_day) + ")");
    if (!std::isfinite(s.T_air_c) || !std::isfinite(s.T_mass_c))
        throw ValidationError(who_of(p) + ": state T_air_c / T_mass_c must be finite");
}

/// Heat gains into the air and the mass node, kW; sets the schedule outputs (occupied, lights, plugs).
struct Gains {
    double air, mass;
};
Gains zone_gains(const BuildingParams& p, const BuildingInput& in, int hr, bool wd, BuildingOutput& o) {
    o.occupied = p.ac_schedule.at(hr, wd) > 0.5;
    o.p_lighting_kw = p.lighting_kw.at(hr, wd);
    o.p_plug_kw = p.plug_kw.at(hr, wd);
    const double Q_int = p.occupant_gains_kw.at(hr, wd) + p.electric_gain_fraction * (o.p_lighting_kw + o.p_plug_kw);
    const double Q_sol = p.solar_aperture_m2 * in.ghi_w_m2 / 1000.0;
    const double Phi_air = p.internal_to_air_fraction * Q_int + p.solar_to_air_fraction * Q_sol;
    const double Phi_mass = (1.0 - p.internal_to_air_fraction) * Q_int + (1.0 - p.solar_to_air_fraction) * Q_sol;
    return {Phi_air, Phi_mass};
}

/// BEMS: the effective setpoint, whether the AC may run, and the demand-response power cap.
struct BemsDecision {
    double T_set;
    bool allowed;
    double p_cap;
};
BemsDecision bems(const BuildingParams& p, BuildingState& s, const BuildingInput& in, bool occupied) {
    BemsDecision b{p.setpoint_c, occupied, kInf};
    const bool precool = p.mode == BemsMode::PreCool || p.mode == BemsMode::PreCoolAndDemandResponse;
    const bool dr = p.mode == BemsMode::DemandResponse || p.mode == BemsMode::PreCoolAndDemandResponse;
    if (precool) {
        if (in.weekday && in.hour_of_day >= p.precool_start_hour && in.hour_of_day < p.precool_end_hour) {
            b.T_set -= p.precool_offset_k;
            b.allowed = true;
        }
        if (in.is_peak) b.T_set += p.precool_peak_raise_k;
    }
    if (dr && !p.dr_events.empty()) {
        if (s.dr_cursor > p.dr_events.size() || (s.dr_cursor > 0 && p.dr_events[s.dr_cursor - 1].end > in.t))
            s.dr_cursor = 0;  // time went backwards or events were edited: rescan
        while (s.dr_cursor < p.dr_events.size() && p.dr_events[s.dr_cursor].end <= in.t) ++s.dr_cursor;
        if (s.dr_cursor < p.dr_events.size() && p.dr_events[s.dr_cursor].start <= in.t) {
            b.T_set += p.dr_events[s.dr_cursor].setpoint_raise_k;
            b.p_cap = p.dr_events[s.dr_cursor].power_cap_kw;
        }
    }
    return b;
}

/// BEMS optimum start: ahead of the day's next conditioned hour, start the AC at the last step from
/// which full cooling still brings the air to the setpoint when that hour begins (inputs held at their
/// present values over the lead: a persistence forecast). Latched until the period begins.
struct FreeResponse {
    double Ta, Tm;  ///< air and mass at the step's end without cooling
};
bool optimum_start(const BuildingParams& p, const BuildingState& s, const BuildingInput& in, int hr, double dt_h,
                   const FreeResponse& fr, const Gains& gains, double q_avail, double T_set, bool occupied) {
    if (occupied || !(p.optimum_start_max_h > 0.0) || !(q_avail > 0.0)) return false;
    double tau_h = -1.0;  // hours to the next conditioned hour today, within the lead
    for (int h = hr + 1; h < 24 && h - in.hour_of_day <= p.optimum_start_max_h; ++h)
        if (p.ac_schedule.at(h, in.weekday) > 0.5) {
            tau_h = h - in.hour_of_day;
            break;
        }
    if (!(tau_h > 0.0)) return false;
    // starting one step later: free over this step, then full cooling for the rest of the lead
    return s.optimum_start_on ||
           predict_air_c(s.disc, fr.Ta, fr.Tm, in.t_out_c, gains.air - q_avail, gains.mass, tau_h - dt_h) > T_set;
}

/// Step-average cooling (kW thermal) the control asks for: proportional, or an on/off unit's average.
double cooling_kw(const BuildingParams& p, BuildingState& s, bool allowed, double Ta0, double Ta_free, double T_set,
                  double g, double q_avail) {
    double Q = 0.0;
    if (p.ac_control == AcControl::Proportional) {
        if (allowed) Q = std::clamp((Ta_free - T_set) / g, 0.0, q_avail);
    } else {
        if (!allowed)
            s.ac_on = false;
        else if (Ta0 > T_set + p.band_k)
            s.ac_on = true;
        // a cycling unit's step average: full capacity, but off once the air reaches the band's lower edge
        if (s.ac_on) Q = std::clamp((Ta_free - (T_set - p.band_k)) / g, 0.0, q_avail);
    }
    return Q;
}

/// Water heating's electric power, drawing on the solar-thermal store when so used.
double water_heating_kw(const BuildingParams& p, BuildingState& s, const BuildingOutput& o, int hr, bool wd, double dt_h) {
    const double q_dhw = p.hot_water_kw.at(hr, wd);
    double q_dhw_elec = q_dhw;
    if (p.solar_thermal_use == SolarThermalUse::WaterHeating) {
        double E = s.tank_kwh + o.q_solar_thermal_kw * dt_h;
        const double draw = q_dhw * dt_h;
        const double from_solar = std::min(E, draw);
        E -= from_solar;
        s.tank_kwh = std::min(E, p.hot_water_tank_kwh);  // overflow is dumped
        q_dhw_elec = (draw - from_solar) / dt_h;
    }
    return q_dhw_elec / p.water_heater_cop;
}

/// Plant: electric AC (COP falls with T_out) plus an optional solar absorption chiller. Sets the COP
/// and the solar-thermal heat in o; returns the solar cooling and all the cooling available, kW thermal.
struct Plant {
    double q_solar_avail, q_avail;
};
Plant cooling_plant(const BuildingParams& p, const BuildingInput& in, double p_cap, BuildingOutput& o) {
    const double shr = p.sensible_heat_ratio;
    o.cop = ac_cop(p, in.t_out_c);
    const bool st = p.solar_thermal_use != SolarThermalUse::None;
    o.q_solar_thermal_kw = st ? p.solar_thermal_area_m2 * p.solar_thermal_eta * in.ghi_w_m2 / 1000.0 : 0.0;
    const double q_solar_avail = p.solar_thermal_use == SolarThermalUse::Cooling ? shr * p.absorption_cop * o.q_solar_thermal_kw : 0.0;
    const double q_elec_max = std::min(shr * p.ac_capacity_kw_th, p_cap * shr * o.cop);
    const double q_avail = q_elec_max + q_solar_avail;
    return {q_solar_avail, q_avail};
}

/// End of step: comfort (degree-hours outside the nominal band while occupied, trapezoid on the
/// excess), the meter power and the energy counters.
void account(const BuildingParams& p, BuildingState& s, BuildingOutput& o, double Ta0, double dt_h) {
    if (o.occupied) {
        const double lo = p.setpoint_c - p.band_k, hi = p.setpoint_c + p.band_k;
        auto excess = [lo, hi](double T) { return std::max(0.0, T - hi) + std::max(0.0, lo - T); };
        s.comfort_degree_hours += 0.5 * (excess(Ta0) + excess(s.T_air_c)) * dt_h;
    }
    const double load = o.p_ac_kw + o.p_lighting_kw + o.p_plug_kw + o.p_water_heating_kw;
    o.p_kw = -load;
    o.t_air_c = s.T_air_c;
    o.t_mass_c = s.T_mass_c;
    s.electricity_kwh += load * dt_h;
    s.ac_kwh += o.p_ac_kw * dt_h;
}

}  // namespace

BuildingOutput building_step(const BuildingParams& p, BuildingState& s, const BuildingInput& in, double dt_s) {
    ensure_discretised(p, s, dt_s);
    check_building_input(p, s, in);
    const BuildingDiscretisation& D = s.disc;
    const double dt_h = dt_s / 3600.0;
    const int hr = std::min(23, static_cast<int>(in.hour_of_day));
    const bool wd = in.weekday;

    BuildingOutput o;
    const Gains gains = zone_gains(p, in, hr, wd, o);
    const double Phi_air = gains.air, Phi_mass = gains.mass;
    const BemsDecision b = bems(p, s, in, o.occupied);
    const double T_set = b.T_set;
    o.setpoint_c = T_set;

    const double shr = p.sensible_heat_ratio;
    const Plant plant = cooling_plant(p, in, b.p_cap, o);
    const double q_solar_avail = plant.q_solar_avail, q_avail = plant.q_avail;

    // ---- exact step: free response, then the cooling that the control asks for ----
    const double Ta0 = s.T_air_c, Tm0 = s.T_mass_c;
    const double Ta_free = D.Phi[0][0] * Ta0 + D.Phi[0][1] * Tm0 + D.Gamma[0][0] * in.t_out_c + D.Gamma[0][1] * Phi_air +
                           D.Gamma[0][2] * Phi_mass;
    const double Tm_free = D.Phi[1][0] * Ta0 + D.Phi[1][1] * Tm0 + D.Gamma[1][0] * in.t_out_c + D.Gamma[1][1] * Phi_air +
                           D.Gamma[1][2] * Phi_mass;
    const double g = D.Gamma[0][1];  // K at the step's end per kW of constant heat into the air, > 0

    const bool pre = optimum_start(p, s, in, hr, dt_h, {Ta_free, Tm_free}, gains, q_avail, T_set, o.occupied);
    s.optimum_start_on = pre;
    const bool allowed = b.allowed || pre;
    o.optimum_start = pre;
    o.ac_allowed = allowed;

    const double Q = cooling_kw(p, s, allowed, Ta0, Ta_free, T_set, g, q_avail);
    s.T_air_c = Ta_free - g * Q;
    s.T_mass_c = Tm_free - D.Gamma[1][1] * Q;
    if (p.ac_control == AcControl::OnOff && s.ac_on && s.T_air_c <= T_set - p.band_k + 1e-9) s.ac_on = false;

    o.q_cool_kw = Q;
    o.q_solar_cooling_kw = std::min(Q, q_solar_avail);
    o.p_ac_kw = (Q - o.q_solar_cooling_kw) / (shr * o.cop);
    o.p_water_heating_kw = water_heating_kw(p, s, o, hr, wd, dt_h);

    account(p, s, o, Ta0, dt_h);
    return o;
}

// ------------------------------------------------------------------------------------------------
// Presets
// ------------------------------------------------------------------------------------------------

namespace {

/// 24 hourly values: `base` everywhere, then each (from, to, value) span [from, to) overwritten in turn.
struct Span {
    int from, to;
    double value;
};
std::array<double, 24> hours(double base, std::initializer_list<Span> spans) {
    std::array<double, 24> a;
    a.fill(base);
    for (const Span& s : spans)
        for (int h = s.from; h < s.to; ++h) a[static_cast<std::size_t>(h)] = s.value;
    return a;
}

void scale(DaySchedule& s, double k) {
    for (auto& v : s.weekday) v *= k;
    for (auto& v : s.weekend) v *= k;
}

}  // namespace

namespace {

BuildingParams terrace_house_preset() {
    BuildingParams p;
    // Two-storey intermediate terrace, 120 m2; the modelled zone is the air-conditioned bedrooms
    // (about 40 m2 under the roof); lights and plugs mostly elsewhere in the house.
    p.name = "terrace_house";
    p.floor_area_m2 = 120.0;
    p.R_ea_k_per_kw = 15.0;    // windows 6 m2 x 5.7 W/m2K + 1 ACH of 100 m3
    p.R_am_k_per_kw = 0.8;     // ~150 m2 of interior surface at 8 W/m2K
    p.R_me_k_per_kw = 10.0;     // roof 40 m2 at ~1.2 W/m2K (ceiling insulation) + walls 30 m2 at ~2.5 W/m2K
    p.C_air_kwh_per_k = 0.17;  // 100 m3 of air x 5 for furnishings
    p.C_mass_kwh_per_k = 1.5;  // active share of slab and brick
    // glazing 6 m2 x g 0.5 (single glazing, curtains) x 0.2 (vertical under the eaves / GHI) = 0.6, plus
    // the ceiling 40 m2 x 1.2 W/m2K under a ventilated attic ~10 K above outdoors at 1,000 W/m2 = 0.5
    p.solar_aperture_m2 = 1.1;
    p.solar_to_air_fraction = 0.3;
    p.internal_to_air_fraction = 0.5;
    p.electric_gain_fraction = 0.2;  // the bedrooms' share of the house's lighting and plug heat
    p.occupant_gains_kw.weekday = hours(0.05, {{0, 7, 0.2}, {22, 24, 0.2}});
    p.occupant_gains_kw.weekend = hours(0.1, {{0, 8, 0.2}, {14, 16, 0.2}, {22, 24, 0.2}});
    p.lighting_kw.weekday = hours(0.02, {{6, 7, 0.15}, {19, 23, 0.2}, {23, 24, 0.08}});
    p.lighting_kw.weekend = hours(0.02, {{7, 8, 0.1}, {19, 23, 0.2}, {23, 24, 0.08}});
    p.plug_kw.weekday = hours(0.12, {{6, 8, 0.52}, {11, 14, 0.2}, {17, 23, 0.72}});
    p.plug_kw.weekend = hours(0.12, {{8, 10, 0.45}, {11, 14, 0.4}, {17, 23, 0.72}});
    p.hot_water_kw.weekday = hours(0.0, {{6, 8, 0.45}, {19, 22, 0.2}});
    p.hot_water_kw.weekend = hours(0.0, {{8, 10, 0.45}, {19, 22, 0.2}});
    p.ac_schedule.weekday = hours(0.0, {{0, 7, 1.0}, {22, 24, 1.0}});
    p.ac_schedule.weekend = hours(0.0, {{0, 8, 1.0}, {14, 16, 1.0}, {22, 24, 1.0}});
    p.ac_capacity_kw_th = 5.0;  // two 1-hp split units
    p.sensible_heat_ratio = 0.8;
    p.cop_nom = 3.2;  // EER of a 2-3 star non-inverter split (installed stock)
    p.cop_slope_per_k = 0.08;
    p.setpoint_c = 25.0;
    p.band_k = 1.0;
    p.water_heater_cop = 1.0;  // instantaneous electric heaters
    return p;
}

BuildingParams shophouse_preset() {
    BuildingParams p;
    // Three-storey shophouse: the modelled zone is the 120 m2 ground-floor shop (AC 09:00-21:00);
    // the family upstairs is in the plug and hot-water schedules (heat outside the zone).
    p.name = "shophouse";
    p.floor_area_m2 = 120.0;
    p.R_ea_k_per_kw = 1.8;     // shopfront glazing and door openings
    p.R_am_k_per_kw = 0.3;
    p.R_me_k_per_kw = 5.0;     // party walls, slab above
    p.C_air_kwh_per_k = 0.4;
    p.C_mass_kwh_per_k = 6.0;
    p.solar_aperture_m2 = 3.0;
    p.solar_to_air_fraction = 0.4;
    p.internal_to_air_fraction = 0.6;
    p.electric_gain_fraction = 0.6;
    p.occupant_gains_kw.weekday = hours(0.0, {{9, 21, 0.6}});
    p.occupant_gains_kw.weekend = hours(0.0, {{9, 21, 0.75}});
    p.lighting_kw.weekday = hours(0.05, {{9, 21, 1.0}, {21, 23, 0.2}});
    p.lighting_kw.weekend = p.lighting_kw.weekday;
    p.plug_kw.weekday = hours(0.3, {{7, 9, 0.7}, {9, 21, 1.0}, {21, 23, 0.8}});
    p.plug_kw.weekend = p.plug_kw.weekday;
    p.hot_water_kw.weekday = hours(0.0, {{6, 8, 0.45}, {21, 23, 0.3}});
    p.hot_water_kw.weekend = p.hot_water_kw.weekday;
    p.ac_schedule.weekday = hours(0.0, {{9, 21, 1.0}});
    p.ac_schedule.weekend = p.ac_schedule.weekday;
    p.ac_capacity_kw_th = 14.0;  // four 1.5-hp units
    p.sensible_heat_ratio = 0.75;
    p.cop_nom = 3.0;
    p.cop_slope_per_k = 0.08;
    p.setpoint_c = 24.0;
    p.band_k = 1.0;
    return p;
}

BuildingParams office_preset() {
    BuildingParams p;
    // Five-storey office, 5,000 m2 net floor area, weekdays 08:00-18:00, chilled-water plant.
    p.name = "office";
    p.floor_area_m2 = 5000.0;
    p.R_ea_k_per_kw = 0.045;   // glazing 1,000 m2 x 5 W/m2K + fresh air and infiltration ~17 kW/K
    p.R_am_k_per_kw = 0.0104;  // ~12,000 m2 of slab and partitions at 8 W/m2K
    p.R_me_k_per_kw = 0.27;    // walls 1,560 m2 x 2 + roof 1,000 m2 x 0.6 W/m2K
    p.C_air_kwh_per_k = 18.0;
    p.C_mass_kwh_per_k = 200.0;
    p.solar_aperture_m2 = 250.0;  // glazing 1,000 m2 x SHGC 0.6 x 0.35 + roof sol-air
    p.solar_to_air_fraction = 0.4;
    p.internal_to_air_fraction = 0.6;
    p.occupant_gains_kw.weekday = hours(0.0, {{8, 9, 20.0}, {9, 17, 37.5}, {17, 18, 20.0}});
    p.occupant_gains_kw.weekend = hours(0.0, {});
    p.lighting_kw.weekday = hours(5.0, {{7, 8, 25.0}, {8, 18, 50.0}, {18, 20, 15.0}});
    p.lighting_kw.weekend = hours(5.0, {});
    p.plug_kw.weekday = hours(10.0, {{8, 18, 60.0}, {18, 20, 25.0}});
    p.plug_kw.weekend = hours(10.0, {});
    p.hot_water_kw.weekday = hours(0.0, {});
    p.hot_water_kw.weekend = hours(0.0, {});
    p.ac_schedule.weekday = hours(0.0, {{7, 18, 1.0}});
    p.ac_schedule.weekend = hours(0.0, {});
    p.ac_capacity_kw_th = 1200.0;
    p.sensible_heat_ratio = 0.75;
    p.cop_nom = 2.8;  // whole plant (chillers, pumps, towers, AHU fans)
    p.cop_slope_per_k = 0.06;
    p.setpoint_c = 24.0;
    p.band_k = 1.0;
    return p;
}

BuildingParams mall_preset() {
    BuildingParams p;
    // Shopping mall, 30,000 m2 lettable area, open 10:00-22:00 every day.
    p.name = "mall";
    p.floor_area_m2 = 30000.0;
    p.R_ea_k_per_kw = 0.008;   // glazing ~2,000 m2 + fresh air for the crowds + open entrances ~65 kW/K
    p.R_am_k_per_kw = 0.0017;
    p.R_me_k_per_kw = 0.071;   // roof 10,000 m2 x 0.6 + walls 4,000 m2 x 2 W/m2K
    p.C_air_kwh_per_k = 150.0;
    p.C_mass_kwh_per_k = 1200.0;
    p.solar_aperture_m2 = 570.0;  // skylights and entrances + roof sol-air
    p.solar_to_air_fraction = 0.4;
    p.internal_to_air_fraction = 0.6;
    p.occupant_gains_kw.weekday = hours(0.0, {{10, 12, 120.0}, {12, 14, 240.0}, {14, 18, 190.0}, {18, 21, 240.0}, {21, 22, 140.0}});
    p.occupant_gains_kw.weekend = hours(0.0, {{10, 12, 180.0}, {12, 21, 320.0}, {21, 22, 180.0}});
    p.lighting_kw.weekday = hours(45.0, {{9, 10, 220.0}, {10, 22, 450.0}, {22, 23, 150.0}});
    p.lighting_kw.weekend = p.lighting_kw.weekday;
    p.plug_kw.weekday = hours(60.0, {{9, 10, 180.0}, {10, 22, 300.0}, {22, 23, 110.0}});
    p.plug_kw.weekend = p.plug_kw.weekday;
    p.hot_water_kw.weekday = hours(0.0, {});
    p.hot_water_kw.weekend = hours(0.0, {});
    p.ac_schedule.weekday = hours(0.0, {{9, 22, 1.0}});
    p.ac_schedule.weekend = p.ac_schedule.weekday;
    p.ac_capacity_kw_th = 4500.0;
    p.sensible_heat_ratio = 0.65;
    p.cop_nom = 2.8;
    p.cop_slope_per_k = 0.06;
    p.setpoint_c = 24.0;
    p.band_k = 1.0;
    return p;
}

BuildingParams hotel_preset() {
    BuildingParams p;
    // 200-room city hotel, 10,000 m2, conditioned around the clock, heat-pump hot water.
    p.name = "hotel";
    p.floor_area_m2 = 10000.0;
    p.R_ea_k_per_kw = 0.022;   // glazing ~1,500 m2 + fresh air and infiltration ~38 kW/K
    p.R_am_k_per_kw = 0.006;
    p.R_me_k_per_kw = 0.15;
    p.C_air_kwh_per_k = 35.0;
    p.C_mass_kwh_per_k = 400.0;
    p.solar_aperture_m2 = 300.0;
    p.solar_to_air_fraction = 0.4;
    p.internal_to_air_fraction = 0.6;
    p.occupant_gains_kw.weekday = hours(25.0, {{7, 9, 35.0}, {9, 17, 20.0}, {17, 23, 35.0}});
    p.occupant_gains_kw.weekend = hours(30.0, {{7, 9, 40.0}, {9, 17, 25.0}, {17, 23, 40.0}});
    p.lighting_kw.weekday = hours(25.0, {{6, 9, 60.0}, {9, 18, 40.0}, {18, 24, 80.0}});
    p.lighting_kw.weekend = p.lighting_kw.weekday;
    p.plug_kw.weekday = hours(40.0, {{6, 10, 100.0}, {10, 17, 80.0}, {17, 22, 100.0}});
    p.plug_kw.weekend = p.plug_kw.weekday;
    p.hot_water_kw.weekday = hours(10.0, {{6, 10, 90.0}, {18, 23, 60.0}});
    p.hot_water_kw.weekend = p.hot_water_kw.weekday;
    p.ac_schedule.weekday = hours(1.0, {});
    p.ac_schedule.weekend = hours(1.0, {});
    p.ac_capacity_kw_th = 1400.0;
    p.sensible_heat_ratio = 0.7;
    p.cop_nom = 3.0;
    p.cop_slope_per_k = 0.06;
    p.setpoint_c = 24.0;
    p.band_k = 1.0;
    p.water_heater_cop = 3.0;  // heat-pump water heaters
    return p;
}

/// The presets, in BuildingType order, at their own floor areas.
using PresetFn = BuildingParams (*)();
constexpr PresetFn kPresets[] = {&terrace_house_preset, &shophouse_preset, &office_preset, &mall_preset, &hotel_preset};

/// Scale a preset to another floor area: conductances, capacities, gains and schedules with the area.
void scale_to_floor_area(BuildingParams& p, double floor_area_m2) {
    if (std::isnan(floor_area_m2)) throw ValidationError("building_preset: field 'floor_area_m2': must not be NaN");
    if (floor_area_m2 > 0.0 && std::isfinite(floor_area_m2)) {
        const double k = floor_area_m2 / p.floor_area_m2;
        p.floor_area_m2 = floor_area_m2;
        p.R_ea_k_per_kw /= k;
        p.R_am_k_per_kw /= k;
        p.R_me_k_per_kw /= k;
        p.C_air_kwh_per_k *= k;
        p.C_mass_kwh_per_k *= k;
        p.solar_aperture_m2 *= k;
        p.ac_capacity_kw_th *= k;
        scale(p.occupant_gains_kw, k);
        scale(p.lighting_kw, k);
        scale(p.plug_kw, k);
        scale(p.hot_water_kw, k);
        p.solar_thermal_area_m2 *= k;
        p.hot_water_tank_kwh *= k;
    } else if (floor_area_m2 > 0.0) {
        throw ValidationError("building_preset: field 'floor_area_m2': must be finite (got " + num(floor_area_m2) + ")");
    }
}

}  // namespace

BuildingParams building_preset(BuildingType type, double floor_area_m2) {
    const int i = static_cast<int>(type);
    if (i < 0 || i >= static_cast<int>(std::size(kPresets))) throw ValidationError("building_preset: unknown building type");
    BuildingParams p = kPresets[i]();
    // Optimum start (BEMS; a HEMS or smart-thermostat timer in the house): the AC may start up to 3 h
    // before each conditioned period so that the zone is at the setpoint when it begins.
    p.optimum_start_max_h = 3.0;
    scale_to_floor_area(p, floor_area_m2);
    return p;
}

// ------------------------------------------------------------------------------------------------
// Home with HEMS
// ------------------------------------------------------------------------------------------------

void Home::prepare(double max_dt_s) {
    building.id = id;
    // Pre-cooling only pays when the AC would run in the weekday peak (14:00-22:00): a house that cools
    // its bedrooms from 22:00 gains nothing from cooling them at noon.
    bool ac_in_peak = false;
    for (int hr = 14; hr < 22; ++hr) ac_in_peak |= building.ac_schedule.weekday[static_cast<std::size_t>(hr)] > 0.5;
    if (rules.precool && ac_in_peak) {
        if (building.mode == BemsMode::Fixed) building.mode = BemsMode::PreCool;
        if (building.mode == BemsMode::DemandResponse) building.mode = BemsMode::PreCoolAndDemandResponse;
    }
    if (rules.ev_offpeak) ev.params.strategy = EvStrategy::DelayedOffPeak;
    validate(building);
    battery.validate("Home", id);
    ev.params.id = id;
    ev.prepare(max_dt_s);
    building_state.disc = BuildingDiscretisation{};  // rebuilt on the first step
}

HomeOutput Home::step(const HomeInput& in, double dt_s) {
    if (std::isnan(in.pv_available_kw) || in.pv_available_kw < 0.0 || std::isinf(in.pv_available_kw))
        throw ValidationError("Home " + std::to_string(id) + ": input field 'pv_available_kw': must be >= 0 and finite (got " +
                              num(in.pv_available_kw) + ")");
    const double dt_h = dt_s / 3600.0;
    HomeOutput o;

    // 1. the house (BEMS rules already in its mode: pre-cooling before the peak)
    BuildingInput bi;
    bi.t = in.t;
    bi.hour_of_day = in.hour_of_day;
    bi.weekday = in.weekday;
    bi.is_peak = in.is_peak;
    bi.t_out_c = in.t_out_c;
    bi.ghi_w_m2 = in.ghi_w_m2;
    o.building = building_step(building, building_state, bi, dt_s);
    const double house = -o.building.p_kw;
    const double pv = in.pv_available_kw;

    // 2. the EV: off-peak at full rate; in the peak only from PV surplus (plus what departure needs)
    const double b_dis = battery.max_discharge_kw(dt_h);
    EvStepInput ei;
    ei.t = in.t;
    ei.is_peak = in.is_peak;
    ei.pv_available_kw = std::max(0.0, pv - house);
    if (in.dr) ei.import_limit_kw = in.dr_ev_cap_kw;  // issue 17 (H5): a utility DR event
    if (rules.ev_v2h_in_peak && ev.params.v2g && in.is_peak)
        ei.v2g_request_kw = std::max(0.0, house - pv - (rules.battery_discharge_in_peak ? b_dis : 0.0));
    o.p_ev_kw = ev.step(ei, dt_h);

    // 3. the battery: store PV surplus; in the peak cover the import (never export from the battery)
    const double net = pv - house + o.p_ev_kw;  // + surplus, - import
    double p_bat = 0.0;
    if (net > 0.0 && rules.battery_from_pv) p_bat = battery.apply(-net, dt_h);
    else if (net < 0.0 && in.is_peak && rules.battery_discharge_in_peak) p_bat = battery.apply(-net, dt_h);
    else if (net < 0.0 && in.dr) p_bat = battery.apply(-net, dt_h);  // issue 17 (H5): a DR event, as in the peak

    o.p_pv_kw = pv;
    o.p_building_kw = o.building.p_kw;
    o.p_battery_kw = p_bat;
    o.p_kw = pv + o.building.p_kw + o.p_ev_kw + p_bat;
    return o;
}

}  // namespace libgrid
