// libgrid layer 9: a run's results in memory, by element id and time (results/results.hpp).
#include <libgrid/results/results.hpp>

#include <libgrid/core/errors.hpp>

#include <algorithm>
#include <string>

namespace libgrid {

std::size_t ResultTable::column(Id id) const {
    const auto it = std::find(ids.begin(), ids.end(), id);
    if (it == ids.end()) throw IdError("results '" + group + "/" + name + "': no element with id " + std::to_string(id));
    return std::size_t(it - ids.begin());
}

double ResultTable::at(std::size_t row, Id id, std::size_t phase) const {
    if (row >= rows()) throw Error("results '" + group + "/" + name + "': row " + std::to_string(row) + " of " + std::to_string(rows()));
    if (phase >= phases) throw Error("results '" + group + "/" + name + "': phase " + std::to_string(phase) + " of " + std::to_string(phases));
    return values[(row * ids.size() + column(id)) * phases + phase];
}

std::vector<double> ResultTable::series(Id id, std::size_t phase) const {
    if (phase >= phases) throw Error("results '" + group + "/" + name + "': phase " + std::to_string(phase) + " of " + std::to_string(phases));
    const std::size_t c = column(id);
    std::vector<double> out(rows());
    for (std::size_t r = 0; r < rows(); ++r) out[r] = values[(r * ids.size() + c) * phases + phase];
    return out;
}

namespace {

/// The derived per-kind branch groups of a balanced run: group -> the `/branch/kind` it selects.
const char* branch_kind(const std::string& group) {
    if (group == "line") return "line";
    if (group == "trafo") return "trafo";
    if (group == "branch_matpower") return "branch";
    return nullptr;
}

}  // namespace

Results::Results(std::shared_ptr<const MemoryRecorder> recorder) : rec_(std::move(recorder)) {
    if (!rec_) throw Error("Results: no recorder");
}

const MemoryRecorder& Results::recorder() const {
    if (!rec_) throw Error("Results: empty (the run keeps no results in memory)");
    return *rec_;
}

std::size_t Results::steps() const { return recorder().time().size(); }
const std::vector<std::int64_t>& Results::time() const { return recorder().time(); }

std::vector<std::string> Results::names() const {
    const MemoryRecorder& r = recorder();
    std::vector<std::string> out;
    for (const auto& [path, rows] : r.series_rows()) out.push_back(path);
    const auto kinds = r.strings().find("branch/kind");
    if (kinds != r.strings().end())
        for (const std::string g : {"line", "trafo", "branch_matpower"}) {
            if (std::find(kinds->second.begin(), kinds->second.end(), branch_kind(g)) == kinds->second.end()) continue;
            for (const auto& [path, rows] : r.series_rows())
                if (path.rfind("branch/", 0) == 0) out.push_back(g + path.substr(6));
        }
    return out;
}

bool Results::has(const std::string& group, const std::string& name) const {
    const MemoryRecorder& r = recorder();
    if (r.has_series(group + "/" + name)) return true;
    const char* kind = branch_kind(group);
    if (!kind || !r.has_series("branch/" + name)) return false;
    const auto kinds = r.strings().find("branch/kind");
    return kinds != r.strings().end() && std::find(kinds->second.begin(), kinds->second.end(), kind) != kinds->second.end();
}

std::vector<Id> Results::ids(const std::string& group) const {
    const MemoryRecorder& r = recorder();
    if (const char* kind = branch_kind(group)) {
        const auto kinds = r.strings().find("branch/kind");
        const auto eid = r.int_vectors().find("branch/element_id");
        if (kinds != r.strings().end() && eid != r.int_vectors().end()) {
            std::vector<Id> out;
            for (std::size_t i = 0; i < kinds->second.size() && i < eid->second.size(); ++i)
                if (kinds->second[i] == kind) out.push_back(Id(eid->second[i]));
            return out;
        }
    }
    const auto it = r.int_vectors().find(group + "/id");
    if (it == r.int_vectors().end()) throw Error("results: no element ids for group '" + group + "'");
    return std::vector<Id>(it->second.begin(), it->second.end());
}

ResultTable Results::table(const std::string& group, const std::string& name) const {
    const MemoryRecorder& r = recorder();
    if (!has(group, name)) throw Error("results: the run has no series '" + group + "/" + name + "'");
    ResultTable t;
    t.group = group;
    t.name = name;
    const bool derived = !r.has_series(group + "/" + name);
    const MemoryRecorder::Series& s = r.series((derived ? std::string("branch") : group) + "/" + name);
    t.unit = s.spec.unit;
    t.phases = s.spec.phases;
    // rows: the steps, or the group's own time axis (meter intervals)
    if (r.has_series(group + "/time") && name != "time") {
        const MemoryRecorder::Series& gt = r.series(group + "/time");
        t.time.assign(gt.int_values.begin(), gt.int_values.begin() + long(std::min(gt.rows, s.rows)));
    } else {
        t.time.assign(r.time().begin(), r.time().begin() + long(std::min(r.time().size(), s.rows)));
    }
    std::vector<std::size_t> cols;  // the series' columns kept
    if (derived) {
        const auto& kinds = r.strings().at("branch/kind");
        const auto& eid = r.int_vectors().at("branch/element_id");
        for (std::size_t i = 0; i < kinds.size() && i < s.spec.columns; ++i)
            if (kinds[i] == branch_kind(group)) {
                cols.push_back(i);
                t.ids.push_back(Id(eid.at(i)));
            }
    } else {
        const auto it = r.int_vectors().find(group + "/id");
        for (std::size_t i = 0; i < s.spec.columns; ++i) {
            cols.push_back(i);
            t.ids.push_back(it != r.int_vectors().end() && i < it->second.size() ? Id(it->second[i]) : Id(i));
        }
    }
    const std::size_t w = s.width(), p = s.spec.phases;
    t.values.resize(t.time.size() * cols.size() * p);
    for (std::size_t row = 0; row < t.time.size(); ++row)
        for (std::size_t c = 0; c < cols.size(); ++c)
            for (std::size_t ph = 0; ph < p; ++ph) {
                const std::size_t src = row * w + ph * s.spec.columns + cols[c];  // a row: phase a of every column, then b, c
                t.values[(row * cols.size() + c) * p + ph] = s.spec.integer ? double(s.int_values[src]) : s.values[src];
            }
    return t;
}

double Results::summary(const std::string& name) const {
    const auto& sc = recorder().scalars();
    const auto it = sc.find("summary/" + name);
    if (it == sc.end()) throw Error("results: no summary value '" + name + "' (the summary is written when the run finishes)");
    return it->second;
}

std::vector<double> Results::vector(const std::string& path) const {
    const auto& v = recorder().vectors();
    const auto it = v.find(path);
    if (it == v.end()) throw Error("results: no vector '" + path + "'");
    return it->second;
}

}  // namespace libgrid
