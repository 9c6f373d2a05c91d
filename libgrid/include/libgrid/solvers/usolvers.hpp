// libgrid solvers: the unbalanced power-flow solvers on the nodal model (math/umath.hpp).
//
// All three solve the same equations, Y V = i_source + I_comp(V), to the same tolerance (the
// largest change of a node voltage between iterations, in p.u. of its line-to-neutral base), so
// they agree to that tolerance:
//  - fixed point ("normal" mode of OpenDSS): V <- Y^-1 (i_source + I_comp(V)); Y factorised once
//    (KLU, complex), one solve per iteration;
//  - Newton-Raphson on the current mismatch in rectangular coordinates (real 2n system, KLU with
//    the symbolic analysis once);
//  - backward/forward sweep on a radial model (m.radial), branch by branch with each element's
//    yprim blocks.
#pragma once

#include <libgrid/math/umath.hpp>

#include <memory>
#include <string>
#include <vector>

namespace libgrid {

enum class UMethod : std::uint8_t { automatic, fixed_point, newton, sweep };
const char* to_string(UMethod m);
UMethod parse_umethod(const std::string& s);  ///< "auto", "fixed_point", "nr", "sweep"; throws ValidationError

struct USolveOptions {
    double tolerance = 1e-9;   ///< max |dV| / vbase between iterations
    int max_iterations = 100;
};

struct USolveStats {
    bool converged = false;
    int iterations = 0;
    double max_dv_pu = 0.0;
    /// Added by the solvers: seconds spent in numeric factorisations during this solve (Newton-
    /// Raphson refactors its Jacobian every iteration; the fixed point and the sweep factor in their
    /// constructor and refactor(), so 0 here). The rest of a solve is the iterations proper.
    double factor_seconds = 0.0;
};

/// A solver keeps its factorisation between calls with the same model (a tap move changes Y's
/// values: call `refactor()`). v is the start on entry and the solution on exit.
class USolver {
public:
    virtual ~USolver() = default;
    virtual USolveStats solve(std::vector<cplx>& v, const USolveOptions& opt) = 0;
    virtual void refactor() = 0;  ///< Y's values changed, pattern not
    virtual UMethod method() const = 0;
};

/// `automatic`: the sweep when it can walk the model (radial at the nodes, one source; this needs
/// no m.radial: three single-phase regulators side by side are radial by nodes), with Newton-
/// Raphson run from the same start when the sweep does not converge (method() then says newton);
/// Newton-Raphson on anything else. On a multi-earthed model (multi_earthed below) the fixed point
/// instead of the sweep, Newton-Raphson behind it. A method that failed once is not tried again by
/// the same solver: later solves go straight to Newton-Raphson. docs/unbalanced.md, "Solvers",
/// has the measurements behind it. The model must outlive the solver.
std::unique_ptr<USolver> make_usolver(const UMathModel& m, UMethod method);

}  // namespace libgrid

namespace libgrid {

}  // namespace libgrid

namespace libgrid {

/// Added (h6, issue 14): the fixed point restricted to the load nodes (solvers/usolver_reduced.cpp):
/// the same iterates as UMethod::fixed_point (so the same answer to the tolerance), |L|^2 work an
/// iteration instead of a sparse solve, after |L| sparse solves at construction and on refactor()
/// (L = the nodes the loads' compensation currents touch). method() says fixed_point.
std::unique_ptr<USolver> make_reduced_usolver(const UMathModel& m);

/// |L|: how many distinct (non-ground) nodes the loads' elements connect to.
int load_node_count(const UMathModel& m);

/// The rule for using the reduced fixed point (docs/performance.md, "Re-solve and the reduced fixed
/// point"): worth it when the model will be solved more than once (the |L| solves of its set-up pay
/// back) and L is small: |L| <= 512 and 8 |L| <= n_nodes.
bool reduced_fixed_point_fits(const UMathModel& m);

}  // namespace libgrid

namespace libgrid {

/// Added (issue 15, H5): a neutral (a node of conductor 4 or above) is earthed at more than one
/// bus: some shunt element (not a branch of the tree, not a load, not the source) connects such a
/// node to ground at two buses or more (to_unetwork's customer earth electrodes). `automatic` then
/// uses the fixed point, not the sweep (which diverges there), with Newton-Raphson behind it.
bool multi_earthed(const UMathModel& m);

}  // namespace libgrid
