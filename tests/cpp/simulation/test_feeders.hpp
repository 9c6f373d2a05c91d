// Test helpers shared by the outage and islanding tests: the pieces of their small 0.4 kV feeders.
#pragma once

#include <libgrid/model/network.hpp>

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

}  // namespace libgrid_test
