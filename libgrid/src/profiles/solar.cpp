// libgrid profiles: sun position (NOAA / Spencer), clear sky (Ineichen-Perez), Erbs decomposition.
// References in profiles/solar.hpp and docs/profiles.md.
#include <libgrid/profiles/solar.hpp>

#include "detmath.hpp"

#include <cmath>
#include <limits>

#include "fp.hpp"  // last: no FMA contraction below (determinism)

namespace libgrid {

namespace dm = detmath;

SolarTerms solar_terms(double unix_time_s) {
    // NOAA Solar Calculator (after J. Meeus, Astronomical Algorithms, 1991), angles in degrees.
    const double jd = unix_time_s / 86400.0 + 2440587.5;    // Julian day (UTC ~ TT here)
    const double jc = (jd - 2451545.0) / 36525.0;          // Julian centuries since J2000.0
    double l0 = 280.46646 + jc * (36000.76983 + jc * 0.0003032);  // geometric mean longitude
    l0 -= 360.0 * std::floor(l0 / 360.0);
    const double m = 357.52911 + jc * (35999.05029 - 0.0001537 * jc);  // mean anomaly
    const double e = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc);  // orbit eccentricity
    const double m_rad = m * dm::kDegToRad;
    const double c = dm::sin(m_rad) * (1.914602 - jc * (0.004817 + 0.000014 * jc)) +
                     dm::sin(2.0 * m_rad) * (0.019993 - 0.000101 * jc) + dm::sin(3.0 * m_rad) * 0.000289;  // equation of centre
    const double omega = (125.04 - 1934.136 * jc) * dm::kDegToRad;
    const double lambda = l0 + c - 0.00569 - 0.00478 * dm::sin(omega);  // apparent longitude
    const double eps0 = 23.0 + (26.0 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60.0) / 60.0;
    const double eps = eps0 + 0.00256 * dm::cos(omega);  // corrected obliquity
    const double eps_rad = eps * dm::kDegToRad;
    SolarTerms t;
    t.declination_rad = dm::asin(dm::sin(eps_rad) * dm::sin(lambda * dm::kDegToRad));
    double s_half = 0.0, c_half = 0.0;
    dm::sincos(0.5 * eps_rad, s_half, c_half);
    const double y = (s_half / c_half) * (s_half / c_half);
    const double l0_rad = l0 * dm::kDegToRad;
    const double eot_rad = y * dm::sin(2.0 * l0_rad) - 2.0 * e * dm::sin(m_rad) +
                           4.0 * e * y * dm::sin(m_rad) * dm::cos(2.0 * l0_rad) - 0.5 * y * y * dm::sin(4.0 * l0_rad) -
                           1.25 * e * e * dm::sin(2.0 * m_rad);
    t.equation_of_time_min = 4.0 * eot_rad * dm::kRadToDeg;
    return t;
}

SunPosition sun_position(const SolarTerms& terms, double unix_time_s, double lat_deg, double lon_deg) {
    // true solar time, minutes: UTC clock minutes + equation of time + 4 min per degree of longitude
    const double utc_minutes = (unix_time_s - std::floor(unix_time_s / 86400.0) * 86400.0) / 60.0;
    const double tst = utc_minutes + terms.equation_of_time_min + 4.0 * lon_deg;
    const double ha_deg = tst / 4.0 - 180.0;  // hour angle, degrees (any multiple of 360 is fine below)
    double s_lat = 0.0, c_lat = 0.0, s_dec = 0.0, c_dec = 0.0, s_ha = 0.0, c_ha = 0.0;
    dm::sincos(lat_deg * dm::kDegToRad, s_lat, c_lat);
    dm::sincos(terms.declination_rad, s_dec, c_dec);
    dm::sincos(ha_deg * dm::kDegToRad, s_ha, c_ha);
    double cos_z = s_lat * s_dec + c_lat * c_dec * c_ha;
    if (cos_z > 1.0) cos_z = 1.0;
    if (cos_z < -1.0) cos_z = -1.0;
    SunPosition p;
    p.cos_zenith = cos_z;
    p.zenith_deg = dm::acos(cos_z) * dm::kRadToDeg;
    p.elevation_deg = 90.0 - p.zenith_deg;
    // azimuth clockwise from north: atan2(-sin H cos d, sin d cos phi - cos d sin phi cos H)
    double az = dm::atan2(-s_ha * c_dec, s_dec * c_lat - c_dec * s_lat * c_ha) * dm::kRadToDeg;
    if (az < 0.0) az += 360.0;
    if (az >= 360.0) az -= 360.0;
    p.azimuth_deg = az;
    double ha = ha_deg - 360.0 * std::floor((ha_deg + 180.0) / 360.0);  // wrap to [-180, 180)
    p.hour_angle_deg = ha;
    return p;
}

SunPosition sun_position_at(double local_time_s, double lat_deg, double lon_deg, double utc_offset_h) {
    const double u = local_time_s - utc_offset_h * 3600.0;
    return sun_position(solar_terms(u), u, lat_deg, lon_deg);
}

SunPosition sun_position(LocalTime t, double lat_deg, double lon_deg, double utc_offset_h) {
    return sun_position_at(static_cast<double>(t), lat_deg, lon_deg, utc_offset_h);
}

double solar_noon(LocalTime t, double lon_deg, double utc_offset_h) {
    const double midnight = static_cast<double>(day_start(t));
    // first guess: mean solar noon, then one refinement with the equation of time at that instant
    double noon_local = midnight + (720.0 - 4.0 * lon_deg + 60.0 * utc_offset_h) * 60.0;
    for (int it = 0; it < 2; ++it) {
        const SolarTerms terms = solar_terms(noon_local - utc_offset_h * 3600.0);
        noon_local = midnight + (720.0 - 4.0 * lon_deg - terms.equation_of_time_min + 60.0 * utc_offset_h) * 60.0;
    }
    return noon_local;
}

double extraterrestrial_normal(int day_of_year) {
    const double b = 2.0 * dm::kPi * (day_of_year - 1) / 365.0;
    double s1 = 0.0, c1 = 0.0, s2 = 0.0, c2 = 0.0;
    dm::sincos(b, s1, c1);
    dm::sincos(2.0 * b, s2, c2);
    const double e0 = 1.00011 + 0.034221 * c1 + 0.00128 * s1 + 0.000719 * c2 + 0.000077 * s2;
    return kSolarConstantWm2 * e0;
}

double air_mass_kasten_young(double zenith_deg) {
    if (!(zenith_deg < 96.07995)) return std::numeric_limits<double>::infinity();
    const double cz = dm::cos(zenith_deg * dm::kDegToRad);
    return 1.0 / (cz + 0.50572 * dm::pow(96.07995 - zenith_deg, -1.6364));
}

double pressure_from_altitude(double altitude_m) {
    return 100.0 * dm::pow((44331.514 - altitude_m) / 11880.516, 1.0 / 0.1902632);
}

namespace {
// GCC applies the file's fp-contract pragma to ordinary functions but not to constructors, so the
// arithmetic lives here (not inlined, to keep this function's own floating-point options).
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noinline))
#endif
void ineichen_constants(IneichenPerez& m, double alt) {
    m.pressure_ratio = pressure_from_altitude(alt) / 101325.0;
    m.fh1 = dm::exp(-alt / 8000.0);
    m.fh2 = dm::exp(-alt / 1250.0);
    m.cg1 = 5.09e-05 * alt + 0.868;
    m.cg2 = 3.92e-05 * alt + 0.0387;
}
}  // namespace

IneichenPerez::IneichenPerez(double tl, double alt) : linke_turbidity(tl), altitude_m(alt) { ineichen_constants(*this, alt); }

double IneichenPerez::ghi(double zenith_deg, double cos_zenith, double i0) const {
    if (!(cos_zenith > 0.0)) return 0.0;
    const double am = air_mass_kasten_young(zenith_deg) * pressure_ratio;
    const double g = cg1 * i0 * cos_zenith * dm::exp(-cg2 * am * (fh1 + fh2 * (linke_turbidity - 1.0)));
    return g > 0.0 ? g : 0.0;
}

Irradiance IneichenPerez::operator()(double zenith_deg, double cos_zenith, double i0) const {
    Irradiance r;
    if (!(cos_zenith > 0.0)) return r;
    const double am = air_mass_kasten_young(zenith_deg) * pressure_ratio;
    const double g = ghi(zenith_deg, cos_zenith, i0);
    const double b = 0.664 + 0.163 / fh1;
    const double bnci = b * i0 * dm::exp(-0.09 * am * (linke_turbidity - 1.0));
    const double bnci_2 = g * (1.0 - (0.1 - 0.2 * dm::exp(-linke_turbidity)) / (0.1 + 0.882 / fh1)) / cos_zenith;
    double dni = bnci < bnci_2 ? bnci : bnci_2;
    if (dni < 0.0) dni = 0.0;
    r.ghi_wm2 = g;
    r.dni_wm2 = dni;
    r.dhi_wm2 = g - dni * cos_zenith;
    return r;
}

Irradiance clear_sky(double zenith_deg, int day_of_year, double linke_turbidity, double altitude_m) {
    const IneichenPerez model(linke_turbidity, altitude_m);
    return model(zenith_deg, dm::cos(zenith_deg * dm::kDegToRad), extraterrestrial_normal(day_of_year));
}

Irradiance erbs_decomposition_cos(double ghi, double cos_zenith, double i0) {
    static const double kCos87 = dm::cos(87.0 * dm::kDegToRad);
    Irradiance r;
    if (ghi != ghi) {  // NaN in, NaN out
        r.ghi_wm2 = r.dni_wm2 = r.dhi_wm2 = ghi;
        return r;
    }
    r.ghi_wm2 = ghi;
    if (!(ghi > 0.0)) {  // night or a negative sensor offset: all diffuse, closure kept
        r.dhi_wm2 = ghi;
        return r;
    }
    // clearness index with pvlib's guards
    const double cz = cos_zenith > 0.065 ? cos_zenith : 0.065;
    double kt = ghi / (i0 * cz);
    if (kt > 1.0) kt = 1.0;
    double df;
    if (kt <= 0.22) {
        df = 1.0 - 0.09 * kt;
    } else if (kt <= 0.8) {
        df = 0.9511 - 0.1604 * kt + 4.388 * kt * kt - 16.638 * kt * kt * kt + 12.336 * kt * kt * kt * kt;
    } else {
        df = 0.165;
    }
    double dhi = df * ghi;
    double dni = cos_zenith > 0.0 ? (ghi - dhi) / cos_zenith : 0.0;
    if (cos_zenith < kCos87 || dni < 0.0 || !(cos_zenith > 0.0)) {  // zenith > 87 degrees
        dni = 0.0;
        dhi = ghi;  // keep the closure ghi = dhi + dni cos z
    }
    r.dni_wm2 = dni;
    r.dhi_wm2 = dhi;
    return r;
}

Irradiance erbs_decomposition(double ghi, double zenith_deg, int day_of_year) {
    return erbs_decomposition_cos(ghi, dm::cos(zenith_deg * dm::kDegToRad), extraterrestrial_normal(day_of_year));
}

}  // namespace libgrid
