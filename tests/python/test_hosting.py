import pandas as pd
import pytest

import libgrid
from conftest import ROOT


def test_hosting_capacity_per_transformer_and_map(tmp_path):
    sc = libgrid.Scenario.load(ROOT / "scenarios" / "melaka_baseline.yaml")
    hc = libgrid.hosting_capacity(sc, kind="pv", group="transformer", steps=96, start="2025-03-20", kwp=5.0)
    cust = sc.customers()
    assert isinstance(hc, pd.DataFrame) and len(hc) > 0
    assert hc["customers"].sum() == (cust["type"] != "charging_site").sum()
    assert (hc["hosted"] <= hc["customers"]).all()
    assert ((hc["share"] - hc["hosted"] / hc["customers"]).abs() < 1e-12).all()
    assert set(hc["limit"]) <= {"none", "voltage_high", "voltage_low", "line_overload", "trafo_overload", "reverse_flow", "not_converged"}
    # a limited group names where and when
    lim = hc[hc["limited"] & ~hc["violated_without"]]
    assert (lim["limit_element"] >= 0).all()
    net = sc.network()
    ax = libgrid.plots.hosting_map(hc, net, cust)
    ax.figure.savefig(tmp_path / "hosting.png")
    on_map = sum(1 for t in hc.index if t in net.trafo.index)
    assert on_map > 0 and len(ax.collections[0].get_offsets()) == on_map
    with pytest.raises(libgrid.ValidationError, match="group"):
        libgrid.hosting_capacity(sc, group="street", steps=4)
