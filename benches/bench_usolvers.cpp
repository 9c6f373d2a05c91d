// The unbalanced solvers (fixed point, Newton-Raphson, sweep) on the IEEE 123 feeder and the
// European LV feeder at 09:26 (loads at their 1-minute shapes' value), one core. The time is split:
//   BM_usolver_setup : make_usolver (the analyse/factor step: KLU symbolic analysis and numeric
//                      factorisation of Y (fixed point) or of Y's real form (Newton), the tree and
//                      the branches' block inverses (sweep));
//   BM_usolver_solve : solve() from the model's start voltages (the iterations), with the counters
//                      iterations and factor_us (Newton's numeric refactorisations inside the solve).
// Reading the script and building the nodal model are not timed.
// Run:
//   build/benches/bench_usolvers --benchmark_min_time=0.2 --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <libgrid/io/dss.hpp>
#include <libgrid/math/umath.hpp>
#include <libgrid/solvers/usolvers.hpp>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

/// The European LV feeder's loads at 09:26: kW = base kW x the 1-minute shape's value.
void eulv_at_0926(UNetwork& net) {
    const int minute = 9 * 60 + 26;
    auto same = [](const std::string& a, const std::string& b) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
    };
    for (ULoad& l : net.loads) {
        const std::string& shape = !l.yearly.empty() ? l.yearly : l.daily;
        for (const ULoadShape& s : net.loadshapes)
            if (!shape.empty() && same(s.name, shape) && !s.mult.empty()) {
                const double mult = s.mult[std::size_t(minute - 1) % s.mult.size()];
                l.kw = l.base_kw * mult;
                l.kvar = l.base_kvar * (s.qmult.empty() ? mult : s.qmult[std::size_t(minute - 1) % s.qmult.size()]);
            }
    }
}

const UMathModel& model(int which) {
    static std::map<int, UMathModel> cache;
    auto it = cache.find(which);
    if (it != cache.end()) return it->second;
    const std::string dir = std::string(LIBGRID_DATA) + "/opendss/";
    UNetwork net = read_dss(dir + (which == 0 ? "ieee123/IEEE123Master.dss" : "eulv/Master.dss")).net;
    if (which == 1) eulv_at_0926(net);
    return cache.emplace(which, build_umath_model(net)).first->second;
}

void BM_usolver_setup(benchmark::State& state) {
    const UMathModel& m = model(int(state.range(0)));
    const auto method = UMethod(state.range(1));
    for (auto _ : state) {
        auto s = make_usolver(m, method);
        benchmark::DoNotOptimize(s.get());
    }
    state.counters["nodes"] = m.n_nodes;
    state.SetLabel(std::string(state.range(0) == 0 ? "ieee123 " : "eulv ") + to_string(method));
}

void BM_usolver_solve(benchmark::State& state) {
    const UMathModel& m = model(int(state.range(0)));
    const auto method = UMethod(state.range(1));
    auto s = make_usolver(m, method);
    std::vector<cplx> v = m.v_start;
    USolveOptions opt;  // tolerance 1e-9 p.u.
    USolveStats st;
    double factor_s = 0.0;
    std::int64_t n = 0;
    for (auto _ : state) {
        state.PauseTiming();
        std::copy(m.v_start.begin(), m.v_start.end(), v.begin());
        state.ResumeTiming();
        st = s->solve(v, opt);
        factor_s += st.factor_seconds;
        ++n;
    }
    if (!st.converged) state.SkipWithError("did not converge");
    state.counters["iterations"] = st.iterations;
    state.counters["factor_us"] = n ? factor_s / double(n) * 1e6 : 0.0;
    state.counters["nodes"] = m.n_nodes;
    state.SetLabel(std::string(state.range(0) == 0 ? "ieee123 " : "eulv ") + to_string(method));
}

void feeders_and_methods(benchmark::internal::Benchmark* b) {
    for (int f : {0, 1})
        for (UMethod meth : {UMethod::fixed_point, UMethod::newton, UMethod::sweep}) b->Args({f, int(meth)});
}

}  // namespace

BENCHMARK(BM_usolver_setup)->Apply(feeders_and_methods)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_usolver_solve)->Apply(feeders_and_methods)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
