import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
BUILD = pathlib.Path(os.environ.get("LIBGRID_BUILD_DIR", ROOT / "build"))
# LIBGRID_TEST_INSTALLED=1 (.ci/test.sh, which runs pytest with the python of a virtual environment
# libgrid was pip-installed into): test that installed package. Otherwise (developers) the build
# tree's package, BUILD/python, needing no install.
INSTALLED = os.environ.get("LIBGRID_TEST_INSTALLED") == "1"
if not INSTALLED and str(BUILD / "python") not in sys.path:
    sys.path.insert(0, str(BUILD / "python"))
if INSTALLED:
    import libgrid as _libgrid

    _where = pathlib.Path(_libgrid.__file__).resolve()
    for _tree in (ROOT / "bindings", BUILD.resolve() / "python"):
        if _tree in _where.parents:
            raise RuntimeError(f"LIBGRID_TEST_INSTALLED=1 but libgrid comes from the tree: {_where}")


import pytest  # noqa: E402


def pytest_configure(config):
    # issue 15: tests of a results file written by hand after the documented layout (no engine)
    config.addinivalue_line("markers", "format: reads a results file written by the test itself after docs/results_hdf5.md")


@pytest.fixture
def ctrl_c():
    """Ctrl-C as in a terminal or notebook: Python's default SIGINT handler (KeyboardInterrupt) for the
    test. A process started in the background by a non-interactive shell inherits SIGINT ignored,
    and Python then keeps it ignored: a test that sends itself SIGINT would see nothing."""
    import signal
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)
