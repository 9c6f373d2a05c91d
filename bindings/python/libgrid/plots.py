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
           "energy_balance_day", "bills", "customer_bills", "compare_kpis", "KPI_ORDER"]


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


# ---- voltages -----------------------------------------------------------------------------------

def voltage_heatmap(res, ax=None, cmap: str = "RdYlBu", vmin: Optional[float] = None,
                    vmax: Optional[float] = None, colorbar: bool = True):
    """Bus voltage magnitudes as an image: rows are buses (in the file's column order, labelled with
    their ids), columns are time steps. The image's array is `res.bus_vm().T` (NaN, e.g. a
    de-energised bus, is left blank). Returns the Axes; the image is `ax.images[0]`."""
    import matplotlib.dates as mdates

    ax = _axes(ax, figsize=(10, 5))
    vm = res.bus_vm()
    data = vm.to_numpy(dtype=float).T
    finite = data[np.isfinite(data)]
    lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.9)
    hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.1)
    if hi <= lo:
        lo, hi = lo - 1e-3, hi + 1e-3
    n_bus = data.shape[0]
    if isinstance(vm.index, pd.DatetimeIndex) and len(vm.index):
        t = _wall_clock(vm.index)
        dt = pd.Timedelta(hours=_step_hours(res)) if len(t) else pd.Timedelta(0)
        x0, x1 = mdates.date2num(t[0].to_pydatetime()), mdates.date2num((t[-1] + dt).to_pydatetime())
        xlabel = "time (Melaka)"
    else:
        x0, x1, xlabel = 0.0, float(data.shape[1]), "step"
    im = ax.imshow(data, aspect="auto", origin="lower", interpolation="nearest", cmap=cmap,
                   vmin=lo, vmax=hi, extent=(x0, x1, -0.5, n_bus - 0.5))
    if xlabel.startswith("time"):
        _time_axis(ax)
    ids = list(vm.columns)
    ticks = np.unique(np.linspace(0, n_bus - 1, min(n_bus, 20)).round().astype(int)) if n_bus else []
    ax.set_yticks(ticks)
    ax.set_yticklabels([str(ids[i]) for i in ticks])
    ax.set_xlabel(xlabel)
    ax.set_ylabel("bus id")
    ax.set_title("Bus voltage magnitude")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, label="|V| (p.u.)")
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
        for col, style in (("vmin_pu", "tab:blue"), ("vmax_pu", "tab:red")):
            if col in bus and bus[col].nunique() == 1:
                ax.axhline(float(bus[col].iloc[0]), color=style, ls=":", lw=1)
    ax.set_xlabel("distance from the slack (km)" if by == "km" else "buses from the slack")
    ax.set_ylabel("|V| (p.u.)")
    ax.set_title(f"Voltage along the feeder to bus {buses[-1]} ({len(buses)} buses)")
    ax.legend(loc="best", fontsize="small")
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
    ax.set_title("Load duration curve")
    ax.legend(loc="best", fontsize="small")
    return ax


def transformer_loading(res, ax=None, max_lines: int = 12):
    """Loading (%) of the transformers (`/branch` columns whose kind is "trafo") over time, with the
    100 % line. With more than `max_lines` transformers only the `max_lines` with the highest peak
    loading are drawn (the title says so). Returns the Axes: one line per transformer drawn
    (labelled "trafo <element id>"), then the 100 % line."""
    kind = res.vector("branch", "kind").astype(str)
    element = res.vector("branch", "element_id")
    load = res.series("branch", "loading_percent")
    trafo_cols = [c for c in load.columns if kind.get(c, "") == "trafo"]
    if not trafo_cols:
        raise ValueError(f"transformer_loading: results file '{res.path}' has no transformer in /branch")
    tl = load[trafo_cols]
    peak = tl.max(axis=0).fillna(-np.inf)
    chosen = list(peak.sort_values(ascending=False, kind="stable").index[:max_lines])
    chosen.sort(key=trafo_cols.index)
    ax = _axes(ax)
    t = _wall_clock(tl.index)
    for c in chosen:
        ax.plot(t, tl[c].to_numpy(float), lw=1, label=f"trafo {int(element[c])}")
    ax.axhline(100.0, color="red", ls="--", lw=1.2, label="100 %")
    _time_axis(ax)
    ax.set_ylabel("loading (%)")
    ax.set_xlabel("time (Melaka)")
    shown = "" if len(chosen) == len(trafo_cols) else f" ({len(chosen)} most loaded of {len(trafo_cols)})"
    ax.set_title("Transformer loading" + shown)
    ax.set_ylim(bottom=0.0, top=max(105.0, float(np.nanmax(tl[chosen].to_numpy(float))) * 1.05))
    if len(chosen) <= 12:
        ax.legend(loc="upper right", fontsize="small", ncol=2)
    return ax


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
        ax.set_title("Battery state of charge")
    else:
        ax.fill_between(t, soc.min(axis=1).to_numpy(float), soc.max(axis=1).to_numpy(float),
                        color="tab:green", alpha=0.2, label="min..max")
        ax.plot(t, soc.mean(axis=1).to_numpy(float), color="tab:green", label=f"mean of {soc.shape[1]}")
        ax.set_title(f"Battery state of charge ({soc.shape[1]} batteries)")
    _time_axis(ax)
    ax.set_ylim(0, 100)
    ax.set_ylabel("SoC (%)")
    ax.set_xlabel("time (Melaka)")
    ax.legend(loc="best", fontsize="small", ncol=2)
    return ax


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
        ax.set_title("EV charging by hour of day")
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
        ax.set_title("EV charging by hour of day (mean over the days of the run)")
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
    ax.set_title(f"Energy balance {day.date()} (sources up, sinks down)")
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
    ax.set_title("Electricity bills per customer")
    ax.legend(loc="best", fontsize="small")
    return ax


#: The order of the first rows of `compare_kpis` (other KPIs follow alphabetically): the compared
#: KPIs of the C++ KPI table (simulation/kpis.hpp), in its order.
KPI_ORDER = tuple(k["name"] for k in _summary_kpis() if k["compared"])


def compare_kpis(results: Mapping[str, object], kpis: Optional[Iterable[str]] = None) -> pd.DataFrame:
    """The runs' KPIs (/summary) side by side: one row per KPI (index "kpi"), a "unit" column, then
    one column per run (the keys of `results`, in order). A KPI a run lacks is NaN there.

    kpis: the rows to keep, in that order (a name no run has raises KeyError); None = all of them,
    `KPI_ORDER` first, then the rest alphabetically."""
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
    return df


def hosting_map(hc: pd.DataFrame, net, customers: pd.DataFrame, ax=None, cmap: str = "RdYlGn"):
    """A map-like schematic of hosting capacity per feeder (the networks carry no coordinates):
    one row per feeder, every transformer at its electrical distance from the slack (km along the
    lines), coloured by the share of its customers it can host, sized by its customer count, and
    labelled with the limit that stops it. `hc`: libgrid.hosting_capacity(..., group="transformer")
    (group-indexed); `customers`: Scenario.customers(). Returns the Axes."""
    plt = _pyplot()
    ax = _axes(ax, figsize=(10, 1.2 + 0.9 * max(1, customers["feeder"].nunique())))
    dist, _ = bus_distance(net, by="km")
    trafo = net.trafo
    feeders = sorted(customers["feeder"].unique())
    row_of = {f: i for i, f in enumerate(feeders)}
    xs, ys, cs, ss, labels = [], [], [], [], []
    for tid, r in hc.iterrows():
        cust = customers[customers["transformer"] == tid]
        if cust.empty or tid not in trafo.index:
            continue
        feeder = cust["feeder"].iloc[0]
        xs.append(float(dist.get(int(trafo.loc[tid, "hv_bus"]), np.nan)))
        ys.append(row_of[feeder])
        cs.append(float(r["share"]))
        ss.append(30 + 6 * float(r["customers"]))
        labels.append("" if r["limit"] == "none" else str(r["limit"]).replace("_", " "))
    sc = ax.scatter(xs, ys, c=cs, s=ss, cmap=cmap, vmin=0.0, vmax=1.0, edgecolors="k", linewidths=0.5)
    for x, y, lab in zip(xs, ys, labels):
        if lab:
            ax.annotate(lab, (x, y), textcoords="offset points", xytext=(0, 9), ha="center", fontsize=7)
    for f, i in row_of.items():
        ax.axhline(i, color="0.85", lw=0.8, zorder=0)
    ax.set_yticks(range(len(feeders)))
    ax.set_yticklabels([f"feeder {f}" for f in feeders])
    ax.set_xlabel("distance from the substation along the lines, km")
    ax.set_title("hosting capacity per transformer (share of customers)")
    ax.figure.colorbar(sc, ax=ax, label="share hosted")
    return ax
