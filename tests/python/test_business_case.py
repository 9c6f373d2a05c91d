"""Issue 18: libgrid.economics.business_case and `libgrid economics` on a hand-made pair of results
files (written here with h5py after docs/results_hdf5.md), figures worked by hand; errors; a short
baseline / smart-city pair through the real engine (docs/economics.md "The business case")."""
import json
import math
import subprocess

import h5py
import numpy as np
import pytest

from conftest import BUILD, ROOT
from libgrid import economics as ec

CLI = BUILD / "libgrid"

CATALOGUE = (ROOT / "tests" / "data" / "economics" / "hand_worked_catalogue.yaml").read_text()  # shared with the C++ test


def write_run(path, loads=(1, 2, 3), bills=(4000, 1200, 50000), import_mwh=100.0, co2_t=78.0, trafo_max=120.0,
              added=False, scenario="name: t\n"):
    """Two steps of 4380 h (a year); 3 customers of 2 classes; a transformer; with `added`, a 5 kWp PV at
    customer 1 (0.001 MW: 8760 kWh/yr) and a 100 kWh / 50 kW battery at customer 3 (65 700 kWh/yr out)."""
    s = h5py.string_dtype()
    with h5py.File(path, "w") as f:
        f.attrs["scenario"] = scenario
        f["time"] = np.array([0, 4380 * 3600], dtype=np.int64)
        f["load/id"] = np.array(loads, dtype=np.int64)
        f.create_dataset("load/type", data=["terrace_house", "terrace_house", "office"], dtype=s)
        if bills is not None:
            f["bill/id"] = np.array(loads, dtype=np.int64)
            f["bill/total_rm"] = np.array([bills], dtype=float)
        f["branch/id"] = np.array([0, 1], dtype=np.int64)
        f.create_dataset("branch/kind", data=["line", "trafo"], dtype=s)
        f["branch/element_id"] = np.array([0, 7], dtype=np.int64)
        f["branch/rated_kva"] = np.array([np.inf, 315.0])
        f["branch/loading_percent"] = np.array([[50.0, trafo_max], [40.0, 80.0]])
        if added:
            f["pv/id"] = np.array([10], dtype=np.int64)
            f["pv/customer"] = np.array([1], dtype=np.int64)
            f["pv/kwp_dc"] = np.array([5.0])
            f["pv/p_mw"] = np.array([[0.001], [0.001]])
            f["battery/id"] = np.array([20], dtype=np.int64)
            f["battery/customer"] = np.array([3], dtype=np.int64)
            f["battery/e_kwh"] = np.array([100.0])
            f["battery/p_charge_kw"] = np.array([50.0])
            f["battery/p_discharge_kw"] = np.array([50.0])
            f["battery/p_mw"] = np.array([[0.015], [-0.015]])
        f["summary/import_mwh"] = import_mwh
        f["summary/co2_t"] = co2_t


@pytest.fixture
def pair(tmp_path):
    cat = tmp_path / "cat.yaml"
    cat.write_text(CATALOGUE)
    write_run(tmp_path / "base.h5")
    write_run(tmp_path / "scen.h5", bills=(600, 1200, 45000), import_mwh=90.0, co2_t=70.2, trafo_max=95.0, added=True)
    return tmp_path / "base.h5", tmp_path / "scen.h5", cat


def hand_flows(n=12):
    """The terrace houses', the utility's and the city's flows and the PV's costs and output, by hand."""
    g = lambda r, t: (1 + r) ** (t - 1)  # noqa: E731
    life = 6000 / 657.0
    modules = 0.6 * 100 * 2000
    th, util, city, pv_cost, pv_kwh = [], [], [], [], []
    for t in range(n + 1):
        pv = 20000.0 if t == 0 else 200 * g(0.03, t) + (3000 if t == 8 else 0) - (10400 if t == 12 else 0)
        bat = 235000.0 if t == 0 else 2350 * g(0.03, t) + (modules if t == 10 else 0) - (modules * (10 + life - 12) / life if t == 12 else 0)
        pv_cost.append(pv)
        pv_kwh.append(0.0 if t == 0 else 8760 * 0.995 ** (t - 1))
        th.append((3400 * g(0.02, t) if t else 0.0) - pv)
        util.append((-8400 + 3000) * g(0.02, t) if t else 80000.0)
        city.append((3000 * g(0.02, t) if t else 80000.0) - pv - bat)
    return th, util, city, pv_cost, pv_kwh


def pv_(cf, r):
    return sum(c / (1 + r) ** t for t, c in enumerate(cf))


def test_business_case_matches_hand_worked_figures(pair):
    base, scen, cat = pair
    bc = ec.business_case(base, scen, catalogue=cat, project_years=12)
    th, util, city, pv_cost, pv_kwh = hand_flows()
    st = bc.stakeholders
    assert st.index.name == "stakeholder"
    assert list(st.columns) == ["capex_rm", "npv_rm", "irr", "simple_payback_years", "discounted_payback_years", "discount_rate"]
    assert list(st.index) == ["office", "terrace_house", "charging_operator", "utility", "city"]
    assert st.loc["terrace_house", "npv_rm"] == pytest.approx(pv_(th, 0.06), abs=1e-9)
    assert st.loc["terrace_house", "capex_rm"] == 20000.0
    assert st.loc["utility", "npv_rm"] == pytest.approx(pv_(util, 0.07), abs=1e-9)
    assert st.loc["city", "npv_rm"] == pytest.approx(pv_(city, 0.05), abs=1e-9)
    assert st.loc["city", "discount_rate"] == 0.05
    assert math.isnan(st.loc["office", "simple_payback_years"])
    assert st.loc["terrace_house", "irr"] == pytest.approx(ec.irr(th), abs=1e-9)
    assert 5 < st.loc["terrace_house", "simple_payback_years"] < 7
    assert st.loc["terrace_house", "simple_payback_years"] == pytest.approx(ec.simple_payback_years(th), abs=1e-9)
    assert bc.lcoe_pv_rm_per_kwh == pytest.approx(pv_(pv_cost, 0.05) / pv_(pv_kwh, 0.05), abs=1e-9)
    assert bc.co2_avoided_t_per_year == pytest.approx(7.8, abs=1e-9)
    assert bc.abatement_cost_rm_per_t == pytest.approx(-pv_(city, 0.05) / pv_([0] + [7.8] * 12, 0.05), rel=1e-9)
    assert bc.project_years == 12
    # cash flows: MultiIndex (stakeholder, item), columns 0..n
    cf = bc.cash_flows
    assert cf.index.names == ["stakeholder", "item"]
    assert list(cf.columns) == list(range(13))
    assert cf.loc[("office", "replacements"), 10] == pytest.approx(-120000.0)  # modules at year 10 (life 9.13 y)
    assert cf.loc[("utility", "avoided_upgrades"), 0] == 80000.0
    assert bc.net_cash_flow("terrace_house").tolist() == pytest.approx(th, abs=1e-9)
    # assets and upgrades
    assert set(bc.assets["asset_class"]) == {"pv_residential", "battery"}
    assert bc.assets.set_index("asset_class").loc["battery", "capex_rm"] == 235000.0
    up = bc.upgrades
    assert up.to_dict("records") == [{"transformer": "7", "rated_kva": 315.0, "max_loading_base_percent": 120.0,
                                      "max_loading_scenario_percent": 95.0, "status": "avoided", "cost_rm": 80000.0,
                                      "next_rating": "500"}]
    assert any("annualised" in n for n in bc.notes)
    j = json.loads(bc.to_json())
    assert j["stakeholders"][1]["npv_rm"] == pytest.approx(pv_(th, 0.06), abs=1e-9)


def test_options_and_scenario_key(pair, tmp_path):
    base, scen, cat = pair
    text = (f"name: t\neconomics:\n  catalogue: {cat}\n  project_years: 10\n  discount_rate: {{customer: 0.1}}\n"
            "  overrides: {assets.pv_residential.capex_rm_per_kwp: 3000}\n")
    scen2 = tmp_path / "scen2.h5"
    write_run(scen2, bills=(600, 1200, 45000), import_mwh=90.0, co2_t=70.2, trafo_max=95.0, added=True, scenario=text)
    a = ec.business_case(base, scen2)
    assert a.project_years == 10 and a.stakeholders.loc["terrace_house", "discount_rate"] == 0.1
    assert a.stakeholders.loc["terrace_house", "capex_rm"] == 15000.0
    b = ec.business_case(base, scen2, project_years=5, discount_rate=0.03, overrides={"assets.pv_residential.capex_rm_per_kwp": 2000})
    assert b.project_years == 5 and list(b.cash_flows.columns) == list(range(6))
    assert (b.stakeholders["discount_rate"] == 0.03).all()
    assert b.stakeholders.loc["terrace_house", "capex_rm"] == 10000.0
    assert "override (option): assets.pv_residential.capex_rm_per_kwp = 2000" in b.notes
    assert "override (the scenario's economics key): assets.pv_residential.capex_rm_per_kwp = 3000" in b.notes
    assert b.figures["assets.pv_residential.capex_rm_per_kwp"] == 2000.0 and b.figures["market.wholesale_energy_cost_rm_per_kwh"] == 0.30
    c = ec.business_case(base, scen2, project_years=5, tariff_scale=0.5)
    assert c.cash_flows.loc[("terrace_house", "bill_savings"), 1] == pytest.approx(0.5 * 3400, abs=1e-9)
    assert c.cash_flows.loc[("utility", "revenue_change"), 1] == pytest.approx(0.5 * -8400, abs=1e-9)


def test_errors_name_the_file_and_the_figure(pair, tmp_path):
    base, scen, cat = pair
    with pytest.raises(Exception, match="override 'assets.pv_residential.capex_per_kwp'.*no such figure"):
        ec.business_case(base, scen, catalogue=cat, overrides={"assets.pv_residential.capex_per_kwp": 1})
    other = tmp_path / "other.h5"
    write_run(other, loads=(1, 2, 4))
    with pytest.raises(Exception, match="not runs of the same network.*other.h5"):
        ec.business_case(base, other, catalogue=cat)
    nobill = tmp_path / "nobill.h5"
    write_run(nobill, bills=None)
    with pytest.raises(Exception, match=r"nobill.h5': no dataset '/bill/id'"):
        ec.business_case(nobill, scen, catalogue=cat)
    with pytest.raises(Exception, match="discount_rate: unknown stakeholder 'bank'"):
        ec.business_case(base, scen, catalogue=cat, discount_rate={"bank": 0.1})


def test_needed_upgrade_on_an_unbalanced_style_file(pair, tmp_path):
    """A transformer over 100 % in the scenario only is a cost; on a file without /branch/rated_kva (an
    unbalanced run) its kVA is the rated phase current x sqrt(3) x the HV bus's kV."""
    base, scen, cat = pair
    files = []
    for name, peak in (("b.h5", 95.0), ("s.h5", 130.0)):
        write_run(tmp_path / name, trafo_max=peak)
        with h5py.File(tmp_path / name, "a") as f:
            del f["branch/rated_kva"], f["branch/element_id"]
            f["branch/rated_amps"] = np.array([400.0, 315.0 / (math.sqrt(3) * 11.0)])
            f["branch/from_bus"] = np.array([1, 2], dtype=np.int64)
            f.create_dataset("branch/name", data=["l1", "t0"], dtype=h5py.string_dtype())
            f["bus/id"] = np.array([1, 2], dtype=np.int64)
            f["bus/vn_kv"] = np.array([0.4, 11.0])
        files.append(tmp_path / name)
    bc = ec.business_case(*files, catalogue=cat, project_years=12)
    up = bc.upgrades.iloc[0]
    assert up["transformer"] == "t0" and up["status"] == "needed" and up["next_rating"] == "500"
    assert up["rated_kva"] == pytest.approx(315.0)
    assert bc.cash_flows.loc[("utility", "needed_upgrades"), 0] == -80000.0
    assert bc.stakeholders.loc["city", "capex_rm"] == 0.0  # an upgrade is not an asset purchase


def test_ev_fuel_savings_only_when_given(pair, tmp_path):
    """A home charger added at customer 2 (charging 0.001 MW in both steps: 8760 kWh/yr): priced as an
    asset; petrol saved only with ev.fuel_savings_rm_per_kwh_charged set (else a note)."""
    import libgrid  # the plain import reaches libgrid.economics
    base, _, cat = pair
    scen = tmp_path / "ev.h5"
    write_run(scen)
    with h5py.File(scen, "a") as f:
        f["ev/id"] = np.array([30], dtype=np.int64)
        f["ev/customer"] = np.array([2], dtype=np.int64)
        f["ev/n_chargers"] = np.array([1.0])
        f["ev/charger_kw"] = np.array([7.0])
        f["ev/p_mw"] = np.array([[-0.001], [-0.001]])
    a = libgrid.economics.business_case(base, scen, catalogue=cat, project_years=12)
    assert ("terrace_house", "ev_fuel_savings") not in a.cash_flows.index
    assert any("EV ownership is outside the boundary" in n for n in a.notes)
    assert a.stakeholders.loc["terrace_house", "capex_rm"] == 3000.0
    assert a.cash_flows.loc[("terrace_house", "replacements"), 10] == -3000.0  # bought again after its 10-year life
    b = libgrid.economics.business_case(base, scen, catalogue=cat, project_years=12, overrides={"ev.fuel_savings_rm_per_kwh_charged": 0.9})
    assert b.cash_flows.loc[("terrace_house", "ev_fuel_savings"), 1] == pytest.approx(8760 * 0.9, abs=1e-9)
    assert b.cash_flows.loc[("terrace_house", "ev_fuel_savings"), 2] == pytest.approx(8760 * 0.9 * 1.02, abs=1e-9)
    assert b.cash_flows.loc[("city", "ev_fuel_savings"), 1] == pytest.approx(8760 * 0.9, abs=1e-9)


def test_cli_economics(pair, tmp_path):
    base, scen, cat = pair
    out = tmp_path / "case.json"
    p = subprocess.run([str(CLI), "economics", str(base), str(scen), "--catalogue", str(cat), "--years", "12", "--json", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "terrace_house" in p.stdout and "LCOE" in p.stdout and "avoided" in p.stdout
    th = hand_flows()[0]
    case = json.loads(out.read_text())
    assert case["stakeholders"][1]["npv_rm"] == pytest.approx(pv_(th, 0.06), abs=1e-9)
    bad = subprocess.run([str(CLI), "economics", str(base), str(scen), "--catalogue", str(cat), "--set", "nope.figure=1"],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "nope.figure" in bad.stderr and "Traceback" not in bad.stderr
    bad = subprocess.run([str(CLI), "economics", str(base), str(scen), "--set", "x"], capture_output=True, text=True)
    assert bad.returncode != 0 and "--set 'x'" in bad.stderr


def test_shipped_pair_short_runs(tmp_path):
    """The shipped baseline and smart city, 2 days each: the classes come from the generated grid (the
    unbalanced Melaka file has no /load/type), assets are added, the city's NPV is finite."""
    for name in ("melaka_baseline", "melaka_smart_city"):
        subprocess.run([str(CLI), "run", str(ROOT / "scenarios" / f"{name}.yaml"), "-o", str(tmp_path / f"{name}.h5"),
                        "--set", "horizon.duration=2d", "-q"], check=True, capture_output=True)
    bc = ec.business_case(tmp_path / "melaka_baseline.h5", tmp_path / "melaka_smart_city.h5")
    st = bc.stakeholders
    assert {"terrace_house", "office", "charging_operator", "utility", "city"} <= set(st.index)
    assert "unclassified" not in st.index
    assert st.loc["city", "capex_rm"] > 0 and math.isfinite(st.loc["city", "npv_rm"])
    assert {"pv_residential", "battery", "hems", "bems"} <= set(bc.assets["asset_class"])
    assert st.loc["charging_operator", "capex_rm"] > 0  # the sites' canopy PV and batteries
    assert bc.lcoe_pv_rm_per_kwh > 0 and bc.lcos_rm_per_kwh > 0
    assert bc.hours_scenario == 48.0
    assert any("covers a month in part" in n for n in bc.notes)  # 2 days of January


def test_city_rate_real_made_nominal_with_inflation(pair):
    """The catalogue's social rate is real and the flows nominal: the city's rate is (1 + r)(1 + i) - 1
    with the catalogue's general inflation; a rate given for the city is used as given."""
    base, scen, cat = pair
    bc = ec.business_case(base, scen, catalogue=cat, project_years=12,
                          overrides={"finance.general_inflation_per_year": 0.02})
    assert bc.stakeholders.loc["city", "discount_rate"] == pytest.approx(1.05 * 1.02 - 1.0, abs=1e-15)
    assert any("made nominal" in n for n in bc.notes)
    given = ec.business_case(base, scen, catalogue=cat, project_years=12, discount_rate={"city": 0.05},
                             overrides={"finance.general_inflation_per_year": 0.02})
    assert given.stakeholders.loc["city", "discount_rate"] == 0.05
