"""Issue 15 (second slice): the engine on an unbalanced network without refusals, from Python:
outages by events (a dead bus gets NaN voltages, its load draws nothing, the run warns), and a stopped
run resumed from its checkpoint gives the uninterrupted run's series exactly."""
import os
import signal
import threading
import time

import h5py
import numpy as np
import pytest

import libgrid
from conftest import ROOT

MASTER = ROOT / "tests" / "data" / "opendss" / "eulv" / "Master.dss"


def test_a_line_out_leaves_its_bus_dead(tmp_path):
    # LINE33 (id 33, the 33rd line) is the service cable 30 -> 34 of LOAD1 (bus 34, phase a)
    net = libgrid.UnbalancedNetwork.from_dss(MASTER)
    dev = libgrid.Devices()
    dev.add_event("2025-01-01T09:02", "out_of_service", "line", 33)
    dev.add_event("2025-01-01T09:04", "in_service", "line", 33)
    sim = libgrid.Simulation(net, dev, start="2025-01-01T09:00", step="1min", horizon="6min", meter_interval="1min")
    with pytest.warns(libgrid.DeenergizedWarning, match="1 bus de-energised"):
        res = sim.run(output=str(tmp_path / "out.h5"))
    vm = res.node_vm(phase="a")["34.a"].to_numpy()
    assert np.isnan(vm[2]) and np.isnan(vm[3])
    assert np.isfinite(vm[[0, 1, 4, 5]]).all()
    p = res.series("load", "p_mw").iloc[:, 0].to_numpy()  # LOAD1
    assert (p[[2, 3]] == 0.0).all() and (p[[0, 1, 4, 5]] < 0.0).all()
    with pytest.raises(libgrid.ValidationError, match="an unbalanced network has no sgen elements"):
        bad = libgrid.Devices()
        bad.add_event("2025-01-01T09:02", "out_of_service", "sgen", 1)
        libgrid.Simulation(net, bad, start="2025-01-01T09:00", step="1min", horizon="2min").run(output=str(tmp_path / "bad.h5"))


def _contents(path):
    out = {}

    def visit(name, obj):
        for k, v in obj.attrs.items():
            out[f"{name}@{k}"] = v.tobytes() if isinstance(v, np.ndarray) else v
        if isinstance(obj, h5py.Dataset) and name != "summary/wall_time_s":
            out[name] = obj[()].tobytes() if obj.dtype.kind != "O" else list(obj[()])

    with h5py.File(path, "r") as f:
        for k, v in f.attrs.items():
            out[f"@{k}"] = v
        f.visititems(visit)
    return out


def test_ctrl_c_then_resume_on_the_eulv_scenario_equals_the_whole_run(tmp_path, ctrl_c):
    """scenarios/eulv_day.yaml (a .dss network: checkpoints every 256 steps by default), 900 steps:
    Ctrl-C past step 600, then Scenario.run(resume=True): the file equals the uninterrupted run's."""
    def scenario():
        return libgrid.Scenario.load(ROOT / "scenarios" / "eulv_day.yaml").set("horizon.steps", 900)

    whole, parts = tmp_path / "whole.h5", tmp_path / "parts.h5"
    scenario().run(output=str(whole))
    seen = []
    sc = scenario()

    def interrupt_when_past_600():
        while not seen or seen[-1] < 600:
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGINT)

    t = threading.Thread(target=interrupt_when_past_600, daemon=True)
    t.start()
    with pytest.raises(KeyboardInterrupt):
        sc._core.run(str(parts), lambda done, total: seen.append(done), False)
    t.join(5)
    with h5py.File(parts, "r") as f:
        assert f.attrs["status"] == "stopped"
        assert 600 <= int(f.attrs["steps_done"]) < 900
    assert os.path.exists(str(parts) + ".ckpt")
    res = sc.run(output=str(parts), resume=True)
    assert res.run_summary["completed"]
    assert res.run_summary["resumed_from_step"] in (512, 768)
    a, b = _contents(whole), _contents(parts)
    assert a.keys() == b.keys()
    differ = [k for k in a if not (a[k] == b[k] if not isinstance(a[k], np.ndarray) else np.array_equal(a[k], b[k]))]
    assert differ == []
