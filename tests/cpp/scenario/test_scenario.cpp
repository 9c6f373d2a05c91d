// Scenario files: the shipped scenarios parse, build and run; errors name file, line and key; overrides;
// the effective YAML round-trips; builds are deterministic in the seed; penetration shares hold.
#include <doctest/doctest.h>

#include "scratch_dir.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/io/network_io.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>

using namespace libgrid;

namespace {

const std::string kScenarios = LIBGRID_SCENARIOS;
const std::string kData = LIBGRID_TEST_DATA;

std::string tmp_dir() {
    const auto dir = libgrid_test::scratch_dir() / "scenario";
    std::filesystem::create_directories(dir);
    return dir.string();
}

/// Parses `text` as file "s.yaml" and returns the ParseError (fails the test if none is thrown).
ParseError parse_error(const std::string& text) {
    try {
        parse_scenario(text, "s.yaml");
    } catch (const ParseError& e) {
        return e;
    }
    FAIL("no ParseError for:\n" << text);
    return ParseError("", 0, "");
}

/// The YAML after its header comment.
std::string body(const std::string& y) { return y.substr(y.find("\nname:")); }

bool has(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

std::size_t count_type(const std::vector<Customer>& cs, CustomerType t) {
    std::size_t n = 0;
    for (const auto& c : cs) n += c.type == t;
    return n;
}

/// A compact fingerprint of everything build_scenario decides.
std::string fingerprint(const BuiltScenario& b) {
    std::ostringstream s;
    s.precision(17);
    for (const auto& u : b.devices.pv) s << "pv " << u.id << ' ' << u.bus << ' ' << u.customer << ' ' << u.params.kwp_dc << ' ' << u.params.inverter_kva << '\n';
    for (const auto& u : b.devices.batteries) s << "bat " << u.id << ' ' << u.params.e_kwh << ' ' << u.params.p_charge_kw << '\n';
    for (const auto& u : b.devices.load_profiles) s << "lp " << u.load << ' ' << int(u.cls) << ' ' << u.daily_kwh << '\n';
    for (const auto& u : b.devices.ev_stations) {
        s << "ev " << u.id << ' ' << u.station.sessions.size();
        for (const auto& x : u.station.sessions) s << ' ' << x.arrival << ' ' << x.energy_kwh;
        s << '\n';
    }
    for (const auto& u : b.devices.charging_sites) {
        s << "site " << u.id << ' ' << u.bus << ' ' << u.canopy.kwp_dc << ' ' << u.site.battery.capacity_kwh << ' ' << u.site.evs.sessions.size();
        for (const auto& x : u.site.evs.sessions) s << ' ' << x.arrival;
        s << '\n';
    }
    for (const auto& u : b.devices.buildings) s << "bld " << u.id << ' ' << u.params.floor_area_m2 << ' ' << int(u.params.mode) << '\n';
    for (const auto& u : b.devices.homes) s << "home " << u.id << ' ' << u.pv.kwp_dc << ' ' << u.home.battery.capacity_kwh << ' ' << u.home.ev.sessions.size() << '\n';
    for (const auto& u : b.devices.tariffs) s << "tariff " << u.customer << ' ' << int(u.tariff.kind) << ' ' << int(u.scheme) << '\n';
    return s.str();
}

const char* kSmall =
    "name: t\n"
    "seed: 5\n"
    "network: {generator: melaka, size: small}\n"
    "horizon: {start: \"2025-03-03\", step: 15min, steps: 96}\n";

}  // namespace

TEST_CASE("scenario: the shipped scenarios parse and build on the small grid") {
    for (const char* f : {"melaka_baseline.yaml", "melaka_smart_city.yaml", "melaka_2030.yaml"}) {
        CAPTURE(f);
        const Scenario s = load_scenario(kScenarios + "/" + f);
        CHECK(s.network.size == GridSize::Small);
        CHECK_FALSE(s.network.from_file);
        CHECK(s.horizon.step_s == 900);
        const int year = to_civil(s.horizon.start).year;
        CHECK(s.horizon.n_steps == std::size_t((is_leap_year(year) ? 366 : 365) * 96));
        const BuiltScenario b = build_scenario(s);
        CHECK(b.name == s.name);
        CHECK(b.customers.size() > 100);
        CHECK(b.options.n_steps == s.horizon.n_steps);
        CHECK(b.options.output_path.empty());
        CHECK(b.options.scenario_text == scenario_to_yaml(s));
        CHECK(b.devices.tariffs.size() == b.customers.size());
        CHECK(b.devices.pv.size() + b.devices.homes.size() > 0);
        CHECK(!b.devices.charging_sites.empty());
        CHECK(!b.devices.ev_stations.empty());
        // every device sits at a real bus, behind a real load
        std::set<Id> buses, loads;
        CHECK(b.unbalanced);  // issue 15: a Melaka study is the grid as built unless `model: balanced`
        for (std::size_t i = 0; i < b.unet.buses.size(); ++i) buses.insert(unbalanced_bus_id(b.unet, i));
        for (std::size_t i = 0; i < b.unet.loads.size(); ++i) loads.insert(unbalanced_load_id(b.unet, i));
        for (const auto& u : b.devices.pv) CHECK((buses.count(u.bus) && loads.count(u.customer)));
        for (const auto& u : b.devices.ev_stations) CHECK((buses.count(u.bus) && loads.count(u.customer)));
        for (const auto& u : b.devices.charging_sites) CHECK(buses.count(u.bus));
    }
    const BuiltScenario base = build_scenario(load_scenario(kScenarios + "/melaka_baseline.yaml"));
    const BuiltScenario smart = build_scenario(load_scenario(kScenarios + "/melaka_smart_city.yaml"));
    const BuiltScenario y2030 = build_scenario(load_scenario(kScenarios + "/melaka_2030.yaml"));
    CHECK(base.devices.batteries.empty());
    CHECK(base.devices.buildings.empty());
    CHECK(base.devices.homes.empty());
    CHECK(!smart.devices.batteries.empty());
    CHECK(!smart.devices.buildings.empty());
    CHECK(!smart.devices.homes.empty());
    for (const auto& u : smart.devices.charging_sites) CHECK((u.canopy.kwp_dc > 0 && u.site.battery.capacity_kwh > 0));
    // n: generator gives the generator's bays: one 50 kW DC bay and the rest 22 kW AC, its design peak
    // being 50 + 22 (bays - 1) kW
    std::size_t n_sites = 0;
    for (const Customer& c : smart.customers) {
        if (c.type != CustomerType::ChargingSite) continue;
        ++n_sites;
        double kw = 0;
        int dc = 0;
        for (const auto& u : smart.devices.charging_sites)
            if (u.bus == c.bus) {
                kw += u.site.evs.params.n_chargers * u.site.evs.params.charger_kw;
                if (u.site.evs.params.charger_kw == 50.0) dc += u.site.evs.params.n_chargers;
            }
        CHECK(kw == doctest::Approx(c.peak_kw));
        CHECK(dc == 1);
        CHECK(c.roof_area_m2 > 0);
    }
    CHECK(n_sites >= 1);
    for (const auto& u : base.devices.charging_sites) CHECK((u.canopy.kwp_dc == 0 && u.site.battery.capacity_kwh == 0));
    CHECK(y2030.devices.ev_stations.size() + y2030.devices.homes.size() > smart.devices.ev_stations.size());
    CHECK(y2030.devices.pv.size() > smart.devices.pv.size());
}

TEST_CASE("scenario: 96 steps of melaka_smart_city converge with a closed energy balance") {
    Scenario s = load_scenario(kScenarios + "/melaka_smart_city.yaml");
    override_key(s, "horizon.steps", "96");
    override_key(s, "horizon.start", "\"2025-03-03\"");  // a Monday: ToU peak, EVs, buildings at work
    BuiltScenario b = build_scenario(s);
    REQUIRE(b.options.n_steps == 96);
    REQUIRE(b.unbalanced);  // issue 15: the default model
    Simulation sim = make_simulation(b);
    const SimulationSummary r = sim.run();
    CHECK(r.steps == 96);
    CHECK(r.non_converged_steps == 0);
    CHECK(r.energy_balance_max_error_mw < 1e-6);
    CHECK(r.pv_mwh > 0);
    CHECK(r.load_mwh > 0);
}

TEST_CASE("scenario: errors name file, line and key") {
    SUBCASE("unknown key, with a hint") {
        const ParseError e = parse_error(
            "name: t\n"
            "devices:\n"
            "  pv:\n"
            "    shrae: 0.3\n");
        CHECK(e.file() == "s.yaml");
        CHECK(e.line() == 4);
        CHECK(has(e.what(), "s.yaml:4: key 'devices.pv.shrae': unknown key (did you mean 'share'?)"));
    }
    SUBCASE("unknown top-level key") {
        const ParseError e = parse_error("name: t\nseed: 2\nhorizn: {steps: 4}\n");
        CHECK(e.line() == 3);
        CHECK(has(e.what(), "key 'horizn': unknown key (did you mean 'horizon'?)"));
    }
    SUBCASE("not a number") {
        const ParseError e = parse_error(
            "name: t\n"
            "\n"
            "devices:\n"
            "  pv:\n"
            "    kwp_per_m2: 0.15\n"
            "    share: lots\n");
        CHECK(e.line() == 6);
        CHECK(has(e.what(), "s.yaml:6: key 'devices.pv.share': expected a number in [0, 1], got 'lots'"));
    }
    SUBCASE("share out of range") {
        const ParseError e = parse_error("devices:\n  ev:\n    share: 1.5\n");
        CHECK(e.line() == 3);
        CHECK(has(e.what(), "key 'devices.ev.share': expected a number in [0, 1], got '1.5'"));
    }
    SUBCASE("negative kW") {
        const ParseError e = parse_error("devices:\n  ev:\n    charger_kw: -7\n");
        CHECK(e.line() == 3);
        CHECK(has(e.what(), "key 'devices.ev.charger_kw': expected a number in (0, 22], got '-7'"));
    }
    SUBCASE("unknown enum word lists the allowed ones") {
        const ParseError e = parse_error("network:\n  generator: melaka\n  size: huge\n");
        CHECK(e.line() == 3);
        CHECK(has(e.what(), "key 'network.size': unknown value 'huge'; allowed: small, district, city"));
        const ParseError e2 = parse_error("devices:\n  ev:\n    strategy: uncontroled\n");
        CHECK(e2.line() == 3);
        CHECK(has(e2.what(), "unknown value 'uncontroled' (did you mean 'uncontrolled'?); allowed: uncontrolled, delayed_off_peak"));
    }
    SUBCASE("wrong type") {
        const ParseError e = parse_error("seed: 1\ndevices:\n  battery:\n    share: [0.1, 0.2]\n");
        CHECK(e.line() == 4);
        CHECK(has(e.what(), "key 'devices.battery.share': expected a number in [0, 1], got a list"));
        const ParseError e2 = parse_error("seed: 1\ndevices: 3\n");
        CHECK(e2.line() == 2);
        CHECK(has(e2.what(), "key 'devices': expected a map of keys, got '3'"));
        const ParseError e3 = parse_error("threads: 1.5\n");
        CHECK(e3.line() == 1);
        CHECK(has(e3.what(), "key 'threads': expected an integer in [1, 256], got '1.5'"));
    }
    SUBCASE("inside a list") {
        const ParseError e = parse_error(
            "devices:\n"
            "  ev:\n"
            "    public_sites:\n"
            "      chargers:\n"
            "        - {kind: public_ac, kw: 22, n: 2}\n"
            "        - {kind: dc_fast, kw: 10, n: 1}\n");
        CHECK(e.line() == 6);
        CHECK(has(e.what(), "key 'devices.ev.public_sites.chargers.1.kw': expected a number in [20, 400], got '10'"));
    }
    SUBCASE("duplicate key") {
        const ParseError e = parse_error("seed: 1\nname: a\nseed: 2\n");
        CHECK(e.line() == 3);
        CHECK(has(e.what(), "key 'seed': duplicate key"));
    }
    SUBCASE("exclusive keys") {
        const ParseError e = parse_error("horizon:\n  duration: 7d\n  steps: 96\n");
        CHECK(e.line() == 3);
        CHECK(has(e.what(), "key 'horizon.steps': give either 'duration' or 'steps', not both"));
        const ParseError e2 = parse_error("network:\n  file: x.json\n  size: small\n");
        CHECK(e2.line() == 3);
        CHECK(has(e2.what(), "key 'network.size': belongs to a generated network"));
    }
    SUBCASE("bad times and durations") {
        const ParseError e = parse_error("horizon:\n  start: \"2025-02-30\"\n");
        CHECK(e.line() == 2);
        CHECK(has(e.what(), "key 'horizon.start': expected a date-time"));
        const ParseError e2 = parse_error("horizon:\n  step: 7min\n");
        CHECK(e2.line() == 2);
        CHECK(has(e2.what(), "key 'horizon.step'"));
        const ParseError e3 = parse_error("horizon:\n  step: 1h\n  duration: 90min\n");
        CHECK(e3.line() == 3);
        CHECK(has(e3.what(), "key 'horizon.duration': '90min' is not a whole number of steps of 1h"));
        const ParseError e4 = parse_error("horizon:\n  step: 1h\noutputs:\n  meter_interval: 15min\n");
        CHECK(e4.line() == 4);
        CHECK(has(e4.what(), "key 'outputs.meter_interval': the meter interval (15min) must be a multiple of the step (1h)"));
    }
    SUBCASE("missing file") {
        const ParseError e = parse_error("name: t\nnetwork:\n  file: does_not_exist.json\n");
        CHECK(e.line() == 3);
        CHECK(has(e.what(), "key 'network.file': no such file"));
    }
    SUBCASE("YAML syntax") {
        const ParseError e = parse_error("name: t\n  bad: indentation\nseed: 1\n");
        CHECK(e.line() == 2);
        CHECK(has(e.what(), "s.yaml:2: YAML syntax"));
        const ParseError e2 = parse_error("name: t\nseed: [1\n");
        CHECK(e2.line() == 3);  // yaml-cpp reports an unclosed list where it gave up: the end of the text
        CHECK(has(e2.what(), "YAML syntax"));
    }
    SUBCASE("a file that cannot be opened") {
        CHECK_THROWS_AS(load_scenario(tmp_dir() + "/no_such.yaml"), ParseError);
    }
}

TEST_CASE("scenario: overrides") {
    Scenario s = parse_scenario(std::string(kSmall) + "devices:\n  ev:\n    share: 0.1\n", "s.yaml");
    CHECK(s.seed == 5);
    override_key(s, "seed", "3");
    CHECK(s.seed == 3);
    override_key(s, "horizon.steps", "48");
    CHECK(s.horizon.n_steps == 48);
    override_key(s, "horizon.duration", "2d");  // replaces steps
    CHECK_FALSE(s.horizon.by_steps);
    CHECK(s.horizon.n_steps == 192);
    override_key(s, "network.size", "district");
    CHECK(s.network.size == GridSize::District);
    override_key(s, "devices.ev.share", "0.4");
    CHECK(s.devices.ev.share == 0.4);
    override_key(s, "devices.battery.strategy", "peak_shaving");  // a map that was not in the file
    CHECK(s.devices.battery.strategy == BatteryStrategy::PeakShaving);
    override_key(s, "devices.ev.public_sites.chargers", "[{kind: dc_fast, kw: 120, n: 2}]");
    REQUIRE(s.devices.ev.public_sites.chargers.size() == 1);
    override_key(s, "devices.ev.public_sites.chargers.0.n", "4");
    CHECK(s.devices.ev.public_sites.chargers[0].n == 4);
    CHECK(s.devices.ev.public_sites.chargers[0].kw == 120.0);
    CHECK(s.overrides.size() == 8);

    const Scenario before = s;
    SUBCASE("unknown key") {
        try {
            override_key(s, "devices.ev.shares", "0.5");
            FAIL("no error");
        } catch (const ValidationError& e) {
            CHECK(has(e.what(), "override 'devices.ev.shares'"));
            CHECK(has(e.what(), "unknown key (did you mean 'share'?)"));
        }
        CHECK(s.same_settings(before));
        CHECK(s.overrides.size() == before.overrides.size());
    }
    SUBCASE("unknown section") {
        CHECK_THROWS_WITH_AS(override_key(s, "devics.pv.share", "0.5"), doctest::Contains("override 'devics.pv.share'"), ValidationError);
    }
    SUBCASE("bad value") {
        CHECK_THROWS_WITH_AS(override_key(s, "devices.ev.share", "lots"),
                             doctest::Contains("override 'devices.ev.share': key 'devices.ev.share': expected a number in [0, 1], got 'lots'"),
                             ValidationError);
        CHECK(s.devices.ev.share == 0.4);
    }
    SUBCASE("through a scalar, past a list's end, not YAML") {
        CHECK_THROWS_WITH_AS(override_key(s, "seed.x", "1"), doctest::Contains("'seed' is not a map"), ValidationError);
        CHECK_THROWS_WITH_AS(override_key(s, "devices.ev.public_sites.chargers.3.n", "1"), doctest::Contains("is a list of 1"), ValidationError);
        CHECK_THROWS_AS(override_key(s, "devices.ev.share", "[0.1"), ValidationError);
        CHECK_THROWS_AS(override_key(s, "devices..share", "0.1"), ValidationError);
    }
    SUBCASE("a value that conflicts with another key of the file names both") {
        Scenario m = parse_scenario("horizon: {step: 15min, steps: 8}\noutputs:\n  meter_interval: 15min\n", "m.yaml");
        CHECK_THROWS_WITH_AS(override_key(m, "horizon.step", "1h"),
                             doctest::Contains("override 'horizon.step' = '1h': m.yaml:3: key 'outputs.meter_interval'"), ValidationError);
        CHECK(m.horizon.step_s == 900);
    }
    SUBCASE("network file replaces the generator") {
        override_key(s, "network.file", "\"" + kData + "/cigre/cigre_lv.input.json\"");
        CHECK(s.network.from_file);
        override_key(s, "network.size", "small");
        CHECK_FALSE(s.network.from_file);
    }
}

TEST_CASE("scenario: the effective YAML round-trips") {
    for (const char* f : {"melaka_baseline.yaml", "melaka_smart_city.yaml", "melaka_2030.yaml", "melaka_outage.yaml"}) {
        CAPTURE(f);
        Scenario s = load_scenario(kScenarios + "/" + f);
        override_key(s, "devices.ev.share", "0.25");
        override_key(s, "horizon.steps", "96");
        const std::string y = scenario_to_yaml(s);
        CHECK(has(y, "override devices.ev.share = 0.25"));
        const Scenario r = parse_scenario(y);
        CHECK(r.same_settings(s));
        CHECK(body(scenario_to_yaml(r)) == body(y));
    }
    // non-default values of every kind survive too
    Scenario s = parse_scenario(std::string(kSmall) +
                                "devices:\n"
                                "  pv: {share: 0.123456789, types: [office, terrace_house], control: fixed_pf, pf: -0.9, cap: none}\n"
                                "  buildings:\n"
                                "    share: 1\n"
                                "    mode: demand_response\n"
                                "    dr_events:\n"
                                "      - {start: \"2025-03-03T14:00\", end: \"2025-03-03T16:00\", ac_power_cap_fraction: 0.5}\n"
                                "  ev: {public_sites: {sites: 1, connection_limit_kw: 80.5}}\n"
                                "weather: {seed: 9, temp_max_c: 33}\n"
                                "outputs: {meter_interval: 30min, float32: true}\n",
                                "s.yaml");
    const Scenario r = parse_scenario(scenario_to_yaml(s));
    CHECK(r.same_settings(s));
    CHECK(r.devices.pv.pf == -0.9);
    CHECK(r.devices.buildings.dr_events.size() == 1);
    CHECK(r.devices.buildings.dr_events[0].setpoint_raise_k == 2.0);
    CHECK(r.devices.ev.public_sites.connection_limit_kw == 80.5);
    CHECK(r.weather.has_seed);
}

TEST_CASE("scenario: builds are deterministic in the seed") {
    const std::string text = std::string(kSmall) +
                             "devices:\n"
                             "  pv: {share: 0.4}\n"
                             "  battery: {share: 0.5}\n"
                             "  ev: {share: 0.3, public_sites: {sites: all, pv_kwp: generator, battery_kwh: generator, battery_kw: generator}}\n"
                             "  buildings: {share: 0.5}\n"
                             "  homes: {share: 0.2}\n"
                             "tariff: {tou_adoption: 0.5}\n";
    const Scenario s = parse_scenario(text, "s.yaml");
    const BuiltScenario a = build_scenario(s);
    const BuiltScenario b = build_scenario(s);
    CHECK(a.unbalanced);  // issue 15: the default model: the grid as built, its phases seeded too
    CHECK(a.unet == b.unet);
    CHECK(a.customer_phases == b.customer_phases);
    CHECK(a.customers == b.customers);
    CHECK(fingerprint(a) == fingerprint(b));
    CHECK(!a.devices.pv.empty());
    CHECK(!a.devices.ev_stations.empty());

    Scenario s2 = s;
    override_key(s2, "seed", "6");
    const BuiltScenario c = build_scenario(s2);
    CHECK(fingerprint(c) != fingerprint(a));
    CHECK(a.unet != c.unet);  // the network follows the scenario seed unless network.seed is given
    // same counts per kind (shares), different customers
    CHECK(a.devices.ev_stations.size() + a.devices.homes.size() >= 1);
    std::set<Id> pa, pc;
    for (const auto& u : a.devices.pv) pa.insert(u.id);
    for (const auto& u : c.devices.pv) pc.insert(u.id);
    CHECK(pa != pc);

    // a fixed network seed keeps the network; the devices still move with the scenario seed
    Scenario s3 = s, s4 = s;
    override_key(s3, "network.seed", "11");
    override_key(s4, "network.seed", "11");
    override_key(s4, "seed", "12");
    const BuiltScenario d3 = build_scenario(s3), d4 = build_scenario(s4);
    CHECK(d3.unet == d4.unet);  // the phases too: their seed is the network's
    CHECK(d3.customer_phases == d4.customer_phases);
    CHECK(fingerprint(d3) != fingerprint(d4));
}

TEST_CASE("scenario: penetration shares are respected within rounding, and nested") {
    auto build = [](double pv, double bat, double ev, double bems, double hems, double tou) {
        Scenario s = parse_scenario(kSmall, "s.yaml");
        override_key(s, "devices.pv.share", std::to_string(pv));
        override_key(s, "devices.battery.share", std::to_string(bat));
        override_key(s, "devices.ev.share", std::to_string(ev));
        override_key(s, "devices.buildings.share", std::to_string(bems));
        override_key(s, "devices.homes.share", std::to_string(hems));
        override_key(s, "tariff.tou_adoption", std::to_string(tou));
        return build_scenario(s);
    };
    const BuiltScenario b = build(0.37, 0.5, 0.25, 0.5, 0.2, 0.6);
    const auto& cs = b.customers;
    std::map<CustomerType, std::size_t> eligible_pv, with_pv;
    for (const auto& c : cs)
        if (c.type != CustomerType::ChargingSite && c.roof_area_m2 > 0) ++eligible_pv[c.type];
    std::map<Id, CustomerType> type_of_load;
    for (const auto& c : cs) type_of_load[c.load_id] = c.type;
    std::set<Id> pv_customers;
    for (const auto& u : b.devices.pv) ++with_pv[type_of_load.at(u.customer)], pv_customers.insert(u.customer);
    for (const auto& u : b.devices.homes)
        if (u.pv.kwp_dc > 0) ++with_pv[type_of_load.at(u.customer)], pv_customers.insert(u.customer);
    for (const auto& [type, n] : eligible_pv) {
        const CustomerType t = type;  // CAPTURE's lambda captures t: a structured binding cannot be captured before C++20 P1091 (clang 14)
        CAPTURE(to_string(t));
        CHECK(std::abs(double(with_pv[t]) - 0.37 * double(n)) <= 0.5);
    }
    // batteries: half of the PV customers (per type, rounded)
    std::size_t bats = b.devices.batteries.size();
    for (const auto& u : b.devices.homes) bats += u.home.battery.capacity_kwh > 0;
    CHECK(std::abs(double(bats) - 0.5 * double(pv_customers.size())) <= double(with_pv.size()) * 0.5);
    for (const auto& u : b.devices.batteries) CHECK(pv_customers.count(u.customer));
    // EVs: a quarter of the terrace houses (counted without HEMS homes, whose EV is inside the home)
    const std::size_t houses = count_type(cs, CustomerType::TerraceHouse);
    const BuiltScenario no_hems = build(0.37, 0.5, 0.25, 0.5, 0.0, 0.6);
    CHECK(std::abs(double(no_hems.devices.ev_stations.size()) - 0.25 * double(houses)) <= 0.5);
    for (const auto& u : no_hems.devices.ev_stations) CHECK(type_of_load.at(u.customer) == CustomerType::TerraceHouse);
    // HEMS homes: a fifth of the houses; BEMS: half of the offices, malls and hotels (per type)
    CHECK(std::abs(double(b.devices.homes.size()) - 0.2 * double(houses)) <= 0.5);
    std::size_t bems_eligible = 0;
    for (CustomerType t : {CustomerType::Office, CustomerType::Mall, CustomerType::Hotel}) bems_eligible += count_type(cs, t);
    CHECK(std::abs(double(b.devices.buildings.size()) - 0.5 * double(bems_eligible)) <= 1.5);
    // ToU: 60 % of the houses, HEMS homes first
    std::size_t tou = 0;
    std::set<Id> tou_loads;
    for (const auto& t : b.devices.tariffs)
        if (t.tariff.kind == TariffKind::DomesticToU) ++tou, tou_loads.insert(t.customer);
    CHECK(std::abs(double(tou) - 0.6 * double(houses)) <= 0.5);
    for (const auto& u : b.devices.homes) CHECK(tou_loads.count(u.customer));
    // non-domestic customers are on the non-domestic LV tariff
    for (const auto& t : b.devices.tariffs)
        if (type_of_load.at(t.customer) != CustomerType::TerraceHouse) CHECK(t.tariff.kind == TariffKind::NonDomesticLV);

    // nested: a larger PV share keeps every PV customer of a smaller one
    const BuiltScenario big = build(0.8, 0.5, 0.25, 0.5, 0.2, 0.6);
    std::set<Id> big_pv;
    for (const auto& u : big.devices.pv) big_pv.insert(u.customer);
    for (const auto& u : big.devices.homes)
        if (u.pv.kwp_dc > 0) big_pv.insert(u.customer);
    for (Id c : pv_customers) CHECK(big_pv.count(c));
    CHECK(big_pv.size() > pv_customers.size());

    // zero shares: no devices at all
    const BuiltScenario none = build(0, 0, 0, 0, 0, 0);
    CHECK(none.devices.pv.empty());
    CHECK(none.devices.batteries.empty());
    CHECK(none.devices.ev_stations.empty());
    CHECK(none.devices.buildings.empty());
    CHECK(none.devices.homes.empty());
}

TEST_CASE("scenario: PV sizes follow roof area and the Solar ATAP caps") {
    Scenario s = parse_scenario(std::string(kSmall) + "devices:\n  pv: {share: 1, kwp_per_m2: 0.2, dc_ac_ratio: 1.25}\n", "s.yaml");
    const BuiltScenario b = build_scenario(s);
    std::map<Id, const Customer*> by_load;
    for (const auto& c : b.customers) by_load[c.load_id] = &c;
    REQUIRE(!b.devices.pv.empty());
    bool some_capped = false;
    for (const auto& u : b.devices.pv) {
        const Customer& c = *by_load.at(u.customer);
        const double cap = c.type == CustomerType::TerraceHouse ? (c.phases == 1 ? 5.0 : 15.0) : std::min(c.peak_kw, 1000.0);
        CHECK(u.params.inverter_kva <= cap + 1e-12);
        CHECK(u.params.kwp_dc == doctest::Approx(std::min(c.roof_area_m2 * 0.2, cap * 1.25)));
        CHECK(u.params.kwp_dc / u.params.inverter_kva == doctest::Approx(1.25));
        some_capped = some_capped || c.roof_area_m2 * 0.2 > cap * 1.25;
        CHECK(u.bus == c.bus);
    }
    CHECK(some_capped);  // terrace houses: 70-110 m2 x 0.2 = 14-22 kWp against 5 kW x 1.25
    override_key(s, "devices.pv.cap", "none");
    for (const auto& u : build_scenario(s).devices.pv) CHECK(u.params.kwp_dc == doctest::Approx(by_load.at(u.customer)->roof_area_m2 * 0.2));
}

TEST_CASE("scenario: a network from a file (CIGRE LV), public sites on given buses, weather from CSV") {
    const std::string dir = tmp_dir();
    // hourly weather for two days (interval means)
    {
        std::ofstream w(dir + "/weather.csv");
        w << "time,ghi_wm2,temp_c\n";
        for (int h = 0; h < 48; ++h) {
            const int hr = h % 24;
            const double ghi = (hr >= 7 && hr < 19) ? 800.0 * std::sin(M_PI * (hr + 0.5 - 7) / 12.0) : 0.0;
            w << "2025-03-0" << (3 + h / 24) << "T" << (hr < 10 ? "0" : "") << hr << ":00," << ghi << "," << 27 + 4 * std::sin(M_PI * hr / 24.0) << "\n";
        }
    }
    const std::string net_file = std::filesystem::relative(kData + "/cigre/cigre_lv.input.json", dir).string();
    const std::string text = "name: cigre\n"
                             "seed: 2\n"
                             "network:\n"
                             "  file: " + net_file + "\n"
                             "  load_factor: 0.4\n"
                             "horizon: {start: \"2025-03-03\", step: 15min, duration: 1d}\n"
                             "weather: {file: weather.csv}\n"
                             "devices:\n"
                             "  pv: {share: 0.5}\n"
                             "  ev:\n"
                             "    share: 0.5\n"
                             "    public_sites: {buses: [BUS], pv_kwp: 30, battery_kwh: 60, battery_kw: 30}\n";
    const Network probe = read_network(kData + "/cigre/cigre_lv.input.json");
    REQUIRE(probe.buses.size() > 2);
    const Id site_bus = probe.buses[2].id;
    std::string t = text;
    t.replace(t.find("BUS"), 3, std::to_string(site_bus));
    const std::string path = dir + "/cigre.yaml";
    std::ofstream(path) << t;
    const Scenario s = load_scenario(path);
    CHECK(s.network.from_file);
    CHECK(s.network.file_path == std::filesystem::path(kData + "/cigre/cigre_lv.input.json").lexically_normal().string());
    const BuiltScenario b = build_scenario(s);
    REQUIRE(b.customers.size() == b.net.loads.size());
    for (std::size_t i = 0; i < b.customers.size(); ++i) {
        CHECK(b.customers[i].load_id == b.net.loads[i].id);
        CHECK(b.customers[i].daily_kwh == doctest::Approx(b.net.loads[i].p_mw * 1000 * 24 * 0.4));
    }
    CHECK(b.devices.load_profiles.size() == b.net.loads.size());
    CHECK(b.devices.charging_sites.size() == 2);  // one unit per charger kind
    double pv = 0;
    for (const auto& u : b.devices.charging_sites) {
        CHECK(u.bus == site_bus);
        pv += u.canopy.kwp_dc;
    }
    CHECK(pv == doctest::Approx(30.0));
    REQUIRE(b.weather);
    CHECK(b.options.weather_series == b.weather.get());
    REQUIRE(b.weather->size() == 96);
    // 15-minute means of hourly interval means: each hour's value held
    CHECK(b.weather->ghi_wm2[4 * 12] == doctest::Approx(800.0 * std::sin(M_PI * 5.5 / 12.0)));
    CHECK(b.weather->ghi_wm2[4 * 12 + 3] == doctest::Approx(800.0 * std::sin(M_PI * 5.5 / 12.0)));
    CHECK(b.weather->ghi_wm2[0] == 0.0);
    CHECK(b.weather->dni_wm2[48] > 0);
    // copies keep a valid weather pointer
    const BuiltScenario copy = b;
    CHECK(copy.options.weather_series == copy.weather.get());
    Simulation sim(b.net, b.devices, b.options);
    const SimulationSummary r = sim.run();
    CHECK(r.non_converged_steps == 0);
    CHECK(r.energy_balance_max_error_mw < 1e-6);

    // a bus that does not exist is named
    Scenario bad = s;
    override_key(bad, "devices.ev.public_sites.buses", "[999999]");
    CHECK_THROWS_WITH_AS(build_scenario(bad), doctest::Contains("key 'devices.ev.public_sites.buses.0': no bus with id 999999"), ValidationError);
    // file networks have no sites of their own
    CHECK_THROWS_WITH_AS(parse_scenario("network: {file: " + net_file + "}\ndevices: {ev: {public_sites: {sites: all}}}\n", dir + "/x.yaml"),
                         doctest::Contains("x.yaml:2: key 'devices.ev.public_sites.sites'"), ParseError);
    // more generator sites than the grid has
    Scenario many = parse_scenario(std::string(kSmall) + "devices: {ev: {public_sites: {sites: 500}}}\n", "s.yaml");
    CHECK_THROWS_WITH_AS(build_scenario(many), doctest::Contains("key 'devices.ev.public_sites.sites': 500 sites asked"), ValidationError);
}

TEST_CASE("scenario: the example of docs/scenarios.md parses and builds") {
    std::ifstream in(kScenarios + "/../docs/scenarios.md");
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string md = ss.str();
    const std::size_t a = md.rfind("```yaml\n");
    REQUIRE(a != std::string::npos);
    const std::size_t b = md.find("```", a + 8);
    REQUIRE(b != std::string::npos);
    Scenario s = parse_scenario(md.substr(a + 8, b - a - 8), "example.yaml");
    CHECK(s.name == "my_study");
    CHECK(s.network.size == GridSize::District);
    CHECK(s.horizon.n_steps == 4 * 7 * 96);
    CHECK(s.devices.buildings.dr_events.size() == 1);
    override_key(s, "network.size", "small");
    const BuiltScenario built = build_scenario(s);
    CHECK(!built.devices.pv.empty());
    CHECK(built.options.meter_interval_s == 1800);
    CHECK(built.options.h5.float32);
    for (const auto& u : built.devices.buildings) CHECK(u.params.dr_events.size() == 1);
}

// Issue 19: the place is a scenario input (key `site`), Melaka's by default.
TEST_CASE("scenario: site keys set the sun, the clock and the holidays; defaults are Melaka's") {
    const auto noon_step = [](const BuiltScenario& b) {  // the step of the highest sun on the first day
        REQUIRE(b.weather != nullptr);
        std::size_t best = 0;
        for (std::size_t k = 0; k < 96; ++k)
            if (b.weather->zenith_deg[k] < b.weather->zenith_deg[best]) best = k;
        return best;
    };
    const std::string base = std::string(kSmall) + "weather: {seed: 3}\n";
    const BuiltScenario melaka = build_scenario(parse_scenario(base, "s.yaml"));
    CHECK(melaka.options.weather.latitude_deg == kMelakaLatitudeDeg);
    CHECK(melaka.options.weather.utc_offset_h == kMelakaUtcOffsetH);
    CHECK(static_cast<bool>(melaka.options.holidays));
    CHECK(melaka.options.holidays(from_civil(2025, 8, 31)));  // Merdeka day

    SUBCASE("15 degrees further east on the same clock: the sun culminates an hour earlier") {
        const Scenario s = parse_scenario(base + "site: {longitude_deg: 117.25, latitude_deg: 2.19}\n", "s.yaml");
        const BuiltScenario east = build_scenario(s);
        CHECK(east.options.weather.longitude_deg == 117.25);
        const long shift = long(noon_step(melaka)) - long(noon_step(east));
        CHECK(shift >= 3);  // 4 steps of 15 min, within one step
        CHECK(shift <= 5);
        // written back only when not Melaka's, and read back the same
        const std::string y = scenario_to_yaml(s);
        CHECK(has(y, "site:"));
        CHECK(parse_scenario(y, "r.yaml").same_settings(s));
        CHECK(!has(scenario_to_yaml(parse_scenario(base, "s.yaml")), "site:"));
    }
    SUBCASE("a time with a zone is converted to the site's clock") {
        const std::string zoned = "name: t\nnetwork: {generator: melaka, size: small}\nhorizon: {start: \"2025-03-03T00:00Z\", steps: 4}\n";
        CHECK(parse_scenario(zoned, "s.yaml").horizon.start == from_civil(2025, 3, 3, 8, 0, 0));
        CHECK(parse_scenario(zoned + "site: {utc_offset_h: 0}\n", "s.yaml").horizon.start == from_civil(2025, 3, 3, 0, 0, 0));
        // also the times read before the horizon's (demand-response events)
        const Scenario dr = parse_scenario(zoned + "site: {utc_offset_h: 0}\ndemand_response:\n  events:\n"
                                           "    - {start: \"2025-03-03T01:00Z\", end: \"2025-03-03T02:00Z\"}\n", "s.yaml");
        REQUIRE(dr.demand_response.size() == 1);
        CHECK(dr.demand_response[0].start == from_civil(2025, 3, 3, 1, 0, 0));
    }
    SUBCASE("holidays: none") {
        const BuiltScenario b = build_scenario(parse_scenario(base + "site: {holidays: none}\n", "s.yaml"));
        CHECK(!static_cast<bool>(b.options.holidays));
    }
    SUBCASE("bad values name the key") {
        CHECK(has(parse_error(base + "site: {latitude_deg: 91}\n").what(), "key 'site.latitude_deg': expected a number in [-90, 90], got '91'"));
        CHECK(has(parse_error(base + "site: {utc_offset_h: 5.3}\n").what(), "key 'site.utc_offset_h': expected whole quarter hours"));
        CHECK(has(parse_error(base + "site: {holidays: kl}\n").what(), "key 'site.holidays'"));
        CHECK(has(parse_error(base + "site: {latitud_deg: 3}\n").what(), "key 'site.latitud_deg': unknown key (did you mean 'latitude_deg'?)"));
    }
}
