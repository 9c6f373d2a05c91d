// Source impedance of an ext grid (issue 13): an ideal voltage vm_pu/va_deg behind
// z = sn_mva/sk_mva p.u. with R/X = rx_ratio, as power-grid-model's Source (component/source.hpp:
// |z| = base/sk, x = |z|/sqrt(1 + rx^2), r = x rx). Expected values from first principles in
// physical units (kV line-to-line, ohm, MVA three-phase), closed-form two-bus solutions.
#include <doctest/doctest.h>

#include <libgrid/io/case_json.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

using namespace libgrid;

namespace {

using C = std::complex<double>;
constexpr double kDeg = std::numbers::pi / 180.0;

/// Far-end voltage of a source V1 behind Z feeding S (consumed): V1 conj(V2) = u + Z conj(S),
/// u = |V2|^2 the larger root of u^2 + (2 Re(Z conj S) - |V1|^2) u + |Z S|^2 = 0.
C far_end_voltage(C V1, C Z, C S) {
    const C c = Z * std::conj(S);
    const double B = 2.0 * c.real() - std::norm(V1), Cc = std::norm(c);
    const double disc = B * B - 4.0 * Cc;
    REQUIRE(disc > 0.0);
    const double u = (-B + std::sqrt(disc)) / 2.0;
    return std::conj((u + c) / V1);
}

/// Source impedance in ohm at vn_kv: |Z| = vn^2 / sk, X = |Z| / sqrt(1 + rx^2), R = X rx.
C source_z_ohm(double vn_kv, double sk_mva, double rx) {
    const double z = vn_kv * vn_kv / sk_mva, x = z / std::sqrt(1.0 + rx * rx);
    return {x * rx, x};
}

Bus make_bus(Id id, double vn_kv) {
    Bus b;
    b.id = id;
    b.vn_kv = vn_kv;
    b.vmin_pu = 0.0;
    b.vmax_pu = 10.0;
    return b;
}

Network two_bus(double sk_mva, double rx) {
    Network net;
    net.sn_mva = 1.0;
    net.f_hz = 50.0;
    net.buses = {make_bus(0, 20.0), make_bus(1, 20.0)};
    Line l;
    l.id = 0;
    l.from_bus = 0;
    l.to_bus = 1;
    l.length_km = 2.0;
    l.r_ohm_per_km = 0.3;
    l.x_ohm_per_km = 0.4;
    l.c_nf_per_km = 0.0;
    net.lines = {l};
    Load ld;
    ld.id = 0;
    ld.bus = 1;
    ld.p_mw = 3.0;
    ld.q_mvar = 1.2;
    net.loads = {ld};
    ExtGrid e;
    e.id = 7;
    e.bus = 0;
    e.vm_pu = 1.03;
    e.va_deg = 5.0;
    e.sk_mva = sk_mva;
    e.rx_ratio = rx;
    net.ext_grids = {e};
    return net;
}

PowerFlowResult solve(const Network& net, Method m) {
    PowerFlowOptions o;
    o.method = m;
    o.tolerance = 1e-12;
    PowerFlowResult r = run_power_flow(net, o);
    REQUIRE_MESSAGE(r.converged, r.message);
    return r;
}

C bus_v(const PowerFlowResult& r, std::size_t b) { return std::polar(r.bus_vm_pu[b], r.bus_va_deg[b] * kDeg); }

}  // namespace

TEST_CASE("source impedance: ideal source behind sk_mva/rx_ratio feeding a line and a PQ load, closed form") {
    const double sk = 50.0, rx = 0.3;
    const Network net = two_bus(sk, rx);
    // Source impedance and line in series: one impedance from the ideal source to the load.
    const C Zs = source_z_ohm(20.0, sk, rx), Zl = C(0.3, 0.4) * 2.0;
    const C E = std::polar(1.03 * 20.0, 5.0 * kDeg), S(3.0, 1.2);
    const C V2 = far_end_voltage(E, Zs + Zl, S);
    const C I = std::conj(S / V2);  // kA * sqrt3 scale cancels: S = V conj(I) in MVA with V in kV
    const C V1 = E - Zs * I;
    const C S_src = E * std::conj(I);  // what the ideal source sends into the bus (PGM's source p, q)

    PowerFlowResult rn = solve(net, Method::NewtonRaphson), rs = solve(net, Method::Sweep), ra = solve(net, Method::Auto);
    CHECK(ra.method_used == Method::Sweep);  // the hidden source branch keeps the grid radial
    for (const PowerFlowResult* r : {&rn, &rs, &ra}) {
        REQUIRE(r->bus_vm_pu.size() == 2);  // no hidden node in the bus table
        CHECK(std::abs(bus_v(*r, 0) - V1 / 20.0) < 1e-9);
        CHECK(std::abs(bus_v(*r, 1) - V2 / 20.0) < 1e-9);
        CHECK(r->ext_grid_p_mw[0] == doctest::Approx(S_src.real()).epsilon(1e-9));
        CHECK(r->ext_grid_q_mvar[0] == doctest::Approx(S_src.imag()).epsilon(1e-9));
    }
    CHECK(std::abs(bus_v(rn, 0) - bus_v(rs, 0)) < 1e-9);
    CHECK(std::abs(bus_v(rn, 1) - bus_v(rs, 1)) < 1e-9);
    // the source impedance matters here: the bus is well off the set point
    CHECK(std::abs(std::abs(V1) / 20.0 - 1.03) > 1e-3);
}

TEST_CASE("source impedance: sk_mva infinite (the default) is the ideal slack at the bus") {
    Network net = two_bus(50.0, 0.3);
    net.ext_grids[0].sk_mva = ExtGrid{}.sk_mva;
    CHECK(std::isinf(net.ext_grids[0].sk_mva));
    for (Method m : {Method::NewtonRaphson, Method::Sweep}) {
        const PowerFlowResult r = solve(net, m);
        CHECK(r.bus_vm_pu[0] == doctest::Approx(1.03).epsilon(1e-14));
        CHECK(r.bus_va_deg[0] == doctest::Approx(5.0).epsilon(1e-14));
    }
}

TEST_CASE("source impedance: sk_mva and rx_ratio survive the network JSON round trip") {
    const Network net = two_bus(123.5, 0.15);
    const Network back = parse_case_json(to_case_json(net));
    REQUIRE(back.ext_grids.size() == 1);
    CHECK(back.ext_grids[0].sk_mva == 123.5);
    CHECK(back.ext_grids[0].rx_ratio == 0.15);
    const Network inf = parse_case_json(to_case_json(two_bus(ExtGrid{}.sk_mva, 0.1)));
    CHECK(std::isinf(inf.ext_grids[0].sk_mva));
}

TEST_CASE("source impedance: a gen on the source's bus holds its vm_pu (the bus is PV), power balances") {
    // Before issue 13's follow-up the bus turned PQ and the gen injected its q_mvar (0.5) whatever the
    // voltage: a gen's set point was ignored at the one bus where nothing else holds the voltage.
    Network net = two_bus(50.0, 0.3);
    Gen g;
    g.id = 1;
    g.bus = 0;
    g.p_mw = 1.0;
    g.q_mvar = 0.5;
    g.vm_pu = 1.01;
    net.gens = {g};
    for (Method m : {Method::NewtonRaphson, Method::Auto}) {
        CAPTURE(to_string(m));
        const PowerFlowResult r = solve(net, m);
        CHECK(r.method_used == Method::NewtonRaphson);  // a PV bus: the sweep does not apply
        CHECK(r.bus_vm_pu[0] == doctest::Approx(1.01).epsilon(1e-10));
        CHECK(r.gen_p_mw[0] == doctest::Approx(1.0));
        // source + gen = load + line losses (losses_mw: lines and transformers only) + source-impedance losses
        const C Zs = source_z_ohm(20.0, 50.0, 0.3);
        const C V1 = bus_v(r, 0) * 20.0, E = std::polar(1.03 * 20.0, 5.0 * kDeg);
        const C I = (E - V1) / Zs;
        CHECK(r.ext_grid_p_mw[0] == doctest::Approx((E * std::conj(I)).real()).epsilon(1e-9));
        CHECK(r.ext_grid_q_mvar[0] == doctest::Approx((E * std::conj(I)).imag()).epsilon(1e-9));
        CHECK(r.ext_grid_p_mw[0] + 1.0 == doctest::Approx(3.0 + r.losses_mw + (Zs * std::norm(I)).real()).epsilon(1e-9));
        // the gen's q is what holds 1.01 p.u.: the reactive balance with the source's own
        CHECK(r.ext_grid_q_mvar[0] + r.gen_q_mvar[0] == doctest::Approx(1.2 + r.losses_mvar + (Zs * std::norm(I)).imag()).epsilon(1e-9));
        CHECK(std::abs(r.gen_q_mvar[0] - 0.5) > 1e-3);
    }
}

TEST_CASE("source impedance: two ext grids on one bus are two sources in parallel; an ideal one keeps the bus the slack") {
    // Two equal sources behind 2 z each = one source behind z (the same E).
    Network one = two_bus(50.0, 0.3), two = two_bus(25.0, 0.3);
    ExtGrid e2 = two.ext_grids[0];
    e2.id = 8;
    two.ext_grids.push_back(e2);
    for (Method m : {Method::NewtonRaphson, Method::Auto}) {
        CAPTURE(to_string(m));
        const PowerFlowResult a = solve(one, m), b = solve(two, m);
        CHECK(b.method_used == Method::NewtonRaphson);  // two slacks in one island
        CHECK(std::abs(bus_v(a, 0) - bus_v(b, 0)) < 1e-10);
        CHECK(std::abs(bus_v(a, 1) - bus_v(b, 1)) < 1e-10);
        CHECK(b.ext_grid_p_mw[0] == doctest::Approx(a.ext_grid_p_mw[0] / 2.0).epsilon(1e-9));
        CHECK(b.ext_grid_p_mw[1] == doctest::Approx(a.ext_grid_p_mw[0] / 2.0).epsilon(1e-9));
    }
    // an ideal ext grid there too: the bus stays at its set point, the finite one feeds through its impedance
    Network mixed = two_bus(50.0, 0.3);
    ExtGrid ideal = mixed.ext_grids[0];
    ideal.id = 9;
    ideal.vm_pu = 1.0;
    ideal.va_deg = 0.0;
    ideal.sk_mva = ExtGrid{}.sk_mva;
    mixed.ext_grids.push_back(ideal);
    const PowerFlowResult r = solve(mixed, Method::NewtonRaphson);
    CHECK(r.bus_vm_pu[0] == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(r.bus_va_deg[0] == doctest::Approx(0.0));
    const C I = (std::polar(1.03 * 20.0, 5.0 * kDeg) - C(20.0, 0.0)) / source_z_ohm(20.0, 50.0, 0.3);
    CHECK(r.ext_grid_p_mw[0] == doctest::Approx((std::polar(1.03 * 20.0, 5.0 * kDeg) * std::conj(I)).real()).epsilon(1e-9));
}
