"""A stepped run (issue 19): the time series advanced step by step from Python, with set points
changed between steps and the results read in memory while it goes on (co-simulation loops,
DERMS prototypes, notebooks). Made by `Simulation.start()` or `Scenario.stepped()`:

    run = libgrid.Simulation(net, devices, start="2025-03-03", horizon="1d").start()
    run.run_until("2025-03-03T12:00")
    run.set_battery_power(3, -6.0)      # kW, + discharge / - charge, from the next step on
    while not run.done:
        info = run.step()               # {step, total, time, converged, controls_settled, iterations}
    summary = run.finish()
    run.results.bus_vm()                # time x bus id (a MemoryResults)

docs/python.md "Stepping".
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .memory_results import MemoryResults
from .results import DEFAULT_TIME_UNITS, time_index


def _timestamp(seconds: int) -> pd.Timestamp:
    """Seconds since 1970-01-01 local time as the results' index labels them."""
    return time_index(np.array([seconds], dtype=np.int64), DEFAULT_TIME_UNITS)[0]


def _local_iso(time) -> str:
    """A time as the engine's local ISO 8601 text (a zone-aware time converted to the results' zone)."""
    ts = pd.Timestamp(time)
    if ts.tzinfo is not None:
        ts = ts.tz_convert(_timestamp(0).tzinfo).tz_localize(None)
    return ts.strftime("%Y-%m-%dT%H:%M:%S")


class SteppedRun:
    """A run being stepped (libgrid._libgrid.SteppedSimulation underneath). Use from one thread;
    cancel() may be called from any."""

    def __init__(self, core):
        self._core = core
        self._core.start()
        self.summary: dict = {}

    def step(self) -> dict:
        """Run the next step; returns {step, total, time (Timestamp, as the results' index),
        converged, controls_settled, iterations}."""
        info = self._core.step()
        info["time"] = _timestamp(info.pop("time_s"))
        return info

    def run_until(self, time) -> int:
        """Step while the next step starts before `time` (naive: local time; zone-aware: converted);
        returns the steps run.
        Ctrl-C raises KeyboardInterrupt after the step in progress; the run stays open."""
        return int(self._core.run_until(_local_iso(time)))

    @property
    def steps_done(self) -> int:
        return int(self._core.steps_done)

    @property
    def next_time(self) -> pd.Timestamp:
        """Local start time of the next step."""
        return _timestamp(self._core.next_time_s)

    @property
    def done(self) -> bool:
        """Every step done (or the run cancelled or finished)."""
        return bool(self._core.done)

    def set_battery_power(self, battery: int, p_kw: float) -> None:
        """Hold battery `battery`'s AC power at `p_kw` (kW, + discharge, - charge; its power and
        energy limits still apply) from the next step on; NaN gives it back to its strategy."""
        self._core.set_battery_power(int(battery), float(p_kw))

    def set_pv_limit(self, pv: int, p_max_kw: float) -> None:
        """Cap PV unit `pv`'s AC output at `p_max_kw` kW from the next step on; inf lifts the cap."""
        self._core.set_pv_limit(int(pv), float(p_max_kw))

    def set_switch(self, switch: int, closed: bool) -> None:
        """Open or close a switch at the next step (listed in /events with cause "set_point")."""
        self._core.set_switch(int(switch), bool(closed))

    def set_in_service(self, element: str, id: int, in_service: bool) -> None:
        """Take a "line", "trafo", "load", "sgen", "ext_grid", "pv" or "battery" in or out of
        service at the next step."""
        self._core.set_in_service(str(element), int(id), bool(in_service))

    def cancel(self) -> None:
        """Stop at the next step boundary (callable from another thread)."""
        self._core.cancel()

    @property
    def results(self) -> MemoryResults:
        """The results in memory (the steps done so far)."""
        return MemoryResults(self._core)

    def finish(self) -> dict:
        """End the run (bills, KPIs, the file closed); returns the summary (also self.summary)."""
        self.summary = dict(self._core.finish())
        return self.summary

    def __repr__(self) -> str:
        return f"<libgrid.SteppedRun {self.steps_done} steps done, next {self.next_time}{', done' if self.done else ''}>"
