"""The money a few deals carry, as the metrics count it, without reading any stored attribution.

A policy what-if (:mod:`cosell.service.simulate`) decides deals twice in memory and needs, for the
deals whose decision changes, the same amounts the reports would count: the pipeline amount (the
deal amount converted at the rate of its creation month, else that month's fiscal quarter) and,
for a deal won by the as-of instant T, its revenue (at the rate of its close month), each rounded
once, half away from zero, to the workspace currency's minor unit (:mod:`cosell.fx`).
Whether a deal is won, lost or still open at T, and its close time X, follow the policy's stage
mapping (:func:`cosell.metrics.deals.close_times_sql`), so a proposed mapping is read with its own.

Everything reads the ``v_<table>`` views of the data known at the knowledge instant
(:func:`cosell.store.workspace.as_of_views`): build them first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cosell.engine import Engine
from cosell.engine.sql import lit, ts
from cosell.errors import InputError, Problem
from cosell.fx import convert_sql, month_index_sql, monthly_rates_sql
from cosell.metrics.deals import close_times_sql, stage_class_sql
from cosell.periods import Period
from cosell.policy import Policy


@dataclass(frozen=True)
class DealMoney:
    """One deal's amounts under one policy's stage mapping, at the as-of instant."""

    opportunity_id: str
    amount: Decimal  # in the deal currency
    currency: str
    opportunity_type: str
    owner_id: str
    created_at: datetime
    outcome: str  # won, lost or open at T
    closed_at: datetime | None  # X when won or lost by T
    pipeline: Decimal | None  # in the workspace currency; None: no rate for the creation month
    pipeline_rate: Decimal | None
    created_month: str
    created_quarter: str
    revenue: Decimal | None  # won only; None also when the close month has no rate
    close_rate: Decimal | None
    close_month: str
    close_quarter: str

    def missing_rate(self) -> Problem | None:
        """The problem when a rate this deal needs is missing (SPEC section 5: an input error
        naming the currency and the period)."""
        if self.pipeline is None:
            month, quarter, when = self.created_month, self.created_quarter, "created"
        elif self.outcome == "won" and self.revenue is None:
            month, quarter, when = self.close_month, self.close_quarter, "won"
        else:
            return None
        return Problem(
            "fx_rates",
            None,
            "rate",
            None,
            f"no rate for {self.currency} in {month} or {quarter}: needed by deal {self.opportunity_id} "
            f"{when} then",
        )


def check_rates(money: Sequence[DealMoney]) -> None:
    """Raise the :class:`InputError` of the first deal (by id) that lacks a rate it needs."""
    for m in sorted(money, key=lambda m: m.opportunity_id):
        problem = m.missing_rate()
        if problem is not None:
            raise InputError(problem)


def outcomes_sql(policy: Policy, as_of: datetime) -> str:
    """SELECT opportunity_id, outcome (won, lost or open at ``as_of``), closed_at (X when closed by
    then, else NULL) of every deal in ``v_opportunities``, by the policy's stage mapping. A closed
    deal without a close time is open here; the engine refuses it before (an input error)."""
    t = ts(as_of)
    return f"""
        SELECT o.opportunity_id,
            CASE WHEN o.cls <> 'open' AND x.closed_at <= {t} THEN o.cls ELSE 'open' END AS outcome,
            CASE WHEN o.cls <> 'open' AND x.closed_at <= {t} THEN x.closed_at END AS closed_at
        FROM (SELECT opportunity_id, {stage_class_sql("stage", policy)} AS cls FROM v_opportunities) o
        LEFT JOIN ({close_times_sql(policy)}) x ON x.opportunity_id = o.opportunity_id"""


def outcome_changes(con: Engine, current: Policy, proposed: Policy, as_of: datetime) -> list[str]:
    """The deals (sorted) that are won, lost or open at ``as_of``, or close at X, differently under
    the two policies' stage mappings (none when the mappings are the same)."""
    if (current.won_stages, current.lost_stages) == (proposed.won_stages, proposed.lost_stages):
        return []
    rows = con.execute(
        f"""SELECT a.opportunity_id FROM ({outcomes_sql(current, as_of)}) a
            JOIN ({outcomes_sql(proposed, as_of)}) b ON a.opportunity_id = b.opportunity_id
            WHERE a.outcome <> b.outcome OR a.closed_at IS DISTINCT FROM b.closed_at
            ORDER BY a.opportunity_id"""
    ).fetchall()
    return [str(r[0]) for r in rows]


def closed_in(con: Engine, policies: Sequence[Policy], as_of: datetime, period: Period) -> int:
    """How many deals closed (won or lost) by ``as_of`` with X in ``period`` under any of the
    policies' stage mappings."""
    inside = " UNION ".join(
        f"SELECT opportunity_id FROM ({outcomes_sql(p, as_of)}) c "
        f"WHERE c.closed_at >= {ts(period.start)} AND c.closed_at < {ts(period.end)}"
        for p in policies
    )
    row = con.execute(f"SELECT count(*) FROM ({inside}) d").fetchone()
    return 0 if row is None else int(row[0])


def deal_money(con: Engine, policy: Policy, as_of: datetime, ids: Sequence[str]) -> dict[str, DealMoney]:
    """The amounts of the deals ``ids`` (those known and existing at ``as_of``), by id."""
    if not ids:
        return {}
    return _read(con, policy, as_of, sorted(set(ids)))


def _read(con: Engine, policy: Policy, as_of: datetime, ids: list[str]) -> dict[str, DealMoney]:
    ws = policy.workspace_currency
    deals = f"""
        SELECT o.opportunity_id, o.amount, coalesce(nullif(o.currency, ''), {lit(ws)}) AS currency,
            coalesce(o.opportunity_type, '') AS opportunity_type, coalesce(o.owner_id, '') AS owner_id,
            o.created_at, c.outcome, c.closed_at,
            {month_index_sql("o.created_at")} AS created_mi, {month_index_sql("c.closed_at")} AS closed_mi
        FROM v_opportunities o
        JOIN ({outcomes_sql(policy, as_of)}) c ON c.opportunity_id = o.opportunity_id
        WHERE o.opportunity_id IN (SELECT unnest(?::VARCHAR[]))"""
    pairs = (
        "SELECT DISTINCT currency, created_mi AS month_index FROM d "
        "UNION SELECT DISTINCT currency, closed_mi FROM d WHERE closed_mi IS NOT NULL"
    )
    rows = con.execute(
        f"""WITH d AS ({deals}), r AS ({monthly_rates_sql(pairs, policy)})
        SELECT d.opportunity_id, d.amount, d.currency, d.opportunity_type, d.owner_id, d.created_at,
            d.outcome, d.closed_at,
            {convert_sql("d.amount", "rc.rate", policy)} AS pipeline, rc.rate, rc.month, rc.quarter,
            CASE WHEN d.outcome = 'won' THEN {convert_sql("d.amount", "rw.rate", policy)} END AS revenue,
            rw.rate, coalesce(rw.month, ''), coalesce(rw.quarter, '')
        FROM d
        LEFT JOIN r rc ON rc.currency = d.currency AND rc.month_index = d.created_mi
        LEFT JOIN r rw ON rw.currency = d.currency AND rw.month_index = d.closed_mi
        ORDER BY d.opportunity_id""",
        [ids],
    ).fetchall()
    return {
        str(r[0]): DealMoney(
            opportunity_id=str(r[0]),
            amount=r[1],
            currency=str(r[2]),
            opportunity_type=str(r[3]),
            owner_id=str(r[4]),
            created_at=r[5],
            outcome=str(r[6]),
            closed_at=r[7],
            pipeline=r[8],
            pipeline_rate=r[9],
            created_month=str(r[10]),
            created_quarter=str(r[11]),
            revenue=r[12],
            close_rate=r[13],
            close_month=str(r[14]),
            close_quarter=str(r[15]),
        )
        for r in rows
    }
