// libgrid power flow: the unbalanced power flow, one call (powerflow/unbalanced.hpp).
//
// run_unbalanced_pf is one UPowerFlow (upowerflow.cpp): build the nodal model (math/umath) -> make
// the solver (solvers/usolvers) -> solve from the model's start -> with static controls: step the
// regulators (ucontrols.cpp), update the moved transformers' yprims, refactor, re-solve from the last
// answer, until no regulator moves (OpenDSS's SolveSnap loop) -> results per node, element terminal
// and three-phase bus. Here also calc_voltage_bases.
#include <libgrid/powerflow/unbalanced.hpp>

#include <libgrid/core/errors.hpp>

#include <Eigen/SparseLU>

#include <algorithm>
#include <cmath>

namespace libgrid {

UPfResult run_unbalanced_pf(UNetwork& net, const UPfOptions& opt) {
    UPfOptions one = opt;
    one.reduced_fixed_point = false;  // one solve: the reduced fixed point's set-up would not pay back
    UPowerFlow pf(net, one);
    pf.solve();
    return pf.result();
}

void calc_voltage_bases(UNetwork& net) {
    if (net.settings.voltage_bases_kv.empty()) return;
    // OpenDSS's SolveZeroLoadSnapShot: the series elements and the sources only (no loads, no
    // shunt capacitors, no line capacitance), one direct solve.
    UNetwork noload = net;
    for (ULoad& l : noload.loads) l.enabled = false;
    for (UCapacitor& c : noload.capacitors) c.enabled = false;
    for (ULine& l : noload.lines) std::fill(l.c_nf_per_km.begin(), l.c_nf_per_km.end(), 0.0);
    for (UBus& b : noload.buses) {
        if (std::isnan(b.kv_base_ll)) b.kv_base_ll = 1.0;  // the model wants a base; not used here
    }
    const UMathModel m = build_umath_model(noload);
    Eigen::SparseLU<Eigen::SparseMatrix<cplx>> lu(m.Y);
    if (lu.info() != Eigen::Success) throw SolverError("calc_voltage_bases: the no-load admittance matrix is singular");
    const Eigen::Map<const Eigen::VectorXcd> rhs(m.i_source.data(), static_cast<Eigen::Index>(m.i_source.size()));
    const Eigen::VectorXcd v = lu.solve(rhs);
    std::vector<int> first_node(net.buses.size(), -1);  // OpenDSS: the bus's RefNo[1]; here its lowest node number
    for (int i = 0; i < m.n_nodes; ++i) {
        int& f = first_node[m.node_bus[i]];
        if (f < 0 || m.node_phase[i] < m.node_phase[f]) f = i;
    }
    for (int b = 0; b < static_cast<int>(net.buses.size()); ++b) {
        const int first = first_node[b];
        if (first < 0) continue;
        const double kv_ll = std::abs(v[first]) * 0.001732;  // OpenDSS's own constant
        double best = 0.0, best_diff = 1e50;
        for (double base : net.settings.voltage_bases_kv) {
            if (base == 0.0) break;
            const double diff = std::abs(1.0 - kv_ll / base);
            if (diff < best_diff) {
                best_diff = diff;
                best = base;
            }
        }
        net.buses[b].kv_base_ll = best;
    }
}

}  // namespace libgrid
