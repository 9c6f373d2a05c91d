// Python face of the economics layer (issue 18, docs/economics.md): the finance functions and the
// cost / emission catalogue reader. libgrid.economics wraps these with pandas.
#include <libgrid/core/errors.hpp>
#include <libgrid/economics/business_case.hpp>
#include <libgrid/economics/finance.hpp>
#include <libgrid/scenario/cost_catalogue.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <map>
#include <optional>

namespace py = pybind11;
using namespace libgrid;

namespace {

/// The business case as plain Python objects (libgrid.economics.business_case makes the DataFrames).
py::dict business_case_dict(const BusinessCase& bc) {
    py::dict d;
    d["base_file"] = bc.base_file;
    d["scenario_file"] = bc.scenario_file;
    d["catalogue_file"] = bc.catalogue_file;
    d["project_years"] = bc.project_years;
    d["hours_base"] = bc.hours_base;
    d["hours_scenario"] = bc.hours_scenario;
    d["tariff_escalation"] = bc.tariff_escalation;
    d["tariff_scale"] = bc.tariff_scale;
    d["figures"] = bc.figures;
    d["lcoe_pv_rm_per_kwh"] = bc.lcoe_pv_rm_per_kwh;
    d["lcos_rm_per_kwh"] = bc.lcos_rm_per_kwh;
    d["co2_avoided_t_per_year"] = bc.co2_avoided_t_per_year;
    d["abatement_cost_rm_per_t"] = bc.abatement_cost_rm_per_t;
    py::list st, cf, as, up;
    for (const auto& s : bc.stakeholders)
        st.append(py::dict(py::arg("stakeholder") = s.stakeholder, py::arg("capex_rm") = s.capex_rm, py::arg("npv_rm") = s.npv_rm, py::arg("irr") = s.irr,
                           py::arg("simple_payback_years") = s.simple_payback_years, py::arg("discounted_payback_years") = s.discounted_payback_years,
                           py::arg("discount_rate") = s.discount_rate));
    for (const auto& c : bc.cash_flows) cf.append(py::dict(py::arg("stakeholder") = c.stakeholder, py::arg("item") = c.item, py::arg("rm") = c.rm));
    for (const auto& a : bc.assets)
        as.append(py::dict(py::arg("stakeholder") = a.stakeholder, py::arg("asset_class") = a.asset_class, py::arg("quantity") = a.quantity,
                           py::arg("unit") = a.unit, py::arg("units") = a.units, py::arg("capex_rm") = a.capex_rm, py::arg("om_rm_per_year") = a.om_rm_per_year,
                           py::arg("lifetime_years") = a.lifetime_years, py::arg("figures") = a.figures));
    for (const auto& u : bc.upgrades)
        up.append(py::dict(py::arg("transformer") = u.transformer, py::arg("rated_kva") = u.rated_kva,
                           py::arg("max_loading_base_percent") = u.max_loading_base_percent,
                           py::arg("max_loading_scenario_percent") = u.max_loading_scenario_percent, py::arg("status") = u.status,
                           py::arg("cost_rm") = u.cost_rm, py::arg("next_rating") = u.next_rating));
    d["stakeholders"] = st;
    d["cash_flows"] = cf;
    d["assets"] = as;
    d["upgrades"] = up;
    d["notes"] = bc.notes;
    d["json"] = bc.to_json();
    return d;
}

}  // namespace

void bind_economics(py::module_& m) {
    m.def("npv", [](const std::vector<double>& cf, double rate) { return npv(cf, rate); }, py::arg("cf"), py::arg("rate"));
    m.def("irr", [](const std::vector<double>& cf) { return irr(cf); }, py::arg("cf"));
    m.def("simple_payback_years", [](const std::vector<double>& cf) { return simple_payback_years(cf); }, py::arg("cf"));
    m.def("discounted_payback_years", [](const std::vector<double>& cf, double rate) { return discounted_payback_years(cf, rate); },
          py::arg("cf"), py::arg("rate"));
    m.def("levelised_cost", [](const std::vector<double>& cost, const std::vector<double>& energy, double rate) {
        return levelised_cost(cost, energy, rate);
    }, py::arg("cost"), py::arg("energy"), py::arg("rate"));
    m.def("abatement_cost", [](const std::vector<double>& cf, const std::vector<double>& co2, double rate) {
        return abatement_cost(cf, co2, rate);
    }, py::arg("cf"), py::arg("co2_avoided_t"), py::arg("rate"));
    m.def("annuity_factor", &annuity_factor, py::arg("rate"), py::arg("years"));
    m.def("battery_life_years", &battery_life_years, py::arg("capacity_kwh"), py::arg("annual_discharge_kwh"), py::arg("cycle_life_efc"),
          py::arg("calendar_life_years"));
    m.def("asset_costs",
          [](const std::string& name, double capex, double om_per_year, double om_escalation, int lifetime_years,
             const std::vector<std::pair<int, double>>& replacements, bool residual_value, int project_years) {
              AssetCost a{name, capex, om_per_year, om_escalation, lifetime_years, {}, residual_value};
              for (const auto& [y, c] : replacements) a.replacements.push_back({y, c});
              return asset_costs(a, project_years);
          },
          py::arg("name"), py::arg("capex"), py::arg("om_per_year"), py::arg("om_escalation"), py::arg("lifetime_years"),
          py::arg("replacements"), py::arg("residual_value"), py::arg("project_years"));
    m.def("load_cost_catalogue", [](const std::string& path) {
        const CostCatalogue c = load_cost_catalogue(path);
        py::list figures;
        for (const auto& [name, f] : c.figures) {
            py::dict d;
            d["name"] = name;
            d["value"] = f.value;
            d["source"] = f.source;
            d["citation"] = f.source.empty() ? std::string() : c.sources.at(f.source);
            d["year"] = f.year;
            d["assumption"] = f.assumption;
            d["reason"] = f.reason;
            d["plain"] = f.plain;
            d["line"] = f.line;
            figures.append(d);
        }
        py::dict out;
        out["file"] = c.file;
        out["currency"] = c.currency;
        out["price_year"] = c.price_year;
        out["region"] = c.region;
        out["figures"] = figures;
        out["series"] = c.series;
        out["undocumented"] = c.undocumented();
        return out;
    }, py::arg("path"));
    m.def("business_case",
          [](const std::string& base, const std::string& scenario, const std::string& catalogue, const std::vector<std::pair<std::string, double>>& overrides,
             std::optional<int> project_years, const std::map<std::string, double>& discount_rate, std::optional<double> tariff_escalation,
             double tariff_scale) {
              EconomicsOptions o;
              o.catalogue = catalogue;
              o.overrides = overrides;
              o.project_years = project_years;
              o.tariff_escalation = tariff_escalation;
              o.tariff_scale = tariff_scale;
              for (const auto& [k, v] : discount_rate) {
                  if (k == "customer") o.discount_customer = v;
                  else if (k == "cpo" || k == "charging_operator") o.discount_cpo = v;
                  else if (k == "utility") o.discount_utility = v;
                  else if (k == "city") o.discount_city = v;
                  else throw ValidationError("discount_rate: unknown stakeholder '" + k + "'; allowed: customer, cpo, utility, city");
              }
              BusinessCase bc;
              {
                  py::gil_scoped_release release;
                  bc = business_case(base, scenario, o);
              }
              return business_case_dict(bc);
          },
          py::arg("base"), py::arg("scenario"), py::arg("catalogue") = "", py::arg("overrides") = std::vector<std::pair<std::string, double>>{},
          py::arg("project_years") = py::none(), py::arg("discount_rate") = std::map<std::string, double>{}, py::arg("tariff_escalation") = py::none(),
          py::arg("tariff_scale") = 1.0);
    m.def("default_cost_catalogue", &default_cost_catalogue);
}
