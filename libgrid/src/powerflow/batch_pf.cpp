// libgrid: a batch of power flows on one network (run_pf_batch), power-grid-model style.
#include <libgrid/core/errors.hpp>
#include <libgrid/powerflow/batch_pf.hpp>
#include <libgrid/powerflow/results.hpp>
#include <libgrid/solvers/solvers.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

namespace libgrid {
namespace {

using R = PowerFlowResult;

/// Every quantity of a batch: where it comes from in a single power flow's result.
struct Field {
    const char* group;
    const char* name;
    const char* unit;
    std::vector<double> R::*member;
};

const Field kFields[] = {
    {"bus", "vm_pu", "p.u.", &R::bus_vm_pu},
    {"bus", "va_deg", "degree", &R::bus_va_deg},
    {"bus", "p_mw", "MW", &R::bus_p_mw},
    {"bus", "q_mvar", "MVAr", &R::bus_q_mvar},
    {"gen", "p_mw", "MW", &R::gen_p_mw},
    {"gen", "q_mvar", "MVAr", &R::gen_q_mvar},
    {"ext_grid", "p_mw", "MW", &R::ext_grid_p_mw},
    {"ext_grid", "q_mvar", "MVAr", &R::ext_grid_q_mvar},
    {"branch", "p_from_mw", "MW", &R::branch_p_from_mw},
    {"branch", "q_from_mvar", "MVAr", &R::branch_q_from_mvar},
    {"branch", "p_to_mw", "MW", &R::branch_p_to_mw},
    {"branch", "q_to_mvar", "MVAr", &R::branch_q_to_mvar},
    {"branch", "loading_percent", "percent", &R::branch_loading_percent},
    {"line", "p_from_mw", "MW", &R::line_p_from_mw},
    {"line", "q_from_mvar", "MVAr", &R::line_q_from_mvar},
    {"line", "p_to_mw", "MW", &R::line_p_to_mw},
    {"line", "q_to_mvar", "MVAr", &R::line_q_to_mvar},
    {"line", "i_from_ka", "kA", &R::line_i_from_ka},
    {"line", "i_to_ka", "kA", &R::line_i_to_ka},
    {"line", "pl_mw", "MW", &R::line_pl_mw},
    {"line", "ql_mvar", "MVAr", &R::line_ql_mvar},
    {"line", "loading_percent", "percent", &R::line_loading_percent},
    {"trafo", "p_hv_mw", "MW", &R::trafo_p_hv_mw},
    {"trafo", "q_hv_mvar", "MVAr", &R::trafo_q_hv_mvar},
    {"trafo", "p_lv_mw", "MW", &R::trafo_p_lv_mw},
    {"trafo", "q_lv_mvar", "MVAr", &R::trafo_q_lv_mvar},
    {"trafo", "i_hv_ka", "kA", &R::trafo_i_hv_ka},
    {"trafo", "i_lv_ka", "kA", &R::trafo_i_lv_ka},
    {"trafo", "pl_mw", "MW", &R::trafo_pl_mw},
    {"trafo", "ql_mvar", "MVAr", &R::trafo_ql_mvar},
    {"trafo", "loading_percent", "percent", &R::trafo_loading_percent},
    {"shunt", "p_mw", "MW", &R::shunt_p_mw},
    {"shunt", "q_mvar", "MVAr", &R::shunt_q_mvar},
};

template <class T>
std::vector<Id> ids_of(const std::vector<T>& v) {
    std::vector<Id> ids;
    ids.reserve(v.size());
    for (const T& x : v) ids.push_back(x.id);
    return ids;
}

std::vector<std::pair<std::string, std::vector<Id>>> group_ids(const Network& net) {
    return {{"bus", ids_of(net.buses)},   {"gen", ids_of(net.gens)},   {"ext_grid", ids_of(net.ext_grids)},
            {"branch", ids_of(net.branches)}, {"line", ids_of(net.lines)}, {"trafo", ids_of(net.transformers)},
            {"shunt", ids_of(net.shunts)}};
}

/// The update's columns as rows of Network::loads; checks shapes, ids and values.
std::vector<std::size_t> load_columns(const Network& net, const PfBatchUpdate& up) {
    std::vector<std::size_t> col;
    if (up.load_ids.empty()) {
        for (std::size_t l = 0; l < net.loads.size(); ++l) col.push_back(l);
    } else {
        std::unordered_map<Id, std::size_t> row;
        for (std::size_t l = 0; l < net.loads.size(); ++l) row.emplace(net.loads[l].id, l);
        std::unordered_map<Id, std::size_t> seen;
        for (std::size_t k = 0; k < up.load_ids.size(); ++k) {
            const Id id = up.load_ids[k];
            const auto it = row.find(id);
            if (it == row.end()) throw IdError("run_pf_batch: load_ids[" + std::to_string(k) + "]: no load with id " + std::to_string(id));
            if (!seen.emplace(id, k).second)
                throw IdError("run_pf_batch: load_ids[" + std::to_string(k) + "]: load id " + std::to_string(id) + " repeats load_ids[" +
                              std::to_string(seen[id]) + "]");
            col.push_back(it->second);
        }
    }
    const std::size_t want = up.n_scenarios * col.size();
    auto check = [&](std::span<const double> v, const char* what) {
        if (v.empty()) return;
        if (v.size() != want)
            throw ValidationError(std::string("run_pf_batch: ") + what + " has " + std::to_string(v.size()) + " values, expected " +
                                  std::to_string(up.n_scenarios) + " scenarios x " + std::to_string(col.size()) + " loads = " + std::to_string(want));
        for (std::size_t i = 0; i < v.size(); ++i)
            if (!std::isfinite(v[i]))
                throw ValidationError(std::string("run_pf_batch: ") + what + " of scenario " + std::to_string(i / col.size()) + ", load " +
                                      std::to_string(net.loads[col[i % col.size()]].id) + " is " + (std::isnan(v[i]) ? "NaN" : "infinite"));
    };
    check(up.p_mw, "p_mw");
    check(up.q_mvar, "q_mvar");
    return col;
}

void apply_scenario(Network& net, const PfBatchUpdate& up, const std::vector<std::size_t>& col, std::size_t s) {
    const std::size_t nl = col.size();
    if (!up.p_mw.empty())
        for (std::size_t k = 0; k < nl; ++k) net.loads[col[k]].p_mw = up.p_mw[s * nl + k];
    if (!up.q_mvar.empty())
        for (std::size_t k = 0; k < nl; ++k) net.loads[col[k]].q_mvar = up.q_mvar[s * nl + k];
}

bool has_controls(const Network& net, const PowerFlowOptions& o) {
    if (o.enforce_q_limits) return true;
    if (!o.run_controls) return false;
    return std::any_of(net.transformers.begin(), net.transformers.end(), [](const Transformer& t) { return t.oltc && t.in_service; }) ||
           std::any_of(net.shunts.begin(), net.shunts.end(), [](const Shunt& s) { return s.switched && s.in_service; });
}

/// What one thread keeps between scenarios: its own network copy (loads replaced), math model
/// (injections rebuilt) and solver (analysed once).
struct Worker {
    Network net;
    MathModel m;
    std::optional<SweepSolver> sweep;
    std::optional<NewtonRaphsonSolver> nr;  ///< reuse_solver: one solver for all the thread's scenarios
    std::vector<cplx> V;
};

/// The shared, read-only part of a batch.
struct Batch {
    const PfBatchUpdate& up;
    const PfBatchOptions& opt;
    std::vector<std::size_t> col;
    Method method = Method::NewtonRaphson;
    bool controls = false;
    std::vector<cplx> warm;  ///< the base case's solution (warm_start)
    PfBatchResult& out;
};

SolveStatus solve(Worker& w, const Batch& b) {
    const PowerFlowOptions& o = b.opt.pf;
    switch (b.method) {
        case Method::Sweep: return w.sweep->solve(w.m, w.V, o.tolerance, std::max(o.max_iterations, 100));
        case Method::FastDecoupledXB: {
            FastDecoupledSolver fd;
            fd.analyze(w.m);
            return fd.solve(w.m, w.V, o.tolerance, std::max(o.max_iterations, 100));
        }
        default: {
            if (w.nr) return w.nr->solve(w.m, w.V, o.tolerance, o.max_iterations);
            // A fresh solver per scenario: KLU then factorises from scratch (no pivots carried over
            // from another scenario), so the answer is run_power_flow's whatever ran before.
            NewtonRaphsonSolver nr(o.linear_solver);
            nr.analyze(w.m);
            return nr.solve(w.m, w.V, o.tolerance, o.max_iterations);
        }
    }
}

/// Scenario s: solves it and writes its row of every array.
void run_scenario(Worker& w, const Batch& b, std::size_t s) {
    apply_scenario(w.net, b.up, b.col, s);
    PowerFlowResult r;
    if (b.controls) {
        r = run_power_flow(w.net, b.opt.pf);
    } else {
        update_injections(w.net, w.m);
        if (b.opt.warm_start) w.V = b.warm;
        else w.V = initial_voltages(w.net, w.m, b.opt.pf.flat_start);
        const SolveStatus st = solve(w, b);
        r = make_results(w.net, w.m, w.V, b.method);
        r.converged = st.converged;
        r.iterations = st.iterations;
        r.max_mismatch = st.max_mismatch;
        if (!st.converged)
            r.message = "did not converge in " + std::to_string(st.iterations) + " iterations (largest mismatch " + std::to_string(st.max_mismatch) + " p.u.)";
    }
    PfBatchResult& out = b.out;
    out.converged[s] = r.converged;
    out.iterations[s] = r.iterations;
    out.max_mismatch[s] = r.max_mismatch;
    out.losses_mw[s] = r.losses_mw;
    out.losses_mvar[s] = r.losses_mvar;
    out.messages[s] = r.message;
    for (std::size_t f = 0; f < std::size(kFields); ++f) {
        const std::vector<double>& v = r.*kFields[f].member;
        std::copy(v.begin(), v.end(), out.arrays[f].values.begin() + long(s * v.size()));
    }
}

PfBatchResult empty_result(const Network& net, std::size_t n) {
    PfBatchResult out;
    out.n_scenarios = n;
    out.converged.assign(n, 0);
    out.iterations.assign(n, 0);
    out.max_mismatch.assign(n, 0.0);
    out.losses_mw.assign(n, 0.0);
    out.losses_mvar.assign(n, 0.0);
    out.messages.assign(n, "");
    out.ids = group_ids(net);
    for (const Field& f : kFields) {
        const std::size_t width = out.group_ids(f.group).size();
        out.arrays.push_back({f.group, f.name, f.unit, std::vector<double>(n * width, kNaN)});
    }
    return out;
}

/// Runs the scenarios on `threads` threads, each taking the next scenario not yet taken; the first
/// error (by scenario) is rethrown.
void run_all(const Network& net, const MathModel& m, const Batch& b, int threads) {
    const std::size_t n = b.up.n_scenarios;
    std::atomic<std::size_t> next{0};
    std::vector<std::exception_ptr> errors(n);
    auto work = [&] {
        Worker w{net, m, std::nullopt, std::nullopt, {}};
        if (b.method == Method::Sweep && !b.controls) {
            w.sweep.emplace();
            w.sweep->analyze(w.m);
        }
        if (b.method == Method::NewtonRaphson && !b.controls && b.opt.reuse_solver) {
            // first solve: the base case, the same in every thread (it fixes KLU's pivot order)
            w.nr.emplace(b.opt.pf.linear_solver);
            w.nr->analyze(w.m);
            w.V = initial_voltages(w.net, w.m, b.opt.pf.flat_start);
            w.nr->solve(w.m, w.V, b.opt.pf.tolerance, b.opt.pf.max_iterations);
        }
        for (std::size_t s = next.fetch_add(1); s < n; s = next.fetch_add(1)) {
            try {
                run_scenario(w, b, s);
            } catch (...) {
                errors[s] = std::current_exception();
            }
        }
    };
    const std::size_t nt = std::min<std::size_t>(std::size_t(std::max(threads, 1)), std::max<std::size_t>(n, 1));
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < nt; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
    for (const std::exception_ptr& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace

std::size_t PfBatchResult::n_converged() const {
    return std::size_t(std::count_if(converged.begin(), converged.end(), [](char c) { return c != 0; }));
}

const PfBatchArray& PfBatchResult::array(const std::string& group, const std::string& name) const {
    for (const PfBatchArray& a : arrays)
        if (a.group == group && a.name == name) return a;
    throw Error("batch power flow result: no array '" + group + "/" + name + "'");
}

PfBatchArray& PfBatchResult::array(const std::string& group, const std::string& name) {
    return const_cast<PfBatchArray&>(std::as_const(*this).array(group, name));
}

const std::vector<Id>& PfBatchResult::group_ids(const std::string& group) const {
    for (const auto& [g, v] : ids)
        if (g == group) return v;
    throw Error("batch power flow result: no group '" + group + "'");
}

double PfBatchResult::at(const std::string& group, const std::string& name, std::size_t scenario, std::size_t column) const {
    return array(group, name).values.at(scenario * group_ids(group).size() + column);
}

Network apply_pf_batch_scenario(const Network& net, const PfBatchUpdate& update, std::size_t s) {
    const std::vector<std::size_t> col = load_columns(net, update);
    if (s >= update.n_scenarios)
        throw ValidationError("apply_pf_batch_scenario: scenario " + std::to_string(s) + " of a batch of " + std::to_string(update.n_scenarios));
    Network out = net;
    apply_scenario(out, update, col, s);
    return out;
}

PfBatchResult run_pf_batch(const Network& net, const PfBatchUpdate& update, const PfBatchOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    net.validate();
    PfBatchResult out = empty_result(net, update.n_scenarios);
    Batch b{update, options, load_columns(net, update), options.pf.method, has_controls(net, options.pf), {}, out};
    const MathModel m = build_math_model(net);
    if (m.has_droop())
        throw ValidationError("run_pf_batch: droop islands (held by grid-forming sources) are not supported yet; use run_power_flow "
                              "per scenario (docs/microgrid.md)");
    if (b.method == Method::Auto) b.method = sweep_applicable(m) ? Method::Sweep : Method::NewtonRaphson;
    if (b.method == Method::Sweep && !sweep_applicable(m))
        throw ValidationError("run_pf_batch: method 'sweep' needs radial islands with one slack and no PV buses; use 'nr' or 'auto'");
    if (b.method == Method::DC) throw ValidationError("run_pf_batch: method 'dc' is not supported; use nr, sweep, fdxb or auto");
    out.method_used = b.method;
    if (options.warm_start && !b.controls) {
        PowerFlowOptions base = options.pf;
        base.method = b.method;
        const PowerFlowResult r0 = run_power_flow(net, base);
        b.warm = initial_voltages(net, m, options.pf.flat_start);
        if (r0.converged)
            for (std::size_t k = 0; k < net.buses.size(); ++k)
                if (const int i = m.bus_node[k]; i >= 0 && m.node_type[i] == BusType::PQ)
                    b.warm[i] = std::polar(r0.bus_vm_pu[k], r0.bus_va_deg[k] * std::numbers::pi / 180.0);
    }
    run_all(net, m, b, options.threads);
    out.solve_time_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

}  // namespace libgrid
