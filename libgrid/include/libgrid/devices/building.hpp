// libgrid devices: buildings with a building energy-management system (BEMS), and homes with a
// home energy-management system (HEMS). Equations and assumptions: docs/devices_ev_building.md.
//
// Thermal model: two nodes, indoor air (T_air, C_air) and thermal mass (T_mass, C_mass), joined by R_am,
// with air-outdoor R_ea and mass-outdoor R_me (R_me = inf gives the plain 2R2C; this is GridLAB-D's ETP
// form). Heat inputs: internal gains (people, lights, plugs), solar gains through an effective aperture,
// and the air-conditioner's sensible cooling. The 2x2 linear system is integrated exactly over a step
// (matrix exponential, inputs held constant over the step), computed once per (R, C, dt) and cached in
// the state.
//
// Conventions: times int64 s since 1970-01-01T00:00 local (UTC+8); powers kW, generator convention at
// the meter (a consuming building is negative); temperatures degC; irradiance W/m2; R in K/kW, C in kWh/K
// (so R*C is in hours). The per-step functions allocate nothing and call nothing virtual.
// Thread safety (docs/threads.md): parameters and states are values; a BuildingState or a Home is
// stepped by one thread at a time, different ones at once (the engine's pool does).
#pragma once

#include <libgrid/devices/ev.hpp>
#include <libgrid/model/network.hpp>

#include <array>
#include <limits>
#include <cstdint>
#include <string>
#include <vector>

namespace libgrid {

/// A value for each local hour 0..23, one day for Monday-Friday and one for weekends.
struct DaySchedule {
    std::array<double, 24> weekday{};
    std::array<double, 24> weekend{};
    double at(int hour, bool is_weekday) const { return is_weekday ? weekday[hour] : weekend[hour]; }
};

enum class BemsMode : int { Fixed = 0, PreCool = 1, DemandResponse = 2, PreCoolAndDemandResponse = 3 };
enum class AcControl : int {
    Proportional = 0,  ///< ideal modulating (inverter) unit: the cooling that brings T_air to the setpoint at the step's end
    OnOff = 1          ///< full capacity on above setpoint + band, off below setpoint - band (hysteresis, whole steps)
};
enum class SolarThermalUse : int { None = 0, Cooling = 1, WaterHeating = 2 };
enum class BuildingType : int { TerraceHouse = 0, Shophouse = 1, Office = 2, Mall = 3, Hotel = 4 };
std::string to_string(BuildingType t);
BuildingType parse_building_type(const std::string& s);  ///< "terrace_house", "shophouse", "office", "mall", "hotel"

/// A demand-response event: during [start, end) the setpoint is raised and/or the AC's electric power capped.
struct DrEvent {
    std::int64_t start = 0;          ///< s local
    std::int64_t end = 0;            ///< s local, > start
    double setpoint_raise_k = 0.0;   ///< K >= 0
    double power_cap_kw = kInf;      ///< cap on the AC's electric power, kW >= 0 (inf = none)
};

struct BuildingParams {
    Id id = 0;
    std::string name;
    double floor_area_m2 = 100.0;           ///< conditioned floor area (informational, presets scale by it), m2 > 0

    // thermal network
    double R_ea_k_per_kw = 10.0;            ///< air <-> outdoor (glazing, infiltration, ventilation), K/kW > 0 (inf allowed)
    double R_am_k_per_kw = 1.0;             ///< air <-> mass (interior surfaces), K/kW > 0, finite
    double R_me_k_per_kw = kInf;            ///< mass <-> outdoor (opaque envelope), K/kW > 0 (inf = plain 2R2C)
    double C_air_kwh_per_k = 0.1;           ///< air and furnishings, kWh/K > 0
    double C_mass_kwh_per_k = 2.0;          ///< structure, kWh/K > 0
    double solar_aperture_m2 = 1.0;         ///< effective aperture: solar gain kW = aperture * GHI / 1000, m2 >= 0
    double solar_to_air_fraction = 0.3;     ///< share of solar gain to the air node (rest to the mass), 0..1
    double internal_to_air_fraction = 0.5;  ///< convective share of internal gains (rest radiative, to mass), 0..1
    double electric_gain_fraction = 1.0;    ///< share of lighting and plug power that heats the modelled zone, 0..1

    // schedules (kW); lights and plugs are electric loads whose heat stays inside
    DaySchedule occupant_gains_kw;          ///< sensible heat from people, kW >= 0
    DaySchedule lighting_kw;                ///< lighting electric power, kW >= 0
    DaySchedule plug_kw;                    ///< plug loads (appliances, IT, lifts, fans), kW >= 0
    DaySchedule ac_schedule;                ///< 1 = conditioned (and comfort counted) that hour, 0 = AC off
    DaySchedule hot_water_kw;               ///< hot-water heat demand, kW >= 0

    // air-conditioning
    double ac_capacity_kw_th = 5.0;         ///< total (sensible + latent) cooling capacity, kW thermal >= 0
    double sensible_heat_ratio = 0.8;       ///< sensible share of the AC's cooling (humid tropics), (0, 1]
    double cop_nom = 3.2;                   ///< COP at 35 degC outdoor (rating point)
    double cop_slope_per_k = 0.08;          ///< COP(T_out) = cop_nom - slope * (T_out - 35), clamped
    double cop_min = 1.5;                   ///< dimensionless (kW heat / kW electric)
    double cop_max = 6.0;                   ///< dimensionless
    AcControl ac_control = AcControl::Proportional;

    // thermostat and BEMS
    double setpoint_c = 24.0;               ///< cooling setpoint, degC
    double band_k = 1.0;                    ///< comfort band setpoint +- band, and the on/off hysteresis, K > 0
    double optimum_start_max_h = 0.0;       ///< BEMS optimum start: the AC may start up to this many hours before a
                                            ///< conditioned period (same day), as late as still reaches the setpoint
                                            ///< when it begins; h in [0, 24), 0 = off (a plain time clock)
    BemsMode mode = BemsMode::Fixed;
    double precool_start_hour = 12.0;       ///< pre-cooling window on weekdays, local hours [start, end)
    double precool_end_hour = 14.0;         ///< (the TNB ToU peak starts at 14:00)
    double precool_offset_k = 2.0;          ///< setpoint lowered by this in the window, K >= 0
    double precool_peak_raise_k = 0.0;      ///< setpoint raised by this during the peak (PreCool modes), K >= 0
    std::vector<DrEvent> dr_events;         ///< sorted by start, not overlapping (DemandResponse modes)

    // water heating and solar thermal
    double water_heater_cop = 1.0;          ///< heat / electricity of the water heater: 1 resistive, ~3 heat pump, > 0
    SolarThermalUse solar_thermal_use = SolarThermalUse::None;
    double solar_thermal_area_m2 = 0.0;     ///< collector area, m2 >= 0
    double solar_thermal_eta = 0.5;         ///< collector efficiency (heat out / GHI on the area), 0..1
    double absorption_cop = 0.7;            ///< single-effect absorption chiller, cooling / heat, > 0
    double hot_water_tank_kwh = 0.0;        ///< solar hot-water store, kWh >= 0 (0 = use it or lose it)
};

/// Per-step input; the caller's clock and weather.
struct BuildingInput {
    std::int64_t t = 0;         ///< step start, s local (DR events)
    double hour_of_day = 0.0;   ///< local hour at step start, [0, 24)
    bool weekday = true;        ///< Monday-Friday and not a public holiday
    bool is_peak = false;       ///< ToU peak during this step
    double t_out_c = 30.0;      ///< outdoor air temperature, degC
    double ghi_w_m2 = 0.0;      ///< global horizontal irradiance, W/m2 >= 0
};

/// Step averages over [t, t + dt) unless said otherwise.
struct BuildingOutput {
    double p_kw = 0.0;               ///< at the meter, generator convention: -(AC + lights + plugs + water heating)
    double p_ac_kw = 0.0;            ///< AC electric power (>= 0, consumption)
    double p_lighting_kw = 0.0;
    double p_plug_kw = 0.0;
    double p_water_heating_kw = 0.0;
    double q_cool_kw = 0.0;          ///< sensible cooling delivered to the air (electric + solar), kW thermal
    double q_solar_thermal_kw = 0.0; ///< heat collected by the solar-thermal field, kW thermal
    double q_solar_cooling_kw = 0.0; ///< sensible cooling from the absorption chiller, kW thermal
    double cop = 0.0;                ///< electric AC's COP this step
    double setpoint_c = 0.0;         ///< effective setpoint this step (after pre-cooling / DR)
    double t_air_c = 0.0;            ///< at the step's end
    double t_mass_c = 0.0;           ///< at the step's end
    bool ac_allowed = false;         ///< conditioned this step (occupied, optimum start or pre-cooling)
    bool optimum_start = false;      ///< the AC runs ahead of a conditioned period (optimum start)
    bool occupied = false;           ///< comfort counted this step
};

/// Exact discretisation of the RC model for one dt: x+ = Phi x + Gamma u, x = (T_air, T_mass),
/// u = (T_out, heat to air, heat to mass).
struct BuildingDiscretisation {
    double dt_s = -1.0;
    double R_ea = 0, R_am = 0, R_me = 0, C_air = 0, C_mass = 0;  ///< the values it was built for
    double Phi[2][2] = {{0, 0}, {0, 0}};
    double Gamma[2][3] = {{0, 0, 0}, {0, 0, 0}};
    // the continuous system dx/dt = A x + B u (t in hours), for predictions over other horizons
    double A[2][2] = {{0, 0}, {0, 0}};            ///< 1/h
    double B[2][3] = {{0, 0, 0}, {0, 0, 0}};      ///< (1/h, K/kWh, K/kWh)
    double lambda_slow = 0.0, lambda_fast = 0.0;  ///< eigenvalues of A, lambda_fast < lambda_slow < 0, 1/h
};

struct BuildingState {
    double T_air_c = 27.0;                ///< indoor air, degC
    double T_mass_c = 27.0;               ///< thermal mass, degC
    bool ac_on = false;                   ///< on/off control's latch
    bool optimum_start_on = false;        ///< optimum start's latch: started for the coming conditioned period
    double tank_kwh = 0.0;                ///< solar hot-water store content, kWh
    double comfort_degree_hours = 0.0;    ///< K*h outside setpoint +- band while occupied (trapezoidal)
    double electricity_kwh = 0.0;         ///< cumulative consumption at the meter, kWh
    double ac_kwh = 0.0;                  ///< cumulative AC electricity, kWh
    std::size_t dr_cursor = 0;            ///< first DR event not yet over
    BuildingDiscretisation disc;          ///< cache, rebuilt when dt or an R/C changes
};

/// Throws ValidationError "Building <id>: field '<f>': ..." for any field out of its domain.
void validate(const BuildingParams& p);

/// The exact discretisation (matrix exponential of the 2x2 system). Throws ValidationError on bad R/C.
BuildingDiscretisation discretise(const BuildingParams& p, double dt_s);

/// COP of the electric AC at outdoor temperature t_out_c: clamp(cop_nom - slope (t_out - 35), min, max).
double ac_cop(const BuildingParams& p, double t_out_c);

/// Air temperature (degC) after tau_h hours (>= 0) from (T_air, T_mass) with the inputs held constant:
/// outdoor t_out_c, heat to the air phi_air_kw (net of any cooling) and to the mass phi_mass_kw. Exact
/// (x(tau) = x_ss + exp(A tau) (x0 - x_ss)); `d` must come from discretise(). Allocates nothing.
double predict_air_c(const BuildingDiscretisation& d, double T_air, double T_mass, double t_out_c, double phi_air_kw,
                     double phi_mass_kw, double tau_h);

/// Advance one step of dt_s seconds. Validates params when the cached discretisation is rebuilt (first
/// call, dt or R/C changed); call validate() yourself after editing schedules or controls mid-run.
BuildingOutput building_step(const BuildingParams& p, BuildingState& s, const BuildingInput& in, double dt_s);

/// Presets for Melaka (assumptions in docs/devices_ev_building.md, calibrated so that a typical Melaka
/// day gives ~14.5 kWh with ~3.9 kWh of AC for the terrace house and an AC share of 50-60 % for the
/// commercial ones, per docs/sources/melaka_facts.md). floor_area_m2 <= 0 keeps the preset's own area; another
/// area scales conductances, capacities, apertures and loads in proportion.
BuildingParams building_preset(BuildingType type, double floor_area_m2 = 0.0);

// ------------------------------------------------------------------------------------------------
// Home with HEMS: PV, battery, EV and air-conditioning under a ToU-aware rule controller.
// ------------------------------------------------------------------------------------------------

struct HemsRules {
    bool precool = true;                    ///< building in PreCool mode (pre-cool before 14:00 on weekdays),
                                            ///< applied only if its AC is scheduled in the weekday peak
    bool ev_offpeak = true;                 ///< EV DelayedOffPeak: off-peak at full rate, PV surplus in the peak
    bool battery_from_pv = true;            ///< battery charges from PV surplus (after house and EV)
    bool battery_discharge_in_peak = true;  ///< battery covers the house's import in the peak (never exports)
    bool ev_v2h_in_peak = false;            ///< a V2G-capable EV covers what the battery cannot in the peak
};

struct HomeInput {
    std::int64_t t = 0;            ///< step start, s local
    double hour_of_day = 0.0;      ///< [0, 24)
    bool weekday = true;
    bool is_peak = false;
    double t_out_c = 30.0;         ///< degC
    double ghi_w_m2 = 0.0;         ///< W/m2
    double pv_available_kw = 0.0;  ///< AC power the rooftop PV can give this step, kW >= 0
    /// Issue 17 (H5): the home takes part in a utility DR event this step: its battery covers its
    /// import (as in the peak) and its EV charger's import is capped at ev_cap_kw (inf = none).
    bool dr = false;
    double dr_ev_cap_kw = std::numeric_limits<double>::infinity();
};

struct HomeOutput {
    double p_kw = 0.0;          ///< at the meter, generator convention (+ export)
    double p_pv_kw = 0.0;       ///< PV used
    double p_building_kw = 0.0; ///< house loads (<= 0)
    double p_ev_kw = 0.0;       ///< EV charger (charging < 0)
    double p_battery_kw = 0.0;  ///< + discharging
    BuildingOutput building;
};

struct Home {
    Id id = 0;
    BuildingParams building;        ///< building_preset(TerraceHouse) is the usual start
    BuildingState building_state;
    SimpleBattery battery;          ///< capacity 0 = none
    EvStation ev;                   ///< usually one home charger; strategy set by the rules in prepare()
    HemsRules rules;

    /// Applies the rules (building mode, EV strategy), validates, prepares the EV station.
    void prepare(double max_dt_s);
    HomeOutput step(const HomeInput& in, double dt_s);
};

}  // namespace libgrid
