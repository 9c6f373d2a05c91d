// libgrid profiles: xoshiro256** + splitmix64 + Box-Muller. See profiles/rng.hpp.
#include <libgrid/profiles/rng.hpp>

#include "detmath.hpp"

#include <algorithm>
#include <cmath>

#include "fp.hpp"  // last: no FMA contraction below (determinism)

namespace libgrid {

namespace {
constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

std::uint64_t splitmix64_next(std::uint64_t& state) {
    state += kGolden;
    return mix64(state);
}
}  // namespace

std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

std::uint64_t stream_id(std::initializer_list<std::uint64_t> keys) {
    std::uint64_t h = 0x6A09E667F3BCC909ULL;  // arbitrary non-zero start
    for (std::uint64_t k : keys) h = mix64(h ^ mix64(k + kGolden));
    return h;
}

Rng::Rng(std::uint64_t seed, std::uint64_t stream) {
    // key = hash(seed, stream); the four state words are splitmix64 outputs of the key.
    std::uint64_t sm = mix64(seed + kGolden) ^ mix64(stream ^ 0xD1B54A32D192ED03ULL);
    for (auto& w : s) w = splitmix64_next(sm);
    if ((s[0] | s[1] | s[2] | s[3]) == 0) s[0] = kGolden;  // cannot happen in practice; keep the invariant
}

std::uint64_t Rng::next() {
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::uniform(double a, double b) { return a + (b - a) * uniform(); }

double Rng::normal(double mean, double sd) { return mean + sd * normal(); }

double Rng::normal() {
    if (has_spare) {
        has_spare = false;
        return spare;
    }
    // u1 in (0, 1] so that log(u1) is finite; u2 in [0, 1).
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * detmath::log(u1));
    double sn = 0.0, cs = 0.0;
    detmath::sincos(2.0 * detmath::kPi * u2, sn, cs);
    spare = r * sn;
    has_spare = true;
    return r * cs;
}

void Rng::normals(double* out, std::size_t n) {
    std::size_t i = 0;
    if (n > 0 && has_spare) {
        out[i++] = spare;
        has_spare = false;
    }
    constexpr std::size_t kPairs = 64;
    double u1[kPairs], arg[kPairs], lg[kPairs], sn[kPairs], cs[kPairs];
    while (i < n) {
        const std::size_t pairs = std::min(kPairs, (n - i + 1) / 2);
        for (std::size_t p = 0; p < pairs; ++p) {  // the draws in normal()'s order
            u1[p] = 1.0 - uniform();
            arg[p] = 2.0 * detmath::kPi * uniform();
        }
        detmath::log_block(u1, lg, pairs);
        detmath::sincos_block(arg, sn, cs, pairs);
        for (std::size_t p = 0; p < pairs; ++p) {
            const double r = std::sqrt(-2.0 * lg[p]);
            out[i++] = r * cs[p];
            if (i < n) {
                out[i++] = r * sn[p];
            } else {
                spare = r * sn[p];
                has_spare = true;
            }
        }
    }
}

}  // namespace libgrid
