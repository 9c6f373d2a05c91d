// libgrid layer 8: scenario files.
//
// A scenario is a YAML file (schema, units, defaults and their sources: docs/scenarios.md) that names a
// network (the built-in Melaka generator and its size, or a .m / .json file), the device penetrations
// (rooftop PV, batteries, home EV chargers, public charging sites with PV and storage, BEMS buildings,
// HEMS homes), weather and load profiles, the time horizon and step, tariffs, the grid emission factor,
// outputs, solver settings and the seed.
//
//   Scenario s = load_scenario("scenarios/melaka_smart_city.yaml");   // parse + validate
//   override_key(s, "horizon.steps", "96");                            // e.g. from a command line
//   BuiltScenario b = build_scenario(s);                               // network + devices + options
//   b.options.output_path = "out.h5";
//   SimulationSummary r = Simulation(b.net, b.devices, b.options).run();
//
// Errors: every problem in a file is a ParseError naming the file, the line and the dotted key
// ("melaka.yaml:14: key 'devices.pv.share': expected a number in [0, 1], got 'lots'"). Unknown keys are
// errors (with a "did you mean" hint); so are wrong types, numbers out of range and unknown words (the
// message lists the allowed ones). A bad override is a ValidationError naming the override's key.
//
// Determinism: build_scenario() is a function of the effective scenario alone. Which customers get a
// device is decided by a per-customer uniform number from the scenario seed (profiles/rng.hpp streams,
// keyed by the device kind and the customer id): the customers with the smallest numbers get it. So the
// selections are nested (a larger share keeps every customer of a smaller one) and independent across
// device kinds.
//
// Thread safety (docs/threads.md): load_scenario, build_scenario, make_simulation and the Melaka
// generator keep no global state (every random stream is seeded from the scenario's seed): threads
// may build and run different scenarios at once. A Scenario is a value: read from several threads
// at once, changed (override_key) by one with nobody reading.
#pragma once

#include <libgrid/devices/battery.hpp>
#include <libgrid/devices/building.hpp>
#include <libgrid/devices/ev.hpp>
#include <libgrid/model/network.hpp>
#include <libgrid/model/unetwork.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/profiles/weather.hpp>
#include <libgrid/scenario/melaka_grid.hpp>
#include <libgrid/simulation/comms.hpp>
#include <libgrid/simulation/dr.hpp>
#include <libgrid/simulation/engine.hpp>
#include <libgrid/simulation/tariff.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace libgrid {

// ---- settings, as parsed and validated (defaults = the documented defaults) --------------------

struct ScenarioNetwork {
    bool from_file = false;            ///< false: the Melaka generator; true: `file`
    // generator
    GridSize size = GridSize::Small;
    bool has_seed = false;             ///< network.seed given (else the scenario seed)
    std::uint64_t seed = 0;
    int substations = -1;              ///< -1: by size (MelakaGridOptions)
    int feeders_per_substation = -1;
    int transformers_per_feeder = -1;
    int customers_per_transformer = -1;
    int charging_sites = -1;
    bool normally_open_ties = true;
    double lv_vmin_pu = 0.94, lv_vmax_pu = 1.05;  ///< voltage band of 400/230 V buses (docs/scenarios.md, "network")
    double mv_vmin_pu = 0.95, mv_vmax_pu = 1.05;  ///< voltage band of 11 and 33 kV buses (ASSUMPTION)
    int distribution_tap_pos = 2;                 ///< off-circuit tap of every 11/0.433 kV transformer, -2..2 (ASSUMPTION)
    // file
    std::string file_path;             ///< absolute; a relative `file` resolves against the scenario's directory
    CustomerType customer_type = CustomerType::TerraceHouse;  ///< type of every load of a file network
    double load_factor = 0.45;         ///< file networks: daily kWh = load p (kW) * 24 h * load_factor
    double roof_m2_per_kw = 20.0;      ///< file networks: roof area = load p (kW) * this, m2/kW
    // both kinds: every ext grid's source impedance (docs/distribution.md, "External grid"), if given
    bool has_ext_grid_sk_mva = false;   ///< network.ext_grid_sk_mva given (else the network's own)
    double ext_grid_sk_mva = 0.0;       ///< MVA, > 0; infinite ("inf") = an ideal slack
    bool has_ext_grid_rx_ratio = false; ///< network.ext_grid_rx_ratio given
    double ext_grid_rx_ratio = 0.1;     ///< R/X of the source impedance, [0, 100]
    /// Issue 15: `file` is an OpenDSS script (.dss, any case): an unbalanced network (read_dss). Its
    /// customers are its loads, which follow their own LoadShapes; devices name buses and customers
    /// by the script's bus and load names. Keys that do not fit (load_factor, ext_grid_*, profiles.*)
    /// are refused (docs/scenarios.md, "A .dss network").
    bool dss = false;
    /// Issue 15: "balanced" (issues 1-13's positive-sequence model) or "unbalanced" (three-phase,
    /// the grid as built). "" before parsing = the default by kind; after parsing always resolved:
    /// the generator's default is scenario_default_model(); a .dss file is "unbalanced" only, a
    /// .m / .json file "balanced" only (docs/scenarios.md, "network").
    std::string model;
    /// Issue 15: the unbalanced Melaka's phases (network.phases; MelakaPhaseOptions): seed, imbalance,
    /// rephase, convert.customer_earth_ohm, convert.substation_earth_ohm, convert.model_neutral.
    MelakaPhaseOptions phases;
    bool has_phases_seed = false;      ///< network.phases.seed given (else network.seed, else the scenario seed)
    /// True when the run is on a UNetwork (model "unbalanced").
    bool unbalanced() const { return model == "unbalanced"; }
    bool operator==(const ScenarioNetwork&) const = default;
};

/// Issue 15: the model a generated (Melaka) network gets when `network.model` is not given.
std::string scenario_default_model();

struct ScenarioHorizon {
    LocalTime start = 20089 * kSecondsPerDay;  ///< local Melaka time; default 2025-01-01T00:00
    std::int64_t step_s = 900;              ///< s, 60 .. 3600, divides 3600
    bool by_steps = false;                  ///< `steps` given (else `duration`)
    std::string duration = "1d";            ///< "<n>y" (calendar years), "<n>w", "<n>d", "<n>h", "<n>min" (normalised)
    std::size_t n_steps = 96;               ///< resolved number of steps
    bool operator==(const ScenarioHorizon&) const = default;
};

struct ScenarioWeather {
    bool from_file = false;
    std::string file_path;                ///< absolute; CSV with columns time, ghi_wm2, temp_c (interval means)
    double mean_daily_ghi_kwh_m2 = 4.3;   ///< melaka.md: Peninsular Malaysia 3.8-4.8
    double temp_min_c = 22.9;             ///< melaka.md
    double temp_max_c = 31.5;             ///< melaka.md
    bool has_seed = false;                ///< weather.seed given (else the scenario seed)
    std::uint64_t seed = 0;
    bool operator==(const ScenarioWeather&) const = default;
};

/// The place simulated (key `site`, docs/scenarios.md "Site"): where the sun is, the local clock of
/// every time in the scenario, and the public holidays of the tariffs' peak window, the bills and the
/// emission profile. Melaka's by default (melaka.md); the synthetic load profiles' day types follow
/// the Melaka calendar whatever `holidays` says.
enum class SiteHolidays : int { Melaka = 0, None = 1 };
struct ScenarioSite {
    double latitude_deg = kMelakaLatitudeDeg;    ///< degrees north
    double longitude_deg = kMelakaLongitudeDeg;  ///< degrees east
    double utc_offset_h = kMelakaUtcOffsetH;     ///< h, of the local clock (no daylight saving)
    double altitude_m = 10.0;                    ///< m above sea level (clear-sky model)
    SiteHolidays holidays = SiteHolidays::Melaka;
    bool operator==(const ScenarioSite&) const = default;
};

struct ScenarioProfiles {
    double residential_daily_kwh = 14.5;  ///< mean over terrace houses, kWh/day (melaka.md)
    double commercial_scale = 1.0;        ///< multiplies shophouses', offices', malls', hotels' daily kWh
    double industrial_scale = 1.0;
    double power_factor = 0.95;           ///< of every load profile (lagging)
    bool operator==(const ScenarioProfiles&) const = default;
};

enum class PvControl : int { Unity = 0, FixedPF = 1, VoltVar = 2, VoltWatt = 3, VoltVarVoltWatt = 4 };

struct ScenarioPv {
    double share = 0.0;                   ///< of eligible customers (type in `types`, roof > 0)
    std::vector<CustomerType> types{CustomerType::TerraceHouse, CustomerType::Shophouse, CustomerType::Office,
                                    CustomerType::Mall,         CustomerType::Hotel,     CustomerType::Industry};
    double kwp_per_m2 = 0.15;             ///< kWp per m2 of roof
    double dc_ac_ratio = 1.2;             ///< kWp / inverter kVA
    bool cap_atap = true;                 ///< cap inverter kVA by Solar ATAP limits (melaka.md)
    double tilt_deg = 10.0;
    double azimuth_deg = 180.0;
    PvControl control = PvControl::Unity;
    double pf = -0.95;                    ///< fixed_pf only; < 0 absorbs Q
    /// Issue 15, unbalanced networks: the phases of every unit of this kind ("a", "b", "c", "ab",
    /// "bc", "ca", "abc"; validated with parse_phases); "" = the customer's phases (DeviceSet units' `phases`).
    std::string phases;
    /// Issue 15, .dss networks: these customers (load names, lower case) get the device instead of
    /// a `share` of the eligible ones; empty = by share.
    std::vector<std::string> customers;
    bool operator==(const ScenarioPv&) const = default;
};

struct ScenarioBattery {
    double share = 0.0;                   ///< of PV customers
    double kwh_per_kwp = 1.0;             ///< kWh of storage per kWp of the customer's PV
    double kw_per_kwh = 0.5;              ///< charge/discharge kW per kWh
    BatteryStrategy strategy = BatteryStrategy::SelfConsumption;
    double peak_limit_fraction = 0.7;     ///< peak_shaving: limit = fraction * customer peak kW
    /// Issue 16: grid-forming inverters (hold islands by droop), their P-f droop (% of f_nom at the
    /// rated power) and the SoC kept for outages while grid-connected (BatteryParams)
    bool grid_forming = false;
    double droop_percent = 2.0;
    double outage_reserve_soc = 0.0;
    /// Issue 15, unbalanced networks: the phases of every unit of this kind ("a", "b", "c", "ab",
    /// "bc", "ca", "abc"; validated with parse_phases); "" = the customer's phases (DeviceSet units' `phases`).
    std::string phases;
    /// Issue 15, .dss networks: these customers (load names, lower case) get the device instead of
    /// a `share` of the eligible ones; empty = by share.
    std::vector<std::string> customers;
    bool operator==(const ScenarioBattery&) const = default;
};

struct ScenarioChargerGroup {
    ChargerKind kind = ChargerKind::PublicAC;
    double kw = 22.0;
    int n = 1;                            ///< chargers a site; -1 = the generator's bays of this kind
    double sessions_per_day = 2.0;        ///< per charger, weekly mean
    bool operator==(const ScenarioChargerGroup&) const = default;
};

struct ScenarioPublicSites {
    int sites = 0;                        ///< -1 = all the generator's sites; 0 = none
    std::vector<Id> buses;                ///< explicit site buses (file networks); replaces `sites`
    std::vector<ScenarioChargerGroup> chargers{ScenarioChargerGroup{ChargerKind::PublicAC, 22.0, 2, 2.0},
                                               ScenarioChargerGroup{ChargerKind::DCFast, 50.0, 1, 5.0}};
    EvStrategy strategy = EvStrategy::PowerLimitedLLF;
    double pv_kwp = 0.0;                  ///< canopy per site, kWp; < 0: the generator's canopy
    double battery_kwh = 0.0;             ///< per site, kWh; < 0: the generator's battery
    double battery_kw = 0.0;              ///< per site, kW; < 0: the generator's battery
    double connection_limit_kw = kInf;    ///< per site
    bool battery_discharge_in_peak = true;
    bool battery_grid_charge_offpeak = false;
    double battery_outage_reserve_soc = 0.0;  ///< issue 16: the site battery's SoC kept for outages
    /// Issue 15, unbalanced networks: the phases of every unit of this kind ("a", "b", "c", "ab",
    /// "bc", "ca", "abc"; validated with parse_phases); "" = the customer's phases (DeviceSet units' `phases`).
    std::string phases;
    /// Issue 15, .dss networks: the sites' buses by name (lower case), instead of `buses` (ids).
    std::vector<std::string> bus_names;
    bool operator==(const ScenarioPublicSites&) const = default;
};

struct ScenarioEv {
    double share = 0.0;                   ///< of eligible customers with an EV and a home charger
    std::vector<CustomerType> types{CustomerType::TerraceHouse};
    double charger_kw = 7.0;              ///< melaka.md: AC 3.7, 7, 22 kW
    double sessions_per_day = 0.8;        ///< per car, weekly mean (ASSUMPTION)
    EvStrategy strategy = EvStrategy::Uncontrolled;
    ScenarioPublicSites public_sites;
    double limit_kw = kInf;               ///< home chargers: a power limit below charger_kw (inf = none)
    double start_delay_max_h = 0.0;       ///< delayed_off_peak: random start delay, uniform in [0, this], h
    double grid_limit = 0.9;              ///< grid_aware: fraction of the transformer's rating kept (homes and sites)
    EvStrategy grid_order = EvStrategy::PowerLimitedEDF;  ///< grid_aware: edf or llf
    /// Issue 15, unbalanced networks: the phases of every unit of this kind ("a", "b", "c", "ab",
    /// "bc", "ca", "abc"; validated with parse_phases); "" = the customer's phases (DeviceSet units' `phases`).
    std::string phases;
    /// Issue 15, .dss networks: these customers (load names, lower case) get the device instead of
    /// a `share` of the eligible ones; empty = by share.
    std::vector<std::string> customers;
    bool operator==(const ScenarioEv&) const = default;
};

struct ScenarioDrEvent {
    LocalTime start = 0, end = 0;         ///< local Melaka time
    double setpoint_raise_k = 2.0;          ///< K (ASSUMPTION: a 2 K raise, the default)
    double ac_power_cap_fraction = -1.0;  ///< of the AC's rated electric power; < 0: no cap
    bool operator==(const ScenarioDrEvent&) const = default;
};

struct ScenarioBuildings {
    double share = 0.0;                   ///< of eligible customers run by a BEMS
    std::vector<CustomerType> types{CustomerType::Office, CustomerType::Mall, CustomerType::Hotel};
    BemsMode mode = BemsMode::PreCool;
    std::vector<ScenarioDrEvent> dr_events;
    SolarThermalUse solar_thermal = SolarThermalUse::None;
    double solar_thermal_roof_fraction = 0.1;  ///< collector area = fraction * roof area
    /// Issue 16: the share of a building's load on its critical-load panel (kept when it is shed)
    double critical_share = 0.0;
    /// Issue 15, unbalanced networks: the phases of every unit of this kind ("a", "b", "c", "ab",
    /// "bc", "ca", "abc"; validated with parse_phases); "" = the customer's phases (DeviceSet units' `phases`).
    std::string phases;
    /// Issue 15, .dss networks: these customers (load names, lower case) get the device instead of
    /// a `share` of the eligible ones; empty = by share.
    std::vector<std::string> customers;
    bool operator==(const ScenarioBuildings&) const = default;
};

struct ScenarioHomes {
    double share = 0.0;                   ///< of terrace houses run by a HEMS
    HemsRules rules;
    /// Issue 15, unbalanced networks: the phases of every unit of this kind ("a", "b", "c", "ab",
    /// "bc", "ca", "abc"; validated with parse_phases); "" = the customer's phases (DeviceSet units' `phases`).
    std::string phases;
    /// Issue 15, .dss networks: these customers (load names, lower case) get the device instead of
    /// a `share` of the eligible ones; empty = by share.
    std::vector<std::string> customers;
    bool operator==(const ScenarioHomes& o) const {
        return share == o.share && rules.precool == o.rules.precool && rules.ev_offpeak == o.rules.ev_offpeak &&
               rules.battery_from_pv == o.rules.battery_from_pv &&
               rules.battery_discharge_in_peak == o.rules.battery_discharge_in_peak &&
               rules.ev_v2h_in_peak == o.rules.ev_v2h_in_peak && phases == o.phases && customers == o.customers;
    }
};

struct ScenarioDevices {
    ScenarioPv pv;
    ScenarioBattery battery;
    ScenarioEv ev;
    ScenarioBuildings buildings;
    ScenarioHomes homes;
    bool operator==(const ScenarioDevices&) const = default;
};

struct ScenarioTariff {
    double tou_adoption = 0.0;            ///< of domestic customers on the domestic ToU tariff
    ExportScheme export_scheme = ExportScheme::None;
    double fuel_adjustment_sen_per_kwh = 0.0;
    double non_domestic_tou_adoption = 0.0;  ///< of non-domestic customers on the non-domestic LV ToU tariff
    PartialMonths partial_months = PartialMonths::Flag;  ///< bills of months the run covers in part
    bool operator==(const ScenarioTariff&) const = default;
};

struct ScenarioOutputs {
    std::int64_t meter_interval_s = 900;  ///< 900 or 1800
    int compression = 1;                  ///< gzip 0..9
    int compression_threads = 2;          ///< 0: compress inline (one core per run, for sweeps)
    bool float32 = true;                  ///< series as float32 (7 digits), as the engine's default
    bool bus_angles = false;
    std::size_t chunk_rows = 256;
    double max_file_gb = kInf;            ///< refuse a run whose results file would exceed this (GB = 1e9 bytes); inf = no cap
    std::size_t checkpoint_steps = 256;   ///< checkpoint for resume every this many steps (0 = none; multiple of 256)
    double min_free_mb = 16.0;            ///< stop (status "stopped") when the output's file system has less free
    bool operator==(const ScenarioOutputs&) const = default;
};

struct ScenarioSolver {
    Method method = Method::Auto;         ///< auto, nr, sweep
    LinearSolverKind linear_solver = LinearSolverKind::Default;
    double tolerance = 1e-8;
    int max_iterations = 30;
    int max_control_iterations = 8;
    bool operator==(const ScenarioSolver&) const = default;
};

/// Limits a run counts as violations (first violation, hosting capacity).
struct ScenarioLimits {
    double loading_percent = 100.0;       ///< line / transformer loading counted as an overload above this
    bool reverse_flow = false;            ///< power flowing LV -> HV through a transformer counts as a violation
    /// Added (issue 15, H3): the voltage unbalance factor limit, percent (IEC 61000-2-2: 2 %); the
    /// unbalance KPIs (docs/kpis.md) and the hosting limit kind "unbalance" compare VUF with it.
    double vuf_percent = 2.0;
    bool operator==(const ScenarioLimits&) const = default;
};

/// Issue 16 (H2): one timed event of `events:` (docs/resilience.md): at `at`, `action` on the
/// element named by id or name; with a duration (given as `duration:` or `until:`) undone at its end.
struct ScenarioEvent {
    LocalTime at = 0;                     ///< local Melaka time
    std::int64_t duration_s = 0;          ///< 0: the event lasts
    std::string action = "open";          ///< open, close, out_of_service, in_service
    std::string element = "switch";       ///< switch, line, trafo, ext_grid, load, feeder
    bool has_id = false;                  ///< `id` given (else `name`)
    Id id = 0;
    std::string name;
    bool operator==(const ScenarioEvent&) const = default;
};

/// Issue 16 (H2): seeded random outages (`outages:`), drawn once at build time into the events.
struct ScenarioOutages {
    bool enabled = false;                 ///< `outages:` given
    bool has_seed = false;                ///< outages.seed given (else the scenario seed)
    std::uint64_t seed = 0;
    std::string elements = "feeders";     ///< feeders (the generator's 11 kV feeders) or lines
    double failure_rate_per_km_year = -1.0;      ///< failures per km of circuit and year; < 0: not given
    double failure_rate_per_feeder_year = -1.0;  ///< feeders only: failures per feeder and year; < 0: not given
    double mean_repair_h = 4.0;           ///< mean time to repair, h
    std::string repair = "exponential";   ///< repair-time distribution: exponential or lognormal
    double repair_sigma = 0.5;            ///< lognormal: standard deviation of ln(repair time)
    bool operator==(const ScenarioOutages&) const = default;
};

/// Issue 18 (docs/economics.md "The business case"): the scenario's `economics:` key, the defaults of
/// business_case() for a results file of this scenario: `economics: {catalogue: FILE, project_years: N,
/// discount_rate: {customer, cpo, utility, city}, tariff_escalation: x, overrides: {dotted.path: value}}`.
/// Unset fields fall back to the catalogue's figures (finance.*); explicit EconomicsOptions win.
struct ScenarioEconomics {
    std::string catalogue;                    ///< resolved path ("" = not given)
    std::optional<int> project_years;         ///< 1..100
    std::optional<double> discount_customer, discount_cpo, discount_utility, discount_city;  ///< fractions
    std::optional<double> tariff_escalation;  ///< fraction a year
    std::vector<std::pair<std::string, double>> overrides;  ///< catalogue figure -> value, in order
    bool given() const {
        return !catalogue.empty() || project_years || discount_customer || discount_cpo || discount_utility || discount_city ||
               tariff_escalation || !overrides.empty();
    }
    bool operator==(const ScenarioEconomics&) const = default;
};

/// A parsed, validated scenario. `text` is the file as read; overrides are kept and re-applied.
struct Scenario {
    std::string path;        ///< file name ("<string>" for parse_scenario without one)
    std::string text;        ///< the original YAML text
    std::vector<std::pair<std::string, std::string>> overrides;  ///< (dotted key, YAML value), in order

    std::string name;
    std::string description;
    std::uint64_t seed = 1;
    ScenarioNetwork network;
    ScenarioHorizon horizon;
    ScenarioSite site;  ///< issue 19: the place (Melaka by default)
    ScenarioWeather weather;
    ScenarioProfiles profiles;
    ScenarioDevices devices;
    ScenarioTariff tariff;
    double emission_factor_t_per_mwh = 0.78;  ///< melaka.md
    /// Issue 18 (docs/economics.md "Emissions"): hourly emission factors from an emission catalogue
    /// (`emissions: {file, average, marginal}`): `average` names the profile of co2_t (the catalogue's
    /// series hourly.<average>_weekday / _weekend), `marginal` the one of co2_avoided_export_t; empty =
    /// not given (the constant emission_factor_t_per_mwh).
    struct Emissions {
        std::string file;       ///< resolved path ("" = none)
        std::string average;    ///< profile name, e.g. "average" or "average_scaled_to_0_78"
        std::string marginal;   ///< profile name, e.g. "marginal"
        bool operator==(const Emissions&) const = default;
    } emissions;
    ScenarioEconomics economics;          ///< issue 18: `economics:` (business_case's defaults)
    ScenarioOutputs outputs;
    ScenarioSolver solver;
    ScenarioLimits limits;
    int threads = 1;
    std::vector<ScenarioEvent> events;    ///< issue 16: `events:`
    ScenarioOutages outages;              ///< issue 16: `outages:`
    /// Issue 16: `resilience:` load priorities for shedding in islands, by customer type
    /// ("terrace_house", "hotel", ...; SimulationOptions::load_priority), and the default.
    std::map<std::string, LoadPriority> load_priority;
    LoadPriority default_priority = LoadPriority::Essential;
    bool island_secondary_control = true;  ///< `resilience.secondary_control`
    /// Issue 17: `comms: {plc: {packet_loss, latency_median_s, latency_sigma, retries, retry_s},
    /// deadline_s}` (docs/comms.md); enabled when the key is given.
    CommsOptions comms;
    /// Issue 17 (H2): `demand_response: {events: [{start, end, reduction, notice, targets}]}`
    /// (docs/comms.md "Demand response through the channel").
    std::vector<DemandResponseEvent> demand_response;

    /// The settings (not path, text or overrides) are equal.
    bool same_settings(const Scenario& o) const;
};

/// Reads and validates a scenario file. ParseError(file, line, "key '...': ...") on any problem.
Scenario load_scenario(const std::string& path);

/// Parses scenario text; relative file names (network.file, weather.file) resolve against the
/// directory of `filename` (the current directory for "<string>").
Scenario parse_scenario(const std::string& text, const std::string& filename = "<string>");

/// Issue 18: only the `economics:` key of a scenario's text (the `scenario` attribute of a results
/// file); relative paths resolve against `filename`'s folder. With `check_catalogue`, a given catalogue
/// must read and every override name one of its figures (ParseError file:line naming the key).
ScenarioEconomics parse_scenario_economics(const std::string& text, const std::string& filename, bool check_catalogue = true);

/// Sets one key (dotted path, "devices.ev.share"; a sequence element by its index,
/// "devices.ev.public_sites.chargers.0.n") to a YAML value and re-validates. Setting one of two
/// exclusive keys removes the other (horizon.steps / horizon.duration, network.file / network.generator,
/// weather.file / weather.model). An unknown key or a bad value throws ValidationError naming the key;
/// the scenario is then unchanged.
void override_key(Scenario& scenario, const std::string& dotted_key, const std::string& yaml_value);

/// The effective scenario (after overrides) as YAML, every setting explicit (defaults included).
/// parse_scenario(scenario_to_yaml(s)) has the same settings as s. Stored as the HDF5 `scenario` attribute.
std::string scenario_to_yaml(const Scenario& scenario);

/// What a scenario builds to. `options.weather_series` points into `weather` when the weather comes
/// from a file or has its own seed (shared, so copies of a BuiltScenario stay valid).
struct BuiltScenario {
    Network net;
    DeviceSet devices;
    SimulationOptions options;          ///< output_path empty: the caller sets it
    std::vector<Customer> customers;    ///< from the generator, or one per load of a file network
    std::string name;
    std::shared_ptr<const WeatherSeries> weather;
    /// Issue 15: a .dss network (network.file ends in .dss): the run is Simulation(unet, devices,
    /// options) and `net` is empty. Customer ids and bus ids are the engine's (ULoad::id / UBus::id,
    /// else index + 1).
    bool unbalanced = false;
    UNetwork unet;
    /// Issue 15 (H1): the unbalanced Melaka: each customer's phases (ScenarioGrid::customer_phases).
    std::vector<std::string> customer_phases;
};

/// Builds network, devices and options. Deterministic: a function of the effective scenario.
/// Throws ParseError / ValidationError naming the key when the scenario does not fit its network
/// (e.g. more public sites than the grid has, an unknown bus id).
/// = build_scenario(scenario, scenario_grid(scenario)).
BuiltScenario build_scenario(const Scenario& scenario);

/// Solar ATAP cap on a customer's inverter, kW AC (melaka.md): domestic 5 kW single-phase / 15 kW
/// three-phase; non-domestic 100 % of maximum demand (peak_kw), at most 1 MW.
double solar_atap_cap_kw(const Customer& customer);

/// The PV parameters the scenario gives a system of `kwp` DC and `inverter_kva` (control, tilt, azimuth).
PvParams scenario_pv_params(const ScenarioPv& pv, double kwp, double inverter_kva);

/// The network and customers a scenario's devices are placed on: the Melaka generator's, or one
/// customer per load of a file network (ids 0..n-1). Customer ids need not be 0..n-1 or in order
/// for build_scenario: the builders find a customer by its id, never use an id as a position.
struct ScenarioGrid {
    Network net;
    std::vector<Customer> customers;
    std::vector<Id> charging_sites;         ///< Customer::id of each public charging site (generator)
    std::vector<Id> charging_site_pv;       ///< SGen id of each site's canopy
    std::vector<Id> charging_site_battery;  ///< Storage id of each site's battery
    bool unbalanced = false;                ///< issue 15: a .dss network, in `unet` (`net` empty)
    UNetwork unet;
    /// Issue 15 (H1): the unbalanced Melaka (network.model: unbalanced): `unet` is melaka_unetwork of
    /// the generated grid (`net` empty), the customers on these phases ("a", "b", "c" or "abc", per
    /// position in `customers`), and each charging site's canopy kWp and battery kWh / kW (the
    /// generator's SGen and Storage, which the UNetwork does not carry).
    std::vector<std::string> customer_phases;
    std::vector<double> charging_site_pv_kwp, charging_site_battery_kwh, charging_site_battery_kw;
    /// Issue 16 (H2): the Melaka generator's 11 kV feeders: name ("P0F1": primary substation 0,
    /// feeder 1), the id of its circuit breaker (the bus-bus switch "CB P0F1" from the 11 kV busbar),
    /// and its 11 kV circuit length, km (the lines its breaker feeds, up to the open ties).
    std::vector<std::string> feeder_names;
    std::vector<Id> feeder_breakers;
    std::vector<double> feeder_km;
};

/// Issue 15: the engine's ids of an unbalanced network's elements (UBus::id / ULoad::id, else index + 1).
Id unbalanced_bus_id(const UNetwork& net, std::size_t bus_index);
Id unbalanced_load_id(const UNetwork& net, std::size_t load_index);

/// Issue 15: runs a built scenario: Simulation(net, ...) or, for a .dss network, Simulation(unet, ...).
/// Moves the network and devices out of `built`.
Simulation make_simulation(BuiltScenario& built);

/// The scenario's network and customers (the first builder, "grid").
ScenarioGrid scenario_grid(const Scenario& scenario);

/// Places the scenario's devices, tariffs and options on `grid`. The builders run one per kind, in
/// the fixed order of scenario_builder_kinds(); each draws only from its own seeded streams (keyed by
/// kind and customer id), so the result does not depend on the order of the builders.
BuiltScenario build_scenario(const Scenario& scenario, ScenarioGrid grid);

/// The builders' kinds, in the order they run: "load_profiles", "selections", "homes", "pv",
/// "battery", "ev_home", "buildings", "ev_public_sites", "tariffs", "options".
std::vector<std::string> scenario_builder_kinds();

// ---- before a run: never overwrite an input, refuse what cannot finish ---------------------------

/// Every file the scenario reads, as given (absolute for network.file and weather.file): the
/// scenario file itself (unless parsed from a string), `network.file`, `weather.file`; with the key
/// naming each ("scenario file", "network.file", "weather.file").
std::vector<std::pair<std::string, std::string>> scenario_input_files(const Scenario& scenario);

/// Throws ValidationError when `output` is one of the scenario's input files, before anything is
/// written: the same file (device and inode) when `output` exists, else the same canonical path.
/// "output '/x/net.m' is the scenario's network file (network.file): refusing to overwrite an input;
/// choose another output file". The command line and Python's Scenario.run call it.
void check_output_is_not_input(const Scenario& scenario, const std::string& output);

/// What a run of a built scenario will need, estimated from the series the engine records
/// (docs/scenarios.md, "Size and memory estimates").
struct RunEstimate {
    std::size_t steps = 0;
    std::size_t columns = 0;         ///< values recorded per step, every per-step series (/time included)
    std::size_t meter_rows = 0;      ///< meter readings (rows of /meter) and their values per row:
    std::size_t meter_columns = 0;
    std::size_t bytes_per_value = 4; ///< float series: 4 (outputs.float32) or 8; integer series are 8
    double output_bytes = 0;         ///< the data before compression: steps x columns x bytes, + meters, + EV sessions
    double output_min_bytes = 0;     ///< the smallest file that data can compress to (= output_bytes without compression)
    double memory_bytes = 0;         ///< peak memory of the run (weather, devices, EV sessions, writer buffers, ...)
    /// "35040 steps x 2113 values x 4 B + meters = 0.31 GB of data (at least 0.03 GB compressed); memory about 0.2 GB"
    std::string text() const;
};

/// Compressed results are assumed to take at least 1/kMaxCompressionRatio of their raw size (the
/// shipped scenarios' results compress 1.6-1.8x with gzip 1 + shuffle; docs/performance.md), so only
/// runs that certainly cannot fit are refused.
inline constexpr double kMaxCompressionRatio = 20.0;

RunEstimate estimate_run(const BuiltScenario& built);

/// Limits a run is checked against. Negative: the default.
struct RunLimits {
    double free_bytes = -1;    ///< free space for the output; default: statvfs of the output's directory
    double memory_bytes = -1;  ///< default: physical memory, or $LIBGRID_MEMORY_LIMIT_GB when set and lower
};

/// Physical memory (bytes), lowered to $LIBGRID_MEMORY_LIMIT_GB (a number of GB) when that is set.
double memory_limit_bytes();

/// Refuses, before anything is written, a run that cannot finish: a ValidationError with the estimate
/// when the smallest possible results file exceeds the free space of the output's file system or the
/// scenario's `outputs.max_file_gb`, or when the memory estimate exceeds the memory limit. Returns the
/// estimate. `output` may be empty (no results file: memory only).
RunEstimate check_run_resources(const Scenario& scenario, const BuiltScenario& built, const std::string& output,
                                const RunLimits& limits = {});

/// Short names used in scenario files.
std::string scenario_name(PvControl c);        ///< "unity", "fixed_pf", "volt_var", "volt_watt", "volt_var_volt_watt"
std::string scenario_name(BatteryStrategy s);  ///< "idle", "self_consumption", "peak_shaving", "tou_arbitrage", "pv_smoothing"
std::string scenario_name(BemsMode m);         ///< "fixed", "precool", "demand_response", "precool_demand_response"

}  // namespace libgrid
