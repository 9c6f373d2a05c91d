// libgrid power flow: the unbalanced power flow, one call (powerflow/unbalanced.hpp).
//
// build the nodal model (math/umath) -> make the solver (solvers/usolvers) -> solve from the
// model's start -> with static controls: step the regulators (ucontrols.cpp), update the moved
// transformers' yprims, refactor, re-solve from the last answer, until no regulator moves
// (OpenDSS's SolveSnap loop) -> results per node, element terminal and three-phase bus.
#include <libgrid/powerflow/unbalanced.hpp>

#include <libgrid/core/errors.hpp>

#include <Eigen/SparseLU>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace libgrid {
namespace {

constexpr double kRadToDeg = 180.0 / std::numbers::pi;

cplx node_voltage(const std::vector<cplx>& v, int node) { return node >= 0 ? v[node] : cplx{0.0, 0.0}; }

const char* kind_prefix(UElementKind k) {
    switch (k) {
        case UElementKind::line: return "line.";
        case UElementKind::transformer: return "transformer.";
        case UElementKind::load: return "load.";
        case UElementKind::capacitor: return "capacitor.";
        case UElementKind::vsource: return "vsource.";
    }
    return "";
}

std::string element_name(const UNetwork& net, const UMathElement& e) {
    switch (e.kind) {
        case UElementKind::line: return kind_prefix(e.kind) + net.lines[e.index].name;
        case UElementKind::transformer: return kind_prefix(e.kind) + net.transformers[e.index].name;
        case UElementKind::load: return kind_prefix(e.kind) + net.loads[e.index].name;
        case UElementKind::capacitor: return kind_prefix(e.kind) + net.capacitors[e.index].name;
        case UElementKind::vsource: return kind_prefix(e.kind) + net.vsources[e.index].name;
    }
    return "";
}

/// The network's bus of terminal t of an element (-1 when the element has no such terminal or it
/// is the ground side, e.g. a Vsource's terminal 2).
int terminal_bus(const UNetwork& net, const UMathElement& e, int t) {
    switch (e.kind) {
        case UElementKind::line: return t == 0 ? net.lines[e.index].bus1.bus : net.lines[e.index].bus2.bus;
        case UElementKind::transformer: {
            const auto& w = net.transformers[e.index].windings;
            return t < static_cast<int>(w.size()) ? w[t].bus.bus : -1;
        }
        case UElementKind::load: return t == 0 ? net.loads[e.index].bus1.bus : -1;
        case UElementKind::capacitor:
            return t == 0 ? net.capacitors[e.index].bus1.bus : net.capacitors[e.index].bus2.bus;
        case UElementKind::vsource: return t == 0 ? net.vsources[e.index].bus1.bus : -1;
    }
    return -1;
}

/// Currents and powers per conductor of one element. element_currents gives a load's currents from
/// its law (Load.pas), not its nominal yprim alone, and a Vsource's net of its Norton current.
UElementResult element_result(const UNetwork& net, const UMathModel& m, int element, const std::vector<cplx>& v) {
    const UMathElement& e = m.elements[element];
    UElementResult r;
    r.name = element_name(net, e);
    r.kind = e.kind;
    r.index = e.index;
    const Eigen::VectorXcd i = element_currents(m, element, v);
    for (int t = 0; t < e.n_terminals; ++t) {
        UTerminalResult tr;
        tr.bus = terminal_bus(net, e, t);
        for (int c = 0; c < e.n_cond; ++c) {
            const int j = t * e.n_cond + c;
            const int node = e.node[j];
            if (tr.bus < 0 && node >= 0) tr.bus = m.node_bus[node];
            tr.nodes.push_back(node >= 0 ? m.node_phase[node] : 0);
            tr.current_a.push_back(i[j]);
            tr.power_kva.push_back(node_voltage(v, node) * std::conj(i[j]) / 1000.0);
            r.losses_kva += tr.power_kva.back();
        }
        r.terminals.push_back(std::move(tr));
    }
    if (e.kind != UElementKind::line && e.kind != UElementKind::transformer) r.losses_kva = {0.0, 0.0};
    return r;
}

UNodeResults node_results(const UMathModel& m, const std::vector<cplx>& v) {
    UNodeResults n;
    n.bus = m.node_bus;
    n.phase = m.node_phase;
    n.v_volts = v;
    for (int i = 0; i < m.n_nodes; ++i) {
        n.vm_volts.push_back(std::abs(v[i]));
        n.vm_pu.push_back(std::abs(v[i]) / m.node_vbase_v[i]);
        n.va_deg.push_back(std::arg(v[i]) * kRadToDeg);
    }
    return n;
}

/// Symmetrical components of every bus with nodes 1, 2, 3.
std::vector<UUnbalance> unbalance_results(const UNetwork& net, const UMathModel& m, const std::vector<cplx>& v) {
    std::vector<UUnbalance> out;
    const cplx a = std::polar(1.0, 2.0 * std::numbers::pi / 3.0);
    for (int b = 0; b < static_cast<int>(net.buses.size()); ++b) {
        const int na = m.bus_node(b, 1), nb = m.bus_node(b, 2), nc = m.bus_node(b, 3);
        if (na < 0 || nb < 0 || nc < 0) continue;
        const cplx va = v[na], vb = v[nb], vc = v[nc];
        UUnbalance u;
        u.bus = b;
        u.v0_volts = std::abs(va + vb + vc) / 3.0;
        u.v1_volts = std::abs(va + a * vb + a * a * vc) / 3.0;
        u.v2_volts = std::abs(va + a * a * vb + a * vc) / 3.0;
        u.vuf_pct = u.v1_volts > 0.0 ? 100.0 * u.v2_volts / u.v1_volts : 0.0;
        const int nn = m.bus_node(b, 4);
        if (nn >= 0) u.v_neutral_volts = std::abs(v[nn]);
        out.push_back(u);
    }
    return out;
}

std::vector<UTapResult> tap_results(const UNetwork& net) {
    std::vector<UTapResult> out;
    for (const URegControl& rc : net.regcontrols) {
        if (rc.transformer < 0 || rc.transformer >= static_cast<int>(net.transformers.size())) continue;
        const UTransformer& t = net.transformers[rc.transformer];
        if (rc.winding < 1 || rc.winding > static_cast<int>(t.windings.size())) continue;
        const UWinding& w = t.windings[rc.winding - 1];
        UTapResult r;
        r.regcontrol = rc.name;
        r.transformer = t.name;
        r.winding = rc.winding;
        r.tap_pu = w.tap;
        const double step = w.num_taps > 0 ? (w.max_tap - w.min_tap) / w.num_taps : 0.00625;
        r.position = static_cast<int>(std::lround((w.tap - 1.0) / step));
        out.push_back(r);
    }
    return out;
}

void fill_results(UPfResult& res, const UNetwork& net, const UMathModel& m, const std::vector<cplx>& v) {
    res.node = node_results(m, v);
    for (int e = 0; e < static_cast<int>(m.elements.size()); ++e) {
        res.element.push_back(element_result(net, m, e, v));
        const UElementResult& r = res.element.back();
        res.losses_kva += r.losses_kva;
        if (r.kind != UElementKind::vsource) continue;
        std::array<cplx, 3> phase{};
        for (std::size_t c = 0; c < r.terminals[0].power_kva.size() && c < 3; ++c) {
            phase[c] = -r.terminals[0].power_kva[c];
        }
        for (const cplx& s : r.terminals[0].power_kva) res.source_kva -= s;
        res.source_kva_phase.push_back(phase);
    }
    res.unbalance = unbalance_results(net, m, v);
    res.taps = tap_results(net);
    for (const UCapControl& cc : net.capcontrols) {  // added (h8)
        if (cc.capacitor < 0 || cc.capacitor >= static_cast<int>(net.capacitors.size())) continue;
        const UCapacitor& c = net.capacitors[static_cast<std::size_t>(cc.capacitor)];
        res.capacitors.push_back(UCapState{cc.name, c.name, c.states});
    }
}

struct TapSnapshot {
    std::vector<std::vector<double>> tap;
    std::vector<std::vector<int>> cap_states;  ///< added (h8)
    explicit TapSnapshot(const UNetwork& net) {
        for (const UCapacitor& c : net.capacitors) cap_states.push_back(c.states);
        for (const UTransformer& t : net.transformers) {
            std::vector<double> w;
            for (const UWinding& x : t.windings) w.push_back(x.tap);
            tap.push_back(std::move(w));
        }
    }
};

/// Added (h8): the capacitors whose steps a control switched get their yprim (and Y) again.
bool update_switched_capacitors(UMathModel& m, const UNetwork& net, const TapSnapshot& before) {
    bool changed = false;
    for (std::size_t c = 0; c < net.capacitors.size(); ++c) {
        if (net.capacitors[c].states == before.cap_states[c] || !net.capacitors[c].enabled) continue;
        update_capacitor_yprim(m, net, static_cast<int>(c));
        changed = true;
    }
    return changed;
}

/// One solve. With `auto`, when the sweep or Newton-Raphson does not get there (NR stalls above
/// tight tolerances on feeders with near-zero impedances: IEEE 123 at 1e-9), again from the
/// model's start with OpenDSS's own method, the fixed point, which then stays the solver.
USolveStats solve_auto(std::unique_ptr<USolver>& solver, const UMathModel& m, std::vector<cplx>& v,
                       const USolveOptions& so, const UPfOptions& opt, UPfResult& res) {
    USolveStats st = solver->solve(v, so);
    if (st.converged || opt.method != UMethod::automatic || solver->method() == UMethod::fixed_point) return st;
    solver = make_usolver(m, UMethod::fixed_point);
    res.method_used = UMethod::fixed_point;
    v = m.v_start;
    const int failed = st.iterations;
    st = solver->solve(v, so);
    st.iterations += failed;
    return st;
}

/// The static control loop: returns false when a solve failed (res.message says why).
bool control_loop(UPfResult& res, UNetwork& net, UMathModel& m, std::unique_ptr<USolver>& solver, std::vector<cplx>& v,
                  const UPfOptions& opt, const USolveOptions& so) {
    std::vector<UCapControlRun> runs;  // capacitor controls' state between iterations (h8)
    while (res.control_iterations < opt.max_control_iterations) {
        const TapSnapshot before(net);
        if (step_static_controls(net, m, v, runs) == 0) return true;
        bool changed = update_switched_capacitors(m, net, before);
        for (std::size_t t = 0; t < net.transformers.size(); ++t) {
            for (std::size_t w = 0; w < net.transformers[t].windings.size(); ++w) {
                if (net.transformers[t].windings[w].tap == before.tap[t][w]) continue;
                update_transformer_yprim(m, net, static_cast<int>(t));
                changed = true;
                break;
            }
        }
        if (changed) solver->refactor();
        const USolveStats st = solve_auto(solver, m, v, so, opt, res);
        ++res.control_iterations;
        res.iterations = st.iterations;
        res.total_iterations += st.iterations;
        if (!st.converged) {
            res.message = "the solve after control iteration " + std::to_string(res.control_iterations) +
                          " did not converge in " + std::to_string(st.iterations) + " iterations";
            return false;
        }
    }
    UNetwork probe = net;  // would a regulator still move? (then the control loop did not settle)
    std::vector<UCapControlRun> probe_runs = runs;
    if (step_static_controls(probe, m, v, probe_runs) > 0) {
        res.message = "regulator controls did not settle in " + std::to_string(opt.max_control_iterations) +
                      " control iterations";
        return false;
    }
    return true;
}

bool controls_active(const UNetwork& net, const UPfOptions& opt) {
    std::string mode = net.settings.control_mode;
    std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char c) { return std::tolower(c); });
    return opt.controls == UControlMode::static_ && mode != "off" &&
           (!net.regcontrols.empty() || !net.capcontrols.empty());
}

}  // namespace

UPfResult run_unbalanced_pf(UNetwork& net, const UPfOptions& opt) {
    net.validate();
    const bool missing_base = std::any_of(net.buses.begin(), net.buses.end(),
                                          [](const UBus& b) { return std::isnan(b.kv_base_ll); });
    if (missing_base && !net.settings.voltage_bases_kv.empty()) calc_voltage_bases(net);
    UMathModel m = build_umath_model(net);
    std::unique_ptr<USolver> solver = make_usolver(m, opt.method);
    UPfResult res;
    res.method_used = solver->method();
    std::vector<cplx> v = m.v_start;
    const USolveOptions so{opt.tolerance, opt.max_iterations};
    const USolveStats st = solve_auto(solver, m, v, so, opt, res);
    res.iterations = st.iterations;
    res.total_iterations = st.iterations;
    res.control_iterations = 1;
    res.converged = st.converged;
    if (!st.converged) {
        res.message = "did not converge in " + std::to_string(st.iterations) + " iterations (max |dV| " +
                      std::to_string(st.max_dv_pu) + " p.u.)";
    } else if (controls_active(net, opt)) {
        res.converged = control_loop(res, net, m, solver, v, opt, so);
    }
    fill_results(res, net, m, v);
    return res;
}

void calc_voltage_bases(UNetwork& net) {
    if (net.settings.voltage_bases_kv.empty()) return;
    // OpenDSS's SolveZeroLoadSnapShot: the series elements and the sources only (no loads, no
    // shunt capacitors, no line capacitance), one direct solve.
    UNetwork noload = net;
    for (ULoad& l : noload.loads) l.enabled = false;
    for (UCapacitor& c : noload.capacitors) c.enabled = false;
    for (ULine& l : noload.lines) std::fill(l.c_nf_per_km.begin(), l.c_nf_per_km.end(), 0.0);
    for (UBus& b : noload.buses) {
        if (std::isnan(b.kv_base_ll)) b.kv_base_ll = 1.0;  // the model wants a base; not used here
    }
    const UMathModel m = build_umath_model(noload);
    Eigen::SparseLU<Eigen::SparseMatrix<cplx>> lu(m.Y);
    if (lu.info() != Eigen::Success) throw SolverError("calc_voltage_bases: the no-load admittance matrix is singular");
    const Eigen::Map<const Eigen::VectorXcd> rhs(m.i_source.data(), static_cast<Eigen::Index>(m.i_source.size()));
    const Eigen::VectorXcd v = lu.solve(rhs);
    std::vector<int> first_node(net.buses.size(), -1);  // OpenDSS: the bus's RefNo[1]; here its lowest node number
    for (int i = 0; i < m.n_nodes; ++i) {
        int& f = first_node[m.node_bus[i]];
        if (f < 0 || m.node_phase[i] < m.node_phase[f]) f = i;
    }
    for (int b = 0; b < static_cast<int>(net.buses.size()); ++b) {
        const int first = first_node[b];
        if (first < 0) continue;
        const double kv_ll = std::abs(v[first]) * 0.001732;  // OpenDSS's own constant
        double best = 0.0, best_diff = 1e50;
        for (double base : net.settings.voltage_bases_kv) {
            if (base == 0.0) break;
            const double diff = std::abs(1.0 - kv_ll / base);
            if (diff < best_diff) {
                best_diff = diff;
                best = base;
            }
        }
        net.buses[b].kv_base_ll = best;
    }
}

}  // namespace libgrid
