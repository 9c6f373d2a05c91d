# FindKLU: SuiteSparse's KLU sparse LU and the libraries it calls (AMD, COLAMD, BTF,
# SuiteSparse_config). Debian 12's libsuitesparse-dev (SuiteSparse 5) ships no CMake package, so
# libgrid finds KLU with this module, both when it is built and, installed next to
# libgridConfig.cmake, when a consumer calls find_package(libgrid).
#
# Result: KLU_FOUND, KLU_INCLUDE_DIRS, KLU_LIBRARIES and the imported target KLU::KLU (which links
# KLU::BTF, KLU::AMD, KLU::COLAMD and KLU::SuiteSparseConfig). Hints: KLU_ROOT or CMAKE_PREFIX_PATH;
# the cache entries KLU_INCLUDE_DIR, KLU_LIBRARY, BTF_LIBRARY, AMD_LIBRARY, COLAMD_LIBRARY and
# SSCONFIG_LIBRARY override the search.
include(FindPackageHandleStandardArgs)

find_path(KLU_INCLUDE_DIR klu.h PATH_SUFFIXES suitesparse)
find_library(KLU_LIBRARY klu)
find_library(BTF_LIBRARY btf)
find_library(AMD_LIBRARY amd)
find_library(COLAMD_LIBRARY colamd)
find_library(SSCONFIG_LIBRARY suitesparseconfig)
mark_as_advanced(KLU_INCLUDE_DIR KLU_LIBRARY BTF_LIBRARY AMD_LIBRARY COLAMD_LIBRARY SSCONFIG_LIBRARY)

find_package_handle_standard_args(KLU
  REQUIRED_VARS KLU_LIBRARY KLU_INCLUDE_DIR BTF_LIBRARY AMD_LIBRARY COLAMD_LIBRARY SSCONFIG_LIBRARY)

if(KLU_FOUND)
  set(KLU_INCLUDE_DIRS ${KLU_INCLUDE_DIR})
  set(KLU_LIBRARIES ${KLU_LIBRARY} ${BTF_LIBRARY} ${AMD_LIBRARY} ${COLAMD_LIBRARY} ${SSCONFIG_LIBRARY})
  foreach(_klu_part IN ITEMS SuiteSparseConfig:SSCONFIG AMD:AMD COLAMD:COLAMD BTF:BTF)
    string(REPLACE ":" ";" _klu_part "${_klu_part}")
    list(GET _klu_part 0 _klu_name)
    list(GET _klu_part 1 _klu_var)
    if(NOT TARGET KLU::${_klu_name})
      add_library(KLU::${_klu_name} UNKNOWN IMPORTED)
      set_target_properties(KLU::${_klu_name} PROPERTIES
        IMPORTED_LOCATION "${${_klu_var}_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${KLU_INCLUDE_DIR}")
    endif()
  endforeach()
  if(NOT TARGET KLU::KLU)
    add_library(KLU::KLU UNKNOWN IMPORTED)
    set_target_properties(KLU::KLU PROPERTIES
      IMPORTED_LOCATION "${KLU_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${KLU_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "KLU::BTF;KLU::AMD;KLU::COLAMD;KLU::SuiteSparseConfig")
  endif()
  unset(_klu_part)
  unset(_klu_name)
  unset(_klu_var)
endif()
