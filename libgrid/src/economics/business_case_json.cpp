// libgrid economics: the business case as JSON and its look-ups (docs/economics.md "The business case").
#include <libgrid/economics/business_case.hpp>

#include <libgrid/core/errors.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace libgrid {
namespace {

std::string jnum(double x) {
    if (!std::isfinite(x)) return "null";
    char b[40];
    std::snprintf(b, sizeof b, "%.17g", x);
    return b;
}

std::string jstr(const std::string& s) {
    std::string o = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\') o += '\\', o += c;
        else if (c == '\n') o += "\\n";
        else if (static_cast<unsigned char>(c) < 0x20) {
            char b[8];
            std::snprintf(b, sizeof b, "\\u%04x", c);
            o += b;
        } else o += c;
    }
    return o + "\"";
}

std::string jarr(const std::vector<double>& v) {
    std::string o = "[";
    for (std::size_t i = 0; i < v.size(); ++i) o += (i ? ", " : "") + jnum(v[i]);
    return o + "]";
}

}  // namespace

std::string BusinessCase::to_json() const {
    std::ostringstream o;
    o << "{\"base_file\": " << jstr(base_file) << ", \"scenario_file\": " << jstr(scenario_file) << ", \"catalogue_file\": " << jstr(catalogue_file)
      << ",\n \"project_years\": " << project_years << ", \"hours_base\": " << jnum(hours_base) << ", \"hours_scenario\": " << jnum(hours_scenario)
      << ", \"tariff_escalation\": " << jnum(tariff_escalation) << ", \"tariff_scale\": " << jnum(tariff_scale) << ",\n \"lcoe_pv_rm_per_kwh\": " << jnum(lcoe_pv_rm_per_kwh)
      << ", \"lcos_rm_per_kwh\": " << jnum(lcos_rm_per_kwh) << ", \"co2_avoided_t_per_year\": " << jnum(co2_avoided_t_per_year)
      << ", \"abatement_cost_rm_per_t\": " << jnum(abatement_cost_rm_per_t) << ",\n \"stakeholders\": [";
    for (std::size_t i = 0; i < stakeholders.size(); ++i) {
        const StakeholderCase& s = stakeholders[i];
        o << (i ? ",\n  " : "\n  ") << "{\"stakeholder\": " << jstr(s.stakeholder) << ", \"capex_rm\": " << jnum(s.capex_rm) << ", \"npv_rm\": " << jnum(s.npv_rm)
          << ", \"irr\": " << jnum(s.irr) << ", \"simple_payback_years\": " << jnum(s.simple_payback_years)
          << ", \"discounted_payback_years\": " << jnum(s.discounted_payback_years) << ", \"discount_rate\": " << jnum(s.discount_rate) << "}";
    }
    o << "],\n \"cash_flows\": [";
    for (std::size_t i = 0; i < cash_flows.size(); ++i)
        o << (i ? ",\n  " : "\n  ") << "{\"stakeholder\": " << jstr(cash_flows[i].stakeholder) << ", \"item\": " << jstr(cash_flows[i].item)
          << ", \"rm\": " << jarr(cash_flows[i].rm) << "}";
    o << "],\n \"assets\": [";
    for (std::size_t i = 0; i < assets.size(); ++i) {
        const AssetLine& a = assets[i];
        o << (i ? ",\n  " : "\n  ") << "{\"stakeholder\": " << jstr(a.stakeholder) << ", \"asset_class\": " << jstr(a.asset_class)
          << ", \"quantity\": " << jnum(a.quantity) << ", \"unit\": " << jstr(a.unit) << ", \"units\": " << a.units << ", \"capex_rm\": " << jnum(a.capex_rm)
          << ", \"om_rm_per_year\": " << jnum(a.om_rm_per_year) << ", \"lifetime_years\": " << jnum(a.lifetime_years) << ", \"figures\": " << jstr(a.figures) << "}";
    }
    o << "],\n \"upgrades\": [";
    for (std::size_t i = 0; i < upgrades.size(); ++i) {
        const UpgradeLine& u = upgrades[i];
        o << (i ? ",\n  " : "\n  ") << "{\"transformer\": " << jstr(u.transformer) << ", \"rated_kva\": " << jnum(u.rated_kva)
          << ", \"max_loading_base_percent\": " << jnum(u.max_loading_base_percent) << ", \"max_loading_scenario_percent\": " << jnum(u.max_loading_scenario_percent)
          << ", \"status\": " << jstr(u.status) << ", \"cost_rm\": " << jnum(u.cost_rm) << ", \"next_rating\": " << jstr(u.next_rating) << "}";
    }
    o << "],\n \"figures\": {";
    bool first = true;
    for (const auto& [k, v] : figures) o << (first ? "" : ", ") << jstr(k) << ": " << jnum(v), first = false;
    o << "},\n \"notes\": [";
    for (std::size_t i = 0; i < notes.size(); ++i) o << (i ? ",\n  " : "\n  ") << jstr(notes[i]);
    o << "]}\n";
    return o.str();
}

const StakeholderCase& BusinessCase::stakeholder(const std::string& name) const {
    std::string known;
    for (const auto& s : stakeholders) {
        if (s.stakeholder == name) return s;
        known += (known.empty() ? "" : ", ") + s.stakeholder;
    }
    throw IdError("business case: no stakeholder '" + name + "'; it has: " + known);
}

std::vector<double> BusinessCase::flow(const std::string& who, const std::string& item) const {
    for (const auto& c : cash_flows)
        if (c.stakeholder == who && c.item == item) return c.rm;
    return std::vector<double>(std::size_t(project_years) + 1, 0.0);
}

}  // namespace libgrid
