"""Text from data in the html and pdf reports is shown, never obeyed, as on the terminal: a bidi
control in a partner's name (U+202E would make the amounts beside it read backwards, U+2066 opens an
isolate) or an invisible character ("Ac<U+200B>me" would pass for "Acme") prints as U+FFFD, one for
one, in the title, the alerts, the table, the chart and the notes; right-to-left letters print as
they are."""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from xml.sax.saxutils import unescape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cosell.policy import Policy
from cosell.report_model import Alert, Report
from cosell.reports.cells import CellText
from cosell.reports.html import cell_markup, render_html
from cosell.reports.partners import build_partners
from cosell.reports.pdf import render_pdf
from metrics.metrics_support import AS_OF, Book

from .conftest import RenderedPdf, require_tool

NAME = "Ac\u200bme \u202eEvil\u2066 Corp"  # zero-width space, right-to-left override, left-to-right isolate
SHOWN = "Ac\ufffdme \ufffdEvil\ufffd Corp"
HEBREW = "שלום סחר"  # a partner named in Hebrew: letters, not controls
# The characters no report for people may print as they are (cosell.shown.visible's classes).
BIDI = "\u200e\u200f\u061c" + "".join(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff" + "".join(map(chr, range(0xE0000, 0xE0080)))
CONTROLS = "".join(chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if c not in (0x09, 0x0A))
CONTROLLED = frozenset(BIDI + INVISIBLE + CONTROLS)


@pytest.fixture(scope="module")
def report() -> Report:
    """The league table of two partners, one named with controls, one in Hebrew; the name also in
    the title (as a partner statement's), an alert and a note."""
    ws = (
        Book()
        .won("S1", "2026-07-01", "2026-07-31", "1250.00", "sourced",
             credits=(("P1", "sourcer", "1.000000", "1250.00"),))
        .won("S2", "2026-07-01", "2026-08-31", "980.00", "sourced",
             credits=(("P2", "sourcer", "1.000000", "980.00"),))
        .rows("partners", {"partner_id": "P1", "name": NAME, "partner_type": "services"},
              {"partner_id": "P2", "name": HEBREW, "partner_type": "agency"})
        .save()
    )  # fmt: skip
    league = build_partners(ws.con, Policy(), None, AS_OF)
    section = replace(league.sections[0], notes=(*league.sections[0].notes, f"{NAME} joined in July."))
    return replace(
        league,
        title=f"Statement: {NAME}",
        sections=(section,),
        alerts=(Alert("balance", "Negative balance", True, f"{NAME} carries -1,250.00 USD."),),
    )


def test_the_html_shows_controls_from_data_and_keeps_hebrew(report: Report) -> None:
    page = render_html(report)
    assert not CONTROLLED & set(page)
    title = f"Statement: {SHOWN}"
    assert f"<title>{title}</title>" in page and f"<h1>{title}</h1>" in page
    assert f"<bdi>{title}</bdi>" in page  # the footer
    assert f"{SHOWN} carries -1,250.00 USD." in page  # the alert
    assert f"<li>{SHOWN} joined in July.</li>" in page  # the note
    # The table row: the name, then its amounts in their order.
    row = next(line for line in page.splitlines() if "<td>P1</td>" in line)
    assert re.search(rf"<td>{SHOWN}</td>.*<td class=\"num\">1,250.00</td>", row), row
    assert re.search(r">\s*Ac\ufffdme \ufffdEvil\ufffd Corp\s*</text>", page)  # the chart's label
    hebrew_row = next(line for line in page.splitlines() if "<td>P2</td>" in line)
    assert f"<td>{HEBREW}</td>" in hebrew_row and "980.00" in hebrew_row
    assert re.search(rf">\s*{HEBREW}\s*</text>", page)


def test_the_pdf_shows_controls_from_data_and_keeps_hebrew(
    report: Report, rasterize_pdf: Callable[[bytes], RenderedPdf], tmp_path: Path
) -> None:
    pdf = render_pdf(report)
    rendered = rasterize_pdf(pdf)
    # pdftotext wraps a run of right-to-left letters in U+202B and U+202C of its own: left out.
    text = rendered.text.replace("\u202b", "").replace("\u202c", "")
    assert not CONTROLLED & set(text)
    assert rendered.page_texts[0].splitlines()[0].startswith(f"Statement: {SHOWN}")  # the page header
    assert f"Negative balance: {SHOWN} carries -1,250.00 USD." in text
    assert f"{SHOWN} joined in July." in text
    # The table: its first columns in reading order, then the row as printed with its amounts in
    # their order. reportlab draws the Hebrew letters as given, left to right, and pdftotext reads
    # such a run as drawn in visual order, reversed: every letter is there, none replaced.
    assert f"1 P1 {SHOWN} 2 P2 {HEBREW[::-1]} " in text
    row = next(line for line in rendered.page_texts[0].splitlines() if " P1 " in line)
    assert re.search(r"1\s+P1\s+Ac\ufffdme\s+services\s+1,250.00\s+0.00\s+0.00\s+1,250.00\s", row), row
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    info = subprocess.run([require_tool("pdfinfo"), str(path)], check=True, capture_output=True, text=True)
    assert f"Title:           Statement: {SHOWN}" in info.stdout  # the viewer's window title


# Text mixing any characters with those of the controlled classes (drawn from the list itself:
# st.characters() alone rarely draws them).
MIXED = st.lists(st.one_of(st.sampled_from(sorted(CONTROLLED)), st.characters())).map("".join)


@given(MIXED)
def test_html_and_pdf_text_keeps_one_character_for_one_and_no_control(text: str) -> None:
    from cosell.reports.pdf_figures import paragraph_markup

    # The pdf's markup may set a run in the CJK font: its tags are markup, every "<" of data is "&lt;".
    pdf_text = unescape(re.sub(r"</?font[^>]*>", "", paragraph_markup(text)))
    for shown in (html.unescape(cell_markup(CellText(text))), pdf_text):
        assert len(shown) == len(text)
        assert not CONTROLLED & set(shown)
        assert all(s == t for s, t in zip(shown, text, strict=True) if t not in CONTROLLED)
