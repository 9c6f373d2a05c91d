// libgrid Python module: the topology layer (topology/topology.hpp), for the plots.
#include <libgrid/topology/topology.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

namespace py = pybind11;
using namespace libgrid;

void bind_topology(py::module_& m) {
    m.def(
        "topology",
        [](const Network& net) {
            net.validate();
            const Topology t = analyze_topology(net);
            py::list ids, group, island, energised;
            for (int b = 0; b < t.n_buses; ++b) {
                ids.append(net.buses[b].id);
                group.append(t.bus_group[b]);
                island.append(t.group_island[t.bus_group[b]]);
                energised.append(t.energised(b));
            }
            py::dict d;
            d["bus"] = ids;
            d["group"] = group;
            d["island"] = island;
            d["energised"] = energised;
            return d;
        },
        py::arg("net"),
        "Per bus (table order): its id, switch-fused group, island and whether a source feeds it.");
    m.def(
        "source_distance",
        [](const Network& net, const std::string& by) {
            if (by != "km" && by != "hops") throw py::value_error("source_distance: by='" + by + "': expected 'km' or 'hops'");
            if (source_buses(net).empty()) throw py::value_error("the network has no ext grid and no slack (type 3) bus");
            const SourceDistance r = source_distance(net, by == "km");
            py::list ids, dist, parent;
            for (std::size_t b = 0; b < net.buses.size(); ++b) {
                ids.append(net.buses[b].id);
                dist.append(r.distance[b]);
                if (r.parent[b] >= 0) parent.append(net.buses[std::size_t(r.parent[b])].id);
                else parent.append(py::none());
            }
            return py::make_tuple(ids, dist, parent);
        },
        py::arg("net"), py::arg("by") = "km",
        "Distance of every bus from the nearest source (ext grid, else a slack bus) through closed "
        "connections: (bus ids, distances (NaN: unreachable), previous bus id on the path or None).");
}
