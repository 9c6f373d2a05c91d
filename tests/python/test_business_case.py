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

CATALOGUE = """schema: libgrid.cost_catalogue/1
region: test
currency: RM
price_year: 2024
sources: {}
finance:
  discount_rate_customer_nominal: 0.06
  discount_rate_cpo_nominal: 0.09
  discount_rate_utility_nominal: 0.07
  discount_rate_social_real: 0.05
  tariff_escalation_nominal_per_year: 0.02
  om_escalation_nominal_per_year: 0.03
  co2_price_rm_per_t: 0.0
market:
  wholesale_energy_cost_rm_per_kwh: 0.30
  charging_price_rm_per_kwh: 1.0
ev:
  fuel_savings_rm_per_kwh_charged: 0.0
assets:
  pv_residential:
    size_kwp: {min: 0.0, max: 12.0}
    capex_rm_per_kwp: 4000
    fixed_om_rm_per_kwp_year: 40
    lifetime_years: 25
    degradation_per_year: 0.005
    replacements:
      - part: inverter
        year: 8
        cost_rm_per_kwp: 600
  battery:
    behind_the_meter:
      capex_rm_per_kwh: 2000
      capex_rm_per_kw: 700
      fixed_om_fraction_of_capex_year: 0.01
    cycle_life_efc: 6000
    calendar_life_years: 15
    replacements:
      - part: battery_modules
        cost_fraction_of_energy_capex: 0.6
  transformer_11kv:
    capex_rm_per_unit:
      "315": 60000
      "500": 80000
"""


def write_run(path, loads=(1, 2, 3), bills=(1000, 1200, 50000), import_mwh=100.0, co2_t=78.0, trafo_max=120.0,
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
        th.append((400 * g(0.02, t) if t else 0.0) - pv)
        util.append((-5400 + 3000) * g(0.02, t) if t else 80000.0)
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
