// `libgrid run SCENARIO.yaml -o OUT.h5`: build the scenario, run it with a progress bar, print
// the KPI table.
#include "cli.hpp"

#include <algorithm>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>
#include <libgrid/simulation/kpis.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <signal.h>
#include <unistd.h>
#include <vector>

namespace libgrid::cli {

/// Set by SIGINT / SIGTERM / SIGHUP (the signal's number): the run stops at the next step boundary,
/// writes its summary and exits 128 + the number. A second signal ends the process at once.
std::atomic<int> g_stop{0};

extern "C" void on_stop_signal(int sig) {
    if (g_stop.exchange(sig) != 0) {
        std::signal(sig, SIG_DFL);
        std::raise(sig);
    }
}

void install_stop_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

namespace {

using Clock = std::chrono::steady_clock;

/// A one-line progress bar on stderr: steps per second and time left, redrawn at most 5 times a second.
ProgressFn progress_bar(bool enabled) {
    if (!enabled) return {};
    auto t0 = std::make_shared<Clock::time_point>(Clock::now());
    auto last = std::make_shared<Clock::time_point>(Clock::now() - std::chrono::seconds(1));
    return [t0, last](std::size_t done, std::size_t total) {
        const auto now = Clock::now();
        if (done != total && now - *last < std::chrono::milliseconds(200)) return;
        *last = now;
        const double el = std::chrono::duration<double>(now - *t0).count();
        const double rate = el > 0 ? double(done) / el : 0.0;
        const double left = rate > 0 ? double(total - done) / rate : 0.0;
        const int width = 30, filled = int(width * double(done) / double(total ? total : 1));
        std::fprintf(stderr, "\r[%.*s%.*s] %zu/%zu steps  %.0f steps/s  %.1f s left ", filled,
                     "##############################", width - filled, "..............................", done, total, rate, left);
        if (done == total) std::fprintf(stderr, "\n");
        std::fflush(stderr);
    };
}

void print_kpis(const std::string& name, const SimulationSummary& s, const std::string& out) {
    std::printf("\nlibgrid run: %s -> %s\n", name.c_str(), out.c_str());
    std::printf("  %-36s %14zu", "steps", s.steps);
    if (!s.completed) std::printf(" of %zu: INCOMPLETE (%s)", s.planned_steps, s.stop_reason.c_str());
    if (s.resumed_from_step > 0) std::printf(" (resumed at step %zu)", s.resumed_from_step);
    std::printf("\n");
    std::printf("  %-36s %14.3f s (%.0f steps/s)\n", "wall time", s.wall_time_s, s.steps_per_second);
    std::printf("  %-36s %14s setup %.2f, profiles %.2f, devices %.2f, power flow %.2f (%d iterations), recording %.2f, checkpoints %.2f s\n", "time split", "",
                s.time_setup_s, s.time_profiles_s, s.time_devices_s, s.time_powerflow_s, s.powerflow_iterations, s.time_record_s, s.time_checkpoint_s);
    std::fflush(stdout);
    print_summary_table(std::cout, s);  // the library's printer (simulation/kpis.hpp)
    std::cout.flush();
}

/// Which months the bills cover, and which of them only in part (docs/tariffs.md, "Partial months").
void print_bill_periods(const Simulation& sim) {
    if (sim.bills().empty() || sim.bills()[0].empty()) return;
    std::string months;
    for (const Bill& b : sim.bills()[0]) {
        char buf[96];
        if (b.full_month) std::snprintf(buf, sizeof buf, "%s%04d-%02d", months.empty() ? "" : ", ", b.year, b.month);
        else
            std::snprintf(buf, sizeof buf, "%s%04d-%02d PARTIAL (%.2f of %d days, %s)", months.empty() ? "" : ", ", b.year,
                          b.month, b.days_covered, b.days_in_month, b.prorated ? "prorated" : "billed as is");
        months += buf;
    }
    std::printf("  %-36s %s\n", "billed months", months.c_str());
}

/// Where an extreme of a time x column series lies.
struct Extreme {
    double value = std::nan("");
    std::size_t row = 0, col = 0;
};

/// Issue 15, unbalanced runs: per phase, the lowest and highest node voltage (to ground, p.u., as
/// OpenDSS's node voltages: /node/vm_pu) and the worst VUF (/bus/vuf_percent), read back from the
/// results file 256 rows at a time.
void print_phase_summary(const std::string& out) {
    ResultsReader r(out);
    if (!r.is_dataset("/node/vm_pu") || !r.is_dataset("/node/phase")) return;
    const std::vector<std::string> phase = r.read_strings("/node/phase");
    const std::vector<std::string> node_bus = r.read_strings("/node/bus_name");
    const std::vector<std::int64_t> time = r.read_int_vector("/time");
    const std::size_t rows = r.shape("/node/vm_pu")[0], nn = phase.size();
    const char* names[3] = {"a", "b", "c"};
    Extreme lo[3], hi[3], vuf;
    const bool has_vuf = r.is_dataset("/bus/vuf_percent") && r.is_dataset("/bus/name");
    const std::vector<std::string> bus_name = has_vuf ? r.read_strings("/bus/name") : std::vector<std::string>{};
    // blocks of rows of at most 2^24 values (128 MB): the city as built has 3.3 M nodes a row
    const std::size_t block = std::clamp<std::size_t>((std::size_t{1} << 24) / std::max<std::size_t>({nn, bus_name.size(), 1}), 1, 256);
    for (std::size_t r0 = 0; r0 < rows; r0 += block) {
        const std::size_t n = std::min<std::size_t>(block, rows - r0);
        const std::vector<double> vm = r.read_rows("/node/vm_pu", r0, n);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < nn; ++j) {
                const double v = vm[i * nn + j];
                for (int k = 0; k < 3; ++k) {
                    if (phase[j] != names[k] || !std::isfinite(v)) continue;
                    if (!(v >= lo[k].value)) lo[k] = {v, r0 + i, j};
                    if (!(v <= hi[k].value)) hi[k] = {v, r0 + i, j};
                }
            }
        if (!has_vuf) continue;
        const std::vector<double> u = r.read_rows("/bus/vuf_percent", r0, n);
        const std::size_t nb = bus_name.size();
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < nb; ++j)
                if (std::isfinite(u[i * nb + j]) && !(u[i * nb + j] <= vuf.value)) vuf = {u[i * nb + j], r0 + i, j};
    }
    auto when = [&](std::size_t row) { return row < time.size() ? format_iso8601(time[row]) : std::string("?"); };
    std::printf("  per phase (node voltages to ground, /node/vm_pu)\n");
    for (int k = 0; k < 3; ++k) {
        if (!std::isfinite(lo[k].value)) continue;
        std::printf("    phase %s  min %.4f p.u. at bus %s (%s)   max %.4f p.u. at bus %s (%s)\n", names[k], lo[k].value,
                    node_bus[lo[k].col].c_str(), when(lo[k].row).c_str(), hi[k].value, node_bus[hi[k].col].c_str(), when(hi[k].row).c_str());
    }
    if (std::isfinite(vuf.value))
        std::printf("    worst VUF %.3f %% at bus %s (%s)\n", vuf.value, bus_name[vuf.col].c_str(), when(vuf.row).c_str());
}

}  // namespace

void add_run(CLI::App& app) {
    auto* cmd = app.add_subcommand("run", "Run a scenario (YAML) and write its results (HDF5)");
    static std::string path, out, size, model;
    static int threads = 0;
    static long long seed = -1, steps = -1;
    static std::vector<std::string> sets;
    static bool quiet = false;
    cmd->add_option("SCENARIO", path, "scenario file (YAML)")->required();
    cmd->add_option("-o,--output", out, "results file (HDF5)")->required();
    cmd->add_option("--size", size, "Melaka grid size: small | district | city");
    cmd->add_option("--model", model, "balanced | unbalanced (= --set network.model=...; the Melaka default: unbalanced, docs/scenarios.md)");
    cmd->add_option("--threads", threads, "threads for the device updates");
    cmd->add_option("--seed", seed, "random seed");
    cmd->add_option("--steps", steps, "number of steps (overrides the horizon)");
    cmd->add_option("--set", sets, "override any key: --set devices.ev.share=0.3");
    cmd->add_flag("-q,--quiet", quiet, "no progress bar");
    static std::string summary_json;
    cmd->add_option("--summary-json", summary_json, "also write the run's summary as JSON to this file (simulation/kpis.hpp summary_to_json)");
    static bool resume = false;
    cmd->add_flag("--resume", resume, "continue a run that was killed or stopped, from its checkpoint (OUT.h5.ckpt); same scenario and options");
    cmd->callback([cmd] {
        require_at_least(cmd, "--threads", threads, 1);
        require_at_least(cmd, "--seed", seed, 0LL);
        require_at_least(cmd, "--steps", steps, 1LL);
        Scenario sc = load_scenario(path);
        if (cmd->count("--size")) override_key(sc, "network.size", size);
        if (cmd->count("--model")) override_key(sc, "network.model", model);
        if (cmd->count("--threads")) override_key(sc, "threads", std::to_string(threads));
        if (cmd->count("--seed")) override_key(sc, "seed", std::to_string(seed));
        if (cmd->count("--steps")) override_key(sc, "horizon.steps", std::to_string(steps));
        for (const std::string& kv : sets) {
            const auto eq = kv.find('=');
            if (eq == std::string::npos) throw ValidationError("--set '" + kv + "': expected KEY=VALUE");
            override_key(sc, kv.substr(0, eq), kv.substr(eq + 1));
        }
        check_output_is_not_input(sc, out);  // before anything is written
        const auto t0 = Clock::now();
        BuiltScenario b = build_scenario(sc);
        const double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
        const RunEstimate estimate = check_run_resources(sc, b, out);  // refuse what cannot finish
        if (!b.unbalanced) warn_deenergized(deenergized_buses(b.net));
        b.options.output_path = out;
        const std::size_t n_buses = b.unbalanced ? b.unet.buses.size() : b.net.buses.size();
        const std::size_t n_loads = b.unbalanced ? b.unet.loads.size() : b.net.loads.size();
        if (!quiet)
            std::fprintf(stderr, "%s: %s%zu buses, %zu loads, %zu PV, %zu batteries, %zu EV stations, %zu charging sites, %zu buildings, %zu homes (built in %.2f s)\n",
                         b.name.c_str(), b.unbalanced ? (sc.network.dss ? "unbalanced (.dss), " : "unbalanced, ") : "", n_buses, n_loads, b.devices.pv.size(), b.devices.batteries.size(),
                         b.devices.ev_stations.size(), b.devices.charging_sites.size(), b.devices.buildings.size(), b.devices.homes.size(), build_s);
        if (!quiet) std::fprintf(stderr, "estimate: %s\n", estimate.text().c_str());
        b.options.resume = resume;
        b.options.stop_requested = &g_stop;
        install_stop_handlers();
        const bool unbalanced = b.unbalanced;
        Simulation sim = make_simulation(b);
        const SimulationSummary s = sim.run(progress_bar(!quiet && isatty(2)));
        print_kpis(b.name, s, out);
        if (unbalanced) print_phase_summary(out);
        print_bill_periods(sim);
        if (!summary_json.empty()) write_text_file(summary_json, summary_to_json(s) + "\n", "--summary-json");
        if (!s.completed) {
            const int sig = g_stop.load();
            throw ExitStatus{sig > 0 ? 128 + sig : 1,
                             "run stopped (" + s.stop_reason + ") after " + std::to_string(s.steps) + " of " + std::to_string(s.planned_steps) +
                                 " steps; '" + out + "' holds them, with its summary (status \"stopped\"). Continue it with: libgrid run " + path +
                                 " -o " + out + " --resume (and the same options)"};
        }
        if (s.non_converged_steps == s.steps) throw Error("no step converged");
    });
}

}  // namespace libgrid::cli
