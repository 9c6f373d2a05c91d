// libgrid model: the shunt, its struct and its schema.
#pragma once

#include "libgrid/core/ids.hpp"

namespace libgrid {

template <class T>
struct Schema;  // core/schema.hpp

/// Constant-impedance shunt. p_mw / q_mvar drawn at V = 1 p.u. per step (load convention;
/// negative q_mvar = capacitor). Power drawn = step * (p + jq) * |V|^2.
struct Shunt {
    Id id = 0;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;
    int step = 1;
    int max_step = 1;
    bool in_service = true;
    // Switched capacitor control (libgrid extension): add a step when |V| < v_low_pu,
    // remove one when |V| > v_high_pu.
    bool switched = false;
    double v_low_pu = 0.95;
    double v_high_pu = 1.05;
    bool operator==(const Shunt&) const = default;

    static const Schema<Shunt>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
