"""The partner league table: each partner's credited revenue, win rate and cycle in a period.

For the deals closed (won or lost) in the period, read each partner's credit rows of the deal's
version known at the as-of instant (``v_credits``): the credited amount of a won deal is converted
to the workspace currency at the rate of its close month and rounded once, half away from zero (as
the pay ledger converts credits), and summed by the deal's tier. Win rate is won / (won + lost)
among the closed deals the partner holds a credit on (a partner-attributed lost deal keeps its
credit rows, docs/rules.md); the cycle is the exact median created-to-close time of its won deals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cosell.errors import InputError, Problem
from cosell.instants import MICROS_PER_DAY
from cosell.metrics.deals import RATES_TABLE, DealFacts, month_indexes, sql_text
from cosell.metrics.fx import convert_sql
from cosell.money import minor_unit
from cosell.periods import Period


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
        return self.sourced + self.accelerated + self.influenced

    @property
    def median_days(self) -> Decimal | None:
        if self.twice_median_us is None:
            return None
        return Decimal(self.twice_median_us) / Decimal(2 * MICROS_PER_DAY)


def league(facts: DealFacts, period: Period) -> list[PartnerLine]:
    """One line per partner credited on a deal closed in the period, by credited revenue (largest
    first), then partner_id."""
    con = facts.con
    months = ", ".join(str(m) for m in month_indexes(period))
    ws = facts.policy.workspace_currency
    digits = minor_unit(ws)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _cosell_metrics_league AS
        SELECT c.partner_id, c.opportunity_id, d.tier, d.won, d.lost, d.cycle_us,
            CASE WHEN NOT d.won THEN NULL WHEN c.currency = {sql_text(ws)} THEN c.amount
                ELSE {convert_sql("c.amount", "r.rate", facts.policy)} END AS credited_ws,
            d.won AND c.currency <> {sql_text(ws)} AND r.rate IS NULL AS missing_rate,
            c.currency, d.closed_at
        FROM v_credits c
        JOIN {facts.table} d ON d.opportunity_id = c.opportunity_id
        LEFT JOIN {RATES_TABLE} r ON r.currency = c.currency AND r.month_index = d.closed_mi
        WHERE (d.won OR d.lost) AND d.closed_mi IN ({months})"""
    )
    missing = con.execute(
        "SELECT currency, strftime(closed_at, '%Y-%m'), count(*) FROM _cosell_metrics_league "
        "WHERE missing_rate GROUP BY ALL ORDER BY 2, 1 LIMIT 1"
    ).fetchall()
    if missing:
        currency, month, n = missing[0]
        raise InputError(
            Problem(
                "fx_rates", None, "rate", None, f"no rate for {currency} in {month}: needed by {n} credit(s)"
            )
        )
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
