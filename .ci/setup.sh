#!/usr/bin/env bash
# Installs what is missing (Debian 12, as root; idempotent), configures against /usr/bin/python3
# and builds. Sourced by .ci/main.sh and .ci/test.sh. BUILD_DIR overrides the build folder;
# LIBGRID_BUILD_TARGETS names the targets to build (empty: all; .ci/main.sh: libgrid_cli only).
# python3-flask: `libgrid portal` (docs/portal.md); python3-selenium, chromium, chromium-driver: its
# headless-browser test (tests/python/test_portal.py).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
PKGS="g++ cmake make ninja-build pkg-config libeigen3-dev libboost-graph-dev libhdf5-dev
  pybind11-dev python3-pybind11 doctest-dev libsuitesparse-dev libyaml-cpp-dev nlohmann-json3-dev
  libcli11-dev libfmt-dev libbenchmark-dev python3 python3-numpy python3-h5py python3-pandas
  python3-matplotlib python3-pytest python3-nbclient python3-nbformat python3-ipykernel
  python3-distributed python3-yaml python3-scipy python3-pip python3-venv clang libclang-rt-14-dev
  python3-flask python3-selenium chromium chromium-driver"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "== installing:$missing"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 $missing
fi
echo "== configuring $BUILD_DIR (Python: /usr/bin/python3)"
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPYTHON_EXECUTABLE=/usr/bin/python3 >/dev/null
if [ -n "${LIBGRID_BUILD_TARGETS:-}" ]; then
  echo "== building $LIBGRID_BUILD_TARGETS"
  # shellcheck disable=SC2086  # a list of target names
  cmake --build "$BUILD_DIR" -j2 --target $LIBGRID_BUILD_TARGETS
else
  echo "== building"
  cmake --build "$BUILD_DIR" -j2
fi
