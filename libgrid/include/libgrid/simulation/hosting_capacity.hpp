// libgrid: hosting capacity in kW. For a group of customers (a feeder, a transformer, any set), the
// most PV or EV charging, in installed kW, the grid takes before a limit is first broken over a time
// series: voltage band, line or transformer loading, and (optionally) reverse flow through
// transformers.
//
// PV: every customer of the group may get up to `HostingGroup::max_kw[i]` kW (its roof or connection
// limit, less what it has). A probe at scale factor s gives every customer s * max_kw[i] (inverter kW
// AC; the DC/AC ratio of `pv`) and runs the period, stopping at the first violation. Bisection on s
// until the bracket on the group's added kW is at most `tolerance_kw`. When s = 1 breaks nothing,
// the answer is the roof / connection limit ("roof_limit"), not a grid limit.
// EV: discrete chargers of `ev_charger_kw` with seeded sessions, given to the eligible customers
// (max_kw[i] > 0) in a fixed seeded order; bisection on their number (tolerance: one charger).
//
// The result names the limiting constraint, its time and its place: the first violation of the
// smallest probe found to break a limit (within the tolerance above the answer).
//
// Issue 15, unbalanced networks (the UNetwork overload): every unit connects to its customer's
// phases (a single-phase customer's PV and charger on its one phase, line to neutral; a
// three-phase customer's on abc), the voltage limits are per phase (phase to neutral), loading is
// per conductor (lines) and per transformer phase, and a three-phase bus whose voltage unbalance
// factor exceeds `sim.vuf_limit_percent` (default 2 %, IEC 61000-2-2) breaks the limit "unbalance".
// The result names the binding limit's phase (Violation::phase) and the kW added per phase.
#pragma once

#include <libgrid/model/unetwork.hpp>

#include <libgrid/simulation/engine.hpp>

#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace libgrid {

enum class HostingKind : int { PV = 0, EV = 1 };
HostingKind parse_hosting_kind(const std::string& s);  ///< "pv" | "ev"

/// A set of customers (load ids) studied together, e.g. everything below one transformer.
struct HostingGroup {
    Id id = 0;
    std::string kind;            ///< "feeder", "transformer", ... (a label)
    std::vector<Id> customers;   ///< load ids
    /// Per customer (same order): the most kW it can get on top of what it has (roof / connection
    /// limit; EV: > 0 = may get a charger). Empty: PV, one unit of `pv.inverter_kva` each; EV, every
    /// customer may get a charger.
    std::vector<double> max_kw;
    double rating_kva = 0.0;     ///< the group's rating (reported only): transformer kVA, ...
    double installed_kw = 0.0;   ///< PV inverter kW or charger kW the group has before (reported only)
};

/// Called after every time-series run: the group's index, the number of groups, runs so far in the group.
using HostingProgress = std::function<void(std::size_t group, std::size_t n_groups, int runs)>;

struct HostingCapacityOptions {
    HostingKind kind = HostingKind::PV;
    PvParams pv = [] {  ///< a 1 kW unit: its DC/AC ratio and model parameters scale to each customer's kW
        PvParams p;
        p.kwp_dc = 1.0;
        p.inverter_kva = 1.0;
        return p;
    }();
    double tolerance_kw = 1.0;         ///< PV: the answer is within this of the group's limit (kW AC)
    double ev_charger_kw = 7.0;        ///< home charger rating (melaka.md: AC 3.7, 7, 22 kW)
    double ev_sessions_per_day = 1.0;
    EvStrategy ev_strategy = EvStrategy::Uncontrolled;
    std::uint64_t order_seed = 1;      ///< EV: order in which customers receive a charger
    SimulationOptions sim;             ///< period, step, limits (loading_limit_percent, reverse flow); output ignored
    HostingProgress progress;          ///< optional
};

struct HostingCapacityResult {
    Id group = 0;
    std::string group_kind;
    std::size_t customers = 0;        ///< in the group
    double rating_kva = 0.0;          ///< HostingGroup::rating_kva
    double installed_kw = 0.0;        ///< before the study (HostingGroup::installed_kw)
    double max_kw = 0.0;              ///< installed_kw + the most the customers can add (sum of max_kw): the roof / connection limit
    double added_kw = 0.0;            ///< the most added without a violation (within tolerance_kw)
    double hosting_kw = 0.0;          ///< installed_kw + added_kw
    double share = 1.0;               ///< hosting_kw / max_kw: the share of the roof / connection limit the grid takes (1 when max_kw = 0)
    double tolerance_kw = 0.0;        ///< of added_kw
    std::size_t hosted = 0;           ///< customers given a unit at the answer (PV: every eligible one when added_kw > 0)
    bool limited = false;             ///< a grid limit binds before max_kw
    bool violated_without = false;    ///< the base case already breaks a limit (capacity 0)
    Violation limit;                  ///< the binding violation (when limited)
    int runs = 0;                     ///< time-series runs made
    /// limit.kind when limited, else "roof_limit" (PV) or "connection_limit" (EV): nothing in the grid binds.
    std::string limit_name(HostingKind kind) const;
    /// Added (issue 15, H4): unbalanced networks: added_kw by the phase it sits on, a, b, c (a
    /// three-phase customer's kW split equally over its phases); NaN on a balanced network.
    double added_kw_phase[3] = {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN(),
                                std::numeric_limits<double>::quiet_NaN()};
};

/// One result per group, in the order given. `base` devices stay in place (the study adds on top).
/// Deterministic.
std::vector<HostingCapacityResult> hosting_capacity(const Network& net, const DeviceSet& base,
                                                    const std::vector<HostingGroup>& groups,
                                                    const HostingCapacityOptions& options);

/// Issue 15: the same study on an unbalanced network (the header's comment): customers are its
/// loads (ULoad::id, else index + 1), units on their customers' phases, the limits per phase and
/// "unbalance" (VUF above options.sim.vuf_limit_percent at a three-phase bus).
std::vector<HostingCapacityResult> hosting_capacity(const UNetwork& net, const DeviceSet& base,
                                                    const std::vector<HostingGroup>& groups,
                                                    const HostingCapacityOptions& options);

}  // namespace libgrid
