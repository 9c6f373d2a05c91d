"""Issue 16: outages in scenarios and the resilience KPIs from Python: the shipped
melaka_outage.yaml (a 4-hour outage of the residential feeder P0F0 on a weekday evening) on the
small grid, without its batteries (the feeder is dead: KPIs recomputed from the per-step series)
and with them (grid-forming: the feeder is held as an island, Results.island()), and
Results.events()."""
import os
import warnings

import numpy as np
import pandas as pd
import pytest

import libgrid

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
OUTAGE = os.path.join(ROOT, "scenarios", "melaka_outage.yaml")


@pytest.fixture(scope="module")
def outage_run(tmp_path_factory):
    """Without the batteries: the feeder is de-energised for the 4 hours."""
    sc = libgrid.Scenario.load(OUTAGE).override(steps=96).set("devices.battery.share", 0)  # the outage day
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DeenergizedWarning: the feeder is dead for 4 h (that is the point)
        return sc.run(str(tmp_path_factory.mktemp("outage") / "outage.h5"))


@pytest.fixture(scope="module")
def island_run(tmp_path_factory):
    """As shipped: grid-forming batteries hold the feeder."""
    sc = libgrid.Scenario.load(OUTAGE).override(steps=96)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sc.run(str(tmp_path_factory.mktemp("island") / "island.h5"))


def test_batteries_hold_the_feeder(island_run, outage_run):
    s, s0 = island_run.summary, outage_run.summary
    assert s["islanded_steps"] == 16  # 18:00-22:00 held
    assert s["island_collapses"] == 0
    assert s["energy_not_served_mwh"] < s0["energy_not_served_mwh"]  # what the batteries are for
    assert s["customer_hours_interrupted"] < s0["customer_hours_interrupted"]
    assert s["critical_customer_hours_interrupted"] == 0  # the shophouses (critical) stay on
    assert s["critical_load_served_hours"] == pytest.approx(4.0)
    assert s0["critical_customer_hours_interrupted"] == pytest.approx(4.0 * 6)  # without: 6 shophouses x 4 h
    assert s["energy_balance_max_error_mw"] < 1e-6
    assert s["non_converged_steps"] == 0
    assert s["forming_soc_outage_end"] < s["forming_soc_outage_start"]
    isl = island_run.island()
    assert list(isl.columns) == ["frequency_min_hz", "frequency_max_hz", "shed_level"]
    held = isl["frequency_min_hz"].notna()
    assert held.sum() == 16
    assert set(isl.index[held.to_numpy()].hour) == {18, 19, 20, 21}
    f = isl.loc[held, "frequency_min_hz"]
    assert (abs(f - 50.0) < 1e-6).all()  # secondary control (the default) holds the nominal frequency
    assert (isl.loc[held, "shed_level"] >= 1).all()
    assert island_run.island_collapses().empty
    # the batteries deliver in the island: /battery/p_mw sums to what the island drew
    pb = island_run.series("battery", "p_mw")
    assert (pb[held.to_numpy()].sum(axis=1) > 0).all()
    # and a run without grid-forming sources has no /island
    assert outage_run.island().empty


def test_outage_kpis(outage_run):
    s = outage_run.summary
    for k in ("energy_not_served_mwh", "customer_hours_interrupted", "customers_interrupted", "saidi_h", "saifi",
              "islanded_steps", "interruptions", "customers", "energy_balance_max_error_mw"):
        assert k in s.index, k
    assert s["energy_not_served_mwh"] > 0
    assert s["customers_interrupted"] > 0
    assert s["islanded_steps"] == 0  # no batteries: the feeder is de-energised
    assert s["energy_balance_max_error_mw"] < 1e-6
    # 4 h of 15-min steps: every interrupted customer is out 16 steps, once
    assert s["interruptions"] == s["customers_interrupted"]
    assert s["customer_hours_interrupted"] == pytest.approx(4.0 * s["customers_interrupted"], rel=1e-12)
    assert s["saidi_h"] == pytest.approx(s["customer_hours_interrupted"] / s["customers"], rel=1e-12)
    assert s["saifi"] == pytest.approx(s["interruptions"] / s["customers"], rel=1e-12)
    by_class = s["energy_not_served_residential_mwh"] + s["energy_not_served_commercial_mwh"] + s["energy_not_served_industrial_mwh"]
    assert by_class <= s["energy_not_served_mwh"] * (1 + 1e-12)
    # recomputed from /load/not_served_kw (float32 in the file: 1e-6)
    ns = outage_run.series("load", "not_served_kw")
    dt_h = outage_run.attrs["step_s"] / 3600.0
    assert ns.to_numpy(dtype=float).sum() * dt_h / 1000.0 == pytest.approx(s["energy_not_served_mwh"], rel=1e-6)
    out_steps = (ns > 0).any(axis=1)
    hours = ns.index[out_steps.to_numpy()].hour
    assert set(hours) <= {18, 19, 20, 21}
    assert out_steps.sum() == 16
    # the run goes on after the outage: the last steps converged and serve everyone
    assert (ns.iloc[-8:] == 0).all().all()


def test_events_table(outage_run):
    ev = outage_run.events()
    assert list(ev.columns) == ["time", "element", "id", "action", "cause"]
    assert list(ev["action"]) == ["open", "close"]
    assert list(ev["cause"]) == ["scheduled", "restoration"]
    assert (ev["element"] == "switch").all()
    assert ev["time"].iloc[0] == pd.Timestamp("2025-06-11T18:00", tz=ev["time"].iloc[0].tz)
    assert (ev["time"].iloc[1] - ev["time"].iloc[0]) == pd.Timedelta(hours=4)


def test_events_after_the_horizon(tmp_path):
    sc = libgrid.Scenario.load(OUTAGE).override(steps=4)  # the outage is after these 4 steps: none applied
    res = sc.run(str(tmp_path / "quiet.h5"))
    assert res.events().empty
    assert res.summary["energy_not_served_mwh"] == 0.0  # the run has events (scheduled): its KPIs are written
    assert res.summary["saidi_h"] == 0.0


def test_add_event_with_duration():
    d = libgrid.Devices()
    d.add_event("2025-06-11T18:00", "out_of_service", "ext_grid", 0, duration="4h")
    with pytest.raises(ValueError):
        d.add_event("2025-06-11T18:00", "open", "switch", 1, duration=-5)


def test_outage_plot(island_run, outage_run):
    import matplotlib
    matplotlib.use("Agg")
    from libgrid import plots
    axes = plots.outage(island_run)
    assert len(axes) == 3
    f_line = np.asarray(axes[0].get_lines()[0].get_ydata(), dtype=float)
    assert np.isfinite(f_line).sum() == 16  # the island's frequency is drawn in its 16 steps
    assert len(axes[2].collections) == 2  # served and not served
    # the window: 2 h either side of the outage
    lo, hi = axes[2].get_xlim()
    assert hi - lo < 9.0 / 24.0
    # without a grid-forming source the frequency panel says so
    axes0 = plots.outage(outage_run)
    assert any("no grid-forming source" in t.get_text() for t in axes0[0].texts)
    import matplotlib.pyplot as plt
    plt.close("all")
