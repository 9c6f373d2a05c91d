"""The study report (issue 18, docs/report.md): one self-contained HTML file comparing a baseline run
with one or more scenario runs of the same network.

    >>> import libgrid
    >>> libgrid.report("base.h5", "city.h5", out="study.html")             # -> 'study.html'
    >>> libgrid.report("base.h5", "city.h5", "2030.h5", out="study.html", pdf="study.pdf",
    ...                title="Melaka smart city", tornado=df)

Sections: what was compared; the scenarios' assumptions (each file's scenario text: devices, shares,
tariff, horizon, seed, and what was built); the KPI table with units, boundaries and definitions
(/summary); feasibility (limits, violation counts, the worst buses and branches and when, the first
violation); energy and CO2; bills by customer class; the investment case
(`libgrid.economics.business_case`) and its tornado (`libgrid.economics.tornado`, or a DataFrame
given); key plots. Charts are inline SVG drawn by matplotlib (text kept as text), the CSS is inline:
the page loads nothing from anywhere (no script, no font, no image file). `pdf=` prints the page
with headless chromium (`chromium --headless --print-to-pdf`).

Command line: `libgrid report BASE.h5 SCENARIO.h5 [MORE.h5 ...] -o study.html [--pdf study.pdf]`
(which runs `python3 -m libgrid.report`).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import html
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import h5py
import numpy as np
import pandas as pd

from .results import Results, read_results

__all__ = ["report", "main", "ReportError", "find_chromium", "print_pdf"]

e = html.escape


class ReportError(ValueError):
    """Bad input to the report (a file, a label, an option): the message names it."""


# ---- the runs ---------------------------------------------------------------------------------------
class _Run:
    """One results file: its Results, label, scenario (text and parsed YAML)."""

    def __init__(self, path: str, label: str):
        self.path = os.fspath(path)
        try:
            self.res: Results = read_results(self.path)
        except (OSError, ValueError) as err:
            raise ReportError(str(err)) from None
        if self.res.time is None or not len(self.res.time):
            raise ReportError(f"results file '{self.path}': no /time (not a libgrid run's results file)")
        if not len(self.res.summary):
            raise ReportError(f"results file '{self.path}': no /summary KPIs (not a libgrid run's results file, "
                              "or a run that wrote nothing)")
        self.label = label
        self.text = str(self.res.attrs.get("scenario") or "")
        try:
            import yaml
            self.yaml = yaml.safe_load(self.text) if self.text else {}
            if not isinstance(self.yaml, dict):
                self.yaml = {}
        except Exception:  # noqa: BLE001 (an unreadable scenario text is shown as text, not parsed)
            self.yaml = {}
        self.unbalanced = str(self.res.attrs.get("model", "balanced")) == "unbalanced"

    @property
    def name(self) -> str:
        from .plots import _scenario_name
        return _scenario_name(self.res)

    def step_h(self) -> float:
        from .plots import _step_hours
        return _step_hours(self.res)

    def hours(self) -> float:
        return len(self.res.time) * self.step_h()

    def converged(self) -> Optional[np.ndarray]:
        """Boolean per step (/solver/converged), or None."""
        with h5py.File(self.path, "r") as f:
            if "solver/converged" not in f:
                return None
            return np.asarray(f["solver/converged"][()]).reshape(-1).astype(bool)

    def scenario_get(self, dotted: str, default=None):
        node: Any = self.yaml
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def has(self, path: str) -> bool:
        with h5py.File(self.path, "r") as f:
            return path in f


def _labels(paths: Sequence[str], labels: Optional[Sequence[str]]) -> List[str]:
    if labels is not None:
        labels = [str(x) for x in labels]
        if len(labels) != len(paths):
            raise ReportError(f"labels: {len(labels)} given for {len(paths)} results files")
        if len(set(labels)) != len(labels):
            raise ReportError(f"labels: each must differ, got {labels}")
        return labels
    out = []
    for p in paths:
        try:
            lab = _scenario_label(p)
        except (OSError, ValueError):
            lab = ""
        out.append(lab or os.path.splitext(os.path.basename(str(p)))[0])
    if len(set(out)) != len(out):  # the same scenario twice: tell them apart by file
        out = [f"{lab} ({os.path.basename(str(p))})" for lab, p in zip(out, paths)]
    if len(set(out)) != len(out):
        out = [f"{lab} #{i + 1}" for i, lab in enumerate(out)]
    return out


def _scenario_label(path) -> str:
    with h5py.File(os.fspath(path), "r") as f:
        text = f.attrs.get("scenario", "")
    text = text.decode() if isinstance(text, bytes) else str(text)
    m = re.search(r"^name: *\"?([^\"\n]+?)\"?\s*$", text, re.M)
    return m.group(1) if m else ""


# ---- formatting ----------------------------------------------------------------------------------------
def _num(x: Any, digits: Optional[int] = None) -> str:
    """A number for a table: thousands separators, decimals by magnitude; NaN / None -> '-'."""
    if x is None:
        return "-"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return e(str(x))
    if not math.isfinite(v):
        return "-" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    if digits is None:
        a = abs(v)
        digits = 0 if a >= 1000 or (a < 1e15 and v == int(v)) else 1 if a >= 100 else 2 if a >= 1 else 4 if a >= 1e-3 else 6
    return f"{v:,.{digits}f}"


def _num_u(x: Any, unit: str) -> str:
    """_num, with 4 decimals for p.u. values (1.0497 is not 1.05)."""
    return _num(x, 4) if str(unit).strip().lower() in ("p.u.", "pu") else _num(x)


def _rm(x: Any) -> str:
    return _num(x, 0)


def _pct(x: Any) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "-"
    return "-" if not math.isfinite(v) else f"{v:+.1f} %"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], cls: str = "", tid: str = "",
           row_attrs: Optional[Sequence[str]] = None) -> str:
    """An HTML table; cells are HTML already (escape before)."""
    h = "".join(f"<th>{c}</th>" for c in headers)
    body = []
    for i, r in enumerate(rows):
        attrs = f" {row_attrs[i]}" if row_attrs and row_attrs[i] else ""
        body.append(f"<tr{attrs}>" + "".join(c if c.startswith("<td") else f"<td>{c}</td>" for c in r) + "</tr>")
    idattr = f" id='{tid}'" if tid else ""
    clsattr = f" class='{cls}'" if cls else ""
    return f"<div class='wide'><table{idattr}{clsattr}><thead><tr>{h}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def _note(text: str) -> str:
    return f"<p class='note'>{text}</p>"


def _missing(what: str, why: str) -> str:
    return f"<p class='missing'>{e(what)}: not available ({e(why)}).</p>"


# ---- charts --------------------------------------------------------------------------------------------
_SVG_COUNT = [0]


def _figure(w: float = 10.5, h: float = 4.0, n: int = 1, sharey: bool = False):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(w, h), layout="constrained")
    axes = fig.subplots(1, n, sharey=sharey) if n > 1 else fig.add_subplot()
    return fig, axes


def _rasterize_heavy(fig, limit: int = 2000) -> None:
    """Long series (a year of 15-minute steps) as an inline bitmap inside the SVG, axes and text as vectors:
    keeps the page small."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    for ax in fig.axes:
        for art in list(ax.lines) + list(ax.collections):
            n = 0
            if isinstance(art, Line2D):
                n = len(art.get_xdata())
            elif isinstance(art, Collection):
                n = sum(len(p.vertices) for p in art.get_paths())
            if n > limit:
                art.set_rasterized(True)


def _svg(fig, name: str) -> str:
    """The figure as inline SVG (text as text; no XML prologue, no metadata with URLs)."""
    import matplotlib
    _SVG_COUNT[0] += 1
    _rasterize_heavy(fig)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": f"libgrid-report-{name}-{_SVG_COUNT[0]}"}):
        fig.savefig(buf, format="svg", dpi=110, bbox_inches="tight", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    s = buf.getvalue()
    s = s[s.find("<svg"):]
    s = re.sub(r"<metadata>.*?</metadata>", "", s, flags=re.S)
    s = s.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "").replace("xlink:href=", "href=")
    s = re.sub(r'\s*xmlns="http://www.w3.org/2000/svg"', "", s, count=1)
    return f"<figure class='chart' data-chart='{e(name)}'>{s}</figure>"


# ---- voltages and branches, both models -------------------------------------------------------------
_DEFAULT_BAND = {"LV": (0.94, 1.05), "MV": (0.95, 1.05), "HV": (0.95, 1.05)}


def _level(vn_kv: float) -> str:
    return "LV" if vn_kv < 1.0 else "MV" if vn_kv <= 36.0 else "HV"


def _voltages(run: _Run) -> Tuple[pd.DataFrame, pd.DataFrame, str]:
    """(vm: time x column p.u., columns: bus, name, level, vmin, vmax, phase per column, what was measured).
    Balanced: /bus/vm_pu with /bus/vmin_pu, vmax_pu. Unbalanced: each phase node's voltage phase to
    neutral (Results.node_vln_pu; to ground without /node/va_deg), the band from the scenario's
    network.{lv,mv}_v{min,max}_pu (defaults 0.94-1.05 LV, 0.95-1.05 MV), as the KPIs count them."""
    res = run.res
    ok = run.converged()
    if not run.unbalanced:
        vm = res.bus_vm()
        ids = list(vm.columns)
        vn = res.vector("bus", "vn_kv").reindex(ids).to_numpy(float)
        levels = [_level(v) for v in vn]
        names = [str(b) for b in ids]
        if "vmin_pu" in res.names("bus") and "vmax_pu" in res.names("bus"):
            lo = res.vector("bus", "vmin_pu").reindex(ids).to_numpy(float)
            hi = res.vector("bus", "vmax_pu").reindex(ids).to_numpy(float)
        else:
            lo = np.array([_band_of(run, lev)[0] for lev in levels])
            hi = np.array([_band_of(run, lev)[1] for lev in levels])
        cols = pd.DataFrame({"bus": ids, "name": names, "level": levels, "vmin": lo, "vmax": hi, "phase": ""})
        what = "bus voltage magnitude (positive sequence), p.u."
    else:
        vm, cols, what = _phase_voltages(run)
        cols["level"] = [_level(float(v)) for v in cols["vn_kv"]]
        cols["vmin"] = [_band_of(run, lv)[0] for lv in cols["level"]]
        cols["vmax"] = [_band_of(run, lv)[1] for lv in cols["level"]]
        cols = cols[["bus", "name", "level", "vmin", "vmax", "phase"]]
    data = vm.to_numpy(dtype=float)
    if ok is not None and len(ok) == data.shape[0] and not ok.all():
        data = data.copy()
        data[~ok] = np.nan
        vm = pd.DataFrame(data, index=vm.index, columns=vm.columns)
    return vm, cols, what


def _phase_voltages(run: _Run) -> Tuple[pd.DataFrame, pd.DataFrame, str]:
    """An unbalanced run's phase nodes: |V_phase - V_neutral| / V_base (phase to neutral, as the KPIs and
    Results.node_vln_pu; vectorised here: a year of a 1,000-node grid in seconds), or |V| to ground when
    the file has no /node/va_deg and the buses have neutral nodes. Columns "bus_name.phase"."""
    with h5py.File(run.path, "r") as f:
        g = f["node"]
        bus = np.asarray(g["bus"][()])
        names = np.array(list(g["bus_name"].asstr()[()]), dtype=object)
        phase = np.array(list(g["phase"].asstr()[()]), dtype=object)
        base = np.asarray(g["vbase_volts"][()], dtype=float)
        v = np.asarray(g["v_volts"][()], dtype=np.float32)
        va = np.asarray(g["va_deg"][()], dtype=np.float32) if "va_deg" in g else None
        vn = dict(zip(np.asarray(f["bus/id"][()]).tolist(), np.asarray(f["bus/vn_kv"][()], dtype=float).tolist()))
    ph = np.flatnonzero(phase != "n")
    neutral = {int(b): i for i, (b, p) in enumerate(zip(bus, phase)) if p == "n"}
    nidx = np.array([neutral.get(int(bus[i]), -1) for i in ph])
    if va is not None:
        a = np.deg2rad(va)  # float32 throughout: a year of 1,000 nodes is 35 million values
        re_, im_ = v * np.cos(a), v * np.sin(a)
        del a
        has = nidx >= 0
        dre, dim = re_[:, ph], im_[:, ph]
        dre[:, has] -= re_[:, nidx[has]]
        dim[:, has] -= im_[:, nidx[has]]
        del re_, im_
        data = np.hypot(dre, dim) / base[ph][None, :].astype(np.float32)
        what = "phase-to-neutral voltage of every phase node, p.u. (as the KPIs count it)"
    else:
        data = v[:, ph] / base[ph][None, :]
        what = ("phase node voltage to ground, p.u." if neutral else "phase node voltage, p.u.") + \
            (" (the file has no /node/va_deg for phase to neutral)" if neutral else "")
    index = run.res.time[: data.shape[0]]
    labels = [f"{names[i]}.{phase[i]}" for i in ph]
    vm = pd.DataFrame(data.astype(float, copy=False), index=index, columns=pd.Index(labels, name="node"))
    cols = pd.DataFrame({"bus": bus[ph], "name": names[ph], "phase": phase[ph],
                         "vn_kv": [vn.get(int(b), np.nan) for b in bus[ph]]})
    return vm, cols, what


def _row_quantiles(d: np.ndarray, pcts: Sequence[float]) -> np.ndarray:
    """Percentiles of each row (nearest rank on the sorted row; NaN left out), shape (len(pcts), rows):
    one sort instead of numpy's percentile per quantile, which takes a minute on a year."""
    s = np.sort(d.astype(np.float32), axis=1)  # NaN last
    n = np.isfinite(s).sum(axis=1)
    out = np.full((len(pcts), d.shape[0]), np.nan)
    rows = np.arange(d.shape[0])
    ok = n > 0
    for i, p in enumerate(pcts):
        k = np.clip(np.rint(p / 100.0 * (n - 1)).astype(int), 0, None)
        out[i, ok] = s[rows[ok], k[ok]]
    return out


def _band_of(run: _Run, level: str) -> Tuple[float, float]:
    key = "lv" if level == "LV" else "mv"
    lo = run.scenario_get(f"network.{key}_vmin_pu", _DEFAULT_BAND[level][0])
    hi = run.scenario_get(f"network.{key}_vmax_pu", _DEFAULT_BAND[level][1])
    return float(lo), float(hi)


def _branches(run: _Run) -> pd.DataFrame:
    """One row per /branch column: kind, label, rated (kVA for a transformer, else '' text), from/to bus."""
    res = run.res
    with h5py.File(run.path, "r") as f:
        g = f["branch"]
        kind = [x.decode() if isinstance(x, bytes) else str(x) for x in g["kind"][()]]
        ids = np.asarray(g["id"][()])
        elem = np.asarray(g["element_id"][()]) if "element_id" in g else None
        names = list(g["name"].asstr()[()]) if "name" in g else None
        kva = np.asarray(g["rated_kva"][()], dtype=float) if "rated_kva" in g else None
        amps = np.asarray(g["rated_amps"][()], dtype=float) if "rated_amps" in g else None
        fb = np.asarray(g["from_bus"][()]) if "from_bus" in g else np.full(len(ids), -1)
        tb = np.asarray(g["to_bus"][()]) if "to_bus" in g else np.full(len(ids), -1)
    if kva is None and amps is not None:  # unbalanced: a transformer's rated winding-1 phase current x its kV
        vn = res.vector("bus", "vn_kv")
        kva = np.array([a * float(vn.get(int(b), np.nan)) * math.sqrt(3.0) if k == "trafo" else np.nan
                        for a, b, k in zip(amps, fb, kind)])
    rows = []
    for j in range(len(ids)):
        ident = str(int(elem[j])) if elem is not None else (names[j] if names is not None else str(int(ids[j])))
        rated = kva[j] if kva is not None else np.nan
        label = f"{kind[j]} {ident}"
        if kind[j] == "trafo" and np.isfinite(rated):
            label += f" ({rated:,.0f} kVA)"
        rows.append({"kind": kind[j], "element": ident, "label": label, "rated_kva": rated,
                     "rated_amps": amps[j] if amps is not None else np.nan, "from_bus": int(fb[j]), "to_bus": int(tb[j])})
    return pd.DataFrame(rows, index=pd.Index(ids, name="branch"))


def _loading_limit(run: _Run) -> float:
    with h5py.File(run.path, "r") as f:
        v = f["branch"].attrs.get("loading_limit_percent") if "branch" in f else None
    if v is not None:
        try:
            return float(v.decode() if isinstance(v, bytes) else v)
        except ValueError:
            pass
    return float(run.scenario_get("limits.loading_percent", 100.0))


def _loading(run: _Run) -> pd.DataFrame:
    df = run.res.series("branch", "loading_percent")
    ok = run.converged()
    if ok is not None and len(ok) == len(df) and not ok.all():
        df = df.where(pd.Series(ok, index=df.index), axis=0)
    return df


def _when(index, i) -> str:
    t = index[int(i)]
    try:
        return pd.Timestamp(t).tz_localize(None).strftime("%Y-%m-%d %H:%M") if pd.Timestamp(t).tzinfo else pd.Timestamp(t).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(t)


# ---- the report ---------------------------------------------------------------------------------------
class _Report:
    def __init__(self, runs: List[_Run], title: str, economics: Any, tornado: Any, plots: bool):
        self.runs = runs
        self.base = runs[0]
        self.scen = runs[1:]
        self.title = title
        self.economics_kw = economics
        self.tornado_arg = tornado
        self.with_plots = plots
        self.notes: List[str] = []
        self.cases: Dict[str, Any] = {}
        self.case_errors: Dict[str, str] = {}
        self._vcache: Dict[str, Any] = {}

    # -- helpers
    def loading(self, run: _Run) -> pd.DataFrame:
        key = "loading:" + run.path
        if key not in self._vcache:
            self._vcache[key] = _loading(run)
        return self._vcache[key]

    def volt(self, run: _Run):
        if run.path not in self._vcache:
            self._vcache[run.path] = _voltages(run)
        return self._vcache[run.path]

    def section(self, sid: str, title: str, fn) -> str:
        try:
            body = fn()
        except ReportError:  # the caller's input (a tornado table, an option): an error, not a gap in the page
            raise
        except (KeyError, ValueError, OSError) as err:
            body = _missing(title, str(err).strip("'\""))
        return f"<section id='{sid}'><h2>{e(title)}</h2>{body}</section>"

    # -- 1. what was compared
    def s_compared(self) -> str:
        from .plots import run_title
        rows = []
        for i, r in enumerate(self.runs):
            t = r.res.time
            wall = t.tz_localize(None) if t.tz is not None else t
            role = "baseline" if i == 0 else "scenario"
            a = r.res.attrs
            rows.append([f"<b>{e(r.label)}</b>", role, e(os.path.basename(r.path)), e(r.name), e(str(a.get("network", ""))),
                         e(str(a.get("model", "balanced"))), f"{wall[0]:%Y-%m-%d %H:%M} .. {wall[-1]:%Y-%m-%d %H:%M}",
                         f"{len(t):,} x {r.step_h() * 60:g} min ({r.hours() / 24:,.1f} days)", e(str(a.get("seed", ""))),
                         e(str(a.get("status", ""))), e(str(a.get("libgrid_version", "")))])
        text = ("<p class='lead'>What changes when the city goes from the <b>baseline</b> to the <b>scenario"
                f"{'s' if len(self.scen) > 1 else ''}</b>: " + ", ".join(f"<b>{e(r.label)}</b>" for r in self.scen) +
                f" against <b>{e(self.base.label)}</b>. Every figure below is read from the results files "
                "(the HDF5 files `libgrid run` writes); money from libgrid's business case.</p>")
        nets = {str(r.res.attrs.get("network", "")) for r in self.runs}
        warn = ""
        if len(nets) > 1:
            warn = _note("<b>Warning:</b> the files are not of the same network (" + ", ".join(e(n) for n in sorted(nets)) +
                         "): differences mix the network and the scenario.")
        spans = {(len(r.res.time), r.res.time[0]) for r in self.runs}
        if len(spans) > 1:
            warn += _note("<b>Note:</b> the runs cover different periods: energies and bills are the runs' totals, "
                          "not annualised; the business case annualises (see its notes).")
        head = ["run", "role", "file", "scenario", "network", "model", "period (Melaka time)", "steps", "seed", "status", "libgrid"]
        return text + _table(head, rows, tid="runs") + warn + _note(e(run_title([r.res for r in self.runs])))

    # -- headline (NPV, payback) for the summary
    def headline(self) -> str:
        cards = []
        for r in self.scen:
            bc = self.cases.get(r.label)
            if bc is None:
                continue
            st = getattr(bc, "stakeholders", None)
            if st is None or not len(st):
                continue
            row = st.loc["city"] if "city" in st.index else st.iloc[-1]
            who = "city" if "city" in st.index else str(st.index[-1])
            years = getattr(bc, "project_years", None)
            pay = row.get("simple_payback_years", np.nan)
            cards.append(
                f"<div class='kpi' data-scenario='{e(r.label)}'><div class='l'>{e(r.label)} vs {e(self.base.label)}: NPV, {e(who)}"
                f"{f' ({int(years)} years)' if years else ''}</div><div class='v headline-npv' data-value='{float(row['npv_rm'])!r}'>"
                f"RM {_rm(row['npv_rm'])}</div><div class='l'>capex RM {_rm(row.get('capex_rm', np.nan))} · payback "
                f"{_num(pay, 1) + ' years' if np.isfinite(float(pay)) else 'not within the project'} · IRR "
                f"{_irr(row.get('irr', np.nan))}</div></div>")
        for r in self.scen:
            for k, unit, lab in (("co2_t", "t", "CO2 of the imports"), ("bills_rm", "RM", "customers' bills"),
                                 ("import_mwh", "MWh", "import at the substation")):
                a, b = self.base.res.summary.get(k, np.nan), r.res.summary.get(k, np.nan)
                if np.isfinite(a) and np.isfinite(b):
                    cards.append(f"<div class='kpi'><div class='l'>{e(lab)}, {e(r.label)}</div><div class='v'>{_num(b)} {unit}</div>"
                                 f"<div class='l'>{_num(b - a)} {unit} ({_pct((b - a) / abs(a) * 100 if a else np.nan)}) vs baseline</div></div>")
        return f"<div class='kpis'>{''.join(cards)}</div>" if cards else ""

    # -- 2. assumptions
    def s_assumptions(self) -> str:
        skip = {"outputs", "solver", "threads"}
        flat: Dict[str, Dict[str, str]] = {}
        order: List[str] = []
        for r in self.runs:
            for k, v in _flatten(r.yaml):
                if k.split(".")[0] in skip:
                    continue
                if k not in flat:
                    flat[k] = {}
                    order.append(k)
                flat[k][r.label] = v
        diff, same = [], []
        for k in order:
            vals = [flat[k].get(r.label, "-") for r in self.runs]
            (diff if len(set(vals)) > 1 else same).append([f"<code>{e(k)}</code>"] + [e(v) for v in vals])
        built = self.as_built()
        head = ["setting"] + [e(r.label) for r in self.runs]
        out = ("<p>Each run's scenario as the results file records it (root attribute <code>scenario</code>: every key "
               "explicit, defaults included; output and solver settings left out), and what the run built from it.</p>")
        out += "<h3>What was built (from the results files)</h3>" + built
        out += (f"<h3>The settings that differ ({len(diff)})</h3>" +
                (_table(head, diff, tid="assumptions-table", row_attrs=["class='differs'"] * len(diff)) if diff else
                 _note("None: the runs have the same scenario settings.")))
        out += (f"<details><summary>The settings the runs share ({len(same)})</summary>" +
                _table(head, same, tid="shared-settings-table") + "</details>")
        for r in self.runs:
            out += (f"<details><summary>The scenario text of {e(r.label)} ({e(os.path.basename(r.path))})</summary>"
                    f"<pre>{e(r.text or '(the file records no scenario)')}</pre></details>")
        return out

    def as_built(self) -> str:
        items = [("customers (meters)", lambda r: _count(r, "meter")),
                 ("PV units (kWp DC)", lambda r: _count_size(r, "pv", "kwp_dc")),
                 ("batteries (kWh)", lambda r: _count_size(r, "battery", "e_kwh")),
                 ("EV stations (home chargers)", lambda r: _count_size(r, "ev", "n_chargers", "chargers")),
                 ("public charging sites (chargers)", lambda r: _count_size(r, "ev_site", "n_chargers", "chargers")),
                 ("charging-site PV (kWp) / battery (kWh)", lambda r: _site_extras(r)),
                 ("BEMS buildings (floor area m2)", lambda r: _count_size(r, "building", "floor_area_m2", "m2")),
                 ("HEMS homes (PV kWp, battery kWh)", lambda r: _homes(r)),
                 ("customers by tariff", lambda r: _by(r, "tariff")),
                 ("customers by export scheme", lambda r: _by(r, "export_scheme")),
                 ("emission factor (co2_t)", lambda r: _factor(r, "co2_t"))]
        rows = []
        for name, fn in items:
            vals = []
            for r in self.runs:
                try:
                    vals.append(e(fn(r)))
                except (KeyError, ValueError, OSError):
                    vals.append("-")
            rows.append([e(name)] + vals)
        return _table(["asset / setting"] + [e(r.label) for r in self.runs], rows, tid="built-table")

    # -- 3. KPIs
    def s_kpis(self) -> str:
        from .plots import compare_kpis
        df = compare_kpis({r.label: r.res for r in self.runs}, change=len(self.runs) > 1)
        info: Dict[str, Dict[str, str]] = {}
        for r in reversed(self.runs):
            info.update(r.res.summary_info)
        order = ["substation", "customer_meters", "city", "network", "run", ""]
        groups: Dict[str, List[str]] = {}
        for k in df.index:
            groups.setdefault(info.get(k, {}).get("boundary", ""), []).append(k)
        out = ("<p>Every KPI of the runs' <code>/summary</code>, by <b>boundary</b> (where it is measured: docs/kpis.md), "
               "with its unit and definition as the file records them; the change is each scenario minus the baseline.</p>")
        base = self.base.label
        for b in sorted(groups, key=lambda x: order.index(x) if x in order else len(order)):
            keys = [k for k in groups[b] if np.isfinite(df.loc[k, [r.label for r in self.runs]].to_numpy(float)).any()]
            if not keys:
                continue
            head = ["KPI", "unit", e(base)]
            for r in self.scen:
                head += [e(r.label), "change", "change %"]
            head.append("definition")
            rows, attrs = [], []
            for k in keys:
                u = df.loc[k, "unit"]
                row = [f"<code>{e(k)}</code>", e(u), f"<td class='num' data-run='{e(base)}'>{_num_u(df.loc[k, base], u)}</td>"]
                for r in self.scen:
                    row.append(f"<td class='num' data-run='{e(r.label)}'>{_num_u(df.loc[k, r.label], u)}</td>")
                    d = df.loc[k, f"{r.label} - {base}"]
                    pc = df.loc[k, f"{r.label} change %"]
                    row.append(_num_u(d, u))
                    row.append(_pct(pc) if d != 0 else "0")
                defin = info.get(k, {}).get("definition", "")
                row.append(f"<td class='def'>{e(defin)}</td>")
                rows.append(row)
                attrs.append(f"data-kpi='{e(k)}'")
            out += f"<h3>{e(b or 'other')}</h3>" + _table(head, rows, cls="kpi-table", row_attrs=attrs)
        return out

    # -- 4. feasibility
    def s_feasibility(self) -> str:
        out = ("<p>The limits each run was checked against, how often they were broken, and where and when: the "
               "buses with the lowest and highest voltages and the most loaded branches over the run (converged steps), "
               "and the first violation the run recorded (<code>/summary/first_violation</code>).</p>")
        # limits
        rows = []
        for r in self.runs:
            vm, cols, what = self.volt(r)
            bands = cols.groupby("level")[["vmin", "vmax"]].agg(["min", "max"])
            txt = "; ".join(f"{lev} {bands.loc[lev, ('vmin', 'min')]:g}-{bands.loc[lev, ('vmax', 'max')]:g} p.u."
                            for lev in sorted(bands.index, key=["HV", "MV", "LV"].index))
            lim = _loading_limit(r)
            vuf = r.res.summary.get("vuf_limit_percent", np.nan)
            rows.append([e(r.label), e(txt), f"{lim:g} %", (f"{vuf:g} %" if np.isfinite(vuf) else "-"), e(what)])
        out += "<h3>Limits</h3>" + _table(["run", "voltage band", "loading limit (lines, transformers)", "voltage unbalance",
                                             "voltage measured"], rows, tid="limits-table")
        # counts
        keys = [("voltage_violation_hours", "h"), ("voltage_violation_bus_steps", ""), ("min_vm_pu", "p.u."),
                ("max_vm_pu", "p.u."), ("overloaded_branch_steps", ""), ("max_line_loading_percent", "%"),
                ("max_trafo_loading_percent", "%"), ("vuf_bus_steps_over_limit_percent", "%"), ("max_vuf_percent", "%"),
                ("non_converged_steps", ""), ("deenergized_buses", "")]
        rows = []
        for k, unit in keys:
            vals = [r.res.summary.get(k, np.nan) for r in self.runs]
            if not any(np.isfinite(v) for v in vals):
                continue
            rows.append([f"<code>{e(k)}</code>", e(unit)] + [_num_u(v, unit) for v in vals])
        out += "<h3>Violations</h3>" + _table(["KPI", "unit"] + [e(r.label) for r in self.runs], rows, tid="violations-table")
        # first violation
        rows = []
        for r in self.runs:
            rows.append([e(r.label)] + _first_violation(r))
        out += "<h3>First violation</h3>" + _table(["run", "when (Melaka)", "kind", "element", "value", "phase"], rows,
                                                   tid="first-violation-table")
        # worst buses and branches
        for r in self.runs:
            out += f"<h3>Where and when: {e(r.label)}</h3>" + self.worst_buses(r) + self.worst_branches(r)
        return out

    def worst_buses(self, r: _Run, n: int = 5) -> str:
        vm, cols, _ = self.volt(r)
        data = vm.to_numpy(dtype=float)
        dt = r.step_h()
        lo = cols["vmin"].to_numpy(float)
        hi = cols["vmax"].to_numpy(float)
        with np.errstate(invalid="ignore"):
            below = data < lo[None, :]
            above = data > hi[None, :]
        bus = cols["bus"].to_numpy()
        rows = []
        ub = pd.unique(bus)
        per = []
        with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
            __import__("warnings").simplefilter("ignore", RuntimeWarning)
            colmin = np.nanmin(data, axis=0)
            colmax = np.nanmax(data, axis=0)
        for b in ub:
            idx = np.flatnonzero(bus == b)
            if not np.isfinite(colmin[idx]).any():
                continue
            jmin = idx[int(np.nanargmin(colmin[idx]))]
            jmax = idx[int(np.nanargmax(colmax[idx]))]
            per.append({"bus": b, "name": cols["name"].iloc[jmin], "level": cols["level"].iloc[jmin],
                        "band": f"{lo[jmin]:g}-{hi[jmin]:g}", "min": colmin[jmin], "tmin": int(np.nanargmin(data[:, jmin])),
                        "pmin": cols["phase"].iloc[jmin], "max": colmax[jmax], "tmax": int(np.nanargmax(data[:, jmax])),
                        "pmax": cols["phase"].iloc[jmax], "below_h": below[:, idx].any(axis=1).sum() * dt,
                        "above_h": above[:, idx].any(axis=1).sum() * dt})
        df = pd.DataFrame(per)
        if df.empty:
            return _missing("bus voltages", "no energised bus")
        pick = pd.concat([df.nsmallest(n, "min"), df.nlargest(n, "max")]).drop_duplicates("bus")
        for _, p in pick.iterrows():
            name = p["name"] if str(p["name"]) != str(p["bus"]) else ""
            rows.append([f"{int(p['bus'])}" + (f" ({e(str(name))})" if name else ""), e(p["level"]), e(p["band"]),
                         f"{p['min']:.4f}" + (f" ({e(p['pmin'])})" if p["pmin"] else ""), _when(vm.index, p["tmin"]),
                         _num(p["below_h"], 2), f"{p['max']:.4f}" + (f" ({e(p['pmax'])})" if p["pmax"] else ""),
                         _when(vm.index, p["tmax"]), _num(p["above_h"], 2)])
        head = ["bus", "level", "band (p.u.)", "lowest |V| (phase)", "when", "hours below band", "highest |V| (phase)", "when",
                "hours above band"]
        return (f"<p class='sub'>The {n} buses with the lowest and the {n} with the highest voltage of the run "
                f"({len(ub):,} buses).</p>" + _table(head, rows, cls="worst-buses", tid=f"worst-buses-{_slug(r.label)}"))

    def worst_branches(self, r: _Run, n: int = 8) -> str:
        load = self.loading(r)
        br = _branches(r).reindex(load.columns)
        lim = _loading_limit(r)
        data = load.to_numpy(dtype=float)
        with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
            __import__("warnings").simplefilter("ignore", RuntimeWarning)
            mx = np.nanmax(data, axis=0)
            over = (data > lim).sum(axis=0) * r.step_h()
        order = [j for j in np.argsort(-np.nan_to_num(mx, nan=-np.inf)) if np.isfinite(mx[j])][:n]
        rows = []
        for j in order:
            b = br.iloc[j]
            rows.append([e(b["label"]), e(b["kind"]), f"{mx[j]:.1f}", _when(load.index, int(np.nanargmax(data[:, j]))),
                         _num(over[j], 2)])
        trafo = br["kind"].to_numpy() == "trafo"
        over_n = int(((mx > lim) & np.isfinite(mx)).sum())
        return (f"<p class='sub'>The {len(order)} most loaded of {load.shape[1]:,} branches ({int(trafo.sum())} transformers); "
                f"{over_n} went above the {lim:g} % limit at some step.</p>" +
                _table(["branch", "kind", "highest loading (%)", "when", f"hours above {lim:g} %"], rows,
                       cls="worst-branches", tid=f"worst-branches-{_slug(r.label)}"))

    # -- 5. energy and CO2
    def s_energy(self) -> str:
        keys = ["import_mwh", "export_mwh", "peak_import_mw", "meter_import_mwh", "meter_export_mwh", "pv_mwh", "pv_behind_meter_mwh",
                "pv_self_consumed_mwh", "pv_curtailed_mwh", "load_mwh", "ev_charging_mwh", "battery_discharged_mwh", "losses_mwh",
                "co2_t", "co2_avoided_export_t"]
        rows, attrs = [], []
        for k in keys:
            vals = [r.res.summary.get(k, np.nan) for r in self.runs]
            if not any(np.isfinite(v) for v in vals):
                continue
            unit = next((r.res.summary_units.get(k, "") for r in self.runs if k in r.res.summary_units), "")
            defin = next((r.res.summary_info.get(k, {}).get("definition", "") for r in self.runs if k in r.res.summary_info), "")
            row = [f"<code>{e(k)}</code>", e(unit), _num(vals[0])]
            for v in vals[1:]:
                row += [_num(v), _num(v - vals[0]) if np.isfinite(v) and np.isfinite(vals[0]) else "-"]
            row.append(f"<td class='def'>{e(defin)}</td>")
            rows.append(row)
            attrs.append(f"data-kpi='{e(k)}'")
        head = ["quantity", "unit", e(self.base.label)]
        for r in self.scen:
            head += [e(r.label), "change"]
        head.append("definition")
        factors = []
        for r in self.runs:
            f1, f2 = _factor(r, "co2_t"), _factor(r, "co2_avoided_export_t")
            net = r.res.summary.get("co2_t", np.nan) - r.res.summary.get("co2_avoided_export_t", 0.0)
            factors.append([e(r.label), e(f1), e(f2), _num(net)])
        out = _table(head, rows, tid="energy-table", row_attrs=attrs)
        out += "<h3>Emission factors</h3>" + _table(["run", "co2_t: factor of the imports", "co2_avoided_export_t: factor of the exports",
                                                    "net: co2_t - co2_avoided_export_t (t)"], factors, tid="co2-table")
        if self.with_plots:
            out += self.chart_monthly_energy()
        return out

    def chart_monthly_energy(self) -> str:
        from .plots import energy_balance
        n = len(self.runs)
        fig, axes = _figure(10.5, 3.6 if n <= 2 else 3.2, n=n, sharey=True)
        axes = np.atleast_1d(axes)
        comps = {"grid import": "tab:blue", "PV": "gold", "battery discharge": "tab:green",
                 "load": "tab:gray", "EV charging": "tab:purple", "battery charge": "tab:olive", "grid export": "tab:cyan",
                 "losses": "tab:red"}
        for ax, r in zip(axes, self.runs):
            bal = energy_balance(r.res) * r.step_h()
            bal.index = bal.index.tz_localize(None) if bal.index.tz is not None else bal.index
            parts = pd.DataFrame({
                "grid import": bal["grid"].clip(lower=0), "PV": bal["pv"], "battery discharge": bal["battery"].clip(lower=0),
                "load": bal["load"], "EV charging": bal["ev"], "battery charge": bal["battery"].clip(upper=0),
                "grid export": bal["grid"].clip(upper=0), "losses": bal["losses"]})
            per = "MS" if r.hours() > 24 * 62 else ("W-MON" if r.hours() > 24 * 14 else "D")
            m = parts.resample(per).sum()
            x = np.arange(len(m))
            up, down = np.zeros(len(m)), np.zeros(len(m))
            for c, col in comps.items():
                v = m[c].to_numpy(float)
                if not np.any(np.abs(v) > 1e-9):
                    continue
                pos = v > 0
                bottom = np.where(pos, up, down)
                ax.bar(x, v, bottom=bottom, color=col, width=0.8, label=c)
                up = np.where(pos, up + v, up)
                down = np.where(pos, down, down + v)
            ax.axhline(0, color="black", lw=0.8)
            fmt = "%b" if per == "MS" else "%d %b"
            step = max(1, len(m) // 12)
            ax.set_xticks(x[::step])
            ax.set_xticklabels([t.strftime(fmt) for t in m.index[::step]], fontsize=7, rotation=0 if per == "MS" else 45)
            ax.set_title(r.label, fontsize=9)
            ax.tick_params(labelsize=7)
            ax.grid(axis="y", color="#e5e5e5", lw=0.6)
        unit = {"MS": "month", "W-MON": "week", "D": "day"}[per]
        axes[0].set_ylabel(f"MWh per {unit} (sources up, sinks down)", fontsize=8)
        handles, labs = [], []
        for ax in axes:
            for h, l in zip(*ax.get_legend_handles_labels()):
                if l not in labs:
                    handles.append(h)
                    labs.append(l)
        axes[-1].legend(handles, labs, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
        return _svg(fig, "energy-balance")

    # -- 6. bills
    def s_bills(self) -> str:
        from .plots import customer_bills
        frames = {}
        for r in self.runs:
            b = customer_bills(r.res)
            frames[r.label] = (b, _classes(r, b.index))
        base_b, base_c = frames[self.base.label]
        classes = base_c.copy()
        for lab, (b, c) in frames.items():
            classes = classes.combine_first(c)
        order = sorted(set(classes), key=lambda c: -float(base_b.groupby(base_c).sum().get(c, 0.0)))
        head = ["customer class", "customers", f"{e(self.base.label)} (RM)"]
        for r in self.scen:
            head += [f"{e(r.label)} (RM)", "change (RM)", "change %", "mean change per customer (RM)"]
        rows, attrs = [], []
        total_row = ["<b>all customers</b>", f"{len(classes):,}", _rm(base_b.sum())]
        for cls in order + ["__all__"]:
            if cls == "__all__":
                continue
            ids = classes.index[classes == cls]
            a = base_b.reindex(ids).sum()
            row = [e(cls.replace("_", " ")), f"{len(ids):,}", f"<td class='num bill' data-run='{e(self.base.label)}' "
                                                              f"data-class='{e(cls)}' data-value='{float(a)!r}'>{_rm(a)}</td>"]
            for r in self.scen:
                b = frames[r.label][0].reindex(ids).sum()
                row += [f"<td class='num bill' data-run='{e(r.label)}' data-class='{e(cls)}' data-value='{float(b)!r}'>{_rm(b)}</td>",
                        _rm(b - a), _pct((b - a) / abs(a) * 100 if a else np.nan), _num((b - a) / max(len(ids), 1), 2)]
            rows.append(row)
            attrs.append(f"data-class='{e(cls)}'")
        for r in self.scen:
            b = frames[r.label][0].sum()
            a = base_b.sum()
            total_row += [_rm(b), _rm(b - a), _pct((b - a) / abs(a) * 100 if a else np.nan), _num((b - a) / max(len(classes), 1), 2)]
        rows.append(total_row)
        attrs.append("class='total'")
        out = ("<p>The customers' bills over each run (<code>/bill/total_rm</code> summed over the months: energy, "
               "export credit, KWTBB and service tax, docs/tariffs.md), by customer class (<code>/load/type</code>, "
               "else the class the scenario's generator gives each load).</p>")
        out += _table(head, rows, tid="bills-table", row_attrs=attrs)
        partial = _partial(self.runs)
        if partial:
            out += _note(e(partial))
        src = {r.label: _class_source(r) for r in self.runs}
        if any(v != "/load/type" for v in src.values()):
            out += _note("Class source: " + "; ".join(f"{e(k)}: {e(v)}" for k, v in src.items()))
        if self.with_plots:
            from .plots import bills_by_class
            fig, ax = _figure(10.5, 4.6)
            allc = pd.concat([frames[r.label][1] for r in self.runs])
            allc = allc[~allc.index.duplicated()]
            bills_by_class({r.label: r.res for r in self.runs}, ax=ax, classes=allc)
            _shrink(ax)
            out += _svg(fig, "bills-by-class")
        return out

    # -- 7. investment
    def compute_cases(self) -> None:
        if self.economics_kw is False:
            return
        try:
            from . import economics
        except ImportError as err:  # pragma: no cover (the compiled module is there when libgrid imports)
            self.case_errors = {r.label: f"libgrid.economics does not import ({err})" for r in self.scen}
            return
        if not hasattr(economics, "business_case"):
            self.case_errors = {r.label: "this libgrid has no libgrid.economics.business_case" for r in self.scen}
            return
        kw = dict(self.economics_kw or {})
        for r in self.scen:
            try:
                self.cases[r.label] = economics.business_case(self.base.path, r.path, **kw)
            except TypeError as err:  # an economics= key business_case does not take
                raise ReportError(f"economics: {err}") from None
            except (ValueError, KeyError, OSError, RuntimeError) as err:
                if kw:  # the caller's catalogue / overrides / years: their error is the report's
                    raise ReportError(f"economics {kw}: {r.label} vs {self.base.label}: {err}") from None
                self.case_errors[r.label] = str(err)

    def s_investment(self) -> str:
        if self.economics_kw is False:
            return _note("Left out (economics=False / --no-economics).")
        out = ("<p>The business case of each scenario against the baseline (<code>libgrid.economics.business_case</code>, "
               "docs/economics.md): yearly cash flows per stakeholder over the project, from the simulated bills, energy "
               "and network loading, priced with the cost catalogue. Positive NPV: the stakeholder gains.</p>")
        for r in self.scen:
            out += f"<h3>{e(r.label)} vs {e(self.base.label)}</h3>"
            bc = self.cases.get(r.label)
            if bc is None:
                out += _missing("business case", self.case_errors.get(r.label, "not computed"))
                continue
            out += self.case_html(r, bc)
        return out

    def case_html(self, r: _Run, bc) -> str:
        out = ""
        st = getattr(bc, "stakeholders", None)
        if st is not None and len(st):
            head = ["stakeholder", "capex (RM)", "NPV (RM)", "IRR", "simple payback (years)", "discounted payback (years)",
                    "discount rate"]
            rows = []
            for who, row in st.iterrows():
                npv = float(row.get("npv_rm", np.nan))
                rows.append([f"<b>{e(str(who).replace('_', ' '))}</b>", _rm(row.get("capex_rm", np.nan)),
                             f"<td class='num npv' data-stakeholder='{e(str(who))}' data-scenario='{e(r.label)}' "
                             f"data-value='{npv!r}'>{_rm(npv)}</td>",
                             _irr(row.get("irr", np.nan)), _years(row.get("simple_payback_years", np.nan)),
                             _years(row.get("discounted_payback_years", np.nan)), _rate(row.get("discount_rate", np.nan))])
            out += _table(head, rows, tid=f"stakeholders-{_slug(r.label)}", cls="stakeholders")
        sysrows = []
        for attr, lab, unit in (("lcoe_pv_rm_per_kwh", "LCOE of the PV added", "RM/kWh"),
                                ("lcos_rm_per_kwh", "LCOS of the batteries added", "RM/kWh"),
                                ("co2_avoided_t_per_year", "CO2 avoided", "t/year"),
                                ("abatement_cost_rm_per_t", "cost of CO2 abated (city)", "RM/t"),
                                ("project_years", "project", "years")):
            v = getattr(bc, attr, None)
            if v is not None:
                sysrows.append([e(lab), f"<td class='num' data-figure='{attr}' data-value='{float(v)!r}'>{_num(v, 3 if 'kwh' in attr else None)}</td>",
                                e(unit)])
        cat = getattr(bc, "catalogue_file", None)
        if cat:
            sysrows.append(["cost catalogue", f"<td class='num' title='{e(str(cat))}'>{e(os.path.basename(str(cat)))}</td>", "file"])
        if sysrows:
            out += "<h4>System figures</h4>" + _table(["figure", "value", "unit"], sysrows, tid=f"system-{_slug(r.label)}")
        for attr, title in (("assets", "Assets added"), ("upgrades", "Network upgrades (transformers)")):
            df = getattr(bc, attr, None)
            if isinstance(df, pd.DataFrame):
                figs = ""
                if "figures" in df:  # the catalogue figures each row used: folded, the table stays readable
                    figs = ("<details><summary>The catalogue figures each asset row used</summary><ul class='notes'>" +
                            "".join(f"<li>{e(str(row.get('stakeholder', '')))}, {e(str(row.get('asset_class', '')))}: "
                                    f"{e(_figures_text(row['figures']))}</li>" for _, row in df.iterrows()) + "</ul></details>")
                    df = df.drop(columns="figures")
                out += f"<h4>{title}</h4>"
                out += (_df_table(df, tid=f"{attr}-{_slug(r.label)}", index=False) + figs) if len(df) else _note("None.")
        cf = getattr(bc, "cash_flows", None)
        if self.with_plots and isinstance(cf, pd.DataFrame) and len(cf):
            out += self.chart_cash_flows(r, bc)
        notes = getattr(bc, "notes", None)
        if notes:
            out += "<h4>Notes and assumptions</h4><ul class='notes'>" + "".join(f"<li>{e(str(n))}</li>" for n in notes) + "</ul>"
        return out

    def chart_cash_flows(self, r: _Run, bc) -> str:
        cf = bc.cash_flows
        try:
            by = cf.groupby(level=0).sum()
        except (ValueError, TypeError):
            return ""
        years = [c for c in by.columns]
        fig, ax = _figure(10.5, 3.4)
        cum = by.cumsum(axis=1)
        for who, row in cum.iterrows():
            ax.plot([float(y) if not isinstance(y, str) else i for i, y in enumerate(years)], row.to_numpy(float) / 1e6,
                    marker="o", ms=2.5, lw=1.2, label=str(who).replace("_", " "))
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("project year", fontsize=8)
        ax.set_ylabel("cumulative cash flow (million RM, undiscounted)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(color="#e5e5e5", lw=0.6)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        ax.set_title(f"Cumulative cash flow per stakeholder: {r.label} vs {self.base.label}", fontsize=9)
        return _svg(fig, f"cash-flows-{_slug(r.label)}")

    # -- 8. tornado
    def tornado_df(self) -> Tuple[Optional[pd.DataFrame], str]:
        t = self.tornado_arg
        if t is False:
            return None, "left out (tornado=False / --no-tornado)"
        if isinstance(t, pd.DataFrame):
            return t, "given to the report"
        if isinstance(t, (str, os.PathLike)):
            try:
                return pd.read_csv(t), f"read from {os.fspath(t)}"
            except (OSError, ValueError) as err:
                raise ReportError(f"tornado: cannot read '{os.fspath(t)}' as CSV ({err})") from None
        fn = _tornado_function()
        if fn is None:
            return None, ("this libgrid has no libgrid.economics.tornado (the sensitivity of issue 18); "
                          "pass tornado=DataFrame to report(...) to show one")
        if not self.scen or self.scen[0].label not in self.cases:
            return None, "no business case to vary"
        import inspect
        try:
            accepted = set(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            accepted = set()
        kw = {k: v for k, v in dict(self.economics_kw or {}).items()
              if k in accepted and k in ("catalogue", "overrides", "project_years", "discount_rate", "tariff_escalation")}
        if isinstance(t, Mapping):  # the caller's arguments for the tornado (inputs=, low=, high=, client=, ...)
            kw.update(t)
        print(f"libgrid report: computing the tornado of {self.scen[0].label} vs {self.base.label} "
              "(re-runs both with the PV yield changed; --no-tornado leaves it out)", file=sys.stderr, flush=True)
        try:
            df = fn(self.base.path, self.scen[0].path, **kw)
        except TypeError as err:
            raise ReportError(f"tornado: {err}") from None
        except (ValueError, KeyError, OSError, RuntimeError) as err:
            if isinstance(t, Mapping):
                raise ReportError(f"tornado {dict(t)}: {err}") from None
            return None, f"libgrid.economics.tornado failed: {err}"
        if "npv_base_rm" not in df.attrs:
            st = self.cases[self.scen[0].label].stakeholders
            who = str(df.attrs.get("stakeholder", "city"))
            if who in st.index:
                df.attrs["npv_base_rm"] = float(st.loc[who, "npv_rm"])
        return df, f"computed by libgrid.economics.tornado for {self.scen[0].label} vs {self.base.label}"

    def s_tornado(self) -> str:
        df, how = self.tornado_df()
        if df is None:
            return _missing("tornado", how)
        need = {"input", "npv_low_rm", "npv_high_rm"}
        if not need <= set(df.columns):
            raise ReportError(f"tornado: the DataFrame needs the columns {sorted(need)}, it has {list(df.columns)}")
        attrs = dict(df.attrs)
        df = df.copy()
        if "swing_rm" not in df:
            df["swing_rm"] = (df["npv_high_rm"] - df["npv_low_rm"]).abs()
        df = df.sort_values("swing_rm", ascending=False, kind="stable")
        df.attrs.update(attrs)
        who = str(attrs.get("stakeholder", "city"))
        base_npv = attrs.get("npv_base_rm", attrs.get("base_npv_rm"))
        out = (f"<p>How the NPV ({e(who)}) moves when one input at a time goes to its low and high value "
               f"({e(how)}). Sorted by swing: the inputs at the top matter most."
               + (f" The case's NPV: RM {_rm(base_npv)}." if base_npv is not None else "") + "</p>")
        cols = [c for c in ("input", "unit", "base_value", "low_value", "high_value", "npv_low_rm", "npv_high_rm", "swing_rm")
                if c in df]
        out += _df_table(df[cols], tid="tornado-table", index=False)
        notes = attrs.get("notes")
        if notes:
            items = notes.items() if isinstance(notes, Mapping) else enumerate(notes)
            out += ("<details><summary>What each variant changed</summary><ul class='notes'>" +
                    "".join(f"<li>{e(str(v)) if isinstance(k, int) else e(f'{k}: {v}')}</li>" for k, v in items) +
                    "</ul></details>")
        if self.with_plots:
            out += self.chart_tornado(df, who, base_npv)
        return out

    def chart_tornado(self, df: pd.DataFrame, who: str, base_npv) -> str:
        fig, ax = _figure(10.5, 0.45 * len(df) + 1.4)
        plot = getattr(_tornado_module(), "plot_tornado", None)
        if plot is not None and {"low_value", "high_value"} <= set(df.columns) and base_npv is not None:
            d = df.copy()
            d.attrs.update(df.attrs)
            d.attrs.setdefault("npv_base_rm", base_npv)
            try:
                plot(d, ax=ax)  # helper H3's chart (libgrid.economics.plot_tornado)
                _shrink(ax)
                return _svg(fig, "tornado")
            except (ValueError, KeyError, TypeError):
                fig, ax = _figure(10.5, 0.45 * len(df) + 1.4)
        y = np.arange(len(df))[::-1]
        lo = df["npv_low_rm"].to_numpy(float) / 1e6
        hi = df["npv_high_rm"].to_numpy(float) / 1e6
        mid = float(base_npv) / 1e6 if base_npv is not None else float(np.nanmedian(np.concatenate([lo, hi])))
        ax.barh(y, lo - mid, left=mid, color="#c0504d", height=0.6, label="input low")
        ax.barh(y, hi - mid, left=mid, color="#4f81bd", height=0.6, label="input high")
        ax.axvline(mid, color="black", lw=0.8)
        ax.set_yticks(y)
        ax.set_yticklabels([str(s).replace("_", " ") for s in df["input"]], fontsize=8)
        ax.set_xlabel(f"NPV, {who} (million RM)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, frameon=False, loc="lower right")
        ax.grid(axis="x", color="#e5e5e5", lw=0.6)
        return _svg(fig, "tornado")

    # -- 9. key plots
    def s_plots(self) -> str:
        out = "<p>Voltages by level through the run (percentile bands over the buses' phases) and the transformers' loading.</p>"
        for r in self.runs:
            out += f"<h3>{e(r.label)}</h3>"
            try:
                out += self.chart_voltage(r)
            except (KeyError, ValueError) as err:
                out += _missing("voltage chart", str(err))
            try:
                out += self.chart_loading(r)
            except (KeyError, ValueError) as err:
                out += _missing("transformer loading chart", str(err))
        return out

    def chart_voltage(self, r: _Run) -> str:
        import warnings
        vm, cols, what = self.volt(r)
        fig, ax = _figure(10.5, 3.6)
        t = vm.index.tz_localize(None) if vm.index.tz is not None else vm.index
        data = vm.to_numpy(dtype=float)
        daily = r.hours() > 24 * 31
        colors = {"HV": "tab:gray", "MV": "tab:blue", "LV": "tab:orange"}
        for lev in [lv for lv in ("HV", "MV", "LV") if lv in set(cols["level"])]:
            d = data[:, (cols["level"] == lev).to_numpy()]
            q = _row_quantiles(d, (0, 5, 50, 95, 100))
            tt = t
            if daily:  # a long run: each day's lowest / highest of the bands, the mean median
                qd = pd.DataFrame(q.T, index=t).resample("D")
                q = np.vstack([qd.min()[0], qd.min()[1], qd.mean()[2], qd.max()[3], qd.max()[4]])
                tt = qd.min().index
            ax.fill_between(tt, q[0], q[4], color=colors[lev], alpha=0.18, lw=0, label=f"{lev} ({d.shape[1]:,}): min..max")
            ax.fill_between(tt, q[1], q[3], color=colors[lev], alpha=0.45, lw=0, label=f"{lev}: 5..95 %")
            ax.plot(tt, q[2], color=colors[lev], lw=0.8, label=f"{lev}: median")
            sub = cols[cols["level"] == lev]
            for v in sorted({float(sub["vmin"].min()), float(sub["vmax"].max())}):
                ax.axhline(v, color=colors[lev], ls="--", lw=1.0)
        ax.plot([], [], color="0.3", ls="--", label="band limits")
        from .plots import _time_axis
        _time_axis(ax)
        ax.set_ylabel("|V| (p.u.)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_title(f"Voltages by level, {r.label}: {what}" + ("; per day: lowest and highest of each band, mean median"
                                                                 if daily else ""), fontsize=9)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        return _svg(fig, f"voltage-{_slug(r.label)}")

    def chart_loading(self, r: _Run, max_lines: int = 6) -> str:
        load = self.loading(r)
        br = _branches(r).reindex(load.columns)
        tcols = [c for c in load.columns if br.loc[c, "kind"] == "trafo"]
        if not tcols:
            raise ValueError("no transformer in /branch")
        tl = load[tcols]
        lim = _loading_limit(r)
        peak = tl.max(axis=0).fillna(-np.inf).sort_values(ascending=False)
        chosen = list(peak.index[:max_lines])
        rest = [c for c in tcols if c not in chosen]
        fig, ax = _figure(10.5, 3.6)
        tl = tl.copy()
        tl.index = tl.index.tz_localize(None) if tl.index.tz is not None else tl.index
        daily = r.hours() > 24 * 31
        if daily:  # a long run: each day's peak
            tl = tl.resample("D").max()
        t = tl.index
        for c in chosen:
            ax.plot(t, tl[c].to_numpy(float), lw=0.8, label=f"{br.loc[c, 'label']}, peak {peak[c]:.0f} %")
        if rest:
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                o = tl[rest].to_numpy(float)
                ax.fill_between(t, np.nanmin(o, axis=1), np.nanmax(o, axis=1), color="0.6", alpha=0.3, lw=0,
                                label=f"the other {len(rest)}: min..max")
        ax.axhline(lim, color="red", ls="--", lw=1.0, label=f"{lim:g} % (limit)")
        from .plots import _time_axis
        _time_axis(ax)
        ax.set_ylabel("loading (% of rating)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_ylim(bottom=0.0, top=max(lim * 1.05, float(np.nanmax(tl.to_numpy(float))) * 1.05))
        ax.set_title(f"Transformer loading, {r.label}" + (": each day's peak" if daily else ""), fontsize=9)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        return _svg(fig, f"loading-{_slug(r.label)}")

    # -- the page
    def build(self) -> str:
        self.compute_cases()
        sections = [("assumptions", "Assumptions: the scenarios", self.s_assumptions),
                    ("kpis", "Key performance indicators", self.s_kpis),
                    ("feasibility", "Feasibility: limits and violations", self.s_feasibility),
                    ("energy", "Energy and CO2", self.s_energy),
                    ("bills", "Bills by customer class", self.s_bills),
                    ("investment", "Investment: the business case", self.s_investment),
                    ("tornado", "Sensitivity: tornado of the NPV", self.s_tornado)]
        if self.with_plots:
            sections.append(("plots", "Key plots", self.s_plots))
        body = [self.section(sid, title, fn) for sid, title, fn in sections]
        toc = "".join(f"<a href='#{sid}'>{e(title.split(':')[0])}</a>" for sid, title, _ in
                      [("compared", "What was compared", None)] + sections)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        from . import __version__
        head = (f"<header><h1>{e(self.title)}</h1><p class='sub'>libgrid {e(__version__)} study report, made {stamp} · "
                f"{len(self.runs)} results files</p><nav class='toc'>{toc}</nav></header>")
        compared = self.section("compared", "What was compared", self.s_compared)
        compared = compared.replace("</h2>", "</h2>" + self.headline(), 1)
        return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(self.title)}</title>"
                f"<meta name='viewport' content='width=device-width,initial-scale=1'><meta name='generator' content='libgrid {e(__version__)}'>"
                f"<link rel='icon' href='data:,'><style>{CSS}</style></head><body>{head}<main>{compared}{''.join(body)}"
                f"<footer>Made by <code>libgrid report</code> from: {', '.join(e(os.path.basename(r.path)) for r in self.runs)}. "
                "Definitions: docs/kpis.md, docs/economics.md, docs/report.md.</footer></main></body></html>")


# ---- small readers --------------------------------------------------------------------------------------
def _flatten(d: Any, prefix: str = "") -> List[Tuple[str, str]]:
    out: List[Tuple[str, str]] = []
    if isinstance(d, dict):
        for k, v in d.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict) and v:
                out.extend(_flatten(v, key))
            else:
                out.append((key, _scalar(v)))
    return out


def _scalar(v: Any) -> str:
    if isinstance(v, (list, dict)):
        return json.dumps(v, default=str) if v else ("[]" if isinstance(v, list) else "{}")
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _count(r: _Run, group: str) -> str:
    ids = r.res.ids(group)
    return f"{0 if ids is None else len(ids):,}"


def _count_size(r: _Run, group: str, size: str, unit: str = "") -> str:
    ids = r.res.ids(group)
    if ids is None or not len(ids):
        return "0"
    try:
        total = float(np.nansum(r.res.vector(group, size).to_numpy(float)))
    except KeyError:
        return f"{len(ids):,}"
    u = f" {unit}" if unit else ""
    return f"{len(ids):,} ({_num(total)}{u})"


def _site_extras(r: _Run) -> str:
    ids = r.res.ids("ev_site")
    if ids is None or not len(ids):
        return "-"
    pv = float(np.nansum(r.res.vector("ev_site", "pv_kwp").to_numpy(float)))
    bat = float(np.nansum(r.res.vector("ev_site", "battery_kwh").to_numpy(float)))
    return f"{_num(pv)} / {_num(bat)}"


def _homes(r: _Run) -> str:
    ids = r.res.ids("home")
    if ids is None or not len(ids):
        return "0"
    pv = float(np.nansum(r.res.vector("home", "pv_kwp").to_numpy(float)))
    bat = float(np.nansum(r.res.vector("home", "battery_kwh").to_numpy(float)))
    return f"{len(ids):,} ({_num(pv)} kWp, {_num(bat)} kWh)"


def _by(r: _Run, what: str) -> str:
    with h5py.File(r.path, "r") as f:
        if f"bill/{what}" not in f:
            return "-"
        v = pd.Series(list(f[f"bill/{what}"].asstr()[()])).value_counts()
    return ", ".join(f"{k} {n}" for k, n in v.items())


def _factor(r: _Run, kpi: str) -> str:
    with h5py.File(r.path, "r") as f:
        p = f"summary/{kpi}"
        if p not in f:
            return "-"
        v = f[p].attrs.get("factor")
    if v is None:
        ef = r.scenario_get("emission_factor_t_per_mwh")
        return f"constant {ef} t/MWh (the scenario's emission_factor_t_per_mwh)" if ef is not None else "not recorded"
    return v.decode() if isinstance(v, bytes) else str(v)


_CLASS_SOURCE: Dict[str, str] = {}


def _classes(r: _Run, ids) -> pd.Series:
    """Customer class per customer id: /load/type, else the scenario's customers (its generator)."""
    from .plots import customer_classes
    cls = customer_classes(r.res)
    if (cls != "unknown").any():
        _CLASS_SOURCE[r.path] = "/load/type"
        return cls.reindex(ids).fillna("unclassified").replace("unknown", "unclassified")
    try:
        from .scenario import Scenario
        cust = Scenario.parse(r.text).customers()
        by_load = pd.Series(cust["type"].astype(str).to_numpy(), index=cust["load_id"].to_numpy())
        _CLASS_SOURCE[r.path] = "the scenario's generator (the file has no /load/type)"
        return by_load.reindex(ids).fillna("unclassified").rename("class")
    except Exception as err:  # noqa: BLE001 (any failure to rebuild: classes unknown, said on the page)
        _CLASS_SOURCE[r.path] = f"none (no /load/type; the scenario could not be rebuilt: {err})"
        return pd.Series("unclassified", index=ids, name="class")


def _class_source(r: _Run) -> str:
    return _CLASS_SOURCE.get(r.path, "/load/type")


def _partial(runs: Sequence[_Run]) -> str:
    from .plots import _partial_months
    return _partial_months([(r.label, r.res) for r in runs])


def _first_violation(r: _Run) -> List[str]:
    with h5py.File(r.path, "r") as f:
        if "summary/first_violation" not in f:
            return ["none: no limit broken", "-", "-", "-", "-"]
        g = f["summary/first_violation"]
        t = float(np.asarray(g["time"][()]).reshape(-1)[0]) if "time" in g else np.nan
        el = float(np.asarray(g["element"][()]).reshape(-1)[0]) if "element" in g else np.nan
        val = float(np.asarray(g["value"][()]).reshape(-1)[0]) if "value" in g else np.nan
        kind = g.attrs.get("kind", "")
        phase = g.attrs.get("phase", "")
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    phase = phase.decode() if isinstance(phase, bytes) else str(phase)
    when = "-"
    if np.isfinite(t):
        when = pd.Timestamp(int(t), unit="s").strftime("%Y-%m-%d %H:%M")  # /time units: seconds, Melaka local time
    unit = " p.u." if "volt" in kind else " %" if "load" in kind else ""
    return [e(when), e(kind), _num(el, 0) if np.isfinite(el) else "-", (f"{val:.4g}{unit}" if np.isfinite(val) else "-"),
            e(phase or "-")]


def _df_table(df: pd.DataFrame, tid: str = "", index: bool = True) -> str:
    d = df.reset_index() if index and not isinstance(df.index, pd.RangeIndex) else df
    head = [e(str(c)) for c in d.columns]
    rows = []
    for _, row in d.iterrows():
        cells = []
        for c in d.columns:
            v = row[c]
            if isinstance(v, (float, np.floating)):
                cells.append(_num(v))
            elif isinstance(v, (int, np.integer)) and not isinstance(v, bool):
                cells.append(_num(v))
            else:
                cells.append(e(str(v)))
        rows.append(cells)
    return _table(head, rows, tid=tid)


def _tornado_module():
    """The module with the tornado (libgrid.economics, else libgrid.sensitivity), or None."""
    from . import economics
    if hasattr(economics, "tornado"):
        return economics
    try:
        from . import sensitivity  # type: ignore[attr-defined]
        return sensitivity
    except ImportError:
        return None


def _tornado_function():
    """libgrid.economics.tornado, else libgrid.sensitivity.tornado (helper H3's), else None."""
    from . import economics
    fn = getattr(economics, "tornado", None)
    if fn is None:
        try:
            from . import sensitivity  # type: ignore[attr-defined]
            fn = getattr(sensitivity, "tornado", None)
        except ImportError:
            fn = None
    return fn


def _figures_text(x: Any) -> str:
    """The catalogue figures an asset row used, as short text."""
    if isinstance(x, Mapping):
        return "; ".join(f"{k} = {_scalar(v)}" for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return "; ".join(_figures_text(v) if isinstance(v, Mapping) else str(v) for v in x)
    return "" if x is None else str(x)


def _irr(x) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "-"
    return "-" if not math.isfinite(v) else f"{v * 100:.1f} %"


def _rate(x) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "-"
    return "-" if not math.isfinite(v) else f"{v * 100:.1f} %"


def _years(x) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "-"
    return "never" if not math.isfinite(v) else f"{v:.1f}"


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(s).lower()).strip("-") or "run"


def _shrink(ax) -> None:
    """A libgrid.plots figure's fonts to the report's size."""
    ax.title.set_fontsize(9)
    ax.xaxis.label.set_fontsize(8)
    ax.yaxis.label.set_fontsize(8)
    ax.tick_params(labelsize=7)
    leg = ax.get_legend()
    if leg is not None:
        for t in leg.get_texts():
            t.set_fontsize(7)


CSS = """
body{font-family:"DejaVu Sans",Verdana,Arial,sans-serif;margin:0;background:#f4f6f9;color:#1d2733;font-size:14px}
header{background:#1f4e79;color:#fff;padding:14px 28px 8px}
header h1{margin:0 0 4px;font-size:24px} header .sub{color:#dfe9f5;margin:0 0 8px;font-size:13px}
nav.toc a{color:#fff;background:rgba(255,255,255,.14);border-radius:12px;padding:2px 10px;margin:0 4px 6px 0;
display:inline-block;text-decoration:none;font-size:12.5px}
main{max-width:1180px;margin:0 auto;padding:8px 24px 40px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:14px 20px;margin:14px 0}
h2{font-size:19px;margin:2px 0 10px;color:#1f4e79} h3{font-size:15.5px;margin:16px 0 6px;color:#1f4e79}
h4{font-size:14px;margin:12px 0 4px}
.lead{font-size:14.5px} .sub{color:#5a6673;font-size:12.5px;margin:4px 0}
.kpis{display:flex;gap:12px;flex-wrap:wrap;margin:8px 0 12px}
.kpi{background:#f7f9fc;border:1px solid #dde4ee;border-radius:8px;padding:10px 14px;min-width:200px;flex:1}
.kpi .v{font-size:21px;font-weight:600;color:#1f4e79;white-space:nowrap} .kpi .l{font-size:11.5px;color:#5a6673}
table{border-collapse:collapse;width:100%;font-size:12.5px;margin:4px 0 8px}
th,td{padding:4px 7px;border-bottom:1px solid #e8ebef;text-align:right;vertical-align:top}
th{background:#f0f3f7;font-weight:600} th:first-child,td:first-child{text-align:left}
td.def{text-align:left;color:#4a5663;font-size:11.5px;min-width:260px}
tr.differs td{background:#fff6dc} .differs-key{background:#fff6dc;padding:0 4px}
tr.total td{font-weight:600;border-top:2px solid #c9d3df}
td.npv{font-weight:600}
.wide{overflow-x:auto}
.note{font-size:12px;color:#5a6673;margin:6px 0} .missing{color:#8a5a00;background:#fff6dc;padding:6px 10px;border-radius:4px}
figure.chart{margin:8px 0 14px} figure.chart svg{width:100%;height:auto;display:block}
pre{background:#f7f9fc;border:1px solid #e1e6ee;padding:8px;font-size:11.5px;overflow-x:auto;max-height:480px}
details{margin:6px 0} summary{cursor:pointer;color:#1f4e79}
ul.notes{font-size:12.5px;color:#34404d}
footer{font-size:12px;color:#5a6673;margin:18px 4px}
code{font-size:12px}
@media print{body{background:#fff;font-size:11px} section{box-shadow:none;border:1px solid #ddd;break-inside:auto}
figure.chart,table{break-inside:avoid} nav.toc{display:none} header{background:#fff;color:#000}
header .sub{color:#333} .wide{overflow:visible} pre{max-height:none} h2,h3,h4{break-after:avoid}}
"""


# ---- PDF ------------------------------------------------------------------------------------------------
def find_chromium() -> Optional[str]:
    """$LIBGRID_CHROMIUM, else chromium / chromium-browser / google-chrome on PATH, else None."""
    env = os.environ.get("LIBGRID_CHROMIUM")
    if env:
        return env if os.path.isfile(env) and os.access(env, os.X_OK) else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        p = shutil.which(name)
        if p:
            return p
    return None


def print_pdf(html_path: str, pdf_path: str, timeout_s: float = 300.0) -> str:
    """Print an HTML file to PDF with headless chromium (`--print-to-pdf`). Raises ReportError with what
    to install when there is no chromium, or when it fails."""
    exe = find_chromium()
    if exe is None:
        where = os.environ.get("LIBGRID_CHROMIUM")
        raise ReportError(f"PDF: no chromium{f' at LIBGRID_CHROMIUM={where}' if where else ' found'} to print with "
                          "(Debian: apt-get install chromium; or set LIBGRID_CHROMIUM); the HTML report is "
                          f"'{html_path}'")
    pdf_path = os.path.abspath(pdf_path)
    if os.path.isdir(pdf_path):
        raise ReportError(f"PDF: '{pdf_path}' is a directory")
    parent = os.path.dirname(pdf_path)
    if not os.path.isdir(parent):
        raise ReportError(f"PDF: no directory '{parent}' for '{pdf_path}'")
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    with tempfile.TemporaryDirectory(prefix="libgrid-report-") as profile:
        cmd = [exe, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}", "--no-pdf-header-footer",
               "--run-all-compositor-stages-before-draw", "--virtual-time-budget=10000",
               f"--print-to-pdf={pdf_path}", "file://" + os.path.abspath(html_path)]
        if os.path.exists(pdf_path):
            os.remove(pdf_path)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env)
        except subprocess.TimeoutExpired:
            raise ReportError(f"PDF: {exe} did not finish within {timeout_s:g} s") from None
        except OSError as err:
            raise ReportError(f"PDF: cannot run {exe} ({err})") from None
    if not os.path.isfile(pdf_path) or os.path.getsize(pdf_path) == 0:
        tail = (p.stderr or "").strip().splitlines()[-3:]
        raise ReportError(f"PDF: {exe} wrote no '{pdf_path}' (exit {p.returncode}): {' | '.join(tail)}")
    return pdf_path


# ---- the entry points --------------------------------------------------------------------------------------
def report(base, scenario, *more, out: "str | os.PathLike[str]" = "study.html", pdf: "str | os.PathLike[str] | None" = None,
           title: Optional[str] = None, labels: Optional[Sequence[str]] = None, economics: Any = None,
           tornado: Any = None, plots: bool = True) -> str:
    """Write the study report comparing `base` with `scenario` (and `more` scenarios, or a list as
    `scenario`): one self-contained HTML file `out`; with `pdf`, also a PDF printed by headless chromium.

    title: the report's title (default "<scenarios> vs <baseline>"); labels: one name per file (default:
    each file's scenario name); economics: keyword arguments for `libgrid.economics.business_case`
    (catalogue=, overrides=, project_years=, discount_rate=, tariff_escalation=), or False to leave the
    investment section out; tornado: a DataFrame (input, npv_low_rm, npv_high_rm[, low_value,
    high_value, swing_rm]) or a CSV path to show, None to compute it with `libgrid.economics.tornado`
    when this libgrid has it (re-runs for the PV yield: minutes for a year), a dict to compute it with
    these arguments (e.g. {"inputs": ["capex", "tariff"], "client": "threads"}), False to leave it out;
    plots: False leaves the charts out. Returns the HTML file's path. Bad input raises ReportError
    (a ValueError) naming the file or option."""
    scenarios = list(scenario) if isinstance(scenario, (list, tuple)) else [scenario]
    paths = [os.fspath(base)] + [os.fspath(s) for s in scenarios + list(more)]
    if len(paths) < 2:
        raise ReportError("report: give a baseline and at least one scenario results file")
    for p in paths:
        if not os.path.exists(p):
            raise ReportError(f"results file '{p}': no such file")
    out = os.fspath(out)
    if not out:
        raise ReportError("out: give the HTML file to write")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise ReportError(f"out: no directory '{parent}' for '{out}'")
    if os.path.isdir(out):
        raise ReportError(f"out: '{out}' is a directory")
    if economics not in (None, False) and not isinstance(economics, Mapping):
        raise ReportError(f"economics: expected a dict of business_case keyword arguments or False, got {type(economics).__name__}")
    if tornado is not None and tornado is not False and not isinstance(tornado, (pd.DataFrame, str, os.PathLike, Mapping)):
        raise ReportError(f"tornado: expected a DataFrame, a CSV path, a dict of tornado() arguments, None or False, "
                          f"got {type(tornado).__name__}")
    labs = _labels(paths, labels)
    runs = [_Run(p, lab) for p, lab in zip(paths, labs)]
    title = title or f"{', '.join(r.label for r in runs[1:])} vs {runs[0].label}: study report"
    rep = _Report(runs, title, economics, tornado, plots)
    page = rep.build()
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, out)
    if pdf is not None:
        print_pdf(out, os.fspath(pdf))
    return out


def _parse_set(items: Sequence[str]) -> Dict[str, float]:
    out: Dict[str, float] = {}
    for s in items or []:
        if "=" not in s:
            raise ReportError(f"--set {s!r}: expected dotted.path=value")
        k, v = s.split("=", 1)
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise ReportError(f"--set {s!r}: the value must be a number") from None
    return out


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="libgrid report", description="Write the study report comparing a baseline results "
                                 "file with one or more scenario results files: one self-contained HTML file (docs/report.md).")
    ap.add_argument("files", nargs="+", metavar="FILE.h5", help="BASE.h5 SCENARIO.h5 [MORE.h5 ...]: results of `libgrid run`")
    ap.add_argument("-o", "--output", default="study.html", help="the HTML file to write (default study.html)")
    ap.add_argument("--pdf", default=None, help="also print it to this PDF (headless chromium)")
    ap.add_argument("--title", default=None, help="the report's title")
    ap.add_argument("--label", action="append", default=None, help="a name per file, in order (repeat)")
    ap.add_argument("--catalogue", default=None, help="cost catalogue for the business case")
    ap.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="override a catalogue figure (repeat)")
    ap.add_argument("--years", type=int, default=None, help="project years of the business case")
    ap.add_argument("--no-economics", action="store_true", help="leave the investment section out")
    ap.add_argument("--tornado", default=None, metavar="CSV", help="show this tornado table (CSV) instead of computing it")
    ap.add_argument("--no-tornado", action="store_true", help="leave the tornado out (computing it re-runs the scenarios)")
    ap.add_argument("--no-plots", action="store_true", help="leave the charts out")
    a = ap.parse_args(argv)
    if len(a.files) < 2:
        ap.error("give BASE.h5 and at least one SCENARIO.h5")
    if a.years is not None and a.years < 1:
        ap.error(f"--years: expected a whole number >= 1, got {a.years}")
    try:
        econ: Any = False if a.no_economics else {}
        if econ is not False:
            if a.catalogue:
                econ["catalogue"] = a.catalogue
            sets = _parse_set(a.set)
            if sets:
                econ["overrides"] = sets
            if a.years:
                econ["project_years"] = a.years
        tornado: Any = False if a.no_tornado else (a.tornado if a.tornado else None)
        import matplotlib
        matplotlib.use("Agg")
        out = report(a.files[0], a.files[1:], out=a.output, pdf=a.pdf, title=a.title, labels=a.label, economics=econ,
                     tornado=tornado, plots=not a.no_plots)
    except (ReportError, OSError) as err:
        print(f"libgrid report: error: {err}", file=sys.stderr)
        return 1
    size = os.path.getsize(out)
    print(f"libgrid report: wrote {out} ({size / 1e6:.1f} MB){f' and {a.pdf}' if a.pdf else ''}", file=sys.stderr)
    return 0


class _CallableModule(types.ModuleType):
    """`libgrid.report(base, scenario, ...)` calls report() although `libgrid.report` is this module."""

    def __call__(self, *args, **kwargs) -> str:
        return report(*args, **kwargs)


if __name__ == "__main__":
    from libgrid.report import main as _main
    sys.exit(_main())
else:
    sys.modules[__name__].__class__ = _CallableModule
