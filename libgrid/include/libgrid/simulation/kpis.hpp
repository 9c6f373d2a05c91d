// libgrid layer 7: the run summary's KPIs, listed once: name, unit, boundary, definition, formula
// and where each is measured. /summary in the results file (write_summary: each dataset carries the
// attributes unit, boundary, definition, formula, where), the Python dict of a run (bindings
// summary_to_dict), _libgrid.summary_kpis(), the CLI's tables (libgrid run, libgrid info), the
// plots' KPI_ORDER and docs/kpis.md (tests/tools/kpi_docs.py) all come from this table.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <span>
#include <string>

namespace libgrid {

struct SimulationSummary;

/// Where a KPI is measured: every energy KPI belongs to exactly one balance (docs/kpis.md).
enum class KpiBoundary : int {
    Substation,      ///< the external grid(s): the slack connection(s) of the network
    CustomerMeters,  ///< behind the meter, summed over the customers' meters (loads with a /meter column)
    City,            ///< the city's energy balance over all elements (PV, loads by class, EV, batteries, losses)
    Network,         ///< the grid's own elements: buses, lines, transformers (voltages, loadings, losses)
    Run,             ///< bookkeeping of the run (steps, convergence, wall time)
    Unassigned,      ///< not yet defined (a test fails: every KPI needs a boundary and a formula)
};
/// "substation", "customer_meters", "city", "network", "run" ("unassigned").
const char* kpi_boundary_name(KpiBoundary b);

struct KpiInfo {
    const char* name;        ///< the SimulationSummary field, the /summary dataset, the dict key
    const char* unit;        ///< "" for counts
    KpiBoundary boundary;
    const char* definition;  ///< one line, what it is
    const char* formula;     ///< how it is computed, precise enough to recompute from the results file
    const char* where;       ///< where it is measured (element, series)
    bool count;              ///< an integer count (size_t / int field)
    bool in_file;            ///< written to /summary
    bool compared;           ///< in KPI_ORDER (compare_kpis' default rows), in table order
    double (*get)(const SimulationSummary&);
};

/// Every KPI of SimulationSummary, the compared ones first in KPI_ORDER's order.
std::span<const KpiInfo> summary_kpis();

/// Issue 15: whether a run's /summary holds the KPI: in_file, and not one of an unbalanced
/// network's own (max_vuf_percent, vuf_p95_percent, max_neutral_current_a) on a balanced run.
bool kpi_written(const KpiInfo& k, const SimulationSummary& s);

/// Issue 16: one of the resilience KPIs (energy not served, SAIDI, ...; docs/resilience.md),
/// written to /summary only when the run had events (SimulationSummary::resilience).
bool kpi_is_resilience(const char* name);

/// Issue 17: one of the communication KPIs (meter_data_completeness, bill_estimation_error_rm;
/// docs/comms.md), written to /summary only when the run had comms (SimulationSummary::comms).
bool kpi_is_comms(const char* name);

/// Issue 19: the summary as JSON, for applications and scripts: {"steps", "planned_steps",
/// "completed", "stop_reason", "resumed_from_step", "kpis": {name: {"value", "unit", "boundary"}}}
/// over the KPIs the run wrote (kpi_written); NaN and infinity as null. `indent` < 0: one line.
std::string summary_to_json(const SimulationSummary& s, int indent = 2);

/// Issue 19: the KPI table grouped by boundary (name, value, unit, definition), as `libgrid run`
/// prints it (the CLI calls this).
void print_summary_table(std::ostream& os, const SimulationSummary& s);

}  // namespace libgrid
