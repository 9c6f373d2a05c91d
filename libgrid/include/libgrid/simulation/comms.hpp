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
#include <vector>

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
    /// The reach of one PLC hop along the LV feeder, m: a node `d` metres of line from its
    /// concentrator (the LV side of its distribution transformer) is plc_hops() = 1 + floor(d /
    /// hop_length_m) hops away. 0 = every node one hop (packet_loss is then end to end).
    /// packet_loss and latency_median_s are per hop (`comms.plc.hop_length_m`).
    double hop_length_m = 0.0;
    /// Bandwidth: messages a data concentrator passes per second (`comms.plc.concentrator_rate_per_s`);
    /// readings beyond it queue (FIFO by arrival, then meter id). Infinity = no queue.
    double concentrator_rate_per_s = std::numeric_limits<double>::infinity();
    bool operator==(const PlcOptions&) const = default;
};

struct CommsOptions {
    bool enabled = false;             ///< false: no head-end view, the run as without comms
    PlcOptions plc;
    /// A reading that arrives more than this after its interval's end counts as missing (the
    /// head-end's billing cut-off); infinity = a reading counts whenever it arrives.
    double deadline_s = 86400.0;
    /// The head-end broadcasts day d's ToU price schedule at this local hour of day d - 1 (0..24;
    /// `comms.price_send_hour`; docs/comms.md "Price schedules, EV limits and battery set points").
    double price_send_hour = 18.0;
    bool operator==(const CommsOptions&) const = default;
};

/// Throws ValidationError naming the field ("comms.plc.packet_loss", ...).
void validate(const CommsOptions& o);

/// The channel's hash: a SplitMix64 chain of the keys, as 64 bits.
std::uint64_t comms_hash(std::uint64_t seed, std::int64_t meter, std::int64_t interval, int attempt, std::uint64_t stream);

/// Hops from a node `distance_m` metres of line from its concentrator (>= 1; see hop_length_m).
int plc_hops(const PlcOptions& plc, double distance_m);

/// One attempt of a reading: got through or not, and its latency (s; NaN when lost).
/// Over `hops` hops: lost with probability 1 - (1 - packet_loss)^hops, latency hops x the one-hop
/// lognormal draw. `stream_base` separates the channel's uses (0: meter readings; messages to
/// devices use message_stream()).
struct Attempt {
    bool ok = false;
    double latency_s = std::numeric_limits<double>::quiet_NaN();
};
Attempt deliver(const PlcOptions& plc, std::uint64_t seed, std::int64_t meter, std::int64_t interval, int attempt, int hops = 1,
                std::uint64_t stream_base = 0);

/// A reading through the channel with its retries: whether the head-end has it in time, its delay
/// after the interval's end (s, NaN when never delivered) and the attempts made.
struct Delivery {
    bool arrived = false;   ///< some attempt got through within deadline_s
    double delay_s = std::numeric_limits<double>::quiet_NaN();
    int attempts = 0;
};
Delivery deliver_reading(const CommsOptions& o, std::uint64_t seed, std::int64_t meter, std::int64_t interval, int hops = 1);

/// Messages from the head-end to devices (downlink, docs/comms.md "Messages to devices"). Each kind
/// has its own random streams, so a DR event and a price update to the same device are independent.
enum class MessageKind : int {
    DemandResponse = 1,   ///< a DR event (index: the event's start, s local)
    PriceSchedule = 2,    ///< the day's ToU price schedule, sent day-ahead (index: the day, t / 86400)
    EvLimit = 3,          ///< a grid_aware aggregator's charging limit (index: the step's start / step_s)
    BatterySetpoint = 4,  ///< a scheduled battery's set point (index: the step's start / step_s)
};
/// Receiver classes: a device's key is (class, id), so equal ids in different groups differ.
enum class Receiver : int { Meter = 0, Building = 1, Home = 2, EvStation = 3, EvSite = 4, Battery = 5 };

/// The stream base of a message kind (distinct from the readings' 0..2).
std::uint64_t message_stream(MessageKind kind);

/// A message sent at some time to one device through the channel with its retries: arrived (some
/// attempt got through; no deadline: a device acts on a message whenever it comes) and its delay
/// after sending (s, NaN when never). Pure in (seed, receiver, id, kind, index): no state.
Delivery deliver_message(const CommsOptions& o, std::uint64_t seed, Receiver receiver, std::int64_t id, MessageKind kind,
                         std::int64_t index, int hops = 1);

/// Where the PLC networks are: one concentrator per distribution transformer (its LV bus), every
/// bus fed through it belongs to it, at plc_hops() of its line distance. Buses not below a
/// distribution transformer (MV, the slack's own LV network) get the concentrator of the feeder's
/// source (index 0 when none) and 1 hop.
struct CommsTopology {
    std::vector<int> bus_hops;             ///< per bus index, >= 1
    std::vector<int> bus_concentrator;     ///< per bus index, index into concentrator_id
    std::vector<std::int64_t> concentrator_id;  ///< the transformer's id (or -1 for the source's)
};

/// The engine's side of the messages to devices (src/simulation/comms_devices.hpp): the true ToU
/// rule, the run's clock and the stale-step counters.
struct CommsDevices;

/// The context device groups read messages through (StepContext::comms; nullptr = no comms: every
/// message arrives at once, as before issue 17).
struct CommsContext {
    const CommsOptions* options = nullptr;
    std::uint64_t seed = 0;
    const CommsTopology* topology = nullptr;
    /// Hops of bus index `bus` (1 when unknown).
    int hops(int bus) const {
        return topology && bus >= 0 && std::size_t(bus) < topology->bus_hops.size() ? topology->bus_hops[std::size_t(bus)] : 1;
    }
    Delivery message(Receiver r, std::int64_t id, int bus, MessageKind kind, std::int64_t index) const {
        return deliver_message(*options, seed, r, id, kind, index, hops(bus));
    }
    CommsDevices* devices = nullptr;  ///< set by the engine (nullptr: price and set points as sent)
    /// The ToU peak flag device (r, id) at bus index `bus` acts on in the step starting at local
    /// time t: the true flag `true_peak` when it has day t's schedule, else the flag of the newest
    /// day's schedule it has (that day's day type at t's time of day), false when it has none
    /// (comms_devices.cpp; counts stale_price_steps).
    bool peak(Receiver r, std::int64_t id, int bus, std::int64_t t, bool true_peak) const;
    /// The run step (0-based) whose set point a scheduled battery uses in step k: the newest one
    /// that has arrived (-1: none within a day: the battery idles; counts battery_setpoint_stale_steps).
    std::int64_t setpoint_step(Receiver r, std::int64_t id, int bus, std::int64_t k) const;
};

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
