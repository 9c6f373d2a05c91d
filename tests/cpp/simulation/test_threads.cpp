// Issue 19, thread safety (docs/threads.md): independent simulations on several std::threads at once
// equal the same runs done one after the other, bit for bit (summaries and every dataset of their
// HDF5 files, read back with ResultsReader); one of them itself on 2 threads (SimulationOptions::
// threads), one on an unbalanced network. And power flows on different networks (and on one shared
// const Network) on several threads equal the serial ones.
#include <doctest/doctest.h>

#include "scratch_dir.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/io/dss.hpp>
#include <libgrid/io/network_io.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/powerflow/unbalanced.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/kpis.hpp>

#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace libgrid;

namespace {

struct Run {
    std::string scenario;  ///< file under scenarios/
    std::vector<std::pair<std::string, std::string>> keys;
    int threads = 1;
};

/// The run's summary as JSON without its wall-clock timings (the only thing allowed to differ).
std::string summary_text(SimulationSummary s) {
    s.wall_time_s = s.steps_per_second = 0.0;
    s.time_setup_s = s.time_profiles_s = s.time_devices_s = s.time_powerflow_s = s.time_record_s = s.time_checkpoint_s = 0.0;
    return summary_to_json(s, -1);
}

/// Builds and runs one scenario, its results into `output`; returns the summary's text.
std::string run_one(const Run& r, const std::string& output) {
    Scenario sc = load_scenario(std::string(LIBGRID_SCENARIOS) + "/" + r.scenario);
    for (const auto& [k, v] : r.keys) override_key(sc, k, v);
    BuiltScenario b = build_scenario(sc);
    b.options.output_path = output;
    b.options.threads = r.threads;
    Simulation sim = make_simulation(b);
    return summary_text(sim.run());
}

bool is_timing(const std::string& path) {
    for (const char* t : {"wall_time_s", "steps_per_second", "time_setup_s", "time_profiles_s", "time_devices_s", "time_powerflow_s",
                          "time_record_s", "time_checkpoint_s"})
        if (path == std::string("/summary/") + t) return true;
    return false;
}

/// Every dataset under `group` of two results files equal bit for bit (NaN = NaN); counts them.
void compare_files(const ResultsReader& a, const ResultsReader& b, const std::string& group, std::size_t& n) {
    const std::vector<std::string> names = a.list(group);
    REQUIRE(names == b.list(group));
    for (const std::string& name : names) {
        const std::string p = (group == "/" ? "" : group) + "/" + name;
        CAPTURE(p);
        if (!a.is_dataset(p)) {
            compare_files(a, b, p, n);
            continue;
        }
        REQUIRE(a.shape(p) == b.shape(p));
        if (is_timing(p)) continue;
        bool numeric = true;
        std::vector<double> x, y;
        try {
            x = a.read_vector(p);
        } catch (const Error&) {
            numeric = false;  // a string dataset
        }
        if (numeric) {
            y = b.read_vector(p);
            REQUIRE(x.size() == y.size());
            CHECK(std::memcmp(x.data(), y.data(), x.size() * sizeof(double)) == 0);
        } else {
            CHECK(a.read_strings(p) == b.read_strings(p));
        }
        ++n;
    }
}

/// Runs fn(i) for i in [0, n) on n std::threads at once; rethrows the first exception.
void on_threads(std::size_t n, const std::function<void(std::size_t)>& fn) {
    std::vector<std::exception_ptr> err(n);
    std::vector<std::thread> ts;
    for (std::size_t i = 0; i < n; ++i)
        ts.emplace_back([&, i] {
            try {
                fn(i);
            } catch (...) {
                err[i] = std::current_exception();
            }
        });
    for (auto& t : ts) t.join();
    for (auto& e : err)
        if (e) std::rethrow_exception(e);
}

}  // namespace

TEST_CASE("threads: independent simulations at once equal the serial runs bit for bit, HDF5 files too") {
    const std::vector<Run> runs = {
        {"melaka_smart_city.yaml", {{"network.model", "balanced"}, {"seed", "1"}, {"horizon.steps", "96"}}, 1},
        {"melaka_smart_city.yaml", {{"network.model", "balanced"}, {"seed", "2"}, {"horizon.steps", "96"}}, 2},  // itself on 2 threads
        {"melaka_baseline.yaml", {{"network.model", "balanced"}, {"seed", "3"}, {"horizon.steps", "96"}}, 1},
        {"eulv_day.yaml", {{"horizon.steps", "48"}}, 1},  // an unbalanced network (the OpenDSS European LV feeder)
    };
    const std::size_t n = runs.size();
    auto path = [](const char* kind, std::size_t i) { return libgrid_test::scratch_path(std::string("threads_") + kind + std::to_string(i) + ".h5"); };
    std::vector<std::string> serial(n), parallel(n);
    for (std::size_t i = 0; i < n; ++i) serial[i] = run_one(runs[i], path("serial", i));
    on_threads(n, [&](std::size_t i) { parallel[i] = run_one(runs[i], path("parallel", i)); });
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        CHECK(serial[i] == parallel[i]);
        CHECK(serial[i].find("\"steps\"") != std::string::npos);
        // the files, read back
        std::size_t datasets = 0;
        {
            ResultsReader a(path("serial", i)), b(path("parallel", i));
            compare_files(a, b, "/", datasets);
        }
        CHECK(datasets > 20);
    }
    CHECK(serial[0] != serial[1]);  // seeds differ: the comparison can fail
    // the 2-thread run equals the same run on 1 thread (results do not depend on threads)
    Run one = runs[1];
    one.threads = 1;
    CHECK(run_one(one, path("one_thread", 1)) == serial[1]);
}

TEST_CASE("threads: ResultsReaders of different files read at once equal serial reads") {
    // four small files from independent runs written at once
    const std::size_t n = 4;
    std::vector<std::string> files(n);
    on_threads(n, [&](std::size_t i) {
        files[i] = libgrid_test::scratch_path("reader_" + std::to_string(i) + ".h5");
        run_one({"melaka_smart_city.yaml", {{"network.model", "balanced"}, {"seed", std::to_string(10 + i)}, {"horizon.steps", "24"}}}, files[i]);
    });
    std::vector<std::vector<double>> serial(n), parallel(n);
    for (std::size_t i = 0; i < n; ++i) serial[i] = ResultsReader(files[i]).read_vector("/bus/vm_pu");
    on_threads(2 * n, [&](std::size_t k) {
        const ResultsReader r(files[k % n]);  // two readers per file, at once
        std::vector<double> v = r.read_vector("/bus/vm_pu");
        if (k < n) parallel[k] = std::move(v);
    });
    for (std::size_t i = 0; i < n; ++i) {
        REQUIRE(!serial[i].empty());
        CHECK(std::memcmp(serial[i].data(), parallel[i].data(), serial[i].size() * sizeof(double)) == 0);
    }
}

TEST_CASE("threads: power flows on different networks at once equal the serial ones") {
    const std::string mp = std::string(LIBGRID_TEST_DATA) + "/matpower/";
    std::vector<Network> nets;
    for (const char* c : {"case9.m", "case30.m", "case118.m", "case300.m"}) nets.push_back(read_network(mp + c));
    const std::size_t n = nets.size();
    std::vector<PowerFlowResult> serial(n), parallel(n), shared(n);
    for (std::size_t i = 0; i < n; ++i) serial[i] = run_power_flow(nets[i]);
    on_threads(n, [&](std::size_t i) { parallel[i] = run_power_flow(nets[i]); });
    // one const Network shared by several threads at once
    on_threads(n, [&](std::size_t i) { shared[i] = run_power_flow(nets[2]); });
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        REQUIRE(serial[i].converged);
        CHECK(serial[i].bus_vm_pu == parallel[i].bus_vm_pu);  // bit for bit
        CHECK(serial[i].bus_va_deg == parallel[i].bus_va_deg);
        CHECK(serial[i].gen_q_mvar == parallel[i].gen_q_mvar);
        CHECK(shared[i].bus_vm_pu == serial[2].bus_vm_pu);
    }
    // unbalanced: run_unbalanced_pf writes its results into its UNetwork, so one copy per thread
    const std::string ds = std::string(LIBGRID_TEST_DATA) + "/opendss/";
    const UNetwork ieee13 = read_dss(ds + "ieee13/IEEE13Nodeckt.dss").net;
    std::vector<UNetwork> copies(4, ieee13);
    std::vector<UPfResult> useq(4), upar(4);
    for (std::size_t i = 0; i < 4; ++i) {
        UNetwork c = ieee13;
        useq[i] = run_unbalanced_pf(c);
    }
    on_threads(4, [&](std::size_t i) { upar[i] = run_unbalanced_pf(copies[i]); });
    for (std::size_t i = 0; i < 4; ++i) {
        REQUIRE(useq[i].converged);
        CHECK(upar[i].converged);
        CHECK(upar[i].losses_kva == useq[i].losses_kva);
        CHECK(upar[i].source_kva == useq[i].source_kva);
    }
}
