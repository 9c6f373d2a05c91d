// libgrid model: the bus, its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"
#include "libgrid/core/schema.hpp"

namespace libgrid {

/// MATPOWER's bus types.
enum class BusType : int { PQ = 1, PV = 2, Slack = 3, Isolated = 4 };

struct Bus {
    Id id = 0;
    std::string name;
    double vn_kv = 1.0;          ///< nominal (base) voltage, kV line-to-line; > 0
    BusType type = BusType::PQ;  ///< declared type (MATPOWER); devices may promote PQ -> PV/slack
    double vm_pu = 1.0;          ///< initial / case voltage magnitude
    double va_deg = 0.0;         ///< initial / case voltage angle
    double vmin_pu = 0.94;       ///< voltage band used for violation reports
    double vmax_pu = 1.05;
    int area = 1;
    int zone = 1;
    bool in_service = true;
    bool operator==(const Bus&) const = default;

    static const Schema<Bus>& schema() {
        using B = Bus;
        static const Schema<Bus> s{"bus", "buses", {
            field("id", &B::id).req().about("unique bus id"),
            field("name", &B::name).about("free text; a number in a file becomes text (1 -> \"1\")"),
            field("vn_kv", &B::vn_kv, "kV").req().in(gt(0)).model(Check::NonNegative)
                .about("nominal line-to-line voltage (a MATPOWER bus may have 0: no physical component on it)"),
            file_field<B>("type", FieldKind::String).about("b/n/m: informational, discarded; the writer writes \"b\""),
            field("zone", &B::zone).about("integer; a text zone (\"CIGRE_LV\") is dropped"),
            field("in_service", &B::in_service),
            field("type", &B::type, {{1, "pq"}, {2, "pv"}, {3, "slack"}, {4, "isolated"}}).json("bus_type").ext()
                .about("declared type; the slack comes from ext_grids, PV behaviour from gens"),
            field("vm_pu", &B::vm_pu, "p.u.").ext().in(ge(0)).model(Check::Finite).about("initial voltage magnitude"),
            field("va_deg", &B::va_deg, "deg").ext().model(Check::Finite).about("initial voltage angle"),
            field("area", &B::area).ext().about("MATPOWER area"),
            field("vmin_pu", &B::vmin_pu, "p.u.").ext().in(ge(0)).model(Check::NotNan)
                .shown_default("0.94 if vn_kv < 1, else 0.90").about("lower limit of the band used in violation reports"),
            field("vmax_pu", &B::vmax_pu, "p.u.").ext().model(Check::NotNan)
                .shown_default("1.05 if vn_kv < 1, else 1.10").about(">= vmin_pu; upper limit of the band"),
        }};
        return s;
    }
};

}  // namespace libgrid
