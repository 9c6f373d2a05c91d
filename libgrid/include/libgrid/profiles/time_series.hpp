// libgrid profiles: evenly spaced time series, resampling, and reading series from CSV and HDF5.
//
// A TimeSeries has values at start + k * step_s (k = 0..n-1), times in LocalTime (s since
// 1970-01-01T00:00 Melaka local time). Its values mean either
//  * interval means over [start + k step, start + (k+1) step)   (energies, mean powers), or
//  * instantaneous samples at start + k step                     (temperatures, set points);
// the series does not record which: the caller chooses the resampling method that fits.
#pragma once

#include <libgrid/profiles/calendar.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace libgrid {

struct TimeSeries {
    LocalTime start = 0;         ///< time of values[0], s (LocalTime)
    std::int64_t step_s = 3600;  ///< spacing, s, > 0
    std::vector<double> values;  ///< in the series' own unit (see name)
    std::string name;            ///< column / dataset name, used in error messages

    std::size_t size() const { return values.size(); }
    LocalTime time(std::size_t k) const { return start + static_cast<std::int64_t>(k) * step_s; }
    LocalTime end() const { return time(values.size()); }  ///< end of the last interval
    /// Value of the interval [time(k), time(k+1)) that contains t. Throws ValidationError when t is
    /// outside [start, end()).
    double at(LocalTime t) const;
};

enum class Resample : int {
    Interpolate = 0,  ///< values are instantaneous samples; linear interpolation between them
    Mean = 1,         ///< values are interval means; output = mean over each output interval (conserves energy)
    Hold = 2,         ///< zero-order hold: the value of the input interval containing the output time
};

/// Resamples `in` onto n points start + j step_s. Up- and down-sampling, any alignment.
/// The output must lie inside the input's span, else ValidationError naming the series:
///  Interpolate: every output time in [in.time(0), in.time(n-1)];
///  Mean: every output interval inside [in.start, in.end()];
///  Hold: every output time in [in.start, in.end()).
/// NaN inputs propagate to the outputs that use them.
TimeSeries resample(const TimeSeries& in, LocalTime start, std::int64_t step_s, std::size_t n, Resample how);

struct CsvOptions {
    std::string time_column = "time";  ///< ISO 8601 text (see parse_iso8601) or seconds (LocalTime)
    std::string step_column = "step";  ///< integer step index, used only when step_s > 0
    LocalTime start = 0;               ///< time of step 0 (with step_column)
    std::int64_t step_s = 0;           ///< > 0: take times from step_column as start + step * step_s
};

/// Reads a CSV file with a header row: one TimeSeries per column other than the time (and step)
/// column, all with the same start and step. Times must be evenly spaced and increasing.
/// Cells: numbers in C locale ("1.5", "-2e3"); empty, non-numeric, NaN or infinite cells are errors.
/// Blank lines and lines starting with '#' are skipped; fields may be double-quoted.
/// Errors: ParseError(file, line, "column 'x': not a number: 'abc'") and the like.
std::vector<TimeSeries> read_csv(const std::string& path, const CsvOptions& options);
std::vector<TimeSeries> read_csv(const std::string& path, const std::string& time_column = "time");

/// Reads a 1-D numeric dataset (any integer or float type, converted to double) with attributes
/// `start` (ISO 8601 string, or integer seconds LocalTime) and `step_s` (integer, > 0).
/// `dataset` may be a path ("/weather/ghi"). Errors: ValidationError("HDF5 file.h5:/ghi: ...").
TimeSeries read_hdf5(const std::string& path, const std::string& dataset);
/// Writes `ts` as a 1-D float64 dataset with the attributes read_hdf5 expects (start as ISO 8601).
/// Creates the file if missing (else opens it read-write), creates intermediate groups; an existing
/// dataset of that name is an error.
void write_hdf5(const std::string& path, const std::string& dataset, const TimeSeries& ts);

}  // namespace libgrid
