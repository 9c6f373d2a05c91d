"""Bills that say what they bill (issue 12): a one-week run flagged as partial in /bill and in
Results.bills(); Results.rebill() under the run's tariffs gives the run's bills, and under another
tariff changes them; the non-domestic LV ToU selectable from a scenario; `libgrid bill` on the CLI."""
import os
import subprocess

import numpy as np
import pytest

import libgrid
from conftest import BUILD, ROOT


def week(**kw):
    sc = libgrid.Scenario.load(str(ROOT / "scenarios" / "melaka_baseline.yaml"))
    sc.set("horizon.start", "2025-07-07").override(steps=672, size="small")
    for k, v in kw.items():
        sc.set(k, v)
    return sc


def test_week_is_flagged_partial_and_rebill_equals_run(tmp_path):
    res = week().run(output=str(tmp_path / "week.h5"))
    bills = res.bills()
    assert set(bills.month) == {"2025-07"}
    assert not bills.full_month.any()
    assert np.all(bills.days_covered == 7.0)
    assert set(bills.tariff) <= {"domestic_general", "domestic_tou", "non_domestic_lv", "non_domestic_lv_tou"}
    # the lines add up; bills_rm is their sum, KWTBB and SST included
    np.testing.assert_allclose(bills.subtotal_rm + bills.re_fund_rm + bills.service_tax_rm, bills.total_rm, atol=0.02)
    np.testing.assert_allclose(bills.total_rm.sum(), res.summary["bills_rm"], rtol=1e-6)
    assert bills.re_fund_rm.sum() > 0
    # re-billing under the run's own tariffs gives the run's bills (float32 in the file: to 1 sen)
    again = res.rebill()
    assert list(again.customer) == list(bills.customer)
    np.testing.assert_allclose(again.total_rm, bills.total_rm, atol=0.01)
    assert not again.full_month.any()
    # prorated: the same kWh, dearer per kWh (thresholds scaled by 7/31)
    pro = res.rebill(partial_months="prorate")
    np.testing.assert_array_equal(pro.import_kwh, again.import_kwh)
    assert pro.total_rm.sum() > again.total_rm.sum()
    # another tariff for everyone
    tou = res.rebill(tariff="domestic_tou")
    assert set(tou.tariff) == {"domestic_tou"}
    assert not np.allclose(tou.total_rm, again.total_rm)
    with pytest.raises(libgrid.ValidationError, match="commercial"):
        res.rebill(tariff="commercial")
    # only the homes on the general tariff move to ToU; the other customers keep their bills
    homes = res.rebill(tariff="domestic_tou", replace="domestic_general")
    was_general = (bills.tariff == "domestic_general").values
    assert was_general.any() and (~was_general).any()
    assert set(homes.tariff[was_general]) == {"domestic_tou"}
    np.testing.assert_array_equal(homes.tariff[~was_general], bills.tariff[~was_general])
    np.testing.assert_allclose(homes.total_rm[~was_general], bills.total_rm[~was_general], atol=0.01)
    np.testing.assert_allclose(homes.total_rm[was_general], tou.total_rm[was_general], atol=1e-9)


def test_non_domestic_tou_from_a_scenario(tmp_path):
    res = week(**{"tariff.non_domestic_tou_adoption": 1.0, "tariff.partial_months": "prorate"}).override(steps=8) \
        .run(output=str(tmp_path / "nd.h5"))
    bills = res.bills()
    assert "non_domestic_lv_tou" in set(bills.tariff)
    assert "non_domestic_lv" not in set(bills.tariff)
    assert (bills[bills.tariff == "non_domestic_lv_tou"].service_tax_rm == 0).all()
    import h5py
    with h5py.File(res.path, "r") as f:
        assert f["/bill"].attrs["partial_months"] in (b"prorate", "prorate")
    # the run prorated its partial month: re-billing it flagged instead bills the same kWh differently
    flagged = res.rebill(partial_months="flag")
    np.testing.assert_allclose(res.rebill().total_rm, bills.total_rm, atol=0.01)
    assert not np.allclose(flagged.total_rm, bills.total_rm)


def test_cli_bill(tmp_path):
    cli = BUILD / "libgrid"
    if not cli.exists():
        pytest.skip("the libgrid CLI is not built")
    out = tmp_path / "w.h5"
    week().override(steps=96).run(output=str(out))
    csv = tmp_path / "b.csv"
    r = subprocess.run([str(cli), "bill", str(out), "--tariff", "domestic_tou", "-o", str(csv)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "PARTIAL 1.00 of 31 d" in r.stdout
    import pandas as pd
    df = pd.read_csv(csv)
    assert set(df.tariff) == {"domestic_tou"}
    np.testing.assert_allclose(df.total_rm, df.subtotal_rm + df.re_fund_rm + df.service_tax_rm, atol=0.015)
    r = subprocess.run([str(cli), "bill", str(out), "--tariff", "nope"], capture_output=True, text=True)
    assert r.returncode == 1 and "unknown tariff 'nope'" in r.stderr
    # `libgrid run` says which months it billed and that this one is partial
    r = subprocess.run([str(cli), "run", str(ROOT / "scenarios" / "melaka_baseline.yaml"), "-o", str(tmp_path / "r.h5"),
                        "--size", "small", "--steps", "96", "--set", "horizon.start=2025-07-07", "-q"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "2025-07 PARTIAL (1.00 of 31 days, billed as is)" in r.stdout


def test_simulation_partial_months_from_python(tmp_path):
    net = libgrid.Network.from_json(ROOT / "tests" / "data" / "cigre" / "cigre_lv.input.json")
    runs = {}
    for mode in ("flag", "prorate"):
        sim = libgrid.Simulation(net, start="2025-07-07", step="30min", horizon="7d", meter_interval="30min",
                                 partial_months=mode, default_tariff="domestic_general")
        runs[mode] = sim.run(output=str(tmp_path / f"{mode}.h5")).bills()
    a, b = runs["flag"], runs["prorate"]
    assert not a.full_month.any() and not b.full_month.any()
    np.testing.assert_array_equal(a.import_kwh, b.import_kwh)
    assert b.total_rm.sum() > a.total_rm.sum()  # thresholds scaled by 7/31: less rebate, more tax
    with pytest.raises(libgrid.ValidationError, match="partial_months"):
        libgrid.Simulation(net, partial_months="weekly").run(output=str(tmp_path / "bad.h5"))
