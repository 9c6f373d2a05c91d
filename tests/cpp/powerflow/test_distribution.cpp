// Distribution grids: lines, transformers (T / pi, taps, phase shift), ZIP loads, switches,
// islands, the backward/forward sweep, on-load tap changers, switched shunts, voltage bands and
// loading. The expected values are computed in this file from first principles in physical units
// (kV line-to-line, ohm, siemens, MVA three-phase, so that S = V conj(V / Z) holds in MVA), with
// closed-form two-bus solutions; none of them calls libgrid's per-unit model.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/io/network_io.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

using C = std::complex<double>;
constexpr double kPi = std::numbers::pi;
constexpr double kSqrt3 = 1.7320508075688772;
constexpr double kDeg = kPi / 180.0;
const C j(0.0, 1.0);

// ---- first-principles helpers ----------------------------------------------------------------

/// Two buses: an ideal source V1 behind a series impedance Z, a shunt admittance Y2 and a load
/// drawing S at the far end. KCL at the far end, (V1 - V2)/Z = conj(S/V2) + Y2 V2, multiplied by
/// Z conj(V2) gives V1 conj(V2) = u a + c with u = |V2|^2, a = 1 + Z Y2, c = Z conj(S); taking
/// |.|^2 gives the quadratic |a|^2 u^2 + (2 Re(a conj c) - |V1|^2) u + |c|^2 = 0, whose larger
/// root is the normal operating point.
C far_end_voltage(C V1, C Z, C Y2, C S) {
    const C a = 1.0 + Z * Y2, c = Z * std::conj(S);
    const double A = std::norm(a), B = 2.0 * (a * std::conj(c)).real() - std::norm(V1), Cc = std::norm(c);
    const double disc = B * B - 4.0 * A * Cc;
    REQUIRE(disc > 0.0);
    const double u = (-B + std::sqrt(disc)) / (2.0 * A);
    return std::conj((u * a + c) / V1);
}

/// Series impedance (ohm) and total shunt admittance (S) of a line, as the cigre README defines them.
struct LineZY {
    C Z, Y;
};
LineZY line_zy(const Line& l, double f_hz) {
    return {C(l.r_ohm_per_km, l.x_ohm_per_km) * l.length_km / double(l.parallel),
            C(l.g_us_per_km * 1e-6, 2.0 * kPi * f_hz * l.c_nf_per_km * 1e-9) * l.length_km * double(l.parallel)};
}

/// A two-winding transformer as a physical circuit on its LV side: the ideal transformer
/// N = (vn_hv'/vn_lv') e^{j shift} (tapped rated voltages), then z_k = vk% vn_lv'^2 / sn (ohm) and
/// the magnetising admittance y_m = (pfe - j sqrt((i0% sn)^2 - pfe^2)) / vn_lv'^2 (S), arranged as
/// T (z/2 - y_m - z/2) or pi (y_m/2 - z - y_m/2).
struct TrafoCircuit {
    C N;        ///< complex voltage ratio HV:LV, kV/kV
    C z, y_m;   ///< ohm, S, on the LV side
    bool t_model;
};
TrafoCircuit trafo_circuit(const Transformer& t, bool t_model) {
    double vn_hv = t.vn_hv_kv, vn_lv = t.vn_lv_kv;
    const double steps = double(t.tap_pos - t.tap_neutral);
    if (t.tap_side == TapSide::HV) vn_hv *= 1.0 + steps * t.tap_step_percent / 100.0;
    if (t.tap_side == TapSide::LV) vn_lv *= 1.0 + steps * t.tap_step_percent / 100.0;
    const double zk = t.vk_percent / 100.0 * vn_lv * vn_lv / t.sn_mva;
    const double rk = t.vkr_percent / 100.0 * vn_lv * vn_lv / t.sn_mva;
    const double pfe_mw = t.pfe_kw / 1000.0, s0 = t.i0_percent / 100.0 * t.sn_mva;
    TrafoCircuit c;
    c.N = std::polar(vn_hv / vn_lv, t.shift_deg * kDeg);
    c.z = C(rk, std::sqrt(zk * zk - rk * rk)) / double(t.parallel);
    c.y_m = C(pfe_mw, -std::sqrt(s0 * s0 - pfe_mw * pfe_mw)) / (vn_lv * vn_lv) * double(t.parallel);
    c.t_model = t_model;
    return c;
}

/// Source V_hv (kV) -> transformer -> LV bus with a shunt Y_lv (S) and a load S (MVA). Returns
/// the LV voltage (kV) and the power into the HV terminal (MVA).
struct TrafoSolution {
    C V_lv, S_hv;
};
TrafoSolution solve_trafo(const TrafoCircuit& c, C V_hv, C S, C Y_lv = 0.0) {
    const C Va = V_hv / c.N;  // LV side of the ideal transformer
    TrafoSolution s;
    if (c.t_model) {
        // Thevenin equivalent of Va - z/2 - y_m - z/2 seen from the LV terminal
        const C k = 1.0 + c.y_m * c.z / 2.0;
        const C Vth = Va / k, Zth = c.z / 2.0 + (c.z / 2.0) / k;
        s.V_lv = far_end_voltage(Vth, Zth, Y_lv, S);
        const C I2 = std::conj(S / s.V_lv) + Y_lv * s.V_lv;  // through the LV half
        const C Vm = s.V_lv + c.z / 2.0 * I2;
        const C Ia = I2 + c.y_m * Vm;
        s.S_hv = Va * std::conj(Ia);  // the ideal transformer is lossless
    } else {
        s.V_lv = far_end_voltage(Va, c.z, c.y_m / 2.0 + Y_lv, S);
        const C Ia = (Va - s.V_lv) / c.z + c.y_m / 2.0 * Va;
        s.S_hv = Va * std::conj(Ia);
    }
    return s;
}

double deg(C v) { return std::arg(v) / kDeg; }

// ---- network building -------------------------------------------------------------------------

Bus make_bus(Id id, double vn_kv) {
    Bus b;
    b.id = id;
    b.vn_kv = vn_kv;
    b.vmin_pu = 0.0;
    b.vmax_pu = 10.0;
    return b;
}
Line make_line(Id id, Id f, Id t, double len, double r, double x, double c_nf = 0.0, double g_us = 0.0, double max_i_ka = 1.0) {
    Line l;
    l.id = id;
    l.from_bus = f;
    l.to_bus = t;
    l.length_km = len;
    l.r_ohm_per_km = r;
    l.x_ohm_per_km = x;
    l.c_nf_per_km = c_nf;
    l.g_us_per_km = g_us;
    l.max_i_ka = max_i_ka;
    return l;
}
Load make_load(Id id, Id bus, double p, double q) {
    Load l;
    l.id = id;
    l.bus = bus;
    l.p_mw = p;
    l.q_mvar = q;
    return l;
}
Network base_network() {
    Network net;
    net.sn_mva = 1.0;
    net.f_hz = 50.0;
    return net;
}
void add_ext_grid(Network& net, Id bus, double vm, double va_deg = 0.0) { net.ext_grids.push_back(ExtGrid{Id(net.ext_grids.size()), bus, vm, va_deg, true}); }

PowerFlowResult solve(const Network& net, Method m, double tol = 1e-10) {
    PowerFlowOptions o;
    o.method = m;
    o.tolerance = tol;
    PowerFlowResult r = run_power_flow(net, o);
    REQUIRE_MESSAGE(r.converged, r.message);
    return r;
}

/// Complex bus voltage of a result in kV.
C bus_v_kv(const Network& net, const PowerFlowResult& r, std::size_t b) { return std::polar(r.bus_vm_pu[b] * net.buses[b].vn_kv, r.bus_va_deg[b] * kDeg); }

/// Largest |V_a - V_b| (complex, p.u.) over energised buses; both results must agree on which
/// buses are energised.
double max_v_diff(const PowerFlowResult& a, const PowerFlowResult& b) {
    double d = 0.0;
    for (std::size_t k = 0; k < a.bus_vm_pu.size(); ++k) {
        REQUIRE(a.bus_energized[k] == b.bus_energized[k]);
        if (!a.bus_energized[k]) continue;
        d = std::max(d, std::abs(std::polar(a.bus_vm_pu[k], a.bus_va_deg[k] * kDeg) - std::polar(b.bus_vm_pu[k], b.bus_va_deg[k] * kDeg)));
    }
    return d;
}

Network load_json(const std::string& rel) { return read_network(std::string(LIBGRID_TEST_DATA) + "/" + rel); }

const Method kMethods[] = {Method::NewtonRaphson, Method::Sweep, Method::Auto};

}  // namespace

// ------------------------------------------------------------------------------------------------
TEST_CASE("distribution: a line with charging, two buses, closed form") {
    Network net = base_network();
    net.buses = {make_bus(0, 20.0), make_bus(1, 20.0)};
    Line l = make_line(0, 0, 1, 3.0, 0.25, 0.35, 250.0, 0.5, 0.3);
    l.parallel = 2;
    l.df = 0.9;
    net.lines = {l};
    net.loads = {make_load(0, 1, 2.0, 0.8)};
    add_ext_grid(net, 0, 1.02);

    const auto [Z, Y] = line_zy(l, net.f_hz);
    const C V1 = 1.02 * 20.0, S(2.0, 0.8);
    const C V2 = far_end_voltage(V1, Z, Y / 2.0, S);
    const C If = (V1 - V2) / Z + Y / 2.0 * V1, It = (V2 - V1) / Z + Y / 2.0 * V2;
    const C Sf = V1 * std::conj(If), St = V2 * std::conj(It);
    REQUIRE(std::abs(St + S) < 1e-12);  // the closed form satisfies KCL at the load
    const double loading = std::max(std::abs(If), std::abs(It)) / kSqrt3 / (0.3 * 0.9 * 2) * 100.0;

    for (Method m : kMethods) {
        CAPTURE(to_string(m));
        const PowerFlowResult r = solve(net, m);
        CHECK(r.bus_vm_pu[0] == doctest::Approx(1.02).epsilon(1e-12));
        CHECK(r.bus_vm_pu[1] == doctest::Approx(std::abs(V2) / 20.0).epsilon(1e-9));
        CHECK(r.bus_va_deg[1] == doctest::Approx(deg(V2)).epsilon(1e-8));
        CHECK(r.line_p_from_mw[0] == doctest::Approx(Sf.real()).epsilon(1e-8));
        CHECK(r.line_q_from_mvar[0] == doctest::Approx(Sf.imag()).epsilon(1e-8));
        CHECK(r.line_p_to_mw[0] == doctest::Approx(St.real()).epsilon(1e-8));
        CHECK(r.line_q_to_mvar[0] == doctest::Approx(St.imag()).epsilon(1e-8));
        CHECK(r.line_pl_mw[0] == doctest::Approx((Sf + St).real()).epsilon(1e-7));
        CHECK(r.line_ql_mvar[0] == doctest::Approx((Sf + St).imag()).epsilon(1e-7));
        CHECK(r.losses_mw == doctest::Approx((Sf + St).real()).epsilon(1e-7));
        CHECK(r.line_i_from_ka[0] == doctest::Approx(std::abs(If) / kSqrt3).epsilon(1e-8));
        CHECK(r.line_i_to_ka[0] == doctest::Approx(std::abs(It) / kSqrt3).epsilon(1e-8));
        CHECK(r.line_loading_percent[0] == doctest::Approx(loading).epsilon(1e-8));
        CHECK(r.ext_grid_p_mw[0] == doctest::Approx(Sf.real()).epsilon(1e-8));
        CHECK(r.ext_grid_q_mvar[0] == doctest::Approx(Sf.imag()).epsilon(1e-8));
        CHECK(r.bus_p_mw[1] == doctest::Approx(-2.0));
    }
    // Charging is really in the model: the line generates reactive power at light load.
    net.loads[0].p_mw = net.loads[0].q_mvar = 0.0;
    const PowerFlowResult r0 = solve(net, Method::Sweep);
    const C V2n = far_end_voltage(V1, Z, Y / 2.0, 0.0);
    CHECK(r0.bus_vm_pu[1] == doctest::Approx(std::abs(V2n) / 20.0).epsilon(1e-10));
    CHECK(r0.bus_vm_pu[1] > 1.02);  // Ferranti rise
    CHECK(r0.line_q_from_mvar[0] < 0.0);
}

TEST_CASE("distribution: transformer with off-nominal taps and a 30 degree shift, T and pi") {
    struct Variant {
        const char* name;
        TapSide side;
        int tap_pos, tap_neutral;
        double step_percent;
        bool t_model;
    };
    const Variant variants[] = {
        {"T, tap on HV, +2 steps", TapSide::HV, 5, 3, 2.5, true},
        {"pi, tap on HV, +2 steps", TapSide::HV, 5, 3, 2.5, false},
        {"T, tap on LV, -3 steps", TapSide::LV, -2, 1, 2.5, true},
        {"pi, tap on LV, -3 steps", TapSide::LV, -2, 1, 2.5, false},
        {"T, no tap changer", TapSide::None, 0, 0, 0.0, true},
    };
    std::vector<double> vm_seen;
    for (const Variant& v : variants) {
        CAPTURE(v.name);
        Network net = base_network();
        net.trafo_model = v.t_model ? TrafoModel::T : TrafoModel::Pi;
        net.buses = {make_bus(0, 20.0), make_bus(1, 0.4)};
        Transformer t;
        t.id = 7;
        t.hv_bus = 0;
        t.lv_bus = 1;
        t.sn_mva = 0.63;
        t.vn_hv_kv = 20.0;
        t.vn_lv_kv = 0.42;  // off-nominal against the 0.4 kV bus
        t.vk_percent = 6.0;
        t.vkr_percent = 1.2;
        t.pfe_kw = 1.5;
        t.i0_percent = 1.0;
        t.shift_deg = 30.0;
        t.tap_side = v.side;
        t.tap_pos = v.tap_pos;
        t.tap_neutral = v.tap_neutral;
        t.tap_min = -5;
        t.tap_max = 5;
        t.tap_step_percent = v.step_percent;
        net.transformers = {t};
        net.loads = {make_load(0, 1, 0.35, 0.12)};
        add_ext_grid(net, 0, 1.0);

        const C S(0.35, 0.12), V_hv = 20.0;
        const TrafoSolution e = solve_trafo(trafo_circuit(t, v.t_model), V_hv, S);
        const C S_lv = -S;
        const double i_hv = std::abs(e.S_hv) / (kSqrt3 * std::abs(V_hv)), i_lv = std::abs(S_lv) / (kSqrt3 * std::abs(e.V_lv));
        const double loading = std::max(i_hv / (0.63 / (kSqrt3 * 20.0)), i_lv / (0.63 / (kSqrt3 * 0.42))) * 100.0;
        for (Method m : {Method::NewtonRaphson, Method::Sweep}) {
            CAPTURE(to_string(m));
            const PowerFlowResult r = solve(net, m);
            CHECK(r.bus_vm_pu[1] == doctest::Approx(std::abs(e.V_lv) / 0.4).epsilon(1e-9));
            CHECK(r.bus_va_deg[1] == doctest::Approx(deg(e.V_lv)).epsilon(1e-8));
            CHECK(r.bus_va_deg[1] < -30.0);  // lags the HV side by the shift and the load angle
            CHECK(r.trafo_p_hv_mw[0] == doctest::Approx(e.S_hv.real()).epsilon(1e-8));
            CHECK(r.trafo_q_hv_mvar[0] == doctest::Approx(e.S_hv.imag()).epsilon(1e-8));
            CHECK(r.trafo_p_lv_mw[0] == doctest::Approx(-0.35).epsilon(1e-8));
            CHECK(r.trafo_q_lv_mvar[0] == doctest::Approx(-0.12).epsilon(1e-8));
            CHECK(r.trafo_pl_mw[0] == doctest::Approx((e.S_hv + S_lv).real()).epsilon(1e-7));
            CHECK(r.trafo_loading_percent[0] == doctest::Approx(loading).epsilon(1e-8));
            CHECK(r.trafo_tap_pos[0] == v.tap_pos);
        }
        vm_seen.push_back(std::abs(e.V_lv));
    }
    // The variants really differ (T vs pi, and each tap), so the checks above discriminate.
    for (std::size_t a = 0; a < vm_seen.size(); ++a)
        for (std::size_t b = a + 1; b < vm_seen.size(); ++b) CHECK(std::abs(vm_seen[a] - vm_seen[b]) > 1e-6);
}

TEST_CASE("distribution: ZIP load draws its share of constant Z, I and P power at the solved voltage") {
    Network net = base_network();
    net.buses = {make_bus(0, 11.0), make_bus(1, 11.0)};
    net.lines = {make_line(0, 0, 1, 6.0, 0.32, 0.38, 200.0)};
    Load ld = make_load(0, 1, 3.0, 1.5);
    ld.const_z_p_percent = 30.0;
    ld.const_i_p_percent = 20.0;
    ld.const_z_q_percent = 10.0;
    ld.const_i_q_percent = 50.0;
    ld.scaling = 1.2;
    net.loads = {ld};
    add_ext_grid(net, 0, 1.0);

    // ZIP: S(v) = P (0.5 + 0.2 v + 0.3 v^2) + j Q (0.4 + 0.5 v + 0.1 v^2), v = |V| / vn. A fixed
    // point over v with the closed-form two-bus solution inside.
    const double P = 3.0 * 1.2, Q = 1.5 * 1.2;
    auto zip = [&](double v) { return C(P * (0.5 + 0.2 * v + 0.3 * v * v), Q * (0.4 + 0.5 * v + 0.1 * v * v)); };
    const auto [Z, Y] = line_zy(net.lines[0], net.f_hz);
    C V2 = 11.0;
    for (int it = 0; it < 200; ++it) V2 = far_end_voltage(11.0, Z, Y / 2.0, zip(std::abs(V2) / 11.0));
    const double v = std::abs(V2) / 11.0;
    REQUIRE(std::abs(std::abs(far_end_voltage(11.0, Z, Y / 2.0, zip(v))) / 11.0 - v) < 1e-14);
    REQUIRE(v < 0.93);                         // low enough that the shares matter:
    REQUIRE(std::abs(zip(v) - C(P, Q)) > 0.1);  // the ZIP power differs from the nominal one

    for (Method m : kMethods) {
        CAPTURE(to_string(m));
        const PowerFlowResult r = solve(net, m);
        CHECK(r.bus_vm_pu[1] == doctest::Approx(v).epsilon(1e-9));
        CHECK(r.bus_va_deg[1] == doctest::Approx(deg(V2)).epsilon(1e-8));
        CHECK(r.bus_p_mw[1] == doctest::Approx(-zip(v).real()).epsilon(1e-8));
        CHECK(r.bus_q_mvar[1] == doctest::Approx(-zip(v).imag()).epsilon(1e-8));
        // the line delivers exactly what the load draws at that voltage
        CHECK(r.line_p_to_mw[0] == doctest::Approx(-zip(r.bus_vm_pu[1]).real()).epsilon(1e-8));
        CHECK(r.line_q_to_mvar[0] == doctest::Approx(-zip(r.bus_vm_pu[1]).imag()).epsilon(1e-8));
    }
}

TEST_CASE("distribution: open line-end switch keeps the line's charging, de-energises what it fed") {
    // 0 (slack) -- A -- 1 -- B --x 2     x: open switch at bus 2's end of line B
    Network net = base_network();
    net.buses = {make_bus(0, 20.0), make_bus(1, 20.0), make_bus(2, 20.0)};
    net.lines = {make_line(10, 0, 1, 4.0, 0.2, 0.3, 280.0, 0.0, 0.4), make_line(11, 1, 2, 6.0, 0.3, 0.35, 300.0, 0.2, 0.25)};
    net.loads = {make_load(0, 1, 1.5, 0.5), make_load(1, 2, 0.7, 0.2)};
    Switch sw;
    sw.id = 3;
    sw.bus = 2;
    sw.element = 11;
    sw.et = SwitchElement::Line;
    sw.closed = false;
    net.switches = {sw};
    add_ext_grid(net, 0, 1.01);

    const auto [ZA, YA] = line_zy(net.lines[0], net.f_hz);
    const auto [ZB, YB] = line_zy(net.lines[1], net.f_hz);
    const C y_in = YB / 2.0 + 1.0 / (ZB + 2.0 / YB);  // open-ended pi section seen from bus 1
    const C V0 = 1.01 * 20.0, S1(1.5, 0.5);
    const C V1 = far_end_voltage(V0, ZA, YA / 2.0 + y_in, S1);
    const C SB = V1 * std::conj(y_in * V1);
    REQUIRE(SB.imag() < -0.05);  // the open cable still generates noticeable reactive power

    for (Method m : kMethods) {
        CAPTURE(to_string(m));
        const PowerFlowResult r = solve(net, m);
        if (m == Method::Auto) CHECK(r.method_used == Method::Sweep);
        CHECK(r.bus_vm_pu[1] == doctest::Approx(std::abs(V1) / 20.0).epsilon(1e-9));
        CHECK(r.bus_va_deg[1] == doctest::Approx(deg(V1)).epsilon(1e-8));
        CHECK(std::isnan(r.bus_vm_pu[2]));
        CHECK(std::isnan(r.bus_va_deg[2]));
        CHECK(r.bus_energized[2] == 0);
        CHECK(r.bus_voltage_violation[2] == 0);
        CHECK(r.line_p_from_mw[1] == doctest::Approx(SB.real()).epsilon(1e-8));
        CHECK(r.line_q_from_mvar[1] == doctest::Approx(SB.imag()).epsilon(1e-8));
        CHECK(r.line_p_to_mw[1] == 0.0);
        CHECK(r.line_q_to_mvar[1] == 0.0);
        CHECK(r.line_i_to_ka[1] == 0.0);
        CHECK(r.line_i_from_ka[1] == doctest::Approx(std::abs(y_in * V1) / kSqrt3).epsilon(1e-8));
        CHECK(r.line_loading_percent[1] == doctest::Approx(std::abs(y_in * V1) / kSqrt3 / 0.25 * 100.0).epsilon(1e-8));
    }

    SUBCASE("the far bus fed by another line: the open line does not connect it") {
        net.lines.push_back(make_line(12, 0, 2, 2.0, 0.25, 0.3, 0.0));
        const auto [ZC, YC] = line_zy(net.lines[2], net.f_hz);
        const C V2 = far_end_voltage(V0, ZC, YC / 2.0, C(0.7, 0.2));
        for (Method m : kMethods) {
            CAPTURE(to_string(m));
            const PowerFlowResult r = solve(net, m);
            if (m == Method::Auto) CHECK(r.method_used == Method::Sweep);  // still radial
            CHECK(r.bus_vm_pu[1] == doctest::Approx(std::abs(V1) / 20.0).epsilon(1e-9));
            CHECK(r.bus_vm_pu[2] == doctest::Approx(std::abs(V2) / 20.0).epsilon(1e-9));
            CHECK(r.bus_va_deg[2] == doctest::Approx(deg(V2)).epsilon(1e-8));
            CHECK(r.line_q_from_mvar[1] == doctest::Approx(SB.imag()).epsilon(1e-8));
            CHECK(r.line_p_to_mw[1] == 0.0);
        }
    }
    SUBCASE("switch at the near end instead: the whole line and the far bus are dead") {
        net.switches[0].bus = 1;
        const C V1b = far_end_voltage(V0, ZA, YA / 2.0, S1);
        for (Method m : kMethods) {
            CAPTURE(to_string(m));
            const PowerFlowResult r = solve(net, m);
            CHECK(r.bus_vm_pu[1] == doctest::Approx(std::abs(V1b) / 20.0).epsilon(1e-9));
            CHECK(std::isnan(r.bus_vm_pu[2]));
            CHECK(r.line_q_from_mvar[1] == 0.0);
            CHECK(r.line_loading_percent[1] == 0.0);
        }
    }
    SUBCASE("a line at an out-of-service bus stays energised from its other end (pandapower)") {
        net.switches.clear();
        net.buses[2].in_service = false;
        for (Method m : kMethods) {
            CAPTURE(to_string(m));
            const PowerFlowResult r = solve(net, m);
            CHECK(r.bus_vm_pu[1] == doctest::Approx(std::abs(V1) / 20.0).epsilon(1e-9));
            CHECK(r.line_q_from_mvar[1] == doctest::Approx(SB.imag()).epsilon(1e-8));
            CHECK(std::isnan(r.bus_vm_pu[2]));
        }
    }
}

TEST_CASE("distribution: a closed bus-bus switch fuses two buses into one node") {
    // 0 (slack) -- A -- 1 == 2   (== closed switch); line D also joins 1 and 2, so when they are
    // fused its whole charging is a shunt at the node and no current flows through its series part.
    Network net = base_network();
    net.buses = {make_bus(0, 20.0), make_bus(1, 20.0), make_bus(2, 20.0)};
    net.lines = {make_line(0, 0, 1, 5.0, 0.2, 0.35, 250.0), make_line(1, 1, 2, 0.8, 0.3, 0.3, 300.0, 1.0)};
    net.loads = {make_load(0, 1, 0.5, 0.2), make_load(1, 2, 1.0, 0.3)};
    Switch sw;
    sw.id = 0;
    sw.bus = 1;
    sw.element = 2;
    sw.et = SwitchElement::Bus;
    sw.closed = true;
    net.switches = {sw};
    add_ext_grid(net, 0, 1.0);

    const auto [ZA, YA] = line_zy(net.lines[0], net.f_hz);
    const auto [ZD, YD] = line_zy(net.lines[1], net.f_hz);
    const C V0 = 20.0;
    const C V = far_end_voltage(V0, ZA, YA / 2.0 + YD, C(1.5, 0.5));
    for (Method m : kMethods) {
        CAPTURE(to_string(m));
        const PowerFlowResult r = solve(net, m);
        if (m == Method::Auto) CHECK(r.method_used == Method::Sweep);
        CHECK(r.bus_vm_pu[1] == doctest::Approx(std::abs(V) / 20.0).epsilon(1e-9));
        CHECK(r.bus_va_deg[1] == doctest::Approx(deg(V)).epsilon(1e-8));
        CHECK(r.bus_vm_pu[2] == r.bus_vm_pu[1]);
        CHECK(r.bus_va_deg[2] == r.bus_va_deg[1]);
        const C half = V * std::conj(YD / 2.0 * V);  // each end of D draws its own half
        CHECK(r.line_p_from_mw[1] == doctest::Approx(half.real()).epsilon(1e-8));
        CHECK(r.line_q_from_mvar[1] == doctest::Approx(half.imag()).epsilon(1e-8));
        CHECK(r.line_q_to_mvar[1] == doctest::Approx(half.imag()).epsilon(1e-8));
    }
    SUBCASE("opened, bus 2 still hangs on line D") {
        net.switches[0].closed = false;
        const PowerFlowResult rn = solve(net, Method::NewtonRaphson), rs = solve(net, Method::Auto);
        CHECK(rs.method_used == Method::Sweep);
        CHECK(max_v_diff(rn, rs) < 1e-9);
        CHECK(rn.bus_vm_pu[2] < rn.bus_vm_pu[1]);
    }
    SUBCASE("opened and line D out of service: bus 2 is de-energised") {
        net.switches[0].closed = false;
        net.lines[1].in_service = false;
        const C V1 = far_end_voltage(V0, ZA, YA / 2.0, C(0.5, 0.2));
        for (Method m : kMethods) {
            const PowerFlowResult r = solve(net, m);
            CHECK(r.bus_vm_pu[1] == doctest::Approx(std::abs(V1) / 20.0).epsilon(1e-9));
            CHECK(std::isnan(r.bus_vm_pu[2]));
        }
    }
}

TEST_CASE("distribution: an island without a source is de-energised, the rest solves") {
    Network net = base_network();
    net.buses = {make_bus(0, 10.0), make_bus(1, 10.0), make_bus(2, 10.0), make_bus(3, 10.0), make_bus(4, 0.4)};
    net.lines = {make_line(0, 0, 1, 2.0, 0.4, 0.3, 100.0), make_line(1, 2, 3, 1.0, 0.4, 0.3, 100.0)};
    Transformer t;
    t.id = 0;
    t.hv_bus = 3;
    t.lv_bus = 4;
    t.sn_mva = 0.25;
    t.vn_hv_kv = 10.0;
    t.vn_lv_kv = 0.4;
    t.vk_percent = 4.0;
    t.vkr_percent = 1.0;
    // a transformer to an out-of-service bus is out of service (pandapower): no magnetising power
    Transformer t_oos = t;
    t_oos.id = 1;
    t_oos.hv_bus = 1;
    t_oos.lv_bus = 5;
    t_oos.pfe_kw = 2.0;
    t_oos.i0_percent = 2.0;
    net.buses.push_back(make_bus(5, 0.4));
    net.buses.back().in_service = false;
    net.transformers = {t, t_oos};
    net.loads = {make_load(0, 1, 0.8, 0.3), make_load(1, 3, 0.4, 0.1), make_load(2, 4, 0.1, 0.02)};
    SGen g;  // a generator without voltage control does not make a source
    g.id = 0;
    g.bus = 2;
    g.p_mw = 0.3;
    net.sgens = {g};
    add_ext_grid(net, 0, 1.0);
    const auto [Z, Y] = line_zy(net.lines[0], net.f_hz);
    const C V1 = far_end_voltage(10.0, Z, Y / 2.0, C(0.8, 0.3));
    for (Method m : kMethods) {
        CAPTURE(to_string(m));
        PowerFlowResult r;
        REQUIRE_NOTHROW(r = solve(net, m));
        CHECK(r.bus_vm_pu[1] == doctest::Approx(std::abs(V1) / 10.0).epsilon(1e-9));
        for (int b : {2, 3, 4}) {
            CHECK(std::isnan(r.bus_vm_pu[b]));
            CHECK(std::isnan(r.bus_va_deg[b]));
            CHECK(r.bus_energized[b] == 0);
        }
        CHECK(r.line_p_from_mw[1] == 0.0);
        CHECK(r.line_loading_percent[1] == 0.0);
        CHECK(r.trafo_p_hv_mw[0] == 0.0);
        CHECK(r.trafo_p_hv_mw[1] == 0.0);
        CHECK(r.trafo_q_hv_mvar[1] == 0.0);
        CHECK(std::isnan(r.bus_vm_pu[5]));
        CHECK(r.losses_mw == doctest::Approx((r.line_p_from_mw[0] + r.line_p_to_mw[0])).epsilon(1e-12));
    }
}

// ------------------------------------------------------------------------------------------------
TEST_CASE("distribution: every shipped case solves and converges with nr and auto") {
    const char* files[] = {"cigre/cigre_lv.input.json", "cigre/cigre_mv_pv_wind.input.json", "cigre/cigre_mv_all.input.json",
                           "cigre/mv_oberrhein.input.json", "cigre/case118.input.json", "cigre/case2869pegase.input.json"};
    for (const char* f : files) {
        CAPTURE(f);
        const Network net = load_json(f);
        PowerFlowOptions o;
        o.method = Method::NewtonRaphson;
        const PowerFlowResult rn = run_power_flow(net, o);
        CHECK(rn.converged);
        o.method = Method::Auto;
        const PowerFlowResult ra = run_power_flow(net, o);
        CHECK(ra.converged);
        const bool radial = std::string(f).find("case") == std::string::npos;
        CHECK(ra.method_used == (radial ? Method::Sweep : Method::NewtonRaphson));
        CHECK(max_v_diff(rn, ra) < 1e-8);
        // every energised bus has a finite voltage in a plausible range
        for (std::size_t b = 0; b < net.buses.size(); ++b)
            if (ra.bus_energized[b]) {
                CHECK(ra.bus_vm_pu[b] > 0.8);
                CHECK(ra.bus_vm_pu[b] < 1.2);
            }
    }
}

namespace {

/// SplitMix64, for deterministic generated networks.
struct Rng {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform(double a = 0.0, double b = 1.0) { return a + (b - a) * double(next() >> 11) * 0x1.0p-53; }
    int below(int n) { return int(next() % std::uint64_t(n)); }
};

/// A radial distribution network with everything the sweep must handle: a 110/20 kV substation of
/// two parallel transformers (150 degree shift, HV tap), an MV cable tree with some doubled lines,
/// 20/0.4 kV transformers (30 degree shift) feeding LV trees, ZIP loads, PV, storage, busbar
/// sections fused by closed bus-bus switches, cables to other feeders left open at one end (loops
/// that the open switch breaks), an out-of-service line and a dead island.
Network generated_radial(std::uint64_t seed, int n_mv, TrafoModel model) {
    Rng rng{seed};
    Network net = base_network();
    net.trafo_model = model;
    Id next_bus = 0, next_line = 0;
    auto add_bus = [&](double vn) {
        net.buses.push_back(make_bus(next_bus, vn));
        return next_bus++;
    };
    const Id hv = add_bus(110.0), mv0 = add_bus(20.0);
    add_ext_grid(net, hv, 1.02, 5.0);
    for (int k = 0; k < 2; ++k) {
        Transformer t;
        t.id = k;
        t.hv_bus = hv;
        t.lv_bus = mv0;
        t.sn_mva = 25.0;
        t.vn_hv_kv = 110.0;
        t.vn_lv_kv = 20.0;
        t.vk_percent = 12.0 + k;
        t.vkr_percent = 0.3;
        t.pfe_kw = 20.0;
        t.i0_percent = 0.05;
        t.shift_deg = 150.0;
        t.tap_side = TapSide::HV;
        t.tap_min = -9;
        t.tap_max = 9;
        t.tap_step_percent = 1.5;
        t.tap_pos = -2 + k;
        net.transformers.push_back(t);
    }
    std::vector<Id> mv = {mv0};
    auto add_load = [&](Id bus, double p) {
        Load l = make_load(Id(net.loads.size()), bus, p, p * rng.uniform(0.1, 0.5));
        const int kind = rng.below(3);
        if (kind == 1) l.const_z_p_percent = l.const_z_q_percent = 100.0;
        if (kind == 2) {
            l.const_i_p_percent = 40.0;
            l.const_z_q_percent = 30.0;
        }
        net.loads.push_back(l);
    };
    for (int i = 0; i < n_mv; ++i) {
        const Id parent = mv[std::size_t(rng.uniform() < 0.6 ? int(mv.size()) - 1 : rng.below(int(mv.size())))];
        const Id b = add_bus(20.0);
        const double len = rng.uniform(0.2, 1.5);
        net.lines.push_back(make_line(next_line++, parent, b, len, 0.161, 0.117, 273.0, 0.0, 0.36));
        if (rng.uniform() < 0.1) net.lines.push_back(make_line(next_line++, b, parent, len, 0.161, 0.117, 273.0, 0.0, 0.36));  // doubled
        mv.push_back(b);
        add_load(b, rng.uniform(0.02, 0.15));
        if (rng.uniform() < 0.2) {  // busbar section fused by a closed switch, with its own load
            const Id s = add_bus(20.0);
            Switch sw;
            sw.id = Id(net.switches.size());
            sw.bus = b;
            sw.element = s;
            sw.et = SwitchElement::Bus;
            net.switches.push_back(sw);
            add_load(s, rng.uniform(0.05, 0.2));
        }
        if (rng.uniform() < 0.15) {  // an MV/LV substation with an LV tree
            const Id lv0 = add_bus(0.4);
            Transformer t;
            t.id = Id(net.transformers.size());
            t.hv_bus = b;
            t.lv_bus = lv0;
            t.sn_mva = 0.4;
            t.vn_hv_kv = 20.0;
            t.vn_lv_kv = 0.4;
            t.vk_percent = 4.0;
            t.vkr_percent = 1.2;
            t.pfe_kw = 0.8;
            t.i0_percent = 0.3;
            t.shift_deg = 30.0;
            net.transformers.push_back(t);
            std::vector<Id> lv = {lv0};
            const int n_lv = 5 + rng.below(10);
            for (int k = 0; k < n_lv; ++k) {
                const Id p = lv[std::size_t(rng.below(int(lv.size())))];
                const Id c = add_bus(0.4);
                net.lines.push_back(make_line(next_line++, p, c, rng.uniform(0.02, 0.08), 0.206, 0.08, 210.0, 0.0, 0.27));
                lv.push_back(c);
                add_load(c, rng.uniform(0.002, 0.01));
                if (rng.uniform() < 0.3) {
                    SGen g;
                    g.id = Id(net.sgens.size());
                    g.bus = c;
                    g.p_mw = rng.uniform(0.003, 0.01);
                    g.q_mvar = -0.1 * g.p_mw;
                    net.sgens.push_back(g);
                }
            }
        }
        if (i > 5 && rng.uniform() < 0.1) {  // a tie cable to another feeder, open at one end
            const Id other = mv[std::size_t(rng.below(int(mv.size()) - 1))];
            net.lines.push_back(make_line(next_line++, b, other, rng.uniform(0.5, 2.0), 0.206, 0.122, 250.0, 0.0, 0.3));
            Switch sw;
            sw.id = Id(net.switches.size());
            sw.bus = rng.uniform() < 0.5 ? b : other;
            sw.element = net.lines.back().id;
            sw.et = SwitchElement::Line;
            sw.closed = false;
            net.switches.push_back(sw);
        }
    }
    Storage st;
    st.id = 0;
    st.bus = mv.back();
    st.p_mw = -0.2;  // discharging
    net.storage = {st};
    net.lines[std::size_t(rng.below(int(net.lines.size())))].in_service = false;
    // a dead island: two buses, a cable and a load, no source
    const Id d0 = add_bus(20.0), d1 = add_bus(20.0);
    net.lines.push_back(make_line(next_line++, d0, d1, 1.0, 0.161, 0.117, 273.0));
    add_load(d1, 0.1);
    return net;
}

/// pgm_bench's radial grid with its source impedance modelled as the README says: the ext_grid
/// moves to an auxiliary 150 kV bus joined to bus 0 by r + jx from sk_mva = 2000, rx_ratio = 0.1.
/// The README's recipe for a solver without source impedance: an auxiliary slack bus joined to
/// the source's bus by the source impedance as a line; the ext grid there is ideal (sk_mva infinite).
Network pgm_with_aux_source_bus(const std::string& file) {
    Network net = load_json(file);
    REQUIRE(net.ext_grids.size() == 1);
    REQUIRE(net.ext_grids[0].sk_mva == 2000.0);
    REQUIRE(net.ext_grids[0].rx_ratio == 0.1);
    net.ext_grids[0].sk_mva = ExtGrid{}.sk_mva;
    Id aux = 0;
    for (const Bus& b : net.buses) aux = std::max(aux, b.id + 1);
    const Id source = net.ext_grids[0].bus;
    const double vn = net.buses[net.bus_index(source)].vn_kv;
    Bus b = make_bus(aux, vn);
    net.buses.push_back(b);
    const double z = vn * vn / 2000.0, x = z / std::sqrt(1.0 + 0.1 * 0.1), r = 0.1 * x;
    Id line_id = 0;
    for (const Line& l : net.lines) line_id = std::max(line_id, l.id + 1);
    net.lines.push_back(make_line(line_id, aux, source, 1.0, r, x));
    net.ext_grids[0].bus = aux;
    return net;
}
Network pgm_radial_with_source_impedance() { return pgm_with_aux_source_bus("pgm_bench/radial_1804.input.json"); }

}  // namespace

TEST_CASE("distribution: sweep and Newton-Raphson agree to 1e-8 p.u. on every radial network") {
    std::vector<std::pair<std::string, Network>> cases;
    for (const char* f : {"cigre/cigre_lv.input.json", "cigre/cigre_mv_pv_wind.input.json", "cigre/cigre_mv_all.input.json",
                          "cigre/mv_oberrhein.input.json", "pgm_bench/radial_1804.input.json"})
        cases.emplace_back(f, load_json(f));
    cases.emplace_back("radial_1804 with source impedance", pgm_radial_with_source_impedance());
    cases.emplace_back("generated T 1", generated_radial(1, 60, TrafoModel::T));
    cases.emplace_back("generated T 2", generated_radial(2, 200, TrafoModel::T));
    cases.emplace_back("generated pi 3", generated_radial(3, 120, TrafoModel::Pi));
    for (const auto& [name, net] : cases) {
        const std::string& case_name = name;  // CAPTURE's lambda cannot capture a structured binding (clang 14)
        CAPTURE(case_name);
        PowerFlowOptions o;  // default tolerance, as a user runs it
        o.method = Method::NewtonRaphson;
        const PowerFlowResult rn = run_power_flow(net, o);
        o.method = Method::Auto;
        const PowerFlowResult rs = run_power_flow(net, o);
        REQUIRE(rn.converged);
        REQUIRE(rs.converged);
        CHECK(rs.method_used == Method::Sweep);
        CHECK(max_v_diff(rn, rs) < 1e-8);
        CHECK(rs.losses_mw == doctest::Approx(rn.losses_mw).epsilon(1e-7));
        double ext_n = 0.0, ext_s = 0.0;
        for (std::size_t k = 0; k < rn.ext_grid_p_mw.size(); ++k) {
            ext_n += rn.ext_grid_p_mw[k];
            ext_s += rs.ext_grid_p_mw[k];
        }
        CHECK(ext_s == doctest::Approx(ext_n).epsilon(1e-7));
    }
}

TEST_CASE("distribution: pgm_bench radial grid with its source impedance matches the README's figures") {
    const Network net = pgm_radial_with_source_impedance();
    const PowerFlowResult r = solve(net, Method::Auto, 1e-8);
    CHECK(r.method_used == Method::Sweep);
    // README: "bus 0 ends at about 0.97 p.u. in the base case", "the MV feeder ends drop to about
    // 0.79-0.81 p.u.", bus angles -150 degrees behind the HV/MV units.
    CHECK(r.bus_vm_pu[net.bus_index(0)] == doctest::Approx(0.97).epsilon(0.01));
    double vmin = 10.0;
    for (std::size_t b = 0; b < net.buses.size(); ++b) vmin = std::min(vmin, r.bus_vm_pu[b]);
    CHECK(vmin > 0.78);
    CHECK(vmin < 0.82);
    CHECK(r.bus_va_deg[net.bus_index(2)] < -150.0);
    CHECK(r.bus_va_deg[net.bus_index(2)] > -165.0);
}

TEST_CASE("distribution: pgm_bench grids as shipped (ext_grid sk_mva/rx_ratio) equal the README's auxiliary-bus recipe") {
    for (const char* f : {"pgm_bench/radial_1804.input.json", "pgm_bench/meshed_2605.input.json"}) {
        CAPTURE(f);
        const Network shipped = load_json(f), aux = pgm_with_aux_source_bus(f);
        for (Method m : {Method::NewtonRaphson, Method::Auto}) {
            const PowerFlowResult a = solve(shipped, m, 1e-12), b = solve(aux, m, 1e-12);
            REQUIRE(a.bus_vm_pu.size() == shipped.buses.size());  // no hidden bus in the results
            double d = 0.0;
            for (std::size_t k = 0; k < shipped.buses.size(); ++k)
                d = std::max(d, std::abs(std::polar(a.bus_vm_pu[k], a.bus_va_deg[k] * kDeg) -
                                         std::polar(b.bus_vm_pu[k], b.bus_va_deg[k] * kDeg)));
            CHECK(d < 1e-10);
            // /ext_grid/p_mw: what leaves the ideal source (PGM's source p), = the auxiliary slack's
            CHECK(a.ext_grid_p_mw[0] == doctest::Approx(b.ext_grid_p_mw[0]).epsilon(1e-9));
            CHECK(a.ext_grid_q_mvar[0] == doctest::Approx(b.ext_grid_q_mvar[0]).epsilon(1e-9));
            MESSAGE(std::string(f) << " " << to_string(m) << ": max |dV| vs the recipe " << d << " p.u.; bus 0 " << a.bus_vm_pu[0]);
        }
    }
}

TEST_CASE("distribution: the sweep reports the exact power mismatch of the voltages it returns") {
    const Network net = generated_radial(5, 80, TrafoModel::T);
    MathModel m = build_math_model(net);
    REQUIRE(sweep_applicable(m));
    SweepSolver sweep;
    sweep.analyze(m);
    std::vector<cplx> V = initial_voltages(net, m, true);
    auto true_mismatch = [&](const std::vector<cplx>& v) {
        std::vector<cplx> S;
        network_injection(m, v, S);
        double worst = 0.0;
        for (int i = 0; i < m.n; ++i)
            if (m.node_type[i] != BusType::Slack) worst = std::max(worst, std::abs(S[i] - specified_injection(m, i, std::abs(v[i]))));
        return worst;
    };
    int flat_iterations = 0;
    for (double tol : {1e-4, 1e-6, 1e-8, 1e-10}) {
        CAPTURE(tol);
        std::vector<cplx> W = initial_voltages(net, m, true);
        const SolveStatus st = sweep.solve(m, W, tol, 200);
        REQUIRE(st.converged);
        const double mis = true_mismatch(W);
        CHECK(mis <= tol);
        // equal up to rounding: the feeder-blocked sweep ends below 1e-12 at tol 1e-10, where
        // both figures are rounding noise (|A_sum| ulp(V) at a stiff node, a few 1e-12)
        CHECK(std::abs(mis - st.max_mismatch) <= 1e-3 * mis + 1e-11);
        if (tol == 1e-10) flat_iterations = st.iterations;
    }
    // warm start: a solved point takes one sweep; a small load change takes a few
    REQUIRE(sweep.solve(m, V, 1e-10, 200).converged);
    SolveStatus st = sweep.solve(m, V, 1e-10, 200);
    CHECK(st.converged);
    CHECK(st.iterations == 1);
    Network net2 = net;
    for (Load& l : net2.loads) l.p_mw *= 1.02;
    update_injections(net2, m);
    st = sweep.solve(m, V, 1e-10, 200);
    CHECK(st.converged);
    CHECK(st.iterations < flat_iterations);
    CHECK(true_mismatch(V) <= 1e-10);
    // a NaN injection (bypassing validation) is reported, never returned as converged
    {
        MathModel bad = m;
        bad.s_p[std::size_t(bad.n - 1)] = cplx(std::nan(""), 0.0);
        std::vector<cplx> W = V;
        const SolveStatus sb = sweep.solve(bad, W, 1e-8, 50);
        CHECK_FALSE(sb.converged);
    }
    // the iteration cap is honoured and reported as non-convergence
    for (Load& l : net2.loads) l.p_mw *= 1.1;
    update_injections(net2, m);
    st = sweep.solve(m, V, 1e-12, 1);
    CHECK_FALSE(st.converged);
    CHECK(st.iterations == 1);
}

TEST_CASE("distribution: the sweep refuses meshed networks and PV buses; auto falls back to NR") {
    Network net = base_network();
    net.buses = {make_bus(0, 20.0), make_bus(1, 20.0), make_bus(2, 20.0)};
    net.lines = {make_line(0, 0, 1, 1.0, 0.2, 0.3), make_line(1, 1, 2, 1.0, 0.2, 0.3), make_line(2, 2, 0, 1.0, 0.2, 0.3)};
    net.loads = {make_load(0, 2, 1.0, 0.2)};
    add_ext_grid(net, 0, 1.0);
    MathModel m = build_math_model(net);
    CHECK_FALSE(sweep_applicable(m));
    SweepSolver sweep;
    CHECK_THROWS_AS(sweep.analyze(m), SolverError);
    PowerFlowOptions o;
    o.method = Method::Sweep;
    CHECK_THROWS_AS(run_power_flow(net, o), ValidationError);
    o.method = Method::Auto;
    const PowerFlowResult r = run_power_flow(net, o);
    CHECK(r.converged);
    CHECK(r.method_used == Method::NewtonRaphson);
    // a generator (PV bus) also needs NR
    net.lines.pop_back();
    Gen g;
    g.bus = 2;
    g.p_mw = 0.5;
    g.vm_pu = 1.01;
    net.gens = {g};
    m = build_math_model(net);
    CHECK_FALSE(sweep_applicable(m));
    CHECK(run_power_flow(net, o).method_used == Method::NewtonRaphson);
}

// ------------------------------------------------------------------------------------------------
namespace {

/// HV source -- OLTC transformer -- LV bus with a load.
Network oltc_network(TapSide side, double step_percent, int tap_pos, double v_source, double p, double q) {
    Network net = base_network();
    net.buses = {make_bus(0, 20.0), make_bus(1, 0.4)};
    Transformer t;
    t.id = 3;
    t.hv_bus = 0;
    t.lv_bus = 1;
    t.sn_mva = 0.4;
    t.vn_hv_kv = 20.0;
    t.vn_lv_kv = 0.4;
    t.vk_percent = 4.0;
    t.vkr_percent = 1.1;
    t.pfe_kw = 0.6;
    t.i0_percent = 0.4;
    t.tap_side = side;
    t.tap_min = -6;
    t.tap_max = 6;
    t.tap_step_percent = step_percent;
    t.tap_pos = tap_pos;
    t.oltc = true;
    t.oltc_vm_pu = 1.0;
    t.oltc_band_pu = 0.03;
    net.transformers = {t};
    net.loads = {make_load(0, 1, p, q)};
    add_ext_grid(net, 0, v_source);
    return net;
}

/// |V_lv| in p.u. of the closed-form solution at tap position pos.
double oltc_vm(const Network& net, int pos) {
    Transformer t = net.transformers[0];
    t.tap_pos = pos;
    const Load& l = net.loads[0];
    return std::abs(solve_trafo(trafo_circuit(t, net.trafo_model == TrafoModel::T), net.ext_grids[0].vm_pu * 20.0, C(l.p_mw, l.q_mvar)).V_lv) / 0.4;
}

/// The tap a one-step-at-a-time controller ends at, walked by hand: move while the voltage is
/// outside the band, in the direction that raises (or lowers) it, until inside or at a limit.
int walk_taps(const Network& net, int raise_dir) {
    const Transformer& t = net.transformers[0];
    const double lo = t.oltc_vm_pu - t.oltc_band_pu / 2, hi = t.oltc_vm_pu + t.oltc_band_pu / 2;
    int pos = t.tap_pos;
    for (int guard = 0; guard < 100; ++guard) {
        const double v = oltc_vm(net, pos);
        const int dir = v < lo ? raise_dir : v > hi ? -raise_dir : 0;
        if (dir == 0 || pos + dir < t.tap_min || pos + dir > t.tap_max) break;
        pos += dir;
    }
    return pos;
}

}  // namespace

TEST_CASE("distribution: on-load tap changer drives a low LV voltage back into its band") {
    struct Variant {
        const char* name;
        TapSide side;
        double step;
        int raise_dir;  // tap direction that raises the LV voltage, by hand
        double v_source, p, q;
    };
    const Variant variants[] = {
        {"tap on HV, +1.25 %: lower the tap", TapSide::HV, 1.25, -1, 0.97, 0.3, 0.12},
        {"tap on LV, +1.25 %: raise the tap", TapSide::LV, 1.25, +1, 0.97, 0.3, 0.12},
        {"tap on HV, -1.25 %: raise the tap", TapSide::HV, -1.25, +1, 0.97, 0.3, 0.12},
        {"tap on HV, high voltage at light load", TapSide::HV, 1.25, -1, 1.06, 0.02, 0.0},
        {"tap on HV, heavy load: ends at the limit", TapSide::HV, 2.5, -1, 0.85, 0.45, 0.2},
    };
    for (const Variant& v : variants) {
        CAPTURE(v.name);
        const Network net = oltc_network(v.side, v.step, 0, v.v_source, v.p, v.q);
        const double v0 = oltc_vm(net, 0);
        REQUIRE((v0 < 0.985 || v0 > 1.015));  // starts outside the band
        // the direction by hand: one step in raise_dir raises the closed-form voltage
        REQUIRE(oltc_vm(net, v.raise_dir) > v0);
        const int expected = walk_taps(net, v.raise_dir);
        CHECK(expected != 0);
        for (Method m : {Method::NewtonRaphson, Method::Sweep}) {
            CAPTURE(to_string(m));
            const PowerFlowResult r = solve(net, m);
            CHECK(r.trafo_tap_pos[0] == expected);
            CHECK(r.bus_vm_pu[1] == doctest::Approx(oltc_vm(net, expected)).epsilon(1e-9));
            const bool at_limit = expected == net.transformers[0].tap_min || expected == net.transformers[0].tap_max;
            if (!at_limit) {
                CHECK(r.bus_vm_pu[1] >= 0.985);
                CHECK(r.bus_vm_pu[1] <= 1.015);
                CHECK(r.message.empty());
            } else {
                CHECK(r.bus_vm_pu[1] < 0.985);
                CHECK(r.message.find("transformer 3") != std::string::npos);  // says which one is out of band
            }
        }
        // the input network is not modified
        CHECK(net.transformers[0].tap_pos == 0);
        PowerFlowOptions off;
        off.run_controls = false;
        CHECK(run_power_flow(net, off).trafo_tap_pos[0] == 0);
    }
}

TEST_CASE("distribution: tap changer with a band narrower than one step settles without hunting") {
    // 2.5 % steps, band 1 %: the voltage can jump over the band. The controller stops at the tap
    // that brings the voltage nearest its set point instead of moving back and forth.
    // The source voltage is chosen so that the nearest tap misses the band by a clear margin and is
    // clearly nearer than the next one.
    Network net;
    int best = 0;
    bool found = false;
    for (double vs = 0.950; vs < 0.99 && !found; vs += 0.001) {
        net = oltc_network(TapSide::HV, 2.5, 0, vs, 0.25, 0.08);
        net.transformers[0].oltc_band_pu = 0.01;
        std::vector<double> d;
        for (int pos = -6; pos <= 6; ++pos) d.push_back(std::abs(oltc_vm(net, pos) - 1.0));
        best = int(std::min_element(d.begin(), d.end()) - d.begin());
        std::vector<double> sorted = d;
        std::sort(sorted.begin(), sorted.end());
        found = sorted[0] > 0.007 && sorted[1] - sorted[0] > 0.003;
        best -= 6;
    }
    REQUIRE(found);
    REQUIRE(best < 0);
    for (Method m : {Method::NewtonRaphson, Method::Sweep}) {
        const PowerFlowResult r = solve(net, m);
        CHECK(r.trafo_tap_pos[0] == best);
        CHECK(r.bus_vm_pu[1] == doctest::Approx(oltc_vm(net, best)).epsilon(1e-9));
        CHECK(r.message.find("transformer 3") != std::string::npos);
        CHECK(r.message.find("did not settle") == std::string::npos);
    }
}

TEST_CASE("distribution: controls that run out of rounds still give a consistent power flow") {
    Network net = oltc_network(TapSide::HV, 0.625, 0, 0.93, 0.3, 0.12);
    const int full = walk_taps(net, -1);
    REQUIRE(full <= -4);
    for (Method m : {Method::NewtonRaphson, Method::Sweep}) {
        CAPTURE(to_string(m));
        PowerFlowOptions o;
        o.method = m;
        o.tolerance = 1e-10;
        o.max_control_iterations = 2;
        const PowerFlowResult r = run_power_flow(net, o);
        CHECK(r.converged);
        CHECK(r.message.find("did not settle") != std::string::npos);
        // two rounds of control: two steps, and the voltages solve the network at that tap
        CHECK(r.trafo_tap_pos[0] == -2);
        CHECK(r.bus_vm_pu[1] == doctest::Approx(oltc_vm(net, -2)).epsilon(1e-9));
        CHECK(r.trafo_p_lv_mw[0] == doctest::Approx(-0.3).epsilon(1e-8));
    }
}

TEST_CASE("distribution: OLTC of a transformer open at one end is left alone") {
    // Two transformers in parallel; the second is open on its HV side (energised from the LV bus).
    Network net = oltc_network(TapSide::HV, 1.25, 0, 0.97, 0.5, 0.2);
    Transformer t2 = net.transformers[0];
    t2.id = 4;
    net.transformers.push_back(t2);
    Switch sw;
    sw.id = 0;
    sw.bus = 0;
    sw.element = 4;
    sw.et = SwitchElement::Transformer;
    sw.closed = false;
    net.switches = {sw};
    for (Method m : {Method::NewtonRaphson, Method::Sweep}) {
        CAPTURE(to_string(m));
        const PowerFlowResult r = solve(net, m);
        CHECK(r.trafo_tap_pos[1] == 0);
        CHECK(r.trafo_tap_pos[0] < 0);
        CHECK(r.bus_vm_pu[1] >= 0.985);
        CHECK(r.bus_vm_pu[1] <= 1.015);
        // the open unit only draws its magnetising power from the LV side
        CHECK(r.trafo_p_hv_mw[1] == 0.0);
        CHECK(r.trafo_p_lv_mw[1] > 0.0);
        CHECK(r.trafo_p_lv_mw[1] < 1e-3);
    }
}

TEST_CASE("distribution: switched capacitor and reactor step towards their band") {
    Network net = base_network();
    net.buses = {make_bus(0, 11.0), make_bus(1, 11.0)};
    net.lines = {make_line(0, 0, 1, 8.0, 0.3, 0.4, 0.0)};
    net.loads = {make_load(0, 1, 2.0, 1.6)};
    Shunt cap;
    cap.id = 9;
    cap.bus = 1;
    cap.q_mvar = -0.4;  // per step, at 1 p.u.
    cap.step = 0;
    cap.max_step = 6;
    cap.switched = true;
    cap.v_low_pu = 0.95;
    cap.v_high_pu = 1.05;
    net.shunts = {cap};
    add_ext_grid(net, 0, 1.0);
    const auto [Z, Y] = line_zy(net.lines[0], net.f_hz);
    auto v_at = [&, Z = Z, Y = Y](int s, C S, const Shunt& sh) {  // shunt: S_drawn = s (p + jq) v^2 -> Y = s (p - jq) / vn^2
        // (Z and Y copied: a structured binding cannot be captured by clang 14)
        return std::abs(far_end_voltage(11.0, Z, Y / 2.0 + double(s) * C(sh.p_mw, -sh.q_mvar) / 121.0, S)) / 11.0;
    };
    int expected = 0;
    while (v_at(expected, C(2.0, 1.6), cap) < 0.95 && expected < cap.max_step) ++expected;
    REQUIRE(expected >= 2);
    REQUIRE(expected < cap.max_step);
    for (Method m : {Method::NewtonRaphson, Method::Sweep}) {
        CAPTURE(to_string(m));
        const PowerFlowResult r = solve(net, m);
        CHECK(r.shunt_step[0] == expected);
        const double v = v_at(expected, C(2.0, 1.6), cap);
        CHECK(r.bus_vm_pu[1] == doctest::Approx(v).epsilon(1e-9));
        CHECK(r.bus_vm_pu[1] >= 0.95);
        CHECK(r.shunt_q_mvar[0] == doctest::Approx(-0.4 * expected * v * v).epsilon(1e-9));
    }
    SUBCASE("a reactor (q > 0) steps in when the voltage is high") {
        Shunt re = cap;
        re.q_mvar = 0.5;
        re.max_step = 5;
        net.shunts = {re};
        net.loads[0].p_mw = 0.0;
        net.loads[0].q_mvar = -3.2;  // capacitive load pushes the voltage up
        int exp_r = 0;
        while (v_at(exp_r, C(0.0, -3.2), re) > 1.05 && exp_r < re.max_step) ++exp_r;
        REQUIRE(exp_r >= 2);
        REQUIRE(exp_r < re.max_step);
        for (Method m : {Method::NewtonRaphson, Method::Sweep}) {
            CAPTURE(to_string(m));
            const PowerFlowResult r = solve(net, m);
            CHECK(r.shunt_step[0] == exp_r);
            CHECK(r.bus_vm_pu[1] == doctest::Approx(v_at(exp_r, C(0.0, -3.2), re)).epsilon(1e-9));
            CHECK(r.bus_vm_pu[1] <= 1.05);
        }
    }
}

TEST_CASE("distribution: voltage band violations are reported per bus") {
    Network net = base_network();
    net.buses = {make_bus(0, 0.4), make_bus(1, 0.4), make_bus(2, 0.4), make_bus(3, 0.4)};
    for (Bus& b : net.buses) {
        b.vmin_pu = 0.94;
        b.vmax_pu = 1.05;
    }
    net.lines = {make_line(0, 0, 1, 0.05, 0.2, 0.08), make_line(1, 1, 2, 0.25, 0.4, 0.08)};
    net.loads = {make_load(0, 1, 0.01, 0.0), make_load(1, 2, 0.2, 0.05), make_load(2, 3, 0.01, 0.0)};
    add_ext_grid(net, 0, 1.06);
    for (Method m : kMethods) {
        CAPTURE(to_string(m));
        const PowerFlowResult r = solve(net, m);
        CHECK(r.bus_vm_pu[0] == doctest::Approx(1.06));
        CHECK(r.bus_voltage_violation[0] == 1);  // above vmax
        CHECK(r.bus_vm_pu[1] <= 1.05);
        CHECK(r.bus_vm_pu[1] >= 0.94);
        CHECK(r.bus_voltage_violation[1] == 0);
        CHECK(r.bus_vm_pu[2] < 0.94);
        CHECK(r.bus_voltage_violation[2] == 1);  // below vmin
        CHECK(r.bus_voltage_violation[3] == 0);  // de-energised: no voltage, no violation
        for (std::size_t b = 0; b < 3; ++b)
            CHECK(bool(r.bus_voltage_violation[b]) == (r.bus_vm_pu[b] < net.buses[b].vmin_pu || r.bus_vm_pu[b] > net.buses[b].vmax_pu));
    }
}

TEST_CASE("distribution: line and transformer loading as the cigre README defines them") {
    for (const char* f : {"cigre/cigre_lv.input.json", "cigre/cigre_mv_all.input.json", "cigre/mv_oberrhein.input.json"}) {
        CAPTURE(f);
        const Network net = load_json(f);
        const PowerFlowResult r = solve(net, Method::Auto, 1e-10);
        // open line ends, from the switches
        std::vector<char> open_f(net.lines.size(), 0), open_t(net.lines.size(), 0);
        for (const Switch& s : net.switches)
            if (!s.closed && s.et == SwitchElement::Line)
                for (std::size_t k = 0; k < net.lines.size(); ++k)
                    if (net.lines[k].id == s.element) (net.lines[k].from_bus == s.bus ? open_f : open_t)[k] = 1;
        int checked_open = 0, checked = 0;
        for (std::size_t k = 0; k < net.lines.size(); ++k) {
            const Line& l = net.lines[k];
            CAPTURE(l.id);
            if (!l.in_service) continue;
            const std::size_t bf = net.bus_index(l.from_bus), bt = net.bus_index(l.to_bus);
            const auto [Z, Y] = line_zy(l, net.f_hz);
            // currents from the solved voltages and the line's own data (kA)
            double i_f = 0.0, i_t = 0.0;
            if (!open_f[k] && !open_t[k]) {
                const C Vf = bus_v_kv(net, r, bf), Vt = bus_v_kv(net, r, bt);
                i_f = std::abs((Vf - Vt) / Z + Y / 2.0 * Vf) / kSqrt3;
                i_t = std::abs((Vt - Vf) / Z + Y / 2.0 * Vt) / kSqrt3;
            } else {
                const std::size_t closed = open_t[k] ? bf : bt;
                if (!r.bus_energized[closed] || (open_f[k] && open_t[k])) continue;
                const double i = std::abs((Y / 2.0 + 1.0 / (Z + 2.0 / Y)) * bus_v_kv(net, r, closed)) / kSqrt3;
                (open_t[k] ? i_f : i_t) = i;
                ++checked_open;
            }
            const double loading = std::max(i_f, i_t) / (l.max_i_ka * l.df * l.parallel) * 100.0;
            CHECK(r.line_i_from_ka[k] == doctest::Approx(i_f).epsilon(1e-7).scale(1e-9));
            CHECK(r.line_i_to_ka[k] == doctest::Approx(i_t).epsilon(1e-7).scale(1e-9));
            CHECK(r.line_loading_percent[k] == doctest::Approx(loading).epsilon(1e-7).scale(1e-9));
            ++checked;
        }
        CHECK(checked > 10);
        if (std::string(f).find("lv") == std::string::npos) CHECK(checked_open > 0);
        for (std::size_t k = 0; k < net.transformers.size(); ++k) {
            const Transformer& t = net.transformers[k];
            const std::size_t bh = net.bus_index(t.hv_bus), bl = net.bus_index(t.lv_bus);
            const double i_hv = std::hypot(r.trafo_p_hv_mw[k], r.trafo_q_hv_mvar[k]) / (kSqrt3 * r.bus_vm_pu[bh] * net.buses[bh].vn_kv);
            const double i_lv = std::hypot(r.trafo_p_lv_mw[k], r.trafo_q_lv_mvar[k]) / (kSqrt3 * r.bus_vm_pu[bl] * net.buses[bl].vn_kv);
            const double loading = std::max(i_hv / (t.sn_mva / (kSqrt3 * t.vn_hv_kv)), i_lv / (t.sn_mva / (kSqrt3 * t.vn_lv_kv))) * 100.0 / (t.df * t.parallel);
            CHECK(loading > 1.0);
            CHECK(r.trafo_loading_percent[k] == doctest::Approx(loading).epsilon(1e-9));
            CHECK(r.trafo_i_hv_ka[k] == doctest::Approx(i_hv).epsilon(1e-9));
        }
    }
}
