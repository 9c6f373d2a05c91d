// libgrid profiles: sun position and clear-sky irradiance.
//
//  * Sun position: the NOAA Global Monitoring Laboratory Solar Calculator equations (after J. Meeus,
//    "Astronomical Algorithms", 1991): declination and equation of time from the Sun's mean longitude,
//    anomaly and the obliquity, hour angle from true solar time. Geometric position (no atmospheric
//    refraction); within ~0.03 degree of NREL's SPA for 1901-2099. (Spencer's 1971 fixed-year Fourier
//    series, used by NOAA's short "General Solar Position" note, is ~0.5 degree off in declination
//    around the 2025 equinox: not used.)
//  * Extraterrestrial normal irradiance: Spencer (1971) eccentricity correction x 1366.1 W/m2
//    (ASTM E490 solar constant, as in pvlib's get_extra_radiation).
//  * Clear sky: Ineichen & Perez, "A new airmass independent formulation for the Linke turbidity
//    coefficient", Solar Energy 73(3), 2002, as implemented by pvlib.clearsky.ineichen (without the
//    optional Perez enhancement), with Kasten & Young (1989) air mass.
//  * Decomposition: Erbs, Klein & Duffie, "Estimation of the diffuse radiation fraction for hourly,
//    daily and monthly-average global radiation", Solar Energy 28(4), 1982, with pvlib's guards
//    (cos zenith >= 0.065 in the clearness index, kt <= 1, DNI = 0 beyond 87 degrees zenith).
//
// Angles in degrees at the interface, azimuth clockwise from north (90 = east). Irradiance in W/m2.
// All functions use the library's deterministic elementary functions (same bits on every platform).
#pragma once

#include <libgrid/profiles/calendar.hpp>

namespace libgrid {

inline constexpr double kMelakaLatitudeDeg = 2.19;     ///< docs: docs/sources/melaka_facts.md
inline constexpr double kMelakaLongitudeDeg = 102.25;  ///< degrees east
inline constexpr double kSolarConstantWm2 = 1366.1;

struct SunPosition {
    double zenith_deg = 90.0;     ///< geometric zenith angle, 0..180
    double azimuth_deg = 0.0;     ///< clockwise from north, [0, 360)
    double elevation_deg = 0.0;   ///< 90 - zenith
    double cos_zenith = 0.0;  ///< dimensionless
    double hour_angle_deg = 0.0;  ///< 0 at solar noon, negative in the morning
};

/// Declination and equation of time (NOAA Solar Calculator / Meeus) at a Unix time (s, UTC).
struct SolarTerms {
    double declination_rad = 0.0;
    double equation_of_time_min = 0.0;  ///< apparent minus mean solar time, minutes
};
SolarTerms solar_terms(double unix_time_s);

/// Sun position from precomputed terms (lets a caller interpolate the slowly varying terms).
SunPosition sun_position(const SolarTerms& terms, double unix_time_s, double lat_deg, double lon_deg);

/// Sun position at local time t (seconds, LocalTime in the zone utc_offset_h), Melaka by default.
SunPosition sun_position(LocalTime t, double lat_deg = kMelakaLatitudeDeg, double lon_deg = kMelakaLongitudeDeg,
                         double utc_offset_h = kMelakaUtcOffsetH);
/// Same with a fractional local time in seconds (for sub-step sampling).
SunPosition sun_position_at(double local_time_s, double lat_deg = kMelakaLatitudeDeg,
                            double lon_deg = kMelakaLongitudeDeg, double utc_offset_h = kMelakaUtcOffsetH);

/// Local clock time (s, LocalTime) of solar noon on the day containing t. In Melaka (102.25 E on UTC+8)
/// this is about 13:11 minus the equation of time, i.e. 12:55..13:25.
double solar_noon(LocalTime t, double lon_deg = kMelakaLongitudeDeg, double utc_offset_h = kMelakaUtcOffsetH);

/// Extraterrestrial irradiance on a plane normal to the sun, W/m2 (Spencer 1971), day_of_year 1..366.
double extraterrestrial_normal(int day_of_year);

/// Relative optical air mass, Kasten & Young (1989); +inf for zenith >= 96.07995 degrees.
double air_mass_kasten_young(double zenith_deg);
/// Standard-atmosphere pressure at an altitude, Pa (pvlib alt2pres).
double pressure_from_altitude(double altitude_m);

struct Irradiance {
    double ghi_wm2 = 0.0;  ///< global horizontal
    double dni_wm2 = 0.0;  ///< direct normal
    double dhi_wm2 = 0.0;  ///< diffuse horizontal; ghi = dhi + dni cos(zenith)
};

/// Ineichen-Perez clear-sky model for one site: the altitude terms are computed once.
struct IneichenPerez {
    explicit IneichenPerez(double linke_turbidity = 4.5, double altitude_m = 10.0);
    /// Clear-sky GHI only (the cheap part), W/m2.
    double ghi(double zenith_deg, double cos_zenith, double i0_wm2) const;
    /// GHI, DNI and DHI, W/m2. Zero for the sun at or below the horizon.
    Irradiance operator()(double zenith_deg, double cos_zenith, double i0_wm2) const;

    double linke_turbidity;  ///< TL (air mass 2), dimensionless
    double altitude_m;       ///< site altitude above sea level, m
    double pressure_ratio = 1.0;  ///< p / 101325
    double fh1 = 1.0, fh2 = 1.0, cg1 = 0.868, cg2 = 0.0387;  ///< altitude terms (pvlib names)
};

/// Clear-sky irradiance (Ineichen-Perez) for a zenith angle and day of year.
/// Default Linke turbidity 4.5: humid tropics (see docs/profiles.md); altitude of Melaka town ~10 m.
Irradiance clear_sky(double zenith_deg, int day_of_year, double linke_turbidity = 4.5, double altitude_m = 10.0);

/// Erbs et al. (1982): splits GHI into DNI and DHI from the clearness index.
Irradiance erbs_decomposition(double ghi_wm2, double zenith_deg, int day_of_year);
/// Same with the cosine of the zenith and the extraterrestrial normal irradiance (W/m2) already known.
Irradiance erbs_decomposition_cos(double ghi_wm2, double cos_zenith, double i0_wm2);

}  // namespace libgrid
