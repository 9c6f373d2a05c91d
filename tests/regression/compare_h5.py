#!/usr/bin/env python3
"""Compare two libgrid results files dataset by dataset, bit for bit, except the run timings.

    /usr/bin/python3 tests/regression/compare_h5.py A.h5 B.h5
    /usr/bin/python3 tests/regression/compare_h5.py --atol 1e-6 A.h5 B.h5

Exit 0 when every group, dataset (name, shape, dtype, values: NaN equal to NaN, +0 != -0 is a
difference) and attribute is identical; 1 with the differences listed otherwise.

--atol X: floating-point datasets whose values differ by at most X (absolute; NaN where the other
has NaN) count as equal; every dataset that is not bit-identical is listed with its largest
difference ("within atol" or "DIFF"), so the report gives the largest difference per dataset.
"""
import argparse
import sys

import h5py
import numpy as np

# Wall-clock figures of the run itself: they differ between any two runs.
TIMINGS = {"wall_time_s", "steps_per_second", "time_setup_s", "time_profiles_s", "time_devices_s",
           "time_powerflow_s", "time_record_s", "time_checkpoint_s"}


def items(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj))
    return out


def attrs_equal(x, y):
    if set(x.attrs) != set(y.attrs):
        return f"attribute names {sorted(x.attrs)} vs {sorted(y.attrs)}"
    for k in x.attrs:
        u, v = x.attrs[k], y.attrs[k]
        if isinstance(u, np.ndarray) or isinstance(v, np.ndarray):
            if not np.array_equal(np.asarray(u), np.asarray(v)):
                return f"attribute {k}"
        elif u != v:
            return f"attribute {k}: {u!r} vs {v!r}"
    return None


def compare(pa, pb, atol=None, notes=None):
    errors = []
    with h5py.File(pa, "r") as a, h5py.File(pb, "r") as b:
        d = attrs_equal(a, b)
        if d:
            errors.append(f"/: {d}")
        ia, ib = items(a), items(b)
        for name in sorted(set(ia) ^ set(ib)):
            errors.append(f"{name}: only in {'A' if name in ia else 'B'}")
        n = 0
        for name in sorted(set(ia) & set(ib)):
            x, y = ia[name], ib[name]
            if type(x) is not type(y):
                errors.append(f"{name}: a {type(x).__name__} vs a {type(y).__name__}")
                continue
            d = attrs_equal(x, y)
            if d:
                errors.append(f"{name}: {d}")
            if isinstance(x, h5py.Dataset):
                if name.split("/")[-1] in TIMINGS:
                    continue
                n += 1
                u, v = x[()], y[()]
                if not isinstance(u, np.ndarray):
                    u, v = np.asarray(u), np.asarray(v)
                if u.dtype != v.dtype or u.shape != v.shape:
                    errors.append(f"{name}: {u.dtype}{u.shape} vs {v.dtype}{v.shape}")
                elif u.dtype.kind == "O" or u.dtype.kind in "SU":
                    if u.tolist() != v.tolist():
                        errors.append(f"{name}: values differ")
                elif u.tobytes() != v.tobytes():
                    if u.dtype.kind in "fc":
                        diff = max_difference(u, v)
                        if atol is not None and diff <= atol:
                            if notes is not None:
                                notes.append(f"{name}: within atol (max |a-b| = {diff:.3g})")
                        else:
                            errors.append(f"{name}: values differ (max |a-b| = {diff:.3g})")
                    else:
                        errors.append(f"{name}: values differ")
    return n, errors


def max_difference(u, v):
    """Largest |u - v|; inf where one is NaN and the other not (NaN against NaN is equal)."""
    if not u.size:
        return 0.0
    a, b = u.astype(complex if u.dtype.kind == "c" else float), v.astype(complex if v.dtype.kind == "c" else float)
    na, nb = np.isnan(a), np.isnan(b)
    if np.any(na != nb):
        return float("inf")
    d = np.abs(np.where(na, 0, a) - np.where(nb, 0, b))
    return float(np.max(d)) if d.size else 0.0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--atol", type=float, default=None, help="float datasets within this absolute difference count as equal")
    ap.add_argument("a")
    ap.add_argument("b")
    args = ap.parse_args(argv[1:])
    notes = []
    n, errors = compare(args.a, args.b, args.atol, notes)
    for e in notes:
        print(f"NEAR {e}")
    for e in errors:
        print(f"DIFF {e}")
    print(f"{args.a} vs {args.b}: {n} datasets compared, {len(errors)} differences"
          + (f", {len(notes)} within atol {args.atol:g}" if args.atol is not None else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
