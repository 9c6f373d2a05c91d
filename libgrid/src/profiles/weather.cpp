// libgrid profiles: seeded synthetic Melaka weather. Model description in profiles/weather.hpp and
// docs/profiles.md.
#include <libgrid/profiles/weather.hpp>

#include <libgrid/core/errors.hpp>
#include <libgrid/profiles/rng.hpp>

#include "detmath.hpp"

#include <array>
#include <cmath>
#include <string>

#include "fp.hpp"  // last: no FMA contraction below (determinism)

namespace libgrid {

namespace dm = detmath;

namespace {

constexpr std::uint64_t kWeatherStreamTag = 0x5745415448455231ULL;  // "WEATHER1"
constexpr double kGridS = 300.0;                                     // base grid of the random processes, s
constexpr int kGridPoints = 289;                                     // 00:00 .. 24:00 inclusive
constexpr double kTempGridS = 900.0;                                 // grid of the temperature cycle + noise, s
constexpr int kTempGridPoints = 97;                                  // 00:00 .. 24:00 inclusive

double logistic(double v) { return 1.0 / (1.0 + dm::exp(-v)); }

double clip(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }

// Intra-day spread of kc for a day with daily index K: largest for half-cloudy days.
double intraday_spread(const WeatherParams& p, double k) {
    const double u = clip(k, 0.0, 1.0);
    return p.intraday_sd * 2.0 * std::sqrt(u * (1.0 - u));
}

// Ineichen-Perez clear-sky GHI divided by the extraterrestrial normal irradiance, tabulated in cos(zenith)
// on 2048 equal intervals of [0, 1] and interpolated linearly (relative deviation from the formula
// < 1e-4 above 3 degrees elevation): the generator then needs no acos / pow / exp per sample.
struct ClearSkyTable {
    static constexpr int kIntervals = 2048;
    double tl = -1.0, alt = -1.0;
    std::array<double, kIntervals + 1> f{};

    void build(double linke_turbidity, double altitude_m) {
        tl = linke_turbidity;
        alt = altitude_m;
        const IneichenPerez model(tl, alt);
        f[0] = 0.0;
        for (int i = 1; i <= kIntervals; ++i) {
            const double c = static_cast<double>(i) / kIntervals;
            f[i] = model.ghi(dm::acos(c) * dm::kRadToDeg, c, 1.0);
        }
    }
    double operator()(double cos_z) const {
        if (!(cos_z > 0.0)) return 0.0;
        const double g = cos_z * kIntervals;
        int i = static_cast<int>(g);
        if (i >= kIntervals) return f[kIntervals];
        return f[i] + (g - i) * (f[i + 1] - f[i]);
    }
};

const ClearSkyTable& clear_sky_table(const WeatherParams& p) {
    thread_local ClearSkyTable table;
    if (table.tl != p.linke_turbidity || table.alt != p.altitude_m) table.build(p.linke_turbidity, p.altitude_m);
    return table;
}

void check(bool ok, const char* field, const std::string& what) {
    if (!ok) throw ValidationError(std::string("WeatherParams: field '") + field + "': " + what);
}

// Fixed quadrature nodes for E over a standard normal: uniform grid, normalised Gaussian weights.
template <int N>
struct NormalGrid {
    std::array<double, N> z{}, w{};
    explicit NormalGrid(double half_width) {
        double sum = 0.0;
        for (int i = 0; i < N; ++i) {
            z[i] = -half_width + 2.0 * half_width * i / (N - 1);
            w[i] = dm::exp(-0.5 * z[i] * z[i]);
            sum += w[i];
        }
        for (auto& v : w) v /= sum;
    }
};

// Long-run mean of the clear-sky index, kc = clip(K + s(K) x), for a logit location mu.
double mean_kc_for(const WeatherParams& p, double mu, double* mean_daily_kc) {
    static const NormalGrid<81> gz(6.0);
    static const NormalGrid<41> gx(5.0);
    double e = 0.0, ek = 0.0;
    for (int i = 0; i < 81; ++i) {
        const double k = p.daily_kc_min + (p.daily_kc_max - p.daily_kc_min) * logistic(mu + p.daily_kc_sigma * gz.z[i]);
        const double s = intraday_spread(p, k);
        double g = 0.0;
        for (int j = 0; j < 41; ++j) g += gx.w[j] * clip(k + s * gx.z[j], p.kc_floor, p.kc_ceiling);
        e += gz.w[i] * g;
        ek += gz.w[i] * k;
    }
    if (mean_daily_kc) *mean_daily_kc = ek;
    return e;
}

// Sun geometry for one local day with the slowly varying terms interpolated linearly in time.
struct SunDay {
    double sin_dec0 = 0, cos_dec0 = 1, eot0 = 0;  // at local midnight starting the day
    double sin_dec1 = 0, cos_dec1 = 1, eot1 = 0;  // at the next local midnight
    double i0 = kSolarConstantWm2;                // extraterrestrial normal irradiance of the day, W/m2

    void init(std::int64_t day, const WeatherParams& p) {
        const double u0 = static_cast<double>(day) * 86400.0 - p.utc_offset_h * 3600.0;
        const SolarTerms a = solar_terms(u0), b = solar_terms(u0 + 86400.0);
        dm::sincos(a.declination_rad, sin_dec0, cos_dec0);
        dm::sincos(b.declination_rad, sin_dec1, cos_dec1);
        eot0 = a.equation_of_time_min;
        eot1 = b.equation_of_time_min;
        i0 = extraterrestrial_normal(to_civil(day * kSecondsPerDay).day_of_year);
    }
    // cos(zenith), sin and cos of the hour angle and the declination at `sod` seconds after local midnight
    void at(double sod, const WeatherParams& p, double s_lat, double c_lat, double& cos_z, double& s_ha, double& c_ha,
            double& s_dec, double& c_dec) const {
        const double f = sod / 86400.0;
        s_dec = sin_dec0 + f * (sin_dec1 - sin_dec0);
        c_dec = cos_dec0 + f * (cos_dec1 - cos_dec0);
        const double eot = eot0 + f * (eot1 - eot0);
        // true solar time (min) = local clock minutes - 60 * utc offset + eot + 4 * longitude
        const double tst = sod / 60.0 - 60.0 * p.utc_offset_h + eot + 4.0 * p.longitude_deg;
        dm::sincos((tst / 4.0 - 180.0) * dm::kDegToRad, s_ha, c_ha);
        cos_z = clip(s_lat * s_dec + c_lat * c_dec * c_ha, -1.0, 1.0);
    }
};

struct DayDraws {
    double kd = 0.0, tmax = 0.0, tmin = 0.0;
};

// The first draws of day D's stream: daily clear-sky index and temperature extremes.
DayDraws day_draws(Rng& rng, const WeatherParams& p, const WeatherCalibration& cal) {
    DayDraws d;
    const double zk = rng.normal();
    const double zmax = rng.normal();
    const double zmin = rng.normal();
    d.kd = p.daily_kc_min + (p.daily_kc_max - p.daily_kc_min) * logistic(cal.logit_mu + p.daily_kc_sigma * zk);
    const double dk = d.kd - cal.mean_daily_kc;
    d.tmax = p.temp_max_c + p.temp_max_sd_c * zmax + p.temp_max_per_kc * dk;
    d.tmin = p.temp_min_c + p.temp_min_sd_c * zmin + p.temp_min_per_kc * dk;
    return d;
}

std::uint64_t day_stream(std::int64_t day) { return stream_id({kWeatherStreamTag, static_cast<std::uint64_t>(day)}); }

struct DayState {
    std::int64_t day = 0;
    bool valid = false;
    DayDraws draws;
    double tmax_prev = 0.0, tmin_next = 0.0;
    std::array<double, kGridPoints> kc{};
    std::array<double, kTempGridPoints> temp{};  // daily cycle + AR(1) noise on the 15-minute grid, degC
    SunDay sun;

    void build(std::int64_t d, std::uint64_t seed, const WeatherParams& p, const WeatherCalibration& cal, double phi_kc,
               double phi_t) {
        day = d;
        valid = true;
        Rng rng(seed, day_stream(d));
        draws = day_draws(rng, p, cal);
        const double s = intraday_spread(p, draws.kd);
        const double q_kc = std::sqrt(1.0 - phi_kc * phi_kc);
        double x = rng.normal();  // stationary start
        for (int i = 0; i < kGridPoints; ++i) {
            if (i > 0) x = phi_kc * x + q_kc * rng.normal();
            kc[i] = clip(draws.kd + s * x, p.kc_floor, p.kc_ceiling);
        }
        Rng prev(seed, day_stream(d - 1)), next(seed, day_stream(d + 1));
        tmax_prev = day_draws(prev, p, cal).tmax;
        tmin_next = day_draws(next, p, cal).tmin;
        const double q_t = std::sqrt(1.0 - phi_t * phi_t);
        double y = rng.normal();
        for (int i = 0; i < kTempGridPoints; ++i) {
            if (i > 0) y = phi_t * y + q_t * rng.normal();
            temp[i] = base_temperature(i * kTempGridS / 3600.0, p) + p.temp_noise_sd_c * y;
        }
        sun.init(d, p);
    }

    // Daily temperature cycle (half-cosine branches), hour = local clock hour 0..24.
    double base_temperature(double hour, const WeatherParams& p) const {
        const double rise = p.temp_max_hour - p.temp_min_hour;
        const double fall = 24.0 - rise;
        if (hour < p.temp_min_hour) {
            const double e = hour + 24.0 - p.temp_max_hour;
            return draws.tmin + (tmax_prev - draws.tmin) * 0.5 * (1.0 + dm::cos(dm::kPi * e / fall));
        }
        if (hour < p.temp_max_hour) {
            const double e = hour - p.temp_min_hour;
            return draws.tmin + (draws.tmax - draws.tmin) * 0.5 * (1.0 - dm::cos(dm::kPi * e / rise));
        }
        const double e = hour - p.temp_max_hour;
        return tmin_next + (draws.tmax - tmin_next) * 0.5 * (1.0 + dm::cos(dm::kPi * e / fall));
    }
};

// Mean daily clear-sky GHI at the site, kWh/m2/day: 24 days (1st and 16th of each month), 5-minute midpoints.
double clear_sky_daily(const WeatherParams& p) {
    struct Cache {
        bool valid = false;
        double lat = 0, lon = 0, off = 0, alt = 0, tl = 0, value = 0;
    };
    thread_local Cache cache;
    if (cache.valid && cache.lat == p.latitude_deg && cache.lon == p.longitude_deg && cache.off == p.utc_offset_h &&
        cache.alt == p.altitude_m && cache.tl == p.linke_turbidity)
        return cache.value;
    const ClearSkyTable& table = clear_sky_table(p);
    double s_lat = 0.0, c_lat = 0.0;
    dm::sincos(p.latitude_deg * dm::kDegToRad, s_lat, c_lat);
    double total_wh = 0.0;
    int days = 0;
    for (int month = 1; month <= 12; ++month) {
        for (int dom : {1, 16}) {
            SunDay sun;
            const std::int64_t day = day_number(from_civil(2025, month, dom));
            sun.init(day, p);
            for (int i = 0; i < 288; ++i) {
                double cz = 0, sh = 0, ch = 0, sd = 0, cd = 0;
                sun.at((i + 0.5) * kGridS, p, s_lat, c_lat, cz, sh, ch, sd, cd);
                total_wh += table(cz) * sun.i0 * kGridS / 3600.0;
            }
            ++days;
        }
    }
    cache = {true, p.latitude_deg, p.longitude_deg, p.utc_offset_h, p.altitude_m, p.linke_turbidity, total_wh / days / 1000.0};
    return cache.value;
}

}  // namespace

void validate(const WeatherParams& p) {
    auto finite = [](double v) { return std::isfinite(v); };
    check(finite(p.latitude_deg) && p.latitude_deg >= -90 && p.latitude_deg <= 90, "latitude_deg", "must be in [-90, 90]");
    check(finite(p.longitude_deg) && p.longitude_deg >= -180 && p.longitude_deg <= 180, "longitude_deg", "must be in [-180, 180]");
    check(finite(p.utc_offset_h) && p.utc_offset_h >= -14 && p.utc_offset_h <= 14, "utc_offset_h", "must be in [-14, 14]");
    check(finite(p.altitude_m) && p.altitude_m >= -500 && p.altitude_m <= 9000, "altitude_m", "must be in [-500, 9000]");
    check(finite(p.linke_turbidity) && p.linke_turbidity >= 1 && p.linke_turbidity <= 10, "linke_turbidity", "must be in [1, 10]");
    check(finite(p.daily_kc_min) && p.daily_kc_min >= 0, "daily_kc_min", "must be >= 0");
    check(finite(p.daily_kc_max) && p.daily_kc_max > p.daily_kc_min && p.daily_kc_max <= 1.5, "daily_kc_max",
          "must be in (daily_kc_min, 1.5]");
    check(finite(p.daily_kc_sigma) && p.daily_kc_sigma >= 0 && p.daily_kc_sigma <= 5, "daily_kc_sigma", "must be in [0, 5]");
    check(finite(p.intraday_sd) && p.intraday_sd >= 0 && p.intraday_sd <= 2, "intraday_sd", "must be in [0, 2]");
    check(finite(p.intraday_tau_min) && p.intraday_tau_min > 0, "intraday_tau_min", "must be > 0");
    check(finite(p.kc_floor) && p.kc_floor >= 0, "kc_floor", "must be >= 0");
    check(finite(p.kc_ceiling) && p.kc_ceiling > p.kc_floor && p.kc_ceiling <= 2, "kc_ceiling", "must be in (kc_floor, 2]");
    check(finite(p.temp_min_c) && finite(p.temp_max_c) && p.temp_max_c > p.temp_min_c, "temp_max_c", "must be > temp_min_c");
    check(finite(p.temp_min_hour) && finite(p.temp_max_hour) && p.temp_min_hour >= 0 && p.temp_max_hour < 24 &&
              p.temp_min_hour < p.temp_max_hour,
          "temp_max_hour", "need 0 <= temp_min_hour < temp_max_hour < 24");
    check(finite(p.temp_max_sd_c) && p.temp_max_sd_c >= 0, "temp_max_sd_c", "must be >= 0");
    check(finite(p.temp_min_sd_c) && p.temp_min_sd_c >= 0, "temp_min_sd_c", "must be >= 0");
    check(finite(p.temp_max_per_kc), "temp_max_per_kc", "must be finite");
    check(finite(p.temp_min_per_kc), "temp_min_per_kc", "must be finite");
    check(finite(p.temp_cloud_c), "temp_cloud_c", "must be finite");
    check(finite(p.temp_noise_sd_c) && p.temp_noise_sd_c >= 0, "temp_noise_sd_c", "must be >= 0");
    check(finite(p.temp_noise_tau_min) && p.temp_noise_tau_min > 0, "temp_noise_tau_min", "must be > 0");
    check(finite(p.mean_daily_ghi_kwh_m2) && p.mean_daily_ghi_kwh_m2 > 0, "mean_daily_ghi_kwh_m2", "must be > 0");
}

WeatherCalibration calibrate(const WeatherParams& p) {
    validate(p);
    WeatherCalibration c;
    c.clear_sky_daily_kwh_m2 = clear_sky_daily(p);
    c.mean_kc = p.mean_daily_ghi_kwh_m2 / c.clear_sky_daily_kwh_m2;
    double lo = -12.0, hi = 12.0;
    const double e_lo = mean_kc_for(p, lo, nullptr), e_hi = mean_kc_for(p, hi, nullptr);
    if (!(c.mean_kc > e_lo && c.mean_kc < e_hi))
        throw ValidationError("WeatherParams: field 'mean_daily_ghi_kwh_m2': " + std::to_string(p.mean_daily_ghi_kwh_m2) +
                              " kWh/m2/day is not reachable with clear-sky " + std::to_string(c.clear_sky_daily_kwh_m2) +
                              " kWh/m2/day and the daily_kc / kc bounds (mean clear-sky index would be " +
                              std::to_string(c.mean_kc) + ", possible " + std::to_string(e_lo) + ".." + std::to_string(e_hi) + ")");
    for (int it = 0; it < 60; ++it) {  // bisection: the mean is increasing in mu
        const double mid = 0.5 * (lo + hi);
        if (mean_kc_for(p, mid, nullptr) < c.mean_kc) lo = mid; else hi = mid;
    }
    c.logit_mu = 0.5 * (lo + hi);
    mean_kc_for(p, c.logit_mu, &c.mean_daily_kc);
    return c;
}

WeatherSeries melaka_weather(LocalTime start, std::int64_t step_s, std::size_t n, std::uint64_t seed, const WeatherParams& p) {
    if (step_s < 1 || step_s > kSecondsPerDay)
        throw ValidationError("melaka_weather: field 'step_s': must be in [1, 86400] s, got " + std::to_string(step_s));
    const WeatherCalibration cal = calibrate(p);  // validates p

    WeatherSeries w;
    w.start = start;
    w.step_s = step_s;
    for (auto* v : {&w.ghi_wm2, &w.dni_wm2, &w.dhi_wm2, &w.ghi_clear_wm2, &w.temp_c, &w.zenith_deg, &w.azimuth_deg,
                    &w.clear_sky_index, &w.cloud_index})
        v->resize(n);

    const ClearSkyTable& table = clear_sky_table(p);
    double s_lat = 0.0, c_lat = 0.0;
    dm::sincos(p.latitude_deg * dm::kDegToRad, s_lat, c_lat);
    const double phi_kc = dm::exp(-kGridS / 60.0 / p.intraday_tau_min);
    const double phi_t = dm::exp(-kTempGridS / 60.0 / p.temp_noise_tau_min);
    const int n_sub = static_cast<int>((step_s + static_cast<std::int64_t>(kGridS) - 1) / static_cast<std::int64_t>(kGridS));
    const double dt_sub = static_cast<double>(step_s) / n_sub;

    DayState ds;  // sub-samples advance in time: one day of state at a time, no allocation
    auto state_for = [&](std::int64_t day) -> const DayState& {
        if (!ds.valid || ds.day != day) ds.build(day, seed, p, cal, phi_kc, phi_t);
        return ds;
    };

    for (std::size_t k = 0; k < n; ++k) {
        const LocalTime t0 = start + static_cast<std::int64_t>(k) * step_s;
        const std::int64_t day0 = day_number(t0);
        const double off0 = static_cast<double>(t0 - day0 * kSecondsPerDay);  // seconds after midnight of day0
        double sum_ghi = 0, sum_dni = 0, sum_dhi = 0, sum_clear = 0, sum_t = 0, sum_kc = 0;
        for (int j = 0; j < n_sub; ++j) {
            double sod = off0 + (j + 0.5) * dt_sub;
            std::int64_t day = day0;
            while (sod >= 86400.0) {
                sod -= 86400.0;
                ++day;
            }
            const DayState& d = state_for(day);
            double cz = 0, sh = 0, ch = 0, sd = 0, cd = 0;
            d.sun.at(sod, p, s_lat, c_lat, cz, sh, ch, sd, cd);
            const double clear = table(cz) * d.sun.i0;
            const double g = sod / kGridS;
            int i = static_cast<int>(g);
            if (i > kGridPoints - 2) i = kGridPoints - 2;
            const double f = g - i;
            const double kc = d.kc[i] + f * (d.kc[i + 1] - d.kc[i]);
            const double ghi = kc * clear;
            const Irradiance parts = erbs_decomposition_cos(ghi, cz, d.sun.i0);
            const double sun_weight = clear < 1000.0 ? clear / 1000.0 : 1.0;
            const double gt = sod / kTempGridS;
            int it = static_cast<int>(gt);
            if (it > kTempGridPoints - 2) it = kTempGridPoints - 2;
            const double ft = gt - it;
            const double temp = d.temp[it] + ft * (d.temp[it + 1] - d.temp[it]) + p.temp_cloud_c * (kc - d.draws.kd) * sun_weight;
            sum_ghi += ghi;
            sum_dni += parts.dni_wm2;
            sum_dhi += parts.dhi_wm2;
            sum_clear += clear;
            sum_t += temp;
            sum_kc += kc;
        }
        const double inv = 1.0 / n_sub;
        w.ghi_wm2[k] = sum_ghi * inv;
        w.dni_wm2[k] = sum_dni * inv;
        w.dhi_wm2[k] = sum_dhi * inv;
        w.ghi_clear_wm2[k] = sum_clear * inv;
        w.temp_c[k] = sum_t * inv;
        w.clear_sky_index[k] = sum_kc * inv;
        w.cloud_index[k] = w.clear_sky_index[k] < 1.0 ? 1.0 - w.clear_sky_index[k] : 0.0;

        // sun angles at the interval midpoint
        double sod_mid = off0 + 0.5 * static_cast<double>(step_s);
        std::int64_t day_mid = day0;
        while (sod_mid >= 86400.0) {
            sod_mid -= 86400.0;
            ++day_mid;
        }
        const DayState& dm_state = state_for(day_mid);
        double cz = 0, sh = 0, ch = 0, sd = 0, cd = 0;
        dm_state.sun.at(sod_mid, p, s_lat, c_lat, cz, sh, ch, sd, cd);
        w.zenith_deg[k] = dm::acos(cz) * dm::kRadToDeg;
        double az = dm::atan2(-sh * cd, sd * c_lat - cd * s_lat * ch) * dm::kRadToDeg;
        if (az < 0.0) az += 360.0;
        w.azimuth_deg[k] = az;
    }
    return w;
}

}  // namespace libgrid
