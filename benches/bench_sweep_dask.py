"""Dask sweep vs serial: 16 variants of the small Melaka grid (4 EV shares x 2 PV shares x 2 seeds),
run one after another in this process, then on a LocalCluster of 2 worker processes (one thread each).
Prints one JSON object: both times, the speed-up, and what bounds it.

    PYTHONPATH=build/python /usr/bin/python3 benches/bench_sweep_dask.py [--days 28] [--workers 2] [--repeat 1]

The horizon is shortened (--days, default 28; --days 365 for a full year): a year-long variant of the
small grid takes about 7 s on an idle core of the 2-core development machine and 13-17 s when the
machine is busy, so 16 of them would take 2-4 minutes serially. The JSON holds the measured cost of one
week and the year estimate (`year_variant_estimate_s`). The whole benchmark takes about 30 s at 28 days.

speedup           = serial_s / dask_s            (cluster already running, as in a Jupyter session)
speedup_cold      = serial_s / dask_cold_s       (dask_cold_s adds starting and closing the cluster)
The tables of both runs must be identical (except the run's own wall time and the output paths):
`identical` says so, and the script exits 1 if they are not. `parallel_capacity_*` (2.0 = both cores
free) and `engine_time_ratio_dask_over_serial` (1.0 = the workers ran as fast as the serial run) tell
whether the machine was shared during the measurement (docs/sweeps.md).
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


_SPIN = "import time\nt = time.perf_counter()\nx = 0\nfor i in range(6_000_000): x += i\nprint(time.perf_counter() - t)"


def parallel_capacity() -> float:
    """How many cores this process can have right now: 2 x (time of one CPU-bound process alone) /
    (time of two at once), measured with a ~0.3 s pure-Python loop. About 2.0 on an idle 2-core
    machine; lower when other users' processes (which may be invisible here) hold the cores."""
    import subprocess

    def spin(n: int) -> float:
        ps = [subprocess.Popen([sys.executable, "-c", _SPIN], stdout=subprocess.PIPE, text=True) for _ in range(n)]
        return max(float(p.communicate()[0]) for p in ps)
    one = min(spin(1) for _ in range(2))
    two = min(spin(2) for _ in range(2))
    return 2.0 * one / two


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", default=str(ROOT / "scenarios" / "melaka_baseline.yaml"), help="base scenario (small grid)")
    ap.add_argument("--days", type=int, default=28, help="horizon of every variant, days (default 28)")
    ap.add_argument("--workers", type=int, default=2, help="local worker processes (default 2)")
    ap.add_argument("--compression", type=int, default=None,
                    help="set outputs.compression (gzip level 0-9) of every variant (default: the base's)")
    ap.add_argument("--repeat", type=int, default=1, help="repeat both runs, keep the fastest of each (default 1)")
    ap.add_argument("--output-dir", default=None,
                    help="where the HDF5 files go and stay (default: a temporary directory, removed at the end)")
    args = ap.parse_args()

    import libgrid
    from libgrid.sweep import variant_grid

    base = libgrid.Scenario.load(args.base)
    base.set("horizon.duration", f"{args.days}d")
    if args.compression is not None:
        base.set("outputs.compression", args.compression)
    counts = base.counts()
    variants = variant_grid(**{"devices.ev.share": [0.0, 0.2, 0.4, 0.6], "devices.pv.share": [0.03, 0.3],
                               "seed": [1, 2]})
    out = pathlib.Path(args.output_dir or tempfile.mkdtemp(prefix="bench_sweep_dask_"))
    out.mkdir(parents=True, exist_ok=True)
    try:
        return run(args, base, counts, variants, out)
    finally:
        if not args.output_dir:  # 16 variants x 2 modes x ~20 MB at 28 days
            shutil.rmtree(out, ignore_errors=True)


def run(args, base, counts, variants, out) -> int:
    import pandas as pd

    import libgrid
    from libgrid.sweep import TIMING_KPIS, start_local_cluster, sweep

    # what a year-long variant would cost: one week of the most loaded variant, scaled
    probe = base.copy().set("horizon.duration", "7d").set("devices.ev.share", 0.6).set("devices.pv.share", 0.3)
    t0 = time.perf_counter()
    probe.run(output=str(out / "probe.h5"))
    week_s = time.perf_counter() - t0

    def comparable(df):
        d = df.drop(columns=list(TIMING_KPIS) + ["output"]).sort_index()
        d["file"] = [os.path.basename(p) if p else None for p in df.sort_index()["output"]]
        return d

    so = libgrid._libgrid.__file__
    so_mtime = os.stat(so).st_mtime
    load_before = os.getloadavg()
    capacity_before = parallel_capacity()
    serial_s, dask_s, cold_s, start_s = [], [], [], []
    serial_engine, dask_engine = [], []  # summed engine time (wall_time_s) of each repeat
    serial_cores, dask_cores = [], []      # CPU time / wall time: cores kept busy by the runs
    cpu_code = "(lambda r: r.ru_utime + r.ru_stime)(__import__('resource').getrusage(__import__('resource').RUSAGE_SELF))"
    serial = dask = None
    for _ in range(args.repeat):
        c0 = eval(cpu_code)
        t0 = time.perf_counter()
        serial = sweep(base, variants, client="serial", output_dir=out / "serial")
        serial_s.append(time.perf_counter() - t0)
        serial_cores.append((eval(cpu_code) - c0) / serial_s[-1])
        serial_engine.append(float(serial["wall_time_s"].sum()))

        t0 = time.perf_counter()
        cluster, client = start_local_cluster(args.workers)
        t1 = time.perf_counter()
        try:
            c0 = sum(client.run(eval, cpu_code).values())
            dask = sweep(base, variants, client=client, output_dir=out / "dask")
            t2 = time.perf_counter()
            dask_cores.append((sum(client.run(eval, cpu_code).values()) - c0) / (t2 - t1))
        finally:
            client.close()
            cluster.close()
        t3 = time.perf_counter()
        start_s.append(t1 - t0)
        dask_engine.append(float(dask["wall_time_s"].sum()))
        dask_s.append(t2 - t1)
        cold_s.append(t3 - t0)
    load_after = os.getloadavg()
    capacity_after = parallel_capacity()

    # the serial runs use the compiled module loaded at start, the workers load it afresh: a rebuild
    # during the benchmark makes the two differ (copy the package elsewhere to benchmark while building)
    module_rebuilt = os.stat(so).st_mtime != so_mtime
    identical = comparable(serial).equals(comparable(dask))
    differences = {}
    if not identical:  # name what differs: column -> [(variant, serial value, dask value), ...]
        a, b = comparable(serial), comparable(dask)
        for col in a.columns:
            neq = [i for i in a.index if not (a.loc[i, col] == b.loc[i, col] or (pd.isna(a.loc[i, col]) and pd.isna(b.loc[i, col])))]
            if neq:
                differences[col] = [(int(i), repr(a.loc[i, col]), repr(b.loc[i, col])) for i in neq[:3]]
    failed = int(serial["error"].notna().sum() + dask["error"].notna().sum())
    # engine time inside the variants (of the fastest repeats): if the sum grows under Dask, the
    # workers were short of CPU
    engine_serial = serial_engine[serial_s.index(min(serial_s))]
    engine_dask = dask_engine[dask_s.index(min(dask_s))]
    report = {
        "variants": len(variants),
        "grid": "small", "buses": counts["buses"], "loads": counts["loads"],
        "horizon_days": args.days, "steps_per_variant": int(serial["steps"].iloc[0]),
        "workers": args.workers, "cpus": os.cpu_count(),
        "serial_s": round(min(serial_s), 3),
        "dask_s": round(min(dask_s), 3),
        "dask_cold_s": round(min(cold_s), 3),
        "cluster_start_s": round(min(start_s), 3),
        "speedup": round(min(serial_s) / min(dask_s), 3),
        "speedup_cold": round(min(serial_s) / min(cold_s), 3),
        "compression": base.to_yaml().split("compression:")[1].split()[0] if "compression:" in base.to_yaml() else None,
        "serial_cores_busy": round(serial_cores[serial_s.index(min(serial_s))], 2),
        "dask_worker_cores_busy": round(dask_cores[dask_s.index(min(dask_s))], 2),
        "engine_time_sum_serial_s": round(engine_serial, 3),
        "engine_time_sum_dask_s": round(engine_dask, 3),
        "engine_time_ratio_dask_over_serial": round(engine_dask / engine_serial, 3) if engine_serial > 0 else None,
        "one_week_variant_s": round(week_s, 3),
        "year_variant_estimate_s": round(week_s * 365 / 7, 1),
        "parallel_capacity_before": round(capacity_before, 2),
        "parallel_capacity_after": round(capacity_after, 2),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "identical": bool(identical),
        "module_rebuilt_during_run": module_rebuilt,
        "differences": differences,
        "failed_variants": failed,
        "repeat": args.repeat,
        "all_serial_s": [round(x, 3) for x in serial_s],
        "all_dask_s": [round(x, 3) for x in dask_s],
    }
    print(json.dumps(report, indent=2))
    return 0 if identical and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
