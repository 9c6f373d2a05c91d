"""Issue 18: the Python face of the economics layer against hand-worked flows, and the catalogue table."""
import math

import pytest

from conftest import ROOT
from libgrid import economics as ec


def test_finance_functions_match_hand_worked_flows():
    a = (1 - 1.06 ** -12) / 0.06
    cf = [-28000.0] + [3900.0] * 12
    cf[8] -= 4000.0
    assert ec.npv(cf, 0.06) == pytest.approx(-28000 + 3900 * a - 4000 / 1.06 ** 8, abs=1e-9)
    assert ec.annuity_factor(0.06, 12) == pytest.approx(a, abs=1e-12)
    assert ec.irr([-1000.0, 0.0, 0.0, 1331.0]) == pytest.approx(0.1, abs=1e-9)
    assert math.isnan(ec.irr([1.0, 2.0]))
    assert ec.simple_payback_years(cf) == pytest.approx(8 + 800 / 3900, abs=1e-9)
    costs = ec.asset_costs("charger", capex=10000, om_per_year=300, lifetime_years=8, project_years=20, om_escalation=0.03,
                           replacements=[(5, 2000)])
    assert len(costs) == 21 and costs[0] == 10000 and costs[16] == pytest.approx(10000 + 300 * 1.03 ** 15)
    assert costs[20] == pytest.approx(300 * 1.03 ** 19 - 5000)
    assert ec.levelised_cost([100.0, 10.0], [0.0, 100.0], 0.0) == pytest.approx(1.1)
    assert ec.battery_life_years(10, 5840, 6000, 15) == pytest.approx(6000 / 584)
    with pytest.raises(Exception, match="capex"):
        ec.asset_costs("pv", capex=-1)


def test_catalogue_table():
    cat = ec.catalogue(ROOT / "data" / "costs" / "malaysia_2024.yaml")
    assert cat.attrs["currency"] == "RM" and cat.attrs["price_year"] == 2024
    assert cat.attrs["undocumented"] == []
    row = cat.loc["assets.pv_ground.capex_rm_per_kwp"]
    assert row["value"] == 3120 and row["source"] == "pvmag_founder_2024" and "pv magazine" in row["citation"]
    assert bool(cat.loc["assets.pv_residential.capex_rm_per_kwp", "assumption"])
    em = ec.catalogue(ROOT / "data" / "emissions" / "peninsular_malaysia.yaml")
    assert len(em.attrs["series"]["hourly.marginal_weekday"]) == 24
    with pytest.raises(Exception, match="nowhere"):
        ec.catalogue(ROOT / "nowhere.yaml")


def test_results_carry_the_sizes_that_price_the_assets(tmp_path):
    """Issue 18: a results file alone prices its assets: each device group writes its sizes."""
    import h5py
    import numpy as np
    import libgrid
    sc = libgrid.Scenario.load(str(ROOT / "scenarios" / "melaka_smart_city.yaml")).override(steps=4, size="small")
    sc.run(output=str(tmp_path / "s.h5"))
    want = {"pv": ["kwp_dc"], "battery": ["e_kwh", "p_charge_kw", "p_discharge_kw"], "ev": ["n_chargers", "charger_kw"],
            "ev_site": ["n_chargers", "charger_kw", "pv_kwp", "battery_kwh", "battery_kw"], "building": ["floor_area_m2"],
            "home": ["pv_kwp", "battery_kwh", "battery_kw", "ev_charger_kw"]}
    with h5py.File(tmp_path / "s.h5", "r") as f:
        for g, names in want.items():
            assert g in f, g
            n = len(f[g]["id"])
            for k in names:
                v = f[g][k][...]
                assert v.shape == (n,), (g, k)
                assert np.isfinite(v).all() and (v >= 0).all(), (g, k)
        assert (f["ev"]["n_chargers"][...] >= 1).all() and (f["ev"]["charger_kw"][...] > 0).all()
        assert (f["building"]["floor_area_m2"][...] > 0).all()
        assert f["ev_site"]["pv_kwp"][...].sum() > 0 and f["pv"]["kwp_dc"][...].sum() > 0
