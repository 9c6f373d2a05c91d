// libgrid's C API: errors, version, networks and the power flow (libgrid_c.h).
#include "capi_internal.hpp"

#include <libgrid/config.hpp>
#include <libgrid/io/network_io.hpp>
#include <libgrid/solvers/method.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>

using namespace libgrid;
using libgrid::capi::CapiError;
using libgrid::capi::copy_out;
using libgrid::capi::guard;
using libgrid::capi::need;

namespace {

thread_local std::string t_message;
thread_local lg_status t_status = LG_OK;

template <class T>
std::vector<Id> ids_of(const std::vector<T>& table) {
    std::vector<Id> ids;
    ids.reserve(table.size());
    for (const T& e : table) ids.push_back(e.id);
    return ids;
}

/// A per-element power-flow quantity: its name, its element kind and where it is in the result.
struct Quantity {
    const char* name;
    lg_element kind;
    std::vector<double> PowerFlowResult::*field;
};

constexpr Quantity kQuantities[] = {
    {"bus_vm_pu", LG_BUS, &PowerFlowResult::bus_vm_pu},
    {"bus_va_deg", LG_BUS, &PowerFlowResult::bus_va_deg},
    {"bus_p_mw", LG_BUS, &PowerFlowResult::bus_p_mw},
    {"bus_q_mvar", LG_BUS, &PowerFlowResult::bus_q_mvar},
    {"bus_frequency_hz", LG_BUS, &PowerFlowResult::bus_frequency_hz},
    {"branch_p_from_mw", LG_BRANCH, &PowerFlowResult::branch_p_from_mw},
    {"branch_q_from_mvar", LG_BRANCH, &PowerFlowResult::branch_q_from_mvar},
    {"branch_p_to_mw", LG_BRANCH, &PowerFlowResult::branch_p_to_mw},
    {"branch_q_to_mvar", LG_BRANCH, &PowerFlowResult::branch_q_to_mvar},
    {"branch_loading_percent", LG_BRANCH, &PowerFlowResult::branch_loading_percent},
    {"line_p_from_mw", LG_LINE, &PowerFlowResult::line_p_from_mw},
    {"line_q_from_mvar", LG_LINE, &PowerFlowResult::line_q_from_mvar},
    {"line_p_to_mw", LG_LINE, &PowerFlowResult::line_p_to_mw},
    {"line_q_to_mvar", LG_LINE, &PowerFlowResult::line_q_to_mvar},
    {"line_i_from_ka", LG_LINE, &PowerFlowResult::line_i_from_ka},
    {"line_i_to_ka", LG_LINE, &PowerFlowResult::line_i_to_ka},
    {"line_pl_mw", LG_LINE, &PowerFlowResult::line_pl_mw},
    {"line_ql_mvar", LG_LINE, &PowerFlowResult::line_ql_mvar},
    {"line_loading_percent", LG_LINE, &PowerFlowResult::line_loading_percent},
    {"trafo_p_hv_mw", LG_TRAFO, &PowerFlowResult::trafo_p_hv_mw},
    {"trafo_q_hv_mvar", LG_TRAFO, &PowerFlowResult::trafo_q_hv_mvar},
    {"trafo_p_lv_mw", LG_TRAFO, &PowerFlowResult::trafo_p_lv_mw},
    {"trafo_q_lv_mvar", LG_TRAFO, &PowerFlowResult::trafo_q_lv_mvar},
    {"trafo_i_hv_ka", LG_TRAFO, &PowerFlowResult::trafo_i_hv_ka},
    {"trafo_i_lv_ka", LG_TRAFO, &PowerFlowResult::trafo_i_lv_ka},
    {"trafo_pl_mw", LG_TRAFO, &PowerFlowResult::trafo_pl_mw},
    {"trafo_ql_mvar", LG_TRAFO, &PowerFlowResult::trafo_ql_mvar},
    {"trafo_loading_percent", LG_TRAFO, &PowerFlowResult::trafo_loading_percent},
    {"gen_p_mw", LG_GEN, &PowerFlowResult::gen_p_mw},
    {"gen_q_mvar", LG_GEN, &PowerFlowResult::gen_q_mvar},
    {"ext_grid_p_mw", LG_EXT_GRID, &PowerFlowResult::ext_grid_p_mw},
    {"ext_grid_q_mvar", LG_EXT_GRID, &PowerFlowResult::ext_grid_q_mvar},
    {"sgen_p_mw", LG_SGEN, &PowerFlowResult::sgen_p_mw},
    {"shunt_p_mw", LG_SHUNT, &PowerFlowResult::shunt_p_mw},
    {"shunt_q_mvar", LG_SHUNT, &PowerFlowResult::shunt_q_mvar},
};

const Quantity& quantity(const char* name) {
    need(name, "quantity");
    for (const Quantity& q : kQuantities)
        if (std::strcmp(q.name, name) == 0) return q;
    std::string known;
    for (const Quantity& q : kQuantities) known += std::string(known.empty() ? "" : ", ") + q.name;
    throw CapiError{LG_ERR_ARGUMENT, std::string("unknown power-flow quantity '") + name + "' (known: " + known + ")"};
}

/// The quantity's values; an element table the solver left empty (out-of-service, not computed) as NaN.
std::vector<double> values(const lg_powerflow_result& res, const Quantity& q) {
    std::vector<double> v = res.r.*(q.field);
    const std::size_t n = res.ids[q.kind].size();
    if (v.size() != n) v.assign(n, std::numeric_limits<double>::quiet_NaN());
    return v;
}

double sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

}  // namespace

lg_status libgrid::capi::fail(lg_status status, const std::string& message) noexcept {
    try {
        t_message = message;
    } catch (...) {
        t_message.clear();  // no memory for the message: the status alone
    }
    t_status = status;
    return status;
}

const char* libgrid::capi::element_name(lg_element kind) {
    static const char* const names[kElementKinds] = {"bus", "branch", "line", "trafo", "load", "gen",
                                                     "sgen", "storage", "ext_grid", "switch", "shunt"};
    const int k = static_cast<int>(kind);
    if (k < 0 || k >= static_cast<int>(kElementKinds))
        throw CapiError{LG_ERR_ARGUMENT, "unknown element kind " + std::to_string(k)};
    return names[k];
}

std::vector<Id> libgrid::capi::network_ids(const Network& net, lg_element kind) {
    switch (kind) {
        case LG_BUS: return ids_of(net.buses);
        case LG_BRANCH: return ids_of(net.branches);
        case LG_LINE: return ids_of(net.lines);
        case LG_TRAFO: return ids_of(net.transformers);
        case LG_LOAD: return ids_of(net.loads);
        case LG_GEN: return ids_of(net.gens);
        case LG_SGEN: return ids_of(net.sgens);
        case LG_STORAGE: return ids_of(net.storage);
        case LG_EXT_GRID: return ids_of(net.ext_grids);
        case LG_SWITCH: return ids_of(net.switches);
        case LG_SHUNT: return ids_of(net.shunts);
    }
    throw CapiError{LG_ERR_ARGUMENT, "unknown element kind " + std::to_string(static_cast<int>(kind))};
}

// ---- errors and version ----------------------------------------------------------------------

extern "C" const char* lg_last_error(void) { return t_message.c_str(); }
extern "C" lg_status lg_last_status(void) { return t_status; }

extern "C" const char* lg_status_name(lg_status status) {
    switch (status) {
        case LG_OK: return "LG_OK";
        case LG_ERR_ARGUMENT: return "LG_ERR_ARGUMENT";
        case LG_ERR_IO: return "LG_ERR_IO";
        case LG_ERR_VALIDATION: return "LG_ERR_VALIDATION";
        case LG_ERR_ID: return "LG_ERR_ID";
        case LG_ERR_NOT_CONVERGED: return "LG_ERR_NOT_CONVERGED";
        case LG_ERR_SOLVER: return "LG_ERR_SOLVER";
        case LG_ERR_STATE: return "LG_ERR_STATE";
        case LG_ERR_MEMORY: return "LG_ERR_MEMORY";
        case LG_ERR_OTHER: return "LG_ERR_OTHER";
    }
    return "LG_ERR_UNKNOWN";
}

extern "C" const char* lg_version(void) { return LIBGRID_VERSION; }
extern "C" int lg_version_number(void) { return LIBGRID_VERSION_NUMBER; }
extern "C" int lg_abi_version(void) { return LG_ABI_VERSION; }

// ---- networks --------------------------------------------------------------------------------

extern "C" lg_status lg_network_read(const char* path, lg_network** out) {
    return guard("lg_network_read", [&] {
        need(path, "path");
        need(out, "out");
        *out = nullptr;
        const std::string p(path);
        if (p.size() >= 4 && p.compare(p.size() - 4, 4, ".dss") == 0)
            throw CapiError{LG_ERR_ARGUMENT, "'" + p + "': an OpenDSS script is an unbalanced network; run it through a "
                                             "scenario (network.file) with lg_scenario_load"};
        if (std::error_code ec; !std::filesystem::is_regular_file(p, ec) || !std::ifstream(p).good())
            throw CapiError{LG_ERR_IO, "cannot open '" + p + "' (no such readable file)"};
        auto h = std::make_unique<lg_network>();
        h->net = read_network(p);
        *out = h.release();
        return LG_OK;
    });
}

extern "C" void lg_network_free(lg_network* net) { delete net; }

extern "C" lg_status lg_network_count(const lg_network* net, lg_element kind, size_t* count) {
    return guard("lg_network_count", [&] {
        need(net, "net");
        need(count, "count");
        *count = capi::network_ids(net->net, kind).size();
        return LG_OK;
    });
}

extern "C" lg_status lg_network_ids(const lg_network* net, lg_element kind, int64_t* out, size_t n) {
    return guard("lg_network_ids", [&] {
        need(net, "net");
        copy_out(capi::network_ids(net->net, kind), out, n, std::string(capi::element_name(kind)) + " ids");
        return LG_OK;
    });
}

extern "C" lg_status lg_network_bus_count(const lg_network* net, size_t* count) { return lg_network_count(net, LG_BUS, count); }
extern "C" lg_status lg_network_bus_ids(const lg_network* net, int64_t* out, size_t n) { return lg_network_ids(net, LG_BUS, out, n); }

extern "C" lg_status lg_network_index(const lg_network* net, lg_element kind, int64_t id, size_t* index) {
    return guard("lg_network_index", [&] {
        need(net, "net");
        need(index, "index");
        const std::vector<Id> ids = capi::network_ids(net->net, kind);
        for (std::size_t i = 0; i < ids.size(); ++i)
            if (ids[i] == id) {
                *index = i;
                return LG_OK;
            }
        throw CapiError{LG_ERR_ID, std::string("no ") + capi::element_name(kind) + " with id " + std::to_string(id)};
    });
}

// ---- power flow ------------------------------------------------------------------------------

extern "C" lg_status lg_powerflow_run(const lg_network* net, const char* method, double tolerance, int max_iterations,
                                      unsigned flags, lg_powerflow_result** out) {
    return guard("lg_powerflow_run", [&] {
        need(net, "net");
        need(out, "out");
        *out = nullptr;
        PowerFlowOptions opt;
        if (method) {
            try {
                opt.method = parse_method(method);
            } catch (const std::exception& e) {
                throw CapiError{LG_ERR_ARGUMENT, std::string("method '") + method + "': " + e.what()};
            }
        }
        if (tolerance > 0) opt.tolerance = tolerance;
        if (max_iterations > 0) opt.max_iterations = max_iterations;
        opt.flat_start = (flags & LG_PF_FLAT_START) != 0;
        opt.enforce_q_limits = (flags & LG_PF_ENFORCE_Q_LIMITS) != 0;
        opt.run_controls = (flags & LG_PF_NO_CONTROLS) == 0;
        auto h = std::make_unique<lg_powerflow_result>();
        h->r = run_power_flow(net->net, opt);
        for (std::size_t k = 0; k < kElementKinds; ++k) h->ids[k] = capi::network_ids(net->net, static_cast<lg_element>(k));
        const bool ok = h->r.converged;
        const std::string why = h->r.message;
        *out = h.release();
        if (ok) return LG_OK;
        return capi::fail(LG_ERR_NOT_CONVERGED, "lg_powerflow_run: not converged" + (why.empty() ? "" : ": " + why));
    });
}

extern "C" void lg_powerflow_free(lg_powerflow_result* res) { delete res; }

extern "C" lg_status lg_powerflow_converged(const lg_powerflow_result* res, int* converged) {
    return guard("lg_powerflow_converged", [&] {
        need(res, "res");
        need(converged, "converged");
        *converged = res->r.converged ? 1 : 0;
        return LG_OK;
    });
}

extern "C" lg_status lg_powerflow_iterations(const lg_powerflow_result* res, int* iterations) {
    return guard("lg_powerflow_iterations", [&] {
        need(res, "res");
        need(iterations, "iterations");
        *iterations = res->r.iterations;
        return LG_OK;
    });
}

extern "C" const char* lg_powerflow_message(const lg_powerflow_result* res) { return res ? res->r.message.c_str() : ""; }

extern "C" lg_status lg_powerflow_size(const lg_powerflow_result* res, const char* name, size_t* count) {
    return guard("lg_powerflow_size", [&] {
        need(res, "res");
        need(count, "count");
        *count = res->ids[quantity(name).kind].size();
        return LG_OK;
    });
}

extern "C" lg_status lg_powerflow_get(const lg_powerflow_result* res, const char* name, double* out, size_t n) {
    return guard("lg_powerflow_get", [&] {
        need(res, "res");
        const Quantity& q = quantity(name);
        copy_out(values(*res, q), out, n, std::string("'") + q.name + "'");
        return LG_OK;
    });
}

extern "C" lg_status lg_powerflow_value(const lg_powerflow_result* res, const char* name, int64_t id, double* value) {
    return guard("lg_powerflow_value", [&] {
        need(res, "res");
        need(value, "value");
        const Quantity& q = quantity(name);
        const std::vector<Id>& ids = res->ids[q.kind];
        for (std::size_t i = 0; i < ids.size(); ++i)
            if (ids[i] == id) {
                *value = values(*res, q)[i];
                return LG_OK;
            }
        throw CapiError{LG_ERR_ID, std::string("'") + q.name + "': no " + capi::element_name(q.kind) + " with id " +
                                       std::to_string(id)};
    });
}

extern "C" lg_status lg_powerflow_bus_vm_pu(const lg_powerflow_result* res, double* out, size_t n) {
    return lg_powerflow_get(res, "bus_vm_pu", out, n);
}
extern "C" lg_status lg_powerflow_bus_va_deg(const lg_powerflow_result* res, double* out, size_t n) {
    return lg_powerflow_get(res, "bus_va_deg", out, n);
}

extern "C" lg_status lg_powerflow_total(const lg_powerflow_result* res, const char* name, double* value) {
    return guard("lg_powerflow_total", [&] {
        need(res, "res");
        need(name, "name");
        need(value, "value");
        const std::string n(name);
        const PowerFlowResult& r = res->r;
        if (n == "losses_mw") *value = r.losses_mw;
        else if (n == "losses_mvar") *value = r.losses_mvar;
        else if (n == "max_mismatch") *value = r.max_mismatch;
        else if (n == "solve_time_s") *value = r.solve_time_s;
        else if (n == "ext_grid_p_mw") *value = sum(r.ext_grid_p_mw);
        else if (n == "gen_p_mw") *value = sum(r.gen_p_mw);
        else if (n == "sgen_p_mw") *value = sum(r.sgen_p_mw);
        else
            throw CapiError{LG_ERR_ARGUMENT, "unknown total '" + n + "' (known: losses_mw, losses_mvar, max_mismatch, "
                                             "solve_time_s, ext_grid_p_mw, gen_p_mw, sgen_p_mw)"};
        return LG_OK;
    });
}
