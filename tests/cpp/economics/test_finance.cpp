// Issue 18: the finance functions against cash flows worked by hand (closed forms: annuities,
// geometric series), to 1e-9.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/economics/finance.hpp>

#include <cmath>
#include <vector>

using namespace libgrid;

namespace {
double A(double r, int n) { return (1.0 - std::pow(1.0 + r, -n)) / r; }  // annuity factor, by hand
}  // namespace

TEST_CASE("finance: a two-asset case worked by hand: NPV, IRR, payback") {
    // PV: 20 000 RM, O&M 200 RM/yr, saves 3 000 RM/yr; battery: 8 000 RM, O&M 100 RM/yr, saves
    // 1 200 RM/yr, its pack replaced at year 8 for 4 000 RM; 12 years, no residual value, 6 %.
    const int n = 12;
    const double r = 0.06;
    AssetCost pv{"pv", 20000.0, 200.0, 0.0, 25, {}, false};
    AssetCost bat{"battery", 8000.0, 100.0, 0.0, 15, {{8, 4000.0}}, false};
    const std::vector<double> cp = asset_costs(pv, n), cb = asset_costs(bat, n);
    std::vector<double> cf(n + 1);
    for (int t = 0; t <= n; ++t) cf[std::size_t(t)] = (t > 0 ? 3000.0 + 1200.0 : 0.0) - cp[std::size_t(t)] - cb[std::size_t(t)];
    // by hand: -28 000 + (4 200 - 300) x A(6 %, 12) - 4 000 / 1.06^8
    const double hand = -28000.0 + 3900.0 * A(r, n) - 4000.0 / std::pow(1.06, 8);
    CHECK(npv(cf, r) == doctest::Approx(hand).epsilon(1e-12));
    CHECK(std::abs(npv(cf, r) - hand) < 1e-9);
    // IRR: the NPV there is 0, and it sits between two rates where the NPV has opposite signs
    const double i = irr(cf);
    CHECK(std::abs(npv(cf, i)) < 1e-7);
    CHECK(npv(cf, i - 1e-6) > 0.0);
    CHECK(npv(cf, i + 1e-6) < 0.0);
    // simple payback: cumulative -28 000 + 3 900 t to year 7 (-700); year 8 nets -100 (the pack): -800;
    // year 9 brings 3 900: paid back 800 / 3 900 into it
    CHECK(std::abs(simple_payback_years(cf) - (8.0 + 800.0 / 3900.0)) < 1e-9);
    // discounted payback: first t with -28 000 + 3 900 A(r, t) >= 0, then linear within that year
    double cum = -28000.0;
    int t = 0;
    while (cum + 3900.0 / std::pow(1.0 + r, t + 1) - (t + 1 == 8 ? 4000.0 / std::pow(1.06, 8) : 0.0) < 0.0 && t < n) {
        cum += 3900.0 / std::pow(1.0 + r, t + 1) - (t + 1 == 8 ? 4000.0 / std::pow(1.06, 8) : 0.0);
        ++t;
    }
    REQUIRE(t < n);
    const double c = 3900.0 / std::pow(1.0 + r, t + 1) - (t + 1 == 8 ? 4000.0 / std::pow(1.06, 8) : 0.0);
    CHECK(std::abs(discounted_payback_years(cf, r) - (double(t) + -cum / c)) < 1e-9);
    CHECK(discounted_payback_years(cf, r) > simple_payback_years(cf));
}

TEST_CASE("finance: IRR of flows with a known answer; none without a sign change") {
    const std::vector<double> a{-1000.0, 1100.0}, b{-100.0, 0.0, 121.0}, c{-1000.0, 0.0, 0.0, 1331.0};
    CHECK(std::abs(irr(a) - 0.1) < 1e-9);
    CHECK(std::abs(irr(b) - 0.1) < 1e-9);
    CHECK(std::abs(irr(c) - 0.1) < 1e-9);
    CHECK(std::abs(irr(std::vector<double>{-1000.0, 500.0, 500.0})) < 1e-9);  // 0 %
    // -1000 + 400 x + 400 x^2 = 0 with x = 1/(1+r): x = (-1 + sqrt(11)) / 2
    const double x = (-1.0 + std::sqrt(11.0)) / 2.0;
    CHECK(std::abs(irr(std::vector<double>{-1000.0, 400.0, 400.0}) - (1.0 / x - 1.0)) < 1e-9);
    CHECK(std::isnan(irr(std::vector<double>{100.0, 100.0})));
    CHECK(std::isnan(irr(std::vector<double>{-100.0, -1.0})));
}

TEST_CASE("finance: LCOE of PV with degradation, worked by hand") {
    // 1 kWp: 4 000 RM, O&M 40 RM/yr, 1 300 kWh in year 1 falling 0.5 %/yr, 25 years, 5 %
    const int n = 25;
    const double r = 0.05, d = 0.005;
    const std::vector<double> cost = asset_costs(AssetCost{"pv", 4000.0, 40.0, 0.0, 25, {}, true}, n);
    std::vector<double> e(n + 1, 0.0);
    for (int t = 1; t <= n; ++t) e[std::size_t(t)] = 1300.0 * std::pow(1.0 - d, t - 1);
    // by hand: energy is a geometric series: sum_t 1300 (1-d)^(t-1) / (1+r)^t = 1300/(1+r) x (1-q^n)/(1-q), q = (1-d)/(1+r)
    const double q = (1.0 - d) / (1.0 + r);
    const double e_pv = 1300.0 / (1.0 + r) * (1.0 - std::pow(q, n)) / (1.0 - q);
    const double c_pv = 4000.0 + 40.0 * A(r, n);
    CHECK(std::abs(levelised_cost(cost, e, r) - c_pv / e_pv) < 1e-12);
    MESSAGE("LCOE " << levelised_cost(cost, e, r) << " RM/kWh");
}

TEST_CASE("finance: a replacement inside the lifetime, a re-purchase, the residual value, escalation") {
    // a charger: 10 000 RM, life 8 yr, O&M 300 RM/yr + 3 %/yr, a 2 000 RM board at year 5; 20 years
    const std::vector<double> c = asset_costs(AssetCost{"charger", 10000.0, 300.0, 0.03, 8, {{5, 2000.0}, {25, 9.0}}, true}, 20);
    REQUIRE(c.size() == 21);
    CHECK(c[0] == 10000.0);
    CHECK(std::abs(c[5] - (2000.0 + 300.0 * std::pow(1.03, 4))) < 1e-9);
    CHECK(std::abs(c[8] - (10000.0 + 300.0 * std::pow(1.03, 7))) < 1e-9);   // bought again at 8 and 16
    CHECK(std::abs(c[16] - (10000.0 + 300.0 * std::pow(1.03, 15))) < 1e-9);
    // the purchase of year 16 lives to 24: 4 of 8 years unused at year 20, half its price back
    CHECK(std::abs(c[20] - (300.0 * std::pow(1.03, 19) - 5000.0)) < 1e-9);
    // the year-25 replacement is after the project: not paid
    double s = 0;
    for (double x : c) s += x;
    double hand = 30000.0 + 2000.0 - 5000.0;
    for (int t = 1; t <= 20; ++t) hand += 300.0 * std::pow(1.03, t - 1);
    CHECK(std::abs(s - hand) < 1e-9);
}

TEST_CASE("finance: battery life from the simulated throughput") {
    // 10 kWh, 2 920 kWh discharged a year = 292 full cycles; 6 000 cycles -> 20.5 yr; calendar 15 yr wins
    CHECK(battery_life_years(10.0, 2920.0, 6000.0, 15.0) == 15.0);
    CHECK(std::abs(battery_life_years(10.0, 5840.0, 6000.0, 15.0) - 6000.0 / 584.0) < 1e-12);  // 584 cycles: 10.27 yr
    CHECK(battery_life_years(10.0, 0.0, 6000.0, 15.0) == 15.0);
    CHECK_THROWS_WITH_AS(battery_life_years(0.0, 1.0, 6000.0, 15.0), doctest::Contains("capacity_kwh"), ValidationError);
}

TEST_CASE("finance: bad inputs are named") {
    CHECK_THROWS_WITH_AS(npv(std::vector<double>{1.0}, -1.0), doctest::Contains("rate"), ValidationError);
    CHECK_THROWS_WITH_AS(asset_costs(AssetCost{"pv", -1.0, 0.0, 0.0, 25, {}, true}, 10), doctest::Contains("asset 'pv': field 'capex'"),
                         ValidationError);
    CHECK_THROWS_WITH_AS(asset_costs(AssetCost{"pv", 1.0, NAN, 0.0, 25, {}, true}, 10), doctest::Contains("om_per_year"), ValidationError);
    CHECK_THROWS_WITH_AS(asset_costs(AssetCost{"pv", 1.0, 0.0, 0.0, 0, {}, true}, 10), doctest::Contains("lifetime_years"), ValidationError);
    CHECK_THROWS_WITH_AS(levelised_cost(std::vector<double>{1.0}, std::vector<double>{1.0, 2.0}, 0.05), doctest::Contains("energy"),
                         ValidationError);
    CHECK(std::isnan(simple_payback_years(std::vector<double>{-100.0, 10.0, 10.0})));
    CHECK(simple_payback_years(std::vector<double>{5.0, -1.0}) == 0.0);
}

TEST_CASE("finance: cost of CO2 abated, worked by hand") {
    // 10 000 RM now, saves 1 000 RM/yr and avoids 2 t/yr for 10 years, 5 %
    std::vector<double> cf(11, 1000.0), t(11, 2.0);
    cf[0] = -10000.0;
    t[0] = 0.0;
    const double a = A(0.05, 10);
    CHECK(std::abs(abatement_cost(cf, t, 0.05) - (10000.0 - 1000.0 * a) / (2.0 * a)) < 1e-9);
    CHECK(abatement_cost(cf, t, 0.05) > 0.0);  // 1 000 RM/yr does not repay 10 000 at 5 % in 10 years
    cf.assign(11, 2000.0);
    cf[0] = -10000.0;
    CHECK(abatement_cost(cf, t, 0.05) < 0.0);  // pays for itself
    CHECK(std::isnan(abatement_cost(cf, std::vector<double>(11, 0.0), 0.05)));
    CHECK_THROWS_WITH_AS(abatement_cost(cf, std::vector<double>(3, 1.0), 0.05), doctest::Contains("co2_avoided_t"), ValidationError);
}
