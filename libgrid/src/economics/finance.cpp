// libgrid layer economics: the finance of an investment (economics/finance.hpp, docs/economics.md).
#include <libgrid/economics/finance.hpp>

#include <libgrid/core/errors.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace libgrid {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_rate(double rate, const char* who) {
    if (!(rate > -1.0) || !std::isfinite(rate))
        throw ValidationError(std::string(who) + ": field 'rate': must be a finite number > -1, got " + std::to_string(rate));
}

/// Payback on the flows f(t) (already discounted or not).
template <class F>
double payback(std::size_t n, F f) {
    if (n == 0) return kNaN;
    double cum = f(0);
    if (cum >= 0.0) return 0.0;
    for (std::size_t t = 1; t < n; ++t) {
        const double c = f(t);
        if (cum + c >= 0.0) return double(t - 1) + (c > 0.0 ? -cum / c : 1.0);  // linear within year t
        cum += c;
    }
    return kNaN;
}

}  // namespace

double npv(std::span<const double> cf, double rate) {
    check_rate(rate, "npv");
    double v = 0.0, d = 1.0;
    for (const double c : cf) {
        v += c / d;
        d *= 1.0 + rate;
    }
    return v;
}

double irr(std::span<const double> cf) {
    bool pos = false, neg = false;
    for (const double c : cf) {
        if (!std::isfinite(c)) return kNaN;
        pos = pos || c > 0.0;
        neg = neg || c < 0.0;
    }
    if (!pos || !neg) return kNaN;
    // scan up from -0.99 on a geometric-ish grid for the first sign change, then bisect
    const double lo0 = -0.99, hi_max = 100.0;
    double a = lo0, fa = npv(cf, a);
    if (fa == 0.0) return a;
    for (double step = 0.01; a < hi_max; step = std::min(step * 1.25, 1.0)) {
        double b = std::min(a + step, hi_max);
        const double fb = npv(cf, b);
        if (fb == 0.0) return b;
        if ((fa < 0.0) != (fb < 0.0)) {
            for (int i = 0; i < 200 && b - a > 1e-13; ++i) {
                const double m = 0.5 * (a + b), fm = npv(cf, m);
                if (fm == 0.0) return m;
                if ((fa < 0.0) == (fm < 0.0)) {
                    a = m;
                    fa = fm;
                } else {
                    b = m;
                }
            }
            return 0.5 * (a + b);
        }
        a = b;
        fa = fb;
    }
    return kNaN;
}

double simple_payback_years(std::span<const double> cf) {
    return payback(cf.size(), [&](std::size_t t) { return cf[t]; });
}

double discounted_payback_years(std::span<const double> cf, double rate) {
    check_rate(rate, "discounted_payback_years");
    return payback(cf.size(), [&](std::size_t t) { return cf[t] / std::pow(1.0 + rate, double(t)); });
}

double levelised_cost(std::span<const double> cost, std::span<const double> energy, double rate) {
    check_rate(rate, "levelised_cost");
    if (cost.size() != energy.size())
        throw ValidationError("levelised_cost: 'cost' has " + std::to_string(cost.size()) + " years, 'energy' " + std::to_string(energy.size()));
    const double e = npv(energy, rate);
    return e == 0.0 ? kNaN : npv(cost, rate) / e;
}

double abatement_cost(std::span<const double> cf, std::span<const double> co2, double rate) {
    check_rate(rate, "abatement_cost");
    if (cf.size() != co2.size())
        throw ValidationError("abatement_cost: 'cf' has " + std::to_string(cf.size()) + " years, 'co2_avoided_t' " + std::to_string(co2.size()));
    const double t = npv(co2, rate);
    return t == 0.0 ? kNaN : -npv(cf, rate) / t;
}

double annuity_factor(double rate, int years) {
    check_rate(rate, "annuity_factor");
    if (years <= 0) return 0.0;
    if (rate == 0.0) return double(years);
    return (1.0 - std::pow(1.0 + rate, -double(years))) / rate;
}

std::vector<double> asset_costs(const AssetCost& a, int n) {
    const std::string who = "asset '" + a.name + "'";
    auto bad = [&](const char* field, const std::string& what) { throw ValidationError(who + ": field '" + field + "': " + what); };
    auto nonneg = [&](const char* field, double v) {
        if (!(v >= 0.0) || !std::isfinite(v)) bad(field, "must be a finite number >= 0, got " + std::to_string(v));
    };
    nonneg("capex", a.capex);
    nonneg("om_per_year", a.om_per_year);
    if (!(a.om_escalation > -1.0) || !std::isfinite(a.om_escalation)) bad("om_escalation", "must be a finite number > -1");
    if (a.lifetime_years <= 0) bad("lifetime_years", "must be > 0, got " + std::to_string(a.lifetime_years));
    if (n <= 0) throw ValidationError(who + ": the project must last at least a year, got " + std::to_string(n));
    std::vector<double> c(std::size_t(n) + 1, 0.0);
    int last = 0;
    for (int y = 0; y < n; y += a.lifetime_years) {  // bought at 0 and again at each end of life inside the project
        c[std::size_t(y)] += a.capex;
        last = y;
    }
    for (int t = 1; t <= n; ++t) c[std::size_t(t)] += a.om_per_year * std::pow(1.0 + a.om_escalation, double(t - 1));
    for (std::size_t i = 0; i < a.replacements.size(); ++i) {
        const Replacement& r = a.replacements[i];
        nonneg("replacements.cost", r.cost);
        if (r.year < 1) bad("replacements.year", "must be >= 1, got " + std::to_string(r.year));
        if (r.year <= n) c[std::size_t(r.year)] += r.cost;  // after the project: not paid
    }
    if (a.residual_value) {
        const int left = last + a.lifetime_years - n;  // years of the last purchase's life unused
        if (left > 0) c[std::size_t(n)] -= a.capex * double(left) / double(a.lifetime_years);
    }
    return c;
}

double battery_life_years(double capacity_kwh, double annual_discharge_kwh, double cycle_life_efc, double calendar_life_years) {
    if (!(capacity_kwh > 0.0) || !std::isfinite(capacity_kwh))
        throw ValidationError("battery_life_years: field 'capacity_kwh': must be a finite number > 0");
    if (!(annual_discharge_kwh >= 0.0) || !std::isfinite(annual_discharge_kwh))
        throw ValidationError("battery_life_years: field 'annual_discharge_kwh': must be a finite number >= 0");
    if (!(cycle_life_efc > 0.0)) throw ValidationError("battery_life_years: field 'cycle_life_efc': must be > 0");
    if (!(calendar_life_years > 0.0)) throw ValidationError("battery_life_years: field 'calendar_life_years': must be > 0");
    const double efc_per_year = annual_discharge_kwh / capacity_kwh;
    const double by_cycles = efc_per_year > 0.0 ? cycle_life_efc / efc_per_year : std::numeric_limits<double>::infinity();
    return std::min(calendar_life_years, by_cycles);
}

}  // namespace libgrid
