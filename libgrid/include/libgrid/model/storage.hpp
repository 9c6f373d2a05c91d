// libgrid model: the storage element, its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"

namespace libgrid {

template <class T>
struct Schema;  // core/schema.hpp

/// Storage as a PQ element, LOAD convention (positive = charging), as pandapower.
struct Storage {
    Id id = 0;
    std::string name;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;
    double sn_mva = 0.0;  ///< rating; 0 = not given
    double soc_percent = 50.0;
    double min_e_mwh = 0.0;
    double max_e_mwh = 0.0;
    double scaling = 1.0;  ///< dimensionless multiplier of p_mw
    std::string type;
    bool in_service = true;
    bool operator==(const Storage&) const = default;

    static const Schema<Storage>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
