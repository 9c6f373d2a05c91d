"""The faces of the unbalanced power flow (issue 14): `libgrid.read_dss` / `Network.from_dss` give an
UnbalancedNetwork whose tables hold the script's elements (counted from the script text itself);
`run_pf` gives node, element, unbalance and tap tables that are consistent with each other (the
source feeds the loads and the losses; the VUF is |V2|/|V1| of the node phasors; each terminal's
power is V conj(I)); the CLI's JSON (`libgrid pf FEEDER.dss --json -`) carries the same numbers;
the writer's script reads back equal; bad input raises ParseError naming file and line.
Feeders: tests/data/opendss (OpenDSS's distribution, LICENSE-OpenDSS.txt)."""
import json
import math
import re
import subprocess

import numpy as np
import pytest

import libgrid
from conftest import BUILD, DATA

FEEDERS = DATA / "opendss"
CLI = BUILD / "libgrid"


def find(folder, name):
    """A file of a feeder folder by name, without regard to case (OpenDSS's own rule)."""
    d = FEEDERS / folder
    if d.is_dir():
        for p in d.iterdir():
            if p.name.lower() == name.lower():
                return p
    pytest.skip(f"no {folder}/{name} under {FEEDERS}")


@pytest.fixture(scope="module")
def ieee13_path():
    return find("ieee13", "IEEE13Nodeckt.dss")


@pytest.fixture(scope="module")
def ieee13(ieee13_path):
    return libgrid.read_dss(ieee13_path)


@pytest.fixture(scope="module")
def ieee13_res(ieee13_path):
    net = libgrid.Network.from_dss(ieee13_path)
    return net, net.run_pf()


def count_new(text, cls):
    """`New <cls>.<name>` lines of a script outside /* */ blocks and comments: the reference count."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    names = set()
    for line in text.splitlines():
        line = re.split(r"!|//", line)[0]
        m = re.match(rf"\s*new\s+(?:object\s*=\s*)?{cls}\.(\S+)", line, flags=re.I)
        if m:
            names.add(m.group(1).lower())
    return names


def test_from_dss_is_read_dss_and_says_why(ieee13_path, ieee13):
    net = libgrid.Network.from_dss(ieee13_path)
    assert isinstance(net, libgrid.UnbalancedNetwork)
    assert net == ieee13
    assert "UnbalancedNetwork" in libgrid.Network.from_dss.__doc__
    assert "phases" in libgrid.Network.from_dss.__doc__


def test_tables_have_the_scripts_rows(ieee13_path, ieee13):
    text = ieee13_path.read_text(errors="replace")
    for table, cls in (("lines", "line"), ("loads", "load"), ("transformers", "transformer"),
                       ("capacitors", "capacitor"), ("regcontrols", "regcontrol")):
        expected = count_new(text, cls)
        got = getattr(ieee13, table)
        assert set(got.index) == expected, table
    # units in the column names
    assert {"length_km", "r_ohm_per_km", "x_ohm_per_km", "c_nf_per_km"} <= set(ieee13.lines.columns)
    assert {"kw", "kvar", "kv", "conn", "model"} <= set(ieee13.loads.columns)
    assert {"vreg_volts", "band_volts", "ptratio", "tap_pu"} <= set(ieee13.regcontrols.columns)
    # the README's count: 16 buses (incl. the 115 kV source bus), 41 nodes
    assert len(ieee13.buses) == 16
    assert sum(len(n.split(".")) for n in ieee13.buses.nodes if n) == 41
    # Line.684652 is 800 ft of one phase on node 1 (the script's own numbers)
    l = ieee13.lines.loc["684652"]
    assert l.length_km == pytest.approx(800 * 0.3048 / 1000, rel=1e-12)
    assert (l.bus1, l.nodes1, l.nphases) == ("684", "1", 1)
    assert ieee13.loads.loc["671"].kw == 1155 and ieee13.loads.loc["671"].conn == "delta"


def test_results_are_consistent(ieee13_res):
    net, res = ieee13_res
    assert res.converged
    # every node once, phases as OpenDSS numbers them, p.u. = volts / base
    assert len(res.node) == 41
    assert set(res.node.phase) <= {1, 2, 3, 4}
    assert not res.node.duplicated(["bus", "phase"]).any()
    # the source feeds the loads and the losses
    el = res.element
    loads_kw = el[el.element.str.startswith("load.")].p_kw.sum()
    loads_kvar = el[el.element.str.startswith("load.")].q_kvar.sum()
    caps_kvar = el[el.element.str.startswith("capacitor.")].q_kvar.sum()
    assert res.source_kw == pytest.approx(loads_kw + res.losses_kw, rel=1e-6)
    assert res.source_kvar == pytest.approx(loads_kvar + caps_kvar + res.losses_kvar, rel=1e-6, abs=1e-3)
    assert sum(res.source_kw_phase) == pytest.approx(res.source_kw, rel=1e-9)
    # losses = the sum over lines and transformers of the power into all their terminals
    pd_rows = el[el.element.str.startswith(("line.", "transformer."))]
    assert pd_rows.p_kw.sum() == pytest.approx(res.losses_kw, rel=1e-6)
    # each terminal conductor: S = V conj(I) / 1000 with the node's voltage
    v = {(b, p): m * np.exp(1j * math.radians(a)) for b, p, m, a in
         zip(res.node.bus, res.node.phase, res.node.v_volts, res.node.va_deg)}
    line = el[el.element == "line.650632"]
    assert len(line) == 6 and list(line.terminal) == [1, 1, 1, 2, 2, 2]
    for r in line.itertuples():
        s = v[(r.bus, r.node)] * np.conj(r.i_a * np.exp(1j * math.radians(r.i_deg))) / 1000
        assert s.real == pytest.approx(r.p_kw, rel=1e-6) and s.imag == pytest.approx(r.q_kvar, rel=1e-6, abs=1e-6)


def test_reproduces_opendss_totals(ieee13_res):
    # OpenDSS itself (dss_capi built here; benches/opendss/README.md, "ieee13_static": the script as
    # shipped, static control mode, tolerance 1e-10): 3567.0504 kW, 1736.4364 kvar, 3 control iterations.
    _, res = ieee13_res
    assert res.source_kw == pytest.approx(3567.0504, abs=0.01)
    assert res.source_kvar == pytest.approx(1736.4364, abs=0.01)


def test_vuf_is_negative_over_positive_sequence(ieee13_res):
    _, res = ieee13_res
    a = np.exp(2j * math.pi / 3)
    node = res.node.set_index(["bus", "phase"])
    assert len(res.unbalance) > 0
    for r in res.unbalance.itertuples():
        va, vb, vc = (node.loc[(r.bus, p)].v_volts * np.exp(1j * math.radians(node.loc[(r.bus, p)].va_deg)) for p in (1, 2, 3))
        v1 = abs(va + a * vb + a * a * vc) / 3
        v2 = abs(va + a * a * vb + a * vc) / 3
        v0 = abs(va + vb + vc) / 3
        assert r.v1_volts == pytest.approx(v1, rel=1e-6)
        assert r.v2_volts == pytest.approx(v2, rel=1e-6, abs=1e-6)
        assert r.v0_volts == pytest.approx(v0, rel=1e-6, abs=1e-6)
        assert r.vuf_pct == pytest.approx(100 * v2 / v1, rel=1e-6, abs=1e-9)
    assert res.unbalance.vuf_pct.max() > 0.1  # IEEE 13 is unbalanced


def test_taps_are_reported_and_kept(ieee13_res):
    net, res = ieee13_res
    assert set(res.taps.index) == {"reg1", "reg2", "reg3"}
    for name, t in res.taps.iterrows():
        assert t.position == round((t.tap_pu - 1) / 0.00625)
        assert net.regcontrols.loc[name].tap_pu == pytest.approx(t.tap_pu)  # settled taps stay in the network


def test_controls_off_keeps_the_scripts_taps(ieee13_path):
    net = libgrid.read_dss(ieee13_path)
    res = net.run_pf(controls="off")
    assert res.converged and res.control_iterations <= 1
    assert (res.taps.position == 0).all()  # the script's taps are 1.0


def test_methods_agree(ieee13_path):
    vm = {}
    for method in ("fixed_point", "nr", "auto"):
        res = libgrid.read_dss(ieee13_path).run_pf(controls="off", method=method)
        assert res.converged, method
        vm[method] = res.node.vm_pu.to_numpy()
    np.testing.assert_allclose(vm["nr"], vm["fixed_point"], atol=1e-6)
    np.testing.assert_allclose(vm["auto"], vm["fixed_point"], atol=1e-6)
    with pytest.raises(libgrid.ValidationError):
        libgrid.read_dss(ieee13_path).run_pf(method="gauss")
    with pytest.raises(libgrid.ValidationError):
        libgrid.read_dss(ieee13_path).run_pf(controls="time")


def test_round_trip_through_the_writer(ieee13, tmp_path):
    path = tmp_path / "ieee13_out.dss"
    ieee13.to_dss(path)
    back = libgrid.read_dss(path)
    assert back == ieee13
    assert back.to_dss_string() == ieee13.to_dss_string()


def test_parse_error_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.dss"
    bad.write_text("clear\nnew circuit.x basekv=11\nnew line.l1 bus1=a bus2=b length=abc\n")
    with pytest.raises(libgrid.ParseError, match=r"bad\.dss:3"):
        libgrid.read_dss(bad)


def test_missing_redirect_is_an_error_unless_skipped():
    run123 = FEEDERS / "ieee123" / "Run_IEEE123Bus.DSS"  # redirects CircuitplottingScripts.DSS (not shipped)
    with pytest.raises(Exception, match="CircuitplottingScripts"):
        libgrid.read_dss(run123)
    net = libgrid.read_dss(run123, skip_missing_redirect=True)
    assert any("CircuitplottingScripts" in n for n in net.notes)
    assert net.run_pf().converged


# ---- the CLI -------------------------------------------------------------------------------------

needs_cli = pytest.mark.skipif(not CLI.is_file(), reason=f"no CLI at {CLI}")


def cli(*args):
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=300)


@needs_cli
def test_cli_json_equals_python(ieee13_path, ieee13_res):
    _, res = ieee13_res
    r = cli("pf", ieee13_path, "--json", "-")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["converged"] is True
    for key in ("iterations", "control_iterations"):
        assert j[key] == getattr(res, key)
    for key in ("source_kw", "source_kvar", "losses_kw", "losses_kvar"):
        assert j[key] == pytest.approx(getattr(res, key), rel=1e-12)
    assert j["node"]["bus"] == list(res.node.bus)
    assert j["node"]["phase"] == list(res.node.phase)
    np.testing.assert_allclose(j["node"]["vm_pu"], res.node.vm_pu, rtol=1e-12)
    np.testing.assert_allclose(j["node"]["v_volts"], res.node.v_volts, rtol=1e-12)
    assert j["taps"] == {k: int(v) for k, v in res.taps.position.items()}
    # element terminals: p_kw = the sum over the terminal's conductors of the Python rows
    by_terminal = res.element.groupby(["element", "terminal"], sort=False)[["p_kw", "q_kvar"]].sum()
    assert len(j["element"]) == res.element.element.nunique()
    for e in j["element"]:
        assert e["name"] == e["name"].lower() and "." in e["name"]
        for k, t in enumerate(e["terminals"], start=1):
            assert t["p_kw"] == pytest.approx(by_terminal.loc[(e["name"], k)].p_kw, rel=1e-9, abs=1e-9)
            assert t["q_kvar"] == pytest.approx(by_terminal.loc[(e["name"], k)].q_kvar, rel=1e-9, abs=1e-9)
            assert sum(t["p_kw_conductor"]) == pytest.approx(t["p_kw"], rel=1e-12, abs=1e-12)
    names = {e["name"] for e in j["element"]}
    assert {"line.650632", "transformer.sub", "transformer.reg1"} <= names
    assert [u["bus"] for u in j["unbalance"]] == list(res.unbalance.bus)


@needs_cli
def test_cli_summary_and_controls(ieee13_path):
    r = cli("pf", ieee13_path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for what in ("converged         yes", "source", "losses", "voltage phase 1", "worst VUF", "tap reg1"):
        assert what in out, what
    r_off = cli("pf", ieee13_path, "--controls", "off", "--json", "-")
    assert r_off.returncode == 0, r_off.stderr
    assert set(json.loads(r_off.stdout)["taps"].values()) == {0}
    r_case = cli("pf", ieee13_path, "--controls", "sometimes")
    assert r_case.returncode == 1 and "--controls" in r_case.stderr


@needs_cli
def test_cli_errors(tmp_path):
    bad = tmp_path / "BAD.DSS"  # the extension in any case is a script
    bad.write_text("clear\nnew circuit.x basekv=11\nnew line.l1 bus1=a bus2=b length=abc\n")
    r = cli("pf", bad)
    assert r.returncode == 1
    assert "BAD.DSS:3" in r.stderr
    r = cli("pf", bad, "--at", "25:00")
    assert r.returncode == 1


@needs_cli
def test_cli_options_that_do_not_apply(ieee13_path):
    r = cli("pf", ieee13_path, "--flat-start")
    assert r.returncode == 1 and "--flat-start" in r.stderr
    r = cli("pf", ieee13_path, "--method", "fdxb")
    assert r.returncode == 1 and "fdxb" in r.stderr
    r = cli("pf", DATA / "matpower" / "case9.m", "--at", "09:26")
    assert r.returncode == 1 and "--at" in r.stderr
    r = cli("pf", ieee13_path, "--tolerance", "0")
    assert r.returncode == 1 and "--tolerance" in r.stderr


@needs_cli
def test_cli_never_overwrites_the_script(tmp_path):
    script = tmp_path / "net.dss"
    script.write_text("clear\nnew circuit.x basekv=11\n")
    before = script.read_text()
    r = cli("pf", script, "--json", script)
    assert r.returncode == 1 and "refusing to overwrite" in r.stderr
    assert script.read_text() == before


@needs_cli
def test_cli_balanced_path_unchanged():
    r = cli("pf", DATA / "matpower" / "case9.m", "--json", "-")
    assert r.returncode == 0 and "bus" in json.loads(r.stdout)


@needs_cli
def test_cli_at_equals_python_at():
    master = find("eulv", "Master.dss")
    r = cli("pf", master, "--at", "09:26", "--json", "-")
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    res = libgrid.read_dss(master).run_pf(at="09:26")
    assert j["source_kw"] == pytest.approx(res.source_kw, rel=1e-12)
    base = libgrid.read_dss(master).run_pf()
    assert abs(base.source_kw - res.source_kw) > 1e-3  # the shapes changed the loads
    loads_kw = res.element[res.element.element.str.startswith("load.")].p_kw.sum()
    assert loads_kw > 0
    assert res.source_kw == pytest.approx(loads_kw + res.losses_kw, rel=1e-6)
    # OpenDSS itself at 09:26 (benches/opendss/opendss_solve_time.cpp, its yearly mode stepped to
    # 09:26, tolerance 1e-4): total power 60.919 kW, 19.861 kvar
    assert res.source_kw == pytest.approx(60.919, abs=0.002)
    assert res.source_kvar == pytest.approx(19.861, abs=0.002)


def test_eulv_tables_have_the_scripts_rows():
    master = find("eulv", "Master.dss")
    net = libgrid.read_dss(master)
    text = "\n".join(p.read_text(errors="replace") for p in master.parent.iterdir() if p.suffix.lower() in (".txt", ".dss"))
    assert set(net.lines.index) == count_new(text, "line")
    assert set(net.loads.index) == count_new(text, "load")
    assert set(net.transformers.index) == count_new(text, "transformer")
    assert len(net.buses) == 907  # the README: 906 LV buses + the 11 kV source bus
    assert (net.loads.nphases == 1).all() and (net.loads.yearly.str.startswith("shape_")).all()
    assert net.base_frequency_hz == 50
    assert [n.strip() for n in net.notes] and all("ignored" in n for n in net.notes)
