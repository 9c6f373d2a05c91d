// Compiled as part of the solvers layer (libgrid_solvers' include path): an include from a layer
// above must not be found. The CTest layers_upward_include_fails expects this file NOT to compile.
#include <libgrid/solvers/solvers.hpp>
#include <libgrid/simulation/engine.hpp>

int probe_upward() { return 0; }
