// libgrid core: the basic value types every layer shares.
#pragma once

#include <cstdint>
#include <limits>

namespace libgrid {

/// A component id: stable, user chosen, unique within its table (not a position).
using Id = std::int64_t;
inline constexpr double kInf = std::numeric_limits<double>::infinity();
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace libgrid
