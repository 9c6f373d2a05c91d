// Batches of independent runs: identical at 1 and 2 threads, equal to single runs, errors kept.
#include <doctest/doctest.h>

#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/batch.hpp>

using namespace libgrid;

TEST_CASE("batch: independent scenario runs in parallel equal the serial runs, failures are kept") {
    std::vector<BatchItem> items;
    for (int seed : {1, 2, 3}) {
        Scenario sc = load_scenario(std::string(LIBGRID_SCENARIOS) + "/melaka_smart_city.yaml");
        override_key(sc, "network.model", "balanced");  // issue 15: items on the balanced Network
        override_key(sc, "seed", std::to_string(seed));
        override_key(sc, "horizon.steps", "96");
        BuiltScenario b = build_scenario(sc);
        items.push_back(BatchItem{b.net, b.devices, b.options});
    }
    BatchItem bad = items[0];
    bad.devices.pv.push_back(PvUnit{});  // id 0 at bus 0 with 0 kWp: invalid
    bad.devices.pv.back().bus = -12345;
    items.push_back(bad);
    const auto serial = run_batch(items, 1);
    const auto parallel = run_batch(items, 2);
    REQUIRE(serial.size() == 4);
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        REQUIRE(serial[i].ok);
        REQUIRE(parallel[i].ok);
        const auto& a = serial[i].summary;
        const auto& b = parallel[i].summary;
        CHECK(a.steps == 96);
        CHECK(a.import_mwh == b.import_mwh);  // bit for bit
        CHECK(a.losses_mwh == b.losses_mwh);
        CHECK(a.min_vm_pu == b.min_vm_pu);
        CHECK(a.co2_t == b.co2_t);
        CHECK(a.bills_rm == b.bills_rm);
        // and equal to a run on its own
        Simulation one(items[i].net, items[i].devices, items[i].options);
        const auto s = one.run();
        CHECK(s.losses_mwh == a.losses_mwh);
    }
    CHECK(serial[0].summary.losses_mwh != serial[1].summary.losses_mwh);  // seeds differ
    CHECK_FALSE(serial[3].ok);
    CHECK(serial[3].error.find("unknown bus id -12345") != std::string::npos);
    CHECK_FALSE(parallel[3].ok);
}
