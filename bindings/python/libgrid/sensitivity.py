"""Sensitivity of a business case: the tornado of one stakeholder's NPV over the main inputs
(issue 18, docs/economics.md "Sensitivity").

    >>> from libgrid import economics as ec
    >>> t = ec.tornado("out/melaka_baseline.h5", "out/melaka_smart_city.h5", stakeholder="city")
    >>> t[["input", "low_value", "high_value", "npv_low_rm", "npv_high_rm", "swing_rm"]]
    >>> ec.plot_tornado(t).figure.savefig("tornado.png")

Each input is set to `low` and `high` times its value in the business case and the NPV recomputed:

  * capex           every `assets.*.capex_*` figure of the catalogue (after the overrides in force)
                    scaled, through overrides of libgrid.economics.business_case;
  * tariff          every bill of both results files scaled (`tariff_scale`): bill savings, the
                    utility's revenue change, the charging operator's bills;
  * discount_rate   every stakeholder's discount rate scaled;
  * project_years   the project's life scaled (rounded to whole years, at least 1);
  * wholesale_cost  the utility's wholesale energy cost figure scaled (an override);
  * pv_yield        the weather's irradiance scaled: `weather.mean_daily_ghi_kwh_m2` x factor. PV output
                    is simulated, so BOTH scenarios are RUN AGAIN (the scenario text stored in each
                    results file, with only that key changed) through libgrid.sweep: on a Dask cluster
                    when `client` is given (a distributed.Client, a scheduler address, or "threads"),
                    else one after another in this process. Four runs of the files' horizon.

Only the variant's input changes; every other option is the caller's (catalogue, overrides,
project_years, discount_rate, tariff_escalation), as business_case takes them.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np
import pandas as pd

__all__ = ["tornado", "plot_tornado", "INPUTS", "TornadoError"]

#: The inputs of the tornado, in the default order; the unit of each input's low/high values.
INPUTS: Dict[str, str] = {
    "capex": "x catalogue capex",
    "tariff": "x bills",
    "discount_rate": "per year",
    "project_years": "years",
    "wholesale_cost": "RM/kWh",
    "pv_yield": "kWh/m2/day GHI",
}

#: Labels of the inputs on the tornado plot.
LABELS: Dict[str, str] = {
    "capex": "capex (all assets)",
    "tariff": "tariff (all bills)",
    "discount_rate": "discount rate",
    "project_years": "project life",
    "wholesale_cost": "wholesale energy cost",
    "pv_yield": "PV yield (irradiance)",
}

#: The catalogue figure of the utility's wholesale energy cost (an override path of business_case).
WHOLESALE_FIGURE = "market.wholesale_energy_cost_rm_per_kwh"

#: Which discount rate (business_case's discount_rate keys) a stakeholder's flows use.
_RATE_KEY = {"charging_operator": "cpo", "utility": "utility", "city": "city"}


class TornadoError(ValueError):
    """A tornado that cannot be made (an unknown input or stakeholder, bad factors, a results file
    without the scenario text to re-run); the message names the input, file or value."""


# ---- the business case -------------------------------------------------------------------------

def _default_case() -> Callable[..., Any]:
    from . import economics
    bc = getattr(economics, "business_case", None)
    if bc is None:  # pragma: no cover - only before the business case existed
        raise TornadoError("libgrid.economics.business_case is not available in this build")
    return bc


def _npv(case: Any, stakeholder: str, what: str) -> float:
    table = case.stakeholders
    if stakeholder not in table.index:
        raise TornadoError(f"stakeholder '{stakeholder}': not in the business case ({what}); "
                           f"known: {', '.join(map(str, table.index))}")
    return float(table.loc[stakeholder, "npv_rm"])


def _figures(case: Any) -> Dict[str, float]:
    """The catalogue figures the case used, after every override (name -> value)."""
    figs = getattr(case, "figures", None)
    if figs is None:
        raise TornadoError("the business case does not say which catalogue figures it used (.figures)")
    if isinstance(figs, pd.DataFrame):
        return {str(k): float(v) for k, v in figs["value"].items()}
    if isinstance(figs, pd.Series):
        return {str(k): float(v) for k, v in figs.items()}
    return {str(k): float(v) for k, v in dict(figs).items()}


def _capex_figures(figures: Mapping[str, float]) -> List[str]:
    """Every capex figure of the asset catalogue: assets.<...>.capex_<...>."""
    return sorted(n for n in figures if n.startswith("assets.") and n.rsplit(".", 1)[-1].startswith("capex"))


def _rates(case: Any) -> Dict[str, float]:
    """The discount rate of each stakeholder group (customer, cpo, utility, city) the case used."""
    table = case.stakeholders
    rates: Dict[str, float] = {}
    for name, r in table["discount_rate"].items():
        rates.setdefault(_RATE_KEY.get(str(name), "customer"), float(r))
    return rates


# ---- the PV-yield re-runs ----------------------------------------------------------------------

def _stored_scenario(path: str):
    """The scenario a results file was run from (its root attribute `scenario`, the effective YAML),
    as a libgrid.Scenario whose relative paths resolve from the file's folder."""
    import h5py

    from .scenario import Scenario
    try:
        with h5py.File(path, "r") as f:
            text = f.attrs.get("scenario")
    except OSError as e:
        raise TornadoError(f"{path}: cannot read the results file: {e}") from e
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if not text:
        raise TornadoError(f"{path}: no root attribute 'scenario' (the scenario text): the PV-yield variant "
                           "re-runs the scenario and needs it (leave 'pv_yield' out of inputs)")
    try:
        return Scenario.parse(str(text), os.path.join(os.path.dirname(os.path.abspath(path)), "stored_scenario.yaml"))
    except Exception as e:  # noqa: BLE001 - named and re-raised
        raise TornadoError(f"{path}: the stored scenario does not parse: {e}") from e


def _mean_ghi(sc, path: str) -> float:
    import yaml
    weather = (yaml.safe_load(sc.to_yaml()) or {}).get("weather") or {}
    if weather.get("file"):
        raise TornadoError(f"{path}: the scenario reads its weather from a file ({weather['file']}): the PV-yield "
                           "variant scales the weather model's mean_daily_ghi_kwh_m2 (leave 'pv_yield' out of inputs)")
    value = weather.get("mean_daily_ghi_kwh_m2")
    if value is None:
        raise TornadoError(f"{path}: the stored scenario has no weather.mean_daily_ghi_kwh_m2")
    return float(value)


def _rerun_pv_yield(base: str, scenario: str, factors: Sequence[float], client: Any, workers: int,
                    output_dir: str, progress: Any) -> Dict[str, Any]:
    """Runs both scenarios with the irradiance scaled by each factor (libgrid.sweep); returns
    {"files": [(base_i.h5, scenario_i.h5) per factor], "ghi": [value per factor], "ghi_base": value}."""
    from .sweep import sweep
    scs = {"base": _stored_scenario(base), "scenario": _stored_scenario(scenario)}
    ghi = {k: _mean_ghi(sc, p) for (k, sc), p in zip(scs.items(), (base, scenario))}
    if ghi["base"] != ghi["scenario"]:
        raise TornadoError(f"PV yield: the two files were run with different weather (mean_daily_ghi_kwh_m2 "
                           f"{ghi['base']} in {base}, {ghi['scenario']} in {scenario})")
    g0 = ghi["base"]
    values = [round(g0 * f, 10) for f in factors]
    for f, g in zip(factors, values):
        if not 1.0 <= g <= 8.0:
            raise TornadoError(f"PV yield: factor {f} gives mean_daily_ghi_kwh_m2 = {g:g}, outside the weather "
                               "model's range [1, 8]")
    variants = [{"weather.mean_daily_ghi_kwh_m2": g} for g in values]
    where = client if client is not None else "serial"
    files: Dict[str, List[str]] = {}
    for key, sc in scs.items():
        out = os.path.join(output_dir, key)
        table = sweep(sc, variants, client=where, output_dir=out, workers=workers, progress=progress)
        failed = table["error"].notna()
        if failed.any():
            i = int(np.flatnonzero(failed.to_numpy())[0])
            raise TornadoError(f"PV yield: the re-run of {scenario if key == 'scenario' else base} with "
                               f"mean_daily_ghi_kwh_m2 = {values[i]:g} failed: {table['error'].iloc[i]}")
        files[key] = list(table["output"])
    return {"files": list(zip(files["base"], files["scenario"])), "ghi": values, "ghi_base": g0}


# ---- the tornado -------------------------------------------------------------------------------

def _check_factor(name: str, x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise TornadoError(f"{name}: expected a number, got {x!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise TornadoError(f"{name}: expected a positive factor, got {x!r}")
    return v


def tornado(base: Union[str, os.PathLike], scenario: Union[str, os.PathLike], inputs: Optional[Iterable[str]] = None,
            low: float = 0.8, high: float = 1.2, stakeholder: str = "city", client: Any = None, *,
            catalogue: Optional[str] = None, overrides: Optional[Mapping[str, float]] = None,
            project_years: Optional[int] = None, discount_rate: Any = None, tariff_escalation: Optional[float] = None,
            output_dir: Optional[Union[str, os.PathLike]] = None, workers: int = 2, progress: Any = False,
            business_case: Optional[Callable[..., Any]] = None) -> pd.DataFrame:
    """The tornado of `stakeholder`'s NPV (RM) between the results files `base` and `scenario`.

    inputs: names from INPUTS (default: all of them, "pv_yield" last); low, high: the factors each input
    is multiplied by (0 < low < high). stakeholder: a row of business_case(...).stakeholders ("city",
    "utility", "charging_operator" or a customer class). client: where the PV-yield re-runs go: None
    (in this process, one after another), "serial", "threads", a distributed.Client or a scheduler
    address (libgrid.sweep.sweep's `client`). catalogue, overrides, project_years, discount_rate,
    tariff_escalation: the business case's own options, kept in every variant. output_dir: where the
    re-runs write base/variant_<i>.h5 and scenario/variant_<i>.h5 (default: a temporary directory,
    removed afterwards). workers: Dask / thread workers. progress: libgrid.sweep's progress.

    Returns a DataFrame, one row per input sorted by swing (largest first): input, low_value,
    high_value (the input's values, unit in `unit`), npv_low_rm, npv_high_rm, swing_rm
    (|npv_high - npv_low|), unit, base_value. attrs: stakeholder, npv_base_rm, low, high,
    labels (input -> plot label), notes (what each variant changed)."""
    base, scenario = os.fspath(base), os.fspath(scenario)
    for what, p in (("base", base), ("scenario", scenario)):
        if not os.path.isfile(p):
            raise TornadoError(f"{what}: no results file {p}")
    low, high = _check_factor("low", low), _check_factor("high", high)
    if not low < high:
        raise TornadoError(f"low ({low:g}) must be below high ({high:g})")
    names = list(INPUTS) if inputs is None else [inputs] if isinstance(inputs, str) else list(inputs)
    unknown = [n for n in names if n not in INPUTS]
    if unknown:
        raise TornadoError(f"inputs: unknown {', '.join(map(repr, unknown))} (known: {', '.join(INPUTS)})")
    if not names or len(set(names)) != len(names):
        raise TornadoError(f"inputs: expected distinct names from {', '.join(INPUTS)}, got {names}")

    bc = business_case or _default_case()
    user = dict(overrides or {})
    options = {"catalogue": catalogue, "project_years": project_years, "discount_rate": discount_rate,
               "tariff_escalation": tariff_escalation}

    def case(b: str = base, s: str = scenario, extra: Optional[Mapping[str, float]] = None, **changed):
        kw = dict(options)
        kw.update(changed)
        ov = dict(user)
        ov.update(extra or {})
        return bc(b, s, overrides=ov or None, **{k: v for k, v in kw.items() if v is not None})

    ref = case()
    npv0 = _npv(ref, stakeholder, "base case")
    rows, notes = [], {}
    for name in names:
        if name == "capex":
            figs = _figures(ref)
            capex = _capex_figures(figs)
            if not capex:
                raise TornadoError("capex: the catalogue has no assets.*.capex_* figure")
            npvs = [_npv(case(extra={n: figs[n] * f for n in capex}), stakeholder, f"capex x {f:g}") for f in (low, high)]
            values, base_value = [low, high], 1.0
            notes[name] = f"{len(capex)} capex figures scaled: {', '.join(capex)}"
        elif name == "tariff":
            npvs = [_npv(case(tariff_scale=f), stakeholder, f"tariff x {f:g}") for f in (low, high)]
            values, base_value = [low, high], 1.0
            notes[name] = "every bill (/bill) of both files scaled (business_case tariff_scale)"
        elif name == "discount_rate":
            rates = _rates(ref)
            key = _RATE_KEY.get(stakeholder, "customer")
            npvs = [_npv(case(discount_rate={k: r * f for k, r in rates.items()}), stakeholder,
                         f"discount rate x {f:g}") for f in (low, high)]
            base_value = rates[key]
            values = [base_value * low, base_value * high]
            notes[name] = "every stakeholder's discount rate scaled: " + ", ".join(f"{k} {r:g}" for k, r in rates.items())
        elif name == "project_years":
            n0 = int(getattr(ref, "project_years"))
            years = [max(1, int(round(n0 * f))) for f in (low, high)]
            npvs = [_npv(case(project_years=n), stakeholder, f"project years {n}") for n in years]
            values, base_value = years, float(n0)
            notes[name] = f"project life {years[0]} and {years[1]} years (base {n0}, rounded)"
        elif name == "wholesale_cost":
            figs = _figures(ref)
            if WHOLESALE_FIGURE not in figs:
                raise TornadoError(f"wholesale_cost: the business case used no figure '{WHOLESALE_FIGURE}'")
            w0 = figs[WHOLESALE_FIGURE]
            npvs = [_npv(case(extra={WHOLESALE_FIGURE: w0 * f}), stakeholder, f"wholesale cost x {f:g}")
                    for f in (low, high)]
            values, base_value = [w0 * low, w0 * high], w0
            notes[name] = f"override {WHOLESALE_FIGURE} = {w0 * low:g} and {w0 * high:g} RM/kWh"
        else:  # pv_yield
            own = output_dir is None
            out = tempfile.mkdtemp(prefix="libgrid_tornado_") if own else os.path.abspath(os.fspath(output_dir))
            try:
                rr = _rerun_pv_yield(base, scenario, (low, high), client, workers, out, progress)
                npvs = [_npv(case(b, s), stakeholder, f"PV yield x {f:g}")
                        for (b, s), f in zip(rr["files"], (low, high))]
            finally:
                if own:
                    shutil.rmtree(out, ignore_errors=True)
            values, base_value = rr["ghi"], rr["ghi_base"]
            notes[name] = (f"both scenarios re-run with weather.mean_daily_ghi_kwh_m2 = {values[0]:g} and "
                           f"{values[1]:g} (stored: {base_value:g})")
        rows.append({"input": name, "low_value": float(values[0]), "high_value": float(values[1]),
                     "npv_low_rm": npvs[0], "npv_high_rm": npvs[1], "swing_rm": abs(npvs[1] - npvs[0]),
                     "unit": INPUTS[name], "base_value": float(base_value)})
    df = pd.DataFrame(rows, columns=["input", "low_value", "high_value", "npv_low_rm", "npv_high_rm", "swing_rm",
                                     "unit", "base_value"])
    df = df.sort_values("swing_rm", ascending=False, kind="stable").reset_index(drop=True)
    df.attrs.update({"stakeholder": stakeholder, "npv_base_rm": npv0, "low": low, "high": high,
                     "labels": {n: LABELS[n] for n in names}, "notes": notes})
    return df


# ---- the plot ----------------------------------------------------------------------------------

def _fmt(v: float, unit: str) -> str:
    if unit.startswith("x "):
        return f"x{v:g}"
    if unit == "years":
        return f"{v:g} y"
    if unit == "per year":
        return f"{v * 100:.3g} %"
    return f"{v:.3g}"


def plot_tornado(df: pd.DataFrame, ax=None, title: Optional[str] = None, scale: str = "auto"):
    """A tornado chart of tornado(...)'s table: one bar per input (largest swing on top) from the
    NPV at the input's low value to the NPV at its high value, around the base NPV (the vertical
    line); each bar names the input with its low and high values and units. scale: "auto" (RM,
    thousand RM or million RM by the largest NPV), "RM", "kRM" or "MRM". Returns the Axes
    (ax.tornado: the table drawn)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    need = {"input", "low_value", "high_value", "npv_low_rm", "npv_high_rm", "swing_rm"}
    missing = need - set(df.columns)
    if missing:
        raise TornadoError(f"plot_tornado: the table lacks the columns {', '.join(sorted(missing))} (make it with tornado())")
    if df.empty:
        raise TornadoError("plot_tornado: the table is empty")
    d = df.sort_values("swing_rm", ascending=True, kind="stable")  # largest on top (last drawn = highest y)
    base = float(df.attrs.get("npv_base_rm", np.nan))
    vals = np.abs(np.r_[d.npv_low_rm.to_numpy(), d.npv_high_rm.to_numpy(), [base if math.isfinite(base) else 0.0]])
    big = float(vals.max()) if len(vals) else 0.0
    if scale == "auto":
        scale = "MRM" if big >= 1e6 else "kRM" if big >= 1e4 else "RM"
    div = {"RM": 1.0, "kRM": 1e3, "MRM": 1e6}.get(scale)
    if div is None:
        raise TornadoError(f"plot_tornado: scale must be 'auto', 'RM', 'kRM' or 'MRM', got {scale!r}")
    unit_label = {"RM": "RM", "kRM": "thousand RM", "MRM": "million RM"}[scale]
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.6 * len(d) + 1.8), layout="constrained")
    centre = base if math.isfinite(base) else float(np.mean([d.npv_low_rm.mean(), d.npv_high_rm.mean()]))
    labels = df.attrs.get("labels", LABELS)
    y = np.arange(len(d))
    c_low, c_high = "tab:blue", "tab:orange"
    for i, (_, r) in enumerate(d.iterrows()):
        ends = sorted(((r.npv_low_rm, c_low), (r.npv_high_rm, c_high)), key=lambda e: -abs(e[0] - centre))
        for v, c in ends:  # the longer first: both ends stay visible when they lie on one side of the base
            ax.barh(i, (v - centre) / div, left=centre / div, color=c, height=0.6, edgecolor="white")
        # the NPV at each end of the bar, outside it
        lo_v, hi_v = sorted((r.npv_low_rm, r.npv_high_rm))
        for v, ha, pad in ((lo_v, "right", -1), (hi_v, "left", 1)):
            ax.annotate(f"{v / div:,.3g}", (v / div, i), xytext=(3 * pad, 0), textcoords="offset points",
                        ha=ha, va="center", fontsize="small", color="0.25")
    ax.margins(x=0.15)
    unit = d["unit"] if "unit" in d.columns else pd.Series([""] * len(d), index=d.index)
    names = [f"{labels.get(r.input, r.input)}\n{_fmt(r.low_value, u)} / {_fmt(r.high_value, u)}"
             + ("" if u.startswith("x ") or u in ("years", "per year") else f" {u}")
             for (_, r), u in zip(d.iterrows(), unit)]
    ax.set_yticks(y, names)
    ax.axvline(centre / div, color="black", lw=1)
    ax.set_xlabel(f"NPV ({unit_label})")
    ax.grid(axis="x", alpha=0.3)
    lo, hi = df.attrs.get("low"), df.attrs.get("high")
    ax.legend(handles=[Patch(color=c_low, label=f"low value (x{lo:g})" if lo else "low value"),
                       Patch(color=c_high, label=f"high value (x{hi:g})" if hi else "high value")],
              loc="best", fontsize="small")
    who = df.attrs.get("stakeholder", "")
    ax.set_title(title or f"NPV of '{who}': sensitivity (base {centre / div:,.3g} {unit_label})")
    ax.tornado = d
    return ax
