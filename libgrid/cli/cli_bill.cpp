// `libgrid bill RESULTS.h5 --tariff NAME`: re-bill a run's smart-meter series under another tariff or
// export scheme without re-running it (docs/tariffs.md, "Re-billing").
#include "cli.hpp"

#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/simulation/rebill.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace libgrid::cli {
namespace {

struct BillArgs {
    std::string path, tariff, replace, scheme, partial, csv;
    double fuel_sen = 0.0;
};

std::string month_of(const Bill& b) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d", b.year, b.month);
    return buf;
}

void write_csv(const std::string& path, const Rebill& r) {
    std::ofstream out(path);
    if (!out) throw ValidationError("bill: option '-o': cannot write '" + path + "'");
    out << "customer,month,tariff,export_scheme,full_month,days_covered,import_kwh,export_kwh,peak_kwh,offpeak_kwh,"
           "billed_kwh,energy_rm,capacity_rm,network_rm,fuel_rm,retail_rm,eei_rebate_rm,export_credit_rm,"
           "subtotal_rm,re_fund_rm,service_tax_rm,total_rm\n";
    char line[512];
    for (std::size_t c = 0; c < r.customers.size(); ++c)
        for (const Bill& b : r.bills[c]) {
            std::snprintf(line, sizeof line,
                          "%lld,%s,%s,%s,%d,%.4f,%.0f,%.0f,%.0f,%.0f,%.0f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f\n",
                          static_cast<long long>(r.customers[c]), month_of(b).c_str(), r.tariffs[c].c_str(),
                          r.export_schemes[c].c_str(), b.full_month ? 1 : 0, b.days_covered, b.import_kwh, b.export_kwh,
                          b.peak_kwh, b.offpeak_kwh, b.billed_kwh, b.energy_rm, b.capacity_rm, b.network_rm, b.fuel_rm,
                          b.retail_rm, b.eei_rebate_rm, b.export_credit_rm, b.subtotal_rm, b.re_fund_rm,
                          b.service_tax_rm, b.total_rm);
            out << line;
        }
    if (!out.flush()) throw ValidationError("bill: option '-o': writing '" + path + "' failed");
}

/// Per month: customers billed, kWh, the bill's lines summed, and whether the month is partial.
void print_months(const Rebill& r) {
    struct Sum {
        std::size_t n = 0;
        bool full = true;
        double days = 0, days_in = 0, kwh = 0, subtotal = 0, re_fund = 0, sst = 0, total = 0;
    };
    std::map<std::string, Sum> months;
    for (const auto& bills : r.bills)
        for (const Bill& b : bills) {
            Sum& s = months[month_of(b)];
            ++s.n;
            s.full = b.full_month;
            s.days = b.days_covered;
            s.days_in = b.days_in_month;
            s.kwh += b.import_kwh;
            s.subtotal += b.subtotal_rm;
            s.re_fund += b.re_fund_rm;
            s.sst += b.service_tax_rm;
            s.total += b.total_rm;
        }
    std::printf("  %-8s %9s %-22s %14s %14s %12s %12s %14s\n", "month", "customers", "period", "import kWh",
                "subtotal RM", "KWTBB RM", "SST RM", "total RM");
    double total = 0;
    for (const auto& [m, s] : months) {
        char period[40];
        if (s.full) std::snprintf(period, sizeof period, "full month");
        else std::snprintf(period, sizeof period, "PARTIAL %.2f of %.0f d", s.days, s.days_in);
        std::printf("  %-8s %9zu %-22s %14.0f %14.2f %12.2f %12.2f %14.2f\n", m.c_str(), s.n, period, s.kwh, s.subtotal,
                    s.re_fund, s.sst, s.total);
        total += s.total;
    }
    std::printf("  %-8s %9s %-22s %14s %14s %12s %12s %14.2f\n", "all", "", "", "", "", "", "", total);
}

void run_bill(const BillArgs& a) {
    check_results_file(a.path);  // a damaged file: an error here, not a crash or a hang
    RebillOptions o;
    o.tariff = a.tariff;
    o.replace = a.replace;
    o.export_scheme = a.scheme;
    if (!a.partial.empty()) o.partial_months = partial_months_from_name(a.partial, "--partial-months");
    o.fuel_adjustment_sen_per_kwh = a.fuel_sen;
    const Rebill r = rebill(a.path, o);
    const std::string under = a.tariff.empty()     ? std::string("the run's tariffs")
                              : a.replace.empty() ? a.tariff
                                                  : a.tariff + " (customers on " + a.replace + " in the run; others as in the run)";
    std::printf("%s: %zu customers billed under %s, export %s\n", a.path.c_str(), r.customers.size(), under.c_str(),
                a.scheme.empty() ? "as in the run" : a.scheme.c_str());
    print_months(r);
    if (!a.csv.empty()) {
        write_csv(a.csv, r);
        std::printf("bills per customer and month written to %s\n", a.csv.c_str());
    }
}

}  // namespace

void add_bill(CLI::App& app) {
    auto* cmd = app.add_subcommand("bill", "Re-bill a results file's smart-meter series under another tariff (no re-run)");
    static BillArgs a;
    cmd->add_option("RESULTS", a.path, "HDF5 results file of a run")->required();
    cmd->add_option("--tariff", a.tariff,
                    "domestic_general | domestic_tou | non_domestic_lv | non_domestic_lv_tou (every customer); "
                    "default: each customer's tariff in the run");
    cmd->add_option("--replace", a.replace,
                    "with --tariff: only the customers billed under this tariff in the run get it (e.g. --tariff "
                    "domestic_tou --replace domestic_general)");
    cmd->add_option("--export-scheme", a.scheme, "none | nem | atap (every customer); default: as in the run");
    cmd->add_option("--partial-months", a.partial, "flag | prorate; default: as the run billed them");
    cmd->add_option("--fuel-adjustment", a.fuel_sen, "AFA, sen/kWh (default 0)");
    cmd->add_option("-o,--output", a.csv, "write every bill (customer x month, all lines) to this CSV file");
    cmd->callback([] { run_bill(a); });
}

}  // namespace libgrid::cli
