// libgrid layer economics: the business case of a scenario against a base run (issue 18,
// docs/economics.md "The business case"). Two results files of the same network (BASE.h5, SCENARIO.h5)
// become yearly cash flows per stakeholder (each customer class, the charging operator, the utility,
// the city) over a project's life, priced from a cost catalogue (data/costs/malaysia_2024.yaml), and
// the figures investors read: NPV, IRR, simple and discounted payback, LCOE of the PV added, LCOS of
// the storage added, CO2 avoided and the cost of abating it.
//
// Options come, in this order, from the explicit EconomicsOptions, the SCENARIO file's `economics:`
// key (its root attribute `scenario`), then the catalogue's `finance.*` figures. Every assumption made
// is written to BusinessCase::notes.
//
// Thread safety (docs/threads.md): business_case only reads its two files (its own ResultsReaders)
// and the cost catalogue: several business cases may be computed at once on different threads.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace libgrid {

struct EconomicsOptions {
    std::string catalogue;                   ///< cost catalogue file; "" = the scenario's, else the shipped one
    std::optional<int> project_years;        ///< default: the scenario's, else 20
    std::optional<double> discount_customer; ///< rates (fractions); default: the scenario's, else the catalogue's
    std::optional<double> discount_cpo;
    std::optional<double> discount_utility;
    std::optional<double> discount_city;     ///< the social rate (finance.discount_rate_social_real)
    std::optional<double> tariff_escalation; ///< bills, revenues and energy prices grow by it a year
    /// Multiplies every RM amount read from /bill of both files (customers' bill savings, the charging
    /// operator's, the utility's revenue change): the tornado's tariff input. >= 0.
    double tariff_scale = 1.0;
    /// Catalogue figures set by dotted path, applied after the scenario's overrides (an unknown name is
    /// an IdError naming the catalogue and the figure).
    std::vector<std::pair<std::string, double>> overrides;
};

/// One stakeholder's investment figures.
struct StakeholderCase {
    std::string stakeholder;   ///< a customer class ("terrace_house", "unclassified"), "charging_operator", "utility", "city"
    double capex_rm = 0.0;     ///< what it pays at year 0 (asset purchases; avoided upgrades are not capex)
    double npv_rm = 0.0;
    double irr = 0.0;          ///< NaN: the flows do not change sign
    double simple_payback_years = 0.0;      ///< NaN: never
    double discounted_payback_years = 0.0;  ///< NaN: never
    double discount_rate = 0.0;
};

/// One line of a stakeholder's cash flow, RM by year 0..n (+ = money in).
struct CashFlowLine {
    std::string stakeholder;
    std::string item;          ///< bill_savings, capex, om, replacements, residual_value, revenue_change, ...
    std::vector<double> rm;
};

/// An asset class a stakeholder adds in the scenario (quantities summed over its units).
struct AssetLine {
    std::string stakeholder;
    std::string asset_class;   ///< pv_residential, pv_commercial, pv_ground, battery, hems, bems, ev_charger_ac_home, ...
    double quantity = 0.0;
    std::string unit;          ///< kWp, kWh, home, building, unit
    int units = 0;             ///< how many devices (systems, homes, buildings, chargers)
    double capex_rm = 0.0;
    double om_rm_per_year = 0.0;
    double lifetime_years = 0.0;
    /// The catalogue figures used: "name = value (source year)" or "(assumption: reason)", "; "-separated.
    std::string figures;
};

/// A transformer whose loading crosses 100 % between the runs.
struct UpgradeLine {
    std::string transformer;   ///< its id (balanced files) or name (unbalanced files)
    double rated_kva = 0.0;
    double max_loading_base_percent = 0.0;
    double max_loading_scenario_percent = 0.0;
    std::string status;        ///< "avoided" (> 100 % in base only) or "needed" (> 100 % in the scenario only)
    double cost_rm = 0.0;      ///< the next catalogue rating's capex (NaN: no rating above it in the catalogue)
    std::string next_rating;   ///< the catalogue rating priced, kVA ("" when none)
};

struct BusinessCase {
    std::string base_file, scenario_file, catalogue_file;
    int project_years = 0;
    double hours_base = 0.0, hours_scenario = 0.0;   ///< hours simulated in each file
    double tariff_escalation = 0.0;
    double tariff_scale = 1.0;
    std::vector<StakeholderCase> stakeholders;       ///< customer classes (sorted), charging_operator, utility, city
    std::vector<CashFlowLine> cash_flows;
    std::vector<AssetLine> assets;
    std::vector<UpgradeLine> upgrades;
    double lcoe_pv_rm_per_kwh = 0.0;        ///< NaN without PV added
    double lcos_rm_per_kwh = 0.0;           ///< NaN without storage added
    double co2_avoided_t_per_year = 0.0;
    double abatement_cost_rm_per_t = 0.0;   ///< NaN when nothing is avoided
    std::vector<std::string> notes;         ///< every assumption made
    /// The catalogue's figures as used (after the scenario's and the caller's overrides), by dotted path.
    std::map<std::string, double> figures;

    /// The whole case as JSON (NaN as null).
    std::string to_json() const;
    /// The stakeholder's row (IdError naming the known ones when absent).
    const StakeholderCase& stakeholder(const std::string& name) const;
    /// The stakeholder's item, zeros when absent.
    std::vector<double> flow(const std::string& stakeholder, const std::string& item) const;
};

/// The business case of `scenario_h5` against `base_h5` (docs/economics.md "The business case").
/// Errors (libgrid::Error) name the file and the dataset or figure: a file that is not a results file
/// of a run, different networks (load ids), a missing /bill, an unknown override.
BusinessCase business_case(const std::string& base_h5, const std::string& scenario_h5, const EconomicsOptions& options = {});

/// The catalogue used when neither the options nor the scenario name one: $LIBGRID_COST_CATALOGUE, else
/// the source tree's data/costs/malaysia_2024.yaml (compiled in), else the installed copy
/// (<prefix>/share/libgrid/costs/malaysia_2024.yaml), else "" (then an error asks for one).
std::string default_cost_catalogue();

}  // namespace libgrid
