// libgrid layer 5: battery storage with dispatch strategies. Equations and sources:
// docs/devices_pv_battery.md.
#include "libgrid/devices/battery.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "libgrid/core/errors.hpp"

namespace libgrid {

namespace {

constexpr double kMaxCapacityFade = 0.99;  // keeps the capacity (and so the SoC) defined

std::string num(double x) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", x);
    return buf;
}

[[noreturn]] void fail(const std::string& who, const std::string& field, const std::string& why) {
    throw ValidationError(who + ": field '" + field + "': " + why);
}

void require_finite(double x, const std::string& who, const std::string& field) {
    if (!std::isfinite(x)) fail(who, field, "must be a finite number (got " + num(x) + ")");
}

void require_range(double x, double lo, double hi, const std::string& who, const std::string& field) {
    require_finite(x, who, field);
    if (x < lo || x > hi)
        fail(who, field, "must be in [" + num(lo) + ", " + num(hi) + "] (got " + num(x) + ")");
}

void require_positive(double x, const std::string& who, const std::string& field) {
    require_finite(x, who, field);
    if (!(x > 0.0)) fail(who, field, "must be > 0 (got " + num(x) + ")");
}

void require_efficiency(double x, const std::string& who, const std::string& field) {
    require_finite(x, who, field);
    if (!(x > 0.0 && x <= 1.0)) fail(who, field, "must be in (0, 1] (got " + num(x) + ")");
}

void check_dt(double dt_h, const char* who) {
    if (!(dt_h > 0.0) || !std::isfinite(dt_h))
        fail(who, "dt_h", "must be a finite step length > 0 h (got " + num(dt_h) + ")");
}

bool in_window(double h, double start_h, double end_h) {
    if (start_h <= end_h) return h >= start_h && h < end_h;
    return h >= start_h || h < end_h;  // wraps past midnight
}

}  // namespace

void validate(const BatteryParams& p, const std::string& who) {
    require_positive(p.e_kwh, who, "e_kwh");
    require_range(p.p_charge_kw, 0.0, HUGE_VAL, who, "p_charge_kw");
    require_range(p.p_discharge_kw, 0.0, HUGE_VAL, who, "p_discharge_kw");
    require_efficiency(p.eta_charge, who, "eta_charge");
    require_efficiency(p.eta_discharge, who, "eta_discharge");
    require_range(p.soc_min, 0.0, 1.0, who, "soc_min");
    require_range(p.soc_max, 0.0, 1.0, who, "soc_max");
    if (!(p.soc_min < p.soc_max))
        fail(who, "soc_min", "must be < soc_max (got soc_min " + num(p.soc_min) + ", soc_max " +
                                 num(p.soc_max) + ")");
    require_range(p.soc_init, p.soc_min, p.soc_max, who, "soc_init");
    require_range(p.self_discharge_per_day, 0.0, 1.0, who, "self_discharge_per_day");
    require_range(p.outage_reserve_soc, 0.0, 1.0, who, "outage_reserve_soc");
    if (p.outage_reserve_soc >= 1.0)
        fail(who, "outage_reserve_soc", "must be < 1 (got " + num(p.outage_reserve_soc) + ")");
    require_positive(p.droop_percent, who, "droop_percent");
    require_positive(p.droop_q_percent, who, "droop_q_percent");
    if (p.grid_forming && !(std::max(p.p_charge_kw, p.p_discharge_kw) > 0))
        fail(who, "grid_forming", "a grid-forming battery needs p_charge_kw or p_discharge_kw > 0");
    if (p.self_discharge_per_day >= 1.0)
        fail(who, "self_discharge_per_day", "must be < 1 (got " + num(p.self_discharge_per_day) + ")");

    switch (p.strategy) {
        case BatteryStrategy::Idle:
        case BatteryStrategy::SelfConsumption:
        case BatteryStrategy::TouArbitrage:
        case BatteryStrategy::PvSmoothing: break;
        case BatteryStrategy::PeakShaving:
            require_range(p.peak_limit_kw, 0.0, HUGE_VAL, who, "peak_limit_kw");
            break;
        case BatteryStrategy::Schedule:
            if (p.schedule_kw.empty()) fail(who, "schedule_kw", "is empty but strategy is Schedule");
            break;
        default:
            fail(who, "strategy", "unknown strategy " + std::to_string(static_cast<int>(p.strategy)));
    }
    require_range(p.peak_charge_margin_kw, 0.0, HUGE_VAL, who, "peak_charge_margin_kw");
    require_range(p.tou_charge_start_h, 0.0, 24.0, who, "tou_charge_start_h");
    require_range(p.tou_charge_end_h, 0.0, 24.0, who, "tou_charge_end_h");
    require_positive(p.smoothing_tau_s, who, "smoothing_tau_s");
    for (std::size_t i = 0; i < p.schedule_kw.size(); ++i)
        require_finite(p.schedule_kw[i], who, "schedule_kw[" + std::to_string(i) + "]");
    if (std::isnan(p.cycle_life_efc) || !(p.cycle_life_efc > 0.0))
        fail(who, "cycle_life_efc", "must be > 0 (inf: no fade) (got " + num(p.cycle_life_efc) + ")");
    require_finite(p.end_of_life_capacity, who, "end_of_life_capacity");
    if (!(p.end_of_life_capacity > 0.0 && p.end_of_life_capacity <= 1.0))
        fail(who, "end_of_life_capacity", "must be in (0, 1] (got " + num(p.end_of_life_capacity) + ")");
}

BatteryState make_battery_state(const BatteryParams& params) {
    BatteryState s;
    s.soc = params.soc_init;
    return s;
}

double capacity_kwh(const BatteryParams& params, const BatteryState& state) {
    return params.e_kwh * (1.0 - state.capacity_fade);
}

double stored_energy_kwh(const BatteryParams& params, const BatteryState& state) {
    return state.soc * capacity_kwh(params, state);
}

BatteryRequest battery_dispatch(const BatteryParams& params, const BatteryState& state,
                                const DispatchInput& in, double dt_h) {
    check_dt(dt_h, "battery_dispatch");
    if (!std::isfinite(in.site_load_kw))
        fail("battery_dispatch", "site_load_kw", "must be finite (got " + num(in.site_load_kw) + ")");
    if (!std::isfinite(in.site_pv_kw))
        fail("battery_dispatch", "site_pv_kw", "must be finite (got " + num(in.site_pv_kw) + ")");

    const double net_load = in.site_load_kw - in.site_pv_kw;  // site import without the battery
    BatteryRequest r;
    switch (params.strategy) {
        case BatteryStrategy::Idle: break;

        case BatteryStrategy::SelfConsumption:
            // discharge at most the net load (no export), charge at most the surplus (no import)
            r.p_kw = net_load > 0.0 ? std::min(net_load, params.p_discharge_kw)
                                    : std::max(net_load, -params.p_charge_kw);
            break;

        case BatteryStrategy::PeakShaving: {
            const double limit = params.peak_limit_kw;
            const double recharge_below = limit - params.peak_charge_margin_kw;
            if (net_load > limit)
                r.p_kw = std::min(net_load - limit, params.p_discharge_kw);
            else if (net_load < recharge_below)
                r.p_kw = -std::min(recharge_below - net_load, params.p_charge_kw);
            break;
        }

        case BatteryStrategy::TouArbitrage:
            if (in.is_peak) {
                r.p_kw = params.tou_discharge_full_power
                             ? params.p_discharge_kw
                             : std::clamp(net_load, 0.0, params.p_discharge_kw);
            } else {
                if (!std::isfinite(in.hour_of_day))
                    fail("battery_dispatch", "hour_of_day", "must be finite (got " + num(in.hour_of_day) + ")");
                if (in_window(in.hour_of_day, params.tou_charge_start_h, params.tou_charge_end_h))
                    r.p_kw = -params.p_charge_kw;
            }
            break;

        case BatteryStrategy::PvSmoothing: {
            // First-order low-pass filter of the PV output, y_k = y_{k-1} + alpha (pv_k - y_{k-1}),
            // alpha = 1 - exp(-dt / tau); the battery supplies y_k - pv_k.
            const double pv = in.site_pv_kw;
            const double y_prev = std::isnan(state.pv_smoothed_kw) ? pv : state.pv_smoothed_kw;
            const double alpha = 1.0 - std::exp(-dt_h * 3600.0 / params.smoothing_tau_s);
            const double y = y_prev + alpha * (pv - y_prev);
            r.p_kw = y - pv;
            r.site_pv_kw = pv;
            break;
        }

        case BatteryStrategy::Schedule:
            if (in.step_index < 0 ||
                static_cast<std::uint64_t>(in.step_index) >= params.schedule_kw.size())
                fail("battery_dispatch", "schedule_kw",
                     "no entry for step_index " + std::to_string(in.step_index) + " (schedule has " +
                         std::to_string(params.schedule_kw.size()) + " entries)");
            r.p_kw = params.schedule_kw[static_cast<std::size_t>(in.step_index)];
            break;
    }
    return r;
}

namespace {
double apply_with_floor(const BatteryParams& params, BatteryState& state, const BatteryRequest& request,
                        double dt_h, double soc_floor) {
    check_dt(dt_h, "battery_apply");
    const double p_req = request.p_kw;
    if (!std::isfinite(p_req))
        fail("battery_apply", "p_request_kw", "must be finite (got " + num(p_req) + ")");

    const double capacity = capacity_kwh(params, state);
    const double E_min = soc_floor * capacity;
    const double E_max = params.soc_max * capacity;

    // 1. self-discharge over the step: E <- E (1 - r)^(dt / 24 h)
    const double E_start = state.soc * capacity;
    double E = E_start * std::pow(1.0 - params.self_discharge_per_day, dt_h / 24.0);
    const double self_loss = E_start - E;

    // 2. power clamped to the power limits and the SoC window, with the conversion efficiencies
    double p = 0.0;
    double conversion_loss = 0.0;
    double e_discharged_cells = 0.0;  // energy taken out of storage by discharging, kWh
    if (p_req > 0.0) {
        const double p_energy = std::max(0.0, E - E_min) * params.eta_discharge / dt_h;
        p = std::min({p_req, params.p_discharge_kw, p_energy});
        e_discharged_cells = p * dt_h / params.eta_discharge;
        conversion_loss = e_discharged_cells - p * dt_h;
        E = (p == p_energy && p > 0.0) ? E_min : E - e_discharged_cells;
    } else if (p_req < 0.0) {
        const double p_energy = std::max(0.0, E_max - E) / (params.eta_charge * dt_h);
        const double p_abs = std::min({-p_req, params.p_charge_kw, p_energy});
        p = -p_abs;
        const double e_stored = p_abs * dt_h * params.eta_charge;
        conversion_loss = p_abs * dt_h - e_stored;
        E = (p_abs == p_energy && p_abs > 0.0) ? E_max : E + e_stored;
    }

    // 3. cycle counting and the degradation estimate (capacity fade linear in EFC)
    state.efc += e_discharged_cells / params.e_kwh;
    state.capacity_fade = std::min(
        kMaxCapacityFade, (1.0 - params.end_of_life_capacity) * state.efc / params.cycle_life_efc);
    state.soc = E / capacity_kwh(params, state);  // stored energy is kept when the capacity fades

    // 4. counters
    const double e_ac = std::abs(p) * dt_h;
    state.throughput_kwh += e_ac;
    if (p > 0.0) state.discharged_kwh += e_ac;
    if (p < 0.0) state.charged_kwh += e_ac;
    state.step_loss_kwh = self_loss + conversion_loss;
    state.loss_kwh += state.step_loss_kwh;
    state.self_discharge_kwh += self_loss;
    state.p_kw = p;

    // 5. PV smoothing: the filter continues from what the grid actually saw (no wind-up when the
    // battery saturates)
    if (params.strategy == BatteryStrategy::PvSmoothing && std::isfinite(request.site_pv_kw))
        state.pv_smoothed_kw = request.site_pv_kw + p;
    return p;
}
}  // namespace

double battery_apply(const BatteryParams& params, BatteryState& state, const BatteryRequest& request,
                     double dt_h) {
    // the outage reserve is kept while grid-connected (issue 16)
    return apply_with_floor(params, state, request, dt_h, std::max(params.soc_min, params.outage_reserve_soc));
}

void battery_island_limits(const BatteryParams& params, const BatteryState& state, double dt_h,
                           double& p_min_kw, double& p_max_kw) {
    check_dt(dt_h, "battery_island_limits");
    const double capacity = capacity_kwh(params, state);
    const double E = state.soc * capacity * std::pow(1.0 - params.self_discharge_per_day, dt_h / 24.0);
    p_max_kw = std::min(params.p_discharge_kw, std::max(0.0, E - params.soc_min * capacity) * params.eta_discharge / dt_h);
    p_min_kw = -std::min(params.p_charge_kw, std::max(0.0, params.soc_max * capacity - E) / (params.eta_charge * dt_h));
}

double battery_apply_islanded(const BatteryParams& params, BatteryState& state, double p_kw,
                              double dt_h) {
    if (!std::isfinite(p_kw)) fail("battery_apply_islanded", "p_kw", "must be finite (got " + num(p_kw) + ")");
    BatteryRequest r;
    r.p_kw = p_kw;
    return apply_with_floor(params, state, r, dt_h, params.soc_min);
}

double battery_apply(const BatteryParams& params, BatteryState& state, double p_request_kw,
                     double dt_h) {
    BatteryRequest r;
    r.p_kw = p_request_kw;
    return battery_apply(params, state, r, dt_h);
}

}  // namespace libgrid
