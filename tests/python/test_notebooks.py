"""Executes every docs/notebooks/*.ipynb with nbclient; a cell that raises (the notebooks assert their
own results) fails the test. The kernel is the interpreter running pytest (Debian's python3-ipykernel
spec, or a temporary spec pointing at it): under .ci/test.sh the python of the virtual environment
libgrid is pip-installed into (LIBGRID_TEST_INSTALLED=1), so the notebooks import the installed
package; otherwise /usr/bin/python3 with PYTHONPATH = the build's python dir (env LIBGRID_BUILD_DIR,
default <this repository>/build)."""
import json
import os
import pathlib
import sys

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import libgrid
from conftest import INSTALLED, ROOT

NOTEBOOK_DIR = ROOT / "docs" / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
BUILD = pathlib.Path(os.environ.get("LIBGRID_BUILD_DIR", ROOT / "build"))  # this clone's build, never another's
PYTHON = sys.executable if INSTALLED else "/usr/bin/python3"
CELL_TIMEOUT_S = 600


def _runs_python(spec_argv) -> bool:
    exe = spec_argv[0] if spec_argv else ""
    return os.path.realpath(exe) == os.path.realpath(PYTHON) or (
        exe in ("python", "python3") and os.path.realpath(sys.executable) == os.path.realpath(PYTHON))


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """(kernel name, extra environment): Debian's 'python3' spec when it runs /usr/bin/python3, else
    a spec of our own in a temporary JUPYTER_PATH directory (always when testing the installed
    package: Debian's spec names /usr/bin/python3, not the virtual environment's python)."""
    pythonpath = [] if INSTALLED else (
        [str(BUILD / "python")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    env = {"PYTHONPATH": os.pathsep.join(pythonpath),
           "LIBGRID_BUILD_DIR": str(BUILD), "PYDEVD_DISABLE_FILE_VALIDATION": "1", "MPLBACKEND": "",
           "PYTHONHASHSEED": "0", "LIBGRID_FIGURES_DIR": "",  # the tests write no figure into docs/img
           "LIBGRID_NOTEBOOK_HORIZON": "7d"}  # melaka_business_case: a week, annualised, not the files' year
    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
        if not INSTALLED and _runs_python(spec.argv):
            return "python3", env
    except NoSuchKernel:
        pass
    root = tmp_path_factory.mktemp("jupyter")
    kdir = root / "kernels" / "libgrid-python3"
    kdir.mkdir(parents=True)
    (kdir / "kernel.json").write_text(json.dumps({
        "argv": [PYTHON, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python 3 ({PYTHON})", "language": "python"}))
    env["JUPYTER_PATH"] = os.pathsep.join([str(root)] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p])
    return "libgrid-python3", env


def execute(nb, kernel, monkeypatch):
    name, env = kernel
    for k, v in env.items():
        if v:
            monkeypatch.setenv(k, v)
        else:
            monkeypatch.delenv(k, raising=False)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name=name,
                            resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    return client.execute()


def test_there_are_notebooks():
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "melaka_smart_city.ipynb", "ev_growth.ipynb",
                                           "melaka_business_case.ipynb"}


def test_kernel_is_system_python_and_finds_the_build(kernel, monkeypatch):
    """The kernel is this interpreter (same environment: sys.prefix) and imports the libgrid under
    test: the installed one (LIBGRID_TEST_INSTALLED=1), else the build tree's."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys, os, libgrid\nprint(sys.executable)\nprint(sys.prefix)\n"
        "print(os.path.realpath(libgrid.__file__))\nprint(os.getcwd())")])
    execute(nb, kernel, monkeypatch)
    exe, prefix, lib, cwd = nb.cells[0].outputs[0]["text"].split()
    assert os.path.realpath(exe) == os.path.realpath(PYTHON)
    if INSTALLED:
        assert os.path.realpath(prefix) == os.path.realpath(sys.prefix)
        assert lib == os.path.realpath(libgrid.__file__)
        assert not lib.startswith(os.path.realpath(BUILD / "python") + os.sep)
        assert not lib.startswith(os.path.realpath(ROOT / "bindings") + os.sep)
    else:
        assert lib.startswith(os.path.realpath(BUILD / "python"))
    assert os.path.realpath(cwd) == os.path.realpath(NOTEBOOK_DIR)


def test_notebooks_are_stored_without_outputs():
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: outputs not stripped"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, kernel, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    try:
        execute(nb, kernel, monkeypatch)
    except CellExecutionError as e:  # the message names the cell and the error
        pytest.fail(f"{path.name}: {e}", pytrace=False)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code)
    errors = [o for c in code for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
