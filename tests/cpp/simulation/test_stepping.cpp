// Issue 19 (C++ applications): the stepped Simulation (start, step, run_until, finish, cancel),
// set points between steps, and the results kept in memory by element id.
#include <doctest/doctest.h>

#include "scratch_dir.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/simulation/engine.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <thread>

using namespace libgrid;

namespace {

Network cigre() { return read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json"); }

/// CIGRE LV with a PV and a self-consumption battery behind the first customer's meter.
DeviceSet devices(const Network& net) {
    DeviceSet dev;
    const Load& c = net.loads.front();
    PvUnit pv;
    pv.id = 7;
    pv.bus = c.bus;
    pv.customer = c.id;
    pv.params.kwp_dc = 30.0;
    pv.params.inverter_kva = 25.0;
    dev.pv.push_back(pv);
    BatteryUnit b;
    b.id = 3;
    b.bus = c.bus;
    b.customer = c.id;
    b.params.e_kwh = 40.0;
    b.params.p_charge_kw = b.params.p_discharge_kw = 10.0;
    b.params.strategy = BatteryStrategy::SelfConsumption;
    dev.batteries.push_back(b);
    for (const Load& l : net.loads) {
        LoadProfileSpec p;
        p.load = l.id;
        p.cls = CustomerClass::Residential;
        p.daily_kwh = 12.0;
        dev.load_profiles.push_back(p);
    }
    return dev;
}

SimulationOptions day() {
    SimulationOptions o;
    o.start = from_civil(2025, 3, 3);
    o.step_s = 900;
    o.n_steps = 96;
    o.results_in_memory = true;
    return o;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

}  // namespace

TEST_CASE("stepping: a stepped day equals the whole run bit for bit, in memory by element id") {
    const Network net = cigre();
    Simulation whole(net, devices(net), day());
    const SimulationSummary sw = whole.run();
    Simulation stepped(net, devices(net), day());
    std::size_t n = 0;
    while (!stepped.done()) {
        const StepInfo i = stepped.step();
        CHECK(i.step == n);
        CHECK(i.time == from_civil(2025, 3, 3) + std::int64_t(n) * 900);
        CHECK(i.converged);
        ++n;
    }
    CHECK(n == 96);
    const SimulationSummary ss = stepped.finish();
    CHECK(ss.completed);
    CHECK(ss.losses_mwh == sw.losses_mwh);
    CHECK(ss.import_mwh == sw.import_mwh);
    CHECK(ss.battery_discharged_mwh == sw.battery_discharged_mwh);
    const ResultTable a = whole.results().bus_vm_pu(), b = stepped.results().bus_vm_pu();
    CHECK(a.rows() == 96);
    CHECK(same_bits(a.values, b.values));
    // columns are the elements' own ids
    REQUIRE(a.columns() == net.buses.size());
    for (std::size_t i = 0; i < net.buses.size(); ++i) CHECK(a.ids[i] == net.buses[i].id);
    const ResultTable lines = whole.results().line_loading_percent();
    REQUIRE(lines.columns() == net.lines.size());
    for (std::size_t i = 0; i < net.lines.size(); ++i) CHECK(lines.ids[i] == net.lines[i].id);
    CHECK(lines.unit == "percent");
    const ResultTable trafos = whole.results().trafo_loading_percent();
    REQUIRE(trafos.columns() == net.transformers.size());
    CHECK(trafos.ids[0] == net.transformers[0].id);
    CHECK(whole.results().summary("losses_mwh") == sw.losses_mwh);
    CHECK_THROWS_AS(a.at(0, 999999), IdError);
    CHECK_THROWS_AS(whole.results().table("bus", "no_such_series"), Error);
}

TEST_CASE("stepping: results in memory equal the HDF5 file (float64) bit for bit") {
    const Network net = cigre();
    const std::string path = libgrid_test::scratch_path("stepping_day.h5");
    SimulationOptions o = day();
    o.output_path = path;
    o.h5.float32 = false;
    Simulation sim(net, devices(net), o);
    sim.run();
    const ResultsReader r(path);
    for (const char* s : {"bus/vm_pu", "battery/p_mw", "pv/p_mw", "ext_grid/p_mw"}) {
        CAPTURE(s);
        const std::string p(s);
        const std::string g = p.substr(0, p.find('/')), name = p.substr(p.find('/') + 1);
        CHECK(same_bits(sim.results().table(g, name).values, r.read_vector("/" + p)));
    }
}

TEST_CASE("stepping: run_until noon, a battery set point from then on, the rest of the day") {
    const Network net = cigre();
    Simulation base(net, devices(net), day());
    base.run();
    Simulation sim(net, devices(net), day());
    const LocalTime noon = from_civil(2025, 3, 3, 12);
    CHECK(sim.run_until(noon) == 48);
    CHECK(sim.steps_done() == 48);
    CHECK(sim.next_time() == noon);
    sim.set_battery_power(3, -6.0);  // charge at 6 kW
    const SimulationSummary s = sim.run([](const StepInfo&) {});
    CHECK(s.completed);
    CHECK(s.steps == 96);
    const ResultTable p = sim.results().table("battery", "p_mw"), p0 = base.results().table("battery", "p_mw");
    const ResultTable soc = sim.results().table("battery", "soc");
    for (std::size_t k = 0; k < 48; ++k) CHECK(p.at(k, 3) == p0.at(k, 3));  // before noon: as without
    for (std::size_t k = 48; k < 96; ++k) {
        CAPTURE(k);
        if (soc.at(k, 3) < 0.9 - 1e-9) CHECK(p.at(k, 3) == doctest::Approx(-0.006));  // until full
        else CHECK(p.at(k, 3) >= -0.006 - 1e-12);
    }
    CHECK(s.energy_balance_max_error_mw < 1e-6);
    CHECK_THROWS_AS(sim.set_battery_power(3, 1.0), Error);  // the run is finished
    Simulation other(net, devices(net), day());
    CHECK_THROWS_AS(other.set_battery_power(99, 1.0), IdError);
}

TEST_CASE("stepping: a PV cap, a switch and a load out of service between steps") {
    Network net = cigre();
    Simulation sim(net, devices(net), day());
    sim.run_until(from_civil(2025, 3, 3, 10));
    sim.set_pv_limit(7, 5.0);
    sim.set_in_service("load", net.loads.back().id, false);
    sim.run_until(from_civil(2025, 3, 3, 14));
    sim.set_pv_limit(7, std::numeric_limits<double>::infinity());
    sim.run();
    const ResultTable pv = sim.results().table("pv", "p_mw");
    bool capped = false;
    for (std::size_t k = 40; k < 56; ++k) {
        CHECK(pv.at(k, 7) <= 0.005 + 1e-12);
        capped = capped || pv.at(k, 7) > 0.0049;
    }
    CHECK(capped);
    double after = 0;
    for (std::size_t k = 56; k < 64; ++k) after = std::max(after, pv.at(k, 7));
    CHECK(after > 0.005);  // the cap is lifted
    const ResultTable lp = sim.results().table("load", "p_mw");
    CHECK(lp.at(39, net.loads.back().id) != 0.0);
    for (std::size_t k = 40; k < 96; ++k) CHECK(lp.at(k, net.loads.back().id) == 0.0);
    CHECK_THROWS_AS(sim.set_switch(424242, false), Error);  // finished
    Simulation other(net, devices(net), day());
    CHECK_THROWS_AS(other.set_switch(424242, false), IdError);
    CHECK_THROWS_AS(other.set_in_service("line", 424242, false), IdError);
    CHECK_THROWS_AS(other.set_pv_limit(7, -1.0), ValidationError);
    CHECK_THROWS_AS(other.set_battery_power(3, std::numeric_limits<double>::infinity()), ValidationError);
}

TEST_CASE("stepping: cancel stops the run at a step boundary; misuse is an error") {
    const Network net = cigre();
    Simulation sim(net, devices(net), day());
    const SimulationSummary s = sim.run([&](const StepInfo& i) {
        if (i.step == 9) sim.cancel();
    });
    CHECK_FALSE(s.completed);
    CHECK(s.stop_reason == "cancelled");
    CHECK(s.steps == 10);
    CHECK(sim.results().steps() == 10);
    CHECK_THROWS_AS(sim.step(), Error);
    CHECK_THROWS_AS(sim.finish(), Error);
    // from another thread, before the first step: no step runs
    Simulation sim2(net, devices(net), day());
    std::thread t([&] { sim2.cancel(); });
    t.join();
    CHECK(sim2.run().steps == 0);
    // a run finished early says so
    Simulation sim3(net, devices(net), day());
    sim3.step();
    const SimulationSummary s3 = sim3.finish();
    CHECK_FALSE(s3.completed);
    CHECK(s3.stop_reason == "finished early");
    SimulationOptions o = day();
    o.results_in_memory = false;
    Simulation sim4(net, devices(net), o);
    CHECK_THROWS_AS(sim4.results(), Error);
    CHECK_THROWS_AS(sim4.finish(), Error);  // not started
}
