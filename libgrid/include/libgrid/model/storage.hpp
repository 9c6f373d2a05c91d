// libgrid model: the storage element, its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"
#include "libgrid/core/schema.hpp"

namespace libgrid {

/// Storage as a PQ element, LOAD convention (positive = charging), as pandapower.
struct Storage {
    Id id = 0;
    std::string name;
    Id bus = 0;
    double p_mw = 0.0;
    double q_mvar = 0.0;
    double sn_mva = 0.0;  ///< rating; 0 = not given
    double soc_percent = 50.0;
    double min_e_mwh = 0.0;
    double max_e_mwh = 0.0;
    double scaling = 1.0;
    std::string type;
    bool in_service = true;
    bool operator==(const Storage&) const = default;

    static const Schema<Storage>& schema() {
        using S = Storage;
        static const Schema<Storage> s{"storage", "storage", {
            field("id", &S::id).req().about("unique storage id"),
            field("name", &S::name),
            field("bus", &S::bus).req().refers("bus").about("bus id"),
            field("p_mw", &S::p_mw, "MW").model(Check::Finite).about("active power, load convention (charging positive)"),
            field("q_mvar", &S::q_mvar, "Mvar").model(Check::Finite).about("reactive power"),
            field("sn_mva", &S::sn_mva, "MVA").in(ge(0)).about("rating; 0 = not given"),
            field("soc_percent", &S::soc_percent, "%").in(in(0, 100)).about("state of charge"),
            field("min_e_mwh", &S::min_e_mwh, "MWh").in(ge(0)).about("minimum stored energy"),
            field("max_e_mwh", &S::max_e_mwh, "MWh").in(ge(0)).about("capacity; when > 0, >= min_e_mwh"),
            field("scaling", &S::scaling).in(ge(0)).model(Check::NonNegative).about("the power is p_mw*scaling"),
            field("type", &S::type),
            field("in_service", &S::in_service),
        }};
        return s;
    }
};

}  // namespace libgrid
