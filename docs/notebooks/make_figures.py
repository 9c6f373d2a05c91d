#!/usr/bin/python3
"""Regenerates the figures of docs/img from the smart-city comparison of melaka_smart_city.ipynb (same
scenarios, same week: START and STEPS come from make_notebooks.py).

    PYTHONPATH=build/python /usr/bin/python3 docs/notebooks/make_figures.py

Writes docs/img/smart_city_voltage_heatmap.png, smart_city_energy_balance.png and
smart_city_load_duration.png.
"""
from __future__ import annotations

import os
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
IMG = ROOT / "docs" / "img"
sys.dont_write_bytecode = True  # no __pycache__ in docs/notebooks
sys.path.insert(0, str(HERE))
try:
    import libgrid  # noqa: E402
except ImportError:
    sys.path.insert(0, str(pathlib.Path(os.environ.get("LIBGRID_BUILD_DIR", ROOT / "build")) / "python"))
    import libgrid  # noqa: E402
from libgrid import plots  # noqa: E402
from make_notebooks import START, STEPS  # noqa: E402

DAY = "2025-06-11"  # the Wednesday of the week, as in the notebook


def run(file: str):
    sc = libgrid.Scenario.load(ROOT / "scenarios" / file)
    sc.set("horizon.start", START)
    sc.override(steps=STEPS)
    return sc.run()


def save(fig, name: str) -> None:
    path = IMG / name
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    print("wrote", path.relative_to(ROOT))


def main() -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    base, smart = run("melaka_baseline.yaml"), run("melaka_smart_city.yaml")
    for r in (base, smart):
        assert r.summary["non_converged_steps"] == 0 and r.summary["energy_balance_max_error_mw"] < 1e-6

    fig, axs = plt.subplots(2, 1, figsize=(10, 7), layout="constrained", sharex=True)
    for ax, (label, r) in zip(axs, (("baseline", base), ("smart city", smart))):
        plots.voltage_heatmap(r, ax=ax, vmin=0.94, vmax=1.06)
        ax.set_title(f"{label}: bus voltage magnitude, {START} + {STEPS // 96} days")
    save(fig, "smart_city_voltage_heatmap.png")

    fig, axs = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained", sharey=True)
    for ax, (label, r) in zip(axs, (("baseline", base), ("smart city", smart))):
        plots.energy_balance_day(r, DAY, ax=ax)
        ax.set_title(f"{label}: energy balance {DAY}")
    save(fig, "smart_city_energy_balance.png")

    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    plots.load_duration_curve(base, ax=ax, label="baseline")
    plots.load_duration_curve(smart, ax=ax, label="smart city")
    ax.set_title(f"Grid import, week of {START}")
    save(fig, "smart_city_load_duration.png")


if __name__ == "__main__":
    main()
