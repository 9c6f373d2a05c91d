"""power-grid-model's own voltages on the pgm_bench grids as shipped (issue 13), from Python: the ext_grid
table carries sk_mva / rx_ratio and run_pf solves to PGM's base case (tests/data/pgm_bench/*.pgm_voltages.csv,
produced by PGM through benches/pgm/pgm_reference; data only, no PGM code)."""
import numpy as np
import pandas as pd
import pytest

import libgrid
from conftest import DATA


@pytest.mark.parametrize("grid", ["radial_1804", "meshed_2605"])
@pytest.mark.parametrize("method", ["nr", "auto"])
def test_matches_pgm_base_case(grid, method):
    net = libgrid.Network.from_json(DATA / "pgm_bench" / f"{grid}.input.json")
    assert net.ext_grid.sk_mva.iloc[0] == 2000.0 and net.ext_grid.rx_ratio.iloc[0] == 0.1
    ref = pd.read_csv(DATA / "pgm_bench" / f"{grid}.pgm_voltages.csv", comment="#")
    ref = ref[ref.scenario == -1].set_index("node_id")
    res = net.run_pf(method=method, tolerance=1e-10)
    assert res.converged
    bus = res.bus.loc[ref.index]
    assert np.max(np.abs(bus.vm_pu.values - ref.u_pu.values)) < 1e-6
    dang = np.remainder(np.radians(bus.va_deg.values) - ref.u_angle_rad.values + np.pi, 2 * np.pi) - np.pi
    assert np.max(np.abs(dang)) < 1e-6
    # an ideal slack instead (sk_mva infinite) is what the reader used to make of these files: 4e-2 p.u. off
    net.set("ext_grid", "sk_mva", np.array([np.inf]))
    ideal = net.run_pf(method=method, tolerance=1e-10)
    assert np.max(np.abs(ideal.bus.loc[ref.index].vm_pu.values - ref.u_pu.values)) > 1e-2
