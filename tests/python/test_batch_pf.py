"""Network.run_pf_batch: a matrix of load updates in, arrays out, equal to run_pf per scenario."""
import os

import numpy as np
import pandas as pd
import pytest

import libgrid

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "pgm_bench")


@pytest.fixture(scope="module")
def net():
    return libgrid.Network.from_json(os.path.join(DATA, "radial_1804.input.json"))


def scenarios(net, n, seed):
    rng = np.random.default_rng(seed)
    load = net.load
    p = load["p_mw"].to_numpy()[None, :] * rng.random((n, len(load)))
    q = load["q_mvar"].to_numpy()[None, :] * rng.random((n, len(load)))
    return load.index.to_numpy(), p, q


@pytest.mark.parametrize("method", ["nr", "sweep"])
def test_batch_equals_run_pf_per_scenario(net, method):
    ids, p, q = scenarios(net, 3, 1)
    res = net.run_pf_batch(p_mw=p, q_mvar=q, method=method)
    assert res.n_scenarios == 3 and res.converged.all() and res.method == method
    assert res.bus_vm_pu.shape == (3, len(net.bus))
    assert list(res.ids("bus")) == list(net.bus.index)
    for s in range(3):
        one = net.copy()
        one.set("load", "p_mw", p[s])
        one.set("load", "q_mvar", q[s])
        r = one.run_pf(method=method)
        np.testing.assert_array_equal(res.bus_vm_pu[s], r.bus["vm_pu"].to_numpy())
        np.testing.assert_array_equal(res.array("line", "loading_percent")[s], r.line["loading_percent"].to_numpy())
        np.testing.assert_array_equal(res.ext_grid_p_mw[s], r.ext_grid["p_mw"].to_numpy())
        assert res.iterations[s] == r.iterations


def test_batch_threads_frames_and_no_copies(net, tmp_path):
    ids, p, q = scenarios(net, 5, 2)
    one = net.run_pf_batch(p_mw=p, q_mvar=q)
    two = net.run_pf_batch(p_mw=p, q_mvar=q, threads=2, output=tmp_path / "batch.h5")
    for g, n in one.names():
        np.testing.assert_array_equal(one.array(g, n), two.array(g, n))
    # the arrays own the C++ results (no copy), and the frame wraps them without a copy too
    vm = one.bus_vm_pu
    assert vm.base is not None and vm.flags.c_contiguous
    df = one.frame("bus", "vm_pu")
    assert df.shape == (5, len(net.bus)) and df.index.name == "scenario"
    assert np.shares_memory(df.to_numpy(), vm)
    # a DataFrame with load ids as columns, a subset of loads, p only
    sub = pd.DataFrame(p[:, :2], columns=ids[:2])
    res = net.run_pf_batch(p_mw=sub)
    one_net = net.copy()
    pcol = net.load["p_mw"].to_numpy().copy()
    pcol[:2] = p[4, :2]
    one_net.set("load", "p_mw", pcol)
    np.testing.assert_array_equal(res.bus_vm_pu[4], one_net.run_pf().bus["vm_pu"].to_numpy())
    # the batch in one HDF5 file
    h5py = pytest.importorskip("h5py")
    with h5py.File(tmp_path / "batch.h5", "r") as f:
        np.testing.assert_array_equal(f["bus/vm_pu"][...], one.bus_vm_pu)
        np.testing.assert_array_equal(f["bus/id"][...], one.ids("bus"))
        assert f["scenario"].shape == (5,) and f.attrs["kind"] == "pf_batch"


def test_batch_errors_name_the_scenario_and_load(net):
    ids, p, q = scenarios(net, 3, 3)
    with pytest.raises(libgrid.ValidationError, match="2-D"):
        net.run_pf_batch(p_mw=p[0])
    with pytest.raises(libgrid.ValidationError, match="columns, expected"):
        net.run_pf_batch(p_mw=p[:, :5])
    with pytest.raises(libgrid.ValidationError, match="p_mw has 3 scenarios, q_mvar 2"):
        net.run_pf_batch(p_mw=p, q_mvar=q[:2])
    bad = p.copy()
    bad[1, 4] = np.nan
    with pytest.raises(libgrid.ValidationError, match=f"p_mw of scenario 1, load {ids[4]} is NaN"):
        net.run_pf_batch(p_mw=bad)
    with pytest.raises(libgrid.IdError, match="no load with id 123456789"):
        net.run_pf_batch(p_mw=p[:, :1], load_ids=[123456789])
