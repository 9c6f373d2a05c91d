// libgrid Python module: scenarios (YAML) -> built network and devices -> a run.
#include <libgrid/errors.hpp>
#include <libgrid/scenario/melaka_grid.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace py = pybind11;
using namespace libgrid;

py::dict summary_to_dict(const SimulationSummary& s);  // bindings/simulation.cpp

void bind_scenario(py::module_& m) {
    py::class_<Scenario>(m, "Scenario")
        .def_static("load", &load_scenario, py::arg("path"))
        .def_static("parse", &parse_scenario, py::arg("text"), py::arg("filename") = "<string>")
        .def("override", &override_key, py::arg("key"), py::arg("yaml_value"))
        .def("to_yaml", &scenario_to_yaml)
        .def("copy", [](const Scenario& s) { return Scenario(s); })
        .def_readonly("path", &Scenario::path)
        .def_readonly("name", &Scenario::name)
        .def_readonly("seed", &Scenario::seed)
        .def_property_readonly("overrides", [](const Scenario& s) { return s.overrides; })
        .def(
            "build_counts",
            [](const Scenario& s) {
                BuiltScenario b = build_scenario(s);
                py::dict d;
                d["buses"] = b.net.buses.size();
                d["lines"] = b.net.lines.size();
                d["transformers"] = b.net.transformers.size();
                d["loads"] = b.net.loads.size();
                d["pv"] = b.devices.pv.size();
                d["batteries"] = b.devices.batteries.size();
                d["ev_stations"] = b.devices.ev_stations.size();
                d["charging_sites"] = b.devices.charging_sites.size();
                d["buildings"] = b.devices.buildings.size();
                d["homes"] = b.devices.homes.size();
                d["steps"] = b.options.n_steps;
                return d;
            })
        .def("network", [](const Scenario& s) { return build_scenario(s).net; }, "the scenario's network (built)")
        .def(
            "customers",
            [](const Scenario& s) {
                BuiltScenario b = build_scenario(s);
                py::dict d;
                std::vector<Id> id, bus, load, feeder, trafo;
                std::vector<std::string> type;
                std::vector<double> peak, daily, roof;
                for (const Customer& c : b.customers) {
                    id.push_back(c.id);
                    bus.push_back(c.bus);
                    load.push_back(c.load_id);
                    feeder.push_back(c.feeder);
                    trafo.push_back(c.transformer);
                    type.push_back(to_string(c.type));
                    peak.push_back(c.peak_kw);
                    daily.push_back(c.daily_kwh);
                    roof.push_back(c.roof_area_m2);
                }
                d["id"] = id; d["bus"] = bus; d["load_id"] = load; d["type"] = type; d["peak_kw"] = peak;
                d["daily_kwh"] = daily; d["roof_area_m2"] = roof; d["feeder"] = feeder; d["transformer"] = trafo;
                return d;
            })
        .def(
            "run",
            [](const Scenario& s, const std::string& output, py::object progress) {
                BuiltScenario b = build_scenario(s);
                b.options.output_path = output;
                Simulation sim(std::move(b.net), std::move(b.devices), b.options);
                SimulationSummary sum;
                {
                    py::gil_scoped_release release;
                    ProgressFn fn;
                    const std::size_t n = b.options.n_steps, every = std::max<std::size_t>(1, n / 100);
                    if (!progress.is_none())
                        fn = [&progress, every](std::size_t done, std::size_t total) {
                            if (done % every != 0 && done != total) return;
                            py::gil_scoped_acquire acquire;
                            progress(done, total);
                        };
                    sum = sim.run(fn);
                }
                return summary_to_dict(sum);
            },
            py::arg("output"), py::arg("progress") = py::none());
}
