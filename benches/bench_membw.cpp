// The memory-bandwidth probe (issue 13): STREAM-like kernels (McCalpin's copy, scale, add, triad) on
// arrays far larger than the last-level cache, with 1 and 2 threads of libgrid's ThreadPool (each
// thread touches first, and then streams, its own contiguous part). Reports GB/s counted as STREAM does
// (bytes read + bytes written, without write-allocate traffic) and the time to stream 64 bytes, the
// yardstick docs/performance.md sets the city's ns per bus-step against; both also over the threads'
// CPU time (_cpu), the figure to use when other jobs share the machine.
//   build/benches/bench_membw --benchmark_counters_tabular=true
//   LIBGRID_MEMBW_MB=512 build/benches/bench_membw   (MB per array; default 256, 3 arrays)
#include <benchmark/benchmark.h>

#include <libgrid/core/thread_pool.hpp>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>

using libgrid::ThreadPool;

namespace {

std::size_t array_len() {
    const char* env = std::getenv("LIBGRID_MEMBW_MB");
    const std::size_t mb = env ? std::size_t(std::strtoul(env, nullptr, 10)) : 256;
    return (mb > 0 ? mb : 256) * (std::size_t(1) << 20) / sizeof(double);
}

struct Arrays {
    std::size_t n = 0;
    std::unique_ptr<double[]> a, b, c;
};

double process_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

enum class Kernel { Copy, Scale, Add, Triad };

/// Bytes a kernel moves per element (STREAM's count).
double bytes_per_element(Kernel k) { return k == Kernel::Copy || k == Kernel::Scale ? 16.0 : 24.0; }

void run_part(Kernel k, Arrays& x, std::size_t lo, std::size_t hi) {
    double* __restrict a = x.a.get();
    double* __restrict b = x.b.get();
    double* __restrict c = x.c.get();
    const double s = 3.0;
    switch (k) {
        case Kernel::Copy: for (std::size_t i = lo; i < hi; ++i) c[i] = a[i]; break;
        case Kernel::Scale: for (std::size_t i = lo; i < hi; ++i) b[i] = s * c[i]; break;
        case Kernel::Add: for (std::size_t i = lo; i < hi; ++i) c[i] = a[i] + b[i]; break;
        case Kernel::Triad: for (std::size_t i = lo; i < hi; ++i) a[i] = b[i] + s * c[i]; break;
    }
}

void BM_Stream(benchmark::State& state, Kernel kernel) {
    const int threads = int(state.range(0));
    ThreadPool pool(threads);
    Arrays x;
    x.n = array_len();
    x.a.reset(new double[x.n]);  // uninitialised: each thread first-touches its own part below
    x.b.reset(new double[x.n]);
    x.c.reset(new double[x.n]);
    const std::size_t parts = std::size_t(threads);
    auto part = [&](std::size_t p, auto&& f) { f(x.n * p / parts, x.n * (p + 1) / parts); };
    pool.for_each(parts, [&](std::size_t p) {
        part(p, [&](std::size_t lo, std::size_t hi) {
            for (std::size_t i = lo; i < hi; ++i) {
                x.a[i] = 1.0;
                x.b[i] = 2.0;
                x.c[i] = 0.0;
            }
        });
    }, 1);
    double elapsed_s = 0.0;
    const double cpu0 = process_cpu_s();
    for (auto _ : state) {
        const auto t0 = std::chrono::steady_clock::now();
        pool.for_each(parts, [&](std::size_t p) { part(p, [&](std::size_t lo, std::size_t hi) { run_part(kernel, x, lo, hi); }); }, 1);
        benchmark::ClobberMemory();
        elapsed_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
    const double bytes = bytes_per_element(kernel) * double(x.n) * double(state.iterations());
    state.counters["GB_per_s"] = bytes / elapsed_s / 1e9;
    state.counters["ns_per_64B"] = elapsed_s * 1e9 / (bytes / 64.0);
    // On a shared machine the threads do not run all the time: the same figure over their CPU time
    // (process CPU time / threads) is what the memory gives a thread that runs.
    const double cpu_s = (process_cpu_s() - cpu0) / double(threads);
    state.counters["GB_per_s_cpu"] = bytes / cpu_s / 1e9;
    state.counters["ns_per_64B_cpu"] = cpu_s * 1e9 / (bytes / 64.0);
    state.counters["MB_per_array"] = double(x.n * sizeof(double)) / double(1 << 20);
    state.SetLabel(std::to_string(threads) + " thread(s)");
}

}  // namespace

int main(int argc, char** argv) {
    const std::pair<const char*, Kernel> kernels[] = {
        {"Copy", Kernel::Copy}, {"Scale", Kernel::Scale}, {"Add", Kernel::Add}, {"Triad", Kernel::Triad}};
    for (const auto& [name, k] : kernels)
        benchmark::RegisterBenchmark((std::string("Stream/") + name).c_str(), BM_Stream, k)
            ->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
