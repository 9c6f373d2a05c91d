// The recorders: an HDF5 run and an in-memory run of the same scenario hold the same series, and every
// series the engine and its device groups declare is described in docs/results_hdf5.md.
#include <doctest/doctest.h>

#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/results/recorder.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include <filesystem>
#include <fstream>
// GCC 12 at -O1 with the sanitizers warns "may be used uninitialized" inside libstdc++'s <regex>
// (std::function moved in _NFA::_M_insert_subexpr_*): a false positive in the library's code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>

using namespace libgrid;

namespace {

/// Every object path the layout document names in backticks, with `{a,b}` alternatives expanded.
std::set<std::string> documented_paths() {
    std::ifstream f(std::string(LIBGRID_SCENARIOS) + "/../docs/results_hdf5.md");
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string doc = ss.str();
    std::set<std::string> out;
    const std::regex code("`(/[^`\\s]+)`");
    for (auto it = std::sregex_iterator(doc.begin(), doc.end(), code); it != std::sregex_iterator(); ++it) {
        std::vector<std::string> paths{(*it)[1].str()};
        for (bool more = true; more;) {
            more = false;
            std::vector<std::string> next;
            for (const std::string& p : paths) {
                const auto a = p.find('{'), b = p.find('}');
                if (a == std::string::npos || b == std::string::npos || b < a) {
                    next.push_back(p);
                    continue;
                }
                more = true;
                std::stringstream alts(p.substr(a + 1, b - a - 1));
                for (std::string alt; std::getline(alts, alt, ',');) next.push_back(p.substr(0, a) + alt + p.substr(b + 1));
            }
            paths = next;
        }
        out.insert(paths.begin(), paths.end());
    }
    return out;
}

}  // namespace

TEST_CASE("recorder: HDF5 and in-memory runs of the smart-city scenario record the same series, each one documented") {
    Scenario sc = load_scenario(std::string(LIBGRID_SCENARIOS) + "/melaka_smart_city.yaml");
    override_key(sc, "network.model", "balanced");  // issue 15: the balanced engine's series
    BuiltScenario b = build_scenario(sc);
    b.options.n_steps = 8;
    b.options.checkpoint_steps = 0;
    b.options.h5.float32 = false;
    const std::string path = (std::filesystem::temp_directory_path() / ("libgrid_recorder_" + std::to_string(::getpid()) + ".h5")).string();
    SimulationOptions o1 = b.options;
    o1.output_path = path;
    const SimulationSummary s1 = Simulation(b.net, b.devices, o1).run();
    MemoryRecorder mem;
    SimulationOptions o2 = b.options;
    o2.recorder = &mem;
    const SimulationSummary s2 = Simulation(b.net, b.devices, o2).run();
    CHECK(s1.load_mwh == s2.load_mwh);
    CHECK(s1.pv_mwh == s2.pv_mwh);

    const std::set<std::string> doc = documented_paths();
    ResultsReader r(path);
    std::set<std::string> groups;
    std::size_t n = 0;
    for (const auto& [p, rows] : mem.series_rows()) {
        const std::string rel = p.substr(1);
        const MemoryRecorder::Series& s = mem.series(rel);
        groups.insert(s.spec.group);
        CAPTURE(p);
        REQUIRE(r.is_dataset(p));
        if (s.spec.group != "bill") CHECK((rows == b.options.n_steps || s.spec.group == "meter"));
        const std::vector<double> file = r.read_vector(p);
        if (s.spec.integer) {
            REQUIRE(file.size() == s.int_values.size());
            for (std::size_t i = 0; i < file.size(); ++i) CHECK(file[i] == double(s.int_values[i]));
        } else {
            CHECK(file == s.values);
        }
        const std::string generic = "/<kind>/" + s.spec.name;
        CHECK_MESSAGE((doc.count(p) || doc.count(generic)), "not in docs/results_hdf5.md: " << p);
        ++n;
    }
    CHECK(n > 30);
    for (const char* g : {"pv", "battery", "ev", "ev_site", "building", "home"}) CHECK_MESSAGE(groups.count(g), g);
    std::filesystem::remove(path);
}
