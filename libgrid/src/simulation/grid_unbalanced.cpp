// libgrid layer 7: the unbalanced grid of the time-series engine (grid_model.hpp): a UNetwork solved
// step after step by UTimeStepper, its loads following their OpenDSS load shapes, with the per-phase
// rows of PLAN15's HDF5 layout (docs/results_hdf5.md) and the unbalance KPIs (docs/kpis.md).
#include "grid_model.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/powerflow/ustepper.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <optional>
#include <unordered_map>

namespace libgrid::detail {
namespace {

constexpr double kVufBinPercent = 1e-3;  ///< resolution of vuf_p95_percent
constexpr std::size_t kVufBins = 100000;  ///< 0 .. 100 %; above: the last bin

template <class T>
std::int64_t id_of(const T& x, std::size_t index) {
    return x.id >= 0 ? x.id : std::int64_t(index) + 1;
}

const char* phase_name(int conductor) {
    switch (conductor) {
    case 1: return "a";
    case 2: return "b";
    case 3: return "c";
    case 4: return "n";
    default: return "";
    }
}

/// "a", "abc", ...: the phases a load's terminal connects (its first nphases conductors; a
/// one-phase delta load two).
std::string load_phases(const ULoad& l) {
    const std::size_t n = std::size_t(l.delta && l.nphases == 1 ? 2 : l.nphases);
    std::string s;
    for (std::size_t k = 0; k < n && k < l.bus1.nodes.size(); ++k)
        if (l.bus1.nodes[k] >= 1 && l.bus1.nodes[k] <= 3) s += phase_name(l.bus1.nodes[k]);
    return s;
}

/// Hours since midnight (daily shapes) or since 1 January 00:00 of t's year (yearly shapes).
double shape_hour(LocalTime t, bool yearly) {
    const CivilTime c = to_civil(t);
    const double h = c.hour + c.minute / 60.0 + c.second / 3600.0;
    return yearly ? (c.day_of_year - 1) * 24.0 + h : h;
}

/// The phase conductors (1..3) of a load's terminal: its first nphases (a one-phase delta load: 2).
std::vector<int> load_conductors(const ULoad& l) {
    const std::size_t n = std::size_t(l.delta && l.nphases == 1 ? 2 : l.nphases);
    std::vector<int> c;
    for (std::size_t k = 0; k < n && k < l.bus1.nodes.size(); ++k)
        if (l.bus1.nodes[k] >= 1 && l.bus1.nodes[k] <= 3) c.push_back(l.bus1.nodes[k]);
    std::sort(c.begin(), c.end());
    c.erase(std::unique(c.begin(), c.end()), c.end());
    return c;
}

/// Devices' connections (NetworkIndex::Connections): numbered in the order the groups bind them,
/// equal (bus, phases) shared. While `collecting`, connections are listed and -1 returned.
struct ConnectionList final : NetworkIndex::Connections {
    const UNetwork* net = nullptr;
    std::vector<std::vector<int>> bus_phases;  ///< per bus: the phase conductors some element uses
    mutable std::vector<UConnection> list;
    std::vector<char> dead;  ///< per connection: on an island without a source (bound as -1, as a dead bus)
    bool collecting = true;

    void init(const UNetwork& n) {
        net = &n;
        bus_phases.assign(n.buses.size(), {});
        auto add = [&](const UTerminal& term) {
            if (term.bus < 0) return;
            for (int c : term.nodes)
                if (c >= 1 && c <= 3) bus_phases[std::size_t(term.bus)].push_back(c);
        };
        for (const ULine& l : n.lines) {
            add(l.bus1);
            add(l.bus2);
        }
        for (const UTransformer& x : n.transformers)
            for (const UWinding& wd : x.windings) add(wd.bus);
        for (const ULoad& l : n.loads) add(l.bus1);
        for (const UVsource& v : n.vsources) add(v.bus1);
        for (auto& p : bus_phases) {
            std::sort(p.begin(), p.end());
            p.erase(std::unique(p.begin(), p.end()), p.end());
        }
        list.clear();
        dead.clear();
        collecting = true;
    }

    int connection(std::size_t bus, int customer, const std::string& phases, const std::string& who) const override {
        UConnection c;
        c.bus = int(bus);
        if (!phases.empty()) c.phases = parse_phases(phases, who);
        else if (customer >= 0) c.phases = load_conductors(net->loads[std::size_t(customer)]);
        else c.phases = bus_phases[bus];
        const std::vector<int>& have = bus_phases[bus];
        for (int p : c.phases)
            if (!std::binary_search(have.begin(), have.end(), p))
                throw ValidationError(who + ": field 'phases': bus '" + net->buses[bus].name + "' has no phase " + phase_name(p));
        if (c.phases.empty()) throw ValidationError(who + ": field 'phases': bus '" + net->buses[bus].name + "' has no phase conductor");
        for (std::size_t i = 0; i < list.size(); ++i)
            if (list[i] == c) return collecting || (i < dead.size() && dead[i]) ? -1 : int(i);
        if (!collecting) throw ValidationError(who + ": a connection appeared after the grid was built");
        list.push_back(std::move(c));
        return -1;
    }
};

/// The key of a node: (bus, conductor) in one number (a node's place across rebuilds).
std::int64_t node_key(int bus, int conductor) { return std::int64_t(bus) * (std::int64_t(1) << 20) + conductor; }

/// SimulationOptions::method on an unbalanced network: auto (the sweep where it can walk, else the
/// fixed point; docs/unbalanced.md), nr, sweep; the balanced-only methods are refused.
UMethod umethod_of(Method m) {
    switch (m) {
        case Method::Auto: return UMethod::automatic;
        case Method::NewtonRaphson: return UMethod::newton;
        case Method::Sweep: return UMethod::sweep;
        default:
            throw ValidationError("simulation: field 'method': " + to_string(m) +
                                  " is not available on an unbalanced network (auto, nr or sweep)");
    }
}


struct UnbalancedGrid final : GridModel {
    UnbalancedGrid(EngineState& st, UNetwork n) : s(st), unet(std::move(n)) {
        shapes.reserve(unet.loads.size());
        for (const ULoad& l : unet.loads) shapes.push_back(load_shape_of(unet, l));
    }

    EngineState& s;
    /// The network as the run has it: events switch its lines and transformers, the controls' taps
    /// and capacitor steps are copied into it after every solve (what a checkpoint keeps).
    UNetwork unet;
    /// What the stepper solves: unet with every element of an island without a source disabled.
    UNetwork work;
    std::vector<const ULoadShape*> shapes;  ///< per load, nullptr: its kw / kvar at every step
    std::optional<UTimeStepper> st;
    bool loads_rebased = false;  ///< Y's loads set to the first solved step's (UTimeStepper::rebase_loads)
    std::vector<std::complex<double>> conn_v;  ///< per connection, p.u. (what device groups see)
    std::vector<std::complex<double>> conn_s;  ///< per connection, this step's injection (kW + j kvar via Injections)
    ConnectionList conns;
    std::vector<int> conn_live;  ///< per connection: its index in the stepper, -1 on a dead island
    bool has_controls = false;   ///< regulators or capacitor controls (taps to copy back after a solve)

    // ---- recorded nodes: the first build's, in its order; where each is in the present stepper ----
    std::vector<int> rec_bus, rec_cond;
    std::vector<double> rec_vbase;
    std::vector<int> rec_at;    ///< per recorded node: the stepper's node, -1 (dead: NaN rows)
    bool rec_identity = true;   ///< rec_at[i] == i for all (rows straight from the stepper)
    std::vector<double> scr_v, scr_vm, scr_va;  ///< the stepper's node rows when not rec_identity
    /// Voltages to start the next stepper from, by node key (a rebuild's, or a checkpoint's).
    std::vector<std::int64_t> keep_key;
    std::vector<std::complex<double>> keep_v;
    bool keep_pending = false;  ///< keep_* came from a checkpoint (the present stepper is not the run's)

    // ---- rows (sized once) ----
    std::vector<double> row_node_v, row_node_vm, row_node_va, row_vuf, row_vn;
    std::vector<double> row_i_amps, row_br_loading, row_br_loss_kw;
    std::vector<double> row_br_loading_out, row_br_loss, row_i[4];
    std::vector<double> row_tr_p_kw, row_tr_q_kvar, row_tr[12];
    std::vector<double> row_nl_kw, row_nl_kvar, row_nl;  ///< per transformer: no-load loss (kW, kvar; MW recorded)
    std::vector<double> row_src_p_kw, row_src_q_kvar, row_ext_p, row_ext_q, row_ext_ph[6];
    std::vector<double> row_load_p_kw, row_load_q_kvar, row_load_p, row_load_q;
    std::vector<double> row_balance_cond;  ///< 4 columns, MW
    std::vector<int> neutral_of;           ///< per recorded node: the neutral node of its bus for a phase node, else -1
    // the unbalance KPIs' rows (H3): per branch and conductor a, b, c, n; neutral losses; trafo LV phases
    std::vector<double> row_cond_loading, row_nloss_kw, row_tr_phase, row_cl[4], row_nloss, row_trl[3], row_in_amps, row_in_max;
    bool has_neutral_conductor = false;  ///< some branch has a conductor on a neutral node
    std::vector<std::size_t> vuf_hist;
    std::size_t vuf_count = 0;
    bool record_angles = false;            ///< /node/va_deg is recorded (else the rows skip the angles)

    void validate() const override {
        unet.validate();
        (void)umethod_of(s.opt.method);
        if (!(s.opt.vuf_limit_percent > 0.0))  // H4
            throw ValidationError("simulation: field 'vuf_limit_percent': must be > 0 (infinity: VUF never a violation)");
    }
    bool is_unbalanced() const override { return true; }

    void rebuild() override {
        if (st) return;  // later builds: topology_changed and resync
        // the groups bind twice: once to list the connections, then to the connections' numbers
        conns.init(unet);
        s.ix.connections = &conns;
        s.ix.n_nodes = 0;
        for (auto& g : s.groups) g->bind(s.ix);
        conns.collecting = false;
        has_controls = !unet.regcontrols.empty() || !unet.capcontrols.empty();
        build_stepper();
    }
    void topology_changed() override { build_stepper(); }
    void resync() override { build_stepper(); }

    std::size_t mark_islands(std::vector<char>& live);
    void build_stepper();
    void map_recorded_nodes();
    void copy_controls_back();
    bool find_element(const std::string& kind, Id id, std::size_t& index) const override;
    void set_element(const std::string& kind, std::size_t index, bool on) override {
        if (kind == "trafo") unet.transformers[index].enabled = on;
        else if (kind == "ext_grid") unet.vsources[index].enabled = on;  // issue 16: a supply outage
        else unet.lines[index].enabled = on;
    }
    /// Issue 16: per load, its bus lies on an island with a source (mark_islands at the last build).
    std::vector<char> load_live;
    bool load_energised(std::size_t l) const override { return l < load_live.size() && load_live[l]; }
    std::size_t sources_needed() const override { return unet.vsources.size(); }
    const std::vector<std::complex<double>>& voltages() const override { return conn_v; }

    bool shape_block(std::size_t l, LocalTime t0, std::size_t len, double* p_kw, double* q_kvar, std::size_t stride) const override {
        const ULoadShape* shape = shapes[l];
        if (!shape) return false;
        const ULoad& ld = unet.loads[l];
        const bool yearly = !ld.yearly.empty();
        for (std::size_t j = 0; j < len; ++j) {
            double p = 1.0, q = 1.0;
            bool has_q = false;
            loadshape_at(*shape, shape_hour(t0 + std::int64_t(j) * s.opt.step_s, yearly), p, q, has_q);
            double kw = ld.base_kw * p, kvar = ld.base_kvar * q;  // apply_loadshapes_at's rule
            if (shape->useactual) {
                kw = p;
                kvar = has_q ? q : (ld.base_kw != 0.0 ? p * ld.base_kvar / ld.base_kw : 0.0);
            }
            p_kw[j * stride] = kw;
            q_kvar[j * stride] = kvar;
        }
        return true;
    }

    /// The devices' injections at their connections (Injections::add in kW: base 1 kVA).
    void assemble_injections() {
        std::fill(conn_s.begin(), conn_s.end(), std::complex<double>(0.0, 0.0));
        Injections inj;
        inj.s_p = &conn_s;
        inj.base_mva = 1e-3;
        for (DeviceGroup* g : s.inject_order) g->add_injections(inj);
        for (std::size_t c = 0; c < conn_s.size(); ++c)
            if (conn_live[c] >= 0) st->set_connection_power(conn_live[c], conn_s[c].real(), conn_s[c].imag());
    }

    /// As the balanced grid: solve, then re-evaluate voltage-dependent devices until they settle.
    SolveStatus solve_with_controls(int& iters, bool& settled) override {
        for (std::size_t l = 0; l < unet.loads.size(); ++l) st->set_load(int(l), s.load_p_kw[l], s.load_q_kvar[l]);
        if (!loads_rebased) {
            // Y with the loads at this step's kW, not the network's: the full fixed point then needs
            // fewer iterations (each a sparse solve). Not with the reduced fixed point: its rebase
            // costs |L| sparse solves, more than the iterations it saves (European LV day, one
            // rebase per 256-step resync: 7,083 instead of 8,726 iterations, CPU 315 vs 302 ms).
            if (!st->reduced()) st->rebase_loads();
            loads_rebased = true;
        }
        SolveStatus out;
        for (int round = 0;; ++round) {
            assemble_injections();
            const USolveStats r = st->solve();
            for (std::size_t c = 0; c < conn_v.size(); ++c)
                conn_v[c] = conn_live[c] >= 0 ? st->connection_voltage_pu(conn_live[c]) : std::complex<double>(0.0, 0.0);
            iters += r.iterations;
            out.converged = r.converged;
            out.iterations = r.iterations;
            out.max_mismatch = r.max_dv_pu;
            if (!r.converged) break;
            const bool last = round + 1 >= s.opt.max_control_iterations;
            bool again = false;
            for (DeviceGroup* g : s.vdep) {
                if (g->voltage_change(conn_v) <= s.opt.control_tolerance_pu) continue;
                if (last) {
                    settled = false;
                } else {
                    g->reevaluate(s.ctx);
                    again = true;
                }
            }
            if (!again) break;
        }
        if (has_controls) copy_controls_back();
        return out;
    }

    // ---- results ----
    void size_rows() override;
    std::size_t planned_columns() const override {
        const std::size_t nn = rec_bus.size(), nb = std::size_t(st->n_branches());
        return 3 * nn + 2 * unet.buses.size() + 12 * nb + 16 * unet.transformers.size() + 8 * unet.vsources.size() + 2 * unet.loads.size() +
               16;
    }
    void record_network(LocalTime t, double dt_h, bool converged, GridStep& g) override;
    void record_loads() override {
        st->load_rows(row_load_p_kw.data(), row_load_q_kvar.data());
        for (std::size_t l = 0; l < unet.loads.size(); ++l) {
            row_load_p[l] = -row_load_p_kw[l] / 1000.0;
            row_load_q[l] = -row_load_q_kvar[l] / 1000.0;
            s.totals.elements_mw += row_load_p[l];
            s.totals.load_mw -= row_load_p[l];
        }
    }
    void record_sources(GridStep& g) override {
        st->source_rows(row_src_p_kw.data(), row_src_q_kvar.data());
        for (std::size_t v = 0; v < unet.vsources.size(); ++v) {
            double p = 0.0, q = 0.0;
            for (std::size_t k = 0; k < 3; ++k) {
                const double pk = row_src_p_kw[3 * v + k], qk = row_src_q_kvar[3 * v + k];
                row_ext_ph[k][v] = std::isfinite(pk) ? pk / 1000.0 : kNaN;
                row_ext_ph[3 + k][v] = std::isfinite(qk) ? qk / 1000.0 : kNaN;
                if (std::isfinite(pk)) p += pk / 1000.0;
                if (std::isfinite(qk)) q += qk / 1000.0;
            }
            row_ext_p[v] = p;
            row_ext_q[v] = q;
            g.ext_p_mw += p;
        }
        double by_cond_kw[4] = {0, 0, 0, 0};
        if (s.w) st->balance_kw(by_cond_kw);  // recorded only (the engine closes the total from the rows)
        for (std::size_t k = 0; k < 4; ++k) row_balance_cond[k] = by_cond_kw[k] / 1000.0;
    }
    const std::vector<double>& load_p_mw() const override { return row_load_p; }
    void declare_series() override;
    void declare_elements() override;
    void write_step() override {}
    void write_summary() override {
        s.w->set_attribute("/summary", "model", "unbalanced");
    }
    void save_state(StateOut& out) override { archive(out); }
    void restore_state(StateIn& in) override { archive(in); }
    /// What steps change (docs/reliability.md): service states (events), taps and capacitor steps
    /// (controls), the voltages the next solve starts from, the VUF distribution so far.
    template <class Ar>
    void archive(Ar& ar) {
        for (ULine& x : unet.lines) state_bool(ar, "uline.enabled", x.enabled);
        for (UTransformer& x : unet.transformers) {
            state_bool(ar, "utrafo.enabled", x.enabled);
            for (UWinding& w : x.windings) ar.pod("utrafo.tap", w.tap);
        }
        for (UCapacitor& c : unet.capacitors) ar.vec("ucap.states", c.states);
        for (Load& x : s.net.loads) state_bool(ar, "load.in_service", x.in_service);
        for (UVsource& x : unet.vsources) state_bool(ar, "usource.enabled", x.enabled);  // issue 16: supply outages
        if constexpr (Ar::saving) {
            keep_key.clear();
            for (int n = 0; n < st->n_nodes(); ++n) keep_key.push_back(node_key(st->node_bus(n), st->node_conductor(n)));
            keep_v = st->voltages();
        }
        ar.vec("V.key", keep_key);
        ar.vec("V", keep_v);
        if constexpr (!Ar::saving)
            if (keep_key.size() != keep_v.size()) ar.bad("V", "not one voltage per node key");
        keep_pending = !Ar::saving;
        std::vector<std::uint64_t> bins;  // the VUF histogram's non-empty bins: (bin, count) pairs
        if constexpr (Ar::saving)
            for (std::size_t b = 0; b < vuf_hist.size(); ++b)
                if (vuf_hist[b] != 0) bins.insert(bins.end(), {std::uint64_t(b), std::uint64_t(vuf_hist[b])});
        ar.vec("vuf_hist", bins);
        ar.pod("vuf_count", vuf_count);
        if constexpr (!Ar::saving) {
            std::fill(vuf_hist.begin(), vuf_hist.end(), 0);
            for (std::size_t i = 0; i + 1 < bins.size(); i += 2) {
                if (bins[i] >= vuf_hist.size()) ar.bad("vuf_hist", "bin out of range");
                vuf_hist[std::size_t(bins[i])] = std::size_t(bins[i + 1]);
            }
        }
    }
    void finish() override {
        SimulationSummary& sum = s.sum;
        if (sum.vuf_bus_steps > 0) sum.vuf_bus_steps_over_limit_percent = 100.0 * double(sum.vuf_bus_steps_over_limit) / double(sum.vuf_bus_steps);
        if (vuf_count == 0) return;
        // vuf_p95_percent: the upper edge of the smallest bin with >= 95 % of the bus-steps at or below it
        const std::size_t want = (vuf_count * 95 + 99) / 100;
        std::size_t acc = 0, b = 0;
        for (; b + 1 < kVufBins && acc + vuf_hist[b] < want; ++b) acc += vuf_hist[b];
        s.sum.vuf_p95_percent = double(b + 1) * kVufBinPercent;
    }

    void node_rows();
    void record_nodes(LocalTime t, double dt_h, bool converged);
    /// undervoltage_node_steps_{a,b,c} / overvoltage_node_steps_{a,b,c}: one phase node's step
    void count_phase_violation(int phase, double vm, const Bus& b) {
        SimulationSummary& sum = s.sum;
        std::size_t* under[3] = {&sum.undervoltage_node_steps_a, &sum.undervoltage_node_steps_b, &sum.undervoltage_node_steps_c};
        std::size_t* over[3] = {&sum.overvoltage_node_steps_a, &sum.overvoltage_node_steps_b, &sum.overvoltage_node_steps_c};
        if (vm < b.vmin_pu) ++*under[phase - 1];
        if (vm > b.vmax_pu) ++*over[phase - 1];
    }
    void record_conductors(double dt_h, bool converged);
    void record_branches(LocalTime t, double dt_h, bool converged, GridStep& g);
    void declare_nodes();
    void declare_branches();
};

/// The buses a source reaches through enabled lines and transformers (live[b] = 1); every element
/// of the other buses is disabled in `work` (as OpenDSS, an island without a source is dead: the
/// balanced engine's de-energised buses). Returns how many buses are dead.
std::size_t UnbalancedGrid::mark_islands(std::vector<char>& live) {
    const std::size_t nb = unet.buses.size();
    std::vector<std::vector<int>> adj(nb);
    auto join = [&](int a, int b) {
        if (a < 0 || b < 0 || a == b) return;
        adj[std::size_t(a)].push_back(b);
        adj[std::size_t(b)].push_back(a);
    };
    for (const ULine& l : unet.lines)
        if (l.enabled) join(l.bus1.bus, l.bus2.bus);
    for (const UTransformer& x : unet.transformers)
        if (x.enabled)
            for (std::size_t w = 1; w < x.windings.size(); ++w) join(x.windings[0].bus.bus, x.windings[w].bus.bus);
    live.assign(nb, 0);
    std::vector<int> todo;
    for (const UVsource& v : unet.vsources)
        if (v.enabled && v.bus1.bus >= 0 && !live[std::size_t(v.bus1.bus)]) {
            live[std::size_t(v.bus1.bus)] = 1;
            todo.push_back(v.bus1.bus);
        }
    while (!todo.empty()) {
        const int b = todo.back();
        todo.pop_back();
        for (int n : adj[std::size_t(b)])
            if (!live[std::size_t(n)]) {
                live[std::size_t(n)] = 1;
                todo.push_back(n);
            }
    }
    auto dead = [&](const UTerminal& t) { return t.bus >= 0 && !live[std::size_t(t.bus)]; };
    std::vector<ULoadShape> kept;  // the stepper needs no shapes (this grid evaluates them): not copied
    std::swap(unet.loadshapes, kept);
    work = unet;
    std::swap(unet.loadshapes, kept);  // the same buffer again: `shapes` still points into it
    for (ULine& l : work.lines) l.enabled = l.enabled && !dead(l.bus1) && !dead(l.bus2);
    for (UTransformer& x : work.transformers)
        for (const UWinding& w : x.windings) x.enabled = x.enabled && !dead(w.bus);
    for (ULoad& l : work.loads) l.enabled = l.enabled && !dead(l.bus1);
    for (UCapacitor& c : work.capacitors) c.enabled = c.enabled && !dead(c.bus1) && !dead(c.bus2);
    for (URegControl& r : work.regcontrols)
        r.enabled = r.enabled && (r.transformer < 0 || work.transformers[std::size_t(r.transformer)].enabled);
    for (UCapControl& c : work.capcontrols)
        c.enabled = c.enabled && (c.capacitor < 0 || work.capacitors[std::size_t(c.capacitor)].enabled);
    return std::size_t(std::count(live.begin(), live.end(), 0));
}

/// (Re)builds the stepper from the network as it is now (events, taps), starting from the last
/// voltages where their nodes survive (or a checkpoint's), and binds the devices: those on a dead
/// island get node -1 (no injection, as on a de-energised balanced bus).
void UnbalancedGrid::build_stepper() {
    if (st && !keep_pending) {
        keep_key.clear();
        for (int n = 0; n < st->n_nodes(); ++n) keep_key.push_back(node_key(st->node_bus(n), st->node_conductor(n)));
        keep_v = st->voltages();
    }
    const bool first = !st;
    st.reset();
    loads_rebased = false;  // a fresh stepper: Y at the network's kW until the next solve rebases it
    std::vector<char> live;
    const std::size_t dead = mark_islands(live);
    s.sum.deenergized_buses = std::max(s.sum.deenergized_buses, dead);
    load_live.assign(unet.loads.size(), 0);  // issue 16: the resilience KPIs' energised customers
    for (std::size_t l = 0; l < unet.loads.size(); ++l) {
        const int b = unet.loads[l].bus1.bus;
        load_live[l] = b >= 0 && live[std::size_t(b)];
    }
    std::vector<UConnection> list;
    conns.dead.assign(conns.list.size(), 0);
    conn_live.assign(conns.list.size(), -1);
    for (std::size_t c = 0; c < conns.list.size(); ++c) {
        conns.dead[c] = !live[std::size_t(conns.list[c].bus)];
        if (conns.dead[c]) continue;
        conn_live[c] = int(list.size());
        list.push_back(conns.list[c]);
    }
    UPfOptions po;
    po.method = umethod_of(s.opt.method);
    po.tolerance = std::min(1e-9, s.opt.tolerance);
    po.max_iterations = std::max(s.opt.max_iterations, 100);
    st.emplace(work, std::move(list), po);
    for (std::size_t b = 0; b < unet.buses.size(); ++b) unet.buses[b].kv_base_ll = work.buses[b].kv_base_ll;  // bases once
    if (!keep_key.empty()) {  // the last voltages where the node survives; the model's start elsewhere
        std::unordered_map<std::int64_t, std::size_t> at;
        for (std::size_t i = 0; i < keep_key.size(); ++i) at.emplace(keep_key[i], i);
        std::vector<std::complex<double>> v = st->voltages();
        for (int n = 0; n < st->n_nodes(); ++n)
            if (const auto it = at.find(node_key(st->node_bus(n), st->node_conductor(n))); it != at.end()) v[std::size_t(n)] = keep_v[it->second];
        st->set_voltages(v);
    }
    keep_pending = false;
    if (first) {
        for (int n = 0; n < st->n_nodes(); ++n) {
            rec_bus.push_back(st->node_bus(n));
            rec_cond.push_back(st->node_conductor(n));
            rec_vbase.push_back(st->node_vbase_volts(n));
        }
    }
    map_recorded_nodes();
    conn_v.assign(conns.list.size(), std::complex<double>(1.0, 0.0));
    conn_s.assign(conns.list.size(), 0.0);
    s.ix.n_nodes = int(conns.list.size());
    for (auto& g : s.groups) g->bind(s.ix);
}

/// rec_at: where each recorded node is in the present stepper (-1: not there, dead).
void UnbalancedGrid::map_recorded_nodes() {
    std::unordered_map<std::int64_t, int> at;
    for (int n = 0; n < st->n_nodes(); ++n) at.emplace(node_key(st->node_bus(n), st->node_conductor(n)), n);
    rec_at.assign(rec_bus.size(), -1);
    rec_identity = rec_bus.size() == std::size_t(st->n_nodes());
    for (std::size_t i = 0; i < rec_bus.size(); ++i) {
        if (const auto it = at.find(node_key(rec_bus[i], rec_cond[i])); it != at.end()) rec_at[i] = it->second;
        rec_identity = rec_identity && rec_at[i] == int(i);
    }
    const std::size_t nn = std::size_t(st->n_nodes());
    for (auto* r : {&scr_v, &scr_vm, &scr_va}) r->assign(rec_identity ? 0 : nn, 0.0);
}

/// The taps and capacitor steps the controls left in `work` into unet (no allocation: same sizes).
void UnbalancedGrid::copy_controls_back() {
    for (std::size_t t = 0; t < unet.transformers.size(); ++t)
        for (std::size_t w = 0; w < unet.transformers[t].windings.size(); ++w)
            unet.transformers[t].windings[w].tap = work.transformers[t].windings[w].tap;
    for (std::size_t c = 0; c < unet.capacitors.size(); ++c) {
        const std::vector<int>& from = work.capacitors[c].states;
        std::vector<int>& to = unet.capacitors[c].states;
        if (from.size() == to.size()) std::copy(from.begin(), from.end(), to.begin());
    }
}

/// Events on an unbalanced network: "line" (a line that is not a switch), "switch" (a line with
/// switch=yes: open = out), "trafo"; ids as the results' (the element's id, else its index + 1).
bool UnbalancedGrid::find_element(const std::string& kind, Id id, std::size_t& index) const {
    if (kind == "trafo") {
        for (std::size_t i = 0; i < unet.transformers.size(); ++i)
            if (id_of(unet.transformers[i], i) == id) {
                index = i;
                return true;
            }
        return false;
    }
    if (kind == "ext_grid") {  // issue 16: the sources (to_unetwork keeps the ext grid's id)
        for (std::size_t i = 0; i < unet.vsources.size(); ++i)
            if (id_of(unet.vsources[i], i) == id) {
                index = i;
                return true;
            }
        return false;
    }
    if (kind != "line" && kind != "switch")
        throw ValidationError("field 'element': an unbalanced network has no " + kind +
                              " elements (lines, switches, transformers and loads take events; PV and batteries are devices: 'pv', 'battery')");
    for (std::size_t i = 0; i < unet.lines.size(); ++i)
        if (id_of(unet.lines[i], i) == id && unet.lines[i].is_switch == (kind == "switch")) {
            index = i;
            return true;
        }
    return false;
}

void UnbalancedGrid::size_rows() {
    const std::size_t nn = rec_bus.size(), nb = std::size_t(st->n_branches()), nt = unet.transformers.size(),
                      nv = unet.vsources.size(), nl = unet.loads.size(), nbus = unet.buses.size();
    for (auto* r : {&row_node_v, &row_node_vm, &row_node_va}) r->assign(nn, 0.0);
    row_vuf.assign(nbus, kNaN);
    row_vn.assign(nbus, kNaN);
    row_i_amps.assign(4 * nb, 0.0);
    row_br_loading.assign(nb, 0.0);
    row_br_loss_kw.assign(nb, 0.0);
    row_br_loading_out.assign(nb, 0.0);
    row_br_loss.assign(nb, 0.0);
    for (auto& r : row_i) r.assign(nb, 0.0);
    row_tr_p_kw.assign(6 * nt, 0.0);
    row_tr_q_kvar.assign(6 * nt, 0.0);
    for (auto& r : row_tr) r.assign(nt, 0.0);
    for (auto* r : {&row_nl_kw, &row_nl_kvar, &row_nl}) r->assign(nt, 0.0);
    row_src_p_kw.assign(3 * nv, 0.0);
    row_src_q_kvar.assign(3 * nv, 0.0);
    row_ext_p.assign(nv, 0.0);
    row_ext_q.assign(nv, 0.0);
    for (auto& r : row_ext_ph) r.assign(nv, 0.0);
    for (auto* r : {&row_load_p_kw, &row_load_q_kvar, &row_load_p, &row_load_q}) r->assign(nl, 0.0);
    row_balance_cond.assign(4, 0.0);
    row_cond_loading.assign(4 * nb, kNaN);
    row_nloss_kw.assign(nb, kNaN);
    row_tr_phase.assign(3 * nt, kNaN);
    for (auto& r : row_cl) r.assign(nb, kNaN);
    row_nloss.assign(nb, kNaN);
    for (auto& r : row_trl) r.assign(nt, kNaN);
    row_in_amps.assign(nb, kNaN);
    row_in_max.assign(nb, kNaN);
    st->conductor_rows(row_cond_loading.data(), row_nloss_kw.data(), row_tr_phase.data(), row_in_amps.data());  // before any solve: which are NaN
    has_neutral_conductor = std::any_of(row_nloss_kw.begin(), row_nloss_kw.end(), [](double x) { return !std::isnan(x); });
    neutral_of.assign(nn, -1);
    for (std::size_t i = 0; i < nn;) {  // the nodes of a bus are contiguous (model order)
        std::size_t j = i;
        int neutral = -1;
        for (; j < nn && rec_bus[j] == rec_bus[i]; ++j)
            if (rec_cond[j] == 4) neutral = int(j);
        for (std::size_t k = i; k < j; ++k)
            if (rec_cond[k] >= 1 && rec_cond[k] <= 3) neutral_of[k] = neutral;
        i = j;
    }
    vuf_hist.assign(kVufBins, 0);
    vuf_count = 0;
    record_angles = false;  // declare_nodes turns it on when there is a file
    s.sum.max_vuf_percent = 0.0;
    s.sum.vuf_p95_percent = kNaN;
    s.sum.max_neutral_current_a = kNaN;  // stays NaN where no branch has a neutral conductor
    s.sum.unbalanced = true;
    s.sum.vuf_limit_percent = s.opt.vuf_limit_percent;
    s.sum.vuf_bus_steps = s.sum.vuf_bus_steps_over_limit = 0;
    s.sum.neutral_losses_mwh = has_neutral_conductor ? 0.0 : kNaN;  // NaN where no branch has a neutral conductor
    s.sum.max_trafo_phase_loading_percent = 0.0;
    s.sum.max_line_conductor_loading_percent = 0.0;
}

void UnbalancedGrid::record_network(LocalTime t, double dt_h, bool converged, GridStep& g) {
    record_nodes(t, dt_h, converged);
    record_branches(t, dt_h, converged, g);
    if (!converged) return;
    SimulationSummary& sum = s.sum;
    // the VUF's distribution over three-phase bus-steps (vuf_p95_percent at the end)
    for (std::size_t b = 0; b < row_vuf.size(); ++b) {
        const double v = row_vuf[b];
        if (!std::isfinite(v)) continue;
        if (v > s.opt.vuf_limit_percent) s.note_violation(t, "unbalance", s.net.buses[b].id, v);  // H4: the hosting limit kind
        sum.max_vuf_percent = std::max(sum.max_vuf_percent, v);
        ++vuf_hist[std::min(kVufBins - 1, std::size_t(std::max(v, 0.0) / kVufBinPercent))];
        ++vuf_count;
        ++sum.vuf_bus_steps;
        sum.vuf_bus_steps_over_limit += v > s.opt.vuf_limit_percent;
    }
}

/// The node rows of the recorded nodes (NaN where a node is dead); the angles only when recorded.
void UnbalancedGrid::node_rows() {
    const bool direct = rec_identity;
    double* v = direct ? row_node_v.data() : scr_v.data();
    double* vm = direct ? row_node_vm.data() : scr_vm.data();
    if (record_angles) st->node_rows(v, vm, direct ? row_node_va.data() : scr_va.data());
    else st->node_rows(v, vm);
    if (direct) return;
    for (std::size_t i = 0; i < rec_at.size(); ++i) {
        const int n = rec_at[i];
        row_node_v[i] = n >= 0 ? scr_v[std::size_t(n)] : kNaN;
        row_node_vm[i] = n >= 0 ? scr_vm[std::size_t(n)] : kNaN;
        if (record_angles) row_node_va[i] = n >= 0 ? scr_va[std::size_t(n)] : kNaN;
    }
}

/// Node rows; min / max and violations on phase-to-neutral voltages (to ground where no neutral).
void UnbalancedGrid::record_nodes(LocalTime t, double dt_h, bool converged) {
    node_rows();
    st->vuf_rows(row_vuf.data());
    if (s.w) st->neutral_rows(row_vn.data());  // recorded only
    if (!converged) return;
    SimulationSummary& sum = s.sum;
    const std::vector<std::complex<double>>& V = st->voltages();
    std::size_t violations = 0;
    int last_bus = -1;
    bool bus_violates = false;
    const std::size_t nn = rec_bus.size();
    for (std::size_t i = 0; i <= nn; ++i) {
        const int bus = i < nn ? rec_bus[i] : -2;
        if (bus != last_bus) {  // nodes of a bus are contiguous
            violations += bus_violates;
            bus_violates = false;
            last_bus = bus;
        }
        if (i == nn || rec_cond[i] < 1 || rec_cond[i] > 3 || rec_at[i] < 0) continue;
        double vm = row_node_vm[i];  // to ground where the bus has no neutral node
        if (neutral_of[i] >= 0 && rec_at[std::size_t(neutral_of[i])] >= 0) {
            const std::complex<double> d = V[std::size_t(rec_at[i])] - V[std::size_t(rec_at[std::size_t(neutral_of[i])])];
            vm = std::sqrt(std::norm(d)) / rec_vbase[i];
        }
        if (!std::isfinite(vm)) continue;
        count_phase_violation(rec_cond[i], vm, s.net.buses[std::size_t(bus)]);
        sum.min_vm_pu = std::min(sum.min_vm_pu, vm);
        sum.max_vm_pu = std::max(sum.max_vm_pu, vm);
        const Bus& b = s.net.buses[std::size_t(bus)];
        if (vm < b.vmin_pu || vm > b.vmax_pu) {
            if (!bus_violates) s.note_violation(t, vm > b.vmax_pu ? "voltage_high" : "voltage_low", b.id, vm, phase_name(rec_cond[i]));
            bus_violates = true;
        }
    }
    sum.voltage_violation_bus_steps += violations;
    if (violations > 0) sum.voltage_violation_hours += dt_h;
}

void UnbalancedGrid::record_branches(LocalTime t, double dt_h, bool converged, GridStep& g) {
    st->branch_rows(row_i_amps.data(), row_br_loading.data(), row_br_loss_kw.data());
    if (s.w) st->transformer_rows(row_tr_p_kw.data(), row_tr_q_kvar.data());  // recorded only
    for (std::size_t k = 0; s.w && k < row_tr_p_kw.size(); ++k) {
        row_tr[k % 6][k / 6] = row_tr_p_kw[k] / 1000.0;
        row_tr[6 + k % 6][k / 6] = row_tr_q_kvar[k] / 1000.0;
    }
    SimulationSummary& sum = s.sum;
    double line = 0.0, trafo = 0.0;
    for (std::size_t b = 0; b < row_br_loading.size(); ++b) {
        for (std::size_t k = 0; k < 4; ++k) row_i[k][b] = row_i_amps[4 * b + k] / 1000.0;
        const double loss = std::isfinite(row_br_loss_kw[b]) ? row_br_loss_kw[b] / 1000.0 : 0.0;
        row_br_loss[b] = row_br_loss_kw[b] / 1000.0;
        row_br_loading_out[b] = row_br_loading[b];
        const bool tr = st->branch_is_transformer(int(b));
        (tr ? trafo : line) += loss;
        if (!converged) continue;
        const double l = std::isfinite(row_br_loading[b]) ? row_br_loading[b] : 0.0;
        double& mx = tr ? sum.max_trafo_loading_percent : sum.max_line_loading_percent;
        mx = std::max(mx, l);
        sum.overloaded_branch_steps += l > s.opt.loading_limit_percent;
        const std::size_t e = std::size_t(st->branch_element(int(b)));
        if (l > s.opt.loading_limit_percent && !sum.first_violation.found)
            s.note_violation(t, tr ? "trafo_overload" : "line_overload", tr ? id_of(unet.transformers[e], e) : id_of(unet.lines[e], e), l,
                             phase_name(st->branch_worst_phase(int(b))));
    }
    g.losses_mw = line + trafo;
    g.source_losses_mw = 0.0;
    // the transformers' no-load (core) loss, as OpenDSS's GetLosses: the rest of their loss is load loss
    st->transformer_noload_rows(row_nl_kw.data(), row_nl_kvar.data());
    double noload = 0.0;
    for (std::size_t t = 0; t < row_nl.size(); ++t) {
        row_nl[t] = row_nl_kw[t] / 1000.0;
        if (std::isfinite(row_nl[t])) noload += row_nl[t];
    }
    record_conductors(dt_h, converged);
    if (!converged) return;
    sum.losses_line_mwh += line * dt_h;
    sum.losses_trafo_load_mwh += (trafo - noload) * dt_h;
    sum.losses_trafo_noload_mwh += noload * dt_h;
}

/// Per conductor loading, neutral losses, the transformers' LV phases (H3): rows and KPIs.
void UnbalancedGrid::record_conductors(double dt_h, bool converged) {
    st->conductor_rows(row_cond_loading.data(), row_nloss_kw.data(), row_tr_phase.data(), row_in_amps.data());
    const std::size_t nb = row_nloss.size(), nt = row_trl[0].size(), nl = unet.lines.size();
    for (std::size_t b = 0; b < nb; ++b) {
        for (std::size_t k = 0; k < 4; ++k) row_cl[k][b] = row_cond_loading[4 * b + k];
        row_nloss[b] = row_nloss_kw[b] / 1000.0;
        row_in_max[b] = row_in_amps[b] / 1000.0;
    }
    for (std::size_t t = 0; t < nt; ++t)
        for (std::size_t k = 0; k < 3; ++k) row_trl[k][t] = row_tr_phase[3 * t + k];
    if (!converged) return;
    SimulationSummary& sum = s.sum;
    double nloss = 0.0;
    for (std::size_t b = 0; b < nb; ++b) {
        if (std::isfinite(row_nloss_kw[b])) nloss += row_nloss_kw[b] / 1000.0;
        if (std::isfinite(row_in_amps[b]))
            sum.max_neutral_current_a = std::isnan(sum.max_neutral_current_a) ? row_in_amps[b] : std::max(sum.max_neutral_current_a, row_in_amps[b]);
        if (b >= nl) continue;  // the lines' conductors
        for (std::size_t k = 0; k < 4; ++k)
            if (std::isfinite(row_cond_loading[4 * b + k]))
                sum.max_line_conductor_loading_percent = std::max(sum.max_line_conductor_loading_percent, row_cond_loading[4 * b + k]);
    }
    for (double x : row_tr_phase)
        if (std::isfinite(x)) sum.max_trafo_phase_loading_percent = std::max(sum.max_trafo_phase_loading_percent, x);
    if (has_neutral_conductor) sum.neutral_losses_mwh += nloss * dt_h;
}

void UnbalancedGrid::declare_series() {
    Recorder* w = s.w;
    w->set_attribute("/", "model", "unbalanced");
    std::vector<std::int64_t> ids;
    std::vector<std::string> names;
    std::vector<double> vn;
    for (std::size_t b = 0; b < unet.buses.size(); ++b) {
        ids.push_back(id_of(unet.buses[b], b));
        names.push_back(unet.buses[b].name);
        vn.push_back(unet.buses[b].kv_base_ll);
    }
    w->write_ids("bus", ids);
    w->write_strings("bus/name", names);
    w->write_vector("bus/vn_kv", vn, "kV");
    s.record_series("bus", "vuf_percent", "percent", row_vuf);
    s.record_series("bus", "v_neutral_volts", "V", row_vn);
    declare_nodes();
    declare_branches();
    if (unet.loads.empty()) return;
    ids.clear();
    names.clear();
    std::vector<std::int64_t> bus;
    std::vector<std::string> phases;
    for (std::size_t l = 0; l < unet.loads.size(); ++l) {
        const ULoad& ld = unet.loads[l];
        ids.push_back(id_of(ld, l));
        names.push_back(ld.name);
        bus.push_back(id_of(unet.buses[std::size_t(ld.bus1.bus)], std::size_t(ld.bus1.bus)));
        phases.push_back(load_phases(ld));
    }
    w->write_ids("load", ids);
    w->write_strings("load/name", names);
    w->write_int_vector("load/bus", bus);
    w->write_strings("load/phases", phases);
    s.record_series("load", "p_mw", "MW", row_load_p);
    if (s.opt.record_reactive) s.record_series("load", "q_mvar", "MVAr", row_load_q);
}

void UnbalancedGrid::declare_nodes() {
    Recorder* w = s.w;
    const std::size_t nn = rec_bus.size();
    std::vector<std::int64_t> ids, bus;
    std::vector<std::string> bus_name, phase;
    for (std::size_t i = 0; i < nn; ++i) {
        const std::size_t b = std::size_t(rec_bus[i]);
        const int c = rec_cond[i];
        ids.push_back(std::int64_t(i));
        bus.push_back(id_of(unet.buses[b], b));
        bus_name.push_back(unet.buses[b].name);
        phase.push_back(c >= 1 && c <= 4 ? phase_name(c) : std::to_string(c));
    }
    w->write_ids("node", ids);
    w->write_int_vector("node/bus", bus);
    w->write_strings("node/bus_name", bus_name);
    w->write_strings("node/phase", phase);
    w->write_vector("node/vbase_volts", rec_vbase, "V");
    s.record_series("node", "v_volts", "V", row_node_v);
    s.record_series("node", "vm_pu", "p.u.", row_node_vm);
    record_angles = true;  // the file has the angles (runs without a file skip them: node_rows)
    s.record_series("node", "va_deg", "degree", row_node_va);
}

void UnbalancedGrid::declare_branches() {
    Recorder* w = s.w;
    const std::size_t nb = std::size_t(st->n_branches());
    if (nb == 0) return;
    std::vector<std::int64_t> ids, from, to;
    std::vector<std::string> kind, name;
    std::vector<double> rated;
    auto bus_id = [&](int b) { return id_of(unet.buses[std::size_t(b)], std::size_t(b)); };
    for (std::size_t b = 0; b < nb; ++b) {
        const std::size_t e = std::size_t(st->branch_element(int(b)));
        ids.push_back(std::int64_t(b));
        if (st->branch_is_transformer(int(b))) {
            const UTransformer& x = unet.transformers[e];
            kind.push_back("trafo");
            name.push_back(x.name);
            from.push_back(bus_id(x.windings[0].bus.bus));
            to.push_back(bus_id(x.windings.size() > 1 ? x.windings[1].bus.bus : x.windings[0].bus.bus));
        } else {
            const ULine& x = unet.lines[e];
            kind.push_back("line");
            name.push_back(x.name);
            from.push_back(bus_id(x.bus1.bus));
            to.push_back(bus_id(x.bus2.bus));
        }
        rated.push_back(st->branch_rated_amps(int(b)));
    }
    w->write_ids("branch", ids);
    w->write_strings("branch/kind", kind);
    w->write_strings("branch/name", name);
    w->write_int_vector("branch/from_bus", from);
    w->write_int_vector("branch/to_bus", to);
    w->write_vector("branch/rated_amps", rated, "A");
    s.record_series("branch", "loading_percent", "percent", row_br_loading_out);
    s.record_series("branch", "p_loss_mw", "MW", row_br_loss);
    const char* cur[4] = {"i_a_ka", "i_b_ka", "i_c_ka", "i_n_ka"};
    for (std::size_t k = 0; k < 4; ++k) s.record_series("branch", cur[k], "kA", row_i[k]);
    const char* cl[4] = {"loading_a_percent", "loading_b_percent", "loading_c_percent", "loading_n_percent"};
    for (std::size_t k = 0; k < 4; ++k) s.record_series("branch", cl[k], "percent", row_cl[k]);
    s.record_series("branch", "p_loss_neutral_mw", "MW", row_nloss);
    s.record_series("branch", "i_n_max_ka", "kA", row_in_max);
}

void UnbalancedGrid::declare_elements() {
    Recorder* w = s.w;
    if (!unet.transformers.empty()) {
        std::vector<std::int64_t> ids;
        for (std::size_t t = 0; t < unet.transformers.size(); ++t) ids.push_back(id_of(unet.transformers[t], t));
        w->write_ids("trafo", ids);
        const char* side[2] = {"hv", "lv"};
        const char* ph[3] = {"a", "b", "c"};
        for (std::size_t w2 = 0; w2 < 2; ++w2)
            for (std::size_t k = 0; k < 3; ++k) {
                s.record_series("trafo", std::string("p_") + ph[k] + "_" + side[w2] + "_mw", "MW", row_tr[3 * w2 + k]);
                s.record_series("trafo", std::string("q_") + ph[k] + "_" + side[w2] + "_mvar", "MVAr", row_tr[6 + 3 * w2 + k]);
            }
        s.record_series("trafo", "p_loss_noload_mw", "MW", row_nl);
        for (std::size_t k = 0; k < 3; ++k) s.record_series("trafo", std::string("loading_") + ph[k] + "_percent", "percent", row_trl[k]);
    }
    if (!unet.vsources.empty()) {
        std::vector<std::int64_t> ids;
        std::vector<std::string> names;
        for (std::size_t v = 0; v < unet.vsources.size(); ++v) {
            ids.push_back(id_of(unet.vsources[v], v));
            names.push_back(unet.vsources[v].name);
        }
        w->write_ids("ext_grid", ids);
        w->write_strings("ext_grid/name", names);
        s.record_series("ext_grid", "p_mw", "MW", row_ext_p);
        s.record_series("ext_grid", "q_mvar", "MVAr", row_ext_q);
        const char* names6[6] = {"p_a_mw", "p_b_mw", "p_c_mw", "q_a_mvar", "q_b_mvar", "q_c_mvar"};
        for (std::size_t k = 0; k < 6; ++k) s.record_series("ext_grid", names6[k], k < 3 ? "MW" : "MVAr", row_ext_ph[k]);
    }
    s.record_series("solver", "energy_balance_by_conductor_mw", "MW", row_balance_cond);
}

}  // namespace

Network customers_of(const UNetwork& u) {
    Network net;
    net.name = u.name;
    for (std::size_t b = 0; b < u.buses.size(); ++b) {
        Bus x;
        x.id = id_of(u.buses[b], b);
        x.name = u.buses[b].name;
        x.vn_kv = u.buses[b].kv_base_ll;
        x.vmin_pu = u.buses[b].vmin_pu;  // H4: the band of per-phase voltage violations
        x.vmax_pu = u.buses[b].vmax_pu;
        net.buses.push_back(x);
    }
    for (std::size_t l = 0; l < u.loads.size(); ++l) {
        const ULoad& ld = u.loads[l];
        Load x;
        x.id = id_of(ld, l);
        x.name = ld.name;
        x.bus = ld.bus1.bus >= 0 ? net.buses[std::size_t(ld.bus1.bus)].id : -1;
        x.p_mw = ld.kw / 1000.0;
        x.q_mvar = ld.kvar / 1000.0;
        x.in_service = ld.enabled;
        net.loads.push_back(x);
    }
    // issue 15b: the topology grid_aware charging needs (the transformers above a bus, their kVA):
    // sources, lines and transformers with the same ids as the results' (no impedances: not solved)
    auto bus_id = [&](int b) { return net.buses[std::size_t(b)].id; };
    for (std::size_t v = 0; v < u.vsources.size(); ++v) {
        if (u.vsources[v].bus1.bus < 0) continue;
        ExtGrid g;
        g.id = id_of(u.vsources[v], v);
        g.bus = bus_id(u.vsources[v].bus1.bus);
        g.in_service = u.vsources[v].enabled;
        net.ext_grids.push_back(g);
    }
    for (std::size_t i = 0; i < u.lines.size(); ++i) {
        const ULine& l = u.lines[i];
        if (l.bus1.bus < 0 || l.bus2.bus < 0 || l.bus1.bus == l.bus2.bus) continue;
        Line x;
        x.id = id_of(l, i);
        x.from_bus = bus_id(l.bus1.bus);
        x.to_bus = bus_id(l.bus2.bus);
        x.length_km = l.length_km;  // issue 17 (H1): the PLC hops count metres of line (comms_topology)
        x.in_service = l.enabled;
        net.lines.push_back(x);
    }
    for (std::size_t i = 0; i < u.transformers.size(); ++i) {
        const UTransformer& t = u.transformers[i];
        if (t.windings.size() < 2 || t.windings[0].bus.bus < 0 || t.windings[1].bus.bus < 0) continue;
        Transformer x;
        x.id = id_of(t, i);
        x.hv_bus = bus_id(t.windings[0].bus.bus);
        x.lv_bus = bus_id(t.windings[1].bus.bus);
        x.sn_mva = t.windings[0].kva / 1000.0;
        x.in_service = t.enabled;
        net.transformers.push_back(x);
    }
    return net;
}

std::unique_ptr<GridModel> make_unbalanced_grid(EngineState& s, UNetwork net) { return std::make_unique<UnbalancedGrid>(s, std::move(net)); }

}  // namespace libgrid::detail
