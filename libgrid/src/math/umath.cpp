// libgrid math: the nodal model of an unbalanced network (node numbering, elements and their
// yprims, system Y, Norton sources, a start, the branches seen from the source).
#include "umath_internal.hpp"

#include <libgrid/core/errors.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace libgrid {

using namespace umath_detail;

namespace {

/// An element while the nodes are not numbered yet: per conductor, its bus and node number
/// (node number 0 or bus -1: ground).
struct Pending {
    UMathElement e;
    std::vector<int> cond_bus, cond_node;
};

void add_terminal(Pending& p, const UTerminal& t, int nconds, int nphases) {
    for (int k = 0; k < nconds; ++k) {
        p.cond_bus.push_back(t.bus);
        p.cond_node.push_back(t.bus < 0 ? 0 : terminal_node(t, k, nphases));
    }
}

Pending make_pending(UElementKind kind, int index, int n_terminals, int n_cond, Eigen::MatrixXcd yprim) {
    Pending p;
    p.e.kind = kind;
    p.e.index = index;
    p.e.n_terminals = n_terminals;
    p.e.n_cond = n_cond;
    p.e.yprim = std::move(yprim);
    return p;
}

void check_bus(const UNetwork& net, int bus, const std::string& who, const char* field) {
    if (bus < 0 || bus >= static_cast<int>(net.buses.size()))
        throw ValidationError(who + ": field '" + field + "': bus index " + std::to_string(bus) + " out of range");
}

std::vector<Pending> collect_branches(const UNetwork& net) {
    std::vector<Pending> out;
    const double f = net.settings.base_frequency_hz;
    for (std::size_t i = 0; i < net.lines.size(); ++i) {
        const ULine& l = net.lines[i];
        if (!l.enabled) continue;
        check_bus(net, l.bus1.bus, quoted_name("line", l.name), "bus1");
        check_bus(net, l.bus2.bus, quoted_name("line", l.name), "bus2");
        Pending p = make_pending(UElementKind::line, static_cast<int>(i), 2, l.nphases, line_yprim(l, f));
        add_terminal(p, l.bus1, l.nphases, l.nphases);
        add_terminal(p, l.bus2, l.nphases, l.nphases);
        out.push_back(std::move(p));
    }
    for (std::size_t i = 0; i < net.transformers.size(); ++i) {
        const UTransformer& t = net.transformers[i];
        if (!t.enabled) continue;
        const int nw = static_cast<int>(t.windings.size());
        Pending p = make_pending(UElementKind::transformer, static_cast<int>(i), nw, t.nphases + 1, transformer_yprim(t));
        for (const UWinding& w : t.windings) {
            check_bus(net, w.bus.bus, quoted_name("transformer", t.name), "buses");
            add_terminal(p, w.bus, t.nphases + 1, t.nphases);
        }
        out.push_back(std::move(p));
    }
    return out;
}

void collect_shunts(const UNetwork& net, std::vector<Pending>& out) {
    const double f = net.settings.base_frequency_hz;
    for (std::size_t i = 0; i < net.capacitors.size(); ++i) {
        const UCapacitor& c = net.capacitors[i];
        if (!c.enabled) continue;
        check_bus(net, c.bus1.bus, quoted_name("capacitor", c.name), "bus1");
        const int nc = capacitor_nconds(c);
        Pending p = make_pending(UElementKind::capacitor, static_cast<int>(i), c.delta ? 1 : 2, nc, capacitor_yprim(c, f));
        add_terminal(p, c.bus1, nc, c.nphases);
        if (!c.delta) add_terminal(p, c.bus2, nc, c.nphases);
        out.push_back(std::move(p));
    }
    for (std::size_t i = 0; i < net.vsources.size(); ++i) {
        const UVsource& s = net.vsources[i];
        if (!s.enabled) continue;
        check_bus(net, s.bus1.bus, quoted_name("vsource", s.name), "bus1");
        Pending p = make_pending(UElementKind::vsource, static_cast<int>(i), 2, s.nphases, vsource_yprim(s));
        add_terminal(p, s.bus1, s.nphases, s.nphases);
        add_terminal(p, UTerminal{}, s.nphases, s.nphases);  // bus2: ground
        Eigen::VectorXcd e = Eigen::VectorXcd::Zero(2 * s.nphases);
        e.head(s.nphases) = vsource_voltages(s);
        p.e.i_norton = p.e.yprim * e;
        out.push_back(std::move(p));
    }
    for (std::size_t i = 0; i < net.loads.size(); ++i) {
        const ULoad& l = net.loads[i];
        if (!l.enabled) continue;
        check_bus(net, l.bus1.bus, quoted_name("load", l.name), "bus1");
        const int nc = load_nconds(l);
        Pending p = make_pending(UElementKind::load, static_cast<int>(i), 1, nc, load_yprim(l));
        add_terminal(p, l.bus1, nc, l.nphases);
        out.push_back(std::move(p));
    }
}

/// Nodes: buses in order, each bus's node numbers ascending; fills the elements' node indices.
void number_nodes(const UNetwork& net, std::vector<Pending>& pend, UMathModel& m) {
    std::vector<std::vector<int>> bus_nodes(net.buses.size());
    for (const Pending& p : pend)
        for (std::size_t k = 0; k < p.cond_bus.size(); ++k)
            if (p.cond_bus[k] >= 0 && p.cond_node[k] != 0) bus_nodes[static_cast<std::size_t>(p.cond_bus[k])].push_back(p.cond_node[k]);
    std::vector<int> first(net.buses.size(), 0);
    for (std::size_t b = 0; b < bus_nodes.size(); ++b) {
        auto& v = bus_nodes[b];
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
        first[b] = m.n_nodes;
        const double kv = net.buses[b].kv_base_ll;
        for (int node : v) {
            m.node_bus.push_back(static_cast<int>(b));
            m.node_phase.push_back(node);
            m.node_vbase_v.push_back(std::isnan(kv) ? std::numeric_limits<double>::quiet_NaN()
                                                    : kv / std::sqrt(3.0) * 1000.0);
            ++m.n_nodes;
        }
    }
    for (Pending& p : pend) {
        p.e.node.resize(p.cond_bus.size());
        for (std::size_t k = 0; k < p.cond_bus.size(); ++k) {
            const int b = p.cond_bus[k];
            if (b < 0 || p.cond_node[k] == 0) {
                p.e.node[k] = -1;
                continue;
            }
            const auto& v = bus_nodes[static_cast<std::size_t>(b)];
            const auto it = std::lower_bound(v.begin(), v.end(), p.cond_node[k]);
            p.e.node[k] = first[static_cast<std::size_t>(b)] + static_cast<int>(it - v.begin());
        }
    }
}

void assemble_y(UMathModel& m) {
    std::vector<Eigen::Triplet<cplx>> trip;
    std::size_t count = 0;
    for (const UMathElement& e : m.elements) count += e.node.size() * e.node.size();
    trip.reserve(count);
    for (const UMathElement& e : m.elements) {
        const auto n = e.node.size();
        for (std::size_t c = 0; c < n; ++c)
            for (std::size_t r = 0; r < n; ++r)
                if (e.node[r] >= 0 && e.node[c] >= 0)  // every pair, zeros too: the pattern is fixed
                    trip.emplace_back(e.node[r], e.node[c], e.yprim(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)));
    }
    m.Y.resize(m.n_nodes, m.n_nodes);
    m.Y.setFromTriplets(trip.begin(), trip.end());
    m.Y.makeCompressed();
    m.i_source.assign(static_cast<std::size_t>(m.n_nodes), cplx(0.0, 0.0));
    for (const UMathElement& e : m.elements) {
        if (e.kind != UElementKind::vsource) continue;
        for (std::size_t k = 0; k < e.node.size(); ++k)
            if (e.node[k] >= 0) m.i_source[static_cast<std::size_t>(e.node[k])] += e.i_norton(static_cast<Eigen::Index>(k));
    }
}

}  // namespace

UMathModel build_umath_model(const UNetwork& net) {
    std::vector<Pending> pend = collect_branches(net);
    collect_shunts(net, pend);
    UMathModel m;
    number_nodes(net, pend, m);
    m.elements.reserve(pend.size());
    for (Pending& p : pend) m.elements.push_back(std::move(p.e));
    for (std::size_t i = 0; i < m.elements.size(); ++i) {
        const UMathElement& e = m.elements[i];
        if (e.kind != UElementKind::load) continue;
        m.loads.push_back(make_math_load(net.loads[static_cast<std::size_t>(e.index)], e.index, static_cast<int>(i), e));
    }
    assemble_y(m);
    orient_and_start(net, m);
    return m;
}

int UMathModel::bus_node(int bus, int phase) const {
    auto it = std::lower_bound(node_bus.begin(), node_bus.end(), bus);
    for (; it != node_bus.end() && *it == bus; ++it) {
        const auto i = static_cast<std::size_t>(it - node_bus.begin());
        if (node_phase[i] == phase) return static_cast<int>(i);
    }
    return -1;
}

void update_transformer_yprim(UMathModel& m, const UNetwork& net, int transformer) {
    for (UMathElement& e : m.elements) {
        if (e.kind != UElementKind::transformer || e.index != transformer) continue;
        Eigen::MatrixXcd y = transformer_yprim(net.transformers[static_cast<std::size_t>(transformer)]);
        const Eigen::MatrixXcd d = y - e.yprim;
        const auto n = e.node.size();
        for (std::size_t c = 0; c < n; ++c)
            for (std::size_t r = 0; r < n; ++r)
                if (e.node[r] >= 0 && e.node[c] >= 0)
                    m.Y.coeffRef(e.node[r], e.node[c]) += d(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
        e.yprim = std::move(y);
        return;
    }
    throw ValidationError("transformer index " + std::to_string(transformer) + ": not in the model (disabled or out of range)");
}

void update_capacitor_yprim(UMathModel& m, const UNetwork& net, int capacitor) {
    for (UMathElement& e : m.elements) {
        if (e.kind != UElementKind::capacitor || e.index != capacitor) continue;
        Eigen::MatrixXcd y = capacitor_yprim(net.capacitors[static_cast<std::size_t>(capacitor)], net.settings.base_frequency_hz);
        const Eigen::MatrixXcd d = y - e.yprim;
        const auto n = e.node.size();
        for (std::size_t c = 0; c < n; ++c)
            for (std::size_t r = 0; r < n; ++r)
                if (e.node[r] >= 0 && e.node[c] >= 0)
                    m.Y.coeffRef(e.node[r], e.node[c]) += d(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
        e.yprim = std::move(y);
        return;
    }
    throw ValidationError("capacitor index " + std::to_string(capacitor) + ": not in the model (disabled or out of range)");
}

namespace {
/// Stamps the load's present admittance in place of the element's (Y += y - yprim).
void restamp_load(UMathModel& m, const UNetwork& net, UMathElement& e) {
    Eigen::MatrixXcd y = load_yprim(net.loads[static_cast<std::size_t>(e.index)]);
    const auto n = e.node.size();
    if (static_cast<std::size_t>(y.rows()) != n) throw ValidationError("load index " + std::to_string(e.index) + ": its conductors changed");
    for (std::size_t c = 0; c < n; ++c)
        for (std::size_t r = 0; r < n; ++r)
            if (e.node[r] >= 0 && e.node[c] >= 0)
                m.Y.coeffRef(e.node[r], e.node[c]) += y(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) -
                                                      e.yprim(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c));
    e.yprim = std::move(y);
}
}  // namespace

void update_load_yprim(UMathModel& m, const UNetwork& net, int load) {
    for (UMathElement& e : m.elements) {
        if (e.kind != UElementKind::load || e.index != load) continue;
        restamp_load(m, net, e);
        return;
    }
    throw ValidationError("load index " + std::to_string(load) + ": not in the model (disabled or out of range)");
}

void update_loads_yprim(UMathModel& m, const UNetwork& net, int n_loads) {
    // each model load knows its element: no search (the city's 475,513 loads took minutes by update_load_yprim)
    for (const UMathLoad& ld : m.loads) {
        if (n_loads >= 0 && ld.load >= n_loads) continue;
        UMathElement& e = m.elements[static_cast<std::size_t>(ld.element)];
        if (e.kind != UElementKind::load || e.index != ld.load) throw ValidationError("load index " + std::to_string(ld.load) + ": its element is not a load");
        restamp_load(m, net, e);
    }
}

Eigen::VectorXcd element_currents(const UMathModel& m, int element, const std::vector<cplx>& v) {
    const UMathElement& e = m.elements[static_cast<std::size_t>(element)];
    const auto n = static_cast<Eigen::Index>(e.node.size());
    Eigen::VectorXcd vt(n);
    for (Eigen::Index k = 0; k < n; ++k) {
        const int node = e.node[static_cast<std::size_t>(k)];
        vt(k) = node < 0 ? cplx(0.0, 0.0) : v[static_cast<std::size_t>(node)];
    }
    if (e.kind == UElementKind::load) {  // the load's own current law, not its nominal admittance
        const auto it = std::find_if(m.loads.begin(), m.loads.end(), [element](const UMathLoad& ld) { return ld.element == element; });
        Eigen::VectorXcd i = Eigen::VectorXcd::Zero(n);
        for (int k = 0; k < it->nphases; ++k) {
            const Eigen::Index b = it->delta ? (k + 1) % n : n - 1;
            const cplx ik = load_phase_current(*it, vt(k) - vt(b));
            i(k) += ik;
            i(b) -= ik;
        }
        return i;
    }
    Eigen::VectorXcd i = e.yprim * vt;
    if (e.i_norton.size() == n) i -= e.i_norton;
    return i;
}

}  // namespace libgrid
