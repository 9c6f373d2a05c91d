// libgrid layer 4: the names of the power-flow methods and linear solvers.
#include <libgrid/core/errors.hpp>
#include <libgrid/solvers/method.hpp>

namespace libgrid {

Method parse_method(const std::string& s) {
    if (s == "nr" || s == "newton") return Method::NewtonRaphson;
    if (s == "fdxb" || s == "fd") return Method::FastDecoupledXB;
    if (s == "dc") return Method::DC;
    if (s == "sweep" || s == "bfs") return Method::Sweep;
    if (s == "auto") return Method::Auto;
    throw ValidationError("unknown power-flow method '" + s + "' (expected nr, fdxb, dc, sweep or auto)");
}
LinearSolverKind parse_linear_solver(const std::string& s) {
    if (s == "sparselu") return LinearSolverKind::SparseLU;
    if (s == "klu") return LinearSolverKind::KLU;
    if (s == "default" || s.empty()) return LinearSolverKind::Default;
    throw ValidationError("unknown linear solver '" + s + "' (expected sparselu or klu)");
}
std::string to_string(Method m) {
    switch (m) {
        case Method::NewtonRaphson: return "nr";
        case Method::FastDecoupledXB: return "fdxb";
        case Method::DC: return "dc";
        case Method::Sweep: return "sweep";
        case Method::Auto: return "auto";
    }
    return "?";
}
std::string to_string(LinearSolverKind k) {
    switch (k) {
        case LinearSolverKind::SparseLU: return "sparselu";
        case LinearSolverKind::KLU: return "klu";
        case LinearSolverKind::Default: return "default";
    }
    return "?";
}

}  // namespace libgrid
