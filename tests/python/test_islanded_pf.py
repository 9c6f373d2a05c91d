"""Islanded power flow with grid-forming droop sources (docs/microgrid.md) from Python."""
import json

import numpy as np
import pytest

import libgrid


def island_case(tmp_path, p_max_b=None):
    case = {
        "schema": "mg-case-json/1",
        "name": "two-battery island",
        "f_hz": 50.0,
        "sn_mva": 1.0,
        "buses": [{"id": i, "vn_kv": 0.4} for i in (1, 2, 3)],
        "lines": [
            {"id": 1, "from_bus": 1, "to_bus": 2, "length_km": 0.2, "r_ohm_per_km": 0.2, "x_ohm_per_km": 0.0},
            {"id": 2, "from_bus": 2, "to_bus": 3, "length_km": 0.2, "r_ohm_per_km": 0.3, "x_ohm_per_km": 0.0},
        ],
        "loads": [{"id": 1, "bus": 2, "p_mw": 0.1, "q_mvar": 0.0}],
        "forming": [
            {"id": 10, "bus": 1, "p_set_mw": 0.0, "kp_mw_per_hz": 1.0, "name": "battery A"},
            {"id": 11, "bus": 3, "p_set_mw": 0.0, "kp_mw_per_hz": 2.0, "p_max_mw": p_max_b},
        ],
    }
    path = tmp_path / "island.json"
    path.write_text(json.dumps(case))
    return libgrid.Network.from_json(path)


def test_island_frequency_and_sharing(tmp_path):
    net = island_case(tmp_path)
    assert list(net.forming.index) == [10, 11]
    assert net.forming.loc[10, "kp_mw_per_hz"] == 1.0
    res = net.run_pf(method="auto", tolerance=1e-12)
    assert res.converged and res.method == "nr"
    p = res.forming.p_mw
    assert abs(p[11] / p[10] - 2.0) < 1e-9
    assert len(res.island) == 1 and bool(res.island.droop.iloc[0])
    f = res.island.frequency_hz.iloc[0]
    assert abs((f - 50.0) - (-(0.1 + res.losses_mw) / 3.0)) < 1e-9
    assert np.all(res.bus.frequency_hz.values == f)
    assert abs(p.sum() - (0.1 + res.losses_mw)) < 1e-9


def test_island_limit_and_collapse(tmp_path):
    res = island_case(tmp_path, p_max_b=0.05).run_pf(tolerance=1e-12)
    assert res.converged
    assert res.forming.p_mw[11] == 0.05 and res.forming.p_limit[11] == 1
    net = island_case(tmp_path, p_max_b=0.05)
    net.set("forming", "p_max_mw", [0.01, 0.05])
    with pytest.warns(libgrid.DeenergizedWarning):
        res = net.run_pf(tolerance=1e-12)
    isl = res.island
    assert bool(isl.collapsed.iloc[-1])
    assert "load exceeds 0.06 MW" in isl.cause.iloc[-1]
    assert res.bus.vm_pu.isna().all()


def test_sweep_refuses_a_droop_island(tmp_path):
    with pytest.raises(libgrid.ValidationError, match="droop island"):
        island_case(tmp_path).run_pf(method="sweep")
    net = island_case(tmp_path)
    net.set("forming", "kp_mw_per_hz", [1.0, 0.0])
    with pytest.raises(libgrid.ValidationError, match="forming 11: field 'kp_mw_per_hz'"):
        net.run_pf()
