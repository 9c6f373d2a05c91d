// `libgrid info OUT.h5` and `libgrid compare A.h5 B.h5`: read results files back.
#include "cli.hpp"

#include <libgrid/results/hdf5_results.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace libgrid::cli {
namespace {

struct Kpi {
    const char* key;
    const char* label;
};

// The KPIs a planner compares first (DESIGN: peak import, losses, voltage violations, transformer
// overloads, CO2, bills, EV energy not delivered).
const std::vector<Kpi>& compare_kpis() {
    static const std::vector<Kpi> k = {
        {"peak_import_mw", "peak import"},
        {"import_mwh", "imported at the substation"},
        {"export_mwh", "exported at the substation"},
        {"meter_import_mwh", "imported through meters"},
        {"meter_export_mwh", "exported through meters"},
        {"losses_mwh", "losses"},
        {"voltage_violation_bus_steps", "voltage violations (bus-steps)"},
        {"voltage_violation_hours", "hours with a violation"},
        {"min_vm_pu", "lowest voltage"},
        {"max_vm_pu", "highest voltage"},
        {"max_trafo_loading_percent", "max transformer loading"},
        {"max_line_loading_percent", "max line loading"},
        {"overloaded_branch_steps", "overloads (branch-steps)"},
        {"pv_mwh", "PV energy"},
        {"pv_curtailed_mwh", "PV curtailed"},
        {"self_sufficiency", "self-sufficiency"},
        {"co2_t", "CO2 of imports"},
        {"bills_rm", "customers' bills"},
        {"ev_delivered_mwh", "EV energy delivered"},
        {"ev_not_delivered_mwh", "EV energy not delivered"},
        {"ev_blocked_mwh", "EV arrivals blocked (energy)"},
        {"building_comfort_degree_hours", "building discomfort (BEMS)"},
        {"home_comfort_degree_hours", "home discomfort (HEMS)"},
        {"non_converged_steps", "non-converged steps"},
        // issue 15 (H3): an unbalanced run's own (a balanced run has none: its column prints "-")
        {"max_vuf_percent", "worst voltage unbalance (VUF)"},
        {"vuf_p95_percent", "VUF, 95th percentile"},
        {"vuf_bus_steps_over_limit_percent", "bus-steps above the VUF limit"},
        {"undervoltage_node_steps_a", "undervoltage, phase a (node-steps)"},
        {"undervoltage_node_steps_b", "undervoltage, phase b (node-steps)"},
        {"undervoltage_node_steps_c", "undervoltage, phase c (node-steps)"},
        {"overvoltage_node_steps_a", "overvoltage, phase a (node-steps)"},
        {"overvoltage_node_steps_b", "overvoltage, phase b (node-steps)"},
        {"overvoltage_node_steps_c", "overvoltage, phase c (node-steps)"},
        {"max_neutral_current_a", "max neutral current"},
        // issue 16 (H2): a run with events' own (a run without prints "-", or no row when neither has them)
        {"energy_not_served_mwh", "energy not served (outages)"},
        {"customer_hours_interrupted", "customer-hours interrupted"},
        {"customers_interrupted", "customers interrupted"},
        {"saidi_h", "SAIDI of the run"},
        {"saifi", "SAIFI of the run"},
        {"interruptions", "customer interruptions"},
        {"islanded_steps", "steps with an energised island"},
        {"neutral_losses_mwh", "losses in the neutral"},
        {"max_trafo_phase_loading_percent", "max transformer phase loading"},
        {"max_line_conductor_loading_percent", "max line conductor loading"},
    };
    return k;
}

double kpi_or_nan(const ResultsReader& r, const std::string& key) {
    const std::string p = "/summary/" + key;
    return r.is_dataset(p) ? r.read_scalar(p) : std::nan("");
}

std::string unit_of(const ResultsReader& r, const std::string& key) {
    const std::string p = "/summary/" + key;
    return r.is_dataset(p) ? r.unit(p) : "";
}

std::string attr_or(const ResultsReader& r, const std::string& name, const std::string& dflt) {
    return r.has_attribute("/", name) ? r.attribute("/", name) : dflt;
}

/// How far the run that wrote the file got: "" when complete, else "incomplete: N of M steps (...)".
std::string incompleteness(const ResultsReader& r) {
    const std::size_t done = r.is_dataset("/time") && !r.shape("/time").empty() ? r.shape("/time")[0] : 0;
    const std::string status = attr_or(r, "status", "");
    const std::string planned = attr_or(r, "steps_planned", "?");
    const std::string counts = "incomplete: " + std::to_string(done) + " of " + planned + " steps";
    if (status.empty()) return r.exists("/summary") ? "" : counts + " (no /summary: the run did not finish)";
    if (status == "complete") return "";
    if (status == "stopped") return counts + " (stopped: " + attr_or(r, "stop_reason", "?") + "; /summary covers the steps done)";
    if (status == "failed") return counts + " (the run failed at step " + attr_or(r, "failed_at_step", "?") + ")";
    return counts + " (the run was killed, or is still running: no /summary; resume it with libgrid run ... --resume)";
}

/// /summary's KPIs grouped by their `boundary` attribute (docs/kpis.md), in the file's order;
/// files written before KPIs had one: under "other".
void print_summary_by_boundary(const ResultsReader& r) {
    std::vector<std::string> order = {"substation", "customer_meters", "city", "network", "run"};
    std::vector<std::pair<std::string, std::string>> rows;  // boundary, name
    for (const std::string& k : r.list("/summary")) {
        const std::string p = "/summary/" + k;
        if (!r.is_dataset(p) || r.shape(p).size() > 0) continue;
        const std::string b = r.has_attribute(p, "boundary") ? r.attribute(p, "boundary") : "other";
        if (std::find(order.begin(), order.end(), b) == order.end()) order.push_back(b);
        rows.emplace_back(b, k);
    }
    for (const std::string& b : order) {
        bool header = false;
        for (const auto& [rb, k] : rows) {
            if (rb != b) continue;
            if (!header) std::printf("    %s\n", b.c_str());
            header = true;
            const std::string p = "/summary/" + k;
            const std::string def = r.has_attribute(p, "definition") ? r.attribute(p, "definition") : "";
            std::printf("      %-32s %16.6g %-8s %s\n", k.c_str(), r.read_scalar(p), r.unit(p).c_str(), def.c_str());
        }
    }
}

/// /summary/losses_by_level: losses by nominal voltage level and element kind (docs/kpis.md).
void print_losses_by_level(const ResultsReader& r) {
    const std::string g = "/summary/losses_by_level/";
    const std::vector<double> kv = r.read_vector(g + "kv");
    const char* cols[] = {"lines_mwh", "trafo_load_mwh", "trafo_noload_mwh", "branches_mwh"};
    std::vector<std::vector<double>> v;
    for (const char* c : cols) v.push_back(r.is_dataset(g + c) ? r.read_vector(g + c) : std::vector<double>(kv.size(), 0.0));
    std::printf("    losses by voltage level [MWh]\n      %10s %14s %14s %14s %14s\n", "kV", "lines", "trafo load", "trafo no-load", "branches");
    for (std::size_t i = 0; i < kv.size(); ++i)
        std::printf("      %10.3g %14.6g %14.6g %14.6g %14.6g\n", kv[i], v[0][i], v[1][i], v[2][i], v[3][i]);
}

void print_info(const std::string& path) {
    check_results_file(path);  // a damaged file: an error here, not a crash or a hang
    ResultsReader r(path);
    std::printf("libgrid results: %s\n", path.c_str());
    const std::string incomplete = incompleteness(r);
    std::printf("  status           %s\n", incomplete.empty() ? "complete" : incomplete.c_str());
    std::printf("  libgrid version  %s (layout %s)\n", attr_or(r, "libgrid_version", "?").c_str(), attr_or(r, "layout_version", "?").c_str());
    std::printf("  network          %s\n", attr_or(r, "network", "?").c_str());
    std::printf("  model            %s\n", attr_or(r, "model", "balanced").c_str());  // issue 15: "unbalanced" for a .dss network's run
    std::printf("  start            %s, step %s s\n", attr_or(r, "start", "?").c_str(), attr_or(r, "step_s", "?").c_str());
    std::printf("  seed             %s\n", attr_or(r, "seed", "?").c_str());
    if (r.is_dataset("/time")) std::printf("  steps            %zu\n", r.shape("/time")[0]);
    std::printf("  groups          ");
    for (const std::string& g : r.list("/")) {
        if (g == "time" || g == "summary") continue;
        const std::string ids = "/" + g + "/id";
        if (r.is_dataset(ids)) std::printf(" %s(%zu)", g.c_str(), r.shape(ids)[0]);
        else std::printf(" %s", g.c_str());
    }
    std::printf("\n  summary%s\n", incomplete.empty() ? "" : " (of the steps done)");
    if (r.exists("/summary")) print_summary_by_boundary(r);
    if (r.is_dataset("/summary/losses_by_level/kv")) print_losses_by_level(r);
    if (!incomplete.empty()) {
        std::fflush(stdout);
        throw ExitStatus{3, "'" + path + "': " + incomplete};
    }
}

/// A run's name for the compare table: the results file's name, the scenario's name and file (from
/// the root attribute `scenario`, the effective scenario text), the grid and the horizon.
std::string run_label(const ResultsReader& r) {
    const std::string text = attr_or(r, "scenario", "");
    auto line_after = [&](const std::string& prefix) -> std::string {
        std::size_t p = text.rfind("\n" + prefix, std::string::npos);
        p = text.compare(0, prefix.size(), prefix) == 0 ? 0 : p == std::string::npos ? p : p + 1;
        if (p == std::string::npos) return "";
        std::string v = text.substr(p + prefix.size(), text.find('\n', p) - p - prefix.size());
        v.erase(0, v.find_first_not_of(" \""));
        while (!v.empty() && (v.back() == '"' || v.back() == ' ' || v.back() == '\r')) v.pop_back();
        return v;
    };
    const std::string name = line_after("name:");
    const std::string file = std::filesystem::path(line_after("# effective scenario (libgrid):")).filename().string();
    std::string label = std::filesystem::path(r.path()).filename().string();
    if (!name.empty() || !file.empty())
        label += ": scenario " + (name.empty() ? file : file.empty() ? name : name + " (" + file + ")");
    label += ", grid " + attr_or(r, "network", "?");
    const std::size_t steps = r.is_dataset("/time") && !r.shape("/time").empty() ? r.shape("/time")[0] : 0;
    label += ", from " + attr_or(r, "start", "?") + ", " + std::to_string(steps) + " steps of " + attr_or(r, "step_s", "?") + " s";
    return label;
}

/// A number for the table: "0" when |x| <= tol, whole numbers for counts, else 4 significant digits
/// without an exponent between 1e-3 and 1e7 (1823.4 -> "1823", 0.03456 -> "0.03456").
std::string fmt_number(double x, bool count, double tol) {
    if (std::isnan(x)) return "-";
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    if (std::abs(x) <= tol) return "0";
    char buf[48];
    const double ax = std::abs(x);
    if (count) std::snprintf(buf, sizeof buf, "%.0f", x);
    else if (ax < 1e-3 || ax >= 1e7) std::snprintf(buf, sizeof buf, "%.3e", x);
    else std::snprintf(buf, sizeof buf, "%.*f", std::max(0, 3 - int(std::floor(std::log10(ax)))), x);
    return buf;
}

struct CompareArgs {
    std::string a, b;
    double tolerance = 1e-9;
    bool all = false;
};

void print_compare(const CompareArgs& args) {
    check_results_file(args.a);
    check_results_file(args.b);
    ResultsReader ra(args.a), rb(args.b);
    for (const ResultsReader* r : {&ra, &rb}) {
        const std::string inc = incompleteness(*r);
        if (!inc.empty()) std::fprintf(stderr, "libgrid: warning: '%s': %s\n", r->path().c_str(), inc.c_str());
    }
    std::printf("A = %s\nB = %s\n\n", run_label(ra).c_str(), run_label(rb).c_str());
    std::vector<std::pair<std::string, std::string>> rows;  // key, meaning
    for (const Kpi& k : compare_kpis()) rows.emplace_back(k.key, k.label);
    if (args.all)  // the other /summary datasets of either file
        for (const ResultsReader* r : {&ra, &rb})
            if (r->exists("/summary"))
                for (const std::string& k : r->list("/summary"))
                    if (std::none_of(rows.begin(), rows.end(), [&](const auto& x) { return k == x.first; })) rows.emplace_back(k, "");
    int width = 30;  // the KPI column: 30, wider for an unbalanced run's longer names
    for (const auto& row : rows)
        if (!(std::isnan(kpi_or_nan(ra, row.first)) && std::isnan(kpi_or_nan(rb, row.first)))) width = std::max(width, int(row.first.size()));
    std::printf("%-*s %-8s %12s %12s %12s %9s  %s\n", width, "KPI", "unit", "A", "B", "B - A", "change", "meaning");
    for (const auto& [key, label] : rows) {
        const double x = kpi_or_nan(ra, key), y = kpi_or_nan(rb, key);
        if (std::isnan(x) && std::isnan(y)) continue;
        std::string unit = unit_of(ra, key);
        if (unit.empty()) unit = unit_of(rb, key);
        const bool count = unit.empty() && std::floor(x) == x && std::floor(y) == y;
        const double tol = args.tolerance * std::max({1.0, std::abs(x), std::abs(y)});
        const double d = std::abs(y - x) <= tol ? 0.0 : y - x;
        std::string pct;
        if (std::isfinite(x) && std::isfinite(y)) {
            char buf[32];
            if (d == 0) pct = "0 %";
            else if (std::abs(x) > tol) std::snprintf(buf, sizeof buf, "%+.1f %%", d / std::abs(x) * 100.0), pct = buf;
            else pct = "new";
        }
        std::printf("%-*s %-8s %12s %12s %12s %9s  %s\n", width, key.c_str(), unit.c_str(), fmt_number(x, count, tol).c_str(),
                    fmt_number(y, count, tol).c_str(), fmt_number(d, count, tol).c_str(), pct.c_str(), label.c_str());
    }
}

}  // namespace

void add_results_commands(CLI::App& app) {
    auto* info = app.add_subcommand("info", "Print a results file's summary");
    static std::string info_path;
    info->add_option("RESULTS", info_path, "HDF5 results file")->required();
    info->callback([] { print_info(info_path); });

    auto* cmp = app.add_subcommand("compare", "Show what changed between two runs: the planner's KPIs of both, "
                                              "B - A and the change in % (docs/guide.md)");
    static CompareArgs c;
    cmp->add_option("A", c.a, "first results file (the reference)")->required();
    cmp->add_option("B", c.b, "second results file")->required();
    cmp->add_option("--tolerance", c.tolerance, "relative tolerance: values and differences within it of 0 print as 0 (default 1e-9)")
        ->check(CLI::Range(0.0, 1.0));
    cmp->add_flag("--all", c.all, "also every other KPI of /summary");
    cmp->callback([] { print_compare(c); });
}

}  // namespace libgrid::cli
