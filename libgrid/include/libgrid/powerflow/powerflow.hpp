// libgrid: power-flow options, results and the one-call entry point.
//
// Thread safety (docs/threads.md): run_power_flow keeps no state between calls and changes nothing
// in its const Network: any number of threads may call it at once, on different networks or on one
// shared network (tests/cpp/simulation/test_threads.cpp). A PowerFlowResult is a plain value.
#pragma once

#include <libgrid/model/network.hpp>
#include <libgrid/solvers/method.hpp>

#include <string>
#include <vector>

namespace libgrid {

struct PowerFlowOptions {
    Method method = Method::NewtonRaphson;
    LinearSolverKind linear_solver = LinearSolverKind::Default;
    double tolerance = 1e-8;      ///< p.u.: max |mismatch| (NR, FDXB) / max |dV| (sweep)
    int max_iterations = 30;      ///< NR; FDXB and sweep use max(this, 100)
    bool flat_start = false;      ///< else start from the case voltages (gen setpoints at PV buses)
    bool enforce_q_limits = false;
    bool run_controls = true;     ///< OLTC and switched shunts, when present
    int max_control_iterations = 20;
};

/// One island of a power flow (docs/microgrid.md): every energised island, then every island that
/// collapsed (a droop island whose forming sources could not hold it; its buses are de-energised).
struct IslandResult {
    Id bus = 0;                ///< the island's first bus (lowest index in Network::buses)
    int n_buses = 0;           ///< its buses
    bool droop = false;        ///< held by grid-forming sources alone (no ext grid, slack or gen)
    bool collapsed = false;    ///< could not be held: de-energised, `cause` says why
    double frequency_hz = 0;   ///< f_hz where grid-connected, f_hz + df in a droop island, NaN collapsed
    double forming_p_mw = 0;   ///< sum of its forming sources' P (generator convention)
    std::string cause;         ///< why it collapsed ("sources at their P limit: load exceeds 1.5 MW ...")
};

/// Results, arrays in the network's own table order. Energy quantities in MW / MVAr.
/// A bus that is de-energised (in an island without a source, or out of service) has NaN voltage.
struct PowerFlowResult {
    bool converged = false;
    int iterations = 0;
    double max_mismatch = 0.0;
    double solve_time_s = 0.0;
    std::string message;  ///< why it failed, when it did
    Method method_used = Method::NewtonRaphson;

    // buses (Network::buses order)
    std::vector<double> bus_vm_pu, bus_va_deg;  ///< p.u. of vn_kv; degrees (NaN where de-energised)
    std::vector<double> bus_p_mw, bus_q_mvar;  ///< MW, MVAr: net injection (generation - load - shunt)
    std::vector<char> bus_energized;
    std::vector<char> bus_voltage_violation;  ///< outside [vmin_pu, vmax_pu]
    /// Ids of the in-service buses that are de-energised because no source (ext grid, slack bus or
    /// in-service generator) feeds their island, in bus order; out-of-service and isolated (type 4)
    /// buses are not listed. Non-empty means part of the grid is dead: front ends warn about it.
    std::vector<Id> deenergized_buses;

    // gens (Network::gens order); Q shared as MATPOWER shares it; MW, MVAr, generator convention
    std::vector<double> gen_p_mw, gen_q_mvar;
    // external grids (slack injections), MW, MVAr, generator convention (+ = into the network)
    std::vector<double> ext_grid_p_mw, ext_grid_q_mvar;
    // grid-forming sources (Network::forming order), generator convention; 0 where de-energised
    std::vector<double> forming_p_mw, forming_q_mvar;
    std::vector<int> forming_p_limit, forming_q_limit;  ///< +1 held at the max, -1 at the min, 0 on the droop
    /// Static generators' P (Network::sgens order, MW, generator convention): p_mw * scaling, less
    /// what frequency-watt curtails in a droop island; 0 where out of service or de-energised.
    std::vector<double> sgen_p_mw;
    /// Per bus: the frequency of its island (Hz): f_hz where grid-connected, f_hz + df in a droop
    /// island, NaN where de-energised.
    std::vector<double> bus_frequency_hz;
    std::vector<IslandResult> islands;

    // MATPOWER branches (Network::branches order)
    /// MW, MVAr flowing INTO the branch at its from / to end (so p_from + p_to = the branch's losses)
    std::vector<double> branch_p_from_mw, branch_q_from_mvar, branch_p_to_mw, branch_q_to_mvar;
    std::vector<double> branch_loading_percent;  ///< percent: |S| / rate_a, NaN when unrated
    // lines
    /// MW, MVAr into the line at each end; kA; losses pl = p_from + p_to (MW), ql likewise (MVAr,
    /// negative where charging exceeds I^2 X); loading percent of max_i_ka x parallel
    std::vector<double> line_p_from_mw, line_q_from_mvar, line_p_to_mw, line_q_to_mvar;
    std::vector<double> line_i_from_ka, line_i_to_ka, line_pl_mw, line_ql_mvar, line_loading_percent;
    // transformers
    /// MW, MVAr into the transformer at each side; kA; losses (MW, MVAr); loading percent of sn_mva
    std::vector<double> trafo_p_hv_mw, trafo_q_hv_mvar, trafo_p_lv_mw, trafo_q_lv_mvar;
    std::vector<double> trafo_i_hv_ka, trafo_i_lv_ka, trafo_pl_mw, trafo_ql_mvar, trafo_loading_percent;
    std::vector<int> trafo_tap_pos;
    // shunts
    std::vector<double> shunt_p_mw, shunt_q_mvar;  ///< MW, MVAr drawn (load convention)
    std::vector<int> shunt_step;

    double losses_mw = 0.0;   ///< MW: sum over branches (MATPOWER branches, lines, transformers) of P_from + P_to, >= 0
    /// MVAr: sum over the same branches of Q_from + Q_to, i.e. the reactive power the series
    /// reactances absorb (I^2 X, > 0) MINUS what the lines' shunt capacitance (charging, b / c_nf_per_km)
    /// generates. It is negative when the charging exceeds the series absorption: case118 gives
    /// -557.9 MVAr (its many high-voltage lines). Not a loss to pay for: the branches' net reactive
    /// balance (docs/units.md "losses_mw and losses_mvar").
    double losses_mvar = 0.0;
};

/// The ids of the in-service buses no source feeds (PowerFlowResult::deenergized_buses), from the
/// topology alone. Throws ValidationError / IdError on bad input.
std::vector<Id> deenergized_buses(const Network& net);

/// Solve a power flow on a validated network. Never throws on non-convergence (the result's
/// flag says so); throws ValidationError / IdError on bad input.
PowerFlowResult run_power_flow(const Network& net, const PowerFlowOptions& opt = {});

}  // namespace libgrid
