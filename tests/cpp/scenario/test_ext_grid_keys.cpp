// Scenario keys network.ext_grid_sk_mva / ext_grid_rx_ratio (issue 13): every ext grid's source
// impedance, for generated and file networks; validated, round-tripped, absent = the network's own.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/scenario.hpp>

#include <cmath>
#include <string>

using namespace libgrid;

namespace {
const std::string kHead = "name: t\nseed: 5\nhorizon: {start: \"2025-03-03\", step: 15min, steps: 4}\n";
}  // namespace

TEST_CASE("scenario: network.ext_grid_sk_mva and ext_grid_rx_ratio set every ext grid's source impedance") {
    const Scenario plain = parse_scenario(kHead + "network: {generator: melaka, size: small, model: balanced}\n", "s.yaml");
    CHECK_FALSE(plain.network.has_ext_grid_sk_mva);
    const BuiltScenario b0 = build_scenario(plain);
    REQUIRE_FALSE(b0.net.ext_grids.empty());
    for (const ExtGrid& e : b0.net.ext_grids) CHECK(std::isinf(e.sk_mva));  // the generator's: ideal

    Scenario s = parse_scenario(kHead + "network: {generator: melaka, size: small, model: balanced, ext_grid_sk_mva: 250, ext_grid_rx_ratio: 0.2}\n",
                                "s.yaml");
    CHECK(s.network.ext_grid_sk_mva == 250.0);
    const BuiltScenario b = build_scenario(s);
    for (const ExtGrid& e : b.net.ext_grids) {
        CHECK(e.sk_mva == 250.0);
        CHECK(e.rx_ratio == 0.2);
    }
    // the effective YAML carries the keys and reads back to the same scenario
    const std::string y = scenario_to_yaml(s);
    CHECK(y.find("ext_grid_sk_mva: 250") != std::string::npos);
    CHECK(parse_scenario(y, "e.yaml").network == s.network);
    // an override, and inf back to the ideal slack
    override_key(s, "network.ext_grid_sk_mva", "inf");
    CHECK(std::isinf(s.network.ext_grid_sk_mva));
    CHECK(parse_scenario(scenario_to_yaml(s), "e.yaml").network == s.network);
    for (const ExtGrid& e : build_scenario(s).net.ext_grids) CHECK(std::isinf(e.sk_mva));
}

TEST_CASE("scenario: a bad network.ext_grid_sk_mva / ext_grid_rx_ratio is an error naming the key") {
    for (const char* bad : {"ext_grid_sk_mva: 0", "ext_grid_sk_mva: -5", "ext_grid_sk_mva: big", "ext_grid_rx_ratio: -0.1"}) {
        CAPTURE(bad);
        const std::string text = kHead + "network: {generator: melaka, size: small, " + bad + "}\n";
        try {
            parse_scenario(text, "s.yaml");
            FAIL("no error");
        } catch (const ParseError& e) {
            const std::string key = std::string(bad).substr(0, std::string(bad).find(':'));
            CHECK(std::string(e.what()).find("network." + key) != std::string::npos);
        }
    }
}
