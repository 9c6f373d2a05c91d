// A small low-voltage feeder built in code, shared by feeder_in_code.cpp and step_day.cpp:
//
//   ext grid - bus 1 (11 kV) = transformer 1 (250 kVA) = bus 2 (0.4 kV busbar)
//              - line 1 - bus 3 - line 2 - bus 4 - line 3 - bus 5 - line 4 - bus 6
//
// with a customer (a load) at each of buses 3..6 (load id = 10 + bus id), following a residential
// class profile, except load 13 which follows values given step by step. The last customer (load 16
// at bus 6) has a rooftop PV system and a battery behind its meter: both at the customer's bus
// (the engine refuses a behind-the-meter device at any other bus).
//
// Units: the network in kV, MW, ohm/km (model/*.hpp); customer devices and profiles in kW and kWh.
#pragma once

#include <libgrid/model/network.hpp>
#include <libgrid/simulation/device_set.hpp>

#include <cmath>
#include <cstddef>

namespace example {

inline constexpr libgrid::Id kPvId = 1, kBatteryId = 1, kProsumer = 16, kProsumerBus = 6;

inline libgrid::Network lv_feeder() {
    libgrid::Network net;
    net.name = "lv_feeder";
    for (libgrid::Id id = 1; id <= 6; ++id) {
        libgrid::Bus b;
        b.id = id;
        b.vn_kv = id == 1 ? 11.0 : 0.4;
        net.buses.push_back(b);
    }
    libgrid::ExtGrid grid;  // the slack, at 1.0 p.u.
    grid.id = 1;
    grid.bus = 1;
    net.ext_grids.push_back(grid);

    libgrid::Transformer t;  // 250 kVA, 11/0.4 kV
    t.id = 1;
    t.hv_bus = 1;
    t.lv_bus = 2;
    t.sn_mva = 0.25;
    t.vn_hv_kv = 11.0;
    t.vn_lv_kv = 0.4;
    t.vk_percent = 4.0;
    t.vkr_percent = 1.2;
    t.pfe_kw = 0.6;
    t.i0_percent = 0.25;
    net.transformers.push_back(t);

    for (libgrid::Id id = 1; id <= 4; ++id) {  // 150 m of 4x150 mm2 Al cable between buses
        libgrid::Line l;
        l.id = id;
        l.from_bus = id + 1;
        l.to_bus = id + 2;
        l.length_km = 0.15;
        l.r_ohm_per_km = 0.206;
        l.x_ohm_per_km = 0.08;
        l.c_nf_per_km = 260;
        l.max_i_ka = 0.27;
        l.type = "cs";
        net.lines.push_back(l);
    }
    for (libgrid::Id bus = 3; bus <= 6; ++bus) {
        libgrid::Load d;
        d.id = 10 + bus;
        d.bus = bus;
        d.p_mw = 0.002;  // nominal; a profile (below) sets the value of every step
        d.q_mvar = 0.0005;
        net.loads.push_back(d);
    }
    return net;
}

/// The devices for a run of `n_steps` steps of 15 minutes: load profiles, the prosumer's PV and battery.
inline libgrid::DeviceSet lv_devices(std::size_t n_steps) {
    libgrid::DeviceSet dev;
    for (libgrid::Id load = 14; load <= 16; ++load) {  // seeded class profiles scaled to a daily energy
        libgrid::LoadProfileSpec p;
        p.load = load;
        p.cls = libgrid::CustomerClass::Residential;
        p.daily_kwh = 12.0 + 2.0 * static_cast<double>(load - 14);
        dev.load_profiles.push_back(p);
    }
    libgrid::LoadProfileSpec given;  // load 13: given values, kW, one per step (evening peak of 3 kW)
    given.load = 13;
    for (std::size_t k = 0; k < n_steps; ++k) {
        const double hour = static_cast<double>(k % 96) / 4.0;
        given.p_kw.push_back(0.4 + 2.6 * std::exp(-0.5 * std::pow((hour - 20.0) / 1.5, 2)));
    }
    dev.load_profiles.push_back(given);

    libgrid::PvUnit pv;  // 6 kWp behind load 16's meter, at load 16's bus
    pv.id = kPvId;
    pv.customer = kProsumer;
    pv.bus = kProsumerBus;
    pv.params.kwp_dc = 6.0;
    pv.params.inverter_kva = 5.0;
    dev.pv.push_back(pv);

    libgrid::BatteryUnit bat;  // 10 kWh, 5 kW, stores the PV surplus
    bat.id = kBatteryId;
    bat.customer = kProsumer;
    bat.bus = kProsumerBus;
    bat.params.e_kwh = 10.0;
    bat.params.p_charge_kw = 5.0;
    bat.params.p_discharge_kw = 5.0;
    bat.params.soc_init = 0.3;
    bat.params.strategy = libgrid::BatteryStrategy::SelfConsumption;
    dev.batteries.push_back(bat);
    return dev;
}

}  // namespace example
