#!/usr/bin/env python3
"""Lists the functions in libgrid/ longer than a limit (default 100 lines, body braces included).

    /usr/bin/python3 tests/tools/function_lengths.py [--limit 100] [--all] [ROOT]

A function is a brace block whose head (the text since the previous ';', '{' or '}') ends in a
parameter list with optional qualifiers, and is not a control statement; lambdas count with the
function around them. Exit 1 when any function is over the limit (the CTest `function_lengths`).
"""
import argparse
import pathlib
import re
import sys

CONTROL = re.compile(r"\b(if|for|while|switch|catch|do|else)\s*(\(|$)")
HEAD = re.compile(r"\)\s*(const|noexcept|override|final|mutable|volatile|&|&&|->\s*[\w:<>,\s\*&]+|\s)*$")


def strip(text):
    """Blank out comments, string and char literals, keeping line breaks."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i)); i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j])); i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (j + 1 - i)); i = j + 1
        else:
            out.append(c); i += 1
    return "".join(out)


def functions(path):
    text = strip(path.read_text(encoding="utf-8", errors="replace"))
    text = re.sub(r"^\s*#.*$", "", text, flags=re.M)  # preprocessor lines
    stack, head_start = [], 0
    for i, c in enumerate(text):
        if c == "{":
            head = " ".join(text[head_start:i].split())
            is_fn = bool(HEAD.search(head)) and not CONTROL.search(head.split("(")[0] + "(") and "=" not in head.split("(")[0]
            # an enclosing function makes this a nested block (or a lambda): not counted on its own
            inside_fn = any(f for f, _, _ in stack)
            name = head.split("(")[0].split()[-1] if is_fn and head.split("(")[0].split() else "?"
            stack.append((is_fn and not inside_fn, i, name))
            head_start = i + 1
        elif c == "}":
            if stack:
                is_fn, start, name = stack.pop()
                if is_fn:
                    a = text.count("\n", 0, start) + 1
                    b = text.count("\n", 0, i) + 1
                    yield name, a, b - a + 1
            head_start = i + 1
        elif c == ";":
            head_start = i + 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root", nargs="?", default=str(pathlib.Path(__file__).resolve().parents[2] / "libgrid"))
    ap.add_argument("--limit", type=int, default=100)
    ap.add_argument("--all", action="store_true", help="list every function over 0 lines, longest first")
    a = ap.parse_args()
    rows = []
    for p in sorted(pathlib.Path(a.root).rglob("*")):
        if p.suffix in (".cpp", ".hpp") and p.is_file():
            for name, line, length in functions(p):
                rows.append((length, f"{p.relative_to(pathlib.Path(a.root).parent)}:{line}", name))
    rows.sort(reverse=True)
    over = [r for r in rows if r[0] > a.limit]
    for length, where, name in (rows if a.all else over):
        print(f"{length:5d} lines  {where}  {name}")
    print(f"{len(rows)} functions, {len(over)} longer than {a.limit} lines")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
