// libgrid economics: the business case of a scenario against a base run (issue 18, docs/economics.md
// "The business case"): the assets a stakeholder adds, priced from the cost catalogue, the yearly cash
// flows of each stakeholder and the figures investors read. The results files are read in
// business_case_read.cpp; the JSON form is in business_case_json.cpp.
#include <libgrid/economics/business_case.hpp>

#include "business_case_impl.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/economics/finance.hpp>
#include <libgrid/scenario/cost_catalogue.hpp>
#include <libgrid/scenario/scenario.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <set>

namespace libgrid {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Flow = std::vector<double>;

std::string fmt(double x, const char* f = "%.6g") {
    char b[64];
    std::snprintf(b, sizeof b, f, x);
    return b;
}

/// "name = value (source year)", "(assumption)" or "(override)".
std::string cite(const CostCatalogue& c, const std::string& name) {
    const CostFigure& f = c.figure(name);
    if (f.plain && f.source != "override") return name + " = " + fmt(f.value);
    const std::string p = f.source == "override" ? "override" : f.assumption ? "assumption" : f.source + " " + std::to_string(f.year);
    return name + " = " + fmt(f.value) + " (" + p + ")";
}

/// Everything the pricing accumulates.
struct Book {
    const CostCatalogue& cat;
    int n = 20;
    double esc = 0.0, om_esc = 0.0, tariff_scale = 1.0;
    std::vector<std::string> notes;
    std::map<std::string, std::map<std::string, Flow>> flows;  ///< stakeholder -> item -> RM by year
    std::map<std::pair<std::string, std::string>, AssetLine> assets;
    Flow pv_cost, pv_kwh, bat_cost, bat_kwh;  ///< system-wide, for LCOE / LCOS

    Book(const CostCatalogue& c, int years) : cat(c), n(years), pv_cost(years + 1), pv_kwh(years + 1), bat_cost(years + 1), bat_kwh(years + 1) {}
    Flow& flow(const std::string& who, const std::string& item) {
        Flow& f = flows[who][item];
        f.resize(std::size_t(n) + 1, 0.0);
        return f;
    }
    /// A yearly amount from year 1, escalated: x (1 + esc)^(t - 1).
    void yearly(const std::string& who, const std::string& item, double first_year, double escalation) {
        Flow& f = flow(who, item);
        for (int t = 1; t <= n; ++t) f[std::size_t(t)] += first_year * std::pow(1.0 + escalation, t - 1);
    }
    double v(const std::string& name) const { return cat.value(name); }
    /// "name = value (source year)" or "name = value (assumption)".
    std::string cite(const std::string& name) const { return libgrid::cite(cat, name); }
};

/// One added unit, priced: its cost stream's parts and its asset-table line.
struct Priced {
    std::string asset_class, unit;
    double quantity = 0.0;
    AssetCost cost;
    std::vector<std::string> figures;
    Flow extra_replacements;   ///< battery modules (from the throughput), RM by year
    double extra_residual = 0.0;
};

/// Splits a priced unit into capex / om / replacements / residual_value lines of `who` (as money in: < 0).
Flow book_costs(Book& b, const std::string& who, const Priced& p) {
    const std::size_t N = std::size_t(b.n) + 1;
    AssetCost a = p.cost;
    a.om_escalation = b.om_esc;
    const Flow total = asset_costs(a, b.n);
    a.residual_value = false;
    const Flow plain = asset_costs(a, b.n);
    Flow all(N, 0.0);
    for (std::size_t t = 0; t < N; ++t) {
        const double om = t == 0 ? 0.0 : a.om_per_year * std::pow(1.0 + a.om_escalation, double(t) - 1.0);
        const double capex = t == 0 ? plain[0] : 0.0;
        double repl = plain[t] - om - capex + (p.extra_replacements.empty() ? 0.0 : p.extra_replacements[t]);
        if (std::fabs(repl) < 1e-9 * std::max(1.0, a.capex)) repl = 0.0;
        double resid = total[t] - plain[t] - (t + 1 == N ? p.extra_residual : 0.0);
        b.flow(who, "capex")[t] -= capex;
        b.flow(who, "om")[t] -= om;
        b.flow(who, "replacements")[t] -= repl;
        b.flow(who, "residual_value")[t] -= resid;
        all[t] = capex + om + repl + resid;
    }
    AssetLine& line = b.assets[{who, p.asset_class}];
    line.stakeholder = who;
    line.asset_class = p.asset_class;
    line.unit = p.unit;
    line.quantity += p.quantity;
    line.units += 1;
    line.capex_rm += a.capex;
    line.om_rm_per_year += a.om_per_year;
    line.lifetime_years = a.lifetime_years;
    for (const auto& f : p.figures)
        if (line.figures.find(f) == std::string::npos) line.figures += (line.figures.empty() ? "" : "; ") + f;
    return all;
}

std::string pv_class(const Book& b, double system_kwp) {
    for (const char* c : {"pv_residential", "pv_commercial", "pv_ground"}) {
        const std::string k = std::string("assets.") + c + ".size_kwp.max";
        if (!b.cat.has(k) || system_kwp <= b.v(k)) return c;
    }
    return "pv_ground";
}

Priced price_pv(const Book& b, double kwp, double system_kwp) {
    const std::string c = pv_class(b, system_kwp), a = "assets." + c + ".";
    Priced p{c, "kWp", kwp, {}, {}, {}, 0.0};
    p.cost = {c, kwp * b.v(a + "capex_rm_per_kwp"), kwp * b.v(a + "fixed_om_rm_per_kwp_year"), 0.0, int(std::lround(b.v(a + "lifetime_years"))), {}, true};
    p.figures = {b.cite(a + "capex_rm_per_kwp"), b.cite(a + "fixed_om_rm_per_kwp_year"), b.cite(a + "lifetime_years")};
    for (int i = 0; b.cat.has(a + "replacements." + std::to_string(i) + ".year"); ++i) {
        const std::string r = a + "replacements." + std::to_string(i) + ".";
        p.cost.replacements.push_back({int(std::lround(b.v(r + "year"))), kwp * b.v(r + "cost_rm_per_kwp")});
        p.figures.push_back(b.cite(r + "cost_rm_per_kwp"));
    }
    return p;
}

/// A battery: energy and power parts, fixed O&M a fraction of capex; its modules replaced when
/// battery_life_years (cycle life from the annualised discharge, calendar life) runs out, at the end of
/// the year it runs out in; the residual value of the last modules, straight line over that life.
Priced price_battery(const Book& b, double kwh, double kw, double annual_discharge_kwh, bool utility_scale) {
    const std::string a = std::string("assets.battery.") + (utility_scale ? "utility." : "behind_the_meter.");
    Priced p{utility_scale ? "battery_utility" : "battery", "kWh", kwh, {}, {}, {}, 0.0};
    const double energy_capex = kwh * b.v(a + "capex_rm_per_kwh");
    const double capex = energy_capex + kw * b.v(a + "capex_rm_per_kw");
    p.cost = {p.asset_class, capex, capex * b.v(a + "fixed_om_fraction_of_capex_year"), 0.0, b.n, {}, true};
    const double life = battery_life_years(kwh, annual_discharge_kwh, b.v("assets.battery.cycle_life_efc"), b.v("assets.battery.calendar_life_years"));
    const double modules = energy_capex * b.v("assets.battery.replacements.0.cost_fraction_of_energy_capex");
    p.extra_replacements.assign(std::size_t(b.n) + 1, 0.0);
    int last = 0;
    for (int k = 1; std::isfinite(life) && life > 0; ++k) {
        const int y = int(std::ceil(k * life - 1e-9));
        if (y >= b.n) break;
        p.extra_replacements[std::size_t(y)] += modules;
        last = y;
    }
    if (std::isfinite(life) && life > 0) p.extra_residual = modules * std::clamp((last + life - b.n) / life, 0.0, 1.0);
    p.figures = {b.cite(a + "capex_rm_per_kwh"), b.cite(a + "capex_rm_per_kw"), b.cite(a + "fixed_om_fraction_of_capex_year"),
                 b.cite("assets.battery.cycle_life_efc"), b.cite("assets.battery.calendar_life_years"),
                 b.cite("assets.battery.replacements.0.cost_fraction_of_energy_capex"), "battery life " + fmt(life, "%.3g") + " years from the throughput"};
    return p;
}

/// Per-unit assets: HEMS, BEMS, chargers, meters, concentrators.
Priced price_simple(const Book& b, const std::string& kind, double size, double charger_kw) {
    auto simple = [&](const std::string& cls, const std::string& unit, double q, const std::string& capex_f, const std::string& om_f, bool om_fraction) {
        const std::string a = "assets." + cls + ".";
        Priced p{cls, unit, q, {}, {}, {}, 0.0};
        const double capex = q * b.v(a + capex_f);
        p.cost = {cls, capex, om_fraction ? capex * b.v(a + om_f) : q * b.v(a + om_f), 0.0, int(std::lround(b.v(a + "lifetime_years"))), {}, true};
        p.figures = {b.cite(a + capex_f), b.cite(a + om_f), b.cite(a + "lifetime_years")};
        return p;
    };
    if (kind == "hems") return simple("hems", "home", size, "capex_rm_per_home", "fixed_om_rm_per_home_year", false);
    if (kind == "ev_home") return simple("ev_charger_ac_home", "charger", size, "capex_rm_per_unit", "fixed_om_rm_per_unit_year", false);
    if (kind == "ev_ac_public") return simple("ev_charger_ac_public", "charger", size, "capex_rm_per_unit", "fixed_om_rm_per_unit_year", false);
    if (kind == "ev_dc")
        return simple(charger_kw > 100.0 ? "ev_charger_dc_150" : "ev_charger_dc_50", "charger", size, "capex_rm_per_unit", "fixed_om_rm_per_unit_year", false);
    if (kind == "smart_meter") return simple("smart_meter", "meter", size, "capex_rm_per_unit", "fixed_om_rm_per_unit_year", false);
    if (kind == "data_concentrator") return simple("data_concentrator", "concentrator", size, "capex_rm_per_unit", "fixed_om_rm_per_unit_year", false);
    // BEMS: per m2 of floor area, at least the minimum per building; a replacement of servers/gateways
    Priced p{"bems", "m2", size, {}, {}, {}, 0.0};
    const std::string a = "assets.bems.";
    const double capex = std::max(size * b.v(a + "capex_rm_per_m2"), b.v(a + "capex_rm_min_per_building"));
    p.cost = {"bems", capex, capex * b.v(a + "fixed_om_fraction_of_capex_year"), 0.0, int(std::lround(b.v(a + "lifetime_years"))), {}, true};
    p.figures = {b.cite(a + "capex_rm_per_m2"), b.cite(a + "capex_rm_min_per_building"), b.cite(a + "fixed_om_fraction_of_capex_year"), b.cite(a + "lifetime_years")};
    for (int i = 0; b.cat.has(a + "replacements." + std::to_string(i) + ".year"); ++i) {
        const std::string r = a + "replacements." + std::to_string(i) + ".";
        p.cost.replacements.push_back({int(std::lround(b.v(r + "year"))), capex * b.v(r + "cost_fraction_of_capex")});
        p.figures.push_back(b.cite(r + "cost_fraction_of_capex"));
    }
    return p;
}

struct Group {
    double size = 0, size2 = 0, energy = 0;
    std::int64_t customer = -1;
};
using Inventory = std::map<std::pair<std::string, std::string>, Group>;  ///< (owner, kind) -> summed

Inventory inventory(const bc::RunData& d) {
    Inventory inv;
    for (const bc::Device& x : d.devices) {
        Group& g = inv[{x.owner, x.kind}];
        g.size += x.size;
        g.size2 += x.size2;
        g.energy += x.energy_kwh;
        g.customer = x.customer;
    }
    return inv;
}

std::string stakeholder_of(const bc::RunData& d, const std::string& owner, std::int64_t customer) {
    if (owner.rfind("site", 0) == 0) return "charging_operator";
    if (customer < 0) return "utility";
    const auto it = d.load_type.find(customer);
    const std::string t = it == d.load_type.end() ? "unclassified" : it->second;
    return t == "charging_site" ? "charging_operator" : t;
}

/// The assets added in the scenario (per owner and kind: scenario size - base size, when > 0), priced.
void price_added_assets(Book& b, const bc::RunData& base, const bc::RunData& scen) {
    const Inventory ib = inventory(base), is = inventory(scen);
    const double ann = scen.annualise();
    bool removed = false;
    for (const auto& [key, g] : is) {
        const auto it = ib.find(key);
        const double before = it == ib.end() ? 0.0 : it->second.size;
        const double added = g.size - before;
        if (added < -1e-9) removed = true;
        if (added <= 1e-9 * std::max(1.0, g.size)) continue;
        const double share = added / g.size;  // of the scenario's unit: its energy and power
        const std::string who = stakeholder_of(scen, key.first, g.customer);
        const std::string& kind = key.second;
        if (kind == "pv") {
            const Flow c = book_costs(b, who, price_pv(b, added, g.size));
            const double deg = b.v("assets." + pv_class(b, g.size) + ".degradation_per_year");
            for (int t = 1; t <= b.n; ++t) b.pv_kwh[std::size_t(t)] += g.energy * share * ann * std::pow(1.0 - deg, t - 1);
            for (std::size_t t = 0; t < c.size(); ++t) b.pv_cost[t] += c[t];
        } else if (kind == "battery") {
            const Flow c = book_costs(b, who, price_battery(b, added, g.size2 * share, g.energy * share * ann, who == "utility"));
            for (int t = 1; t <= b.n; ++t) b.bat_kwh[std::size_t(t)] += g.energy * share * ann;
            for (std::size_t t = 0; t < c.size(); ++t) b.bat_cost[t] += c[t];
        } else {
            book_costs(b, who, price_simple(b, kind, added, g.size2 / std::max(1.0, g.size)));
        }
    }
    for (const auto& [key, g] : ib)
        if (!is.count(key)) removed = true;
    if (removed) b.notes.push_back("some assets of the base run are smaller or absent in the scenario: removals are not credited (no resale value)");
}

/// Bills: each class's savings, the charging operator's, the utility's revenue change (escalated).
void price_bills(Book& b, const bc::RunData& base, const bc::RunData& scen) {
    std::map<std::string, double> saving;
    double revenue = 0.0;
    for (const auto id : scen.load_ids) {
        const auto ib = base.bill_rm.find(id), is = scen.bill_rm.find(id);
        const double before = ib == base.bill_rm.end() ? 0.0 : ib->second * base.annualise() * b.tariff_scale;
        const double after = is == scen.bill_rm.end() ? 0.0 : is->second * scen.annualise() * b.tariff_scale;
        saving[stakeholder_of(scen, "c", id)] += before - after;
        revenue += after - before;
    }
    for (const auto& [who, s] : saving) b.yearly(who, "bill_savings", s, b.esc);
    b.yearly("utility", "revenue_change", revenue, b.esc);
}

/// Energy flows: the charging operator's sales, the utility's avoided purchases, EV fuel (optional).
void price_energy(Book& b, const bc::RunData& base, const bc::RunData& scen) {
    auto site_ev = [](const bc::RunData& d) {
        double e = 0.0;
        for (const auto& x : d.devices)
            if (x.kind == "ev_ac_public" || x.kind == "ev_dc") e += x.energy_kwh;
        return e * d.annualise();
    };
    const double price = b.v("market.charging_price_rm_per_kwh");
    b.yearly("charging_operator", "charging_revenue", (site_ev(scen) - site_ev(base)) * price, b.esc);
    b.notes.push_back("charging operator: revenue = change in the energy its public chargers deliver x " + b.cite("market.charging_price_rm_per_kwh") +
                      ", escalated with the tariff; its bills are its charging sites' bills");
    // the charging sites' own connections are not in /bill: their import is priced at a figure (a transfer
    // from the utility: the city does not count it)
    const double site_kwh = base.site_import_kwh * base.annualise() - scen.site_import_kwh * scen.annualise();
    if (base.site_import_kwh > 0 || scen.site_import_kwh > 0) {
        const double site_price = b.v("market.charging_site_energy_price_rm_per_kwh") * b.tariff_scale;
        b.yearly("charging_operator", "site_energy_savings", site_kwh * site_price, b.esc);
        b.yearly("utility", "site_revenue_change", -site_kwh * site_price, b.esc);
        b.notes.push_back("charging sites: their own connections (/ev_site/p_mw) are not billed in /bill; the change in what they import is priced at " +
                          b.cite("market.charging_site_energy_price_rm_per_kwh") + " (site_energy_savings; the utility's site_revenue_change)");
    }
    const double wholesale = b.v("market.wholesale_energy_cost_rm_per_kwh");
    const double avoided_kwh = (base.import_mwh * base.annualise() - scen.import_mwh * scen.annualise()) * 1000.0;
    b.yearly("utility", "avoided_energy_purchases", avoided_kwh * wholesale, b.esc);
    b.notes.push_back("utility: avoided purchases = (base - scenario) /summary/import_mwh, annualised, x " + b.cite("market.wholesale_energy_cost_rm_per_kwh") +
                      ", escalated with the tariff");
    const double fuel = b.v("ev.fuel_savings_rm_per_kwh_charged");
    if (fuel == 0.0) {
        b.notes.push_back("EV ownership is outside the boundary: a home's bill includes its EV's charging, but no petrol saving is counted (set ev.fuel_savings_rm_per_kwh_charged to count one)");
        return;
    }
    std::map<std::string, double> ev;
    for (const auto* d : {&base, &scen})
        for (const auto& x : d->devices)
            if (x.kind == "ev_home") ev[stakeholder_of(scen, x.owner, x.customer)] += (d == &base ? -1.0 : 1.0) * x.energy_kwh * d->annualise();
    for (const auto& [who, kwh] : ev) b.yearly(who, "ev_fuel_savings", kwh * fuel, b.esc);
    b.notes.push_back("EV fuel savings: (scenario - base) energy charged at home x " + b.cite("ev.fuel_savings_rm_per_kwh_charged"));
}

/// Transformers over 100 % in one run only: the next catalogue rating's capex at year 0, avoided or needed.
std::vector<UpgradeLine> price_upgrades(Book& b, const bc::RunData& base, const bc::RunData& scen) {
    std::map<double, std::string> ratings;  // kVA -> figure
    const std::string pre = "assets.transformer_11kv.capex_rm_per_unit.";
    for (const auto& [name, f] : b.cat.figures)
        if (name.rfind(pre, 0) == 0) ratings[std::atof(name.c_str() + pre.size())] = name;
    std::map<std::string, const bc::Trafo*> in_base;
    for (const auto& t : base.trafos) in_base[t.key] = &t;
    std::vector<UpgradeLine> out;
    for (const auto& t : scen.trafos) {
        const auto it = in_base.find(t.key);
        const double lb = it == in_base.end() ? kNaN : it->second->max_loading, ls = t.max_loading;
        const bool over_b = lb > 100.0, over_s = ls > 100.0;
        if (over_b == over_s) continue;
        UpgradeLine u{t.key, t.rated_kva, lb, ls, over_b ? "avoided" : "needed", kNaN, ""};
        const auto r = ratings.upper_bound(t.rated_kva * 1.01);  // a rating within 1 % is the same (kVA from amps x kV)
        if (r != ratings.end()) {
            u.cost_rm = b.v(r->second);
            u.next_rating = fmt(r->first, "%g");
            b.flow("utility", over_b ? "avoided_upgrades" : "needed_upgrades")[0] += over_b ? u.cost_rm : -u.cost_rm;
        } else {
            b.notes.push_back("transformer " + t.key + " (" + fmt(t.rated_kva, "%.0f") + " kVA) " + u.status + " an upgrade, but the catalogue has no rating above it: not priced");
        }
        out.push_back(u);
    }
    if (!ratings.empty())
        b.notes.push_back("upgrades: a transformer whose largest loading is > 100 % in one run only is replaced at year 0 by the next rating of the catalogue (" + pre + "*); its O&M and life are not counted");
    return out;
}

/// Meters and concentrators added (count difference), the utility's.
void price_metering(Book& b, const bc::RunData& base, const bc::RunData& scen) {
    const double dm = double(scen.meters) - double(base.meters), dc = double(scen.concentrators) - double(base.concentrators);
    if (dc > 0) {
        book_costs(b, "utility", price_simple(b, "data_concentrator", dc, 0));
        if (dm > 0) {
            Priced p = price_simple(b, "smart_meter", dm, 0);
            p.cost.capex = dm * b.v("assets.data_concentrator.smart_meter_meter_only_rm_per_unit");
            p.figures.push_back(b.cite("assets.data_concentrator.smart_meter_meter_only_rm_per_unit"));
            book_costs(b, "utility", p);
        }
        b.notes.push_back("metering: concentrators added, so meters are priced without their network (meter only)");
    } else if (dm > 0) {
        book_costs(b, "utility", price_simple(b, "smart_meter", dm, 0));
    }
}

}  // namespace

std::string default_cost_catalogue() {
    if (const char* e = std::getenv("LIBGRID_COST_CATALOGUE"); e && *e) return e;
#ifdef LIBGRID_SOURCE_COST_CATALOGUE
    std::error_code ec;
    if (std::filesystem::is_regular_file(LIBGRID_SOURCE_COST_CATALOGUE, ec)) return LIBGRID_SOURCE_COST_CATALOGUE;
#endif
    return "";
}

namespace {

void check_same_network(const bc::RunData& a, const bc::RunData& b) {
    const std::string both = "results files '" + a.file + "' and '" + b.file + "' are not runs of the same network: ";
    if (a.load_ids.size() != b.load_ids.size())
        throw ValidationError(both + "'" + a.file + "' has " + std::to_string(a.load_ids.size()) + " customers (/load/id), '" + b.file + "' " +
                              std::to_string(b.load_ids.size()));
    for (std::size_t i = 0; i < a.load_ids.size(); ++i)
        if (a.load_ids[i] != b.load_ids[i])
            throw ValidationError(both + "customer " + std::to_string(i) + " of /load/id is load " + std::to_string(a.load_ids[i]) + " in '" + a.file +
                                  "' and load " + std::to_string(b.load_ids[i]) + " in '" + b.file + "'");
}

double pick(const std::optional<double>& o, const std::optional<double>& s, const CostCatalogue& c, const std::string& fig, std::string& from) {
    if (o) return from = "option", *o;
    if (s) return from = "the scenario's economics key", *s;
    from = cite(c, fig);
    return c.value(fig);
}

/// The options: explicit > the scenario's `economics:` > the catalogue. Loads the catalogue, applies overrides.
CostCatalogue resolve_options(const EconomicsOptions& o, const bc::RunData& scen, BusinessCase& out, std::map<std::string, double>& rates,
                              std::vector<std::string>& notes) {
    ScenarioEconomics sc;
    if (!scen.scenario_text.empty()) sc = parse_scenario_economics(scen.scenario_text, scen.file, false);
    std::string path = !o.catalogue.empty() ? o.catalogue : !sc.catalogue.empty() ? sc.catalogue : default_cost_catalogue();
    if (path.empty())
        throw ValidationError("business case of '" + scen.file + "': no cost catalogue: give one (--catalogue, catalogue=, or economics.catalogue in the scenario) "
                              "or set LIBGRID_COST_CATALOGUE");
    CostCatalogue cat = load_cost_catalogue(path);
    for (const auto& [k, v] : sc.overrides) {
        try {
            cat.set(k, v);
        } catch (const Error& e) {
            throw IdError("results file '" + scen.file + "': scenario key economics.overrides." + k + ": " + e.what());
        }
    }
    for (const auto& [k, v] : o.overrides) {
        try {
            cat.set(k, v);
        } catch (const Error& e) {
            throw IdError("override '" + k + "': " + e.what());
        }
    }
    for (const auto& [k, v] : sc.overrides) notes.push_back("override (the scenario's economics key): " + k + " = " + fmt(v));
    for (const auto& [k, v] : o.overrides) notes.push_back("override (option): " + k + " = " + fmt(v));
    out.catalogue_file = path;
    out.project_years = o.project_years ? *o.project_years : sc.project_years ? *sc.project_years : 20;
    if (out.project_years < 1 || out.project_years > 100)
        throw ValidationError("business case: project_years " + std::to_string(out.project_years) + " is outside 1..100");
    std::string from;
    const std::pair<const char*, std::string> figs[] = {{"customer", "finance.discount_rate_customer_nominal"}, {"charging_operator", "finance.discount_rate_cpo_nominal"},
                                                        {"utility", "finance.discount_rate_utility_nominal"}, {"city", "finance.discount_rate_social_real"}};
    const std::optional<double> given[][2] = {{o.discount_customer, sc.discount_customer}, {o.discount_cpo, sc.discount_cpo},
                                              {o.discount_utility, sc.discount_utility}, {o.discount_city, sc.discount_city}};
    for (int i = 0; i < 4; ++i) {
        rates[figs[i].first] = pick(given[i][0], given[i][1], cat, figs[i].second, from);
        if (!(rates[figs[i].first] > -1.0)) throw ValidationError("business case: discount rate of " + std::string(figs[i].first) + " must be > -1");
        notes.push_back(std::string("discount rate ") + figs[i].first + " = " + fmt(rates[figs[i].first]) + " (" + from + ")");
    }
    out.tariff_escalation = pick(o.tariff_escalation, sc.tariff_escalation, cat, "finance.tariff_escalation_nominal_per_year", from);
    notes.push_back("tariff escalation " + fmt(out.tariff_escalation) + " a year (" + from + "): bills, charging revenue and wholesale energy grow by it from year 2");
    notes.push_back("project " + std::to_string(out.project_years) + " years (" +
                    (o.project_years ? std::string("option") : sc.project_years ? std::string("the scenario's economics key") : std::string("default")) +
                    "); year 0 = the investment, years 1..n = the simulated year's flows, annualised");
    return cat;
}


const std::vector<std::string> kItems = {"bill_savings", "site_energy_savings", "charging_revenue", "revenue_change", "site_revenue_change",
                                         "avoided_energy_purchases", "ev_fuel_savings",
                                         "avoided_upgrades", "needed_upgrades", "capex", "om", "replacements", "residual_value", "co2_value"};
/// Items the city (society) sums: bills, charging sales and revenue changes are transfers between its members.
const std::set<std::string> kSocial = {"avoided_energy_purchases", "ev_fuel_savings", "avoided_upgrades", "needed_upgrades", "capex", "om", "replacements",
                                       "residual_value"};

/// Paybacks as finance.hpp defines them, except for a stakeholder that invests nothing at year 0 (cf[0] >= 0,
/// where they are 0) but whose cumulative flow turns negative later: it never recovers, NaN (a planner
/// reading "0 years" would take a loss for an instant payback).
StakeholderCase figures_of(const std::string& who, const Flow& cf, double capex, double rate) {
    StakeholderCase s{who, capex, npv(cf, rate), irr(cf), simple_payback_years(cf), discounted_payback_years(cf, rate), rate};
    double cum = 0.0, dcum = 0.0;
    bool neg = false, dneg = false;
    for (std::size_t t = 0; t < cf.size(); ++t) {
        cum += cf[t];
        dcum += cf[t] / std::pow(1.0 + rate, double(t));
        neg |= cum < 0.0;
        dneg |= dcum < 0.0;
    }
    if (!cf.empty() && cf[0] >= 0.0 && neg) s.simple_payback_years = kNaN;
    if (!cf.empty() && cf[0] >= 0.0 && dneg) s.discounted_payback_years = kNaN;
    return s;
}

/// The city's flows, the stakeholders' figures and the system-wide ones.
BusinessCase assemble(Book& b, const bc::RunData& base, const bc::RunData& scen, const std::map<std::string, double>& rates, double co2_price) {
    BusinessCase out;
    std::vector<std::string> order;
    std::set<std::string> classes;
    for (const auto& [id, t] : scen.load_type)
        if (t != "charging_site") classes.insert(t);
    for (const auto& [who, items] : b.flows)
        if (who != "charging_operator" && who != "utility" && who != "city") classes.insert(who);
    order.assign(classes.begin(), classes.end());
    for (const char* w : {"charging_operator", "utility"}) order.push_back(w);
    for (const auto& who : order)
        for (const auto& [item, f] : b.flows[who])
            if (kSocial.count(item))
                for (std::size_t t = 0; t < f.size(); ++t) b.flow("city", item)[t] += f[t];
    const double co2 = base.co2_t * base.annualise() - scen.co2_t * scen.annualise();
    Flow co2_series(std::size_t(b.n) + 1, co2);
    co2_series[0] = 0.0;
    Flow city_no_co2(std::size_t(b.n) + 1, 0.0);
    for (const auto& [item, f] : b.flows["city"])
        for (std::size_t t = 0; t < f.size(); ++t) city_no_co2[t] += f[t];
    b.yearly("city", "co2_value", co2 * co2_price, 0.0);
    order.push_back("city");
    for (const auto& who : order) {
        Flow cf(std::size_t(b.n) + 1, 0.0);
        for (const auto& item : kItems) {
            const auto it = b.flows[who].find(item);
            if (it == b.flows[who].end()) continue;
            for (std::size_t t = 0; t < cf.size(); ++t) cf[t] += it->second[t];
            out.cash_flows.push_back({who, item, it->second});
        }
        const auto c = b.flows[who].find("capex");
        const double capex = c == b.flows[who].end() ? 0.0 : -c->second[0];
        const auto r = rates.find(who);
        out.stakeholders.push_back(figures_of(who, cf, capex, r != rates.end() ? r->second : rates.at("customer")));
    }
    const double rc = rates.at("city");
    double pv_e = 0.0, bat_e = 0.0;
    for (int t = 1; t <= b.n; ++t) pv_e += b.pv_kwh[std::size_t(t)], bat_e += b.bat_kwh[std::size_t(t)];
    out.lcoe_pv_rm_per_kwh = pv_e > 0 ? levelised_cost(b.pv_cost, b.pv_kwh, rc) : kNaN;
    out.lcos_rm_per_kwh = bat_e > 0 ? levelised_cost(b.bat_cost, b.bat_kwh, rc) : kNaN;
    out.co2_avoided_t_per_year = co2;
    out.abatement_cost_rm_per_t = co2 != 0.0 ? abatement_cost(city_no_co2, co2_series, rc) : kNaN;
    for (auto& [k, line] : b.assets) out.assets.push_back(line);
    out.hours_base = base.hours;
    out.hours_scenario = scen.hours;
    out.notes = b.notes;
    return out;
}

void general_notes(std::vector<std::string>& notes, const bc::RunData& base, const bc::RunData& scen, const CostCatalogue& cat) {
    notes.push_back("annualised: each file's flows x 8760 h / hours simulated (base " + fmt(base.hours) + " h: x " + fmt(base.annualise()) + "; scenario " +
                    fmt(scen.hours) + " h: x " + fmt(scen.annualise()) + "); every year of the project repeats that year");
    if (base.partial_months || scen.partial_months)
        notes.push_back("a run covers a month in part (/bill/full_month = 0): its bills are annualised as the run billed them (bill.partial_months: "
                        "flag = whole-month fixed charges, prorate = in proportion), so a short run's fixed charges weigh as much as its energy; "
                        "use a full year for figures you report");
    notes.push_back("customer classes from " + scen.type_source + "; a class's customers pay its assets and keep its bill savings; charging sites' "
                    "customers are the charging operator; devices without a customer (own connection) are the utility's");
    notes.push_back("assets added: per customer (or charging site) and kind, the scenario's size minus the base's; PV priced by the size class of the "
                    "customer's whole system (" + cite(cat, "assets.pv_residential.size_kwp.max") + ")");
    notes.push_back("every /building device is a BEMS building; every /home device a HEMS home; /ev chargers are home chargers (ev_charger_ac_home); "
                    "a charging site's chargers above 43 kW are DC (50 kW class up to 100 kW, else 150 kW), the rest public AC");
    notes.push_back("battery: capex = kWh x capex_rm_per_kwh + kW x capex_rm_per_kw (behind the meter; own-connection batteries at the utility figures); "
                    "modules replaced at the end of the year battery_life_years runs out in (cycle life from the annualised discharge, calendar life); "
                    "the power part lives the project; residual value of the last modules, straight line");
    notes.push_back("O&M escalates by " + cite(cat, "finance.om_escalation_nominal_per_year") + "; residual values straight line at the project's end (HOMER, SAM)");
    notes.push_back("city = society: the sum of every stakeholder's asset flows, avoided energy purchases, upgrades and fuel savings; bills, revenue changes "
                    "and charging sales are transfers and cancel; plus CO2 avoided x " + cite(cat, "finance.co2_price_rm_per_t") +
                    "; discounted at the social rate (a real rate applied to nominal flows unless discount_rate.city is set)");
    notes.push_back("the simulated year repeats: bill savings and avoided purchases do not follow the PV's degradation or the batteries' fade "
                    "(only the LCOE's energy degrades); no tax, financing or rebate (the SuRIA rebate is not applied)");
    notes.push_back("LCOE of PV: the added PV's costs over its output (/pv/p_mw, /home/pv_mw, /ev_site/pv_mw, annualised, degraded each year by its class's "
                    "degradation_per_year); LCOS: the added batteries' costs over their discharge; both at the city's rate");
    notes.push_back("CO2 avoided = base /summary/co2_t - scenario /summary/co2_t, annualised; abatement cost = -NPV(city flows without CO2 value) / "
                    "discounted tonnes (RM/t; negative: it pays for itself)");
}

}  // namespace

BusinessCase business_case(const std::string& base_h5, const std::string& scenario_h5, const EconomicsOptions& options) {
    const bc::RunData base = bc::read_run(base_h5);
    const bc::RunData scen = bc::read_run(scenario_h5);
    check_same_network(base, scen);
    BusinessCase head;
    std::map<std::string, double> rates;
    std::vector<std::string> notes;
    const CostCatalogue cat = resolve_options(options, scen, head, rates, notes);
    general_notes(notes, base, scen, cat);
    Book b(cat, head.project_years);
    b.esc = head.tariff_escalation;
    b.om_esc = cat.value("finance.om_escalation_nominal_per_year");
    if (!(options.tariff_scale >= 0.0) || !std::isfinite(options.tariff_scale))
        throw ValidationError("business case: tariff_scale must be a finite number >= 0, got " + fmt(options.tariff_scale));
    b.tariff_scale = options.tariff_scale;
    if (b.tariff_scale != 1.0) b.notes.push_back("every bill of both files x " + fmt(b.tariff_scale) + " (tariff_scale)");
    b.notes = notes;
    price_bills(b, base, scen);
    price_energy(b, base, scen);
    price_added_assets(b, base, scen);
    price_metering(b, base, scen);
    head.upgrades = price_upgrades(b, base, scen);
    BusinessCase out = assemble(b, base, scen, rates, cat.value("finance.co2_price_rm_per_t"));
    out.base_file = base_h5;
    out.scenario_file = scenario_h5;
    out.catalogue_file = head.catalogue_file;
    out.project_years = head.project_years;
    out.tariff_escalation = head.tariff_escalation;
    out.upgrades = head.upgrades;
    out.tariff_scale = b.tariff_scale;
    for (const auto& [name, f] : cat.figures) out.figures[name] = f.value;
    return out;
}

}  // namespace libgrid
