// libgrid power flow: the unbalanced power flow of a time series, one step after another (issue 15).
//
// UTimeStepper is what the time-series engine drives on an unbalanced grid: a UPowerFlow (model,
// analysis and factorisation once) plus the connections where devices inject, with every per-step
// quantity the engine records computed into rows sized once. Each step: set_load / set_connection_power
// -> solve -> the rows. Nothing allocates after the constructor.
//
// Thread safety (docs/threads.md): a UTimeStepper (like a UPowerFlow, powerflow/unbalanced.hpp) is
// used by one thread at a time (its solves keep state, some of it cached in const methods);
// different steppers may run on different threads at once.
#pragma once

#include <libgrid/powerflow/unbalanced.hpp>

#include <complex>
#include <memory>
#include <string>
#include <vector>

namespace libgrid {

/// Where devices meet an unbalanced grid: a bus and the phases they use. Each phase is connected
/// phase to neutral where the bus has a neutral node (conductor 4), else phase to ground.
struct UConnection {
    int bus = -1;             ///< index into UNetwork::buses
    std::vector<int> phases;  ///< conductor numbers 1..3 (a, b, c), each once, ascending
    bool operator==(const UConnection&) const = default;
};

/// Parses "a", "b", "c", "ab", "bc", "ca", "abc" (any case, any order of the letters) into conductor
/// numbers, ascending. Throws ValidationError "<who>: field 'phases': ..." on anything else.
std::vector<int> parse_phases(const std::string& phases, const std::string& who);

class UTimeStepper {
public:
    /// `connections`: the points devices inject at; each becomes a constant-power element (at every
    /// voltage) split equally over its phases. The network must outlive the object; loads keep their
    /// own models (kw / kvar at their kV, OpenDSS's voltage-dependence).
    UTimeStepper(UNetwork& net, std::vector<UConnection> connections, const UPfOptions& opt = {});
    ~UTimeStepper();
    UTimeStepper(const UTimeStepper&) = delete;
    UTimeStepper& operator=(const UTimeStepper&) = delete;

    // ---- what is where (fixed for the object's life) ------------------------------------------------
    int n_nodes() const;                      ///< the model's nodes (bus, conductor), model order
    int node_bus(int node) const;             ///< bus index
    int node_conductor(int node) const;       ///< 1..3 phases, 4 neutral (or higher: OpenDSS's number)
    double node_vbase_volts(int node) const;  ///< phase-to-ground base: kv_base_ll / sqrt(3) x 1000
    int n_connections() const;
    const UConnection& connection(int c) const;
    /// Branches: every line, then every transformer, in network order (disabled ones too: rows NaN).
    int n_branches() const;
    bool branch_is_transformer(int b) const;
    int branch_element(int b) const;          ///< index into net.lines or net.transformers
    /// A line's normamps, a transformer's rated winding-1 phase current (kVA / phases / kV_phase), A.
    double branch_rated_amps(int b) const;
    int n_sources() const;                    ///< net.vsources

    // ---- each step (no allocation) --------------------------------------------------------------
    /// A load's nominal consumption at its kV (what apply_loadshapes_at sets), kW / kvar.
    void set_load(int load, double kw, double kvar);
    /// A connection's power, generator convention (+ = into the grid), total over its phases.
    void set_connection_power(int c, double p_kw, double q_kvar);
    /// Solve from the last answer (the model's start the first time); the static controls when the
    /// options ask for them. converged = false with status().message when it did not.
    USolveStats solve();
    const UPfResult& status() const;
    /// A connection's voltage, p.u. of the phase-to-neutral base: one phase, its phase-to-neutral
    /// voltage; two, their mean; three, the positive-sequence component of the three.
    std::complex<double> connection_voltage_pu(int c) const;

    // ---- the rows of the last solve (caller's arrays, the sizes above) ------------------------------
    /// Per node: |V| to ground in volts, |V| / base, angle in degrees.
    void node_rows(double* v_volts, double* vm_pu, double* va_deg) const;
    /// Per branch b: the current of conductors a, b, c, n at terminal 1 (line: bus1; transformer:
    /// winding 1) into i_amps[4 b + k], NaN for a conductor the element does not have; loading:
    /// the largest phase current over both terminals / branch_rated_amps, percent; p_loss_kw: the
    /// element's losses (sum of the power into it over all terminals and conductors).
    void branch_rows(double* i_amps, double* loading_percent, double* p_loss_kw) const;
    /// Per transformer t: power into it per phase a, b, c at winding 1 then winding 2:
    /// p_kw[6 t + 3 w + k], likewise q_kvar.
    void transformer_rows(double* p_kw, double* q_kvar) const;
    /// Per source s: power it delivers into the network per phase a, b, c: p_kw[3 s + k], q_kvar.
    void source_rows(double* p_kw, double* q_kvar) const;
    /// Per load: the power it draws at the solved voltage (> 0 consuming), kW / kvar.
    void load_rows(double* p_kw, double* q_kvar) const;
    /// Per bus: voltage unbalance factor |V2| / |V1| x 100 of its phase-to-neutral (else to ground)
    /// voltages, NaN where the bus has not three phases.
    void vuf_rows(double* vuf_percent) const;
    /// Per bus: the neutral's voltage to ground (V) where the bus has a neutral node, else NaN.
    void neutral_rows(double* v_neutral_volts) const;
    /// The energy balance of the step: sources + connections - loads - losses (kW; 0 up to the
    /// tolerance), and by conductor a, b, c, n (residual_kw[4]): the power into every element on
    /// that conductor, summed over all elements (KCL: 0 for a solved state).
    double balance_kw(double* residual_by_conductor_kw) const;
    double losses_kw() const;

    /// Added (h2): the reduced fixed point is in use (UPowerFlow::reduced; its load nodes include
    /// the connections' nodes).
    bool reduced() const;

    /// Added (h6): node_rows without the angles (the atan2 of every node is ~15 % of a step with
    /// every row on the European LV feeder): |V| to ground in volts and |V| / base per node.
    void node_rows(double* v_volts, double* vm_pu) const;
    /// Added (h6): the node angles alone, degrees (what node_rows' va_deg gets), for a caller
    /// that records them.
    void node_angles(double* va_deg) const;

    /// Added (issue 15, H5): Y's load admittances at the loads' present kw / kvar (the last
    /// set_load; the connections keep theirs), refactorised (UPowerFlow::rebase_loads). Call it
    /// once, after the first step's set_load: a time series then iterates less (the European LV
    /// day: 6.06 -> 5.0 fixed-point iterations a step at 1e-10), the answers the same to the
    /// tolerance. Allocates: not per step.
    void rebase_loads();
    /// Added (issue 15b, H2): the node voltages of the last solve (phasors to ground, volts, model
    /// order): what the next solve starts from, and what a checkpoint keeps.
    const std::vector<std::complex<double>>& voltages() const;
    /// Added (issue 15b, H2): the next solve starts from `v` (n_nodes() values, else ValidationError).
    void set_voltages(const std::vector<std::complex<double>>& v);
    /// Added (issue 15, H3): the rows of the unbalance KPIs (docs/kpis.md). Per branch b:
    /// loading_percent[4 b + k] for conductor k = a, b, c, n: the larger of its two terminals'
    /// currents / the terminal's rated amps (a line's normamps; a transformer winding's rated phase
    /// current, kVA / phases / kV_phase), percent, NaN where the element has no conductor on that
    /// node (a terminal on ground counts no current; a line from a bus to the same bus, an earth
    /// electrode, is no cable: all NaN); so max over a, b, c is branch_rows' loading. neutral_loss_kw[b]: the power into the branch through its conductors on neutral nodes
    /// (node 4) at every terminal, sum Re(V_n conj(I_n)) (for a line without mutual impedance to its
    /// neutral, R_n |I_n|^2; for an earth electrode, |V_n|^2 / R); NaN where it has none.
    /// trafo_phase_percent[3 t + k]: transformer t's winding-2 (LV) current of phase k over the
    /// winding's rated phase current (its rating / phases per phase), NaN where it has no phase k.
    /// neutral_amps[b]: the largest current of the branch's conductors on neutral nodes over all its
    /// terminals (a Dyn transformer's LV star point included), A; NaN where it has none and for a line
    /// from a bus to the same bus (an earth electrode).
    void conductor_rows(double* loading_percent, double* neutral_loss_kw, double* trafo_phase_percent, double* neutral_amps) const;
    /// Added (issue 15b, H2): per transformer, its no-load (core) loss, kW and kvar: the power into
    /// the no-load part of its yprim (%noloadloss, %imag on winding 2), sum V conj(Y_shunt V) over
    /// its terminals, as OpenDSS's TTransfObj.GetLosses NoLoadLosses; 0 where the transformer has
    /// neither, NaN where it is disabled.
    void transformer_noload_rows(double* p_kw, double* q_kvar) const;

    /// Added (issue 15, H4): the phase conductor (1..3) whose current for its terminal's rating
    /// sets branch_rows' loading_percent of branch b in the last solve (terminal 2 when it is the
    /// worse: a transformer's LV side); 0 when the branch is out or carries nothing.
    int branch_worst_phase(int b) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace libgrid
