// libgrid layer 7 (economics): smart meters. Interval energy imported and exported per customer.
//
// Time: int64_t seconds since 1970-01-01T00:00 in LOCAL Melaka time (UTC+8, no DST).
// Melaka's smart meters (TNB pilot, about 300,000 installed 2016-2018; source
// docs/sources/melaka_facts.md, "Grid") record interval energy; libgrid meters integrate the
// simulated net power of each customer into clock-aligned intervals (typically 15 or 30 minutes).
//
// Netting rule: import and export are netted within ONE simulation step only. A step's mean net
// power P (kW, positive = import) adds P*dt to the interval's import if P > 0, else -P*dt to its
// export. Two steps of opposite sign in the same interval are NOT netted against each other, so
// sum(import) - sum(export) == sum(P*dt) (energy is conserved) while import and export stay gross.
//
// Interval rules (checked, ValidationError naming the field):
//   sim_step_s > 0; interval_s >= sim_step_s; interval_s a whole multiple of sim_step_s;
//   3600 % interval_s == 0 (a whole number of intervals per hour, so intervals never straddle an
//   hour, a ToU boundary or a month); start % interval_s == 0 (intervals aligned with the clock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace libgrid {

/// One customer's smart meter.
class SmartMeter {
public:
    /// start: local time of the first step (s, aligned to interval_s); sim_step_s: simulation step (s);
    /// interval_s: metering interval (s, 900 or 1800 for TNB smart meters, any divisor of 3600 that is
    /// a multiple of sim_step_s); reserve_steps: expected number of steps (pre-allocates, 0 = grow).
    SmartMeter(std::int64_t start, std::int64_t sim_step_s, std::int64_t interval_s,
               std::size_t reserve_steps = 0);

    /// Add one simulation step: the customer's mean net power over the step, kW, positive = import.
    /// Throws ValidationError (field 'p_import_kw') if it is not finite.
    void add(double p_import_kw);

    std::int64_t start() const noexcept { return start_; }            ///< s, local
    std::int64_t sim_step_s() const noexcept { return sim_step_s_; }  ///< s
    std::int64_t interval_s() const noexcept { return interval_s_; }  ///< s
    std::size_t steps() const noexcept { return steps_; }             ///< steps added so far
    /// Intervals touched so far (the last one may be incomplete, see last_interval_complete()).
    std::size_t n_intervals() const noexcept { return import_kwh_.size(); }
    bool last_interval_complete() const noexcept;
    /// Local start time of interval k, s.
    std::int64_t interval_start(std::size_t k) const noexcept {
        return start_ + static_cast<std::int64_t>(k) * interval_s_;
    }
    const std::vector<double>& import_kwh() const noexcept { return import_kwh_; }  ///< kWh per interval, >= 0
    const std::vector<double>& export_kwh() const noexcept { return export_kwh_; }  ///< kWh per interval, >= 0

private:
    std::int64_t start_;
    std::int64_t sim_step_s_;
    std::int64_t interval_s_;
    std::size_t steps_per_interval_;
    std::size_t steps_ = 0;
    std::vector<double> import_kwh_;
    std::vector<double> export_kwh_;
};

/// Smart meters of many customers, stored flat and pre-sized for the horizon.
///
/// Layout: customer-major (row-major customers x intervals): the energy of customer c in interval k
/// is at [c * n_intervals() + k], so each customer's series is contiguous (import_kwh(c) can go straight
/// to monthly_bills() and co2_tonnes_from_kwh()). As a numpy array it is shape (n_customers, n_intervals)
/// in C order; a pandas table with time down the rows is its transpose.
class MeterTable {
public:
    /// horizon_steps: number of simulation steps the run will add (storage for
    /// ceil(horizon_steps / (interval_s / sim_step_s)) intervals is allocated here, once).
    MeterTable(std::size_t n_customers, std::int64_t start, std::int64_t sim_step_s,
               std::int64_t interval_s, std::size_t horizon_steps);

    /// Add one simulation step: net_kw[c] is customer c's mean net power over the step, kW, positive =
    /// import. Allocates nothing. Checks every value before changing anything, so a throw leaves the
    /// table as it was. Throws ValidationError if n_customers differs from the table's (field
    /// 'n_customers'), the horizon is exhausted (field 'horizon_steps') or a value is not finite
    /// (field 'net_kw[c]').
    void add_step(const double* net_kw, std::size_t n_customers);

    std::size_t n_customers() const noexcept { return n_customers_; }
    std::size_t n_intervals() const noexcept { return n_intervals_; }  ///< allocated for the horizon
    std::size_t horizon_steps() const noexcept { return horizon_steps_; }
    std::size_t steps() const noexcept { return steps_; }              ///< steps added so far
    std::int64_t start() const noexcept { return start_; }
    std::int64_t sim_step_s() const noexcept { return sim_step_s_; }
    std::int64_t interval_s() const noexcept { return interval_s_; }
    std::int64_t interval_start(std::size_t k) const noexcept {
        return start_ + static_cast<std::int64_t>(k) * interval_s_;
    }
    /// Customer c's interval series, n_intervals() values, kWh >= 0 (intervals not reached yet are 0).
    /// c must be < n_customers() (checked: ValidationError, field 'customer').
    const double* import_kwh(std::size_t c) const;
    const double* export_kwh(std::size_t c) const;
    /// The whole flat tables (customer-major, see the class comment).
    const std::vector<double>& import_kwh() const noexcept { return import_kwh_; }
    const std::vector<double>& export_kwh() const noexcept { return export_kwh_; }

private:
    std::size_t n_customers_;
    std::int64_t start_;
    std::int64_t sim_step_s_;
    std::int64_t interval_s_;
    std::size_t horizon_steps_;
    std::size_t steps_per_interval_;
    std::size_t n_intervals_;
    std::size_t steps_ = 0;
    std::vector<double> import_kwh_;
    std::vector<double> export_kwh_;
};

}  // namespace libgrid
