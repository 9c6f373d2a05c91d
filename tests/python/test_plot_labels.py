"""Report-ready plots (issue 12): every plot function runs on a small results file (the smart city,
one day) and sets a title naming the run and axis labels with units; limits are drawn (the voltage
band of each level, 100 % loading); large grids are grouped (areas, levels); bills by class; the
hosting map is labelled, with the hosting DataFrame's old and new column names."""
import re

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import libgrid  # noqa: E402
from libgrid import plots  # noqa: E402
from conftest import ROOT  # noqa: E402

UNIT = re.compile(r"\((?:[^()]*?)(?:p\.u\.|MW|MWh|%|h|RM|kW|km|kVA)[^()]*\)")


@pytest.fixture(scope="module")
def scenario():
    sc = libgrid.Scenario.load(ROOT / "scenarios" / "melaka_smart_city.yaml")
    sc.set("network.model", "balanced")  # issue 15: the bus-table plots (the per-phase ones: test_unbalanced_run.py)
    sc.set("horizon.start", "2025-06-11")
    sc.override(steps=96)
    return sc


@pytest.fixture(scope="module")
def res(scenario, tmp_path_factory):
    return scenario.run(output=str(tmp_path_factory.mktemp("labels") / "smart_day.h5"))


def h5(res, path):
    with h5py.File(res.path, "r") as f:
        ds = f[path]
        return ds.asstr()[()] if ds.dtype.kind == "O" else np.asarray(ds[()])


def labelled(ax, run=True):
    """Title (naming the run), x and y labels with units; closes the figure."""
    title = ax.get_title()
    assert title, "no title"
    if run:
        assert "melaka_smart_city" in title and "296 buses" in title and "2025-06-11" in title, title
    assert ax.get_xlabel(), f"{title}: no x label"
    assert UNIT.search(ax.get_ylabel()) or ax.get_ylabel().startswith(("area", "customer", "11 kV")), ax.get_ylabel()
    plt.close(ax.figure)


def test_run_title(res, tmp_path):
    t = plots.run_title(res)
    assert t == "melaka_smart_city · melaka-small-seed1, 296 buses · 2025-06-11, 96 x 15 min"
    assert plots.run_title([res, res]) == t  # shared parts once
    sc = libgrid.Scenario.load(ROOT / "scenarios" / "melaka_baseline.yaml").set("network.model", "balanced")
    sc.set("horizon.start", "2025-06-11")
    base = sc.override(steps=4).run(output=str(tmp_path / "b.h5"))
    assert plots.run_title([base, res]) == ("melaka_baseline vs melaka_smart_city · melaka-small-seed1, 296 buses · "
                                            "2025-06-11, 4 x 15 min vs 2025-06-11, 96 x 15 min")
    ax = plots.load_duration_curve(base)
    plots.load_duration_curve(res, ax=ax)
    assert "melaka_baseline vs melaka_smart_city" in ax.get_title()  # every run drawn on the axes
    plt.close(ax.figure)


def test_every_plot_is_titled_with_units(res, scenario):
    net = scenario.network()
    labelled(plots.voltage_heatmap(res))
    labelled(plots.voltage_heatmap(res, by="area"))
    labelled(plots.voltage_percentiles(res))
    labelled(plots.voltage_profile(res, net))
    labelled(plots.load_duration_curve(res))
    labelled(plots.transformer_loading(res))
    labelled(plots.battery_soc(res))
    labelled(plots.ev_charging(res))
    labelled(plots.ev_charging(by={"a": res, "b": res}))
    labelled(plots.energy_balance_day(res, "2025-06-11"))
    labelled(plots.bills(res, res))
    labelled(plots.bills_by_class(res))


def test_voltage_band_is_drawn(res, scenario):
    vmin, vmax = h5(res, "/bus/vmin_pu"), h5(res, "/bus/vmax_pu")
    assert set(vmin) == {0.94, 0.95} and set(vmax) == {1.05}  # LV 0.94, MV 0.95 (melaka grid)
    ax = plots.voltage_percentiles(res)
    flat = {round(float(l.get_ydata()[0]), 6) for l in ax.lines if len(set(l.get_ydata())) == 1}
    assert {0.94, 0.95, 1.05} <= flat
    p = ax.percentiles
    vm = h5(res, "/bus/vm_pu")
    lv = h5(res, "/bus/vn_kv") < 1.0
    np.testing.assert_allclose(p[("LV", "min")], vm[:, lv].min(axis=1))
    np.testing.assert_allclose(p[("LV", "median")], np.median(vm[:, lv], axis=1), rtol=1e-6)
    np.testing.assert_allclose(p[("MV", "p95")], np.percentile(vm[:, ~lv], 95, axis=1), rtol=1e-6)
    plt.close(ax.figure)
    # the feeder profile draws each bus's own limits: 0.94 on the LV part (issue 12: it drew none)
    net = scenario.network()
    path = plots.feeder_path(net, int(scenario.customers().bus.iloc[0]))  # 33 kV to a house
    ax = plots.voltage_profile(res, net, feeder_buses=path)
    lower = [l for l in ax.lines if l.get_label().startswith("lower limit")]
    assert len(lower) == 1
    np.testing.assert_array_equal(lower[0].get_ydata(), net.bus.vmin_pu[path].to_numpy())
    assert {0.94, 0.95} == set(np.round(lower[0].get_ydata(), 6))
    plt.close(ax.figure)


def test_voltage_heatmap_by_area(res, scenario):
    ax = plots.voltage_heatmap(res, by="area")
    groups = plots.bus_groups(res)
    img = np.ma.filled(ax.images[0].get_array().astype(float), np.nan)
    assert img.shape == (groups["label"].nunique(), 96)
    # each LV area is one distribution transformer's network: the customers' transformer
    cust = scenario.customers()
    net = scenario.network()
    for _, c in cust.head(40).iterrows():
        g = groups.loc[int(c.bus)]
        assert g.level == "LV" and g.trafo == int(c.transformer)
        assert f"({net.trafo.sn_mva[c.transformer] * 1000:,.0f} kVA)" in g.label
    # each row is the minimum of its buses
    vm = res.bus_vm()
    for i, label in enumerate(ax.row_labels):
        buses = groups.index[groups.label == label]
        np.testing.assert_allclose(img[i], vm[buses].min(axis=1).to_numpy(float))
    assert ax.row_labels[0].startswith(("HV", "MV")) and ax.row_labels[-1].startswith("LV")
    plt.close(ax.figure)


def test_bills_by_class(res):
    ax = plots.bills_by_class(res)
    d = ax.bills
    total = h5(res, "/bill/total_rm").sum(axis=0)
    ids = h5(res, "/bill/id")
    types = dict(zip(h5(res, "/load/id"), h5(res, "/load/type")))
    assert set(d["class"]) == {types[i] for i in ids}
    for cls, g in d.groupby("class"):
        expected = sorted(t for i, t in zip(ids, total) if types[i] == cls)
        np.testing.assert_allclose(sorted(g.bill_rm), expected, rtol=1e-6)
    assert ax.get_yscale() in ("log", "symlog")
    big = ids[np.argmax(total)]
    assert f"customer {big} " in ax.get_xlabel()  # the largest bill is named
    assert "2025-06 a partial month (1 days)" in ax.get_title()  # a one-day run bills a part of June
    plt.close(ax.figure)


@pytest.mark.parametrize("names", ["old", "new"])
def test_hosting_map_labels(scenario, names):
    cust = scenario.customers()
    net = scenario.network()
    trafos = sorted(cust.transformer.unique())
    n = cust.groupby("transformer").size()
    if names == "old":
        hc = pd.DataFrame({"customers": n, "share": 0.5, "limit": "voltage"}, index=pd.Index(trafos, name="group"))
    else:
        hc = pd.DataFrame({"hosting_kw": np.arange(len(trafos)) * 10.0 + 5, "rating_kva": net.trafo.sn_mva[trafos] * 1000,
                           "limit_kind": "thermal"}, index=pd.Index(trafos, name="group"))
    ax = plots.hosting_map(hc, net, cust, title="test run")
    assert ax.get_xlabel() and "km" in ax.get_xlabel() and ax.get_ylabel()
    cbar = ax.figure.axes[-1].get_ylabel()
    assert cbar == ("share of customers hosted" if names == "old" else "hosting capacity (kW)")
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == len(trafos) and all(t.startswith("T") and "kVA" in t for t in texts)
    assert all(("voltage" if names == "old" else "thermal") in t for t in texts)
    assert "test run" in ax.get_title()
    plt.close(ax.figure)


def test_compare_kpis_change(res, tmp_path):
    df = plots.compare_kpis({"a": res, "b": res}, kpis=["peak_import_mw", "co2_t"], change=True)
    assert list(df.columns) == ["unit", "a", "b", "b - a", "b change %"]
    assert (df["b - a"] == 0).all() and (df["b change %"] == 0).all()
    other = libgrid.read_results(res.path)
    other.summary = other.summary.copy()
    other.summary["peak_import_mw"] *= 1.1
    other.summary["co2_t"] += 1e-15  # float noise: 0
    df = plots.compare_kpis({"a": res, "b": other}, kpis=["peak_import_mw", "co2_t"], change=True)
    assert df.loc["peak_import_mw", "b change %"] == pytest.approx(10.0)
    assert df.loc["peak_import_mw", "b - a"] == pytest.approx(0.1 * res.summary["peak_import_mw"])
    assert df.loc["co2_t", "b - a"] == 0
