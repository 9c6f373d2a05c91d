#!/usr/bin/env bash
# Every test: install, build, then C++ doctest through CTest, pytest, and the notebooks. pytest and
# the notebooks run against the package pip installs into $BUILD_DIR/venv (a virtual environment
# made with --system-site-packages: Debian's numpy, pandas, ...), not against the build tree.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIBGRID_BUILD_TARGETS=""  # everything
source "$ROOT/.ci/setup.sh"
echo "== ctest"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2
VENV="$BUILD_DIR/venv"
echo "== installing the Python package into $VENV (pip, from this checkout, offline)"
"$VENV/bin/python" -c "" 2>/dev/null || { rm -rf "$VENV"; /usr/bin/python3 -m venv --system-site-packages "$VENV"; }
# LIBGRID_CMAKE_BUILD_DIR: the build backend packages the extension built above (no second build).
LIBGRID_CMAKE_BUILD_DIR="$BUILD_DIR" PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
  "$VENV/bin/python" -m pip install -q --no-build-isolation --force-reinstall --no-deps "$ROOT"
echo "== pytest (tests/python, notebooks) against the installed package"
cd "$ROOT"
env -u PYTHONPATH LIBGRID_TEST_INSTALLED=1 LIBGRID_BUILD_DIR="$BUILD_DIR" PYDEVD_DISABLE_FILE_VALIDATION=1 \
  "$VENV/bin/python" -m pytest -q tests/python
