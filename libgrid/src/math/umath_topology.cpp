// libgrid math: the unbalanced model seen from its sources: a breadth-first search over the buses
// orients the branches (lines, 2-winding transformers), tells whether the network is radial, and
// spreads the sources' voltages through the lines and the transformers' ratios and phase shifts
// (each transformer's own no-load solve) into a start for the solvers.
#include "umath_internal.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <numbers>

namespace libgrid {

using namespace umath_detail;

namespace {

struct Edge {
    int element = -1;
    std::vector<int> buses;  ///< per terminal
};

std::vector<Edge> collect_edges(const UNetwork& net, const UMathModel& m) {
    std::vector<Edge> edges;
    for (std::size_t i = 0; i < m.elements.size(); ++i) {
        const UMathElement& e = m.elements[i];
        Edge ed;
        ed.element = static_cast<int>(i);
        if (e.kind == UElementKind::line) {
            const ULine& l = net.lines[static_cast<std::size_t>(e.index)];
            // Issue 15: a line with both ends at one bus (an earth electrode, bus.4 to bus.0) is a
            // shunt there, not a branch of the tree.
            if (l.bus1.bus == l.bus2.bus) continue;
            ed.buses = {l.bus1.bus, l.bus2.bus};
        } else if (e.kind == UElementKind::transformer) {
            for (const UWinding& w : net.transformers[static_cast<std::size_t>(e.index)].windings) ed.buses.push_back(w.bus.bus);
        } else {
            continue;
        }
        edges.push_back(std::move(ed));
    }
    return edges;
}

/// Nominal voltages: phases 1..3 at the line-to-neutral base, 0, -120, +120 degrees; others 0.
void nominal_start(UMathModel& m, double angle_deg) {
    m.v_start.assign(static_cast<std::size_t>(m.n_nodes), cplx(0.0, 0.0));
    for (int n = 0; n < m.n_nodes; ++n) {
        const auto k = static_cast<std::size_t>(n);
        const int ph = m.node_phase[k];
        if (ph >= 1 && ph <= 3 && !std::isnan(m.node_vbase_v[k]))
            m.v_start[k] = std::polar(m.node_vbase_v[k], (angle_deg - 120.0 * (ph - 1)) * std::numbers::pi / 180.0);
    }
}

/// The element's other terminals from the terminal at `from_bus` (its voltages known): a line
/// copies them conductor by conductor; anything else solves its own yprim with no load. Only the
/// nodes not set yet are written (`set`), so parallel branches (1-phase regulators between the
/// same buses) each fill their own phase.
void spread(const UMathElement& e, int from_term, std::vector<cplx>& v, std::vector<char>& set) {
    const auto nc = static_cast<std::size_t>(e.n_cond);
    const auto total = e.node.size();
    auto known = [&](std::size_t k) {
        return k / nc == static_cast<std::size_t>(from_term) || e.node[k] < 0 || set[static_cast<std::size_t>(e.node[k])];
    };
    auto value = [&](std::size_t k) { return e.node[k] < 0 ? cplx(0.0, 0.0) : v[static_cast<std::size_t>(e.node[k])]; };
    if (e.kind == UElementKind::line) {
        for (std::size_t k = 0; k < nc; ++k) {
            const std::size_t to = (from_term == 0 ? nc : 0) + k;
            const int n = e.node[to];
            if (n >= 0 && !set[static_cast<std::size_t>(n)]) {
                v[static_cast<std::size_t>(n)] = value(static_cast<std::size_t>(from_term) * nc + k);
                set[static_cast<std::size_t>(n)] = 1;
            }
        }
        return;
    }
    std::vector<int> local(total, -1), nodes;  // unknown conductors -> local index (shared nodes merged)
    for (std::size_t k = 0; k < total; ++k) {
        if (known(k)) continue;
        const auto it = std::find(nodes.begin(), nodes.end(), e.node[k]);
        local[k] = static_cast<int>(it - nodes.begin());
        if (it == nodes.end()) nodes.push_back(e.node[k]);
    }
    if (nodes.empty()) return;
    const auto nu = static_cast<Eigen::Index>(nodes.size());
    Eigen::MatrixXcd a = Eigen::MatrixXcd::Zero(nu, nu);
    Eigen::VectorXcd rhs = Eigen::VectorXcd::Zero(nu);
    for (std::size_t r = 0; r < total; ++r) {
        if (local[r] < 0) continue;
        for (std::size_t c = 0; c < total; ++c) {
            const cplx y = e.yprim(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
            if (local[c] >= 0)
                a(local[r], local[c]) += y;
            else
                rhs(local[r]) -= y * value(c);
        }
    }
    const Eigen::FullPivLU<Eigen::MatrixXcd> lu(a);
    if (!lu.isInvertible()) return;
    const Eigen::VectorXcd x = lu.solve(rhs);
    for (Eigen::Index i = 0; i < nu; ++i) {
        const auto n = static_cast<std::size_t>(nodes[static_cast<std::size_t>(i)]);
        if (!set[n] && std::isfinite(x(i).real()) && std::isfinite(x(i).imag())) {
            v[n] = x(i);
            set[n] = 1;
        }
    }
}

void set_source_voltages(const UNetwork& net, UMathModel& m, std::vector<char>& set) {
    for (const UMathElement& e : m.elements) {
        if (e.kind != UElementKind::vsource) continue;
        const Eigen::VectorXcd ev = vsource_voltages(net.vsources[static_cast<std::size_t>(e.index)]);
        for (Eigen::Index k = 0; k < ev.size(); ++k) {
            const int node = e.node[static_cast<std::size_t>(k)];
            if (node < 0) continue;
            m.v_start[static_cast<std::size_t>(node)] = ev(k);
            set[static_cast<std::size_t>(node)] = 1;
        }
        const int b = net.vsources[static_cast<std::size_t>(e.index)].bus1.bus;
        if (std::find(m.source_buses.begin(), m.source_buses.end(), b) == m.source_buses.end()) m.source_buses.push_back(b);
    }
}

}  // namespace

void umath_detail::orient_and_start(const UNetwork& net, UMathModel& m) {
    const double angle = net.vsources.empty() ? 0.0 : net.vsources.front().angle_deg;
    nominal_start(m, angle);
    std::vector<char> set(static_cast<std::size_t>(m.n_nodes), 0);
    set_source_voltages(net, m, set);
    const std::vector<Edge> edges = collect_edges(net, m);
    const std::size_t nb = net.buses.size();
    std::vector<std::vector<int>> adj(nb);
    for (std::size_t i = 0; i < edges.size(); ++i)
        for (int b : edges[i].buses) adj[static_cast<std::size_t>(b)].push_back(static_cast<int>(i));
    std::vector<int> depth(nb, -1);
    std::vector<char> edge_used(edges.size(), 0);
    std::deque<int> queue;
    for (int b : m.source_buses) {
        depth[static_cast<std::size_t>(b)] = 0;
        queue.push_back(b);
    }
    bool tree = m.source_buses.size() == 1;
    while (!queue.empty()) {
        const int b = queue.front();
        queue.pop_front();
        for (int ei : adj[static_cast<std::size_t>(b)]) {
            if (edge_used[static_cast<std::size_t>(ei)]) continue;
            edge_used[static_cast<std::size_t>(ei)] = 1;
            const Edge& ed = edges[static_cast<std::size_t>(ei)];
            const UMathElement& e = m.elements[static_cast<std::size_t>(ed.element)];
            const int from_term = static_cast<int>(std::find(ed.buses.begin(), ed.buses.end(), b) - ed.buses.begin());
            for (int ob : ed.buses) {
                if (ob == b) continue;
                if (depth[static_cast<std::size_t>(ob)] >= 0) {
                    tree = false;  // a second path (or a parallel branch) to a bus already reached
                    continue;
                }
                depth[static_cast<std::size_t>(ob)] = depth[static_cast<std::size_t>(b)] + 1;
                queue.push_back(ob);
            }
            spread(e, from_term, m.v_start, set);
            if (ed.buses.size() != 2) {
                tree = false;  // 3-winding transformers are not sweep branches
                continue;
            }
            const int to = ed.buses[0] == b ? ed.buses[1] : ed.buses[0];
            m.branches.push_back(UMathBranch{ed.element, b, to, ed.buses[0] != b});
        }
    }
    for (int n = 0; n < m.n_nodes; ++n)  // every bus with a node must be reached from a source
        if (depth[static_cast<std::size_t>(m.node_bus[static_cast<std::size_t>(n)])] < 0) tree = false;
    for (std::size_t i = 0; i < edges.size(); ++i)
        if (!edge_used[i]) tree = false;
    m.radial = tree;
}

}  // namespace libgrid
