"""The partner league table: each partner's credited revenue, win rate and cycle in a period.

For the deals closed (won or lost) in the period, read each partner's credit rows of the deal's
version known at the as-of instant (``v_credits``). A won deal's credited revenue is its revenue in
the workspace currency as every report reads it (``revenue_ws`` of the deal table: converted once
at the rate of its close month and rounded once, :mod:`cosell.metrics.deals`), split between its
credit rows in proportion to their credited amounts by the largest-remainder method
(:func:`split_revenue_sql`), so the partners' lines add up to the CFO report's partner-attributed
revenue to the cent. Win rate is won / (won + lost) among the closed deals the partner holds a
credit on (a partner-attributed lost deal keeps its credit rows, docs/rules.md); the cycle is the
exact median created-to-close time of its won deals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext

from cosell.engine.sql import lit
from cosell.instants import MICROS_PER_DAY
from cosell.metrics.deals import DealFacts, check_rates, month_indexes
from cosell.money import MONEY_CONTEXT, minor_unit, quantum
from cosell.periods import Period
from cosell.policy import Policy


@dataclass(frozen=True)
class PartnerLine:
    partner_id: str
    name: str
    partner_type: str
    program_tier: str
    sourced: Decimal  # credited closed-won revenue, by the deal's tier
    accelerated: Decimal
    influenced: Decimal
    won: int
    lost: int
    twice_median_us: int | None  # of its won deals' created-to-close time

    @property
    def credited(self) -> Decimal:
        with localcontext(MONEY_CONTEXT):  # each tier can hold 26 digits and more: never rounded
            return self.sourced + self.accelerated + self.influenced

    @property
    def median_days(self) -> Decimal | None:
        if self.twice_median_us is None:
            return None
        return Decimal(self.twice_median_us) / Decimal(2 * MICROS_PER_DAY)


def credited_total(lines: Iterable[PartnerLine]) -> Decimal:
    """The credited revenue of all partners' lines, exact (a sum of 10^22 deals in four decimals
    passes the 28 digits of Python's default decimal context)."""
    with localcontext(MONEY_CONTEXT):
        return sum((line.credited for line in lines), Decimal(0))


def split_revenue_sql(credits_sql: str, policy: Policy) -> str:
    """SELECT over ``credits_sql`` (one row per credit: ``opportunity_id``, ``partner_id``,
    ``role``, ``share``, ``amount`` in the deal currency, and the deal's ``revenue_ws``) adding
    ``credited_ws``: the deal's revenue split between its credit rows by the largest-remainder
    method in the workspace currency's minor unit, so the parts add up to ``revenue_ws`` exactly
    (NULL when ``revenue_ws`` is NULL: a lost deal).

    The parts are in proportion to the credited amounts (which add up exactly to the deal amount;
    SPEC section 3), or to the shares when those amounts are all 0. A part is first floored; the
    units left go one each to the largest remainders, ties to the larger role weight of the policy,
    then the smaller partner_id (the tie rule of the credit split). All in integers: exact.

    ``R * w // W`` is computed as ``(R // W) * w + (R % W) * w // W`` (and the remainder as
    ``(R % W) * w % W``): the revenue in minor units R reaches 10^26 (a 14-digit amount at an 8-digit
    rate, in a four-decimal currency) and a weight w 10^18, a product past HUGEINT, while
    ``(R % W) * w`` stays below W^2 (the weights add up to W, at most the deal amount's 10^18)."""
    digits = minor_unit(policy.workspace_currency)
    weights = " ".join(f"WHEN {lit(r)} THEN {w}" for r, w in sorted(policy.role_weights.items()))
    return f"""
        WITH c AS (
            SELECT *, CAST(CAST(abs(amount) AS DECIMAL(38,4)) * 10000 AS HUGEINT) AS by_amount,
                CAST(abs(share) * 1000000 AS HUGEINT) AS by_share,
                CAST(revenue_ws * {10**digits} AS HUGEINT) AS revenue_minor
            FROM ({credits_sql})),
        w AS (
            SELECT *, CASE WHEN sum(by_amount) OVER (PARTITION BY opportunity_id) > 0 THEN by_amount
                ELSE by_share END AS weight
            FROM c),
        t AS (
            SELECT *, nullif(sum(weight) OVER (PARTITION BY opportunity_id), 0) AS total FROM w),
        q AS (
            SELECT *, abs(revenue_minor) // total AS whole, abs(revenue_minor) % total AS rest FROM t),
        f AS (
            SELECT *, whole * weight + rest * weight // total AS floor_minor, rest * weight % total AS remainder
            FROM q),
        r AS (
            SELECT *, abs(revenue_minor) - sum(floor_minor) OVER (PARTITION BY opportunity_id) AS left_over,
                row_number() OVER (PARTITION BY opportunity_id
                    ORDER BY remainder DESC, CASE role {weights} ELSE 0 END DESC, partner_id) AS place
            FROM f)
        SELECT * EXCLUDE (by_amount, by_share, revenue_minor, weight, total, whole, rest, floor_minor, remainder,
            left_over, place),
            CAST(sign(revenue_minor) * (floor_minor + CASE WHEN place <= left_over THEN 1 ELSE 0 END)
                AS DECIMAL(38,0)) * CAST('{quantum(policy.workspace_currency)}' AS DECIMAL(38,{digits}))
                AS credited_ws
        FROM r
    """


def league(facts: DealFacts, period: Period) -> list[PartnerLine]:
    """One line per partner credited on a deal closed in the period, by credited revenue (largest
    first), then partner_id. Raises an input error naming currency and period when a won deal's
    close-month rate is missing."""
    con = facts.con
    months = ", ".join(str(m) for m in month_indexes(period))
    digits = minor_unit(facts.policy.workspace_currency)
    credits = f"""
        SELECT c.partner_id, c.opportunity_id, c.role, c.share, c.amount, d.tier, d.won, d.lost,
            d.cycle_us, d.revenue_ws
        FROM v_credits c
        JOIN {facts.table} d ON d.opportunity_id = c.opportunity_id
        WHERE (d.won OR d.lost) AND d.closed_mi IN ({months})"""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cosell_metrics_league AS
        {split_revenue_sql(credits, facts.policy)}"""
    )
    missing = con.execute(
        "SELECT count(*) FROM _cosell_metrics_league WHERE won AND credited_ws IS NULL"
    ).fetchone()
    if missing and missing[0]:
        con.execute("DROP TABLE IF EXISTS _cosell_metrics_league")
        check_rates(facts, [period])  # names the currency and the period
    rows = con.execute(
        f"""
        WITH s AS (
            SELECT partner_id,
                coalesce(sum(credited_ws) FILTER (WHERE tier = 'sourced'), 0) AS sourced,
                coalesce(sum(credited_ws) FILTER (WHERE tier = 'accelerated'), 0) AS accelerated,
                coalesce(sum(credited_ws) FILTER (WHERE tier = 'influenced'), 0) AS influenced,
                count(*) FILTER (WHERE won) AS won, count(*) FILTER (WHERE lost) AS lost
            FROM _cosell_metrics_league GROUP BY partner_id),
        r AS (
            SELECT partner_id, cycle_us,
                row_number() OVER (PARTITION BY partner_id ORDER BY cycle_us) AS rn,
                count(*) OVER (PARTITION BY partner_id) AS n
            FROM _cosell_metrics_league WHERE won),
        m AS (
            SELECT partner_id,
                CAST(sum(cycle_us) AS HUGEINT) * CASE WHEN any_value(n) % 2 = 1 THEN 2 ELSE 1 END AS twice
            FROM r WHERE rn IN ((n + 1) // 2, n // 2 + 1) GROUP BY partner_id)
        SELECT s.partner_id, coalesce(p.name, ''), coalesce(p.partner_type, ''), coalesce(p.program_tier, ''),
            CAST(s.sourced AS DECIMAL(38,{digits})), CAST(s.accelerated AS DECIMAL(38,{digits})),
            CAST(s.influenced AS DECIMAL(38,{digits})), s.won, s.lost, m.twice
        FROM s LEFT JOIN m ON m.partner_id = s.partner_id
        LEFT JOIN v_partners p ON p.partner_id = s.partner_id
        ORDER BY s.sourced + s.accelerated + s.influenced DESC, s.partner_id
        """
    ).fetchall()
    con.execute("DROP TABLE IF EXISTS _cosell_metrics_league")
    return [
        PartnerLine(
            partner_id=str(r[0]),
            name=str(r[1]),
            partner_type=str(r[2]),
            program_tier=str(r[3]),
            sourced=Decimal(r[4]),
            accelerated=Decimal(r[5]),
            influenced=Decimal(r[6]),
            won=int(r[7]),
            lost=int(r[8]),
            twice_median_us=None if r[9] is None else int(r[9]),
        )
        for r in rows
    ]
