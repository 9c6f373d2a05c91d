// libgrid layer 7: the PLC channel and the head-end's estimation rule (simulation/comms.hpp).
#include <libgrid/simulation/comms.hpp>

#include <libgrid/core/errors.hpp>
#include <libgrid/profiles/rng.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace libgrid {

void validate(const CommsOptions& o) {
    const PlcOptions& p = o.plc;
    auto bad = [](const char* field, const std::string& what) { throw ValidationError(std::string("comms: field '") + field + "': " + what); };
    if (!(p.packet_loss >= 0.0 && p.packet_loss <= 1.0)) bad("comms.plc.packet_loss", "must be in 0 .. 1, got " + std::to_string(p.packet_loss));
    if (!(p.latency_median_s >= 0.0) || !std::isfinite(p.latency_median_s)) bad("comms.plc.latency_median_s", "must be a finite number >= 0");
    if (!(p.latency_sigma >= 0.0 && p.latency_sigma <= 5.0)) bad("comms.plc.latency_sigma", "must be in 0 .. 5");
    if (p.retries < 0 || p.retries > 20) bad("comms.plc.retries", "must be in 0 .. 20, got " + std::to_string(p.retries));
    if (!(p.retry_s >= 0.0) || !std::isfinite(p.retry_s)) bad("comms.plc.retry_s", "must be a finite number >= 0");
    if (!(p.hop_length_m >= 0.0) || !std::isfinite(p.hop_length_m)) bad("comms.plc.hop_length_m", "must be a finite number >= 0 (0 = one hop)");
    if (!(p.concentrator_rate_per_s > 0.0)) bad("comms.plc.concentrator_rate_per_s", "must be > 0 (or infinite)");
    if (!(o.deadline_s >= 0.0)) bad("comms.deadline_s", "must be >= 0 (or infinite)");
    if (!(o.price_send_hour >= 0.0 && o.price_send_hour <= 24.0)) bad("comms.price_send_hour", "must be in 0 .. 24 (the hour of the day before)");
}

std::uint64_t comms_hash(std::uint64_t seed, std::int64_t meter, std::int64_t interval, int attempt, std::uint64_t stream) {
    // a SplitMix64 chain: each key is added to the state with the golden-ratio increment and mixed
    std::uint64_t h = mix64(seed + 0x9E3779B97F4A7C15ULL * 0x636f6d6dULL);  // "comm"
    h = mix64(h + 0x9E3779B97F4A7C15ULL + std::uint64_t(meter));
    h = mix64(h + 0x9E3779B97F4A7C15ULL + std::uint64_t(interval));
    h = mix64(h + 0x9E3779B97F4A7C15ULL + std::uint64_t(std::int64_t(attempt)));
    return mix64(h + 0x9E3779B97F4A7C15ULL + stream);
}

namespace {
/// Uniform on (0, 1) from 53 bits of the hash (never 0: log is finite).
double unit(std::uint64_t h) { return (double(h >> 11) + 0.5) * 0x1.0p-53; }
}  // namespace

int plc_hops(const PlcOptions& plc, double distance_m) {
    if (!(plc.hop_length_m > 0.0) || !(distance_m > 0.0)) return 1;
    const double h = std::floor(distance_m / plc.hop_length_m);
    return h >= 1000.0 ? 1001 : 1 + int(h);
}

Attempt deliver(const PlcOptions& plc, std::uint64_t seed, std::int64_t meter, std::int64_t interval, int attempt, int hops,
                std::uint64_t stream_base) {
    Attempt a;
    if (hops < 1) hops = 1;
    // one hop: lost with packet_loss (the draw compared as before issue 17's hops, bit for bit)
    const double loss = hops == 1 ? plc.packet_loss : 1.0 - std::pow(1.0 - plc.packet_loss, double(hops));
    if (loss > 0.0 && unit(comms_hash(seed, meter, interval, attempt, stream_base + 0)) < loss) return a;
    a.ok = true;
    const double median = plc.latency_median_s * double(hops);
    if (plc.latency_sigma == 0.0 || median == 0.0) {
        a.latency_s = median;
        return a;
    }
    // lognormal: median exp(sigma z), z standard normal (Box-Muller from two hashes)
    const double u1 = unit(comms_hash(seed, meter, interval, attempt, stream_base + 1)),
                 u2 = unit(comms_hash(seed, meter, interval, attempt, stream_base + 2));
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
    a.latency_s = median * std::exp(plc.latency_sigma * z);
    return a;
}

std::uint64_t message_stream(MessageKind kind) { return 16ULL * std::uint64_t(int(kind)); }

Delivery deliver_message(const CommsOptions& o, std::uint64_t seed, Receiver receiver, std::int64_t id, MessageKind kind,
                         std::int64_t index, int hops) {
    // the receiver's key: (class, id) folded into one 64-bit value (unsigned: wraps, never UB)
    const std::int64_t key = std::int64_t(mix64(std::uint64_t(id) + 0x9E3779B97F4A7C15ULL * (std::uint64_t(int(receiver)) + 1)));
    Delivery d;
    for (int k = 0; k <= o.plc.retries; ++k) {
        d.attempts = k + 1;
        const Attempt a = deliver(o.plc, seed, key, index, k, hops, message_stream(kind));
        if (!a.ok) continue;
        d.delay_s = double(k) * o.plc.retry_s + a.latency_s;
        d.arrived = true;
        return d;
    }
    return d;
}

Delivery deliver_reading(const CommsOptions& o, std::uint64_t seed, std::int64_t meter, std::int64_t interval, int hops) {
    Delivery d;
    for (int k = 0; k <= o.plc.retries; ++k) {
        d.attempts = k + 1;
        const Attempt a = deliver(o.plc, seed, meter, interval, k, hops);
        if (!a.ok) continue;
        const double delay = double(k) * o.plc.retry_s + a.latency_s;
        d.delay_s = delay;
        d.arrived = delay <= o.deadline_s;
        return d;
    }
    return d;
}

bool perfect_channel(const CommsOptions& o) { return o.plc.packet_loss == 0.0 && o.plc.latency_median_s == 0.0; }

std::size_t estimate_missing(const double* v, std::size_t n, std::size_t per_day, std::int64_t day_start, double* out) {
    std::size_t estimated = 0;
    if (per_day == 0) per_day = 1;
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isnan(v[i])) {
            out[i] = v[i];
            continue;
        }
        ++estimated;
        if (i >= per_day && !std::isnan(v[i - per_day])) {  // 1. the same interval the day before
            out[i] = v[i - per_day];
            continue;
        }
        // 2. the mean of what the head-end has of this calendar day
        const std::int64_t rel = std::int64_t(i) - day_start;
        const std::int64_t d0 = day_start + (rel / std::int64_t(per_day)) * std::int64_t(per_day);
        const std::size_t lo = std::size_t(std::max<std::int64_t>(d0, 0));
        const std::size_t hi = std::min<std::size_t>(std::size_t(d0 + std::int64_t(per_day)), n);
        double s = 0.0;
        std::size_t m = 0;
        for (std::size_t j = lo; j < hi; ++j)
            if (!std::isnan(v[j])) {
                s += v[j];
                ++m;
            }
        out[i] = m > 0 ? s / double(m) : 0.0;  // 3. else 0
    }
    return estimated;
}

}  // namespace libgrid
