// libgrid's C API, inside: the handles' C++ types, the error guard that turns every exception into
// an lg_status and the thread's last message, and the checks of pointers and buffers.
#pragma once

#include <libgrid/libgrid_c.h>

#include <libgrid/core/errors.hpp>
#include <libgrid/model/network.hpp>
#include <libgrid/powerflow/powerflow.hpp>
#include <libgrid/results/results.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

struct lg_network {
    libgrid::Network net;
};

inline constexpr std::size_t kElementKinds = 11;

struct lg_powerflow_result {
    libgrid::PowerFlowResult r;
    std::array<std::vector<libgrid::Id>, kElementKinds> ids;  ///< by lg_element: the network's ids
};

struct lg_scenario {
    libgrid::Scenario sc;
};

struct lg_simulation {
    std::unique_ptr<libgrid::BuiltScenario> built;       ///< kept: the options point into its weather
    std::optional<libgrid::Simulation> sim;
    std::map<std::string, std::vector<libgrid::Id>> ids;  ///< by kind: "bus", ..., "battery", "pv"
    bool in_memory = false;
    bool started = false;
    bool ended = false;                                   ///< finished (run() or finish())
    std::optional<libgrid::SimulationSummary> summary;
    std::optional<libgrid::StepInfo> last;
    // the table last read by lg_results_* (rebuilt when another is asked or a step was run)
    mutable std::string cached_key;
    mutable std::size_t cached_steps = 0;
    mutable std::optional<libgrid::ResultTable> cached;
};

namespace libgrid::capi {

/// Thrown inside the C API for a status of its own (a NULL argument, a small buffer, a state).
struct CapiError {
    lg_status status;
    std::string message;
};

/// Sets the thread's last error and returns `status`.
lg_status fail(lg_status status, const std::string& message) noexcept;

/// Runs `body` (returning lg_status): every exception becomes a status and the thread's message,
/// prefixed with the C function's name. A plain libgrid::Error gives `generic`.
template <class F>
lg_status guard(const char* func, F&& body, lg_status generic = LG_ERR_OTHER) noexcept {
    const std::string pre = std::string(func) + ": ";
    try {
        return body();
    } catch (const CapiError& e) {
        return fail(e.status, pre + e.message);
    } catch (const ParseError& e) {
        return fail(LG_ERR_IO, pre + e.what());
    } catch (const IdError& e) {
        return fail(LG_ERR_ID, pre + e.what());
    } catch (const ValidationError& e) {
        return fail(LG_ERR_VALIDATION, pre + e.what());
    } catch (const SolverError& e) {
        return fail(LG_ERR_SOLVER, pre + e.what());
    } catch (const Error& e) {
        return fail(generic, pre + e.what());
    } catch (const std::bad_alloc&) {
        return fail(LG_ERR_MEMORY, pre + "out of memory");
    } catch (const std::exception& e) {
        return fail(LG_ERR_OTHER, pre + e.what());
    } catch (...) {
        return fail(LG_ERR_OTHER, pre + "unknown error");
    }
}

/// CapiError(LG_ERR_ARGUMENT) naming the argument when `p` is NULL.
inline void need(const void* p, const char* arg) {
    if (!p) throw CapiError{LG_ERR_ARGUMENT, std::string("argument '") + arg + "' is NULL"};
}

/// Copies `v` into the caller's buffer of `n` values; a NULL or too small buffer is LG_ERR_ARGUMENT
/// naming what and how many values are needed (nothing written then).
template <class T, class U>
void copy_out(const std::vector<T>& v, U* out, std::size_t n, const std::string& what) {
    if (n < v.size())
        throw CapiError{LG_ERR_ARGUMENT, "buffer of " + std::to_string(n) + " values for " + what + ": " +
                                             std::to_string(v.size()) + " needed"};
    if (!v.empty()) need(out, "out");
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = static_cast<U>(v[i]);
}

/// The name of an element kind ("bus", "branch", ...); CapiError for a value outside lg_element.
const char* element_name(lg_element kind);
/// The ids of a network's table of that kind, in table order.
std::vector<Id> network_ids(const Network& net, lg_element kind);

}  // namespace libgrid::capi
