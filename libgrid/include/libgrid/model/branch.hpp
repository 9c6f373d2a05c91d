// libgrid model: the MATPOWER branch, its struct and its schema.
#pragma once

#include "libgrid/core/ids.hpp"
#include "libgrid/core/schema.hpp"

namespace libgrid {

/// MATPOWER branch in per unit on the system base (line or transformer).
struct Branch {
    Id id = 0;
    Id from_bus = 0;
    Id to_bus = 0;
    double r_pu = 0.0;
    double x_pu = 0.0;
    double b_pu = 0.0;       ///< total line charging susceptance
    double rate_a_mva = 0.0; ///< 0 = unlimited (MATPOWER)
    double rate_b_mva = 0.0;
    double rate_c_mva = 0.0;
    double ratio = 0.0;      ///< off-nominal tap ratio at the from end; 0 means 1 (MATPOWER)
    double shift_deg = 0.0;  ///< phase shift, applies even when ratio == 0
    bool in_service = true;
    double angmin_deg = -360.0;
    double angmax_deg = 360.0;
    bool operator==(const Branch&) const = default;

    static const Schema<Branch>& schema() {
        using B = Branch;
        static const Schema<Branch> s{"branch", "branches", {
            field("id", &B::id).req().ext().about("unique branch id"),
            field("from_bus", &B::from_bus).req().ext().refers("bus").about("from bus id (tap side)"),
            field("to_bus", &B::to_bus).req().ext().refers("bus").about("to bus id"),
            field("r_pu", &B::r_pu, "p.u.").ext().model(Check::Finite).about("series resistance on sn_mva; any sign (equivalents)"),
            field("x_pu", &B::x_pu, "p.u.").ext().model(Check::Finite).about("series reactance; r and x not both 0"),
            field("b_pu", &B::b_pu, "p.u.").ext().model(Check::Finite).about("total line charging susceptance"),
            field("rate_a_mva", &B::rate_a_mva, "MVA").ext().in(ge(0)).about("long-term rating; 0 = unlimited"),
            field("rate_b_mva", &B::rate_b_mva, "MVA").ext().in(ge(0)).about("short-term rating; 0 = unlimited"),
            field("rate_c_mva", &B::rate_c_mva, "MVA").ext().in(ge(0)).about("emergency rating; 0 = unlimited"),
            field("ratio", &B::ratio).ext().in(ge(0)).model(Check::NonNegative).about("off-nominal tap ratio at the from end; 0 means 1"),
            field("shift_deg", &B::shift_deg, "deg").ext().model(Check::Finite).about("phase shift; applies even when ratio is 0"),
            field("in_service", &B::in_service).ext(),
            field("angmin_deg", &B::angmin_deg, "deg").ext().about("minimum angle difference"),
            field("angmax_deg", &B::angmax_deg, "deg").ext().about(">= angmin_deg; maximum angle difference"),
        }};
        return s;
    }
};

}  // namespace libgrid
