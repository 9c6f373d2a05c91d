"""Guards around a run from Python (issue 10): an output is never an input, only regular files are
read, runs that cannot finish are refused up front, islands without a source are reported.
Run: PYTHONPATH=build/python /usr/bin/python3 -m pytest tests/python/test_guards.py"""
import os
import shutil
import warnings

import pytest

import libgrid
from conftest import DATA, ROOT

GUARDS = DATA / "guards"
CASE9 = DATA / "matpower" / "case9.m"


# ---- an output is never an input (../shared/repro/output_is_input.sh) ---------------------------

def test_scenario_run_refuses_to_overwrite_its_scenario_file(tmp_path):
    s = tmp_path / "s.yaml"
    shutil.copy(ROOT / "scenarios" / "melaka_baseline.yaml", s)
    before = s.read_bytes()
    sc = libgrid.Scenario.load(s).override(steps=4)
    with pytest.raises(libgrid.ValidationError, match=r"output '.*s\.yaml' is the scenario file itself: refusing to overwrite an input"):
        sc.run(output=s)
    assert s.read_bytes() == before
    os.link(s, tmp_path / "hard.h5")  # the same file by another name
    with pytest.raises(libgrid.ValidationError, match="the scenario file itself"):
        sc.run(output=tmp_path / "hard.h5")
    assert s.read_bytes() == before


def test_scenario_run_refuses_to_overwrite_its_network_file(tmp_path):
    shutil.copy(CASE9, tmp_path / "net9.m")
    (tmp_path / "s9.yaml").write_text("network: {file: net9.m}\nhorizon: {steps: 4}\n")
    sc = libgrid.Scenario.load(tmp_path / "s9.yaml")
    with pytest.raises(libgrid.ValidationError, match=r"is the scenario's network file \(network\.file = .*net9\.m\)"):
        sc.run(output=str(tmp_path / "net9.m"))
    assert (tmp_path / "net9.m").read_bytes() == CASE9.read_bytes()
    with pytest.raises(libgrid.ValidationError, match="network file"):
        sc._core.check_output(str(tmp_path / "net9.m"))
    res = sc.run(output=tmp_path / "out.h5")  # any other file is fine
    assert res.summary["steps"] == 4


# ---- only regular files --------------------------------------------------------------------------

def test_readers_refuse_devices_and_directories(tmp_path):
    os.symlink("/dev/zero", tmp_path / "zero.m")
    with pytest.raises(libgrid.ParseError, match=r"zero\.m:0: not a regular file \(a character device\)"):
        libgrid.Network.from_matpower(tmp_path / "zero.m")
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(libgrid.ParseError, match="is a directory"):
        libgrid.Network.from_json(tmp_path / "dir.json")
    with pytest.raises(libgrid.ParseError, match="is a directory"):
        libgrid.Scenario.load(tmp_path)
    (tmp_path / "grid.m").mkdir()
    (tmp_path / "s.yaml").write_text("network:\n  file: grid.m\n")
    with pytest.raises(libgrid.ParseError, match=r"s\.yaml:2: key 'network\.file': is a directory"):
        libgrid.Scenario.load(tmp_path / "s.yaml")


# ---- runs that cannot finish are refused up front --------------------------------------------------

def test_estimate_and_refusal_before_anything_is_written(tmp_path):
    sc = libgrid.Scenario.load(ROOT / "scenarios" / "melaka_baseline.yaml")  # a year at 15 minutes
    e = sc.estimate()
    assert e["steps"] == 35040 and e["columns"] > 100 and e["bytes_per_value"] == 4
    assert e["output_bytes"] > e["output_min_bytes"] > 0 and e["memory_bytes"] > 0
    assert e["text"].startswith("35040 steps x ")
    sc.set("outputs.max_file_gb", 0.001)
    with pytest.raises(libgrid.ValidationError, match=r"would exceed outputs\.max_file_gb = 0\.001 GB \(estimate: 35040 steps x "):
        sc.run(output=tmp_path / "year.h5")
    assert not (tmp_path / "year.h5").exists()


# ---- islands without a source ----------------------------------------------------------------------

def test_power_flow_warns_about_an_island_without_a_source():
    net = libgrid.Network.from_matpower(GUARDS / "case9_island.m")
    with pytest.warns(libgrid.DeenergizedWarning, match=r"2 buses de-energised \(no source in their island: NaN voltages\), e\.g\. bus 10, 11"):
        res = net.run_pf()
    assert res.converged and res.deenergized_buses == [10, 11]
    assert res.bus.loc[[10, 11], "vm_pu"].isna().all()
    plain = libgrid.Network.from_matpower(CASE9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a grid without dead islands: no warning, results as before
        ref = plain.run_pf()
    assert ref.deenergized_buses == []
    assert (res.bus.loc[ref.bus.index, "vm_pu"] == ref.bus["vm_pu"]).all()


def test_scenario_run_counts_and_warns_about_deenergised_buses(tmp_path):
    sc = libgrid.Scenario.load(GUARDS / "island.yaml")
    with pytest.warns(libgrid.DeenergizedWarning, match="2 buses de-energised"):
        res = sc.run(output=tmp_path / "island.h5")
    assert res.run_summary["deenergized_buses"] == 2
    assert res.summary["deenergized_buses"] == 2


def test_read_results_refuses_fifos_and_directories(tmp_path):
    os.mkfifo(tmp_path / "pipe.h5")
    with pytest.raises(OSError, match="not a regular file"):
        libgrid.read_results(tmp_path / "pipe.h5")  # refused, not waited on
    (tmp_path / "dir.h5").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        libgrid.read_results(tmp_path / "dir.h5")
