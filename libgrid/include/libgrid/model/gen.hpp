// libgrid model: the voltage-controlled generator, its struct and its schema.
#pragma once

#include "libgrid/core/ids.hpp"

namespace libgrid {

template <class T>
struct Schema;  // core/schema.hpp

/// Voltage-controlled generator (PV bus), generator convention (positive = injection).
struct Gen {
    Id id = 0;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;   ///< used as the Q output where the bus is not voltage controlled
    double vm_pu = 1.0;    ///< voltage setpoint
    double min_q_mvar = -kInf;
    double max_q_mvar = kInf;
    double min_p_mw = 0.0;
    double max_p_mw = kInf;
    double mbase_mva = 100.0;
    bool in_service = true;
    bool operator==(const Gen&) const = default;

    static const Schema<Gen>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
