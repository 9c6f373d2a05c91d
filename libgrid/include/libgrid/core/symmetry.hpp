// libgrid core: symmetry tags. A kernel templated on the symmetry works on one value per node and
// branch end: the positive-sequence phasor (symmetric_t) or the three phase phasors (asymmetric_t),
// after power-grid-model's sym / asym. Only symmetric_t is instantiated today; asymmetric_t gives
// the types three-phase will fill in (Eigen fixed-size, no allocation).
#pragma once

#include <Eigen/Core>

#include <complex>
#include <type_traits>

namespace libgrid {

using cplx = std::complex<double>;

struct symmetric_t {
    static constexpr int n_phases = 1;
    using real_value = double;     ///< a magnitude, an angle, a real power
    using complex_value = cplx;    ///< a voltage, a current, a complex power
    using complex_tensor = cplx;   ///< an admittance between two nodes
};

struct asymmetric_t {
    static constexpr int n_phases = 3;
    using real_value = Eigen::Vector3d;
    using complex_value = Eigen::Vector3cd;
    using complex_tensor = Eigen::Matrix3cd;
};

template <class T>
concept symmetry_tag = std::is_same_v<T, symmetric_t> || std::is_same_v<T, asymmetric_t>;

template <symmetry_tag Sym> using RealValue = typename Sym::real_value;
template <symmetry_tag Sym> using ComplexValue = typename Sym::complex_value;
template <symmetry_tag Sym> using ComplexTensor = typename Sym::complex_tensor;

template <symmetry_tag Sym> inline constexpr bool is_symmetric_v = std::is_same_v<Sym, symmetric_t>;

}  // namespace libgrid
