// libgrid layer 7: the quasi-static time-series engine (see simulation/engine.hpp).
#include <libgrid/config.hpp>
#include <libgrid/core/errors.hpp>
#include <libgrid/math/math_model.hpp>
#include <libgrid/math/output.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/solvers.hpp>
#include <libgrid/simulation/device_group.hpp>
#include <libgrid/simulation/engine.hpp>
#include <libgrid/simulation/kpis.hpp>
#include <libgrid/core/thread_pool.hpp>

#include "checkpoint.hpp"
#include "comms_headend.hpp"
#include "comms_devices.hpp"
#include "grid_model.hpp"
#include "group_common.hpp"
#include <libgrid/simulation/state_archive.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <unordered_map>

namespace libgrid {
namespace {

template <class T>
std::unordered_map<Id, std::size_t> index_by_id(const std::vector<T>& v) {
    std::unordered_map<Id, std::size_t> m;
    m.reserve(v.size() * 2);
    for (std::size_t i = 0; i < v.size(); ++i) m[v[i].id] = i;
    return m;
}

// ---- what of each device changes from step to step (checkpoints) -------------------------------
using detail::StateIn;
using detail::StateOut;

using detail::state_bool;

template <class Ar>
void state(Ar& ar, Violation& v) {
    ar.pod("violation.found", v.found);
    ar.pod("violation.time", v.time);
    ar.str("violation.kind", v.kind);
    ar.pod("violation.element", v.element);
    ar.pod("violation.value", v.value);
    ar.str("violation.phase", v.phase);  // issue 15 (H4)
}

// A field added to SimulationSummary that accumulates over steps must be listed below (resume
// restores only what is listed); then update this size.
// (issue 17 H2: dr, dr_requested_kw, dr_delivered_kw, dr_devices_reached_share are set at finish by
// the building group from its own archived state: not accumulators, not listed; issue 17 H5: so are
// dr_reached_devices, dr_targeted_devices, summed at finish by the building, EV station and EV site groups.)
static_assert(sizeof(SimulationSummary) == 1072, "SimulationSummary changed: list new accumulators in state(SimulationSummary)");

/// The summary's accumulators (not its wall-clock timings: a resumed run adds its own).
template <class Ar>
void state(Ar& ar, SimulationSummary& s) {
    state(ar, s.first_violation);
    ar.pod("sum.steps", s.steps);
    ar.pod("sum.non_converged_steps", s.non_converged_steps);
    ar.pod("sum.controls_unsettled_steps", s.controls_unsettled_steps);
    ar.pod("sum.voltage_violation_bus_steps", s.voltage_violation_bus_steps);
    ar.pod("sum.voltage_violation_hours", s.voltage_violation_hours);
    ar.pod("sum.min_vm_pu", s.min_vm_pu);
    ar.pod("sum.max_vm_pu", s.max_vm_pu);
    ar.pod("sum.max_line_loading_percent", s.max_line_loading_percent);
    ar.pod("sum.max_trafo_loading_percent", s.max_trafo_loading_percent);
    ar.pod("sum.overloaded_branch_steps", s.overloaded_branch_steps);
    ar.pod("sum.losses_mwh", s.losses_mwh);
    ar.pod("sum.import_mwh", s.import_mwh);
    ar.pod("sum.export_mwh", s.export_mwh);
    ar.pod("sum.peak_import_mw", s.peak_import_mw);
    ar.pod("sum.load_mwh", s.load_mwh);
    ar.pod("sum.pv_mwh", s.pv_mwh);
    ar.pod("sum.pv_available_mwh", s.pv_available_mwh);
    ar.pod("sum.pv_curtailed_mwh", s.pv_curtailed_mwh);
    ar.pod("sum.pv_self_consumed_mwh", s.pv_self_consumed_mwh);
    ar.pod("sum.meter_import_mwh", s.meter_import_mwh);
    ar.pod("sum.meter_export_mwh", s.meter_export_mwh);
    ar.pod("sum.pv_behind_meter_mwh", s.pv_behind_meter_mwh);
    ar.pod("sum.load_profiles_mwh", s.load_profiles_mwh);
    ar.pod("sum.ev_charging_mwh", s.ev_charging_mwh);
    ar.pod("sum.building_mwh", s.building_mwh);
    ar.pod("sum.home_mwh", s.home_mwh);
    ar.pod("sum.battery_net_charge_mwh", s.battery_net_charge_mwh);
    ar.pod("sum.network_gen_mwh", s.network_gen_mwh);
    ar.pod("sum.losses_line_mwh", s.losses_line_mwh);
    ar.pod("sum.losses_trafo_load_mwh", s.losses_trafo_load_mwh);
    ar.pod("sum.losses_trafo_noload_mwh", s.losses_trafo_noload_mwh);
    ar.pod("sum.losses_branch_mwh", s.losses_branch_mwh);
    ar.pod("sum.losses_source_mwh", s.losses_source_mwh);
    ar.pod("sum.co2_t", s.co2_t);
    ar.pod("sum.co2_avoided_export_t", s.co2_avoided_export_t);
    ar.pod("sum.bills_rm", s.bills_rm);
    ar.pod("sum.ev_peak_mw", s.ev_peak_mw);
    ar.pod("sum.ev_blocked_mwh", s.ev_blocked_mwh);
    ar.pod("sum.ev_pending_mwh", s.ev_pending_mwh);
    ar.pod("sum.energy_balance_max_error_mw", s.energy_balance_max_error_mw);
    ar.pod("sum.powerflow_iterations", s.powerflow_iterations);
    ar.pod("sum.deenergized_buses", s.deenergized_buses);
    ar.pod("sum.max_vuf_percent", s.max_vuf_percent);
    ar.pod("sum.vuf_p95_percent", s.vuf_p95_percent);
    ar.pod("sum.max_neutral_current_a", s.max_neutral_current_a);
    // added (issue 15, H3): the rest of the unbalance KPIs
    ar.pod("sum.vuf_limit_percent", s.vuf_limit_percent);
    ar.pod("sum.vuf_bus_steps", s.vuf_bus_steps);
    ar.pod("sum.vuf_bus_steps_over_limit", s.vuf_bus_steps_over_limit);
    ar.pod("sum.vuf_bus_steps_over_limit_percent", s.vuf_bus_steps_over_limit_percent);
    ar.pod("sum.undervoltage_node_steps_a", s.undervoltage_node_steps_a);
    ar.pod("sum.undervoltage_node_steps_b", s.undervoltage_node_steps_b);
    ar.pod("sum.undervoltage_node_steps_c", s.undervoltage_node_steps_c);
    ar.pod("sum.overvoltage_node_steps_a", s.overvoltage_node_steps_a);
    ar.pod("sum.overvoltage_node_steps_b", s.overvoltage_node_steps_b);
    ar.pod("sum.overvoltage_node_steps_c", s.overvoltage_node_steps_c);
    ar.pod("sum.neutral_losses_mwh", s.neutral_losses_mwh);
    ar.pod("sum.max_trafo_phase_loading_percent", s.max_trafo_phase_loading_percent);
    ar.pod("sum.max_line_conductor_loading_percent", s.max_line_conductor_loading_percent);
    // issue 16 (H2): the resilience KPIs' accumulators
    ar.pod("sum.energy_not_served_mwh", s.energy_not_served_mwh);
    ar.pod("sum.energy_not_served_residential_mwh", s.energy_not_served_residential_mwh);
    ar.pod("sum.energy_not_served_commercial_mwh", s.energy_not_served_commercial_mwh);
    ar.pod("sum.energy_not_served_industrial_mwh", s.energy_not_served_industrial_mwh);
    ar.pod("sum.customer_hours_interrupted", s.customer_hours_interrupted);
    ar.pod("sum.interruptions", s.interruptions);
    ar.pod("sum.islanded_steps", s.islanded_steps);
    ar.pod("sum.interrupted_steps", s.interrupted_steps);
    // issue 16: islanded operation
    ar.pod("sum.energy_shed_deferrable_mwh", s.energy_shed_deferrable_mwh);
    ar.pod("sum.energy_shed_essential_mwh", s.energy_shed_essential_mwh);
    ar.pod("sum.shed_steps", s.shed_steps);
    ar.pod("sum.critical_customer_hours_interrupted", s.critical_customer_hours_interrupted);
    ar.pod("sum.critical_load_served_hours", s.critical_load_served_hours);
    ar.pod("sum.island_collapses", s.island_collapses);
    ar.pod("sum.time_to_collapse_h", s.time_to_collapse_h);
    ar.pod("sum.island_frequency_min_hz", s.island_frequency_min_hz);
    ar.pod("sum.island_frequency_max_hz", s.island_frequency_max_hz);
    ar.pod("sum.forming_soc_outage_start", s.forming_soc_outage_start);
    ar.pod("sum.forming_soc_outage_end", s.forming_soc_outage_end);
    // issue 17: the communication layer (only with comms: the state of other runs stays as it was)
    if (s.comms) {
        ar.pod("sum.meter_readings", s.meter_readings);
        ar.pod("sum.headend_readings", s.headend_readings);
        ar.pod("sum.bill_estimation_error_rm", s.bill_estimation_error_rm);
        ar.pod("sum.stale_price_steps", s.stale_price_steps);
        ar.pod("sum.stale_price_wrong_steps", s.stale_price_wrong_steps);
        ar.pod("sum.battery_setpoint_stale_steps", s.battery_setpoint_stale_steps);
        ar.pod("sum.ev_limit_stale_steps", s.ev_limit_stale_steps);
    }
}

/// What steps change in the network: switch positions and service states (events), tap positions
/// and shunt steps (controls).
template <class Ar>
void state(Ar& ar, Network& net) {
    for (Switch& x : net.switches) state_bool(ar, "switch.closed", x.closed);
    for (Line& x : net.lines) state_bool(ar, "line.in_service", x.in_service);
    for (Transformer& x : net.transformers) {
        state_bool(ar, "trafo.in_service", x.in_service);
        ar.pod("trafo.tap_pos", x.tap_pos);
    }
    for (Load& x : net.loads) state_bool(ar, "load.in_service", x.in_service);
    for (SGen& x : net.sgens) state_bool(ar, "sgen.in_service", x.in_service);
    for (Shunt& x : net.shunts) ar.pod("shunt.step", x.step);
}

}  // namespace

std::string checkpoint_path(const std::string& output) { return output + ".ckpt"; }

/// A timed event, resolved once at construction: which table (or device group) and which row.
struct ResolvedEvent {
    enum class Target : int { Switch, Line, Trafo, Load, SGen, Device, ExtGrid };
    LocalTime time = 0;
    Target target = Target::Switch;
    bool on = false;
    std::size_t index = 0;  ///< row of the network table, or device index in the group
    std::size_t group = 0;  ///< device group (Target::Device)
    std::size_t source = 0; ///< issue 16: the event in Impl::timeline (the /events table's row)
};

/// Issue 16: an event with a duration, undone at its end (docs/resilience.md).
Event undoing(const Event& e) {
    Event r = e;
    r.time = e.time + e.duration_s;
    r.duration_s = 0;
    switch (e.kind) {
    case EventKind::OpenSwitch: r.kind = EventKind::CloseSwitch; break;
    case EventKind::CloseSwitch: r.kind = EventKind::OpenSwitch; break;
    case EventKind::OutOfService: r.kind = EventKind::InService; break;
    case EventKind::InService: r.kind = EventKind::OutOfService; break;
    }
    r.cause = e.cause == "random" ? "repair" : "restoration";
    return r;
}

const char* event_action(EventKind k) {
    switch (k) {
    case EventKind::OpenSwitch: return "open";
    case EventKind::CloseSwitch: return "close";
    case EventKind::OutOfService: return "out_of_service";
    case EventKind::InService: return "in_service";
    }
    return "?";
}

struct Simulation::Impl : detail::EngineState {
    std::vector<ResolvedEvent> events;
    /// Issue 16: the events in the order they apply (dev.events and the undoing of those with a
    /// duration), as the /events table lists them.
    std::vector<Event> timeline;

    // ---- issue 16: the resilience KPIs (docs/resilience.md) ----
    std::vector<char> cust_counted;  ///< per customer: in service and energised as given (the run's customers)
    std::vector<char> load_in_service0;  ///< per load: in service as constructed (before any event)
    std::vector<double> cust_out;    ///< per customer: 1 while interrupted (last step), else 0
    std::vector<double> cust_ever;   ///< per customer: 1 once interrupted in the run
    std::vector<int> cust_class;     ///< per customer: its profile's class (CustomerClass), -1 without a profile
    std::vector<double> row_not_served_kw;  ///< /load/not_served_kw (runs with events)
    // ---- issue 16: islanded operation (docs/microgrid.md "Time series") ----
    detail::StateOut island_snap;              ///< the device groups before an islanded step (retries)
    std::vector<double> row_island;            ///< /island: frequency min, max (Hz), shed level
    int h_island[3] = {-1, -1, -1};
    LocalTime first_island_t = -1;             ///< start of the first islanded step (-1: none yet)
    std::unique_ptr<detail::GridModel> grid;  ///< the grid behind the seam (grid_model.hpp)

    // ---- loads (not a device group: their profiles are generated here in blocks) ----
    std::vector<int> load_spec;         // per load: index into dev.load_profiles or -1
    std::vector<double> block_p_kw;     // [step_in_block * n_loads + l]
    std::vector<double> block_q_kvar;
    std::vector<double> block_temp_excess;  // the block's temperatures minus the reference cycle (AC response)
    std::size_t block_start = 0, block_len = 0;
    std::vector<double> bus_flex_kw;             // this step, EV stations stepped so far, per bus (grid_aware)

    WeatherSeries weather;
    std::vector<char> cust_replaced;    // load replaced by a building or home model
    std::vector<double> cust_extra_kw;  // behind-the-meter device consumption per customer

    // ---- customers / meters / bills ----
    std::vector<double> cust_net_kw;       // per load (customer), this step, + = import
    std::vector<double> cust_pv_kw;        // behind-the-meter PV per customer
    std::vector<double> interval_imp, interval_exp;  // per customer, current meter interval
    std::vector<double> month_imp, month_exp;        // [c * month_cap + k]
    std::size_t month_cap = 0, month_len = 0;
    LocalTime month_start = 0;
    int month_key = -1;
    std::vector<int> cust_tariff;          // per customer: index into dev.tariffs or -1
    std::vector<std::vector<Bill>> bills;
    std::vector<Id> bill_customers;
    // issue 19: from SimulationOptions (holidays, peak_tariff, default_tariff); none by default
    HolidayPredicate holiday = [](std::int64_t) { return false; };
    Tariff tou_tariff = Tariff::tnb_domestic_tou();
    bool billing = false;                  // some customer has a tariff (own or opt.default_tariff)
    const Tariff& tariff_of(int ti) const { return ti >= 0 ? dev.tariffs[ti].tariff : *opt.default_tariff; }

    // ---- recording ----
    std::unique_ptr<Recorder> own_w;  // the HDF5 recorder of output_path
    int h_meter_t = -1, h_meter_imp = -1, h_meter_exp = -1, h_conv = -1, h_iter = -1, h_balance = -1;

    // ---- issue 17: the head-end's view of the meters through the PLC channel (docs/comms.md) ----
    std::vector<double> hd_imp, hd_exp;              ///< per customer, the closing interval (NaN = missing)
    CommsTopology comms_topo;                        ///< the PLC networks (hops, concentrators)
    CommsContext comms_ctx;                          ///< what device groups read messages through (ctx.comms)
    detail::MeterComms meter_comms;                  ///< the readings' hops and concentrator queues (H1)
    CommsDevices comms_dev;                          ///< issue 17 H3: price schedules and set points to devices
    std::vector<double> month_hd_imp, month_hd_exp;  ///< [c * month_cap + k], like month_imp (NaN = missing)
    std::vector<double> est_imp, est_exp;            ///< scratch: one customer's month, estimated
    std::vector<std::vector<Bill>> bills_hd;         ///< per customer, bills from the head-end's data
    int h_hd_t = -1, h_hd_imp = -1, h_hd_exp = -1;

    std::size_t next_event = 0;

    // ---- issue 19: stepped runs, results in memory, the application's changes ----
    enum class RunPhase { Constructed, Started, Finished };
    RunPhase run_phase = RunPhase::Constructed;
    std::size_t k_next = 0, k_first = 0;       ///< the next step; the first of this run (a resumed run's checkpoint)
    std::string stopped;                       ///< why the run stopped before its end ("" = it did not)
    std::atomic<int> cancel_flag{0};           ///< Simulation::cancel()
    std::chrono::steady_clock::time_point t_run0;
    std::shared_ptr<MemoryRecorder> mem;       ///< results_in_memory
    std::unique_ptr<Recorder> tee;             ///< the file and memory together
    Results mem_results;
    bool app_changes = false;                  ///< set points or events from the application: no checkpoints
    StepInfo last;                             ///< the last step's status

    // ---- checkpoints (docs/reliability.md) ----------------------------------------------------
    /// Everything a step changes that the next steps read, in one list for saving and restoring.
    /// Not here: what every step recomputes before it reads it (load powers, customer sums, rows).
    template <class Ar>
    void archive_state(Ar& ar) {
        if constexpr (Ar::saving) grid->save_state(ar);
        else grid->restore_state(ar);
        ar.pod("next_event", next_event);
        for (auto& g : groups) {
            if constexpr (Ar::saving) g->save_state(ar);
            else g->restore_state(ar);
        }
        ar.fixed("interval_imp", interval_imp);
        ar.fixed("interval_exp", interval_exp);
        ar.pod("month_len", month_len);
        ar.pod("month_start", month_start);
        ar.pod("month_key", month_key);
        if constexpr (!Ar::saving)
            if (month_len > month_cap) ar.bad("month_len", "more intervals than a month holds");
        archive_months(ar, month_imp, month_exp, "month");
        for (std::vector<Bill>& b : bills) ar.vec("bills", b);
        if (opt.comms.enabled) archive_headend(ar);  // issue 17
        state(ar, sum);
        // issue 16: islanded operation
        ar.pod("first_island_t", first_island_t);
        std::uint64_t nc = collapses.size();
        ar.pod("collapses", nc);
        if constexpr (!Ar::saving) {
            if (nc > (std::uint64_t(1) << 32)) ar.bad("collapses", "implausible count");
            collapses.resize(std::size_t(nc));
        }
        for (Collapse& c : collapses) {
            ar.pod("collapse.t", c.t);
            ar.pod("collapse.bus", c.bus);
            ar.str("collapse.cause", c.cause);
        }
        ar.pod("block_start", block_start);
        ar.pod("block_len", block_len);
        ar.fixed("cust_out", cust_out);  // issue 16
        ar.fixed("cust_ever", cust_ever);
    }
    /// Issue 17: the head-end's month so far and its bills (runs with comms only).
    template <class Ar>
    void archive_headend(Ar& ar) {
        archive_months(ar, month_hd_imp, month_hd_exp, "month_headend");
        for (std::vector<Bill>& b : bills_hd) ar.vec("bills_headend", b);
        meter_comms.archive(ar);  // issue 17 (H1): the concentrators' queues and statistics
    }
    /// The month so far of every customer: the first month_len values of imp and exp ([c * month_cap + k]).
    template <class Ar>
    void archive_months(Ar& ar, std::vector<double>& imp, std::vector<double>& exp, const char* name) {
        std::vector<double> part;
        for (std::size_t c = 0; c < net.loads.size(); ++c)
            for (std::vector<double>* mv : {&imp, &exp}) {
                double* first = mv->data() + c * month_cap;
                if constexpr (Ar::saving) {
                    part.assign(first, first + month_len);
                    ar.vec(name, part);
                } else {
                    ar.vec(name, part);
                    if (part.size() != month_len) ar.bad(name, "length differs from month_len");
                    std::copy(part.begin(), part.end(), first);
                }
            }
    }

    /// Digest of what defines the run (a checkpoint resumes only the run it was written for).
    std::uint64_t input_digest() const {
        using detail::fnv1a;
        std::uint64_t h = fnv1a(opt.scenario_text.data(), opt.scenario_text.size());
        const std::int64_t nums[] = {opt.start, opt.step_s, std::int64_t(opt.n_steps), std::int64_t(opt.seed), std::int64_t(opt.method),
                                     std::int64_t(net.buses.size()), std::int64_t(net.loads.size()),
                                     std::int64_t(opt.meter_interval_s), std::int64_t(opt.checkpoint_steps)};
        h = fnv1a(nums, sizeof nums, h);
        for (const auto& g : groups) {
            const std::string kind = g->kind();
            const std::int64_t n = std::int64_t(g->size());
            h = fnv1a(kind.data(), kind.size(), h);
            h = fnv1a(&n, sizeof n, h);
        }
        for (const Bus& b : net.buses) h = fnv1a(&b.id, sizeof b.id, h);
        const double reals[] = {opt.tolerance, opt.control_tolerance_pu, opt.loading_limit_percent};
        h = fnv1a(reals, sizeof reals, h);
        if (opt.comms.enabled) {  // issue 17 (other runs' digests stay as they were)
            const PlcOptions& p = opt.comms.plc;
            const double c[] = {p.packet_loss, p.latency_median_s, p.latency_sigma, double(p.retries), p.retry_s, opt.comms.deadline_s};
            h = fnv1a(c, sizeof c, h);
            const double topo[] = {p.hop_length_m, p.concentrator_rate_per_s, opt.comms.price_send_hour};  // issue 17 (H1, H3)
            h = fnv1a(topo, sizeof topo, h);
        }
        for (const DemandResponseEvent& e : opt.demand_response) {  // issue 17 (H2; none: digest as before)
            const double d[] = {double(e.start), double(e.end), e.reduction, e.notice_s, e.buildings ? 1.0 : 0.0};
            h = fnv1a(d, sizeof d, h);
            if (e.chargers) h = fnv1a("chargers", 8, h);  // issue 17 (H5; buildings-only: digest as before)
            if (e.homes) h = fnv1a("homes", 5, h);
        }
        return h;
    }

    /// Re-derives the model and the solver's factorisation from the network (keeping the voltages):
    /// the state at a checkpoint boundary then depends only on what the checkpoint holds.
    void resync() { grid->resync(); }

    /// The state at a checkpoint boundary, waiting until the results rows before it are in the file.
    struct Snapshot {
        std::size_t step = 0;
        std::vector<std::pair<std::string, std::size_t>> rows;  ///< every series' rows at `step`
        std::vector<unsigned char> state;
    };
    std::vector<Snapshot> pending;
    std::size_t last_state_bytes = 0;
    std::vector<unsigned char> spare_state;

    /// At a checkpoint boundary: keep the state in memory; it becomes the checkpoint file as soon
    /// as every series has flushed the rows it had then (usually at the next boundary, when the
    /// chunks in flight are written), so the run never waits for compression to checkpoint. At
    /// most 3 wait; then the file is flushed.
    void snapshot_checkpoint(std::size_t k) {
        Snapshot sn;
        sn.step = k;
        sn.rows = w->series_rows();
        detail::StateOut out;
        out.bytes = std::move(spare_state);  // the buffer of the last checkpoint written: no fresh pages
        out.bytes.clear();
        out.bytes.reserve(last_state_bytes + 4096);
        archive_state(out);
        last_state_bytes = out.bytes.size();
        sn.state = std::move(out.bytes);
        pending.push_back(std::move(sn));
        commit_checkpoints(false);
        if (pending.size() > 3) {
            w->flush();
            commit_checkpoints(false);
        }
    }

    /// Writes the newest waiting snapshot whose rows are all in the file (all: after close()).
    void commit_checkpoints(bool all_in_file) {
        std::size_t n = pending.size();
        for (; n > 0; --n) {
            const Snapshot& sn = pending[n - 1];
            bool ok = true;
            for (std::size_t h = 0; h < sn.rows.size() && ok && !all_in_file; ++h) ok = w->durable_rows(int(h)) >= sn.rows[h].second;
            if (ok) break;
        }
        if (n == 0) return;
        Snapshot& sn = pending[n - 1];
        detail::Checkpoint c;
        c.libgrid_version = LIBGRID_VERSION;
        c.digest = input_digest();
        c.next_step = sn.step;
        c.n_steps = opt.n_steps;
        for (auto& [path, rows] : sn.rows) c.series_rows.emplace_back(path, rows);
        c.state = std::move(sn.state);
        detail::save_checkpoint(checkpoint_path(opt.output_path), c);
        spare_state = std::move(c.state);
        pending.erase(pending.begin(), pending.begin() + long(n));
    }

    // ---- validation --------------------------------------------------------------------------
    void validate_options() const {
        grid->validate();
        // issue 19: the step under its own name, before anything derived from it (meter interval)
        if (opt.step_s < 60 || opt.step_s > 3600 || 3600 % opt.step_s != 0)
            throw ValidationError("simulation: field 'step_s': must be 60 .. 3600 s and divide an hour (60, 300, 900, 1800, 3600, ...), got " +
                                  std::to_string(opt.step_s));
        if (opt.n_steps == 0) throw ValidationError("simulation: field 'n_steps': must be >= 1");
        if (opt.meter_interval_s < opt.step_s || opt.meter_interval_s % opt.step_s != 0)
            throw ValidationError("simulation: field 'meter_interval_s': must be a multiple of step_s (" + std::to_string(opt.step_s) + " s), got " + std::to_string(opt.meter_interval_s));
        if (opt.threads < 1) throw ValidationError("simulation: field 'threads': must be >= 1");
        if (opt.recorder && !opt.output_path.empty()) throw ValidationError("simulation: give either 'output_path' or 'recorder', not both");
        if (opt.resume && opt.results_in_memory)
            throw ValidationError("simulation: field 'results_in_memory': not with 'resume' (the steps before the checkpoint are only in the file)");
    }

    void validate_inputs() {
        validate_options();
        bus_at = index_by_id(net.buses);
        load_at = index_by_id(net.loads);
        ix.bus_at = &bus_at;
        ix.load_at = &load_at;
        load_bus.clear();
        for (const Load& l : net.loads) load_bus.push_back(l.bus);
        ix.load_bus = &load_bus;
        for (const auto& g : groups) g->validate(ix, opt);
        validate_load_profiles();
        cust_tariff.assign(net.loads.size(), -1);
        for (std::size_t s = 0; s < dev.tariffs.size(); ++s) {
            auto it = load_at.find(dev.tariffs[s].customer);
            if (it == load_at.end()) throw IdError("tariff: field 'customer': unknown load id " + std::to_string(dev.tariffs[s].customer));
            validate(dev.tariffs[s].tariff);
            cust_tariff[it->second] = int(s);
        }
        for (const Event& e : dev.events) resolve_event(e);
        // issue 19: the place's inputs, named as options
        const auto named = [](const char* field, const auto& check) {
            try {
                check();
            } catch (const ValidationError& e) {
                throw ValidationError(std::string("simulation: field '") + field + "': " + e.what());
            }
        };
        if (opt.emission) named("emission", [&] { validate(*opt.emission); });
        if (opt.default_tariff) named("default_tariff", [&] { validate(*opt.default_tariff); });
        named("peak_tariff", [&] { validate(opt.peak_tariff); });
        if (opt.emission_marginal_given) validate(opt.emission_marginal);
        if (opt.comms.enabled) validate(opt.comms);  // issue 17
        validate(opt.demand_response);                // issue 17 (H2): demand_response events
    }

    void validate_load_profiles() {
        load_spec.assign(net.loads.size(), -1);
        for (std::size_t s = 0; s < dev.load_profiles.size(); ++s) {
            const LoadProfileSpec& p = dev.load_profiles[s];
            auto it = load_at.find(p.load);
            const std::string who = "load profile for load " + std::to_string(p.load);
            if (it == load_at.end()) throw IdError(who + ": field 'load': unknown load id " + std::to_string(p.load));
            if (load_spec[it->second] >= 0) throw IdError(who + ": the load has two profiles");
            load_spec[it->second] = int(s);
            if (!p.p_kw.empty() && p.p_kw.size() < opt.n_steps)
                throw ValidationError(who + ": field 'p_kw': " + std::to_string(p.p_kw.size()) + " values for " + std::to_string(opt.n_steps) + " steps");
            if (!p.q_kvar.empty() && p.q_kvar.size() != p.p_kw.size())
                throw ValidationError(who + ": field 'q_kvar': must have as many values as p_kw");
            for (std::size_t k = 0; k < p.p_kw.size(); ++k)
                if (!std::isfinite(p.p_kw[k])) throw ValidationError(who + ": field 'p_kw': value " + std::to_string(k) + " is not finite");
            if (!(p.power_factor > 0 && p.power_factor <= 1)) throw ValidationError(who + ": field 'power_factor': must be in (0, 1]");
            if (!(p.daily_kwh >= 0) || !std::isfinite(p.daily_kwh)) throw ValidationError(who + ": field 'daily_kwh': must be >= 0");
        }
    }

    /// An event's element (a string at the API) resolved to a table or device group and a row.
    /// Throws for an unknown element kind or id.
    ResolvedEvent resolve_event(const Event& e) const {
        using T = ResolvedEvent::Target;
        const std::string who = "event at " + format_iso8601(e.time);
        ResolvedEvent r;
        r.time = e.time;
        r.on = e.kind == EventKind::CloseSwitch || e.kind == EventKind::InService;
        auto row = [&](const auto& table, T target) {
            r.target = target;
            for (std::size_t i = 0; i < table.size(); ++i)
                if (table[i].id == e.id) {
                    r.index = i;
                    return true;
                }
            return false;
        };
        bool known = false;
        if (!(e.duration_s >= 0)) throw ValidationError(who + ": field 'duration_s': must be >= 0, got " + std::to_string(e.duration_s));
        if (grid->is_unbalanced() && (e.element == "switch" || e.element == "line" || e.element == "trafo" || e.element == "sgen" || e.element == "ext_grid")) {
            // issue 15b: the UNetwork's lines, switches (lines with switch=yes) and transformers; issue 16: its sources
            r.target = e.element == "switch" ? T::Switch : e.element == "line" ? T::Line : e.element == "ext_grid" ? T::ExtGrid : T::Trafo;
            try {
                known = grid->find_element(e.element, e.id, r.index);
            } catch (const ValidationError& x) {
                throw ValidationError(who + ": " + x.what());
            }
        } else if (e.element == "switch") known = row(net.switches, T::Switch);
        else if (e.element == "line") known = row(net.lines, T::Line);
        else if (e.element == "trafo") known = row(net.transformers, T::Trafo);
        else if (e.element == "load") known = row(net.loads, T::Load);
        else if (e.element == "sgen") known = row(net.sgens, T::SGen);
        else if (e.element == "ext_grid") known = row(net.ext_grids, T::ExtGrid);  // issue 16: a supply outage
        else if (!resolve_device_event(e, r, known)) throw ValidationError(who + ": field 'element': unknown element kind '" + e.element + "'");
        if (!known) throw IdError(who + ": field 'id': unknown " + e.element + " id " + std::to_string(e.id));
        if (e.element == "switch" && e.kind != EventKind::OpenSwitch && e.kind != EventKind::CloseSwitch)
            throw ValidationError(who + ": field 'kind': a switch opens or closes");
        if (e.element == "ext_grid" && e.kind != EventKind::OutOfService && e.kind != EventKind::InService)
            throw ValidationError(who + ": field 'kind': an ext grid goes out of service or into service");
        return r;
    }

    /// Issue 16: an unbalanced grid cannot yet run with every source out of service (the stepper
    /// needs a node): refuse, before the run, the event that would take the last one out.
    void refuse_source_outage(std::size_t n) const {
        std::vector<char> on(n, 1);  // the sources' service states through the events (all in service as built)
        std::size_t live = n;
        for (const ResolvedEvent& e : events) {
            if (e.target != ResolvedEvent::Target::ExtGrid || e.index >= n) continue;
            if (on[e.index] && !e.on) --live;
            else if (!on[e.index] && e.on) ++live;
            on[e.index] = e.on;
            if (live == 0)
                throw ValidationError("event at " + format_iso8601(e.time) +
                                      ": field 'element': takes the last ext grid out of service; the unbalanced engine cannot yet run a "
                                      "step with every island dead (run the balanced model: network.model: balanced)");
        }
    }

    /// false when no device group taking events is of the event's kind.
    bool resolve_device_event(const Event& e, ResolvedEvent& r, bool& known) const {
        for (std::size_t g = 0; g < groups.size(); ++g) {
            if (!groups[g]->accepts_events() || groups[g]->kind() != e.element) continue;
            r.target = ResolvedEvent::Target::Device;
            r.group = g;
            for (std::size_t k = 0; k < groups[g]->size() && !known; ++k)
                if (groups[g]->id(k) == e.id) {
                    r.index = k;
                    known = true;
                }
            return true;
        }
        return false;
    }

    void apply_events(LocalTime t) {
        using T = ResolvedEvent::Target;
        bool changed = false;
        while (next_event < events.size() && events[next_event].time <= t) {
            const ResolvedEvent& e = events[next_event++];
            const bool in_grid = grid->is_unbalanced() && (e.target == T::Switch || e.target == T::Line || e.target == T::Trafo || e.target == T::ExtGrid);
            if (in_grid)
                grid->set_element(e.target == T::Switch ? "switch" : e.target == T::Line ? "line" : e.target == T::ExtGrid ? "ext_grid" : "trafo", e.index, e.on);
            else switch (e.target) {
            case T::Switch: net.switches[e.index].closed = e.on; break;
            case T::Line: net.lines[e.index].in_service = e.on; break;
            case T::Trafo: net.transformers[e.index].in_service = e.on; break;
            case T::Load: net.loads[e.index].in_service = e.on; break;
            case T::SGen: net.sgens[e.index].in_service = e.on; break;
            case T::Device: groups[e.group]->set_in_service(e.index, e.on); break;
            case T::ExtGrid: net.ext_grids[e.index].in_service = e.on; break;
            }
            changed = changed || e.target == T::Switch || e.target == T::Line || e.target == T::Trafo || e.target == T::SGen || e.target == T::ExtGrid;
        }
        if (changed) grid->topology_changed();
    }
    // ---- load profiles, generated a block of steps at a time (bounded memory) ----
    /// The block length at step k0: at most ~8 M values per block array, whatever the number of loads.
    std::size_t block_len_at(std::size_t k0) const {
        const std::size_t nl = net.loads.size();
        const std::size_t budget = std::max<std::size_t>(8, (std::size_t(1) << 23) / std::max<std::size_t>(nl, 1));
        return std::min({opt.profile_block_steps, opt.n_steps - k0, budget});
    }

    /// Sizes the block arrays once (fill_block then never allocates).
    void size_blocks() {
        const std::size_t len = block_len_at(0), nl = net.loads.size();
        block_p_kw.assign(len * nl, 0.0);
        block_q_kvar.assign(len * nl, 0.0);
        block_temp_excess.assign(len, 0.0);
    }

    void fill_block(std::size_t k0) {
        const std::size_t nl = net.loads.size();
        block_start = k0;
        block_len = block_len_at(k0);
        const LocalTime t0 = opt.start + std::int64_t(k0) * opt.step_s;
        for (std::size_t j = 0; j < block_len; ++j)
            if (!std::isfinite(weather.temp_c[k0 + j]))
                throw ValidationError("load profiles: field 'temp_c' of the weather: value " + std::to_string(k0 + j) + " is not finite");
        temperature_excess(t0, opt.step_s, block_len, weather.temp_c.data() + k0, block_temp_excess.data());
        auto work = [&](std::size_t l) {
            const Load& ld = net.loads[l];
            const int s = load_spec[l];
            if (s < 0) {
                if (grid->shape_block(l, t0, block_len, block_p_kw.data() + l, block_q_kvar.data() + l, nl)) return;
                for (std::size_t j = 0; j < block_len; ++j) {
                    block_p_kw[j * nl + l] = ld.p_mw * ld.scaling * 1000.0;
                    block_q_kvar[j * nl + l] = ld.q_mvar * ld.scaling * 1000.0;
                }
                return;
            }
            const LoadProfileSpec& sp = dev.load_profiles[s];
            const double tanphi = std::tan(std::acos(sp.power_factor));
            if (!sp.p_kw.empty()) {
                for (std::size_t j = 0; j < block_len; ++j) {
                    const double p = sp.p_kw[k0 + j];
                    block_p_kw[j * nl + l] = p;
                    block_q_kvar[j * nl + l] = sp.q_kvar.empty() ? p * tanphi : sp.q_kvar[k0 + j];
                }
                return;
            }
            // straight into the block (column l, stride nl): no allocation
            load_profile_into(default_load_tables(sp.cls), sp.cls, t0, opt.step_s, block_len, opt.seed, std::uint64_t(ld.id), sp.daily_kwh,
                              block_temp_excess.data(), block_p_kw.data() + l, nullptr, nl);
            for (std::size_t j = 0; j < block_len; ++j) block_q_kvar[j * nl + l] = block_p_kw[j * nl + l] * tanphi;
        };
        pool->for_each(nl, work);
    }

    PvWeather pv_weather(std::size_t k) const {
        PvWeather w;
        w.ghi_wm2 = weather.ghi_wm2[k];
        w.dni_wm2 = weather.dni_wm2[k];
        w.dhi_wm2 = weather.dhi_wm2[k];
        w.sun_zenith_deg = weather.zenith_deg[k];
        w.sun_azimuth_deg = weather.azimuth_deg[k];
        w.t_amb_c = weather.temp_c[k];
        w.day_of_year = to_civil(weather.time(k)).day_of_year;
        return w;
    }

    using Clock = std::chrono::steady_clock;
    static double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

    /// This step's loads and the context every device group steps with.
    void begin_step(std::size_t k, LocalTime t, double dt_h) {
        const std::size_t nl = net.loads.size();
        const std::size_t j = k - block_start;
        for (std::size_t l = 0; l < nl; ++l) {
            const bool on = net.loads[l].in_service && !cust_replaced[l];
            load_p_kw[l] = on ? block_p_kw[j * nl + l] : 0.0;
            load_q_kvar[l] = on ? block_q_kvar[j * nl + l] : 0.0;
        }
        ctx.k = k;
        ctx.t = t;
        ctx.dt_h = dt_h;
        ctx.dt_s = dt_h * 3600.0;
        ctx.weather = pv_weather(k);
        ctx.peak = is_peak(tou_tariff, t, holiday);
        const CivilTime ct = to_civil(t);
        ctx.hour_of_day = ct.hour + ct.minute / 60.0 + ct.second / 3600.0;
        ctx.weekday = ct.weekday < 5 && !holiday(day_start(t));  // issue 19: the run's holidays
        ctx.V = &grid->voltages();
        ctx.pool = pool.get();
        ctx.customer_load_kw = &load_p_kw;
        ctx.customer_pv_kw = &cust_pv_kw;
        ctx.opt = &opt;
        std::fill(cust_pv_kw.begin(), cust_pv_kw.end(), 0.0);
        ctx.customer_load_kvar = &load_q_kvar;
        ctx.bus_flex_kw = &bus_flex_kw;
        ctx.comms = opt.comms.enabled ? &comms_ctx : nullptr;  // issue 17
        std::fill(bus_flex_kw.begin(), bus_flex_kw.end(), 0.0);
    }

    void step(std::size_t k) {
        const LocalTime t = opt.start + std::int64_t(k) * opt.step_s;
        const double dt_h = double(opt.step_s) / 3600.0;
        apply_events(t);
        auto t0 = Clock::now();
        if (k == 0 || k >= block_start + block_len) fill_block(k);
        sum.time_profiles_s += since(t0);
        t0 = Clock::now();
        begin_step(k, t, dt_h);
        // issue 16: a step with droop islands may be run again with more load shed (or an island
        // collapsed): the device groups are kept as they were before it (docs/microgrid.md)
        const bool island = grid->droop_islands();
        grid->begin_island_step(true, ctx);
        ctx.outage_left_h = island ? outage_left_h(t) : kNaN;
        if (island) {
            island_snap.bytes.clear();  // keeps its capacity: no allocation after the first islanded step
            for (auto& g : groups) g->save_state(island_snap);
        }
        for (auto& g : groups) g->step(ctx);
        if (island && first_island_t < 0) {
            first_island_t = t;
            sum.forming_soc_outage_start = forming_soc();
        }
        sum.time_devices_s += since(t0);
        t0 = Clock::now();
        int iters = 0;
        bool settled = true;
        SolveStatus st = grid->solve_with_controls(iters, settled);
        for (int attempt = 0; island && !st.converged && attempt <= detail::GridModel::kMaxShedRounds + 4 && grid->shed_or_collapse(t, attempt); ++attempt) {
            detail::StateIn in(island_snap.bytes.data(), island_snap.bytes.size(), "islanded step retry");
            for (auto& g : groups) g->restore_state(in);
            comms_dev.reset();  // issue 17: the step's stale counts start again
            begin_step(k, t, dt_h);
            grid->begin_island_step(false, ctx);
            for (auto& g : groups) g->step(ctx);
            st = grid->solve_with_controls(iters, settled);
        }
        if (opt.comms.enabled) comms_dev.drain(sum.stale_price_steps, sum.stale_price_wrong_steps, sum.battery_setpoint_stale_steps, sum.ev_limit_stale_steps);
        if (sum.island_collapses > 0 && std::isnan(sum.time_to_collapse_h)) sum.time_to_collapse_h = double(t - first_island_t) / 3600.0;
        if (!st.converged) sum.non_converged_steps++;
        if (!settled) sum.controls_unsettled_steps++;
        sum.powerflow_iterations += iters;
        sum.time_powerflow_s += since(t0);
        t0 = Clock::now();
        record(k, t, dt_h, st.converged, iters);
        sum.time_record_s += since(t0);
        last = StepInfo{k, opt.n_steps, t, st.converged, settled, iters};
    }

    // ---- results of a step ----
    void record(std::size_t k, LocalTime t, double dt_h, bool converged, int iters) {
        detail::GridStep g;
        grid->record_network(t, dt_h, converged, g);
        const double losses = g.losses_mw, source_losses_mw = g.source_losses_mw;
        // elements (generator convention), and the sources that close the balance
        totals = StepTotals{};
        grid->record_loads();
        const double load_profiles_mw = totals.load_mw;  // the loads come first
        RecordContext rc;
        rc.V = &grid->voltages();
        rc.opt = &opt;
        rc.t = t;
        rc.dt_h = dt_h;
        rc.converged = converged;
        rc.totals = &totals;
        for (auto& g : groups) g->record(rc);
        sum.ev_peak_mw = std::max(sum.ev_peak_mw, -totals.ev_mw);
        totals.load_mw -= totals.ev_mw;  // EV charging is consumption (V2G discharge counts against it)
        grid->record_sources(g);
        const double ext_p_sum = g.ext_p_mw, gen_total = g.gen_mw;
        const double balance = ext_p_sum + gen_total + totals.elements_mw - losses - source_losses_mw;
        if (converged) sum.energy_balance_max_error_mw = std::max(sum.energy_balance_max_error_mw, std::abs(balance));

        // KPIs
        if (converged) {
            sum.losses_mwh += losses * dt_h;
            sum.losses_source_mwh += source_losses_mw * dt_h;
            sum.import_mwh += std::max(ext_p_sum, 0.0) * dt_h;
            sum.export_mwh += std::max(-ext_p_sum, 0.0) * dt_h;
            sum.peak_import_mw = std::max(sum.peak_import_mw, ext_p_sum);
            if (opt.emission) {  // issue 19: no factor given, no CO2 (NaN)
                sum.co2_t += std::max(ext_p_sum, 0.0) * dt_h * opt.emission->at(t, ctx.weekday);
                // issue 18: what the exports avoid, at the marginal factor when given (docs/economics.md)
                const EmissionFactor& em = opt.emission_marginal_given ? opt.emission_marginal : *opt.emission;
                sum.co2_avoided_export_t += std::max(-ext_p_sum, 0.0) * dt_h * em.at(t, ctx.weekday);
            }
        }
        sum.load_mwh += totals.load_mw * dt_h;
        sum.pv_mwh += totals.pv_mw * dt_h;
        sum.pv_available_mwh += totals.pv_available_mw * dt_h;
        sum.pv_curtailed_mwh += totals.pv_curtailed_mw * dt_h;
        // the city balance by class (docs/kpis.md)
        sum.load_profiles_mwh += load_profiles_mw * dt_h;
        sum.ev_charging_mwh -= totals.ev_mw * dt_h;
        sum.building_mwh += totals.building_mw * dt_h;
        sum.home_mwh += totals.home_mw * dt_h;
        sum.battery_net_charge_mwh -= totals.battery_mw * dt_h;
        sum.network_gen_mwh += (g.network_gen_mw + gen_total) * dt_h;

        meter_customers(dt_h);
        count_interruptions(k, dt_h);
        if (w) write_step(t, converged, iters, balance);

        // meter interval complete?
        const std::int64_t t_end = t + opt.step_s;
        if ((t_end - opt.start) % opt.meter_interval_s == 0 || k + 1 == opt.n_steps)
            close_interval(opt.start + ((t - opt.start) / opt.meter_interval_s) * opt.meter_interval_s);
    }

    /// Issue 16: hours from t to the next restoration event (the undoing of an event with a
    /// duration), NaN when none is scheduled.
    double outage_left_h(LocalTime t) const {
        for (std::size_t i = next_event; i < events.size(); ++i) {
            const Event& e = timeline[events[i].source];
            // a scheduled outage's end is announced; a random outage's repair time is not
            if (e.time > t && e.cause == "restoration") return double(e.time - t) / 3600.0;
        }
        return kNaN;
    }

    /// Issue 16: the grid-forming batteries' stored energy over their capacity (all together).
    double forming_soc() const {
        double e = 0.0, c = 0.0;
        for (std::size_t k = 0; k < forming.sources.size(); ++k) {
            e += forming.stored_kwh[k];
            c += forming.capacity_kwh[k];
        }
        return c > 0 ? e / c : kNaN;
    }

    /// Issue 16: this step's droop islands: frequency range, shedding, the forming batteries' SoC.
    void island_kpis(double dt_h) {
        int level = 0;
        grid->island_stats(row_island[0], row_island[1], level);
        row_island[2] = level;
        if (std::isnan(row_island[0])) return;
        sum.island_frequency_min_hz = std::isnan(sum.island_frequency_min_hz) ? row_island[0] : std::min(sum.island_frequency_min_hz, row_island[0]);
        sum.island_frequency_max_hz = std::isnan(sum.island_frequency_max_hz) ? row_island[1] : std::max(sum.island_frequency_max_hz, row_island[1]);
        if (level > 0) sum.shed_steps++;
        sum.forming_soc_outage_end = forming_soc();
        (void)dt_h;
    }

    /// Issue 16: the customers interrupted this step (de-energised, or switched out by an event) and
    /// what their profiles would have drawn (docs/resilience.md). No allocation.
    void count_interruptions(std::size_t k, double dt_h) {
        const std::size_t nl = net.loads.size(), j = k - block_start;
        bool any = false, critical_off_grid = false, critical_out = false;
        for (std::size_t l = 0; l < nl; ++l) {
            row_not_served_kw[l] = 0.0;
            if (!cust_counted[l]) continue;
            const bool shed = grid->load_shed(l);  // issue 16: shed in a droop island
            const bool out = !net.loads[l].in_service || !grid->load_energised(l) || shed;
            const bool critical = cust_priority[l] == static_cast<signed char>(LoadPriority::Critical);
            if (critical && (out || grid->load_islanded(l))) critical_off_grid = true;
            if (!out) {
                cust_out[l] = 0.0;
                continue;
            }
            any = true;
            const double p_kw = std::max(block_p_kw[j * nl + l], 0.0);
            row_not_served_kw[l] = p_kw;
            const double e = p_kw / 1000.0 * dt_h;
            sum.energy_not_served_mwh += e;
            if (shed) {
                if (cust_priority[l] == static_cast<signed char>(LoadPriority::Deferrable)) sum.energy_shed_deferrable_mwh += e;
                else sum.energy_shed_essential_mwh += e;
            }
            if (critical) {
                critical_out = true;
                sum.critical_customer_hours_interrupted += dt_h;
            }
            switch (cust_class[l]) {
            case 0: sum.energy_not_served_residential_mwh += e; break;
            case 1: sum.energy_not_served_commercial_mwh += e; break;
            case 2: sum.energy_not_served_industrial_mwh += e; break;
            default: break;
            }
            sum.customer_hours_interrupted += dt_h;
            if (cust_out[l] == 0.0) sum.interruptions++;
            cust_out[l] = 1.0;
            cust_ever[l] = 1.0;
        }
        if (any) sum.interrupted_steps++;
        if (grid->islanded()) sum.islanded_steps++;
        if (critical_off_grid && !critical_out) sum.critical_load_served_hours += dt_h;
        row_island[0] = row_island[1] = kNaN;
        row_island[2] = 0.0;
        if (grid->droop_islands()) island_kpis(dt_h);
    }

    /// Customers: net import behind each meter, PV used on site, the meter interval's energy.
    void meter_customers(double dt_h) {
        std::fill(cust_net_kw.begin(), cust_net_kw.end(), 0.0);
        const std::vector<double>& load_p_mw = grid->load_p_mw();
        for (std::size_t l = 0; l < net.loads.size(); ++l) cust_net_kw[l] = -load_p_mw[l] * 1000.0;
        std::fill(cust_pv_kw.begin(), cust_pv_kw.end(), 0.0);
        std::fill(cust_extra_kw.begin(), cust_extra_kw.end(), 0.0);  // building / home consumption (load)
        const CustomerFlows flows{&cust_net_kw, &cust_pv_kw, &cust_extra_kw};
        for (const auto& g : groups) g->meter(flows);
        for (std::size_t c = 0; c < cust_net_kw.size(); ++c) {
            // PV used by the customer (own load, battery, EV): its PV minus what its meter exports
            const double pv_kw = cust_pv_kw[c], export_kw = std::max(-cust_net_kw[c], 0.0);
            sum.pv_self_consumed_mwh += std::max(pv_kw - export_kw, 0.0) / 1000.0 * dt_h;
            sum.pv_behind_meter_mwh += pv_kw / 1000.0 * dt_h;
            const double e = cust_net_kw[c] * dt_h;
            if (e > 0) interval_imp[c] += e;
            else interval_exp[c] -= e;
            if (e > 0) sum.meter_import_mwh += e / 1000.0;
            else sum.meter_export_mwh -= e / 1000.0;
        }
    }

    void write_step(LocalTime t, bool converged, int iters, double balance) {
        w->append_time(t);
        for (const SeriesDeclarer::Declared& r : recorded) {  // every per-step series
            if (r.row) w->append(r.handle, r.row->data());
            else w->append(r.handle, r.int_row->data());
        }
        grid->write_step();
        if (h_island[0] >= 0)
            for (int i = 0; i < 3; ++i) w->append(h_island[i], &row_island[std::size_t(i)]);
        const std::int64_t conv = converged ? 1 : 0, it = iters;
        w->append(h_conv, &conv);
        w->append(h_iter, &it);
        w->append(h_balance, &balance);
    }

    void close_interval(LocalTime interval_start) {
        const std::size_t nc = net.loads.size();
        if (opt.comms.enabled) headend_interval(interval_start);  // issue 17
        if (w && h_meter_imp >= 0) {
            w->append(h_meter_t, &interval_start);
            w->append(h_meter_imp, interval_imp.data());
            w->append(h_meter_exp, interval_exp.data());
            if (h_hd_imp >= 0) {
                w->append(h_hd_t, &interval_start);
                w->append(h_hd_imp, hd_imp.data());
                w->append(h_hd_exp, hd_exp.data());
            }
        }
        // monthly buffer for bills
        const CivilTime ct = to_civil(interval_start);
        const int key = ct.year * 12 + ct.month - 1;
        if (month_key != key) {
            if (month_key >= 0) close_month();
            month_key = key;
            month_start = interval_start;
            month_len = 0;
        }
        for (std::size_t c = 0; c < nc; ++c) {
            month_imp[c * month_cap + month_len] = interval_imp[c];
            month_exp[c * month_cap + month_len] = interval_exp[c];
        }
        if (opt.comms.enabled)
            for (std::size_t c = 0; c < nc; ++c) {
                month_hd_imp[c * month_cap + month_len] = hd_imp[c];
                month_hd_exp[c * month_cap + month_len] = hd_exp[c];
            }
        ++month_len;
        std::fill(interval_imp.begin(), interval_imp.end(), 0.0);
        std::fill(interval_exp.begin(), interval_exp.end(), 0.0);
    }

    void close_month() {
        if (month_len == 0) return;
        const std::size_t nc = net.loads.size();
        for (std::size_t c = 0; c < nc && billing; ++c) {
            const int ti = cust_tariff[c];
            if (ti < 0 && !opt.default_tariff) continue;  // issue 19: not billed
            BillOptions bo;
            bo.scheme = ti >= 0 ? dev.tariffs[ti].scheme : ExportScheme::None;
            bo.is_holiday = holiday;
            bo.nem_rollover_months = 0;  // month by month: credits do not carry over (see docs)
            bo.partial_months = opt.bill_partial_months;
            const Tariff& tf = tariff_of(ti);
            std::vector<Bill> b = monthly_bills(tf, bo, month_start, opt.meter_interval_s, &month_imp[c * month_cap], &month_exp[c * month_cap], month_len);
            for (const Bill& x : b) {
                bills[c].push_back(x);
                sum.bills_rm += x.total_rm;
            }
            if (opt.comms.enabled) bill_headend(c, tf, bo, b);  // issue 17
        }
        month_len = 0;
    }

    // ---- issue 17: the head-end (docs/comms.md) ---------------------------------------------------
    void init_headend() {
        if (!opt.comms.enabled) return;
        const std::size_t nl = net.loads.size();
        sum.comms = true;
        sum.bill_estimation_error_rm = 0.0;
        comms_ctx.options = &opt.comms;
        comms_ctx.seed = opt.seed;
        comms_ctx.topology = &comms_topo;
        comms_topo = comms_topology(net, opt.comms.plc);  // H1: one concentrator per distribution transformer
        meter_comms.init(net, bus_at, comms_topo);
        comms_dev.perfect = perfect_channel(opt.comms);  // issue 17 H3: messages to devices
        comms_dev.true_peak = [this](std::int64_t tt) { return is_peak(tou_tariff, tt, holiday); };
        comms_dev.start = opt.start;
        comms_dev.step_s = opt.step_s;
        comms_ctx.devices = &comms_dev;
        hd_imp.assign(nl, kNaN);
        hd_exp.assign(nl, kNaN);
        month_hd_imp.assign(nl * month_cap, kNaN);
        month_hd_exp.assign(nl * month_cap, kNaN);
        est_imp.assign(month_cap, 0.0);
        est_exp.assign(month_cap, 0.0);
        bills_hd.assign(nl, {});
    }

    /// The closing interval's readings through the channel: the head-end's row (NaN = missing).
    /// A pure function of (seed, meter id, interval index, the meter's hops) and, with a finite
    /// concentrator rate, of the concentrator's queue (in meter order: no thread order enters).
    void headend_interval(LocalTime interval_start) {
        const std::int64_t index = interval_start / opt.meter_interval_s;  // absolute: the same interval in any run
        meter_comms.interval(opt.comms, opt.seed, index, double(interval_start + opt.meter_interval_s - opt.start), double(opt.meter_interval_s));
        for (std::size_t c = 0; c < net.loads.size(); ++c) {
            const bool arrived = meter_comms.arrived()[c] != 0;
            hd_imp[c] = arrived ? interval_imp[c] : kNaN;
            hd_exp[c] = arrived ? interval_exp[c] : kNaN;
            sum.meter_readings++;
            if (arrived) sum.headend_readings++;
        }
    }

    /// Customer c's month billed from the head-end's data, missing intervals estimated
    /// (estimate_missing, comms.hpp), with the same tariff code as the true bills `truth`.
    void bill_headend(std::size_t c, const Tariff& tf, const BillOptions& bo, const std::vector<Bill>& truth) {
        const std::size_t per_day = std::size_t(std::max<std::int64_t>(86400 / opt.meter_interval_s, 1));
        const CivilTime ct = to_civil(month_start);
        const std::int64_t into_day = (ct.hour * 3600 + ct.minute * 60 + std::int64_t(ct.second)) / opt.meter_interval_s;
        estimate_missing(&month_hd_imp[c * month_cap], month_len, per_day, -into_day, est_imp.data());
        estimate_missing(&month_hd_exp[c * month_cap], month_len, per_day, -into_day, est_exp.data());
        std::vector<Bill> b = monthly_bills(tf, bo, month_start, opt.meter_interval_s, est_imp.data(), est_exp.data(), month_len);
        for (std::size_t i = 0; i < b.size(); ++i) {
            if (i < truth.size()) sum.bill_estimation_error_rm += std::abs(b[i].total_rm - truth[i].total_rm);
            bills_hd[c].push_back(b[i]);
        }
    }

    /// /bill_headend: the head-end's bills, months x customers (as /bill; docs/comms.md).
    void write_bills_headend() {
        std::size_t first = 0;  // issue 19: customers without a tariff have no bills
        while (first < bills_hd.size() && bills_hd[first].empty()) ++first;
        if (!opt.comms.enabled || !billing || first == bills_hd.size()) return;
        const std::size_t nm = bills_hd[first].size(), nc = bills_hd.size();
        w->write_ids("bill_headend", bill_customers);
        auto table = [&](const char* name, double Bill::*field, const char* unit) {
            const int h = w->add_series(SeriesSpec{"bill_headend", name, unit, nc, 1, false});
            std::vector<double> row(nc);
            for (std::size_t mth = 0; mth < nm; ++mth) {
                for (std::size_t c = 0; c < nc; ++c) row[c] = mth < bills_hd[c].size() ? bills_hd[c][mth].*field : kNaN;
                w->append(h, row.data());
            }
        };
        table("total_rm", &Bill::total_rm, "RM");
        table("import_kwh", &Bill::import_kwh, "kWh");
        table("export_kwh", &Bill::export_kwh, "kWh");
    }

    // ---- the recorder ----------------------------------------------------------------------------
    /// The HDF5 recorder of output_path (own_w), new or reopened to resume.
    void open_file(const detail::Checkpoint* resume_from) {
        // a run shorter than a chunk: chunks of its length (a chunk is compressed whole, so 256-row
        // chunks of a 200-step run would deflate and write fill values; same values read back)
        H5WriterOptions h5 = opt.h5;
        h5.chunk_rows = std::min(h5.chunk_rows, std::max<std::size_t>(opt.n_steps, 1));
        if (!resume_from) {
            own_w = make_hdf5_recorder(opt.output_path, h5);
            return;
        }
        ResultsResume r;
        for (const auto& [path, rows] : resume_from->series_rows) r.rows[path] = rows;
        r.remove = {"/summary", "/bill", "/events", "/bill_headend", "/comms", "/dr"};  // written at the end of a run (/comms, /dr: issue 17)
        r.remove_root_attributes = {"stop_reason", "steps_done", "failed_at_step"};
        own_w = make_hdf5_recorder(opt.output_path, h5, &r);
    }

    void open_writer(const detail::Checkpoint* resume_from = nullptr) {
        recorded.clear();
        for (auto& g : groups) {  // rows are filled with or without a recorder
            SeriesDeclarer none(nullptr, g->kind());
            g->declare(none, opt);
        }
        if (opt.recorder) {
            w = opt.recorder;
        } else {
            if (!opt.output_path.empty()) open_file(resume_from);
            w = own_w.get();
            if (opt.results_in_memory) {  // issue 19: in memory (too)
                mem = std::make_shared<MemoryRecorder>();
                mem_results = Results(mem);
                if (own_w) tee = make_tee_recorder(own_w.get(), mem.get());
                w = own_w ? tee.get() : mem.get();
            }
        }
        if (!w) return;
        {
            // every column a step or a meter interval appends (an upper bound), for the writer's memory plan
            std::size_t cols = grid->planned_columns();
            for (const auto& g : groups) cols += g->planned_columns();
            cols += 7 * bill_customers.size();  // the bill tables written at the end (write_bills), while the step series still hold their buffers
            if (!timeline.empty()) cols += net.loads.size();  // issue 16: /load/not_served_kw
            cols += 3;  // issue 16: /island
            if (opt.comms.enabled) cols += 2 * net.loads.size() + 3 * bill_customers.size();  // issue 17: /headend, /bill_headend
            w->plan(cols);
            w->plan_rows(opt.n_steps);
        }
        write_run_attributes();
        grid->declare_series();
        if (!timeline.empty() && !net.loads.empty()) record_series("load", "not_served_kw", "kW", row_not_served_kw);  // issue 16
        h_island[0] = -1;
        if (grid->has_forming()) {  // issue 16: the droop islands, per step (NaN: none)
            h_island[0] = w->add_series(SeriesSpec{"island", "frequency_min_hz", "Hz", 1, 1, false});
            h_island[1] = w->add_series(SeriesSpec{"island", "frequency_max_hz", "Hz", 1, 1, false});
            h_island[2] = w->add_series(SeriesSpec{"island", "shed_level", "", 1, 1, false});
        }
        for (auto& g : groups) {
            SeriesDeclarer d(w, g->kind());
            g->declare(d, opt);
            recorded.insert(recorded.end(), d.declared.begin(), d.declared.end());
        }
        grid->declare_elements();
        declare_solver_and_meters();
    }

    void write_run_attributes() {
        w->write_run_info(opt.scenario_text, opt.seed);
        // how far the run got: "running" until it ends ("complete", "stopped" or "failed"); a file
        // still saying "running" after its writer is gone was killed (libgrid info tells)
        w->set_attribute("/", "status", "running");
        w->set_attribute("/", "steps_planned", std::int64_t(opt.n_steps));
        w->set_attribute("/", "step_s", std::int64_t(opt.step_s));
        w->set_attribute("/", "start", format_iso8601(opt.start));
        w->set_attribute("/", "network", net.name);
        w->add_time();
    }

    /// Solver and meters (after the grid's elements).
    void declare_solver_and_meters() {
        h_conv = w->add_series(SeriesSpec{"solver", "converged", "", 1, 1, true});
        h_iter = w->add_series(SeriesSpec{"solver", "iterations", "", 1, 1, true});
        h_balance = w->add_series(SeriesSpec{"solver", "energy_balance_mw", "MW", 1, 1, false});
        h_meter_imp = -1;
        if (!net.loads.empty()) {
            group_ids("meter", net.loads);
            h_meter_t = w->add_group_time("meter");
            h_meter_imp = w->add_series(SeriesSpec{"meter", "import_kwh", "kWh", net.loads.size(), 1, false});
            h_meter_exp = w->add_series(SeriesSpec{"meter", "export_kwh", "kWh", net.loads.size(), 1, false});
            w->set_attribute("/meter", "interval_s", std::int64_t(opt.meter_interval_s));
            h_hd_imp = -1;
            if (opt.comms.enabled) {  // issue 17: the head-end's view, on the meters' time axis
                group_ids("headend", net.loads);
                h_hd_t = w->add_group_time("headend");
                h_hd_imp = w->add_series(SeriesSpec{"headend", "import_kwh", "kWh", net.loads.size(), 1, false});
                h_hd_exp = w->add_series(SeriesSpec{"headend", "export_kwh", "kWh", net.loads.size(), 1, false});
                w->set_attribute("/headend", "interval_s", std::int64_t(opt.meter_interval_s));
            }
        }
    }

    // ---- the end of a run ----------------------------------------------------------------------
    void write_summary() {
        if (!w) return;
        for (const KpiInfo& k : summary_kpis())  // the KPI table (simulation/kpis.hpp, docs/kpis.md)
            if (kpi_written(k, sum)) {
                w->write_scalar(std::string("summary/") + k.name, k.get(sum), k.unit);
                const std::string path = std::string("/summary/") + k.name;
                w->set_attribute(path, "boundary", kpi_boundary_name(k.boundary));
                w->set_attribute(path, "definition", k.definition);
                w->set_attribute(path, "formula", k.formula);
                w->set_attribute(path, "where", k.where);
                if (k.name == std::string("co2_t"))  // issue 18: which factor the CO2 KPIs use
                    w->set_attribute(path, "factor", opt.emission ? opt.emission->describe() : std::string("none (not computed)"));
                if (k.name == std::string("co2_avoided_export_t"))
                    w->set_attribute(path, "factor", !opt.emission ? std::string("none (not computed)")
                                                     : (opt.emission_marginal_given ? opt.emission_marginal : *opt.emission).describe());
            }
        grid->write_summary();
        if (!sum.completed) {
            // the steps done, not the horizon asked for (status, steps_planned: root attributes)
            w->set_attribute("/summary", "incomplete", std::int64_t(1));
            w->set_attribute("/summary", "stop_reason", sum.stop_reason);
        }
        if (sum.first_violation.found) {
            w->write_scalar("summary/first_violation/time", double(sum.first_violation.time), kResultsTimeUnits);
            w->write_scalar("summary/first_violation/element", double(sum.first_violation.element), "");
            w->write_scalar("summary/first_violation/value", sum.first_violation.value, "");
            w->set_attribute("/summary/first_violation", "kind", sum.first_violation.kind);
            if (!sum.first_violation.phase.empty()) w->set_attribute("/summary/first_violation", "phase", sum.first_violation.phase);  // issue 15 (H4)
        }
        SummaryTables tables;
        for (const auto& g : groups) g->summary_tables(tables);
        for (const SummaryTables::Table& t : tables.tables()) {
            if (t.columns.empty() || (t.columns[0].ints.empty() && t.columns[0].reals.empty())) continue;
            for (const SummaryTables::Column& c : t.columns) {
                if (c.integer) w->write_int_vector(t.path + "/" + c.name, c.ints, c.unit);
                else w->write_vector(t.path + "/" + c.name, c.reals, c.unit);
            }
        }
        write_bills();
        write_bills_headend();  // issue 17
        if (opt.comms.enabled) meter_comms.write(*w);  // issue 17 (H1): /comms/concentrator
        write_events();
        write_collapses();
        w->flush();
    }

    /// Issue 16: /island_collapse, the droop islands that could not be held: when, where, why.
    void write_collapses() {
        if (collapses.empty()) return;
        std::vector<std::int64_t> time, bus;
        std::vector<std::string> cause;
        for (const Collapse& c : collapses) {
            time.push_back(c.t);
            bus.push_back(c.bus);
            cause.push_back(c.cause);
        }
        w->write_int_vector("island_collapse/time", time, kResultsTimeUnits);
        w->write_int_vector("island_collapse/bus", bus);
        w->write_strings("island_collapse/cause", cause);
    }

    /// Issue 16: /events, the events applied in the run, in the order they applied.
    void write_events() {
        if (timeline.empty() || next_event == 0) return;
        std::vector<std::int64_t> time, id;
        std::vector<std::string> element, action, cause;
        for (std::size_t i = 0; i < next_event && i < events.size(); ++i) {
            const Event& e = timeline[events[i].source];
            time.push_back(e.time);
            id.push_back(e.id);
            element.push_back(e.element);
            action.push_back(event_action(e.kind));
            cause.push_back(e.cause);
        }
        w->write_int_vector("events/time", time, kResultsTimeUnits);
        w->write_strings("events/element", element);
        w->write_int_vector("events/id", id);
        w->write_strings("events/action", action);
        w->write_strings("events/cause", cause);
    }

    void write_bills() {
        // bills: months x customers
        std::size_t first = 0;  // issue 19: a customer without a tariff has no bills (NaN row)
        while (first < bills.size() && bills[first].empty()) ++first;
        if (first < bills.size()) {
            const std::size_t nm = bills[first].size(), nc = bills.size();
            std::vector<std::string> months;
            std::vector<std::int64_t> full;
            std::vector<double> days;
            for (const Bill& b : bills[first]) {
                months.push_back(std::to_string(b.year) + "-" + (b.month < 10 ? "0" : "") + std::to_string(b.month));
                full.push_back(b.full_month ? 1 : 0);
                days.push_back(b.days_covered);
            }
            w->write_ids("bill", bill_customers);
            w->write_strings("bill/month", months);
            w->write_int_vector("bill/full_month", full);
            w->write_vector("bill/days_covered", days, "d");
            w->set_attribute("/bill", "partial_months", partial_months_name(opt.bill_partial_months));
            std::vector<std::string> tariff_names, scheme_names;  // per customer, what it was billed under
            for (std::size_t c = 0; c < nc; ++c) {
                const int ti = cust_tariff[c];
                tariff_names.push_back(ti < 0 && !opt.default_tariff ? "none" : tariff_name(tariff_of(ti).kind));
                scheme_names.push_back(export_scheme_name(ti >= 0 ? dev.tariffs[ti].scheme : ExportScheme::None));
            }
            w->write_strings("bill/tariff", tariff_names);
            w->write_strings("bill/export_scheme", scheme_names);
            auto table = [&](const char* name, double Bill::*field, const char* unit) {
                const int h = w->add_series(SeriesSpec{"bill", name, unit, nc, 1, false});
                std::vector<double> row(nc);
                for (std::size_t mth = 0; mth < nm; ++mth) {
                    for (std::size_t c = 0; c < nc; ++c) row[c] = mth < bills[c].size() ? bills[c][mth].*field : kNaN;
                    w->append(h, row.data());
                }
            };
            table("total_rm", &Bill::total_rm, "RM");
            table("import_kwh", &Bill::import_kwh, "kWh");
            table("export_kwh", &Bill::export_kwh, "kWh");
            table("export_credit_rm", &Bill::export_credit_rm, "RM");
            // the lines of the bill (docs/tariffs.md): total = subtotal + re_fund + service_tax
            table("subtotal_rm", &Bill::subtotal_rm, "RM");
            table("re_fund_rm", &Bill::re_fund_rm, "RM");
            table("service_tax_rm", &Bill::service_tax_rm, "RM");
        }
    }
    /// After the constructor filled net, dev, opt and grid: the device groups, checks, events.
    void init() {
        groups = make_device_groups(dev);
        for (auto& g : groups)
            if (!g->inject_late()) inject_order.push_back(g.get());
        for (auto& g : groups)
            if (g->inject_late()) inject_order.push_back(g.get());
        for (auto& g : groups)
            if (g->voltage_dependent()) vdep.push_back(g.get());
        validate_inputs();
        std::stable_sort(dev.events.begin(), dev.events.end(), [](const Event& a, const Event& b) { return a.time < b.time; });
        // issue 16: an event with a duration is undone at its end; at one time the undoing events
        // go first (a feeder restored at 22:00 and opened again at 22:00 ends open)
        timeline.clear();
        std::vector<char> undo;
        for (const Event& e : dev.events) {
            timeline.push_back(e);
            undo.push_back(0);
        }
        for (const Event& e : dev.events)
            if (e.duration_s > 0) {
                timeline.push_back(undoing(e));
                undo.push_back(1);
            }
        std::vector<std::size_t> order(timeline.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            if (timeline[a].time != timeline[b].time) return timeline[a].time < timeline[b].time;
            return undo[a] > undo[b];
        });
        std::vector<Event> sorted;
        for (std::size_t i : order) sorted.push_back(timeline[i]);
        timeline = std::move(sorted);
        for (std::size_t i = 0; i < timeline.size(); ++i) {
            events.push_back(resolve_event(timeline[i]));
            events.back().source = i;
        }
        if (grid->sources_needed() > 0) refuse_source_outage(grid->sources_needed());
        load_in_service0.assign(net.loads.size(), 0);
        for (std::size_t l = 0; l < net.loads.size(); ++l) load_in_service0[l] = net.loads[l].in_service;
        cust_class.assign(net.loads.size(), -1);
        for (const LoadProfileSpec& p : dev.load_profiles) {
            const auto it = load_at.find(p.load);
            if (it != load_at.end()) cust_class[it->second] = int(p.cls);
        }
        pool = std::make_unique<ThreadPool>(opt.threads);
    }

    // ---- a run ------------------------------------------------------------------------------------
    /// Sizes everything a run fills and prepares the device groups.
    void init_run() {
        sum = SimulationSummary{};
        sum.min_vm_pu = kInf;
        sum.max_vm_pu = -kInf;
        // issue 19: the run's holidays and peak window; no tariff, no bills; no factor, no CO2
        holiday = opt.holidays ? opt.holidays : HolidayPredicate([](std::int64_t) { return false; });
        tou_tariff = opt.peak_tariff;
        billing = opt.default_tariff.has_value() || !dev.tariffs.empty();
        if (!billing) sum.bills_rm = kNaN;
        if (!opt.emission) sum.co2_t = sum.co2_avoided_export_t = kNaN;
        weather = opt.weather_series ? *opt.weather_series : melaka_weather(opt.start, opt.step_s, opt.n_steps, opt.seed, opt.weather);
        if (weather.size() < opt.n_steps) throw ValidationError("simulation: the weather series has fewer values than n_steps");
        const std::size_t nl = net.loads.size();
        load_p_kw.assign(nl, 0.0);
        load_q_kvar.assign(nl, 0.0);
        cust_net_kw.assign(nl, 0.0);
        cust_pv_kw.assign(nl, 0.0);
        interval_imp.assign(nl, 0.0);
        interval_exp.assign(nl, 0.0);
        const std::size_t intervals_per_31d = std::size_t(31 * 86400 / opt.meter_interval_s) + 1;
        const std::size_t horizon_intervals = std::size_t((std::int64_t(opt.n_steps) * opt.step_s + opt.meter_interval_s - 1) / opt.meter_interval_s) + 1;
        month_cap = std::min(intervals_per_31d, horizon_intervals);
        month_imp.assign(nl * month_cap, 0.0);
        month_exp.assign(nl * month_cap, 0.0);
        month_key = -1;
        bills.assign(billing ? nl : 0, {});
        init_headend();  // issue 17
        bill_customers.clear();
        if (billing)
            for (const Load& l : net.loads) bill_customers.push_back(l.id);
        cust_replaced.assign(nl, 0);
        cust_extra_kw.assign(nl, 0.0);
        RunSetup setup;
        setup.opt = &opt;
        setup.index = &ix;
        setup.customer_replaced = &cust_replaced;
        setup.net = &net;
        bus_flex_kw.assign(net.buses.size(), 0.0);
        // issue 16: priorities by load type; grid-forming devices register on balanced grids
        cust_priority.assign(nl, static_cast<signed char>(opt.default_priority));
        for (std::size_t l = 0; l < nl; ++l) {
            const auto it = opt.load_priority.find(net.loads[l].type);
            if (it != opt.load_priority.end()) cust_priority[l] = static_cast<signed char>(it->second);
        }
        forming.clear();
        setup.forming = grid->is_unbalanced() ? nullptr : &forming;
        collapses.clear();
        first_island_t = -1;
        row_island.assign(3, 0.0);
        for (auto& g : groups) g->prepare(setup);
        next_event = 0;
        grid->rebuild();
        // issue 16: the run's customers: in service and energised in the network as given
        cust_counted.assign(nl, 0);
        for (std::size_t l = 0; l < nl; ++l) cust_counted[l] = load_in_service0[l] && grid->load_energised(l);
        cust_out.assign(nl, 0.0);
        cust_ever.assign(nl, 0.0);
        row_not_served_kw.assign(nl, 0.0);
        block_start = 0;
        block_len = 0;
        size_blocks();
        grid->size_rows();
        if (opt.checkpoint_steps % kCheckpointQuantum != 0)
            throw ValidationError("simulation: field 'checkpoint_steps': must be a multiple of " + std::to_string(kCheckpointQuantum) +
                                  " (or 0), got " + std::to_string(opt.checkpoint_steps));
    }

    /// Resume: the state at the checkpoint's step, then the file cut back to what it had then.
    std::optional<detail::Checkpoint> load_resume() {
        if (!opt.resume) return std::nullopt;
        if (opt.output_path.empty()) throw ValidationError("simulation: field 'resume': needs an output_path");
        const std::string cp = checkpoint_path(opt.output_path);
        std::error_code ec;
        if (!std::filesystem::exists(cp, ec))
            throw Error("cannot resume '" + opt.output_path + "': no checkpoint '" + cp +
                        "' (the run finished, or was stopped before its first checkpoint at step " + std::to_string(opt.checkpoint_steps) +
                        ": run it again without resume)");
        std::optional<detail::Checkpoint> ckpt = detail::load_checkpoint(cp);
        const std::string who = "cannot resume from checkpoint '" + cp + "': ";
        if (ckpt->libgrid_version != LIBGRID_VERSION) throw Error(who + "written by libgrid " + ckpt->libgrid_version + ", this is " + LIBGRID_VERSION);
        if (ckpt->digest != input_digest() || ckpt->n_steps != opt.n_steps)
            throw Error(who + "it belongs to another run (scenario, seed, horizon or options differ): resume with the same inputs");
        if (ckpt->next_step == 0 || ckpt->next_step % kCheckpointQuantum != 0) throw Error(who + "field 'next_step': not a checkpoint boundary");
        detail::StateIn in(ckpt->state.data(), ckpt->state.size(), "checkpoint '" + cp + "'");
        archive_state(in);
        if (in.left() != 0) in.bad("state", std::to_string(in.left()) + " bytes left over");
        resync();
        if (block_len > 0) {
            const std::size_t len = block_len;
            fill_block(block_start);
            if (block_len != len) throw Error(who + "field 'block_len': does not match this run's load-profile blocks");
        }
        sum.resumed_from_step = ckpt->next_step;
        return ckpt;
    }

    /// Why the run stops before step k ("" = it goes on): a stop request or a nearly full disk.
    std::string stop_reason(std::size_t k, std::size_t k0) const {
        if (cancel_flag.load(std::memory_order_relaxed) != 0) return "cancelled";
        if (opt.stop_requested) {
            const int v = opt.stop_requested->load(std::memory_order_relaxed);
            if (v != 0) return v == SIGINT ? "SIGINT" : v == SIGTERM ? "SIGTERM" : v == SIGHUP ? "SIGHUP" : "stop requested";
        }
        if (w && opt.min_free_bytes > 0 && (k - k0) % 16 == 0) {
            const std::size_t free = w->free_bytes();
            if (free < opt.min_free_bytes)
                return "disk nearly full: " + std::to_string(free >> 20) + " MiB free where '" + opt.output_path + "' is (min_free_bytes " +
                       std::to_string(opt.min_free_bytes >> 20) + " MiB)";
        }
        return "";
    }

    /// Every step done, or the run stopped (a stop request, cancel, the first violation).
    bool all_done() const {
        return k_next >= opt.n_steps || !stopped.empty() || cancel_flag.load(std::memory_order_relaxed) != 0 ||
               (opt.stop_at_first_violation && sum.first_violation.found);
    }

    /// The step k_next (with the boundary work before it); false when the run stops there instead
    /// (`stopped` says why). A step that throws closes the results file (what it has stays) first.
    bool advance() {
        const std::size_t k = k_next;
        try {
            if (k > 0 && k % kCheckpointQuantum == 0 && k != k_first) {
                const auto tc = Clock::now();
                resync();
                // docs/reliability.md; not once the application changed the run (a resume could not repeat it)
                if (own_w && opt.checkpoint_steps > 0 && !app_changes && k % opt.checkpoint_steps == 0) snapshot_checkpoint(k);
                sum.time_checkpoint_s += since(tc);
            }
            stopped = stop_reason(k, k_first);
            if (!stopped.empty()) return false;
            step(k);
        } catch (...) {
            close_failed();
            run_phase = RunPhase::Finished;
            throw;
        }
        sum.steps = k + 1;
        k_next = k + 1;
        return true;
    }

    /// Issue 19: a switch or service change from the application, applied at the next step after
    /// the events already due then (it wins over them); /events lists it with cause "set_point".
    void inject_event(Event e) {
        e.time = opt.start + std::int64_t(k_next) * opt.step_s;
        e.cause = "set_point";
        ResolvedEvent r = resolve_event(e);
        std::size_t at = next_event;
        while (at < events.size() && events[at].time <= e.time) ++at;
        timeline.insert(timeline.begin() + long(at), e);
        events.insert(events.begin() + long(at), r);
        for (std::size_t i = 0; i < events.size(); ++i) events[i].source = i;
        application_changed();
    }

    void check_changeable(const char* who) const {
        if (run_phase == RunPhase::Finished) throw Error(std::string("simulation: ") + who + "(): the run is finished");
    }

    /// Issue 19: a set point of a device group's device, by kind and id (IdError when unknown).
    void set_point(const char* kind, Id id, double value, const char* who) {
        check_changeable(who);
        for (auto& g : groups) {
            if (g->kind() != kind) continue;
            for (std::size_t k = 0; k < g->size(); ++k)
                if (g->id(k) == id) {
                    if (!g->set_point(k, value)) throw ValidationError(std::string("simulation: ") + who + ": " + kind + " devices take no set point");
                    application_changed();
                    return;
                }
        }
        throw IdError(std::string("simulation: ") + who + ": unknown " + kind + " id " + std::to_string(id));
    }

    /// The run now differs from its inputs: no checkpoint (a resume would not repeat the changes).
    void application_changed() {
        if (app_changes) return;
        app_changes = true;
        pending.clear();
        if (own_w) {
            std::error_code ec;
            std::filesystem::remove(checkpoint_path(opt.output_path), ec);
        }
    }

    /// A run that fails part way keeps what it had written: every completed step, then the file is
    /// closed (and unlocked) before the error goes on to the caller.
    void close_failed() {
        if (!w) return;
        try {
            w->set_attribute("/", "failed_at_step", std::int64_t(sum.steps));
            w->set_attribute("/", "status", "failed");
            w->close();
        } catch (...) {
        }
        tee.reset();
        own_w.reset();
        w = nullptr;
    }

    /// The KPIs known at the end: the groups', and the ratios.
    void finish_kpis() {
        for (const auto& g : groups) g->finish(sum);
        grid->finish();
        // the customer-meter boundary (docs/kpis.md)
        sum.self_consumption = sum.pv_behind_meter_mwh > 0 ? sum.pv_self_consumed_mwh / sum.pv_behind_meter_mwh : 0.0;
        const double gross = sum.pv_self_consumed_mwh + sum.meter_import_mwh;
        sum.self_sufficiency = gross > 0 ? sum.pv_self_consumed_mwh / gross : 0.0;
        // issue 19: a run in which no step converged has no energies at the substation or in the
        // network: NaN, not the zeros of an empty sum
        if (sum.steps > 0 && sum.non_converged_steps >= sum.steps)
            for (double* x : {&sum.losses_mwh, &sum.losses_source_mwh, &sum.import_mwh, &sum.export_mwh, &sum.peak_import_mw, &sum.co2_t,
                              &sum.co2_avoided_export_t, &sum.energy_balance_max_error_mw})
                *x = kNaN;
        if (!std::isfinite(sum.min_vm_pu)) sum.min_vm_pu = kNaN;
        if (!std::isfinite(sum.max_vm_pu)) sum.max_vm_pu = kNaN;
        // issue 16: IEEE 1366 over the run's customers
        sum.resilience = !timeline.empty();
        sum.customers = std::size_t(std::count(cust_counted.begin(), cust_counted.end(), char(1)));
        sum.customers_interrupted = std::size_t(std::count(cust_ever.begin(), cust_ever.end(), 1.0));
        sum.saidi_h = sum.customers > 0 ? sum.customer_hours_interrupted / double(sum.customers) : 0.0;
        sum.saifi = sum.customers > 0 ? double(sum.interruptions) / double(sum.customers) : 0.0;
        // issue 17: the head-end's share of the meter-intervals
        if (sum.comms) sum.meter_data_completeness = sum.meter_readings > 0 ? double(sum.headend_readings) / double(sum.meter_readings) : kNaN;
    }

    void close_run() {
        if (!w) return;
        w->set_attribute("/", "steps_done", std::int64_t(sum.steps));
        if (!sum.completed) w->set_attribute("/", "stop_reason", sum.stop_reason);
        w->set_attribute("/", "status", sum.completed ? "complete" : "stopped");
        w->close();
        if (own_w && !sum.completed && opt.checkpoint_steps > 0 && !app_changes) commit_checkpoints(true);  // every row is in the file now
        // a finished run needs no checkpoint; a stopped one keeps its last (resume goes on from there)
        if (own_w && sum.completed) {
            std::error_code ec;
            std::filesystem::remove(checkpoint_path(opt.output_path), ec);
        }
        tee.reset();
        own_w.reset();
        w = nullptr;
    }
};

Simulation::Simulation(Network net, DeviceSet devices, SimulationOptions options) : impl_(std::make_unique<Impl>()) {
    Impl& s = *impl_;
    s.net = std::move(net);
    s.dev = std::move(devices);
    s.opt = std::move(options);
    s.grid = detail::make_balanced_grid(s);
    s.init();
}

Simulation::Simulation(UNetwork net, DeviceSet devices, SimulationOptions options) : impl_(std::make_unique<Impl>()) {
    Impl& s = *impl_;
    s.net = detail::customers_of(net);
    s.dev = std::move(devices);
    s.opt = std::move(options);
    s.grid = detail::make_unbalanced_grid(s, std::move(net));
    s.init();
}

Simulation::~Simulation() = default;
Simulation::Simulation(Simulation&&) noexcept = default;
Simulation& Simulation::operator=(Simulation&&) noexcept = default;

void Simulation::start() {
    Impl& s = *impl_;
    if (s.run_phase != Impl::RunPhase::Constructed) throw Error("simulation: start(): the run has already started");
    s.t_run0 = std::chrono::steady_clock::now();
    s.init_run();
    std::optional<detail::Checkpoint> ckpt = s.load_resume();
    s.open_writer(ckpt ? &*ckpt : nullptr);
    s.sum.planned_steps = s.opt.n_steps;
    s.sum.time_setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - s.t_run0).count();
    s.k_first = s.k_next = ckpt ? std::size_t(ckpt->next_step) : 0;
    s.stopped.clear();
    s.run_phase = Impl::RunPhase::Started;
}

StepInfo Simulation::step() {
    Impl& s = *impl_;
    if (s.run_phase == Impl::RunPhase::Constructed) start();
    if (s.run_phase == Impl::RunPhase::Finished) throw Error("simulation: step(): the run is finished");
    if (s.all_done()) {
        const std::string why = !s.stopped.empty() ? s.stopped : s.cancel_flag.load() != 0 && s.k_next < s.opt.n_steps ? "cancelled" : "";
        throw Error("simulation: step(): no step left (" + std::to_string(s.k_next) + " of " + std::to_string(s.opt.n_steps) + " done" +
                    (why.empty() ? std::string() : ", stopped: " + why) + ")");
    }
    if (!s.advance()) throw Error("simulation: step(): the run stopped: " + s.stopped);
    return s.last;
}

std::size_t Simulation::run_until(LocalTime t) {
    Impl& s = *impl_;
    if (s.run_phase == Impl::RunPhase::Constructed) start();
    if (s.run_phase == Impl::RunPhase::Finished) throw Error("simulation: run_until(): the run is finished");
    std::size_t n = 0;
    while (!s.all_done() && next_time() < t && s.advance()) ++n;
    return n;
}

std::size_t Simulation::steps_done() const { return impl_->k_next; }
LocalTime Simulation::next_time() const { return impl_->opt.start + std::int64_t(impl_->k_next) * impl_->opt.step_s; }
bool Simulation::done() const { return impl_->run_phase == Impl::RunPhase::Finished || impl_->all_done(); }
void Simulation::cancel() noexcept { impl_->cancel_flag.store(1, std::memory_order_relaxed); }

SimulationSummary Simulation::finish() {
    Impl& s = *impl_;
    if (s.run_phase == Impl::RunPhase::Constructed) throw Error("simulation: finish(): the run has not started (start() or step() first)");
    if (s.run_phase == Impl::RunPhase::Finished) throw Error("simulation: finish(): the run is already finished");
    const bool violation_stop = s.opt.stop_at_first_violation && s.sum.first_violation.found;
    if (s.stopped.empty() && s.k_next < s.opt.n_steps && s.cancel_flag.load(std::memory_order_relaxed) != 0) s.stopped = "cancelled";
    if (!s.stopped.empty() || (s.k_next < s.opt.n_steps && !violation_stop)) {
        s.sum.completed = false;
        s.sum.stop_reason = s.stopped.empty() ? "finished early" : s.stopped;
    }
    s.close_month();
    s.finish_kpis();
    s.sum.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - s.t_run0).count();
    s.sum.steps_per_second = s.sum.wall_time_s > 0 ? double(s.sum.steps) / s.sum.wall_time_s : 0.0;
    s.write_summary();
    s.close_run();
    s.run_phase = Impl::RunPhase::Finished;
    return s.sum;
}

SimulationSummary Simulation::run(const ProgressFn& progress) {
    if (!progress) return run(StepFn{});
    return run(StepFn([&](const StepInfo& i) { progress(i.step + 1, i.total); }));
}

SimulationSummary Simulation::run(const StepFn& on_step) {
    Impl& s = *impl_;
    if (s.run_phase == Impl::RunPhase::Constructed) start();
    if (s.run_phase == Impl::RunPhase::Finished) throw Error("simulation: run(): the run is finished");
    while (!s.all_done() && s.advance())
        if (on_step) on_step(s.last);
    return finish();
}

void Simulation::set_battery_power(Id battery, double p_kw) {
    if (std::isinf(p_kw)) throw ValidationError("simulation: set_battery_power: battery " + std::to_string(battery) + ": field 'p_kw': not finite");
    impl_->set_point("battery", battery, p_kw, "set_battery_power");
}

void Simulation::set_pv_limit(Id pv, double p_max_kw) {
    if (std::isnan(p_max_kw) || p_max_kw < 0)
        throw ValidationError("simulation: set_pv_limit: pv " + std::to_string(pv) + ": field 'p_max_kw': must be >= 0 (inf: no cap)");
    impl_->set_point("pv", pv, p_max_kw, "set_pv_limit");
}

void Simulation::set_switch(Id sw, bool closed) {
    Event e;
    e.element = "switch";
    e.id = sw;
    e.kind = closed ? EventKind::CloseSwitch : EventKind::OpenSwitch;
    impl_->check_changeable("set_switch");
    impl_->inject_event(e);
}

void Simulation::set_in_service(const std::string& element, Id id, bool in_service) {
    if (element == "switch") throw ValidationError("simulation: set_in_service: field 'element': a switch opens and closes (set_switch)");
    Event e;
    e.element = element;
    e.id = id;
    e.kind = in_service ? EventKind::InService : EventKind::OutOfService;
    impl_->check_changeable("set_in_service");
    impl_->inject_event(e);
}

const Results& Simulation::results() const {
    if (!impl_->mem)
        throw Error(impl_->opt.results_in_memory ? "simulation: results(): the run has not started (start() or step() first)"
                                                 : "simulation: results(): the run keeps no results in memory (SimulationOptions::results_in_memory)");
    return impl_->mem_results;
}

const std::vector<std::vector<Bill>>& Simulation::bills() const { return impl_->bills; }
const std::vector<Id>& Simulation::bill_customers() const { return impl_->bill_customers; }
const std::vector<BatteryState>& Simulation::battery_states() const {
    static const std::vector<BatteryState> none;
    for (const auto& g : impl_->groups)
        if (const std::vector<BatteryState>* st = groups::battery_states(*g)) return *st;
    return none;
}

}  // namespace libgrid
