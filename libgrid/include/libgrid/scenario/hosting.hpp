// libgrid layer 8: hosting-capacity studies on a scenario (groups from the Melaka customers).
//
// PV: each customer may get up to its roof (roof_area_m2 x devices.pv.kwp_per_m2 / dc_ac_ratio, kW
// AC) and, with cap "atap" (the default), its Solar ATAP cap (domestic 5 kW single-phase / 15 kW
// three-phase; non-domestic 100 % of maximum demand, at most 1 MW), less the PV it has; or a
// uniform `kw_per_customer`. (The scenario's devices.pv.cap sizes its base PV only.) EV: every customer of
// devices.ev.types (default: terrace houses) without a charger may get one of `charger_kw`.
// The limits are the scenario's: bus bands and taps (network.*_pu, network.distribution_tap_pos) and
// the `limits:` section. docs/hosting_capacity.md.
#pragma once

#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/hosting_capacity.hpp>

#include <string>
#include <vector>

namespace libgrid {

/// Customers grouped by "feeder" or "transformer" (public charging sites left out), ordered by id.
/// rating_kva: the transformer's kVA (x parallel), or for a feeder the sum of its transformers'.
std::vector<HostingGroup> hosting_groups(const std::vector<Customer>& customers, const std::string& by, const Network& net = {});

struct HostingStudy {
    std::string kind = "pv";            ///< pv | ev
    std::string group = "transformer";  ///< feeder | transformer
    /// critical: PV, the sunniest day of the scenario's horizon, the steps whose clear-sky GHI is at
    /// least 80 % of that day's maximum (about 10:30-15:45 in Melaka); EV, the first weekday of the
    /// horizon, 16:00-24:00. horizon: the scenario's whole horizon.
    std::string window = "critical";
    double kw_per_customer = 0.0;       ///< PV: > 0, this kW AC for every customer instead of its roof / ATAP limit
    std::string cap = "atap";           ///< PV: atap (roof and Solar ATAP cap) | none (the roof only)
    double charger_kw = 7.0;            ///< EV charger per customer
    double tolerance_kw = 1.0;          ///< PV: bisection tolerance on the group's kW
};

/// The study's answer and the period it probed.
struct HostingStudyResult {
    std::vector<HostingCapacityResult> groups;
    HostingKind kind = HostingKind::PV;
    LocalTime start = 0;
    std::int64_t step_s = 900;
    std::size_t n_steps = 0;
    std::string window;  ///< "critical: sunniest day ..." or "horizon"
};

/// The columns of a study's table, in order: the CSV header of `libgrid hosting --csv` and the
/// columns of Python's libgrid.hosting_capacity() (its index `group`, then the rest):
/// group, group_kind, customers, rating_kva, installed_kw, max_kw, added_kw, hosting_kw, share,
/// tolerance_kw, hosted, limited, violated_without, limit, limit_time, limit_element, limit_value, runs,
/// limit_phase, added_kw_a, added_kw_b, added_kw_c (issue 15: unbalanced networks; empty on a balanced one).
const std::vector<std::string>& hosting_columns();

/// The table as CSV (header hosting_columns()); limit_time ISO 8601, limit_time and limit_value
/// empty and limit_element -1 when no grid limit binds.
std::string hosting_csv(const HostingStudyResult& result);

/// The period a study probes (the scenario's horizon for window "horizon").
void hosting_window(const Scenario& scenario, const HostingStudy& study, LocalTime& start, std::size_t& n_steps, std::string& text);

/// Hosting capacity of every group of the scenario's network, on top of its devices. An unbalanced
/// network (a .dss file; the Melaka grid as built) is studied per phase (simulation/hosting_capacity.hpp):
/// units on their customers' phases, the limit "unbalance" at the scenario's limits.vuf_percent
/// (SimulationOptions::vuf_limit_percent). A .dss network's customers form one group (id -1).
HostingStudyResult hosting_capacity(const Scenario& scenario, const HostingStudy& study, const HostingProgress& progress = {});

}  // namespace libgrid
