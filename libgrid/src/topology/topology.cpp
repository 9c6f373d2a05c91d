// libgrid layer: topology (Boost.Graph), see topology/topology.hpp.
#include <libgrid/topology/topology.hpp>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/connected_components.hpp>

#include <algorithm>
#include <functional>
#include <limits>
#include <queue>
#include <tuple>

namespace libgrid {
namespace {

using UGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;

/// Closed bus-bus switches fuse usable buses into groups.
void fuse_switches(const Network& net, Topology& t) {
    UGraph sw(t.n_buses);
    for (const Switch& s : net.switches)
        if (s.et == SwitchElement::Bus && s.closed) {
            int a = t.bus(s.bus), b = t.bus(s.element);
            if (t.bus_usable[a] && t.bus_usable[b]) boost::add_edge(a, b, sw);
        }
    t.bus_group.assign(t.n_buses, 0);
    t.n_groups = t.n_buses ? int(boost::connected_components(sw, t.bus_group.data())) : 0;
    t.group_usable.assign(t.n_groups, 0);
    for (int i = 0; i < t.n_buses; ++i)
        if (t.bus_usable[i]) t.group_usable[t.bus_group[i]] = 1;
}

/// Open switches at line / transformer ends.
void open_ends(const Network& net, Topology& t) {
    std::unordered_map<Id, int> line_at, trafo_at;
    for (int i = 0; i < int(net.lines.size()); ++i) line_at[net.lines[i].id] = i;
    for (int i = 0; i < int(net.transformers.size()); ++i) trafo_at[net.transformers[i].id] = i;
    t.line_open_f.assign(net.lines.size(), 0);
    t.line_open_t.assign(net.lines.size(), 0);
    t.trafo_open_hv.assign(net.transformers.size(), 0);
    t.trafo_open_lv.assign(net.transformers.size(), 0);
    for (const Switch& s : net.switches) {
        if (s.closed || s.et == SwitchElement::Bus) continue;
        if (s.et == SwitchElement::Line) {
            int k = line_at.at(s.element);
            (net.lines[k].from_bus == s.bus ? t.line_open_f : t.line_open_t)[k] = 1;
        } else {
            int k = trafo_at.at(s.element);
            (net.transformers[k].hv_bus == s.bus ? t.trafo_open_hv : t.trafo_open_lv)[k] = 1;
        }
    }
}

/// Islands over groups joined by closed, in-service branches between usable buses.
void find_islands(const Network& net, Topology& t) {
    UGraph g(t.n_groups);
    auto connect = [&](Id fb, Id tb, bool in_service, bool open_f, bool open_t) {
        int a = t.bus(fb), b = t.bus(tb);
        if (!in_service || open_f || open_t || !t.bus_usable[a] || !t.bus_usable[b]) return;
        if (t.bus_group[a] != t.bus_group[b]) boost::add_edge(t.bus_group[a], t.bus_group[b], g);
    };
    for (const Branch& br : net.branches) connect(br.from_bus, br.to_bus, br.in_service, false, false);
    for (std::size_t k = 0; k < net.lines.size(); ++k)
        connect(net.lines[k].from_bus, net.lines[k].to_bus, net.lines[k].in_service, t.line_open_f[k], t.line_open_t[k]);
    for (std::size_t k = 0; k < net.transformers.size(); ++k)
        connect(net.transformers[k].hv_bus, net.transformers[k].lv_bus, net.transformers[k].in_service,
                t.trafo_open_hv[k], t.trafo_open_lv[k]);
    t.group_island.assign(t.n_groups, 0);
    t.n_islands = t.n_groups ? int(boost::connected_components(g, t.group_island.data())) : 0;
}

/// Ext grids and declared slack buses make slack groups, generators PV groups; each island's source.
void find_sources(const Network& net, Topology& t) {
    const int ng = t.n_groups, ni = t.n_islands;
    t.group_ext_grid.assign(ng, -1);
    t.group_gen.assign(ng, -1);
    t.group_slack_bus.assign(ng, -1);
    auto first = [&](std::vector<int>& of_group, int bus, bool in_service, int k) {
        if (in_service && t.bus_usable[bus] && of_group[t.bus_group[bus]] < 0) of_group[t.bus_group[bus]] = k;
    };
    for (int k = 0; k < int(net.ext_grids.size()); ++k)
        first(t.group_ext_grid, t.bus(net.ext_grids[k].bus), net.ext_grids[k].in_service, k);
    for (int k = 0; k < int(net.gens.size()); ++k) first(t.group_gen, t.bus(net.gens[k].bus), net.gens[k].in_service, k);
    for (int i = 0; i < t.n_buses; ++i) first(t.group_slack_bus, i, net.buses[i].type == BusType::Slack, i);

    t.group_type.assign(ng, BusType::PQ);
    for (int gi = 0; gi < ng; ++gi) {
        if (t.group_ext_grid[gi] >= 0 || t.group_slack_bus[gi] >= 0) t.group_type[gi] = BusType::Slack;
        else if (t.group_gen[gi] >= 0) t.group_type[gi] = BusType::PV;
    }
    t.island_source.assign(ni, -1);
    std::vector<int> island_first_pv(ni, -1);
    for (int gi = 0; gi < ng; ++gi) {
        if (!t.group_usable[gi]) continue;
        int is = t.group_island[gi];
        if (t.group_type[gi] == BusType::Slack && t.island_source[is] < 0) t.island_source[is] = gi;
        if (t.group_type[gi] == BusType::PV && island_first_pv[is] < 0) island_first_pv[is] = gi;
    }
    for (int is = 0; is < ni; ++is)  // MATPOWER: with no reference bus, the first PV bus becomes it
        if (t.island_source[is] < 0 && island_first_pv[is] >= 0) {
            t.island_source[is] = island_first_pv[is];
            t.group_type[island_first_pv[is]] = BusType::Slack;
        }
    // Grid-forming sources hold an island that has no other source (a droop island); the one with
    // the largest droop gain is its angle reference.
    t.group_forming.assign(ng, -1);
    t.island_droop.assign(ni, 0);
    for (int k = 0; k < int(net.forming.size()); ++k) {
        const FormingSource& f = net.forming[k];
        const int bus = t.bus(f.bus);
        if (!f.in_service || !t.bus_usable[bus]) continue;
        int& g = t.group_forming[t.bus_group[bus]];
        if (g < 0 || f.kp_mw_per_hz > net.forming[g].kp_mw_per_hz) g = k;
    }
    std::vector<int> island_ref(ni, -1);  // group of the largest kp per island
    for (int gi = 0; gi < ng; ++gi) {
        const int k = t.group_forming[gi];
        if (k < 0) continue;
        int& r = island_ref[t.group_island[gi]];
        if (r < 0 || net.forming[k].kp_mw_per_hz > net.forming[t.group_forming[r]].kp_mw_per_hz) r = gi;
    }
    for (int is = 0; is < ni; ++is)
        if (t.island_source[is] < 0 && island_ref[is] >= 0) {
            t.island_source[is] = island_ref[is];
            t.island_droop[is] = 1;
        }
}

}  // namespace

Topology analyze_topology(const Network& net) {
    Topology t;
    t.n_buses = int(net.buses.size());
    t.bus_at.reserve(t.n_buses * 2);
    t.bus_usable.assign(t.n_buses, 0);
    for (int i = 0; i < t.n_buses; ++i) {
        t.bus_at[net.buses[i].id] = i;
        t.bus_usable[i] = net.buses[i].in_service && net.buses[i].type != BusType::Isolated;
    }
    fuse_switches(net, t);
    open_ends(net, t);
    find_islands(net, t);
    find_sources(net, t);
    return t;
}

std::vector<int> deenergised_bus_indices(const Topology& t) {
    std::vector<int> out;
    for (int i = 0; i < t.n_buses; ++i)
        if (t.bus_usable[i] && !t.energised(i)) out.push_back(i);
    return out;
}

std::vector<char> is_forest_per_component(int n, const std::vector<int>& node_component, int n_components,
                                          const std::vector<std::pair<int, int>>& edges) {
    std::vector<int> nodes(n_components, 0), pairs_in(n_components, 0);
    for (int i = 0; i < n; ++i) nodes[node_component[i]]++;
    std::vector<std::pair<int, int>> pairs;
    pairs.reserve(edges.size());
    for (const auto& [a, b] : edges)
        if (a != b) pairs.emplace_back(std::min(a, b), std::max(a, b));
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    for (const auto& e : pairs) pairs_in[node_component[e.first]]++;
    std::vector<char> radial(n_components, 1);
    for (int c = 0; c < n_components; ++c)
        if (pairs_in[c] != nodes[c] - 1) radial[c] = 0;
    return radial;
}

BfsTree bfs_order(int n, const std::vector<int>& roots, const std::vector<std::pair<int, int>>& edges) {
    // Adjacency in compressed rows, neighbours in edge order.
    std::vector<int> deg(n + 1, 0);
    for (const auto& [a, b] : edges)
        if (a != b) {
            deg[a + 1]++;
            deg[b + 1]++;
        }
    for (int i = 0; i < n; ++i) deg[i + 1] += deg[i];
    std::vector<int> adj(deg[n]), fill(deg.begin(), deg.end() - 1);
    for (const auto& [a, b] : edges)
        if (a != b) {
            adj[fill[a]++] = b;
            adj[fill[b]++] = a;
        }
    BfsTree tree;
    tree.parent.assign(n, -1);
    std::vector<char> seen(n, 0);
    tree.order.reserve(n);
    for (int r : roots) {
        seen[r] = 1;
        tree.order.push_back(r);
    }
    const std::size_t n_roots = tree.order.size();
    for (std::size_t r = 0; r < n_roots; ++r) {  // one root at a time, so each tree is contiguous
        std::size_t head = tree.order.size();
        auto visit = [&](int u) {
            for (int e = deg[u]; e < deg[u + 1]; ++e) {
                const int w = adj[e];
                if (seen[w]) continue;
                seen[w] = 1;
                tree.parent[w] = u;
                tree.order.push_back(w);
            }
        };
        visit(tree.order[r]);
        while (head < tree.order.size()) visit(tree.order[head++]);
    }
    return tree;
}

std::vector<Connection> closed_connections(const Network& net) {
    std::vector<Connection> out;
    auto idx = [&](Id id) { return int(net.bus_index(id)); };
    std::vector<char> line_open(net.lines.size(), 0), trafo_open(net.transformers.size(), 0);
    std::unordered_map<Id, int> line_at, trafo_at;
    for (int i = 0; i < int(net.lines.size()); ++i) line_at[net.lines[i].id] = i;
    for (int i = 0; i < int(net.transformers.size()); ++i) trafo_at[net.transformers[i].id] = i;
    for (int k = 0; k < int(net.switches.size()); ++k) {
        const Switch& s = net.switches[k];
        if (s.et == SwitchElement::Bus) {
            if (s.closed) out.push_back({idx(s.bus), idx(s.element), 0.0, Connection::BusSwitch, k});
        } else if (!s.closed) {
            auto& table_at = s.et == SwitchElement::Line ? line_at : trafo_at;
            auto& open = s.et == SwitchElement::Line ? line_open : trafo_open;
            if (auto it = table_at.find(s.element); it != table_at.end()) open[it->second] = 1;
        }
    }
    for (int k = 0; k < int(net.lines.size()); ++k) {
        const Line& l = net.lines[k];
        if (l.in_service && !line_open[k]) out.push_back({idx(l.from_bus), idx(l.to_bus), l.length_km, Connection::Line, k});
    }
    for (int k = 0; k < int(net.transformers.size()); ++k) {
        const Transformer& t = net.transformers[k];
        if (t.in_service && !trafo_open[k]) out.push_back({idx(t.hv_bus), idx(t.lv_bus), 0.0, Connection::Transformer, k});
    }
    for (int k = 0; k < int(net.branches.size()); ++k) {
        const Branch& b = net.branches[k];
        if (b.in_service) out.push_back({idx(b.from_bus), idx(b.to_bus), 0.0, Connection::Branch, k});
    }
    return out;
}

std::vector<int> source_buses(const Network& net) {
    std::vector<int> out;
    if (!net.ext_grids.empty()) {
        for (const ExtGrid& e : net.ext_grids)
            if (e.in_service) out.push_back(int(net.bus_index(e.bus)));
        return out;
    }
    for (int i = 0; i < int(net.buses.size()); ++i)
        if (net.buses[i].type == BusType::Slack) out.push_back(i);
    return out;
}

SourceDistance source_distance(const Network& net, bool by_km) {
    const int nb = int(net.buses.size());
    constexpr double inf = std::numeric_limits<double>::infinity();
    const std::vector<Connection> conns = closed_connections(net);
    std::vector<std::vector<std::tuple<int, double, int>>> adj(nb);  // (other bus, weight, connection)
    for (std::size_t k = 0; k < conns.size(); ++k) {
        const Connection& c = conns[k];
        const double w = by_km ? c.km : 1.0;
        adj[c.a].emplace_back(c.b, w, int(k));
        adj[c.b].emplace_back(c.a, w, int(k));
    }
    SourceDistance r;
    std::vector<double> dist(nb, inf);
    r.hops.assign(nb, -1);
    r.parent.assign(nb, -1);
    r.via.assign(nb, Connection{});
    // (distance, hops, bus id, bus index): ties in distance go to fewer hops, then to the smaller id
    using Item = std::tuple<double, int, Id, int>;
    std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
    for (int s : source_buses(net)) {
        dist[s] = 0.0;
        r.hops[s] = 0;
        heap.emplace(0.0, 0, net.buses[s].id, s);
    }
    while (!heap.empty()) {
        const auto [d, h, id, u] = heap.top();
        heap.pop();
        if (d > dist[u] || (d == dist[u] && h > r.hops[u])) continue;
        for (const auto& [v, w, k] : adj[u]) {
            const double nd = d + w;
            const int nh = h + 1;
            if (nd < dist[v] || (nd == dist[v] && nh < r.hops[v])) {
                dist[v] = nd;
                r.hops[v] = nh;
                r.parent[v] = u;
                r.via[v] = conns[std::size_t(k)];
                heap.emplace(nd, nh, net.buses[v].id, v);
            }
        }
    }
    r.distance.assign(nb, std::numeric_limits<double>::quiet_NaN());
    for (int i = 0; i < nb; ++i)
        if (dist[i] < inf) r.distance[i] = dist[i];
    return r;
}

}  // namespace libgrid
