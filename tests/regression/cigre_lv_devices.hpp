// The CIGRE LV year's devices: PV and a self-consumption battery behind every load's meter, and a
// generated residential profile per load. Shared by benches/bench_timeseries.cpp and
// tests/regression/cigre_lv_year.cpp, so that the regression set runs exactly the benched workload.
#pragma once

#include <libgrid/simulation/engine.hpp>

#include <algorithm>

namespace libgrid_cigre {

inline libgrid::DeviceSet cigre_lv_devices(const libgrid::Network& net) {
    using namespace libgrid;
    DeviceSet d;
    Id id = 1;
    for (const Load& l : net.loads) {
        PvUnit pv;
        pv.id = id;
        pv.bus = l.bus;
        pv.customer = l.id;
        pv.params.kwp_dc = std::max(1.0, l.p_mw * 1000.0 * 0.8);
        pv.params.inverter_kva = pv.params.kwp_dc;
        d.pv.push_back(pv);
        BatteryUnit b;
        b.id = id;
        b.bus = l.bus;
        b.customer = l.id;
        b.params.e_kwh = std::max(2.0, l.p_mw * 1000.0 * 2.0);
        b.params.p_charge_kw = b.params.p_discharge_kw = b.params.e_kwh / 2.0;
        b.params.strategy = BatteryStrategy::SelfConsumption;
        d.batteries.push_back(b);
        LoadProfileSpec sp;
        sp.load = l.id;
        sp.daily_kwh = l.p_mw * 1000.0 * 24.0 * 0.45;
        d.load_profiles.push_back(sp);
        ++id;
    }
    return d;
}

}  // namespace libgrid_cigre
