// libgrid profiles: civil time and the Melaka public-holiday calendar.
//
// Times in libgrid are `LocalTime`: int64 seconds since 1970-01-01T00:00 on the LOCAL clock of the
// site simulated, without daylight saving. The calendar arithmetic below (to_civil, from_civil,
// day_number, day_type's weekday) needs no time zone. The site's UTC offset is an input where local
// time must become solar time or UTC (WeatherParams::utc_offset_h; docs/units.md "Place"); the
// shipped scenarios are in Melaka (Malaysia Time, UTC+8: LocalTime t is Unix time t - 8 h there).
// Calendar arithmetic is the proleptic Gregorian calendar, exact integer math, any year.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace libgrid {

using LocalTime = std::int64_t;  ///< s since 1970-01-01T00:00 on the site's local clock (Melaka: UTC+8)

inline constexpr std::int64_t kSecondsPerDay = 86400;
inline constexpr double kMelakaUtcOffsetH = 8.0;  ///< h: Malaysia Time, UTC+8, no DST (Melaka's site, WeatherParams)

struct CivilTime {
    int year = 1970;
    int month = 1;        ///< 1..12
    int day = 1;          ///< 1..31
    int hour = 0;         ///< 0..23
    int minute = 0;       ///< 0..59
    int second = 0;       ///< 0..59
    int weekday = 3;      ///< 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday)
    int day_of_year = 1;  ///< 1..366
};

CivilTime to_civil(LocalTime t);
/// Throws ValidationError when a field is out of range (month 13, 31 April, hour 24, ...).
LocalTime from_civil(int year, int month, int day, int hour = 0, int minute = 0, int second = 0);

/// Days since 1970-01-01 (local) of t, rounded down (works for negative t).
std::int64_t day_number(LocalTime t);
/// Local midnight starting the day that contains t.
inline LocalTime day_start(LocalTime t) { return day_number(t) * kSecondsPerDay; }
bool is_leap_year(int year);
int days_in_month(int year, int month);

/// Parses "2025-01-01", "2025-01-01T00:15", "2025-01-01T00:15:00" (a space may replace the 'T';
/// a fraction of a second is accepted only if it is zero). Without a zone the time is local time
/// (of any site: nothing is converted); with "Z" or "+HH:MM" / "+HHMM" / "-HH:MM" it is converted to
/// the local time of a site `utc_offset_h` hours east of UTC (Melaka's UTC+8 by default: the
/// scenarios' site). Throws ValidationError("time '<text>': <reason>") on bad input.
LocalTime parse_iso8601(std::string_view text, double utc_offset_h = kMelakaUtcOffsetH);
/// As parse_iso8601 but returns false (and a reason) instead of throwing.
bool try_parse_iso8601(std::string_view text, LocalTime& out, std::string* why = nullptr, double utc_offset_h = kMelakaUtcOffsetH);
/// "YYYY-MM-DDTHH:MM:SS", local time, no zone suffix.
std::string format_iso8601(LocalTime t);

// ---- public holidays ---------------------------------------------------------------------------

struct PublicHoliday {
    LocalTime date = 0;        ///< local midnight of the day
    std::string name;
    bool replacement = false;  ///< a day in lieu of a holiday that fell on a Sunday
};

/// Public holidays observed in Melaka in `year`, sorted by date, one entry per day (names of holidays
/// sharing a day are joined with " / ").
///  * Fixed-date and rule-based holidays (New Year, Labour Day, Agong's birthday = first Monday of June,
///    Melaka Governor's birthday 24 Aug, National Day, Malaysia Day, Christmas, Melaka's 20 Feb
///    Independence Declaration Day from 2024 / 15 Apr Historical City Day before) are generated for any year.
///  * Moving holidays (Chinese New Year, Hari Raya Aidilfitri and Haji, Awal Muharram, Maulidur Rasul,
///    Wesak, Deepavali, Melaka's Awal Ramadan / third day of Aidilfitri, special days) are tabulated for
///    2024-2027 only; outside those years none are assumed. Sources in profiles_calendar.cpp and
///    docs/profiles.md.
///  * Holidays Act 1951 s.3: a holiday falling on a Sunday gives the next day that is neither a weekend
///    day nor already a holiday. Coinciding holidays on a working day give no extra day.
std::vector<PublicHoliday> public_holidays(int year);
bool is_public_holiday(LocalTime t);

/// Melaka's weekend is Saturday-Sunday. Holiday (Melaka's, is_public_holiday) wins over Saturday/Sunday.
/// The synthetic load profiles use it; the engine's tariffs, bills and emission profile use
/// SimulationOptions::holidays instead (none unless given).
enum class DayType : int { Weekday = 0, Saturday = 1, Sunday = 2, Holiday = 3 };
DayType day_type(LocalTime t);
const char* to_string(DayType d);

}  // namespace libgrid
