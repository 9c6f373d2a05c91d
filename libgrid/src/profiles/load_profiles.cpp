// libgrid profiles: seeded residential / commercial / industrial load profiles. Model in
// profiles/load_profiles.hpp, default values and their basis in docs/profiles.md.
#include <libgrid/profiles/load_profiles.hpp>

#include <libgrid/core/errors.hpp>
#include <libgrid/profiles/rng.hpp>
#include <libgrid/profiles/weather.hpp>

#include "detmath.hpp"

#include <algorithm>
#include <cmath>

#include "fp.hpp"  // last: no FMA contraction below (determinism)

namespace libgrid {

namespace dm = detmath;

namespace {

constexpr std::uint64_t kLoadStreamTag = 0x4C4F414450524F46ULL;  // "LOADPROF"
constexpr std::uint64_t kCustomerTag = 0xC0570E5ULL;
constexpr double kNoiseGridS = 900.0;  // grid of the AR(1) noise, s
constexpr int kNoisePoints = 97;       // 00:00 .. 24:00 inclusive
constexpr double kSubStepS = 300.0;    // longest sub-interval of the midpoint rule, s

using Hours = std::array<double, 24>;

// ---- default shapes (hourly weights; hour h covers [h, h+1) local time) -----------------------------
// Residential: evening peak of lighting / cooking / TV, air conditioning in the bedrooms from ~21:00 to
// ~06:00 (melaka.md: peak at night driven by air conditioning); weekends: later mornings, daytime use.
constexpr Hours kResBaseWeekday = {0.40, 0.34, 0.32, 0.31, 0.33, 0.50, 0.80, 0.78, 0.55, 0.45, 0.45, 0.50,
                                   0.60, 0.55, 0.50, 0.50, 0.60, 0.80, 1.05, 1.20, 1.25, 1.15, 0.95, 0.65};
constexpr Hours kResBaseWeekend = {0.45, 0.38, 0.34, 0.32, 0.32, 0.38, 0.52, 0.72, 0.88, 0.92, 0.88, 0.88,
                                   0.92, 0.82, 0.78, 0.72, 0.78, 0.88, 1.05, 1.18, 1.22, 1.12, 0.95, 0.70};
constexpr Hours kResAcWeekday = {1.00, 1.00, 0.95, 0.90, 0.85, 0.70, 0.30, 0.08, 0.03, 0.02, 0.02, 0.03,
                                 0.05, 0.06, 0.06, 0.06, 0.06, 0.08, 0.12, 0.30, 0.60, 0.90, 1.00, 1.00};
constexpr Hours kResAcWeekend = {1.00, 1.00, 0.95, 0.90, 0.85, 0.75, 0.45, 0.20, 0.12, 0.12, 0.18, 0.22,
                                 0.28, 0.32, 0.32, 0.28, 0.22, 0.18, 0.22, 0.40, 0.65, 0.90, 1.00, 1.00};
// Commercial (office building): office hours 08:00-18:00 on weekdays with pre-cooling from 07:00, a
// half day on Saturday, standby (servers, security, lifts) otherwise.
constexpr Hours kComBaseWeekday = {0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.30, 0.55, 0.90, 1.00, 1.00, 1.00,
                                   0.90, 0.95, 1.00, 1.00, 1.00, 0.85, 0.60, 0.45, 0.38, 0.32, 0.28, 0.28};
constexpr Hours kComAcWeekday = {0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.05, 0.45, 0.85, 0.95, 1.00, 1.00,
                                 1.00, 1.00, 1.05, 1.05, 1.00, 0.80, 0.35, 0.10, 0.05, 0.02, 0.02, 0.02};
constexpr Hours kComBaseSaturday = {0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.35, 0.65, 0.75, 0.75, 0.75,
                                    0.75, 0.55, 0.40, 0.40, 0.40, 0.40, 0.28, 0.28, 0.28, 0.28, 0.28, 0.28};
constexpr Hours kComAcSaturday = {0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.20, 0.70, 0.90, 0.90, 0.90,
                                  0.90, 0.50, 0.15, 0.15, 0.15, 0.15, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02};
constexpr Hours kComBaseClosed = {0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.28, 0.30, 0.30, 0.30,
                                  0.30, 0.30, 0.30, 0.30, 0.30, 0.28, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25};
constexpr Hours kComAcClosed = {0.80, 0.80, 0.80, 0.80, 0.80, 0.80, 0.80, 0.85, 0.95, 1.00, 1.05, 1.10,
                                1.15, 1.15, 1.15, 1.10, 1.05, 1.00, 0.90, 0.85, 0.80, 0.80, 0.80, 0.80};
// Industrial: two shifts 07:00-23:00 on weekdays, one on Saturday, continuous processes only on Sundays
// and holidays; a small office / HVAC share on office hours.
constexpr Hours kIndBaseWeekday = {0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 0.70, 1.00, 1.00, 1.00, 1.00, 1.00,
                                   0.90, 1.00, 1.00, 0.95, 0.98, 0.98, 0.98, 0.98, 0.98, 0.98, 0.85, 0.65};
constexpr Hours kIndBaseSaturday = {0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 0.70, 1.00, 1.00, 1.00, 1.00, 1.00,
                                    0.90, 1.00, 1.00, 0.80, 0.60, 0.60, 0.60, 0.60, 0.60, 0.60, 0.58, 0.55};
constexpr Hours kIndBaseClosed = {0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 0.57, 0.60, 0.60, 0.60, 0.60,
                                  0.60, 0.60, 0.60, 0.60, 0.60, 0.58, 0.55, 0.55, 0.55, 0.55, 0.55, 0.55};
constexpr Hours kIndAcWorking = {0.30, 0.30, 0.30, 0.30, 0.30, 0.30, 0.50, 1.00, 1.00, 1.00, 1.00, 1.00,
                                 1.00, 1.00, 1.00, 1.00, 1.00, 1.00, 0.50, 0.40, 0.40, 0.40, 0.35, 0.30};
constexpr Hours kIndAcClosed = {0.30, 0.30, 0.30, 0.30, 0.30, 0.30, 0.30, 0.32, 0.35, 0.35, 0.35, 0.35,
                                0.35, 0.35, 0.35, 0.35, 0.35, 0.32, 0.30, 0.30, 0.30, 0.30, 0.30, 0.30};

LoadShapeParams make_residential() {
    LoadShapeParams p;
    // weekday, Saturday, Sunday, holiday: a little more at home at weekends
    p.day_energy_factor = {1.00, 1.05, 1.08, 1.08};
    // AC fraction of the day's energy: 3.9 / 14.5 = 0.269 on average (melaka.md), a bit more at weekends
    p.ac_fraction = {0.262, 0.28, 0.285, 0.285};
    p.base_shape = {kResBaseWeekday, kResBaseWeekend, kResBaseWeekend, kResBaseWeekend};
    p.ac_shape = {kResAcWeekday, kResAcWeekend, kResAcWeekend, kResAcWeekend};
    p.day_sd = 0.10;
    p.step_sd = 0.20;
    p.noise_tau_min = 30.0;
    p.time_shift_max_min = 45.0;
    p.ac_fraction_spread = 0.30;
    p.ac_temp_coeff_per_k = 0.05;
    return p;
}

LoadShapeParams make_commercial() {
    LoadShapeParams p;
    p.day_energy_factor = {1.00, 0.45, 0.30, 0.30};
    // AC 50-60 % of consumption (melaka.md): ~0.55 over the year with these factors
    p.ac_fraction = {0.58, 0.48, 0.30, 0.30};
    p.base_shape = {kComBaseWeekday, kComBaseSaturday, kComBaseClosed, kComBaseClosed};
    p.ac_shape = {kComAcWeekday, kComAcSaturday, kComAcClosed, kComAcClosed};
    p.day_sd = 0.05;
    p.step_sd = 0.07;
    p.noise_tau_min = 60.0;
    p.time_shift_max_min = 20.0;
    p.ac_fraction_spread = 0.10;
    p.ac_temp_coeff_per_k = 0.04;
    return p;
}

LoadShapeParams make_industrial() {
    LoadShapeParams p;
    p.day_energy_factor = {1.00, 0.80, 0.58, 0.58};
    p.ac_fraction = {0.10, 0.10, 0.06, 0.06};
    p.base_shape = {kIndBaseWeekday, kIndBaseSaturday, kIndBaseClosed, kIndBaseClosed};
    p.ac_shape = {kIndAcWorking, kIndAcWorking, kIndAcClosed, kIndAcClosed};
    p.day_sd = 0.05;
    p.step_sd = 0.06;
    p.noise_tau_min = 60.0;
    p.time_shift_max_min = 15.0;
    p.ac_fraction_spread = 0.30;
    p.ac_temp_coeff_per_k = 0.03;
    return p;
}

double clip01(double v) { return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v); }

void bad(const std::string& field, const std::string& what) {
    throw ValidationError("LoadShapeParams: field '" + field + "': " + what);
}

// Hourly kW at hour midpoints of one (shifted) day, and its noise multipliers. The hourly values need
// the day's first normal deviate only; the noise (an AR(1) chain: point i needs every deviate before
// it) is drawn on demand up to the last point a sample reads, so a block of steps never draws the
// noise of a neighbour day it reads one hourly value of, nor the noise past its end.
struct DayLoad {
    std::int64_t day = 0;
    bool valid = false;
    Hours base{}, ac{};                          // kW at h + 0.5
    std::array<double, kNoisePoints> noise{};    // multiplicative factor 1 + sd x, on the 15-minute grid
    int noise_len = 0;                           // noise[0 .. noise_len) drawn
    Rng rng{0};                                  // the day's stream, after the deviates drawn so far
    double x = 0.0;                              // the AR(1) state at noise_len - 1
};

struct Customer {
    const LoadShapeTables& t;
    std::array<double, 4> e_base{}, e_ac{};       // kWh per day type before the daily noise
    double shift_s = 0.0;
    std::uint64_t seed = 0;
    std::uint64_t key_class = 0, key_customer = 0;

    void build_day(DayLoad& d, std::int64_t day) const {
        d.day = day;
        d.valid = true;
        d.noise_len = 0;
        const int dt = static_cast<int>(day_type(day * kSecondsPerDay));
        d.rng = Rng(seed, stream_id({kLoadStreamTag, key_class, key_customer, static_cast<std::uint64_t>(day)}));
        double factor = 1.0 + t.p.day_sd * d.rng.normal();
        if (factor < 0.0) factor = 0.0;
        for (int h = 0; h < 24; ++h) {
            d.base[h] = e_base[dt] * factor * t.base_frac[dt][h];  // kWh in that hour = mean kW
            d.ac[h] = e_ac[dt] * factor * t.ac_frac[dt][h];
        }
    }

    /// Draws the day's noise up to point `last` (inclusive), in blocks of 16 points.
    void extend_noise(DayLoad& d, int last) const {
        if (last < d.noise_len) return;
        const int end = std::min(kNoisePoints, ((last + 1 + 15) / 16) * 16);
        double z[kNoisePoints];
        const int n = end - d.noise_len;
        d.rng.normals(z, static_cast<std::size_t>(n));  // the deviates of n normal() calls
        for (int j = 0; j < n; ++j) {
            const int i = d.noise_len + j;
            d.x = i > 0 ? t.phi * d.x + t.q * z[j] : z[j];
            const double m = 1.0 + t.p.step_sd * d.x;
            d.noise[i] = m > 0.0 ? m : 0.0;
        }
        d.noise_len = end;
    }
};

}  // namespace

const char* to_string(CustomerClass c) {
    switch (c) {
        case CustomerClass::Residential: return "residential";
        case CustomerClass::Commercial: return "commercial";
        case CustomerClass::Industrial: return "industrial";
    }
    return "?";
}

CustomerClass parse_customer_class(const std::string& s) {
    if (s == "residential") return CustomerClass::Residential;
    if (s == "commercial") return CustomerClass::Commercial;
    if (s == "industrial") return CustomerClass::Industrial;
    throw ValidationError("customer class '" + s + "': expected 'residential', 'commercial' or 'industrial'");
}

const LoadShapeParams& default_load_params(CustomerClass c) {
    static const LoadShapeParams res = make_residential();
    static const LoadShapeParams com = make_commercial();
    static const LoadShapeParams ind = make_industrial();
    switch (c) {
        case CustomerClass::Residential: return res;
        case CustomerClass::Commercial: return com;
        case CustomerClass::Industrial: return ind;
    }
    throw ValidationError("customer class " + std::to_string(static_cast<int>(c)) + ": unknown");
}

void validate(const LoadShapeParams& p) {
    static const char* kDay[4] = {"weekday", "saturday", "sunday", "holiday"};
    for (int d = 0; d < 4; ++d) {
        const std::string at = std::string("[") + kDay[d] + "]";
        if (!(std::isfinite(p.day_energy_factor[d]) && p.day_energy_factor[d] > 0.0))
            bad("day_energy_factor" + at, "must be finite and > 0");
        if (!(std::isfinite(p.ac_fraction[d]) && p.ac_fraction[d] >= 0.0 && p.ac_fraction[d] <= 1.0))
            bad("ac_fraction" + at, "must be in [0, 1]");
        double sb = 0.0, sa = 0.0;
        for (int h = 0; h < 24; ++h) {
            if (!(std::isfinite(p.base_shape[d][h]) && p.base_shape[d][h] >= 0.0)) bad("base_shape" + at, "weights must be finite and >= 0");
            if (!(std::isfinite(p.ac_shape[d][h]) && p.ac_shape[d][h] >= 0.0)) bad("ac_shape" + at, "weights must be finite and >= 0");
            sb += p.base_shape[d][h];
            sa += p.ac_shape[d][h];
        }
        if (!(sb > 0.0)) bad("base_shape" + at, "all weights are zero");
        if (!(sa > 0.0)) bad("ac_shape" + at, "all weights are zero");
    }
    if (!(std::isfinite(p.day_sd) && p.day_sd >= 0.0 && p.day_sd <= 1.0)) bad("day_sd", "must be in [0, 1]");
    if (!(std::isfinite(p.step_sd) && p.step_sd >= 0.0 && p.step_sd <= 2.0)) bad("step_sd", "must be in [0, 2]");
    if (!(std::isfinite(p.noise_tau_min) && p.noise_tau_min > 0.0)) bad("noise_tau_min", "must be > 0");
    if (!(std::isfinite(p.time_shift_max_min) && p.time_shift_max_min >= 0.0 && p.time_shift_max_min <= 720.0))
        bad("time_shift_max_min", "must be in [0, 720]");
    if (!(std::isfinite(p.ac_fraction_spread) && p.ac_fraction_spread >= 0.0 && p.ac_fraction_spread <= 1.0))
        bad("ac_fraction_spread", "must be in [0, 1]");
    if (!std::isfinite(p.ac_temp_coeff_per_k)) bad("ac_temp_coeff_per_k", "must be finite");
}

const std::array<double, 4>& day_type_frequencies() {
    static const std::array<double, 4> freq = [] {
        std::array<double, 4> count{};
        const std::int64_t d0 = day_number(from_civil(2024, 1, 1)), d1 = day_number(from_civil(2028, 1, 1));
        for (std::int64_t d = d0; d < d1; ++d) count[static_cast<int>(day_type(d * kSecondsPerDay))] += 1.0;
        for (auto& c : count) c /= static_cast<double>(d1 - d0);
        return count;
    }();
    return freq;
}

double reference_temperature_c(double local_time_s) {
    static const WeatherParams w{};
    double hour = (local_time_s - std::floor(local_time_s / 86400.0) * 86400.0) / 3600.0;
    const double rise = w.temp_max_hour - w.temp_min_hour, fall = 24.0 - rise;
    const double amp = w.temp_max_c - w.temp_min_c;
    if (hour < w.temp_min_hour) hour += 24.0;
    if (hour < w.temp_max_hour) return w.temp_min_c + amp * 0.5 * (1.0 - dm::cos(dm::kPi * (hour - w.temp_min_hour) / rise));
    return w.temp_min_c + amp * 0.5 * (1.0 + dm::cos(dm::kPi * (hour - w.temp_max_hour) / fall));
}

namespace {

void check_profile_args(CustomerClass cls, std::uint64_t customer_id, std::int64_t step_s, std::size_t n, double daily_kwh,
                        const std::vector<double>* temp_c) {
    auto who = [&] { return std::string("load_profile(") + to_string(cls) + ", customer " + std::to_string(customer_id) + "): "; };
    if (step_s < 1 || step_s > kSecondsPerDay)
        throw ValidationError(who() + "field 'step_s': must be in [1, 86400] s, got " + std::to_string(step_s));
    if (!(std::isfinite(daily_kwh) && daily_kwh >= 0.0))
        throw ValidationError(who() + "field 'daily_kwh': must be finite and >= 0, got " + std::to_string(daily_kwh));
    if (temp_c) {
        if (temp_c->size() != n)
            throw ValidationError(who() + "field 'temp_c': has " + std::to_string(temp_c->size()) + " values, expected " +
                                  std::to_string(n));
        for (std::size_t k = 0; k < n; ++k)
            if (!std::isfinite((*temp_c)[k]))
                throw ValidationError(who() + "field 'temp_c': value " + std::to_string(k) + " is not finite");
    }
}

/// The customer's own draws (time shift, AC share) and its energy per day type, split into base and AC.
void init_customer(Customer& c, CustomerClass cls, std::uint64_t seed, std::uint64_t customer_id, double daily_kwh) {
    const LoadShapeParams& p = c.t.p;
    c.seed = seed;
    c.key_class = static_cast<std::uint64_t>(cls);
    c.key_customer = customer_id;
    Rng rc(seed, stream_id({kLoadStreamTag, c.key_class, customer_id, kCustomerTag}));
    c.shift_s = (2.0 * rc.uniform() - 1.0) * p.time_shift_max_min * 60.0;
    const double ac_mult = 1.0 + p.ac_fraction_spread * (2.0 * rc.uniform() - 1.0);
    const double e_weekday = daily_kwh / c.t.norm;
    for (int d = 0; d < 4; ++d) {
        const double e_day = e_weekday * p.day_energy_factor[d];
        const double f_ac = clip01(p.ac_fraction[d] * ac_mult);
        c.e_ac[d] = e_day * f_ac;
        c.e_base[d] = e_day - c.e_ac[d];
    }
}

/// Small direct-mapped cache of built days (the sub-samples touch day D-1, D, D+1).
struct DayCache {
    const Customer& c;
    std::array<DayLoad, 4> slots{};
    DayLoad& get(std::int64_t day) {
        DayLoad& slot = slots[static_cast<std::size_t>(((day % 4) + 4) % 4)];
        if (!slot.valid || slot.day != day) c.build_day(slot, day);
        return slot;
    }
};

/// Adds the base and AC power at the customer's schedule time ts (s) to sum_base and sum_ac: hourly
/// values at hour midpoints, linear in between, across midnight into the neighbour days, times the noise.
void add_sub_sample(DayCache& cache, double ts, double& sum_base, double& sum_ac) {
    const double dayf = std::floor(ts / 86400.0);
    const std::int64_t day = static_cast<std::int64_t>(dayf);
    const double sod = ts - dayf * 86400.0;
    const double x = sod / 3600.0 - 0.5;
    DayLoad& d = cache.get(day);
    double b0, b1, a0, a1, w;
    if (x < 0.0) {
        const DayLoad& prev = cache.get(day - 1);
        b0 = prev.base[23];
        a0 = prev.ac[23];
        b1 = d.base[0];
        a1 = d.ac[0];
        w = x + 1.0;
    } else if (x >= 23.0) {
        const DayLoad& next = cache.get(day + 1);
        b0 = d.base[23];
        a0 = d.ac[23];
        b1 = next.base[0];
        a1 = next.ac[0];
        w = x - 23.0;
    } else {
        const int i = static_cast<int>(x);
        b0 = d.base[i];
        b1 = d.base[i + 1];
        a0 = d.ac[i];
        a1 = d.ac[i + 1];
        w = x - i;
    }
    // day - 1, day and day + 1 live in different cache slots, so `d` is still valid here
    const double g = sod / kNoiseGridS;
    int i = static_cast<int>(g);
    if (i > kNoisePoints - 2) i = kNoisePoints - 2;
    cache.c.extend_noise(d, i + 1);
    const double noise = d.noise[i] + (g - i) * (d.noise[i + 1] - d.noise[i]);
    sum_base += (b0 + w * (b1 - b0)) * noise;
    sum_ac += (a0 + w * (a1 - a0)) * noise;
}

double day_type_norm(const LoadShapeParams& p) {
    const auto& freq = day_type_frequencies();
    double norm = 0.0;
    for (int d = 0; d < 4; ++d) norm += freq[d] * p.day_energy_factor[d];
    return norm;
}

}  // namespace

LoadShapeTables prepare_load_shape(const LoadShapeParams& p) {
    validate(p);
    LoadShapeTables t;
    t.p = p;
    t.phi = dm::exp(-kNoiseGridS / 60.0 / p.noise_tau_min);
    t.q = std::sqrt(1.0 - t.phi * t.phi);
    t.norm = day_type_norm(p);
    for (int d = 0; d < 4; ++d) {
        double sb = 0.0, sa = 0.0;
        for (int h = 0; h < 24; ++h) {
            sb += p.base_shape[d][h];
            sa += p.ac_shape[d][h];
        }
        for (int h = 0; h < 24; ++h) {
            t.base_frac[d][h] = p.base_shape[d][h] / sb;
            t.ac_frac[d][h] = p.ac_shape[d][h] / sa;
        }
    }
    return t;
}

const LoadShapeTables& default_load_tables(CustomerClass c) {
    static const LoadShapeTables res = prepare_load_shape(default_load_params(CustomerClass::Residential));
    static const LoadShapeTables com = prepare_load_shape(default_load_params(CustomerClass::Commercial));
    static const LoadShapeTables ind = prepare_load_shape(default_load_params(CustomerClass::Industrial));
    switch (c) {
        case CustomerClass::Residential: return res;
        case CustomerClass::Commercial: return com;
        case CustomerClass::Industrial: return ind;
    }
    throw ValidationError("customer class " + std::to_string(static_cast<int>(c)) + ": unknown");
}

void temperature_excess(LocalTime start, std::int64_t step_s, std::size_t n, const double* temp_c, double* excess_c) {
    for (std::size_t k = 0; k < n; ++k) {
        const LocalTime t0 = start + static_cast<std::int64_t>(k) * step_s;
        const double mid = static_cast<double>(t0) + 0.5 * static_cast<double>(step_s);
        excess_c[k] = temp_c[k] - reference_temperature_c(mid);
    }
}

void load_profile_into(const LoadShapeTables& t, CustomerClass cls, LocalTime start, std::int64_t step_s, std::size_t n,
                       std::uint64_t seed, std::uint64_t customer_id, double daily_kwh, const double* temp_excess_c,
                       double* total_kw, double* ac_kw, std::size_t stride) {
    check_profile_args(cls, customer_id, step_s, n, daily_kwh, nullptr);
    Customer c{t};
    init_customer(c, cls, seed, customer_id, daily_kwh);
    DayCache cache{c};
    const int n_sub = static_cast<int>((step_s + static_cast<std::int64_t>(kSubStepS) - 1) / static_cast<std::int64_t>(kSubStepS));
    const double dt_sub = static_cast<double>(step_s) / n_sub;
    for (std::size_t k = 0; k < n; ++k) {
        const LocalTime t0 = start + static_cast<std::int64_t>(k) * step_s;
        double m_t = 1.0;
        if (temp_excess_c) {
            m_t = 1.0 + t.p.ac_temp_coeff_per_k * temp_excess_c[k];
            if (m_t < 0.0) m_t = 0.0;
        }
        double sum_base = 0.0, sum_ac = 0.0;
        for (int j = 0; j < n_sub; ++j)
            add_sub_sample(cache, static_cast<double>(t0) + (j + 0.5) * dt_sub - c.shift_s, sum_base, sum_ac);  // customer's schedule time
        const double inv = 1.0 / n_sub;
        const double ac = sum_ac * inv * m_t;
        if (ac_kw) ac_kw[k * stride] = ac;
        total_kw[k * stride] = sum_base * inv + ac;
    }
}

LoadProfile load_profile_components(CustomerClass cls, LocalTime start, std::int64_t step_s, std::size_t n,
                                    std::uint64_t seed, std::uint64_t customer_id, double daily_kwh,
                                    const std::vector<double>* temp_c, const LoadShapeParams* params) {
    const LoadShapeTables own = params ? prepare_load_shape(*params) : LoadShapeTables{};
    const LoadShapeTables& t = params ? own : default_load_tables(cls);
    check_profile_args(cls, customer_id, step_s, n, daily_kwh, temp_c);
    std::vector<double> excess;
    if (temp_c) {
        excess.resize(n);
        temperature_excess(start, step_s, n, temp_c->data(), excess.data());
    }
    LoadProfile out;
    out.total_kw.resize(n);
    out.ac_kw.resize(n);
    load_profile_into(t, cls, start, step_s, n, seed, customer_id, daily_kwh, temp_c ? excess.data() : nullptr, out.total_kw.data(),
                      out.ac_kw.data());
    return out;
}

std::vector<double> load_profile(CustomerClass cls, LocalTime start, std::int64_t step_s, std::size_t n, std::uint64_t seed,
                                 std::uint64_t customer_id, double daily_kwh, const std::vector<double>* temp_c) {
    return load_profile_components(cls, start, step_s, n, seed, customer_id, daily_kwh, temp_c, nullptr).total_kw;
}

}  // namespace libgrid
