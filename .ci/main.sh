#!/usr/bin/env bash
# The main job: install what is missing, build, run the Melaka smart-city scenario (a year at
# 15 minutes on the small grid), write its HDF5 results to out/ and print its KPI table.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIBGRID_BUILD_TARGETS="libgrid_cli"  # the command line only: no tests, benchmarks or Python module
source "$ROOT/.ci/setup.sh"
mkdir -p "$ROOT/out"
"$BUILD_DIR/libgrid" run "$ROOT/scenarios/melaka_smart_city.yaml" -o "$ROOT/out/melaka_smart_city.h5" "$@"
echo "results: $ROOT/out/melaka_smart_city.h5  (libgrid info / libgrid compare / libgrid.read_results)"
