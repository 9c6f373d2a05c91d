// libgrid layer 7 (economics): TNB tariffs, export credit (NEM, Solar ATAP) and monthly bills,
// computed from metered interval energy (post-processing; nothing here runs in the per-step loop).
//
// Time: int64_t seconds since 1970-01-01T00:00 in LOCAL Melaka time (UTC+8, no DST). Bills split at
// calendar-month boundaries in local time. Money: RM; rates: sen/kWh (100 sen = RM1).
//
// Every default figure comes from docs/sources/melaka_facts.md ("Tariffs (TNB)" and "Net metering /
// self-consumption schemes") unless it is marked ASSUMPTION; docs/tariffs.md gives the bill formula,
// the sources and a worked example.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace libgrid {

enum class TariffKind { DomesticGeneral, DomesticToU, NonDomesticLV, NonDomesticLVToU };

/// Does the tariff price peak and off-peak kWh differently (DomesticToU, NonDomesticLVToU)?
bool is_tou(TariffKind kind);
/// Domestic tariffs (general or ToU): EEI, retail waiver, KWTBB exemption and service tax apply.
bool is_domestic(TariffKind kind);

/// How export is credited.
///  - None: exports earn nothing.
///  - NEM (Net Energy Metering 3.0, NEM Rakyat): exported kWh offset imported kWh 1:1 within the month;
///    a surplus rolls over for BillOptions::nem_rollover_months (12 by default; melaka.md).
///  - SolarATAP (from 1 January 2026): exports credited at the energy charge (domestic) or at the system
///    marginal price (non-domestic); credits do not carry over (melaka.md).
enum class ExportScheme { None, NEM, SolarATAP };

/// How the energy-charge block at block_kwh applies (melaka.md: "27.03 sen/kWh up to 1,500 kWh/month,
/// 37.03 above").
///  - WholeMonth (default): a month above block_kwh pays the upper rate on ALL its kWh. This reading is
///    an interpretation taken from secondary sources (paultan.org, 21 June 2025: "if you use more than
///    1,500 kWh a month ... 54.43 sen/kWh" = 37.03 + 4.55 + 12.85 on the whole usage).
///  - Marginal: only the kWh above block_kwh pay the upper rate.
enum class BlockRule { WholeMonth, Marginal };

/// One band of the energy-efficiency incentive (EEI) table: a month whose billed kWh E satisfies
/// previous band's up_to_kwh < E <= up_to_kwh gets sen_per_kwh on ALL its kWh. Above the last band: 0.
struct EeiBand {
    double up_to_kwh = 0.0;    ///< upper edge of the band, kWh/month (inclusive)
    double sen_per_kwh = 0.0;  ///< rebate, sen/kWh, applied to the whole month's kWh
};

/// A tariff: all rates in sen/kWh, fixed charges in RM/month. Defaults are TNB's domestic general
/// tariff from 1 July 2025 (melaka.md). Use the factories below rather than editing by hand.
struct Tariff {
    TariffKind kind = TariffKind::DomesticGeneral;
    std::string name = "TNB domestic general (July 2025)";

    // Energy charge (DomesticGeneral, NonDomesticLV).
    double energy_sen_per_kwh = 27.03;        ///< sen/kWh up to block_kwh (melaka.md)
    double energy_above_sen_per_kwh = 37.03;  ///< sen/kWh above block_kwh (melaka.md)
    double block_kwh = 1500.0;                ///< kWh/month; +inf = no block (melaka.md)
    BlockRule block_rule = BlockRule::WholeMonth;

    // Energy charge (DomesticToU, NonDomesticLVToU). Peak window: [peak_start_hour, peak_end_hour) local time, Monday to
    // Friday except public holidays; every other hour, weekends and holidays off-peak (melaka.md).
    double peak_sen_per_kwh = 28.52;           ///< up to block_kwh (melaka.md)
    double offpeak_sen_per_kwh = 24.43;        ///< up to block_kwh (melaka.md)
    double peak_above_sen_per_kwh = 38.52;     ///< above block_kwh (melaka.md)
    double offpeak_above_sen_per_kwh = 34.43;  ///< above block_kwh (melaka.md)
    int peak_start_hour = 14;                  ///< h, local (melaka.md: 14:00)
    int peak_end_hour = 22;                    ///< h, local, exclusive (melaka.md: 22:00)

    double capacity_sen_per_kwh = 4.55;  ///< sen/kWh (melaka.md)
    double network_sen_per_kwh = 12.85;  ///< sen/kWh (melaka.md)
    double retail_rm_per_month = 10.0;   ///< RM/month (melaka.md)
    double retail_waiver_kwh = 600.0;    ///< retail charge waived at or below this, kWh/month; < 0: never (melaka.md)

    /// Energy-efficiency incentive bands (domestic). melaka.md gives only the endpoints (25 sen/kWh at
    /// 1-200 kWh, 0 above 1,000 kWh); the bands in between are an ASSUMPTION (see tnb_eei_bands()).
    std::vector<EeiBand> eei_bands;

    /// Monthly fuel adjustment (AFA), sen/kWh, may be negative (a discount); default 0. melaka.md:
    /// "a monthly fuel adjustment" (no value).
    double fuel_adjustment_sen_per_kwh = 0.0;
    /// AFA waived at or below this many kWh/month; < 0: never. ASSUMPTION (domestic 600 kWh, from a
    /// secondary source, newpages.asia; not in melaka.md).
    double fuel_waiver_kwh = 600.0;

    /// Renewable Energy Fund (KWTBB) surcharge, a fraction of the month's electricity charges
    /// (energy + capacity + network + AFA - EEI - export credit; not the retail charge); 1.6 %
    /// (docs/tariffs.md, "KWTBB and service tax"). 0 = none.
    double re_fund_rate = 0.016;
    /// No KWTBB for a month at or below this many billed kWh (domestic: 300 kWh); < 0: never exempt.
    double re_fund_exempt_kwh = 300.0;
    /// Service tax (SST) on the month's kWh above service_tax_free_kwh: 8 % for domestic customers,
    /// 0 for non-domestic (not taxed; tnb.com.my/sst). Taxed: the share (B - free)/B of the electricity
    /// charges (as for KWTBB) plus the retail charge. docs/tariffs.md.
    double service_tax_rate = 0.08;
    double service_tax_free_kwh = 600.0;  ///< kWh/month not taxed (domestic: 600)

    static Tariff tnb_domestic_general();  ///< melaka.md, "Domestic general tariff (reform)"
    static Tariff tnb_domestic_tou();      ///< melaka.md, "Domestic ToU"
    static Tariff tnb_non_domestic_lv();   ///< melaka.md, "Non-domestic low voltage (July 2025)"
    /// Non-domestic low voltage with ToU energy rates: capacity, network and retail as
    /// tnb_non_domestic_lv(); ToU energy rates an ASSUMPTION (docs/tariffs.md).
    static Tariff tnb_non_domestic_lv_tou();
    /// By name: "domestic_general", "domestic_tou", "non_domestic_lv", "non_domestic_lv_tou"
    /// (ValidationError naming `field` and the names otherwise).
    static Tariff by_name(const std::string& name, const std::string& field = "tariff");
};

/// TNB's energy-efficiency incentive table (domestic, July 2025). ASSUMPTION: the endpoints (25.00
/// sen/kWh for 1-200 kWh, 0 above 1,000 kWh) are from melaka.md; the 15 bands between are as published
/// by a secondary source (newpages.asia, quoting TNB's table) and not yet in melaka.md.
std::vector<EeiBand> tnb_eei_bands();

/// Throws ValidationError naming the field if a rate is not finite, a charge that cannot be negative
/// is negative, the peak window is not 0 <= start < end <= 24 or the EEI bands are not increasing.
void validate(const Tariff& tariff);

/// Holiday predicate: given a local midnight (s), is that day a public holiday?
using HolidayPredicate = std::function<bool(std::int64_t local_midnight)>;

/// Is local time t (s) in the tariff's peak window? Monday-Friday, peak_start_hour <= hour <
/// peak_end_hour, and the day is not a holiday. holidays: local midnights (s) of public holidays
/// (each must be a multiple of 86400: ValidationError otherwise). For the non-ToU tariffs this only
/// classifies time (Bill::peak_kwh is then informational).
bool is_peak(const Tariff& tariff, std::int64_t t, const std::vector<std::int64_t>& holidays = {});
bool is_peak(const Tariff& tariff, std::int64_t t, const HolidayPredicate& is_holiday);

/// ASSUMPTION: system marginal price used for non-domestic Solar ATAP export credit when none is given,
/// sen/kWh. melaka.md names SMP (previous month's 07:00-19:00 average, GP/ST/No.60/2025) but no value;
/// 25 sen/kWh is the "~RM0.25/kWh in many projections" of a secondary source (newpages.com.my).
inline constexpr double kDefaultSmpSenPerKwh = 25.0;

/// A calendar month the data cover only in part (a run that starts or ends inside it).
///  - Flag (default): billed as it is (thresholds and the retail charge of a whole month), with
///    Bill::full_month false and the days covered.
///  - Prorate: every monthly threshold (block, EEI bands, retail and AFA waivers, KWTBB exemption,
///    service-tax threshold) and the retail charge scaled by the covered fraction of the month.
enum class PartialMonths { Flag, Prorate };

/// "flag" / "prorate" (ValidationError naming `field` otherwise).
PartialMonths partial_months_from_name(const std::string& name, const std::string& field);
const char* partial_months_name(PartialMonths p);
/// Short name of a tariff kind, as in scenarios, the CLI, Python and /bill/tariff:
/// "domestic_general", "domestic_tou", "non_domestic_lv", "non_domestic_lv_tou" (Tariff::by_name).
const char* tariff_name(TariffKind kind);
/// "none", "nem", "atap".
const char* export_scheme_name(ExportScheme scheme);
/// "none" / "nem" / "atap" (ValidationError naming `field` otherwise).
ExportScheme export_scheme_from_name(const std::string& name, const std::string& field);

struct BillOptions {
    ExportScheme scheme = ExportScheme::None;
    PartialMonths partial_months = PartialMonths::Flag;
    /// Bill whole kWh, as TNB does: each register of the month (import, export; peak and off-peak
    /// for a ToU tariff) is rounded to the nearest whole kWh (half up) before any threshold, block or
    /// charge. false: the exact sums (a formula check).
    bool whole_kwh = true;
    /// Each money line rounded to the sen (half up) as on TNB's bill; total = sum of the lines.
    bool round_to_sen = true;
    std::vector<std::int64_t> holidays;  ///< local midnights (s) of public holidays (ToU off-peak)
    HolidayPredicate is_holiday;         ///< optional, used in addition to `holidays`
    double smp_sen_per_kwh = kDefaultSmpSenPerKwh;  ///< Solar ATAP non-domestic credit rate, sen/kWh
    /// NEM: months a surplus kWh credit stays usable (melaka.md: NEM Rakyat "12-month roll-over").
    /// A surplus of month m offsets import in months m+1 .. m+nem_rollover_months, oldest first, then
    /// lapses. 0 = no carry-over.
    int nem_rollover_months = 12;
};

/// One calendar month's bill. Energy figures in kWh, money in RM. A partial month (the data do not
/// cover the whole month, full_month == false) is billed as BillOptions::partial_months says.
struct Bill {
    int year = 0;
    int month = 0;                     ///< 1..12, local calendar
    std::int64_t period_start = 0;     ///< s, local: first interval start in this month
    std::int64_t period_end = 0;       ///< s, local: end of the last interval in this month
    bool full_month = false;           ///< data cover the whole calendar month
    bool prorated = false;             ///< partial month billed with thresholds scaled (PartialMonths::Prorate)
    int days_in_month = 0;             ///< days of the calendar month
    double days_covered = 0.0;         ///< d: (period_end - period_start) / 86400
    double import_kwh = 0.0;           ///< metered import
    double export_kwh = 0.0;           ///< metered export
    double peak_kwh = 0.0;             ///< import in the tariff's peak window
    double offpeak_kwh = 0.0;          ///< import outside it
    double offset_kwh = 0.0;           ///< NEM: import offset 1:1 by export (this month's and carried)
    double billed_kwh = 0.0;           ///< import - offset_kwh: kWh that blocks, EEI and waivers look at
    double nem_carried_in_kwh = 0.0;   ///< NEM: part of offset_kwh taken from earlier months' surplus
    double nem_lapsed_kwh = 0.0;       ///< NEM: surplus that expired this month unused
    double nem_bank_kwh = 0.0;         ///< NEM: surplus available to later months after this bill
    double energy_rm = 0.0;            ///< energy charge on the metered import (before export credit)
    double capacity_rm = 0.0;          ///< capacity charge on the metered import
    double network_rm = 0.0;           ///< network charge on the metered import
    double fuel_rm = 0.0;              ///< fuel adjustment (AFA) on the metered import
    double retail_rm = 0.0;            ///< retail charge (on billed_kwh)
    double eei_rebate_rm = 0.0;        ///< energy-efficiency incentive, >= 0, subtracted (on billed_kwh)
    double export_credit_rm = 0.0;     ///< NEM: charges saved by the offset; ATAP: credit after the cap
    double export_credit_lost_rm = 0.0;///< ATAP: credit above the cap, forfeited (no carry-over)
    double subtotal_rm = 0.0;          ///< energy + capacity + network + fuel + retail - eei - export credit
    double re_fund_rm = 0.0;           ///< Renewable Energy Fund (KWTBB), 1.6 %
    double service_tax_rm = 0.0;       ///< service tax (SST), 8 % on the kWh above 600 (domestic)
    double total_rm = 0.0;             ///< subtotal + re_fund + service_tax: the amount payable
};

/// Monthly bills of one customer from interval energy.
/// start: local start of interval 0 (s, a multiple of interval_s); interval_s: divides 3600;
/// import_kwh, export_kwh: n_intervals values each, finite and >= 0 (export_kwh may be nullptr: no
/// export). Throws ValidationError naming the field (e.g. "import_kwh[17]") on bad input.
std::vector<Bill> monthly_bills(const Tariff& tariff, const BillOptions& options, std::int64_t start,
                                std::int64_t interval_s, const double* import_kwh, const double* export_kwh,
                                std::size_t n_intervals);

/// Convenience form with the common options (NEM roll-over at its default of 12 months).
std::vector<Bill> monthly_bills(const Tariff& tariff, ExportScheme scheme, std::int64_t start,
                                std::int64_t interval_s, const double* import_kwh, const double* export_kwh,
                                std::size_t n_intervals, const std::vector<std::int64_t>& holidays = {},
                                double smp_sen_per_kwh = kDefaultSmpSenPerKwh);

}  // namespace libgrid
