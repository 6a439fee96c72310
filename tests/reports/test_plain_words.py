"""What a CFO reads: no references to cosell's own specification, instants to the second."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from cosell import clock
from cosell.policy import Policy
from cosell.reports.cfo import build_cfo
from cosell.reports.model import Report
from cosell.reports.partners import build_partners
from cosell.reports.qbr import build_qbr
from cosell.reports.render import render
from metrics.metrics_support import AS_OF, quarter_book

# The attribution run was recorded, and "now" read, at instants with a fraction of a second.
RUN_AT = datetime(2026, 10, 31, 23, 4, 5, 678901, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 10, 15, 30, 123456, tzinfo=UTC)


def _reports(as_of: datetime | None) -> list[Report]:
    ws = quarter_book().save(run_at=RUN_AT)
    policy = Policy()
    with clock.pinned(NOW):
        return [build_cfo(ws.con, policy, None, as_of), build_qbr(ws.con, policy, None, as_of),
                build_partners(ws.con, policy, None, as_of)]  # fmt: skip


def _texts(report: Report) -> dict[str, str]:
    return {fmt: render(report, fmt).decode() for fmt in ("table", "json", "csv", "html")}


def test_no_format_cites_the_specification() -> None:
    for report in _reports(AS_OF):
        for fmt, text in _texts(report).items():
            assert "SPEC" not in text and "specification" not in text, (report.key, fmt)


def test_instants_are_printed_to_the_second_and_json_keeps_iso_8601() -> None:
    for report in _reports(None):
        facts = dict(report.facts)
        assert facts["As of"] == "2026-11-20 10:15:30 UTC (now)"
        assert "made 2026-10-31 23:04:05 UTC" in facts["Attribution"]
        assert report.subtitle.endswith("as of 2026-11-20 10:15:30 UTC (now)")
        for fmt, text in _texts(report).items():
            assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d", text), (report.key, fmt)
        assert json.loads(render(report, "json"))["as_of"] == "2026-11-20T10:15:30Z"
    for report in _reports(AS_OF):
        assert dict(report.facts)["As of"] == "2026-11-01 00:00:00 UTC"
        assert json.loads(render(report, "json"))["as_of"] == "2026-11-01T00:00:00Z"


def test_amounts_in_notes_have_thousands_separators() -> None:
    ws = quarter_book().program_cost("2026-07", "events", "45800").save()
    report = build_qbr(ws.con, Policy(), "2026-Q3", AS_OF)
    investment = next(s for s in report.sections if s.key == "investment")
    # 10% of 4,200 + 45,800 = 5,000.00
    assert "program cost (5,000.00 USD) returns" in investment.notes[0]
