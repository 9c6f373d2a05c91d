// libgrid Python module: the time-series engine. Devices are added with keyword arguments in
// physical units (kW, kWh, kWp); the run is one C++ call with the GIL released; results go to an
// HDF5 file that the Python side reads into pandas (libgrid.read_results).
#include <cmath>
#include <libgrid/core/errors.hpp>
#include <libgrid/model/network.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/simulation/dr.hpp>
#include <libgrid/simulation/engine.hpp>
#include <libgrid/simulation/kpis.hpp>
#include <libgrid/simulation/rebill.hpp>

#include "device_fields.hpp"
#include "run_guard.hpp"
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <optional>
#include <string>

namespace py = pybind11;
using namespace libgrid;

namespace {

QControl parse_qcontrol(const std::string& s, PvParams& p) {
    if (s == "none" || s == "unity") return QControl::None;
    if (s == "fixed_pf") return QControl::FixedPF;
    if (s == "volt_var") return QControl::VoltVar;
    if (s == "volt_watt") {
        p.volt_watt = true;
        return QControl::None;
    }
    if (s == "volt_var_volt_watt") {
        p.volt_watt = true;
        return QControl::VoltVar;
    }
    throw ValidationError("pv: field 'control': unknown '" + s + "' (none, fixed_pf, volt_var, volt_watt, volt_var_volt_watt)");
}

BatteryStrategy parse_strategy(const std::string& s) {
    if (s == "idle") return BatteryStrategy::Idle;
    if (s == "self_consumption") return BatteryStrategy::SelfConsumption;
    if (s == "peak_shaving") return BatteryStrategy::PeakShaving;
    if (s == "tou_arbitrage") return BatteryStrategy::TouArbitrage;
    if (s == "pv_smoothing") return BatteryStrategy::PvSmoothing;
    if (s == "schedule") return BatteryStrategy::Schedule;
    throw ValidationError("battery: field 'strategy': unknown '" + s + "' (idle, self_consumption, peak_shaving, tou_arbitrage, pv_smoothing, schedule)");
}

Tariff parse_tariff(const std::string& s) { return Tariff::by_name(s, "tariff"); }

ExportScheme parse_export(const std::string& s) {
    if (s == "none") return ExportScheme::None;
    if (s == "nem") return ExportScheme::NEM;
    if (s == "atap") return ExportScheme::SolarATAP;
    throw ValidationError("tariff: field 'export': unknown '" + s + "' (none, nem, atap)");
}

CustomerClass parse_class(const std::string& s) { return parse_customer_class(s); }

// ---- issue 19: the devices from Python, every parameter by its C++ name (bindings/device_fields.hpp) ----

/// Sessions from Python's {column: values} (libgrid.Devices converts DataFrames and times), or generated.
std::vector<EvSession> station_sessions(const py::object& sessions, ChargerKind kind, double charger_kw, const std::string& start,
                                        const std::string& end, std::uint64_t seed, Id id, double sessions_per_day, const std::string& who) {
    if (sessions.is_none())
        return generate_sessions(kind, charger_kw, parse_iso8601(start), parse_iso8601(end), seed, std::uint64_t(id), sessions_per_day);
    if (!py::isinstance<py::dict>(sessions)) throw ValidationError(who + ": field 'sessions': expected columns {arrival, departure, energy_kwh, max_kw, battery_kwh, soc_arrival}");
    const py::dict d = py::reinterpret_borrow<py::dict>(sessions);
    for (const char* c : {"arrival", "departure", "energy_kwh", "max_kw", "battery_kwh", "soc_arrival"})
        if (!d.contains(c)) throw ValidationError(who + ": field 'sessions': column '" + std::string(c) + "' missing");
    using py_devices::cast_field;
    const std::string w = who + ": field 'sessions'";
    return py_devices::sessions_from_columns(
        cast_field<std::vector<std::int64_t>>(d["arrival"], w, "", "integer seconds"), cast_field<std::vector<std::int64_t>>(d["departure"], w, "", "integer seconds"),
        cast_field<std::vector<double>>(d["energy_kwh"], w, "", "numbers"), cast_field<std::vector<double>>(d["max_kw"], w, "", "numbers"),
        cast_field<std::vector<double>>(d["battery_kwh"], w, "", "numbers"), cast_field<std::vector<double>>(d["soc_arrival"], w, "", "numbers"), who);
}

/// Routes each key of `params` to the first (prefix, table) that has it; unknown keys name all allowed.
struct Route {
    std::string prefix;
    std::function<bool(const std::string&, py::handle)> set;
    std::vector<std::string> names;
};
template <class T>
Route route(const std::string& prefix, T& obj, const py_devices::Fields<T>& table, const std::string& who) {
    return Route{prefix, [&obj, &table, who](const std::string& n, py::handle v) { return py_devices::set_field(obj, table, n, v, who); },
                 py_devices::names_of(table, prefix)};
}
void apply_routes(const py::dict& params, const std::vector<Route>& routes, const std::string& who) {
    for (const auto& [k, v] : params) {
        const std::string key = py::cast<std::string>(py::str(k));
        bool done = false;
        for (const Route& r : routes)
            if (key.compare(0, r.prefix.size(), r.prefix) == 0 && r.set(key.substr(r.prefix.size()), v)) {
                done = true;
                break;
            }
        if (done) continue;
        std::vector<std::string> all;
        for (const Route& r : routes) all.insert(all.end(), r.names.begin(), r.names.end());
        throw ValidationError(who + ": field '" + key + "': unknown; allowed: " + py_devices::allowed_names(all));
    }
}

std::string dev_who(const char* kind, Id id) { return std::string(kind) + " " + std::to_string(id); }

/// The unit's own flag `in_service` (false: the device starts out of service, as after an
/// out_of_service event) taken out of `params`; the rest goes to the device's struct.
template <class U>
py::dict unit_flags(U& u, const py::dict& params, const std::string& who) {
    py::dict rest;
    for (const auto& [k, v] : params) {
        const std::string n = py::cast<std::string>(py::str(k));
        if (n == "in_service") u.in_service = py_devices::cast_field<bool>(v, who, n, "True or False");
        else rest[k] = v;
    }
    return rest;
}

void bind_device_adds(py::class_<DeviceSet>& c) {
    using namespace py_devices;
    c.def(
        "add_pv",
        [](DeviceSet& d, Id id, Id bus, double kwp, Id customer, double inverter_kva, double tilt_deg, double azimuth_deg,
           const std::string& control, double pf, const std::string& phases, const py::dict& params) {
            PvUnit u;
            u.id = id;
            u.bus = bus;
            u.customer = customer;
            u.phases = phases;
            u.params.kwp_dc = kwp;
            u.params.inverter_kva = inverter_kva > 0 ? inverter_kva : kwp;
            u.params.tilt_deg = tilt_deg;
            u.params.azimuth_deg = azimuth_deg;
            u.params.qmode = parse_qcontrol(control, u.params);
            u.params.pf = pf;
            apply_fields(u.params, unit_flags(u, params, dev_who("pv", id)), pv_fields(), dev_who("pv", id));
            d.pv.push_back(u);
        },
        py::arg("id"), py::arg("bus"), py::arg("kwp"), py::arg("customer") = -1, py::arg("inverter_kva") = 0.0, py::arg("tilt_deg") = 10.0,
        py::arg("azimuth_deg") = 180.0, py::arg("control") = "none", py::arg("pf") = 1.0, py::arg("phases") = "", py::arg("params") = py::dict());
    c.def(
        "add_battery",
        [](DeviceSet& d, Id id, Id bus, double kwh, double kw, Id customer, const std::string& strategy, double peak_limit_kw, double soc_init,
           std::vector<double> schedule_kw, bool grid_forming, double droop_percent, double outage_reserve_soc, const std::string& phases,
           const py::dict& params) {
            BatteryUnit u;
            u.id = id;
            u.bus = bus;
            u.customer = customer;
            u.phases = phases;
            u.params.e_kwh = kwh;
            u.params.p_charge_kw = kw;
            u.params.p_discharge_kw = kw;
            u.params.strategy = parse_strategy(strategy);
            u.params.peak_limit_kw = peak_limit_kw;
            u.params.soc_init = soc_init;
            u.params.schedule_kw = std::move(schedule_kw);
            u.params.grid_forming = grid_forming;  // issue 16
            u.params.droop_percent = droop_percent;
            u.params.outage_reserve_soc = outage_reserve_soc;
            apply_fields(u.params, unit_flags(u, params, dev_who("battery", id)), battery_fields(), dev_who("battery", id));
            d.batteries.push_back(u);
        },
        py::arg("id"), py::arg("bus"), py::arg("kwh"), py::arg("kw"), py::arg("customer") = -1, py::arg("strategy") = "self_consumption",
        py::arg("peak_limit_kw") = kNaN, py::arg("soc_init") = 0.5, py::arg("schedule_kw") = std::vector<double>{}, py::arg("grid_forming") = false,
        py::arg("droop_percent") = 2.0, py::arg("outage_reserve_soc") = 0.0, py::arg("phases") = "", py::arg("params") = py::dict());
    c.def(
        "add_ev_station",
        [](DeviceSet& d, Id id, Id bus, Id customer, int n_chargers, double charger_kw, const std::string& strategy, double connection_limit_kw,
           const std::string& kind, double sessions_per_day, const std::string& start, const std::string& end, std::uint64_t seed,
           double start_delay_max_h, double grid_limit, const std::string& grid_order, const py::object& sessions, const std::string& phases,
           const py::dict& params) {
            const std::string who = dev_who("ev station", id);
            EvStationUnit u;
            u.id = id;
            u.bus = bus;
            u.customer = customer;
            u.phases = phases;
            EvStationParams& p = u.station.params;
            p.id = id;
            p.n_chargers = n_chargers;
            p.charger_kw = charger_kw;
            p.strategy = parse_ev_strategy(strategy);
            p.connection_limit_kw = connection_limit_kw;
            p.start_delay_max_s = start_delay_max_h * 3600.0;
            p.delay_seed = seed;
            p.grid_limit = grid_limit;
            p.grid_order = parse_ev_strategy(grid_order);
            apply_fields(p, unit_flags(u, params, who), ev_station_fields(), who);
            u.station.sessions = station_sessions(sessions, parse_charger_kind(kind), p.charger_kw, start, end, seed, id, sessions_per_day, who);
            d.ev_stations.push_back(std::move(u));
        },
        py::arg("id"), py::arg("bus"), py::arg("customer") = -1, py::arg("n_chargers") = 1, py::arg("charger_kw") = 7.0,
        py::arg("strategy") = "uncontrolled", py::arg("connection_limit_kw") = kInf, py::arg("kind") = "home", py::arg("sessions_per_day") = 1.0,
        py::arg("start") = "2025-01-01", py::arg("end") = "2026-01-01", py::arg("seed") = 1, py::arg("start_delay_max_h") = 0.0,
        py::arg("grid_limit") = 0.9, py::arg("grid_order") = "edf", py::arg("sessions") = py::none(), py::arg("phases") = "",
        py::arg("params") = py::dict());
}

void bind_site_and_home(py::class_<DeviceSet>& c) {
    using namespace py_devices;
    c.def(
        "add_charging_site",
        [](DeviceSet& d, Id id, Id bus, int n_chargers, double charger_kw, const std::string& strategy, const std::string& kind,
           double sessions_per_day, const std::string& start, const std::string& end, std::uint64_t seed, const py::object& sessions,
           double pv_kwp, double battery_kwh, double battery_kw, const std::string& phases, const py::dict& params) {
            const std::string who = dev_who("charging site", id);
            ChargingSiteUnit u;
            u.id = id;
            u.bus = bus;
            u.phases = phases;
            u.site.params.id = id;
            EvStationParams& p = u.site.evs.params;
            p.id = id;
            p.n_chargers = n_chargers;
            p.charger_kw = charger_kw;
            p.strategy = parse_ev_strategy(strategy);
            p.delay_seed = seed;
            u.canopy.kwp_dc = pv_kwp;
            u.canopy.inverter_kva = pv_kwp;
            u.site.battery.capacity_kwh = battery_kwh;
            u.site.battery.p_charge_max_kw = u.site.battery.p_discharge_max_kw = battery_kw;
            // site first (its connection_limit_kw is the site's; the station's stays inf), then the station,
            // battery_<SimpleBattery field>, pv_<PvParams field>
            apply_routes(unit_flags(u, params, who),
                         {route("", u.site.params, site_fields(), who), route("", p, ev_station_fields(), who),
                          route("battery_", u.site.battery, simple_battery_fields(), who), route("pv_", u.canopy, pv_fields(), who)},
                         who);
            u.site.evs.sessions = station_sessions(sessions, parse_charger_kind(kind), p.charger_kw, start, end, seed, id, sessions_per_day, who);
            d.charging_sites.push_back(std::move(u));
        },
        py::arg("id"), py::arg("bus"), py::arg("n_chargers") = 1, py::arg("charger_kw") = 22.0, py::arg("strategy") = "uncontrolled",
        py::arg("kind") = "public_ac", py::arg("sessions_per_day") = 2.0, py::arg("start") = "2025-01-01", py::arg("end") = "2026-01-01",
        py::arg("seed") = 1, py::arg("sessions") = py::none(), py::arg("pv_kwp") = 0.0, py::arg("battery_kwh") = 0.0, py::arg("battery_kw") = 0.0,
        py::arg("phases") = "", py::arg("params") = py::dict());
    c.def(
        "add_home",
        [](DeviceSet& d, Id id, Id bus, Id customer, const std::string& type, double floor_area_m2, double pv_kwp, double battery_kwh,
           double battery_kw, double ev_charger_kw, const std::string& ev_kind, double sessions_per_day, const std::string& start,
           const std::string& end, std::uint64_t seed, const py::object& sessions, const std::string& phases, const py::dict& params) {
            const std::string who = dev_who("home", id);
            HomeUnit u;
            u.id = id;
            u.bus = bus;
            u.customer = customer;
            u.phases = phases;
            u.home.id = id;
            u.home.building = building_preset(parse_building_type(type), floor_area_m2);
            u.home.building.id = id;
            u.pv.kwp_dc = pv_kwp;
            u.pv.inverter_kva = pv_kwp;
            u.home.battery.capacity_kwh = battery_kwh;
            u.home.battery.p_charge_max_kw = u.home.battery.p_discharge_max_kw = battery_kw;
            EvStationParams& p = u.home.ev.params;
            p.id = id;
            p.n_chargers = 1;
            p.charger_kw = ev_charger_kw > 0 ? ev_charger_kw : 7.0;
            p.delay_seed = seed;
            // HEMS rules first, then ev_<EvStationParams field>, battery_<SimpleBattery field>, pv_<PvParams field>,
            // and the house's BuildingParams fields unprefixed
            apply_routes(unit_flags(u, params, who),
                         {route("", u.home.rules, hems_fields(), who), route("ev_", p, ev_station_fields(), who),
                          route("battery_", u.home.battery, simple_battery_fields(), who), route("pv_", u.pv, pv_fields(), who),
                          route("", u.home.building, building_fields(), who)},
                         who);
            if (ev_charger_kw > 0 || !sessions.is_none())
                u.home.ev.sessions = station_sessions(sessions, parse_charger_kind(ev_kind), p.charger_kw, start, end, seed, id, sessions_per_day, who);
            d.homes.push_back(std::move(u));
        },
        py::arg("id"), py::arg("bus"), py::arg("customer"), py::arg("type") = "terrace_house", py::arg("floor_area_m2") = 0.0,
        py::arg("pv_kwp") = 0.0, py::arg("battery_kwh") = 0.0, py::arg("battery_kw") = 0.0, py::arg("ev_charger_kw") = 0.0,
        py::arg("ev_kind") = "home", py::arg("sessions_per_day") = 0.8, py::arg("start") = "2025-01-01", py::arg("end") = "2026-01-01",
        py::arg("seed") = 1, py::arg("sessions") = py::none(), py::arg("phases") = "", py::arg("params") = py::dict());
}

void bind_device_set(py::module_& m) {
    using namespace py_devices;
    py::class_<DeviceSet> c(m, "DeviceSet");
    c.def(py::init<>());
    bind_device_adds(c);
    bind_site_and_home(c);
    c.def(
         "add_load_profile",
         [](DeviceSet& d, Id load, const std::string& cls, double daily_kwh, double power_factor, std::vector<double> p_kw,
            std::vector<double> q_kvar) {
             LoadProfileSpec s;
             s.load = load;
             s.cls = parse_class(cls);
             s.daily_kwh = daily_kwh;
             s.power_factor = power_factor;
             s.p_kw = std::move(p_kw);
             s.q_kvar = std::move(q_kvar);
             d.load_profiles.push_back(std::move(s));
         },
         py::arg("load"), py::arg("cls") = "residential", py::arg("daily_kwh") = 14.5, py::arg("power_factor") = 0.95,
         py::arg("p_kw") = std::vector<double>{}, py::arg("q_kvar") = std::vector<double>{})
        .def(
            "set_tariff",
            [](DeviceSet& d, Id customer, const std::string& tariff, const std::string& exp, const py::dict& params) {
                CustomerTariff t{customer, parse_tariff(tariff), parse_export(exp)};
                apply_fields(t.tariff, params, tariff_fields(), "tariff of customer " + std::to_string(customer));
                validate(t.tariff);
                d.tariffs.push_back(std::move(t));
            },
            py::arg("customer"), py::arg("tariff") = "domestic_general", py::arg("export") = "none", py::arg("params") = py::dict())
        .def(
            "add_event",
            [](DeviceSet& d, const std::string& time, const std::string& kind, const std::string& element, Id id, std::int64_t duration_s,
               const std::string& cause) {
                EventKind k;
                if (kind == "open") k = EventKind::OpenSwitch;
                else if (kind == "close") k = EventKind::CloseSwitch;
                else if (kind == "out_of_service") k = EventKind::OutOfService;
                else if (kind == "in_service") k = EventKind::InService;
                else throw ValidationError("event: field 'kind': unknown '" + kind + "' (open, close, out_of_service, in_service)");
                if (duration_s < 0) throw ValidationError("event: field 'duration_s': must be >= 0, got " + std::to_string(duration_s));
                Event e{parse_iso8601(time), k, element, id};
                e.duration_s = duration_s;  // issue 16: undone at its end
                e.cause = cause;
                d.events.push_back(std::move(e));
            },
            py::arg("time"), py::arg("kind"), py::arg("element"), py::arg("id"), py::arg("duration_s") = 0, py::arg("cause") = "scheduled")
        .def(
            "add_building",
            [](DeviceSet& d, Id id, Id bus, Id customer, const std::string& type, double floor_area_m2, const std::string& mode,
               double critical_share, const std::string& phases, const py::dict& params) {
                BuildingUnit u;
                u.id = id;
                u.bus = bus;
                u.customer = customer;
                u.phases = phases;
                u.critical_share = critical_share;
                u.params = building_preset(parse_building_type(type), floor_area_m2);
                u.params.id = id;
                if (mode == "fixed") u.params.mode = BemsMode::Fixed;
                else if (mode == "precool") u.params.mode = BemsMode::PreCool;
                else if (mode == "demand_response") u.params.mode = BemsMode::DemandResponse;
                else if (mode == "precool_and_demand_response") u.params.mode = BemsMode::PreCoolAndDemandResponse;
                else throw ValidationError("building: field 'mode': unknown '" + mode + "' (fixed, precool, demand_response, precool_and_demand_response)");
                apply_fields(u.params, unit_flags(u, params, dev_who("building", id)), building_fields(), dev_who("building", id));
                d.buildings.push_back(std::move(u));
            },
            py::arg("id"), py::arg("bus"), py::arg("customer") = -1, py::arg("type") = "office", py::arg("floor_area_m2") = 0.0,
            py::arg("mode") = "fixed", py::arg("critical_share") = 0.0, py::arg("phases") = "", py::arg("params") = py::dict())
        .def_property_readonly("n_pv", [](const DeviceSet& d) { return d.pv.size(); })
        .def_property_readonly("n_batteries", [](const DeviceSet& d) { return d.batteries.size(); })
        .def_property_readonly("n_ev_stations", [](const DeviceSet& d) { return d.ev_stations.size(); })
        .def_property_readonly("n_charging_sites", [](const DeviceSet& d) { return d.charging_sites.size(); })
        .def_property_readonly("n_buildings", [](const DeviceSet& d) { return d.buildings.size(); })
        .def_property_readonly("n_homes", [](const DeviceSet& d) { return d.homes.size(); })
        .def("__repr__", [](const DeviceSet& d) {
            return "<libgrid.DeviceSet: " + std::to_string(d.pv.size()) + " PV, " + std::to_string(d.batteries.size()) + " batteries, " +
                   std::to_string(d.ev_stations.size()) + " EV stations, " + std::to_string(d.charging_sites.size()) + " charging sites, " +
                   std::to_string(d.buildings.size()) + " buildings, " + std::to_string(d.homes.size()) + " homes, " +
                   std::to_string(d.load_profiles.size()) + " load profiles>";
        });
    m.def(
        "generate_ev_sessions",
        [](const std::string& kind, double charger_kw, const std::string& start, const std::string& end, std::uint64_t seed, Id station_id,
           double sessions_per_day) {
            const auto s = generate_sessions(parse_charger_kind(kind), charger_kw, parse_iso8601(start), parse_iso8601(end), seed,
                                             std::uint64_t(station_id), sessions_per_day);
            std::vector<std::int64_t> a, dep;
            std::vector<double> e, mx, b, soc;
            for (const EvSession& x : s) {
                a.push_back(x.arrival), dep.push_back(x.departure), e.push_back(x.energy_kwh);
                mx.push_back(x.max_kw), b.push_back(x.battery_kwh), soc.push_back(x.soc_arrival);
            }
            return py::dict(py::arg("arrival") = a, py::arg("departure") = dep, py::arg("energy_kwh") = e, py::arg("max_kw") = mx,
                            py::arg("battery_kwh") = b, py::arg("soc_arrival") = soc);
        },
        py::arg("kind"), py::arg("charger_kw"), py::arg("start"), py::arg("end"), py::arg("seed"), py::arg("station_id"),
        py::arg("sessions_per_day"),
        "The seeded sessions add_ev_station generates (devices/ev.hpp generate_sessions), as columns; times in s since 1970-01-01 local.");
}

}  // namespace

py::dict summary_to_dict(const SimulationSummary& s) {
    py::dict d;
    for (const KpiInfo& k : summary_kpis()) {  // the KPI table (simulation/kpis.hpp)
        const double v = k.get(s);
        if (k.count) d[k.name] = py::int_(static_cast<long long>(v));
        else d[k.name] = v;
    }
    d["completed"] = s.completed;
    d["planned_steps"] = s.planned_steps;
    d["stop_reason"] = s.stop_reason;
    d["resumed_from_step"] = s.resumed_from_step;
    return d;
}

/// rebill(): the bills as columns (one row per customer and month), for results.py's DataFrame.
py::dict rebill_columns(const std::string& path, const std::string& tariff, const std::string& scheme,
                        const std::string& partial, double fuel_sen, const std::vector<Id>& customers,
                        const std::string& replace) {
    RebillOptions o;
    o.tariff = tariff;
    o.replace = replace;
    o.export_scheme = scheme;
    if (!partial.empty()) o.partial_months = partial_months_from_name(partial, "partial_months");
    o.fuel_adjustment_sen_per_kwh = fuel_sen;
    o.customers = customers;
    Rebill r;
    {
        py::gil_scoped_release release;
        r = rebill(path, o);
    }
    std::vector<Id> cust;
    std::vector<std::string> month, tariffs, schemes;
    std::vector<bool> full;
    std::vector<double> days;
    const std::vector<std::pair<const char*, double Bill::*>> fields{
        {"import_kwh", &Bill::import_kwh},   {"export_kwh", &Bill::export_kwh},     {"peak_kwh", &Bill::peak_kwh},
        {"offpeak_kwh", &Bill::offpeak_kwh}, {"billed_kwh", &Bill::billed_kwh},     {"energy_rm", &Bill::energy_rm},
        {"capacity_rm", &Bill::capacity_rm}, {"network_rm", &Bill::network_rm},     {"fuel_rm", &Bill::fuel_rm},
        {"retail_rm", &Bill::retail_rm},     {"eei_rebate_rm", &Bill::eei_rebate_rm},
        {"export_credit_rm", &Bill::export_credit_rm}, {"subtotal_rm", &Bill::subtotal_rm},
        {"re_fund_rm", &Bill::re_fund_rm},   {"service_tax_rm", &Bill::service_tax_rm}, {"total_rm", &Bill::total_rm}};
    std::vector<std::vector<double>> values(fields.size());
    for (std::size_t c = 0; c < r.customers.size(); ++c)
        for (const Bill& b : r.bills[c]) {
            cust.push_back(r.customers[c]);
            tariffs.push_back(r.tariffs[c]);
            schemes.push_back(r.export_schemes[c]);
            month.push_back(std::to_string(b.year) + "-" + (b.month < 10 ? "0" : "") + std::to_string(b.month));
            full.push_back(b.full_month);
            days.push_back(b.days_covered);
            for (std::size_t f = 0; f < fields.size(); ++f) values[f].push_back(b.*(fields[f].second));
        }
    py::dict d;
    d["customer"] = cust;
    d["month"] = month;
    d["tariff"] = tariffs;
    d["export_scheme"] = schemes;
    d["full_month"] = full;
    d["days_covered"] = days;
    for (std::size_t f = 0; f < fields.size(); ++f) d[fields[f].first] = values[f];
    return d;
}

/// run_simulation on a balanced Network or (issue 15) an unbalanced UNetwork: one body for both.
template <class NetT>
void def_run_simulation(py::module_& m) {
    m.def(
        "run_simulation",
        [](const NetT& net, const DeviceSet& dev, const std::string& start, std::int64_t step_s, std::size_t n_steps, std::uint64_t seed,
           const std::string& output, const std::string& method, int threads, std::optional<double> emission_t_per_mwh, std::int64_t meter_interval_s,
           bool float32, const std::string& scenario_text, py::object progress, bool resume, const std::string& partial_months,
           const std::map<std::string, std::string>& load_priority, const std::string& default_priority, bool secondary_control,
           const std::map<std::string, double>& comms, const std::vector<py::dict>& dr_events, bool stepped, bool in_memory,
           const std::string& default_tariff, const std::string& holidays, std::optional<double> latitude_deg,
           std::optional<double> longitude_deg, std::optional<double> utc_offset_h) -> py::object {
            SimulationOptions opt;
            // issue 19: no place assumed: tariff, CO2 factor, holidays and the site only when asked
            if (!default_tariff.empty()) opt.default_tariff = Tariff::by_name(default_tariff, "default_tariff");
            if (holidays == "melaka") opt.holidays = [](std::int64_t t) { return is_public_holiday(t); };
            else if (holidays != "none") throw ValidationError("simulation: field 'holidays': unknown '" + holidays + "'; allowed: none, melaka");
            if (latitude_deg) opt.weather.latitude_deg = *latitude_deg;
            if (longitude_deg) opt.weather.longitude_deg = *longitude_deg;
            if (utc_offset_h) opt.weather.utc_offset_h = *utc_offset_h;
            // issue 17: demand-response events (docs/comms.md "Demand response through the channel")
            for (std::size_t i = 0; i < dr_events.size(); ++i) {
                const py::dict& d = dr_events[i];
                const std::string who = "simulation: field 'dr_events[" + std::to_string(i) + "]";
                DemandResponseEvent e;
                for (const auto& [kk, vv] : d) {
                    const std::string k = py::cast<std::string>(kk);
                    if (k == "start") e.start = parse_iso8601(py::cast<std::string>(vv));
                    else if (k == "end") e.end = parse_iso8601(py::cast<std::string>(vv));
                    else if (k == "reduction") e.reduction = py::cast<double>(vv);
                    else if (k == "notice_s") e.notice_s = py::cast<double>(vv);
                    else if (k == "targets") {
                        e.buildings = e.chargers = e.homes = false;
                        for (const auto& t : py::cast<std::vector<std::string>>(vv)) {
                            if (t == "buildings") e.buildings = true;
                            else if (t == "chargers") e.chargers = true;
                            else if (t == "homes") e.homes = true;
                            else throw ValidationError(who + ".targets': unknown target '" + t + "'; allowed: buildings, homes, chargers");
                        }
                    } else
                        throw ValidationError(who + "': unknown key '" + k + "'; allowed: start, end, reduction, notice_s, targets");
                }
                if (!d.contains("start") || !d.contains("end")) throw ValidationError(who + "': needs 'start' and 'end'");
                opt.demand_response.push_back(e);
            }
            // issue 17: the PLC channel of the meter readings (docs/comms.md); empty = no comms
            for (const auto& [k, v] : comms) {
                CommsOptions& c = opt.comms;
                c.enabled = true;
                if (k == "packet_loss") c.plc.packet_loss = v;
                else if (k == "latency_median_s") c.plc.latency_median_s = v;
                else if (k == "latency_sigma") c.plc.latency_sigma = v;
                else if (k == "retries") {
                    if (v != std::floor(v) || !(v >= 0 && v <= 20)) throw ValidationError("simulation: field 'comms.retries': must be an integer in 0 .. 20");
                    c.plc.retries = int(v);
                } else if (k == "retry_s") c.plc.retry_s = v;
                else if (k == "deadline_s") c.deadline_s = v;
                else if (k == "price_send_hour") c.price_send_hour = v;  // issue 17 H3
                else if (k == "hop_length_m") c.plc.hop_length_m = v;
                else if (k == "concentrator_rate_per_s") c.plc.concentrator_rate_per_s = v;
                else
                    throw ValidationError("simulation: field 'comms': unknown key '" + k +
                                          "'; allowed: packet_loss, latency_median_s, latency_sigma, retries, retry_s, deadline_s, price_send_hour, hop_length_m, concentrator_rate_per_s");
            }
            // issue 16: shedding priorities by load type, secondary control of droop islands
            auto priority = [](const std::string& v, const std::string& who) {
                if (v == "critical") return LoadPriority::Critical;
                if (v == "essential") return LoadPriority::Essential;
                if (v == "deferrable") return LoadPriority::Deferrable;
                throw ValidationError("simulation: " + who + ": unknown priority '" + v + "'; allowed: critical, essential, deferrable");
            };
            for (const auto& [type, v] : load_priority) opt.load_priority[type] = priority(v, "field 'load_priority', type '" + type + "'");
            opt.default_priority = priority(default_priority, "field 'default_priority'");
            opt.island_secondary_control = secondary_control;
            opt.bill_partial_months = partial_months_from_name(partial_months, "partial_months");
            opt.start = parse_iso8601(start);
            opt.step_s = step_s;
            opt.n_steps = n_steps;
            opt.seed = seed;
            opt.output_path = output;
            opt.method = parse_method(method);
            opt.threads = threads;
            if (emission_t_per_mwh) {
                opt.emission = EmissionFactor{};
                opt.emission->t_per_mwh = *emission_t_per_mwh;
            }
            opt.meter_interval_s = meter_interval_s;
            opt.h5.float32 = float32;
            opt.scenario_text = scenario_text;
            opt.resume = resume;
            opt.results_in_memory = in_memory;  // issue 19
            if (stepped) return py::cast(Simulation(net, dev, opt));  // issue 19: _libgrid.SteppedSimulation (bindings/stepping.cpp)
            py_detail::RunGuard guard(opt, progress);
            Simulation sim(net, dev, opt);
            return summary_to_dict(guard.run(sim));
        },
        py::arg("net"), py::arg("devices"), py::arg("start"), py::arg("step_s"), py::arg("n_steps"), py::arg("seed") = 1,
        py::arg("output") = "", py::arg("method") = "auto", py::arg("threads") = 1, py::arg("emission_t_per_mwh") = py::none(),
        py::arg("meter_interval_s") = 900, py::arg("float32") = true, py::arg("scenario_text") = "", py::arg("progress") = py::none(),
        py::arg("resume") = false, py::arg("partial_months") = "flag", py::arg("load_priority") = std::map<std::string, std::string>{},
        py::arg("default_priority") = "essential", py::arg("secondary_control") = true,
        py::arg("comms") = std::map<std::string, double>{}, py::arg("dr_events") = std::vector<py::dict>{}, py::arg("stepped") = false,
        py::arg("in_memory") = false, py::arg("default_tariff") = "", py::arg("holidays") = "none", py::arg("latitude_deg") = py::none(),
        py::arg("longitude_deg") = py::none(), py::arg("utc_offset_h") = py::none());
}

void bind_simulation(py::module_& m) {
    m.def("rebill", &rebill_columns, py::arg("path"), py::arg("tariff") = "", py::arg("export_scheme") = "",
          py::arg("partial_months") = "", py::arg("fuel_adjustment_sen_per_kwh") = 0.0,
          py::arg("customers") = std::vector<Id>{}, py::arg("replace") = "",
          "Bills of a results file's /meter series under a tariff (docs/tariffs.md, 'Re-billing'): columns "
          "customer, month, tariff, export_scheme, full_month, days_covered, kWh and RM lines.");
    m.def(
        "summary_kpis",
        [] {
            py::list out;
            for (const KpiInfo& k : summary_kpis())
                out.append(py::dict(py::arg("name") = k.name, py::arg("unit") = k.unit, py::arg("boundary") = kpi_boundary_name(k.boundary),
                                    py::arg("definition") = k.definition, py::arg("formula") = k.formula, py::arg("where") = k.where,
                                    py::arg("count") = k.count, py::arg("in_file") = k.in_file, py::arg("compared") = k.compared));
            return out;
        },
        "The run summary's KPIs (simulation/kpis.hpp, docs/kpis.md): name, unit, boundary (substation, customer_meters, city, "
        "network, run), definition, formula, where (measured), count, in_file (in /summary), compared (in plots.KPI_ORDER, in "
        "that order).");
    bind_device_set(m);  // issue 19: the devices (bind_device_set above)

    m.def("parse_time", [](const std::string& s) { return parse_iso8601(s); }, "ISO 8601 local Melaka time -> seconds");
    m.def("format_time", [](LocalTime t) { return format_iso8601(t); });

    def_run_simulation<Network>(m);
    def_run_simulation<UNetwork>(m);  // issue 15: Simulation(UNetwork, ...)
}
