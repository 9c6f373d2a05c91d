"""to_unetwork and the Melaka grid as built from Python (issue 15)."""
import os

import numpy as np
import pytest

import libgrid

DATA = os.path.join(os.path.dirname(__file__), "..", "data")


def _cigre():
    return libgrid.Network.from_json(os.path.join(DATA, "cigre", "cigre_lv.input.json"))


def test_three_phase_loads_give_the_balanced_voltages():
    net = _cigre()
    bal = net.run_pf(tolerance=1e-12)
    u = libgrid.to_unetwork(net, model_neutral=False)
    assert isinstance(u, libgrid.UnbalancedNetwork)
    assert list(u.loads["id"]) == list(net.load.index)
    res = u.run_pf(tolerance=1e-12)
    assert res.converged
    a = res.node[res.node.phase == 1].copy()
    a["id"] = a["bus"].map(dict(zip(u.buses.index, u.buses["id"])))
    vm = bal.bus["vm_pu"].reindex(a["id"]).to_numpy()
    assert np.max(np.abs(a["vm_pu"].to_numpy() - vm)) < 1e-6


def test_single_phase_loads_unbalance():
    net = _cigre()
    small = [int(i) for i, row in net.load.iterrows() if row["p_mw"] < 0.02]
    u = libgrid.to_unetwork(net, load_phases={i: "ab"[k % 2] for k, i in enumerate(small)})
    res = u.run_pf()
    assert res.converged
    assert res.unbalance.vuf_pct.max() > 0.1
    assert res.unbalance.v_neutral_volts.max() > 0.1
    with pytest.raises(TypeError):
        libgrid.to_unetwork(net, no_such_option=1)
    with pytest.raises(libgrid.ValidationError, match="load id"):
        libgrid.to_unetwork(net, load_phases={small[0]: "x"})


def test_melaka_as_built():
    u, phases = libgrid.melaka_unetwork("small", seed=1, imbalance=0.3, phase_seed=2)
    u2, phases2 = libgrid.melaka_unetwork("small", seed=1, imbalance=0.3, phase_seed=2)
    assert phases == phases2
    assert set(phases) <= {"a", "b", "c", "abc"} and "a" in phases and "abc" in phases
    res = u.run_pf()
    assert res.converged
    assert res.unbalance.vuf_pct.max() > 0.05
    first = phases.index("a")
    _, moved = libgrid.melaka_unetwork("small", seed=1, imbalance=0.3, phase_seed=2, rephase={first: "b"})
    assert moved[first] == "b"


def test_cli_pf_unbalanced():
    import json
    import subprocess
    from conftest import BUILD
    case = os.path.join(DATA, "cigre", "cigre_lv.input.json")
    p = subprocess.run([str(BUILD / "libgrid"), "pf", case, "--unbalanced", "--no-neutral", "--json", "-"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["converged"]
    bal = _cigre().run_pf(tolerance=1e-10)
    node = d["node"]
    va = {b: v for b, ph, v in zip(node["bus"], node["phase"], node["vm_pu"]) if ph == 1}
    assert abs(va["b16"] - bal.bus["vm_pu"][16]) < 1e-6  # bus names are b<id>
    p = subprocess.run([str(BUILD / "libgrid"), "pf", case, "--unbalanced", "--load-phases", "1=a,12=b,14=c"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "worst VUF" in p.stdout
    p = subprocess.run([str(BUILD / "libgrid"), "pf", case, "--load-phases", "1=a"], capture_output=True, text=True)
    assert p.returncode != 0 and "--unbalanced" in p.stderr
