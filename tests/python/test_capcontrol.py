"""Capacitor controls (OpenDSS CapControl) from Python and the CLI: the states OpenDSS settles at
(tests/data/opendss/capcontrol/*.csv, made by OpenDSS itself) in `res.capacitors` and in the JSON."""
import json
import subprocess

import libgrid
from conftest import BUILD, DATA

CAPS = DATA / "opendss" / "capcontrol"


def opendss_states(stem):
    out = {}
    for line in (CAPS / f"{stem}.csv").read_text().splitlines():
        f = line.split(",")
        if f[0] == "capacitor":
            out[f[1]] = [int(x) for x in f[2].split()]
        if f[0] == "meta" and f[1] == "control_iterations":
            out["_iterations"] = int(f[2])
    return out


def test_python_capacitors_table_equals_opendss():
    ref = opendss_states("ieee13_voltage_steps")
    net = libgrid.Network.from_dss(str(CAPS / "ieee13_voltage_steps.dss"))
    res = net.run_pf()
    assert res.converged
    assert res.control_iterations == ref["_iterations"]
    t = res.capacitors
    assert list(t.columns) == ["capacitor", "capcontrol", "step", "state"]
    rows = t[t.capacitor == "c675s"].sort_values("step")
    assert list(rows.step) == [1, 2, 3]
    assert list(rows.state) == ref["c675s"]


def test_cli_json_capacitors_equal_opendss():
    ref = opendss_states("ieee13_kvar")
    p = subprocess.run([str(BUILD / "libgrid"), "pf", str(CAPS / "ieee13_kvar.dss"), "--json", "-"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["capacitors"] == {"cap1": ref["cap1"], "cap2": ref["cap2"]}
    assert d["control_iterations"] == ref["_iterations"]


def test_capcontrols_table():
    net = libgrid.Network.from_dss(str(CAPS / "ieee13_pf_override.dss"))
    t = net.capcontrols
    assert list(t.index) == ["cpf", "covr"]
    assert t.loc["cpf", "type"] == "pf"
    assert t.loc["cpf", "element"] == "line.650632"
    assert t.loc["covr", "capacitor"] == "cap2"
    assert bool(t.loc["covr", "voltoverride"])
    assert t.loc["covr", "vmax_volts"] == 114.0
