// Issue 19: the library assumes no place. A network built in code gets no bills, no CO2 and no
// public holidays unless the options ask for them (docs/units.md "Place"); scenarios ask for
// Melaka's (tests/cpp/scenario and the CLI runs).
#include <doctest/doctest.h>

#include "scratch_dir.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/simulation/engine.hpp>
#include <libgrid/simulation/tariff.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

Network cigre() { return read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json"); }

SimulationOptions one_day(LocalTime start, const std::string& file) {
    SimulationOptions o;
    o.start = start;
    o.step_s = 900;
    o.n_steps = 96;
    o.output_path = libgrid_test::scratch_path(file);
    return o;
}

}  // namespace

TEST_CASE("place: a network built in code is neither billed nor given CO2 unless asked") {
    const Network net = cigre();
    SimulationOptions opt = one_day(from_civil(2025, 3, 3), "place_none.h5");
    Simulation sim(net, DeviceSet{}, opt);
    const SimulationSummary s = sim.run();
    CHECK(s.import_mwh > 0.0);
    CHECK(std::isnan(s.bills_rm));
    CHECK(std::isnan(s.co2_t));
    CHECK(std::isnan(s.co2_avoided_export_t));
    CHECK(sim.bills().empty());
    CHECK(sim.bill_customers().empty());
    const ResultsReader r(opt.output_path);
    CHECK_FALSE(r.exists("/bill"));
    CHECK(r.exists("/meter/import_kwh"));  // metered all the same
    CHECK(std::isnan(r.read_scalar("/summary/co2_t")));
    CHECK(r.attribute("/summary/co2_t", "factor") == "none (not computed)");

    // asked for: the same run with a factor and a default tariff
    opt.output_path = libgrid_test::scratch_path("place_asked.h5");
    opt.emission = EmissionFactor{};
    opt.emission->t_per_mwh = 0.5;
    opt.default_tariff = Tariff::tnb_domestic_general();
    Simulation asked(net, DeviceSet{}, opt);
    const SimulationSummary a = asked.run();
    CHECK(a.co2_t == doctest::Approx(0.5 * a.import_mwh).epsilon(1e-12));  // constant factor, import only
    CHECK(a.bills_rm > 0.0);
    CHECK(asked.bill_customers().size() == net.loads.size());
    CHECK(ResultsReader(opt.output_path).read_strings("/bill/tariff").at(0) == "domestic_general");
}

TEST_CASE("place: with no default tariff only the customers with their own tariff are billed") {
    const Network net = cigre();
    REQUIRE(net.loads.size() >= 2);
    SimulationOptions opt = one_day(from_civil(2025, 3, 3), "place_one_customer.h5");
    DeviceSet dev;
    dev.tariffs.push_back(CustomerTariff{net.loads[1].id, Tariff::tnb_non_domestic_lv(), ExportScheme::None});
    Simulation sim(net, dev, opt);
    const SimulationSummary s = sim.run();
    REQUIRE(sim.bills().size() == net.loads.size());
    CHECK(sim.bills()[0].empty());
    REQUIRE(sim.bills()[1].size() == 1);
    CHECK(s.bills_rm == sim.bills()[1][0].total_rm);
    const ResultsReader r(opt.output_path);
    const std::vector<std::string> tariffs = r.read_strings("/bill/tariff");
    CHECK(tariffs.at(0) == "none");
    CHECK(tariffs.at(1) == "non_domestic_lv");
    const std::vector<double> total = r.read_vector("/bill/total_rm");  // one month x loads
    REQUIRE(total.size() == net.loads.size());
    CHECK(std::isnan(total[0]));
    CHECK(total[1] == doctest::Approx(sim.bills()[1][0].total_rm).epsilon(1e-6));  // float32 in the file
}

TEST_CASE("place: public holidays are an option (Labour Day 2025 is off-peak only with Melaka's calendar)") {
    const Network net = cigre();
    const LocalTime labour_day = from_civil(2025, 5, 1);  // a Thursday
    REQUIRE(is_public_holiday(labour_day));
    DeviceSet dev;
    for (const Load& l : net.loads) dev.tariffs.push_back(CustomerTariff{l.id, Tariff::tnb_domestic_tou(), ExportScheme::None});
    SimulationOptions opt = one_day(labour_day, "place_no_holidays.h5");
    Simulation plain(net, dev, opt);
    plain.run();
    opt.output_path = libgrid_test::scratch_path("place_melaka_holidays.h5");
    opt.holidays = [](std::int64_t t) { return is_public_holiday(t); };
    Simulation melaka(net, dev, opt);
    melaka.run();
    // 14:00-22:00 on a Thursday: peak without holidays, off-peak on Melaka's Labour Day
    CHECK(plain.bills()[0][0].peak_kwh > 0.0);
    CHECK(melaka.bills()[0][0].peak_kwh == 0.0);
    CHECK(melaka.bills()[0][0].import_kwh == plain.bills()[0][0].import_kwh);
    CHECK(melaka.bills()[0][0].total_rm < plain.bills()[0][0].total_rm);
}

TEST_CASE("place: an unusable default tariff or emission factor is named") {
    const Network net = cigre();
    SimulationOptions opt = one_day(from_civil(2025, 3, 3), "");
    opt.output_path.clear();
    opt.default_tariff = Tariff::tnb_domestic_general();
    opt.default_tariff->energy_sen_per_kwh = std::nan("");
    CHECK_THROWS_WITH_AS(Simulation(net, DeviceSet{}, opt).run(), doctest::Contains("field 'default_tariff': Tariff 'TNB domestic general (July 2025)': field 'energy_sen_per_kwh'"), ValidationError);
    opt.default_tariff.reset();
    opt.emission = EmissionFactor{};
    opt.emission->t_per_mwh = -1.0;
    CHECK_THROWS_WITH_AS(Simulation(net, DeviceSet{}, opt).run(), doctest::Contains("field 'emission'"), ValidationError);
}
