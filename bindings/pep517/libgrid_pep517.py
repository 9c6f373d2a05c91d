"""libgrid's PEP 517 build backend: `pip install .` builds the pybind11 extension with CMake.

Why an in-tree backend: the extension is built by the project's CMake (the same targets as
`cmake --build`), and Debian 12 has no CMake-driving backend (no scikit-build-core). This one needs
nothing but the standard library, CMake and a compiler, so pip needs no PyPI at all:
`requires = []` in pyproject.toml, and `pip install --no-build-isolation .` and plain
`pip install .` both work offline.

What build_wheel does:
  1. CMake build directory: config setting `build-dir` (`pip install -C build-dir=DIR .`), else the
     environment variable LIBGRID_CMAKE_BUILD_DIR, else `build-pip/` in the source tree. An already
     configured directory (e.g. the developer's `build/`) is reused as it is: only the `_libgrid`
     target is brought up to date, which takes seconds. A new one is configured with
     -DCMAKE_BUILD_TYPE=Release -DLIBGRID_TESTS=OFF -DLIBGRID_BENCHES=OFF -DPYTHON_EXECUTABLE=<this
     interpreter> (Ninja when present), plus CMAKE_ARGS from the environment.
  2. `cmake --install DIR --component python` into a staging directory (DESTDIR): the same files
     `cmake --install` puts on the interpreter's path.
  3. A wheel of that package (libgrid/*.py + the extension), tagged for this interpreter and platform.

Dependencies: [tool.libgrid] dependencies in pyproject.toml (dynamic in [project]). Debian names
its h5py distribution `h5py._debian_h5py_serial`, which pip never matches to `h5py`; when the
interpreter has such a Debian-renamed distribution and none under the plain name, the wheel
requires the Debian one, so that the requirement is met by Debian's package instead of PyPI.
"""
from __future__ import annotations

import base64
import hashlib
import io
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import tomllib
import zipfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
NAME = "libgrid"

# ---- metadata ---------------------------------------------------------------------------------


def _pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _version() -> str:
    text = (ROOT / "CMakeLists.txt").read_text()
    m = re.search(r"project\(\s*libgrid\s+VERSION\s+([0-9][0-9.]*)", text)
    if not m:
        raise RuntimeError("CMakeLists.txt: no `project(libgrid VERSION x.y.z ...)`")
    return m.group(1)


_INSTALLED_DISTS_CODE = r"""
import importlib.metadata as m
for d in m.distributions():
    n = d.metadata["Name"]
    if n:
        print(n)
"""


def _installed_distributions() -> list[str]:
    """Names of the distributions the target interpreter has. Asked in a subprocess with -I: under
    pip's build isolation this process does not see the system's site-packages, that one does."""
    try:
        out = subprocess.run([sys.executable, "-I", "-c", _INSTALLED_DISTS_CODE], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return out.split()


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(declared: list[str]) -> list[str]:
    """The declared requirements; one whose distribution is installed only under a Debian name
    (`h5py._debian_h5py_serial`) names that distribution instead."""
    installed = {_normalize(n): n for n in _installed_distributions()}
    out = []
    for req in declared:
        m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)(.*)", req)
        if not m:
            raise RuntimeError(f"pyproject.toml: cannot read the requirement {req!r}")
        name, rest = m.group(1), m.group(2)
        key = _normalize(name)
        if key not in installed:
            debian = sorted(n for k, n in installed.items() if k.startswith(key + "-debian-"))
            if debian:
                name = debian[0]
        out.append(name + rest)
    return out


def _metadata() -> str:
    """METADATA (core metadata 2.1) from pyproject.toml's [project] and [tool.libgrid]."""
    meta = _pyproject()
    project, tool = meta["project"], meta.get("tool", {}).get("libgrid", {})
    fields = [("Metadata-Version", "2.1"), ("Name", project["name"]), ("Version", _version()),
              ("Summary", project.get("description", ""))]
    if "requires-python" in project:
        fields.append(("Requires-Python", project["requires-python"]))
    fields += [("Project-URL", f"{k}, {v}") for k, v in project.get("urls", {}).items()]
    fields += [("Classifier", c) for c in project.get("classifiers", [])]
    fields += [("Requires-Dist", r) for r in _requirements(tool.get("dependencies", []))]
    for extra, reqs in project.get("optional-dependencies", {}).items():
        fields.append(("Provides-Extra", extra))
        for req in _requirements(reqs):
            marker = f'extra == "{extra}"'
            fields.append(("Requires-Dist", f"{req} and {marker}" if ";" in req else f"{req}; {marker}"))
    body = ""
    if project.get("readme"):
        fields.append(("Description-Content-Type", "text/markdown"))
        body = "\n" + (ROOT / project["readme"]).read_text(encoding="utf-8")
    return "".join(f"{k}: {v}\n" for k, v in fields) + body


def _wheel_tag() -> str:
    if sys.implementation.name != "cpython":
        raise RuntimeError("libgrid's wheel is built for CPython only")
    py = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    abi = py + ("d" if sysconfig.get_config_var("Py_DEBUG") else "") + \
        ("t" if sysconfig.get_config_var("Py_GIL_DISABLED") else "")
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return f"{py}-{abi}-{plat}"


def _dist_info_files() -> dict[str, str]:
    return {
        "METADATA": _metadata(),
        "WHEEL": "Wheel-Version: 1.0\nGenerator: libgrid_pep517\nRoot-Is-Purelib: false\n"
                 f"Tag: {_wheel_tag()}\n",
        "top_level.txt": NAME + "\n",
    }


# ---- CMake ------------------------------------------------------------------------------------


def _cmake() -> str:
    exe = os.environ.get("CMAKE_COMMAND") or shutil.which("cmake")
    if not exe:
        raise RuntimeError("libgrid needs CMake (>= 3.20) to build its extension: apt-get install cmake")
    return exe


def _run(cmd: list[str], **kw) -> None:
    print("libgrid_pep517:", shlex.join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, **kw)


def _build_dir(config_settings) -> pathlib.Path:
    cs = config_settings or {}
    d = cs.get("build-dir") or os.environ.get("LIBGRID_CMAKE_BUILD_DIR") or str(ROOT / "build-pip")
    return pathlib.Path(d).resolve()


def _cache_value(cache: str, key: str) -> str | None:
    m = re.search(rf"^{re.escape(key)}:[A-Z]+=(.*)$", cache, re.M)
    return m.group(1) if m else None


def _build_extension(build_dir: pathlib.Path, config_settings) -> None:
    cmake = _cmake()
    cache_file = build_dir / "CMakeCache.txt"
    if cache_file.exists():
        cache = cache_file.read_text(errors="replace")
        if (_cache_value(cache, "LIBGRID_PYTHON") or "ON").upper() in ("OFF", "0", "FALSE", "NO"):
            raise RuntimeError(f"{build_dir} was configured with -DLIBGRID_PYTHON=OFF: no Python module to package")
        print(f"libgrid_pep517: reusing the CMake build in {build_dir}", file=sys.stderr, flush=True)
    else:
        args = [cmake, "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
                "-DLIBGRID_PYTHON=ON", "-DLIBGRID_TESTS=OFF", "-DLIBGRID_BENCHES=OFF",
                f"-DPYTHON_EXECUTABLE={sys.executable}"]
        if shutil.which("ninja") and "CMAKE_GENERATOR" not in os.environ:
            args += ["-G", "Ninja"]
        args += shlex.split(os.environ.get("CMAKE_ARGS", ""))
        args += shlex.split((config_settings or {}).get("cmake-args", ""))
        _run(args)
    jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
    _run([cmake, "--build", str(build_dir), "--target", "_libgrid", "--parallel", jobs])


def _stage_package(build_dir: pathlib.Path, stage: pathlib.Path) -> pathlib.Path:
    """`cmake --install --component python` under DESTDIR=stage; returns the staged package dir."""
    env = dict(os.environ, DESTDIR=str(stage))
    _run([_cmake(), "--install", str(build_dir), "--component", "python"], env=env)
    inits = [p.parent for p in stage.rglob("__init__.py") if p.parent.name == NAME and
             any(p.parent.glob("_libgrid*"))]
    if len(inits) != 1:
        raise RuntimeError(f"cmake --install --component python put {len(inits)} libgrid packages under {stage}")
    pkg = inits[0]
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    if not (pkg / ("_libgrid" + suffix)).exists():
        found = ", ".join(p.name for p in pkg.glob("_libgrid*"))
        raise RuntimeError(f"{build_dir} built {found} for another Python; {sys.executable} loads "
                           f"_libgrid{suffix}: use another build directory (-C build-dir=...)")
    return pkg


# ---- archives ---------------------------------------------------------------------------------


def _zip_time() -> tuple:
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01, zip's first day
    return time.gmtime(max(epoch, 315532800))[:6]


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory: str, pkg: pathlib.Path) -> str:
    version = _version()
    dist_info = f"{NAME}-{version}.dist-info"
    filename = f"{NAME}-{version}-{_wheel_tag()}.whl"
    records = []
    date = _zip_time()
    with zipfile.ZipFile(pathlib.Path(wheel_directory) / filename, "w", zipfile.ZIP_DEFLATED) as zf:
        def add(arcname: str, data: bytes, mode: int = 0o644) -> None:
            info = zipfile.ZipInfo(arcname, date)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
            records.append(_record_line(arcname, data))

        for path in sorted(p for p in pkg.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            add(f"{NAME}/{path.relative_to(pkg).as_posix()}", path.read_bytes(), mode)
        for name, text in _dist_info_files().items():
            add(f"{dist_info}/{name}", text.encode())
        record = "\n".join(records + [f"{dist_info}/RECORD,,"]) + "\n"
        info = zipfile.ZipInfo(f"{dist_info}/RECORD", date)
        info.external_attr = (0o100644) << 16
        zf.writestr(info, record.encode(), zipfile.ZIP_DEFLATED)
    return filename


_SDIST_PATHS = ("pyproject.toml", "README.md", "CMakeLists.txt", "cmake", "libgrid", "bindings")


def _sdist_files() -> list[pathlib.Path]:
    """What the wheel is built from: in a git checkout, the files git tracks or would (not ignored)."""
    files = None
    if (ROOT / ".git").exists() and shutil.which("git"):
        try:
            out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *_SDIST_PATHS], cwd=ROOT, check=True,
                                 capture_output=True).stdout
            files = [ROOT / f for f in out.decode().split("\0") if f]
        except subprocess.CalledProcessError:
            files = None
    if files is None:
        files = []
        for top in _SDIST_PATHS:
            p = ROOT / top
            files += [p] if p.is_file() else sorted(q for q in p.rglob("*") if q.is_file())
    return sorted(f for f in files if f.is_file() and "__pycache__" not in f.parts)


# ---- the PEP 517 hooks ------------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    dist_info = pathlib.Path(metadata_directory) / f"{NAME}-{_version()}.dist-info"
    dist_info.mkdir(parents=True, exist_ok=True)
    for name, text in _dist_info_files().items():
        (dist_info / name).write_text(text)
    return dist_info.name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    build_dir = _build_dir(config_settings)
    _build_extension(build_dir, config_settings)
    with tempfile.TemporaryDirectory(prefix="libgrid-wheel-") as stage:
        return _write_wheel(wheel_directory, _stage_package(build_dir, pathlib.Path(stage)))


def build_sdist(sdist_directory, config_settings=None):
    base = f"{NAME}-{_version()}"
    filename = f"{base}.tar.gz"
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))

    def add(tf: tarfile.TarFile, arcname: str, data: bytes, mode: int) -> None:
        info = tarfile.TarInfo(f"{base}/{arcname}")
        info.size, info.mode, info.mtime = len(data), mode, mtime
        tf.addfile(info, io.BytesIO(data))

    with tarfile.open(pathlib.Path(sdist_directory) / filename, "w:gz", format=tarfile.PAX_FORMAT) as tf:
        for f in _sdist_files():
            add(tf, f.relative_to(ROOT).as_posix(), f.read_bytes(), 0o755 if os.access(f, os.X_OK) else 0o644)
        add(tf, "PKG-INFO", _metadata().encode(), 0o644)
    return filename
