// libgrid layer 7: how devices plug into the time-series engine (docs/device_interface.md).
//
// The engine knows no device kind. It holds a list of DeviceGroup objects, one per kind, made by
// the factories of a registry keyed by kind (pv, battery, ev, ev_site, building, home are built in;
// register_device_kind adds more). A group owns all devices of its kind and is called once per
// phase of a step, with a tight loop inside:
//
//   validate   once, before anything (bus and customer ids, parameters)
//   prepare    at the start of a run (state, links to customers, which customers it replaces)
//   bind       after each (re)build of the math model: bus -> node
//   step       set points for this step from one StepContext (time, dt, peak flag, weather, voltages)
//   inject     adds its power per node (in group order; "late" groups after all others)
//   voltage    optional: the change of |V| since its set points were evaluated, re-evaluation
//              between control rounds and inside the sweep (PV volt-var / volt-watt)
//   record     declares its series once (declare), fills its rows each step (record), adds to the
//              step's energy totals; meters behind customers' meters (meter)
//   finish     adds its KPIs to the summary and its tables to /summary
//   state      saves and restores what a step changes (checkpoints, docs/reliability.md)
//
// Floating-point sums across groups run in the order of the groups (the registry's order), within a
// group in device order, so results do not depend on anything else.
#pragma once

#include <libgrid/devices/pv.hpp>
#include <libgrid/model/forming.hpp>
#include <libgrid/model/network.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/results/recorder.hpp>
#include <libgrid/simulation/comms.hpp>
#include <libgrid/simulation/device_set.hpp>
#include <libgrid/simulation/state_archive.hpp>

#include <complex>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace libgrid {

class ThreadPool;
struct DeviceSet;
struct SimulationOptions;
struct SimulationSummary;

/// Ids to indices, and buses to math-model nodes; given to validate, prepare and bind.
struct NetworkIndex {
    const std::unordered_map<Id, std::size_t>* bus_at = nullptr;   ///< bus id -> bus index
    const std::unordered_map<Id, std::size_t>* load_at = nullptr;  ///< load id (= customer) -> load index
    const std::vector<int>* bus_node = nullptr;                    ///< bus index -> node or -1 (after a build)
    int n_nodes = 0;                                               ///< nodes of the math model (after a build)

    /// Throws IdError "<who>: field 'bus': unknown bus id <bus>".
    void check_bus(const std::string& who, Id bus) const;
    const std::vector<Id>* load_bus = nullptr;                     ///< load index -> its bus id
    /// A customer is a load id, or -1 for none; throws IdError for an unknown one. Issue 19: a device
    /// behind a customer's meter sits at that customer's bus (ValidationError naming the device's
    /// 'bus', the customer and its bus otherwise).
    void check_customer(const std::string& who, Id customer, Id bus) const;
    /// Customer index (load index) or -1.
    int customer(Id customer) const;
    /// Node of a bus in the current math model, -1 when de-energised.
    int node(Id bus) const;

    /// Issue 15: where devices meet an unbalanced grid; set by it (nullptr on a balanced grid).
    struct Connections {
        virtual ~Connections() = default;
        /// The connection of a device at bus index `bus`, customer index `customer` (-1: none), on
        /// `phases` ("" = the customer's, else every phase of the bus); -1 while none is numbered
        /// yet. Throws ValidationError naming `who` for phases the bus has not.
        virtual int connection(std::size_t bus, int customer, const std::string& phases, const std::string& who) const = 0;
    };
    const Connections* connections = nullptr;
    /// Issue 15: the node a device at (bus, customer, phases) injects at and reads its voltage from
    /// (StepContext::V, Injections::add): on a balanced grid the bus's node (phases ignored); on an
    /// unbalanced one a connection index (the customer's ULoad phases when `phases` is "" and there
    /// is a customer, else parse_phases(phases), else every phase of the bus).
    int node_at(Id bus, Id customer, const std::string& phases, const std::string& who) const;
};

/// Issue 16 (docs/microgrid.md "Time series"): the grid-forming devices of a run and the grid. A
/// device group registers a FormingSource per grid-forming device at prepare (add); the grid puts
/// them in its network and, after each (re)build, says which stand in a droop island now (droop).
/// There the device does not inject: each step it gives its limits (p_min_kw, p_max_kw, from its
/// energy) and the grid's power flow gives it its power (p_kw, q_kvar, generator convention),
/// which it then books (its state of charge). Elsewhere it injects its own set point, as before.
struct FormingLink {
    std::vector<FormingSource> sources;  ///< bus = the device's bus id; kp, kq, limits in MW / Mvar
    std::vector<double> p_min_kw, p_max_kw;  ///< per source, this step (set by the device)
    std::vector<double> kp_mw_per_hz;         ///< per source, this step's P-f gain (set by the device)
    std::vector<char> droop;                  ///< per source: in a droop island now (set by the grid)
    std::vector<double> p_kw, q_kvar;         ///< per source, this step's solved output (set by the grid)
    /// per source: stored energy (at the start of the step after step(), at its end after record())
    /// and capacity, kWh (set by the device; the resilience KPIs' state of charge)
    std::vector<double> stored_kwh, capacity_kwh;

    /// Grid-following PV in droop islands: frequency-watt (IEEE 1547-2018 defaults, 0.036 Hz
    /// deadband, 5 % droop on the inverter's rating). The PV group registers its units at prepare
    /// (add_pv) and gives each round what it injects (pv_p_kw); the grid gives back after the solve
    /// the share it keeps (pv_ratio, 1 outside droop islands).
    std::vector<Id> pv_bus;
    std::vector<double> pv_rated_kw, pv_p_kw, pv_ratio;
    std::size_t add_pv(Id bus, double rated_kw) {
        pv_bus.push_back(bus);
        pv_rated_kw.push_back(rated_kw);
        pv_p_kw.push_back(0.0);
        pv_ratio.push_back(1.0);
        return pv_bus.size() - 1;
    }
    void clear() {
        pv_bus.clear();
        pv_rated_kw.clear();
        pv_p_kw.clear();
        pv_ratio.clear();
        stored_kwh.clear();
        capacity_kwh.clear();
        sources.clear();
        p_min_kw.clear();
        p_max_kw.clear();
        kp_mw_per_hz.clear();
        droop.clear();
        p_kw.clear();
        q_kvar.clear();
    }
    std::size_t add(const FormingSource& f) {
        sources.push_back(f);
        p_min_kw.push_back(0.0);
        p_max_kw.push_back(0.0);
        kp_mw_per_hz.push_back(f.kp_mw_per_hz);
        droop.push_back(0);
        p_kw.push_back(0.0);
        q_kvar.push_back(0.0);
        stored_kwh.push_back(0.0);
        capacity_kwh.push_back(0.0);
        return sources.size() - 1;
    }
};

/// Once per run, before the first step.
struct RunSetup {
    const SimulationOptions* opt = nullptr;
    const NetworkIndex* index = nullptr;
    /// Per customer: 1 when a device replaces that customer's load profile (buildings, homes).
    std::vector<char>* customer_replaced = nullptr;
    /// The network being simulated (topology for grid_aware charging).
    const Network* net = nullptr;
    /// Issue 16: where grid-forming devices register (nullptr: the grid has no islanded operation).
    FormingLink* forming = nullptr;
};

/// Everything a device may use to decide its set point for a step. One shape for every kind.
struct StepContext {
    std::size_t k = 0;          ///< step index (0-based from the run's start)
    LocalTime t = 0;            ///< local Melaka time at the start of the step
    double dt_h = 0.0;          ///< step length, hours (step_s / 3600)
    double dt_s = 0.0;          ///< step length, seconds (dt_h * 3600)
    bool peak = false;          ///< the time-of-use tariff's peak period
    double hour_of_day = 0.0;   ///< local, fractional
    bool weekday = false;       ///< not a weekend day nor a public holiday
    PvWeather weather;          ///< irradiance, sun position and temperature of the step
    const std::vector<std::complex<double>>* V = nullptr;  ///< the last solved node voltages, p.u.
    ThreadPool* pool = nullptr;                            ///< for_each over devices (results identical)
    /// Per customer: its load profile's power this step, kW (0 where replaced or out of service).
    const std::vector<double>* customer_load_kw = nullptr;
    /// Per customer: behind-the-meter PV this step, kW. Groups earlier in the order add to it (PV);
    /// later ones read it (batteries, EV PV-following).
    std::vector<double>* customer_pv_kw = nullptr;
    const SimulationOptions* opt = nullptr;
    /// Per customer: its load profile's reactive power this step, kvar (0 where replaced or out of service).
    const std::vector<double>* customer_load_kvar = nullptr;
    /// Per bus index: power drawn (kW, > 0 consuming) by EV stations and sites stepped earlier in this
    /// step; zeroed by the engine each step (grid_aware aggregators count it as other load).
    std::vector<double>* bus_flex_kw = nullptr;

    /// Issue 16 (docs/microgrid.md "Time series"): per node, 1 where its droop island sheds EV
    /// charging this step; per customer, 1 when it is shed (nullptr: no droop island).
    const std::vector<signed char>* node_ev_shed = nullptr;
    const std::vector<char>* customer_shed = nullptr;
    /// Issue 16: hours from the start of this step to the next scheduled restoration (the end of
    /// an event with a duration), NaN when none is announced.
    double outage_left_h = std::numeric_limits<double>::quiet_NaN();
    /// Issue 17 (docs/comms.md "Messages to devices"): the channel messages to devices travel
    /// through; nullptr = no comms (every message arrives when sent, as before).
    const CommsContext* comms = nullptr;

    /// |V| at a node, 1.0 for none (-1).
    double node_vm(int node) const { return node >= 0 ? std::abs((*V)[std::size_t(node)]) : 1.0; }
    /// Issue 16: EV charging at this node is shed this step.
    bool ev_shed(int node) const { return node_ev_shed && node >= 0 && (*node_ev_shed)[std::size_t(node)] != 0; }
    /// Issue 16: customer (index) cu is shed this step (-1: none).
    bool customer_is_shed(int cu) const { return customer_shed && cu >= 0 && (*customer_shed)[std::size_t(cu)] != 0; }
};

/// Per-node injections of a step, generator convention, p.u. on base_mva: S(|V|) = s_p + s_i|V| + s_z|V|^2.
struct Injections {
    std::vector<std::complex<double>>* s_p = nullptr;
    double base_mva = 1.0;
    /// The sweep solver re-evaluates voltage-dependent groups inside its iterations (solver_hook_node).
    bool solver_hook = false;
    /// Adds p_kw (+ j q_kvar) at a node, in the one way every group does: cplx(p, q) / 1000 / base.
    void add(int node, double p_kw, double q_kvar = 0.0) const {
        (*s_p)[std::size_t(node)] += std::complex<double>(p_kw, q_kvar) / 1000.0 / base_mva;
    }
};

/// The energy categories of a step, MW (generator convention where it says so). Groups add to them
/// in group order; the engine adds loads first and closes the balance with the sources.
struct StepTotals {
    double elements_mw = 0.0;      ///< every element's p (generator convention), for the energy balance
    double load_mw = 0.0;          ///< consumption (loads, buildings, homes' houses), > 0
    double pv_mw = 0.0;            ///< PV generation (also canopies and rooftops of sites and homes)
    double pv_available_mw = 0.0;
    double pv_curtailed_mw = 0.0;
    double ev_mw = 0.0;            ///< EV charging, generator convention (< 0 when charging)
    // the city balance by class (docs/kpis.md)
    double building_mw = 0.0;      ///< BEMS buildings' consumption, > 0
    double home_mw = 0.0;          ///< HEMS homes' house consumption (no EV, PV, battery), > 0
    double battery_mw = 0.0;       ///< every battery (devices, sites', homes'), generator convention (+ discharging)
};

/// A group's recorded series: declared once (the recorder may be absent: rows are still filled).
class SeriesDeclarer {
public:
    SeriesDeclarer(Recorder* r, const std::string& group) : r_(r), group_(group) {}
    Recorder* recorder() const { return r_; }
    const std::string& group() const { return group_; }
    /// `<group>/id`, `<group>/bus`, `<group>/customer` (customers only when given).
    void ids(const std::vector<std::int64_t>& ids, const std::vector<std::int64_t>& bus, const std::vector<std::int64_t>* customer = nullptr);
    void vector(const std::string& name, const std::vector<double>& v, const std::string& unit);
    /// A float series `<group>/<name>` appended from `row` every step (row.size() columns).
    void series(const std::string& name, const std::string& unit, const std::vector<double>& row);
    /// An int64 series appended from `row` every step.
    void int_series(const std::string& name, const std::string& unit, const std::vector<std::int64_t>& row);

    struct Declared {
        int handle;
        const std::vector<double>* row;
        const std::vector<std::int64_t>* int_row;
    };
    std::vector<Declared> declared;

private:
    Recorder* r_;
    std::string group_;
};

/// What a group records and meters after the step's power flow.
struct RecordContext {
    const std::vector<std::complex<double>>* V = nullptr;
    const SimulationOptions* opt = nullptr;
    LocalTime t = 0;
    double dt_h = 0.0;
    bool converged = false;
    StepTotals* totals = nullptr;
};

/// The customers' meters of a step, kW: net import, behind-the-meter PV, device consumption
/// (buildings, homes: what counts as the customer's load besides the load profile).
struct CustomerFlows {
    std::vector<double>* net_kw = nullptr;
    std::vector<double>* pv_kw = nullptr;
    std::vector<double>* extra_load_kw = nullptr;
};

/// Tables written under /summary at the end (rows may come from several groups, in group order).
class SummaryTables {
public:
    struct Column {
        std::string name, unit;
        bool integer = false;
        std::vector<std::int64_t> ints;
        std::vector<double> reals;
    };
    struct Table {
        std::string path;  ///< e.g. "summary/ev_sessions"
        std::vector<Column> columns;
    };
    /// The table at `path`, made with these columns (name, unit, integer) on first use.
    Table& table(const std::string& path, const std::vector<Column>& columns);
    const std::vector<Table>& tables() const { return tables_; }

private:
    std::vector<Table> tables_;
};

class DeviceGroup {
public:
    virtual ~DeviceGroup() = default;
    /// The kind, also the results group (`/pv`) and the name timed events use ("pv").
    virtual std::string kind() const = 0;
    virtual std::size_t size() const = 0;
    virtual Id id(std::size_t k) const = 0;

    // ---- before the run ----
    virtual void validate(const NetworkIndex& ix, const SimulationOptions& opt) const = 0;
    /// Timed events may switch this kind's devices in and out of service.
    virtual bool accepts_events() const { return false; }
    virtual void set_in_service(std::size_t /*k*/, bool /*on*/) {}
    /// Issue 19: a set point from the application between steps (Simulation::set_battery_power,
    /// set_pv_limit): the group's meaning of `value` (battery: AC power, kW; PV: output cap, kW);
    /// false when the group takes none. Held until changed; NaN (battery) / inf (PV) clears it.
    virtual bool set_point(std::size_t /*k*/, double /*value*/) { return false; }
    virtual void prepare(const RunSetup& setup) = 0;
    /// After each (re)build of the math model.
    virtual void bind(const NetworkIndex& ix) = 0;

    // ---- each step ----
    virtual void step(const StepContext& ctx) = 0;
    /// Late groups inject after all others (the sweep's hook rebuilds their nodes' injections).
    virtual bool inject_late() const { return false; }
    virtual void add_injections(const Injections& inj) = 0;
    /// Set points depend on the voltage (control rounds re-evaluate them).
    virtual bool voltage_dependent() const { return false; }
    /// Largest |V| change at the group's devices since their set points were evaluated.
    virtual double voltage_change(const std::vector<std::complex<double>>& /*V*/) const { return 0.0; }
    /// New set points from the present voltages (between control rounds).
    virtual void reevaluate(const StepContext& /*ctx*/) {}
    /// Inside the sweep (solvers.hpp SweepNodeHook): appends the nodes solver_hook_node may rewrite.
    virtual void solver_hook_nodes(std::vector<int>& /*nodes*/) const {}
    /// Inside the sweep, at one of those nodes, concurrently for distinct nodes: when |V| there
    /// (vm, p.u.) moved more than tol from where its devices were evaluated, re-evaluates them and
    /// rewrites the node's s_p (from what it was before the group injected); false = no change.
    virtual bool solver_hook_node(int /*node*/, double /*vm*/, const Injections& /*inj*/, const StepContext& /*ctx*/, double /*tol*/) {
        return false;
    }

    // ---- results ----
    /// Columns appended per step at most (the recorder's memory plan).
    virtual std::size_t planned_columns() const = 0;
    /// Declares the group's static vectors and series (with a recorder), and sizes its rows.
    virtual void declare(SeriesDeclarer& d, const SimulationOptions& opt) = 0;
    /// Fills the rows declared, adds to the step's totals.
    virtual void record(const RecordContext& ctx) = 0;
    /// Adds the devices behind customers' meters to the meters (after record).
    virtual void meter(const CustomerFlows& /*flows*/) const {}
    /// End of the run: KPIs into the summary.
    virtual void finish(SimulationSummary& /*sum*/) const {}
    /// End of the run: tables under /summary.
    virtual void summary_tables(SummaryTables& /*tables*/) const {}

    // ---- checkpoints ----
    virtual void save_state(detail::StateOut& out) = 0;
    virtual void restore_state(detail::StateIn& in) = 0;
};

/// Makes the group of one kind from a run's devices (it may move them out of `devices`); nullptr
/// when the run has none of that kind.
using DeviceGroupFactory = std::function<std::unique_ptr<DeviceGroup>(DeviceSet& devices)>;

/// Adds a device kind to the registry (after the built-in ones, in the order of registration) or
/// replaces the factory of a kind registered before. Thread-safe.
void register_device_kind(const std::string& kind, DeviceGroupFactory factory);
/// The kinds registered, in order: pv, battery, ev, ev_site, building, home, then added ones.
std::vector<std::string> device_kinds();
/// One group per registered kind that has devices in `devices`, in registry order.
std::vector<std::unique_ptr<DeviceGroup>> make_device_groups(DeviceSet& devices);

}  // namespace libgrid
