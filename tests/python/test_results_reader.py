"""bindings/python/libgrid/results.py against a file written with h5py in the layout of
docs/results_hdf5.md. Run: /usr/bin/python3 -m pytest tests/python/test_results_reader.py"""
import importlib.util
import pathlib

import h5py
import numpy as np
import pandas as pd
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

# Loaded from its file, so the test needs neither an installed package nor the compiled module.
_spec = importlib.util.spec_from_file_location("libgrid_results", ROOT / "bindings/python/libgrid/results.py")
results = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(results)

T0 = 1704067200  # 2024-01-01 00:00 Melaka time in the file's time base
STEPS = 10
BUS_IDS = np.array([101, 102, 205], dtype=np.int64)
PV_IDS = np.array([7, 9], dtype=np.int64)


def vm_values():
    k = np.arange(STEPS)[:, None]
    c = np.arange(len(BUS_IDS))[None, :]
    return 1.0 - 0.01 * c - 0.001 * k


def pv_values():
    k = np.arange(STEPS)[:, None]
    return np.hstack([0.1 * k, 0.2 * k])


def write_layout(path, with_time=True, vlen_attrs=True):
    with h5py.File(path, "w") as f:
        str_attr = (lambda s: s) if vlen_attrs else (lambda s: np.bytes_(s))
        f.attrs["scenario"] = str_attr("name: test\nseed: 42\n")
        f.attrs["libgrid_version"] = str_attr("0.1.0")
        f.attrs["layout_version"] = np.int64(1)
        f.attrs["seed"] = np.uint64(42)
        if with_time:
            t = f.create_dataset("time", data=T0 + 900 * np.arange(STEPS, dtype=np.int64), maxshape=(None,))
            t.attrs["units"] = "seconds since 1970-01-01 00:00:00 +08:00"
        f["bus/id"] = BUS_IDS
        vm = f.create_dataset("bus/vm_pu", data=vm_values(), maxshape=(None, len(BUS_IDS)),
                              chunks=(4, len(BUS_IDS)), compression="gzip", compression_opts=1, shuffle=True)
        vm.attrs["unit"] = "p.u."
        f.create_dataset("bus/vn_kv", data=np.array([11.0, 11.0, 0.4])).attrs["unit"] = "kV"
        f["pv/id"] = PV_IDS
        f.create_dataset("pv/p_mw", data=pv_values().astype(np.float32)).attrs["unit"] = "MW"
        # a series cut short, as after a crash between two series' chunk writes
        f.create_dataset("pv/curtailed_mw", data=np.zeros((STEPS - 4, 2))).attrs["unit"] = "MW"
        f.create_dataset("ext_grid/p_mw", data=np.arange(STEPS, dtype=float)).attrs["unit"] = "MW"
        # meters read every 30 minutes: their own time axis
        mt = f.create_dataset("meter/time", data=T0 + 1800 * np.arange(STEPS // 2, dtype=np.int64))
        mt.attrs["units"] = "seconds since 1970-01-01 00:00:00 +08:00"
        f["meter/id"] = np.array([501], dtype=np.int64)
        f.create_dataset("meter/energy_kwh", data=np.ones((STEPS // 2, 1))).attrs["unit"] = "kWh"
        f.create_dataset("summary/energy_mwh", data=12.5).attrs["unit"] = "MWh"
        f.create_dataset("summary/min_vm_pu", data=0.91).attrs["unit"] = "p.u."
        f.create_dataset("summary/n_violations", data=np.int64(3))


@pytest.fixture
def h5file(tmp_path):
    p = tmp_path / "out.h5"
    write_layout(p)
    return p


def test_time_index_is_melaka_local_time(h5file):
    res = results.read_results(h5file)
    assert isinstance(res.time, pd.DatetimeIndex)
    assert res.time.name == "time"
    assert len(res.time) == STEPS
    tz8 = pd.Timestamp("2024-01-01 00:00:00+08:00")
    assert res.time[0] == tz8
    assert res.time[0].utcoffset() == pd.Timedelta(hours=8)
    assert res.time[-1] == tz8 + pd.Timedelta(minutes=15 * (STEPS - 1))
    # naive wall-clock time, for those who want it
    assert res.time.tz_localize(None)[1] == pd.Timestamp("2024-01-01 00:15")


def test_time_units_origin_and_scale():
    idx = results.time_index(np.array([0, 2]), "hours since 2000-01-01 00:00:00 +08:00")
    assert list(idx) == [pd.Timestamp("2000-01-01 00:00+08:00"), pd.Timestamp("2000-01-01 02:00+08:00")]
    with pytest.raises(ValueError, match="fortnights"):
        results.time_index(np.array([0]), "fortnights since 2000-01-01")


def test_bus_vm_is_time_by_bus_id(h5file):
    res = results.read_results(h5file)
    vm = res.bus_vm()
    assert vm.shape == (STEPS, len(BUS_IDS))
    assert list(vm.columns) == list(BUS_IDS)
    assert vm.columns.name == "bus"
    assert vm.index.equals(res.time)
    np.testing.assert_array_equal(vm.to_numpy(), vm_values())
    assert vm.loc[res.time[3], 205] == vm_values()[3, 2]
    assert vm.attrs["unit"] == "p.u."


def test_series_of_a_device_group(h5file):
    res = results.read_results(h5file)
    pv = res.series("pv", "p_mw")
    assert list(pv.columns) == list(PV_IDS)
    assert (pv.dtypes == np.float32).all()  # float32 files stay float32 in memory
    np.testing.assert_allclose(pv.to_numpy(), pv_values(), rtol=1e-6)  # stored as float32
    assert pv.attrs["unit"] == "MW"
    assert res.unit("pv", "p_mw") == "MW"
    # leading and trailing slashes are accepted
    assert res.series("/pv/", "p_mw").equals(pv)


def test_one_dimensional_series(h5file):
    res = results.read_results(h5file)
    ext = res.series("ext_grid", "p_mw")
    assert ext.shape == (STEPS, 1)
    assert list(ext.columns) == ["p_mw"]
    np.testing.assert_array_equal(ext["p_mw"].to_numpy(), np.arange(STEPS, dtype=float))


def test_group_with_its_own_time_axis(h5file):
    res = results.read_results(h5file)
    e = res.series("meter", "energy_kwh")
    assert len(e) == STEPS // 2
    assert list(e.columns) == [501]
    assert e.index[1] - e.index[0] == pd.Timedelta(minutes=30)
    assert e.index[0] == res.time[0]


def test_short_series_gets_the_first_time_stamps(h5file):
    res = results.read_results(h5file)
    cur = res.series("pv", "curtailed_mw")
    assert len(cur) == STEPS - 4
    assert cur.index.equals(res.time[: STEPS - 4])


def test_summary_and_units(h5file):
    res = results.read_results(h5file)
    assert isinstance(res.summary, pd.Series)
    assert res.summary["energy_mwh"] == 12.5
    assert res.summary["min_vm_pu"] == 0.91
    assert res.summary["n_violations"] == 3.0
    assert res.summary_units == {"energy_mwh": "MWh", "min_vm_pu": "p.u.", "n_violations": ""}


@pytest.mark.parametrize("vlen", [True, False])
def test_root_attributes(tmp_path, vlen):
    p = tmp_path / "attrs.h5"
    write_layout(p, vlen_attrs=vlen)
    res = results.read_results(p)
    assert res.attrs["scenario"] == "name: test\nseed: 42\n"
    assert res.scenario == res.attrs["scenario"]
    assert res.attrs["libgrid_version"] == "0.1.0"
    assert res.attrs["seed"] == 42 and isinstance(res.attrs["seed"], int)
    assert res.seed == 42
    assert res.attrs["layout_version"] == 1


def test_vector_ids_groups(h5file):
    res = results.read_results(h5file)
    vn = res.vector("bus", "vn_kv")
    assert list(vn.index) == list(BUS_IDS)
    assert vn[205] == 0.4
    assert vn.attrs["unit"] == "kV"
    np.testing.assert_array_equal(res.ids("pv"), PV_IDS)
    assert res.ids("summary") is None
    assert res.groups() == ["bus", "ext_grid", "meter", "pv", "summary"]
    assert res.names("bus") == ["id", "vm_pu", "vn_kv"]


def test_missing_things_are_named(h5file):
    res = results.read_results(h5file)
    with pytest.raises(KeyError, match=r"no dataset '/bus/va_degree'.*holds: id, vm_pu, vn_kv"):
        res.series("bus", "va_degree")
    with pytest.raises(KeyError, match=r"no dataset '/battery/soc' \(no group '/battery'\)"):
        res.series("battery", "soc")
    with pytest.raises(KeyError, match="no group '/battery'"):
        res.names("battery")
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        results.read_results(h5file.parent / "nope.h5")
    notes = h5file.parent / "notes.txt"
    notes.write_text("not hdf5")
    with pytest.raises(OSError, match="notes.txt"):
        results.read_results(notes)


def test_file_without_time_uses_steps(tmp_path):
    p = tmp_path / "notime.h5"
    write_layout(p, with_time=False)
    res = results.read_results(p)
    assert res.time is None
    vm = res.bus_vm()
    assert isinstance(vm.index, pd.RangeIndex)
    assert vm.index.name == "step"
    assert len(vm) == STEPS
