// libgrid devices: EV charging. Sessions, seeded session generators, a charging station with
// charging strategies (uncontrolled, delayed to off-peak, PV-following, power-limited with EDF / LLF /
// round-robin sharing, optional vehicle-to-grid), and a charging site (chargers + PV canopy + battery
// behind one connection limit, one site controller). Equations and assumptions: docs/devices_ev_building.md.
//
// Conventions:
//  * times are int64 seconds since 1970-01-01T00:00 LOCAL Melaka time (UTC+8); a step covers [t, t + dt);
//  * powers in kW, generator convention at the device's terminals: positive = injected into the grid,
//    a charging vehicle is negative; energies in kWh;
//  * the per-step functions allocate nothing (everything is sized by prepare()), call nothing virtual,
//    and are deterministic (same inputs, same bits).
//  * thread safety (docs/threads.md): stations, sites and their sessions are values; one thread at a
//    time steps a given station or site, different ones may be stepped at once (the engine's pool does).
#pragma once

#include <libgrid/model/network.hpp>  // Id, kInf

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace libgrid {

// ------------------------------------------------------------------------------------------------
// Sessions and generators
// ------------------------------------------------------------------------------------------------

/// One vehicle's visit to a charger. Limits are grid-side (at the charger's terminals): the battery
/// receives efficiency * P. Valid when departure > arrival, max_kw > 0, battery_kwh > 0,
/// 0 <= soc_arrival and soc_arrival * battery_kwh + energy_kwh <= battery_kwh.
struct EvSession {
    std::int64_t arrival = 0;    ///< plug-in time, s since 1970-01-01T00:00 local
    std::int64_t departure = 0;  ///< unplug time, s; > arrival
    double energy_kwh = 0.0;     ///< energy wanted into the battery by departure, kWh >= 0
    double max_kw = 0.0;         ///< vehicle's maximum charging power (on-board AC charger or DC limit), kW > 0
    double battery_kwh = 0.0;    ///< usable battery capacity, kWh > 0
    double soc_arrival = 0.0;    ///< state of charge on arrival, 0..1
};

enum class ChargerKind : int { Home = 0, Workplace = 1, PublicAC = 2, DCFast = 3 };
std::string to_string(ChargerKind k);
ChargerKind parse_charger_kind(const std::string& s);  ///< "home", "workplace", "public_ac", "dc_fast"

/// Seeded session generator for one station. Sessions arrive in [start, end), sorted by arrival.
/// `sessions_per_day` is the station's mean number of sessions per day averaged over a week (all its
/// chargers together); weekday/weekend patterns, energies and vehicles follow the stated assumptions of
/// docs/devices_ev_building.md. Home: at most ceil(sessions_per_day) per day (one per car); others:
/// Poisson. Same (kind, charger_kw, start, end, seed, station_id, sessions_per_day) => same sessions.
/// charger_kw: Home (0, 22], Workplace and PublicAC (0, 43], DCFast [20, 400].
/// Throws ValidationError naming the field on bad input.
std::vector<EvSession> generate_sessions(ChargerKind kind, double charger_kw, std::int64_t start,
                                         std::int64_t end, std::uint64_t seed, std::uint64_t station_id,
                                         double sessions_per_day);

// ------------------------------------------------------------------------------------------------
// Station
// ------------------------------------------------------------------------------------------------

enum class EvStrategy : int {
    Uncontrolled = 0,           ///< every plugged-in vehicle at its full rate on arrival
    DelayedOffPeak = 1,         ///< off-peak: full rate; peak: PV only, plus the minimum to still meet departure
    PvFollowing = 2,            ///< PV only, plus the minimum to still meet departure
    PowerLimitedEDF = 3,        ///< full rate; under the limit, earliest departure first
    PowerLimitedLLF = 4,        ///< full rate; under the limit, least laxity first
    PowerLimitedRoundRobin = 5,  ///< full rate; under the limit, equal shares (fluid round-robin, max-min fair)
    Spread = 6,                  ///< valley filling: the energy still wanted spread evenly over the time to departure
    GridAware = 7                ///< full rate under the headroom of the transformer feeding the charger, shared by
                                 ///< an aggregator with the EDF or LLF rule (grid_order); floors first when they fit
};
std::string to_string(EvStrategy s);
EvStrategy parse_ev_strategy(const std::string& s);  ///< "uncontrolled", "delayed_off_peak", "pv_following",
                                                     ///< "edf", "llf", "round_robin", "spread", "grid_aware"
/// Strategies whose rule shares a limit among several vehicles (edf, llf, round_robin): meaningless at a
/// single charger with no connection limit (they would equal uncontrolled).
bool shares_a_limit(EvStrategy s);

struct EvStationParams {
    Id id = 0;
    int n_chargers = 1;                   ///< number of identical chargers (plugs), >= 1
    double charger_kw = 7.0;              ///< rating of each charger, kW > 0
    EvStrategy strategy = EvStrategy::Uncontrolled;
    double connection_limit_kw = kInf;    ///< cap on the station's net import, kW >= 0 (inf = none)
    double efficiency = 0.92;             ///< grid->battery and battery->grid efficiency, (0, 1]
    bool v2g = false;                     ///< vehicles may discharge when the caller asks (v2g_request_kw)
    double v2g_min_soc = 0.3;             ///< a vehicle never discharges below this state of charge, 0..1
    double v2g_reserve_h = 1.0;           ///< laxity (spare time at full rate) a vehicle keeps after discharging, h >= 0
    /// delayed_off_peak: each session waits a random delay, uniform in [0, start_delay_max_s], after the
    /// peak ends (or after arriving off-peak) before it charges beyond its floor. Seeded by (delay_seed,
    /// id, arrival): the same at any thread count. 0 = no delay (every car starts when the peak ends).
    double start_delay_max_s = 0.0;
    std::uint64_t delay_seed = 0;
    /// grid_aware: the rule its aggregator (and the station within its share) uses: PowerLimitedEDF or LLF.
    EvStrategy grid_order = EvStrategy::PowerLimitedEDF;
    /// grid_aware: the aggregator keeps the transformer feeding the charger at most this fraction of its
    /// rating (sn_mva * df * parallel, in kVA at the other load's power factor), (0, 2].
    double grid_limit = 0.9;  ///< fraction of the transformer rating, dimensionless
};

/// Per-step input of a station. The station needs only these; the caller's clock gives is_peak.
struct EvStepInput {
    std::int64_t t = 0;             ///< step start, s local; steps must be contiguous
    bool is_peak = false;           ///< ToU peak during this step (TNB: 14:00-22:00 Mon-Fri)
    double pv_available_kw = 0.0;   ///< PV power the vehicles may use this step (PV-following, delayed), kW >= 0
    double import_limit_kw = kInf;  ///< extra cap on net import this step (a site controller's), kW >= 0
    double v2g_request_kw = 0.0;    ///< discharge the caller asks of the vehicles, kW >= 0 (v2g stations only)
};

enum class EvSessionStatus : int {
    Pending = 0,   ///< not arrived yet
    Active = 1,    ///< plugged in
    Finished = 2,  ///< departed within the simulated time
    Blocked = 3,   ///< arrived while every charger was taken: not served, all its energy unmet
    Outside = 4    ///< departed before the first simulated step: ignored by the KPIs
};

/// A session's outcome as written in the sessions table (`status` column, codes in this order).
enum class EvOutcome : int {
    Served = 0,        ///< left with all its energy
    PartlyServed = 1,  ///< left with energy not delivered (unmet_kwh > 1e-6)
    Blocked = 2,       ///< arrived while every charger was taken (public sites): never charged
    Pending = 3,       ///< still plugged in at the end of the run (pending_kwh still wanted)
    NotArrived = 4     ///< arrives after the run or left before it: not counted
};
std::string to_string(EvOutcome o);  ///< "served", "partly_served", "blocked", "pending", "not_arrived"

/// What happened to one session (same index as EvStation::sessions after prepare()).
struct EvSessionRecord {
    EvSessionStatus status = EvSessionStatus::Pending;
    int charger = -1;            ///< charger index, -1 if never plugged in
    double delivered_kwh = 0.0;  ///< net energy into the battery (charged - discharged), kWh
    double grid_in_kwh = 0.0;    ///< energy drawn from the grid, kWh
    double grid_out_kwh = 0.0;   ///< energy returned to the grid (V2G), kWh
    double unmet_kwh = 0.0;      ///< wanted but not delivered by departure (Finished, Blocked), kWh
};

/// The outcome of a session from its record (and what it wanted).
EvOutcome outcome(const EvSessionRecord& r);

/// Station key performance indicators (from the records and the per-step trace).
struct EvKpi {
    double delivered_kwh = 0.0;    ///< net energy into batteries, all sessions, kWh
    double unmet_kwh = 0.0;        ///< energy not delivered by departure (finished + blocked sessions), kWh
    double blocked_kwh = 0.0;      ///< part of unmet_kwh: wanted by arrivals that found every charger taken, kWh
    double pending_kwh = 0.0;      ///< still wanted by vehicles plugged in at the end of the run, kWh
    double grid_in_kwh = 0.0;      ///< drawn from the grid, kWh
    double grid_out_kwh = 0.0;     ///< returned to the grid, kWh
    double peak_import_kw = 0.0;   ///< largest step-average net import, kW
    double peak_export_kw = 0.0;   ///< largest step-average net export, kW
    std::int64_t n_sessions = 0;   ///< sessions that arrived (finished + active + blocked)
    std::int64_t n_finished = 0;
    std::int64_t n_blocked = 0;
    std::int64_t n_unmet = 0;      ///< finished sessions with unmet energy > 1e-6 kWh
};

/// A set of chargers behind one connection. Usage: fill params and sessions, call prepare(dt_s),
/// then step() once per contiguous step; read records / kpi().
struct EvStation {
    EvStationParams params;
    std::vector<EvSession> sessions;       ///< stable-sorted by arrival in prepare()
    std::vector<EvSessionRecord> records;  ///< one per session, reset by prepare()

    /// Validate params and sessions (ValidationError naming station, session index and field), sort the
    /// sessions, size every scratch buffer for steps of at most max_dt_s seconds, reset the state.
    void prepare(double max_dt_s);

    /// Advance one step [in.t, in.t + dt_h). Returns the station's step-average net power, kW, generator
    /// convention (charging < 0). Never allocates. Throws ValidationError on bad input (NaN, negative
    /// limit, non-contiguous time, dt above the prepared one, not prepared).
    double step(const EvStepInput& in, double dt_h);

    /// step() in two halves, for an aggregator that shares a limit among stations: begin_step admits the
    /// arrivals and computes every plugged-in vehicle's floor (minimum to still meet departure) and want
    /// (what its strategy would draw), readable with vehicles()/floor_kw()/want_kw()/priority_key();
    /// end_step applies min(connection limit, in.import_limit_kw, extra_limit_kw) and returns the net power.
    /// step(in, dt) == begin_step(in, dt); end_step(inf).
    void begin_step(const EvStepInput& in, double dt_h);
    double end_step(double extra_limit_kw);
    int vehicles() const { return static_cast<int>(n_active_); }
    double floor_kw(int k) const { return floor_[static_cast<std::size_t>(k)]; }
    double want_kw(int k) const { return want_[static_cast<std::size_t>(k)]; }
    /// EDF: departure (s); LLF: laxity at the step start (h); smaller = more urgent. Ties: session index.
    double priority_key(int k, bool llf) const;
    int session_of(int k) const { return active_[static_cast<std::size_t>(k)]; }

    EvKpi kpi() const;

    /// Vehicles plugged in during the last step.
    int connected() const { return last_connected_; }
    /// State of charge of session i now (soc_arrival + delivered / battery), 0..1.
    double soc(std::size_t i) const;

    // ---- state (public for inspection; do not edit) ----
    bool prepared_ = false;
    double max_dt_s_ = 0.0;
    std::int64_t t_next_ = 0;         ///< start of the next step (after the first)
    bool started_ = false;
    std::size_t next_session_ = 0;    ///< first session not yet arrived
    int last_connected_ = 0;
    double peak_import_kw_ = 0.0;
    double peak_export_kw_ = 0.0;
    bool was_peak_ = false;                        ///< the last step was in the ToU peak
    std::int64_t last_peak_end_ = 0;               ///< start of the first off-peak step after the last peak
    std::vector<std::int64_t> charger_free_at_;  ///< per charger: departure of its last vehicle
    std::vector<int> active_;                     ///< plugged-in session indices, first n_active_ used
    std::size_t n_active_ = 0;
    // per-active scratch, same length as active_'s capacity
    std::vector<double> cap_, floor_, want_, p_, d_, key_, h_;
    std::vector<int> order_;
    // between begin_step and end_step
    double pending_sum_d_ = 0.0, pending_sum_floor_ = 0.0, pending_sum_want_ = 0.0, pending_dt_h_ = 0.0;
    double pending_limit_kw_ = kInf;
    std::int64_t pending_t0_ = 0, pending_t1_ = 0;
};

/// How a limit is shared among n vehicles (the one rule of stations and aggregators): all wants when
/// they fit; else the floors first (most urgent first, in `order`, when not even they fit), then the
/// rest in `order` (greedy = EDF/LLF) or as equal shares (max-min fair). floor <= want per vehicle.
/// `order` must hold the vehicles sorted by urgency when greedy or when the floors do not fit (the
/// callback sorts it only when needed); p, h scratch of length n; p receives the powers.
struct EvShare {
    const double* floor = nullptr;
    const double* want = nullptr;
    double* p = nullptr;
    double* h = nullptr;
    int* order = nullptr;
    int n = 0;
    double sum_floor = 0.0, sum_want = 0.0;
};
template <class SortFn>
void share_limit(double limit_kw, const EvShare& s, bool greedy_rule, SortFn&& sort_by_urgency);
/// The two allocation primitives share_limit uses (exposed for the aggregator).
double ev_waterfill(double amount, const double* h, double* out, int* order, int n);
double ev_greedy(double amount, const double* h, double* out, const int* order, int n);

template <class SortFn>
void share_limit(double L, const EvShare& s, bool greedy_rule, SortFn&& sort_by_urgency) {
    if (s.sum_want <= L) {
        for (int k = 0; k < s.n; ++k) s.p[k] = s.want[k];
        return;
    }
    sort_by_urgency();
    if (s.sum_floor >= L) {
        for (int k = 0; k < s.n; ++k) s.p[k] = 0.0;
        ev_greedy(L, s.floor, s.p, s.order, s.n);  // not even the floors fit: most urgent first
        return;
    }
    for (int k = 0; k < s.n; ++k) {
        s.p[k] = s.floor[k];
        s.h[k] = s.want[k] - s.floor[k];
    }
    const double extra = L - s.sum_floor;
    if (greedy_rule)
        ev_greedy(extra, s.h, s.p, s.order, s.n);
    else
        ev_waterfill(extra, s.h, s.p, s.order, s.n);
}

// ------------------------------------------------------------------------------------------------
// A minimal battery (SoC, efficiencies, limits). The full model is devices/battery.hpp (another
// engineer's); this one is kept internal to charging sites and homes so that they stand alone.
// ------------------------------------------------------------------------------------------------

struct SimpleBattery {
    double capacity_kwh = 0.0;        ///< usable energy capacity, kWh >= 0 (0 = no battery)
    double p_charge_max_kw = 0.0;     ///< grid-side charge limit, kW >= 0
    double p_discharge_max_kw = 0.0;  ///< grid-side discharge limit, kW >= 0
    double eta_charge = 0.95;         ///< grid->cell efficiency, (0, 1]
    double eta_discharge = 0.95;      ///< cell->grid efficiency, (0, 1]
    double soc_min = 0.1;             ///< 0 <= soc_min <= soc_max <= 1
    double soc_max = 0.9;             ///< fraction of capacity, 0..1
    double soc = 0.5;                 ///< state of charge now, within [soc_min, soc_max]
    /// Issue 16: SoC kept for outages, [0, 1]: the floor is max(soc_min, outage_reserve_soc) except
    /// while `outage` (set by the site's controller in an island that sheds EV charging).
    double outage_reserve_soc = 0.0;  ///< fraction of capacity, 0..1
    bool outage = false;
    double floor_soc() const { return outage ? soc_min : std::max(soc_min, outage_reserve_soc); }

    /// Largest grid-side charge (>= 0) the battery can take over dt_h hours, kW.
    double max_charge_kw(double dt_h) const;
    /// Largest grid-side discharge (>= 0) the battery can give over dt_h hours, kW.
    double max_discharge_kw(double dt_h) const;
    /// Apply a grid-side power p_kw for dt_h, generator convention (p > 0 discharges); clipped to limits.
    /// Returns the power actually applied.
    double apply(double p_kw, double dt_h);
    /// Throws ValidationError "<owner> <id>: battery field '<f>': ..." when a field is out of domain.
    void validate(const char* owner, Id id) const;
};

// ------------------------------------------------------------------------------------------------
// Charging site: an EV station, a PV canopy, a battery and one connection under a site controller.
// ------------------------------------------------------------------------------------------------

struct ChargingSiteParams {
    Id id = 0;
    double connection_limit_kw = kInf;      ///< cap on the site's net import, kW >= 0
    double export_limit_kw = kInf;          ///< cap on the site's net export, kW >= 0 (PV above it is curtailed)
    bool battery_discharge_in_peak = true;  ///< battery covers the EVs' grid import during the ToU peak
    bool battery_grid_charge_offpeak = false;  ///< battery also charges from the grid off-peak (within the limit)
};

struct SiteStepInput {
    std::int64_t t = 0;            ///< step start, s local
    bool is_peak = false;          ///< ToU peak during this step
    double pv_available_kw = 0.0;  ///< AC power the PV canopy can give this step, kW >= 0
    double v2g_request_kw = 0.0;   ///< passed to the station (v2g stations only), kW >= 0
};

/// Step-average powers, kW, generator convention (positive = out of the component into the site bus).
struct SiteStepOutput {
    double p_kw = 0.0;             ///< site at its connection: + export, - import
    double p_ev_kw = 0.0;          ///< the EV station (charging < 0)
    double p_pv_kw = 0.0;          ///< PV used (after curtailment)
    double p_battery_kw = 0.0;     ///< battery (+ discharging, - charging)
    double pv_curtailed_kw = 0.0;  ///< PV available but not used
};

/// Site controller, each step: (1) the EVs may draw up to limit + PV + battery's available discharge;
/// (2) PV goes first to the EVs; (3) PV surplus charges the battery, the rest is exported (curtailed
/// above the export limit); (4) the battery covers EV import above the connection limit and, in the peak
/// (option), all of it; (5) the EV station curtails fairly (its strategy) so that the limit holds.
struct ChargingSite {
    ChargingSiteParams params;
    EvStation evs;          ///< its own connection_limit_kw should be inf (the site passes its own)
    SimpleBattery battery;  ///< capacity 0 = no battery

    void prepare(double max_dt_s);  ///< validates, prepares evs, resets peaks
    SiteStepOutput step(const SiteStepInput& in, double dt_h);
    /// step() in two halves around a grid_aware aggregator (EvStation::begin_step): end_step holds the
    /// site's net import at min(connection_limit_kw, import_share_kw) this step. step == begin; end(inf).
    void begin_step(const SiteStepInput& in, double dt_h);
    SiteStepOutput end_step(double import_share_kw);

    double peak_import_kw_ = 0.0;  ///< largest step-average import at the connection, kW
    double peak_export_kw_ = 0.0;
    SiteStepInput pending_in_;     ///< between begin_step and end_step
    double pending_dt_h_ = 0.0, pending_b_dis_ = 0.0, pending_b_ch_ = 0.0;
};

}  // namespace libgrid
