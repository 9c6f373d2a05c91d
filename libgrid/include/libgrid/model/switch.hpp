// libgrid model: the switch, its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"
#include "libgrid/core/schema.hpp"

namespace libgrid {

enum class SwitchElement : int { Bus = 0, Line = 1, Transformer = 2 };

/// Bus-bus switch (fuses two buses when closed) or a switch at one end of a line/transformer.
struct Switch {
    Id id = 0;
    std::string name;
    Id bus = 0;
    Id element = 0;  ///< other bus (et = Bus) or the line / transformer id
    SwitchElement et = SwitchElement::Bus;
    bool closed = true;
    std::string type;
    bool operator==(const Switch&) const = default;

    static const Schema<Switch>& schema() {
        using S = Switch;
        static const Schema<Switch> s{"switch", "switches", {
            field("id", &S::id).req().about("unique switch id"),
            field("name", &S::name),
            field("bus", &S::bus).req().refers("bus").about("bus id"),
            field("element", &S::element).req()
                .about("a bus id (et b), line id (l) or transformer id (t), which must exist; l/t: bus is one of its ends"),
            field("et", &S::et, {{0, "b"}, {1, "l"}, {2, "t"}}).req().about("element type"),
            field("type", &S::type),
            field("closed", &S::closed),
            file_field<S>("z_ohm", FieldKind::Double, "ohm")
                .about("switches are ideal: non-zero on a bus-bus switch is rejected; the writer writes 0"),
        }};
        return s;
    }
};

}  // namespace libgrid
