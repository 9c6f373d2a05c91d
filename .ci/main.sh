#!/usr/bin/env bash
# The main job: install, build, run the Melaka smart-city scenario, print its KPIs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/.ci/setup.sh"
mkdir -p "$ROOT/out"
if [ -f "$ROOT/scenarios/melaka_smart_city.yaml" ] && "$BUILD_DIR/libgrid" run --help >/dev/null 2>&1; then
  "$BUILD_DIR/libgrid" run "$ROOT/scenarios/melaka_smart_city.yaml" -o "$ROOT/out/melaka_smart_city.h5"
else
  "$BUILD_DIR/libgrid" pf "$ROOT/tests/data/matpower/case118.m"
fi
