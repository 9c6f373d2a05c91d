// libgrid layer: topology. Which buses are joined, which are energised and from where, in network
// indices (bus i is net.buses[i], line k is net.lines[k]) and without any electrical quantity, so it
// serves one phase or three alike. Boost.Graph stays inside the .cpp.
//
//   switch fusing   closed bus-bus switches join buses into groups (one node of the math model each)
//   islands         groups joined by closed, in-service lines, transformers and branches
//   sources         ext grids / declared slack buses / generators per group; an island's source;
//                   else grid-forming droop sources (a droop island)
//   energised part  the buses of islands that have a source
//   radial check    is_forest_per_component: (distinct node pairs) == (nodes - 1) per component
//   BFS order       bfs_order: breadth-first from given roots over an edge list
//   distances       source_distance: Dijkstra from the sources through closed connections (plots)
#pragma once

#include <libgrid/model/network.hpp>

#include <unordered_map>
#include <utility>
#include <vector>

namespace libgrid {

struct Topology {
    int n_buses = 0;
    std::unordered_map<Id, int> bus_at;  ///< bus id -> bus index
    std::vector<char> bus_usable;        ///< in service and not Isolated
    // switch fusing
    int n_groups = 0;
    std::vector<int> bus_group;  ///< bus index -> group (buses fused by closed bus-bus switches)
    std::vector<char> group_usable;  ///< the group holds a usable bus
    std::vector<char> line_open_f, line_open_t;      ///< per line: an open switch at that end
    std::vector<char> trafo_open_hv, trafo_open_lv;  ///< per transformer: an open switch at that end
    // islands (over groups, energised or not)
    int n_islands = 0;
    std::vector<int> group_island;
    // sources: the first in-service element of that kind at a usable bus of the group, else -1
    std::vector<int> group_ext_grid, group_gen, group_slack_bus;  ///< ext grid / gen index, bus index
    std::vector<BusType> group_type;  ///< Slack, PV or PQ (MATPOWER: an island without a reference
                                      ///< takes its first PV group as slack)
    std::vector<int> island_source;   ///< per island: its slack group; -1: no source, de-energised
    /// Grid-forming sources (Network::forming): per group, the in-service one with the largest
    /// kp_mw_per_hz at a usable bus of the group (ties: the first), else -1.
    std::vector<int> group_forming;
    /// Per island: a droop island, held by grid-forming sources alone (no ext grid, slack bus or
    /// generator); its island_source is the group of the source with the largest kp (the angle
    /// reference) and every group in it stays PQ (docs/microgrid.md).
    std::vector<char> island_droop;

    int bus(Id id) const { return bus_at.at(id); }
    /// Usable and in an island with a source.
    bool energised(int bus) const {
        return bus_usable[bus] && island_source[group_island[bus_group[bus]]] >= 0;
    }
};

/// Switch fusing, islands, sources and the energised part of a (validated) network.
Topology analyze_topology(const Network& net);

/// Indices of the usable buses that no source feeds (their voltages are NaN in a power flow).
std::vector<int> deenergised_bus_indices(const Topology& topo);

/// Per component c of a graph on n nodes (node_component[i] in [0, n_components)): whether the
/// component is a tree over its distinct node pairs. Parallel edges count once, self-loops not at
/// all (neither makes a loop for a sweep). The graph is assumed connected per component.
std::vector<char> is_forest_per_component(int n, const std::vector<int>& node_component, int n_components,
                                          const std::vector<std::pair<int, int>>& edges);

/// Breadth-first order over the undirected graph (n nodes, edges in this order; self-loops
/// ignored) from `roots`: the roots first (in the given order), then each root's tree in turn,
/// neighbours visited in edge order. parent[node] = the node it was reached from (-1 for roots and
/// unreached nodes); order holds only reached nodes.
struct BfsTree {
    std::vector<int> order;
    std::vector<int> parent;
};
BfsTree bfs_order(int n, const std::vector<int>& roots, const std::vector<std::pair<int, int>>& edges);

/// One closed, in-service connection between two buses (network indices), with its length.
struct Connection {
    enum Kind : int { BusSwitch = 0, Line = 1, Transformer = 2, Branch = 3 };
    int a = -1, b = -1;
    double km = 0.0;  ///< line length; 0 for switches, transformers and branches
    Kind kind = BusSwitch;
    int index = -1;   ///< in the table of that kind (switches: the switch index)
};
/// Closed bus-bus switches, then in-service lines, transformers and branches with no open switch at
/// either end, in table order. Bus service states are not looked at (a drawing of the wiring).
std::vector<Connection> closed_connections(const Network& net);

/// Buses the distances start from: in-service ext grids' buses, or, if the network has no ext grid,
/// its type-3 (slack) buses. Bus indices, in table order.
std::vector<int> source_buses(const Network& net);

/// Shortest distance of every bus from the nearest source bus through closed_connections()
/// (Dijkstra; ties in distance go to fewer hops, then to the smaller bus id popped first).
/// by_km: weights are line lengths (0 for the rest), else 1 per connection (hops).
struct SourceDistance {
    std::vector<double> distance;  ///< per bus index; NaN where unreachable
    std::vector<int> hops;         ///< per bus index; -1 where unreachable
    std::vector<int> parent;       ///< per bus index: previous bus on the path, -1 at sources / unreachable
    std::vector<Connection> via;   ///< per bus index: the connection to `parent` (index -1 where parent is -1)
};
SourceDistance source_distance(const Network& net, bool by_km);

}  // namespace libgrid
