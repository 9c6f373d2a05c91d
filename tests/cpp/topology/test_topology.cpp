// The topology layer: switch fusing, islands, sources, energised part, radial check, BFS order,
// distances from the sources.
#include <doctest/doctest.h>

#include <libgrid/topology/topology.hpp>

#include <cmath>

using namespace libgrid;

namespace {

Line line(Id id, Id f, Id t, double km) {
    Line l;
    l.id = id;
    l.from_bus = f;
    l.to_bus = t;
    l.length_km = km;
    l.r_ohm_per_km = 0.1;
    l.x_ohm_per_km = 0.1;
    return l;
}

/// Ids 10..16: 10 (ext grid) -1km- 11 =switch= 12 -2km- 13 -0.5km- 14;  11 -3km- 15 (open switch at 15);
/// 16 alone (no source).
Network feeder() {
    Network net;
    for (Id b = 10; b <= 16; ++b) {
        std::string name = "b";  // not "b" + to_string(b): GCC 12's -Wrestrict false positive
        name += std::to_string(b);
        net.buses.push_back(Bus{b, name, 0.4});
    }
    net.ext_grids.push_back(ExtGrid{0, 10, 1.0, 0.0, true});
    net.lines = {line(0, 10, 11, 1.0), line(1, 12, 13, 2.0), line(2, 13, 14, 0.5), line(3, 11, 15, 3.0)};
    Switch fuse;
    fuse.id = 0;
    fuse.bus = 11;
    fuse.element = 12;
    Switch open;
    open.id = 1;
    open.bus = 15;
    open.element = 3;
    open.et = SwitchElement::Line;
    open.closed = false;
    net.switches = {fuse, open};
    return net;
}

}  // namespace

TEST_CASE("topology: a closed bus-bus switch fuses buses, an open line end cuts the bus behind it") {
    const Network net = feeder();
    net.validate();
    const Topology t = analyze_topology(net);
    CHECK(t.n_buses == 7);
    CHECK(t.bus_group[1] == t.bus_group[2]);  // 11 and 12 fused
    CHECK(t.bus_group[0] != t.bus_group[1]);
    CHECK(t.line_open_t[3] == 1);
    CHECK(t.line_open_f[3] == 0);
    CHECK(t.group_type[t.bus_group[0]] == BusType::Slack);
    for (int b : {0, 1, 2, 3, 4}) CHECK(t.energised(b));
    CHECK_FALSE(t.energised(5));  // behind the open switch
    CHECK_FALSE(t.energised(6));  // no connection at all
    CHECK(deenergised_bus_indices(t) == std::vector<int>{5, 6});
}

TEST_CASE("topology: without a reference bus, an island's first generator becomes its source") {
    Network net = feeder();
    net.ext_grids.clear();
    net.buses[0].type = BusType::PQ;
    CHECK(deenergised_bus_indices(analyze_topology(net)).size() == 7);
    Gen g;
    g.id = 0;
    g.bus = 13;
    net.gens.push_back(g);
    const Topology t = analyze_topology(net);
    CHECK(t.group_type[t.bus_group[3]] == BusType::Slack);
    CHECK(t.island_source[t.group_island[t.bus_group[0]]] == t.bus_group[3]);
    CHECK(deenergised_bus_indices(t) == std::vector<int>{5, 6});
}

TEST_CASE("topology: radial check counts distinct node pairs per component") {
    // component 0: nodes 0-1-2 with a parallel pair and a self-loop (a tree); component 1: a triangle
    const std::vector<int> comp{0, 0, 0, 1, 1, 1};
    const std::vector<std::pair<int, int>> edges{{0, 1}, {1, 0}, {1, 2}, {2, 2}, {3, 4}, {4, 5}, {5, 3}};
    CHECK(is_forest_per_component(6, comp, 2, edges) == std::vector<char>{1, 0});
}

TEST_CASE("topology: BFS order from the roots, each tree contiguous, neighbours in edge order") {
    const std::vector<std::pair<int, int>> edges{{0, 2}, {0, 1}, {2, 3}, {4, 5}, {1, 1}};
    const BfsTree tr = bfs_order(6, {0, 4}, edges);
    CHECK(tr.order == std::vector<int>{0, 4, 2, 1, 3, 5});
    CHECK(tr.parent == std::vector<int>{-1, 0, 0, 2, -1, 4});
}

TEST_CASE("topology: distance from the source through closed connections, in km and in hops") {
    const Network net = feeder();
    const SourceDistance km = source_distance(net, true);
    CHECK(km.distance[0] == 0.0);
    CHECK(km.distance[1] == 1.0);
    CHECK(km.distance[2] == 1.0);  // through the switch: 0 km
    CHECK(km.distance[3] == 3.0);
    CHECK(km.distance[4] == 3.5);
    CHECK(std::isnan(km.distance[5]));
    CHECK(std::isnan(km.distance[6]));
    CHECK(km.parent[4] == 3);
    CHECK(km.parent[3] == 2);
    CHECK(km.parent[2] == 1);
    CHECK(km.parent[0] == -1);
    const SourceDistance hops = source_distance(net, false);
    CHECK(hops.distance[4] == 4.0);
    CHECK(hops.hops[4] == 4);
    CHECK(closed_connections(net).size() == 4);  // the switch and lines 0, 1, 2 (line 3 is open)
    CHECK(source_buses(net) == std::vector<int>{0});
}
