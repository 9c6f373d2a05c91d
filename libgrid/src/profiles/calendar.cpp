// libgrid profiles: civil time, ISO 8601 and the Melaka public-holiday calendar.
// Day <-> civil date conversions: H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"
// (days_from_civil / civil_from_days), exact for the proleptic Gregorian calendar.
#include <libgrid/profiles/calendar.hpp>

#include <libgrid/core/errors.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "fp.hpp"  // last: no FMA contraction below (determinism)

namespace libgrid {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_from_days(std::int64_t z, int& year, int& month, int& day) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = yoe + era * 400;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    year = static_cast<int>(y + (month <= 2 ? 1 : 0));
}

int weekday_of_day(std::int64_t z) {  // 0 = Monday; day 0 (1970-01-01) was a Thursday
    return static_cast<int>(((z % 7) + 7 + 3) % 7);
}

std::int64_t day_of(int y, int m, int d) { return days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)); }

// ---- ISO 8601 ----------------------------------------------------------------------------------

struct Cursor {
    std::string_view s;
    std::size_t i = 0;
    bool at_end() const { return i >= s.size(); }
    char peek() const { return at_end() ? '\0' : s[i]; }
    bool digits(int count, int& value) {
        value = 0;
        for (int k = 0; k < count; ++k) {
            if (at_end() || s[i] < '0' || s[i] > '9') return false;
            value = value * 10 + (s[i] - '0');
            ++i;
        }
        return true;
    }
    bool expect(char c) {
        if (peek() != c) return false;
        ++i;
        return true;
    }
};

bool fail(std::string* why, const char* reason) {
    if (why) *why = reason;
    return false;
}

}  // namespace

bool is_leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int y, int m) {
    static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12) return 0;
    return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

std::int64_t day_number(LocalTime t) { return floor_div(t, kSecondsPerDay); }

CivilTime to_civil(LocalTime t) {
    const std::int64_t z = day_number(t);
    const std::int64_t sod = t - z * kSecondsPerDay;
    CivilTime c;
    civil_from_days(z, c.year, c.month, c.day);
    c.hour = static_cast<int>(sod / 3600);
    c.minute = static_cast<int>((sod % 3600) / 60);
    c.second = static_cast<int>(sod % 60);
    c.weekday = weekday_of_day(z);
    c.day_of_year = static_cast<int>(z - day_of(c.year, 1, 1)) + 1;
    return c;
}

LocalTime from_civil(int year, int month, int day, int hour, int minute, int second) {
    auto bad = [&](const char* field, int value) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "from_civil %04d-%02d-%02dT%02d:%02d:%02d: field '%s': %d out of range", year,
                      month, day, hour, minute, second, field, value);
        throw ValidationError(buf);
    };
    if (month < 1 || month > 12) bad("month", month);
    if (day < 1 || day > days_in_month(year, month)) bad("day", day);
    if (hour < 0 || hour > 23) bad("hour", hour);
    if (minute < 0 || minute > 59) bad("minute", minute);
    if (second < 0 || second > 59) bad("second", second);
    return day_of(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second;
}

bool try_parse_iso8601(std::string_view text, LocalTime& out, std::string* why, double utc_offset_h) {
    // trim
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    Cursor c{text};
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (!c.digits(4, y)) return fail(why, "expected YYYY-MM-DD");
    if (!c.expect('-') || !c.digits(2, mo) || !c.expect('-') || !c.digits(2, d)) return fail(why, "expected YYYY-MM-DD");
    if (mo < 1 || mo > 12) return fail(why, "month out of range");
    if (d < 1 || d > days_in_month(y, mo)) return fail(why, "day out of range for the month");
    if (!std::isfinite(utc_offset_h) || utc_offset_h < -14.0 || utc_offset_h > 14.0) return fail(why, "utc_offset_h must be in -14 .. 14 h");
    const std::int64_t site_s = std::llround(utc_offset_h * 3600.0);
    std::int64_t offset_s = site_s;  // default: already the site's local time
    bool has_zone = false;
    if (!c.at_end()) {
        if (c.peek() != 'T' && c.peek() != 't' && c.peek() != ' ') return fail(why, "expected 'T' after the date");
        ++c.i;
        if (!c.digits(2, h) || !c.expect(':') || !c.digits(2, mi)) return fail(why, "expected HH:MM after the date");
        if (c.peek() == ':') {
            ++c.i;
            if (!c.digits(2, se)) return fail(why, "expected seconds after HH:MM:");
            if (c.peek() == '.' || c.peek() == ',') {
                ++c.i;
                bool any = false;
                while (!c.at_end() && c.peek() >= '0' && c.peek() <= '9') {
                    if (c.peek() != '0') return fail(why, "fractional seconds are not supported (times are whole seconds)");
                    any = true;
                    ++c.i;
                }
                if (!any) return fail(why, "expected digits after the decimal point");
            }
        }
        if (h > 23) return fail(why, "hour out of range");
        if (mi > 59) return fail(why, "minute out of range");
        if (se > 59) return fail(why, "second out of range");
        // optional zone
        if (c.peek() == 'Z' || c.peek() == 'z') {
            ++c.i;
            offset_s = 0;
            has_zone = true;
        } else if (c.peek() == '+' || c.peek() == '-') {
            const int sign = c.peek() == '+' ? 1 : -1;
            ++c.i;
            int oh = 0, om = 0;
            if (!c.digits(2, oh)) return fail(why, "expected a zone offset +HH:MM");
            if (c.peek() == ':') ++c.i;
            if (!c.digits(2, om)) return fail(why, "expected a zone offset +HH:MM");
            if (oh > 14 || om > 59) return fail(why, "zone offset out of range");
            offset_s = sign * (oh * 3600 + om * 60);
            has_zone = true;
        }
    }
    if (!c.at_end()) return fail(why, "unexpected characters after the time");
    LocalTime t = day_of(y, mo, d) * kSecondsPerDay + h * 3600 + mi * 60 + se;
    if (has_zone) t += site_s - offset_s;  // to UTC, then to the site's local time
    out = t;
    return true;
}

LocalTime parse_iso8601(std::string_view text, double utc_offset_h) {
    LocalTime t = 0;
    std::string why;
    if (!try_parse_iso8601(text, t, &why, utc_offset_h))
        throw ValidationError("time '" + std::string(text) + "': " + why);
    return t;
}

std::string format_iso8601(LocalTime t) {
    const CivilTime c = to_civil(t);
    char buf[40];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute, c.second);
    return buf;
}

// ---- public holidays ---------------------------------------------------------------------------

namespace {

struct TabulatedHoliday {
    int year, month, day;
    const char* name;
};

// Moving and special holidays observed in Melaka, 2024-2027 (before Sunday replacement, which is
// computed). Islamic dates are set by sighting of the moon and may move by a day.
//  2024: Melaka state list (melaka.gov.my, as reproduced by ecentral.my "Cuti Umum Melaka 2024");
//        26 Aug additional holiday for the Governor's 75th birthday (state announcement, 5 Aug 2024,
//        Holidays Act s.9(1)). No replacement for 16 Sep (Malaysia Day = Maulidur Rasul): Prime
//        Minister's Department, reported by theSun 8 Aug 2024.
//  2025: Melaka list (cutisekolah.com.my, "Public holidays 2025 Malacca"); from 2025 Melaka replaced
//        Awal Ramadan by a third day of Aidilfitri (kasturihijau.com; rojaklah.com, Mar 2025).
//  2026: federal + Melaka gazette as compiled in a public 2026-27 holiday table (GitHub); 20 Mar is the
//        additional Aidilfitri holiday announced by the Prime Minister (Kosmo!, 2026). 19 Feb (1 Ramadan)
//        was a special leave for civil servants only (Bernama, 19 Jan 2026): not a public holiday.
//  2027: same compiled table and cutisekolah.com.my "Melaka Public Holidays 2027" (provisional).
//  A third Aidilfitri day for Melaka in 2026-2027 was not confirmed by any source found: not included.
constexpr TabulatedHoliday kMoving[] = {
    {2024, 2, 10, "Chinese New Year"},
    {2024, 2, 11, "Chinese New Year (second day)"},
    {2024, 3, 12, "Awal Ramadan"},
    {2024, 4, 10, "Hari Raya Aidilfitri"},
    {2024, 4, 11, "Hari Raya Aidilfitri (second day)"},
    {2024, 5, 22, "Wesak Day"},
    {2024, 6, 17, "Hari Raya Haji"},
    {2024, 7, 7, "Awal Muharram"},
    {2024, 8, 26, "Additional holiday (Governor's 75th birthday)"},
    {2024, 9, 16, "Maulidur Rasul"},
    {2024, 10, 31, "Deepavali"},

    {2025, 1, 29, "Chinese New Year"},
    {2025, 1, 30, "Chinese New Year (second day)"},
    {2025, 3, 31, "Hari Raya Aidilfitri"},
    {2025, 4, 1, "Hari Raya Aidilfitri (second day)"},
    {2025, 4, 2, "Hari Raya Aidilfitri (third day, Melaka)"},
    {2025, 5, 12, "Wesak Day"},
    {2025, 6, 7, "Hari Raya Haji"},
    {2025, 6, 27, "Awal Muharram"},
    {2025, 9, 5, "Maulidur Rasul"},
    {2025, 10, 20, "Deepavali"},

    {2026, 2, 17, "Chinese New Year"},
    {2026, 2, 18, "Chinese New Year (second day)"},
    {2026, 3, 20, "Hari Raya Aidilfitri (additional holiday)"},
    {2026, 3, 21, "Hari Raya Aidilfitri"},
    {2026, 3, 22, "Hari Raya Aidilfitri (second day)"},
    {2026, 5, 27, "Hari Raya Haji"},
    {2026, 5, 31, "Wesak Day"},
    {2026, 6, 17, "Awal Muharram"},
    {2026, 8, 25, "Maulidur Rasul"},
    {2026, 11, 8, "Deepavali"},

    {2027, 2, 6, "Chinese New Year"},
    {2027, 2, 7, "Chinese New Year (second day)"},
    {2027, 3, 10, "Hari Raya Aidilfitri"},
    {2027, 3, 11, "Hari Raya Aidilfitri (second day)"},
    {2027, 5, 17, "Hari Raya Haji"},
    {2027, 5, 20, "Wesak Day"},
    {2027, 6, 6, "Awal Muharram"},
    {2027, 8, 15, "Maulidur Rasul"},
    {2027, 10, 28, "Deepavali"},
};

std::int64_t nth_weekday_of_month(int year, int month, int weekday, int n) {
    const std::int64_t first = day_of(year, month, 1);
    const int wd = weekday_of_day(first);
    return first + ((weekday - wd + 7) % 7) + 7 * (n - 1);
}

struct Entry {
    std::int64_t day;
    std::string name;
};

// Holidays "specified" for the year (no replacements), unsorted.
std::vector<Entry> scheduled_holidays(int y) {
    std::vector<Entry> v;
    v.reserve(24);
    // Fixed dates and rules (Holidays Act 1951 schedule; Melaka state holidays). Sources: python-holidays
    // (vacanza/holidays, holidays/countries/malaysia.py, MIT) and the state lists cited above.
    v.push_back({day_of(y, 1, 1), "New Year's Day"});
    if (y >= 2024)
        v.push_back({day_of(y, 2, 20), "Independence Declaration Day (Melaka)"});  // replaced 15 Apr from 2024 (theSun, 4 Oct 2023)
    else if (y >= 1989)
        v.push_back({day_of(y, 4, 15), "Declaration of Melaka as a Historical City"});
    if (y >= 1973) v.push_back({day_of(y, 5, 1), "Labour Day"});
    if (y >= 2021) v.push_back({nth_weekday_of_month(y, 6, 0, 1), "Birthday of the Yang di-Pertuan Agong"});
    if (y >= 2020)
        v.push_back({day_of(y, 8, 24), "Birthday of the Yang di-Pertua Negeri Melaka"});
    else
        v.push_back({nth_weekday_of_month(y, 10, 4, 2), "Birthday of the Yang di-Pertua Negeri Melaka"});
    if (y >= 1957) v.push_back({day_of(y, 8, 31), "National Day"});
    if (y >= 2010) v.push_back({day_of(y, 9, 16), "Malaysia Day"});
    v.push_back({day_of(y, 12, 25), "Christmas Day"});
    for (const auto& h : kMoving)
        if (h.year == y) v.push_back({day_of(h.year, h.month, h.day), h.name});
    return v;
}

}  // namespace

std::vector<PublicHoliday> public_holidays(int year) {
    std::vector<Entry> sched = scheduled_holidays(year);
    std::stable_sort(sched.begin(), sched.end(), [](const Entry& a, const Entry& b) { return a.day < b.day; });
    std::vector<std::int64_t> taken;
    taken.reserve(sched.size() * 2);
    for (const auto& e : sched) taken.push_back(e.day);
    auto is_taken = [&](std::int64_t d) { return std::find(taken.begin(), taken.end(), d) != taken.end(); };

    std::vector<PublicHoliday> out;
    for (const auto& e : sched) {
        if (!out.empty() && out.back().date == e.day * kSecondsPerDay && !out.back().replacement) {
            out.back().name += " / " + e.name;
        } else {
            out.push_back({e.day * kSecondsPerDay, e.name, false});
        }
    }
    // Holidays Act 1951 s.3: each holiday on a Sunday gives the next day that is not a weekend day and
    // not already a holiday (processed in date order so that earlier replacements count as taken).
    std::vector<PublicHoliday> replacements;
    for (const auto& e : sched) {
        if (weekday_of_day(e.day) != 6) continue;
        std::int64_t d = e.day + 1;
        while (is_taken(d) || weekday_of_day(d) >= 5) ++d;
        taken.push_back(d);
        replacements.push_back({d * kSecondsPerDay, e.name + " (replacement)", true});
    }
    out.insert(out.end(), replacements.begin(), replacements.end());
    std::stable_sort(out.begin(), out.end(), [](const PublicHoliday& a, const PublicHoliday& b) { return a.date < b.date; });
    return out;
}

bool is_public_holiday(LocalTime t) {
    // Cache the holiday days of the last two years looked up (per thread): callers ask day after day.
    struct YearDays {
        int year = -1;
        std::vector<std::int64_t> days;
    };
    thread_local YearDays cache[2];
    thread_local int next_slot = 0;
    auto days_of = [&](int year) -> const std::vector<std::int64_t>& {
        for (const auto& c : cache)
            if (c.year == year) return c.days;
        YearDays& c = cache[next_slot];
        next_slot = 1 - next_slot;
        c.year = year;
        c.days.clear();
        for (const auto& h : public_holidays(year)) c.days.push_back(day_number(h.date));
        return c.days;
    };
    const std::int64_t z = day_number(t);
    int y = 0, m = 0, d = 0;
    civil_from_days(z, y, m, d);
    const auto& days = days_of(y);
    if (std::binary_search(days.begin(), days.end(), z)) return true;
    if (m == 1) {  // a replacement of a late-December holiday could spill into January
        const auto& prev = days_of(y - 1);
        if (!prev.empty() && prev.back() == z) return true;
    }
    return false;
}

DayType day_type(LocalTime t) {
    if (is_public_holiday(t)) return DayType::Holiday;
    const int wd = weekday_of_day(day_number(t));
    if (wd == 5) return DayType::Saturday;
    if (wd == 6) return DayType::Sunday;
    return DayType::Weekday;
}

const char* to_string(DayType d) {
    switch (d) {
        case DayType::Weekday: return "weekday";
        case DayType::Saturday: return "saturday";
        case DayType::Sunday: return "sunday";
        case DayType::Holiday: return "holiday";
    }
    return "?";
}

}  // namespace libgrid
