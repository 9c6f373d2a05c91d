// libgrid math (internal): shared pieces of the unbalanced nodal model (umath*.cpp).
#pragma once

#include <libgrid/math/umath.hpp>

#include <string>

namespace libgrid::umath_detail {

/// OpenDSS's default node of conductor k (0-based) of a terminal with `nphases` phases when the
/// bus spec does not name it: phases 1..nphases, every further conductor ground (0)
/// (Circuit.pas ProcessBusDefs).
inline int terminal_node(const UTerminal& t, int k, int nphases) {
    if (k < static_cast<int>(t.nodes.size())) return t.nodes[static_cast<std::size_t>(k)];
    return k < nphases ? k + 1 : 0;
}

/// Conductors per terminal, as OpenDSS sizes them.
inline int load_nconds(const ULoad& l) {
    if (!l.delta) return l.nphases + 1;
    return l.nphases <= 2 ? l.nphases + 1 : l.nphases;
}
inline int capacitor_nconds(const UCapacitor& c) {
    if (!c.delta) return c.nphases;
    return c.nphases <= 2 ? c.nphases + 1 : c.nphases;
}

/// A load's nominal admittance per phase element (Load.pas SetNominalLoad: Yeq).
cplx load_yeq(const ULoad& l);
/// A load's yprim (Load.pas CalcYPrimMatrix, Rneut open: neutral diagonal x 1.000001).
Eigen::MatrixXcd load_yprim(const ULoad& l);
/// The UMathLoad of a load whose element (terminal nodes filled) is `elem`.
UMathLoad make_math_load(const ULoad& l, int load_index, int element_index, const UMathElement& elem);
/// The Norton current of a Vsource into its terminal-1 conductors (yprim11 * E).
Eigen::VectorXcd vsource_voltages(const UVsource& s);

/// BFS over the buses from the sources: source_buses, branches (oriented), radial, v_start
/// (umath_topology.cpp). The elements, nodes and Y must be built.
void orient_and_start(const UNetwork& net, UMathModel& m);

std::string quoted_name(const char* kind, const std::string& name);

}  // namespace libgrid::umath_detail
