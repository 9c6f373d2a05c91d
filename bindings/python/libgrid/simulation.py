"""Time-series simulation from Python: `libgrid.Simulation(net, devices, profiles, start, step, horizon)`.

    >>> import libgrid
    >>> net = libgrid.Network.from_json("cigre_lv.input.json")
    >>> dev = libgrid.Devices()
    >>> dev.add_pv(id=1, bus=12, kwp=5.0, customer=1)   # load 1 sits at bus 12: behind its meter
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


_SESSION_COLUMNS = ("arrival", "departure", "energy_kwh", "max_kw", "battery_kwh", "soc_arrival")


def _local_seconds(values, who: str) -> list:
    """Times as s since 1970-01-01 local: integers pass, anything else through pandas (naive = local)."""
    out = []
    for v in values:
        if isinstance(v, (int, np.integer)):
            out.append(int(v))
        else:
            try:
                t = pd.Timestamp(v)
            except (ValueError, TypeError) as e:
                raise ValueError(f"{who}: field 'sessions': not a time: {v!r}") from e
            if pd.isna(t):
                raise ValueError(f"{who}: field 'sessions': not a time: {v!r}")
            if t.tzinfo is not None:
                raise ValueError(f"{who}: field 'sessions': {v!r}: give local times without a time zone")
            out.append(int((t - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)))
    return out


def _sessions_columns(sessions, who: str):
    """Own EV sessions (a DataFrame or a list of mappings with arrival, departure, energy_kwh, max_kw,
    battery_kwh, soc_arrival) as the columns the core takes; None: generated."""
    if sessions is None:
        return None
    if not isinstance(sessions, (pd.DataFrame, list, tuple)):
        raise ValueError(f"{who}: field 'sessions': expected a DataFrame or a list of mappings "
                         f"({', '.join(_SESSION_COLUMNS)}), got {type(sessions).__name__}")
    df = sessions if isinstance(sessions, pd.DataFrame) else pd.DataFrame(list(sessions))
    missing = [c for c in _SESSION_COLUMNS if c not in df.columns]
    if missing and len(df):
        raise ValueError(f"{who}: field 'sessions': column '{missing[0]}' missing (columns: {', '.join(_SESSION_COLUMNS)})")
    extra = [c for c in df.columns if c not in _SESSION_COLUMNS]
    if extra:
        raise ValueError(f"{who}: field 'sessions': unknown column '{extra[0]}' (columns: {', '.join(_SESSION_COLUMNS)})")
    if not len(df):
        return {c: [] for c in _SESSION_COLUMNS}
    cols = {c: _local_seconds(df[c], who) for c in ("arrival", "departure")}
    for c in _SESSION_COLUMNS[2:]:
        try:
            cols[c] = [float(x) for x in df[c]]
        except (ValueError, TypeError) as e:
            raise ValueError(f"{who}: field 'sessions': column '{c}': {e}") from e
    return cols


def _checked(kind: str):
    """Checks the annotated arguments (int, float, str, bool) of a Devices.add_* before the core sees
    them: a wrong type is a ValueError naming the device and the field (not pybind11's TypeError)."""
    import functools
    import inspect

    def wrap(fn):
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def call(self, *args, **kwargs):
            bound = sig.bind(self, *args, **kwargs)
            ident = bound.arguments.get("id", bound.arguments.get("customer", bound.arguments.get("load", "")))
            who = f"{kind} {ident}".strip()
            for name, value in list(bound.arguments.items()):
                ann = sig.parameters[name].annotation
                bound.arguments[name] = _typed(who, name, value, ann)
            return fn(*bound.args, **bound.kwargs)
        return call
    return wrap


def _typed(who: str, name: str, value, ann):
    def bad(expected):
        return ValueError(f"{who}: field '{name}': expected {expected}, got {value!r}")
    if ann in (int, "int"):
        if isinstance(value, (bool, np.bool_)):
            raise bad("an integer")
        if isinstance(value, (int, np.integer)):
            return int(value)
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            return int(value)
        raise bad("an integer")
    if ann in (float, "float"):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise bad("a number")
        return float(value)
    if ann in (str, "str") and name not in ("time", "start", "end"):  # times: text or pandas Timestamps
        if not isinstance(value, str):
            raise bad("a string")
        return value
    if ann in (bool, "bool"):
        if isinstance(value, (bool, np.bool_)) or value in (0, 1):
            return bool(value)
        raise bad("True or False")
    return value


def ev_sessions(kind: str = "home", charger_kw: float = 7.0, start: str = "2025-01-01", end: str = "2026-01-01",
                seed: int = 1, station_id: int = 0, sessions_per_day: float = 1.0) -> pd.DataFrame:
    """The seeded sessions a station gets when none are given (`add_ev_station` with the same kind,
    charger_kw, start, end, seed, id and sessions_per_day): one row per session, arrival and departure
    as local times, energy_kwh (wanted into the battery), max_kw, battery_kwh, soc_arrival. Edit it
    and give it back as `sessions=`."""
    c = _libgrid.generate_ev_sessions(kind, float(charger_kw), _iso(start), _iso(end), int(seed), int(station_id),
                                      float(sessions_per_day))
    df = pd.DataFrame(c)
    for k in ("arrival", "departure"):
        df[k] = pd.Timestamp("1970-01-01") + pd.to_timedelta(df[k], unit="s")
    return df


def _iso(t) -> str:
    return str(pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%S"))


class Devices:
    """The devices of a run, in physical units. Every `add_*` returns self (chainable).

    Every field of the C++ device structs is reachable by its C++ name as a keyword (units in the
    name: kW, kWh, kWp, kVA, h, s, degC); an unknown name or a value of the wrong type raises
    libgrid.ValidationError naming the field and listing the allowed ones (docs/python.md, "Devices").

    Generator convention throughout the results: positive = injected into the grid."""

    def __init__(self):
        self._core = _libgrid.DeviceSet()

    @_checked("pv")
    def add_pv(self, id: int, bus: int, kwp: float, customer: int = -1, inverter_kva: float = 0.0,
               tilt_deg: float = 10.0, azimuth_deg: float = 180.0, control: str = "none", pf: float = 1.0,
               phases: str = "", **params):
        """PV system. control: none | fixed_pf | volt_var | volt_watt | volt_var_volt_watt (IEEE 1547-2018 Cat B).
        params: any PvParams field (devices/pv.hpp): albedo, gamma_pdc_per_c, noct_c, faiman_u0, faiman_u1,
        dc_losses, inverter_eta_nom, volt_watt, var_at_night, sky (isotropic | hay_davies), temp_model
        (noct | faiman), priority (var | watt), the curves vv_v1_pu .. vv_q4_pu and vw_v1_pu .. vw_p2_pu."""
        self._core.add_pv(id, bus, kwp, customer, inverter_kva, tilt_deg, azimuth_deg, control, pf, phases, params)
        return self

    @_checked("battery")
    def add_battery(self, id: int, bus: int, kwh: float, kw: float, customer: int = -1,
                    strategy: str = "self_consumption", peak_limit_kw: float = float("nan"),
                    soc_init: float = 0.5, schedule_kw=(), grid_forming: bool = False, droop_percent: float = 2.0,
                    outage_reserve_soc: float = 0.0, phases: str = "", **params):
        """Battery. strategy: idle | self_consumption | peak_shaving | tou_arbitrage | pv_smoothing | schedule.
        grid_forming: holds its island by droop when an outage cuts it off the grid (droop_percent: P-f
        droop; outage_reserve_soc: kept for outages while grid-connected; docs/microgrid.md).
        params: any BatteryParams field (devices/battery.hpp), e.g. eta_charge, eta_discharge, soc_min,
        soc_max, self_discharge_per_day, p_charge_kw / p_discharge_kw (each alone; kw sets both),
        peak_charge_margin_kw, tou_charge_start_h, tou_charge_end_h, tou_discharge_full_power,
        smoothing_tau_s, cycle_life_efc, end_of_life_capacity, droop_q_percent, ration_to_restoration."""
        self._core.add_battery(id, bus, kwh, kw, customer, strategy, peak_limit_kw, soc_init, [float(x) for x in schedule_kw],
                               bool(grid_forming), float(droop_percent), float(outage_reserve_soc), phases, params)
        return self

    @_checked("load profile of load")
    def add_load_profile(self, load: int, cls: str = "residential", daily_kwh: float = 14.5,
                         power_factor: float = 0.95, p_kw=(), q_kvar=()):
        """A load's profile: seeded class profile (residential | commercial | industrial) scaled to
        daily_kwh, or given kW values (one per step)."""
        self._core.add_load_profile(load, cls, daily_kwh, power_factor, [float(x) for x in p_kw],
                                    [float(x) for x in q_kvar])
        return self

    @_checked("tariff of customer")
    def set_tariff(self, customer: int, tariff: str = "domestic_general", export: str = "none", **params):
        """tariff: domestic_general | domestic_tou | non_domestic_lv | non_domestic_lv_tou; export: none | nem | atap.
        params: any Tariff field (simulation/tariff.hpp) changed from the named tariff, e.g.
        energy_sen_per_kwh, block_kwh, block_rule (whole_month | marginal), peak_start_hour, peak_end_hour,
        capacity_sen_per_kwh, network_sen_per_kwh, retail_rm_per_month, fuel_adjustment_sen_per_kwh,
        re_fund_rate, service_tax_rate, eei_bands [(up_to_kwh, sen_per_kwh)], name."""
        self._core.set_tariff(customer, tariff, export, params)
        return self

    @_checked("event on")
    def add_event(self, time: str, kind: str, element: str, id: int, duration=None, cause: str = "scheduled"):
        """kind: open | close | out_of_service | in_service; element: switch | line | trafo | ext_grid |
        load | sgen | pv | battery. duration (a pandas Timedelta, a string such as "4h", or seconds):
        the event is undone at its end (close after open, in service after out of service);
        None: it lasts (docs/resilience.md). cause: as the results' /events table says it."""
        if duration is None:
            seconds = 0
        elif isinstance(duration, (int, float)):
            seconds = int(duration)
        else:
            seconds = int(pd.Timedelta(duration).total_seconds())
        if seconds < 0:
            raise ValueError(f"add_event: duration must be >= 0, got {duration!r}")
        self._core.add_event(_iso(time), kind, element, id, seconds, cause)
        return self

    @_checked("ev station")
    def add_ev_station(self, id: int, bus: int, customer: int = -1, n_chargers: int = 1, charger_kw: float = 7.0,
                       strategy: str = "uncontrolled", connection_limit_kw: float = float("inf"),
                       kind: str = "home", sessions_per_day: float = 1.0, start: str = "2025-01-01",
                       end: str = "2026-01-01", seed: int = 1, start_delay_max_h: float = 0.0,
                       grid_limit: float = 0.9, grid_order: str = "edf", sessions=None, efficiency: float = 0.92,
                       phases: str = "", **params):
        """EV chargers. strategy: uncontrolled | delayed_off_peak | pv_following | edf | llf | round_robin |
        spread | grid_aware; kind: home | workplace | public_ac | dc_fast.
        sessions: your own sessions (a DataFrame or a list of mappings: arrival, departure (local times
        or s since 1970-01-01 local), energy_kwh (wanted into the battery), max_kw, battery_kwh,
        soc_arrival); None: seeded sessions from kind, sessions_per_day, start, end, seed (see `ev_sessions`).
        efficiency: grid <-> battery, (0, 1]: the grid gives energy_kwh / efficiency.
        start_delay_max_h: delayed_off_peak's random start delay after the peak, uniform in [0, this] h.
        grid_limit, grid_order: grid_aware's share of the feeding transformer's rating and its rule (edf | llf).
        params: any other EvStationParams field (devices/ev.hpp): v2g, v2g_min_soc, v2g_reserve_h, delay_seed.
        See docs/devices_ev_building.md."""
        who = f"ev station {id}"
        self._core.add_ev_station(id, bus, customer, n_chargers, charger_kw, strategy, connection_limit_kw, kind,
                                  sessions_per_day, _iso(start), _iso(end), seed, start_delay_max_h, grid_limit, grid_order,
                                  _sessions_columns(sessions, who), phases, dict(params, efficiency=efficiency))
        return self

    @_checked("charging site")
    def add_charging_site(self, id: int, bus: int, n_chargers: int = 1, charger_kw: float = 22.0,
                          strategy: str = "uncontrolled", connection_limit_kw: float = float("inf"),
                          kind: str = "public_ac", sessions_per_day: float = 2.0, start: str = "2025-01-01",
                          end: str = "2026-01-01", seed: int = 1, sessions=None, pv_kwp: float = 0.0,
                          battery_kwh: float = 0.0, battery_kw: float = 0.0, efficiency: float = 0.92,
                          phases: str = "", **params):
        """A public charging site: n_chargers of charger_kw, a PV canopy of pv_kwp (inverter pv_kwp kVA
        unless pv_inverter_kva) and a battery of battery_kwh / battery_kw behind one connection of
        connection_limit_kw, under one site controller (docs/devices_ev_building.md). Recorded in /ev_site.
        sessions, kind, sessions_per_day, start, end, seed, efficiency: as add_ev_station (sessions_per_day:
        the whole site's). params: export_limit_kw, battery_discharge_in_peak, battery_grid_charge_offpeak
        (ChargingSiteParams); the station's fields (v2g, v2g_min_soc, start_delay_max_s, ...);
        battery_<SimpleBattery field> (battery_eta_charge, battery_eta_discharge, battery_soc_min,
        battery_soc_max, battery_soc (initial), battery_outage_reserve_soc, battery_p_charge_max_kw, ...);
        pv_<PvParams field> (pv_tilt_deg, pv_azimuth_deg, pv_inverter_kva, pv_dc_losses, ...)."""
        who = f"charging site {id}"
        params = dict(params, efficiency=efficiency, connection_limit_kw=connection_limit_kw)
        self._core.add_charging_site(id, bus, n_chargers, charger_kw, strategy, kind, sessions_per_day, _iso(start), _iso(end),
                                     seed, _sessions_columns(sessions, who), pv_kwp, battery_kwh, battery_kw, phases, params)
        return self

    @_checked("building")
    def add_building(self, id: int, bus: int, customer: int = -1, type: str = "office", floor_area_m2: float = 0.0,
                     mode: str = "fixed", critical_share: float = 0.0, phases: str = "", **params):
        """A BEMS building (2R2C thermal model, AC) from its type's preset (terrace_house | shophouse |
        office | mall | hotel). mode: fixed | precool | demand_response | precool_and_demand_response.
        critical_share: the share of its load kept when an island sheds its customer (docs/microgrid.md).
        params: any BuildingParams field (devices/building.hpp), e.g. setpoint_c, band_k, cop_nom,
        ac_capacity_kw_th, R_ea_k_per_kw, C_mass_kwh_per_k, optimum_start_max_h, precool_offset_k,
        ac_control (proportional | on_off), solar_thermal_use (none | cooling | water_heating); the day
        schedules occupant_gains_kw, lighting_kw, plug_kw, ac_schedule, hot_water_kw as 24 values or
        {"weekday": 24 values, "weekend": 24 values}; dr_events [(start_s, end_s, setpoint_raise_k, power_cap_kw)]."""
        self._core.add_building(id, bus, customer, type, floor_area_m2, mode, critical_share, phases, params)
        return self

    @_checked("home")
    def add_home(self, id: int, bus: int, customer: int, type: str = "terrace_house", floor_area_m2: float = 0.0,
                 pv_kwp: float = 0.0, battery_kwh: float = 0.0, battery_kw: float = 0.0, ev_charger_kw: float = 0.0,
                 ev_kind: str = "home", sessions_per_day: float = 0.8, start: str = "2025-01-01", end: str = "2026-01-01",
                 seed: int = 1, sessions=None, phases: str = "", **params):
        """A home with HEMS behind customer's meter (replaces that customer's load profile; /home): the house
        (a building preset), rooftop PV of pv_kwp, a battery of battery_kwh / battery_kw, an EV charger of
        ev_charger_kw (0: no EV; sessions as add_ev_station). params: the HEMS rules precool, ev_offpeak,
        battery_from_pv, battery_discharge_in_peak, ev_v2h_in_peak (True/False); ev_<EvStationParams field>
        (ev_efficiency, ev_v2g, ...); battery_<SimpleBattery field>; pv_<PvParams field>; the house's
        BuildingParams fields by name (setpoint_c, cop_nom, ...)."""
        who = f"home {id}"
        self._core.add_home(id, bus, customer, type, floor_area_m2, pv_kwp, battery_kwh, battery_kw, ev_charger_kw, ev_kind,
                            sessions_per_day, _iso(start), _iso(end), seed, _sessions_columns(sessions, who), phases, params)
        return self

    ev_sessions = staticmethod(ev_sessions)  # libgrid.Devices.ev_sessions(...): the seeded sessions as a DataFrame

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
