// Capacitor controls (OpenDSS CapControl) in the static control loop.
//
// 1. Against OpenDSS itself: the scripts of tests/data/opendss/capcontrol/ (IEEE 13 and 123 as
//    shipped plus capacitor controls of every modelled type; every solver method) solved by OpenDSS at tolerance 1e-10
//    (benches/opendss/capcontrol_reference.cpp, README there): every capacitor's states, the
//    control iterations, the settled taps equal OpenDSS's; every node voltage to 1e-6 p.u.
// 2. Hand-worked: a stiff 12.47 kV source, a short line to bus "b", a 3-phase wye bank at b. The
//    source impedance and the line are tiny, so |V(b)| = 7200 V to 0.01 V and the PT voltage
//    (60:1) is 120.00 V whether the bank is in or out:
//    - voltage control, offsetting 119 V: 120 > 119, the bank opens (2 control iterations);
//    - current control that never acts (off 0 A) with voltoverride, vmax 119 V: opens; vmax 121 V:
//      stays (1 control iteration);
//    - 3 steps all out, voltage control onsetting 121 V: one step per control iteration
//      ([1 0 0], [1 1 0], [1 1 1]), then no step left: 4 control iterations;
//    - a capacitor at delay 10 s and a second one at 20 s: the first acts alone in iteration 1.
#include <doctest/doctest.h>

#include <libgrid/io/dss.hpp>
#include <libgrid/math/umath.hpp>
#include <libgrid/powerflow/unbalanced.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

const std::string kDir = std::string(LIBGRID_TEST_DATA) + "/opendss/capcontrol/";

struct Ref {
    int control_iterations = 0;
    std::map<std::string, std::vector<int>> states;
    std::map<std::string, int> taps;
    std::map<std::string, double> vm_pu, vm_volts, va_deg;  ///< "bus.node"
};

Ref read_ref(const std::string& stem) {
    std::ifstream f(kDir + stem + ".csv");
    REQUIRE(f.good());
    Ref r;
    std::string line;
    while (std::getline(f, line)) {
        std::vector<std::string> c;
        std::stringstream ss(line);
        for (std::string x; std::getline(ss, x, ',');) c.push_back(x);
        if (c[0] == "meta" && c[1] == "control_iterations") r.control_iterations = std::stoi(c[2]);
        if (c[0] == "capacitor") {
            std::stringstream st(c[2]);
            for (int s; st >> s;) r.states[c[1]].push_back(s);
        }
        if (c[0] == "tap") r.taps[c[1]] = std::stoi(c[2]);
        if (c[0] == "node") {
            const std::string k = c[1] + "." + c[2];
            r.vm_volts[k] = std::stod(c[3]);
            r.va_deg[k] = std::stod(c[4]);
            r.vm_pu[k] = std::stod(c[5]);
        }
    }
    return r;
}

void check_against_opendss(const std::string& stem, UMethod method) {
    CAPTURE(stem);
    CAPTURE(static_cast<int>(method));
    const Ref ref = read_ref(stem);
    UNetwork net = read_dss(kDir + stem + ".dss").net;
    REQUIRE(!net.capcontrols.empty());
    UPfOptions opt;
    opt.method = method;
    opt.tolerance = 1e-10;
    opt.max_iterations = 1000;
    opt.max_control_iterations = net.settings.max_control_iterations;
    const UPfResult res = run_unbalanced_pf(net, opt);
    REQUIRE(res.converged);
    CHECK(res.control_iterations == ref.control_iterations);
    REQUIRE(ref.states.size() == net.capacitors.size());
    for (const UCapacitor& c : net.capacitors) {
        CAPTURE(c.name);
        CHECK(c.states == ref.states.at(c.name));
    }
    for (const UTapResult& t : res.taps) CHECK(t.position == ref.taps.at(t.regcontrol));
    REQUIRE(res.node.bus.size() == ref.vm_pu.size());
    double worst = 0.0;
    for (std::size_t i = 0; i < res.node.bus.size(); ++i) {
        const std::string k = net.buses[static_cast<std::size_t>(res.node.bus[i])].name + "." + std::to_string(res.node.phase[i]);
        const double base = ref.vm_volts.at(k) / ref.vm_pu.at(k);
        worst = std::max(worst, std::abs(res.node.vm_volts[i] - ref.vm_volts.at(k)) / base);
        CHECK(std::abs(res.node.va_deg[i] - ref.va_deg.at(k)) < 1e-4);
    }
    CHECK(worst < 1e-6);
}

/// Stiff source, a 10 m line to bus b, a 3-phase wye bank of `steps` x 300 kvar at b.
UNetwork stiff_bank(int steps, int initial_state) {
    UNetwork net;
    const int src = net.add_bus("src");
    const int b = net.add_bus("b");
    UVsource s;
    s.bus1 = {src, {1, 2, 3}};
    s.basekv = 12.47;
    s.pu = 7200.0 * std::sqrt(3.0) / 12470.0;
    s.z1_ohm = {1e-6, 1e-5};
    s.z0_ohm = {1e-6, 1e-5};
    net.vsources.push_back(s);
    ULine l;
    l.name = "l1";
    l.bus1 = {src, {1, 2, 3}};
    l.bus2 = {b, {1, 2, 3}};
    l.r_ohm_per_km = {0.1, 0, 0, 0, 0.1, 0, 0, 0, 0.1};
    l.x_ohm_per_km = {0.1, 0, 0, 0, 0.1, 0, 0, 0, 0.1};
    l.c_nf_per_km = std::vector<double>(9, 0.0);
    l.length_km = 0.01;
    net.lines.push_back(l);
    UCapacitor c;
    c.name = "bank";
    c.bus1 = {b, {1, 2, 3}};
    c.bus2 = {-1, {0, 0, 0}};
    c.kv = 12.47;
    c.kvar.assign(static_cast<std::size_t>(steps), 300.0);
    c.states.assign(static_cast<std::size_t>(steps), initial_state);
    net.capacitors.push_back(c);
    for (UBus& x : net.buses) x.kv_base_ll = 12.47;
    return net;
}

UCapControl voltage_control(double on, double off) {
    UCapControl cc;
    cc.name = "cc";
    cc.element = "line.l1";
    cc.terminal = 2;
    cc.capacitor = 0;
    cc.type = UCapControlType::voltage;
    cc.ptratio = 60.0;
    cc.onsetting = on;
    cc.offsetting = off;
    return cc;
}

}  // namespace

TEST_CASE("capcontrol: IEEE 13 and 123 with capacitor controls equal OpenDSS (states, control iterations, taps, voltages)") {
    for (const UMethod method : {UMethod::automatic, UMethod::fixed_point, UMethod::newton, UMethod::sweep})
        for (const char* stem : {"ieee13_voltage_off", "ieee13_voltage_steps", "ieee13_kvar", "ieee13_pf_override", "ieee13_open_at_start", "ieee123_voltage"})
            check_against_opendss(stem, method);
}

TEST_CASE("capcontrol: hand-worked voltage control opens a bank above offsetting") {
    UNetwork net = stiff_bank(1, 1);
    net.capcontrols.push_back(voltage_control(110.0, 119.0));
    const UPfResult res = run_unbalanced_pf(net);
    REQUIRE(res.converged);
    CHECK(std::abs(res.node.vm_volts[res.node.vm_volts.size() - 1] - 7200.0) < 0.01);
    CHECK(net.capacitors[0].states == std::vector<int>{0});
    CHECK(res.control_iterations == 2);
    REQUIRE(res.capacitors.size() == 1);
    CHECK(res.capacitors[0].capacitor == "bank");
    CHECK(res.capacitors[0].states == std::vector<int>{0});
    // the element result: no current into the open bank
    for (const UElementResult& e : res.element)
        if (e.name == "capacitor.bank") CHECK(std::abs(e.terminals[0].current_a[0]) < 1e-9);
}

TEST_CASE("capcontrol: voltage override opens above vmax, not below") {
    for (const double vmax : {119.0, 121.0}) {
        UNetwork net = stiff_bank(1, 1);
        UCapControl cc = voltage_control(1e6, 0.0);
        cc.type = UCapControlType::current;  // |I| / 60 is never above 1e6 nor below 0: only the override acts
        cc.voltoverride = true;
        cc.vmax = vmax;
        cc.vmin = 100.0;
        net.capcontrols.push_back(cc);
        const UPfResult res = run_unbalanced_pf(net);
        REQUIRE(res.converged);
        CHECK(net.capacitors[0].states == std::vector<int>{vmax < 120.0 ? 0 : 1});
        CHECK(res.control_iterations == (vmax < 120.0 ? 2 : 1));
    }
}

TEST_CASE("capcontrol: a 3-step bank adds one step per control iteration") {
    UNetwork net = stiff_bank(3, 0);
    net.capcontrols.push_back(voltage_control(121.0, 130.0));
    const UPfResult res = run_unbalanced_pf(net);
    REQUIRE(res.converged);
    CHECK(net.capacitors[0].states == std::vector<int>{1, 1, 1});
    CHECK(res.control_iterations == 4);
    // step by step with step_capcontrols (fresh state each call: open when no step is in)
    UNetwork n2 = stiff_bank(3, 0);
    n2.capcontrols.push_back(voltage_control(121.0, 130.0));
    const UMathModel m = build_umath_model(n2);
    std::vector<cplx> v = m.v_start;
    for (const std::vector<int>& want : {std::vector<int>{1, 0, 0}, std::vector<int>{1, 1, 0}, std::vector<int>{1, 1, 1}}) {
        CHECK(step_capcontrols(n2, m, v) == 1);
        CHECK(n2.capacitors[0].states == want);
    }
    CHECK(step_capcontrols(n2, m, v) == 0);
}

TEST_CASE("capcontrol: the nearest delay acts first, regulators and capacitors in one queue") {
    UNetwork net = stiff_bank(1, 1);
    UCapacitor second = net.capacitors[0];
    second.name = "bank2";
    net.capacitors.push_back(second);
    UCapControl a = voltage_control(110.0, 119.0);
    a.delayoff_s = 10.0;
    UCapControl b = a;
    b.name = "cc2";
    b.capacitor = 1;
    b.delayoff_s = 20.0;
    net.capcontrols = {a, b};
    const UMathModel m = build_umath_model(net);
    std::vector<UCapControlRun> runs;
    CHECK(step_static_controls(net, m, m.v_start, runs) == 1);  // only the 10 s one
    CHECK(net.capacitors[0].states == std::vector<int>{0});
    CHECK(net.capacitors[1].states == std::vector<int>{1});
    CHECK(runs[1].armed);
    CHECK(step_static_controls(net, m, m.v_start, runs) == 1);  // then the 20 s one, still queued
    CHECK(net.capacitors[1].states == std::vector<int>{0});
    CHECK(step_static_controls(net, m, m.v_start, runs) == 0);
}

TEST_CASE("capcontrol: reader, errors naming file:line and property, writer round trip") {
    const DssReadResult r = read_dss(kDir + "ieee13_pf_override.dss");
    REQUIRE(r.net.capcontrols.size() == 2);
    const UCapControl& pf = r.net.capcontrols[0];
    CHECK(pf.name == "cpf");
    CHECK(pf.element == "line.650632");
    CHECK(pf.type == UCapControlType::pf);
    CHECK(pf.pf_on == doctest::Approx(0.95));
    CHECK(pf.pf_off == doctest::Approx(1.05));  // -0.95 on OpenDSS's 0..2 scale
    CHECK(pf.delay_s == 20.0);
    CHECK(pf.delayoff_s == 15.0);  // OpenDSS's default
    const UCapControl& ov = r.net.capcontrols[1];
    CHECK(ov.voltoverride);
    CHECK(ov.vmax == 114.0);
    CHECK(ov.ctratio == 1.0);
    CHECK(ov.ptratio == 20.0);
    CHECK(r.net.capacitors[static_cast<std::size_t>(ov.capacitor)].name == "cap2");
    const UNetwork back = read_dss_string(to_dss_string(r.net)).net;
    CHECK(back.capcontrols == r.net.capcontrols);

    const std::string head = "New Circuit.c bus1=a basekv=12.47\nNew Line.l1 bus1=a bus2=b\nNew Capacitor.k bus1=b kvar=300\n";
    CHECK_THROWS_WITH(read_dss_string(head + "New CapControl.x element=line.l1 capacitor=nope\n", "t.dss"),
                      doctest::Contains("t.dss:4"));
    CHECK_THROWS_WITH(read_dss_string(head + "New CapControl.x element=line.l1 capacitor=nope\n", "t.dss"),
                      doctest::Contains("property 'capacitor'"));
    CHECK_THROWS_WITH(read_dss_string(head + "New CapControl.x element=line.zz capacitor=k\n", "t.dss"),
                      doctest::Contains("property 'element'"));
    CHECK_THROWS_WITH(read_dss_string(head + "New CapControl.x element=line.l1 capacitor=k type=follow\n", "t.dss"),
                      doctest::Contains("property 'type'"));
    CHECK_THROWS_WITH(read_dss_string(head + "New CapControl.x element=line.l1 capacitor=k type=pf onsetting=1.5\n", "t.dss"),
                      doctest::Contains("property 'onsetting'"));
    const DssReadResult like = read_dss_string(head + "New CapControl.x element=line.l1 capacitor=k type=v onsetting=118\n"
                                                      "New CapControl.y like=x offsetting=125\n", "t.dss");
    REQUIRE(like.net.capcontrols.size() == 2);
    CHECK(like.net.capcontrols[1].type == UCapControlType::voltage);
    CHECK(like.net.capcontrols[1].onsetting == 118.0);
    CHECK(like.net.capcontrols[1].offsetting == 125.0);
    CHECK(like.net.capcontrols[1].capacitor == 0);
}
