"""The unbalanced (multi-phase) network and power flow, read from OpenDSS scripts (docs/unbalanced.md).

    >>> import libgrid
    >>> net = libgrid.read_dss("IEEE13Nodeckt.dss")      # or libgrid.Network.from_dss(...)
    >>> net.loads.head()                                  # DataFrames, units in the column names
    >>> res = net.run_pf(controls="static")
    >>> res.node.query("phase == 1").vm_pu.min(), res.source_kw, res.losses_kw
    >>> res.unbalance.vuf_pct.max()

Buses, phases and elements are named as OpenDSS names them (lower case); node `phase` is OpenDSS's
node number: 1, 2, 3 the phases a, b, c and 4 the neutral.
"""
from __future__ import annotations

import functools

import pandas as pd

from . import _libgrid

_TABLES = ("buses", "lines", "transformers", "loads", "capacitors", "regcontrols", "vsources", "capcontrols")


def _hour(at) -> float | None:
    """`at` as hours after midnight: a number of hours, "HH:MM", or a datetime.time / Timestamp."""
    if at is None:
        return None
    if isinstance(at, (int, float)):
        return float(at)
    if isinstance(at, str):
        try:
            h, m = at.split(":")
            h, m = int(h), int(m)
        except ValueError:
            raise _libgrid.ValidationError(f"at: expected HH:MM or hours, got '{at}'") from None
        if not (0 <= h <= 23 and 0 <= m <= 59):
            raise _libgrid.ValidationError(f"at: expected HH:MM (00:00 to 23:59), got '{at}'")
        return h + m / 60.0
    if hasattr(at, "hour") and hasattr(at, "minute"):
        return at.hour + at.minute / 60.0 + getattr(at, "second", 0) / 3600.0
    raise _libgrid.ValidationError(f"at: expected HH:MM, hours or a time, got {at!r}")


class UnbalancedPfResult:
    """One unbalanced power flow's results.

    Scalars: `converged`, `iterations` (of the last solve), `total_iterations`, `control_iterations`,
    `method`, `message`, `source_kw`, `source_kvar` (out of the sources), `losses_kw`, `losses_kvar`
    (lines and transformers), `source_kw_phase` / `source_kvar_phase` (phases 1, 2, 3).
    DataFrames:
    - `node`: bus, phase (1, 2, 3; 4 neutral), v_volts (magnitude, to ground), vm_pu (of the bus's
      line-to-neutral base), va_deg;
    - `element`: one row per element terminal conductor: element ("line.650632"), terminal (1, 2),
      bus, node, p_kw, q_kvar (into the element), i_a (magnitude), i_deg;
    - `losses`: element, losses_kw, losses_kvar (sum of the power into all its terminals);
    - `unbalance`: per bus with phases 1, 2, 3: vuf_pct = |V2| / |V1| x 100 (IEC 61000-4-30),
      v0_volts, v1_volts, v2_volts, v_neutral_volts (NaN where no neutral is modelled);
    - `taps`: per RegControl (index): transformer, winding, tap_pu, position (steps of 0.00625 from 1).
    - `capacitors`: per step of a capacitor under a CapControl: capacitor, capcontrol, step (1-based),
      state (1 in, 0 out) after the static control loop.
    """

    def __init__(self, d: dict):
        self._d = d
        self.converged: bool = d["converged"]
        self.iterations: int = d["iterations"]
        self.total_iterations: int = d["total_iterations"]
        self.control_iterations: int = d["control_iterations"]
        self.method: str = d["method"]
        self.message: str = d["message"]
        self.source_kw: float = d["source_kw"]
        self.source_kvar: float = d["source_kvar"]
        self.losses_kw: float = d["losses_kw"]
        self.losses_kvar: float = d["losses_kvar"]
        self.source_kw_phase: list = list(d["source_kw_phase"])
        self.source_kvar_phase: list = list(d["source_kvar_phase"])

    @functools.cached_property
    def node(self) -> pd.DataFrame:
        return pd.DataFrame(self._d["node"])

    @functools.cached_property
    def element(self) -> pd.DataFrame:
        return pd.DataFrame(self._d["element"])

    @functools.cached_property
    def losses(self) -> pd.DataFrame:
        return pd.DataFrame(self._d["losses"]).set_index("element")

    @functools.cached_property
    def unbalance(self) -> pd.DataFrame:
        return pd.DataFrame(self._d["unbalance"])

    @functools.cached_property
    def taps(self) -> pd.DataFrame:
        return pd.DataFrame(self._d["taps"]).set_index("regcontrol")

    @functools.cached_property
    def capacitors(self) -> pd.DataFrame:
        return pd.DataFrame(self._d["capacitors"])

    def __repr__(self) -> str:
        state = "converged" if self.converged else "NOT converged"
        return (f"<libgrid.UnbalancedPfResult {state} in {self.iterations} iterations ({self.control_iterations} control), "
                f"source {self.source_kw:.3f} kW {self.source_kvar:.3f} kvar, losses {self.losses_kw:.3f} kW>")


class UnbalancedNetwork:
    """An unbalanced (multi-phase) network as an OpenDSS script describes it (C++ `UNetwork`).

    Tables as DataFrames indexed by name, units in the column names: `buses` (nodes, kv_base_ll),
    `lines` (bus1/nodes1, bus2/nodes2, length_km, r_ohm_per_km / x_ohm_per_km / c_nf_per_km as the
    full phase matrices, row-major), `transformers` (per winding: bus, nodes, conn, kv, kva, r_pct,
    tap_pu; xhl_pct ...), `loads` (conn, kv, kw, kvar, model, vminpu, vmaxpu, shapes), `capacitors`,
    `regcontrols` (vreg_volts, band_volts, ptratio, ctprim_a, r_volts, x_volts, tap_pu), `vsources`,
    `capcontrols` (element, terminal, capacitor, type, onsetting, offsetting, ratios, delays, override).
    `notes`: one per script command that was accepted and ignored ("FILE:LINE: ignored: Plot").
    """

    def __init__(self, core: _libgrid.UNetwork | None = None, notes=None):
        self._core = core if core is not None else _libgrid.UNetwork()
        self.notes: list[str] = list(notes or [])

    @classmethod
    def from_dss(cls, path, skip_missing_redirect: bool = False) -> "UnbalancedNetwork":
        """Read and run an OpenDSS script (Redirect/Compile followed, file names matched without regard
        to case). Raises ParseError "FILE:LINE: ..." naming the element and property.
        skip_missing_redirect=True: a Redirect/Compile of a file that does not exist is a note in
        `notes`, not an error (EPRI's Run_IEEE123Bus.DSS redirects a plotting script it does not ship)."""
        core, notes = _libgrid.read_dss(str(path), skip_missing_redirect)
        return cls(core, notes)

    @classmethod
    def from_dss_string(cls, text: str, name: str = "<string>", base_dir: str = ".") -> "UnbalancedNetwork":
        core, notes = _libgrid.read_dss_string(text, name, str(base_dir))
        return cls(core, notes)

    def to_dss(self, path) -> None:
        """Write what the model holds as one OpenDSS script (read back, it gives an equal network)."""
        self._core.to_dss(str(path))

    def to_dss_string(self) -> str:
        return self._core.to_dss_string()

    @property
    def name(self) -> str:
        return self._core.name

    @property
    def base_frequency_hz(self) -> float:
        return self._core.base_frequency_hz

    def table(self, kind: str) -> pd.DataFrame:
        """One of "buses", "lines", "transformers", "loads", "capacitors", "regcontrols", "vsources",
        "capcontrols"."""
        return pd.DataFrame(self._core.table(kind)).set_index("name")

    def __getattr__(self, name: str):
        if name in _TABLES:
            return self.table(name)
        raise AttributeError(f"'UnbalancedNetwork' object has no attribute '{name}'")

    def copy(self) -> "UnbalancedNetwork":
        return UnbalancedNetwork(self._core.copy(), self.notes)

    def validate(self) -> None:
        self._core.validate()

    def apply_loadshapes_at(self, at) -> None:
        """Set every load's kw/kvar from its yearly (else daily) shape at `at` ("HH:MM" or hours)."""
        self._core.apply_loadshapes_at(_hour(at))

    def __eq__(self, other) -> bool:
        return isinstance(other, UnbalancedNetwork) and self._core == other._core

    def __repr__(self) -> str:
        return repr(self._core).replace("libgrid.UNetwork", "libgrid.UnbalancedNetwork")

    def run_pf(self, controls: str = "static", method: str = "auto", at=None, tolerance: float = 1e-9,
               max_iterations: int = 100) -> UnbalancedPfResult:
        """Solve the unbalanced power flow. `controls`: "static" (regulators and capacitor controls act
        between solves until none moves, as OpenDSS's static control mode) or "off"; `method`: "auto"
        (the sweep on a radial feeder, else Newton-Raphson), "fixed_point", "nr" or "sweep"; `at`:
        "HH:MM" (or hours): set the loads from their load shapes at that time first.
        As in OpenDSS, the network keeps its solved state: the settled taps stay in the transformers
        and `at` leaves the loads at that time's power (use `copy()` to keep the original).
        Never raises on non-convergence (check `.converged`); raises ValidationError on a network
        that cannot be modelled."""
        hour = _hour(at)
        if hour is not None:
            self._core.apply_loadshapes_at(hour)
        return UnbalancedPfResult(_libgrid.run_unbalanced_pf(self._core, controls, method, tolerance, max_iterations))

    def compile(self, controls: str = "static", method: str = "auto", tolerance: float = 1e-9,
                max_iterations: int = 100) -> "UnbalancedPowerFlow":
        """The power flow built once and solved again (UPowerFlow, docs/performance.md "Re-solve and
        the reduced fixed point"): change the loads (`apply_loadshapes_at`), then `pf.update_loads()`,
        `pf.solve()`, `pf.result()`. Options as `run_pf`."""
        return UnbalancedPowerFlow(self, controls, method, tolerance, max_iterations)


class UnbalancedPowerFlow:
    """A compiled unbalanced power flow (C++ UPowerFlow) over an `UnbalancedNetwork`: the model, Y and
    the solver are built once; `update_loads()` re-reads the loads' kW / kvar (Y kept), `solve()`
    starts from the last answer and returns (converged, iterations), `result()` gives an
    `UnbalancedPfResult`, `reduced` says whether the reduced fixed point (on the load nodes) is used."""

    def __init__(self, net: UnbalancedNetwork, controls: str = "static", method: str = "auto",
                 tolerance: float = 1e-9, max_iterations: int = 100):
        self.net = net
        self._pf = _libgrid.UPowerFlow(net._core, controls, method, tolerance, max_iterations)

    def update_loads(self) -> None:
        self._pf.update_loads()

    def reset_start(self) -> None:
        self._pf.reset_start()

    def solve(self):
        return self._pf.solve()

    def result(self) -> UnbalancedPfResult:
        return UnbalancedPfResult(self._pf.result())

    @property
    def reduced(self) -> bool:
        return self._pf.reduced


def read_dss(path, skip_missing_redirect: bool = False) -> UnbalancedNetwork:
    """Read an OpenDSS script into an `UnbalancedNetwork` (the same as `Network.from_dss`)."""
    return UnbalancedNetwork.from_dss(path, skip_missing_redirect)


def _to_unbalanced_options(options: dict) -> "_libgrid.ToUnbalancedOptions":
    o = _libgrid.ToUnbalancedOptions()
    for key, value in options.items():
        if key.startswith("_") or not hasattr(o, key):
            raise TypeError(f"to_unetwork: unknown option '{key}'")
        if key in ("load_phases", "line_phases", "vector_groups"):
            value = {int(k): str(v) for k, v in dict(value).items()}
        setattr(o, key, value)
    return o


def to_unetwork(net, **options) -> UnbalancedNetwork:
    """The balanced `Network` as a three-phase `UnbalancedNetwork` (C++ `to_unetwork`, docs/unbalanced.md,
    "From a balanced Network"): every id kept (the tables' `id` column), LV lines four-wire with the
    neutral earthed at each load, transformers by vector group, loads on the phases asked.

    Options (keyword, all optional): ``load_phases={load_id: "a" | "b" | "c" | "ab" | ... | "abc"}``,
    ``default_load_phases="abc"``, ``line_phases={line_id: "a"}`` (a two-wire LV service),
    ``vector_groups={trafo_id: "Dyn11"}``, ``model_neutral=True``, ``neutral_r_ratio=1.0``,
    ``customer_earth_ohm=10.0``, ``substation_earth_ohm=1.0``, ``lv_kv_max=1.0``, ``r0_r1``, ``x0_x1``,
    ``c0_c1`` (three-wire lines' zero sequence), ``switch_ohm=1e-6``, ``load_vminpu=0.6``, ``load_vmaxpu=1.4``.

    >>> u = libgrid.to_unetwork(net, load_phases={3: "a", 4: "b"})
    >>> u.run_pf().unbalance.vuf_pct.max()
    """
    core = net._core if hasattr(net, "_core") else net
    return UnbalancedNetwork(_libgrid.to_unetwork(core, _to_unbalanced_options(options)))


def melaka_unetwork(size: str = "small", seed: int = 1, phase_seed: int = 1, imbalance: float = 0.0,
                    rephase: dict | None = None, load_scale: float = 1.0, **options):
    """The Melaka grid as built (docs/melaka.md, "As built: phases"): `generate_melaka_grid(size, seed)`
    with every single-phase customer on its phase (a, b, c, a, ... along each transformer's customers;
    `imbalance` = probability of repeating the previous phase, seeded by `phase_seed`), `rephase`
    ({customer id: "a" | "b" | "c"}) applied, real two-wire services. Returns
    (UnbalancedNetwork, list of each customer's phases). `options` as for `to_unetwork`."""
    conv = _to_unbalanced_options(options)
    core, phases = _libgrid.melaka_unetwork(size, seed, phase_seed, imbalance,
                                            {int(k): str(v) for k, v in (rephase or {}).items()}, load_scale, conv)
    return UnbalancedNetwork(core), list(phases)
