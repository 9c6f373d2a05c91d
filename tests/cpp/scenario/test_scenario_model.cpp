// Issue 15: network.model and network.phases (the unbalanced Melaka's MelakaPhaseOptions): parsed,
// validated with file:line and the key, emitted and read back alike, overridable.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/hosting.hpp>
#include <libgrid/scenario/scenario.hpp>

#include <cmath>

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
    // issue 15b (H2): the unbalanced engine keeps checkpoints as the balanced one: the same default
    CHECK(u.outputs.checkpoint_steps == 256);
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
    CHECK(parse_scenario("network:\n  model: unbalanced\noutputs: {checkpoint_steps: 512}\n", "m.yaml").outputs.checkpoint_steps == 512);
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

// ---- the build: the Melaka grid as built ---------------------------------------------------------

namespace {

const std::string kHead = "name: m\nseed: 4\nhorizon: {start: \"2025-03-03T11:00\", step: 15min, steps: 4}\n";

MelakaGrid small_grid(std::uint64_t seed) {
    MelakaGridOptions go;
    go.seed = seed;
    return generate_melaka_grid(go);
}

}  // namespace

TEST_CASE("scenario model: a Melaka scenario builds the grid as built, customers on the phase rule's phases") {
    const Scenario s = parse_scenario(kHead + "network: {generator: melaka, phases: {imbalance: 0.3}}\n"
                                              "devices:\n  pv: {share: 1.0}\n  ev: {share: 0.5}\n",
                                      "m.yaml");
    REQUIRE(s.network.unbalanced());
    const BuiltScenario b = build_scenario(s);
    REQUIRE(b.unbalanced);
    CHECK(b.net.buses.empty());
    // the phases are melaka_customer_phases of the same grid with the scenario seed (4) as the rule's seed
    MelakaPhaseOptions po;
    po.seed = 4;
    po.imbalance = 0.3;
    const std::vector<std::string> want = melaka_customer_phases(small_grid(4), po);
    REQUIRE(b.customer_phases == want);
    std::size_t single = 0;
    for (std::size_t i = 0; i < b.customers.size(); ++i) {
        const Customer& c = b.customers[i];
        CAPTURE(c.id);
        CHECK((c.phases == 1) == (want[i] != "abc"));
        // its load in the UNetwork: one phase to the neutral (node 4) on the customer's phase, or abc
        const ULoad* ld = nullptr;
        for (const ULoad& l : b.unet.loads)
            if (l.id == c.load_id) ld = &l;
        REQUIRE(ld != nullptr);
        if (c.phases == 1) {
            ++single;
            REQUIRE(ld->bus1.nodes.size() == 2);
            CHECK(ld->bus1.nodes[0] == 1 + (want[i][0] - 'a'));
            CHECK(ld->bus1.nodes[1] == 4);
        } else {
            CHECK(ld->nphases == 3);
        }
    }
    CHECK(single > 50);  // 60 % of the small grid's 120 houses (docs/melaka.md)
    // devices take the customer's phases ("" = the customer's load's), on the customer's bus and load
    REQUIRE(!b.devices.pv.empty());
    for (const PvUnit& u : b.devices.pv) CHECK(u.phases.empty());
    for (const EvStationUnit& u : b.devices.ev_stations) CHECK(u.phases.empty());
    // the generator's charging-site canopies and batteries reach the sites
    const Scenario s2 = parse_scenario(kHead + "devices:\n  ev: {public_sites: {sites: all, pv_kwp: generator, battery_kwh: generator, battery_kw: generator}}\n",
                                       "m.yaml");
    const BuiltScenario b2 = build_scenario(s2);
    REQUIRE(!b2.devices.charging_sites.empty());
    for (const ChargingSiteUnit& u : b2.devices.charging_sites) CHECK((u.canopy.kwp_dc > 0 && u.site.battery.capacity_kwh > 0));
}

TEST_CASE("scenario model: network.phases options reach the UNetwork; a device kind's phases override the customer's") {
    const Scenario a = parse_scenario(kHead + "network: {phases: {seed: 9, neutral: true, customer_earth_ohm: 0, substation_earth_ohm: 5}}\n"
                                              "devices:\n  pv: {share: 0.5, phases: b}\n",
                                      "m.yaml");
    const BuiltScenario b = build_scenario(a);
    MelakaPhaseOptions po;
    po.seed = 9;
    CHECK(b.customer_phases == melaka_customer_phases(small_grid(4), po));
    std::size_t earths = 0;
    for (const ULine& l : b.unet.lines) earths += l.name.rfind("earth_", 0) == 0 ? 1 : 0;
    CHECK(earths == 0);  // customer_earth_ohm 0: no electrodes
    for (const UTransformer& t : b.unet.transformers)
        if (t.windings[1].bus.nodes.back() == 4) CHECK(t.windings[1].rneut_ohm == 5.0);
    REQUIRE(!b.devices.pv.empty());
    for (const PvUnit& u : b.devices.pv) CHECK(u.phases == "b");
    // without network.phases.seed the phases follow the network's seed (the grid's), not the scenario's
    const BuiltScenario n7 = build_scenario(parse_scenario(kHead + "network: {seed: 7, phases: {imbalance: 0.5}}\n", "m.yaml"));
    MelakaPhaseOptions p7;
    p7.seed = 7;
    p7.imbalance = 0.5;
    CHECK(n7.customer_phases == melaka_customer_phases(small_grid(7), p7));
    p7.seed = 4;
    CHECK(n7.customer_phases != melaka_customer_phases(small_grid(7), p7));
    // the default: an electrode at every customer's bus
    const BuiltScenario d = build_scenario(parse_scenario(kHead, "m.yaml"));
    std::size_t d_earths = 0;
    for (const ULine& l : d.unet.lines) d_earths += l.name.rfind("earth_", 0) == 0 ? 1 : 0;
    CHECK(d_earths > 100);
}

TEST_CASE("scenario model: a re-phasing names the key when it does not fit the grid") {
    Scenario s = parse_scenario(kHead + "network: {phases: {rephase: {99999: a}}}\n", "m.yaml");
    try {
        build_scenario(s);
        FAIL("no error");
    } catch (const ValidationError& e) {
        CHECK(has(e.what(), "key 'network.phases': melaka phases: field 'rephase': customer id 99999: no such customer"));
    }
    try {
        build_scenario(parse_scenario(kHead + "network: {phases: {neutral: false}}\n", "m.yaml"));
        FAIL("no error");
    } catch (const ValidationError& e) {
        CHECK(has(e.what(), "key 'network.phases.neutral': false (three-wire LV) needs every customer three-phase"));
    }
    // a real single-phase customer moves
    const BuiltScenario b0 = build_scenario(parse_scenario(kHead, "m.yaml"));
    std::size_t k = 0;
    while (b0.customers[k].phases != 1) ++k;
    const std::string to = b0.customer_phases[k] == "a" ? "b" : "a";
    std::string value = std::to_string(b0.customers[k].id);  // "{id: phase}" (built in steps: GCC 12's -Wrestrict)
    value.append(": ").append(to);
    value.insert(0, 1, '{').push_back('}');
    override_key(s, "network.phases.rephase", value);
    const BuiltScenario b1 = build_scenario(s);
    CHECK(b1.customer_phases[k] == to);
    for (std::size_t i = 0; i < b0.customers.size(); ++i)
        if (i != k) CHECK(b1.customer_phases[i] == b0.customer_phases[i]);
}

TEST_CASE("scenario model: a short unbalanced run converges and closes its balance; balanced still runs balanced") {
    Scenario s = parse_scenario(kHead + "devices:\n  pv: {share: 0.5}\n  ev: {share: 0.3}\n  battery: {share: 0.5}\n  homes: {share: 0.2}\n",
                                "m.yaml");
    BuiltScenario b = build_scenario(s);
    const SimulationSummary r = make_simulation(b).run();
    CHECK(r.steps == 4);
    CHECK(r.non_converged_steps == 0);
    CHECK(r.energy_balance_max_error_mw < 1e-6);
    CHECK(r.pv_mwh > 0);
    CHECK(std::isfinite(r.max_vuf_percent));
    CHECK(r.max_vuf_percent > 0.0);  // single-phase customers: some unbalance
    override_key(s, "network.model", "balanced");
    BuiltScenario bb = build_scenario(s);
    CHECK_FALSE(bb.unbalanced);
    const SimulationSummary rb = make_simulation(bb).run();
    CHECK(rb.non_converged_steps == 0);
    CHECK(rb.pv_mwh == doctest::Approx(r.pv_mwh).epsilon(0.02));  // the same devices and weather
}

TEST_CASE("scenario model: hosting capacity on the unbalanced model is studied per phase (H4)") {
    const Scenario s = parse_scenario(kHead, "m.yaml");
    HostingStudy st;
    st.window = "horizon";
    st.kw_per_customer = 1.0;
    const HostingStudyResult r = hosting_capacity(s, st);
    REQUIRE(!r.groups.empty());
    for (const HostingCapacityResult& g : r.groups) {
        CHECK(std::isfinite(g.added_kw_phase[0]));  // the unbalanced model's answer has phases
        CHECK(g.added_kw_phase[0] + g.added_kw_phase[1] + g.added_kw_phase[2] == doctest::Approx(g.added_kw));
    }
}
