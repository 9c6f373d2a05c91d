// libgrid model: the switch, its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"

namespace libgrid {

template <class T>
struct Schema;  // core/schema.hpp

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

    static const Schema<Switch>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
