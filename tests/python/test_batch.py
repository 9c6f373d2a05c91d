"""The C++ run_batch from Python, in-process sweeps (run_batch/run_sweep) equal to the variants' results
files, and `libgrid sweep` (C++) without Python equal to libgrid.sweep.
Run: PYTHONPATH=build/python /usr/bin/python3 -m pytest tests/python/test_batch.py"""
import os
import pathlib
import subprocess

import pandas as pd
import pytest

import libgrid
from libgrid import _libgrid
from libgrid.results import read_results
from libgrid.sweep import TIMING_KPIS, load_sweep_file, run_sweep_file, sweep, variant_grid

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_PYTHON = pathlib.Path(libgrid.__file__).resolve().parents[1]

BASE_YAML = """
name: batch_test
seed: 1
network: {generator: melaka, size: small, model: balanced}  # issue 15: bus tables, checkpoints (unbalanced sweeps: test_scenario_model.py)
horizon: {start: "2025-03-03", step: 15min, steps: 16}
devices:
  pv: {share: 0.2}
  ev: {share: 0.3}
"""


def base(**kw):
    return libgrid.Scenario.parse(BASE_YAML, str(ROOT / "tests" / "python" / "batch_base.yaml")).override(**kw)


def test_run_batch_from_python_equals_single_runs(tmp_path):
    items = [(base(seed=1)._core, str(tmp_path / "a.h5")), base(seed=2)._core]
    bad = base(seed=3).set("devices.ev.public_sites.sites", 1000)
    rows = _libgrid.run_batch(items + [bad._core], threads=2)
    assert [r["ok"] for r in rows] == [True, True, False]
    assert "1000 sites asked" in rows[2]["error"] and rows[2]["kpis"] == {}
    # equal to Scenario.run of each, bit for bit, and the first one wrote its file
    for i, seed in enumerate((1, 2)):
        one = base(seed=seed).run(output=str(tmp_path / f"one_{i}.h5"))
        for k, v in one.summary.items():
            if k not in TIMING_KPIS:
                assert rows[i]["kpis"][k] == v, (i, k)
                assert rows[i]["summary"][k] == v, (i, k)
        assert rows[i]["units"]["peak_import_mw"] == "MW"
    assert os.path.isfile(tmp_path / "a.h5")
    assert rows[0]["kpis"]["import_mwh"] != rows[1]["kpis"]["import_mwh"]
    # threads do not change results
    again = _libgrid.run_batch([base(seed=2)._core], threads=1)
    assert again[0]["kpis"]["losses_mwh"] == rows[1]["kpis"]["losses_mwh"]


def test_run_batch_network_items():
    net = libgrid.Network.from_file(str(ROOT / "tests" / "data" / "cigre" / "cigre_lv.input.json")) \
        if hasattr(libgrid.Network, "from_file") else None
    if net is None:
        pytest.skip("no Network.from_file")
    item = {"net": net._core if hasattr(net, "_core") else net, "devices": _libgrid.DeviceSet(),
            "start": "2025-03-03T00:00", "n_steps": 4, "step_s": 900, "seed": 1}
    rows = _libgrid.run_batch([item, item], threads=2)
    assert rows[0]["ok"] and rows[1]["ok"], rows
    assert rows[0]["kpis"]["steps"] == 4 and rows[0]["kpis"]["losses_mwh"] == rows[1]["kpis"]["losses_mwh"]


def test_progress_error_stops_the_batch_and_is_raised():
    def progress(done, total, row):
        raise ValueError("stop here")
    with pytest.raises(ValueError, match="stop here"):
        _libgrid.run_batch([base(seed=s)._core for s in (1, 2, 3)], threads=1, progress=progress)


def test_in_process_sweep_equals_its_results_files(tmp_path):
    variants = variant_grid(**{"devices.ev.share": [0.1, 0.5], "seed": [1, 2]})
    threads = sweep(base(), variants, client="threads", workers=2, output_dir=tmp_path / "t")
    serial = sweep(base(), variants, client="serial", output_dir=tmp_path / "s")
    kpis = [c for c in threads.columns if c not in ("devices.ev.share", "seed", "output", "error")]
    assert "peak_import_mw" in kpis and threads["error"].isna().all()
    for i in threads.index:
        res = read_results(threads.loc[i, "output"])  # the KPIs as the file has them
        assert sorted(res.summary.index) == sorted(kpis)
        for k in kpis:
            if k not in TIMING_KPIS:
                assert threads.loc[i, k] == res.summary[k], (i, k)
                assert serial.loc[i, k] == threads.loc[i, k], (i, k)
        assert threads.attrs["units"]["losses_mwh"] == res.summary_units["losses_mwh"]


def test_cli_sweep_runs_without_python_and_equals_libgrid_sweep(tmp_path):
    (tmp_path / "base.yaml").write_text(BASE_YAML)
    sf = tmp_path / "s.yaml"
    sf.write_text("base: base.yaml\nset: {steps: 8}\ngrid:\n  devices.ev.share: [0.0, 0.4]\n  seed: [1, 2]\n"
                  "variants:\n  - {devices.ev.public_sites.sites: 1000}\n")
    cli = BUILD_PYTHON.parent / "libgrid"
    if not cli.is_file():
        pytest.skip(f"no {cli}")
    env = {"PATH": "", "LIBGRID_PYTHONPATH": "/nonexistent", "HOME": str(tmp_path)}
    r = subprocess.run([str(cli), "sweep", str(sf), "-q", "-w", "2", "-o", str(tmp_path / "cpp")], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stderr  # the last variant fails, the others ran
    assert "1 of 5 variants failed" in r.stderr and "5 variants in" in r.stdout
    cpp = pd.read_csv(tmp_path / "cpp" / "sweep.csv", index_col="variant")
    py = run_sweep_file(sf, serial=True, output_dir=tmp_path / "py")
    back = pd.read_csv(py.attrs["csv"], index_col="variant")
    assert list(cpp.columns) == list(back.columns)
    drop = list(TIMING_KPIS) + ["output"]
    pd.testing.assert_frame_equal(cpp.drop(columns=drop), back.drop(columns=drop))
    assert "1000 sites asked" in cpp.loc[4, "error"]
    # the CSV text itself, but for timings and paths
    assert cpp.loc[0, "output"] == str(tmp_path / "cpp" / "variant_0.h5")
    assert pd.isna(cpp.loc[4, "output"])


def test_sweep_file_read_by_the_cpp_reader(tmp_path):
    (tmp_path / "base.yaml").write_text(BASE_YAML)
    sf = tmp_path / "s.yaml"
    sf.write_text("base: base.yaml\nset: {horizon.start: '2025-04-01'}\nvariants:\n  - {horizon.start: '2025-05-01', seed: 3}\n")
    parsed = load_sweep_file(sf)
    assert parsed.variants == [{"horizon.start": "2025-05-01", "seed": 3}]  # a date stays the text it was
    assert 'start: "2025-04-01T00:00:00"' in parsed.base.to_yaml()
    df = sweep(parsed.base, parsed.variants, client="serial", output_dir=tmp_path / "o")
    assert df["error"].isna().all()


def test_ctrl_c_stops_the_batch(tmp_path, ctrl_c):
    """SIGINT while a batch runs (GIL released): the running item stops at a step boundary with its file
    closed (status "stopped"), the others are not run, and KeyboardInterrupt is raised (as Scenario.run)."""
    import signal
    import threading
    import h5py
    import time
    items = [(base(seed=s, steps=35040 if s == 1 else 96)._core, str(tmp_path / f"v{s}.h5")) for s in (1, 2, 3)]
    ckpt = tmp_path / "v1.h5.ckpt"

    def interrupt_mid_run():  # once the first item has a checkpoint (>= 256 steps done), not at a time
        for _ in range(120000):
            if ckpt.exists():
                break
            time.sleep(0.001)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=interrupt_mid_run, daemon=True)
    thread.start()
    with pytest.raises(KeyboardInterrupt):
        _libgrid.run_batch(items, threads=1)
    thread.join()
    with h5py.File(tmp_path / "v1.h5", "r") as f:
        assert f.attrs["status"] in ("stopped", b"stopped")
        assert 256 <= int(f.attrs["steps_done"]) < 35040
    assert not (tmp_path / "v3.h5").exists()
