// libgrid power flow (internal, h8): the regulators' half of the static control queue, so that
// capacitor controls (ucapcontrols.cpp) and regulators take part in one "nearest actions" rule.
#pragma once

#include <libgrid/powerflow/unbalanced.hpp>

#include <vector>

namespace libgrid::ucontrols_detail {

/// Per RegControl: queued this iteration (armed) and the tap change it wants (p.u.).
struct RegQueue {
    std::vector<char> armed;
    std::vector<double> pending_pu;
    std::vector<int> element_of;  ///< added (issue 15, h2): per transformer, its math element (scratch)
};

/// Every RegControl samples the solved state (TRegControlObj.Sample).
RegQueue sample_regcontrols(const UNetwork& net, const UMathModel& m, const std::vector<cplx>& v);
/// Added (issue 15, h2): the same into `q`, whose vectors keep their capacity (no allocation once sized).
void sample_regcontrols(const UNetwork& net, const UMathModel& m, const std::vector<cplx>& v, RegQueue& q);

/// TRegControlObj.DoPendingAction for RegControl r.
void act_regcontrol(UNetwork& net, int r, double pending_pu);

}  // namespace libgrid::ucontrols_detail
