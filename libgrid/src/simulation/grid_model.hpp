// libgrid internal: the time-series engine's grid seam (docs/architecture.md "The per-step data flow").
//
// Simulation::Impl (engine.cpp) steps time, the load profiles, the device groups, the customers'
// meters and bills, the recorder and the checkpoints; a GridModel owns everything that depends on
// what the grid is: the power-flow model and solver, where loads and devices inject, the solve with
// the control rounds, the grid's per-step rows (buses, branches, loads, sources) and its summary
// KPIs. BalancedGrid (grid_balanced.cpp) is the positive-sequence network (Network, MathModel, NR /
// sweep); UnbalancedGrid (grid_unbalanced.cpp) the three-phase one (UNetwork, UTimeStepper).
#pragma once

#include <libgrid/model/unetwork.hpp>
#include <libgrid/results/recorder.hpp>
#include <libgrid/simulation/device_group.hpp>
#include <libgrid/simulation/engine.hpp>
#include <libgrid/solvers/solvers.hpp>
#include <libgrid/simulation/state_archive.hpp>

#include <complex>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace libgrid {
class ThreadPool;
}

namespace libgrid::detail {

/// What the engine shares with its grid (Simulation::Impl derives from it).
struct EngineState {
    /// The balanced network; on an unbalanced grid, the customers' table (buses and loads only,
    /// made from the UNetwork: ids, names, nominal powers) that meters, bills and events use.
    Network net;
    DeviceSet dev;
    SimulationOptions opt;
    std::vector<std::unique_ptr<DeviceGroup>> groups;  ///< registry order
    std::vector<DeviceGroup*> inject_order;           ///< early groups, then late ones
    std::vector<DeviceGroup*> vdep;                   ///< voltage-dependent groups
    std::unordered_map<Id, std::size_t> bus_at, load_at;
    std::vector<Id> load_bus;  ///< load index -> its bus id (NetworkIndex::check_customer)
    NetworkIndex ix;
    std::vector<double> load_p_kw, load_q_kvar;  ///< per customer, this step, nominal (at 1 p.u.)
    StepContext ctx;                              ///< this step's context for the device groups
    Recorder* w = nullptr;                        ///< where results go, or none
    /// Every per-step series with the row it is appended from (rows are sized before the recorder opens).
    std::vector<SeriesDeclarer::Declared> recorded;
    StepTotals totals;
    std::unique_ptr<ThreadPool> pool;
    SimulationSummary sum;
    /// Issue 16: the grid-forming devices (registered at prepare), the customers' priorities.
    FormingLink forming;
    std::vector<signed char> cust_priority;  ///< per customer: LoadPriority
    /// Issue 16: droop islands that collapsed: when, the island's first bus, why.
    struct Collapse {
        LocalTime t = 0;
        Id bus = 0;
        std::string cause;
    };
    std::vector<Collapse> collapses;

    void note_violation(LocalTime t, const char* kind, Id element, double value, const char* phase = "") {
        if (sum.first_violation.found) return;
        sum.first_violation = Violation{true, t, kind, element, value, phase};
    }
    int record_series(const std::string& group, const std::string& name, const std::string& unit, const std::vector<double>& row) {
        const int h = w->add_series(SeriesSpec{group, name, unit, row.size(), 1, false});
        recorded.push_back({h, &row, nullptr});
        return h;
    }
    template <class Table>
    std::size_t group_ids(const char* g, const Table& table) {
        std::vector<std::int64_t> v;
        for (const auto& x : table) v.push_back(x.id);
        w->write_ids(g, v);
        return v.size();
    }
};

/// The grid side of a step's results (MW, generator convention for the sources).
struct GridStep {
    double losses_mw = 0.0;         ///< branches (lines, transformers, MATPOWER branches)
    double source_losses_mw = 0.0;  ///< in the sources' impedances (not in losses_mw)
    double ext_p_mw = 0.0;          ///< the sources' total power into the network
    double gen_mw = 0.0;            ///< generators (PV buses)
    double network_gen_mw = 0.0;    ///< the network's own sgens and shunts (not device groups)
};

class GridModel {
public:
    virtual ~GridModel() = default;
    /// Before anything: the network's own checks.
    virtual void validate() const = 0;
    virtual bool is_unbalanced() const { return false; }
    /// Builds the model and solver (start of a run, after a checkpoint resume), binds the groups.
    virtual void rebuild() = 0;
    /// After events switched network elements: rebuild keeping the voltages where nodes survive.
    virtual void topology_changed() = 0;
    /// Re-derives the model from the network keeping the voltages (checkpoint boundaries).
    virtual void resync() = 0;
    /// The voltages device groups see (ctx.V, RecordContext::V), indexed by what bind gave them.
    virtual const std::vector<std::complex<double>>& voltages() const = 0;
    /// Fills a load's nominal powers for `len` steps from `t0` when the grid has its own rule for
    /// loads without a LoadProfileSpec (OpenDSS load shapes); false = the engine's constant rule.
    virtual bool shape_block(std::size_t /*load*/, LocalTime /*t0*/, std::size_t /*len*/, double* /*p_kw*/, double* /*q_kvar*/,
                             std::size_t /*stride*/) const {
        return false;
    }
    /// The step's power flow with the devices' voltage controls and the grid's discrete controls.
    virtual SolveStatus solve_with_controls(int& iters, bool& settled) = 0;

    // ---- results ----
    virtual void size_rows() = 0;
    virtual std::size_t planned_columns() const = 0;
    /// Rows and KPIs of buses and branches; losses into g.
    virtual void record_network(LocalTime t, double dt_h, bool converged, GridStep& g) = 0;
    /// Loads (customers) at the solved voltages, into the totals (first in the balance).
    virtual void record_loads() = 0;
    /// After the device groups: the network's own elements and the sources.
    virtual void record_sources(GridStep& g) = 0;
    /// Per customer: the load's power this step, MW, generator convention (< 0 consuming).
    virtual const std::vector<double>& load_p_mw() const = 0;
    /// Root attributes and series before the device groups' (buses, branches, loads).
    virtual void declare_series() = 0;
    /// Series after the device groups' (sources, network elements).
    virtual void declare_elements() = 0;
    /// Appends what is not a plain row (taps, per-conductor balance) after the rows.
    virtual void write_step() = 0;
    /// At the end: /summary tables of the grid.
    virtual void write_summary() = 0;
    /// At the end (with or without a recorder): KPIs known only then.
    virtual void finish() {}

    /// Added (issue 15b, H2): events on network elements the customers' table does not hold (an
    /// unbalanced grid's "line", "switch", "trafo"): the element's index by its id (false: no such
    /// id; ValidationError for a kind the grid has not), and switching it in or out of service (the
    /// engine then calls topology_changed).
    virtual bool find_element(const std::string& /*kind*/, Id /*id*/, std::size_t& /*index*/) const { return false; }
    virtual void set_element(const std::string& /*kind*/, std::size_t /*index*/, bool /*on*/) {}

    /// Added (issue 16, H2): whether customer (load) l's bus is energised in the present topology
    /// (an island with a source); the resilience KPIs count the customers that are not.
    virtual bool load_energised(std::size_t /*l*/) const { return true; }
    /// Added (issue 16, H2): 0 when the grid can run a step with every source out of service (every
    /// island dead); else its number of sources: the unbalanced stepper cannot yet run without one,
    /// so the engine refuses the event that would take the last one out.
    virtual std::size_t sources_needed() const { return 0; }
    /// Added (issue 16, H2): some energised island holds no ext grid in the present topology (a
    /// generator, or a grid-forming source once the islanded power flow lands, keeps it alive).
    virtual bool islanded() const { return false; }

    // ---- issue 16: droop islands in time (docs/microgrid.md "Time series") ----
    /// Some energised island is held by grid-forming sources in the present model.
    virtual bool droop_islands() const { return false; }
    /// Start of a step with droop islands (restore: the last step's shed customers given back as
    /// far as the forming sources' headroom carries them; else as shed_or_collapse left them): the
    /// shedding into StepContext (node_ev_shed, customer_shed; nullptr without droop islands).
    virtual void begin_island_step(bool /*restore*/, StepContext& c) {
        c.node_ev_shed = nullptr;
        c.customer_shed = nullptr;
    }
    /// After a solve that did not converge: an island that could not be held sheds more (EV
    /// charging, then customers by priority as its deficit needs), or (nothing left to shed, or a
    /// surplus) is de-energised with its cause (s.collapses; the model is rebuilt). True = the step
    /// is to be run again; false = nothing to do.
    /// `attempt` counts the step's retries: from kMaxShedRounds on, a failing island collapses (an
    /// island that whole customers cannot balance would shed and give back for ever).
    virtual bool shed_or_collapse(LocalTime /*t*/, int /*attempt*/) { return false; }
    static constexpr int kMaxShedRounds = 24;
    /// Customer l's load was shed this step (energised, in a droop island at its level).
    virtual bool load_shed(std::size_t /*l*/) const { return false; }
    /// Customer l is in a droop island this step.
    virtual bool load_islanded(std::size_t /*l*/) const { return false; }
    /// This step's droop islands: lowest and highest frequency (NaN without any), highest level.
    virtual void island_stats(double& fmin_hz, double& fmax_hz, int& level) const {
        fmin_hz = fmax_hz = std::numeric_limits<double>::quiet_NaN();
        level = 0;
    }
    /// The grid has grid-forming sources (its own or devices'): /island is recorded.
    virtual bool has_forming() const { return false; }

    // ---- checkpoints ----
    virtual void save_state(StateOut& out) = 0;
    virtual void restore_state(StateIn& in) = 0;
};

std::unique_ptr<GridModel> make_balanced_grid(EngineState& s);
/// The engine's customers' table (EngineState::net) of an unbalanced network.
Network customers_of(const UNetwork& net);
std::unique_ptr<GridModel> make_unbalanced_grid(EngineState& s, UNetwork net);

}  // namespace libgrid::detail
