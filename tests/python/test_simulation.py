import h5py
import numpy as np
import pandas as pd
import pytest

import libgrid
from conftest import DATA


def cigre():
    return libgrid.Network.from_json(DATA / "cigre" / "cigre_lv.input.json")


def cigre_day_profiles(net):
    """The shipped one-day CIGRE LV profiles: load kW per step, PV kW per load bus."""
    df = pd.read_csv(DATA / "cigre" / "cigre_lv_day.profiles.csv")
    loads = {int(c.split("_")[1]): df[c].values * 1000.0 for c in df.columns if c.startswith("load_") and c.endswith("_p_mw")}
    return df, loads


def test_day_run_with_profiles_pv_and_batteries(tmp_path):
    net = cigre()
    df, loads = cigre_day_profiles(net)
    dev = libgrid.Devices()
    for i, (lid, bus) in enumerate(zip(net.load.index, net.load.bus)):
        dev.add_pv(id=i + 1, bus=int(bus), kwp=max(1.0, net.load.p_mw[lid] * 800), customer=int(lid))
        dev.add_battery(id=i + 1, bus=int(bus), kwh=10, kw=5, customer=int(lid), strategy="self_consumption")
    sim = libgrid.Simulation(net, dev, profiles=loads, start="2025-06-02", step="15min", horizon="1d",
                             emission_factor_t_per_mwh=0.78)
    res = sim.run(output=tmp_path / "day.h5")
    assert sim.summary["non_converged_steps"] == 0
    assert sim.summary["energy_balance_max_error_mw"] < 1e-6
    vm = res.bus_vm()
    assert isinstance(vm, pd.DataFrame) and vm.shape == (96, len(net.bus))
    assert list(vm.columns) == list(net.bus.index)
    load = res.series("load", "p_mw")
    # the given profiles are what the loads drew (generator convention: negative)
    first = int(load.columns[0])
    assert np.allclose(-load[first].values * 1000, loads[first], rtol=1e-6)
    pv = res.series("pv", "p_mw")
    assert pv.values.max() > 0 and pv.iloc[0].sum() == 0  # no sun at midnight
    soc = res.series("battery", "soc")
    # the SoC window holds; only self-discharge (0.1 % a day) may take it a little below soc_min
    assert soc.values.min() >= 0.1 * (1 - 0.001) - 1e-6 and soc.values.max() <= 0.9 + 1e-6
    # energy balance from the file, step by step
    total = (res.series("ext_grid", "p_mw").sum(axis=1) + load.sum(axis=1) + pv.sum(axis=1)
             + res.series("battery", "p_mw").sum(axis=1) - res.series("branch", "p_loss_mw").sum(axis=1))
    assert total.abs().max() < 1e-5
    assert res.summary["co2_t"] == pytest.approx(0.78 * res.summary["import_mwh"], rel=1e-12)


def test_place_is_an_input_not_an_assumption(tmp_path):
    """Issue 19 (docs/units.md "Place"): no tariff, CO2 factor or holidays unless asked for."""
    net = cigre()
    res = libgrid.Simulation(net, start="2025-05-01", step="15min", horizon="1d").run(output=tmp_path / "none.h5")
    assert np.isnan(res.summary["bills_rm"]) and np.isnan(res.summary["co2_t"])
    with h5py.File(tmp_path / "none.h5", "r") as f:
        assert "bill" not in f and "meter" in f
    # the same day placed in Melaka: Labour Day is a public holiday, so ToU bills have no peak kWh
    kw = dict(start="2025-05-01", step="15min", horizon="1d", default_tariff="domestic_tou", emission_factor_t_per_mwh=0.78)
    plain = libgrid.Simulation(net, **kw).run(output=tmp_path / "plain.h5")
    melaka = libgrid.Simulation(net, holidays="melaka", **kw).run(output=tmp_path / "melaka.h5")
    assert plain.summary["co2_t"] == pytest.approx(0.78 * plain.summary["import_mwh"], rel=1e-12)
    assert (plain.bills().tariff == "domestic_tou").all()
    assert melaka.summary["bills_rm"] < plain.summary["bills_rm"]
    with pytest.raises(libgrid.ValidationError, match="field 'holidays': unknown 'malaysia'"):
        libgrid.Simulation(net, horizon="1h", holidays="malaysia").run()
    with pytest.raises(libgrid.ValidationError, match="default_tariff: unknown tariff 'tnb'"):
        libgrid.Simulation(net, horizon="1h", default_tariff="tnb").run()


def test_bad_device_input_raises_named_errors():
    net = cigre()
    dev = libgrid.Devices().add_pv(id=1, bus=99999, kwp=5)
    with pytest.raises(libgrid.IdError, match="pv 1: field 'bus'"):
        libgrid.Simulation(net, dev, horizon="1h").run()
    with pytest.raises(libgrid.ValidationError, match="strategy"):
        libgrid.Devices().add_battery(id=1, bus=1, kwh=1, kw=1, strategy="magic")
    with pytest.raises(ValueError, match="duration"):
        libgrid.Simulation(net, horizon="soon")


def test_same_seed_same_results(tmp_path):
    net = cigre()
    def run(seed, threads, name):
        dev = libgrid.Devices()
        for lid in net.load.index:
            dev.add_load_profile(int(lid), cls="residential", daily_kwh=10)
        return libgrid.Simulation(net, dev, start="2025-03-03", horizon="2d", seed=seed, threads=threads).run(
            output=tmp_path / name).bus_vm()
    a, b, c = run(5, 1, "a.h5"), run(5, 2, "b.h5"), run(6, 1, "c.h5")
    assert a.equals(b)
    assert not a.equals(c)


def test_scenario_site_is_an_input(tmp_path):
    """Issue 19 (docs/scenarios.md "site"): the sun, the clock and the holidays of a scenario are keys."""
    from conftest import ROOT

    def day(**site):
        sc = libgrid.Scenario.load(str(ROOT / "scenarios" / "melaka_baseline.yaml")).override(steps=96, size="small")
        sc.set("horizon.start", "2025-05-01").set("tariff.tou_adoption", 1.0).set("devices.pv.share", 0.5)
        for k, v in site.items():
            sc.set("site." + k, v)
        name = "_".join(f"{k}{v}" for k, v in site.items()) or "melaka"
        res = sc.run(output=str(tmp_path / f"{name}.h5"))
        with h5py.File(tmp_path / f"{name}.h5", "r") as f:
            pv = np.asarray(f["/pv/p_mw"]).sum(axis=1)
        on = np.flatnonzero(pv > 1e-9)  # the steps with daylight (clouds never take all of it)
        return res, (int(on[0]), int(on[-1]))

    melaka, light = day()
    # Labour Day is a holiday in Melaka's calendar: ToU bills without it count peak kWh and are higher
    plain, _ = day(holidays="none")
    assert plain.summary["bills_rm"] > melaka.summary["bills_rm"]
    # a site 30 degrees further west on the same clock: PV starts and ends about two hours (8 steps) later
    _, light_west = day(longitude_deg=72.25)
    assert 7 <= light_west[0] - light[0] <= 9 and 7 <= light_west[1] - light[1] <= 9
    with pytest.raises(libgrid.ValidationError, match="site.utc_offset_h"):
        libgrid.Scenario.load(str(ROOT / "scenarios" / "melaka_baseline.yaml")).set("site.utc_offset_h", 20)
