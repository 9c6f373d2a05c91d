// libgrid model: the external grid (slack), its struct and its schema.
#pragma once

#include "libgrid/core/ids.hpp"

#include <limits>

namespace libgrid {

template <class T>
struct Schema;  // core/schema.hpp

/// External grid: the slack.
struct ExtGrid {
    Id id = 0;
    Id bus = 0;
    double vm_pu = 1.0;
    double va_deg = 0.0;
    bool in_service = true;
    /// Short-circuit power of the source (MVA); infinite = an ideal slack at the bus. Finite: the
    /// ideal voltage vm_pu/va_deg sits behind z = sn_mva/sk_mva p.u. (power-grid-model's source).
    double sk_mva = std::numeric_limits<double>::infinity();
    double rx_ratio = 0.1;  ///< R/X of the source impedance (power-grid-model's default 0.1)
    bool operator==(const ExtGrid&) const = default;

    static const Schema<ExtGrid>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
