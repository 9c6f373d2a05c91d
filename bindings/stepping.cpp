// libgrid Python module: the stepped Simulation (issue 19) as _libgrid.SteppedSimulation, made by
// run_simulation(..., stepped=True) or Scenario.stepped(); the libgrid package wraps it
// (libgrid.Simulation.start / step / run_until / finish, libgrid.MemoryResults).
//
// step() and run_until() release the GIL; run_until checks for Ctrl-C every 16 steps and raises
// KeyboardInterrupt after the step in progress (the run stays open: step on or finish()).
#include <libgrid/core/errors.hpp>
#include <libgrid/profiles/calendar.hpp>
#include <libgrid/results/results.hpp>
#include <libgrid/simulation/engine.hpp>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

namespace py = pybind11;
using namespace libgrid;

py::dict summary_to_dict(const SimulationSummary& s);  // bindings/simulation.cpp

namespace {

py::dict step_dict(const StepInfo& i) {
    py::dict d;
    d["step"] = i.step;
    d["total"] = i.total;
    d["time"] = format_iso8601(i.time);
    d["time_s"] = i.time;
    d["converged"] = i.converged;
    d["controls_settled"] = i.controls_settled;
    d["iterations"] = i.iterations;
    return d;
}

/// A table as (time s, ids, values rows x columns [x phases], unit): numpy arrays, copied.
py::tuple table_tuple(const ResultTable& t) {
    py::array_t<std::int64_t> time(py::ssize_t(t.time.size()));
    std::copy(t.time.begin(), t.time.end(), time.mutable_data());
    py::array_t<std::int64_t> ids(py::ssize_t(t.ids.size()));
    std::copy(t.ids.begin(), t.ids.end(), ids.mutable_data());
    std::vector<py::ssize_t> shape{py::ssize_t(t.rows()), py::ssize_t(t.columns())};
    if (t.phases > 1) shape.push_back(py::ssize_t(t.phases));
    py::array_t<double> values(shape);
    std::copy(t.values.begin(), t.values.end(), values.mutable_data());
    return py::make_tuple(time, ids, values, t.unit);
}

std::size_t run_until_checked(Simulation& sim, LocalTime t) {
    std::size_t n = 0;
    for (;;) {
        bool more = false;
        {
            py::gil_scoped_release release;
            for (int i = 0; i < 16 && !sim.done() && sim.next_time() < t; ++i) {
                sim.step();
                ++n;
            }
            more = !sim.done() && sim.next_time() < t;
        }
        if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        if (!more) return n;
    }
}

}  // namespace

void bind_stepping(py::module_& m) {
    py::class_<Simulation>(m, "SteppedSimulation",
                           "A time-series run stepped from Python (issue 19; docs/python.md 'Stepping'). Made by "
                           "libgrid.Simulation.start() or Scenario.stepped().")
        .def("start", &Simulation::start, py::call_guard<py::gil_scoped_release>())
        .def(
            "step", [](Simulation& s) { StepInfo i;
                {
                    py::gil_scoped_release release;
                    i = s.step();
                }
                return step_dict(i); },
            "Runs the next step; returns {step, total, time, converged, controls_settled, iterations}.")
        .def(
            "run_until", [](Simulation& s, const std::string& t) { return run_until_checked(s, parse_iso8601(t)); }, py::arg("time"),
            "Steps while the next step starts before `time` (ISO 8601, local); returns the steps run.")
        .def_property_readonly("steps_done", &Simulation::steps_done)
        .def_property_readonly("next_time", [](const Simulation& s) { return format_iso8601(s.next_time()); })
        .def_property_readonly("next_time_s", &Simulation::next_time)
        .def_property_readonly("done", &Simulation::done)
        .def(
            "finish", [](Simulation& s) { SimulationSummary r;
                {
                    py::gil_scoped_release release;
                    r = s.finish();
                }
                return summary_to_dict(r); })
        .def("cancel", &Simulation::cancel)
        .def("set_battery_power", &Simulation::set_battery_power, py::arg("battery"), py::arg("p_kw"))
        .def("set_pv_limit", &Simulation::set_pv_limit, py::arg("pv"), py::arg("p_max_kw"))
        .def("set_switch", &Simulation::set_switch, py::arg("switch"), py::arg("closed"))
        .def("set_in_service", &Simulation::set_in_service, py::arg("element"), py::arg("id"), py::arg("in_service"))
        .def("result_names", [](const Simulation& s) { return s.results().names(); })
        .def("result_steps", [](const Simulation& s) { return s.results().steps(); })
        .def(
            "result_table", [](const Simulation& s, const std::string& g, const std::string& n) { return table_tuple(s.results().table(g, n)); },
            py::arg("group"), py::arg("name"))
        .def("result_ids", [](const Simulation& s, const std::string& g) { return s.results().ids(g); }, py::arg("group"))
        .def("result_summary", [](const Simulation& s) { return s.results().recorder().scalars(); });
}
