"""Issue 17, second part (H1): hops and bandwidth per data concentrator (docs/comms.md "Hops and
bandwidth"): the scenario keys comms.plc.hop_length_m and concentrator_rate_per_s from Python,
Results.concentrators() (/comms/concentrator) against the file's /headend, and rebill refusing NaN.
Run: PYTHONPATH=build/python /usr/bin/python3 -m pytest -q tests/python/test_comms_topology.py"""
import shutil

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


@pytest.fixture(scope="module")
def hops_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("hops") / "hops.h5"
    sc = two_days().set("comms.plc.packet_loss", 0.05).set("comms.plc.retries", 0).set("comms.plc.hop_length_m", 60)
    sc.set("comms.plc.concentrator_rate_per_s", 0.5)
    y = sc.to_yaml()
    assert "hop_length_m: 60" in y and "concentrator_rate_per_s: 0.5" in y
    res = sc.run(output=str(out))
    return out, res


def test_concentrators_add_up_to_the_head_end(hops_run):
    out, res = hops_run
    conc = libgrid.Results(out).concentrators()
    assert list(conc.columns) == libgrid.Results.CONCENTRATOR_COLUMNS
    assert conc.index.name == "concentrator"
    with h5py.File(out, "r") as f:
        hd = f["/headend/import_kwh"][...]
    assert conc["meters"].sum() == hd.shape[1]
    assert conc["readings"].sum() == hd.size
    has = conc["readings"] > 0
    delivered = (conc["delivered_share"][has] * conc["readings"][has]).sum()
    assert delivered == pytest.approx((~np.isnan(hd)).sum(), abs=1e-6)
    assert res.run_summary["meter_data_completeness"] == pytest.approx(delivered / hd.size, abs=1e-12)
    assert conc["max_hops"].max() > 1  # 60 m hops on the feeders: some meters several hops out
    # more hops, fewer readings: the 1-hop completeness of the same channel is higher
    one = two_days().set("comms.plc.packet_loss", 0.05).set("comms.plc.retries", 0).run()
    assert one.run_summary["meter_data_completeness"] > res.run_summary["meter_data_completeness"]


def test_no_comms_no_concentrators_and_bad_keys_named(tmp_path):
    res = two_days().override(steps=8)
    out = tmp_path / "plain.h5"
    res.run(output=str(out))
    assert libgrid.Results(out).concentrators().empty
    for key, bad in (("comms.plc.hop_length_m", -5), ("comms.plc.concentrator_rate_per_s", 0)):
        with pytest.raises(libgrid.ValidationError, match=key.replace(".", r"\.")):
            two_days().set(key, bad).run(output=str(tmp_path / "bad.h5"))


def test_rebill_refuses_nan_readings_naming_customer_and_interval(hops_run, tmp_path):
    out, _ = hops_run
    bad = tmp_path / "nan.h5"
    shutil.copy(out, bad)
    with h5py.File(bad, "a") as f:
        ids = f["/meter/id"][...]
        imp = f["/meter/import_kwh"]
        row = imp[5]
        row[2] = np.nan
        imp[5] = row
    assert len(libgrid.Results(out).rebill(tariff="domestic_tou")) > 0  # the file before: fine
    with pytest.raises(libgrid.ValidationError, match=rf"customer {int(ids[2])} is not finite \(NaN\) at interval 5 \(2025-01-31T01:15"):
        libgrid.Results(bad).rebill(tariff="domestic_tou")
    # a customer without the gap still bills
    assert len(libgrid.Results(bad).rebill(tariff="domestic_tou", customers=[int(ids[0])])) > 0


def test_unbalanced_run_counts_the_same_metres_of_line(tmp_path):
    """The unbalanced engine's network view carries the lines' lengths: the same hops as balanced."""
    got = {}
    for model in ("balanced", "unbalanced"):
        sc = two_days().override(steps=8, model=model).set("comms.plc.hop_length_m", 60)
        sc.run(output=str(tmp_path / f"{model}.h5"))
        got[model] = libgrid.Results(tmp_path / f"{model}.h5").concentrators()[["meters", "max_hops"]]
    assert got["balanced"]["max_hops"].max() > 1
    assert got["balanced"].equals(got["unbalanced"])
