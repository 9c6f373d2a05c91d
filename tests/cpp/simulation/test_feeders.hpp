// Test helpers shared by the simulation tests: the pieces of the outage and islanding tests' small
// 0.4 kV feeders, a run stopped and resumed from its checkpoint, a daily EV session pattern.
#pragma once

#include <doctest/doctest.h>
#include <libgrid/model/network.hpp>
#include <libgrid/simulation/engine.hpp>

#include <atomic>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace libgrid_test {

/// A 100 m cable, 0.2 + j0.08 ohm/km, 300 A.
inline libgrid::Line feeder_line(libgrid::Id id, libgrid::Id from, libgrid::Id to) {
    libgrid::Line l;
    l.id = id;
    l.from_bus = from;
    l.to_bus = to;
    l.length_km = 0.1;
    l.r_ohm_per_km = 0.2;
    l.x_ohm_per_km = 0.08;
    l.max_i_ka = 0.3;
    return l;
}

/// A closed bus-bus breaker named "CB feeder" from `bus` to `element`.
inline libgrid::Switch feeder_breaker(libgrid::Id id, libgrid::Id bus, libgrid::Id element) {
    libgrid::Switch sw;
    sw.id = id;
    sw.name = "CB feeder";
    sw.bus = bus;
    sw.element = element;
    sw.et = libgrid::SwitchElement::Bus;
    return sw;
}

/// Runs `o` (its output_path, checkpoint_steps set by the caller), stopped by SIGINT once
/// `stop_after` steps are done, then resumed from its last checkpoint; CHECKs that the first part
/// stopped early and that the resumed run completed. Returns the resumed run's summary.
inline libgrid::SimulationSummary run_stopped_and_resumed(const libgrid::Network& net, const libgrid::DeviceSet& dev,
                                                          libgrid::SimulationOptions o, std::size_t stop_after) {
    std::atomic<int> stop{0};
    o.stop_requested = &stop;
    libgrid::SimulationSummary s = libgrid::Simulation(net, dev, o).run([&](std::size_t done, std::size_t) {
        if (done == stop_after) stop.store(SIGINT);
    });
    CHECK_FALSE(s.completed);
    stop.store(0);
    o.resume = true;
    s = libgrid::Simulation(net, dev, o).run();
    CHECK(s.completed);
    return s;
}

/// One car a day for `days` days from `start` (s local): 13:00-23:00, 40 kWh wanted at up to 7 kW,
/// a 60 kWh battery arriving at 20 %.
inline std::vector<libgrid::EvSession> daily_afternoon_sessions(std::int64_t start, int days) {
    std::vector<libgrid::EvSession> out;
    for (int d = 0; d < days; ++d) {
        libgrid::EvSession s;
        s.arrival = start + d * 86400 + 13 * 3600;
        s.departure = start + d * 86400 + 23 * 3600;
        s.energy_kwh = 40.0;
        s.max_kw = 7.0;
        s.battery_kwh = 60.0;
        s.soc_arrival = 0.2;
        out.push_back(s);
    }
    return out;
}

}  // namespace libgrid_test
