// libgrid layer 7: what acts on the grid over time, as given to the engine (DeviceSet): the
// built-in device kinds (pv, battery, ev, ev_site, building, home), load profiles, tariffs, timed
// events, and the parameters of device kinds registered from outside (`extensions`).
#pragma once

#include <libgrid/devices/battery.hpp>
#include <libgrid/devices/building.hpp>
#include <libgrid/devices/ev.hpp>
#include <libgrid/devices/pv.hpp>
#include <libgrid/model/network.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/profiles/load_profiles.hpp>
#include <libgrid/simulation/tariff.hpp>

#include <any>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace libgrid {

/// Issue 16: load priorities for shedding in islands (docs/microgrid.md "Time series"): shed
/// level 1 drops the deferrable loads and EV charging, level 2 the essential loads too; critical
/// loads stay until the island collapses.
enum class LoadPriority : int { Critical = 0, Essential = 1, Deferrable = 2 };

/// A PV system at a bus; behind the meter of `customer` (a load id) or on its own connection (-1).
struct PvUnit {
    Id id = 0;
    Id bus = 0;
    Id customer = -1;
    PvParams params;
    bool in_service = true;
    /// Issue 15, unbalanced grids: the phases it connects to, "a", "b", "c", "ab", "bc", "ca" or
    /// "abc" (each phase to neutral, or to ground where the bus has no neutral); "" = its customer's
    /// phases, or every phase of its bus without a customer. Ignored by balanced grids.
    std::string phases;
};

/// A battery at a bus; behind the meter of `customer` (a load id) or on its own connection (-1).
/// Self-consumption and peak shaving act on that customer's net load (or the bus's, without one).
struct BatteryUnit {
    Id id = 0;
    Id bus = 0;
    Id customer = -1;
    BatteryParams params;
    bool in_service = true;
    /// Issue 15, unbalanced grids: the phases it connects to, "a", "b", "c", "ab", "bc", "ca" or
    /// "abc" (each phase to neutral, or to ground where the bus has no neutral); "" = its customer's
    /// phases, or every phase of its bus without a customer. Ignored by balanced grids.
    std::string phases;
};

/// How a network load varies in time: a seeded class profile scaled to daily_kwh, or given values.
struct LoadProfileSpec {
    Id load = 0;                       ///< network load id
    CustomerClass cls = CustomerClass::Residential;
    double daily_kwh = 14.5;           ///< long-run mean daily energy (generated profiles)
    double power_factor = 0.95;        ///< Q = P tan(acos(pf)), lagging
    std::vector<double> p_kw;          ///< given values, one per step (overrides the generator)
    std::vector<double> q_kvar;        ///< given values (optional; else from power_factor)
};

/// A customer's tariff for bills (customer = load id).
struct CustomerTariff {
    Id customer = 0;
    Tariff tariff = Tariff::tnb_domestic_general();
    ExportScheme scheme = ExportScheme::None;
};

/// EV chargers at a bus, behind a customer's meter (their PV surplus is what PV-following uses)
/// or on their own connection (-1). Recorded in /ev.
struct EvStationUnit {
    Id id = 0;
    Id bus = 0;
    Id customer = -1;
    EvStation station;
    bool in_service = true;
    /// Issue 15, unbalanced grids: the phases it connects to, "a", "b", "c", "ab", "bc", "ca" or
    /// "abc" (each phase to neutral, or to ground where the bus has no neutral); "" = its customer's
    /// phases, or every phase of its bus without a customer. Ignored by balanced grids.
    std::string phases;
};

/// A public charging site: chargers, a PV canopy and a battery behind one connection with a limit,
/// under one site controller (Melaka's "EV charging station integrated with battery storage and
/// renewable energy"). canopy.kwp_dc = 0: no PV. Recorded in /ev_site.
struct ChargingSiteUnit {
    Id id = 0;
    Id bus = 0;
    ChargingSite site;
    PvParams canopy;
    bool in_service = true;
    /// Issue 15, unbalanced grids: the phases it connects to, "a", "b", "c", "ab", "bc", "ca" or
    /// "abc" (each phase to neutral, or to ground where the bus has no neutral); "" = its customer's
    /// phases, or every phase of its bus without a customer. Ignored by balanced grids.
    std::string phases;
};

/// A building run by a BEMS. Behind a customer's meter it REPLACES that customer's load profile
/// (the network load then draws nothing; the building's demand is metered as the customer's).
/// Recorded in /building.
struct BuildingUnit {
    Id id = 0;
    Id bus = 0;
    Id customer = -1;
    BuildingParams params;
    bool in_service = true;
    /// Issue 16: the share of its load on the critical-load panel, [0, 1]: what it keeps drawing
    /// when an island sheds its customer's priority (docs/microgrid.md "Time series").
    double critical_share = 0.0;
    /// Issue 15, unbalanced grids: the phases it connects to, "a", "b", "c", "ab", "bc", "ca" or
    /// "abc" (each phase to neutral, or to ground where the bus has no neutral); "" = its customer's
    /// phases, or every phase of its bus without a customer. Ignored by balanced grids.
    std::string phases;
};

/// A home with HEMS (house, rooftop PV, battery, EV) behind a customer's meter; like a building it
/// replaces that customer's load profile. Recorded in /home.
struct HomeUnit {
    Id id = 0;
    Id bus = 0;
    Id customer = -1;
    Home home;
    PvParams pv;  ///< kwp_dc = 0: no PV
    bool in_service = true;
    /// Issue 15, unbalanced grids: the phases it connects to, "a", "b", "c", "ab", "bc", "ca" or
    /// "abc" (each phase to neutral, or to ground where the bus has no neutral); "" = its customer's
    /// phases, or every phase of its bus without a customer. Ignored by balanced grids.
    std::string phases;
};

enum class EventKind : int { OpenSwitch, CloseSwitch, OutOfService, InService };

/// A timed event. element: "switch", "line", "trafo", "load", "sgen", "ext_grid" (issue 16: an
/// outage of the supply: out_of_service / in_service), or a device kind whose group takes events
/// ("pv", "battery"); resolved once, when the Simulation is constructed.
struct Event {
    LocalTime time = 0;
    EventKind kind = EventKind::OpenSwitch;
    std::string element = "switch";
    Id id = 0;
    /// Issue 16: > 0: the engine undoes the event this many seconds later (close after open, in
    /// service after out of service); 0: it lasts (docs/resilience.md).
    std::int64_t duration_s = 0;
    /// Issue 16: why, as the results' /events table says: "scheduled" (a scenario's `events:` or
    /// add_event), "random" (a scenario's `outages:`); the undoing event of a duration is
    /// "restoration" ("repair" after a random outage).
    std::string cause = "scheduled";
};

/// Thread safety (docs/threads.md): a DeviceSet is a plain value. Read from several threads at once;
/// each Simulation takes its own copy, so one DeviceSet may start several simulations on several threads.
/// Everything that acts on the grid over time.
struct DeviceSet {
    std::vector<PvUnit> pv;
    std::vector<BatteryUnit> batteries;
    std::vector<LoadProfileSpec> load_profiles;  ///< loads without a spec stay at their nominal value
    std::vector<CustomerTariff> tariffs;         ///< customers without one: domestic general
    std::vector<Event> events;
    std::vector<EvStationUnit> ev_stations;
    std::vector<ChargingSiteUnit> charging_sites;
    std::vector<BuildingUnit> buildings;
    std::vector<HomeUnit> homes;
    /// Devices of kinds registered with register_device_kind (simulation/device_group.hpp), by kind:
    /// whatever that kind's factory reads (e.g. a std::vector of its units).
    std::map<std::string, std::any> extensions;
};

}  // namespace libgrid
