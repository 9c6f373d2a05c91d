// libgrid layer 7: the quasi-static time-series engine.
//
// Each step: loads take their profile value, devices give set points from the last voltages and the
// tariff's peak flag, the solver runs warm-started, voltage-dependent controls (PV volt-var and
// volt-watt, on-load tap changers, switched shunts) iterate to a fixed point within a bound, and
// the results stream to the recorder (results/recorder.hpp; HDF5 for output_path). The engine knows
// no device kind: devices plug in as device groups (simulation/device_group.hpp). Topology,
// admittance matrix and symbolic factorisation are built once and reused; a timed event (switch, service status) rebuilds them at its step.
// A step that does not converge is flagged and the run goes on.
//
// Sign convention of every recorded power: generator convention, positive = injected into the grid.
// In every converged step: ext_grid p + sum of all elements' p = sum of branch losses.
#pragma once

#include <libgrid/model/network.hpp>
#include <libgrid/model/unetwork.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/profiles/weather.hpp>

#include <limits>
#include <libgrid/results/recorder.hpp>
#include <libgrid/results/results.hpp>
#include <libgrid/simulation/comms.hpp>
#include <libgrid/simulation/dr.hpp>
#include <libgrid/simulation/device_set.hpp>
#include <libgrid/simulation/emissions.hpp>
#include <libgrid/simulation/tariff.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace libgrid {

struct SimulationOptions {
    LocalTime start = 0;             ///< s, local time of the site (profiles/calendar.hpp)
    std::int64_t step_s = 900;       ///< s, 60 .. 3600 and a divisor of an hour (ValidationError naming 'step_s' otherwise)
    std::size_t n_steps = 96;
    std::uint64_t seed = 1;
    Method method = Method::Auto;
    LinearSolverKind linear_solver = LinearSolverKind::Default;
    double tolerance = 1e-8;
    int max_iterations = 30;
    int max_control_iterations = 8;        ///< fixed-point rounds of voltage-dependent controls per step
    double control_tolerance_pu = 1e-5;    ///< on the voltage change between rounds (volt-var, volt-watt)
    /// The site (latitude, longitude, altitude, the UTC offset of LocalTime used for the sun's
    /// position) and its synthetic climate, used when weather_series is not given. The defaults are
    /// Melaka's (WeatherParams); set them for another place (docs/units.md "Place").
    WeatherParams weather;
    const WeatherSeries* weather_series = nullptr;  ///< given weather (else melaka_weather(seed, weather))
    /// Issue 19: the grid emission factor of imports. Not given (default) = no CO2 KPIs: co2_t and
    /// co2_avoided_export_t are NaN ("not computed"). Scenarios give it (key emission_factor, Melaka's
    /// 0.78 t/MWh by default there).
    std::optional<EmissionFactor> emission;
    /// Issue 19: the tariff of every customer (load) that has none in DeviceSet::tariffs. Not given
    /// (default) = such customers are not billed; a run where no customer is billed writes no /bill
    /// and bills_rm is NaN ("not billed"). Scenarios set TNB's domestic general tariff.
    std::optional<Tariff> default_tariff;
    /// Issue 19: the peak window devices see (DeviceContext::peak, e.g. a battery's peak shaving):
    /// [peak_start_hour, peak_end_hour) local time, Monday to Friday except `holidays`. Default: TNB's
    /// domestic ToU window, 14:00-22:00.
    Tariff peak_tariff = Tariff::tnb_domestic_tou();
    /// Issue 19: public holidays (given a local midnight, is that day a holiday?) for the tariffs'
    /// peak window, bills and the emission factor's weekday/weekend profile. Empty (default) = no
    /// public holidays; scenarios use Melaka's calendar (is_public_holiday, profiles/calendar.hpp).
    /// The synthetic load profiles' day types always follow the Melaka calendar.
    HolidayPredicate holidays;
    /// Issue 18: the factor of the emissions that exports avoid (the marginal factor, the plant the
    /// exported energy displaces); not given (false) = `emission`. docs/economics.md "Emissions".
    bool emission_marginal_given = false;
    EmissionFactor emission_marginal;
    std::int64_t meter_interval_s = 900;   ///< smart-meter interval (900 or 1800)
    /// Bills of a month the run covers only in part: flagged (default) or prorated (tariff.hpp).
    PartialMonths bill_partial_months = PartialMonths::Flag;
    std::string output_path;               ///< HDF5 results; empty = none
    /// Results to this recorder instead (not owned; e.g. a MemoryRecorder); nullptr = output_path.
    /// Checkpoints and resume need output_path.
    Recorder* recorder = nullptr;
    H5WriterOptions h5 = [] {
        H5WriterOptions o;
        o.float32 = true;  // series as float32 (7 significant digits): halves file size and write time
        return o;
    }();
    bool record_bus_angles = false;
    bool record_branch_p_from = false;     ///< /branch/p_from_mw (loading and losses are always recorded)
    bool record_reactive = false;          ///< /load/q_mvar, /pv/q_mvar only when true (or PV has Q control)
    std::string scenario_text;             ///< stored as the `scenario` attribute
    int threads = 1;                       ///< device updates in parallel; results identical
    std::size_t profile_block_steps = 672; ///< load profiles are generated this many steps at a time
    double loading_limit_percent = 100.0;  ///< line / transformer loading counted as an overload above this
    bool reverse_flow_is_violation = false;///< power flowing LV -> HV through a transformer counts as a violation
    bool stop_at_first_violation = false;  ///< end the run at the first broken limit (hosting capacity)

    // ---- runs that survive (docs/reliability.md) ----
    /// Read at every step boundary: a non-zero value stops the run there (the step in progress ends
    /// first). The run then writes /summary and /bill for the steps done, marks the file `status =
    /// "stopped"` and returns a summary with completed = false. A signal handler sets it (the value
    /// is the signal number, named in stop_reason); nullptr = never.
    const std::atomic<int>* stop_requested = nullptr;
    /// With an output file: every this many steps (a multiple of kCheckpointQuantum; 0 = never) the
    /// file is flushed and the run's state saved next to it (`<output>.ckpt`), so that a run killed
    /// in any way can be resumed. Removed when the run completes.
    std::size_t checkpoint_steps = 256;
    /// Continue the run whose results file is output_path from its checkpoint: same inputs (checked),
    /// same file in the end as a run that was never interrupted (every dataset and attribute, bit for
    /// bit, except the wall-clock timings in /summary).
    bool resume = false;
    /// Stop at a step boundary (status "stopped", like a stop request) when the output's file system
    /// has less than this many bytes free; the file stays readable and gets its /summary. 0 = off.
    std::size_t min_free_bytes = std::size_t{16} << 20;
    /// Added (issue 15, H3): the voltage unbalance factor limit, percent (scenario key
    /// limits.vuf_percent; IEC 61000-2-2's 2 %): the unbalance KPIs count three-phase bus-steps above it.
    /// (H4) On an unbalanced network a three-phase bus whose VUF exceeds it breaks the limit
    /// "unbalance" (first_violation: hosting capacity's limit kind); infinity: never.
    double vuf_limit_percent = 2.0;
    /// Issue 16: load priorities for shedding in droop islands (docs/microgrid.md "Time series"),
    /// by the load's `type` (the customer class, e.g. "hotel"); loads of other types (and of none)
    /// get default_priority. Level 1 sheds the deferrable loads and EV charging, level 2 the
    /// essential loads too; critical loads stay until the island collapses.
    std::map<std::string, LoadPriority> load_priority;
    LoadPriority default_priority = LoadPriority::Essential;
    /// Issue 16: droop islands run under secondary frequency control (each step's steady state:
    /// the sources' set points shifted until the frequency is nominal again, within their limits;
    /// docs/microgrid.md); false = primary droop only (the frequency stays where the droop puts it).
    bool island_secondary_control = true;
    /// Issue 17: meter readings through a PLC channel to the head-end (docs/comms.md); disabled by
    /// default (then the run is as without it, bit for bit).
    CommsOptions comms;
    /// Issue 17, second part: demand-response events sent through the channel (docs/comms.md
    /// "Demand response through the channel"; scenario key `demand_response`). Empty = none.
    std::vector<DemandResponseEvent> demand_response;
    /// Issue 19: keep every recorded series in memory too (Simulation::results(), by element id and
    /// time); with output_path also given, the same values go to both. Ignored with `recorder`.
    bool results_in_memory = false;
};

/// The engine re-derives its model (admittances, solver factorisation) from the network every this
/// many steps, so that a resumed run repeats the uninterrupted one bit for bit; checkpoints fall on
/// these boundaries.
inline constexpr std::size_t kCheckpointQuantum = 256;

/// The first limit a run broke: when, what and where (hosting-capacity studies start here).
struct Violation {
    bool found = false;
    LocalTime time = 0;
    std::string kind;   ///< "voltage_high", "voltage_low", "line_overload", "trafo_overload", "reverse_flow", "unbalance" (unbalanced networks)
    Id element = -1;    ///< bus, line or transformer id
    double value = 0.0; ///< p.u. or percent or MW
    /// Added (issue 15, H4): unbalanced networks: the phase that broke it, "a", "b" or "c"
    /// (voltage: the phase-to-neutral voltage; loading: the conductor with the largest current
    /// for its rating); "" for "unbalance" (kind; value: the VUF, percent) and on balanced networks.
    std::string phase;
};

/// Key results of a run (also written to /summary).
struct SimulationSummary {
    Violation first_violation;
    std::size_t steps = 0;
    std::size_t non_converged_steps = 0;
    std::size_t controls_unsettled_steps = 0;
    std::size_t voltage_violation_bus_steps = 0;  ///< bus-steps outside [vmin_pu, vmax_pu]
    double voltage_violation_hours = 0.0;         ///< hours with at least one bus outside its band
    double min_vm_pu = 0.0, max_vm_pu = 0.0;
    double max_line_loading_percent = 0.0, max_trafo_loading_percent = 0.0;
    std::size_t overloaded_branch_steps = 0;      ///< line/trafo-steps above 100 %
    double losses_mwh = 0.0;
    double import_mwh = 0.0, export_mwh = 0.0;    ///< at the external grid(s)
    double peak_import_mw = 0.0;
    double load_mwh = 0.0;                        ///< consumed by loads (incl. EV, buildings)
    double pv_mwh = 0.0, pv_available_mwh = 0.0, pv_curtailed_mwh = 0.0;
    double pv_self_consumed_mwh = 0.0;            ///< behind-the-meter PV used on site
    double self_consumption = 0.0;                ///< self-consumed / PV energy
    double self_sufficiency = 0.0;                ///< self-consumed / (self-consumed + meter import)
    // customer meters (docs/kpis.md): behind the meter, summed over the customers' meters
    double meter_import_mwh = 0.0, meter_export_mwh = 0.0;
    double pv_behind_meter_mwh = 0.0;             ///< PV of PV units with a customer and of homes
    // the city's energy balance by class: load_mwh = load_profiles + ev_charging + building + home
    double load_profiles_mwh = 0.0, ev_charging_mwh = 0.0, building_mwh = 0.0, home_mwh = 0.0;
    double battery_net_charge_mwh = 0.0;          ///< into all batteries minus out of them (AC side)
    double network_gen_mwh = 0.0;                 ///< gens, sgens, shunts of the network table
    // losses by element kind (losses_mwh is their sum; by voltage level in /summary/losses_by_level)
    double losses_line_mwh = 0.0, losses_trafo_load_mwh = 0.0, losses_trafo_noload_mwh = 0.0, losses_branch_mwh = 0.0;
    double losses_source_mwh = 0.0;               ///< in the ext grids' source impedances (sk_mva finite); not in losses_mwh
    double battery_charged_mwh = 0.0, battery_discharged_mwh = 0.0, battery_losses_mwh = 0.0;
    double battery_storage_change_mwh = 0.0;
    double co2_t = 0.0;                           ///< of grid imports, t; NaN when SimulationOptions::emission is not given
    double co2_avoided_export_t = 0.0;            ///< issue 18: of exports, at the marginal (or the average) factor, t; NaN likewise
    double bills_rm = 0.0;                        ///< sum of all customers' bills, RM; NaN when no customer is billed (no tariff given)
    double ev_delivered_mwh = 0.0, ev_not_delivered_mwh = 0.0, ev_peak_mw = 0.0;
    double ev_blocked_mwh = 0.0;                  ///< wanted by public-site arrivals that found every bay taken
    double ev_pending_mwh = 0.0;                  ///< still wanted by vehicles plugged in at the end of the run
    double building_comfort_degree_hours = 0.0;   ///< BEMS buildings: K h outside the band while occupied
    double home_comfort_degree_hours = 0.0;       ///< HEMS homes, likewise
    double energy_balance_max_error_mw = 0.0;     ///< max over converged steps
    /// In-service buses that no source feeds (their island has no ext grid, slack or generator: NaN
    /// voltages, see deenergized_buses in powerflow.hpp), the most at any step; /summary/deenergized_buses.
    std::size_t deenergized_buses = 0;
    double wall_time_s = 0.0;
    double steps_per_second = 0.0;
    // where the wall time went (seconds): setup (weather, topology, solver analysis), load
    // profiles, devices, power flow (incl. control rounds), recording (results, meters, HDF5)
    double time_setup_s = 0.0, time_profiles_s = 0.0, time_devices_s = 0.0, time_powerflow_s = 0.0, time_record_s = 0.0;
    double time_checkpoint_s = 0.0;               ///< model re-derivation and checkpoints every 256 steps
    int powerflow_iterations = 0;                 ///< total over the run
    // ---- how the run ended ----
    bool completed = true;                        ///< false: stopped before n_steps (stop_reason says why)
    std::size_t planned_steps = 0;                ///< n_steps asked for
    std::string stop_reason;                      ///< "" when completed; "SIGINT", "SIGTERM", "disk nearly full: ..."
    std::size_t resumed_from_step = 0;            ///< > 0 when the run continued a checkpoint
    // ---- issue 15, unbalanced networks only (NaN on a balanced one; docs/kpis.md) ----
    double max_vuf_percent = std::numeric_limits<double>::quiet_NaN();  ///< worst VUF over three-phase bus-steps
    double vuf_p95_percent = std::numeric_limits<double>::quiet_NaN();  ///< its 95th percentile (0.001 % bins)
    double max_neutral_current_a = std::numeric_limits<double>::quiet_NaN();  ///< largest neutral current of a branch
    bool unbalanced = false;  ///< the run was on an unbalanced network (its /summary has the three above)
    // ---- added (issue 15, H3): the rest of the unbalance KPIs (unbalanced networks only; docs/kpis.md) ----
    double vuf_limit_percent = std::numeric_limits<double>::quiet_NaN();  ///< SimulationOptions::vuf_limit_percent
    /// share of the three-phase bus-steps (converged) whose VUF is above vuf_limit_percent, percent
    double vuf_bus_steps_over_limit_percent = std::numeric_limits<double>::quiet_NaN();
    /// phase nodes' steps below the bus's vmin_pu / above its vmax_pu (phase to neutral), per phase a, b, c
    std::size_t undervoltage_node_steps_a = 0, undervoltage_node_steps_b = 0, undervoltage_node_steps_c = 0;
    std::size_t overvoltage_node_steps_a = 0, overvoltage_node_steps_b = 0, overvoltage_node_steps_c = 0;
    double neutral_losses_mwh = std::numeric_limits<double>::quiet_NaN();  ///< lines' and transformers' neutral conductors
    double max_trafo_phase_loading_percent = std::numeric_limits<double>::quiet_NaN();  ///< LV winding, per phase, of kVA / 3
    double max_line_conductor_loading_percent = std::numeric_limits<double>::quiet_NaN();  ///< phases and neutral
    std::size_t vuf_bus_steps = 0, vuf_bus_steps_over_limit = 0;  ///< the counts behind the share (not KPIs)
    // ---- added (issue 16, H2): the resilience KPIs (docs/resilience.md, docs/kpis.md) ----
    /// The run had events (timed or random outages): its /summary holds the KPIs below.
    bool resilience = false;
    /// The run's customers: loads in service and energised in the network as given (IEEE 1366 N_T).
    std::size_t customers = 0;
    /// What the interrupted customers' profiles would have drawn (a customer is interrupted in a
    /// step when its bus is de-energised or an event switched it out of service), MWh; by class.
    double energy_not_served_mwh = 0.0;
    double energy_not_served_residential_mwh = 0.0, energy_not_served_commercial_mwh = 0.0, energy_not_served_industrial_mwh = 0.0;
    double customer_hours_interrupted = 0.0;  ///< sum over interrupted customer-steps of dt, h
    std::size_t customers_interrupted = 0;    ///< customers interrupted at least once
    std::size_t interruptions = 0;            ///< customer interruptions (starts of an interruption)
    double saidi_h = 0.0;                     ///< customer_hours_interrupted / customers
    double saifi = 0.0;                       ///< interruptions / customers
    std::size_t interrupted_steps = 0;        ///< steps with at least one customer interrupted
    /// Steps in which an island without an ext grid was energised (held by grid-forming sources).
    std::size_t islanded_steps = 0;
    // ---- issue 16: islanded operation (docs/microgrid.md "Time series", docs/kpis.md) ----
    /// Energy shed in droop islands (also in energy_not_served_mwh), by priority of the load, MWh
    double energy_shed_deferrable_mwh = 0.0, energy_shed_essential_mwh = 0.0;
    std::size_t shed_steps = 0;                ///< steps in which some island shed load
    /// Critical customers (LoadPriority::Critical) interrupted: customer-hours; and the hours in
    /// which some critical customer was off the main grid (islanded or de-energised) and every such
    /// customer was supplied (by an island)
    double critical_customer_hours_interrupted = 0.0;
    double critical_load_served_hours = 0.0;
    std::size_t island_collapses = 0;          ///< droop islands that could not be held (collapsed)
    /// Hours from the first islanded step to the first collapse; NaN without a collapse
    double time_to_collapse_h = std::numeric_limits<double>::quiet_NaN();
    /// Frequency range of the droop islands over islanded steps, Hz (NaN without any)
    double island_frequency_min_hz = std::numeric_limits<double>::quiet_NaN();
    double island_frequency_max_hz = std::numeric_limits<double>::quiet_NaN();
    /// Grid-forming batteries: stored energy / capacity (all of them together) at the start of the
    /// first islanded step and at the end of the last one (NaN without islanded steps)
    double forming_soc_outage_start = std::numeric_limits<double>::quiet_NaN();
    double forming_soc_outage_end = std::numeric_limits<double>::quiet_NaN();
    // ---- issue 17: the communication layer (runs with comms enabled; docs/comms.md) ----
    bool comms = false;                       ///< the run had comms: its /summary holds the two KPIs below
    std::size_t meter_readings = 0;           ///< meter-intervals closed (customers x intervals)
    std::size_t headend_readings = 0;         ///< of them, the ones the head-end has (in time)
    double meter_data_completeness = std::numeric_limits<double>::quiet_NaN();  ///< headend / meter readings
    double bill_estimation_error_rm = std::numeric_limits<double>::quiet_NaN(); ///< sum |head-end bill - true bill|
    // ---- issue 17, second part: demand response through the channel (runs with demand_response events) ----
    bool dr = false;                          ///< the run had demand_response events: /summary holds the DR KPIs
    double dr_requested_kw = std::numeric_limits<double>::quiet_NaN();   ///< event-time mean of reduction x baseline
    double dr_delivered_kw = std::numeric_limits<double>::quiet_NaN();   ///< event-time mean of baseline - actual
    double dr_devices_reached_share = std::numeric_limits<double>::quiet_NaN();  ///< reached before the start / targeted
    /// Issue 17, messages to devices (docs/comms.md): device-steps acting on an older day's price
    /// schedule than the day in force; of them, the ones whose peak flag differs from the true one;
    /// battery-steps (Schedule strategy) acting on an older step's set point (or none).
    std::size_t stale_price_steps = 0;
    std::size_t stale_price_wrong_steps = 0;
    std::size_t battery_setpoint_stale_steps = 0;
    /// Issue 17: station-steps of grid_aware EV stations and sites acting on an older step's limit.
    std::size_t ev_limit_stale_steps = 0;
    std::size_t dr_reached_devices = 0;       ///< issue 17 (H5): over all classes and events, reached before the start
    std::size_t dr_targeted_devices = 0;      ///< issue 17 (H5): over all classes and events, targeted (in service)
};

/// Per-step hook for progress bars: (step done, total steps).
using ProgressFn = std::function<void(std::size_t, std::size_t)>;

/// Issue 19: what one step did (Simulation::step(), the StepFn callback).
struct StepInfo {
    std::size_t step = 0;          ///< index of the step (0-based)
    std::size_t total = 0;         ///< steps planned (SimulationOptions::n_steps)
    LocalTime time = 0;            ///< its start, local time (s since 1970-01-01 local)
    bool converged = true;         ///< the power flow converged
    bool controls_settled = true;  ///< voltage-dependent controls reached their fixed point
    int iterations = 0;            ///< power-flow iterations, all control rounds
};
/// Per-step hook with the step's time and status.
using StepFn = std::function<void(const StepInfo&)>;

/// Where a run with results file `output` keeps its checkpoint: `<output>.ckpt`.
std::string checkpoint_path(const std::string& output);

/// A time-series run. Construct, then run() (the whole horizon) or step it: start(), step() /
/// run_until(t) with set points changed between steps, finish(). Throws ValidationError / IdError
/// on bad input (unknown bus or load ids, bad device parameters) before the first step.
///
/// Thread safety: a Simulation is used from one thread at a time, except cancel(), which any
/// thread may call while it runs. Independent Simulations (each with its own inputs and output
/// file) may run on separate threads at once: they share no mutable state, and the HDF5 library
/// is its thread-safe build (its calls serialised; CMake refuses one without H5_HAVE_THREADSAFE).
/// Results are identical whatever SimulationOptions::threads.
class Simulation {
public:
    Simulation(Network net, DeviceSet devices, SimulationOptions options);
    /// Issue 15: a time series on an unbalanced network (docs/unbalanced.md; PLAN: the engine's
    /// grid seam). Customers are net.loads (id: ULoad::id, else index + 1); buses are numbered
    /// UBus::id, else index + 1; a load without a LoadProfileSpec follows its OpenDSS load shape
    /// (yearly, else daily: the value at each step's start time as OpenDSS evaluates it).
    Simulation(UNetwork net, DeviceSet devices, SimulationOptions options);
    ~Simulation();
    Simulation(Simulation&&) noexcept;
    Simulation& operator=(Simulation&&) noexcept;

    /// The whole run (what start(), step() to the end and finish() do), with a progress callback.
    SimulationSummary run(const ProgressFn& progress = {});
    /// The same with a callback given each step's time and status.
    SimulationSummary run(const StepFn& on_step);

    // ---- stepped runs (co-simulation, DERMS; docs/cpp_api.md "Stepping") ----
    /// Prepares the run: profiles, devices, the results file. Once; step() calls it when not done yet.
    void start();
    /// Runs the next step. Throws Error when every step is done, the run was finished or cancelled.
    StepInfo step();
    /// Steps while the next step starts before `t` (local time); returns the steps run by this call.
    std::size_t run_until(LocalTime t);
    /// Steps run so far; the local start time of the next step; every step done (or the run cancelled).
    std::size_t steps_done() const;
    LocalTime next_time() const;
    bool done() const;
    /// Ends the run (bills, KPIs, /summary, the results file closed) and returns its summary; a run
    /// ended before its last step is "stopped" (completed = false, stop_reason "finished early").
    SimulationSummary finish();
    /// From any thread: the run stops at the next step boundary (the step in progress ends first);
    /// run() returns a summary with completed = false and stop_reason "cancelled".
    void cancel() noexcept;

    // ---- set points between steps (they act from the next step on) ----
    /// A battery's AC power, kW, generator convention (+ discharge, - charge), held until changed;
    /// the battery's power and energy limits still apply. NaN: back to its own strategy.
    /// IdError for an unknown battery id; ValidationError for an infinite value.
    void set_battery_power(Id battery, double p_kw);
    /// A PV unit's AC output cap, kW (curtailment; >= 0); infinity: no cap (the default).
    void set_pv_limit(Id pv, double p_max_kw);
    /// Opens or closes a switch (element "switch") or takes an element in or out of service
    /// ("line", "trafo", "load", "sgen", "ext_grid", "pv", "battery"): an event at the next step,
    /// listed in /events with cause "set_point". IdError for an unknown element or id.
    void set_switch(Id sw, bool closed);
    void set_in_service(const std::string& element, Id id, bool in_service);

    /// Issue 19: the results kept in memory (SimulationOptions::results_in_memory); the steps done
    /// so far while stepping. Throws Error when the run does not keep them.
    const Results& results() const;

    /// After run(): per-customer monthly bills (customer ids in bill_customers()).
    const std::vector<std::vector<Bill>>& bills() const;
    const std::vector<Id>& bill_customers() const;
    /// After run(): the final battery states, in DeviceSet::batteries order.
    const std::vector<BatteryState>& battery_states() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace libgrid
