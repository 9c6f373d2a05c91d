"""Plots and KPI tables of libgrid results (matplotlib; works with the Agg backend).

    >>> import libgrid
    >>> from libgrid import plots
    >>> res = libgrid.read_results("out.h5")
    >>> ax = plots.voltage_heatmap(res)             # bus x time |V|
    >>> ax.figure.savefig("vm.png")
    >>> plots.compare_kpis({"baseline": res0, "smart city": res})   # DataFrame: KPI x run

Every plotting function takes a `Results` (`libgrid.read_results`, `Simulation.run`, `Scenario.run`)
and an optional matplotlib `ax` to draw into (a new figure otherwise), and returns the Axes. None
calls `plt.show()`. Times are drawn as Melaka wall-clock time (the results' UTC+08:00 stamps without
the offset). Powers follow the results' generator convention (positive = injected into the grid)
except where a docstring says "consumption positive".

matplotlib is imported by the functions, so `import libgrid` does not need it.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from ._libgrid import summary_kpis as _summary_kpis

__all__ = ["voltage_heatmap", "voltage_profile", "feeder_path", "bus_distance", "load_duration_curve",
           "transformer_loading", "battery_soc", "ev_charging", "ev_charging_by_hour", "energy_balance",
           "energy_balance_day", "bills", "customer_bills", "compare_kpis", "KPI_ORDER", "voltage_percentiles",
           "bus_groups", "run_title", "bills_by_class", "customer_classes", "hosting_map",
           "phase_voltage_profile", "unbalanced_bus_distance", "phase_loading", "outage"]


# ---- helpers ------------------------------------------------------------------------------------

def _pyplot():
    import matplotlib.pyplot as plt  # noqa: WPS433 (lazy on purpose)
    return plt


def _axes(ax, figsize=(9, 4.5)):
    """`ax`, or the Axes of a new figure."""
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return ax


def _wall_clock(index: pd.Index) -> pd.Index:
    """Time stamps as naive Melaka wall-clock times (matplotlib would convert aware ones to UTC)."""
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        return index.tz_localize(None)
    return index


def _time_axis(ax) -> None:
    """Concise date ticks on the x axis (no overlapping labels over days or weeks)."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _step_hours(res) -> float:
    """The run's time step in hours (root attribute `step_s`, else the spacing of /time)."""
    step = res.attrs.get("step_s")
    if step:
        return float(step) / 3600.0
    if res.time is not None and len(res.time) > 1:
        return float((res.time[1] - res.time[0]).total_seconds()) / 3600.0
    raise ValueError(f"results file '{res.path}': cannot tell the time step (no 'step_s' attribute, < 2 steps)")


def _has(res, group: str, name: str = "p_mw") -> bool:
    try:
        return name in res.names(group)
    except KeyError:
        return False


def _total(res, group: str, name: str = "p_mw") -> Optional[pd.Series]:
    """Sum over a group's columns of `<group>/<name>`, or None when the group is not in the file."""
    if not _has(res, group, name):
        return None
    df = res.series(group, name)
    return df.sum(axis=1, min_count=1).astype(float).fillna(0.0)


def _run_label(res, fallback: str = "run") -> str:
    return str(res.attrs.get("network") or fallback)


def _scenario_name(res) -> str:
    """The scenario's name and file from the root attribute `scenario` (the effective scenario text
    `libgrid run` and `Scenario.run` store: "# effective scenario (libgrid): FILE" and "name: ..."),
    else the results file's name."""
    import os
    import re

    text = str(res.attrs.get("scenario") or "")
    m_file = re.search(r"^# effective scenario \(libgrid\): *(\S+)", text, re.M)
    m_name = re.search(r"^name: *\"?([^\"\n]+?)\"?\s*$", text, re.M)
    file = os.path.basename(m_file.group(1)) if m_file else ""
    name = m_name.group(1) if m_name else ""
    if name and file and os.path.splitext(file)[0] != name:
        return f"{name} ({file})"
    if name or file:
        return name or file
    return os.path.basename(str(getattr(res, "path", "") or "")) or "run"


def run_title(res) -> str:
    """One line naming a run for a plot title: scenario (name and file, else the results file), grid
    (network name and bus count), dates and steps, e.g.
    "melaka_smart_city · melaka-small-seed1, 296 buses · 2025-01-01 to 2025-01-07, 672 x 15 min".
    Several runs (a list): each part once when the runs share it, else the runs' parts joined by " vs "."""
    if isinstance(res, (list, tuple)):
        titles = [run_title(r).split(" · ") for r in res]
        width = max(len(t) for t in titles)
        out = []
        for i in range(width):
            seen = list(dict.fromkeys(t[i] for t in titles if i < len(t)))
            out.append(" vs ".join(seen))
        return " · ".join(out)
    parts = [_scenario_name(res)]
    grid = str(res.attrs.get("network") or "")
    try:
        n_bus = len(res.ids("bus")) if res.ids("bus") is not None else 0
    except (KeyError, OSError):
        n_bus = 0
    if n_bus:
        grid = f"{grid}, {n_bus:,} buses" if grid else f"{n_bus:,} buses"
    if grid:
        parts.append(grid)
    if res.time is not None and len(res.time):
        t = _wall_clock(res.time)
        first, last = t[0].date(), t[-1].date()
        span = str(first) if first == last else f"{first} to {last}"
        try:
            minutes = _step_hours(res) * 60.0
            span += f", {len(t)} x {minutes:g} min"
        except ValueError:
            span += f", {len(t)} steps"
        parts.append(span)
    return " · ".join(parts)


def _title(ax, what: str, res=None) -> None:
    """`what` on the first line and the run (`run_title`) on the second."""
    if res is None:
        ax.set_title(what, fontsize="medium")
        return
    lines, width = [""], 95  # the run title's parts, wrapped at " · " to at most `width` characters a line
    for part in run_title(res).split(" · "):
        joined = f"{lines[-1]} · {part}" if lines[-1] else part
        if len(joined) > width and lines[-1]:
            lines.append(part)
        else:
            lines[-1] = joined
    ax.set_title("\n".join([what, *lines]), fontsize="medium")


def _vector_or_none(res, group: str, name: str) -> Optional[pd.Series]:
    return res.vector(group, name) if _has(res, group, name) else None


# ---- voltages -----------------------------------------------------------------------------------

def _level(vn_kv: float) -> str:
    """Voltage level of a nominal voltage: "LV" below 1 kV, "MV" up to 36 kV, "HV" above."""
    return "LV" if vn_kv < 1.0 else "MV" if vn_kv <= 36.0 else "HV"


_LEVEL_ORDER = {"HV": 0, "MV": 1, "LV": 2}
_LEVEL_COLORS = {"HV": "tab:gray", "MV": "tab:blue", "LV": "tab:orange"}


def bus_groups(res) -> pd.DataFrame:
    """Each bus's voltage level and area, from the results file alone (index: bus id).

    Columns: `vn_kv`; `level` ("LV" < 1 kV <= "MV" <= 36 kV < "HV"); `area`: the buses joined by lines
    (or MATPOWER branches) that carried current at some step of the run (open ties carry none), cut
    at the transformers, so that an LV area is one distribution transformer's network and an MV area
    one feeder; `trafo`: the element id of the transformer feeding the area from above (-1: none);
    `label`: e.g. "LV: DT 12 (315 kVA)", "MV: 11 kV feeder 2 (bus 3, 71 buses)"."""
    ids = np.asarray(res.ids("bus"))
    vn = res.vector("bus", "vn_kv").to_numpy(float)
    pos = {int(b): i for i, b in enumerate(ids)}
    parent = list(range(len(ids)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    kind = res.vector("branch", "kind").astype(str).to_numpy() if _has(res, "branch", "kind") else np.array([])
    if len(kind):
        fb = res.vector("branch", "from_bus").to_numpy()
        tb = res.vector("branch", "to_bus").to_numpy()
        live = np.nan_to_num(res.series("branch", "loading_percent").to_numpy(float)).max(axis=0) > 0
        for k, a, b, on in zip(kind, fb, tb, live):
            if k != "trafo" and on and int(a) in pos and int(b) in pos:
                ra, rb = find(pos[int(a)]), find(pos[int(b)])
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    root = np.array([find(i) for i in range(len(ids))])
    df = pd.DataFrame({"vn_kv": vn, "level": [_level(v) for v in vn], "root": root},
                      index=pd.Index(ids, name="bus"))
    feeding = {}  # area root -> (trafo element id, kVA)
    rated = _vector_or_none(res, "branch", "rated_kva")
    if len(kind):
        element = res.vector("branch", "element_id").to_numpy()
        for j in np.flatnonzero(kind == "trafo"):
            lv = pos.get(int(tb[j]))
            if lv is not None:
                feeding.setdefault(root[lv], (int(element[j]), float(rated.iloc[j]) if rated is not None else np.nan))
    df["trafo"] = [feeding.get(r, (-1, np.nan))[0] for r in root]
    sizes = df.groupby("root").size()
    labels, mv_no = {}, 0
    for r in sorted(sizes.index, key=lambda r: (_LEVEL_ORDER[df.level.iloc[r]], int(ids[r]))):
        lev, n = df.level.iloc[r], int(sizes[r])
        t, kva = feeding.get(r, (-1, np.nan))
        if lev == "LV" and t >= 0:
            labels[r] = f"LV: DT {t}" + (f" ({kva:,.0f} kVA)" if np.isfinite(kva) else "") + f", {n} buses"
        elif n == 1:
            labels[r] = f"{lev}: {vn[r]:g} kV bus {int(ids[r])}"
        else:
            mv_no += 1
            labels[r] = f"{lev}: {vn[r]:g} kV feeder {mv_no} (bus {int(ids[r])}.., {n} buses)"
    df["area"] = [int(ids[r]) for r in root]
    df["label"] = [labels[r] for r in root]
    return df.drop(columns="root")


def _band(res) -> Dict[str, tuple]:
    """level -> (lowest vmin_pu, highest vmax_pu) of its buses, from /bus/vmin_pu and /bus/vmax_pu
    (files of libgrid >= 0.1 issue 12); {} when the file does not hold them."""
    lo, hi = _vector_or_none(res, "bus", "vmin_pu"), _vector_or_none(res, "bus", "vmax_pu")
    if lo is None or hi is None:
        return {}
    vn = res.vector("bus", "vn_kv").to_numpy(float)
    levels = np.array([_level(v) for v in vn])
    return {lev: (float(lo.to_numpy(float)[levels == lev].min()), float(hi.to_numpy(float)[levels == lev].max()))
            for lev in sorted(set(levels), key=_LEVEL_ORDER.get)}


def _time_extent(res, index, n_cols):
    import matplotlib.dates as mdates

    if isinstance(index, pd.DatetimeIndex) and len(index):
        t = _wall_clock(index)
        dt = pd.Timedelta(hours=_step_hours(res))
        return mdates.date2num(t[0].to_pydatetime()), mdates.date2num((t[-1] + dt).to_pydatetime()), True
    return 0.0, float(n_cols), False


def voltage_heatmap(res, ax=None, cmap: str = "RdYlBu", vmin: Optional[float] = None,
                    vmax: Optional[float] = None, colorbar: bool = True, by: str = "auto", stat: str = "min"):
    """Bus voltage magnitudes as an image over time (columns are time steps).

    by="bus": one row per bus (in the file's column order, labelled with their ids; the image's array
    is `res.bus_vm().T`). by="area": one row per area of `bus_groups` (an LV area = one distribution
    transformer's network, an MV area = one feeder), ordered HV, MV, LV, showing `stat` ("min",
    "max" or "median") of its buses' |V| at each step, labelled with the transformer and its kVA.
    by="auto": "bus" up to 200 buses, else "area" (a district grid's 4,907 buses do not fit in the
    pixels of a figure). The voltage band (/bus/vmin_pu, /bus/vmax_pu) is marked on the colour bar.
    NaN (e.g. a de-energised bus) is left blank. Returns the Axes; the image is `ax.images[0]`, its
    rows' labels are `ax.row_labels`."""
    vm = res.bus_vm()
    if by == "auto":
        by = "bus" if vm.shape[1] <= 200 else "area"
    ax = _axes(ax, figsize=(10, 5) if by == "bus" else (11, 8))
    if by == "bus":
        rows = [str(c) for c in vm.columns]
        data = vm.to_numpy(dtype=float).T
        ylabel, what = "bus id", "Bus voltage magnitude"
    elif by == "area":
        if stat not in ("min", "max", "median"):
            raise ValueError(f"voltage_heatmap: stat={stat!r}: expected 'min', 'max' or 'median'")
        groups = bus_groups(res).reindex(vm.columns)
        order = (groups.assign(rank=groups.level.map(_LEVEL_ORDER))
                 .drop_duplicates("label").sort_values(["rank", "area"])["label"].tolist())
        agg = vm.T.groupby(groups["label"].to_numpy()).agg(stat)
        rows = order
        data = agg.reindex(order).to_numpy(float)
        ylabel, what = "area (level: transformer or feeder)", f"Bus voltage magnitude, {stat} of each area"
        band = _band(res)
        if band and vmin is None and vmax is None:  # colour scale = the voltage band (its ends marked)
            finite = data[np.isfinite(data)]
            vmin = min([a for a, _ in band.values()] + ([float(finite.min())] if finite.size else []))
            vmax = max([b for _, b in band.values()] + ([float(finite.max())] if finite.size else []))
    else:
        raise ValueError(f"voltage_heatmap: by={by!r}: expected 'auto', 'bus' or 'area'")
    finite = data[np.isfinite(data)]
    lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.9)
    hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.1)
    if hi <= lo:
        lo, hi = lo - 1e-3, hi + 1e-3
    n_row = data.shape[0]
    x0, x1, is_time = _time_extent(res, vm.index, data.shape[1])
    im = ax.imshow(data, aspect="auto", origin="lower", interpolation="nearest", cmap=cmap,
                   vmin=lo, vmax=hi, extent=(x0, x1, -0.5, n_row - 0.5))
    if is_time:
        _time_axis(ax)
    max_ticks = 20 if by == "bus" else 60
    ticks = np.unique(np.linspace(0, n_row - 1, min(n_row, max_ticks)).round().astype(int)) if n_row else []
    ax.set_yticks(ticks)
    ax.set_yticklabels([rows[i] for i in ticks], fontsize="small" if by == "bus" or n_row <= 30 else "x-small")
    ax.set_xlabel("time (Melaka)" if is_time else "step")
    ax.set_ylabel(ylabel)
    _title(ax, what, res)
    ax.row_labels = list(rows)
    if colorbar:
        cb = ax.figure.colorbar(im, ax=ax, label="|V| (p.u.)")
        band = _band(res)
        marks = sorted({v for pair in band.values() for v in pair})
        for v in marks:
            if lo <= v <= hi:
                cb.ax.axhline(v, color="black", lw=1.5, ls="--")
        if marks:
            cb.set_label("|V| (p.u.); dashed: band " + ", ".join(f"{k} {a:g}-{b:g}" for k, (a, b) in band.items()))
    return ax


def voltage_percentiles(res, ax=None, percentiles=(5, 50, 95)):
    """|V| of each voltage level over time as percentile bands: at every step the min..max range of
    the level's buses (light), the 5 %..95 % range (dark) and the median (line), with the level's
    voltage band (/bus/vmin_pu, /bus/vmax_pu) as dashed lines. Readable at any number of buses.
    Returns the Axes; `ax.percentiles` holds the drawn values (DataFrame: time x (level, statistic))."""
    vm = res.bus_vm()
    vn = res.vector("bus", "vn_kv").reindex(vm.columns).to_numpy(float)
    levels = np.array([_level(v) for v in vn])
    ax = _axes(ax, figsize=(10, 4.5))
    t = _wall_clock(vm.index)
    lo_p, mid_p, hi_p = percentiles
    band = _band(res)
    out = {}
    data = vm.to_numpy(float)
    for lev in sorted(set(levels), key=_LEVEL_ORDER.get):
        d = data[:, levels == lev]
        color = _LEVEL_COLORS[lev]
        with np.errstate(all="ignore"), __import__("warnings").catch_warnings():
            __import__("warnings").simplefilter("ignore", RuntimeWarning)
            q = {"min": np.nanmin(d, axis=1), f"p{lo_p}": np.nanpercentile(d, lo_p, axis=1),
                 "median": np.nanpercentile(d, mid_p, axis=1), f"p{hi_p}": np.nanpercentile(d, hi_p, axis=1),
                 "max": np.nanmax(d, axis=1)}
        n = d.shape[1]
        ax.fill_between(t, q["min"], q["max"], color=color, alpha=0.15, lw=0, label=f"{lev} ({n:,} buses): min..max")
        ax.fill_between(t, q[f"p{lo_p}"], q[f"p{hi_p}"], color=color, alpha=0.4, lw=0,
                        label=f"{lev}: {lo_p} %..{hi_p} %")
        ax.plot(t, q["median"], color=color, lw=1.2, label=f"{lev}: median")
        if lev in band:
            for v in band[lev]:
                ax.axhline(v, color=color, ls="--", lw=1.2)
            ax.plot([], [], color=color, ls="--", label=f"{lev} limits {band[lev][0]:g} / {band[lev][1]:g} p.u.")
        for k, v in q.items():
            out[(lev, k)] = v
    _time_axis(ax)
    ax.set_xlabel("time (Melaka)")
    ax.set_ylabel("|V| (p.u.)")
    _title(ax, "Bus voltages by level (percentile bands over the buses)", res)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    ax.percentiles = pd.DataFrame(out, index=vm.index)
    return ax


def bus_distance(net, by: str = "km"):
    """Distance of every bus from the nearest slack bus (ext grid, else a type-3 bus) through closed,
    in-service lines, transformers, bus-bus switches and branches (Dijkstra, in the C++ topology
    layer: `libgrid._libgrid.source_distance`).

    by: "km" (line lengths; transformers, switches and MATPOWER branches count 0 km) or "hops"
    (number of connections). Returns (distance: pandas Series indexed by bus id, NaN where
    unreachable; parent: dict bus id -> previous bus on the shortest path)."""
    from . import _libgrid
    if by not in ("km", "hops"):
        raise ValueError(f"bus_distance: by={by!r}: expected 'km' or 'hops'")
    try:
        ids, dist, parent = _libgrid.source_distance(getattr(net, "_core", net), by)
    except ValueError as e:
        raise ValueError(f"bus_distance: {e}") from None
    s = pd.Series(dist, index=pd.Index([int(b) for b in ids], name="bus"), dtype=float, name=f"distance_{by}")
    return s, {int(b): int(p) for b, p in zip(ids, parent) if p is not None}


def feeder_path(net, to_bus: int, by: str = "km") -> List[int]:
    """Bus ids on the shortest path from the slack to `to_bus`, slack first (see `bus_distance`)."""
    dist, parent = bus_distance(net, by)
    to_bus = int(to_bus)
    if to_bus not in dist.index:
        raise KeyError(f"feeder_path: no bus {to_bus} in the network")
    if not np.isfinite(dist[to_bus]):
        raise ValueError(f"feeder_path: bus {to_bus} is not connected to a slack bus")
    path = [to_bus]
    while path[-1] in parent:
        path.append(parent[path[-1]])
    return path[::-1]


def voltage_profile(res, net, feeder_buses: Optional[Sequence[int]] = None, ax=None, by: Optional[str] = None,
                    limits: bool = True):
    """|V| along a feeder: minimum, mean and maximum over the run at each bus of the feeder, against
    the distance from the slack, with the min..max envelope shaded.

    feeder_buses: bus ids in order along the feeder; None = the path from the slack to the bus with
    the lowest voltage of the run (ties: the farthest). by: "km" (default when the network has lines)
    or "hops" (bus order from the slack). limits: draw the feeder buses' vmin_pu/vmax_pu limits as
    dotted lines when they are the same along the feeder. Returns the Axes; its first three lines are
    min, mean, max (x = distance, y = |V| p.u.)."""
    if by is None:
        by = "km" if len(net.line) else "hops"
    vm = res.bus_vm()
    dist, _ = bus_distance(net, by)
    if feeder_buses is None:
        low = vm.min(axis=0)
        low = low[low.index.isin(dist.index[np.isfinite(dist.to_numpy())])].dropna()
        if low.empty:
            raise ValueError("voltage_profile: no energised bus connected to the slack")
        worst = low[low == low.min()].index
        target = max(worst, key=lambda b: dist[b])
        feeder_buses = feeder_path(net, target, by)
    buses = [int(b) for b in feeder_buses]
    missing = [b for b in buses if b not in vm.columns]
    if missing:
        raise KeyError(f"voltage_profile: buses {missing} are not in the results' /bus/id")
    x = dist.reindex(buses).to_numpy(dtype=float)
    if np.isnan(x).any():
        raise ValueError(f"voltage_profile: buses {[b for b, d in zip(buses, x) if np.isnan(d)]} "
                         "are not connected to a slack bus")
    v = vm[buses]
    vmin, vmean, vmax = (v.min(axis=0).to_numpy(float), v.mean(axis=0).to_numpy(float),
                         v.max(axis=0).to_numpy(float))
    ax = _axes(ax)
    ax.plot(x, vmin, "o-", color="tab:blue", ms=3, label="min over time")
    ax.plot(x, vmean, "--", color="0.35", label="mean")
    ax.plot(x, vmax, "o-", color="tab:red", ms=3, label="max over time")
    ax.fill_between(x, vmin, vmax, color="tab:purple", alpha=0.15, label="envelope")
    if limits:
        bus = net.bus.reindex(buses)
        for col, style, name in (("vmin_pu", "tab:blue", "lower"), ("vmax_pu", "tab:red", "upper")):
            if col in bus:
                lim = bus[col].to_numpy(float)
                values = " / ".join(f"{v:g}" for v in sorted(set(lim)))
                # each bus's own limit (it changes at a transformer, e.g. 0.95 at 11 kV, 0.94 at 400 V)
                ax.plot(x, lim, color=style, ls=":", lw=1.3, drawstyle="steps-post",
                        label=f"{name} limit ({values} p.u.)")
    ax.set_xlabel("distance from the slack (km)" if by == "km" else "buses from the slack")
    ax.set_ylabel("|V| (p.u.)")
    _title(ax, f"Voltage along the feeder to bus {buses[-1]} ({len(buses)} buses)", res)
    ax.legend(loc="best", fontsize="small")
    return ax


# ---- unbalanced runs (issue 15) -----------------------------------------------------------------

#: OpenDSS's "plot profile" colours: phase 1 black, 2 red, 3 blue
PHASE_COLORS = {"a": "black", "b": "tab:red", "c": "tab:blue"}


def _dss_network_of(res):
    """The UnbalancedNetwork a run was made from: network.file of its scenario attribute."""
    import yaml
    from .unbalanced import UnbalancedNetwork
    text = res.attrs.get("scenario") or ""
    try:
        path = ((yaml.safe_load(text) or {}).get("network") or {}).get("file")
    except yaml.YAMLError:
        path = None
    if not path or not str(path).lower().endswith(".dss"):
        raise ValueError("phase_voltage_profile: the results do not name a .dss network (scenario attribute "
                         "network.file); pass net=UnbalancedNetwork.from_dss(...)")
    return UnbalancedNetwork.from_dss(path)


def unbalanced_bus_distance(net) -> pd.Series:
    """Distance of every bus of an UnbalancedNetwork from its source (the first Vsource's bus) along
    enabled lines (their length, km; transformers 0 km), by bus name (Dijkstra). NaN where unreachable."""
    import heapq
    lines, trafos, src = net.table("lines"), net.table("transformers"), net.table("vsources")
    names = list(net.table("buses").index)
    adj: Dict[str, list] = {b: [] for b in names}
    for b1, b2, km, on in zip(lines["bus1"], lines["bus2"], lines["length_km"], lines["enabled"]):
        if on:
            adj[b1].append((b2, float(km)))
            adj[b2].append((b1, float(km)))
    if len(trafos):
        wcols = [c for c in trafos.columns if c.startswith("bus") and c[3:].isdigit()]
        for _, t in trafos.iterrows():
            buses = [t[c] for c in wcols if t[c]]
            if t["enabled"]:
                for a in buses:
                    adj[a].extend((b, 0.0) for b in buses if b != a)
    dist = {b: np.inf for b in names}
    if len(src):
        root = src["bus"].iloc[0]
        dist[root] = 0.0
        heap = [(0.0, root)]
        while heap:
            d, b = heapq.heappop(heap)
            if d > dist[b]:
                continue
            for nb, km in adj[b]:
                if d + km < dist[nb]:
                    dist[nb] = d + km
                    heapq.heappush(heap, (d + km, nb))
    s = pd.Series(dist, name="distance_km", dtype=float).replace(np.inf, np.nan)
    s.index.name = "bus"
    return s


def phase_voltage_profile(res, net=None, time=None, ax=None, limits: Optional[Sequence[float]] = None):
    """The three phase voltages along a feeder at one time, as OpenDSS's "plot profile": every line
    drawn from (distance of bus1, |V| at bus1) to (distance of bus2, |V| at bus2) for each phase it
    carries, phase a black, b red, c blue. x: distance from the source along the lines, km; y: |V|
    phase to neutral (to ground where the bus has no neutral node), p.u. (Results.node_vln_pu).

    res: an unbalanced run's Results. net: its UnbalancedNetwork (None: read from the scenario's
    network.file). time: a row number, a time stamp, or None = the step with the lowest phase voltage
    of the run. limits: e.g. (0.94, 1.10) drawn as dotted lines. Returns the Axes; `ax.profile` holds
    the plotted points (DataFrame: bus, phase, distance_km, v_pu) and `ax.profile_time` the time."""
    from matplotlib.collections import LineCollection
    if res.model != "unbalanced":
        raise ValueError(f"phase_voltage_profile: '{res.path}' is a {res.model} run; use voltage_profile")
    net = _dss_network_of(res) if net is None else net
    vln = res.node_vln_pu()
    if isinstance(time, (int, np.integer)):
        row = int(time)
    elif time is None:
        row = int(np.nanargmin(vln.min(axis=1).to_numpy(dtype=float)))
    else:
        stamp = pd.Timestamp(time)
        if vln.index.tz is not None and stamp.tz is None:
            stamp = stamp.tz_localize(vln.index.tz)
        row = int(vln.index.get_indexer([stamp], method="nearest")[0])
    v = vln.iloc[row]
    dist = unbalanced_bus_distance(net)
    lines = net.table("lines")
    ax = _axes(ax)
    points = []
    for ph, color in PHASE_COLORS.items():
        segs = []
        for b1, b2, on in zip(lines["bus1"], lines["bus2"], lines["enabled"]):
            k1, k2 = f"{b1}.{ph}", f"{b2}.{ph}"
            if on and k1 in v.index and k2 in v.index and np.isfinite(dist.get(b1, np.nan)) and np.isfinite(dist.get(b2, np.nan)):
                segs.append([(dist[b1], v[k1]), (dist[b2], v[k2])])
        if not segs:
            continue
        ax.add_collection(LineCollection(segs, colors=color, linewidths=1.2, label=f"phase {ph}"))
        xy = np.unique(np.array(segs).reshape(-1, 2), axis=0)
        ax.plot(xy[:, 0], xy[:, 1], ".", color=color, ms=3)
        for lab in v.index:
            bus, p = lab.rsplit(".", 1)
            if p == ph and np.isfinite(dist.get(bus, np.nan)):
                points.append((bus, ph, float(dist[bus]), float(v[lab])))
    ax.autoscale_view()
    for lim in limits or ():
        ax.axhline(float(lim), color="0.4", ls=":", lw=1.2)
    ax.set_xlabel("distance from the source along the lines (km)")
    ax.set_ylabel("|V| phase to neutral (p.u.)")
    when = _wall_clock(vln.index)[row]
    _title(ax, f"Phase voltages along the feeder at {when}", res)
    ax.legend(loc="best", fontsize="small")
    ax.profile = pd.DataFrame(points, columns=["bus", "phase", "distance_km", "v_pu"])
    ax.profile_time = vln.index[row]
    return ax


# ---- powers -------------------------------------------------------------------------------------

_GENERATORS = ("ext_grid", "gen", "pv", "sgen")


def load_duration_curve(res, what: str = "ext_grid", ax=None, label: Optional[str] = None):
    """Load duration curve: the total of a group's `p_mw` per step, sorted from largest to smallest,
    against the hours of the run it is reached or exceeded.

    what: "ext_grid" (grid import, MW; export is negative), "pv", "gen", "sgen" (generation positive),
    or a consuming group "load", "ev", "ev_site", "home", "building", "battery" (consumption
    positive). Call again with the same `ax` to compare runs. Returns the Axes; the curve is its
    last line (x in h, y in MW)."""
    total = _total(res, what)
    if total is None:
        raise KeyError(f"load_duration_curve: results file '{res.path}' has no '/{what}/p_mw'")
    sign = 1.0 if what in _GENERATORS else -1.0
    y = np.sort(sign * total.to_numpy(float))[::-1]
    dt = _step_hours(res)
    x = np.arange(len(y)) * dt
    ax = _axes(ax)
    name = {"ext_grid": "grid import"}.get(what, what if sign > 0 else f"{what} consumption")
    ax.plot(x, y, drawstyle="steps-post", label=label or name)
    if y.size and y.min() < 0 <= y.max():
        ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xlabel("hours at or above (h)")
    ax.set_ylabel(f"{name} (MW)")
    drawn = getattr(ax, "_libgrid_runs", []) + [res]  # called again on the same axes: every run drawn
    ax._libgrid_runs = drawn
    _title(ax, "Load duration curve", drawn)
    ax.legend(loc="best", fontsize="small")
    return ax


def transformer_loading(res, ax=None, max_lines: int = 8):
    """Loading (%) of the transformers (`/branch` rows whose kind is "trafo") over time, with the
    100 % line. The `max_lines` (all up to `max_lines` + 1) transformers with the highest peak loading are drawn as lines of
    distinct colours, labelled "trafo <element id> (<rating> kVA), peak <x> %" (the rating from
    /branch/rated_kva when the file has it); the others, if any, as one grey band (min..max over them
    at each step) and their median. Returns the Axes: one line per transformer drawn, then (with
    others) their median, then the 100 % line."""
    kind = res.vector("branch", "kind").astype(str)
    element = res.vector("branch", "element_id")
    rated = _vector_or_none(res, "branch", "rated_kva")
    load = res.series("branch", "loading_percent")
    trafo_cols = [c for c in load.columns if kind.get(c, "") == "trafo"]
    if not trafo_cols:
        raise ValueError(f"transformer_loading: results file '{res.path}' has no transformer in /branch")
    tl = load[trafo_cols]
    peak = tl.max(axis=0).fillna(-np.inf)
    n_drawn = len(trafo_cols) if len(trafo_cols) <= max_lines + 1 else max_lines  # no band of one
    chosen = list(peak.sort_values(ascending=False, kind="stable").index[:n_drawn])
    rest = [c for c in trafo_cols if c not in chosen]
    if not rest:
        chosen.sort(key=trafo_cols.index)
    ax = _axes(ax, figsize=(10, 4.5))
    t = _wall_clock(tl.index)
    colors = [c for i, c in enumerate(_pyplot().get_cmap("tab10" if len(chosen) <= 9 else "tab20").colors)
              if i not in (7, 14, 15)]  # no grey: grey is the other transformers' band
    for i, c in enumerate(chosen):
        kva = f" ({float(rated[c]):,.0f} kVA)" if rated is not None and np.isfinite(rated[c]) else ""
        ax.plot(t, tl[c].to_numpy(float), lw=1, color=colors[i % len(colors)],
                label=f"trafo {int(element[c])}{kva}, peak {peak[c]:.0f} %")
    if rest:
        other = tl[rest].to_numpy(float)
        ax.fill_between(t, np.nanmin(other, axis=1), np.nanmax(other, axis=1), color="0.6", alpha=0.3, lw=0,
                        label=f"the other {len(rest)}: min..max")
        ax.plot(t, np.nanmedian(other, axis=1), color="0.4", lw=1, label=f"the other {len(rest)}: median")
    ax.axhline(100.0, color="red", ls="--", lw=1.2, label="100 % (rating)")
    _time_axis(ax)
    ax.set_ylabel("loading (% of rating)")
    ax.set_xlabel("time (Melaka)")
    shown = "" if not rest else f": the {len(chosen)} most loaded of {len(trafo_cols)}"
    _title(ax, "Transformer loading" + shown, res)
    ax.set_ylim(bottom=0.0, top=max(105.0, float(np.nanmax(tl.to_numpy(float))) * 1.05))
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    return ax


def phase_loading(res, trafo=None, axes=None, vuf_limit_percent: Optional[float] = None):
    """An unbalanced run's three phases over time (issue 15): on top, one transformer's loading per
    phase (Results.trafo_phase_loading: the LV winding's phase current over the rating / 3), phase a
    black, b red, c blue, the mean of the three dotted (about what a balanced model shows) and the
    100 % line; below, the voltage unbalance factor (Results.vuf): the worst three-phase bus at each
    step, that transformer's LV bus, and the limit (vuf_limit_percent, else the run's
    /summary/vuf_limit_percent, else 2 %) dashed.

    trafo: a transformer name (column of trafo_phase_loading) or None = the one with the highest phase
    loading of the run. axes: two Axes (top, bottom) or None for a new figure. Returns the two Axes;
    `axes[0].trafo` names the transformer drawn."""
    if res.model != "unbalanced":
        raise ValueError(f"phase_loading: '{res.path}' is a {res.model} run; use transformer_loading")
    tl = res.trafo_phase_loading()
    names = list(dict.fromkeys(tl.columns.get_level_values("trafo")))
    if not names:
        raise ValueError(f"phase_loading: results file '{res.path}' has no transformer")
    if trafo is None:
        trafo = max(names, key=lambda n: float(np.nanmax(tl[n].to_numpy(float))))
    elif trafo not in names:
        raise KeyError(f"phase_loading: no transformer {trafo!r} (have {names[:5]}{' ...' if len(names) > 5 else ''})")
    if axes is None:
        _, axes = _pyplot().subplots(2, 1, figsize=(10, 6.5), sharex=True, layout="constrained",
                                     gridspec_kw={"height_ratios": [3, 2]})
    top, bottom = axes[0], axes[1]
    t = _wall_clock(tl.index)
    one = tl[trafo]
    for ph, color in PHASE_COLORS.items():
        if ph in one.columns:
            top.plot(t, one[ph].to_numpy(float), lw=1, color=color, label=f"phase {ph}, peak {np.nanmax(one[ph].to_numpy(float)):.0f} %")
    top.plot(t, one.mean(axis=1).to_numpy(float), lw=1.2, ls=":", color="0.3", label="mean of the phases")
    peak = float(np.nanmax(one.to_numpy(float)))
    if peak > 60.0:  # the rating in view; a lightly loaded unit keeps its detail
        top.axhline(100.0, color="tab:orange", ls="--", lw=1.2, label="100 % (rating / 3 per phase)")
    top.set_ylabel("loading per phase (% of kVA / 3)")
    top.set_ylim(bottom=0.0, top=max(105.0, peak * 1.05) if peak > 60.0 else max(1.0, peak * 1.15))
    top.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    _title(top, f"Transformer {trafo}: loading per phase (LV side) and voltage unbalance", res)
    vuf = res.vuf()
    limit = vuf_limit_percent if vuf_limit_percent is not None else float(res.summary.get("vuf_limit_percent", 2.0))
    if not np.isfinite(limit):
        limit = 2.0
    if vuf.shape[1]:
        bottom.plot(t, vuf.max(axis=1).to_numpy(float), lw=1, color="tab:purple", label="worst three-phase bus")
    lv = _trafo_lv_bus(res, trafo)
    if lv is not None and lv in vuf.columns:
        bottom.plot(t, vuf[lv].to_numpy(float), lw=1, color="0.4", label=f"transformer's LV bus ({lv})")
    bottom.axhline(limit, color="tab:orange", ls="--", lw=1.2, label=f"limit {limit:g} %")
    bottom.set_ylabel("VUF |V2| / |V1| (%)")
    bottom.set_xlabel("time (Melaka)")
    bottom.set_ylim(bottom=0.0)
    bottom.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
    _time_axis(bottom)
    top.trafo = trafo
    return axes


def _trafo_lv_bus(res, trafo) -> Optional[str]:
    """The name of a transformer's winding-2 bus (from /branch/to_bus and /bus/name), or None."""
    try:
        kind = res.vector("branch", "kind").astype(str).to_numpy()
        name = res.vector("branch", "name").astype(str).to_numpy()
        to_bus = res.vector("branch", "to_bus").to_numpy()
        bus_name = res.vector("bus", "name")
    except KeyError:
        return None
    for k, n, b in zip(kind, name, to_bus):
        if k == "trafo" and n == str(trafo) and b in bus_name.index:
            return str(bus_name[b])
    return None


def battery_soc(res, ax=None, max_lines: int = 10):
    """Battery state of charge (%) over time (`/battery/soc`). Up to `max_lines` batteries: one line
    each (labelled "battery <id>"); more: the mean as one line and the min..max band shaded.
    Returns the Axes."""
    if not _has(res, "battery", "soc"):
        raise KeyError(f"battery_soc: results file '{res.path}' has no '/battery/soc'")
    soc = res.series("battery", "soc") * 100.0
    t = _wall_clock(soc.index)
    ax = _axes(ax)
    if soc.shape[1] <= max_lines:
        for c in soc.columns:
            ax.plot(t, soc[c].to_numpy(float), lw=1, label=f"battery {c}")
        _title(ax, "Battery state of charge", res)
    else:
        ax.fill_between(t, soc.min(axis=1).to_numpy(float), soc.max(axis=1).to_numpy(float),
                        color="tab:green", alpha=0.2, label="min..max")
        ax.plot(t, soc.mean(axis=1).to_numpy(float), color="tab:green", label=f"mean of {soc.shape[1]}")
        _title(ax, f"Battery state of charge ({soc.shape[1]} batteries)", res)
    _time_axis(ax)
    ax.set_ylim(0, 100)
    ax.set_ylabel("SoC (%)")
    ax.set_xlabel("time (Melaka)")
    ax.legend(loc="best", fontsize="small", ncol=2)
    return ax


def outage(res, axes=None, margin_h: float = 2.0):
    """An outage through time (issue 16, docs/microgrid.md "Time series"), three panels sharing the
    time axis, from `margin_h` hours before the run's first event to `margin_h` after its last (the
    whole run without events): the droop islands' frequency (`/island`, min..max; nominal dashed),
    the batteries' state of charge (all of /battery together: stored / capacity, %) and the
    customers' load served and not served (`/load/p_mw`, `/load/not_served_kw`: shed or
    de-energised), kW. Returns the three Axes."""
    plt = _pyplot()
    if axes is None:
        _, axes = plt.subplots(3, 1, figsize=(9, 7.5), sharex=True, layout="constrained")
    ax_f, ax_s, ax_l = axes
    ev = res.events()
    index = res.time
    lo, hi = index[0], index[-1]
    if not ev.empty:
        lo = max(lo, ev["time"].min() - pd.Timedelta(hours=margin_h))
        hi = min(hi, ev["time"].max() + pd.Timedelta(hours=margin_h))
    win = (index >= lo) & (index <= hi)
    t = _wall_clock(index[win])
    isl = res.island()
    if not isl.empty:
        f0 = float(res.attrs.get("f_hz", 50.0)) if hasattr(res, "attrs") else 50.0
        ax_f.fill_between(t, isl["frequency_min_hz"].to_numpy(float)[win], isl["frequency_max_hz"].to_numpy(float)[win],
                          color="tab:purple", alpha=0.3, step="post")
        ax_f.step(t, isl["frequency_min_hz"].to_numpy(float)[win], where="post", color="tab:purple", lw=1.2, label="island frequency")
        ax_f.axhline(f0, color="0.4", ls="--", lw=0.8, label=f"nominal {f0:g} Hz")
        ax_f.legend(loc="lower right", fontsize="small")
    else:
        ax_f.text(0.5, 0.5, "no grid-forming source: no island is held", ha="center", va="center", transform=ax_f.transAxes)
    ax_f.set_ylabel("frequency (Hz)")
    if _has(res, "battery", "soc"):
        soc = res.series("battery", "soc")
        e = res.vector("battery", "e_kwh").reindex(soc.columns).to_numpy(float)
        agg = (soc.to_numpy(float) * e).sum(axis=1) / e.sum() * 100.0
        ax_s.step(t, agg[win], where="post", color="tab:green", lw=1.5, label=f"{soc.shape[1]} batteries together")
        ax_s.set_ylim(0, 100)
        ax_s.legend(loc="best", fontsize="small")
    else:
        ax_s.text(0.5, 0.5, "no batteries", ha="center", va="center", transform=ax_s.transAxes)
    ax_s.set_ylabel("state of charge (%)")
    served = -res.series("load", "p_mw").sum(axis=1).to_numpy(float) * 1000.0
    if _has(res, "load", "not_served_kw"):
        ns = res.series("load", "not_served_kw").sum(axis=1).to_numpy(float)
    else:
        ns = np.zeros_like(served)
    ax_l.stackplot(t, served[win], ns[win], labels=["served", "not served (shed or de-energised)"],
                   colors=["tab:blue", "tab:red"], alpha=0.8, step="post")
    ax_l.set_ylabel("customers' load (kW)")
    ax_l.set_xlabel("time (Melaka)")
    ax_l.legend(loc="upper left", fontsize="small")
    for ax in axes:
        for when in ev["time"] if not ev.empty else []:
            ax.axvline(_wall_clock(pd.DatetimeIndex([when]))[0], color="0.5", lw=0.8, ls=":")
    _time_axis(ax_l)
    _title(ax_f, "Outage: island frequency, batteries, load served", res)
    return axes


#: EV charging power series: (group, dataset, legend label)
_EV_SOURCES = (("ev", "p_mw", "EV stations (/ev)"), ("ev_site", "ev_mw", "charging sites (/ev_site)"),
               ("home", "ev_mw", "HEMS homes (/home)"))


def ev_charging_by_hour(res) -> pd.DataFrame:
    """Mean EV charging power (MW, consumption positive) by hour of day (0..23, Melaka time), one
    column per group that holds EVs: "ev" (/ev/p_mw), "ev_site" (/ev_site/ev_mw), "home"
    (/home/ev_mw). V2H discharge counts negative."""
    cols = {}
    for group, name, _ in _EV_SOURCES:
        total = _total(res, group, name)
        if total is not None:
            hours = _wall_clock(total.index).hour
            cols[group] = (-total).groupby(np.asarray(hours)).mean().reindex(range(24))
    df = pd.DataFrame(cols, index=pd.RangeIndex(24, name="hour"))
    return df


def ev_charging(res=None, ax=None, by: Optional[Mapping[str, object]] = None):
    """EV charging power by hour of day (mean over the run's days, MW, consumption positive).

    One run: stacked bars by group (/ev stations, /ev_site charging sites, /home HEMS homes).
    by={label: Results, ...}: one line per run of the total (e.g. charging strategies compared);
    `res`, if also given, is drawn first as "run". Returns the Axes (bars: `ax.containers`, one per
    group; lines: `ax.lines`, one per run)."""
    if res is None and not by:
        raise ValueError("ev_charging: give a Results or by={label: Results}")
    ax = _axes(ax)
    hours = np.arange(24)
    if by:
        runs = ([("run", res)] if res is not None else []) + list(by.items())
        for label, r in runs:
            df = ev_charging_by_hour(r)
            if df.empty:
                raise KeyError(f"ev_charging: results '{label}' ('{r.path}') hold no EV group")
            ax.plot(hours, df.sum(axis=1).to_numpy(float), "o-", ms=3, label=label)
        _title(ax, "EV charging by hour of day (mean over the days of each run)", [r for _, r in runs])
    else:
        df = ev_charging_by_hour(res)
        if df.empty:
            raise KeyError(f"ev_charging: results file '{res.path}' has no /ev, /ev_site or /home group")
        bottom = np.zeros(24)
        labels = {g: lab for g, _, lab in _EV_SOURCES}
        for group in df.columns:
            y = df[group].fillna(0.0).to_numpy(float)
            ax.bar(hours, y, bottom=bottom, width=0.85, label=labels[group], align="edge")
            bottom += y
        _title(ax, "EV charging by hour of day (mean over the days of the run)", res)
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3))
    ax.set_xlabel("hour of day (Melaka)")
    ax.set_ylabel("charging power (MW)")
    ax.legend(loc="best", fontsize="small")
    return ax


def energy_balance(res) -> pd.DataFrame:
    """The run's power balance per step (MW, generator convention) by component:

    - "load": /load, /building, the HEMS homes' own consumption (/home p - ev - pv - battery) and a
      charging site's residual (/ev_site p - ev - pv - battery, normally 0)
    - "pv": /pv, /ev_site pv_mw, /home pv_mw
    - "battery": /battery, /ev_site battery_mw, /home battery_mw (discharge positive)
    - "ev": /ev, /ev_site ev_mw, /home ev_mw (charging negative)
    - "grid": /ext_grid (import positive, export negative)
    - "losses": minus the sum of /branch/p_loss_mw
    - "other": /gen, /sgen, /storage, /shunt (only when the file has one of them)

    The columns add up to the step's energy-balance error (the run's
    /summary/energy_balance_max_error_mw bounds it, up to float32 storage rounding)."""
    if res.time is not None:
        index = res.time
    else:
        index = res.bus_vm().index
    zero = pd.Series(0.0, index=index)

    def get(group, name="p_mw"):
        s = _total(res, group, name)
        return zero if s is None else s.reindex(index).fillna(0.0)

    ev = get("ev")
    pv = get("pv")
    battery = get("battery")
    load = get("load") + get("building")
    for group in ("ev_site", "home"):
        if _has(res, group):
            p, e, s, b = get(group), get(group, "ev_mw"), get(group, "pv_mw"), get(group, "battery_mw")
            ev, pv, battery = ev + e, pv + s, battery + b
            load = load + (p - e - s - b)
    cols = {"load": load, "pv": pv, "battery": battery, "ev": ev, "grid": get("ext_grid"),
            "losses": -get("branch", "p_loss_mw")}
    if any(_has(res, g) for g in ("gen", "sgen", "storage", "shunt")):
        cols["other"] = get("gen") + get("sgen") + get("storage") + get("shunt")
    df = pd.DataFrame(cols, index=index)
    df.attrs["unit"] = "MW"
    return df


_BALANCE_COLORS = {"load": "tab:gray", "pv": "gold", "battery": "tab:green", "ev": "tab:purple",
                   "grid": "tab:blue", "losses": "tab:red", "other": "tab:brown"}


def energy_balance_day(res, day, ax=None, freq: str = "1h"):
    """One day's energy balance as stacked bars per hour (MWh per `freq` interval): sources
    (PV, battery discharge, grid import, ...) stacked up, sinks (load, EV, battery charge, export,
    losses) stacked down, so in each interval the bars above and below zero have the same height.

    day: a date ("2025-06-03", Timestamp, date) in Melaka time. Returns the Axes; the drawn
    energies (interval x component, MWh) are in `ax.energy_mwh` (a DataFrame)."""
    bal = energy_balance(res)
    idx = _wall_clock(bal.index)
    day = pd.Timestamp(day).normalize()
    if day.tzinfo is not None:
        day = day.tz_localize(None)
    mask = (idx >= day) & (idx < day + pd.Timedelta(days=1))
    if not mask.any():
        raise ValueError(f"energy_balance_day: {day.date()} is not in the run ({idx[0]} .. {idx[-1]})")
    dt = _step_hours(res)
    day_bal = bal[mask].copy()
    day_bal.index = idx[mask]
    energy = (day_bal * dt).resample(freq).sum()
    width_h = pd.Timedelta(freq).total_seconds() / 3600.0
    x = (energy.index - day).total_seconds().to_numpy() / 3600.0
    ax = _axes(ax)
    up, down = np.zeros(len(x)), np.zeros(len(x))
    for comp in energy.columns:
        e = energy[comp].to_numpy(float)
        pos, neg = np.clip(e, 0, None), np.clip(e, None, 0)
        color = _BALANCE_COLORS.get(comp)
        labelled = False
        if (pos > 0).any():
            ax.bar(x, pos, bottom=up, width=width_h * 0.9, align="edge", color=color, label=comp)
            up += pos
            labelled = True
        if (neg < 0).any():
            ax.bar(x, neg, bottom=down, width=width_h * 0.9, align="edge", color=color,
                   label=None if labelled else comp, hatch="//" if labelled else None)
            down += neg
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xlim(0, 24)
    ax.set_xticks(range(0, 25, 3))
    ax.set_xlabel("hour of day (Melaka)")
    ax.set_ylabel(f"energy per {freq} (MWh)")
    _title(ax, f"Energy balance {day.date()} (sources up, sinks down)", res)
    ax.legend(loc="upper left", fontsize="small", ncol=2)
    ax.energy_mwh = energy
    return ax


# ---- bills and KPIs -----------------------------------------------------------------------------

def customer_bills(res) -> pd.Series:
    """Each customer's bills over the run (RM): /bill/total_rm summed over the months, indexed by the
    customer (/bill/id)."""
    if not _has(res, "bill", "total_rm"):
        raise KeyError(f"customer_bills: results file '{res.path}' has no '/bill/total_rm'")
    df = res.series("bill", "total_rm")
    s = df.sum(axis=0).astype(float)
    s.index.name = "customer"
    s.name = "total_rm"
    return s


def bills(res_before, res_after, ax=None, labels=("before", "after"), kind: str = "auto", bins: int = 30):
    """Customers' bills (RM, /bill/total_rm summed over the months) of two runs.

    kind: "bar" (one pair of bars per customer, customers matched by id; the default up to 40
    customers), "scatter" (one point per customer: before on x, after on y, with the y = x line;
    log axes when every bill is positive; the default above 40 customers, where bills of homes
    and malls differ by orders of magnitude), "hist" (the two distributions) or "sorted" (each
    run's bills sorted, against the customer's rank). Returns the Axes."""
    a, b = customer_bills(res_before), customer_bills(res_after)
    ids = a.index.union(b.index)
    if kind == "auto":
        kind = "bar" if len(ids) <= 40 else "scatter"
    ax = _axes(ax)
    la, lb = labels
    if kind == "bar":
        x = np.arange(len(ids))
        ax.bar(x - 0.2, a.reindex(ids).to_numpy(float), width=0.4, label=f"{la} (total RM {a.sum():,.0f})")
        ax.bar(x + 0.2, b.reindex(ids).to_numpy(float), width=0.4, label=f"{lb} (total RM {b.sum():,.0f})")
        ax.set_xticks(x)
        ax.set_xticklabels([str(i) for i in ids], rotation=90 if len(ids) > 15 else 0, fontsize="small")
        ax.set_xlabel("customer")
        ax.set_ylabel("bill (RM)")
    elif kind == "scatter":
        x, y = a.reindex(ids).to_numpy(float), b.reindex(ids).to_numpy(float)
        lower = (y < x).sum()
        ax.scatter(x, y, s=14, alpha=0.7, label=f"customers ({lower} of {len(ids)} pay less {lb})")
        finite = np.concatenate([x[np.isfinite(x)], y[np.isfinite(y)]])
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        ax.plot([lo, hi], [lo, hi], color="0.4", lw=1, ls="--", label="same bill")
        if finite.size and lo > 0:
            ax.set_xscale("log")
            ax.set_yscale("log")
        ax.set_xlabel(f"bill {la} (RM)")
        ax.set_ylabel(f"bill {lb} (RM)")
    elif kind == "hist":
        both = np.concatenate([a.to_numpy(float), b.to_numpy(float)])
        edges = np.histogram_bin_edges(both[np.isfinite(both)], bins=bins)
        ax.hist(a.to_numpy(float), bins=edges, alpha=0.55, label=f"{la} (mean RM {a.mean():,.2f})")
        ax.hist(b.to_numpy(float), bins=edges, alpha=0.55, label=f"{lb} (mean RM {b.mean():,.2f})")
        ax.set_xlabel("bill (RM)")
        ax.set_ylabel("customers")
    elif kind == "sorted":
        ax.plot(np.arange(len(a)), np.sort(a.to_numpy(float)), label=la)
        ax.plot(np.arange(len(b)), np.sort(b.to_numpy(float)), label=lb)
        ax.set_xlabel("customers, sorted by bill")
        ax.set_ylabel("bill (RM)")
    else:
        raise ValueError(f"bills: kind={kind!r}: expected 'auto', 'bar', 'scatter', 'hist' or 'sorted'")
    _title(ax, f"Electricity bills per customer: {la} vs {lb}", [res_before, res_after])
    ax.legend(loc="best", fontsize="small")
    return ax


def customer_classes(res) -> pd.Series:
    """Each billed customer's class (e.g. "terrace_house", "mall"), indexed by the customer (/bill/id):
    the type of the load with the customer's id (/load/type; customers are loads in libgrid's
    scenarios), "unknown" when the file has no /load/type or no such load."""
    ids = customer_bills(res).index
    cls = _vector_or_none(res, "load", "type")
    if cls is None:
        return pd.Series("unknown", index=ids, name="class")
    cls = cls.astype(str).replace("", "unknown")
    return cls.reindex(ids).fillna("unknown").rename("class")


def _partial_months(runs) -> str:
    """'partial month (N d of M), billed as is' when a run's bills cover a month only in part, else ""."""
    notes = []
    for _, r in runs:
        try:
            b = r.bills()
        except (KeyError, AttributeError):
            continue
        if "full_month" not in b:
            continue
        part = b.loc[~b.full_month, ["month", "days_covered"]].drop_duplicates("month")
        for _, row in part.iterrows():
            notes.append(f"{row.month} a partial month ({row.days_covered:g} days)")
    return "; ".join(dict.fromkeys(notes))


def bills_by_class(results, ax=None, classes: Optional[pd.Series] = None, scale: str = "auto", top: int = 3):
    """Customers' bills over the run (RM, /bill/total_rm summed over the months) by customer class, as
    box plots (box: 25 %..75 %, whiskers 5 %..95 %, dots beyond), one box per class and run.

    results: a Results, or {label: Results} to compare runs (boxes side by side). classes: the class
    of each customer (Series indexed by customer id; default `customer_classes`). scale: "log"
    (when every bill is positive), "symlog" (bills at or below zero, e.g. export credits), "linear",
    or "auto" (log when it can). The `top` largest bills are named in a note in the figure (customer,
    class, RM), so that one mall's bill does not hide in a squeezed axis. Returns the Axes; the drawn
    bills are in `ax.bills` (DataFrame: customer, class, run, bill_rm)."""
    runs = list(results.items()) if isinstance(results, Mapping) else [("run", results)]
    frames = []
    for label, r in runs:
        b = customer_bills(r)
        c = (classes if classes is not None else customer_classes(r)).reindex(b.index).fillna("unknown")
        frames.append(pd.DataFrame({"customer": b.index, "class": c.to_numpy(), "run": str(label),
                                    "bill_rm": b.to_numpy(float)}))
    df = pd.concat(frames, ignore_index=True)
    ax = _axes(ax, figsize=(10, 4.8))
    order = df.groupby("class")["bill_rm"].median().sort_values().index.tolist()
    n_runs = len(runs)
    width = 0.8 / n_runs
    colors = _pyplot().get_cmap("tab10").colors
    for k, (label, _) in enumerate(runs):
        sub = df[df.run == str(label)]
        data = [sub.loc[sub["class"] == c, "bill_rm"].to_numpy(float) for c in order]
        pos = np.arange(len(order)) + (k - (n_runs - 1) / 2) * width
        bp = ax.boxplot(data, positions=pos, widths=width * 0.85, whis=(5, 95), patch_artist=True,
                        manage_ticks=False, flierprops={"markersize": 3, "alpha": 0.6})
        for box in bp["boxes"]:
            box.set_facecolor(colors[k % 10])
            box.set_alpha(0.6)
        if n_runs > 1:
            ax.plot([], [], "s", color=colors[k % 10], alpha=0.6, label=str(label))
    counts = df[df.run == str(runs[0][0])].groupby("class").size()
    ax.set_xticks(range(len(order)))
    ax.set_xticklabels([f"{c.replace('_', ' ')}\n({int(counts.get(c, 0))})" for c in order], fontsize="small")
    if scale == "auto":
        scale = "log" if (df.bill_rm > 0).all() else "symlog"
    if scale == "symlog":
        ax.set_yscale("symlog", linthresh=1.0)
        low = float(df.bill_rm.min())
        ax.set_ylim(bottom=0.0 if low >= 0 else 2.0 * low, top=2.0 * max(float(df.bill_rm.max()), 1.0))
    elif scale in ("log", "linear"):
        ax.set_yscale(scale)
    else:
        raise ValueError(f"bills_by_class: scale={scale!r}: expected 'auto', 'log', 'symlog' or 'linear'")
    xlabel = "customer class (number of customers)"
    if top:
        big = df.sort_values("bill_rm", ascending=False).drop_duplicates("customer").head(top)
        xlabel += "\nlargest bills: " + "; ".join(f"customer {int(r.customer)} ({r['class'].replace('_', ' ')}) "
                                                  f"RM {r.bill_rm:,.0f}" for _, r in big.iterrows())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"bill over the run (RM, {scale} scale)")
    if n_runs > 1:
        ax.legend(loc="lower right", fontsize="small")
    what = "Electricity bills by customer class (box 25-75 %, whiskers 5-95 %)"
    partial = _partial_months(runs)
    if partial:
        what += f"; {partial}"
    _title(ax, what, [r for _, r in runs])
    ax.bills = df
    return ax


#: The order of the first rows of `compare_kpis` (other KPIs follow alphabetically): the compared
#: KPIs of the C++ KPI table (simulation/kpis.hpp), in its order.
KPI_ORDER = tuple(k["name"] for k in _summary_kpis() if k["compared"])


def compare_kpis(results: Mapping[str, object], kpis: Optional[Iterable[str]] = None, change: bool = False,
                 tolerance: float = 1e-9) -> pd.DataFrame:
    """The runs' KPIs (/summary) side by side: one row per KPI (index "kpi"), a "unit" column, then
    one column per run (the keys of `results`, in order). A KPI a run lacks is NaN there.

    kpis: the rows to keep, in that order (a name no run has raises KeyError); None = all of them,
    `KPI_ORDER` first, then the rest alphabetically. change=True adds, for every run after the first,
    "<run> - <first>" and "<run> change %" ((run - first) / |first| x 100; NaN when first is 0), as
    `libgrid compare` prints them: differences within `tolerance` x max(1, |a|, |b|) are 0."""
    if not results:
        raise ValueError("compare_kpis: no results given")
    units: Dict[str, str] = {}
    for r in results.values():
        for k in r.summary.index:
            u = r.summary_units.get(k, "")
            if u or k not in units:
                units[k] = u
    if kpis is None:
        rows = [k for k in KPI_ORDER if k in units] + sorted(k for k in units if k not in KPI_ORDER)
    else:
        rows = list(kpis)
        unknown = [k for k in rows if k not in units]
        if unknown:
            raise KeyError(f"compare_kpis: no run has KPI(s) {unknown}; known: {sorted(units)}")
    df = pd.DataFrame({"unit": [units[k] for k in rows]}, index=pd.Index(rows, name="kpi"))
    for label, r in results.items():
        df[str(label)] = r.summary.reindex(rows).to_numpy(float)
    if change and len(results) > 1:
        labels = [str(k) for k in results]
        a = df[labels[0]].to_numpy(float)
        for lab in labels[1:]:
            b = df[lab].to_numpy(float)
            tol = tolerance * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
            d = np.where(np.abs(b - a) <= tol, 0.0, b - a)
            df[f"{lab} - {labels[0]}"] = d
            with np.errstate(divide="ignore", invalid="ignore"):
                df[f"{lab} change %"] = np.where(d == 0, 0.0, np.where(np.abs(a) > tol, d / np.abs(a) * 100.0, np.nan))
    return df


def _first_column(df: pd.DataFrame, *names: str) -> Optional[str]:
    return next((n for n in names if n in df.columns), None)


def hosting_map(hc: pd.DataFrame, net, customers: pd.DataFrame, ax=None, cmap: str = "RdYlGn",
                title: Optional[str] = None):
    """A map-like schematic of hosting capacity per feeder (the networks carry no coordinates):
    one row per feeder, every transformer at its electrical distance from the slack (km along the
    lines), coloured by the kW it can host (column `hosting_kw`, else `hosted_kw`; with neither,
    the share of its customers, `share`), sized by its rating (`rating_kva`, else by its customer
    count), labelled "T<id>" with the limit that stops it (`limit`, or `limit_kind`) and its kVA.
    `hc`: libgrid.hosting_capacity(..., group="transformer") (indexed by transformer id);
    `customers`: Scenario.customers(). title: a second title line (e.g. the scenario and horizon).
    Returns the Axes; the drawn points are in `ax.hosting` (DataFrame)."""
    n_feeders = max(1, customers["feeder"].nunique())
    ax = _axes(ax, figsize=(11, 1.8 + 0.9 * n_feeders))
    dist, _ = bus_distance(net, by="km")
    trafo = net.trafo
    feeders = sorted(customers["feeder"].unique())
    row_of = {f: i for i, f in enumerate(feeders)}
    value_col = _first_column(hc, "hosting_kw", "hosted_kw", "installed_kw", "share")
    limit_col = _first_column(hc, "limit", "limit_kind")
    rating_col = _first_column(hc, "rating_kva")
    if value_col is None:
        raise KeyError(f"hosting_map: hc has none of the columns hosting_kw, hosted_kw, installed_kw, share "
                       f"(columns: {list(hc.columns)})")
    rows = []
    for tid, r in hc.iterrows():
        cust = customers[customers["transformer"] == tid]
        if cust.empty or tid not in trafo.index:
            continue
        kva = float(r[rating_col]) if rating_col else float(trafo.loc[tid, "sn_mva"]) * 1000.0
        limit = str(r[limit_col]) if limit_col else ""
        rows.append({"trafo": tid, "feeder": cust["feeder"].iloc[0],
                     "x_km": float(dist.get(int(trafo.loc[tid, "hv_bus"]), np.nan)),
                     "y": row_of[cust["feeder"].iloc[0]], "value": float(r[value_col]), "rating_kva": kva,
                     "customers": len(cust), "limit": "" if limit in ("none", "nan", "") else limit.replace("_", " ")})
    pts = pd.DataFrame(rows)
    if pts.empty:
        raise ValueError("hosting_map: no transformer of hc feeds a customer of `customers`")
    is_share = value_col == "share"
    vmax = 1.0 if is_share else max(float(pts.value.max()), 1e-9)
    size = 40 + 160 * np.sqrt(pts.rating_kva / max(pts.rating_kva.max(), 1e-9))
    sc = ax.scatter(pts.x_km, pts.y, c=pts.value, s=size, cmap=cmap, vmin=0.0, vmax=vmax,
                    edgecolors="k", linewidths=0.5, zorder=3)
    for _, p in pts.iterrows():
        text = f"T{p.trafo} {p.rating_kva:,.0f} kVA" + (f"\n{p.limit}" if p.limit else "")
        ax.annotate(text, (p.x_km, p.y), textcoords="offset points", xytext=(0, 10), ha="center",
                    fontsize=6.5, zorder=4)
    for f, i in row_of.items():
        ax.axhline(i, color="0.85", lw=0.8, zorder=0)
    ax.set_yticks(range(len(feeders)))
    ax.set_yticklabels([f"feeder {f}" for f in feeders])
    ax.set_ylim(-0.6, len(feeders) - 0.3)
    ax.set_xlabel("distance of the transformer from the substation along the lines (km)")
    ax.set_ylabel("11 kV feeder")
    what = ("Hosting capacity per transformer (share of customers)" if is_share else
            "Hosting capacity per transformer (kW); marker size: rating (kVA); text: binding limit")
    ax.set_title(what if not title else f"{what}\n{title}", fontsize="medium")
    unit = "share of customers hosted" if is_share else "hosting capacity (kW)"
    ax.figure.colorbar(sc, ax=ax, label=unit)
    ax.hosting = pts
    return ax
