"""Runs that survive, from Python: Ctrl-C stops a run at a step boundary (file closed with the
summary of the steps done, KeyboardInterrupt raised), and resume=True continues it to a file whose
contents equal an uninterrupted run's (docs/reliability.md)."""
import os
import signal
import threading

import h5py
import numpy as np
import pytest

from conftest import ROOT

import libgrid


def _scenario(steps):
    # issue 15: checkpoints and resume: the balanced engine (the unbalanced one keeps none yet)
    return libgrid.Scenario.load(ROOT / "scenarios" / "melaka_smart_city.yaml").set("horizon.steps", steps).set("threads", 1).set(
        "network.model", "balanced")


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


def test_ctrl_c_stops_at_a_step_boundary_then_resume_completes(tmp_path, ctrl_c):
    whole, parts = tmp_path / "whole.h5", tmp_path / "parts.h5"
    _scenario(1500).run(output=str(whole))
    # SIGINT to this process while the run goes on (GIL released): as Ctrl-C in a notebook
    seen = []

    def progress_interrupt(done, total):
        seen.append(done)

    sc = _scenario(1500)
    timer_fired = threading.Event()

    def interrupt_when_past_600():
        # wait until the run has passed the second checkpoint boundary, then "press Ctrl-C"
        import time
        while not seen or seen[-1] < 600:
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGINT)
        timer_fired.set()

    t = threading.Thread(target=interrupt_when_past_600, daemon=True)
    from libgrid import _libgrid
    t.start()
    with pytest.raises(KeyboardInterrupt):
        sc._core.run(str(parts), progress_interrupt, False)
    t.join(5)
    assert timer_fired.is_set()
    with h5py.File(parts, "r") as f:
        assert f.attrs["status"] == "stopped"
        assert f.attrs["stop_reason"] == "SIGINT"
        done = int(f.attrs["steps_done"])
        assert 600 <= done < 1500
        assert f["time"].shape[0] == done
        assert f["summary"].attrs["incomplete"] == 1
    assert os.path.exists(str(parts) + ".ckpt")
    res = sc.run(output=str(parts), resume=True)
    assert res.run_summary["completed"]
    assert res.run_summary["resumed_from_step"] in (256, 512, 768, 1024, 1280)
    assert not os.path.exists(str(parts) + ".ckpt")
    a, b = _contents(whole), _contents(parts)
    assert a.keys() == b.keys()
    differ = [k for k in a if not (a[k] == b[k] if not isinstance(a[k], np.ndarray) else np.array_equal(a[k], b[k]))]
    assert differ == []


def test_resume_needs_a_checkpoint(tmp_path):
    with pytest.raises(libgrid.Error, match="no checkpoint"):
        _scenario(300).run(output=str(tmp_path / "none.h5"), resume=True)
    with pytest.raises(ValueError, match="needs the output file"):
        _scenario(300).run(resume=True)
