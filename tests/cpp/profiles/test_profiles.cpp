// Tests of layer 6, profiles/: RNG, calendar and holidays, time series I/O and resampling, sun
// position and clear sky, the Melaka weather generator and the load profiles.
#include <doctest/doctest.h>

#include "scratch_dir.hpp"

#include <libgrid/core/errors.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/profiles/load_profiles.hpp>
#include <libgrid/profiles/rng.hpp>
#include <libgrid/profiles/solar.hpp>
#include <libgrid/profiles/time_series.hpp>
#include <libgrid/profiles/weather.hpp>

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

using namespace libgrid;

namespace {

std::string temp_path(const std::string& name) { return libgrid_test::scratch_path("profiles_" + name); }

void write_text(const std::string& path, const std::string& text) {
    std::ofstream f(path, std::ios::binary);
    f << text;
}

template <class F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(no exception)";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

}  // namespace

// ------------------------------------------------------------------------------------------------
// RNG
// ------------------------------------------------------------------------------------------------

TEST_CASE("profiles rng: splitmix64 and xoshiro256** reference outputs") {
    // splitmix64 seeded with 0 (Vigna, splitmix64.c): first output = mix64(0x9E3779B97F4A7C15)
    CHECK(mix64(0x9E3779B97F4A7C15ULL) == 0xE220A8397B1DCDAFULL);
    // xoshiro256** from the state {1, 2, 3, 4}: 11520, 0, 1509978240 (worked by hand from the algorithm)
    Rng r(0);
    r.s[0] = 1;
    r.s[1] = 2;
    r.s[2] = 3;
    r.s[3] = 4;
    CHECK(r.next() == 11520ULL);
    CHECK(r.next() == 0ULL);
    CHECK(r.next() == 1509978240ULL);
}

TEST_CASE("profiles rng: streams, uniform and Box-Muller normal") {
    Rng a(42, 7), b(42, 7), c(42, 8), d(43, 7);
    const auto a1 = a.next();
    CHECK(a1 == b.next());
    CHECK(a1 != c.next());
    CHECK(a1 != d.next());
    CHECK(stream_id({1, 2}) != stream_id({2, 1}));
    CHECK(stream_id({1, 2}) == stream_id({1, 2}));

    Rng u(1);
    double lo = 1.0, hi = 0.0;
    for (int i = 0; i < 100000; ++i) {
        const double x = u.uniform();
        lo = std::min(lo, x);
        hi = std::max(hi, x);
        REQUIRE(x >= 0.0);
        REQUIRE(x < 1.0);
    }
    CHECK(lo < 1e-3);
    CHECK(hi > 1.0 - 1e-3);

    Rng g(2);
    const int n = 200000;
    double s = 0, s2 = 0, lag = 0, prev = 0;
    int tails = 0;
    for (int i = 0; i < n; ++i) {
        const double z = g.normal();
        s += z;
        s2 += z * z;
        lag += z * prev;  // successive values (both halves of a Box-Muller pair) must be uncorrelated
        prev = z;
        if (std::fabs(z) > 1.959964) ++tails;
    }
    const double mean = s / n, var = s2 / n - mean * mean;
    CHECK(std::fabs(mean) < 0.01);
    CHECK(std::fabs(var - 1.0) < 0.015);
    CHECK(std::fabs(lag / n) < 0.01);
    CHECK(std::fabs(tails / double(n) - 0.05) < 0.003);
}

// ------------------------------------------------------------------------------------------------
// Calendar
// ------------------------------------------------------------------------------------------------

TEST_CASE("profiles calendar: civil time round trips and known weekdays") {
    CHECK(from_civil(1970, 1, 1) == 0);
    CHECK(to_civil(0).weekday == 3);  // Thursday
    CHECK(to_civil(from_civil(2000, 2, 29)).weekday == 1);  // Tuesday
    CHECK(to_civil(from_civil(2024, 2, 29)).weekday == 3);  // Thursday
    CHECK(to_civil(from_civil(2025, 1, 1)).weekday == 2);   // Wednesday
    CHECK(to_civil(from_civil(2024, 12, 31)).day_of_year == 366);
    CHECK(to_civil(from_civil(2025, 12, 31)).day_of_year == 365);
    CHECK(to_civil(-1).year == 1969);
    CHECK(to_civil(-1).hour == 23);
    CHECK(day_number(-1) == -1);

    Rng r(3);
    for (int i = 0; i < 20000; ++i) {
        const LocalTime t = static_cast<LocalTime>(r.uniform(-2.2e9, 4.1e9));  // 1900 .. 2100
        const CivilTime c = to_civil(t);
        REQUIRE(from_civil(c.year, c.month, c.day, c.hour, c.minute, c.second) == t);
        REQUIRE(parse_iso8601(format_iso8601(t)) == t);
        REQUIRE(c.weekday == static_cast<int>(((day_number(t) % 7) + 7 + 3) % 7));
    }
    CHECK_THROWS_AS(from_civil(2025, 2, 29), ValidationError);
    CHECK_THROWS_AS(from_civil(2025, 13, 1), ValidationError);
    CHECK_THROWS_AS(from_civil(2025, 1, 1, 24), ValidationError);
}

TEST_CASE("profiles calendar: ISO 8601 parsing") {
    const LocalTime t = from_civil(2025, 1, 1, 0, 15);
    CHECK(parse_iso8601("2025-01-01") == from_civil(2025, 1, 1));
    CHECK(parse_iso8601("2025-01-01T00:15") == t);
    CHECK(parse_iso8601("2025-01-01T00:15:00") == t);
    CHECK(parse_iso8601("2025-01-01 00:15:00") == t);
    CHECK(parse_iso8601(" 2025-01-01T00:15:00.000 ") == t);
    CHECK(parse_iso8601("2025-01-01T00:15:00+08:00") == t);
    CHECK(parse_iso8601("2024-12-31T16:15:00Z") == t);       // UTC -> Melaka time (+8 h)
    CHECK(parse_iso8601("2024-12-31T17:15:00+0100") == t);
    CHECK(format_iso8601(t) == "2025-01-01T00:15:00");
    for (const char* bad : {"2025-13-01", "2025-02-29", "2025-01-01T24:00", "2025-01-01x", "2025-01-01T00:15:00.5",
                            "25-01-01", "2025-01-01T00:15+25:00", ""}) {
        const std::string msg = error_of([&] { parse_iso8601(bad); });
        CHECK_MESSAGE(contains(msg, std::string("time '") + bad + "'"), msg);
    }
    CHECK_THROWS_AS(parse_iso8601("2025-02-30"), ValidationError);
}

TEST_CASE("profiles calendar: a zone is converted to the site's UTC offset (issue 19)") {
    const LocalTime t = from_civil(2025, 1, 1, 0, 15);
    CHECK(parse_iso8601("2025-01-01T00:15", 1.0) == t);             // no zone: the site's clock, as is
    CHECK(parse_iso8601("2024-12-31T23:15:00Z", 1.0) == t);          // UTC -> a UTC+1 site
    CHECK(parse_iso8601("2024-12-31T19:15:00-05:00", 0.0) == t);  // New York -> a UTC site
    CHECK(parse_iso8601("2025-01-01T05:45:00+05:30", 5.5) == from_civil(2025, 1, 1, 5, 45));  // India, same zone
    CHECK(parse_iso8601("2025-01-01T00:15:00Z", -3.0) == from_civil(2024, 12, 31, 21, 15));
    const std::string msg = error_of([&] { parse_iso8601("2025-01-01", 15.0); });
    CHECK_MESSAGE(contains(msg, "utc_offset_h must be in -14 .. 14 h"), msg);
}

TEST_CASE("profiles calendar: Melaka public holidays and day types") {
    // fixed dates and rules
    CHECK(is_public_holiday(from_civil(2025, 1, 1, 12)));
    CHECK(is_public_holiday(from_civil(2025, 5, 1)));
    CHECK(is_public_holiday(from_civil(2025, 6, 2)));        // first Monday of June: Agong's birthday
    CHECK(is_public_holiday(from_civil(2030, 6, 3)));        // ... also outside the tabulated years
    CHECK(is_public_holiday(from_civil(2024, 2, 20)));       // Melaka Independence Declaration Day from 2024
    CHECK(!is_public_holiday(from_civil(2024, 4, 15)));      // ... which replaced 15 April
    CHECK(is_public_holiday(from_civil(2023, 4, 15)));
    // moving holidays from the 2024-2027 table
    CHECK(is_public_holiday(from_civil(2025, 1, 29)));       // Chinese New Year
    CHECK(is_public_holiday(from_civil(2025, 4, 2)));        // Melaka's third day of Aidilfitri
    CHECK(!is_public_holiday(from_civil(2025, 3, 3)));       // Awal Ramadan no longer a Melaka holiday
    CHECK(is_public_holiday(from_civil(2024, 3, 12)));       // ... it was in 2024
    CHECK(is_public_holiday(from_civil(2026, 11, 8)));       // Deepavali
    CHECK(!is_public_holiday(from_civil(2030, 2, 4)));       // no moving holidays assumed after 2027
    // Sunday replacements (Holidays Act 1951 s.3)
    CHECK(is_public_holiday(from_civil(2025, 9, 1)));        // National Day on Sunday 31 Aug 2025
    CHECK(is_public_holiday(from_civil(2025, 8, 25)));       // Governor's birthday on Sunday 24 Aug 2025
    CHECK(is_public_holiday(from_civil(2024, 2, 12)));       // CNY day 2 on Sunday 11 Feb 2024
    CHECK(is_public_holiday(from_civil(2026, 6, 2)));        // Wesak Sun 31 May 2026, Mon 1 Jun is Agong's birthday
    CHECK(is_public_holiday(from_civil(2027, 2, 8)));        // CNY day 2 on Sunday 7 Feb 2027
    CHECK(!is_public_holiday(from_civil(2024, 9, 17)));      // coinciding on a Monday gives no extra day
    CHECK(!is_public_holiday(from_civil(2025, 6, 9)));       // Hari Raya Haji on Saturday 7 Jun: no replacement

    const auto h2025 = public_holidays(2025);
    CHECK(std::is_sorted(h2025.begin(), h2025.end(), [](const auto& a, const auto& b) { return a.date < b.date; }));
    int replacements = 0;
    for (const auto& h : h2025) replacements += h.replacement ? 1 : 0;
    CHECK(replacements == 2);

    CHECK(day_type(from_civil(2025, 1, 4, 10)) == DayType::Saturday);
    CHECK(day_type(from_civil(2025, 1, 5, 10)) == DayType::Sunday);
    CHECK(day_type(from_civil(2025, 1, 6, 10)) == DayType::Weekday);
    CHECK(day_type(from_civil(2025, 1, 1, 10)) == DayType::Holiday);
    CHECK(day_type(from_civil(2025, 8, 31, 10)) == DayType::Holiday);  // holiday wins over Sunday
    CHECK(std::string(to_string(DayType::Holiday)) == "holiday");

    const auto& f = day_type_frequencies();
    CHECK(std::fabs(f[0] + f[1] + f[2] + f[3] - 1.0) < 1e-12);
    CHECK(f[3] * 365.25 > 16.0);  // Melaka: ~17-19 holidays a year plus Sunday replacements
    CHECK(f[3] * 365.25 < 24.0);
}

// ------------------------------------------------------------------------------------------------
// Time series
// ------------------------------------------------------------------------------------------------

TEST_CASE("profiles time series: at, resample Mean conserves energy, Interpolate, Hold") {
    TimeSeries in;
    in.name = "p_kw";
    in.start = from_civil(2025, 1, 1);
    in.step_s = 900;
    Rng r(5);
    for (int i = 0; i < 96; ++i) in.values.push_back(r.uniform(0.0, 10.0));

    CHECK(in.at(in.start) == in.values[0]);
    CHECK(in.at(in.start + 899) == in.values[0]);
    CHECK(in.at(in.start + 900) == in.values[1]);
    CHECK(contains(error_of([&] { in.at(in.end()); }), "p_kw"));
    CHECK_THROWS_AS(in.at(in.start - 1), ValidationError);

    const double energy = sum(in.values) * 900.0;
    // down-sampling to hours
    const TimeSeries hourly = resample(in, in.start, 3600, 24, Resample::Mean);
    CHECK(sum(hourly.values) * 3600.0 == doctest::Approx(energy).epsilon(1e-12));
    CHECK(hourly.values[0] == doctest::Approx((in.values[0] + in.values[1] + in.values[2] + in.values[3]) / 4.0));
    // up-sampling to 5 minutes
    const TimeSeries fine = resample(in, in.start, 300, 288, Resample::Mean);
    CHECK(sum(fine.values) * 300.0 == doctest::Approx(energy).epsilon(1e-12));
    CHECK(fine.values[4] == in.values[1]);
    // unaligned: 30-minute intervals starting 7.5 minutes late cover [450 s, 85050 s): the energy of that
    // window is half of interval 0, intervals 1..93 and half of interval 94
    const TimeSeries odd = resample(in, in.start + 450, 1800, 47, Resample::Mean);
    double expected = in.values[0] * 450.0 + in.values[94] * 450.0;
    for (int i = 1; i < 94; ++i) expected += in.values[i] * 900.0;
    CHECK(sum(odd.values) * 1800.0 == doctest::Approx(expected).epsilon(1e-12));
    CHECK(contains(error_of([&] { resample(in, in.start + 450, 1800, 48, Resample::Mean); }), "p_kw"));

    // Interpolate: linear between samples, exact at samples
    const TimeSeries lin = resample(in, in.start, 300, 286, Resample::Interpolate);
    CHECK(lin.values[3] == in.values[1]);
    CHECK(lin.values[4] == doctest::Approx(in.values[1] + (in.values[2] - in.values[1]) / 3.0));
    CHECK_THROWS_AS(resample(in, in.start, 300, 287, Resample::Interpolate), ValidationError);
    // Hold
    const TimeSeries hold = resample(in, in.start + 100, 600, 143, Resample::Hold);
    CHECK(hold.values[1] == in.values[0]);  // t = 700 s
    CHECK(hold.values[2] == in.values[1]);  // t = 1300 s
    CHECK_THROWS_AS(resample(in, in.start, 0, 4, Resample::Hold), ValidationError);
}

TEST_CASE("profiles time series: CSV with ISO times, seconds and a step column") {
    const std::string path = temp_path("ok.csv");
    write_text(path,
               "# a comment line\n"
               "time,p_kw,\"q, kvar\"\r\n"
               "2025-01-01T00:00:00,1.5,-0.5\r\n"
               "2025-01-01T00:15:00,2,0\r\n"
               "\n"
               "2025-01-01T00:30:00, +3.25e0 ,1e-3\n");
    const auto s = read_csv(path);
    REQUIRE(s.size() == 2);
    CHECK(s[0].name == "p_kw");
    CHECK(s[1].name == "q, kvar");
    CHECK(s[0].start == from_civil(2025, 1, 1));
    CHECK(s[0].step_s == 900);
    CHECK(s[0].values == std::vector<double>{1.5, 2.0, 3.25});
    CHECK(s[1].values == std::vector<double>{-0.5, 0.0, 1e-3});

    write_text(path, "t,x\n100,1\n160,2\n220,3\n");
    const auto secs = read_csv(path, "t");
    CHECK(secs[0].start == 100);
    CHECK(secs[0].step_s == 60);
    std::filesystem::remove(path);

    // the CIGRE LV day in the repository: `step` and `time` (HH:MM) columns
    CsvOptions o;
    o.step_s = 900;
    o.start = from_civil(2025, 1, 1);
    const auto cigre = read_csv(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv_day.profiles.csv", o);
    REQUIRE(!cigre.empty());
    CHECK(cigre[0].name == "load_0_p_mw");
    CHECK(cigre[0].size() == 96);
    CHECK(cigre[0].values[0] == 0.06650000000001263);
    CHECK(cigre[0].start == o.start);
    CHECK(cigre[0].step_s == 900);
    // without step_s the HH:MM column is not a time: a clear error
    CHECK(contains(error_of([&] { read_csv(std::string(LIBGRID_TEST_DATA) + "/cigre/cigre_lv_day.profiles.csv"); }),
                   "column 'time': not a time: '00:00'"));
}

TEST_CASE("profiles time series: CSV errors name file, line and column") {
    const std::string path = temp_path("bad.csv");
    auto err = [&](const std::string& text) {
        write_text(path, text);
        try {
            read_csv(path);
        } catch (const ParseError& e) {
            CHECK(e.file() == path);
            return std::to_string(e.line()) + "|" + e.what();
        }
        return std::string("(no ParseError)");
    };
    std::string m = err("time,p_kw\n2025-01-01T00:00,1\n2025-01-01T00:15,abc\n");
    CHECK_MESSAGE(contains(m, "3|"), m);
    CHECK_MESSAGE(contains(m, path + ":3: column 'p_kw': not a number: 'abc'"), m);
    m = err("time,p_kw\n2025-01-01T00:00,1\n2025-01-01T00:15,\n");
    CHECK_MESSAGE(contains(m, ":3: column 'p_kw': empty value"), m);
    m = err("time,p_kw\n2025-01-01T00:00,1\n2025-01-01T00:15,nan\n");
    CHECK_MESSAGE(contains(m, ":3: column 'p_kw': not a finite number"), m);
    m = err("time,p_kw\n2025-01-01T00:00,1\n2025-01-01T00:15,2\n2025-01-01T00:45,3\n");
    CHECK_MESSAGE(contains(m, ":4: column 'time': times must be evenly spaced: expected 2025-01-01T00:30:00"), m);
    m = err("time,p_kw\n2025-01-01T00:00,1\n2025-01-01T00:15,2,7\n");
    CHECK_MESSAGE(contains(m, ":3: expected 2 fields, got 3"), m);
    m = err("when,p_kw\n2025-01-01T00:00,1\n");
    CHECK_MESSAGE(contains(m, ":1: no time column 'time'"), m);
    m = err("time,p_kw\n2025-01-32,1\n");
    CHECK_MESSAGE(contains(m, ":2: column 'time': not a time"), m);
    m = err("time,p_kw,p_kw\n2025-01-01,1,2\n");
    CHECK_MESSAGE(contains(m, ":1: column 'p_kw': duplicate name"), m);
    std::filesystem::remove(path);
    CHECK(contains(error_of([&] { read_csv(temp_path("missing.csv")); }), "cannot open"));
}

TEST_CASE("profiles time series: HDF5 round trip") {
    const std::string path = temp_path("series.h5");
    std::filesystem::remove(path);
    {
        // written with the HDF5 C API directly: float32 data, fixed-length string `start`, int32 `step_s`
        const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        const hid_t g = H5Gcreate2(f, "/weather", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        const float data[5] = {0.0f, 125.5f, 640.25f, 880.0f, 3.0f};
        const hsize_t n = 5;
        const hid_t space = H5Screate_simple(1, &n, nullptr);
        const hid_t ds = H5Dcreate2(g, "ghi", H5T_IEEE_F32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
        const hid_t scalar = H5Screate(H5S_SCALAR);
        const char start[] = "2025-03-20T12:00:00";
        const hid_t str = H5Tcopy(H5T_C_S1);
        H5Tset_size(str, sizeof start - 1);
        H5Tset_strpad(str, H5T_STR_NULLPAD);
        const hid_t a1 = H5Acreate2(ds, "start", str, scalar, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a1, str, start);
        const int step = 900;
        const hid_t a2 = H5Acreate2(ds, "step_s", H5T_STD_I32LE, scalar, H5P_DEFAULT, H5P_DEFAULT);
        H5Awrite(a2, H5T_NATIVE_INT, &step);
        // a 2-D dataset and one without attributes, for the errors
        const hsize_t dims2[2] = {2, 2};
        const hid_t space2 = H5Screate_simple(2, dims2, nullptr);
        const hid_t ds2 = H5Dcreate2(f, "grid", H5T_IEEE_F64LE, space2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        const hid_t ds3 = H5Dcreate2(f, "bare", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        for (hid_t id : {a1, a2}) H5Aclose(id);
        H5Tclose(str);
        for (hid_t id : {ds, ds2, ds3}) H5Dclose(id);
        for (hid_t id : {space, space2, scalar}) H5Sclose(id);
        H5Gclose(g);
        H5Fclose(f);
    }
    const TimeSeries ts = read_hdf5(path, "/weather/ghi");
    CHECK(ts.values == std::vector<double>{0.0, 125.5, 640.25, 880.0, 3.0});
    CHECK(ts.start == from_civil(2025, 3, 20, 12));
    CHECK(ts.step_s == 900);

    // library writer -> reader, bit for bit, into the same file
    TimeSeries w;
    w.start = from_civil(2025, 1, 1, 0, 5);
    w.step_s = 300;
    Rng r(9);
    for (int i = 0; i < 1000; ++i) w.values.push_back(r.normal(20.0, 5.0));
    write_hdf5(path, "/results/temp_c", w);
    const TimeSeries back = read_hdf5(path, "/results/temp_c");
    CHECK(back.values == w.values);
    CHECK(back.start == w.start);
    CHECK(back.step_s == w.step_s);
    CHECK(contains(error_of([&] { write_hdf5(path, "/results/temp_c", w); }), "already exists"));

    // errors name the file and the dataset
    std::string m = error_of([&] { read_hdf5(path, "/weather/dni"); });
    CHECK_MESSAGE(contains(m, path + ":/weather/dni: no such dataset"), m);
    m = error_of([&] { read_hdf5(path, "grid"); });
    CHECK_MESSAGE(contains(m, path + ":grid: must be one-dimensional"), m);
    m = error_of([&] { read_hdf5(path, "bare"); });
    CHECK_MESSAGE(contains(m, path + ":bare: attribute 'start': missing"), m);
    m = error_of([&] { read_hdf5(temp_path("nope.h5"), "x"); });
    CHECK_MESSAGE(contains(m, "nope.h5:x: cannot open file"), m);
    const std::string not_h5 = temp_path("not.h5");
    write_text(not_h5, "hello");
    CHECK(contains(error_of([&] { read_hdf5(not_h5, "x"); }), "not an HDF5 file"));
    std::filesystem::remove(not_h5);
    std::filesystem::remove(path);
}

// ------------------------------------------------------------------------------------------------
// Sun and clear sky
// ------------------------------------------------------------------------------------------------

TEST_CASE("profiles solar: sun position against published references") {
    // NREL SPA example (Reda & Andreas, Solar Energy 76, 2004): 2003-10-17 12:30:30 at UTC-7,
    // 39.742476 N, 105.1786 W: topocentric zenith 50.11162 (incl. ~0.016 refraction), azimuth 194.34024.
    const SunPosition spa = sun_position(from_civil(2003, 10, 17, 12, 30, 30), 39.742476, -105.1786, -7.0);
    CHECK(std::fabs(spa.zenith_deg - 50.11162) < 0.05);
    CHECK(std::fabs(spa.azimuth_deg - 194.34024) < 0.05);
    CHECK(spa.elevation_deg == doctest::Approx(90.0 - spa.zenith_deg));

    // Melaka, March equinox 2025: clocks run ~71 min ahead of mean solar time (UTC+8 at 102.25 E), and
    // the equation of time on 20 March is about -7.5 min, so solar noon is near 13:18:30 local time;
    // the noon zenith is |latitude - declination| = 2.19 + 0.06 degrees.
    const LocalTime day = from_civil(2025, 3, 20);
    const double noon = solar_noon(day);
    CHECK(std::fabs(noon - static_cast<double>(from_civil(2025, 3, 20, 13, 18, 30))) < 60.0);
    double best_zen = 180.0, best_t = 0.0;
    for (int m = 12 * 60; m < 15 * 60; ++m) {
        const SunPosition p = sun_position(day + m * 60);
        if (p.zenith_deg < best_zen) {
            best_zen = p.zenith_deg;
            best_t = static_cast<double>(day + m * 60);
        }
    }
    CHECK(std::fabs(best_t - noon) <= 60.0);
    CHECK(std::fabs(best_zen - 2.25) < 0.1);
    CHECK(sun_position(from_civil(2025, 3, 20, 8)).azimuth_deg == doctest::Approx(90.0).epsilon(0.02));
    CHECK(sun_position(from_civil(2025, 3, 20, 18)).azimuth_deg == doctest::Approx(270.0).epsilon(0.02));
    CHECK(sun_position(from_civil(2025, 3, 20, 0)).zenith_deg > 150.0);
    // June solstice: the sun passes north of Melaka (azimuth 0 at noon)
    const double june_noon = solar_noon(from_civil(2025, 6, 21));
    CHECK(sun_position_at(june_noon).azimuth_deg < 1.0);

    // extraterrestrial irradiance: perihelion (early January) and aphelion (early July)
    CHECK(extraterrestrial_normal(3) > 1405.0);
    CHECK(extraterrestrial_normal(3) < 1420.0);
    CHECK(extraterrestrial_normal(185) > 1316.0);
    CHECK(extraterrestrial_normal(185) < 1326.0);
}

TEST_CASE("profiles solar: clear sky and Erbs decomposition") {
    const Irradiance high = clear_sky(0.0, 80);
    CHECK(high.ghi_wm2 > 950.0);
    CHECK(high.ghi_wm2 < 1150.0);
    CHECK(high.dhi_wm2 == doctest::Approx(high.ghi_wm2 - high.dni_wm2));
    CHECK(high.dni_wm2 > high.dhi_wm2);
    const Irradiance low = clear_sky(80.0, 80);
    CHECK(low.ghi_wm2 < high.ghi_wm2 / 4.0);
    const Irradiance night = clear_sky(95.0, 80);
    CHECK(night.ghi_wm2 == 0.0);
    CHECK(night.dni_wm2 == 0.0);
    // more turbidity, less direct light
    CHECK(clear_sky(30.0, 80, 6.0).dni_wm2 < clear_sky(30.0, 80, 3.0).dni_wm2);

    // clear-sky daily GHI at Melaka, integrated by minutes over four days of the year
    double kwh = 0.0;
    for (int month : {1, 4, 7, 10}) {
        const LocalTime d = from_civil(2025, month, 15);
        const int doy = to_civil(d).day_of_year;
        for (int m = 0; m < 1440; ++m) {
            const SunPosition p = sun_position_at(static_cast<double>(d) + 60.0 * m + 30.0);
            kwh += clear_sky(p.zenith_deg, doy).ghi_wm2 / 60.0 / 1000.0;
        }
    }
    kwh /= 4.0;
    CHECK(kwh > 5.5);
    CHECK(kwh < 7.0);
    const WeatherCalibration cal = calibrate(WeatherParams{});
    CHECK(cal.clear_sky_daily_kwh_m2 == doctest::Approx(kwh).epsilon(0.03));

    // Erbs: closure, its three branches, guards
    for (double ghi : {50.0, 300.0, 700.0, 1000.0}) {
        const Irradiance e = erbs_decomposition(ghi, 20.0, 80);
        CHECK(e.dhi_wm2 + e.dni_wm2 * std::cos(20.0 * 3.14159265358979323846 / 180.0) == doctest::Approx(ghi));
        CHECK(e.dni_wm2 >= 0.0);
    }
    const double i0 = extraterrestrial_normal(80);
    const double cz = 0.9;
    CHECK(erbs_decomposition_cos(0.1 * i0 * cz, cz, i0).dhi_wm2 == doctest::Approx((1.0 - 0.09 * 0.1) * 0.1 * i0 * cz));
    CHECK(erbs_decomposition_cos(0.85 * i0 * cz, cz, i0).dhi_wm2 == doctest::Approx(0.165 * 0.85 * i0 * cz));
    CHECK(erbs_decomposition(100.0, 88.0, 80).dni_wm2 == 0.0);  // beyond 87 degrees: all diffuse
    CHECK(erbs_decomposition(0.0, 30.0, 80).dhi_wm2 == 0.0);
    CHECK(std::isnan(erbs_decomposition(std::nan(""), 30.0, 80).dni_wm2));
}

// ------------------------------------------------------------------------------------------------
// Weather
// ------------------------------------------------------------------------------------------------

TEST_CASE("profiles weather: annual mean daily GHI in 3.8-4.8 kWh/m2/day (melaka.md)") {
    const LocalTime start = from_civil(2025, 1, 1);
    for (std::int64_t step : {900, 3600}) {
        for (std::uint64_t seed : {1ULL, 2ULL, 3ULL}) {
            const std::size_t n = static_cast<std::size_t>(365 * 86400 / step);
            const WeatherSeries w = melaka_weather(start, step, n, seed);
            const double daily = sum(w.ghi_wm2) * static_cast<double>(step) / 3600.0 / 1000.0 / 365.0;
            CAPTURE(step);
            CAPTURE(seed);
            CHECK(daily > 3.8);
            CHECK(daily < 4.8);
            CHECK(daily == doctest::Approx(4.3).epsilon(0.04));  // the calibration target
            // physical bounds
            for (std::size_t k = 0; k < n; ++k) {
                REQUIRE(w.ghi_wm2[k] >= 0.0);
                REQUIRE(w.dni_wm2[k] >= 0.0);
                REQUIRE(w.dhi_wm2[k] >= 0.0);
                REQUIRE(w.ghi_wm2[k] <= 1.3 * w.ghi_clear_wm2[k] + 1e-9);
                REQUIRE(w.ghi_wm2[k] <= 1361.0 * 1.035);
            }
        }
    }
}

TEST_CASE("profiles weather: temperature cycle near 22.9 / 31.5 degC, cooler on cloudy days") {
    const std::size_t per_day = 96;
    const WeatherSeries w = melaka_weather(from_civil(2025, 1, 1), 900, 365 * per_day, 11);
    double sum_max = 0, sum_min = 0, sum_hour_min = 0, sum_hour_max = 0;
    std::vector<double> day_ghi, day_tmax;
    for (std::size_t d = 0; d < 365; ++d) {
        const auto b = w.temp_c.begin() + static_cast<std::ptrdiff_t>(d * per_day);
        const auto mx = std::max_element(b, b + per_day), mn = std::min_element(b, b + per_day);
        sum_max += *mx;
        sum_min += *mn;
        sum_hour_max += (mx - b) / 4.0;
        sum_hour_min += (mn - b) / 4.0;
        day_tmax.push_back(*mx);
        day_ghi.push_back(std::accumulate(w.ghi_wm2.begin() + static_cast<std::ptrdiff_t>(d * per_day),
                                          w.ghi_wm2.begin() + static_cast<std::ptrdiff_t>((d + 1) * per_day), 0.0));
    }
    CHECK(sum_max / 365 > 31.0);
    CHECK(sum_max / 365 < 32.0);
    CHECK(sum_min / 365 > 22.4);
    CHECK(sum_min / 365 < 23.4);
    CHECK(sum_hour_min / 365 > 4.0);   // minimum in the early morning
    CHECK(sum_hour_min / 365 < 8.0);
    CHECK(sum_hour_max / 365 > 12.5);  // maximum in the afternoon
    CHECK(sum_hour_max / 365 < 16.5);
    // sunny days are warmer: positive correlation of daily GHI and daily maximum
    const double mg = sum(day_ghi) / 365, mt = sum(day_tmax) / 365;
    double cov = 0, vg = 0, vt = 0;
    for (std::size_t d = 0; d < 365; ++d) {
        cov += (day_ghi[d] - mg) * (day_tmax[d] - mt);
        vg += (day_ghi[d] - mg) * (day_ghi[d] - mg);
        vt += (day_tmax[d] - mt) * (day_tmax[d] - mt);
    }
    CHECK(cov / std::sqrt(vg * vt) > 0.3);
}

TEST_CASE("profiles weather: deterministic, window- and step-consistent") {
    const LocalTime start = from_civil(2025, 1, 1);
    const WeatherSeries a = melaka_weather(start, 900, 96 * 60, 5);
    const WeatherSeries b = melaka_weather(start, 900, 96 * 60, 5);
    const WeatherSeries c = melaka_weather(start, 900, 96 * 60, 6);
    CHECK(a.ghi_wm2 == b.ghi_wm2);
    CHECK(a.dni_wm2 == b.dni_wm2);
    CHECK(a.dhi_wm2 == b.dhi_wm2);
    CHECK(a.temp_c == b.temp_c);
    CHECK(a.zenith_deg == b.zenith_deg);
    CHECK(a.azimuth_deg == b.azimuth_deg);
    CHECK(a.clear_sky_index == b.clear_sky_index);
    CHECK(a.ghi_wm2 != c.ghi_wm2);
    CHECK(a.temp_c != c.temp_c);
    CHECK(a.ghi_clear_wm2 == c.ghi_clear_wm2);  // the sky is clear the same way for every seed

    // a window computed alone equals the same window of a longer run, bit for bit
    const WeatherSeries feb = melaka_weather(from_civil(2025, 2, 1, 6), 900, 96 * 3, 5);
    const std::size_t off = (31 * 96) + 24;
    for (std::size_t k = 0; k < feb.size(); ++k) {
        REQUIRE(feb.ghi_wm2[k] == a.ghi_wm2[off + k]);
        REQUIRE(feb.temp_c[k] == a.temp_c[off + k]);
    }
    // hourly values are the means of the 15-minute values (same seed, same weather)
    const WeatherSeries h = melaka_weather(start, 3600, 24 * 60, 5);
    for (std::size_t k = 0; k < h.size(); ++k) {
        double g = 0, t = 0;
        for (int q = 0; q < 4; ++q) {
            g += a.ghi_wm2[4 * k + q] / 4.0;
            t += a.temp_c[4 * k + q] / 4.0;
        }
        REQUIRE(h.ghi_wm2[k] == doctest::Approx(g).epsilon(1e-9).scale(1.0));
        REQUIRE(h.temp_c[k] == doctest::Approx(t).epsilon(1e-12));
    }
    // 1-minute steps work; night is dark; zenith at the interval midpoint
    const WeatherSeries m = melaka_weather(from_civil(2025, 6, 1), 60, 1440, 5);
    CHECK(m.ghi_wm2[60] == 0.0);  // 01:00
    CHECK(*std::max_element(m.ghi_wm2.begin(), m.ghi_wm2.end()) > 300.0);
    CHECK(m.zenith_deg[13 * 60 + 14] == doctest::Approx(sun_position_at(from_civil(2025, 6, 1, 13, 14) + 30.0).zenith_deg).epsilon(1e-3));
}

TEST_CASE("profiles weather: bad arguments are named") {
    CHECK(contains(error_of([] { melaka_weather(0, 0, 10, 1); }), "step_s"));
    WeatherParams p;
    p.temp_max_c = 20.0;
    CHECK(contains(error_of([&] { melaka_weather(0, 900, 10, 1, p); }), "WeatherParams: field 'temp_max_c'"));
    p = WeatherParams{};
    p.mean_daily_ghi_kwh_m2 = 9.0;  // more than the clear sky
    CHECK(contains(error_of([&] { melaka_weather(0, 900, 10, 1, p); }), "field 'mean_daily_ghi_kwh_m2'"));
    p = WeatherParams{};
    p.linke_turbidity = std::nan("");
    CHECK_THROWS_AS(melaka_weather(0, 900, 10, 1, p), ValidationError);
}

// ------------------------------------------------------------------------------------------------
// Load profiles
// ------------------------------------------------------------------------------------------------

TEST_CASE("profiles loads: long-run daily energy equals daily_kwh") {
    const LocalTime start = from_civil(2024, 1, 1);
    const std::size_t n = 1461 * 96;  // 2024-2027
    struct Case {
        CustomerClass cls;
        double kwh;
    };
    for (const Case c : {Case{CustomerClass::Residential, 14.5}, Case{CustomerClass::Commercial, 800.0},
                         Case{CustomerClass::Industrial, 12000.0}}) {
        for (std::uint64_t id : {1ULL, 77ULL}) {
            const auto p = load_profile(c.cls, start, 900, n, 2025, id, c.kwh);
            CAPTURE(to_string(c.cls));
            CHECK(sum(p) * 0.25 / 1461.0 == doctest::Approx(c.kwh).epsilon(0.02));
            CHECK(*std::min_element(p.begin(), p.end()) >= 0.0);
        }
    }
}

TEST_CASE("profiles loads: residential air conditioning at night, 3.9 of 14.5 kWh/day (melaka.md)") {
    const LocalTime start = from_civil(2025, 3, 3);  // a Monday
    const std::size_t days = 28;
    std::vector<double> total(24, 0.0), ac(24, 0.0);
    double e_ac = 0.0, e_total = 0.0;
    const int customers = 60;
    for (int c = 0; c < customers; ++c) {
        const auto lp = load_profile_components(CustomerClass::Residential, start, 3600, days * 24, 3, c, 14.5);
        for (std::size_t k = 0; k < lp.total_kw.size(); ++k) {
            e_ac += lp.ac_kw[k];
            e_total += lp.total_kw[k];
            if (day_type(start + static_cast<LocalTime>(k) * 3600) != DayType::Weekday) continue;
            total[k % 24] += lp.total_kw[k];
            ac[k % 24] += lp.ac_kw[k];
        }
    }
    CHECK(e_ac / customers / days == doctest::Approx(3.9).epsilon(0.08));
    CHECK(e_total / customers / days == doctest::Approx(14.5).epsilon(0.04));
    const int peak = static_cast<int>(std::max_element(total.begin(), total.end()) - total.begin());
    CHECK_MESSAGE((peak >= 20 || peak <= 1), "peak hour " << peak);
    // the AC makes the night: it is the larger part of the load from 23:00 to 05:00 ...
    double night_ac = 0, night_total = 0;
    for (int h : {23, 0, 1, 2, 3, 4}) {
        night_ac += ac[h];
        night_total += total[h];
    }
    CHECK(night_ac / night_total > 0.5);
    // ... and raises the daily peak by more than 20 %
    double peak_without_ac = 0;
    for (int h = 0; h < 24; ++h) peak_without_ac = std::max(peak_without_ac, total[h] - ac[h]);
    CHECK(total[peak] > 1.2 * peak_without_ac);
}

TEST_CASE("profiles loads: commercial AC 50-60 %, office hours, weekends and holidays lower") {
    const LocalTime start = from_civil(2025, 1, 1);
    const std::size_t n = 365 * 96;
    double e_ac = 0, e_total = 0;
    for (int c = 0; c < 20; ++c) {
        const auto lp = load_profile_components(CustomerClass::Commercial, start, 900, n, 8, c, 1000.0);
        e_ac += sum(lp.ac_kw);
        e_total += sum(lp.total_kw);
    }
    CHECK(e_ac / e_total > 0.50);
    CHECK(e_ac / e_total < 0.60);

    auto day_energy = [](CustomerClass cls, LocalTime day, std::uint64_t id) {
        return sum(load_profile(cls, day, 900, 96, 8, id, 1000.0)) * 0.25;
    };
    double weekday = 0, sunday = 0, holiday = 0, res_weekday = 0, res_sunday = 0, ind_weekday = 0, ind_sunday = 0;
    for (std::uint64_t id = 0; id < 10; ++id) {
        weekday += day_energy(CustomerClass::Commercial, from_civil(2025, 10, 21), id);  // Tuesday
        sunday += day_energy(CustomerClass::Commercial, from_civil(2025, 10, 26), id);
        holiday += day_energy(CustomerClass::Commercial, from_civil(2025, 10, 20), id);  // Deepavali, a Monday
        res_weekday += day_energy(CustomerClass::Residential, from_civil(2025, 10, 21), id);
        res_sunday += day_energy(CustomerClass::Residential, from_civil(2025, 10, 26), id);
        ind_weekday += day_energy(CustomerClass::Industrial, from_civil(2025, 10, 21), id);
        ind_sunday += day_energy(CustomerClass::Industrial, from_civil(2025, 10, 26), id);
    }
    CHECK(sunday < 0.5 * weekday);
    CHECK(holiday < 0.5 * weekday);
    CHECK(ind_sunday < 0.8 * ind_weekday);
    CHECK(res_sunday > 0.95 * res_weekday);  // homes: a little more at weekends
    CHECK(res_sunday < 1.25 * res_weekday);

    // office hours: 10:00-16:00 well above 00:00-06:00 on a weekday
    const auto day = load_profile(CustomerClass::Commercial, from_civil(2025, 10, 21), 3600, 24, 8, 1, 1000.0);
    const double office = std::accumulate(day.begin() + 10, day.begin() + 16, 0.0) / 6.0;
    const double night = std::accumulate(day.begin(), day.begin() + 6, 0.0) / 6.0;
    CHECK(office > 2.5 * night);
}

TEST_CASE("profiles loads: deterministic per customer, window-consistent, seeded") {
    const LocalTime start = from_civil(2025, 1, 1);
    const auto a = load_profile(CustomerClass::Residential, start, 900, 96 * 60, 1, 10, 14.5);
    const auto b = load_profile(CustomerClass::Residential, start, 900, 96 * 60, 1, 10, 14.5);
    const auto other = load_profile(CustomerClass::Residential, start, 900, 96 * 60, 1, 11, 14.5);
    const auto reseeded = load_profile(CustomerClass::Residential, start, 900, 96 * 60, 2, 10, 14.5);
    CHECK(a == b);
    CHECK(a != other);
    CHECK(a != reseeded);
    // a window computed alone equals the same window of a longer run: a customer's profile depends only on
    // (seed, class, customer id, time), so adding customers or moving the window changes nothing
    const auto feb = load_profile(CustomerClass::Residential, from_civil(2025, 2, 10, 7), 900, 96 * 2, 1, 10, 14.5);
    const std::size_t off = 40 * 96 + 28;
    for (std::size_t k = 0; k < feb.size(); ++k) REQUIRE(feb[k] == a[off + k]);
    // hourly = mean of 15-minute values
    const auto h = load_profile(CustomerClass::Residential, start, 3600, 24 * 60, 1, 10, 14.5);
    for (std::size_t k = 0; k < h.size(); ++k)
        REQUIRE(h[k] == doctest::Approx((a[4 * k] + a[4 * k + 1] + a[4 * k + 2] + a[4 * k + 3]) / 4.0).epsilon(1e-12));
}

TEST_CASE("profiles loads: temperature response of the air conditioning") {
    const LocalTime start = from_civil(2025, 5, 5);
    const std::size_t n = 96 * 7;
    const auto base = load_profile_components(CustomerClass::Commercial, start, 900, n, 4, 3, 500.0);
    std::vector<double> ref(n), hot(n);
    for (std::size_t k = 0; k < n; ++k) {
        ref[k] = reference_temperature_c(static_cast<double>(start) + 900.0 * k + 450.0);
        hot[k] = ref[k] + 2.0;
    }
    const auto same = load_profile_components(CustomerClass::Commercial, start, 900, n, 4, 3, 500.0, &ref);
    CHECK(same.total_kw == base.total_kw);  // at the reference temperature nothing changes
    const auto warm = load_profile_components(CustomerClass::Commercial, start, 900, n, 4, 3, 500.0, &hot);
    const double alpha = default_load_params(CustomerClass::Commercial).ac_temp_coeff_per_k;
    CHECK(sum(warm.ac_kw) / sum(base.ac_kw) == doctest::Approx(1.0 + 2.0 * alpha).epsilon(1e-12));
    CHECK(sum(warm.total_kw) - sum(warm.ac_kw) == doctest::Approx(sum(base.total_kw) - sum(base.ac_kw)));
    // with the weather generator's temperature
    const WeatherSeries w = melaka_weather(start, 900, n, 4);
    const auto with_weather = load_profile(CustomerClass::Commercial, start, 900, n, 4, 3, 500.0, &w.temp_c);
    CHECK(with_weather != base.total_kw);
    CHECK(sum(with_weather) == doctest::Approx(sum(base.total_kw)).epsilon(0.05));

    std::vector<double> short_temp(n - 1, 30.0);
    CHECK(contains(error_of([&] { load_profile(CustomerClass::Commercial, start, 900, n, 4, 3, 500.0, &short_temp); }),
                   "field 'temp_c': has 671 values, expected 672"));
    CHECK(contains(error_of([&] { load_profile(CustomerClass::Industrial, start, 900, n, 4, 3, -1.0); }),
                   "load_profile(industrial, customer 3): field 'daily_kwh'"));
    LoadShapeParams bad = default_load_params(CustomerClass::Residential);
    bad.ac_fraction[2] = 1.5;
    CHECK(contains(error_of([&] { validate(bad); }), "field 'ac_fraction[sunday]'"));
    CHECK(parse_customer_class("commercial") == CustomerClass::Commercial);
    CHECK_THROWS_AS(parse_customer_class("farm"), ValidationError);
}

// ------------------------------------------------------------------------------------------------
// A year at 15 minutes (its speed is measured by benches/bench_io.cpp, never asserted here)
// ------------------------------------------------------------------------------------------------

TEST_CASE("profiles: a year at 15 minutes") {
    const LocalTime start = from_civil(2025, 1, 1);
    const WeatherSeries w = melaka_weather(start, 900, 35040, 100);
    CHECK(w.size() == 35040);
    CHECK(w.ghi_wm2.size() == 35040);
    CHECK(w.temp_c.size() == 35040);
    const std::vector<double> load = load_profile(CustomerClass::Residential, start, 900, 35040, 101, 1, 14.5);
    REQUIRE(load.size() == 35040);
    bool finite = true;
    for (double x : load) finite = finite && std::isfinite(x) && x >= 0.0;
    CHECK(finite);
    // 14.5 kWh a day on average over the year (the load shape's daily energy, within 10 %)
    CHECK(sum(load) * 0.25 / 365.0 == doctest::Approx(14.5).epsilon(0.1));
}

TEST_CASE("read_csv: steps and times beyond the range of dates are a ParseError, not an integer overflow (fuzz_csv)") {
    const std::string path = libgrid_test::scratch_path("huge_steps.csv");
    {
        std::ofstream f(path);
        f << "step,x\n0,1\n7771153080319860,2\n19860,2\n27771153080319860,2\n188\n";  // the fuzzer's input
    }
    libgrid::CsvOptions o;
    o.step_s = 900;
    CHECK_THROWS_AS(libgrid::read_csv(path, o), libgrid::ParseError);
    o.step_s = 3600;  // 7.8e15 steps of an hour: beyond int64 seconds
    try {
        (void)libgrid::read_csv(path, o);
        FAIL("accepted");
    } catch (const libgrid::ParseError& e) {
        CHECK(std::string(e.what()).find("beyond the range of dates") != std::string::npos);
    }
}
