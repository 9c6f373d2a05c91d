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
            if (list[i] == c) return collecting ? -1 : int(i);
        if (!collecting) throw ValidationError(who + ": a connection appeared after the grid was built");
        list.push_back(std::move(c));
        return -1;
    }
};

struct UnbalancedGrid final : GridModel {
    UnbalancedGrid(EngineState& st, UNetwork n) : s(st), unet(std::move(n)) {
        shapes.reserve(unet.loads.size());
        for (const ULoad& l : unet.loads) shapes.push_back(load_shape_of(unet, l));
    }

    EngineState& s;
    UNetwork unet;
    std::vector<const ULoadShape*> shapes;  ///< per load, nullptr: its kw / kvar at every step
    std::optional<UTimeStepper> st;
    bool loads_rebased = false;  ///< Y's loads set to the first solved step's (UTimeStepper::rebase_loads)
    std::vector<std::complex<double>> conn_v;  ///< per connection, p.u. (what device groups see)
    std::vector<std::complex<double>> conn_s;  ///< per connection, this step's injection (kW + j kvar via Injections)
    ConnectionList conns;

    // ---- rows (sized once) ----
    std::vector<double> row_node_v, row_node_vm, row_node_va, row_vuf, row_vn;
    std::vector<double> row_i_amps, row_br_loading, row_br_loss_kw;
    std::vector<double> row_br_loading_out, row_br_loss, row_i[4];
    std::vector<double> row_tr_p_kw, row_tr_q_kvar, row_tr[12];
    std::vector<double> row_src_p_kw, row_src_q_kvar, row_ext_p, row_ext_q, row_ext_ph[6];
    std::vector<double> row_load_p_kw, row_load_q_kvar, row_load_p, row_load_q;
    std::vector<double> row_balance_cond;  ///< 4 columns, MW
    std::vector<int> neutral_of;           ///< per node: the neutral node of its bus for a phase node, else -1
    std::vector<int> node_bus, node_cond;  ///< per node: st->node_bus / node_conductor (read every step)
    std::vector<std::size_t> vuf_hist;
    std::size_t vuf_count = 0;

    void validate() const override {
        unet.validate();
        for (const EvStationUnit& u : s.dev.ev_stations)
            if (u.station.params.strategy == EvStrategy::GridAware)
                throw ValidationError("ev " + std::to_string(u.id) + ": field 'strategy': grid_aware is not supported on an unbalanced network yet");
        if (s.opt.resume)
            throw ValidationError("simulation: field 'resume': checkpoints and resume are not supported on an unbalanced network yet "
                                  "(docs/reliability.md)");
    }
    bool is_unbalanced() const override { return true; }

    void rebuild() override {
        if (st) return;  // no event changes an unbalanced network's topology (only loads switch)
        UPfOptions po;
        po.tolerance = std::min(1e-9, s.opt.tolerance);
        po.max_iterations = std::max(s.opt.max_iterations, 100);
        // the groups bind twice: once to list the connections, then to the connections' numbers
        conns.init(unet);
        s.ix.connections = &conns;
        s.ix.n_nodes = 0;
        for (auto& g : s.groups) g->bind(s.ix);
        conns.collecting = false;
        st.emplace(unet, conns.list, po);
        conn_v.assign(std::size_t(st->n_connections()), std::complex<double>(1.0, 0.0));
        conn_s.assign(std::size_t(st->n_connections()), 0.0);
        s.ix.n_nodes = st->n_connections();
        for (auto& g : s.groups) g->bind(s.ix);
    }
    void topology_changed() override {}
    void resync() override {}
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
        for (std::size_t c = 0; c < conn_s.size(); ++c) st->set_connection_power(int(c), conn_s[c].real(), conn_s[c].imag());
    }

    /// As the balanced grid: solve, then re-evaluate voltage-dependent devices until they settle.
    SolveStatus solve_with_controls(int& iters, bool& settled) override {
        for (std::size_t l = 0; l < unet.loads.size(); ++l) st->set_load(int(l), s.load_p_kw[l], s.load_q_kvar[l]);
        if (!loads_rebased) {  // Y with the loads at the first step's kW, not the network's: fewer iterations
            st->rebase_loads();
            loads_rebased = true;
        }
        SolveStatus out;
        for (int round = 0;; ++round) {
            assemble_injections();
            const USolveStats r = st->solve();
            for (std::size_t c = 0; c < conn_v.size(); ++c) conn_v[c] = st->connection_voltage_pu(int(c));
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
        return out;
    }

    // ---- results ----
    void size_rows() override;
    std::size_t planned_columns() const override {
        const std::size_t nn = std::size_t(st->n_nodes()), nb = std::size_t(st->n_branches());
        return 3 * nn + 2 * unet.buses.size() + 6 * nb + 12 * unet.transformers.size() + 8 * unet.vsources.size() + 2 * unet.loads.size() +
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
    void save_state(StateOut&) override { throw ValidationError("simulation: checkpoints are not supported on an unbalanced network yet"); }
    void restore_state(StateIn&) override { throw ValidationError("simulation: checkpoints are not supported on an unbalanced network yet"); }
    void finish() override {
        if (vuf_count == 0) return;
        // vuf_p95_percent: the upper edge of the smallest bin with >= 95 % of the bus-steps at or below it
        const std::size_t want = (vuf_count * 95 + 99) / 100;
        std::size_t acc = 0, b = 0;
        for (; b + 1 < kVufBins && acc + vuf_hist[b] < want; ++b) acc += vuf_hist[b];
        s.sum.vuf_p95_percent = double(b + 1) * kVufBinPercent;
    }

    void record_nodes(LocalTime t, double dt_h, bool converged);
    void record_branches(LocalTime t, double dt_h, bool converged, GridStep& g);
    void declare_nodes();
    void declare_branches();
};

void UnbalancedGrid::size_rows() {
    const std::size_t nn = std::size_t(st->n_nodes()), nb = std::size_t(st->n_branches()), nt = unet.transformers.size(),
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
    row_src_p_kw.assign(3 * nv, 0.0);
    row_src_q_kvar.assign(3 * nv, 0.0);
    row_ext_p.assign(nv, 0.0);
    row_ext_q.assign(nv, 0.0);
    for (auto& r : row_ext_ph) r.assign(nv, 0.0);
    for (auto* r : {&row_load_p_kw, &row_load_q_kvar, &row_load_p, &row_load_q}) r->assign(nl, 0.0);
    row_balance_cond.assign(4, 0.0);
    neutral_of.assign(nn, -1);
    node_bus.assign(nn, -1);
    node_cond.assign(nn, 0);
    for (std::size_t i = 0; i < nn; ++i) {
        node_bus[i] = st->node_bus(int(i));
        node_cond[i] = st->node_conductor(int(i));
    }
    for (std::size_t i = 0; i < nn;) {  // the nodes of a bus are contiguous (model order)
        std::size_t j = i;
        int neutral = -1;
        for (; j < nn && st->node_bus(int(j)) == st->node_bus(int(i)); ++j)
            if (st->node_conductor(int(j)) == 4) neutral = int(j);
        for (std::size_t k = i; k < j; ++k)
            if (st->node_conductor(int(k)) >= 1 && st->node_conductor(int(k)) <= 3) neutral_of[k] = neutral;
        i = j;
    }
    vuf_hist.assign(kVufBins, 0);
    vuf_count = 0;
    s.sum.max_vuf_percent = 0.0;
    s.sum.vuf_p95_percent = kNaN;
    s.sum.max_neutral_current_a = kNaN;  // stays NaN where no branch has a neutral conductor
    s.sum.unbalanced = true;
}

void UnbalancedGrid::record_network(LocalTime t, double dt_h, bool converged, GridStep& g) {
    record_nodes(t, dt_h, converged);
    record_branches(t, dt_h, converged, g);
    if (!converged) return;
    SimulationSummary& sum = s.sum;
    // the VUF's distribution over three-phase bus-steps (vuf_p95_percent at the end)
    for (double v : row_vuf) {
        if (!std::isfinite(v)) continue;
        sum.max_vuf_percent = std::max(sum.max_vuf_percent, v);
        ++vuf_hist[std::min(kVufBins - 1, std::size_t(std::max(v, 0.0) / kVufBinPercent))];
        ++vuf_count;
    }
}

/// Node rows; min / max and violations on phase-to-neutral voltages (to ground where no neutral).
void UnbalancedGrid::record_nodes(LocalTime t, double dt_h, bool converged) {
    if (s.w)
        st->node_rows(row_node_v.data(), row_node_vm.data(), row_node_va.data());
    else
        st->node_rows(row_node_v.data(), row_node_vm.data());  // no recorder: no angles (atan2 was ~13 % of a step)
    const std::vector<std::complex<double>>& vc = st->node_voltages();
    st->vuf_rows(row_vuf.data());
    if (s.w) st->neutral_rows(row_vn.data());  // recorded only
    if (!converged) return;
    SimulationSummary& sum = s.sum;
    std::size_t violations = 0;
    int last_bus = -1;
    bool bus_violates = false;
    const std::size_t nn = row_node_v.size();
    for (std::size_t i = 0; i <= nn; ++i) {
        const int bus = i < nn ? node_bus[i] : -2;
        if (bus != last_bus) {  // nodes of a bus are contiguous
            violations += bus_violates;
            bus_violates = false;
            last_bus = bus;
        }
        if (i == nn || node_cond[i] < 1 || node_cond[i] > 3) continue;
        double vm = row_node_vm[i];  // to ground where the bus has no neutral node
        if (neutral_of[i] >= 0) {
            const std::complex<double> v = vc[i] - vc[std::size_t(neutral_of[i])];
            vm = std::sqrt(std::norm(v)) / st->node_vbase_volts(int(i));
        }
        if (!std::isfinite(vm)) continue;
        sum.min_vm_pu = std::min(sum.min_vm_pu, vm);
        sum.max_vm_pu = std::max(sum.max_vm_pu, vm);
        const Bus& b = s.net.buses[std::size_t(bus)];
        if (vm < b.vmin_pu || vm > b.vmax_pu) {
            if (!bus_violates) s.note_violation(t, vm > b.vmax_pu ? "voltage_high" : "voltage_low", b.id, vm);
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
        if (l > s.opt.loading_limit_percent)
            s.note_violation(t, tr ? "trafo_overload" : "line_overload", tr ? id_of(unet.transformers[e], e) : id_of(unet.lines[e], e), l);
        const double i_n = row_i_amps[4 * b + 3];
        if (std::isfinite(i_n)) sum.max_neutral_current_a = std::isnan(sum.max_neutral_current_a) ? i_n : std::max(sum.max_neutral_current_a, i_n);
    }
    g.losses_mw = line + trafo;
    g.source_losses_mw = 0.0;
    if (!converged) return;
    sum.losses_line_mwh += line * dt_h;
    sum.losses_trafo_load_mwh += trafo * dt_h;  // whole transformer losses (not split on an unbalanced grid)
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
    const std::size_t nn = std::size_t(st->n_nodes());
    std::vector<std::int64_t> ids, bus;
    std::vector<std::string> bus_name, phase;
    std::vector<double> vbase;
    for (std::size_t i = 0; i < nn; ++i) {
        const std::size_t b = std::size_t(st->node_bus(int(i)));
        const int c = st->node_conductor(int(i));
        ids.push_back(std::int64_t(i));
        bus.push_back(id_of(unet.buses[b], b));
        bus_name.push_back(unet.buses[b].name);
        phase.push_back(c >= 1 && c <= 4 ? phase_name(c) : std::to_string(c));
        vbase.push_back(st->node_vbase_volts(int(i)));
    }
    w->write_ids("node", ids);
    w->write_int_vector("node/bus", bus);
    w->write_strings("node/bus_name", bus_name);
    w->write_strings("node/phase", phase);
    w->write_vector("node/vbase_volts", vbase, "V");
    s.record_series("node", "v_volts", "V", row_node_v);
    s.record_series("node", "vm_pu", "p.u.", row_node_vm);
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
    return net;
}

std::unique_ptr<GridModel> make_unbalanced_grid(EngineState& s, UNetwork net) { return std::make_unique<UnbalancedGrid>(s, std::move(net)); }

}  // namespace libgrid::detail
