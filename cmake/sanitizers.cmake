# Sanitizer and fuzzing builds (docs/reliability.md). Included by the top-level CMakeLists.txt before
# any target is defined, so the flags apply to every target of the build (library, CLI, tests,
# Python module, fuzz harnesses).
#
#   LIBGRID_SANITIZE=ON  AddressSanitizer + UndefinedBehaviorSanitizer, stop at the first report
#                        (g++ or clang). .ci/sanitize.sh builds with it.
#   LIBGRID_FUZZ=ON      clang only: the library with -fsanitize=fuzzer-no-link,address,undefined and the
#                        libFuzzer harnesses of tests/fuzz (-fsanitize=fuzzer). .ci/fuzz.sh builds with it.
option(LIBGRID_SANITIZE "Build with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(LIBGRID_FUZZ "Build the libFuzzer harnesses of tests/fuzz (clang; implies ASan + UBSan)" OFF)

if(LIBGRID_FUZZ AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "LIBGRID_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++ "
                      "-DCMAKE_C_COMPILER=clang (compiler here: ${CMAKE_CXX_COMPILER_ID})")
endif()

if(LIBGRID_SANITIZE OR LIBGRID_FUZZ)
  set(LIBGRID_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  if(LIBGRID_FUZZ)
    list(APPEND LIBGRID_SANITIZER_FLAGS -fsanitize=fuzzer-no-link)
  endif()
  add_compile_options(${LIBGRID_SANITIZER_FLAGS})
  # The ASan runtime as a shared library, for an uninstrumented /usr/bin/python3 that loads the
  # instrumented module (LD_PRELOAD; tests that start Python use it, as .ci/sanitize.sh does).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    set(_asan_rt_name libasan.so)
  else()
    set(_asan_rt_name libclang_rt.asan-${CMAKE_SYSTEM_PROCESSOR}.so)
  endif()
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=${_asan_rt_name}
                  OUTPUT_VARIABLE LIBGRID_ASAN_RUNTIME OUTPUT_STRIP_TRAILING_WHITESPACE)
  # libstdc++ preloaded after it: else ASan's __cxa_throw interceptor has no real __cxa_throw to call
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} -print-file-name=libstdc++.so.6
                  OUTPUT_VARIABLE _stdcxx_rt OUTPUT_STRIP_TRAILING_WHITESPACE)
  # environment (a CTest ENVIRONMENT list) of a test whose command starts /usr/bin/python3
  set(LIBGRID_SANITIZER_PYTHON_ENV "LD_PRELOAD=${LIBGRID_ASAN_RUNTIME} ${_stdcxx_rt}"
      "ASAN_OPTIONS=halt_on_error=1:detect_leaks=0")
  add_link_options(-fsanitize=address,undefined)
  message(STATUS "libgrid: sanitizers on (${LIBGRID_SANITIZER_FLAGS})")
endif()
