"""A party's statement for one period, as a :class:`~cosell.reports.model.Report`.

Opening balance (every earlier period), each entry of the period traceable to its deal, rule, plan
version and attribution version (reversals and clawbacks with the entry they reverse and why),
the payments, and the closing balance; opening + movements = closing, to the cent. The shared
renderers (:func:`cosell.reports.render.render`) turn it into a table, JSON, CSV, XLSX, HTML or PDF.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb

from cosell.errors import NotFound, UsageError
from cosell.instants import format_instant
from cosell.money import round_money
from cosell.pay.ledger import PAYMENT, Entry, statement_totals
from cosell.pay.ledger_store import closed_through, read_entries
from cosell.periods import parse_period
from cosell.reports.model import Column, Figure, Report, Section, Table, Value

_KIND_WORDS = {
    "partner_payout": "payout",
    "rep_commission": "commission",
    "bonus": "bonus",
    "reversal": "reversal (unpaid)",
    "clawback": "clawback (paid)",
    "payment": "payment",
}


def party_name(con: duckdb.DuckDBPyConnection, party_kind: str, party_id: str) -> str | None:
    """The party's name from the current partners or users (None when unknown)."""
    table, key = ("cur_partners", "partner_id") if party_kind == "partner" else ("cur_users", "user_id")
    row = con.execute(f"SELECT coalesce(name, '') FROM {table} WHERE {key} = ?", [party_id]).fetchone()
    return None if row is None else str(row[0])


def statement(
    con: duckdb.DuckDBPyConnection, party_kind: str, party_id: str, period: str, currency: str
) -> Report:
    """The statement of one partner or rep for one month."""
    if party_kind not in ("partner", "rep"):
        raise UsageError(f"a statement is for a partner or a rep, not {party_kind!r}")
    try:
        target = parse_period(period)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if target.is_quarter:
        raise UsageError(f"statements are monthly: {period} is a quarter")
    name = party_name(con, party_kind, party_id)
    entries = read_entries(
        con, "party_kind = ? AND party_id = ? AND period <= ?", [party_kind, party_id, period]
    )
    if name is None and not entries:
        noun = "partner" if party_kind == "partner" else "user"
        raise NotFound(f"no {noun} {party_id} in this workspace and no ledger entries for it")
    totals = statement_totals(entries, (party_kind, party_id), period)
    in_period = [e for e in entries if e.period == period]
    moves = [e for e in in_period if e.kind != PAYMENT]
    payments = [e for e in in_period if e.kind == PAYMENT]

    deals = len({e.opportunity_id for e in moves})

    def money(value: Decimal) -> Decimal:
        return round_money(value, currency)

    figures = (
        Figure("opening_balance", "Opening balance", money(totals.opening), "money"),
        Figure("earnings", "Earnings", money(totals.earnings), "money", deals=deals, deals_label="deals"),
        Figure("reversals", "Reversals of unpaid earnings", money(totals.reversals), "money"),
        Figure("clawbacks", "Clawbacks of paid earnings", money(totals.clawbacks), "money"),
        Figure("payments", "Payments", money(totals.payments), "money"),
        Figure("closing_balance", "Closing balance", money(totals.closing), "money"),
    )
    notes = [
        "Opening balance + earnings + reversals + clawbacks + payments = closing balance. Entries land "
        "in the period in which they are posted; a paid period is never reopened."
    ]
    if totals.closing < 0:
        notes.append(
            f"Negative balance {money(totals.closing)} {currency} carried: payouts to this party are "
            "blocked until later earnings recover it."
        )
    closed = closed_through(con)
    if closed is not None and period <= closed:
        notes.append(f"Period {period} is paid and closed.")
    else:
        notes.append(f"Period {period} is open: entries may still be posted into it.")
    who = f"{name} ({party_id})" if name else party_id
    noun = "Partner" if party_kind == "partner" else "Rep"
    return Report(
        key="statement",
        title=f"{noun} statement: {who}",
        subtitle=f"Period {period} ({format_instant(target.start)[:10]} to {format_instant(target.end)[:10]}, "
        f"exclusive), in {currency}",
        currency=currency,
        facts=(
            ("party", f"{party_kind} {party_id}"),
            ("name", name or ""),
            ("period", period),
            ("currency", currency),
            ("entries", str(len(in_period))),
        ),
        sections=(
            Section("summary", "Balance", figures=figures, notes=tuple(notes)),
            Section("entries", "Entries of the period", table=_entry_table(moves, currency)),
            Section("payments", "Payments", table=_payment_table(payments, currency)),
        ),
    )


_ENTRY_COLUMNS = (
    Column("entry_id", "Entry"),
    Column("posted_at", "Dated"),
    Column("recorded_at", "Recorded"),
    Column("opportunity_id", "Deal"),
    Column("kind", "Kind"),
    Column("rule_id", "Rule"),
    Column("plan_version", "Plan version"),
    Column("attribution_version", "Attribution version", "count"),
    Column("amount", "Amount", "money"),
    Column("reverses", "Reverses"),
    Column("basis", "Basis"),
    Column("reason", "Reason"),
)


def _entry_table(entries: list[Entry], currency: str) -> Table:
    rows: tuple[dict[str, Value], ...] = tuple(
        {
            "entry_id": e.entry_id,
            "posted_at": e.posted_at.date(),
            "recorded_at": e.recorded_at.date(),
            "opportunity_id": e.opportunity_id or "",
            "kind": _KIND_WORDS.get(e.kind, e.kind),
            "rule_id": e.rule_id or "",
            "plan_version": e.plan_version or "",
            "attribution_version": e.attribution_run_id,
            "amount": round_money(e.amount, currency),
            "reverses": e.reverses or "",
            "basis": e.basis,
            "reason": e.reason,
        }
        for e in entries
    )
    return Table(_ENTRY_COLUMNS, rows)


_PAYMENT_COLUMNS = (
    Column("entry_id", "Entry"),
    Column("posted_at", "Dated"),
    Column("recorded_at", "Approved"),
    Column("payout_run_id", "Payout run"),
    Column("approved_by", "Approved by"),
    Column("amount", "Amount", "money"),
)


def _payment_table(entries: list[Entry], currency: str) -> Table:
    rows: tuple[dict[str, Value], ...] = tuple(
        {
            "entry_id": e.entry_id,
            "posted_at": e.posted_at.date(),
            "recorded_at": e.recorded_at.date(),
            "payout_run_id": e.payout_run_id or "",
            "approved_by": e.by_user,
            "amount": round_money(e.amount, currency),
        }
        for e in entries
    )
    return Table(_PAYMENT_COLUMNS, rows)
