// libgrid power flow: OpenDSS's regulator control (RegControl.pas) in the STATIC control mode.
//
// What OpenDSS does per control iteration, after a converged solve (Solution.pas SolveSnap ->
// CheckControls -> Sample_DoControlActions):
//  1. every RegControl samples (TRegControlObj.Sample): the PT voltage is the voltage across the
//     `ptphase` conductor of the regulated winding (wye: phase - neutral conductor; delta: phase -
//     next phase) over `ptratio`; with line-drop compensation the CT current (into that terminal,
//     conductor ptphase) over `ctprim` times R + jX (volts) is added; out of vreg +- band/2 it needs
//     a boost of (vreg - |Vcontrol|) ptratio / Vbase(winding) p.u., rounded to whole taps, and it is
//     queued ("armed") at time now + delay when the tap can still move that way;
//  2. the control queue runs its NEAREST actions only (ControlQueue.DoNearestActions): the queued
//     regulators with the smallest delay act, the others wait (the static mode does not advance the
//     clock, so the regulator with the shortest delay moves first, every iteration, until it is in
//     band: "this one moves first" of Run_IEEE123Bus.DSS);
//  3. a regulator that acts moves 70 % of the way, at least one tap and at most `maxtapchange`
//     (AtLeastOneTap), the tap clamped to [min_tap, max_tap] (Transformer.Set_PresentTap).
// The loop ends when no regulator is queued. Not modelled (none of the test feeders uses them):
// reversible mode, cogen mode, inverse time delay, a remote regulated bus (`bus=`), LDC_Z.
#include <libgrid/powerflow/unbalanced.hpp>

#include "ucontrols_detail.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace libgrid {
namespace {

constexpr double kSqrt3 = 1.7320508075688772;

/// The winding's voltage base in volts, as Transformer.pas RecalcElementData sets it.
double winding_vbase_v(const UTransformer& t, const UWinding& w) {
    if (!w.delta && (t.nphases == 2 || t.nphases == 3)) return w.kv * 1000.0 / kSqrt3;
    return w.kv * 1000.0;
}

double tap_increment(const UWinding& w) {
    return w.num_taps > 0 ? (w.max_tap - w.min_tap) / w.num_taps : 0.0;
}

/// 0-based index of the winding whose tap the regulator moves (OpenDSS TapWinding; default its winding).
int tap_winding_index(const URegControl& rc, const UTransformer& t) {
    const int ti = rc.tap_winding > 0 ? rc.tap_winding - 1 : rc.winding - 1;
    return ti < static_cast<int>(t.windings.size()) ? ti : rc.winding - 1;
}

/// Pascal's Round: to nearest, ties to even (banker's rounding), as OpenDSS rounds the boost.
double pascal_round(double x) { return std::nearbyint(x); }

struct Sample {
    bool armed = false;
    double pending_pu = 0.0;  ///< tap change wanted, p.u. (whole increments)
};

cplx node_v(const std::vector<cplx>& v, int node) { return node >= 0 ? v[node] : cplx{0.0, 0.0}; }

/// TRegControlObj.Sample for one regulator on the solved state.
Sample sample_regcontrol(const UNetwork& net, const URegControl& rc, int element, const UMathModel& m,
                         const std::vector<cplx>& v) {
    Sample s;
    if (!rc.enabled || rc.maxtapchange == 0 || element < 0) return s;
    const UTransformer& t = net.transformers[rc.transformer];
    const int wi = rc.winding - 1;
    if (wi < 0 || wi >= static_cast<int>(t.windings.size())) return s;
    const UWinding& w = t.windings[wi];
    const UMathElement& e = m.elements[element];
    const int ph = (rc.ptphase >= 1 && rc.ptphase <= t.nphases) ? rc.ptphase - 1 : 0;
    const int k = wi * e.n_cond;  // first conductor of the winding's terminal
    // wye: phase - the winding's neutral conductor; delta: phase - next phase (RotatePhases)
    const int other = w.delta ? k + (ph + 1) % t.nphases : k + t.nphases;
    const cplx v_other = other < k + e.n_cond ? node_v(v, e.node[other]) : cplx{0.0, 0.0};
    const cplx v_winding = node_v(v, e.node[k + ph]) - v_other;
    cplx v_control = v_winding / rc.ptratio;
    const double v_local = std::abs(v_control);
    if (rc.r != 0.0 || rc.x != 0.0) {  // the current into the terminal: row k + ph of yprim V (no allocation)
        cplx i(0.0, 0.0);
        for (int c = 0; c < static_cast<int>(e.node.size()); ++c) i += e.yprim(k + ph, c) * node_v(v, e.node[c]);
        v_control += cplx{rc.r, rc.x} * (i / rc.ctprim);
    }
    const double v_actual = std::abs(v_control);
    const bool vlimit_hit = rc.vlimit > 0.0 && v_local > rc.vlimit;
    if (std::abs(rc.vreg - v_actual) <= rc.band / 2.0 && !vlimit_hit) return s;
    const double v_boost = vlimit_hit ? rc.vlimit - v_local : rc.vreg - v_actual;
    const double boost_pu = v_boost * rc.ptratio / winding_vbase_v(t, w);
    const int ti = tap_winding_index(rc, t);
    const UWinding& tw = t.windings[ti];
    const double inc = tap_increment(tw);
    if (inc <= 0.0) return s;
    s.pending_pu = pascal_round(boost_pu / inc) * inc;
    if (ti != wi) s.pending_pu = -s.pending_pu;  // a tap on another winding moves the other way
    if (s.pending_pu > 0.0) s.armed = tw.tap < tw.max_tap;
    if (s.pending_pu < 0.0) s.armed = tw.tap > tw.min_tap;
    return s;
}

/// TRegControlObj.DoPendingAction in CTRLSTATIC: AtLeastOneTap, then Set_PresentTap's clamp.
void act(UNetwork& net, const URegControl& rc, double pending_pu) {
    UTransformer& t = net.transformers[rc.transformer];
    UWinding& w = t.windings[tap_winding_index(rc, t)];
    const double inc = tap_increment(w);
    int taps = static_cast<int>(std::trunc(0.7 * std::abs(pending_pu) / inc));
    if (taps == 0) taps = 1;
    if (taps > rc.maxtapchange) taps = rc.maxtapchange;
    const double change = pending_pu > 0.0 ? taps * inc : -taps * inc;
    w.tap = std::min(std::max(w.tap + change, w.min_tap), w.max_tap);
}

}  // namespace

ucontrols_detail::RegQueue ucontrols_detail::sample_regcontrols(const UNetwork& net, const UMathModel& m,
                                                                const std::vector<cplx>& v) {
    RegQueue q;
    sample_regcontrols(net, m, v, q);
    return q;
}

void ucontrols_detail::sample_regcontrols(const UNetwork& net, const UMathModel& m, const std::vector<cplx>& v,
                                          RegQueue& q) {
    std::vector<int>& element_of = q.element_of;
    element_of.assign(net.transformers.size(), -1);
    for (std::size_t e = 0; e < m.elements.size(); ++e) {
        if (m.elements[e].kind == UElementKind::transformer) element_of[m.elements[e].index] = static_cast<int>(e);
    }
    q.armed.assign(net.regcontrols.size(), 0);
    q.pending_pu.assign(net.regcontrols.size(), 0.0);
    for (std::size_t r = 0; r < net.regcontrols.size(); ++r) {
        const URegControl& rc = net.regcontrols[r];
        if (rc.transformer < 0 || rc.transformer >= static_cast<int>(net.transformers.size())) continue;
        const Sample s = sample_regcontrol(net, rc, element_of[rc.transformer], m, v);
        q.armed[r] = s.armed ? 1 : 0;
        q.pending_pu[r] = s.pending_pu;
    }
}

void ucontrols_detail::act_regcontrol(UNetwork& net, int r, double pending_pu) {
    act(net, net.regcontrols[static_cast<std::size_t>(r)], pending_pu);
}

int step_regcontrols(UNetwork& net, const UMathModel& m, const std::vector<cplx>& v) {
    const ucontrols_detail::RegQueue q = ucontrols_detail::sample_regcontrols(net, m, v);
    double nearest_s = std::numeric_limits<double>::infinity();
    for (std::size_t r = 0; r < net.regcontrols.size(); ++r)
        if (q.armed[r]) nearest_s = std::min(nearest_s, net.regcontrols[r].delay_s);
    int moved = 0;
    for (std::size_t r = 0; r < net.regcontrols.size(); ++r) {
        if (!q.armed[r] || net.regcontrols[r].delay_s > nearest_s) continue;
        act(net, net.regcontrols[r], q.pending_pu[r]);
        ++moved;
    }
    return moved;
}

}  // namespace libgrid
