#!/usr/bin/env bash
# Every test: install, build, then C++ doctest through CTest, pytest, and the notebooks.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/.ci/setup.sh"
echo "== ctest"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2
echo "== pytest (tests/python, notebooks)"
cd "$ROOT"
PYTHONPATH="$BUILD_DIR/python" LIBGRID_BUILD_DIR="$BUILD_DIR" PYDEVD_DISABLE_FILE_VALIDATION=1 \
  /usr/bin/python3 -m pytest -q tests/python
