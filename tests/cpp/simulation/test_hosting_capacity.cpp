// Hosting capacity against the analytical voltage-rise limit of a two-bus feeder.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/simulation/hosting_capacity.hpp>

#include <cmath>

using namespace libgrid;

namespace {

/// Bus 0 (external grid, 1 p.u.) -- line (R + jX) -- bus 1 with 200 customers that draw nothing.
Network two_bus(double r_ohm, double x_ohm) {
    Network net;
    net.name = "two_bus";
    net.sn_mva = 1.0;
    net.buses.push_back(Bus{0, "grid", 0.4});
    net.buses.push_back(Bus{1, "feeder end", 0.4});
    net.buses[1].vmin_pu = 0.9;
    net.buses[1].vmax_pu = 1.05;
    net.buses[0].vmax_pu = 1.1;
    net.ext_grids.push_back(ExtGrid{0, 0, 1.0, 0.0, true});
    Line l;
    l.id = 0;
    l.from_bus = 0;
    l.to_bus = 1;
    l.length_km = 1.0;
    l.r_ohm_per_km = r_ohm;
    l.x_ohm_per_km = x_ohm;
    l.max_i_ka = 100.0;  // no thermal limit in the way
    net.lines.push_back(l);
    for (int c = 0; c < 200; ++c) {
        Load ld;
        ld.id = c;
        ld.bus = 1;
        net.loads.push_back(ld);
    }
    return net;
}

/// Constant sun overhead, 1000 W/m2, 25 degC: every PV unit gives the same power every step.
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

}  // namespace

TEST_CASE("hosting capacity: PV on a two-bus feeder stops at the analytical voltage-rise limit") {
    const double R = 0.25, X = 0.08;  // ohm
    const Network net = two_bus(R, X);
    const WeatherSeries w = constant_sun(from_civil(2025, 3, 20, 12), 4);
    HostingCapacityOptions opt;
    opt.kind = HostingKind::PV;
    opt.pv.kwp_dc = 1.0;
    opt.pv.inverter_kva = 1.0;
    opt.pv.tilt_deg = 0.0;  // plane of array = GHI
    opt.sim.start = w.start;
    opt.sim.n_steps = 4;
    opt.sim.weather_series = &w;
    // One unit's power, from the device model itself (no voltage dependence at unity power factor).
    PvWeather pw;
    pw.ghi_wm2 = 1000;
    pw.dni_wm2 = 900;
    pw.dhi_wm2 = 100;
    pw.sun_zenith_deg = 0;
    pw.sun_azimuth_deg = 180;
    pw.t_amb_c = 25;
    pw.day_of_year = 79;
    const double p_unit_mw = pv_step(opt.pv, pw, 1.0).p_kw / 1000.0;
    REQUIRE(p_unit_mw > 0);
    // Analytical: injection P at the far bus, V0 = 1, |V1| = v  =>  (v - rP/v)^2 + (xP/v)^2 = 1,
    // with r, x in p.u. of (0.4 kV, 1 MVA); the smaller root is the voltage-rise limit.
    const double zb = 0.4 * 0.4 / 1.0, r = R / zb, x = X / zb, v = 1.05;
    const double a = (r * r + x * x) / (v * v), b = -2.0 * r, c = v * v - 1.0;
    const double p_max = (-b - std::sqrt(b * b - 4 * a * c)) / (2 * a);
    const double expected_kw = p_max / p_unit_mw;  // installed kW (1 kW AC units, DC/AC 1) at |V1| = vmax exactly
    REQUIRE(expected_kw > 5);
    REQUIRE(expected_kw < 200);
    HostingGroup g;
    g.id = 1;
    g.kind = "feeder";
    for (const Load& l : net.loads) g.customers.push_back(l.id);
    g.rating_kva = 123.0;
    opt.tolerance_kw = 0.5;
    const auto res = hosting_capacity(net, {}, {g}, opt);
    REQUIRE(res.size() == 1);
    CHECK(res[0].limited);
    CHECK_FALSE(res[0].violated_without);
    CHECK(res[0].max_kw == doctest::Approx(200.0));
    CHECK(res[0].rating_kva == 123.0);
    CHECK(res[0].tolerance_kw == 0.5);
    // the answer is below the analytical limit, by at most the tolerance
    CHECK(res[0].hosting_kw <= expected_kw + 1e-6);
    CHECK(res[0].hosting_kw >= expected_kw - 0.5);
    CHECK(res[0].hosting_kw == res[0].added_kw);  // nothing installed before
    CHECK(res[0].limit_name(HostingKind::PV) == "voltage_high");
    CHECK(res[0].limit.element == 1);
    CHECK(res[0].limit.value > 1.05);
    CHECK(res[0].limit.value < 1.05 + 1e-3);  // the probe that breaks the band is within the tolerance of the limit
    CHECK(res[0].runs <= 2 + 9);              // base, full, then bisection: log2(200 kW / 0.5 kW) < 9
    // a tighter tolerance gets closer
    opt.tolerance_kw = 0.05;
    const auto fine = hosting_capacity(net, {}, {g}, opt);
    CHECK(fine[0].hosting_kw >= expected_kw - 0.05);
    CHECK(fine[0].hosting_kw <= expected_kw + 1e-6);
    // per-customer limits: half the customers may take 3 kW, the others none; installed kW is reported on top
    g.max_kw.assign(200, 0.0);
    for (std::size_t i = 0; i < 200; i += 2) g.max_kw[i] = 3.0;
    g.installed_kw = 0.0;
    opt.tolerance_kw = 0.5;
    const auto per = hosting_capacity(net, {}, {g}, opt);
    CHECK(per[0].max_kw == doctest::Approx(300.0));
    CHECK(per[0].hosting_kw >= expected_kw - 0.5);
    CHECK(per[0].hosting_kw <= expected_kw + 1e-6);
    CHECK(per[0].hosted == 100);
}

TEST_CASE("hosting capacity: a grid limit is told apart from the roof / connection limit") {
    const Network net = two_bus(0.25, 0.08);
    const WeatherSeries w = constant_sun(from_civil(2025, 3, 20, 12), 2);
    HostingCapacityOptions opt;
    opt.pv.tilt_deg = 0.0;
    opt.sim.start = w.start;
    opt.sim.n_steps = 2;
    opt.sim.weather_series = &w;
    HostingGroup g{3, "transformer", {0, 1, 2}, {2.0, 2.0, 2.0}, 50.0, 4.0};
    const auto res = hosting_capacity(net, {}, {g}, opt);
    CHECK_FALSE(res[0].limited);
    CHECK(res[0].limit_name(HostingKind::PV) == "roof_limit");
    CHECK(res[0].limit_name(HostingKind::EV) == "connection_limit");
    CHECK(res[0].added_kw == 6.0);
    CHECK(res[0].hosting_kw == 10.0);  // 4 kW before + 6 added
    CHECK(res[0].max_kw == 10.0);
    CHECK(res[0].share == 1.0);
    CHECK(res[0].runs == 2);
    g.max_kw = {1.0, -1.0, 0.0};
    CHECK_THROWS_WITH_AS(hosting_capacity(net, {}, {g}, opt), doctest::Contains("max_kw"), ValidationError);
    g.max_kw = {1.0};
    CHECK_THROWS_WITH_AS(hosting_capacity(net, {}, {g}, opt), doctest::Contains("1 values for 3 customers"), ValidationError);
    opt.tolerance_kw = 0.0;
    g.max_kw.clear();
    CHECK_THROWS_WITH_AS(hosting_capacity(net, {}, {g}, opt), doctest::Contains("tolerance_kw"), ValidationError);
}

TEST_CASE("hosting capacity: no limit within the group, and a base case that already violates") {
    const Network net = two_bus(0.01, 0.005);  // a stiff feeder
    const WeatherSeries w = constant_sun(from_civil(2025, 3, 20, 12), 2);
    HostingCapacityOptions opt;
    opt.pv.kwp_dc = 1.0;
    opt.pv.inverter_kva = 1.0;
    opt.pv.tilt_deg = 0.0;
    opt.sim.start = w.start;
    opt.sim.n_steps = 2;
    opt.sim.weather_series = &w;
    HostingGroup g{7, "transformer", {0, 1, 2, 3}, {}, 0.0, 0.0};
    auto res = hosting_capacity(net, {}, {g}, opt);
    CHECK_FALSE(res[0].limited);
    CHECK(res[0].hosted == 4);
    CHECK(res[0].hosting_kw == 4.0);
    CHECK(res[0].share == 1.0);
    Network low = net;
    low.buses[1].vmin_pu = 1.01;  // the feeder end sits below this without any PV
    res = hosting_capacity(low, {}, {g}, opt);
    CHECK(res[0].violated_without);
    CHECK(res[0].hosted == 0);
    CHECK(res[0].hosting_kw == 0.0);
    CHECK(res[0].limit.kind == "voltage_low");
    HostingGroup bad{8, "x", {999}, {}, 0.0, 0.0};
    CHECK_THROWS_WITH_AS(hosting_capacity(net, {}, {bad}, opt), doctest::Contains("unknown customer (load) id 999"), IdError);
}
