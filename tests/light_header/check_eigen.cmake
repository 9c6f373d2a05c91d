# Issue 19: does a translation unit pull in Eigen? Runs the compiler's dependency listing (-M) on TU
# and looks for "Eigen/" among the headers it reads.
#   -DCXX=<compiler> -DINCLUDES=<dir;dir;...> -DTU=<file.cpp> -DEXPECT=none|some
# EXPECT=none (the light header libgrid/powerflow.hpp): fails, naming the first Eigen header and the
# libgrid header that included it, if any Eigen header is read. EXPECT=some (libgrid/libgrid.hpp):
# the control that shows the check can fail -- the umbrella header does read Eigen.
set(args -std=c++20 -M ${TU})
foreach(d ${INCLUDES})
  list(APPEND args -I${d})
endforeach()
execute_process(COMMAND ${CXX} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE deps ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${TU}: the compiler failed (${rc}): ${err}")
endif()
if(NOT deps MATCHES "libgrid/")
  message(FATAL_ERROR "${TU}: the dependency list names no libgrid header: ${deps}")
endif()
string(REGEX MATCH "[^ \\\\\n]*Eigen/[^ \\\\\n]*" first "${deps}")
if(EXPECT STREQUAL "none" AND first)
  # which libgrid headers come before the first Eigen one (the culprit is the last of them)
  string(FIND "${deps}" "${first}" at)
  string(SUBSTRING "${deps}" 0 ${at} before)
  string(REGEX MATCHALL "[^ \\\\\n]*libgrid/[^ \\\\\n]*\\.hpp" lg "${before}")
  list(POP_BACK lg culprit)
  message(FATAL_ERROR "${TU} includes Eigen: ${first} (after ${culprit})")
elseif(EXPECT STREQUAL "some" AND NOT first)
  message(FATAL_ERROR "${TU}: expected Eigen among its headers, found none")
endif()
message(STATUS "${TU}: Eigen ${EXPECT} as expected")
