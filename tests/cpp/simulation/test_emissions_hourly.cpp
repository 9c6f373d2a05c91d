// Issue 18: hourly emission factors (average and marginal) and the avoided emissions of exports.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/emissions.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace libgrid;

TEST_CASE("emissions: an hourly profile by local hour and day type; validation names the field") {
    EmissionFactor f;
    for (int h = 0; h < 24; ++h) {
        f.hourly_weekday.push_back(0.5 + 0.01 * h);
        f.hourly_weekend.push_back(0.9);
    }
    validate(f);
    const std::int64_t day = from_civil(2025, 6, 9);  // local midnight
    CHECK(f.at(day + 13 * 3600 + 1800, true) == 0.5 + 0.01 * 13);
    CHECK(f.at(day + 23 * 3600 + 3599, true) == 0.5 + 0.01 * 23);
    CHECK(f.at(day + 7 * 3600, false) == 0.9);
    CHECK(f.describe() == "an hourly profile (weekday / weekend)");
    f.name = "hourly 'x'";
    CHECK(f.describe() == "hourly 'x'");
    EmissionFactor c;
    CHECK(c.describe() == "constant 0.78 t/MWh");
    CHECK(c.at(day, false) == 0.78);  // no profile: the constant, whatever the day
    f.hourly_weekend.pop_back();
    CHECK_THROWS_WITH_AS(validate(f), doctest::Contains("24 values"), ValidationError);
    f.hourly_weekend.push_back(NAN);
    CHECK_THROWS_WITH_AS(validate(f), doctest::Contains("hourly_weekend[23]"), ValidationError);
}

TEST_CASE("emissions: the scenario key emissions reads the catalogue's profiles; errors name the key") {
    const std::string dir = std::string(LIBGRID_SCENARIOS);
    const std::string head = "name: e\nnetwork: {size: small}\nhorizon: {start: 2025-06-09, duration: 1h}\n";
    Scenario s = parse_scenario(head + "emissions: {file: ../data/emissions/peninsular_malaysia.yaml, average: average, marginal: marginal}\n",
                                dir + "/e.yaml");
    CHECK(s.emissions.average == "average");
    CHECK(s.emissions.marginal == "marginal");
    // written back and read again: the same
    CHECK(parse_scenario(scenario_to_yaml(s), dir + "/e2.yaml").emissions == s.emissions);
    CHECK_THROWS_WITH_AS(parse_scenario(head + "emissions: {file: ../data/emissions/peninsular_malaysia.yaml, average: nope}\n", dir + "/e.yaml"),
                         doctest::Contains("emissions.average"), ParseError);
    CHECK_THROWS_WITH_AS(parse_scenario(head + "emissions: {file: nowhere.yaml, average: average}\n", dir + "/e.yaml"),
                         doctest::Contains("emissions.file"), ParseError);
    CHECK_THROWS_WITH_AS(parse_scenario(head + "emissions: {average: average}\n", dir + "/e.yaml"), doctest::Contains("emissions.file"),
                         ParseError);
}
