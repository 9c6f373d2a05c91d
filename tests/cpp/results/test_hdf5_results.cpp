// Tests of the HDF5 results layer (libgrid/results/hdf5_results.hpp): round trips, row counts, crash
// survival (a forked child that dies without closing), errors that name the file and the object,
// bit-identical output for identical input, and no allocation in append.
#include <doctest/doctest.h>

#include <libgrid/config.hpp>
#include <libgrid/core/errors.hpp>
#include <libgrid/results/hdf5_results.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

// ---- allocation counter ---------------------------------------------------------------------------
// Every global operator new/delete of the test binary is replaced in alloc_counter.cpp and counts its
// calls in g_operator_new_calls (test_simulation.cpp counts the engine's step loop with it too).
#include "alloc_counter.hpp"

namespace {

using libgrid::ResultsReader;
using libgrid::ResultsWriter;

/// A fresh path in the temp folder, removed when the guard goes.
struct TempFile {
    std::string path;
    explicit TempFile(const std::string& name)
        : path((std::filesystem::temp_directory_path() /
                ("libgrid_h5test_" + std::to_string(::getpid()) + "_" + name + ".h5"))
                   .string()) {
        std::filesystem::remove(path);
    }
    ~TempFile() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
};

/// The value written at (row, col): distinct everywhere, not exactly representable in float32.
double value_at(std::size_t row, std::size_t col) {
    return 1.0 + 0.1 * static_cast<double>(col) + 1e-4 * static_cast<double>(row) + 1.0 / 3.0;
}

std::vector<double> row_of(std::size_t row, std::size_t n_cols) {
    std::vector<double> r(n_cols);
    for (std::size_t c = 0; c < n_cols; ++c) r[c] = value_at(row, c);
    return r;
}

/// Message of the libgrid::Error thrown by f ("" if none was thrown; other exceptions escape).
template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const libgrid::Error& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("hdf5 results: round trip of series, ids, vectors, strings, attributes and scalars") {
    TempFile tf("roundtrip");
    const std::size_t N = 1000;                                 // not a multiple of chunk_rows
    const std::size_t n_bus = 5, n_branch = 1500, n_trafo = 3;  // 1500 > 1024: two column chunks
    const std::int64_t t0 = 1704067200;                         // 2024-01-01 00:00 in the file's time base
    const std::string scenario(100000, 'x');                    // larger than an object header (64 KiB)
    libgrid::H5WriterOptions opt;
    opt.chunk_rows = 64;
    {
        ResultsWriter w(tf.path, opt);
        w.write_run_info("name: test\n" + scenario, 18446744073709551615ull);
        w.add_time();
        int h_vm = w.add_series("bus", "vm_pu", n_bus, "p.u.");
        int h_load = w.add_series("/branch/", "loading_percent", n_branch, "%");
        int h_tap = w.add_int_series("/trafo", "tap_pos", n_trafo);
        w.write_ids("/bus", {10, 20, 30, 40, 50});
        // meters with their own 30-minute time axis; the axis does not count as a 2-column series
        int h_mt = w.add_group_time("/meter");
        int h_me = w.add_series("/meter", "energy_kwh", 2, "kWh");
        w.write_ids("/meter", {501, 502});
        for (std::int64_t k = 0; k < 3; ++k) {
            const std::int64_t t = t0 + 1800 * k;
            const double e[2] = {0.5 * static_cast<double>(k), 1.0};
            w.append(h_mt, &t);
            w.append(h_me, e);
        }
        CHECK(contains(error_of([&] { w.add_time(); }), "'/time' already exists"));
        std::vector<double> vm(n_bus), load(n_branch);
        std::vector<std::int64_t> tap(n_trafo);
        for (std::size_t k = 0; k < N; ++k) {
            for (std::size_t c = 0; c < n_bus; ++c) vm[c] = value_at(k, c);
            for (std::size_t c = 0; c < n_branch; ++c) load[c] = value_at(k, c) * 10.0;
            for (std::size_t c = 0; c < n_trafo; ++c)
                tap[c] = static_cast<std::int64_t>(k) - 7 * static_cast<std::int64_t>(c);
            w.append_time(t0 + 900 * static_cast<std::int64_t>(k));
            w.append(h_vm, vm.data());
            w.append(h_load, load.data());
            w.append(h_tap, tap.data());
            if (k == 500 || k == 530) w.flush();  // checkpoints inside a chunk: the chunk is rewritten later
        }
        CHECK(w.rows(h_vm) == N);
        CHECK(w.rows(h_load) == N);
        CHECK(w.time_rows() == N);
        w.write_vector("/bus/vn_kv", {11.0, 11.0, 0.4, 0.4, 33.0}, "kV");
        w.write_vector("/bus/empty", {});
        w.write_int_vector("/branch/from_bus", {1, -2, 3});
        w.write_strings("/bus/name", {"Bandar Hilir", "Ayer Keroh – Melaka", ""});
        w.write_scalar("/summary/energy_mwh", 12.5, "MWh");
        w.write_scalar("summary/peak_mw", 0.1);
        w.set_attribute("/bus/vm_pu", "note", "magnitude");
        w.set_attribute("/bus", "vmin_pu", 0.94);
        w.set_attribute("/bus", "vmin_pu", 0.95);  // overwrite
        w.set_attribute("/branch", "count", -3);
        w.close();
        w.close();  // idempotent
    }

    ResultsReader r(tf.path);
    CHECK(r.list("/") == std::vector<std::string>{"branch", "bus", "meter", "summary", "time", "trafo"});
    CHECK(r.list("/meter") == std::vector<std::string>{"energy_kwh", "id", "time"});
    CHECK(r.shape("/meter/time") == std::vector<std::size_t>{3});
    CHECK(r.read_int_vector("/meter/time") == std::vector<std::int64_t>{t0, t0 + 1800, t0 + 3600});
    CHECK(r.unit("/meter/time") == libgrid::kResultsTimeUnits);
    CHECK(r.read_rows("/meter/energy_kwh", 2, 1) == std::vector<double>{1.0, 1.0});
    CHECK(r.list("/bus") == std::vector<std::string>{"empty", "id", "name", "vm_pu", "vn_kv"});
    CHECK(r.exists("/bus/vm_pu"));
    CHECK(r.exists("bus"));
    CHECK_FALSE(r.exists("/bus/nope"));
    CHECK_FALSE(r.exists("/nope/deeper"));
    CHECK(r.is_dataset("/bus/id"));
    CHECK_FALSE(r.is_dataset("/bus"));

    // time
    CHECK(r.shape("/time") == std::vector<std::size_t>{N});
    CHECK(r.attribute("/time", "units") == libgrid::kResultsTimeUnits);
    std::vector<std::int64_t> t = r.read_int_vector("/time");
    REQUIRE(t.size() == N);
    for (std::size_t k = 0; k < N; ++k) REQUIRE(t[k] == t0 + 900 * static_cast<std::int64_t>(k));

    // float series: every value bit-exact
    CHECK(r.shape("/bus/vm_pu") == std::vector<std::size_t>{N, n_bus});
    CHECK(r.unit("/bus/vm_pu") == "p.u.");
    CHECK(r.attribute("/bus/vm_pu", "note") == "magnitude");
    std::vector<double> vm = r.read_vector("/bus/vm_pu");
    REQUIRE(vm.size() == N * n_bus);
    std::size_t wrong = 0;
    for (std::size_t k = 0; k < N; ++k)
        for (std::size_t c = 0; c < n_bus; ++c) wrong += vm[k * n_bus + c] != value_at(k, c);
    CHECK(wrong == 0);

    CHECK(r.shape("/branch/loading_percent") == std::vector<std::size_t>{N, n_branch});
    CHECK(r.unit("/branch/loading_percent") == "%");
    // rows 60..69 cross the chunk boundary at 64
    std::vector<double> rows = r.read_rows("/branch/loading_percent", 60, 10);
    REQUIRE(rows.size() == 10 * n_branch);
    wrong = 0;
    for (std::size_t k = 0; k < 10; ++k)
        for (std::size_t c = 0; c < n_branch; ++c)
            wrong += rows[k * n_branch + c] != value_at(60 + k, c) * 10.0;
    CHECK(wrong == 0);
    std::vector<double> last = r.read_rows("/branch/loading_percent", N - 1, 1);
    CHECK(last[n_branch - 1] == value_at(N - 1, n_branch - 1) * 10.0);
    CHECK(r.read_rows("/branch/loading_percent", N, 0).empty());

    // int series
    CHECK(r.shape("/trafo/tap_pos") == std::vector<std::size_t>{N, n_trafo});
    std::vector<std::int64_t> tap = r.read_int_vector("/trafo/tap_pos");
    REQUIRE(tap.size() == N * n_trafo);
    CHECK(tap[0] == 0);
    CHECK(tap[2] == -14);
    CHECK(tap[(N - 1) * n_trafo + 1] == static_cast<std::int64_t>(N - 1) - 7);
    CHECK(r.unit("/trafo/tap_pos") == "");

    // fixed data
    CHECK(r.read_int_vector("/bus/id") == std::vector<std::int64_t>{10, 20, 30, 40, 50});
    CHECK(r.read_vector("/bus/vn_kv") == std::vector<double>{11.0, 11.0, 0.4, 0.4, 33.0});
    CHECK(r.unit("/bus/vn_kv") == "kV");
    CHECK(r.shape("/bus/empty") == std::vector<std::size_t>{0});
    CHECK(r.read_vector("/bus/empty").empty());
    CHECK(r.read_int_vector("/branch/from_bus") == std::vector<std::int64_t>{1, -2, 3});
    CHECK(r.read_vector("/branch/from_bus") == std::vector<double>{1.0, -2.0, 3.0});
    CHECK(r.read_strings("/bus/name") == std::vector<std::string>{"Bandar Hilir", "Ayer Keroh – Melaka", ""});
    CHECK(r.shape("/summary/energy_mwh").empty());  // scalar dataset
    CHECK(r.read_scalar("/summary/energy_mwh") == 12.5);
    CHECK(r.unit("/summary/energy_mwh") == "MWh");
    CHECK(r.read_scalar("/summary/peak_mw") == 0.1);
    CHECK_FALSE(r.has_attribute("/summary/peak_mw", "unit"));

    // attributes
    CHECK(r.attribute("/", "scenario") == "name: test\n" + scenario);
    CHECK(r.attribute("/", "seed") == "18446744073709551615");
    CHECK(r.attribute("/", "libgrid_version") == LIBGRID_VERSION);
    CHECK(r.attribute("/", "layout_version") == std::to_string(libgrid::kResultsLayoutVersion));
    CHECK(r.attribute("/bus", "vmin_pu") == "0.95");
    CHECK(r.attribute("/branch", "count") == "-3");
    CHECK(r.attribute_names("/") ==
          std::vector<std::string>{"layout_version", "libgrid_version", "scenario", "seed"});
    CHECK(r.has_attribute("/bus/vm_pu", "unit"));
    CHECK_FALSE(r.has_attribute("/bus/vm_pu", "units"));
    CHECK_FALSE(r.has_attribute("/nope", "unit"));
}

TEST_CASE("hdf5 results: row counts after N appends, N not a multiple of the chunk") {
    const std::size_t n_cols = 3;
    for (std::size_t N : {0u, 1u, 255u, 256u, 257u, 1000u}) {
        CAPTURE(N);
        TempFile tf("rows" + std::to_string(N));
        int h = -1;
        {
            ResultsWriter w(tf.path);  // chunk_rows 256
            h = w.add_series("/load", "p_mw", n_cols, "MW");
            w.add_time();
            for (std::size_t k = 0; k < N; ++k) {
                w.append(h, row_of(k, n_cols).data());
                w.append_time(static_cast<std::int64_t>(k));
            }
            CHECK(w.rows(h) == N);
        }  // destructor flushes and closes
        ResultsReader r(tf.path);
        CHECK(r.shape("/load/p_mw") == std::vector<std::size_t>{N, n_cols});
        CHECK(r.shape("/time") == std::vector<std::size_t>{N});
        if (N > 0) {
            std::vector<double> lastrow = r.read_rows("/load/p_mw", N - 1, 1);
            CHECK(lastrow == row_of(N - 1, n_cols));
        }
    }

    SUBCASE("a wide series has its chunk rows lowered to fit max_buffer_bytes") {
        TempFile tf("wide");
        libgrid::H5WriterOptions opt;
        opt.max_buffer_bytes = 3 * 10 * 8;  // 3 rows of 10 columns
        const std::size_t N = 100;          // 33 full chunks + 1 row
        {
            ResultsWriter w(tf.path, opt);
            int h = w.add_series("/bus", "vm_pu", 10);
            for (std::size_t k = 0; k < N; ++k) w.append(h, row_of(k, 10).data());
        }
        ResultsReader r(tf.path);
        CHECK(r.shape("/bus/vm_pu") == std::vector<std::size_t>{N, 10});
        std::vector<double> all = r.read_vector("/bus/vm_pu");
        std::size_t wrong = 0;
        for (std::size_t k = 0; k < N; ++k)
            for (std::size_t c = 0; c < 10; ++c) wrong += all[k * 10 + c] != value_at(k, c);
        CHECK(wrong == 0);
    }
}

TEST_CASE("hdf5 results: float32 storage keeps float precision, uncompressed files work") {
    TempFile tf("f32");
    libgrid::H5WriterOptions opt;
    opt.float32 = true;
    opt.compression_level = 0;
    opt.chunk_rows = 7;
    const std::size_t N = 50, n_cols = 4;
    {
        ResultsWriter w(tf.path, opt);
        int h = w.add_series("/pv", "p_mw", n_cols, "MW");
        for (std::size_t k = 0; k < N; ++k) w.append(h, row_of(k, n_cols).data());
        w.write_vector("/pv/rated_mw", {0.1});  // vectors stay float64
    }
    ResultsReader r(tf.path);
    std::vector<double> v = r.read_vector("/pv/p_mw");
    REQUIRE(v.size() == N * n_cols);
    std::size_t wrong = 0;
    for (std::size_t k = 0; k < N; ++k)
        for (std::size_t c = 0; c < n_cols; ++c) {
            const double x = value_at(k, c);
            wrong += v[k * n_cols + c] != static_cast<double>(static_cast<float>(x));
            wrong += v[k * n_cols + c] == x;  // would hold only if stored as float64
        }
    CHECK(wrong == 0);
    CHECK(r.read_vector("/pv/rated_mw")[0] == 0.1);
}

TEST_CASE("hdf5 results: a run that dies keeps what was written") {
    const std::size_t n_cols = 7;
    libgrid::H5WriterOptions opt;  // chunk_rows 256

    // The child writes and dies by _exit without closing the file; returns the child's exit status.
    auto run_child = [&](const std::string& path, std::size_t n_rows, bool flush_at_end,
                         std::size_t extra_rows) {
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int status = 0;
            try {
                ResultsWriter* w = new ResultsWriter(path, opt);  // never deleted: no destructor runs
                w->write_run_info("crash test", 7);
                w->add_time();
                int h = w->add_series("/bus", "vm_pu", n_cols, "p.u.");
                for (std::size_t k = 0; k < n_rows; ++k) {
                    w->append_time(static_cast<std::int64_t>(900 * k));
                    w->append(h, row_of(k, n_cols).data());
                }
                if (flush_at_end) w->flush();
                for (std::size_t k = n_rows; k < n_rows + extra_rows; ++k) {
                    w->append_time(static_cast<std::int64_t>(900 * k));
                    w->append(h, row_of(k, n_cols).data());
                }
            } catch (...) {
                status = 1;
            }
            ::_exit(status);  // no close, no destructors, no atexit: as a crash
        }
        int wstatus = 0;
        REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
        REQUIRE(WIFEXITED(wstatus));
        return WEXITSTATUS(wstatus);
    };

    auto check_rows = [&](const std::string& path, std::size_t expected) {
        ResultsReader r(path);
        CHECK(r.attribute("/", "scenario") == "crash test");
        CHECK(r.shape("/bus/vm_pu") == std::vector<std::size_t>{expected, n_cols});
        CHECK(r.shape("/time") == std::vector<std::size_t>{expected});
        std::vector<double> v = r.read_vector("/bus/vm_pu");
        REQUIRE(v.size() == expected * n_cols);
        std::size_t wrong = 0;
        for (std::size_t k = 0; k < expected; ++k)
            for (std::size_t c = 0; c < n_cols; ++c) wrong += v[k * n_cols + c] != value_at(k, c);
        CHECK(wrong == 0);
        std::vector<std::int64_t> t = r.read_int_vector("/time");
        REQUIRE(t.size() == expected);
        if (expected > 0) CHECK(t.back() == static_cast<std::int64_t>(900 * (expected - 1)));
    };

    SUBCASE("1000 rows, flush, 20 more rows buffered, crash: the 1000 flushed rows are there") {
        TempFile tf("crash_flush");
        CHECK(run_child(tf.path, 1000, true, 20) == 0);  // 1020 < 1024: the 20 stay in the buffer
        check_rows(tf.path, 1000);
    }
    SUBCASE("1000 rows, no flush, crash: every completed chunk but each series' last (2 x 256 rows) is there") {
        // Full chunks are compressed by worker threads; a series writes its chunk k when chunk k + 1
        // is full (at a point fixed by the appends, so files do not depend on thread timing). Chunks
        // 1-3 filled at rows 256, 512, 768: chunks 1 and 2 are in the file, chunk 3 was in flight.
        TempFile tf("crash_chunks");
        CHECK(run_child(tf.path, 1000, false, 0) == 0);
        check_rows(tf.path, 512);
    }
    SUBCASE("uncompressed: 1000 rows, no flush, crash: every completed chunk (3 x 256 rows) is there") {
        opt.compression_level = 0;  // no compression: each full chunk is written as it fills
        TempFile tf("crash_chunks_raw");
        CHECK(run_child(tf.path, 1000, false, 0) == 0);
        check_rows(tf.path, 768);
    }
    SUBCASE("an exception unwinds past the writer: its destructor keeps all 300 rows") {
        TempFile tf("exception");
        try {
            ResultsWriter w(tf.path, opt);
            w.write_run_info("crash test", 7);
            w.add_time();
            int h = w.add_series("/bus", "vm_pu", n_cols, "p.u.");
            for (std::size_t k = 0; k < 300; ++k) {
                w.append_time(static_cast<std::int64_t>(900 * k));
                w.append(h, row_of(k, n_cols).data());
            }
            throw std::runtime_error("solver blew up at step 300");
        } catch (const std::runtime_error&) {
        }
        check_rows(tf.path, 300);
    }
}

TEST_CASE("hdf5 results: errors name the file and the object") {
    SUBCASE("writer: a path that cannot be created") {
        const std::string bad = "/nonexistent_libgrid_dir/sub/out.h5";
        std::string msg = error_of([&] { ResultsWriter w(bad); });
        CHECK(contains(msg, bad));
        CHECK(contains(msg, "cannot create"));
    }
    SUBCASE("writer: bad options") {
        TempFile tf("badopt");
        libgrid::H5WriterOptions opt;
        opt.compression_level = 12;
        CHECK_THROWS_AS(ResultsWriter(tf.path, opt), libgrid::ValidationError);
        CHECK(contains(error_of([&] { ResultsWriter w(tf.path, opt); }), "compression_level"));
        opt.compression_level = 1;
        opt.chunk_rows = 0;
        CHECK(contains(error_of([&] { ResultsWriter w(tf.path, opt); }), "chunk_rows"));
    }
    SUBCASE("writer: misuse") {
        TempFile tf("misuse");
        ResultsWriter w(tf.path);
        int h = w.add_series("/bus", "vm_pu", 3, "p.u.");
        int hi = w.add_int_series("/trafo", "tap_pos", 2);
        std::vector<double> row(3, 1.0);
        std::vector<std::int64_t> irow(3, 1);
        CHECK(contains(error_of([&] { w.add_series("/bus", "vm_pu", 3); }), "'/bus/vm_pu' already exists"));
        CHECK(contains(error_of([&] { w.append(h + 100, row.data()); }), "invalid series handle"));
        CHECK(contains(error_of([&] { w.append(hi, row.data()); }), "'/trafo/tap_pos'"));
        CHECK(contains(error_of([&] { w.append(h, irow.data()); }), "'/bus/vm_pu'"));
        CHECK(contains(error_of([&] { w.add_series("/bus", "", 3); }), "bad series name"));
        CHECK(contains(error_of([&] { w.add_series("/bus", "x", 0); }), "n_cols"));
        CHECK(contains(error_of([&] { w.write_vector("/bus//x", {1.0}); }), "'/bus//x'"));
        CHECK(contains(error_of([&] { w.append_time(0); }), "add_time"));
        CHECK(contains(error_of([&] { w.set_attribute("/nope", "a", 1.0); }), "no object '/nope'"));
        CHECK(contains(error_of([&] { w.write_vector("/bus/vm_pu/x", {1.0}); }), "not a group"));
        // ids must match the width of the group's series, and be unique
        CHECK_THROWS_AS(w.write_ids("/bus", {1, 2}), libgrid::ValidationError);
        CHECK(contains(error_of([&] { w.write_ids("/bus", {1, 2}); }), "'/bus/vm_pu' has 3 columns"));
        CHECK_THROWS_AS(w.write_ids("/bus", {1, 2, 1}), libgrid::IdError);
        CHECK(contains(error_of([&] { w.write_ids("/bus", {1, 2, 1}); }), "duplicate id 1"));
        w.write_ids("/pv", {5, 6});
        CHECK_THROWS_AS(w.add_series("/pv", "p_mw", 3), libgrid::ValidationError);
        w.close();
        CHECK(contains(error_of([&] { w.append(h, row.data()); }), "closed"));
        CHECK(contains(error_of([&] { w.write_scalar("/summary/x", 1.0); }), tf.path));
    }
    SUBCASE("reader: missing file, not an HDF5 file") {
        const std::string missing = "/nonexistent_libgrid_dir/results.h5";
        std::string msg = error_of([&] { ResultsReader r(missing); });
        CHECK(contains(msg, missing));
        CHECK(contains(msg, "no such file"));
        TempFile tf("nothdf5");
        std::ofstream(tf.path) << "time,vm\n0,1.0\n";
        msg = error_of([&] { ResultsReader r(tf.path); });
        CHECK(contains(msg, tf.path));
        CHECK(contains(msg, "not an HDF5 file"));
    }
    SUBCASE("reader: missing datasets and groups, wrong kinds, rows out of range") {
        TempFile tf("missing");
        {
            ResultsWriter w(tf.path);
            int h = w.add_series("/bus", "vm_pu", 2, "p.u.");
            for (int k = 0; k < 10; ++k) w.append(h, row_of(static_cast<std::size_t>(k), 2).data());
            w.write_ids("/bus", {1, 2});
        }
        ResultsReader r(tf.path);
        std::string msg = error_of([&] { r.read_vector("/bus/va_degree"); });
        CHECK(contains(msg, tf.path));
        CHECK(contains(msg, "no dataset '/bus/va_degree'"));
        CHECK(contains(msg, "id, vm_pu"));  // what the group does hold
        msg = error_of([&] { r.read_vector("/pv/p_mw"); });
        CHECK(contains(msg, "no group '/pv'"));
        CHECK(contains(msg, "'/pv/p_mw'"));
        CHECK(contains(error_of([&] { r.shape("/bus"); }), "'/bus' is a group, not a dataset"));
        CHECK(contains(error_of([&] { r.list("/bus/vm_pu"); }), "not a group"));
        CHECK(contains(error_of([&] { r.read_int_vector("/bus/vm_pu"); }), "floating-point"));
        CHECK(contains(error_of([&] { r.read_rows("/bus/vm_pu", 5, 6); }), "has 10 rows"));
        CHECK(contains(error_of([&] { r.read_scalar("/bus/vm_pu"); }), "holds 20 values"));
        CHECK(contains(error_of([&] { r.read_strings("/bus/id"); }), "does not hold strings"));
        CHECK(contains(error_of([&] { r.attribute("/bus/vm_pu", "units"); }), "no attribute 'units'"));
        CHECK(contains(error_of([&] { r.attribute("/nope", "unit"); }), "no object '/nope'"));
        CHECK_THROWS_AS(r.read_vector("/nope"), libgrid::Error);
    }
}

TEST_CASE("hdf5 results: writer and reader move; a moved-from object throws instead of crashing") {
    TempFile tf("move");
    ResultsWriter a(tf.path);
    int h = a.add_series("/bus", "vm_pu", 2, "p.u.");
    const double row[2] = {1.0, 0.5};
    a.append(h, row);
    ResultsWriter b(std::move(a));
    b.append(h, row);
    CHECK(b.rows(h) == 2);
    CHECK(b.path() == tf.path);
    CHECK(
        contains(error_of([&] { a.append(h, row); }), "used after move"));  // NOLINT(bugprone-use-after-move)
    CHECK(contains(error_of([&] { a.flush(); }), "used after move"));
    b.close();

    ResultsReader r(tf.path);
    ResultsReader r2(std::move(r));
    CHECK(r2.shape("/bus/vm_pu") == std::vector<std::size_t>{2, 2});
    CHECK(contains(error_of([&] { r.shape("/bus/vm_pu"); }),
                   "used after move"));  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("hdf5 results: identical runs give bit-identical files") {
    auto write = [](const std::string& path) {
        ResultsWriter w(path);
        w.write_run_info("seeded", 42);
        w.add_time();
        int h = w.add_series("/bus", "vm_pu", 4, "p.u.");
        w.write_ids("/bus", {1, 2, 3, 4});
        for (std::size_t k = 0; k < 300; ++k) {
            w.append_time(static_cast<std::int64_t>(k));
            w.append(h, row_of(k, 4).data());
        }
        w.write_scalar("/summary/losses_mwh", 1.25, "MWh");
    };
    TempFile a("det_a"), b("det_b");
    write(a.path);
    // HDF5 stores object times with 1 s resolution unless told not to: write the second file in a
    // later second, so that time stamps would show.
    const std::time_t t_a = std::time(nullptr);
    while (std::time(nullptr) == t_a) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    write(b.path);
    auto bytes = [](const std::string& p) {
        std::ifstream in(p, std::ios::binary);
        return std::vector<char>(std::istreambuf_iterator<char>(in), {});
    };
    std::vector<char> ba = bytes(a.path), bb = bytes(b.path);
    CHECK(ba.size() > 1000);
    CHECK(ba == bb);
}

TEST_CASE("hdf5 results: chunks compressed by the worker threads read back like uncompressed ones") {
    // Series 1 (time axis), 7 and 1500 columns (1500 > 1024: two column-chunks, the second padded),
    // float64, float32 and int64; 3 full chunks of 16 rows + 5 rows; flushes inside a chunk and on a
    // chunk boundary. The compressed file (chunks written by H5Dwrite_chunk) must read back exactly
    // what the uncompressed file (plain H5Dwrite, no filters) holds, and what was appended.
    const std::size_t N = 3 * 16 + 5;
    const std::size_t widths[] = {7, 1500};
    auto int_at = [](std::size_t k, std::size_t c) {
        return static_cast<std::int64_t>(k * 100003 + c) * (c % 2 ? -1 : 1) - 5;
    };
    auto write = [&](const std::string& path, int level, bool float32, bool shuffle, bool slow) {
        libgrid::H5WriterOptions opt;
        opt.compression_level = level;
        opt.float32 = float32;
        opt.shuffle = shuffle;
        opt.chunk_rows = 16;
        ResultsWriter w(path, opt);
        w.add_time();
        std::vector<int> hf, hi;
        for (std::size_t n : widths) {
            hf.push_back(w.add_series("/w" + std::to_string(n), "x", n, "p.u."));
            hi.push_back(w.add_int_series("/w" + std::to_string(n), "k", n));
        }
        std::vector<std::int64_t> irow;
        for (std::size_t k = 0; k < N; ++k) {
            w.append_time(static_cast<std::int64_t>(900 * k));
            for (std::size_t j = 0; j < 2; ++j) {
                std::vector<double> row = row_of(k, widths[j]);
                if (j == 1) row[3] = 1e300;  // beyond float range: +inf in float32, as HDF5 converts
                irow.assign(widths[j], 0);
                for (std::size_t c = 0; c < widths[j]; ++c) irow[c] = int_at(k, c);
                w.append(hf[j], row.data());
                w.append(hi[j], irow.data());
            }
            if (k == 20 || k == 31) w.flush();  // inside the second chunk; right after it filled
            if (slow && k % 16 == 15) std::this_thread::sleep_for(std::chrono::milliseconds(30));
        }
    };
    auto bytes = [](const std::string& p) {
        std::ifstream in(p, std::ios::binary);
        return std::vector<char>(std::istreambuf_iterator<char>(in), {});
    };
    for (bool float32 : {false, true})
        for (bool shuffle : {true, false}) {
            CAPTURE(float32);
            CAPTURE(shuffle);
            TempFile raw("pool_raw"), gz("pool_gz"), gz_slow("pool_gz_slow");
            write(raw.path, 0, float32, shuffle, false);
            write(gz.path, 6, float32, shuffle, false);
            write(gz_slow.path, 6, float32, shuffle, true);  // other thread timing, same bytes
            CHECK(bytes(gz.path) == bytes(gz_slow.path));
            CHECK(bytes(gz.path).size() < bytes(raw.path).size());
            ResultsReader r0(raw.path), r1(gz.path);
            CHECK(r1.read_int_vector("/time") == r0.read_int_vector("/time"));
            CHECK(r1.read_int_vector("/time").size() == N);
            for (std::size_t n : widths) {
                const std::string g = "/w" + std::to_string(n);
                CHECK(r1.shape(g + "/x") == std::vector<std::size_t>{N, n});
                std::vector<double> v0 = r0.read_vector(g + "/x"), v1 = r1.read_vector(g + "/x");
                REQUIRE(v1.size() == N * n);
                std::size_t wrong = 0;
                for (std::size_t k = 0; k < N; ++k)
                    for (std::size_t c = 0; c < n; ++c) {
                        double x = (n == 1500 && c == 3) ? 1e300 : value_at(k, c);
                        if (float32)
                            x = x > 3.4028234663852886e38 ? std::numeric_limits<double>::infinity()
                                                          : static_cast<double>(static_cast<float>(x));
                        wrong += v1[k * n + c] != x;
                        wrong += v1[k * n + c] != v0[k * n + c];
                    }
                CHECK(wrong == 0);
                std::vector<std::int64_t> i1 = r1.read_int_vector(g + "/k");
                REQUIRE(i1.size() == N * n);
                CHECK(i1 == r0.read_int_vector(g + "/k"));
                std::size_t wrong_i = 0;
                for (std::size_t k = 0; k < N; ++k)
                    for (std::size_t c = 0; c < n; ++c) wrong_i += i1[k * n + c] != int_at(k, c);
                CHECK(wrong_i == 0);
            }
        }
}

TEST_CASE("hdf5 results: append does not allocate") {
    // Is the counting operator new of alloc_counter.cpp the one in use?
    const bool counting = alloc_counter_active();
    WARN_MESSAGE(counting, "operator new is replaced elsewhere in this binary: allocations not counted");
    if (!counting) return;

    TempFile tf("noalloc");
    libgrid::H5WriterOptions opt;
    opt.chunk_rows = 16;
    ResultsWriter w(tf.path, opt);
    w.add_time();
    int h = w.add_series("/bus", "vm_pu", 50, "p.u.");
    int hi = w.add_int_series("/trafo", "tap_pos", 2);
    std::vector<double> row = row_of(0, 50);
    std::vector<std::int64_t> irow{1, 2};
    const long before = g_operator_new_calls.load();
    for (std::int64_t k = 0; k < 1000; ++k) {  // 62 chunk writes and flushes included
        w.append_time(k);
        w.append(h, row.data());
        w.append(hi, irow.data());
    }
    CHECK(g_operator_new_calls.load() - before == 0);
    CHECK(w.rows(h) == 1000);
}

// Not run by default (run with --no-skip): a year at 15 minutes for 1,000 buses, float64. Its speed
// is measured by benches/bench_io.cpp (BM_Hdf5WriteYear1000), never asserted in a test.
TEST_CASE("hdf5 results: a year of 35,040 x 1,000 float64, gzip 1 + shuffle" * doctest::skip()) {
    TempFile tf("year");
    const std::size_t N = 35040, n_cols = 1000;
    std::vector<double> row(n_cols);
    {
        ResultsWriter w(tf.path);
        w.add_time();
        int h = w.add_series("/bus", "vm_pu", n_cols, "p.u.");
        std::uint64_t x = 88172645463325252ull;  // xorshift: measurement noise in the last digits
        for (std::size_t k = 0; k < N; ++k) {
            const double day = 2.0 * 3.141592653589793 * static_cast<double>(k % 96) / 96.0;
            for (std::size_t c = 0; c < n_cols; ++c) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                const double noise = static_cast<double>(x >> 11) * 0x1.0p-53 - 0.5;
                row[c] =
                    1.0 - 0.03 * static_cast<double>(c % 50) / 50.0 * (1.0 + std::sin(day)) + 1e-4 * noise;
            }
            w.append_time(static_cast<std::int64_t>(900 * k));
            w.append(h, row.data());
        }
        w.close();
    }
    ResultsReader r(tf.path);
    CHECK(r.shape("/bus/vm_pu") == std::vector<std::size_t>{N, n_cols});
    CHECK(std::filesystem::file_size(tf.path) < 280'000'000u);  // compressed below the raw 280 MB
}
