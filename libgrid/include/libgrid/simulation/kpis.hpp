// libgrid layer 7: the run summary's KPIs, listed once: name, unit, definition, and where each
// appears. /summary in the results file (write_summary), the Python dict of a run
// (bindings summary_to_dict) and the plots' KPI_ORDER (libgrid.plots, via _libgrid.summary_kpis)
// all come from this table.
#pragma once

#include <cstddef>
#include <span>

namespace libgrid {

struct SimulationSummary;

struct KpiInfo {
    const char* name;        ///< the SimulationSummary field, the /summary dataset, the dict key
    const char* unit;        ///< "" for counts
    const char* definition;
    bool count;              ///< an integer count (size_t / int field)
    bool in_file;            ///< written to /summary
    bool compared;           ///< in KPI_ORDER (compare_kpis' default rows), in table order
    double (*get)(const SimulationSummary&);
};

/// Every KPI of SimulationSummary, the compared ones first in KPI_ORDER's order.
std::span<const KpiInfo> summary_kpis();

}  // namespace libgrid
