"""libgrid's Newton-Raphson against a plain scipy Newton-Raphson (MATPOWER's newtonpf written in
numpy/scipy, the algorithm of pandapower's core), side by side in one process, on the same cases.

    PYTHONPATH=build/python /usr/bin/python3 benches/bench_nr_scipy.py [--repeats 30]

Both start from the case file's voltages, tolerance 1e-8 p.u.; both are timed on the numeric solve
only (Ybus and index sets built beforehand; libgrid's symbolic analysis too). Prints JSON.
"""
import argparse
import json
import pathlib
import re
import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

import libgrid

ROOT = pathlib.Path(__file__).resolve().parents[1]


def matpower_arrays(path):
    """bus, gen, branch matrices and baseMVA from a MATPOWER file (numbers only)."""
    text = pathlib.Path(path).read_text()
    base = float(re.search(r"mpc\.baseMVA\s*=\s*([\d.eE+-]+)", text).group(1))

    def matrix(name):
        body = re.search(r"mpc\." + name + r"\s*=\s*\[(.*?)\];", text, re.S).group(1)
        rows = []
        for line in body.splitlines():
            line = line.split("%")[0].strip().rstrip(";").strip()
            if line:
                rows.append([float(x) for x in line.replace("Inf", "inf").split()])
        return np.array(rows)
    return matrix("bus"), matrix("gen"), matrix("branch"), base


def scipy_case(path):
    bus, gen, br, base = matpower_arrays(path)
    nb = bus.shape[0]
    idx = {int(b): i for i, b in enumerate(bus[:, 0])}
    on = br[:, 10] > 0
    br = br[on]
    f = np.array([idx[int(x)] for x in br[:, 0]])
    t = np.array([idx[int(x)] for x in br[:, 1]])
    ys = 1.0 / (br[:, 2] + 1j * br[:, 3])
    bc = br[:, 4]
    tap = np.where(br[:, 8] == 0, 1.0, br[:, 8]) * np.exp(1j * np.pi / 180 * br[:, 9])
    Ytt = ys + 1j * bc / 2
    Yff = Ytt / (tap * np.conj(tap))
    Yft = -ys / np.conj(tap)
    Ytf = -ys / tap
    Ysh = (bus[:, 4] + 1j * bus[:, 5]) / base
    Y = sp.csr_matrix((np.r_[Yff, Yft, Ytf, Ytt], (np.r_[f, f, t, t], np.r_[f, t, f, t])), (nb, nb)) + sp.diags(Ysh)
    gon = gen[gen[:, 7] > 0]
    gbus = np.array([idx[int(x)] for x in gon[:, 0]])
    Sbus = -(bus[:, 2] + 1j * bus[:, 3]) / base
    np.add.at(Sbus, gbus, (gon[:, 1] + 1j * gon[:, 2]) / base)
    types = bus[:, 1].astype(int)
    has_gen = np.zeros(nb, bool)
    has_gen[gbus] = True
    ref = np.where((types == 3) & has_gen)[0]
    pv = np.where((types == 2) & has_gen)[0]
    pq = np.setdiff1d(np.arange(nb), np.r_[ref, pv])
    Vm = bus[:, 7].copy()
    Va = np.pi / 180 * bus[:, 8]
    Vm[gbus] = gon[:, 5]
    V0 = Vm * np.exp(1j * Va)
    return Y.tocsr(), Sbus, V0, ref, pv, pq


def newtonpf(Y, Sbus, V0, pv, pq, tol=1e-8, max_it=30):
    """MATPOWER's newtonpf, numpy/scipy (spsolve = SuperLU)."""
    V = V0.copy()
    Va, Vm = np.angle(V), np.abs(V)
    pvpq = np.r_[pv, pq]
    npv, npq = len(pv), len(pq)
    mis = V * np.conj(Y @ V) - Sbus
    F = np.r_[mis[pvpq].real, mis[pq].imag]
    it = 0
    while np.max(np.abs(F)) > tol and it < max_it:
        it += 1
        Ibus = Y @ V
        dV = sp.diags(V)
        dVn = sp.diags(V / np.abs(V))
        dS_dVm = dV @ np.conj(Y @ dVn) + sp.diags(np.conj(Ibus)) @ dVn
        dS_dVa = 1j * dV @ np.conj(sp.diags(Ibus) - Y @ dV)
        J = sp.vstack([sp.hstack([dS_dVa[pvpq][:, pvpq].real, dS_dVm[pvpq][:, pq].real]),
                       sp.hstack([dS_dVa[pq][:, pvpq].imag, dS_dVm[pq][:, pq].imag])], format="csc")
        dx = -spla.spsolve(J, F)
        Va[pvpq] += dx[:npv + npq]
        Vm[pq] += dx[npv + npq:]
        V = Vm * np.exp(1j * Va)
        mis = V * np.conj(Y @ V) - Sbus
        F = np.r_[mis[pvpq].real, mis[pq].imag]
    return V, it


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    out = {}
    for case in ["case118", "case1354pegase", "case2869pegase"]:
        path = ROOT / "tests" / "data" / "matpower" / f"{case}.m"
        Y, Sbus, V0, ref, pv, pq = scipy_case(path)
        times = []
        for _ in range(max(3, args.repeats // 3)):
            t0 = time.perf_counter()
            V, it = newtonpf(Y, Sbus, V0, pv, pq)
            times.append(time.perf_counter() - t0)
        scipy_t = float(np.median(times))
        net = libgrid.Network.from_matpower(path)
        lg_klu, it_klu, ok_klu = libgrid._libgrid.time_nr(net._core, "klu", args.repeats)
        lg_slu, it_slu, ok_slu = libgrid._libgrid.time_nr(net._core, "sparselu", args.repeats)
        # the two solutions agree
        res = net.run_pf()
        dv = float(np.max(np.abs(np.abs(V) - res.bus.vm_pu.values)))
        out[case] = {"scipy_nr_ms": scipy_t * 1e3, "scipy_iterations": it,
                     "libgrid_klu_ms": lg_klu * 1e3, "libgrid_sparselu_ms": lg_slu * 1e3, "libgrid_iterations": it_klu,
                     "speedup_klu_vs_scipy": scipy_t / lg_klu, "max_dVm_between_them": dv}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
