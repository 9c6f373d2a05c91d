"""run_pf's result tables: built lazily over the result arrays, the same DataFrames as a plain
pandas construction (columns, dtypes, values, id index), each built once."""
import numpy as np
import pandas as pd

import libgrid
from libgrid import _libgrid
from conftest import DATA

TABLES = ("bus", "gen", "branch", "line", "trafo", "ext_grid")


def test_tables_equal_plain_pandas_construction():
    net = libgrid.Network.from_matpower(DATA / "matpower" / "case118.m")
    res = net.run_pf()
    assert res.converged
    _, raw = _libgrid.run_pf(net._core)
    for name in TABLES:
        expected = pd.DataFrame({k: np.asarray(v) for k, v in raw[name].items()}).set_index("id")
        pd.testing.assert_frame_equal(getattr(res, name), expected, check_exact=True)
    assert res.bus.energized.dtype == bool and res.bus.energized.all()
    assert res.bus.voltage_violation.dtype == bool
    assert res.bus.index.name == "id" and len(res.bus) == 118


def test_tables_built_once_and_only_when_read():
    net = libgrid.Network.from_matpower(DATA / "matpower" / "case9.m")
    res = net.run_pf()
    assert "bus" not in vars(res)  # not built yet
    bus = res.bus
    assert res.bus is bus  # cached
    assert "gen" not in vars(res)
    assert list(res.gen.index) == [g for g in net.gen.index]
