// libgrid: independent runs of a batch in parallel threads (one process). Each item is its own
// Simulation; an item that fails keeps its error and the others go on (as power-grid-model's
// batches do). Results do not depend on the thread count. For sweeps across processes and
// machines, see the Python `libgrid.sweep` (Dask).
#pragma once

#include <libgrid/simulation/engine.hpp>

#include <string>
#include <vector>

namespace libgrid {

struct BatchItem {
    Network net;
    DeviceSet devices;
    SimulationOptions options;  ///< options.threads is ignored (1 per item)
};

struct BatchResult {
    bool ok = false;
    SimulationSummary summary;
    std::string error;  ///< what() of the exception that stopped the item
};

/// Runs every item, `threads` at a time. Never throws for an item's failure.
std::vector<BatchResult> run_batch(const std::vector<BatchItem>& items, int threads);

}  // namespace libgrid
