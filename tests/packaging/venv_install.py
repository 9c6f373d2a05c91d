"""CTest python_venv_install: `pip install --no-build-isolation .` into a fresh virtual environment
made with `python3 -m venv --system-site-packages`, then libgrid imported from outside the tree.

    python3 venv_install.py SOURCE_DIR BUILD_DIR WORK_DIR CASE_FILE

pip runs offline (--no-index): the dependencies must be met by Debian's packages, seen through
--system-site-packages. LIBGRID_CMAKE_BUILD_DIR=BUILD_DIR lets the build backend package the
extension already built there instead of building it again. No PYTHONPATH, cwd a temporary
directory outside the tree, `python -I`: the libgrid imported is the installed one."""
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

source, build, work, case = (pathlib.Path(a).resolve() for a in sys.argv[1:5])
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)
venv = work / "venv"
env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1",
           PIP_NO_INPUT="1", LIBGRID_CMAKE_BUILD_DIR=str(build))


outside = pathlib.Path(tempfile.mkdtemp(prefix="libgrid-venv-test-"))  # cwd of every command


def run(*cmd, **kw):
    print("+", " ".join(map(str, cmd)), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=outside, env=env, check=True, **kw)


run(sys.executable, "-m", "venv", "--system-site-packages", venv)
py = venv / "bin" / "python"
run(py, "-m", "pip", "install", "--no-build-isolation", source)

check = f"""
import importlib.metadata, os, sys
import libgrid
where = os.path.realpath(libgrid.__file__)
print("libgrid", libgrid.__version__, "from", where)
assert where.startswith(os.path.realpath({str(venv)!r}) + os.sep), where
for tree in ({str(source / "bindings")!r}, {str(build / "python")!r}):
    assert not where.startswith(os.path.realpath(tree) + os.sep), where
assert os.getcwd() == {str(outside)!r}
assert importlib.metadata.version("libgrid") == libgrid.__version__
net = libgrid.Network.from_matpower({str(case)!r})
res = net.run_pf(method="nr")
assert res.converged, res
print("power flow: converged in", res.iterations, "iterations, losses", round(res.losses_mw, 6), "MW")
"""
out = run(py, "-I", "-c", check, capture_output=True, text=True).stdout
print(out, end="")
assert "converged" in out
# The environment's pip sees libgrid's requirements met (Debian's packages, through the system
# site). `pip check` also reports Debian's own packages (pygobject wants pycairo): only libgrid counts.
check = subprocess.run([py, "-m", "pip", "check"], cwd=outside, env=env, capture_output=True, text=True)
problems = [line for line in check.stdout.splitlines() if line.lower().startswith("libgrid ")]
assert not problems, problems
shutil.rmtree(outside, ignore_errors=True)
print("OK: installed into", venv)
