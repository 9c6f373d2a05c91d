#!/usr/bin/env python3
"""Runs the same benches from two builds, alternating old and new, and prints them side by side.

    /usr/bin/python3 benches/side_by_side.py OLD_BENCH_DIR NEW_BENCH_DIR [--rounds 2]

OLD/NEW_BENCH_DIR hold bench_timeseries, bench_city, bench_nr and bench_sweep (for instance a
copy of an old build's benches/ folder and build/benches). Each case is run `rounds` times per
build, old and new alternating so that a loaded machine weighs on both alike; the table gives the
best (minimum) time of each and new/old. Used for docs/performance.md ("Before and after").
"""
import argparse
import json
import os
import subprocess
import sys

CASES = [  # (label, binary, filter, env, metric)
    ("CIGRE LV year, no recording", "bench_timeseries", "BM_CigreLvYear/0/0/0", {}, "real_time"),
    ("CIGRE LV year, HDF5 gzip 1 float32", "bench_timeseries", "BM_CigreLvYear/1/1/1", {}, "real_time"),
    ("district smart-city day, 1 thread", "bench_city", "SmartCity/district/day/1", {"LIBGRID_CITY_SIZE": "district"}, "real_time"),
    ("district smart-city day, 2 threads", "bench_city", "SmartCity/district/day/2", {"LIBGRID_CITY_SIZE": "district"}, "real_time"),
    ("NR case2869pegase, KLU (solve)", "bench_nr", "NR/case2869pegase/klu$", {}, "real_time"),
    ("NR case2869pegase, KLU (setup)", "bench_nr", "Setup/case2869pegase/klu$", {}, "real_time"),
    ("sweep 10k buses (11 kV)", "bench_sweep", "BM_Sweep/mv11kV/10000/", {}, "real_time"),
    ("sweep setup 10k buses", "bench_sweep", "BM_SweepSetup/10000", {}, "real_time"),
]


def run(directory, binary, flt, env):
    e = dict(os.environ, **env)
    out = subprocess.run([os.path.join(directory, binary), f"--benchmark_filter={flt}", "--benchmark_format=json",
                          ], capture_output=True, text=True, env=e, check=True).stdout
    benches = json.loads(out)["benchmarks"]
    rows = [b for b in benches if b.get("run_type", "iteration") == "iteration"]
    rows = rows or [b for b in benches if b.get("aggregate_name") == "median"]  # ReportAggregatesOnly cases
    if not rows:
        raise SystemExit(f"{binary} {flt}: no benchmark ran")
    b = rows[0]
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
    return b["real_time"] * scale


def fmt(s):
    return f"{s * 1e3:10.3f} ms" if s < 10 else f"{s:10.2f} s "


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    print(f"| case | old ({a.old}) | new ({a.new}) | new / old |")
    print("|---|---:|---:|---:|")
    for label, binary, flt, env, _ in CASES:
        old, new = [], []
        for _ in range(a.rounds):
            old.append(run(a.old, binary, flt, env))
            new.append(run(a.new, binary, flt, env))
        o, n = min(old), min(new)
        print(f"| {label} | {fmt(o)} | {fmt(n)} | {n / o:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
