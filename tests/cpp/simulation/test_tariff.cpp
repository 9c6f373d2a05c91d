// Tests of layer 7 economics: smart meters, TNB tariffs and bills, export credit, CO2.
// Rates: docs/sources/melaka_facts.md (see docs/tariffs.md). Local times below are seconds since
// 1970-01-01T00:00 local, computed independently with GNU date (`date -u -d 2025-07-01 +%s`), so the
// calendar arithmetic in tariff.cpp is checked against an outside oracle.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "libgrid/core/errors.hpp"
#include "libgrid/simulation/emissions.hpp"
#include "libgrid/simulation/meter.hpp"
#include "libgrid/simulation/tariff.hpp"

using namespace libgrid;

namespace {

constexpr std::int64_t H = 3600;
constexpr std::int64_t JUN1_2025 = 1748736000;  // Sunday
constexpr std::int64_t JUL1_2025 = 1751328000;  // Tuesday
constexpr std::int64_t JUL5_2025 = 1751673600;  // Saturday
constexpr std::int64_t JUL15_2025 = 1752537600; // Tuesday (a hypothetical public holiday in these tests)
constexpr std::int64_t JUL31_2025 = 1753920000; // Thursday
constexpr std::int64_t AUG1_2025 = 1754006400;  // Friday
constexpr std::int64_t AUG2_2025 = 1754092800;
constexpr std::int64_t SEP1_2025 = 1756684800;
constexpr std::int64_t DEC31_2025 = 1767139200;
constexpr std::int64_t JAN1_2026 = 1767225600;
constexpr std::int64_t JAN2_2026 = 1767312000;

constexpr double kTolRm = 1e-9;

template <class F>
std::string validation_error_of(F&& f) {
    try {
        f();
    } catch (const ValidationError& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("wrong exception type: ") + e.what();
    }
    return "(no exception)";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// These tests check the tariff's formula on exact kWh and unrounded RM (the docs' worked example):
// whole_kwh and round_to_sen off, and the bill before the KWTBB and SST lines (subtotal_rm, which
// was total_rm before issue 12). TNB's whole-kWh and sen conventions, KWTBB and SST are checked
// against hand-worked bills in test_billing.cpp.
std::vector<Bill> formula_bills(const Tariff& tariff, BillOptions options, std::int64_t start, std::int64_t interval_s,
                                const double* import_kwh, const double* export_kwh, std::size_t n) {
    options.whole_kwh = false;
    options.round_to_sen = false;
    return monthly_bills(tariff, options, start, interval_s, import_kwh, export_kwh, n);
}

std::vector<Bill> formula_bills(const Tariff& tariff, ExportScheme scheme, std::int64_t start, std::int64_t interval_s,
                                const double* import_kwh, const double* export_kwh, std::size_t n,
                                const std::vector<std::int64_t>& holidays = {}, double smp_sen_per_kwh = kDefaultSmpSenPerKwh) {
    BillOptions options;
    options.scheme = scheme;
    options.holidays = holidays;
    options.smp_sen_per_kwh = smp_sen_per_kwh;
    return formula_bills(tariff, options, start, interval_s, import_kwh, export_kwh, n);
}

/// One month of hourly data with all kWh of the month in interval 0 except `spread` kWh at 1 kWh per
/// interval (sums stay exact in binary floating point when the figures are multiples of 0.5).
std::vector<double> month_hourly(std::int64_t month_start, std::int64_t month_end, double first) {
    std::vector<double> e(static_cast<std::size_t>((month_end - month_start) / H), 0.0);
    e[0] = first;
    return e;
}

/// July 2025 at 1 kWh per 30-minute interval (0.125 kWh when total_kwh < 1,487) except interval 0
/// (July 1 00:00, off-peak), which makes the monthly total equal `total_kwh`. All values are multiples
/// of 1/8 kWh, so the monthly sums are exact.
std::vector<double> july_halfhourly_total(double total_kwh) {
    const std::size_t n = 31 * 48;
    const double base = total_kwh >= static_cast<double>(n - 1) ? 1.0 : 0.125;
    std::vector<double> e(n, base);
    e[0] = total_kwh - base * static_cast<double>(n - 1);
    REQUIRE(e[0] >= 0.0);
    return e;
}

}  // namespace

// -----------------------------------------------------------------------------------------------
// Bills

TEST_CASE("tariff: hand-worked domestic ToU bill for July 2025, Solar ATAP vs NEM on the same data") {
    // Data: 30-minute intervals over July 2025 (31 days, 1 July a Tuesday; 15 July a holiday here).
    //   import 0.5 kWh per interval 14:00-22:00, 0.25 kWh otherwise -> 16*0.5 + 32*0.25 = 16 kWh/day
    //   export 0.2 kWh per interval 12:00-16:00                        -> 8*0.2 = 1.6 kWh/day
    // Peak days: 23 weekdays - 1 holiday = 22.
    //   import 31*16 = 496 kWh; peak 22*8 = 176; off-peak 320.
    //   export 31*1.6 = 49.6 kWh; in the peak window (14:00-16:00 on peak days) 22*0.8 = 17.6; off-peak 32.0.
    //
    // Solar ATAP (credit at the energy charge of the same period; 496 <= 1,500 so first-block rates):
    //   energy   176*0.2852 + 320*0.2443 = 50.1952 + 78.1760 = 128.3712
    //   capacity 496*0.0455              =  22.5680
    //   network  496*0.1285              =  63.7360
    //   retail   0 (496 <= 600 kWh)
    //   EEI      496 kWh is in 451-500 -> 12.00 sen: 496*0.12 = 59.5200
    //   credit   17.6*0.2852 + 32*0.2443 = 5.01952 + 7.8176 = 12.83712 (cap 128.3712-59.52, not binding)
    //   total    128.3712 + 22.568 + 63.736 - 59.52 - 12.83712 = 142.31808
    // NEM (1:1 kWh offset, taken pro rata from peak/off-peak):
    //   billed 496 - 49.6 = 446.4 = 0.9*496 -> peak 158.4, off-peak 288.0
    //   energy 158.4*0.2852 + 288*0.2443 = 45.17568 + 70.3584 = 115.53408
    //   capacity 446.4*0.0455 = 20.3112; network 446.4*0.1285 = 57.3624; retail 0
    //   EEI 446.4 in 401-450 -> 14.5 sen: 64.728
    //   total 115.53408 + 20.3112 + 57.3624 - 64.728 = 128.47968
    //   export credit = (128.3712+22.568+63.736) - (115.53408+20.3112+57.3624) = 21.46752
    // NEM is cheaper by 142.31808 - 128.47968 = 13.8384.
    const std::int64_t interval = 1800;
    const std::size_t n = 31 * 48;
    std::vector<double> imp(n), exp(n);
    for (std::size_t k = 0; k < n; ++k) {
        const std::int64_t hour = (static_cast<std::int64_t>(k) * interval % 86400) / H;
        imp[k] = (hour >= 14 && hour < 22) ? 0.5 : 0.25;
        exp[k] = (hour >= 12 && hour < 16) ? 0.2 : 0.0;
    }
    const Tariff tou = Tariff::tnb_domestic_tou();
    const std::vector<std::int64_t> holidays{JUL15_2025};

    const auto atap = formula_bills(tou, ExportScheme::SolarATAP, JUL1_2025, interval, imp.data(), exp.data(), n, holidays);
    REQUIRE(atap.size() == 1);
    const Bill& a = atap[0];
    CHECK(a.year == 2025);
    CHECK(a.month == 7);
    CHECK(a.full_month);
    CHECK(a.import_kwh == doctest::Approx(496.0).epsilon(1e-14));
    CHECK(a.export_kwh == doctest::Approx(49.6).epsilon(1e-13));
    CHECK(a.peak_kwh == doctest::Approx(176.0).epsilon(1e-14));
    CHECK(a.offpeak_kwh == doctest::Approx(320.0).epsilon(1e-14));
    CHECK(std::abs(a.energy_rm - 128.3712) < kTolRm);
    CHECK(std::abs(a.capacity_rm - 22.568) < kTolRm);
    CHECK(std::abs(a.network_rm - 63.736) < kTolRm);
    CHECK(a.retail_rm == 0.0);
    CHECK(std::abs(a.eei_rebate_rm - 59.52) < kTolRm);
    CHECK(std::abs(a.export_credit_rm - 12.83712) < kTolRm);
    CHECK(a.export_credit_lost_rm == 0.0);
    CHECK(std::abs(a.subtotal_rm - 142.31808) < kTolRm);

    BillOptions nem_options;
    nem_options.scheme = ExportScheme::NEM;
    nem_options.holidays = holidays;
    const auto nem = formula_bills(tou, nem_options, JUL1_2025, interval, imp.data(), exp.data(), n);
    REQUIRE(nem.size() == 1);
    const Bill& b = nem[0];
    CHECK(std::abs(b.offset_kwh - 49.6) < 1e-9);
    CHECK(std::abs(b.billed_kwh - 446.4) < 1e-9);
    CHECK(std::abs(b.energy_rm - 128.3712) < kTolRm);  // shown on the metered import
    CHECK(std::abs(b.eei_rebate_rm - 64.728) < kTolRm);
    CHECK(std::abs(b.export_credit_rm - 21.46752) < kTolRm);
    CHECK(std::abs(b.subtotal_rm - 128.47968) < kTolRm);
    CHECK(b.nem_bank_kwh == 0.0);
    CHECK(std::abs((a.subtotal_rm - b.subtotal_rm) - 13.8384) < kTolRm);

    // Without the holiday, 15 July's 8 peak kWh are billed at peak instead of off-peak.
    const auto no_holiday = formula_bills(tou, ExportScheme::None, JUL1_2025, interval, imp.data(), exp.data(), n);
    CHECK(no_holiday[0].peak_kwh == doctest::Approx(184.0).epsilon(1e-14));
    CHECK(std::abs(no_holiday[0].energy_rm - (184 * 28.52 + 312 * 24.43) / 100.0) < kTolRm);
    CHECK(no_holiday[0].export_credit_rm == 0.0);

    // The same holiday given as a predicate gives the same bill.
    BillOptions pred_options;
    pred_options.scheme = ExportScheme::SolarATAP;
    pred_options.is_holiday = [](std::int64_t midnight) { return midnight == JUL15_2025; };
    const auto by_predicate = formula_bills(tou, pred_options, JUL1_2025, interval, imp.data(), exp.data(), n);
    CHECK(by_predicate[0].subtotal_rm == a.subtotal_rm);
}

TEST_CASE("tariff: energy block boundary at 1,500 kWh") {
    const Tariff general = Tariff::tnb_domestic_general();
    const auto bill_for = [](const Tariff& t, double total) {
        const auto e = july_halfhourly_total(total);
        const auto bills = formula_bills(t, ExportScheme::None, JUL1_2025, 1800, e.data(), nullptr, e.size());
        REQUIRE(bills.size() == 1);
        REQUIRE(bills[0].import_kwh == total);
        return bills[0];
    };
    // At 1,500 kWh the first-block rate applies (melaka.md: 27.03 "up to 1,500 kWh").
    CHECK(std::abs(bill_for(general, 1500.0).energy_rm - 1500 * 0.2703) < kTolRm);  // 405.45
    // Just above: whole-month rule (default) puts every kWh at 37.03.
    CHECK(std::abs(bill_for(general, 1500.5).energy_rm - 555.63515) < kTolRm);
    // Marginal rule: only the kWh above 1,500 at 37.03.
    Tariff marginal = general;
    marginal.block_rule = BlockRule::Marginal;
    CHECK(std::abs(bill_for(marginal, 1600.0).energy_rm - (405.45 + 37.03)) < kTolRm);
    CHECK(std::abs(bill_for(marginal, 1500.0).energy_rm - 405.45) < kTolRm);
    // Capacity and network are flat per kWh on both sides of the block.
    CHECK(std::abs(bill_for(general, 1600.0).capacity_rm - 1600 * 0.0455) < kTolRm);

    // ToU: July 2025 has 23 weekdays * 16 half-hours = 368 peak intervals of 1 kWh; the rest off-peak.
    const Tariff tou = Tariff::tnb_domestic_tou();
    const Bill t1500 = bill_for(tou, 1500.0);
    CHECK(t1500.peak_kwh == 368.0);
    CHECK(std::abs(t1500.energy_rm - 381.5012) < kTolRm);  // 368*0.2852 + 1132*0.2443
    const Bill t1600 = bill_for(tou, 1600.0);
    CHECK(std::abs(t1600.energy_rm - 565.9312) < kTolRm);  // 368*0.3852 + 1232*0.3443
}

TEST_CASE("tariff: retail charge waived at or below 600 kWh, EEI bands, fuel adjustment") {
    const Tariff general = Tariff::tnb_domestic_general();
    const auto bill_for = [](const Tariff& t, double total) {
        const auto e = july_halfhourly_total(total);
        return formula_bills(t, ExportScheme::None, JUL1_2025, 1800, e.data(), nullptr, e.size()).at(0);
    };
    const Bill b600 = bill_for(general, 600.0);
    const Bill b6005 = bill_for(general, 600.5);
    CHECK(b600.retail_rm == 0.0);
    CHECK(b6005.retail_rm == 10.0);
    for (const Bill& b : {b600, b6005})
        CHECK(std::abs(b.subtotal_rm - (b.energy_rm + b.capacity_rm + b.network_rm + b.fuel_rm + b.retail_rm -
                                     b.eei_rebate_rm - b.export_credit_rm)) < kTolRm);
    // EEI: 551-600 -> 9.0 sen; 601-650 -> 7.5 sen, on all kWh.
    CHECK(std::abs(b600.eei_rebate_rm - 600 * 0.09) < kTolRm);
    CHECK(std::abs(b6005.eei_rebate_rm - 600.5 * 0.075) < kTolRm);
    CHECK(std::abs(bill_for(general, 200.0).eei_rebate_rm - 50.0) < kTolRm);    // 25 sen at 1-200 (melaka.md)
    CHECK(std::abs(bill_for(general, 1000.0).eei_rebate_rm - 5.0) < kTolRm);    // 0.5 sen at 901-1,000
    CHECK(bill_for(general, 1000.5).eei_rebate_rm == 0.0);                     // 0 above 1,000 (melaka.md)
    // Non-domestic: retail never waived (RM20 ASSUMPTION), no EEI.
    const Bill nd = bill_for(Tariff::tnb_non_domestic_lv(), 1488.0);
    CHECK(nd.retail_rm == 20.0);
    CHECK(nd.eei_rebate_rm == 0.0);
    CHECK(std::abs(nd.capacity_rm - 1488 * 0.0883) < kTolRm);
    CHECK(std::abs(nd.network_rm - 1488 * 0.1482) < kTolRm);
    // Fuel adjustment: waived at or below 600 kWh for domestic (ASSUMPTION), charged above.
    Tariff afa = general;
    afa.fuel_adjustment_sen_per_kwh = 2.0;
    CHECK(bill_for(afa, 600.0).fuel_rm == 0.0);
    CHECK(std::abs(bill_for(afa, 700.0).fuel_rm - 14.0) < kTolRm);
    afa.fuel_adjustment_sen_per_kwh = -1.0;  // a discount
    CHECK(std::abs(bill_for(afa, 700.0).fuel_rm + 7.0) < kTolRm);
}

TEST_CASE("tariff: NEM roll-over and Solar ATAP cap and SMP") {
    const Tariff general = Tariff::tnb_domestic_general();
    // June 2025: import 100, export 300; July: import 500, export 100 (hourly intervals).
    std::vector<double> imp = month_hourly(JUN1_2025, JUL1_2025, 100.0);
    std::vector<double> exp = month_hourly(JUN1_2025, JUL1_2025, 300.0);
    const auto jul_imp = month_hourly(JUL1_2025, AUG1_2025, 500.0);
    const auto jul_exp = month_hourly(JUL1_2025, AUG1_2025, 100.0);
    imp.insert(imp.end(), jul_imp.begin(), jul_imp.end());
    exp.insert(exp.end(), jul_exp.begin(), jul_exp.end());

    BillOptions opt;
    opt.scheme = ExportScheme::NEM;  // default roll-over: 12 months
    auto bills = formula_bills(general, opt, JUN1_2025, H, imp.data(), exp.data(), imp.size());
    REQUIRE(bills.size() == 2);
    CHECK(bills[0].month == 6);
    CHECK(bills[0].billed_kwh == 0.0);
    CHECK(bills[0].nem_bank_kwh == 200.0);
    CHECK(bills[0].retail_rm == 0.0);
    CHECK(bills[0].subtotal_rm == 0.0);
    CHECK(bills[1].nem_carried_in_kwh == 200.0);
    CHECK(bills[1].offset_kwh == 300.0);
    CHECK(bills[1].billed_kwh == 200.0);
    CHECK(bills[1].nem_bank_kwh == 0.0);
    // 200 kWh billed: (27.03 + 4.55 + 12.85 - 25) sen * 200 = RM 38.86
    CHECK(std::abs(bills[1].subtotal_rm - 38.86) < kTolRm);

    opt.nem_rollover_months = 0;  // no carry-over
    bills = formula_bills(general, opt, JUN1_2025, H, imp.data(), exp.data(), imp.size());
    CHECK(bills[0].nem_lapsed_kwh == 200.0);
    CHECK(bills[0].nem_bank_kwh == 0.0);
    CHECK(bills[1].billed_kwh == 400.0);

    // Lapse after nem_rollover_months: June's surplus usable in July only; lapses in August.
    {
        std::vector<double> i3 = month_hourly(JUN1_2025, JUL1_2025, 100.0);
        std::vector<double> e3 = month_hourly(JUN1_2025, JUL1_2025, 300.0);
        const auto zero = month_hourly(JUL1_2025, AUG1_2025, 0.0);
        const auto aug_imp = month_hourly(AUG1_2025, SEP1_2025, 50.0);
        const auto aug_exp = month_hourly(AUG1_2025, SEP1_2025, 0.0);
        i3.insert(i3.end(), zero.begin(), zero.end());
        e3.insert(e3.end(), zero.begin(), zero.end());
        i3.insert(i3.end(), aug_imp.begin(), aug_imp.end());
        e3.insert(e3.end(), aug_exp.begin(), aug_exp.end());
        opt.nem_rollover_months = 1;
        bills = formula_bills(general, opt, JUN1_2025, H, i3.data(), e3.data(), i3.size());
        REQUIRE(bills.size() == 3);
        CHECK(bills[1].nem_bank_kwh == 200.0);
        CHECK(bills[1].nem_lapsed_kwh == 0.0);
        CHECK(bills[2].nem_lapsed_kwh == 200.0);
        CHECK(bills[2].billed_kwh == 50.0);
    }

    // Solar ATAP: credits do not carry over, and cannot make the energy charge (net of EEI) negative.
    {
        const auto i1 = month_hourly(JUL1_2025, AUG1_2025, 100.0);
        const auto e1 = month_hourly(JUL1_2025, AUG1_2025, 1000.0);
        const Bill a = formula_bills(general, ExportScheme::SolarATAP, JUL1_2025, H, i1.data(), e1.data(), i1.size()).at(0);
        // energy 27.03, EEI 25.00 -> cap 2.03; raw credit 1000*0.2703 = 270.30
        CHECK(std::abs(a.export_credit_rm - 2.03) < kTolRm);
        CHECK(std::abs(a.export_credit_lost_rm - 268.27) < kTolRm);
        CHECK(std::abs(a.subtotal_rm - (4.55 + 12.85)) < kTolRm);  // capacity + network remain
        CHECK(a.nem_bank_kwh == 0.0);
    }
    // Non-domestic Solar ATAP: export at the system marginal price.
    {
        const auto i1 = month_hourly(JUL1_2025, AUG1_2025, 1000.0);
        const auto e1 = month_hourly(JUL1_2025, AUG1_2025, 200.0);
        const Tariff nd = Tariff::tnb_non_domestic_lv();
        const Bill smp20 = formula_bills(nd, ExportScheme::SolarATAP, JUL1_2025, H, i1.data(), e1.data(), i1.size(), {}, 20.0).at(0);
        CHECK(std::abs(smp20.export_credit_rm - 40.0) < kTolRm);
        // 1000*(27.03 + 8.83 + 14.82)/100 + 20 - 40
        CHECK(std::abs(smp20.subtotal_rm - 486.8) < kTolRm);
        const Bill smp_default = formula_bills(nd, ExportScheme::SolarATAP, JUL1_2025, H, i1.data(), e1.data(), i1.size()).at(0);
        CHECK(std::abs(smp_default.export_credit_rm - 200 * kDefaultSmpSenPerKwh / 100.0) < kTolRm);
        const Bill none = formula_bills(nd, ExportScheme::None, JUL1_2025, H, i1.data(), e1.data(), i1.size()).at(0);
        CHECK(none.export_credit_rm == 0.0);
        CHECK(std::abs(none.subtotal_rm - smp20.subtotal_rm - 40.0) < kTolRm);
    }
}

TEST_CASE("tariff: peak classification") {
    const Tariff tou = Tariff::tnb_domestic_tou();
    const std::int64_t m = 60;
    CHECK_FALSE(is_peak(tou, JUL1_2025 + 13 * H + 59 * m));  // Tuesday 13:59
    CHECK(is_peak(tou, JUL1_2025 + 14 * H));                 // 14:00
    CHECK(is_peak(tou, JUL1_2025 + 21 * H + 59 * m));        // 21:59
    CHECK_FALSE(is_peak(tou, JUL1_2025 + 22 * H));           // 22:00
    CHECK_FALSE(is_peak(tou, JUL5_2025 + 15 * H));           // Saturday
    CHECK_FALSE(is_peak(tou, JUL5_2025 + 86400 + 15 * H));   // Sunday
    CHECK(is_peak(tou, AUG1_2025 + 15 * H));                 // Friday
    CHECK(is_peak(tou, JUL15_2025 + 15 * H));                // Tuesday, no holiday given
    CHECK_FALSE(is_peak(tou, JUL15_2025 + 15 * H, std::vector<std::int64_t>{JUL1_2025, JUL15_2025}));
    CHECK_FALSE(is_peak(tou, JUL15_2025 + 15 * H, [](std::int64_t d) { return d == JUL15_2025; }));
    CHECK(is_peak(tou, JUL15_2025 + 15 * H, [](std::int64_t d) { return d == JUL1_2025; }));
    CHECK(is_peak(tou, -86400 + 15 * H));  // Wednesday 1969-12-31 15:00 (floor division before the epoch)
    CHECK_FALSE(is_peak(tou, -5 * 86400 + 15 * H));  // Saturday 1969-12-27
    const std::string msg = validation_error_of([&] { is_peak(tou, JUL1_2025, std::vector<std::int64_t>{JUL15_2025 + H}); });
    CHECK(contains(msg, "holidays[0]"));
}

TEST_CASE("tariff: bills split at calendar month boundaries in local time") {
    const Tariff general = Tariff::tnb_domestic_general();
    {
        // 31 July and 1 August 2025 at 15 minutes, 1 kWh per interval.
        const std::vector<double> e(static_cast<std::size_t>((AUG2_2025 - JUL31_2025) / 900), 1.0);
        const auto bills = formula_bills(general, ExportScheme::None, JUL31_2025, 900, e.data(), nullptr, e.size());
        REQUIRE(bills.size() == 2);
        CHECK(bills[0].year == 2025);
        CHECK(bills[0].month == 7);
        CHECK(bills[0].import_kwh == 96.0);
        CHECK(bills[0].period_start == JUL31_2025);
        CHECK(bills[0].period_end == AUG1_2025);
        CHECK_FALSE(bills[0].full_month);
        CHECK(bills[1].month == 8);
        CHECK(bills[1].import_kwh == 96.0);
        CHECK(bills[1].period_start == AUG1_2025);
        CHECK(bills[1].period_end == AUG2_2025);
        // Each month is billed on its own kWh (partial months not pro-rated).
        CHECK(std::abs(bills[1].energy_rm - 96 * 0.2703) < kTolRm);
    }
    {
        // Year boundary.
        const std::vector<double> e(static_cast<std::size_t>((JAN2_2026 - DEC31_2025) / 1800), 0.5);
        const auto bills = formula_bills(general, ExportScheme::None, DEC31_2025, 1800, e.data(), nullptr, e.size());
        REQUIRE(bills.size() == 2);
        CHECK((bills[0].year == 2025 && bills[0].month == 12));
        CHECK((bills[1].year == 2026 && bills[1].month == 1));
        CHECK(bills[0].period_end == JAN1_2026);
        CHECK(bills[0].import_kwh == 24.0);
        CHECK(bills[1].import_kwh == 24.0);
    }
    {
        // A whole month is flagged full; June 2025 has 30 days.
        const auto e = month_hourly(JUN1_2025, JUL1_2025, 10.0);
        CHECK(e.size() == 720);
        const auto bills = formula_bills(general, ExportScheme::None, JUN1_2025, H, e.data(), nullptr, e.size());
        REQUIRE(bills.size() == 1);
        CHECK(bills[0].full_month);
        CHECK(bills[0].month == 6);
    }
}

TEST_CASE("tariff: bad inputs give ValidationError naming the field") {
    const Tariff general = Tariff::tnb_domestic_general();
    std::vector<double> e(96, 1.0);
    const auto run = [&](std::int64_t start, std::int64_t interval, const double* exp_kwh = nullptr) {
        return validation_error_of(
            [&] { formula_bills(general, ExportScheme::NEM, start, interval, e.data(), exp_kwh, e.size()); });
    };
    e[2] = std::numeric_limits<double>::quiet_NaN();
    std::string msg = run(JUL1_2025, 900);
    CHECK(contains(msg, "import_kwh[2]"));
    CHECK(contains(msg, "2025-07-01 00:30"));
    e[2] = 1.0;
    e[1] = -0.5;
    msg = run(JUL1_2025, 900);
    CHECK(contains(msg, "import_kwh[1]"));
    CHECK(contains(msg, "negative"));
    e[1] = 1.0;
    std::vector<double> bad_exp(96, 0.0);
    bad_exp[5] = -1.0;
    CHECK(contains(run(JUL1_2025, 900, bad_exp.data()), "export_kwh[5]"));
    CHECK(contains(run(JUL1_2025, 1000), "interval_s"));
    CHECK(contains(run(JUL1_2025 + 60, 900), "'start'"));
    CHECK(contains(run(JUL1_2025, 900), "(no exception)"));  // the fixed data are accepted

    Tariff broken = general;
    broken.capacity_sen_per_kwh = std::numeric_limits<double>::quiet_NaN();
    msg = validation_error_of([&] { formula_bills(broken, ExportScheme::None, JUL1_2025, 900, e.data(), nullptr, e.size()); });
    CHECK(contains(msg, "capacity_sen_per_kwh"));
    broken = general;
    broken.peak_end_hour = 25;
    CHECK(contains(validation_error_of([&] { validate(broken); }), "peak_start_hour"));
    broken = general;
    broken.eei_bands[3].up_to_kwh = 100.0;  // not increasing
    CHECK(contains(validation_error_of([&] { validate(broken); }), "eei_bands[3].up_to_kwh"));
    BillOptions o;
    o.holidays = {JUL1_2025 + 5};
    CHECK(contains(validation_error_of([&] { formula_bills(general, o, JUL1_2025, 900, e.data(), nullptr, e.size()); }),
                   "holidays[0]"));
    o = BillOptions{};
    o.smp_sen_per_kwh = -1.0;
    CHECK(contains(validation_error_of([&] { formula_bills(general, o, JUL1_2025, 900, e.data(), nullptr, e.size()); }),
                   "smp_sen_per_kwh"));
}

// -----------------------------------------------------------------------------------------------
// Meters

TEST_CASE("meter: 15-minute intervals from 5-minute steps, netting within a step only") {
    SmartMeter meter(JUL1_2025, 300, 900);
    // Interval 0: +6, -3, +3 kW for 5 min each -> import (6+3)/12 = 0.75 kWh, export 3/12 = 0.25 kWh.
    // Interval 1: -12, -12, +24 kW -> import 2.0, export 2.0 (not netted to 0 within the interval).
    for (double p : {6.0, -3.0, 3.0, -12.0, -12.0, 24.0}) meter.add(p);
    REQUIRE(meter.n_intervals() == 2);
    CHECK(meter.import_kwh()[0] == doctest::Approx(0.75).epsilon(1e-15));
    CHECK(meter.export_kwh()[0] == doctest::Approx(0.25).epsilon(1e-15));
    CHECK(meter.import_kwh()[1] == doctest::Approx(2.0).epsilon(1e-15));
    CHECK(meter.export_kwh()[1] == doctest::Approx(2.0).epsilon(1e-15));
    CHECK(meter.last_interval_complete());
    CHECK(meter.interval_start(1) == JUL1_2025 + 900);
    meter.add(0.0);
    CHECK(meter.n_intervals() == 3);
    CHECK_FALSE(meter.last_interval_complete());
    CHECK(meter.import_kwh()[2] == 0.0);
    CHECK(meter.export_kwh()[2] == 0.0);
}

TEST_CASE("meter: 30-minute intervals from 15-minute steps; energy conserved") {
    SmartMeter m30(JUL1_2025, 900, 1800);
    for (double p : {4.0, -2.0, 1.0, 1.0}) m30.add(p);
    REQUIRE(m30.n_intervals() == 2);
    CHECK(m30.import_kwh()[0] == doctest::Approx(1.0).epsilon(1e-15));
    CHECK(m30.export_kwh()[0] == doctest::Approx(0.5).epsilon(1e-15));
    CHECK(m30.import_kwh()[1] == doctest::Approx(0.5).epsilon(1e-15));
    CHECK(m30.export_kwh()[1] == 0.0);

    // A day of 5-minute steps of a load swinging between import and export, into 15-minute intervals.
    SmartMeter m(JUL1_2025, 300, 900, 288);
    double sum_p_dt = 0.0, sum_abs = 0.0;
    for (int k = 0; k < 288; ++k) {
        const double p = 5.0 * std::sin(0.37 * k) + 1.0;
        m.add(p);
        sum_p_dt += p * 300.0 / 3600.0;
        sum_abs += std::abs(p) * 300.0 / 3600.0;
    }
    REQUIRE(m.n_intervals() == 96);
    double imp = 0.0, exp = 0.0;
    for (std::size_t k = 0; k < m.n_intervals(); ++k) {
        CHECK(m.import_kwh()[k] >= 0.0);
        CHECK(m.export_kwh()[k] >= 0.0);
        imp += m.import_kwh()[k];
        exp += m.export_kwh()[k];
    }
    CHECK(std::abs((imp - exp) - sum_p_dt) < 1e-9);
    CHECK(std::abs((imp + exp) - sum_abs) < 1e-9);  // gross: nothing netted across steps
    CHECK(exp > 1.0);
}

TEST_CASE("meter: MeterTable matches SmartMeter per customer, pre-sized, customer-major") {
    const std::size_t nc = 3;
    const std::size_t horizon = 7;  // 5-minute steps -> 3 intervals of 15 minutes (last one partial)
    MeterTable table(nc, JUL1_2025, 300, 900, horizon);
    CHECK(table.n_intervals() == 3);
    std::vector<SmartMeter> meters(nc, SmartMeter(JUL1_2025, 300, 900));
    const double* data_before = table.import_kwh().data();
    std::vector<double> p(nc);
    for (std::size_t s = 0; s < horizon; ++s) {
        for (std::size_t c = 0; c < nc; ++c) p[c] = std::cos(1.3 * static_cast<double>(s) + 2.1 * static_cast<double>(c)) * (1.0 + static_cast<double>(c));
        table.add_step(p.data(), nc);
        for (std::size_t c = 0; c < nc; ++c) meters[c].add(p[c]);
    }
    CHECK(table.import_kwh().data() == data_before);
    for (std::size_t c = 0; c < nc; ++c)
        for (std::size_t k = 0; k < table.n_intervals(); ++k) {
            CHECK(table.import_kwh(c)[k] == meters[c].import_kwh()[k]);
            CHECK(table.export_kwh(c)[k] == meters[c].export_kwh()[k]);
            CHECK(table.import_kwh()[c * table.n_intervals() + k] == meters[c].import_kwh()[k]);
        }

    // Errors: horizon exhausted, wrong count, NaN (which leaves the table unchanged).
    CHECK(contains(validation_error_of([&] { table.add_step(p.data(), nc); }), "horizon_steps"));
    MeterTable t2(nc, JUL1_2025, 300, 900, horizon);
    CHECK(contains(validation_error_of([&] { t2.add_step(p.data(), nc - 1); }), "n_customers"));
    p[1] = std::numeric_limits<double>::quiet_NaN();
    const std::string msg = validation_error_of([&] { t2.add_step(p.data(), nc); });
    CHECK(contains(msg, "net_kw[1]"));
    CHECK(t2.steps() == 0);
    CHECK(t2.import_kwh(0)[0] == 0.0);
    CHECK(t2.export_kwh(0)[0] == 0.0);
    CHECK(contains(validation_error_of([&] { (void)t2.import_kwh(nc); }), "customer"));
}

TEST_CASE("meter: bad time grids and values give ValidationError naming the field") {
    std::string msg = validation_error_of([] { SmartMeter m(JUL1_2025, 600, 900); });
    CHECK(contains(msg, "interval_s"));
    CHECK(contains(msg, "multiple"));
    msg = validation_error_of([] { SmartMeter m(JUL1_2025, 1800, 900); });
    CHECK(contains(msg, "sim_step_s"));
    CHECK(contains(msg, "longer than the metering interval"));
    CHECK(contains(validation_error_of([] { MeterTable t(2, JUL1_2025, 300, 1500, 10); }), "interval_s"));  // not a divisor of 1 h
    CHECK(contains(validation_error_of([] { SmartMeter m(JUL1_2025 + 300, 300, 900); }), "'start'"));
    CHECK(contains(validation_error_of([] { SmartMeter m(JUL1_2025, 0, 900); }), "sim_step_s"));
    SmartMeter m(JUL1_2025, 300, 900);
    msg = validation_error_of([&] { m.add(std::numeric_limits<double>::quiet_NaN()); });
    CHECK(contains(msg, "p_import_kw"));
    CHECK(m.steps() == 0);
}

TEST_CASE("meter -> bill -> CO2: a MeterTable row feeds monthly_bills and co2_tonnes_from_kwh") {
    // One customer importing a steady 2 kW for all of July 2025 at 15-minute steps into 30-minute intervals.
    const std::size_t steps = 31 * 96;
    MeterTable table(1, JUL1_2025, 900, 1800, steps);
    const double p = 2.0;
    for (std::size_t s = 0; s < steps; ++s) table.add_step(&p, 1);
    const auto bills = formula_bills(Tariff::tnb_domestic_general(), ExportScheme::None, table.start(),
                                     table.interval_s(), table.import_kwh(0), table.export_kwh(0), table.n_intervals());
    REQUIRE(bills.size() == 1);
    CHECK(bills[0].import_kwh == doctest::Approx(2.0 * 24 * 31).epsilon(1e-14));  // 1,488 kWh
    const double t = co2_tonnes_from_kwh(EmissionFactor{}, table.start(), table.interval_s(), table.import_kwh(0),
                                         table.n_intervals());
    CHECK(t == doctest::Approx(1.488 * 0.78).epsilon(1e-13));
}

// -----------------------------------------------------------------------------------------------
// CO2

TEST_CASE("emissions: constant and time-varying factor") {
    const EmissionFactor constant;  // 0.78 t/MWh (melaka.md)
    const std::vector<double> mwh{1.0, 2.0, 7.0};
    CHECK(co2_tonnes(constant, JUL1_2025, 1800, mwh.data(), mwh.size()) == doctest::Approx(7.8).epsilon(1e-14));
    CHECK(co2_tonnes_from_kwh(constant, JUL1_2025, 1800, std::vector<double>{1000.0}.data(), 1) ==
          doctest::Approx(0.78).epsilon(1e-14));
    EmissionFactor other;
    other.t_per_mwh = 0.652;  // another figure in melaka.md
    CHECK(co2_tonnes(other, JUL1_2025, 1800, mwh.data(), mwh.size()) == doctest::Approx(6.52).epsilon(1e-14));

    // Hourly factor 0.5 then 1.0; four half-hours of 1 MWh -> 0.5 + 0.5 + 1.0 + 1.0 = 3.0 t.
    EmissionFactor hourly;
    hourly.series = {0.5, 1.0};
    hourly.start = JUL1_2025;
    hourly.step_s = H;
    CHECK(hourly.at(JUL1_2025) == 0.5);
    CHECK(hourly.at(JUL1_2025 + H - 1) == 0.5);
    CHECK(hourly.at(JUL1_2025 + H) == 1.0);
    const std::vector<double> four(4, 1.0);
    CHECK(co2_tonnes(hourly, JUL1_2025, 1800, four.data(), 4) == doctest::Approx(3.0).epsilon(1e-14));
    // An hour straddling both factor values (00:30-01:30): mean 0.75 -> 2 MWh * 0.75 = 1.5 t.
    const std::vector<double> two{2.0};
    CHECK(co2_tonnes(hourly, JUL1_2025 + 1800, H, two.data(), 1) == doctest::Approx(1.5).epsilon(1e-14));
    // Factor finer than the energy interval: 30-min 0.4, 0.6 under one hour of 2 MWh -> 1.0 t.
    EmissionFactor fine;
    fine.series = {0.4, 0.6};
    fine.start = JUL1_2025;
    fine.step_s = 1800;
    CHECK(co2_tonnes(fine, JUL1_2025, H, two.data(), 1) == doctest::Approx(1.0).epsilon(1e-14));

    // Outside the series, bad factor values and bad energies are errors naming the field.
    CHECK(contains(validation_error_of([&] { (void)hourly.at(JUL1_2025 + 2 * H); }), "series"));
    const std::vector<double> five(5, 1.0);  // the fifth half-hour lies past the 2-hour series
    CHECK(contains(validation_error_of([&] { co2_tonnes(hourly, JUL1_2025, 1800, five.data(), 5); }), "series"));
    std::vector<double> bad{1.0, std::numeric_limits<double>::quiet_NaN()};
    CHECK(contains(validation_error_of([&] { co2_tonnes(constant, JUL1_2025, 1800, bad.data(), 2); }), "import_mwh[1]"));
    bad[1] = -1.0;
    CHECK(contains(validation_error_of([&] { co2_tonnes(constant, JUL1_2025, 1800, bad.data(), 2); }), "import_mwh[1]"));
    EmissionFactor broken = hourly;
    broken.series[1] = -0.1;
    CHECK(contains(validation_error_of([&] { validate(broken); }), "series[1]"));
    broken = EmissionFactor{};
    broken.t_per_mwh = std::numeric_limits<double>::quiet_NaN();
    CHECK(contains(validation_error_of([&] { co2_tonnes(broken, JUL1_2025, 1800, mwh.data(), 3); }), "t_per_mwh"));
}
