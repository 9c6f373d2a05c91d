// libgrid model: the shunt, its struct and its schema.
#pragma once

#include "libgrid/core/ids.hpp"
#include "libgrid/core/schema.hpp"

namespace libgrid {

/// Constant-impedance shunt. p_mw / q_mvar drawn at V = 1 p.u. per step (load convention;
/// negative q_mvar = capacitor). Power drawn = step * (p + jq) * |V|^2.
struct Shunt {
    Id id = 0;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;
    int step = 1;
    int max_step = 1;
    bool in_service = true;
    // Switched capacitor control (libgrid extension): add a step when |V| < v_low_pu,
    // remove one when |V| > v_high_pu.
    bool switched = false;
    double v_low_pu = 0.95;
    double v_high_pu = 1.05;
    bool operator==(const Shunt&) const = default;

    static const Schema<Shunt>& schema() {
        using S = Shunt;
        static const Schema<Shunt> s{"shunt", "shunts", {
            field("id", &S::id).req().about("unique shunt id"),
            file_field<S>("name", FieldKind::String).about("discarded (Shunt has no name); written as null"),
            field("bus", &S::bus).req().refers("bus").about("bus id"),
            field("p_mw", &S::p_mw, "MW").model(Check::Finite).about("per step, drawn at vn_kv (load convention)"),
            field("q_mvar", &S::q_mvar, "Mvar").model(Check::Finite).about("per step; < 0 is a capacitor"),
            file_field<S>("vn_kv", FieldKind::Double, "kV").shown_default("the bus vn_kv")
                .about("> 0; p, q are referred to the bus voltage by (vn_bus/vn_kv)^2; written as the bus vn_kv"),
            field("step", &S::step).in(ge(0)).about("<= max_step; steps in service"),
            field("max_step", &S::max_step).in(ge(1)).about("number of steps"),
            field("in_service", &S::in_service),
            field("switched", &S::switched).ext().about("switched-capacitor control"),
            field("v_low_pu", &S::v_low_pu, "p.u.").ext().in(gt(0)).about("add a step below this voltage"),
            field("v_high_pu", &S::v_high_pu, "p.u.").ext().about("> v_low_pu; remove a step above this voltage"),
        }};
        return s;
    }
};

}  // namespace libgrid
