// The block forms of the deterministic maths (detmath::log_block, sincos_block) and the batched normal
// deviates (Rng::normals) give the scalar functions' values bit for bit.
#include <doctest/doctest.h>

#include <libgrid/profiles/calendar.hpp>
#include <libgrid/profiles/load_profiles.hpp>
#include <libgrid/profiles/rng.hpp>

#include "../../../libgrid/src/profiles/detmath.hpp"

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

using namespace libgrid;

namespace {
std::uint64_t bits(double x) {
    std::uint64_t b = 0;
    std::memcpy(&b, &x, sizeof b);
    return b;
}
}  // namespace

TEST_CASE("detmath: log_block is the scalar log, bit for bit") {
    Rng rng(7, 1);
    std::vector<double> x;
    for (int i = 0; i < 20000; ++i) x.push_back(1.0 - rng.uniform());  // Box-Muller's u1 in (0, 1]
    for (int i = 0; i < 2000; ++i) x.push_back(std::ldexp(0.5 + rng.uniform(), int(rng.next() % 2000) - 1000));
    // edges, and values outside the block domain (scalar path) in the middle of a block
    for (double v : {1.0, 0.5, 0.70710678118654752440, 0.7071067811865476, 2.0, 0x1.0p-53, 0x1.0p-1022, 1e-310, 0.0, -1.0,
                     std::numeric_limits<double>::infinity(), std::numeric_limits<double>::quiet_NaN(), 1e300})
        x.push_back(v);
    for (auto* block : {&detmath::log_block, &detmath::log_block_2}) {  // as dispatched (AVX2 here), and SSE2
        std::vector<double> y(x.size());
        block(x.data(), y.data(), x.size());
        std::size_t differ = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            const double ref = detmath::log(x[i]);
            differ += std::isnan(ref) ? !std::isnan(y[i]) : bits(ref) != bits(y[i]);
        }
        CHECK(differ == 0);
    }
}

TEST_CASE("detmath: sincos_block is the scalar sincos, bit for bit") {
    Rng rng(7, 2);
    std::vector<double> x;
    for (int i = 0; i < 20000; ++i) x.push_back(2.0 * detmath::kPi * rng.uniform());  // Box-Muller's angle
    for (int i = 0; i < 2000; ++i) x.push_back(rng.uniform() * 1e6);
    for (double v : {0.0, detmath::kPi / 4, detmath::kPi / 2, detmath::kPi, 1e6, 2e6, -1.0, -0.0, 1e-300})
        x.push_back(v);
    for (auto* block : {&detmath::sincos_block, &detmath::sincos_block_2}) {
        std::vector<double> s(x.size()), c(x.size());
        block(x.data(), s.data(), c.data(), x.size());
        std::size_t differ = 0;
        for (std::size_t i = 0; i < x.size(); ++i) {
            double rs = 0.0, rc = 0.0;
            detmath::sincos(x[i], rs, rc);
            differ += bits(rs) != bits(s[i]) || bits(rc) != bits(c[i]);
        }
        CHECK(differ == 0);
    }
}

TEST_CASE("rng: normals() gives the numbers of as many normal() calls") {
    for (std::size_t n : {0u, 1u, 2u, 7u, 98u, 129u, 1000u}) {
        Rng a(42, n), b(42, n);
        (void)a.normal();  // start with a spare pending in both
        (void)b.normal();
        std::vector<double> got(n);
        a.normals(got.data(), n);
        std::size_t differ = 0;
        for (std::size_t i = 0; i < n; ++i) differ += bits(got[i]) != bits(b.normal());
        CHECK(differ == 0);
        CHECK(bits(a.normal()) == bits(b.normal()));  // and the same state after
    }
}

TEST_CASE("load profiles: load_profile_into in strided blocks = load_profile_components, bit for bit") {
    // the engine's pattern: a steps x customers block, 17 steps at a time, temperatures as an excess
    const LocalTime start = from_civil(2025, 1, 1) + 3600;
    const std::size_t n = 3 * 96, block = 17, customers = 5;
    std::vector<double> temp(n);
    for (std::size_t k = 0; k < n; ++k) temp[k] = 27.0 + 4.0 * std::sin(double(k) / 15.0);
    std::vector<double> excess(n), kw(n * customers), ac(n * customers);
    temperature_excess(start, 900, n, temp.data(), excess.data());
    std::size_t differ = 0;
    for (std::size_t c = 0; c < customers; ++c) {
        const CustomerClass cls = CustomerClass(c % 3);
        for (std::size_t k0 = 0; k0 < n; k0 += block)
            load_profile_into(default_load_tables(cls), cls, start + std::int64_t(k0) * 900, 900, std::min(block, n - k0), 9, 100 + c, 12.0,
                              excess.data() + k0, kw.data() + k0 * customers + c, ac.data() + k0 * customers + c, customers);
        const LoadProfile ref = load_profile_components(cls, start, 900, n, 9, 100 + c, 12.0, &temp);
        for (std::size_t k = 0; k < n; ++k)
            differ += bits(ref.total_kw[k]) != bits(kw[k * customers + c]) || bits(ref.ac_kw[k]) != bits(ac[k * customers + c]);
    }
    CHECK(differ == 0);
}
