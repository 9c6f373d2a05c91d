// Issue 18: the cost and emission catalogues: the shipped files read, every figure documented
// (a source with a year, or an assumption with a reason), errors named by file:line and figure.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/cost_catalogue.hpp>

#include <string>

using namespace libgrid;

namespace {
const std::string kRoot = std::string(LIBGRID_SCENARIOS) + "/..";
}

TEST_CASE("cost catalogue: the shipped Malaysian catalogue reads, every figure has its provenance") {
    const CostCatalogue c = load_cost_catalogue(kRoot + "/data/costs/malaysia_2024.yaml");
    CHECK(c.currency == "RM");
    CHECK(c.price_year == 2024);
    CHECK(c.value("assets.pv_ground.capex_rm_per_kwp") == 3120.0);
    CHECK(c.figure("assets.pv_ground.capex_rm_per_kwp").source == "pvmag_founder_2024");
    CHECK(c.figure("assets.pv_residential.capex_rm_per_kwp").assumption);
    CHECK(c.value("assets.pv_residential.replacements.0.year") == 12.0);
    CHECK(c.value("assets.battery.utility.capex_rm_per_kwh") == 760.0);
    CHECK(c.has("finance.discount_rate_customer_nominal"));
    const auto missing = c.undocumented();
    std::string list;
    for (const auto& m : missing) list += m + " ";
    INFO("undocumented: " << list);
    CHECK(missing.empty());
    const CostCatalogue e = load_cost_catalogue(kRoot + "/data/emissions/peninsular_malaysia.yaml");
    CHECK(e.undocumented().empty());
    CHECK_FALSE(e.series.empty());
    for (const auto& [name, v] : e.series) {
        INFO(name);
        CHECK(v.size() == 24);  // hourly profiles
    }
}

TEST_CASE("cost catalogue: overrides, and errors naming the file, line and figure") {
    const std::string ok = "currency: RM\nprice_year: 2024\nsources: {a: \"A, 2024\"}\n"
                           "assets:\n  pv:\n    capex_rm_per_kwp: {value: 3000, source: a, year: 2024}\n"
                           "    life: {value: 25, assumption: true, reason: typical}\n    size_kwp: {min: 0, max: 12}\n";
    CostCatalogue c = parse_cost_catalogue(ok, "mine.yaml");
    CHECK(c.value("assets.pv.capex_rm_per_kwp") == 3000.0);
    CHECK(c.value("assets.pv.size_kwp.max") == 12.0);
    CHECK(c.undocumented().empty());
    c.set("assets.pv.capex_rm_per_kwp", 2500.0);
    CHECK(c.value("assets.pv.capex_rm_per_kwp") == 2500.0);
    CHECK(c.figure("assets.pv.capex_rm_per_kwp").source == "override");
    CHECK_THROWS_WITH_AS(c.set("assets.pv.capex_rm_per_kw", 1.0), doctest::Contains("'assets.pv.capex_rm_per_kw'"), IdError);
    CHECK_THROWS_WITH_AS(c.value("assets.wind.capex"), doctest::Contains("mine.yaml: no figure 'assets.wind.capex'"), IdError);
    // a figure without provenance is listed
    CHECK(parse_cost_catalogue("assets: {x: {value: 1}}\n", "f.yaml").undocumented() == std::vector<std::string>{"assets.x"});
    // errors: file:line and the figure
    CHECK_THROWS_WITH_AS(parse_cost_catalogue("sources: {}\nassets:\n  x: {value: abc}\n", "bad.yaml"),
                         doctest::Contains("bad.yaml:3: figure 'assets.x': 'value' must be a finite number"), ParseError);
    CHECK_THROWS_WITH_AS(parse_cost_catalogue("assets:\n  x: {value: 1, source: nowhere, year: 2020}\n", "bad.yaml"),
                         doctest::Contains("bad.yaml:2: figure 'assets.x': source 'nowhere' is not in 'sources'"), ParseError);
    CHECK_THROWS_WITH_AS(parse_cost_catalogue("assets: {x: {value: .nan}}\n", "bad.yaml"), doctest::Contains("finite"), ParseError);
    CHECK_THROWS_WITH_AS(parse_cost_catalogue("a: [1, {b: \n", "bad.yaml"), doctest::Contains("bad.yaml:"), ParseError);
    CHECK_THROWS_WITH_AS(parse_cost_catalogue("- 1\n", "bad.yaml"), doctest::Contains("a catalogue is a mapping"), ParseError);
    std::string deep = "a: ";
    for (int i = 0; i < 40; ++i) deep += "{b: ";
    deep += "1" + std::string(40, '}') + "\n";
    CHECK_THROWS_WITH_AS(parse_cost_catalogue(deep, "deep.yaml"), doctest::Contains("nested deeper"), ParseError);
}
