// libgrid layer 7: the communication layer, first part (issue 17): smart-meter readings through a
// narrowband power-line-communication (PLC) channel to the utility's head-end (docs/comms.md).
//
// The channel is pure and counter-based: whether an attempt gets through and how long it takes are
// hash functions (SplitMix64 finaliser) of (seed, meter id, interval index, attempt). No shared RNG
// state: the head-end's view is the same at any thread count and after a checkpoint resume.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

namespace libgrid {

/// The PLC link from a meter to the head-end (through its data concentrator), end to end.
/// Defaults: ASSUMPTION within the ranges of published narrowband PLC (G3-PLC / PRIME) field
/// figures (docs/comms.md "Sources").
struct PlcOptions {
    double packet_loss = 0.05;        ///< probability that one attempt is lost, 0..1 (`comms.plc.packet_loss`)
    double latency_median_s = 60.0;   ///< median one-attempt latency of a delivered reading, s (>= 0)
    double latency_sigma = 1.0;       ///< lognormal sigma of the latency (>= 0; 0 = always the median)
    int retries = 2;                  ///< attempts after the first (0..20)
    double retry_s = 300.0;           ///< a retry starts this long after the attempt before it, s (>= 0)
    bool operator==(const PlcOptions&) const = default;
};

struct CommsOptions {
    bool enabled = false;             ///< false: no head-end view, the run as without comms
    PlcOptions plc;
    /// A reading that arrives more than this after its interval's end counts as missing (the
    /// head-end's billing cut-off); infinity = a reading counts whenever it arrives.
    double deadline_s = 86400.0;
    bool operator==(const CommsOptions&) const = default;
};

/// Throws ValidationError naming the field ("comms.plc.packet_loss", ...).
void validate(const CommsOptions& o);

/// The channel's hash: a SplitMix64 chain of the keys, as 64 bits.
std::uint64_t comms_hash(std::uint64_t seed, std::int64_t meter, std::int64_t interval, int attempt, std::uint64_t stream);

/// One attempt of a reading: got through or not, and its latency (s; NaN when lost).
struct Attempt {
    bool ok = false;
    double latency_s = std::numeric_limits<double>::quiet_NaN();
};
Attempt deliver(const PlcOptions& plc, std::uint64_t seed, std::int64_t meter, std::int64_t interval, int attempt);

/// A reading through the channel with its retries: whether the head-end has it in time, its delay
/// after the interval's end (s, NaN when never delivered) and the attempts made.
struct Delivery {
    bool arrived = false;   ///< some attempt got through within deadline_s
    double delay_s = std::numeric_limits<double>::quiet_NaN();
    int attempts = 0;
};
Delivery deliver_reading(const CommsOptions& o, std::uint64_t seed, std::int64_t meter, std::int64_t interval);

/// A perfect channel (no loss, zero latency): the head-end has every reading at once.
bool perfect_channel(const CommsOptions& o);

/// The estimation rule for missing intervals (docs/comms.md): in a billing month's head-end series
/// `v` of n intervals (NaN = missing), intervals_per_day a day's intervals, day_start the index of the
/// first interval of the month's first (possibly partial) day (<= 0): a missing interval takes
///   1. the same interval of the day before, when the head-end has it (not itself an estimate);
///   2. else the mean of the intervals the head-end has of that calendar day;
///   3. else 0.
/// Writes the estimated series to out (n values); returns how many intervals were estimated.
std::size_t estimate_missing(const double* v, std::size_t n, std::size_t intervals_per_day, std::int64_t day_start, double* out);

}  // namespace libgrid
