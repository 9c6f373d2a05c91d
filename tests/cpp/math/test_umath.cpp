// math/umath: the yprims of lines, capacitors and sources, the loads' current laws (OpenDSS
// Load.pas), node numbering, the system Y, the Norton currents and the radial orientation, each
// checked against a computation worked by hand in the comment.
#include <doctest/doctest.h>

#include "umath_nets.hpp"

#include <libgrid/core/errors.hpp>

using namespace libgrid;
using namespace umath_test;

namespace {

bool near(cplx a, cplx b, double tol) { return std::abs(a - b) <= tol; }

}  // namespace

TEST_CASE("umath: a 1-phase line's yprim") {
    // r = 0.3, x = 0.4 ohm/km, c = 10 nF/km, 2 km at 50 Hz: Z = 0.6 + 0.8j ohm (|Z| = 1), so
    // Zinv = 0.6 - 0.8j S; Yc = j 2 pi 50 * 10e-9 * 2 = j 6.2832e-6 S, half at each end.
    ULine l;
    l.name = "l1";
    l.nphases = 1;
    l.r_ohm_per_km = {0.3};
    l.x_ohm_per_km = {0.4};
    l.c_nf_per_km = {10.0};
    l.length_km = 2.0;
    const Eigen::MatrixXcd y = line_yprim(l, 50.0);
    REQUIRE(y.rows() == 2);
    const double half_b = 2.0 * std::numbers::pi * 50.0 * 10e-9 * 2.0 / 2.0;  // 3.14159e-6
    CHECK(near(y(0, 0), cplx(0.6, -0.8 + half_b), 1e-12));
    CHECK(near(y(1, 1), cplx(0.6, -0.8 + half_b), 1e-12));
    CHECK(near(y(0, 1), cplx(-0.6, 0.8), 1e-12));
    CHECK(near(y(1, 0), cplx(-0.6, 0.8), 1e-12));
}

TEST_CASE("umath: a 3-phase line from sequence data") {
    // z1 = 0.1 + 0.3j, z0 = 0.4 + 1.2j ohm/km, 1 km, no capacitance. Phase matrix:
    // Zs = (z0 + 2 z1)/3 = 0.2 + 0.6j, Zm = (z0 - z1)/3 = 0.1 + 0.3j. Its inverse has the same
    // form with y1 = 1/z1 = 1 - 3j and y0 = 1/z0 = 0.25 - 0.75j: Ys = (y0 + 2 y1)/3 = 0.75 - 2.25j,
    // Ym = (y0 - y1)/3 = -0.25 + 0.75j.
    ULine l;
    l.name = "l3";
    l.nphases = 3;
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            l.r_ohm_per_km.push_back(i == j ? 0.2 : 0.1);
            l.x_ohm_per_km.push_back(i == j ? 0.6 : 0.3);
            l.c_nf_per_km.push_back(0.0);
        }
    const Eigen::MatrixXcd y = line_yprim(l, 60.0);
    REQUIRE(y.rows() == 6);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            const cplx expect = i == j ? cplx(0.75, -2.25) : cplx(-0.25, 0.75);
            CHECK(near(y(i, j), expect, 1e-12));
            CHECK(near(y(i, j + 3), -expect, 1e-12));
            CHECK(near(y(i + 3, j + 3), expect, 1e-12));
        }
    // A positive-sequence voltage across the line drives E / z1 in each phase.
    Eigen::VectorXcd v = Eigen::VectorXcd::Zero(6);
    for (int k = 0; k < 3; ++k) v(k) = polar_deg(100.0, -120.0 * k);
    const Eigen::VectorXcd i = y * v;
    for (int k = 0; k < 3; ++k) CHECK(near(i(k), v(k) / cplx(0.1, 0.3), 1e-9));
}

TEST_CASE("umath: capacitor yprims, wye and delta") {
    // 600 kvar at 12.47 kV, 60 Hz. Wye: 200 kvar per phase at 12.47/sqrt3 kV:
    // B = 200e3 / 7199.557^2 = 3.858507e-3 S from each conductor to bus2 (ground).
    // Delta: 200 kvar per phase at 12.47 kV: B = 200e3 / 12470^2 = 1.286169e-3 S between
    // conductors 1-2, 2-3, 3-1: diagonal 2B, off-diagonal -B.
    UCapacitor c;
    c.name = "c1";
    c.kv = 12.47;
    c.kvar = {600.0};
    const Eigen::MatrixXcd yw = capacitor_yprim(c, 60.0);
    REQUIRE(yw.rows() == 6);
    const double bw = 200e3 / std::pow(12470.0 / std::sqrt(3.0), 2);
    CHECK(yw(0, 0).imag() == doctest::Approx(bw).epsilon(1e-12));
    CHECK(yw(0, 3).imag() == doctest::Approx(-bw).epsilon(1e-12));
    CHECK(std::abs(yw(0, 1)) == 0.0);
    c.delta = true;
    const Eigen::MatrixXcd yd = capacitor_yprim(c, 60.0);
    REQUIRE(yd.rows() == 3);
    const double bd = 200e3 / (12470.0 * 12470.0);
    CHECK(yd(0, 0).imag() == doctest::Approx(2.0 * bd).epsilon(1e-12));
    CHECK(yd(0, 1).imag() == doctest::Approx(-bd).epsilon(1e-12));
    CHECK(yd(2, 0).imag() == doctest::Approx(-bd).epsilon(1e-12));
    // Two steps in: twice the susceptance; one of two out: once.
    c.kvar = {600.0, 600.0};
    c.states = {1, 1};
    CHECK(capacitor_yprim(c, 60.0)(0, 0).imag() == doctest::Approx(4.0 * bd).epsilon(1e-12));
    c.states = {0, 1};
    CHECK(capacitor_yprim(c, 60.0)(0, 0).imag() == doctest::Approx(2.0 * bd).epsilon(1e-12));
}

TEST_CASE("umath: a Vsource's Norton equivalent") {
    // z1 = 1 + 2j, z0 = 3 + 6j ohm; E = 115 kV / sqrt3 at 0, -120, +120 deg (positive sequence),
    // so the Norton current into each node is E_k / z1 (the zero-sequence impedance is not seen).
    UNetwork net;
    const int b = add_bus(net, "src", 115.0);
    UVsource s = stiff_source(b, 115.0);
    s.z1_ohm = cplx(1.0, 2.0);
    s.z0_ohm = cplx(3.0, 6.0);
    net.vsources.push_back(s);
    const UMathModel m = build_umath_model(net);
    REQUIRE(m.n_nodes == 3);
    const double e = 115e3 / std::sqrt(3.0);
    for (int k = 0; k < 3; ++k) {
        CHECK(near(m.i_source[static_cast<std::size_t>(k)], polar_deg(e, -120.0 * k) / cplx(1.0, 2.0), 1e-6));
        CHECK(near(m.v_start[static_cast<std::size_t>(k)], polar_deg(e, -120.0 * k), 1e-6));
    }
    // yprim = Zphase^-1: Zs = (2 z1 + z0)/3 = (5 + 10j)/3, Zm = (z0 - z1)/3 = (2 + 4j)/3; check Z Y = I.
    Eigen::MatrixXcd z = Eigen::MatrixXcd::Constant(3, 3, cplx(2.0, 4.0) / 3.0);
    for (int k = 0; k < 3; ++k) z(k, k) = cplx(5.0, 10.0) / 3.0;
    const Eigen::MatrixXcd prod = z * vsource_yprim(s).topLeftCorner(3, 3);
    CHECK((prod - Eigen::MatrixXcd::Identity(3, 3)).norm() < 1e-12);
}

TEST_CASE("umath: load current laws (Load.pas)") {
    // Vbase 1000 V, S0 = 1000 W per phase: Yeq = 1e-3 S; vminpu 0.95, vmaxpu 1.05, vlowpu 0.5.
    UMathLoad ld;
    ld.vbase_v = 1000.0;
    ld.p_w = 1000.0;
    ld.q_var = 0.0;
    ld.y_nom = cplx(1e-3, 0.0);
    ld.model = 1;
    // Constant PQ inside the band: |I| = P / |V|.
    CHECK(std::abs(load_phase_current(ld, 970.0)) == doctest::Approx(1000.0 / 970.0).epsilon(1e-12));
    // Below vminpu (900 V): ILow = Yeq 500 = 0.5 A, I95 = Yeq / 0.95^2 * 950 = 1.0526316 A,
    // M95 = (I95 - ILow) / 450; I = ILow + M95 (900 - 500) = 0.9912281 A (a constant Z continuous
    // at vminpu would give 900 / 0.9025 * 1e-3 = 0.99723 A instead).
    CHECK(load_phase_current(ld, 900.0).real() == doctest::Approx(0.5 + (1.0 / 0.95 - 0.5) / 450.0 * 400.0).epsilon(1e-12));
    CHECK(load_phase_current(ld, 900.0).real() == doctest::Approx(0.9912281).epsilon(1e-6));
    // Below vlowpu: Yeq V.
    CHECK(load_phase_current(ld, 400.0).real() == doctest::Approx(0.4).epsilon(1e-12));
    // Above vmaxpu (1100 V): Yeq / 1.05^2 * 1100 = 0.9977324 A.
    CHECK(load_phase_current(ld, 1100.0).real() == doctest::Approx(1.1 / 1.1025).epsilon(1e-12));
    // Constant Z: Yeq V everywhere.
    ld.model = 2;
    CHECK(load_phase_current(ld, 900.0).real() == doctest::Approx(0.9).epsilon(1e-12));
    // Constant |I| in the band: 1 A at the voltage's angle; above vmaxpu Yeq / 1.05 V.
    ld.model = 5;
    const cplx i5 = load_phase_current(ld, polar_deg(970.0, -30.0));
    CHECK(std::abs(i5) == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(arg_deg(i5) == doctest::Approx(-30.0).epsilon(1e-9));
    CHECK(load_phase_current(ld, 1100.0).real() == doctest::Approx(1.1 / 1.05).epsilon(1e-12));
    // CVR (model 4, OpenDSS's default exponents 1 and 2) at 0.98 p.u. with S0 = 1000 + 500j:
    // P = 1000 * 0.98 = 980 W, Q = 500 * 0.98^2 = 480.2 var.
    ld.model = 4;
    ld.q_var = 500.0;
    ld.y_nom = cplx(1e-3, -0.5e-3);
    const cplx v4 = polar_deg(980.0, 5.0);
    const cplx s4 = v4 * std::conj(load_phase_current(ld, v4));
    CHECK(s4.real() == doctest::Approx(980.0).epsilon(1e-12));
    CHECK(s4.imag() == doctest::Approx(480.2).epsilon(1e-12));
    // Constant P, quadratic Q (model 3) at 0.98: P = 1000, Q = 480.2.
    ld.model = 3;
    const cplx s3 = v4 * std::conj(load_phase_current(ld, v4));
    CHECK(s3.real() == doctest::Approx(1000.0).epsilon(1e-12));
    CHECK(s3.imag() == doctest::Approx(480.2).epsilon(1e-12));
    // ZIP, zipv = [0.5 0.3 0.2, 0.5 0.3 0.2, 0] at 1.02 p.u. (in the band), S0 = 1000 + 500j:
    // P = 1000 (0.5 * 1.02^2 + 0.3 * 1.02 + 0.2) = 1026.2 W, Q = 500 * (same) = 513.1 var.
    ld.model = 8;
    ld.q_var = 500.0;
    ld.y_nom = cplx(1e-3, -0.5e-3);
    const double z[7] = {0.5, 0.3, 0.2, 0.5, 0.3, 0.2, 0.0};
    std::copy(z, z + 7, ld.zipv);
    const cplx v = polar_deg(1020.0, 10.0);
    const cplx s = v * std::conj(load_phase_current(ld, v));
    CHECK(s.real() == doctest::Approx(1026.2).epsilon(1e-12));
    CHECK(s.imag() == doctest::Approx(513.1).epsilon(1e-12));
}

TEST_CASE("umath: a delta load's line currents from its three phase elements") {
    // 30 kW delta, 0.4 kV, constant Z: 10 kW per element at 400 V: y = 10e3 / 400^2 = 0.0625 S.
    // At balanced voltages 230.94 V (0, -120, 120): V_ab = 400 at 30 deg, I_ab = 25 A at 30 deg,
    // line current I_a = I_ab - I_ca = 25 sqrt3 = 43.30 A at 0 deg (into the load).
    UNetwork net;
    const int b = add_bus(net, "b", 0.4);
    net.vsources.push_back(stiff_source(b, 0.4));
    net.loads.push_back(load("d", term(b, {1, 2, 3}), 3, true, 0.4, 30.0, 0.0, 2));
    const UMathModel m = build_umath_model(net);
    REQUIRE(m.loads.size() == 1);
    const UMathLoad& ld = m.loads[0];
    CHECK(ld.vbase_v == doctest::Approx(400.0));
    CHECK(ld.a[0] == m.bus_node(b, 1));
    CHECK(ld.b[0] == m.bus_node(b, 2));
    CHECK(ld.b[2] == m.bus_node(b, 1));  // element 3 is c-a
    std::vector<cplx> v(3);
    for (int k = 0; k < 3; ++k) v[static_cast<std::size_t>(k)] = polar_deg(400.0 / std::sqrt(3.0), -120.0 * k);
    const Eigen::VectorXcd i = element_currents(m, ld.element, v);
    for (int k = 0; k < 3; ++k) CHECK(near(i(k), polar_deg(25.0 * std::sqrt(3.0), -120.0 * k), 1e-9));
    // Solved (constant Z is linear): by KCL the source's terminal currents (yprim V less its Norton
    // current) are the load's, reversed.
    const std::vector<cplx> vs = solve_linear(m);
    const Eigen::VectorXcd il = element_currents(m, ld.element, vs);
    const Eigen::VectorXcd is = element_currents(m, element_of(m, UElementKind::vsource, 0), vs);
    for (int k = 0; k < 3; ++k) CHECK(std::abs(is(k) + il(k)) < 1e-9 * std::abs(il(k)));
    // Constant Z: no compensation. Constant PQ at nominal voltage: none either.
    std::vector<cplx> comp(3, cplx(0.0, 0.0));
    add_load_compensation(m, v, comp);
    for (const cplx& c : comp) CHECK(std::abs(c) < 1e-9);
}

TEST_CASE("umath: 1-phase delta and 2-phase loads") {
    // A 1-phase load across nodes 2-3 (OpenDSS "646.2.3", delta): one element from node 2 to
    // node 3, base = kv itself. A 2-phase wye load on nodes 1.2: two elements to the neutral
    // (node 0 by default), base kv / sqrt3, each half the power.
    UNetwork net;
    const int b = add_bus(net, "646", 4.16);
    net.vsources.push_back(stiff_source(b, 4.16));
    net.loads.push_back(load("ld", term(b, {2, 3}), 1, true, 4.16, 230.0, 132.0, 2));
    net.loads.push_back(load("l2", term(b, {1, 2}), 2, false, 4.16, 100.0, 0.0, 1));
    const UMathModel m = build_umath_model(net);
    REQUIRE(m.loads.size() == 2);
    CHECK(m.loads[0].nphases == 1);
    CHECK(m.loads[0].a[0] == m.bus_node(b, 2));
    CHECK(m.loads[0].b[0] == m.bus_node(b, 3));
    CHECK(m.loads[0].vbase_v == doctest::Approx(4160.0));
    CHECK(m.loads[0].p_w == doctest::Approx(230e3));
    CHECK(m.loads[1].nphases == 2);
    CHECK(m.loads[1].b[0] == -1);
    CHECK(m.loads[1].vbase_v == doctest::Approx(4160.0 / std::sqrt(3.0)));
    CHECK(m.loads[1].p_w == doctest::Approx(50e3));
    // The 1-phase delta load's nominal admittance sits between nodes 2 and 3 only:
    // y = (230e3 - 132e3 j) / 4160^2.
    const cplx y = cplx(230e3, -132e3) / (4160.0 * 4160.0);
    const int n2 = m.bus_node(b, 2), n3 = m.bus_node(b, 3);
    const UMathElement& e = m.elements[static_cast<std::size_t>(m.loads[0].element)];
    CHECK(near(e.yprim(0, 0), y, 1e-15));
    CHECK(near(e.yprim(0, 1), -y, 1e-15));
    CHECK(e.node[0] == n2);
    CHECK(e.node[1] == n3);
}

TEST_CASE("umath: the compensation current of a constant-PQ load") {
    // 1-phase wye load, 10 kW + 5 kvar at 0.23 kV on node 1 at V = 0.98 p.u. (in the band):
    // I_load = conj(S0 / V), y_nom = conj(S0) / 230^2, I_comp = y_nom V - I_load into node 1.
    UNetwork net;
    const int b = add_bus(net, "b", 0.4);
    net.vsources.push_back(stiff_source(b, 0.4));
    net.loads.push_back(load("l", term(b, {1}), 1, false, 0.23, 10.0, 5.0, 1));
    const UMathModel m = build_umath_model(net);
    std::vector<cplx> v(3, cplx(0.0, 0.0));
    const cplx v1 = polar_deg(0.98 * 230.0, -3.0);
    v[static_cast<std::size_t>(m.bus_node(b, 1))] = v1;
    std::vector<cplx> comp(3, cplx(0.0, 0.0));
    add_load_compensation(m, v, comp);
    const cplx s0(10e3, 5e3);
    const cplx expect = std::conj(s0) / (230.0 * 230.0) * v1 - std::conj(s0 / v1);
    CHECK(near(comp[static_cast<std::size_t>(m.bus_node(b, 1))], expect, 1e-9));
    CHECK(std::abs(comp[static_cast<std::size_t>(m.bus_node(b, 2))]) == 0.0);
}

TEST_CASE("umath: node numbering, Y, branches and radial") {
    // source -- l1 -- b1 -- l2 (1-phase, node 2, given b2 -> b1: reversed) -- b2; buses in order,
    // nodes ascending; Y = sum of the yprims.
    UNetwork net;
    const int s = add_bus(net, "s", 12.47);
    const int b1 = add_bus(net, "b1", 12.47);
    const int b2 = add_bus(net, "b2", 12.47);
    net.vsources.push_back(stiff_source(s, 12.47));
    ULine l1;
    l1.name = "l1";
    l1.bus1 = term(s, {});
    l1.bus2 = term(b1, {3, 2, 1});  // nodes given in another order: the numbering is still ascending
    l1.r_ohm_per_km.assign(9, 0.0);
    l1.x_ohm_per_km.assign(9, 0.0);
    l1.c_nf_per_km.assign(9, 0.0);
    for (int k = 0; k < 3; ++k) {
        l1.r_ohm_per_km[static_cast<std::size_t>(4 * k)] = 0.1;
        l1.x_ohm_per_km[static_cast<std::size_t>(4 * k)] = 0.2;
    }
    net.lines.push_back(l1);
    ULine l2;
    l2.name = "l2";
    l2.nphases = 1;
    l2.bus1 = term(b2, {2});
    l2.bus2 = term(b1, {2});
    l2.r_ohm_per_km = {0.5};
    l2.x_ohm_per_km = {0.5};
    l2.c_nf_per_km = {0.0};
    net.lines.push_back(l2);
    UMathModel m = build_umath_model(net);
    REQUIRE(m.n_nodes == 7);
    CHECK(m.node_bus == std::vector<int>{0, 0, 0, 1, 1, 1, 2});
    CHECK(m.node_phase == std::vector<int>{1, 2, 3, 1, 2, 3, 2});
    CHECK(m.node_vbase_v[6] == doctest::Approx(12470.0 / std::sqrt(3.0)));
    CHECK(m.bus_node(b2, 2) == 6);
    CHECK(m.bus_node(b2, 1) == -1);
    // l1 conductor 1 ends on b1 node 3: Y(b1.3, s.1) = -1 / (0.1 + 0.2j).
    CHECK(near(cplx(m.Y.coeff(5, 0)), -1.0 / cplx(0.1, 0.2), 1e-12));
    CHECK(std::abs(cplx(m.Y.coeff(3, 0))) == 0.0);
    // b1.2 has l1 and l2: 1/(0.1+0.2j) + 1/(0.5+0.5j).
    CHECK(near(cplx(m.Y.coeff(4, 4)), 1.0 / cplx(0.1, 0.2) + 1.0 / cplx(0.5, 0.5), 1e-12));
    CHECK(m.radial);
    CHECK(m.source_buses == std::vector<int>{s});
    REQUIRE(m.branches.size() == 2);
    CHECK(m.branches[1].from_bus == b1);
    CHECK(m.branches[1].to_bus == b2);
    CHECK(m.branches[1].reversed);
    // v_start: b1's node 3 takes the source's phase 1 (the line crosses them), b2.2 = s.2.
    CHECK(near(m.v_start[5], m.v_start[0], 1e-9));
    CHECK(near(m.v_start[6], m.v_start[1], 1e-9));
    // A parallel line makes a mesh; a disabled one is not in the model.
    net.lines.push_back(net.lines[0]);
    net.lines.back().name = "l3";
    CHECK_FALSE(build_umath_model(net).radial);
    net.lines.back().enabled = false;
    m = build_umath_model(net);
    CHECK(m.radial);
    CHECK(m.elements.size() == 3);
}

TEST_CASE("umath: errors name the element and field") {
    UNetwork net;
    const int b = add_bus(net, "b", 0.4);
    net.vsources.push_back(stiff_source(b, 0.4));
    net.loads.push_back(load("odd", term(b, {1}), 1, false, 0.23, 1.0, 0.0, 9));
    CHECK_THROWS_WITH_AS(build_umath_model(net), doctest::Contains("load.odd: field 'model'"), ValidationError);
    net.loads.back().model = 1;
    ULine l;
    l.name = "short";
    l.bus1 = term(b, {});
    l.bus2 = term(7, {});
    l.r_ohm_per_km.assign(9, 0.1);
    l.x_ohm_per_km.assign(9, 0.1);
    l.c_nf_per_km.assign(9, 0.0);
    net.lines.push_back(l);
    CHECK_THROWS_WITH_AS(build_umath_model(net), doctest::Contains("line.short: field 'bus2'"), ValidationError);
    net.lines.back().bus2 = term(b, {});
    net.lines.back().r_ohm_per_km.assign(3, 0.1);
    CHECK_THROWS_WITH_AS(build_umath_model(net), doctest::Contains("line.short: field 'rmatrix'"), ValidationError);
}

TEST_CASE("umath: load currents' derivatives (load_phase_current_d)") {
    // For every model, at a voltage in each band (below Vlow, between Vlow and vminpu, in the band,
    // above vmaxpu) and at odd angles: the current equals load_phase_current's, and the derivatives
    // with respect to Re(v) and Im(v) equal central finite differences of it.
    for (int model = 1; model <= 8; ++model) {
        UMathLoad ld;
        ld.vbase_v = 1000.0;
        ld.p_w = 1000.0;
        ld.q_var = 400.0;
        ld.q_fixed_var = 350.0;
        ld.y_nom = std::conj(cplx(1000.0, 400.0)) / 1e6;
        ld.model = model;
        const double z[7] = {0.3, 0.3, 0.4, 0.2, 0.2, 0.6, 0.7};  // drop-out at 0.7 p.u.
        std::copy(z, z + 7, ld.zipv);
        if (model == 4) ld.cvrwatt = 0.8, ld.cvrvar = 2.5;
        for (const double pu : {0.3, 0.45, 0.7, 0.7005, 0.97, 1.1}) {
            for (const double deg : {-37.0, 10.0, 150.0}) {
                CAPTURE(model);
                CAPTURE(pu);
                const cplx v = polar_deg(pu * 1000.0, deg);
                const UMathLoadCurrentD d = load_phase_current_d(ld, v);
                const cplx i = load_phase_current(ld, v);
                CHECK(std::abs(d.i - i) <= 1e-12 * std::abs(i));
                const double h = 1e-4;
                const cplx fr = (load_phase_current(ld, v + h) - load_phase_current(ld, v - h)) / (2.0 * h);
                const cplx fi = (load_phase_current(ld, v + cplx(0.0, h)) - load_phase_current(ld, v - cplx(0.0, h))) / (2.0 * h);
                const double scale = std::abs(ld.y_nom) * 10.0;
                CHECK(std::abs(d.di_dvr - fr) <= 1e-6 * scale);
                CHECK(std::abs(d.di_dvi - fi) <= 1e-6 * scale);
            }
        }
    }
}
