// libgrid model: the two-winding transformer, its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"
#include "libgrid/core/schema.hpp"

namespace libgrid {

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
    double shift_degree = 0.0;  ///< LV angle lags HV by this much
    TapSide tap_side = TapSide::None;
    int tap_neutral = 0;
    int tap_min = 0;
    int tap_max = 0;
    double tap_step_percent = 0.0;
    double tap_step_degree = 0.0;
    int tap_pos = 0;
    int parallel = 1;
    double df = 1.0;
    bool in_service = true;
    // On-load tap changer control (libgrid extension): hold |V| at ctrl_bus within
    // [vm_set_pu - band/2, vm_set_pu + band/2] by moving tap_pos one step at a time.
    bool oltc = false;
    Id oltc_bus = -1;          ///< controlled bus; -1 = the LV bus
    double oltc_vm_pu = 1.0;
    double oltc_band_pu = 0.02;
    bool operator==(const Transformer&) const = default;

    static const Schema<Transformer>& schema() {
        using T = Transformer;
        static const Schema<Transformer> s{"transformer", "transformers", {
            field("id", &T::id).req().about("unique transformer id"),
            field("name", &T::name),
            field("hv_bus", &T::hv_bus).req().refers("bus").about("HV bus id; the bus needs vn_kv > 0"),
            field("lv_bus", &T::lv_bus).req().refers("bus").about("LV bus id; the bus needs vn_kv > 0"),
            field("sn_mva", &T::sn_mva, "MVA").req().in(gt(0)).model(Check::Positive).about("rated power"),
            field("vn_hv_kv", &T::vn_hv_kv, "kV").req().in(gt(0)).model(Check::Positive).about("rated HV voltage"),
            field("vn_lv_kv", &T::vn_lv_kv, "kV").req().in(gt(0)).model(Check::Positive).about("rated LV voltage"),
            field("vk_percent", &T::vk_percent, "%").req().in(gt(0)).model(Check::Positive).about("short-circuit voltage"),
            field("vkr_percent", &T::vkr_percent, "%").in(ge(0)).model(Check::NonNegative).about("<= vk_percent; its real part"),
            field("pfe_kw", &T::pfe_kw, "kW").in(ge(0)).model(Check::NonNegative).about("iron losses"),
            field("i0_percent", &T::i0_percent, "%").model(Check::Finite)
                .about("no-load current; may be negative (case118 has capacitive MATPOWER branches)"),
            field("shift_degree", &T::shift_degree, "deg").model(Check::Finite).about("LV lags HV by this angle"),
            field("tap_side", &T::tap_side, {{0, ""}, {1, "hv"}, {2, "lv"}}).about("tap changer side; null = none"),
            field("tap_neutral", &T::tap_neutral, "step").about("tap position of the rated ratio"),
            field("tap_min", &T::tap_min, "step").about("lowest tap position"),
            field("tap_max", &T::tap_max, "step").about(">= tap_min; highest tap position"),
            field("tap_step_percent", &T::tap_step_percent, "%").model(Check::Finite)
                .about("voltage change per step; may be negative (PGM MV/LV units)"),
            field("tap_step_degree", &T::tap_step_degree, "deg").model(Check::Finite).about("angle change per step"),
            field("tap_pos", &T::tap_pos, "step").shown_default("tap_neutral")
                .about("tap position; not range checked (case118 has -1 with no range)"),
            file_field<T>("tap_changer_type", FieldKind::String)
                .about("\"Ratio\" or null; the writer writes \"Ratio\" when tap_side is set"),
            field("parallel", &T::parallel).in(ge(1)).model(Check::AtLeastOne).about("parallel units"),
            field("df", &T::df).in(in(0, 1, true, false)).model(Check::Positive).about("derating factor"),
            field("in_service", &T::in_service),
            field("oltc", &T::oltc).ext().about("on-load tap changer control; needs tap_side"),
            field("oltc_bus", &T::oltc_bus).ext().about("controlled bus id; -1 = the LV bus"),
            field("oltc_vm_pu", &T::oltc_vm_pu, "p.u.").ext().in(gt(0)).about("voltage set point"),
            field("oltc_band_pu", &T::oltc_band_pu, "p.u.").ext().in(gt(0)).about("full dead band: vm +- band/2"),
        }};
        return s;
    }
};

}  // namespace libgrid
