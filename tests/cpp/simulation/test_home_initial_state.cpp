// HEMS homes and BEMS buildings start a run at their setpoint (inside the comfort band), not at 27 C:
// a 4-step run counts no discomfort when the air-conditioning can hold the band (it used to count
// ~3 K h in any run, short or long, from the first hours' pull-down).
#include <doctest/doctest.h>

#include <libgrid/io/case_json.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/simulation/engine.hpp>

#include <string>

using namespace libgrid;

TEST_CASE("hems: a short run from midnight has no discomfort when the AC holds the band") {
    const Network net = read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json");
    for (std::size_t steps : {std::size_t(4), std::size_t(96)}) {
        SimulationOptions opt;
        opt.start = from_civil(2025, 7, 7);  // a Monday, 00:00: the bedrooms are air-conditioned
        opt.n_steps = steps;
        DeviceSet d;
        for (int i = 0; i < 3; ++i) {
            HomeUnit h;
            h.id = 700 + i;
            h.bus = net.loads[std::size_t(i)].bus;
            h.customer = net.loads[std::size_t(i)].id;
            h.home.id = h.id;
            h.home.building = building_preset(BuildingType::TerraceHouse);
            h.home.ev.params.id = h.id;
            h.pv.kwp_dc = 0.0;
            d.homes.push_back(h);
        }
        BuildingUnit b;
        b.id = 600;
        b.bus = net.loads[5].bus;
        b.customer = net.loads[5].id;
        b.params = building_preset(BuildingType::Office, 500.0);
        d.buildings.push_back(b);
        Simulation sim(net, d, opt);
        const SimulationSummary s = sim.run();
        CAPTURE(steps);
        CHECK(s.home_comfort_degree_hours < 0.05);
        CHECK(s.building_comfort_degree_hours < 0.05);
    }
}
