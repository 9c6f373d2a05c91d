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
