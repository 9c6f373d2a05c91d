// Issue 19: the control of light_header_no_eigen: the umbrella header does read Eigen.
#include <libgrid/libgrid.hpp>
int main() { return 0; }
