"""Read a libgrid results file (HDF5) into pandas.

Pure Python (h5py + pandas + numpy); no compiled code. The layout is described in
docs/results_hdf5.md. Example::

    from libgrid.results import read_results
    res = read_results("out.h5")
    vm = res.bus_vm()                 # DataFrame: time x bus id, p.u.
    res.model                         # "balanced", or "unbalanced" (a .dss network's run)
    va = res.node_vm(phase="a")       # unbalanced: time x node ("bus.phase"), p.u. to ground
    res.vuf()                         # unbalanced: time x three-phase bus, percent
    res.trafo_phase_loading()         # unbalanced: time x (trafo, phase), percent of the rating / 3
    res.branch_conductor_loading()    # unbalanced: time x (branch, conductor a/b/c/n), percent
    pv = res.series("pv", "p_mw")     # DataFrame: time x PV id, MW, generator convention
    res.summary["import_mwh"], res.summary_units["import_mwh"]   # KPIs: docs/kpis.md
    res.summary_boundaries["self_sufficiency"]                   # 'customer_meters'
    res.summary_info["self_sufficiency"]["formula"]
    res.attrs["scenario"]             # the scenario text the run was made from

The file is opened only while a method reads it, so no handle stays open between calls.
"""
from __future__ import annotations

import os
import re
import stat
import warnings
from typing import Any, Dict, List, Optional

import h5py
import numpy as np
import pandas as pd

__all__ = ["Results", "read_results", "time_index", "DEFAULT_TIME_UNITS"]

#: `units` of /time when a file lacks the attribute: libgrid's convention (Melaka local time, UTC+8).
DEFAULT_TIME_UNITS = "seconds since 1970-01-01 00:00:00 +08:00"

_UNIT_SECONDS = {
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}


def _decode(value: Any) -> Any:
    """An HDF5 attribute value as plain Python: str for strings, int/float for one number."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray):
        if value.shape == () or value.size == 1:
            return _decode(value.reshape(-1)[0])
        if value.dtype.kind in "SO":
            return [_decode(v) for v in value]
        return value
    if isinstance(value, np.generic):
        return value.item()
    return value


def time_index(values: np.ndarray, units: Optional[str] = None) -> pd.DatetimeIndex:
    """Turn integer offsets and a CF `units` string ("seconds since 1970-01-01 00:00:00 +08:00")
    into a DatetimeIndex named "time". An origin with a UTC offset gives a time-zone aware index."""
    units = units or DEFAULT_TIME_UNITS
    m = re.fullmatch(r"\s*(\w+)\s+since\s+(.+?)\s*", units)
    if not m or m.group(1).lower() not in _UNIT_SECONDS:
        raise ValueError(f"time units {units!r}: expected '<seconds|minutes|hours|days> since <date>'")
    scale = _UNIT_SECONDS[m.group(1).lower()]
    origin = pd.Timestamp(m.group(2))
    offsets = pd.to_timedelta(np.asarray(values, dtype=np.int64) * scale, unit="s")
    return pd.DatetimeIndex(origin + offsets, name="time")


def _path(group: str, name: str) -> str:
    group = group.strip("/")
    return f"/{group}/{name}" if group else f"/{name}"


class Results:
    """One results file. Eagerly read: `attrs`, `time`, `summary`, `summary_units`.
    Read on demand: `series`, `bus_vm`, `ids`, `vector`."""

    def __init__(self, path: "str | os.PathLike[str]"):
        self.path = os.fspath(path)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"results file '{self.path}': no such file")
        # regular files only, as every libgrid reader (docs/guide.md, "Input files"): libhdf5 would
        # wait for a writer on a FIFO
        mode = os.stat(self.path).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(f"results file '{self.path}': is a directory, not a file")
        if not stat.S_ISREG(mode):
            raise OSError(f"results file '{self.path}': not a regular file")
        try:
            f = h5py.File(self.path, "r")
        except OSError as e:
            raise OSError(f"results file '{self.path}': cannot open as HDF5 ({e})") from e
        with f:
            #: root attributes: scenario (text), seed, libgrid_version, layout_version, ...
            self.attrs: Dict[str, Any] = {k: _decode(v) for k, v in f.attrs.items()}
            #: time stamps of the rows (DatetimeIndex, UTC+08:00), or None when the file has no /time
            self.time: Optional[pd.DatetimeIndex] = None
            if "time" in f:
                t = f["time"]
                self.time = time_index(t[()], _decode(t.attrs.get("units", DEFAULT_TIME_UNITS)))
            summary: Dict[str, float] = {}
            units: Dict[str, str] = {}
            info: Dict[str, Dict[str, str]] = {}
            if "summary" in f and isinstance(f["summary"], h5py.Group):
                for name, ds in f["summary"].items():
                    if isinstance(ds, h5py.Dataset) and ds.size == 1 and ds.dtype.kind in "fiu":
                        summary[name] = float(np.asarray(ds[()]).reshape(-1)[0])
                        units[name] = str(_decode(ds.attrs.get("unit", "")))
                        info[name] = {a: str(_decode(ds.attrs.get(a, ""))) for a in ("boundary", "definition", "formula", "where")}
            #: the KPIs of /summary (pandas Series, name -> value)
            self.summary = pd.Series(summary, dtype=float, name="summary")
            #: the unit of each KPI (dict, name -> unit string, "" when none)
            self.summary_units: Dict[str, str] = units
            #: each KPI's boundary, definition, formula and where it is measured (docs/kpis.md;
            #: "" in files written before libgrid recorded them)
            self.summary_info: Dict[str, Dict[str, str]] = info
            #: each KPI's boundary: substation, customer_meters, city, network or run
            self.summary_boundaries: Dict[str, str] = {k: v["boundary"] for k, v in info.items()}

    # ---- what is there ----------------------------------------------------------------------
    @property
    def scenario(self) -> Optional[str]:
        return self.attrs.get("scenario")

    @property
    def seed(self) -> Optional[int]:
        return self.attrs.get("seed")

    def groups(self) -> List[str]:
        """Top-level groups (component kinds, 'summary', ...)."""
        with h5py.File(self.path, "r") as f:
            return sorted(k for k, v in f.items() if isinstance(v, h5py.Group))

    def names(self, group: str) -> List[str]:
        """Datasets in a group."""
        with h5py.File(self.path, "r") as f:
            g = self._group(f, group)
            return sorted(k for k, v in g.items() if isinstance(v, h5py.Dataset))

    def unit(self, group: str, name: str) -> str:
        with h5py.File(self.path, "r") as f:
            ds = self._dataset(f, _path(group, name))
            return str(_decode(ds.attrs.get("unit", ds.attrs.get("units", ""))))

    def ids(self, group: str) -> Optional[np.ndarray]:
        """`<group>/id`: the component ids labelling the columns, or None."""
        with h5py.File(self.path, "r") as f:
            p = _path(group, "id")
            return np.asarray(f[p][()]) if p in f else None

    # ---- tables -----------------------------------------------------------------------------
    def series(self, group: str, name: str) -> pd.DataFrame:
        """Time series `<group>/<name>` as a DataFrame: rows are time stamps (or steps when the file
        has no /time), columns the ids of `<group>/id` (or 0..n-1). `df.attrs["unit"]` holds the unit.
        A group with its own time axis (`<group>/time`, e.g. 30-minute meter readings) is indexed by it.
        After a crashed run a series can be shorter than /time (by up to one chunk): it then gets the
        first time stamps."""
        path = _path(group, name)
        derived = self._branch_kind_table(group, name)
        if derived is not None:
            return derived
        with h5py.File(self.path, "r") as f:
            ds = self._dataset(f, path)
            data = np.asarray(ds[()])
            unit = str(_decode(ds.attrs.get("unit", ds.attrs.get("units", ""))))
            id_path = _path(group, "id")
            ids = np.asarray(f[id_path][()]) if id_path in f else None
            axis, axis_path = self.time, "/time"
            group_time = _path(group, "time")
            if group.strip("/") and group_time in f and group_time != path:
                t = f[group_time]
                axis = time_index(t[()], _decode(t.attrs.get("units", DEFAULT_TIME_UNITS)))
                axis_path = group_time
        if data.ndim == 1:
            data = data[:, None]
            columns = pd.Index([name])
        elif data.ndim == 2:
            if ids is not None and len(ids) != data.shape[1]:
                raise ValueError(f"results file '{self.path}': '{path}' has {data.shape[1]} columns "
                                 f"but '{id_path}' has {len(ids)} ids")
            columns = pd.Index(ids if ids is not None else np.arange(data.shape[1]),
                               name=group.strip("/") or None)
        else:
            raise ValueError(f"results file '{self.path}': '{path}' has rank {data.ndim}, not a time series")
        n = data.shape[0]
        if axis is None:
            index = pd.RangeIndex(n, name="step")
        else:
            if n > len(axis):
                warnings.warn(f"results file '{self.path}': '{path}' has {n} rows but {axis_path} has "
                              f"{len(axis)}; extra rows dropped")
                data, n = data[: len(axis)], len(axis)
            index = axis[:n]
        df = pd.DataFrame(data, index=index, columns=columns)
        df.attrs["unit"] = unit
        df.attrs["path"] = path
        return df

    def bus_vm(self) -> pd.DataFrame:
        """Bus voltage magnitudes, p.u.: time x bus id."""
        return self.series("bus", "vm_pu")

    #: issue 19: the per-kind tables of /branch (balanced runs): group -> the /branch/kind it selects
    BRANCH_KIND_GROUPS = {"line": "line", "trafo": "trafo", "branch_matpower": "branch"}

    def _branch_kind_table(self, group: str, name: str) -> Optional[pd.DataFrame]:
        """Issue 19: `series("line", n)` / `("trafo", n)` / `("branch_matpower", n)` of a balanced run
        whose file has no such dataset: the /branch/<n> columns of that kind, labelled with the
        elements' own ids (/branch/element_id), not /branch's running index."""
        kind = self.BRANCH_KIND_GROUPS.get(group.strip("/"))
        if kind is None:
            return None
        with h5py.File(self.path, "r") as f:
            if _path(group, name) in f or _path("branch", name) not in f or "branch/element_id" not in f or "branch/kind" not in f:
                return None
            kinds = np.array([_decode(k) for k in f["branch/kind"][()]])
            element_id = np.asarray(f["branch/element_id"][()])
        df = self.series("branch", name)
        keep = kinds == kind
        out = df.loc[:, keep]
        out.columns = pd.Index(element_id[keep], name=group.strip("/"))
        out.attrs.update(df.attrs)
        return out

    def line_loading(self) -> pd.DataFrame:
        """Issue 19: line loading, percent of the rating: time x line id (balanced runs)."""
        return self.series("line", "loading_percent")

    def trafo_loading(self) -> pd.DataFrame:
        """Issue 19: transformer loading, percent of the rating: time x transformer id (balanced runs)."""
        return self.series("trafo", "loading_percent")

    #: the codes of /summary/ev_sessions/status (libgrid::EvOutcome), in order
    EV_SESSION_STATUS = ("served", "partly_served", "blocked", "pending", "not_arrived")

    def ev_sessions(self) -> pd.DataFrame:
        """One row per EV session (home chargers, stations, public sites, HEMS homes), from
        /summary/ev_sessions: station, arrival, departure (time stamps), energy_kwh (wanted),
        delivered_kwh, unmet_kwh (not delivered by departure, or all of it when blocked), pending_kwh
        (still wanted at the end of the run) and status (served, partly_served, blocked, pending,
        not_arrived; docs/devices_ev_building.md). Empty when the run had no EVs."""
        cols = {}
        with h5py.File(self.path, "r") as f:
            if "summary/ev_sessions" not in f:
                return pd.DataFrame(columns=["station", "arrival", "departure", "energy_kwh", "delivered_kwh",
                                             "unmet_kwh", "pending_kwh", "status"])
            g = f["summary/ev_sessions"]
            for name, ds in g.items():
                cols[name] = np.asarray(ds[()])
            units = _decode(g["arrival"].attrs.get("unit", DEFAULT_TIME_UNITS)) if "arrival" in g else DEFAULT_TIME_UNITS
        order = ["station", "arrival", "departure", "energy_kwh", "delivered_kwh", "unmet_kwh", "pending_kwh", "status"]
        df = pd.DataFrame(cols)
        df = df[[c for c in order if c in df] + [c for c in df if c not in order]]
        for c in ("arrival", "departure"):
            if c in df:
                df[c] = time_index(df[c].to_numpy(), units)
        if "status" in df:
            df["status"] = pd.Categorical([self.EV_SESSION_STATUS[int(k)] for k in df["status"]],
                                          categories=list(self.EV_SESSION_STATUS))
        return df

    def events(self) -> pd.DataFrame:
        """The events the run applied (issue 16, docs/resilience.md), from /events, one row each in
        the order they applied: time (time stamp), element (switch, line, trafo, ext_grid, load, ...),
        id, action (open, close, out_of_service, in_service) and cause (scheduled, restoration,
        random, repair). A feeder named in a scenario appears as its breaker (element switch). Empty
        when the run had none."""
        cols = ["time", "element", "id", "action", "cause"]
        with h5py.File(self.path, "r") as f:
            if "events" not in f or "events/time" not in f:
                return pd.DataFrame(columns=cols)
            g = f["events"]
            t = g["time"]
            data = {
                "time": time_index(np.asarray(t[()]), _decode(t.attrs.get("unit", t.attrs.get("units", DEFAULT_TIME_UNITS)))),
                "element": [_decode(v) for v in g["element"][()]],
                "id": np.asarray(g["id"][()], dtype=np.int64),
                "action": [_decode(v) for v in g["action"][()]],
                "cause": [_decode(v) for v in g["cause"][()]],
            }
        return pd.DataFrame(data, columns=cols)

    def island(self) -> pd.DataFrame:
        """Droop islands per step (issue 16, docs/microgrid.md "Time series"), from /island:
        frequency_min_hz, frequency_max_hz (NaN in steps without a held island) and shed_level
        (0 none, 1 EV charging or deferrable customers shed, 2 essential customers too), indexed by
        time. Empty when the run had no grid-forming source."""
        cols = ["frequency_min_hz", "frequency_max_hz", "shed_level"]
        with h5py.File(self.path, "r") as f:
            if "island" not in f:
                return pd.DataFrame(columns=cols)
        df = pd.concat([self.series("island", c) for c in cols], axis=1)
        df.columns = cols
        df["shed_level"] = df["shed_level"].astype(np.int64)
        return df

    def island_collapses(self) -> pd.DataFrame:
        """Droop islands that could not be held (issue 16), from /island_collapse: time, bus (the
        island's first bus id) and cause. Empty when none collapsed."""
        cols = ["time", "bus", "cause"]
        with h5py.File(self.path, "r") as f:
            if "island_collapse" not in f:
                return pd.DataFrame(columns=cols)
            g = f["island_collapse"]
            t = g["time"]
            data = {
                "time": time_index(np.asarray(t[()]), _decode(t.attrs.get("unit", t.attrs.get("units", DEFAULT_TIME_UNITS)))),
                "bus": np.asarray(g["bus"][()], dtype=np.int64),
                "cause": [_decode(v) for v in g["cause"][()]],
            }
        return pd.DataFrame(data, columns=cols)

    CONCENTRATOR_COLUMNS = ["meters", "max_hops", "readings", "delivered_share", "mean_delay_s", "max_delay_s", "max_queue_wait_s"]

    def concentrators(self) -> pd.DataFrame:
        """The PLC data concentrators of a run with comms (issue 17, docs/comms.md "Hops and
        bandwidth"), from /comms/concentrator: one row per concentrator, indexed by its transformer's
        id (-1: the source's, for meters not below a distribution transformer), with meters,
        max_hops, readings, delivered_share, mean_delay_s, max_delay_s (of the readings the head-end
        has) and max_queue_wait_s. Empty when the run had no comms."""
        cols = self.CONCENTRATOR_COLUMNS
        with h5py.File(self.path, "r") as f:
            if "/comms/concentrator/id" not in f:
                return pd.DataFrame(columns=cols, index=pd.Index([], name="concentrator", dtype=np.int64))
            g = f["/comms/concentrator"]
            data = {c: np.asarray(g[c][()]) for c in cols}
            ids = np.asarray(g["id"][()], dtype=np.int64)
        return pd.DataFrame(data, columns=cols, index=pd.Index(ids, name="concentrator"))

    def vector(self, group: str, name: str) -> pd.Series:
        """A 1-D dataset (e.g. `/bus/vn_kv`), indexed by `<group>/id` when the lengths agree."""
        path = _path(group, name)
        with h5py.File(self.path, "r") as f:
            ds = self._dataset(f, path)
            data = np.asarray(ds[()])
            if data.dtype.kind in "SO":
                data = np.array([_decode(v) for v in data], dtype=object)
            unit = str(_decode(ds.attrs.get("unit", "")))
            id_path = _path(group, "id")
            ids = np.asarray(f[id_path][()]) if id_path in f else None
        index = pd.Index(ids, name=group.strip("/")) if ids is not None and len(ids) == len(data) else None
        s = pd.Series(data, index=index, name=name)
        s.attrs["unit"] = unit
        return s

    # ---- unbalanced runs (docs/results_hdf5.md, "Unbalanced runs") --------------------------------
    @property
    def model(self) -> str:
        """"balanced" or "unbalanced" (root attribute `model`; files without it are balanced)."""
        return str(self.attrs.get("model", "balanced"))

    def _require_unbalanced(self, what: str) -> None:
        if self.model != "unbalanced":
            raise KeyError(f"results file '{self.path}': {what} needs an unbalanced run's /node (this file's model is "
                           f"'{self.model}'; use bus_vm())")

    def nodes(self) -> pd.DataFrame:
        """The nodes of an unbalanced run, one row per node (index: node id 0..n-1): bus (id),
        bus_name, phase ("a", "b", "c", "n") and vbase_volts (phase-to-ground base, V); the column
        label of the node accessors is "bus_name.phase"."""
        self._require_unbalanced("nodes()")
        out = {}
        with h5py.File(self.path, "r") as f:
            g = self._group(f, "node")
            for name in ("id", "bus", "bus_name", "phase", "vbase_volts"):
                if name in g:
                    v = np.asarray(g[name][()])
                    out[name] = np.array([_decode(x) for x in v], dtype=object) if v.dtype.kind in "SO" else v
        ids = out.pop("id", None)
        n = len(next(iter(out.values()))) if out else 0
        df = pd.DataFrame(out, index=pd.Index(ids if ids is not None else np.arange(n), name="node"))
        df["label"] = [f"{b}.{p}" for b, p in zip(df["bus_name"], df["phase"])]
        return df

    def _node_series(self, name: str, phase) -> pd.DataFrame:
        self._require_unbalanced(f"node {name}")
        nodes = self.nodes()
        df = self.series("node", name)
        df.columns = pd.Index(nodes["label"].reindex(df.columns).to_numpy(), name="node")
        if phase is not None:
            wanted = [phase] if isinstance(phase, str) else list(phase)
            bad = [p for p in wanted if p not in ("a", "b", "c", "n")]
            if bad:
                raise ValueError(f"phase={phase!r}: expected 'a', 'b', 'c', 'n' or a list of them")
            keep = nodes["phase"].isin(wanted).to_numpy()
            unit = df.attrs.get("unit", "")
            df = df.loc[:, keep]
            df.attrs["unit"] = unit
        return df

    def node_vm(self, phase=None) -> pd.DataFrame:
        """Node voltage magnitudes to ground, p.u. of each node's phase-to-ground base (as OpenDSS's
        node voltages): time x node, columns "bus.phase" (e.g. "34.a"). phase: None (every node), "a",
        "b", "c", "n" or a list of them."""
        return self._node_series("vm_pu", phase)

    def node_v_volts(self, phase=None) -> pd.DataFrame:
        """Node voltage magnitudes to ground, V: time x node ("bus.phase"); see node_vm."""
        return self._node_series("v_volts", phase)

    def node_va_deg(self, phase=None) -> pd.DataFrame:
        """Node voltage angles, degrees: time x node ("bus.phase"); see node_vm."""
        return self._node_series("va_deg", phase)

    def node_vln_pu(self, phase=None) -> pd.DataFrame:
        """Phase-to-neutral voltage magnitudes, p.u. of the phase-to-ground base: |V_phase - V_n| where
        the bus has a neutral node, else |V_phase| to ground. time x phase node ("bus.phase"); neutral
        nodes are left out. Computed from /node/v_volts and /node/va_deg."""
        nodes = self.nodes()
        v = self._node_series("v_volts", None).to_numpy(dtype=float)
        neutral = {b: i for i, (b, p) in enumerate(zip(nodes["bus"], nodes["phase"])) if p == "n"}
        if "va_deg" in self.names("node"):
            z = v * np.exp(1j * np.deg2rad(self._node_series("va_deg", None).to_numpy(dtype=float)))
        elif neutral:
            raise KeyError(f"results file '{self.path}': phase-to-neutral voltages need /node/va_deg (record it with the "
                           "scenario key outputs.bus_angles: true); node_vm() gives the voltages to ground")
        else:  # no neutral node anywhere: phase to neutral is phase to ground, the magnitudes suffice
            z = v.astype(complex)
        index = self.series("node", "v_volts").index
        cols, data = [], []
        wanted = None if phase is None else ([phase] if isinstance(phase, str) else list(phase))
        for i, (b, p, base) in enumerate(zip(nodes["bus"], nodes["phase"], nodes["vbase_volts"])):
            if p == "n" or (wanted is not None and p not in wanted):
                continue
            vp = z[:, i] - z[:, neutral[b]] if b in neutral else z[:, i]
            data.append(np.abs(vp) / float(base))
            cols.append(nodes["label"].iloc[i])
        df = pd.DataFrame(np.column_stack(data) if data else np.empty((len(index), 0)), index=index,
                          columns=pd.Index(cols, name="node"))
        df.attrs["unit"] = "pu"
        return df

    def vuf(self) -> pd.DataFrame:
        """Voltage unbalance factor |V2| / |V1| x 100 of every three-phase bus (/bus/vuf_percent):
        time x bus name, percent. Buses without three phases (all NaN) are left out."""
        self._require_unbalanced("vuf()")
        df = self.series("bus", "vuf_percent")
        names = self.vector("bus", "name")
        if len(names) == df.shape[1]:  # /bus/name in the order of /bus/id, as the series' columns
            df.columns = pd.Index(names.to_numpy(), name="bus")
        unit = df.attrs.get("unit", "%")
        df = df.loc[:, df.notna().any(axis=0).to_numpy()]
        df.attrs["unit"] = unit
        return df

    def trafo_phase_power(self) -> pd.DataFrame:
        """Power into every transformer per phase at each winding (/trafo/p_a_hv_mw, ..., q_c_lv_mvar):
        time x columns (trafo, side, quantity, phase): trafo = its name (else id), side "hv" (winding 1)
        or "lv" (winding 2), quantity "p_mw" or "q_mvar", phase "a", "b", "c". Power into the
        transformer at that winding, so the lv side of a loaded transformer is negative."""
        self._require_unbalanced("trafo_phase_power()")
        names = None
        with h5py.File(self.path, "r") as f:  # /trafo/name, else the names of /branch's transformers (in order)
            if "trafo/name" in f:
                names = [_decode(x) for x in f["trafo/name"][()]]
            elif "branch/name" in f and "branch/kind" in f:
                kinds = [_decode(x) for x in f["branch/kind"][()]]
                names = [_decode(x) for x, k in zip(f["branch/name"][()], kinds) if k == "trafo"]
        parts = {}
        for side in ("hv", "lv"):
            for q, unit in (("p", "mw"), ("q", "mvar")):
                for ph in ("a", "b", "c"):
                    df = self.series("trafo", f"{q}_{ph}_{side}_{unit}")
                    labels = names if names is not None and len(names) == df.shape[1] else list(df.columns)
                    for col, label in zip(df.columns, labels):
                        parts[(label, side, f"{q}_{unit}", ph)] = df[col]
        out = pd.DataFrame(parts)
        out.columns = pd.MultiIndex.from_tuples(out.columns, names=["trafo", "side", "quantity", "phase"])
        return out

    # ---- unbalance (issue 15, H3; docs/kpis.md "Unbalanced networks") ---------------------------
    def _names(self, group: str, n: int) -> Optional[List[str]]:
        """The element names of a group's columns (/<group>/name; a transformer's from /branch), or None."""
        with h5py.File(self.path, "r") as f:
            if f"{group}/name" in f:
                names = [_decode(x) for x in f[f"{group}/name"][()]]
            elif group == "trafo" and "branch/name" in f and "branch/kind" in f:
                kinds = [_decode(x) for x in f["branch/kind"][()]]
                names = [_decode(x) for x, k in zip(f["branch/name"][()], kinds) if k == "trafo"]
            else:
                return None
        return names if len(names) == n else None

    def trafo_phase_loading(self) -> pd.DataFrame:
        """Every transformer's loading per phase (/trafo/loading_{a,b,c}_percent): the LV winding's
        (winding 2's) phase current over its rated phase current (kVA / phases / kV_phase, i.e. the
        rating / 3 per phase). time x columns (trafo, phase): trafo = its name (else id), phase "a",
        "b", "c"; percent. A balanced model's loading is their mean, roughly; the worst phase is what
        overheats."""
        self._require_unbalanced("trafo_phase_loading()")
        parts = {}
        for ph in ("a", "b", "c"):
            df = self.series("trafo", f"loading_{ph}_percent")
            labels = self._names("trafo", df.shape[1]) or list(df.columns)
            for col, label in zip(df.columns, labels):
                parts[(label, ph)] = df[col]
        out = pd.DataFrame(parts)
        out.columns = pd.MultiIndex.from_tuples(out.columns, names=["trafo", "phase"])
        out.attrs["unit"] = "%"
        return out

    def branch_conductor_loading(self, kind: Optional[str] = None) -> pd.DataFrame:
        """Every branch's loading per conductor (/branch/loading_{a,b,c,n}_percent): the larger end
        current over the rated current (a line's normamps, a transformer winding's rated phase
        current), percent. time x columns (branch, conductor): branch = its name, conductor "a", "b",
        "c", "n"; conductors a branch does not have (and earth electrodes) are left out. kind: None,
        "line" or "trafo". The neutral's column shows what a balanced model cannot: its current."""
        self._require_unbalanced("branch_conductor_loading()")
        kinds = self.vector("branch", "kind").to_numpy()
        parts = {}
        for c in ("a", "b", "c", "n"):
            df = self.series("branch", f"loading_{c}_percent")
            labels = self._names("branch", df.shape[1]) or list(df.columns)
            for j, (col, label) in enumerate(zip(df.columns, labels)):
                if (kind is None or kinds[j] == kind) and df[col].notna().any():
                    parts[(label, c)] = df[col]
        out = pd.DataFrame(parts)
        if parts:
            out.columns = pd.MultiIndex.from_tuples(out.columns, names=["branch", "conductor"])
        out.attrs["unit"] = "%"
        return out

    def neutral_loss_mw(self) -> pd.DataFrame:
        """Losses in each branch's neutral (/branch/p_loss_neutral_mw: the power into it through its
        conductors on neutral nodes; an earth electrode's |V_n|^2 / R): time x branch name, MW.
        Branches without a neutral conductor are left out; the sum over branches and steps x dt is
        the KPI neutral_losses_mwh."""
        self._require_unbalanced("neutral_loss_mw()")
        df = self.series("branch", "p_loss_neutral_mw")
        labels = self._names("branch", df.shape[1])
        if labels is not None:
            df.columns = pd.Index(labels, name="branch")
        df = df.loc[:, df.notna().any(axis=0).to_numpy()]
        df.attrs["unit"] = "MW"
        return df

    # ---- bills (docs/tariffs.md) --------------------------------------------------------------
    def bills(self) -> pd.DataFrame:
        """The run's monthly bills from /bill, one row per customer and month: customer, month
        ("2025-07"), full_month, days_covered, tariff and export_scheme (when recorded), then every
        kWh / RM column of /bill (import_kwh, export_kwh, export_credit_rm, subtotal_rm, re_fund_rm,
        service_tax_rm, total_rm). A month the run covers only in part has full_month False."""
        with h5py.File(self.path, "r") as f:
            if "/bill/id" not in f:
                raise KeyError(f"results file '{self.path}': no '/bill' (the run billed no customer: no tariff given, docs/units.md 'Place')")
            g = f["/bill"]
            ids = np.asarray(g["id"][()])
            months = [_decode(m) for m in g["month"][()]]
            nm, nc = len(months), len(ids)
            cols: Dict[str, Any] = {
                "customer": np.tile(ids, nm),
                "month": np.repeat(months, nc),
            }
            if "full_month" in g:
                cols["full_month"] = np.repeat(np.asarray(g["full_month"][()]).astype(bool), nc)
                cols["days_covered"] = np.repeat(np.asarray(g["days_covered"][()], dtype=float), nc)
            for name in ("tariff", "export_scheme"):
                if name in g:
                    cols[name] = np.tile(np.array([_decode(v) for v in g[name][()]], dtype=object), nm)
            for name in sorted(g.keys()):
                ds = g[name]
                if isinstance(ds, h5py.Dataset) and ds.ndim == 2 and ds.shape == (nm, nc):
                    cols[name] = np.asarray(ds[()], dtype=float).reshape(-1)
        df = pd.DataFrame(cols)
        return df.sort_values(["customer", "month"], kind="stable").reset_index(drop=True)

    def rebill(self, tariff: Optional[str] = None, export: Optional[str] = None,
               partial_months: Optional[str] = None, fuel_adjustment_sen_per_kwh: float = 0.0,
               customers: Optional[List[int]] = None, replace: Optional[str] = None) -> pd.DataFrame:
        """Bills of this run's smart-meter series (/meter) under another tariff, without re-running:
        one row per customer and month, with the columns of `bills()` and every line of the bill
        (energy_rm, capacity_rm, network_rm, fuel_rm, retail_rm, eei_rebate_rm, ...).
        tariff: domestic_general | domestic_tou | non_domestic_lv | non_domestic_lv_tou, or None for
        each customer's tariff in the run; export: none | nem | atap, or None for the run's;
        partial_months: flag | prorate, or None for the run's; replace: with `tariff`, give it only to
        the customers billed under this tariff in the run (e.g. tariff="domestic_tou",
        replace="domestic_general": every general home on ToU, the shops unchanged).
        Needs the compiled module."""
        from . import _libgrid
        cols = _libgrid.rebill(self.path, tariff or "", export or "", partial_months or "",
                               float(fuel_adjustment_sen_per_kwh), list(customers or []), replace or "")
        df = pd.DataFrame({k: np.asarray(v) for k, v in cols.items()})
        return df.sort_values(["customer", "month"], kind="stable").reset_index(drop=True)

    # ---- helpers ----------------------------------------------------------------------------
    def _group(self, f: h5py.File, group: str) -> h5py.Group:
        p = "/" + group.strip("/")
        if p not in f or not isinstance(f[p], h5py.Group):
            groups = ", ".join(sorted(k for k, v in f.items() if isinstance(v, h5py.Group))) or "none"
            raise KeyError(f"results file '{self.path}': no group '{p}' (groups: {groups})")
        return f[p]

    def _dataset(self, f: h5py.File, path: str) -> h5py.Dataset:
        if path in f and isinstance(f[path], h5py.Dataset):
            return f[path]
        parent = path.rsplit("/", 1)[0] or "/"
        if parent in f and isinstance(f[parent], h5py.Group):
            held = ", ".join(sorted(f[parent].keys())) or "nothing"
            raise KeyError(f"results file '{self.path}': no dataset '{path}' ('{parent}' holds: {held})")
        raise KeyError(f"results file '{self.path}': no dataset '{path}' (no group '{parent}')")

    def __repr__(self) -> str:
        steps = 0 if self.time is None else len(self.time)
        span = "" if not steps else f", {self.time[0]} .. {self.time[-1]}"
        return f"<libgrid Results '{self.path}': {steps} steps{span}; {len(self.summary)} KPIs>"


def read_results(path: "str | os.PathLike[str]") -> Results:
    """Open a libgrid results file; see `Results`."""
    return Results(path)
