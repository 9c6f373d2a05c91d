"""Network and power-flow results as pandas tables."""
from __future__ import annotations

import functools
import warnings

import pandas as pd

from . import _libgrid

_TABLES = ("bus", "branch", "line", "trafo", "switch", "shunt", "load", "gen", "sgen", "storage", "ext_grid", "forming")


class DeenergizedWarning(UserWarning):
    """Part of the grid has no source: in-service buses in an island without an ext grid, slack bus
    or generator are de-energised (NaN voltages; docs/distribution.md, "Switches, islands")."""


def _warn_deenergized(ids, where: str, stacklevel: int = 3) -> None:
    """A DeenergizedWarning naming how many buses and the first few ids (nothing when `ids` is empty)."""
    ids = list(ids)
    if not ids:
        return
    first = ", ".join(str(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
    warnings.warn(f"{where}: {len(ids)} bus{'es' if len(ids) != 1 else ''} de-energised (no source in their island: "
                  f"NaN voltages), e.g. bus {first}", DeenergizedWarning, stacklevel=stacklevel)


def _frame(columns: dict, index: str = "id") -> pd.DataFrame:
    """A DataFrame over the column arrays as they are (no copy), indexed by `index` when present."""
    if index in columns:
        data = {k: v for k, v in columns.items() if k != index}
        return pd.DataFrame(data, index=pd.Index(columns[index], name=index), copy=False)
    return pd.DataFrame(columns, copy=False)


def schema(kind: str) -> list[dict]:
    """The schema of a component kind ("bus", "line", "trafo", "load", ...): one dict per field with
    its model `name` (the table column), JSON `key`, `unit`, `kind`, `default`, file `range`, model
    `check`, `ref`, enum `labels` and `doc`. The same list drives validation, the network JSON
    reader/writer, these tables and the docs tables (docs/network_json.md)."""
    return _libgrid.schema(kind)


class PowerFlowResult:
    """One power flow's results: `converged`, `iterations`, `losses_mw` and DataFrames `bus`,
    `gen`, `branch` (MATPOWER branches), `line`, `trafo`, `ext_grid`, `forming` (grid-forming
    sources), indexed by id, and `island` (frequency per island; docs/microgrid.md)."""

    def __init__(self, core, tables: dict):
        self._core = core
        self.converged: bool = core.converged
        self.iterations: int = core.iterations
        self.solve_time_s: float = core.solve_time_s
        self.losses_mw: float = core.losses_mw
        self.losses_mvar: float = core.losses_mvar
        self.message: str = core.message
        self.method: str = core.method
        #: ids of the in-service buses no source feeds (de-energised, NaN voltages); empty normally
        self.deenergized_buses: list = list(core.deenergized_buses)
        self._tables = tables

    # The tables become DataFrames when first read (over the result arrays, without copies): a
    # power flow whose caller reads only `converged` or one table pays for no other.
    @functools.cached_property
    def bus(self) -> pd.DataFrame:
        return _frame(self._tables["bus"])

    @functools.cached_property
    def gen(self) -> pd.DataFrame:
        return _frame(self._tables["gen"])

    @functools.cached_property
    def branch(self) -> pd.DataFrame:
        return _frame(self._tables["branch"])

    @functools.cached_property
    def line(self) -> pd.DataFrame:
        return _frame(self._tables["line"])

    @functools.cached_property
    def trafo(self) -> pd.DataFrame:
        return _frame(self._tables["trafo"])

    @functools.cached_property
    def ext_grid(self) -> pd.DataFrame:
        return _frame(self._tables["ext_grid"])

    @functools.cached_property
    def forming(self) -> pd.DataFrame:
        """Grid-forming sources (docs/microgrid.md): p_mw, q_mvar (generator convention), p_limit /
        q_limit (+1 held at the max, -1 at the min, 0 on the droop), indexed by id."""
        return _frame(self._tables["forming"])

    @functools.cached_property
    def sgen(self) -> pd.DataFrame:
        """Static generators' p_mw: p_mw * scaling, less frequency-watt curtailment in a droop island."""
        return _frame(self._tables["sgen"])

    @functools.cached_property
    def island(self) -> pd.DataFrame:
        """One row per island: its first `bus`, `n_buses`, `droop` (held by grid-forming sources),
        `collapsed` (could not be held; `cause`), `frequency_hz`, `forming_p_mw`."""
        return _frame(self._tables["island"], index="bus")

    def __repr__(self) -> str:
        state = "converged" if self.converged else "NOT converged"
        return (f"<libgrid.PowerFlowResult {state} in {self.iterations} iterations, "
                f"losses {self.losses_mw:.6f} MW>")


class Network:
    """A grid: tables in physical units (kV, MW, MVAr, km, ohm/km), ids chosen by the user.

    Read tables as DataFrames (`net.bus`, `net.line`, `net.load`, ...); change a column with
    `net.set("load", "p_mw", values)` (values in the table's row order).
    """

    def __init__(self, core: _libgrid.Network | None = None):
        self._core = core if core is not None else _libgrid.Network()

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_matpower(cls, path: str) -> "Network":
        return cls(_libgrid.Network.from_matpower(str(path)))

    @classmethod
    def from_json(cls, path: str) -> "Network":
        return cls(_libgrid.Network.from_json(str(path)))

    @classmethod
    def from_file(cls, path: str) -> "Network":
        return cls(_libgrid.Network.from_file(str(path)))

    @classmethod
    def from_dss(cls, path: str):
        """Read an OpenDSS script (.dss) into an `UnbalancedNetwork` (libgrid.unbalanced), NOT a
        `Network`: the balanced Network holds no phases, neutrals or per-phase loads, so a multi-phase
        feeder has its own model, with its own tables and `run_pf` (docs/unbalanced.md). The same as
        `libgrid.read_dss(path)`."""
        from .unbalanced import UnbalancedNetwork
        return UnbalancedNetwork.from_dss(path)

    def write(self, path: str) -> None:
        self._core.write(str(path))

    def to_matpower(self) -> str:
        return self._core.to_matpower()

    def to_json(self) -> str:
        return self._core.to_json()

    def copy(self) -> "Network":
        return Network(self._core.copy())

    def validate(self) -> None:
        self._core.validate()

    # ---- tables ---------------------------------------------------------------------------
    def table(self, kind: str) -> pd.DataFrame:
        return _frame(self._core.table(kind))

    def set(self, kind: str, column: str, values) -> None:
        self._core.set_column(kind, column, list(values) if not hasattr(values, "tolist") else values.tolist())

    def __getattr__(self, name: str):
        if name in _TABLES:
            return self.table(name)
        raise AttributeError(name)

    @property
    def name(self) -> str:
        return self._core.name

    @property
    def sn_mva(self) -> float:
        return self._core.sn_mva

    def __eq__(self, other) -> bool:
        return isinstance(other, Network) and self._core == other._core

    def __repr__(self) -> str:
        return repr(self._core)

    # ---- power flow -------------------------------------------------------------------------
    def run_pf(self, method: str = "nr", linear_solver: str = "default", tolerance: float = 1e-8,
               max_iterations: int = 30, flat_start: bool = False, enforce_q_limits: bool = False,
               run_controls: bool = True) -> PowerFlowResult:
        """Solve one power flow. `method`: "nr", "fdxb", "dc", "sweep" or "auto". Never raises on
        non-convergence (check `.converged`); raises ValidationError / IdError on bad input.
        Warns (DeenergizedWarning) when in-service buses have no source (`.deenergized_buses`)."""
        core, tables = _libgrid.run_pf(self._core, method, linear_solver, tolerance, max_iterations,
                                       flat_start, enforce_q_limits, run_controls)
        res = PowerFlowResult(core, tables)
        _warn_deenergized(res.deenergized_buses, f"power flow of '{self.name}'")
        return res

    def run_pf_batch(self, p_mw=None, q_mvar=None, load_ids=None, method: str = "nr", threads: int = 1,
                     warm_start: bool = False, reuse_solver: bool = False, output: str | None = None, **options):
        """Solve one power flow per scenario, power-grid-model style: `p_mw` / `q_mvar` are 2-D
        (scenarios x loads; numpy arrays, or DataFrames whose columns are load ids), `load_ids` the
        loads of the columns (default: every load, in table order); `None` keeps the network's
        values. The model is built once, each thread's solver analysed once. Returns a
        `PfBatchResult` of numpy arrays (scenarios x elements: `res.bus_vm_pu`,
        `res.frame("line", "loading_percent")`, ...), equal to `run_pf` per scenario and identical at
        any `threads`. `warm_start`: start each scenario from the base case's solution;
        `reuse_solver` (NR): one solver per thread (faster; equal to `run_pf` to rounding, ~1e-13,
        still identical at any `threads`). `output`:
        also write the batch to this HDF5 file. Other keywords as `run_pf` (tolerance, ...).
        Raises ValidationError for wrong shapes or NaN (naming the scenario and load), IdError for
        unknown load ids."""
        from .batch_pf import run_pf_batch
        return run_pf_batch(self._core, p_mw, q_mvar, load_ids, method=method, threads=threads,
                            warm_start=warm_start, reuse_solver=reuse_solver, output=output, **options)
