// libgrid layer 7 (economics): re-billing a results file's smart-meter series under another tariff
// or export scheme, without re-running the simulation (docs/tariffs.md, "Re-billing").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <libgrid/core/ids.hpp>
#include <libgrid/simulation/tariff.hpp>

namespace libgrid {

struct RebillOptions {
    /// Tariff of every billed customer (Tariff::by_name); "" = each customer's tariff in the run
    /// (/bill/tariff).
    std::string tariff;
    /// With `tariff`: give it only to the customers billed under this tariff in the run (e.g. every
    /// "domestic_general" home to "domestic_tou"); the others keep theirs. "" = every customer.
    std::string replace;
    /// "none" | "nem" | "atap" for every billed customer; "" = each customer's scheme in the run
    /// (/bill/export_scheme).
    std::string export_scheme;
    /// Partial months; default: as the run billed them (/bill attribute partial_months), else flag.
    std::optional<PartialMonths> partial_months;
    double fuel_adjustment_sen_per_kwh = 0.0;  ///< AFA, sen/kWh (Tariff::fuel_adjustment_sen_per_kwh)
    std::vector<Id> customers;                 ///< bill only these customers (/meter/id); empty = all
};

/// Bills of the customers of a results file: customer ids, the tariff name each was billed under,
/// and per customer one Bill per calendar month of the run.
struct Rebill {
    std::vector<Id> customers;
    std::vector<std::string> tariffs;
    std::vector<std::string> export_schemes;
    std::vector<std::vector<Bill>> bills;
};

/// Reads /meter (time, id, import_kwh, export_kwh and the interval_s attribute) of a results file
/// and bills each customer month by month as the run does (monthly_bills on each calendar month's
/// intervals; NEM surplus does not carry over between months; Malaysian public holidays off-peak,
/// profiles/calendar.hpp). Reads one month of the meter series at a time. Errors name the file and
/// the dataset or the option (e.g. "rebill: field 'customers': id 17 is not in /meter/id").
/// The meter series of a run are stored as float32 (7 significant digits): a month's register
/// differs from the run's by less than 1e-3 kWh, so whole-kWh bills are the same unless a register
/// lies that close to half a kWh.
Rebill rebill(const std::string& results_path, const RebillOptions& options = {});

}  // namespace libgrid
