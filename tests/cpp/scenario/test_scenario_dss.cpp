// Issue 15: a scenario whose network is an OpenDSS script: read into a UNetwork, customers = its loads
// (the engine's ids), names instead of ids, `phases` on every device kind, keys that do not fit refused
// with file:line and key; the effective YAML reads back alike; hosting refuses it.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/hosting.hpp>
#include <libgrid/scenario/scenario.hpp>

#include <fstream>
#include <string>

using namespace libgrid;

namespace {

const std::string kData = LIBGRID_TEST_DATA;
const std::string kScenarios = LIBGRID_SCENARIOS;
const std::string kMaster = kData + "/opendss/eulv/Master.dss";

Scenario dss_scenario(const std::string& body) {
    return parse_scenario("network:\n  file: " + kMaster + "\nhorizon: {start: '2025-01-01T00:01', step: 1min, steps: 2}\n" + body, "s.yaml");
}

std::string parse_message(const std::string& body) {
    try {
        dss_scenario(body);
    } catch (const ParseError& e) {
        return e.what();
    }
    FAIL("no ParseError for: " << body);
    return "";
}

}  // namespace

TEST_CASE("scenario dss: the shipped EU LV day builds an unbalanced network whose customers are its loads") {
    const Scenario s = load_scenario(kScenarios + "/eulv_day.yaml");
    CHECK(s.network.dss);
    CHECK(s.horizon.n_steps == 1440);
    CHECK(s.horizon.step_s == 60);
    const BuiltScenario b = build_scenario(s);
    CHECK(b.unbalanced);
    CHECK(b.net.buses.empty());
    REQUIRE(b.unet.loads.size() == 55);
    REQUIRE(b.customers.size() == 55);
    CHECK(b.devices.load_profiles.empty());  // the loads follow their own shapes
    // the engine's numbering: index + 1 (no ids in the script)
    CHECK(b.customers[0].id == 1);
    CHECK(b.customers[0].load_id == 1);
    CHECK(b.customers[0].bus == Id(b.unet.loads[0].bus1.bus) + 1);
    CHECK(b.customers[0].phases == 1);
    // LOAD1: kW=1 x Shape_1 (one value a minute): its peak is the file's largest value, 0.036 at midnight or more
    CHECK(b.customers[0].peak_kw >= 0.036);
    CHECK(b.options.n_steps == 1440);
    CHECK(b.options.start % 900 == 60);  // 00:01, as OpenDSS's yearly mode
    CHECK(b.options.meter_interval_s == 60);  // the meters read every step on a .dss network (00:01 is on that clock)
}

TEST_CASE("scenario dss: keys that do not fit are refused with file:line and key") {
    std::string m = [] {
        try {
            parse_scenario("network:\n  file: " + kMaster + "\n  load_factor: 0.5\n", "s.yaml");
        } catch (const ParseError& e) {
            return std::string(e.what());
        }
        return std::string();
    }();
    CHECK(m.find("s.yaml:3: key 'network.load_factor': does not apply to a .dss network") != std::string::npos);
    m = parse_message("outputs: {meter_interval: 15min}\n");  // the start, 00:01, lies on no 15-minute clock
    CHECK(m.find("key 'horizon.start': the start 2025-01-01T00:01:00 is not on a meter interval boundary (15min)") != std::string::npos);
    m = parse_message("outputs: {meter_interval: 2min}\n");
    CHECK(m.find("key 'outputs.meter_interval': expected 15min, 30min or 1h or the step, got '2min'") != std::string::npos);
    CHECK(dss_scenario("outputs: {checkpoint_steps: 512}\n").outputs.checkpoint_steps == 512);  // issue 15b: checkpoints on .dss networks
    m = parse_message("profiles: {residential_daily_kwh: 10}\n");
    CHECK(m.find("key 'profiles.residential_daily_kwh': does not apply to a .dss network") != std::string::npos);
    m = parse_message("devices:\n  battery:\n    share: 0.1\n    phases: ad\n");
    CHECK(m.find("s.yaml:7: key 'devices.battery.phases': expected a, b, c, ab, bc, ca or abc") != std::string::npos);
    m = parse_message("devices:\n  homes: {share: 0.1, customers: [load1]}\n");
    CHECK(m.find("key 'devices.homes.customers': give either 'share' or 'customers'") != std::string::npos);
    m = parse_message("devices:\n  ev:\n    customers: [load1, LOAD1]\n");
    CHECK(m.find("key 'devices.ev.customers.1': load 'load1' appears twice") != std::string::npos);
}

TEST_CASE("scenario dss: phases are refused on a balanced network") {
    try {
        parse_scenario("devices:\n  pv:\n    share: 0.1\n    phases: a\n", "b.yaml");
        FAIL("no error");
    } catch (const ParseError& e) {
        CHECK(std::string(e.what()).find("b.yaml:4: key 'devices.pv.phases': applies to unbalanced networks") != std::string::npos);
    }
}

TEST_CASE("scenario dss: devices by load and bus name, with their phases; the effective YAML reads back alike") {
    const Scenario s = dss_scenario(
        "devices:\n  pv: {customers: [LOAD1, load32], phases: C}\n  battery: {customers: [load1], phases: c}\n"
        "  ev:\n    customers: [load53]\n    phases: b\n    public_sites: {buses: ['34'], chargers: [{kind: public_ac, n: 1}], phases: abc}\n");
    const BuiltScenario b = build_scenario(s);
    REQUIRE(b.devices.pv.size() == 2);
    CHECK(b.devices.pv[0].phases == "c");
    CHECK(b.devices.pv[0].customer == 1);   // LOAD1
    CHECK(b.devices.pv[1].customer == 32);  // LOAD32 (the script's 32nd load)
    REQUIRE(b.devices.batteries.size() == 1);
    CHECK(b.devices.batteries[0].customer == 1);
    REQUIRE(b.devices.ev_stations.size() == 1);
    CHECK(b.devices.ev_stations[0].customer == 53);
    CHECK(b.devices.ev_stations[0].phases == "b");
    REQUIRE(b.devices.charging_sites.size() == 1);
    CHECK(b.devices.charging_sites[0].bus == Id(b.unet.find_bus("34")) + 1);
    CHECK(b.devices.charging_sites[0].phases == "abc");
    const Scenario again = parse_scenario(scenario_to_yaml(s), "s.yaml");
    CHECK(again.same_settings(s));
}

TEST_CASE("scenario dss: unknown names and a battery without PV fail at build, naming the key") {
    auto build_message = [](const std::string& body) {
        try {
            build_scenario(dss_scenario(body));
        } catch (const ValidationError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(build_message("devices:\n  pv: {customers: [load99]}\n").find("key 'devices.pv.customers.0': no load 'load99'") != std::string::npos);
    CHECK(build_message("devices:\n  ev:\n    public_sites: {buses: [nowhere]}\n")
              .find("key 'devices.ev.public_sites.buses.0': no bus 'nowhere'") != std::string::npos);
    CHECK(build_message("devices:\n  battery: {customers: [load2]}\n").find("load 'load2' has no PV") != std::string::npos);
}

TEST_CASE("scenario dss: hosting capacity refuses a .dss network") {
    const Scenario s = dss_scenario("");
    CHECK_THROWS_WITH_AS(hosting_capacity(s, HostingStudy{}), doctest::Contains("hosting capacity on a .dss (unbalanced) network"), ValidationError);
}
