"""The raw numbers of SPEC section 5 per period, aggregated in the database from the deal table.

:func:`period_numbers` answers for many periods at once (a report's period and its trend) with a
few GROUP BY queries over :data:`cosell.metrics.deals.DEALS_TABLE`; nothing here reads a deal into
Python. The numbers are exact: money sums of rounded amounts (so the tiers add up to the total to
the cent), counts, and medians kept as twice the median in integer microseconds (the mean of the two
middle values of an even count is then exact). :mod:`cosell.metrics.figures` turns them into
figures with their deal counts, notes and benchmark verdicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from cosell.instants import MICROS_PER_DAY
from cosell.metrics.deals import DealFacts, periods_sql
from cosell.money import MONEY_CONTEXT
from cosell.periods import Period
from cosell.results import TIERS

ZERO = Decimal(0)


@dataclass(frozen=True)
class Bucket:
    """A number of deals and the sum of their (rounded) amounts."""

    deals: int = 0
    amount: Decimal = ZERO


@dataclass(frozen=True)
class Median:
    """The median created-to-close time of a group of won deals (None when the group is empty)."""

    deals: int = 0
    twice_us: int | None = None  # twice the median, in microseconds

    @property
    def days(self) -> Decimal | None:
        if self.twice_us is None:
            return None
        return Decimal(self.twice_us) / Decimal(2 * MICROS_PER_DAY)


@dataclass(frozen=True)
class PeriodNumbers:
    """Everything section 5 needs about one period, before any ratio is taken."""

    period: Period
    created: dict[str, Bucket] = field(default_factory=dict)  # by tier: deals created, pipeline
    won: dict[str, Bucket] = field(default_factory=dict)  # by tier: deals won, revenue
    lost: dict[str, int] = field(default_factory=dict)  # by tier: deals lost
    direct_won: Bucket = Bucket()  # direct-only deals won, revenue
    direct_lost: int = 0
    partner_cycle: Median = Median()  # partner-attributed won deals
    direct_cycle: Median = Median()  # direct-only won deals

    def created_in(self, tiers: tuple[str, ...] = TIERS) -> Bucket:
        return _add(self.created.get(t, Bucket()) for t in tiers)

    def won_in(self, tiers: tuple[str, ...] = TIERS) -> Bucket:
        return _add(self.won.get(t, Bucket()) for t in tiers)

    def lost_in(self, tiers: tuple[str, ...] = TIERS) -> int:
        return sum(self.lost.get(t, 0) for t in tiers)


def _add(buckets: Iterable[Bucket]) -> Bucket:
    """The buckets together, the amounts exactly: a tier's total can pass the 28 digits of Python's
    default decimal context (deals of 10^22, a 14-digit amount at an 8-digit rate, in four decimals)."""
    deals, amount = 0, ZERO
    with localcontext(MONEY_CONTEXT):
        for b in buckets:
            deals += b.deals
            amount += b.amount
    return Bucket(deals, amount)


def period_numbers(facts: DealFacts, periods: list[Period]) -> dict[str, PeriodNumbers]:
    """The numbers of every period in ``periods`` (months and quarters may be mixed), by label."""
    con, table = facts.con, facts.table
    labels = {p.label for p in periods}
    joined = periods_sql(periods)
    created: dict[str, dict[str, Bucket]] = {label: {} for label in labels}
    for label, tier, n, amount in con.execute(
        f"SELECT p.label, d.tier, count(*), coalesce(sum(d.pipeline_ws), 0) FROM {table} d "
        f"JOIN {joined} p ON p.month_index = d.created_mi GROUP BY ALL"
    ).fetchall():
        created[label][tier] = Bucket(int(n), Decimal(amount))
    won: dict[str, dict[str, Bucket]] = {label: {} for label in labels}
    lost: dict[str, dict[str, int]] = {label: {} for label in labels}
    direct_won: dict[str, Bucket] = {}
    direct_lost: dict[str, int] = {}
    for label, tier, direct, n_won, revenue, n_lost in con.execute(
        "SELECT p.label, d.tier, d.direct_only, count(*) FILTER (WHERE d.won), "
        "coalesce(sum(d.revenue_ws) FILTER (WHERE d.won), 0), count(*) FILTER (WHERE d.lost) "
        f"FROM {table} d JOIN {joined} p ON p.month_index = d.closed_mi "
        "WHERE d.won OR d.lost GROUP BY ALL"
    ).fetchall():
        before = won[label].get(tier, Bucket())
        won[label][tier] = Bucket(before.deals + int(n_won), before.amount + Decimal(revenue))
        lost[label][tier] = lost[label].get(tier, 0) + int(n_lost)
        if direct:  # direct-only deals are all in tier none: one row per period
            direct_won[label] = Bucket(int(n_won), Decimal(revenue))
            direct_lost[label] = int(n_lost)
    medians = _medians(facts, joined)
    return {
        p.label: PeriodNumbers(
            period=p,
            created=created[p.label],
            won=won[p.label],
            lost=lost[p.label],
            direct_won=direct_won.get(p.label, Bucket()),
            direct_lost=direct_lost.get(p.label, 0),
            partner_cycle=medians.get((p.label, "partner"), Median()),
            direct_cycle=medians.get((p.label, "direct"), Median()),
        )
        for p in periods
    }


def _medians(facts: DealFacts, joined: str) -> dict[tuple[str, str], Median]:
    """Exact medians of cycle_us of won deals per period, partner-attributed and direct-only."""
    rows = facts.con.execute(
        f"""
        WITH w AS (
            SELECT p.label, d.partner_attributed, d.direct_only, d.cycle_us FROM {facts.table} d
            JOIN {joined} p ON p.month_index = d.closed_mi WHERE d.won),
        g AS (
            SELECT label, 'partner' AS grp, cycle_us FROM w WHERE partner_attributed
            UNION ALL
            SELECT label, 'direct', cycle_us FROM w WHERE direct_only),
        r AS (
            SELECT label, grp, cycle_us,
                row_number() OVER (PARTITION BY label, grp ORDER BY cycle_us) AS rn,
                count(*) OVER (PARTITION BY label, grp) AS n
            FROM g)
        SELECT label, grp, any_value(n),
            CAST(sum(cycle_us) AS HUGEINT) * CASE WHEN any_value(n) % 2 = 1 THEN 2 ELSE 1 END
        FROM r WHERE rn IN ((n + 1) // 2, n // 2 + 1) GROUP BY label, grp
        """
    ).fetchall()
    return {(str(label), str(grp)): Median(int(n), int(twice)) for label, grp, n, twice in rows}
