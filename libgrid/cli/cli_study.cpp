// `libgrid hosting SCENARIO`: hosting capacity in kW per feeder or transformer.
#include "cli.hpp"

#include <libgrid/profiles/calendar.hpp>
#include <libgrid/scenario/hosting.hpp>
#include <libgrid/scenario/scenario.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <unistd.h>
#include <string>
#include <vector>

namespace libgrid::cli {

namespace {

struct HostingArgs {
    std::string path, kind = "pv", group = "transformer", window = "critical", csv, start, size, cap = "atap";
    long long steps = -1;
    double kwp = 0.0, charger_kw = 7.0, limit = 100.0, tolerance_kw = 1.0;
    bool reverse_flow = false, quiet = false;
    std::vector<std::string> sets;
    std::string model;  ///< issue 15 (H1): --model
};

void print_table(const HostingStudyResult& res, const std::string& group) {
    // issue 15 (H4): an unbalanced network's study adds the kW added per phase; `where` names the phase
    const bool per_phase = !res.groups.empty() && std::isfinite(res.groups.front().added_kw_phase[0]);
    std::printf("%11s %5s %8s %9s %9s %10s  %-16s %-16s %8s %8s %4s", group.c_str(), "cust", "kVA", "before_kW", "max_kW", "hosting_kW",
                "limit", "when", "where", "value", "runs");
    std::printf(per_phase ? " %8s %8s %8s\n" : "\n", "add_a_kW", "add_b_kW", "add_c_kW");
    for (const HostingCapacityResult& r : res.groups) {
        const std::string lim = r.limit_name(res.kind);
        const std::string when = r.limited ? format_iso8601(r.limit.time) : "-";
        const std::string where = r.limited ? std::to_string(r.limit.element) + (r.limit.phase.empty() ? "" : "." + r.limit.phase) : "-";
        char value[32] = "-";
        if (r.limited) std::snprintf(value, sizeof value, "%.5g", r.limit.value);
        std::printf("%11lld %5zu %8.0f %9.1f %9.1f %10.1f  %-16s %-16s %8s %8s %4d", (long long)r.group, r.customers, r.rating_kva, r.installed_kw,
                    r.max_kw, r.hosting_kw, lim.c_str(), when.c_str(), where.c_str(), value, r.runs);
        if (per_phase) std::printf(" %8.1f %8.1f %8.1f", r.added_kw_phase[0], r.added_kw_phase[1], r.added_kw_phase[2]);
        std::printf("\n");
    }
    std::size_t grid = 0;
    for (const HostingCapacityResult& r : res.groups) grid += r.limited ? 1 : 0;
    std::printf("%zu of %zu %ss limited by the grid; the rest reach every customer's %s limit (hosting_kw = installed + added, within %.3g kW)\n",
                grid, res.groups.size(), group.c_str(), res.kind == HostingKind::PV ? "roof / connection" : "connection",
                res.groups.empty() ? 0.0 : res.groups.front().tolerance_kw);
}

void run_hosting(const CLI::App* hc, const HostingArgs& a) {
    require_at_least(hc, "--steps", a.steps, 1LL);
    require_at_least(hc, "--kwp", a.kwp, 0.0, /*strict=*/true);
    require_at_least(hc, "--charger-kw", a.charger_kw, 0.0, /*strict=*/true);
    require_at_least(hc, "--loading-limit", a.limit, 0.0, /*strict=*/true);
    require_at_least(hc, "--tolerance-kw", a.tolerance_kw, 0.0, /*strict=*/true);
    Scenario sc = load_scenario(a.path);
    if (hc->count("--size")) override_key(sc, "network.size", a.size);
    if (hc->count("--model")) override_key(sc, "network.model", a.model);  // issue 15 (H1)
    if (hc->count("--steps")) override_key(sc, "horizon.steps", std::to_string(a.steps));
    if (hc->count("--start")) override_key(sc, "horizon.start", a.start);
    if (hc->count("--loading-limit")) override_key(sc, "limits.loading_percent", std::to_string(a.limit));
    if (a.reverse_flow) override_key(sc, "limits.reverse_flow", "true");
    for (const std::string& kv : a.sets) {
        const auto eq = kv.find('=');
        if (eq == std::string::npos) throw ValidationError("--set '" + kv + "': expected KEY=VALUE");
        override_key(sc, kv.substr(0, eq), kv.substr(eq + 1));
    }
    if (!a.csv.empty()) check_output_is_not_input(sc, a.csv);
    HostingStudy study;
    study.kind = a.kind;
    study.group = a.group;
    // an explicit period (--start / --steps) is probed as given
    study.window = (hc->count("--start") || hc->count("--steps")) && !hc->count("--window") ? "horizon" : a.window;
    study.kw_per_customer = a.kwp;
    study.cap = a.cap;
    study.charger_kw = a.charger_kw;
    study.tolerance_kw = a.tolerance_kw;
    {
        Scenario one = sc;  // memory check and islands on the network, without building the horizon
        override_key(one, "horizon.steps", "1");
        const BuiltScenario b = build_scenario(one);
        check_run_resources(one, b, "");
        if (!b.unbalanced) warn_deenergized(deenergized_buses(b.net));  // as libgrid run
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    HostingProgress progress;
    if (!a.quiet)
        progress = [&, tty = isatty(fileno(stderr)) != 0](std::size_t g, std::size_t n, int runs) {
            if (tty) std::fprintf(stderr, "\rhosting: %s %zu of %zu, run %d, %.0f s elapsed   ", a.group.c_str(), g + 1, n, runs, elapsed());
            else if (runs == 1) std::fprintf(stderr, "hosting: %s %zu of %zu, %.1f s elapsed\n", a.group.c_str(), g + 1, n, elapsed());
            std::fflush(stderr);
        };
    const HostingStudyResult res = hosting_capacity(sc, study, progress);
    if (!a.quiet) std::fprintf(stderr, "%shosting: %zu %ss in %.1f s%30s\n", isatty(fileno(stderr)) ? "\r" : "", res.groups.size(), a.group.c_str(), elapsed(), "");
    std::printf("hosting capacity for %s per %s: %s, %zu steps from %s (%s)\n", a.kind.c_str(), a.group.c_str(), sc.name.c_str(), res.n_steps,
                format_iso8601(res.start).c_str(), res.window.c_str());
    print_table(res, a.group);
    if (!a.csv.empty()) {
        std::ofstream out(a.csv);
        if (!out) throw Error(a.csv + ": cannot open for writing");
        out << hosting_csv(res);
        if (!out) throw Error(a.csv + ": write failed");
    }
}

}  // namespace

void add_study_commands(CLI::App& app) {
    auto* hc = app.add_subcommand("hosting", "Hosting capacity in kW for PV or EV charging, per feeder or transformer (docs/hosting_capacity.md)");
    static HostingArgs a;
    hc->add_option("SCENARIO", a.path, "scenario file (YAML): network, base devices, limits, period")->required();
    hc->add_option("--kind", a.kind, "pv | ev")->capture_default_str();
    hc->add_option("--group", a.group, "feeder | transformer")->capture_default_str();
    hc->add_option("--window", a.window,
                   "critical (PV: the sunniest day's midday; EV: the first weekday 16:00-24:00) | horizon (the scenario's; "
                   "the default when --start or --steps is given)")
        ->capture_default_str();
    hc->add_option("--size", a.size, "Melaka grid size: small | district | city");
    hc->add_option("--model", a.model, "balanced | unbalanced (= --set network.model=...)");
    hc->add_option("--set", a.sets, "override any scenario key: --set network.lv_vmax_pu=1.1 (repeatable)");
    hc->add_option("--steps", a.steps, "steps of the study period (default: the critical window)");
    hc->add_option("--start", a.start, "start of the study period (ISO date)");
    hc->add_option("--kwp", a.kwp, "PV: this kW (AC) for every customer instead of its roof / Solar ATAP limit");
    hc->add_option("--cap", a.cap, "PV: atap (each customer's roof and Solar ATAP cap) | none (the roof only)")->capture_default_str();
    hc->add_option("--charger-kw", a.charger_kw, "EV home charger rating, kW")->capture_default_str();
    hc->add_option("--tolerance-kw", a.tolerance_kw, "PV: bisection tolerance on a group's kW")->capture_default_str();
    hc->add_option("--loading-limit", a.limit, "line/transformer loading limit, percent (= --set limits.loading_percent=...)");
    hc->add_flag("--reverse-flow", a.reverse_flow, "count power flowing LV -> HV through a transformer as a violation (= --set limits.reverse_flow=true)");
    hc->add_option("--csv", a.csv, "write the table as CSV (the columns of Python's libgrid.hosting_capacity)");
    hc->add_flag("-q,--quiet", a.quiet, "no progress on stderr");
    hc->callback([hc] { run_hosting(hc, a); });
}

}  // namespace libgrid::cli
