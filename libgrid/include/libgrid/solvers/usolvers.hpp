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
/// Newton-Raphson on anything else. docs/unbalanced.md, "Solvers", has the measurements behind
/// it. The model must outlive the solver.
std::unique_ptr<USolver> make_usolver(const UMathModel& m, UMethod method);

}  // namespace libgrid

namespace libgrid {

/// Added by the solvers (issue 14): the current of one load phase element and its derivatives with
/// respect to the real and the imaginary part of the element voltage v (not holomorphic: a constant
/// PQ load's current depends on conj(v)). The rules are UMathLoad's (the same current as
/// load_phase_current); the Newton-Raphson Jacobian is made of these derivatives.
struct ULoadCurrentJac {
    cplx i{0.0, 0.0};       ///< current through the element from a to b (A)
    cplx di_dvr{0.0, 0.0};  ///< dI / d Re(v) (S)
    cplx di_dvi{0.0, 0.0};  ///< dI / d Im(v) (S)
};
ULoadCurrentJac load_phase_current_jac(const UMathLoad& ld, cplx v);

}  // namespace libgrid
