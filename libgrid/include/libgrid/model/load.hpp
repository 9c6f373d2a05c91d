// libgrid model: the load, its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"

namespace libgrid {

template <class T>
struct Schema;  // core/schema.hpp

/// Load, consumption positive. ZIP shares in percent of p_mw / q_mvar (rest is constant power).
struct Load {
    Id id = 0;
    std::string name;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;
    double const_z_p_percent = 0.0;
    double const_i_p_percent = 0.0;
    double const_z_q_percent = 0.0;
    double const_i_q_percent = 0.0;
    double scaling = 1.0;  ///< dimensionless multiplier of p_mw and q_mvar
    std::string type;
    bool in_service = true;
    bool operator==(const Load&) const = default;

    static const Schema<Load>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
