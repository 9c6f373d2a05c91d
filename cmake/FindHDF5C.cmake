# FindHDF5C: HDF5's C library alone, for the consumers of the installed libgrid package.
#
# libgrid links HDF5's C library privately; being a static library, its consumers link it too, so
# libgridConfig.cmake must find it. CMake's FindHDF5 cannot do that in a project without the C
# language (`project(app CXX)`): it try-compiles a .c file. This module only looks for the header and
# the library (Debian puts both under hdf5/serial), so a C++-only consumer needs nothing else.
#
# Result: HDF5C_FOUND, HDF5C_VERSION, HDF5C_INCLUDE_DIRS, HDF5C_LIBRARIES and the imported target
# hdf5::hdf5 (the name CMake's FindHDF5 gives the same library, which is the name libgrid's exported
# target uses) unless that target exists already. Hints: HDF5C_ROOT or CMAKE_PREFIX_PATH; the cache
# entries HDF5C_INCLUDE_DIR and HDF5C_LIBRARY override the search.
include(FindPackageHandleStandardArgs)

find_path(HDF5C_INCLUDE_DIR hdf5.h PATH_SUFFIXES hdf5/serial hdf5)
find_library(HDF5C_LIBRARY NAMES hdf5 hdf5_serial PATH_SUFFIXES hdf5/serial)
mark_as_advanced(HDF5C_INCLUDE_DIR HDF5C_LIBRARY)

unset(HDF5C_VERSION)
if(HDF5C_INCLUDE_DIR AND EXISTS "${HDF5C_INCLUDE_DIR}/H5public.h")
  file(STRINGS "${HDF5C_INCLUDE_DIR}/H5public.h" _hdf5c_vers REGEX "^#define H5_VERS_(MAJOR|MINOR|RELEASE)[ \t]+[0-9]+")
  foreach(_hdf5c_part IN ITEMS MAJOR MINOR RELEASE)
    string(REGEX MATCH "H5_VERS_${_hdf5c_part}[ \t]+([0-9]+)" _hdf5c_match "${_hdf5c_vers}")
    set(_hdf5c_${_hdf5c_part} "${CMAKE_MATCH_1}")
  endforeach()
  if(NOT "${_hdf5c_MAJOR}" STREQUAL "" AND NOT "${_hdf5c_MINOR}" STREQUAL "" AND NOT "${_hdf5c_RELEASE}" STREQUAL "")
    set(HDF5C_VERSION "${_hdf5c_MAJOR}.${_hdf5c_MINOR}.${_hdf5c_RELEASE}")
  endif()
  unset(_hdf5c_vers)
  unset(_hdf5c_part)
  unset(_hdf5c_match)
  unset(_hdf5c_MAJOR)
  unset(_hdf5c_MINOR)
  unset(_hdf5c_RELEASE)
endif()

find_package_handle_standard_args(HDF5C
  REQUIRED_VARS HDF5C_LIBRARY HDF5C_INCLUDE_DIR
  VERSION_VAR HDF5C_VERSION)

if(HDF5C_FOUND)
  set(HDF5C_INCLUDE_DIRS ${HDF5C_INCLUDE_DIR})
  set(HDF5C_LIBRARIES ${HDF5C_LIBRARY})
  if(NOT TARGET hdf5::hdf5)
    add_library(hdf5::hdf5 UNKNOWN IMPORTED)
    set_target_properties(hdf5::hdf5 PROPERTIES
      IMPORTED_LOCATION "${HDF5C_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${HDF5C_INCLUDE_DIR}")
  endif()
endif()
