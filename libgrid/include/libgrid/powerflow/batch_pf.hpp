// libgrid: a batch of power flows on one network, power-grid-model style: one call, a matrix of
// load updates in (scenarios x loads, p and q), matrices of results out (scenarios x elements).
//
// The network's model (topology, Ybus) is built once and each thread analyses its solver once
// (KLU's symbolic factorisation, the sweep's tree); a scenario then only replaces the loads' p and
// q, rebuilds the injections and solves. Every scenario starts from the same voltages (the case's,
// or with warm_start the base case's solution), so a scenario's results do not depend on the
// thread count or on which thread ran it, and equal run_power_flow on the network with that
// scenario's loads, bit for bit. Networks with active controls (on-load tap changers, switched
// shunts) or enforce_q_limits run each scenario through run_power_flow (same answers, no
// shared setup).
//
// Thread safety (docs/threads.md): run_pf_batch uses its own pool of options.threads and reads its
// const Network only; several batches may run at once on different threads.
#pragma once

#include <libgrid/powerflow/powerflow.hpp>

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace libgrid {

/// The load updates: row s (scenario s) gives p_mw / q_mvar of the loads `load_ids`, in that order.
/// Not owned: the arrays must outlive the call. An empty p_mw (or q_mvar) keeps every load's p (q)
/// of the network; other loads keep theirs.
struct PfBatchUpdate {
    std::vector<Id> load_ids;           ///< columns; empty = every load, in Network::loads order
    std::size_t n_scenarios = 0;
    std::span<const double> p_mw;       ///< n_scenarios x load_ids.size(), row-major, MW (consumption > 0)
    std::span<const double> q_mvar;     ///< the same, MVAr
};

struct PfBatchOptions {
    PowerFlowOptions pf;     ///< method (nr, sweep, auto, fdxb), tolerance, ... as for run_power_flow
    int threads = 1;         ///< scenarios in parallel; results identical at any count
    /// Start every scenario from the base case's solution (the network's loads, solved once) instead
    /// of the case voltages: fewer iterations when the scenarios are near the base case.
    bool warm_start = false;
    /// Newton-Raphson: each thread keeps one solver for all its scenarios (no KLU symbolic analysis
    /// and no Jacobian pattern per scenario), its pivot order fixed by a first solve of the base
    /// case in every thread, so that results still do not depend on the thread count (KLU re-pivots
    /// only if a pivot degrades, rcond < 1e-14). They then equal run_power_flow's to rounding
    /// (about 1e-13 p.u.), not bit for bit. false: a fresh solver per scenario (bit for bit).
    bool reuse_solver = false;
};

/// One result quantity of every scenario: `<group>/<name>` (the names of run_pf's tables and of the
/// results files), values row-major, n_scenarios x ids.size().
struct PfBatchArray {
    std::string group;  ///< bus, gen, ext_grid, branch, line, trafo, shunt
    std::string name;   ///< vm_pu, va_deg, p_mw, ..., loading_percent
    std::string unit;
    std::vector<double> values;
};

struct PfBatchResult {
    std::size_t n_scenarios = 0;
    Method method_used = Method::NewtonRaphson;
    std::vector<char> converged;        ///< per scenario
    std::vector<int> iterations;        ///< per scenario
    std::vector<double> max_mismatch;   ///< per scenario, p.u.
    std::vector<double> losses_mw, losses_mvar;  ///< per scenario
    std::vector<std::string> messages;  ///< per scenario: why it failed / controls notes ("" when none)
    /// Column labels per group: "bus" -> bus ids, "line" -> line ids, ...
    std::vector<std::pair<std::string, std::vector<Id>>> ids;
    std::vector<PfBatchArray> arrays;   ///< every quantity, in a fixed order (bus first)
    double solve_time_s = 0.0;          ///< wall time of the whole call

    std::size_t n_converged() const;
    /// The array `<group>/<name>`; throws Error naming it when there is none.
    const PfBatchArray& array(const std::string& group, const std::string& name) const;
    PfBatchArray& array(const std::string& group, const std::string& name);
    /// The column ids of a group; throws Error for an unknown group.
    const std::vector<Id>& group_ids(const std::string& group) const;
    /// Value of `<group>/<name>` at (scenario, column).
    double at(const std::string& group, const std::string& name, std::size_t scenario, std::size_t column) const;
};

/// Solves every scenario of `update` on `net` (validated first). Never throws on non-convergence
/// (converged[s] says so). Throws ValidationError for wrong shapes and non-finite values (naming the
/// scenario and the load id), IdError for unknown or repeated load ids, ValidationError for methods
/// other than nr, sweep, auto and fdxb.
PfBatchResult run_pf_batch(const Network& net, const PfBatchUpdate& update, const PfBatchOptions& options = {});

/// The network with scenario s of `update` applied (its loads' p and q replaced): what the batch
/// solves as scenario s, for a single run_power_flow (tests, debugging one scenario).
Network apply_pf_batch_scenario(const Network& net, const PfBatchUpdate& update, std::size_t s);

}  // namespace libgrid
