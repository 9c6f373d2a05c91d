// Scenario builders: one per device kind in a fixed order; the build on a given grid equals the
// one-call build; customers are found by id, so non-contiguous customer ids work (issue 11, finding 5).
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/scenario.hpp>

#include <map>
#include <set>
#include <string>

using namespace libgrid;

namespace {

Scenario smart_city(int steps) {
    Scenario s = load_scenario(std::string(LIBGRID_SCENARIOS) + "/melaka_smart_city.yaml");
    override_key(s, "horizon.steps", std::to_string(steps));
    return s;
}

}  // namespace

TEST_CASE("scenario builders: registered by kind, run in a fixed order") {
    const std::vector<std::string> kinds = scenario_builder_kinds();
    CHECK(kinds == std::vector<std::string>{"load_profiles", "selections", "homes", "pv", "battery", "ev_home", "buildings",
                                            "ev_public_sites", "tariffs", "options", "events"});
}

TEST_CASE("scenario builders: build_scenario(s) = build_scenario(s, scenario_grid(s))") {
    const Scenario s = smart_city(8);
    const BuiltScenario a = build_scenario(s);
    const BuiltScenario b = build_scenario(s, scenario_grid(s));
    CHECK(a.net == b.net);
    CHECK(a.customers == b.customers);
    CHECK(a.devices.pv.size() == b.devices.pv.size());
    CHECK(a.devices.homes.size() == b.devices.homes.size());
    CHECK(a.devices.charging_sites.size() == b.devices.charging_sites.size());
    CHECK(a.options.scenario_text == b.options.scenario_text);
    REQUIRE(a.devices.tariffs.size() == b.devices.tariffs.size());
    for (std::size_t i = 0; i < a.devices.tariffs.size(); ++i) CHECK(a.devices.tariffs[i].scheme == b.devices.tariffs[i].scheme);
}

TEST_CASE("scenario builders: customer ids that are not 0..n-1 (export schemes follow the PV, sites found by id)") {
    Scenario s = smart_city(4);
    override_key(s, "tariff.export", "nem");
    ScenarioGrid g = scenario_grid(s);
    REQUIRE(g.customers.size() > 10);
    REQUIRE(!g.charging_sites.empty());
    // renumber: 1000, 1007, 1014, ... (and the charging sites' references with them)
    std::map<Id, Id> new_id;
    for (std::size_t i = 0; i < g.customers.size(); ++i) {
        new_id[g.customers[i].id] = Id(1000 + 7 * i);
        g.customers[i].id = Id(1000 + 7 * i);
    }
    for (Id& c : g.charging_sites) c = new_id.at(c);
    const std::size_t n = g.customers.size();
    const BuiltScenario b = build_scenario(s, std::move(g));

    // every customer with PV (own unit or a HEMS home's) exports under the scheme, nobody else does
    std::set<Id> pv_loads;
    std::map<Id, Id> load_of;  // customer id -> load id
    for (const Customer& c : b.customers) load_of[c.id] = c.load_id;
    for (const PvUnit& u : b.devices.pv) pv_loads.insert(load_of.at(u.id));
    for (const HomeUnit& u : b.devices.homes)
        if (u.pv.kwp_dc > 0) pv_loads.insert(load_of.at(u.id));
    REQUIRE(pv_loads.size() > 3);
    REQUIRE(b.devices.tariffs.size() == n);
    std::size_t exporting = 0;
    for (const CustomerTariff& t : b.devices.tariffs) {
        CAPTURE(t.customer);
        CHECK((t.scheme == ExportScheme::NEM) == (pv_loads.count(t.customer) == 1));
        exporting += t.scheme == ExportScheme::NEM;
    }
    CHECK(exporting == pv_loads.size());
    // the public sites sit at their customers' buses, and their unit ids come from the new ids
    REQUIRE(!b.devices.charging_sites.empty());
    std::set<Id> site_buses;
    for (const Customer& c : b.customers)
        if (c.type == CustomerType::ChargingSite) site_buses.insert(c.bus);
    for (const ChargingSiteUnit& u : b.devices.charging_sites) {
        CHECK(site_buses.count(u.bus) == 1);
        CHECK(u.id >= 10000);
    }
}

TEST_CASE("scenario builders: two customers with one id are refused") {
    const Scenario s = smart_city(4);
    ScenarioGrid g = scenario_grid(s);
    g.customers[1].id = g.customers[0].id;
    CHECK_THROWS_WITH_AS(build_scenario(s, std::move(g)), doctest::Contains("two customers with id"), ValidationError);
}
