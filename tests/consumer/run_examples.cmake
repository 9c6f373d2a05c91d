# Builds examples/ (docs/cpp_api.md's programs) against the libgrid package that install_and_consume
# installed (its fixture: PREFIX), then runs every example with files of the repository and checks
# its exit code and one line of its output.
#   -DEXAMPLES_DIR=<repo>/examples -DPREFIX=<installed prefix> -DWORK_DIR=<scratch>
#   -DREPO=<repo root> [-DLAUNCHER=ccache]
if(NOT EXISTS ${PREFIX})
  message(FATAL_ERROR "no installed package at ${PREFIX} (the install_and_consume fixture makes it)")
endif()
file(MAKE_DIRECTORY ${WORK_DIR})
set(launcher)
if(LAUNCHER)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${EXAMPLES_DIR} -B ${WORK_DIR}/build
  -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_BUILD_TYPE=Release ${launcher}
  -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON
  -DCMAKE_DISABLE_FIND_PACKAGE_HDF5=ON --no-warn-unused-cli
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc)
  message(FATAL_ERROR "examples: configure failed (${rc}):\n${out}\n${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2 RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc)
  message(FATAL_ERROR "examples: build failed (${rc}):\n${out}\n${err}")
endif()

# run_example(NAME EXPECTED_RC REGEX ARGS...): runs ${WORK_DIR}/build/NAME ARGS, checks the exit code
# and that stdout + stderr match REGEX.
set(failed)
function(run_example name expected_rc regex)
  execute_process(COMMAND ${WORK_DIR}/build/${name} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "---- ${name} ${ARGN} (exit ${rc})\n${out}${err}")
  if(NOT rc STREQUAL "${expected_rc}")
    message(SEND_ERROR "${name}: exit code ${rc}, expected ${expected_rc}")
  elseif(NOT "${out}${err}" MATCHES "${regex}")
    message(SEND_ERROR "${name}: the output does not match '${regex}'")
  endif()
endfunction()

run_example(powerflow_matpower 0 "converged in [0-9]+ iterations, losses [0-9.]+ MW" ${REPO}/tests/data/matpower/case9.m)
run_example(powerflow_matpower 2 "usage:")
run_example(powerflow_matpower 1 "error: .*nonexistent" /nonexistent/case.m)
file(REMOVE ${WORK_DIR}/feeder_summary.json)
run_example(feeder_in_code 0 "feeder day: 96 steps, 0 not converged" ${WORK_DIR}/feeder_summary.json)
file(READ ${WORK_DIR}/feeder_summary.json json)
if(NOT json MATCHES "\"completed\": *true" OR NOT json MATCHES "\"pv_mwh\"")
  message(SEND_ERROR "feeder_in_code: the summary JSON has no completed run with pv_mwh:\n${json}")
endif()
run_example(run_scenario 0 "/bus/vm_pu 96 steps x [0-9]+ buses" ${REPO}/scenarios/melaka_baseline.yaml ${WORK_DIR}/baseline_day.h5)
run_example(errors 0 "every error raised as expected" ${REPO}/tests/data/matpower/case9.m)
run_example(step_day 0 "bus/vm_pu: [0-9]+ values, 0 differ from the file.*step_day: every check holds" ${WORK_DIR}/step_day.h5)
