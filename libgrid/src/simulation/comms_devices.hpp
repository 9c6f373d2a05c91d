// libgrid layer 7, issue 17: messages from the head-end to devices, the engine's side
// (docs/comms.md "Price schedules, EV limits and battery set points through the channel").
#pragma once

#include <libgrid/simulation/comms.hpp>

#include <atomic>
#include <cstdint>
#include <functional>

namespace libgrid {

/// What CommsContext::peak and ::setpoint_step need from the run. Set by the engine when comms is
/// enabled; the counters are atomics (integer sums: the same at any thread count) that the engine
/// moves into its SimulationSummary each step (drain()).
struct CommsDevices {
    bool perfect = false;                          ///< perfect channel: every message as sent (no work)
    std::function<bool(std::int64_t)> true_peak;   ///< the tariff's peak flag at a local time
    std::int64_t start = 0;                        ///< the run's first step, local s
    std::int64_t step_s = 900;
    std::atomic<std::int64_t> stale_price{0}, stale_price_wrong{0}, setpoint_stale{0}, ev_limit_stale{0};
    /// Forgets this step's counts (an islanded step run again).
    void reset() { stale_price = 0; stale_price_wrong = 0; setpoint_stale = 0; ev_limit_stale = 0; }
    /// Adds the counts so far to the three summary counters and zeroes them.
    void drain(std::size_t& stale_price_steps, std::size_t& stale_price_wrong_steps, std::size_t& setpoint_stale_steps,
               std::size_t& ev_limit_stale_steps) {
        ev_limit_stale_steps += std::size_t(ev_limit_stale.exchange(0));
        stale_price_steps += std::size_t(stale_price.exchange(0));
        stale_price_wrong_steps += std::size_t(stale_price_wrong.exchange(0));
        setpoint_stale_steps += std::size_t(setpoint_stale.exchange(0));
    }
};

/// Steps of limits a grid_aware station's aggregator keeps (a limit later than this never counts).
inline constexpr int kEvLimitRing = 16;

/// EV limits through the channel: the step j (k - kEvLimitRing < j <= k, j >= 0) whose limit the
/// grid_aware station (r, id) uses in step k: the newest one sent (at its step's start) that has
/// arrived by the end of step k; -1 when none of them has. Counts ev_limit_stale_steps when j != k.
/// With a perfect channel (or no devices context) k.
std::int64_t ev_limit_step(const CommsContext& c, Receiver r, std::int64_t id, int bus, std::int64_t k);

/// Days a device looks back for a price schedule it has (older: none: no peak).
inline constexpr std::int64_t kPriceScheduleDaysBack = 7;

}  // namespace libgrid
