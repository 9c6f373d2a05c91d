"""libgrid.sweep: variants of a scenario, serial and on a Dask LocalCluster, same table either way.
Run: PYTHONPATH=build/python /usr/bin/python3 -m pytest tests/python/test_sweep.py"""
import os
import pathlib
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest

import libgrid
from libgrid.sweep import (TIMING_KPIS, SweepFileError, SweepVariantError, load_sweep_file, main, run_sweep_file,
                           start_local_cluster, sweep, validate_variants, variant_grid)

ROOT = pathlib.Path(__file__).resolve().parents[2]

# A small self-contained base scenario: one day of 15-minute steps on the small Melaka grid.
BASE_YAML = """
name: sweep_test
seed: 1
network: {generator: melaka, size: small, model: balanced}  # issue 15: bus tables, checkpoints (unbalanced sweeps: test_scenario_model.py)
horizon: {start: "2025-03-03", step: 15min, steps: 96}
devices:
  pv: {share: 0.2}
  ev: {share: 0.1}
"""

# 2 x 2 variants that change the results (seed and EV share), plus one that is a valid scenario but
# does not fit its network (more charging sites than the small grid has): it fails when it runs.
# (A variant with an unknown key or a bad value fails before anything runs: test_bad_variants_...)
GOOD = variant_grid(**{"devices.ev.share": [0.1, 0.5], "seed": [1, 2]})
BAD_KEY = "devices.ev.public_sites.sites"
BAD = {BAD_KEY: 1000}


def base():
    return libgrid.Scenario.parse(BASE_YAML, str(ROOT / "tests" / "python" / "sweep_base.yaml"))


def comparable(df):
    """The table without what legitimately differs between two sweeps: the run's wall time and
    the output paths (compared by file name instead)."""
    out = df.drop(columns=list(TIMING_KPIS) + ["output"]).sort_index()
    out["file"] = [None if p is None else os.path.basename(p) for p in df.sort_index()["output"]]
    return out


# ---- variant_grid --------------------------------------------------------------------------------

def test_variant_grid_is_the_cartesian_product_last_axis_fastest():
    g = variant_grid(**{"devices.ev.share": [0.0, 0.5], "devices.pv.share": [0.1, 0.2, 0.3], "seed": [7]})
    assert len(g) == 2 * 3 * 1
    assert g[0] == {"devices.ev.share": 0.0, "devices.pv.share": 0.1, "seed": 7}
    assert g[1] == {"devices.ev.share": 0.0, "devices.pv.share": 0.2, "seed": 7}
    assert g[3] == {"devices.ev.share": 0.5, "devices.pv.share": 0.1, "seed": 7}
    assert len({tuple(sorted(v.items())) for v in g}) == 6  # all distinct
    # numpy values become plain Python numbers (they print, compare and serialise the same)
    n = variant_grid(seed=np.arange(2), share=np.linspace(0, 1, 2))
    assert n == [{"seed": 0, "share": 0.0}, {"seed": 0, "share": 1.0}, {"seed": 1, "share": 0.0},
                 {"seed": 1, "share": 1.0}]
    assert type(n[0]["seed"]) is int and type(n[0]["share"]) is float


def test_variant_grid_rejects_bad_axes():
    with pytest.raises(TypeError, match="seed"):
        variant_grid(seed=3)
    with pytest.raises(TypeError, match="size"):
        variant_grid(size="small")
    with pytest.raises(ValueError, match="steps"):
        variant_grid(steps=[])


def test_package_level_names():
    assert libgrid.variant_grid is variant_grid
    assert callable(libgrid.sweep)  # libgrid.sweep(base, variants, ...) is sweep()


# ---- serial sweep, one-by-one runs, errors --------------------------------------------------------

@pytest.fixture(scope="module")
def serial_table(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial")
    return sweep(base(), GOOD + [BAD], client="serial", output_dir=out)


def test_serial_table_layout(serial_table):
    df = serial_table
    assert list(df.index) == [0, 1, 2, 3, 4] and df.index.name == "variant"
    cols = list(df.columns)
    assert cols[:3] == ["devices.ev.share", "seed", BAD_KEY]
    assert cols[-2:] == ["output", "error"]
    kpis = cols[3:-2]
    # every scalar of /summary is a column, with its unit
    with h5py.File(df.loc[0, "output"], "r") as f:
        scalars = {k for k, v in f["summary"].items() if isinstance(v, h5py.Dataset) and v.size == 1}
        assert set(kpis) == scalars
        assert df.loc[0, "peak_import_mw"] == float(f["summary/peak_import_mw"][()])
    assert {"peak_import_mw", "losses_mwh", "steps", "wall_time_s"} <= set(kpis)
    assert df.attrs["units"]["peak_import_mw"] == "MW"
    assert (df.loc[:3, "steps"] == 96).all()
    assert df.loc[:3, "devices.ev.share"].tolist() == [0.1, 0.1, 0.5, 0.5]
    assert df.loc[:3, "seed"].tolist() == [1, 2, 1, 2]
    for i in range(4):
        assert df.loc[i, "output"].endswith(f"variant_{i}.h5") and os.path.isfile(df.loc[i, "output"])


def test_variants_change_the_results(serial_table):
    df = serial_table
    # more EVs -> more energy charged and imported; another seed -> other load profiles
    for more, fewer in ((2, 0), (3, 1)):
        assert df.loc[more, "ev_delivered_mwh"] > df.loc[fewer, "ev_delivered_mwh"]
        assert df.loc[more, "import_mwh"] > df.loc[fewer, "import_mwh"]
    assert df.loc[1, "load_mwh"] != df.loc[0, "load_mwh"]


def test_a_failing_variant_keeps_its_row_and_does_not_stop_the_sweep(serial_table):
    df = serial_table
    assert df.loc[:3, "error"].isna().all()
    err = df.loc[4, "error"]
    assert isinstance(err, str) and BAD_KEY in err and "1000 sites asked" in err
    assert df.loc[4, BAD_KEY] == 1000 and pd.isna(df.loc[4, "seed"])
    assert df["seed"].dtype == "Int64" and df.loc[0, BAD_KEY] is pd.NA  # whole numbers stay whole
    kpis = [c for c in df.columns if c not in ("devices.ev.share", "seed", BAD_KEY, "output", "error")]
    assert df.loc[4, kpis].isna().all()
    assert df.loc[4, "output"] is None and not os.path.exists(os.path.join(os.path.dirname(df.loc[0, "output"]), "variant_4.h5"))
    assert df.loc[:3, kpis].notna().all().all()


def test_sweep_equals_running_the_variants_one_by_one(serial_table, tmp_path):
    for i, v in enumerate(GOOD):
        sc = base()
        sc.override(seed=v["seed"]).set("devices.ev.share", v["devices.ev.share"])
        res = sc.run(output=str(tmp_path / f"one_{i}.h5"))
        row = serial_table.loc[i]
        for k, value in res.summary.items():
            if k not in TIMING_KPIS:
                assert row[k] == value, (i, k)  # bit-identical, not approximately equal
        with h5py.File(tmp_path / f"one_{i}.h5", "r") as a, h5py.File(row["output"], "r") as b:
            assert np.array_equal(a["bus/vm_pu"][()], b["bus/vm_pu"][()])


# ---- Dask ---------------------------------------------------------------------------------------

def test_local_cluster_sweep_equals_serial(serial_table, tmp_path):
    dask = sweep(base(), GOOD + [BAD], client=None, workers=2, output_dir=tmp_path)  # starts, closes a LocalCluster
    assert comparable(dask).equals(comparable(serial_table))
    assert dask.attrs["units"] == serial_table.attrs["units"]
    assert list(dask.columns) == list(serial_table.columns)
    assert dask.loc[4, "error"] == serial_table.loc[4, "error"]
    for i in range(4):  # the result files themselves are bit-identical
        with h5py.File(dask.loc[i, "output"], "r") as a, h5py.File(serial_table.loc[i, "output"], "r") as b:
            assert os.path.dirname(dask.loc[i, "output"]) == str(tmp_path)
            for name in ("bus/vm_pu", "branch/loading_percent", "ev/p_mw", "meter/import_kwh"):
                assert np.array_equal(a[name][()], b[name][()]), name


def test_given_client_is_used_and_left_open(serial_table, tmp_path):
    cluster, client = start_local_cluster(2)
    try:
        seen = []
        df = sweep(base(), GOOD, client=client, output_dir=tmp_path,
                   progress=lambda done, total, row: seen.append((done, total, row["id"])))
        assert comparable(df).equals(comparable(sweep(base(), GOOD, client="serial", output_dir=tmp_path / "s")))
        assert df.loc[:, "peak_import_mw"].equals(serial_table.loc[:3, "peak_import_mw"])
        assert sorted(i for _, _, i in seen) == [0, 1, 2, 3] and [d for d, _, _ in seen] == [1, 2, 3, 4]
        # the variants ran in the worker processes, not here
        pids = client.run(os.getpid)
        assert len(pids) == 2 and os.getpid() not in pids.values()
        # workers set up for single-threaded C++ tasks: glibc's malloc defaults, no profiler
        env = client.run(eval, "__import__('os').environ.get('MALLOC_TRIM_THRESHOLD_')")
        assert list(env.values()) == [None, None]
        profiling = client.run(eval, "__import__('dask').config.get('distributed.worker.profile.enabled')")
        assert list(profiling.values()) == [False, False]
        assert list(client.run(eval, "__import__('os').environ['OMP_NUM_THREADS']").values()) == ["1", "1"]
        assert client.status == "running"  # not closed by sweep()
        # a scheduler address: sweep() connects its own client and closes it, the cluster stays up
        by_address = sweep(base(), GOOD[:2], client=cluster.scheduler_address, output_dir=tmp_path / "a")
        assert comparable(by_address).equals(comparable(df.loc[:1]))
        assert len(client.run(os.getpid)) == 2
    finally:
        client.close()
        cluster.close()


# ---- sweep files and the command line -----------------------------------------------------------

def write(path, text):
    path.write_text(text)
    return path


def test_sweep_file_run_serial_writes_csv(tmp_path):
    write(tmp_path / "base.yaml", BASE_YAML)
    sf = write(tmp_path / "s.yaml", "base: base.yaml\nset: {horizon.steps: 8}\n"
                                    "grid:\n  seed: [1, 2]\nvariants:\n  - {seed: 5, devices.pv.share: 0.5}\n")
    parsed = load_sweep_file(sf)
    assert parsed.variants == [{"seed": 1}, {"seed": 2}, {"seed": 5, "devices.pv.share": 0.5}]
    df = run_sweep_file(sf, serial=True, output_dir=tmp_path / "out")
    assert df.attrs["csv"] == str(tmp_path / "out" / "sweep.csv")
    assert (df["steps"] == 8).all() and df["error"].isna().all()  # `set` applies to every variant
    # pandas' default float parser is not exact for every shortest-repr double; round_trip is
    back = pd.read_csv(df.attrs["csv"], index_col="variant", float_precision="round_trip")
    assert list(back.columns) == list(df.columns)
    assert np.array_equal(back["peak_import_mw"].values, df["peak_import_mw"].values)


@pytest.mark.parametrize("text, match", [
    ("base: base.yaml\ngrid:\n  seed: [1]\nworker: 2\n", r"s\.yaml:4: key 'worker': unknown key \(did you mean 'workers'\?\)"),
    ("base: base.yaml\ngrid:\n  seed: 3\n", r"s\.yaml:3: key 'grid\.seed': expected a non-empty list"),
    ("base: nowhere.yaml\ngrid:\n  seed: [1]\n", r"s\.yaml:1: key 'base': no such scenario file"),
    ("base: base.yaml\n", r"s\.yaml:1: no variants"),
    ("base: base.yaml\nvariants:\n  - {seed: 1}\n  - 7\n", r"s\.yaml:4: key 'variants\.1': expected a mapping"),
    ("base: base.yaml\nset: {devices.pv.shar: 0.1}\ngrid: {seed: [1]}\n", r"s\.yaml:2: key 'set\.devices\.pv\.shar': .*devices\.pv\.shar"),
])
def test_bad_sweep_files_name_file_line_and_key(tmp_path, text, match):
    write(tmp_path / "base.yaml", BASE_YAML)
    with pytest.raises(SweepFileError, match=match):
        load_sweep_file(write(tmp_path / "s.yaml", text))


def test_shipped_sweep_file_loads():
    sf = load_sweep_file(ROOT / "scenarios" / "sweep_ev_pv.yaml")
    assert len(sf.variants) >= 8
    keys = set().union(*sf.variants)
    assert {"devices.ev.share", "devices.pv.share", "seed"} <= keys


def test_command_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(libgrid.__file__)))
    cmd = [sys.executable, "-m", "libgrid.sweep"]
    h = subprocess.run(cmd + ["--help"], env=env, capture_output=True, text=True, timeout=60)
    assert h.returncode == 0 and "--workers" in h.stdout and "--scheduler" in h.stdout
    assert subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60).returncode == 2
    missing = subprocess.run(cmd + [str(tmp_path / "none.yaml")], env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "none.yaml" in missing.stderr
    write(tmp_path / "base.yaml", BASE_YAML)
    sf = write(tmp_path / "s.yaml", "base: base.yaml\nset: {steps: 4}\nvariants:\n  - {seed: 1}\n"
                                    "  - {devices.ev.public_sites.sites: 1000}\n")
    r = subprocess.run(cmd + [str(sf), "--serial", "-o", str(tmp_path / "o")], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1, r.stderr  # a variant failed
    assert "1 of 2 variants failed" in r.stderr and "peak_import_mw" in r.stdout
    assert "RuntimeWarning" not in r.stderr
    assert (tmp_path / "o" / "sweep.csv").is_file() and (tmp_path / "o" / "variant_0.h5").is_file()
    assert main([str(sf), "--serial", "-q", "-o", str(tmp_path / "p")]) == 1
    # a variant that cannot even be read: the file's line and key, nothing runs, no directory made
    bad = write(tmp_path / "bad.yaml", "base: base.yaml\nset: {steps: 4}\nvariants:\n  - {seed: 1}\n"
                                       "  - {devices.ev.nonsense: 1}\n")
    r = subprocess.run(cmd + [str(bad), "--serial", "-o", str(tmp_path / "b")], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1
    assert "bad.yaml:5: key 'variants.1.devices.ev.nonsense'" in r.stderr and "unknown key" in r.stderr
    assert not (tmp_path / "b").exists()


# ---- the `steps` shortcut and checking variants before anything runs (issue 10) -------------------

def test_steps_shortcut_runs_and_keeps_the_table(tmp_path):
    """../shared/repro/sweep_steps_shortcut.py: the documented shortcut `steps` used to run every
    variant and then raise (its column clashed with the KPI `steps`), losing the table."""
    seen = []
    df = sweep(libgrid.Scenario.load(ROOT / "scenarios" / "melaka_baseline.yaml"), [{"steps": 4}, {"steps": 8}],
               client="serial", output_dir=tmp_path, progress=lambda d, t, row: seen.append(row["id"]))
    assert seen == [0, 1]
    assert df["horizon.steps"].tolist() == [4, 8]  # the shortcut's column is the scenario key it sets
    assert df["steps"].tolist() == [4.0, 8.0]      # the KPI /summary/steps
    assert df["error"].isna().all()
    assert list(df.columns).count("steps") == 1
    # a shortcut and its key in one variant set one thing twice: refused
    with pytest.raises(SweepVariantError, match="variant 0: keys 'steps' and 'horizon.steps' both set the scenario key 'horizon.steps'"):
        sweep(base(), [{"steps": 4, "horizon.steps": 8}], client="serial", output_dir=tmp_path / "x")


def test_steps_shortcut_sweep_file_writes_its_csv(tmp_path):
    write(tmp_path / "base.yaml", BASE_YAML)
    sf = write(tmp_path / "s.yaml", "base: base.yaml\ngrid:\n  steps: [4, 8]\n")
    df = run_sweep_file(sf, serial=True, output_dir=tmp_path / "out")
    back = pd.read_csv(tmp_path / "out" / "sweep.csv", index_col="variant")
    assert back["horizon.steps"].tolist() == [4, 8] and back["steps"].tolist() == [4.0, 8.0]
    assert list(back.columns) == list(df.columns)


@pytest.mark.parametrize("variants, match", [
    ([GOOD[0], {"devices.ev.nonsense": 3}], r"variant 1: key 'devices.ev.nonsense' = 3: ValidationError: .*unknown key"),
    ([GOOD[0], GOOD[1], {"seed": 1, "devices.pv.share": 7}], r"variant 2: key 'devices.pv.share' = 7: .*expected a number in \[0, 1\]"),
    ([{"steps": 0}], r"variant 0: key 'horizon.steps' = 0: "),
    ([{"horizon.step": "7min"}], r"variant 0: key 'horizon.step' = '7min'"),
])
def test_bad_variants_fail_before_anything_runs(tmp_path, variants, match):
    seen = []
    out = tmp_path / "never"
    with pytest.raises(SweepVariantError, match=match):
        sweep(base(), variants, client="serial", output_dir=out, progress=lambda d, t, row: seen.append(row))
    assert seen == [] and not out.exists()  # nothing ran, nothing was written
    with pytest.raises(SweepVariantError, match=match):
        validate_variants(base(), variants)
    with pytest.raises(SweepVariantError, match=match):  # a Dask sweep checks before starting its cluster
        sweep(base(), variants, client=None, output_dir=out)
    assert not out.exists()


def test_bad_grid_value_in_a_sweep_file_names_line_and_key(tmp_path):
    write(tmp_path / "base.yaml", BASE_YAML)
    with pytest.raises(SweepFileError, match=r"s\.yaml:3: key 'grid\.devices\.pv\.share': value 2: .*expected a number in"):
        load_sweep_file(write(tmp_path / "s.yaml", "base: base.yaml\ngrid:\n  devices.pv.share: [0.1, 2]\n"))


def test_sweep_file_must_be_a_regular_file(tmp_path):
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(SweepFileError, match="is a directory"):
        load_sweep_file(tmp_path / "dir.yaml")
    os.mkfifo(tmp_path / "pipe.yaml")
    with pytest.raises(SweepFileError, match="not a regular file"):
        load_sweep_file(tmp_path / "pipe.yaml")  # refused, not waited on
