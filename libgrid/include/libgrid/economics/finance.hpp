// libgrid layer economics: the finance of an investment (issue 18, docs/economics.md): present value,
// internal rate of return, payback, levelised cost, and the yearly cost stream of an asset with its
// O&M, replacements and residual value. Plain functions on yearly cash flows; no I/O.
//
// Convention (as HOMER, SAM and the textbooks): cf[0] is paid or received today (the investment),
// cf[t] at the end of year t, discounted by (1 + rate)^t. Money in one currency (RM in libgrid's
// catalogue) at constant or nominal prices as the caller chooses; a rate is a fraction (0.07 = 7 %).
#pragma once

#include <span>
#include <string>
#include <vector>

namespace libgrid {

/// Net present value: sum over t of cf[t] / (1 + rate)^t. rate > -1 (else ValidationError).
double npv(std::span<const double> cf, double rate);

/// Internal rate of return: the rate in (-0.99, 100) at which npv(cf, rate) = 0, found by bracketing
/// and bisection to 1e-12 (Brent-free, so the same answer on every platform). NaN when the flows do not
/// change sign or the root is outside that range; with several sign changes, the root nearest 0 found
/// by scanning up from -0.99 (stated, as a spreadsheet's IRR may give another).
double irr(std::span<const double> cf);

/// Years until the cumulative cash flow first reaches >= 0, linear within the year in which it turns
/// (cash taken as spread over that year); 0 when cf[0] >= 0; NaN when it never does.
double simple_payback_years(std::span<const double> cf);
/// The same on the discounted flows cf[t] / (1 + rate)^t.
double discounted_payback_years(std::span<const double> cf, double rate);

/// Levelised cost: sum_t cost[t] / (1 + rate)^t over sum_t energy[t] / (1 + rate)^t (t from 0; both
/// the same length). Money per unit of energy (RM/kWh when costs are RM and energy kWh). NaN when the
/// discounted energy is 0.
double levelised_cost(std::span<const double> cost, std::span<const double> energy, double rate);

/// Cost of CO2 abated, money per tonne: the investment's net cost over its discounted abatement,
/// -npv(cf, rate) / npv(co2_avoided_t, rate) (cf the net cash flow: savings - costs, year 0..n;
/// co2_avoided_t the tonnes avoided each year, same length). Negative = abatement that pays for itself.
/// NaN when nothing is avoided. The levelised form, as LCOE (docs/economics.md).
double abatement_cost(std::span<const double> cf, std::span<const double> co2_avoided_t, double rate);

/// Present value of an annuity of 1 per year for years 1..n: (1 - (1 + r)^-n) / r (n for r = 0).
double annuity_factor(double rate, int years);

/// A replacement of part of an asset (an inverter, a battery pack) at a year of the project.
struct Replacement {
    int year = 0;          ///< end of this project year, 1..
    double cost = 0.0;     ///< money, > = 0
};

/// One asset's costs (docs/economics.md "Costs of an asset").
struct AssetCost {
    std::string name;
    double capex = 0.0;              ///< at year 0, >= 0
    double om_per_year = 0.0;        ///< fixed O&M, paid at the end of years 1..n, >= 0
    double om_escalation = 0.0;      ///< O&M grows by this fraction a year (year t pays om x (1+e)^(t-1))
    int lifetime_years = 0;          ///< > 0: bought again (capex) at each multiple inside the project
    std::vector<Replacement> replacements;  ///< parts replaced at given years (once each)
    /// Residual value at the project's end, straight line over the unused life of the last purchase,
    /// counted as a negative cost at year n (true: the usual convention of HOMER and SAM).
    bool residual_value = true;
};

/// The asset's cost stream over a project of n years (n + 1 values, year 0..n, costs > 0, a residual
/// value < 0 at year n). Throws ValidationError naming the asset and field on a negative or NaN input.
std::vector<double> asset_costs(const AssetCost& a, int project_years);

/// When a battery wears out: min(calendar_life_years, cycle_life_efc / annual equivalent full
/// cycles), the cycles from the simulated throughput (annual discharged kWh / usable capacity kWh).
/// Returns years (fractional; infinity for a battery never discharged with an infinite calendar life).
double battery_life_years(double capacity_kwh, double annual_discharge_kwh, double cycle_life_efc, double calendar_life_years);

}  // namespace libgrid
