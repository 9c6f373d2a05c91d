// libgrid model: the static generator, its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"
#include "libgrid/core/schema.hpp"

namespace libgrid {

/// Static generator (PV, wind, CHP...): PQ injection, generator convention.
struct SGen {
    Id id = 0;
    std::string name;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;
    double sn_mva = 0.0;  ///< rating; 0 = not given
    double scaling = 1.0;
    std::string type;
    bool in_service = true;
    bool operator==(const SGen&) const = default;

    static const Schema<SGen>& schema() {
        using G = SGen;
        static const Schema<SGen> s{"sgen", "sgens", {
            field("id", &G::id).req().about("unique sgen id"),
            field("name", &G::name),
            field("bus", &G::bus).req().refers("bus").about("bus id"),
            field("p_mw", &G::p_mw, "MW").model(Check::Finite).about("active power, generator convention"),
            field("q_mvar", &G::q_mvar, "Mvar").model(Check::Finite).about("reactive power"),
            field("sn_mva", &G::sn_mva, "MVA").in(ge(0)).about("rating; 0 = not given"),
            field("scaling", &G::scaling).in(ge(0)).model(Check::NonNegative).about("the injection is p_mw*scaling"),
            field("type", &G::type),
            field("in_service", &G::in_service),
        }};
        return s;
    }
};

}  // namespace libgrid
