"""Issue 17: meter data through the PLC channel to the head-end (docs/comms.md): the scenario key
comms.plc.packet_loss from Python, the results file's /headend and /bill_headend, the KPIs.
Run: PYTHONPATH=build/python /usr/bin/python3 -m pytest -q tests/python/test_comms.py"""
import h5py
import numpy as np
import pytest

import libgrid
from conftest import ROOT


def two_days(**kw):
    sc = libgrid.Scenario.load(str(ROOT / "scenarios" / "melaka_baseline.yaml"))
    sc.set("horizon.start", "2025-01-31").override(steps=192, size="small", model="balanced")
    for k, v in kw.items():
        sc.set(k, v)
    return sc


def test_lossy_channel_headend_and_kpis(tmp_path):
    out = tmp_path / "lossy.h5"
    sc = two_days().set("comms.plc.packet_loss", 0.1).set("comms.plc.retries", 0)
    assert "packet_loss: 0.1" in sc.to_yaml()
    res = sc.run(output=str(out))
    s = res.run_summary
    with h5py.File(out, "r") as f:
        meter = f["/meter/import_kwh"][...]
        hd = f["/headend/import_kwh"][...]
        assert hd.shape == meter.shape
        np.testing.assert_array_equal(f["/headend/time"][...], f["/meter/time"][...])
        got = ~np.isnan(hd)
        np.testing.assert_array_equal(hd[got], meter[got])  # what arrives is the meter's value
        n = hd.size
        share = got.mean()
        assert abs(share - 0.9) <= 5 * np.sqrt(0.09 / n)  # binomial spread, seeded: cannot flake
        assert s["meter_data_completeness"] == pytest.approx(share, abs=1e-12)
        assert float(f["/summary/meter_data_completeness"][()]) == pytest.approx(share)
        err = np.abs(f["/bill_headend/total_rm"][...] - f["/bill/total_rm"][...]).sum()
        assert s["bill_estimation_error_rm"] == pytest.approx(err, rel=1e-5, abs=1e-6)
        assert s["bill_estimation_error_rm"] > 0


def test_no_comms_no_headend_and_bad_key_is_named(tmp_path):
    out = tmp_path / "plain.h5"
    res = two_days().override(steps=8).run(output=str(out))
    assert np.isnan(res.run_summary["meter_data_completeness"])
    with h5py.File(out, "r") as f:
        assert "headend" not in f
        assert "meter_data_completeness" not in f["/summary"]
    with pytest.raises(libgrid.ValidationError, match="comms.plc.packet_loss"):
        two_days().set("comms.plc.packet_loss", 1.5).run(output=str(tmp_path / "bad.h5"))


def test_portal_completeness_reads_the_head_end_of_a_real_run(tmp_path):
    """The portal's utility view (docs/portal.md) on a run with comms: per meter and day, the mean of
    which (two whole days) is the KPI."""
    pytest.importorskip("flask")
    from libgrid import portal
    out = tmp_path / "lossy.h5"
    res = two_days().set("comms.plc.packet_loss", 0.3).set("comms.plc.retries", 0).run(output=str(out))
    c = portal.create_app(out).test_client()
    meters = c.get("/api/utility/completeness").get_json()["meters"]
    days = np.array([m["completeness"] for m in meters], dtype=float)
    assert days.shape[1] == 2
    assert days.mean() == pytest.approx(res.run_summary["meter_data_completeness"], abs=1e-9)
    assert days.min() < 1.0


def _datasets(path, skip=("/headend", "/bill_headend", "/comms", "/summary/meter_data_completeness", "/summary/bill_estimation_error_rm",
                          "/summary/stale_price_steps", "/summary/stale_price_wrong_steps", "/summary/battery_setpoint_stale_steps",
                          "/summary/ev_limit_stale_steps")):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            p = "/" + name
            if any(p == s or p.startswith(s + "/") for s in skip) or p.startswith("/summary/time_") or \
                    p in ("/summary/wall_time_s", "/summary/steps_per_second"):
                return
            if isinstance(obj, h5py.Dataset):
                out[p] = obj[()]
        f.visititems(visit)
    return out


def test_perfect_channel_unbalanced_engine_is_bit_for_bit(tmp_path):
    """The default (unbalanced) engine: a perfect channel changes nothing but /headend, /bill_headend."""
    def sc():
        s = libgrid.Scenario.load(str(ROOT / "scenarios" / "melaka_baseline.yaml"))
        return s.set("horizon.start", "2025-01-31").override(steps=192, size="small")
    a, b = tmp_path / "off.h5", tmp_path / "perfect.h5"
    sc().run(output=str(a))
    sc().set("comms.plc.packet_loss", 0).set("comms.plc.latency_median_s", 0).run(output=str(b))
    da, db = _datasets(a), _datasets(b)
    assert da.keys() == db.keys() and len(da) > 20
    for k in da:
        assert np.array_equal(da[k], db[k], equal_nan=da[k].dtype.kind == "f"), k
    with h5py.File(b, "r") as f:
        np.testing.assert_array_equal(f["/headend/import_kwh"][...], f["/meter/import_kwh"][...])
        assert f["/summary/meter_data_completeness"][()] == 1.0
        assert f["/summary/bill_estimation_error_rm"][()] == 0.0


def test_simulation_comms_from_python(tmp_path):
    """libgrid.Simulation(..., comms={...}): the same channel without a scenario; bad keys named."""
    net = libgrid.Network.from_json(ROOT / "tests" / "data" / "cigre" / "cigre_lv.input.json")
    sim = libgrid.Simulation(net, start="2025-07-07", step="15min", horizon="7d",
                             comms={"packet_loss": 0.2, "retries": 0, "latency_median_s": 120, "latency_sigma": 0.5})
    sim.run(output=str(tmp_path / "c.h5"))
    s = sim.summary
    with h5py.File(tmp_path / "c.h5", "r") as f:
        hd = f["/headend/import_kwh"][...]
        assert s["meter_data_completeness"] == pytest.approx((~np.isnan(hd)).mean(), abs=1e-12)
        assert abs(s["meter_data_completeness"] - 0.8) <= 5 * np.sqrt(0.16 / hd.size)
    plain = libgrid.Simulation(net, start="2025-07-07", step="15min", horizon="1d")
    plain.run(output=str(tmp_path / "p.h5"))
    assert np.isnan(plain.summary["meter_data_completeness"])
    with pytest.raises(libgrid.ValidationError, match="packet_los"):
        libgrid.Simulation(net, comms={"packet_los": 0.1}).run(output=str(tmp_path / "bad.h5"))
    with pytest.raises(libgrid.ValidationError, match="comms.plc.packet_loss"):
        libgrid.Simulation(net, comms={"packet_loss": 1.5}).run(output=str(tmp_path / "bad2.h5"))
