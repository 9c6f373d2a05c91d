// libgrid model: the grid-forming source (a battery inverter or genset with P-f / Q-V droop), its
// struct and its schema.
#pragma once

#include <limits>
#include <string>

#include "libgrid/core/ids.hpp"

namespace libgrid {

template <class T>
struct Schema;  // core/schema.hpp

/// A grid-forming source, GENERATOR convention (positive = injecting into the bus; a charging
/// battery has p < 0). In an island without an ext grid, slack bus or generator it holds the
/// island up ("droop island", docs/microgrid.md): with the island's frequency f and its bus's |V|,
///     P = p_set_mw   - kp_mw_per_hz   * (f - f_nom)        clipped to [p_min_mw, p_max_mw]
///     Q = q_set_mvar - kq_mvar_per_pu * (|V| - v_set_pu)   clipped to [q_min_mvar, q_max_mvar]
/// so the sources share the island's load in proportion to their gains. In an island with an
/// ext grid (grid-connected) it follows the grid: a PQ injection of (p_set_mw, q_set_mvar).
struct FormingSource {
    Id id = 0;
    std::string name;
    Id bus = 0;
    double p_set_mw = 0.0;        ///< P0: output at nominal frequency
    double q_set_mvar = 0.0;      ///< Q0: output at |V| = v_set_pu
    double v_set_pu = 1.0;        ///< voltage at which Q = Q0
    double kp_mw_per_hz = 1.0;    ///< P-f droop gain: P rises by this much per Hz of frequency drop; > 0
    /// Q-V droop gain: Q falls by this much per p.u. of voltage rise; > 0. It is what holds the
    /// island's voltage level (a stiff voltage source: a large kq); 0 would leave it undetermined.
    double kq_mvar_per_pu = 1.0;
    double p_min_mw = -std::numeric_limits<double>::infinity();  ///< a battery: -(charging power)
    double p_max_mw = std::numeric_limits<double>::infinity();
    double q_min_mvar = -std::numeric_limits<double>::infinity();
    double q_max_mvar = std::numeric_limits<double>::infinity();
    double sn_mva = 0.0;          ///< rating; 0 = not given (informational)
    bool in_service = true;
    bool operator==(const FormingSource&) const = default;

    static const Schema<FormingSource>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
