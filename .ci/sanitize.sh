#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer: builds the library, the CLI, the C++ tests and the
# Python module with -DLIBGRID_SANITIZE=ON (cmake/sanitizers.cmake) in build-asan/, then runs the C++
# tests through CTest and the Python tests with the ASan runtime preloaded into /usr/bin/python3.
# Any report stops the test that made it and fails this script. docs/reliability.md says more.
#
#   SAN_BUILD_DIR  build folder (default build-asan)      SAN_CXX / SAN_CC  compilers (default g++ / gcc)
#   SAN_PYTHON=0   skip the Python tests
# Needs the packages of .ci/setup.sh (run by .ci/test.sh before this in .ci/run).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${SAN_BUILD_DIR:-$ROOT/build-asan}"
CXX_BIN="${SAN_CXX:-g++}"
CC_BIN="${SAN_CC:-gcc}"

echo "== sanitize: configuring $BUILD_DIR ($CXX_BIN, ASan + UBSan, -O1)"
# -O1 -g1: fast enough to build and run, line tables for the reports; assertions stay on (no NDEBUG).
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_CXX_COMPILER="$CXX_BIN" -DCMAKE_C_COMPILER="$CC_BIN" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DLIBGRID_SANITIZE=ON -DLIBGRID_TESTS=ON -DLIBGRID_BENCHES=OFF -DLIBGRID_PYTHON=ON \
  -DPYTHON_EXECUTABLE=/usr/bin/python3 >/dev/null

echo "== sanitize: building library, CLI, C++ tests, Python module"
cmake --build "$BUILD_DIR" -j2 --target libgrid_tests libgrid_cli _libgrid

# halt_on_error + -fno-sanitize-recover=all: the first report ends the process with a failure.
# detect_leaks=1: LeakSanitizer works here (it does not under ptrace, e.g. gdb/strace: then set
# ASAN_OPTIONS yourself with detect_leaks=0).
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:strict_string_checks=1:print_summary=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:report_error_type=1"

echo "== sanitize: ctest (C++ doctest + CLI end to end)"
# install_and_consume builds an out-of-tree consumer against the installed static library: with
# ASan objects in it the consumer would need the sanitizer flags too; it tests packaging, which the
# normal run of .ci/test.sh covers.
EXCLUDE='^install_and_consume$'
if "$CXX_BIN" --version 2>/dev/null | grep -qi clang; then
  # clang links ASan statically into executables: a CLI that starts /usr/bin/python3 (libgrid sweep),
  # and Python itself, would need the shared runtime (-shared-libasan) instead. Supported with g++.
  echo "== sanitize: $CXX_BIN: the Python parts (pytest, cli_guard_sweep_steps_shortcut) need g++; not run"
  EXCLUDE='^(install_and_consume|cli_guard_sweep_steps_shortcut)$'
  SAN_PYTHON=0
fi
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 -E "$EXCLUDE"

if [ "${SAN_PYTHON:-1}" != "0" ]; then
  # /usr/bin/python3 is not instrumented: the ASan runtime must be the first library loaded, so it is
  # preloaded, and libstdc++ with it (else ASan's __cxa_throw interceptor finds no real __cxa_throw
  # and the first C++ exception thrown by the module aborts: "CHECK failed: asan_interceptors.cpp").
  # Python's own allocations are never freed at exit (interned objects, caches): leak detection is
  # off for the interpreter; ASan and UBSan still check every access of the module. pytest captures
  # file descriptor 2, so reports go to files (log_path) that are printed on a failure.
  ASAN_RT="$("$CXX_BIN" -print-file-name=libasan.so)"
  STDCXX_RT="$("$CXX_BIN" -print-file-name=libstdc++.so.6)"
  LOGS="$BUILD_DIR/sanitizer-logs"
  rm -rf "$LOGS" && mkdir -p "$LOGS"
  echo "== sanitize: pytest (tests/python) with LD_PRELOAD=$ASAN_RT $STDCXX_RT"
  cd "$ROOT"
  if ! LD_PRELOAD="$ASAN_RT $STDCXX_RT" \
      ASAN_OPTIONS="halt_on_error=1:detect_leaks=0:print_summary=1:log_path=$LOGS/asan" \
      UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:report_error_type=1:log_path=$LOGS/ubsan" \
      PYTHONPATH="$BUILD_DIR/python" LIBGRID_BUILD_DIR="$BUILD_DIR" PYDEVD_DISABLE_FILE_VALIDATION=1 \
      /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/python; then
    echo "== sanitize: pytest FAILED; sanitizer reports ($LOGS):"
    for f in "$LOGS"/*; do [ -f "$f" ] && { echo "-- $f"; cat "$f"; }; done
    exit 1
  fi
  if [ -n "$(ls -A "$LOGS")" ]; then  # a report from a child process whose failure was not noticed
    echo "== sanitize: sanitizer reports from the Python run ($LOGS):"
    for f in "$LOGS"/*; do echo "-- $f"; cat "$f"; done
    exit 1
  fi
fi
echo "== sanitize: clean"
