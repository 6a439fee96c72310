"""A hand-made :class:`~cosell.report_model.Report` with every kind of section, for tests and previews.

It is shaped like the CFO dashboard (the four numbers with their benchmark bands and verdicts) followed
by QBR-like sections, and carries the awkward cases a renderer must get right: a figure with no deals
(``None`` with its note), gaps in chart series, negative values, text that must be escaped, and an
optional long table that runs over several pages.

Its four headline values, as every format must print them, are :data:`HEADLINE_TEXTS`.

Preview it::

    python -c "from cosell.reports.samples import sample_report; from cosell.reports.html import \\
    render_html; open('sample.html', 'w').write(render_html(sample_report()))"
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

from cosell.report_model import Band, Chart, Column, Figure, Report, Section, Series, Table, Value

QUARTERS = ("2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3")
TIERS = ("sourced", "accelerated", "influenced", "none")

# The four headline numbers of the sample as every format prints them (money: USD, 2 decimals).
HEADLINE_TEXTS = ("4,812,330.50 USD", "41.7%", "18.3 days", "0.1234")
CHART_TITLES = (
    "Pipeline created by tier",
    "Revenue closed by tier",
    "Cycle time, partner vs direct",
    "Sourced and influenced shares against their benchmarks",
    "Cost saving against its benchmark",
)
# Text a renderer must escape: it is printed literally, never interpreted.
HOSTILE_TEXT = '<script>alert("x")</script> & Söhne'


def _headline() -> Section:
    sourced_share = Figure(
        key="partner_sourced_share",
        label="Share of all pipeline",
        value=D("0.2134"),
        unit="percent",
        deals=1931,
        deals_label="deals created",
        band=Band(D("0.15"), D("0.25"), "published partner-program benchmarks"),
        verdict="within",
    )
    influenced_share = Figure(
        key="influenced_share_of_closed_won",
        label="Influenced share of closed-won revenue",
        value=D("0.3812"),
        unit="percent",
        deals=97,
        deals_label="won deals",
        band=Band(D("0.20"), D("0.35")),
        verdict="above",
    )
    direct_rate = Figure(
        key="direct_win_rate",
        label="Direct-only win rate",
        value=D("0.3125"),
        unit="percent",
        deals=80,
        deals_label="won + lost",
    )
    cycle_percent = Figure(
        key="cycle_reduction_percent",
        label="Faster than direct",
        value=D("0.2290"),
        unit="percent",
        band=Band(D("0.25"), D("0.40")),
        verdict="below",
    )
    saving = Figure(
        key="saving",
        label="Saving against direct",
        value=D("0.4260"),
        unit="percent",
        band=Band(D("0.40"), D("0.60")),
        verdict="within",
    )
    figures = (
        Figure(
            key="partner_sourced_pipeline",
            label="Partner-sourced pipeline",
            value=D("4812330.50"),
            unit="money",
            deals=412,
            deals_label="sourced deals created",
            beside=(sourced_share,),
        ),
        Figure(
            key="partner_influenced_win_rate",
            label="Partner-influenced win rate",
            value=D("0.41666"),
            unit="percent",
            deals=120,
            deals_label="won + lost",
            beside=(direct_rate, influenced_share),
        ),
        Figure(
            key="cycle_reduction_days",
            label="Cycle reduction",
            value=D("18.25"),  # half away from zero: 18.3 (half-even would print 18.2)
            unit="days",
            deals=9,
            deals_label="partner won deals (direct: 61)",
            note="only 9 partner deals: treat with care",
            beside=(cycle_percent,),
        ),
        Figure(
            key="cost_per_partner_sourced_dollar",
            label="Cost per partner-sourced dollar",
            value=D("0.12344"),
            unit="ratio",
            deals=31,
            deals_label="sourced won deals",
            beside=(
                Figure(
                    key="cost_per_partner_dollar",
                    label="Cost per partner dollar",
                    value=D("0.0876"),
                    unit="ratio",
                ),
                Figure(
                    key="direct_cost_per_dollar",
                    label="Direct cost per dollar",
                    value=D("0.1526"),
                    unit="ratio",
                ),
                saving,
            ),
        ),
    )
    return Section(
        key="headline",
        title="The four numbers",
        figures=figures,
        notes=("Program incentives for 2026-Q3 are the partner payouts posted in the ledger.",),
    )


def _pipeline() -> Section:
    amounts = {
        "sourced": (D("1020500.00"), D("1180250.25"), None, D("1312004.10")),
        "accelerated": (D("410000.00"), D("385120.00"), D("402777.77"), D("455000.00")),
        "influenced": (D("880300.50"), D("912000.00"), D("1001000.01"), D("964500.00")),
        "none": (D("2901000.00"), D("3010550.75"), D("2870000.00"), D("3166826.40")),
    }
    rows: list[dict[str, Value]] = []
    for i, quarter in enumerate(QUARTERS):
        row: dict[str, Value] = {"quarter": quarter}
        total = D(0)
        for tier in TIERS:
            row[tier] = amounts[tier][i]
            total += amounts[tier][i] or D(0)
        row["total"] = total
        rows.append(row)
    table = Table(
        columns=(
            Column("quarter", "Quarter"),
            *(Column(t, t.capitalize(), "money") for t in TIERS),
            Column("total", "Total", "money"),
        ),
        rows=tuple(rows),
    )
    chart = Chart(
        key="pipeline_by_tier",
        title=CHART_TITLES[0],
        kind="stacked",
        categories=QUARTERS,
        series=tuple(Series(t.capitalize(), amounts[t]) for t in TIERS),
        unit="money",
        y_label="Pipeline created",
    )
    return Section(
        key="pipeline_by_tier",
        title="Pipeline created by tier",
        table=table,
        charts=(chart,),
        notes=("2026-Q2 sourced pipeline is missing: no rate for BRL in 2026-Q2 was imported.",),
    )


def _revenue() -> Section:
    current = (D("812000.00"), D("301500.00"), D("640250.50"), D("1990100.00"))
    prior = (D("700400.00"), D("350000.00"), D("598000.00"), D("2100000.00"))
    chart = Chart(
        key="revenue_by_tier",
        title=CHART_TITLES[1],
        kind="bar",
        categories=tuple(t.capitalize() for t in TIERS),
        series=(Series("2026-Q2", prior), Series("2026-Q3", current)),
        unit="money",
        y_label="Closed-won revenue",
    )
    rows: tuple[dict[str, Value], ...] = tuple(
        {"tier": t.capitalize(), "current": c, "prior": p, "change": c - p}
        for t, c, p in zip(TIERS, current, prior, strict=True)
    )
    table = Table(
        columns=(
            Column("tier", "Tier"),
            Column("prior", "2026-Q2", "money"),
            Column("current", "2026-Q3", "money"),
            Column("change", "Change", "money"),
        ),
        rows=rows,
    )
    return Section(key="revenue_by_tier", title="Revenue closed by tier", table=table, charts=(chart,))


def _cycle() -> Section:
    chart = Chart(
        key="cycle_time",
        title=CHART_TITLES[2],
        kind="bar",
        categories=QUARTERS,
        series=(
            Series("Partner", (D("61.5"), None, D("58.25"), D("62.1"))),
            Series("Direct", (D("80.0"), D("79.5"), D("81.75"), D("80.45"))),
        ),
        unit="days",
        y_label="Median days to close",
    )
    return Section(
        key="cycle_time",
        title="Cycle time",
        figures=(
            Figure(
                key="partner_median_days",
                label="Partner median cycle, 2026-Q1",
                value=None,
                unit="days",
                deals=0,
                deals_label="partner won deals",
                note="no partner deals won in 2026-Q1",
            ),
        ),
        charts=(chart,),
    )


def _trend() -> Section:
    sourced = Series("Sourced share of pipeline", (D("0.1810"), D("0.1902"), None, D("0.2134")))
    influenced = Series(
        "Influenced share of closed-won", (D("0.2405"), D("0.3010"), D("0.3320"), D("0.3812"))
    )
    saving = Series("Saving against direct", (D("0.3100"), D("0.3550"), D("0.4020"), D("0.4260")))
    return Section(
        key="trend",
        title="The four numbers over time",
        charts=(
            Chart(
                key="trend_shares",
                title=CHART_TITLES[3],
                kind="line",
                categories=QUARTERS,
                series=(sourced, influenced),
                unit="percent",
                bands=(
                    ("Sourced share of pipeline", Band(D("0.15"), D("0.25"))),
                    ("Influenced share of closed-won", Band(D("0.20"), D("0.35"))),
                ),
            ),
            Chart(
                key="trend_saving",
                title=CHART_TITLES[4],
                kind="line",
                categories=QUARTERS,
                series=(saving,),
                unit="percent",
                bands=(("Saving against direct", Band(D("0.40"), D("0.60"))),),
            ),
        ),
    )


def _partners(rows: int) -> Section:
    """A partner league table; ``rows`` beyond the first three are generated (for pagination tests)."""
    columns = (
        Column("partner", "Partner"),
        Column("sourced", "Sourced revenue", "money"),
        Column("influenced", "Influenced revenue", "money"),
        Column("win_rate", "Win rate", "percent"),
        Column("cycle", "Median cycle", "days"),
        Column("credit_share", "Credit share", "ratio"),
        Column("deals", "Deals", "count"),
        Column("first_deal", "First deal"),
        Column("last_touch", "Last touch", "text"),
    )
    fixed: list[dict[str, Value]] = [
        {
            "partner": "Northwind Partners",
            "sourced": D("1250000.00"),
            "influenced": D("310400.10"),
            "win_rate": D("0.5"),
            "cycle": D("54.25"),
            "credit_share": D("0.33333"),
            "deals": 41,
            "first_deal": date(2024, 7, 3),
            "last_touch": datetime(2026, 10, 30, 16, 5, tzinfo=UTC),
        },
        {
            "partner": HOSTILE_TEXT,
            "sourced": D("0.00"),
            "influenced": D("-1250.5"),
            "win_rate": None,
            "cycle": None,
            "credit_share": D("1"),
            "deals": 0,
            "first_deal": None,
            "last_touch": None,
        },
        {
            "partner": "Ōkami Systèmes",
            "sourced": D("98000.125"),
            "influenced": D("12000"),
            "win_rate": D("0.25"),
            "cycle": D("70"),
            "credit_share": D("0.5"),
            "deals": 4,
            "first_deal": date(2025, 1, 15),
            "last_touch": "2026-09-01T09:00:00Z",
        },
    ]
    for i in range(max(rows - len(fixed), 0)):
        fixed.append(
            {
                "partner": f"Partner {i + 4:04d}",
                "sourced": D(1000 * (i % 97) + 3) + D("0.5"),
                "influenced": D(700 * (i % 31)),
                "win_rate": D(i % 10) / 10,
                "cycle": D(30 + i % 50),
                "credit_share": D(1) / D(i % 7 + 1),
                "deals": i % 23,
                "first_deal": date(2025, 1 + i % 12, 1 + i % 28),
                "last_touch": f"touch {i}",
            }
        )
    return Section(
        key="partners",
        title="Partners",
        table=Table(columns=columns, rows=tuple(fixed[:rows] if rows < len(fixed) else fixed)),
        notes=(f"Partner names are printed as given: {HOSTILE_TEXT}",),
    )


def sample_report(partner_rows: int = 3) -> Report:
    """The sample report; ``partner_rows`` makes its partner table as long as wanted."""
    return Report(
        key="cfo",
        title="CFO dashboard: 2026-Q3",
        subtitle="Partner program performance for the quarter, against published benchmarks",
        currency="USD",
        facts=(
            ("Period", "2026-Q3 (2026-07-01 to 2026-09-30)"),
            ("As of", "2026-11-01T00:00:00Z"),
            ("Currency", "USD"),
            ("Policy version", "7"),
            ("Attribution run", "42"),
        ),
        sections=(_headline(), _pipeline(), _revenue(), _cycle(), _trend(), _partners(partner_rows)),
    )
