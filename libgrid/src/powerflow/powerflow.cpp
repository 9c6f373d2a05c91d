// libgrid: the one-call power flow (run_power_flow): model, solver dispatch, Q limits, controls
// (on-load tap changers, switched shunts) and results in the network's own tables and units.
#include <libgrid/core/errors.hpp>
#include <libgrid/math/output.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <unordered_map>

namespace libgrid {
namespace {
constexpr double kRad2Deg = 180.0 / std::numbers::pi;
void gen_q_sharing(const Network& net, const MathModel& m, const std::vector<cplx>& src, std::vector<double>& gen_q);
}  // namespace

bool sweep_applicable(const MathModel& m) {
    if (m.has_droop()) return false;  // the frequency is an unknown: Newton-Raphson
    std::vector<int> slacks(m.n_islands, 0);
    for (int i = 0; i < m.n; ++i) {
        if (m.node_type[i] == BusType::PV) return false;
        if (m.node_type[i] == BusType::Slack && ++slacks[m.node_island[i]] > 1) return false;
    }
    for (char r : m.island_radial)
        if (!r) return false;
    return true;
}

std::vector<cplx> initial_voltages(const Network& net, const MathModel& m, bool flat, bool dc_angles) {
    std::vector<cplx> V(m.n);
    bool any_angle = false;
    for (int i = 0; i < m.n; ++i) {
        const Bus& b = net.buses[m.node_bus[i]];
        any_angle = any_angle || b.va_deg != 0.0;
        V[i] = flat ? cplx(1.0, 0.0) : std::polar(b.vm_pu, b.va_deg / kRad2Deg);
        if (m.node_type[i] == BusType::Slack) V[i] = m.v_set[i];
        else if (m.node_type[i] == BusType::PV && !m.q_fixed_pv[i]) V[i] = std::polar(m.v_set[i].real(), std::arg(V[i]));
    }
    // Networks with phase-shifting transformers and no angles in the case: start the angles from
    // a DC power flow (as pandapower does), so that 30 or 150 degree shifts do not slow NR down.
    bool shifts = false;
    for (const BranchY& b : m.branches) shifts = shifts || std::arg(b.tap) != 0.0;
    if (dc_angles && (flat || !any_angle) && shifts && m.n > 0) {
        try {
            DcSolver dc;
            dc.analyze(m);
            std::vector<cplx> Vdc;
            if (dc.solve(m, Vdc).converged)
                for (int i = 0; i < m.n; ++i)
                    if (m.node_type[i] != BusType::Slack) V[i] = std::polar(std::abs(V[i]), std::arg(Vdc[i]));
        } catch (const SolverError&) {
        }
    }
    return V;
}

/// One solve of the math model by the chosen method (no controls, no Q limits). Droop islands:
/// the frequency deviations go to m.island_df_hz, the islands that collapsed to `collapsed`.
SolveStatus solve_once(MathModel& m, std::vector<cplx>& V, const PowerFlowOptions& opt, Method method,
                       std::vector<char>* collapsed = nullptr) {
    if (collapsed) collapsed->clear();
    switch (method) {
        case Method::NewtonRaphson: {
            NewtonRaphsonSolver nr(opt.linear_solver);
            nr.analyze(m);
            const SolveStatus st = nr.solve(m, V, opt.tolerance, opt.max_iterations);
            if (m.has_droop()) {
                m.island_df_hz = nr.island_df_hz();
                if (collapsed) *collapsed = nr.island_collapsed();
            }
            return st;
        }
        case Method::FastDecoupledXB: {
            FastDecoupledSolver fd;
            fd.analyze(m);
            return fd.solve(m, V, opt.tolerance, std::max(opt.max_iterations, 100));
        }
        case Method::DC: {
            DcSolver dc;
            dc.analyze(m);
            return dc.solve(m, V);
        }
        case Method::Sweep: {
            SweepSolver sw;
            sw.analyze(m);
            return sw.solve(m, V, opt.tolerance, std::max(opt.max_iterations, 100));
        }
        case Method::Auto: break;
    }
    return {};
}

bool apply_discrete_controls(Network& net, MathModel& m, const std::vector<cplx>& V, std::vector<std::pair<int, BranchY>>* changed_branches) {
    bool changed = false;
    // On-load tap changers: one step per round towards the band. A step is taken only if it brings
    // the controlled voltage nearer its set point, estimated from the ratio change (the voltage
    // behind the transformer scales with 1 / |ratio|): with a band narrower than one step the tap
    // then settles at the nearest position instead of hunting. A transformer without a tap changer
    // or open at one end does not regulate.
    for (std::size_t k = 0; k < net.transformers.size(); ++k) {
        Transformer& t = net.transformers[k];
        if (!t.oltc || !t.in_service || m.trafo_slot[k] < 0) continue;
        if (t.tap_side == TapSide::None || t.tap_step_percent == 0.0) continue;
        BranchY& b = m.branches[m.trafo_slot[k]];
        if (b.f < 0 || b.t < 0) continue;
        const int node = m.bus_node[net.bus_index(t.oltc_bus >= 0 ? t.oltc_bus : t.lv_bus)];
        if (node < 0) continue;
        const double v = std::abs(V[node]);
        int dir = 0;  // +1: raise the controlled voltage
        if (v < t.oltc_vm_pu - t.oltc_band_pu / 2) dir = +1;
        else if (v > t.oltc_vm_pu + t.oltc_band_pu / 2) dir = -1;
        if (!dir) continue;
        // Raising the tap on the HV side raises the HV winding voltage and lowers the LV
        // voltage; on the LV side it raises it (for a positive step percent).
        const int step = (t.tap_side == TapSide::HV ? -dir : dir) * (t.tap_step_percent >= 0 ? 1 : -1);
        const int pos = std::clamp(t.tap_pos + step, t.tap_min, t.tap_max);
        if (pos == t.tap_pos) continue;
        const int old_pos = t.tap_pos;
        t.tap_pos = pos;
        BranchY nb = transformer_admittance(net, t, net.buses[net.bus_index(t.hv_bus)].vn_kv, net.buses[net.bus_index(t.lv_bus)].vn_kv);
        const double v_new = v * std::abs(b.tap) / std::abs(nb.tap);
        if (std::abs(v_new - t.oltc_vm_pu) >= std::abs(v - t.oltc_vm_pu)) {
            t.tap_pos = old_pos;  // the step would overshoot further than it is now
            continue;
        }
        nb.f = b.f;
        nb.t = b.t;
        nb.index = b.index;
        nb.kind = b.kind;
        const BranchY before = b;
        b = nb;
        update_ybus_branch(m, before, b);  // four entries; the pattern stays
        if (changed_branches) changed_branches->emplace_back(m.trafo_slot[k], before);
        changed = true;
    }
    // Switched shunts: one step per round towards [v_low, v_high]. A capacitor (q < 0) raises the
    // voltage with each step in service, a reactor (q > 0) lowers it.
    for (Shunt& s : net.shunts) {
        if (!s.switched || !s.in_service || s.q_mvar == 0.0) continue;
        const int node = m.bus_node[net.bus_index(s.bus)];
        if (node < 0) continue;
        const double v = std::abs(V[node]);
        const int raise = s.q_mvar < 0.0 ? +1 : -1;
        int dir = 0;
        if (v < s.v_low_pu) dir = raise;
        else if (v > s.v_high_pu) dir = -raise;
        if (dir && s.step + dir >= 0 && s.step + dir <= s.max_step) {
            s.step += dir;
            changed = true;
        }
    }
    return changed;
}

void update_ybus_branch(MathModel& m, const BranchY& before, const BranchY& after) {
    if (after.f >= 0 && after.t >= 0) {
        m.Ybus.coeffRef(after.f, after.f) += after.yff - before.yff;
        m.Ybus.coeffRef(after.f, after.t) += after.yft - before.yft;
        m.Ybus.coeffRef(after.t, after.f) += after.ytf - before.ytf;
        m.Ybus.coeffRef(after.t, after.t) += after.ytt - before.ytt;
    } else if (after.f >= 0) {
        m.Ybus.coeffRef(after.f, after.f) += after.yff - before.yff;
    } else if (after.t >= 0) {
        m.Ybus.coeffRef(after.t, after.t) += after.ytt - before.ytt;
    }
}

namespace {
/// Controlled voltages left outside their band after the controls settled (tap or step limit, or
/// a band narrower than one tap step), for the result message; empty when all are in band.
std::string controls_out_of_band(const Network& net, const MathModel& m, const std::vector<cplx>& V) {
    std::string msg;
    auto add = [&](const std::string& s) { msg += (msg.empty() ? "" : "; ") + s; };
    char buf[256];
    for (std::size_t k = 0; k < net.transformers.size(); ++k) {
        const Transformer& t = net.transformers[k];
        if (!t.oltc || !t.in_service || m.trafo_slot[k] < 0 || t.tap_side == TapSide::None || t.tap_step_percent == 0.0) continue;
        const BranchY& b = m.branches[m.trafo_slot[k]];
        const Id bus = t.oltc_bus >= 0 ? t.oltc_bus : t.lv_bus;
        const int node = m.bus_node[net.bus_index(bus)];
        if (b.f < 0 || b.t < 0 || node < 0) continue;
        const double v = std::abs(V[node]), lo = t.oltc_vm_pu - t.oltc_band_pu / 2, hi = t.oltc_vm_pu + t.oltc_band_pu / 2;
        if (v >= lo && v <= hi) continue;
        const int dir = v < lo ? +1 : -1;
        const int step = (t.tap_side == TapSide::HV ? -dir : dir) * (t.tap_step_percent >= 0 ? 1 : -1);
        const bool at_limit = (step > 0 && t.tap_pos >= t.tap_max) || (step < 0 && t.tap_pos <= t.tap_min);
        std::snprintf(buf, sizeof buf, "OLTC of transformer %lld: |V| = %.4f p.u. at bus %lld outside [%.4f, %.4f] at tap %d (%s)",
                      static_cast<long long>(t.id), v, static_cast<long long>(bus), lo, hi, t.tap_pos,
                      at_limit ? "tap limit" : "band narrower than one tap step");
        add(buf);
    }
    for (const Shunt& s : net.shunts) {
        if (!s.switched || !s.in_service || s.q_mvar == 0.0) continue;
        const int node = m.bus_node[net.bus_index(s.bus)];
        if (node < 0) continue;
        const double v = std::abs(V[node]);
        if (v >= s.v_low_pu && v <= s.v_high_pu) continue;
        std::snprintf(buf, sizeof buf, "switched shunt %lld: |V| = %.4f p.u. outside [%.4f, %.4f] at step %d of %d",
                      static_cast<long long>(s.id), v, s.v_low_pu, s.v_high_pu, s.step, s.max_step);
        add(buf);
    }
    return msg;
}
}  // namespace

namespace {
/// Droop islands the solver found collapsed (every forming source at a P limit): records each with
/// its cause and takes its forming sources out of service in the working copy, so that the island
/// is de-energised when the model is built again. Returns false when none collapsed.
bool collapse_islands(Network& net, const MathModel& m, const std::vector<char>& collapsed, std::vector<IslandResult>& out) {
    bool any = false;
    for (int is = 0; is < int(collapsed.size()); ++is) {
        if (!collapsed[is]) continue;
        any = true;
        IslandResult c;
        c.droop = true;
        c.collapsed = true;
        c.frequency_hz = kNaN;
        for (int b = 0; b < int(net.buses.size()); ++b)
            if (m.bus_node[b] >= 0 && m.node_island[m.bus_node[b]] == is) {
                if (c.n_buses++ == 0) c.bus = net.buses[b].id;
            }
        double p_max = 0.0, p_min = 0.0;
        const double df = m.island_df_hz[is];
        bool high = false;
        for (std::size_t k = 0; k < net.forming.size(); ++k) {
            const int i = m.forming_node[k];
            if (i < 0 || m.node_island[i] != is) continue;
            const FormingSource& f = net.forming[k];
            p_max += f.p_max_mw;
            p_min += f.p_min_mw;
            high = high || f.p_set_mw - f.kp_mw_per_hz * df > f.p_max_mw;
            net.forming[k].in_service = false;
        }
        char buf[256];
        if (high)
            std::snprintf(buf, sizeof buf, "sources at their P limit: load exceeds %.6g MW (the sum of their p_max_mw)", p_max);
        else
            std::snprintf(buf, sizeof buf, "sources at their P limit: generation exceeds the %.6g MW they can absorb (the sum of their p_min_mw)",
                          -p_min);
        c.cause = buf;
        out.push_back(std::move(c));
    }
    return any;
}
/// The method run_power_flow uses: auto picks the sweep where it applies; a droop island needs NR.
Method choose_method(const Network& net, const MathModel& m, Method method) {
    if (m.has_droop() && method != Method::NewtonRaphson && method != Method::Auto) {
        int node = 0;
        while (!m.island_droop[m.node_island[node]]) ++node;
        throw ValidationError("method '" + to_string(method) + "' cannot solve a droop island (the island of bus " +
                              std::to_string(net.buses[m.node_bus[node]].id) +
                              " has no ext grid, slack or generator and is held by grid-forming sources, whose "
                              "frequency is an unknown); use 'nr' or 'auto' (docs/microgrid.md)");
    }
    if (method == Method::Auto) method = sweep_applicable(m) ? Method::Sweep : Method::NewtonRaphson;
    if (method == Method::Sweep && !sweep_applicable(m))
        throw ValidationError("method 'sweep' needs radial islands with one slack and no PV buses; use 'nr' or 'auto'");
    return method;
}

/// Q limits: PV buses whose generators leave their range become PQ at the limit (MATPOWER's
/// enforce_q_lims = 1, all violations at once; slack generators are not limited). True if any did.
bool enforce_gen_q_limits(Network& net, MathModel& m, const std::vector<cplx>& V, std::vector<double>& gen_q) {
    bool changed = false;
    compute_gen_q(net, m, V, gen_q);
    for (std::size_t k = 0; k < net.gens.size(); ++k) {
        const int i = m.gen_node[k];
        if (i < 0 || m.node_type[i] != BusType::PV) continue;
        const Gen& g = net.gens[k];
        if (gen_q[k] > g.max_q_mvar + 1e-6 || gen_q[k] < g.min_q_mvar - 1e-6) {
            m.node_type[i] = BusType::PQ;
            m.q_fixed_pv[i] = 1;
            changed = true;
        }
    }
    if (changed)
        for (std::size_t k = 0; k < net.gens.size(); ++k) {
            const int i = m.gen_node[k];
            if (i >= 0 && m.q_fixed_pv[i]) net.gens[k].q_mvar = std::clamp(gen_q[k], net.gens[k].min_q_mvar, net.gens[k].max_q_mvar);
        }
    return changed;
}
}  // namespace

PowerFlowResult run_power_flow(const Network& input, const PowerFlowOptions& opt) {
    const auto t0 = std::chrono::steady_clock::now();
    Network net = input;  // controls and Q limits act on a working copy
    MathModel m = build_math_model(net);
    const Method method = choose_method(net, m, opt.method);
    std::vector<cplx> V = initial_voltages(net, m, opt.flat_start);
    SolveStatus st;
    int total_iterations = 0;
    std::string message;
    std::vector<double> gen_q(net.gens.size(), 0.0);
    const bool has_controls = opt.run_controls && method != Method::DC &&
                              (std::any_of(net.transformers.begin(), net.transformers.end(), [](const Transformer& t) { return t.oltc && t.in_service; }) ||
                               std::any_of(net.shunts.begin(), net.shunts.end(), [](const Shunt& s) { return s.switched && s.in_service; }));
    const int outer_max = (opt.enforce_q_limits || has_controls) ? std::max(opt.max_control_iterations, 1) + 1 : 1;
    bool settled = false;
    // Solve, then let Q limits and controls act; at most max_control_iterations rounds of actions,
    // each followed by a solve, so the result always solves the network as the controls left it.
    // Actions wanted after the last solve are not applied (the message says so).
    Network net_solved;
    MathModel m_solved;
    std::vector<char> collapsed;
    std::vector<IslandResult> collapsed_islands;
    for (int outer = 0; outer < outer_max; ++outer) {
        st = solve_once(m, V, opt, method, &collapsed);
        total_iterations += st.iterations;
        if (!st.converged && collapse_islands(net, m, collapsed, collapsed_islands)) {
            // A droop island could not be held: its forming sources leave, it is de-energised and
            // the rest is solved again (from the top: the model changed).
            m = build_math_model(net, analyze_topology(net));  // validated; may now have no source at all
            V = initial_voltages(net, m, opt.flat_start);
            --outer;
            continue;
        }
        if (!st.converged) break;
        const bool last = outer + 1 == outer_max;
        if (last && outer_max > 1) {
            net_solved = net;
            m_solved = m;
        }
        bool changed = false;
        // Q limits: PV buses whose generators leave their range become PQ at the limit (MATPOWER's
        // enforce_q_lims = 1, all violations at once; slack generators are not limited).
        if (opt.enforce_q_limits && method != Method::DC && enforce_gen_q_limits(net, m, V, gen_q)) changed = true;
        if (has_controls && apply_discrete_controls(net, m, V)) changed = true;
        if (!changed) {
            settled = true;
            break;
        }
        if (last) {  // out of rounds: keep the state that was solved
            net = std::move(net_solved);
            m = std::move(m_solved);
            break;
        }
        update_injections(net, m);
        if (opt.enforce_q_limits)
            for (int i = 0; i < m.n; ++i)
                if (m.node_type[i] == BusType::PV) V[i] = std::polar(m.v_set[i].real(), std::arg(V[i]));
    }
    if (st.converged && !settled && outer_max > 1) message = "controls did not settle within max_control_iterations";
    if (st.converged && has_controls) {
        const std::string oob = controls_out_of_band(net, m, V);
        if (!oob.empty()) message += (message.empty() ? "" : "; ") + oob;
    }
    if (!st.converged)
        message = "did not converge in " + std::to_string(st.iterations) + " iterations (largest mismatch " + std::to_string(st.max_mismatch) + " p.u.)";

    PowerFlowResult r = make_results(net, m, V, method);
    for (IslandResult& c : collapsed_islands) {
        message += (message.empty() ? "" : "; ") + std::string("island of bus ") + std::to_string(c.bus) + " collapsed: " + c.cause;
        r.islands.push_back(std::move(c));
    }
    r.converged = st.converged;
    r.iterations = total_iterations;
    r.max_mismatch = st.max_mismatch;
    r.message = message;
    r.solve_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

// ---------------------------------------------------------------------------------------------
void compute_gen_q(const Network& net, const MathModel& m, const std::vector<cplx>& V, std::vector<double>& gen_q) {
    std::vector<double> gen_p(net.gens.size());
    std::vector<double> ext_p, ext_q;
    compute_sources(net, m, V, gen_p, gen_q, ext_p, ext_q);
}

void compute_sources(const Network& net, const MathModel& m, const std::vector<cplx>& V, std::vector<double>& gen_p,
                     std::vector<double>& gen_q, std::vector<double>& ext_p, std::vector<double>& ext_q) {
    const double base = net.sn_mva;
    std::vector<cplx> flow;
    node_flows(m, V, flow);
    // What sources at each node deliver: what the branches take out minus the other (specified)
    // elements.
    std::vector<cplx> src(m.n);
    for (int i = 0; i < m.n; ++i) src[i] = source_power(m, i, flow, V, base);
    gen_p.assign(net.gens.size(), 0.0);
    gen_q.assign(net.gens.size(), 0.0);
    ext_p.assign(net.ext_grids.size(), 0.0);
    ext_q.assign(net.ext_grids.size(), 0.0);
    for (std::size_t k = 0; k < net.gens.size(); ++k)
        if (m.gen_node[k] >= 0) gen_p[k] = net.gens[k].p_mw;
    // Slack nodes: the first ext grid there takes the balance, else the first generator takes its P.
    place_slack_power(m, flow, V, base, ext_p, ext_q, gen_p);
    gen_q_sharing(net, m, src, gen_q);
}

namespace {
/// Q at voltage-controlled nodes, shared among their generators as MATPOWER's pfsoln shares it: in
/// proportion to the Q ranges (finite proxies for infinite limits); 0 at nodes with an ext grid.
void gen_q_sharing(const Network& net, const MathModel& m, const std::vector<cplx>& src, std::vector<double>& gen_q) {
    std::vector<char> has_ext(m.n, 0);
    for (int i : m.ext_grid_node)
        if (i >= 0) has_ext[i] = 1;
    std::vector<std::vector<int>> at(m.n);
    for (std::size_t k = 0; k < net.gens.size(); ++k) {
        const int i = m.gen_node[k];
        if (i < 0) continue;
        gen_q[k] = net.gens[k].q_mvar;
        if (m.node_type[i] != BusType::PQ) at[i].push_back(int(k));
    }
    for (int i = 0; i < m.n; ++i) {
        const auto& g = at[i];
        if (g.empty()) continue;
        if (has_ext[i]) {
            for (int k : g) gen_q[k] = 0.0;
            continue;
        }
        const double q_tot = src[i].imag();
        const std::size_t ng = g.size();
        if (ng == 1) {
            gen_q[g[0]] = q_tot;
            continue;
        }
        std::vector<double> qmin(ng), qmax(ng);
        double M = 0.0;
        for (std::size_t a = 0; a < ng; ++a) {
            const Gen& gn = net.gens[g[a]];
            M += std::abs(q_tot / double(ng));
            if (std::isfinite(gn.max_q_mvar)) M += std::abs(gn.max_q_mvar);
            if (std::isfinite(gn.min_q_mvar)) M += std::abs(gn.min_q_mvar);
        }
        double cmin = 0.0, cmax = 0.0;
        for (std::size_t a = 0; a < ng; ++a) {
            const Gen& gn = net.gens[g[a]];
            qmin[a] = std::isinf(gn.min_q_mvar) ? (gn.min_q_mvar > 0 ? M : -M) : gn.min_q_mvar;
            qmax[a] = std::isinf(gn.max_q_mvar) ? (gn.max_q_mvar > 0 ? M : -M) : gn.max_q_mvar;
            cmin += qmin[a];
            cmax += qmax[a];
        }
        if (cmax != cmin) {
            for (std::size_t a = 0; a < ng; ++a)
                gen_q[g[a]] = qmin[a] + (q_tot - cmin) / (cmax - cmin + 2.220446049250313e-16) * (qmax[a] - qmin[a]);
        } else {
            for (std::size_t a = 0; a < ng; ++a) gen_q[g[a]] = qmin[a] + (q_tot - cmin) / double(ng);
        }
    }
}

}  // namespace

std::vector<Id> deenergized_bus_ids(const Network& net, const MathModel& m) {
    std::vector<Id> ids;
    for (std::size_t b = 0; b < net.buses.size() && b < m.bus_node.size(); ++b)
        if (m.bus_node[b] < 0 && net.buses[b].in_service && net.buses[b].type != BusType::Isolated) ids.push_back(net.buses[b].id);
    return ids;
}

std::vector<Id> deenergized_buses(const Network& net) {
    net.validate();
    std::vector<Id> ids;
    for (int b : deenergised_bus_indices(analyze_topology(net))) ids.push_back(net.buses[b].id);
    return ids;
}

namespace {

/// Bus voltages, energised flags and voltage violations.
void bus_results(const Network& net, const MathModel& m, const std::vector<cplx>& V, Method method, PowerFlowResult& r) {
    const double nan = kNaN;
    const std::size_t nb = net.buses.size();
    r.bus_vm_pu.assign(nb, nan);
    r.bus_va_deg.assign(nb, nan);
    r.bus_p_mw.assign(nb, 0.0);
    r.bus_q_mvar.assign(nb, 0.0);
    r.bus_energized.assign(nb, 0);
    r.bus_voltage_violation.assign(nb, 0);
    for (std::size_t b = 0; b < nb; ++b) {
        const int i = m.bus_node[b];
        if (i < 0) {
            r.bus_p_mw[b] = r.bus_q_mvar[b] = nan;
            continue;
        }
        r.bus_energized[b] = 1;
        r.bus_vm_pu[b] = method == Method::DC ? 1.0 : std::abs(V[i]);
        r.bus_va_deg[b] = std::arg(V[i]) * kRad2Deg;
        r.bus_voltage_violation[b] = r.bus_vm_pu[b] < net.buses[b].vmin_pu || r.bus_vm_pu[b] > net.buses[b].vmax_pu;
    }
}

/// Bus net injections from the elements at each bus (generation - consumption), shunt powers.
void element_injections(const Network& net, const MathModel& m, const std::vector<cplx>& V, Method method, PowerFlowResult& r) {
    std::unordered_map<Id, std::size_t> bus_at;
    bus_at.reserve(net.buses.size() * 2);
    for (std::size_t b = 0; b < net.buses.size(); ++b) bus_at[net.buses[b].id] = b;
    auto bus_of = [&](Id id) { return bus_at.at(id); };
    for (std::size_t k = 0; k < net.loads.size(); ++k) {
        const Load& l = net.loads[k];
        const int i = m.load_node[k];
        if (!l.in_service || i < 0) continue;
        const std::size_t b = bus_of(l.bus);
        const double vm = method == Method::DC ? 1.0 : r.bus_vm_pu[b];
        const cplx s = load_power_at(l, l.p_mw * l.scaling, l.q_mvar * l.scaling, vm);
        r.bus_p_mw[b] -= s.real();
        r.bus_q_mvar[b] -= s.imag();
    }
    for (std::size_t k = 0; k < net.sgens.size(); ++k)
        if (net.sgens[k].in_service && m.sgen_node[k] >= 0) {
            const std::size_t b = bus_of(net.sgens[k].bus);
            r.bus_p_mw[b] += r.sgen_p_mw[k];
            r.bus_q_mvar[b] += net.sgens[k].q_mvar * net.sgens[k].scaling;
        }
    for (std::size_t k = 0; k < net.storage.size(); ++k)
        if (net.storage[k].in_service && m.storage_node[k] >= 0) {
            const std::size_t b = bus_of(net.storage[k].bus);
            r.bus_p_mw[b] -= net.storage[k].p_mw * net.storage[k].scaling;
            r.bus_q_mvar[b] -= net.storage[k].q_mvar * net.storage[k].scaling;
        }
    r.shunt_p_mw.assign(net.shunts.size(), 0.0);
    r.shunt_q_mvar.assign(net.shunts.size(), 0.0);
    r.shunt_step.assign(net.shunts.size(), 0);
    for (std::size_t k = 0; k < net.shunts.size(); ++k) {
        const Shunt& s = net.shunts[k];
        r.shunt_step[k] = s.step;
        if (!s.in_service || m.shunt_node[k] < 0) continue;
        const std::size_t b = bus_of(s.bus);
        const cplx sp = method == Method::DC ? cplx(s.p_mw * s.step, 0.0) : shunt_power_at(s, V[m.shunt_node[k]]);
        r.shunt_p_mw[k] = sp.real();
        r.shunt_q_mvar[k] = sp.imag();
        r.bus_p_mw[b] -= r.shunt_p_mw[k];
        r.bus_q_mvar[b] -= r.shunt_q_mvar[k];
    }
    for (std::size_t k = 0; k < net.gens.size(); ++k)
        if (m.gen_node[k] >= 0) {
            const std::size_t b = bus_of(net.gens[k].bus);
            r.bus_p_mw[b] += r.gen_p_mw[k];
            r.bus_q_mvar[b] += r.gen_q_mvar[k];
        }
    for (std::size_t k = 0; k < net.ext_grids.size(); ++k)
        if (m.ext_grid_node[k] >= 0) {
            const std::size_t b = bus_of(net.ext_grids[k].bus);
            r.bus_p_mw[b] += r.ext_grid_p_mw[k];
            r.bus_q_mvar[b] += r.ext_grid_q_mvar[k];
        }
    if (method == Method::DC)
        for (std::size_t b = 0; b < net.buses.size(); ++b) r.bus_q_mvar[b] = r.bus_energized[b] ? 0.0 : kNaN;
}

/// One branch's end powers, currents and losses (all 0 where it is out of the model).
struct BranchResult {
    BranchPower s{0.0, 0.0};  ///< p.u.
    BranchCurrent i;
    cplx loss{0.0, 0.0};  ///< MW + j MVAr
};
BranchResult branch_result(const MathModel& m, const std::vector<cplx>& V, int slot, Method method, double base) {
    BranchResult out;
    if (slot < 0) return out;
    const BranchY& b = m.branches[slot];
    if (method == Method::DC) {
        const double pf = DcSolver::branch_flow(b, V);
        out.s = {cplx(pf, 0.0), cplx(-pf, 0.0)};
    } else {
        out.s = branch_power(b, V);
    }
    out.i = branch_current(m, b, out.s, V, base);
    out.loss = branch_loss(out.s, base);
    return out;
}

void branch_results(const Network& net, const MathModel& m, const std::vector<cplx>& V, Method method, PowerFlowResult& r) {
    const double base = net.sn_mva;
    const std::size_t nbr = net.branches.size();
    for (auto* v : {&r.branch_p_from_mw, &r.branch_q_from_mvar, &r.branch_p_to_mw, &r.branch_q_to_mvar}) v->assign(nbr, 0.0);
    r.branch_loading_percent.assign(nbr, kNaN);
    for (std::size_t k = 0; k < nbr; ++k) {
        const BranchResult br = branch_result(m, V, m.branch_slot[k], method, base);
        r.branch_p_from_mw[k] = br.s.from.real() * base;
        r.branch_q_from_mvar[k] = br.s.from.imag() * base;
        r.branch_p_to_mw[k] = br.s.to.real() * base;
        r.branch_q_to_mvar[k] = br.s.to.imag() * base;
        r.losses_mw += br.loss.real();
        r.losses_mvar += br.loss.imag();
        if (net.branches[k].rate_a_mva > 0) r.branch_loading_percent[k] = branch_loading_percent(net.branches[k], br.s, base);
    }
}

void line_results(const Network& net, const MathModel& m, const std::vector<cplx>& V, Method method, PowerFlowResult& r) {
    const double base = net.sn_mva;
    const std::size_t nl = net.lines.size();
    for (auto* v : {&r.line_p_from_mw, &r.line_q_from_mvar, &r.line_p_to_mw, &r.line_q_to_mvar, &r.line_i_from_ka, &r.line_i_to_ka,
                    &r.line_pl_mw, &r.line_ql_mvar, &r.line_loading_percent})
        v->assign(nl, 0.0);
    for (std::size_t k = 0; k < nl; ++k) {
        const BranchResult br = branch_result(m, V, m.line_slot[k], method, base);
        r.line_p_from_mw[k] = br.s.from.real() * base;
        r.line_q_from_mvar[k] = br.s.from.imag() * base;
        r.line_p_to_mw[k] = br.s.to.real() * base;
        r.line_q_to_mvar[k] = br.s.to.imag() * base;
        r.line_pl_mw[k] = br.loss.real();
        r.line_ql_mvar[k] = br.loss.imag();
        r.losses_mw += r.line_pl_mw[k];
        r.losses_mvar += r.line_ql_mvar[k];
        r.line_i_from_ka[k] = br.i.from_ka;
        r.line_i_to_ka[k] = br.i.to_ka;
        r.line_loading_percent[k] = m.line_slot[k] < 0 ? 0.0 : line_loading_percent(net.lines[k], br.i);
    }
}

void trafo_results(const Network& net, const MathModel& m, const std::vector<cplx>& V, Method method, PowerFlowResult& r) {
    const double base = net.sn_mva;
    const std::size_t nt = net.transformers.size();
    for (auto* v : {&r.trafo_p_hv_mw, &r.trafo_q_hv_mvar, &r.trafo_p_lv_mw, &r.trafo_q_lv_mvar, &r.trafo_i_hv_ka, &r.trafo_i_lv_ka,
                    &r.trafo_pl_mw, &r.trafo_ql_mvar, &r.trafo_loading_percent})
        v->assign(nt, 0.0);
    r.trafo_tap_pos.assign(nt, 0);
    for (std::size_t k = 0; k < nt; ++k) {
        const Transformer& t = net.transformers[k];
        r.trafo_tap_pos[k] = t.tap_pos;
        const BranchResult br = branch_result(m, V, m.trafo_slot[k], method, base);
        r.trafo_p_hv_mw[k] = br.s.from.real() * base;
        r.trafo_q_hv_mvar[k] = br.s.from.imag() * base;
        r.trafo_p_lv_mw[k] = br.s.to.real() * base;
        r.trafo_q_lv_mvar[k] = br.s.to.imag() * base;
        r.trafo_pl_mw[k] = br.loss.real();
        r.trafo_ql_mvar[k] = br.loss.imag();
        r.losses_mw += r.trafo_pl_mw[k];
        r.losses_mvar += r.trafo_ql_mvar[k];
        r.trafo_i_hv_ka[k] = br.i.from_ka;
        r.trafo_i_lv_ka[k] = br.i.to_ka;
        r.trafo_loading_percent[k] = trafo_loading_percent(t, br.i);
    }
}

/// Grid-forming sources' P and Q (their droop at the solved frequency and |V|, held at their
/// limits), per-bus frequency and the islands (docs/microgrid.md).
void forming_results(const Network& net, const MathModel& m, const std::vector<cplx>& V, PowerFlowResult& r) {
    constexpr double eps = 1e-9;  // p.u., as the solver's limit test
    const std::size_t nf = net.forming.size();
    r.forming_p_mw.assign(nf, 0.0);
    r.forming_q_mvar.assign(nf, 0.0);
    r.forming_p_limit.assign(nf, 0);
    r.forming_q_limit.assign(nf, 0);
    std::vector<double> island_p(m.n_islands, 0.0);
    for (std::size_t k = 0; k < nf && k < m.forming_node.size(); ++k) {
        const int i = m.forming_node[k];
        if (i < 0) continue;
        const MathModel::FormingPu& u = m.forming_pu[k];
        const int is = m.node_island[i];
        const bool droop = m.island_droop[is] != 0;
        const double p = droop ? u.p0 - u.kp * m.island_df_hz[is] : u.p0;
        const double q = droop ? u.q0 - u.kq * (std::abs(V[i]) - u.v_set) : u.q0;
        r.forming_p_limit[k] = p > u.p_max + eps ? 1 : p < u.p_min - eps ? -1 : 0;
        r.forming_q_limit[k] = q > u.q_max + eps ? 1 : q < u.q_min - eps ? -1 : 0;
        r.forming_p_mw[k] = std::clamp(p, u.p_min, u.p_max) * net.sn_mva;
        r.forming_q_mvar[k] = std::clamp(q, u.q_min, u.q_max) * net.sn_mva;
        const std::size_t b = net.bus_index(net.forming[k].bus);
        r.bus_p_mw[b] += r.forming_p_mw[k];
        r.bus_q_mvar[b] += r.forming_q_mvar[k];
        island_p[is] += r.forming_p_mw[k];
    }
    // Static generators: their P, less frequency-watt curtailment in droop islands.
    r.sgen_p_mw.assign(net.sgens.size(), 0.0);
    for (std::size_t k = 0; k < net.sgens.size(); ++k) {
        const SGen& g = net.sgens[k];
        if (!g.in_service || m.sgen_node[k] < 0) continue;
        r.sgen_p_mw[k] = g.p_mw * g.scaling;
        const int i = k < m.sgen_fw_node.size() ? m.sgen_fw_node[k] : -1;
        if (i < 0) continue;
        const MathModel::FwPu& u = m.sgen_fw[k];
        if (!(u.p_avail > 0)) continue;
        const double p = std::clamp(u.p_avail - u.slope * (m.island_df_hz[m.node_island[i]] - u.db), 0.0, u.p_avail);
        r.sgen_p_mw[k] = p * net.sn_mva;
    }
    r.bus_frequency_hz.assign(net.buses.size(), kNaN);
    r.islands.assign(m.n_islands, IslandResult{});
    for (int is = 0; is < m.n_islands; ++is) {
        IslandResult& isr = r.islands[is];
        isr.droop = m.island_droop[is] != 0;
        isr.frequency_hz = net.f_hz + (isr.droop ? m.island_df_hz[is] : 0.0);
        isr.forming_p_mw = island_p[is];
    }
    for (std::size_t b = 0; b < net.buses.size(); ++b) {
        const int i = m.bus_node[b];
        if (i < 0) continue;
        IslandResult& isr = r.islands[m.node_island[i]];
        if (isr.n_buses++ == 0) isr.bus = net.buses[b].id;
        r.bus_frequency_hz[b] = isr.frequency_hz;
    }
}

}  // namespace

PowerFlowResult make_results(const Network& net, const MathModel& m, const std::vector<cplx>& V, Method method) {
    PowerFlowResult r;
    r.method_used = method;
    r.deenergized_buses = deenergized_bus_ids(net, m);
    bus_results(net, m, V, method, r);
    compute_sources(net, m, V, r.gen_p_mw, r.gen_q_mvar, r.ext_grid_p_mw, r.ext_grid_q_mvar);
    if (method == Method::DC) {
        std::fill(r.gen_q_mvar.begin(), r.gen_q_mvar.end(), 0.0);
        std::fill(r.ext_grid_q_mvar.begin(), r.ext_grid_q_mvar.end(), 0.0);
    }
    forming_results(net, m, V, r);
    element_injections(net, m, V, method, r);
    branch_results(net, m, V, method, r);
    line_results(net, m, V, method, r);
    trafo_results(net, m, V, method, r);
    return r;
}

}  // namespace libgrid
