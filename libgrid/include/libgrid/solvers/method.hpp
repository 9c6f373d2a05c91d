// libgrid layer 4: the power-flow methods and the linear solvers, by name.
#pragma once

#include <string>

namespace libgrid {

enum class Method : int { NewtonRaphson = 0, FastDecoupledXB = 1, DC = 2, Sweep = 3, Auto = 4 };
enum class LinearSolverKind : int { SparseLU = 0, KLU = 1, Default = 2 };  // Default: KLU if built, else SparseLU

Method parse_method(const std::string& s);               ///< "nr", "fdxb", "dc", "sweep", "auto"
LinearSolverKind parse_linear_solver(const std::string& s);  ///< "sparselu", "klu", "default"
std::string to_string(Method m);
std::string to_string(LinearSolverKind k);

}  // namespace libgrid
