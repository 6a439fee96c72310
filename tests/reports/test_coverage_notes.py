"""A report for a period that has not ended, or lies beyond the data, says so in every format."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from cosell.policy import Policy
from cosell.reports.cfo import build_cfo
from cosell.reports.model import Report
from cosell.reports.partners import build_partners
from cosell.reports.qbr import build_qbr
from cosell.reports.render import render
from metrics.metrics_support import AS_OF, quarter_book

from .conftest import OpenedPage, RenderedPdf

# The book's newest deal event is N4's close, 2026-10-01 00:00 UTC; the as-of instant 2026-11-01.
NOT_ENDED = (
    "2026-Q4 has not ended at the as-of instant (2026-11-01 00:00:00 UTC): its figures cover "
    "2026-10-01 to 2026-11-01 00:00:00 UTC only and will change. The data ends before that: the newest "
    "deal in the data was created or closed 2026-10-01 00:00:00 UTC."
)
BEYOND = (
    "2026-11 lies beyond the data: the newest deal in the data was created or closed "
    "2026-10-01 00:00:00 UTC, before 2026-11 began."
)


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    ws = quarter_book().save()
    policy = Policy()
    later = datetime(2027, 2, 1, tzinfo=UTC)
    return {
        "cfo": build_cfo(ws.con, policy, "2026-Q4", AS_OF),
        "qbr": build_qbr(ws.con, policy, "2026-Q4", AS_OF),
        "partners": build_partners(ws.con, policy, "2026-11", later),
        "complete": build_cfo(ws.con, policy, "2026-Q3", AS_OF),
        "month": build_cfo(ws.con, policy, "2026-10", AS_OF),
    }


def test_json_has_the_coverage_field(reports: dict[str, Report]) -> None:
    cfo = json.loads(render(reports["cfo"], "json"))["coverage"]
    assert cfo == {
        "period": "2026-Q4", "start": "2026-10-01T00:00:00Z", "end": "2027-01-01T00:00:00Z", "ended": False,
        "data_until": "2026-10-01T00:00:00Z", "complete": False, "note": NOT_ENDED,
    }  # fmt: skip
    assert json.loads(render(reports["qbr"], "json"))["coverage"]["note"] == NOT_ENDED
    partners = json.loads(render(reports["partners"], "json"))["coverage"]
    assert (partners["ended"], partners["complete"], partners["note"]) == (True, False, BEYOND)
    complete = json.loads(render(reports["complete"], "json"))["coverage"]
    assert (complete["ended"], complete["complete"], complete["note"]) == (True, True, "")


def test_table_csv_and_xlsx_print_the_note(reports: dict[str, Report], tmp_path: Path) -> None:
    for key, note in (("cfo", NOT_ENDED), ("qbr", NOT_ENDED), ("partners", BEYOND)):
        text = " ".join(render(reports[key], "table").decode().split())
        assert f"Note: {note}" in text, key
        rows = list(csv.reader(io.StringIO(render(reports[key], "csv").decode())))
        assert ["report", "coverage", note] in rows, key
        path = tmp_path / f"{key}.xlsx"
        path.write_bytes(render(reports[key], "xlsx"))
        cover = openpyxl.load_workbook(path)["report"]
        assert ("Note", note) in [(r[0].value, r[1].value) for r in cover.iter_rows()], key
    for fmt in ("table", "csv", "html"):
        assert "Note:" not in render(reports["complete"], fmt).decode().replace("note", ""), fmt


def test_a_month_report_notes_its_quarter_has_not_ended(reports: dict[str, Report]) -> None:
    month = reports["month"]
    assert month.coverage is not None and (month.coverage.ended, month.coverage.complete) == (True, False)
    assert month.coverage.note == (
        "The data ends within 2026-10: the newest deal in the data was created or closed "
        "2026-10-01 00:00:00 UTC; its figures cover 2026-10 up to then."
    )
    trend = next(s for s in month.sections if s.key == "trend")
    assert trend.notes[-1] == NOT_ENDED  # the trend's last quarter is 2026-Q4
    complete = next(s for s in reports["complete"].sections if s.key == "trend")
    assert len(complete.notes) == 1


def test_html_in_the_browser_and_pdf_show_the_note(
    reports: dict[str, Report],
    open_html: Callable[[str], OpenedPage],
    rasterize_pdf: Callable[[bytes], RenderedPdf],
) -> None:
    opened = open_html(render(reports["cfo"], "html").decode())
    notice = opened.page.locator("p.coverage")
    assert notice.count() == 1 and notice.is_visible()
    assert " ".join(notice.inner_text().split()) == f"Note: {NOT_ENDED}"
    assert opened.page.locator("p.coverage").count() == 1
    pdf = rasterize_pdf(render(reports["cfo"], "pdf"))
    assert f"Note: {NOT_ENDED}" in " ".join(pdf.page_texts[0].split())
    complete = open_html(render(reports["complete"], "html").decode())
    assert complete.page.locator("p.coverage").count() == 0
