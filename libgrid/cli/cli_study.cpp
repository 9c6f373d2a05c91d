// `libgrid hosting SCENARIO`: hosting capacity per feeder or transformer.
#include "cli.hpp"

#include <libgrid/profiles/calendar.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/scenario/hosting.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace libgrid::cli {

void add_study_commands(CLI::App& app) {
    auto* hc = app.add_subcommand("hosting", "Hosting capacity for PV or EV charging, per feeder or transformer");
    static std::string path, kind = "pv", group = "transformer", csv, start;
    static long long steps = -1;
    static double kwp = 5.0, charger_kw = 7.0, limit = 100.0;
    static bool reverse_flow = false;
    hc->add_option("SCENARIO", path, "scenario file (YAML): network, base devices, period")->required();
    hc->add_option("--kind", kind, "pv | ev")->capture_default_str();
    hc->add_option("--group", group, "feeder | transformer")->capture_default_str();
    hc->add_option("--steps", steps, "steps of the study period (default: the scenario's horizon)");
    hc->add_option("--start", start, "start of the study period (ISO date; default: the scenario's)");
    hc->add_option("--kwp", kwp, "PV size per customer, kWp")->capture_default_str();
    hc->add_option("--charger-kw", charger_kw, "EV home charger rating, kW")->capture_default_str();
    hc->add_option("--loading-limit", limit, "line/transformer loading limit, percent")->capture_default_str();
    hc->add_flag("--reverse-flow", reverse_flow, "count power flowing LV -> HV through a transformer as a violation");
    hc->add_option("--csv", csv, "write the table as CSV");
    hc->callback([hc] {
        require_at_least(hc, "--steps", steps, 1LL);
        require_at_least(hc, "--kwp", kwp, 0.0, /*strict=*/true);
        require_at_least(hc, "--charger-kw", charger_kw, 0.0, /*strict=*/true);
        require_at_least(hc, "--loading-limit", limit, 0.0, /*strict=*/true);
        Scenario sc = load_scenario(path);
        if (hc->count("--steps")) override_key(sc, "horizon.steps", std::to_string(steps));
        if (hc->count("--start")) override_key(sc, "horizon.start", start);
        if (!csv.empty()) check_output_is_not_input(sc, csv);
        BuiltScenario b = build_scenario(sc);
        check_run_resources(sc, b, "");  // memory (no results file)
        warn_deenergized(deenergized_buses(b.net));
        HostingStudy study;
        study.kind = kind;
        study.group = group;
        study.kwp = kwp;
        study.charger_kw = charger_kw;
        study.loading_limit_percent = limit;
        study.reverse_flow = reverse_flow;
        const auto res = hosting_capacity(b, study);
        std::printf("hosting capacity for %s per %s: %s, %zu steps from %s\n", kind.c_str(), group.c_str(), b.name.c_str(), b.options.n_steps,
                    format_iso8601(b.options.start).c_str());
        std::printf("%10s %9s %7s %7s %10s  %-15s %-20s %9s %10s %5s\n", group.c_str(), "customers", "hosted", "share", "kW", "limit", "time", "element", "value", "runs");
        std::ofstream out;
        if (!csv.empty()) {
            out.open(csv);
            if (!out) throw Error(csv + ": cannot open for writing");
            out << "group,group_kind,customers,hosted,share,hosted_kw,limited,limit_kind,limit_time,limit_element,limit_value,runs\n";
        }
        for (const auto& r : res) {
            const std::string lim = r.limited ? r.limit.kind : "none";
            const std::string t = r.limited ? format_iso8601(r.limit.time) : "";
            std::printf("%10lld %9zu %7zu %6.0f%% %10.1f  %-15s %-20s %9lld %10.4f %5d\n", (long long)r.group, r.customers, r.hosted, r.share * 100,
                        r.hosted_kw, lim.c_str(), t.c_str(), (long long)(r.limited ? r.limit.element : -1), r.limited ? r.limit.value : 0.0, r.runs);
            if (out)
                out << r.group << ',' << r.group_kind << ',' << r.customers << ',' << r.hosted << ',' << r.share << ',' << r.hosted_kw << ','
                    << (r.limited ? 1 : 0) << ',' << lim << ',' << t << ',' << (r.limited ? r.limit.element : -1) << ',' << r.limit.value << ','
                    << r.runs << '\n';
        }
    });
}

}  // namespace libgrid::cli
