// libgrid internal: what the built-in device groups share (simulation/device_group.hpp): the
// checkpoint state of the stateful device types, the clock and climate inputs of buildings and
// homes, the per-session EV table, and the factories of the built-in kinds.
#pragma once

#include <libgrid/core/errors.hpp>
#include <libgrid/core/thread_pool.hpp>
#include <libgrid/simulation/device_group.hpp>
#include <libgrid/simulation/engine.hpp>

#include <algorithm>
#include <cmath>
#include <complex>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace libgrid::groups {

using cplx = std::complex<double>;

using detail::state_bool;

template <class Ar>
void state(Ar& ar, BuildingState& b) {
    ar.pod("building.T_air_c", b.T_air_c);
    ar.pod("building.T_mass_c", b.T_mass_c);
    state_bool(ar, "building.ac_on", b.ac_on);
    state_bool(ar, "building.optimum_start_on", b.optimum_start_on);
    ar.pod("building.tank_kwh", b.tank_kwh);
    ar.pod("building.comfort_degree_hours", b.comfort_degree_hours);
    ar.pod("building.electricity_kwh", b.electricity_kwh);
    ar.pod("building.ac_kwh", b.ac_kwh);
    ar.pod("building.dr_cursor", b.dr_cursor);
    ar.pod("building.disc", b.disc);  // a cache of doubles, kept so that it is not rebuilt differently
}

template <class Ar>
void state(Ar& ar, EvStation& e) {
    ar.fixed("ev.records", e.records);
    state_bool(ar, "ev.prepared", e.prepared_);
    ar.pod("ev.max_dt_s", e.max_dt_s_);
    ar.pod("ev.t_next", e.t_next_);
    state_bool(ar, "ev.started", e.started_);
    ar.pod("ev.next_session", e.next_session_);
    ar.pod("ev.last_connected", e.last_connected_);
    ar.pod("ev.peak_import_kw", e.peak_import_kw_);
    ar.pod("ev.peak_export_kw", e.peak_export_kw_);
    state_bool(ar, "ev.was_peak", e.was_peak_);
    ar.pod("ev.last_peak_end", e.last_peak_end_);
    ar.fixed("ev.charger_free_at", e.charger_free_at_);
    ar.fixed("ev.active", e.active_);
    ar.pod("ev.n_active", e.n_active_);
    if constexpr (!Ar::saving) {
        if (e.next_session_ > e.sessions.size()) ar.bad("ev.next_session", "beyond the sessions");
        if (e.n_active_ > e.active_.size()) ar.bad("ev.n_active", "beyond the chargers");
        for (std::size_t i = 0; i < e.n_active_; ++i)
            if (e.active_[i] < 0 || std::size_t(e.active_[i]) >= e.sessions.size()) ar.bad("ev.active", "not a session index");
    }
}

template <class Ar>
void state(Ar& ar, SimpleBattery& b) {
    ar.pod("battery.soc", b.soc);
}

/// The clock and climate fields BuildingInput and HomeInput share.
template <class In>
In climate_input(const StepContext& c) {
    In in;
    in.t = c.t;
    in.hour_of_day = c.hour_of_day;
    in.weekday = c.weekday;
    in.is_peak = c.peak;
    in.t_out_c = c.weather.t_amb_c;
    in.ghi_w_m2 = c.weather.ghi_wm2;
    return in;
}

/// Throws IdError "<what> id <id> appears twice".
template <class Units>
void unique_ids(const Units& v, const char* what) {
    std::unordered_map<Id, int> seen;
    for (const auto& u : v)
        if (seen[u.id]++) throw IdError(std::string(what) + " id " + std::to_string(u.id) + " appears twice");
}

/// `<group>/id`, `/bus` and (where the unit has one) `/customer` of a group of units.
template <class Units>
void declare_units(SeriesDeclarer& d, const Units& units) {
    std::vector<std::int64_t> id, bus, cust;
    for (const auto& u : units) {
        id.push_back(u.id);
        bus.push_back(u.bus);
        if constexpr (requires { u.customer; }) cust.push_back(u.customer);
    }
    d.ids(id, bus, cust.empty() ? nullptr : &cust);
}

/// Issue 16: an EV station's input in a step its bus is de-energised: no import, no PV.
inline EvStepInput dead_input(const StepContext& c) {
    EvStepInput in;
    in.t = c.t;
    in.is_peak = c.peak;
    in.import_limit_kw = 0.0;
    return in;
}

/// Bus -> node of every unit.
template <class Units>
void bind_nodes(const NetworkIndex& ix, const Units& units, std::vector<int>& node) {
    node.assign(units.size(), -1);
    for (std::size_t k = 0; k < units.size(); ++k) {
        if (!ix.connections) {
            node[k] = ix.node(units[k].bus);
            continue;
        }
        // an unbalanced grid: the device's connection (its customer's phases, or those it names)
        const std::string who = "device " + std::to_string(units[k].id);
        if constexpr (requires { units[k].customer; }) node[k] = ix.node_at(units[k].bus, units[k].customer, units[k].phases, who);
        else node[k] = ix.node_at(units[k].bus, -1, units[k].phases, who);
    }
}

/// Customer index of every unit (-1 for none); marks replaced customers when `replaces`.
template <class Units>
void link_customers(const RunSetup& s, const Units& units, std::vector<int>& customer, bool replaces) {
    customer.assign(units.size(), -1);
    for (std::size_t k = 0; k < units.size(); ++k)
        if (units[k].customer >= 0) {
            customer[k] = s.index->customer(units[k].customer);
            if (replaces) (*s.customer_replaced)[std::size_t(customer[k])] = 1;
        }
}

/// Adds a station's sessions to /summary/ev_sessions (EV stations, sites and homes, in group order).
void add_ev_sessions(SummaryTables& t, Id station_id, const EvStation& st);
/// Adds an EV station's delivered / not delivered energy to the summary.
void add_ev_kpi(SimulationSummary& sum, const EvKpi& k);

/// grid_aware charging (docs/devices_ev_building.md): one aggregator per transformer feeding a
/// grid_aware station (the first transformer on the path from the station's bus to the source). Each
/// step it computes the headroom = grid_limit * rating - the other load under that transformer (the
/// customers' nominal load and behind-the-meter PV of this step, plus the power of the EV stations
/// stepped before, in bus_flex_kw; the kVA limit scaled by the LV bus's |V| of the last step when below
/// 1 p.u.), and shares it among the vehicles of its stations with the EDF or
/// LLF rule of share_limit (floors first when they fit). Deepest transformers first: an aggregator's
/// EVs count in the other load of the aggregators above it. Allocates nothing per step.
class EvAggregator {
public:
    /// stations: every station of the group (only grid_aware ones are aggregated), buses: their buses.
    /// Throws ValidationError "<who> <id>: strategy grid_aware: ..." for a station with no transformer.
    void prepare(const RunSetup& s, const std::vector<EvStation*>& stations, const std::vector<Id>& buses, const char* who);
    /// After each (re)build of the math model: the node of every aggregated transformer's LV bus.
    void bind(const NetworkIndex& ix);
    bool active() const { return !trafo_.empty(); }
    bool aggregated(std::size_t station) const { return station_trafo_[station] >= 0; }
    /// After begin_step of every aggregated station: each one's share of its transformer's headroom, kW.
    void share(const StepContext& c, const std::vector<EvStation*>& stations);
    double limit_kw(std::size_t station) const { return station_limit_kw_[station]; }
    /// Number of aggregators (transformers feeding grid_aware stations).
    std::size_t size() const { return trafo_.size(); }

private:
    void other_load(const StepContext& c);
    void share_one(std::size_t a, const std::vector<EvStation*>& stations, const StepContext& c);

    std::vector<int> trafo_;                       ///< aggregator -> transformer index
    std::vector<Id> lv_bus_;                       ///< aggregator -> its transformer's LV bus
    std::vector<int> lv_node_;                     ///< and that bus's node (-1: none)
    std::vector<double> s_limit_kva_;              ///< grid_limit * rating, kVA
    std::vector<int> parent_, order_;              ///< nearest aggregated ancestor; processing order (deepest first)
    std::vector<int> load_first_, load_list_;      ///< CSR: load index -> aggregators above its bus
    std::vector<int> bus_first_, bus_list_;        ///< CSR: bus index -> aggregators above it
    std::vector<int> st_first_, st_list_;          ///< CSR: aggregator -> its stations
    std::vector<int> station_trafo_;               ///< station -> aggregator or -1
    std::vector<double> station_limit_kw_;
    std::vector<char> llf_;
    std::vector<double> p_, q_;                    ///< per aggregator: other load this step, kW / kvar
    std::vector<double> flo_, want_, key_, pv_, h_;  ///< per vehicle of one aggregator
    std::vector<std::int64_t> tie_;
    std::vector<int> vorder_, vstation_;
    // issue 17 (docs/comms.md): the limits through the PLC channel (comms_devices.hpp)
    void limits_through_channel(const StepContext& c, const std::vector<EvStation*>& stations);
    int receiver_ = 3;                             ///< Receiver::EvStation or ::EvSite
    std::vector<int> station_bus_;                 ///< station -> bus index
    std::vector<double> hist_kw_;                  ///< [station * kEvLimitRing + step % ring]: the limits sent
    std::vector<double> kept_kw_;                  ///< station -> the limit it has (NaN: none yet)
    bool comms_ = false;                           ///< the run has comms (the limits go through the channel)

public:
    /// Issue 17: the limits sent and kept, in the checkpoint (runs with comms and grid_aware stations
    /// only: other runs' state as before), so a resumed run keeps the limits it had.
    template <class Ar>
    void archive_limits(Ar& ar, const char* prefix) {
        if (!active() || !comms_) return;
        ar.fixed((std::string(prefix) + "_limit_hist_kw").c_str(), hist_kw_);
        ar.fixed((std::string(prefix) + "_limit_kept_kw").c_str(), kept_kw_);
    }
};

std::unique_ptr<DeviceGroup> make_pv_group(DeviceSet& d);
std::unique_ptr<DeviceGroup> make_battery_group(DeviceSet& d);
std::unique_ptr<DeviceGroup> make_ev_group(DeviceSet& d);
std::unique_ptr<DeviceGroup> make_ev_site_group(DeviceSet& d);
std::unique_ptr<DeviceGroup> make_building_group(DeviceSet& d);
std::unique_ptr<DeviceGroup> make_home_group(DeviceSet& d);

/// The battery group's states (Simulation::battery_states), or nullptr when `g` is not one.
const std::vector<BatteryState>* battery_states(const DeviceGroup& g);

}  // namespace libgrid::groups
