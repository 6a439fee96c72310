"""Use cases of partner pay (SPEC section 9): post a period, propose and approve a payout run, read
runs, the ledger and a statement (``cosell payouts ...``).

Posting, proposing and approving are each one transaction, owned here (:mod:`cosell.pay.posting`
and :mod:`cosell.pay.payouts` open none): a posting's entries, its record and what each deal was
priced from; a run with its lines; an approval with its payments, all or nothing. Who may do what:
posting and proposing need a pay operator (finance or admin, when the workspace has users);
approving needs a finance user.
"""

from __future__ import annotations

from dataclasses import dataclass

from cosell import clock
from cosell.entries import Entry
from cosell.errors import CosellError
from cosell.pay.ledger import PAY_OPERATOR_ROLES, pay_month
from cosell.pay.payouts import PayoutRun, RunParty, approve_run, get_run, list_runs, propose_run, run_parties
from cosell.pay.posting import PlanSetPricer, PostingResult, post_period
from cosell.pay.statements import party_names, statement
from cosell.policy import Policy
from cosell.report_model import Report
from cosell.store.ledger import read_entries
from cosell.store.users import check_role
from cosell.store.workspace import Workspace

__all__ = [
    "Entry",
    "PayoutRun",
    "PostingResult",
    "RunParties",
    "approve",
    "ledger",
    "party_statement",
    "payout_run",
    "payout_runs",
    "post",
    "propose",
]


def _operator(ws: Workspace, user: str, what: str) -> str:
    """``user``, checked against the workspace's users when it has any (finance or admin)."""
    check_role(ws.con, user, PAY_OPERATOR_ROLES, what)
    return user


def post(
    ws: Workspace,
    policy: Policy,
    period: str,
    *,
    by_user: str,
    reason: str = "",
    reprice: bool = False,
    recheck: bool = False,
) -> PostingResult:
    """Post into ``period`` (a month) the earnings, reversals and clawbacks that bring the ledger to
    what the current attribution and plans say for every won deal closed before the period ends,
    in one transaction. Again with nothing changed, it posts nothing. Needs a loaded plan."""
    from cosell.pay.plan_versions import load_plan_set

    with ws.transaction():
        plans = load_plan_set(ws.con)
        if not plans.versions:
            raise CosellError("no compensation plan is loaded: cosell plans load FILE")
        user = _operator(ws, by_user, "post pay periods")
        return post_period(
            ws, policy, PlanSetPricer(plans), period, user, clock.now(), reprice=reprice, recheck=recheck,
            reason=reason,
        )  # fmt: skip


@dataclass(frozen=True)
class RunParties:
    """A payout run, its parties (paid, blocked, recovered) and the parties' names."""

    run: PayoutRun
    parties: list[RunParty]
    names: dict[tuple[str, str], str]  # (party_kind, party_id) -> name, where known


def _with_parties(ws: Workspace, run: PayoutRun) -> RunParties:
    return RunParties(run, run_parties(ws.con, run), party_names(ws.con))


def propose(ws: Workspace, policy: Policy, period: str, *, by_user: str, reason: str = "") -> RunParties:
    """Propose a payout run for ``period`` in one transaction: each party's positive balance of the
    periods up to it is paid, a negative one blocked (carried until recovered)."""
    with ws.transaction():
        user = _operator(ws, by_user, "propose payout runs")
        run, _ = propose_run(ws, policy, period, user, clock.now(), reason)
        return _with_parties(ws, run)


def approve(
    ws: Workspace, policy: Policy, run_id: str, *, by_user: str, reason: str = ""
) -> tuple[PayoutRun, int]:
    """Approve a proposed run as a finance user in one transaction: its payments are posted and its
    period and every earlier one are closed. Returns the run as approved and the payments posted."""
    with ws.transaction():
        return approve_run(ws, policy, run_id, by_user, clock.now(), reason)


def payout_runs(ws: Workspace) -> list[PayoutRun]:
    """Every payout run: period, status, what it pays and what is blocked."""
    return list_runs(ws.con)


def payout_run(ws: Workspace, run_id: str) -> RunParties:
    """One payout run with its parties (an unknown id is a :class:`~cosell.errors.NotFound`)."""
    return _with_parties(ws, get_run(ws.con, run_id))


def ledger(
    ws: Workspace,
    *,
    party: tuple[str, str] | None = None,
    opportunity_id: str | None = None,
    period: str | None = None,
) -> list[Entry]:
    """Ledger entries in order, of one party (``(party_kind, party_id)``), deal or period."""
    where, params = ["TRUE"], []
    if party is not None:
        where.append("party_kind = ? AND party_id = ?")
        params += list(party)
    if opportunity_id:
        where.append("opportunity_id = ?")
        params.append(opportunity_id)
    if period is not None:
        pay_month(period, "ledger entries are in months")  # a typo is an error, not an empty ledger
        where.append("period = ?")
        params.append(period)
    return read_entries(ws.con, " AND ".join(where), params)


def party_statement(ws: Workspace, policy: Policy, party_kind: str, party_id: str, period: str) -> Report:
    """A partner's or a rep's statement for ``period``: opening balance, every entry, payments,
    closing balance (a report: rendered like the others)."""
    return statement(ws.con, party_kind, party_id, period, policy.workspace_currency)
