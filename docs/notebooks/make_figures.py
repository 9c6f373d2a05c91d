#!/usr/bin/python3
"""Regenerates the figures of docs/img from the notebooks: executes every docs/notebooks/*.ipynb with
nbclient (kernel "python3", cwd docs/notebooks) and LIBGRID_FIGURES_DIR=docs/img, so that the cells'
`save_figure(fig, name)` write them (the notebooks stay without outputs).

    PYTHONPATH=build/python /usr/bin/python3 docs/notebooks/make_figures.py [NOTEBOOK ...]

The kernel must import libgrid: the build tree's package (PYTHONPATH, else LIBGRID_BUILD_DIR/python,
else build/python) is put on its PYTHONPATH. Prints the figures written.
"""
from __future__ import annotations

import os
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
IMG = ROOT / "docs" / "img"


def main(names) -> None:
    IMG.mkdir(parents=True, exist_ok=True)
    build_python = pathlib.Path(os.environ.get("LIBGRID_BUILD_DIR", ROOT / "build")) / "python"
    path = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p] or [str(build_python)]
    os.environ["PYTHONPATH"] = os.pathsep.join(path)
    os.environ["LIBGRID_FIGURES_DIR"] = str(IMG)
    os.environ["MPLBACKEND"] = "Agg"
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    notebooks = [HERE / n for n in names] if names else sorted(HERE.glob("*.ipynb"))
    for nb_path in notebooks:
        t0 = time.time()
        before = {p: p.stat().st_mtime for p in IMG.glob("*.png")}
        nb = nbformat.read(nb_path, as_version=4)
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(HERE)}}).execute()
        written = sorted(p.name for p in IMG.glob("*.png") if before.get(p) != p.stat().st_mtime)
        print(f"{nb_path.name} ({time.time() - t0:.0f} s): {', '.join(written) or 'no figure'}")


if __name__ == "__main__":
    main(sys.argv[1:])
