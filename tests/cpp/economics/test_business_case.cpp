// Issue 18: the business case from a hand-made pair of results files (docs/economics.md "The business
// case"). Every figure is worked out here by hand from the test catalogue below, independently of the
// code under test (only std::pow), and compared to 1e-9.
//
// The pair: 3 customers of 2 classes (1, 2 terrace_house; 3 office), two steps of 4380 h (a year:
// annualisation x 1). The scenario adds a 5 kWp PV at customer 1 (output 0.001 MW in both steps:
// 8760 kWh/yr) and a 100 kWh / 50 kW battery at customer 3 (discharging 0.015 MW in one step: 65 700
// kWh/yr, 657 equivalent full cycles: life 6000 / 657 = 9.13 years, so its modules are replaced at the
// end of year 10, inside a 12-year project). Transformer 7 (315 kVA) is at 120 % in base, 95 % in the
// scenario: its upgrade to 500 kVA (RM80 000) is avoided.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/economics/business_case.hpp>
#include <libgrid/economics/finance.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/scenario/scenario.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

namespace fs = std::filesystem;

/// The hand-worked catalogue (tests/data/economics/hand_worked_catalogue.yaml, shared with the Python test).
const std::string kCatalogue = [] {
    std::ifstream in(std::string(LIBGRID_TEST_DATA) + "/economics/hand_worked_catalogue.yaml");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}();

struct Dir {
    fs::path p;
    Dir() : p(fs::temp_directory_path() / ("libgrid_bc_" + std::to_string(std::rand()) + std::to_string(reinterpret_cast<std::uintptr_t>(this)))) {
        fs::create_directories(p);
    }
    ~Dir() {
        std::error_code ec;
        fs::remove_all(p, ec);
    }
    std::string operator/(const std::string& f) const { return (p / f).string(); }
};

struct Run {
    std::vector<std::int64_t> loads{1, 2, 3};
    std::vector<double> bills{4000, 1200, 50000};
    double import_mwh = 100, co2_t = 78;
    double trafo_max = 120;
    bool pv = false, battery = false, bill = true;
    std::string scenario_text = "name: test\n";
};

void write_run(const std::string& path, const Run& r) {
    ResultsWriter w(path);
    w.write_run_info(r.scenario_text, 1);
    w.add_time();
    const std::int64_t dt = 4380LL * 3600;
    w.write_ids("/load", r.loads);
    w.write_strings("/load/type", {"terrace_house", "terrace_house", "office"});
    if (r.bill) {
        w.write_ids("/bill", r.loads);
        const int b = w.add_series("/bill", "total_rm", r.loads.size(), "RM");
        w.append(b, r.bills.data());
    }
    w.write_ids("/branch", {0, 1});
    w.write_strings("/branch/kind", {"line", "trafo"});
    w.write_int_vector("/branch/element_id", {0, 7});
    w.write_vector("/branch/rated_kva", {std::numeric_limits<double>::infinity(), 315.0}, "kVA");
    const int lp = w.add_series("/branch", "loading_percent", 2, "%");
    int pv = -1, bat = -1;
    if (r.pv) {
        w.write_ids("/pv", {10});
        w.write_int_vector("/pv/customer", {1});
        w.write_vector("/pv/kwp_dc", {5.0}, "kW");
        pv = w.add_series("/pv", "p_mw", 1, "MW");
    }
    if (r.battery) {
        w.write_ids("/battery", {20});
        w.write_int_vector("/battery/customer", {3});
        w.write_vector("/battery/e_kwh", {100.0}, "kWh");
        w.write_vector("/battery/p_charge_kw", {50.0}, "kW");
        w.write_vector("/battery/p_discharge_kw", {50.0}, "kW");
        bat = w.add_series("/battery", "p_mw", 1, "MW");
    }
    w.write_ids("/meter", r.loads);
    for (int k = 0; k < 2; ++k) {
        w.append_time(k * dt);
        const double load[2] = {50.0, k == 0 ? r.trafo_max : 80.0};
        w.append(lp, load);
        const double p = 0.001, b = k == 0 ? 0.015 : -0.015;
        if (pv >= 0) w.append(pv, &p);
        if (bat >= 0) w.append(bat, &b);
    }
    w.write_scalar("/summary/import_mwh", r.import_mwh, "MWh");
    w.write_scalar("/summary/co2_t", r.co2_t, "t");
    w.close();
}

struct Pair {
    Dir dir;
    std::string base, scen, cat;
    explicit Pair(const std::string& scenario_text = "name: test\n") {
        base = dir / "base.h5";
        scen = dir / "scen.h5";
        cat = dir / "cat.yaml";
        std::ofstream(cat) << kCatalogue;
        write_run(base, Run{});
        Run s;
        s.bills = {600, 1200, 45000};
        s.import_mwh = 90;
        s.co2_t = 70.2;
        s.trafo_max = 95;
        s.pv = s.battery = true;
        s.scenario_text = scenario_text;
        write_run(scen, s);
    }
};

double g(double r, int t) { return std::pow(1.0 + r, t - 1); }  // escalation factor of year t >= 1

}  // namespace

TEST_CASE("business case: a hand-worked pair (NPV, IRR, payback, LCOE, LCOS, avoided upgrade, battery replacement)") {
    Pair p;
    EconomicsOptions o;
    o.catalogue = p.cat;
    o.project_years = 12;
    const BusinessCase bc = business_case(p.base, p.scen, o);
    const int n = 12;
    // terrace_house: bill savings 4000 - 600 = 3400 a year (escalated 2 %); PV 5 kWp: capex 20 000, O&M 200
    // (escalated 3 %), inverter 5 x 600 = 3000 at year 8, residual 20 000 x (25 - 12) / 25 = 10 400 at year 12
    std::vector<double> th(n + 1), office(n + 1), util(n + 1), city(n + 1), pv_cost(n + 1), pv_kwh(n + 1), bat_cost(n + 1), bat_kwh(n + 1);
    const double life = 6000.0 / (65700.0 / 100.0);  // 9.1324 years < 15 calendar
    const double modules = 0.6 * 100 * 2000;           // 120 000
    const double bat_capex = 100 * 2000 + 50 * 700;    // 235 000
    for (int t = 0; t <= n; ++t) {
        pv_cost[t] = t == 0 ? 20000.0 : 200.0 * g(0.03, t) + (t == 8 ? 3000.0 : 0.0) - (t == 12 ? 10400.0 : 0.0);
        pv_kwh[t] = t == 0 ? 0.0 : 8760.0 * std::pow(0.995, t - 1);
        bat_cost[t] = t == 0 ? bat_capex : 2350.0 * g(0.03, t) + (t == 10 ? modules : 0.0) - (t == 12 ? modules * (10 + life - 12) / life : 0.0);
        bat_kwh[t] = t == 0 ? 0.0 : 65700.0;
        th[t] = (t ? 3400.0 * g(0.02, t) : 0.0) - pv_cost[t];
        office[t] = (t ? 5000.0 * g(0.02, t) : 0.0) - bat_cost[t];
        // utility: revenue -8400 a year, avoided purchases 10 MWh x 0.30 = 3000 a year, both escalated; upgrade 80 000 avoided
        util[t] = t ? (-8400.0 + 3000.0) * g(0.02, t) : 80000.0;
        city[t] = (t ? 3000.0 * g(0.02, t) : 80000.0) - pv_cost[t] - bat_cost[t];
    }
    const auto& T = bc.stakeholder("terrace_house");
    CHECK(T.npv_rm == doctest::Approx(npv(th, 0.06)).epsilon(1e-12));
    double by_hand = 0;
    for (int t = 0; t <= n; ++t) by_hand += th[t] / std::pow(1.06, t);
    CHECK(std::fabs(T.npv_rm - by_hand) < 1e-9);
    CHECK(T.capex_rm == 20000.0);
    CHECK(T.discount_rate == 0.06);
    CHECK(std::fabs(T.irr - irr(th)) < 1e-9);
    // payback by hand: the cumulative flow turns positive in year T, linear within it
    double cum = 0, pb = std::nan("");
    for (int t = 0; t <= n && std::isnan(pb); ++t) {
        if (cum + th[t] >= 0 && t > 0) pb = t - 1 + (-cum) / th[t];
        cum += th[t];
    }
    REQUIRE(pb > 5.0);
    REQUIRE(pb < 7.0);
    CHECK(std::fabs(T.simple_payback_years - pb) < 1e-9);
    CHECK(std::fabs(T.discounted_payback_years - discounted_payback_years(th, 0.06)) < 1e-9);
    CHECK(T.discounted_payback_years > T.simple_payback_years);
    const auto& O = bc.stakeholder("office");
    by_hand = 0;
    for (int t = 0; t <= n; ++t) by_hand += office[t] / std::pow(1.06, t);
    CHECK(std::fabs(O.npv_rm - by_hand) < 1e-9);
    CHECK(O.capex_rm == 235000.0);
    CHECK(std::isnan(O.simple_payback_years));  // 5 000 a year never pays back 235 000 in 12 years
    // the battery's modules are replaced at the end of year 10 (its throughput wears it out in 9.13 years)
    const auto repl = bc.flow("office", "replacements");
    CHECK(repl[10] == doctest::Approx(-modules).epsilon(1e-12));
    CHECK(repl[9] == 0.0);
    CHECK(repl[11] == 0.0);
    const auto& U = bc.stakeholder("utility");
    by_hand = 0;
    for (int t = 0; t <= n; ++t) by_hand += util[t] / std::pow(1.07, t);
    CHECK(std::fabs(U.npv_rm - by_hand) < 1e-9);
    CHECK(U.capex_rm == 0.0);
    CHECK(std::isnan(U.simple_payback_years));  // no investment at year 0 (the avoided upgrade is money in): no payback
    const auto& C = bc.stakeholder("city");
    by_hand = 0;
    for (int t = 0; t <= n; ++t) by_hand += city[t] / std::pow(1.05, t);
    CHECK(std::fabs(C.npv_rm - by_hand) < 1e-9);
    CHECK(C.capex_rm == 255000.0);
    CHECK(std::isnan(C.discounted_payback_years));  // 3000 a year never repays 175 000
    // charging operator: nothing changes
    CHECK(bc.stakeholder("charging_operator").npv_rm == 0.0);
    CHECK(std::isnan(bc.stakeholder("charging_operator").simple_payback_years));  // nothing invested: no payback (not "0 years")
    // LCOE / LCOS at the city's rate, by hand
    double c_pv = 0, e_pv = 0, c_b = 0, e_b = 0;
    for (int t = 0; t <= n; ++t) {
        const double d = std::pow(1.05, t);
        c_pv += pv_cost[t] / d, e_pv += pv_kwh[t] / d, c_b += bat_cost[t] / d, e_b += bat_kwh[t] / d;
    }
    CHECK(std::fabs(bc.lcoe_pv_rm_per_kwh - c_pv / e_pv) < 1e-9);
    CHECK(std::fabs(bc.lcos_rm_per_kwh - c_b / e_b) < 1e-9);
    // CO2: 78 - 70.2 = 7.8 t a year; abatement = -NPV(city) / discounted tonnes
    CHECK(std::fabs(bc.co2_avoided_t_per_year - 7.8) < 1e-9);
    double tonnes = 0;
    for (int t = 1; t <= n; ++t) tonnes += 7.8 / std::pow(1.05, t);
    CHECK(std::fabs(bc.abatement_cost_rm_per_t - (-C.npv_rm / tonnes)) < 1e-6);
    // the avoided upgrade
    REQUIRE(bc.upgrades.size() == 1);
    CHECK(bc.upgrades[0].transformer == "7");
    CHECK(bc.upgrades[0].status == "avoided");
    CHECK(bc.upgrades[0].cost_rm == 80000.0);
    CHECK(bc.upgrades[0].next_rating == "500");
    CHECK(bc.upgrades[0].max_loading_base_percent == 120.0);
    CHECK(bc.upgrades[0].max_loading_scenario_percent == 95.0);
    // the asset table and the notes
    REQUIRE(bc.assets.size() == 2);
    CHECK(bc.assets[0].stakeholder == "office");
    CHECK(bc.assets[0].asset_class == "battery");
    CHECK(bc.assets[1].asset_class == "pv_residential");
    CHECK(bc.assets[1].quantity == 5.0);
    CHECK(bc.assets[1].figures.find("assets.pv_residential.capex_rm_per_kwp = 4000") != std::string::npos);
    bool annualised = false;
    for (const auto& s : bc.notes) annualised |= s.find("annualised") != std::string::npos;
    CHECK(annualised);
    const std::string j = bc.to_json();
    CHECK(j.find("\"stakeholder\": \"terrace_house\"") != std::string::npos);
    CHECK(j.find("\"irr\": null") != std::string::npos);  // the charging operator's
}

TEST_CASE("business case: options come from the scenario's economics key, explicit options win; overrides reprice") {
    Pair p0;
    const std::string text = "name: t\neconomics:\n  catalogue: " + p0.cat + "\n  project_years: 12\n  discount_rate: {customer: 0.1}\n"
                             "  overrides: {assets.pv_residential.capex_rm_per_kwp: 3000}\n";
    Pair p(text);
    std::ofstream(p.cat) << kCatalogue;
    const BusinessCase a = business_case(p.base, p.scen);
    CHECK(a.project_years == 12);
    CHECK(a.catalogue_file == p0.cat);
    CHECK(a.stakeholder("terrace_house").discount_rate == 0.1);
    CHECK(a.stakeholder("terrace_house").capex_rm == 15000.0);  // 5 kWp x 3000
    EconomicsOptions o;
    o.project_years = 15;
    o.discount_customer = 0.04;
    o.overrides = {{"assets.pv_residential.capex_rm_per_kwp", 2000}};
    const BusinessCase b = business_case(p.base, p.scen, o);
    CHECK(b.project_years == 15);
    CHECK(b.stakeholder("terrace_house").discount_rate == 0.04);
    CHECK(b.stakeholder("terrace_house").capex_rm == 10000.0);
    CHECK(b.cash_flows.front().rm.size() == 16);
    CHECK(b.figures.at("assets.pv_residential.capex_rm_per_kwp") == 2000.0);  // the figures as used
    // over 15 years the utility's lost revenue outgrows the avoided upgrade (80 000 - 5400 x 17.29 < 0):
    // it invests nothing at year 0 and never recovers: payback NaN, not 0
    CHECK(std::isnan(b.stakeholder("utility").simple_payback_years));
    // tariff_scale multiplies every bill of both files: savings and the utility's revenue change scale with it
    o.tariff_scale = 1.5;
    const BusinessCase c = business_case(p.base, p.scen, o);
    CHECK(std::fabs(c.flow("terrace_house", "bill_savings")[1] - 1.5 * 3400.0) < 1e-9);
    CHECK(std::fabs(c.flow("utility", "revenue_change")[1] - 1.5 * -8400.0) < 1e-9);
    CHECK(c.flow("utility", "avoided_energy_purchases")[1] == b.flow("utility", "avoided_energy_purchases")[1]);
    o.tariff_scale = -1;
    CHECK_THROWS_WITH_AS(business_case(p.base, p.scen, o), doctest::Contains("tariff_scale"), ValidationError);
}

TEST_CASE("business case: a shorter run is annualised by 8760 h / hours simulated") {
    Dir d;
    const std::string cat = d / "cat.yaml";
    std::ofstream(cat) << kCatalogue;
    for (const char* f : {"a.h5", "b.h5"}) {
        ResultsWriter w(d / f);
        w.write_run_info("name: t\n", 1);
        w.add_time();
        w.write_ids("/load", {1});
        w.write_strings("/load/type", {"shophouse"});
        w.write_ids("/bill", {1});
        const int b = w.add_series("/bill", "total_rm", 1, "RM");
        const double bill = std::string(f) == "a.h5" ? 100.0 : 90.0;
        w.append(b, &bill);
        for (int k = 0; k < 48; ++k) w.append_time(k * 3600);  // 2 days
        w.write_scalar("/summary/import_mwh", 1.0, "MWh");
        w.write_scalar("/summary/co2_t", 0.78, "t");
        w.close();
    }
    EconomicsOptions o;
    o.catalogue = cat;
    o.project_years = 3;
    const BusinessCase bc = business_case(d / "a.h5", d / "b.h5", o);
    const auto s = bc.flow("shophouse", "bill_savings");
    CHECK(std::fabs(s[1] - 10.0 * 8760.0 / 48.0) < 1e-9);  // x 182.5
    CHECK(std::fabs(s[2] - 10.0 * 182.5 * 1.02) < 1e-9);
    CHECK(bc.hours_scenario == 48.0);
    CHECK(std::isnan(bc.lcoe_pv_rm_per_kwh));
    CHECK(std::isnan(bc.abatement_cost_rm_per_t));
}

TEST_CASE("business case: errors name the file and the figure") {
    Pair p;
    EconomicsOptions o;
    o.catalogue = p.cat;
    SUBCASE("different networks") {
        Run other;
        other.loads = {1, 2, 4};
        const std::string f = p.dir / "other.h5";
        write_run(f, other);
        CHECK_THROWS_WITH_AS(business_case(p.base, f, o), doctest::Contains("not runs of the same network"), ValidationError);
        CHECK_THROWS_WITH_AS(business_case(p.base, f, o), doctest::Contains(("load 4 in '" + f + "'").c_str()), ValidationError);
    }
    SUBCASE("no bills") {
        Run nb;
        nb.bill = false;
        const std::string f = p.dir / "nobill.h5";
        write_run(f, nb);
        CHECK_THROWS_WITH_AS(business_case(f, p.scen, o), doctest::Contains(("results file '" + f + "': no dataset '/bill/id'").c_str()), ValidationError);
    }
    SUBCASE("unknown override") {
        o.overrides = {{"assets.pv_residential.capex_per_kwp", 1.0}};
        CHECK_THROWS_WITH_AS(business_case(p.base, p.scen, o), doctest::Contains("override 'assets.pv_residential.capex_per_kwp'"), IdError);
        CHECK_THROWS_WITH_AS(business_case(p.base, p.scen, o), doctest::Contains(p.cat.c_str()), IdError);
    }
    SUBCASE("a missing figure names the catalogue and the figure") {
        const std::string cat = p.dir / "short.yaml";
        std::string text = kCatalogue;
        text.erase(text.find("market:"), text.find("ev:") - text.find("market:"));
        std::ofstream(cat) << text;
        o.catalogue = cat;
        CHECK_THROWS_WITH_AS(business_case(p.base, p.scen, o), doctest::Contains("market.charging_price_rm_per_kwh"), IdError);
    }
    SUBCASE("not a results file") {
        CHECK_THROWS_AS(business_case(p.cat, p.scen, o), Error);
    }
}

TEST_CASE("business case: the scenario key economics: parses, round-trips and names bad keys") {
    Dir d;
    const std::string cat = d / "cat.yaml";
    std::ofstream(cat) << kCatalogue;
    const std::string head = "network: {size: small}\nhorizon: {start: 2025-01-01, steps: 4}\n";
    const std::string eco = "economics:\n  catalogue: cat.yaml\n  project_years: 25\n  discount_rate: {customer: 0.05, city: 0.03}\n"
                            "  tariff_escalation: 0.01\n  overrides: {assets.pv_residential.capex_rm_per_kwp: 3500}\n";
    const Scenario s = parse_scenario(head + eco, d / "s.yaml");
    CHECK(s.economics.catalogue == fs::path(cat).lexically_normal().string());
    CHECK(s.economics.project_years == 25);
    CHECK(s.economics.discount_customer == 0.05);
    CHECK(!s.economics.discount_utility);
    CHECK(s.economics.tariff_escalation == 0.01);
    REQUIRE(s.economics.overrides.size() == 1);
    CHECK(s.economics.overrides[0].second == 3500.0);
    const Scenario back = parse_scenario(scenario_to_yaml(s), d / "s.yaml");
    CHECK(back.economics == s.economics);
    CHECK(parse_scenario_economics(scenario_to_yaml(s), "x.h5", false) == s.economics);
    CHECK(!parse_scenario(head, d / "s.yaml").economics.given());
    CHECK_THROWS_WITH_AS(parse_scenario(head + "economics: {project_year: 3}\n", d / "s.yaml"), doctest::Contains("did you mean 'project_years'"), ParseError);
    CHECK_THROWS_WITH_AS(parse_scenario(head + "economics: {project_years: 0}\n", d / "s.yaml"), doctest::Contains("economics.project_years"), ParseError);
    CHECK_THROWS_WITH_AS(parse_scenario(head + "economics: {catalogue: cat.yaml, overrides: {assets.nope: 1}}\n", d / "s.yaml"),
                         doctest::Contains("economics.overrides.assets.nope"), ParseError);
    CHECK_THROWS_WITH_AS(parse_scenario(head + "economics: {overrides: {assets.hems.capex_rm_per_home: abc}}\n", d / "s.yaml"),
                         doctest::Contains("expected a finite number"), ParseError);
}
