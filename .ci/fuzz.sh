#!/usr/bin/env bash
# libFuzzer harnesses of tests/fuzz (MATPOWER, network JSON, scenario YAML, HDF5 results, CSV profiles,
# checkpoints),
# built with clang (-DLIBGRID_FUZZ=ON: ASan + UBSan + libFuzzer) in build-fuzz/. docs/reliability.md.
#
#   .ci/fuzz.sh             regression (every seed of tests/fuzz/corpus/<harness>/ once), then a bounded
#                           campaign of FUZZ_SECONDS (60) per harness starting from the seeds
#   .ci/fuzz.sh --regress   the regression only
#   FUZZ_SECONDS=3600 FUZZ_JOBS=2 .ci/fuzz.sh      a longer campaign (see the end of this script)
#   FUZZ_HARNESSES="scenario csv" .ci/fuzz.sh      a subset
#
# Fails on any crash, sanitizer report, timeout (-timeout=10 s per input) or out-of-memory
# (-rss_limit_mb=2048); the input that did it is kept in build-fuzz/artifacts/<harness>/.
# Without clang and libFuzzer it says so and exits 0 (FUZZ_REQUIRED=1: exits 1).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
CXX_BIN="${FUZZ_CXX:-clang++}"
CC_BIN="${FUZZ_CC:-clang}"
SECONDS_EACH="${FUZZ_SECONDS:-60}"
PARALLEL="${FUZZ_PARALLEL:-2}"       # harnesses fuzzed at the same time
JOBS="${FUZZ_JOBS:-1}"               # libFuzzer workers per harness (-fork)
RSS_MB="${FUZZ_RSS_MB:-2048}"
HARNESSES="${FUZZ_HARNESSES:-matpower case_json scenario h5reader csv checkpoint sweep dss cost_catalogue}"
MODE=campaign
case "${1:-}" in
  --regress) MODE=regress ;;
  "") ;;
  *) echo "usage: $0 [--regress]" >&2; exit 2 ;;
esac

# ---- clang with libFuzzer? -------------------------------------------------------------------------
probe_dir="$(mktemp -d)"
trap 'rm -rf "$probe_dir"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' >"$probe_dir/p.cpp"
if ! command -v "$CXX_BIN" >/dev/null 2>&1 ||
   ! "$CXX_BIN" -fsanitize=fuzzer,address,undefined "$probe_dir/p.cpp" -o "$probe_dir/p" >/dev/null 2>&1; then
  echo "== fuzz: SKIPPED: no $CXX_BIN with libFuzzer (Debian: apt-get install clang libclang-rt-14-dev)"
  [ "${FUZZ_REQUIRED:-0}" = "1" ] && exit 1
  exit 0
fi

echo "== fuzz: configuring $BUILD_DIR ($CXX_BIN, libFuzzer + ASan + UBSan)"
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja \
  -DCMAKE_CXX_COMPILER="$CXX_BIN" -DCMAKE_C_COMPILER="$CC_BIN" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DLIBGRID_FUZZ=ON -DLIBGRID_TESTS=OFF -DLIBGRID_BENCHES=OFF -DLIBGRID_PYTHON=OFF >/dev/null
echo "== fuzz: building the harnesses"
targets=""
for h in $HARNESSES; do targets="$targets fuzz_$h"; done
# shellcheck disable=SC2086
cmake --build "$BUILD_DIR" -j2 --target $targets

export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:print_summary=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:report_error_type=1}"
# leaks inside libhdf5 on damaged files are libhdf5's (tests/fuzz/lsan.supp); any other leak fails
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/tests/fuzz/lsan.supp:print_suppressions=0}"
command -v llvm-symbolizer >/dev/null 2>&1 && export ASAN_SYMBOLIZER_PATH="$(command -v llvm-symbolizer)"
rm -rf "$BUILD_DIR/artifacts" "$BUILD_DIR/logs"  # this run's only (the corpus of new inputs is kept)
mkdir -p "$BUILD_DIR/artifacts" "$BUILD_DIR/logs" "$BUILD_DIR/corpus"
COMMON=(-timeout=10 "-rss_limit_mb=$RSS_MB" -print_final_stats=0)
failed=""

# ---- regression: each seed once, in its own process (every failing seed is listed) -----------------
for h in $HARNESSES; do
  bin="$BUILD_DIR/tests/fuzz/fuzz_$h"
  seeds="$ROOT/tests/fuzz/corpus/$h"
  art="$BUILD_DIR/artifacts/$h"
  mkdir -p "$art"
  n=0; bad=0
  for f in "$seeds"/*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    log="$BUILD_DIR/logs/regress_${h}_$(basename "$f").log"
    # the outer timeout is a last resort against a hang libFuzzer's own -timeout does not catch
    if ! timeout 120 "$bin" "${COMMON[@]}" "-artifact_prefix=$art/regress-" "$f" >"$log" 2>&1; then
      bad=$((bad + 1))
      echo "-- fuzz_$h FAILED on seed $(basename "$f") (log: $log):"
      grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error|ALARM|    #[0-9] )" "$log" | head -25 || tail -25 "$log"
    fi
  done
  echo "== fuzz regress: fuzz_$h: $((n - bad)) of $n seeds clean"
  [ "$bad" -eq 0 ] || failed="$failed $h"
done

# ---- bounded campaign ----------------------------------------------------------------------------------
if [ "$MODE" = campaign ]; then
  run_one() {  # harness -> 0 clean, else 1; new inputs go to build-fuzz/corpus/<h>, the seeds stay as they are
    local h="$1" bin="$BUILD_DIR/tests/fuzz/fuzz_$1" art="$BUILD_DIR/artifacts/$1/" log="$BUILD_DIR/logs/campaign_$1.log"
    local extra=()
    [ -f "$ROOT/tests/fuzz/$h.dict" ] && extra+=("-dict=$ROOT/tests/fuzz/$h.dict")
    [ "$JOBS" -gt 1 ] && extra+=("-fork=$JOBS" -ignore_crashes=0)
    mkdir -p "$BUILD_DIR/corpus/$h" "$art"
    "$bin" "${COMMON[@]}" "-max_total_time=$SECONDS_EACH" "-artifact_prefix=$art" "${extra[@]}" \
      "$BUILD_DIR/corpus/$h" "$ROOT/tests/fuzz/corpus/$h" >"$log" 2>&1
  }
  pids=(); names=()
  for h in $HARNESSES; do
    case " $failed " in *" $h "*) echo "== fuzz campaign: fuzz_$h not run (a seed fails, above)"; continue ;; esac
    while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do sleep 1; done
    echo "== fuzz campaign: fuzz_$h for ${SECONDS_EACH} s"
    run_one "$h" & pids+=($!); names+=("$h")
  done
  for i in "${!pids[@]}"; do
    h="${names[$i]}"; log="$BUILD_DIR/logs/campaign_$h.log"
    if wait "${pids[$i]}"; then
      echo "== fuzz campaign: fuzz_$h clean: $(grep -E '^#[0-9]+.*(DONE|pulse)' "$log" | tail -1)"
      # a clean run that left artifacts: written by a forked child (fuzz_h5reader's check_results_file
      # child hitting libFuzzer's malloc limit), contained by the parent; kept for a look, not a failure
      if [ -n "$(ls -A "$BUILD_DIR/artifacts/$h/" 2>/dev/null)" ]; then
        echo "   note: $(ls "$BUILD_DIR/artifacts/$h/" | wc -l) artifact(s) from forked children in $BUILD_DIR/artifacts/$h/" \
             "(contained: the run went on); LIBGRID_FUZZ_H5_DIRECT=1 shows what they do in process"
      fi
    else
      failed="$failed $h"
      echo "-- fuzz_$h FAILED (log: $log); input kept in $BUILD_DIR/artifacts/$h/:"
      ls "$BUILD_DIR/artifacts/$h/" | sed 's/^/     /'
      grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error|ALARM|    #[0-9] )" "$log" | head -25 || tail -25 "$log"
    fi
  done
fi

cat <<EOF2
== fuzz: to reproduce a failure:   $BUILD_DIR/tests/fuzz/fuzz_<harness> $BUILD_DIR/artifacts/<harness>/<crash-file>
== fuzz: a longer campaign:        FUZZ_SECONDS=3600 FUZZ_JOBS=2 FUZZ_PARALLEL=1 .ci/fuzz.sh
        (or: $BUILD_DIR/tests/fuzz/fuzz_<h> -max_total_time=36000 -timeout=10 -rss_limit_mb=2048 \\
             -fork=2 $BUILD_DIR/corpus/<h> tests/fuzz/corpus/<h>)
        then keep what it found:   $BUILD_DIR/tests/fuzz/fuzz_<h> -merge=1 tests/fuzz/corpus/<h> $BUILD_DIR/corpus/<h>
EOF2
if [ -n "$failed" ]; then
  echo "== fuzz: FAILED:$failed"
  exit 1
fi
echo "== fuzz: clean"
