// Python face of the economics layer (issue 18, docs/economics.md): the finance functions and the
// cost / emission catalogue reader. libgrid.economics wraps these with pandas.
#include <libgrid/economics/finance.hpp>
#include <libgrid/scenario/cost_catalogue.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;
using namespace libgrid;

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
}
