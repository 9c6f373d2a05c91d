// libgrid: hosting capacity. For a group of customers (a feeder, a transformer, any set), the
// largest penetration of PV or EV charging before a limit is first broken over a time series:
// voltage band, line or transformer loading, and (optionally) reverse flow through transformers.
//
// Penetration = the share of the group's customers that get one unit (a PV system of `pv.kwp_dc`,
// or a home charger with seeded sessions), taken in a fixed seeded order; found by bisection on
// the number of customers, each probe a full time-series run that stops at its first violation.
// The result names the limiting constraint, its time and its place (the first violation one
// customer beyond the capacity).
#pragma once

#include <libgrid/simulation/engine.hpp>

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
};

struct HostingCapacityOptions {
    HostingKind kind = HostingKind::PV;
    PvParams pv = [] {
        PvParams p;
        p.kwp_dc = 5.0;  // a typical terrace-house rooftop (ATAP domestic cap 5 kW single phase, melaka.md)
        p.inverter_kva = 5.0;
        return p;
    }();
    double ev_charger_kw = 7.0;        ///< home charger rating (melaka.md: AC 3.7, 7, 22 kW)
    double ev_sessions_per_day = 1.0;
    EvStrategy ev_strategy = EvStrategy::Uncontrolled;
    std::uint64_t order_seed = 1;      ///< order in which customers receive a unit
    SimulationOptions sim;             ///< period, step, limits (loading_limit_percent, reverse flow); output ignored
};

struct HostingCapacityResult {
    Id group = 0;
    std::string group_kind;
    std::size_t customers = 0;        ///< in the group
    std::size_t hosted = 0;           ///< largest number of customers with a unit and no violation
    double share = 0.0;               ///< hosted / customers
    double hosted_kw = 0.0;           ///< installed: kWp (PV) or charger kW (EV)
    bool limited = false;             ///< a limit is broken within the group's size
    bool violated_without = false;    ///< the base case already breaks a limit (capacity 0)
    Violation limit;                  ///< the first violation at hosted + 1 (when limited)
    int runs = 0;                     ///< time-series runs made
};

/// One result per group, in the order given. `base` devices stay in place (the penetration is added
/// on top). Deterministic.
std::vector<HostingCapacityResult> hosting_capacity(const Network& net, const DeviceSet& base,
                                                    const std::vector<HostingGroup>& groups,
                                                    const HostingCapacityOptions& options);

}  // namespace libgrid
