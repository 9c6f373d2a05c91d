// Issue 19 (C++ applications): options checked under their own names, and a run in which no step
// converged reports NaN energies, not zeros.
#include <doctest/doctest.h>

#include "scratch_dir.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/simulation/engine.hpp>

#include <cmath>
#include <string>

using namespace libgrid;

namespace {

Network cigre() { return read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json"); }

std::string error_of(const Network& net, const SimulationOptions& o) {
    try {
        Simulation(net, DeviceSet{}, o).run();
    } catch (const ValidationError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("options: step_s is checked under its own name (60 .. 3600 s, a divisor of an hour)") {
    const Network net = cigre();
    SimulationOptions o;
    o.start = from_civil(2025, 3, 3);
    o.n_steps = 4;
    for (std::int64_t bad : {std::int64_t(7), std::int64_t(30), std::int64_t(7200), std::int64_t(420), std::int64_t(0), std::int64_t(-900)}) {
        o.step_s = bad;
        const std::string msg = error_of(net, o);
        CAPTURE(bad);
        CHECK(msg.find("'step_s'") != std::string::npos);
        CHECK(msg.find("meter_interval") == std::string::npos);
    }
    o.step_s = 300;
    o.meter_interval_s = 900;
    CHECK(error_of(net, o).empty());
}

TEST_CASE("options: a run in which no step converges reports NaN energies, not zeros") {
    const Network net = cigre();
    SimulationOptions o;
    o.start = from_civil(2025, 3, 3);
    o.n_steps = 8;
    o.max_iterations = 1;
    o.tolerance = 1e-30;  // never met: every step ends unconverged
    const SimulationSummary s = Simulation(net, DeviceSet{}, o).run();
    CHECK(s.non_converged_steps == o.n_steps);
    CHECK(std::isnan(s.import_mwh));
    CHECK(std::isnan(s.losses_mwh));
    CHECK(std::isnan(s.co2_t));
    CHECK(std::isnan(s.energy_balance_max_error_mw));
    // one converged step is enough for the sums to be numbers again
    o.max_iterations = 30;
    o.tolerance = 1e-8;
    const SimulationSummary ok = Simulation(net, DeviceSet{}, o).run();
    CHECK(ok.non_converged_steps == 0);
    CHECK(ok.import_mwh > 0.0);
}

TEST_CASE("options: a device behind a customer's meter must sit at that customer's bus") {
    const Network net = cigre();
    REQUIRE(net.loads.size() >= 2);
    const Load& l = net.loads[0];
    Id other = -1;
    for (const Bus& b : net.buses)
        if (b.id != l.bus) other = b.id;
    SimulationOptions o;
    o.start = from_civil(2025, 3, 3);
    o.n_steps = 2;
    DeviceSet dev;
    PvUnit pv;
    pv.id = 7;
    pv.bus = other;  // the docs' old example: PV at one bus behind a customer at another
    pv.customer = l.id;
    pv.params.kwp_dc = 5;
    pv.params.inverter_kva = 5;
    dev.pv.push_back(pv);
    std::string msg;
    try {
        Simulation(net, dev, o).run();
    } catch (const ValidationError& e) {
        msg = e.what();
    }
    CHECK(msg.find("field 'bus'") != std::string::npos);
    CHECK(msg.find("load " + std::to_string(l.id)) != std::string::npos);
    dev.pv[0].bus = l.bus;  // at its customer's bus: accepted
    CHECK(Simulation(net, dev, o).run().completed);
}
