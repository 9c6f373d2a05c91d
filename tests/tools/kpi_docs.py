"""Writes the KPI tables of docs/kpis.md from the KPI table (libgrid/src/simulation/kpis.cpp).

    PYTHONPATH=build/python /usr/bin/python3 tests/tools/kpi_docs.py docs/kpis.md
    PYTHONPATH=build/python /usr/bin/python3 tests/tools/kpi_docs.py --check docs/kpis.md   # exit 1 when stale

Each boundary's table sits between `<!-- kpis:BOUNDARY -->` and `<!-- /kpis -->`; the rest of the
page is left alone. The doctest "kpis: docs/kpis.md is generated from the KPI table"
(tests/cpp/simulation/test_kpis.cpp) checks the page row by row, so a KPI added to the table and not
to the page fails that test until this is run.
"""
import re
import sys

from libgrid import _libgrid

BOUNDARIES = ("substation", "customer_meters", "city", "network", "run")


def cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def table(boundary: str) -> str:
    rows = ["| KPI | unit | definition | formula | where measured |", "| --- | --- | --- | --- | --- |"]
    for k in _libgrid.summary_kpis():
        if k["in_file"] and k["boundary"] == boundary:
            unit = (k["unit"] or "count") if k["count"] else k["unit"]
            rows.append(f"| `{k['name']}` | {cell(unit)} | {cell(k['definition'])} | {cell(k['formula'])} | {cell(k['where'])} |")
    return "\n".join(rows)


def render(text: str) -> "tuple[str, int]":
    pattern = re.compile(r"(<!-- kpis:(\w+) -->\n)(.*?)(<!-- /kpis -->)", re.S)
    return pattern.subn(lambda m: m.group(1) + table(m.group(2)) + "\n" + m.group(4), text)


def main(argv: "list[str]") -> int:
    check = "--check" in argv
    path = [a for a in argv if a != "--check"][0]
    text = open(path, encoding="utf-8").read()
    new, n = render(text)
    if n == 0:
        sys.exit(f"{path}: no <!-- kpis:BOUNDARY --> markers")
    unassigned = [k["name"] for k in _libgrid.summary_kpis() if k["in_file"] and k["boundary"] not in BOUNDARIES]
    if unassigned:
        sys.exit(f"KPIs without a boundary (libgrid/src/simulation/kpis.cpp): {', '.join(unassigned)}")
    if check:
        if new != text:
            print(f"{path} is stale: run tests/tools/kpi_docs.py {path}")
            return 1
        print(f"{path}: up to date ({n} tables)")
        return 0
    open(path, "w", encoding="utf-8").write(new)
    print(f"{path}: {n} tables written")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
