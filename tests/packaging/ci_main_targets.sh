#!/usr/bin/env bash
# CTest ci_main_builds_only_the_cli: ./.ci/main.sh builds only what the main job runs (the
# `libgrid` command line), not the tests, benchmarks or the Python module.
#   ci_main_targets.sh CMAKE WORK_DIR
# main.sh runs for real (setup.sh: packages, configure of a fresh build dir WORK_DIR/build), with
# `cmake` on PATH a wrapper that records `cmake --build` instead of building; a stand-in
# WORK_DIR/build/libgrid takes the scenario run. `ninja -t commands` then lists every command that
# build would run from scratch.
set -euo pipefail
CMAKE="$(command -v "$1")"  # a path: the wrapper below is `cmake` on PATH
WORK="$2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
rm -rf "$WORK"
mkdir -p "$WORK/bin" "$WORK/build"
cat > "$WORK/bin/cmake" <<WRAP
#!/usr/bin/env bash
if [ "\${1:-}" = "--build" ]; then echo "\$*" > "$WORK/build_command"; exit 0; fi
exec "$CMAKE" "\$@"
WRAP
printf '#!/bin/sh\necho "stand-in libgrid $*"\n' > "$WORK/build/libgrid"
chmod +x "$WORK/bin/cmake" "$WORK/build/libgrid"

env -u LIBGRID_BUILD_TARGETS PATH="$WORK/bin:$PATH" BUILD_DIR="$WORK/build" "$ROOT/.ci/main.sh" > "$WORK/main.log" 2>&1 ||
  { cat "$WORK/main.log"; echo "FAIL: .ci/main.sh failed"; exit 1; }
[ -f "$WORK/build_command" ] || { cat "$WORK/main.log"; echo "FAIL: main.sh never ran cmake --build"; exit 1; }
echo "main.sh ran: cmake $(cat "$WORK/build_command")"

# The targets of that command (none: `all`), and the commands ninja runs for them.
read -r -a args < "$WORK/build_command"
targets=()
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --target|-t) i=$((i + 1)); while ((i < ${#args[@]})) && [[ "${args[$i]}" != -* ]]; do targets+=("${args[$i]}"); i=$((i + 1)); done; i=$((i - 1)) ;;
    --target=*) targets+=("${args[$i]#--target=}") ;;
  esac
done
((${#targets[@]})) || targets=(all)
echo "targets: ${targets[*]}"
ninja -C "$WORK/build" -t commands "${targets[@]}" > "$WORK/plan.txt"
grep -E -- '-o libgrid( |$)' "$WORK/plan.txt" >/dev/null ||
  { cat "$WORK/plan.txt"; echo "FAIL: the plan does not link the libgrid command line"; exit 1; }
extra="$(grep -E 'libgrid_tests|benches/|_libgrid|bindings/|tests/fuzz' "$WORK/plan.txt" || true)"
if [ -n "$extra" ]; then
  printf '%s\n' "$extra" | head -n 5 | cut -c1-300
  echo "FAIL: main.sh builds more than the command line ($(printf '%s\n' "$extra" | wc -l) commands for tests, benchmarks or the Python module; the first above)"
  exit 1
fi
echo "OK: main.sh runs $(wc -l < "$WORK/plan.txt") commands, for the command line only"
