"""UnbalancedPowerFlow (C++ UPowerFlow): the compiled re-solve from Python (issue 14, h6)."""
import numpy as np

import libgrid
from conftest import DATA

EULV = DATA / "opendss" / "eulv" / "Master.dss"


def test_resolve_after_loadshapes_equals_a_fresh_run():
    net = libgrid.read_dss(EULV)
    net.apply_loadshapes_at("09:26")
    pf = net.compile(controls="off", method="fixed_point", tolerance=1e-11)
    assert pf.reduced  # 55 load nodes of 2,721
    assert pf.solve()[0]
    for at in ("18:30", "03:00"):
        net.apply_loadshapes_at(at)
        pf.update_loads()
        converged, iterations = pf.solve()
        assert converged and iterations > 1
        res = pf.result()
        fresh_net = libgrid.read_dss(EULV)
        fresh = fresh_net.run_pf(controls="off", method="fixed_point", at=at, tolerance=1e-11)
        assert fresh.converged
        assert np.max(np.abs(res.node["vm_pu"].to_numpy() - fresh.node["vm_pu"].to_numpy())) < 1e-9
        assert abs(res.source_kw - fresh.source_kw) < 1e-6 * abs(fresh.source_kw)
