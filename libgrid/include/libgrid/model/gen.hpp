// libgrid model: the voltage-controlled generator, its struct and its schema.
#pragma once

#include "libgrid/core/ids.hpp"
#include "libgrid/core/schema.hpp"

namespace libgrid {

/// Voltage-controlled generator (PV bus), generator convention (positive = injection).
struct Gen {
    Id id = 0;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;   ///< used as the Q output where the bus is not voltage controlled
    double vm_pu = 1.0;    ///< voltage setpoint
    double min_q_mvar = -kInf;
    double max_q_mvar = kInf;
    double min_p_mw = 0.0;
    double max_p_mw = kInf;
    double mbase_mva = 100.0;
    bool in_service = true;
    bool operator==(const Gen&) const = default;

    static const Schema<Gen>& schema() {
        using G = Gen;
        const Range any{-kInf, kInf, false, false, true};
        static const Schema<Gen> s{"gen", "gens", {
            field("id", &G::id).req().about("unique gen id"),
            file_field<G>("name", FieldKind::String).about("discarded; written as null"),
            field("bus", &G::bus).req().refers("bus").about("bus id"),
            field("p_mw", &G::p_mw, "MW").model(Check::Finite).about("active power, generator convention"),
            field("vm_pu", &G::vm_pu, "p.u.").in(gt(0)).model(Check::Positive).about("voltage set point"),
            field("mbase_mva", &G::mbase_mva, "MVA").json("sn_mva").in(gt(0)).about("machine base (MATPOWER mBase)"),
            field("min_q_mvar", &G::min_q_mvar, "Mvar").in(any).model(Check::NotNan).about("null = unlimited"),
            field("max_q_mvar", &G::max_q_mvar, "Mvar").in(any).model(Check::NotNan).about(">= min_q_mvar; null = unlimited"),
            file_field<G>("scaling", FieldKind::Double).shown_default("1")
                .about(">= 0; Gen has no scaling: p_mw*scaling is stored and the writer writes 1"),
            file_field<G>("slack", FieldKind::Bool).shown_default("false")
                .about("true makes the bus a slack when no in-service ext_grid sits on it; written true on a slack bus"),
            file_field<G>("slack_weight", FieldKind::Double).about("discarded; written as null"),
            file_field<G>("type", FieldKind::String).about("discarded; written as null"),
            field("in_service", &G::in_service),
            field("q_mvar", &G::q_mvar, "Mvar").ext().model(Check::Finite).about("Q output where the bus is not voltage controlled"),
            field("min_p_mw", &G::min_p_mw, "MW").ext().about("lower active power limit"),
            field("max_p_mw", &G::max_p_mw, "MW").ext().in(any).about(">= min_p_mw; null = unlimited"),
        }};
        return s;
    }
};

}  // namespace libgrid
