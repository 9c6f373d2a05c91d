#!/usr/bin/python3
"""Writes the example notebooks of docs/notebooks (nbformat v4, no outputs).

    /usr/bin/python3 docs/notebooks/make_notebooks.py        # rewrites the .ipynb files

Edit the cells here, not in the .ipynb files. tests/python/test_notebooks.py executes every
notebook (kernel "python3", cwd = docs/notebooks) and fails if a cell raises; the notebooks assert
their own results. docs/notebooks/make_figures.py saves docs/img figures from the same smart-city run.
"""
from __future__ import annotations

import pathlib
import textwrap

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = pathlib.Path(__file__).resolve().parent


def md(text: str):
    return new_markdown_cell(textwrap.dedent(text).strip())


def code(text: str):
    return new_code_cell(textwrap.dedent(text).strip())


# The first code cell of every notebook: find the repository from the working directory (nbclient and
# Jupyter start the kernel in docs/notebooks, two levels below the root) and import libgrid (from the
# build tree if it is not on the path).
SETUP = """
import os, sys
from pathlib import Path

here = Path.cwd().resolve()
ROOT = next(p for p in [here, *here.parents] if (p / "tests" / "data").is_dir() and (p / "scenarios").is_dir())
DATA, SCENARIOS = ROOT / "tests" / "data", ROOT / "scenarios"
try:
    import libgrid
except ImportError:  # not installed: use the build tree
    sys.path.insert(0, str(Path(os.environ.get("LIBGRID_BUILD_DIR", ROOT / "build")) / "python"))
    import libgrid

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from libgrid import plots

print("libgrid", libgrid.__version__, "from", Path(libgrid.__file__).parent)

FIGURES = os.environ.get("LIBGRID_FIGURES_DIR")  # docs/img when make_figures.py runs the notebook


def save_figure(fig, name):  # the docs' figures come from these cells (only when LIBGRID_FIGURES_DIR is set)
    if FIGURES:
        fig.savefig(Path(FIGURES) / name, dpi=100, metadata={"Software": None})
"""


def quickstart():
    return [
        md("""
        # libgrid quickstart: one power flow on a MATPOWER case

        Read the IEEE 118-bus case (MATPOWER format), look at its tables, solve it with Newton-Raphson,
        check the answer against MATPOWER's own solution (`tests/data/refs/case118.json`, made with
        MATPOWER 8.1 `runpf`) and plot the voltages. Every table is a pandas DataFrame indexed by the
        case's ids, with the unit in the column name.
        """),
        code(SETUP),
        md("## The network"),
        code("""
        net = libgrid.Network.from_matpower(DATA / "matpower" / "case118.m")
        print(net)
        net.bus.head()
        """),
        code("""
        net.gen.head()
        """),
        code("""
        net.branch.head()   # MATPOWER branches: r, x, b in p.u. on the case's base
        """),
        md("## Newton-Raphson power flow"),
        code("""
        res = net.run_pf(method="nr")
        print(res)
        assert res.converged
        res.bus.head()
        """),
        code("""
        res.branch.sort_values("p_from_mw", key=abs, ascending=False).head()   # the most loaded branches
        """),
        md("""
        ## Check against MATPOWER

        The reference holds MATPOWER's bus voltages in the case's bus order. A solver must meet
        |Vm - ref| <= 1e-6 p.u. and |Va - ref| <= 1e-5 degrees at every bus, and the losses within 1e-4 MW
        (`tests/data/refs/README.md`).
        """),
        code("""
        import json

        ref = json.loads((DATA / "refs" / "case118.json").read_text())
        cmp = pd.DataFrame({"vm_ref": ref["bus"]["Vm_pu"], "va_ref": ref["bus"]["Va_deg"]},
                           index=pd.Index(ref["bus"]["id"], name="id"))
        cmp["vm"] = res.bus.vm_pu.reindex(cmp.index)
        cmp["va"] = res.bus.va_deg.reindex(cmp.index)
        cmp["dvm"] = (cmp.vm - cmp.vm_ref).abs()
        cmp["dva"] = (cmp.va - cmp.va_ref).abs()
        print(f"max |dVm| = {cmp.dvm.max():.2e} p.u., max |dVa| = {cmp.dva.max():.2e} deg, "
              f"losses {res.losses_mw:.6f} MW vs {ref['losses']['P_MW']:.6f} MW")
        assert cmp.vm.notna().all() and len(cmp) == ref["n_bus"] == len(net.bus)
        assert cmp.dvm.max() < 1e-6
        assert cmp.dva.max() < 1e-5
        assert abs(res.losses_mw - ref["losses"]["P_MW"]) < 1e-4
        cmp.sort_values("dvm", ascending=False).head(3)
        """),
        md("## Other methods: fast-decoupled and DC"),
        code("""
        rows = {}
        for method in ("nr", "fdxb", "dc"):
            r = net.run_pf(method=method)
            rows[method] = {"converged": r.converged, "iterations": r.iterations,
                            "losses_mw": r.losses_mw, "max_dva_deg": (r.bus.va_deg - res.bus.va_deg).abs().max()}
        pd.DataFrame(rows).T
        """),
        md("## Plot"),
        code("""
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 6), sharex=True, layout="constrained")
        x = np.arange(len(cmp))
        ax1.plot(x, cmp.vm, ".-", label="libgrid NR")
        ax1.plot(x, cmp.vm_ref, "o", mfc="none", ms=6, label="MATPOWER")
        ax1.axhline(net.bus.vmin_pu.iloc[0], ls=":", color="tab:red")
        ax1.axhline(net.bus.vmax_pu.iloc[0], ls=":", color="tab:red")
        ax1.set_ylabel("|V| (p.u.)")
        ax1.legend()
        ax2.plot(x, cmp.va, ".-")
        ax2.set_ylabel("angle (degree)")
        ax2.set_xlabel("bus (case order)")
        fig.suptitle("IEEE 118-bus case: bus voltages")
        assert len(ax1.lines) == 4
        """),
    ]


# The smart-city comparison: one week of June 2025 (Monday 9th to Sunday 15th: no public holiday, so
# weekdays have the ToU peak window) at 15 minutes. make_figures.py uses the same settings.
START, STEPS = "2025-06-09", 96 * 7


def smart_city():
    return [
        md("""
        # Melaka: today's grid vs the smart city

        Two scenario files of `scenarios/` on the same generated Melaka grid (size `small`):

        * `melaka_baseline.yaml`: today, a few rooftop PV systems, few EVs, uncontrolled charging,
          everyone on the general tariff;
        * `melaka_smart_city.yaml`: the smart-city demonstration: PV with smart inverters, batteries,
          EV charging delayed to off-peak, public charging sites with PV canopies and storage, BEMS
          buildings, HEMS homes and ToU tariffs.

        Both are cut to one week (the files run a year) with `Scenario.set`, run, and compared:
        KPIs, voltages, transformer loading, the energy balance of a day, EV charging and bills.
        """),
        code(SETUP),
        md("## Scenarios, shortened to one week"),
        code(f"""
        START, STEPS = "{START}", {STEPS}   # Monday 9 June 2025, one week at 15 min

        scenarios = {{}}
        for label, file in (("baseline", "melaka_baseline.yaml"), ("smart city", "melaka_smart_city.yaml")):
            sc = libgrid.Scenario.load(SCENARIOS / file)
            sc.set("network.model", "balanced")   # the positive-sequence model (unbalanced by default: docs/scenarios.md)
            sc.set("horizon.start", START)
            sc.override(steps=STEPS)
            scenarios[label] = sc
        pd.DataFrame({{label: sc.counts() for label, sc in scenarios.items()}})
        """),
        md("## Run"),
        code("""
        import time

        results = {}
        for label, sc in scenarios.items():
            t0 = time.perf_counter()
            results[label] = sc.run()
            print(f"{label}: {results[label]} in {time.perf_counter() - t0:.1f} s")
        base, smart = results["baseline"], results["smart city"]
        """),
        md("## KPIs"),
        code("""
        kpis = plots.compare_kpis(results)
        kpis
        """),
        code("""
        for label, r in results.items():
            s = r.summary
            assert s["steps"] == STEPS and s["non_converged_steps"] == 0, label
            # every step: grid import + all injections = losses (generator convention)
            assert s["energy_balance_max_error_mw"] < 1e-6, (label, s["energy_balance_max_error_mw"])
            # the same balance from the stored series (float32 files: looser)
            assert plots.energy_balance(r).sum(axis=1).abs().max() < 1e-4 * max(1.0, s["peak_import_mw"])

        assert smart.summary["pv_mwh"] > 0
        if scenarios["baseline"].counts()["pv"] == 0:
            assert base.summary["pv_mwh"] == 0
        else:
            assert smart.summary["pv_mwh"] > base.summary["pv_mwh"]
        assert (smart.summary["peak_import_mw"] != base.summary["peak_import_mw"]
                or smart.summary["co2_t"] != base.summary["co2_t"])
        change = (kpis["smart city"] - kpis["baseline"]) / kpis["baseline"].abs()
        change.loc[["import_mwh", "peak_import_mw", "co2_t", "bills_rm", "min_vm_pu", "max_trafo_loading_percent"]]
        """),
        md("""
        ## Voltages

        296 buses do not fit a heatmap's rows: each row is an *area*, one distribution transformer's LV
        network or one 11 kV feeder (`plots.bus_groups`, from the results file alone), showing its lowest
        voltage at each step. The colour scale spans the voltage band; its ends (LV 0.94, MV 0.95 and
        1.05 p.u.) are dashed on the colour bar.
        """),
        code("""
        fig, axs = plt.subplots(2, 1, figsize=(11, 12), layout="constrained")
        for ax, (label, r) in zip(axs, results.items()):
            plots.voltage_heatmap(r, ax=ax)
        groups = plots.bus_groups(smart)
        assert len(axs[1].row_labels) == groups.label.nunique() < len(groups)
        img = np.ma.filled(axs[1].images[0].get_array(), np.nan)
        first = groups.index[groups.label == axs[1].row_labels[0]]
        assert np.allclose(img[0], smart.bus_vm()[first].min(axis=1).to_numpy(), equal_nan=True)
        save_figure(fig, "smart_city_voltage_heatmap.png")
        """),
        code("""
        fig, axs = plt.subplots(2, 1, figsize=(12, 8.5), layout="constrained", sharey=True)
        for ax, r in zip(axs, results.values()):
            plots.voltage_percentiles(r, ax=ax)
        save_figure(fig, "smart_city_voltage_percentiles.png")
        """),
        code("""
        net = scenarios["smart city"].network()
        lv = smart.bus_vm().loc[:, (net.bus.vn_kv < 1.0).reindex(smart.bus_vm().columns).to_numpy()]
        feeder = plots.feeder_path(net, lv.min().idxmin())      # to the LV bus with the lowest voltage
        fig, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
        plots.voltage_profile(smart, net, feeder_buses=feeder, ax=ax)
        assert {0.94, 0.95} <= set(np.round(ax.lines[3].get_ydata(), 6))   # the band of each level
        print(f"feeder: {len(feeder)} buses from the slack to bus {feeder[-1]}")
        save_figure(fig, "smart_city_voltage_profile.png")
        """),
        md("## Grid import and transformers"),
        code("""
        fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
        for label, r in results.items():
            plots.load_duration_curve(r, ax=ax, label=label)
        assert "melaka_baseline vs melaka_smart_city" in ax.get_title()
        save_figure(fig, "smart_city_load_duration.png")
        """),
        code("""
        fig, ax = plt.subplots(figsize=(12, 4.8), layout="constrained")
        plots.transformer_loading(smart, ax=ax)
        assert any("kVA" in l.get_label() for l in ax.lines)
        save_figure(fig, "smart_city_transformer_loading.png")
        """),
        md("## A day's energy balance (Wednesday)"),
        code("""
        fig, axs = plt.subplots(1, 2, figsize=(16, 5), layout="constrained", sharey=True)
        for ax, (label, r) in zip(axs, results.items()):
            plots.energy_balance_day(r, "2025-06-11", ax=ax)
        save_figure(fig, "smart_city_energy_balance.png")
        """),
        md("## Batteries and EV charging"),
        code("""
        fig, axs = plt.subplots(1, 2, figsize=(14, 4.8), layout="constrained")
        plots.battery_soc(smart, ax=axs[0])
        plots.ev_charging(by=results, ax=axs[1]);
        """),
        code("""
        plots.ev_charging(smart)
        plots.ev_charging_by_hour(smart).round(4).T
        """),
        md("""
        ## Bills

        The week's bills by customer class (a part month is billed as it is: the monthly retail charge is
        not pro-rated, see docs/tariffs.md). A mall pays a thousand times a house: a log axis, and the
        largest bills named under it.
        """),
        code("""
        fig, ax = plt.subplots(figsize=(11, 5), layout="constrained")
        plots.bills_by_class(results, ax=ax)
        by_class = ax.bills.groupby(["class", "run"]).bill_rm.sum().unstack()
        assert np.isclose(by_class["smart city"].sum(), plots.customer_bills(smart).sum())
        save_figure(fig, "smart_city_bills_by_class.png")
        bill_change = plots.customer_bills(smart) - plots.customer_bills(base)
        print(f"customers paying less: {(bill_change < 0).sum()}, more: {(bill_change > 0).sum()}, "
              f"same: {(bill_change == 0).sum()}")
        by_class.round(0)
        """),
        md("""
        ## PV hosting capacity of today's grid

        `libgrid.hosting_capacity` per distribution transformer around noon of the equinox (8 steps of
        15 min; docs/hosting_capacity.md), drawn on a schematic of the feeders.
        """),
        code("""
        base_sc = scenarios["baseline"]
        hc = libgrid.hosting_capacity(base_sc, kind="pv", group="transformer", steps=8, start="2025-03-20T11:00")
        fig, ax = plt.subplots(figsize=(11, 4.5), layout="constrained")
        plots.hosting_map(hc, base_sc.network(), base_sc.customers(), ax=ax,
                          title="melaka_baseline (small grid), 2025-03-20 11:00-13:00")
        assert len(ax.texts) == len(ax.hosting) > 0
        save_figure(fig, "smart_city_hosting_map.png")
        hc
        """),
        md("""
        ## The district grid: 4,907 buses

        The smart city on the `district` grid (49 distribution transformers), one day. The heatmap shows
        one row per area; the percentile bands show every bus of each level at once.
        """),
        code("""
        district = libgrid.Scenario.load(SCENARIOS / "melaka_smart_city.yaml")
        district.set("network.model", "balanced")
        district.set("horizon.start", "2025-06-11")
        district.override(steps=96, size="district")
        dres = district.run()
        assert len(dres.ids("bus")) > 4000 and dres.summary["non_converged_steps"] == 0
        fig, ax = plt.subplots(figsize=(11, 9), layout="constrained")
        plots.voltage_heatmap(dres, ax=ax)
        assert len(ax.row_labels) < 80
        save_figure(fig, "district_voltage_heatmap.png")
        """),
        code("""
        for name, plot in (("voltage_percentiles", plots.voltage_percentiles),
                           ("transformer_loading", plots.transformer_loading),
                           ("bills_by_class", plots.bills_by_class)):
            fig, ax = plt.subplots(figsize=(12, 4.8), layout="constrained")
            plot(dres, ax=ax)
            save_figure(fig, f"district_{name}.png")
        """),
    ]


EV_SHARES = (0.0, 0.2, 0.5)


def ev_growth():
    return [
        md("""
        # EV growth on today's grid

        The baseline scenario (`scenarios/melaka_baseline.yaml`: uncontrolled home charging) with the share
        of terrace houses owning an EV and a 7 kW home charger set to 0 %, 20 % and 50 %
        (`devices.ev.share`). Which customers get an EV is drawn from the scenario seed with nested
        selections: a larger share keeps every EV of a smaller one. We look at the grid's peak import, the
        evening peak (when people come home and plug in) and the loading of each distribution transformer.
        """),
        code(SETUP),
        code(f"""
        SHARES = {EV_SHARES!r}
        START, STEPS = "2025-06-09", 96 * 5   # Monday to Friday, 9-13 June 2025, at 15 min

        base = libgrid.Scenario.load(SCENARIOS / "melaka_baseline.yaml")
        base.set("network.model", "balanced")   # the positive-sequence model (a Melaka scenario is unbalanced by default)
        base.set("horizon.start", START)
        base.override(steps=STEPS)

        results, counts = {{}}, {{}}
        for share in SHARES:
            sc = base.copy()
            sc.set("devices.ev.share", share)
            counts[f"EV {{share:.0%}}"] = sc.counts()
            results[f"EV {{share:.0%}}"] = sc.run()
        pd.DataFrame(counts)
        """),
        md("## Grid import"),
        code("""
        def evening_peak_mw(res, from_hour=18):
            imp = res.series("ext_grid", "p_mw").sum(axis=1)       # generator convention: import > 0
            return imp[imp.index.hour >= from_hour].max()

        kpis = plots.compare_kpis(results, kpis=["peak_import_mw", "import_mwh", "ev_delivered_mwh", "ev_peak_mw",
                                                 "max_trafo_loading_percent", "min_vm_pu", "losses_mwh", "co2_t"])
        evening = pd.Series({label: evening_peak_mw(r) for label, r in results.items()})
        kpis.loc["evening_peak_import_mw"] = ["MW", *evening]
        kpis
        """),
        code("""
        def row(name):
            return kpis.loc[name].drop("unit").astype(float).to_numpy()

        ev_stations = [c["ev_stations"] for c in counts.values()]
        peak, evening, ev_energy = row("peak_import_mw"), row("evening_peak_import_mw"), row("ev_delivered_mwh")
        print("home EV stations:", ev_stations)
        print("peak import (MW):", peak.round(4), " evening peak (MW):", evening.round(4))
        assert all(a < b for a, b in zip(ev_stations, ev_stations[1:]))    # more EVs ...
        assert all(a < b for a, b in zip(ev_energy, ev_energy[1:]))        # ... charge more energy ...
        assert all(a <= b for a, b in zip(peak, peak[1:]))                 # ... never lower the peak ...
        assert all(a < b for a, b in zip(evening, evening[1:]))            # ... and raise the evening peak
        """),
        md("""
        The grid's overall peak is set by the commercial customers in the afternoon, so home charging
        (mostly in the evening) hardly moves it on this grid. The evening peak and the distribution
        transformers that feed the terrace houses tell the story:
        """),
        md("## Transformer loading"),
        code("""
        def trafo_max_loading(res):
            kind = res.vector("branch", "kind").astype(str)
            element = res.vector("branch", "element_id")
            load = res.series("branch", "loading_percent")
            cols = [c for c in load.columns if kind[c] == "trafo"]
            return pd.Series(load[cols].max().to_numpy(), index=pd.Index(element[cols], name="trafo"))

        net = base.network()
        customers = base.customers()
        trafo = pd.DataFrame({label: trafo_max_loading(r) for label, r in results.items()})
        houses = customers[customers.type == "terrace_house"].groupby("transformer").size()
        trafo.insert(0, "terrace houses", houses.reindex(trafo.index, fill_value=0))
        trafo.insert(0, "kVA", (net.trafo.sn_mva * 1000).reindex(trafo.index))
        trafo.round(1)
        """),
        code("""
        labels = list(results)
        residential = trafo[trafo["terrace houses"] > 0]
        print("max loading (%) of the transformers feeding terrace houses:")
        print(residential[labels].round(1))
        # each residential transformer is at least as loaded with more EVs, and the most loaded one more so
        assert (residential[labels].diff(axis=1).iloc[:, 1:] >= -1e-9).all().all()
        most = residential[labels].max()
        assert all(a < b for a, b in zip(most, most[1:]))
        """),
        code("""
        fig, axs = plt.subplots(1, 2, figsize=(13, 4.5), layout="constrained")
        for label, r in results.items():
            plots.load_duration_curve(r, ax=axs[0], label=label)
        trafo[labels].plot.bar(ax=axs[1], rot=0)
        axs[1].axhline(100, color="red", ls="--", lw=1)
        axs[1].set_ylabel("maximum loading (%)")
        axs[1].set_xlabel("transformer id")
        axs[1].set_title("Transformer loading by EV share")
        assert len(axs[0].lines) >= len(SHARES) and len(axs[1].containers) == len(SHARES)
        """),
        code("""
        plots.ev_charging(by=results);
        """),
    ]


def unbalanced_week():
    """Issue 15: the Melaka small grid, a week, unbalanced (as built) against balanced."""
    return [
        md("""
        # The Melaka small grid, one week: unbalanced (as built) against balanced

        The same customers, the same load profiles, the same week (7-13 July 2025, 15-minute steps),
        solved twice:

        * **balanced**: the positive-sequence model of issues 1-13 (every customer a balanced
          three-phase load; docs/melaka.md's "balanced equivalent" service cable);
        * **unbalanced (as built)**: the grid as TNB builds it (docs/melaka.md, "As built: phases"):
          LV feeders three-phase four-wire with the neutral modelled and earthed at every customer
          (10 ohm) and at the transformer's star point (1 ohm), Dyn11 transformers, single-phase
          customers on their phase by the connection order along the street (a, b, c, a, ...),
          real two-wire services;
        * **unbalanced, skewed**: the same, with 30 % of the single-phase customers on the phase of
          their neighbour (`imbalance: 0.3`): what a street whose phases were not rotated looks like.

        Then: voltages per phase, the voltage unbalance factor (VUF), the neutral current and the
        transformers' loading per phase, side by side; the KPIs are docs/kpis.md's.
        """),
        code(SETUP),
        md("""
        ## The three runs

        `scenarios/melaka_baseline.yaml` (Melaka today: the small grid, seed 1, 140 customers on 9
        transformers, a few rooftop PV systems and home chargers, the public charging sites) run three
        times with `Scenario.run(model=...)` (the CLI's `libgrid run --model`): `model="balanced"`,
        then the default, the grid as built (`network.model: unbalanced`), then with
        `network.phases.imbalance: 0.3`. Every device sits on its customer's phase in the unbalanced
        runs (docs/melaka.md, docs/scenarios.md `network.phases`). Phase-to-neutral voltages need the
        node angles: `outputs.bus_angles: true`.
        """),
        code("""
        import math, tempfile

        scenario = libgrid.Scenario.load(SCENARIOS / "melaka_baseline.yaml")
        scenario.set("horizon.start", "2025-07-07")
        scenario.override(steps=7 * 96)             # a week of 15-minute steps
        scenario.set("outputs.bus_angles", True)    # phase-to-neutral voltages (node_vln_pu)
        customers = scenario.customers()
        skewed_scenario = scenario.copy().set("network.phases.imbalance", 0.3)
        out = Path(tempfile.mkdtemp(prefix="unbalanced_week_"))
        runs = {
            "balanced": scenario.run(str(out / "balanced.h5"), model="balanced"),
            "unbalanced (as built)": scenario.run(str(out / "as_built.h5")),   # the default for the Melaka generator
            "unbalanced, skewed (imbalance 0.3)": skewed_scenario.run(str(out / "skewed.h5")),
        }
        balanced = runs["balanced"]
        for label, r in runs.items():
            print(f"{label:36s} model {r.model:10s} {r.summary['steps']:.0f} steps, {r.summary['wall_time_s']:.1f} s")
        assert scenario.model == "unbalanced" and balanced.model == "balanced"
        """),
        md("""
        ## The KPIs side by side

        The balanced run has no unbalance KPIs (NaN): its model cannot see them. The energy is the same
        (same profiles); losses differ because the unbalanced currents and the neutral's return path
        cost more.
        """),
        code("""
        rows = ["load_mwh", "losses_mwh", "neutral_losses_mwh", "min_vm_pu", "max_vm_pu", "voltage_violation_bus_steps",
                "undervoltage_node_steps_a", "undervoltage_node_steps_b", "undervoltage_node_steps_c",
                "max_trafo_loading_percent", "max_trafo_phase_loading_percent", "max_line_loading_percent",
                "max_line_conductor_loading_percent", "max_neutral_current_a", "max_vuf_percent", "vuf_p95_percent",
                "vuf_bus_steps_over_limit_percent"]
        table = plots.compare_kpis(runs, kpis=rows)
        assert math.isclose(table.loc["load_mwh", "balanced"], table.loc["load_mwh", "unbalanced (as built)"], rel_tol=1e-9)
        assert np.isnan(table.loc["max_vuf_percent", "balanced"])
        table.round(4)
        """),
        md("""
        ## Voltages per phase

        The lowest voltage of each step at the terrace houses' meters (the single-phase customers'
        buses; the shops, offices and the mall are three-phase): for the balanced model the lowest bus
        voltage; for the unbalanced runs the lowest **phase-to-neutral** voltage of each phase, which
        is what a customer's meter reads.
        """),
        code("""
        import matplotlib.dates as mdates

        homes = customers.loc[customers.type == "terrace_house", "bus"].astype(int).unique()
        bal_min = balanced.bus_vm()[homes].min(axis=1)
        fig, axs = plt.subplots(1, 2, figsize=(13, 4.5), sharey=True, layout="constrained")
        lowest = {}
        for ax, label in zip(axs, ["unbalanced (as built)", "unbalanced, skewed (imbalance 0.3)"]):
            vln = runs[label].node_vln_pu()
            bus, phase = vln.columns.str.rsplit(".", n=1).str[0], vln.columns.str.rsplit(".", n=1).str[1]
            at_home = bus.isin([f"b{b}" for b in homes])  # to_unetwork names bus <id> "b<id>"
            t = vln.index.tz_localize(None)
            for ph, color in plots.PHASE_COLORS.items():
                m = vln.loc[:, at_home & (phase == ph)].min(axis=1)
                lowest[(label, ph)] = float(m.min())
                ax.plot(t, m.to_numpy(), color=color, lw=0.9, label=f"phase {ph} (lowest {m.min():.4f} p.u.)")
            ax.plot(t, bal_min.to_numpy(), color="0.5", ls="--", lw=1, label=f"balanced model (lowest {bal_min.min():.4f} p.u.)")
            ax.set_title(f"Lowest voltage at a home's meter: {label}", fontsize="medium")
            ax.set_xlabel("time (Melaka)")
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize="small")
        axs[0].set_ylabel("lowest |V| phase to neutral (p.u.)")
        save_figure(fig, "unbalanced_week_voltages.png")
        pd.Series(lowest).unstack().assign(balanced=float(bal_min.min())).round(4)
        """),
        md("""
        ## Voltage unbalance and the transformer's phases

        `plots.phase_loading` draws one transformer's loading per phase (LV side, each phase against a
        third of the rating) and the VUF over time. The transformer shown is the residential one whose
        phases differ most in the skewed run; the dashed grey line is the balanced model's loading of the
        same transformer (one number for all three phases).
        """),
        code("""
        def trafo_id(name):  # the unbalanced model names transformer <id> "t<id>" (to_unetwork)
            return int(name.lstrip("t"))

        bal_loading = balanced.series("branch", "loading_percent")
        bal_trafo = {int(e): c for c, e, k in zip(bal_loading.columns, balanced.vector("branch", "element_id"),
                                                  balanced.vector("branch", "kind")) if k == "trafo"}
        spread = {}
        for label in ("unbalanced (as built)", "unbalanced, skewed (imbalance 0.3)"):
            tl = runs[label].trafo_phase_loading()
            peak = tl.max().unstack()
            spread[label] = (peak.max(axis=1) - peak.min(axis=1)).sort_values(ascending=False)
        shown = spread["unbalanced, skewed (imbalance 0.3)"].index[0]
        for label in ("unbalanced (as built)", "unbalanced, skewed (imbalance 0.3)"):
            axes = plots.phase_loading(runs[label], trafo=shown)
            t = bal_loading.index.tz_localize(None)
            axes[0].plot(t, bal_loading[bal_trafo[trafo_id(shown)]].to_numpy(), color="0.5", ls="--", lw=1,
                         label="balanced model")
            axes[0].legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize="small")
            axes[0].set_title(f"{label}: transformer {shown}, loading per phase and VUF", fontsize="medium")
            save_figure(axes[0].figure, f"unbalanced_week_{'skewed' if 'skewed' in label else 'as_built'}_phases.png")
        peaks = {label: runs[label].trafo_phase_loading()[shown].max() for label in spread}
        pd.DataFrame(peaks).round(1).assign(balanced=round(float(bal_loading[bal_trafo[trafo_id(shown)]].max()), 1))
        """),
        md("""
        ## The neutral

        The largest neutral current of any LV line at each step (a balanced model has none), and what
        flows in the neutrals over the week.
        """),
        code("""
        fig, ax = plt.subplots(figsize=(13, 4), layout="constrained")
        neutral_peak = {}
        for label, color in (("unbalanced (as built)", "tab:blue"), ("unbalanced, skewed (imbalance 0.3)", "tab:red")):
            r = runs[label]
            i_n = r.series("branch", "i_n_max_ka") * 1000.0
            lines = (r.vector("branch", "kind") == "line").to_numpy()  # earth electrodes have none
            m = i_n.loc[:, lines].max(axis=1)
            neutral_peak[label] = float(m.max())
            ax.plot(m.index.tz_localize(None), m.to_numpy(), color=color, lw=0.9,
                    label=f"{label}: peak {m.max():.0f} A, neutral losses {r.summary['neutral_losses_mwh'] * 1000:.1f} kWh")
        ax.axhline(0.0, color="0.5", ls="--", lw=1, label="balanced model: 0 A")
        ax.set_ylabel("largest neutral current of an LV line (A)")
        ax.set_xlabel("time (Melaka)")
        ax.set_title("Neutral current, Melaka small grid, 7-13 July 2025", fontsize="medium")
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        save_figure(fig, "unbalanced_week_neutral.png")
        neutral_peak
        """),
        md("""
        ## What the balanced model missed

        At today's load (Melaka today, a July week) the small grid's LV network is lightly loaded and
        the rotation of the services over the phases keeps it balanced on the whole. So the balanced
        model is not wrong about the *totals*: the same energy, total losses within 0.1 %, the same
        most loaded transformer and line (three-phase commercial customers, balanced in both models).
        What it cannot see is everything that happens on one phase:

        * **the neutral**: up to about 37 A in an LV neutral and at a transformer's star point, in
          both unbalanced runs: a 7 kW home charger on one phase (about 30 A) outweighs the rotation.
          The neutral's and earth electrodes' losses are about 5 kWh in the week (small next to the
          grid's 7.9 MWh, most of which is the transformers' iron loss). The balanced model has no
          neutral at all;
        * **the worst phase of a transformer**: on the transformer shown, one phase peaks at about
          21 % of its third of the rating (20.6 % as built, 21.4 % skewed) while another stays at
          13-16 %; the balanced model reports 16.9 % for all three: the phase that limits the
          transformer is more than a fifth above what the balanced model says. The same mechanism
          decides when a transformer's phase overloads as EVs and PV arrive on single phases
          (hosting capacity per phase: docs/hosting_capacity.md);
        * **the voltage a customer's meter reads**: phase to neutral, with the neutral's own drop and
          rise, the lowest home voltage is about 0.003 p.u. below the balanced model's (on phase b),
          the highest voltage of the grid 0.004 p.u. above it (`max_vm_pu`, PV on one phase), and
          the balanced model cannot say *which* phase;
        * **unbalance itself**: VUF at most 0.19 % as built and 0.26 % skewed, far below IEC
          61000-2-2's 2 %; a balanced model has VUF = 0 by construction, so it can never show a
          street approaching the limit.

        The cell below checks each of these statements on the runs above.
        """),
        code("""
        as_built, skewed = "unbalanced (as built)", "unbalanced, skewed (imbalance 0.3)"
        S = {k: r.summary for k, r in runs.items()}
        # totals: same energy, total losses within 0.1 %
        assert math.isclose(S[as_built]["load_mwh"], S["balanced"]["load_mwh"], rel_tol=1e-9)
        assert abs(S[as_built]["losses_mwh"] / S["balanced"]["losses_mwh"] - 1) < 1e-3
        # the neutral: current and losses the balanced model has none of
        assert all(20.0 < neutral_peak[k] < 60.0 for k in (as_built, skewed))
        assert S[as_built]["max_neutral_current_a"] >= neutral_peak[as_built] * (1 - 1e-6)  # lines and star points (series: float32)
        assert 0.0 < S[as_built]["neutral_losses_mwh"] < 1e-2 * S[as_built]["losses_mwh"]
        # the worst phase of the transformer shown: more than a fifth above the balanced model's loading
        bal_peak = float(bal_loading[bal_trafo[trafo_id(shown)]].max())
        worst_phase = float(runs[skewed].trafo_phase_loading()[shown].max().max())
        assert worst_phase > 1.2 * bal_peak
        assert float(runs[as_built].trafo_phase_loading()[shown].max().max()) > 1.15 * bal_peak
        # the voltage at the homes' meters: lower than the balanced model's lowest; the grid's highest higher
        assert min(lowest[(as_built, ph)] for ph in "abc") < bal_min.min() - 0.002
        assert S[as_built]["max_vm_pu"] > S["balanced"]["max_vm_pu"] + 0.002
        # unbalance far below the limit; higher on the skewed street
        assert S[as_built]["max_vuf_percent"] < S[skewed]["max_vuf_percent"] < 0.5
        assert S[skewed]["vuf_bus_steps_over_limit_percent"] == 0.0
        print(f"transformer {shown}: worst phase {worst_phase:.1f} % vs balanced {bal_peak:.1f} %; "
              f"neutral peak {neutral_peak[as_built]:.1f} / {neutral_peak[skewed]:.1f} A; "
              f"VUF max {S[as_built]['max_vuf_percent']:.3f} / {S[skewed]['max_vuf_percent']:.3f} %")
        """),
    ]



# issue 18 (H3): the business case of the smart city. The horizon: the files' own year, or what
# LIBGRID_NOTEBOOK_HORIZON says (tests/python/test_notebooks.py sets "7d": the money is annualised).
def business_case():
    return [
        md("""
        # Melaka smart city: the business case

        The smart-city programme puts rooftop PV, batteries, smart EV charging, public charging sites
        with PV canopies and storage, building and home energy management and time-of-use tariffs on
        today's Melaka grid. The simulations say what that does to the grid (voltages, loading, energy,
        CO2). A planner also has to say **who pays, who gains and whether it is worth it**. This
        notebook walks through that question with libgrid's business case (docs/economics.md):

        1. simulate today's grid (`scenarios/melaka_baseline.yaml`) and the smart city
           (`scenarios/melaka_smart_city.yaml`): the same network, the same seed, the same weather;
        2. turn the two results files into cash flows per **stakeholder**: each customer class (what
           its members save on their bills, less what they invest in PV, batteries, HEMS, ...), the
           **charging operator** (public charging sites), the **utility** (its revenue and avoided
           energy purchases and transformer upgrades) and the **city** (society as a whole: the money
           that only changes hands between them cancels, and the CO2 avoided is valued);
        3. read NPV, IRR and payback per stakeholder, LCOE of the PV, LCOS of the batteries and the cost
           of each tonne of CO2 avoided;
        4. ask how robust the answer is: a **tornado** of the NPV over capex, tariff, discount rate,
           project life, wholesale energy cost and PV yield (the last one needs new simulations: they
           run on a local Dask cluster);
        5. hand the result on: the study report (one HTML file).

        Every cost figure comes from the shipped catalogue `data/costs/malaysia_2024.yaml`, each with
        its source or marked as an assumption with a reason (docs/sources/costs_malaysia.md).
        """),
        code(SETUP),
        md("""
        ## 1. Simulate today and the smart city

        The scenario files run a year at 15 minutes. A year is what a business case needs (seasons,
        holidays, monsoon clouds); the business case also accepts a shorter run and annualises it
        (8 760 h / hours simulated, stated in its notes), which is what the tests do to stay fast
        (`LIBGRID_NOTEBOOK_HORIZON=7d`). Each run writes an HDF5 results file: the business case reads
        only those files, so it can be redone later, or by someone else, without simulating again.
        """),
        code("""
        import tempfile, time
        from libgrid import economics as ec

        HORIZON = os.environ.get("LIBGRID_NOTEBOOK_HORIZON")   # None: the scenario files' own year
        OUT = Path(tempfile.mkdtemp(prefix="melaka_business_case_"))

        files, results = {}, {}
        for label, name in (("baseline", "melaka_baseline"), ("smart city", "melaka_smart_city")):
            sc = libgrid.Scenario.load(SCENARIOS / f"{name}.yaml")
            if HORIZON:
                sc.set("horizon.duration", HORIZON)
            t0 = time.perf_counter()
            files[label] = str(OUT / f"{name}.h5")
            results[label] = sc.run(files[label])
            print(f"{label}: {results[label].summary['steps']:.0f} steps in {time.perf_counter() - t0:.0f} s -> {files[label]}")
        BASE, SMART = files["baseline"], files["smart city"]
        """),
        md("""
        What changed on the grid, in the KPIs the business case turns into money: energy bought from
        the grid (`import_mwh`), the bills (`bills_rm`), PV energy, CO2 and the loading of the most
        loaded transformer (a transformer above 100 % in the baseline that is not in the smart city is
        an upgrade the utility no longer needs).
        """),
        code("""
        kpis = plots.compare_kpis(results, kpis=["import_mwh", "export_mwh", "peak_import_mw", "pv_mwh", "bills_rm",
                                                 "co2_t", "max_trafo_loading_percent", "battery_discharged_mwh"])
        kpis["change"] = kpis["smart city"] - kpis["baseline"]
        assert kpis.loc["pv_mwh", "change"] > 0 and kpis.loc["import_mwh", "change"] < 0
        kpis
        """),
        md("""
        ## 2. The business case

        `ec.business_case(BASE, SMART)` compares the two files customer by customer. What it counts
        (docs/economics.md has every formula):

        * **customers**, by class (terrace houses, shophouses, offices, malls, hotels, ...): the bill
          savings (baseline bill - smart-city bill, escalated with the tariff) against the
          behind-the-meter assets the smart city added for them (PV by size class, batteries, HEMS,
          BEMS, home chargers): their capex at year 0, O&M every year, replacements (a battery from its
          simulated throughput), and the unused value at the end of the project;
        * the **charging operator**: its sites' bills, its revenue from the energy it sells, its PV
          canopies, batteries and chargers;
        * the **utility**: the revenue it loses (the customers' savings), the energy it no longer
          buys, transformer upgrades avoided (or made necessary), smart meters and concentrators;
        * the **city**: all of the above together (bills and revenue cancel) plus the CO2 avoided,
          valued at the catalogue's carbon price, discounted at the social rate.

        Options (project life, discount rates, tariff escalation, a different catalogue, any figure
        overridden by its dotted name) default from the catalogue and the scenario's `economics:` key.
        """),
        code("""
        case = ec.business_case(BASE, SMART)
        stake = case.stakeholders
        assert {"utility", "city", "charging_operator"} <= set(stake.index)
        assert np.isfinite(stake.npv_rm).all() and (stake.capex_rm >= 0).all()
        stake.style.format({"capex_rm": "{:,.0f}", "npv_rm": "{:,.0f}", "irr": "{:.1%}",
                            "simple_payback_years": "{:.1f}", "discounted_payback_years": "{:.1f}",
                            "discount_rate": "{:.1%}"}, na_rep="-")
        """),
        md("""
        How to read it: **NPV** (RM, today's money) is what the stakeholder gains over the project
        after paying for its assets, discounted at its own rate: positive means the investment pays
        for itself at that rate. **IRR** is the discount rate at which NPV would be zero (blank when
        the cash flows never change sign, e.g. a stakeholder who only gains or only pays). **Payback**
        is the year in which the cumulative cash flow turns positive (simple) or the discounted one
        does; blank when it never does within the project.

        The system-wide figures:
        """),
        code("""
        system = pd.Series({
            "project life (years)": case.project_years,
            "LCOE of the added PV (RM/kWh)": case.lcoe_pv_rm_per_kwh,
            "LCOS of the added batteries (RM/kWh)": case.lcos_rm_per_kwh,
            "CO2 avoided (t/year)": case.co2_avoided_t_per_year,
            "cost of CO2 abated (RM/t; negative: it pays for itself)": case.abatement_cost_rm_per_t,
        })
        assert case.co2_avoided_t_per_year > 0 and np.isfinite(case.lcoe_pv_rm_per_kwh)
        system.round(3).to_frame("value")
        """),
        md("""
        ## Cash flows

        Year 0 is the investment, years 1..n the savings and costs at the end of each year (RM, money
        in positive). The city's flows item by item, then each stakeholder's cumulative discounted cash
        flow: where it crosses zero is its discounted payback.
        """),
        code("""
        flows = case.cash_flows
        city = flows.loc["city"]
        assert np.allclose(ec.npv(city.sum().to_numpy(), stake.loc["city", "discount_rate"]), stake.loc["city", "npv_rm"],
                           rtol=1e-9, atol=1e-6)
        city.loc[:, [0, 1, 2, case.project_years]].round(0)
        """),
        code("""
        fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
        years = np.array(flows.columns, dtype=float)
        for who in stake.sort_values("capex_rm", ascending=False).index:
            cf = flows.loc[who].sum().to_numpy()
            disc = cf / (1 + stake.loc[who, "discount_rate"]) ** years
            ax.plot(years, np.cumsum(disc) / 1e6, marker=".", label=f"{who} (NPV {stake.loc[who, 'npv_rm'] / 1e6:,.2f} M RM)")
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xlabel("year of the project")
        ax.set_ylabel("cumulative discounted cash flow (million RM)")
        ax.set_title("Melaka smart city vs today: who gains, and when")
        ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        assert len(ax.lines) == len(stake) + 1
        save_figure(fig, "business_case_cumulative.png")
        """),
        md("""
        ## What was bought, and the transformers

        The asset table lists what the smart city added, per stakeholder and asset class, with the
        catalogue figures used and where they come from. The upgrade table lists the transformers
        above 100 % in either run: an upgrade **avoided** (over 100 % today, not in the smart city:
        its next rating's cost is saved at year 0) or **needed** (the other way round).
        """),
        code("""
        case.assets
        """),
        code("""
        case.upgrades
        """),
        md("""
        Every assumption the business case made (annualisation, figures taken as assumptions, what is
        outside its boundary) is in its notes: read them before quoting a number.
        """),
        code("""
        for note in case.notes:
            print("-", note)
        assert case.notes
        """),
        md("""
        ## 3. What if? Change one assumption

        Any catalogue figure can be overridden by its dotted name, and the finance options directly.
        Here: PV costs 25 % less than the catalogue says, and the city discounts at 5 % instead of the
        catalogue's social rate. Nothing is simulated again: only the cash flows change.
        """),
        code("""
        cat = ec.catalogue(ROOT / "data" / "costs" / "malaysia_2024.yaml")
        pv_capex = [n for n in cat.index if n.startswith("assets.pv_") and n.endswith("capex_rm_per_kwp")]
        cheap_pv = ec.business_case(BASE, SMART, overrides={n: 0.75 * cat.loc[n, "value"] for n in pv_capex})
        what_if = pd.DataFrame({"catalogue": stake.npv_rm, "PV capex -25 %": cheap_pv.stakeholders.npv_rm})
        what_if["change"] = what_if["PV capex -25 %"] - what_if["catalogue"]
        assert what_if.loc["city", "change"] > 0     # cheaper PV: society gains
        what_if.round(0)
        """),
        md("""
        ## 4. How robust is it? The tornado

        `ec.tornado` sets each main input to 80 % and 120 % of its value and recomputes the NPV of one
        stakeholder (here the city). Capex, tariff, discount rate, project life and the wholesale cost
        of energy only change the cash flows. **PV yield** changes what the grid does, so both
        scenarios are simulated again with the weather's irradiance scaled (the scenario text stored
        in each results file, with only `weather.mean_daily_ghi_kwh_m2` changed). Those four runs go
        to a local Dask cluster of two worker processes (`libgrid.sweep.start_local_cluster`; any
        `distributed.Client` would do, e.g. a cluster of several machines).

        The bars are sorted by swing: the inputs at the top are the ones worth pinning down before a
        decision.
        """),
        code("""
        from libgrid.sweep import start_local_cluster

        cluster, client = start_local_cluster(2)
        try:
            t0 = time.perf_counter()
            tor = ec.tornado(BASE, SMART, stakeholder="city", client=client)
            print(f"tornado in {time.perf_counter() - t0:.0f} s")
        finally:
            client.close()
            cluster.close()
        assert (np.diff(tor.swing_rm.to_numpy()) <= 0).all()
        pv = tor.set_index("input").loc["pv_yield"]
        assert pv.npv_high_rm > pv.npv_low_rm          # more sun, more value from the PV
        tor
        """),
        code("""
        ax = ec.plot_tornado(tor)
        ax.figure.set_size_inches(10, 5.5)
        assert len(ax.patches) == 2 * len(tor)
        save_figure(ax.figure, "tornado_city.png")
        for name, note in tor.attrs["notes"].items():
            print(f"{name}: {note}")
        """),
        md("""
        The same for the utility (no PV-yield re-run this time: `inputs=` picks the inputs). Its NPV
        is driven by the revenue it no longer collects, so the tariff matters more to it than to the
        city, where bills cancel out.
        """),
        code("""
        tor_u = ec.tornado(BASE, SMART, stakeholder="utility",
                           inputs=["capex", "tariff", "discount_rate", "project_years", "wholesale_cost"])
        ax = ec.plot_tornado(tor_u)
        ax.figure.set_size_inches(10, 4.8)
        save_figure(ax.figure, "tornado_utility.png")
        swing = lambda t, name: float(t.set_index("input").loc[name, "swing_rm"])
        assert swing(tor, "tariff") <= 1e-6 * abs(tor.attrs["npv_base_rm"])   # the city: bills are transfers
        assert swing(tor_u, "tariff") > 0                                      # the utility: its revenue
        tor_u
        """),
        md("""
        ## 5. Hand it on: the study report

        `libgrid.report` writes one self-contained HTML file (no network needed to open it) with the
        scenarios' assumptions, the KPI table with definitions, the feasibility checks, energy and
        CO2, bills by class, the investment table and tornado, and the key plots
        (docs/report.md; on the command line `libgrid report BASE.h5 SCENARIO.h5 -o study.html`).
        """),
        code("""
        try:
            from libgrid.report import report as study_report   # libgrid.report(...) is the same function
        except ImportError:
            study_report = None
            print("libgrid.report is not in this build (docs/report.md)")
        if study_report:
            # the tornado computed above goes in as it is (else the report computes it again: four more runs)
            path = Path(study_report(BASE, SMART, out=OUT / "study.html", title="Melaka smart city: business case",
                                     tornado=tor))
            assert path.is_file() and path.stat().st_size > 10_000
            print(f"study report: {path} ({path.stat().st_size / 1e6:.1f} MB)")
        """),
        md("""
        ## What a planner takes away

        The cell below states the result in one paragraph, from the numbers above. Before quoting it:
        the smart city's penetrations and many cost figures are ASSUMPTIONS (the scenario file and
        the catalogue say which), and with `LIBGRID_NOTEBOOK_HORIZON` set the year was extrapolated
        from a short run.
        """),
        code("""
        c = stake.loc["city"]
        top = tor.iloc[0]
        print(f"Over {case.project_years} years the smart city is worth {c.npv_rm / 1e6:,.2f} million RM to Melaka as a whole "
              f"(NPV at {c.discount_rate:.1%}), avoiding {case.co2_avoided_t_per_year:,.0f} t of CO2 a year at "
              f"{case.abatement_cost_rm_per_t:,.0f} RM/t. "
              f"Customers: {', '.join(f'{k} {v / 1e6:,.2f} M RM' for k, v in stake.npv_rm.drop(['utility', 'city', 'charging_operator']).items())}; "
              f"utility {stake.loc['utility', 'npv_rm'] / 1e6:,.2f} M RM; charging operator "
              f"{stake.loc['charging_operator', 'npv_rm'] / 1e6:,.2f} M RM. "
              f"The input that moves the city's NPV most is {tor.attrs['labels'][top.input]} "
              f"({top.npv_low_rm / 1e6:,.2f} to {top.npv_high_rm / 1e6:,.2f} M RM).")
        """),
    ]


NOTEBOOKS = {"quickstart.ipynb": quickstart, "melaka_smart_city.ipynb": smart_city, "ev_growth.ipynb": ev_growth,
             "melaka_unbalanced_week.ipynb": unbalanced_week,  # issue 15
             "melaka_business_case.ipynb": business_case}  # issue 18


def build(name: str):
    nb = new_notebook(cells=NOTEBOOKS[name]())
    for i, cell in enumerate(nb.cells):  # stable ids: regenerating gives the same file
        cell["id"] = f"{pathlib.Path(name).stem.replace('_', '-')}-{i:02d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nb


def main():
    for name in NOTEBOOKS:
        nb = build(name)
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name, f"({len(nb.cells)} cells)")


if __name__ == "__main__":
    main()
