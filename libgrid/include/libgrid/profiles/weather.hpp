// libgrid profiles: seeded synthetic weather for Melaka (irradiance and ambient temperature).
//
// Model (equations, parameters and sources in docs/profiles.md):
//  * clear sky: Ineichen-Perez with a fixed Linke turbidity (solar.hpp);
//  * clear-sky index kc(t) = GHI / GHI_clear = clip(K_d + s(K_d) x(t), kc_floor, kc_ceiling), where
//    K_d is a daily index drawn from a scaled logit-normal ("beta-like") distribution and x(t) a unit
//    AR(1) process on a fixed 5-minute grid (linear in between); the location of K_d's distribution is
//    solved so that the long-run mean daily GHI equals `mean_daily_ghi_kwh_m2` (4.3 kWh/m2/day, the
//    centre of Peninsular Malaysia's 3.8-4.8, docs/sources/melaka_facts.md);
//  * DNI and DHI from GHI by the Erbs decomposition;
//  * ambient temperature: a daily cycle through the day's minimum (near sunrise) and maximum
//    (mid-afternoon), half-cosine branches, with day-to-day variation, cooler cloudy days and an AR(1)
//    noise; long-run means of the daily extremes 22.9 / 31.5 degC (melaka.md).
//
// Sampling: every output value is the mean over its interval [t_k, t_k + step), computed by the
// midpoint rule on sub-intervals of at most 5 minutes (so hourly values equal the means of the
// 15-minute values of the same seed, up to rounding). Sun angles are taken at the interval midpoint.
//
// Determinism: the weather is a function of (seed, absolute time): day D's random numbers come from
// stream (seed, hash("weather", D)), so any window, step or start gives the same weather where they
// overlap; same seed -> bit-identical output on every platform.
#pragma once

#include <libgrid/profiles/calendar.hpp>
#include <libgrid/profiles/solar.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace libgrid {

struct WeatherParams {
    // site
    double latitude_deg = kMelakaLatitudeDeg;    ///< degrees north
    double longitude_deg = kMelakaLongitudeDeg;  ///< degrees east
    double utc_offset_h = kMelakaUtcOffsetH;     ///< of LocalTime, hours
    double altitude_m = 10.0;                    ///< m above sea level
    double linke_turbidity = 4.5;                ///< Ineichen-Perez TL, humid tropics (assumption)

    // irradiance
    double mean_daily_ghi_kwh_m2 = 4.3;  ///< long-run mean daily GHI target, kWh/m2/day (melaka.md: 3.8-4.8)
    double daily_kc_min = 0.10;          ///< lower bound of the daily clear-sky index K_d
    double daily_kc_max = 1.00;          ///< upper bound of K_d
    double daily_kc_sigma = 1.2;         ///< spread of K_d on the logit scale
    double intraday_sd = 0.25;           ///< sd of kc around K_d on a half-cloudy day (x 2 sqrt(K(1-K)))
    double intraday_tau_min = 30.0;      ///< correlation time of the intra-day AR(1), minutes
    double kc_floor = 0.03;              ///< smallest clear-sky index (thick storm cloud)
    double kc_ceiling = 1.25;            ///< largest (cloud enhancement at broken-cloud edges)

    // ambient temperature
    double temp_min_c = 22.9;        ///< long-run mean daily minimum, degC (melaka.md)
    double temp_max_c = 31.5;        ///< long-run mean daily maximum, degC (melaka.md)
    double temp_min_hour = 7.0;      ///< local clock hour of the minimum (about sunrise in Melaka)
    double temp_max_hour = 14.5;     ///< local clock hour of the maximum
    double temp_max_sd_c = 0.8;      ///< day-to-day sd of the maximum, degC
    double temp_min_sd_c = 0.5;      ///< day-to-day sd of the minimum, degC
    double temp_max_per_kc = 4.0;    ///< degC of daily maximum per unit of (K_d - mean K_d): cloudy days cooler
    double temp_min_per_kc = -1.0;   ///< degC of daily minimum per unit of (K_d - mean K_d): cloudy nights warmer
    double temp_cloud_c = 1.5;       ///< degC per unit of (kc(t) - K_d) at 1000 W/m2 clear sky: passing clouds cool
    double temp_noise_sd_c = 0.25;   ///< sd of the AR(1) temperature noise, degC
    double temp_noise_tau_min = 60;  ///< its correlation time, minutes
};

/// Throws ValidationError("WeatherParams: field 'x': ...") for out-of-range parameters.
void validate(const WeatherParams& p);

/// What the irradiance calibration found for a parameter set.
struct WeatherCalibration {
    double clear_sky_daily_kwh_m2 = 0.0;  ///< long-run mean daily clear-sky GHI at the site
    double mean_kc = 0.0;                 ///< required long-run mean clear-sky index (target / clear sky)
    double logit_mu = 0.0;                ///< location of K_d on the logit scale
    double mean_daily_kc = 0.0;           ///< E[K_d]
};
WeatherCalibration calibrate(const WeatherParams& p);

struct WeatherSeries {
    LocalTime start = 0;            ///< time of the first interval, s (LocalTime)
    std::int64_t step_s = 900;      ///< interval length, s
    std::vector<double> ghi_wm2;        ///< global horizontal irradiance, interval mean, W/m2
    std::vector<double> dni_wm2;        ///< direct normal irradiance, interval mean, W/m2
    std::vector<double> dhi_wm2;        ///< diffuse horizontal irradiance, interval mean, W/m2
    std::vector<double> ghi_clear_wm2;  ///< clear-sky GHI, interval mean, W/m2
    std::vector<double> temp_c;         ///< ambient air temperature, interval mean, degC
    std::vector<double> zenith_deg;     ///< sun zenith at the interval midpoint, degrees (> 90: below horizon)
    std::vector<double> azimuth_deg;    ///< sun azimuth at the interval midpoint, degrees clockwise from north
    std::vector<double> clear_sky_index;///< kc process, interval mean (defined at night too)
    std::vector<double> cloud_index;    ///< max(0, 1 - clear_sky_index): 0 clear .. ~1 overcast

    std::size_t size() const { return ghi_wm2.size(); }
    LocalTime time(std::size_t k) const { return start + static_cast<std::int64_t>(k) * step_s; }
};

/// n intervals of step_s seconds (1 .. 86400) from `start`. Throws ValidationError on bad arguments.
WeatherSeries melaka_weather(LocalTime start, std::int64_t step_s, std::size_t n, std::uint64_t seed,
                             const WeatherParams& p = {});

}  // namespace libgrid
