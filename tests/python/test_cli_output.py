"""The CLI's tables are readable (issue 12): `libgrid compare` names both runs by file and scenario,
prints numbers without float noise, B - A and the change in %; `libgrid sweep` prints one aligned row
per variant with a chosen set of KPIs and their units, wrapped to a width, and its --help lists every
option. The numbers are checked against the HDF5 files read with h5py."""
import os
import re
import subprocess

import h5py
import pytest

from conftest import BUILD, ROOT

CLI = BUILD / "libgrid"
pytestmark = pytest.mark.skipif(not CLI.is_file(), reason=f"no CLI at {CLI}")


def cli(*args, env=None, check=True):
    r = subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, **(env or {})))
    if check:
        assert r.returncode == 0, r.stderr
    return r


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    a, b = d / "base_day.h5", d / "smart_day.h5"
    cli("run", ROOT / "scenarios" / "melaka_baseline.yaml", "-o", a, "--steps", 96, "-q")
    cli("run", ROOT / "scenarios" / "melaka_smart_city.yaml", "-o", b, "--steps", 96, "-q")
    return a, b


def kpi(path, name):
    with h5py.File(path, "r") as f:
        return float(f["summary"][name][()])


def rows(out):
    """KPI name -> (unit, A, B, B - A, change) of the compare table (fixed-width columns: w, 8, 3 x 12, 9;
    the KPI column w is 30, wider when an unbalanced run's longer KPI names are shown)."""
    table = {}
    lines = out.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("KPI "))
    w = lines[start].index(" unit ")
    for line in lines[start + 1:]:
        cells = [line[0:w], line[w + 1:w + 9], line[w + 10:w + 22], line[w + 23:w + 35], line[w + 36:w + 48], line[w + 49:w + 58]]
        table[cells[0].strip()] = tuple(c.strip() for c in cells[1:])
    return table


def test_compare_names_runs_and_formats_numbers(two_runs):
    a, b = two_runs
    out = cli("compare", a, b).stdout
    assert re.search(r"^A = base_day\.h5: scenario melaka_baseline \(melaka_baseline\.yaml\), "
                     r"grid melaka-small-seed1, from 2025-01-01T00:00:00, 96 steps of 900 s$", out, re.M), out
    assert re.search(r"^B = smart_day\.h5: scenario melaka_smart_city .*96 steps", out, re.M)
    assert not re.search(r"\de-1\d", out), out  # no float noise such as 1.73472e-18
    t = rows(out)
    unit, x, y, d, change = t["peak_import_mw"]
    xa, yb = kpi(a, "peak_import_mw"), kpi(b, "peak_import_mw")
    assert unit == "MW"
    assert float(x) == pytest.approx(xa, rel=1e-3) and float(y) == pytest.approx(yb, rel=1e-3)
    assert float(d) == pytest.approx(yb - xa, rel=1e-3)
    assert change == f"{(yb - xa) / abs(xa) * 100:+.1f} %"
    # equal values: 0 difference and 0 %
    assert t["non_converged_steps"][1:] == ("0", "0", "0", "0 %")
    # the same file twice: every difference is exactly 0, whatever the value
    same = rows(cli("compare", a, a, "--all").stdout)
    assert len(same) > 25 and all(r[3] == "0" and r[4] == "0 %" for r in same.values() if r[1] != "-")
    assert "energy_balance_max_error_mw" in same  # --all: KPIs beyond the planner's list


def test_compare_tolerance_prints_tiny_values_as_zero(two_runs):
    a, b = two_runs
    x = kpi(a, "energy_balance_max_error_mw")
    assert 0 < x < 1e-6
    shown = rows(cli("compare", a, a, "--all", "--tolerance", x / 10).stdout)["energy_balance_max_error_mw"][1]
    assert float(shown) == pytest.approx(x, rel=1e-3)
    assert rows(cli("compare", a, a, "--all", "--tolerance", x * 10).stdout)["energy_balance_max_error_mw"][1] == "0"


SWEEP = ROOT / "tests" / "cli" / "sweep_tiny.yaml"


def test_sweep_help_lists_every_option():
    out = cli("sweep", "--help").stdout
    for opt in ("--workers", "--scheduler", "--output-dir", "--serial", "--quiet", "--columns", "--width"):
        assert opt in out, out


def test_sweep_table_is_aligned_and_wrapped(tmp_path):
    out = cli("sweep", SWEEP, "-q", "-o", tmp_path / "o", "--width", 90).stdout
    table = out.split("\n\n2 variants in")[0]
    blocks = table.split("\n\n")
    assert len(blocks) >= 2  # wrapped into blocks of columns
    for block in blocks:
        lines = block.splitlines()
        assert lines[0].split()[0] == "variant"
        assert max(map(len, lines)) <= 90
        assert len({len(l) for l in lines}) == 1  # right-aligned: every line as long as the header
        assert [l.split()[0] for l in lines if l.split()[0].isdigit()] == ["0", "1"]
    header = " ".join(b.splitlines()[0] for b in blocks)
    assert "peak_import_mw" in header and "co2_t" in header and "wall_time_s" not in header
    assert "[MW]" in table and "[RM]" in table
    # the printed values are the CSV's (all KPIs there), rounded to 4 digits
    csv = (tmp_path / "o" / "sweep.csv").read_text().splitlines()
    head = csv[0].split(",")
    assert "wall_time_s" in head
    first = blocks[0].splitlines()
    col = first[0].split().index("peak_import_mw")
    for i in (0, 1):
        printed = float([l for l in first if l.split()[0] == str(i)][0].split()[col])
        assert printed == pytest.approx(float(csv[1 + i].split(",")[head.index("peak_import_mw")]), rel=1e-3)


def test_sweep_columns(tmp_path):
    out = cli("sweep", SWEEP, "-q", "-o", tmp_path / "o", "--columns", "co2_t,bills_rm").stdout
    header = out.splitlines()[0].split()
    assert header == ["variant", "seed", "co2_t", "bills_rm"]
    bad = cli("sweep", SWEEP, "-q", "-o", tmp_path / "b", "--columns", "co2_t,nonsense", check=False)
    assert bad.returncode != 0 and "no KPI 'nonsense'" in bad.stderr and "peak_import_mw" in bad.stderr
    assert not (tmp_path / "b").exists()  # checked before anything runs


def test_python_sweep_prints_the_same_columns(tmp_path):
    """`python -m libgrid.sweep` (what `libgrid sweep --scheduler` runs) prints the same selected KPIs."""
    import sys
    import libgrid
    env = {"PYTHONPATH": os.path.dirname(os.path.dirname(libgrid.__file__))}
    cmd = [sys.executable, "-m", "libgrid.sweep", str(SWEEP), "--serial", "-q"]
    r = subprocess.run(cmd + ["-o", str(tmp_path / "p"), "--columns", "co2_t,bills_rm"], capture_output=True,
                       text=True, timeout=300, env=dict(os.environ, **env))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].split() == ["seed", "co2_t", "bills_rm"]
    r = subprocess.run(cmd + ["-o", str(tmp_path / "d"), "--width", "80"], capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, **env))
    table = r.stdout.split("\n\n2 variants in")[0]
    assert max(map(len, table.splitlines())) <= 80 and "peak_import_mw" in table and "wall_time_s" not in table
    bad = subprocess.run(cmd + ["-o", str(tmp_path / "b"), "--columns", "nonsense"], capture_output=True,
                         text=True, timeout=300, env=dict(os.environ, **env))
    assert bad.returncode == 2 and "no KPI 'nonsense'" in bad.stderr and not (tmp_path / "b").exists()


def test_run_summary_json_matches_the_results_file(tmp_path):
    """Issue 19: `libgrid run --summary-json F` writes the library's summary_to_json: every KPI of
    /summary with its value (null for NaN), unit and boundary; the printed table is the library's."""
    import json
    import math
    out, js = tmp_path / "day.h5", tmp_path / "day.json"
    r = cli("run", ROOT / "scenarios" / "melaka_baseline.yaml", "-o", out, "--steps", 8, "-q", "--summary-json", js)
    doc = json.loads(js.read_text())
    assert doc["steps"] == 8 and doc["completed"] is True and doc["stop_reason"] == ""
    with h5py.File(out, "r") as f:
        names = [n for n in f["summary"] if isinstance(f["summary"][n], h5py.Dataset) and f["summary"][n].shape == ()]
        checked = 0
        for n in names:
            if n not in doc["kpis"]:
                continue
            v = float(f["summary"][n][()])
            got = doc["kpis"][n]["value"]
            if math.isnan(v):
                assert got is None, n
            elif n not in ("wall_time_s", "steps_per_second") and not n.startswith("time_"):
                assert got == pytest.approx(v, rel=1e-12, abs=0), n
            assert doc["kpis"][n]["unit"] == f["summary"][n].attrs.get("unit", ""), n
            checked += 1
    assert checked > 30
    assert doc["kpis"]["import_mwh"]["boundary"] == "substation"
    assert "  substation\n" in r.stdout and "(definitions: docs/kpis.md)" in r.stdout
    bad = cli("run", ROOT / "scenarios" / "melaka_baseline.yaml", "-o", tmp_path / "x.h5", "--steps", 2, "-q",
              "--summary-json", tmp_path / "no" / "such" / "dir.json", check=False)
    assert bad.returncode != 0 and "--summary-json" in bad.stderr and "dir.json" in bad.stderr
