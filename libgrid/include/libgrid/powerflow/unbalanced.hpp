// libgrid power flow: the unbalanced (multi-phase) power flow, one call, results per node,
// per element terminal and per three-phase bus, and the static control loop (regulators,
// capacitors) as OpenDSS's static control mode runs it.
#pragma once

#include <libgrid/model/unetwork.hpp>
#include <libgrid/solvers/usolvers.hpp>

#include <array>
#include <string>
#include <vector>

namespace libgrid {

enum class UControlMode : std::uint8_t { off, static_ };

struct UPfOptions {
    UMethod method = UMethod::automatic;
    UControlMode controls = UControlMode::static_;
    double tolerance = 1e-9;        ///< max |dV| in p.u. between iterations
    int max_iterations = 100;
    int max_control_iterations = 30;
    /// Added (h6): UPowerFlow may use the reduced fixed point (fixed_point or automatic, when
    /// reduced_fixed_point_fits). run_unbalanced_pf, one solve, never does: its set-up (one sparse
    /// solve per load node) pays back over several solves only.
    bool reduced_fixed_point = true;
};

/// Node voltages, one row per node (column vectors, in the model's node order: buses in
/// UNetwork order, nodes of a bus ascending).
struct UNodeResults {
    std::vector<int> bus;             ///< UNetwork bus index
    std::vector<int> phase;           ///< 1, 2, 3 (a, b, c), 4 neutral
    std::vector<cplx> v_volts;        ///< phasor, line to ground
    std::vector<double> vm_volts, vm_pu, va_deg;  ///< vm_pu: of the bus's line-to-neutral base
};

struct UTerminalResult {
    int bus = -1;
    std::vector<int> nodes;           ///< node number per conductor (0 ground)
    std::vector<cplx> current_a;      ///< into the element, per conductor
    std::vector<cplx> power_kva;      ///< into the element, per conductor: V conj(I) / 1000
};

struct UElementResult {
    std::string name;                 ///< "line.650632", "transformer.sub", "load.671", ...
    UElementKind kind = UElementKind::line;
    int index = -1;                   ///< into its UNetwork table
    std::vector<UTerminalResult> terminals;
    cplx losses_kva{0.0, 0.0};        ///< sum of the power into all terminals (lines, transformers)
};

/// Voltage unbalance of a bus with phases 1, 2, 3: symmetrical components of the phase-to-ground
/// voltages; vuf_pct = |V2| / |V1| * 100 (IEC 61000-4-30's definition on the phase voltages).
struct UUnbalance {
    int bus = -1;
    double vuf_pct = 0.0;
    double v0_volts = 0.0, v1_volts = 0.0, v2_volts = 0.0;
    double v_neutral_volts = std::numeric_limits<double>::quiet_NaN();  ///< node 4 to ground, when modelled
};

struct UTapResult {
    std::string regcontrol, transformer;
    int winding = 2;
    double tap_pu = 1.0;
    int position = 0;                 ///< steps from 1.0: round((tap - 1) / step)
};

/// Added (h8): a controlled capacitor's steps after the control loop (1 in, 0 out).
struct UCapState {
    std::string capcontrol, capacitor;
    std::vector<int> states;
};

struct UPfResult {
    bool converged = false;
    int iterations = 0;               ///< of the last solve
    int total_iterations = 0;         ///< over the control loop
    int control_iterations = 0;
    UMethod method_used = UMethod::fixed_point;
    std::string message;              ///< why it failed, when it did
    cplx source_kva{0.0, 0.0};        ///< total power out of the sources, kW + j kvar
    std::vector<std::array<cplx, 3>> source_kva_phase;  ///< per Vsource, per phase
    cplx losses_kva{0.0, 0.0};        ///< lines + transformers (+ source impedance not included)
    UNodeResults node;
    std::vector<UElementResult> element;  ///< lines, transformers, loads, capacitors, vsources
    std::vector<UUnbalance> unbalance;    ///< per bus with phases 1, 2, 3
    std::vector<UTapResult> taps;         ///< per RegControl
    std::vector<UCapState> capacitors;  ///< added (h8): per Capacitor under a CapControl
};

/// Solve. With controls static, regulators and capacitor controls act between solves until
/// none moves (or max_control_iterations); the settled taps are written back into `net`.
/// Bus voltage bases missing where settings.voltage_bases_kv is set are computed first
/// (`calc_voltage_bases`). Throws ValidationError on a network that cannot be modelled; a
/// solve that does not converge returns converged = false with the message.
UPfResult run_unbalanced_pf(UNetwork& net, const UPfOptions& opt = {});

/// OpenDSS's CalcVoltageBases: a no-load solve, then each bus gets the base of
/// settings.voltage_bases_kv nearest to its voltage.
void calc_voltage_bases(UNetwork& net);

/// One iteration of the static control mode on a solved state: every enabled RegControl reads
/// its PT voltage (winding `winding`, conductor `ptphase`, divided by ptratio), compensates the
/// line drop with R, X and the CT current (ctprim), and when outside vreg +- band/2 moves its
/// tap by the steps that bring it back to vreg (at most maxtapchange, within min/max tap).
/// Returns how many regulators moved. `m` and `v` are the model and solution the state came from.
int step_regcontrols(UNetwork& net, const UMathModel& m, const std::vector<cplx>& v);

/// Added (h8): what one CapControl keeps between control iterations of one solve (OpenDSS's
/// TCapControlVars: PresentState, Armed, PendingChange, the queued action's time, LastOpenTime).
struct UCapControlRun {
    bool closed = true;          ///< PresentState: the capacitor's terminal closed (OpenDSS starts closed)
    bool armed = false;          ///< an action is in the control queue
    int pending = 0;             ///< PendingChange: +1 close (add a step), -1 open (take one out), 0 none
    double action_time_s = 0.0;  ///< the queued action's time (the static mode's clock stays at 0)
    double last_open_time_s = -1e300;  ///< set to -deadtime at the start
    bool started = false;
};

/// Added (h8): one iteration of OpenDSS's static control mode over regulators AND capacitor
/// controls: every RegControl and CapControl samples the solved state (CapControl.Sample: the
/// voltage override, then current / voltage / kvar / pf against onsetting and offsetting) and
/// queues its action at its delay (a capacitor: delay to close, delayoff to open; a close after
/// the same single-step bank opened waits deadtime + delay); then the actions with the nearest
/// time run (ControlQueue.DoNearestActions), the others stay queued. `runs` (one per
/// net.capcontrols, filled on first use) carries the capacitor controls' state from one
/// iteration to the next. Returns the number of actions run (0: the queue is empty, the loop is
/// done).
int step_static_controls(UNetwork& net, const UMathModel& m, const std::vector<cplx>& v,
                         std::vector<UCapControlRun>& runs);

/// Added (h8): one control iteration of the capacitor controls alone, each from a fresh state
/// whose PresentState is "closed" when a step is in. Returns how many acted.
int step_capcontrols(UNetwork& net, const UMathModel& m, const std::vector<cplx>& v);

}  // namespace libgrid

#include <memory>

namespace libgrid {

/// Added (h6, issue 14): a compiled power flow that is solved again and again (what OpenDSS's
/// `solve` on a compiled circuit is, and what a time series needs): the model (topology, Y) and the
/// solver (analysis, factorisation, and for the reduced fixed point V0 and Z_LL) are built once.
/// Between solves the loads may change (`update_loads` after e.g. apply_loadshapes_at) without
/// touching Y: each load keeps the yprim it put into Y and its compensation current carries the new
/// kW / kvar, as in OpenDSS. The network must outlive the object; taps moved by the controls are
/// written back into it (as run_unbalanced_pf does). With method fixed_point or automatic, the
/// reduced fixed point (make_reduced_usolver) is used when reduced_fixed_point_fits; automatic
/// otherwise picks as make_usolver.
/// Thread safety (docs/threads.md): one thread at a time per UPowerFlow (it writes taps into its
/// network and keeps the solver's state); different objects on different networks may solve at once.
class UPowerFlow {
public:
    UPowerFlow(UNetwork& net, const UPfOptions& opt = {});
    ~UPowerFlow();
    UPowerFlow(const UPowerFlow&) = delete;
    UPowerFlow& operator=(const UPowerFlow&) = delete;

    /// Re-read every load's kw / kvar from the network into the model (p_w, q_var, y_nom), Y kept.
    void update_loads();
    /// Solve from the last solution (the model's start the first time), then the static controls
    /// when the options ask for them. Returns the last solve's statistics; converged is false when
    /// any solve or the control loop failed (status() says why).
    USolveStats solve();
    /// Start the next solve from the model's start (a cold start) instead of the last answer.
    void reset_start();
    /// The tables of the last solve (nodes, element terminals, unbalance, taps), computed now.
    UPfResult result() const;
    const std::vector<cplx>& v() const { return v_; }
    const UMathModel& model() const { return m_; }
    UMethod method() const;
    bool reduced() const { return reduced_; }   ///< the reduced fixed point is in use
    const UPfResult& status() const { return status_; }  ///< the counters of result(), no tables
    const UNetwork& network() const { return net_; }
    /// Added (issue 15, h2): one load's kw / kvar into the network (net.loads[model().loads[math_load].load])
    /// and into its model entry (p_w, q_var, y_nom), as update_loads does for all of them; no allocation.
    /// `math_load` indexes model().loads. Y is kept (the load's yprim stays what it put into Y).
    void set_load_kw(int math_load, double kw, double kvar);
    /// Added (issue 15, H5): put the loads' nominal admittances into Y at their present kw / kvar
    /// (OpenDSS's Yeq; Y was built with the kw the network had at construction), for the network's
    /// loads [0, n_loads) (all when negative), then refactorise (the reduced fixed point: its |L| solves
    /// again). The answers are the same to the tolerance; the fixed point needs fewer iterations when
    /// Y holds loads near what they draw (the European LV day: Y built at the scripts' kW = 1, 8,726
    /// iterations; at the first minute's kW, 7,207). Allocates (once per call): not per step.
    void rebase_loads(int n_loads = -1);
    /// Added (issue 15b, H2): the voltages the next solve starts from (a checkpoint's, or the last
    /// run's after a rebuild); `v` has model().n_nodes values. Throws ValidationError otherwise.
    void set_v(const std::vector<cplx>& v);

private:
    void make_solver(UMethod method);
    USolveStats solve_once();
    bool control_loop();

    UNetwork& net_;
    UPfOptions opt_;
    UMathModel m_;
    std::unique_ptr<USolver> solver_;
    bool reduced_ = false;
    std::vector<cplx> v_;
    UPfResult status_;
    // added (issue 15, h2): the control loop's scratch, kept between solves (no allocation once sized)
    std::vector<UCapControlRun> runs_;
    std::vector<double> taps_before_;
    std::vector<std::vector<int>> caps_before_;
};

}  // namespace libgrid
