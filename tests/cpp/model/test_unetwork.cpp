// The unbalanced model's helpers (libgrid/model/unetwork.hpp): sequence to phase, Kron reduction,
// length units, bus look-up, validation and load shapes at an hour - each against hand working.
#include <doctest/doctest.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/model/unetwork.hpp>

#include <cmath>
#include <complex>
#include <limits>
#include <string>
#include <vector>

using namespace libgrid;
using C = std::complex<double>;

TEST_CASE("unetwork: sequence_to_phase, hand-worked") {
    // Zs = (Z0 + 2 Z1) / 3 = (4 + 2) / 3 = 2, Zm = (Z0 - Z1) / 3 = (4 - 1) / 3 = 1
    const std::vector<double> m = sequence_to_phase(1.0, 4.0, 3);
    REQUIRE(m.size() == 9);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) CHECK(m[static_cast<std::size_t>(i * 3 + j)] == doctest::Approx(i == j ? 2.0 : 1.0));
    // n = 1: Zs only
    const std::vector<double> one = sequence_to_phase(0.3, 0.9, 1);
    REQUIRE(one.size() == 1);
    CHECK(one[0] == doctest::Approx((0.9 + 0.6) / 3.0));
    // 2 conductors
    const std::vector<double> two = sequence_to_phase(0.0, 3.0, 2);
    CHECK(two[0] == doctest::Approx(1.0));
    CHECK(two[1] == doctest::Approx(1.0));
    CHECK_THROWS_AS(sequence_to_phase(1.0, 1.0, 0), ValidationError);
}

TEST_CASE("unetwork: kron_reduce of a 4-wire line, hand-worked") {
    // Z_pp = [[2 1 1] [1 2 1] [1 1 2]], Z_pn = [1 2 0], Z_nn = 4, all times a = 0.5 + 1j.
    // Z_pn Z_nn^-1 Z_np = [[0.25 0.5 0] [0.5 1 0] [0 0 0]], so the reduced matrix is
    // a x [[1.75 0.5 1] [0.5 1 1] [1 1 2]].
    const C a(0.5, 1.0);
    const double base[16] = {2, 1, 1, 1, 1, 2, 1, 2, 1, 1, 2, 0, 1, 2, 0, 4};
    std::vector<C> z(16);
    for (int k = 0; k < 16; ++k) z[static_cast<std::size_t>(k)] = a * base[k];
    const std::vector<C> r = kron_reduce(z, 4, {3});
    REQUIRE(r.size() == 9);
    const double want[9] = {1.75, 0.5, 1, 0.5, 1, 1, 1, 1, 2};
    for (int k = 0; k < 9; ++k) {
        CHECK(r[static_cast<std::size_t>(k)].real() == doctest::Approx((a * want[k]).real()));
        CHECK(r[static_cast<std::size_t>(k)].imag() == doctest::Approx((a * want[k]).imag()));
    }
    // eliminating the first conductor instead keeps 1, 2, 3 in their order:
    // Z_kk = 2, Z_k = [1 1 1]: [[2 1 2] [1 2 0] [2 0 4]] - [[.5 .5 .5] [.5 .5 .5] [.5 .5 .5]]
    const std::vector<C> r0 = kron_reduce(z, 4, {0});
    const double want0[9] = {1.5, 0.5, 1.5, 0.5, 1.5, -0.5, 1.5, -0.5, 3.5};
    for (int k = 0; k < 9; ++k) CHECK(std::abs(r0[static_cast<std::size_t>(k)] - a * want0[k]) < 1e-12);
    // two at once: the same as one after the other
    const std::vector<C> both = kron_reduce(z, 4, {2, 3});
    const std::vector<C> step = kron_reduce(kron_reduce(z, 4, {3}), 3, {2});
    REQUIRE(both.size() == 4);
    for (std::size_t k = 0; k < 4; ++k) CHECK(std::abs(both[k] - step[k]) < 1e-12);
    CHECK_THROWS_AS(kron_reduce(z, 4, {4}), ValidationError);
    CHECK_THROWS_AS(kron_reduce(z, 3, {0}), ValidationError);
    std::vector<C> zero_pivot(4, C(0, 0));
    CHECK_THROWS_AS(kron_reduce(zero_pivot, 2, {1}), ValidationError);
}

TEST_CASE("unetwork: length units to km") {
    CHECK(length_unit_to_km("mi") == doctest::Approx(1.609344));
    CHECK(length_unit_to_km("kft") == doctest::Approx(0.3048));
    CHECK(length_unit_to_km("ft") == doctest::Approx(0.0003048));
    CHECK(length_unit_to_km("m") == doctest::Approx(0.001));
    CHECK(length_unit_to_km("KM") == 1.0);
    CHECK(length_unit_to_km("none") == 1.0);
    CHECK(length_unit_to_km("in") == doctest::Approx(2.54e-5));
    CHECK(length_unit_to_km("cm") == doctest::Approx(1e-5));
    CHECK(length_unit_to_km("mm") == doctest::Approx(1e-6));
    CHECK_THROWS_AS(length_unit_to_km("furlong"), ValidationError);
}

TEST_CASE("unetwork: buses by name, case-insensitive; bases compare NaN == NaN") {
    UNetwork n;
    CHECK(n.add_bus("SourceBus") == 0);
    CHECK(n.add_bus("650") == 1);
    CHECK(n.add_bus("sourcebus") == 0);
    CHECK(n.find_bus("SOURCEBUS") == 0);
    CHECK(n.find_bus("nope") == -1);
    CHECK(n.buses[0].name == "sourcebus");
    UNetwork m = n;
    CHECK(m == n);  // the NaN bases do not make a network unequal to its copy
    m.buses[1].kv_base_ll = 4.16;
    CHECK_FALSE(m == n);
}

namespace {
UNetwork tiny() {
    UNetwork n;
    n.add_bus("a");
    n.add_bus("b");
    UVsource v;
    v.bus1 = {0, {1, 2, 3}};
    v.z1_ohm = {0.1, 1.0};
    n.vsources.push_back(v);
    ULine l;
    l.name = "650632";
    l.bus1 = {0, {1, 2, 3}};
    l.bus2 = {1, {1, 2, 3}};
    l.r_ohm_per_km = sequence_to_phase(0.1, 0.3, 3);
    l.x_ohm_per_km = sequence_to_phase(0.2, 0.6, 3);
    l.c_nf_per_km = sequence_to_phase(3.0, 1.0, 3);
    n.lines.push_back(l);
    return n;
}
}  // namespace

TEST_CASE("unetwork: validate names the element and the field") {
    UNetwork n = tiny();
    CHECK_NOTHROW(n.validate());
    n.lines[0].length_km = std::numeric_limits<double>::quiet_NaN();
    try {
        n.validate();
        FAIL("no error");
    } catch (const ValidationError& e) {
        CHECK(std::string(e.what()).find("line.650632: field 'length_km'") != std::string::npos);
    }
    n = tiny();
    n.lines[0].bus2.bus = 7;
    CHECK_THROWS_WITH_AS(n.validate(), doctest::Contains("line.650632: field 'bus2'"), ValidationError);
    n = tiny();
    n.lines[0].r_ohm_per_km.pop_back();
    CHECK_THROWS_WITH_AS(n.validate(), doctest::Contains("field 'r_ohm_per_km'"), ValidationError);
    n = tiny();
    n.vsources[0].z1_ohm = {0, 0};
    CHECK_THROWS_WITH_AS(n.validate(), doctest::Contains("vsource.source: field 'z1_ohm'"), ValidationError);
}

TEST_CASE("unetwork: apply_loadshapes_at, OpenDSS's fixed-interval rule") {
    UNetwork n = tiny();
    ULoadShape s;
    s.name = "s";
    s.npts = 4;
    s.interval_h = 0.25;  // points at 0.25, 0.5, 0.75, 1.0 h
    s.mult = {0.1, 0.2, 0.3, 0.4};
    n.loadshapes.push_back(s);
    ULoad l;
    l.name = "l";
    l.bus1 = {1, {1, 2, 3, 0}};
    l.base_kw = 10.0;
    l.base_kvar = 5.0;
    l.yearly = std::string(1, 'S');  // upper case: shape names are matched without regard to case
    n.loads.push_back(l);
    apply_loadshapes_at(n, 0.5);  // round(0.5 / 0.25) = 2 -> point 2
    CHECK(n.loads[0].kw == doctest::Approx(2.0));
    CHECK(n.loads[0].kvar == doctest::Approx(1.0));  // no qmult: the same multiplier
    apply_loadshapes_at(n, 0.0);  // 0 -> npts
    CHECK(n.loads[0].kw == doctest::Approx(4.0));
    apply_loadshapes_at(n, 1.25);  // 5 wraps to point 1
    CHECK(n.loads[0].kw == doctest::Approx(1.0));
    apply_loadshapes_at(n, 0.3);  // round(1.2) = 1
    CHECK(n.loads[0].kw == doctest::Approx(1.0));
    n.loadshapes[0].useactual = true;
    apply_loadshapes_at(n, 0.75);  // kw = 0.3, kvar at the base power factor (5/10)
    CHECK(n.loads[0].kw == doctest::Approx(0.3));
    CHECK(n.loads[0].kvar == doctest::Approx(0.15));
    n.loadshapes[0].qmult = {1, 2, 3, 4};
    apply_loadshapes_at(n, 0.75);
    CHECK(n.loads[0].kvar == doctest::Approx(3.0));
    n.loads[0].yearly = "";
    n.loads[0].daily = "nope";
    CHECK_THROWS_AS(apply_loadshapes_at(n, 1.0), IdError);
    n.loads[0].daily = "Default";  // OpenDSS's built-in loadshape.default (IEEE 34's daily=default)
    apply_loadshapes_at(n, 12.0);  // point 12 of 24: 0.989
    CHECK(n.loads[0].kw == doctest::Approx(10.0 * 0.989));
    apply_loadshapes_at(n, 0.0);  // 0 -> point 24: 0.756
    CHECK(n.loads[0].kw == doctest::Approx(10.0 * 0.756));
    ULoadShape own = s;  // a shape the script names "default" wins over the built-in
    own.name = "default";
    own.useactual = false;
    n.loadshapes.push_back(own);
    apply_loadshapes_at(n, 0.5);
    CHECK(n.loads[0].kw == doctest::Approx(2.0));
}
