// libgrid layer 9: the HDF5 recorder (over ResultsWriter) and the in-memory recorder.
#include <libgrid/results/recorder.hpp>

#include <libgrid/core/errors.hpp>
#include <libgrid/results/hdf5_results.hpp>

#include <cstdint>
#include <limits>
#include <optional>

namespace libgrid {
namespace {

class Hdf5Recorder final : public Recorder {
public:
    Hdf5Recorder(const std::string& path, const H5WriterOptions& o, const ResultsResume* resume) {
        if (resume) w_.emplace(path, o, *resume);
        else w_.emplace(path, o);
    }
    void write_run_info(const std::string& scenario_text, std::uint64_t seed) override { w_->write_run_info(scenario_text, seed); }
    void plan(std::size_t n) override { w_->plan(n); }
    void write_ids(const std::string& g, const std::vector<std::int64_t>& ids) override { w_->write_ids(g, ids); }
    void write_vector(const std::string& p, const std::vector<double>& v, const std::string& unit) override { w_->write_vector(p, v, unit); }
    void write_int_vector(const std::string& p, const std::vector<std::int64_t>& v, const std::string& unit) override {
        w_->write_int_vector(p, v, unit);
    }
    void write_strings(const std::string& p, const std::vector<std::string>& v) override { w_->write_strings(p, v); }
    void write_scalar(const std::string& p, double v, const std::string& unit) override { w_->write_scalar(p, v, unit); }
    using Recorder::set_attribute;
    void set_attribute(const std::string& o, const std::string& n, const std::string& v) override { w_->set_attribute(o, n, v); }
    void set_attribute(const std::string& o, const std::string& n, std::int64_t v) override { w_->set_attribute(o, n, v); }
    int add_time() override { return w_->add_time(); }
    void append_time(std::int64_t t) override { w_->append_time(t); }
    int add_group_time(const std::string& g) override { return w_->add_group_time(g); }
    int add_series(const SeriesSpec& s) override {
        if (s.phases != 1) throw ValidationError("results: series '" + s.group + "/" + s.name + "': the HDF5 layout has one phase per column");
        return s.integer ? w_->add_int_series(s.group, s.name, s.columns, s.unit) : w_->add_series(s.group, s.name, s.columns, s.unit);
    }
    void append(int h, const double* row) override { w_->append(h, row); }
    void append(int h, const std::int64_t* row) override { w_->append(h, row); }
    std::vector<std::pair<std::string, std::size_t>> series_rows() const override { return w_->series_rows(); }
    std::size_t durable_rows(int h) const override { return w_->durable_rows(h); }
    std::size_t free_bytes() const override { return w_->free_bytes(); }
    void flush() override { w_->flush(); }
    void close() override { w_->close(); }

private:
    std::optional<ResultsWriter> w_;
};

/// Issue 19: both recorders get every call; handles are the primary's (a map to the secondary's).
class TeeRecorder final : public Recorder {
public:
    TeeRecorder(Recorder* a, Recorder* b) : a_(a), b_(b) {}
    void write_run_info(const std::string& t, std::uint64_t seed) override { a_->write_run_info(t, seed), b_->write_run_info(t, seed); }
    void plan(std::size_t n) override { a_->plan(n), b_->plan(n); }
    void plan_rows(std::size_t n) override { a_->plan_rows(n), b_->plan_rows(n); }
    void write_ids(const std::string& g, const std::vector<std::int64_t>& ids) override { a_->write_ids(g, ids), b_->write_ids(g, ids); }
    void write_vector(const std::string& p, const std::vector<double>& v, const std::string& u) override { a_->write_vector(p, v, u), b_->write_vector(p, v, u); }
    void write_int_vector(const std::string& p, const std::vector<std::int64_t>& v, const std::string& u) override {
        a_->write_int_vector(p, v, u), b_->write_int_vector(p, v, u);
    }
    void write_strings(const std::string& p, const std::vector<std::string>& v) override { a_->write_strings(p, v), b_->write_strings(p, v); }
    void write_scalar(const std::string& p, double v, const std::string& u) override { a_->write_scalar(p, v, u), b_->write_scalar(p, v, u); }
    using Recorder::set_attribute;
    void set_attribute(const std::string& o, const std::string& n, const std::string& v) override { a_->set_attribute(o, n, v), b_->set_attribute(o, n, v); }
    void set_attribute(const std::string& o, const std::string& n, std::int64_t v) override { a_->set_attribute(o, n, v), b_->set_attribute(o, n, v); }
    int add_time() override { return link(a_->add_time(), b_->add_time()); }
    void append_time(std::int64_t t) override { a_->append_time(t), b_->append_time(t); }
    int add_group_time(const std::string& g) override { return link(a_->add_group_time(g), b_->add_group_time(g)); }
    int add_series(const SeriesSpec& s) override { return link(a_->add_series(s), b_->add_series(s)); }
    void append(int h, const double* row) override { a_->append(h, row), b_->append(second(h), row); }
    void append(int h, const std::int64_t* row) override { a_->append(h, row), b_->append(second(h), row); }
    std::vector<std::pair<std::string, std::size_t>> series_rows() const override { return a_->series_rows(); }
    std::size_t durable_rows(int h) const override { return a_->durable_rows(h); }
    std::size_t free_bytes() const override { return a_->free_bytes(); }
    void flush() override { a_->flush(), b_->flush(); }
    void close() override { a_->close(), b_->close(); }

private:
    int link(int ha, int hb) {
        if (ha >= 0) {
            if (std::size_t(ha) >= second_.size()) second_.resize(std::size_t(ha) + 1, -1);
            second_[std::size_t(ha)] = hb;
        }
        return ha;
    }
    int second(int h) const { return h >= 0 && std::size_t(h) < second_.size() ? second_[std::size_t(h)] : -1; }
    Recorder* a_;
    Recorder* b_;
    std::vector<int> second_;  ///< per primary handle, the secondary's
};

}  // namespace

std::unique_ptr<Recorder> make_tee_recorder(Recorder* primary, Recorder* secondary) {
    if (!primary || !secondary) throw Error("make_tee_recorder: both recorders must be given");
    return std::make_unique<TeeRecorder>(primary, secondary);
}

std::unique_ptr<Recorder> make_hdf5_recorder(const std::string& path, const H5WriterOptions& options, const ResultsResume* resume) {
    return std::make_unique<Hdf5Recorder>(path, options, resume);
}

// ---- MemoryRecorder ----------------------------------------------------------------------------

void MemoryRecorder::write_run_info(const std::string& scenario_text, std::uint64_t seed) {
    attributes_["/@scenario"] = scenario_text;
    attributes_["/@seed"] = std::to_string(seed);
}
void MemoryRecorder::write_ids(const std::string& group, const std::vector<std::int64_t>& ids) { int_vectors_[group + "/id"] = ids; }
void MemoryRecorder::write_vector(const std::string& path, const std::vector<double>& v, const std::string&) { vectors_[path] = v; }
void MemoryRecorder::write_int_vector(const std::string& path, const std::vector<std::int64_t>& v, const std::string&) {
    int_vectors_[path] = v;
}
void MemoryRecorder::write_strings(const std::string& path, const std::vector<std::string>& v) { strings_[path] = v; }
void MemoryRecorder::write_scalar(const std::string& path, double value, const std::string&) { scalars_[path] = value; }
void MemoryRecorder::set_attribute(const std::string& o, const std::string& n, const std::string& v) { attributes_[o + "@" + n] = v; }
void MemoryRecorder::set_attribute(const std::string& o, const std::string& n, std::int64_t v) { attributes_[o + "@" + n] = std::to_string(v); }

int MemoryRecorder::add_time() { return -1; }  // the steps' times: time()
void MemoryRecorder::append_time(std::int64_t seconds) { time_.push_back(seconds); }
int MemoryRecorder::add_group_time(const std::string& group) { return add_series(SeriesSpec{group, "time", "s", 1, 1, true}); }

int MemoryRecorder::add_series(const SeriesSpec& spec) {
    const std::string path = spec.group.empty() ? spec.name : spec.group + "/" + spec.name;
    if (by_path_.count(path)) throw IdError("results: series '" + path + "' declared twice");
    Series s;
    s.spec = spec;
    if (spec.integer) s.int_values.reserve(planned_rows_ * s.width());
    else s.values.reserve(planned_rows_ * s.width());
    series_.push_back(std::move(s));
    by_path_[path] = series_.size() - 1;
    return int(series_.size() - 1);
}

void MemoryRecorder::append(int handle, const double* row) {
    Series& s = series_.at(std::size_t(handle));
    if (s.spec.integer) throw ValidationError("results: series '" + s.spec.group + "/" + s.spec.name + "' holds integers");
    s.values.insert(s.values.end(), row, row + s.width());
    ++s.rows;
}

void MemoryRecorder::append(int handle, const std::int64_t* row) {
    Series& s = series_.at(std::size_t(handle));
    if (!s.spec.integer) throw ValidationError("results: series '" + s.spec.group + "/" + s.spec.name + "' holds floats");
    s.int_values.insert(s.int_values.end(), row, row + s.width());
    ++s.rows;
}

std::vector<std::pair<std::string, std::size_t>> MemoryRecorder::series_rows() const {
    std::vector<std::pair<std::string, std::size_t>> v;
    for (const Series& s : series_) v.emplace_back("/" + (s.spec.group.empty() ? s.spec.name : s.spec.group + "/" + s.spec.name), s.rows);
    return v;
}
std::size_t MemoryRecorder::durable_rows(int handle) const { return series_.at(std::size_t(handle)).rows; }
std::size_t MemoryRecorder::free_bytes() const { return std::numeric_limits<std::size_t>::max(); }

bool MemoryRecorder::has_series(const std::string& path) const { return by_path_.count(path) > 0; }
const MemoryRecorder::Series& MemoryRecorder::series(const std::string& path) const {
    auto it = by_path_.find(path);
    if (it == by_path_.end()) throw Error("results: no series '" + path + "' recorded");
    return series_[it->second];
}

}  // namespace libgrid
