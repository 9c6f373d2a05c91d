// libgrid model: the static generator, its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"

namespace libgrid {

template <class T>
struct Schema;  // core/schema.hpp

/// Static generator (PV, wind, CHP...): PQ injection, generator convention.
struct SGen {
    Id id = 0;
    std::string name;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;
    double sn_mva = 0.0;  ///< rating; 0 = not given
    double scaling = 1.0;
    std::string type;
    bool in_service = true;
    bool operator==(const SGen&) const = default;

    static const Schema<SGen>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
