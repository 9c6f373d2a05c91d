"""Issue 17, H3: the day-ahead ToU price schedule and battery set points through the PLC channel
(docs/comms.md "Price schedules, EV limits and battery set points through the channel").
Run: PYTHONPATH=build/python /usr/bin/python3 -m pytest -q tests/python/test_comms_devices.py"""
import h5py
import numpy as np
import pytest

import libgrid
from conftest import ROOT


def two_days(**kw):
    """Monday and Tuesday (TNB peak 14:00-22:00), home chargers on delayed_off_peak."""
    sc = libgrid.Scenario.load(str(ROOT / "scenarios" / "melaka_baseline.yaml"))
    sc.set("horizon.start", "2025-06-09").override(steps=192, size="small", model="balanced")
    sc.set("devices.ev.share", 0.3).set("devices.ev.strategy", "delayed_off_peak")
    for k, v in kw.items():
        sc.set(k, v)
    return sc


def peak_ev_mwh(path):
    with h5py.File(path, "r") as f:
        p = f["/ev/p_mw"][...]
        hour = (np.arange(p.shape[0]) % 96) // 4
    peak = (hour >= 14) & (hour < 22)
    return float(-p[peak].sum() * 0.25)


def test_price_schedule_lost_or_perfect(tmp_path):
    off, perfect, lost = tmp_path / "off.h5", tmp_path / "perfect.h5", tmp_path / "lost.h5"
    two_days().run(output=str(off))
    sp = two_days().set("comms.plc.packet_loss", 0.0).set("comms.plc.latency_median_s", 0).run(output=str(perfect)).run_summary
    sl = two_days().set("comms.plc.packet_loss", 1.0).set("comms.plc.retries", 0).run(output=str(lost)).run_summary
    with h5py.File(off, "r") as a, h5py.File(perfect, "r") as b:
        np.testing.assert_array_equal(a["/ev/p_mw"][...], b["/ev/p_mw"][...])  # perfect = no comms
        n_ev = a["/ev/p_mw"].shape[1]
    assert sp["stale_price_steps"] == 0 and sp["stale_price_wrong_steps"] == 0
    # every message lost: each station acts on no schedule on every step, wrongly in the 64 peak steps
    assert sl["stale_price_steps"] >= 192 * n_ev
    assert sl["stale_price_wrong_steps"] >= 64 * n_ev
    with h5py.File(lost, "r") as f:
        assert float(f["/summary/stale_price_steps"][()]) == sl["stale_price_steps"]
    # delayed_off_peak charges in the peak only what a departure needs; without a schedule, from arrival
    print("peak EV MWh: off", peak_ev_mwh(off), "lost", peak_ev_mwh(lost))
    assert peak_ev_mwh(lost) > 5 * peak_ev_mwh(off) + 0.01


def test_price_send_hour_bad_value_is_named(tmp_path):
    with pytest.raises(libgrid.ValidationError, match="comms.price_send_hour"):
        two_days().set("comms.price_send_hour", 30).override(steps=4).run(output=str(tmp_path / "bad.h5"))
    net = libgrid.Network.from_json(str(ROOT / "tests" / "data" / "cigre" / "cigre_lv.input.json"))
    with pytest.raises(libgrid.ValidationError, match="comms.price_send_hour"):
        libgrid.Simulation(net, start="2025-06-09", horizon="1h", comms={"price_send_hour": -1}).run()


def test_every_price_reading_device_counts_when_all_is_lost(tmp_path):
    """Every message lost: each price-reading device (EV stations and sites, batteries, HEMS homes,
    BEMS buildings) is stale on every step; exactly devices x steps."""
    out = tmp_path / "all_lost.h5"
    sc = two_days(**{"devices.homes.share": 0.2})
    s = sc.set("comms.plc.packet_loss", 1.0).set("comms.plc.retries", 0).run(output=str(out)).run_summary
    with h5py.File(out, "r") as f:
        n = {g: len(f[g + "/id"]) for g in ("ev", "ev_site", "battery", "home", "building") if g in f}
    assert n.get("home", 0) > 0, n  # (the small network has no BEMS buildings)
    assert s["stale_price_steps"] == 192 * sum(n.values())


def test_grid_aware_limits_a_step_late(tmp_path):
    """A 20 min latency (> the 15 min step, no spread): every grid_aware station-step acts on an older
    limit; a 5 min one: none, and the EV power is as without comms."""
    def sc():
        return two_days(**{"devices.ev.strategy": "grid_aware"}).set("comms.plc.packet_loss", 0.0) \
            .set("comms.plc.latency_sigma", 0.0).set("comms.plc.retries", 0)
    off, fast, late = tmp_path / "off.h5", tmp_path / "fast.h5", tmp_path / "late.h5"
    two_days(**{"devices.ev.strategy": "grid_aware"}).run(output=str(off))
    sf = sc().set("comms.plc.latency_median_s", 300).run(output=str(fast)).run_summary
    sl = sc().set("comms.plc.latency_median_s", 1200).run(output=str(late)).run_summary
    with h5py.File(off, "r") as a, h5py.File(fast, "r") as b:
        np.testing.assert_array_equal(a["/ev/p_mw"][...], b["/ev/p_mw"][...])
        n_ev = a["/ev/p_mw"].shape[1]
    assert n_ev > 0
    assert sf["ev_limit_stale_steps"] == 0
    assert sl["ev_limit_stale_steps"] == 192 * n_ev


def test_homes_price_messages_travel_their_bus_hops(tmp_path):
    """Homes get their price schedules over the hops of their bus (comms.plc.hop_length_m): with
    short hops more of them miss a day's schedule than over one hop."""
    def stale(hop_m, name):
        sc = libgrid.Scenario.load(str(ROOT / "scenarios" / "melaka_smart_city.yaml")).set("horizon.start", "2025-06-09")
        sc.override(steps=4 * 96, size="small", model="balanced")
        for k in ("devices.pv.share", "devices.battery.share", "devices.ev.share", "devices.buildings.share"):
            sc.set(k, 0.0)
        sc.set("devices.homes.share", 1.0).set("comms.plc.packet_loss", 0.1).set("comms.plc.retries", 0)
        sc.set("comms.plc.hop_length_m", hop_m)
        s = sc.run(output=str(tmp_path / name)).run_summary
        with h5py.File(tmp_path / name, "r") as f:
            assert len(f["home/id"]) > 0
        return s["stale_price_steps"]

    one, many = stale(0, "one.h5"), stale(20, "many.h5")
    assert one > 0
    assert many > 1.5 * one
