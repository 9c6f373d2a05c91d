// libgrid model: the external grid (slack), its struct and its schema.
#pragma once

#include "libgrid/core/ids.hpp"

namespace libgrid {

template <class T>
struct Schema;  // core/schema.hpp

/// External grid: the slack.
struct ExtGrid {
    Id id = 0;
    Id bus = 0;
    double vm_pu = 1.0;
    double va_degree = 0.0;
    bool in_service = true;
    bool operator==(const ExtGrid&) const = default;

    static const Schema<ExtGrid>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
