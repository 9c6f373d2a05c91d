// The European LV feeder's day at the power-flow level (issue 15, helper h3): UPowerFlow compiled once,
// each minute 1..1440 the loads set from their yearly shapes (apply_loadshapes_at at minute / 60 h: the
// time rule of OpenDSS's yearly mode, which advances the clock and then solves), update_loads, solve.
//  (1) against OpenDSS's own yearly mode, every minute (tests/data/opendss_refs/eulv_daily_*.csv, written
//      by benches/opendss/dss_daily_reference at tolerance 1e-10): |V| at LOAD1 (a), LOAD32 (c), LOAD53
//      (b) to 1e-6 p.u., the transformer's per-phase power into the LV network to 1e-3 kW, the source's
//      total power, the LV network's extreme voltages per phase; both variants (as published: loads
//      above vmaxpu are constant Z; every load constant PQ);
//  (2) the same day through UTimeStepper (what the engine drives: set_load from loadshape_at, solve, the
//      rows), against the same files, and its energy balance closed every minute, per conductor;
//  (3) against the IEEE document's printed numbers (constant PQ; minutes 1, 566, 1440).
#include <doctest/doctest.h>

#include <libgrid/io/dss.hpp>
#include <libgrid/powerflow/unbalanced.hpp>
#include <libgrid/powerflow/ustepper.hpp>

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

/// One row of eulv_daily_*.csv (tests/data/opendss_refs/README.md).
struct RefMinute {
    int minute = 0;
    std::array<double, 3> v_load{};           ///< LOAD1 (a), LOAD32 (c), LOAD53 (b), volts
    std::array<double, 3> p_lv{}, q_lv{};     ///< into the LV network, phases a, b, c
    double p_source = 0.0, q_source = 0.0;
    std::array<double, 3> vmin{}, vmax{};
};

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
        RefMinute r;
        r.minute = static_cast<int>(c[0]);
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

/// What the test reads of one solved minute.
struct Minute {
    std::array<double, 3> v_load{}, v_load_pu{};
    std::array<double, 3> p_lv{}, q_lv{};
    double p_source = 0.0, q_source = 0.0;
    std::array<double, 3> vmin{1e300, 1e300, 1e300}, vmax{0.0, 0.0, 0.0};
};

class Day {
public:
    explicit Day(bool pq) : net_(eulv(pq)), pf_(net_, options()) {
        for (const char* name : {"load1", "load32", "load53"}) {
            const auto it = std::find_if(net_.loads.begin(), net_.loads.end(),
                                         [&](const ULoad& l) { return l.name == name; });
            REQUIRE(it != net_.loads.end());
            const int node = pf_.model().bus_node(it->bus1.bus, it->bus1.nodes.at(0));
            REQUIRE(node >= 0);
            REQUIRE(pf_.model().node_vbase_v[static_cast<std::size_t>(node)] > 200.0);  // 230 V (0.416 kV / sqrt 3)
            load_node_.push_back(node);
            load_phase_.push_back(it->bus1.nodes[0]);
        }
        CHECK(load_phase_ == std::vector<int>{1, 3, 2});  // the phases: a, c, b
        for (std::size_t i = 0; i < net_.transformers.size(); ++i) {
            if (net_.transformers[i].name == "tr1") trafo_ = static_cast<int>(i);
        }
        REQUIRE(trafo_ >= 0);
        source_bus_ = net_.find_bus("sourcebus");
        REQUIRE(source_bus_ >= 0);
    }

    static UPfOptions options() {
        UPfOptions opt;
        opt.method = UMethod::fixed_point;
        opt.controls = UControlMode::off;
        opt.tolerance = 1e-10;  // OpenDSS's reference is at 1e-10 too
        opt.max_iterations = 200;
        return opt;
    }

    /// Solve minute `minute` (1..1440) from the last answer, as OpenDSS's yearly mode does.
    Minute solve(int minute) {
        apply_loadshapes_at(net_, minute / 60.0);
        pf_.update_loads();
        const USolveStats st = pf_.solve();
        REQUIRE_MESSAGE(st.converged, "minute " << minute);
        Minute m;
        const auto& v = pf_.v();
        for (int k = 0; k < 3; ++k) {
            const auto n = static_cast<std::size_t>(load_node_[k]);
            m.v_load[k] = std::abs(v[n]);
            m.v_load_pu[k] = m.v_load[k] / pf_.model().node_vbase_v[n];
        }
        const UPfResult res = pf_.result();
        m.p_source = res.source_kva.real();
        m.q_source = res.source_kva.imag();
        for (const auto& e : res.element) {
            if (e.kind != UElementKind::transformer || e.index != trafo_) continue;
            const UTerminalResult& lv = e.terminals.at(1);
            for (std::size_t c = 0; c < lv.nodes.size(); ++c) {
                if (lv.nodes[c] < 1 || lv.nodes[c] > 3) continue;
                m.p_lv[lv.nodes[c] - 1] = -lv.power_kva[c].real();
                m.q_lv[lv.nodes[c] - 1] = -lv.power_kva[c].imag();
            }
        }
        for (std::size_t i = 0; i < res.node.bus.size(); ++i) {
            const int ph = res.node.phase[i];
            if (res.node.bus[i] == source_bus_ || ph < 1 || ph > 3) continue;
            m.vmin[ph - 1] = std::min(m.vmin[ph - 1], res.node.vm_volts[i]);
            m.vmax[ph - 1] = std::max(m.vmax[ph - 1], res.node.vm_volts[i]);
        }
        return m;
    }

private:
    UNetwork net_;
    UPowerFlow pf_;
    std::vector<int> load_node_, load_phase_;
    int trafo_ = -1, source_bus_ = -1;
};

/// The worst differences over the day, with the minute where each happened.
struct Worst {
    double v_pu = 0.0, p_kw = 0.0, q_kvar = 0.0, src_kw = 0.0, src_kvar = 0.0, vext_volts = 0.0;
    int v_minute = 0, p_minute = 0;
};

Worst compare_day(bool pq, const std::vector<RefMinute>& ref) {
    Day day(pq);
    Worst w;
    for (const RefMinute& r : ref) {
        const Minute m = day.solve(r.minute);
        for (int k = 0; k < 3; ++k) {
            const double dv = std::abs(m.v_load[k] - r.v_load[k]) * m.v_load_pu[k] / m.v_load[k];
            if (dv > w.v_pu) w.v_pu = dv, w.v_minute = r.minute;
            const double dp = std::abs(m.p_lv[k] - r.p_lv[k]);
            if (dp > w.p_kw) w.p_kw = dp, w.p_minute = r.minute;
            w.q_kvar = std::max(w.q_kvar, std::abs(m.q_lv[k] - r.q_lv[k]));
            w.vext_volts = std::max({w.vext_volts, std::abs(m.vmin[k] - r.vmin[k]), std::abs(m.vmax[k] - r.vmax[k])});
        }
        w.src_kw = std::max(w.src_kw, std::abs(m.p_source - r.p_source));
        w.src_kvar = std::max(w.src_kvar, std::abs(m.q_source - r.q_source));
    }
    return w;
}

}  // namespace

TEST_CASE("EU LV day: UPowerFlow minute by minute equals OpenDSS's yearly mode (both load readings)") {
    for (bool pq : {false, true}) {
        CAPTURE(pq);
        const Worst w = compare_day(pq, read_day(pq ? "eulv_daily_pq.csv" : "eulv_daily_published.csv"));
        MESSAGE(std::string(pq ? "constant PQ" : "as published") << ": worst |dV| " << w.v_pu << " p.u. (minute " << w.v_minute
                << "), worst dP " << w.p_kw << " kW (minute " << w.p_minute << "), dQ " << w.q_kvar
                << " kvar, source " << w.src_kw << " kW " << w.src_kvar << " kvar, extreme voltages " << w.vext_volts
                << " V");
        CHECK(w.v_pu < 1e-6);  // the bars: 1e-6 p.u., 1e-3 kW
        CHECK(w.p_kw < 1e-3);
        // What is reached (2026-12-03): 2.1e-9 p.u. and 6.6e-8 kW / 5.4e-8 kvar, i.e. the CSV's rounding
        // (6 decimals of a volt = 2.2e-9 p.u. of 230 V; 7 decimals of a kW): held at 5x that.
        CHECK(w.v_pu < 1e-8);
        CHECK(w.p_kw < 5e-7);
        CHECK(w.q_kvar < 5e-7);
        CHECK(w.src_kw < 5e-7);
        CHECK(w.src_kvar < 5e-7);
        CHECK(w.vext_volts < 5e-5);  // the CSV holds them to 1e-5 V
    }
}

// The IEEE document (2015; /work/shared/refs/ieee_feeders/README.md) prints OpenDSS's solution with every
// load constant PQ, kW to 4 decimals. Its digits are not all OpenDSS's (this build's, at tolerance 1e-10 as
// at its default 1e-4; tests/data/opendss_refs/README.md): OpenDSS's own day (eulv_daily_pq.csv, which
// the test above holds libgrid to 1e-7 kW) is off the printed values by up to 3e-4 kW at minute 1 (phase a
// 1.0569 against 1.0572), 8e-4 kW at minute 566 (phase b 35.2935 against 35.2927) and 1e-4 kW at minute
// 1440; the totals by 5e-4 kW. So the kW and kvar are held to 1e-3 (what the printed numbers reach against
// OpenDSS itself), and the extreme voltages at 566 to 3e-3 V (printed to 1e-3 V; phase b's minimum differs
// from OpenDSS's by 0.002 V, the other five agree to the printed digit).
TEST_CASE("EU LV day: the IEEE document's printed numbers (constant PQ; minutes 1, 566, 1440)") {
    struct Printed {
        int minute;
        std::array<double, 3> p_kw;
        double p_total_kw, q_total_kvar;
    };
    const std::vector<Printed> printed = {{1, {1.0572, 0.927, 0.8153}, 2.7994, 0.9198},
                                          {566, {17.9072, 35.2927, 6.1837}, 59.3836, 19.1196},
                                          {1440, {3.7201, 3.6648, 2.3369}, 9.7218, 3.1914}};
    Day day(true);
    std::size_t next = 0;
    for (int minute = 1; minute <= 1440 && next < printed.size(); ++minute) {
        const Minute m = day.solve(minute);
        if (minute != printed[next].minute) continue;
        const Printed& d = printed[next++];
        CAPTURE(minute);
        for (int k = 0; k < 3; ++k) CHECK(std::abs(m.p_lv[k] - d.p_kw[k]) < 1e-3);
        CHECK(std::abs(m.p_lv[0] + m.p_lv[1] + m.p_lv[2] - d.p_total_kw) < 1e-3);
        CHECK(std::abs(m.q_lv[0] + m.q_lv[1] + m.q_lv[2] - d.q_total_kvar) < 1e-3);
        if (minute == 566) {
            const std::array<double, 3> vmax = {251.901, 251.443, 254.73}, vmin = {245.577, 238.367, 251.952};
            for (int k = 0; k < 3; ++k) {
                CHECK(std::abs(m.vmax[k] - vmax[k]) < 3e-3);
                CHECK(std::abs(m.vmin[k] - vmin[k]) < 3e-3);
            }
        }
    }
    CHECK(next == printed.size());
}

// The engine's path (issue 15's PLAN: UTimeStepper): the shapes resolved once (load_shape_of), each
// minute loadshape_at x the load's base kW / kvar (useactual=no: Master.dss's `batchedit loadshape..*
// useactual=no`) into set_load, solve, then the rows the engine records.
TEST_CASE("EU LV day: UTimeStepper minute by minute equals OpenDSS's yearly mode, the balance closes") {
    for (bool pq : {false, true}) {
        CAPTURE(pq);
        const std::vector<RefMinute> ref = read_day(pq ? "eulv_daily_pq.csv" : "eulv_daily_published.csv");
        UNetwork net = eulv(pq);
        std::vector<const ULoadShape*> shape;
        for (const ULoad& l : net.loads) {
            shape.push_back(load_shape_of(net, l));
            REQUIRE(shape.back() != nullptr);
            REQUIRE_FALSE(shape.back()->useactual);
        }
        UTimeStepper st(net, {}, Day::options());
        int load_node[3] = {-1, -1, -1};
        const char* names[3] = {"load1", "load32", "load53"};
        for (int k = 0; k < 3; ++k) {
            for (std::size_t i = 0; i < net.loads.size(); ++i) {
                if (net.loads[i].name != names[k]) continue;
                for (int n = 0; n < st.n_nodes(); ++n) {
                    if (st.node_bus(n) == net.loads[i].bus1.bus && st.node_conductor(n) == net.loads[i].bus1.nodes[0]) {
                        load_node[k] = n;
                    }
                }
            }
            REQUIRE(load_node[k] >= 0);
        }
        REQUIRE(net.transformers.size() == 1);
        REQUIRE(st.n_sources() == 1);
        std::vector<double> v(static_cast<std::size_t>(st.n_nodes())), vm(v.size()), va(v.size());
        double tp[6], tq[6], sp[3], sq[3], by_conductor[4];
        double worst_v = 0.0, worst_p = 0.0, worst_q = 0.0, worst_src = 0.0, worst_balance = 0.0;
        for (const RefMinute& r : ref) {
            for (std::size_t i = 0; i < net.loads.size(); ++i) {
                double p = 1.0, q = 1.0;
                bool has_q = false;
                loadshape_at(*shape[i], r.minute / 60.0, p, q, has_q);
                st.set_load(static_cast<int>(i), net.loads[i].base_kw * p, net.loads[i].base_kvar * q);
            }
            REQUIRE_MESSAGE(st.solve().converged, "minute " << r.minute);
            st.node_rows(v.data(), vm.data(), va.data());
            for (int k = 0; k < 3; ++k) {
                const auto n = static_cast<std::size_t>(load_node[k]);
                worst_v = std::max(worst_v, std::abs(v[n] - r.v_load[k]) / st.node_vbase_volts(load_node[k]));
            }
            st.transformer_rows(tp, tq);
            for (int k = 0; k < 3; ++k) {  // winding 2 = LV: power into the transformer = minus into the LV network
                worst_p = std::max(worst_p, std::abs(-tp[3 + k] - r.p_lv[k]));
                worst_q = std::max(worst_q, std::abs(-tq[3 + k] - r.q_lv[k]));
            }
            st.source_rows(sp, sq);
            worst_src = std::max({worst_src, std::abs(sp[0] + sp[1] + sp[2] - r.p_source),
                                  std::abs(sq[0] + sq[1] + sq[2] - r.q_source)});
            worst_balance = std::max(worst_balance, std::abs(st.balance_kw(by_conductor)));
            for (double b : by_conductor) worst_balance = std::max(worst_balance, std::abs(b));
        }
        MESSAGE(std::string(pq ? "constant PQ" : "as published") << ": worst |dV| " << worst_v << " p.u., dP " << worst_p
                << " kW, dQ " << worst_q << " kvar, source " << worst_src << " kW/kvar, balance " << worst_balance << " kW");
        CHECK(worst_v < 1e-8);
        CHECK(worst_p < 5e-7);
        CHECK(worst_q < 5e-7);
        CHECK(worst_src < 5e-7);
        CHECK(worst_balance < 1e-6);  // kW; the day's load is 3 to 60 kW
    }
}
