// Issue 15: network.model and network.phases (the unbalanced Melaka's MelakaPhaseOptions): parsed,
// validated with file:line and the key, emitted and read back alike, overridable.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/scenario.hpp>

#include <string>

using namespace libgrid;

namespace {

std::string parse_message(const std::string& text) {
    try {
        parse_scenario(text, "m.yaml");
    } catch (const ParseError& e) {
        return e.what();
    }
    FAIL("no ParseError for: " << text);
    return "";
}

bool has(const std::string& msg, const std::string& part) {
    INFO(msg);
    return msg.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("scenario model: network.model and network.phases are read into the settings") {
    const Scenario s = parse_scenario(
        "seed: 7\n"
        "network:\n"
        "  generator: melaka\n"
        "  model: unbalanced\n"
        "  phases:\n"
        "    seed: 3\n"
        "    imbalance: 0.25\n"
        "    rephase: {12: b, 40: C}\n"
        "    customer_earth_ohm: 25\n"
        "    substation_earth_ohm: 0.5\n"
        "    neutral: true\n",
        "m.yaml");
    CHECK(s.network.model == "unbalanced");
    CHECK(s.network.unbalanced());
    CHECK(s.network.has_phases_seed);
    CHECK(s.network.phases.seed == 3);
    CHECK(s.network.phases.imbalance == 0.25);
    REQUIRE(s.network.phases.rephase.size() == 2);
    CHECK(s.network.phases.rephase.at(12) == "b");
    CHECK(s.network.phases.rephase.at(40) == "c");
    CHECK(s.network.phases.convert.customer_earth_ohm == 25.0);
    CHECK(s.network.phases.convert.substation_earth_ohm == 0.5);
    CHECK(s.network.phases.convert.model_neutral);

    // the effective YAML reads back to the same settings
    const Scenario back = parse_scenario(scenario_to_yaml(s), "back.yaml");
    CHECK(back.same_settings(s));
    // and a change in any phase option is a different scenario
    Scenario t = s;
    override_key(t, "network.phases.imbalance", "0.5");
    CHECK_FALSE(t.same_settings(s));
    CHECK(t.network.phases.imbalance == 0.5);
}

TEST_CASE("scenario model: the defaults by kind") {
    const Scenario g = parse_scenario("network: {generator: melaka}\n", "m.yaml");
    CHECK(g.network.model == scenario_default_model());
    const Scenario b = parse_scenario("network: {generator: melaka, model: balanced}\n", "m.yaml");
    CHECK(b.network.model == "balanced");
    CHECK_FALSE(b.network.unbalanced());
    const Scenario u = parse_scenario("network: {generator: melaka, model: unbalanced}\n", "m.yaml");
    CHECK(u.network.has_phases_seed == false);
    CHECK(u.network.phases.imbalance == 0.0);
    CHECK(u.network.phases.convert.customer_earth_ohm == 10.0);  // ToUnbalancedOptions' defaults
    CHECK(u.network.phases.convert.substation_earth_ohm == 1.0);
    CHECK(u.network.phases.convert.model_neutral);
    // an unbalanced network refuses checkpoints until the engine keeps them; by default none are asked for
    CHECK(u.outputs.checkpoint_steps == 0);
    CHECK(b.outputs.checkpoint_steps == 256);
}

TEST_CASE("scenario model: bad values name the file, line and key") {
    CHECK(has(parse_message("network:\n  generator: melaka\n  model: three_phase\n"),
              "m.yaml:3: key 'network.model': unknown value 'three_phase'"));
    CHECK(has(parse_message("network:\n  generator: melaka\n  model: balanced\n  phases: {imbalance: 0.1}\n"),
              "key 'network.phases': applies to the unbalanced model"));
    CHECK(has(parse_message("network:\n  model: unbalanced\n  phases:\n    imbalance: 2\n"),
              "m.yaml:4: key 'network.phases.imbalance': expected a number in [0, 1], got '2'"));
    CHECK(has(parse_message("network:\n  model: unbalanced\n  phases:\n    imbalanse: 0.2\n"),
              "key 'network.phases.imbalanse': unknown key (did you mean 'imbalance'?)"));
    CHECK(has(parse_message("network:\n  model: unbalanced\n  phases:\n    rephase: {12: d}\n"),
              "key 'network.phases.rephase.12': expected the phase a, b or c, got 'd'"));
    CHECK(has(parse_message("network:\n  model: unbalanced\n  phases:\n    rephase: {x: a}\n"),
              "key 'network.phases.rephase': expected a customer id"));
    CHECK(has(parse_message("network:\n  model: unbalanced\n  phases:\n    rephase: [1, 2]\n"),
              "key 'network.phases.rephase': expected a map of customer id -> phase"));
    CHECK(has(parse_message("network:\n  model: unbalanced\n  phases:\n    customer_earth_ohm: -1\n"),
              "key 'network.phases.customer_earth_ohm': expected a number in [0, "));
    CHECK(has(parse_message("network:\n  model: unbalanced\n  phases:\n    neutral: maybe\n"),
              "key 'network.phases.neutral': expected true or false, got 'maybe'"));
    CHECK(has(parse_message("network:\n  model: unbalanced\noutputs: {checkpoint_steps: 256}\n"),
              "key 'outputs.checkpoint_steps': checkpoints are not supported on an unbalanced network"));
    CHECK(has(parse_message("network:\n  model: balanced\ndevices:\n  pv: {phases: a}\n"),
              "key 'devices.pv.phases': applies to unbalanced networks"));
}

TEST_CASE("scenario model: a file's kind fixes the model") {
    const std::string m = std::string(LIBGRID_TEST_DATA) + "/matpower/case9.m";
    const Scenario s = parse_scenario("network: {file: " + m + "}\n", "m.yaml");
    CHECK(s.network.model == "balanced");
    CHECK(has(parse_message("network: {file: " + m + ", model: unbalanced}\n"),
              "key 'network.model': a MATPOWER (.m) or libgrid (.json) network is balanced only"));
    CHECK(has(parse_message("network: {file: " + m + ", phases: {imbalance: 0}}\n"), "key 'network.phases': belongs to a generated network"));
    const std::string d = std::string(LIBGRID_TEST_DATA) + "/opendss/eulv/Master.dss";
    const std::string h = "horizon: {start: '2025-01-01T00:01', step: 1min, steps: 2}\n";
    CHECK(parse_scenario("network: {file: " + d + "}\n" + h, "m.yaml").network.model == "unbalanced");
    CHECK(has(parse_message("network: {file: " + d + ", model: balanced}\n" + h),
              "key 'network.model': an OpenDSS (.dss) network is unbalanced only"));
}

TEST_CASE("scenario model: an override sets the model; a bad one names the override") {
    Scenario s = parse_scenario("network: {generator: melaka, model: balanced}\n", "m.yaml");
    override_key(s, "network.model", "unbalanced");
    CHECK(s.network.unbalanced());
    override_key(s, "network.phases.rephase", "{3: a}");
    CHECK(s.network.phases.rephase.at(3) == "a");
    try {
        override_key(s, "network.model", "both");
        FAIL("no error");
    } catch (const ValidationError& e) {
        CHECK(has(e.what(), "override 'network.model'"));
    }
    CHECK(s.network.unbalanced());  // unchanged
}
