"""Issue 16: droop islands in a time series from Python (docs/microgrid.md "Time series"): a feeder
cut off from the grid for an hour is held by two grid-forming batteries built with
Devices.add_battery(grid_forming=True); shedding by load type (Simulation(load_priority=...));
res.island() per step; the same run without secondary control shows the droop's frequency."""
import json

import numpy as np
import pytest

import libgrid


def feeder(tmp_path):
    case = {
        "schema": "mg-case-json/1",
        "name": "island feeder",
        "f_hz": 50.0,
        "buses": [{"id": i, "vn_kv": 0.4, "vmin_pu": 0.8, "vmax_pu": 1.2} for i in range(5)],
        "ext_grids": [{"id": 0, "bus": 0}],
        "lines": [
            {"id": 0, "from_bus": 0, "to_bus": 1, "length_km": 0.1, "r_ohm_per_km": 0.2, "x_ohm_per_km": 0.08, "max_i_ka": 0.3},
            {"id": 1, "from_bus": 2, "to_bus": 3, "length_km": 0.1, "r_ohm_per_km": 0.2, "x_ohm_per_km": 0.08, "max_i_ka": 0.3},
            {"id": 2, "from_bus": 3, "to_bus": 4, "length_km": 0.1, "r_ohm_per_km": 0.2, "x_ohm_per_km": 0.08, "max_i_ka": 0.3},
        ],
        "switches": [{"id": 9, "bus": 1, "element": 2, "et": "b", "closed": True}],
        "loads": [
            {"id": 1, "bus": 3, "p_mw": 0.006, "type": "hotel"},
            {"id": 2, "bus": 3, "p_mw": 0.008, "type": "terrace_house"},
            {"id": 3, "bus": 4, "p_mw": 0.010, "type": "office"},
        ],
    }
    path = tmp_path / "feeder.json"
    path.write_text(json.dumps(case))
    return libgrid.Network.from_json(path)


def run(tmp_path, kw_a, name, **kw):
    d = libgrid.Devices()
    d.add_battery(11, 3, kwh=100, kw=kw_a, strategy="idle", grid_forming=True)
    d.add_battery(12, 4, kwh=200, kw=2 * kw_a, strategy="idle", grid_forming=True)
    d.add_event("2025-06-11T18:30", "open", "switch", 9, duration="1h")
    sim = libgrid.Simulation(feeder(tmp_path), d, start="2025-06-11T18:00", step="15min", horizon="2h",
                             load_priority={"hotel": "critical", "office": "deferrable"}, **kw)
    return sim.run(output=str(tmp_path / name))


def test_batteries_hold_the_feeder_for_the_hour(tmp_path):
    res = run(tmp_path, 30.0, "held.h5")
    s = res.summary
    assert s["islanded_steps"] == 4
    assert s["energy_not_served_mwh"] == 0.0
    assert s["energy_balance_max_error_mw"] < 1e-8
    isl = res.island()
    held = isl["frequency_min_hz"].notna()
    assert held.sum() == 4
    assert (abs(isl.loc[held, "frequency_min_hz"] - 50.0) < 1e-9).all()  # secondary control
    pb = res.series("battery", "p_mw")
    assert (abs(pb.loc[held.to_numpy(), 12] - 2 * pb.loc[held.to_numpy(), 11]) < 1e-9).all()  # 1:2
    assert (pb.loc[~held.to_numpy()] == 0).all().all()  # idle while grid-connected


def test_primary_droop_and_shedding_by_type(tmp_path):
    res = run(tmp_path, 5.5, "shed.h5", secondary_control=False)
    s = res.summary
    assert s["islanded_steps"] == 4
    assert s["energy_shed_deferrable_mwh"] > 0  # the office
    assert s["energy_shed_essential_mwh"] == 0.0
    assert s["critical_customer_hours_interrupted"] == 0.0
    isl = res.island()
    f = isl["frequency_min_hz"].dropna()
    assert ((f < 50.0) & (f > 48.5)).all()  # primary droop: below nominal while delivering
    ns = res.series("load", "not_served_kw")
    assert (ns[3] > 0).sum() == 4 and (ns[1] == 0).all()


def test_bad_priority_names_the_field(tmp_path):
    with pytest.raises(libgrid.ValidationError, match="load_priority"):
        libgrid.Simulation(feeder(tmp_path), libgrid.Devices(), start="2025-06-11", horizon="1h",
                           load_priority={"hotel": "vital"}).run(output=str(tmp_path / "x.h5"))
