// libgrid model: the two-winding transformer, its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"

namespace libgrid {

template <class T>
struct Schema;  // core/schema.hpp

enum class TapSide : int { None = 0, HV = 1, LV = 2 };

/// Two-winding transformer, as a nameplate gives it.
struct Transformer {
    Id id = 0;
    std::string name;
    Id hv_bus = 0;
    Id lv_bus = 0;
    double sn_mva = 1.0;
    double vn_hv_kv = 1.0;
    double vn_lv_kv = 1.0;
    double vk_percent = 1.0;
    double vkr_percent = 0.0;
    double pfe_kw = 0.0;
    double i0_percent = 0.0;
    double shift_deg = 0.0;  ///< LV angle lags HV by this much
    TapSide tap_side = TapSide::None;
    int tap_neutral = 0;
    int tap_min = 0;
    int tap_max = 0;
    double tap_step_percent = 0.0;
    double tap_step_deg = 0.0;
    int tap_pos = 0;
    int parallel = 1;
    double df = 1.0;  ///< derating factor, dimensionless (rating = sn_mva * df * parallel)
    bool in_service = true;
    // On-load tap changer control (libgrid extension): hold |V| at ctrl_bus within
    // [vm_set_pu - band/2, vm_set_pu + band/2] by moving tap_pos one step at a time.
    bool oltc = false;
    Id oltc_bus = -1;          ///< controlled bus; -1 = the LV bus
    double oltc_vm_pu = 1.0;
    double oltc_band_pu = 0.02;
    bool operator==(const Transformer&) const = default;

    static const Schema<Transformer>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
