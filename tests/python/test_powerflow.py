import json
import sys
import threading

import numpy as np
import pandas as pd
import pytest

import libgrid
from conftest import DATA


def ref(name):
    return json.loads((DATA / "refs" / f"{name}.json").read_text())


@pytest.mark.parametrize("case", ["case9", "case30", "case118", "case300"])
@pytest.mark.parametrize("method", ["nr", "fdxb"])
def test_matches_matpower(case, method):
    net = libgrid.Network.from_matpower(DATA / "matpower" / f"{case}.m")
    res = net.run_pf(method=method, tolerance=1e-10 if method == "fdxb" else 1e-8)
    assert res.converged
    r = ref(case)
    assert isinstance(res.bus, pd.DataFrame)
    assert list(res.bus.index) == r["bus"]["id"]
    assert np.max(np.abs(res.bus.vm_pu.values - np.array(r["bus"]["Vm_pu"]))) < 1e-6
    assert np.max(np.abs(res.bus.va_deg.values - np.array(r["bus"]["Va_deg"]))) < 1e-5
    assert np.max(np.abs(res.branch.p_from_mw.values - np.array(r["branch"]["Pf_MW"]))) < 1e-4
    assert abs(res.losses_mw - r["losses"]["sum_Pf_plus_Pt_MW"]) < 1e-4
    assert set(["p_mw", "q_mvar", "bus"]) <= set(res.gen.columns)


def test_network_tables_and_edit():
    net = libgrid.Network.from_matpower(DATA / "matpower" / "case9.m")
    assert len(net.bus) == 9 and net.bus.index.name == "id"
    assert list(net.load.columns)[:3] == ["name", "bus", "p_mw"]
    base = net.run_pf()
    net.set("load", "p_mw", net.load.p_mw.values * 1.1)
    heavier = net.run_pf()
    added = 0.1 * net.load.p_mw.sum() / 1.1
    # the slack generator picks up the added load and the change in losses: an energy balance
    d_slack = heavier.gen.p_mw.iloc[0] - base.gen.p_mw.iloc[0]
    assert d_slack == pytest.approx(added + heavier.losses_mw - base.losses_mw, abs=1e-6)
    with pytest.raises(libgrid.ValidationError, match="unknown column"):
        net.set("load", "nope", [1.0])


def test_bad_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "broken.m"
    bad.write_text("function mpc = broken\nmpc.baseMVA = 100;\nmpc.bus = [\n 1 3 0 0;\n];\n")
    with pytest.raises(libgrid.ParseError, match="broken.m"):
        libgrid.Network.from_matpower(bad)
    with pytest.raises(libgrid.ParseError):
        libgrid.Network.from_matpower(tmp_path / "missing.m")


def test_nonconvergence_is_a_flag():
    net = libgrid.Network.from_matpower(DATA / "matpower" / "case9.m")
    net.set("load", "p_mw", net.load.p_mw.values * 20)
    res = net.run_pf(max_iterations=10)
    assert not res.converged
    assert res.message


def test_gil_released_during_solve():
    """No timing: with a switch interval of 10 minutes a thread running Python keeps the GIL until it
    lets go of it itself. The solver thread solves up to 200 times; the main thread, waiting for the
    GIL, can only get it back while a solve has released it (or once the solver thread has finished).
    So the main thread running before the last solve ended proves the release, however loaded the
    machine is."""
    net = libgrid.Network.from_matpower(DATA / "matpower" / "case_ACTIVSg2000.m")  # a solve of ~10 ms
    net.run_pf(linear_solver="sparselu")  # warm: no first-call imports (file reads release the GIL)
    started, stop = threading.Event(), threading.Event()
    solves = []

    def solver():
        started.set()
        for _ in range(200):
            if stop.is_set():
                break
            net.run_pf(linear_solver="sparselu")
            solves.append(1)

    old = sys.getswitchinterval()
    sys.setswitchinterval(600.0)
    try:
        t = threading.Thread(target=solver)
        t.start()
        started.wait()            # the solver thread holds the GIL from here on, except inside solves
        ran_during = t.is_alive()  # this line runs only when a solve let go of the GIL (or at the end)
        done_then = len(solves)
        stop.set()
        t.join()
    finally:
        sys.setswitchinterval(old)
    assert ran_during and done_then < 200, done_then
