"""Issue 19: Python reaches what C++ reaches. Own EV sessions, a charger's efficiency, charging sites
with PV canopy and battery, HEMS homes, every device struct's fields by their C++ names, and clear
errors naming the field (docs/python.md, "Devices")."""
import numpy as np
import pandas as pd
import pytest

import libgrid
from conftest import DATA

START, END = "2025-06-03", "2025-06-04"  # a Tuesday (2 June 2025 is a holiday: no ToU peak)


def cigre():
    return libgrid.Network.from_json(DATA / "cigre" / "cigre_lv.input.json")


def a_load(net, k=0):
    """(load id, its bus) of the k-th load."""
    lid = int(net.load.index[k])
    return lid, int(net.load.bus[lid])


def run(net, dev, path, horizon="1d"):
    sim = libgrid.Simulation(net, dev, start=START, step="15min", horizon=horizon, float32=False)
    return sim.run(output=path), sim.summary


def test_own_sessions_equal_the_generated_ones(tmp_path):
    """The seeded sessions a station generates, given back as own sessions: the same /ev results bit
    for bit (the C++ generator's path vs Python's own-sessions path); one session fewer: different."""
    net = cigre()
    lid, bus = a_load(net)
    gen = dict(kind="public_ac", charger_kw=11.0, start=START, end=END, seed=5, sessions_per_day=8.0)
    sessions = libgrid.Devices.ev_sessions(station_id=7, **gen)
    assert len(sessions) >= 3 and list(sessions.columns) == ["arrival", "departure", "energy_kwh", "max_kw",
                                                             "battery_kwh", "soc_arrival"]
    common = dict(id=7, bus=bus, n_chargers=2, charger_kw=11.0, strategy="edf", connection_limit_kw=15.0)
    a = libgrid.Devices().add_ev_station(**common, kind="public_ac", sessions_per_day=8.0, start=START, end=END, seed=5)
    b = libgrid.Devices().add_ev_station(**common, seed=5, sessions=sessions)
    c = libgrid.Devices().add_ev_station(**common, seed=5, sessions=sessions.iloc[1:])
    ra, sa = run(net, a, tmp_path / "a.h5")
    rb, sb = run(net, b, tmp_path / "b.h5")
    rc, _ = run(net, c, tmp_path / "c.h5")
    pa, pb = ra.series("ev", "p_mw"), rb.series("ev", "p_mw")
    assert pa.values.min() < 0  # it charged
    np.testing.assert_array_equal(pa.values, pb.values)
    pd.testing.assert_frame_equal(ra.ev_sessions(), rb.ev_sessions())
    assert sa["ev_delivered_mwh"] == sb["ev_delivered_mwh"] and sa["import_mwh"] == sb["import_mwh"]
    assert not np.array_equal(pa.values, rc.series("ev", "p_mw").values)
    # the same sessions as a list of mappings, times as text and as seconds
    rows = [dict(r, arrival=str(r["arrival"]), departure=int((r["departure"] - pd.Timestamp("1970-01-01")).total_seconds()))
            for r in sessions.to_dict("records")]
    rd, _ = run(net, libgrid.Devices().add_ev_station(**common, seed=5, sessions=rows), tmp_path / "d.h5")
    np.testing.assert_array_equal(pa.values, rd.series("ev", "p_mw").values)


def test_charger_efficiency_scales_the_grid_energy(tmp_path):
    """Every session served in full: the grid gives energy_kwh / efficiency, so 0.9 vs 0.95 is 0.95 / 0.9."""
    net = cigre()
    lid, bus = a_load(net)
    sessions = [dict(arrival="2025-06-03T08:00", departure="2025-06-03T18:00", energy_kwh=20.0, max_kw=7.0,
                     battery_kwh=60.0, soc_arrival=0.2),
                dict(arrival="2025-06-03T09:10", departure="2025-06-03T20:00", energy_kwh=13.3, max_kw=11.0,
                     battery_kwh=40.0, soc_arrival=0.3)]
    grid = {}
    for eff in (0.9, 0.95):
        dev = libgrid.Devices().add_ev_station(id=1, bus=bus, customer=lid, n_chargers=2, charger_kw=11.0,
                                               sessions=sessions, efficiency=eff)
        res, s = run(net, dev, tmp_path / f"e{eff}.h5")
        grid[eff] = -res.series("ev", "p_mw").values.sum() * 0.25 * 1000  # kWh
        t = res.ev_sessions()
        assert (t["status"] == "served").all()
        assert t["delivered_kwh"].sum() == pytest.approx(33.3, rel=1e-9)
    assert grid[0.9] == pytest.approx(33.3 / 0.9, rel=1e-9)
    assert grid[0.9] / grid[0.95] == pytest.approx(0.95 / 0.9, rel=1e-9)


def test_charging_site_with_pv_and_battery_closes_its_energy_balance(tmp_path):
    net = cigre()
    lid, bus = a_load(net, 2)
    dev = libgrid.Devices().add_charging_site(
        id=3, bus=bus, n_chargers=4, charger_kw=22.0, strategy="edf", connection_limit_kw=40.0, sessions_per_day=12,
        start=START, end=END, seed=2, pv_kwp=30.0, battery_kwh=50.0, battery_kw=25.0, battery_soc=0.6,
        battery_eta_charge=0.93, pv_tilt_deg=5.0, export_limit_kw=20.0, battery_discharge_in_peak=True)
    assert dev._core.n_charging_sites == 1
    res, s = run(net, dev, tmp_path / "site.h5")
    p, ev, pv, bat = (res.series("ev_site", k)[3].values * 1000 for k in ("p_mw", "ev_mw", "pv_mw", "battery_mw"))
    np.testing.assert_allclose(p, ev + pv + bat, atol=1e-9)  # the site's balance, each step
    assert pv.max() > 5 and pv[:20].max() == 0  # the canopy: sun at noon, none at night
    assert bat.max() > 0 and bat.min() < 0  # the battery charged and discharged
    assert ev.min() < -20
    assert (-p).max() <= 40.0 + 1e-6  # the connection limit holds
    assert p.max() <= 20.0 + 1e-6  # and the export limit
    assert res.vector("ev_site", "pv_kwp").tolist() == [30.0] and res.vector("ev_site", "battery_kwh").tolist() == [50.0]


def test_home_with_pv_battery_and_own_ev_sessions(tmp_path):
    net = cigre()
    lid, bus = a_load(net, 1)
    sessions = [dict(arrival="2025-06-03T18:30", departure="2025-06-04T07:00", energy_kwh=12.0, max_kw=7.0,
                     battery_kwh=50.0, soc_arrival=0.3)]
    dev = libgrid.Devices().add_home(id=lid, bus=bus, customer=lid, pv_kwp=4.0, battery_kwh=10.0, battery_kw=5.0,
                                     ev_charger_kw=7.0, sessions=sessions, ev_efficiency=0.9, setpoint_c=25.0,
                                     precool=False)
    res, s = run(net, dev, tmp_path / "home.h5")
    g = {k: res.series("home", k)[lid].values * 1000 for k in ("p_mw", "ev_mw", "pv_mw", "battery_mw", "building_mw")}
    np.testing.assert_allclose(g["p_mw"], g["ev_mw"] + g["pv_mw"] + g["battery_mw"] + g["building_mw"], atol=1e-9)
    assert g["pv_mw"].max() > 1 and g["ev_mw"].min() < -1
    t = res.ev_sessions()
    assert len(t) == 1 and t["energy_kwh"].iloc[0] == 12.0


def test_pv_battery_building_fields_by_their_cpp_names(tmp_path):
    net = cigre()
    lid, bus = a_load(net)
    # defaults given explicitly = not given (bit for bit); a changed field changes the run
    base = libgrid.Devices().add_pv(id=1, bus=bus, kwp=5, customer=lid)
    same = libgrid.Devices().add_pv(id=1, bus=bus, kwp=5, customer=lid, dc_losses=0.14, albedo=0.2, sky="isotropic",
                                    vv_v1_pu=0.92, priority="var")
    lossy = libgrid.Devices().add_pv(id=1, bus=bus, kwp=5, customer=lid, dc_losses=0.30)
    off = libgrid.Devices().add_pv(id=1, bus=bus, kwp=5, customer=lid, in_service=False)  # PvUnit::in_service
    e = {}
    for name, dev in (("base", base), ("same", same), ("lossy", lossy), ("off", off)):
        res, _ = run(net, dev, tmp_path / f"{name}.h5")
        e[name] = res.series("pv", "p_mw").values.sum()
    assert e["base"] == e["same"] and e["lossy"] < 0.85 * e["base"] and e["off"] == 0 < e["base"]
    # a battery's efficiencies and SoC window
    b = libgrid.Devices().add_battery(id=1, bus=bus, kwh=10, kw=5, strategy="schedule", schedule_kw=[-5.0] * 96,
                                      soc_init=0.2, soc_max=0.6, eta_charge=0.8, self_discharge_per_day=0.0)
    res, _ = run(net, b, tmp_path / "bat.h5")
    soc = res.series("battery", "soc")[1].values
    assert soc.max() == pytest.approx(0.6, abs=1e-9)
    charged = -res.series("battery", "p_mw")[1].values.sum() * 0.25 * 1000
    assert charged * 0.8 == pytest.approx((0.6 - 0.2) * 10, rel=1e-6)  # stored = eta_charge * charged
    # a building's setpoint and schedules
    ac = {}
    for sp in (22.0, 26.0):
        dev = libgrid.Devices().add_building(id=1, bus=bus, customer=lid, type="office", setpoint_c=sp,
                                             ac_control="proportional")
        res, _ = run(net, dev, tmp_path / f"b{sp}.h5")
        ac[sp] = -res.series("building", "ac_mw").values.sum()  # consumed, kW-steps
    assert ac[22.0] > ac[26.0] > 0
    dev = libgrid.Devices().add_building(id=1, bus=bus, customer=lid, type="office", ac_schedule=[0.0] * 24)
    res, _ = run(net, dev, tmp_path / "off.h5")
    assert np.abs(res.series("building", "ac_mw").values).max() == 0.0


def test_bad_fields_raise_errors_naming_them():
    net = cigre()
    lid, bus = a_load(net)
    d = libgrid.Devices()
    with pytest.raises(libgrid.ValidationError, match=r"pv 1: field 'albedoo': unknown; allowed: .*albedo"):
        d.add_pv(id=1, bus=bus, kwp=5, albedoo=0.3)
    with pytest.raises(libgrid.ValidationError, match=r"pv 1: field 'albedo': expected a number, got high"):
        d.add_pv(id=1, bus=bus, kwp=5, albedo="high")
    with pytest.raises(libgrid.ValidationError, match=r"pv 1: field 'sky': unknown 'perez'; allowed: isotropic, hay_davies"):
        d.add_pv(id=1, bus=bus, kwp=5, sky="perez")
    with pytest.raises(libgrid.ValidationError, match=r"battery 2: field 'tou_discharge_full_power': expected True or False"):
        d.add_battery(id=2, bus=bus, kwh=5, kw=2, tou_discharge_full_power="yes")
    with pytest.raises(libgrid.ValidationError, match=r"charging site 4: field 'battery_capacity': unknown; allowed: .*battery_capacity_kwh"):
        d.add_charging_site(id=4, bus=bus, battery_capacity=5)
    with pytest.raises(libgrid.ValidationError, match=r"building 5: field 'plug_kw' \(weekday\): expected 24 values"):
        d.add_building(id=5, bus=bus, plug_kw={"weekday": [1.0] * 23})
    with pytest.raises(libgrid.ValidationError, match=r"field 'peak_start_hour'"):
        d.set_tariff(lid, "domestic_tou", peak_start_hour=25)
    with pytest.raises(ValueError, match=r"ev station 6: field 'n_chargers': expected an integer, got 2.5"):
        d.add_ev_station(id=6, bus=bus, n_chargers=2.5)
    with pytest.raises(ValueError, match=r"battery 2: field 'kwh': expected a number, got '10'"):
        d.add_battery(id=2, bus=bus, kwh="10", kw=2)
    with pytest.raises(ValueError, match=r"ev station 6: field 'sessions': not a time: None"):
        d.add_ev_station(id=6, bus=bus, sessions=[dict(arrival=None, departure=3600, energy_kwh=1, max_kw=7, battery_kwh=40, soc_arrival=0.1)])
    with pytest.raises(ValueError, match=r"ev station 6: field 'sessions': column 'max_kw' missing"):
        d.add_ev_station(id=6, bus=bus, sessions=[dict(arrival=0, departure=3600, energy_kwh=1, battery_kwh=40, soc_arrival=0.1)])
    with pytest.raises(ValueError, match=r"ev station 6: field 'sessions': unknown column 'kwh'"):
        d.add_ev_station(id=6, bus=bus, sessions=[dict(arrival=0, departure=3600, energy_kwh=1, max_kw=7, battery_kwh=40,
                                                       soc_arrival=0.1, kwh=3)])
    # a session whose departure is before its arrival: named when the run is built
    bad = libgrid.Devices().add_ev_station(id=6, bus=bus, sessions=[dict(arrival="2025-06-03T10:00", departure="2025-06-03T09:00",
                                                                         energy_kwh=1, max_kw=7, battery_kwh=40, soc_arrival=0.1)])
    with pytest.raises(libgrid.ValidationError, match=r"departure"):
        libgrid.Simulation(net, bad, start=START, horizon="1h").run()
    # a charger efficiency out of (0, 1]
    eff = libgrid.Devices().add_ev_station(id=6, bus=bus, efficiency=1.5, sessions=[])
    with pytest.raises(libgrid.ValidationError, match=r"efficiency"):
        libgrid.Simulation(net, eff, start=START, horizon="1h").run()
