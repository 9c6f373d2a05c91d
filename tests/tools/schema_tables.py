"""Writes the component tables of docs/network_json.md from the component schemas.

    PYTHONPATH=build/python /usr/bin/python3 tests/tools/schema_tables.py docs/network_json.md

Each table sits between `<!-- schema:KIND -->` and `<!-- /schema -->`; the rest of the page is
left alone. tests/cpp/model/test_schema.cpp checks the page against the schemas, so a field added
to a schema (model/<component>.hpp) and not to the page fails that test until this is run.
"""
import re
import sys

import libgrid


def cell(text: str) -> str:
    return str(text).replace("|", "\\|")


def table(kind: str) -> str:
    rows = ["| field | unit | default | check | notes |", "| --- | --- | --- | --- | --- |"]
    for f in libgrid.schema(kind):
        name = f"`{f['key']}`" + (" (ext)" if f["extension"] else "")
        default = "*req*" if f["required"] else f["default"]
        checks = []
        if f["kind"] == "enum":
            checks.append(" / ".join(f"`{label}`" if label else "null" for _, label in f["labels"]))
        elif f["kind"] in ("int", "id"):
            checks.append("integer")
        elif f["kind"] == "bool":
            checks.append("bool")
        if f["range"]:
            checks.append(f["range"])
        if f["ref"]:
            checks.append(f"{f['ref']} id exists")
        if not f["stored"]:
            checks.append("file only")
        rows.append(f"| {name} | {cell(f['unit'])} | {cell(default)} | {cell('; '.join(checks))} | {cell(f['doc'])} |")
    return "\n".join(rows)


def main(path: str) -> None:
    text = open(path, encoding="utf-8").read()
    pattern = re.compile(r"(<!-- schema:(\w+) -->\n)(.*?)(<!-- /schema -->)", re.S)
    text, n = pattern.subn(lambda m: m.group(1) + table(m.group(2)) + "\n" + m.group(4), text)
    if n == 0:
        sys.exit(f"{path}: no <!-- schema:KIND --> markers")
    open(path, "w", encoding="utf-8").write(text)
    print(f"{path}: {n} tables written")


if __name__ == "__main__":
    main(sys.argv[1])
