"""Smart EV charging from Python: strategies and their parameters through the scenario keys, the
session status table, the EV KPIs, the refusal of a strategy that means nothing at home chargers."""
import os

import pytest

import libgrid

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
BASELINE = os.path.join(ROOT, "scenarios", "melaka_baseline.yaml")


def _scenario(strategy, **keys):
    sc = libgrid.Scenario.load(BASELINE).override(steps=96 * 2, model="balanced")  # issue 15: grid_aware: balanced engine for now
    sc.set("horizon.start", "2025-07-07")
    sc.set("devices.ev.share", 0.4)
    sc.set("devices.ev.strategy", strategy)
    for k, v in keys.items():
        sc.set("devices.ev." + k, v)
    return sc


def test_strategies_and_session_status(tmp_path):
    out = {}
    for name, strategy, keys in [("unc", "uncontrolled", {}), ("spread", "spread", {}),
                                 ("delay", "delayed_off_peak", {"start_delay_max_h": 3}),
                                 ("grid", "grid_aware", {"grid_limit": 0.5, "grid_order": "llf"})]:
        res = _scenario(strategy, **keys).run(str(tmp_path / f"{name}.h5"))
        s = res.summary
        for k in ("ev_delivered_mwh", "ev_not_delivered_mwh", "ev_blocked_mwh", "ev_pending_mwh"):
            assert k in s.index and s[k] >= 0.0
        t = res.ev_sessions()
        assert set(t["status"].unique()) <= set(libgrid.Results.EV_SESSION_STATUS)
        # the table adds up to the KPIs: delivered, not delivered (left), blocked, pending
        assert t["delivered_kwh"].sum() / 1000 == pytest.approx(s["ev_delivered_mwh"], rel=1e-9)
        left = t["status"].isin(["served", "partly_served"])
        assert t.loc[left, "unmet_kwh"].sum() / 1000 == pytest.approx(s["ev_not_delivered_mwh"], rel=1e-9, abs=1e-12)
        assert t.loc[t["status"] == "blocked", "unmet_kwh"].sum() / 1000 == pytest.approx(s["ev_blocked_mwh"], rel=1e-9, abs=1e-12)
        assert t["pending_kwh"].sum() / 1000 == pytest.approx(s["ev_pending_mwh"], rel=1e-9, abs=1e-12)
        assert ((t["status"] == "pending") | (t["pending_kwh"] == 0)).all()
        out[name] = res
    # spreading and delays lower the EV peak of the uncontrolled run
    assert out["spread"].summary["ev_peak_mw"] < out["unc"].summary["ev_peak_mw"]
    assert out["delay"].summary["ev_peak_mw"] < out["unc"].summary["ev_peak_mw"]
    assert "grid_order: llf" in out["grid"].scenario


def test_edf_at_home_chargers_is_refused():
    with pytest.raises(Exception, match="devices.ev.strategy"):
        _scenario("edf").run()
