// Issue 16 (H2): outages in time series and the resilience KPIs (docs/resilience.md):
//  - a feeder switched out for N steps: energy not served = what its loads' given profiles would have
//    drawn in those steps (hand-summed, 1e-9), per class; SAIDI / SAIFI of a hand-counted case;
//  - the energy balance closes in every step; the event with a duration restores (voltages back);
//  - the same on the unbalanced model of the same network; an outage of the supply (ext grid);
//  - a run stopped and resumed across an outage equals the whole run;
//  - scenario `events:` / `outages:`: errors naming the key, round trip, seeded random outages.
#include <doctest/doctest.h>

#include "scratch_dir.hpp"
#include "test_feeders.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/model/to_unetwork.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include <atomic>
#include <cmath>
#include <csignal>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

constexpr std::size_t kSteps = 8;
constexpr double kDtH = 0.25;

/// 0.4 kV: ext grid at bus 0; line 0-1, line 1-2, line 2-3; a feeder behind the bus-bus switch 7
/// (bus 1 -> bus 4), line 4-5. Loads: 1 at bus 2, 2 at bus 3 (residential), 3 at bus 5
/// (commercial), 4 at bus 5 (industrial).
Network small_feeder() {
    Network net;
    net.name = "outage-test";
    for (Id b = 0; b < 6; ++b) {
        Bus bus;
        bus.id = b;
        bus.name = "B";
        bus.name += std::to_string(b);  // (not "B" + ...: GCC 12 -Wrestrict false positive)
        bus.vn_kv = 0.4;
        bus.vmin_pu = 0.8;
        bus.vmax_pu = 1.1;
        net.buses.push_back(bus);
    }
    ExtGrid e;
    e.id = 0;
    e.bus = 0;
    net.ext_grids.push_back(e);
    auto line = [&](Id id, Id a, Id b) {
        Line l = libgrid_test::feeder_line(id, a, b);
        l.name = "L";
        l.name += std::to_string(id);
        net.lines.push_back(l);
    };
    line(0, 0, 1);
    line(1, 1, 2);
    line(2, 2, 3);
    line(3, 4, 5);
    net.switches.push_back(libgrid_test::feeder_breaker(7, 1, 4));
    auto load = [&](Id id, Id bus) {
        Load l;
        l.id = id;
        l.name = "C";
        l.name += std::to_string(id);
        l.bus = bus;
        l.p_mw = 0.005;
        l.q_mvar = 0.001;
        net.loads.push_back(l);
    };
    load(1, 2);
    load(2, 3);
    load(3, 5);
    load(4, 5);
    return net;
}

/// Given profiles (kW), different in every step and load.
double profile_kw(Id load, std::size_t k) { return 1.0 + double(load) * 0.7 + 0.13 * double(k) + 0.01 * double(load * k); }

DeviceSet profiles() {
    DeviceSet d;
    const CustomerClass cls[] = {CustomerClass::Residential, CustomerClass::Residential, CustomerClass::Commercial, CustomerClass::Industrial};
    for (Id l = 1; l <= 4; ++l) {
        LoadProfileSpec s;
        s.load = l;
        s.cls = cls[l - 1];
        for (std::size_t k = 0; k < kSteps; ++k) s.p_kw.push_back(profile_kw(l, k));
        d.load_profiles.push_back(s);
    }
    return d;
}

SimulationOptions options(const std::string& out) {
    SimulationOptions o;
    o.start = from_civil(2025, 6, 11, 17, 30);
    o.n_steps = kSteps;
    o.method = Method::NewtonRaphson;
    o.tolerance = 1e-10;
    o.output_path = out;
    o.h5.float32 = false;
    return o;
}

Event ev(LocalTime t, EventKind k, const char* element, Id id, std::int64_t duration_s) {
    Event e{t, k, element, id};
    e.duration_s = duration_s;
    return e;
}

/// The hand-counted case: the feeder (loads 3, 4) out in steps 2..4 and again in step 6; load 1
/// switched off in step 6.
DeviceSet hand_case(const SimulationOptions& o) {
    DeviceSet d = profiles();
    d.events.push_back(ev(o.start + 2 * 900, EventKind::OpenSwitch, "switch", 7, 3 * 900));
    d.events.push_back(ev(o.start + 6 * 900, EventKind::OpenSwitch, "switch", 7, 900));
    d.events.push_back(ev(o.start + 6 * 900, EventKind::OutOfService, "load", 1, 900));
    return d;
}

void check_hand_case(const SimulationSummary& s, double balance_mw = 1e-9) {
    double ens = 0, com = 0, ind = 0, res = 0;
    for (std::size_t k : {2, 3, 4, 6}) {
        com += profile_kw(3, k) * kDtH / 1000.0;
        ind += profile_kw(4, k) * kDtH / 1000.0;
    }
    res = profile_kw(1, 6) * kDtH / 1000.0;
    ens = com + ind + res;
    CHECK(s.resilience);
    CHECK(s.energy_not_served_mwh == doctest::Approx(ens).epsilon(1e-12));
    CHECK(std::abs(s.energy_not_served_mwh - ens) < 1e-9);
    CHECK(std::abs(s.energy_not_served_commercial_mwh - com) < 1e-9);
    CHECK(std::abs(s.energy_not_served_industrial_mwh - ind) < 1e-9);
    CHECK(std::abs(s.energy_not_served_residential_mwh - res) < 1e-9);
    // 2 customers x 3 steps + 2 x 1 + 1 x 1, a quarter hour each
    CHECK(s.customer_hours_interrupted == doctest::Approx(9 * kDtH).epsilon(1e-15));
    CHECK(s.customers == 4);
    CHECK(s.customers_interrupted == 3);
    CHECK(s.interruptions == 5);  // loads 3 and 4 twice, load 1 once
    CHECK(s.saidi_h == doctest::Approx(9 * kDtH / 4).epsilon(1e-15));
    CHECK(s.saifi == doctest::Approx(5.0 / 4.0).epsilon(1e-15));
    CHECK(s.interrupted_steps == 4);
    CHECK(s.islanded_steps == 0);
    CHECK(s.non_converged_steps == 0);
    CHECK(s.energy_balance_max_error_mw < balance_mw);
}

}  // namespace

TEST_CASE("outages: a feeder out for three steps, hand-summed energy not served, SAIDI and SAIFI (balanced)") {
    const std::string out = libgrid_test::scratch_path("outage_balanced.h5");
    const SimulationOptions o = options(out);
    const SimulationSummary s = Simulation(small_feeder(), hand_case(o), o).run();
    check_hand_case(s);

    ResultsReader r(out);
    // /load/not_served_kw: the profile value in the interrupted steps, 0 otherwise
    const std::vector<double> ns = r.read_vector("/load/not_served_kw");
    REQUIRE(ns.size() == kSteps * 4);
    double e = 0;
    for (std::size_t k = 0; k < kSteps; ++k)
        for (std::size_t l = 0; l < 4; ++l) {
            const bool out_now = ((k >= 2 && k <= 4) || k == 6) && l >= 2;
            const bool l1_out = k == 6 && l == 0;
            CHECK(ns[k * 4 + l] == ((out_now || l1_out) ? profile_kw(Id(l + 1), k) : 0.0));
            e += ns[k * 4 + l] * kDtH / 1000.0;
        }
    CHECK(std::abs(e - s.energy_not_served_mwh) < 1e-12);
    CHECK(r.read_scalar("/summary/energy_not_served_mwh") == s.energy_not_served_mwh);
    CHECK(r.read_scalar("/summary/saifi") == s.saifi);
    // the feeder's buses are dead while it is open and energised again after (voltages back)
    const std::vector<double> vm = r.read_vector("/bus/vm_pu");
    for (std::size_t k = 0; k < kSteps; ++k) {
        const bool dead = (k >= 2 && k <= 4) || k == 6;
        CHECK(std::isnan(vm[k * 6 + 5]) == dead);
        if (!dead) CHECK(vm[k * 6 + 5] > 0.9);
    }
    // /events: the events applied, in order, with their causes
    const std::vector<std::string> el = r.read_strings("/events/element"), act = r.read_strings("/events/action"),
                                   cause = r.read_strings("/events/cause");
    const std::vector<double> t = r.read_vector("/events/time"), id = r.read_vector("/events/id");
    REQUIRE(el.size() == 6);
    CHECK(act == std::vector<std::string>{"open", "close", "open", "out_of_service", "close", "in_service"});
    CHECK(cause == std::vector<std::string>{"scheduled", "restoration", "scheduled", "scheduled", "restoration", "restoration"});
    CHECK(el[3] == "load");
    CHECK(id[3] == 1.0);
    CHECK(t[1] == double(o.start + 5 * 900));
}

TEST_CASE("outages: the voltages after a restoration equal the run without the outage") {
    const std::string a = libgrid_test::scratch_path("outage_restored.h5"), b = libgrid_test::scratch_path("outage_none.h5");
    const SimulationOptions oa = options(a), ob = options(b);
    DeviceSet d = profiles();
    d.events.push_back(ev(oa.start + 2 * 900, EventKind::OpenSwitch, "switch", 7, 2 * 900));
    Simulation(small_feeder(), d, oa).run();
    const SimulationSummary none = Simulation(small_feeder(), profiles(), ob).run();
    CHECK_FALSE(none.resilience);
    CHECK(none.energy_not_served_mwh == 0.0);
    ResultsReader ra(a), rb(b);
    CHECK_FALSE(rb.exists("/events"));  // a run without events: no table, no column, no resilience KPIs
    CHECK_FALSE(rb.exists("/load/not_served_kw"));
    CHECK_FALSE(rb.exists("/summary/energy_not_served_mwh"));
    const std::vector<double> va = ra.read_vector("/bus/vm_pu"), vb = rb.read_vector("/bus/vm_pu");
    for (std::size_t k = 4; k < kSteps; ++k)
        for (std::size_t i = 0; i < 6; ++i) CHECK(va[k * 6 + i] == doctest::Approx(vb[k * 6 + i]).epsilon(1e-9));
}

TEST_CASE("outages: the unbalanced model of the same network counts the same interruptions") {
    const std::string out = libgrid_test::scratch_path("outage_unbalanced.h5");
    const SimulationOptions o = options(out);
    UNetwork u = to_unetwork(small_feeder(), ToUnbalancedOptions{});
    SimulationOptions uo = o;
    uo.method = Method::Auto;
    const SimulationSummary s = Simulation(std::move(u), hand_case(o), uo).run();
    check_hand_case(s, 1e-7);  // the unbalanced solve's tolerance: 1e-9 p.u. of voltage
    CHECK(s.unbalanced);
}

TEST_CASE("outages: an island a generator holds is energised: counted in islanded_steps, its customers served") {
    const SimulationOptions o = options("");
    Network net = small_feeder();
    Gen g;
    g.id = 1;
    g.bus = 5;
    g.p_mw = 0.012;  // about the feeder's load: the island's slack takes the rest
    g.vm_pu = 1.0;
    net.gens.push_back(g);
    DeviceSet d = profiles();
    d.events.push_back(ev(o.start + 2 * 900, EventKind::OpenSwitch, "switch", 7, 3 * 900));
    const SimulationSummary s = Simulation(net, d, o).run();
    CHECK(s.islanded_steps == 3);
    CHECK(s.energy_not_served_mwh == 0.0);
    CHECK(s.customers_interrupted == 0);
    CHECK(s.non_converged_steps == 0);
    CHECK(s.energy_balance_max_error_mw < 1e-9);
}

TEST_CASE("outages: an outage of the supply (ext grid) interrupts every customer") {
    const SimulationOptions o = options("");
    DeviceSet d = profiles();
    d.events.push_back(ev(o.start + 3 * 900, EventKind::OutOfService, "ext_grid", 0, 2 * 900));
    double ens = 0;
    for (std::size_t k : {3, 4})
        for (Id l = 1; l <= 4; ++l) ens += profile_kw(l, k) * kDtH / 1000.0;
    {
        const SimulationSummary s = Simulation(small_feeder(), d, o).run();
        CHECK(std::abs(s.energy_not_served_mwh - ens) < 1e-9);
        CHECK(s.customers_interrupted == 4);
        CHECK(s.interruptions == 4);
        CHECK(s.saidi_h == doctest::Approx(2 * kDtH).epsilon(1e-15));
        CHECK(s.saifi == doctest::Approx(1.0).epsilon(1e-15));
        CHECK(s.energy_balance_max_error_mw < 1e-9);
        CHECK(s.non_converged_steps == 0);
        CHECK(s.import_mwh > 0);
    }
    // the unbalanced stepper cannot yet run with every island dead: refused before the run, naming the event
    SimulationOptions uo = o;
    uo.method = Method::Auto;
    CHECK_THROWS_WITH_AS(Simulation(to_unetwork(small_feeder(), ToUnbalancedOptions{}), d, uo), doctest::Contains("takes the last ext grid out"),
                         ValidationError);
    SUBCASE("an ext grid opens and closes no switch") {
        DeviceSet bad = profiles();
        bad.events.push_back(ev(o.start, EventKind::OpenSwitch, "ext_grid", 0, 0));
        CHECK_THROWS_WITH_AS(Simulation(small_feeder(), bad, o), doctest::Contains("an ext grid goes out of service"), ValidationError);
    }
    SUBCASE("an unknown ext grid") {
        DeviceSet bad = profiles();
        bad.events.push_back(ev(o.start, EventKind::OutOfService, "ext_grid", 5, 0));
        CHECK_THROWS_WITH_AS(Simulation(small_feeder(), bad, o), doctest::Contains("unknown ext_grid id 5"), IdError);
    }
    SUBCASE("a negative duration") {
        DeviceSet bad = profiles();
        bad.events.push_back(ev(o.start, EventKind::OutOfService, "load", 1, -900));
        CHECK_THROWS_WITH_AS(Simulation(small_feeder(), bad, o), doctest::Contains("duration_s"), ValidationError);
    }
}

TEST_CASE("outages: a run stopped and resumed across an outage equals the whole run, balanced and unbalanced") {
    const std::size_t n = 700;
    for (bool unbalanced : {false, true}) {
        CAPTURE(unbalanced);
        SimulationOptions o = options("");
        o.n_steps = n;
        o.checkpoint_steps = 256;
        if (unbalanced) o.method = Method::Auto;
        DeviceSet d = profiles();
        for (LoadProfileSpec& p : d.load_profiles) {
            p.p_kw.clear();
            for (std::size_t k = 0; k < n; ++k) p.p_kw.push_back(profile_kw(p.load, k % 96));
        }
        // out from step 200 to 300 (across the first checkpoint at 256), and from 600 for 10 steps
        d.events.push_back(ev(o.start + 200 * 900, EventKind::OpenSwitch, "switch", 7, 100 * 900));
        d.events.push_back(ev(o.start + 600 * 900, EventKind::OutOfService, "load", 2, 10 * 900));
        auto sim = [&](const SimulationOptions& so) {
            return unbalanced ? Simulation(to_unetwork(small_feeder(), ToUnbalancedOptions{}), d, so) : Simulation(small_feeder(), d, so);
        };
        const std::string tag = unbalanced ? "u" : "b";
        const std::string whole = libgrid_test::scratch_path("outage_whole_" + tag + ".h5"),
                          parts = libgrid_test::scratch_path("outage_parts_" + tag + ".h5");
        SimulationOptions ow = o;
        ow.output_path = whole;
        const SimulationSummary sw = sim(ow).run();
        std::atomic<int> stop{0};
        SimulationOptions op = o;
        op.output_path = parts;
        op.stop_requested = &stop;
        SimulationSummary sp = sim(op).run([&](std::size_t done, std::size_t) {
            if (done == 280) stop.store(SIGINT);
        });
        CHECK_FALSE(sp.completed);
        stop.store(0);
        op.resume = true;
        sp = sim(op).run();
        CHECK(sp.completed);
        CHECK(sp.resumed_from_step == 256);
        CHECK(sp.energy_not_served_mwh == sw.energy_not_served_mwh);
        CHECK(sp.customer_hours_interrupted == sw.customer_hours_interrupted);
        CHECK(sp.interruptions == sw.interruptions);
        CHECK(sp.customers_interrupted == sw.customers_interrupted);
        CHECK(sp.saidi_h == sw.saidi_h);
        CHECK(sp.saifi == sw.saifi);
        CHECK(sw.interruptions == 3);
        CHECK(sw.customer_hours_interrupted == doctest::Approx((2 * 100 + 10) * kDtH));
        ResultsReader a(whole), b(parts);
        CHECK(a.read_vector("/load/not_served_kw") == b.read_vector("/load/not_served_kw"));
        const std::string vpath = unbalanced ? "/node/v_volts" : "/bus/vm_pu";
        const std::vector<double> va = a.read_vector(vpath), vb = b.read_vector(vpath);
        REQUIRE(va.size() == vb.size());
        std::size_t first = va.size();
        for (std::size_t i = 0; i < va.size() && first == va.size(); ++i)
            if (!(va[i] == vb[i] || (std::isnan(va[i]) && std::isnan(vb[i])))) first = i;
        CHECK_MESSAGE(first == va.size(), "first differing value at " << first);
        CHECK(a.read_strings("/events/action") == b.read_strings("/events/action"));
        CHECK(a.read_vector("/events/time") == b.read_vector("/events/time"));
        CHECK(a.read_scalar("/summary/saidi_h") == b.read_scalar("/summary/saidi_h"));
    }
}

// ---- scenarios ------------------------------------------------------------------------------------

namespace {

const char* kBase = "network: {generator: melaka, size: small, model: balanced}\n"
                    "horizon: {start: \"2025-06-11T17:00\", steps: 24}\n";

std::string error_of(const std::string& yaml, bool build = false) {
    try {
        Scenario s = parse_scenario(std::string(kBase) + yaml, "outage_test.yaml");
        if (build) build_scenario(s);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("outages: scenario events: bad input names the file, the key and the value") {
    CHECK(error_of("events:\n  - {at: \"2025-13-45T18:00\", action: open, element: switch, id: 0}\n").find("events.0.at") != std::string::npos);
    const std::string neg = error_of("events:\n  - {at: \"2025-06-11T18:00\", duration: -4h, action: open, element: switch, id: 0}\n");
    CHECK(neg.find("events.0.duration") != std::string::npos);
    CHECK(neg.find("-4h") != std::string::npos);
    CHECK(neg.find("outage_test.yaml") != std::string::npos);
    CHECK(error_of("events:\n  - {at: \"2025-06-11T18:00\", until: \"2025-06-11T17:00\", action: open, element: switch, id: 0}\n")
              .find("events.0.until") != std::string::npos);
    CHECK(error_of("events:\n  - {at: \"2025-06-11T18:00\", action: opne, element: switch, id: 0}\n").find("did you mean 'open'") !=
          std::string::npos);
    CHECK(error_of("events:\n  - {at: \"2025-06-11T18:00\", action: open, element: line, id: 0}\n").find("events.0.action") !=
          std::string::npos);
    CHECK(error_of("events:\n  - {at: \"2025-06-11T18:00\", action: open, element: switch}\n").find("events.0.id") != std::string::npos);
    CHECK(error_of("events:\n  - {at: \"2025-06-11T18:00\", action: open, element: switch, id: 1, name: x}\n").find("events.0") !=
          std::string::npos);
    CHECK(error_of("events:\n  - {at: \"2025-06-11T18:00\", action: open, element: switch, id: 1, colour: red}\n")
              .find("events.0.colour") != std::string::npos);
    // at build: unknown ids and names, overlapping events on one element
    const std::string unknown = error_of("events:\n  - {at: \"2025-06-11T18:00\", action: open, element: switch, id: 99999}\n", true);
    CHECK(unknown.find("events.0.id") != std::string::npos);
    CHECK(unknown.find("99999") != std::string::npos);
    CHECK(unknown.find("outage_test.yaml") != std::string::npos);
    const std::string feeder = error_of("events:\n  - {at: \"2025-06-11T18:00\", action: open, element: feeder, name: P9F9}\n", true);
    CHECK(feeder.find("events.0.name") != std::string::npos);
    CHECK(feeder.find("P0F0") != std::string::npos);  // the message lists the feeders
    const std::string overlap = error_of("events:\n  - {at: \"2025-06-11T18:00\", duration: 4h, action: open, element: feeder, name: P0F1}\n"
                                         "  - {at: \"2025-06-11T20:00\", action: close, element: feeder, name: P0F1}\n",
                                         true);
    CHECK(overlap.find("events.1.at") != std::string::npos);
    CHECK(overlap.find("overlaps events.0") != std::string::npos);
    CHECK(error_of("outages: {elements: feeders}\n").find("outages") != std::string::npos);
    CHECK(error_of("outages: {failure_rate_per_km_year: 0.1, repair: weibull}\n").find("outages.repair") != std::string::npos);
}

TEST_CASE("outages: scenario events and outages round-trip, resolve feeders, and draw seeded random outages") {
    const std::string yaml = std::string(kBase) +
                             "events:\n"
                             "  - {at: \"2025-06-11T18:00\", until: \"2025-06-11T22:00\", action: open, element: feeder, name: P0F1}\n"
                             "  - {at: \"2025-06-11T19:00\", duration: 2d, action: out_of_service, element: load, id: 3}\n"
                             "outages: {seed: 5, elements: feeders, failure_rate_per_feeder_year: 2000, mean_repair_h: 2, repair: lognormal}\n";
    const Scenario s = parse_scenario(yaml, "rt.yaml");
    REQUIRE(s.events.size() == 2);
    CHECK(s.events[0].duration_s == 4 * 3600);
    CHECK(s.events[1].duration_s == 2 * 86400);
    const Scenario back = parse_scenario(scenario_to_yaml(s), "rt.yaml");
    CHECK(back.same_settings(s));
    const ScenarioGrid g = scenario_grid(s);
    REQUIRE(g.feeder_names.size() == 2);
    CHECK(g.feeder_names[1] == "P0F1");
    CHECK(g.feeder_km[0] > 0.5);
    BuiltScenario b = build_scenario(s);
    const std::vector<Event>& ev = b.devices.events;
    REQUIRE(ev.size() >= 2);
    CHECK(ev[0].element == "switch");
    CHECK(ev[0].id == g.feeder_breakers[1]);
    CHECK(ev[0].kind == EventKind::OpenSwitch);
    CHECK(ev[0].cause == "scheduled");
    std::size_t random = 0;
    for (const Event& e : ev) {
        if (e.cause != "random") continue;
        ++random;
        CHECK(e.duration_s > 0);
        CHECK(e.element == "switch");
        CHECK(e.time >= s.horizon.start);
        CHECK(e.time < s.horizon.start + 24 * 900);
    }
    CHECK(random > 0);  // 2000 a year a feeder: about 1.4 in 6 h for 2 feeders
    // deterministic by seed; another seed draws otherwise
    const BuiltScenario again = build_scenario(s);
    REQUIRE(again.devices.events.size() == ev.size());
    for (std::size_t i = 0; i < ev.size(); ++i) CHECK((again.devices.events[i].time == ev[i].time && again.devices.events[i].duration_s == ev[i].duration_s));
    Scenario other = s;
    override_key(other, "outages.seed", "6");
    const BuiltScenario o2 = build_scenario(other);
    bool differ = o2.devices.events.size() != ev.size();
    for (std::size_t i = 0; !differ && i < ev.size(); ++i) differ = o2.devices.events[i].time != ev[i].time;
    CHECK(differ);
    // the built scenario runs: the breaker's feeder is out, its customers' energy counted
    b.options.threads = 1;
    const SimulationSummary sum = make_simulation(b).run();
    CHECK(sum.resilience);
    CHECK(sum.energy_not_served_mwh > 0);
    CHECK(sum.customers_interrupted > 0);
    CHECK(sum.energy_balance_max_error_mw < 1e-6);
}
