// libgrid power flow: OpenDSS's capacitor control (Controls/CapControl.pas) in the STATIC control
// mode, and the one control queue it shares with the regulators (ucontrols.cpp).
//
// Per control iteration, after a converged solve (Solution.pas Sample_DoControlActions):
//  1. every CapControl samples (TCapControlObj.Sample). PresentState is whether the capacitor's
//     terminal is closed (OpenDSS starts every controlled capacitor closed). With voltoverride
//     (and a type other than voltage) the PT voltage is checked first: open and below vmin ->
//     close; closed and above vmax -> open. Else, by type, against onsetting / offsetting:
//       current: |I| of conductor ctphase of the monitored element over ctratio (AVG/MAX/MIN over
//                the capacitor's phases at the monitored terminal); open and > on -> close;
//                closed and < off -> open; closed, a step left and > on -> close (another step);
//       voltage: |V| of conductor ptphase of the monitored terminal over ptratio (a delta bank:
//                phase ptphase to the next); open and < on -> close; closed and > off -> open;
//                closed, a step left and < on -> close;
//       kvar:    Q into the monitored terminal (kvar), as current;
//       pf:      the power factor on OpenDSS's 0..2 scale (leading: 2 - pf) against pf_on /
//                pf_off, a close only while Q exceeds pct_minkvar % of the bank (half a step
//                when closed);
//     a wanted action is queued ("armed") once, at delay (close) or delayoff (open); a close
//     of a one-step bank that this control opened waits deadtime + delay (the static clock
//     stays at 0); an armed control whose pending change resets to none is taken off the queue.
//     (As OpenDSS: current, kvar and pf leave a pending change as it was while in the dead band.)
//  2. the queue runs its nearest actions only (ControlQueue.DoNearestActions): regulators and
//     capacitors whose action time is the smallest act, the rest stay queued.
//  3. a capacitor action (DoPendingAction): open -> take the last step in service out
//     (SubtractStep; the bank is open when none is left); close -> open bank: close it and add
//     a step; closed: add the next step (AddStep) if one is left.
// The loop ends when the queue is empty after sampling.
// Not modelled: time and follow control (time is read; the static loop never arms it), user
// models, a voltage-override bus (`vbus`), the event log.
#include <libgrid/powerflow/unbalanced.hpp>

#include "ucontrols_detail.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace libgrid {
namespace {

constexpr int kClose = 1, kOpen = -1, kNone = 0;

cplx node_v(const std::vector<cplx>& v, int node) { return node >= 0 ? v[static_cast<std::size_t>(node)] : cplx{0.0, 0.0}; }

/// The math element of a CapControl's monitored element ("line.x", "transformer.x",
/// "capacitor.x"); -1 when it is not in the model (disabled).
int monitored_element(const UNetwork& net, const UMathModel& m, const std::string& element) {
    const std::size_t dot = element.find('.');
    if (dot == std::string::npos) return -1;
    const std::string cls = element.substr(0, dot), name = element.substr(dot + 1);
    for (std::size_t e = 0; e < m.elements.size(); ++e) {
        const UMathElement& x = m.elements[e];
        const auto i = static_cast<std::size_t>(x.index);
        if ((cls == "line" && x.kind == UElementKind::line && net.lines[i].name == name) ||
            (cls == "transformer" && x.kind == UElementKind::transformer && net.transformers[i].name == name) ||
            (cls == "capacitor" && x.kind == UElementKind::capacitor && net.capacitors[i].name == name))
            return static_cast<int>(e);
    }
    return -1;
}

int monitored_nphases(const UNetwork& net, const UMathElement& e) {
    const auto i = static_cast<std::size_t>(e.index);
    switch (e.kind) {
        case UElementKind::line: return net.lines[i].nphases;
        case UElementKind::transformer: return net.transformers[i].nphases;
        case UElementKind::capacitor: return net.capacitors[i].nphases;
        default: return e.n_cond;
    }
}

/// GetControlVoltage on the monitored terminal's voltages (volts on the PT secondary).
double control_voltage(const UNetwork& net, const UCapControl& cc, const UMathModel& m, int element,
                       const std::vector<cplx>& v) {
    const UMathElement& e = m.elements[static_cast<std::size_t>(element)];
    const int off = (cc.terminal - 1) * e.n_cond;
    auto vt = [&](int k) { return k < e.n_cond ? node_v(v, e.node[static_cast<std::size_t>(off + k)]) : cplx{}; };
    const int np = monitored_nphases(net, e);
    if (cc.ptphase < 0) {
        double acc = cc.ptphase == UCapControl::kMin ? 1e50 : 0.0;
        for (int k = 0; k < np; ++k) {
            const double a = std::abs(vt(k));
            if (cc.ptphase == UCapControl::kAvg) acc += a;
            else if (cc.ptphase == UCapControl::kMax) acc = std::max(acc, a);
            else acc = std::min(acc, a);
        }
        return (cc.ptphase == UCapControl::kAvg ? acc / np : acc) / cc.ptratio;
    }
    const UCapacitor& cap = net.capacitors[static_cast<std::size_t>(cc.capacitor)];
    const int p = cc.ptphase - 1;
    if (cap.delta) return std::abs(vt(p) - vt((p + 1) % cap.nphases)) / cc.ptratio;  // NextDeltaPhase
    return std::abs(vt(p)) / cc.ptratio;
}

/// GetControlCurrent: as OpenDSS, one phase reads conductor ctphase of the element's FIRST
/// terminal (no terminal offset); AVG/MAX/MIN read the monitored terminal's first conductors.
double control_current(const UNetwork& net, const UCapControl& cc, const UMathModel& m, int element,
                       const std::vector<cplx>& v) {
    const UMathElement& e = m.elements[static_cast<std::size_t>(element)];
    const Eigen::VectorXcd i = element_currents(m, element, v);
    if (cc.ctphase > 0) return cc.ctphase <= i.size() ? std::abs(i[cc.ctphase - 1]) / cc.ctratio : 0.0;
    const int np = net.capacitors[static_cast<std::size_t>(cc.capacitor)].nphases;
    const int off = (cc.terminal - 1) * e.n_cond;
    double acc = cc.ctphase == UCapControl::kMin ? 1e50 : 0.0;
    for (int k = off; k < off + np && k < i.size(); ++k) {
        const double a = std::abs(i[k]);
        if (cc.ctphase == UCapControl::kAvg) acc += a;
        else if (cc.ctphase == UCapControl::kMax) acc = std::max(acc, a);
        else acc = std::min(acc, a);
    }
    return (cc.ctphase == UCapControl::kAvg ? acc / np : acc) / cc.ctratio;
}

/// Power[ElementTerminal]: into the monitored terminal, watts + j vars.
cplx terminal_power(const UMathModel& m, int element, int terminal, const std::vector<cplx>& v) {
    const UMathElement& e = m.elements[static_cast<std::size_t>(element)];
    const Eigen::VectorXcd i = element_currents(m, element, v);
    cplx s{0.0, 0.0};
    for (int k = (terminal - 1) * e.n_cond; k < terminal * e.n_cond; ++k)
        s += node_v(v, e.node[static_cast<std::size_t>(k)]) * std::conj(i[k]);
    return s;
}

int last_step_in_service(const UCapacitor& c) {
    int last = 0;
    for (std::size_t s = 0; s < c.kvar.size(); ++s)
        if (s >= c.states.size() || c.states[s] == 1) last = static_cast<int>(s) + 1;
    return last;
}

int available_steps(const UCapacitor& c) { return static_cast<int>(c.kvar.size()) - last_step_in_service(c); }

/// The OFF / ON tests of one type: `q` the measured quantity, "close" when above on (current,
/// kvar) or below on (voltage). Sets run.pending; returns ShouldSwitch.
bool test_band(UCapControlRun& run, bool close_above, double q, double on, double off, int available) {
    const bool want_on = close_above ? q > on : q < on;
    const bool want_off = close_above ? q < off : q > off;
    if (!run.closed) {
        run.pending = want_on ? kClose : kNone;
        return want_on;
    }
    if (!close_above) run.pending = kNone;  // the voltage branch resets first
    if (want_off) {
        run.pending = kOpen;
        return true;
    }
    if (available > 0) {
        if (want_on) run.pending = kClose;
        return want_on;
    }
    run.pending = kNone;
    return false;
}

/// The pf branch of TCapControlObj.Sample.
bool test_pf(UCapControlRun& run, const UCapControl& cc, const UCapacitor& cap, cplx s) {
    const double sabs = std::abs(s);
    double pf = sabs != 0.0 ? std::abs(s.real()) / sabs : 1.0;
    if (s.imag() < 0.0) pf = 2.0 - pf;
    double total_kvar = cap.kvar.empty() ? 0.0 : cap.kvar[0];  // Capacitor.pas FTotalkvar
    if (cap.kvar.size() > 1) {
        total_kvar = 0.0;
        for (double k : cap.kvar) total_kvar += k;
    }
    const double q_kvar = s.imag() * 0.001;
    if (!run.closed) {
        const bool on = pf < cc.pf_on && q_kvar > total_kvar * cc.pct_minkvar * 0.01;
        run.pending = on ? kClose : kNone;
        return on;
    }
    if (pf > cc.pf_off) {
        run.pending = kOpen;
        return true;
    }
    if (available_steps(cap) > 0) {
        const bool on = pf < cc.pf_on && q_kvar > total_kvar / static_cast<double>(cap.kvar.size()) * 0.5;
        if (on) run.pending = kClose;
        return on;
    }
    run.pending = kNone;
    return false;
}

/// TCapControlObj.Sample (without the queue): returns ShouldSwitch, sets run.pending.
bool sample_capcontrol(const UNetwork& net, const UCapControl& cc, UCapControlRun& run, const UMathModel& m,
                       const std::vector<cplx>& v) {
    const UCapacitor& cap = net.capacitors[static_cast<std::size_t>(cc.capacitor)];
    if (cc.type == UCapControlType::time) return false;  // not modelled: never arms
    const int e = monitored_element(net, m, cc.element);
    if (e < 0) return false;
    if (cc.voltoverride && cc.type != UCapControlType::voltage) {
        const double vt = control_voltage(net, cc, m, e, v);
        if (!run.closed && vt < cc.vmin) {
            run.pending = kClose;
            return true;
        }
        if (run.closed && vt > cc.vmax) {
            run.pending = kOpen;
            return true;
        }
    }
    const int avail = available_steps(cap);
    switch (cc.type) {
        case UCapControlType::current:
            return test_band(run, true, control_current(net, cc, m, e, v), cc.onsetting, cc.offsetting, avail);
        case UCapControlType::voltage:
            return test_band(run, false, control_voltage(net, cc, m, e, v), cc.onsetting, cc.offsetting, avail);
        case UCapControlType::kvar:
            return test_band(run, true, terminal_power(m, e, cc.terminal, v).imag() * 0.001, cc.onsetting,
                             cc.offsetting, avail);
        case UCapControlType::pf: return test_pf(run, cc, cap, terminal_power(m, e, cc.terminal, v));
        default: return false;
    }
}

/// TCapControlObj.DoPendingAction (static clock at 0).
void act_capcontrol(UNetwork& net, const UCapControl& cc, UCapControlRun& run) {
    UCapacitor& cap = net.capacitors[static_cast<std::size_t>(cc.capacitor)];
    cap.states.resize(cap.kvar.size(), 1);
    const int n = static_cast<int>(cap.kvar.size());
    const int last = last_step_in_service(cap);
    if (run.pending == kOpen && run.closed) {
        if (last > 0) cap.states[static_cast<std::size_t>(last - 1)] = 0;  // SubtractStep
        if (n == 1 || last <= 1) run.closed = false;
        if (n == 1) run.last_open_time_s = 0.0;
    } else if (run.pending == kClose) {
        run.closed = true;
        if (last < n) cap.states[static_cast<std::size_t>(last)] = 1;  // AddStep
    }
    run.armed = false;
}

void start_runs(const UNetwork& net, std::vector<UCapControlRun>& runs) {
    if (runs.size() == net.capcontrols.size()) return;
    runs.assign(net.capcontrols.size(), UCapControlRun{});
    for (std::size_t c = 0; c < runs.size(); ++c) runs[c].last_open_time_s = -net.capcontrols[c].deadtime_s;
}

bool capcontrol_usable(const UNetwork& net, const UCapControl& cc) {
    return cc.enabled && cc.capacitor >= 0 && cc.capacitor < static_cast<int>(net.capacitors.size()) &&
           net.capacitors[static_cast<std::size_t>(cc.capacitor)].enabled &&
           !net.capacitors[static_cast<std::size_t>(cc.capacitor)].kvar.empty();
}

/// Sample every CapControl and keep OpenDSS's queue bookkeeping (arm once, take off on reset).
void sample_all(const UNetwork& net, const UMathModel& m, const std::vector<cplx>& v, std::vector<UCapControlRun>& runs) {
    for (std::size_t c = 0; c < net.capcontrols.size(); ++c) {
        const UCapControl& cc = net.capcontrols[c];
        UCapControlRun& run = runs[c];
        if (!capcontrol_usable(net, cc)) continue;
        const bool should_switch = sample_capcontrol(net, cc, run, m, v);
        if (should_switch && !run.armed) {
            double delay = cc.delayoff_s;
            if (run.pending == kClose) {
                const double since_open = 0.0 - run.last_open_time_s;
                delay = since_open < cc.deadtime_s ? std::max(cc.delay_s, cc.deadtime_s + cc.delay_s - since_open)
                                                   : cc.delay_s;
            }
            run.action_time_s = delay;
            run.armed = true;
        }
        if (run.armed && run.pending == kNone) run.armed = false;
    }
}

}  // namespace

int step_static_controls(UNetwork& net, const UMathModel& m, const std::vector<cplx>& v,
                         std::vector<UCapControlRun>& runs) {
    start_runs(net, runs);
    // scratch kept between calls (issue 15, h2): a time series' control loop allocates nothing once sized
    static thread_local ucontrols_detail::RegQueue q;
    ucontrols_detail::sample_regcontrols(net, m, v, q);
    sample_all(net, m, v, runs);
    double nearest_s = std::numeric_limits<double>::infinity();
    for (std::size_t r = 0; r < net.regcontrols.size(); ++r)
        if (q.armed[r]) nearest_s = std::min(nearest_s, net.regcontrols[r].delay_s);
    for (const UCapControlRun& run : runs)
        if (run.armed) nearest_s = std::min(nearest_s, run.action_time_s);
    int acted = 0;
    for (std::size_t r = 0; r < net.regcontrols.size(); ++r) {
        if (!q.armed[r] || net.regcontrols[r].delay_s > nearest_s) continue;
        ucontrols_detail::act_regcontrol(net, static_cast<int>(r), q.pending_pu[r]);
        ++acted;
    }
    for (std::size_t c = 0; c < runs.size(); ++c) {
        if (!runs[c].armed || runs[c].action_time_s > nearest_s) continue;
        act_capcontrol(net, net.capcontrols[c], runs[c]);
        ++acted;
    }
    return acted;
}

int step_capcontrols(UNetwork& net, const UMathModel& m, const std::vector<cplx>& v) {
    std::vector<UCapControlRun> runs;
    start_runs(net, runs);
    for (std::size_t c = 0; c < runs.size(); ++c) {
        const UCapControl& cc = net.capcontrols[c];
        if (capcontrol_usable(net, cc)) runs[c].closed = last_step_in_service(net.capacitors[static_cast<std::size_t>(cc.capacitor)]) > 0;
    }
    sample_all(net, m, v, runs);
    int acted = 0;
    for (std::size_t c = 0; c < runs.size(); ++c) {
        if (!runs[c].armed) continue;
        act_capcontrol(net, net.capcontrols[c], runs[c]);
        ++acted;
    }
    return acted;
}

}  // namespace libgrid
