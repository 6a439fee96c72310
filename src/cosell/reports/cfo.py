"""The CFO dashboard: the four numbers of SPEC section 5 for a period, and their trend.

Sections (stable keys, docs/metrics.md):

- ``headline``: partner-sourced pipeline ($, beside its share of all pipeline), partner-influenced
  win rate (beside the direct-only rate and the influenced share of closed-won revenue), cycle
  reduction (days, beside the percent) and fully-loaded cost per partner-sourced dollar (beside
  the saving, cost per partner dollar and direct cost per dollar); each banded figure has its
  benchmark and verdict, every figure its deal count;
- ``trend``: the same numbers for the last eight fiscal quarters, with one line chart per
  benchmark band;
- ``pipeline`` and ``revenue``: pipeline created and closed-won revenue by tier per quarter (the
  trend's quarters), or, for a month, per month (the twelve months ending with it); stacked bars;
  the tiers add up to the total to the cent;
- ``cycle``: median created-to-close days, partner-attributed against direct-only, per quarter.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from cosell.engine import Engine
from cosell.metrics.benchmarks import BANDS
from cosell.metrics.context import Metrics, open_metrics
from cosell.metrics.costs import PeriodCosts, period_costs
from cosell.metrics.deals import check_rates
from cosell.metrics.figures import TIER_LABELS, FigureMaker, flatten, headline, ledger_note
from cosell.metrics.numbers import PeriodNumbers, period_numbers
from cosell.money import minor_unit
from cosell.periods import Period
from cosell.policy import Policy
from cosell.report_model import (
    Chart,
    Column,
    Coverage,
    Figure,
    Report,
    Section,
    Series,
    Table,
    Unit,
    Value,
)
from cosell.results import TIERS

TREND_QUARTERS = 8
TIER_MONTHS = 12  # a month's report shows pipeline and revenue by tier for the twelve months to it
# (figure key, column label, unit) of the trend table, in order.
TREND_COLUMNS: tuple[tuple[str, str, Unit], ...] = (
    ("sourced_pipeline", "Partner-sourced pipeline", "money"),
    ("sourced_pipeline_share", "Sourced share of pipeline", "percent"),
    ("influenced_win_rate", "Influenced win rate", "percent"),
    ("direct_win_rate", "Direct-only win rate", "percent"),
    ("influenced_revenue_share", "Influenced share of won revenue", "percent"),
    ("cycle_reduction_days", "Cycle reduction (days)", "days"),
    ("cycle_reduction_pct", "Partner deals faster", "percent"),
    ("cost_per_partner_sourced_dollar", "Cost per partner-sourced $", "ratio"),
    ("cost_per_partner_dollar", "Cost per partner $", "ratio"),
    ("direct_cost_per_dollar", "Direct cost per $", "ratio"),
    ("cost_saving", "Saving vs direct", "percent"),
)
BANDED = ("sourced_pipeline_share", "influenced_revenue_share", "cycle_reduction_pct", "cost_saving")


def build_cfo(
    con: Engine,
    policy: Policy,
    period: str | None = None,
    as_of: datetime | None = None,
    quarters: int = TREND_QUARTERS,
    *,
    known_at: datetime | None = None,
) -> Report:
    """The CFO dashboard for ``period`` (a fiscal quarter or a month; default the last complete
    fiscal quarter before the as-of instant), evaluated as of ``as_of`` with the data known at
    ``known_at`` (:func:`cosell.metrics.context.open_metrics`)."""
    m = open_metrics(con, policy, as_of, known_at)
    chosen = m.period(period)
    trend = m.quarters_ending(chosen, quarters)
    # The by-tier tables are in the period's own kind: a quarter's by quarter, a month's by month.
    by_tier = trend if chosen.is_quarter else m.months_ending(chosen, TIER_MONTHS)
    periods = list({p.label: p for p in [chosen, *trend, *by_tier]}.values())
    check_rates(m.facts, periods)
    numbers = period_numbers(m.facts, periods)
    costs = {p.label: period_costs(m.facts, p) for p in periods}
    figures = {p.label: headline(numbers[p.label], costs[p.label], maker(m, p)) for p in periods}
    return m.report(
        "cfo",
        "CFO dashboard: what the partner program returns",
        f"{chosen.label}, as of {m.as_of_text}",
        chosen,
        (
            headline_section(figures[chosen.label], costs[chosen.label]),
            trend_section(trend, figures, m.currency, m.coverage(trend[-1]) if trend[-1] != chosen else None),
            tier_section("pipeline", by_tier, numbers, m.currency),
            tier_section("revenue", by_tier, numbers, m.currency),
            cycle_section(trend, figures),
        ),
    )


def maker(m: Metrics, period: Period) -> FigureMaker:
    return FigureMaker(m.currency, m.policy.min_deals_for_confidence, period.label)


def headline_section(figures: tuple[Figure, ...], costs: PeriodCosts) -> Section:
    notes = [
        "Each number states the deals it rests on; the benchmark of each is on the figure beside it "
        "(share, influenced share, percent faster, saving), with its verdict.",
        "A deal is direct-only when it has no partner evidence at all (no partner touch, lead, "
        "registration or declared partner); a deal in tier none is not necessarily direct-only.",
    ]
    if costs.incentives_from_ledger is not None:
        note = ledger_note(costs)
        notes.append(note[0].upper() + note[1:] + ".")
    return Section(
        key="headline",
        title=f"The four numbers, {costs.period.label}",
        figures=figures,
        notes=tuple(notes),
    )


def trend_section(
    trend: list[Period],
    figures: dict[str, tuple[Figure, ...]],
    currency: str,
    last: Coverage | None = None,
) -> Section:
    """The four numbers per quarter; ``last`` is the coverage of the last quarter when it is not
    the report's period (a month's report): its note is added when the quarter is incomplete."""
    columns = (Column("quarter", "Quarter"), *(Column(k, label, unit) for k, label, unit in TREND_COLUMNS))
    rows: list[dict[str, Value]] = []
    for q in trend:
        flat = flatten(figures[q.label])
        row: dict[str, Value] = {"quarter": q.label}
        row.update({k: flat[k].value for k, _, _ in TREND_COLUMNS})
        rows.append(row)
    categories = tuple(q.label for q in trend)
    charts = []
    for key in BANDED:
        label = next(lbl for k, lbl, _ in TREND_COLUMNS if k == key)
        series = Series(label, tuple(_decimal(flatten(figures[q.label])[key].value) for q in trend))
        charts.append(
            Chart(
                key=f"trend_{key}",
                title=f"{label} against the benchmark",
                kind="line",
                categories=categories,
                series=(series,),
                unit="percent",
                bands=((label, BANDS[key]),),
            )
        )
    return Section(
        key="trend",
        title=f"Trend over the last {len(trend)} fiscal quarters",
        table=Table(columns, tuple(rows)),
        charts=tuple(charts),
        notes=(
            f"Amounts in {currency}; a quarter with no deals behind a number shows no value.",
            *((last.note,) if last is not None and last.note else ()),
        ),
    )


def tier_section(kind: str, trend: list[Period], numbers: dict[str, PeriodNumbers], currency: str) -> Section:
    """Pipeline created (``kind`` pipeline) or closed-won revenue (revenue) by tier per period of
    ``trend`` (all quarters, or all months: the first column is ``quarter`` or ``month``)."""
    created = kind == "pipeline"
    count_label = "Deals created" if created else "Deals won"
    per = "quarter" if trend[-1].is_quarter else "month"
    columns = (
        Column(per, per.capitalize()),
        *(Column(t, TIER_LABELS[t], "money") for t in TIERS),
        Column("total", "Total", "money"),
        Column("deals", count_label, "count"),
    )
    rows: list[dict[str, Value]] = []
    for q in trend:
        n = numbers[q.label]
        buckets = n.created if created else n.won
        row: dict[str, Value] = {per: q.label}
        for t in TIERS:
            b = buckets.get(t)
            row[t] = b.amount if b else Decimal(0)
        total = n.created_in() if created else n.won_in()
        row["total"] = total.amount
        row["deals"] = total.deals
        rows.append(row)
    title = ("Pipeline created by tier" if created else "Closed-won revenue by tier") + f" per {per}"
    chart = Chart(
        key=f"{kind}_by_tier",
        title=title,
        kind="stacked",
        categories=tuple(q.label for q in trend),
        series=tuple(Series(TIER_LABELS[t], tuple(_decimal(r[t]) for r in rows)) for t in TIERS),
        unit="money",
    )
    return Section(
        key=kind,
        title=title,
        table=Table(columns, tuple(rows)),
        charts=(chart,),
        notes=(conversion_note(created, currency),),
    )


def conversion_note(created: bool, currency: str) -> str:
    """How a by-tier section's amounts were converted (pipeline at creation, revenue at close), and
    rounded: to the cent, or to the currency's own minor unit (a yen, a fils of 0.001 dinar).

    >>> "rounded to the whole JPY (its minor unit);" in conversion_note(False, "JPY")
    True
    """
    basis = "creation" if created else "close"
    digits = minor_unit(currency)
    unit = (
        "cent"
        if digits == 2
        else f"whole {currency}"
        if digits == 0
        else f"0.{'0' * (digits - 1)}1 {currency}"
    )
    return (
        f"Each deal's amount is converted once at the rate of its {basis} month (else quarter) and "
        f"rounded to the {unit}{'' if digits == 2 else ' (its minor unit)'}; the tiers add up to the total exactly."
    )


def cycle_section(trend: list[Period], figures: dict[str, tuple[Figure, ...]]) -> Section:
    columns = (
        Column("quarter", "Quarter"),
        Column("partner_median_days", "Partner-attributed median (days)", "days"),
        Column("partner_won", "Partner-attributed won", "count"),
        Column("direct_median_days", "Direct-only median (days)", "days"),
        Column("direct_won", "Direct-only won", "count"),
        Column("reduction_days", "Reduction (days)", "days"),
        Column("reduction_pct", "Partner deals faster", "percent"),
    )
    rows: list[dict[str, Value]] = []
    for q in trend:
        flat = flatten(figures[q.label])
        partner, direct = flat["cycle_partner_days"], flat["cycle_direct_days"]
        rows.append(
            {
                "quarter": q.label,
                "partner_median_days": partner.value,
                "partner_won": partner.deals,
                "direct_median_days": direct.value,
                "direct_won": direct.deals,
                "reduction_days": flat["cycle_reduction_days"].value,
                "reduction_pct": flat["cycle_reduction_pct"].value,
            }
        )
    chart = Chart(
        key="cycle_partner_vs_direct",
        title="Median days from creation to close, won deals",
        kind="bar",
        categories=tuple(q.label for q in trend),
        series=(
            Series("Partner-attributed", tuple(_decimal(r["partner_median_days"]) for r in rows)),
            Series("Direct-only", tuple(_decimal(r["direct_median_days"]) for r in rows)),
        ),
        unit="days",
        y_label="days",
    )
    return Section(
        key="cycle",
        title="Cycle time: partner-attributed against direct-only won deals",
        table=Table(columns, tuple(rows)),
        charts=(chart,),
    )


def _decimal(value: Value) -> Decimal | None:
    return value if isinstance(value, Decimal) else None
