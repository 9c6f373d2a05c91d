// Sweeps in C++: sweep files read through the scenario reader (errors name file, line and key), the
// variants run by run_batch equal single runs, and the KPIs of the returned summaries equal the
// /summary datasets of the results files.
#include <doctest/doctest.h>

#include "../scratch_dir.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/scenario/sweep.hpp>

#include <filesystem>
#include <fstream>
#include <string>

using namespace libgrid;

namespace {

const std::string kScenarios = LIBGRID_SCENARIOS;

std::string write_file(const std::string& name, const std::string& text) {
    const auto dir = libgrid_test::scratch_dir() / "sweep";
    std::filesystem::create_directories(dir);
    const std::string p = (dir / name).string();
    std::ofstream(p) << text;
    return p;
}

std::string sweep_error(const std::string& text) {
    const std::string p = write_file("s.yaml", text);
    try {
        load_sweep_file(p);
    } catch (const Error& e) {
        return e.what();
    }
    FAIL("no error for: " << text);
    return "";
}

}  // namespace

TEST_CASE("sweep files: grid (last key fastest), variants, set, output_dir, workers") {
    const std::string p = write_file("ok.yaml", "name: t\nbase: " + kScenarios + "/melaka_baseline.yaml\nset: {steps: 8}\n"
                                     "grid:\n  devices.ev.share: [0.1, 0.5]\n  seed: [1, 2]\n"
                                     "variants:\n  - {seed: 5, devices.pv.share: 0.5}\noutput_dir: out\nworkers: 3\n");
    const SweepFile f = load_sweep_file(p);
    CHECK(f.name == "t");
    CHECK(f.workers == 3);
    CHECK(f.output_dir == (std::filesystem::path(p).parent_path() / "out").string());
    CHECK(f.base.horizon.n_steps == 8);
    REQUIRE(f.variants.size() == 5);
    CHECK(f.variants[0] == SweepVariant{{"devices.ev.share", "0.1"}, {"seed", "1"}});
    CHECK(f.variants[1] == SweepVariant{{"devices.ev.share", "0.1"}, {"seed", "2"}});
    CHECK(f.variants[2] == SweepVariant{{"devices.ev.share", "0.5"}, {"seed", "1"}});
    CHECK(f.variants[4] == SweepVariant{{"seed", "5"}, {"devices.pv.share", "0.5"}});
    const Scenario v = variant_scenario(f.base, f.variants[4]);
    CHECK(v.seed == 5);
    CHECK(v.devices.pv.share == 0.5);
    CHECK(v.outputs.compression_threads == 0);
}

TEST_CASE("sweep files: errors name the file, the line and the key") {
    const std::string base = "base: " + kScenarios + "/melaka_baseline.yaml\n";
    CHECK(sweep_error(base + "grid:\n  seed: [1]\nworker: 2\n").find("s.yaml:4: key 'worker': unknown key (did you mean 'workers'?)") != std::string::npos);
    CHECK(sweep_error(base + "grid:\n  seed: 3\n").find("s.yaml:3: key 'grid.seed': expected a non-empty list") != std::string::npos);
    CHECK(sweep_error("base: nowhere.yaml\ngrid:\n  seed: [1]\n").find("s.yaml:1: key 'base': no such scenario file") != std::string::npos);
    CHECK(sweep_error(base).find("s.yaml:1: no variants") != std::string::npos);
    CHECK(sweep_error(base + "variants:\n  - {seed: 1}\n  - 7\n").find("s.yaml:4: key 'variants.1': expected a mapping") != std::string::npos);
    const std::string set = sweep_error(base + "set: {devices.pv.shar: 0.1}\ngrid: {seed: [1]}\n");
    CHECK(set.find("s.yaml:2: key 'set.devices.pv.shar': ") != std::string::npos);
    CHECK(set.find("did you mean 'share'") != std::string::npos);
    const std::string grid = sweep_error(base + "grid:\n  devices.pv.share: [0.1, 2]\n");
    CHECK(grid.find("s.yaml:3: key 'grid.devices.pv.share': value 2: ") != std::string::npos);
    CHECK(grid.find("expected a number in") != std::string::npos);
    const std::string var = sweep_error(base + "set: {steps: 4}\nvariants:\n  - {seed: 1}\n  - {devices.ev.nonsense: 1}\n");
    CHECK(var.find("s.yaml:5: key 'variants.1.devices.ev.nonsense'") != std::string::npos);
    CHECK(var.find("unknown key") != std::string::npos);
    CHECK(sweep_error(base + "variants:\n  - {steps: 4, horizon.steps: 8}\n").find("keys 'steps' and 'horizon.steps' both set") != std::string::npos);
    CHECK_THROWS_WITH(load_sweep_file(libgrid_test::scratch_dir().string()), doctest::Contains("is a directory"));
}

TEST_CASE("sweep in C++: run_batch rows equal single runs, at 1 and 2 threads; KPIs equal the files' /summary") {
    Scenario base = load_scenario(kScenarios + "/melaka_baseline.yaml");
    override_key(base, "horizon.steps", "8");
    const std::vector<SweepVariant> variants = {{{"seed", "1"}}, {{"seed", "2"}, {"devices.ev.share", "0.5"}},
                                                {{"devices.ev.public_sites.sites", "1000"}}};
    const std::string dir = (libgrid_test::scratch_dir() / "sweep_out").string();
    std::size_t done = 0;
    const auto rows = run_sweep(base, variants, 2, dir, nullptr, [&](std::size_t, const BatchResult&) { ++done; });
    const auto serial = run_sweep(base, variants, 1, "");
    CHECK(done == 3);
    REQUIRE(rows.size() == 3);
    CHECK_FALSE(rows[2].ok);
    CHECK(rows[2].error.find("1000 sites asked") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(sweep_output(dir, 2)));
    for (std::size_t i = 0; i < 2; ++i) {
        CAPTURE(i);
        REQUIRE(rows[i].ok);
        REQUIRE(serial[i].ok);
        // the same as running the variant on its own
        const Scenario sc = variant_scenario(base, variants[i]);
        BuiltScenario b = build_scenario(sc);
        CHECK(b.unbalanced);  // issue 15: the Melaka base is unbalanced by default; the sweep runs it so
        const SimulationSummary one = make_simulation(b).run();
        const auto a = summary_kpis(rows[i].summary), s = summary_kpis(serial[i].summary), o = summary_kpis(one);
        ResultsReader r(sweep_output(dir, i));
        std::vector<std::string> scalars;
        for (const std::string& name : r.list("/summary"))
            if (r.is_dataset("/summary/" + name) && r.shape("/summary/" + name).empty()) scalars.push_back(name);
        REQUIRE(scalars.size() == a.size());  // every scalar of /summary, no more
        for (std::size_t k = 0; k < a.size(); ++k) {
            CAPTURE(a[k].name);
            CHECK(a[k].name == scalars[k]);
            CHECK(a[k].unit == r.unit("/summary/" + a[k].name));
            if (a[k].name == "wall_time_s") continue;
            CHECK(a[k].value == r.read_scalar("/summary/" + a[k].name));  // bit for bit
            CHECK(a[k].value == s[k].value);
            CHECK(a[k].value == o[k].value);
        }
    }
    CHECK(rows[0].summary.import_mwh != rows[1].summary.import_mwh);
}

TEST_CASE("run_batch: a stop request leaves items not yet started unrun") {
    std::atomic<int> stop{2};
    Scenario base = load_scenario(kScenarios + "/melaka_baseline.yaml");
    override_key(base, "horizon.steps", "4");
    const auto rows = run_sweep(base, {{{"seed", "1"}}, {{"seed", "2"}}}, 1, "", &stop);
    REQUIRE(rows.size() == 2);
    for (const BatchResult& r : rows) {
        CHECK_FALSE(r.ok);
        CHECK(r.error == "not run: the batch was stopped");
    }
}

TEST_CASE("sweep file: a grid beyond kMaxSweepVariants combinations is refused before anything is made") {
    std::string text = "scenario:\n  name: big\n  network: {generator: melaka, size: small}\n"
                       "  horizon: {start: \"2025-01-01\", step: 15min, steps: 4}\ngrid:\n";
    for (const char* key : {"seed", "devices.pv.share", "devices.ev.share", "devices.battery.share", "devices.homes.share"}) {
        text += std::string("  ") + key + ": [";
        for (int i = 0; i < 7; ++i) text += (i ? ", " : "") + std::string(key == std::string("seed") ? std::to_string(i + 1) : "0." + std::to_string(i));
        text += "]\n";
    }
    // 7^5 = 16,807 combinations > 10,000
    try {
        (void)libgrid::parse_sweep_file(text, "big.yaml");
        FAIL("accepted a grid of 16,807 combinations");
    } catch (const libgrid::ParseError& e) {
        CHECK(std::string(e.what()).find("more than 10000 combinations") != std::string::npos);
        CHECK(std::string(e.what()).find("grid") != std::string::npos);
    }
}

TEST_CASE("sweep file: a complex key (found by fuzz_sweep) is a ParseError with the line, not a yaml-cpp exception") {
    const std::string text = "name: tiny\nscenario:\n  name: tiny\n  network: {generator: melaka, size: small}\n"
                             "grid:\n  devices.ev.share: [0.0, 0.2]\n?  seed: [1, 2]\n";
    try {
        (void)libgrid::parse_sweep_file(text, "tiny.yaml");
        FAIL("accepted a mapping as a key");
    } catch (const libgrid::ParseError& e) {
        CHECK(std::string(e.what()).find("tiny.yaml:7") != std::string::npos);
        CHECK(std::string(e.what()).find("plain key") != std::string::npos);
    }
}
