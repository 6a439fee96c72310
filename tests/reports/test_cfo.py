"""The CFO dashboard on the hand-computed book of tests/metrics/test_figures.py."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from cosell.errors import NotFound
from cosell.policy import Policy
from cosell.reports.cfo import build_cfo
from cosell.reports.model import Figure, Report, Section
from cosell.reports.render import render
from cosell.store.workspace import Workspace, open_workspace
from metrics.metrics_support import AS_OF, Deal, attribute, quarter_book, revise

LATER = AS_OF + timedelta(days=3)


@pytest.fixture
def ws() -> Workspace:
    return quarter_book().save()


def section(report: Report, key: str) -> Section:
    return next(s for s in report.sections if s.key == key)


def figure(report: Report, key: str) -> Figure:
    def walk(figures: tuple[Figure, ...]) -> Figure | None:
        for f in figures:
            if f.key == key:
                return f
            found = walk(f.beside)
            if found:
                return found
        return None

    found = walk(section(report, "headline").figures)
    assert found is not None, key
    return found


def test_sections_and_the_four_numbers(ws: Workspace) -> None:
    report = build_cfo(ws.con, Policy(), None, AS_OF)
    assert report.key == "cfo"
    assert [s.key for s in report.sections] == ["headline", "trend", "pipeline", "revenue", "cycle"]
    assert [f.key for f in section(report, "headline").figures] == [
        "sourced_pipeline",
        "influenced_win_rate",
        "cycle_reduction_days",
        "cost_per_partner_sourced_dollar",
    ]
    # The default period is the last complete fiscal quarter before the as-of instant.
    assert dict(report.facts)["Period"] == "2026-Q3 (2026-07-01 to 2026-09-30)"
    assert figure(report, "sourced_pipeline").value == Decimal("16000.00")
    assert figure(report, "sourced_pipeline_share").verdict == "above"
    assert figure(report, "influenced_revenue_share").verdict == "below"
    assert figure(report, "cycle_reduction_pct").verdict == "within"
    assert figure(report, "cost_saving").verdict == "above"
    # Each headline figure's benchmark is on its first beside figure.
    assert [f.beside[0].band is not None for f in section(report, "headline").figures] == [True] * 4


def test_trend_pipeline_revenue_and_cycle_per_quarter(ws: Workspace) -> None:
    report = build_cfo(ws.con, Policy(), "2026-Q3", AS_OF)
    trend = section(report, "trend")
    assert trend.table is not None
    quarters = [r["quarter"] for r in trend.table.rows]
    assert quarters == [
        "2024-Q4",
        "2025-Q1",
        "2025-Q2",
        "2025-Q3",
        "2025-Q4",
        "2026-Q1",
        "2026-Q2",
        "2026-Q3",
    ]
    q3 = trend.table.rows[-1]
    assert (q3["sourced_pipeline"], q3["cycle_reduction_pct"]) == (Decimal("16000.00"), Decimal("0.300000"))
    assert trend.table.rows[0]["sourced_pipeline"] is None  # no deals then: no value, never 0
    assert [c.key for c in trend.charts] == [
        "trend_sourced_pipeline_share",
        "trend_influenced_revenue_share",
        "trend_cycle_reduction_pct",
        "trend_cost_saving",
    ]
    assert all(c.kind == "line" and len(c.bands) == 1 for c in trend.charts)
    pipeline = section(report, "pipeline")
    assert pipeline.table is not None
    q2_row, q3_row = pipeline.table.rows[-2], pipeline.table.rows[-1]
    assert q2_row == {
        "quarter": "2026-Q2",
        "sourced": Decimal("8400.00"),
        "accelerated": Decimal(0),
        "influenced": Decimal(0),
        "none": Decimal("2000.00"),
        "total": Decimal("10400.00"),
        "deals": 2,
    }
    assert q3_row["total"] == Decimal("28270.01")
    for kind in ("pipeline", "revenue"):
        table = section(report, kind).table
        assert table is not None
        for row in table.rows:
            parts = sum((row[t] for t in ("sourced", "accelerated", "influenced", "none")), Decimal(0))  # type: ignore[misc]
            assert parts == row["total"]
    revenue = section(report, "revenue").table
    assert revenue is not None and revenue.rows[-1]["sourced"] == Decimal("18800.00")
    assert section(report, "pipeline").charts[0].kind == "stacked"
    cycle = section(report, "cycle")
    assert cycle.table is not None
    assert cycle.table.rows[-1]["partner_median_days"] == Decimal("35.000000")
    assert cycle.table.rows[-1]["direct_won"] == 2
    assert [s.name for s in cycle.charts[0].series] == ["Partner-attributed", "Direct-only"]


def test_a_month_period_and_its_quarter_trend(ws: Workspace) -> None:
    report = build_cfo(ws.con, Policy(), "2026-08", AS_OF)
    assert figure(report, "program_cost").value == Decimal("500.00")
    trend = section(report, "trend").table
    assert trend is not None and trend.rows[-1]["quarter"] == "2026-Q3"


def test_a_month_period_has_pipeline_and_revenue_by_tier_per_month(ws: Workspace) -> None:
    """The book by hand (tests/metrics/test_figures.py): created in August, S2 5,000.00 EUR at Q3's
    1.20 (no August rate) = 6,000.00 sourced and I2 100,001 JPY at 0.0067 = 670.01 influenced; won
    in August, S1 10,000.00 USD sourced. July: S1 10,000.00, A1 3,000.00 EUR at July's 1.10, I1
    2,000.00, N1 + N2 + N5 + N3 = 5,600.00."""
    report = build_cfo(ws.con, Policy(), "2026-08", AS_OF)
    pipeline, revenue = section(report, "pipeline"), section(report, "revenue")
    assert pipeline.table is not None and revenue.table is not None
    assert pipeline.table.columns[0].key == "month"
    assert [r["month"] for r in pipeline.table.rows] == [
        "2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02",
        "2026-03", "2026-04", "2026-05", "2026-06", "2026-07", "2026-08",
    ]  # fmt: skip
    zero = Decimal("0.00")
    assert pipeline.table.rows[-1] == {
        "month": "2026-08", "sourced": Decimal("6000.00"), "accelerated": zero, "influenced": Decimal("670.01"),
        "none": zero, "total": Decimal("6670.01"), "deals": 2,
    }  # fmt: skip
    assert pipeline.table.rows[-2] == {
        "month": "2026-07", "sourced": Decimal("10000.00"), "accelerated": Decimal("3300.00"),
        "influenced": Decimal("2000.00"), "none": Decimal("5600.00"), "total": Decimal("20900.00"), "deals": 7,
    }  # fmt: skip
    assert revenue.table.rows[-1] == {
        "month": "2026-08", "sourced": Decimal("10000.00"), "accelerated": zero, "influenced": zero,
        "none": zero, "total": Decimal("10000.00"), "deals": 1,
    }  # fmt: skip
    for table in (pipeline.table, revenue.table):
        for row in table.rows:
            parts = sum((row[t] for t in ("sourced", "accelerated", "influenced", "none")), Decimal(0))  # type: ignore[misc]
            assert parts == row["total"]
    assert pipeline.charts[0].categories[-1] == "2026-08" and pipeline.title.endswith("per month")
    # The three months of a quarter add up to the quarter's row, tier by tier.
    quarter = section(build_cfo(ws.con, Policy(), "2026-Q3", AS_OF), "pipeline").table
    september = section(build_cfo(ws.con, Policy(), "2026-09", AS_OF), "pipeline").table
    assert quarter is not None and september is not None
    months = september.rows[-3:]
    for key in ("sourced", "accelerated", "influenced", "none", "total", "deals"):
        assert sum(r[key] for r in months) == quarter.rows[-1][key]  # type: ignore[misc]


def test_as_of_reads_what_was_known_then_byte_for_byte(ws: Workspace) -> None:
    before = {fmt: render(build_cfo(ws.con, Policy(), None, AS_OF), fmt) for fmt in ("json", "csv", "xlsx")}
    # Later: S1 is re-decided as none, A1's amount changes, and a new deal arrives.
    attribute(ws, [Deal("S1", "2026-07-05", "10000.00", tier="none")], run_at=LATER)
    revise(ws, "opportunities", {"opportunity_id": "A1"}, {"amount": Decimal("9999.00")}, LATER)
    after = {fmt: render(build_cfo(ws.con, Policy(), None, AS_OF), fmt) for fmt in ("json", "csv", "xlsx")}
    assert after == before
    now = build_cfo(ws.con, Policy(), "2026-Q3", LATER)
    assert figure(now, "sourced_pipeline").value == Decimal("6000.00")
    assert figure(now, "total_pipeline").value == Decimal("28270.01") + (
        Decimal("9999.00") - Decimal("3000.00")
    ) * Decimal("1.10")


def test_without_any_attribution_the_report_says_what_to_run() -> None:
    with pytest.raises(NotFound, match="run `cosell attribute` first"):
        build_cfo(open_workspace(":memory:").con, Policy(), None, AS_OF)
