"""Scenarios from Python: load a YAML scenario, override keys, run it, get pandas results.

    >>> sc = libgrid.Scenario.load("scenarios/melaka_smart_city.yaml")
    >>> sc.set("devices.ev.share", 0.4)          # any dotted key of the scenario file
    >>> sc.override(steps=96 * 7, seed=3)         # shortcuts: steps, seed, size, threads
    >>> res = sc.run(progress=True)               # libgrid.Results; res.summary holds the KPIs

A scenario whose network.file is an OpenDSS script (.dss) runs unbalanced (res.model == "unbalanced";
res.node_vm(phase="a"), res.vuf(); docs/unbalanced.md, "Run a .dss feeder's day").
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from typing import Any, Optional

import pandas as pd

from . import _libgrid
from .network import Network
from .results import Results, read_results

_SHORTCUTS = {"steps": "horizon.steps", "seed": "seed", "size": "network.size", "threads": "threads", "model": "network.model"}


def _yaml_value(value: Any) -> str:
    """A Python value as a YAML scalar / flow collection (JSON is valid YAML)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


class Scenario:
    """A scenario file with overrides. Keys are the YAML keys (docs/scenarios.md), dotted."""

    def __init__(self, core: "_libgrid.Scenario"):
        self._core = core

    @classmethod
    def load(cls, path: "str | os.PathLike[str]") -> "Scenario":
        return cls(_libgrid.Scenario.load(os.fspath(path)))

    @classmethod
    def parse(cls, text: str, filename: str = "<string>") -> "Scenario":
        return cls(_libgrid.Scenario.parse(text, filename))

    def set(self, key: str, value: Any) -> "Scenario":
        """Override one key (e.g. "devices.pv.share", 0.3). Raises ValidationError naming an unknown key."""
        self._core.override(key, _yaml_value(value))
        return self

    def __setitem__(self, key: str, value: Any) -> None:
        self.set(key, value)

    def override(self, **kwargs) -> "Scenario":
        """Shortcuts: steps=, seed=, size=, threads=, model=; other names are taken as top-level keys."""
        for k, v in kwargs.items():
            self.set(_SHORTCUTS.get(k, k), v)
        return self

    def copy(self) -> "Scenario":
        return Scenario(self._core.copy())

    @property
    def name(self) -> str:
        return self._core.name

    @property
    def overrides(self):
        return list(self._core.overrides)

    def to_yaml(self) -> str:
        """The effective scenario, every key explicit (what the results file stores)."""
        return self._core.to_yaml()

    def counts(self) -> dict:
        """What the scenario builds: buses, loads, PV, batteries, EV stations, ... and steps."""
        return dict(self._core.build_counts())

    @property
    def unbalanced(self) -> bool:
        """`run` is an unbalanced (three-phase) time series: the Melaka grid as built (network.model:
        unbalanced, the generator's default) or an OpenDSS script (network.file ends in .dss);
        docs/scenarios.md "network", docs/unbalanced.md."""
        return bool(self._core.unbalanced)

    @property
    def model(self) -> str:
        """network.model as resolved: "balanced" or "unbalanced"."""
        return str(self._core.model)

    def network(self):
        """The scenario's network: a Network, or an UnbalancedNetwork for a .dss network."""
        if self.unbalanced:
            from .unbalanced import UnbalancedNetwork
            return UnbalancedNetwork(self._core.unbalanced_network())
        return Network(self._core.network())

    def customers(self) -> pd.DataFrame:
        return pd.DataFrame(dict(self._core.customers())).set_index("id")

    def estimate(self) -> dict:
        """What a run needs, before running it: `steps`, `columns` (values recorded per step),
        `output_bytes` (results before compression), `output_min_bytes`, `memory_bytes` and `text`.
        `run` refuses (ValidationError) a run whose results cannot fit the output's file system or
        `outputs.max_file_gb`, or whose memory exceeds the machine's (docs/scenarios.md)."""
        return dict(self._core.estimate())

    def run(self, output: Optional[str] = None, progress: bool = False, resume: bool = False,
            model: Optional[str] = None) -> Results:
        """Build and run; results go to `output` (a temporary file if None). The KPIs are in
        `.summary` of the returned Results (read from the file) and `.run_summary` (from the run).
        Raises ValidationError, before anything is written, when `output` is one of the scenario's
        input files (the scenario, network or weather file) or the run cannot finish (see `estimate`).
        Warns (DeenergizedWarning) when part of the grid has no source.
        `resume=True` continues a killed or stopped run of this scenario from `<output>.ckpt`;
        Ctrl-C stops a run at a step boundary (file closed with the summary of the steps done,
        status "stopped") and raises KeyboardInterrupt (docs/reliability.md).
        `model="balanced"` or `"unbalanced"` runs with network.model set so (this Scenario unchanged),
        as the CLI's `libgrid run --model`."""
        if model is not None:
            return self.copy().set("network.model", str(model)).run(output, progress, resume)
        if resume and output is None:
            raise ValueError("resume=True needs the output file of the run to continue")
        if output is None:
            output = os.path.join(tempfile.mkdtemp(prefix="libgrid_"), "results.h5")
        from .simulation import _progress_bar
        summary = self._core.run(os.fspath(output), _progress_bar() if progress else None, bool(resume))
        res = read_results(output)
        res.run_summary = dict(summary)
        n = int(res.run_summary.get("deenergized_buses", 0))
        if n:
            from .network import DeenergizedWarning
            import warnings
            warnings.warn(f"scenario '{self.name}': {n} bus{'es' if n != 1 else ''} de-energised (no source in their island: "
                          "NaN voltages; the results' /summary/deenergized_buses)", DeenergizedWarning, stacklevel=2)
        return res

    def stepped(self, output: Optional[str] = None, in_memory: bool = True) -> "SteppedRun":
        """Issue 19: this scenario's run, stepped from Python: a SteppedRun (step, run_until, set
        points between steps, results in memory, finish). `output`: also write the HDF5 file."""
        from .stepping import SteppedRun
        return SteppedRun(self._core.stepped(os.fspath(output) if output else "", bool(in_memory)))

    def __repr__(self) -> str:
        o = ", ".join(f"{k}={v}" for k, v in self.overrides)
        return f"<libgrid.Scenario '{self.name}'{' with ' + o if o else ''}>"


def hosting_capacity(scenario: Scenario, kind: str = "pv", group: str = "transformer", steps: Optional[int] = None,
                     start: Optional[str] = None, window: Optional[str] = None, kw_per_customer: float = 0.0,
                     charger_kw: float = 7.0, tolerance_kw: float = 1.0, cap: str = "atap", size: Optional[str] = None,
                     overrides: Optional[dict] = None, model: Optional[str] = None) -> pd.DataFrame:
    """Hosting capacity in kW of PV or EV charging per feeder or transformer, as `libgrid hosting`:
    one row per group (index `group`) with the columns of the CLI's CSV: group_kind, customers,
    rating_kva, installed_kw (before), max_kw (installed + every customer's roof / connection limit),
    added_kw, hosting_kw (= installed_kw + added_kw), share (= hosting_kw / max_kw), tolerance_kw, hosted, limited (a grid limit
    binds), violated_without, limit (voltage_high, voltage_low, line_overload, trafo_overload,
    reverse_flow, not_converged; roof_limit / connection_limit when nothing in the grid binds),
    limit_time, limit_element, limit_value, runs; then (issue 15, unbalanced networks: the Melaka
    grid as built, a .dss file) limit_phase ("a", "b", "c"; "" for the limit "unbalance", VUF above
    limits.vuf_percent) and added_kw_a, added_kw_b, added_kw_c (the kW added per phase; NaN on a
    balanced network). Units go on their customers' phases (docs/hosting_capacity.md, "Per phase").

    PV customers get up to their roof (devices.pv.kwp_per_m2, dc_ac_ratio) and, with cap="atap",
    their Solar ATAP cap (cap="none": the roof only), or `kw_per_customer` each when > 0. The limits are the scenario's keys
    (network.lv_vmin_pu, ..., network.distribution_tap_pos, limits.loading_percent,
    limits.reverse_flow): pass them as `overrides={"network.lv_vmax_pu": 1.1}` (the CLI's --set), the grid size as
    `size`. `window`: "critical" (PV: the sunniest day's midday; EV: the first weekday 16:00-24:00)
    or "horizon"; the default is "critical" unless `steps` or `start` is given. The probed period is
    in `df.attrs` (start, step_s, n_steps, window). See docs/hosting_capacity.md."""
    sc = scenario.copy()
    if model is not None:  # issue 15: network.model, as the CLI's --model
        sc.set("network.model", str(model))
    if size is not None:
        sc.set("network.size", str(size))
    for k, v in (overrides or {}).items():
        sc.set(k, v)
    if steps is not None:
        sc.set("horizon.steps", int(steps))
    if start is not None:
        sc.set("horizon.start", str(start))
    if window is None:
        window = "horizon" if (steps is not None or start is not None) else "critical"
    d, meta = sc._core.hosting_capacity(kind, group, window, float(kw_per_customer), float(charger_kw), float(tolerance_kw), str(cap))
    d = dict(d)
    df = pd.DataFrame({c: d[c] for c in meta["columns"]}).set_index("group")
    from .results import time_index
    df["limit_time"] = [t if lim else pd.NaT for t, lim in zip(time_index(df["limit_time"].values), df["limited"])]
    df.attrs.update(start=time_index([meta["start"]])[0], step_s=int(meta["step_s"]), n_steps=int(meta["n_steps"]),
                    window=str(meta["window"]), kind=kind)
    return df
