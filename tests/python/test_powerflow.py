import json
import threading
import time

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
    net = libgrid.Network.from_matpower(DATA / "matpower" / "case_ACTIVSg2000.m")
    ticks = []
    stop = threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.0005)

    t = threading.Thread(target=count)
    t.start()
    time.sleep(0.01)
    n0 = len(ticks)
    for _ in range(20):
        net.run_pf(linear_solver="sparselu")
    n1 = len(ticks)
    stop.set()
    t.join()
    # With the GIL held through 20 solves the counter could not have advanced during them.
    assert n1 - n0 > 5
