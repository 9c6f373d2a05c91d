"""CTest python_install_location: `cmake --install` puts the libgrid package where the configured
interpreter (/usr/bin/python3) finds it, and the installed package works.

    python3 install_location.py CMAKE BUILD_DIR WORK_DIR CASE_FILE

Installs the `python` component with --prefix /usr/local under DESTDIR=WORK_DIR/root (nothing is
written outside WORK_DIR), checks that the package's directory, without DESTDIR, is on the
interpreter's sys.path (for /usr/local on Debian 12: /usr/local/lib/python3.11/dist-packages), then
imports the staged copy and runs a power flow."""
import os
import pathlib
import re
import shutil
import subprocess
import sys

cmake, build, work, case = sys.argv[1], *(pathlib.Path(a).resolve() for a in sys.argv[2:5])
shutil.rmtree(work, ignore_errors=True)
root = work / "root"
env = dict(os.environ, DESTDIR=str(root))
subprocess.run([cmake, "--install", str(build), "--component", "python", "--prefix", "/usr/local"],
               env=env, check=True)

inits = [p.parent for p in root.rglob("libgrid/__init__.py")]
assert len(inits) == 1, f"expected one installed libgrid package under {root}, found {inits}"
pkg = inits[0]
exts = list(pkg.glob("_libgrid*.so"))
assert exts, f"no compiled extension next to {pkg / '__init__.py'}"
site = "/" + pkg.parent.relative_to(root).as_posix()
print("installed:", site + "/libgrid:", sorted(p.name for p in pkg.iterdir()))

cache = (build / "CMakeCache.txt").read_text()
override = re.search(r"^LIBGRID_PYTHON_INSTALL_DIR:\w+=(.*)$", cache, re.M)
if override and override.group(1):
    print("LIBGRID_PYTHON_INSTALL_DIR is set:", override.group(1), "- not checking the interpreter's path")
else:
    path = subprocess.run([sys.executable, "-I", "-c", "import sys; print('\\n'.join(sys.path))"],
                          check=True, capture_output=True, text=True).stdout.split("\n")
    assert site in path, f"{site} is not on {sys.executable}'s sys.path: {path}"
    print(f"{site} is on {sys.executable}'s sys.path")

check = f"""
import os, sys
sys.path.insert(0, {str(pkg.parent)!r})
import libgrid
assert os.path.realpath(libgrid.__file__).startswith({str(pkg)!r}), libgrid.__file__
res = libgrid.Network.from_matpower({str(case)!r}).run_pf()
assert res.converged
print("installed package: power flow converged in", res.iterations, "iterations")
"""
work.mkdir(parents=True, exist_ok=True)
subprocess.run([sys.executable, "-I", "-c", check], cwd=work, check=True)
