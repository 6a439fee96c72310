"""The partner league table for a period: who brought and helped win what (SPEC section 5).

One section ``league`` (stable keys, docs/metrics.md): per partner, the credited closed-won revenue
of the period by the deal's tier (sourced, accelerated, influenced), in the workspace currency; the
won and lost deals it holds credit on, its win rate, the median cycle of its won deals, and the
number of credited deals; with a stacked bar chart of the ten largest.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from cosell.engine import Engine
from cosell.metrics.context import open_metrics
from cosell.metrics.deals import check_rates
from cosell.metrics.figures import divide, rounded
from cosell.metrics.league import credited_total, league
from cosell.policy import Policy
from cosell.report_model import Chart, Column, Figure, Report, Section, Series, Table, Value, counted

CHART_TOP = 10


def build_partners(
    con: Engine,
    policy: Policy,
    period: str | None = None,
    as_of: datetime | None = None,
    *,
    known_at: datetime | None = None,
    partner_id: str | None = None,
) -> Report:
    """The league table for ``period`` (a quarter or a month; default the last complete fiscal
    quarter before the as-of instant), evaluated as of ``as_of`` with the data known at ``known_at``
    (:func:`cosell.metrics.context.open_metrics`).

    With ``partner_id`` (a partner user reads it, SPEC section 9), only that partner's row, with
    its rank among all, and its own total: no other partner's name or amount, nor the program's
    total or how many partners were credited."""
    m = open_metrics(con, policy, as_of, known_at)
    p = m.period(period)
    check_rates(m.facts, [p])
    lines = league(m.facts, p)
    currency = m.currency
    columns = (
        Column("rank", "#", "count"),
        Column("partner_id", "Partner id", optional=True),
        Column("partner", "Partner"),
        Column("partner_type", "Type", optional=True),
        Column("program_tier", "Program tier", optional=True),
        Column("sourced_revenue", "Sourced revenue", "money"),
        Column("accelerated_revenue", "Accelerated revenue", "money"),
        Column("influenced_revenue", "Influenced revenue", "money"),
        Column("credited_revenue", "Credited revenue", "money"),
        Column("won", "Won", "count"),
        Column("lost", "Lost", "count"),
        Column("win_rate", "Win rate", "percent"),
        Column("median_cycle_days", "Median cycle (days)", "days"),
        Column("credited_deals", "Credited deals", "count"),
    )
    ranked = list(enumerate(lines, start=1))
    if partner_id is not None:
        ranked = [(rank, line) for rank, line in ranked if line.partner_id == partner_id]
        lines = [line for _, line in ranked]
    rows: list[dict[str, Value]] = []
    for rank, line in ranked:
        closed = line.won + line.lost
        rows.append(
            {
                "rank": rank,
                "partner_id": line.partner_id,
                "partner": line.name,
                "partner_type": line.partner_type,
                "program_tier": line.program_tier,
                "sourced_revenue": line.sourced,
                "accelerated_revenue": line.accelerated,
                "influenced_revenue": line.influenced,
                "credited_revenue": line.credited,
                "won": line.won,
                "lost": line.lost,
                "win_rate": rounded(divide(Decimal(line.won), Decimal(closed)), "percent", currency)
                if closed
                else None,
                "median_cycle_days": rounded(line.median_days, "days", currency),
                "credited_deals": closed,
            }
        )
    top = lines[:CHART_TOP]
    chart = Chart(
        key="league_top",
        title=f"Credited closed-won revenue, top {counted(len(top), 'partner')}",
        kind="stacked",
        categories=tuple(line.name or line.partner_id for line in top),
        series=(
            Series("Sourced", tuple(line.sourced for line in top)),
            Series("Accelerated", tuple(line.accelerated for line in top)),
            Series("Influenced", tuple(line.influenced for line in top)),
        ),
        unit="money",
        horizontal=True,  # partner names down the side, each bar readable
    )
    whose, none = (
        ("this partner", "no credits of this partner")
        if partner_id
        else ("all partners", "no partner credits")
    )
    credited = Figure(
        key="credited_revenue",
        label=f"Credited closed-won revenue, {whose}",
        value=rounded(credited_total(lines), "money", currency),
        unit="money",
        note="" if lines else f"{none} on deals closed in {p.label}",
    )
    # A partner user's league holds its own row: how many partners are credited is not its to read.
    summary: tuple[Figure, ...] = (credited,)
    if partner_id is None:
        count = Figure(
            key="partners_credited",
            label="Partners credited on deals closed in the period",
            value=Decimal(len(lines)),
            unit="count",
        )
        summary = (count, credited)
    return m.report(
        "partners",
        f"Partner league table, {p.label}",
        f"Credited revenue, win rate and cycle per partner, as of {m.as_of_text}",
        p,
        (
            Section(
                key="league",
                title="Partners by credited closed-won revenue",
                figures=summary,
                table=Table(columns, tuple(rows)),
                charts=(chart,) if top else (),
                notes=(
                    "Each won deal's revenue, converted once at the rate of its close month and rounded "
                    "once (the amount the CFO dashboard counts), is split between its partners in "
                    "proportion to their credited amounts, to the cent (largest remainder); the deal's "
                    "tier decides the column, so the partners add up to the partner-attributed revenue.",
                    "Win rate: won / (won + lost) among the closed deals the partner holds credit on.",
                ),
            ),
        ),
    )
