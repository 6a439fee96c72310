"""A party's statement for one period, as a :class:`~cosell.report_model.Report`.

Opening balance (every earlier period), each entry of the period traceable to its deal, rule, plan
version and attribution version (reversals and clawbacks with the entry they reverse and why),
the payments, and the closing balance; opening + movements = closing, to the cent. The shared
renderers (:func:`cosell.reports.render.render`) turn it into a table, JSON, CSV, XLSX, HTML or PDF.

Each entry line shows, beside its deal id, the deal as it was when the entry was posted: the
account's name, the deal's amount and currency and its close date (``ledger_posted_deals``; for
entries posted before cosell recorded them, the deal as the CRM has it now). A balance carried
negative from earlier periods shows what this period's earnings recovered of it; a negative closing
balance and a blocked payout are raised as alerts, which every format shows first and marked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from decimal import Decimal
from typing import Any

from cosell.engine import Engine
from cosell.entries import PAYMENT, Entry
from cosell.errors import NotFound, UsageError
from cosell.money import round_money
from cosell.pay.ledger import StatementTotals, statement_totals
from cosell.pay.payouts import PayoutRun, RunParty, party_runs, recovered_amount
from cosell.periods import parse_period
from cosell.report_model import Alert, Column, Figure, Report, Section, Table, Value, display
from cosell.store.ledger import check_ledger_currency, closed_through, read_entries

_KIND_WORDS = {
    "partner_payout": "payout",
    "rep_commission": "commission",
    "bonus": "bonus",
    "reversal": "reversal (unpaid)",
    "clawback": "clawback (paid)",
    "payment": "payment",
}


def party_name(con: Engine, party_kind: str, party_id: str) -> str | None:
    """The party's name from the current partners or users (None when unknown)."""
    table, key = ("cur_partners", "partner_id") if party_kind == "partner" else ("cur_users", "user_id")
    row = con.execute(f"SELECT coalesce(name, '') FROM {table} WHERE {key} = ?", [party_id]).fetchone()
    return None if row is None else str(row[0])


def party_names(con: Engine) -> dict[tuple[str, str], str]:
    """Every partner's and user's name by (party_kind, party_id); a user is a ``rep`` party."""
    rows = con.execute(
        "SELECT 'partner', partner_id, coalesce(name, '') FROM cur_partners "
        "UNION ALL SELECT 'rep', user_id, coalesce(name, '') FROM cur_users ORDER BY 1, 2"
    ).fetchall()
    return {(str(k), str(p)): str(n) for k, p, n in rows}


def no_statement(party_kind: str, party_id: str) -> NotFound:
    """The refusal of a statement of a party cosell knows nothing of: also what a reader limited to
    its own party is told of anyone else's (SPEC section 9: existence must not leak), so the two
    read the same."""
    noun = "partner" if party_kind == "partner" else "user"
    return NotFound(f"no {noun} {party_id} in this workspace and no ledger entries for it")


def statement(
    con: Engine,
    party_kind: str,
    party_id: str,
    period: str,
    currency: str,
    *,
    hide: Callable[[str], str] | None = None,
) -> Report:
    """The statement of one partner or rep for one month. ``hide`` rewrites the free text of each
    entry (its basis and reason) for a reader who may not see all of it: a partner user, who never
    reads another partner's name in a reason written by partner_ops."""
    if party_kind not in ("partner", "rep"):
        raise UsageError(f"a statement is for a partner or a rep, not {party_kind!r}")
    try:
        target = parse_period(period)
    except ValueError as exc:
        raise UsageError(f"--period: {exc}") from None
    if target.is_quarter:
        raise UsageError(f"statements are monthly: {period} is a quarter")
    check_ledger_currency(con, currency)
    name = party_name(con, party_kind, party_id)
    entries = read_entries(
        con, "party_kind = ? AND party_id = ? AND period <= ?", [party_kind, party_id, period]
    )
    if name is None and not entries:
        raise no_statement(party_kind, party_id)
    totals = statement_totals(entries, (party_kind, party_id), period)
    in_period = [e for e in entries if e.period == period]
    moves = [e for e in in_period if e.kind != PAYMENT]
    payments = [e for e in in_period if e.kind == PAYMENT]
    runs = party_runs(con, party_kind, party_id, period)
    blocked = [(run, line) for run, line in runs if line.status == "blocked"]
    noun = "partner" if party_kind == "partner" else "rep"

    notes = [
        "Opening balance + earnings + reversals + clawbacks + payments = closing balance. Entries land "
        "in the period in which they are posted; a paid period is never reopened."
    ]
    closed = closed_through(con)
    if closed is not None and period <= closed:
        notes.append(f"Period {period} is paid and closed.")
    else:
        notes.append(f"Period {period} is open: entries may still be posted into it.")
    who = f"{name} ({party_id})" if name else party_id
    return Report(
        key="statement",
        title=f"{noun.capitalize()} statement: {who}",
        subtitle=f"Period {period} ({target.days}), in {currency}",
        currency=currency,
        facts=(
            ("party", f"{party_kind} {party_id}"),
            ("name", name or ""),
            ("period", period),
            ("currency", currency),
            ("entries", str(len(in_period))),
        ),
        sections=(
            Section("summary", "Balance", figures=_figures(totals, moves, currency), notes=tuple(notes)),
            Section("entries", "Entries of the period", table=_entry_table(con, moves, currency, hide)),
            Section("payments", "Payments", table=_payment_table(payments, blocked, currency)),
        ),
        alerts=_alerts(totals, blocked, noun, currency),
    )


def _figures(totals: StatementTotals, moves: list[Entry], currency: str) -> tuple[Figure, ...]:
    def money(value: Decimal) -> Decimal:
        return round_money(value, currency)

    # A balance carried negative into the period: what the period's earnings, net of its reversals
    # and clawbacks, made up of it (payments never do: a negative balance is paid nothing).
    recovered: tuple[Figure, ...] = ()
    if totals.opening < 0:
        net = totals.earnings + totals.reversals + totals.clawbacks
        recovered = (
            Figure(
                "recovered_from_carried_balance",
                "Recovered from carried balance",
                money(recovered_amount(totals.opening, totals.opening + net)),
                "money",
                note=f"of the {display(money(totals.opening), 'money', currency)} carried into the period",
            ),
        )
    negative = "negative: carried into later periods; payouts blocked until recovered"
    deals = len({e.opportunity_id for e in moves})
    return (
        Figure("opening_balance", "Opening balance", money(totals.opening), "money"),
        Figure(
            "earnings", "Earnings", money(totals.earnings), "money", deals=deals, deals_label="deals", beside=recovered
        ),
        Figure("reversals", "Reversals of unpaid earnings", money(totals.reversals), "money"),
        Figure("clawbacks", "Clawbacks of paid earnings", money(totals.clawbacks), "money"),
        Figure("payments", "Payments", money(totals.payments), "money"),
        Figure(
            "closing_balance", "Closing balance", money(totals.closing), "money",
            note=negative if totals.closing < 0 else "",
        ),
    )  # fmt: skip


def _alerts(
    totals: StatementTotals, blocked: list[tuple[PayoutRun, RunParty]], noun: str, currency: str
) -> tuple[Alert, ...]:
    closing = display(round_money(totals.closing, currency), "money", currency)
    negative = totals.closing < 0
    why = []
    for run, line in blocked:
        state = "approved" if run.status == "approved" else "proposed, not approved yet"
        why.append(
            f"payout run {run.run_id} ({state}) pays this {noun} nothing: its balance of "
            f"{display(round_money(line.balance, currency), 'money', currency)} is carried"
        )
    if negative:
        why.append(f"no payout run pays this {noun} until later earnings bring its balance above zero")
    return (
        Alert(
            "negative_closing_balance",
            "Negative closing balance",
            negative,
            f"the closing balance of {closing} is below zero (more was taken back than earned); it is carried "
            "into later periods and netted against later earnings, never dropped."
            if negative
            else "",
            "closing_balance",
        ),
        Alert(
            "payouts_blocked",
            "Payouts blocked",
            bool(why),
            "; ".join(why) + "." if why else "",
            "closing_balance",
        ),
    )


_ENTRY_COLUMNS = (
    Column("entry_id", "Entry", "id"),
    Column("posted_at", "Dated", under="entry_id"),
    Column("recorded_at", "Recorded", under="entry_id"),
    Column("opportunity_id", "Deal", "id"),
    Column("account_name", "Account", under="opportunity_id"),
    Column("deal_amount", "Deal amount", "money", under="opportunity_id", currency_key="deal_currency"),
    Column("deal_currency", "Deal currency", shown=False),
    Column("closed_on", "Closed", under="opportunity_id"),
    Column("kind", "Kind"),
    Column("rule_id", "Rule", "id"),
    Column("plan_version", "Plan version", "id", under="rule_id"),
    Column("attribution_version", "Attribution version", "count", under="rule_id"),
    Column("amount", "Amount", "money"),
    Column("reverses", "Reverses", "id", under="entry_id"),
    Column("basis", "Basis"),
    Column("reason", "Reason"),
)

# The deal of each entry as posted (ledger_posted_deals); for entries posted before those were
# recorded, the deal as the CRM has it now.
_DEAL_SQL = """
    SELECT e.entry_id,
           CASE WHEN p.posting_id IS NULL THEN a.name ELSE p.account_name END,
           CASE WHEN p.posting_id IS NULL THEN o.amount ELSE p.amount END,
           CASE WHEN p.posting_id IS NULL THEN coalesce(nullif(o.currency, ''), ?) ELSE p.currency END,
           CASE WHEN p.posting_id IS NULL THEN o.close_date ELSE p.closed_at END
    FROM ledger_entries e
    LEFT JOIN ledger_posted_deals p ON p.posting_id = e.posting_id AND p.opportunity_id = e.opportunity_id
    LEFT JOIN cur_opportunities o ON o.opportunity_id = e.opportunity_id
    LEFT JOIN cur_accounts a ON a.account_id = o.account_id
    WHERE list_contains(?, e.entry_id)
    ORDER BY e.entry_id"""


def _deals(con: Engine, entries: list[Entry], currency: str) -> dict[str, dict[str, Value]]:
    rows = con.execute(_DEAL_SQL, [currency, [e.entry_id for e in entries]]).fetchall() if entries else []
    out: dict[str, dict[str, Value]] = {}
    for entry, account, amount, deal_currency, closed in rows:
        out[str(entry)] = {
            "account_name": account,
            "deal_amount": None if amount is None else round_money(Decimal(amount), str(deal_currency)),
            "deal_currency": deal_currency,
            "closed_on": None if closed is None else closed.astimezone(UTC).date(),
        }
    return out


def _entry_table(
    con: Engine, entries: list[Entry], currency: str, hide: Callable[[str], str] | None
) -> Table:
    deals = _deals(con, entries, currency)
    seen = hide or str
    rows: tuple[dict[str, Value], ...] = tuple(
        {
            "entry_id": e.entry_id,
            "posted_at": e.posted_at.date(),
            "recorded_at": e.recorded_at.date(),
            "opportunity_id": e.opportunity_id or "",
            **deals.get(e.entry_id, {}),
            "kind": _KIND_WORDS.get(e.kind, e.kind),
            "rule_id": e.rule_id or "",
            "plan_version": e.plan_version or "",
            "attribution_version": e.attribution_run_id,
            "amount": round_money(e.amount, currency),
            "reverses": e.reverses or "",
            "basis": seen(e.basis),
            "reason": seen(e.reason),
        }
        for e in entries
    )
    return Table(_ENTRY_COLUMNS, rows)


_PAYMENT_COLUMNS = (
    Column("entry_id", "Entry", "id"),
    Column("posted_at", "Dated"),
    Column("recorded_at", "Approved"),
    Column("payout_run_id", "Payout run", "id"),
    Column("approved_by", "Approved by", "id"),
    Column("status", "Status"),
    Column("balance", "Balance at the run", "money"),
    Column("amount", "Amount", "money"),
)


def _payment_table(entries: list[Entry], blocked: list[tuple[PayoutRun, RunParty]], currency: str) -> Table:
    """The payments of the period, then the payout runs of the period that blocked the party."""
    paid: list[dict[str, Value]] = [
        {
            "entry_id": e.entry_id,
            "posted_at": e.posted_at.date(),
            "recorded_at": e.recorded_at.date(),
            "payout_run_id": e.payout_run_id or "",
            "approved_by": e.by_user,
            "status": "paid",
            "balance": round_money(-e.amount, currency),
            "amount": round_money(e.amount, currency),
        }
        for e in entries
    ]
    held: list[dict[str, Any]] = [
        {
            "entry_id": "",
            "posted_at": None,
            "recorded_at": None if run.approved_at is None else run.approved_at.date(),
            "payout_run_id": run.run_id,
            "approved_by": run.approved_by or "",
            "status": "blocked" if run.status == "approved" else "blocked (run not approved yet)",
            "balance": round_money(line.balance, currency),
            "amount": round_money(Decimal(0), currency),
        }
        for run, line in blocked
    ]
    return Table(_PAYMENT_COLUMNS, tuple(paid + held))
