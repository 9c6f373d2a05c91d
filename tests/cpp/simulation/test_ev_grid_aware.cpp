// grid_aware charging on a small grid: CIGRE LV's 150 kVA industrial transformer feeds six 11 kW home
// chargers whose cars all plug in at 17:00. The aggregator holds the transformer's recorded loading
// at its limit at every step (uncontrolled charging does not), every session's energy is accounted
// for (delivered + not delivered + pending = wanted), and the run's energy balance closes.
#include <doctest/doctest.h>

#include "scratch_dir.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/simulation/engine.hpp>

#include <algorithm>
#include <string>

using namespace libgrid;

namespace {

struct Outcome {
    SimulationSummary sum;
    double max_loading_percent = 0.0;   ///< the industrial transformer, over the run
    double worst_session_error_kwh = 0.0;
    double ev_grid_mwh = 0.0;           ///< from the /ev series
};

Outcome run(EvStrategy strategy, double grid_limit, const std::string& file) {
    const Network net = read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json");
    SimulationOptions opt;
    opt.start = from_civil(2025, 6, 2);  // a Monday
    opt.n_steps = 96 * 2;
    opt.output_path = libgrid_test::scratch_path(file);
    DeviceSet d;
    const Transformer& t = net.transformers.at(1);  // "Trafo I0-I1", 150 kVA
    REQUIRE(t.sn_mva == doctest::Approx(0.15));
    for (int i = 0; i < 6; ++i) {
        EvStationUnit u;
        u.id = 100 + i;
        u.bus = t.lv_bus;
        u.station.params.id = u.id;
        u.station.params.charger_kw = 11.0;
        u.station.params.strategy = strategy;
        u.station.params.grid_limit = grid_limit;
        for (int day = 0; day < 2; ++day) {
            EvSession s;
            s.arrival = opt.start + day * 86400 + 17 * 3600 + i * 600;
            s.departure = s.arrival + 14 * 3600 - i * 1800;
            s.energy_kwh = 25.0 + 5.0 * i;
            s.max_kw = 11.0;
            s.battery_kwh = 80.0;
            s.soc_arrival = 0.2;
            u.station.sessions.push_back(s);
        }
        d.ev_stations.push_back(u);
    }
    Outcome o;
    Simulation sim(net, d, opt);
    o.sum = sim.run();
    ResultsReader r(opt.output_path);
    const auto kind = r.read_strings("/branch/kind");
    const auto elem = r.read_int_vector("/branch/element_id");
    const std::size_t nbr = kind.size();
    std::size_t col = nbr;
    for (std::size_t j = 0; j < nbr; ++j)
        if (kind[j] == "trafo" && elem[j] == t.id) col = j;
    REQUIRE(col < nbr);
    const auto loading = r.read_vector("/branch/loading_percent");
    for (std::size_t k = 0; k < opt.n_steps; ++k) o.max_loading_percent = std::max(o.max_loading_percent, loading[k * nbr + col]);
    const auto wanted = r.read_vector("/summary/ev_sessions/energy_kwh");
    const auto got = r.read_vector("/summary/ev_sessions/delivered_kwh");
    const auto unmet = r.read_vector("/summary/ev_sessions/unmet_kwh");
    const auto pending = r.read_vector("/summary/ev_sessions/pending_kwh");
    for (std::size_t i = 0; i < wanted.size(); ++i)
        o.worst_session_error_kwh = std::max(o.worst_session_error_kwh, std::abs(got[i] + unmet[i] + pending[i] - wanted[i]));
    const auto ev = r.read_vector("/ev/p_mw");
    for (double p : ev) o.ev_grid_mwh -= p * double(opt.step_s) / 3600.0;
    return o;
}

}  // namespace

TEST_CASE("grid_aware: the aggregator holds its transformer's limit at every step; energy accounted for") {
    const double limit = 0.8;
    const Outcome unc = run(EvStrategy::Uncontrolled, limit, "ev_grid_unc.h5");
    const Outcome ga = run(EvStrategy::GridAware, limit, "ev_grid_aware.h5");
    // uncontrolled charging pushes the transformer past the limit; grid_aware holds it (the recorded
    // loading is a current, the larger of its two sides, with the LV losses: it runs up to 8 % above the
    // kVA estimate the aggregator works with, docs/devices_ev_building.md 1.5; here 3.3 %)
    CHECK(unc.max_loading_percent > 100.0 * limit + 10.0);
    CHECK(ga.max_loading_percent <= 100.0 * limit * 1.08);
    CHECK(ga.max_loading_percent > 100.0 * limit * 0.9);  // the limit binds: the headroom is used
    for (const Outcome* o : {&unc, &ga}) {
        CHECK(o->sum.non_converged_steps == 0);
        CHECK(o->sum.energy_balance_max_error_mw < 1e-6);
        CHECK(o->worst_session_error_kwh < 1e-9);
        CHECK(o->sum.ev_blocked_mwh == 0.0);
        // energy from the grid = energy into the batteries / efficiency (no V2G here), float32 series
        CHECK(o->ev_grid_mwh == doctest::Approx(o->sum.ev_delivered_mwh / 0.92).epsilon(1e-5));
    }
    // what grid_aware could not give by departure is reported, not lost
    CHECK(ga.sum.ev_delivered_mwh + ga.sum.ev_not_delivered_mwh + ga.sum.ev_pending_mwh ==
          doctest::Approx(unc.sum.ev_delivered_mwh + unc.sum.ev_not_delivered_mwh + unc.sum.ev_pending_mwh).epsilon(1e-12));
}

TEST_CASE("grid_aware: a charger with no transformer above it is refused, naming the station") {
    const Network net = read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json");
    SimulationOptions opt;
    opt.start = from_civil(2025, 6, 2);
    opt.n_steps = 4;
    DeviceSet d;
    EvStationUnit u;
    u.id = 7;
    u.bus = net.ext_grids.at(0).bus;
    u.station.params.id = 7;
    u.station.params.strategy = EvStrategy::GridAware;
    d.ev_stations.push_back(u);
    Simulation sim(net, d, opt);
    CHECK_THROWS_WITH_AS(sim.run(), doctest::Contains("ev station 7: strategy grid_aware"), ValidationError);
}
