// `libgrid economics BASE.h5 SCENARIO.h5`: the business case of a scenario against a base run (issue 18,
// docs/economics.md "The business case"): per stakeholder capex, NPV, IRR, paybacks; LCOE, LCOS, CO2.
#include "cli.hpp"

#include <libgrid/economics/business_case.hpp>
#include <libgrid/results/hdf5_results.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace libgrid::cli {
namespace {

struct EconomicsArgs {
    std::string base, scenario, catalogue, json;
    std::vector<std::string> sets;
    int years = 0;
    double discount = std::nan("");
    double escalation = std::nan("");
    bool notes = false;
};

std::string num(double x, const char* f) {
    if (std::isnan(x)) return "-";
    char b[64];
    std::snprintf(b, sizeof b, f, x);
    return b;
}

void print_case(const BusinessCase& bc, bool notes) {
    std::printf("business case: %s vs %s\n  catalogue %s, %d years, tariff escalation %.3g a year\n", bc.scenario_file.c_str(),
                bc.base_file.c_str(), bc.catalogue_file.c_str(), bc.project_years, bc.tariff_escalation);
    std::printf("  %-20s %14s %14s %8s %10s %12s %8s\n", "stakeholder", "capex RM", "NPV RM", "IRR", "payback y", "disc. payb. y", "rate");
    for (const auto& s : bc.stakeholders)
        std::printf("  %-20s %14.0f %14.0f %8s %10s %12s %8.3f\n", s.stakeholder.c_str(), s.capex_rm, s.npv_rm, num(s.irr * 100.0, "%.1f%%").c_str(),
                    num(s.simple_payback_years, "%.1f").c_str(), num(s.discounted_payback_years, "%.1f").c_str(), s.discount_rate);
    std::printf("  LCOE of the PV added        %s RM/kWh\n", num(bc.lcoe_pv_rm_per_kwh, "%.4f").c_str());
    std::printf("  LCOS of the storage added   %s RM/kWh\n", num(bc.lcos_rm_per_kwh, "%.4f").c_str());
    std::printf("  CO2 avoided                 %s t/year\n", num(bc.co2_avoided_t_per_year, "%.1f").c_str());
    std::printf("  cost of CO2 abated          %s RM/t\n", num(bc.abatement_cost_rm_per_t, "%.0f").c_str());
    for (const auto& u : bc.upgrades)
        std::printf("  transformer %s (%.0f kVA): upgrade %s, max loading %.0f %% -> %.0f %%, %s RM\n", u.transformer.c_str(), u.rated_kva, u.status.c_str(),
                    u.max_loading_base_percent, u.max_loading_scenario_percent, num(u.cost_rm, "%.0f").c_str());
    if (notes)
        for (const auto& n : bc.notes) std::printf("  note: %s\n", n.c_str());
    else
        std::printf("  (%zu notes on the assumptions: --notes, or --json)\n", bc.notes.size());
}

void run_economics(const CLI::App* cmd, const EconomicsArgs& a) {
    require_at_least(cmd, "--years", a.years, 1);
    check_results_file(a.base);
    check_results_file(a.scenario);
    EconomicsOptions o;
    o.catalogue = a.catalogue;
    if (a.years > 0) o.project_years = a.years;
    if (!std::isnan(a.discount)) o.discount_customer = o.discount_cpo = o.discount_utility = o.discount_city = a.discount;
    if (!std::isnan(a.escalation)) o.tariff_escalation = a.escalation;
    for (const auto& s : a.sets) {
        const auto eq = s.find('=');
        double v = 0;
        std::size_t used = 0;
        bool ok = eq != std::string::npos && eq > 0;
        if (ok) {
            try {
                v = std::stod(s.substr(eq + 1), &used);
            } catch (const std::exception&) {
                ok = false;
            }
        }
        if (!ok || used != s.size() - eq - 1 || !std::isfinite(v))
            throw ValidationError("--set '" + s + "': expected figure=number, e.g. --set assets.hems.capex_rm_per_home=1200");
        o.overrides.emplace_back(s.substr(0, eq), v);
    }
    const BusinessCase bc = business_case(a.base, a.scenario, o);
    print_case(bc, a.notes);
    if (!a.json.empty()) {
        std::ofstream out(a.json);
        out << bc.to_json();
        if (!out.flush()) throw ValidationError("economics: option '--json': cannot write '" + a.json + "'");
        std::printf("the whole case (cash flows, assets, upgrades, notes) written to %s\n", a.json.c_str());
    }
}

}  // namespace

void add_economics(CLI::App& app) {
    auto* cmd = app.add_subcommand("economics", "Business case of a scenario against a base run: NPV, IRR, payback per stakeholder, LCOE, LCOS, CO2");
    static EconomicsArgs a;
    cmd->add_option("BASE", a.base, "HDF5 results of the base run")->required();
    cmd->add_option("SCENARIO", a.scenario, "HDF5 results of the scenario (same network)")->required();
    cmd->add_option("--catalogue", a.catalogue, "cost catalogue (default: the scenario's economics.catalogue, else data/costs/malaysia_2024.yaml)");
    cmd->add_option("--set", a.sets, "override a catalogue figure: --set assets.hems.capex_rm_per_home=1200 (repeatable)");
    cmd->add_option("--years", a.years, "project years (default: the scenario's economics.project_years, else 20)");
    cmd->add_option("--discount-rate", a.discount, "one discount rate for every stakeholder (fraction; default: each stakeholder's)");
    cmd->add_option("--tariff-escalation", a.escalation, "tariff escalation a year (fraction)");
    cmd->add_option("--json", a.json, "write the whole case as JSON to this file");
    cmd->add_flag("--notes", a.notes, "print every assumption made");
    cmd->callback([cmd] { run_economics(cmd, a); });
}

}  // namespace libgrid::cli
