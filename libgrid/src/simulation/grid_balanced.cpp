// libgrid layer 7: the balanced grid of the time-series engine (grid_model.hpp): the positive-sequence
// network (Network -> MathModel), solved by Newton-Raphson or the sweep, with its per-step rows.
#include "grid_model.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/core/thread_pool.hpp>
#include <libgrid/math/math_model.hpp>
#include <libgrid/math/output.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/topology/topology.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numbers>
#include <optional>

namespace libgrid::detail {
namespace {

constexpr double kRad2Deg = 180.0 / std::numbers::pi;


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
    for (ExtGrid& x : net.ext_grids) state_bool(ar, "ext_grid.in_service", x.in_service);  // issue 16: supply outages
}

struct BalancedGrid final : GridModel {
    explicit BalancedGrid(EngineState& st) : s(st) {}

    EngineState& s;
    Network& net = s.net;
    const SimulationOptions& opt = s.opt;
    SimulationSummary& sum = s.sum;
    NetworkIndex& ix = s.ix;
    StepContext& ctx = s.ctx;
    StepTotals& totals = s.totals;
    std::vector<std::unique_ptr<DeviceGroup>>& groups = s.groups;
    std::vector<DeviceGroup*>& inject_order = s.inject_order;
    std::vector<DeviceGroup*>& vdep = s.vdep;
    const std::vector<double>& load_p_kw = s.load_p_kw;
    const std::vector<double>& load_q_kvar = s.load_q_kvar;
    std::unordered_map<Id, std::size_t>& bus_at = s.bus_at;
    std::unique_ptr<ThreadPool>& pool = s.pool;
    Recorder*& w = s.w;

    // ---- model and solver (rebuilt on events) ----
    MathModel m;
    Method method = Method::NewtonRaphson;
    std::optional<NewtonRaphsonSolver> nr;
    std::optional<SweepSolver> sweep;
    std::vector<cplx> V;
    std::vector<cplx> static_p, static_i, static_z;  // injections of gens, sgens, storage, shunts
    bool has_discrete_controls = false;
    std::vector<int> load_node;

    // ---- rows ----
    int h_tap = -1;
    std::vector<double> row_bus, row_va, row_br_loading, row_br_loss, row_br_p, row_load_p, row_load_q;
    std::vector<double> row_ext_p, row_ext_q, row_sgen_p, row_sto_p, row_gen_p, row_shunt_p, row_shunt_q;
    std::vector<std::int64_t> row_tap;
    std::vector<double> row_trafo_noload;  // /trafo/p_loss_noload_mw
    bool record_va = false;
    double step_network_gen_mw = 0.0;  // sgens and shunts of this step (gens: record_sources)

    // ---- losses by voltage level (summary/losses_by_level): the element's nominal level ----
    std::vector<double> level_kv;                     // descending
    std::vector<std::size_t> level_of_branch, level_of_line, level_of_trafo;
    std::vector<double> level_line_mwh, level_trafo_load_mwh, level_trafo_noload_mwh, level_branch_mwh;

    // scratch for the source computation
    std::vector<cplx> node_flow;

    void note_violation(LocalTime t, const char* kind, Id element, double value) { s.note_violation(t, kind, element, value); }
    int record_series(const std::string& group, const std::string& name, const std::string& unit, const std::vector<double>& row) {
        return s.record_series(group, name, unit, row);
    }
    template <class Table>
    std::size_t group_ids(const char* g, const Table& table) {
        return s.group_ids(g, table);
    }

    // ---- the seam ----
    void validate() const override { net.validate(); }
    const std::vector<cplx>& voltages() const override { return V; }
    bool load_energised(std::size_t l) const override { return l < load_node.size() && load_node[l] >= 0; }
    bool islanded() const override { return islanded_now; }
    bool droop_islands() const override { return droop_any; }
    bool has_forming() const override { return !own_forming.empty() || !s.forming.sources.empty(); }
    bool load_shed(std::size_t l) const override { return droop_any && l < cust_shed.size() && cust_shed[l]; }
    bool load_islanded(std::size_t l) const override {
        if (!droop_any || l >= load_node.size()) return false;
        const int i = load_node[l];
        return i >= 0 && m.island_droop[std::size_t(m.node_island[std::size_t(i)])];
    }
    void island_stats(double& fmin_hz, double& fmax_hz, int& level) const override {
        fmin_hz = fmax_hz = kNaN;
        level = 0;
        if (!droop_any || !nr) return;
        const std::vector<double>& df = nr->island_df_hz();
        for (int is = 0; is < m.n_islands; ++is) {
            if (!m.island_droop[std::size_t(is)]) continue;
            const double f = net.f_hz + df[std::size_t(is)];
            fmin_hz = std::isnan(fmin_hz) ? f : std::min(fmin_hz, f);
            fmax_hz = std::isnan(fmax_hz) ? f : std::max(fmax_hz, f);
            if (island_ev[std::size_t(is)]) level = std::max(level, 1);
        }
        // 1: EV charging or deferrable customers shed; 2: essential customers too
        for (std::size_t l = 0; l < cust_shed.size(); ++l)
            if (cust_shed[l]) level = std::max(level, s.cust_priority[l] == static_cast<signed char>(LoadPriority::Deferrable) ? 1 : 2);
    }

    // Shedding (docs/microgrid.md "Time series"): per island, EV charging first (one flag), then
    // customers one by one in shed_order (deferrable, then essential; by index), as many as the
    // island's deficit needs; critical customers never. A step starts from the last step's set and
    // gives back what the forming sources' headroom of the last step carries (restoration).
    std::vector<char> cust_shed;             ///< per customer: shed now
    std::vector<cplx> V_start;               ///< the voltages an islanded step started from (retries)
    std::vector<double> island_v_set;        ///< per device source: its voltage reference in an island
    // device PV's frequency-watt in droop islands (m.sgen_fw entries from pv_fw_first on, per node)
    std::size_t pv_fw_first = 0;
    std::vector<int> pv_fw_of;               ///< per PV unit of the link: its entry, -1 none
    std::vector<double> pv_fw_rated_kw;      ///< per entry: the rating of its units, kW
    std::vector<double> pv_fw_avail_kw;      ///< per entry, this round: what its units inject, kW
    std::vector<int> pv_fw_scratch;
    static constexpr double kFwDeadbandHz = 0.036, kFwDroop = 0.05;  ///< IEEE 1547-2018 defaults
    std::vector<double> df_start;
    std::vector<char> island_ev;             ///< per island: EV charging shed
    std::vector<signed char> node_ev;        ///< per node: its island's EV flag (StepContext::node_ev_shed)
    std::vector<std::size_t> shed_order;     ///< non-critical customers, deferrable first, then essential

    /// A customer's load now at 1 p.u., kW: its profile, else (a building or home) its node's demand.
    double customer_demand_kw(std::size_t l) const {
        if (load_p_kw[l] > 0) return load_p_kw[l];
        const int i = load_node[l];
        return i >= 0 ? std::max(-(m.s_p[std::size_t(i)] + m.s_i[std::size_t(i)] + m.s_z[std::size_t(i)]).real() * net.sn_mva * 1000.0, 0.0) : 0.0;
    }
    bool in_island(std::size_t l, int is) const {
        const int i = load_node[l];
        return i >= 0 && m.node_island[std::size_t(i)] == is;
    }
    void fill_node_ev() {
        for (int i = 0; i < m.n; ++i) node_ev[std::size_t(i)] = island_ev[std::size_t(m.node_island[std::size_t(i)])];
    }
    void begin_island_step(bool restore, StepContext& c) override {
        c.node_ev_shed = nullptr;
        c.customer_shed = nullptr;
        if (!droop_any) return;
        // a retry starts from the voltages and frequencies the step started from, not from a
        // solve that failed (no allocation: same sizes after the first islanded step)
        if (restore) {
            V_start = V;
            df_start = nr->island_df_hz();
        } else if (V_start.size() == V.size() && df_start.size() == nr->island_df_hz().size()) {
            V = V_start;
            nr->set_island_df_hz(df_start);
            nr->reset_forming_limits();
        }
        if (restore) give_back();
        fill_node_ev();
        c.node_ev_shed = &node_ev;
        c.customer_shed = &cust_shed;
    }
    /// Restoration: per droop island, the last step's headroom of its forming sources (p_max - p)
    /// gives back shed customers (the last shed first) whose load now fits in 80 % of it; EV
    /// charging once no customer is shed and half the sources' power is free.
    void give_back() {
        for (int is = 0; is < m.n_islands; ++is) {
            if (!m.island_droop[std::size_t(is)]) continue;
            double head = 0.0, pmax = 0.0;
            for (std::size_t k = 0; k < m.forming_node.size(); ++k) {
                const int i = m.forming_node[k];
                if (i < 0 || m.node_island[std::size_t(i)] != is) continue;
                head += (m.forming_pu[k].p_max - forming_p_pu(k)) * net.sn_mva * 1000.0;
                pmax += m.forming_pu[k].p_max * net.sn_mva * 1000.0;
            }
            double room = 0.8 * head;
            bool any_left = false;
            for (std::size_t r = shed_order.size(); r-- > 0;) {
                const std::size_t l = shed_order[r];
                if (!cust_shed[l] || !in_island(l, is)) continue;
                const double d = customer_demand_kw(l);
                if (d <= room) {
                    cust_shed[l] = 0;
                    room -= d;
                } else {
                    any_left = true;
                }
            }
            if (!any_left && island_ev[std::size_t(is)] && room > 0.5 * pmax) island_ev[std::size_t(is)] = 0;
        }
    }
    bool shed_or_collapse(LocalTime t, int attempt) override {
        const bool may_shed = attempt < kMaxShedRounds;
        if (!droop_any || !nr) return false;
        const std::vector<char>& col = nr->island_collapsed();
        const std::vector<signed char>& plim = nr->forming_p_limit();
        const std::vector<signed char>& qlim = nr->forming_q_limit();
        bool again = false, rebuild_needed = false;
        const std::size_t nown = own_forming.size();
        // Which islands failed: those the solver found at their P limits; else (no solution at all)
        // those whose sources are all at a Q limit (their voltage is held by nothing), else every
        // droop island (the solver cannot say which).
        std::vector<char>& failed = island_failed;
        std::vector<char>& q_held = island_q_held;
        failed.assign(std::size_t(m.n_islands), 0);
        q_held.assign(std::size_t(m.n_islands), 1);
        bool any_p = false, any_q = false;
        for (int is = 0; is < m.n_islands; ++is) any_p = any_p || col[std::size_t(is)];
        for (std::size_t k = 0; k < m.forming_node.size(); ++k)
            if (m.forming_node[k] >= 0 && qlim[k] == 0) q_held[std::size_t(m.node_island[std::size_t(m.forming_node[k])])] = 0;
        for (int is = 0; is < m.n_islands; ++is) any_q = any_q || (m.island_droop[std::size_t(is)] && q_held[std::size_t(is)]);
        for (int is = 0; is < m.n_islands; ++is)
            failed[std::size_t(is)] = m.island_droop[std::size_t(is)] &&
                                      (any_p ? col[std::size_t(is)] != 0 : any_q ? q_held[std::size_t(is)] != 0 : true);
        for (int is = 0; is < m.n_islands; ++is) {
            if (!failed[std::size_t(is)]) continue;
            // a deficit (sources at p_max) or no solution sheds load; a surplus (at p_min) has nothing to shed
            bool deficit = !any_p, surplus = false;
            double limit_mw = 0.0;
            for (std::size_t k = 0; k < m.forming_node.size(); ++k) {
                const int i = m.forming_node[k];
                if (i < 0 || m.node_island[std::size_t(i)] != is) continue;
                deficit = deficit || plim[k] > 0;
                surplus = surplus || plim[k] < 0;
                limit_mw += (plim[k] < 0 ? m.forming_pu[k].p_min : m.forming_pu[k].p_max) * net.sn_mva;
            }
            deficit = deficit && !(any_p && surplus);
            if (may_shed && deficit && shed_more(is)) {
                again = true;
                continue;
            }
            if (may_shed && !deficit && any_p && give_back_for_surplus(is)) {  // shed too much: take load back
                again = true;
                continue;
            }
            // collapse: the island's sources leave until the topology changes again (no black start)
            Id first_bus = 0;
            for (std::size_t b = 0; b < net.buses.size(); ++b)
                if (m.bus_node[b] >= 0 && m.node_island[std::size_t(m.bus_node[b])] == is) {
                    first_bus = net.buses[b].id;
                    break;
                }
            for (std::size_t k = nown; k < m.forming_node.size(); ++k) {
                const int i = m.forming_node[k];
                if (i >= 0 && m.node_island[std::size_t(i)] == is) forming_off[k - nown] = 1;
            }
            for (std::size_t k = 0; k < nown; ++k) {
                const int i = m.forming_node[k];
                if (i >= 0 && m.node_island[std::size_t(i)] == is) own_off[k] = 1;
            }
            char cause[200];
            double pmax_mw = 0.0;
            for (std::size_t k = 0; k < m.forming_node.size(); ++k)
                if (m.forming_node[k] >= 0 && m.node_island[std::size_t(m.forming_node[k])] == is) pmax_mw += m.forming_pu[k].p_max * net.sn_mva;
            if (!may_shed)
                std::snprintf(cause, sizeof cause, "not balanced after %d rounds of shedding (whole customers cannot balance it)", attempt);
            else if (deficit && pmax_mw <= 1e-9)
                std::snprintf(cause, sizeof cause, "its grid-forming sources have no energy left (state of charge at soc_min)");
            else if (!any_p)
                std::snprintf(cause, sizeof cause, "no power-flow solution with every deferrable and essential load shed (%s)",
                              any_q ? "its grid-forming sources at their reactive-power limits" : "the solver did not converge");
            else if (deficit)
                std::snprintf(cause, sizeof cause, "load exceeds the %.6g MW of its grid-forming sources with every deferrable and essential load shed", limit_mw);
            else
                std::snprintf(cause, sizeof cause, "generation exceeds the %.6g MW its grid-forming sources can absorb", -limit_mw);
            s.collapses.push_back({t, first_bus, cause});
            sum.island_collapses++;
            rebuild_needed = again = true;
        }
        if (rebuild_needed) rebuild_keeping_voltages();
        else if (again) fill_node_ev();
        return again;
    }
    /// A surplus in island `is` (every source at its charging limit) with customers shed: gives
    /// back (the last shed first) what the surplus needs, its generation at 1 p.u. beyond what the
    /// sources absorb (with 3 %). False = no customer is shed there (nothing to give back).
    bool give_back_for_surplus(int is) {
        double demand = 0.0, absorb = 0.0;
        for (int i = 0; i < m.n; ++i)
            if (m.node_island[std::size_t(i)] == is) demand -= (m.s_p[std::size_t(i)] + m.s_i[std::size_t(i)] + m.s_z[std::size_t(i)]).real();
        for (std::size_t k = 0; k < m.forming_node.size(); ++k) {
            const int i = m.forming_node[k];
            if (i >= 0 && m.node_island[std::size_t(i)] == is) absorb -= m.forming_pu[k].p_min;
        }
        const double excess = (-demand - absorb) * net.sn_mva * 1000.0;
        const double need = excess + 0.03 * std::abs(excess) + 1e-3;
        double got = 0.0;
        bool any = false;
        for (std::size_t r = shed_order.size(); r-- > 0;) {
            const std::size_t l = shed_order[r];
            if (!cust_shed[l] || !in_island(l, is)) continue;
            cust_shed[l] = 0;
            any = true;
            got += customer_demand_kw(l);
            if (got >= need) break;
        }
        return any;
    }

    /// One more round of shedding in island `is`: EV charging first; then customers in shed_order
    /// until what they drew covers the island's deficit (its demand at 1 p.u. less its sources'
    /// p_max, with 3 % for the losses). False = nothing left to shed.
    bool shed_more(int is) {
        if (!island_ev[std::size_t(is)]) {
            island_ev[std::size_t(is)] = 1;
            return true;
        }
        // the island's demand at 1 p.u. (P, Q) and its sources' limits, kW / kvar
        double demand = 0.0, supply = 0.0, qdemand = 0.0, qsupply = 0.0;
        for (int i = 0; i < m.n; ++i)
            if (m.node_island[std::size_t(i)] == is) {
                const cplx d = -(m.s_p[std::size_t(i)] + m.s_i[std::size_t(i)] + m.s_z[std::size_t(i)]);
                demand += d.real();
                qdemand += d.imag();
            }
        for (std::size_t k = 0; k < m.forming_node.size(); ++k) {
            const int i = m.forming_node[k];
            if (i >= 0 && m.node_island[std::size_t(i)] == is) {
                supply += m.forming_pu[k].p_max;
                qsupply += m.forming_pu[k].q_max;
            }
        }
        const double kw = net.sn_mva * 1000.0;
        // 3 % of the demand for the losses (and at least one customer more each round)
        const double need = (demand - supply + 0.03 * std::abs(demand)) * kw + 1e-3;
        const double need_q = (qdemand - qsupply + 0.03 * std::abs(qdemand)) * kw;
        double got = 0.0, got_q = 0.0;
        bool any = false;
        for (std::size_t l : shed_order) {
            if (cust_shed[l] || !in_island(l, is)) continue;
            cust_shed[l] = 1;
            any = true;
            got += customer_demand_kw(l);
            got_q += load_q_kvar[l];
            if (got >= need && got_q >= need_q) break;
        }
        return any;
    }
    bool islanded_now = false;  ///< issue 16: an energised island without an ext grid (rebuild)
    // ---- issue 16: droop islands in time ----
    bool droop_any = false;                  ///< some island is a droop island (rebuild)
    bool own_saved = false;
    std::vector<FormingSource> own_forming;  ///< the network's own forming sources (before the devices')
    std::vector<char> own_off, forming_off;  ///< per source: collapsed, out until the topology changes
    std::vector<char> island_failed, island_q_held;  ///< shed_or_collapse's scratch (per island)
    void topology_changed() override {
        // a topology change (an outage ending, a switch) lets collapsed islands' sources try again
        std::fill(own_off.begin(), own_off.end(), 0);
        std::fill(forming_off.begin(), forming_off.end(), 0);
        rebuild_keeping_voltages();
    }
    void rebuild_keeping_voltages() {
        prev_bus_v.assign(net.buses.size(), cplx(kNaN, kNaN));
        for (std::size_t b = 0; b < net.buses.size(); ++b)
            if (m.bus_node[b] >= 0) prev_bus_v[b] = V[m.bus_node[b]];
        // issue 16: a forming device's voltage reference is its bus's voltage when its island forms
        // (where the grid held it, after a solve), so that the island starts without a jump in
        // reactive power; kept until the topology changes again (a checkpoint keeps it)
        island_v_set.assign(s.forming.sources.size(), 1.0);
        secondary_p0_kw.assign(s.forming.sources.size(), 0.0);  // a new island: its controller starts from 0
        for (std::size_t k = 0; k < s.forming.sources.size() && solved_once; ++k) {
            const auto it = bus_at.find(s.forming.sources[k].bus);
            if (it == bus_at.end()) continue;
            const double vm = std::abs(prev_bus_v[it->second]);
            if (std::isfinite(vm) && vm > 0.8 && vm < 1.2) island_v_set[k] = vm;
        }
        rebuild();
    }
    void resync() override {
        std::vector<cplx> keep = V;
        rebuild();
        if (keep.size() == V.size()) V = std::move(keep);
    }
    std::size_t planned_columns() const override {
        const std::size_t nbr = net.branches.size() + net.lines.size() + net.transformers.size();
        return 2 * net.buses.size() + 3 * nbr + 4 * net.loads.size() + 2 * net.ext_grids.size() + net.sgens.size() + net.storage.size() +
               net.gens.size() + 2 * net.shunts.size() + 2 * net.transformers.size() + 8;
    }
    void record_network(LocalTime t, double dt_h, bool converged, GridStep& g) override {
        record_buses(t, dt_h, converged);
        g.losses_mw = record_branches(t, dt_h, converged);
        g.source_losses_mw = source_losses_mw;
    }
    void record_sources(GridStep& g) override {
        record_network_elements();
        double ext_p_sum = 0.0, gen_total = 0.0;
        sources_into(ext_p_sum, gen_total);
        g.ext_p_mw = ext_p_sum;
        g.gen_mw = gen_total;
        g.network_gen_mw = step_network_gen_mw;
    }
    const std::vector<double>& load_p_mw() const override { return row_load_p; }
    void write_step() override {
        if (h_tap >= 0) {
            for (std::size_t i = 0; i < net.transformers.size(); ++i) row_tap[i] = net.transformers[i].tap_pos;
            w->append(h_tap, row_tap.data());
        }
    }
    void write_summary() override { write_losses_by_level(); }
    void save_state(StateOut& out) override { archive(out); }
    void restore_state(StateIn& in) override { archive(in); }
    template <class Ar>
    void archive(Ar& ar) {
        state(ar, net);
        // issue 16: as many values as the model at the checkpoint has nodes (events change the count:
        // an open bus-bus switch splits a node, a dead island has none); resync keeps them
        ar.vec("V", V);
        ar.vec("forming_off", forming_off);  // issue 16: collapsed islands' sources
        ar.vec("own_forming_off", own_off);
        ar.vec("cust_shed", cust_shed);
        ar.vec("island_v_set", island_v_set);
        ar.vec("secondary_p0_kw", secondary_p0_kw);
        ar.pod("solved_once", solved_once);
        ar.fixed("losses.level_line", level_line_mwh);
        ar.fixed("losses.level_trafo_load", level_trafo_load_mwh);
        ar.fixed("losses.level_trafo_noload", level_trafo_noload_mwh);
        ar.fixed("losses.level_branch", level_branch_mwh);
    }

    // ---- model ----------------------------------------------------------------------------------
    // Static injections (everything but loads and devices) and device node maps.
    /// Issue 16: the grid-forming devices' sources after the network's own (collapsed ones out).
    void forming_into_network() {
        if (!own_saved) {
            own_forming = net.forming;
            own_off.assign(own_forming.size(), 0);
            own_saved = true;
        }
        forming_off.resize(s.forming.sources.size(), 0);
        if (!s.forming.sources.empty() || !own_forming.empty()) {
            net.forming = own_forming;
            for (std::size_t k = 0; k < own_forming.size(); ++k) net.forming[k].in_service = own_forming[k].in_service && !own_off[k];
            for (std::size_t k = 0; k < s.forming.sources.size(); ++k) {
                FormingSource f = s.forming.sources[k];
                f.p_set_mw = f.q_set_mvar = 0.0;  // grid-following: the device injects its own set point
                f.in_service = !forming_off[k];
                net.forming.push_back(f);
            }
        }
    }
    /// Issue 16: after a build: which sources and customers stand in droop islands, the PV's
    /// frequency-watt entries (before the solver's analysis: they are in its pattern).
    void islands_of_model() {
        droop_any = m.has_droop();
        island_ev.assign(std::size_t(std::max(m.n_islands, 0)), 0);
        node_ev.assign(std::size_t(m.n), 0);
        // a customer stays shed while it is in a droop island (restoration gives it back), not after
        cust_shed.resize(net.loads.size(), 0);
        for (std::size_t l = 0; l < cust_shed.size(); ++l) {
            const int i = m.load_node[l];
            if (i < 0 || !m.island_droop[std::size_t(m.node_island[std::size_t(i)])]) cust_shed[l] = 0;
        }
        if (shed_order.empty()) {  // non-critical customers, deferrable first, then essential, by index
            for (int p : {int(LoadPriority::Deferrable), int(LoadPriority::Essential)})
                for (std::size_t l = 0; l < net.loads.size() && l < s.cust_priority.size(); ++l)
                    if (s.cust_priority[l] == p) shed_order.push_back(l);
        }
        for (std::size_t k = 0; k < s.forming.sources.size(); ++k) {
            const int i = m.forming_node[own_forming.size() + k];
            s.forming.droop[k] = i >= 0 && m.island_droop[std::size_t(m.node_island[std::size_t(i)])];
        }
        // grid-following PV in droop islands: one frequency-watt entry per node after the network's
        // sgens' (m.sgen_fw), its rating the sum of its units'; the pattern is fixed at analyze
        pv_fw_first = m.sgen_fw_node.size();
        pv_fw_of.assign(s.forming.pv_bus.size(), -1);
        pv_fw_rated_kw.clear();
        std::fill(s.forming.pv_ratio.begin(), s.forming.pv_ratio.end(), 1.0);
        if (droop_any) {
            std::vector<int>& entry_at_node = pv_fw_scratch;
            entry_at_node.assign(std::size_t(m.n), -1);
            for (std::size_t k = 0; k < s.forming.pv_bus.size(); ++k) {
                const auto it = bus_at.find(s.forming.pv_bus[k]);
                if (it == bus_at.end()) continue;
                const int i = m.bus_node[it->second];
                if (i < 0 || !m.island_droop[std::size_t(m.node_island[std::size_t(i)])]) continue;
                if (entry_at_node[std::size_t(i)] < 0) {
                    entry_at_node[std::size_t(i)] = int(pv_fw_rated_kw.size());
                    pv_fw_rated_kw.push_back(0.0);
                    m.sgen_fw_node.push_back(i);
                    m.sgen_fw.push_back(MathModel::FwPu{});
                }
                pv_fw_of[k] = entry_at_node[std::size_t(i)];
                pv_fw_rated_kw[std::size_t(pv_fw_of[k])] += s.forming.pv_rated_kw[k];
            }
        }
        // islands without a source are de-energised (docs/distribution.md): counted, never silent
        // (as deenergized_bus_ids, without allocating)
        std::size_t dead = 0;
        for (std::size_t b = 0; b < net.buses.size(); ++b)
            dead += m.bus_node[b] < 0 && net.buses[b].in_service && net.buses[b].type != BusType::Isolated;
        sum.deenergized_buses = std::max(sum.deenergized_buses, dead);
        // issue 16: islands energised by a source other than an ext grid (islanded_steps)
        {
            std::vector<char> fed(std::size_t(std::max(m.n_islands, 0)), 0);
            for (int node : m.ext_grid_node)
                if (node >= 0 && std::size_t(node) < m.node_island.size()) fed[std::size_t(m.node_island[std::size_t(node)])] = 1;
            islanded_now = std::find(fed.begin(), fed.end(), char(0)) != fed.end();
        }
    }

    void rebuild() override {
        // validated at construction; issue 16: events may leave no source in service (an outage of
        // the supply), which Network::validate refuses: every island is then dead, no node to solve
        forming_into_network();
        m = build_math_model(net, analyze_topology(net));
        islands_of_model();
        method = opt.method == Method::Auto ? (sweep_applicable(m) ? Method::Sweep : Method::NewtonRaphson) : opt.method;
        if (droop_any) method = Method::NewtonRaphson;  // droop islands: Newton-Raphson (docs/microgrid.md)
        if (method == Method::Sweep && !sweep_applicable(m)) throw ValidationError("simulation: method 'sweep' needs radial islands without PV buses");
        if (method != Method::Sweep && method != Method::NewtonRaphson) throw ValidationError("simulation: time series support the methods nr, sweep and auto");
        nr.reset();
        sweep.reset();
        if (m.n == 0) {  // issue 16: nothing energised (every source out)
        } else if (method == Method::Sweep) {
            sweep.emplace();
            sweep_hook.ready = false;
            sweep->analyze(m);
            sweep->set_thread_pool(pool.get());
        } else {
            nr.emplace(opt.linear_solver);
            nr->analyze(m);
        }
        static_injections();
        load_node = m.load_node;
        ix.bus_node = &m.bus_node;
        ix.n_nodes = m.n;
        for (auto& g : groups) g->bind(ix);
        // keep the last voltages where the node survives
        std::vector<cplx> V0 = initial_voltages(net, m, false, method != Method::Sweep);
        // (only voltages a solve gave: an event before the first step keeps the initial guess)
        if (!V.empty() && !prev_bus_v.empty() && solved_once)
            for (std::size_t b = 0; b < net.buses.size(); ++b) {
                const int i = m.bus_node[b];
                if (i >= 0 && std::isfinite(prev_bus_v[b].real()) && m.node_type[i] == BusType::PQ) V0[i] = prev_bus_v[b];
            }
        V = std::move(V0);
        island_v_set.resize(s.forming.sources.size(), 1.0);
        secondary_p0_kw.resize(s.forming.sources.size(), 0.0);
        node_flow.assign(m.n, 0.0);
        has_discrete_controls = std::any_of(net.transformers.begin(), net.transformers.end(), [](const Transformer& t) { return t.oltc && t.in_service; }) ||
                                std::any_of(net.shunts.begin(), net.shunts.end(), [](const Shunt& s) { return s.switched && s.in_service; });
        if (m.n == 0) has_discrete_controls = false;  // issue 16: nothing energised
    }
    std::vector<cplx> prev_bus_v;

    /// The static part of the injections (gens, sgens, storage, shunts; loads come per step).
    void static_injections() {
        update_injections(net, m, /*include_loads=*/false);
        static_p = m.s_p;
        static_i = m.s_i;
        static_z = m.s_z;
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
            if (droop_any && cust_shed[l]) continue;  // shed (issue 16)
            const ZipParts zip = load_zip_parts(ld, load_p_kw[l] / 1000.0 / base, load_q_kvar[l] / 1000.0 / base);
            m.s_p[i] -= zip.p;
            m.s_i[i] -= zip.i;
            m.s_z[i] -= zip.z;
        }
        // device groups in order, the late ones (PV) last, so that the sweep's hook can rebuild their nodes' injections
        const Injections inj = injections();
        for (DeviceGroup* g : inject_order) g->add_injections(inj);
        // issue 16: grid-forming devices in droop islands: their limits this step, P0 = 0
        if (droop_any && !pv_fw_rated_kw.empty()) {  // and the PV's frequency-watt (what it injects)
            pv_fw_avail_kw.assign(pv_fw_rated_kw.size(), 0.0);
            for (std::size_t k = 0; k < pv_fw_of.size(); ++k)
                if (pv_fw_of[k] >= 0) pv_fw_avail_kw[std::size_t(pv_fw_of[k])] += s.forming.pv_p_kw[k];
            for (std::size_t j = 0; j < pv_fw_rated_kw.size(); ++j)
                m.sgen_fw[pv_fw_first + j] = {std::max(pv_fw_avail_kw[j], 0.0) / 1000.0 / base,
                                              pv_fw_rated_kw[j] / 1000.0 / (kFwDroop * m.f_nom_hz) / base, kFwDeadbandHz};
        }
        if (droop_any) {
            const std::size_t nown = own_forming.size();
            for (std::size_t k = 0; k < s.forming.sources.size(); ++k) {
                if (!s.forming.droop[k]) continue;
                MathModel::FormingPu& u = m.forming_pu[nown + k];
                u.p_min = s.forming.p_min_kw[k] / 1000.0 / base;
                u.p_max = s.forming.p_max_kw[k] / 1000.0 / base;
                // P0: 0 under primary droop; under secondary control where the controller left it
                // last step (within this step's limits): the solve starts near its operating point
                u.p0 = opt.island_secondary_control ? std::clamp(secondary_p0_kw[k] / 1000.0 / base, u.p_min, u.p_max) : 0.0;
                u.kp = s.forming.kp_mw_per_hz[k] / base;
                u.v_set = island_v_set[k];
            }
        }
    }

    /// Issue 16: the forming sources' output of the last solve (generator convention), kW / kvar.
    double forming_p_pu(std::size_t k) const {
        const int i = m.forming_node[k];
        if (i < 0) return 0.0;
        const MathModel::FormingPu& u = m.forming_pu[k];
        const int is = m.node_island[std::size_t(i)];
        const double p = m.island_droop[std::size_t(is)] && nr ? u.p0 - u.kp * nr->island_df_hz()[std::size_t(is)] : u.p0;
        return std::clamp(p, u.p_min, u.p_max);
    }
    double forming_q_pu(std::size_t k) const {
        const int i = m.forming_node[k];
        if (i < 0) return 0.0;
        const MathModel::FormingPu& u = m.forming_pu[k];
        const int is = m.node_island[std::size_t(i)];
        const double q = m.island_droop[std::size_t(is)] ? u.q0 - u.kq * (std::abs(V[std::size_t(i)]) - u.v_set) : u.q0;
        return std::clamp(q, u.q_min, u.q_max);
    }
    void read_forming() {
        // device PV: the share frequency-watt leaves it (the kernel's P(df) over what it injects)
        for (std::size_t k = 0; k < pv_fw_of.size(); ++k) {
            double r = 1.0;
            if (droop_any && nr && pv_fw_of[k] >= 0) {
                const MathModel::FwPu& u = m.sgen_fw[pv_fw_first + std::size_t(pv_fw_of[k])];
                const int i = m.sgen_fw_node[pv_fw_first + std::size_t(pv_fw_of[k])];
                const double df = nr->island_df_hz()[std::size_t(m.node_island[std::size_t(i)])];
                if (u.p_avail > 0) r = std::clamp(u.p_avail - u.slope * (df - u.db), 0.0, u.p_avail) / u.p_avail;
            }
            s.forming.pv_ratio[k] = r;
        }
        const std::size_t nown = own_forming.size();
        for (std::size_t k = 0; k < s.forming.sources.size(); ++k) {
            const bool d = droop_any && s.forming.droop[k];
            s.forming.p_kw[k] = d ? forming_p_pu(nown + k) * net.sn_mva * 1000.0 : 0.0;
            s.forming.q_kvar[k] = d ? forming_q_pu(nown + k) * net.sn_mva * 1000.0 : 0.0;
        }
    }

    Injections injections() {
        Injections inj;
        inj.s_p = &m.s_p;
        inj.base_mva = net.sn_mva;
        inj.solver_hook = sweep.has_value() && !vdep.empty();
        return inj;
    }

    bool solved_once = false;  ///< V holds a solution (not the initial guess)
    SolveStatus solve() {
        solved_once = true;
        if (m.n == 0) {  // issue 16: nothing energised: nothing to solve
            SolveStatus st;
            st.converged = true;
            return st;
        }
        if (method == Method::Sweep && !vdep.empty()) {
            if (!sweep_hook.ready) sweep_hook.collect(this);
            return sweep->solve(m, V, opt.tolerance, std::max(opt.max_iterations, 100), &sweep_hook);
        }
        if (method == Method::Sweep) return sweep->solve(m, V, opt.tolerance, std::max(opt.max_iterations, 100));
        return nr->solve(m, V, opt.tolerance, opt.max_iterations);
    }

    /// The sweep's hook: voltage-dependent devices re-evaluated node by node inside the sweep.
    struct SweepHook final : SweepNodeHook {
        BalancedGrid* s = nullptr;
        bool ready = false;  // nodes collected for the present model (rebuild clears it)
        std::vector<int> hooked;
        void collect(BalancedGrid* impl) {
            s = impl;
            hooked.clear();
            for (DeviceGroup* g : s->vdep) g->solver_hook_nodes(hooked);
            std::sort(hooked.begin(), hooked.end());
            hooked.erase(std::unique(hooked.begin(), hooked.end()), hooked.end());
            ready = true;
        }
        const std::vector<int>& nodes() const override { return hooked; }
        bool at_node(int node, cplx v) override {
            const Injections inj = s->injections();
            const double vm = std::abs(v);
            bool any = false;
            for (DeviceGroup* g : s->vdep) any = g->solver_hook_node(node, vm, inj, s->ctx, s->opt.control_tolerance_pu) || any;
            return any;
        }
    };
    SweepHook sweep_hook;

    /// Power flow with the voltage-dependent controls iterated to a fixed point.
    SolveStatus solve_with_controls(int& iters, bool& settled) override {
        SolveStatus st;
        for (int round = 0;; ++round) {
            assemble_injections();
            st = solve();
            iters += st.iterations;
            if (!st.converged) break;
            // The last allowed round only checks: nothing may change after the final solve, so
            // the recorded step is always consistent with the recorded set points.
            const bool last = round + 1 >= opt.max_control_iterations;
            bool again = false;
            for (DeviceGroup* g : vdep) {
                if (g->voltage_change(V) <= opt.control_tolerance_pu) continue;
                if (last) {
                    settled = false;
                } else {
                    g->reevaluate(ctx);
                    again = true;
                }
            }
            changed_branches.clear();
            if (has_discrete_controls && !last && apply_discrete_controls(net, m, V, &changed_branches)) {
                static_injections();  // switched shunt steps change the static part
                if (sweep)
                    for (const auto& [slot, before] : changed_branches) sweep->update_branch(before, m.branches[slot]);
                again = true;
            }
            if (!again) break;
        }
        if (st.converged && droop_any && opt.island_secondary_control) secondary_control(st, iters);
        read_forming();
        return st;
    }

    /// Issue 16: secondary frequency control, as its steady state: every forming source's set point
    /// P0 becomes its present output (P0 - kp df, within its limits) and the island is solved again
    /// from nominal frequency, until the frequency is nominal or the sources are at their limits
    /// (then frequency-watt PV or the limits hold it). The sharing stays by kp.
    void secondary_control(SolveStatus& st, int& iters) {
        for (int round = 0; round < 4; ++round) {
            const std::vector<double>& df = nr->island_df_hz();
            bool any = false;
            for (int is = 0; is < m.n_islands; ++is) any = any || (m.island_droop[std::size_t(is)] && std::abs(df[std::size_t(is)]) > 1e-9);
            if (!any) return;
            for (std::size_t k = 0; k < m.forming_node.size(); ++k) {
                const int i = m.forming_node[k];
                if (i < 0 || !m.island_droop[std::size_t(m.node_island[std::size_t(i)])]) continue;
                MathModel::FormingPu& u = m.forming_pu[k];
                u.p0 = std::clamp(u.p0 - u.kp * df[std::size_t(m.node_island[std::size_t(i)])], u.p_min, u.p_max);
            }
            df_zero.assign(df.size(), 0.0);
            nr->set_island_df_hz(df_zero);
            const std::size_t nown = own_forming.size();
            for (std::size_t k = 0; k < s.forming.sources.size(); ++k)
                if (s.forming.droop[k]) secondary_p0_kw[k] = m.forming_pu[nown + k].p0 * net.sn_mva * 1000.0;
            const SolveStatus s2 = solve();
            iters += s2.iterations;
            if (!s2.converged) {  // (not expected: the same island nearer its limits) keep what it says
                st = s2;
                return;
            }
        }
    }
    std::vector<double> df_zero;
    std::vector<double> secondary_p0_kw;  ///< per device source: its set point under secondary control (kept step to step)
    std::vector<std::pair<int, BranchY>> changed_branches;

    // ---- per-element results on the thread pool: each element's values are computed alone (in any
    // order, by any thread) into the rows; what sums or picks across elements runs afterwards in
    // element order, so every result is the same bit for bit at any thread count.
    static constexpr std::size_t kRecordChunks = 64;
    static constexpr std::size_t kRecordParallelMin = 4096;  ///< fewer elements: one chunk, no hand-off

    static std::size_t record_chunks(std::size_t n) { return n >= kRecordParallelMin ? kRecordChunks : 1; }

    /// fn(chunk, lo, hi) over [0, n) in record_chunks(n) fixed chunks (bounds depend on n only), on the pool.
    template <class F>
    void for_chunks(std::size_t n, F&& fn) {
        const std::size_t chunks = record_chunks(n);
        if (chunks == 1) {
            fn(std::size_t(0), std::size_t(0), n);
            return;
        }
        pool->for_each(chunks, [&](std::size_t c) { fn(c, n * c / chunks, n * (c + 1) / chunks); }, 1);
    }

    /// A chunk of buses: lowest and highest voltage, violations, the first violating bus.
    struct BusChunk {
        double vmin = kInf, vmax = -kInf;
        std::size_t violations = 0, first = kNone;
    };
    static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
    std::vector<BusChunk> bus_chunks = std::vector<BusChunk>(kRecordChunks);

    void record_buses(LocalTime t, double dt_h, bool converged) {
        const std::size_t nb = net.buses.size(), chunks = record_chunks(nb);
        for_chunks(nb, [&](std::size_t chunk, std::size_t lo, std::size_t hi) {
            BusChunk& c = bus_chunks[chunk];
            c = BusChunk{};
            for (std::size_t b = lo; b < hi; ++b) {
                const int i = m.bus_node[b];
                if (i < 0) {
                    row_bus[b] = kNaN;
                    if (record_va) row_va[b] = kNaN;
                    continue;
                }
                const double vm = std::abs(V[i]);
                row_bus[b] = vm;
                if (record_va) row_va[b] = std::arg(V[i]) * kRad2Deg;
                if (converged) {
                    const bool v = vm < net.buses[b].vmin_pu || vm > net.buses[b].vmax_pu;
                    if (v && c.first == kNone) c.first = b;
                    c.violations += v;
                    c.vmin = std::min(c.vmin, vm);
                    c.vmax = std::max(c.vmax, vm);
                }
            }
        });
        if (!converged) return;
        bool any_violation = false;
        for (std::size_t k = 0; k < chunks; ++k) {  // in bus order
            const BusChunk& c = bus_chunks[k];
            if (c.first != kNone) {
                const double vm = row_bus[c.first];
                note_violation(t, vm > net.buses[c.first].vmax_pu ? "voltage_high" : "voltage_low", net.buses[c.first].id, vm);
            }
            sum.voltage_violation_bus_steps += c.violations;
            any_violation = any_violation || c.violations > 0;
            sum.min_vm_pu = std::min(sum.min_vm_pu, c.vmin);
            sum.max_vm_pu = std::max(sum.max_vm_pu, c.vmax);
        }
        if (any_violation) sum.voltage_violation_hours += dt_h;
    }

    /// One branch's loading, loss and p_from into column `col` of the rows, its end powers into
    /// br_power[col] (a transformer's no-load loss into row_trafo_noload[idx]). Reads only: any thread.
    void branch_row(int slot, bool trafo, bool is_line, std::size_t idx, std::size_t col) {
        const double base = net.sn_mva;
        double loading = 0.0, loss = 0.0, pf = 0.0, noload = 0.0;
        BranchPower s{0.0, 0.0};
        if (slot >= 0) {
            const BranchY& br = m.branches[slot];
            s = branch_power(br, V);  // per-element outputs: math/output.hpp
            loss = branch_loss(s, base).real();
            pf = s.from.real() * base;
            if (is_line) loading = line_loading_percent(net.lines[idx], branch_current(m, br, s, V, base));
            else if (trafo) loading = trafo_loading_percent(net.transformers[idx], branch_current(m, br, s, V, base));
            else loading = branch_loading_percent(net.branches[idx], s, base);
            if (trafo) noload = trafo_noload_loss(br, V, s, base, net.trafo_model == TrafoModel::T);
        }
        if (trafo) row_trafo_noload[idx] = noload;
        br_power[col] = s;
        row_br_loading[col] = loading;
        row_br_loss[col] = loss;
        row_br_p[col] = pf;
    }
    std::vector<BranchPower> br_power;  ///< per column of the branch rows, this step

    /// Branches: MATPOWER branches, lines, transformers. Returns the losses, MW.
    double record_branches(LocalTime t, double dt_h, bool converged) {
        const std::size_t nbr = net.branches.size(), nln = net.lines.size(), ncol = nbr + nln + net.transformers.size();
        for_chunks(ncol, [&](std::size_t, std::size_t lo, std::size_t hi) {
            for (std::size_t col = lo; col < hi; ++col) {
                if (col < nbr) branch_row(m.branch_slot[col], false, false, col, col);
                else if (col < nbr + nln) branch_row(m.line_slot[col - nbr], false, true, col - nbr, col);
                else branch_row(m.trafo_slot[col - nbr - nln], true, false, col - nbr - nln, col);
            }
        });
        // in column order: the flows at the nodes (the sources' powers) and the losses
        std::fill(node_flow.begin(), node_flow.end(), cplx(0.0, 0.0));
        double losses = 0.0;
        for (std::size_t col = 0; col < ncol; ++col) {
            const int slot = col < nbr ? m.branch_slot[col] : col < nbr + nln ? m.line_slot[col - nbr] : m.trafo_slot[col - nbr - nln];
            if (slot >= 0) add_branch_end_powers(m.branches[slot], br_power[col], node_flow);
            losses += row_br_loss[col];
        }
        source_losses_mw = record_source_branches();
        if (!converged) return losses;
        for (std::size_t i = 0; i < nln; ++i) {
            const double l = row_br_loading[nbr + i];
            sum.max_line_loading_percent = std::max(sum.max_line_loading_percent, l);
            sum.overloaded_branch_steps += l > opt.loading_limit_percent;
            if (l > opt.loading_limit_percent) note_violation(t, "line_overload", net.lines[i].id, l);
        }
        for (std::size_t i = 0; i < net.transformers.size(); ++i) {
            const std::size_t col = nbr + nln + i;
            const double l = row_br_loading[col];
            sum.max_trafo_loading_percent = std::max(sum.max_trafo_loading_percent, l);
            sum.overloaded_branch_steps += l > opt.loading_limit_percent;
            if (l > opt.loading_limit_percent) note_violation(t, "trafo_overload", net.transformers[i].id, l);
            if (opt.reverse_flow_is_violation && row_br_p[col] < -1e-9) note_violation(t, "reverse_flow", net.transformers[i].id, row_br_p[col]);
        }
        add_losses_by_kind(dt_h);
        return losses;
    }

    /// Ext grids with a finite sk_mva: the flow through their source impedance (hidden Source branches,
    /// math_model.hpp) into node_flow, so /ext_grid/p_mw is what leaves the ideal source. Returns the
    /// losses in the source impedances, MW (not in losses_mwh: summary losses_source_mwh).
    double record_source_branches() {
        double loss = 0.0;
        for (int slot : m.source_slot) {
            if (slot < 0) continue;
            const BranchY& br = m.branches[slot];
            const BranchPower s = branch_power(br, V);
            add_branch_end_powers(br, s, node_flow);
            loss += branch_loss(s, net.sn_mva).real();
        }
        return loss;
    }
    double source_losses_mw = 0.0;  ///< this step's losses in the ext grids' source impedances

    /// The step's losses by element kind and voltage level (summary: losses_*_mwh, losses_by_level).
    void add_losses_by_kind(double dt_h) {
        std::size_t col = 0;
        double branch = 0.0, line = 0.0, load = 0.0, noload = 0.0;
        for (std::size_t i = 0; i < net.branches.size(); ++i, ++col) {
            branch += row_br_loss[col];
            level_branch_mwh[level_of_branch[i]] += row_br_loss[col] * dt_h;
        }
        for (std::size_t i = 0; i < net.lines.size(); ++i, ++col) {
            line += row_br_loss[col];
            level_line_mwh[level_of_line[i]] += row_br_loss[col] * dt_h;
        }
        for (std::size_t i = 0; i < net.transformers.size(); ++i, ++col) {
            const double nl = row_trafo_noload[i], ld = row_br_loss[col] - nl;
            load += ld;
            noload += nl;
            level_trafo_load_mwh[level_of_trafo[i]] += ld * dt_h;
            level_trafo_noload_mwh[level_of_trafo[i]] += nl * dt_h;
        }
        sum.losses_branch_mwh += branch * dt_h;
        sum.losses_line_mwh += line * dt_h;
        sum.losses_trafo_load_mwh += load * dt_h;
        sum.losses_trafo_noload_mwh += noload * dt_h;
    }

    /// The nominal voltage level of every branch (lines and MATPOWER branches: from bus;
    /// transformers: HV bus), levels in descending kV; the per-level sums zeroed.
    void size_loss_levels() {
        auto vn = [&](Id bus) { return net.buses[bus_at.at(bus)].vn_kv; };
        level_kv.clear();
        for (const Branch& b : net.branches) level_kv.push_back(vn(b.from_bus));
        for (const Line& l : net.lines) level_kv.push_back(vn(l.from_bus));
        for (const Transformer& t : net.transformers) level_kv.push_back(vn(t.hv_bus));
        std::sort(level_kv.begin(), level_kv.end(), std::greater<>());
        level_kv.erase(std::unique(level_kv.begin(), level_kv.end()), level_kv.end());
        auto level = [&](Id bus) {
            return std::size_t(std::find(level_kv.begin(), level_kv.end(), vn(bus)) - level_kv.begin());
        };
        level_of_branch.clear();
        level_of_line.clear();
        level_of_trafo.clear();
        for (const Branch& b : net.branches) level_of_branch.push_back(level(b.from_bus));
        for (const Line& l : net.lines) level_of_line.push_back(level(l.from_bus));
        for (const Transformer& t : net.transformers) level_of_trafo.push_back(level(t.hv_bus));
        for (auto* v : {&level_line_mwh, &level_trafo_load_mwh, &level_trafo_noload_mwh, &level_branch_mwh}) v->assign(level_kv.size(), 0.0);
    }

    void record_loads() override {
        for_chunks(net.loads.size(), [&](std::size_t, std::size_t lo, std::size_t hi) {
            for (std::size_t l = lo; l < hi; ++l) {
                const Load& ld = net.loads[l];
                const int i = load_node[l];
                double p = 0.0, q = 0.0;
                const bool shed = droop_any && cust_shed[l];
                if (i >= 0 && ld.in_service && !shed) {
                    const cplx s = load_power_at(ld, load_p_kw[l] / 1000.0, load_q_kvar[l] / 1000.0, std::abs(V[i]));
                    p = -s.real();
                    q = -s.imag();
                }
                row_load_p[l] = p;
                row_load_q[l] = q;
            }
        });
        for (std::size_t l = 0; l < net.loads.size(); ++l) {  // in load order
            totals.elements_mw += row_load_p[l];
            totals.load_mw -= row_load_p[l];
        }
    }

    /// sgens, storage, shunts (after the device groups in the balance).
    void record_network_elements() {
        step_network_gen_mw = 0.0;
        for (std::size_t s = 0; s < net.sgens.size(); ++s) {
            const SGen& g = net.sgens[s];
            row_sgen_p[s] = (g.in_service && m.sgen_node[s] >= 0) ? g.p_mw * g.scaling : 0.0;
            totals.elements_mw += row_sgen_p[s];
            step_network_gen_mw += row_sgen_p[s];
        }
        for (std::size_t k = 0; k < own_forming.size(); ++k) {  // issue 16: the network's own forming sources
            const double p = forming_p_pu(k) * net.sn_mva;
            totals.elements_mw += p;
            step_network_gen_mw += p;
        }
        for (std::size_t s = 0; s < net.storage.size(); ++s) {
            const Storage& g = net.storage[s];
            row_sto_p[s] = (g.in_service && m.storage_node[s] >= 0) ? -g.p_mw * g.scaling : 0.0;
            totals.elements_mw += row_sto_p[s];
            totals.battery_mw += row_sto_p[s];
        }
        for (std::size_t s = 0; s < net.shunts.size(); ++s) {
            const Shunt& sh = net.shunts[s];
            const int i = m.shunt_node[s];
            double p = 0.0, q = 0.0;
            if (sh.in_service && i >= 0) {
                const cplx s = shunt_power_at(sh, V[i]);
                p = -s.real();
                q = -s.imag();
            }
            row_shunt_p[s] = p;
            row_shunt_q[s] = q;
            totals.elements_mw += p;
            step_network_gen_mw += p;
        }
    }

    /// Sources: at each slack node, what the branches take out beyond the specified injections.
    void sources_into(double& ext_p_sum, double& gen_total) {
        const double base = net.sn_mva;
        std::fill(row_ext_p.begin(), row_ext_p.end(), 0.0);
        std::fill(row_ext_q.begin(), row_ext_q.end(), 0.0);
        for (std::size_t g = 0; g < net.gens.size(); ++g) row_gen_p[g] = m.gen_node[g] >= 0 ? net.gens[g].p_mw : 0.0;
        place_slack_power(m, node_flow, V, base, row_ext_p, row_ext_q, row_gen_p);
        for (double x : row_gen_p) gen_total += x;
        for (double x : row_ext_p) ext_p_sum += x;
    }

    /// Each /branch row's rating in kVA, in /branch order (branches, lines, transformers): MATPOWER
    /// rate_a, a line's sqrt(3) x vn_kv (from bus) x max_i_ka x parallel, a transformer's sn_mva;
    /// inf where there is none (rate_a 0, max_i_ka inf).
    std::vector<double> branch_ratings_kva() const {
        constexpr double inf = std::numeric_limits<double>::infinity();
        std::vector<double> r;
        for (const Branch& b : net.branches) r.push_back(b.rate_a_mva > 0 ? b.rate_a_mva * 1000.0 : inf);
        for (const Line& b : net.lines)
            r.push_back(std::sqrt(3.0) * net.buses[net.bus_index(b.from_bus)].vn_kv * b.max_i_ka * b.parallel * 1000.0);
        for (const Transformer& b : net.transformers) r.push_back(b.sn_mva * 1000.0);
        return r;
    }

    /// Buses, branches, loads.
    void declare_series() override {
        std::vector<std::int64_t> ids;
        for (const Bus& b : net.buses) ids.push_back(b.id);
        w->write_ids("bus", ids);
        std::vector<double> vn;
        for (const Bus& b : net.buses) vn.push_back(b.vn_kv);
        w->write_vector("bus/vn_kv", vn, "kV");
        std::vector<double> band;
        for (const Bus& b : net.buses) band.push_back(b.vmin_pu);
        w->write_vector("bus/vmin_pu", band, "p.u.");
        band.clear();
        for (const Bus& b : net.buses) band.push_back(b.vmax_pu);
        w->write_vector("bus/vmax_pu", band, "p.u.");
        record_series("bus", "vm_pu", "p.u.", row_bus);
        record_va = opt.record_bus_angles;
        if (record_va) record_series("bus", "va_deg", "degree", row_va);
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
            char limit[32];
            std::snprintf(limit, sizeof limit, "%.17g", opt.loading_limit_percent);
            w->set_attribute("/branch", "loading_limit_percent", limit);  // overloaded_branch_steps counts above it
            w->write_vector("branch/rated_kva", branch_ratings_kva(), "kVA");
            record_series("branch", "loading_percent", "percent", row_br_loading);
            record_series("branch", "p_loss_mw", "MW", row_br_loss);
            if (opt.record_branch_p_from) record_series("branch", "p_from_mw", "MW", row_br_p);
        }
        if (!net.loads.empty()) {
            group_ids("load", net.loads);
            std::vector<std::int64_t> bus;
            for (const Load& l : net.loads) bus.push_back(l.bus);
            w->write_int_vector("load/bus", bus);
            std::vector<std::string> type;  // the customer class (e.g. terrace_house), "" when not given
            for (const Load& l : net.loads) type.push_back(l.type);
            w->write_strings("load/type", type);
            record_series("load", "p_mw", "MW", row_load_p);
            if (opt.record_reactive) record_series("load", "q_mvar", "MVAr", row_load_q);
        }
    }

    /// External grids, sgens, storage, gens, shunts, taps, solver, meters.
    void declare_elements() override {
        if (!net.ext_grids.empty()) {
            group_ids("ext_grid", net.ext_grids);
            record_series("ext_grid", "p_mw", "MW", row_ext_p);
            record_series("ext_grid", "q_mvar", "MVAr", row_ext_q);
        }
        if (!net.sgens.empty()) {
            group_ids("sgen", net.sgens);
            record_series("sgen", "p_mw", "MW", row_sgen_p);
        }
        if (!net.storage.empty()) {
            group_ids("storage", net.storage);
            record_series("storage", "p_mw", "MW", row_sto_p);
        }
        if (!net.gens.empty()) {
            group_ids("gen", net.gens);
            record_series("gen", "p_mw", "MW", row_gen_p);
        }
        if (!net.shunts.empty()) {
            group_ids("shunt", net.shunts);
            record_series("shunt", "p_mw", "MW", row_shunt_p);
            record_series("shunt", "q_mvar", "MVAr", row_shunt_q);
        }
        if (!net.transformers.empty()) {
            group_ids("trafo", net.transformers);
            record_series("trafo", "p_loss_noload_mw", "MW", row_trafo_noload);
        }
        h_tap = -1;
        if (std::any_of(net.transformers.begin(), net.transformers.end(), [](const Transformer& t) { return t.oltc; })) {
            h_tap = w->add_series(SeriesSpec{"trafo", "tap_pos", "", net.transformers.size(), 1, true});
        }
    }

    /// summary/losses_by_level: one row per nominal voltage level (descending kV).
    void write_losses_by_level() {
        if (level_kv.empty()) return;
        w->write_vector("summary/losses_by_level/kv", level_kv, "kV");
        w->write_vector("summary/losses_by_level/lines_mwh", level_line_mwh, "MWh");
        w->write_vector("summary/losses_by_level/trafo_load_mwh", level_trafo_load_mwh, "MWh");
        w->write_vector("summary/losses_by_level/trafo_noload_mwh", level_trafo_noload_mwh, "MWh");
        w->write_vector("summary/losses_by_level/branches_mwh", level_branch_mwh, "MWh");
        w->set_attribute("/summary/losses_by_level", "definition",
                         "losses by the element's nominal voltage level (lines and MATPOWER branches: from bus; transformers: HV bus), converged steps");
    }

    void size_rows() override {
        const std::size_t nbr = net.branches.size() + net.lines.size() + net.transformers.size();
        row_bus.assign(net.buses.size(), 0.0);
        row_va.assign(net.buses.size(), 0.0);
        row_br_loading.assign(nbr, 0.0);
        row_br_loss.assign(nbr, 0.0);
        row_br_p.assign(nbr, 0.0);
        br_power.assign(nbr, BranchPower{0.0, 0.0});
        row_load_p.assign(net.loads.size(), 0.0);
        row_load_q.assign(net.loads.size(), 0.0);
        row_ext_p.assign(net.ext_grids.size(), 0.0);
        row_ext_q.assign(net.ext_grids.size(), 0.0);
        row_sgen_p.assign(net.sgens.size(), 0.0);
        row_sto_p.assign(net.storage.size(), 0.0);
        row_gen_p.assign(net.gens.size(), 0.0);
        row_shunt_p.assign(net.shunts.size(), 0.0);
        row_shunt_q.assign(net.shunts.size(), 0.0);
        row_tap.assign(net.transformers.size(), 0);
        row_trafo_noload.assign(net.transformers.size(), 0.0);
        size_loss_levels();
    }
};

}  // namespace

std::unique_ptr<GridModel> make_balanced_grid(EngineState& s) { return std::make_unique<BalancedGrid>(s); }

}  // namespace libgrid::detail
