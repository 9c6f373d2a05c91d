// libgrid layer 3: branch admittance parameters and the Ybus assembly, templated on the symmetry.
//
// A branch is a 2x2 block of ComplexTensor<Sym> between its from and to nodes: a complex number
// per entry for symmetric_t, a 3x3 phase matrix for asymmetric_t. pi_section() is MATPOWER's
// branch model (series ys, shunts on either side, ideal tap at the from end); assemble_ybus()
// sums the blocks into Ybus. Defined here; instantiated for symmetric_t in src/math/math_model.cpp
// (extern template below).
#pragma once

#include <libgrid/core/symmetry.hpp>

#include <Eigen/SparseCore>

#include <complex>
#include <vector>

namespace libgrid {

struct MathModel;

/// One branch's admittance block (per unit, system base) and its series admittance / tap.
template <symmetry_tag Sym>
struct BranchAdmittance {
    ComplexTensor<Sym> yff{}, yft{}, ytf{}, ytt{};
    ComplexTensor<Sym> ys{};  ///< pi-equivalent series admittance (for B', B'' and DC)
    cplx tap{1.0, 0.0};       ///< complex tap ratio at the from end: ratio * exp(j shift)
};

/// The block of a pi section: series ys, shunts yf_sh / yt_sh on the network side of an ideal
/// transformer tap at the from end (MATPOWER's convention).
template <symmetry_tag Sym>
BranchAdmittance<Sym> pi_section(const ComplexTensor<Sym>& ys, const ComplexTensor<Sym>& yf_sh, const ComplexTensor<Sym>& yt_sh,
                                 cplx tap);

/// Ybus from m.branches (every diagonal entry present, column-major, compressed).
template <symmetry_tag Sym>
void assemble_ybus(MathModel& m);

template <symmetry_tag Sym>
BranchAdmittance<Sym> pi_section(const ComplexTensor<Sym>& ys, const ComplexTensor<Sym>& yf_sh, const ComplexTensor<Sym>& yt_sh,
                                 cplx tap) {
    BranchAdmittance<Sym> b;
    b.ys = ys;
    b.tap = tap;
    b.yff = (ys + yf_sh) / std::norm(tap);
    b.yft = -ys / std::conj(tap);
    b.ytf = -ys / tap;
    b.ytt = ys + yt_sh;
    return b;
}

extern template BranchAdmittance<symmetric_t> pi_section<symmetric_t>(const cplx&, const cplx&, const cplx&, cplx);
extern template void assemble_ybus<symmetric_t>(MathModel&);

}  // namespace libgrid
