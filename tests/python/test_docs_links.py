"""The docs stand on their own (issue 12): no Markdown link of docs/ or the top-level *.md files points
outside the repository or to a file that does not exist, no doc cites the project's facts outside the
repository (`../shared/facts/melaka.md`, `facts/melaka.md`), and the figures of docs/img that the docs
show exist."""
import re

import pytest

from conftest import ROOT

DOCS = sorted([*ROOT.glob("docs/**/*.md"), *ROOT.glob("*.md")])
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def targets(path):
    """Link targets of a Markdown file that name a file (a '/' or a '.' in them), outside code blocks."""
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    for m in LINK.finditer(text):
        t = m.group(1)
        if re.match(r"^[a-zA-Z][a-zA-Z+.-]*:", t) or t.startswith("#"):
            continue  # a URL or an anchor
        if "/" in t or "." in t:
            yield t.split("#")[0]


def test_there_are_docs():
    assert len(DOCS) > 10 and (ROOT / "docs" / "sources" / "melaka_facts.md").is_file()


@pytest.mark.parametrize("path", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_links_stay_in_the_repository(path):
    root = ROOT.resolve()
    for t in targets(path):
        p = (path.parent / t).resolve()
        assert p == root or root in p.parents, f"{path.relative_to(ROOT)}: link '{t}' leaves the repository"
        assert p.exists(), f"{path.relative_to(ROOT)}: link '{t}': no such file"


@pytest.mark.parametrize("path", DOCS, ids=[str(p.relative_to(ROOT)) for p in DOCS])
def test_facts_are_cited_from_the_repository(path):
    text = path.read_text(encoding="utf-8")
    for bad in ("shared/facts", "facts/melaka.md", "../shared/"):
        assert bad not in text, f"{path.relative_to(ROOT)} cites '{bad}': cite docs/sources/melaka_facts.md"


def test_link_checker_catches_bad_links(tmp_path):
    doc = tmp_path / "d.md"
    doc.write_text("[a](../../x.md) [b](https://example.org/a.md) [c](#here) [d](I)\n```\n[e](../y.md)\n```\n")
    assert list(targets(doc)) == ["../../x.md"]
