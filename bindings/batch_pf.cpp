// libgrid Python module: a batch of power flows (powerflow/batch_pf.hpp).
//
//   _libgrid.run_pf_batch(net, p_mw, q_mvar, load_ids, method, linear_solver, tolerance,
//                         max_iterations, flat_start, enforce_q_limits, run_controls, threads,
//                         warm_start, reuse_solver, output)
//       -> {"converged", "iterations", "max_mismatch", "losses_mw", "losses_mvar" (1-D arrays),
//           "messages" (list), "method", "solve_time_s", "ids" {group: array},
//           "arrays" {group: {name: 2-D array (scenarios x ids)}}}
//
// p_mw / q_mvar: 2-D float64 arrays (scenarios x loads), read in place when C-contiguous float64
// (else converted once); None keeps the network's values. The result arrays take over the C++
// vectors (no copy). The GIL is released while the batch runs.
#include <libgrid/core/errors.hpp>
#include <libgrid/powerflow/batch_pf.hpp>
#include <libgrid/simulation/batch.hpp>
#include <libgrid/solvers/method.hpp>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace libgrid;

namespace {

using InArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

/// A C++ vector handed to numpy without a copy: the array owns it through a capsule.
template <class T>
py::array_t<T> adopt(std::vector<T>&& v, std::vector<py::ssize_t> shape) {
    auto* owned = new std::vector<T>(std::move(v));
    py::capsule cap(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
    return py::array_t<T>(shape, owned->data(), cap);
}

/// The shape of one update array: 2-D, `n_loads` columns; returns its rows.
std::size_t rows_of(const InArray& a, const char* what, std::size_t n_loads) {
    if (a.ndim() != 2)
        throw ValidationError(std::string("run_pf_batch: ") + what + " must be 2-D (scenarios x loads), got " + std::to_string(a.ndim()) + "-D");
    if (std::size_t(a.shape(1)) != n_loads)
        throw ValidationError(std::string("run_pf_batch: ") + what + " has " + std::to_string(a.shape(1)) + " columns, expected " +
                              std::to_string(n_loads) + " (one per load of load_ids, or every load of the network)");
    return std::size_t(a.shape(0));
}

py::dict run(const Network& net, std::optional<InArray> p, std::optional<InArray> q, std::optional<std::vector<Id>> load_ids,
             const std::string& method, const std::string& linear_solver, double tolerance, int max_iterations, bool flat_start,
             bool enforce_q_limits, bool run_controls, int threads, bool warm_start, bool reuse_solver,
             std::optional<std::string> output) {
    PfBatchUpdate up;
    if (load_ids) up.load_ids = *load_ids;
    const std::size_t n_loads = load_ids ? load_ids->size() : net.loads.size();
    if (!p && !q) throw ValidationError("run_pf_batch: give p_mw, q_mvar or both");
    const std::size_t rp = p ? rows_of(*p, "p_mw", n_loads) : 0, rq = q ? rows_of(*q, "q_mvar", n_loads) : 0;
    if (p && q && rp != rq)
        throw ValidationError("run_pf_batch: p_mw has " + std::to_string(rp) + " scenarios, q_mvar " + std::to_string(rq));
    up.n_scenarios = p ? rp : rq;
    if (p) up.p_mw = std::span<const double>(p->data(), p->size());
    if (q) up.q_mvar = std::span<const double>(q->data(), q->size());
    PfBatchOptions opt;
    opt.pf.method = parse_method(method);
    opt.pf.linear_solver = parse_linear_solver(linear_solver);
    opt.pf.tolerance = tolerance;
    opt.pf.max_iterations = max_iterations;
    opt.pf.flat_start = flat_start;
    opt.pf.enforce_q_limits = enforce_q_limits;
    opt.pf.run_controls = run_controls;
    opt.threads = threads;
    opt.warm_start = warm_start;
    opt.reuse_solver = reuse_solver;
    PfBatchResult r;
    {
        py::gil_scoped_release release;
        r = run_pf_batch(net, up, opt);
        if (output) write_pf_batch_h5(*output, net, r);
    }
    const auto n = py::ssize_t(r.n_scenarios);
    py::dict d;
    std::vector<bool> conv(r.converged.begin(), r.converged.end());
    d["converged"] = py::array_t<bool>(py::cast(conv));
    d["iterations"] = adopt(std::move(r.iterations), {n});
    d["max_mismatch"] = adopt(std::move(r.max_mismatch), {n});
    d["losses_mw"] = adopt(std::move(r.losses_mw), {n});
    d["losses_mvar"] = adopt(std::move(r.losses_mvar), {n});
    d["messages"] = r.messages;
    d["method"] = to_string(r.method_used);
    d["solve_time_s"] = r.solve_time_s;
    py::dict ids, arrays;
    for (auto& [group, v] : r.ids) {
        py::dict g;
        const auto width = py::ssize_t(v.size());
        for (PfBatchArray& a : r.arrays)
            if (a.group == group) g[py::str(a.name)] = adopt(std::move(a.values), {n, width});
        arrays[py::str(group)] = g;
        ids[py::str(group)] = adopt(std::move(v), {width});
    }
    d["ids"] = ids;
    d["arrays"] = arrays;
    return d;
}

}  // namespace

void bind_batch_pf(py::module_& m) {
    m.def("run_pf_batch", &run, py::arg("net"), py::arg("p_mw") = py::none(), py::arg("q_mvar") = py::none(),
          py::arg("load_ids") = py::none(), py::arg("method") = "nr", py::arg("linear_solver") = "default",
          py::arg("tolerance") = 1e-8, py::arg("max_iterations") = 30, py::arg("flat_start") = false,
          py::arg("enforce_q_limits") = false, py::arg("run_controls") = true, py::arg("threads") = 1,
          py::arg("warm_start") = false, py::arg("reuse_solver") = false, py::arg("output") = py::none(),
          "A batch of power flows: p_mw / q_mvar (scenarios x loads) in, arrays (scenarios x elements) out.");
}
