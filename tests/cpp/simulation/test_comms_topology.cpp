// Issue 17, second part (H1): the PLC networks per distribution transformer (docs/comms.md "Hops and
// bandwidth"): hops on a hand-made feeder, completeness over hops, the concentrator's FIFO queue (by
// hand and in a run), /comms/concentrator, hop_length 0 + infinite rate = the head-end as before, the
// scenario keys.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/comms_topology.hpp>
#include <libgrid/simulation/engine.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "scratch_dir.hpp"

using namespace libgrid;

namespace {

Bus bus(Id id, double kv) {
    Bus b;
    b.id = id;
    b.vn_kv = kv;
    return b;
}
Line line(Id id, Id from, Id to, double km) {
    Line l;
    l.id = id;
    l.from_bus = from;
    l.to_bus = to;
    l.length_km = km;
    l.r_ohm_per_km = 0.2;
    l.x_ohm_per_km = 0.08;
    l.max_i_ka = 0.3;
    return l;
}
Transformer trafo(Id id, Id hv, Id lv) {
    Transformer t;
    t.id = id;
    t.hv_bus = hv;
    t.lv_bus = lv;
    t.sn_mva = 0.4;
    t.vn_hv_kv = 11.0;
    t.vn_lv_kv = 0.4;
    t.vk_percent = 4.0;
    return t;
}

/// 11 kV source bus 1; transformer 10 to LV bus 2, then 120 m to bus 3 and 130 m more to bus 4
/// (250 m out); transformer 11 to LV bus 5, 50 m to bus 6; an MV line 1 km to bus 7.
Network feeder() {
    Network n;
    n.name = "hops";
    for (auto [id, kv] : {std::pair<Id, double>{1, 11.0}, {2, 0.4}, {3, 0.4}, {4, 0.4}, {5, 0.4}, {6, 0.4}, {7, 11.0}}) n.buses.push_back(bus(id, kv));
    n.transformers = {trafo(10, 1, 2), trafo(11, 1, 5)};
    n.lines = {line(20, 2, 3, 0.12), line(21, 3, 4, 0.13), line(22, 5, 6, 0.05), line(23, 1, 7, 1.0)};
    ExtGrid g;
    g.id = 1;
    g.bus = 1;
    n.ext_grids.push_back(g);
    return n;
}

Network cigre_lv() { return read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json"); }

SimulationOptions short_run(std::size_t steps = 192) {
    SimulationOptions o;
    o.start = from_civil(2025, 1, 30);
    o.n_steps = steps;
    o.checkpoint_steps = 0;
    o.comms.enabled = true;
    return o;
}

}  // namespace

TEST_CASE("comms topology: one concentrator per distribution transformer, hops by metres of line") {
    const Network n = feeder();
    PlcOptions p;
    p.hop_length_m = 100.0;
    const CommsTopology t = comms_topology(n, p);
    REQUIRE(t.concentrator_id == std::vector<std::int64_t>{-1, 10, 11});  // the source's first
    // buses 1..7 (indices 0..6)
    CHECK(t.bus_concentrator == std::vector<int>{0, 1, 1, 1, 2, 2, 0});
    CHECK(t.bus_hops[1] == 1);  // the transformer's LV bus: 0 m
    CHECK(t.bus_hops[2] == 2);  // 120 m
    CHECK(t.bus_hops[3] == 3);  // 250 m with 100 m hops: 1 + floor(2.5)
    CHECK(t.bus_hops[5] == 1);  // 50 m
    CHECK(t.bus_hops[6] == 1);  // MV: the source's concentrator, 1 hop whatever its distance
    CHECK(t.bus_hops[0] == 1);
    p.hop_length_m = 0.0;  // every node one hop
    const CommsTopology one = comms_topology(n, p);
    for (int h : one.bus_hops) CHECK(h == 1);
    CHECK(one.bus_concentrator == t.bus_concentrator);
    p.hop_length_m = 50.0;
    CHECK(comms_topology(n, p).bus_hops[3] == 6);  // 1 + floor(250 / 50)
    // CommsContext reads them
    CommsContext ctx;
    ctx.topology = &t;
    CHECK(ctx.hops(3) == 3);
    CHECK(ctx.hops(99) == 1);
}

TEST_CASE("comms topology: completeness falls with hops as (1 - p)^hops") {
    CommsOptions o;
    o.enabled = true;
    o.plc.packet_loss = 0.1;
    o.plc.retries = 0;
    o.deadline_s = std::numeric_limits<double>::infinity();
    const std::int64_t n = 100000;
    double previous = 1.0;
    for (int hops : {1, 2, 3, 5}) {
        std::size_t arrived = 0;
        for (std::int64_t i = 0; i < n; ++i) arrived += deliver_reading(o, 3, i % 101, i / 101, hops).arrived ? 1 : 0;
        const double expect = std::pow(0.9, hops), share = double(arrived) / double(n);
        INFO("hops " << hops << ": " << share << " vs " << expect);
        // seeded: 5 binomial standard deviations cannot flake
        CHECK(std::abs(share - expect) <= 5 * std::sqrt(expect * (1 - expect) / double(n)));
        CHECK(share < previous);
        previous = share;
    }
    // the latency of h hops is h times the one-hop draw's median
    o.plc.packet_loss = 0.0;
    o.plc.latency_median_s = 40.0;
    o.plc.latency_sigma = 0.0;
    CHECK(deliver_reading(o, 3, 7, 7, 3).delay_s == 120.0);
}

TEST_CASE("comms topology: the concentrator's queue is FIFO by arrival, then meter id, at its rate") {
    ConcentratorQueue q;
    q.init(2, 6);
    const double N = std::numeric_limits<double>::quiet_NaN();
    //                          meter:   5    2    9    7    4    8
    const std::vector<int> conc = {0, 0, 0, 0, 1, 0};
    const std::vector<double> arr = {3.0, 3.0, 0.0, 50.0, 1.0, N};
    const std::vector<std::int64_t> meter = {5, 2, 9, 7, 4, 8};
    std::vector<double> wait(6);
    const std::size_t cap = q.order.capacity();
    q.serve(0.1, conc.data(), arr.data(), meter.data(), 6, wait.data());  // one every 10 s
    // concentrator 0: 9 at 0 (no wait, busy to 10); 2 and 5 both at 3: 2 first (id) -> from 10 (waits 7),
    // 5 from 20 (waits 17); 7 at 50: free since 30, no wait (busy to 60). Concentrator 1: 4, no wait.
    CHECK(wait[2] == 0.0);
    CHECK(wait[1] == 7.0);
    CHECK(wait[0] == 17.0);
    CHECK(wait[3] == 0.0);
    CHECK(wait[4] == 0.0);
    CHECK(std::isnan(wait[5]));  // never reached the concentrator: not queued
    CHECK(q.free_at[0] == 60.0);
    CHECK(q.free_at[1] == 11.0);
    // the next batch finds the concentrator busy until 60
    const std::vector<double> arr2 = {55.0, N, N, N, 5.0, N};
    q.serve(0.1, conc.data(), arr2.data(), meter.data(), 6, wait.data());
    CHECK(wait[0] == 5.0);
    CHECK(wait[4] == 6.0);
    CHECK(q.order.capacity() == cap);  // nothing allocated
    // a straggler (arriving after the next batch can start) is served in its batch's order but does
    // not hold up the next batch: the backlog carried ends with the last reading before carry_before
    std::vector<double> arr3 = {100.0, 5000.0, N, N, N, N};
    q.serve(0.1, conc.data(), arr3.data(), meter.data(), 6, wait.data(), 900.0);
    CHECK(wait[0] == 0.0);  // free since 65
    CHECK(wait[1] == 0.0);
    CHECK(q.free_at[0] == 110.0);  // not 5010
    arr3 = {100.0, 101.0, N, N, N, N};
    q.serve(0.1, conc.data(), arr3.data(), meter.data(), 6, wait.data(), 900.0);
    CHECK(wait[1] == 19.0);  // behind the one at 100, itself behind the backlog to 110
    CHECK(q.free_at[0] == 130.0);
    // infinite rate: no wait
    q.serve(std::numeric_limits<double>::infinity(), conc.data(), arr.data(), meter.data(), 6, wait.data());
    for (std::size_t i = 0; i < 5; ++i) CHECK(wait[i] == 0.0);
}

TEST_CASE("comms topology: a rate-limited concentrator delays readings by the FIFO rule, exactly, in a run") {
    // no loss and no latency: every reading reaches its concentrator at its interval's end, and they
    // queue in meter id order one every 20 s; the deadline (100 s) keeps the first 6 (waits 0..100 s).
    const Network net = cigre_lv();
    SimulationOptions o = short_run(96);
    o.comms.plc.packet_loss = 0.0;
    o.comms.plc.latency_median_s = 0.0;
    o.comms.plc.concentrator_rate_per_s = 0.05;
    o.comms.deadline_s = 100.0;
    o.output_path = libgrid_test::scratch_path("comms_queue.h5");
    const SimulationSummary s = Simulation(net, DeviceSet{}, o).run();
    const CommsTopology t = comms_topology(net, o.comms.plc);
    std::map<int, std::vector<Id>> meters_of;  // concentrator -> meter ids
    std::map<Id, std::size_t> bus_index;
    for (std::size_t b = 0; b < net.buses.size(); ++b) bus_index[net.buses[b].id] = b;
    for (const Load& l : net.loads) meters_of[t.bus_concentrator[bus_index.at(l.bus)]].push_back(l.id);
    std::size_t expect_kept = 0, biggest = 0;
    for (auto& [k, ids] : meters_of) {
        std::sort(ids.begin(), ids.end());
        expect_kept += std::min<std::size_t>(ids.size(), 6);
        biggest = std::max(biggest, ids.size());
    }
    REQUIRE(biggest > 6);        // some readings miss the deadline in the queue
    REQUIRE(biggest * 20 < 900);  // the queue empties within an interval (15 min)
    ResultsReader r(o.output_path);
    const std::vector<double> hd = r.read_vector("/headend/import_kwh");
    const std::vector<std::int64_t> ids = r.read_int_vector("/headend/id");
    const std::size_t nc = ids.size(), rows = hd.size() / nc;
    REQUIRE(rows == std::size_t(96 * o.step_s / o.meter_interval_s));
    for (std::size_t c = 0; c < nc; ++c) {
        const Load& l = *std::find_if(net.loads.begin(), net.loads.end(), [&](const Load& x) { return x.id == ids[c]; });
        const std::vector<Id>& mine = meters_of[t.bus_concentrator[bus_index.at(l.bus)]];
        const std::size_t rank = std::size_t(std::find(mine.begin(), mine.end(), l.id) - mine.begin());
        for (std::size_t i = 0; i < rows; ++i) {
            INFO("meter " << l.id << " rank " << rank << " interval " << i);
            CHECK(std::isnan(hd[i * nc + c]) == (rank * 20.0 > 100.0));
        }
    }
    CHECK(s.headend_readings == expect_kept * rows);
    // /comms/concentrator: the same queue, per concentrator
    const std::vector<std::int64_t> cid = r.read_int_vector("/comms/concentrator/id"), meters = r.read_int_vector("/comms/concentrator/meters"),
                                    readings = r.read_int_vector("/comms/concentrator/readings");
    const std::vector<double> share = r.read_vector("/comms/concentrator/delivered_share"), wmax = r.read_vector("/comms/concentrator/max_queue_wait_s"),
                              dmax = r.read_vector("/comms/concentrator/max_delay_s"), mean = r.read_vector("/comms/concentrator/mean_delay_s");
    REQUIRE(cid == t.concentrator_id);
    for (std::size_t k = 0; k < cid.size(); ++k) {
        const std::size_t m = meters_of[int(k)].size();
        INFO("concentrator " << cid[k]);
        CHECK(std::size_t(meters[k]) == m);
        CHECK(std::size_t(readings[k]) == m * rows);
        if (m == 0) {
            CHECK(std::isnan(share[k]));
            continue;
        }
        const std::size_t kept = std::min<std::size_t>(m, 6);
        CHECK(share[k] == doctest::Approx(double(kept) / double(m)));
        CHECK(wmax[k] == doctest::Approx(20.0 * double(m - 1)));
        CHECK(dmax[k] == doctest::Approx(20.0 * double(kept - 1)));
        CHECK(mean[k] == doctest::Approx(20.0 * double(kept - 1) / 2.0));  // 0, 20, .. of the kept
    }
}

TEST_CASE("comms topology: hop_length 0 and an infinite rate give the head-end as before, bit for bit") {
    // "as before": deliver_reading with one hop per meter, the first slice's rule
    const Network net = cigre_lv();
    SimulationOptions o = short_run(96);
    o.comms.plc.packet_loss = 0.2;
    o.comms.plc.latency_median_s = 120.0;
    o.comms.plc.latency_sigma = 1.5;
    o.comms.plc.retries = 1;
    o.comms.deadline_s = 600.0;
    o.output_path = libgrid_test::scratch_path("comms_hops0.h5");
    const SimulationSummary s = Simulation(net, DeviceSet{}, o).run();
    ResultsReader r(o.output_path);
    const std::vector<double> hd = r.read_vector("/headend/import_kwh");
    const std::vector<std::int64_t> ids = r.read_int_vector("/headend/id"), time = r.read_int_vector("/headend/time");
    const std::size_t nc = ids.size();
    std::size_t missing = 0;
    for (std::size_t i = 0; i < time.size(); ++i)
        for (std::size_t c = 0; c < nc; ++c) {
            const Delivery d = deliver_reading(o.comms, o.seed, ids[c], time[i] / o.meter_interval_s);
            CHECK(std::isnan(hd[i * nc + c]) == !d.arrived);
            missing += d.arrived ? 0 : 1;
        }
    CHECK(missing > 0);
    CHECK(s.meter_readings - s.headend_readings == missing);
    // hops make it worse: 40 m hops on CIGRE's feeders (hundreds of metres)
    o.comms.plc.hop_length_m = 40.0;
    o.output_path = libgrid_test::scratch_path("comms_hops40.h5");
    const SimulationSummary sh = Simulation(net, DeviceSet{}, o).run();
    CHECK(sh.meter_data_completeness < s.meter_data_completeness);
    ResultsReader rh(o.output_path);
    const std::vector<std::int64_t> mh = rh.read_int_vector("/comms/concentrator/max_hops");
    CHECK(*std::max_element(mh.begin(), mh.end()) > 3);
    // the same head-end at 2 threads
    o.threads = 2;
    o.output_path = libgrid_test::scratch_path("comms_hops40_t2.h5");
    o.comms.plc.concentrator_rate_per_s = 0.02;
    const SimulationSummary s1 = Simulation(net, DeviceSet{}, o).run();
    o.threads = 1;
    o.output_path = libgrid_test::scratch_path("comms_hops40_t1.h5");
    const SimulationSummary s2 = Simulation(net, DeviceSet{}, o).run();
    CHECK(s1.headend_readings == s2.headend_readings);
    const std::vector<double> m2 = ResultsReader(libgrid_test::scratch_path("comms_hops40_t2.h5")).read_vector("/comms/concentrator/mean_delay_s"),
                              m1 = ResultsReader(o.output_path).read_vector("/comms/concentrator/mean_delay_s");
    REQUIRE(m1.size() == m2.size());
    for (std::size_t k = 0; k < m1.size(); ++k) CHECK((m1[k] == m2[k] || (std::isnan(m1[k]) && std::isnan(m2[k]))));
}

TEST_CASE("comms topology: the scenario keys comms.plc.hop_length_m and concentrator_rate_per_s") {
    const std::string base = "name: t\nnetwork: {size: small}\nhorizon: {steps: 4}\n";
    const Scenario plain = parse_scenario(base + "comms: {plc: {packet_loss: 0.1}}\n");
    CHECK(plain.comms.plc.hop_length_m == 0.0);
    CHECK(std::isinf(plain.comms.plc.concentrator_rate_per_s));
    CHECK(scenario_to_yaml(plain).find("hop_length_m") == std::string::npos);  // defaults not written
    const Scenario s = parse_scenario(base + "comms: {plc: {hop_length_m: 150, concentrator_rate_per_s: 0.5}}\n");
    CHECK(s.comms.plc.hop_length_m == 150.0);
    CHECK(s.comms.plc.concentrator_rate_per_s == 0.5);
    const std::string y = scenario_to_yaml(s);
    CHECK(y.find("hop_length_m: 150") != std::string::npos);
    CHECK(y.find("concentrator_rate_per_s: 0.5") != std::string::npos);
    CHECK(parse_scenario(y).same_settings(s));
    CHECK_FALSE(s.same_settings(plain));
    CHECK(build_scenario(s).options.comms.plc.hop_length_m == 150.0);
    const Scenario none = parse_scenario(base + "comms: {plc: {concentrator_rate_per_s: none}}\n");
    CHECK(std::isinf(none.comms.plc.concentrator_rate_per_s));
    Scenario o = parse_scenario(base);
    override_key(o, "comms.plc.hop_length_m", "80");
    CHECK(o.comms.enabled);
    CHECK(o.comms.plc.hop_length_m == 80.0);
    CHECK_THROWS_WITH(parse_scenario(base + "comms: {plc: {hop_length_m: -1}}\n"), doctest::Contains("comms.plc.hop_length_m"));
    CHECK_THROWS_WITH(parse_scenario(base + "comms: {plc: {concentrator_rate_per_s: 0}}\n"), doctest::Contains("comms.plc.concentrator_rate_per_s"));
    CHECK_THROWS_WITH(parse_scenario(base + "comms: {plc: {concentrator_rate_per_s: fast}}\n"), doctest::Contains("comms.plc.concentrator_rate_per_s"));
}

TEST_CASE("comms topology: a run with hops and a busy concentrator resumes from its checkpoint to the same results") {
    // the concentrators' queues (busy until) and statistics carry over the checkpoint
    const Network net = cigre_lv();
    SimulationOptions o = short_run(400);
    o.step_s = 300;
    o.checkpoint_steps = 256;
    o.comms.plc.packet_loss = 0.05;
    o.comms.plc.hop_length_m = 40.0;
    o.comms.plc.concentrator_rate_per_s = 0.005;  // 200 s a reading: the busiest queue spills over intervals
    o.comms.deadline_s = 3600.0;
    const std::string whole = libgrid_test::scratch_path("comms_topo_whole.h5"), parts = libgrid_test::scratch_path("comms_topo_parts.h5");
    o.output_path = whole;
    const SimulationSummary sw = Simulation(net, DeviceSet{}, o).run();
    std::atomic<int> stop{0};
    o.output_path = parts;
    o.stop_requested = &stop;
    SimulationSummary s = Simulation(net, DeviceSet{}, o).run([&](std::size_t done, std::size_t) {
        if (done == 300) stop.store(SIGINT);
    });
    CHECK_FALSE(s.completed);
    stop.store(0);
    o.resume = true;
    s = Simulation(net, DeviceSet{}, o).run();
    CHECK(s.completed);
    CHECK(s.resumed_from_step == 256);
    CHECK(s.headend_readings == sw.headend_readings);
    CHECK(sw.headend_readings < sw.meter_readings);
    ResultsReader a(whole), b(parts);
    for (const char* p : {"/comms/concentrator/delivered_share", "/comms/concentrator/mean_delay_s", "/comms/concentrator/max_queue_wait_s", "/headend/import_kwh"}) {
        const std::vector<double> x = a.read_vector(p), y = b.read_vector(p);
        INFO(p);
        REQUIRE(x.size() == y.size());
        for (std::size_t i = 0; i < x.size(); ++i) CHECK((x[i] == y[i] || (std::isnan(x[i]) && std::isnan(y[i]))));
    }
    const std::vector<double> w = a.read_vector("/comms/concentrator/max_queue_wait_s");
    CHECK(*std::max_element(w.begin(), w.end(), [](double u, double v) { return std::isnan(u) || (!std::isnan(v) && u < v); }) > 900.0);
}

TEST_CASE("comms topology: hops and a queue change the head-end only; the step loop allocates nothing") {
    // the grid does not read the channel: every non-comms dataset as without comms, bit for bit
    const Network net = cigre_lv();
    SimulationOptions o = short_run(96);
    o.comms.enabled = false;
    o.output_path = libgrid_test::scratch_path("comms_topo_off.h5");
    Simulation(net, DeviceSet{}, o).run();
    o.comms.enabled = true;
    o.comms.plc.packet_loss = 0.1;
    o.comms.plc.hop_length_m = 50.0;
    o.comms.plc.concentrator_rate_per_s = 0.05;
    o.comms.deadline_s = 600.0;
    o.output_path = libgrid_test::scratch_path("comms_topo_on.h5");
    const SimulationSummary on = Simulation(net, DeviceSet{}, o).run();
    CHECK(on.headend_readings < on.meter_readings);
    ResultsReader a(libgrid_test::scratch_path("comms_topo_off.h5")), b(o.output_path);
    std::size_t compared = 0;
    for (const std::string& g : a.list("/")) {
        if (g == "summary" || a.is_dataset("/" + g)) continue;
        for (const std::string& n : a.list("/" + g)) {
            const std::string p = "/" + g + "/" + n;
            if (!a.is_dataset(p)) continue;
            std::vector<double> x, y;
            try {
                x = a.read_vector(p);
                y = b.read_vector(p);
            } catch (const Error&) {
                continue;  // strings
            }
            INFO(p);
            REQUIRE(x.size() == y.size());
            for (std::size_t i = 0; i < x.size(); ++i) CHECK((x[i] == y[i] || (std::isnan(x[i]) && std::isnan(y[i]))));
            ++compared;
        }
    }
    CHECK(compared > 20);
    CHECK_FALSE(a.exists("/comms"));
    // allocation-free: the head-end's intervals (hops, queue) inside the counted steps
    o.output_path.clear();
    o.start = from_civil(2025, 1, 10);  // no month end (the bills allocate) in the window
    const bool counting = alloc_counter_active();
    long at_first = -1, at_last = -1;
    Simulation sim(net, DeviceSet{}, o);
    sim.run([&](std::size_t done, std::size_t) {
        if (done == 8) at_first = g_operator_new_calls.load();
        if (done == 96) at_last = g_operator_new_calls.load();
    });
    MESSAGE("operator new calls in steps 8..95 with comms (hops, queue): " << at_last - at_first);
    if (counting) CHECK(at_last - at_first == 0);
}
