// libgrid layer 3: per-element outputs from a solved state, each physical quantity computed once.
//
// The one-call power flow (powerflow/powerflow.cpp, make_results) and the time-series engine
// (simulation/engine.cpp, record) both take their per-element powers, currents, loadings, losses,
// slack powers and ZIP load injections from these functions, so the two cannot drift apart.
// Conventions: per unit on the system base where a MathModel quantity goes in or out (p.u.),
// physical units (MW, MVAr, kA, percent) where the name says so; the formulas and the order of
// their floating-point operations are the engine's (its results are the regression reference).
// Small and inline: they sit in per-step loops.
#pragma once

#include <libgrid/math/math_model.hpp>

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

namespace libgrid {

namespace output_detail {
inline constexpr double kSqrt3 = 1.7320508075688772;
}  // namespace output_detail

// ---- loads, shunts: ZIP ------------------------------------------------------------------------

/// A load's specified injection split into its constant-power, -current and -impedance parts
/// (generator convention is the caller's: update_injections subtracts them), p.u.
struct ZipParts {
    cplx p, i, z;
};
/// p_pu, q_pu: the load's power at 1 p.u. (consumption positive), on the system base.
inline ZipParts load_zip_parts(const Load& l, double p_pu, double q_pu) {
    const double pz = l.const_z_p_percent / 100.0, pi = l.const_i_p_percent / 100.0;
    const double qz = l.const_z_q_percent / 100.0, qi = l.const_i_q_percent / 100.0;
    return {cplx(p_pu * (1.0 - pz - pi), q_pu * (1.0 - qz - qi)), cplx(p_pu * pi, q_pu * qi), cplx(p_pu * pz, q_pu * qz)};
}

/// A load's power drawn at |V| = vm (consumption positive), in the units of p and q (MW or kW).
inline cplx load_power_at(const Load& l, double p, double q, double vm) {
    const double pz = l.const_z_p_percent / 100, pi = l.const_i_p_percent / 100;
    const double qz = l.const_z_q_percent / 100, qi = l.const_i_q_percent / 100;
    return {p * ((1 - pz - pi) + pi * vm + pz * vm * vm), q * ((1 - qz - qi) + qi * vm + qz * vm * vm)};
}

/// A shunt's power drawn at voltage v (consumption positive), MW / MVAr.
inline cplx shunt_power_at(const Shunt& s, cplx v) {
    const double v2 = std::norm(v);
    return {s.p_mw * s.step * v2, s.q_mvar * s.step * v2};
}

// ---- branches -----------------------------------------------------------------------------------

/// Complex power into the branch at each end, p.u. (0 at an open end).
struct BranchPower {
    cplx from, to;
};
inline BranchPower branch_power(const BranchY& br, const std::vector<cplx>& V) {
    const cplx vf = br.f >= 0 ? V[br.f] : 0.0, vt = br.t >= 0 ? V[br.t] : 0.0;
    BranchPower s{0.0, 0.0};
    if (br.f >= 0) s.from = vf * std::conj(br.yff * vf + (br.t >= 0 ? br.yft * vt : 0.0));
    if (br.t >= 0) s.to = vt * std::conj((br.f >= 0 ? br.ytf * vf : 0.0) + br.ytt * vt);
    return s;
}

/// Series and shunt losses of a branch, MW + j MVAr (the engine records its real part).
inline cplx branch_loss(const BranchPower& s, double base_mva) {
    const cplx sum = s.from + s.to;
    return {sum.real() * base_mva, sum.imag() * base_mva};
}

/// A transformer's no-load (magnetising, iron) loss, MW: the real power its magnetising admittance
/// ym draws. Pi model (t_model = false): ym/2 at each end, on the internal (tapped) side at the
/// from end: Re(yf_sh)|vf/tap|^2 + Re(yt_sh)|vt|^2 with yf_sh = yff|tap|^2 - ys, yt_sh = ytt - ys.
/// T model: z/2 - ym - z/2 Kron-reduced (math_model.cpp), so y1 = yff|tap|^2 + ys, y2 = ytt + ys,
/// y1 + y2 + ym = y1 y2 / ys, and ym sees the middle voltage vm = (y1 vf/tap + y2 vt) / (y1 + y2 + ym):
/// Re(ym)|vm|^2. A transformer open at one end (Kron-reduced into a shunt) draws only its no-load
/// loss: all of branch_loss. The load (series, copper) loss is branch_loss minus this.
inline double trafo_noload_loss(const BranchY& br, const std::vector<cplx>& V, const BranchPower& s, double base_mva, bool t_model) {
    if (br.f < 0 || br.t < 0) return branch_loss(s, base_mva).real();
    const double tap2 = std::norm(br.tap);
    const cplx va = V[br.f] / br.tap, vt = V[br.t];
    if (!t_model) {
        const cplx yf_sh = br.yff * tap2 - br.ys, yt_sh = br.ytt - br.ys;
        return (yf_sh.real() * std::norm(va) + yt_sh.real() * std::norm(vt)) * base_mva;
    }
    const cplx y1 = br.yff * tap2 + br.ys, y2 = br.ytt + br.ys;
    if (br.ys == cplx(0.0, 0.0)) return 0.0;
    const cplx ysum = y1 * y2 / br.ys;
    const cplx ym = ysum - y1 - y2;
    const cplx vm = (y1 * va + y2 * vt) / ysum;
    return ym.real() * std::norm(vm) * base_mva;
}

/// Current at each end, kA, on the node's voltage |V| times its base voltage (0 at an open end).
struct BranchCurrent {
    double from_ka = 0.0, to_ka = 0.0;
};
inline BranchCurrent branch_current(const MathModel& m, const BranchY& br, const BranchPower& s,
                                    const std::vector<cplx>& V, double base_mva) {
    const cplx vf = br.f >= 0 ? V[br.f] : 0.0, vt = br.t >= 0 ? V[br.t] : 0.0;
    const double vf_kv = br.f >= 0 ? std::abs(vf) * m.node_base_kv[br.f] : 1.0;
    const double vt_kv = br.t >= 0 ? std::abs(vt) * m.node_base_kv[br.t] : 1.0;
    return {br.f >= 0 ? std::abs(s.from) * base_mva / (output_detail::kSqrt3 * vf_kv) : 0.0,
            br.t >= 0 ? std::abs(s.to) * base_mva / (output_detail::kSqrt3 * vt_kv) : 0.0};
}

/// Loading, percent: a line's larger end current over its rating (max_i_ka * df * parallel).
inline double line_loading_percent(const Line& l, const BranchCurrent& i) {
    return std::max(i.from_ka, i.to_ka) / (l.max_i_ka * l.df * l.parallel) * 100.0;
}
/// A transformer's larger end current over its rated current at that side, / (df * parallel).
inline double trafo_loading_percent(const Transformer& t, const BranchCurrent& i) {
    return std::max(i.from_ka / (t.sn_mva / (output_detail::kSqrt3 * t.vn_hv_kv)), i.to_ka / (t.sn_mva / (output_detail::kSqrt3 * t.vn_lv_kv))) * 100.0 /
           (t.df * t.parallel);
}
/// A MATPOWER branch's larger end |S| over rate_a; 0 when unrated.
inline double branch_loading_percent(const Branch& b, const BranchPower& s, double base_mva) {
    const double rate = b.rate_a_mva;
    return rate > 0 ? std::max(std::abs(s.from), std::abs(s.to)) * base_mva / rate * 100.0 : 0.0;
}

/// Adds every branch's end powers to its nodes (p.u.), in the order of m.branches: node_flow[i] is
/// then what the network takes out of node i. node_flow must hold m.n zeros (or partial sums).
inline void add_branch_end_powers(const BranchY& br, const BranchPower& s, std::vector<cplx>& node_flow) {
    if (br.f >= 0) node_flow[br.f] += s.from;
    if (br.t >= 0) node_flow[br.t] += s.to;
}

/// node_flow = the sum of add_branch_end_powers over m.branches (in order), p.u.; sized m.n.
void node_flows(const MathModel& m, const std::vector<cplx>& V, std::vector<cplx>& node_flow);

// ---- sources ------------------------------------------------------------------------------------

/// What node i's source (ext grid or slack generator) supplies beyond the node's specified
/// injections, MW + j MVAr: (node_flow - S_spec(|V|)) * base.
inline cplx source_power(const MathModel& m, int i, const std::vector<cplx>& node_flow, const std::vector<cplx>& V,
                         double base_mva) {
    return (node_flow[i] - specified_injection(m, i, std::abs(V[i]))) * base_mva;
}

/// Slack powers: at every slack node, source_power goes to the first ext grid there (ext_p,
/// ext_q), else its P to the first generator there (gen_p, which the caller has filled with the
/// generators' set points). Entries of other ext grids are left as they are. Returns the sum of the
/// placed P (MW).
double place_slack_power(const MathModel& m, const std::vector<cplx>& node_flow, const std::vector<cplx>& V, double base_mva,
                         std::span<double> ext_p, std::span<double> ext_q, std::span<double> gen_p);

}  // namespace libgrid
