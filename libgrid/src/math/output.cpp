// libgrid layer 3: per-element outputs from a solved state (math/output.hpp).
#include <libgrid/math/output.hpp>

namespace libgrid {

void node_flows(const MathModel& m, const std::vector<cplx>& V, std::vector<cplx>& node_flow) {
    node_flow.assign(m.n, cplx(0.0, 0.0));
    for (const BranchY& br : m.branches) add_branch_end_powers(br, branch_power(br, V), node_flow);
}

double place_slack_power(const MathModel& m, const std::vector<cplx>& node_flow, const std::vector<cplx>& V, double base_mva,
                         std::span<double> ext_p, std::span<double> ext_q, std::span<double> gen_p) {
    double placed_p = 0.0;
    for (int i = 0; i < m.n; ++i) {
        if (m.node_type[i] != BusType::Slack) continue;
        const cplx src = source_power(m, i, node_flow, V, base_mva);
        bool placed = false;
        for (std::size_t e = 0; e < m.ext_grid_node.size() && !placed; ++e)
            if (m.ext_grid_node[e] == i) {
                ext_p[e] = src.real();
                ext_q[e] = src.imag();
                placed = true;
            }
        for (std::size_t g = 0; g < m.gen_node.size() && !placed; ++g)
            if (m.gen_node[g] == i) {
                gen_p[g] += src.real();
                placed = true;
            }
        placed_p += placed ? src.real() : 0.0;
    }
    return placed_p;
}

}  // namespace libgrid
