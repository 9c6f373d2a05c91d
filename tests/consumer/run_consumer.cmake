# Installs the build tree into a scratch prefix, then configures, builds and runs an
# out-of-tree project that uses find_package(libgrid).
file(REMOVE_RECURSE ${WORK_DIR})
# Under DESTDIR, so that nothing (an absolute LIBGRID_PYTHON_INSTALL_DIR) escapes the scratch dir.
execute_process(COMMAND ${CMAKE_COMMAND} -E env DESTDIR=${WORK_DIR}/root
  ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix /prefix
  RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
# The exported target names its dependencies by imported target, never by a path on this machine.
file(GLOB targets_files ${WORK_DIR}/root/prefix/lib*/cmake/libgrid/libgridTargets*.cmake)
if(NOT targets_files)
  message(FATAL_ERROR "no libgridTargets*.cmake under ${WORK_DIR}/root/prefix")
endif()
foreach(f IN LISTS targets_files)
  file(STRINGS ${f} links REGEX "INTERFACE_LINK_LIBRARIES")
  foreach(line IN LISTS links)
    if(line MATCHES "\"[^\"]*/[^\"]*\"")
      message(FATAL_ERROR "absolute path in the exported link interface (${f}):\n${line}")
    endif()
  endforeach()
endforeach()
# The consumer: project(... CXX), no cxx_std_20 of its own (CMakeLists.txt there). The package must
# not look for what it does not use: Boost and nlohmann_json are header-only and private, and HDF5
# comes through FindHDF5C, not CMake's FindHDF5 (which needs the C language).
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/build
  -DCMAKE_PREFIX_PATH=${WORK_DIR}/root/prefix -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON
  -DCMAKE_DISABLE_FIND_PACKAGE_HDF5=ON --no-warn-unused-cli RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "consumer configure failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build -j2 RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "consumer build failed: ${rc}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer ${CASE} RESULT_VARIABLE rc OUTPUT_VARIABLE out)
message(STATUS "${out}")
if(rc)
  message(FATAL_ERROR "consumer run failed: ${rc}")
endif()
if(NOT out MATCHES "converged")
  message(FATAL_ERROR "consumer printed no converged solution")
endif()
if(NOT out MATCHES "\"completed\":true" OR NOT out MATCHES "\"import_mwh\":\\{\"value\":")
  message(FATAL_ERROR "consumer printed no simulation summary (summary_to_json through libgrid.hpp)")
endif()

# Issue 19: the C API. The shared library is installed with its SONAME link, exports the lg_
# functions, and a C-only project (tests/consumer_c: project(... LANGUAGES C)) builds and runs against it.
if(C_SOURCE_DIR)
  file(GLOB capi_libs ${WORK_DIR}/root/prefix/lib*/libgrid_c.so.*)
  if(NOT capi_libs)
    message(FATAL_ERROR "no libgrid_c.so.<ABI> under ${WORK_DIR}/root/prefix")
  endif()
  file(GLOB capi_header ${WORK_DIR}/root/prefix/include/libgrid/libgrid_c_version.h)
  if(NOT capi_header)
    message(FATAL_ERROR "libgrid/libgrid_c_version.h not installed")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -S ${C_SOURCE_DIR} -B ${WORK_DIR}/build_c
    -DCMAKE_PREFIX_PATH=${WORK_DIR}/root/prefix -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON
    -DCMAKE_DISABLE_FIND_PACKAGE_HDF5=ON --no-warn-unused-cli RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "C consumer configure failed: ${rc}")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build_c -j2 RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "C consumer build failed: ${rc}")
  endif()
  execute_process(COMMAND ${WORK_DIR}/build_c/consumer_c ${CASE} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "${out}${err}")
  if(rc)
    message(FATAL_ERROR "C consumer run failed: ${rc}")
  endif()
  if(NOT out MATCHES "converged in" OR NOT out MATCHES "\"completed\": true" OR NOT out MATCHES "\"losses_mwh\"")
    message(FATAL_ERROR "the C consumer printed no power flow or no summary")
  endif()
endif()
