// Issue 16: droop islands in time (docs/microgrid.md "Time series"): grid-forming batteries hold a
// feeder cut off from the grid, share its load by their droop gains, book their energy; loads are
// shed by priority when the batteries cannot carry them (deferrable first, then essential; critical
// last), an island that cannot be held collapses with its cause; the feeder reconnects when the
// outage ends; the energy balance closes in every islanded step.
#include <doctest/doctest.h>

#include "scratch_dir.hpp"
#include "test_feeders.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/devices/battery.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

constexpr std::size_t kSteps = 8;
constexpr double kDtH = 0.25;
constexpr std::size_t kOutFrom = 2, kOutTo = 6;  // the feeder is out in steps 2..5
/// The solver's tolerance (1e-10 p.u.) on the network's 100 MVA base: what the balance closes to.
constexpr double kBalanceMw = 1e-8;

/// 0.4 kV: ext grid at bus 0, line 0-1; the feeder behind the bus-bus breaker 9 (bus 1 -> bus 2):
/// lines 2-3, 3-4. Loads: 1 "hotel" and 2 "terrace_house" at bus 3, 3 "office" at bus 4.
Network feeder() {
    Network net;
    net.name = "island-test";
    for (Id b = 0; b < 5; ++b) {
        Bus bus;
        bus.id = b;
        bus.vn_kv = 0.4;
        bus.vmin_pu = 0.8;
        bus.vmax_pu = 1.2;
        net.buses.push_back(bus);
    }
    ExtGrid e;
    e.id = 0;
    e.bus = 0;
    net.ext_grids.push_back(e);
    for (const auto& [id, from, to] : {std::array<Id, 3>{0, 0, 1}, {1, 2, 3}, {2, 3, 4}}) net.lines.push_back(libgrid_test::feeder_line(id, from, to));
    net.switches.push_back(libgrid_test::feeder_breaker(9, 1, 2));
    auto load = [&](Id id, Id bus, const char* type) {
        Load l;
        l.id = id;
        l.bus = bus;
        l.type = type;
        l.p_mw = 0.005;
        net.loads.push_back(l);
    };
    load(1, 3, "hotel");
    load(2, 3, "terrace_house");
    load(3, 4, "office");
    return net;
}

/// The loads' given profiles, kW: 6 (hotel), 8 (house), 10 (office), a little more each step; pf 0.95.
double profile_kw(Id load, std::size_t k) { return (load == 1 ? 6.0 : load == 2 ? 8.0 : 10.0) + 0.1 * double(k); }

BatteryUnit battery(Id id, Id bus, double p_kw, double e_kwh) {
    BatteryUnit u;
    u.id = id;
    u.bus = bus;
    u.params.e_kwh = e_kwh;
    u.params.p_charge_kw = u.params.p_discharge_kw = p_kw;
    u.params.strategy = BatteryStrategy::Idle;
    u.params.grid_forming = true;
    return u;
}

/// Two grid-forming batteries, A at bus 3 and B (twice A's power: twice its droop gain) at bus 4.
DeviceSet devices(const SimulationOptions& o, double p_a_kw, double e_a_kwh = 100.0) {
    DeviceSet d;
    for (Id l = 1; l <= 3; ++l) {
        LoadProfileSpec s;
        s.load = l;
        s.power_factor = 0.95;
        for (std::size_t k = 0; k < kSteps; ++k) s.p_kw.push_back(profile_kw(l, k));
        d.load_profiles.push_back(s);
    }
    d.batteries.push_back(battery(11, 3, p_a_kw, e_a_kwh));
    d.batteries.push_back(battery(12, 4, 2 * p_a_kw, 2 * e_a_kwh));
    Event e{o.start + std::int64_t(kOutFrom) * 900, EventKind::OpenSwitch, "switch", 9};
    e.duration_s = std::int64_t(kOutTo - kOutFrom) * 900;
    d.events.push_back(e);
    return d;
}

SimulationOptions options(const std::string& out) {
    SimulationOptions o;
    o.start = from_civil(2025, 6, 11, 18, 0);
    o.n_steps = kSteps;
    o.method = Method::Auto;
    o.tolerance = 1e-10;
    o.output_path = out;
    o.h5.float32 = false;
    o.load_priority = {{"hotel", LoadPriority::Critical}, {"office", LoadPriority::Deferrable}};
    return o;
}

bool out_step(std::size_t k) { return k >= kOutFrom && k < kOutTo; }

double shed_kwh(Id load) {
    double e = 0;
    for (std::size_t k = kOutFrom; k < kOutTo; ++k) e += profile_kw(load, k) * kDtH;
    return e;
}

}  // namespace

TEST_CASE("islanded time series: two grid-forming batteries hold a feeder, share 1:2, frequency = load / total gain, reconnect") {
    const std::string out = libgrid_test::scratch_path("island_held.h5");
    SimulationOptions o = options(out);
    o.island_secondary_control = false;  // primary droop: the frequency shows the load
    const SimulationSummary s = Simulation(feeder(), devices(o, 30.0), o).run();
    CHECK(s.non_converged_steps == 0);
    CHECK(s.islanded_steps == kOutTo - kOutFrom);
    CHECK(s.energy_not_served_mwh == 0.0);
    CHECK(s.shed_steps == 0);
    CHECK(s.island_collapses == 0);
    CHECK(s.energy_balance_max_error_mw < kBalanceMw);
    CHECK(s.critical_load_served_hours == doctest::Approx(double(kOutTo - kOutFrom) * kDtH).epsilon(1e-12));
    CHECK(s.critical_customer_hours_interrupted == 0.0);

    ResultsReader r(out);
    const std::vector<double> pb = r.read_vector("/battery/p_mw"), soc = r.read_vector("/battery/soc");
    const std::vector<double> fmin = r.read_vector("/island/frequency_min_hz"), fmax = r.read_vector("/island/frequency_max_hz");
    const std::vector<double> ext = r.read_vector("/ext_grid/p_mw"), bal = r.read_vector("/solver/energy_balance_mw");
    const std::vector<double> vm = r.read_vector("/bus/vm_pu");
    REQUIRE(pb.size() == 2 * kSteps);
    const double kp_a = 0.030 / (0.02 * 50.0), kp_b = 2 * kp_a;  // MW/Hz: 2 % droop on the rating
    for (std::size_t k = 0; k < kSteps; ++k) {
        CAPTURE(k);
        CHECK(std::abs(bal[k]) < kBalanceMw);
        if (!out_step(k)) {  // grid-connected: idle batteries, nominal frequency, the grid supplies
            CHECK(pb[2 * k] == 0.0);
            CHECK(pb[2 * k + 1] == 0.0);
            CHECK(std::isnan(fmin[k]));
            CHECK(ext[k] > 0.02);
            continue;
        }
        // islanded: the grid supplies nothing, the batteries share 1:2 (equal P0 = 0)
        CHECK(std::abs(ext[k]) < kBalanceMw);
        CHECK(std::abs(pb[2 * k + 1] - 2 * pb[2 * k]) < 1e-12);
        const double load = (profile_kw(1, k) + profile_kw(2, k) + profile_kw(3, k)) / 1000.0;
        CHECK(pb[2 * k] + pb[2 * k + 1] > load);  // load + losses
        CHECK(pb[2 * k] + pb[2 * k + 1] < load * 1.05);
        // df = -(load + losses) / sum of kp: the batteries deliver exactly that
        CHECK(std::abs(fmin[k] - (50.0 - (pb[2 * k] + pb[2 * k + 1]) / (kp_a + kp_b))) < 1e-9);
        CHECK(fmin[k] == fmax[k]);
        for (std::size_t b = 2; b < 5; ++b) CHECK(vm[k * 5 + b] > 0.9);  // energised
    }
    // the batteries discharge in the island only, and their SoC falls by what they delivered
    CHECK(soc[2 * kOutTo] < soc[2 * kOutFrom]);
    CHECK(soc[2 * (kOutFrom - 1)] == doctest::Approx(0.5).epsilon(1e-3));
    CHECK(s.forming_soc_outage_start == doctest::Approx(0.5).epsilon(1e-3));
    CHECK(s.forming_soc_outage_end < s.forming_soc_outage_start);
    CHECK(s.island_frequency_min_hz < 50.0);
    CHECK(s.island_frequency_min_hz > 49.0);
    CHECK(r.read_scalar("/summary/islanded_steps") == double(kOutTo - kOutFrom));
}

TEST_CASE("islanded time series: short of power, the island sheds deferrable loads first, then essential, then collapses") {
    SUBCASE("deferrable shed: 16.5 kW carry the hotel and the house, not the office") {
        // A: 5.5 kW, B: 11 kW; 16.5 kW carry hotel (6.x) + house (8.x) + losses, not the office (10.x) too
        const std::string out = libgrid_test::scratch_path("island_shed1.h5");
        const SimulationOptions o = options(out);
        const SimulationSummary s = Simulation(feeder(), devices(o, 5.5), o).run();
        CHECK(s.non_converged_steps == 0);
        CHECK(s.islanded_steps == kOutTo - kOutFrom);
        CHECK(s.shed_steps == kOutTo - kOutFrom);
        CHECK(s.energy_shed_deferrable_mwh == doctest::Approx(shed_kwh(3) / 1000.0).epsilon(1e-12));
        CHECK(s.energy_shed_essential_mwh == 0.0);
        CHECK(s.energy_not_served_mwh == doctest::Approx(shed_kwh(3) / 1000.0).epsilon(1e-12));
        CHECK(s.critical_customer_hours_interrupted == 0.0);
        CHECK(s.island_collapses == 0);
        CHECK(s.energy_balance_max_error_mw < kBalanceMw);
        ResultsReader r(out);
        const std::vector<double> lvl = r.read_vector("/island/shed_level"), ns = r.read_vector("/load/not_served_kw");
        for (std::size_t k = 0; k < kSteps; ++k) {
            CHECK(lvl[k] == (out_step(k) ? 1.0 : 0.0));
            CHECK(ns[3 * k + 2] == (out_step(k) ? profile_kw(3, k) : 0.0));
            CHECK(ns[3 * k] == 0.0);
        }
    }
    SUBCASE("essential shed too: 9 kW carry the hotel alone") {
        const std::string out = libgrid_test::scratch_path("island_shed2.h5");
        const SimulationOptions o = options(out);
        const SimulationSummary s = Simulation(feeder(), devices(o, 3.0), o).run();
        CHECK(s.non_converged_steps == 0);
        CHECK(s.energy_shed_deferrable_mwh == doctest::Approx(shed_kwh(3) / 1000.0).epsilon(1e-12));
        CHECK(s.energy_shed_essential_mwh == doctest::Approx(shed_kwh(2) / 1000.0).epsilon(1e-12));
        CHECK(s.critical_customer_hours_interrupted == 0.0);
        CHECK(s.critical_load_served_hours == doctest::Approx(double(kOutTo - kOutFrom) * kDtH).epsilon(1e-12));
        CHECK(s.island_collapses == 0);
        CHECK(s.energy_balance_max_error_mw < kBalanceMw);
    }
    SUBCASE("collapse: 4.5 kW cannot carry the hotel; the island is de-energised with its cause, the grid restores it") {
        const std::string out = libgrid_test::scratch_path("island_collapse.h5");
        const SimulationOptions o = options(out);
        const SimulationSummary s = Simulation(feeder(), devices(o, 1.5), o).run();
        CHECK(s.island_collapses == 1);
        CHECK(s.time_to_collapse_h == 0.0);
        CHECK(s.islanded_steps == 0);  // it collapsed in the first outage step: no step was held islanded
        CHECK(s.critical_customer_hours_interrupted == doctest::Approx(double(kOutTo - kOutFrom) * kDtH).epsilon(1e-12));
        CHECK(s.critical_load_served_hours == 0.0);
        CHECK(s.non_converged_steps == 0);
        CHECK(s.energy_balance_max_error_mw < kBalanceMw);
        double all = 0;
        for (Id l = 1; l <= 3; ++l) all += shed_kwh(l) / 1000.0;
        CHECK(s.energy_not_served_mwh == doctest::Approx(all).epsilon(1e-12));
        ResultsReader r(out);
        const std::vector<std::string> cause = r.read_strings("/island_collapse/cause");
        REQUIRE(cause.size() == 1);
        CHECK(cause[0].find("load exceeds") != std::string::npos);
        CHECK(r.read_vector("/island_collapse/bus")[0] == 2.0);
        const std::vector<double> vm = r.read_vector("/bus/vm_pu");
        for (std::size_t k = 0; k < kSteps; ++k) CHECK(std::isnan(vm[k * 5 + 4]) == out_step(k));  // dead, then restored
    }
}

TEST_CASE("islanded time series: the same inputs give the same results bit for bit at any thread count") {
    const std::string a = libgrid_test::scratch_path("island_t1.h5"), b = libgrid_test::scratch_path("island_t2.h5");
    SimulationOptions o1 = options(a), o2 = options(b);
    o1.threads = 1;
    o2.threads = 2;
    const SimulationSummary s1 = Simulation(feeder(), devices(o1, 5.5), o1).run();
    const SimulationSummary s2 = Simulation(feeder(), devices(o2, 5.5), o2).run();
    CHECK(s1.energy_not_served_mwh == s2.energy_not_served_mwh);
    CHECK(s1.forming_soc_outage_end == s2.forming_soc_outage_end);
    ResultsReader r1(a), r2(b);
    CHECK(r1.read_vector("/battery/p_mw") == r2.read_vector("/battery/p_mw"));
    CHECK(r1.read_vector("/bus/vm_pu") == r2.read_vector("/bus/vm_pu"));
}

TEST_CASE("battery: the outage reserve is kept grid-connected and usable in an island; a grid-forming battery is validated") {
    BatteryParams p;
    p.e_kwh = 10;
    p.p_charge_kw = p.p_discharge_kw = 100;  // power is not the limit
    p.self_discharge_per_day = 0;
    p.cycle_life_efc = std::numeric_limits<double>::infinity();  // no fade: SoC in plain kWh
    p.soc_init = 0.5;
    p.outage_reserve_soc = 0.4;
    BatteryState st = make_battery_state(p);
    // grid-connected: 1 h at 100 kW asked, 0.1 x 10 kWh above the reserve delivered (x eta)
    const double p1 = battery_apply(p, st, 100.0, 1.0);
    CHECK(p1 == doctest::Approx(1.0 * 0.95).epsilon(1e-12));
    CHECK(st.soc == doctest::Approx(0.4).epsilon(1e-12));
    // in an island: down to soc_min (0.1)
    double pmin = 0, pmax = 0;
    battery_island_limits(p, st, 1.0, pmin, pmax);
    CHECK(pmax == doctest::Approx(3.0 * 0.95).epsilon(1e-12));
    CHECK(pmin == doctest::Approx(-5.0 / 0.95).epsilon(1e-12));
    CHECK(battery_apply_islanded(p, st, pmax, 1.0) == doctest::Approx(pmax).epsilon(1e-12));
    CHECK(st.soc == doctest::Approx(0.1).epsilon(1e-12));
    p.droop_percent = 0;
    CHECK_THROWS_WITH_AS(validate(p, "battery 3"), doctest::Contains("droop_percent"), ValidationError);
    p.droop_percent = 2;
    p.outage_reserve_soc = 1.0;
    CHECK_THROWS_WITH_AS(validate(p, "battery 3"), doctest::Contains("outage_reserve_soc"), ValidationError);
}

TEST_CASE("islanded time series: batteries short of energy spread it over the announced outage and end it at soc_min") {
    // 20 + 40 kWh at SoC 0.5 (soc_min 0.1): 24 kWh x 0.95 for one hour: they carry ~23 kW, not the
    // 24.x kW of the three loads: the office is shed, the rest is held through all four steps
    const std::string out = libgrid_test::scratch_path("island_ration.h5");
    const SimulationOptions o = options(out);
    const SimulationSummary s = Simulation(feeder(), devices(o, 30.0, 20.0), o).run();
    CHECK(s.non_converged_steps == 0);
    CHECK(s.islanded_steps == kOutTo - kOutFrom);
    CHECK(s.island_collapses == 0);
    CHECK(s.energy_shed_deferrable_mwh > 0.0);
    CHECK(s.energy_shed_essential_mwh == 0.0);
    CHECK(s.critical_customer_hours_interrupted == 0.0);
    CHECK(s.energy_balance_max_error_mw < kBalanceMw);
    CHECK(s.forming_soc_outage_start == doctest::Approx(0.5).epsilon(1e-3));
    CHECK(s.forming_soc_outage_end > 0.1);   // the energy lasted: never below soc_min
    CHECK(s.forming_soc_outage_end < 0.25);  // and most of it was used
    ResultsReader r(out);
    const std::vector<double> pb = r.read_vector("/battery/p_mw");
    for (std::size_t k = kOutFrom; k < kOutTo; ++k) CHECK(pb[2 * k] + pb[2 * k + 1] > 0.010);  // served every step
}

TEST_CASE("charging-site battery: the outage reserve is kept grid-connected and usable in an outage") {
    SimpleBattery b;
    b.capacity_kwh = 10;
    b.p_charge_max_kw = b.p_discharge_max_kw = 100;
    b.eta_discharge = 1.0;
    b.soc = 0.6;
    b.outage_reserve_soc = 0.5;
    CHECK(b.max_discharge_kw(1.0) == doctest::Approx(1.0).epsilon(1e-12));  // 0.6 -> 0.5 of 10 kWh
    CHECK(b.apply(100.0, 1.0) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(b.soc == doctest::Approx(0.5).epsilon(1e-12));
    b.outage = true;  // the site controller in an island that sheds EV charging
    CHECK(b.max_discharge_kw(1.0) == doctest::Approx(4.0).epsilon(1e-12));  // down to soc_min 0.1
    CHECK(b.apply(100.0, 1.0) == doctest::Approx(4.0).epsilon(1e-12));
    CHECK(b.soc == doctest::Approx(0.1).epsilon(1e-12));
    b.outage_reserve_soc = 1.5;
    CHECK_THROWS_WITH_AS(b.validate("charging site", 3), doctest::Contains("outage_reserve_soc"), ValidationError);
}

TEST_CASE("scenario: the islanding keys are read, written back and refused with their key") {
    const std::string base = "name: t\nnetwork: {generator: melaka, size: small, model: balanced}\nhorizon: {start: '2025-06-11', steps: 4}\n";
    const Scenario s = parse_scenario(base +
                                      "devices:\n  battery: {share: 0.3, grid_forming: true, droop_percent: 3, outage_reserve_soc: 0.25}\n"
                                      "  buildings: {share: 1.0, critical_share: 0.2}\n"
                                      "resilience: {default_priority: deferrable, priority: {hotel: critical, terrace_house: essential}}\n");
    CHECK(s.devices.battery.grid_forming);
    CHECK(s.devices.battery.droop_percent == 3.0);
    CHECK(s.devices.battery.outage_reserve_soc == 0.25);
    CHECK(s.devices.buildings.critical_share == 0.2);
    CHECK(s.default_priority == LoadPriority::Deferrable);
    CHECK(s.load_priority.at("hotel") == LoadPriority::Critical);
    CHECK(s.load_priority.at("terrace_house") == LoadPriority::Essential);
    const Scenario back = parse_scenario(scenario_to_yaml(s));
    CHECK(back.same_settings(s));
    CHECK_THROWS_WITH_AS(parse_scenario(base + "resilience: {priority: {hotel: vital}}\n"), doctest::Contains("resilience.priority.hotel"), ParseError);
    CHECK_THROWS_WITH_AS(parse_scenario(base + "devices:\n  battery: {outage_reserve_soc: 1.0}\n"), doctest::Contains("devices.battery.outage_reserve_soc"),
                         ParseError);
    CHECK_THROWS_WITH_AS(parse_scenario(base + "resilience: {priorities: {}}\n"), doctest::Contains("resilience.priorities"), ParseError);
}

TEST_CASE("islanded time series: a PV surplus the full batteries cannot absorb is curtailed by frequency-watt, not a collapse") {
    const std::string out = libgrid_test::scratch_path("island_fw.h5");
    SimulationOptions o = options(out);
    o.start = from_civil(2025, 6, 11, 11, 30);  // the outage 12:00-13:00, the sun high
    DeviceSet d = devices(o, 30.0);
    for (BatteryUnit& b : d.batteries) b.params.soc_init = b.params.soc_max;  // full: nothing to absorb
    PvUnit pv;
    pv.id = 21;
    pv.bus = 4;
    pv.params = PvParams::ieee1547_cat_b(150.0, 150.0);  // far more than the 24 kW of load
    d.pv.push_back(pv);
    const SimulationSummary s = Simulation(feeder(), d, o).run();
    CHECK(s.non_converged_steps == 0);
    CHECK(s.islanded_steps == kOutTo - kOutFrom);
    CHECK(s.island_collapses == 0);
    CHECK(s.energy_not_served_mwh == 0.0);
    CHECK(s.energy_balance_max_error_mw < kBalanceMw);
    CHECK(s.island_frequency_max_hz > 50.036);  // above the deadband: frequency-watt acts
    ResultsReader r(out);
    const std::vector<double> curt = r.read_vector("/pv/curtailed_mw"), p = r.read_vector("/pv/p_mw"), avail = r.read_vector("/pv/available_mw");
    const std::vector<double> pb = r.read_vector("/battery/p_mw");
    for (std::size_t k = 0; k < kSteps; ++k) {
        CAPTURE(k);
        if (!out_step(k)) continue;
        CHECK(curt[k] > 0.01);          // curtailed: more than 10 kW of surplus
        CHECK(p[k] < avail[k]);
        const double load = (profile_kw(1, k) + profile_kw(2, k) + profile_kw(3, k)) / 1000.0;
        CHECK(p[k] + pb[2 * k] + pb[2 * k + 1] > load);  // PV (+ batteries, <= 0) = load + losses
        CHECK(pb[2 * k] <= 1e-12);      // full batteries do not discharge into a surplus
    }
}

TEST_CASE("islanded time series: secondary control brings the frequency back to nominal, the sharing stays 1:2") {
    const std::string a = libgrid_test::scratch_path("island_secondary.h5"), b = libgrid_test::scratch_path("island_primary.h5");
    SimulationOptions o = options(a), p = options(b);
    p.island_secondary_control = false;
    const SimulationSummary s = Simulation(feeder(), devices(o, 30.0), o).run();
    const SimulationSummary s0 = Simulation(feeder(), devices(p, 30.0), p).run();
    CHECK(s.islanded_steps == kOutTo - kOutFrom);
    CHECK(std::abs(s.island_frequency_min_hz - 50.0) < 1e-9);
    CHECK(std::abs(s.island_frequency_max_hz - 50.0) < 1e-9);
    CHECK(s0.island_frequency_min_hz < 49.9);
    CHECK(s.energy_balance_max_error_mw < kBalanceMw);
    ResultsReader r(a), r0(b);
    const std::vector<double> pb = r.read_vector("/battery/p_mw"), pb0 = r0.read_vector("/battery/p_mw");
    for (std::size_t k = kOutFrom; k < kOutTo; ++k) {
        CHECK(std::abs(pb[2 * k + 1] - 2 * pb[2 * k]) < 1e-9);                       // still 1:2
        CHECK(std::abs(pb[2 * k] + pb[2 * k + 1] - pb0[2 * k] - pb0[2 * k + 1]) < 1e-6);  // the same power
    }
}
