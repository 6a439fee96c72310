"""Program and direct costs of a period (SPEC section 5), in the workspace currency.

A quarter's costs are the cost rows of the quarter itself and of its three months; a month's are
its own month's rows only. The fully-loaded program cost is the sum of ``program_costs``; when no
``incentives`` row covers the period and the pay ledger has partner entries posted in it, those
entries are the incentives (and the report says so). Ledger entries are read only when the
``ledger_entries`` table exists, only as written by the knowledge instant (``recorded_at``), dated
in the period (``posted_at``) and at or before the as-of instant, for partners, and without payments (the cash movement of a payout run
settles an earning already counted; counting it again would double it): partner payouts and
bonuses, less their reversals and clawbacks.

No cost row at all is not a cost of zero: the cost figures then have no value and say why.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from cosell.engine.sql import lit
from cosell.entries import PAYMENT
from cosell.instants import format_instant
from cosell.metrics.deals import DealFacts, month_labels
from cosell.periods import Period

LEDGER_TABLE = "ledger_entries"
# Ledger entry kinds that move cash rather than record what a partner earned (or lost again).
LEDGER_CASH_KINDS = (PAYMENT,)
_LEDGER_COLUMNS = {"posted_at", "party_kind", "kind", "amount"}


@dataclass(frozen=True)
class PeriodCosts:
    """Costs of one period; ``None`` totals mean no row covers the period."""

    period: Period
    program: Decimal | None  # fully loaded, incentives from the ledger included when used
    by_category: tuple[tuple[str, Decimal], ...]  # sorted by category; "incentives" may be ledger's
    program_rows: int
    incentives_from_ledger: Decimal | None  # set when the ledger supplied the incentives
    ledger_entries: int
    direct: Decimal | None
    direct_rows: int


def cost_labels(period: Period) -> tuple[str, ...]:
    """The cost-row period labels that count for ``period``: a quarter and its months, or a month."""
    return (period.label, *month_labels(period)) if period.is_quarter else (period.label,)


def period_costs(facts: DealFacts, period: Period) -> PeriodCosts:
    """Program and direct costs of ``period`` as known at the report's as-of instant."""
    con = facts.con
    labels = ", ".join(lit(x) for x in cost_labels(period))
    categories = con.execute(
        f"SELECT category, sum(amount), count(*) FROM v_program_costs WHERE period IN ({labels}) "
        "GROUP BY category ORDER BY category"
    ).fetchall()
    by_category = {str(c): Decimal(a) for c, a, _ in categories}
    program_rows = sum(int(n) for _, _, n in categories)
    direct = con.execute(
        f"SELECT sum(amount), count(*) FROM v_direct_costs WHERE period IN ({labels})"
    ).fetchone()
    assert direct is not None
    from_ledger: Decimal | None = None
    entries = 0
    if "incentives" not in by_category:
        from_ledger, entries = _ledger_incentives(facts, period)
        if from_ledger is not None:
            by_category["incentives"] = from_ledger
    program = sum(by_category.values(), Decimal(0)) if by_category else None
    return PeriodCosts(
        period=period,
        program=program,
        by_category=tuple(sorted(by_category.items())),
        program_rows=program_rows,
        incentives_from_ledger=from_ledger,
        ledger_entries=entries,
        direct=Decimal(direct[0]) if direct[1] else None,
        direct_rows=int(direct[1]),
    )


def _ledger_incentives(facts: DealFacts, period: Period) -> tuple[Decimal | None, int]:
    con = facts.con
    columns = {
        str(r[0])
        for r in con.execute(
            f"SELECT column_name FROM information_schema.columns WHERE table_name = ? AND {con.dialect.own_relations}",
            [LEDGER_TABLE],
        ).fetchall()
    }
    if not _LEDGER_COLUMNS.issubset(columns):
        return None, 0
    cash = ", ".join(lit(k) for k in LEDGER_CASH_KINDS)
    # What was known at the knowledge instant: entries written by then (recorded_at; an entry
    # posted late is dated inside its period but written after it). None: every entry written.
    written = "recorded_at" if "recorded_at" in columns else "posted_at"
    known = (
        "" if facts.known_at is None else f"AND {written} <= TIMESTAMPTZ '{format_instant(facts.known_at)}'"
    )
    # In effect at the as-of instant: an entry posted after it (a payout of a deal that was still
    # open then) is no more a cost of the period as of T than that deal's revenue is revenue.
    row = con.execute(
        f"SELECT sum(amount), count(*) FROM {LEDGER_TABLE} WHERE party_kind = 'partner' "
        f"AND kind NOT IN ({cash}) AND posted_at >= ? AND posted_at < ? AND posted_at <= ? {known}",
        [period.start, period.end, facts.as_of],
    ).fetchone()
    if row is None or not row[1]:
        return None, 0
    return Decimal(row[0]), int(row[1])
