"""Parameter sweeps: run variants of a scenario, serially or on a Dask cluster, get one KPI table.

    >>> import libgrid
    >>> from libgrid.sweep import sweep, variant_grid
    >>> base = libgrid.Scenario.load("scenarios/melaka_smart_city.yaml").override(steps=96)
    >>> variants = variant_grid(**{"devices.ev.share": [0.0, 0.3], "seed": [1, 2]})   # 4 dicts
    >>> table = sweep(base, variants, output_dir="out")   # 2-worker LocalCluster on 127.0.0.1
    >>> table[["devices.ev.share", "seed", "peak_import_mw", "error"]]

`client` chooses where the variants run:
  * None: a `distributed.LocalCluster` of `workers` processes (one thread each) on 127.0.0.1, started
    for this sweep and closed after it;
  * a `distributed.Client`: that cluster (left open); a string "tcp://host:port": a client is
    connected to that scheduler for the sweep and closed after it;
  * "serial": in this process, one variant after another; "threads": in this process, `workers`
    variants at a time on threads (the C++ run_batch, GIL released, Ctrl-C stops them).

In-process variants are run by the C++ library itself (`_libgrid.run_sweep`: the scenario reader sets
the variant's keys, run_batch builds and runs them), and their KPIs come from the summaries the runs
return, not from reading the results files back (the files are still written). A Dask worker runs its
variant through the same C++ path (`_libgrid.run_batch`), so the table is the same whichever way it ran.

The table is the same whichever way it ran (one row per variant, indexed by the variant id 0..n-1,
the variant's keys, then every scalar KPI of the results' /summary group, then `output` and `error`),
except the column `wall_time_s` (the run's own wall time, see TIMING_KPIS), and `output` when the
output directories differ. A failing variant does not stop the sweep: its row keeps NaN KPIs and the
error message.

Command line (also `libgrid sweep ...`):

    /usr/bin/python3 -m libgrid.sweep scenarios/sweep_ev_pv.yaml --workers 2 [--scheduler ADDRESS]
        [--output-dir DIR] [--serial | --threads]

prints the table and writes it to <output dir>/sweep.csv (`libgrid sweep` does the same in C++ without
Python, except for --scheduler). Exit status 0 when every variant ran, 1 when
the sweep file is bad or a variant failed, 2 on bad usage. Sweep files: docs/sweeps.md.
"""
from __future__ import annotations

import argparse
import itertools
import math
import os
import sys
import tempfile
import time
import types
import uuid
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _libgrid
from .scenario import _SHORTCUTS, Scenario, _yaml_value

__all__ = ["sweep", "variant_grid", "run_sweep_file", "load_sweep_file", "start_local_cluster", "SweepFile",
           "SweepFileError", "SweepVariantError", "validate_variants", "TIMING_KPIS", "main"]

#: KPIs of /summary that measure the run rather than the grid: they differ from run to run.
TIMING_KPIS = ("wall_time_s",)

#: The variant keys that are not scenario keys (see Scenario.override).
SHORTCUTS = dict(_SHORTCUTS)

Variant = Mapping[str, Any]


# ---- variants ----------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    """numpy scalars and arrays as plain Python (so they print, compare and pickle the same)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def variant_grid(**axes: Iterable[Any]) -> List[Dict[str, Any]]:
    """The cartesian product of the axes, the last axis varying fastest:

        variant_grid(seed=[1, 2], steps=[96])  ->  [{"seed": 1, "steps": 96}, {"seed": 2, "steps": 96}]

    Dotted keys need the ** form: variant_grid(**{"devices.ev.share": [0, 0.5], "seed": [1, 2]})."""
    values = []
    for key, axis in axes.items():
        if isinstance(axis, (str, bytes)) or not isinstance(axis, Iterable):
            raise TypeError(f"variant_grid: axis '{key}' must be a list of values, got {axis!r}")
        axis = [_plain(v) for v in axis]
        if not axis:
            raise ValueError(f"variant_grid: axis '{key}' is empty")
        values.append(axis)
    return [dict(zip(axes.keys(), combo)) for combo in itertools.product(*values)]


class SweepVariantError(ValueError):
    """A variant that cannot run (an unknown key, a bad value, two keys for one setting), found
    before any variant ran; the message names the variant and the key."""


def _check_variants(variants: Union[Variant, Iterable[Variant]]) -> List[Dict[str, Any]]:
    """The variants as plain dicts keyed by the scenario keys they set: shortcuts written out
    (steps -> horizon.steps, size -> network.size), so a key column never clashes with a KPI
    (`steps` is also the KPI /summary/steps)."""
    if isinstance(variants, Mapping):
        variants = [variants]
    out = []
    for i, v in enumerate(variants):
        if not isinstance(v, Mapping):
            raise TypeError(f"variant {i}: expected a dict of scenario keys, got {type(v).__name__}")
        d: Dict[str, Any] = {}
        given: Dict[str, str] = {}
        for k, x in v.items():
            if not isinstance(k, str) or not k:
                raise TypeError(f"variant {i}: keys must be non-empty strings, got {k!r}")
            key = SHORTCUTS.get(k, k)
            if key in d:
                raise SweepVariantError(f"variant {i}: keys '{given[key]}' and '{k}' both set the scenario key '{key}'")
            d[key] = _plain(x)
            given[key] = k
        out.append(d)
    return out


def _variant_scenario(base_yaml: str, base_file: str, variant: Dict[str, Any]) -> Scenario:
    """The base scenario with the variant's keys set (what a worker runs)."""
    sc = Scenario.parse(base_yaml, base_file)
    # A sweep runs its variants side by side, one core each: compress inline, not on the results
    # writer's own threads (same bytes either way). A variant may still set it.
    sc.set("outputs.compression_threads", 0)
    for key, value in variant.items():
        sc.set(SHORTCUTS.get(key, key), value)
    return sc


def validate_variants(base: Union[Scenario, str, os.PathLike], variants: Union[Variant, Iterable[Variant]]) -> List[Dict[str, Any]]:
    """Checks every variant before anything runs: each key is a scenario key (or a shortcut), each
    value valid there, and no two keys set the same setting. Raises SweepVariantError naming the
    first bad variant and key ("variant 3: key 'devices.ev.shar': ..."); returns the variants as
    sweep() runs them (shortcuts written out). Building the network is left to the run: a variant
    that parses but does not fit its network (e.g. more charging sites than the grid has) still
    gets an error row."""
    variants = _check_variants(variants)
    if isinstance(base, (str, os.PathLike)):
        base = Scenario.load(base)
    base_yaml, base_file = base.to_yaml(), base._core.path or "<string>"
    for i, v in enumerate(variants):
        sc = _variant_scenario(base_yaml, base_file, {})
        for key, value in v.items():  # one at a time: each set re-validates the whole scenario
            try:
                sc.set(key, value)
            except Exception as e:  # noqa: BLE001 - re-raised naming the variant and the key
                raise SweepVariantError(f"variant {i}: key '{key}' = {value!r}: {type(e).__name__}: {e}") from e
    return variants


# ---- one variant (runs on a worker) ------------------------------------------------------------

def _row(variant_id: int, r: Dict[str, Any], output: Optional[str]) -> Dict[str, Any]:
    """A table row from a row of _libgrid.run_batch / run_sweep: KPIs from the returned summary."""
    ok = bool(r["ok"])
    return {"id": variant_id, "kpis": dict(r["kpis"]), "units": dict(r["units"]), "output": output if ok else None,
            "error": None if ok else r["error"]}


def _run_variant(base_yaml: str, base_file: str, variant_id: int, variant: Dict[str, Any],
                 output: str) -> Dict[str, Any]:
    """Build the base scenario from its YAML, apply the variant, run it into `output` (a Dask task;
    the C++ run_batch builds and runs it, as in-process sweeps do). Never raises: a failure comes
    back as {"error": "<message>"}."""
    try:
        sc = _variant_scenario(base_yaml, base_file, variant)
        directory = os.path.dirname(output)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if os.path.exists(output):
            os.remove(output)  # never report a stale file from an earlier sweep
        [r] = _libgrid.run_batch([(sc._core, output)], 1)
        return _row(variant_id, r, output)
    except Exception as e:  # noqa: BLE001 - a failing variant must not kill the sweep
        return {"id": variant_id, "kpis": {}, "units": {}, "output": None, "error": f"{type(e).__name__}: {e}"}


def _failed(variant_id: int, error: BaseException) -> Dict[str, Any]:
    """A row for a task Dask could not finish (e.g. its worker died, KilledWorker)."""
    return {"id": variant_id, "kpis": {}, "units": {}, "output": None, "error": f"{type(error).__name__}: {error}"}


# ---- the table ---------------------------------------------------------------------------------

def _table(variants: List[Dict[str, Any]], rows: List[Dict[str, Any]]) -> pd.DataFrame:
    """One row per variant (index `variant`): variant keys, KPIs, output, error. Built from plain
    Python values in a fixed order, so it does not depend on where or in which order tasks ran."""
    rows = sorted(rows, key=lambda r: r["id"])
    key_cols: List[str] = []
    for v in variants:
        key_cols += [k for k in v if k not in key_cols]
    kpi_cols: List[str] = []
    units: Dict[str, str] = {}
    for r in rows:
        kpi_cols += [k for k in r["kpis"] if k not in kpi_cols]
        for k, u in r["units"].items():
            units.setdefault(k, u)
    # Key columns are scenario keys (shortcuts written out, _check_variants), KPI columns /summary
    # names: they cannot clash today. Should a KPI ever share a scenario key's name, its column is
    # "summary.<name>" rather than losing the table after every variant ran.
    kpi_name = {k: (f"summary.{k}" if k in key_cols or k in ("output", "error") else k) for k in kpi_cols}
    data: Dict[str, list] = {}
    for k in key_cols:
        data[k] = [v.get(k, None) for v in variants]
    for k in kpi_cols:
        data[kpi_name[k]] = [float(r["kpis"].get(k, math.nan)) for r in rows]
    data["output"] = [r["output"] for r in rows]
    data["error"] = [r["error"] for r in rows]
    index = pd.RangeIndex(len(variants), name="variant")
    df = pd.DataFrame(data, index=index, columns=key_cols + [kpi_name[k] for k in kpi_cols] + ["output", "error"])
    for k in key_cols:  # whole numbers stay whole where some variants lack the key (seed 1, not 1.0)
        given = [x for x in data[k] if x is not None]
        if len(given) < len(variants) and given and all(isinstance(x, int) and not isinstance(x, bool) for x in given):
            df[k] = pd.array(data[k], dtype="Int64")
    df.attrs["units"] = {kpi_name[k]: units.get(k, "") for k in kpi_cols}
    return df


# ---- where the variants run --------------------------------------------------------------------

def _package_parent() -> str:
    """The directory holding the `libgrid` package (what workers need on sys.path)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _worker_env() -> Dict[str, str]:
    parent = _package_parent()
    path = os.environ.get("PYTHONPATH", "")
    parts = [p for p in path.split(os.pathsep) if p]
    if parent not in parts:
        parts.insert(0, parent)
    # one thread per worker process: the workers are the parallelism
    return {"PYTHONPATH": os.pathsep.join(parts), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1"}


def _make_importable(client) -> None:
    """Put libgrid's parent directory on every worker's sys.path (a no-op where it is already
    importable) and import libgrid.sweep there, so the first task does not pay for the imports.
    `exec` is a builtin, so this ships without needing libgrid on the worker. A worker that still
    cannot import libgrid is left alone: its tasks then fail with the import error."""
    code = ("import sys\n"
            f"p = {_package_parent()!r}\n"
            "if p not in sys.path:\n"
            "    sys.path.insert(0, p)\n"
            "try:\n"
            "    import libgrid.sweep\n"
            "except Exception:\n"
            "    pass\n")
    client.run(exec, code)


#: Dask settings of the LocalClusters sweep() starts (see start_local_cluster).
_QUIET_CLUSTER = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}


def start_local_cluster(workers: int = 2, **kwargs):
    """A LocalCluster of `workers` processes with one thread each on 127.0.0.1, no dashboard,
    workers able to import libgrid (and with libgrid imported). Returns (cluster, client); close
    both (client first). `kwargs` go to LocalCluster.

    Tuned for a few long, single-threaded C++ tasks on a machine with no core to spare (measured on
    2 cores, 16 variants of 0.5 s: speed-up 1.75 -> 1.8 for the last three, 1.6 -> 1.75 for the first):
    - the workers keep glibc's default malloc settings: Dask's Nanny normally starts them with
      MALLOC_TRIM_THRESHOLD_=65536 (distributed.nanny.pre-spawn-environ), which made the engine
      about 10 % slower (memory returned to and fetched from the OS again and again);
    - no statistical profiler in the workers (distributed.worker.profile.enabled; it samples the
      task thread every 10 ms for the dashboard, and there is no dashboard);
    - event-loop ticks every 500 ms instead of 20 ms, memory checks every 1 s instead of 100 ms,
      system statistics every 2 s instead of 500 ms (distributed.admin.tick.interval,
      distributed.worker.memory.monitor-interval, distributed.admin.system-monitor.interval)."""
    import logging

    import dask
    from distributed import Client, LocalCluster
    if workers < 1:
        raise ValueError(f"workers: expected at least 1, got {workers}")
    options = dict(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                   dashboard_address=None, env=_worker_env(), silence_logs=logging.ERROR)
    options.update(kwargs)
    pre_spawn = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    dask_trim = pre_spawn.pop("MALLOC_TRIM_THRESHOLD_", None)
    # an earlier Nanny in this process leaves its value in os.environ, which workers would inherit
    inherited = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    if inherited is not None and dask_trim is not None and inherited == str(dask_trim):
        del os.environ["MALLOC_TRIM_THRESHOLD_"]
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": pre_spawn, **_QUIET_CLUSTER}):
            cluster = LocalCluster(**options)
    finally:
        if inherited is not None:
            os.environ["MALLOC_TRIM_THRESHOLD_"] = inherited
    try:
        client = Client(cluster)
        _make_importable(client)
    except BaseException:
        cluster.close()
        raise
    return cluster, client


def _run_in_process(base_yaml: str, base_file: str, variants: List[Dict[str, Any]], output_dir: str, threads: int,
                    progress) -> List[Dict[str, Any]]:
    """Every variant in this process, `threads` at a time: _libgrid.run_sweep (C++ run_batch)."""
    base_core = Scenario.parse(base_yaml, base_file)._core
    texts = [[(SHORTCUTS.get(k, k), _yaml_value(x)) for k, x in v.items()] for v in variants]
    outputs = [os.path.join(output_dir, f"variant_{i}.h5") for i in range(len(variants))]

    def report(done: int, total: int, r: Dict[str, Any]) -> None:
        progress(done, total, _row(int(r["id"]), r, outputs[int(r["id"])]))

    rows = _libgrid.run_sweep(base_core, texts, threads, output_dir, report if progress else None)
    return [_row(i, r, outputs[i]) for i, r in enumerate(rows)]


def _run_dask(client, jobs, progress) -> List[Dict[str, Any]]:
    from distributed import as_completed
    _make_importable(client)
    token = uuid.uuid4().hex[:12]
    # the base scenario's YAML goes to the cluster once, not once per variant
    [base_yaml] = client.scatter([jobs[0][0]], hash=False)
    _, base_files, ids, variants, outputs = zip(*jobs)
    futures = client.map(_run_variant, [base_yaml] * len(jobs), base_files, ids, variants, outputs,
                         key=[f"libgrid-variant-{token}-{i}" for i in ids], pure=False)
    id_of = {f.key: i for f, i in zip(futures, ids)}
    rows = []
    try:
        for done, f in enumerate(as_completed(futures), 1):
            try:
                row = f.result()
            except Exception as e:  # noqa: BLE001 - the task itself never raises; this is Dask failing it
                row = _failed(id_of[f.key], e)
            rows.append(row)
            if progress:
                progress(done, len(jobs), row)
    finally:
        # stop what has not run (an interrupted sweep); the rest is released when the futures go.
        # (Not cancelling finished futures: Client.cancel waits a second for keys nobody still wants.)
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)
        del futures, base_yaml
    return rows


def sweep(base: Union[Scenario, str, os.PathLike], variants: Union[Variant, Iterable[Variant]],
          client: Any = None, output_dir: Optional[Union[str, os.PathLike]] = None, workers: int = 2,
          progress: Union[bool, Any] = False) -> pd.DataFrame:
    """Run every variant of `base` and return the KPI table.

    base: a Scenario (its effective YAML is what the workers run) or a scenario file path.
    variants: a list of dicts {key: value}; keys are dotted scenario keys ("devices.ev.share") or the
        shortcuts steps, seed, size, threads. variant_grid() makes a cartesian grid. Every variant is
        checked before any runs (validate_variants): a bad key or value raises SweepVariantError.
    client: None (a LocalCluster of `workers` processes, closed afterwards), a distributed.Client,
        a scheduler address string, "serial" (in this process, one after another) or "threads" (in
        this process, `workers` at a time).
    output_dir: where variant <id> writes `<output_dir>/variant_<id>.h5` (a new temporary directory
        if None). With a remote cluster it must be a directory the workers can write.
    progress: True prints one line per finished variant to stderr; or a callable(done, total, row).

    Returns a DataFrame indexed by `variant` (0..n-1): the variants' keys (shortcuts written out:
    steps -> horizon.steps, size -> network.size), every scalar KPI of
    /summary (NaN where a variant failed), `output` (the HDF5 path, None on failure), `error` (None,
    or "<ErrorType>: <message>"). `df.attrs["units"]` maps each KPI to its unit."""
    if isinstance(base, (str, os.PathLike)):
        base = Scenario.load(base)
    if not isinstance(base, Scenario):
        raise TypeError(f"base: expected a libgrid.Scenario or a scenario file path, got {type(base).__name__}")
    variants = validate_variants(base, variants)  # before anything runs or is written
    base_yaml = base.to_yaml()
    base_file = base._core.path or "<string>"
    if output_dir is None:
        output_dir = tempfile.mkdtemp(prefix="libgrid_sweep_")
    output_dir = os.path.abspath(os.fspath(output_dir))
    os.makedirs(output_dir, exist_ok=True)
    jobs = [(base_yaml, base_file, i, v, os.path.join(output_dir, f"variant_{i}.h5")) for i, v in enumerate(variants)]
    if progress is True:
        progress = _print_progress
    elif not progress:
        progress = None

    if not jobs:
        rows = []
    elif isinstance(client, str) and client in ("serial", "threads"):
        rows = _run_in_process(base_yaml, base_file, variants, output_dir, 1 if client == "serial" else workers, progress)
    elif client is None or isinstance(client, str):
        from distributed import Client
        cluster = None
        if client is None:
            cluster, own = start_local_cluster(workers)
        else:
            own = Client(client)
        try:
            rows = _run_dask(own, jobs, progress)
        finally:
            own.close()
            if cluster is not None:
                cluster.close()
    else:
        rows = _run_dask(client, jobs, progress)
    return _table(variants, rows)


def _print_progress(done: int, total: int, row: Dict[str, Any]) -> None:
    status = "ok" if row["error"] is None else "FAILED: " + row["error"]
    sys.stderr.write(f"[{done}/{total}] variant {row['id']} {status}\n")
    sys.stderr.flush()


# ---- sweep files -------------------------------------------------------------------------------

class SweepFileError(ValueError):
    """A problem in a sweep file; the message names the file, the line and the key."""


class SweepFile:
    """A parsed sweep file (schema: docs/sweeps.md)."""

    def __init__(self, path: str, base: Scenario, variants: List[Dict[str, Any]], output_dir: Optional[str],
                 workers: Optional[int], name: str):
        self.path = path
        self.base = base
        self.variants = variants
        self.output_dir = output_dir
        self.workers = workers
        self.name = name

    def __repr__(self) -> str:
        return f"<libgrid SweepFile '{self.path}': {len(self.variants)} variants of '{self.base.name}'>"


def _typed(text: str) -> Any:
    """A variant value as the table shows it: the YAML scalar typed (1 -> int, 0.5 -> float, true ->
    bool), collections as lists/dicts; anything else (e.g. a date) as the text the scenario reader read."""
    import yaml
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (bool, int, float, str, list, dict)) else text


def load_sweep_file(path: Union[str, os.PathLike]) -> SweepFile:
    """Read and check a sweep file with the C++ reader (libgrid/scenario/sweep.hpp): the sweep file
    and every variant go through the scenario reader itself. Errors are SweepFileError
    ("file:line: key '...': ..."), for the sweep file, a value or a variant, and for the base
    scenario's own errors (which name its file, line and key)."""
    path = os.fspath(path)
    try:
        d = _libgrid.load_sweep_file(path)
    except _libgrid.Error as e:
        raise SweepFileError(str(e)) from e
    variants = [{k: _typed(x) for k, x in v} for v in d["variants"]]
    return SweepFile(path, Scenario(d["base"]), variants, d["output_dir"], d["workers"], str(d["name"]))


def run_sweep_file(path: Union[str, os.PathLike], workers: Optional[int] = None, scheduler: Optional[str] = None,
                   output_dir: Optional[Union[str, os.PathLike]] = None, serial: bool = False,
                   progress: bool = False, threads: bool = False) -> pd.DataFrame:
    """Run a sweep file (docs/sweeps.md) and write the table to <output dir>/sweep.csv.

    Where: `scheduler` (an address) > `serial` > `threads` (in this process, `workers` at a time) >
    a LocalCluster of `workers` (else the file's `workers`, else 2). The output directory: `output_dir`, else the file's `output_dir`, else
    `<sweep file name>_results` in the current directory. `df.attrs["csv"]` is the CSV's path."""
    sf = load_sweep_file(path)
    out = output_dir or sf.output_dir or os.path.abspath(f"{sf.name}_results")
    if scheduler:
        client: Any = scheduler
    elif serial:
        client = "serial"
    elif threads:
        client = "threads"
    else:
        client = None
    n = workers or sf.workers or 2
    df = sweep(sf.base, sf.variants, client=client, output_dir=out, workers=n, progress=progress)
    csv = os.path.join(os.path.abspath(os.fspath(out)), "sweep.csv")
    df.to_csv(csv)
    df.attrs["csv"] = csv
    return df


# ---- command line ------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="libgrid sweep",
        description="Run the variants of a sweep file (docs/sweeps.md) on a Dask cluster, print the KPI "
                    "table and write it to <output dir>/sweep.csv. Exit status: 0 all variants ran, "
                    "1 bad sweep file or a variant failed, 2 bad usage.")
    p.add_argument("sweep_file", metavar="SWEEP.yaml", help="sweep file: base scenario + grid/variants")
    p.add_argument("--workers", "-w", type=int, default=None, metavar="N",
                   help="local worker processes (default: the file's 'workers', else 2)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run on this Dask scheduler (e.g. tcp://10.0.0.5:8786) instead of a local cluster")
    p.add_argument("--output-dir", "-o", default=None, metavar="DIR",
                   help="results directory: variant_<id>.h5 and sweep.csv (default: the file's "
                        "'output_dir', else <sweep name>_results)")
    p.add_argument("--serial", action="store_true", help="run in this process, one variant after another")
    p.add_argument("--threads", action="store_true",
                   help="run in this process, --workers variants at a time on threads (what `libgrid sweep` does)")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-variant progress lines")
    p.add_argument("--columns", "-c", default=None, metavar="K1,K2",
                   help="KPIs of the printed table, comma-separated, or 'all' (default: the planner's first "
                        "questions, as `libgrid sweep`); sweep.csv has every KPI")
    p.add_argument("--width", type=int, default=None, metavar="W",
                   help="wrap the printed table at W characters (default: $COLUMNS, else 120)")
    return p


#: The KPIs the printed table shows by default (as `libgrid sweep`, libgrid/cli/cli_sweep.cpp).
TABLE_KPIS = ("peak_import_mw", "import_mwh", "losses_mwh", "min_vm_pu", "max_vm_pu", "max_trafo_loading_percent",
              "voltage_violation_hours", "overloaded_branch_steps", "pv_mwh", "ev_not_delivered_mwh", "co2_t",
              "bills_rm")


def table_columns(df: pd.DataFrame, columns: Optional[str] = None) -> List[str]:
    """The columns of a sweep table to print: the variant keys, the KPIs asked for (comma-separated
    names, "all", or None: `TABLE_KPIS`), and "error" when a variant failed. An unknown KPI raises
    ValueError naming the known ones."""
    kpis = [k["name"] for k in _libgrid.summary_kpis() if k["in_file"]]
    is_kpi = {c for c in df.columns if c in kpis or (c.startswith("summary.") and c[8:] in kpis)}
    keys = [c for c in df.columns if c not in is_kpi and c not in ("output", "error")]
    if columns == "all":
        chosen = [c for c in df.columns if c in is_kpi]
    else:
        names = [n for n in (columns.split(",") if columns else TABLE_KPIS) if n]
        unknown = [n for n in names if n not in kpis]
        if unknown and columns:
            raise ValueError(f"--columns: no KPI {', '.join(map(repr, unknown))} (known: {', '.join(kpis)}; or 'all')")
        chosen = [n if n in df.columns else f"summary.{n}" for n in names if n in kpis]
        chosen = [c for c in chosen if c in df.columns]
    failed = "error" in df.columns and df["error"].notna().any()
    return keys + chosen + (["error"] if failed else [])


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parser().parse_args(argv)  # exits 2 on bad usage
    if args.workers is not None and args.workers < 1:
        _parser().error(f"--workers: expected at least 1, got {args.workers}")
    if sum(bool(x) for x in (args.scheduler, args.serial, args.threads)) > 1:
        _parser().error("--scheduler, --serial and --threads exclude each other")
    t0 = time.perf_counter()
    if args.columns and args.columns != "all":
        try:
            table_columns(pd.DataFrame(), args.columns)  # a bad name: refused before anything runs
        except ValueError as e:
            _parser().error(str(e))
    try:
        df = run_sweep_file(args.sweep_file, workers=args.workers, scheduler=args.scheduler,
                            output_dir=args.output_dir, serial=args.serial, progress=not args.quiet,
                            threads=args.threads)
    except Exception as e:  # noqa: BLE001 - bad sweep file, unreachable scheduler, ...
        sys.stderr.write(f"libgrid sweep: error: {e}\n")
        return 1
    elapsed = time.perf_counter() - t0
    width = args.width or int(os.environ.get("COLUMNS", "0") or 0) or 120
    with pd.option_context("display.max_columns", None, "display.max_colwidth", 80):
        print(df[table_columns(df, args.columns)].to_string(float_format=lambda x: f"{x:.4g}", line_width=max(width, 40)))
    print(f"\n{len(df)} variants in {elapsed:.1f} s; table: {df.attrs['csv']}")
    failed = df["error"].notna()
    if failed.any():
        sys.stderr.write(f"libgrid sweep: {int(failed.sum())} of {len(df)} variants failed "
                         f"(ids {', '.join(str(i) for i in df.index[failed])}; see the 'error' column)\n")
        return 1
    return 0


class _CallableModule(types.ModuleType):
    """`libgrid.sweep(base, variants, ...)` calls sweep() although `libgrid.sweep` is this module."""

    def __call__(self, *args, **kwargs) -> pd.DataFrame:
        return sweep(*args, **kwargs)


if __name__ == "__main__":
    # `python3 -m libgrid.sweep`: run the importable module's main, so the tasks shipped to workers
    # refer to libgrid.sweep._run_variant, not to this __main__ copy.
    from libgrid.sweep import main as _main
    sys.exit(_main())
else:
    sys.modules[__name__].__class__ = _CallableModule
