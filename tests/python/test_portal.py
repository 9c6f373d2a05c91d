"""The customer energy portal (issue 17, docs/portal.md): Flask's test client on a one-week run of the
smart-city scenario that spans two months (27 January - 2 February 2025) with one demand-response
event; the `libgrid portal` command; a real headless browser (chromium + chromedriver through selenium).
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.request

import h5py
import numpy as np
import pytest

import libgrid
from libgrid import portal
from conftest import BUILD, ROOT

CLI = BUILD / "libgrid"
DR_EVENT = {"start": "2025-01-29T14:00", "end": "2025-01-29T16:00", "setpoint_raise_k": 2}


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A week of the smart city (balanced, 672 steps of 15 min: ~1 s), two billed months."""
    path = tmp_path_factory.mktemp("portal") / "city.h5"
    sc = libgrid.Scenario.load(ROOT / "scenarios" / "melaka_smart_city.yaml").override(steps=672, model="balanced")
    sc.set("horizon.start", "2025-01-27").set("devices.buildings.mode", "precool_demand_response")
    sc.set("devices.buildings.dr_events", [DR_EVENT])
    sc.run(str(path))
    return path


@pytest.fixture(scope="module")
def app(city):
    return portal.create_app(city)


@pytest.fixture
def client(app):
    return app.test_client()


def _bill(path):
    with h5py.File(path, "r") as f:
        g = f["/bill"]
        return ([m.decode() if isinstance(m, bytes) else m for m in g["month"][()]], np.asarray(g["id"][()]),
                {k: np.asarray(g[k][()]) for k in g if isinstance(g[k], h5py.Dataset) and g[k].ndim == 2},
                list(g["tariff"].asstr()[()]), list(g["export_scheme"].asstr()[()]))


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


# ---- JSON: the bills ---------------------------------------------------------------------------
def test_bills_json_equals_bill_in_the_file_to_the_cent(city, client):
    months, ids, cols, tariffs, schemes = _bill(city)
    assert months == ["2025-01", "2025-02"]
    for j, cid in enumerate(ids):
        r = client.get(f"/api/customer/{int(cid)}/bills")
        assert r.status_code == 200 and r.is_json
        rows = r.get_json()
        assert [row["month"] for row in rows] == months  # the order of /bill/month
        for i, row in enumerate(rows):
            for name in ("total_rm", "subtotal_rm", "re_fund_rm", "service_tax_rm", "export_credit_rm"):
                assert abs(row[name] - float(cols[name][i, j])) < 0.005, (cid, row["month"], name)
                assert row[name] == round(float(cols[name][i, j]), 2)
            for name in ("import_kwh", "export_kwh"):
                assert row[name] == pytest.approx(float(cols[name][i, j]), abs=1e-3)
            assert row["tariff"] == tariffs[j] and row["export_scheme"] == schemes[j]
            assert row["full_month"] is False  # a week in each month: both partial
    assert len(json.loads(client.get(f"/api/customer/{int(ids[0])}/bills").data)[0]) >= 10


# ---- re-billing: the alternatives and the what-ifs -------------------------------------------------
def _customer(city, tariff, exports=None, ev=None):
    res = libgrid.read_results(city)
    b = res.bills()
    meter = res.series("meter", "export_kwh").sum()
    with h5py.File(city, "r") as f:
        ev_customers = set(np.asarray(f["/ev/customer"][()]).tolist()) | set(np.asarray(f["/home/customer"][()]).tolist())
    for cid, t in b.groupby("customer")["tariff"].first().items():
        if t != tariff:
            continue
        if exports is not None and (meter[cid] > 0) != exports:
            continue
        if ev is not None and (cid in ev_customers) != ev:
            continue
        return int(cid)
    pytest.fail(f"no {tariff} customer (exports={exports}, ev={ev}) in the fixture")


@pytest.mark.parametrize("tariff,tou", [("domestic_general", "domestic_tou"), ("non_domestic_lv", "non_domestic_lv_tou")])
def test_tou_alternative_equals_rebill_of_the_same_file(city, client, tariff, tou):
    cid = _customer(city, tariff)
    res = libgrid.read_results(city)
    alts = client.get(f"/api/customer/{cid}/alternatives").get_json()
    own_scheme = res.bills().query("customer == @cid")["export_scheme"].iloc[0]
    want = res.rebill(tariff=tou, export=own_scheme).query("customer == @cid")
    got = next(a for a in alts if a["tariff"] == tou and a["export_scheme"] == own_scheme)
    assert [m["month"] for m in got["months"]] == list(want["month"])
    for m, w in zip(got["months"], want["total_rm"]):
        assert abs(m["total_rm"] - w) < 0.005
    assert abs(got["total_rm"] - want["total_rm"].sum()) < 0.005
    # the customer's own tariff re-billed is the run's bill
    own = next(a for a in alts if a["current"])
    assert own["tariff"] == tariff
    assert abs(own["total_rm"] - res.bills().query("customer == @cid")["total_rm"].sum()) < 0.005
    # the page shows the ToU figure
    page = client.get(f"/customer/{cid}").get_data(as_text=True)
    assert f"{got['total_rm']:,.2f}" in page


def test_alternatives_offer_every_export_scheme_to_an_exporter_only(city, client):
    pv = _customer(city, "domestic_general", exports=True)
    none = _customer(city, "domestic_general", exports=False)
    schemes = lambda cid: {(a["tariff"], a["export_scheme"]) for a in client.get(f"/api/customer/{cid}/alternatives").get_json()}
    assert schemes(pv) == {(t, s) for t in ("domestic_general", "domestic_tou") for s in ("none", "nem", "atap")}
    assert {s for _, s in schemes(none)} <= {"none", libgrid.read_results(city).bills().query("customer == @none")["export_scheme"].iloc[0]}


def test_whatif_rebills_through_the_engine(city, app):
    data = app.config["LIBGRID_PORTAL_DATA"]
    cid = _customer(city, "domestic_general", ev=True)
    m = data.meter(cid)
    # the what-ifs' path (a one-customer copy of /meter, re-billed by _libgrid.rebill) gives the run's
    # bills on unmodified readings
    for t in ("domestic_general", "domestic_tou"):
        same = data._rebill_series(cid, "check", m["import_kwh"].to_numpy(), m["export_kwh"].to_numpy(), t, data.scheme_of[cid])
        want = libgrid.read_results(city).rebill(tariff=t, export=data.scheme_of[cid], customers=[cid])
        np.testing.assert_allclose(same["total_rm"].to_numpy(), want["total_rm"].to_numpy(), atol=0.005)
    w = data.whatif(cid)
    assert w["tariffs"] == ["domestic_general", "domestic_tou"]
    tou = libgrid.read_results(city).rebill(tariff="domestic_tou", export=data.scheme_of[cid], customers=[cid])
    assert abs(w["baseline_rm"]["domestic_tou"] - tou["total_rm"].sum()) < 0.005  # the ToU what-if's baseline = re-billing
    ev_case = next(c for c in w["cases"] if c["name"] == "ev_offpeak")
    ev = data.ev_kwh(cid)
    assert ev is not None and ev.sum() > 0
    imp, exp, moved = data._ev_shift(m, ev)
    # energy moves, it is not lost: the net metered energy is the same
    assert (imp - exp).sum() == pytest.approx((m["import_kwh"] - m["export_kwh"]).sum(), abs=1e-6)
    assert moved == pytest.approx(ev_case["moved_kwh"])
    peak = portal._is_peak(m.index)
    assert ev[peak].sum() == pytest.approx(moved)
    if moved > 0:
        assert (imp[peak].sum() < m["import_kwh"][peak].sum())  # less import in the peak
        assert ev_case["saving_rm"]["domestic_tou"] >= -0.005
    bat = next(c for c in w["cases"] if c["name"] == "battery")
    assert "kWh usable" in bat["assumes"] and bat["bills_rm"] is not None
    for t in w["tariffs"]:
        assert bat["saving_rm"][t] == pytest.approx(w["baseline_rm"][t] - bat["bills_rm"][t], abs=0.011)


def test_battery_whatif_follows_its_rule(city, app):
    data = app.config["LIBGRID_PORTAL_DATA"]
    pv = _customer(city, "domestic_general", exports=True)
    m = data.meter(pv)
    imp, exp, a = data._battery(pv, m)
    assert a["capacity_kwh"] == 5.0 and "self-consumption" in a["rule"]
    assert exp.sum() < m["export_kwh"].sum() and imp.sum() < m["import_kwh"].sum()
    # what went into the battery came out less the losses (and what is left in it at the end)
    charged = m["export_kwh"].sum() - exp.sum()
    assert m["import_kwh"].sum() - imp.sum() <= charged * 0.9 + 1e-9
    plain = _customer(city, "domestic_general", exports=False)
    m2 = data.meter(plain)
    imp2, exp2, a2 = data._battery(plain, m2)
    assert "ToU shifting" in a2["rule"]
    peak = portal._is_peak(m2.index)
    assert imp2[peak].sum() < m2["import_kwh"][peak].sum()  # peak import falls
    assert imp2.sum() > m2["import_kwh"].sum()  # the losses are bought from the grid


def test_co2_is_meter_import_times_the_runs_factor(city, client):
    cid = _customer(city, "domestic_general")
    c = client.get(f"/api/customer/{cid}/co2").get_json()
    imp = libgrid.read_results(city).series("meter", "import_kwh")[cid].sum()
    assert c["emission_factor_t_per_mwh"] == 0.78 and "scenario" in c["factor_source"]
    assert c["co2_kg"] == pytest.approx(imp * 0.78, rel=1e-6)  # float32 readings summed in float64
    assert sum(m["co2_kg"] for m in c["months"]) == pytest.approx(c["co2_kg"])


# ---- ids, errors, read-only -------------------------------------------------------------------------
def test_unknown_id_is_404_json_and_an_html_page(client):
    r = client.get("/api/customer/99999/bills")
    assert r.status_code == 404 and r.is_json
    assert "99999" in r.get_json()["error"] and "no meter" in r.get_json()["error"]
    r = client.get("/customer/99999")
    assert r.status_code == 404 and r.mimetype == "text/html"
    text = r.get_data(as_text=True)
    assert "id='error'" in text and "no meter with id 99999" in text and "Traceback" not in text


@pytest.mark.parametrize("raw,status", [("abc", 400), ("-1", 404), ("9" * 30, 404), ("1.5", 400), ("9" * 100, 400),
                                        ("%3Cscript%3Ealert(1)", 400), ("%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404), ("0x10", 400), ("", 404)])
def test_bad_ids_are_answered_not_crashed(client, raw, status):
    for url in (f"/customer/{raw}", f"/api/customer/{raw}/bills", f"/api/customer/{raw}/whatif"):
        r = client.get(url)
        assert r.status_code == status, url
        body = r.get_data(as_text=True)
        assert "Traceback" not in body
        if url.startswith("/api/"):
            assert r.is_json and r.get_json()["status"] == status
        else:
            assert r.mimetype == "text/html" and "<script>" not in body  # what the URL held is escaped


def test_bad_query_parameters_are_400(client, city):
    cid = _customer(city, "domestic_general")
    for q in ("view=year", "date=2030-01-01", "date=2025-13-45", "date=yesterday"):
        r = client.get(f"/customer/{cid}?{q}")
        assert r.status_code == 400, q
        assert "id='error-message'" in r.get_data(as_text=True)
    for view in portal.VIEWS:
        assert client.get(f"/customer/{cid}?view={view}&date=2025-02-01").status_code == 200


def test_the_portal_is_read_only(city, client):
    before = _sha(city)
    assert client.post("/customer/0").status_code == 405
    assert client.delete("/api/customer/0/bills").status_code == 405
    for url in ("/", "/utility", "/customer/10", "/api/customer/10/whatif", "/api/utility/completeness"):
        assert client.get(url).status_code == 200
    assert _sha(city) == before


def test_the_meter_picker_redirects_and_validates(client):
    assert client.get("/go?id=5").headers["Location"].endswith("/customer/5")
    assert client.get("/go?id=abc").status_code == 400


def test_host_defaults_to_localhost(monkeypatch, city):
    assert portal.parse_args([str(city)]).host == "127.0.0.1" == portal.DEFAULT_HOST
    seen = {}
    import flask
    monkeypatch.setattr(flask.Flask, "run", lambda self, **kw: seen.update(kw))
    assert portal.main([str(city), "--port", "5123"]) == 0
    assert seen["host"] == "127.0.0.1" and seen["port"] == 5123 and seen["debug"] is False
    with pytest.raises(SystemExit):
        portal.parse_args([str(city), "--port", "70000"])


def test_a_missing_or_foreign_file_is_a_clear_error(tmp_path, capsys):
    assert portal.main([str(tmp_path / "none.h5")]) == 1
    assert "none.h5" in capsys.readouterr().err
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["a"] = 1
    assert portal.main([str(tmp_path / "x.h5")]) == 1
    assert "/meter/id" in capsys.readouterr().err


# ---- the utility view -------------------------------------------------------------------------------
def test_utility_view_completeness_dr_and_kpis(city, client):
    comp = client.get("/api/utility/completeness").get_json()
    assert comp["days"][0] == "2025-01-27" and len(comp["days"]) == 7
    assert len(comp["meters"]) == 140 and all(x == 1.0 for m in comp["meters"] for x in m["completeness"])
    dr = client.get("/api/utility/dr_events").get_json()
    assert len(dr) == 1 and dr[0]["start"].startswith("2025-01-29T14:00") and dr[0]["in_file"]
    assert dr[0]["event_kw"] < dr[0]["baseline_kw"]  # the buildings draw less in the event
    page = client.get("/utility").get_data(as_text=True)
    assert "Demand-response events" in page and "import_mwh" in page and "<svg" in page


def test_completeness_counts_missing_readings(city, tmp_path):
    gaps = tmp_path / "gaps.h5"
    shutil.copy(city, gaps)
    with h5py.File(gaps, "a") as f:
        ids = list(f["/meter/id"][()])
        j = ids.index(10)
        imp = f["/meter/import_kwh"]
        imp[96 * 2: 96 * 2 + 24, j] = np.nan  # 24 of the 96 readings of meter 10 on the third day
        f.attrs["scenario"] = f.attrs["scenario"].replace("dr_events", "dr_events_not")  # no events
    c = portal.create_app(gaps).test_client()
    comp = {m["id"]: m["completeness"] for m in c.get("/api/utility/completeness").get_json()["meters"]}
    assert comp[10][2] == pytest.approx(0.75) and comp[10][1] == 1.0 and comp[11][2] == 1.0
    assert "id='no-dr'" in c.get("/utility").get_data(as_text=True)
    # the engine bills no gap (an estimation rule is the communication slice's): the page says so, the API is 422
    r = c.get("/api/customer/10/alternatives")
    assert r.status_code == 422 and "meter 10 cannot be re-billed" in r.get_json()["error"] and "not finite" in r.get_json()["error"]
    page = c.get("/customer/10")
    assert page.status_code == 200 and "id='rebill-error'" in page.get_data(as_text=True)
    assert c.get("/api/customer/10/bills").status_code == 200 and c.get("/api/customer/11/whatif").status_code == 200


def test_an_unbalanced_run_is_served_too(tmp_path):
    """The Melaka grid as built runs unbalanced (docs/unbalanced.md): same /meter and /bill, same portal."""
    path = tmp_path / "unbal.h5"
    libgrid.Scenario.load(ROOT / "scenarios" / "melaka_smart_city.yaml").override(steps=96).run(str(path))
    assert libgrid.read_results(path).model == "unbalanced"
    c = portal.create_app(path).test_client()
    months, ids, cols, _, _ = _bill(path)
    for j in (0, len(ids) - 1):
        rows = c.get(f"/api/customer/{int(ids[j])}/bills").get_json()
        assert [r["total_rm"] for r in rows] == [round(float(x), 2) for x in cols["total_rm"][:, j]]
        assert c.get(f"/customer/{int(ids[j])}?view=day").status_code == 200
    assert c.get("/utility").status_code == 200


def test_completeness_reads_the_head_end_view_when_there_is_one(city, tmp_path):
    """docs/comms.md: the communication slice writes /headend/import_kwh (NaN = missing)."""
    path = tmp_path / "headend.h5"
    shutil.copy(city, path)
    with h5py.File(path, "a") as f:
        imp = np.asarray(f["/meter/import_kwh"][()], dtype=float)
        imp[:48, 0] = np.nan  # meter 0 lost the first half day
        f["/headend/import_kwh"] = imp
    c = portal.create_app(path).test_client()
    comp = {m["id"]: m["completeness"] for m in c.get("/api/utility/completeness").get_json()["meters"]}
    assert comp[0][0] == pytest.approx(0.5) and comp[0][1] == 1.0 and comp[1][0] == 1.0
    assert "/headend/import_kwh" in c.get("/utility").get_data(as_text=True)
    # the customer's own page and bills still use the true meter series
    assert c.get("/api/customer/0/alternatives").status_code == 200


def test_utility_concentrator_table_reads_comms_concentrator(city, client, tmp_path):
    """docs/comms.md "Hops and bandwidth": the utility view's table of data concentrators
    (/comms/concentrator), only the ones with meters, least delivered first; none without comms."""
    assert client.get("/api/utility/concentrators").get_json() == []
    assert "id='concentrators'" not in client.get("/utility").get_data(as_text=True)
    path = tmp_path / "conc.h5"
    shutil.copy(city, path)
    with h5py.File(path, "a") as f:
        g = f.create_group("/comms/concentrator")
        g["id"] = np.array([-1, 10, 11, 12], dtype=np.int64)
        g["meters"] = np.array([0, 5, 7, 3], dtype=np.int64)
        g["max_hops"] = np.array([0, 2, 4, 1], dtype=np.int64)
        g["readings"] = np.array([0, 500, 700, 300], dtype=np.int64)
        g["delivered_share"] = np.array([np.nan, 0.99, 0.8, 0.99])
        g["mean_delay_s"] = np.array([np.nan, 61.0, 240.5, 30.0])
        g["max_delay_s"] = np.array([np.nan, 900.0, 3600.0, 80.0])
        g["max_queue_wait_s"] = np.array([np.nan, 0.0, 120.0, 0.0])
    c = portal.create_app(path).test_client()
    rows = c.get("/api/utility/concentrators").get_json()
    assert [r["id"] for r in rows] == [11, 10, 12]  # least delivered first, ties by id; the source (no meters) left out
    assert rows[0]["max_hops"] == 4 and rows[0]["mean_delay_s"] == 240.5 and rows[0]["meters"] == 7
    page = c.get("/utility").get_data(as_text=True)
    table = page[page.index("id='concentrator-table'"):]
    table = table[:table.index("</table>")]
    assert table.count("<tr>") == 4  # the header and 3 concentrators
    assert "<td>11</td><td>7</td><td>4</td><td>0.800</td><td>240</td><td>3,600</td><td>120</td>" in table


# ---- the command --------------------------------------------------------------------------------------
def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not CLI.is_file(), reason=f"no CLI at {CLI}")
def test_cli_portal_errors(city, tmp_path):
    def run(*args, env=None):
        return subprocess.run([str(CLI), "portal", *map(str, args)], capture_output=True, text=True, timeout=120,
                              env={**os.environ, **(env or {})})
    r = run(tmp_path / "none.h5")
    assert r.returncode == 1 and "none.h5" in r.stderr and "no such file" in r.stderr
    r = run(city, "--port", "0")
    assert r.returncode != 0 and "--port" in r.stderr
    r = run(city, env={"LIBGRID_PYTHON": str(tmp_path / "nopython")})
    assert r.returncode == 1 and "nopython" in r.stderr and "LIBGRID_PYTHON" in r.stderr
    r = run(city, env={"LIBGRID_PYTHONPATH": str(tmp_path), "PYTHONPATH": "", "PYTHONNOUSERSITE": "1"}) if not \
        os.environ.get("LIBGRID_TEST_INSTALLED") else None
    if r is not None:
        assert r.returncode == 1 and "no libgrid package" in r.stderr


@pytest.mark.skipif(not CLI.is_file(), reason=f"no CLI at {CLI}")
def test_cli_portal_serves_and_stops_on_sigterm(city):
    port = _free_port()
    p = subprocess.Popen([str(CLI), "portal", str(city), "--port", str(port)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        body = None
        for _ in range(600):  # until the server answers (or the process ended)
            if p.poll() is not None:
                break
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/meters", timeout=5).read()
                break
            except OSError:
                threading.Event().wait(0.1)
        assert body is not None, p.stderr.read() if p.poll() is not None else "no answer"
        assert len(json.loads(body)) == 140
        p.send_signal(signal.SIGTERM)  # reaches the Python server itself (exec, no wrapper process)
        p.wait(timeout=60)
        assert p.returncode in (0, -signal.SIGTERM)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


# ---- a real browser -------------------------------------------------------------------------------------
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def server(app):
    """The app on a real socket (werkzeug, a thread) for the browser."""
    from werkzeug.serving import make_server
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()
    t.join()


def make_browser(width=1280, height=900):
    """Headless chromium through selenium, with every host name but 127.0.0.1 unresolvable (no network)."""
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
              f"--window-size={width},{height}", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
              "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"):
        opts.add_argument(a)
    # the browser is not ours to sanitize: under .ci/sanitize.sh pytest runs with the ASan runtime in
    # LD_PRELOAD, which chromedriver and chromium inherit and cannot start with
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER, env=env), options=opts)


@pytest.fixture(scope="module")
def browser():
    b = make_browser()
    yield b
    b.quit()


def test_browser_shows_the_bill_of_the_file_to_the_cent(city, server, browser):
    from selenium.webdriver.common.by import By
    months, ids, cols, tariffs, schemes = _bill(city)
    j = tariffs.index("domestic_general")
    cid = int(ids[j])
    # the picker on / leads to the customer page
    browser.get(server + "/")
    box = browser.find_element(By.ID, "meter-id")
    box.send_keys(str(cid))
    browser.find_element(By.ID, "open").click()
    assert browser.current_url.endswith(f"/customer/{cid}")
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Meter {cid}"
    cells = browser.find_elements(By.CSS_SELECTOR, "#bill-table td.bill-total")
    assert [c.get_attribute("data-month") for c in cells] == months
    for i, c in enumerate(cells):
        shown = float(c.text.replace(",", ""))
        assert shown == round(float(cols["total_rm"][i, j]), 2) and abs(shown - float(cols["total_rm"][i, j])) < 0.005
    # the ToU alternative on the page equals re-billing the file
    want = libgrid.read_results(city).rebill(tariff="domestic_tou", export=schemes[j], customers=[cid])["total_rm"].sum()
    row = browser.find_element(By.CSS_SELECTOR, f"#alt-table tr[data-tariff='domestic_tou'][data-export='{schemes[j]}'] td.alt-total")
    assert abs(float(row.text.replace(",", "")) - want) < 0.005
    # charts are inline SVG, and nothing came from anywhere but this server
    assert len(browser.find_elements(By.CSS_SELECTOR, "#consumption svg")) == 1
    urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(u.startswith(server) for u in urls), urls


def test_browser_error_page_for_an_unknown_id(server, browser):
    from selenium.webdriver.common.by import By
    browser.get(server + "/customer/424242")
    assert "424242" in browser.find_element(By.ID, "error-message").text
    assert "404" in browser.find_element(By.TAG_NAME, "h1").text
    browser.get(server + "/utility")
    assert browser.find_element(By.ID, "completeness").text == "1.000"
    assert "2025-01-29T14:00" in browser.find_element(By.ID, "dr").text


def screenshots(results, out_dir, customer):
    """docs/img/portal_customer.png and portal_utility.png (docs/portal.md): whole pages in headless chromium."""
    from werkzeug.serving import make_server
    app = portal.create_app(results)
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    b = make_browser(1200, 900)
    try:
        for name, url in (("portal_customer.png", f"/customer/{customer}?view=week&date=2025-01-13"),
                          ("portal_utility.png", "/utility")):
            b.get(f"http://127.0.0.1:{srv.server_port}{url}")
            h = b.execute_script("return document.documentElement.scrollHeight")
            b.set_window_size(1200, min(int(h) + 40, 6000))
            b.save_screenshot(os.path.join(out_dir, name))
            b.set_window_size(1200, 900)
    finally:
        b.quit()
        srv.shutdown()


if __name__ == "__main__":  # python3 tests/python/test_portal.py RESULTS.h5 OUT_DIR CUSTOMER
    screenshots(sys.argv[1], sys.argv[2], int(sys.argv[3]))
