// libgrid model: the load, its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"
#include "libgrid/core/schema.hpp"

namespace libgrid {

/// Load, consumption positive. ZIP shares in percent of p_mw / q_mvar (rest is constant power).
struct Load {
    Id id = 0;
    std::string name;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;
    double const_z_p_percent = 0.0;
    double const_i_p_percent = 0.0;
    double const_z_q_percent = 0.0;
    double const_i_q_percent = 0.0;
    double scaling = 1.0;
    std::string type;
    bool in_service = true;
    bool operator==(const Load&) const = default;

    static const Schema<Load>& schema() {
        using L = Load;
        static const Schema<Load> s{"load", "loads", {
            field("id", &L::id).req().about("unique load id"),
            field("name", &L::name),
            field("bus", &L::bus).req().refers("bus").about("bus id"),
            field("p_mw", &L::p_mw, "MW").model(Check::Finite).about("active power, consumption positive"),
            field("q_mvar", &L::q_mvar, "Mvar").model(Check::Finite).about("reactive power"),
            field("const_z_p_percent", &L::const_z_p_percent, "%").in(in(0, 100)).model(Check::Finite)
                .about("constant-impedance share of p_mw; z + i <= 100"),
            field("const_z_q_percent", &L::const_z_q_percent, "%").in(in(0, 100)).model(Check::Finite)
                .about("constant-impedance share of q_mvar; z + i <= 100"),
            field("const_i_p_percent", &L::const_i_p_percent, "%").in(in(0, 100)).model(Check::Finite)
                .about("constant-current share of p_mw"),
            field("const_i_q_percent", &L::const_i_q_percent, "%").in(in(0, 100)).model(Check::Finite)
                .about("constant-current share of q_mvar"),
            file_field<L>("sn_mva", FieldKind::Double, "MVA").about("ignored; the writer writes null"),
            field("scaling", &L::scaling).in(ge(0)).model(Check::NonNegative)
                .about("kept apart from p_mw: the effective load is p_mw*scaling"),
            field("type", &L::type),
            field("in_service", &L::in_service),
        }};
        return s;
    }
};

}  // namespace libgrid
