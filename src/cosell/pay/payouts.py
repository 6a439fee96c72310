"""Payout runs: propose what a period pays, approve it as a finance user, and the payments it posts.

A run for period P lists each party's balance over the periods up to P: a positive balance is
paid in full; a negative one (clawbacks not yet recovered) is *blocked*, shown with its amount and
carried into later periods until later earnings recover it. A run is proposed (``payout_runs`` and
``payout_run_lines``, sealed) and approved by a separate sealed row (``payout_approvals``); approval
posts one ``payment`` entry per paid party into period P, which closes P and every earlier period:
nothing posts into them again, and no second run pays them (nothing is paid twice).

A run is approved only as proposed: when entries were posted into its periods after it was
proposed, approval is refused and a new run must be proposed. Proposing and approving open no
transaction: the use cases run each in one (:mod:`cosell.service.pay`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from cosell import clock
from cosell.engine import Engine
from cosell.errors import CosellError, NotAllowed, NotFound, UsageError
from cosell.instants import format_instant
from cosell.money import MONEY_INTEGER_DIGITS, fits_storage, format_money, round_money
from cosell.pay.ledger import PayoutLine, PostingContext, pay_month, payment_entries
from cosell.policy import Policy
from cosell.store.ledger import (
    LEDGER_POSTINGS,
    PAYOUT_APPROVALS,
    PAYOUT_RUN_LINES,
    PAYOUT_RUNS,
    check_ledger_currency,
    closed_through,
    ensure_ledger_schema,
    insert_entries,
    last_entry_number,
    next_posting_id,
    stage_rows,
    verify_ledger,
)
from cosell.store.review import check_not_backdated
from cosell.store.users import check_role, find_user
from cosell.store.workspace import Workspace

APPROVER_ROLE = "finance"


@dataclass(frozen=True)
class PayoutRun:
    """One payout run and where it stands."""

    run_id: str
    period: str
    proposed_at: datetime
    by_user: str
    through_entry: str | None
    parties_paid: int
    total: Decimal
    parties_blocked: int
    blocked_total: Decimal
    currency: str
    reason: str
    status: str  # proposed, approved, superseded (its period was paid by another run)
    approved_at: datetime | None = None
    approved_by: str | None = None
    approval_reason: str | None = None  # why it was approved (payout_approvals.reason)


def propose_run(
    ws: Workspace, policy: Policy, period: str, by_user: str, now: datetime | None = None, reason: str = ""
) -> tuple[PayoutRun, list[PayoutLine]]:
    """Propose a run paying each party's positive balance of the periods up to ``period``.

    Refused when ``period`` has not ended at ``now`` or is already paid.
    """
    con = ws.con
    when = clock.now(now)
    target = pay_month(period, "a payout run pays a month")
    ensure_ledger_schema(con)
    if when < target.end:
        raise CosellError(f"period {period} has not ended at {format_instant(when)}: pay it once it has")
    closed = closed_through(con)
    if closed is not None and period <= closed:
        raise CosellError(f"period {period} is already paid (periods up to {closed} are closed)")
    check_not_backdated(con, when, f"a payout run for {period}")
    check_ledger_currency(con, policy.workspace_currency)
    verify_ledger(con)
    lines = _lines(con, period)
    _check_fits(lines, period, policy.workspace_currency)
    _check_not_reversed_later(con, period, lines)
    through = con.execute("SELECT max(entry_id) FROM ledger_entries WHERE period <= ?", [period]).fetchone()
    row = con.execute("SELECT count(*) + 1 FROM payout_runs").fetchone()
    assert row is not None and through is not None
    run = PayoutRun(
        run_id=f"PR-{int(row[0]):06d}",
        period=period,
        proposed_at=when,
        by_user=by_user,
        through_entry=through[0],
        parties_paid=sum(1 for x in lines if x.status == "pay"),
        total=sum((x.pay for x in lines), Decimal(0)),
        parties_blocked=sum(1 for x in lines if x.status == "blocked"),
        blocked_total=sum((x.balance for x in lines if x.status == "blocked"), Decimal(0)),
        currency=policy.workspace_currency,
        reason=reason,
        status="proposed",
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _payout_run AS SELECT ? AS run_id, ? AS period, "
        "?::TIMESTAMPTZ AS proposed_at, ? AS by_user, ? AS through_entry, ?::INTEGER AS parties_paid, "
        "?::DECIMAL(18,4) AS total, ?::INTEGER AS parties_blocked, ?::DECIMAL(18,4) AS blocked_total, "
        "? AS currency, ? AS reason",
        [run.run_id, period, when, by_user, run.through_entry, run.parties_paid, run.total,
         run.parties_blocked, run.blocked_total, run.currency, reason],
    )  # fmt: skip
    PAYOUT_RUNS.insert(con, "_payout_run")
    stage_rows(
        con,
        "_payout_lines",
        PAYOUT_RUN_LINES.columns,
        [(run.run_id, x.party_kind, x.party_id, x.balance, x.pay, x.status) for x in lines],
    )
    PAYOUT_RUN_LINES.insert(con, "_payout_lines")
    con.execute("DROP TABLE _payout_run")
    con.execute("DROP TABLE _payout_lines")
    return run, lines


def _check_fits(lines: list[PayoutLine], period: str, currency: str) -> None:
    """A run records each party's balance and its totals as ledger amounts (DECIMAL(18,4)): one
    that does not fit is refused by name, not left to the database's conversion error."""
    paid = sum((x.pay for x in lines), Decimal(0))
    blocked = sum((x.balance for x in lines if x.status == "blocked"), Decimal(0))
    amounts = [(f"{x.party_kind} {x.party_id}", x.balance) for x in lines]
    amounts += [("the total paid", paid), ("the total blocked", blocked)]
    # Ledger amounts are sums of earnings rounded to the minor unit: shown as a statement shows them.
    too_large = [
        f"{who} {format_money(round_money(amount, currency), currency)}"
        for who, amount in amounts
        if not fits_storage(amount)
    ]
    if too_large:
        raise CosellError(
            f"a payout run for {period} cannot be recorded: {'; '.join(too_large)}: more than "
            f"{MONEY_INTEGER_DIGITS} digits before the decimal point (what the ledger holds)"
        )


def _check_not_reversed_later(con: Engine, period: str, lines: list[PayoutLine]) -> None:
    """Refuse to pay a party for ``period`` when a later period already reversed, as unpaid, one of
    its earnings of ``period`` or earlier: the run would pay what was taken back, and that
    reversal would then stand for a clawback of paid money (SPEC section 6). A run for the later
    period pays every earlier one too, with the reversal netted."""
    paid = {(x.party_kind, x.party_id) for x in lines if x.status == "pay"}
    rows = con.execute(
        """SELECT r.entry_id, r.period, r.party_kind, r.party_id, e.entry_id, e.period
           FROM ledger_entries r JOIN ledger_entries e ON e.entry_id = r.reverses
           WHERE r.kind = 'reversal' AND r.period > ? AND e.period <= ? ORDER BY r.entry_id""",
        [period, period],
    ).fetchall()
    found = [r for r in rows if (r[2], r[3]) in paid]
    if found:
        entry, later, kind, party, earning, earned = found[0]
        latest = max(r[1] for r in found)
        raise CosellError(
            f"a payout run for {period} would pay {kind} {party} for {earning} ({earned}), which {entry} "
            f"in {later} already reversed as unpaid: pay {latest} instead (a run for it pays every "
            "earlier period too, net of the reversal)"
        )


def _lines(con: Engine, period: str) -> list[PayoutLine]:
    """Each party's balance over the periods up to ``period`` (zero balances left out)."""
    rows = con.execute(
        "SELECT party_kind, party_id, sum(amount) FROM ledger_entries WHERE period <= ? "
        "GROUP BY ALL HAVING sum(amount) <> 0 ORDER BY 1, 2",
        [period],
    ).fetchall()
    out = []
    for kind, party, balance in rows:
        amount = Decimal(balance)
        if amount > 0:
            out.append(PayoutLine(kind, party, amount, amount, "pay"))
        else:
            out.append(PayoutLine(kind, party, amount, Decimal(0), "blocked"))
    return out


def check_approver(con: Engine, user_id: str) -> None:
    """Only a current user with role finance approves a payout run (SPEC section 9). Unlike a
    command that any user may run without a directory (:func:`check_role`), an approval needs one:
    money leaves the company only on a known finance user's word."""
    if not user_id.strip():
        raise UsageError("say who approves: --by FINANCE_USER (recorded with the approval)")
    try:
        user = find_user(con, user_id)
    except NotFound:
        raise NotAllowed(
            f"{user_id} is not a user of this workspace: only a finance user approves payout runs"
        ) from None
    if user is None:
        raise NotAllowed(
            "the workspace has no users, so nobody can be checked as a finance user: import users "
            "(with role finance for the approvers) before approving payout runs"
        )
    if user.role != APPROVER_ROLE:
        raise NotAllowed(
            f"only a finance user approves payout runs: {user_id} has role {user.role or 'none'}"
        )
    check_role(con, user_id, (APPROVER_ROLE,), "approve payout runs")  # nor one who works for a partner


def check_four_eyes(run: PayoutRun, user_id: str) -> None:
    """Who proposed a run does not approve it. SPEC sections 6 and 9 are silent (they name only the
    approver's role); a controller's segregation of duties expects a second pair of eyes on money
    leaving the company, so even a finance user who proposed a run leaves its approval to another."""
    if run.by_user == user_id:
        raise NotAllowed(
            f"run {run.run_id} was proposed by {run.by_user}: the user who proposes a payout run does not "
            "approve it (four eyes): another finance user approves it"
        )


def approve_run(
    ws: Workspace, policy: Policy, run_id: str, by_user: str, now: datetime | None = None, reason: str = ""
) -> tuple[PayoutRun, int]:
    """Approve a proposed run as ``by_user`` (a finance user): post its payments, close its period.

    Returns the run as approved and the number of payment entries posted.
    """
    con = ws.con
    when = clock.now(now)
    # Who first: a run's existence, status and approver are no answer for a partner user or a rep.
    check_approver(con, by_user)
    run = get_run(con, run_id)
    if run.status == "approved":
        when_approved = format_instant(run.approved_at) if run.approved_at else "an unrecorded instant"
        raise CosellError(f"run {run_id} was already approved at {when_approved} by {run.approved_by}")
    check_four_eyes(run, by_user)
    closed = closed_through(con)
    if closed is not None and run.period <= closed:
        raise CosellError(f"run {run_id} is superseded: periods up to {closed} are already paid")
    check_not_backdated(con, when, f"approving run {run_id}")
    check_ledger_currency(con, policy.workspace_currency)
    verify_ledger(con)
    newest = con.execute(
        "SELECT max(entry_id) FROM ledger_entries WHERE period <= ?", [run.period]
    ).fetchone()
    if newest is None or newest[0] != run.through_entry:
        raise CosellError(
            f"the ledger changed since run {run_id} was proposed (entries posted into {run.period} or "
            "earlier): propose a new run"
        )
    lines = run_lines(con, run_id)
    _check_not_reversed_later(con, run.period, lines)
    posting_id = next_posting_id(con)
    ctx = PostingContext(posting_id, when, run.period, policy.workspace_currency, by_user)
    payments = payment_entries(last_entry_number(con), lines, run_id, ctx)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _payout_posting AS SELECT ?::BIGINT AS posting_id, "
        "?::TIMESTAMPTZ AS posted_at, ? AS period, 'payment' AS action, ? AS by_user, ? AS reason, "
        "? AS summary",
        [posting_id, when, run.period, by_user, reason or f"approval of {run_id}",
         f'{{"payments": {len(payments)}, "run_id": "{run_id}"}}'],
    )  # fmt: skip
    LEDGER_POSTINGS.insert(con, "_payout_posting")
    insert_entries(con, payments)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _payout_approval AS SELECT ? AS run_id, ?::TIMESTAMPTZ AS approved_at, "
        "? AS by_user, ? AS reason, ?::BIGINT AS posting_id",
        [run_id, when, by_user, reason, posting_id],
    )
    PAYOUT_APPROVALS.insert(con, "_payout_approval")
    con.execute("DROP TABLE _payout_posting")
    con.execute("DROP TABLE _payout_approval")
    return get_run(con, run_id), len(payments)


_RUN_SELECT = """
    SELECT r.run_id, r.period, r.proposed_at, r.by_user, r.through_entry, r.parties_paid, r.total,
           r.parties_blocked, r.blocked_total, r.currency, r.reason, a.approved_at, a.by_user, a.reason
    FROM payout_runs r LEFT JOIN payout_approvals a ON a.run_id = r.run_id"""


def _run(row: tuple[Any, ...], closed: str | None) -> PayoutRun:
    approved_at = row[11]
    if approved_at is not None:
        status = "approved"
    elif closed is not None and row[1] <= closed:
        status = "superseded"
    else:
        status = "proposed"
    return PayoutRun(
        run_id=row[0], period=row[1], proposed_at=clock.now(row[2]), by_user=row[3], through_entry=row[4],
        parties_paid=int(row[5]), total=Decimal(row[6]), parties_blocked=int(row[7]),
        blocked_total=Decimal(row[8]), currency=row[9], reason=row[10], status=status,
        approved_at=None if approved_at is None else clock.now(approved_at), approved_by=row[12],
        approval_reason=row[13],
    )  # fmt: skip


def get_run(con: Engine, run_id: str) -> PayoutRun:
    ensure_ledger_schema(con)
    row = con.execute(f"{_RUN_SELECT} WHERE r.run_id = ?", [run_id]).fetchone()
    if row is None:
        raise NotFound(f"no payout run {run_id}: see `cosell payouts list`")
    return _run(row, closed_through(con))


def list_runs(con: Engine) -> list[PayoutRun]:
    """Every payout run, oldest first."""
    ensure_ledger_schema(con)
    closed = closed_through(con)
    return [_run(r, closed) for r in con.execute(f"{_RUN_SELECT} ORDER BY r.run_id").fetchall()]


def run_lines(con: Engine, run_id: str) -> list[PayoutLine]:
    """The parties of a run: what each is paid, or blocked with its negative balance."""
    rows = con.execute(
        "SELECT party_kind, party_id, balance, pay, status FROM payout_run_lines WHERE run_id = ? "
        "ORDER BY party_kind, party_id",
        [run_id],
    ).fetchall()
    return [PayoutLine(k, p, Decimal(b), Decimal(x), s) for k, p, b, x, s in rows]


@dataclass(frozen=True)
class RunParty:
    """One party of a payout run, with what its earnings recovered of a carried negative balance."""

    party_kind: str
    party_id: str
    balance: Decimal  # over the periods up to the run's, when it was proposed
    recovered: Decimal  # of the negative balance carried into the run, what the run's periods recovered
    pay: Decimal
    status: str  # pay, blocked, or recovered (a carried balance recovered to exactly zero: no line)


def carried_balances(con: Engine, period: str) -> dict[tuple[str, str], Decimal]:
    """Each party's negative balance carried into a run for ``period``: its balance through the
    latest period an approved run closed before ``period`` (closed periods never change again)."""
    rows = con.execute(
        """WITH closed AS (SELECT max(r.period) AS through FROM payout_runs r JOIN payout_approvals a
                           ON a.run_id = r.run_id WHERE r.period < ?)
           SELECT e.party_kind, e.party_id, sum(e.amount) FROM ledger_entries e, closed
           WHERE e.period <= closed.through GROUP BY ALL HAVING sum(e.amount) < 0 ORDER BY 1, 2""",
        [period],
    ).fetchall()
    return {(str(k), str(p)): Decimal(b) for k, p, b in rows}


def recovered_amount(carried: Decimal, balance: Decimal) -> Decimal:
    """What later earnings recovered of a carried negative balance, now that the balance is ``balance``:
    all of it once the balance is back at or above zero, else the part made up.

    >>> recovered_amount(Decimal("-900"), Decimal("600")), recovered_amount(Decimal("-900"), Decimal("-400"))
    (Decimal('900'), Decimal('500'))
    """
    if carried >= 0:
        return Decimal(0)
    return min(-carried, max(Decimal(0), balance - carried))


def run_parties(con: Engine, run: PayoutRun) -> list[RunParty]:
    """The parties of a run (paid and blocked) and what each recovered of a balance carried into it;
    a party whose carried balance the run's periods recovered to exactly zero is listed too, as
    ``recovered`` (it has no line: nothing to pay, nothing carried)."""
    carried = carried_balances(con, run.period)
    lines = {(x.party_kind, x.party_id): x for x in run_lines(con, run.run_id)}
    at_proposal: dict[tuple[str, str], Decimal] = {}
    if carried and run.through_entry is not None:
        rows = con.execute(
            "SELECT party_kind, party_id, sum(amount) FROM ledger_entries WHERE period <= ? AND entry_id <= ? "
            "GROUP BY ALL ORDER BY 1, 2",
            [run.period, run.through_entry],
        ).fetchall()
        at_proposal = {(str(k), str(p)): Decimal(b) for k, p, b in rows if (str(k), str(p)) in carried}
    out = []
    for party in sorted(set(lines) | {p for p, b in at_proposal.items() if b == 0}):
        line = lines.get(party)
        balance = line.balance if line is not None else Decimal(0)
        recovered = recovered_amount(carried.get(party, Decimal(0)), balance)
        if line is None:
            out.append(RunParty(*party, balance, recovered, Decimal(0), "recovered"))
        else:
            out.append(RunParty(*party, balance, recovered, line.pay, line.status))
    return out


def party_runs(con: Engine, party_kind: str, party_id: str, period: str) -> list[tuple[PayoutRun, RunParty]]:
    """The runs for ``period`` that list the party (superseded runs left out), with its line."""
    out = []
    for run in list_runs(con):
        if run.period != period or run.status == "superseded":
            continue
        for party in run_parties(con, run):
            if (party.party_kind, party.party_id) == (party_kind, party_id):
                out.append((run, party))
    return out
