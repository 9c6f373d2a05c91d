// libgrid Python module: scenarios (YAML) -> built network and devices -> a run.
#include <libgrid/core/errors.hpp>
#include <libgrid/scenario/hosting.hpp>
#include <libgrid/scenario/melaka_grid.hpp>
#include <libgrid/scenario/scenario.hpp>
#include <libgrid/simulation/engine.hpp>

#include "run_guard.hpp"
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <limits>

namespace py = pybind11;
using namespace libgrid;

py::dict summary_to_dict(const SimulationSummary& s);  // bindings/simulation.cpp

void bind_scenario(py::module_& m) {
    py::class_<Scenario>(m, "Scenario")
        .def_static("load", &load_scenario, py::arg("path"))
        .def_static("parse", &parse_scenario, py::arg("text"), py::arg("filename") = "<string>")
        .def("override", &override_key, py::arg("key"), py::arg("yaml_value"))
        .def("to_yaml", &scenario_to_yaml)
        .def("check_output", &check_output_is_not_input, py::arg("output"),
             "raises ValidationError when `output` is one of the scenario's input files")
        .def(
            "estimate",
            [](const Scenario& s) {
                const RunEstimate e = estimate_run(build_scenario(s));
                py::dict d;
                d["steps"] = e.steps;
                d["columns"] = e.columns;
                d["meter_rows"] = e.meter_rows;
                d["meter_columns"] = e.meter_columns;
                d["bytes_per_value"] = e.bytes_per_value;
                d["output_bytes"] = e.output_bytes;
                d["output_min_bytes"] = e.output_min_bytes;
                d["memory_bytes"] = e.memory_bytes;
                d["text"] = e.text();
                return d;
            },
            "what a run needs: results size and memory (docs/scenarios.md)")
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
                d["buses"] = b.unbalanced ? b.unet.buses.size() : b.net.buses.size();
                d["lines"] = b.unbalanced ? b.unet.lines.size() : b.net.lines.size();
                d["transformers"] = b.unbalanced ? b.unet.transformers.size() : b.net.transformers.size();
                d["loads"] = b.unbalanced ? b.unet.loads.size() : b.net.loads.size();
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
        .def_property_readonly("unbalanced", [](const Scenario& s) { return s.network.unbalanced(); },
                               "issue 15: the run is unbalanced (network.model: unbalanced, or an OpenDSS .dss network)")
        .def_property_readonly("model", [](const Scenario& s) { return s.network.model; },
                               "issue 15: network.model as resolved: balanced or unbalanced")
        .def(
            "unbalanced_network", [](const Scenario& s) { return build_scenario(s).unet; },
            "issue 15: the scenario's unbalanced network (UNetwork: a .dss script or the Melaka grid as built; empty for a balanced scenario)")
        .def(
            "customers",
            [](const Scenario& s) {
                BuiltScenario b = build_scenario(s);
                py::dict d;
                std::vector<Id> id, bus, load, feeder, trafo;
                std::vector<std::string> type;
                std::vector<double> peak, daily, roof;
                std::vector<std::string> phases;  // issue 15 (H1): the unbalanced Melaka's phase of each customer
                for (std::size_t i = 0; i < b.customers.size(); ++i) {
                    const Customer& c = b.customers[i];
                    phases.push_back(i < b.customer_phases.size() ? b.customer_phases[i] : std::string());
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
                d["phases"] = phases;
                return d;
            })
        .def(
            "hosting_capacity",
            [](const Scenario& s, const std::string& kind, const std::string& group, const std::string& window, double kw_per_customer,
               double charger_kw, double tolerance_kw, const std::string& cap) {
                HostingStudy st;
                st.kind = kind;
                st.group = group;
                st.window = window;
                st.kw_per_customer = kw_per_customer;
                st.charger_kw = charger_kw;
                st.tolerance_kw = tolerance_kw;
                st.cap = cap;
                HostingStudyResult r;
                {
                    py::gil_scoped_release release;
                    r = hosting_capacity(s, st);
                }
                std::vector<Id> gid, el;
                std::vector<std::string> gk, lk;
                std::vector<std::size_t> cust, hosted;
                std::vector<double> kva, inst, mx, add, kw, share, tol, val;
                std::vector<std::int64_t> t;
                std::vector<bool> limited, without;
                std::vector<int> runs;
                for (const auto& x : r.groups) {
                    gid.push_back(x.group); gk.push_back(x.group_kind); cust.push_back(x.customers); kva.push_back(x.rating_kva);
                    inst.push_back(x.installed_kw); mx.push_back(x.max_kw); add.push_back(x.added_kw); kw.push_back(x.hosting_kw); share.push_back(x.share);
                    tol.push_back(x.tolerance_kw); hosted.push_back(x.hosted); limited.push_back(x.limited); without.push_back(x.violated_without);
                    lk.push_back(x.limit_name(r.kind)); t.push_back(x.limit.time); el.push_back(x.limited ? x.limit.element : -1);
                    val.push_back(x.limited ? x.limit.value : std::numeric_limits<double>::quiet_NaN()); runs.push_back(x.runs);
                }
                py::dict d;  // keys in the order of hosting_columns() (the CSV header)
                d["group"] = gid; d["group_kind"] = gk; d["customers"] = cust; d["rating_kva"] = kva; d["installed_kw"] = inst;
                d["max_kw"] = mx; d["added_kw"] = add; d["hosting_kw"] = kw; d["share"] = share; d["tolerance_kw"] = tol; d["hosted"] = hosted;
                d["limited"] = limited; d["violated_without"] = without; d["limit"] = lk; d["limit_time"] = t;
                d["limit_element"] = el; d["limit_value"] = val; d["runs"] = runs;
                {  // issue 15 (H4): unbalanced networks: the binding phase and the kW added per phase (NaN when balanced)
                    std::vector<std::string> ph;
                    std::vector<double> pa, pb, pc;
                    for (const auto& x : r.groups) {
                        ph.push_back(x.limited ? x.limit.phase : std::string());
                        pa.push_back(x.added_kw_phase[0]); pb.push_back(x.added_kw_phase[1]); pc.push_back(x.added_kw_phase[2]);
                    }
                    d["limit_phase"] = ph; d["added_kw_a"] = pa; d["added_kw_b"] = pb; d["added_kw_c"] = pc;
                }
                py::dict meta;
                meta["columns"] = hosting_columns(); meta["start"] = r.start; meta["step_s"] = r.step_s; meta["n_steps"] = r.n_steps;
                meta["window"] = r.window;
                return py::make_tuple(d, meta);
            },
            py::arg("kind") = "pv", py::arg("group") = "transformer", py::arg("window") = "critical", py::arg("kw_per_customer") = 0.0,
            py::arg("charger_kw") = 7.0, py::arg("tolerance_kw") = 1.0, py::arg("cap") = "atap")
        .def(
            "run",
            [](const Scenario& s, const std::string& output, py::object progress, bool resume) {
                check_output_is_not_input(s, output);  // before anything is written
                BuiltScenario b = build_scenario(s);
                check_run_resources(s, b, output);      // refuse what cannot finish
                b.options.output_path = output;
                b.options.resume = resume;
                py_detail::RunGuard guard(b.options, progress);
                Simulation sim = make_simulation(b);  // issue 15: Simulation(UNetwork, ...) for a .dss network
                return summary_to_dict(guard.run(sim));
            },
            py::arg("output"), py::arg("progress") = py::none(), py::arg("resume") = false)
        .def(
            "stepped",
            [](const Scenario& s, const std::string& output, bool in_memory) {
                // issue 19: the scenario's run, stepped from Python (bindings/stepping.cpp)
                if (!output.empty()) check_output_is_not_input(s, output);
                BuiltScenario b = build_scenario(s);
                if (!output.empty()) check_run_resources(s, b, output);
                b.options.output_path = output;
                b.options.results_in_memory = in_memory;
                return make_simulation(b);
            },
            py::arg("output") = "", py::arg("in_memory") = true);
}
