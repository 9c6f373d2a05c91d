// Speed of the readers, the profile generators and the results writer: what the test suite used to
// assert on wall time (a test never does: timings belong here, see docs/performance.md).
//   build/benches/bench_io --benchmark_counters_tabular=true
//   build/benches/bench_io --benchmark_filter=Profiles     # one group
#include <benchmark/benchmark.h>

#include <libgrid/io/case_json.hpp>
#include <libgrid/io/dss.hpp>
#include <libgrid/scenario/melaka_grid.hpp>
#include <libgrid/results/hdf5_results.hpp>
#include <libgrid/core/input_file.hpp>
#include <libgrid/io/matpower.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/profiles/load_profiles.hpp>
#include <libgrid/profiles/weather.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

using namespace libgrid;

namespace {

const std::string kData = LIBGRID_DATA;

// ---- profiles: a year at 15 minutes (35,040 steps) --------------------------------------------

void BM_ProfilesWeatherYear(benchmark::State& state) {
    const LocalTime start = from_civil(2025, 1, 1);
    std::uint64_t seed = 100;
    for (auto _ : state) benchmark::DoNotOptimize(melaka_weather(start, 900, 35040, seed++));
    state.counters["steps_per_s"] = benchmark::Counter(35040.0 * double(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_ProfilesLoadYear(benchmark::State& state) {
    const LocalTime start = from_civil(2025, 1, 1);
    std::uint64_t seed = 100;
    for (auto _ : state) benchmark::DoNotOptimize(load_profile(CustomerClass::Residential, start, 900, 35040, seed++, 1, 14.5));
    state.counters["steps_per_s"] = benchmark::Counter(35040.0 * double(state.iterations()), benchmark::Counter::kIsRate);
}

// The engine's pattern on the city grid: every customer's profile for a block of 17 steps (what its
// 8 M-value block budget gives 475,000 loads), the 6 blocks of a day at 15 minutes, 1000 customers.
void BM_ProfilesCityBlocks(benchmark::State& state) {
    const LocalTime start = from_civil(2025, 1, 1);
    const std::size_t block = 17, steps = 96, customers = 1000;
    std::vector<double> out(block);
    for (auto _ : state)
        for (std::size_t k0 = 0; k0 < steps; k0 += block)
            for (std::size_t c = 0; c < customers; ++c)
                load_profile_into(default_load_tables(CustomerClass::Residential), CustomerClass::Residential, start + std::int64_t(k0) * 900, 900,
                                  std::min(block, steps - k0), 1, c, 14.5, nullptr, out.data(), nullptr);
    state.counters["customer_steps_per_s"] = benchmark::Counter(double(customers * steps) * double(state.iterations()), benchmark::Counter::kIsRate);
}

// ---- network readers -------------------------------------------------------------------------

void BM_MatpowerParseACTIVSg2000(benchmark::State& state) {
    const std::string text = read_input_file(kData + "/matpower/case_ACTIVSg2000.m");  // 660 kB
    std::size_t buses = 0;
    for (auto _ : state) buses = parse_matpower(text, "case_ACTIVSg2000.m").buses.size();
    state.counters["MB_per_s"] = benchmark::Counter(double(text.size()) * double(state.iterations()) / 1e6, benchmark::Counter::kIsRate);
    state.SetLabel(std::to_string(buses) + " buses, " + std::to_string(text.size()) + " bytes");
}

void BM_CaseJsonParse2869pegase(benchmark::State& state) {
    const std::string text = read_input_file(kData + "/cigre/case2869pegase.input.json");  // 2.7 MB
    for (auto _ : state) benchmark::DoNotOptimize(parse_case_json(text, "case2869pegase.input.json"));
    state.counters["MB_per_s"] = benchmark::Counter(double(text.size()) * double(state.iterations()) / 1e6, benchmark::Counter::kIsRate);
}

void BM_CaseJsonWrite2869pegase(benchmark::State& state) {
    const Network net = read_case_json(kData + "/cigre/case2869pegase.input.json");
    for (auto _ : state) benchmark::DoNotOptimize(to_case_json(net));
}

// ---- results writer: a year at 15 minutes for 1,000 buses, float64, gzip 1 + shuffle -----------

void BM_Hdf5WriteYear1000(benchmark::State& state) {
    const std::size_t N = 35040, n_cols = 1000;
    const std::string path =
        (std::filesystem::temp_directory_path() / ("libgrid_bench_io_" + std::to_string(::getpid()) + ".h5")).string();
    std::vector<double> row(n_cols);
    double mb = 0;
    for (auto _ : state) {
        ResultsWriter w(path);
        w.add_time();
        const int h = w.add_series("/bus", "vm_pu", n_cols, "p.u.");
        std::uint64_t x = 88172645463325252ull;  // xorshift: measurement noise in the last digits
        for (std::size_t k = 0; k < N; ++k) {
            const double day = 2.0 * 3.141592653589793 * double(k % 96) / 96.0;
            for (std::size_t c = 0; c < n_cols; ++c) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                const double noise = double(x >> 11) * 0x1.0p-53 - 0.5;
                row[c] = 1.0 - 0.03 * double(c % 50) / 50.0 * (1.0 + std::sin(day)) + 1e-4 * noise;
            }
            w.append_time(std::int64_t(900 * k));
            w.append(h, row.data());
        }
        w.close();
        mb = double(std::filesystem::file_size(path)) / 1e6;
    }
    std::filesystem::remove(path);
    state.counters["raw_MB_per_s"] = benchmark::Counter(280.0 * double(state.iterations()), benchmark::Counter::kIsRate);
    state.counters["file_MB"] = mb;
    state.SetLabel("35,040 x 1,000 float64 (280 MB raw)");
}

}  // namespace

/// An OpenDSS script of the Melaka grid as built (write_dss of melaka_unetwork), read back: the
/// reader's name look-ups are hashed, so time grows with the elements, not their square.
/// state.range(0): 0 small, 1 district.
void BM_DssReadMelaka(benchmark::State& state) {
    MelakaGridOptions go;
    go.size = state.range(0) == 0 ? GridSize::Small : GridSize::District;
    const UNetwork net = melaka_unetwork(generate_melaka_grid(go)).net;
    const std::string path = (std::filesystem::temp_directory_path() / ("bench_dss_" + std::to_string(::getpid()) + ".dss")).string();
    write_dss(net, path);
    std::size_t buses = 0;
    for (auto _ : state) {
        const DssReadResult r = read_dss(path);
        buses = r.net.buses.size();
        benchmark::DoNotOptimize(buses);
    }
    std::filesystem::remove(path);
    state.counters["buses"] = double(buses);
    state.counters["lines"] = double(net.lines.size());
}

BENCHMARK(BM_ProfilesWeatherYear)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ProfilesLoadYear)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ProfilesCityBlocks)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatpowerParseACTIVSg2000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CaseJsonParse2869pegase)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CaseJsonWrite2869pegase)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hdf5WriteYear1000)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();  // compression threads, disk
BENCHMARK(BM_DssReadMelaka)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_MAIN();
