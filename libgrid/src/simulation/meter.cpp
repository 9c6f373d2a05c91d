// libgrid layer 7: smart meters (see simulation/meter.hpp for the netting and interval rules).
#include "libgrid/simulation/meter.hpp"

#include <cmath>
#include <string>

#include "libgrid/core/errors.hpp"

namespace libgrid {

namespace {

constexpr double kSecondsPerHour = 3600.0;

[[noreturn]] void fail(const char* component, const char* field, const std::string& message) {
    throw ValidationError(std::string(component) + ": field '" + field + "': " + message);
}

std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
    const std::int64_t r = a % b;
    return r < 0 ? r + b : r;
}

// Checks the time grid shared by SmartMeter and MeterTable; returns steps per interval.
std::size_t check_grid(const char* component, std::int64_t start, std::int64_t sim_step_s,
                       std::int64_t interval_s) {
    if (sim_step_s <= 0)
        fail(component, "sim_step_s", "must be > 0 s, got " + std::to_string(sim_step_s));
    if (interval_s <= 0)
        fail(component, "interval_s", "must be > 0 s, got " + std::to_string(interval_s));
    if (sim_step_s > interval_s)
        fail(component, "sim_step_s",
             "simulation step " + std::to_string(sim_step_s) + " s is longer than the metering interval " +
                 std::to_string(interval_s) +
                 " s; a meter cannot split one step's energy between intervals: use a step <= the interval");
    if (interval_s % sim_step_s != 0)
        fail(component, "interval_s",
             "metering interval " + std::to_string(interval_s) + " s is not a whole multiple of the simulation step " +
                 std::to_string(sim_step_s) + " s");
    if (3600 % interval_s != 0)
        fail(component, "interval_s",
             "metering interval " + std::to_string(interval_s) +
                 " s must divide one hour (3600 s), e.g. 900 or 1800, so intervals align with the clock");
    if (floor_mod(start, interval_s) != 0)
        fail(component, "start",
             "start " + std::to_string(start) + " s (local) is not aligned with the clock: it must be a multiple of interval_s = " +
                 std::to_string(interval_s) + " s");
    return static_cast<std::size_t>(interval_s / sim_step_s);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// SmartMeter

SmartMeter::SmartMeter(std::int64_t start, std::int64_t sim_step_s, std::int64_t interval_s,
                       std::size_t reserve_steps)
    : start_(start), sim_step_s_(sim_step_s), interval_s_(interval_s),
      steps_per_interval_(check_grid("SmartMeter", start, sim_step_s, interval_s)) {
    const std::size_t n = (reserve_steps + steps_per_interval_ - 1) / steps_per_interval_;
    import_kwh_.reserve(n);
    export_kwh_.reserve(n);
}

void SmartMeter::add(double p_import_kw) {
    if (!std::isfinite(p_import_kw))
        fail("SmartMeter", "p_import_kw",
             "not finite (" + std::to_string(p_import_kw) + ") at step " + std::to_string(steps_) + ", t = " +
                 std::to_string(start_ + static_cast<std::int64_t>(steps_) * sim_step_s_) + " s");
    const std::size_t k = steps_ / steps_per_interval_;
    if (k == import_kwh_.size()) {
        import_kwh_.push_back(0.0);
        export_kwh_.push_back(0.0);
    }
    const double dt_h = static_cast<double>(sim_step_s_) / kSecondsPerHour;  // same arithmetic as MeterTable
    const double e_kwh = p_import_kw * dt_h;
    if (e_kwh > 0.0)
        import_kwh_[k] += e_kwh;
    else
        export_kwh_[k] -= e_kwh;
    ++steps_;
}

bool SmartMeter::last_interval_complete() const noexcept {
    return steps_ % steps_per_interval_ == 0;
}

// ---------------------------------------------------------------------------------------------
// MeterTable

MeterTable::MeterTable(std::size_t n_customers, std::int64_t start, std::int64_t sim_step_s,
                       std::int64_t interval_s, std::size_t horizon_steps)
    : n_customers_(n_customers), start_(start), sim_step_s_(sim_step_s), interval_s_(interval_s),
      horizon_steps_(horizon_steps),
      steps_per_interval_(check_grid("MeterTable", start, sim_step_s, interval_s)),
      n_intervals_((horizon_steps + steps_per_interval_ - 1) / steps_per_interval_),
      import_kwh_(n_customers * n_intervals_, 0.0),
      export_kwh_(n_customers * n_intervals_, 0.0) {}

void MeterTable::add_step(const double* net_kw, std::size_t n_customers) {
    if (n_customers != n_customers_)
        fail("MeterTable", "n_customers",
             "add_step got " + std::to_string(n_customers) + " values, the table has " +
                 std::to_string(n_customers_) + " customers");
    if (steps_ >= horizon_steps_)
        fail("MeterTable", "horizon_steps",
             "horizon of " + std::to_string(horizon_steps_) + " steps exhausted: size the table for the whole run");
    if (n_customers_ > 0 && net_kw == nullptr) fail("MeterTable", "net_kw", "null pointer");
    const std::int64_t t = start_ + static_cast<std::int64_t>(steps_) * sim_step_s_;
    for (std::size_t c = 0; c < n_customers_; ++c)
        if (!std::isfinite(net_kw[c]))
            fail("MeterTable", ("net_kw[" + std::to_string(c) + "]").c_str(),
                 "customer " + std::to_string(c) + ": not finite (" + std::to_string(net_kw[c]) + ") at step " +
                     std::to_string(steps_) + ", t = " + std::to_string(t) + " s");

    const std::size_t k = steps_ / steps_per_interval_;
    const double dt_h = static_cast<double>(sim_step_s_) / kSecondsPerHour;
    for (std::size_t c = 0; c < n_customers_; ++c) {
        const double e_kwh = net_kw[c] * dt_h;
        const std::size_t i = c * n_intervals_ + k;
        if (e_kwh > 0.0)
            import_kwh_[i] += e_kwh;
        else
            export_kwh_[i] -= e_kwh;
    }
    ++steps_;
}

const double* MeterTable::import_kwh(std::size_t c) const {
    if (c >= n_customers_)
        fail("MeterTable", "customer",
             "index " + std::to_string(c) + " out of range (" + std::to_string(n_customers_) + " customers)");
    return import_kwh_.data() + c * n_intervals_;
}

const double* MeterTable::export_kwh(std::size_t c) const {
    if (c >= n_customers_)
        fail("MeterTable", "customer",
             "index " + std::to_string(c) + " out of range (" + std::to_string(n_customers_) + " customers)");
    return export_kwh_.data() + c * n_intervals_;
}

}  // namespace libgrid
