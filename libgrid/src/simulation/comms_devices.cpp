// libgrid layer 7, issue 17: ToU price schedules and battery set points through the PLC channel
// (docs/comms.md "Price schedules, EV limits and battery set points through the channel").
// Pure in (seed, device, message index): a device's view is recomputed each step from the
// counter-based channel, no state is carried (same at any thread count and after a resume).
#include "comms_devices.hpp"

#include <algorithm>

namespace libgrid {
namespace {
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

bool CommsContext::peak(Receiver r, std::int64_t id, int bus, std::int64_t t, bool true_peak) const {
    CommsDevices* d = devices;
    if (!d || d->perfect) return true_peak;
    const std::int64_t day = floor_div(t, 86400);
    // day dd's schedule is sent at price_send_hour of day dd - 1; usable from the step containing
    // its arrival (arrival < t + step_s)
    const double step_end = double(t + d->step_s);
    for (std::int64_t back = 0; back <= kPriceScheduleDaysBack; ++back) {
        const std::int64_t dd = day - back;
        const double sent = double((dd - 1) * 86400) + options->price_send_hour * 3600.0;
        if (sent >= step_end) continue;
        const Delivery m = message(r, id, bus, MessageKind::PriceSchedule, dd);
        if (!m.arrived || !(sent + m.delay_s < step_end)) continue;
        if (dd == day) return true_peak;
        // stale: day dd's rule (its day type) at today's time of day
        const bool p = d->true_peak(dd * 86400 + (t - day * 86400));
        d->stale_price.fetch_add(1, std::memory_order_relaxed);
        if (p != true_peak) d->stale_price_wrong.fetch_add(1, std::memory_order_relaxed);
        return p;
    }
    // no schedule within a week: the device sees no peak
    d->stale_price.fetch_add(1, std::memory_order_relaxed);
    if (true_peak) d->stale_price_wrong.fetch_add(1, std::memory_order_relaxed);
    return false;
}

std::int64_t CommsContext::setpoint_step(Receiver r, std::int64_t id, int bus, std::int64_t k) const {
    CommsDevices* d = devices;
    if (!d || d->perfect) return k;
    // step j's set point is sent at its start; usable from the step containing its arrival
    const std::int64_t back_max = std::max<std::int64_t>(1, 86400 / d->step_s);
    for (std::int64_t j = k; j >= 0 && k - j <= back_max; --j) {
        const std::int64_t t_j = d->start + j * d->step_s;
        const Delivery m = message(r, id, bus, MessageKind::BatterySetpoint, floor_div(t_j, d->step_s));
        if (!m.arrived || !(double(j * d->step_s) + m.delay_s < double((k + 1) * d->step_s))) continue;
        if (j < k) d->setpoint_stale.fetch_add(1, std::memory_order_relaxed);
        return j;
    }
    d->setpoint_stale.fetch_add(1, std::memory_order_relaxed);
    return -1;
}

std::int64_t ev_limit_step(const CommsContext& c, Receiver r, std::int64_t id, int bus, std::int64_t k) {
    CommsDevices* d = c.devices;
    if (!d || d->perfect) return k;
    for (std::int64_t j = k; j >= 0 && k - j < kEvLimitRing; --j) {
        const Delivery m = c.message(r, id, bus, MessageKind::EvLimit, floor_div(d->start + j * d->step_s, d->step_s));
        if (!m.arrived || !(double(j * d->step_s) + m.delay_s < double((k + 1) * d->step_s))) continue;
        if (j < k) d->ev_limit_stale.fetch_add(1, std::memory_order_relaxed);
        return j;
    }
    d->ev_limit_stale.fetch_add(1, std::memory_order_relaxed);
    return -1;
}

}  // namespace libgrid
