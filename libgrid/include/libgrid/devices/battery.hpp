// libgrid layer 5: a battery energy storage system with dispatch strategies.
//
// Per step (see docs/devices_pv_battery.md for equations, defaults and sources):
//   BatteryRequest r = battery_dispatch(params, state, input, dt_h);   // pure: what the strategy wants
//   double p_kw      = battery_apply(params, state, r, dt_h);          // clamps, updates the state
// battery_dispatch() never changes the state, so a simulation may call it several times inside a
// voltage fixed-point loop; battery_apply() is called once per step and is the only mutator.
//
// Units: kW, kWh, hours; SoC as a fraction of the present (faded) capacity.
// Sign convention: generator convention, p > 0 discharges into the grid, p < 0 charges.
// Energy balance closed by every step:  dE_stored = -p_kw * dt_h - state.step_loss_kwh.
//
// Plain values: no allocation and no virtual call per step.
// Thread safety (docs/threads.md): battery_dispatch is pure; battery_apply changes only the state it
// is given: different batteries may be stepped on different threads at once.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace libgrid {

enum class BatteryStrategy : int {
    Idle = 0,             ///< p = 0 (still self-discharges)
    SelfConsumption = 1,  ///< store surplus PV, cover net load; never export, never charge from grid
    PeakShaving = 2,      ///< keep site net import <= peak_limit_kw; recharge below limit - margin
    TouArbitrage = 3,     ///< charge off-peak inside the charge window, discharge in peak hours
    PvSmoothing = 4,      ///< grid sees a low-pass filtered PV output; battery covers the difference
    Schedule = 5,         ///< follow schedule_kw[step_index]
};

/// Parameters of one battery. Call validate() once at setup.
struct BatteryParams {
    double e_kwh = 0.0;            ///< nameplate (beginning-of-life) energy capacity, kWh; > 0
    double p_charge_kw = 0.0;      ///< max AC charging power, kW; >= 0
    double p_discharge_kw = 0.0;   ///< max AC discharging power, kW; >= 0
    double eta_charge = 0.95;      ///< AC -> stored efficiency, (0, 1]
    double eta_discharge = 0.95;   ///< stored -> AC efficiency, (0, 1]
    double soc_min = 0.1;          ///< lower SoC bound, [0, 1)
    double soc_max = 0.9;          ///< upper SoC bound, (soc_min, 1]
    double soc_init = 0.5;         ///< initial SoC, [soc_min, soc_max]
    double self_discharge_per_day = 0.001;  ///< fraction of stored energy lost per 24 h, [0, 1)

    BatteryStrategy strategy = BatteryStrategy::Idle;
    // Peak shaving (site = the meter or the transformer the battery sits behind)
    double peak_limit_kw = std::numeric_limits<double>::quiet_NaN();  ///< net import limit, kW (required)
    double peak_charge_margin_kw = 0.0;  ///< recharge only while net import < limit - margin; >= 0
    // ToU arbitrage
    double tou_charge_start_h = 0.0;     ///< off-peak charge window start, hour of day [0, 24]
    double tou_charge_end_h = 24.0;      ///< window end (may wrap past midnight; start == end: no window)
    bool tou_discharge_full_power = false;  ///< peak: full power (true) or cover local net load (false)
    // PV smoothing
    double smoothing_tau_s = 900.0;      ///< time constant of the first-order low-pass filter, s; > 0
    // Schedule
    std::vector<double> schedule_kw;     ///< requested p (generator convention) per step index
    // Degradation (estimate: capacity fade linear in equivalent full cycles)
    double cycle_life_efc = 6000.0;      ///< EFC to reach end_of_life_capacity; > 0 (inf: no fade)
    double end_of_life_capacity = 0.8;   ///< capacity at cycle_life_efc, fraction of e_kwh, (0, 1]
    // Islanded operation (issue 16, docs/microgrid.md "Time series")
    /// SoC kept for outages, [0, 1): grid-connected dispatch does not discharge below
    /// max(soc_min, outage_reserve_soc); in an island the battery may go down to soc_min.
    double outage_reserve_soc = 0.0;  ///< fraction of capacity, 0..1
    /// The inverter forms the grid in an island without an ext grid (P-f / Q-V droop); false =
    /// grid-following (its island is de-energised with the grid, as before).
    bool grid_forming = false;
    double droop_percent = 2.0;     ///< P-f droop, % of f_nom from no load to max(p_charge, p_discharge); > 0
    double droop_q_percent = 5.0;   ///< Q-V droop, % of 1 p.u. from no load to that rating; > 0
    /// In an island with an announced end (a scheduled outage's restoration), deliver at most the
    /// energy left (down to soc_min) spread over the time to that end, so that it lasts the outage.
    bool ration_to_restoration = true;
};

/// State carried across steps. Start from make_battery_state(params).
struct BatteryState {
    double soc = 0.5;             ///< state of charge, fraction of the present capacity
    double capacity_fade = 0.0;   ///< fraction of e_kwh lost to cycling
    double efc = 0.0;             ///< equivalent full cycles = stored energy discharged / e_kwh
    double throughput_kwh = 0.0;  ///< AC energy charged + discharged, kWh
    double charged_kwh = 0.0;     ///< AC energy taken from the grid, kWh
    double discharged_kwh = 0.0;  ///< AC energy delivered to the grid, kWh
    double loss_kwh = 0.0;        ///< cumulative losses (conversion + self-discharge), kWh
    double self_discharge_kwh = 0.0;  ///< cumulative self-discharge part of loss_kwh, kWh
    double p_kw = 0.0;            ///< power delivered in the last step (generator convention), kW
    double step_loss_kwh = 0.0;   ///< losses of the last step, kWh
    double pv_smoothed_kw = std::numeric_limits<double>::quiet_NaN();  ///< PV smoothing filter state
};

/// Per-step input to the dispatch strategies (the site the battery sits behind).
struct DispatchInput {
    double site_load_kw = 0.0;   ///< site consumption without the battery, kW, >= 0
    double site_pv_kw = 0.0;     ///< site PV AC output, kW, >= 0
    bool is_peak = false;        ///< tariff peak period now
    std::int64_t step_index = 0; ///< index into schedule_kw
    double hour_of_day = 0.0;    ///< local time, hours [0, 24)
};

/// What a strategy asks for. Pass it to battery_apply() unchanged.
struct BatteryRequest {
    double p_kw = 0.0;  ///< requested power, generator convention
    double site_pv_kw = std::numeric_limits<double>::quiet_NaN();  ///< PV seen (smoothing only)
};

/// Throws ValidationError "<who>: field '<name>': <reason>" on the first bad field.
void validate(const BatteryParams& params, const std::string& who);

/// Fresh state: soc = soc_init, counters zero.
BatteryState make_battery_state(const BatteryParams& params);

/// Present capacity, kWh: e_kwh * (1 - capacity_fade).
double capacity_kwh(const BatteryParams& params, const BatteryState& state);
/// Stored energy, kWh: soc * capacity.
double stored_energy_kwh(const BatteryParams& params, const BatteryState& state);

/// The strategy's request for this step. Pure; throws ValidationError on non-finite input, a
/// non-positive dt_h, or a schedule without an entry for in.step_index.
BatteryRequest battery_dispatch(const BatteryParams& params, const BatteryState& state,
                                const DispatchInput& in, double dt_h);

/// Applies a request for a step of dt_h hours: self-discharge, then the power clamped to the
/// power limits and the SoC window; updates SoC, counters, EFC, fade and the smoothing filter.
/// Returns the power actually delivered (kW, generator convention).
double battery_apply(const BatteryParams& params, BatteryState& state, const BatteryRequest& request,
                     double dt_h);
/// Same, for a plain power request (external control).
double battery_apply(const BatteryParams& params, BatteryState& state, double p_request_kw,
                     double dt_h);

/// Issue 16: the AC power a battery can deliver (p_max_kw >= 0) and absorb (p_min_kw <= 0) over a
/// step of dt_h from this state in an island (down to soc_min, the outage reserve usable), after
/// the step's self-discharge: what battery_apply_islanded then delivers without clamping.
void battery_island_limits(const BatteryParams& params, const BatteryState& state, double dt_h,
                           double& p_min_kw, double& p_max_kw);
/// battery_apply for a battery forming an island: the power the island's power flow gave it
/// (clamped to battery_island_limits, which the power flow respects), soc_min as the floor.
double battery_apply_islanded(const BatteryParams& params, BatteryState& state, double p_kw,
                              double dt_h);

}  // namespace libgrid
