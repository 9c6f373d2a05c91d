"""libgrid.economics.tornado (bindings/python/libgrid/sensitivity.py, docs/economics.md "Sensitivity"):
the recomputed variants equal business_case with the same change, exactly; the PV-yield variant re-runs
both stored scenarios (short horizon) with scaled irradiance, serially and on a Dask LocalCluster with
the same NPVs, and moves the NPV the expected way; the table is sorted by swing; bad input is named;
the plot draws one bar per input and side with units in the labels."""
import math
import os
import types

import h5py
import numpy as np
import pandas as pd
import pytest

import libgrid
from libgrid import economics as ec
from libgrid import sensitivity
from libgrid.sensitivity import INPUTS, TornadoError, plot_tornado, tornado
from conftest import ROOT

HORIZON = "5d"  # from 1 January: five days at 15 min, a few seconds a run


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The shipped baseline and smart-city scenarios, shortened, run into results files."""
    d = tmp_path_factory.mktemp("pair")
    files = {}
    for key, name in (("base", "melaka_baseline"), ("scenario", "melaka_smart_city")):
        sc = libgrid.Scenario.load(ROOT / "scenarios" / f"{name}.yaml")
        sc.set("horizon.duration", HORIZON)
        sc.run(str(d / f"{name}.h5"))
        files[key] = str(d / f"{name}.h5")
    return files


def npv(case, who="city"):
    return float(case.stakeholders.loc[who, "npv_rm"])


@pytest.fixture(scope="module")
def table(pair):
    return tornado(pair["base"], pair["scenario"], inputs=[i for i in INPUTS if i != "pv_yield"])


# ---- recomputed variants: exactly business_case with the same change ------------------------------

def test_recomputed_variants_equal_business_case(pair, table):
    b, s = pair["base"], pair["scenario"]
    ref = ec.business_case(b, s)
    assert table.attrs["npv_base_rm"] == npv(ref)
    row = table.set_index("input")
    figs = sensitivity._figures(ref)
    capex = [n for n in figs if n.startswith("assets.") and n.split(".")[-1].startswith("capex")]
    assert len(capex) >= 10 and "assets.pv_residential.capex_rm_per_kwp" in capex
    for f, col in ((0.8, "npv_low_rm"), (1.2, "npv_high_rm")):
        assert row.loc["capex", col] == npv(ec.business_case(b, s, overrides={n: figs[n] * f for n in capex}))
        assert row.loc["tariff", col] == npv(ec.business_case(b, s, tariff_scale=f))
        w = sensitivity.WHOLESALE_FIGURE
        assert row.loc["wholesale_cost", col] == npv(ec.business_case(b, s, overrides={w: figs[w] * f}))
        rates = sensitivity._rates(ref)
        assert row.loc["discount_rate", col] == npv(ec.business_case(b, s, discount_rate={k: r * f for k, r in rates.items()}))
        n = int(round(ref.project_years * f))
        assert row.loc["project_years", col] == npv(ec.business_case(b, s, project_years=n))
    assert row.loc["project_years", "low_value"] == round(ref.project_years * 0.8)
    assert row.loc["discount_rate", "base_value"] == ref.stakeholders.loc["city", "discount_rate"]
    # each input moves the city's NPV the way it must
    assert row.loc["capex", "npv_low_rm"] > table.attrs["npv_base_rm"] > row.loc["capex", "npv_high_rm"]
    assert row.loc["discount_rate", "npv_low_rm"] != row.loc["discount_rate", "npv_high_rm"]


def test_table_sorted_by_swing(table):
    assert list(table.columns[:6]) == ["input", "low_value", "high_value", "npv_low_rm", "npv_high_rm", "swing_rm"]
    assert np.array_equal(table.swing_rm.to_numpy(), np.abs(table.npv_high_rm - table.npv_low_rm).to_numpy())
    assert (np.diff(table.swing_rm.to_numpy()) <= 0).all()
    assert sorted(table.input) == sorted(i for i in INPUTS if i != "pv_yield")
    assert table.attrs["stakeholder"] == "city" and set(table.attrs["notes"]) == set(table.input)


def test_other_stakeholder_and_factors(pair):
    t = tornado(pair["base"], pair["scenario"], inputs=["capex", "tariff"], low=0.5, high=1.5, stakeholder="utility")
    r = t.set_index("input")
    assert r.loc["tariff", "npv_low_rm"] == npv(ec.business_case(pair["base"], pair["scenario"], tariff_scale=0.5), "utility")
    assert r.loc["capex", "low_value"] == 0.5 and r.loc["capex", "high_value"] == 1.5


# ---- PV yield: re-runs through the sweep machinery ----------------------------------------------

def test_pv_yield_reruns_both_scenarios(pair, tmp_path):
    t = tornado(pair["base"], pair["scenario"], inputs=["pv_yield"], output_dir=tmp_path)
    [row] = t.to_dict("records")
    assert (row["low_value"], row["high_value"], row["base_value"]) == (pytest.approx(3.44), pytest.approx(5.16), 4.3)
    # more sun, more PV energy in the smart city than in the baseline: the city gains
    assert row["npv_high_rm"] > row["npv_low_rm"]
    for key, name in (("base", "melaka_baseline"), ("scenario", "melaka_smart_city")):
        pv = []
        for i, ghi in enumerate((3.44, 5.16)):
            path = tmp_path / key / f"variant_{i}.h5"
            with h5py.File(path, "r") as f:
                text = f.attrs["scenario"]
                assert f"mean_daily_ghi_kwh_m2: {ghi:g}" in text and "duration: 5d" in text
                assert f"name: \"{name}\"" in text
                pv.append(float(f["summary/pv_available_mwh"][()]))
        assert pv[0] < pv[1]
    # exactly business_case of the re-run files
    assert row["npv_low_rm"] == npv(ec.business_case(str(tmp_path / "base" / "variant_0.h5"),
                                                     str(tmp_path / "scenario" / "variant_0.h5")))


def test_pv_yield_on_dask_equals_serial(pair, tmp_path):
    from libgrid.sweep import start_local_cluster
    serial = tornado(pair["base"], pair["scenario"], inputs=["pv_yield"])
    cluster, client = start_local_cluster(2)
    try:
        dask = tornado(pair["base"], pair["scenario"], inputs=["pv_yield"], client=client, output_dir=tmp_path)
        assert set(client.run(os.getpid).values()).isdisjoint({os.getpid()})
    finally:
        client.close()
        cluster.close()
    assert dask.equals(serial)
    assert (tmp_path / "scenario" / "variant_1.h5").is_file()


# ---- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"inputs": ["capex", "fuel"]}, "inputs: unknown 'fuel'"),
    ({"low": 1.2, "high": 0.8}, "low (1.2) must be below high (0.8)"),
    ({"low": -1}, "low: expected a positive factor"),
    ({"high": "lots"}, "high: expected a number, got 'lots'"),
    ({"stakeholder": "aliens", "inputs": ["tariff"]}, "stakeholder 'aliens': not in the business case"),
])
def test_bad_input_is_named(pair, kwargs, message):
    with pytest.raises(TornadoError, match=message.replace("(", r"\(").replace(")", r"\)")):
        tornado(pair["base"], pair["scenario"], **kwargs)


def test_missing_file_is_named(pair, tmp_path):
    with pytest.raises(TornadoError, match="scenario: no results file .*nothing.h5"):
        tornado(pair["base"], str(tmp_path / "nothing.h5"))


def test_pv_yield_needs_the_scenario_text(pair, tmp_path):
    import shutil
    copy = tmp_path / "no_text.h5"
    shutil.copy(pair["scenario"], copy)
    with h5py.File(copy, "a") as f:
        del f.attrs["scenario"]
    with pytest.raises(TornadoError, match="no_text.h5: no root attribute 'scenario'"):
        sensitivity._stored_scenario(str(copy))


# ---- the plot (a stand-in business case: no engine needed) -------------------------------------

def fake_case(npv_of):
    """A business_case stand-in whose city NPV is npv_of(kwargs)."""
    def bc(base, scenario, **kw):
        table = pd.DataFrame({"npv_rm": [npv_of(kw)], "discount_rate": [0.08]},
                             index=pd.Index(["city"], name="stakeholder"))
        return types.SimpleNamespace(stakeholders=table, project_years=20,
                                     figures={"assets.pv.capex_rm_per_kwp": 4000.0, sensitivity.WHOLESALE_FIGURE: 0.3})
    return bc


def test_plot_with_a_stand_in(pair):
    def value(kw):
        ov = kw.get("overrides") or {}
        return (1e6 - 100 * ov.get("assets.pv.capex_rm_per_kwp", 4000.0) + 2e6 * kw.get("tariff_scale", 1.0)
                + 1e4 * kw.get("project_years", 20) - 1e6 * (kw.get("discount_rate") or {}).get("city", 0.08)
                + 1e5 * ov.get(sensitivity.WHOLESALE_FIGURE, 0.3))
    t = tornado(pair["base"], pair["scenario"], inputs=[i for i in INPUTS if i != "pv_yield"],
                business_case=fake_case(value))
    assert list(t.input) == ["tariff", "capex", "project_years", "discount_rate", "wholesale_cost"]
    assert t.set_index("input").loc["tariff", "swing_rm"] == pytest.approx(0.4 * 2e6)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ax = plot_tornado(t)
    assert len(ax.patches) == 2 * len(t)
    labels = [x.get_text() for x in ax.get_yticklabels()]
    assert labels[-1].startswith("tariff (all bills)") and "x0.8 / x1.2" in labels[-1]  # largest swing on top
    assert any("RM/kWh" in l for l in labels) and any("16 y / 24 y" in l for l in labels)
    assert "million RM" in ax.get_xlabel()
    widths = sorted(abs(p.get_width()) for p in ax.patches)
    assert widths[-1] == pytest.approx(0.2 * 2e6 / 1e6)
    plt.close(ax.figure)
    with pytest.raises(TornadoError, match="lacks the columns"):
        plot_tornado(t.drop(columns=["swing_rm"]))
