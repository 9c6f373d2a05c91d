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
    double scaling = 1.0;  ///< dimensionless multiplier of p_mw and q_mvar
    std::string type;
    bool in_service = true;
    /// Frequency-watt (IEEE 1547-2018, over-frequency), applied in a droop island
    /// (docs/microgrid.md): P = min(P_avail, P_avail - P_rated (f - f_nom - db) / (droop f_nom)),
    /// not below 0; P_avail = p_mw * scaling, P_rated = sn_mva if given, else P_avail.
    bool fw_enabled = false;
    double fw_deadband_hz = 0.036;  ///< IEEE 1547-2018 default for 50/60 Hz: 0.036 Hz
    double fw_droop_percent = 5.0;  ///< per unit frequency change per unit power, in percent
    bool operator==(const SGen&) const = default;

    static const Schema<SGen>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
