// libgrid power flow: UPowerFlow, the unbalanced power flow compiled once and solved again
// (powerflow/unbalanced.hpp). The model and the solver are built in the constructor; a solve is
// the solver's iterations (plus the static control loop); result() makes the tables on demand,
// without a heap allocation per element beyond the result's own vectors (the currents go through
// one buffer; every vector is reserved at its final size).
#include <libgrid/powerflow/unbalanced.hpp>

#include <libgrid/core/errors.hpp>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace libgrid {
namespace {

constexpr double kRadToDeg = 180.0 / std::numbers::pi;

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

const std::string& element_base_name(const UNetwork& net, const UMathElement& e) {
    switch (e.kind) {
        case UElementKind::line: return net.lines[std::size_t(e.index)].name;
        case UElementKind::transformer: return net.transformers[std::size_t(e.index)].name;
        case UElementKind::load: return net.loads[std::size_t(e.index)].name;
        case UElementKind::capacitor: return net.capacitors[std::size_t(e.index)].name;
        case UElementKind::vsource: break;
    }
    return net.vsources[std::size_t(e.index)].name;
}

/// The network's bus of terminal t of an element (-1: no such terminal, or its ground side).
int terminal_bus(const UNetwork& net, const UMathElement& e, int t) {
    const std::size_t i = std::size_t(e.index);
    switch (e.kind) {
        case UElementKind::line: return t == 0 ? net.lines[i].bus1.bus : net.lines[i].bus2.bus;
        case UElementKind::transformer: {
            const auto& w = net.transformers[i].windings;
            return t < int(w.size()) ? w[std::size_t(t)].bus.bus : -1;
        }
        case UElementKind::load: return t == 0 ? net.loads[i].bus1.bus : -1;
        case UElementKind::capacitor: return t == 0 ? net.capacitors[i].bus1.bus : net.capacitors[i].bus2.bus;
        case UElementKind::vsource: return t == 0 ? net.vsources[i].bus1.bus : -1;
    }
    return -1;
}

cplx at(const std::vector<cplx>& v, int node) { return node >= 0 ? v[std::size_t(node)] : cplx(0.0, 0.0); }

/// Terminal currents of element `el` into `cur` (size >= its conductors): yprim v (minus a source's
/// Norton current), or a load's own law (`load` >= 0: its UMathLoad). As element_currents, no heap.
void element_currents_into(const UMathModel& m, int el, int load, const std::vector<cplx>& v, cplx* vt, cplx* cur) {
    const UMathElement& e = m.elements[std::size_t(el)];
    const int n = int(e.node.size());
    for (int k = 0; k < n; ++k) vt[k] = at(v, e.node[std::size_t(k)]);
    std::fill(cur, cur + n, cplx(0.0, 0.0));
    if (load >= 0) {
        const UMathLoad& ld = m.loads[std::size_t(load)];
        for (int k = 0; k < ld.nphases; ++k) {
            const int b = ld.delta ? (k + 1) % n : n - 1;
            const cplx ik = load_phase_current(ld, vt[k] - vt[b]);
            cur[k] += ik;
            cur[b] -= ik;
        }
        return;
    }
    for (int c = 0; c < n; ++c) {
        const cplx vc = vt[c];
        if (vc == cplx(0.0, 0.0)) continue;
        for (int r = 0; r < n; ++r) cur[r] += e.yprim(r, c) * vc;
    }
    if (e.i_norton.size() == n) {
        for (int r = 0; r < n; ++r) cur[r] -= e.i_norton(r);
    }
}

UElementResult element_result(const UNetwork& net, const UMathModel& m, int el, int load, const std::vector<cplx>& v,
                              std::vector<cplx>& buf) {
    const UMathElement& e = m.elements[std::size_t(el)];
    const int n = int(e.node.size());
    if (int(buf.size()) < 2 * n) buf.resize(std::size_t(2 * n));
    element_currents_into(m, el, load, v, buf.data() + n, buf.data());
    UElementResult r;
    r.name = kind_prefix(e.kind);
    r.name += element_base_name(net, e);
    r.kind = e.kind;
    r.index = e.index;
    r.terminals.resize(std::size_t(e.n_terminals));
    for (int t = 0; t < e.n_terminals; ++t) {
        UTerminalResult& tr = r.terminals[std::size_t(t)];
        tr.bus = terminal_bus(net, e, t);
        tr.nodes.resize(std::size_t(e.n_cond));
        tr.current_a.resize(std::size_t(e.n_cond));
        tr.power_kva.resize(std::size_t(e.n_cond));
        for (int c = 0; c < e.n_cond; ++c) {
            const int j = t * e.n_cond + c;
            const int node = e.node[std::size_t(j)];
            if (tr.bus < 0 && node >= 0) tr.bus = m.node_bus[std::size_t(node)];
            tr.nodes[std::size_t(c)] = node >= 0 ? m.node_phase[std::size_t(node)] : 0;
            tr.current_a[std::size_t(c)] = buf[std::size_t(j)];
            tr.power_kva[std::size_t(c)] = at(v, node) * std::conj(buf[std::size_t(j)]) / 1000.0;
            r.losses_kva += tr.power_kva[std::size_t(c)];
        }
    }
    if (e.kind != UElementKind::line && e.kind != UElementKind::transformer) r.losses_kva = {0.0, 0.0};
    return r;
}

UNodeResults node_results(const UMathModel& m, const std::vector<cplx>& v) {
    UNodeResults n;
    n.bus = m.node_bus;
    n.phase = m.node_phase;
    n.v_volts = v;
    const std::size_t nn = std::size_t(m.n_nodes);
    n.vm_volts.resize(nn);
    n.vm_pu.resize(nn);
    n.va_deg.resize(nn);
    for (std::size_t i = 0; i < nn; ++i) {
        n.vm_volts[i] = std::abs(v[i]);
        n.vm_pu[i] = n.vm_volts[i] / m.node_vbase_v[i];
        n.va_deg[i] = std::arg(v[i]) * kRadToDeg;
    }
    return n;
}

/// Symmetrical components of every bus with nodes 1, 2, 3 (one pass over the nodes).
std::vector<UUnbalance> unbalance_results(const UNetwork& net, const UMathModel& m, const std::vector<cplx>& v) {
    std::vector<std::array<int, 4>> bn(net.buses.size(), std::array<int, 4>{-1, -1, -1, -1});
    for (int i = 0; i < m.n_nodes; ++i) {
        const int p = m.node_phase[std::size_t(i)];
        if (p >= 1 && p <= 4) bn[std::size_t(m.node_bus[std::size_t(i)])][std::size_t(p - 1)] = i;
    }
    std::vector<UUnbalance> out;
    const cplx a = std::polar(1.0, 2.0 * std::numbers::pi / 3.0);
    for (std::size_t b = 0; b < bn.size(); ++b) {
        if (bn[b][0] < 0 || bn[b][1] < 0 || bn[b][2] < 0) continue;
        const cplx va = v[std::size_t(bn[b][0])], vb = v[std::size_t(bn[b][1])], vc = v[std::size_t(bn[b][2])];
        UUnbalance u;
        u.bus = int(b);
        u.v0_volts = std::abs(va + vb + vc) / 3.0;
        u.v1_volts = std::abs(va + a * vb + a * a * vc) / 3.0;
        u.v2_volts = std::abs(va + a * a * vb + a * vc) / 3.0;
        u.vuf_pct = u.v1_volts > 0.0 ? 100.0 * u.v2_volts / u.v1_volts : 0.0;
        if (bn[b][3] >= 0) u.v_neutral_volts = std::abs(v[std::size_t(bn[b][3])]);
        out.push_back(u);
    }
    return out;
}

std::vector<UTapResult> tap_results(const UNetwork& net) {
    std::vector<UTapResult> out;
    for (const URegControl& rc : net.regcontrols) {
        if (rc.transformer < 0 || rc.transformer >= int(net.transformers.size())) continue;
        const UTransformer& t = net.transformers[std::size_t(rc.transformer)];
        if (rc.winding < 1 || rc.winding > int(t.windings.size())) continue;
        const int ti = rc.tap_winding > 0 && rc.tap_winding <= int(t.windings.size()) ? rc.tap_winding : rc.winding;
        const UWinding& w = t.windings[std::size_t(ti - 1)];  // the winding whose tap moves
        UTapResult r;
        r.regcontrol = rc.name;
        r.transformer = t.name;
        r.winding = ti;
        r.tap_pu = w.tap;
        const double step = w.num_taps > 0 ? (w.max_tap - w.min_tap) / w.num_taps : 0.00625;
        r.position = int(std::lround((w.tap - 1.0) / step));
        out.push_back(r);
    }
    return out;
}

void fill_tables(UPfResult& res, const UNetwork& net, const UMathModel& m, const std::vector<cplx>& v) {
    res.node = node_results(m, v);
    std::vector<int> load_of(m.elements.size(), -1);
    for (std::size_t l = 0; l < m.loads.size(); ++l) load_of[std::size_t(m.loads[l].element)] = int(l);
    std::vector<cplx> buf(16);
    res.element.reserve(m.elements.size());
    for (std::size_t e = 0; e < m.elements.size(); ++e) {
        res.element.push_back(element_result(net, m, int(e), load_of[e], v, buf));
        const UElementResult& r = res.element.back();
        res.losses_kva += r.losses_kva;
        if (r.kind != UElementKind::vsource) continue;
        std::array<cplx, 3> phase{};
        for (std::size_t c = 0; c < r.terminals[0].power_kva.size() && c < 3; ++c) phase[c] = -r.terminals[0].power_kva[c];
        for (const cplx& s : r.terminals[0].power_kva) res.source_kva -= s;
        res.source_kva_phase.push_back(phase);
    }
    res.unbalance = unbalance_results(net, m, v);
    res.taps = tap_results(net);
    for (const UCapControl& cc : net.capcontrols) {
        if (cc.capacitor < 0 || cc.capacitor >= static_cast<int>(net.capacitors.size())) continue;
        const UCapacitor& c = net.capacitors[static_cast<std::size_t>(cc.capacitor)];
        res.capacitors.push_back(UCapState{cc.name, c.name, c.states});
    }
}

bool controls_active(const UNetwork& net, const UPfOptions& opt) {
    std::string mode = net.settings.control_mode;
    std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return opt.controls == UControlMode::static_ && mode != "off" &&
           (!net.regcontrols.empty() || !net.capcontrols.empty());
}

UMathModel prepared_model(UNetwork& net) {
    net.validate();
    const bool missing_base =
        std::any_of(net.buses.begin(), net.buses.end(), [](const UBus& b) { return std::isnan(b.kv_base_ll); });
    if (missing_base && !net.settings.voltage_bases_kv.empty()) calc_voltage_bases(net);
    return build_umath_model(net);
}

}  // namespace

UPowerFlow::UPowerFlow(UNetwork& net, const UPfOptions& opt) : net_(net), opt_(opt), m_(prepared_model(net)) {
    make_solver(opt_.method);
    v_ = m_.v_start;
}

UPowerFlow::~UPowerFlow() = default;

void UPowerFlow::make_solver(UMethod method) {
    reduced_ = opt_.reduced_fixed_point && (method == UMethod::fixed_point || method == UMethod::automatic) &&
               reduced_fixed_point_fits(m_);
    solver_ = reduced_ ? make_reduced_usolver(m_) : make_usolver(m_, method);
    status_.method_used = solver_->method();
}

UMethod UPowerFlow::method() const { return solver_->method(); }

void UPowerFlow::reset_start() { v_ = m_.v_start; }

void UPowerFlow::set_v(const std::vector<cplx>& v) {
    if (v.size() != v_.size())
        throw ValidationError("UPowerFlow::set_v: " + std::to_string(v.size()) + " voltages for " + std::to_string(v_.size()) + " nodes");
    std::copy(v.begin(), v.end(), v_.begin());
}

void UPowerFlow::update_loads() {
    for (UMathLoad& ld : m_.loads) {
        const ULoad& l = net_.loads.at(std::size_t(ld.load));
        ld.p_w = l.kw * 1000.0 / l.nphases;
        ld.q_var = l.kvar * 1000.0 / l.nphases;
        ld.q_fixed_var = l.base_kvar * 1000.0 / l.nphases;
        ld.y_nom = cplx(ld.p_w, -ld.q_var) / (ld.vbase_v * ld.vbase_v);  // Load.pas SetNominalLoad's Yeq
    }
}

void UPowerFlow::set_load_kw(int math_load, double kw, double kvar) {
    UMathLoad& ld = m_.loads[std::size_t(math_load)];
    ULoad& l = net_.loads[std::size_t(ld.load)];
    l.kw = kw;
    l.kvar = kvar;
    ld.p_w = kw * 1000.0 / l.nphases;
    ld.q_var = kvar * 1000.0 / l.nphases;
    ld.y_nom = cplx(ld.p_w, -ld.q_var) / (ld.vbase_v * ld.vbase_v);
}

void UPowerFlow::rebase_loads(int n_loads) {
    update_loads_yprim(m_, net_, n_loads);
    solver_->refactor();
}

/// One solve; with `auto`, when the sweep or Newton-Raphson does not converge, again from the
/// model's start with the fixed point, which then stays the solver (as run_unbalanced_pf).
USolveStats UPowerFlow::solve_once() {
    const USolveOptions so{opt_.tolerance, opt_.max_iterations};
    USolveStats st = solver_->solve(v_, so);
    if (st.converged || opt_.method != UMethod::automatic || solver_->method() == UMethod::fixed_point) return st;
    make_solver(UMethod::fixed_point);
    if (!reduced_) solver_ = make_usolver(m_, UMethod::fixed_point);
    v_ = m_.v_start;
    const int failed = st.iterations;
    st = solver_->solve(v_, so);
    st.iterations += failed;
    return st;
}

/// OpenDSS's static control loop (run_unbalanced_pf's): false when a solve failed or it did not settle.
bool UPowerFlow::control_loop() {
    UPfResult& res = status_;
    std::vector<UCapControlRun>& runs = runs_;  // the capacitor controls' state between control iterations
    runs.clear();                               // a fresh start each solve (capacity kept)
    std::vector<double>& before = taps_before_;
    std::vector<std::vector<int>>& cap_before = caps_before_;
    cap_before.resize(net_.capacitors.size());
    while (res.control_iterations < opt_.max_control_iterations) {
        before.clear();
        for (const UTransformer& t : net_.transformers)
            for (const UWinding& w : t.windings) before.push_back(w.tap);
        for (std::size_t c = 0; c < net_.capacitors.size(); ++c)
            cap_before[c].assign(net_.capacitors[c].states.begin(), net_.capacitors[c].states.end());
        if (step_static_controls(net_, m_, v_, runs) == 0) return true;
        bool changed = false;
        for (std::size_t c = 0; c < net_.capacitors.size(); ++c) {  // switched steps: the bank's yprim again
            if (net_.capacitors[c].states == cap_before[c] || !net_.capacitors[c].enabled) continue;
            update_capacitor_yprim(m_, net_, int(c));
            changed = true;
        }
        std::size_t k = 0;
        for (std::size_t t = 0; t < net_.transformers.size(); ++t) {
            bool moved = false;
            for (const UWinding& w : net_.transformers[t].windings) moved = (w.tap != before[k++]) || moved;
            if (!moved) continue;
            update_transformer_yprim(m_, net_, int(t));
            changed = true;
        }
        if (changed) solver_->refactor();
        const USolveStats st = solve_once();
        ++res.control_iterations;
        res.iterations = st.iterations;
        res.total_iterations += st.iterations;
        if (!st.converged) {
            res.message = "the solve after control iteration " + std::to_string(res.control_iterations) +
                          " did not converge in " + std::to_string(st.iterations) + " iterations";
            return false;
        }
    }
    UNetwork probe = net_;  // would a control still act? (then the control loop did not settle)
    std::vector<UCapControlRun> probe_runs = runs;
    if (step_static_controls(probe, m_, v_, probe_runs) > 0) {
        res.message = "regulator or capacitor controls did not settle in " +
                      std::to_string(opt_.max_control_iterations) + " control iterations";
        return false;
    }
    return true;
}

USolveStats UPowerFlow::solve() {
    status_ = UPfResult{};
    status_.method_used = solver_->method();
    USolveStats st = solve_once();
    status_.method_used = solver_->method();
    status_.iterations = st.iterations;
    status_.total_iterations = st.iterations;
    status_.control_iterations = 1;
    status_.converged = st.converged;
    if (!st.converged) {
        status_.message = "did not converge in " + std::to_string(st.iterations) + " iterations (max |dV| " +
                          std::to_string(st.max_dv_pu) + " p.u.)";
    } else if (controls_active(net_, opt_)) {
        status_.converged = control_loop();
        st.iterations = status_.iterations;
        st.converged = status_.converged;
    }
    return st;
}

UPfResult UPowerFlow::result() const {
    UPfResult res = status_;
    fill_tables(res, net_, m_, v_);
    return res;
}

}  // namespace libgrid
