// Guards around a run (issue 10): only regular files are read, and never more than a limit; an output
// is never one of the inputs; runs that cannot finish are refused up front with an estimate; islands
// without a source are reported; the scenario reader keeps no reference to a temporary YAML node.
#include <doctest/doctest.h>

#include "scratch_dir.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/core/input_file.hpp>
#include <libgrid/io/matpower.hpp>
#include <libgrid/io/network_io.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/profiles/time_series.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

using namespace libgrid;
namespace fs = std::filesystem;

namespace {

const std::string kData = LIBGRID_TEST_DATA;

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no exception)";
}

std::string write_file(const std::string& name, const std::string& text) {
    const std::string p = libgrid_test::scratch_path(name);
    fs::create_directories(fs::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
}

std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

/// Runs `f` on another thread and gives it 20 s: a reader that waits on a FIFO or reads /dev/zero
/// forever ends the test process with a failure instead of hanging it.
template <class F>
std::string error_within_20s(F f) {
    auto done = std::make_shared<std::promise<std::string>>();
    std::future<std::string> fut = done->get_future();
    std::thread([f, done] { done->set_value(error_of(f)); }).detach();
    if (fut.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
        std::fprintf(stderr, "test_guards: a reader was still reading after 20 s\n");
        std::_Exit(1);
    }
    return fut.get();
}

/// Sets an environment variable for one scope.
struct ScopedEnv {
    std::string name;
    ScopedEnv(const char* n, const char* value) : name(n) { ::setenv(n, value, 1); }
    ~ScopedEnv() { ::unsetenv(name.c_str()); }
};

const char* kSmall = R"(name: guard
seed: 3
network: {generator: melaka, size: small, model: balanced}
horizon: {start: "2025-03-03", step: 15min, steps: 96}
devices:
  pv: {share: 0.3}
  ev: {share: 0.2}
)";

}  // namespace

// ---- scenario reader: no reference to a temporary (scenario.cpp MapReader) ----------------------

TEST_CASE("guards: a scenario with a map parses (the reader keeps no reference to a temporary node)") {
    // ../shared/repro/scenario_min_map.yaml: under -fsanitize=address every map gave
    // stack-use-after-scope in MapReader (`const YAML::Node& k = it->first;`); the sanitizer build
    // (.ci/sanitize.sh) runs this.
    const Scenario s = load_scenario(kData + "/repro/scenario_min_map.yaml");
    CHECK(s.name == "x");
    const Scenario t = parse_scenario("name: y\nseed: 5\nhorizon: {steps: 4, step: 1h}\ndevices: {pv: {share: 0.5}, ev: {share: 0.25}}\n");
    CHECK(t.name == "y");
    CHECK(t.seed == 5);
    CHECK(t.horizon.n_steps == 4);
    CHECK(t.devices.ev.share == 0.25);
    CHECK(has(error_of([] { parse_scenario("name: y\nname: z\n", "d.yaml"); }), "d.yaml:2: key 'name': duplicate key"));
}

// ---- only regular files, at most kMaxInputFileBytes ---------------------------------------------

TEST_CASE("guards: input files must be regular files") {
    const fs::path dir = libgrid_test::scratch_dir() / "inputs";
    fs::create_directories(dir / "net.m");
    fs::create_directories(dir / "net.json");
    fs::create_directories(dir / "s.yaml");
    fs::create_directories(dir / "w.csv");
    fs::create_directories(dir / "p.h5");
    SUBCASE("a directory") {
        CHECK(has(error_of([&] { read_input_file((dir / "net.m").string()); }), "net.m:0: is a directory"));
        CHECK(has(error_of([&] { read_matpower((dir / "net.m").string()); }), "is a directory"));
        CHECK(has(error_of([&] { read_network((dir / "net.json").string()); }), "is a directory"));
        CHECK(has(error_of([&] { load_scenario((dir / "s.yaml").string()); }), "is a directory"));
        CHECK(has(error_of([&] { read_csv((dir / "w.csv").string()); }), "is a directory"));
        CHECK(has(error_of([&] { read_hdf5((dir / "p.h5").string(), "load"); }), "is a directory"));
        CHECK_THROWS_AS(read_case_json((dir / "net.json").string()), ParseError);
    }
    SUBCASE("a device: /dev/zero, also behind a .m or .json name") {
        REQUIRE(fs::exists("/dev/zero"));
        std::error_code ec;
        fs::create_symlink("/dev/zero", dir / "zero.m", ec);
        fs::create_symlink("/dev/zero", dir / "zero.json", ec);
        CHECK(has(error_within_20s([&] { read_matpower((dir / "zero.m").string()); }), "not a regular file (a character device)"));
        CHECK(has(error_within_20s([&] { read_case_json((dir / "zero.json").string()); }), "not a regular file (a character device)"));
        CHECK(has(error_within_20s([] { load_scenario("/dev/zero"); }), "/dev/zero:0: not a regular file"));
        CHECK(has(error_within_20s([] { read_csv("/dev/zero"); }), "not a regular file"));
        CHECK(has(input_file_problem("/dev/null"), "not a regular file"));
    }
    SUBCASE("a FIFO is refused, not waited on") {
        const fs::path fifo = dir / "pipe.m";
        fs::remove(fifo);
        REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
        CHECK(has(error_within_20s([&] { read_matpower(fifo.string()); }), "not a regular file (a FIFO (named pipe))"));
    }
    SUBCASE("missing") {
        CHECK(has(error_of([&] { read_matpower((dir / "none.m").string()); }), "none.m:0: cannot open: no such file"));
        CHECK(input_file_problem((dir / "none.m").string()) == "no such file");
    }
    SUBCASE("a regular file reads as before, also through a symbolic link") {
        std::error_code ec;
        fs::create_symlink(kData + "/matpower/case9.m", dir / "link9.m", ec);
        CHECK(read_matpower((dir / "link9.m").string()) == read_matpower(kData + "/matpower/case9.m"));
        CHECK(input_file_problem(kData + "/matpower/case9.m").empty());
    }
}

TEST_CASE("guards: the results reader opens regular files only (a FIFO would block libhdf5)") {
    const fs::path dir = libgrid_test::scratch_dir() / "results_inputs";
    fs::create_directories(dir / "dir.h5");
    const fs::path fifo = dir / "pipe.h5";
    fs::remove(fifo);
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK(has(error_within_20s([&] { ResultsReader r(fifo.string()); }), "not a regular file (a FIFO (named pipe))"));
    CHECK(has(error_within_20s([] { ResultsReader r("/dev/zero"); }), "not a regular file (a character device)"));
    CHECK(has(error_of([&] { ResultsReader r((dir / "dir.h5").string()); }), "is a directory"));
    CHECK(has(error_of([&] { ResultsReader r((dir / "none.h5").string()); }), "no such file"));
}

TEST_CASE("guards: input files are read up to a limit (1 GiB)") {
    CHECK(kMaxInputFileBytes == std::uint64_t{1} << 30);
    const std::string small = write_file("limit/hundred.m", std::string(100, 'x'));
    CHECK(read_input_file(small, 100).size() == 100);
    CHECK(has(error_of([&] { read_input_file(small, 99); }), "is 100 bytes, more than the limit of 99 bytes"));
    // a sparse file one byte over 1 GiB: no disk space used, refused before a byte is read
    const std::string big = libgrid_test::scratch_path("limit/big.m");
    { std::ofstream(big, std::ios::binary) << "x"; }
    fs::resize_file(big, kMaxInputFileBytes + 1);
    const std::string e = error_of([&] { read_matpower(big); });
    CHECK(has(e, "is 1073741825 bytes, more than the limit of 1073741824 bytes (1 GiB) for an input file"));
    CHECK(has(input_file_problem(big), "more than the limit"));
}

TEST_CASE("guards: network.file and weather.file must be regular files (key named)") {
    const fs::path dir = libgrid_test::scratch_dir() / "scn";
    fs::create_directories(dir / "grid.m");
    fs::create_directories(dir / "weather.csv");
    std::error_code ec;
    fs::create_symlink("/dev/zero", dir / "zero.m", ec);
    auto parse = [&](const std::string& text) { return error_of([&] { parse_scenario(text, (dir / "s.yaml").string()); }); };
    const std::string e1 = parse("network:\n  file: grid.m\n");
    CHECK(has(e1, "s.yaml:2: key 'network.file': is a directory, not a file: "));
    const std::string e2 = parse("network:\n  file: zero.m\n");
    CHECK(has(e2, "key 'network.file': not a regular file (a character device)"));
    const std::string e3 = parse("weather:\n  file: weather.csv\n");
    CHECK(has(e3, "s.yaml:2: key 'weather.file': is a directory"));
    CHECK(has(parse("network:\n  file: none.m\n"), "key 'network.file': no such file: "));
}

// ---- an output is never an input -------------------------------------------------------------------

TEST_CASE("guards: the output may not be one of the scenario's inputs") {
    const fs::path dir = libgrid_test::scratch_dir() / "same";
    fs::create_directories(dir / "sub");
    fs::copy_file(kData + "/matpower/case9.m", dir / "net9.m", fs::copy_options::overwrite_existing);
    write_file("same/weather.csv", "time,ghi_wm2,temp_c\n2025-03-03T00:00,0,25\n");
    const std::string text = "network: {file: net9.m}\nweather: {file: weather.csv}\nhorizon: {steps: 4}\n";
    const std::string spath = write_file("same/s.yaml", text);
    const Scenario s = load_scenario(spath);
    const std::string d = dir.string();

    const std::string e1 = error_of([&] { check_output_is_not_input(s, spath); });
    CHECK(has(e1, "output '" + spath + "' is the scenario file itself: refusing to overwrite an input"));
    CHECK(has(error_of([&] { check_output_is_not_input(s, d + "/sub/../s.yaml"); }), "the scenario file itself"));
    CHECK(has(error_of([&] { check_output_is_not_input(s, d + "/./net9.m"); }),
              "is the scenario's network file (network.file = " + d + "/net9.m)"));
    CHECK(has(error_of([&] { check_output_is_not_input(s, d + "/weather.csv"); }), "weather file (weather.file = "));
    // the same file under another name: a hard link and a symbolic link
    fs::create_hard_link(spath, dir / "hard.yaml");
    CHECK(has(error_of([&] { check_output_is_not_input(s, d + "/hard.yaml"); }), "the scenario file itself"));
    fs::create_symlink(dir / "net9.m", dir / "soft.h5");
    CHECK(has(error_of([&] { check_output_is_not_input(s, d + "/soft.h5"); }), "network file"));
    // from another working directory, by a relative name
    const fs::path cwd = fs::current_path();
    fs::current_path(dir / "sub");
    const std::string e_rel = error_of([&] { check_output_is_not_input(s, "../net9.m"); });
    fs::current_path(cwd);
    CHECK(has(e_rel, "network file"));
    // other files are fine, existing or not; the inputs are untouched
    CHECK_NOTHROW(check_output_is_not_input(s, d + "/out.h5"));
    CHECK_NOTHROW(check_output_is_not_input(s, d + "/sub/s.yaml"));
    CHECK_NOTHROW(check_output_is_not_input(s, ""));
    CHECK(slurp(spath) == text);
    CHECK(same_file(spath, d + "/hard.yaml"));
    CHECK_FALSE(same_file(spath, d + "/net9.m"));
    // a scenario from a string has no file of its own
    CHECK_NOTHROW(check_output_is_not_input(parse_scenario("horizon: {steps: 4}\n"), spath));
}

// ---- runs that cannot finish are refused up front ---------------------------------------------------

TEST_CASE("guards: the estimate of a run bounds its results file") {
    Scenario s = parse_scenario(kSmall, "<string>");
    const BuiltScenario b = build_scenario(s);
    const RunEstimate e = estimate_run(b);
    CHECK(e.steps == 96);
    CHECK(e.bytes_per_value == 4);
    CHECK(e.columns > b.net.buses.size() + b.net.lines.size() + b.net.loads.size());
    CHECK(e.meter_rows == 96);
    CHECK(e.meter_columns == 2 * b.net.loads.size());
    CHECK(e.output_min_bytes == doctest::Approx(e.output_bytes / kMaxCompressionRatio));
    CHECK(e.memory_bytes > 0);
    CHECK(has(e.text(), "96 steps x "));

    // the estimate against a real run: the file lies between the smallest and the raw size
    const std::string out = libgrid_test::scratch_path("estimate/run.h5");
    fs::create_directories(fs::path(out).parent_path());
    const RunEstimate checked = check_run_resources(s, b, out);
    CHECK(checked.output_bytes == e.output_bytes);
    BuiltScenario run = b;
    run.options.output_path = out;
    Simulation(run.net, run.devices, run.options).run();
    const double size = double(fs::file_size(out));
    MESSAGE("estimate " << e.text() << "; file " << size << " bytes");
    CHECK(size > e.output_min_bytes);
    CHECK(size < e.output_bytes * 1.5 + 2e6);  // + ids, attributes and HDF5 metadata
}

TEST_CASE("guards: a run that cannot finish is refused before anything is written, with the estimate") {
    const Scenario s = parse_scenario(kSmall, "<string>");
    const BuiltScenario b = build_scenario(s);
    const std::string out = libgrid_test::scratch_path("refused.h5");
    CHECK_NOTHROW(check_run_resources(s, b, out));  // a day of the small grid fits anywhere
    SUBCASE("not enough free space: refused before anything is written") {
        const std::string out2 = libgrid_test::scratch_path("estimate/full.h5");
        RunLimits lim;
        lim.free_bytes = 1000;
        const std::string msg = error_of([&] { check_run_resources(s, b, out2, lim); });
        CHECK(has(msg, "96 steps of 15min: the results file '" + out2 + "' cannot fit: 1e-06 GB free on its file system (estimate: 96 steps x "));
        CHECK_FALSE(fs::exists(out2));
    }
    SUBCASE("the scenario's cap outputs.max_file_gb") {
        Scenario capped = parse_scenario(kSmall, "<string>");
        override_key(capped, "outputs.max_file_gb", "0.000001");
        const std::string msg = error_of([&] { check_run_resources(capped, b, out, {}); });
        CHECK(has(msg, "the results file would exceed outputs.max_file_gb = 1e-06 GB (estimate: "));
        CHECK_NOTHROW(check_run_resources(capped, b, "", {}));  // no file: no cap
    }
    SUBCASE("not enough memory") {
        RunLimits lim;
        lim.memory_bytes = 1e6;
        CHECK(has(error_of([&] { check_run_resources(s, b, "", lim); }), "the run would need more memory than the limit of 0.001 GB"));
        const ScopedEnv env("LIBGRID_MEMORY_LIMIT_GB", "0.001");
        CHECK(memory_limit_bytes() == doctest::Approx(1e6));
        CHECK(has(error_of([&] { check_run_resources(s, b, out, {}); }), "$LIBGRID_MEMORY_LIMIT_GB"));
    }
    SUBCASE("a bad memory limit is an error naming the variable") {
        const ScopedEnv env("LIBGRID_MEMORY_LIMIT_GB", "lots");
        CHECK(has(error_of([] { memory_limit_bytes(); }), "$LIBGRID_MEMORY_LIMIT_GB: expected a number of GB > 0, got 'lots'"));
    }
}

TEST_CASE("guards: a horizon whose EV sessions cannot fit in memory is refused before they are generated") {
    Scenario s = parse_scenario(kSmall, "<string>");
    override_key(s, "horizon.duration", "100y");
    override_key(s, "devices.ev.share", "1");
    override_key(s, "devices.ev.sessions_per_day", "3");
    const ScopedEnv env("LIBGRID_MEMORY_LIMIT_GB", "0.05");
    const std::string msg = error_of([&] { build_scenario(s); });
    CHECK(has(msg, "scenario <string>: key 'horizon': the EV charging sessions of 100y ("));
    CHECK(has(msg, " steps of 15min) alone need about "));
    CHECK(has(msg, "more than the limit of 0.05 GB"));
}

TEST_CASE("guards: outputs.max_file_gb is a number > 0 or none, and round-trips") {
    Scenario s = parse_scenario("outputs: {max_file_gb: 2.5}\n", "m.yaml");
    CHECK(s.outputs.max_file_gb == 2.5);
    CHECK(std::isinf(parse_scenario("outputs: {max_file_gb: none}\n").outputs.max_file_gb));
    CHECK(std::isinf(parse_scenario("name: d\n").outputs.max_file_gb));
    CHECK(has(error_of([] { parse_scenario("outputs:\n  max_file_gb: 0\n", "m.yaml"); }),
              "m.yaml:2: key 'outputs.max_file_gb': expected a number > 0 or 'none', got '0'"));
    CHECK(parse_scenario(scenario_to_yaml(s)).same_settings(s));
}

// ---- islands without a source --------------------------------------------------------------------

TEST_CASE("guards: an island without a source is listed, and the rest solves as without it") {
    const Network island = read_matpower(kData + "/guards/case9_island.m");
    const Network plain = read_matpower(kData + "/matpower/case9.m");
    const PowerFlowResult r = run_power_flow(island);
    const PowerFlowResult p = run_power_flow(plain);
    REQUIRE(r.converged);
    CHECK(r.deenergized_buses == std::vector<Id>{10, 11});
    CHECK(deenergized_buses(island) == std::vector<Id>{10, 11});
    CHECK(p.deenergized_buses.empty());
    CHECK(deenergized_buses(plain).empty());
    for (std::size_t b = 0; b < plain.buses.size(); ++b) {
        CHECK(r.bus_vm_pu[b] == p.bus_vm_pu[b]);  // bit for bit: the dead island changes nothing
        CHECK(r.bus_va_deg[b] == p.bus_va_deg[b]);
    }
    CHECK(std::isnan(r.bus_vm_pu[9]));
    CHECK(std::isnan(r.bus_vm_pu[10]));
    // out of service (and isolated) buses are off on purpose: not listed
    Network off = island;
    off.buses[9].in_service = false;
    off.buses[10].in_service = false;
    for (Load& l : off.loads)
        if (l.bus >= 10) l.in_service = false;
    for (Branch& br : off.branches)
        if (br.from_bus >= 10) br.in_service = false;
    CHECK(run_power_flow(off).deenergized_buses.empty());
}

TEST_CASE("guards: a simulation counts its de-energised buses (summary and /summary)") {
    const Network island = read_matpower(kData + "/guards/case9_island.m");
    SimulationOptions opt;
    opt.n_steps = 4;
    opt.step_s = 3600;
    opt.meter_interval_s = 3600;
    opt.output_path = libgrid_test::scratch_path("island.h5");
    const SimulationSummary s = Simulation(island, DeviceSet{}, opt).run();
    CHECK(s.deenergized_buses == 2);
    CHECK(s.non_converged_steps == 0);
    ResultsReader rr(opt.output_path);
    CHECK(rr.read_vector("/summary/deenergized_buses") == std::vector<double>{2.0});
    opt.output_path.clear();
    CHECK(Simulation(read_matpower(kData + "/matpower/case9.m"), DeviceSet{}, opt).run().deenergized_buses == 0);
}
