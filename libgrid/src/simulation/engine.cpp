// libgrid layer 7: the quasi-static time-series engine (see simulation/engine.hpp).
#include <libgrid/config.hpp>
#include <libgrid/core/errors.hpp>
#include <libgrid/math/math_model.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/solvers.hpp>
#include <libgrid/simulation/engine.hpp>
#include <libgrid/core/thread_pool.hpp>

#include "checkpoint.hpp"
#include "state_archive.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <numbers>
#include <optional>
#include <unordered_map>

namespace libgrid {
namespace {

constexpr double kRad2Deg = 180.0 / std::numbers::pi;
constexpr double kSqrt3 = 1.7320508075688772;

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

template <class Ar, class S>
void state_bool(Ar& ar, const char* f, S& x) {
    bool b = x;
    ar.pod(f, b);
    x = b;
}

template <class Ar>
void state(Ar& ar, BuildingState& b) {
    ar.pod("building.T_air_c", b.T_air_c);
    ar.pod("building.T_mass_c", b.T_mass_c);
    state_bool(ar, "building.ac_on", b.ac_on);
    state_bool(ar, "building.optimum_start_on", b.optimum_start_on);
    ar.pod("building.tank_kwh", b.tank_kwh);
    ar.pod("building.comfort_degree_hours", b.comfort_degree_hours);
    ar.pod("building.electricity_kwh", b.electricity_kwh);
    ar.pod("building.ac_kwh", b.ac_kwh);
    ar.pod("building.dr_cursor", b.dr_cursor);
    ar.pod("building.disc", b.disc);  // a cache of doubles, kept so that it is not rebuilt differently
}

template <class Ar>
void state(Ar& ar, EvStation& e) {
    ar.fixed("ev.records", e.records);
    state_bool(ar, "ev.prepared", e.prepared_);
    ar.pod("ev.max_dt_s", e.max_dt_s_);
    ar.pod("ev.t_next", e.t_next_);
    state_bool(ar, "ev.started", e.started_);
    ar.pod("ev.next_session", e.next_session_);
    ar.pod("ev.last_connected", e.last_connected_);
    ar.pod("ev.peak_import_kw", e.peak_import_kw_);
    ar.pod("ev.peak_export_kw", e.peak_export_kw_);
    ar.fixed("ev.charger_free_at", e.charger_free_at_);
    ar.fixed("ev.active", e.active_);
    ar.pod("ev.n_active", e.n_active_);
    if constexpr (!Ar::saving) {
        if (e.next_session_ > e.sessions.size()) ar.bad("ev.next_session", "beyond the sessions");
        if (e.n_active_ > e.active_.size()) ar.bad("ev.n_active", "beyond the chargers");
        for (std::size_t i = 0; i < e.n_active_; ++i)
            if (e.active_[i] < 0 || std::size_t(e.active_[i]) >= e.sessions.size()) ar.bad("ev.active", "not a session index");
    }
}

template <class Ar>
void state(Ar& ar, SimpleBattery& b) {
    ar.pod("battery.soc", b.soc);
}

template <class Ar>
void state(Ar& ar, Violation& v) {
    ar.pod("violation.found", v.found);
    ar.pod("violation.time", v.time);
    ar.str("violation.kind", v.kind);
    ar.pod("violation.element", v.element);
    ar.pod("violation.value", v.value);
}

// A field added to SimulationSummary that accumulates over steps must be listed below (resume
// restores only what is listed); then update this size.
static_assert(sizeof(SimulationSummary) == 456, "SimulationSummary changed: list new accumulators in state(SimulationSummary)");

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
    ar.pod("sum.co2_t", s.co2_t);
    ar.pod("sum.bills_rm", s.bills_rm);
    ar.pod("sum.ev_peak_mw", s.ev_peak_mw);
    ar.pod("sum.energy_balance_max_error_mw", s.energy_balance_max_error_mw);
    ar.pod("sum.powerflow_iterations", s.powerflow_iterations);
    ar.pod("sum.deenergized_buses", s.deenergized_buses);
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

struct Simulation::Impl {
    Network net;
    DeviceSet dev;
    SimulationOptions opt;

    // ---- model and solver (rebuilt on events) ----
    MathModel m;
    Method method = Method::NewtonRaphson;
    std::optional<NewtonRaphsonSolver> nr;
    std::optional<SweepSolver> sweep;
    std::vector<cplx> V;
    std::vector<cplx> static_p, static_i, static_z;  // injections of gens, sgens, storage, shunts
    bool has_discrete_controls = false;

    // ---- index maps ----
    std::unordered_map<Id, std::size_t> bus_at, load_at;
    std::vector<int> load_node, pv_node, batt_node;
    std::vector<int> pv_customer, batt_customer;  // load index or -1

    // ---- loads ----
    std::vector<int> load_spec;         // per load: index into dev.load_profiles or -1
    std::vector<double> block_p_kw;     // [step_in_block * n_loads + l]
    std::vector<double> block_q_kvar;
    std::size_t block_start = 0, block_len = 0;
    std::vector<double> load_p_kw, load_q_kvar;  // this step, nominal (at 1 p.u.)

    // ---- devices ----
    WeatherSeries weather;
    std::vector<PvOutput> pv_out;
    std::vector<BatteryState> batt_state;
    std::vector<double> batt_p_kw;
    std::vector<char> pv_on, batt_on;
    bool pv_voltage_dependent = false;
    std::vector<double> pv_vm_eval;          // |V| each inverter was last evaluated at
    std::vector<int> pv_nodes;               // distinct nodes with PV
    std::vector<cplx> s_p_without_pv;        // per node, this round's injection before PV
    // EV stations, charging sites, buildings, homes (no voltage dependence except PV canopies)
    std::vector<int> ev_node, ev_customer, site_node, bld_node, bld_customer, home_node, home_customer;
    std::vector<double> ev_p_kw, site_p_kw, bld_p_kw, home_p_kw;
    std::vector<SiteStepOutput> site_out;
    std::vector<BuildingOutput> bld_out;
    std::vector<HomeOutput> home_out;
    std::vector<BuildingState> bld_state;
    std::vector<char> cust_replaced;  // load replaced by a building or home model
    std::vector<double> cust_extra_kw;  // behind-the-meter device power (generator convention) per customer

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
    HolidayPredicate holiday = [](std::int64_t t) { return is_public_holiday(t); };
    Tariff tou_tariff = Tariff::tnb_domestic_tou();
    Tariff default_tariff = Tariff::tnb_domestic_general();

    // ---- recording ----
    std::optional<ResultsWriter> w;
    int h_vm = -1, h_va = -1, h_br_loading = -1, h_br_loss = -1, h_br_p = -1, h_load_p = -1, h_load_q = -1;
    int h_pv_p = -1, h_pv_q = -1, h_pv_curt = -1, h_pv_avail = -1, h_bat_p = -1, h_bat_q = -1, h_bat_soc = -1;
    int h_ext_p = -1, h_ext_q = -1, h_sgen_p = -1, h_sto_p = -1, h_gen_p = -1, h_shunt_p = -1, h_shunt_q = -1;
    int h_conv = -1, h_iter = -1, h_tap = -1, h_meter_t = -1, h_meter_imp = -1, h_meter_exp = -1, h_balance = -1;
    std::vector<double> row_bus, row_va, row_br_loading, row_br_loss, row_br_p, row_load_p, row_load_q;
    std::vector<double> row_pv_p, row_pv_q, row_pv_curt, row_pv_avail, row_bat_p, row_bat_q, row_bat_soc;
    std::vector<double> row_ext_p, row_ext_q, row_sgen_p, row_sto_p, row_gen_p, row_shunt_p, row_shunt_q;
    std::vector<std::int64_t> row_tap;
    int h_ev_p = -1, h_site_p = -1, h_site_ev = -1, h_site_pv = -1, h_site_bat = -1, h_bld_p = -1, h_bld_ac = -1, h_bld_t = -1;
    int h_home_p = -1, h_home_ev = -1, h_home_pv = -1, h_home_bat = -1, h_home_bld = -1;
    std::vector<double> row_ev_p, row_site_p, row_site_ev, row_site_pv, row_site_bat, row_bld_p, row_bld_ac, row_bld_t;
    std::vector<double> row_home_p, row_home_ev, row_home_pv, row_home_bat, row_home_bld;
    std::vector<Id> branch_elem;
    /// Every per-step float series with the row it is appended from (rows are sized before the writer opens).
    struct Recorded {
        int handle;
        const std::vector<double>* row;
    };
    std::vector<Recorded> recorded;
    int record_series(const std::string& group, const std::string& name, std::size_t n, const std::string& unit, const std::vector<double>& row) {
        const int h = w->add_series(group, name, n, unit);
        recorded.push_back({h, &row});
        return h;
    }

    // scratch for the source computation
    std::vector<cplx> node_flow;

    std::unique_ptr<ThreadPool> pool;
    SimulationSummary sum;
    std::size_t next_event = 0;

    // ---- checkpoints (docs/reliability.md) ----------------------------------------------------
    /// Everything a step changes that the next steps read, in one list for saving and restoring.
    /// Not here: what every step recomputes before it reads it (load powers, customer sums, rows).
    template <class Ar>
    void archive_state(Ar& ar) {
        state(ar, net);
        ar.fixed("V", V);
        ar.pod("next_event", next_event);
        ar.flag("pv_on", pv_on);
        ar.flag("batt_on", batt_on);
        ar.fixed("pv_out", pv_out);
        ar.fixed("pv_vm_eval", pv_vm_eval);
        ar.fixed("batt_state", batt_state);
        ar.fixed("batt_p_kw", batt_p_kw);
        ar.fixed("ev_p_kw", ev_p_kw);
        ar.fixed("site_p_kw", site_p_kw);
        ar.fixed("bld_p_kw", bld_p_kw);
        ar.fixed("home_p_kw", home_p_kw);
        ar.fixed("site_out", site_out);
        ar.fixed("bld_out", bld_out);
        ar.fixed("home_out", home_out);
        for (BuildingState& b : bld_state) state(ar, b);
        for (EvStationUnit& u : dev.ev_stations) state(ar, u.station);
        for (ChargingSiteUnit& u : dev.charging_sites) {
            state(ar, u.site.evs);
            state(ar, u.site.battery);
            ar.pod("site.peak_import_kw", u.site.peak_import_kw_);
            ar.pod("site.peak_export_kw", u.site.peak_export_kw_);
        }
        for (HomeUnit& u : dev.homes) {
            state(ar, u.home.building_state);
            state(ar, u.home.battery);
            state(ar, u.home.ev);
        }
        ar.fixed("interval_imp", interval_imp);
        ar.fixed("interval_exp", interval_exp);
        ar.pod("month_len", month_len);
        ar.pod("month_start", month_start);
        ar.pod("month_key", month_key);
        if constexpr (!Ar::saving)
            if (month_len > month_cap) ar.bad("month_len", "more intervals than a month holds");
        std::vector<double> part;
        for (std::size_t c = 0; c < net.loads.size(); ++c)
            for (std::vector<double>* mv : {&month_imp, &month_exp}) {
                double* first = mv->data() + c * month_cap;
                if constexpr (Ar::saving) {
                    part.assign(first, first + month_len);
                    ar.vec("month", part);
                } else {
                    ar.vec("month", part);
                    if (part.size() != month_len) ar.bad("month", "length differs from month_len");
                    std::copy(part.begin(), part.end(), first);
                }
            }
        for (std::vector<Bill>& b : bills) ar.vec("bills", b);
        state(ar, sum);
        ar.pod("block_start", block_start);
        ar.pod("block_len", block_len);
    }

    /// Digest of what defines the run (a checkpoint resumes only the run it was written for).
    std::uint64_t input_digest() const {
        using detail::fnv1a;
        std::uint64_t h = fnv1a(opt.scenario_text.data(), opt.scenario_text.size());
        const std::int64_t nums[] = {opt.start, opt.step_s, std::int64_t(opt.n_steps), std::int64_t(opt.seed), std::int64_t(opt.method),
                                     std::int64_t(net.buses.size()), std::int64_t(net.loads.size()), std::int64_t(dev.pv.size()),
                                     std::int64_t(dev.batteries.size()), std::int64_t(dev.ev_stations.size()),
                                     std::int64_t(dev.charging_sites.size()), std::int64_t(dev.buildings.size()), std::int64_t(dev.homes.size()),
                                     std::int64_t(opt.meter_interval_s), std::int64_t(opt.checkpoint_steps)};
        h = fnv1a(nums, sizeof nums, h);
        for (const Bus& b : net.buses) h = fnv1a(&b.id, sizeof b.id, h);
        const double reals[] = {opt.tolerance, opt.control_tolerance_pu, opt.loading_limit_percent};
        return fnv1a(reals, sizeof reals, h);
    }

    /// Re-derives the model and the solver's factorisation from the network (keeping the voltages):
    /// the state at a checkpoint boundary then depends only on what the checkpoint holds.
    void resync() {
        std::vector<cplx> keep = V;
        rebuild();
        if (keep.size() == V.size()) V = std::move(keep);
    }

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

    // ----------------------------------------------------------------------------------------
    void validate_inputs() {
        net.validate();
        if (opt.step_s < 1 || opt.step_s > 86400) throw ValidationError("simulation: field 'step_s': must be in 1 .. 86400 s, got " + std::to_string(opt.step_s));
        if (opt.n_steps == 0) throw ValidationError("simulation: field 'n_steps': must be >= 1");
        if (opt.meter_interval_s < opt.step_s || opt.meter_interval_s % opt.step_s != 0)
            throw ValidationError("simulation: field 'meter_interval_s': must be a multiple of step_s (" + std::to_string(opt.step_s) + " s), got " + std::to_string(opt.meter_interval_s));
        if (opt.threads < 1) throw ValidationError("simulation: field 'threads': must be >= 1");
        bus_at = index_by_id(net.buses);
        load_at = index_by_id(net.loads);
        auto check_bus = [&](const std::string& who, Id bus) {
            if (!bus_at.count(bus)) throw IdError(who + ": field 'bus': unknown bus id " + std::to_string(bus));
        };
        auto check_customer = [&](const std::string& who, Id c) {
            if (c >= 0 && !load_at.count(c)) throw IdError(who + ": field 'customer': unknown load id " + std::to_string(c));
        };
        {
            std::unordered_map<Id, int> seen;
            for (const PvUnit& u : dev.pv) {
                const std::string who = "pv " + std::to_string(u.id);
                if (seen[u.id]++) throw IdError("pv id " + std::to_string(u.id) + " appears twice");
                check_bus(who, u.bus);
                check_customer(who, u.customer);
                validate(u.params, who);
            }
        }
        {
            std::unordered_map<Id, int> seen;
            for (const BatteryUnit& u : dev.batteries) {
                const std::string who = "battery " + std::to_string(u.id);
                if (seen[u.id]++) throw IdError("battery id " + std::to_string(u.id) + " appears twice");
                check_bus(who, u.bus);
                check_customer(who, u.customer);
                validate(u.params, who);
                if (u.params.strategy == BatteryStrategy::Schedule && u.params.schedule_kw.size() < opt.n_steps)
                    throw ValidationError(who + ": field 'schedule_kw': " + std::to_string(u.params.schedule_kw.size()) + " values for " + std::to_string(opt.n_steps) + " steps");
            }
        }
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
        cust_tariff.assign(net.loads.size(), -1);
        for (std::size_t s = 0; s < dev.tariffs.size(); ++s) {
            auto it = load_at.find(dev.tariffs[s].customer);
            if (it == load_at.end()) throw IdError("tariff: field 'customer': unknown load id " + std::to_string(dev.tariffs[s].customer));
            validate(dev.tariffs[s].tariff);
            cust_tariff[it->second] = int(s);
        }
        for (const Event& e : dev.events) {
            static const char* kinds[] = {"switch", "line", "trafo", "load", "sgen", "pv", "battery"};
            const std::string who = "event at " + format_iso8601(e.time);
            if (std::find(std::begin(kinds), std::end(kinds), e.element) == std::end(kinds))
                throw ValidationError(who + ": field 'element': unknown element kind '" + e.element + "'");
            auto has = [&](const auto& table) { return std::any_of(table.begin(), table.end(), [&](const auto& x) { return x.id == e.id; }); };
            const bool known = e.element == "switch" ? has(net.switches) : e.element == "line" ? has(net.lines)
                             : e.element == "trafo" ? has(net.transformers) : e.element == "load" ? has(net.loads)
                             : e.element == "sgen" ? has(net.sgens) : e.element == "pv" ? has(dev.pv) : has(dev.batteries);
            if (!known) throw IdError(who + ": field 'id': unknown " + e.element + " id " + std::to_string(e.id));
            if (e.element == "switch" && e.kind != EventKind::OpenSwitch && e.kind != EventKind::CloseSwitch)
                throw ValidationError(who + ": field 'kind': a switch opens or closes");
        }
        validate(opt.emission);
        auto unique = [](const auto& v, const char* what) {
            std::unordered_map<Id, int> seen;
            for (const auto& u : v)
                if (seen[u.id]++) throw IdError(std::string(what) + " id " + std::to_string(u.id) + " appears twice");
        };
        unique(dev.ev_stations, "ev station");
        unique(dev.charging_sites, "charging site");
        unique(dev.buildings, "building");
        unique(dev.homes, "home");
        for (const EvStationUnit& u : dev.ev_stations) {
            check_bus("ev station " + std::to_string(u.id), u.bus);
            check_customer("ev station " + std::to_string(u.id), u.customer);
        }
        for (const ChargingSiteUnit& u : dev.charging_sites) {
            check_bus("charging site " + std::to_string(u.id), u.bus);
            if (u.canopy.kwp_dc > 0) validate(u.canopy, "charging site " + std::to_string(u.id) + " canopy");
        }
        for (const BuildingUnit& u : dev.buildings) {
            check_bus("building " + std::to_string(u.id), u.bus);
            check_customer("building " + std::to_string(u.id), u.customer);
            validate(u.params);
        }
        for (const HomeUnit& u : dev.homes) {
            check_bus("home " + std::to_string(u.id), u.bus);
            check_customer("home " + std::to_string(u.id), u.customer);
            if (u.pv.kwp_dc > 0) validate(u.pv, "home " + std::to_string(u.id) + " pv");
        }
    }

    // Static injections (everything but loads and devices) and device node maps.
    void rebuild() {
        m = build_math_model(net);
        // islands without a source are de-energised (docs/distribution.md): counted, never silent
        // (as deenergized_bus_ids, without allocating)
        std::size_t dead = 0;
        for (std::size_t b = 0; b < net.buses.size(); ++b)
            dead += m.bus_node[b] < 0 && net.buses[b].in_service && net.buses[b].type != BusType::Isolated;
        sum.deenergized_buses = std::max(sum.deenergized_buses, dead);
        method = opt.method == Method::Auto ? (sweep_applicable(m) ? Method::Sweep : Method::NewtonRaphson) : opt.method;
        if (method == Method::Sweep && !sweep_applicable(m)) throw ValidationError("simulation: method 'sweep' needs radial islands without PV buses");
        if (method != Method::Sweep && method != Method::NewtonRaphson) throw ValidationError("simulation: time series support the methods nr, sweep and auto");
        nr.reset();
        sweep.reset();
        if (method == Method::Sweep) {
            sweep.emplace();
            sweep->analyze(m);
            sweep->set_thread_pool(pool.get());
        } else {
            nr.emplace(opt.linear_solver);
            nr->analyze(m);
        }
        // static part: zero the loads in a copy of the element list
        std::vector<Load> saved = net.loads;
        for (Load& l : net.loads) l.in_service = false;
        update_injections(net, m);
        net.loads = std::move(saved);
        static_p = m.s_p;
        static_i = m.s_i;
        static_z = m.s_z;
        load_node = m.load_node;
        pv_node.assign(dev.pv.size(), -1);
        for (std::size_t k = 0; k < dev.pv.size(); ++k) pv_node[k] = m.bus_node[bus_at.at(dev.pv[k].bus)];
        batt_node.assign(dev.batteries.size(), -1);
        for (std::size_t k = 0; k < dev.batteries.size(); ++k) batt_node[k] = m.bus_node[bus_at.at(dev.batteries[k].bus)];
        auto nodes = [&](const auto& units, std::vector<int>& out) {
            out.assign(units.size(), -1);
            for (std::size_t k = 0; k < units.size(); ++k) out[k] = m.bus_node[bus_at.at(units[k].bus)];
        };
        pv_nodes.clear();
        for (int node : pv_node)
            if (node >= 0) pv_nodes.push_back(node);
        std::sort(pv_nodes.begin(), pv_nodes.end());
        pv_nodes.erase(std::unique(pv_nodes.begin(), pv_nodes.end()), pv_nodes.end());
        s_p_without_pv.assign(m.n, 0.0);
        nodes(dev.ev_stations, ev_node);
        nodes(dev.charging_sites, site_node);
        nodes(dev.buildings, bld_node);
        nodes(dev.homes, home_node);
        // keep the last voltages where the node survives
        std::vector<cplx> V0 = initial_voltages(net, m, false, method != Method::Sweep);
        if (!V.empty() && !prev_bus_v.empty())
            for (std::size_t b = 0; b < net.buses.size(); ++b) {
                const int i = m.bus_node[b];
                if (i >= 0 && std::isfinite(prev_bus_v[b].real()) && m.node_type[i] == BusType::PQ) V0[i] = prev_bus_v[b];
            }
        V = std::move(V0);
        node_flow.assign(m.n, 0.0);
        has_discrete_controls = std::any_of(net.transformers.begin(), net.transformers.end(), [](const Transformer& t) { return t.oltc && t.in_service; }) ||
                                std::any_of(net.shunts.begin(), net.shunts.end(), [](const Shunt& s) { return s.switched && s.in_service; });
    }
    std::vector<cplx> prev_bus_v;

    void apply_events(LocalTime t) {
        bool changed = false;
        while (next_event < dev.events.size() && dev.events[next_event].time <= t) {
            const Event& e = dev.events[next_event++];
            const bool on = e.kind == EventKind::CloseSwitch || e.kind == EventKind::InService;
            auto find = [&](auto& table, const char* what) -> auto& {
                for (auto& x : table)
                    if (x.id == e.id) return x;
                throw IdError("event at " + format_iso8601(e.time) + ": unknown " + std::string(what) + " id " + std::to_string(e.id));
            };
            if (e.element == "switch") find(net.switches, "switch").closed = on;
            else if (e.element == "line") find(net.lines, "line").in_service = on;
            else if (e.element == "trafo") find(net.transformers, "trafo").in_service = on;
            else if (e.element == "load") find(net.loads, "load").in_service = on;
            else if (e.element == "sgen") find(net.sgens, "sgen").in_service = on;
            else if (e.element == "pv") {
                for (std::size_t k = 0; k < dev.pv.size(); ++k)
                    if (dev.pv[k].id == e.id) pv_on[k] = on;
            } else if (e.element == "battery") {
                for (std::size_t k = 0; k < dev.batteries.size(); ++k)
                    if (dev.batteries[k].id == e.id) batt_on[k] = on;
            }
            changed = changed || e.element == "switch" || e.element == "line" || e.element == "trafo" || e.element == "sgen";
        }
        if (changed) {
            prev_bus_v.assign(net.buses.size(), cplx(kNaN, kNaN));
            for (std::size_t b = 0; b < net.buses.size(); ++b)
                if (m.bus_node[b] >= 0) prev_bus_v[b] = V[m.bus_node[b]];
            rebuild();
        }
    }

    // ---- load profiles, generated a block of steps at a time (bounded memory) ----
    void fill_block(std::size_t k0) {
        const std::size_t nl = net.loads.size();
        block_start = k0;
        // bounded memory: at most ~8 M values per block array, whatever the number of loads
        const std::size_t budget = std::max<std::size_t>(8, (std::size_t(1) << 23) / std::max<std::size_t>(nl, 1));
        block_len = std::min({opt.profile_block_steps, opt.n_steps - k0, budget});
        block_p_kw.assign(block_len * nl, 0.0);
        block_q_kvar.assign(block_len * nl, 0.0);
        std::vector<double> temp(weather.temp_c.begin() + long(k0), weather.temp_c.begin() + long(k0 + block_len));
        const LocalTime t0 = opt.start + std::int64_t(k0) * opt.step_s;
        auto work = [&](std::size_t l) {
            const Load& ld = net.loads[l];
            const int s = load_spec[l];
            if (s < 0) {
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
            std::vector<double> p = load_profile(sp.cls, t0, opt.step_s, block_len, opt.seed, std::uint64_t(ld.id), sp.daily_kwh, &temp);
            for (std::size_t j = 0; j < block_len; ++j) {
                block_p_kw[j * nl + l] = p[j];
                block_q_kvar[j * nl + l] = p[j] * tanphi;
            }
        };
        pool->for_each(nl, work);
    }

    // ---- one step ----
    void assemble_injections() {
        const double base = net.sn_mva;
        std::copy(static_p.begin(), static_p.end(), m.s_p.begin());
        std::copy(static_i.begin(), static_i.end(), m.s_i.begin());
        std::copy(static_z.begin(), static_z.end(), m.s_z.begin());
        for (std::size_t l = 0; l < net.loads.size(); ++l) {
            const int i = load_node[l];
            const Load& ld = net.loads[l];
            if (i < 0 || !ld.in_service) continue;
            const double p = load_p_kw[l] / 1000.0 / base, q = load_q_kvar[l] / 1000.0 / base;
            const double pz = ld.const_z_p_percent / 100.0, pi = ld.const_i_p_percent / 100.0;
            const double qz = ld.const_z_q_percent / 100.0, qi = ld.const_i_q_percent / 100.0;
            m.s_p[i] -= cplx(p * (1.0 - pz - pi), q * (1.0 - qz - qi));
            m.s_i[i] -= cplx(p * pi, q * qi);
            m.s_z[i] -= cplx(p * pz, q * qz);
        }
        for (std::size_t k = 0; k < dev.batteries.size(); ++k)
            if (batt_node[k] >= 0 && batt_on[k]) m.s_p[batt_node[k]] += cplx(batt_p_kw[k], 0.0) / 1000.0 / base;
        auto add = [&](const std::vector<int>& node, const std::vector<double>& p_kw) {
            for (std::size_t k = 0; k < node.size(); ++k)
                if (node[k] >= 0) m.s_p[node[k]] += cplx(p_kw[k], 0.0) / 1000.0 / base;
        };
        add(ev_node, ev_p_kw);
        add(site_node, site_p_kw);
        add(bld_node, bld_p_kw);
        add(home_node, home_p_kw);
        // PV last, so that the sweep's volt-var hook can rebuild the PV nodes' injections
        if (pv_voltage_dependent && sweep)
            for (int node : pv_nodes) s_p_without_pv[node] = m.s_p[node];
        for (std::size_t k = 0; k < dev.pv.size(); ++k)
            if (pv_node[k] >= 0 && pv_on[k]) m.s_p[pv_node[k]] += cplx(pv_out[k].p_kw, pv_out[k].q_kvar) / 1000.0 / base;
    }

    SolveStatus solve(const PvWeather& w) {
        if (method == Method::Sweep && pv_voltage_dependent)
            return sweep->solve(m, V, opt.tolerance, std::max(opt.max_iterations, 100),
                                [this, &w](const std::function<cplx(int)>& v, std::vector<int>& changed) { return pv_hook(v, changed, w); });
        if (method == Method::Sweep) return sweep->solve(m, V, opt.tolerance, std::max(opt.max_iterations, 100));
        return nr->solve(m, V, opt.tolerance, opt.max_iterations);
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

    double node_vm(int i) const { return i >= 0 ? std::abs(V[i]) : 1.0; }

    void update_pv(const PvWeather& w) {
        pool->for_each(dev.pv.size(), [&](std::size_t k) {
            if (!pv_on[k] || pv_node[k] < 0) {
                pv_out[k] = PvOutput{};
                pv_vm_eval[k] = 1.0;
                return;
            }
            pv_vm_eval[k] = node_vm(pv_node[k]);
            pv_out[k] = pv_step(dev.pv[k].params, w, pv_vm_eval[k]);
        });
    }

    /// Largest change of a PV node's |V| since its inverter was evaluated (the volt-var fixed point).
    double pv_voltage_change() const {
        double dv = 0.0;
        for (std::size_t k = 0; k < dev.pv.size(); ++k)
            if (pv_on[k] && pv_node[k] >= 0) dv = std::max(dv, std::abs(std::abs(V[pv_node[k]]) - pv_vm_eval[k]));
        return dv;
    }

    /// The sweep's hook: re-evaluate voltage-dependent inverters between sweep iterations.
    bool pv_hook(const std::function<cplx(int)>& voltage, std::vector<int>& changed, const PvWeather& w) {
        double dv = 0.0;
        for (std::size_t k = 0; k < dev.pv.size(); ++k)
            if (pv_on[k] && pv_node[k] >= 0) dv = std::max(dv, std::abs(std::abs(voltage(pv_node[k])) - pv_vm_eval[k]));
        if (dv <= opt.control_tolerance_pu) return false;
        const double base = net.sn_mva;
        for (int node : pv_nodes) m.s_p[node] = s_p_without_pv[node];
        for (std::size_t k = 0; k < dev.pv.size(); ++k) {
            if (!pv_on[k] || pv_node[k] < 0) continue;
            pv_vm_eval[k] = std::abs(voltage(pv_node[k]));
            pv_out[k] = pv_step(dev.pv[k].params, w, pv_vm_eval[k]);
            m.s_p[pv_node[k]] += cplx(pv_out[k].p_kw, pv_out[k].q_kvar) / 1000.0 / base;
        }
        changed.assign(pv_nodes.begin(), pv_nodes.end());
        return true;
    }

    using Clock = std::chrono::steady_clock;
    static double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

    void step(std::size_t k) {
        const LocalTime t = opt.start + std::int64_t(k) * opt.step_s;
        const double dt_h = double(opt.step_s) / 3600.0;
        apply_events(t);
        auto t0 = Clock::now();
        if (k == 0 || k >= block_start + block_len) fill_block(k);
        sum.time_profiles_s += since(t0);
        t0 = Clock::now();
        const std::size_t nl = net.loads.size();
        const std::size_t j = k - block_start;
        for (std::size_t l = 0; l < nl; ++l) {
            const bool on = net.loads[l].in_service && !cust_replaced[l];
            load_p_kw[l] = on ? block_p_kw[j * nl + l] : 0.0;
            load_q_kvar[l] = on ? block_q_kvar[j * nl + l] : 0.0;
        }
        const PvWeather w = pv_weather(k);
        update_pv(w);
        // Batteries decide once per step from the site's load and PV (no voltage dependence).
        std::fill(cust_pv_kw.begin(), cust_pv_kw.end(), 0.0);
        for (std::size_t u = 0; u < dev.pv.size(); ++u)
            if (pv_customer[u] >= 0) cust_pv_kw[pv_customer[u]] += pv_out[u].p_kw;
        const bool peak = is_peak(tou_tariff, t, holiday);
        const CivilTime ct = to_civil(t);
        const double hour = ct.hour + ct.minute / 60.0 + ct.second / 3600.0;
        pool->for_each(dev.batteries.size(), [&](std::size_t b) {
            if (!batt_on[b] || batt_node[b] < 0) {
                batt_p_kw[b] = 0.0;
                return;
            }
            const int c = batt_customer[b];
            DispatchInput in;
            in.site_load_kw = c >= 0 ? std::max(load_p_kw[c], 0.0) : 0.0;
            in.site_pv_kw = c >= 0 ? std::max(cust_pv_kw[c], 0.0) : 0.0;
            in.is_peak = peak;
            in.step_index = std::int64_t(k);
            in.hour_of_day = hour;
            const BatteryRequest req = battery_dispatch(dev.batteries[b].params, batt_state[b], in, dt_h);
            batt_p_kw[b] = battery_apply(dev.batteries[b].params, batt_state[b], req, dt_h);
        });

        step_ev_buildings(k, t, dt_h, peak, hour, w);
        sum.time_devices_s += since(t0);
        t0 = Clock::now();

        // Power flow with the voltage-dependent controls iterated to a fixed point.
        SolveStatus st;
        int iters = 0;
        bool settled = true;
        for (int round = 0;; ++round) {
            assemble_injections();
            st = solve(w);
            iters += st.iterations;
            if (!st.converged) break;
            // The last allowed round only checks: nothing may change after the final solve, so
            // the recorded step is always consistent with the recorded set points.
            const bool last = round + 1 >= opt.max_control_iterations;
            bool again = false;
            if (pv_voltage_dependent) {
                const double dv = pv_voltage_change();
                if (dv > opt.control_tolerance_pu) {
                    if (last) {
                        settled = false;
                    } else {
                        update_pv(w);
                        again = true;
                    }
                }
            }
            changed_branches.clear();
            if (has_discrete_controls && !last && apply_discrete_controls(net, m, V, &changed_branches)) {
                std::vector<Load> saved = net.loads;  // switched shunt steps change the static part
                for (Load& l : net.loads) l.in_service = false;
                update_injections(net, m);
                net.loads = std::move(saved);
                static_p = m.s_p;
                static_i = m.s_i;
                static_z = m.s_z;
                if (sweep)
                    for (const auto& [slot, before] : changed_branches) sweep->update_branch(before, m.branches[slot]);
                again = true;
            }
            if (!again) break;
        }
        if (!st.converged) sum.non_converged_steps++;
        if (!settled) sum.controls_unsettled_steps++;
        sum.powerflow_iterations += iters;
        sum.time_powerflow_s += since(t0);
        t0 = Clock::now();
        record(k, t, dt_h, st.converged, iters);
        sum.time_record_s += since(t0);
    }
    std::vector<std::pair<int, BranchY>> changed_branches;

    /// The clock and climate fields BuildingInput and HomeInput share.
    template <class In>
    static In climate_input(LocalTime t, double hour, bool weekday, bool peak, const PvWeather& w) {
        In in;
        in.t = t;
        in.hour_of_day = hour;
        in.weekday = weekday;
        in.is_peak = peak;
        in.t_out_c = w.t_amb_c;
        in.ghi_w_m2 = w.ghi_wm2;
        return in;
    }

    // EV stations, charging sites, buildings and homes: one call each per step (stateful).
    void step_ev_buildings(std::size_t k, LocalTime t, double dt_h, bool peak, double hour, const PvWeather& w) {
        (void)k;
        const double dt_s = dt_h * 3600.0;
        const bool weekday = day_type(t) == DayType::Weekday;
        pool->for_each(dev.ev_stations.size(), [&](std::size_t u) {
            EvStationUnit& e = dev.ev_stations[u];
            if (!e.in_service || ev_node[u] < 0) {
                ev_p_kw[u] = 0.0;
                return;
            }
            EvStepInput in;
            in.t = t;
            in.is_peak = peak;
            const int c = ev_customer[u];
            in.pv_available_kw = c >= 0 ? std::max(cust_pv_kw[c] - load_p_kw[c], 0.0) : 0.0;
            ev_p_kw[u] = e.station.step(in, dt_h);
        }, 64);
        pool->for_each(dev.charging_sites.size(), [&](std::size_t u) {
            ChargingSiteUnit& cs = dev.charging_sites[u];
            if (!cs.in_service || site_node[u] < 0) {
                site_p_kw[u] = 0.0;
                site_out[u] = SiteStepOutput{};
                return;
            }
            SiteStepInput in;
            in.t = t;
            in.is_peak = peak;
            in.pv_available_kw = cs.canopy.kwp_dc > 0 ? pv_step(cs.canopy, w, node_vm(site_node[u])).p_kw : 0.0;
            site_out[u] = cs.site.step(in, dt_h);
            site_p_kw[u] = site_out[u].p_kw;
        }, 64);
        pool->for_each(dev.buildings.size(), [&](std::size_t u) {
            BuildingUnit& b = dev.buildings[u];
            if (!b.in_service || bld_node[u] < 0) {
                bld_p_kw[u] = 0.0;
                return;
            }
            const BuildingInput in = climate_input<BuildingInput>(t, hour, weekday, peak, w);
            bld_out[u] = building_step(b.params, bld_state[u], in, dt_s);
            bld_p_kw[u] = bld_out[u].p_kw;
        }, 64);
        pool->for_each(dev.homes.size(), [&](std::size_t u) {
            HomeUnit& h = dev.homes[u];
            if (!h.in_service || home_node[u] < 0) {
                home_p_kw[u] = 0.0;
                return;
            }
            HomeInput in = climate_input<HomeInput>(t, hour, weekday, peak, w);
            in.pv_available_kw = h.pv.kwp_dc > 0 ? pv_step(h.pv, w, node_vm(home_node[u])).p_kw : 0.0;
            home_out[u] = h.home.step(in, dt_s);
            home_p_kw[u] = home_out[u].p_kw;
        }, 64);
    }

    // ---- results of a step ----
    void record(std::size_t k, LocalTime t, double dt_h, bool converged, int iters) {
        const double base = net.sn_mva;
        const std::size_t nb = net.buses.size();
        // buses
        bool any_violation = false;
        for (std::size_t b = 0; b < nb; ++b) {
            const int i = m.bus_node[b];
            if (i < 0) {
                row_bus[b] = kNaN;
                if (h_va >= 0) row_va[b] = kNaN;
                continue;
            }
            const double vm = std::abs(V[i]);
            row_bus[b] = vm;
            if (h_va >= 0) row_va[b] = std::arg(V[i]) * kRad2Deg;
            if (converged) {
                const bool v = vm < net.buses[b].vmin_pu || vm > net.buses[b].vmax_pu;
                if (v) note_violation(t, vm > net.buses[b].vmax_pu ? "voltage_high" : "voltage_low", net.buses[b].id, vm);
                sum.voltage_violation_bus_steps += v;
                any_violation = any_violation || v;
                sum.min_vm_pu = std::min(sum.min_vm_pu, vm);
                sum.max_vm_pu = std::max(sum.max_vm_pu, vm);
            }
        }
        if (any_violation) sum.voltage_violation_hours += dt_h;
        // branches: MATPOWER branches, lines, transformers
        std::fill(node_flow.begin(), node_flow.end(), cplx(0.0, 0.0));
        double losses = 0.0;
        std::size_t col = 0;
        auto branch = [&](int slot, double rating_loading_scale, bool is_line, std::size_t idx) {
            double loading = 0.0, loss = 0.0, pf = 0.0;
            if (slot >= 0) {
                const BranchY& br = m.branches[slot];
                const cplx vf = br.f >= 0 ? V[br.f] : 0.0, vt = br.t >= 0 ? V[br.t] : 0.0;
                cplx sf = 0.0, stt = 0.0;
                if (br.f >= 0) sf = vf * std::conj(br.yff * vf + (br.t >= 0 ? br.yft * vt : 0.0));
                if (br.t >= 0) stt = vt * std::conj((br.f >= 0 ? br.ytf * vf : 0.0) + br.ytt * vt);
                if (br.f >= 0) node_flow[br.f] += sf;
                if (br.t >= 0) node_flow[br.t] += stt;
                loss = (sf + stt).real() * base;
                pf = sf.real() * base;
                if (is_line) {
                    const Line& l = net.lines[idx];
                    const double vf_kv = br.f >= 0 ? std::abs(vf) * m.node_base_kv[br.f] : 1.0;
                    const double vt_kv = br.t >= 0 ? std::abs(vt) * m.node_base_kv[br.t] : 1.0;
                    const double i_ka = std::max(br.f >= 0 ? std::abs(sf) * base / (kSqrt3 * vf_kv) : 0.0,
                                                 br.t >= 0 ? std::abs(stt) * base / (kSqrt3 * vt_kv) : 0.0);
                    loading = i_ka / (l.max_i_ka * l.df * l.parallel) * 100.0;
                } else if (rating_loading_scale > 0) {  // transformer
                    const Transformer& tr = net.transformers[idx];
                    const double vf_kv = br.f >= 0 ? std::abs(vf) * m.node_base_kv[br.f] : 1.0;
                    const double vt_kv = br.t >= 0 ? std::abs(vt) * m.node_base_kv[br.t] : 1.0;
                    const double i_hv = br.f >= 0 ? std::abs(sf) * base / (kSqrt3 * vf_kv) : 0.0;
                    const double i_lv = br.t >= 0 ? std::abs(stt) * base / (kSqrt3 * vt_kv) : 0.0;
                    loading = std::max(i_hv / (tr.sn_mva / (kSqrt3 * tr.vn_hv_kv)), i_lv / (tr.sn_mva / (kSqrt3 * tr.vn_lv_kv))) * 100.0 / (tr.df * tr.parallel);
                } else {  // MATPOWER branch: |S| / rate_a
                    const double rate = net.branches[idx].rate_a_mva;
                    loading = rate > 0 ? std::max(std::abs(sf), std::abs(stt)) * base / rate * 100.0 : 0.0;
                }
            }
            losses += loss;
            row_br_loading[col] = loading;
            row_br_loss[col] = loss;
            row_br_p[col] = pf;
            ++col;
            return loading;
        };
        for (std::size_t i = 0; i < net.branches.size(); ++i) branch(m.branch_slot[i], 0.0, false, i);
        for (std::size_t i = 0; i < net.lines.size(); ++i) {
            const double l = branch(m.line_slot[i], 0.0, true, i);
            if (converged) {
                sum.max_line_loading_percent = std::max(sum.max_line_loading_percent, l);
                sum.overloaded_branch_steps += l > opt.loading_limit_percent;
                if (l > opt.loading_limit_percent) note_violation(t, "line_overload", net.lines[i].id, l);
            }
        }
        for (std::size_t i = 0; i < net.transformers.size(); ++i) {
            const std::size_t col_here = col;
            const double l = branch(m.trafo_slot[i], 1.0, false, i);
            if (converged) {
                sum.max_trafo_loading_percent = std::max(sum.max_trafo_loading_percent, l);
                sum.overloaded_branch_steps += l > opt.loading_limit_percent;
                if (l > opt.loading_limit_percent) note_violation(t, "trafo_overload", net.transformers[i].id, l);
                if (opt.reverse_flow_is_violation && row_br_p[col_here] < -1e-9) note_violation(t, "reverse_flow", net.transformers[i].id, row_br_p[col_here]);
            }
        }
        // elements (generator convention), and the sources that close the balance
        double total_elements = 0.0, load_mw = 0.0;
        for (std::size_t l = 0; l < net.loads.size(); ++l) {
            const Load& ld = net.loads[l];
            const int i = load_node[l];
            double p = 0.0, q = 0.0;
            if (i >= 0 && ld.in_service) {
                const double vm = std::abs(V[i]);
                const double pz = ld.const_z_p_percent / 100, pi = ld.const_i_p_percent / 100;
                const double qz = ld.const_z_q_percent / 100, qi = ld.const_i_q_percent / 100;
                p = -load_p_kw[l] / 1000.0 * ((1 - pz - pi) + pi * vm + pz * vm * vm);
                q = -load_q_kvar[l] / 1000.0 * ((1 - qz - qi) + qi * vm + qz * vm * vm);
            }
            row_load_p[l] = p;
            row_load_q[l] = q;
            total_elements += p;
            load_mw -= p;
        }
        double pv_mw = 0.0, pv_avail = 0.0, pv_curt = 0.0;
        for (std::size_t u = 0; u < dev.pv.size(); ++u) {
            const bool on = pv_on[u] && pv_node[u] >= 0;
            row_pv_p[u] = on ? pv_out[u].p_kw / 1000.0 : 0.0;
            row_pv_q[u] = on ? pv_out[u].q_kvar / 1000.0 : 0.0;
            row_pv_avail[u] = on ? pv_out[u].available_kw / 1000.0 : 0.0;
            row_pv_curt[u] = on ? pv_out[u].curtailed_kw / 1000.0 : 0.0;
            total_elements += row_pv_p[u];
            pv_mw += row_pv_p[u];
            pv_avail += row_pv_avail[u];
            pv_curt += row_pv_curt[u];
        }
        double batt_mw = 0.0;
        for (std::size_t b = 0; b < dev.batteries.size(); ++b) {
            row_bat_p[b] = batt_node[b] >= 0 ? batt_p_kw[b] / 1000.0 : 0.0;
            row_bat_q[b] = 0.0;
            row_bat_soc[b] = batt_state[b].soc;
            total_elements += row_bat_p[b];
            batt_mw += row_bat_p[b];
        }
        double ev_mw = 0.0;
        for (std::size_t u = 0; u < dev.ev_stations.size(); ++u) {
            row_ev_p[u] = ev_node[u] >= 0 ? ev_p_kw[u] / 1000.0 : 0.0;
            total_elements += row_ev_p[u];
            ev_mw += row_ev_p[u];
        }
        for (std::size_t u = 0; u < dev.charging_sites.size(); ++u) {
            const bool on = site_node[u] >= 0;
            row_site_p[u] = on ? site_p_kw[u] / 1000.0 : 0.0;
            row_site_ev[u] = on ? site_out[u].p_ev_kw / 1000.0 : 0.0;
            row_site_pv[u] = on ? site_out[u].p_pv_kw / 1000.0 : 0.0;
            row_site_bat[u] = on ? site_out[u].p_battery_kw / 1000.0 : 0.0;
            total_elements += row_site_p[u];
            ev_mw += row_site_ev[u];
            pv_mw += row_site_pv[u];
        }
        for (std::size_t u = 0; u < dev.buildings.size(); ++u) {
            const bool on = bld_node[u] >= 0;
            row_bld_p[u] = on ? bld_p_kw[u] / 1000.0 : 0.0;
            row_bld_ac[u] = on ? -bld_out[u].p_ac_kw / 1000.0 : 0.0;
            row_bld_t[u] = bld_state[u].T_air_c;
            total_elements += row_bld_p[u];
            load_mw -= row_bld_p[u];
        }
        for (std::size_t u = 0; u < dev.homes.size(); ++u) {
            const bool on = home_node[u] >= 0;
            row_home_p[u] = on ? home_p_kw[u] / 1000.0 : 0.0;
            row_home_ev[u] = on ? home_out[u].p_ev_kw / 1000.0 : 0.0;
            row_home_pv[u] = on ? home_out[u].p_pv_kw / 1000.0 : 0.0;
            row_home_bat[u] = on ? home_out[u].p_battery_kw / 1000.0 : 0.0;
            row_home_bld[u] = on ? home_out[u].p_building_kw / 1000.0 : 0.0;
            total_elements += row_home_p[u];
            ev_mw += row_home_ev[u];
            pv_mw += row_home_pv[u];
            load_mw -= row_home_bld[u];
        }
        sum.ev_peak_mw = std::max(sum.ev_peak_mw, -ev_mw);
        load_mw -= ev_mw;  // EV charging is consumption (V2G discharge counts against it)
        for (std::size_t s = 0; s < net.sgens.size(); ++s) {
            const SGen& g = net.sgens[s];
            row_sgen_p[s] = (g.in_service && m.sgen_node[s] >= 0) ? g.p_mw * g.scaling : 0.0;
            total_elements += row_sgen_p[s];
        }
        for (std::size_t s = 0; s < net.storage.size(); ++s) {
            const Storage& g = net.storage[s];
            row_sto_p[s] = (g.in_service && m.storage_node[s] >= 0) ? -g.p_mw * g.scaling : 0.0;
            total_elements += row_sto_p[s];
        }
        for (std::size_t s = 0; s < net.shunts.size(); ++s) {
            const Shunt& sh = net.shunts[s];
            const int i = m.shunt_node[s];
            double p = 0.0, q = 0.0;
            if (sh.in_service && i >= 0) {
                const double v2 = std::norm(V[i]);
                p = -sh.p_mw * sh.step * v2;
                q = -sh.q_mvar * sh.step * v2;
            }
            row_shunt_p[s] = p;
            row_shunt_q[s] = q;
            total_elements += p;
        }
        // sources: at each slack node, what the branches take out beyond the specified injections
        std::fill(row_ext_p.begin(), row_ext_p.end(), 0.0);
        std::fill(row_ext_q.begin(), row_ext_q.end(), 0.0);
        for (std::size_t g = 0; g < net.gens.size(); ++g) row_gen_p[g] = m.gen_node[g] >= 0 ? net.gens[g].p_mw : 0.0;
        double ext_total = 0.0;
        for (int i = 0; i < m.n; ++i) {
            if (m.node_type[i] != BusType::Slack) continue;
            const cplx src = (node_flow[i] - specified_injection(m, i, std::abs(V[i]))) * base;
            bool placed = false;
            for (std::size_t e = 0; e < net.ext_grids.size() && !placed; ++e)
                if (m.ext_grid_node[e] == i) {
                    row_ext_p[e] = src.real();
                    row_ext_q[e] = src.imag();
                    placed = true;
                }
            for (std::size_t g = 0; g < net.gens.size() && !placed; ++g)
                if (m.gen_node[g] == i) {
                    row_gen_p[g] += src.real();
                    placed = true;
                }
            ext_total += placed ? src.real() : 0.0;
        }
        double gen_total = 0.0;
        for (double x : row_gen_p) gen_total += x;
        double ext_p_sum = 0.0;
        for (double x : row_ext_p) ext_p_sum += x;
        const double balance = ext_p_sum + gen_total + total_elements - losses;
        if (converged) sum.energy_balance_max_error_mw = std::max(sum.energy_balance_max_error_mw, std::abs(balance));

        // KPIs
        if (converged) {
            sum.losses_mwh += losses * dt_h;
            sum.import_mwh += std::max(ext_p_sum, 0.0) * dt_h;
            sum.export_mwh += std::max(-ext_p_sum, 0.0) * dt_h;
            sum.peak_import_mw = std::max(sum.peak_import_mw, ext_p_sum);
            sum.co2_t += std::max(ext_p_sum, 0.0) * dt_h * opt.emission.at(t);
        }
        sum.load_mwh += load_mw * dt_h;
        sum.pv_mwh += pv_mw * dt_h;
        sum.pv_available_mwh += pv_avail * dt_h;
        sum.pv_curtailed_mwh += pv_curt * dt_h;
        (void)batt_mw;
        (void)ext_total;

        // customers: net import behind each meter
        std::fill(cust_net_kw.begin(), cust_net_kw.end(), 0.0);
        for (std::size_t l = 0; l < net.loads.size(); ++l) cust_net_kw[l] = -row_load_p[l] * 1000.0;
        std::fill(cust_pv_kw.begin(), cust_pv_kw.end(), 0.0);
        for (std::size_t u = 0; u < dev.pv.size(); ++u)
            if (pv_customer[u] >= 0) {
                cust_net_kw[pv_customer[u]] -= row_pv_p[u] * 1000.0;
                cust_pv_kw[pv_customer[u]] += row_pv_p[u] * 1000.0;
            }
        for (std::size_t b = 0; b < dev.batteries.size(); ++b)
            if (batt_customer[b] >= 0) cust_net_kw[batt_customer[b]] -= row_bat_p[b] * 1000.0;
        std::fill(cust_extra_kw.begin(), cust_extra_kw.end(), 0.0);  // building / home consumption (load)
        for (std::size_t u = 0; u < dev.ev_stations.size(); ++u)
            if (ev_customer[u] >= 0) cust_net_kw[ev_customer[u]] -= row_ev_p[u] * 1000.0;
        for (std::size_t u = 0; u < dev.buildings.size(); ++u)
            if (bld_customer[u] >= 0) {
                cust_net_kw[bld_customer[u]] -= row_bld_p[u] * 1000.0;
                cust_extra_kw[bld_customer[u]] -= row_bld_p[u] * 1000.0;
            }
        for (std::size_t u = 0; u < dev.homes.size(); ++u)
            if (home_customer[u] >= 0) {
                cust_net_kw[home_customer[u]] -= row_home_p[u] * 1000.0;
                cust_extra_kw[home_customer[u]] -= row_home_bld[u] * 1000.0;
                cust_pv_kw[home_customer[u]] += row_home_pv[u] * 1000.0;
            }
        for (std::size_t c = 0; c < cust_net_kw.size(); ++c) {
            const double load_kw = -row_load_p[c] * 1000.0 + cust_extra_kw[c];
            // PV used on site: what of the PV covers the customer's own load (before the battery).
            sum.pv_self_consumed_mwh += std::min(std::max(cust_pv_kw[c], 0.0), std::max(load_kw, 0.0)) / 1000.0 * dt_h;
            const double e = cust_net_kw[c] * dt_h;
            if (e > 0) interval_imp[c] += e;
            else interval_exp[c] -= e;
        }

        // write the step
        if (w) {
            w->append_time(t);
            for (const Recorded& r : recorded) w->append(r.handle, r.row->data());  // every per-step float series
            if (h_tap >= 0) {
                for (std::size_t i = 0; i < net.transformers.size(); ++i) row_tap[i] = net.transformers[i].tap_pos;
                w->append(h_tap, row_tap.data());
            }
            const std::int64_t conv = converged ? 1 : 0, it = iters;
            w->append(h_conv, &conv);
            w->append(h_iter, &it);
            w->append(h_balance, &balance);
        }

        // meter interval complete?
        const std::int64_t t_end = t + opt.step_s;
        if ((t_end - opt.start) % opt.meter_interval_s == 0 || k + 1 == opt.n_steps)
            close_interval(opt.start + ((t - opt.start) / opt.meter_interval_s) * opt.meter_interval_s);
    }

    void note_violation(LocalTime t, const char* kind, Id element, double value) {
        if (sum.first_violation.found) return;
        sum.first_violation = Violation{true, t, kind, element, value};
    }

    void close_interval(LocalTime interval_start) {
        const std::size_t nc = net.loads.size();
        if (w && h_meter_imp >= 0) {
            w->append(h_meter_t, &interval_start);
            w->append(h_meter_imp, interval_imp.data());
            w->append(h_meter_exp, interval_exp.data());
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
        ++month_len;
        std::fill(interval_imp.begin(), interval_imp.end(), 0.0);
        std::fill(interval_exp.begin(), interval_exp.end(), 0.0);
    }

    void close_month() {
        if (month_len == 0) return;
        const std::size_t nc = net.loads.size();
        for (std::size_t c = 0; c < nc; ++c) {
            const int ti = cust_tariff[c];
            BillOptions bo;
            bo.scheme = ti >= 0 ? dev.tariffs[ti].scheme : ExportScheme::None;
            bo.is_holiday = holiday;
            bo.nem_rollover_months = 0;  // month by month: credits do not carry over (see docs)
            const Tariff& tf = ti >= 0 ? dev.tariffs[ti].tariff : default_tariff;
            std::vector<Bill> b = monthly_bills(tf, bo, month_start, opt.meter_interval_s, &month_imp[c * month_cap], &month_exp[c * month_cap], month_len);
            for (const Bill& x : b) {
                bills[c].push_back(x);
                sum.bills_rm += x.total_rm;
            }
        }
        month_len = 0;
    }

    void open_writer(const detail::Checkpoint* resume_from = nullptr) {
        recorded.clear();
        if (opt.output_path.empty()) return;
        if (resume_from) {
            ResultsResume r;
            for (const auto& [path, rows] : resume_from->series_rows) r.rows[path] = rows;
            r.remove = {"/summary", "/bill"};  // written at the end of a run
            r.remove_root_attributes = {"stop_reason", "steps_done", "failed_at_step"};
            w.emplace(opt.output_path, opt.h5, r);
        } else {
            w.emplace(opt.output_path, opt.h5);
        }
        {
            // every column a step or a meter interval appends (an upper bound), for the writer's memory plan
            const std::size_t nbr = net.branches.size() + net.lines.size() + net.transformers.size();
            w->plan(2 * nb() + 3 * nbr + 4 * net.loads.size() + 4 * dev.pv.size() + 3 * dev.batteries.size() + 2 * net.ext_grids.size() +
                    dev.ev_stations.size() + 4 * dev.charging_sites.size() + 3 * dev.buildings.size() + 5 * dev.homes.size() +
                    net.sgens.size() + net.storage.size() + net.gens.size() + 2 * net.shunts.size() + net.transformers.size() + 8);
        }
        w->write_run_info(opt.scenario_text, opt.seed);
        // how far the run got: "running" until it ends ("complete", "stopped" or "failed"); a file
        // still saying "running" after its writer is gone was killed (libgrid info tells)
        w->set_attribute("/", "status", "running");
        w->set_attribute("/", "steps_planned", std::int64_t(opt.n_steps));
        w->set_attribute("/", "step_s", std::int64_t(opt.step_s));
        w->set_attribute("/", "start", format_iso8601(opt.start));
        w->set_attribute("/", "network", net.name);
        w->add_time();
        std::vector<std::int64_t> ids;
        for (const Bus& b : net.buses) ids.push_back(b.id);
        w->write_ids("bus", ids);
        std::vector<double> vn;
        for (const Bus& b : net.buses) vn.push_back(b.vn_kv);
        w->write_vector("bus/vn_kv", vn, "kV");
        h_vm = record_series("bus", "vm_pu", nb(), "p.u.", row_bus);
        if (opt.record_bus_angles) h_va = record_series("bus", "va_deg", nb(), "degree", row_va);
        const std::size_t nbr = net.branches.size() + net.lines.size() + net.transformers.size();
        if (nbr) {
            std::vector<std::int64_t> bid(nbr);
            std::vector<std::string> kind;
            std::vector<std::int64_t> elem, from, to;
            for (const Branch& b : net.branches) { kind.push_back("branch"); elem.push_back(b.id); from.push_back(b.from_bus); to.push_back(b.to_bus); }
            for (const Line& b : net.lines) { kind.push_back("line"); elem.push_back(b.id); from.push_back(b.from_bus); to.push_back(b.to_bus); }
            for (const Transformer& b : net.transformers) { kind.push_back("trafo"); elem.push_back(b.id); from.push_back(b.hv_bus); to.push_back(b.lv_bus); }
            for (std::size_t i = 0; i < nbr; ++i) bid[i] = std::int64_t(i);
            w->write_ids("branch", bid);
            w->write_strings("branch/kind", kind);
            w->write_int_vector("branch/element_id", elem);
            w->write_int_vector("branch/from_bus", from);
            w->write_int_vector("branch/to_bus", to);
            h_br_loading = record_series("branch", "loading_percent", nbr, "percent", row_br_loading);
            h_br_loss = record_series("branch", "p_loss_mw", nbr, "MW", row_br_loss);
            if (opt.record_branch_p_from) h_br_p = record_series("branch", "p_from_mw", nbr, "MW", row_br_p);
        }
        auto group_ids = [&](const char* g, const auto& table) {
            std::vector<std::int64_t> v;
            for (const auto& x : table) v.push_back(x.id);
            w->write_ids(g, v);
            return v.size();
        };
        // A device group's ids, buses and (where the device has one) the customer behind whose meter it is.
        auto device_group = [&](const char* g, const auto& units) {
            const std::size_t n = group_ids(g, units);
            std::vector<std::int64_t> bus, cust;
            for (const auto& u : units) {
                bus.push_back(u.bus);
                if constexpr (requires { u.customer; }) cust.push_back(u.customer);
            }
            w->write_int_vector(std::string(g) + "/bus", bus);
            if (!cust.empty()) w->write_int_vector(std::string(g) + "/customer", cust);
            return n;
        };
        if (!net.loads.empty()) {
            const std::size_t n = group_ids("load", net.loads);
            std::vector<std::int64_t> bus;
            for (const Load& l : net.loads) bus.push_back(l.bus);
            w->write_int_vector("load/bus", bus);
            h_load_p = record_series("load", "p_mw", n, "MW", row_load_p);
            if (opt.record_reactive) h_load_q = record_series("load", "q_mvar", n, "MVAr", row_load_q);
        }
        if (!dev.pv.empty()) {
            const std::size_t n = device_group("pv", dev.pv);
            std::vector<double> kwp;
            for (const PvUnit& u : dev.pv) kwp.push_back(u.params.kwp_dc);
            w->write_vector("pv/kwp_dc", kwp, "kW");
            h_pv_p = record_series("pv", "p_mw", n, "MW", row_pv_p);
            if (opt.record_reactive || pv_voltage_dependent ||
                std::any_of(dev.pv.begin(), dev.pv.end(), [](const PvUnit& u) { return u.params.qmode != QControl::None; }))
                h_pv_q = record_series("pv", "q_mvar", n, "MVAr", row_pv_q);
            h_pv_curt = record_series("pv", "curtailed_mw", n, "MW", row_pv_curt);
            h_pv_avail = record_series("pv", "available_mw", n, "MW", row_pv_avail);
        }
        if (!dev.batteries.empty()) {
            const std::size_t n = device_group("battery", dev.batteries);
            std::vector<double> e;
            for (const BatteryUnit& u : dev.batteries) e.push_back(u.params.e_kwh);
            w->write_vector("battery/e_kwh", e, "kWh");
            h_bat_p = record_series("battery", "p_mw", n, "MW", row_bat_p);
            h_bat_q = record_series("battery", "q_mvar", n, "MVAr", row_bat_q);
            h_bat_soc = record_series("battery", "soc", n, "fraction", row_bat_soc);
        }
        if (!net.ext_grids.empty()) {
            const std::size_t n = group_ids("ext_grid", net.ext_grids);
            h_ext_p = record_series("ext_grid", "p_mw", n, "MW", row_ext_p);
            h_ext_q = record_series("ext_grid", "q_mvar", n, "MVAr", row_ext_q);
        }
        if (!dev.ev_stations.empty()) {
            const std::size_t n = device_group("ev", dev.ev_stations);
            h_ev_p = record_series("ev", "p_mw", n, "MW", row_ev_p);
        }
        if (!dev.charging_sites.empty()) {
            const std::size_t n = device_group("ev_site", dev.charging_sites);
            h_site_p = record_series("ev_site", "p_mw", n, "MW", row_site_p);
            h_site_ev = record_series("ev_site", "ev_mw", n, "MW", row_site_ev);
            h_site_pv = record_series("ev_site", "pv_mw", n, "MW", row_site_pv);
            h_site_bat = record_series("ev_site", "battery_mw", n, "MW", row_site_bat);
        }
        if (!dev.buildings.empty()) {
            const std::size_t n = device_group("building", dev.buildings);
            h_bld_p = record_series("building", "p_mw", n, "MW", row_bld_p);
            h_bld_ac = record_series("building", "ac_mw", n, "MW", row_bld_ac);
            h_bld_t = record_series("building", "t_air_c", n, "degC", row_bld_t);
        }
        if (!dev.homes.empty()) {
            const std::size_t n = device_group("home", dev.homes);
            h_home_p = record_series("home", "p_mw", n, "MW", row_home_p);
            h_home_ev = record_series("home", "ev_mw", n, "MW", row_home_ev);
            h_home_pv = record_series("home", "pv_mw", n, "MW", row_home_pv);
            h_home_bat = record_series("home", "battery_mw", n, "MW", row_home_bat);
            h_home_bld = record_series("home", "building_mw", n, "MW", row_home_bld);
        }
        if (!net.sgens.empty()) h_sgen_p = record_series("sgen", "p_mw", group_ids("sgen", net.sgens), "MW", row_sgen_p);
        if (!net.storage.empty()) h_sto_p = record_series("storage", "p_mw", group_ids("storage", net.storage), "MW", row_sto_p);
        if (!net.gens.empty()) h_gen_p = record_series("gen", "p_mw", group_ids("gen", net.gens), "MW", row_gen_p);
        if (!net.shunts.empty()) {
            const std::size_t n = group_ids("shunt", net.shunts);
            h_shunt_p = record_series("shunt", "p_mw", n, "MW", row_shunt_p);
            h_shunt_q = record_series("shunt", "q_mvar", n, "MVAr", row_shunt_q);
        }
        if (std::any_of(net.transformers.begin(), net.transformers.end(), [](const Transformer& t) { return t.oltc; })) {
            group_ids("trafo", net.transformers);
            h_tap = w->add_int_series("trafo", "tap_pos", net.transformers.size());
        }
        h_conv = w->add_int_series("solver", "converged", 1);
        h_iter = w->add_int_series("solver", "iterations", 1);
        h_balance = w->add_series("solver", "energy_balance_mw", 1, "MW");
        if (!net.loads.empty()) {
            group_ids("meter", net.loads);
            h_meter_t = w->add_group_time("meter");
            h_meter_imp = w->add_series("meter", "import_kwh", net.loads.size(), "kWh");
            h_meter_exp = w->add_series("meter", "export_kwh", net.loads.size(), "kWh");
            w->set_attribute("/meter", "interval_s", std::int64_t(opt.meter_interval_s));
        }
    }
    std::size_t nb() const { return net.buses.size(); }

    void write_summary() {
        if (!w) return;
        auto s = [&](const char* name, double v, const char* unit) { w->write_scalar(std::string("summary/") + name, v, unit); };
        s("steps", double(sum.steps), "");
        s("non_converged_steps", double(sum.non_converged_steps), "");
        s("controls_unsettled_steps", double(sum.controls_unsettled_steps), "");
        s("voltage_violation_bus_steps", double(sum.voltage_violation_bus_steps), "");
        s("voltage_violation_hours", sum.voltage_violation_hours, "h");
        s("min_vm_pu", sum.min_vm_pu, "p.u.");
        s("max_vm_pu", sum.max_vm_pu, "p.u.");
        s("max_line_loading_percent", sum.max_line_loading_percent, "percent");
        s("max_trafo_loading_percent", sum.max_trafo_loading_percent, "percent");
        s("overloaded_branch_steps", double(sum.overloaded_branch_steps), "");
        s("losses_mwh", sum.losses_mwh, "MWh");
        s("import_mwh", sum.import_mwh, "MWh");
        s("export_mwh", sum.export_mwh, "MWh");
        s("peak_import_mw", sum.peak_import_mw, "MW");
        s("load_mwh", sum.load_mwh, "MWh");
        s("pv_mwh", sum.pv_mwh, "MWh");
        s("pv_curtailed_mwh", sum.pv_curtailed_mwh, "MWh");
        s("self_consumption", sum.self_consumption, "fraction");
        s("self_sufficiency", sum.self_sufficiency, "fraction");
        s("battery_charged_mwh", sum.battery_charged_mwh, "MWh");
        s("battery_discharged_mwh", sum.battery_discharged_mwh, "MWh");
        s("battery_losses_mwh", sum.battery_losses_mwh, "MWh");
        s("co2_t", sum.co2_t, "t");
        s("bills_rm", sum.bills_rm, "RM");
        s("energy_balance_max_error_mw", sum.energy_balance_max_error_mw, "MW");
        s("deenergized_buses", double(sum.deenergized_buses), "");
        s("wall_time_s", sum.wall_time_s, "s");
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
        }
        s("ev_delivered_mwh", sum.ev_delivered_mwh, "MWh");
        s("ev_not_delivered_mwh", sum.ev_not_delivered_mwh, "MWh");
        s("ev_peak_mw", sum.ev_peak_mw, "MW");
        s("building_comfort_degree_hours", sum.building_comfort_degree_hours, "K h");
        s("home_comfort_degree_hours", sum.home_comfort_degree_hours, "K h");
        // per-session EV records
        {
            std::vector<std::int64_t> station, arrival, departure;
            std::vector<double> wanted, delivered, unmet;
            auto add_station = [&](Id id, const EvStation& st) {
                for (std::size_t i = 0; i < st.sessions.size() && i < st.records.size(); ++i) {
                    station.push_back(id);
                    arrival.push_back(st.sessions[i].arrival);
                    departure.push_back(st.sessions[i].departure);
                    wanted.push_back(st.sessions[i].energy_kwh);
                    delivered.push_back(st.records[i].delivered_kwh);
                    unmet.push_back(st.records[i].unmet_kwh);
                }
            };
            for (const EvStationUnit& u : dev.ev_stations) add_station(u.id, u.station);
            for (const ChargingSiteUnit& u : dev.charging_sites) add_station(u.id, u.site.evs);
            for (const HomeUnit& u : dev.homes) add_station(u.id, u.home.ev);
            if (!station.empty()) {
                w->write_int_vector("summary/ev_sessions/station", station);
                w->write_int_vector("summary/ev_sessions/arrival", arrival, kResultsTimeUnits);
                w->write_int_vector("summary/ev_sessions/departure", departure, kResultsTimeUnits);
                w->write_vector("summary/ev_sessions/energy_kwh", wanted, "kWh");
                w->write_vector("summary/ev_sessions/delivered_kwh", delivered, "kWh");
                w->write_vector("summary/ev_sessions/unmet_kwh", unmet, "kWh");
            }
        }
        if (!dev.buildings.empty()) {
            std::vector<std::int64_t> id;
            std::vector<double> comfort, elec, ac;
            for (std::size_t u = 0; u < dev.buildings.size(); ++u) {
                id.push_back(dev.buildings[u].id);
                comfort.push_back(bld_state[u].comfort_degree_hours);
                elec.push_back(bld_state[u].electricity_kwh);
                ac.push_back(bld_state[u].ac_kwh);
            }
            w->write_int_vector("summary/building/id", id);
            w->write_vector("summary/building/comfort_degree_hours", comfort, "K h");
            w->write_vector("summary/building/electricity_kwh", elec, "kWh");
            w->write_vector("summary/building/ac_kwh", ac, "kWh");
        }
        // bills: months x customers
        if (!bills.empty() && !bills[0].empty()) {
            const std::size_t nm = bills[0].size(), nc = bills.size();
            std::vector<std::string> months;
            for (const Bill& b : bills[0]) months.push_back(std::to_string(b.year) + "-" + (b.month < 10 ? "0" : "") + std::to_string(b.month));
            w->write_ids("bill", bill_customers);
            w->write_strings("bill/month", months);
            auto table = [&](const char* name, double Bill::*field, const char* unit) {
                const int h = w->add_series("bill", name, nc, unit);
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
        }
        w->flush();
    }
};

Simulation::Simulation(Network net, DeviceSet devices, SimulationOptions options) : impl_(std::make_unique<Impl>()) {
    Impl& s = *impl_;
    s.net = std::move(net);
    s.dev = std::move(devices);
    s.opt = std::move(options);
    s.validate_inputs();
    std::stable_sort(s.dev.events.begin(), s.dev.events.end(), [](const Event& a, const Event& b) { return a.time < b.time; });
    s.pool = std::make_unique<ThreadPool>(s.opt.threads);
    s.pv_on.assign(s.dev.pv.size(), 0);
    for (std::size_t k = 0; k < s.dev.pv.size(); ++k) s.pv_on[k] = s.dev.pv[k].in_service;
    s.batt_on.assign(s.dev.batteries.size(), 0);
    for (std::size_t k = 0; k < s.dev.batteries.size(); ++k) s.batt_on[k] = s.dev.batteries[k].in_service;
    s.pv_customer.assign(s.dev.pv.size(), -1);
    for (std::size_t k = 0; k < s.dev.pv.size(); ++k)
        if (s.dev.pv[k].customer >= 0) s.pv_customer[k] = int(s.load_at.at(s.dev.pv[k].customer));
    s.batt_customer.assign(s.dev.batteries.size(), -1);
    for (std::size_t k = 0; k < s.dev.batteries.size(); ++k)
        if (s.dev.batteries[k].customer >= 0) s.batt_customer[k] = int(s.load_at.at(s.dev.batteries[k].customer));
    for (const PvUnit& u : s.dev.pv)
        s.pv_voltage_dependent = s.pv_voltage_dependent || u.params.qmode == QControl::VoltVar || u.params.volt_watt;
}

Simulation::~Simulation() = default;
Simulation::Simulation(Simulation&&) noexcept = default;
Simulation& Simulation::operator=(Simulation&&) noexcept = default;

SimulationSummary Simulation::run(const ProgressFn& progress) {
    Impl& s = *impl_;
    const auto t0 = std::chrono::steady_clock::now();
    s.sum = SimulationSummary{};
    s.sum.min_vm_pu = kInf;
    s.sum.max_vm_pu = -kInf;
    s.weather = s.opt.weather_series ? *s.opt.weather_series : melaka_weather(s.opt.start, s.opt.step_s, s.opt.n_steps, s.opt.seed, s.opt.weather);
    if (s.weather.size() < s.opt.n_steps) throw ValidationError("simulation: the weather series has fewer values than n_steps");
    const std::size_t nl = s.net.loads.size();
    s.load_p_kw.assign(nl, 0.0);
    s.load_q_kvar.assign(nl, 0.0);
    s.cust_net_kw.assign(nl, 0.0);
    s.cust_pv_kw.assign(nl, 0.0);
    s.interval_imp.assign(nl, 0.0);
    s.interval_exp.assign(nl, 0.0);
    const std::size_t intervals_per_31d = std::size_t(31 * 86400 / s.opt.meter_interval_s) + 1;
    const std::size_t horizon_intervals = std::size_t((std::int64_t(s.opt.n_steps) * s.opt.step_s + s.opt.meter_interval_s - 1) / s.opt.meter_interval_s) + 1;
    s.month_cap = std::min(intervals_per_31d, horizon_intervals);
    s.month_imp.assign(nl * s.month_cap, 0.0);
    s.month_exp.assign(nl * s.month_cap, 0.0);
    s.month_key = -1;
    s.bills.assign(nl, {});
    s.bill_customers.clear();
    for (const Load& l : s.net.loads) s.bill_customers.push_back(l.id);
    s.pv_out.assign(s.dev.pv.size(), PvOutput{});
    s.pv_vm_eval.assign(s.dev.pv.size(), 1.0);
    s.batt_state.clear();
    for (const BatteryUnit& b : s.dev.batteries) s.batt_state.push_back(make_battery_state(b.params));
    s.batt_p_kw.assign(s.dev.batteries.size(), 0.0);
    // EV, sites, buildings, homes: prepare (validates, sizes scratch), per-customer links
    for (EvStationUnit& u : s.dev.ev_stations) u.station.prepare(double(s.opt.step_s));
    for (ChargingSiteUnit& u : s.dev.charging_sites) u.site.prepare(double(s.opt.step_s));
    for (HomeUnit& u : s.dev.homes) u.home.prepare(double(s.opt.step_s));
    s.bld_state.clear();
    s.bld_state.assign(s.dev.buildings.size(), BuildingState{});
    s.ev_p_kw.assign(s.dev.ev_stations.size(), 0.0);
    s.site_p_kw.assign(s.dev.charging_sites.size(), 0.0);
    s.site_out.assign(s.dev.charging_sites.size(), SiteStepOutput{});
    s.bld_p_kw.assign(s.dev.buildings.size(), 0.0);
    s.bld_out.assign(s.dev.buildings.size(), BuildingOutput{});
    s.home_p_kw.assign(s.dev.homes.size(), 0.0);
    s.home_out.assign(s.dev.homes.size(), HomeOutput{});
    s.cust_replaced.assign(nl, 0);
    s.cust_extra_kw.assign(nl, 0.0);
    auto link = [&](const auto& units, std::vector<int>& out, bool replaces) {
        out.assign(units.size(), -1);
        for (std::size_t k = 0; k < units.size(); ++k)
            if (units[k].customer >= 0) {
                out[k] = int(s.load_at.at(units[k].customer));
                if (replaces) s.cust_replaced[out[k]] = 1;
            }
    };
    link(s.dev.ev_stations, s.ev_customer, false);
    link(s.dev.buildings, s.bld_customer, true);
    link(s.dev.homes, s.home_customer, true);
    for (auto* v : {&s.row_ev_p}) v->assign(s.dev.ev_stations.size(), 0.0);
    for (auto* v : {&s.row_site_p, &s.row_site_ev, &s.row_site_pv, &s.row_site_bat}) v->assign(s.dev.charging_sites.size(), 0.0);
    for (auto* v : {&s.row_bld_p, &s.row_bld_ac, &s.row_bld_t}) v->assign(s.dev.buildings.size(), 0.0);
    for (auto* v : {&s.row_home_p, &s.row_home_ev, &s.row_home_pv, &s.row_home_bat, &s.row_home_bld}) v->assign(s.dev.homes.size(), 0.0);
    std::vector<double> e0;
    for (std::size_t b = 0; b < s.dev.batteries.size(); ++b) e0.push_back(stored_energy_kwh(s.dev.batteries[b].params, s.batt_state[b]));
    s.next_event = 0;
    s.rebuild();
    s.block_start = 0;
    s.block_len = 0;
    const std::size_t nbr = s.net.branches.size() + s.net.lines.size() + s.net.transformers.size();
    s.row_bus.assign(s.nb(), 0.0);
    s.row_va.assign(s.nb(), 0.0);
    s.row_br_loading.assign(nbr, 0.0);
    s.row_br_loss.assign(nbr, 0.0);
    s.row_br_p.assign(nbr, 0.0);
    s.row_load_p.assign(nl, 0.0);
    s.row_load_q.assign(nl, 0.0);
    for (auto* v : {&s.row_pv_p, &s.row_pv_q, &s.row_pv_curt, &s.row_pv_avail}) v->assign(s.dev.pv.size(), 0.0);
    for (auto* v : {&s.row_bat_p, &s.row_bat_q, &s.row_bat_soc}) v->assign(s.dev.batteries.size(), 0.0);
    s.row_ext_p.assign(s.net.ext_grids.size(), 0.0);
    s.row_ext_q.assign(s.net.ext_grids.size(), 0.0);
    s.row_sgen_p.assign(s.net.sgens.size(), 0.0);
    s.row_sto_p.assign(s.net.storage.size(), 0.0);
    s.row_gen_p.assign(s.net.gens.size(), 0.0);
    s.row_shunt_p.assign(s.net.shunts.size(), 0.0);
    s.row_shunt_q.assign(s.net.shunts.size(), 0.0);
    s.row_tap.assign(s.net.transformers.size(), 0);
    if (s.opt.checkpoint_steps % kCheckpointQuantum != 0)
        throw ValidationError("simulation: field 'checkpoint_steps': must be a multiple of " + std::to_string(kCheckpointQuantum) +
                              " (or 0), got " + std::to_string(s.opt.checkpoint_steps));
    // Resume: the state at the checkpoint's step, then the file cut back to what it had then.
    std::optional<detail::Checkpoint> ckpt;
    if (s.opt.resume) {
        if (s.opt.output_path.empty()) throw ValidationError("simulation: field 'resume': needs an output_path");
        const std::string cp = checkpoint_path(s.opt.output_path);
        std::error_code ec;
        if (!std::filesystem::exists(cp, ec))
            throw Error("cannot resume '" + s.opt.output_path + "': no checkpoint '" + cp +
                        "' (the run finished, or was stopped before its first checkpoint at step " + std::to_string(s.opt.checkpoint_steps) +
                        ": run it again without resume)");
        ckpt = detail::load_checkpoint(cp);
        const std::string who = "cannot resume from checkpoint '" + cp + "': ";
        if (ckpt->libgrid_version != LIBGRID_VERSION) throw Error(who + "written by libgrid " + ckpt->libgrid_version + ", this is " + LIBGRID_VERSION);
        if (ckpt->digest != s.input_digest() || ckpt->n_steps != s.opt.n_steps)
            throw Error(who + "it belongs to another run (scenario, seed, horizon or options differ): resume with the same inputs");
        if (ckpt->next_step == 0 || ckpt->next_step % kCheckpointQuantum != 0) throw Error(who + "field 'next_step': not a checkpoint boundary");
        detail::StateIn in(ckpt->state.data(), ckpt->state.size(), "checkpoint '" + cp + "'");
        s.archive_state(in);
        if (in.left() != 0) in.bad("state", std::to_string(in.left()) + " bytes left over");
        s.resync();
        if (s.block_len > 0) {
            const std::size_t len = s.block_len;
            s.fill_block(s.block_start);
            if (s.block_len != len) throw Error(who + "field 'block_len': does not match this run's load-profile blocks");
        }
        s.sum.resumed_from_step = ckpt->next_step;
    }
    s.open_writer(ckpt ? &*ckpt : nullptr);
    s.sum.planned_steps = s.opt.n_steps;
    s.sum.time_setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::size_t k0 = ckpt ? std::size_t(ckpt->next_step) : 0;
    std::string stop;
    try {
        for (std::size_t k = k0; k < s.opt.n_steps; ++k) {
            if (k > 0 && k % kCheckpointQuantum == 0 && k != k0) {
                const auto tc = Impl::Clock::now();
                s.resync();
                if (s.w && s.opt.checkpoint_steps > 0 && k % s.opt.checkpoint_steps == 0) s.snapshot_checkpoint(k);
                s.sum.time_checkpoint_s += Impl::since(tc);
            }
            if (s.opt.stop_requested) {
                const int v = s.opt.stop_requested->load(std::memory_order_relaxed);
                if (v != 0) {
                    stop = v == SIGINT ? "SIGINT" : v == SIGTERM ? "SIGTERM" : v == SIGHUP ? "SIGHUP" : "stop requested";
                    break;
                }
            }
            if (s.w && s.opt.min_free_bytes > 0 && (k - k0) % 16 == 0) {
                const std::size_t free = s.w->free_bytes();
                if (free < s.opt.min_free_bytes) {
                    stop = "disk nearly full: " + std::to_string(free >> 20) + " MiB free where '" + s.opt.output_path +
                           "' is (min_free_bytes " + std::to_string(s.opt.min_free_bytes >> 20) + " MiB)";
                    break;
                }
            }
            s.step(k);
            s.sum.steps = k + 1;
            if (progress) progress(k + 1, s.opt.n_steps);
            if (s.opt.stop_at_first_violation && s.sum.first_violation.found) break;
        }
    } catch (...) {
        // A run that fails part way keeps what it had written: every completed step, then the
        // file is closed (and unlocked) before the error goes on to the caller.
        if (s.w) {
            try {
                s.w->set_attribute("/", "failed_at_step", std::int64_t(s.sum.steps));
                s.w->set_attribute("/", "status", "failed");
                s.w->close();
            } catch (...) {
            }
            s.w.reset();
        }
        throw;
    }
    if (!stop.empty()) {
        s.sum.completed = false;
        s.sum.stop_reason = stop;
    }
    s.close_month();
    // battery and PV energy KPIs
    for (std::size_t b = 0; b < s.dev.batteries.size(); ++b) {
        const BatteryState& st = s.batt_state[b];
        s.sum.battery_charged_mwh += st.charged_kwh / 1000.0;
        s.sum.battery_discharged_mwh += st.discharged_kwh / 1000.0;
        s.sum.battery_losses_mwh += st.loss_kwh / 1000.0;
        s.sum.battery_storage_change_mwh += (stored_energy_kwh(s.dev.batteries[b].params, st) - e0[b]) / 1000.0;
    }
    auto ev_kpi = [&](const EvKpi& k) {
        s.sum.ev_delivered_mwh += k.delivered_kwh / 1000.0;
        s.sum.ev_not_delivered_mwh += k.unmet_kwh / 1000.0;
    };
    for (const EvStationUnit& u : s.dev.ev_stations) ev_kpi(u.station.kpi());
    for (const ChargingSiteUnit& u : s.dev.charging_sites) ev_kpi(u.site.evs.kpi());
    for (const HomeUnit& u : s.dev.homes) ev_kpi(u.home.ev.kpi());
    for (const BuildingState& b : s.bld_state) s.sum.building_comfort_degree_hours += b.comfort_degree_hours;
    for (const HomeUnit& u : s.dev.homes) s.sum.home_comfort_degree_hours += u.home.building_state.comfort_degree_hours;
    s.sum.self_consumption = s.sum.pv_mwh > 0 ? s.sum.pv_self_consumed_mwh / s.sum.pv_mwh : 0.0;
    s.sum.self_sufficiency = s.sum.load_mwh > 0 ? s.sum.pv_self_consumed_mwh / s.sum.load_mwh : 0.0;
    if (!std::isfinite(s.sum.min_vm_pu)) s.sum.min_vm_pu = kNaN;
    if (!std::isfinite(s.sum.max_vm_pu)) s.sum.max_vm_pu = kNaN;
    s.sum.wall_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    s.sum.steps_per_second = s.sum.wall_time_s > 0 ? double(s.sum.steps) / s.sum.wall_time_s : 0.0;
    s.write_summary();
    if (s.w) {
        s.w->set_attribute("/", "steps_done", std::int64_t(s.sum.steps));
        if (!s.sum.completed) s.w->set_attribute("/", "stop_reason", s.sum.stop_reason);
        s.w->set_attribute("/", "status", s.sum.completed ? "complete" : "stopped");
        s.w->close();
        if (!s.sum.completed && s.opt.checkpoint_steps > 0) s.commit_checkpoints(true);  // every row is in the file now
        s.w.reset();
        // a finished run needs no checkpoint; a stopped one keeps its last (resume goes on from there)
        if (s.sum.completed) {
            std::error_code ec;
            std::filesystem::remove(checkpoint_path(s.opt.output_path), ec);
        }
    }
    return s.sum;
}

const std::vector<std::vector<Bill>>& Simulation::bills() const { return impl_->bills; }
const std::vector<Id>& Simulation::bill_customers() const { return impl_->bill_customers; }
const std::vector<BatteryState>& Simulation::battery_states() const { return impl_->batt_state; }

}  // namespace libgrid
