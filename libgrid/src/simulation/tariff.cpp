// libgrid layer 7: TNB tariffs and monthly bills (see simulation/tariff.hpp and docs/tariffs.md).
// Figures: docs/sources/melaka_facts.md unless marked ASSUMPTION.
#include "libgrid/simulation/tariff.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <optional>
#include <string>

#include "libgrid/core/errors.hpp"

namespace libgrid {

namespace {

// ---------------------------------------------------------------------------------------------
// Private civil-date helper (local time, proleptic Gregorian calendar). Deliberately independent of
// profiles/calendar.hpp. Algorithms: H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"
// (days_from_civil / civil_from_days).

constexpr std::int64_t kSecondsPerDay = 86400;
constexpr std::int64_t kSecondsPerHour = 3600;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

std::int64_t floor_mod(std::int64_t a, std::int64_t b) { return a - floor_div(a, b) * b; }

/// Days since 1970-01-01 of the civil date y-m-d (m 1..12, d 1..31).
std::int64_t days_from_civil(std::int64_t y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = floor_div(y, 400);
    const std::int64_t yoe = y - era * 400;                                          // [0, 399]
    const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;          // [0, 365]
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                   // [0, 146096]
    return era * 146097 + doe - 719468;
}

struct CivilDate {
    std::int64_t year;
    int month;  // 1..12
    int day;    // 1..31
};

CivilDate civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = floor_div(z, 146097);
    const std::int64_t doe = z - era * 146097;                                        // [0, 146096]
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;   // [0, 399]
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                 // [0, 365]
    const std::int64_t mp = (5 * doy + 2) / 153;                                      // [0, 11]
    const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

/// 0 = Monday .. 6 = Sunday; 1970-01-01 was a Thursday.
int weekday_from_days(std::int64_t z) { return static_cast<int>(floor_mod(z + 3, 7)); }

std::string format_local(std::int64_t t) {
    const std::int64_t z = floor_div(t, kSecondsPerDay);
    const std::int64_t s = t - z * kSecondsPerDay;
    const CivilDate c = civil_from_days(z);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d %02lld:%02lld", static_cast<long long>(c.year), c.month,
                  c.day, static_cast<long long>(s / 3600), static_cast<long long>((s % 3600) / 60));
    return buf;
}

std::string num(double x) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", x);
    return buf;
}

[[noreturn]] void fail(const std::string& component, const std::string& field, const std::string& message) {
    throw ValidationError(component + ": field '" + field + "': " + message);
}

// ---------------------------------------------------------------------------------------------
// Peak window

bool in_peak_hours(const Tariff& tariff, std::int64_t t, std::int64_t day) {
    if (weekday_from_days(day) >= 5) return false;  // Saturday, Sunday
    const std::int64_t hour = (t - day * kSecondsPerDay) / kSecondsPerHour;
    return hour >= tariff.peak_start_hour && hour < tariff.peak_end_hour;
}

void check_peak_hours(const Tariff& tariff) {
    if (!(0 <= tariff.peak_start_hour && tariff.peak_start_hour < tariff.peak_end_hour &&
          tariff.peak_end_hour <= 24))
        fail("Tariff '" + tariff.name + "'", "peak_start_hour",
             "peak window [" + std::to_string(tariff.peak_start_hour) + ", " + std::to_string(tariff.peak_end_hour) +
                 ") h must satisfy 0 <= start < end <= 24");
}

void check_holidays(const std::string& component, const std::vector<std::int64_t>& holidays) {
    for (std::size_t i = 0; i < holidays.size(); ++i)
        if (floor_mod(holidays[i], kSecondsPerDay) != 0)
            fail(component, "holidays[" + std::to_string(i) + "]",
                 std::to_string(holidays[i]) + " s is not a local midnight (a multiple of 86400 s): " +
                     format_local(holidays[i]));
}

// ---------------------------------------------------------------------------------------------
// Charges of a month as functions of its kWh

struct Charges {
    double energy_rm = 0.0;
    double capacity_rm = 0.0;
    double network_rm = 0.0;
    double fuel_rm = 0.0;
    double sum() const { return energy_rm + capacity_rm + network_rm + fuel_rm; }
};

/// Per-kWh charges for a month with e kWh, of which e_peak in the peak window and e_offpeak outside.
Charges charges_for(const Tariff& tariff, double e, double e_peak, double e_offpeak) {
    Charges c;
    const bool above = e > tariff.block_kwh;
    if (is_tou(tariff.kind)) {
        if (tariff.block_rule == BlockRule::WholeMonth || !above) {
            const double r_peak = above ? tariff.peak_above_sen_per_kwh : tariff.peak_sen_per_kwh;
            const double r_off = above ? tariff.offpeak_above_sen_per_kwh : tariff.offpeak_sen_per_kwh;
            c.energy_rm = (e_peak * r_peak + e_offpeak * r_off) / 100.0;
        } else {
            // Marginal: the kWh above the block are taken pro rata from peak and off-peak.
            const double s = (e - tariff.block_kwh) / e;  // share above the block
            c.energy_rm = (e_peak * ((1.0 - s) * tariff.peak_sen_per_kwh + s * tariff.peak_above_sen_per_kwh) +
                           e_offpeak * ((1.0 - s) * tariff.offpeak_sen_per_kwh + s * tariff.offpeak_above_sen_per_kwh)) /
                          100.0;
        }
    } else {
        if (tariff.block_rule == BlockRule::WholeMonth || !above)
            c.energy_rm = e * (above ? tariff.energy_above_sen_per_kwh : tariff.energy_sen_per_kwh) / 100.0;
        else
            c.energy_rm = (tariff.block_kwh * tariff.energy_sen_per_kwh +
                           (e - tariff.block_kwh) * tariff.energy_above_sen_per_kwh) / 100.0;
    }
    c.capacity_rm = e * tariff.capacity_sen_per_kwh / 100.0;
    c.network_rm = e * tariff.network_sen_per_kwh / 100.0;
    const bool fuel_waived = tariff.fuel_waiver_kwh >= 0.0 && e <= tariff.fuel_waiver_kwh;
    c.fuel_rm = fuel_waived ? 0.0 : e * tariff.fuel_adjustment_sen_per_kwh / 100.0;
    return c;
}

double retail_for(const Tariff& tariff, double e) {
    const bool waived = tariff.retail_waiver_kwh >= 0.0 && e <= tariff.retail_waiver_kwh;
    return waived ? 0.0 : tariff.retail_rm_per_month;
}

double eei_rebate_for(const Tariff& tariff, double e) {
    if (e <= 0.0) return 0.0;
    for (const EeiBand& band : tariff.eei_bands)
        if (e <= band.up_to_kwh) return e * band.sen_per_kwh / 100.0;
    return 0.0;
}

/// Nearest whole kWh, half up (a meter register read in whole kWh; docs/tariffs.md).
double whole_kwh(double kwh) { return std::floor(kwh + 0.5); }

/// RM to the sen, half up. The 1e-7 sen guard lets a product meant to end in exactly half a sen
/// (e.g. 0.125 RM held as 0.12499999999999999) round up as on paper.
double to_sen(double rm) { return std::floor(rm * 100.0 + 0.5 + 1e-7) / 100.0; }

/// Sums of one calendar month's intervals.
struct MonthTotals {
    int year = 0;
    int month = 0;
    std::int64_t month_start = 0, month_end = 0;    // calendar month, s
    std::int64_t period_start = 0, period_end = 0;  // covered by data, s
    double import_kwh = 0.0, export_kwh = 0.0;
    double import_peak_kwh = 0.0, export_peak_kwh = 0.0;
};

/// The month's registers in whole kWh: a ToU meter reads peak and off-peak registers (each rounded,
/// the total their sum); any other meter reads the total (rounded), the peak share is informational.
void round_registers(const Tariff& tariff, MonthTotals& m) {
    const auto round_pair = [&](double& total, double& peak) {
        if (is_tou(tariff.kind)) {
            const double p = whole_kwh(peak), o = whole_kwh(total - peak);
            peak = p;
            total = p + o;
        } else {
            total = whole_kwh(total);
            peak = std::min(whole_kwh(peak), total);
        }
    };
    round_pair(m.import_kwh, m.import_peak_kwh);
    round_pair(m.export_kwh, m.export_peak_kwh);
}

/// The tariff of a partial month under PartialMonths::Prorate: every monthly threshold and the
/// retail charge scaled by the covered fraction f of the month.
Tariff prorated(const Tariff& tariff, double f) {
    Tariff s = tariff;
    if (std::isfinite(s.block_kwh)) s.block_kwh *= f;
    for (EeiBand& band : s.eei_bands) band.up_to_kwh *= f;
    if (s.retail_waiver_kwh >= 0.0) s.retail_waiver_kwh *= f;
    if (s.fuel_waiver_kwh >= 0.0) s.fuel_waiver_kwh *= f;
    if (s.re_fund_exempt_kwh >= 0.0) s.re_fund_exempt_kwh *= f;
    s.service_tax_free_kwh *= f;
    s.retail_rm_per_month *= f;
    return s;
}

/// NEM surplus credits, oldest first: (month index year*12 + month-1, kWh).
struct NemBank {
    std::deque<std::pair<std::int64_t, double>> credits;
    double total() const {
        double s = 0.0;
        for (const auto& c : credits) s += c.second;
        return s;
    }
};

/// NEM: 1:1 kWh offset within the month, then from earlier surplus (oldest first).
void nem_offset(const BillOptions& options, const MonthTotals& m, NemBank& bank, Bill& b) {
    const std::int64_t j = static_cast<std::int64_t>(m.year) * 12 + (m.month - 1);
    const std::int64_t n_roll = options.nem_rollover_months;
    while (!bank.credits.empty() && bank.credits.front().first + n_roll < j) {
        b.nem_lapsed_kwh += bank.credits.front().second;
        bank.credits.pop_front();
    }
    const double offset_now = std::min(m.import_kwh, m.export_kwh);
    double remaining = m.import_kwh - offset_now;
    const double surplus = m.export_kwh - offset_now;
    while (remaining > 0.0 && !bank.credits.empty()) {
        double& credit = bank.credits.front().second;
        const double used = std::min(credit, remaining);
        credit -= used;
        remaining -= used;
        b.nem_carried_in_kwh += used;
        if (credit <= 0.0) bank.credits.pop_front();
    }
    if (surplus > 0.0) {
        if (n_roll > 0)
            bank.credits.emplace_back(j, surplus);
        else
            b.nem_lapsed_kwh += surplus;
    }
    b.offset_kwh = offset_now + b.nem_carried_in_kwh;
    b.nem_bank_kwh = bank.total();
}

/// Solar ATAP credit before the cap: domestic at the energy charge an imported kWh of the same month
/// and period pays; non-domestic at the system marginal price.
double atap_raw_credit(const Tariff& tariff, const BillOptions& options, const MonthTotals& m, const Bill& b) {
    if (!is_domestic(tariff.kind)) return m.export_kwh * options.smp_sen_per_kwh / 100.0;
    const bool above = b.import_kwh > tariff.block_kwh;
    if (is_tou(tariff.kind)) {
        const double r_peak = above ? tariff.peak_above_sen_per_kwh : tariff.peak_sen_per_kwh;
        const double r_off = above ? tariff.offpeak_above_sen_per_kwh : tariff.offpeak_sen_per_kwh;
        return (m.export_peak_kwh * r_peak + (m.export_kwh - m.export_peak_kwh) * r_off) / 100.0;
    }
    return m.export_kwh * (above ? tariff.energy_above_sen_per_kwh : tariff.energy_sen_per_kwh) / 100.0;
}

/// Charges, EEI, retail and export credit of the bill (lines rounded to the sen if asked).
void charge_lines(const Tariff& tariff, const BillOptions& options, const MonthTotals& m, Bill& b) {
    const auto money = [&](double rm) { return options.round_to_sen ? to_sen(rm) : rm; };
    const Charges gross = charges_for(tariff, b.import_kwh, b.peak_kwh, b.offpeak_kwh);
    b.energy_rm = money(gross.energy_rm);
    b.capacity_rm = money(gross.capacity_rm);
    b.network_rm = money(gross.network_rm);
    b.fuel_rm = money(gross.fuel_rm);
    b.retail_rm = money(retail_for(tariff, b.billed_kwh));
    b.eei_rebate_rm = money(eei_rebate_for(tariff, b.billed_kwh));
    if (options.scheme == ExportScheme::NEM) {
        // The offset kWh are taken pro rata from peak and off-peak import.
        const double f = b.import_kwh > 0.0 ? b.billed_kwh / b.import_kwh : 0.0;
        const Charges net = charges_for(tariff, b.billed_kwh, b.peak_kwh * f, b.offpeak_kwh * f);
        b.export_credit_rm = money(gross.sum() - net.sum());
    } else if (options.scheme == ExportScheme::SolarATAP) {
        // The credit cannot make the energy charge (net of the EEI rebate) negative; the rest is lost.
        const double credit = money(atap_raw_credit(tariff, options, m, b));
        const double cap = std::max(b.energy_rm - b.eei_rebate_rm, 0.0);
        b.export_credit_rm = std::min(credit, cap);
        b.export_credit_lost_rm = money(credit - b.export_credit_rm);
    }
}

/// KWTBB and service tax on the month's electricity charges (docs/tariffs.md, "KWTBB and service tax").
void tax_lines(const Tariff& tariff, const BillOptions& options, Bill& b) {
    const double charges =
        std::max(b.energy_rm + b.capacity_rm + b.network_rm + b.fuel_rm - b.eei_rebate_rm - b.export_credit_rm, 0.0);
    const double e = b.billed_kwh;
    const bool exempt = tariff.re_fund_exempt_kwh >= 0.0 && e <= tariff.re_fund_exempt_kwh;
    b.re_fund_rm = exempt ? 0.0 : tariff.re_fund_rate * charges;
    b.service_tax_rm = 0.0;
    if (tariff.service_tax_rate > 0.0 && e > tariff.service_tax_free_kwh)
        b.service_tax_rm = tariff.service_tax_rate * ((e - tariff.service_tax_free_kwh) / e * charges + b.retail_rm);
    if (options.round_to_sen) {
        b.re_fund_rm = to_sen(b.re_fund_rm);
        b.service_tax_rm = to_sen(b.service_tax_rm);
    }
}

Bill bill_month(const Tariff& base, const BillOptions& options, MonthTotals m, NemBank& bank) {
    Bill b;
    b.year = m.year;
    b.month = m.month;
    b.period_start = m.period_start;
    b.period_end = m.period_end;
    b.full_month = m.period_start == m.month_start && m.period_end == m.month_end;
    b.days_in_month = static_cast<int>((m.month_end - m.month_start) / kSecondsPerDay);
    b.days_covered = static_cast<double>(m.period_end - m.period_start) / kSecondsPerDay;
    b.prorated = options.partial_months == PartialMonths::Prorate && !b.full_month;
    std::optional<Tariff> scaled;
    if (b.prorated)
        scaled = prorated(base, static_cast<double>(m.period_end - m.period_start) /
                                    static_cast<double>(m.month_end - m.month_start));
    const Tariff& tariff = scaled ? *scaled : base;

    if (options.whole_kwh) round_registers(tariff, m);
    b.import_kwh = m.import_kwh;
    b.export_kwh = m.export_kwh;
    b.peak_kwh = m.import_peak_kwh;
    b.offpeak_kwh = m.import_kwh - m.import_peak_kwh;
    if (options.scheme == ExportScheme::NEM) nem_offset(options, m, bank, b);
    b.billed_kwh = b.import_kwh - b.offset_kwh;

    charge_lines(tariff, options, m, b);
    b.subtotal_rm = b.energy_rm + b.capacity_rm + b.network_rm + b.fuel_rm + b.retail_rm - b.eei_rebate_rm -
                    b.export_credit_rm;
    tax_lines(tariff, options, b);
    b.total_rm = b.subtotal_rm + b.re_fund_rm + b.service_tax_rm;
    if (options.round_to_sen) {  // sums of whole sen, without binary noise
        b.subtotal_rm = to_sen(b.subtotal_rm);
        b.total_rm = to_sen(b.total_rm);
    }
    return b;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Tariffs

std::vector<EeiBand> tnb_eei_bands() {
    // ASSUMPTION (see tariff.hpp): endpoints from melaka.md, inner bands from a secondary source.
    return {{200.0, 25.00}, {250.0, 24.50}, {300.0, 22.50}, {350.0, 21.00}, {400.0, 17.00}, {450.0, 14.50},
            {500.0, 12.00}, {550.0, 10.50}, {600.0, 9.00},  {650.0, 7.50},  {700.0, 5.50},  {750.0, 4.50},
            {800.0, 4.00},  {850.0, 2.50},  {900.0, 1.00},  {1000.0, 0.50}};
}

bool is_tou(TariffKind kind) { return kind == TariffKind::DomesticToU || kind == TariffKind::NonDomesticLVToU; }
bool is_domestic(TariffKind kind) { return kind == TariffKind::DomesticGeneral || kind == TariffKind::DomesticToU; }

Tariff Tariff::tnb_domestic_general() {
    Tariff t;  // the struct's defaults are this tariff (melaka.md)
    t.kind = TariffKind::DomesticGeneral;
    t.name = "TNB domestic general (July 2025)";
    t.eei_bands = tnb_eei_bands();
    return t;
}

Tariff Tariff::tnb_domestic_tou() {
    Tariff t = tnb_domestic_general();  // capacity, network, retail, EEI as domestic general
    t.kind = TariffKind::DomesticToU;
    t.name = "TNB domestic ToU (July 2025)";
    return t;
}

Tariff Tariff::tnb_non_domestic_lv() {
    Tariff t;
    t.kind = TariffKind::NonDomesticLV;
    t.name = "TNB non-domestic low voltage (July 2025)";
    t.energy_sen_per_kwh = 27.03;  // melaka.md
    t.energy_above_sen_per_kwh = 27.03;
    t.block_kwh = std::numeric_limits<double>::infinity();  // no block in melaka.md
    t.capacity_sen_per_kwh = 8.83;                           // melaka.md
    t.network_sen_per_kwh = 14.82;                           // melaka.md
    t.retail_rm_per_month = 20.0;                            // ASSUMPTION: not in melaka.md
    t.retail_waiver_kwh = -1.0;                              // ASSUMPTION: no waiver
    t.fuel_waiver_kwh = -1.0;                                // ASSUMPTION: no AFA waiver
    t.eei_bands.clear();                                     // no EEI rates in melaka.md
    t.re_fund_exempt_kwh = -1.0;  // KWTBB on every non-domestic bill (sunview.com.my, 2025)
    t.service_tax_rate = 0.0;     // no service tax on non-domestic supply (tnb.com.my/sst)
    return t;
}

Tariff Tariff::tnb_non_domestic_lv_tou() {
    Tariff t = tnb_non_domestic_lv();  // capacity, network, retail, KWTBB, no SST
    t.kind = TariffKind::NonDomesticLVToU;
    t.name = "TNB non-domestic low voltage ToU (July 2025)";
    // ToU open to non-domestic LV smart-meter customers, peak 14:00-22:00 Monday-Friday (theSun,
    // 3 July 2025). ASSUMPTION: the energy rates of the domestic ToU (28.52 / 24.43 sen/kWh), since
    // the non-domestic LV general energy rate equals the domestic one (27.03, melaka.md); no block.
    t.peak_sen_per_kwh = t.peak_above_sen_per_kwh = 28.52;
    t.offpeak_sen_per_kwh = t.offpeak_above_sen_per_kwh = 24.43;
    return t;
}

Tariff Tariff::by_name(const std::string& name, const std::string& field) {
    if (name == "domestic_general") return tnb_domestic_general();
    if (name == "domestic_tou") return tnb_domestic_tou();
    if (name == "non_domestic_lv") return tnb_non_domestic_lv();
    if (name == "non_domestic_lv_tou") return tnb_non_domestic_lv_tou();
    throw ValidationError(field + ": unknown tariff '" + name +
                          "' (domestic_general, domestic_tou, non_domestic_lv, non_domestic_lv_tou)");
}

const char* tariff_name(TariffKind kind) {
    switch (kind) {
    case TariffKind::DomesticGeneral: return "domestic_general";
    case TariffKind::DomesticToU: return "domestic_tou";
    case TariffKind::NonDomesticLV: return "non_domestic_lv";
    case TariffKind::NonDomesticLVToU: return "non_domestic_lv_tou";
    }
    return "domestic_general";
}

const char* export_scheme_name(ExportScheme scheme) {
    switch (scheme) {
    case ExportScheme::None: return "none";
    case ExportScheme::NEM: return "nem";
    case ExportScheme::SolarATAP: return "atap";
    }
    return "none";
}

PartialMonths partial_months_from_name(const std::string& name, const std::string& field) {
    if (name == "flag") return PartialMonths::Flag;
    if (name == "prorate") return PartialMonths::Prorate;
    throw ValidationError(field + ": unknown '" + name + "' (flag, prorate)");
}

const char* partial_months_name(PartialMonths p) { return p == PartialMonths::Prorate ? "prorate" : "flag"; }

ExportScheme export_scheme_from_name(const std::string& name, const std::string& field) {
    if (name == "none") return ExportScheme::None;
    if (name == "nem") return ExportScheme::NEM;
    if (name == "atap") return ExportScheme::SolarATAP;
    throw ValidationError(field + ": unknown export scheme '" + name + "' (none, nem, atap)");
}

void validate(const Tariff& tariff) {
    const std::string who = "Tariff '" + tariff.name + "'";
    const auto non_negative = [&](const char* field, double v) {
        if (!std::isfinite(v) || v < 0.0) fail(who, field, "must be finite and >= 0, got " + num(v));
    };
    non_negative("energy_sen_per_kwh", tariff.energy_sen_per_kwh);
    non_negative("energy_above_sen_per_kwh", tariff.energy_above_sen_per_kwh);
    non_negative("peak_sen_per_kwh", tariff.peak_sen_per_kwh);
    non_negative("offpeak_sen_per_kwh", tariff.offpeak_sen_per_kwh);
    non_negative("peak_above_sen_per_kwh", tariff.peak_above_sen_per_kwh);
    non_negative("offpeak_above_sen_per_kwh", tariff.offpeak_above_sen_per_kwh);
    non_negative("capacity_sen_per_kwh", tariff.capacity_sen_per_kwh);
    non_negative("network_sen_per_kwh", tariff.network_sen_per_kwh);
    non_negative("retail_rm_per_month", tariff.retail_rm_per_month);
    non_negative("re_fund_rate", tariff.re_fund_rate);
    non_negative("service_tax_rate", tariff.service_tax_rate);
    non_negative("service_tax_free_kwh", tariff.service_tax_free_kwh);
    if (std::isnan(tariff.re_fund_exempt_kwh))
        fail(who, "re_fund_exempt_kwh", "is NaN (use a negative value for no exemption)");
    if (std::isnan(tariff.block_kwh) || tariff.block_kwh <= 0.0)
        fail(who, "block_kwh", "must be > 0 (+inf for no block), got " + num(tariff.block_kwh));
    if (std::isnan(tariff.retail_waiver_kwh))
        fail(who, "retail_waiver_kwh", "is NaN (use a negative value for no waiver)");
    if (std::isnan(tariff.fuel_waiver_kwh)) fail(who, "fuel_waiver_kwh", "is NaN (use a negative value for no waiver)");
    if (!std::isfinite(tariff.fuel_adjustment_sen_per_kwh))
        fail(who, "fuel_adjustment_sen_per_kwh", "must be finite, got " + num(tariff.fuel_adjustment_sen_per_kwh));
    check_peak_hours(tariff);
    double previous = 0.0;
    for (std::size_t i = 0; i < tariff.eei_bands.size(); ++i) {
        const EeiBand& band = tariff.eei_bands[i];
        const std::string field = "eei_bands[" + std::to_string(i) + "]";
        if (!std::isfinite(band.up_to_kwh) || band.up_to_kwh <= previous)
            fail(who, field + ".up_to_kwh", "must be finite and increase from band to band (> " + num(previous) +
                                                 "), got " + num(band.up_to_kwh));
        if (!std::isfinite(band.sen_per_kwh) || band.sen_per_kwh < 0.0)
            fail(who, field + ".sen_per_kwh", "must be finite and >= 0, got " + num(band.sen_per_kwh));
        previous = band.up_to_kwh;
    }
}

bool is_peak(const Tariff& tariff, std::int64_t t, const std::vector<std::int64_t>& holidays) {
    check_peak_hours(tariff);
    check_holidays("is_peak", holidays);
    const std::int64_t day = floor_div(t, kSecondsPerDay);
    if (!in_peak_hours(tariff, t, day)) return false;
    return std::find(holidays.begin(), holidays.end(), day * kSecondsPerDay) == holidays.end();
}

bool is_peak(const Tariff& tariff, std::int64_t t, const HolidayPredicate& is_holiday) {
    check_peak_hours(tariff);
    const std::int64_t day = floor_div(t, kSecondsPerDay);
    if (!in_peak_hours(tariff, t, day)) return false;
    return !(is_holiday && is_holiday(day * kSecondsPerDay));
}

// ---------------------------------------------------------------------------------------------
// Bills

std::vector<Bill> monthly_bills(const Tariff& tariff, const BillOptions& options, std::int64_t start,
                                std::int64_t interval_s, const double* import_kwh, const double* export_kwh,
                                std::size_t n_intervals) {
    const std::string who = "monthly_bills (tariff '" + tariff.name + "')";
    validate(tariff);
    if (!std::isfinite(options.smp_sen_per_kwh) || options.smp_sen_per_kwh < 0.0)
        fail(who, "smp_sen_per_kwh", "must be finite and >= 0, got " + num(options.smp_sen_per_kwh));
    if (options.nem_rollover_months < 0)
        fail(who, "nem_rollover_months", "must be >= 0, got " + std::to_string(options.nem_rollover_months));
    if (interval_s <= 0 || kSecondsPerHour % interval_s != 0)
        fail(who, "interval_s",
             "metering interval " + std::to_string(interval_s) +
                 " s must be > 0 and divide one hour (3600 s), e.g. 900 or 1800");
    if (floor_mod(start, interval_s) != 0)
        fail(who, "start",
             "start " + format_local(start) + " (" + std::to_string(start) +
                 " s) is not aligned with the clock: it must be a multiple of interval_s = " +
                 std::to_string(interval_s) + " s");
    if (n_intervals > 0 && import_kwh == nullptr) fail(who, "import_kwh", "null pointer");
    const auto check_energy = [&](const char* name, const double* e) {
        for (std::size_t k = 0; k < n_intervals; ++k)
            if (!std::isfinite(e[k]) || e[k] < 0.0)
                fail(who, std::string(name) + "[" + std::to_string(k) + "]",
                     (std::isfinite(e[k]) ? "negative (" : "not finite (") + num(e[k]) +
                         " kWh) in the interval starting " +
                         format_local(start + static_cast<std::int64_t>(k) * interval_s) +
                         "; energies must be finite and >= 0");
    };
    check_energy("import_kwh", import_kwh);
    if (export_kwh != nullptr) check_energy("export_kwh", export_kwh);
    check_holidays(who, options.holidays);
    std::vector<std::int64_t> holidays = options.holidays;
    std::sort(holidays.begin(), holidays.end());

    std::vector<Bill> bills;
    NemBank bank;
    std::size_t k = 0;
    std::int64_t cached_day = std::numeric_limits<std::int64_t>::min();
    bool cached_working_day = false;  // weekday and not a holiday
    while (k < n_intervals) {
        MonthTotals m;
        const std::int64_t t0 = start + static_cast<std::int64_t>(k) * interval_s;
        const CivilDate c = civil_from_days(floor_div(t0, kSecondsPerDay));
        m.year = static_cast<int>(c.year);
        m.month = c.month;
        m.month_start = days_from_civil(c.year, c.month, 1) * kSecondsPerDay;
        m.month_end = (c.month == 12 ? days_from_civil(c.year + 1, 1, 1) : days_from_civil(c.year, c.month + 1, 1)) *
                      kSecondsPerDay;
        m.period_start = t0;
        for (; k < n_intervals; ++k) {
            const std::int64_t t = start + static_cast<std::int64_t>(k) * interval_s;
            if (t >= m.month_end) break;
            const std::int64_t day = floor_div(t, kSecondsPerDay);
            if (day != cached_day) {
                const std::int64_t midnight = day * kSecondsPerDay;
                cached_day = day;
                cached_working_day = weekday_from_days(day) < 5 &&
                                     !std::binary_search(holidays.begin(), holidays.end(), midnight) &&
                                     !(options.is_holiday && options.is_holiday(midnight));
            }
            const bool peak = cached_working_day && in_peak_hours(tariff, t, day);
            const double e_imp = import_kwh[k];
            const double e_exp = export_kwh != nullptr ? export_kwh[k] : 0.0;
            m.import_kwh += e_imp;
            m.export_kwh += e_exp;
            if (peak) {
                m.import_peak_kwh += e_imp;
                m.export_peak_kwh += e_exp;
            }
            m.period_end = t + interval_s;
        }
        bills.push_back(bill_month(tariff, options, m, bank));
    }
    return bills;
}

std::vector<Bill> monthly_bills(const Tariff& tariff, ExportScheme scheme, std::int64_t start,
                                std::int64_t interval_s, const double* import_kwh, const double* export_kwh,
                                std::size_t n_intervals, const std::vector<std::int64_t>& holidays,
                                double smp_sen_per_kwh) {
    BillOptions options;
    options.scheme = scheme;
    options.holidays = holidays;
    options.smp_sen_per_kwh = smp_sen_per_kwh;
    return monthly_bills(tariff, options, start, interval_s, import_kwh, export_kwh, n_intervals);
}

}  // namespace libgrid
