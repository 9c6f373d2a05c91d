// libgrid layer 7: re-billing a results file's meter series (see simulation/rebill.hpp).
#include "libgrid/simulation/rebill.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

#include "libgrid/core/errors.hpp"
#include "libgrid/profiles/calendar.hpp"
#include "libgrid/results/hdf5_results.hpp"

namespace libgrid {

namespace {

/// What the run recorded per customer (/bill/tariff, /bill/export_scheme), by /meter/id position.
std::vector<std::string> run_names(const ResultsReader& r, const std::vector<Id>& meter_ids, const char* what) {
    const std::string path = std::string("/bill/") + what;
    if (!r.exists(path) || !r.exists("/bill/id"))
        throw ValidationError("rebill: results file '" + r.path() + "' has no '" + path +
                              "' (a file written before libgrid billed by tariff name): give the " + what);
    const std::vector<std::string> names = r.read_strings(path);
    const std::vector<std::int64_t> ids = r.read_int_vector("/bill/id");
    if (names.size() != ids.size())
        throw ValidationError("rebill: results file '" + r.path() + "': '" + path + "' and '/bill/id' differ in length");
    std::unordered_map<Id, std::string> of;
    for (std::size_t i = 0; i < ids.size(); ++i) of[ids[i]] = names[i];
    std::vector<std::string> out;
    for (Id id : meter_ids) {
        auto it = of.find(id);
        if (it == of.end())
            throw ValidationError("rebill: results file '" + r.path() + "': customer " + std::to_string(id) +
                                  " of /meter/id has no entry in '" + path + "'");
        out.push_back(it->second);
    }
    return out;
}

/// Positions in /meter/id of the customers to bill.
std::vector<std::size_t> chosen(const std::vector<Id>& meter_ids, const std::vector<Id>& wanted) {
    std::vector<std::size_t> cols;
    if (wanted.empty()) {
        for (std::size_t c = 0; c < meter_ids.size(); ++c) cols.push_back(c);
        return cols;
    }
    for (Id id : wanted) {
        auto it = std::find(meter_ids.begin(), meter_ids.end(), id);
        if (it == meter_ids.end())
            throw ValidationError("rebill: field 'customers': id " + std::to_string(id) + " is not in /meter/id");
        cols.push_back(static_cast<std::size_t>(it - meter_ids.begin()));
    }
    return cols;
}

std::int64_t meter_interval(const ResultsReader& r, const std::vector<std::int64_t>& t) {
    if (!r.has_attribute("/meter", "interval_s"))
        throw ValidationError("rebill: results file '" + r.path() + "': '/meter' has no attribute 'interval_s'");
    const std::int64_t interval_s = std::stoll(r.attribute("/meter", "interval_s"));
    for (std::size_t k = 1; k < t.size(); ++k)
        if (t[k] - t[k - 1] != interval_s)
            throw ValidationError("rebill: results file '" + r.path() + "': '/meter/time' is not evenly spaced by " +
                                  std::to_string(interval_s) + " s at row " + std::to_string(k));
    return interval_s;
}

}  // namespace

Rebill rebill(const std::string& results_path, const RebillOptions& options) {
    ResultsReader r(results_path);
    for (const char* p : {"/meter/time", "/meter/id", "/meter/import_kwh", "/meter/export_kwh"})
        if (!r.exists(p)) throw ValidationError("rebill: results file '" + results_path + "' has no '" + p + "'");
    const std::vector<std::int64_t> t = r.read_int_vector("/meter/time");
    const std::vector<Id> meter_ids = r.read_int_vector("/meter/id");
    const std::int64_t interval_s = meter_interval(r, t);
    const std::size_t nc_all = meter_ids.size();
    const std::vector<std::size_t> cols = chosen(meter_ids, options.customers);

    Rebill out;
    std::vector<std::string> tariffs(nc_all, options.tariff);
    if (options.tariff.empty() || !options.replace.empty()) {
        if (!options.replace.empty()) {
            Tariff::by_name(options.replace, "rebill: field 'replace'");  // a known name
            if (options.tariff.empty()) throw ValidationError("rebill: field 'replace': needs a 'tariff' to replace it with");
        }
        const std::vector<std::string> in_run = run_names(r, meter_ids, "tariff");
        for (std::size_t c = 0; c < nc_all; ++c)
            if (options.tariff.empty() || in_run[c] != options.replace) tariffs[c] = in_run[c];
    }
    const std::vector<std::string> schemes = options.export_scheme.empty()
                                                 ? run_names(r, meter_ids, "export_scheme")
                                                 : std::vector<std::string>(nc_all, options.export_scheme);
    BillOptions bo;
    bo.is_holiday = [](std::int64_t midnight) { return is_public_holiday(midnight); };
    bo.nem_rollover_months = 0;  // as the run: month by month
    bo.partial_months = options.partial_months.value_or(
        r.has_attribute("/bill", "partial_months")
            ? partial_months_from_name(r.attribute("/bill", "partial_months"), "/bill partial_months")
            : PartialMonths::Flag);
    std::vector<Tariff> tariff_of;
    std::vector<ExportScheme> scheme_of;
    for (std::size_t c : cols) {
        tariff_of.push_back(Tariff::by_name(tariffs[c], options.tariff.empty() ? "/bill/tariff" : "rebill: field 'tariff'"));
        tariff_of.back().fuel_adjustment_sen_per_kwh = options.fuel_adjustment_sen_per_kwh;
        scheme_of.push_back(export_scheme_from_name(schemes[c], "rebill: field 'export_scheme'"));
        out.customers.push_back(meter_ids[c]);
        out.tariffs.push_back(tariffs[c]);
        out.export_schemes.push_back(schemes[c]);
    }
    out.bills.assign(cols.size(), {});

    std::vector<double> imp, exp;
    for (std::size_t k0 = 0; k0 < t.size();) {  // one calendar month of intervals at a time
        const CivilTime c0 = to_civil(t[k0]);
        std::size_t k1 = k0 + 1;
        while (k1 < t.size()) {
            const CivilTime c1 = to_civil(t[k1]);
            if (c1.year != c0.year || c1.month != c0.month) break;
            ++k1;
        }
        const std::size_t n = k1 - k0;
        const std::vector<double> rows_imp = r.read_rows("/meter/import_kwh", k0, n);
        const std::vector<double> rows_exp = r.read_rows("/meter/export_kwh", k0, n);
        if (rows_imp.size() != n * nc_all || rows_exp.size() != n * nc_all)
            throw ValidationError("rebill: results file '" + results_path + "': '/meter/import_kwh' or 'export_kwh' is not " +
                                  std::to_string(t.size()) + " x " + std::to_string(nc_all));
        imp.resize(n);
        exp.resize(n);
        for (std::size_t i = 0; i < cols.size(); ++i) {
            for (std::size_t k = 0; k < n; ++k) {
                imp[k] = rows_imp[k * nc_all + cols[i]];
                exp[k] = rows_exp[k * nc_all + cols[i]];
                // a NaN (a gap: e.g. a /headend series copied in): monthly_bills refuses it too, but without
                // naming the customer; say which customer and which row of the file
                for (const auto& [v, name] : {std::pair<double, const char*>{imp[k], "import_kwh"}, {exp[k], "export_kwh"}})
                    if (!std::isfinite(v))
                        throw ValidationError("rebill: results file '" + results_path + "': '/meter/" + name + "' of customer " +
                                              std::to_string(meter_ids[cols[i]]) + " is not finite (" + (std::isnan(v) ? "NaN" : std::to_string(v)) + ")" +
                                              " at interval " + std::to_string(k0 + k) + " (" + format_iso8601(t[k0 + k]) +
                                              "): fill the gap first (docs/comms.md, the estimation rule)");
            }
            bo.scheme = scheme_of[i];
            for (Bill& b : monthly_bills(tariff_of[i], bo, t[k0], interval_s, imp.data(), exp.data(), n))
                out.bills[i].push_back(b);
        }
        k0 = k1;
    }
    return out;
}

}  // namespace libgrid
