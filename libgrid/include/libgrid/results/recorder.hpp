// libgrid layer 9: where a run's results go, whatever the format.
//
// A Recorder takes declared series (group, name, unit, columns) and rows appended to them, the
// static vectors that label the columns (`<group>/id`, buses, customers), attributes and summary
// scalars. Two implementations: the HDF5 recorder (make_hdf5_recorder, over ResultsWriter: the
// layout of docs/results_hdf5.md) and MemoryRecorder (every series kept as a vector, for C++
// users and tests). The time-series engine writes only through this interface.
//
// Room for a phase axis: a SeriesSpec has `phases` (1 today); a series of n columns and p phases
// has rows of n * p values, column-major by phase (n values of phase a, then b, then c).
#pragma once

#include <libgrid/results/results_options.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace libgrid {

/// What a recorded series is: `<group>/<name>`, its unit and its width.
struct SeriesSpec {
    std::string group;
    std::string name;
    std::string unit;
    std::size_t columns = 0;  ///< one per element of the group (its `<group>/id`)
    std::size_t phases = 1;   ///< a second column dimension (three-phase, later); 1 today
    bool integer = false;     ///< int64 values (tap positions, flags, counts), else float
};

class Recorder {
public:
    virtual ~Recorder() = default;

    // ---- run information and fixed data ----
    virtual void write_run_info(const std::string& scenario_text, std::uint64_t seed) = 0;
    /// Hint: about this many columns will be appended per step in all (memory plan of a buffer).
    virtual void plan(std::size_t total_columns) = 0;
    /// Hint: at most this many rows (steps) will be appended to a series (memory plan; no-op by default).
    virtual void plan_rows(std::size_t /*rows*/) {}
    virtual void write_ids(const std::string& group, const std::vector<std::int64_t>& ids) = 0;
    virtual void write_vector(const std::string& path, const std::vector<double>& v, const std::string& unit = "") = 0;
    virtual void write_int_vector(const std::string& path, const std::vector<std::int64_t>& v, const std::string& unit = "") = 0;
    virtual void write_strings(const std::string& path, const std::vector<std::string>& v) = 0;
    /// A summary scalar (a KPI) with its unit.
    virtual void write_scalar(const std::string& path, double value, const std::string& unit = "") = 0;
    virtual void set_attribute(const std::string& object_path, const std::string& name, const std::string& value) = 0;
    virtual void set_attribute(const std::string& object_path, const std::string& name, std::int64_t value) = 0;
    void set_attribute(const std::string& object_path, const std::string& name, const char* value) {
        set_attribute(object_path, name, std::string(value));
    }

    // ---- series ----
    /// `/time` (the steps' time stamps); append with append_time.
    virtual int add_time() = 0;
    virtual void append_time(std::int64_t seconds) = 0;
    /// `<group>/time`, for a group whose rows are not the steps (meter intervals); append(handle, &t).
    virtual int add_group_time(const std::string& group) = 0;
    /// Declares a series; returns the handle its rows are appended with.
    virtual int add_series(const SeriesSpec& spec) = 0;
    /// One row (columns * phases values). No allocation in the HDF5 recorder.
    virtual void append(int handle, const double* row) = 0;
    virtual void append(int handle, const std::int64_t* row) = 0;

    // ---- durability (checkpoints) ----
    /// Every series' path and rows appended so far, in the order they were added.
    virtual std::vector<std::pair<std::string, std::size_t>> series_rows() const = 0;
    /// Rows of a series that a kill of the process now would leave readable.
    virtual std::size_t durable_rows(int handle) const = 0;
    /// Bytes free where the results go (SIZE_MAX when unknown or unbounded).
    virtual std::size_t free_bytes() const = 0;
    /// Makes every appended row durable.
    virtual void flush() = 0;
    /// Flushes and closes; later calls throw (HDF5) or are ignored. Idempotent.
    virtual void close() = 0;
};

/// The HDF5 recorder: a ResultsWriter creating `path` (or, with `resume`, reopening it to go on).
std::unique_ptr<Recorder> make_hdf5_recorder(const std::string& path, const H5WriterOptions& options,
                                             const ResultsResume* resume = nullptr);

/// Issue 19: writes everything to `primary` and `secondary` (not owned; both outlive it), e.g. an
/// HDF5 file and a MemoryRecorder. Durability questions (series_rows, durable_rows, free_bytes)
/// are the primary's; handles are the primary's.
std::unique_ptr<Recorder> make_tee_recorder(Recorder* primary, Recorder* secondary);

/// Keeps everything in memory: series as row-major vectors (rows x columns x phases).
class MemoryRecorder final : public Recorder {
public:
    struct Series {
        SeriesSpec spec;
        std::vector<double> values;            ///< float series (and group time axes, as doubles)
        std::vector<std::int64_t> int_values;  ///< integer series
        std::size_t rows = 0;
        std::size_t width() const { return spec.columns * spec.phases; }
        /// Value at (row, column) of a one-phase series.
        double at(std::size_t row, std::size_t col) const {
            return spec.integer ? double(int_values[row * width() + col]) : values[row * width() + col];
        }
    };

    void write_run_info(const std::string& scenario_text, std::uint64_t seed) override;
    void plan(std::size_t) override {}
    /// Series declared afterwards reserve this many rows: appending then never reallocates.
    void plan_rows(std::size_t rows) override {
        planned_rows_ = rows;
        time_.reserve(rows);
    }
    void write_ids(const std::string& group, const std::vector<std::int64_t>& ids) override;
    void write_vector(const std::string& path, const std::vector<double>& v, const std::string& unit = "") override;
    void write_int_vector(const std::string& path, const std::vector<std::int64_t>& v, const std::string& unit = "") override;
    void write_strings(const std::string& path, const std::vector<std::string>& v) override;
    void write_scalar(const std::string& path, double value, const std::string& unit = "") override;
    using Recorder::set_attribute;
    void set_attribute(const std::string& object_path, const std::string& name, const std::string& value) override;
    void set_attribute(const std::string& object_path, const std::string& name, std::int64_t value) override;
    int add_time() override;
    void append_time(std::int64_t seconds) override;
    int add_group_time(const std::string& group) override;
    int add_series(const SeriesSpec& spec) override;
    void append(int handle, const double* row) override;
    void append(int handle, const std::int64_t* row) override;
    std::vector<std::pair<std::string, std::size_t>> series_rows() const override;
    std::size_t durable_rows(int handle) const override;
    std::size_t free_bytes() const override;
    void flush() override {}
    void close() override {}

    // ---- reading back ----
    bool has_series(const std::string& path) const;  ///< "group/name"
    /// Throws Error for an unknown path.
    const Series& series(const std::string& path) const;
    const std::vector<std::int64_t>& time() const { return time_; }
    /// `<group>/id` and other integer vectors, by path.
    const std::map<std::string, std::vector<std::int64_t>>& int_vectors() const { return int_vectors_; }
    const std::map<std::string, std::vector<double>>& vectors() const { return vectors_; }
    const std::map<std::string, std::vector<std::string>>& strings() const { return strings_; }
    /// Scalars (the /summary KPIs), by path ("summary/pv_mwh").
    const std::map<std::string, double>& scalars() const { return scalars_; }
    const std::map<std::string, std::string>& attributes() const { return attributes_; }  ///< "object@name"

private:
    std::size_t planned_rows_ = 0;
    std::vector<Series> series_;
    std::map<std::string, std::size_t> by_path_;
    std::vector<std::int64_t> time_;
    std::map<std::string, std::vector<std::int64_t>> int_vectors_;
    std::map<std::string, std::vector<double>> vectors_;
    std::map<std::string, std::vector<std::string>> strings_;
    std::map<std::string, double> scalars_;
    std::map<std::string, std::string> attributes_;
};

}  // namespace libgrid
