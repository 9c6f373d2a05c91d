// Regulator control (step_regcontrols, OpenDSS's static RegControl) on a hand-worked case:
// two single-phase regulators (7.2 kV, PT 60:1, CT 100 A, vreg 120 V, band 2 V, R = 3 V, X = 9 V)
// on phases a and b of a stiff 12.47 kV source, each feeding a constant-impedance load of
// 300 kW + 100 kvar at 7.2 kV. The regulators' impedance is 0.01 %, so the output voltage is
// t x 7200 V and the load current t x (300 - j100) kVA / 7.2 kV = t (41.667 - j13.889) A.
// By hand (OpenDSS adds (R + jX) I_in / ctprim, I_in into the terminal = -I_load):
//   Vcontrol = t (7200/60 - (3 + 9j)(0.41667 - 0.13889j)) = t (117.5 - 3.3333j), |Vc| = 117.5473 t
//   t = 1:       |Vc| = 117.547, out of 120 +- 1: boost (120 - 117.547) 60 / 7200 = 0.02044 p.u.
//                = 3.27 steps -> round 3; 70 % of 3 = 2.1 -> 2 steps.
//   t = 1.0125:  |Vc| = 119.017: in band. Settled at position 2.
// With maxtapchange = 1: 1 step to t = 1.00625 (|Vc| = 118.282, wants round(2.29) = 2, 70 % -> 1),
// then 1 step to 1.0125. Without line-drop compensation |Vc| = 120 t: in band at t = 1.
// Regulator a has delay 15 s, b 30 s: b waits while a acts (OpenDSS runs the nearest actions only).
#include <doctest/doctest.h>

#include <libgrid/math/umath.hpp>
#include <libgrid/powerflow/unbalanced.hpp>
#include <libgrid/solvers/usolvers.hpp>

#include <cmath>
#include <string>

using namespace libgrid;

namespace {

UNetwork two_regulators(double r_volts, double x_volts, int maxtapchange_a) {
    UNetwork net;
    const int src = net.add_bus("src");
    UVsource s;
    s.bus1 = {src, {1, 2, 3}};
    s.basekv = 7.2 * std::sqrt(3.0);
    s.z1_ohm = {1e-6, 1e-6};
    s.z0_ohm = {1e-6, 1e-6};
    net.vsources.push_back(s);
    for (int ph = 1; ph <= 2; ++ph) {
        const std::string tag(1, static_cast<char>('a' + ph - 1));
        const int out = net.add_bus("reg" + tag);
        UTransformer t;
        t.name = "reg" + tag;
        t.nphases = 1;
        t.xhl_pct = 0.01;
        for (int w = 0; w < 2; ++w) {
            UWinding wd;
            wd.bus = {w == 0 ? src : out, {w == 0 ? ph : 1, 0}};
            wd.kv = 7.2;
            wd.kva = 1666.0;
            wd.r_pct = 0.005;
            t.windings.push_back(wd);
        }
        net.transformers.push_back(t);
        URegControl rc;
        rc.name = "creg" + tag;
        rc.transformer = ph - 1;
        rc.winding = 2;
        rc.vreg = 120.0;
        rc.band = 2.0;
        rc.ptratio = 60.0;
        rc.ctprim = 100.0;
        rc.r = r_volts;
        rc.x = x_volts;
        rc.delay_s = ph == 1 ? 15.0 : 30.0;
        rc.maxtapchange = ph == 1 ? maxtapchange_a : 16;
        net.regcontrols.push_back(rc);
        ULoad ld;
        ld.name = "load" + tag;
        ld.bus1 = {out, {1, 0}};
        ld.nphases = 1;
        ld.kv = 7.2;
        ld.kw = ld.base_kw = 300.0;
        ld.kvar = ld.base_kvar = 100.0;
        ld.model = 2;
        net.loads.push_back(ld);
    }
    for (UBus& b : net.buses) b.kv_base_ll = 7.2 * std::sqrt(3.0);
    return net;
}

UPfOptions tight() {
    UPfOptions o;
    o.tolerance = 1e-10;
    o.method = UMethod::fixed_point;
    return o;
}

}  // namespace

TEST_CASE("regulator control: line-drop compensation, 70 % of the way, the nearest delay first (hand-worked)") {
    UNetwork net = two_regulators(3.0, 9.0, 16);
    const UPfResult res = run_unbalanced_pf(net, tight());
    REQUIRE(res.converged);
    REQUIRE(res.taps.size() == 2);
    CHECK(res.taps[0].position == 2);
    CHECK(res.taps[1].position == 2);
    CHECK(res.taps[0].tap_pu == doctest::Approx(1.0125).epsilon(1e-12));
    // solve; a moves 2 (b waits: delay 30 > 15); solve; b moves 2; solve; nothing moves
    CHECK(res.control_iterations == 3);
    CHECK(net.transformers[0].windings[1].tap == doctest::Approx(1.0125));  // written back into net
    // the output voltage is t x 7200 V (0.01 % regulator impedance)
    for (std::size_t i = 0; i < res.node.bus.size(); ++i) {
        if (net.buses[res.node.bus[i]].name == "rega") CHECK(res.node.vm_volts[i] == doctest::Approx(1.0125 * 7200).epsilon(1e-4));
    }
}

TEST_CASE("regulator control: the first step alone, and maxtapchange = 1") {
    UNetwork net = two_regulators(3.0, 9.0, 1);
    UMathModel m = build_umath_model(net);
    auto solver = make_usolver(m, UMethod::fixed_point);
    std::vector<cplx> v = m.v_start;
    REQUIRE(solver->solve(v, {1e-10, 100}).converged);
    CHECK(step_regcontrols(net, m, v) == 1);  // only a (the nearest delay) acts
    CHECK(net.transformers[0].windings[1].tap == doctest::Approx(1.00625));  // 1 step: maxtapchange = 1
    CHECK(net.transformers[1].windings[1].tap == 1.0);
    UNetwork again = two_regulators(3.0, 9.0, 1);
    const UPfResult res = run_unbalanced_pf(again, tight());
    REQUIRE(res.converged);
    CHECK(res.taps[0].position == 2);
    CHECK(res.taps[1].position == 2);
    CHECK(res.control_iterations == 4);  // a 1, a 1, b 2, settled
}

TEST_CASE("regulator control: in band without line-drop compensation; controls off; maxtapchange 0") {
    UNetwork plain = two_regulators(0.0, 0.0, 16);
    const UPfResult r0 = run_unbalanced_pf(plain, tight());
    CHECK(r0.control_iterations == 1);
    CHECK(r0.taps[0].position == 0);
    UNetwork off = two_regulators(3.0, 9.0, 16);
    UPfOptions o = tight();
    o.controls = UControlMode::off;
    CHECK(run_unbalanced_pf(off, o).taps[0].position == 0);
    UNetwork script_off = two_regulators(3.0, 9.0, 16);
    script_off.settings.control_mode = "OFF";  // `Set Controlmode=OFF`
    CHECK(run_unbalanced_pf(script_off, tight()).taps[1].position == 0);
    UNetwork locked = two_regulators(3.0, 9.0, 0);
    const UPfResult rl = run_unbalanced_pf(locked, tight());
    CHECK(rl.taps[0].position == 0);  // maxtapchange = 0: fixed
    CHECK(rl.taps[1].position == 2);
}
