// The European LV feeder's day (issue 15): 1,440 one-minute steps, side by side with OpenDSS's yearly
// mode on the same day (benches/opendss/dss_daily_reference timing; docs/performance.md, "Issue 15: the
// European LV day"). One thread, no output.
//   taskset -c 0 build/benches/bench_uday --benchmark_min_time=1
// Arguments: variant (0 the scripts as published, 1 every load constant PQ), tolerance (10: 1e-10 p.u.,
// OpenDSS's reference runs'; 4: 1e-4, OpenDSS's default).
//  - UPowerFlowDay: the power-flow level, UPowerFlow compiled once (outside the timing), then each minute
//    apply_loadshapes_at(minute / 60) + update_loads + solve (no tables), from the last answer;
//  - UPowerFlowDayCompile: the same with read_dss and the UPowerFlow set-up inside the timing (OpenDSS's
//    "compile + day");
//  - UTimeStepperDay: what the engine drives (powerflow/ustepper.hpp): the shapes resolved once, each
//    minute loadshape_at -> set_load for the 55 loads, solve, and every row the engine records (nodes,
//    branches, transformers, sources, loads, VUF, neutral, balance; third argument 1) or none (0); no file.
#include <benchmark/benchmark.h>

#include <libgrid/io/dss.hpp>
#include <libgrid/powerflow/unbalanced.hpp>
#include <libgrid/powerflow/ustepper.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/simulation/engine.hpp>

#include <cmath>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

const std::string kMaster = std::string(LIBGRID_DATA) + "/opendss/eulv/Master.dss";

UNetwork eulv(bool pq) {
    UNetwork net = read_dss(kMaster).net;
    if (pq)
        for (ULoad& l : net.loads) l.vmaxpu = 1.2;
    return net;
}

UPfOptions options(int tolerance_exp) {
    UPfOptions opt;
    opt.method = UMethod::fixed_point;
    opt.controls = UControlMode::off;
    opt.tolerance = std::pow(10.0, -tolerance_exp);
    return opt;
}

/// 1,440 minutes; returns the iterations.
int day(UNetwork& net, UPowerFlow& pf) {
    int iterations = 0;
    for (int minute = 1; minute <= 1440; ++minute) {
        apply_loadshapes_at(net, minute / 60.0);
        pf.update_loads();
        const USolveStats st = pf.solve();
        if (!st.converged) throw std::runtime_error("minute " + std::to_string(minute) + " did not converge");
        iterations += st.iterations;
    }
    return iterations;
}

void guarded(benchmark::State& state, void (*body)(benchmark::State&)) {
    try {
        if (!std::filesystem::exists(kMaster)) {
            state.SkipWithError("missing feeder");
            return;
        }
        body(state);
    } catch (const std::exception& e) {
        state.SkipWithError(e.what());
    }
}

void BM_UPowerFlowDay(benchmark::State& state) {
    guarded(state, [](benchmark::State& s) {
        UNetwork net = eulv(s.range(0) == 1);
        apply_loadshapes_at(net, 0.0);
        UPowerFlow pf(net, options(static_cast<int>(s.range(1))));
        pf.solve();
        int iterations = 0;
        for (auto _ : s) iterations = day(net, pf);
        s.counters["iterations"] = iterations;
        s.counters["per_step_us"] = benchmark::Counter(1440.0 * static_cast<double>(s.iterations()),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    });
}
BENCHMARK(BM_UPowerFlowDay)->ArgsProduct({{0, 1}, {10, 4}})->Unit(benchmark::kMillisecond);

void BM_UPowerFlowDayCompile(benchmark::State& state) {
    guarded(state, [](benchmark::State& s) {
        for (auto _ : s) {
            UNetwork net = eulv(s.range(0) == 1);
            apply_loadshapes_at(net, 0.0);
            UPowerFlow pf(net, options(static_cast<int>(s.range(1))));
            benchmark::DoNotOptimize(day(net, pf));
        }
    });
}
BENCHMARK(BM_UPowerFlowDayCompile)->ArgsProduct({{0, 1}, {10, 4}})->Unit(benchmark::kMillisecond);

void BM_UTimeStepperDay(benchmark::State& state) {
    guarded(state, [](benchmark::State& s) {
        UNetwork net = eulv(s.range(0) == 1);
        std::vector<const ULoadShape*> shape;
        for (const ULoad& l : net.loads) shape.push_back(load_shape_of(net, l));
        UTimeStepper st(net, {}, options(static_cast<int>(s.range(1))));
        const auto nn = static_cast<std::size_t>(st.n_nodes()), nb = static_cast<std::size_t>(st.n_branches());
        std::vector<double> v(nn), vm(nn), va(nn), i4(4 * nb), loading(nb), ploss(nb);
        std::vector<double> tp(6 * net.transformers.size()), tq(tp.size()), sp(3 * net.vsources.size()), sq(sp.size());
        std::vector<double> lp(net.loads.size()), lq(lp.size()), vuf(net.buses.size()), vn(vuf.size());
        double by_conductor[4];
        int iterations = 0;
        for (auto _ : s) {
            iterations = 0;
            for (int minute = 1; minute <= 1440; ++minute) {
                for (std::size_t i = 0; i < net.loads.size(); ++i) {
                    double p = 1.0, q = 1.0;
                    bool has_q = false;
                    loadshape_at(*shape[i], minute / 60.0, p, q, has_q);
                    st.set_load(static_cast<int>(i), net.loads[i].base_kw * p, net.loads[i].base_kvar * q);
                }
                const USolveStats r = st.solve();
                if (!r.converged) throw std::runtime_error("minute " + std::to_string(minute) + " did not converge");
                iterations += r.iterations;
                if (s.range(2) == 0) continue;
                st.node_rows(v.data(), vm.data(), va.data());
                st.branch_rows(i4.data(), loading.data(), ploss.data());
                st.transformer_rows(tp.data(), tq.data());
                st.source_rows(sp.data(), sq.data());
                st.load_rows(lp.data(), lq.data());
                st.vuf_rows(vuf.data());
                st.neutral_rows(vn.data());
                benchmark::DoNotOptimize(st.balance_kw(by_conductor));
            }
        }
        s.counters["iterations"] = iterations;
        s.counters["per_step_us"] = benchmark::Counter(1440.0 * static_cast<double>(s.iterations()),
                                                       benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    });
}
BENCHMARK(BM_UTimeStepperDay)->ArgsProduct({{0, 1}, {10, 4}, {1, 0}})->Unit(benchmark::kMillisecond);

}  // namespace

// The engine's day: Simulation(UNetwork) with no recorder (profiles, devices none, solve, KPIs).
void BM_SimulationDay(benchmark::State& state) {
    guarded(state, [](benchmark::State& s) {
        const UNetwork net = eulv(s.range(0) == 1);
        SimulationOptions opt;
        opt.start = from_civil(2026, 1, 1, 0, 1);  // 00:01: OpenDSS's first yearly-mode solution
        opt.step_s = 60;
        opt.n_steps = 1440;
        opt.tolerance = std::pow(10.0, -static_cast<double>(s.range(1)));
        opt.threads = 1;
        opt.meter_interval_s = 60;
        opt.checkpoint_steps = 0;
        SimulationSummary sum;
        for (auto _ : s) {
            Simulation sim(net, DeviceSet{}, opt);
            sum = sim.run();
            if (sum.non_converged_steps != 0) throw std::runtime_error("steps did not converge");
        }
        s.counters["iterations"] = sum.powerflow_iterations;
        s.counters["setup_ms"] = 1e3 * sum.time_setup_s;
        s.counters["pf_ms"] = 1e3 * sum.time_powerflow_s;
        s.counters["record_ms"] = 1e3 * sum.time_record_s;
        s.counters["profiles_ms"] = 1e3 * sum.time_profiles_s;
    });
}
BENCHMARK(BM_SimulationDay)->ArgsProduct({{0, 1}, {10, 4}})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
