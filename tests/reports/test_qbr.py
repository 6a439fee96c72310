"""The QBR on the hand-computed book of tests/metrics/test_figures.py (2026-Q3 against 2026-Q2)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cosell.errors import UsageError
from cosell.policy import Policy
from cosell.report_model import Report, Section
from cosell.reports.cfo import build_cfo
from cosell.reports.qbr import build_qbr
from cosell.store.workspace import Workspace
from metrics.metrics_support import AS_OF, Book, quarter_book, t


@pytest.fixture(scope="module")
def ws() -> Workspace:
    book = quarter_book()
    book.rows(
        "leads",
        {"lead_id": "L1", "created_at": t("2026-07-02"), "partner_id": "P1"},
        {"lead_id": "L2", "created_at": t("2026-05-02"), "partner_id": "P1"},
        {"lead_id": "L3", "created_at": t("2026-05-03"), "partner_id": "P2"},
    )
    book.rows("users", {"user_id": "U1", "name": "Ann", "role": "ae"})
    book.rows(
        "field_history",
        {"opportunity_id": "S1", "field": "partner_source", "new_value": "sourced", "changed_at": t("2026-07-06"),
         "changed_by": "U1"},
    )  # fmt: skip
    book.rows(
        "touches",
        *(
            {"touch_id": f"T{i}", "occurred_at": t(f"2026-0{7 + i % 3}-10"), "account_id": "A1", "actor": "partner",
             "kind": "joint_call", "partner_id": "P1" if i < 4 else "P2"}
            for i in range(6)
        ),
    )  # fmt: skip
    return book.save()


def section(report: Report, key: str) -> Section:
    return next(s for s in report.sections if s.key == key)


def test_sections_in_order(ws: Workspace) -> None:
    report = build_qbr(ws.con, Policy(), "2026-Q3", AS_OF)
    assert [s.key for s in report.sections] == [
        "headline",
        "pipeline",
        "revenue",
        "economics",
        "leading",
        "investment",
    ]
    assert report.title == "Partner program quarterly business review, 2026-Q3"


def test_pipeline_and_revenue_by_tier_against_the_prior_quarter(ws: Workspace) -> None:
    report = build_qbr(ws.con, Policy(), "2026-Q3", AS_OF)
    pipeline = section(report, "pipeline").table
    assert pipeline is not None
    rows = {r["tier"]: r for r in pipeline.rows}
    assert rows["Sourced"]["amount"] == Decimal("16000.00") and rows["Sourced"]["prior_amount"] == Decimal(
        "8400.00"
    )
    assert rows["Total"]["amount"] == Decimal("28270.01") and rows["Total"]["deals"] == 10
    assert rows["Total"]["share"] == Decimal("1.000000")
    revenue = section(report, "revenue").table
    assert revenue is not None
    rows = {r["tier"]: r for r in revenue.rows}
    # Nothing was won in 2026-Q2: no change in percent (no division by zero), the change in money.
    assert rows["Sourced"]["amount"] == Decimal("18800.00") and rows["Sourced"]["prior_amount"] == Decimal(0)
    assert rows["Sourced"]["change"] == Decimal("18800.00") and rows["Sourced"]["change_pct"] is None
    assert rows["Total"]["amount"] == Decimal("29570.01")
    chart = section(report, "revenue").charts[0]
    assert [s.name for s in chart.series] == ["2026-Q3", "2026-Q2"]


def test_economics_leading_indicators_and_the_investment_ask(ws: Workspace) -> None:
    report = build_qbr(ws.con, Policy(), "2026-Q3", AS_OF)
    economics = section(report, "economics")
    head = economics.figures[0]
    assert head.key == "cost_per_partner_sourced_dollar" and head.value == Decimal("0.2234")
    assert economics.table is not None
    assert [(r["category"], r["amount"]) for r in economics.table.rows] == [
        ("program: headcount", Decimal("3000.00")),
        ("program: incentives", Decimal("700.00")),
        ("program: tech", Decimal("500.00")),
        ("direct", Decimal("6000.00")),
    ]
    leading = {f.key: f for f in section(report, "leading").figures}
    assert leading["new_partner_leads"].value == 1
    assert leading["new_partner_leads"].beside[0].value == 2
    # 10 deals closed in Q3; only S1's partner_source was confirmed by a rep before close.
    assert (leading["ae_adoption_rate"].value, leading["ae_adoption_rate"].deals) == (Decimal("0.100000"), 10)
    # 6 touches by 2 partners over 3 months: 1 touch per partner per month.
    assert leading["partner_engagement_frequency"].value == Decimal("1.0000")
    investment = {f.key: f for f in section(report, "investment").figures}
    assert investment["added_program_spend"].value == Decimal("420.00")  # 10% of 4,200
    # 420 / (4,200 / 23,070.01): revenue at the measured cost per partner dollar.
    assert investment["expected_partner_revenue"].value == Decimal("2307.00")
    assert investment["expected_partner_revenue"].beside[0].value == Decimal("1880.00")
    assert (
        "Assumption: an added 10% of 2026-Q3's program cost (420.00 USD)"
        in section(report, "investment").notes[0]
    )


def test_without_field_history_adoption_is_not_measurable() -> None:
    ws = quarter_book().save()
    report = build_qbr(ws.con, Policy(), "2026-Q3", AS_OF)
    adoption = next(f for f in section(report, "leading").figures if f.key == "ae_adoption_rate")
    assert adoption.value is None
    assert adoption.note == "not measurable: the workspace has no field_history"


def test_a_month_is_not_a_quarter(ws: Workspace) -> None:
    with pytest.raises(UsageError, match="--quarter: '2026-08' is a month"):
        build_qbr(ws.con, Policy(), "2026-08", AS_OF)
    with pytest.raises(UsageError, match="--quarter: 'Q3' is not a period"):
        build_qbr(ws.con, Policy(), "Q3", AS_OF)


def test_a_rise_from_a_negative_prior_quarter_is_a_positive_change() -> None:
    # A credit (a -1,000.00 deal) was the prior quarter's whole pipeline and revenue; 500.00 this
    # quarter is a rise of 1,500.00, which the QBR printed as a change of -150% (the change over the
    # negative prior). Now it is over the size of the prior: +150% (found by fuzzing reports).
    ws = (
        Book()
        .won("C1", "2026-05-04", "2026-05-20", "-1000.00")
        .won("D1", "2026-07-06", "2026-07-20", "500.00")
        .save()
    )
    report = build_qbr(ws.con, Policy(), "2026-Q3", AS_OF)
    for key in ("pipeline", "revenue"):
        table = section(report, key).table
        assert table is not None
        rows = {r["tier"]: r for r in table.rows}
        for tier in ("None", "Total"):
            assert (rows[tier]["prior_amount"], rows[tier]["amount"]) == (
                Decimal("-1000.00"),
                Decimal("500.00"),
            )
            assert rows[tier]["change"] == Decimal("1500.00")
            assert rows[tier]["change_pct"] == Decimal("1.500000"), (key, tier)


def test_a_program_cost_recorded_as_zero_is_not_called_unrecorded() -> None:
    # Cost rows of 0.00 for the quarter: the economics showed "Fully-loaded program cost 0.00" and
    # the investment ask said "no program costs recorded for 2026-Q3" beside it (found by fuzzing reports).
    ws = (
        Book()
        .won("S1", "2026-07-01", "2026-07-31", "1000.00", "sourced")
        .rows("program_costs", {"cost_id": "C1", "period": "2026-Q3", "category": "headcount", "amount": "0"})
        .save()
    )
    report = build_qbr(ws.con, Policy(), "2026-Q3", AS_OF)
    cost = next(f for f in section(report, "economics").figures[0].beside if f.key == "program_cost")
    assert cost.value == Decimal("0.00")
    ask = {f.key: f for f in section(report, "investment").figures}
    assert ask["added_program_spend"].value is None
    assert ask["added_program_spend"].note == "the program cost of 2026-Q3 is 0: 10% of it adds nothing"


def test_the_conversion_note_names_the_minor_unit_of_the_workspace_currency() -> None:
    # The by-tier sections said every amount was "rounded to the cent" also in a JPY workspace
    # (rounded to the yen) and a KWD one (to 0.001 dinar). The note now names the currency's own
    # minor unit (found by fuzzing the QBR in JPY and KWD).
    ws = (
        Book()
        .won("W1", "2026-07-01", "2026-07-31", "1000", "sourced", currency="JPY")
        .fx("JPY", "2026-Q3", "0.0067")
        .save()
    )
    notes = {}
    for currency, unit in (("USD", "the cent"), ("JPY", "the whole JPY"), ("KWD", "the 0.001 KWD")):
        policy = Policy().with_values(workspace_currency=currency)
        for report in (
            build_qbr(ws.con, policy, "2026-Q3", AS_OF),
            build_cfo(ws.con, policy, "2026-Q3", AS_OF),
        ):
            sections = {s.key: s for s in report.sections}
            for key in ("pipeline", "revenue"):
                (note,) = sections[key].notes
                assert f"rounded to {unit}" in note, note
                notes[currency] = note
    assert "cent" not in notes["JPY"] + notes["KWD"]
