// libgrid: independent runs of a batch in parallel threads (one process). Each item is its own
// Simulation; an item that fails keeps its error and the others go on (as power-grid-model's
// batches do). Results do not depend on the thread count. Sweeps of scenario variants build on it
// (scenario/sweep.hpp, `libgrid sweep`, Python `libgrid.sweep`); across processes and machines the
// Python `libgrid.sweep` uses Dask.
//
// Thread safety (docs/threads.md): run_batch may itself be called from several threads at once (each
// call has its own workers). Its `make` and `done` callbacks run on its worker threads: `make` for
// several items at once, `done` one call at a time.
#pragma once

#include <libgrid/powerflow/batch_pf.hpp>
#include <libgrid/results/results_options.hpp>
#include <libgrid/model/unetwork.hpp>
#include <libgrid/simulation/engine.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace libgrid {

struct BatchItem {
    Network net;
    DeviceSet devices;
    SimulationOptions options;  ///< options.threads is ignored (1 per item)
    /// Keeps options.weather_series alive while the item runs (a built scenario's own weather).
    std::shared_ptr<const WeatherSeries> weather = nullptr;
    /// Issue 15 (H1): run on `unet` (Simulation(UNetwork, ...)) instead of `net`.
    bool unbalanced = false;
    UNetwork unet{};
};

struct BatchResult {
    bool ok = false;
    SimulationSummary summary;
    std::string error;  ///< what() of the exception that stopped the item
};

/// Runs every item, `threads` at a time. Never throws for an item's failure.
std::vector<BatchResult> run_batch(const std::vector<BatchItem>& items, int threads);

/// Makes item i with make(i) on a worker thread just before running it (and frees it after): memory
/// for `threads` items at a time, and the items are built in parallel too. Items are handed out one
/// at a time to whichever thread is free. An exception from make is that item's error. `stop`
/// (optional): when it becomes non-zero, running items stop at their next step boundary (their
/// options.stop_requested is set to it: results file closed, status "stopped") and items not yet
/// started are not run (error "not run: the batch was stopped"). `done` (optional) is called with
/// (i, result) when item i has finished, on the worker thread, one call at a time (for progress).
using BatchDoneFn = std::function<void(std::size_t, const BatchResult&)>;
std::vector<BatchResult> run_batch(std::size_t n, const std::function<BatchItem(std::size_t)>& make, int threads,
                                   const std::atomic<int>* stop = nullptr, const BatchDoneFn& done = {});

/// One scalar KPI of a run, as its results file's /summary stores it.
struct SummaryKpi {
    std::string name;  ///< the /summary dataset name
    double value = 0.0;
    std::string unit;  ///< "" when none
};

/// The scalar KPIs of a summary with the names and units of the /summary datasets of its results
/// file, in the order a reader lists them (by name): what a sweep tabulates without reading files.
std::vector<SummaryKpi> summary_kpis(const SimulationSummary& summary);

/// What write_pf_batch_h5 writes: the arrays `group/name` (empty = kPfBatchDefaultArrays; {"all"} =
/// every array of the result) and how (float64 by default: the values read back equal the arrays).
struct PfBatchH5Options {
    std::vector<std::string> arrays;
    H5WriterOptions h5;
};

/// The arrays a batch file holds by default: what a time-series results file records of a power
/// flow (voltages, loadings, flows at the sending end, the source's power).
inline const std::vector<std::string> kPfBatchDefaultArrays = {
    "bus/vm_pu", "bus/va_deg", "line/loading_percent", "line/p_from_mw", "line/q_from_mvar", "line/pl_mw",
    "trafo/loading_percent", "trafo/p_hv_mw", "trafo/q_hv_mvar", "trafo/pl_mw", "branch/loading_percent",
    "branch/p_from_mw", "branch/q_from_mvar", "ext_grid/p_mw", "ext_grid/q_mvar", "gen/p_mw", "gen/q_mvar"};

/// Writes a batch of power flows (run_pf_batch) to one HDF5 file in one go: `/scenario` (0..n-1,
/// the row axis instead of `/time`), `<group>/id` and `<group>/<name>` (scenarios x elements) for
/// the chosen arrays of the groups that have elements, `/solver/{converged,iterations,
/// max_mismatch_pu,losses_mw}`, root attributes `kind` = "pf_batch" and `method`
/// (docs/results_hdf5.md). An unknown array name is an Error naming it.
void write_pf_batch_h5(const std::string& path, const Network& net, const PfBatchResult& result,
                       const PfBatchH5Options& options = {});

}  // namespace libgrid
