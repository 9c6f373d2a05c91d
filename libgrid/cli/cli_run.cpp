// `libgrid run SCENARIO.yaml -o OUT.h5`: build the scenario, run it with a progress bar, print
// the KPI table.
#include "cli.hpp"

#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
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
    std::printf("  %-36s %14zu\n", "non-converged steps", s.non_converged_steps);
    std::printf("  %-36s %14.3f s (%.0f steps/s)\n", "wall time", s.wall_time_s, s.steps_per_second);
    std::printf("  %-36s %14s setup %.2f, profiles %.2f, devices %.2f, power flow %.2f (%d iterations), recording %.2f, checkpoints %.2f s\n", "time split", "",
                s.time_setup_s, s.time_profiles_s, s.time_devices_s, s.time_powerflow_s, s.powerflow_iterations, s.time_record_s, s.time_checkpoint_s);
    std::printf("  %-36s %14.4f MW\n", "peak import", s.peak_import_mw);
    std::printf("  %-36s %14.3f MWh\n", "energy imported", s.import_mwh);
    std::printf("  %-36s %14.3f MWh\n", "energy exported", s.export_mwh);
    std::printf("  %-36s %14.3f MWh\n", "load (incl. EV, buildings)", s.load_mwh);
    std::printf("  %-36s %14.3f MWh\n", "losses", s.losses_mwh);
    std::printf("  %-36s %14.3f MWh (%.3f MWh curtailed)\n", "PV energy", s.pv_mwh, s.pv_curtailed_mwh);
    std::printf("  %-36s %14.1f %%\n", "PV self-consumption", s.self_consumption * 100);
    std::printf("  %-36s %14.1f %%\n", "self-sufficiency", s.self_sufficiency * 100);
    std::printf("  %-36s %14.4f .. %.4f p.u.\n", "voltage range", s.min_vm_pu, s.max_vm_pu);
    if (s.deenergized_buses) std::printf("  %-36s %14zu (no source in their island: NaN voltages)\n", "de-energised buses", s.deenergized_buses);
    std::printf("  %-36s %14zu (%.2f h with any)\n", "voltage violations (bus-steps)", s.voltage_violation_bus_steps, s.voltage_violation_hours);
    std::printf("  %-36s %14.1f %%\n", "max transformer loading", s.max_trafo_loading_percent);
    std::printf("  %-36s %14.1f %%\n", "max line loading", s.max_line_loading_percent);
    std::printf("  %-36s %14.3f MWh\n", "battery throughput (discharged)", s.battery_discharged_mwh);
    std::printf("  %-36s %14.3f MWh (%.3f not delivered to cars that left, %.3f blocked, %.3f pending at the end)\n", "EV energy delivered",
                s.ev_delivered_mwh, s.ev_not_delivered_mwh, s.ev_blocked_mwh, s.ev_pending_mwh);
    std::printf("  %-36s %14.4f MW\n", "EV peak", s.ev_peak_mw);
    std::printf("  %-36s %14.1f K h (homes %.1f K h)\n", "building discomfort (BEMS)", s.building_comfort_degree_hours, s.home_comfort_degree_hours);
    std::printf("  %-36s %14.2f t\n", "CO2 of grid imports", s.co2_t);
    std::printf("  %-36s %14.2f RM\n", "customers' bills", s.bills_rm);
    std::printf("  %-36s %14.2e MW\n", "energy balance, worst step", s.energy_balance_max_error_mw);
}

}  // namespace

void add_run(CLI::App& app) {
    auto* cmd = app.add_subcommand("run", "Run a scenario (YAML) and write its results (HDF5)");
    static std::string path, out, size;
    static int threads = 0;
    static long long seed = -1, steps = -1;
    static std::vector<std::string> sets;
    static bool quiet = false;
    cmd->add_option("SCENARIO", path, "scenario file (YAML)")->required();
    cmd->add_option("-o,--output", out, "results file (HDF5)")->required();
    cmd->add_option("--size", size, "Melaka grid size: small | district | city");
    cmd->add_option("--threads", threads, "threads for the device updates");
    cmd->add_option("--seed", seed, "random seed");
    cmd->add_option("--steps", steps, "number of steps (overrides the horizon)");
    cmd->add_option("--set", sets, "override any key: --set devices.ev.share=0.3");
    cmd->add_flag("-q,--quiet", quiet, "no progress bar");
    static bool resume = false;
    cmd->add_flag("--resume", resume, "continue a run that was killed or stopped, from its checkpoint (OUT.h5.ckpt); same scenario and options");
    cmd->callback([cmd] {
        require_at_least(cmd, "--threads", threads, 1);
        require_at_least(cmd, "--seed", seed, 0LL);
        require_at_least(cmd, "--steps", steps, 1LL);
        Scenario sc = load_scenario(path);
        if (cmd->count("--size")) override_key(sc, "network.size", size);
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
        warn_deenergized(deenergized_buses(b.net));
        b.options.output_path = out;
        if (!quiet)
            std::fprintf(stderr, "%s: %zu buses, %zu loads, %zu PV, %zu batteries, %zu EV stations, %zu charging sites, %zu buildings, %zu homes (built in %.2f s)\n",
                         b.name.c_str(), b.net.buses.size(), b.net.loads.size(), b.devices.pv.size(), b.devices.batteries.size(),
                         b.devices.ev_stations.size(), b.devices.charging_sites.size(), b.devices.buildings.size(), b.devices.homes.size(), build_s);
        if (!quiet) std::fprintf(stderr, "estimate: %s\n", estimate.text().c_str());
        b.options.resume = resume;
        b.options.stop_requested = &g_stop;
        install_stop_handlers();
        Simulation sim(std::move(b.net), std::move(b.devices), b.options);
        const SimulationSummary s = sim.run(progress_bar(!quiet && isatty(2)));
        print_kpis(b.name, s, out);
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
