"""The results of a stepped run kept in memory (issue 19): the same tables as `Results` (an HDF5
file), by element id and time, read while the run goes on.

    sim = libgrid.Simulation(net, devices, start="2025-03-03", horizon="1d")
    sim.start()                        # results in memory (and in `output` if given)
    sim.run_until("2025-03-03T12:00")
    sim.results.bus_vm()               # time x bus id, p.u., the steps done so far

Series names are those of the HDF5 layout (docs/results_hdf5.md); the lines and transformers of a
balanced run also have their own tables with their own ids: `series("line", "loading_percent")`,
`series("trafo", "p_loss_mw")`.
"""
from __future__ import annotations

from typing import List

import numpy as np
import pandas as pd

from .results import DEFAULT_TIME_UNITS, time_index


class MemoryResults:
    """Tables of a stepped run in memory (libgrid.Simulation.results). Each call copies the steps
    done so far into a new DataFrame."""

    def __init__(self, core):
        self._core = core

    @property
    def steps(self) -> int:
        """Steps recorded so far."""
        return int(self._core.result_steps())

    def names(self) -> List[str]:
        """Every series as "group/name" (with the derived "line/..." and "trafo/..." tables)."""
        return list(self._core.result_names())

    def ids(self, group: str) -> np.ndarray:
        """The element ids of a group, in column order."""
        return np.asarray(self._core.result_ids(group), dtype=np.int64)

    def series(self, group: str, name: str) -> pd.DataFrame:
        """`<group>/<name>` as a DataFrame: rows are the steps' local start times, columns the
        elements' ids (`df.attrs["unit"]`: its unit). A table with phases has a column MultiIndex
        (id, phase)."""
        time, ids, values, unit = self._core.result_table(group, name)
        index = time_index(time, DEFAULT_TIME_UNITS)
        if values.ndim == 3:
            columns = pd.MultiIndex.from_product([ids, ["a", "b", "c"][: values.shape[2]]], names=[group, "phase"])
            values = values.reshape(values.shape[0], -1)
        else:
            columns = pd.Index(ids, name=group)
        df = pd.DataFrame(values, index=index, columns=columns)
        df.attrs["unit"] = unit
        df.attrs["path"] = f"/{group}/{name}"
        return df

    def bus_vm(self) -> pd.DataFrame:
        """Bus voltage magnitudes, p.u.: time x bus id."""
        return self.series("bus", "vm_pu")

    def line_loading(self) -> pd.DataFrame:
        """Line loading, percent of the rating: time x line id."""
        return self.series("line", "loading_percent")

    def trafo_loading(self) -> pd.DataFrame:
        """Transformer loading, percent of the rating: time x transformer id."""
        return self.series("trafo", "loading_percent")

    def summary(self) -> dict:
        """The /summary values (written when the run finishes; empty before)."""
        return {k[len("summary/"):]: v for k, v in self._core.result_summary().items() if k.startswith("summary/")}

    def __repr__(self) -> str:
        return f"MemoryResults({self.steps} steps, {len(self.names())} series)"
