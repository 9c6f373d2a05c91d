// libgrid profiles: seeded load profiles for residential, commercial and industrial customers.
//
// A profile is daily energy x hourly shape x day-type factor x noise:
//   P(t) = E_base(d) s_base(t) + E_ac(d) s_ac(t) m_T(t)   times (1 + sd_day z_d) (1 + sd_step x(t)), clipped at 0,
// where d is the day type of the (customer-shifted) local time, s_* are hourly shapes (fractions of the
// day's energy, linear between hour midpoints, continuous across midnight), E_base + E_ac is the day's
// energy split by the day type's air-conditioning fraction, m_T an optional temperature response of the
// air conditioning, z_d a daily and x(t) a unit AR(1) (15-minute grid) normal noise. Day-type factors
// are normalised with the 2024-2027 Melaka calendar so that the long-run mean daily energy is daily_kwh.
// Values returned are mean powers over each step, kW (midpoint rule on <= 5-minute sub-intervals).
//
// Sources (docs/sources/melaka_facts.md): residential ~14.5 kWh/day of which ~3.9 kWh air conditioning, peak at
// night driven by air conditioning (Aqilah et al.); commercial buildings: air conditioning 50-60 % of
// consumption. Hourly shapes, day-type factors, noise and the temperature coefficients are stated
// assumptions (docs/profiles.md): no measured hourly Melaka profile was found.
//
// Determinism: customer c's numbers come from streams (seed, hash(class, c, day)) and (seed, hash(class,
// c)): adding customers or changing the window never changes another customer's profile.
#pragma once

#include <libgrid/profiles/calendar.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace libgrid {

enum class CustomerClass : int { Residential = 0, Commercial = 1, Industrial = 2 };
const char* to_string(CustomerClass c);
/// "residential" / "commercial" / "industrial"; throws ValidationError otherwise.
CustomerClass parse_customer_class(const std::string& s);

/// Shape and noise of one customer class. Arrays indexed by DayType (Weekday, Saturday, Sunday, Holiday).
struct LoadShapeParams {
    std::array<double, 4> day_energy_factor{};               ///< daily energy relative to a weekday (> 0)
    std::array<double, 4> ac_fraction{};                     ///< air-conditioning share of the day's energy, 0..1
    std::array<std::array<double, 24>, 4> base_shape{};      ///< hourly weights of non-AC energy, hour h = [h, h+1)
    std::array<std::array<double, 24>, 4> ac_shape{};        ///< hourly weights of AC energy (normalised internally)
    double day_sd = 0.0;              ///< sd of the daily multiplicative noise
    double step_sd = 0.0;             ///< sd of the AR(1) multiplicative noise
    double noise_tau_min = 30.0;      ///< its correlation time, minutes (> 0)
    double time_shift_max_min = 0.0;  ///< each customer's schedule is shifted by U(-max, +max) minutes
    double ac_fraction_spread = 0.0;  ///< each customer's AC fractions are multiplied by U(1 - s, 1 + s)
    double ac_temp_coeff_per_k = 0.0; ///< relative change of AC power per K above the reference cycle
};

/// The defaults of a class (values and their basis in docs/profiles.md).
const LoadShapeParams& default_load_params(CustomerClass c);
/// Throws ValidationError("LoadShapeParams: field 'x': ...") on bad values.
void validate(const LoadShapeParams& p);

/// Long-run fractions of days of each type (Weekday, Saturday, Sunday, Holiday) in Melaka, counted over
/// 2024-2027 (the years with a full holiday table). Used to normalise day_energy_factor.
const std::array<double, 4>& day_type_frequencies();

/// Reference ambient temperature cycle (degC) the AC temperature response is relative to: the smooth
/// daily cycle of the default weather model (min 22.9 at 07:00, max 31.5 at 14:30).
double reference_temperature_c(double local_time_s);

struct LoadProfile {
    std::vector<double> total_kw;  ///< mean power over each step, kW
    std::vector<double> ac_kw;     ///< of which air conditioning, kW
};

/// Load of customer `customer_id` of class `cls`: n steps of step_s (1 .. 86400) seconds from `start`,
/// kW per step. daily_kwh = long-run mean daily energy (>= 0). temp_c (optional, n values, degC,
/// interval means e.g. WeatherSeries::temp_c) makes the AC part respond to temperature. params = null:
/// the class defaults. Throws ValidationError on bad arguments.
LoadProfile load_profile_components(CustomerClass cls, LocalTime start, std::int64_t step_s, std::size_t n,
                                    std::uint64_t seed, std::uint64_t customer_id, double daily_kwh,
                                    const std::vector<double>* temp_c = nullptr, const LoadShapeParams* params = nullptr);

/// A class's parameters prepared for many customers: validated once, shapes normalised once.
struct LoadShapeTables {
    LoadShapeParams p;
    std::array<std::array<double, 24>, 4> base_frac{}, ac_frac{};  ///< shapes normalised to sum 1
    double phi = 0.0, q = 0.0;  ///< AR(1) coefficient of the 15-minute noise and sqrt(1 - phi^2)
    double norm = 0.0;          ///< sum over day types of frequency x day_energy_factor
};
/// Validates p (ValidationError as validate()) and prepares its tables.
LoadShapeTables prepare_load_shape(const LoadShapeParams& p);
/// The class defaults' tables (prepared once).
const LoadShapeTables& default_load_tables(CustomerClass c);

/// The AC temperature response's input, shared by every customer of a window: temp_c[k] minus the
/// reference cycle at step k's midpoint, for n steps of step_s from start (n values into excess_c).
void temperature_excess(LocalTime start, std::int64_t step_s, std::size_t n, const double* temp_c, double* excess_c);

/// load_profile_components into caller memory, without allocating: total_kw[k * stride] (and ac_kw[k *
/// stride] unless null) for k < n. temp_excess_c: n values from temperature_excess(), or null (no
/// temperature response). The same numbers as load_profile_components, bit for bit.
void load_profile_into(const LoadShapeTables& t, CustomerClass cls, LocalTime start, std::int64_t step_s, std::size_t n,
                       std::uint64_t seed, std::uint64_t customer_id, double daily_kwh, const double* temp_excess_c,
                       double* total_kw, double* ac_kw, std::size_t stride = 1);

/// Total power only (see load_profile_components).
std::vector<double> load_profile(CustomerClass cls, LocalTime start, std::int64_t step_s, std::size_t n,
                                 std::uint64_t seed, std::uint64_t customer_id, double daily_kwh,
                                 const std::vector<double>* temp_c = nullptr);

}  // namespace libgrid
