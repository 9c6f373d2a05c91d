// libgrid model: the external grid (slack), its struct and its schema.
#pragma once

#include "libgrid/core/ids.hpp"
#include "libgrid/core/schema.hpp"

namespace libgrid {

/// External grid: the slack.
struct ExtGrid {
    Id id = 0;
    Id bus = 0;
    double vm_pu = 1.0;
    double va_degree = 0.0;
    bool in_service = true;
    bool operator==(const ExtGrid&) const = default;

    static const Schema<ExtGrid>& schema() {
        using E = ExtGrid;
        static const Schema<ExtGrid> s{"ext_grid", "ext_grids", {
            field("id", &E::id).req().about("unique ext_grid id"),
            file_field<E>("name", FieldKind::String).about("discarded; written as null"),
            field("bus", &E::bus).req().refers("bus").about("bus id"),
            field("vm_pu", &E::vm_pu, "p.u.").in(gt(0)).model(Check::Positive).about("voltage set point"),
            field("va_degree", &E::va_degree, "deg").model(Check::Finite).about("voltage angle"),
            file_field<E>("slack_weight", FieldKind::Double).about("discarded; written as null"),
            field("in_service", &E::in_service),
            file_field<E>("sk_mva", FieldKind::Double, "MVA").not_written()
                .about("discarded: the source impedance is lost, the ext_grid is an ideal slack"),
            file_field<E>("rx_ratio", FieldKind::Double).not_written().about("discarded, as sk_mva"),
        }};
        return s;
    }
};

}  // namespace libgrid
