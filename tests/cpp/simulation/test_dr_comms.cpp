// Issue 17 (H2): demand-response events through the communication channel (docs/comms.md "Demand
// response through the channel"): participation from the message's arrival, the baseline rule, the
// KPIs and /dr, perfect and lossy channels, a late message, energy balance, threads, the scenario key.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/dr.hpp>
#include <libgrid/simulation/engine.hpp>

#include <atomic>
#include <cmath>
#include <csignal>
#include <string>
#include <vector>

#include "scratch_dir.hpp"
#include "test_feeders.hpp"

using namespace libgrid;

namespace {

/// CIGRE LV, every customer an office building (BEMS, Fixed mode); Monday 2025-01-06 00:00 for 8
/// days at 15 min; one event on Monday 2025-01-13 14:00-16:00 (5 weekdays before it: the baseline).
struct Case {
    Network net;
    DeviceSet dev;
    SimulationOptions opt;
};
constexpr std::int64_t kEvStart = 7 * 86400 + 14 * 3600, kEvEnd = 7 * 86400 + 16 * 3600;

/// The four runs of a DR case: comms off ("<prefix>_off.h5"), a perfect channel at 2 threads
/// ("_perfect"), every message lost ("_lost"), and no event at all ("_none"); the first three's summaries.
struct ChannelRuns {
    SimulationSummary off, perfect, lost;
};
ChannelRuns channel_runs(const Case& c, const std::string& prefix) {
    ChannelRuns r;
    SimulationOptions o = c.opt;
    o.output_path = libgrid_test::scratch_path(prefix + "_off.h5");
    r.off = Simulation(c.net, c.dev, o).run();
    o.output_path = libgrid_test::scratch_path(prefix + "_perfect.h5");
    o.comms.enabled = true;
    o.comms.plc.packet_loss = 0.0;
    o.comms.plc.latency_median_s = 0.0;
    o.threads = 2;
    r.perfect = Simulation(c.net, c.dev, o).run();
    o.output_path = libgrid_test::scratch_path(prefix + "_lost.h5");
    o.comms.plc.packet_loss = 1.0;  // every message lost
    o.threads = 1;
    r.lost = Simulation(c.net, c.dev, o).run();
    o = c.opt;
    o.demand_response.clear();
    o.output_path = libgrid_test::scratch_path(prefix + "_none.h5");
    Simulation(c.net, c.dev, o).run();
    return r;
}
Case offices(double reduction = 0.5, double notice_s = 3600.0) {
    Case c;
    c.net = read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json");
    Id id = 1;
    for (const Load& l : c.net.loads) {
        BuildingUnit b;
        b.id = id++;
        b.bus = l.bus;
        b.customer = l.id;
        b.params = building_preset(BuildingType::Office, 400.0);
        b.params.id = b.id;
        c.dev.buildings.push_back(b);
    }
    c.opt.start = from_civil(2025, 1, 6);
    c.opt.step_s = 900;
    c.opt.n_steps = 8 * 96;
    c.opt.checkpoint_steps = 0;
    DemandResponseEvent e;
    e.start = c.opt.start + kEvStart;
    e.end = c.opt.start + kEvEnd;
    e.reduction = reduction;
    e.notice_s = notice_s;
    c.opt.demand_response = {e};
    return c;
}

std::vector<double> column(const std::vector<double>& m, std::size_t rows, std::size_t col) {
    const std::size_t cols = m.size() / rows;
    std::vector<double> out(rows);
    for (std::size_t r = 0; r < rows; ++r) out[r] = m[r * cols + col];
    return out;
}

}  // namespace

TEST_CASE("comms dr: the baseline rule on a hand-made series") {
    // 1 h steps, 8 days from a Monday (day 0); weekdays 0-4 and 7, weekend 5-6; event day 7, 10:00-12:00
    const double step = 3600.0;
    std::vector<double> p(8 * 24, 0.0);
    std::vector<char> wd(8 * 24, 0);
    for (std::size_t k = 0; k < p.size(); ++k) {
        const std::size_t day = k / 24;
        wd[k] = (day == 5 || day == 6) ? 0 : 1;
        p[k] = 100.0 + double(day);  // day d: 100 + d kW
        if (day == 5 || day == 6) p[k] = 1000.0;  // weekend: must not enter the weekday baseline
    }
    for (std::size_t k = 7 * 24 + 10; k < 7 * 24 + 12; ++k) p[k] = 60.0;
    DemandResponseEvent e{7 * 86400 + 10 * 3600, 7 * 86400 + 12 * 3600, 0.25, 3600.0, true};
    std::vector<DrMeasurement> m = dr_measure(p, wd, 0, step, {e});
    REQUIRE(m.size() == 1);
    CHECK(m[0].steps == 2);
    CHECK(m[0].baseline_days == 5);                      // days 4, 3, 2, 1, 0 (5, 6 are weekend)
    CHECK(m[0].baseline_kw == doctest::Approx(102.0));   // mean of 104, 103, 102, 101, 100
    CHECK(m[0].actual_kw == doctest::Approx(60.0));
    CHECK(m[0].requested_kw == doctest::Approx(25.5));
    CHECK(m[0].delivered_kw == doctest::Approx(42.0));
    // a day with an event is not a baseline day: an event on day 4 moves the baseline to days 3..0
    DemandResponseEvent e4{4 * 86400 + 20 * 3600, 4 * 86400 + 21 * 3600, 0.25, 0.0, true};
    m = dr_measure(p, wd, 0, step, {e4, e});
    CHECK(m[1].baseline_days == 4);
    CHECK(m[1].baseline_kw == doctest::Approx(101.5));
    // an event on the first day has no baseline: NaN
    DemandResponseEvent e0{10 * 3600, 11 * 3600, 0.25, 0.0, true};
    m = dr_measure(p, wd, 0, step, {e0});
    CHECK(m[0].baseline_days == 0);
    CHECK(std::isnan(m[0].delivered_kw));
}

TEST_CASE("comms dr: participation from the message's arrival") {
    DemandResponseEvent e{10000, 20000, 0.3, 3600.0, true};
    // no comms: arrives when sent
    DrParticipation p = dr_participation(e, nullptr, Receiver::Building, 7, 0);
    CHECK(p.reach == DrReach::InTime);
    CHECK(p.from == 10000);
    CHECK(p.arrival_s == 10000 - 3600);
    CommsOptions o;
    o.enabled = true;
    o.plc.packet_loss = 0.0;
    o.plc.latency_median_s = 0.0;
    CommsContext cx;
    cx.options = &o;
    cx.seed = 5;
    p = dr_participation(e, &cx, Receiver::Building, 7, 0);
    CHECK(p.reach == DrReach::InTime);
    CHECK(p.from == 10000);
    // notice 0, a fixed latency of 1000.5 s: joins from ceil(arrival)
    e.notice_s = 0.0;
    o.plc.latency_median_s = 1000.5;
    o.plc.latency_sigma = 0.0;
    p = dr_participation(e, &cx, Receiver::Building, 7, 0);
    CHECK(p.reach == DrReach::Late);
    CHECK(p.arrival_s == doctest::Approx(11000.5));
    CHECK(p.from == 11001);
    // arriving after the end: never
    o.plc.latency_median_s = 20000.0;
    CHECK(dr_participation(e, &cx, Receiver::Building, 7, 0).reach == DrReach::Never);
    // lost on every attempt: never
    o.plc.latency_median_s = 0.0;
    o.plc.packet_loss = 1.0;
    p = dr_participation(e, &cx, Receiver::Building, 7, 0);
    CHECK(p.reach == DrReach::Never);
    CHECK(p.from == e.end);
    CHECK_THROWS_WITH(validate(std::vector<DemandResponseEvent>{DemandResponseEvent{0, 10, 1.5, 0.0, true}}),
                      doctest::Contains("demand_response.events[0]: field 'reduction'"));
    CHECK_THROWS_WITH(validate(std::vector<DemandResponseEvent>{DemandResponseEvent{0, 10, 0.5, 0.0, true}, DemandResponseEvent{5, 20, 0.5, 0.0, true}}),
                      doctest::Contains("demand_response.events[1]: field 'start'"));
}

TEST_CASE("comms dr: perfect channel = no comms, every building reached, the reduction delivered; balance closes; threads") {
    const std::string a = libgrid_test::scratch_path("dr_off.h5"), b = libgrid_test::scratch_path("dr_perfect.h5"),
                      n = libgrid_test::scratch_path("dr_none.h5");
    Case c = offices();
    SimulationOptions o = c.opt;
    o.output_path = a;
    const SimulationSummary sa = Simulation(c.net, c.dev, o).run();
    o.output_path = b;
    o.comms.enabled = true;
    o.comms.plc.packet_loss = 0.0;
    o.comms.plc.latency_median_s = 0.0;
    o.threads = 2;
    const SimulationSummary sb = Simulation(c.net, c.dev, o).run();
    o = c.opt;
    o.demand_response.clear();
    o.output_path = n;
    const SimulationSummary sn = Simulation(c.net, c.dev, o).run();
    CHECK(sa.dr);
    CHECK_FALSE(sn.dr);
    CHECK(std::isnan(sn.dr_requested_kw));
    CHECK(sa.dr_devices_reached_share == 1.0);
    CHECK(sb.dr_devices_reached_share == 1.0);
    MESSAGE("no comms: requested " << sa.dr_requested_kw << " kW, delivered " << sa.dr_delivered_kw << " kW");
    CHECK(sa.dr_requested_kw > 0.0);
    CHECK(sa.dr_delivered_kw > 0.2 * sa.dr_requested_kw);  // capped at half the AC rating with +2 K: a real cut
    // the perfect channel (at 2 threads) changes nothing the buildings do
    CHECK(sa.dr_requested_kw == sb.dr_requested_kw);
    CHECK(sa.dr_delivered_kw == sb.dr_delivered_kw);
    CHECK(sa.load_mwh == sb.load_mwh);
    CHECK(sa.energy_balance_max_error_mw < 1e-6);
    CHECK(sb.energy_balance_max_error_mw < 1e-6);
    ResultsReader ra(a), rb(b), rn(n);
    CHECK(ra.read_vector("/building/p_mw") == rb.read_vector("/building/p_mw"));
    CHECK_FALSE(rn.exists("/dr"));
    CHECK_FALSE(rn.exists("/summary/dr_delivered_kw"));
    CHECK(ra.read_vector("/dr/devices")[0] == double(c.dev.buildings.size()));
    CHECK(ra.read_vector("/dr/reached_in_time")[0] == double(c.dev.buildings.size()));
    CHECK(ra.read_vector("/dr/baseline_days")[0] == 5.0);
    CHECK(ra.read_vector("/summary/dr_delivered_kw")[0] == sa.dr_delivered_kw);
    // before the event the buildings run as without it; during it they draw less
    const std::size_t steps = c.opt.n_steps, nb = c.dev.buildings.size();
    const std::vector<double> pa = ra.read_vector("/building/p_mw"), pn = rn.read_vector("/building/p_mw");
    const std::size_t k0 = std::size_t(kEvStart / 900), k1 = std::size_t(kEvEnd / 900);
    double during_a = 0.0, during_n = 0.0;
    for (std::size_t u = 0; u < nb; ++u) {
        const std::vector<double> ca = column(pa, steps, u), cn = column(pn, steps, u);
        for (std::size_t k = 0; k < k0; ++k) CHECK(ca[k] == cn[k]);
        for (std::size_t k = k0; k < k1; ++k) {
            during_a -= ca[k];
            during_n -= cn[k];
        }
    }
    CHECK(during_a < during_n);
}

TEST_CASE("comms dr: a lossy, slow channel with no notice: fewer reached, less delivered; a late message joins from its arrival") {
    Case c = offices(0.5, 0.0);
    SimulationOptions o = c.opt;
    const SimulationSummary perfect = Simulation(c.net, c.dev, o).run();
    // 10 % loss, 30 s .. 5 min latency, no retries, no notice: no message is in time
    o.comms.enabled = true;
    o.comms.plc.packet_loss = 0.1;
    o.comms.plc.latency_median_s = 120.0;
    o.comms.plc.latency_sigma = 0.5;
    o.comms.plc.retries = 0;
    o.output_path = libgrid_test::scratch_path("dr_lossy.h5");
    const SimulationSummary lossy = Simulation(c.net, c.dev, o).run();
    MESSAGE("lossy: reached " << lossy.dr_devices_reached_share << ", requested " << lossy.dr_requested_kw << " kW, delivered "
                              << lossy.dr_delivered_kw << " kW (perfect: " << perfect.dr_delivered_kw << " kW)");
    CHECK(perfect.dr_devices_reached_share == 1.0);
    CHECK(lossy.dr_devices_reached_share == 0.0);
    CHECK(lossy.dr_delivered_kw < perfect.dr_delivered_kw);
    CHECK(lossy.energy_balance_max_error_mw < 1e-6);
    {
        ResultsReader r(o.output_path);
        CHECK(r.read_vector("/dr/reached_in_time")[0] == 0.0);
        CHECK(r.read_vector("/dr/reached_late")[0] + r.read_vector("/dr/never")[0] == double(c.dev.buildings.size()));
        CHECK(r.read_vector("/dr/reached_late")[0] > 0.0);
    }
    // every message arrives 30 min after the start (no loss, fixed latency): the buildings run as
    // without the event for the event's first 2 steps, and cut from the third
    o.comms.plc.packet_loss = 0.0;
    o.comms.plc.latency_median_s = 1800.0;
    o.comms.plc.latency_sigma = 0.0;
    o.output_path = libgrid_test::scratch_path("dr_late.h5");
    const SimulationSummary late = Simulation(c.net, c.dev, o).run();
    SimulationOptions on = c.opt;
    on.demand_response.clear();
    on.output_path = libgrid_test::scratch_path("dr_late_none.h5");
    Simulation(c.net, c.dev, on).run();
    CHECK(late.dr_devices_reached_share == 0.0);
    CHECK(late.dr_delivered_kw < perfect.dr_delivered_kw);
    CHECK(late.dr_delivered_kw > 0.0);
    ResultsReader rl(o.output_path), rn(on.output_path);
    const std::vector<double> pl = rl.read_vector("/building/p_mw"), pn = rn.read_vector("/building/p_mw");
    const std::size_t steps = c.opt.n_steps, k0 = std::size_t(kEvStart / 900);
    double after_l = 0.0, after_n = 0.0;
    for (std::size_t u = 0; u < c.dev.buildings.size(); ++u) {
        const std::vector<double> cl = column(pl, steps, u), cn = column(pn, steps, u);
        for (std::size_t k = 0; k < k0 + 2; ++k) CHECK(cl[k] == cn[k]);
        after_l -= cl[k0 + 2] + cl[k0 + 3];
        after_n -= cn[k0 + 2] + cn[k0 + 3];
    }
    CHECK(after_l < after_n);
}

TEST_CASE("comms dr: a run stopped after the event and resumed from its checkpoint measures the same") {
    Case c = offices(0.5, 0.0);
    c.opt.checkpoint_steps = 256;
    c.opt.comms.enabled = true;
    c.opt.comms.plc.packet_loss = 0.1;
    c.opt.comms.plc.retries = 0;
    SimulationOptions o = c.opt;
    o.output_path = libgrid_test::scratch_path("dr_whole.h5");
    const SimulationSummary sw = Simulation(c.net, c.dev, o).run();
    std::atomic<int> stop{0};
    o.output_path = libgrid_test::scratch_path("dr_parts.h5");
    o.stop_requested = &stop;
    SimulationSummary s = Simulation(c.net, c.dev, o).run([&](std::size_t done, std::size_t) {
        if (done == 740) stop.store(SIGINT);  // after the event (steps 728..735), resumed from step 512
    });
    CHECK_FALSE(s.completed);
    {
        ResultsReader rs(o.output_path);  // a stopped run writes /dr too (the event so far); resume replaces it
        CHECK(rs.exists("/dr/delivered_kw"));
    }
    stop.store(0);
    o.resume = true;
    s = Simulation(c.net, c.dev, o).run();
    CHECK(s.completed);
    CHECK(s.resumed_from_step == 512);
    CHECK(s.dr_requested_kw == sw.dr_requested_kw);
    CHECK(s.dr_delivered_kw == sw.dr_delivered_kw);
    CHECK(s.dr_devices_reached_share == sw.dr_devices_reached_share);
    ResultsReader rw(libgrid_test::scratch_path("dr_whole.h5")), rp(o.output_path);
    CHECK(rw.read_vector("/dr/delivered_kw") == rp.read_vector("/dr/delivered_kw"));
    CHECK(rw.read_vector("/dr/never") == rp.read_vector("/dr/never"));
    CHECK(rw.read_vector("/dr/actual_kw") == rp.read_vector("/dr/actual_kw"));
    CHECK(rw.read_vector("/building/p_mw") == rp.read_vector("/building/p_mw"));
}

TEST_CASE("comms dr: the scenario key demand_response") {
    const std::string base = "name: t\nnetwork: {size: small}\nhorizon: {steps: 4}\n";
    const Scenario none = parse_scenario(base);
    CHECK(none.demand_response.empty());
    CHECK(scenario_to_yaml(none).find("demand_response") == std::string::npos);
    const Scenario s = parse_scenario(base + "demand_response: {events: [{start: 2025-01-13T14:00, end: 2025-01-13T16:00, reduction: 0.3, "
                                             "notice: 30min, targets: [buildings]}, {start: 2025-01-14T14:00, end: 2025-01-14T15:00}]}\n");
    REQUIRE(s.demand_response.size() == 2);
    CHECK(s.demand_response[0].reduction == 0.3);
    CHECK(s.demand_response[0].notice_s == 1800.0);
    CHECK(s.demand_response[0].end - s.demand_response[0].start == 7200);
    CHECK(s.demand_response[1].notice_s == 3600.0);  // default 1h
    CHECK(s.demand_response[1].reduction == 0.2);    // default
    CHECK(parse_scenario(scenario_to_yaml(s)).same_settings(s));
    CHECK_FALSE(s.same_settings(none));
    CHECK(build_scenario(s).options.demand_response == s.demand_response);
    const Scenario z = parse_scenario(base + "demand_response: {events: [{start: 2025-01-13T14:00, end: 2025-01-13T16:00, notice: 0}]}\n");
    CHECK(z.demand_response[0].notice_s == 0.0);
    CHECK(parse_scenario(scenario_to_yaml(z)).same_settings(z));
    const std::string ev = "demand_response: {events: [{start: 2025-01-13T14:00, end: 2025-01-13T16:00, ";
    CHECK_THROWS_WITH(parse_scenario(base + ev + "reduction: 1.5}]}\n"), doctest::Contains("reduction"));
    CHECK_THROWS_WITH(parse_scenario(base + ev + "notice: soon}]}\n"), doctest::Contains("notice"));
    const Scenario hm = parse_scenario(base + ev + "targets: [homes, chargers, buildings]}]}\n");  // issue 17 (H5)
    CHECK((hm.demand_response[0].homes && hm.demand_response[0].chargers && hm.demand_response[0].buildings));
    CHECK(parse_scenario(scenario_to_yaml(hm)).same_settings(hm));
    const Scenario ch = parse_scenario(base + ev + "targets: [chargers]}]}\n");  // issue 17 (H5)
    CHECK(ch.demand_response[0].chargers);
    CHECK_FALSE(ch.demand_response[0].buildings);
    CHECK(parse_scenario(scenario_to_yaml(ch)).same_settings(ch));
    CHECK(parse_scenario(base + ev + "reduction: 0.3}]}\n").demand_response[0].buildings);  // default: buildings only
    CHECK_FALSE(parse_scenario(base + ev + "reduction: 0.3}]}\n").demand_response[0].chargers);
    CHECK_THROWS_WITH(parse_scenario(base + ev + "targets: [boats]}]}\n"), doctest::Contains("unknown target 'boats'"));
    CHECK_THROWS_WITH(parse_scenario(base + ev + "reduktion: 0.3}]}\n"), doctest::Contains("reduction"));
    CHECK_THROWS_WITH(parse_scenario(base + "demand_response: {events: [{start: 2025-01-13T14:00, end: 2025-01-13T12:00}]}\n"),
                      doctest::Contains("end"));
}

// ---- issue 17 (H5): chargers (EV stations) through the channel ----
namespace {

/// The offices case plus one 7 kW EV station (uncontrolled) at every customer: every day a car
/// arrives 13:00, leaves 23:00, wants 40 kWh: it charges at the full 7 kW from 13:00 to about 19:00,
/// so over the event (14:00-16:00) the baseline is 7 kW per station. The event targets chargers only.
Case chargers(double reduction = 0.5, double notice_s = 3600.0) {
    Case c = offices(reduction, notice_s);
    Id id = 1000;
    for (const Load& l : c.net.loads) {
        EvStationUnit u;
        u.id = id++;
        u.bus = l.bus;
        u.customer = l.id;
        u.station.params.id = u.id;
        u.station.params.n_chargers = 1;
        u.station.params.charger_kw = 7.0;
        u.station.params.strategy = EvStrategy::Uncontrolled;
        u.station.sessions = libgrid_test::daily_afternoon_sessions(c.opt.start, 8);
        c.dev.ev_stations.push_back(u);
    }
    c.opt.demand_response[0].buildings = false;
    c.opt.demand_response[0].chargers = true;
    return c;
}

}  // namespace

TEST_CASE("comms dr: chargers (EV stations) capped at (1 - reduction) x rated during the event; perfect = off; a lost message: no cut") {
    Case c = chargers();
    const std::size_t steps = c.opt.n_steps, ns = c.dev.ev_stations.size();
    const std::size_t k0 = std::size_t(kEvStart / 900), k1 = std::size_t(kEvEnd / 900);
    const auto [off, perfect, lost] = channel_runs(c, "drc");
    MESSAGE("chargers: requested " << off.dr_requested_kw << " kW, delivered " << off.dr_delivered_kw << " kW; lost: delivered "
                                   << lost.dr_delivered_kw << " kW");
    // perfect channel (2 threads) = comms off (1 thread), bit for bit
    CHECK(off.dr_requested_kw == perfect.dr_requested_kw);
    CHECK(off.dr_delivered_kw == perfect.dr_delivered_kw);
    CHECK(off.load_mwh == perfect.load_mwh);
    CHECK(off.dr_devices_reached_share == 1.0);
    CHECK(lost.dr_devices_reached_share == 0.0);
    for (const SimulationSummary* s : {&off, &perfect, &lost}) CHECK(s->energy_balance_max_error_mw < 1e-6);
    // requested: half of 7 kW per station; delivered: the cap holds the stations at 3.5 kW
    CHECK(off.dr_requested_kw == doctest::Approx(0.5 * 7.0 * double(ns)).epsilon(1e-6));
    CHECK(off.dr_delivered_kw == doctest::Approx(0.5 * 7.0 * double(ns)).epsilon(1e-6));
    CHECK(std::abs(lost.dr_delivered_kw) < 1e-6);
    ResultsReader ra(libgrid_test::scratch_path("drc_off.h5")), rb(libgrid_test::scratch_path("drc_perfect.h5")),
        rl(libgrid_test::scratch_path("drc_lost.h5")), rn(libgrid_test::scratch_path("drc_none.h5"));
    CHECK(ra.read_vector("/ev/p_mw") == rb.read_vector("/ev/p_mw"));
    CHECK(ra.read_vector("/building/p_mw") == rb.read_vector("/building/p_mw"));
    // the buildings are not targeted: they run as without the event; a station that lost its message too
    CHECK(ra.read_vector("/building/p_mw") == rn.read_vector("/building/p_mw"));
    CHECK(rl.read_vector("/ev/p_mw") == rn.read_vector("/ev/p_mw"));
    CHECK(ra.read_vector("/dr_ev/devices")[0] == double(ns));
    CHECK(ra.read_vector("/dr_ev/reached_in_time")[0] == double(ns));
    CHECK(rl.read_vector("/dr_ev/never")[0] == double(ns));
    CHECK(ra.read_vector("/dr/devices")[0] == 0.0);  // /dr: the buildings' class, not targeted
    const std::vector<double> pa = ra.read_vector("/ev/p_mw"), pn = rn.read_vector("/ev/p_mw");
    for (std::size_t u = 0; u < ns; ++u) {
        const std::vector<double> ca = column(pa, steps, u), cn = column(pn, steps, u);
        for (std::size_t k = 0; k < k0; ++k) CHECK(ca[k] == cn[k]);
        for (std::size_t k = k0; k < k1; ++k) {
            CHECK(cn[k] == doctest::Approx(-0.007));
            CHECK(ca[k] == doctest::Approx(-0.0035));
        }
    }
}

TEST_CASE("comms dr: buildings and chargers together: the KPIs add the classes") {
    Case c = chargers();
    SimulationOptions o = c.opt;
    const SimulationSummary ch = Simulation(c.net, c.dev, o).run();
    o.demand_response[0].buildings = true;
    o.demand_response[0].chargers = false;
    const SimulationSummary bl = Simulation(c.net, c.dev, o).run();
    o.demand_response[0].chargers = true;
    const SimulationSummary both = Simulation(c.net, c.dev, o).run();
    CHECK(both.dr_requested_kw == doctest::Approx(ch.dr_requested_kw + bl.dr_requested_kw));
    CHECK(both.dr_delivered_kw == doctest::Approx(ch.dr_delivered_kw + bl.dr_delivered_kw));
    CHECK(both.dr_targeted_devices == c.dev.ev_stations.size() + c.dev.buildings.size());
    CHECK(both.dr_devices_reached_share == 1.0);
    CHECK(both.energy_balance_max_error_mw < 1e-6);
}

// ---- issue 17 (H5): HEMS homes through the channel ----
namespace {

/// CIGRE LV, every customer a HEMS home (terrace house, 10 kWh / 5 kW battery, a 7 kW charger that
/// charges at once (ev_offpeak off), battery not used in the peak on its own (so the event's battery
/// cover shows)); a car 13:00-23:00 wanting 40 kWh each day; the event targets homes only.
Case homes(double reduction = 0.5, double notice_s = 3600.0) {
    Case c = offices(reduction, notice_s);
    c.dev.buildings.clear();
    Id id = 2000;
    for (const Load& l : c.net.loads) {
        HomeUnit h;
        h.id = id++;
        h.bus = l.bus;
        h.customer = l.id;
        h.home.id = h.id;
        h.home.building = building_preset(BuildingType::TerraceHouse);
        h.home.rules.ev_offpeak = false;
        h.home.rules.battery_discharge_in_peak = false;
        h.home.battery.capacity_kwh = 10;
        h.home.battery.p_charge_max_kw = 5;
        h.home.battery.p_discharge_max_kw = 5;
        h.home.ev.params.id = h.id;
        h.home.ev.params.charger_kw = 7.0;
        h.home.ev.sessions = libgrid_test::daily_afternoon_sessions(c.opt.start, 8);
        c.dev.homes.push_back(h);
    }
    c.opt.demand_response[0].buildings = false;
    c.opt.demand_response[0].homes = true;
    return c;
}

}  // namespace

TEST_CASE("comms dr: homes (HEMS) cut during the event: battery covers the import, EV capped; perfect = off; a lost message: no cut") {
    Case c = homes();
    const std::size_t steps = c.opt.n_steps, nh = c.dev.homes.size();
    const std::size_t k0 = std::size_t(kEvStart / 900), k1 = std::size_t(kEvEnd / 900);
    const auto [off, perfect, lost] = channel_runs(c, "drh");
    MESSAGE("homes: requested " << off.dr_requested_kw << " kW, delivered " << off.dr_delivered_kw << " kW; lost: delivered "
                                << lost.dr_delivered_kw << " kW");
    CHECK(off.dr_requested_kw == perfect.dr_requested_kw);
    CHECK(off.dr_delivered_kw == perfect.dr_delivered_kw);
    CHECK(off.load_mwh == perfect.load_mwh);
    CHECK(off.dr_devices_reached_share == 1.0);
    CHECK(lost.dr_devices_reached_share == 0.0);
    for (const SimulationSummary* s : {&off, &perfect, &lost}) CHECK(s->energy_balance_max_error_mw < 1e-6);
    CHECK(off.dr_requested_kw > 0.0);
    CHECK(off.dr_delivered_kw > 0.5 * off.dr_requested_kw);
    CHECK(lost.dr_delivered_kw < off.dr_delivered_kw);
    ResultsReader ra(libgrid_test::scratch_path("drh_off.h5")), rb(libgrid_test::scratch_path("drh_perfect.h5")),
        rl(libgrid_test::scratch_path("drh_lost.h5")), rn(libgrid_test::scratch_path("drh_none.h5"));
    CHECK(ra.read_vector("/home/p_mw") == rb.read_vector("/home/p_mw"));
    CHECK(rl.read_vector("/home/p_mw") == rn.read_vector("/home/p_mw"));
    CHECK(ra.read_vector("/dr_home/devices")[0] == double(nh));
    CHECK(ra.read_vector("/dr_home/reached_in_time")[0] == double(nh));
    CHECK(rl.read_vector("/dr_home/never")[0] == double(nh));
    const std::vector<double> pa = ra.read_vector("/home/p_mw"), pn = rn.read_vector("/home/p_mw"), ea = ra.read_vector("/home/ev_mw"),
                              ba = ra.read_vector("/home/battery_mw");
    for (std::size_t u = 0; u < nh; ++u) {
        const std::vector<double> ca = column(pa, steps, u), cn = column(pn, steps, u), ce = column(ea, steps, u), cb = column(ba, steps, u);
        for (std::size_t k = 0; k < k0; ++k) CHECK(ca[k] == cn[k]);
        CHECK(cb[k0] > 0.0);  // the battery covers the import at the event's start
        double imp_a = 0.0, imp_n = 0.0;
        for (std::size_t k = k0; k < k1; ++k) {
            CHECK(-ce[k] <= 0.0035 + 1e-9);  // EV capped at (1 - 0.5) x 7 kW
            imp_a -= ca[k];
            imp_n -= cn[k];
        }
        CHECK(imp_a < imp_n);
    }
}

TEST_CASE("comms dr: homes and chargers: a run stopped after the event and resumed from its checkpoint measures the same") {
    Case c = homes(0.5, 0.0);
    const Case ch = chargers(0.5, 0.0);
    c.dev.ev_stations = ch.dev.ev_stations;
    c.opt.demand_response[0].chargers = true;
    c.opt.checkpoint_steps = 256;
    c.opt.comms.enabled = true;
    c.opt.comms.plc.packet_loss = 0.1;
    c.opt.comms.plc.retries = 0;
    SimulationOptions o = c.opt;
    o.output_path = libgrid_test::scratch_path("drhc_whole.h5");
    const SimulationSummary sw = Simulation(c.net, c.dev, o).run();
    o.output_path = libgrid_test::scratch_path("drhc_parts.h5");
    const SimulationSummary s = libgrid_test::run_stopped_and_resumed(c.net, c.dev, o, 740);
    CHECK(s.resumed_from_step == 512);
    CHECK(sw.dr_devices_reached_share < 1.0);
    CHECK(s.dr_requested_kw == sw.dr_requested_kw);
    CHECK(s.dr_delivered_kw == sw.dr_delivered_kw);
    CHECK(s.dr_devices_reached_share == sw.dr_devices_reached_share);
    ResultsReader rw(libgrid_test::scratch_path("drhc_whole.h5")), rp(o.output_path);
    for (const char* d : {"/dr_home/delivered_kw", "/dr_ev/delivered_kw", "/dr_home/never", "/dr_ev/never", "/home/p_mw", "/ev/p_mw"})
        CHECK(rw.read_vector(d) == rp.read_vector(d));
}
