"""A batch of power flows on one network, power-grid-model style (`Network.run_pf_batch`).

One call: a matrix of load updates in (scenarios x loads, p and q), arrays of results out
(scenarios x buses, lines, ...). The arrays are the C++ results themselves (numpy arrays that own
them: no copy); `frame()` wraps one as a DataFrame (scenarios as rows, element ids as columns)
without copying it either.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import _libgrid

_GROUPS = ("ext_grid", "branch", "trafo", "shunt", "line", "bus", "gen")


class PfBatchResult:
    """Results of `Network.run_pf_batch`.

    - `converged`, `iterations`, `max_mismatch`, `losses_mw`, `losses_mvar`: one value per scenario;
      `messages`: why a scenario failed ("" when it did not).
    - `array(group, name)`: the 2-D array (scenarios x elements), e.g. `array("bus", "vm_pu")`;
      attribute shortcut `res.bus_vm_pu`, `res.line_loading_percent`, `res.ext_grid_p_mw`, ...
    - `ids(group)`: the element ids labelling the columns; `frame(group, name)`: a DataFrame.
    - `names()`: every (group, name) there is.
    """

    def __init__(self, d: dict):
        self._d = d
        self.converged: np.ndarray = d["converged"]
        self.iterations: np.ndarray = d["iterations"]
        self.max_mismatch: np.ndarray = d["max_mismatch"]
        self.losses_mw: np.ndarray = d["losses_mw"]
        self.losses_mvar: np.ndarray = d["losses_mvar"]
        self.messages: list[str] = d["messages"]
        self.method: str = d["method"]
        self.solve_time_s: float = d["solve_time_s"]

    @property
    def n_scenarios(self) -> int:
        return len(self.converged)

    def names(self) -> list[tuple[str, str]]:
        return [(g, n) for g, arrays in self._d["arrays"].items() for n in arrays]

    def ids(self, group: str) -> np.ndarray:
        if group not in self._d["ids"]:
            raise KeyError(f"batch power flow result: no group '{group}' (there are {sorted(self._d['ids'])})")
        return self._d["ids"][group]

    def array(self, group: str, name: str) -> np.ndarray:
        arrays = self._d["arrays"].get(group, {})
        if name not in arrays:
            raise KeyError(f"batch power flow result: no array '{group}/{name}'")
        return arrays[name]

    def frame(self, group: str, name: str) -> pd.DataFrame:
        """`<group>/<name>` as a DataFrame: index `scenario`, one column per element id."""
        df = pd.DataFrame(self.array(group, name), columns=pd.Index(self.ids(group), name=f"{group}_id"), copy=False)
        df.index.name = "scenario"
        return df

    def __getattr__(self, attr: str):
        for g in _GROUPS:
            if attr.startswith(g + "_") and attr[len(g) + 1:] in self._d["arrays"].get(g, {}):
                return self._d["arrays"][g][attr[len(g) + 1:]]
        raise AttributeError(attr)

    def __repr__(self) -> str:
        return (f"<libgrid.PfBatchResult {self.n_scenarios} scenarios ({self.method}), "
                f"{int(np.count_nonzero(self.converged))} converged>")


def _matrix(x, what: str):
    """A 2-D float64 array (no copy when it is one already) and, for a DataFrame, its column ids."""
    if x is None:
        return None, None
    if isinstance(x, pd.DataFrame):
        return np.ascontiguousarray(x.to_numpy(dtype=np.float64, copy=False)), [int(c) for c in x.columns]
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise _libgrid.ValidationError(f"run_pf_batch: {what} must be 2-D (scenarios x loads), got shape {a.shape}")
    return np.ascontiguousarray(a), None


def run_pf_batch(core, p_mw=None, q_mvar=None, load_ids=None, method: str = "nr", threads: int = 1,
                 warm_start: bool = False, reuse_solver: bool = False, output: str | None = None,
                 linear_solver: str = "default",
                 tolerance: float = 1e-8, max_iterations: int = 30, flat_start: bool = False,
                 enforce_q_limits: bool = False, run_controls: bool = True) -> PfBatchResult:
    p, p_cols = _matrix(p_mw, "p_mw")
    q, q_cols = _matrix(q_mvar, "q_mvar")
    if load_ids is None:
        load_ids = p_cols if p_cols is not None else q_cols
        if p_cols is not None and q_cols is not None and p_cols != q_cols:
            raise _libgrid.ValidationError("run_pf_batch: p_mw and q_mvar have different columns (load ids)")
    if load_ids is not None:
        load_ids = [int(i) for i in load_ids]
    d = _libgrid.run_pf_batch(core, p, q, load_ids, method, linear_solver, tolerance, max_iterations, flat_start,
                              enforce_q_limits, run_controls, threads, warm_start, reuse_solver,
                              None if output is None else str(output))
    return PfBatchResult(d)
