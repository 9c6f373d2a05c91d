#!/bin/sh
# Compares every results file of two run_cases.sh sets, bit for bit except run timings.
#   tests/regression/check.sh OLD_DIR NEW_DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
py=${PYTHON:-/usr/bin/python3}
fail=0; n=0
for a in "$1"/*.h5; do
    b="$2/$(basename "$a")"
    n=$((n + 1))
    if [ ! -f "$b" ]; then echo "MISSING $b"; fail=$((fail + 1)); continue; fi
    "$py" "$here/compare_h5.py" "$a" "$b" || fail=$((fail + 1))
done
echo "$n files compared, $fail differ"
[ "$fail" -eq 0 ]
