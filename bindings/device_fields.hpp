// libgrid Python module (issue 19): every parameter of the device structs reachable from Python by
// its C++ name (units in the name: kW, kWh, ...). `apply_fields(obj, params, table, who)` sets the
// fields named in a keyword dict; an unknown name or a value of the wrong type is a ValidationError
// "<who>: field '<name>': ..." (libgrid.ValidationError in Python), never a crash.
#pragma once

#include <libgrid/core/errors.hpp>
#include <libgrid/simulation/device_set.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace libgrid::py_devices {

namespace py = pybind11;

/// One settable field of T: a member (double, bool, int, uint64) or a setter from a Python value.
template <class T>
struct Field {
    using Setter = std::function<void(T&, py::handle, const std::string& who)>;
    std::string name;
    std::variant<double T::*, bool T::*, int T::*, std::uint64_t T::*, Setter> target;
};

template <class T>
using Fields = std::vector<Field<T>>;

inline std::string allowed_names(const std::vector<std::string>& names) {
    std::string s;
    for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
}

/// Casts v to V; a wrong type is a ValidationError naming the field.
/// (name "": `who` already names the field.)
template <class V>
V cast_field(py::handle v, const std::string& who, const std::string& name, const char* expected) {
    const std::string where = name.empty() ? who : who + ": field '" + name + "'";
    if constexpr (std::is_same_v<V, bool>) {
        if (!py::isinstance<py::bool_>(v) && !(py::isinstance<py::int_>(v) && (py::cast<long long>(v) == 0 || py::cast<long long>(v) == 1)))
            throw ValidationError(where + ": expected " + expected + ", got " + std::string(py::str(v)));
    }
    try {
        return py::cast<V>(v);
    } catch (const py::cast_error&) {
        throw ValidationError(where + ": expected " + expected + ", got " + std::string(py::str(v)));
    }
}

/// Sets field `name` of obj from v if the table has it; false when it does not.
template <class T>
bool set_field(T& obj, const Fields<T>& table, const std::string& name, py::handle v, const std::string& who) {
    for (const Field<T>& f : table) {
        if (f.name != name) continue;
        std::visit(
            [&](auto&& m) {
                using M = std::decay_t<decltype(m)>;
                if constexpr (std::is_same_v<M, double T::*>) obj.*m = cast_field<double>(v, who, name, "a number");
                else if constexpr (std::is_same_v<M, bool T::*>) obj.*m = cast_field<bool>(v, who, name, "True or False");
                else if constexpr (std::is_same_v<M, int T::*>) obj.*m = cast_field<int>(v, who, name, "an integer");
                else if constexpr (std::is_same_v<M, std::uint64_t T::*>) obj.*m = cast_field<std::uint64_t>(v, who, name, "an integer >= 0");
                else m(obj, v, who + ": field '" + name + "'");
            },
            f.target);
        return true;
    }
    return false;
}

template <class T>
std::vector<std::string> names_of(const Fields<T>& table, const std::string& prefix = "") {
    std::vector<std::string> out;
    for (const Field<T>& f : table) out.push_back(prefix + f.name);
    return out;
}

/// Sets every field of `params` on obj; an unknown key is a ValidationError listing the allowed names.
template <class T>
void apply_fields(T& obj, const py::dict& params, const Fields<T>& table, const std::string& who) {
    for (const auto& [k, v] : params) {
        const std::string name = py::cast<std::string>(py::str(k));
        if (!set_field(obj, table, name, v, who))
            throw ValidationError(who + ": field '" + name + "': unknown; allowed: " + allowed_names(names_of(table)));
    }
}

/// An enum field parsed from its name.
template <class T, class E>
typename Field<T>::Setter enum_setter(E T::*m, std::vector<std::pair<std::string, E>> names) {
    return [m, names = std::move(names)](T& obj, py::handle v, const std::string& who) {
        // `who` names the device and the field (set_field)
        if (!py::isinstance<py::str>(v)) throw ValidationError(who + ": expected a name, got " + std::string(py::str(v)));
        const std::string s = py::cast<std::string>(v);
        std::vector<std::string> allowed;
        for (const auto& [n, e] : names) {
            if (n == s) {
                obj.*m = e;
                return;
            }
            allowed.push_back(n);
        }
        throw ValidationError(who + ": unknown '" + s + "'; allowed: " + allowed_names(allowed));
    };
}

#define LG_F(T, f) Field<T>{#f, &T::f}

/// PvParams: every field by its C++ name; the curves as vv_<point> / vw_<point>.
inline const Fields<PvParams>& pv_fields() {
    using T = PvParams;
    static const Fields<T> t = [] {
        Fields<T> f{LG_F(T, kwp_dc), LG_F(T, tilt_deg), LG_F(T, azimuth_deg), LG_F(T, albedo), LG_F(T, gamma_pdc_per_c),
                    LG_F(T, noct_c), LG_F(T, faiman_u0), LG_F(T, faiman_u1), LG_F(T, dc_losses), LG_F(T, inverter_kva),
                    LG_F(T, inverter_eta_nom), LG_F(T, pf), LG_F(T, volt_watt), LG_F(T, var_at_night)};
        f.push_back({"sky", enum_setter<T, SkyModel>(&T::sky, {{"isotropic", SkyModel::Isotropic}, {"hay_davies", SkyModel::HayDavies}})});
        f.push_back({"temp_model", enum_setter<T, CellTempModel>(&T::temp_model, {{"noct", CellTempModel::Noct}, {"faiman", CellTempModel::Faiman}})});
        f.push_back({"priority", enum_setter<T, InverterPriority>(&T::priority, {{"var", InverterPriority::Var}, {"watt", InverterPriority::Watt}})});
        f.push_back({"qmode", enum_setter<T, QControl>(&T::qmode, {{"none", QControl::None}, {"fixed_pf", QControl::FixedPF}, {"volt_var", QControl::VoltVar}})});
        const std::vector<std::pair<const char*, double VoltVarCurve::*>> vv{
            {"vv_v1_pu", &VoltVarCurve::v1_pu}, {"vv_q1_pu", &VoltVarCurve::q1_pu}, {"vv_v2_pu", &VoltVarCurve::v2_pu},
            {"vv_q2_pu", &VoltVarCurve::q2_pu}, {"vv_v3_pu", &VoltVarCurve::v3_pu}, {"vv_q3_pu", &VoltVarCurve::q3_pu},
            {"vv_v4_pu", &VoltVarCurve::v4_pu}, {"vv_q4_pu", &VoltVarCurve::q4_pu}};
        for (const auto& [n, m] : vv)
            f.push_back({n, typename Field<T>::Setter([m = m](T& p, py::handle v, const std::string& who) {
                             p.vv.*m = cast_field<double>(v, who, "", "a number");
                         })});
        const std::vector<std::pair<const char*, double VoltWattCurve::*>> vw{
            {"vw_v1_pu", &VoltWattCurve::v1_pu}, {"vw_p1_pu", &VoltWattCurve::p1_pu}, {"vw_v2_pu", &VoltWattCurve::v2_pu},
            {"vw_p2_pu", &VoltWattCurve::p2_pu}};
        for (const auto& [n, m] : vw)
            f.push_back({n, typename Field<T>::Setter([m = m](T& p, py::handle v, const std::string& who) {
                             p.vw.*m = cast_field<double>(v, who, "", "a number");
                         })});
        return f;
    }();
    return t;
}

inline const Fields<BatteryParams>& battery_fields() {
    using T = BatteryParams;
    static const Fields<T> t = [] {
        Fields<T> f{LG_F(T, e_kwh), LG_F(T, p_charge_kw), LG_F(T, p_discharge_kw), LG_F(T, eta_charge), LG_F(T, eta_discharge),
                    LG_F(T, soc_min), LG_F(T, soc_max), LG_F(T, soc_init), LG_F(T, self_discharge_per_day), LG_F(T, peak_limit_kw),
                    LG_F(T, peak_charge_margin_kw), LG_F(T, tou_charge_start_h), LG_F(T, tou_charge_end_h),
                    LG_F(T, tou_discharge_full_power), LG_F(T, smoothing_tau_s), LG_F(T, cycle_life_efc), LG_F(T, end_of_life_capacity),
                    LG_F(T, outage_reserve_soc), LG_F(T, grid_forming), LG_F(T, droop_percent), LG_F(T, droop_q_percent),
                    LG_F(T, ration_to_restoration)};
        f.push_back({"schedule_kw", typename Field<T>::Setter([](T& p, py::handle v, const std::string& who) {
                         p.schedule_kw = cast_field<std::vector<double>>(v, who, "", "a list of numbers");
                     })});
        return f;
    }();
    return t;
}

inline const Fields<EvStationParams>& ev_station_fields() {
    using T = EvStationParams;
    static const Fields<T> t = [] {
        const std::vector<std::pair<std::string, EvStrategy>> rules{
            {"uncontrolled", EvStrategy::Uncontrolled}, {"delayed_off_peak", EvStrategy::DelayedOffPeak},
            {"pv_following", EvStrategy::PvFollowing}, {"edf", EvStrategy::PowerLimitedEDF}, {"llf", EvStrategy::PowerLimitedLLF},
            {"round_robin", EvStrategy::PowerLimitedRoundRobin}, {"spread", EvStrategy::Spread}, {"grid_aware", EvStrategy::GridAware}};
        Fields<T> f{LG_F(T, n_chargers), LG_F(T, charger_kw), LG_F(T, connection_limit_kw), LG_F(T, efficiency), LG_F(T, v2g),
                    LG_F(T, v2g_min_soc), LG_F(T, v2g_reserve_h), LG_F(T, start_delay_max_s), LG_F(T, delay_seed), LG_F(T, grid_limit)};
        f.push_back({"strategy", enum_setter<T, EvStrategy>(&T::strategy, rules)});
        f.push_back({"grid_order", enum_setter<T, EvStrategy>(&T::grid_order, {rules[3], rules[4]})});
        return f;
    }();
    return t;
}

inline const Fields<SimpleBattery>& simple_battery_fields() {
    using T = SimpleBattery;
    static const Fields<T> t{LG_F(T, capacity_kwh), LG_F(T, p_charge_max_kw), LG_F(T, p_discharge_max_kw), LG_F(T, eta_charge),
                             LG_F(T, eta_discharge), LG_F(T, soc_min), LG_F(T, soc_max), LG_F(T, soc), LG_F(T, outage_reserve_soc)};
    return t;
}

inline const Fields<ChargingSiteParams>& site_fields() {
    using T = ChargingSiteParams;
    static const Fields<T> t{LG_F(T, connection_limit_kw), LG_F(T, export_limit_kw), LG_F(T, battery_discharge_in_peak),
                             LG_F(T, battery_grid_charge_offpeak)};
    return t;
}

/// A DaySchedule from 24 numbers (both day kinds) or {"weekday": 24 numbers, "weekend": 24 numbers}.
inline typename Field<BuildingParams>::Setter schedule_setter(DaySchedule BuildingParams::*m) {
    return [m](BuildingParams& p, py::handle v, const std::string& who) {
        auto day = [&](py::handle x, const char* which) {
            const auto values = cast_field<std::vector<double>>(x, who, "", "24 numbers (one per local hour)");
            if (values.size() != 24)
                throw ValidationError(who + which + ": expected 24 values (one per local hour), got " + std::to_string(values.size()));
            std::array<double, 24> a{};
            std::copy(values.begin(), values.end(), a.begin());
            return a;
        };
        if (py::isinstance<py::dict>(v)) {
            const py::dict d = py::reinterpret_borrow<py::dict>(v);
            for (const auto& [k, x] : d) {
                const std::string key = py::cast<std::string>(py::str(k));
                if (key == "weekday") (p.*m).weekday = day(x, " (weekday)");
                else if (key == "weekend") (p.*m).weekend = day(x, " (weekend)");
                else throw ValidationError(who + ": unknown key '" + key + "'; allowed: weekday, weekend");
            }
        } else {
            (p.*m).weekday = (p.*m).weekend = day(v, "");
        }
    };
}

inline const Fields<BuildingParams>& building_fields() {
    using T = BuildingParams;
    static const Fields<T> t = [] {
        Fields<T> f{LG_F(T, floor_area_m2), LG_F(T, R_ea_k_per_kw), LG_F(T, R_am_k_per_kw), LG_F(T, R_me_k_per_kw),
                    LG_F(T, C_air_kwh_per_k), LG_F(T, C_mass_kwh_per_k), LG_F(T, solar_aperture_m2), LG_F(T, solar_to_air_fraction),
                    LG_F(T, internal_to_air_fraction), LG_F(T, electric_gain_fraction), LG_F(T, ac_capacity_kw_th),
                    LG_F(T, sensible_heat_ratio), LG_F(T, cop_nom), LG_F(T, cop_slope_per_k), LG_F(T, cop_min), LG_F(T, cop_max),
                    LG_F(T, setpoint_c), LG_F(T, band_k), LG_F(T, optimum_start_max_h), LG_F(T, precool_start_hour),
                    LG_F(T, precool_end_hour), LG_F(T, precool_offset_k), LG_F(T, precool_peak_raise_k), LG_F(T, water_heater_cop),
                    LG_F(T, solar_thermal_area_m2), LG_F(T, solar_thermal_eta), LG_F(T, absorption_cop), LG_F(T, hot_water_tank_kwh)};
        f.push_back({"ac_control", enum_setter<T, AcControl>(&T::ac_control, {{"proportional", AcControl::Proportional}, {"on_off", AcControl::OnOff}})});
        f.push_back({"solar_thermal_use", enum_setter<T, SolarThermalUse>(&T::solar_thermal_use, {{"none", SolarThermalUse::None},
                                                                                                   {"cooling", SolarThermalUse::Cooling},
                                                                                                   {"water_heating", SolarThermalUse::WaterHeating}})});
        f.push_back({"mode", enum_setter<T, BemsMode>(&T::mode, {{"fixed", BemsMode::Fixed}, {"precool", BemsMode::PreCool},
                                                                  {"demand_response", BemsMode::DemandResponse},
                                                                  {"precool_and_demand_response", BemsMode::PreCoolAndDemandResponse}})});
        f.push_back({"occupant_gains_kw", schedule_setter(&T::occupant_gains_kw)});
        f.push_back({"lighting_kw", schedule_setter(&T::lighting_kw)});
        f.push_back({"plug_kw", schedule_setter(&T::plug_kw)});
        f.push_back({"ac_schedule", schedule_setter(&T::ac_schedule)});
        f.push_back({"hot_water_kw", schedule_setter(&T::hot_water_kw)});
        f.push_back({"dr_events", typename Field<T>::Setter([](T& p, py::handle v, const std::string& who) {
                         // [(start_s, end_s, setpoint_raise_k, power_cap_kw)], times in s since 1970-01-01 local
                         const auto rows = cast_field<std::vector<std::vector<double>>>(v, who, "", "rows (start_s, end_s, setpoint_raise_k, power_cap_kw)");
                         p.dr_events.clear();
                         for (std::size_t i = 0; i < rows.size(); ++i) {
                             if (rows[i].size() != 4)
                                 throw ValidationError(who + "[" + std::to_string(i) + "]: expected (start_s, end_s, setpoint_raise_k, power_cap_kw)");
                             p.dr_events.push_back(DrEvent{std::int64_t(rows[i][0]), std::int64_t(rows[i][1]), rows[i][2], rows[i][3]});
                         }
                     })});
        return f;
    }();
    return t;
}

inline const Fields<HemsRules>& hems_fields() {
    using T = HemsRules;
    static const Fields<T> t{LG_F(T, precool), LG_F(T, ev_offpeak), LG_F(T, battery_from_pv), LG_F(T, battery_discharge_in_peak),
                             LG_F(T, ev_v2h_in_peak)};
    return t;
}

inline const Fields<Tariff>& tariff_fields() {
    using T = Tariff;
    static const Fields<T> t = [] {
        Fields<T> f{LG_F(T, energy_sen_per_kwh), LG_F(T, energy_above_sen_per_kwh), LG_F(T, block_kwh), LG_F(T, peak_sen_per_kwh),
                    LG_F(T, offpeak_sen_per_kwh), LG_F(T, peak_above_sen_per_kwh), LG_F(T, offpeak_above_sen_per_kwh),
                    LG_F(T, peak_start_hour), LG_F(T, peak_end_hour), LG_F(T, capacity_sen_per_kwh), LG_F(T, network_sen_per_kwh),
                    LG_F(T, retail_rm_per_month), LG_F(T, retail_waiver_kwh), LG_F(T, fuel_adjustment_sen_per_kwh),
                    LG_F(T, fuel_waiver_kwh), LG_F(T, re_fund_rate), LG_F(T, re_fund_exempt_kwh), LG_F(T, service_tax_rate),
                    LG_F(T, service_tax_free_kwh)};
        f.push_back({"block_rule", enum_setter<T, BlockRule>(&T::block_rule, {{"whole_month", BlockRule::WholeMonth}, {"marginal", BlockRule::Marginal}})});
        f.push_back({"name", typename Field<T>::Setter([](T& p, py::handle v, const std::string& who) {
                         p.name = cast_field<std::string>(v, who, "", "a string");
                     })});
        f.push_back({"eei_bands", typename Field<T>::Setter([](T& p, py::handle v, const std::string& who) {
                         // [(up_to_kwh, sen_per_kwh)]
                         const auto rows = cast_field<std::vector<std::pair<double, double>>>(v, who, "", "rows (up_to_kwh, sen_per_kwh)");
                         p.eei_bands.clear();
                         for (const auto& [up, sen] : rows) p.eei_bands.push_back(EeiBand{up, sen});
                     })});
        return f;
    }();
    return t;
}

#undef LG_F

/// EV sessions given as columns (arrival, departure: s since 1970-01-01 local; energy_kwh, max_kw,
/// battery_kwh, soc_arrival); equal lengths (ValidationError naming the column otherwise). The
/// values themselves are checked by EvStation::prepare when the Simulation is built.
inline std::vector<EvSession> sessions_from_columns(const std::vector<std::int64_t>& arrival, const std::vector<std::int64_t>& departure,
                                                    const std::vector<double>& energy_kwh, const std::vector<double>& max_kw,
                                                    const std::vector<double>& battery_kwh, const std::vector<double>& soc_arrival,
                                                    const std::string& who) {
    const std::size_t n = arrival.size();
    const std::pair<const char*, std::size_t> cols[] = {{"departure", departure.size()},   {"energy_kwh", energy_kwh.size()},
                                                        {"max_kw", max_kw.size()},         {"battery_kwh", battery_kwh.size()},
                                                        {"soc_arrival", soc_arrival.size()}};
    for (const auto& [name, size] : cols)
        if (size != n)
            throw ValidationError(who + ": field 'sessions': column '" + name + "' has " + std::to_string(size) + " values, 'arrival' " +
                                  std::to_string(n));
    std::vector<EvSession> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = EvSession{arrival[i], departure[i], energy_kwh[i], max_kw[i], battery_kwh[i], soc_arrival[i]};
    return out;
}

}  // namespace libgrid::py_devices
