// Runs that survive: stop requests (signals), kills with checkpoints and resume, damaged results
// files, memory bounded in bytes (docs/reliability.md).
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include "../../../libgrid/src/simulation/checkpoint.hpp"

#include <hdf5.h>

#include <atomic>
#include <bit>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scratch_dir.hpp"

using namespace libgrid;

namespace {

/// In this process's scratch folder (removed at exit; children leave with _exit, so never early).
std::string tmp_path(const std::string& name) { return libgrid_test::scratch_path(name); }

std::string repro(const std::string& name) { return std::string(LIBGRID_TEST_DATA) + "/repro/" + name; }

/// Every object of a results file: path -> its values as bytes (datasets) or text (attributes).
/// Wall-clock KPIs are left out: they are the one thing two runs never share.
void collect(const ResultsReader& r, const std::string& group, std::vector<std::pair<std::string, std::string>>& out) {
    auto attrs = [&](const std::string& obj) {
        for (const std::string& a : r.attribute_names(obj)) out.emplace_back(obj + "@" + a, r.attribute(obj, a));
    };
    attrs(group);
    for (const std::string& n : r.list(group)) {
        const std::string p = group == "/" ? "/" + n : group + "/" + n;
        if (!r.is_dataset(p)) {
            collect(r, p, out);
            continue;
        }
        attrs(p);
        if (p == "/summary/wall_time_s") continue;
        std::string bytes;
        try {
            for (const std::string& s : r.read_strings(p)) bytes += s + '\n';
        } catch (const Error&) {
            const std::vector<double> v = r.read_vector(p);  // float32 and int64 (< 2^53) exactly
            bytes.assign(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
            const auto sh = r.shape(p);
            for (std::size_t d : sh) bytes += "|" + std::to_string(d);
        }
        out.emplace_back(p, bytes);
    }
}

std::vector<std::pair<std::string, std::string>> contents(const std::string& file) {
    ResultsReader r(file);
    std::vector<std::pair<std::string, std::string>> out;
    collect(r, "/", out);
    return out;
}

void check_same_contents(const std::string& a, const std::string& b) {
    const auto ca = contents(a), cb = contents(b);
    REQUIRE(ca.size() == cb.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < ca.size(); ++i) {
        INFO("object " << ca[i].first);
        CHECK(ca[i].first == cb[i].first);
        if (ca[i].second != cb[i].second) ++differ;
        CHECK(ca[i].second == cb[i].second);
    }
    MESSAGE(ca.size() << " objects compared, " << differ << " differ");
}

BuiltScenario smart_city(std::size_t steps) {
    Scenario sc = load_scenario(std::string(LIBGRID_SCENARIOS) + "/melaka_smart_city.yaml");
    override_key(sc, "network.model", "balanced");  // issue 15: checkpoints and events: the balanced engine
    if (steps) override_key(sc, "horizon.steps", std::to_string(steps));
    override_key(sc, "threads", "1");
    return build_scenario(sc);
}

/// Runs `b` in a child process that kills itself (SIGKILL) when step `kill_at` is done.
void run_killed_at(const BuiltScenario& b, const std::string& out, std::size_t kill_at) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        try {
            SimulationOptions o = b.options;
            o.output_path = out;
            Simulation sim(b.net, b.devices, o);
            sim.run([&](std::size_t done, std::size_t) {
                if (done == kill_at) ::raise(SIGKILL);
            });
        } catch (...) {
        }
        ::_exit(3);  // not killed: the test fails below
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFSIGNALED(status));
    REQUIRE(WTERMSIG(status) == SIGKILL);
}

}  // namespace

TEST_CASE("reliability: a stop request ends the run at a step boundary with its summary") {
    BuiltScenario b = smart_city(400);
    std::atomic<int> stop{0};
    b.options.output_path = tmp_path("stopped.h5");
    b.options.stop_requested = &stop;
    Simulation sim(b.net, b.devices, b.options);
    const SimulationSummary s = sim.run([&](std::size_t done, std::size_t) {
        if (done == 300) stop.store(SIGTERM);
    });
    CHECK_FALSE(s.completed);
    CHECK(s.steps == 300);
    CHECK(s.planned_steps == 400);
    CHECK(s.stop_reason == "SIGTERM");
    ResultsReader r(b.options.output_path);
    CHECK(r.attribute("/", "status") == "stopped");
    CHECK(r.attribute("/", "steps_done") == "300");
    CHECK(r.attribute("/", "steps_planned") == "400");
    CHECK(r.attribute("/summary", "incomplete") == "1");
    CHECK(r.read_scalar("/summary/steps") == 300.0);
    CHECK(r.shape("/time")[0] == 300);
    CHECK(r.shape("/bus/vm_pu")[0] == 300);
    CHECK(r.exists("/bill/total_rm"));  // bills for the steps done
    // the last checkpoint (step 256) stays for a resume
    CHECK(std::filesystem::exists(checkpoint_path(b.options.output_path)));
}

TEST_CASE("reliability: a year killed with SIGKILL at a random step and resumed equals the uninterrupted run") {
    // The smart-city year: OLTC, volt-var PV, batteries, EV stations, charging sites, BEMS, HEMS,
    // meters and bills. The kill step is random (seeded from the clock, printed).
    const BuiltScenario b = smart_city(0);
    const std::size_t n = b.options.n_steps;
    REQUIRE(n == 35040);
    const auto seed = static_cast<unsigned>(std::random_device{}());
    std::mt19937 rng(seed);
    // the first checkpoint reaches the disk at step 512 (that of step 256, once its rows are in the file)
    const std::size_t kill_at = std::uniform_int_distribution<std::size_t>(600, n - 1)(rng);
    const std::size_t boundary = kill_at / 256 * 256;
    MESSAGE("killed at step " << kill_at << " (seed " << seed << ")");

    const std::string whole = tmp_path("whole.h5"), killed = tmp_path("killed.h5");
    {
        SimulationOptions o = b.options;
        o.output_path = whole;
        Simulation sim(b.net, b.devices, o);
        CHECK(sim.run().completed);
        CHECK_FALSE(std::filesystem::exists(checkpoint_path(whole)));  // removed at the end
    }
    run_killed_at(b, killed, kill_at);
    REQUIRE(std::filesystem::exists(checkpoint_path(killed)));
    {
        // the killed file is readable to its last flushed rows and says it is incomplete
        ResultsReader r(killed);
        CHECK(r.attribute("/", "status") == "running");
        CHECK(r.shape("/time")[0] + 3 * 256 >= boundary);  // (no unsigned wrap below 768)
        CHECK_FALSE(r.exists("/summary"));
    }
    SimulationOptions o = b.options;
    o.output_path = killed;
    o.resume = true;
    Simulation sim(b.net, b.devices, o);
    const SimulationSummary s = sim.run();
    CHECK(s.completed);
    // The checkpoint on disk is the newest whose rows the writer thread had flushed: it lags the
    // run by up to three boundaries when the writer is slow (a loaded machine, sanitizers), never
    // more (snapshot_checkpoint flushes when a fourth would wait; docs/reliability.md).
    MESSAGE("resumed from step " << s.resumed_from_step);
    CHECK(s.resumed_from_step % 256 == 0);
    CHECK(s.resumed_from_step <= boundary);
    CHECK(s.resumed_from_step + 3 * 256 >= boundary);
    CHECK(s.steps == n);
    CHECK_FALSE(std::filesystem::exists(checkpoint_path(killed)));
    check_same_contents(whole, killed);
}

TEST_CASE("reliability: resume after a stop, twice, with events and Newton-Raphson") {
    // CIGRE LV with PV and batteries, a switch that opens and closes (rebuilds), NR: stopped at
    // step 700, resumed and stopped again at 1,300, resumed to the end.
    const Network net = read_case_json(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv.input.json");
    DeviceSet d;
    Id id = 1;
    for (const Load& l : net.loads) {
        PvUnit pv;
        pv.id = id;
        pv.bus = l.bus;
        pv.customer = l.id;
        pv.params.kwp_dc = std::max(1.0, l.p_mw * 800.0);
        pv.params.inverter_kva = pv.params.kwp_dc;
        pv.params.qmode = QControl::VoltVar;
        d.pv.push_back(pv);
        BatteryUnit bt;
        bt.id = id++;
        bt.bus = l.bus;
        bt.customer = l.id;
        bt.params.e_kwh = 10;
        bt.params.p_charge_kw = bt.params.p_discharge_kw = 5;
        d.batteries.push_back(bt);
    }
    SimulationOptions opt;
    opt.start = from_civil(2025, 1, 28);  // a month end inside the run (bills)
    opt.n_steps = 2000;
    opt.method = Method::NewtonRaphson;
    if (!net.switches.empty()) {
        d.events.push_back(Event{opt.start + 600 * 900, EventKind::OpenSwitch, "switch", net.switches[0].id});
        d.events.push_back(Event{opt.start + 1100 * 900, EventKind::CloseSwitch, "switch", net.switches[0].id});
    }
    d.events.push_back(Event{opt.start + 900 * 900, EventKind::OutOfService, "pv", 1});
    const std::string whole = tmp_path("cigre_whole.h5"), parts = tmp_path("cigre_parts.h5");
    {
        SimulationOptions o = opt;
        o.output_path = whole;
        Simulation(net, d, o).run();
    }
    std::atomic<int> stop{0};
    SimulationOptions o = opt;
    o.output_path = parts;
    o.stop_requested = &stop;
    std::size_t stop_at = 700;
    auto progress = [&](std::size_t done, std::size_t) {
        if (done == stop_at) stop.store(SIGINT);
    };
    SimulationSummary s = Simulation(net, d, o).run(progress);
    CHECK_FALSE(s.completed);
    CHECK(s.steps == 700);
    stop.store(0);
    stop_at = 1300;
    o.resume = true;
    s = Simulation(net, d, o).run(progress);
    CHECK_FALSE(s.completed);
    CHECK(s.resumed_from_step == 512);
    CHECK(s.steps == 1300);
    stop.store(0);
    stop_at = 0;  // no more stops
    s = Simulation(net, d, o).run(progress);
    CHECK(s.completed);
    CHECK(s.resumed_from_step == 1280);
    check_same_contents(whole, parts);
}

TEST_CASE("reliability: resume refuses what it cannot continue") {
    BuiltScenario b = smart_city(600);
    b.options.output_path = tmp_path("refuse.h5");
    std::atomic<int> stop{0};
    b.options.stop_requested = &stop;
    Simulation(b.net, b.devices, b.options).run([&](std::size_t done, std::size_t) {
        if (done == 520) stop.store(SIGINT);
    });
    const std::string ckpt = checkpoint_path(b.options.output_path);
    REQUIRE(std::filesystem::exists(ckpt));

    SUBCASE("other inputs") {
        SimulationOptions o = b.options;
        o.resume = true;
        o.seed = 2;
        CHECK_THROWS_WITH_AS(Simulation(b.net, b.devices, o).run(), doctest::Contains("belongs to another run"), Error);
    }
    SUBCASE("no checkpoint") {
        SimulationOptions o = b.options;
        o.resume = true;
        o.output_path = tmp_path("never_ran.h5");
        CHECK_THROWS_WITH_AS(Simulation(b.net, b.devices, o).run(), doctest::Contains("no checkpoint"), Error);
    }
    SUBCASE("a damaged checkpoint") {
        std::fstream f(ckpt, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(100);
        f.put('\x5a');
        f.close();
        SimulationOptions o = b.options;
        o.resume = true;
        CHECK_THROWS_WITH_AS(Simulation(b.net, b.devices, o).run(), doctest::Contains("checksum mismatch"), Error);
    }
    SUBCASE("a truncated checkpoint") {
        std::filesystem::resize_file(ckpt, 60);
        SimulationOptions o = b.options;
        o.resume = true;
        CHECK_THROWS_WITH_AS(Simulation(b.net, b.devices, o).run(), doctest::Contains("truncated"), Error);
    }
    SUBCASE("checkpoint_steps not on the quantum") {
        SimulationOptions o = b.options;
        o.checkpoint_steps = 100;
        CHECK_THROWS_WITH_AS(Simulation(b.net, b.devices, o).run(), doctest::Contains("checkpoint_steps"), ValidationError);
    }
}

TEST_CASE("reliability: checkpoint parser rejects junk with a clear error") {
    std::vector<unsigned char> junk(200, 0x41);
    CHECK_THROWS_WITH_AS(detail::parse_checkpoint(junk.data(), junk.size(), "junk"), doctest::Contains("bad magic"), Error);
    CHECK_THROWS_WITH_AS(detail::parse_checkpoint(junk.data(), 10, "junk"), doctest::Contains("too short"), Error);
}

TEST_CASE("reliability: damaged results files give an error, not a crash or a hang") {
    for (const char* f : {"h5_info_segv.h5", "h5_info_hang.h5", "h5_info_term_loop.h5", "h5_attr_heap_overflow.h5",
                          "h5_bus_error.h5", "h5_attr_close_segv.h5"}) {
        INFO(f);
        // check_results_file reads everything in a child process: any outcome but a crash of this
        // process is fine; a crash or a hang of the child is an Error naming the file
        try {
            check_results_file(repro(f), 20.0, ResultsCheck::Everything);
        } catch (const Error& e) {
            CHECK(std::string(e.what()).find(f) != std::string::npos);
        }
    }
    CHECK_THROWS_WITH_AS(check_results_file(repro("h5_info_segv.h5"), 20.0), doctest::Contains("damaged"), Error);
    CHECK_THROWS_WITH_AS(check_results_file(repro("h5_info_hang.h5"), 5.0), doctest::Contains("damaged"), Error);
    CHECK_THROWS_WITH_AS(check_results_file("/nonexistent/x.h5"), doctest::Contains("no such file"), Error);
    CHECK_THROWS_WITH_AS(check_results_file(std::string(LIBGRID_TEST_DATA)), doctest::Contains("is a directory"), Error);
}

TEST_CASE("reliability: fixed-length string attributes are read into a buffer of their own size") {
    // the heap overflow of read_string_data: read in process, where the type is sane
    const std::string path = tmp_path("fixed_strings.h5");
    {
        hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, 5);
        H5Tset_strpad(t, H5T_STR_NULLTERM);
        hsize_t n = 3;
        hid_t sp = H5Screate_simple(1, &n, nullptr);
        hid_t a = H5Acreate2(f, "names", t, sp, H5P_DEFAULT, H5P_DEFAULT);
        const char data[15] = {'a', 'b', 'c', 'd', 0, 'x', 0, 0, 0, 0, 'y', 'z', 0, 0, 0};
        H5Awrite(a, t, data);
        H5Aclose(a);
        H5Sclose(sp);
        H5Tclose(t);
        H5Fclose(f);
    }
    ResultsReader r(path);
    CHECK(r.attribute("/", "names") == "[abcd, x, yz]");
}

TEST_CASE("reliability: the writer's memory is bounded in bytes whatever chunk_rows says") {
    // 40 series of 300 columns with chunk_rows = 1,000,000: the rows per chunk are cut so that the
    // buffers (x3 with compression threads) stay within max_total_buffer_bytes
    const std::string path = tmp_path("bounded.h5");
    H5WriterOptions o;
    o.chunk_rows = 1000000;
    o.max_total_buffer_bytes = std::size_t{32} << 20;
    ResultsWriter w(path, o);
    w.plan(40 * 300);
    std::size_t bytes = 0;
    for (int i = 0; i < 40; ++i) w.add_series("g", std::string("s").append(std::to_string(i)), 300);
    w.close();
    hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    for (int i = 0; i < 40; ++i) {
        const std::string p = std::string("/g/s").append(std::to_string(i));
        hid_t d = H5Dopen2(f, p.c_str(), H5P_DEFAULT);
        hid_t pl = H5Dget_create_plist(d);
        hsize_t chunk[2] = {0, 0};
        H5Pget_chunk(pl, 2, chunk);
        bytes += std::size_t(chunk[0]) * 300 * 8 * 3;
        CHECK(chunk[0] >= 1);
        H5Pclose(pl);
        H5Dclose(d);
    }
    H5Fclose(f);
    CHECK(bytes <= o.max_total_buffer_bytes);
    // a row that alone passes the cap is an error naming the series
    H5WriterOptions tiny;
    tiny.max_total_buffer_bytes = 1000;
    ResultsWriter w2(tmp_path("tiny.h5"), tiny);
    CHECK_THROWS_WITH_AS(w2.add_series("bus", "vm_pu", 1000), doctest::Contains("/bus/vm_pu"), ValidationError);
    // ... unless the plan says the rows are that wide: the budget rises to one row of every series
    // (x3 with compression threads), so a wide network runs, one row per chunk
    const std::string wide = tmp_path("wide.h5");
    {
        ResultsWriter w3(wide, tiny);
        w3.plan(3 * 1000);
        std::vector<int> handles;
        for (const char* n : {"a", "b", "c"}) handles.push_back(w3.add_series("node", n, 1000));
        const std::vector<double> row(1000, 1.0);
        for (int h : handles) w3.append(h, row.data());
        w3.close();
    }
    ResultsReader r3(wide);
    CHECK(r3.shape("/node/a")[0] == 1);
    CHECK(r3.shape("/node/c")[1] == 1000);
}

TEST_CASE("reliability: a run stops before its file system is full and keeps a readable file") {
    BuiltScenario b = smart_city(50);
    b.options.output_path = tmp_path("nearly_full.h5");
    b.options.min_free_bytes = std::numeric_limits<std::size_t>::max();  // any disk is "nearly full"
    Simulation sim(b.net, b.devices, b.options);
    const SimulationSummary s = sim.run();
    CHECK_FALSE(s.completed);
    CHECK(s.steps == 0);
    CHECK(s.stop_reason.find("disk nearly full") != std::string::npos);
    ResultsReader r(b.options.output_path);
    CHECK(r.attribute("/", "status") == "stopped");
    CHECK(r.exists("/summary/steps"));
}

TEST_CASE("reliability: a write that fails (file size limit, full disk) leaves the file readable to its last flush") {
    // RLIMIT_FSIZE makes the writes past 3 MB fail (EFBIG), as a full disk fails them (ENOSPC),
    // without needing a small file system. The child process reports how the run ended.
    BuiltScenario b = smart_city(5000);
    b.options.output_path = tmp_path("size_limited.h5");
    b.options.min_free_bytes = 0;
    b.options.checkpoint_steps = 0;
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        std::signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim {3u << 20, 3u << 20};
        ::setrlimit(RLIMIT_FSIZE, &lim);
        int code = 4;
        try {
            Simulation(b.net, b.devices, b.options).run();
            code = 3;  // should not finish
        } catch (const Error& e) {
            const std::string m = e.what();
            code = m.find("keeps what was flushed") != std::string::npos ? 0 : 5;
        }
        ::_exit(code);  // (this process's libhdf5 would run its shutdown at exit; the CLI skips it)
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    ResultsReader r(b.options.output_path);
    CHECK(r.attribute("/", "status") == "running");
    const std::size_t rows = r.shape("/time")[0];
    CHECK(rows > 0);
    CHECK(rows < 5000);
    CHECK(r.shape("/bus/vm_pu")[0] >= rows - 256);
    const std::vector<double> vm = r.read_rows("/bus/vm_pu", 0, r.shape("/bus/vm_pu")[0]);
    CHECK(std::isfinite(vm.front()));
}
