"""Issue 15: a Melaka scenario runs the grid as built (unbalanced) by default; `model=` / `--model`
select the balanced model; the customers' phases follow the documented rule.

Checks against independent computations: the phases against libgrid.melaka_unetwork's (the rule
applied to the generator's grid directly), the per-phase results against the energy balance and the
devices' phases against the customers'.
"""
import subprocess

import numpy as np
import pytest

import libgrid
from conftest import BUILD, ROOT

SMART = ROOT / "scenarios" / "melaka_smart_city.yaml"
HEAD = 'name: m\nseed: 4\nhorizon: {start: "2025-03-03T11:00", step: 15min, steps: 4}\n'


def test_default_is_unbalanced_and_model_override():
    sc = libgrid.Scenario.load(SMART)
    assert sc.model == "unbalanced"
    assert sc.unbalanced
    assert "model: unbalanced" in sc.to_yaml()
    bal = sc.copy().set("network.model", "balanced")
    assert bal.model == "balanced" and not bal.unbalanced
    assert sc.model == "unbalanced"  # the copy's override leaves the original alone
    with pytest.raises(libgrid.ValidationError, match="network.model"):
        sc.copy().set("network.model", "three_phase")


def test_customers_phases_follow_the_rule():
    sc = libgrid.Scenario.parse(HEAD + "network: {generator: melaka, phases: {imbalance: 0.3}}\n")
    cust = sc.customers()
    # the rule on the generator's own grid (seed 4 = the scenario seed, used for the phase rule too)
    _, phases = libgrid.melaka_unetwork("small", seed=4, phase_seed=4, imbalance=0.3)
    assert list(cust["phases"]) == list(phases)
    assert set(cust["phases"]) == {"a", "b", "c", "abc"}
    assert (cust["phases"] == "abc").sum() < len(cust)


def test_run_with_model_both_ways(tmp_path):
    sc = libgrid.Scenario.parse(HEAD + "devices:\n  pv: {share: 0.5}\n  ev: {share: 0.3}\n")
    r = sc.run(tmp_path / "u.h5")
    assert r.model == "unbalanced"
    s = r.summary
    assert s["non_converged_steps"] == 0
    assert s["max_vuf_percent"] > 0  # single-phase customers unbalance the LV buses
    # per phase voltages of every LV bus are there
    vm_a = r.node_vm(phase="a")
    assert vm_a.shape[0] == 4 and vm_a.shape[1] > 100
    rb = sc.run(tmp_path / "b.h5", model="balanced")
    assert rb.model == "balanced"
    assert sc.model == "unbalanced"  # run(model=) does not change the scenario
    # the same devices under the same sun: the PV energy agrees, the losses differ (the real services)
    assert rb.summary["pv_mwh"] == pytest.approx(s["pv_mwh"], rel=0.02)
    assert rb.summary["losses_mwh"] != s["losses_mwh"]


def test_cli_model_flag(tmp_path):
    cli = BUILD / "libgrid"
    common = [str(cli), "run", str(SMART), "--steps", "2", "-q"]
    out = subprocess.run(common + ["-o", str(tmp_path / "u.h5")], capture_output=True, text=True, check=True).stdout
    assert "per phase" in out  # the per-phase summary of an unbalanced run
    out_b = subprocess.run(common + ["-o", str(tmp_path / "b.h5"), "--model", "balanced"], capture_output=True, text=True, check=True).stdout
    assert "per phase" not in out_b
    bad = subprocess.run(common + ["-o", str(tmp_path / "x.h5"), "--model", "both"], capture_output=True, text=True)
    assert bad.returncode != 0
    assert "network.model" in bad.stderr
    info = subprocess.run([str(cli), "info", str(tmp_path / "u.h5")], capture_output=True, text=True, check=True).stdout
    assert "unbalanced" in info


def test_hosting_on_both_models():
    # issue 15 (H4): the unbalanced model (the default) is studied per phase; the balanced one has no phases
    sc = libgrid.Scenario.load(ROOT / "scenarios" / "melaka_baseline.yaml")
    df = libgrid.hosting_capacity(sc, steps=2, kw_per_customer=1.0)
    assert len(df) > 0 and df["added_kw_a"].notna().all()
    assert np.allclose(df["added_kw_a"] + df["added_kw_b"] + df["added_kw_c"], df["added_kw"])
    bal = libgrid.hosting_capacity(sc, steps=2, model="balanced", kw_per_customer=1.0)
    assert len(bal) == len(df) and bal["added_kw_a"].isna().all()


def test_run_batch_and_sweep_run_unbalanced_items(tmp_path):
    from libgrid import _libgrid
    sc = libgrid.Scenario.parse(HEAD + "devices:\n  pv: {share: 0.5}\n")
    rows = _libgrid.run_batch([(sc._core, str(tmp_path / "a.h5")), sc.copy().set("seed", 5)._core], threads=2)
    assert [r["ok"] for r in rows] == [True, True], rows
    one = sc.run(tmp_path / "one.h5")
    assert one.model == "unbalanced"
    a = libgrid.read_results(tmp_path / "a.h5")
    assert a.model == "unbalanced"
    assert a.summary["pv_mwh"] == one.summary["pv_mwh"]  # the batch item equals the single run, bit for bit
    assert a.summary["max_vuf_percent"] == one.summary["max_vuf_percent"]


def test_cli_sweep_table_of_unbalanced_variants_by_name(tmp_path):
    """An unbalanced run writes KPIs a balanced one does not (max_vuf_percent, ...): the sweep's CSV
    takes every KPI by name (it once took them by position, shifting the columns after them)."""
    import h5py
    import pandas as pd
    (tmp_path / "base.yaml").write_text(HEAD + "devices:\n  pv: {share: 0.5}\n")
    (tmp_path / "s.yaml").write_text("base: base.yaml\ngrid:\n  seed: [4, 5]\noutput_dir: out\n")
    subprocess.run([str(BUILD / "libgrid"), "sweep", str(tmp_path / "s.yaml"), "-q"], check=True, capture_output=True)
    csv = pd.read_csv(tmp_path / "out" / "sweep.csv")
    for i in range(2):
        with h5py.File(tmp_path / "out" / f"variant_{i}.h5", "r") as f:
            for k in ("import_mwh", "min_vm_pu", "max_vm_pu", "max_trafo_loading_percent", "max_vuf_percent", "pv_mwh"):
                assert csv.loc[i, k] == pytest.approx(float(f["summary"][k][()]), rel=1e-12), k
    # --columns knows the unbalanced KPIs, with their units
    out = subprocess.run([str(BUILD / "libgrid"), "sweep", str(tmp_path / "s.yaml"), "-q", "-o", str(tmp_path / "o2"),
                          "-c", "max_vuf_percent,max_neutral_current_a"], check=True, capture_output=True, text=True).stdout
    assert "max_vuf_percent" in out and "[percent]" in out and "[A]" in out
