// Small unbalanced networks built by hand for the nodal-model tests (test_umath*.cpp).
#pragma once

#include <libgrid/math/umath.hpp>

#include <Eigen/Dense>

#include <cmath>
#include <complex>
#include <numbers>
#include <string>
#include <vector>

namespace umath_test {

using libgrid::cplx;

inline cplx polar_deg(double mag, double deg) { return std::polar(mag, deg * std::numbers::pi / 180.0); }
inline double arg_deg(cplx z) { return std::arg(z) * 180.0 / std::numbers::pi; }
/// Angle difference a - b wrapped to (-180, 180].
inline double angle_diff_deg(cplx a, cplx b) {
    double d = arg_deg(a) - arg_deg(b);
    while (d > 180.0) d -= 360.0;
    while (d <= -180.0) d += 360.0;
    return d;
}

inline int add_bus(libgrid::UNetwork& net, const std::string& name, double kv_ll) {
    libgrid::UBus b;
    b.name = name;
    b.kv_base_ll = kv_ll;
    net.buses.push_back(b);
    return static_cast<int>(net.buses.size()) - 1;
}

inline libgrid::UTerminal term(int bus, std::vector<int> nodes) { return libgrid::UTerminal{bus, std::move(nodes)}; }

/// A stiff 3-phase source (z1 = z0 = 0.001 + 0.01j ohm) at `bus`.
inline libgrid::UVsource stiff_source(int bus, double kv_ll) {
    libgrid::UVsource s;
    s.name = "source";
    s.bus1 = term(bus, {1, 2, 3});
    s.nphases = 3;
    s.basekv = kv_ll;
    s.z1_ohm = cplx(0.001, 0.01);
    s.z0_ohm = cplx(0.001, 0.01);
    return s;
}

inline libgrid::UWinding winding(int bus, std::vector<int> nodes, bool delta, double kv, double kva) {
    libgrid::UWinding w;
    w.bus = term(bus, std::move(nodes));
    w.delta = delta;
    w.kv = kv;
    w.kva = kva;
    w.r_pct = 0.5;
    return w;
}

inline libgrid::ULoad load(const std::string& name, libgrid::UTerminal t, int nphases, bool delta, double kv, double kw,
                           double kvar, int model) {
    libgrid::ULoad l;
    l.name = name;
    l.bus1 = std::move(t);
    l.nphases = nphases;
    l.delta = delta;
    l.kv = kv;
    l.kw = l.base_kw = kw;
    l.kvar = l.base_kvar = kvar;
    l.model = model;
    return l;
}

/// Solve Y V = i_source (linear: constant-Z loads only) with a dense LU.
inline std::vector<cplx> solve_linear(const libgrid::UMathModel& m) {
    const Eigen::MatrixXcd y(m.Y);
    const Eigen::VectorXcd rhs = Eigen::Map<const Eigen::VectorXcd>(m.i_source.data(), m.n_nodes);
    const Eigen::VectorXcd v = y.fullPivLu().solve(rhs);
    return std::vector<cplx>(v.data(), v.data() + v.size());
}

/// Index of the model element of `kind` built from the network's table entry `index`.
inline int element_of(const libgrid::UMathModel& m, libgrid::UElementKind kind, int index) {
    for (std::size_t i = 0; i < m.elements.size(); ++i)
        if (m.elements[i].kind == kind && m.elements[i].index == index) return static_cast<int>(i);
    return -1;
}

}  // namespace umath_test
