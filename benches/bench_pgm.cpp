// power-grid-model's benchmark batch, the same work in libgrid: the shared pgm_bench grids (radial
// 1804, meshed 2605) and their 200 load scenarios (`<grid>.scenarios.csv`), solved
//   - as a time series (Simulation, one step per scenario): no recording, in-memory recorder, HDF5
//     file in /tmp (gzip 1 + shuffle, float32, the defaults);
//   - as one batch call (run_pf_batch): arrays out, and arrays plus the batch written to HDF5.
// Each reports s_per_scenario (CPU time of the whole process, all its threads, / 200; "m" = ms):
// this machine's cores are shared, so wall time is noisy. The grids are looked up in $LIBGRID_PGM_BENCH_DIR,
// else /work/shared/cases/pgm_bench (the CSVs are too large for tests/data).
//   build/benches/bench_pgm --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/io/case_json.hpp>
#include <libgrid/powerflow/batch_pf.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/results/recorder.hpp>
#include <libgrid/simulation/batch.hpp>
#include <libgrid/simulation/engine.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

using namespace libgrid;

namespace {

std::string pgm_dir() {
    const char* env = std::getenv("LIBGRID_PGM_BENCH_DIR");
    return env ? env : "/work/shared/cases/pgm_bench";
}

/// One grid and its scenarios: p and q (scenarios x loads, row-major) in the order of the CSV's
/// columns, which is the loads' table order.
struct PgmCase {
    Network net;
    std::vector<Id> load_ids;
    std::vector<double> p_mw, q_mvar;
    std::size_t n_scenarios = 0;
};

PgmCase read_case(const std::string& grid) {
    PgmCase c;
    c.net = read_case_json(pgm_dir() + "/" + grid + ".input.json");
    std::ifstream in(pgm_dir() + "/" + grid + ".scenarios.csv");
    if (!in) throw Error("bench_pgm: cannot open " + pgm_dir() + "/" + grid + ".scenarios.csv");
    std::string line, cell;
    std::getline(in, line);
    std::stringstream header(line);
    std::getline(header, cell, ',');  // scenario
    for (int k = 0; std::getline(header, cell, ','); ++k)
        if (k % 2 == 0) c.load_ids.push_back(std::stoll(cell.substr(5, cell.find('_', 5) - 5)));
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        const char* s = line.c_str();
        char* end = nullptr;
        std::strtod(s, &end);  // the scenario number
        for (std::size_t l = 0; l < c.load_ids.size(); ++l) {
            c.p_mw.push_back(std::strtod(end + 1, &end));
            c.q_mvar.push_back(std::strtod(end + 1, &end));
        }
        ++c.n_scenarios;
    }
    return c;
}

const PgmCase& pgm_case(int grid) {
    static std::map<int, PgmCase> cache;
    auto it = cache.find(grid);
    if (it == cache.end()) it = cache.emplace(grid, read_case(grid == 0 ? "radial_1804" : "meshed_2605")).first;
    return it->second;
}

std::string tmp_h5(const char* what) {
    return (std::filesystem::temp_directory_path() / ("libgrid_bench_pgm_" + std::string(what) + "_" + std::to_string(::getpid()) + ".h5")).string();
}

/// The scenarios as load profiles, one step per scenario (p, and q when `with_q`).
DeviceSet scenario_profiles(const PgmCase& c, bool with_q) {
    DeviceSet dev;
    const std::size_t nl = c.load_ids.size();
    for (std::size_t l = 0; l < nl; ++l) {
        LoadProfileSpec sp;
        sp.load = c.load_ids[l];
        for (std::size_t s = 0; s < c.n_scenarios; ++s) {
            sp.p_kw.push_back(c.p_mw[s * nl + l] * 1000.0);
            if (with_q) sp.q_kvar.push_back(c.q_mvar[s * nl + l] * 1000.0);
        }
        dev.load_profiles.push_back(std::move(sp));
    }
    return dev;
}

const char* kRecordNames[] = {"no recording", "in-memory", "HDF5 /tmp"};

/// The scenarios as a time series: one step per scenario, each load's p and q given per step.
/// range(0): grid (0 radial, 1 meshed); range(1): 0 NR, 1 sweep; range(2): 0 none, 1 memory, 2 HDF5.
void BM_PgmTimeSeries(benchmark::State& state) {
    const PgmCase& c = pgm_case(int(state.range(0)));
    const DeviceSet dev = scenario_profiles(c, true);
    const int record = int(state.range(2));
    const std::string path = tmp_h5("ts");
    for (auto _ : state) {
        SimulationOptions opt;
        opt.start = from_civil(2025, 1, 1);
        opt.n_steps = c.n_scenarios;
        opt.method = state.range(1) ? Method::Sweep : Method::NewtonRaphson;
        MemoryRecorder mem;
        if (record == 1) opt.recorder = &mem;
        if (record == 2) opt.output_path = path;
        Simulation sim(c.net, dev, opt);
        const SimulationSummary s = sim.run();
        if (s.non_converged_steps) state.SkipWithError("a scenario did not converge");
    }
    std::filesystem::remove(path);
    state.counters["s_per_scenario"] =
        benchmark::Counter(double(c.n_scenarios) * double(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.SetLabel(std::string(state.range(0) ? "meshed_2605 " : "radial_1804 ") + (state.range(1) ? "sweep, " : "NR, ") + kRecordNames[record]);
}

/// The scenarios as one batch call. range(2): 0 arrays only, 1 arrays and the batch written to HDF5
/// (the default arrays, float64, gzip 1 + shuffle); range(3): threads; range(4): 1 = warm start and (NR)
/// one solver per thread (reuse_solver).
void BM_PgmBatch(benchmark::State& state) {
    const PgmCase& c = pgm_case(int(state.range(0)));
    PfBatchUpdate up;
    up.load_ids = c.load_ids;
    up.n_scenarios = c.n_scenarios;
    up.p_mw = c.p_mw;
    up.q_mvar = c.q_mvar;
    PfBatchOptions opt;
    opt.pf.method = state.range(1) ? Method::Sweep : Method::NewtonRaphson;
    opt.threads = int(state.range(3));
    opt.warm_start = state.range(4) != 0;
    opt.reuse_solver = state.range(4) != 0;
    const bool h5 = state.range(2) != 0;
    const std::string path = tmp_h5("batch");
    for (auto _ : state) {
        const PfBatchResult r = run_pf_batch(c.net, up, opt);
        if (r.n_converged() != r.n_scenarios) state.SkipWithError("a scenario did not converge");
        if (h5) write_pf_batch_h5(path, c.net, r);
    }
    std::filesystem::remove(path);
    state.counters["s_per_scenario"] =
        benchmark::Counter(double(c.n_scenarios) * double(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.SetLabel(std::string(state.range(0) ? "meshed_2605 " : "radial_1804 ") + (state.range(1) ? "sweep, " : "NR, ") +
                   (h5 ? "arrays + HDF5 /tmp" : "arrays") + ", " + std::to_string(state.range(3)) + " thread(s)" +
                   (opt.warm_start ? ", warm start, reused solver" : ""));
}

/// The file alone: the series a 200-step run records (taken from an in-memory run of the same
/// grid, NR), written to a results file in /tmp (create, append 200 rows, close): what recording
/// to a file costs a run beyond computing what it records. range(0): grid; range(1): 1 = float32;
/// range(2): rows appended (1: the fixed cost of a file, creation and close); range(3): 1 = chunk rows
/// cut to the rows, as the engine does for a run shorter than a chunk.
void BM_PgmFileOnly(benchmark::State& state) {
    const PgmCase& c = pgm_case(int(state.range(0)));
    const DeviceSet dev = scenario_profiles(c, false);
    SimulationOptions opt;
    opt.start = from_civil(2025, 1, 1);
    opt.n_steps = c.n_scenarios;
    MemoryRecorder mem;
    opt.recorder = &mem;
    Simulation(c.net, dev, opt).run();
    const std::string path = tmp_h5("file");
    H5WriterOptions h5 = opt.h5;
    h5.float32 = state.range(1) != 0;
    if (state.range(3)) h5.chunk_rows = std::min<std::size_t>(h5.chunk_rows, std::size_t(state.range(2)));  // as the engine does
    std::size_t values = 0;
    for (auto _ : state) {
        ResultsWriter w(path, h5);
        w.add_time();
        for (std::size_t k = 0; k < std::min<std::size_t>(mem.time().size(), std::size_t(state.range(2))); ++k) w.append_time(mem.time()[k]);
        for (const auto& [gpath, ids] : mem.int_vectors())
            if (gpath.size() > 3 && gpath.compare(gpath.size() - 3, 3, "/id") == 0) w.write_ids(gpath.substr(0, gpath.size() - 3), ids);
        values = 0;
        for (const auto& [spath, rows] : mem.series_rows()) {
            const MemoryRecorder::Series& s = mem.series(spath[0] == '/' ? spath.substr(1) : spath);
            if (s.spec.group == "meter" || (s.spec.columns == 1 && s.spec.name == "time")) continue;
            const int h = s.spec.integer ? w.add_int_series(s.spec.group, s.spec.name, s.width(), s.spec.unit)
                                         : w.add_series(s.spec.group, s.spec.name, s.width(), s.spec.unit);
            const std::size_t n_rows = std::min<std::size_t>(rows, std::size_t(state.range(2)));
            for (std::size_t r = 0; r < n_rows; ++r) {
                if (s.spec.integer) w.append(h, s.int_values.data() + r * s.width());
                else w.append(h, s.values.data() + r * s.width());
            }
            values += n_rows * s.width();
        }
        w.close();
    }
    std::filesystem::remove(path);
    state.counters["values"] = double(values);
    state.SetLabel(std::string(state.range(0) ? "meshed_2605" : "radial_1804") + ", " + std::to_string(state.range(2)) + " rows, gzip 1 + shuffle, " + (state.range(1) ? "float32" : "float64") +
                   (state.range(3) ? ", chunk rows = min(256, rows) (the engine)" : ", 256-row chunks"));
}

void ts_args(benchmark::internal::Benchmark* b) {
    for (int rec : {0, 1, 2}) {
        b->Args({0, 0, rec});
        b->Args({0, 1, rec});
        b->Args({1, 0, rec});
    }
}

void batch_args(benchmark::internal::Benchmark* b) {
    for (int warm : {0, 1})
        for (int h5 : {0, 1}) {
            b->Args({0, 0, h5, 1, warm});
            b->Args({0, 1, h5, 1, warm});
            b->Args({1, 0, h5, 1, warm});
        }
    b->Args({0, 0, 0, 2, 1});
    b->Args({1, 0, 0, 2, 1});
}

}  // namespace

BENCHMARK(BM_PgmTimeSeries)->Apply(ts_args)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK(BM_PgmFileOnly)->Args({0, 1, 200, 0})->Args({1, 1, 200, 0})->Args({0, 1, 1, 0})->Args({1, 1, 1, 0})->Args({0, 1, 200, 1})->Args({1, 1, 200, 1})->Args({0, 1, 1, 1})->Args({1, 1, 1, 1})->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->Repetitions(5)->ReportAggregatesOnly(true);
BENCHMARK(BM_PgmBatch)->Apply(batch_args)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true);
BENCHMARK_MAIN();
