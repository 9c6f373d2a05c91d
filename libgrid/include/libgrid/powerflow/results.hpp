// libgrid: from a solved math model back to the network's tables (used by run_power_flow and the
// time-series engine).
#pragma once

#include <libgrid/math/math_model.hpp>
#include <libgrid/powerflow/powerflow.hpp>

#include <utility>
#include <vector>

namespace libgrid {

/// All radial islands with one slack each and no PV nodes: the sweep can solve it.
bool sweep_applicable(const MathModel& m);

/// Start voltages: the case's (or flat), set points at slack and PV nodes, DC angles where the
/// network has phase shifts but the case gives no angles.
std::vector<cplx> initial_voltages(const Network& net, const MathModel& m, bool flat, bool dc_angles = true);

/// Generator and ext-grid P, Q (MW, MVAr) after a solve, shared among generators as MATPOWER does.
void compute_sources(const Network& net, const MathModel& m, const std::vector<cplx>& V, std::vector<double>& gen_p,
                     std::vector<double>& gen_q, std::vector<double>& ext_p, std::vector<double>& ext_q);
void compute_gen_q(const Network& net, const MathModel& m, const std::vector<cplx>& V, std::vector<double>& gen_q);

/// One round of discrete controls after a solve: each on-load tap changer outside its band moves
/// one step (Ybus values rebuilt), each switched shunt outside [v_low, v_high] one step. Returns
/// true if anything changed (the caller re-solves; injections need update_injections for shunts).
bool apply_discrete_controls(Network& net, MathModel& m, const std::vector<cplx>& V,
                             std::vector<std::pair<int, BranchY>>* changed_branches = nullptr);

/// Ybus after one branch's block changed from `before` to m.branches[slot] (same ends): four entries.
void update_ybus_branch(MathModel& m, const BranchY& before, const BranchY& after);

/// Ids of the in-service, non-isolated buses without a node in `m` (their island has no source).
std::vector<Id> deenergized_bus_ids(const Network& net, const MathModel& m);

/// Full results in the network's table order and units.
PowerFlowResult make_results(const Network& net, const MathModel& m, const std::vector<cplx>& V, Method method);

}  // namespace libgrid
