// libgrid layer 8: hosting-capacity studies on a scenario (groups from the Melaka customers).
#pragma once

#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/hosting_capacity.hpp>

#include <string>
#include <vector>

namespace libgrid {

/// Customers grouped by "feeder" or "transformer" (public charging sites left out), ordered by id.
std::vector<HostingGroup> hosting_groups(const std::vector<Customer>& customers, const std::string& by);

struct HostingStudy {
    std::string kind = "pv";            ///< pv | ev
    std::string group = "transformer";  ///< feeder | transformer
    double kwp = 5.0;                   ///< PV per customer
    double charger_kw = 7.0;            ///< EV charger per customer
    double loading_limit_percent = 100.0;
    bool reverse_flow = false;
};

/// Hosting capacity of every group of the scenario's network over the scenario's horizon, on top of
/// its devices.
std::vector<HostingCapacityResult> hosting_capacity(const BuiltScenario& scenario, const HostingStudy& study);

}  // namespace libgrid
