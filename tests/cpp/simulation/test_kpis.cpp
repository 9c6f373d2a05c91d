// simulation/kpis.hpp: the KPI catalogue (one boundary, a formula and a place for every KPI), the
// page generated from it (docs/kpis.md), and the balances the definitions promise: the city's
// energy balance closes, the losses' breakdown adds up, the customer-meter KPIs follow their formulas.
#include <doctest/doctest.h>

#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>
#include <libgrid/simulation/kpis.hpp>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

using namespace libgrid;

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// A table cell as tests/tools/kpi_docs.py writes it ('|' escaped).
std::string cell(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '|') out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

TEST_CASE("kpis: every KPI has one boundary, a definition, a formula and a place; names are unique") {
    std::set<std::string> names;
    for (const KpiInfo& k : summary_kpis()) {
        CAPTURE(k.name);
        CHECK(names.insert(k.name).second);
        CHECK(k.boundary != KpiBoundary::Unassigned);
        CHECK(std::string(kpi_boundary_name(k.boundary)) != "unassigned");
        CHECK(std::string(k.definition).size() > 5);
        CHECK(std::string(k.formula).size() > 5);
        CHECK(std::string(k.where).size() > 3);
        const std::string n = k.name;
        if (n.size() > 4 && n.substr(n.size() - 4) == "_mwh") CHECK(std::string(k.unit) == "MWh");
    }
}

TEST_CASE("kpis: docs/kpis.md is generated from the KPI table (tests/tools/kpi_docs.py)") {
    const std::string page = read_text(std::string(LIBGRID_TEST_DATA) + "/../../docs/kpis.md");
    REQUIRE(!page.empty());
    std::size_t rows = 0;
    for (const KpiInfo& k : summary_kpis()) {
        if (!k.in_file) continue;
        ++rows;
        const std::string unit = k.count ? (std::string(k.unit).empty() ? "count" : k.unit) : k.unit;
        const std::string row = "| `" + std::string(k.name) + "` | " + cell(unit) + " | " + cell(k.definition) + " | " + cell(k.formula) +
                                " | " + cell(k.where) + " |";
        CHECK_MESSAGE(page.find(row) != std::string::npos,
                      "docs/kpis.md is stale for " << k.name << ": run PYTHONPATH=build/python /usr/bin/python3 tests/tools/kpi_docs.py docs/kpis.md");
        const std::string section = std::string("<!-- kpis:") + kpi_boundary_name(k.boundary) + " -->";
        const std::size_t at = page.find(row), sec = page.find(section);
        CHECK((sec != std::string::npos && at > sec && page.find("<!-- /kpis -->", sec) > at));
    }
    // no row of a KPI the table no longer has: as many generated rows as KPIs in /summary
    std::size_t found = 0;
    for (std::size_t p = page.find("\n| `"); p != std::string::npos; p = page.find("\n| `", p + 1)) {
        const std::size_t open = page.rfind("<!-- kpis:", p), close = page.rfind("<!-- /kpis -->", p);
        if (open != std::string::npos && (close == std::string::npos || open > close)) ++found;  // inside a generated table
    }
    CHECK(found == rows);
}

TEST_CASE("kpis: the smart city's day closes the city balance, the losses' breakdown and the meter KPIs") {
    Scenario sc = load_scenario(std::string(LIBGRID_SCENARIOS) + "/melaka_smart_city.yaml");
    override_key(sc, "network.model", "balanced");  // issue 15: the balanced model's loss breakdown
    BuiltScenario b = build_scenario(sc);
    b.options.n_steps = 96;
    b.options.start = b.options.start + 180 * 86400;  // a day in June-July: sun, cooling, EVs
    Simulation sim(b.net, b.devices, b.options);
    const SimulationSummary s = sim.run();
    REQUIRE(s.non_converged_steps == 0);
    REQUIRE(s.pv_behind_meter_mwh > 0);
    REQUIRE(s.meter_export_mwh > 0);
    REQUIRE(s.building_mwh > 0);
    REQUIRE(s.ev_charging_mwh > 0);
    const double supply = s.import_mwh - s.export_mwh + s.pv_mwh + s.network_gen_mwh;
    const double demand = s.load_mwh + s.losses_mwh + s.battery_net_charge_mwh;
    CHECK(supply == doctest::Approx(demand).epsilon(1e-9));
    CHECK(s.load_mwh == doctest::Approx(s.load_profiles_mwh + s.ev_charging_mwh + s.building_mwh + s.home_mwh).epsilon(1e-12));
    CHECK(s.losses_mwh ==
          doctest::Approx(s.losses_line_mwh + s.losses_trafo_load_mwh + s.losses_trafo_noload_mwh + s.losses_branch_mwh).epsilon(1e-12));
    CHECK(s.losses_trafo_noload_mwh > 0);
    CHECK(s.losses_trafo_load_mwh > 0);
    // the battery devices: AC in - out = stored change + losses
    CHECK(s.battery_charged_mwh - s.battery_discharged_mwh == doctest::Approx(s.battery_storage_change_mwh + s.battery_losses_mwh).epsilon(1e-9));
    // customer meters: self-consumed PV within the behind-the-meter PV, ratios by their formulas
    CHECK(s.pv_self_consumed_mwh <= s.pv_behind_meter_mwh);
    CHECK(s.pv_self_consumed_mwh >= s.pv_behind_meter_mwh - s.meter_export_mwh - 1e-12);
    CHECK(s.self_consumption == doctest::Approx(s.pv_self_consumed_mwh / s.pv_behind_meter_mwh).epsilon(1e-15));
    CHECK(s.self_sufficiency == doctest::Approx(s.pv_self_consumed_mwh / (s.pv_self_consumed_mwh + s.meter_import_mwh)).epsilon(1e-15));
    CHECK(s.pv_behind_meter_mwh <= s.pv_mwh);
}
