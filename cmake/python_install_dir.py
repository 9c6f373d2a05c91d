"""Prints where `cmake --install` should put the libgrid Python package for an install prefix, as
the interpreter running this script sees it (configure time, bindings/CMakeLists.txt):

    <python> python_install_dir.py PREFIX  ->  "RELATIVE_DIR;on_path" or "RELATIVE_DIR;off_path"

RELATIVE_DIR is relative to PREFIX. It is the platlib directory of the interpreter's own install
scheme whose prefix is PREFIX and which is on its sys.path: on Debian 12, /usr/bin/python3 with
PREFIX /usr/local -> lib/python3.11/dist-packages (the `posix_local` scheme, where pip installs),
PREFIX /usr -> lib/python3/dist-packages (`deb_system`). Any other prefix (a virtual environment,
/opt/libgrid) gets the standard layout lib/pythonX.Y/site-packages, which is a virtual
environment's own site directory; elsewhere, the interpreter needs PYTHONPATH to see it."""
import os
import sys
import sysconfig


def main(prefix: str) -> str:
    prefix = os.path.realpath(prefix)
    on_path = {os.path.realpath(p) for p in sys.path if p}
    names = [sysconfig.get_default_scheme()] + [
        s for s in ("posix_local", "deb_system", "posix_prefix", "venv", "posix_venv")
        if s in sysconfig.get_scheme_names()]
    for scheme in dict.fromkeys(names):
        base = os.path.realpath(sysconfig.get_path("data", scheme))
        platlib = os.path.realpath(sysconfig.get_path("platlib", scheme))
        if base == prefix and platlib in on_path and platlib.startswith(prefix + os.sep):
            return os.path.relpath(platlib, prefix) + ";on_path"
    platlib = sysconfig.get_path("platlib", "posix_prefix", vars={"base": prefix, "platbase": prefix})
    state = "on_path" if os.path.realpath(platlib) in on_path else "off_path"
    return os.path.relpath(platlib, prefix) + ";" + state


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python_install_dir.py PREFIX")
    print(main(sys.argv[1]))
