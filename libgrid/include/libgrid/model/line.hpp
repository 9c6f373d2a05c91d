// libgrid model: the line (overhead line or cable), its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"

namespace libgrid {

template <class T>
struct Schema;  // core/schema.hpp

/// Overhead line or cable, pi model, as a data sheet gives it.
struct Line {
    Id id = 0;
    std::string name;
    Id from_bus = 0;
    Id to_bus = 0;
    double length_km = 1.0;
    double r_ohm_per_km = 0.0;
    double x_ohm_per_km = 0.0;
    double c_nf_per_km = 0.0;
    double g_us_per_km = 0.0;
    double max_i_ka = kInf;  ///< thermal rating per circuit
    int parallel = 1;
    double df = 1.0;         ///< derating factor
    std::string type;        ///< "cs" cable, "ol" overhead (informational)
    bool in_service = true;
    bool operator==(const Line&) const = default;

    static const Schema<Line>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
