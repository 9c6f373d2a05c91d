// Compiled with libgrid_solvers' include path: its own and lower layers' headers are found
// (the CTest layers_downward_include_compiles), so the upward probe fails for the right reason.
#include <libgrid/core/errors.hpp>
#include <libgrid/math/math_model.hpp>
#include <libgrid/solvers/solvers.hpp>

int probe_downward() { return 0; }
