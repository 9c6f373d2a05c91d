// libgrid model: the bus, its struct and its schema.
#pragma once

#include <string>

#include "libgrid/core/ids.hpp"

namespace libgrid {

template <class T>
struct Schema;  // core/schema.hpp

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

    static const Schema<Bus>& schema();  ///< fields, units, ranges, docs: src/model/schemas.cpp
};

}  // namespace libgrid
