"""Time-series simulation from Python: `libgrid.Simulation(net, devices, profiles, start, step, horizon)`.

    >>> import libgrid
    >>> net = libgrid.Network.from_json("cigre_lv.input.json")
    >>> dev = libgrid.Devices()
    >>> dev.add_pv(id=1, bus=12, kwp=5.0, customer=0)
    >>> sim = libgrid.Simulation(net, dev, start="2025-06-02", step="15min", horizon="7d")
    >>> res = sim.run(progress=True)           # libgrid.Results: pandas accessors
    >>> res.bus_vm().min(axis=1).plot()

One C++ call runs the whole horizon with the GIL released; results stream to HDF5 (a temporary
file unless `output` is given) and come back as a `Results` (see libgrid.results).
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
import time as _time
from typing import Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

from . import _libgrid
from .results import Results, read_results

Duration = Union[str, int, float, pd.Timedelta]

_UNITS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def parse_duration(value: Duration) -> int:
    """'15min', '1h', '7d', '1y' (365 days), 900 (seconds) or a pandas Timedelta -> seconds."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"duration {value!r}: expected whole seconds")
        return int(value)
    if isinstance(value, pd.Timedelta):
        return int(value.total_seconds())
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*", str(value))
    if not m or m.group(2).lower() not in _UNITS:
        raise ValueError(f"duration {value!r}: expected e.g. '15min', '1h', '7d', '1y' or seconds")
    return int(round(float(m.group(1)) * _UNITS[m.group(2).lower()]))


class Devices:
    """The devices of a run, in physical units. Every `add_*` returns self (chainable).

    Generator convention throughout the results: positive = injected into the grid."""

    def __init__(self):
        self._core = _libgrid.DeviceSet()

    def add_pv(self, id: int, bus: int, kwp: float, customer: int = -1, inverter_kva: float = 0.0,
               tilt_deg: float = 10.0, azimuth_deg: float = 180.0, control: str = "none", pf: float = 1.0):
        """PV system. control: none | fixed_pf | volt_var | volt_watt | volt_var_volt_watt (IEEE 1547-2018 Cat B)."""
        self._core.add_pv(id, bus, kwp, customer, inverter_kva, tilt_deg, azimuth_deg, control, pf)
        return self

    def add_battery(self, id: int, bus: int, kwh: float, kw: float, customer: int = -1,
                    strategy: str = "self_consumption", peak_limit_kw: float = float("nan"),
                    soc_init: float = 0.5, schedule_kw=(), grid_forming: bool = False, droop_percent: float = 2.0,
                    outage_reserve_soc: float = 0.0):
        """Battery. strategy: idle | self_consumption | peak_shaving | tou_arbitrage | pv_smoothing | schedule.
        grid_forming: holds its island by droop when an outage cuts it off the grid (droop_percent: P-f
        droop; outage_reserve_soc: kept for outages while grid-connected; docs/microgrid.md)."""
        self._core.add_battery(id, bus, kwh, kw, customer, strategy, peak_limit_kw, soc_init, list(schedule_kw),
                               bool(grid_forming), float(droop_percent), float(outage_reserve_soc))
        return self

    def add_load_profile(self, load: int, cls: str = "residential", daily_kwh: float = 14.5,
                         power_factor: float = 0.95, p_kw=(), q_kvar=()):
        """A load's profile: seeded class profile (residential | commercial | industrial) scaled to
        daily_kwh, or given kW values (one per step)."""
        self._core.add_load_profile(load, cls, daily_kwh, power_factor, [float(x) for x in p_kw],
                                    [float(x) for x in q_kvar])
        return self

    def set_tariff(self, customer: int, tariff: str = "domestic_general", export: str = "none"):
        """tariff: domestic_general | domestic_tou | non_domestic_lv | non_domestic_lv_tou; export: none | nem | atap."""
        self._core.set_tariff(customer, tariff, export)
        return self

    def add_event(self, time: str, kind: str, element: str, id: int, duration=None):
        """kind: open | close | out_of_service | in_service; element: switch | line | trafo | ext_grid |
        load | sgen | pv | battery. duration (a pandas Timedelta, a string such as "4h", or seconds):
        the event is undone at its end (close after open, in service after out of service);
        None: it lasts (docs/resilience.md)."""
        if duration is None:
            seconds = 0
        elif isinstance(duration, (int, float)):
            seconds = int(duration)
        else:
            seconds = int(pd.Timedelta(duration).total_seconds())
        if seconds < 0:
            raise ValueError(f"add_event: duration must be >= 0, got {duration!r}")
        self._core.add_event(str(pd.Timestamp(time).strftime("%Y-%m-%dT%H:%M:%S")), kind, element, id, seconds)
        return self

    def add_ev_station(self, id: int, bus: int, customer: int = -1, n_chargers: int = 1, charger_kw: float = 7.0,
                       strategy: str = "uncontrolled", connection_limit_kw: float = float("inf"),
                       kind: str = "home", sessions_per_day: float = 1.0, start: str = "2025-01-01",
                       end: str = "2026-01-01", seed: int = 1, start_delay_max_h: float = 0.0,
                       grid_limit: float = 0.9, grid_order: str = "edf"):
        """EV chargers with seeded sessions. strategy: uncontrolled | delayed_off_peak | pv_following |
        edf | llf | round_robin | spread | grid_aware; kind: home | workplace | public_ac | dc_fast.
        start_delay_max_h: delayed_off_peak's random start delay after the peak, uniform in [0, this] h.
        grid_limit, grid_order: grid_aware's share of the feeding transformer's rating and its rule (edf | llf).
        See docs/devices_ev_building.md."""
        self._core.add_ev_station(id, bus, customer, n_chargers, charger_kw, strategy, connection_limit_kw, kind,
                                  sessions_per_day, start, end, seed, start_delay_max_h, grid_limit, grid_order)
        return self

    def add_building(self, id: int, bus: int, customer: int = -1, type: str = "office", floor_area_m2: float = 0.0,
                     mode: str = "fixed"):
        """A BEMS building (2R2C thermal model, AC). mode: fixed | precool | demand_response."""
        self._core.add_building(id, bus, customer, type, floor_area_m2, mode)
        return self

    def __repr__(self) -> str:
        return repr(self._core)


def _progress_bar(width: int = 30):
    t0 = _time.perf_counter()

    def show(done: int, total: int) -> None:
        elapsed = _time.perf_counter() - t0
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (total - done) / rate if rate > 0 else 0.0
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} steps "
                         f"{rate:,.0f} steps/s, {left:,.1f} s left ")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()
    return show


def _dr_event(e: Mapping, i: int) -> dict:
    """A demand-response event as run_simulation takes it: times as ISO text, notice in seconds."""
    if not isinstance(e, Mapping):
        raise ValueError(f"simulation: field 'dr_events[{i}]': expected a mapping {{start, end, reduction, notice, targets}}, got {e!r}")
    out = {}
    for k, v in e.items():
        if k in ("start", "end"):
            out[k] = pd.Timestamp(v).strftime("%Y-%m-%dT%H:%M:%S")
        elif k == "notice":
            out["notice_s"] = float(parse_duration(v)) if isinstance(v, str) and not v.strip().isdigit() else float(v)
        elif k == "targets":
            out[k] = [str(t) for t in ([v] if isinstance(v, str) else v)]
        else:
            out[str(k)] = v
    return out


class Simulation:
    """A quasi-static time-series run of `net` with `devices` from `start` for `horizon` in steps of `step`.

    profiles: optional {load id: kW values per step} or a DataFrame whose columns are load ids
    (kW, one row per step); loads without one keep their nominal power unless `devices` gives them
    a class profile. partial_months: "flag" (default) or "prorate", the bills of a month the run
    covers only in part (docs/tariffs.md). load_priority ({load type: critical | essential |
    deferrable}), default_priority and secondary_control: islanded operation (docs/microgrid.md).
    comms: the meter readings through a PLC channel to the head-end, e.g. {"packet_loss": 0.1,
    "latency_median_s": 120, "latency_sigma": 0.5, "retries": 0, "retry_s": 300, "deadline_s": 86400}
    (docs/comms.md; also "hop_length_m", "concentrator_rate_per_s", "price_send_hour"; the keys not
    given keep their defaults; None or {} = no comms). dr_events: demand-response events, e.g.
    [{"start": "2025-01-13T14:00", "end": "2025-01-13T16:00", "reduction": 0.3, "notice": "1h",
    "targets": ["buildings", "homes", "chargers"]}] (docs/comms.md "Demand response through the
    channel"; as the scenario key demand_response.events).

    Place (issue 19; docs/units.md "Place"): the library assumes none. emission_factor_t_per_mwh:
    the grid's CO2 factor (None = no CO2 KPIs, co2_t NaN); default_tariff: the tariff of customers
    without their own (devices.set_tariff), e.g. "domestic_general" (None = they are not billed;
    nobody billed = no /bill and bills_rm NaN); holidays: "none" or "melaka" (public holidays of the
    peak window, bills and the emission profile); latitude_deg, longitude_deg, utc_offset_h: the
    site of the synthetic weather and the UTC offset of the local times (None = Melaka's)."""

    def __init__(self, net, devices: Optional[Devices] = None, profiles: Optional[Union[Mapping, pd.DataFrame]] = None,
                 start: str = "2025-01-01", step: Duration = "15min", horizon: Duration = "1d", seed: int = 1,
                 method: str = "auto", threads: int = 1, emission_factor_t_per_mwh: Optional[float] = None,
                 meter_interval: Duration = "15min", float32: bool = True, scenario_text: str = "",
                 partial_months: str = "flag", load_priority: Optional[Mapping[str, str]] = None,
                 default_priority: str = "essential", secondary_control: bool = True,
                 comms: Optional[Mapping[str, float]] = None, dr_events: Optional[Sequence[Mapping]] = None,
                 default_tariff: Optional[str] = None, holidays: str = "none", latitude_deg: Optional[float] = None,
                 longitude_deg: Optional[float] = None, utc_offset_h: Optional[float] = None):
        self.net = net
        self.dr_events = [_dr_event(e, i) for i, e in enumerate(dr_events or [])]
        self.comms = {str(k): float(v) for k, v in (comms or {}).items()}
        self.load_priority = {str(k): str(v) for k, v in (load_priority or {}).items()}
        self.default_priority = str(default_priority)
        self.secondary_control = bool(secondary_control)
        self.devices = devices if devices is not None else Devices()
        self.start_time = str(pd.Timestamp(start).strftime("%Y-%m-%dT%H:%M:%S"))
        self.step_s = parse_duration(step)
        horizon_s = parse_duration(horizon)
        if self.step_s <= 0 or horizon_s < self.step_s:
            raise ValueError(f"horizon ({horizon_s} s) must hold at least one step of {self.step_s} s")
        self.n_steps = horizon_s // self.step_s
        self.seed = int(seed)
        self.method = method
        self.threads = int(threads)
        self.emission = None if emission_factor_t_per_mwh is None else float(emission_factor_t_per_mwh)
        self.place = dict(default_tariff=str(default_tariff or ""), holidays=str(holidays), latitude_deg=latitude_deg,
                          longitude_deg=longitude_deg, utc_offset_h=utc_offset_h)
        self.meter_interval_s = parse_duration(meter_interval)
        self.float32 = bool(float32)
        self.scenario_text = scenario_text
        self.partial_months = partial_months
        self.summary: dict = {}
        if profiles is not None:
            items = profiles.items() if isinstance(profiles, Mapping) else profiles.items()
            for load, values in items:
                self.devices.add_load_profile(int(load), p_kw=np.asarray(values, dtype=float)[: self.n_steps])

    def start(self, output: Optional[str] = None, in_memory: bool = True) -> "SteppedRun":
        """Issue 19: begin a stepped run of this simulation (co-simulation, notebooks; docs/python.md
        "Stepping"): returns a SteppedRun with step(), run_until(time), set points between steps,
        results in memory (`.results`) and finish(). `output`: also write the HDF5 file."""
        from .stepping import SteppedRun
        core_net = getattr(self.net, "_core", self.net)
        core = _libgrid.run_simulation(
            core_net, self.devices._core, self.start_time, self.step_s, self.n_steps, self.seed, str(output or ""),
            self.method, self.threads, self.emission, self.meter_interval_s, self.float32, self.scenario_text,
            None, False, str(self.partial_months), self.load_priority, self.default_priority, self.secondary_control,
            self.comms, self.dr_events, stepped=True, in_memory=bool(in_memory), **self.place)
        return SteppedRun(core)

    def run(self, progress: bool = False, output: Optional[str] = None, resume: bool = False) -> Results:
        """Run the whole horizon; returns the results (pandas accessors). `output`: HDF5 path to keep.
        `resume=True` continues a run of the same inputs that was killed or stopped, from its
        checkpoint `<output>.ckpt` (docs/reliability.md). Ctrl-C stops the run at a step boundary,
        closes `output` with the summary of the steps done and raises KeyboardInterrupt."""
        if resume and output is None:
            raise ValueError("resume=True needs the output file of the run to continue")
        if output is None:
            output = os.path.join(tempfile.mkdtemp(prefix="libgrid_"), "results.h5")
        core_net = getattr(self.net, "_core", self.net)
        self.summary = _libgrid.run_simulation(
            core_net, self.devices._core, self.start_time, self.step_s, self.n_steps, self.seed, str(output),
            self.method, self.threads, self.emission, self.meter_interval_s, self.float32, self.scenario_text,
            _progress_bar() if progress else None, bool(resume), str(self.partial_months), self.load_priority,
            self.default_priority, self.secondary_control, self.comms, self.dr_events, **self.place)
        n = int(self.summary.get("deenergized_buses", 0))
        if n:
            import warnings
            from .network import DeenergizedWarning
            warnings.warn(f"simulation: {n} bus{'es' if n != 1 else ''} de-energised (no source in their island: NaN voltages; "
                          "the results' /summary/deenergized_buses)", DeenergizedWarning, stacklevel=2)
        return read_results(output)
