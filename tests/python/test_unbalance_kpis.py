"""The unbalance KPIs of an unbalanced run recomputed from the series of its results file (docs/kpis.md,
"Unbalanced networks"; issue 15): the European LV feeder's morning through `libgrid.Scenario`
(scenarios/eulv_day.yaml, 3-wire: no neutral) and the Melaka small grid as built (four-wire, neutral
earthed at every customer, 30 % of the customers on a repeated phase) through `libgrid.Simulation`.
Each KPI is recomputed with numpy from its formula in the KPI table to 1e-9; the accessors
(trafo_phase_loading, branch_conductor_loading, neutral_loss_mw) and the plot phase_loading are
checked on the same files. The values themselves are checked against hand-worked circuits and
OpenDSS in tests/cpp/simulation/test_unbalance_kpis.cpp."""
import math

import h5py
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import libgrid  # noqa: E402
from libgrid import _libgrid, plots  # noqa: E402
from conftest import ROOT  # noqa: E402

UNBALANCE_KPIS = ("vuf_limit_percent", "max_vuf_percent", "vuf_bus_steps_over_limit_percent", "undervoltage_node_steps_a",
                  "undervoltage_node_steps_b", "undervoltage_node_steps_c", "overvoltage_node_steps_a",
                  "overvoltage_node_steps_b", "overvoltage_node_steps_c", "neutral_losses_mwh",
                  "max_trafo_phase_loading_percent", "max_line_conductor_loading_percent", "max_neutral_current_a")


@pytest.fixture(scope="module")
def eulv(tmp_path_factory):
    sc = libgrid.Scenario.load(ROOT / "scenarios" / "eulv_day.yaml")
    sc.override(steps=480)
    sc.set("outputs.float32", False)
    sc.set("limits.vuf_percent", 0.2)  # low enough that some bus-steps of this feeder exceed it
    out = tmp_path_factory.mktemp("ukpi") / "eulv.h5"
    return sc.run(out)


@pytest.fixture(scope="module")
def melaka(tmp_path_factory):
    u, _phases = libgrid.melaka_unetwork("small", imbalance=0.3)
    out = tmp_path_factory.mktemp("ukpi") / "melaka.h5"
    return libgrid.Simulation(u, start="2025-07-07", step="1h", horizon="4h", meter_interval="1h", float32=False).run(output=str(out))


def recompute(path, limit):
    """The unbalance KPIs from the series of an unbalanced results file."""
    with h5py.File(path, "r") as f:
        dt = float(f.attrs["step_s"]) / 3600.0
        conv = f["solver/converged"][()][:, 0] == 1
        vuf = f["bus/vuf_percent"][()][conv]
        k = {"vuf_limit_percent": limit, "max_vuf_percent": np.nanmax(vuf)}
        three = np.isfinite(vuf)
        k["vuf_bus_steps_over_limit_percent"] = 100.0 * (vuf[three] > limit).sum() / three.sum()
        # phase to neutral per phase node: |V_p - V_n| / base
        phase = f["node/phase"].asstr()[()]
        bus = f["node/bus"][()]
        base = f["node/vbase_volts"][()]
        v = f["node/v_volts"][()][conv] * np.exp(1j * np.deg2rad(f["node/va_deg"][()][conv]))
        neutral = {b: i for i, (b, p) in enumerate(zip(bus, phase)) if p == "n"}
        for ph in "abc":
            cols = [i for i, p in enumerate(phase) if p == ph]
            vp = np.column_stack([v[:, i] - (v[:, neutral[bus[i]]] if bus[i] in neutral else 0) for i in cols])
            vm = np.abs(vp) / base[cols]
            k[f"undervoltage_node_steps_{ph}"] = int((vm < 0.94).sum())  # the band of a .dss / UNetwork run's buses
            k[f"overvoltage_node_steps_{ph}"] = int((vm > 1.05).sum())
        kind = f["branch/kind"].asstr()[()]
        nloss = f["branch/p_loss_neutral_mw"][()][conv]
        has_n = np.isfinite(nloss).any(axis=0)
        k["neutral_losses_mwh"] = np.nansum(nloss) * dt if has_n.any() else math.nan
        trafo = np.column_stack([f[f"trafo/loading_{p}_percent"][()][conv] for p in "abc"])
        k["max_trafo_phase_loading_percent"] = np.nanmax(trafo)
        lines = kind == "line"
        cond = np.column_stack([f[f"branch/loading_{c}_percent"][()][conv][:, lines] for c in "abcn"])
        k["max_line_conductor_loading_percent"] = np.nanmax(cond)
        i_n = f["branch/i_n_ka"][()][conv] * 1000.0
        k["max_neutral_current_a"] = np.nanmax(i_n) if np.isfinite(i_n).any() else math.nan
        return k, {n: float(f[f"summary/{n}"][()]) for n in UNBALANCE_KPIS}


@pytest.mark.parametrize("case,limit", [("eulv", 0.2), ("melaka", 2.0)])
def test_unbalance_kpis_recomputed_from_the_series(case, limit, request):
    res = request.getfixturevalue(case)
    want, got = recompute(res.path, limit)
    bad = [f"{n}: file {got[n]!r}, recomputed {want[n]!r}" for n in UNBALANCE_KPIS
           if not (math.isnan(want[n]) and math.isnan(got[n])) and not math.isclose(got[n], want[n], rel_tol=1e-9, abs_tol=1e-12)]
    assert not bad, "\n".join(bad)
    # every unbalance KPI has a unit and a boundary in the table, and reaches the Python summary
    table = {k["name"]: k for k in _libgrid.summary_kpis()}
    for n in UNBALANCE_KPIS:
        assert table[n]["boundary"] == "network" and n in res.summary.index
    if case == "eulv":  # 3-wire: no neutral; some bus-steps above 0.2 %, not all
        assert math.isnan(got["neutral_losses_mwh"])
        assert 0.0 < got["vuf_bus_steps_over_limit_percent"] < 100.0
    else:  # four-wire: neutral losses a part of the line losses
        assert 0.0 < got["neutral_losses_mwh"] < res.summary["losses_mwh"]
        assert got["max_line_conductor_loading_percent"] >= res.summary["max_line_loading_percent"] - 1e-9


def test_accessors_and_the_plot(melaka, eulv):
    tl = melaka.trafo_phase_loading()
    assert list(tl.columns.names) == ["trafo", "phase"]
    assert math.isclose(float(np.nanmax(tl.to_numpy(float))), melaka.summary["max_trafo_phase_loading_percent"], rel_tol=1e-12)
    cl = melaka.branch_conductor_loading(kind="line")
    assert "n" in set(cl.columns.get_level_values("conductor"))  # four-wire lines: the neutral's loading
    assert not any(name.startswith("earth_") for name in cl.columns.get_level_values("branch"))  # electrodes are no cables
    nl = melaka.neutral_loss_mw()
    assert math.isclose(float(np.nansum(nl.to_numpy(float))) * 1.0, melaka.summary["neutral_losses_mwh"], rel_tol=1e-9)  # 1 h steps
    assert eulv.neutral_loss_mw().shape[1] == 0  # EU LV: 3-wire, no neutral conductor
    axes = plots.phase_loading(eulv)
    assert axes[0].trafo == "tr1"
    assert "loading per phase" in axes[0].get_ylabel() and "%" in axes[1].get_ylabel()
    labels = [ln.get_label() for ln in axes[0].get_lines()]
    assert sum(lab.startswith("phase ") for lab in labels) == 3
    limit_lines = [ln for ln in axes[1].get_lines() if ln.get_label().startswith("limit")]
    assert limit_lines and math.isclose(limit_lines[0].get_ydata()[0], 0.2)
    with pytest.raises(KeyError):
        plots.phase_loading(eulv, trafo="no such transformer")
