// libgrid profiles: a small, fully specified pseudo-random number generator.
//
// Same seed -> same numbers, bit for bit, on every platform and standard library: the generator is
// xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom number generators", ACM TOMS 47(4),
// 2021) seeded through splitmix64 (Steele, Lea & Flood, OOPSLA 2014); uniform() takes the top 53 bits;
// normal() is the Box-Muller transform (Box & Muller, Ann. Math. Statist. 29, 1958) computed with the
// library's own deterministic log/sin/cos. Nothing from <random> is used: its distributions are
// implementation-defined.
//
// Streams: a generator is keyed by (seed, stream). Every independent random quantity of the profiles
// layer has its own stream id, built with stream_id() from what identifies it (e.g. customer id and day),
// so adding a customer or moving a window never changes another series' numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace libgrid {

/// splitmix64 finaliser: a bijective 64-bit mixing function.
std::uint64_t mix64(std::uint64_t x);

/// Stream id from a list of keys (order matters): a hash chain of mix64.
std::uint64_t stream_id(std::initializer_list<std::uint64_t> keys);

struct Rng {
    /// Generator for stream `stream` of `seed`. Different (seed, stream) pairs give unrelated sequences.
    explicit Rng(std::uint64_t seed, std::uint64_t stream = 0);

    std::uint64_t next();  ///< next 64 raw bits (xoshiro256**)
    double uniform();      ///< uniform on [0, 1), multiples of 2^-53
    double uniform(double a, double b);  ///< uniform on [a, b)
    double normal();       ///< standard normal N(0, 1), Box-Muller (pairs; the second one is kept)
    double normal(double mean, double sd);  ///< mean + sd * N(0, 1)
    /// n standard normals into out: the numbers of n calls of normal(), bit for bit, with the
    /// logarithms and sines of a block of pairs computed a few at a time (no allocation).
    void normals(double* out, std::size_t n);

    std::uint64_t s[4] = {};  ///< xoshiro256** state (never all zero once constructed)
    double spare = 0.0;       ///< second Box-Muller variate
    bool has_spare = false;
};

}  // namespace libgrid
