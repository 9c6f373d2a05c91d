// libgrid profiles: TimeSeries, resampling and the CSV reader. HDF5 is in profiles_time_series_hdf5.cpp.
#include <libgrid/profiles/time_series.hpp>

#include <libgrid/core/errors.hpp>
#include <libgrid/core/input_file.hpp>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>

#include "fp.hpp"  // last: no FMA contraction below (determinism)

namespace libgrid {

namespace {

std::string series_label(const TimeSeries& ts) { return ts.name.empty() ? std::string("(unnamed)") : ts.name; }

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}

void check_series(const TimeSeries& in, const char* who) {
    if (in.step_s <= 0)
        throw ValidationError(std::string(who) + " series '" + series_label(in) + "': field 'step_s': must be > 0, got " +
                              std::to_string(in.step_s));
    if (in.values.empty())
        throw ValidationError(std::string(who) + " series '" + series_label(in) + "': field 'values': empty");
}

}  // namespace

double TimeSeries::at(LocalTime t) const {
    check_series(*this, "TimeSeries::at:");
    const std::int64_t k = floor_div(t - start, step_s);
    if (k < 0 || k >= static_cast<std::int64_t>(values.size()))
        throw ValidationError("TimeSeries::at: series '" + series_label(*this) + "': time " + format_iso8601(t) +
                              " outside [" + format_iso8601(start) + ", " + format_iso8601(end()) + ")");
    return values[static_cast<std::size_t>(k)];
}

TimeSeries resample(const TimeSeries& in, LocalTime start, std::int64_t step_s, std::size_t n, Resample how) {
    check_series(in, "resample:");
    if (step_s <= 0)
        throw ValidationError("resample: series '" + series_label(in) + "': field 'step_s': must be > 0, got " +
                              std::to_string(step_s));
    TimeSeries out;
    out.start = start;
    out.step_s = step_s;
    out.name = in.name;
    out.values.resize(n);
    if (n == 0) return out;

    const std::int64_t m = static_cast<std::int64_t>(in.values.size());
    const LocalTime last_out = start + static_cast<std::int64_t>(n - 1) * step_s;
    auto outside = [&](const char* what, LocalTime a, LocalTime b) {
        throw ValidationError("resample: series '" + series_label(in) + "': " + what + " [" + format_iso8601(a) + ", " +
                              format_iso8601(b) + "] not inside the input span [" + format_iso8601(in.start) + ", " +
                              format_iso8601(how == Resample::Interpolate ? in.time(in.size() - 1) : in.end()) + "]");
    };

    switch (how) {
        case Resample::Interpolate: {
            if (start < in.start || last_out > in.time(in.size() - 1)) outside("output times", start, last_out);
            for (std::size_t j = 0; j < n; ++j) {
                const std::int64_t off = start + static_cast<std::int64_t>(j) * step_s - in.start;
                const std::int64_t k = off / in.step_s;
                const std::int64_t rem = off - k * in.step_s;
                const double a = in.values[static_cast<std::size_t>(k)];
                if (rem == 0) {
                    out.values[j] = a;
                } else {
                    const double b = in.values[static_cast<std::size_t>(k + 1)];
                    const double w = static_cast<double>(rem) / static_cast<double>(in.step_s);
                    out.values[j] = a + w * (b - a);
                }
            }
            break;
        }
        case Resample::Mean: {
            const LocalTime out_end = last_out + step_s;
            if (start < in.start || out_end > in.end()) outside("output intervals", start, out_end);
            std::int64_t k = (start - in.start) / in.step_s;
            for (std::size_t j = 0; j < n; ++j) {
                const LocalTime a = start + static_cast<std::int64_t>(j) * step_s;
                const LocalTime b = a + step_s;
                while (k + 1 < m && in.time(static_cast<std::size_t>(k + 1)) <= a) ++k;
                double sum = 0.0;
                for (std::int64_t i = k; i < m; ++i) {
                    const LocalTime ia = in.time(static_cast<std::size_t>(i));
                    if (ia >= b) break;
                    const LocalTime lo = ia > a ? ia : a;
                    const LocalTime ib = ia + in.step_s;
                    const LocalTime hi = ib < b ? ib : b;
                    if (hi > lo) sum += static_cast<double>(hi - lo) * in.values[static_cast<std::size_t>(i)];
                }
                out.values[j] = sum / static_cast<double>(step_s);
            }
            break;
        }
        case Resample::Hold: {
            if (start < in.start || last_out >= in.end()) outside("output times", start, last_out);
            for (std::size_t j = 0; j < n; ++j) {
                const std::int64_t k = (start + static_cast<std::int64_t>(j) * step_s - in.start) / in.step_s;
                out.values[j] = in.values[static_cast<std::size_t>(k)];
            }
            break;
        }
        default:
            throw ValidationError("resample: unknown method " + std::to_string(static_cast<int>(how)));
    }
    return out;
}

// ---- CSV -----------------------------------------------------------------------------------------

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

// Splits one CSV record (no embedded newlines) into fields; double quotes with "" escapes.
bool split_csv(std::string_view line, std::vector<std::string>& fields, std::string& why) {
    fields.clear();
    std::string cur;
    bool in_quotes = false, was_quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char ch = line[i];
        if (in_quotes) {
            if (ch == '"') {
                if (i + 1 < line.size() && line[i + 1] == '"') {
                    cur.push_back('"');
                    ++i;
                } else {
                    in_quotes = false;
                }
            } else {
                cur.push_back(ch);
            }
        } else if (ch == '"') {
            if (!trim(cur).empty()) {
                why = "quote in the middle of a field";
                return false;
            }
            cur.clear();
            in_quotes = true;
            was_quoted = true;
        } else if (ch == ',') {
            fields.push_back(was_quoted ? cur : std::string(trim(cur)));
            cur.clear();
            was_quoted = false;
        } else {
            cur.push_back(ch);
        }
    }
    if (in_quotes) {
        why = "unterminated quoted field";
        return false;
    }
    fields.push_back(was_quoted ? cur : std::string(trim(cur)));
    return true;
}

enum class NumberStatus { Ok, Empty, NotANumber, NotFinite };

NumberStatus parse_double(std::string_view s, double& v) {
    s = trim(s);
    if (s.empty()) return NumberStatus::Empty;
    if (s.front() == '+') s.remove_prefix(1);
    const char* b = s.data();
    const char* e = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(b, e, v, std::chars_format::general);
    if (ec != std::errc() || ptr != e) return NumberStatus::NotANumber;
    if (!std::isfinite(v)) return NumberStatus::NotFinite;
    return NumberStatus::Ok;
}

}  // namespace

namespace {

/// The state of one CSV read: the header's columns, the rows' times and the series being filled.
struct CsvReader {
    const std::string& path;
    const CsvOptions& options;
    std::vector<std::string> header, fields;
    std::string why;
    long lineno = 0, header_line = 0;
    int time_col = -1, step_col = -1;
    std::vector<int> value_cols;
    std::vector<TimeSeries> out;
    std::vector<LocalTime> times;
    bool use_step = false;

    CsvReader(const std::string& path_, const CsvOptions& options_) : path(path_), options(options_) {}

    const std::string& time_name() const { return use_step ? options.step_column : options.time_column; }

    /// The header row: unique, non-empty names; the time (or step) column; one series per value column.
    void read_header() {
        header_line = lineno;
        for (std::size_t c = 0; c < header.size(); ++c) {
            if (header[c].empty()) throw ParseError(path, lineno, "column " + std::to_string(c + 1) + ": empty name");
            for (std::size_t c2 = 0; c2 < c; ++c2)
                if (header[c2] == header[c]) throw ParseError(path, lineno, "column '" + header[c] + "': duplicate name");
            if (header[c] == options.time_column) time_col = static_cast<int>(c);
            if (header[c] == options.step_column) step_col = static_cast<int>(c);
        }
        use_step = options.step_s > 0 && step_col >= 0;
        if (!use_step && time_col < 0) {
            std::string msg = "no time column '" + options.time_column + "'";
            if (step_col >= 0) msg += " (there is a '" + options.step_column + "' column: give CsvOptions::step_s and start)";
            throw ParseError(path, lineno, msg);
        }
        for (std::size_t c = 0; c < header.size(); ++c) {
            if (static_cast<int>(c) == time_col || (use_step && static_cast<int>(c) == step_col)) continue;
            value_cols.push_back(static_cast<int>(c));
            TimeSeries ts;
            ts.name = header[c];
            out.push_back(std::move(ts));
        }
        if (value_cols.empty()) throw ParseError(path, lineno, "no value columns besides the time column");
    }

    /// The row's time: start + step * step_s, or seconds, or an ISO 8601 time.
    LocalTime row_time() {
        LocalTime t = 0;
        if (use_step) {
            double s = 0.0;
            const auto st = parse_double(fields[static_cast<std::size_t>(step_col)], s);
            if (st != NumberStatus::Ok || s != std::floor(s) || std::fabs(s) > 9.0e15)
                throw ParseError(path, lineno, "column '" + options.step_column + "': not an integer step: '" +
                                                   fields[static_cast<std::size_t>(step_col)] + "'");
            std::int64_t offset = 0;
            LocalTime at = 0;
            if (__builtin_mul_overflow(static_cast<std::int64_t>(s), options.step_s, &offset) ||
                __builtin_add_overflow(options.start, offset, &at))
                throw ParseError(path, lineno, "column '" + options.step_column + "': step " + fields[static_cast<std::size_t>(step_col)] +
                                                   " is beyond the range of dates");
            return at;
        }
        const std::string& cell = fields[static_cast<std::size_t>(time_col)];
        double secs = 0.0;
        if (parse_double(cell, secs) == NumberStatus::Ok) {
            if (secs != std::floor(secs) || std::fabs(secs) > 9.0e15)
                throw ParseError(path, lineno, "column '" + options.time_column + "': seconds must be a whole number: '" + cell + "'");
            t = static_cast<LocalTime>(secs);
        } else if (!try_parse_iso8601(cell, t, &why)) {
            throw ParseError(path, lineno, "column '" + options.time_column + "': not a time: '" + cell + "' (" + why + ")");
        }
        return t;
    }

    /// Times increase evenly: the first two rows set the step.
    void check_spacing(LocalTime t) const {
        std::int64_t gap = 0;
        if (times.size() == 1 && __builtin_sub_overflow(t, times[0], &gap))
            throw ParseError(path, lineno, "column '" + time_name() + "': times beyond the range of dates");
        if (times.size() == 1 && t <= times[0])
            throw ParseError(path, lineno, "column '" + time_name() + "': times must increase: " + format_iso8601(t) +
                                               " after " + format_iso8601(times[0]));
        if (times.size() >= 2) {
            const std::int64_t step = times[1] - times[0];
            std::int64_t offset = 0;
            LocalTime expected = 0;
            if (__builtin_mul_overflow(static_cast<std::int64_t>(times.size()), step, &offset) ||
                __builtin_add_overflow(times[0], offset, &expected))  // found by fuzz_csv: a huge step
                throw ParseError(path, lineno, "column '" + time_name() + "': times beyond the range of dates after " +
                                                   std::to_string(times.size()) + " rows");
            if (t != expected)
                throw ParseError(path, lineno, "column '" + time_name() + "': times must be evenly spaced: expected " +
                                                   format_iso8601(expected) + ", got " + format_iso8601(t));
        }
    }

    void read_values() {
        for (std::size_t j = 0; j < value_cols.size(); ++j) {
            const std::string& cell = fields[static_cast<std::size_t>(value_cols[j])];
            double v = 0.0;
            switch (parse_double(cell, v)) {
                case NumberStatus::Ok: break;
                case NumberStatus::Empty: throw ParseError(path, lineno, "column '" + out[j].name + "': empty value");
                case NumberStatus::NotANumber:
                    throw ParseError(path, lineno, "column '" + out[j].name + "': not a number: '" + cell + "'");
                case NumberStatus::NotFinite:
                    throw ParseError(path, lineno, "column '" + out[j].name + "': not a finite number: '" + cell + "'");
            }
            out[j].values.push_back(v);
        }
    }

    /// One line of the file: skipped (blank, comment), the header, or a data row.
    void read_line(std::string& line) {
        ++lineno;
        if (lineno == 1 && line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xEF &&
            static_cast<unsigned char>(line[1]) == 0xBB && static_cast<unsigned char>(line[2]) == 0xBF)
            line.erase(0, 3);  // UTF-8 byte-order mark
        const std::string_view text = trim(line);
        if (text.empty() || text.front() == '#') return;
        if (!split_csv(text, header_line == 0 ? header : fields, why)) throw ParseError(path, lineno, why);
        if (header_line == 0) {
            read_header();
            return;
        }
        if (fields.size() != header.size())
            throw ParseError(path, lineno, "expected " + std::to_string(header.size()) + " fields, got " + std::to_string(fields.size()));
        const LocalTime t = row_time();
        check_spacing(t);
        times.push_back(t);
        read_values();
    }

    /// After the last line: the series' start and step (inferred from the rows, else CsvOptions::step_s).
    std::vector<TimeSeries> finish(bool read_failed) {
        if (read_failed) throw ParseError(path, lineno, "read error");
        if (header_line == 0) throw ParseError(path, lineno, "no header row");
        if (times.empty()) throw ParseError(path, header_line, "no data rows");
        std::int64_t step = 0;
        if (times.size() >= 2) {
            step = times[1] - times[0];
        } else if (options.step_s > 0) {
            step = options.step_s;
        } else {
            throw ParseError(path, lineno, "one data row: cannot infer the time step (give CsvOptions::step_s)");
        }
        for (auto& ts : out) {
            ts.start = times[0];
            ts.step_s = step;
        }
        return std::move(out);
    }
};

}  // namespace

std::vector<TimeSeries> read_csv(const std::string& path, const CsvOptions& options) {
    // Regular files only, at most kMaxInputFileBytes (io/input_file.hpp).
    std::istringstream f(read_input_file(path));
    CsvReader r(path, options);
    std::string line;
    while (std::getline(f, line)) r.read_line(line);
    return r.finish(f.bad());
}

std::vector<TimeSeries> read_csv(const std::string& path, const std::string& time_column) {
    CsvOptions o;
    o.time_column = time_column;
    return read_csv(path, o);
}

}  // namespace libgrid
