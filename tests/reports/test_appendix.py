"""The rules appendix in its three formats: markdown at 80 columns, the reports' html (well formed)
and pdf (pdftotext finds every sentence), each byte-identical for the same policy and date; the docs
page carries the default policy's appendix as generated."""

from __future__ import annotations

import re
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from cosell.attribution.appendix import Appendix, build_appendix
from cosell.policy import Policy
from cosell.reports.appendix import render_appendix, render_markdown

from .conftest import require_tool

DATED = date(2026, 11, 1)
# Names markdown would read as markup, and a name longer than a line.
ODD = Policy().with_values(
    stages__won=["Won <booked> *now*", "W" * 90], label="odd", touch_kinds__not_engagement=["[note]"]
)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_markdown_lines_fit_80_columns_and_keep_every_sentence() -> None:
    for policy in (Policy(), ODD):
        appendix = build_appendix(policy, DATED)
        md = render_markdown(appendix)
        long_lines = [line for line in md.splitlines() if len(line) > 80]
        assert all(len(line.split()) <= 2 for line in long_lines), (
            long_lines
        )  # only a word too long for a line
        for clause in appendix.clauses():
            assert f"\n{clause.number} " in md
        unescaped = re.sub(r"\\(.)", r"\1", _flat(md))
        for clause in appendix.clauses():
            assert _flat(clause.text) in unescaped, clause.number


def test_markdown_escapes_what_it_would_read_as_markup() -> None:
    md = render_markdown(build_appendix(ODD, DATED))
    assert r"\<booked\> \*now\*" in md and r"\[note\]" in md
    assert "<booked>" not in md


class _Tags(HTMLParser):
    """Every element closed in order (void elements need no end tag); the text of each clause."""

    VOID = frozenset({"meta", "br", "img", "link", "hr", "input"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.clauses: dict[str, str] = {}
        self._clause: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)
        ids = dict(attrs).get("id") or ""
        if tag == "li" and ids.startswith("clause-"):
            self._clause = ids.removeprefix("clause-")
            self.clauses[self._clause] = ""

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag == "li":
            self._clause = None

    def handle_data(self, data: str) -> None:
        if self._clause is not None:
            self.clauses[self._clause] += data


def test_html_is_well_formed_and_holds_every_numbered_sentence() -> None:
    for policy in (Policy(), ODD):
        appendix = build_appendix(policy, DATED)
        html = render_appendix(appendix, "html").decode("utf-8")
        parser = _Tags()
        parser.feed(html)
        parser.close()
        assert parser.problems == [] and parser.stack == []
        assert html.startswith("<!DOCTYPE html>") and "<title>Partner attribution rules</title>" in html
        assert {n: _flat(t) for n, t in parser.clauses.items()} == {
            c.number: _flat(f"{c.number} {c.text}") for c in appendix.clauses()
        }
        assert "<booked>" not in html  # escaped, never markup
        assert all(f"<h2>{s.number}. {s.title}</h2>" in html for s in appendix.sections)


def _pdftotext(appendix: Appendix, tmp_path: Path) -> str:
    path = tmp_path / "appendix.pdf"
    path.write_bytes(render_appendix(appendix, "pdf"))
    return subprocess.run(
        [require_tool("pdftotext"), str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _pdf_text(out: str) -> str:
    # The page furniture (running title, footer, page numbers) may fall inside a clause that runs
    # over a page break.
    furniture = re.compile(
        r"^(Partner attribution rules|policy \S+@\w+ · dated [\d-]+|cosell · [A-Z]{3}|page \d+ of \d+)$"
    )
    return _flat(" ".join(line for line in out.splitlines() if not furniture.match(line.strip())))


def test_pdf_text_holds_every_numbered_sentence(tmp_path: Path) -> None:
    appendix = build_appendix(Policy(), DATED)
    raw = _pdftotext(appendix, tmp_path)
    text = _pdf_text(raw)
    for clause in appendix.clauses():
        assert _flat(clause.text) in text, clause.number
        assert f"{clause.number} " in text
    pages = raw.split("\f")[:-1]
    assert len(pages) >= 2  # long enough to need the running header and footer
    for i, page in enumerate(pages, start=1):  # a loose page still says which rules it states
        assert f"policy {appendix.version} · dated 2026-11-01" in page
        assert f"page {i} of {len(pages)}" in page
    for label, value in appendix.facts:  # a two-column table: each label and each value
        assert label in text and value in text


def test_every_format_is_byte_identical_for_the_same_policy_and_date() -> None:
    for fmt in ("md", "html", "pdf"):
        first = render_appendix(build_appendix(Policy(), DATED), fmt)
        assert render_appendix(build_appendix(Policy(), DATED), fmt) == first, fmt
        assert render_appendix(build_appendix(Policy(), date(2026, 11, 2)), fmt) != first, fmt


def test_the_docs_page_is_generated() -> None:
    from cosell.appendix_doc import DOC_PATH, EXAMPLE_DATE, render_appendix_doc

    page = DOC_PATH.read_text(encoding="utf-8")
    assert page == render_appendix_doc(), "run python -m cosell.appendix_doc"
    assert render_markdown(build_appendix(Policy(), EXAMPLE_DATE)) in page
