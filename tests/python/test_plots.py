"""libgrid.plots: every plot draws the data of the results it is given (checked against the HDF5 file
read independently with h5py), and compare_kpis tabulates /summary."""
import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import libgrid  # noqa: E402
from libgrid import plots  # noqa: E402
from conftest import DATA  # noqa: E402

STEP_H = 0.25
DAYS = 2
START = "2025-06-04"  # Wednesday and Thursday: ToU peak days (2025-06-02 is a public holiday)


def cigre():
    return libgrid.Network.from_json(DATA / "cigre" / "cigre_lv.input.json")


def run(path, pv=True, ev_strategy="uncontrolled"):
    """Two days at 15 min on the CIGRE LV grid: seeded class load profiles (about the loads' nominal
    power times a 0.3 load factor), optionally PV and batteries for every customer, one public EV
    station; every customer on the domestic ToU tariff."""
    net = cigre()
    dev = libgrid.Devices()
    for i, (lid, bus, p) in enumerate(zip(net.load.index, net.load.bus, net.load.p_mw)):
        dev.add_load_profile(int(lid), cls="residential", daily_kwh=p * 1000 * 24 * 0.3)
        dev.set_tariff(int(lid), "domestic_tou", "nem")
        if pv:
            kwp = max(1.0, p * 600)
            dev.add_pv(id=i + 1, bus=int(bus), kwp=kwp, customer=int(lid))
            dev.add_battery(id=i + 1, bus=int(bus), kwh=kwp, kw=kwp / 2, customer=int(lid))
    dev.add_ev_station(id=1, bus=int(net.load.bus.iloc[1]), customer=int(net.load.index[1]), n_chargers=6, charger_kw=7.0, kind="home",
                       sessions_per_day=1, strategy=ev_strategy)
    sim = libgrid.Simulation(net, dev, start=START, step="15min", horizon=f"{DAYS}d")
    res = sim.run(output=path)
    assert sim.summary["non_converged_steps"] == 0
    return res


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("plots")
    return {"before": run(d / "before.h5", pv=False), "after": run(d / "after.h5"),
            "delayed": run(d / "delayed.h5", ev_strategy="delayed_off_peak")}


@pytest.fixture(scope="module")
def res(runs):
    return runs["after"]


def h5(res, path):
    with h5py.File(res.path, "r") as f:
        ds = f[path]
        return ds.asstr()[()] if ds.dtype.kind == "O" else np.asarray(ds[()])


def save(ax, tmp_path, name):
    out = tmp_path / f"{name}.png"
    ax.figure.savefig(out, dpi=60)
    plt.close(ax.figure)
    assert out.stat().st_size > 5000  # a real image, not an empty canvas
    return out


def test_voltage_heatmap_shows_bus_vm(res, tmp_path):
    ax = plots.voltage_heatmap(res)
    assert len(ax.images) == 1
    img = np.ma.filled(ax.images[0].get_array().astype(float), np.nan)
    np.testing.assert_array_equal(img, res.bus_vm().to_numpy(float).T)
    np.testing.assert_array_equal(img, h5(res, "/bus/vm_pu").T)
    # colour range = the data's range; y tick labels are the bus ids of those rows
    lo, hi = ax.images[0].get_clim()
    vm = h5(res, "/bus/vm_pu")
    assert lo == pytest.approx(vm.min()) and hi == pytest.approx(vm.max())
    ids = h5(res, "/bus/id")
    for pos, label in zip(ax.get_yticks(), ax.get_yticklabels()):
        assert label.get_text() == str(ids[int(pos)])
    # the x extent runs from the first step's start to the last step's end (2 days)
    x0, x1, _, _ = ax.images[0].get_extent()
    assert x1 - x0 == pytest.approx(DAYS, rel=1e-9)  # matplotlib date numbers are days
    save(ax, tmp_path, "heatmap")


def test_voltage_profile_follows_the_worst_feeder(res, tmp_path):
    net = cigre()
    ax = plots.voltage_profile(res, net)
    assert len(ax.lines) >= 3
    vmin_line, vmean_line, vmax_line = ax.lines[:3]
    vm = res.bus_vm()
    worst = vm.min().idxmin()
    path = plots.feeder_path(net, worst)
    assert path[0] == int(net.ext_grid.bus.iloc[0]) and path[-1] == worst
    # consecutive buses of the path are connected by a line, transformer or bus-bus switch
    pairs = set()
    for a, b in zip(net.line.from_bus, net.line.to_bus):
        pairs |= {(a, b), (b, a)}
    for a, b in zip(net.trafo.hv_bus, net.trafo.lv_bus):
        pairs |= {(a, b), (b, a)}
    for a, b, et in zip(net.switch.bus, net.switch.element, net.switch.et):
        if str(et) in ("0", "b", "bus"):
            pairs |= {(a, b), (b, a)}
    assert all((a, b) in pairs for a, b in zip(path, path[1:]))
    np.testing.assert_allclose(vmin_line.get_ydata(), vm[path].min().to_numpy(float))
    np.testing.assert_allclose(vmean_line.get_ydata(), vm[path].mean().to_numpy(float))
    np.testing.assert_allclose(vmax_line.get_ydata(), vm[path].max().to_numpy(float))
    assert min(vmin_line.get_ydata()) == pytest.approx(float(h5(res, "/bus/vm_pu").min()))
    # x = distance in km: the sum of the line lengths along the path (transformers and switches 0 km)
    length = {}
    for a, b, km in zip(net.line.from_bus, net.line.to_bus, net.line.length_km):
        length[(a, b)] = length[(b, a)] = km
    expected = np.cumsum([0.0] + [length.get((a, b), 0.0) for a, b in zip(path, path[1:])])
    np.testing.assert_allclose(vmin_line.get_xdata(), expected, atol=1e-12)
    assert expected[-1] > 0.1
    save(ax, tmp_path, "profile")
    # a given feeder, in bus order
    feeder = [0, 1, 2, 3, 4, 5, 6]
    ax = plots.voltage_profile(res, net, feeder_buses=feeder, by="hops")
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(len(feeder)))
    np.testing.assert_allclose(ax.lines[2].get_ydata(), vm[feeder].max().to_numpy(float))
    plt.close(ax.figure)
    with pytest.raises(KeyError, match="12345"):
        plots.voltage_profile(res, net, feeder_buses=[0, 12345])


def test_load_duration_curve_is_sorted_import(res, tmp_path):
    ax = plots.load_duration_curve(res)
    curve = [l for l in ax.lines if l.get_label() == "grid import"]
    assert len(curve) == 1
    y = np.asarray(curve[0].get_ydata(), float)
    imp = h5(res, "/ext_grid/p_mw").sum(axis=1)
    np.testing.assert_allclose(y, np.sort(imp)[::-1], rtol=1e-6)
    assert y[0] == pytest.approx(res.summary["peak_import_mw"], rel=1e-6)
    assert y[-1] < 0  # PV exports at noon
    x = np.asarray(curve[0].get_xdata(), float)
    assert len(x) == DAYS * 96 and np.allclose(np.diff(x), STEP_H)
    # a consuming group is drawn consumption-positive; a second call on the same axes adds a curve
    plots.load_duration_curve(res, what="load", ax=ax, label="load")
    load = [l for l in ax.lines if l.get_label() == "load"][0]
    assert load.get_ydata()[0] == pytest.approx(-h5(res, "/load/p_mw").sum(axis=1).min(), rel=1e-6)
    save(ax, tmp_path, "ldc")
    with pytest.raises(KeyError, match="/building/p_mw"):
        plots.load_duration_curve(res, what="building")


def test_transformer_loading_draws_trafos_and_100_percent(res, tmp_path):
    ax = plots.transformer_loading(res)
    kind = h5(res, "/branch/kind")
    element = h5(res, "/branch/element_id")
    loading = h5(res, "/branch/loading_percent")
    trafo_cols = np.flatnonzero(kind == "trafo")
    assert len(trafo_cols) == 3
    assert len(ax.lines) == len(trafo_cols) + 1
    rated = h5(res, "/branch/rated_kva")
    for line, c in zip(ax.lines, trafo_cols):  # issue 12: the label names the rating and the peak
        assert line.get_label() == f"trafo {element[c]} ({rated[c]:,.0f} kVA), peak {loading[:, c].max():.0f} %"
        np.testing.assert_array_equal(np.asarray(line.get_ydata(), float), loading[:, c].astype(float))
    assert np.all(np.asarray(ax.lines[-1].get_ydata(), float) == 100.0)
    drawn_max = max(np.nanmax(l.get_ydata()) for l in ax.lines[:-1])
    assert drawn_max == pytest.approx(res.summary["max_trafo_loading_percent"], rel=1e-6)
    save(ax, tmp_path, "trafo")
    # distinct colours
    assert len({l.get_color() for l in ax.lines[:-1]}) == len(trafo_cols)
    ax = plots.transformer_loading(res, max_lines=1)
    assert len(ax.lines) == 3  # the most loaded one, the others' median, 100 %
    assert np.nanmax(ax.lines[0].get_ydata()) == pytest.approx(drawn_max)  # the most loaded one
    others = np.delete(loading[:, trafo_cols], np.argmax(loading[:, trafo_cols].max(axis=0)), axis=1)
    np.testing.assert_allclose(ax.lines[1].get_ydata(), np.median(others, axis=1), rtol=1e-6)
    plt.close(ax.figure)


def test_battery_soc(res, tmp_path):
    soc = h5(res, "/battery/soc")
    ax = plots.battery_soc(res, max_lines=20)
    assert len(ax.lines) == soc.shape[1] == 15
    for j, line in enumerate(ax.lines):
        np.testing.assert_allclose(line.get_ydata(), soc[:, j] * 100.0, rtol=1e-6)
    assert ax.get_ylim() == (0.0, 100.0)
    save(ax, tmp_path, "soc_lines")
    ax = plots.battery_soc(res)  # 15 > 10 batteries: the mean and a band
    assert len(ax.lines) == 1 and len(ax.collections) == 1
    np.testing.assert_allclose(ax.lines[0].get_ydata(), soc.mean(axis=1) * 100.0, rtol=1e-5)
    save(ax, tmp_path, "soc_band")


def test_ev_charging_by_hour(runs, res, tmp_path):
    ax = plots.ev_charging(res)
    assert len(ax.containers) == 1  # only /ev: no charging sites or HEMS homes in this run
    heights = np.array([p.get_height() for p in ax.containers[0]])
    p = h5(res, "/ev/p_mw").sum(axis=1)
    hours = res.time.tz_localize(None).hour
    expected = np.array([-p[hours == h].mean() for h in range(24)])
    np.testing.assert_allclose(heights, expected, rtol=1e-6, atol=1e-12)
    # mean daily profile x days = the EV energy of the run
    assert heights.sum() * DAYS == pytest.approx(-p.sum() * STEP_H, rel=1e-6)
    assert heights.sum() > 0
    save(ax, tmp_path, "ev")
    ax = plots.ev_charging(by={"uncontrolled": res, "delayed off-peak": runs["delayed"]})
    assert [l.get_label() for l in ax.lines] == ["uncontrolled", "delayed off-peak"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), expected, rtol=1e-6, atol=1e-12)
    # delayed to off-peak: less charging in the ToU peak window (14:00-22:00 on these weekdays)
    peak = slice(14, 22)
    assert ax.lines[1].get_ydata()[peak].sum() < ax.lines[0].get_ydata()[peak].sum()
    save(ax, tmp_path, "ev_by")


def test_energy_balance_closes(res, tmp_path):
    bal = plots.energy_balance(res)
    assert list(bal.columns) == ["load", "pv", "battery", "ev", "grid", "losses"]
    assert len(bal) == DAYS * 96
    assert bal.sum(axis=1).abs().max() < 1e-5  # float32 storage
    np.testing.assert_allclose(bal["pv"], h5(res, "/pv/p_mw").sum(axis=1), rtol=1e-6)
    day = "2025-06-05"
    ax = plots.energy_balance_day(res, day)
    e = ax.energy_mwh
    assert len(e) == 24
    # every hour: sources up = sinks down
    up = np.zeros(24)
    down = np.zeros(24)
    for c in ax.containers:
        h = np.array([p.get_height() for p in c])
        up += np.clip(h, 0, None)
        down += np.clip(h, None, 0)
    assert up.max() > 0
    np.testing.assert_allclose(up, -down, atol=1e-5)
    # the day's PV energy from the file
    t = res.time.tz_localize(None)
    in_day = (t >= pd.Timestamp(day)) & (t < pd.Timestamp(day) + pd.Timedelta(days=1))
    pv_day = h5(res, "/pv/p_mw").sum(axis=1)[in_day].sum() * STEP_H
    assert e["pv"].sum() == pytest.approx(pv_day, rel=1e-6) and pv_day > 0
    save(ax, tmp_path, "balance")
    with pytest.raises(ValueError, match="2025-07-01"):
        plots.energy_balance_day(res, "2025-07-01")


def test_bills_before_after(runs, tmp_path):
    before, after = runs["before"], runs["after"]
    ax = plots.bills(before, after)
    assert len(ax.containers) == 2
    for c, r in zip(ax.containers, (before, after)):
        heights = np.array([p.get_height() for p in c])
        np.testing.assert_allclose(heights, h5(r, "/bill/total_rm").sum(axis=0), rtol=1e-6)
    b_total = h5(before, "/bill/total_rm").sum()
    a_total = h5(after, "/bill/total_rm").sum()
    assert b_total > 0 and a_total < b_total  # PV and batteries lower the bills
    save(ax, tmp_path, "bills")
    ax = plots.bills(before, after, kind="hist", bins=10)
    assert len(ax.patches) == 20
    assert sum(p.get_height() for p in ax.patches) == 2 * 15
    save(ax, tmp_path, "bills_hist")
    ax = plots.bills(before, after, kind="scatter")
    xy = ax.collections[0].get_offsets()
    np.testing.assert_allclose(xy[:, 0], h5(before, "/bill/total_rm").sum(axis=0), rtol=1e-6)
    np.testing.assert_allclose(xy[:, 1], h5(after, "/bill/total_rm").sum(axis=0), rtol=1e-6)
    save(ax, tmp_path, "bills_scatter")
    with pytest.raises(ValueError, match="kind"):
        plots.bills(before, after, kind="pie")


def test_compare_kpis(runs):
    df = plots.compare_kpis({"before": runs["before"], "after": runs["after"]})
    assert list(df.columns) == ["unit", "before", "after"]
    assert df.index.name == "kpi"
    for label in ("before", "after"):
        s = runs[label].summary
        assert set(df.index) == set(s.index)
        np.testing.assert_array_equal(df[label].to_numpy(), s.reindex(df.index).to_numpy())
        with h5py.File(runs[label].path, "r") as f:
            assert df.loc["peak_import_mw", label] == f["summary/peak_import_mw"][()]
    assert df.loc["peak_import_mw", "unit"] == "MW" and df.loc["co2_t", "unit"] == "t"
    assert df.loc["pv_mwh", "before"] == 0 and df.loc["pv_mwh", "after"] > 0
    assert df.index[0] == plots.KPI_ORDER[0]
    sub = plots.compare_kpis(runs, kpis=["co2_t", "peak_import_mw"])
    assert list(sub.index) == ["co2_t", "peak_import_mw"] and list(sub.columns) == ["unit", "before", "after", "delayed"]
    with pytest.raises(KeyError, match="no_such_kpi"):
        plots.compare_kpis(runs, kpis=["no_such_kpi"])


def test_plots_draw_into_given_axes(res):
    fig, axs = plt.subplots(1, 2)
    assert plots.battery_soc(res, ax=axs[0]) is axs[0]
    assert plots.voltage_heatmap(res, ax=axs[1], colorbar=False) is axs[1]
    assert len(fig.axes) == 2  # no extra figure axes (colorbar off)
    plt.close(fig)
