// Issue 17: meter readings through the PLC channel to the head-end (docs/comms.md): the channel's
// determinism and statistics, the estimation rule, the engine with a perfect and a lossy channel,
// resume across a checkpoint, the scenario key comms.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/comms.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/simulation/engine.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <csignal>
#include <string>
#include <vector>

#include "scratch_dir.hpp"
#include "test_feeders.hpp"

using namespace libgrid;

namespace {

/// Every object of a results file: path -> its values as bytes (datasets) or text (attributes),
/// leaving out what `skip` says (and the wall-clock timings).
using Contents = std::vector<std::pair<std::string, std::string>>;
void collect(const ResultsReader& r, const std::string& group, bool (*skip)(const std::string&), Contents& out) {
    auto attrs = [&](const std::string& obj) {
        for (const std::string& a : r.attribute_names(obj)) out.emplace_back(obj + "@" + a, r.attribute(obj, a));
    };
    attrs(group);
    for (const std::string& n : r.list(group)) {
        const std::string p = group == "/" ? "/" + n : group + "/" + n;
        if (skip(p)) continue;
        if (!r.is_dataset(p)) {
            collect(r, p, skip, out);
            continue;
        }
        attrs(p);
        if (p == "/summary/wall_time_s" || p.rfind("/summary/time_", 0) == 0 || p == "/summary/steps_per_second") continue;
        std::string bytes;
        try {
            for (const std::string& s : r.read_strings(p)) bytes += s + '\n';
        } catch (const Error&) {
            const std::vector<double> v = r.read_vector(p);
            bytes.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
            for (std::size_t d : r.shape(p)) bytes += "|" + std::to_string(d);
        }
        out.emplace_back(p, bytes);
    }
}

bool skip_comms(const std::string& p) {
    return p == "/headend" || p == "/bill_headend" || p == "/comms" || p == "/summary/meter_data_completeness" || p == "/summary/bill_estimation_error_rm" ||
           p == "/summary/stale_price_steps" || p == "/summary/stale_price_wrong_steps" || p == "/summary/battery_setpoint_stale_steps" ||
           p == "/summary/ev_limit_stale_steps";
}
bool skip_none(const std::string&) { return false; }

Contents contents(const std::string& file, bool (*skip)(const std::string&)) {
    ResultsReader r(file);
    Contents out;
    collect(r, "/", skip, out);
    return out;
}

void check_same(const Contents& a, const Contents& b) {
    REQUIRE(a.size() == b.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        INFO("object " << a[i].first);
        CHECK(a[i].first == b[i].first);
        if (a[i].second != b[i].second) ++differ;
        CHECK(a[i].second == b[i].second);
    }
    MESSAGE(a.size() << " objects compared, " << differ << " differ");
}

/// CIGRE LV with rooftop PV behind every meter (readings that vary over the day), 3 days across a
/// month end (two bills per customer).
struct Case {
    Network net;
    DeviceSet dev;
    SimulationOptions opt;
};
Case cigre(std::size_t steps = 288) {
    Case c;
    c.net = read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json");
    Id id = 1;
    for (const Load& l : c.net.loads) {
        PvUnit pv;
        pv.id = id++;
        pv.bus = l.bus;
        pv.customer = l.id;
        pv.params.kwp_dc = std::max(1.0, l.p_mw * 800.0);
        pv.params.inverter_kva = pv.params.kwp_dc;
        c.dev.pv.push_back(pv);
    }
    c.opt.start = from_civil(2025, 1, 30);
    c.opt.default_tariff = Tariff::tnb_domestic_general();  // issue 19: billed only when asked
    c.opt.holidays = [](std::int64_t t) { return is_public_holiday(t); };
    c.opt.n_steps = steps;
    c.opt.checkpoint_steps = 0;
    return c;
}

/// Equal value for value, NaN where the other has NaN.
bool same_values(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
    return true;
}

std::size_t count_nan(const std::vector<double>& v) {
    return std::size_t(std::count_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }));
}

}  // namespace

TEST_CASE("comms: the channel is a pure function of (seed, meter, interval, attempt)") {
    PlcOptions p;
    p.packet_loss = 0.3;
    p.latency_median_s = 120.0;
    p.latency_sigma = 0.8;
    std::size_t differ_seed = 0, differ_meter = 0, differ_attempt = 0;
    for (std::int64_t i = 0; i < 2000; ++i) {
        const Attempt a = deliver(p, 7, 42, i, 0), b = deliver(p, 7, 42, i, 0);
        CHECK(a.ok == b.ok);
        if (a.ok) CHECK(a.latency_s == b.latency_s);  // bit for bit
        else CHECK(std::isnan(a.latency_s));
        if (deliver(p, 8, 42, i, 0).ok != a.ok) ++differ_seed;
        if (deliver(p, 7, 43, i, 0).ok != a.ok) ++differ_meter;
        if (deliver(p, 7, 42, i, 1).ok != a.ok) ++differ_attempt;
    }
    // independent draws differ in 2 p (1 - p) = 42 % of the cases
    CHECK(differ_seed > 600);
    CHECK(differ_meter > 600);
    CHECK(differ_attempt > 600);
    CHECK(comms_hash(1, 2, 3, 0, 0) != comms_hash(1, 3, 2, 0, 0));
}

TEST_CASE("comms: loss and latency statistics match the parameters") {
    // seeded and deterministic: the tolerances (5 binomial standard deviations) cannot flake
    CommsOptions o;
    o.enabled = true;
    o.plc.packet_loss = 0.1;
    o.plc.latency_median_s = 120.0;
    o.plc.latency_sigma = 0.6;
    o.deadline_s = std::numeric_limits<double>::infinity();
    const std::int64_t n = 200000;
    for (int retries : {0, 1, 2}) {
        o.plc.retries = retries;
        std::size_t arrived = 0;
        std::vector<double> lat;
        for (std::int64_t i = 0; i < n; ++i) {
            const Delivery d = deliver_reading(o, 1, i % 97, i / 97);
            if (d.arrived) ++arrived;
            CHECK(d.attempts <= retries + 1);
            if (d.arrived && d.attempts == 1) lat.push_back(d.delay_s);
        }
        const double expect = 1.0 - std::pow(0.1, retries + 1);
        const double sd = std::sqrt(expect * (1 - expect) / double(n));
        INFO("retries " << retries);
        CHECK(std::abs(double(arrived) / double(n) - expect) <= 5 * sd + 1e-12);
        std::nth_element(lat.begin(), lat.begin() + long(lat.size() / 2), lat.end());
        CHECK(lat[lat.size() / 2] == doctest::Approx(120.0).epsilon(0.02));  // the lognormal's median
    }
    // a deadline shorter than the retry spacing: only first attempts count
    o.plc.retries = 2;
    o.plc.retry_s = 600.0;
    o.deadline_s = 590.0;
    o.plc.latency_sigma = 0.0;
    std::size_t arrived = 0;
    for (std::int64_t i = 0; i < n; ++i) arrived += deliver_reading(o, 1, 5, i).arrived ? 1 : 0;
    CHECK(std::abs(double(arrived) / double(n) - 0.9) <= 5 * std::sqrt(0.09 / double(n)));
    // a perfect channel delivers everything at once
    CommsOptions perfect;
    perfect.enabled = true;
    perfect.plc.packet_loss = 0.0;
    perfect.plc.latency_median_s = 0.0;
    CHECK(perfect_channel(perfect));
    for (std::int64_t i = 0; i < 1000; ++i) {
        const Delivery d = deliver_reading(perfect, 3, i, i);
        CHECK(d.arrived);
        CHECK(d.delay_s == 0.0);
        CHECK(d.attempts == 1);
    }
}

TEST_CASE("comms: bad channel options name their field") {
    CommsOptions o;
    o.enabled = true;
    o.plc.packet_loss = 1.5;
    CHECK_THROWS_WITH_AS(validate(o), doctest::Contains("comms.plc.packet_loss"), ValidationError);
    o = CommsOptions{};
    o.plc.retries = -1;
    CHECK_THROWS_WITH_AS(validate(o), doctest::Contains("comms.plc.retries"), ValidationError);
    o = CommsOptions{};
    o.plc.latency_median_s = -1;
    CHECK_THROWS_WITH_AS(validate(o), doctest::Contains("comms.plc.latency_median_s"), ValidationError);
}

TEST_CASE("comms: the estimation rule on a hand-made case") {
    // 4 intervals a day, 3 days, the month starting at the first day's second interval (day_start -1)
    const double N = std::nan("");
    //                      day 0 (3 of 4)  | day 1             | day 2
    const std::vector<double> v = {1, 2, 3, /**/ 4, N, 6, 7, /**/ N, N, N, N};
    std::vector<double> out(v.size());
    const std::size_t n = estimate_missing(v.data(), v.size(), 4, -1, out.data());
    CHECK(n == 5);
    // interval 4 (day 1, second): the same interval the day before (index 0) = 1
    CHECK(out[4] == 1.0);
    // day 2: index 7 <- index 3 (4), 8 <- 4 (missing itself: day 2 has nothing) -> 0, 9 <- 5 (6), 10 <- 6 (7)
    CHECK(out[7] == 4.0);
    CHECK(out[8] == 0.0);
    CHECK(out[9] == 6.0);
    CHECK(out[10] == 7.0);
    // the day's mean: a day whose previous day is outside the month
    const std::vector<double> w = {N, 2, 4, 6, /**/ 1, 1, 1, 1};
    std::vector<double> ow(w.size());
    CHECK(estimate_missing(w.data(), w.size(), 4, 0, ow.data()) == 1);
    CHECK(ow[0] == 4.0);
    for (std::size_t i = 1; i < w.size(); ++i) CHECK(ow[i] == w[i]);
}

TEST_CASE("comms: disabled or perfect, every result is as without comms, bit for bit") {
    const std::string a = libgrid_test::scratch_path("comms_off.h5"), b = libgrid_test::scratch_path("comms_perfect.h5");
    Case c = cigre();
    SimulationOptions o = c.opt;
    o.output_path = a;
    const SimulationSummary sa = Simulation(c.net, c.dev, o).run();
    o.output_path = b;
    o.comms.enabled = true;
    o.comms.plc.packet_loss = 0.0;
    o.comms.plc.latency_median_s = 0.0;
    const SimulationSummary sb = Simulation(c.net, c.dev, o).run();
    CHECK_FALSE(sa.comms);
    CHECK(std::isnan(sa.meter_data_completeness));
    CHECK(sb.comms);
    CHECK(sb.meter_data_completeness == 1.0);
    CHECK(sb.bill_estimation_error_rm == 0.0);
    CHECK(sa.bills_rm == sb.bills_rm);
    CHECK(sa.energy_balance_max_error_mw == sb.energy_balance_max_error_mw);
    check_same(contents(a, skip_none), contents(b, skip_comms));
    ResultsReader ra(a), rb(b);
    CHECK_FALSE(ra.exists("/headend"));
    CHECK_FALSE(ra.exists("/summary/meter_data_completeness"));
    CHECK(rb.read_vector("/headend/import_kwh") == ra.read_vector("/meter/import_kwh"));
    CHECK(rb.read_vector("/headend/export_kwh") == ra.read_vector("/meter/export_kwh"));
    CHECK(rb.read_vector("/headend/time") == ra.read_vector("/meter/time"));
    CHECK(rb.read_vector("/bill_headend/total_rm") == ra.read_vector("/bill/total_rm"));
    CHECK(rb.read_vector("/summary/meter_data_completeness")[0] == 1.0);
}

TEST_CASE("comms: a lossy channel: completeness falls as expected, bills are estimated, the power flow is unchanged") {
    const std::string a = libgrid_test::scratch_path("comms_ref.h5"), b = libgrid_test::scratch_path("comms_lossy.h5"),
                      b2 = libgrid_test::scratch_path("comms_lossy_t2.h5");
    Case c = cigre();
    SimulationOptions o = c.opt;
    o.output_path = a;
    const SimulationSummary sa = Simulation(c.net, c.dev, o).run();
    // 10 % loss, latency 30 s .. 5 min (lognormal, median 2 min), no retries: the head-end misses ~10 %
    o.comms.enabled = true;
    o.comms.plc.packet_loss = 0.1;
    o.comms.plc.latency_median_s = 120.0;
    o.comms.plc.latency_sigma = 0.5;
    o.comms.plc.retries = 0;
    o.output_path = b;
    const SimulationSummary sb = Simulation(c.net, c.dev, o).run();
    const std::size_t n = sb.meter_readings;
    CHECK(n == c.net.loads.size() * 288);
    const double sd = std::sqrt(0.1 * 0.9 / double(n));
    CHECK(std::abs(sb.meter_data_completeness - 0.9) <= 5 * sd);
    CHECK(sb.meter_data_completeness < 1.0);
    CHECK(sb.bill_estimation_error_rm > 0.0);
    CHECK(std::isfinite(sb.bill_estimation_error_rm));
    CHECK(sb.bill_estimation_error_rm < 0.2 * sb.bills_rm);
    // the grid does not depend on the comms: every step's balance as without them
    CHECK(sb.energy_balance_max_error_mw == sa.energy_balance_max_error_mw);
    CHECK(sb.energy_balance_max_error_mw < 1e-6);
    check_same(contents(a, skip_none), contents(b, skip_comms));
    ResultsReader rb(b);
    const std::vector<double> hd = rb.read_vector("/headend/import_kwh"), m = rb.read_vector("/meter/import_kwh");
    REQUIRE(hd.size() == m.size());
    CHECK(double(hd.size() - count_nan(hd)) / double(hd.size()) == doctest::Approx(sb.meter_data_completeness).epsilon(1e-12));
    for (std::size_t i = 0; i < hd.size(); ++i)
        if (!std::isnan(hd[i])) CHECK(hd[i] == m[i]);
    double err = 0.0;
    const std::vector<double> bt = rb.read_vector("/bill/total_rm"), bh = rb.read_vector("/bill_headend/total_rm");
    REQUIRE(bt.size() == bh.size());
    for (std::size_t i = 0; i < bt.size(); ++i) err += std::abs(bh[i] - bt[i]);
    CHECK(err == doctest::Approx(sb.bill_estimation_error_rm).epsilon(1e-4));  // the file's float32
    CHECK(rb.read_vector("/summary/meter_data_completeness")[0] == doctest::Approx(sb.meter_data_completeness));
    // more retries: more complete
    o.comms.plc.retries = 2;
    o.output_path = "";
    const SimulationSummary sr = Simulation(c.net, c.dev, o).run();
    CHECK(sr.meter_data_completeness > sb.meter_data_completeness);
    CHECK(std::abs(sr.meter_data_completeness - 0.999) <= 5 * std::sqrt(0.999 * 0.001 / double(n)) + 1e-12);
    // any thread count: the same head-end
    o.comms.plc.retries = 0;
    o.threads = 2;
    o.output_path = b2;
    Simulation(c.net, c.dev, o).run();
    CHECK(same_values(ResultsReader(b2).read_vector("/headend/import_kwh"), ResultsReader(b).read_vector("/headend/import_kwh")));
    CHECK(same_values(ResultsReader(b2).read_vector("/bill_headend/total_rm"), ResultsReader(b).read_vector("/bill_headend/total_rm")));
}

TEST_CASE("comms: a run stopped and resumed from its checkpoint has the same head-end and estimated bills") {
    const std::string whole = libgrid_test::scratch_path("comms_whole.h5"), parts = libgrid_test::scratch_path("comms_parts.h5");
    Case c = cigre(400);
    c.opt.checkpoint_steps = 256;
    c.opt.comms.enabled = true;
    c.opt.comms.plc.packet_loss = 0.2;
    SimulationOptions o = c.opt;
    o.output_path = whole;
    const SimulationSummary sw = Simulation(c.net, c.dev, o).run();
    o.output_path = parts;
    const SimulationSummary s = libgrid_test::run_stopped_and_resumed(c.net, c.dev, o, 300);
    CHECK(s.resumed_from_step == 256);
    CHECK(s.meter_data_completeness == sw.meter_data_completeness);
    CHECK(s.bill_estimation_error_rm == sw.bill_estimation_error_rm);
    check_same(contents(whole, skip_none), contents(parts, skip_none));
}

TEST_CASE("comms: the scenario key comms.plc") {
    const std::string base = "name: t\nnetwork: {size: small}\nhorizon: {steps: 4}\n";
    const Scenario none = parse_scenario(base);
    CHECK_FALSE(none.comms.enabled);
    CHECK(scenario_to_yaml(none).find("comms") == std::string::npos);
    const Scenario s = parse_scenario(base + "comms: {deadline_s: 3600, plc: {packet_loss: 0.1, latency_median_s: 90, latency_sigma: 0.7, retries: 1, retry_s: 120}}\n");
    CHECK(s.comms.enabled);
    CHECK(s.comms.plc.packet_loss == 0.1);
    CHECK(s.comms.plc.latency_median_s == 90.0);
    CHECK(s.comms.plc.latency_sigma == 0.7);
    CHECK(s.comms.plc.retries == 1);
    CHECK(s.comms.plc.retry_s == 120.0);
    CHECK(s.comms.deadline_s == 3600.0);
    CHECK(parse_scenario(scenario_to_yaml(s)).same_settings(s));
    CHECK_FALSE(s.same_settings(none));
    Scenario o = parse_scenario(base);
    override_key(o, "comms.plc.packet_loss", "0.25");
    CHECK(o.comms.enabled);
    CHECK(o.comms.plc.packet_loss == 0.25);
    CHECK(build_scenario(o).options.comms.plc.packet_loss == 0.25);
    const Scenario nd = parse_scenario(base + "comms: {deadline_s: none}\n");
    CHECK(std::isinf(nd.comms.deadline_s));
    CHECK(parse_scenario(scenario_to_yaml(nd)).same_settings(nd));
    CHECK_THROWS_WITH(parse_scenario(base + "comms: {plc: {packet_loss: 1.5}}\n"), doctest::Contains("comms.plc.packet_loss"));
    CHECK_THROWS_WITH(parse_scenario(base + "comms: {plc: {retries: -1}}\n"), doctest::Contains("comms.plc.retries"));
    CHECK_THROWS_WITH(parse_scenario(base + "comms: {plc: {packet_los: 0.1}}\n"), doctest::Contains("packet_loss"));
    CHECK_THROWS_WITH(parse_scenario(base + "comms: {plc: 3}\n"), doctest::Contains("comms.plc"));
}
