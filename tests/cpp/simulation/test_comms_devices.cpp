// Issue 17, H3: messages from the head-end to devices through the PLC channel (docs/comms.md "Price
// schedules, EV limits and battery set points through the channel"): the day-ahead ToU price
// schedule (stale_price_steps, stale_price_wrong_steps) and the battery set points
// (battery_setpoint_stale_steps).
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/comms.hpp>
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

const std::int64_t kMon = from_civil(2025, 6, 9);  // a Monday (not a holiday; 2 June is the Agong's birthday), local; TNB peak 14:00-22:00 Mon-Fri
constexpr std::size_t kSteps = 192;                // two days of 15 min

bool peak_step(std::size_t k) {
    const std::int64_t t = kMon + std::int64_t(k) * 900, hr = (t - kMon) % 86400 / 3600;
    return hr >= 14 && hr < 22;  // Monday and Tuesday
}

/// CIGRE LV, two days from a Monday: an EV station on delayed_off_peak (cars arriving at 12:00,
/// leaving at 08:00 the next day), a battery on the Schedule strategy (+-1 kW alternating), a
/// battery on ToU arbitrage. Three price-reading devices, one scheduled battery.
struct Case {
    Network net;
    DeviceSet dev;
    SimulationOptions opt;
};
Case make_case() {
    Case c;
    c.net = read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json");
    EvStationUnit ev;
    ev.id = 1;
    ev.bus = c.net.loads[0].bus;
    ev.station.params.n_chargers = 4;
    ev.station.params.strategy = EvStrategy::DelayedOffPeak;
    for (int d = 0; d < 2; ++d)
        for (int i = 0; i < 4; ++i) {
            EvSession s;
            s.arrival = kMon + d * 86400 + 12 * 3600;
            s.departure = s.arrival + 20 * 3600;
            s.energy_kwh = 30.0;
            s.max_kw = 7.0;
            s.battery_kwh = 60.0;
            s.soc_arrival = 0.2;
            ev.station.sessions.push_back(s);
        }
    c.dev.ev_stations.push_back(ev);
    BatteryUnit b;
    b.id = 1;
    b.bus = c.net.loads[1].bus;
    b.params.e_kwh = 20.0;
    b.params.p_charge_kw = b.params.p_discharge_kw = 5.0;
    b.params.strategy = BatteryStrategy::Schedule;
    for (std::size_t k = 0; k < kSteps; ++k) b.params.schedule_kw.push_back(k % 2 ? 1.0 : -1.0 - 0.001 * double(k));
    c.dev.batteries.push_back(b);
    BatteryUnit t = b;
    t.id = 2;
    t.bus = c.net.loads[2].bus;
    t.params.strategy = BatteryStrategy::TouArbitrage;
    t.params.schedule_kw.clear();
    t.params.tou_charge_start_h = 0.0;
    t.params.tou_charge_end_h = 6.0;
    t.params.tou_discharge_full_power = true;
    c.dev.batteries.push_back(t);
    c.opt.start = kMon;
    c.opt.n_steps = kSteps;
    c.opt.checkpoint_steps = 0;
    c.opt.default_tariff = Tariff::tnb_domestic_general();  // issue 19: billed only when asked
    c.opt.holidays = [](std::int64_t t) { return is_public_holiday(t); };
    return c;
}

struct Run {
    SimulationSummary sum;
    std::vector<double> ev_p, batt_p;  // /ev/p_mw (one station), /battery/p_mw (steps x 2)
};
Run run(const Case& c, const SimulationOptions& o, const std::string& name) {
    SimulationOptions oo = o;
    oo.output_path = libgrid_test::scratch_path(name);
    Run r;
    r.sum = Simulation(c.net, c.dev, oo).run();
    ResultsReader rr(oo.output_path);
    r.ev_p = rr.read_vector("/ev/p_mw");
    if (rr.exists("/battery/p_mw")) r.batt_p = rr.read_vector("/battery/p_mw");
    return r;
}
SimulationOptions with_channel(SimulationOptions o, double loss, double latency_s, double sigma = 0.0) {
    o.comms.enabled = true;
    o.comms.plc.packet_loss = loss;
    o.comms.plc.latency_median_s = latency_s;
    o.comms.plc.latency_sigma = sigma;
    o.comms.plc.retries = 0;
    return o;
}
double peak_ev_kwh(const std::vector<double>& ev_p) {
    double e = 0;
    for (std::size_t k = 0; k < ev_p.size(); ++k)
        if (peak_step(k)) e += -ev_p[k] * 1000.0 * 0.25;
    return e;
}

}  // namespace

TEST_CASE("comms devices: a perfect channel prices and set points are as without comms, bit for bit") {
    const Case c = make_case();
    const Run off = run(c, c.opt, "cd_off.h5");
    const Run perfect = run(c, with_channel(c.opt, 0.0, 0.0), "cd_perfect.h5");
    CHECK(off.ev_p == perfect.ev_p);
    CHECK(off.batt_p == perfect.batt_p);
    CHECK(off.sum.bills_rm == perfect.sum.bills_rm);
    CHECK(perfect.sum.stale_price_steps == 0);
    CHECK(perfect.sum.stale_price_wrong_steps == 0);
    CHECK(perfect.sum.battery_setpoint_stale_steps == 0);
    CHECK(peak_ev_kwh(off.ev_p) == 0.0);  // delayed_off_peak: nothing in the peak
}

TEST_CASE("comms devices: every message lost: no device has a schedule, the charger charges in the peak") {
    const Case c = make_case();
    const Run off = run(c, c.opt, "cd_off2.h5");
    const Run lost = run(c, with_channel(c.opt, 1.0, 60.0), "cd_lost.h5");
    std::size_t peak_steps = 0;
    for (std::size_t k = 0; k < kSteps; ++k) peak_steps += peak_step(k);
    REQUIRE(peak_steps == 64);
    // three price-reading devices (the station, both batteries), every step stale; wrong in the peak
    CHECK(lost.sum.stale_price_steps == 3 * kSteps);
    CHECK(lost.sum.stale_price_wrong_steps == 3 * peak_steps);
    CHECK(lost.sum.battery_setpoint_stale_steps == kSteps);
    CHECK(peak_ev_kwh(off.ev_p) == 0.0);
    CHECK(peak_ev_kwh(lost.ev_p) > 10.0);  // the cars arriving at 12:00 charge from then
    for (std::size_t k = 0; k < kSteps; ++k) CHECK(lost.batt_p[2 * k] == 0.0);  // no set point: idle
    CHECK(lost.sum.energy_balance_max_error_mw < 1e-6);
}

TEST_CASE("comms devices: a 7 h latency: the day's schedule arrives at 01:00, set points 28 steps late") {
    const Case c = make_case();
    const Run r = run(c, with_channel(c.opt, 0.0, 7 * 3600.0), "cd_late.h5");
    // 00:00, 00:15, 00:30, 00:45 on both days act on the day before's schedule (no peak at night
    // on either: stale, never wrong)
    CHECK(r.sum.stale_price_steps == 3 * 2 * 4);
    CHECK(r.sum.stale_price_wrong_steps == 0);
    // step k uses step k - 28's set point (sent at its start, arrived 7 h later); none before
    CHECK(r.sum.battery_setpoint_stale_steps == kSteps);
    const std::vector<double>& sched = c.dev.batteries[0].params.schedule_kw;
    for (std::size_t k = 0; k < kSteps; ++k) {
        INFO("step " << k);
        if (k < 28) CHECK(r.batt_p[2 * k] == 0.0);
        else CHECK(r.batt_p[2 * k] * 1000.0 == doctest::Approx(sched[k - 28]).epsilon(1e-5)  /* float32 results */);
    }
}

TEST_CASE("comms devices: a lossy channel: the same at 1 and 2 threads, the energy balance closes") {
    const Case c = make_case();
    SimulationOptions o = with_channel(c.opt, 0.4, 600.0, 1.0);
    o.comms.price_send_hour = 23.5;
    o.threads = 1;
    const Run a = run(c, o, "cd_t1.h5");
    o.threads = 2;
    const Run b = run(c, o, "cd_t2.h5");
    CHECK(a.ev_p == b.ev_p);
    CHECK(a.batt_p == b.batt_p);
    CHECK(a.sum.stale_price_steps == b.sum.stale_price_steps);
    CHECK(a.sum.stale_price_wrong_steps == b.sum.stale_price_wrong_steps);
    CHECK(a.sum.battery_setpoint_stale_steps == b.sum.battery_setpoint_stale_steps);
    CHECK(a.sum.stale_price_steps > 0);
    CHECK(a.sum.stale_price_steps < 3 * kSteps);
    CHECK(a.sum.battery_setpoint_stale_steps > 0);
    CHECK(a.sum.battery_setpoint_stale_steps < kSteps);
    CHECK(a.sum.energy_balance_max_error_mw < 1e-6);
    ResultsReader rr(libgrid_test::scratch_path("cd_t1.h5"));
    CHECK(rr.read_vector("/summary/stale_price_steps")[0] == double(a.sum.stale_price_steps));
}

TEST_CASE("comms devices: the scenario key comms.price_send_hour") {
    const std::string base = "name: t\nnetwork: {size: small}\nhorizon: {steps: 4}\n";
    const Scenario s = parse_scenario(base + "comms: {price_send_hour: 12.5}\n");
    CHECK(s.comms.price_send_hour == 12.5);
    CHECK(parse_scenario(scenario_to_yaml(s)).same_settings(s));
    CHECK(parse_scenario(base + "comms: {}\n").comms.price_send_hour == 18.0);
    CHECK_THROWS_WITH(parse_scenario(base + "comms: {price_send_hour: 25}\n"), doctest::Contains("comms.price_send_hour"));
    CommsOptions o;
    o.price_send_hour = -1;
    CHECK_THROWS_WITH(validate(o), doctest::Contains("comms.price_send_hour"));
}

namespace {
/// CIGRE LV with one grid_aware station of 20 fast chargers behind the MV/LV transformer, cars
/// arriving at 17:00 (the limit binds), two days.
Case grid_aware_case() {
    Case c;
    c.net = read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json");
    EvStationUnit ev;
    ev.id = 7;
    ev.bus = c.net.loads[0].bus;
    ev.station.params.id = 7;
    ev.station.params.n_chargers = 20;
    ev.station.params.strategy = EvStrategy::GridAware;
    for (int d = 0; d < 2; ++d)
        for (int i = 0; i < 20; ++i) {
            EvSession s;
            s.arrival = kMon + d * 86400 + 17 * 3600 + i * 60;
            s.departure = s.arrival + 10 * 3600;
            s.energy_kwh = 40.0;
            s.max_kw = 22.0;
            s.battery_kwh = 60.0;
            s.soc_arrival = 0.2;
            ev.station.sessions.push_back(s);
        }
    c.dev.ev_stations.push_back(ev);
    c.opt.start = kMon;
    c.opt.n_steps = kSteps;
    c.opt.checkpoint_steps = 0;
    c.opt.default_tariff = Tariff::tnb_domestic_general();  // issue 19: billed only when asked
    c.opt.holidays = [](std::int64_t t) { return is_public_holiday(t); };
    return c;
}
}  // namespace

TEST_CASE("comms devices: grid_aware limits: within the step as sent, 20 min late the previous step's") {
    const Case c = grid_aware_case();
    const Run off = run(c, c.opt, "cd_ga_off.h5");
    const Run fast = run(c, with_channel(c.opt, 0.0, 300.0), "cd_ga_fast.h5");
    const Run late = run(c, with_channel(c.opt, 0.0, 1200.0), "cd_ga_late.h5");
    SimulationOptions o = with_channel(c.opt, 0.4, 600.0, 1.0);
    o.threads = 2;
    const Run lossy2 = run(c, o, "cd_ga_lossy2.h5");
    o.threads = 1;
    const Run lossy1 = run(c, o, "cd_ga_lossy1.h5");
    // a limit that arrives within its step is used in it: as without comms
    CHECK(fast.sum.ev_limit_stale_steps == 0);
    CHECK(fast.ev_p == off.ev_p);
    // 20 min > the 15 min step: every step acts on the step before's limit (the first on its own
    // share, kept from the start)
    CHECK(late.sum.ev_limit_stale_steps == kSteps);
    CHECK(late.ev_p != off.ev_p);
    CHECK(late.sum.energy_balance_max_error_mw < 1e-6);
    CHECK(lossy1.sum.ev_limit_stale_steps > 0);
    CHECK(lossy1.sum.ev_limit_stale_steps < kSteps);
    CHECK(lossy1.sum.ev_limit_stale_steps == lossy2.sum.ev_limit_stale_steps);
    CHECK(lossy1.ev_p == lossy2.ev_p);
    double e_off = 0, e_late = 0;
    for (std::size_t k = 0; k < kSteps; ++k) {
        e_off += -off.ev_p[k];
        e_late += -late.ev_p[k];
    }
    MESSAGE("EV energy MWh x4: off " << e_off << ", 20 min late limits " << e_late);
}

TEST_CASE("comms devices: grid_aware limits through a lossy channel: a run stopped and resumed has the limits it kept") {
    // the limits sent and kept are in the checkpoint: the resumed run is the uninterrupted one
    Case c = grid_aware_case();
    EvStation& st = c.dev.ev_stations[0].station;
    const std::size_t n0 = st.sessions.size();
    for (std::size_t i = 0; i < n0; ++i) {  // two more days of arrivals, from 14:00: charging at the checkpoint
        EvSession s2 = st.sessions[i];
        s2.arrival += 2 * 86400 - 3 * 3600;
        s2.departure += 2 * 86400 - 3 * 3600;
        st.sessions.push_back(s2);
    }
    c.opt.n_steps = 2 * kSteps;
    SimulationOptions o = with_channel(c.opt, 0.8, 1200.0);  // most limits lost: a station keeps one for long
    o.checkpoint_steps = 256;  // day 3, 16:00
    const Run whole = run(c, o, "cd_ga_whole.h5");
    o.output_path = libgrid_test::scratch_path("cd_ga_parts.h5");
    const SimulationSummary s = libgrid_test::run_stopped_and_resumed(c.net, c.dev, o, 300);
    REQUIRE(s.completed);
    CHECK(s.resumed_from_step == 256);
    CHECK(whole.sum.ev_limit_stale_steps > 0);
    CHECK(s.ev_limit_stale_steps == whole.sum.ev_limit_stale_steps);
    CHECK(ResultsReader(o.output_path).read_vector("/ev/p_mw") == whole.ev_p);
}
