"""Issue 18: hourly emission factors from the emission catalogue (docs/economics.md "Emissions"):
co2_t with the hourly average profile and co2_avoided_export_t with the marginal one, recomputed
from /ext_grid/p_mw; the factor each KPI used is the attribute 'factor'."""
import h5py
import numpy as np
import pytest
import yaml

import libgrid
from conftest import ROOT

CAT = ROOT / "data" / "emissions" / "peninsular_malaysia.yaml"


def test_hourly_average_and_marginal_recomputed(tmp_path):
    sc = libgrid.Scenario.load(str(ROOT / "scenarios" / "melaka_smart_city.yaml")).set("horizon.start", "2025-06-07")
    sc.override(steps=3 * 96, size="small")  # Sat, Sun, Mon (no public holiday)
    sc.set("devices.pv.share", 1.0).set("devices.pv.cap", "none").set("devices.battery.share", 0.0)  # a noon surplus
    sc.set("emissions", {"file": str(CAT), "average": "average", "marginal": "marginal"})
    s = sc.run(output=str(tmp_path / "h.h5")).run_summary
    cat = yaml.safe_load(CAT.read_text())["hourly"]
    with h5py.File(tmp_path / "h.h5", "r") as f:
        p = f["/ext_grid/p_mw"][...].astype(float).sum(axis=1)  # float32 in the file
        assert "hourly 'average'" in f["/summary/co2_t"].attrs["factor"]
        assert "hourly 'marginal'" in f["/summary/co2_avoided_export_t"].attrs["factor"]
    hour = (np.arange(len(p)) * 900 // 3600) % 24
    weekday = np.arange(len(p)) // 96 == 2  # the Monday
    avg = np.where(weekday, np.take(cat["average_weekday"], hour), np.take(cat["average_weekend"], hour))
    mar = np.where(weekday, np.take(cat["marginal_weekday"], hour), np.take(cat["marginal_weekend"], hour))
    co2 = (np.maximum(p, 0) * 0.25 * avg).sum()
    avoided = (np.maximum(-p, 0) * 0.25 * mar).sum()
    assert s["co2_t"] == pytest.approx(co2, rel=1e-5)
    assert s["co2_avoided_export_t"] == pytest.approx(avoided, rel=1e-5, abs=1e-9)
    assert s["co2_avoided_export_t"] > 0  # the smart city exports at noon on a small feeder
    # the constant default: the same import at 0.78
    s0 = libgrid.Scenario.load(str(ROOT / "scenarios" / "melaka_smart_city.yaml")).set("horizon.start", "2025-06-07")
    s0 = s0.override(steps=3 * 96, size="small").set("devices.pv.share", 1.0).set("devices.pv.cap", "none")
    s0 = s0.set("devices.battery.share", 0.0).run(output=str(tmp_path / "c.h5")).run_summary
    assert s0["co2_t"] == pytest.approx((np.maximum(p, 0) * 0.25 * 0.78).sum(), rel=1e-5)
    with h5py.File(tmp_path / "c.h5", "r") as f:
        assert f["/summary/co2_t"].attrs["factor"] == "constant 0.78 t/MWh"
