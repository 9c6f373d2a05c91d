// libgrid layer 9: a run's results in memory, by element id and time (issue 19).
//
// A Simulation with SimulationOptions::results_in_memory keeps every series it records in a
// MemoryRecorder; Simulation::results() gives them as Results: tables whose rows are the steps
// (their local start times) and whose columns are the elements' own ids, with the unit of the
// series. The names are those of the HDF5 layout (docs/results_hdf5.md): `results.table("bus",
// "vm_pu")` is `/bus/vm_pu`. The branch tables of a balanced run (`/branch/...`, one column per
// MATPOWER branch, line and transformer) are also given per kind with the element's id:
// `table("line", "loading_percent")`, `table("trafo", "p_loss_mw")`, `table("branch_matpower", ...)`.
//
// An unbalanced run's phase nodes (`/node/<name>`, one column per node) are also given per bus with
// 4 phases (a, b, c, n; NaN where the bus has no such node): `table("bus_phases", "vm_pu")`.
//
// Values are the doubles the engine computed (an HDF5 file written with float32 = false holds the
// same values bit for bit). Results read during a stepped run hold the steps done so far.
//
// Thread safety: a Results is read-only and may be read from several threads at once; it must not
// be read while its Simulation is stepping (step(), run_until(), run()) on another thread.
#pragma once

#include <libgrid/core/ids.hpp>
#include <libgrid/results/recorder.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace libgrid {

/// One series as a table: rows = steps (time), columns = elements (ids) x phases.
struct ResultTable {
    std::string group;                  ///< "bus", "line", "trafo", "load", "pv", "battery", ...
    std::string name;                   ///< "vm_pu", "loading_percent", "p_mw", ...
    std::string unit;                   ///< "p.u.", "%", "MW", ... ("" for a dimensionless series)
    std::vector<std::int64_t> time;     ///< per row: start of the step, s since 1970-01-01 local time
    std::vector<Id> ids;                ///< per column: the element's id
    std::size_t phases = 1;             ///< values per column and row: 1, or 4 (a, b, c, n) for "bus_phases"
    std::vector<double> values;         ///< row-major: rows x ids.size() x phases

    std::size_t rows() const { return time.size(); }
    std::size_t columns() const { return ids.size(); }
    /// The column of element `id`; throws IdError naming the table and the id when there is none.
    std::size_t column(Id id) const;
    /// The value of element `id` at row `row` (phase 0 .. phases-1); throws on an unknown id or a row out of range.
    double at(std::size_t row, Id id, std::size_t phase = 0) const;
    /// Element `id`'s values over all rows (one phase).
    std::vector<double> series(Id id, std::size_t phase = 0) const;
};

/// The results of a run kept in memory (Simulation::results()).
class Results {
public:
    Results() = default;
    explicit Results(std::shared_ptr<const MemoryRecorder> recorder);

    /// Steps recorded so far and their local start times (s since 1970-01-01 local time).
    std::size_t steps() const;
    const std::vector<std::int64_t>& time() const;
    /// Every series, as "group/name" (the derived "line/...", "trafo/..." tables included).
    std::vector<std::string> names() const;
    bool has(const std::string& group, const std::string& name) const;
    /// A series as a table by element id; throws Error naming "group/name" when the run has no such series.
    ResultTable table(const std::string& group, const std::string& name) const;
    /// The element ids of a group ("bus", "line", "trafo", "load", ...), in column order.
    std::vector<Id> ids(const std::string& group) const;  ///< (not for "bus_phases": its table's ids)
    /// A /summary scalar by name ("losses_mwh"); written when the run finishes. Throws Error when absent.
    double summary(const std::string& name) const;
    /// Fixed per-element vectors by path ("battery/e_kwh", "bus/vn_kv"); throws Error when absent.
    std::vector<double> vector(const std::string& path) const;

    // Shortcuts for the series most asked for.
    ResultTable bus_vm_pu() const { return table("bus", "vm_pu"); }
    ResultTable line_loading_percent() const { return table("line", "loading_percent"); }
    ResultTable trafo_loading_percent() const { return table("trafo", "loading_percent"); }

    /// The recorder behind it (every series, attribute and vector as recorded).
    const MemoryRecorder& recorder() const;

private:
    std::shared_ptr<const MemoryRecorder> rec_;
};

}  // namespace libgrid
