// Hosting capacity per phase on an unbalanced network (issue 15) against a hand-derived reference.
//
// The feeder: an ideal 400 V source -- one four-wire cable (phases R + jX each, neutral Rn + jX,
// no mutual terms, its neutral earthed at the source only) -- a far bus with 200 single-phase
// customers, all on phase a, each allowed 1 kW of PV. A PV injection P at the far bus drives a
// current I out along phase a and back along the neutral. With V0 the source's phase-a voltage,
// Za = R + jX and Zn = Rn + jX:
//   Van = V0 + I (Za + Zn),  Vbn = a^2 V0 + I Zn,  Vcn = a V0 + I Zn,  P = Van conj(I)
//   => positive sequence V1 = V0 + I Za / 3, negative sequence V2 = I Za / 3 (Zn drops out), so
//   VUF = |I Za| / |3 V0 + I Za|.
// The voltage limit is |Van| = 1.05 p.u. (phase to neutral); the unbalance limit VUF = 2 %. The
// balanced model of the same cable (Network, positive sequence) spreads P over three phases and
// sees only Za: it hosts about (1 + Zn / Za) x 3 times more.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/io/dss.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/simulation/hosting_capacity.hpp>

#include <cmath>
#include <complex>
#include <limits>
#include <sstream>

using namespace libgrid;
using cplx = std::complex<double>;

namespace {

constexpr double kVph = 400.0 / 1.7320508075688772;  // phase-to-neutral base, V

/// The feeder above as an OpenDSS script (the source stiff: 1e7 MVA short-circuit power).
UNetwork feeder(double v0_pu, double r, double rn, double x, int customers) {
    std::ostringstream s;
    s << "Clear\nNew Circuit.t basekv=0.4 pu=" << v0_pu << " phases=3 bus1=src MVAsc3=1e7 MVAsc1=1e7\n"
      << "New LineCode.q nphases=4 units=km normamps=100000 rmatrix=[" << r << " | 0 " << r << " | 0 0 " << r << " | 0 0 0 " << rn
      << "] xmatrix=[" << x << " | 0 " << x << " | 0 0 " << x << " | 0 0 0 " << x << "] cmatrix=[0 | 0 0 | 0 0 0 | 0 0 0 0]\n"
      << "New Line.cable bus1=src.1.2.3.0 bus2=far.1.2.3.4 linecode=q length=1 units=km\n";
    for (int c = 1; c <= customers; ++c) s << "New Load.c" << c << " bus1=far.1.4 phases=1 kv=0.23094 kw=0 kvar=0\n";
    s << "Set voltagebases=[0.4]\nCalcVoltageBases\n";
    return read_dss_string(s.str(), "feeder").net;
}

/// The balanced model of the same cable: the positive-sequence line R + jX, the customers at its end.
Network balanced_feeder(double r, double x, int customers) {
    Network net;
    net.sn_mva = 1.0;
    net.buses.push_back(Bus{1, "src", 0.4});
    net.buses.push_back(Bus{2, "far", 0.4});
    net.ext_grids.push_back(ExtGrid{0, 1, 1.0, 0.0, true});
    Line l;
    l.id = 1;
    l.from_bus = 1;
    l.to_bus = 2;
    l.length_km = 1.0;
    l.r_ohm_per_km = r;
    l.x_ohm_per_km = x;
    l.max_i_ka = 100.0;
    net.lines.push_back(l);
    for (int c = 1; c <= customers; ++c) {
        Load ld;
        ld.id = c;
        ld.bus = 2;
        net.loads.push_back(ld);
    }
    return net;
}

/// The far bus for a single-phase injection p_w (W): Van (V) and I (A) by fixed-point iteration.
void far_bus(double v0_pu, cplx za, cplx zn, double p_w, cplx& van, cplx& i) {
    const cplx v0(v0_pu * kVph, 0.0);
    van = v0;
    for (int k = 0; k < 200; ++k) {
        i = p_w / std::conj(van);
        van = v0 + i * (za + zn);
    }
}

double vuf_percent(double v0_pu, cplx za, cplx zn, double p_w) {
    cplx van, i;
    far_bus(v0_pu, za, zn, p_w, van, i);
    return 100.0 * std::abs(i * za) / std::abs(3.0 * v0_pu * kVph + i * za);
}

double van_pu(double v0_pu, cplx za, cplx zn, double p_w) {
    cplx van, i;
    far_bus(v0_pu, za, zn, p_w, van, i);
    return std::abs(van) / kVph;
}

/// The injection (W) at which f reaches `limit`, f increasing in p (bisection to 1e-9 relative).
template <class F>
double solve_p(F&& f, double limit) {
    double lo = 0.0, hi = 1.0;
    while (f(hi) < limit) hi *= 2.0;
    for (int k = 0; k < 200; ++k) {
        const double m = 0.5 * (lo + hi);
        (f(m) < limit ? lo : hi) = m;
    }
    return lo;
}

WeatherSeries constant_sun(LocalTime start, std::size_t n) {
    WeatherSeries w;
    w.start = start;
    w.step_s = 900;
    w.ghi_wm2.assign(n, 1000.0);
    w.dni_wm2.assign(n, 900.0);
    w.dhi_wm2.assign(n, 100.0);
    w.ghi_clear_wm2.assign(n, 1000.0);
    w.temp_c.assign(n, 25.0);
    w.zenith_deg.assign(n, 0.0);
    w.azimuth_deg.assign(n, 180.0);
    w.clear_sky_index.assign(n, 1.0);
    w.cloud_index.assign(n, 0.0);
    return w;
}

/// One 1 kW unit's output under constant_sun (the PV model itself; no voltage dependence at unity pf).
double unit_w(const PvParams& pv) {
    PvWeather pw;
    pw.ghi_wm2 = 1000;
    pw.dni_wm2 = 900;
    pw.dhi_wm2 = 100;
    pw.sun_zenith_deg = 0;
    pw.sun_azimuth_deg = 180;
    pw.t_amb_c = 25;
    pw.day_of_year = 79;
    return pv_step(pv, pw, 1.0).p_kw * 1000.0;
}

HostingGroup all_customers(int n) {
    HostingGroup g;
    g.id = 7;
    g.kind = "feeder";
    for (int c = 1; c <= n; ++c) g.customers.push_back(c);
    return g;
}

}  // namespace

TEST_CASE("hosting capacity per phase: single-phase PV stops at the phase-to-neutral voltage limit; the balanced model allows about 6 x more") {
    const double R = 0.05, X = 0.01;  // ohm (1 km)
    const int n = 200;
    const WeatherSeries w = constant_sun(from_civil(2025, 3, 20, 12), 2);
    HostingCapacityOptions opt;
    opt.pv.tilt_deg = 0.0;
    opt.sim.start = w.start;
    opt.sim.n_steps = 2;
    opt.sim.weather_series = &w;
    opt.tolerance_kw = 0.25;
    const double unit = unit_w(opt.pv);
    REQUIRE(unit > 500.0);
    // the hand reference: equal cores (Zn = Za), source at 1 p.u.; the voltage binds before the VUF
    const cplx za(R, X), zn(R, X);
    const double p_v = solve_p([&](double p) { return van_pu(1.0, za, zn, p); }, 1.05);
    REQUIRE(vuf_percent(1.0, za, zn, p_v) < 2.0);
    const double expected_kw = p_v / unit;
    REQUIRE(expected_kw > 5.0);
    REQUIRE(expected_kw < 150.0);

    const UNetwork net = feeder(1.0, R, R, X, n);
    const auto res = hosting_capacity(net, {}, {all_customers(n)}, opt);
    REQUIRE(res.size() == 1);
    const HostingCapacityResult& r = res[0];
    CHECK(r.limited);
    CHECK(r.hosting_kw <= expected_kw + 1e-6);
    CHECK(r.hosting_kw >= expected_kw - opt.tolerance_kw);
    CHECK(r.limit.kind == "voltage_high");
    CHECK(r.limit.phase == "a");
    CHECK(r.limit.element == 2);  // the far bus (ids: index + 1)
    CHECK(r.limit.value > 1.05);
    CHECK(r.limit.value < 1.05 + 1e-3);
    // everything added sits on phase a
    CHECK(r.added_kw_phase[0] == doctest::Approx(r.added_kw));
    CHECK(r.added_kw_phase[1] == 0.0);
    CHECK(r.added_kw_phase[2] == 0.0);

    // the band is the bus's (UBus::vmax_pu): at 1.08 p.u. the answer moves to that reference
    UNetwork wide = net;
    wide.buses[std::size_t(wide.find_bus("far"))].vmax_pu = 1.08;
    const double p_wide = solve_p([&](double p) { return van_pu(1.0, za, zn, p); }, 1.08);
    REQUIRE(vuf_percent(1.0, za, zn, p_wide) < 2.0);
    const auto w8 = hosting_capacity(wide, {}, {all_customers(n)}, opt);
    CHECK(w8[0].limit.kind == "voltage_high");
    CHECK(w8[0].hosting_kw <= p_wide / unit + 1e-6);
    CHECK(w8[0].hosting_kw >= p_wide / unit - opt.tolerance_kw);

    // the balanced model: the same cable, positive sequence (its own analytic limit: 3 phases, no neutral)
    HostingGroup big = all_customers(n);
    big.max_kw.assign(std::size_t(n), 3.0);  // room for the balanced answer
    const auto bal = hosting_capacity(balanced_feeder(R, X, n), {}, {big}, opt);
    MESSAGE("two-bus feeder, 200 customers on phase a: unbalanced " << r.hosting_kw << " kW (reference " << expected_kw << "), balanced "
                                                                   << bal[0].hosting_kw << " kW");
    CHECK(bal[0].limit.kind == "voltage_high");
    CHECK(bal[0].limit.phase.empty());
    CHECK(std::isnan(bal[0].added_kw_phase[0]));
    // P on one phase sees the loop Za + Zn = 2 Za instead of Za / 3 per phase-share: about 6 x
    CHECK(bal[0].hosting_kw > 5.0 * r.hosting_kw);
    CHECK(bal[0].hosting_kw < 7.0 * r.hosting_kw);
}

TEST_CASE("hosting capacity per phase: unbalance binds before the voltage (a stiff neutral, a low source)") {
    const double R = 0.05, X = 0.01, Rn = 0.0025;
    const int n = 200;
    const WeatherSeries w = constant_sun(from_civil(2025, 3, 20, 12), 2);
    HostingCapacityOptions opt;
    opt.pv.tilt_deg = 0.0;
    opt.sim.start = w.start;
    opt.sim.n_steps = 2;
    opt.sim.weather_series = &w;
    opt.tolerance_kw = 0.25;
    const double unit = unit_w(opt.pv);
    const double v0 = 0.96;  // the far bus may rise by 0.09 p.u. before 1.05
    const cplx za(R, X), zn(Rn, X);
    const double p_vuf = solve_p([&](double p) { return vuf_percent(v0, za, zn, p); }, 2.0);
    const double p_v = solve_p([&](double p) { return van_pu(v0, za, zn, p); }, 1.05);
    REQUIRE(p_vuf < 0.9 * p_v);  // the reference says: unbalance first
    const UNetwork net = feeder(v0, R, Rn, X, n);
    const auto res = hosting_capacity(net, {}, {all_customers(n)}, opt);
    const HostingCapacityResult& r = res[0];
    CHECK(r.limited);
    CHECK(r.limit.kind == "unbalance");
    CHECK(r.limit.element == 2);
    CHECK(r.limit.phase.empty());
    CHECK(r.limit.value > 2.0);
    CHECK(r.limit.value < 2.0 + 0.02);
    CHECK(r.hosting_kw <= p_vuf / unit + 1e-6);
    CHECK(r.hosting_kw >= p_vuf / unit - opt.tolerance_kw);
    // without the unbalance limit the phase voltage binds, at its own reference
    opt.sim.vuf_limit_percent = std::numeric_limits<double>::infinity();
    const auto nolimit = hosting_capacity(net, {}, {all_customers(n)}, opt);
    CHECK(nolimit[0].limit.kind == "voltage_high");
    CHECK(nolimit[0].limit.phase == "a");
    CHECK(nolimit[0].hosting_kw <= p_v / unit + 1e-6);
    CHECK(nolimit[0].hosting_kw >= p_v / unit - opt.tolerance_kw);
    // a limit that is not > 0 is refused, naming the field
    opt.sim.vuf_limit_percent = 0.0;
    CHECK_THROWS_WITH_AS(hosting_capacity(net, {}, {all_customers(n)}, opt), doctest::Contains("vuf_limit_percent"), ValidationError);
}

TEST_CASE("hosting capacity per phase: the phase of a conductor overload, customers spread over phases") {
    // 30 customers: 10 on each phase; the cable's ampacity, not the voltage, binds (a short stiff
    // cable): the loading limit per conductor is reached when the group's kW per phase reaches
    // normamps x Vph, and the phase reported is one of the three (all equal). Then customers 1..20
    // on phase a and 21..30 on b: phase a's conductor binds first, at 20 customers' share.
    const WeatherSeries w = constant_sun(from_civil(2025, 3, 20, 12), 2);
    HostingCapacityOptions opt;
    opt.pv.tilt_deg = 0.0;
    opt.sim.start = w.start;
    opt.sim.n_steps = 2;
    opt.sim.weather_series = &w;
    opt.tolerance_kw = 0.25;
    const double unit = unit_w(opt.pv);
    std::ostringstream s;
    s << "Clear\nNew Circuit.t basekv=0.4 pu=1.0 phases=3 bus1=src MVAsc3=1e7 MVAsc1=1e7\n"
      << "New LineCode.q nphases=4 units=km normamps=50 rmatrix=[0.001 | 0 0.001 | 0 0 0.001 | 0 0 0 0.001] "
         "xmatrix=[0.0001 | 0 0.0001 | 0 0 0.0001 | 0 0 0 0.0001] cmatrix=[0 | 0 0 | 0 0 0 | 0 0 0 0]\n"
      << "New Line.cable bus1=src.1.2.3.0 bus2=far.1.2.3.4 linecode=q length=1 units=km\n";
    for (int c = 1; c <= 30; ++c) s << "New Load.c" << c << " bus1=far." << (c <= 20 ? 1 : 2) << ".4 phases=1 kv=0.23094 kw=0 kvar=0\n";
    s << "Set voltagebases=[0.4]\nCalcVoltageBases\n";
    const UNetwork net = read_dss_string(s.str(), "ampacity").net;
    HostingGroup g = all_customers(30);
    g.max_kw.assign(30, 2.0);
    const auto res = hosting_capacity(net, {}, {g}, opt);
    const HostingCapacityResult& r = res[0];
    CHECK(r.limit.kind == "line_overload");
    CHECK(r.limit.phase == "a");
    CHECK(r.limit.element == 1);
    // phase a carries 20 of the 30 customers' equal shares: 50 A x 230.9 V at the limit (the voltage ~1 p.u.)
    const double expected_kw = 50.0 * kVph / unit * 30.0 / 20.0;
    CHECK(r.hosting_kw <= expected_kw * 1.002 + 1e-6);
    CHECK(r.hosting_kw >= expected_kw * 0.998 - opt.tolerance_kw);
    CHECK(r.added_kw_phase[0] == doctest::Approx(r.added_kw * 20.0 / 30.0));
    CHECK(r.added_kw_phase[1] == doctest::Approx(r.added_kw * 10.0 / 30.0));
}
