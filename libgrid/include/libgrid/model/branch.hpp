// libgrid model: the MATPOWER branch, its struct and its schema.
#pragma once

#include "libgrid/core/ids.hpp"

namespace libgrid {

template <class T>
struct Schema;  // core/schema.hpp

/// MATPOWER branch in per unit on the system base (line or transformer).
struct Branch {
    Id id = 0;
    Id from_bus = 0;
    Id to_bus = 0;
    double r_pu = 0.0;
    double x_pu = 0.0;
    double b_pu = 0.0;       ///< total line charging susceptance
    double rate_a_mva = 0.0; ///< 0 = unlimited (MATPOWER)
    double rate_b_mva = 0.0;
    double rate_c_mva = 0.0;
    double ratio = 0.0;      ///< off-nominal tap ratio at the from end; 0 means 1 (MATPOWER)
    double shift_deg = 0.0;  ///< phase shift, applies even when ratio == 0
    bool in_service = true;
    double angmin_deg = -360.0;
    double angmax_deg = 360.0;
    bool operator==(const Branch&) const = default;

    static const Schema<Branch>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
