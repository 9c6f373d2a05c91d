// libgrid's C API: scenarios, simulations (whole and stepped), results in memory and the summary
// (libgrid_c.h).
#include "capi_internal.hpp"

#include <libgrid/profiles/calendar.hpp>
#include <libgrid/simulation/kpis.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

using namespace libgrid;
using libgrid::capi::CapiError;
using libgrid::capi::copy_out;
using libgrid::capi::guard;
using libgrid::capi::need;

namespace {

lg_simulation& sim_of(lg_simulation* sim) {
    need(sim, "sim");
    return *sim;
}
const lg_simulation& sim_of(const lg_simulation* sim) {
    need(sim, "sim");
    return *sim;
}

/// The ids of the simulation's elements by kind: the network's tables and the devices.
void collect_ids(lg_simulation& h, const BuiltScenario& b) {
    if (b.unbalanced) {
        std::vector<Id>& buses = h.ids["bus"];
        for (std::size_t i = 0; i < b.unet.buses.size(); ++i) buses.push_back(unbalanced_bus_id(b.unet, i));
        std::vector<Id>& loads = h.ids["load"];
        for (std::size_t i = 0; i < b.unet.loads.size(); ++i) loads.push_back(unbalanced_load_id(b.unet, i));
    } else {
        for (std::size_t k = 0; k < kElementKinds; ++k) {
            const auto kind = static_cast<lg_element>(k);
            h.ids[capi::element_name(kind)] = capi::network_ids(b.net, kind);
        }
    }
    for (const BatteryUnit& u : b.devices.batteries) h.ids["battery"].push_back(u.id);
    for (const PvUnit& u : b.devices.pv) h.ids["pv"].push_back(u.id);
}

/// Makes the Simulation of a built scenario (owned by the handle) with the C API's output and flags.
lg_simulation* make(std::unique_ptr<BuiltScenario> b, const char* output_path, unsigned flags) {
    auto h = std::make_unique<lg_simulation>();
    if (output_path) b->options.output_path = output_path;
    h->in_memory = (flags & LG_SIM_RESULTS_IN_MEMORY) != 0;
    b->options.results_in_memory = h->in_memory;
    collect_ids(*h, *b);
    h->built = std::move(b);
    h->sim.emplace(make_simulation(*h->built));
    return h.release();
}

void check_running(const lg_simulation& h) {
    if (h.ended) throw CapiError{LG_ERR_STATE, "the run has ended (lg_simulation_run or lg_simulation_finish)"};
}

std::string need_str(const char* s, const char* arg) {
    need(s, arg);
    return s;
}

const Results& results_of(const lg_simulation& h) {
    if (!h.in_memory)
        throw CapiError{LG_ERR_STATE, "the simulation keeps no results in memory (create it with LG_SIM_RESULTS_IN_MEMORY)"};
    if (!h.started) throw CapiError{LG_ERR_STATE, "no step run yet (lg_simulation_start, lg_simulation_step)"};
    return h.sim->results();
}

/// The table group/name of the results, cached in the handle until another is asked or a step is run.
const ResultTable& table_of(const lg_simulation& h, const char* group, const char* name) {
    const std::string g = need_str(group, "group"), n = need_str(name, "name");
    const Results& r = results_of(h);
    const std::string key = g + "/" + n;
    if (!h.cached || h.cached_key != key || h.cached_steps != r.steps()) {
        h.cached.reset();
        if (!r.has(g, n)) throw CapiError{LG_ERR_ARGUMENT, "the results have no series '" + key + "' (lg_results_series_name lists them)"};
        h.cached = r.table(g, n);
        h.cached_key = key;
        h.cached_steps = r.steps();
    }
    return *h.cached;
}

std::size_t row_index(const ResultTable& t, std::size_t row) {
    if (t.rows() == 0) throw CapiError{LG_ERR_STATE, "'" + t.group + "/" + t.name + "' has no rows yet"};
    if (row == LG_LAST_ROW) return t.rows() - 1;
    if (row >= t.rows())
        throw CapiError{LG_ERR_ARGUMENT, "row " + std::to_string(row) + " of '" + t.group + "/" + t.name + "': it has " +
                                             std::to_string(t.rows()) + " rows"};
    return row;
}

std::size_t column_of(const ResultTable& t, int64_t id, std::size_t phase) {
    if (phase >= t.phases)
        throw CapiError{LG_ERR_ARGUMENT, "phase " + std::to_string(phase) + " of '" + t.group + "/" + t.name + "': it has " +
                                             std::to_string(t.phases)};
    const auto it = std::find(t.ids.begin(), t.ids.end(), id);
    if (it == t.ids.end())
        throw CapiError{LG_ERR_ID, "'" + t.group + "/" + t.name + "' has no " + t.group + " with id " + std::to_string(id)};
    return static_cast<std::size_t>(it - t.ids.begin());
}

/// The value of (row, column, phase): ResultTable::values is row-major, rows x columns x phases.
double cell(const ResultTable& t, std::size_t row, std::size_t col, std::size_t phase) {
    return t.values[(row * t.columns() + col) * t.phases + phase];
}

const SimulationSummary& summary_of(const lg_simulation& h) {
    if (!h.summary) throw CapiError{LG_ERR_STATE, "the run has not ended yet (lg_simulation_run or lg_simulation_finish)"};
    return *h.summary;
}

}  // namespace

// ---- scenarios -------------------------------------------------------------------------------

extern "C" lg_status lg_scenario_load(const char* path, lg_scenario** out) {
    return guard("lg_scenario_load", [&] {
        need(path, "path");
        need(out, "out");
        *out = nullptr;
        auto h = std::make_unique<lg_scenario>();
        h->sc = load_scenario(path);
        *out = h.release();
        return LG_OK;
    }, LG_ERR_IO);
}

extern "C" void lg_scenario_free(lg_scenario* sc) { delete sc; }

extern "C" lg_status lg_scenario_set(lg_scenario* sc, const char* key, const char* yaml_value) {
    return guard("lg_scenario_set", [&] {
        need(sc, "sc");
        override_key(sc->sc, need_str(key, "key"), need_str(yaml_value, "yaml_value"));
        return LG_OK;
    }, LG_ERR_VALIDATION);
}

extern "C" lg_status lg_scenario_override(lg_scenario* sc, const char* key_equals_value) {
    return guard("lg_scenario_override", [&] {
        need(sc, "sc");
        const std::string kv = need_str(key_equals_value, "key_equals_value");
        const auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0) throw CapiError{LG_ERR_ARGUMENT, "'" + kv + "': expected KEY=VALUE"};
        override_key(sc->sc, kv.substr(0, eq), kv.substr(eq + 1));
        return LG_OK;
    }, LG_ERR_VALIDATION);
}

// ---- simulations -----------------------------------------------------------------------------

extern "C" lg_status lg_simulation_create(const lg_scenario* sc, const char* output_path, unsigned flags, lg_simulation** out) {
    return guard("lg_simulation_create", [&] {
        need(sc, "sc");
        need(out, "out");
        *out = nullptr;
        if (output_path) check_output_is_not_input(sc->sc, output_path);
        auto b = std::make_unique<BuiltScenario>(build_scenario(sc->sc));
        check_run_resources(sc->sc, *b, output_path ? output_path : "");  // refuses what cannot finish
        *out = make(std::move(b), output_path, flags);
        return LG_OK;
    });
}

extern "C" lg_status lg_simulation_create_from_network(const lg_network* net, int64_t start, int64_t step_s, size_t n_steps,
                                                       const char* output_path, unsigned flags, lg_simulation** out) {
    return guard("lg_simulation_create_from_network", [&] {
        need(net, "net");
        need(out, "out");
        *out = nullptr;
        if (n_steps == 0) throw CapiError{LG_ERR_ARGUMENT, "n_steps is 0"};
        auto b = std::make_unique<BuiltScenario>();
        b->net = net->net;
        b->name = "network";
        b->options.start = start;
        b->options.step_s = step_s;
        b->options.n_steps = n_steps;
        *out = make(std::move(b), output_path, flags);
        return LG_OK;
    });
}

extern "C" void lg_simulation_free(lg_simulation* sim) { delete sim; }

extern "C" lg_status lg_local_time(int year, int month, int day, int hour, int minute, int64_t* out) {
    return guard("lg_local_time", [&] {
        need(out, "out");
        if (month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59)
            throw CapiError{LG_ERR_ARGUMENT, "not a date and time: " + std::to_string(year) + "-" + std::to_string(month) +
                                                 "-" + std::to_string(day) + " " + std::to_string(hour) + ":" + std::to_string(minute)};
        *out = from_civil(year, month, day, hour, minute);
        return LG_OK;
    });
}

extern "C" lg_status lg_simulation_run(lg_simulation* sim) {
    return guard("lg_simulation_run", [&] {
        lg_simulation& h = sim_of(sim);
        check_running(h);
        if (h.started) throw CapiError{LG_ERR_STATE, "the simulation was started: step it, then lg_simulation_finish"};
        h.started = true;
        h.summary = h.sim->run(StepFn([&h](const StepInfo& s) { h.last = s; }));
        h.ended = true;
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_simulation_start(lg_simulation* sim) {
    return guard("lg_simulation_start", [&] {
        lg_simulation& h = sim_of(sim);
        check_running(h);
        if (!h.started) h.sim->start();
        h.started = true;
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_simulation_step(lg_simulation* sim) {
    return guard("lg_simulation_step", [&] {
        lg_simulation& h = sim_of(sim);
        check_running(h);
        if (h.sim->done()) throw CapiError{LG_ERR_STATE, "every step is done (or the run was cancelled): lg_simulation_finish"};
        h.started = true;
        h.last = h.sim->step();
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_simulation_run_until(lg_simulation* sim, int64_t t, size_t* steps_run) {
    return guard("lg_simulation_run_until", [&] {
        lg_simulation& h = sim_of(sim);
        check_running(h);
        h.started = true;
        std::size_t n = 0;
        // one step at a time, to know the last step's status
        while (!h.sim->done() && h.sim->next_time() < t) {
            h.last = h.sim->step();
            ++n;
        }
        if (steps_run) *steps_run = n;
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_simulation_finish(lg_simulation* sim) {
    return guard("lg_simulation_finish", [&] {
        lg_simulation& h = sim_of(sim);
        check_running(h);
        h.started = true;
        h.summary = h.sim->finish();
        h.ended = true;
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_simulation_cancel(lg_simulation* sim) {
    if (!sim) return capi::fail(LG_ERR_ARGUMENT, "lg_simulation_cancel: argument 'sim' is NULL");
    sim->sim->cancel();  // noexcept, any thread
    return LG_OK;
}

extern "C" lg_status lg_simulation_steps_done(const lg_simulation* sim, size_t* steps) {
    return guard("lg_simulation_steps_done", [&] {
        need(steps, "steps");
        *steps = sim_of(sim).sim->steps_done();
        return LG_OK;
    });
}

extern "C" lg_status lg_simulation_total_steps(const lg_simulation* sim, size_t* steps) {
    return guard("lg_simulation_total_steps", [&] {
        need(steps, "steps");
        *steps = sim_of(sim).built->options.n_steps;
        return LG_OK;
    });
}

extern "C" lg_status lg_simulation_next_time(const lg_simulation* sim, int64_t* t) {
    return guard("lg_simulation_next_time", [&] {
        need(t, "t");
        *t = sim_of(sim).sim->next_time();
        return LG_OK;
    });
}

extern "C" lg_status lg_simulation_done(const lg_simulation* sim, int* done) {
    return guard("lg_simulation_done", [&] {
        need(done, "done");
        const lg_simulation& h = sim_of(sim);
        *done = (h.ended || h.sim->done()) ? 1 : 0;
        return LG_OK;
    });
}

extern "C" lg_status lg_simulation_last_step(const lg_simulation* sim, int64_t* time, int* converged, int* iterations) {
    return guard("lg_simulation_last_step", [&] {
        const lg_simulation& h = sim_of(sim);
        if (!h.last) throw CapiError{LG_ERR_STATE, "no step run yet"};
        if (time) *time = h.last->time;
        if (converged) *converged = h.last->converged ? 1 : 0;
        if (iterations) *iterations = h.last->iterations;
        return LG_OK;
    });
}

extern "C" lg_status lg_simulation_count(const lg_simulation* sim, const char* kind, size_t* count) {
    return guard("lg_simulation_count", [&] {
        const lg_simulation& h = sim_of(sim);
        const std::string k = need_str(kind, "kind");
        need(count, "count");
        const auto it = h.ids.find(k);
        *count = it == h.ids.end() ? 0 : it->second.size();
        if (it == h.ids.end() && k != "battery" && k != "pv")
            throw CapiError{LG_ERR_ARGUMENT, "unknown kind '" + k + "' (bus, branch, line, trafo, load, gen, sgen, storage, "
                                                                     "ext_grid, switch, shunt, battery, pv)"};
        return LG_OK;
    });
}

extern "C" lg_status lg_simulation_ids(const lg_simulation* sim, const char* kind, int64_t* out, size_t n) {
    return guard("lg_simulation_ids", [&] {
        size_t count = 0;
        if (const lg_status s = lg_simulation_count(sim, kind, &count); s != LG_OK) return s;
        const auto it = sim->ids.find(kind);
        copy_out(it == sim->ids.end() ? std::vector<Id>{} : it->second, out, n, std::string(kind) + " ids");
        return LG_OK;
    });
}

// ---- set points ------------------------------------------------------------------------------

extern "C" lg_status lg_simulation_set_battery_power(lg_simulation* sim, int64_t battery, double p_kw) {
    return guard("lg_simulation_set_battery_power", [&] {
        lg_simulation& h = sim_of(sim);
        check_running(h);
        h.sim->set_battery_power(battery, p_kw);
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_simulation_set_pv_limit(lg_simulation* sim, int64_t pv, double p_max_kw) {
    return guard("lg_simulation_set_pv_limit", [&] {
        lg_simulation& h = sim_of(sim);
        check_running(h);
        h.sim->set_pv_limit(pv, p_max_kw);
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_simulation_set_switch(lg_simulation* sim, int64_t sw, int closed) {
    return guard("lg_simulation_set_switch", [&] {
        lg_simulation& h = sim_of(sim);
        check_running(h);
        h.sim->set_switch(sw, closed != 0);
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_simulation_set_in_service(lg_simulation* sim, const char* element, int64_t id, int in_service) {
    return guard("lg_simulation_set_in_service", [&] {
        lg_simulation& h = sim_of(sim);
        check_running(h);
        h.sim->set_in_service(need_str(element, "element"), id, in_service != 0);
        return LG_OK;
    }, LG_ERR_STATE);
}

// ---- results in memory -----------------------------------------------------------------------

namespace {
/// The series as "group/name" (Results::names() may give the file's "/group/name"), without the
/// fixed vectors and the meter's time axis: what lg_results_shape accepts.
std::vector<std::string> series_names(const Results& r) {
    std::vector<std::string> out;
    for (std::string n : r.names()) {
        if (!n.empty() && n[0] == '/') n.erase(0, 1);
        const auto slash = n.find('/');
        if (slash == std::string::npos || slash == 0 || slash + 1 == n.size()) continue;
        if (!r.has(n.substr(0, slash), n.substr(slash + 1))) continue;
        if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    }
    return out;
}
}  // namespace

extern "C" lg_status lg_results_series_count(const lg_simulation* sim, size_t* count) {
    return guard("lg_results_series_count", [&] {
        need(count, "count");
        *count = series_names(results_of(sim_of(sim))).size();
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_results_series_name(const lg_simulation* sim, size_t i, char* buf, size_t buf_size) {
    return guard("lg_results_series_name", [&] {
        const std::vector<std::string> names = series_names(results_of(sim_of(sim)));
        if (i >= names.size())
            throw CapiError{LG_ERR_ARGUMENT, "series " + std::to_string(i) + ": there are " + std::to_string(names.size())};
        need(buf, "buf");
        if (buf_size < names[i].size() + 1)
            throw CapiError{LG_ERR_ARGUMENT, "buffer of " + std::to_string(buf_size) + " bytes for '" + names[i] + "': " +
                                                 std::to_string(names[i].size() + 1) + " needed"};
        std::memcpy(buf, names[i].c_str(), names[i].size() + 1);
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_results_shape(const lg_simulation* sim, const char* group, const char* name, size_t* rows,
                                      size_t* columns, size_t* phases) {
    return guard("lg_results_shape", [&] {
        const ResultTable& t = table_of(sim_of(sim), group, name);
        if (rows) *rows = t.rows();
        if (columns) *columns = t.columns();
        if (phases) *phases = t.phases;
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_results_times(const lg_simulation* sim, int64_t* out, size_t n) {
    return guard("lg_results_times", [&] {
        copy_out(results_of(sim_of(sim)).time(), out, n, "the times");
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_results_ids(const lg_simulation* sim, const char* group, const char* name, int64_t* out, size_t n) {
    return guard("lg_results_ids", [&] {
        const ResultTable& t = table_of(sim_of(sim), group, name);
        copy_out(t.ids, out, n, "the ids of '" + t.group + "/" + t.name + "'");
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_results_value(const lg_simulation* sim, const char* group, const char* name, int64_t id, size_t row,
                                      size_t phase, double* value) {
    return guard("lg_results_value", [&] {
        need(value, "value");
        const ResultTable& t = table_of(sim_of(sim), group, name);
        const std::size_t col = column_of(t, id, phase);
        *value = cell(t, row_index(t, row), col, phase);
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_results_row(const lg_simulation* sim, const char* group, const char* name, size_t row, double* out,
                                    size_t n) {
    return guard("lg_results_row", [&] {
        const ResultTable& t = table_of(sim_of(sim), group, name);
        const std::size_t r = row_index(t, row);
        const std::size_t w = t.columns() * t.phases;
        std::vector<double> v(w);
        for (std::size_t c = 0; c < t.columns(); ++c)
            for (std::size_t p = 0; p < t.phases; ++p) v[c * t.phases + p] = cell(t, r, c, p);
        copy_out(v, out, n, "a row of '" + t.group + "/" + t.name + "'");
        return LG_OK;
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_results_series(const lg_simulation* sim, const char* group, const char* name, int64_t id, size_t phase,
                                       double* out, size_t n) {
    return guard("lg_results_series", [&] {
        const ResultTable& t = table_of(sim_of(sim), group, name);
        const std::size_t col = column_of(t, id, phase);
        std::vector<double> v(t.rows());
        for (std::size_t r = 0; r < t.rows(); ++r) v[r] = cell(t, r, col, phase);
        copy_out(v, out, n, "the series of '" + t.group + "/" + t.name + "'");
        return LG_OK;
    }, LG_ERR_STATE);
}

// ---- the summary -----------------------------------------------------------------------------

extern "C" lg_status lg_summary_get(const lg_simulation* sim, const char* name, double* value) {
    return guard("lg_summary_get", [&] {
        const SimulationSummary& s = summary_of(sim_of(sim));
        const std::string n = need_str(name, "name");
        need(value, "value");
        if (n == "completed") {
            *value = s.completed ? 1.0 : 0.0;
            return LG_OK;
        }
        for (const KpiInfo& k : summary_kpis())
            if (n == k.name) {
                *value = k.get(s);
                return LG_OK;
            }
        throw CapiError{LG_ERR_ARGUMENT, "unknown KPI '" + n + "' (docs/kpis.md lists them)"};
    }, LG_ERR_STATE);
}

extern "C" lg_status lg_summary_json(const lg_simulation* sim, char* buf, size_t buf_size, size_t* needed) {
    return guard("lg_summary_json", [&] {
        const std::string j = summary_to_json(summary_of(sim_of(sim)), 2);
        if (needed) *needed = j.size() + 1;
        if (!buf && buf_size == 0) return LG_OK;
        need(buf, "buf");
        if (buf_size < j.size() + 1)
            throw CapiError{LG_ERR_ARGUMENT, "buffer of " + std::to_string(buf_size) + " bytes for the summary: " +
                                                 std::to_string(j.size() + 1) + " needed"};
        std::memcpy(buf, j.c_str(), j.size() + 1);
        return LG_OK;
    }, LG_ERR_STATE);
}
