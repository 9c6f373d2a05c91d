"""Issue 19: the stepped Simulation from Python (start, step, run_until, set points, finish) and
its results in memory, equal to the whole run and to the HDF5 file."""
import math
import threading

import numpy as np
import pandas as pd
import pytest

import libgrid
from conftest import DATA, ROOT


def cigre():
    return libgrid.Network.from_json(DATA / "cigre" / "cigre_lv.input.json")


def make(net):
    lid = int(net.load.index[0])
    bus = int(net.load.bus[lid])
    dev = libgrid.Devices()
    dev.add_pv(id=7, bus=bus, kwp=30, customer=lid)
    dev.add_battery(id=3, bus=bus, kwh=40, kw=10, customer=lid, strategy="self_consumption")
    return libgrid.Simulation(net, dev, start="2025-03-03", step="15min", horizon="1d")


def test_stepped_day_equals_the_whole_run_and_the_file(tmp_path):
    net = cigre()
    whole = make(net)
    res = whole.run(output=tmp_path / "whole.h5", )
    stepped = make(net)
    stepped.float32 = False
    sim = stepped.start(output=tmp_path / "stepped.h5")
    info = sim.step()
    assert info["step"] == 0 and info["converged"]
    assert sim.run_until("2025-03-03T12:00") == 47
    assert sim.steps_done == 48 and sim.next_time.strftime("%Y-%m-%d %H:%M") == "2025-03-03 12:00"
    assert sim.results.bus_vm().index[0] == info["time"]
    assert sim.results.steps == 48
    assert sim.results.bus_vm().shape == (48, len(net.bus))
    while not sim.done:
        sim.step()
    summary = sim.finish()
    assert summary["losses_mwh"] == whole.summary["losses_mwh"]
    mem = sim.results.bus_vm()
    assert list(mem.columns) == list(net.bus.index)
    # the whole run's file is float32; the stepped run's float64 file equals memory bit for bit
    f64 = libgrid.read_results(tmp_path / "stepped.h5").bus_vm()
    assert np.array_equal(mem.values, f64.values)
    assert (mem.index == f64.index).all()
    assert np.allclose(mem.values, res.bus_vm().values, rtol=1e-6)
    assert {"bus/vm_pu", "line/loading_percent", "trafo/p_loss_mw"} <= set(sim.results.names())
    lines = sim.results.line_loading()
    assert list(lines.columns) == list(net.line.index)
    # the file gives the same per-kind tables by element id (issue 19: not /branch's running index)
    from_file = libgrid.read_results(tmp_path / "stepped.h5")
    assert np.array_equal(from_file.line_loading().values, lines.values)
    assert list(from_file.trafo_loading().columns) == list(net.trafo.index)
    assert np.array_equal(from_file.series("trafo", "p_loss_mw").values, sim.results.series("trafo", "p_loss_mw").values)
    assert sim.results.summary()["losses_mwh"] == summary["losses_mwh"]


def test_set_points_between_steps():
    net = cigre()
    sim = make(net).start()
    sim.run_until("2025-03-03T12:00")
    sim.set_battery_power(3, -6.0)
    sim.set_pv_limit(7, 5.0)
    sim.run_until("2025-03-04")
    sim.finish()
    p = sim.results.series("battery", "p_mw")[3]
    soc = sim.results.series("battery", "soc")[3]
    after = np.arange(len(p)) >= 48
    charging = after & (soc.values < 0.9 - 1e-9)
    assert charging.any()
    assert np.allclose(p[charging], -0.006)
    pv = sim.results.series("pv", "p_mw")[7]
    assert (pv[after] <= 0.005 + 1e-12).all() and pv[after].max() > 0.0049
    with pytest.raises(libgrid.Error):
        sim.step()  # finished


def test_bad_set_points_and_misuse_are_clear_errors():
    net = cigre()
    sim = make(net).start()
    with pytest.raises(libgrid.IdError, match="battery id 99"):
        sim.set_battery_power(99, 1.0)
    with pytest.raises(libgrid.IdError):
        sim.set_switch(424242, False)
    with pytest.raises(libgrid.ValidationError, match="p_max_kw"):
        sim.set_pv_limit(7, -1.0)
    with pytest.raises(libgrid.Error, match="no_such"):
        sim.results.series("bus", "no_such")


def test_cancel_from_another_thread_stops_at_a_step_boundary():
    net = cigre()
    sim = make(net).start()
    sim.step()
    t = threading.Thread(target=sim.cancel)
    t.start()
    t.join()
    assert sim.done
    summary = sim.finish()
    assert summary["steps"] == 1


def test_scenario_stepped_equals_its_whole_run(tmp_path):
    def scenario():
        return libgrid.Scenario.load(ROOT / "scenarios" / "melaka_smart_city.yaml").override(steps=16, size="small", model="balanced")
    whole = scenario().run(output=tmp_path / "whole.h5")
    run = scenario().stepped()
    n = 0
    while not run.done:
        assert run.step()["step"] == n
        n += 1
    summary = run.finish()
    assert n == 16 and summary["steps"] == 16
    assert summary["losses_mwh"] == whole.run_summary["losses_mwh"]
    assert summary["bills_rm"] == whole.run_summary["bills_rm"]
    assert np.allclose(run.results.bus_vm().values, whole.bus_vm().values, rtol=1e-6, equal_nan=True)


def test_library_errors_are_the_python_exceptions_users_catch():
    assert issubclass(libgrid.ValidationError, ValueError) and issubclass(libgrid.ValidationError, libgrid.Error)
    assert issubclass(libgrid.ParseError, ValueError)
    assert issubclass(libgrid.IdError, LookupError) and issubclass(libgrid.IdError, libgrid.Error)
    run = make(cigre()).start()
    with pytest.raises(ValueError, match="p_max_kw"):
        run.set_pv_limit(7, -1.0)
    with pytest.raises(LookupError, match="battery id 99"):
        run.set_battery_power(99, 1.0)
