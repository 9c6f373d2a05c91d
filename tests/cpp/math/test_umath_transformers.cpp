// math/umath: transformers as OpenDSS builds them (Transformer.pas), solved with constant-Z loads
// (a linear system: Y V = i_source, dense LU in the test) and checked against hand working:
// the delta-wye phase shift and zero-sequence trap, the wye-wye zero-sequence path, an open-delta
// bank, a regulator's tap.
#include <doctest/doctest.h>

#include "umath_nets.hpp"

using namespace libgrid;
using namespace umath_test;

namespace {

constexpr double kSqrt3 = 1.7320508075688772;

/// 11 kV stiff source -- 100 kVA transformer (winding 1 on hv, 2 on lv, xhl 4 %, %r 0.5 each).
struct TwoBus {
    UNetwork net;
    int hv = -1, lv = -1;
};

TwoBus two_bus(bool hv_delta, std::vector<int> hv_nodes, bool lv_delta, std::vector<int> lv_nodes) {
    TwoBus t;
    t.hv = add_bus(t.net, "hv", 11.0);
    t.lv = add_bus(t.net, "lv", 0.4);
    t.net.vsources.push_back(stiff_source(t.hv, 11.0));
    UTransformer tr;
    tr.name = "t1";
    tr.nphases = 3;
    tr.xhl_pct = 4.0;
    tr.windings = {winding(t.hv, std::move(hv_nodes), hv_delta, 11.0, 100.0),
                   winding(t.lv, std::move(lv_nodes), lv_delta, 0.4, 100.0)};
    t.net.transformers.push_back(tr);
    return t;
}

cplx node_v(const UMathModel& m, const std::vector<cplx>& v, int bus, int phase) {
    return v[static_cast<std::size_t>(m.bus_node(bus, phase))];
}

}  // namespace

TEST_CASE("umath: Dyn1 and Dyn11, a single-phase load on the LV side") {
    // A 10 kW constant-Z load from LV phase 1 to the grounded neutral (230.9 V: R = 5.33 ohm).
    // Delta HV: a single-phase LV current appears on the two HV lines of the delta winding
    // coupled to LV phase 1, in opposite directions, each the winding current
    // I_lv * (400/sqrt3) / 11000 = I_lv * 0.4 / (sqrt3 * 11); the third HV line carries
    // (almost) nothing and the HV side no zero sequence (only the antifloat ppm shunts).
    for (const bool dyn11 : {false, true}) {
        CAPTURE(dyn11);
        // OpenDSS's delta (HV delta: DeltaDirection -1) joins conductor i to i-1; with the bus
        // nodes 1.2.3 winding 1 sees V_1 - V_3 = sqrt3 V at -30 deg: LV lags by 30 (Dyn1). The
        // nodes given as 1.3.2 on both sides make winding 1 see V_1 - V_2 (+30 deg): Dyn11.
        const std::vector<int> hv = dyn11 ? std::vector<int>{1, 3, 2} : std::vector<int>{1, 2, 3};
        const std::vector<int> lv = dyn11 ? std::vector<int>{1, 3, 2, 0} : std::vector<int>{1, 2, 3, 0};
        TwoBus t = two_bus(true, hv, false, lv);
        t.net.loads.push_back(load("l1", term(t.lv, {1}), 1, false, 0.4 / kSqrt3, 10.0, 0.0, 2));
        const UMathModel m = build_umath_model(t.net);
        const std::vector<cplx> v = solve_linear(m);
        const int et = element_of(m, UElementKind::transformer, 0);
        const Eigen::VectorXcd i = element_currents(m, et, v);  // 4 HV conductors, then 4 LV
        const Eigen::VectorXcd il = element_currents(m, element_of(m, UElementKind::load, 0), v);
        // The load: 10 kW at 230.9 V, R = 400^2 / 3 / 10e3 = 5.333 ohm.
        CHECK(std::abs(il(0)) == doctest::Approx(std::abs(node_v(m, v, t.lv, 1)) / (400.0 * 400.0 / 3.0 / 10e3)).epsilon(1e-9));
        CHECK(std::abs(il(0)) > 40.0);
        // The transformer's LV conductor 1 gives it (conductor 4, the neutral, takes it back),
        // up to its antifloat shunt (ppm: 1e-6 of 33.3 kVA at 231 V, 7e-5 A).
        CHECK(std::abs(i(4) + il(0)) < 1e-3);
        CHECK(std::abs(i(7) - il(0)) < 1e-3);
        const double i_lv = std::abs(il(0));
        const double ratio = 0.4 / (kSqrt3 * 11.0);
        // Winding 1 spans HV conductors 1 and 3 (nodes 1, 3 for Dyn1; nodes 1, 2 for Dyn11):
        // conductor 2 carries nothing.
        CHECK(std::abs(i(1)) < 1e-4);
        CHECK(std::abs(i(0)) == doctest::Approx(i_lv * ratio).epsilon(1e-4));
        CHECK(std::abs(i(2)) == doctest::Approx(i_lv * ratio).epsilon(1e-4));
        CHECK(std::abs(i(0) + i(1) + i(2)) < 1e-4);  // no zero sequence on HV
        // The 30 degree shift at no load: LV phase 1 vs HV phase 1.
        const UMathModel m0 = [&] { t.net.loads.clear(); return build_umath_model(t.net); }();
        const std::vector<cplx> v0 = solve_linear(m0);
        const double shift = angle_diff_deg(node_v(m0, v0, t.lv, 1), node_v(m0, v0, t.hv, 1));
        CHECK(shift == doctest::Approx(dyn11 ? 30.0 : -30.0).epsilon(1e-6));
        CHECK(std::abs(node_v(m0, v0, t.lv, 1)) / std::abs(node_v(m0, v0, t.hv, 1)) == doctest::Approx(0.4 / 11.0).epsilon(1e-6));
        // The start spreads the same ratio and shift.
        CHECK(std::abs(node_v(m0, m0.v_start, t.lv, 1) - node_v(m0, v0, t.lv, 1)) < 1e-3);
    }
}

TEST_CASE("umath: YNyn0 passes the zero sequence") {
    // Wye-wye, both neutrals grounded: a single-phase LV current of phase 1 is a single HV current
    // on phase 1 (ratio 0.4/11), i.e. a zero-sequence HV current |Ia + Ib + Ic| = I_lv * 0.4/11,
    // and the LV voltage is in phase with the HV voltage.
    TwoBus t = two_bus(false, {1, 2, 3, 0}, false, {1, 2, 3, 0});
    t.net.loads.push_back(load("l1", term(t.lv, {1}), 1, false, 0.4 / kSqrt3, 10.0, 0.0, 2));
    const UMathModel m = build_umath_model(t.net);
    const std::vector<cplx> v = solve_linear(m);
    const Eigen::VectorXcd i = element_currents(m, element_of(m, UElementKind::transformer, 0), v);
    const double i_lv = std::abs(i(4));
    CHECK(std::abs(i(0)) == doctest::Approx(i_lv * 0.4 / 11.0).epsilon(1e-4));
    CHECK(std::abs(i(1)) < 1e-4);
    CHECK(std::abs(i(2)) < 1e-4);
    CHECK(std::abs(i(0) + i(1) + i(2)) == doctest::Approx(i_lv * 0.4 / 11.0).epsilon(1e-4));
    CHECK(std::abs(angle_diff_deg(node_v(m, v, t.lv, 1), node_v(m, v, t.hv, 1))) < 1.0);
    // Without a load: ratio 0.4 / 11 and no shift, exactly.
    t.net.loads.clear();
    const UMathModel m0 = build_umath_model(t.net);
    const std::vector<cplx> v0 = solve_linear(m0);
    for (int p = 1; p <= 3; ++p)
        CHECK(std::abs(node_v(m0, v0, t.lv, p) / node_v(m0, v0, t.hv, p) - 0.4 / 11.0) < 1e-9);
}

TEST_CASE("umath: a transformer's yprim, hand-built") {
    // A 1-phase 2-winding unit, 10 kVA, 7.2 kV / 0.24 kV, %r 0.5 each, xhl 2 %, no ppm, taps 1:
    // Zbase on a one-volt base = 1 / 10e3; the short-circuit impedance z = (0.01 + 0.02j) / 1e4;
    // winding k's turns voltage is (V_a - V_b) / kV_k / 1000, so
    // Y = y [[1/a^2, -1/(a b)], [-1/(a b), 1/b^2]] on the conductor pairs, y = 1/z,
    // a = 7200, b = 240.
    UTransformer t;
    t.name = "u";
    t.nphases = 1;
    t.xhl_pct = 2.0;
    t.ppm_antifloat = 0.0;
    t.windings = {winding(0, {1, 0}, false, 7.2, 10.0), winding(1, {1, 0}, false, 0.24, 10.0)};
    const Eigen::MatrixXcd y = transformer_yprim(t);
    REQUIRE(y.rows() == 4);
    const cplx ys = 1.0 / (cplx(0.01, 0.02) / 1e4);
    const double a = 7200.0, b = 240.0;
    CHECK(std::abs(y(0, 0) - ys / (a * a)) < 1e-12 * std::abs(ys / (a * a)) + 1e-18);
    CHECK(std::abs(y(0, 2) + ys / (a * b)) < 1e-12 * std::abs(ys / (a * b)));
    CHECK(std::abs(y(0, 1) + ys / (a * a)) < 1e-12 * std::abs(ys / (a * a)));
    CHECK(std::abs(y(2, 2) - ys / (b * b)) < 1e-12 * std::abs(ys / (b * b)));
    // %imag 1 and %noloadloss 0.5 go on winding 2 (Y_1Volt_NL(2,2), as OpenDSS does):
    // (0.005 - 0.01j) / Zbase / b^2 more on its diagonal.
    t.imag_pct = 1.0;
    t.noload_loss_pct = 0.5;
    const Eigen::MatrixXcd y2 = transformer_yprim(t);
    CHECK(std::abs((y2(2, 2) - y(2, 2)) - cplx(0.005, -0.01) * 1e4 / (b * b)) < 1e-9);
    CHECK(std::abs(y2(0, 0) - y(0, 0)) < 1e-15);
}

TEST_CASE("umath: an open-delta bank feeding a balanced load") {
    // Two 1-phase units, 12.47 kV -> 0.48 kV, primaries and secondaries line-to-line on 1-2 and
    // 2-3 (1-phase delta windings: 2 conductors each). The third LV voltage follows from the two
    // (V_31 = -(V_12 + V_23)), so a balanced 30 kW delta load sees a balanced 480 V, and each
    // unit carries the full line current P / (sqrt3 V_LL) = 36.08 A (an open delta: 57.7 % of
    // two units' rating for 3 phases).
    UNetwork net;
    const int hv = add_bus(net, "hv", 12.47);
    const int lv = add_bus(net, "lv", 0.48);
    net.vsources.push_back(stiff_source(hv, 12.47));
    const std::vector<std::string> names = {"ta", "tb"};
    for (int k = 0; k < 2; ++k) {
        UTransformer t;
        t.name = names[static_cast<std::size_t>(k)];
        t.nphases = 1;
        t.xhl_pct = 0.01;
        t.windings = {winding(hv, {1 + k, 2 + k}, true, 12.47, 50.0), winding(lv, {1 + k, 2 + k}, true, 0.48, 50.0)};
        t.windings[0].r_pct = t.windings[1].r_pct = 0.001;
        net.transformers.push_back(t);
    }
    net.loads.push_back(load("l", term(lv, {1, 2, 3}), 3, true, 0.48, 30.0, 0.0, 2));
    const UMathModel m = build_umath_model(net);
    const std::vector<cplx> v = solve_linear(m);
    const cplx v12 = node_v(m, v, lv, 1) - node_v(m, v, lv, 2);
    const cplx v23 = node_v(m, v, lv, 2) - node_v(m, v, lv, 3);
    const cplx v31 = node_v(m, v, lv, 3) - node_v(m, v, lv, 1);
    CHECK(std::abs(v12) == doctest::Approx(480.0).epsilon(2e-3));
    CHECK(std::abs(v23) == doctest::Approx(480.0).epsilon(2e-3));
    CHECK(std::abs(v31) == doctest::Approx(480.0).epsilon(2e-3));
    CHECK(angle_diff_deg(v31, v12) == doctest::Approx(120.0).epsilon(2e-3));  // V_31 = V_ca leads V_ab by 120
    for (int k = 0; k < 2; ++k) {
        const Eigen::VectorXcd i = element_currents(m, element_of(m, UElementKind::transformer, k), v);
        CHECK(std::abs(i(2)) == doctest::Approx(30e3 / (kSqrt3 * 480.0)).epsilon(3e-3));
    }
}

TEST_CASE("umath: a regulator's tap, updated in place") {
    // A 1-phase regulator (7.2 kV / 7.2 kV) raised 8 steps: tap 1.05 on winding 2. The no-load
    // ratio becomes 1.05; update_transformer_yprim gives Y as a fresh build does.
    UNetwork net;
    const int a = add_bus(net, "a", 12.47);
    const int b = add_bus(net, "b", 12.47);
    net.vsources.push_back(stiff_source(a, 12.47));
    UTransformer t;
    t.name = "reg1";
    t.nphases = 1;
    t.xhl_pct = 0.01;
    t.windings = {winding(a, {1, 0}, false, 7.2, 1666.0), winding(b, {1, 0}, false, 7.2, 1666.0)};
    net.transformers.push_back(t);
    net.loads.push_back(load("l", term(b, {1}), 1, false, 7.2, 100.0, 50.0, 2));
    UMathModel m = build_umath_model(net);
    net.transformers[0].windings[1].tap = 1.05;
    update_transformer_yprim(m, net, 0);
    const UMathModel fresh = build_umath_model(net);
    CHECK(Eigen::MatrixXcd(m.Y - fresh.Y).norm() <= 1e-12 * Eigen::MatrixXcd(fresh.Y).norm());
    CHECK(m.Y.nonZeros() == fresh.Y.nonZeros());
    net.loads.clear();
    const UMathModel m0 = build_umath_model(net);
    const std::vector<cplx> v0 = solve_linear(m0);
    CHECK(std::abs(node_v(m0, v0, b, 1) / node_v(m0, v0, a, 1)) == doctest::Approx(1.05).epsilon(1e-9));
    CHECK(std::abs(node_v(m0, m0.v_start, b, 1) / node_v(m0, m0.v_start, a, 1)) == doctest::Approx(1.05).epsilon(1e-9));
}

TEST_CASE("umath: a 3-winding transformer's short-circuit impedances") {
    // 1-phase, 7.2 / 2.4 / 0.24 kV, 1000 kVA each, no resistance, XHL 10 %, XHT 20 %, XLT 15 % (on
    // 1000 kVA), no ppm. The impedance seen from H with L shorted and T open is XHL on H's base:
    // 0.10 * 7200^2 / 1e6 = j 5.184 ohm; with T shorted and L open, XHT: j 10.368 ohm; seen from L
    // with T shorted and H open, XLT on L's base: 0.15 * 2400^2 / 1e6 = j 0.864 ohm.
    UTransformer t;
    t.name = "t3";
    t.nphases = 1;
    t.xhl_pct = 10.0;
    t.xht_pct = 20.0;
    t.xlt_pct = 15.0;
    t.ppm_antifloat = 0.0;
    t.windings = {winding(0, {1, 0}, false, 7.2, 1000.0), winding(1, {1, 0}, false, 2.4, 1000.0),
                  winding(2, {1, 0}, false, 0.24, 1000.0)};
    for (UWinding& w : t.windings) w.r_pct = 0.0;
    const Eigen::MatrixXcd y = transformer_yprim(t);
    REQUIRE(y.rows() == 6);
    // Live conductors H = 0, L = 2, T = 4 (the neutrals 1, 3, 5 grounded).
    auto z_in = [&y](int from, int open) {  // the third winding shorted
        const cplx yff = y(from, from), yfo = y(from, open), yof = y(open, from), yoo = y(open, open);
        return 1.0 / (yff - yfo * yof / yoo);
    };
    CHECK(std::abs(z_in(0, 4) - cplx(0.0, 5.184)) < 1e-9);
    CHECK(std::abs(z_in(0, 2) - cplx(0.0, 10.368)) < 1e-9);
    CHECK(std::abs(z_in(2, 0) - cplx(0.0, 0.864)) < 1e-9);
}
