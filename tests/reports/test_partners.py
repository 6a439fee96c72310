"""The partner league table: credited revenue by tier in workspace currency, win rate, cycle."""

from __future__ import annotations

from decimal import Decimal

from cosell.policy import Policy
from cosell.reports.cfo import build_cfo
from cosell.reports.partners import build_partners
from metrics.metrics_support import AS_OF, Book, one_sourced_win


def test_league_rows_by_hand() -> None:
    ws = (
        Book()
        .won("S1", "2026-07-01", "2026-07-31", "1000.00", "sourced",
             credits=(("P1", "sourcer", "0.800000", "800.00"), ("P2", "influencer", "0.200000", "200.00")))
        .won("A1", "2026-07-01", "2026-08-20", "500.00", "accelerated", currency="EUR",
             credits=(("P2", "influencer", "1.000000", "500.00"),))
        .won("I3", "2026-07-10", "2026-08-10", "99.99", "influenced", credits=(("P3", "influencer", "1.000000", "99.99"),))
        .lost("I1", "2026-07-01", "2026-09-01", "300.00", "influenced", credits=(("P1", "influencer", "1.000000", "300.00"),))
        .won("N1", "2026-07-01", "2026-09-01", "700.00")
        .fx("EUR", "2026-Q3", "1.2")
        .rows("partners", {"partner_id": "P1", "name": "Acme", "partner_type": "referral", "program_tier": "gold"},
              {"partner_id": "P2", "name": "Bolt", "partner_type": "co_sell"},
              {"partner_id": "P3", "name": "=HYPERLINK(\"x\")", "partner_type": "agency"})
        .save()
    )  # fmt: skip
    report = build_partners(ws.con, Policy(), None, AS_OF)
    assert report.key == "partners" and [s.key for s in report.sections] == ["league"]
    league = report.sections[0]
    assert league.table is not None
    rows = [
        (r["rank"], r["partner_id"], r["partner"], r["sourced_revenue"], r["accelerated_revenue"],
         r["influenced_revenue"], r["credited_revenue"], r["won"], r["lost"], r["win_rate"], r["median_cycle_days"],
         r["credited_deals"])
        for r in league.table.rows
    ]  # fmt: skip
    assert rows == [
        (1, "P1", "Acme", Decimal("800.00"), Decimal("0.00"), Decimal("0.00"), Decimal("800.00"), 1, 1,
         Decimal("0.500000"), Decimal("30.000000"), 2),
        (2, "P2", "Bolt", Decimal("200.00"), Decimal("600.00"), Decimal("0.00"), Decimal("800.00"), 2, 0,
         Decimal("1.000000"), Decimal("40.000000"), 2),
        (3, "P3", '=HYPERLINK("x")', Decimal("0.00"), Decimal("0.00"), Decimal("99.99"), Decimal("99.99"), 1, 0,
         Decimal("1.000000"), Decimal("31.000000"), 1),
    ]  # fmt: skip
    figures = {f.key: f.value for f in league.figures}
    assert figures == {"partners_credited": Decimal(3), "credited_revenue": Decimal("1699.99")}
    chart = league.charts[0]
    assert chart.categories == ("Acme", "Bolt", '=HYPERLINK("x")')
    assert [s.name for s in chart.series] == ["Sourced", "Accelerated", "Influenced"]


def test_a_period_without_credits_has_an_empty_table_and_says_so() -> None:
    ws = Book().won("N1", "2026-07-01", "2026-09-01", "700.00").save()
    report = build_partners(ws.con, Policy(), "2026-08", AS_OF)
    league = report.sections[0]
    assert league.table is not None and league.table.rows == ()
    assert league.charts == ()
    assert league.figures[1].note == "no partner credits on deals closed in 2026-08"


def test_league_total_is_the_cfo_partner_revenue_to_the_cent() -> None:
    """A deal split three ways and converted: per credit, 3,333.34 / 3,333.33 / 3,333.33 EUR at 1.0875
    round to 3,625.01 + 3,625.00 + 3,625.00 = 10,875.01; the deal converted once is 10,875.00, and
    that is what the CFO report counts. The league splits the 10,875.00 (largest remainder:
    1,087,500 cents x 0.333334 = 362,500.725 and x 0.333333 = 362,499.6375, floors add up to
    1,087,498, the two cents left go to the largest remainder, then to the larger role weight)."""
    credits = (("P1", "sourcer", "0.333334", "3333.34"), ("P2", "co_seller", "0.333333", "3333.33"),
               ("P3", "influencer", "0.333333", "3333.33"))  # fmt: skip
    ws = (
        Book()
        .won("S1", "2026-07-01", "2026-08-10", "10000.00", "sourced", currency="EUR", credits=credits)
        .won("I1", "2026-07-01", "2026-08-12", "250.00", "influenced",
             credits=(("P2", "influencer", "0.500000", "125.00"), ("P3", "influencer", "0.500000", "125.00")))
        .fx("EUR", "2026-Q3", "1.0875")
        .save()
    )  # fmt: skip
    league = build_partners(ws.con, Policy(), "2026-Q3", AS_OF).sections[0]
    assert league.table is not None
    credited = {r["partner_id"]: r["credited_revenue"] for r in league.table.rows}
    assert credited == {"P1": Decimal("3625.01"), "P2": Decimal("3750.00"), "P3": Decimal("3749.99")}
    total = {f.key: f.value for f in league.figures}["credited_revenue"]
    cfo = build_cfo(ws.con, Policy(), "2026-Q3", AS_OF)
    revenue = next(s for s in cfo.sections if s.key == "revenue")
    assert revenue.table is not None
    q3 = next(r for r in revenue.table.rows if r["quarter"] == "2026-Q3")
    partner_revenue = sum((q3[t] for t in ("sourced", "accelerated", "influenced")), Decimal(0))
    assert total == partner_revenue == Decimal("11125.00")


def test_a_league_of_one_partner_says_partner_in_the_singular() -> None:
    # The chart of a league of one partner was titled "Credited closed-won revenue, top 1 partners".
    ws = one_sourced_win().save()
    report = build_partners(ws.con, Policy(), "2026-Q3", AS_OF)
    titles = [chart.title for section in report.sections for chart in section.charts]
    assert titles == ["Credited closed-won revenue, top 1 partner"]
