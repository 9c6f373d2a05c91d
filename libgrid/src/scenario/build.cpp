// libgrid scenario layer: building a scenario (see scenario/scenario.hpp and docs/scenarios.md).
//
// One builder per device kind, registered by kind in kBuilders and run in that fixed order on a
// BuildContext that holds the scenario, what is built so far and the per-customer decisions. The
// grid (generator or file network) comes first (scenario_grid). Customers of the Melaka generator (or
// one per load of a file network) get devices chosen by per-customer uniform numbers from the scenario
// seed (Rng streams keyed by device kind and customer id): no builder draws from a shared stream, so
// the builders' order does not change a draw. Customers are found by id through a lookup, never by
// using the id as a position. Defaults and assumptions are documented in docs/scenarios.md.
#include "libgrid/scenario/scenario.hpp"
#include "libgrid/scenario/cost_catalogue.hpp"
#include "scenario_text.hpp"

#include "libgrid/core/errors.hpp"
#include "libgrid/io/dss.hpp"
#include "libgrid/io/network_io.hpp"
#include "libgrid/profiles/rng.hpp"
#include "libgrid/profiles/solar.hpp"
#include "libgrid/profiles/time_series.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <unordered_map>

namespace libgrid {

namespace {


constexpr std::uint64_t kScenarioStream = 0x5343454E4152494FULL;  // "SCENARIO"
enum class Pick : std::uint64_t { Pv = 1, Battery = 2, Ev = 3, Bems = 4, Hems = 5, Tou = 6, NonDomesticTou = 7 };

/// Per-customer uniform number of a selection: the smallest ones are chosen.
double pick_key(std::uint64_t seed, Pick what, Id customer) {
    Rng r(seed, stream_id({kScenarioStream, std::uint64_t(what), std::uint64_t(customer)}));
    return r.uniform();
}

/// Chooses round(share * n) of `candidates` (customer indices) per customer type, by the smallest keys.
/// `first`: customers that go before all others (e.g. HEMS homes for ToU).
std::vector<char> choose(const std::vector<Customer>& cs, const std::vector<std::size_t>& candidates, double share, std::uint64_t seed,
                         Pick what, const std::vector<char>* first = nullptr) {
    std::vector<char> chosen(cs.size(), 0);
    std::map<int, std::vector<std::size_t>> by_type;
    for (std::size_t i : candidates) by_type[int(cs[i].type)].push_back(i);
    for (auto& [type, idx] : by_type) {
        const std::size_t k = std::size_t(std::llround(share * double(idx.size())));
        std::vector<std::pair<double, std::size_t>> keyed;
        keyed.reserve(idx.size());
        for (std::size_t i : idx) keyed.emplace_back((first && (*first)[i]) ? -1.0 : pick_key(seed, what, cs[i].id), i);
        std::sort(keyed.begin(), keyed.end());
        for (std::size_t j = 0; j < k && j < keyed.size(); ++j) chosen[keyed[j].second] = 1;
    }
    return chosen;
}

bool contains(const std::vector<CustomerType>& v, CustomerType t) { return std::find(v.begin(), v.end(), t) != v.end(); }

CustomerClass class_of(CustomerType t) {
    switch (t) {
        case CustomerType::TerraceHouse: return CustomerClass::Residential;
        case CustomerType::Industry: return CustomerClass::Industrial;
        default: return CustomerClass::Commercial;
    }
}

/// Largest step value of a class's profile over its mean, measured once on two weeks of the
/// profile generator itself (seed 0, customer 0, 15-minute steps): the shape's peak-to-mean ratio.
double peak_to_mean(CustomerClass cls) {
    static const std::array<double, 3> ratio = [] {
        std::array<double, 3> r{};
        for (int k = 0; k < 3; ++k) {
            const auto v = load_profile(CustomerClass(k), from_civil(2025, 3, 3), 900, 96 * 14, 0, 0, 24.0);
            double mx = 0.0, mean = 0.0;
            for (double x : v) {
                mx = std::max(mx, x);
                mean += x / double(v.size());
            }
            r[std::size_t(k)] = mean > 0 ? mx / mean : 1.0;
        }
        return r;
    }();
    return ratio[std::size_t(cls)];
}

/// Preset daily energy on a typical Melaka day, kWh/day, at the preset's own floor area (docs/devices_ev_building.md,
/// table "Presets", calibrated values): used to size a BEMS building to its customer's daily energy.
double preset_daily_kwh(BuildingType t) {
    switch (t) {
        case BuildingType::TerraceHouse: return 14.07;
        case BuildingType::Shophouse: return 67.0;
        case BuildingType::Office: return 2377.0;
        case BuildingType::Mall: return 23159.0;
        case BuildingType::Hotel: return 6973.0;
    }
    return 1.0;
}

BuildingType building_type_of(CustomerType t) {
    switch (t) {
        case CustomerType::Shophouse: return BuildingType::Shophouse;
        case CustomerType::Office: return BuildingType::Office;
        case CustomerType::Mall: return BuildingType::Mall;
        case CustomerType::Hotel: return BuildingType::Hotel;
        default: return BuildingType::TerraceHouse;
    }
}

/// Solar ATAP caps on the inverter, kW AC (melaka.md): domestic 5 kW single-phase / 15 kW three-phase;
/// non-domestic up to 100 % of maximum demand, at most 1 MW.
double atap_cap_kw(const Customer& c) {
    if (c.type == CustomerType::TerraceHouse) return c.phases == 1 ? 5.0 : 15.0;
    return std::min(c.peak_kw, 1000.0);
}

PvParams pv_params(const ScenarioPv& s, double kwp, double inverter_kva) {
    PvParams p;
    switch (s.control) {
        case PvControl::VoltVarVoltWatt: p = PvParams::ieee1547_cat_b(kwp, inverter_kva); break;
        case PvControl::VoltVar:
            p = PvParams::ieee1547_cat_b(kwp, inverter_kva);
            p.volt_watt = false;
            break;
        case PvControl::VoltWatt:
            p.volt_watt = true;
            break;
        case PvControl::FixedPF:
            p.qmode = QControl::FixedPF;
            p.pf = s.pf;
            break;
        case PvControl::Unity: break;
    }
    p.kwp_dc = kwp;
    p.inverter_kva = inverter_kva;
    p.tilt_deg = s.tilt_deg;
    p.azimuth_deg = s.azimuth_deg;
    return p;
}




[[noreturn]] void build_fail(const Scenario& s, const std::string& key, const std::string& msg) {
    throw ValidationError("scenario " + s.path + ": key '" + key + "': " + msg);
}

std::shared_ptr<const WeatherSeries> weather_from_csv(const Scenario& s) {
    const ScenarioHorizon& h = s.horizon;
    std::vector<TimeSeries> cols = read_csv(s.weather.file_path, "time");
    const TimeSeries* ghi = nullptr;
    const TimeSeries* temp = nullptr;
    const TimeSeries* dni = nullptr;
    const TimeSeries* dhi = nullptr;
    for (const auto& c : cols) {
        if (c.name == "ghi_wm2") ghi = &c;
        else if (c.name == "temp_c") temp = &c;
        else if (c.name == "dni_wm2") dni = &c;
        else if (c.name == "dhi_wm2") dhi = &c;
    }
    if (!ghi || !temp) build_fail(s, "weather.file", s.weather.file_path + ": needs the columns ghi_wm2 and temp_c");
    if ((dni == nullptr) != (dhi == nullptr)) build_fail(s, "weather.file", s.weather.file_path + ": give both dni_wm2 and dhi_wm2, or neither");
    auto fit = [&](const TimeSeries& ts) {
        try {
            return resample(ts, h.start, h.step_s, h.n_steps, Resample::Mean).values;
        } catch (const ValidationError& e) {
            build_fail(s, "weather.file", std::string("does not cover the horizon: ") + e.what());
        }
    };
    auto w = std::make_shared<WeatherSeries>();
    w->start = h.start;
    w->step_s = h.step_s;
    w->ghi_wm2 = fit(*ghi);
    w->temp_c = fit(*temp);
    if (dni) {
        w->dni_wm2 = fit(*dni);
        w->dhi_wm2 = fit(*dhi);
    }
    const std::size_t n = h.n_steps;
    w->zenith_deg.resize(n);
    w->azimuth_deg.resize(n);
    w->ghi_clear_wm2.resize(n);
    w->clear_sky_index.resize(n);
    w->cloud_index.resize(n);
    if (!dni) w->dni_wm2.resize(n), w->dhi_wm2.resize(n);
    for (std::size_t k = 0; k < n; ++k) {
        const double t_mid = double(w->time(k)) + 0.5 * double(h.step_s);
        const SunPosition sp = sun_position_at(t_mid, s.site.latitude_deg, s.site.longitude_deg, s.site.utc_offset_h);
        const int doy = to_civil(w->time(k)).day_of_year;
        w->zenith_deg[k] = sp.zenith_deg;
        w->azimuth_deg[k] = sp.azimuth_deg;
        if (w->ghi_wm2[k] < 0) build_fail(s, "weather.file", "negative ghi_wm2 at " + format_iso8601(w->time(k)));
        if (!dni) {
            const Irradiance ir = erbs_decomposition(w->ghi_wm2[k], sp.zenith_deg, doy);
            w->dni_wm2[k] = ir.dni_wm2;
            w->dhi_wm2[k] = ir.dhi_wm2;
        }
        const double clear = clear_sky(sp.zenith_deg, doy, WeatherParams{}.linke_turbidity, s.site.altitude_m).ghi_wm2;
        w->ghi_clear_wm2[k] = clear;
        w->clear_sky_index[k] = clear > 1.0 ? w->ghi_wm2[k] / clear : 1.0;
        w->cloud_index[k] = std::max(0.0, 1.0 - w->clear_sky_index[k]);
    }
    return w;
}


// ---- the builders ------------------------------------------------------------------------------

/// What the builders share: the scenario, what is built so far, and the per-customer decisions
/// (indexed by the customer's position in `b.customers`, never by its id).
struct BuildContext {
    BuildContext(const Scenario& scenario, BuiltScenario& built, ScenarioGrid& grid)
        : s(scenario),
          b(built),
          site_customers(std::move(grid.charging_sites)),
          site_pv(std::move(grid.charging_site_pv)),
          site_battery(std::move(grid.charging_site_battery)),
          site_pv_kwp(std::move(grid.charging_site_pv_kwp)),
          site_battery_kwh(std::move(grid.charging_site_battery_kwh)),
          site_battery_kw(std::move(grid.charging_site_battery_kw)),
          feeder_names(std::move(grid.feeder_names)),
          feeder_breakers(std::move(grid.feeder_breakers)),
          feeder_km(std::move(grid.feeder_km)) {}

    const Scenario& s;
    BuiltScenario& b;
    std::vector<Id> site_customers, site_pv, site_battery;  ///< ScenarioGrid's charging sites
    std::vector<double> site_pv_kwp, site_battery_kwh, site_battery_kw;  ///< unbalanced Melaka: their sizes
    std::vector<std::string> feeder_names;  ///< issue 16: ScenarioGrid's 11 kV feeders
    std::vector<Id> feeder_breakers;
    std::vector<double> feeder_km;
    std::unordered_map<Id, std::size_t> position;           ///< customer id -> position
    std::vector<double> daily;                              ///< daily kWh of each customer's load profile
    std::vector<char> has_pv, has_battery, has_ev, has_bems, has_hems, has_tou;  ///< selections
    std::vector<char> pv_here;   ///< selected for PV and sized > 0 kWp
    std::vector<PvParams> pv;    ///< its PV (where pv_here)
    LocalTime t0 = 0, t1 = 0;

    std::size_t position_of(Id customer) const {
        const auto it = position.find(customer);
        if (it == position.end()) throw ValidationError("scenario " + s.path + ": no customer with id " + std::to_string(customer));
        return it->second;
    }
    bool battery_here(std::size_t i) const { return pv_here[i] && has_battery[i]; }
    double battery_kwh(std::size_t i) const { return battery_here(i) ? pv[i].kwp_dc * s.devices.battery.kwh_per_kwp : 0.0; }
    double battery_kw(std::size_t i) const { return battery_kwh(i) * s.devices.battery.kw_per_kwh; }
};

/// The smart-charging parameters every station of the scenario shares (delays, grid_aware).
void ev_control_params(const Scenario& s, EvStationParams& p) {
    const ScenarioEv& d = s.devices.ev;
    p.start_delay_max_s = d.start_delay_max_h * 3600.0;
    p.delay_seed = s.seed;
    p.grid_limit = d.grid_limit;
    p.grid_order = d.grid_order;
}

/// A customer's home charger and its sessions over the horizon.
EvStation home_ev(const BuildContext& x, const Customer& c) {
    const ScenarioEv& d = x.s.devices.ev;
    EvStation ev;
    ev.params.id = c.id;
    ev.params.n_chargers = 1;
    ev.params.charger_kw = d.charger_kw;
    ev.params.strategy = d.strategy;
    ev.params.connection_limit_kw = d.limit_kw;
    ev_control_params(x.s, ev.params);
    ev.sessions = generate_sessions(ChargerKind::Home, d.charger_kw, x.t0, x.t1, x.s.seed, std::uint64_t(c.id), d.sessions_per_day);
    return ev;
}

/// Load profiles: one per customer but the charging sites (whose load is their chargers').
void build_load_profiles(BuildContext& x) {
    const Scenario& s = x.s;
    const std::vector<Customer>& cs = x.b.customers;
    const std::size_t nc = cs.size();
    std::map<Id, std::size_t> load_index;
    for (std::size_t i = 0; i < x.b.net.loads.size(); ++i) load_index[x.b.net.loads[i].id] = i;
    std::map<Id, std::size_t> uload_index;  // the unbalanced Melaka: its loads keep the generator's ids
    for (std::size_t i = 0; i < x.b.unet.loads.size(); ++i) uload_index[x.b.unet.loads[i].id] = i;
    if (s.network.dss) {  // a .dss network's loads follow their own LoadShapes: no LoadProfileSpec
        x.daily.assign(nc, 0.0);
        for (std::size_t i = 0; i < nc; ++i) x.daily[i] = cs[i].daily_kwh;
        return;
    }
    double house_kwh_sum = 0.0;
    std::size_t n_houses = 0;
    for (const Customer& c : cs)
        if (c.type == CustomerType::TerraceHouse) house_kwh_sum += c.daily_kwh, ++n_houses;
    const double house_scale = (!s.network.from_file && n_houses > 0 && house_kwh_sum > 0)
                                   ? s.profiles.residential_daily_kwh / (house_kwh_sum / double(n_houses))
                                   : 1.0;
    x.daily.assign(nc, 0.0);
    for (std::size_t i = 0; i < nc; ++i) {
        const Customer& c = cs[i];
        if (c.type == CustomerType::ChargingSite) {
            // The generator's load of a charging site is the design demand of its chargers; the chargers
            // are the ChargingSiteUnits below (or absent), so the load itself draws nothing.
            if (x.b.unbalanced) {
                ULoad& u = x.b.unet.loads[uload_index.at(c.load_id)];
                u.kw = u.base_kw = u.kvar = u.base_kvar = 0.0;
                continue;
            }
            Load& l = x.b.net.loads[load_index.at(c.load_id)];
            l.p_mw = 0.0;
            l.q_mvar = 0.0;
            continue;
        }
        const CustomerClass cls = class_of(c.type);
        x.daily[i] = c.daily_kwh * (cls == CustomerClass::Residential ? house_scale
                                    : cls == CustomerClass::Industrial ? s.profiles.industrial_scale
                                                                       : s.profiles.commercial_scale);
        // A class profile peaks at peak_to_mean(cls) times its mean: no more daily energy than lets the
        // profile's peak stay at the customer's own peak (the generator sizes cables and transformers
        // for that peak; malls and hotels at 12-15 equivalent hours would otherwise peak at 1.7-2x).
        if (cls != CustomerClass::Residential && c.peak_kw > 0)
            x.daily[i] = std::min(x.daily[i], c.peak_kw * 24.0 / peak_to_mean(cls));
        LoadProfileSpec sp;
        sp.load = c.load_id;
        sp.cls = cls;
        sp.daily_kwh = x.daily[i];
        sp.power_factor = s.profiles.power_factor;
        x.b.devices.load_profiles.push_back(sp);
    }
}

/// EV sessions are generated for the whole horizon before the run: refuse up front what would not
/// fit in memory (check_run_resources covers the rest of the run once built).
void check_session_memory(const BuildContext& x) {
    const Scenario& s = x.s;
    const double days = double(x.t1 - x.t0) / 86400.0;
    double sessions = double(std::count(x.has_ev.begin(), x.has_ev.end(), char(1))) * s.devices.ev.sessions_per_day * days;
    const ScenarioPublicSites& ps = s.devices.ev.public_sites;
    const double n_sites = !ps.bus_names.empty() ? double(ps.bus_names.size())
                           : !ps.buses.empty()   ? double(ps.buses.size())
                           : ps.sites < 0        ? double(x.site_customers.size())
                                                 : double(ps.sites);
    for (const ScenarioChargerGroup& g : ps.chargers) sessions += n_sites * g.sessions_per_day * double(g.n < 0 ? 8 : g.n) * days;
    const double bytes = sessions * double(sizeof(EvSession) + sizeof(EvSessionRecord) + 6 * 8);
    const double limit = memory_limit_bytes();
    if (bytes > limit)
        build_fail(s, "horizon",
                   "the EV charging sessions of " + scenario_text::horizon_text(s.horizon) + " alone need about " +
                       scenario_text::gb_text(bytes) + " of memory (" + scenario_text::count_text(sessions) +
                       " sessions), more than the limit of " + scenario_text::gb_text(limit) +
                       " (physical memory, or $LIBGRID_MEMORY_LIMIT_GB): shorten the horizon or lower devices.ev.share");
}

/// Issue 15, .dss networks: `devices.<kind>.customers` (load names) replace the share's selection.
void name_customers(BuildContext& x) {
    const ScenarioDevices& d = x.s.devices;
    if (!x.s.network.dss) return;
    std::unordered_map<std::string, std::size_t> by_name;  // lower-case load name -> customer position
    const UNetwork& net = x.b.unet;
    for (std::size_t i = 0; i < net.loads.size(); ++i) {
        std::string n = net.loads[i].name;
        for (char& ch : n) ch = char(std::tolower(static_cast<unsigned char>(ch)));
        by_name.emplace(n, x.position_of(unbalanced_load_id(net, i)));
    }
    auto named = [&](const std::vector<std::string>& names, const char* key, std::vector<char>& has) {
        if (names.empty()) return;
        has.assign(x.b.customers.size(), 0);
        for (std::size_t k = 0; k < names.size(); ++k) {
            const auto it = by_name.find(names[k]);
            if (it == by_name.end())
                build_fail(x.s, std::string(key) + "." + std::to_string(k), "no load '" + names[k] + "' in " + x.s.network.file_path);
            has[it->second] = 1;
        }
    };
    named(d.pv.customers, "devices.pv.customers", x.has_pv);
    named(d.battery.customers, "devices.battery.customers", x.has_battery);
    named(d.ev.customers, "devices.ev.customers", x.has_ev);
    named(d.buildings.customers, "devices.buildings.customers", x.has_bems);
    named(d.homes.customers, "devices.homes.customers", x.has_hems);
    for (std::size_t k = 0; k < d.battery.customers.size(); ++k)
        if (!x.has_pv[by_name.at(d.battery.customers[k])])
            build_fail(x.s, "devices.battery.customers." + std::to_string(k),
                       "load '" + d.battery.customers[k] + "' has no PV: a battery goes with a customer's PV (devices.pv.customers)");
}

/// Which customers get which device (nested, per-kind streams; see scenario.hpp), and each PV's size.
void build_selections(BuildContext& x) {
    const ScenarioDevices& d = x.s.devices;
    const std::vector<Customer>& cs = x.b.customers;
    const std::size_t nc = cs.size();
    const std::uint64_t seed = x.s.seed;
    auto candidates = [&](auto pred) {  // pred(customer index)
        std::vector<std::size_t> v;
        for (std::size_t i = 0; i < nc; ++i)
            if (pred(i)) v.push_back(i);
        return v;
    };
    auto is_house = [&](std::size_t i) { return cs[i].type == CustomerType::TerraceHouse; };
    x.has_pv = choose(cs, candidates([&](std::size_t i) { return contains(d.pv.types, cs[i].type) && cs[i].roof_area_m2 > 0; }), d.pv.share, seed,
                      Pick::Pv);
    x.has_battery = choose(cs, candidates([&](std::size_t i) { return x.has_pv[i] != 0; }), d.battery.share, seed, Pick::Battery);
    x.has_ev = choose(cs, candidates([&](std::size_t i) { return contains(d.ev.types, cs[i].type); }), d.ev.share, seed, Pick::Ev);
    x.has_bems = choose(cs, candidates([&](std::size_t i) { return contains(d.buildings.types, cs[i].type); }), d.buildings.share, seed, Pick::Bems);
    x.has_hems = choose(cs, candidates(is_house), d.homes.share, seed, Pick::Hems);
    name_customers(x);
    x.has_tou = choose(cs, candidates(is_house), x.s.tariff.tou_adoption, seed, Pick::Tou, &x.has_hems);
    check_session_memory(x);
    x.pv_here.assign(nc, 0);
    x.pv.assign(nc, PvParams{});
    for (std::size_t i = 0; i < nc; ++i) {
        if (!x.has_pv[i]) continue;
        double kwp = cs[i].roof_area_m2 * d.pv.kwp_per_m2;
        if (d.pv.cap_atap) kwp = std::min(kwp, atap_cap_kw(cs[i]) * d.pv.dc_ac_ratio);
        if (kwp > 0) {
            x.pv[i] = pv_params(d.pv, kwp, kwp / d.pv.dc_ac_ratio);
            x.pv_here[i] = 1;
        }
    }
}

/// HEMS homes: the house, its PV, battery and EV under one home energy manager.
void build_homes(BuildContext& x) {
    const ScenarioDevices& d = x.s.devices;
    for (std::size_t i = 0; i < x.b.customers.size(); ++i) {
        if (!x.has_hems[i]) continue;
        const Customer& c = x.b.customers[i];
        HomeUnit h;
        h.id = c.id;
        h.bus = c.bus;
        h.customer = c.load_id;
        h.home.id = c.id;
        h.home.building = building_preset(BuildingType::TerraceHouse, building_preset(BuildingType::TerraceHouse).floor_area_m2 * x.daily[i] /
                                                                          preset_daily_kwh(BuildingType::TerraceHouse));
        h.home.building.id = c.id;
        h.home.rules = d.homes.rules;
        h.phases = d.homes.phases;
        if (x.battery_here(i)) {
            SimpleBattery sb;
            sb.capacity_kwh = x.battery_kwh(i);
            sb.p_charge_max_kw = sb.p_discharge_max_kw = x.battery_kw(i);
            h.home.battery = sb;
        }
        if (x.has_ev[i]) {
            if (d.ev.strategy == EvStrategy::GridAware)
                build_fail(x.s, "devices.ev.strategy", "grid_aware is not available at HEMS homes (devices.homes.share > 0 and the home has an EV): "
                                                     "the HEMS decides its car's charging (devices.homes.ev_offpeak)");
            h.home.ev = home_ev(x, c);
        } else {
            h.home.ev.params.id = c.id;
            h.home.ev.params.n_chargers = 1;
            h.home.ev.params.charger_kw = d.ev.charger_kw;
        }
        if (x.pv_here[i]) h.pv = x.pv[i];
        else h.pv.kwp_dc = 0.0;
        x.b.devices.homes.push_back(std::move(h));
    }
}

/// Rooftop PV of the customers not run by a HEMS.
void build_pv(BuildContext& x) {
    for (std::size_t i = 0; i < x.b.customers.size(); ++i) {
        if (x.has_hems[i] || !x.pv_here[i]) continue;
        const Customer& c = x.b.customers[i];
        PvUnit u;
        u.id = c.id;
        u.bus = c.bus;
        u.customer = c.load_id;
        u.params = x.pv[i];
        u.phases = x.s.devices.pv.phases;
        x.b.devices.pv.push_back(u);
    }
}

/// Batteries next to the PV of the customers not run by a HEMS.
void build_battery(BuildContext& x) {
    const ScenarioBattery& d = x.s.devices.battery;
    for (std::size_t i = 0; i < x.b.customers.size(); ++i) {
        if (x.has_hems[i] || !x.battery_here(i)) continue;
        const Customer& c = x.b.customers[i];
        BatteryUnit u;
        u.id = c.id;
        u.bus = c.bus;
        u.customer = c.load_id;
        u.params.e_kwh = x.battery_kwh(i);
        u.params.p_charge_kw = u.params.p_discharge_kw = x.battery_kw(i);
        u.params.strategy = d.strategy;
        u.params.grid_forming = d.grid_forming;  // issue 16
        u.params.droop_percent = d.droop_percent;
        u.params.outage_reserve_soc = d.outage_reserve_soc;
        u.phases = d.phases;
        if (d.strategy == BatteryStrategy::PeakShaving) {
            u.params.peak_limit_kw = d.peak_limit_fraction * c.peak_kw;
            u.params.peak_charge_margin_kw = 0.1 * u.params.peak_limit_kw;
        }
        x.b.devices.batteries.push_back(u);
    }
}

/// Home EV chargers of the customers not run by a HEMS.
void build_ev_home(BuildContext& x) {
    for (std::size_t i = 0; i < x.b.customers.size(); ++i) {
        if (x.has_hems[i] || !x.has_ev[i]) continue;
        const Customer& c = x.b.customers[i];
        EvStationUnit u;
        u.id = c.id;
        u.bus = c.bus;
        u.customer = c.load_id;
        u.station = home_ev(x, c);
        u.phases = x.s.devices.ev.phases;
        x.b.devices.ev_stations.push_back(std::move(u));
    }
}

/// One BEMS building: the preset of the customer's type scaled to its daily energy, with the DR events.
BuildingUnit bems_building(const BuildContext& x, const Customer& c, double area) {
    const ScenarioBuildings& d = x.s.devices.buildings;
    BuildingUnit u;
    u.id = c.id;
    u.bus = c.bus;
    u.customer = c.load_id;
    u.params = building_preset(building_type_of(c.type), area);
    u.params.id = c.id;
    u.params.name = to_string(c.type) + " " + std::to_string(c.id);
    u.params.mode = d.mode;
    u.phases = d.phases;
    u.critical_share = d.critical_share;  // issue 16
    for (const auto& e : d.dr_events) {
        DrEvent de;
        de.start = e.start;
        de.end = e.end;
        de.setpoint_raise_k = e.setpoint_raise_k;
        if (e.ac_power_cap_fraction >= 0) de.power_cap_kw = e.ac_power_cap_fraction * u.params.ac_capacity_kw_th / u.params.cop_nom;
        u.params.dr_events.push_back(de);
    }
    if (d.solar_thermal != SolarThermalUse::None && d.solar_thermal_roof_fraction > 0) {
        u.params.solar_thermal_use = d.solar_thermal;
        u.params.solar_thermal_area_m2 = d.solar_thermal_roof_fraction * c.roof_area_m2;
    }
    return u;
}

/// BEMS buildings of the customers not run by a HEMS.
void build_buildings(BuildContext& x) {
    for (std::size_t i = 0; i < x.b.customers.size(); ++i) {
        if (x.has_hems[i] || !x.has_bems[i]) continue;
        const Customer& c = x.b.customers[i];
        const BuildingType bt = building_type_of(c.type);
        const double area = building_preset(bt).floor_area_m2 * x.daily[i] / preset_daily_kwh(bt);
        if (area > 0) x.b.devices.buildings.push_back(bems_building(x, c, area));
    }
}

/// A public charging site before its chargers are placed.
struct Site {
    Id key;            // id base (customer id or index in `buses`)
    Id bus;
    double pv_kwp, bat_kwh, bat_kw;
    double peak_kw;    // the generator's design peak of the site (0 for buses)
};

/// The buses of explicit sites: `buses` (ids, checked) or, on a .dss network, `bus_names` (the engine's bus ids).
std::vector<Id> site_bus_ids(const BuildContext& x) {
    const Scenario& s = x.s;
    const ScenarioPublicSites& ps = s.devices.ev.public_sites;
    std::vector<Id> ids;
    for (std::size_t k = 0; k < ps.bus_names.size(); ++k) {
        const int b = x.b.unet.find_bus(ps.bus_names[k]);
        if (b < 0) build_fail(s, "devices.ev.public_sites.buses." + std::to_string(k), "no bus '" + ps.bus_names[k] + "' in " + s.network.file_path);
        ids.push_back(unbalanced_bus_id(x.b.unet, std::size_t(b)));
    }
    for (std::size_t k = 0; k < ps.buses.size(); ++k) {
        const Id bus = ps.buses[k];
        bool found = false;
        for (const Bus& bb : x.b.net.buses) found = found || bb.id == bus;
        for (std::size_t i = 0; i < x.b.unet.buses.size(); ++i) found = found || unbalanced_bus_id(x.b.unet, i) == bus;
        if (!found) build_fail(s, "devices.ev.public_sites.buses." + std::to_string(k), "no bus with id " + std::to_string(bus) + " in the network");
        ids.push_back(bus);
    }
    return ids;
}

/// The sites: explicit buses, or the first `sites` of the generator's charging sites.
std::vector<Site> public_sites(const BuildContext& x) {
    const Scenario& s = x.s;
    const ScenarioPublicSites& ps = s.devices.ev.public_sites;
    std::vector<Site> sites;
    if (!ps.buses.empty() || !ps.bus_names.empty()) {
        const std::vector<Id> bus_ids = site_bus_ids(x);
        for (std::size_t k = 0; k < bus_ids.size(); ++k) {
            const Id bus = bus_ids[k];
            if (ps.pv_kwp < 0 || ps.battery_kwh < 0)
                build_fail(s, ps.pv_kwp < 0 ? "devices.ev.public_sites.pv_kwp" : "devices.ev.public_sites.battery_kwh",
                           "'generator' needs the generator's charging sites, not buses");
            sites.push_back({Id(k), bus, ps.pv_kwp, ps.battery_kwh, ps.battery_kw, 0.0});
        }
    } else if (ps.sites != 0) {
        const std::size_t want = ps.sites < 0 ? x.site_customers.size() : std::size_t(ps.sites);
        if (want > x.site_customers.size())
            build_fail(s, "devices.ev.public_sites.sites",
                       std::to_string(want) + " sites asked, the network has " + std::to_string(x.site_customers.size()) +
                           " (use 'all', or network.charging_sites)");
        for (std::size_t k = 0; k < want; ++k) {
            const Customer& c = x.b.customers[x.position_of(x.site_customers[k])];
            double pv_kwp = ps.pv_kwp, bat_kwh = ps.battery_kwh, bat_kw = ps.battery_kw;
            if (pv_kwp < 0 && k < x.site_pv_kwp.size()) pv_kwp = x.site_pv_kwp[k];  // the unbalanced Melaka
            if (bat_kwh < 0 && k < x.site_battery_kwh.size()) bat_kwh = x.site_battery_kwh[k], bat_kw = x.site_battery_kw[k];
            if (pv_kwp < 0) {
                pv_kwp = 0;
                for (const SGen& g : x.b.net.sgens)
                    if (g.id == x.site_pv[k]) pv_kwp = g.sn_mva * 1000.0;
            }
            if (bat_kwh < 0) {
                bat_kwh = bat_kw = 0;
                for (const Storage& st : x.b.net.storage)
                    if (st.id == x.site_battery[k]) bat_kwh = st.max_e_mwh * 1000.0, bat_kw = st.sn_mva * 1000.0;
            }
            sites.push_back({c.id, c.bus, pv_kwp, bat_kwh, bat_kw, c.peak_kw});
        }
    }
    return sites;
}

/// Chargers of each group at this site; n = generator: the generator's bays (one 50 kW DC bay, the
/// rest 22 kW AC: its design peak is 50 + 22 (bays - 1) kW, see melaka_grid.cpp).
std::vector<int> chargers_at(const Scenario& s, const Site& site) {
    const ScenarioPublicSites& ps = s.devices.ev.public_sites;
    std::vector<int> n_of(ps.chargers.size());
    for (std::size_t gi = 0; gi < ps.chargers.size(); ++gi) {
        const ScenarioChargerGroup& g = ps.chargers[gi];
        int n = g.n;
        if (n < 0) {
            if (site.peak_kw <= 0)
                build_fail(s, "devices.ev.public_sites.chargers." + std::to_string(gi) + ".n", "'generator' needs the generator's charging sites, not buses");
            const int bays = 1 + int(std::max(0LL, std::llround((site.peak_kw - 50.0) / 22.0)));
            n = g.kind == ChargerKind::DCFast ? 1 : bays - 1;
        }
        n_of[gi] = n;
    }
    return n_of;
}

/// Public charging sites: one ChargingSiteUnit per charger kind of each site.
void build_ev_public_sites(BuildContext& x) {
    const ScenarioPublicSites& ps = x.s.devices.ev.public_sites;
    for (const Site& site : public_sites(x)) {
        const std::vector<int> n_of = chargers_at(x.s, site);
        double installed_kw = 0.0;
        for (std::size_t gi = 0; gi < ps.chargers.size(); ++gi) installed_kw += ps.chargers[gi].kw * n_of[gi];
        for (std::size_t gi = 0; gi < ps.chargers.size(); ++gi) {
            const ScenarioChargerGroup& g = ps.chargers[gi];
            const int n = n_of[gi];
            if (n == 0) continue;
            // A site with several charger kinds is one ChargingSiteUnit per kind at the same bus; each gets
            // its share (by installed charger power) of the canopy, the battery and the connection limit.
            const double f = installed_kw > 0 ? g.kw * n / installed_kw : 0.0;
            ChargingSiteUnit u;
            u.id = site.key * 10 + Id(gi);
            u.bus = site.bus;
            u.phases = ps.phases;
            u.site.params.id = u.id;
            u.site.params.connection_limit_kw = std::isinf(ps.connection_limit_kw) ? kInf : f * ps.connection_limit_kw;
            u.site.params.battery_discharge_in_peak = ps.battery_discharge_in_peak;
            u.site.params.battery_grid_charge_offpeak = ps.battery_grid_charge_offpeak;
            u.site.battery.outage_reserve_soc = ps.battery_outage_reserve_soc;  // issue 16
            u.site.evs.params.id = u.id;
            u.site.evs.params.n_chargers = n;
            u.site.evs.params.charger_kw = g.kw;
            u.site.evs.params.strategy = ps.strategy;
            ev_control_params(x.s, u.site.evs.params);
            u.site.evs.sessions = generate_sessions(g.kind, g.kw, x.t0, x.t1, x.s.seed, std::uint64_t(u.id), g.sessions_per_day * n);
            if (site.bat_kwh > 0 && site.bat_kw > 0) {
                u.site.battery.capacity_kwh = f * site.bat_kwh;
                u.site.battery.p_charge_max_kw = u.site.battery.p_discharge_max_kw = f * site.bat_kw;
            }
            if (site.pv_kwp > 0) {
                u.canopy = pv_params(ScenarioPv{}, f * site.pv_kwp, f * site.pv_kwp / x.s.devices.pv.dc_ac_ratio);
            } else {
                u.canopy.kwp_dc = 0.0;
            }
            x.b.devices.charging_sites.push_back(std::move(u));
        }
    }
}

/// Tariffs and meters: one per customer; the export scheme for customers whose PV was built (found by
/// the PV units' customer ids, so any ids work).
void build_tariffs(BuildContext& x) {
    const Scenario& s = x.s;
    const std::vector<Customer>& cs = x.b.customers;
    std::vector<char> exports(cs.size(), 0);
    for (const PvUnit& u : x.b.devices.pv) exports[x.position_of(u.id)] = 1;
    for (const HomeUnit& u : x.b.devices.homes)
        if (u.pv.kwp_dc > 0) exports[x.position_of(u.id)] = 1;
    std::vector<std::size_t> non_domestic;  // candidates for the non-domestic LV ToU tariff
    for (std::size_t i = 0; i < cs.size(); ++i)
        if (cs[i].type != CustomerType::TerraceHouse) non_domestic.push_back(i);
    const std::vector<char> nd_tou = choose(cs, non_domestic, s.tariff.non_domestic_tou_adoption, s.seed, Pick::NonDomesticTou);
    for (std::size_t i = 0; i < cs.size(); ++i) {
        const Customer& c = cs[i];
        CustomerTariff t;
        t.customer = c.load_id;
        if (c.type == CustomerType::TerraceHouse) t.tariff = x.has_tou[i] ? Tariff::tnb_domestic_tou() : Tariff::tnb_domestic_general();
        else t.tariff = nd_tou[i] ? Tariff::tnb_non_domestic_lv_tou() : Tariff::tnb_non_domestic_lv();
        t.tariff.fuel_adjustment_sen_per_kwh = s.tariff.fuel_adjustment_sen_per_kwh;
        t.scheme = exports[i] ? s.tariff.export_scheme : ExportScheme::None;
        x.b.devices.tariffs.push_back(std::move(t));
    }
}

/// Simulation options: horizon, solver, weather, emissions, outputs.
void build_options(BuildContext& x) {
    const Scenario& s = x.s;
    BuiltScenario& b = x.b;
    SimulationOptions& o = b.options;
    o.start = x.t0;
    o.step_s = s.horizon.step_s;
    o.n_steps = s.horizon.n_steps;
    o.seed = s.seed;
    o.method = s.solver.method;
    o.linear_solver = s.solver.linear_solver;
    o.tolerance = s.solver.tolerance;
    o.max_iterations = s.solver.max_iterations;
    o.max_control_iterations = s.solver.max_control_iterations;
    o.weather.latitude_deg = s.site.latitude_deg;  // issue 19: the scenario's site (Melaka's by default)
    o.weather.longitude_deg = s.site.longitude_deg;
    o.weather.utc_offset_h = s.site.utc_offset_h;
    o.weather.altitude_m = s.site.altitude_m;
    o.weather.mean_daily_ghi_kwh_m2 = s.weather.mean_daily_ghi_kwh_m2;
    o.weather.temp_min_c = s.weather.temp_min_c;
    o.weather.temp_max_c = s.weather.temp_max_c;
    if (s.weather.from_file) {
        b.weather = weather_from_csv(s);
    } else if (s.weather.has_seed) {
        b.weather = std::make_shared<WeatherSeries>(melaka_weather(x.t0, s.horizon.step_s, s.horizon.n_steps, s.weather.seed, o.weather));
    }
    o.weather_series = b.weather.get();
    // issue 19: the library assumes no place; a scenario (the Melaka generator) gives its own:
    // the emission factor, TNB's domestic general tariff for loads without a customer tariff, and
    // the site's public holidays (peak window, bills, the emission profile's weekday): Melaka's
    // calendar, or none (site.holidays)
    o.emission = EmissionFactor{};
    o.emission->t_per_mwh = s.emission_factor_t_per_mwh;
    o.default_tariff = Tariff::tnb_domestic_general();
    if (s.site.holidays == SiteHolidays::Melaka) o.holidays = [](std::int64_t t) { return is_public_holiday(t); };
    if (!s.emissions.file.empty()) {  // issue 18: hourly profiles from the emission catalogue
        const CostCatalogue c = load_cost_catalogue(s.emissions.file);
        auto profile = [&](const std::string& name, EmissionFactor& f) {
            f.hourly_weekday = c.values("hourly." + name + "_weekday");
            f.hourly_weekend = c.values("hourly." + name + "_weekend");
            f.name = "hourly '" + name + "' (" + s.emissions.file + ")";
        };
        if (!s.emissions.average.empty()) profile(s.emissions.average, *o.emission);
        if (!s.emissions.marginal.empty()) {
            profile(s.emissions.marginal, o.emission_marginal);
            o.emission_marginal_given = true;
        }
    }
    o.meter_interval_s = s.outputs.meter_interval_s;
    o.bill_partial_months = s.tariff.partial_months;
    o.h5.compression_level = s.outputs.compression;
    o.h5.compression_threads = s.outputs.compression_threads;
    o.h5.float32 = s.outputs.float32;
    o.h5.chunk_rows = s.outputs.chunk_rows;
    o.checkpoint_steps = s.outputs.checkpoint_steps;
    o.min_free_bytes = std::size_t(s.outputs.min_free_mb * 1048576.0);
    o.record_bus_angles = s.outputs.bus_angles;
    o.scenario_text = scenario_to_yaml(s);
    o.threads = s.threads;
    o.loading_limit_percent = s.limits.loading_percent;
    o.reverse_flow_is_violation = s.limits.reverse_flow;
    o.vuf_limit_percent = s.limits.vuf_percent;  // added (issue 15, H3)
    o.load_priority = s.load_priority;           // issue 16
    o.default_priority = s.default_priority;
    o.island_secondary_control = s.island_secondary_control;
    o.comms = s.comms;  // issue 17
    o.demand_response = s.demand_response;  // issue 17 (H2)
    o.output_path.clear();
}

// ---- issue 16 (H2): events and random outages (docs/resilience.md) ------------------------------

/// An element the events can name, found by kind and id or name in the network being built.
struct EventTarget {
    std::string element;  ///< the engine's kind ("switch", "line", "trafo", "ext_grid", "load")
    Id id = 0;
};

EventKind event_kind(const std::string& action) {
    if (action == "open") return EventKind::OpenSwitch;
    if (action == "close") return EventKind::CloseSwitch;
    if (action == "out_of_service") return EventKind::OutOfService;
    return EventKind::InService;
}

/// The element of events.<i> (by id or name) in the built network; build_fail naming the key.
EventTarget resolve_event_target(const BuildContext& x, const ScenarioEvent& ev, std::size_t i) {
    const Scenario& s = x.s;
    const BuiltScenario& b = x.b;
    const std::string key = "events." + std::to_string(i) + "." + (ev.has_id ? "id" : "name");
    const std::string what = ev.has_id ? "id " + std::to_string(ev.id) : "name '" + ev.name + "'";
    if (ev.element == "feeder") {
        if (x.feeder_names.empty())
            build_fail(s, "events." + std::to_string(i) + ".element",
                       "'feeder' needs the Melaka generator's 11 kV feeders; this network has none (name the feeder's breaker: element: switch)");
        for (std::size_t f = 0; f < x.feeder_names.size(); ++f)
            if ((ev.has_id && Id(f) == ev.id) || (!ev.has_id && x.feeder_names[f] == ev.name)) return {"switch", x.feeder_breakers[f]};
        std::string names;
        for (std::size_t f = 0; f < x.feeder_names.size() && f < 12; ++f) names += (f ? ", " : "") + x.feeder_names[f];
        if (x.feeder_names.size() > 12) names += ", ...";
        build_fail(s, key, "no feeder with " + what + " (feeders: " + names + "; ids 0.." + std::to_string(x.feeder_names.size() - 1) + ")");
    }
    // by id or by name, unique, in a table of (id, name, kind filter)
    auto find = [&](std::size_t n, auto id_of, auto name_of, auto keep) -> EventTarget {
        bool found = false;
        Id got = 0;
        for (std::size_t k = 0; k < n; ++k) {
            if (!keep(k)) continue;
            if (ev.has_id ? id_of(k) == ev.id : name_of(k) == ev.name) {
                if (found && !ev.has_id) build_fail(s, key, "two " + ev.element + "s are named '" + ev.name + "': give the id");
                found = true;
                got = id_of(k);
                if (ev.has_id) break;
            }
        }
        if (!found) build_fail(s, key, "no " + ev.element + " with " + what + " in the network");
        return {ev.element, got};
    };
    auto all = [](std::size_t) { return true; };
    if (b.unbalanced) {
        const UNetwork& u = b.unet;
        auto uid = [](const auto& t, std::size_t k) { return t[k].id >= 0 ? Id(t[k].id) : Id(k) + 1; };
        if (ev.element == "switch" || ev.element == "line")
            return find(u.lines.size(), [&](std::size_t k) { return uid(u.lines, k); }, [&](std::size_t k) { return u.lines[k].name; },
                        [&](std::size_t k) { return u.lines[k].is_switch == (ev.element == "switch"); });
        if (ev.element == "trafo")
            return find(u.transformers.size(), [&](std::size_t k) { return uid(u.transformers, k); },
                        [&](std::size_t k) { return u.transformers[k].name; }, all);
        if (ev.element == "ext_grid")
            return find(u.vsources.size(), [&](std::size_t k) { return uid(u.vsources, k); }, [&](std::size_t k) { return u.vsources[k].name; }, all);
        return find(u.loads.size(), [&](std::size_t k) { return unbalanced_load_id(u, k); }, [&](std::size_t k) { return u.loads[k].name; }, all);
    }
    const Network& n = b.net;
    auto table = [&](const auto& t) {
        return find(t.size(), [&](std::size_t k) { return t[k].id; }, [&](std::size_t k) { return t[k].name; }, all);
    };
    if (ev.element == "switch") return table(n.switches);
    if (ev.element == "line") return table(n.lines);
    if (ev.element == "trafo") return table(n.transformers);
    if (ev.element == "ext_grid") {
        auto nm = [&](std::size_t k) { return "ext_grid " + std::to_string(n.ext_grids[k].id); };  // ext grids have no name
        return find(n.ext_grids.size(), [&](std::size_t k) { return n.ext_grids[k].id; }, nm, all);
    }
    return table(n.loads);
}

constexpr std::uint64_t kOutageStream = 0x4F55544147455321ULL;  // "OUTAGES!"

/// A repair time, h: exponential with mean m, or lognormal with mean m and sigma of ln.
double repair_h(const ScenarioOutages& o, Rng& r) {
    if (o.repair == "lognormal") {
        const double mu = std::log(o.mean_repair_h) - 0.5 * o.repair_sigma * o.repair_sigma;
        return std::exp(mu + o.repair_sigma * r.normal());
    }
    return -std::log(1.0 - r.uniform()) * o.mean_repair_h;
}

void build_events(BuildContext& x) {
    const Scenario& s = x.s;
    std::vector<Event>& out = x.b.devices.events;
    std::vector<std::pair<EventTarget, std::size_t>> resolved;  // (element, events index)
    for (std::size_t i = 0; i < s.events.size(); ++i) {
        const ScenarioEvent& ev = s.events[i];
        const EventTarget t = resolve_event_target(x, ev, i);
        resolved.emplace_back(t, i);
    }
    // two events on one element must not overlap: the next starts at or after the end of the last
    auto same = [](const EventTarget& a, const EventTarget& b) { return a.element == b.element && a.id == b.id; };
    std::vector<std::size_t> order(resolved.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return s.events[a].at < s.events[b].at; });
    for (std::size_t a = 0; a < order.size(); ++a)
        for (std::size_t c = a + 1; c < order.size(); ++c) {
            const ScenarioEvent& p = s.events[order[a]];
            const ScenarioEvent& q = s.events[order[c]];
            if (!same(resolved[order[a]].first, resolved[order[c]].first)) continue;
            if (q.at == p.at || q.at < p.at + p.duration_s)
                build_fail(s, "events." + std::to_string(order[c]) + ".at",
                           format_iso8601(q.at) + " overlaps events." + std::to_string(order[a]) + " (" + p.action + " " + resolved[order[a]].first.element +
                               " " + std::to_string(resolved[order[a]].first.id) + " at " + format_iso8601(p.at) +
                               (p.duration_s > 0 ? " for " + std::to_string(p.duration_s) + " s" : "") + ") on the same element");
            break;  // the next event on this element is checked against its own successor
        }
    for (const auto& [t, i] : resolved) {
        const ScenarioEvent& ev = s.events[i];
        Event e;
        e.time = ev.at;
        e.kind = event_kind(ev.action);
        e.element = t.element;
        e.id = t.id;
        e.duration_s = ev.duration_s;
        e.cause = "scheduled";
        out.push_back(e);
    }
    if (!s.outages.enabled) return;
    // ---- random outages: a Poisson process of failures per element, each repaired after a random time ----
    const ScenarioOutages& o = s.outages;
    std::vector<EventTarget> elems;
    std::vector<double> rate;  // failures per year
    if (o.elements == "feeders") {
        if (x.feeder_names.empty())
            build_fail(s, "outages.elements", "'feeders' needs the Melaka generator's 11 kV feeders; this network has none (elements: lines)");
        for (std::size_t f = 0; f < x.feeder_names.size(); ++f) {
            elems.push_back({"switch", x.feeder_breakers[f]});
            rate.push_back(o.failure_rate_per_feeder_year >= 0 ? o.failure_rate_per_feeder_year : o.failure_rate_per_km_year * x.feeder_km[f]);
        }
    } else if (x.b.unbalanced) {
        const UNetwork& u = x.b.unet;
        for (std::size_t k = 0; k < u.lines.size(); ++k)
            if (!u.lines[k].is_switch && u.lines[k].enabled) {
                elems.push_back({"line", u.lines[k].id >= 0 ? Id(u.lines[k].id) : Id(k) + 1});
                rate.push_back(o.failure_rate_per_km_year * u.lines[k].length_km);
            }
    } else {
        for (const Line& l : x.b.net.lines)
            if (l.in_service) {
                elems.push_back({"line", l.id});
                rate.push_back(o.failure_rate_per_km_year * l.length_km);
            }
    }
    const std::uint64_t seed = o.has_seed ? o.seed : s.seed;
    const double year_s = 8760.0 * 3600.0;
    for (std::size_t k = 0; k < elems.size(); ++k) {
        if (!(rate[k] > 0)) continue;
        Rng r(seed, stream_id({kOutageStream, std::uint64_t(k)}));
        double t = double(x.t0);
        for (;;) {
            t += -std::log(1.0 - r.uniform()) / rate[k] * year_s;
            if (!(t < double(x.t1))) break;
            const std::int64_t dur = std::max<std::int64_t>(1, std::llround(repair_h(o, r) * 3600.0));
            Event e;
            e.time = LocalTime(std::llround(t));
            e.kind = elems[k].element == "switch" ? EventKind::OpenSwitch : EventKind::OutOfService;
            e.element = elems[k].element;
            e.id = elems[k].id;
            e.duration_s = dur;
            e.cause = "random";
            // a failure during a scheduled event on the same element is dropped (docs/resilience.md)
            bool clash = false;
            for (std::size_t j = 0; j < resolved.size() && !clash; ++j) {
                const ScenarioEvent& ev = s.events[resolved[j].second];
                clash = same(resolved[j].first, elems[k]) && e.time < ev.at + std::max<std::int64_t>(ev.duration_s, 1) && ev.at < e.time + dur;
            }
            if (!clash) out.push_back(e);
            t = double(e.time + dur);
        }
    }
}

/// The builders, registered by kind, in the order they run.
struct Builder {
    const char* kind;
    void (*build)(BuildContext&);
};
constexpr std::array<Builder, 11> kBuilders{{
    {"load_profiles", build_load_profiles},
    {"selections", build_selections},
    {"homes", build_homes},
    {"pv", build_pv},
    {"battery", build_battery},
    {"ev_home", build_ev_home},
    {"buildings", build_buildings},
    {"ev_public_sites", build_ev_public_sites},
    {"tariffs", build_tariffs},
    {"options", build_options},
    {"events", build_events},  // issue 16 (H2)
}};

/// One customer per load of a file network (ids 0..n-1), typed and sized by the network settings.
std::vector<Customer> file_customers(const Scenario& s, const Network& net) {
    std::vector<Customer> out;
    for (std::size_t i = 0; i < net.loads.size(); ++i) {
        const Load& l = net.loads[i];
        Customer c;
        c.id = Id(i);
        c.bus = l.bus;
        c.load_id = l.id;
        c.type = s.network.customer_type;
        c.peak_kw = std::max(0.0, l.p_mw * 1000.0);
        c.daily_kwh = c.peak_kw * 24.0 * s.network.load_factor;
        c.roof_area_m2 = c.peak_kw * s.network.roof_m2_per_kw;
        c.phases = 3;
        c.feeder = -1;
        c.transformer = -1;
        out.push_back(c);
    }
    return out;
}

/// A .dss load's shape over the day the horizon starts in (one-minute points, loadshape_at): its
/// peak kW and its kWh that day (base kW x the shape's multipliers).
void shape_day(const UNetwork& net, const ULoad& l, LocalTime start, double& peak_kw, double& daily_kwh) {
    peak_kw = daily_kwh = 0.0;
    const ULoadShape* shape = load_shape_of(net, l);
    const LocalTime day0 = start - ((start % 86400) + 86400) % 86400;
    const CivilTime c = to_civil(day0);
    const LocalTime year0 = from_civil(c.year, 1, 1, 0, 0, 0);
    const bool yearly = !l.yearly.empty();  // the yearly shape runs on hours since 1 January (PLAN15 time rule)
    for (int k = 0; k < 1440; ++k) {
        double p = 1.0, q = 1.0;
        bool has_q = false;
        const LocalTime t = day0 + 60 * k;
        if (shape) loadshape_at(*shape, double(t - (yearly ? year0 : day0)) / 3600.0, p, q, has_q);
        peak_kw = std::max(peak_kw, l.base_kw * p);
        daily_kwh += l.base_kw * p / 60.0;
    }
    peak_kw = std::max(0.0, peak_kw);
    daily_kwh = std::max(0.0, daily_kwh);
}

/// One customer per load of a .dss network: ids, buses and phases as the engine numbers them; peak
/// and daily energy from the load's shape; typed and roofed by the network settings.
std::vector<Customer> dss_customers(const Scenario& s, const UNetwork& net) {
    std::vector<Customer> out;
    for (std::size_t i = 0; i < net.loads.size(); ++i) {
        const ULoad& l = net.loads[i];
        Customer c;
        c.id = unbalanced_load_id(net, i);
        c.bus = unbalanced_bus_id(net, std::size_t(l.bus1.bus));
        c.load_id = c.id;
        c.type = s.network.customer_type;
        shape_day(net, l, s.horizon.start, c.peak_kw, c.daily_kwh);
        c.roof_area_m2 = c.peak_kw * s.network.roof_m2_per_kw;
        c.phases = l.nphases;
        c.feeder = -1;
        c.transformer = -1;
        out.push_back(c);
    }
    return out;
}

}  // namespace

double solar_atap_cap_kw(const Customer& c) { return atap_cap_kw(c); }

PvParams scenario_pv_params(const ScenarioPv& s, double kwp, double inverter_kva) { return pv_params(s, kwp, inverter_kva); }

Id unbalanced_bus_id(const UNetwork& net, std::size_t i) { return net.buses[i].id >= 0 ? Id(net.buses[i].id) : Id(i) + 1; }
Id unbalanced_load_id(const UNetwork& net, std::size_t i) { return net.loads[i].id >= 0 ? Id(net.loads[i].id) : Id(i) + 1; }

Simulation make_simulation(BuiltScenario& b) {
    if (b.unbalanced) return Simulation(std::move(b.unet), std::move(b.devices), b.options);
    return Simulation(std::move(b.net), std::move(b.devices), b.options);
}

namespace {

/// network.ext_grid_sk_mva / ext_grid_rx_ratio: the source impedance of every ext grid.
void apply_ext_grid_keys(const ScenarioNetwork& n, Network& net) {
    for (ExtGrid& e : net.ext_grids) {
        if (n.has_ext_grid_sk_mva) e.sk_mva = n.ext_grid_sk_mva;
        if (n.has_ext_grid_rx_ratio) e.rx_ratio = n.ext_grid_rx_ratio;
    }
}

/// Issue 15: the Melaka grid as built (network.model: unbalanced): melaka_unetwork of the generated
/// grid with network.phases (its seed: network.phases.seed, else the network's seed: the phases are
/// part of the grid, so a fixed network.seed keeps them), the source impedance keys
/// applied first; the charging sites' canopy and battery sizes kept from the generator's tables.
ScenarioGrid unbalanced_melaka_grid(const Scenario& s, MelakaGrid m) {
    apply_ext_grid_keys(s.network, m.net);
    MelakaPhaseOptions po = s.network.phases;
    if (!s.network.has_phases_seed) po.seed = s.network.has_seed ? s.network.seed : s.seed;
    if (!po.convert.model_neutral) {
        const auto single = std::count_if(m.customers.begin(), m.customers.end(), [](const Customer& c) { return c.phases == 1; });
        if (single > 0)
            build_fail(s, "network.phases.neutral",
                       "false (three-wire LV) needs every customer three-phase; this grid has " + std::to_string(single) +
                           " single-phase customers, whose two-wire services are phase and neutral");
    }
    ScenarioGrid g;
    MelakaUGrid u;
    try {
        u = melaka_unetwork(m, po);
    } catch (const ValidationError& e) {
        build_fail(s, "network.phases", e.what());
    }
    g.unbalanced = true;
    g.unet = std::move(u.net);
    g.unet.name = m.net.name;  // "melaka-small-seed1": the results name the grid as the balanced model's do
    g.customer_phases = std::move(u.customer_phases);
    for (std::size_t k = 0; k < m.charging_sites.size(); ++k) {
        double kwp = 0, kwh = 0, kw = 0;
        for (const SGen& sg : m.net.sgens)
            if (sg.id == m.charging_site_pv[k]) kwp = sg.sn_mva * 1000.0;
        for (const Storage& st : m.net.storage)
            if (st.id == m.charging_site_battery[k]) kwh = st.max_e_mwh * 1000.0, kw = st.sn_mva * 1000.0;
        g.charging_site_pv_kwp.push_back(kwp);
        g.charging_site_battery_kwh.push_back(kwh);
        g.charging_site_battery_kw.push_back(kw);
    }
    g.customers = std::move(m.customers);
    g.charging_sites = std::move(m.charging_sites);
    g.charging_site_pv = std::move(m.charging_site_pv);
    g.charging_site_battery = std::move(m.charging_site_battery);
    return g;
}

/// Issue 16: the generator's 11 kV feeders: name (its head bus's, "P0F1"), breaker (the bus-bus
/// switch to that bus) and circuit km (11 kV lines reached from the head bus, open ties excluded).
void melaka_feeders(const MelakaGrid& m, std::vector<std::string>& names, std::vector<Id>& breakers, std::vector<double>& km) {
    const Network& n = m.net;
    std::unordered_map<Id, std::size_t> bus_at;
    for (std::size_t i = 0; i < n.buses.size(); ++i) bus_at[n.buses[i].id] = i;
    std::unordered_map<Id, char> open_line;  // lines with an open line switch (the normally-open ties)
    for (const Switch& sw : n.switches)
        if (sw.et == SwitchElement::Line && !sw.closed) open_line[sw.element] = 1;
    std::vector<std::vector<std::size_t>> at_bus(n.buses.size());  // 11 kV lines at each bus
    for (std::size_t k = 0; k < n.lines.size(); ++k) {
        const Line& l = n.lines[k];
        if (!l.in_service || open_line.count(l.id)) continue;
        at_bus[bus_at.at(l.from_bus)].push_back(k);
        at_bus[bus_at.at(l.to_bus)].push_back(k);
    }
    for (std::size_t f = 0; f < m.feeder_head_bus.size(); ++f) {
        const Id head = m.feeder_head_bus[f];
        names.push_back(n.buses[bus_at.at(head)].name);
        Id cb = -1;
        for (const Switch& sw : n.switches)
            if (sw.et == SwitchElement::Bus && (sw.element == head || sw.bus == head)) cb = sw.id;
        breakers.push_back(cb);
        double total = 0.0;
        std::vector<char> seen_line(n.lines.size(), 0), seen_bus(n.buses.size(), 0);
        std::vector<std::size_t> todo{bus_at.at(head)};
        seen_bus[todo[0]] = 1;
        while (!todo.empty()) {
            const std::size_t b = todo.back();
            todo.pop_back();
            for (std::size_t k : at_bus[b]) {
                const Line& l = n.lines[k];
                if (seen_line[k] || n.buses[bus_at.at(l.from_bus)].vn_kv < 1.0 || n.buses[bus_at.at(l.to_bus)].vn_kv < 1.0) continue;
                seen_line[k] = 1;
                total += l.length_km;
                for (Id nb : {l.from_bus, l.to_bus}) {
                    const std::size_t i = bus_at.at(nb);
                    if (!seen_bus[i]) seen_bus[i] = 1, todo.push_back(i);
                }
            }
        }
        km.push_back(total);
    }
}

}  // namespace

ScenarioGrid scenario_grid(const Scenario& s) {
    ScenarioGrid g;
    if (s.network.dss) {
        g.unbalanced = true;
        g.unet = read_dss(s.network.file_path).net;
        g.customers = dss_customers(s, g.unet);
        return g;
    }
    if (s.network.from_file) {
        g.net = read_network(s.network.file_path);
        g.customers = file_customers(s, g.net);
        return g;
    }
    MelakaGridOptions go;
    go.size = s.network.size;
    go.seed = s.network.has_seed ? s.network.seed : s.seed;
    go.n_substations = s.network.substations;
    go.feeders_per_substation = s.network.feeders_per_substation;
    go.transformers_per_feeder = s.network.transformers_per_feeder;
    go.customers_per_transformer = s.network.customers_per_transformer;
    go.n_charging_sites = s.network.charging_sites;
    go.normally_open_ties = s.network.normally_open_ties;
    go.lv_vmin_pu = s.network.lv_vmin_pu;
    go.lv_vmax_pu = s.network.lv_vmax_pu;
    go.mv_vmin_pu = s.network.mv_vmin_pu;
    go.mv_vmax_pu = s.network.mv_vmax_pu;
    go.distribution_tap_pos = s.network.distribution_tap_pos;
    MelakaGrid m = generate_melaka_grid(go);
    std::vector<std::string> fnames;
    std::vector<Id> fbreakers;
    std::vector<double> fkm;
    melaka_feeders(m, fnames, fbreakers, fkm);  // issue 16
    if (s.network.unbalanced()) {
        ScenarioGrid u = unbalanced_melaka_grid(s, std::move(m));
        u.feeder_names = std::move(fnames);
        u.feeder_breakers = std::move(fbreakers);
        u.feeder_km = std::move(fkm);
        return u;
    }
    g.feeder_names = std::move(fnames);
    g.feeder_breakers = std::move(fbreakers);
    g.feeder_km = std::move(fkm);
    g.net = std::move(m.net);
    g.customers = std::move(m.customers);
    g.charging_sites = std::move(m.charging_sites);
    g.charging_site_pv = std::move(m.charging_site_pv);
    g.charging_site_battery = std::move(m.charging_site_battery);
    return g;
}


BuiltScenario build_scenario(const Scenario& s, ScenarioGrid grid) {
    BuiltScenario b;
    b.name = s.name;
    b.net = std::move(grid.net);
    apply_ext_grid_keys(s.network, b.net);
    b.unbalanced = grid.unbalanced;
    b.unet = std::move(grid.unet);
    b.customers = std::move(grid.customers);
    b.customer_phases = grid.customer_phases;
    BuildContext x(s, b, grid);
    for (std::size_t i = 0; i < b.customers.size(); ++i)
        if (!x.position.emplace(b.customers[i].id, i).second)
            build_fail(s, "network", "two customers with id " + std::to_string(b.customers[i].id));
    x.t0 = s.horizon.start;
    x.t1 = x.t0 + std::int64_t(s.horizon.n_steps) * s.horizon.step_s;
    for (const Builder& builder : kBuilders) builder.build(x);
    return b;
}

BuiltScenario build_scenario(const Scenario& s) { return build_scenario(s, scenario_grid(s)); }

std::vector<std::string> scenario_builder_kinds() {
    std::vector<std::string> v;
    for (const Builder& builder : kBuilders) v.emplace_back(builder.kind);
    return v;
}

}  // namespace libgrid
