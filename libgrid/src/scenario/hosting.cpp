// libgrid: hosting-capacity studies on a scenario: groups, per-customer limits, the critical window.
#include <libgrid/core/errors.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/profiles/weather.hpp>
#include <libgrid/scenario/hosting.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>
#include <unordered_map>

namespace libgrid {

std::vector<HostingGroup> hosting_groups(const std::vector<Customer>& customers, const std::string& by, const Network& net) {
    if (by != "feeder" && by != "transformer") throw ValidationError("hosting capacity: field 'group': expected feeder or transformer, got '" + by + "'");
    std::unordered_map<Id, double> kva;
    for (const Transformer& t : net.transformers) kva[t.id] = t.sn_mva * 1000.0 * t.parallel;
    std::map<Id, HostingGroup> g;
    std::map<Id, std::map<Id, double>> trafos_of;  // group -> its transformers' kVA
    for (const Customer& c : customers) {
        if (c.type == CustomerType::ChargingSite) continue;  // public sites host no rooftop PV / home chargers
        const Id key = by == "feeder" ? c.feeder : c.transformer;
        HostingGroup& h = g[key];
        h.id = key;
        h.kind = by;
        h.customers.push_back(c.load_id);
        if (const auto it = kva.find(c.transformer); it != kva.end()) trafos_of[key][c.transformer] = it->second;
    }
    std::vector<HostingGroup> out;
    for (auto& [key, h] : g) {
        for (const auto& [t, k] : trafos_of[key]) h.rating_kva += k;
        out.push_back(std::move(h));
    }
    return out;
}

namespace {

/// The scenario's weather over its horizon (the series the engine would use).
WeatherSeries horizon_weather(const Scenario& s) {
    if (s.weather.from_file) return *build_scenario(s).weather;
    Scenario one = s;  // the weather model's parameters, without building the horizon's devices
    override_key(one, "horizon.steps", "1");
    const BuiltScenario b = build_scenario(one);
    return melaka_weather(s.horizon.start, s.horizon.step_s, s.horizon.n_steps, s.weather.has_seed ? s.weather.seed : s.seed, b.options.weather);
}

/// PV: the sunniest day's steps with clear-sky GHI >= 80 % of that day's maximum; k0 .. k1 inclusive.
void pv_window(const WeatherSeries& w, std::size_t& k0, std::size_t& k1) {
    std::int64_t best_day = 0;
    double best = -1.0, sum = 0.0;
    for (std::size_t k = 0; k < w.size(); ++k) {
        const std::int64_t d = day_number(w.time(k));
        sum += w.ghi_wm2[k];
        if (k + 1 == w.size() || day_number(w.time(k + 1)) != d) {
            if (sum > best) {
                best = sum;
                best_day = d;
            }
            sum = 0.0;
        }
    }
    double peak = 0.0;
    for (std::size_t k = 0; k < w.size(); ++k)
        if (day_number(w.time(k)) == best_day) peak = std::max(peak, w.ghi_clear_wm2[k]);
    k0 = w.size();
    k1 = 0;
    for (std::size_t k = 0; k < w.size(); ++k)
        if (day_number(w.time(k)) == best_day && w.ghi_clear_wm2[k] >= 0.8 * peak) {
            k0 = std::min(k0, k);
            k1 = k;
        }
    if (k0 > k1) k0 = k1 = 0;
}

/// Issue 15, unbalanced networks: a group's rating from the UNetwork's transformers (winding 1's kVA,
/// ids kept from the balanced grid); a group of customers without a transformer (a .dss network's
/// one group, id -1): every transformer of the network.
void unbalanced_ratings(const BuiltScenario& b, std::vector<HostingGroup>& groups) {
    std::unordered_map<Id, double> kva;
    double all = 0.0;
    for (std::size_t i = 0; i < b.unet.transformers.size(); ++i) {
        const UTransformer& t = b.unet.transformers[i];
        if (!t.enabled || t.windings.empty()) continue;
        kva[t.id >= 0 ? Id(t.id) : Id(i) + 1] += t.windings[0].kva;
        all += t.windings[0].kva;
    }
    std::unordered_map<Id, const Customer*> by_load;
    for (const Customer& c : b.customers) by_load[c.load_id] = &c;
    for (HostingGroup& g : groups) {
        if (g.id < 0) {
            g.rating_kva = all;
            continue;
        }
        std::map<Id, double> of;  // the group's transformers
        for (Id l : g.customers) {
            const Id t = by_load.at(l)->transformer;
            if (const auto it = kva.find(t); it != kva.end()) of[t] = it->second;
        }
        g.rating_kva = 0.0;
        for (const auto& [t, k] : of) g.rating_kva += k;
    }
}

}  // namespace

void hosting_window(const Scenario& s, const HostingStudy& st, LocalTime& start, std::size_t& n_steps, std::string& text) {
    start = s.horizon.start;
    n_steps = s.horizon.n_steps;
    text = "horizon";
    if (st.window == "horizon") return;
    if (st.window != "critical") throw ValidationError("hosting capacity: field 'window': expected critical or horizon, got '" + st.window + "'");
    const std::int64_t step = s.horizon.step_s;
    LocalTime t0 = start, t1 = start + std::int64_t(n_steps) * step;  // [t0, t1)
    if (parse_hosting_kind(st.kind) == HostingKind::PV) {
        const WeatherSeries w = horizon_weather(s);
        std::size_t k0 = 0, k1 = 0;
        pv_window(w, k0, k1);
        t0 = w.time(k0);
        t1 = w.time(k1) + step;
        text = "critical: sunniest day of the horizon, clear-sky GHI >= 80 % of its maximum";
    } else {
        LocalTime d = day_start(start);
        while (d < t1 && day_type(d) != DayType::Weekday) d += kSecondsPerDay;
        if (d + 16 * 3600 < t1) {  // the weekday's evening starts inside the horizon
            t0 = std::max(start, d + 16 * 3600);
            t1 = std::min(t1, d + kSecondsPerDay);
            text = "critical: first weekday of the horizon, 16:00-24:00";
        }
    }
    const std::int64_t q = s.outputs.meter_interval_s;  // the start must sit on a meter interval
    t0 -= ((t0 % q) + q) % q;
    start = t0;
    n_steps = std::size_t(std::max<std::int64_t>(1, (t1 - t0 + step - 1) / step));
}

HostingStudyResult hosting_capacity(const Scenario& s, const HostingStudy& st, const HostingProgress& progress) {
    HostingStudyResult res;
    res.kind = parse_hosting_kind(st.kind);
    if (st.kw_per_customer < 0 || !(st.charger_kw > 0)) throw ValidationError("hosting capacity: fields 'kw_per_customer' >= 0 and 'charger_kw' > 0");
    if (st.cap != "atap" && st.cap != "none") throw ValidationError("hosting capacity: field 'cap': expected atap or none, got '" + st.cap + "'");
    Scenario sw = s;
    hosting_window(s, st, res.start, res.n_steps, res.window);
    if (res.window != "horizon") {
        override_key(sw, "horizon.start", format_iso8601(res.start));
        override_key(sw, "horizon.steps", std::to_string(res.n_steps));
    }
    res.step_s = sw.horizon.step_s;
    const BuiltScenario b = build_scenario(sw);
    std::vector<HostingGroup> groups = hosting_groups(b.customers, st.group, b.net);
    if (b.unbalanced) unbalanced_ratings(b, groups);
    // what each customer has before (PV inverter kW, charger kW), by load id
    std::unordered_map<Id, double> has;
    const bool pv = res.kind == HostingKind::PV;
    if (pv) {
        for (const PvUnit& u : b.devices.pv) has[u.customer] += u.params.inverter_kva;
        for (const HomeUnit& u : b.devices.homes) has[u.customer] += u.pv.kwp_dc > 0 ? u.pv.inverter_kva : 0.0;
    } else {
        for (const EvStationUnit& u : b.devices.ev_stations) has[u.customer] += u.station.params.charger_kw;
        for (const HomeUnit& u : b.devices.homes) has[u.customer] += u.home.ev.sessions.empty() ? 0.0 : u.home.ev.params.charger_kw;
    }
    std::unordered_map<Id, const Customer*> by_load;
    for (const Customer& c : b.customers) by_load[c.load_id] = &c;
    const ScenarioPv& spv = s.devices.pv;
    for (HostingGroup& g : groups) {
        for (Id l : g.customers) {
            const Customer& c = *by_load.at(l);
            const double before = has.count(l) ? has.at(l) : 0.0;
            g.installed_kw += before;
            double cap = st.charger_kw;
            if (pv) {
                cap = st.kw_per_customer > 0 ? st.kw_per_customer : c.roof_area_m2 * spv.kwp_per_m2 / spv.dc_ac_ratio;
                if (st.kw_per_customer <= 0 && st.cap == "atap") cap = std::min(cap, solar_atap_cap_kw(c));
                g.max_kw.push_back(std::max(0.0, cap - before));
            } else {
                const auto& types = s.devices.ev.types;  // home chargers go to these customer types
                const bool eligible = std::find(types.begin(), types.end(), c.type) != types.end();
                g.max_kw.push_back(before > 0 || !eligible ? 0.0 : cap);
            }
        }
    }
    HostingCapacityOptions opt;
    opt.kind = res.kind;
    opt.pv = scenario_pv_params(spv, spv.dc_ac_ratio, 1.0);  // a 1 kW AC unit, scaled per customer
    opt.tolerance_kw = st.tolerance_kw;
    opt.ev_charger_kw = st.charger_kw;
    opt.sim = b.options;
    opt.order_seed = b.options.seed;
    opt.progress = progress;
    res.groups = b.unbalanced ? hosting_capacity(b.unet, b.devices, groups, opt) : hosting_capacity(b.net, b.devices, groups, opt);
    return res;
}

const std::vector<std::string>& hosting_columns() {
    static const std::vector<std::string> c{"group",        "group_kind", "customers", "rating_kva", "installed_kw",     "max_kw",
                                            "added_kw",     "hosting_kw", "share",       "tolerance_kw", "hosted",  "limited",          "violated_without",
                                            "limit",        "limit_time", "limit_element", "limit_value", "runs",
                                            // issue 15 (H4): unbalanced networks (empty / NaN on a balanced one)
                                            "limit_phase", "added_kw_a", "added_kw_b", "added_kw_c"};
    return c;
}

std::string hosting_csv(const HostingStudyResult& res) {
    std::ostringstream o;
    o.precision(10);
    const auto& cols = hosting_columns();
    for (std::size_t i = 0; i < cols.size(); ++i) o << (i ? "," : "") << cols[i];
    o << '\n';
    for (const HostingCapacityResult& r : res.groups) {
        o << r.group << ',' << r.group_kind << ',' << r.customers << ',' << r.rating_kva << ',' << r.installed_kw << ',' << r.max_kw << ','
          << r.added_kw << ',' << r.hosting_kw << ',' << r.share << ',' << r.tolerance_kw << ',' << r.hosted << ',' << (r.limited ? "true" : "false") << ','
          << (r.violated_without ? "true" : "false") << ',' << r.limit_name(res.kind) << ',' << (r.limited ? format_iso8601(r.limit.time) : "") << ','
          << (r.limited ? r.limit.element : Id(-1)) << ',';
        if (r.limited) o << r.limit.value;
        o << ',' << r.runs << ',' << r.limit.phase;
        for (double k : r.added_kw_phase) {
            o << ',';
            if (std::isfinite(k)) o << k;
        }
        o << '\n';
    }
    return o.str();
}

}  // namespace libgrid
