// libgrid layer 7 (private): the meter side of the PLC networks in a run (issue 17, second part, H1;
// docs/comms.md "Hops and bandwidth"): each customer's concentrator and hops, each interval's
// readings through the channel and the concentrator's queue, the per-concentrator statistics
// (/comms/concentrator). The engine owns one; it is used only when comms are enabled.
#pragma once

#include <libgrid/model/network.hpp>
#include <libgrid/results/recorder.hpp>
#include <libgrid/simulation/comms_topology.hpp>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace libgrid::detail {

class MeterComms {
public:
    /// Customers (net.loads) -> their bus's concentrator and hops in `topo` (already filled).
    void init(const Network& net, const std::unordered_map<Id, std::size_t>& bus_at, const CommsTopology& topo);

    /// One meter interval's readings (interval index `index`, its end `end_s` seconds after the run's
    /// start, its length interval_s): arrived[c] = the head-end has customer c's reading in time.
    void interval(const CommsOptions& o, std::uint64_t seed, std::int64_t index, double end_s, double interval_s);
    const std::vector<char>& arrived() const { return arrived_; }

    /// /comms/concentrator: id, meters, max_hops, readings, delivered_share, mean_delay_s,
    /// max_delay_s, max_queue_wait_s (one row per concentrator).
    void write(Recorder& w) const;

    /// What carries over from interval to interval (checkpoints).
    template <class Ar>
    void archive(Ar& ar) {
        ar.fixed("comms.free_at", queue_.free_at);
        ar.fixed("comms.readings", readings_);
        ar.fixed("comms.delivered", delivered_);
        ar.fixed("comms.delay_sum", delay_sum_);
        ar.fixed("comms.delay_max", delay_max_);
        ar.fixed("comms.wait_max", wait_max_);
    }

private:
    const CommsTopology* topo_ = nullptr;
    std::vector<int> conc_, hops_;         // per customer
    std::vector<std::int64_t> meter_;      // per customer: the meter (load) id
    std::vector<double> delay_, arrival_, wait_;  // per customer, this interval (scratch)
    std::vector<char> arrived_;
    ConcentratorQueue queue_;
    // per concentrator
    std::vector<std::int64_t> meters_, max_hops_, readings_, delivered_;
    std::vector<double> delay_sum_, delay_max_, wait_max_;
};

}  // namespace libgrid::detail
