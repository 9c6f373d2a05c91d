// No allocation anywhere in the step loop on the city grid's code path (issue 13): the Melaka smart-
// city scenario (every device kind: PV with volt-var / volt-watt, batteries, EV stations, public
// charging sites with PV and storage, BEMS buildings, HEMS homes, ToU tariffs, 15-minute meters) on
// the `district` cut of the generated grid, swept with 2 threads, load profiles refilled in blocks
// inside the counted steps. The `city` size runs the same code on a bigger grid (too slow for a test).
#include <doctest/doctest.h>

#include "alloc_counter.hpp"

#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include <string>

using namespace libgrid;

TEST_CASE("simulation: the city scenario's step loop allocates nothing (district grid, 2 threads)") {
    Scenario sc = load_scenario(std::string(LIBGRID_SCENARIOS) + "/melaka_smart_city.yaml");
    override_key(sc, "network.size", "district");
    override_key(sc, "network.model", "balanced");  // issue 15: the balanced engine (the unbalanced one: bench/H5)
    override_key(sc, "horizon.steps", "96");
    const BuiltScenario b = build_scenario(sc);
    SimulationOptions opt = b.options;
    opt.output_path.clear();       // the HDF5 recorder's appends are tested in test_hdf5_results.cpp
    opt.threads = 2;
    opt.profile_block_steps = 16;  // blocks start at steps 16, 32, ... 80: inside the counted window
    const bool counting = alloc_counter_active();
    WARN_MESSAGE(counting, "the counting operator new is not active in this binary");
    // steps 0..3 size what grows on first use (the sweep's warm start, the devices' first step)
    long at_first = -1, at_last = -1;
    Simulation sim(b.net, b.devices, opt);
    const SimulationSummary s = sim.run([&](std::size_t done, std::size_t) {
        if (done == 4) at_first = g_operator_new_calls.load();
        if (done == 96) at_last = g_operator_new_calls.load();
    });
    REQUIRE(s.steps == 96);
    CHECK(s.non_converged_steps == 0);
    MESSAGE("operator new calls in steps 4..95: " << at_last - at_first);
    if (counting) CHECK(at_last - at_first == 0);
}

TEST_CASE("simulation: a stepped city run with results in memory and set points allocates nothing per step") {
    Scenario sc = load_scenario(std::string(LIBGRID_SCENARIOS) + "/melaka_smart_city.yaml");
    override_key(sc, "network.size", "district");
    override_key(sc, "network.model", "balanced");
    override_key(sc, "horizon.steps", "96");
    const BuiltScenario b = build_scenario(sc);
    REQUIRE(!b.devices.batteries.empty());
    REQUIRE(!b.devices.pv.empty());
    SimulationOptions opt = b.options;
    opt.output_path.clear();
    opt.results_in_memory = true;  // issue 19: the MemoryRecorder reserves every row up front
    opt.profile_block_steps = 16;
    const bool counting = alloc_counter_active();
    Simulation sim(b.net, b.devices, opt);
    const Id battery = b.devices.batteries.front().id, pv = b.devices.pv.front().id;
    sim.set_battery_power(battery, 1.0);  // sizes the set-point tables
    sim.set_pv_limit(pv, 1e9);
    long at_first = -1;
    while (!sim.done()) {
        if (sim.steps_done() == 4) at_first = g_operator_new_calls.load();
        if (sim.steps_done() == 48) {
            sim.set_battery_power(battery, -1.0);
            sim.set_pv_limit(pv, 2.0);
        }
        sim.step();
    }
    const long at_last = g_operator_new_calls.load();
    MESSAGE("operator new calls in stepped steps 4..95: " << at_last - at_first);
    if (counting) CHECK(at_last - at_first == 0);
    CHECK(sim.results().steps() == 96);
    CHECK(sim.finish().steps == 96);
}
