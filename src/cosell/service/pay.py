"""Use cases of partner pay (SPEC section 9): post a period, propose and approve a payout run, read
runs, the ledger and a statement (``cosell payouts ...``).

Posting, proposing and approving are each one transaction, owned here (:mod:`cosell.pay.posting`
and :mod:`cosell.pay.payouts` open none): a posting's entries, its record and what each deal was
priced from; a run with its lines; an approval with its payments, all or nothing. Who may do what:
posting and proposing need a pay operator (finance or admin, when the workspace has users);
approving needs a finance user.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from cosell import clock
from cosell.entries import Entry
from cosell.errors import CosellError, NotAllowed
from cosell.pay.ledger import PAY_OPERATOR_ROLES, pay_month
from cosell.pay.payouts import PayoutRun, RunParty, approve_run, get_run, list_runs, propose_run, run_parties
from cosell.pay.posting import PostingResult, post_period
from cosell.pay.pricers import PlanSetPricer
from cosell.pay.statements import no_statement, party_names, statement
from cosell.policy import Policy
from cosell.report_model import Report
from cosell.service.channel import other_partners
from cosell.store.ledger import read_entries
from cosell.store.users import check_role, find_user, party_scope_of
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
    "reader_party",
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
    from cosell.hygiene.decisions import check_reason  # lazy: the readers of pay never need it
    from cosell.pay.plan_versions import load_plan_set

    why = check_reason(reason, "a posting")
    with ws.transaction():
        plans = load_plan_set(ws.con)
        if not plans.versions:
            raise CosellError("no compensation plan is loaded: cosell plans load FILE")
        user = _operator(ws, by_user, "post pay periods")
        return post_period(
            ws, policy, PlanSetPricer(plans), period, user, clock.now(), reprice=reprice, recheck=recheck,
            reason=why,
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
    from cosell.hygiene.decisions import check_reason

    why = check_reason(reason, "a payout run")
    with ws.transaction():
        user = _operator(ws, by_user, "propose payout runs")
        run, _ = propose_run(ws, policy, period, user, clock.now(), why)
        return _with_parties(ws, run)


def approve(
    ws: Workspace, policy: Policy, run_id: str, *, by_user: str, reason: str = ""
) -> tuple[PayoutRun, int]:
    """Approve a proposed run as a finance user in one transaction: its payments are posted and its
    period and every earlier one are closed. Returns the run as approved and the payments posted."""
    from cosell.hygiene.decisions import check_reason

    why = check_reason(reason, "an approval")
    with ws.transaction():
        return approve_run(ws, policy, run_id, by_user, clock.now(), why)


def reader_party(ws: Workspace, viewer: str | None) -> tuple[str, str] | None:
    """The one pay party ``viewer`` may read (SPEC section 9): a partner user its partner, a rep
    (ae, sdr) itself; None for finance, partner_ops and admin, and when no reader is named (the
    workspace's owner at a terminal) or the workspace has no users. An unknown reader is refused
    naming ``--by``: it would otherwise read as a party that has no entries. A reader with no role
    of these (a user imported without one) reads nothing: not every party's pay."""
    if viewer is None or not viewer.strip():
        return None
    user = find_user(ws.con, viewer.strip())
    own = party_scope_of(user)
    if own is None and user is not None and user.role not in PAY_OPERATOR_ROLES:
        raise NotAllowed(
            f"--by: {user.user_id} has the role {user.role or '(none)'}: only a partner user, a rep "
            f"(ae, sdr) or a user with role {', '.join(PAY_OPERATOR_ROLES)} reads pay"
        )
    return own


def _hider(ws: Workspace, own: tuple[str, str] | None) -> Callable[[str], str] | None:
    """What rewrites free text (a reason written by partner_ops, a basis) for a partner user:
    every other partner's name and id hidden (:func:`cosell.service.channel.other_partners`)."""
    others = other_partners(ws.con, own[1] if own is not None and own[0] == "partner" else None)
    return None if others is None else others.hide


def _reads_all(ws: Workspace, viewer: str | None, what: str) -> None:
    """Refuse a reader limited to one party (a partner user, a rep) what shows every party's
    amounts: a payout run's lines and totals. Its own payments are in its ledger and statement."""
    own = reader_party(ws, viewer)
    if own is not None:
        raise NotAllowed(
            f"{viewer} reads only its own pay ({own[0]} {own[1]}): {what} show every party's amounts "
            "(see cosell payouts ledger and cosell payouts statement)"
        )


def payout_runs(ws: Workspace, *, viewer: str | None = None) -> list[PayoutRun]:
    """Every payout run: period, status, what it pays and what is blocked. Refused to a reader
    limited to its own party (``viewer``: a partner user or a rep)."""
    _reads_all(ws, viewer, "payout runs")
    return list_runs(ws.con)


def payout_run(ws: Workspace, run_id: str, *, viewer: str | None = None) -> RunParties:
    """One payout run with its parties (an unknown id is a :class:`~cosell.errors.NotFound`).
    Refused to a reader limited to its own party (``viewer``: a partner user or a rep)."""
    _reads_all(ws, viewer, "payout runs")
    return _with_parties(ws, get_run(ws.con, run_id))


def ledger(
    ws: Workspace,
    *,
    party: tuple[str, str] | None = None,
    opportunity_id: str | None = None,
    period: str | None = None,
    viewer: str | None = None,
) -> list[Entry]:
    """Ledger entries in order, of one party (``(party_kind, party_id)``), deal or period.

    A partner user or a rep (``viewer``) reads only its own party's entries, with every other
    partner's name and id hidden in their free text: asking for another party gives no entries,
    as for a party that has none (whether it exists does not leak)."""
    own = reader_party(ws, viewer)
    if own is not None:
        if party not in (None, own):
            return []
        party = own
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
    entries = read_entries(ws.con, " AND ".join(where), params)
    hide = _hider(ws, own)
    if hide is None:
        return entries
    return [replace(e, basis=hide(e.basis), reason=hide(e.reason)) for e in entries]


def party_statement(
    ws: Workspace, policy: Policy, party_kind: str, party_id: str, period: str, *, viewer: str | None = None
) -> Report:
    """A partner's or a rep's statement for ``period``: opening balance, every entry, payments,
    closing balance (a report: rendered like the others).

    A partner user or a rep (``viewer``) reads only its own: another party's statement is refused
    exactly as one of a party cosell knows nothing of (SPEC section 9: a 404 where existence itself
    must not leak)."""
    own = reader_party(ws, viewer)
    if own is not None and own != (party_kind, party_id):
        raise no_statement(party_kind, party_id)
    return statement(ws.con, party_kind, party_id, period, policy.workspace_currency, hide=_hider(ws, own))
