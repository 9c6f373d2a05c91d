import subprocess

import numpy as np
import pandas as pd
import pytest

import libgrid
from conftest import BUILD, ROOT

COLUMNS = ["group_kind", "customers", "rating_kva", "installed_kw", "max_kw", "added_kw", "hosting_kw", "share", "tolerance_kw",
           "hosted", "limited", "violated_without", "limit", "limit_time", "limit_element", "limit_value", "runs",
           "limit_phase", "added_kw_a", "added_kw_b", "added_kw_c"]


def test_hosting_capacity_in_kw_per_transformer_and_map(tmp_path):
    sc = libgrid.Scenario.load(ROOT / "scenarios" / "melaka_baseline.yaml").set("network.model", "balanced")  # issue 15: hosting on the balanced model
    hc = libgrid.hosting_capacity(sc, kind="pv", group="transformer")
    cust = sc.customers()
    assert isinstance(hc, pd.DataFrame) and len(hc) > 0
    assert hc.index.name == "group"
    assert list(hc.columns) == COLUMNS
    assert hc.attrs["window"].startswith("critical") and 12 <= hc.attrs["n_steps"] <= 24
    assert hc["customers"].sum() == (cust["type"] != "charging_site").sum()
    assert (hc["hosting_kw"] <= hc["max_kw"] + 1e-9).all()
    assert np.allclose(hc["hosting_kw"], hc["installed_kw"] + hc["added_kw"])
    assert (hc["rating_kva"] >= 315).all()
    grid = {"voltage_high", "voltage_low", "line_overload", "trafo_overload", "reverse_flow", "not_converged"}
    assert set(hc["limit"]) <= grid | {"roof_limit"}
    assert (hc["limited"] == hc["limit"].isin(grid)).all()
    # a limited group names where and when; an unlimited one reaches its roofs and has no place
    lim = hc[hc["limited"]]
    assert len(lim) > 0 and (lim["limit_element"] >= 0).all() and lim["limit_time"].notna().all()
    free = hc[~hc["limited"]]
    assert (free["limit_element"] == -1).all() and free["limit_value"].isna().all()
    assert np.allclose(free["hosting_kw"], free["max_kw"])
    # non-domestic transformers (one building each) get kW far above a house's 15 kW
    big = hc[(hc["rating_kva"] >= 630) & (hc["customers"] == 1)]
    assert len(big) > 0 and (big["hosting_kw"] > 15).all()
    net = sc.network()
    ax = libgrid.plots.hosting_map(hc, net, cust)
    ax.figure.savefig(tmp_path / "hosting.png")
    on_map = sum(1 for t in hc.index if t in net.trafo.index)
    assert on_map > 0 and len(ax.collections[0].get_offsets()) == on_map
    with pytest.raises(libgrid.ValidationError, match="group"):
        libgrid.hosting_capacity(sc, group="street", steps=4)


def test_hosting_capacity_keys_change_the_answer_and_match_the_cli_csv(tmp_path):
    sc = libgrid.Scenario.load(ROOT / "scenarios" / "melaka_baseline.yaml").set("network.model", "balanced")  # issue 15: hosting on the balanced model
    base = libgrid.hosting_capacity(sc)
    wide = libgrid.hosting_capacity(sc, overrides={"network.lv_vmax_pu": 1.1})
    v = base[base["limit"] == "voltage_high"].index
    assert len(v) > 0 and (wide.loc[v, "hosting_kw"] > base.loc[v, "hosting_kw"]).all()
    assert np.allclose(libgrid.hosting_capacity(sc)["hosting_kw"], base["hosting_kw"])  # the scenario itself is not changed
    csv = tmp_path / "hc.csv"
    cli = BUILD / "libgrid"
    if not cli.exists():
        pytest.skip("no CLI build")
    subprocess.run([str(cli), "hosting", str(ROOT / "scenarios" / "melaka_baseline.yaml"), "--set", "network.lv_vmax_pu=1.1", "--model", "balanced",
                    "--csv", str(csv), "-q"], check=True, capture_output=True)
    got = pd.read_csv(csv)
    assert list(got.columns) == ["group"] + COLUMNS
    assert np.allclose(got["hosting_kw"].to_numpy(), wide["hosting_kw"].to_numpy(), rtol=1e-9)
    assert list(got["limit"]) == list(wide["limit"])


def test_hosting_capacity_per_phase_on_a_dss_network():
    # issue 15 (H4): a .dss network is studied per phase, its 55 customers one group (id -1); EU LV's
    # source sits at 1.05 p.u., so at night one phase is above the band before anything is added
    sc = libgrid.Scenario.load(ROOT / "scenarios" / "eulv_day.yaml")
    hc = libgrid.hosting_capacity(sc, kind="ev", steps=30, start="2025-01-02T00:01")
    assert list(hc.columns) == COLUMNS
    assert list(hc.index) == [-1] and hc.loc[-1, "customers"] == 55 and hc.loc[-1, "rating_kva"] == 800
    assert bool(hc.loc[-1, "violated_without"]) and hc.loc[-1, "limit"] == "voltage_high"
    assert hc.loc[-1, "limit_phase"] in {"a", "b", "c"}
    assert hc.loc[-1, "added_kw_a"] == 0.0
    # a balanced network has no phases
    bal = libgrid.hosting_capacity(libgrid.Scenario.load(ROOT / "scenarios" / "melaka_baseline.yaml"), steps=2,
                                   overrides={"network.model": "balanced"})
    assert (bal["limit_phase"] == "").all() and bal["added_kw_a"].isna().all()
