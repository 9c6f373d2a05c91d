// Bills as TNB bills them (issue 12): whole-kWh registers, lines to the sen, the RE Fund (KWTBB) and
// service tax (SST) lines, partial months flagged or prorated, the non-domestic LV ToU tariff, and
// re-billing a results file. Every expected figure below is worked out by hand in the comments from
// the published rates (sen/kWh), never taken from libgrid's output.
#include <doctest/doctest.h>

#include "scratch_dir.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/simulation/engine.hpp>
#include <libgrid/simulation/rebill.hpp>
#include <libgrid/simulation/tariff.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

constexpr std::int64_t JUL1_2025 = 1751328000;  // Tuesday, local midnight (GNU date, as test_tariff.cpp)
constexpr std::int64_t SEP1_2025 = 1756684800;
constexpr std::int64_t JUL7_2025 = JUL1_2025 + 6 * 86400;  // Monday

bool same_sen(double a, double b) { return std::abs(a - b) < 0.0005; }

/// One hand-worked bill of TNB's domestic general tariff (July 2025) for E whole kWh.
struct Expected {
    double kwh;
    double energy, capacity, network, retail, eei, re_fund, sst, total;
};

// Rates (melaka.md; docs/tariffs.md): energy 27.03 sen/kWh up to 1,500 kWh, 37.03 on all kWh above;
// capacity 4.55; network 12.85; retail RM 10 above 600 kWh; EEI band rate on all kWh (1-200: 25,
// 251-300: 22.5, 551-600: 9, 851-900: 1, > 1,000: 0 sen/kWh). KWTBB 1.6 % of (energy + capacity +
// network - EEI) above 300 kWh; SST 8 % of ((E - 600) / E * (energy + capacity + network - EEI) +
// retail) above 600 kWh. Each line rounded to the sen.
//  300 kWh: 8109 / 1365 / 3855 sen; EEI 22.5 * 300 = 6750 sen; KWTBB exempt (<= 300); total 65.79
//  600 kWh: 16218 / 2730 / 7710 sen; EEI 9 * 600 = 5400 sen; charges 212.58; KWTBB 3.40128 -> 3.40;
//           SST none (not above 600); total 212.58 + 3.40 = 215.98
//  900 kWh: 24327 / 4095 / 11565 sen; retail 10; EEI 1 * 900 = 9.00; charges 390.87; KWTBB 6.25392
//           -> 6.25; SST 0.08 * (390.87 / 3 + 10) = 0.08 * 140.29 = 11.2232 -> 11.22;
//           total 400.87 + 6.25 + 11.22 = 418.34
// 1200 kWh: 32436 / 5460 / 15420 sen; retail 10; EEI 0; charges 533.16; KWTBB 8.53056 -> 8.53;
//           SST 0.08 * (533.16 / 2 + 10) = 0.08 * 276.58 = 22.1264 -> 22.13; total 543.16 + 8.53 + 22.13 = 573.82
// 1500 kWh: 40545 / 6825 / 19275 sen; retail 10; charges 666.45; KWTBB 10.6632 -> 10.66;
//           SST 0.08 * (0.6 * 666.45 + 10) = 0.08 * 409.87 = 32.7896 -> 32.79; total 676.45 + 10.66 + 32.79 = 719.90
// 2000 kWh: 2000 * 37.03 = 74060 / 9100 / 25700 sen; retail 10; charges 1088.60; KWTBB 17.4176 -> 17.42;
//           SST 0.08 * (0.7 * 1088.60 + 10) = 0.08 * 772.02 = 61.7616 -> 61.76; total 1098.60 + 17.42 + 61.76 = 1177.78
// The check against TNB's calculator: KWTBB + SST = RM 3.40 at 600 kWh and RM 79.18 at 2,000 kWh.
const std::vector<Expected> kCalculator = {
    {300, 81.09, 13.65, 38.55, 0.00, 67.50, 0.00, 0.00, 65.79},
    {600, 162.18, 27.30, 77.10, 0.00, 54.00, 3.40, 0.00, 215.98},
    {900, 243.27, 40.95, 115.65, 10.00, 9.00, 6.25, 11.22, 418.34},
    {1200, 324.36, 54.60, 154.20, 10.00, 0.00, 8.53, 22.13, 573.82},
    {1500, 405.45, 68.25, 192.75, 10.00, 0.00, 10.66, 32.79, 719.90},
    {2000, 740.60, 91.00, 257.00, 10.00, 0.00, 17.42, 61.76, 1177.78},
};

void check_bill(const Bill& b, const Expected& x) {
    CAPTURE(x.kwh);
    CHECK(b.import_kwh == x.kwh);
    CHECK(same_sen(b.energy_rm, x.energy));
    CHECK(same_sen(b.capacity_rm, x.capacity));
    CHECK(same_sen(b.network_rm, x.network));
    CHECK(same_sen(b.retail_rm, x.retail));
    CHECK(same_sen(b.eei_rebate_rm, x.eei));
    CHECK(same_sen(b.re_fund_rm, x.re_fund));
    CHECK(same_sen(b.service_tax_rm, x.sst));
    CHECK(same_sen(b.total_rm, x.total));
    CHECK(same_sen(b.subtotal_rm + b.re_fund_rm + b.service_tax_rm, b.total_rm));
}

/// n equal half-hours summing (in exact arithmetic) to kwh.
std::vector<double> equal_half_hours(double kwh, std::size_t n) { return std::vector<double>(n, kwh / double(n)); }

Network cigre_lv() { return read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json"); }

}  // namespace

/// Issue 19: the engine bills nobody unless asked; these runs bill every customer on TNB's domestic
/// general tariff (unless DeviceSet::tariffs says otherwise) with Melaka's public holidays.
static SimulationOptions melaka_billing() {
    SimulationOptions o;
    o.default_tariff = Tariff::tnb_domestic_general();
    o.holidays = [](std::int64_t t) { return is_public_holiday(t); };
    return o;
}

TEST_CASE("billing: TNB's bill calculator, domestic general July 2025, 300 to 2,000 kWh, whole kWh and half-hours") {
    const Tariff general = Tariff::tnb_domestic_general();
    for (const Expected& x : kCalculator) {
        // The month as one whole-kWh reading (all in the first half-hour).
        std::vector<double> whole(1488, 0.0);
        whole[0] = x.kwh;
        const auto a = monthly_bills(general, ExportScheme::None, JUL1_2025, 1800, whole.data(), nullptr, whole.size());
        REQUIRE(a.size() == 1);
        CHECK(a[0].full_month);
        check_bill(a[0], x);
        // The same month from a smart meter: 1,488 equal half-hours.
        const auto hh = equal_half_hours(x.kwh, 1488);
        const auto b = monthly_bills(general, ExportScheme::None, JUL1_2025, 1800, hh.data(), nullptr, hh.size());
        REQUIRE(b.size() == 1);
        check_bill(b[0], x);
    }
}

TEST_CASE("billing: thresholds look at whole kWh (900 kWh as 1,488 half-hours, a 600 kWh September)") {
    const Tariff general = Tariff::tnb_domestic_general();
    const auto hh = equal_half_hours(900.0, 1488);
    double sum = 0.0;
    for (double e : hh) sum += e;
    CHECK(sum != 900.0);  // the floating-point sum is not 900 (900.0000000000176 on IEEE doubles)
    const Bill b = monthly_bills(general, ExportScheme::None, JUL1_2025, 1800, hh.data(), nullptr, hh.size()).at(0);
    CHECK(b.import_kwh == 900.0);
    CHECK(same_sen(b.eei_rebate_rm, 9.00));  // the 851-900 band (1 sen), not the 901-1,000 band
    // Without whole kWh the unrounded sum falls into the next EEI band: 0.5 sen * 900 = 4.50.
    BillOptions exact;
    exact.whole_kwh = false;
    const Bill e = monthly_bills(general, exact, JUL1_2025, 1800, hh.data(), nullptr, hh.size()).at(0);
    if (sum > 900.0) CHECK(same_sen(e.eei_rebate_rm, 4.50));

    // September 2025 (30 days, 1,440 half-hours), 600 kWh: retail waived, EEI 9 sen, no SST.
    const auto sep = equal_half_hours(600.0, 1440);
    const Bill s = monthly_bills(general, ExportScheme::None, SEP1_2025, 1800, sep.data(), nullptr, sep.size()).at(0);
    CHECK(s.full_month);
    CHECK(s.import_kwh == 600.0);
    CHECK(s.retail_rm == 0.0);
    CHECK(same_sen(s.eei_rebate_rm, 54.00));
    CHECK(s.service_tax_rm == 0.0);
    CHECK(same_sen(s.total_rm, 215.98));  // as July's 600 kWh: the rates do not depend on the month's length

    // Half a kWh rounds up, just below rounds down (registers read whole kWh, nearest, half up).
    std::vector<double> half{300.5};
    CHECK(monthly_bills(general, ExportScheme::None, JUL1_2025, 1800, half.data(), nullptr, 1).at(0).import_kwh == 301.0);
    std::vector<double> below{300.49};
    CHECK(monthly_bills(general, ExportScheme::None, JUL1_2025, 1800, below.data(), nullptr, 1).at(0).import_kwh == 300.0);
}

TEST_CASE("billing: a one-week month is flagged, or prorated on request") {
    const Tariff general = Tariff::tnb_domestic_general();
    // 7 days from Monday 7 July 2025, 100 kWh in all (hourly).
    std::vector<double> e(7 * 24, 0.0);
    e[0] = 100.0;
    const Bill f = monthly_bills(general, ExportScheme::None, JUL7_2025, 3600, e.data(), nullptr, e.size()).at(0);
    CHECK_FALSE(f.full_month);
    CHECK_FALSE(f.prorated);
    CHECK(f.days_covered == 7.0);
    CHECK(f.days_in_month == 31);
    // Flag: billed as a whole month: EEI 25 sen (1-200 kWh), KWTBB exempt (<= 300 kWh).
    // 27.03 + 4.55 + 12.85 - 25.00 = 19.43
    CHECK(same_sen(f.eei_rebate_rm, 25.00));
    CHECK(f.re_fund_rm == 0.0);
    CHECK(same_sen(f.total_rm, 19.43));

    // Prorate: thresholds times 7/31. EEI edges 400 -> 90.32, 450 -> 101.61 kWh: 100 kWh pays the
    // 401-450 band, 14.5 sen: 14.50. Retail waiver 600 -> 135.48 (waived). KWTBB exemption 300 ->
    // 67.74: applies, 1.6 % of (27.03 + 4.55 + 12.85 - 14.50 = 29.93) = 0.47888 -> 0.48.
    // SST threshold 135.48: none. Total 29.93 + 0.48 = 30.41.
    BillOptions pro;
    pro.partial_months = PartialMonths::Prorate;
    const Bill p = monthly_bills(general, pro, JUL7_2025, 3600, e.data(), nullptr, e.size()).at(0);
    CHECK(p.prorated);
    CHECK(same_sen(p.eei_rebate_rm, 14.50));
    CHECK(p.retail_rm == 0.0);
    CHECK(same_sen(p.re_fund_rm, 0.48));
    CHECK(same_sen(p.total_rm, 30.41));
    // A whole month is never prorated.
    std::vector<double> month(31 * 24, 0.0);
    month[0] = 100.0;
    const Bill w = monthly_bills(general, pro, JUL1_2025, 3600, month.data(), nullptr, month.size()).at(0);
    CHECK(w.full_month);
    CHECK_FALSE(w.prorated);
    CHECK(same_sen(w.total_rm, 19.43));
}

TEST_CASE("billing: non-domestic LV ToU") {
    // 1 July 2025 is a Tuesday: 14:00 is peak, 00:00 off-peak. 400 kWh peak + 600 off-peak.
    std::vector<double> e(31 * 24, 0.0);
    e[0] = 600.0;
    e[14] = 400.0;
    const Tariff t = Tariff::tnb_non_domestic_lv_tou();
    CHECK(is_tou(t.kind));
    CHECK_FALSE(is_domestic(t.kind));
    const Bill b = monthly_bills(t, ExportScheme::None, JUL1_2025, 3600, e.data(), nullptr, e.size()).at(0);
    // energy 400 * 28.52 + 600 * 24.43 = 11408 + 14658 sen = 260.66; capacity 1000 * 8.83 = 88.30;
    // network 1000 * 14.82 = 148.20; retail 20 (never waived); no EEI; KWTBB 1.6 % of 497.16 =
    // 7.95456 -> 7.95 (no exemption); no SST for non-domestic. Total 497.16 + 20 + 7.95 = 525.11.
    CHECK(b.peak_kwh == 400.0);
    CHECK(same_sen(b.energy_rm, 260.66));
    CHECK(same_sen(b.capacity_rm, 88.30));
    CHECK(same_sen(b.network_rm, 148.20));
    CHECK(same_sen(b.retail_rm, 20.00));
    CHECK(same_sen(b.re_fund_rm, 7.95));
    CHECK(b.service_tax_rm == 0.0);
    CHECK(same_sen(b.total_rm, 525.11));
    // By name, and an unknown name is refused naming the field.
    CHECK(Tariff::by_name("non_domestic_lv_tou").kind == TariffKind::NonDomesticLVToU);
    CHECK(std::string(tariff_name(TariffKind::NonDomesticLVToU)) == "non_domestic_lv_tou");
    CHECK_THROWS_AS(Tariff::by_name("commercial", "customers[3].tariff"), ValidationError);
}

TEST_CASE("billing: through the engine, a smart meter's half-hours bill as TNB's calculator") {
    // CIGRE LV, every load constant (no profile): load i draws the calculator's kWh over July 2025.
    Network net = cigre_lv();
    REQUIRE(net.loads.size() >= kCalculator.size());
    for (std::size_t i = 0; i < net.loads.size(); ++i) {
        Load& l = net.loads[i];
        const double kwh = kCalculator[i % kCalculator.size()].kwh;
        l.p_mw = kwh / (31 * 24) / 1000.0;
        l.q_mvar = 0.0;
        l.const_z_p_percent = l.const_i_p_percent = 0.0;
        l.scaling = 1.0;
    }
    SimulationOptions opt = melaka_billing();
    opt.start = JUL1_2025;
    opt.step_s = 1800;
    opt.meter_interval_s = 1800;
    opt.n_steps = 31 * 48;
    opt.output_path = libgrid_test::scratch_path("billing_calculator.h5");
    Simulation sim(net, DeviceSet{}, opt);
    const SimulationSummary s = sim.run();
    REQUIRE(sim.bills().size() == net.loads.size());
    double sum = 0.0;
    for (std::size_t i = 0; i < net.loads.size(); ++i) {
        REQUIRE(sim.bills()[i].size() == 1);
        check_bill(sim.bills()[i][0], kCalculator[i % kCalculator.size()]);
        sum += sim.bills()[i][0].total_rm;
    }
    CHECK(std::abs(s.bills_rm - sum) < 1e-6);  // bills_rm: the sum of the bills, KWTBB and SST included
    ResultsReader r(opt.output_path);
    CHECK(r.read_int_vector("/bill/full_month") == std::vector<std::int64_t>{1});
    CHECK(r.read_vector("/bill/days_covered") == std::vector<double>{31.0});
    CHECK(r.read_strings("/bill/tariff").at(0) == "domestic_general");
    CHECK(r.shape("/bill/re_fund_rm") == std::vector<std::size_t>{1, net.loads.size()});
    CHECK(r.shape("/bill/service_tax_rm") == std::vector<std::size_t>{1, net.loads.size()});
}

TEST_CASE("billing: a one-week run is flagged as partial in the bill and in /bill") {
    const Network net = cigre_lv();
    SimulationOptions opt = melaka_billing();
    opt.start = JUL7_2025;
    opt.step_s = 1800;
    opt.meter_interval_s = 1800;
    opt.n_steps = 7 * 48;
    opt.output_path = libgrid_test::scratch_path("billing_week.h5");
    Simulation sim(net, DeviceSet{}, opt);
    sim.run();
    for (const auto& bills : sim.bills()) {
        REQUIRE(bills.size() == 1);
        CHECK_FALSE(bills[0].full_month);
        CHECK(bills[0].days_covered == 7.0);
    }
    ResultsReader r(opt.output_path);
    CHECK(r.read_int_vector("/bill/full_month") == std::vector<std::int64_t>{0});
    CHECK(r.read_vector("/bill/days_covered") == std::vector<double>{7.0});
    CHECK(r.attribute("/bill", "partial_months") == "flag");
}

TEST_CASE("billing: re-billing a results file under ToU equals running it with ToU") {
    // Two months (July-August 2025) of CIGRE LV with residential profiles; no device reacts to the
    // tariff, so the meter series of both runs are the same.
    const Network net = cigre_lv();
    DeviceSet general, tou;
    for (const Load& l : net.loads) {
        LoadProfileSpec sp;
        sp.load = l.id;
        sp.cls = CustomerClass::Residential;
        sp.daily_kwh = 10.0 + double(l.id % 7) * 6.0;  // 10 .. 46 kWh/day: every band, KWTBB and SST
        general.load_profiles.push_back(sp);
        tou.load_profiles.push_back(sp);
        tou.tariffs.push_back(CustomerTariff{l.id, Tariff::tnb_domestic_tou(), ExportScheme::None});
    }
    SimulationOptions opt = melaka_billing();
    opt.start = JUL1_2025;
    opt.step_s = 1800;
    opt.meter_interval_s = 1800;
    opt.n_steps = 62 * 48;
    opt.output_path = libgrid_test::scratch_path("billing_general.h5");
    Simulation run_general(net, general, opt);
    run_general.run();
    opt.output_path = libgrid_test::scratch_path("billing_tou.h5");
    Simulation run_tou(net, tou, opt);
    run_tou.run();

    RebillOptions ro;
    ro.tariff = "domestic_tou";
    const Rebill r = rebill(libgrid_test::scratch_path("billing_general.h5"), ro);
    REQUIRE(r.customers == run_tou.bill_customers());
    std::size_t compared = 0, differ = 0;
    for (std::size_t c = 0; c < r.customers.size(); ++c) {
        REQUIRE(r.bills[c].size() == 2);
        for (std::size_t m = 0; m < 2; ++m) {
            const Bill& a = r.bills[c][m];
            const Bill& b = run_tou.bills()[c][m];
            ++compared;
            differ += !(a.import_kwh == b.import_kwh && a.peak_kwh == b.peak_kwh && same_sen(a.total_rm, b.total_rm) &&
                        same_sen(a.re_fund_rm, b.re_fund_rm) && same_sen(a.service_tax_rm, b.service_tax_rm));
        }
    }
    CHECK(compared == 2 * net.loads.size());
    CHECK(differ == 0);
    // Re-billing under the run's own tariffs gives the run's bills.
    const Rebill own = rebill(libgrid_test::scratch_path("billing_tou.h5"));
    CHECK(own.tariffs.at(0) == "domestic_tou");
    for (std::size_t c = 0; c < own.customers.size(); ++c)
        for (std::size_t m = 0; m < 2; ++m) CHECK(same_sen(own.bills[c][m].total_rm, run_tou.bills()[c][m].total_rm));
    // ToU and general differ on the same meter data (the test is not vacuous).
    double diff = 0.0;
    for (std::size_t c = 0; c < r.customers.size(); ++c) diff += std::abs(run_general.bills()[c][0].total_rm - r.bills[c][0].total_rm);
    CHECK(diff > 1.0);
    // Bad input is named.
    RebillOptions bad;
    bad.tariff = "commercial";
    CHECK_THROWS_AS(rebill(libgrid_test::scratch_path("billing_general.h5"), bad), ValidationError);
    RebillOptions who;
    who.customers = {123456};
    CHECK_THROWS_AS(rebill(libgrid_test::scratch_path("billing_general.h5"), who), ValidationError);
}
