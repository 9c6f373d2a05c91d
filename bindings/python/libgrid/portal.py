"""The customer energy portal (issue 17): a local web page over one results file, read-only.

    python3 -m libgrid.portal RESULTS.h5 [--port 5000] [--host 127.0.0.1]
    libgrid portal RESULTS.h5 [--port 5000] [--host 127.0.0.1]

or from Python::

    from libgrid.portal import create_app
    app = create_app("city.h5")          # a Flask app; app.run(host="127.0.0.1", port=5000)

Pages: `/` (pick a meter id), `/customer/<id>` (interval consumption and export by day / week /
month, the bills by month under the customer's tariff and under each alternative re-billed with
`Results.rebill`, what-ifs for shifting EV charging off-peak and adding a battery, CO2), `/utility`
(meter data completeness, demand-response events, the run's KPIs). JSON: `/api/meters`,
`/api/customer/<id>/bills` (the /bill rows of that customer, in the order of /bill/month),
`/api/customer/<id>/alternatives`, `/api/customer/<id>/whatif`, `/api/customer/<id>/co2`,
`/api/utility/completeness`. Charts are SVG drawn on the server by matplotlib, inline in the page:
nothing is loaded from the internet. docs/portal.md describes every figure and assumption.

The results file is only read (h5py mode "r"). The what-ifs write a one-customer copy of the meter
series into a private temporary directory and re-bill it with the engine's billing (`_libgrid.rebill`).
"""
from __future__ import annotations

import argparse
import atexit
import functools
import html
import io
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
from typing import Any, Dict, List, Optional, Tuple

import h5py
import numpy as np
import pandas as pd

from .results import DEFAULT_TIME_UNITS, Results, _decode, time_index

__all__ = ["create_app", "PortalData", "PortalError", "main", "DEFAULT_HOST", "DEFAULT_PORT",
           "BILL_FIELDS", "EV_SHIFT_HOURS", "battery_assumptions"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000

#: the /bill columns of one customer and month, as the JSON API returns them (after "month")
BILL_FIELDS = ("total_rm", "subtotal_rm", "re_fund_rm", "service_tax_rm", "import_kwh", "export_kwh",
               "export_credit_rm", "full_month", "days_covered", "tariff", "export_scheme")

#: the ToU peak: 14:00-22:00 Monday-Friday (docs/tariffs.md)
PEAK_START_H, PEAK_END_H = 14, 22
#: the EV what-if moves each weekday's EV charging in the peak window this many hours later (14:00 -> 22:00)
EV_SHIFT_HOURS = PEAK_END_H - PEAK_START_H

#: tariffs a customer can choose between, by class (docs/tariffs.md)
TARIFF_CHOICES = {"domestic": ("domestic_general", "domestic_tou"),
                  "non_domestic": ("non_domestic_lv", "non_domestic_lv_tou")}
EXPORT_SCHEMES = ("none", "nem", "atap")
TARIFF_LABEL = {"domestic_general": "Domestic general", "domestic_tou": "Domestic ToU",
                "non_domestic_lv": "Non-domestic LV", "non_domestic_lv_tou": "Non-domestic LV ToU"}
SCHEME_LABEL = {"none": "no export credit", "nem": "NEM", "atap": "Solar ATAP"}

#: libgrid's default grid emission factor (docs/scenarios.md `emission_factor_t_per_mwh`)
DEFAULT_EMISSION_T_PER_MWH = 0.78

VIEWS = ("day", "week", "month")
_ID_RE = re.compile(r"-?[0-9]{1,40}")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

log = logging.getLogger("libgrid.portal")


class PortalError(Exception):
    """A request the portal answers with an error page / JSON message (never a traceback)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def battery_assumptions(domestic: bool, mean_daily_import_kwh: float) -> Dict[str, float]:
    """The battery of the what-if: 5 kWh / 2.5 kW for a home; for a non-domestic customer 10 % of its
    mean daily import (at least 5 kWh), at half its capacity in kW. 90 % round trip, starts empty."""
    kwh = 5.0 if domestic else max(5.0, round(0.1 * mean_daily_import_kwh, 0))
    return {"capacity_kwh": kwh, "power_kw": kwh / 2.0, "round_trip_efficiency": 0.9}


def _is_peak(index: pd.DatetimeIndex) -> np.ndarray:
    """The ToU peak (14:00-22:00 Monday-Friday) by local wall time. Public holidays are not known here:
    they count as peak days for the what-if's moves (the bills themselves treat them as off-peak)."""
    return ((index.weekday < 5) & (index.hour >= PEAK_START_H) & (index.hour < PEAK_END_H))


class PortalData:
    """What the pages show, read from one results file (read-only) and cached. Thread-safe: every
    access to the file and to the engine's re-billing holds one lock (HDF5 is not thread-safe)."""

    def __init__(self, path: "str | os.PathLike[str]"):
        self.path = os.path.abspath(os.fspath(path))
        self.res = Results(self.path)  # raises FileNotFoundError / OSError with the path
        self._lock = threading.RLock()
        self._tmp: Optional[str] = None
        with h5py.File(self.path, "r") as f:
            for p in ("/meter/id", "/meter/import_kwh", "/meter/export_kwh", "/meter/time"):
                if p not in f:
                    raise ValueError(f"results file '{self.path}': no '{p}' (the portal needs the smart-meter "
                                     "series of a `libgrid run`)")
            self.meter_ids = np.asarray(f["/meter/id"][()], dtype=np.int64)
            t = f["/meter/time"]
            self.meter_time_raw = np.asarray(t[()], dtype=np.int64)
            self.meter_units = _decode(t.attrs.get("units", DEFAULT_TIME_UNITS))
            self.interval_s = int(_decode(f["/meter"].attrs.get("interval_s", 0)) or
                                  (self.meter_time_raw[1] - self.meter_time_raw[0] if len(self.meter_time_raw) > 1 else 3600))
            self.has_bill = "/bill/id" in f
            if self.has_bill:
                g = f["/bill"]
                self.bill_ids = np.asarray(g["id"][()], dtype=np.int64)
                self.months = [_decode(m) for m in g["month"][()]]
                self.tariff_of = dict(zip(self.bill_ids.tolist(), [_decode(v) for v in g["tariff"][()]])) if "tariff" in g else {}
                self.scheme_of = dict(zip(self.bill_ids.tolist(), [_decode(v) for v in g["export_scheme"][()]])) if "export_scheme" in g else {}
                self.partial_months = _decode(g.attrs.get("partial_months", "flag"))
            else:
                self.bill_ids, self.months, self.tariff_of, self.scheme_of, self.partial_months = np.array([], np.int64), [], {}, {}, "flag"
            self.load_type: Dict[int, str] = {}
            if "/load/type" in f and "/load/id" in f:
                self.load_type = dict(zip(np.asarray(f["/load/id"][()]).tolist(), [_decode(v) for v in f["/load/type"][()]]))
            # devices behind each meter: kind -> list of (device id, customer)
            self.devices: Dict[str, List[Tuple[int, int]]] = {}
            for kind in ("pv", "battery", "ev", "home", "building"):
                if f"/{kind}/customer" in f and f"/{kind}/id" in f:
                    self.devices[kind] = list(zip(np.asarray(f[f"/{kind}/id"][()]).tolist(),
                                                  np.asarray(f[f"/{kind}/customer"][()]).tolist()))
        self.meter_col = {int(m): j for j, m in enumerate(self.meter_ids)}
        self.meter_index = time_index(self.meter_time_raw, self.meter_units).tz_localize(None)
        self.step_index = None if self.res.time is None else self.res.time.tz_localize(None)
        self.scenario = self._scenario()

    # ---- helpers ------------------------------------------------------------------------------
    def _scenario(self) -> Dict[str, Any]:
        text = self.res.scenario
        if not text:
            return {}
        try:
            import yaml
            doc = yaml.safe_load(text)
            return doc if isinstance(doc, dict) else {}
        except Exception:  # a scenario text that is not YAML: the portal shows what it can without it
            return {}

    def tmpdir(self) -> str:
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="libgrid_portal_")
            atexit.register(shutil.rmtree, self._tmp, True)
        return self._tmp

    def customer(self, raw: str) -> int:
        """A meter id from the URL: an integer that is in /meter/id, else PortalError 400 / 404."""
        if not isinstance(raw, str) or not _ID_RE.fullmatch(raw):
            shown = raw if len(raw) <= 60 else raw[:60] + "..."
            raise PortalError(400, f"meter id '{shown}': expected a whole number (a meter id of /meter/id)")
        cid = int(raw)
        if cid not in self.meter_col:
            lo, hi = int(self.meter_ids.min()), int(self.meter_ids.max())
            raise PortalError(404, f"no meter with id {cid} in this results file ({len(self.meter_ids)} meters, "
                                   f"ids {lo} .. {hi})")
        return cid

    def domestic(self, cid: int) -> bool:
        return not self.tariff_of.get(cid, "domestic_general").startswith("non_domestic")

    def tariff_class(self, cid: int) -> str:
        return "domestic" if self.domestic(cid) else "non_domestic"

    def devices_of(self, cid: int) -> Dict[str, List[int]]:
        return {k: [d for d, c in v if c == cid] for k, v in self.devices.items() if any(c == cid for _, c in v)}

    # ---- meter series -------------------------------------------------------------------------
    @functools.lru_cache(maxsize=256)
    def meter(self, cid: int) -> pd.DataFrame:
        """import_kwh, export_kwh per meter interval (time: start of the interval, local)."""
        j = self.meter_col[cid]
        with self._lock, h5py.File(self.path, "r") as f:
            imp = np.asarray(f["/meter/import_kwh"][:, j], dtype=float)
            exp = np.asarray(f["/meter/export_kwh"][:, j], dtype=float)
        n = min(len(imp), len(self.meter_index))
        return pd.DataFrame({"import_kwh": imp[:n], "export_kwh": exp[:n]}, index=self.meter_index[:n])

    def consumption(self, cid: int, view: str, date: Optional[str]) -> Dict[str, Any]:
        """The bars of one day (per interval), week (per hour) or month (per day) from `date`."""
        if view not in VIEWS:
            raise PortalError(400, f"view '{view}': expected one of {', '.join(VIEWS)}")
        m = self.meter(cid)
        first, last = m.index[0].normalize(), m.index[-1].normalize()
        if date:
            if not _DATE_RE.fullmatch(date):
                raise PortalError(400, f"date '{date[:40]}': expected YYYY-MM-DD")
            try:
                day = pd.Timestamp(date)
            except ValueError:
                raise PortalError(400, f"date '{date}': not a calendar date") from None
            if day < first or day > last:
                raise PortalError(400, f"date {date}: outside this file's meter data ({first.date()} .. {last.date()})")
        else:
            day = first
        if view == "day":
            start, end, rule, label = day, day + pd.Timedelta(days=1), None, f"{self.interval_s // 60}-minute interval"
            prev, nxt = day - pd.Timedelta(days=1), day + pd.Timedelta(days=1)
        elif view == "week":
            start = day
            end, rule, label = start + pd.Timedelta(days=7), "1h", "hour"
            prev, nxt = start - pd.Timedelta(days=7), start + pd.Timedelta(days=7)
        else:
            start = day.replace(day=1)
            end, rule, label = start + pd.offsets.MonthBegin(1), "1D", "day"
            prev, nxt = start - pd.offsets.MonthBegin(1), end
        part = m[(m.index >= start) & (m.index < end)]
        if rule:
            part = part.resample(rule).sum(min_count=1)
        return {"view": view, "start": start, "end": end, "bars": part, "per": label,
                "prev": prev if prev + (end - start) > first else None, "next": nxt if nxt <= last else None,
                "first": first, "last": last}

    # ---- bills --------------------------------------------------------------------------------
    def bills(self, cid: int) -> List[Dict[str, Any]]:
        """The customer's rows of /bill, in the order of /bill/month (what the run billed)."""
        if not self.has_bill or cid not in set(self.bill_ids.tolist()):
            raise PortalError(404, f"no bills for meter {cid} in this results file (no /bill entry)")
        j = int(np.flatnonzero(self.bill_ids == cid)[0])
        out: List[Dict[str, Any]] = []
        with self._lock, h5py.File(self.path, "r") as f:
            g = f["/bill"]
            cols = {}
            for name in BILL_FIELDS:
                if name in g and isinstance(g[name], h5py.Dataset):
                    ds = g[name]
                    if ds.ndim == 2:
                        cols[name] = np.asarray(ds[:, j], dtype=float)
                    elif ds.ndim == 1 and len(ds) == len(self.months) and name in ("full_month", "days_covered"):
                        cols[name] = np.asarray(ds[()])
        for i, month in enumerate(self.months):
            row: Dict[str, Any] = {"month": month}
            for name in BILL_FIELDS:
                if name in cols:
                    v = cols[name][i]
                    # money to the sen, kWh to the Wh: /bill may be stored as float32 (outputs.float32)
                    row[name] = (bool(v) if name == "full_month" else None if not np.isfinite(v)  # JSON has no NaN
                                 else round(float(v), 2) if name.endswith("_rm") else round(float(v), 3))
                elif name == "tariff" and cid in self.tariff_of:
                    row[name] = self.tariff_of[cid]
                elif name == "export_scheme" and cid in self.scheme_of:
                    row[name] = self.scheme_of[cid]
            out.append(row)
        return out

    @functools.lru_cache(maxsize=1024)
    def rebill(self, cid: int, tariff: str, scheme: str) -> pd.DataFrame:
        """`Results.rebill(tariff, export, customers=[cid])` of the file: the engine's bills of the same kWh."""
        from . import _libgrid
        with self._lock:
            try:
                return self.res.rebill(tariff=tariff, export=scheme, customers=[cid])
            except _libgrid.Error as err:  # e.g. a gap (NaN) in the meter's readings: the engine bills none
                raise PortalError(422, f"meter {cid} cannot be re-billed under {tariff}/{scheme}: {err}") from None

    def alternatives(self, cid: int) -> List[Dict[str, Any]]:
        """The customer's bills re-billed under each tariff of its class and each export scheme (only
        'none' and its own scheme when it never exports)."""
        if not self.has_bill:
            raise PortalError(404, f"no bills in this results file: meter {cid} cannot be re-billed")
        exports = float(self.meter(cid)["export_kwh"].sum()) > 0
        own_t, own_s = self.tariff_of.get(cid, ""), self.scheme_of.get(cid, "none")
        schemes = EXPORT_SCHEMES if exports else tuple(dict.fromkeys(("none", own_s)))
        out = []
        for t in TARIFF_CHOICES[self.tariff_class(cid)]:
            for s in schemes:
                df = self.rebill(cid, t, s)
                out.append({"tariff": t, "export_scheme": s, "current": t == own_t and s == own_s,
                            "label": f"{TARIFF_LABEL.get(t, t)}, {SCHEME_LABEL.get(s, s)}",
                            "total_rm": round(float(df["total_rm"].sum()), 2),
                            "months": [{"month": str(r.month), "total_rm": float(r.total_rm)} for r in df.itertuples()]})
        return out

    # ---- what-ifs -----------------------------------------------------------------------------
    def ev_kwh(self, cid: int) -> Optional[pd.Series]:
        """The customer's EV charging per meter interval (kWh), from /ev/p_mw and /home/ev_mw of its
        devices; None when it has no EV."""
        cols = []
        with self._lock, h5py.File(self.path, "r") as f:
            for kind, series in (("ev", "p_mw"), ("home", "ev_mw")):
                for dev, c in self.devices.get(kind, []):
                    if c == cid and f"/{kind}/{series}" in f:
                        j = int(np.flatnonzero(np.asarray(f[f"/{kind}/id"][()]) == dev)[0])
                        cols.append(np.asarray(f[f"/{kind}/{series}"][:, j], dtype=float))
        if not cols or self.step_index is None:
            return None
        p = np.nansum(np.vstack(cols), axis=0)  # MW, generator convention: charging < 0
        n = min(len(p), len(self.step_index))
        step_s = float(self.res.attrs.get("step_s", (self.step_index[1] - self.step_index[0]).total_seconds() if n > 1 else 900))
        kwh = pd.Series(np.maximum(-p[:n], 0.0) * 1000.0 * step_s / 3600.0, index=self.step_index[:n])
        by_interval = kwh.groupby(kwh.index.floor(f"{self.interval_s}s")).sum()
        return by_interval.reindex(self.meter(cid).index, fill_value=0.0)

    def _rebill_series(self, cid: int, name: str, imp: np.ndarray, exp: np.ndarray, tariff: str, scheme: str) -> pd.DataFrame:
        """Bills of modified meter series (this customer only) by the engine's re-billing: the series go
        into a one-customer copy of the file's /meter and /bill records in the portal's temp dir."""
        from . import _libgrid
        path = os.path.join(self.tmpdir(), f"whatif_{cid}_{name}.h5")
        with self._lock:
            with h5py.File(self.path, "r") as src, h5py.File(path, "w") as dst:
                g = dst.create_group("meter")
                for k, v in src["/meter"].attrs.items():
                    g.attrs[k] = v
                t = g.create_dataset("time", data=self.meter_time_raw[: len(imp)])
                for k, v in src["/meter/time"].attrs.items():
                    t.attrs[k] = v
                g.create_dataset("id", data=np.array([cid], dtype=np.int64))
                g.create_dataset("import_kwh", data=np.asarray(imp, dtype=float)[:, None])
                g.create_dataset("export_kwh", data=np.asarray(exp, dtype=float)[:, None])
                b = dst.create_group("bill")
                for k, v in src["/bill"].attrs.items():
                    b.attrs[k] = v
                b.create_dataset("id", data=np.array([cid], dtype=np.int64))
                st = h5py.string_dtype("utf-8")
                b.create_dataset("tariff", data=np.array([self.tariff_of.get(cid, tariff)], dtype=object), dtype=st)
                b.create_dataset("export_scheme", data=np.array([self.scheme_of.get(cid, scheme)], dtype=object), dtype=st)
            try:
                return Results(path).rebill(tariff=tariff, export=scheme)
            except _libgrid.Error as err:
                raise PortalError(422, f"meter {cid} cannot be re-billed under {tariff}/{scheme}: {err}") from None

    def _battery(self, cid: int, m: pd.DataFrame) -> Tuple[np.ndarray, np.ndarray, Dict[str, Any]]:
        imp = m["import_kwh"].to_numpy(dtype=float).copy()
        exp = m["export_kwh"].to_numpy(dtype=float).copy()
        days = max(1.0, len(imp) * self.interval_s / 86400.0)
        a = battery_assumptions(self.domestic(cid), float(np.nansum(imp)) / days)
        cap, h = a["capacity_kwh"], self.interval_s / 3600.0
        lim = a["power_kw"] * h
        eta = np.sqrt(a["round_trip_efficiency"])
        has_pv = float(np.nansum(exp)) > 0
        a["rule"] = ("self-consumption: charges from the exported surplus, discharges into the import" if has_pv else
                     "ToU shifting: charges from the grid 22:00-08:00, discharges into the import in the peak "
                     "(14:00-22:00 Monday-Friday)")
        peak = _is_peak(m.index)
        hours = m.index.hour
        night = (hours >= 22) | (hours < 8)
        soc = 0.0
        for k in range(len(imp)):
            if has_pv:
                if exp[k] > 0:
                    c = min(exp[k], lim, (cap - soc) / eta)
                    soc += c * eta
                    exp[k] -= c
                if imp[k] > 0:
                    d = min(imp[k], lim, soc * eta)
                    soc -= d / eta
                    imp[k] -= d
            else:
                if peak[k] and imp[k] > 0:
                    d = min(imp[k], lim, soc * eta)
                    soc -= d / eta
                    imp[k] -= d
                elif night[k] and soc < cap:
                    c = min(lim, (cap - soc) / eta)
                    soc += c * eta
                    imp[k] += c
        return imp, exp, a

    def _ev_shift(self, m: pd.DataFrame, ev: pd.Series) -> Tuple[np.ndarray, np.ndarray, float]:
        """Move the EV kWh of each peak interval EV_SHIFT_HOURS later (same power, so the charger's
        rating holds); the meter's net of a changed interval is re-split into import and export."""
        imp = m["import_kwh"].to_numpy(dtype=float)
        exp = m["export_kwh"].to_numpy(dtype=float)
        e = ev.to_numpy(dtype=float)
        peak = _is_peak(m.index)
        moved = np.where(peak, e, 0.0)
        shift = int(round(EV_SHIFT_HOURS * 3600 / self.interval_s))
        delta = -moved
        for k in np.flatnonzero(moved > 0):
            delta[min(k + shift, len(delta) - 1)] += moved[k]  # past the end of the data: the last interval
        changed = delta != 0
        net = imp - exp + delta
        new_imp = np.where(changed, np.maximum(net, 0.0), imp)
        new_exp = np.where(changed, np.maximum(-net, 0.0), exp)
        return new_imp, new_exp, float(moved.sum())

    @functools.lru_cache(maxsize=256)
    def whatif(self, cid: int) -> Dict[str, Any]:
        """EV shifting and a battery, each billed by the engine from the modified meter series under the
        customer's tariff and under the ToU tariff of its class, against the same data unmodified."""
        if not self.has_bill:
            raise PortalError(404, f"no bills in this results file: no what-if for meter {cid}")
        m = self.meter(cid)
        own_t, own_s = self.tariff_of.get(cid, "domestic_general"), self.scheme_of.get(cid, "none")
        tou = TARIFF_CHOICES[self.tariff_class(cid)][1]
        tariffs = list(dict.fromkeys((own_t, tou)))
        cases: List[Dict[str, Any]] = []

        def billed(name, imp, exp):
            return {t: round(float(self._rebill_series(cid, name, imp, exp, t, own_s)["total_rm"].sum()), 2) for t in tariffs}

        base = {t: round(float(self.rebill(cid, t, own_s)["total_rm"].sum()), 2) for t in tariffs}
        ev = self.ev_kwh(cid)
        if ev is not None and ev.sum() > 0:
            imp, exp, moved = self._ev_shift(m, ev)
            cases.append({"name": "ev_offpeak", "title": "Shift EV charging off-peak",
                          "assumes": (f"each weekday's EV charging between {PEAK_START_H}:00 and {PEAK_END_H}:00 "
                                      f"({moved:.1f} kWh in this file, of {ev.sum():.1f} kWh charged) moves "
                                      f"{EV_SHIFT_HOURS} hours later at the same power; the rest of the "
                                      "household's demand is unchanged; public holidays count as peak days here"),
                          "moved_kwh": moved, "bills_rm": billed("ev", imp, exp)})
        else:
            cases.append({"name": "ev_offpeak", "title": "Shift EV charging off-peak", "bills_rm": None,
                          "assumes": "no EV charger behind this meter in the run: nothing to shift"})
        imp, exp, a = self._battery(cid, m)
        cases.append({"name": "battery", "title": f"Add a {a['capacity_kwh']:g} kWh battery",
                      "assumes": (f"{a['capacity_kwh']:g} kWh usable, {a['power_kw']:g} kW, "
                                  f"{a['round_trip_efficiency']:.0%} round trip, empty at the start; {a['rule']}; "
                                  "no purchase or installation cost"),
                      "battery": a, "bills_rm": billed("battery", imp, exp)})
        for c in cases:
            if c["bills_rm"] is not None:
                c["saving_rm"] = {t: round(base[t] - c["bills_rm"][t], 2) for t in tariffs}
        return {"tariffs": tariffs, "export_scheme": own_s, "baseline_rm": base, "cases": cases}

    # ---- CO2 ----------------------------------------------------------------------------------
    def emission_factor(self) -> Tuple[float, str]:
        v = self.scenario.get("emission_factor_t_per_mwh")
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v), "the run's scenario (emission_factor_t_per_mwh)"
        return DEFAULT_EMISSION_T_PER_MWH, "libgrid's default (the file records no emission_factor_t_per_mwh)"

    def co2(self, cid: int) -> Dict[str, Any]:
        ef, source = self.emission_factor()
        m = self.meter(cid)
        by_month = m["import_kwh"].groupby(m.index.strftime("%Y-%m")).sum()
        return {"emission_factor_t_per_mwh": ef, "factor_source": source,
                "import_kwh": float(m["import_kwh"].sum()), "co2_kg": float(m["import_kwh"].sum()) * ef,
                "months": [{"month": k, "import_kwh": float(v), "co2_kg": float(v) * ef} for k, v in by_month.items()]}

    # ---- utility ------------------------------------------------------------------------------
    def completeness_paths(self, f: h5py.File) -> List[str]:
        """The series whose readings count as received: /headend/{import,export}_kwh when the file has
        them in /meter's shape, else /meter/{import,export}_kwh."""
        shape = f["/meter/import_kwh"].shape
        head = [p for p in ("/headend/import_kwh", "/headend/export_kwh") if p in f and f[p].shape == shape]
        return head or ["/meter/import_kwh", "/meter/export_kwh"]

    @functools.lru_cache(maxsize=1)
    def completeness_source(self) -> str:
        with self._lock, h5py.File(self.path, "r") as f:
            return ", ".join(self.completeness_paths(f))

    @functools.lru_cache(maxsize=1)
    def daily(self) -> Tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, np.ndarray]:
        """Per local day: readings present (meter x day), import and export summed over meters (kWh);
        read in blocks of rows, so a year of many meters never sits in memory at once."""
        n = len(self.meter_index)
        days = self.meter_index.normalize()
        uniq, day_of = np.unique(days.asi8, return_inverse=True)
        present = np.zeros((len(uniq), len(self.meter_ids)))
        imp_day, exp_day = np.zeros(len(uniq)), np.zeros(len(uniq))
        block = max(1, 4_000_000 // max(1, len(self.meter_ids)))
        with self._lock, h5py.File(self.path, "r") as f:
            di, de = f["/meter/import_kwh"], f["/meter/export_kwh"]
            n = min(n, di.shape[0], de.shape[0])
            # what the utility received: the head-end's view when the file has one (issue 17's
            # communication slice, docs/comms.md: /headend/import_kwh, NaN = missing), else /meter
            src = [f[p] for p in self.completeness_paths(f)]
            for k0 in range(0, n, block):
                k1 = min(n, k0 + block)
                imp = np.asarray(di[k0:k1], dtype=float)
                exp = np.asarray(de[k0:k1], dtype=float)
                d = day_of[k0:k1]
                ok = np.ones_like(imp, dtype=bool)
                for ds in src:
                    ok &= np.isfinite(np.asarray(ds[k0:k1], dtype=float))
                np.add.at(present, d, ok.astype(float))
                np.add.at(imp_day, d, np.nansum(imp, axis=1))
                np.add.at(exp_day, d, np.nansum(exp, axis=1))
        return pd.to_datetime(uniq), present, imp_day, exp_day

    def completeness(self) -> pd.DataFrame:
        """Share of each day's meter intervals with a reading (import and export both numbers), meter x
        day, from the file's /meter series. The results file holds every reading today: 1.0. A day the
        data cover only in part (the run's first or last) counts the intervals it has."""
        days, present, _, _ = self.daily()
        counts = pd.Series(1, index=self.meter_index.normalize()).groupby(level=0).sum().to_numpy(dtype=float)
        share = np.clip(present / counts[:, None], 0.0, 1.0)
        df = pd.DataFrame(share.T, index=pd.Index(self.meter_ids, name="meter"),
                          columns=pd.Index(days.strftime("%Y-%m-%d"), name="day"))
        return df

    @functools.lru_cache(maxsize=1)
    def concentrators(self) -> pd.DataFrame:
        """The PLC data concentrators of a run with comms (Results.concentrators, /comms/concentrator;
        docs/comms.md "Hops and bandwidth"), the ones with meters, least delivered first (ties by id).
        Empty without comms."""
        df = self.res.concentrators()
        df = df[df["meters"] > 0] if len(df) else df
        return df.sort_index().sort_values("delivered_share", kind="stable")
    _DR_CLASSES = (("dr", "buildings"), ("dr_home", "homes"), ("dr_ev", "EV stations"), ("dr_ev_site", "charging sites"))

    def dr_channel(self) -> List[Dict[str, Any]]:
        """Issue 17 (docs/comms.md "Demand response through the channel"): the run's demand_response
        events as the results file has them, one row per event and targeted class (`class`:
        buildings from /dr, homes from /dr_home, EV stations from /dr_ev, charging sites from
        /dr_ev_site; a class the event did not target, 0 devices, is left out): start, end as ISO
        local time, reduction, baseline/actual/requested/delivered kW, devices reached in time,
        late, never; [] when the file has no /dr."""
        tables = []
        with self._lock, h5py.File(self.path, "r") as f:
            for group, label in self._DR_CLASSES:
                if group in f and "start" in f[group]:
                    tables.append((label, {k: f[group][k][...] for k in f[group] if isinstance(f[group][k], h5py.Dataset)}))
        out = []
        epoch = pd.Timestamp("1970-01-01")
        for label, cols in tables:
            for i in range(len(cols["start"])):
                row: Dict[str, Any] = {"class": label}
                for k, v in cols.items():
                    x = v[i].item() if hasattr(v[i], "item") else v[i]
                    row[k] = None if isinstance(x, float) and not np.isfinite(x) else x
                if not row.get("devices"):
                    continue
                for k in ("start", "end"):
                    row[k] = (epoch + pd.Timedelta(seconds=int(row[k]))).strftime("%Y-%m-%dT%H:%M")
                out.append(row)
        out.sort(key=lambda r: r["start"])  # stable: the classes in the order above within an event
        return out

    def dr_events(self) -> List[Dict[str, Any]]:
        """Buildings' demand-response events of the run's scenario (devices.buildings.dr_events), with
        the buildings' mean import in the event against the same hours of the other weekdays."""
        b = ((self.scenario.get("devices") or {}).get("buildings") or {}) if isinstance(self.scenario.get("devices"), dict) else {}
        events = b.get("dr_events") or [] if isinstance(b, dict) else []
        out = []
        if not events:
            return out
        p = None
        if self.step_index is not None and "building" in self.res.groups():
            with self._lock:
                p = -self.res.series("building", "p_mw").sum(axis=1).to_numpy() * 1000.0  # kW drawn
            p = pd.Series(p, index=self.step_index[: len(p)])
        event_days = set()
        for ev in events:
            try:
                event_days.add(pd.Timestamp(str(ev.get("start", ""))).normalize())
            except (ValueError, AttributeError):
                pass
        for ev in events:
            if not isinstance(ev, dict):
                continue
            row = {"start": str(ev.get("start", "")), "end": str(ev.get("end", "")),
                   "setpoint_raise_k": ev.get("setpoint_raise_k", 2), "ac_power_cap_fraction": ev.get("ac_power_cap_fraction"),
                   "mode": b.get("mode", "precool"), "buildings": len(self.devices.get("building", [])),
                   "event_kw": None, "baseline_kw": None, "in_file": False}
            try:
                s, e = pd.Timestamp(row["start"]), pd.Timestamp(row["end"])
            except ValueError:
                out.append(row)
                continue
            if p is not None and len(p) and s >= p.index[0] and s <= p.index[-1]:
                row["in_file"] = True
                inside = p[(p.index >= s) & (p.index < e)]
                t0, t1 = s.time(), e.time()
                same = p[(p.index.weekday < 5) & ~p.index.normalize().isin(list(event_days)) &
                         (p.index.time >= t0) & (p.index.time < t1)]
                row["event_kw"] = float(inside.mean()) if len(inside) else None
                row["baseline_kw"] = float(same.mean()) if len(same) else None
            out.append(row)
        return out


# ---- charts (SVG, drawn on the server) ------------------------------------------------------------
def _svg(fig, salt: str) -> str:
    import matplotlib
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", bbox_inches="tight")
    s = buf.getvalue()
    return s[s.find("<svg"):]


def _figure(w: float = 11.0, h: float = 3.4):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(w, h))
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e5e5e5", linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def chart_consumption(c: Dict[str, Any]) -> str:
    bars = c["bars"]
    fig, ax = _figure()
    if len(bars):
        x = np.arange(len(bars))
        ax.bar(x, bars["import_kwh"].fillna(0), width=0.85, color="#2f6db5", label="import (from the grid)")
        ax.bar(x, -bars["export_kwh"].fillna(0), width=0.85, color="#e0a526", label="export (to the grid)")
        ax.axhline(0, color="#555", linewidth=0.8)
        fmt = {"day": "%H:%M", "week": "%a %d %H:00", "month": "%d %b"}[c["view"]]
        step = max(1, len(bars) // 12)
        ax.set_xticks(x[::step])
        ax.set_xticklabels([t.strftime(fmt) for t in bars.index[::step]], fontsize=8, rotation=0 if c["view"] != "week" else 30)
        ax.set_xlim(-0.6, len(bars) - 0.4)
        ax.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2)
    ax.set_ylabel(f"kWh per {c['per'].split('-minute')[0] + ' min' if 'minute' in c['per'] else c['per']}", fontsize=9)
    ax.tick_params(labelsize=8)
    return _svg(fig, "consumption")


def chart_alternatives(rows: List[Tuple[str, float, bool]]) -> str:
    fig, ax = _figure(11.0, 0.42 * len(rows) + 0.8)
    y = np.arange(len(rows))[::-1]
    vals = [r[1] for r in rows]
    ax.barh(y, vals, color=["#2f6db5" if r[2] else "#9bb8dc" for r in rows], height=0.65)
    ax.set_yticks(y)
    ax.set_yticklabels([r[0] for r in rows], fontsize=8)
    for yi, v in zip(y, vals):
        ax.text(v, yi, f"  RM {v:,.2f}", va="center", fontsize=8)
    ax.set_xlabel("RM, all months of the file", fontsize=9)
    ax.grid(axis="y", visible=False)
    ax.grid(axis="x", color="#e5e5e5", linewidth=0.8)
    ax.set_xlim(0, max(vals + [1.0]) * 1.25)
    ax.tick_params(labelsize=8)
    return _svg(fig, "alternatives")


def chart_city(data: "PortalData") -> str:
    days, _, imp, exp = data.daily()
    df = pd.DataFrame({"imp": imp, "exp": exp}, index=days)
    fig, ax = _figure(11.0, 2.8)
    x = np.arange(len(df))
    if len(df) > 62:  # a long run: filled steps, not hundreds of thin bars
        ax.fill_between(x, df["imp"] / 1000, step="mid", color="#2f6db5", linewidth=0, label="metered import")
        ax.fill_between(x, -df["exp"] / 1000, step="mid", color="#e0a526", linewidth=0, label="metered export")
        ax.set_xlim(-0.5, len(df) - 0.5)
    else:
        ax.bar(x, df["imp"] / 1000, color="#2f6db5", label="metered import")
        ax.bar(x, -df["exp"] / 1000, color="#e0a526", label="metered export")
    ax.axhline(0, color="#555", linewidth=0.8)
    step = max(1, len(df) // 12)
    ax.set_xticks(x[::step])
    ax.set_xticklabels([t.strftime("%d %b") for t in df.index[::step]], fontsize=8)
    ax.set_ylabel("MWh per day", fontsize=9)
    ax.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2)
    ax.tick_params(labelsize=8)
    return _svg(fig, "city")


# ---- HTML ---------------------------------------------------------------------------------------
CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;margin:0;background:#f4f6f9;color:#1d2733}
header{background:#1f4e79;color:#fff;padding:12px 28px;display:flex;align-items:center;gap:28px}
header a{color:#dfe9f5;text-decoration:none;font-size:15px} header a:hover{color:#fff}
header .brand{font-weight:600;font-size:18px;color:#fff}
main{max-width:1080px;margin:0 auto;padding:18px 28px 40px}
h1{font-size:24px;margin:10px 0 4px} h2{font-size:18px;margin:0 0 10px;color:#1f4e79}
.sub{color:#5a6673;margin:0 0 16px;font-size:14px}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:16px 20px;margin:14px 0}
.kpis{display:flex;gap:14px;flex-wrap:wrap}
.kpi{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:12px 18px;min-width:150px;flex:1}
.kpi .v{font-size:21px;font-weight:600;color:#1f4e79;white-space:nowrap} .kpi .l{font-size:12px;color:#5a6673}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:6px 8px;border-bottom:1px solid #e8ebef;text-align:right} th{background:#f0f3f7;font-weight:600}
th:first-child,td:first-child{text-align:left} tr.current td{background:#eef5ff;font-weight:600}
.note{font-size:12.5px;color:#5a6673;margin:8px 0 0} .tabs a{display:inline-block;padding:4px 12px;margin-right:4px;
border-radius:14px;background:#e6edf5;color:#1f4e79;text-decoration:none;font-size:13px}
.tabs a.on{background:#1f4e79;color:#fff} .nav{float:right;font-size:13px} .nav a{color:#1f4e79;margin-left:10px}
.err{border-left:5px solid #c0392b} .good{color:#1e7b34} .bad{color:#c0392b}
form input[type=text]{font-size:15px;padding:6px 10px;width:120px} form button{font-size:15px;padding:6px 14px}
.ids a{display:inline-block;min-width:44px;margin:2px;padding:3px 6px;background:#e6edf5;border-radius:4px;
text-align:center;color:#1f4e79;text-decoration:none;font-size:13px}
svg{width:100%;height:auto;display:block}
.wide{overflow-x:auto} .wide th{white-space:nowrap} .wide td:first-child{white-space:nowrap}
#alt-table{font-size:12px}
"""

e = html.escape


def _page(title: str, body: str, data: Optional[PortalData] = None) -> str:
    src = f"<span style='margin-left:auto;font-size:12px;color:#b9cce0'>{e(os.path.basename(data.path))}</span>" if data else ""
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(title)} - libgrid portal</title>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'><link rel='icon' href='data:,'><style>{CSS}</style></head><body>"
            f"<header><span class='brand'>Melaka energy portal</span><a href='/'>Meters</a>"
            f"<a href='/utility'>Utility view</a>{src}</header><main>{body}</main></body></html>")


def _rm(x: Optional[float]) -> str:
    return "-" if x is None else f"{x:,.2f}"


def _num(x: float) -> str:
    """A KPI for a tile: whole thousands with separators, else 3 significant digits."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _num_or_dash(x: float) -> str:
    """_num, or "-" for NaN (e.g. no reading delivered)."""
    return _num(float(x)) if np.isfinite(float(x)) else "-"


def _kwh(x: float) -> str:
    return f"{x:,.1f}"


def page_index(data: PortalData) -> str:
    ids = "".join(f"<a href='/customer/{int(i)}' title='{e(data.load_type.get(int(i), '').replace('_', ' '))}'>{int(i)}</a>"
                  for i in data.meter_ids)
    t0, t1 = data.meter_index[0], data.meter_index[-1]
    body = (f"<h1>Your smart meter</h1><p class='sub'>Results file {e(data.path)}: {len(data.meter_ids)} meters, "
            f"{t0:%d %b %Y} to {t1:%d %b %Y %H:%M}, {data.interval_s // 60}-minute readings.</p>"
            "<div class='card'><h2>Open a meter</h2><form method='get' action='/go'>"
            "<label>Meter id <input type='text' name='id' id='meter-id' inputmode='numeric'></label> "
            "<button type='submit' id='open'>Show</button></form></div>"
            f"<div class='card'><h2>All meters</h2><div class='ids'>{ids}</div></div>")
    return _page("Meters", body, data)


def page_error(status: int, message: str, data: Optional[PortalData] = None) -> str:
    titles = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 422: "Cannot re-bill", 500: "Internal error"}
    body = (f"<div class='card err' id='error'><h1>{status} {titles.get(status, 'Error')}</h1>"
            f"<p id='error-message'>{e(message)}</p><p><a href='/'>Pick a meter</a></p></div>")
    return _page(titles.get(status, "Error"), body, data)


def page_customer(data: PortalData, cid: int, view: str, date: Optional[str]) -> str:
    c = data.consumption(cid, view, date)
    m = data.meter(cid)
    devs = data.devices_of(cid)
    kind = data.load_type.get(cid, "")
    own_t, own_s = data.tariff_of.get(cid, ""), data.scheme_of.get(cid, "")
    dev_txt = ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in devs.items()) or "none"
    co2 = data.co2(cid)
    parts = [f"<h1>Meter {cid}</h1><p class='sub'>{e(kind.replace('_', ' ') or 'customer')}; billed under "
             f"<b>{e(TARIFF_LABEL.get(own_t, own_t) or '-')}</b>, export scheme: {e(SCHEME_LABEL.get(own_s, own_s) or '-')}; "
             f"devices behind the meter: {e(dev_txt)}.</p>"]
    bills = data.bills(cid) if data.has_bill else []
    alts = w = None
    total = sum(b["total_rm"] for b in bills)
    parts.append("<div class='kpis'>"
                 f"<div class='kpi'><div class='v'>{_kwh(m['import_kwh'].sum())} kWh</div><div class='l'>imported from the grid</div></div>"
                 f"<div class='kpi'><div class='v'>{_kwh(m['export_kwh'].sum())} kWh</div><div class='l'>exported to the grid</div></div>"
                 f"<div class='kpi'><div class='v'>RM {total:,.2f}</div><div class='l'>billed ({len(bills)} month{'s' * (len(bills) != 1)})</div></div>"
                 f"<div class='kpi'><div class='v'>{co2['co2_kg']:,.0f} kg</div><div class='l'>CO2 of the import</div></div></div>")
    # consumption
    tabs = "".join(f"<a class='{'on' if v == view else ''}' href='/customer/{cid}?view={v}&date={c['start']:%Y-%m-%d}'>{v}</a>" for v in VIEWS)
    nav = ""
    if c["prev"] is not None:
        p = max(c["prev"], c["first"])
        nav += f"<a href='/customer/{cid}?view={view}&date={p:%Y-%m-%d}'>&larr; earlier</a>"
    if c["next"] is not None:
        nav += f"<a href='/customer/{cid}?view={view}&date={c['next']:%Y-%m-%d}'>later &rarr;</a>"
    span = f"{c['start']:%a %d %b %Y}" if view == "day" else (
        f"{c['start']:%d %b} - {(c['end'] - pd.Timedelta(days=1)):%d %b %Y}" if view == "week" else f"{c['start']:%B %Y}")
    b = c["bars"]
    parts.append(f"<div class='card' id='consumption'><h2>Consumption and export <span class='nav'>{nav}</span></h2>"
                 f"<div class='tabs'>{tabs} <span class='sub' style='margin-left:8px'>{span}: import "
                 f"{_kwh(b['import_kwh'].sum())} kWh, export {_kwh(b['export_kwh'].sum())} kWh, per {e(c['per'])}</span></div>"
                 f"{chart_consumption(c)}</div>")
    # bills
    if bills:
        rows = "".join(
            f"<tr><td>{e(r['month'])}{'' if r.get('full_month', True) else ' <span class=note>(part: ' + format(r.get('days_covered', 0), 'g') + ' days)</span>'}</td>"
            f"<td>{r.get('import_kwh', 0):,.0f}</td><td>{r.get('export_kwh', 0):,.0f}</td><td>{_rm(r.get('export_credit_rm'))}</td>"
            f"<td>{_rm(r.get('subtotal_rm'))}</td><td>{_rm(r.get('re_fund_rm'))}</td><td>{_rm(r.get('service_tax_rm'))}</td>"
            f"<td class='bill-total' data-month='{e(r['month'])}'><b>{_rm(r['total_rm'])}</b></td></tr>" for r in bills)
        partial = any(not r.get("full_month", True) for r in bills)
        parts.append("<div class='card' id='bills'><h2>Your bills</h2><table id='bill-table'><tr><th>month</th><th>import kWh</th>"
                     "<th>export kWh</th><th>export credit RM</th><th>subtotal RM</th><th>KWTBB RM</th><th>service tax RM</th>"
                     f"<th>total RM</th></tr>{rows}</table><p class='note'>From the run's bills (/bill): whole kWh, every line to the sen "
                     "(docs/tariffs.md)."
                     + (" A month the file covers only in part is billed as the run billed it (" + e(data.partial_months) +
                        "): read it as what those days' kWh would cost, not as a monthly bill." if partial else "") + "</p></div>")
        try:
            alts = data.alternatives(cid)
            w = data.whatif(cid)
        except PortalError as err:  # e.g. gaps in the readings: the page shows what it can
            parts.append(f"<div class='card err' id='alternatives'><h2>Your bills under each tariff, what if</h2>"
                         f"<p id='rebill-error'>{e(err.message)}</p></div>")
            alts, w = None, None
    if bills and alts is not None:
        months = [mm["month"] for mm in alts[0]["months"]] if alts else []
        head = "".join(f"<th>{e(mm)}</th>" for mm in months)
        arows = "".join(
            f"<tr class='{'current' if a['current'] else ''}' data-tariff='{e(a['tariff'])}' data-export='{e(a['export_scheme'])}'>"
            f"<td>{e(a['label'])}{' (yours)' if a['current'] else ''}</td><td class='alt-total'><b>{a['total_rm']:,.2f}</b></td>"
            + "".join(f"<td>{mm['total_rm']:,.2f}</td>" for mm in a["months"]) + "</tr>" for a in alts)
        best = min(alts, key=lambda a: a["total_rm"]) if alts else None
        own = next((a for a in alts if a["current"]), None)
        verdict = ""
        if best and own and best["total_rm"] < own["total_rm"] - 0.005:
            verdict = (f"<p class='good'>Cheapest on the same kWh: <b>{e(best['label'])}</b>, RM {own['total_rm'] - best['total_rm']:,.2f} "
                       "less than your current choice.</p>")
        elif best and own:
            verdict = "<p class='good'>Your current tariff is already the cheapest on these kWh.</p>"
        chart = chart_alternatives([(a["label"], a["total_rm"], a["current"]) for a in alts])
        parts.append(f"<div class='card' id='alternatives'><h2>Your bills under each tariff</h2>{verdict}{chart}"
                     f"<div class='wide'><table id='alt-table'><tr><th>tariff, export scheme</th><th>total RM</th>{head}</tr>{arows}</table></div>"
                     "<p class='note'>Re-billed by libgrid's billing from the same meter readings (Results.rebill, docs/tariffs.md "
                     "\"Re-billing\"): the same kWh at each tariff. Devices that react to prices (EV delayed charging, HEMS) would "
                     "draw other kWh under another tariff; the what-ifs below move some of them.</p></div>")
        th = "".join(f"<th>{e(TARIFF_LABEL.get(t, t))}: bill RM</th><th>saving RM</th>" for t in w["tariffs"])
        wrows = "<tr><td>As metered</td>" + "".join(f"<td>{w['baseline_rm'][t]:,.2f}</td><td>-</td>" for t in w["tariffs"]) + "<td></td></tr>"
        for case in w["cases"]:
            if case["bills_rm"] is None:
                cells = "".join("<td>-</td><td>-</td>" for _ in w["tariffs"])
            else:
                cells = "".join(f"<td>{case['bills_rm'][t]:,.2f}</td><td class='{'good' if case['saving_rm'][t] > 0 else ''}'>"
                                f"{case['saving_rm'][t]:,.2f}</td>" for t in w["tariffs"])
            wrows += f"<tr data-case='{e(case['name'])}'><td>{e(case['title'])}</td>{cells}<td style='text-align:left;font-size:12px;max-width:330px'>{e(case['assumes'])}</td></tr>"
        parts.append(f"<div class='card' id='whatif'><h2>What if</h2><table id='whatif-table'><tr><th>case</th>{th}<th style='text-align:left'>"
                     f"assumes</th></tr>{wrows}</table><p class='note'>Each case changes this meter's readings as stated and bills them "
                     f"with libgrid's billing (export scheme: {e(SCHEME_LABEL.get(w['export_scheme'], w['export_scheme']))}), against "
                     "the same readings unchanged. Savings are over all the months of the file; a negative saving means the change "
                     "costs more (e.g. EV charging your own PV covered in the afternoon is bought from the grid at night).</p></div>")
    mrows = "".join(f"<tr><td>{e(r['month'])}</td><td>{r['import_kwh']:,.1f}</td><td>{r['co2_kg']:,.1f}</td></tr>" for r in co2["months"])
    parts.append(f"<div class='card' id='co2'><h2>Your CO2</h2><table><tr><th>month</th><th>import kWh</th><th>CO2 kg</th></tr>{mrows}</table>"
                 f"<p class='note'>Metered import x {co2['emission_factor_t_per_mwh']:g} tCO2/MWh ({e(co2['factor_source'])}): the grid's "
                 "average factor; exports earn no credit here, as in libgrid's co2_t (docs/tariffs.md, \"CO2\").</p></div>")
    return _page(f"Meter {cid}", "".join(parts), data)


def page_utility(data: PortalData) -> str:
    comp = data.completeness()
    per_meter = comp.mean(axis=1)
    overall = float(comp.to_numpy().mean()) if comp.size else float("nan")
    kpi = data.res.summary.get("meter_data_completeness")
    parts = ["<h1>Utility view</h1>", f"<p class='sub'>{len(data.meter_ids)} smart meters, {comp.shape[1]} days, "
             f"{data.interval_s // 60}-minute intervals.</p><div class='kpis'>"
             f"<div class='kpi'><div class='v' id='completeness'>{overall:.3f}</div><div class='l'>meter data completeness "
             f"(share of intervals read)</div></div>"
             + "".join(f"<div class='kpi'><div class='v'>{_num(data.res.summary[k])} {e(data.res.summary_units.get(k, ''))}</div>"
                       f"<div class='l'>{e(k)}</div></div>" for k in ("import_mwh", "peak_import_mw", "co2_t", "bills_rm")
                       if k in data.res.summary) + "</div>"]
    parts.append(f"<div class='card'><h2>Metered energy, whole network</h2>{chart_city(data)}</div>")
    worst = per_meter.sort_index().sort_values(kind="stable").head(10)  # the least complete; ties by meter id
    days = comp.columns.tolist()
    show_days = days[:7]
    head = "".join(f"<th>{e(d[5:])}</th>" for d in show_days)
    rows = "".join(f"<tr><td>{int(mid)}</td>" + "".join(f"<td>{comp.loc[mid, d]:.2f}</td>" for d in show_days)
                   + f"<td><b>{per_meter[mid]:.3f}</b></td></tr>" for mid in worst.index)
    source = data.completeness_source()
    src = ("The KPI meter_data_completeness of /summary is " + f"{kpi:.3f}. " if kpi is not None else "") + (
        f"Computed from {source}: a reading is there when it is a number. " + (
            "These are the head-end's data: what reached the utility." if source.startswith("/headend") else
            "The results file holds every reading the meters took (libgrid has no communication model yet), so "
            "every meter is complete; a head-end view with gaps (/headend) will fill this table."))
    parts.append(f"<div class='card' id='completeness-card'><h2>Meter data completeness</h2><table id='completeness-table'>"
                 f"<tr><th>meter</th>{head}<th>mean, all {len(days)} days</th></tr>{rows}</table>"
                 f"<p class='note'>The {len(worst)} least complete meters and the first {len(show_days)} days; every meter and day: "
                 f"<a href='/api/utility/completeness'>/api/utility/completeness</a> (JSON). {e(src)}</p></div>")
    conc = data.concentrators()
    if len(conc):  # issue 17 (H1): the PLC networks, one data concentrator per distribution transformer
        crows = "".join(
            f"<tr><td>{'source' if cid < 0 else int(cid)}</td><td>{int(r.meters)}</td><td>{int(r.max_hops)}</td>"
            f"<td>{r.delivered_share:.3f}</td><td>{_num_or_dash(r.mean_delay_s)}</td><td>{_num_or_dash(r.max_delay_s)}</td>"
            f"<td>{_num_or_dash(r.max_queue_wait_s)}</td></tr>" for cid, r in conc.iterrows())
        parts.append("<div class='card' id='concentrators'><h2>Data concentrators</h2><table id='concentrator-table'><tr>"
                     "<th>transformer</th><th>meters</th><th>max hops</th><th>delivered share</th><th>mean delay s</th>"
                     f"<th>max delay s</th><th>max queue wait s</th></tr>{crows}</table><p class='note'>One PLC network per "
                     "distribution transformer, least delivered first: the share of its meters' readings the head-end has within the "
                     "deadline, their delay after the interval's end (hops, retries, the concentrator's queue) and the longest wait "
                     "in its queue (/comms/concentrator, docs/comms.md \"Hops and bandwidth\"). JSON: "
                     "<a href='/api/utility/concentrators'>/api/utility/concentrators</a>.</p></div>")
    dc = data.dr_channel()  # issue 17 (H2): the demand_response events through the channel, from /dr
    if dc:
        fmt = lambda v, f=",.1f": "-" if v is None else format(v, f)  # noqa: E731
        crows = "".join(
            f"<tr><td>{e(r['start'])}</td><td>{e(r['end'])}</td><td>{e(r['class'])}</td><td>{fmt(r.get('reduction'), '.0%')}</td>"
            f"<td>{fmt(r.get('baseline_kw'))}</td><td>{fmt(r.get('requested_kw'))}</td><td>{fmt(r.get('delivered_kw'))}</td>"
            f"<td>{r.get('devices')}</td><td>{r.get('reached_in_time')}</td><td>{r.get('reached_late')}</td><td>{r.get('never')}</td></tr>"
            for r in dc)
        parts.append("<div class='card' id='dr-channel'><h2>Demand response through the channel</h2><table id='dr-channel-table'>"
                     "<tr><th>start</th><th>end</th><th>class</th><th>reduction</th><th>baseline kW</th><th>requested kW</th>"
                     "<th>delivered kW</th><th>devices</th><th>reached in time</th><th>late</th><th>never</th></tr>"
                     f"{crows}</table><p class='note'>The run's demand_response events as the head-end sent them (the results "
                     "file's /dr, /dr_home, /dr_ev, /dr_ev_site), one row per targeted class: a device takes part from its message's arrival; requested = reduction x max(baseline, 0) (the same "
                     "intervals of up to 5 earlier days of the same day type without an event), delivered = baseline - actual. "
                     "'-': no baseline day in the run (docs/comms.md).</p></div>")
    ev = data.dr_events()
    if ev:
        erows = "".join(
            f"<tr><td>{e(r['start'])}</td><td>{e(r['end'])}</td><td>{e(str(r['setpoint_raise_k']))} K</td>"
            f"<td>{'-' if r['ac_power_cap_fraction'] is None else e(str(r['ac_power_cap_fraction']))}</td><td>{r['buildings']}</td>"
            f"<td>{'-' if r['event_kw'] is None else format(r['event_kw'], ',.0f')}</td>"
            f"<td>{'-' if r['baseline_kw'] is None else format(r['baseline_kw'], ',.0f')}</td>"
            f"<td>{'-' if r['event_kw'] is None or not r['baseline_kw'] else format(r['baseline_kw'] - r['event_kw'], ',.0f')}</td></tr>"
            for r in ev)
        parts.append("<div class='card' id='dr'><h2>Demand-response events</h2><table><tr><th>start</th><th>end</th><th>setpoint raise</th>"
                     "<th>AC cap</th><th>buildings</th><th>mean kW in event</th><th>baseline kW</th><th>reduction kW</th></tr>"
                     f"{erows}</table><p class='note'>The buildings' (BEMS) events of the run's scenario (devices.buildings.dr_events, mode "
                     f"{e(str(ev[0]['mode']))}). Baseline: the buildings' mean import in the same clock hours of the file's weekdays without an event. "
                     "Every event reaches every building at once (no communication delay is modelled yet); '-' where the event is "
                     "outside the file.</p></div>")
    else:
        parts.append("<div class='card' id='dr'><h2>Demand-response events</h2><p id='no-dr'>None: the run's scenario has no "
                     "demand-response events (devices.buildings.dr_events).</p></div>")
    krow = "".join(f"<tr><td>{e(k)}</td><td>{v:,.6g}</td><td>{e(data.res.summary_units.get(k, ''))}</td>"
                   f"<td style='text-align:left'>{e(data.res.summary_info.get(k, {}).get('definition', ''))}</td></tr>"
                   for k, v in data.res.summary.items())
    parts.append(f"<div class='card' id='kpis'><h2>Run summary</h2><table><tr><th>KPI</th><th>value</th><th>unit</th>"
                 f"<th style='text-align:left'>definition (docs/kpis.md)</th></tr>{krow}</table></div>")
    return _page("Utility view", "".join(parts), data)


# ---- the app ------------------------------------------------------------------------------------
def create_app(path: "str | os.PathLike[str]"):
    """The portal's Flask app over one results file (opened read-only; errors name the path)."""
    from flask import Flask, jsonify, request
    from werkzeug.exceptions import HTTPException

    data = PortalData(path)
    app = Flask("libgrid.portal")
    app.config["LIBGRID_PORTAL_DATA"] = data
    app.json.sort_keys = False

    def wants_json() -> bool:
        return request.path.startswith("/api/")

    def error(status: int, message: str):
        if wants_json():
            return jsonify({"error": message, "status": status}), status
        return page_error(status, message, data), status, {"Content-Type": "text/html; charset=utf-8"}

    @app.errorhandler(PortalError)
    def _portal_error(err: PortalError):
        return error(err.status, err.message)

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        msg = {404: f"no page '{request.path[:100]}' (pages: /, /customer/<meter id>, /utility, /api/...)",
               405: f"{request.method} is not allowed here: the portal is read-only"}.get(err.code or 500, err.description or "")
        return error(err.code or 500, msg)

    @app.errorhandler(Exception)
    def _internal(err: Exception):
        log.exception("portal: internal error on %s", request.path)
        return error(500, f"internal error while answering {request.path[:100]}: {type(err).__name__}: {str(err)[:300]}")

    html_type = {"Content-Type": "text/html; charset=utf-8"}

    @app.get("/")
    def index():
        return page_index(data), 200, html_type

    @app.get("/go")
    def go():
        from flask import redirect
        raw = (request.args.get("id") or "").strip()
        cid = data.customer(raw)
        return redirect(f"/customer/{cid}", code=303)

    @app.get("/customer/<raw>")
    def customer(raw: str):
        cid = data.customer(raw)
        return page_customer(data, cid, request.args.get("view", "week"), request.args.get("date")), 200, html_type

    @app.get("/utility")
    def utility():
        return page_utility(data), 200, html_type

    @app.get("/api/meters")
    def api_meters():
        return jsonify([{"id": int(i), "type": data.load_type.get(int(i), ""), "tariff": data.tariff_of.get(int(i), ""),
                         "export_scheme": data.scheme_of.get(int(i), "")} for i in data.meter_ids])

    @app.get("/api/customer/<raw>/bills")
    def api_bills(raw: str):
        return jsonify(data.bills(data.customer(raw)))

    @app.get("/api/customer/<raw>/alternatives")
    def api_alternatives(raw: str):
        return jsonify(data.alternatives(data.customer(raw)))

    @app.get("/api/customer/<raw>/whatif")
    def api_whatif(raw: str):
        return jsonify(data.whatif(data.customer(raw)))

    @app.get("/api/customer/<raw>/co2")
    def api_co2(raw: str):
        return jsonify(data.co2(data.customer(raw)))

    @app.get("/api/utility/completeness")
    def api_completeness():
        comp = data.completeness()
        return jsonify({"days": comp.columns.tolist(),
                        "meters": [{"id": int(mid), "completeness": [float(x) for x in comp.loc[mid]]} for mid in comp.index]})

    @app.get("/api/utility/concentrators")
    def api_concentrators():
        conc = data.concentrators()
        return jsonify([{"id": int(cid), **{c: (None if not np.isfinite(float(r[c])) else float(r[c])) for c in conc.columns}}
                        for cid, r in conc.iterrows()])
    @app.get("/api/utility/dr_channel")
    def api_dr_channel():
        return jsonify(data.dr_channel())

    @app.get("/api/utility/dr_events")
    def api_dr():
        return jsonify(data.dr_events())

    return app


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="libgrid portal", description="Serve the customer energy portal over one results "
                                 "file (read-only) on a local web page (docs/portal.md).")
    ap.add_argument("results", metavar="RESULTS.h5", help="a results file written by `libgrid run`")
    ap.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    ap.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST}: this machine only)")
    a = ap.parse_args(argv)
    if not 1 <= a.port <= 65535:
        ap.error(f"--port: expected a whole number in 1..65535, got {a.port}")
    return a


def main(argv: Optional[List[str]] = None) -> int:
    a = parse_args(argv)
    try:
        import flask  # noqa: F401
    except ImportError:
        print("libgrid portal: error: needs Flask (Debian: apt-get install python3-flask; docs/portal.md)", file=sys.stderr)
        return 1
    try:
        app = create_app(a.results)
    except (OSError, ValueError, KeyError) as err:
        print(f"libgrid portal: error: {err}", file=sys.stderr)
        return 1
    if a.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"libgrid portal: warning: serving on {a.host}: anyone who can reach this address sees every meter's data",
              file=sys.stderr)
    print(f"libgrid portal: {a.results} on http://{a.host}:{a.port}/ (Ctrl-C stops it)", file=sys.stderr, flush=True)
    try:
        app.run(host=a.host, port=a.port, debug=False, use_reloader=False, threaded=True)
    except OSError as err:
        print(f"libgrid portal: error: cannot serve on {a.host}:{a.port}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
