"""libgrid: time-series AC power flow for smart distribution grids (Python face).

    >>> import libgrid
    >>> net = libgrid.Network.from_matpower("case9.m")
    >>> res = net.run_pf(method="nr")
    >>> res.converged, res.bus.vm_pu.min()

Tables are pandas DataFrames indexed by the user's ids, with units in the column names.
The GIL is released during solves and runs.
"""
from __future__ import annotations

from . import _libgrid
from ._libgrid import Error, ParseError, ValidationError, IdError, SolverError, have_klu
from .network import DeenergizedWarning, Network, PowerFlowResult, schema

__version__ = _libgrid.__version__

__all__ = ["Network", "PowerFlowResult", "DeenergizedWarning", "Error", "ParseError", "ValidationError", "IdError",
           "SolverError", "have_klu", "__version__"]

from .results import Results, read_results
from .simulation import Devices, Simulation, parse_duration
from .stepping import SteppedRun  # issue 19
from .memory_results import MemoryResults  # issue 19
from .scenario import Scenario, hosting_capacity
from . import plots  # matplotlib is imported inside its functions
from .batch_pf import PfBatchResult
from .unbalanced import UnbalancedNetwork, UnbalancedPfResult, UnbalancedPowerFlow, read_dss
from .unbalanced import melaka_unetwork, to_unetwork  # issue 15 (h5)
from . import economics  # issue 18 (H1): libgrid.economics.business_case(...) after a plain `import libgrid`

__all__ += ["schema"]
__all__ += ["SteppedRun", "MemoryResults"]
__all__ += ["PfBatchResult"]
__all__ += ["UnbalancedNetwork", "UnbalancedPfResult", "UnbalancedPowerFlow", "read_dss"]
__all__ += ["melaka_unetwork", "to_unetwork"]  # issue 15 (h5)
__all__ += ["Results", "read_results", "Devices", "Simulation", "parse_duration", "Scenario", "hosting_capacity", "plots"]


def __getattr__(name):
    # libgrid.sweep (callable: libgrid.sweep(base, variants, ...)) and libgrid.variant_grid, imported
    # on first use so that `import libgrid` does not load Dask and `python3 -m libgrid.sweep` runs cleanly.
    if name in ("sweep", "variant_grid"):
        import importlib
        module = importlib.import_module(".sweep", __name__)
        return module if name == "sweep" else module.variant_grid
    if name == "report":  # issue 18: libgrid.report(base, scenario, out=...) (callable module, docs/report.md)
        import importlib
        return importlib.import_module(".report", __name__)
    raise AttributeError(f"module 'libgrid' has no attribute '{name}'")


__all__ += ["sweep", "variant_grid", "report"]
