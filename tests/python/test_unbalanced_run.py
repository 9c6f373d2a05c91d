"""Issue 15: unbalanced time series from a scenario (network.file: a .dss script), its results file
and their Python accessors and plot.

Two kinds of tests:
- FORMAT tests (marked `format`): a small results file written here with h5py, by hand, following the
  unbalanced layout of docs/results_hdf5.md ("Unbalanced runs"); they test the readers
  (Results.node_vm, node_vln_pu, vuf, trafo_phase_power, model) and the profile plot against numbers
  worked out by hand, without the engine.
- END-TO-END tests: the European LV feeder's scenario (scenarios/eulv_day.yaml) run through the engine
  for an hour from 09:00 (60 one-minute steps), checked against its own data files (the load shapes
  of the OpenDSS script) and the energy balance.
"""
import cmath
import math
import pathlib
import subprocess

import h5py
import numpy as np
import pandas as pd
import pytest

import libgrid
from libgrid import plots
from conftest import BUILD, ROOT

EULV = ROOT / "scenarios" / "eulv_day.yaml"
SHAPES = ROOT / "tests" / "data" / "opendss" / "eulv" / "Daily_1min_100profiles"

# ---- format tests: a file written by hand ----------------------------------------------------------

FEEDER = """clear
new circuit.t basekv=0.416 bus1=src pu=1.0 phases=3
new linecode.lc nphases=3 r1=0.1 x1=0.05 r0=0.3 x0=0.15 units=km
new line.l1 bus1=src bus2=b1 linecode=lc length=100 units=m
new line.l2 bus1=b1 bus2=b2 linecode=lc length=0.2 units=km
new load.x bus1=b2.1 phases=1 kv=0.24 kw=1
set voltagebases=[0.416]
calcvoltagebases
"""

VBASE = 416.0 / math.sqrt(3.0)  # phase-to-ground base, V
# nodes: src a b c, b1 a b c, b2 a b c n
NODE_BUS = [1, 1, 1, 2, 2, 2, 3, 3, 3, 3]
NODE_BUS_NAME = ["src"] * 3 + ["b1"] * 3 + ["b2"] * 4
NODE_PHASE = ["a", "b", "c"] * 3 + ["n"]


def _node_voltages():
    """Two steps of node voltages (V, degrees) chosen by hand."""
    v = np.array([[240.0, 240.0, 240.0, 236.0, 238.0, 239.0, 230.0, 235.0, 237.0, 5.0],
                  [240.0, 240.0, 240.0, 238.0, 239.0, 239.5, 234.0, 237.0, 238.0, 3.0]])
    a = np.array([[0.0, -120.0, 120.0, -0.5, -120.3, 119.8, -1.0, -120.5, 119.5, 180.0],
                  [0.0, -120.0, 120.0, -0.3, -120.2, 119.9, -0.6, -120.3, 119.7, 180.0]])
    return v, a


def _write_unbalanced(path: pathlib.Path, scenario: str = "") -> None:
    """The layout of docs/results_hdf5.md, "Unbalanced runs", for the FEEDER above (two steps)."""
    v, a = _node_voltages()
    s = h5py.string_dtype()
    with h5py.File(path, "w") as f:
        f.attrs["model"] = "unbalanced"
        f.attrs["scenario"] = scenario
        t = f.create_dataset("time", data=np.array([1735693260, 1735693320], dtype=np.int64))
        t.attrs["units"] = "seconds since 1970-01-01 00:00:00 +08:00"
        f["bus/id"] = np.array([1, 2, 3])
        f.create_dataset("bus/name", data=["src", "b1", "b2"], dtype=s)
        f["bus/vn_kv"] = np.full(3, 0.416)
        f["bus/vuf_percent"] = np.array([[0.0, 0.4, np.nan], [0.0, 0.3, np.nan]])
        f["bus/v_neutral_volts"] = np.array([[np.nan, np.nan, 5.0], [np.nan, np.nan, 3.0]])
        f["node/id"] = np.arange(10)
        f["node/bus"] = np.array(NODE_BUS)
        f.create_dataset("node/bus_name", data=NODE_BUS_NAME, dtype=s)
        f.create_dataset("node/phase", data=NODE_PHASE, dtype=s)
        f["node/vbase_volts"] = np.full(10, VBASE)
        f["node/v_volts"] = v
        f["node/vm_pu"] = v / VBASE
        f["node/va_deg"] = a
        f["branch/id"] = np.arange(3)
        f.create_dataset("branch/kind", data=["line", "line", "trafo"], dtype=s)
        f.create_dataset("branch/name", data=["l1", "l2", "tx"], dtype=s)
        f["trafo/id"] = np.array([1])
        for side, sign in (("hv", 1.0), ("lv", -1.0)):
            for k, ph in enumerate("abc"):
                f[f"trafo/p_{ph}_{side}_mw"] = sign * np.array([[0.010 + k * 0.001], [0.011 + k * 0.001]])
                f[f"trafo/q_{ph}_{side}_mvar"] = sign * np.array([[0.003], [0.004]])


@pytest.fixture
def unbalanced_file(tmp_path):
    p = tmp_path / "u.h5"
    _write_unbalanced(p)
    return libgrid.read_results(p)


@pytest.mark.format
def test_format_model_and_node_columns(unbalanced_file, tmp_path):
    res = unbalanced_file
    assert res.model == "unbalanced"
    vm = res.node_vm()
    assert list(vm.columns) == [f"{b}.{p}" for b, p in zip(NODE_BUS_NAME, NODE_PHASE)]
    va = res.node_vm(phase="a")
    assert list(va.columns) == ["src.a", "b1.a", "b2.a"]
    assert va.loc[:, "b2.a"].iloc[0] == pytest.approx(230.0 / VBASE, rel=1e-12)
    assert list(res.node_vm(phase=["a", "n"]).columns) == ["src.a", "b1.a", "b2.a", "b2.n"]
    assert res.node_v_volts(phase="c").iloc[1].tolist() == [240.0, 239.5, 238.0]
    assert res.node_va_deg(phase="b").iloc[0].tolist() == [-120.0, -120.3, -120.5]
    nodes = res.nodes()
    assert nodes.loc[9, "phase"] == "n" and nodes.loc[9, "bus"] == 3
    # a balanced file (no `model` attribute) is balanced and has no node accessors
    b = tmp_path / "b.h5"
    with h5py.File(b, "w") as f:
        f["time"] = np.array([0], dtype=np.int64)
    rb = libgrid.read_results(b)
    assert rb.model == "balanced"
    with pytest.raises(KeyError, match="model is 'balanced'"):
        rb.node_vm()
    with pytest.raises(ValueError, match="phase="):
        res.node_vm(phase="x")


@pytest.mark.format
def test_format_phase_to_neutral(unbalanced_file):
    """|V_a - V_n| at b2 worked by hand: 230 V at -1 deg minus 5 V at 180 deg."""
    vln = unbalanced_file.node_vln_pu()
    assert "b2.n" not in vln.columns and len(vln.columns) == 9
    hand = abs(cmath.rect(230.0, math.radians(-1.0)) - cmath.rect(5.0, math.radians(180.0))) / VBASE
    assert vln["b2.a"].iloc[0] == pytest.approx(hand, rel=1e-12)
    # about 235 V: the neutral's 5 V opposite phase a adds to it
    assert 234.9 / VBASE < vln["b2.a"].iloc[0] < 235.0 / VBASE
    # no neutral at b1: phase to ground
    assert vln["b1.b"].iloc[1] == pytest.approx(239.0 / VBASE, rel=1e-12)


@pytest.mark.format
def test_format_phase_to_neutral_without_angles(tmp_path):
    """Without /node/va_deg (angles not recorded): a neutral node makes phase to neutral unknowable
    (an error naming outputs.bus_angles); without one it is the magnitude to ground."""
    p = tmp_path / "noangles.h5"
    _write_unbalanced(p)
    with h5py.File(p, "a") as f:
        del f["node/va_deg"]
    with pytest.raises(KeyError, match="outputs.bus_angles"):
        libgrid.read_results(p).node_vln_pu()
    with h5py.File(p, "a") as f:  # b2's neutral becomes a fourth wire of nothing: call it phase c of a bus of its own
        del f["node/phase"]
        f.create_dataset("node/phase", data=NODE_PHASE[:-1] + ["c"], dtype=h5py.string_dtype())
    vln = libgrid.read_results(p).node_vln_pu()
    assert vln["b2.a"].iloc[0] == pytest.approx(230.0 / VBASE, rel=1e-12)


@pytest.mark.format
def test_format_vuf_and_trafo_phase_power(unbalanced_file):
    vuf = unbalanced_file.vuf()
    assert list(vuf.columns) == ["src", "b1"]  # b2's NaN column (not three-phase here) is left out
    assert vuf["b1"].tolist() == [0.4, 0.3]
    tp = unbalanced_file.trafo_phase_power()
    assert tp.columns.names == ["trafo", "side", "quantity", "phase"]
    assert tp[("tx", "hv", "p_mw", "b")].tolist() == pytest.approx([0.011, 0.012])
    assert tp[("tx", "lv", "q_mvar", "c")].tolist() == pytest.approx([-0.003, -0.004])
    assert tp.shape == (2, 12)


@pytest.mark.format
def test_format_phase_voltage_profile(unbalanced_file, tmp_path):
    """The profile: distances along the lines (0, 0.1, 0.3 km) and phase-to-neutral voltages."""
    net = libgrid.UnbalancedNetwork.from_dss_string(FEEDER)
    dist = plots.unbalanced_bus_distance(net)
    assert dist["src"] == 0.0 and dist["b1"] == pytest.approx(0.1) and dist["b2"] == pytest.approx(0.3)
    ax = plots.phase_voltage_profile(unbalanced_file, net, time=0, limits=(0.95, 1.05))
    prof = ax.profile.set_index(["bus", "phase"])
    assert prof.loc[("b2", "a"), "distance_km"] == pytest.approx(0.3)
    hand = abs(cmath.rect(230.0, math.radians(-1.0)) - cmath.rect(5.0, math.radians(180.0))) / VBASE
    assert prof.loc[("b2", "a"), "v_pu"] == pytest.approx(hand, rel=1e-12)
    assert sorted(prof.index.get_level_values("phase").unique()) == ["a", "b", "c"]
    assert len(ax.collections) == 3  # one set of line segments per phase
    # default time: the step with the lowest phase voltage (step 0 here: 230 V at b2.a)
    ax2 = plots.phase_voltage_profile(unbalanced_file, net)
    assert ax2.profile_time == unbalanced_file.time[0]
    ax.figure.savefig(tmp_path / "profile.png")


# ---- scenario parsing (no engine needed) -----------------------------------------------------------

def _dss_scenario(tmp_path, body: str) -> pathlib.Path:
    master = ROOT / "tests" / "data" / "opendss" / "eulv" / "Master.dss"
    p = tmp_path / "s.yaml"
    p.write_text(f"network:\n  file: {master}\n" + body)
    return p


def test_dss_scenario_builds_customers_from_loads(tmp_path):
    sc = libgrid.Scenario.load(_dss_scenario(tmp_path, "horizon: {start: '2025-01-01T00:01', step: 1min, steps: 2}\n"))
    assert sc.unbalanced
    counts = sc.counts()
    assert counts["loads"] == 55 and counts["steps"] == 2
    cust = sc.customers()
    assert len(cust) == 55 and cust.index.min() == 1  # ids: the engine's index + 1
    # LOAD1: kW=1 x its shape (load_profile_1.txt, one value a minute): its day's kWh = sum / 60
    mult = np.loadtxt(SHAPES / "load_profile_1.txt")
    assert cust.loc[1, "daily_kwh"] == pytest.approx(mult.sum() / 60.0, rel=1e-9)
    assert cust.loc[1, "peak_kw"] == pytest.approx(mult.max(), rel=1e-12)
    net = sc.network()
    assert isinstance(net, libgrid.UnbalancedNetwork)


@pytest.mark.parametrize("body, key, words", [
    ("  load_factor: 0.5\n", "network.load_factor", "LoadShapes"),
    ("  ext_grid_sk_mva: 100\n", "network.ext_grid_sk_mva", "Vsource"),
    ("  size: small\n", "network.size", "generated network"),
    ("profiles: {power_factor: 0.9}\n", "profiles.power_factor", "LoadShapes"),
    ("devices: {pv: {share: 0.5, phases: abd}}\n", "devices.pv.phases", "expected a, b, c"),
    ("devices: {pv: {share: 0.2, customers: [load1]}}\n", "devices.pv.customers", "either 'share' or 'customers'"),
])
def test_dss_scenario_refuses(tmp_path, body, key, words):
    p = _dss_scenario(tmp_path, body)
    with pytest.raises(libgrid.ParseError) as e:
        libgrid.Scenario.load(p)
    msg = str(e.value)
    assert f"s.yaml:" in msg and f"key '{key}'" in msg and words in msg


def test_phases_refused_on_a_balanced_network(tmp_path):
    p = tmp_path / "b.yaml"
    p.write_text("network: {model: balanced}\ndevices:\n  ev:\n    share: 0.1\n    phases: a\n")
    with pytest.raises(libgrid.ParseError, match=r"b.yaml:5: key 'devices.ev.phases': applies to unbalanced networks"):
        libgrid.Scenario.load(p)


def test_dss_scenario_names(tmp_path):
    ok = _dss_scenario(tmp_path, "horizon: {start: '2025-01-01T00:01', step: 1min, steps: 2}\n"
                                 "devices:\n  pv: {customers: [LOAD1, load32], phases: A}\n"
                                 "  ev:\n    public_sites: {buses: ['34'], chargers: [{kind: public_ac, n: 1}]}\n")
    sc = libgrid.Scenario.load(ok)
    c = sc.counts()
    assert c["pv"] == 2 and c["charging_sites"] == 1
    again = libgrid.Scenario.parse(sc.to_yaml(), str(ok))  # the effective YAML reads back alike
    assert again.counts() == c
    bad = _dss_scenario(tmp_path, "devices:\n  pv: {customers: [load99]}\n")
    with pytest.raises(libgrid.ValidationError, match=r"key 'devices.pv.customers.0': no load 'load99'"):
        libgrid.Scenario.load(bad).counts()
    bad_bus = _dss_scenario(tmp_path, "devices:\n  ev:\n    public_sites: {buses: [nowhere]}\n")
    with pytest.raises(libgrid.ValidationError, match=r"key 'devices.ev.public_sites.buses.0': no bus 'nowhere'"):
        libgrid.Scenario.load(bad_bus).counts()


# ---- end to end: the engine on the European LV feeder ------------------------------------------------

@pytest.fixture(scope="module")
def eulv_hour(tmp_path_factory):
    sc = libgrid.Scenario.load(EULV)
    sc.set("horizon.start", "2025-01-01T09:00").set("horizon.steps", 60)
    out = tmp_path_factory.mktemp("eulv") / "eulv_hour.h5"
    return sc.run(str(out))


def test_eulv_hour_runs_unbalanced(eulv_hour):
    res = eulv_hour
    assert res.model == "unbalanced"
    assert len(res.time) == 60
    assert (res.time[1] - res.time[0]) == pd.Timedelta(minutes=1)
    assert res.time[0].strftime("%H:%M") == "09:00"
    va = res.node_vm(phase="a")
    assert va.shape[0] == 60 and va.shape[1] > 100
    vln = res.node_vln_pu()
    lv = vln.loc[:, [c for c in vln.columns if not c.startswith("sourcebus")]]
    # a lightly loaded LV feeder under a 1.05 p.u. source: every phase voltage near nominal
    assert np.nanmin(lv.to_numpy()) > 0.9 and np.nanmax(lv.to_numpy()) < 1.1


def test_eulv_hour_loads_follow_their_shapes(eulv_hour):
    """LOAD1 (Bus1=34.1, kV=0.23, kW=1, yearly=Shape_1, OpenDSS's model 1) draws its shape's value at
    each minute: OpenDSS's point i lies at i minutes after midnight, so 09:00 + k min is point 540 + k
    (line 540 + k of load_profile_1.txt, 1-based). Model 1 is constant PQ inside [vminpu, vmaxpu] =
    [0.95, 1.05] of 230 V and a constant impedance outside (Load.pas: the power at the limit, then as V^2),
    so P = P_shape x (V / (1.05 x 230 V))^2 above 241.5 V."""
    mult = np.loadtxt(SHAPES / "load_profile_1.txt")
    p = eulv_hour.series("load", "p_mw")
    names = list(eulv_hour.vector("load", "name"))
    col = p.columns[names.index("load1")]
    v = eulv_hour.node_v_volts(phase="a")["34.a"].to_numpy(dtype=float)
    vmax, vmin = 1.05 * 230.0, 0.95 * 230.0
    factor = np.where(v > vmax, (v / vmax) ** 2, np.where(v < vmin, (v / vmin) ** 2, 1.0))
    expected_kw = mult[539:599] * factor
    assert (-p[col].to_numpy() * 1000.0) == pytest.approx(expected_kw, rel=2e-5, abs=1e-6)


def test_eulv_hour_energy_balance(eulv_hour):
    """Every step: source power = load power + losses (generator convention: sum of p = losses)."""
    res = eulv_hour
    src = res.series("ext_grid", "p_mw").sum(axis=1)
    load = res.series("load", "p_mw").sum(axis=1)
    loss = res.series("branch", "p_loss_mw").sum(axis=1, min_count=1)
    resid = (src + load - loss).abs()
    assert resid.max() < 1e-6 + 1e-4 * src.abs().max()


def test_eulv_cli_run_and_info(tmp_path):
    cli = BUILD / "libgrid"
    out = tmp_path / "cli.h5"
    r = subprocess.run([str(cli), "run", str(EULV), "-o", str(out), "--steps", "5", "-q"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "per phase" in r.stdout and "phase a" in r.stdout and "worst VUF" in r.stdout
    info = subprocess.run([str(cli), "info", str(out)], capture_output=True, text=True)
    assert info.returncode == 0, info.stderr
    assert "model            unbalanced" in info.stdout


def test_simulation_on_an_unbalanced_network(tmp_path):
    """libgrid.Simulation takes an UnbalancedNetwork as it takes a Network (Simulation(UNetwork, ...))."""
    net = libgrid.UnbalancedNetwork.from_dss(ROOT / "tests" / "data" / "opendss" / "eulv" / "Master.dss")
    sim = libgrid.Simulation(net, start="2025-01-01T09:00", step="1min", horizon="5min")
    res = sim.run(output=str(tmp_path / "sim.h5"))
    assert res.model == "unbalanced"
    assert len(res.time) == 5
    assert res.node_vm(phase="b").shape[0] == 5
