// The European LV feeder's day through THE time-series engine (issue 15, helper h3): Simulation(UNetwork)
// from 00:01 in 60 s steps, 1,440 steps, results into a MemoryRecorder (the layout of docs/results_hdf5.md,
// "unbalanced"), against OpenDSS's own yearly mode minute by minute (tests/data/opendss_refs/eulv_daily_*.csv,
// written by benches/opendss/dss_daily_reference at tolerance 1e-10): |V| at LOAD1 (a), LOAD32 (c), LOAD53 (b)
// from /node/v_volts, the transformer's per-phase power into the LV network from /trafo/p_{a,b,c}_lv_mw, the
// source's power from /ext_grid/p_mw, the LV network's extreme voltages per phase, and the energy balance of
// every step (/solver/energy_balance_mw, and per conductor). Both load readings (as published; constant PQ).
#include <doctest/doctest.h>

#include <libgrid/io/dss.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/results/recorder.hpp>
#include <libgrid/simulation/engine.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

const std::string kData = std::string(LIBGRID_TEST_DATA);

struct RefMinute {
    std::array<double, 3> v_load{}, p_lv{}, q_lv{}, vmin{}, vmax{};
    double p_source = 0.0, q_source = 0.0;
};

/// tests/data/opendss_refs/eulv_daily_*.csv (that folder's README), row k-1 = minute k.
std::vector<RefMinute> read_day(const std::string& file) {
    std::ifstream f(kData + "/opendss_refs/" + file);
    REQUIRE_MESSAGE(f.good(), "missing opendss_refs/" << file);
    std::string line;
    std::getline(f, line);
    REQUIRE(line.rfind("minute,iterations,v_load1_a_volts,v_load32_c_volts,v_load53_b_volts,p_lv_a_kw", 0) == 0);
    std::vector<RefMinute> out;
    while (std::getline(f, line)) {
        std::vector<double> c;
        std::stringstream ss(line);
        std::string x;
        while (std::getline(ss, x, ',')) c.push_back(std::stod(x));
        REQUIRE(c.size() == 19);
        REQUIRE(static_cast<int>(c[0]) == static_cast<int>(out.size()) + 1);
        RefMinute r;
        for (int k = 0; k < 3; ++k) {
            r.v_load[k] = c[2 + k];
            r.p_lv[k] = c[5 + k];
            r.q_lv[k] = c[8 + k];
            r.vmin[k] = c[13 + k];
            r.vmax[k] = c[16 + k];
        }
        r.p_source = c[11];
        r.q_source = c[12];
        out.push_back(r);
    }
    REQUIRE(out.size() == 1440);
    return out;
}

UNetwork eulv(bool pq) {
    const std::string script = std::string("Compile Master.dss\n") + (pq ? "BatchEdit Load..* vmaxpu=1.2\n" : "");
    return read_dss_string(script, "eulv", kData + "/opendss/eulv").net;
}

/// The column of node (bus, phase) in /node, -1 when absent.
int node_column(const MemoryRecorder& rec, const std::string& bus, const std::string& phase) {
    const auto& names = rec.strings().at("node/bus_name");
    const auto& phases = rec.strings().at("node/phase");
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] == bus && phases[i] == phase) return static_cast<int>(i);
    }
    return -1;
}

struct Worst {
    double v_pu = 0.0, p_kw = 0.0, q_kvar = 0.0, src_kw = 0.0, src_kvar = 0.0, vext_volts = 0.0, balance_kw = 0.0;
};

Worst run_day(bool pq, const std::vector<RefMinute>& ref, SimulationSummary& summary) {
    MemoryRecorder rec;
    SimulationOptions opt;
    opt.start = from_civil(2026, 1, 1, 0, 1);  // 00:01: OpenDSS's first yearly-mode solution (shape point 1)
    opt.step_s = 60;
    opt.n_steps = 1440;
    opt.tolerance = 1e-10;  // OpenDSS's reference is at 1e-10 too
    opt.max_iterations = 200;
    opt.meter_interval_s = 60;  // meter intervals aligned with a clock that starts at 00:01
    opt.recorder = &rec;
    Simulation sim(eulv(pq), DeviceSet{}, opt);
    summary = sim.run();
    REQUIRE(rec.time().size() == 1440);
    CHECK(rec.time().front() == opt.start);
    const int load_col[3] = {node_column(rec, "34", "a"), node_column(rec, "614", "c"), node_column(rec, "899", "b")};
    for (int c : load_col) REQUIRE(c >= 0);
    const auto& vbase = rec.vectors().at("node/vbase_volts");
    const auto& bus_names = rec.strings().at("node/bus_name");
    const auto& phases = rec.strings().at("node/phase");
    const auto& v = rec.series("node/v_volts");
    const MemoryRecorder::Series* p_lv[3] = {&rec.series("trafo/p_a_lv_mw"), &rec.series("trafo/p_b_lv_mw"),
                                             &rec.series("trafo/p_c_lv_mw")};
    const MemoryRecorder::Series* q_lv[3] = {&rec.series("trafo/q_a_lv_mvar"), &rec.series("trafo/q_b_lv_mvar"),
                                             &rec.series("trafo/q_c_lv_mvar")};
    const auto& p_src = rec.series("ext_grid/p_mw");
    const auto& q_src = rec.series("ext_grid/q_mvar");
    const auto& balance = rec.series("solver/energy_balance_mw");
    const auto& by_conductor = rec.series("solver/energy_balance_by_conductor_mw");
    REQUIRE(p_lv[0]->width() == 1);  // the feeder's one transformer
    REQUIRE(by_conductor.width() == 4);
    Worst w;
    for (std::size_t t = 0; t < 1440; ++t) {
        const RefMinute& r = ref[t];
        for (int k = 0; k < 3; ++k) {
            const auto c = static_cast<std::size_t>(load_col[k]);
            w.v_pu = std::max(w.v_pu, std::abs(v.at(t, c) - r.v_load[k]) / vbase[c]);
            // power INTO the transformer at winding 2 (pandapower's res_trafo_3ph): minus into the LV network
            w.p_kw = std::max(w.p_kw, std::abs(-1e3 * p_lv[k]->at(t, 0) - r.p_lv[k]));
            w.q_kvar = std::max(w.q_kvar, std::abs(-1e3 * q_lv[k]->at(t, 0) - r.q_lv[k]));
        }
        w.src_kw = std::max(w.src_kw, std::abs(1e3 * p_src.at(t, 0) - r.p_source));
        w.src_kvar = std::max(w.src_kvar, std::abs(1e3 * q_src.at(t, 0) - r.q_source));
        std::array<double, 3> vmin{1e300, 1e300, 1e300}, vmax{0.0, 0.0, 0.0};
        for (std::size_t n = 0; n < bus_names.size(); ++n) {
            if (bus_names[n] == "sourcebus" || phases[n].size() != 1 || phases[n][0] < 'a' || phases[n][0] > 'c') continue;
            const int k = phases[n][0] - 'a';
            vmin[k] = std::min(vmin[k], v.at(t, n));
            vmax[k] = std::max(vmax[k], v.at(t, n));
        }
        for (int k = 0; k < 3; ++k) {
            w.vext_volts = std::max({w.vext_volts, std::abs(vmin[k] - r.vmin[k]), std::abs(vmax[k] - r.vmax[k])});
        }
        w.balance_kw = std::max(w.balance_kw, 1e3 * std::abs(balance.at(t, 0)));
        for (std::size_t k = 0; k < 4; ++k) w.balance_kw = std::max(w.balance_kw, 1e3 * std::abs(by_conductor.at(t, k)));
    }
    return w;
}

}  // namespace

TEST_CASE("EU LV day through the engine: Simulation(UNetwork) equals OpenDSS's yearly mode minute by minute") {
    for (bool pq : {false, true}) {
        CAPTURE(pq);
        SimulationSummary summary;
        const Worst w = run_day(pq, read_day(pq ? "eulv_daily_pq.csv" : "eulv_daily_published.csv"), summary);
        MESSAGE(std::string(pq ? "constant PQ" : "as published") << ": worst |dV| " << w.v_pu << " p.u., dP " << w.p_kw
                << " kW, dQ " << w.q_kvar << " kvar, source " << w.src_kw << " kW " << w.src_kvar
                << " kvar, extreme voltages " << w.vext_volts << " V, balance " << w.balance_kw << " kW");
        CHECK(summary.steps == 1440);
        CHECK(summary.non_converged_steps == 0);
        CHECK(w.v_pu < 1e-6);  // the bars
        CHECK(w.p_kw < 1e-3);
        CHECK(w.q_kvar < 1e-3);
        CHECK(w.src_kw < 1e-3);
        CHECK(w.src_kvar < 1e-3);
        CHECK(w.vext_volts < 1e-3);
        CHECK(w.balance_kw < 1e-6);  // every step, in total and per conductor
    }
}
