// The unbalance KPIs of an unbalanced run (issue 15, H3; docs/kpis.md "Unbalanced networks"), against
// hand-worked circuits and OpenDSS:
//  - a 0.4 kV source, one four-wire line (phases 0.5 ohm, neutral 1 ohm, no mutual impedance, neutral
//    earthed at the source only) and a 10 kW constant-impedance load from phase a to the neutral: the
//    load current, the neutral losses R_n |I|^2, each conductor's loading |I| / normamps, the far bus's
//    VUF, which phases are under or over the band, and the share of bus-steps above the VUF limit all
//    follow in closed form (Ohm's law and the symmetrical components written out here);
//  - a Dyn11 transformer with a single-phase constant-impedance load: its LV phase a carries |V_an| / Z,
//    against the rated phase current kVA / 3 / kV_phase; phases b and c carry nothing;
//  - the European LV feeder's day: the transformer's LV phase loading x its rated current x the phase
//    voltage is OpenDSS's per-phase LV apparent power (tests/data/opendss_refs/eulv_daily_published.csv)
//    every minute, and a branch's per-conductor loadings' maximum over a, b, c is /branch/loading_percent.
#include <doctest/doctest.h>

#include <libgrid/io/dss.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/results/recorder.hpp>
#include <libgrid/simulation/engine.hpp>

#include <cmath>
#include <complex>
#include <fstream>
#include <numbers>
#include <sstream>
#include <string>
#include <vector>

using namespace libgrid;
using cplx = std::complex<double>;

namespace {

const std::string kData = std::string(LIBGRID_TEST_DATA);

SimulationOptions options(MemoryRecorder& rec, std::size_t steps) {
    SimulationOptions opt;
    opt.start = from_civil(2026, 1, 1, 0, 1);
    opt.step_s = 60;
    opt.n_steps = steps;
    opt.meter_interval_s = 60;
    opt.tolerance = 1e-12;
    opt.recorder = &rec;
    return opt;
}

/// Column of the first entry named `name` in an id-ordered string vector.
std::size_t column(const MemoryRecorder& rec, const std::string& vec, const std::string& name) {
    const auto& v = rec.strings().at(vec);
    for (std::size_t i = 0; i < v.size(); ++i)
        if (v[i] == name) return i;
    FAIL("no '" << name << "' in " << vec);
    return 0;
}

// The hand-worked feeder: R_a = R_b = R_c = 0.5 ohm, R_n = 1 ohm (1 km), normamps 50 A, load 10 kW at 230.94 V.
constexpr double kRphase = 0.5, kRn = 1.0, kNormAmps = 50.0, kLoadKw = 10.0;
const std::string kFeeder =
    "Clear\nSet DefaultBaseFrequency=50\n"
    "New Circuit.t basekv=0.4 pu=1.0 bus1=src MVAsc3=1e9 MVAsc1=1e9\n"
    "New Line.l1 phases=4 bus1=src.1.2.3.0 bus2=far.1.2.3.4 units=km length=1 normamps=50 "
    "rmatrix=[0.5 | 0 0.5 | 0 0 0.5 | 0 0 0 1.0] xmatrix=[0 | 0 0 | 0 0 0 | 0 0 0 0] cmatrix=[0 | 0 0 | 0 0 0 | 0 0 0 0]\n"
    "New Load.ld phases=1 bus1=far.1.4 kv=0.2309401 kw=10 kvar=0 model=2\n"
    "Set voltagebases=[0.4]\nCalcVoltageBases\n";

}  // namespace

TEST_CASE("unbalance KPIs: a single-phase load on a four-wire line, worked by hand") {
    const UNetwork net = read_dss_string(kFeeder, "hand").net;
    MemoryRecorder rec;
    SimulationOptions opt = options(rec, 3);
    opt.vuf_limit_percent = 2.0;
    const SimulationSummary s = Simulation(net, DeviceSet{}, opt).run();
    REQUIRE(s.non_converged_steps == 0);

    // by hand: the source phase voltages, the load impedance at its rated voltage, the loop current
    const double vph = 400.0 / std::sqrt(3.0);
    const cplx a = std::polar(1.0, 2.0 * std::numbers::pi / 3.0);
    const cplx va = vph, vb = vph * a * a, vc = vph * a;
    const double z = (0.2309401 * 1000.0) * (0.2309401 * 1000.0) / (kLoadKw * 1000.0);
    const cplx i = va / (kRphase + kRn + z);
    const cplx vn_far = kRn * i;  // the neutral's return current raises the far neutral
    const cplx ua = z * i, ub = vb - vn_far, uc = vc - vn_far;  // phase to neutral at the far bus
    const double vuf = 100.0 * std::abs(ua + a * a * ub + a * uc) / std::abs(ua + a * ub + a * a * uc);
    const double dt_h = 60.0 / 3600.0;

    CHECK(s.neutral_losses_mwh == doctest::Approx(3 * dt_h * kRn * std::norm(i) / 1e6).epsilon(1e-7));
    CHECK(s.max_line_conductor_loading_percent == doctest::Approx(100.0 * std::abs(i) / kNormAmps).epsilon(1e-7));
    CHECK(s.max_vuf_percent == doctest::Approx(vuf).epsilon(1e-6));
    CHECK(s.vuf_limit_percent == 2.0);
    REQUIRE(vuf > 2.0);  // the far bus is above the limit, the stiff source bus not: half the bus-steps
    CHECK(s.vuf_bus_steps == 6);
    CHECK(s.vuf_bus_steps_over_limit_percent == doctest::Approx(50.0));
    // phase a to neutral |Z I| = 180 V = 0.78 p.u. (under 0.94); b and c 249 V = 1.08 p.u. (over 1.05)
    REQUIRE(std::abs(ua) / vph < 0.94);
    REQUIRE(std::abs(ub) / vph > 1.05);
    CHECK(s.undervoltage_node_steps_a == 3);
    CHECK(s.undervoltage_node_steps_b == 0);
    CHECK(s.undervoltage_node_steps_c == 0);
    CHECK(s.overvoltage_node_steps_a == 0);
    CHECK(s.overvoltage_node_steps_b == 3);
    CHECK(s.overvoltage_node_steps_c == 3);
    // (max_neutral_current_a reads /branch/i_n_ka at terminal 1, which is on ground here: NaN, as documented)
    CHECK(s.max_trafo_phase_loading_percent == 0.0);  // no transformer

    // the rows: per conductor loading of the line, its neutral losses
    const std::size_t l1 = column(rec, "branch/name", "l1");
    CHECK(rec.series("branch/loading_a_percent").at(1, l1) == doctest::Approx(100.0 * std::abs(i) / kNormAmps).epsilon(1e-7));
    CHECK(rec.series("branch/loading_n_percent").at(1, l1) == doctest::Approx(100.0 * std::abs(i) / kNormAmps).epsilon(1e-7));
    CHECK(rec.series("branch/loading_b_percent").at(1, l1) < 1e-6);
    CHECK(rec.series("branch/p_loss_neutral_mw").at(1, l1) == doctest::Approx(kRn * std::norm(i) / 1e6).epsilon(1e-7));
    CHECK(rec.scalars().count("summary/neutral_losses_mwh") == 1);
    CHECK(rec.scalars().count("summary/undervoltage_node_steps_a") == 1);

    // a higher limit: no bus-step above it
    MemoryRecorder rec2;
    SimulationOptions opt2 = options(rec2, 3);
    opt2.vuf_limit_percent = vuf + 0.5;
    const SimulationSummary s2 = Simulation(net, DeviceSet{}, opt2).run();
    CHECK(s2.vuf_bus_steps_over_limit_percent == 0.0);
}

TEST_CASE("unbalance KPIs: a Dyn11 transformer's LV phase loading against its rating / 3") {
    const std::string dss =
        "Clear\nSet DefaultBaseFrequency=50\n"
        "New Circuit.t basekv=11 pu=1.0 bus1=hv MVAsc3=1e6 MVAsc1=1e6\n"
        "New Transformer.t1 phases=3 windings=2 buses=[hv lv.1.2.3.4] conns=[delta wye] kvs=[11 0.4] kvas=[100 100] xhl=4 %r=0.5\n"
        "New Line.earth phases=1 bus1=lv.4 bus2=lv.0 units=km length=1 rmatrix=[1] xmatrix=[0] cmatrix=[0]\n"
        "New Load.ld phases=1 bus1=lv.1.4 kv=0.2309401 kw=30 kvar=0 model=2\n"
        "Set voltagebases=[11 0.4]\nCalcVoltageBases\n";
    const UNetwork net = read_dss_string(dss, "dyn").net;
    MemoryRecorder rec;
    const SimulationSummary s = Simulation(net, DeviceSet{}, options(rec, 2)).run();
    REQUIRE(s.non_converged_steps == 0);
    // the load's current from its voltage (phase to neutral) and its impedance; the rating per phase
    const std::size_t na = column(rec, "node/bus_name", "lv"), nn = na + 3;
    REQUIRE(rec.strings().at("node/phase")[na] == "a");
    REQUIRE(rec.strings().at("node/phase")[nn] == "n");
    const double deg = std::numbers::pi / 180.0;
    const cplx vla = std::polar(rec.series("node/v_volts").at(1, na), rec.series("node/va_deg").at(1, na) * deg);
    const cplx vln = std::polar(rec.series("node/v_volts").at(1, nn), rec.series("node/va_deg").at(1, nn) * deg);
    const double z = 230.9401 * 230.9401 / 30000.0;
    const double i_load = std::abs(vla - vln) / z;
    const double rated = 100.0 / 3.0 / (0.4 / std::sqrt(3.0));  // A per phase
    CHECK(rec.series("trafo/loading_a_percent").at(1, 0) == doctest::Approx(100.0 * i_load / rated).epsilon(1e-6));
    CHECK(rec.series("trafo/loading_b_percent").at(1, 0) < 0.01);  // only the anti-float shunts' microamps
    CHECK(rec.series("trafo/loading_c_percent").at(1, 0) < 0.01);
    CHECK(s.max_trafo_phase_loading_percent == doctest::Approx(100.0 * i_load / rated).epsilon(1e-6));
    // 30 kW on one phase of a 100 kVA unit: 90 % of the phase's third, 30 % of the whole (what a balanced model reports)
    CHECK(s.max_trafo_phase_loading_percent > 80.0);
    // the earth electrode is no cable: no conductor loading; its loss |V_n|^2 / R is a neutral loss
    const std::size_t earth = column(rec, "branch/name", "earth");
    CHECK(std::isnan(rec.series("branch/loading_n_percent").at(1, earth)));
    CHECK(rec.series("branch/p_loss_neutral_mw").at(1, earth) == doctest::Approx(std::norm(vln) / 1.0 / 1e6).epsilon(1e-9));
}

namespace {

struct RefPhases {
    double p[3], q[3];
};

/// OpenDSS's per-phase LV power of the EU LV transformer each minute (eulv_daily_published.csv).
std::vector<RefPhases> read_trafo_ref() {
    std::ifstream f(kData + "/opendss_refs/eulv_daily_published.csv");
    REQUIRE(f.good());
    std::string line;
    std::getline(f, line);
    REQUIRE(line.rfind("minute,iterations,v_load1_a_volts,v_load32_c_volts,v_load53_b_volts,p_lv_a_kw,p_lv_b_kw,p_lv_c_kw,q_lv_a_kvar", 0) == 0);
    std::vector<RefPhases> out;
    while (std::getline(f, line)) {
        std::vector<double> c;
        std::stringstream ss(line);
        std::string x;
        while (std::getline(ss, x, ',')) c.push_back(std::stod(x));
        REQUIRE(c.size() == 19);
        RefPhases r{};
        for (int k = 0; k < 3; ++k) {
            r.p[k] = c[5 + std::size_t(k)];
            r.q[k] = c[8 + std::size_t(k)];
        }
        out.push_back(r);
    }
    return out;
}

}  // namespace

TEST_CASE("unbalance KPIs: the EU LV day's transformer phase loading is OpenDSS's per-phase power every minute") {
    const UNetwork net = read_dss_string("Compile Master.dss\n", "eulv", kData + "/opendss/eulv").net;
    MemoryRecorder rec;
    const SimulationSummary s = Simulation(net, DeviceSet{}, options(rec, 1440)).run();
    REQUIRE(s.non_converged_steps == 0);
    const std::vector<RefPhases> ref = read_trafo_ref();
    REQUIRE(ref.size() == 1440);
    // TR1: 800 kVA, LV 0.416 kV wye: rated phase current 800 / 3 / (0.416 / sqrt 3) A; bus "1" phase-to-ground voltage
    const double rated = 800.0 / 3.0 / (0.416 / std::sqrt(3.0));
    const std::size_t n1 = column(rec, "node/bus_name", "1");
    const char* ph[3] = {"a", "b", "c"};
    double worst = 0.0, max_loading = 0.0;
    for (std::size_t k = 0; k < 1440; ++k)
        for (std::size_t p = 0; p < 3; ++p) {
            REQUIRE(rec.strings().at("node/phase")[n1 + p] == ph[p]);
            const double loading = rec.series(std::string("trafo/loading_") + ph[p] + "_percent").at(k, 0);
            const double s_kva = loading / 100.0 * rated * rec.series("node/v_volts").at(k, n1 + p) / 1000.0;
            const double s_ref = std::hypot(ref[k].p[p], ref[k].q[p]);
            worst = std::max(worst, std::abs(s_kva - s_ref) / s_ref);
            max_loading = std::max(max_loading, loading);
        }
    MESSAGE("EU LV day: transformer phase loading x rating x |V| vs OpenDSS's per-phase |S|, worst relative gap " << worst);
    CHECK(worst < 1e-4);  // OpenDSS's powers printed to 8 digits; voltages agree to ~1e-6
    CHECK(s.max_trafo_phase_loading_percent == doctest::Approx(max_loading).epsilon(1e-12));
    // per conductor: the largest of a, b, c is the branch's loading, every line, every step
    const auto& lp = rec.series("branch/loading_percent");
    double gap = 0.0, line_max = 0.0;
    for (std::size_t k = 0; k < 1440; k += 7)
        for (std::size_t b = 0; b < lp.spec.columns; ++b) {
            double m = 0.0;
            for (const char* c : {"a", "b", "c"}) {
                const double x = rec.series(std::string("branch/loading_") + c + "_percent").at(k, b);
                if (std::isfinite(x)) m = std::max(m, x);
            }
            gap = std::max(gap, std::abs(m - lp.at(k, b)));
            if (rec.strings().at("branch/kind")[b] == "line") line_max = std::max(line_max, m);
        }
    CHECK(gap < 1e-9);
    CHECK(s.max_line_conductor_loading_percent >= line_max);
    CHECK(s.max_line_conductor_loading_percent == doctest::Approx(s.max_line_loading_percent).epsilon(1e-12));  // EU LV: no neutral conductor
    CHECK(std::isnan(s.neutral_losses_mwh));
}
