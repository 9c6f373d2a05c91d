// libgrid solvers: the fixed point of OpenDSS's "normal" solution, V <- Y^-1 (i_source + I_comp(V)),
// with Y factorised once (complex sparse LU) and one forward/back substitution per iteration.
#include "usolver_detail.hpp"

#include <libgrid/core/errors.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace libgrid::udetail {

namespace {
const char* const kWhat = "unbalanced fixed point";
void check_model(const UMathModel& m, const char* what) {
    if (m.n_nodes <= 0) throw SolverError(std::string(what) + ": the model has no node");
    if (m.Y.rows() != m.n_nodes || m.Y.cols() != m.n_nodes || int(m.i_source.size()) != m.n_nodes)
        throw SolverError(std::string(what) + ": Y is " + std::to_string(m.Y.rows()) + "x" + std::to_string(m.Y.cols()) +
                          " and i_source has " + std::to_string(m.i_source.size()) + " entries for " +
                          std::to_string(m.n_nodes) + " nodes");
    if (!m.Y.isCompressed()) throw SolverError(std::string(what) + ": Y must be in compressed form (makeCompressed)");
}
}  // namespace

FixedPointUSolver::FixedPointUSolver(const UMathModel& m)
    : m_(m), inv_vbase_(inverse_vbase(m)), rhs_(std::size_t(std::max(m.n_nodes, 0))) {
    check_model(m, kWhat);
    lu_.factor(m.Y, kWhat);
}

void FixedPointUSolver::refactor() { lu_.refactor(m_.Y, kWhat); }

USolveStats FixedPointUSolver::solve(std::vector<cplx>& v, const USolveOptions& opt) {
    const int n = m_.n_nodes;
    if (int(v.size()) != n) throw SolverError(std::string(kWhat) + ": the start has " + std::to_string(v.size()) + " voltages for " + std::to_string(n) + " nodes");
    USolveStats st;
    for (int it = 1; it <= opt.max_iterations; ++it) {
        std::copy(m_.i_source.begin(), m_.i_source.end(), rhs_.begin());
        add_compensation(m_, v.data(), rhs_.data());
        lu_.solve(rhs_.data(), n);
        st.max_dv_pu = max_dv_pu(inv_vbase_, rhs_.data(), v.data(), n);
        std::copy(rhs_.begin(), rhs_.end(), v.begin());
        st.iterations = it;
        if (st.max_dv_pu < opt.tolerance) {
            st.converged = true;
            break;
        }
        if (!std::isfinite(st.max_dv_pu)) break;
    }
    return st;
}

}  // namespace libgrid::udetail
