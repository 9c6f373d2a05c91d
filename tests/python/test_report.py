"""The study report (issue 18, docs/report.md): `libgrid.report(...)` and `libgrid report` on 14-day runs
of the shipped baseline and smart-city scenarios (and a third scenario as an extra column), checked in
the HTML and in a real headless browser (chromium + chromedriver through selenium, no network)."""
import io
import math
import os
import re
import shutil
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest

import libgrid
from libgrid import report as rep
from conftest import BUILD, ROOT

CLI = BUILD / "libgrid"
DAYS = "14d"


def _run(tmp, fname, scenario, **sets):
    path = tmp / f"{fname}.h5"
    sc = libgrid.Scenario.load(ROOT / "scenarios" / scenario)
    sc.set("horizon.duration", sets.pop("horizon__duration", DAYS))
    for k, v in sets.items():
        sc.set(k.replace("__", "."), v)
    sc.run(str(path))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """14 days (1,344 steps of 15 min) of the baseline and the smart city, and the smart city with more EVs."""
    tmp = tmp_path_factory.mktemp("report")
    base = _run(tmp, "base", "melaka_baseline.yaml")
    city = _run(tmp, "city", "melaka_smart_city.yaml")
    ev = _run(tmp, "city_ev", "melaka_smart_city.yaml", name="smart_city_more_ev", devices__ev__share=0.3)
    return base, city, ev


def _economics():
    from libgrid import economics
    return economics


HAVE_CASE = hasattr(_economics(), "business_case")


@pytest.fixture(scope="module")
def study(runs, tmp_path_factory):
    base, city, _ = runs
    out = tmp_path_factory.mktemp("study") / "study.html"
    got = libgrid.report(base, city, out=out, tornado=False)
    assert got == str(out)
    return out, out.read_text(encoding="utf-8")


def _cell(page, kpi, run):
    row = re.search(rf"<tr data-kpi='{re.escape(kpi)}'>(.*?)</tr>", page, re.S)
    assert row, kpi
    cell = re.search(rf"<td class='num' data-run='{re.escape(run)}'>([^<]*)</td>", row.group(1))
    return cell.group(1)


# ---- the file ----------------------------------------------------------------------------------------------
def test_one_self_contained_file(study):
    out, page = study
    assert os.listdir(out.parent) == ["study.html"]  # nothing written beside it (no image or CSS files)
    # nothing to fetch: no script, no external style sheet, font or image; every src/href is inline or an anchor
    assert "<script" not in page.lower()
    refs = re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)["']""", page)
    assert refs and all(r.startswith(("#", "data:")) for r in refs), sorted({r[:40] for r in refs if not r.startswith("#")})
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", page) and "@import" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?:""", page)
    for sid in ("compared", "assumptions", "kpis", "feasibility", "energy", "bills", "investment", "tornado", "plots"):
        assert f"<section id='{sid}'>" in page, sid
    # every section but the investment ones rendered (no "not available")
    body = page.split("<section id='investment'>")[0]
    assert "class='missing'" not in body, re.findall(r"class='missing'>([^<]*)", body)
    assert page.count("<figure class='chart'") >= 6  # energy, bills, 2 x (voltage, loading)
    assert "<title>melaka_smart_city vs melaka_baseline: study report</title>" in page


def test_kpi_table_is_the_files_summary_with_units_and_definitions(study, runs):
    _, page = study
    base, city, _ = runs
    rb, rc = libgrid.read_results(base), libgrid.read_results(city)
    for k in ("import_mwh", "co2_t", "bills_rm", "losses_mwh", "max_trafo_loading_percent", "pv_mwh"):
        assert _cell(page, k, "melaka_baseline") == rep._num(rb.summary[k])
        assert _cell(page, k, "melaka_smart_city") == rep._num(rc.summary[k])
        row = re.search(rf"<tr data-kpi='{k}'>(.*?)</tr>", page, re.S).group(1)
        assert rc.summary_info[k]["definition"].replace("'", "&#x27;") in row
        assert f"<td>{rc.summary_units[k]}</td>" in row
    # the smart city has more PV than the baseline, and the page says so
    assert rc.summary["pv_mwh"] > 5 * rb.summary["pv_mwh"] > 0


def test_assumptions_list_the_settings_that_differ(study):
    _, page = study
    table = page[page.index("id='assumptions-table'"):]
    table = table[:table.index("</table>")]
    for key, a, b in (("devices.pv.share", "0.03", "0.3"), ("tariff.export", "nem", "atap"), ("tariff.tou_adoption", "0", "0.5")):
        row = re.search(rf"<code>{re.escape(key)}</code></td><td>([^<]*)</td><td>([^<]*)</td>", table)
        assert row and row.groups() == (a, b), key
    assert "<code>seed</code>" not in table  # the same in both: among the shared settings
    assert "<code>seed</code>" in page
    # what was built, from the files
    built = page[page.index("id='built-table'"):]
    built = built[:built.index("</table>")]
    assert "PV units (kWp DC)" in built and "HEMS homes" in built


def test_feasibility_worst_bus_and_branch_are_the_kpis(study, runs):
    _, page = study
    for path, label in zip(runs[:2], ("melaka_baseline", "melaka_smart_city")):
        res = libgrid.read_results(path)
        buses = page[page.index(f"id='worst-buses-{rep._slug(label)}'"):]
        buses = buses[:buses.index("</table>")]
        lows = [float(x) for x in re.findall(r"<td>([0-9.]+)(?: \([abc]\))?</td><td>\d{4}-", buses)]
        # the lowest phase-to-neutral voltage in the table is the run's min_vm_pu (stored as float32)
        assert min(lows) == pytest.approx(res.summary["min_vm_pu"], abs=6e-5)
        branches = page[page.index(f"id='worst-branches-{rep._slug(label)}'"):]
        branches = branches[:branches.index("</table>")]
        top = float(re.search(r"<td>(trafo|line)</td><td>([0-9.]+)</td>", branches).group(2))
        want = max(res.summary["max_line_loading_percent"], res.summary["max_trafo_loading_percent"])
        assert top == pytest.approx(want, abs=0.06)
    fv = page[page.index("id='first-violation-table'"):]
    assert "melaka_baseline" in fv[:fv.index("</table>")]


def test_bills_by_class_add_up_to_the_files_bills(study, runs):
    _, page = study
    for path, label in zip(runs[:2], ("melaka_baseline", "melaka_smart_city")):
        with h5py.File(path, "r") as f:
            total = float(np.asarray(f["bill/total_rm"][()], dtype=float).sum())
        cells = re.findall(rf"<td class='num bill' data-run='{label}' data-class='([^']*)' data-value='([^']*)'>", page)
        classes = dict((c, float(v)) for c, v in cells)
        assert {"terrace_house", "shophouse", "mall"} <= set(classes)
        assert sum(classes.values()) == pytest.approx(total, rel=1e-9)
        assert libgrid.read_results(path).summary["bills_rm"] == pytest.approx(total, abs=0.05 * len(classes) + 1.0)
    # the mall's bill (one customer) is the bill of the load whose class is mall
    cust = libgrid.Scenario.parse(libgrid.read_results(runs[0]).scenario).customers()
    mall = int(cust.loc[cust["type"] == "mall", "load_id"].iloc[0])
    want = libgrid.read_results(runs[0]).bills().query("customer == @mall")["total_rm"].sum()
    got = float(re.search(r"data-run='melaka_baseline' data-class='mall' data-value='([^']*)'", page).group(1))
    assert got == pytest.approx(want, rel=1e-9)


def test_energy_and_co2_with_the_factor_used(study):
    _, page = study
    table = page[page.index("id='co2-table'"):]
    assert "constant 0.78 t/MWh" in table[:table.index("</table>")]
    energy = page[page.index("id='energy-table'"):]
    energy = energy[:energy.index("</table>")]
    for k in ("import_mwh", "export_mwh", "pv_mwh", "losses_mwh", "co2_t", "co2_avoided_export_t"):
        assert f"data-kpi='{k}'" in energy


def test_more_scenarios_are_more_columns(runs, tmp_path):
    base, city, ev = runs
    out = rep.report(base, city, ev, out=tmp_path / "three.html", tornado=False, plots=False)
    page = open(out, encoding="utf-8").read()
    assert "<figure" not in page  # plots=False
    head = page[page.index("class='kpi-table'"):]
    head = head[:head.index("</thead>")]
    assert [h for h in re.findall(r"<th>([^<]*)</th>", head) if h.startswith(("melaka", "smart"))] == \
        ["melaka_baseline", "melaka_smart_city", "smart_city_more_ev"]
    more_ev = libgrid.read_results(ev).summary["ev_charging_mwh"]
    assert _cell(page, "ev_charging_mwh", "smart_city_more_ev") == rep._num(more_ev)
    assert more_ev > libgrid.read_results(city).summary["ev_charging_mwh"]
    # the same as a list, and with labels
    out2 = rep.report(base, [city, ev], out=tmp_path / "list.html", tornado=False, plots=False, labels=["today", "A", "B"])
    page2 = open(out2, encoding="utf-8").read()
    assert "<title>A, B vs today: study report</title>" in page2
    assert "data-run='B'" in page2


def test_a_balanced_pair(tmp_path):
    """The positive-sequence model's files (/bus/vm_pu, /load/type, /branch/element_id and rated_kva): 3 days."""
    base = _run(tmp_path, "bb", "melaka_baseline.yaml", network__model="balanced", horizon__duration="3d")
    city = _run(tmp_path, "bc", "melaka_smart_city.yaml", network__model="balanced", horizon__duration="3d")
    out = rep.report(base, city, out=tmp_path / "b.html", tornado=False)
    page = open(out, encoding="utf-8").read()
    body = page.split("<section id='investment'>")[0] + page.split("<section id='plots'>")[1]
    assert "class='missing'" not in body, re.findall(r"class='missing'>([^<]*)", body)
    assert "bus voltage magnitude (positive sequence)" in page
    assert "Class source" not in page  # /load/type, no note
    res = libgrid.read_results(city)
    buses = page[page.index("id='worst-buses-melaka-smart-city'"):]
    buses = buses[:buses.index("</table>")]
    lows = [float(x) for x in re.findall(r"<td>([0-9.]+)</td><td>\d{4}-", buses)]
    assert min(lows) == pytest.approx(res.summary["min_vm_pu"], abs=6e-5)
    assert re.search(r"<td>trafo \d+ \([0-9,]+ kVA\)</td>", page)
    assert page.count("<figure class='chart'") >= 6


def test_tornado_given_as_a_dataframe(runs, tmp_path):
    base, city, _ = runs
    df = pd.DataFrame({"input": ["capex", "tariff", "discount_rate"], "low_value": [0.8, 0.8, 0.064],
                       "high_value": [1.2, 1.2, 0.096], "npv_low_rm": [2.0e6, -1.0e6, 1.1e6],
                       "npv_high_rm": [-1.0e6, 2.5e6, 0.8e6]})
    df["swing_rm"] = (df.npv_high_rm - df.npv_low_rm).abs()
    out = rep.report(base, city, out=tmp_path / "t.html", tornado=df, economics=False)
    page = open(out, encoding="utf-8").read()
    table = page[page.index("id='tornado-table'"):]
    table = table[:table.index("</table>")]
    assert [r for r in re.findall(r"<tr><td>([a-z_]+)</td>", table)] == ["tariff", "capex", "discount_rate"]  # by swing
    assert "data-chart='tornado'" in page
    svg = page[page.index("data-chart='tornado'"):]
    assert svg.index("<path") < svg.index("</figure>")
    with pytest.raises(rep.ReportError, match="npv_low_rm"):
        rep.report(base, city, out=tmp_path / "bad.html", tornado=df.drop(columns="npv_low_rm"), economics=False, plots=False)


@pytest.mark.skipif(not HAVE_CASE, reason="this libgrid has no libgrid.economics.business_case yet")
def test_tornado_computed_through_the_hook(runs, tmp_path, monkeypatch):
    """tornado=None calls libgrid.economics.tornado(base, scenario) when it exists (helper H3's); a stand-in here."""
    base, city, _ = runs
    calls = []

    def fake(b, s, inputs=None, low=0.8, high=1.2, stakeholder="city", client=None):
        calls.append((b, s))
        return pd.DataFrame({"input": ["capex", "pv_yield"], "low_value": [0.8, 0.8], "high_value": [1.2, 1.2],
                             "npv_low_rm": [1.0e5, -2.0e5], "npv_high_rm": [-1.0e5, 3.0e5], "swing_rm": [2.0e5, 5.0e5]})
    monkeypatch.setattr(_economics(), "tornado", fake, raising=False)
    out = rep.report(base, city, out=tmp_path / "t.html", plots=False)
    page = open(out, encoding="utf-8").read()
    assert calls == [(str(base), str(city))]
    table = page[page.index("id='tornado-table'"):]
    assert re.findall(r"<tr><td>([a-z_]+)</td>", table[:table.index("</table>")]) == ["pv_yield", "capex"]
    assert "computed by libgrid.economics.tornado" in page


@pytest.mark.skipif(not hasattr(_economics(), "tornado"), reason="this libgrid has no libgrid.economics.tornado yet")
def test_tornado_computed_by_the_sensitivity(runs, tmp_path):
    """helper H3's libgrid.economics.tornado through the report (the inputs that need no re-run)."""
    base, city, _ = runs
    want = _economics().tornado(str(base), str(city), inputs=["capex", "discount_rate"])
    out = rep.report(base, city, out=tmp_path / "t.html", tornado={"inputs": ["capex", "discount_rate"]})
    page = open(out, encoding="utf-8").read()
    table = page[page.index("id='tornado-table'"):]
    table = table[:table.index("</table>")]
    rows = re.findall(r"<tr><td>([a-z_]+)</td>(.*?)</tr>", table)
    assert [r[0] for r in rows] == list(want["input"])
    for (name, cells), (_, w) in zip(rows, want.iterrows()):
        assert f"<td>{rep._num(w['npv_low_rm'])}</td>" in cells and f"<td>{rep._num(w['npv_high_rm'])}</td>" in cells
    assert "data-chart='tornado'" in page
    with pytest.raises(rep.ReportError, match="tornado"):
        rep.report(base, city, out=tmp_path / "u.html", tornado={"inputs": ["no_such_input"]}, plots=False)


def test_bad_input_is_a_clear_error(runs, tmp_path):
    base, city, _ = runs
    with pytest.raises(rep.ReportError, match="nope.h5.*no such file"):
        rep.report(base, tmp_path / "nope.h5", out=tmp_path / "x.html")
    with pytest.raises(rep.ReportError, match="labels: 1 given for 2"):
        rep.report(base, city, out=tmp_path / "x.html", labels=["a"])
    with pytest.raises(rep.ReportError, match="labels: each must differ"):
        rep.report(base, city, out=tmp_path / "x.html", labels=["a", "a"])
    with pytest.raises(rep.ReportError, match="out: no directory"):
        rep.report(base, city, out=tmp_path / "no" / "x.html")
    with pytest.raises(rep.ReportError, match="tornado: expected"):
        rep.report(base, city, out=tmp_path / "x.html", tornado=3)
    with pytest.raises(rep.ReportError, match="economics: expected"):
        rep.report(base, city, out=tmp_path / "x.html", economics="yes")
    not_h5 = tmp_path / "text.h5"
    not_h5.write_text("hello")
    with pytest.raises(rep.ReportError, match="text.h5.*cannot open as HDF5"):
        rep.report(base, not_h5, out=tmp_path / "x.html")
    empty = tmp_path / "empty.h5"
    h5py.File(empty, "w").close()
    with pytest.raises(rep.ReportError, match="empty.h5.*no /time"):
        rep.report(empty, city, out=tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()


def test_pdf_without_chromium_says_what_to_install(runs, tmp_path, monkeypatch):
    base, city, _ = runs
    monkeypatch.setenv("LIBGRID_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(rep.ReportError, match="apt-get install chromium"):
        rep.report(base, city, out=tmp_path / "x.html", pdf=tmp_path / "x.pdf", plots=False, tornado=False, economics=False)
    assert (tmp_path / "x.html").exists()  # the HTML is written first


@pytest.mark.skipif(rep.find_chromium() is None, reason="no chromium: apt-get install chromium")
def test_pdf_with_chromium(study, tmp_path):
    out, _ = study
    pdf = rep.print_pdf(str(out), str(tmp_path / "study.pdf"))
    data = open(pdf, "rb").read()
    assert data.startswith(b"%PDF-") and len(data) > 50_000
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 4  # several pages


# ---- investment (libgrid.economics.business_case, helper H1) -------------------------------------------------------
@pytest.mark.skipif(not HAVE_CASE, reason="this libgrid has no libgrid.economics.business_case yet")
def test_investment_npv_on_the_page_is_the_business_cases(study, runs):
    _, page = study
    bc = _economics().business_case(str(runs[0]), str(runs[1]))
    assert len(bc.stakeholders) >= 3
    for who, row in bc.stakeholders.iterrows():
        m = re.search(rf"<td class='num npv' data-stakeholder='{re.escape(str(who))}' data-scenario='melaka_smart_city' "
                      rf"data-value='([^']*)'>([^<]*)</td>", page)
        assert m, who
        assert float(m.group(1)) == float(row["npv_rm"])
        assert m.group(2) == f"{row['npv_rm']:,.0f}"
    head = re.search(r"class='v headline-npv' data-value='([^']*)'", page)
    assert head and float(head.group(1)) == float(bc.stakeholders.loc["city", "npv_rm"])


# ---- the command ----------------------------------------------------------------------------------------------
@pytest.mark.skipif(not CLI.is_file(), reason=f"no CLI at {CLI}")
def test_cli_report(runs, tmp_path):
    base, city, ev = runs

    def run(*args, env=None):
        return subprocess.run([str(CLI), "report", *map(str, args)], capture_output=True, text=True, timeout=600,
                              env={**os.environ, **(env or {})})
    out = tmp_path / "cli.html"
    r = run(base, city, ev, "-o", out, "--title", "Melaka: three runs", "--no-tornado", "--no-plots")
    assert r.returncode == 0, r.stderr
    page = out.read_text(encoding="utf-8")
    assert "<h1>Melaka: three runs</h1>" in page and "data-run='smart_city_more_ev'" in page
    r = run(base, tmp_path / "none.h5", "-o", out)
    assert r.returncode == 1 and "none.h5" in r.stderr and "no such file" in r.stderr
    r = run(base, "-o", out)
    assert r.returncode != 0 and "at least one SCENARIO" in r.stderr
    r = run(base, city, "-o", tmp_path / "no" / "x.html")
    assert r.returncode == 1 and "no directory" in r.stderr
    r = run(base, city, "--label", "a", "-o", out)
    assert r.returncode != 0 and "--label" in r.stderr
    r = run(base, city, "-o", out, env={"LIBGRID_PYTHON": str(tmp_path / "nopython")})
    assert r.returncode == 1 and "nopython" in r.stderr and "LIBGRID_PYTHON" in r.stderr
    text = tmp_path / "text.h5"
    text.write_text("x")
    r = run(base, text, "-o", tmp_path / "y.html")
    assert r.returncode == 1 and "text.h5" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "y.html").exists()


# ---- a real browser --------------------------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def make_browser(width=1280, height=900):
    """Headless chromium through selenium, every host name unresolvable (no network)."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip(f"no chromium ({CHROMIUM}) or chromedriver ({CHROMEDRIVER}): apt-get install chromium chromium-driver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("no selenium: apt-get install python3-selenium")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
              f"--window-size={width},{height}", "--host-resolver-rules=MAP * ~NOTFOUND",
              "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"):
        opts.add_argument(a)
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER, env=env), options=opts)


def _png_array(png: bytes):
    import matplotlib.image
    return matplotlib.image.imread(io.BytesIO(png), format="png")


def test_browser_renders_the_charts_and_loads_nothing(study):
    from selenium.webdriver.common.by import By
    out, _ = study
    b = make_browser()
    try:
        b.get(out.resolve().as_uri())
        assert b.find_element(By.TAG_NAME, "h1").text == "melaka_smart_city vs melaka_baseline: study report"
        # nothing was fetched: the page is one file
        urls = b.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert urls == [], urls
        charts = b.find_elements(By.CSS_SELECTOR, "figure.chart")
        assert len(charts) >= 6
        for fig in charts:
            name = fig.get_attribute("data-chart")
            svg = fig.find_element(By.TAG_NAME, "svg")
            assert svg.size["width"] > 300 and svg.size["height"] > 120, name
            # drawn: paths with data (the axes, bars, lines), not an empty frame
            n_paths = b.execute_script("return arguments[0].querySelectorAll('path').length", svg)
            assert n_paths > 10, (name, n_paths)
            b.execute_script("arguments[0].scrollIntoView()", fig)
            img = _png_array(fig.screenshot_as_png)
            rgb = img[..., :3]
            ink = (rgb.min(axis=2) < 0.9).mean()  # share of pixels that are not (near) white
            colour = (rgb.max(axis=2) - rgb.min(axis=2) > 0.25).mean()  # coloured pixels: data, not only black text
            assert ink > 0.02 and colour > 0.005, (name, ink, colour)
        # the whole page in a screenshot is not blank
        shot = _png_array(b.get_screenshot_as_png())
        assert shot[..., :3].std() > 0.05
        # tables rendered with the files' numbers
        cells = b.find_elements(By.CSS_SELECTOR, "#bills-table tr.total td")
        assert cells[0].text == "all customers"
    finally:
        b.quit()


@pytest.mark.skipif(not HAVE_CASE, reason="this libgrid has no libgrid.economics.business_case yet")
def test_browser_shows_the_business_cases_npv(study, runs):
    from selenium.webdriver.common.by import By
    out, _ = study
    bc = _economics().business_case(str(runs[0]), str(runs[1]))
    b = make_browser()
    try:
        b.get(out.resolve().as_uri())
        for who, row in bc.stakeholders.iterrows():
            cell = b.find_element(By.CSS_SELECTOR, f"td.npv[data-stakeholder='{who}'][data-scenario='melaka_smart_city']")
            assert float(cell.text.replace(",", "")) == round(float(row["npv_rm"]))
    finally:
        b.quit()


# ---- the screenshots of docs/report.md -------------------------------------------------------------------------
def screenshots(html_path, out_dir):
    """docs/img/report_*.png: sections of a report, in headless chromium (1200 px wide)."""
    from selenium.webdriver.common.by import By
    b = make_browser(1200, 900)
    try:
        b.get("file://" + os.path.abspath(html_path))
        h = b.execute_script("return document.documentElement.scrollHeight")
        b.set_window_size(1200, min(int(h) + 40, 30000))
        for sid, name in (("compared", "report_compared.png"), ("feasibility", "report_feasibility.png"),
                          ("bills", "report_bills.png"), ("investment", "report_investment.png"),
                          ("tornado", "report_tornado.png"), ("plots", "report_plots.png"), ("energy", "report_energy.png")):
            els = b.find_elements(By.ID, sid)
            if els:
                with open(os.path.join(out_dir, name), "wb") as f:
                    f.write(els[0].screenshot_as_png)
    finally:
        b.quit()


if __name__ == "__main__":  # python3 tests/python/test_report.py STUDY.html OUT_DIR
    screenshots(sys.argv[1], sys.argv[2])
