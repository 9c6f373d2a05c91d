// libgrid model: the line (overhead line or cable), its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"
#include "libgrid/core/schema.hpp"

namespace libgrid {

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

    static const Schema<Line>& schema() {
        using L = Line;
        static const Schema<Line> s{"line", "lines", {
            field("id", &L::id).req().about("unique line id"),
            field("name", &L::name),
            field("from_bus", &L::from_bus).req().refers("bus").about("from bus id; the bus needs vn_kv > 0"),
            field("to_bus", &L::to_bus).req().refers("bus").about("to bus id; the bus needs vn_kv > 0"),
            field("length_km", &L::length_km, "km").req().in(gt(0)).model(Check::Positive),
            field("r_ohm_per_km", &L::r_ohm_per_km, "ohm/km").req().in(ge(0)).model(Check::NonNegative),
            field("x_ohm_per_km", &L::x_ohm_per_km, "ohm/km").req().model(Check::Finite)
                .about("finite; series compensation may be negative; r and x not both 0"),
            field("c_nf_per_km", &L::c_nf_per_km, "nF/km").in(ge(0)).model(Check::NonNegative),
            field("g_us_per_km", &L::g_us_per_km, "µS/km").in(ge(0)).model(Check::NonNegative),
            field("max_i_ka", &L::max_i_ka, "kA").in(Range{0, kInf, true, false, true}).model(Check::PositiveOrInf)
                .about("thermal rating per circuit; null = unlimited"),
            field("parallel", &L::parallel).in(ge(1)).model(Check::AtLeastOne).about("parallel circuits"),
            field("df", &L::df).in(in(0, 1, true, false)).model(Check::Positive).about("derating factor"),
            field("type", &L::type).about("cs cable / ol overhead (informational)"),
            field("in_service", &L::in_service),
        }};
        return s;
    }
};

}  // namespace libgrid
