// libgrid layer 7: the PLC networks of a feeder and the concentrators' queue (comms_topology.hpp).
#include <libgrid/simulation/comms_topology.hpp>

#include <libgrid/topology/topology.hpp>

#include "comms_headend.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace libgrid {

CommsTopology comms_topology(const Network& net, const PlcOptions& plc) {
    const std::size_t nb = net.buses.size();
    const SourceDistance sd = source_distance(net, /*by_km=*/true);
    CommsTopology t;
    t.bus_hops.assign(nb, 1);
    t.bus_concentrator.assign(nb, -1);
    // per bus: the nearest distribution transformer above it (-1: none)
    std::vector<int> trafo_of(nb, -1);
    for (std::size_t b = 0; b < nb; ++b)
        for (int cur = int(b); cur >= 0 && sd.parent[std::size_t(cur)] >= 0; cur = sd.parent[std::size_t(cur)]) {
            const Connection& c = sd.via[std::size_t(cur)];
            // the connection's far end from the source is `cur`: a transformer entered at its LV side
            if (c.kind == Connection::Transformer && net.buses[std::size_t(cur)].vn_kv < 1.0) {
                trafo_of[b] = c.index;
                break;
            }
        }
    bool source_needed = false;
    std::vector<int> conc_of_trafo(net.transformers.size(), -1);
    for (std::size_t b = 0; b < nb; ++b)
        if (trafo_of[b] < 0) source_needed = true;
        else conc_of_trafo[std::size_t(trafo_of[b])] = 0;
    if (source_needed) t.concentrator_id.push_back(-1);
    for (std::size_t k = 0; k < net.transformers.size(); ++k)
        if (conc_of_trafo[k] == 0) {
            conc_of_trafo[k] = int(t.concentrator_id.size());
            t.concentrator_id.push_back(net.transformers[k].id);
        }
    for (std::size_t b = 0; b < nb; ++b) {
        const int k = trafo_of[b];
        if (k < 0) {
            t.bus_concentrator[b] = 0;
            continue;
        }
        t.bus_concentrator[b] = conc_of_trafo[std::size_t(k)];
        // metres of line from the transformer's LV bus: the path's length below it
        int lv = int(b);
        while (!(sd.via[std::size_t(lv)].kind == Connection::Transformer && sd.via[std::size_t(lv)].index == k)) lv = sd.parent[std::size_t(lv)];
        const double metres = (sd.distance[b] - sd.distance[std::size_t(lv)]) * 1000.0;
        t.bus_hops[b] = plc_hops(plc, metres);
    }
    return t;
}

void ConcentratorQueue::init(std::size_t concentrators, std::size_t meters) {
    free_at.assign(concentrators, -std::numeric_limits<double>::infinity());
    order.clear();
    order.reserve(meters);
}

void ConcentratorQueue::serve(double rate, const int* concentrator, const double* arrival, const std::int64_t* meter, std::size_t n,
                              double* wait, double carry_before) {
    order.clear();  // capacity kept: no allocation while n <= the meters init() reserved for
    for (std::size_t i = 0; i < n; ++i) {
        wait[i] = std::numeric_limits<double>::quiet_NaN();
        if (!std::isnan(arrival[i])) order.push_back(i);
    }
    if (!(rate < std::numeric_limits<double>::infinity())) {
        for (std::size_t i : order) wait[i] = 0.0;
        return;
    }
    // FIFO per concentrator: by arrival, ties by meter id (then position: a total order)
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (concentrator[a] != concentrator[b]) return concentrator[a] < concentrator[b];
        if (arrival[a] != arrival[b]) return arrival[a] < arrival[b];
        if (meter[a] != meter[b]) return meter[a] < meter[b];
        return a < b;
    });
    const double slot = 1.0 / rate;
    // per concentrator (a run of `order`): serve in turn; the backlog carried is the time after the
    // last reading that arrived before carry_before (sorted by arrival: a prefix of the run)
    for (std::size_t j = 0; j < order.size();) {
        const int k = concentrator[order[j]];
        double f = free_at[std::size_t(k)], carried = f;
        for (; j < order.size() && concentrator[order[j]] == k; ++j) {
            const std::size_t i = order[j];
            const double start = std::max(arrival[i], f);
            wait[i] = start - arrival[i];
            f = start + slot;
            if (arrival[i] < carry_before) carried = f;
        }
        free_at[std::size_t(k)] = carried;
    }
}

}  // namespace libgrid

// ---- the meter side in a run (comms_headend.hpp) ----------------------------------------------------

namespace libgrid::detail {

void MeterComms::init(const Network& net, const std::unordered_map<Id, std::size_t>& bus_at, const CommsTopology& topo) {
    topo_ = &topo;
    const std::size_t nl = net.loads.size(), nk = topo.concentrator_id.size();
    conc_.assign(nl, 0);
    hops_.assign(nl, 1);
    meter_.assign(nl, 0);
    meters_.assign(nk, 0);
    max_hops_.assign(nk, 0);
    for (std::size_t c = 0; c < nl; ++c) {
        const std::size_t b = bus_at.at(net.loads[c].bus);
        conc_[c] = topo.bus_concentrator[b];
        hops_[c] = topo.bus_hops[b];
        meter_[c] = net.loads[c].id;
        meters_[std::size_t(conc_[c])]++;
        max_hops_[std::size_t(conc_[c])] = std::max<std::int64_t>(max_hops_[std::size_t(conc_[c])], hops_[c]);
    }
    delay_.assign(nl, 0.0);
    arrival_.assign(nl, 0.0);
    wait_.assign(nl, 0.0);
    arrived_.assign(nl, 0);
    queue_.init(nk, nl);
    readings_.assign(nk, 0);
    delivered_.assign(nk, 0);
    delay_sum_.assign(nk, 0.0);
    delay_max_.assign(nk, 0.0);
    wait_max_.assign(nk, 0.0);
}

void MeterComms::interval(const CommsOptions& o, std::uint64_t seed, std::int64_t index, double end_s, double interval_s) {
    const std::size_t nl = conc_.size();
    for (std::size_t c = 0; c < nl; ++c) {
        const Delivery d = deliver_reading(o, seed, meter_[c], index, hops_[c]);
        delay_[c] = d.delay_s;  // NaN: no attempt got through (finite: through, maybe past the deadline)
        arrival_[c] = end_s + d.delay_s;
    }
    queue_.serve(o.plc.concentrator_rate_per_s, conc_.data(), arrival_.data(), meter_.data(), nl, wait_.data(), end_s + interval_s);
    for (std::size_t c = 0; c < nl; ++c) {
        const std::size_t k = std::size_t(conc_[c]);
        readings_[k]++;
        const bool through = !std::isnan(delay_[c]);
        // a queue of no wait adds +0.0: the delay (and the deadline test) as without bandwidth, bit for bit
        const double total = through ? delay_[c] + wait_[c] : delay_[c];
        arrived_[c] = through && total <= o.deadline_s;
        if (through) wait_max_[k] = std::max(wait_max_[k], wait_[c]);
        if (arrived_[c]) {
            delivered_[k]++;
            delay_sum_[k] += total;
            delay_max_[k] = std::max(delay_max_[k], total);
        }
    }
}

void MeterComms::write(Recorder& w) const {
    const std::size_t nk = readings_.size();
    std::vector<double> share(nk), mean(nk), dmax(nk), wmax(nk);
    for (std::size_t k = 0; k < nk; ++k) {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        share[k] = readings_[k] > 0 ? double(delivered_[k]) / double(readings_[k]) : nan;
        mean[k] = delivered_[k] > 0 ? delay_sum_[k] / double(delivered_[k]) : nan;
        dmax[k] = delivered_[k] > 0 ? delay_max_[k] : nan;
        wmax[k] = readings_[k] > 0 ? wait_max_[k] : nan;
    }
    w.write_int_vector("comms/concentrator/id", topo_->concentrator_id);
    w.write_int_vector("comms/concentrator/meters", meters_);
    w.write_int_vector("comms/concentrator/max_hops", max_hops_);
    w.write_int_vector("comms/concentrator/readings", readings_);
    w.write_vector("comms/concentrator/delivered_share", share);
    w.write_vector("comms/concentrator/mean_delay_s", mean, "s");
    w.write_vector("comms/concentrator/max_delay_s", dmax, "s");
    w.write_vector("comms/concentrator/max_queue_wait_s", wmax, "s");
}

}  // namespace libgrid::detail
