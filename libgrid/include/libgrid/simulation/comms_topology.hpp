// libgrid layer 7: where the PLC networks are (issue 17, second part, H1; docs/comms.md "Hops and
// bandwidth"): one data concentrator per distribution transformer, each bus's hops to it, and the
// concentrator's queue when its bandwidth is finite.
//
// In its own header (not comms.hpp, which engine.hpp includes everywhere) so that the network model
// is not pulled into every user of the channel.
#pragma once

#include <libgrid/model/network.hpp>
#include <libgrid/simulation/comms.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace libgrid {

/// The PLC networks of `net`: a concentrator at the LV bus of every distribution transformer (a
/// transformer whose LV bus is below 1 kV) that feeds some bus; a bus belongs to the nearest such
/// transformer on its path from the source (source_distance(net, by_km=true)) and is plc_hops(plc,
/// metres of line from that transformer's LV bus) away. Buses not below one (MV, the slack's own LV
/// network, unreachable buses) get the source's concentrator (id -1, index 0, present only when some
/// bus needs it) and 1 hop. Concentrators are in transformer order (after the source's).
CommsTopology comms_topology(const Network& net, const PlcOptions& plc);

/// The bandwidth of the concentrators: readings that reached their concentrator wait for it in FIFO
/// order (arrival time, then meter id), one every 1 / rate s. A batch is one meter interval's
/// readings. free_at (per concentrator, the time it can pass the next reading; -infinity at first)
/// carries the backlog over to the next batch: the time the concentrator has passed this batch's
/// readings that arrived before `carry_before` (the next batch's first possible arrival). A late
/// reading (a retry, a long latency) arriving after that is served in its own batch's order and
/// does not hold up the next batch (an approximation: the two batches then overlap without
/// interference; docs/comms.md "Hops and bandwidth"). Sized once (reserve); serve() allocates nothing.
struct ConcentratorQueue {
    std::vector<double> free_at;      ///< per concentrator
    std::vector<std::size_t> order;   ///< scratch: the batch's queue order
    void init(std::size_t concentrators, std::size_t meters);
    /// One batch of n readings: concentrator[i], arrival[i] (a time, s; NaN = never reached the
    /// concentrator: not queued) and meter[i] (the tie-break). wait[i] = its waiting time (s, >= 0;
    /// NaN when not queued). rate: readings per second (infinity: every wait 0).
    void serve(double rate, const int* concentrator, const double* arrival, const std::int64_t* meter, std::size_t n, double* wait,
               double carry_before = std::numeric_limits<double>::infinity());
};

}  // namespace libgrid
