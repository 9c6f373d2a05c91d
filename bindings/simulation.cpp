// libgrid Python module: time-series simulation bindings (filled as the engine lands).
#include <pybind11/pybind11.h>

namespace py = pybind11;

void bind_simulation(py::module_& m) { (void)m; }
