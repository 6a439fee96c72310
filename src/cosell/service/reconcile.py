"""Use cases of reconciliation (SPEC section 4): reconcile a period, list and show the findings,
accept a fix, reject findings (``cosell reconcile`` and ``cosell findings ...``).

Each write is one transaction, owned here: the capability functions it calls
(:mod:`cosell.hygiene.reconcile`, :mod:`cosell.hygiene.decisions`) open none, so a failure in the
middle (a re-decision that fails after the override was recorded) leaves nothing applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cosell.asof import AsOf, knowledge
from cosell.errors import CosellError, NotFound, UsageError, did_you_mean
from cosell.hygiene.decisions import (
    AcceptResult,
    Decision,
    Withdrawal,
    accept_findings,
    open_findings_of_kind,
    reject_findings,
)
from cosell.hygiene.decisions import withdraw as withdraw_override
from cosell.hygiene.findings import KIND_CODES
from cosell.hygiene.reconcile import ReconcileResult, reconcile
from cosell.hygiene.sql import equal_filters
from cosell.policy import Policy
from cosell.store.attribution_store import Override
from cosell.store.attribution_store import overrides as read_overrides
from cosell.store.known import require_opportunity
from cosell.store.review import DECISIONS, Finding, ensure_review_schema, read_findings
from cosell.store.workspace import Workspace

__all__ = [
    "AcceptResult",
    "Decision",
    "Finding",
    "Override",
    "ReconcileResult",
    "Withdrawal",
    "accept",
    "check_status",
    "finding",
    "findings",
    "overrides",
    "reconcile_known",
    "reconcile_period",
    "reject",
    "require_user",
    "withdraw",
]


def reconcile_known(
    ws: Workspace,
    policy: Policy,
    *,
    period: str | None = None,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
    by_user: str = "unknown",
    reason: str = "",
) -> ReconcileResult:
    """Reconcile the period (:func:`cosell.hygiene.reconcile.reconcile`, the same instants and
    reason) with
    the account overlap as known at the knowledge instant K: the partners' lists matched to our
    accounts by the overlap matcher, the matches ``cosell accounts match`` counts. One matching of
    partner lists to accounts, not a second one inside reconciliation. Opens no transaction."""
    # Imported here: `cosell findings list|show|accept` need no name matcher.
    from cosell.service.accounts import overlap_known_at

    overlap = overlap_known_at(ws, knowledge(as_of, known_at))
    return reconcile(
        ws, policy, overlap=overlap, period=period, as_of=as_of, known_at=known_at, by_user=by_user,
        reason=reason,
    )  # fmt: skip


def reconcile_period(
    ws: Workspace, policy: Policy, period: str | None, at: AsOf, *, by_user: str, reason: str = ""
) -> ReconcileResult:
    """Cross-check the period's closed-won deals (default: the last complete month) against the
    computed attribution and record the new findings (never twice), in one transaction, with who
    ran it and why (``reason``, else ``cosell reconcile --period P [--as-of T] --known-at K``).

    Reads the data known at K; with T asked for, checks the deals closed by T against the attribution
    evaluated as of T (docs/as-of.md)."""
    with ws.transaction():
        return reconcile_known(
            ws, policy, period=period, as_of=at.evaluated_at, known_at=at.known_at, by_user=by_user,
            reason=reason,
        )  # fmt: skip


def require_user(by_user: str | None) -> str:
    """Who decides or opens a dispute, stripped; refused when not given (a decision records who)."""
    if not by_user or not by_user.strip():
        raise UsageError("say who: --by USER (or $COSELL_USER)")
    return by_user.strip()


def check_status(status: str | None) -> None:
    """Refuse a finding status other than open, accepted or rejected."""
    if status is not None and status not in ("open", *DECISIONS):
        raise UsageError(f"--status must be open, accepted or rejected, not {status!r}")


def check_kind(kind: str | None, option: str = "--kind") -> None:
    """Refuse a finding kind that is none of the kinds reconciliation finds (a misspelt kind would
    otherwise select nothing, and read as no finding)."""
    if kind is not None and kind not in KIND_CODES:
        raise UsageError(f"{option} must be one of {', '.join(KIND_CODES)}, not {kind!r}")


def findings(
    ws: Workspace, *, status: str | None = None, kind: str | None = None, viewer: str | None = None
) -> list[Finding]:
    """Every recorded finding (of one ``status`` and ``kind`` when given) with its status now.
    ``viewer`` is who reads: the findings are the reconciliation's work queue over every partner's
    deals, refused to a partner user and a rep (:func:`cosell.service.readers.refuse_limited`)."""
    from cosell.service.readers import reader, refuse_limited

    refuse_limited(reader(ws.con, viewer), "the findings list (the reconciliation's work queue)")
    check_status(status)
    check_kind(kind)
    ensure_review_schema(ws.con)
    where, params = equal_filters(("f.kind", kind), ("coalesce(d.decision, 'open')", status))
    return read_findings(
        ws.con, "findings f", stake_currency="f.at_stake_currency", detected_at="f.detected_at",
        where=where, params=params,
    )  # fmt: skip


def finding(ws: Workspace, finding_id: str) -> Finding:
    """One finding: declared and computed values, evidence, money at stake, fix and decision. An
    unknown id is a :class:`~cosell.errors.NotFound` naming the closest one."""
    ensure_review_schema(ws.con)
    found = read_findings(
        ws.con, "findings f", stake_currency="f.at_stake_currency", detected_at="f.detected_at",
        where="f.finding_id = ?", params=[finding_id],
    )  # fmt: skip
    if not found:
        every = [r[0] for r in ws.con.execute("SELECT finding_id FROM findings").fetchall()]
        raise NotFound(f"no finding {finding_id}" + did_you_mean(finding_id, every))
    return found[0]


def _ids(ws: Workspace, ids: Sequence[str] | None, kind: str | None) -> list[str]:
    """The findings named, and every open finding of ``kind`` when given."""
    chosen = list(ids or [])
    if kind is not None:
        check_kind(kind, "--all-of-kind")
        chosen += open_findings_of_kind(ws.con, kind)
        if not chosen:
            raise CosellError(f"no open finding of kind {kind}")
    return chosen


def accept(
    ws: Workspace,
    policy: Policy,
    finding_ids: Sequence[str] | None,
    *,
    by_user: str | None,
    reason: str,
    all_of_kind: str | None = None,
    tier: str | None = None,
    partner_id: str | None = None,
) -> AcceptResult:
    """Accept findings (those named, and every open one of ``all_of_kind``) as ``by_user``, why
    ``reason``: each override fix recorded, a new attribution version of its deal, a pay-change
    marker, and the decisions, all in one transaction. ``tier``/``partner_id`` replace the
    suggested fix of one finding."""
    with ws.transaction():
        ids = _ids(ws, finding_ids, all_of_kind)
        return accept_findings(
            ws, policy, ids, require_user(by_user), reason, tier=tier, partner_id=partner_id
        )


def reject(
    ws: Workspace,
    finding_ids: Sequence[str] | None,
    *,
    by_user: str | None,
    reason: str,
    all_of_kind: str | None = None,
) -> tuple[Decision, ...]:
    """Reject findings (the reviewer disagrees) in one transaction; the attribution does not change."""
    with ws.transaction():
        ids = _ids(ws, finding_ids, all_of_kind)
        return reject_findings(ws, ids, require_user(by_user), reason)


def withdraw(
    ws: Workspace, policy: Policy, override_id: str, *, by_user: str | None, reason: str
) -> Withdrawal:
    """Withdraw an override (an accepted fix or dispute) as ``by_user`` (partner_ops or
    partner_manager), why ``reason``: the withdrawal, the deal's new attribution version without it
    and the pay-change marker, in one transaction."""
    with ws.transaction():
        return withdraw_override(ws.con, policy, override_id, by_user=require_user(by_user), reason=reason)


def overrides(
    ws: Workspace, opportunity_id: str | None = None, *, viewer: str | None = None
) -> list[Override]:
    """Every override (of one deal), in the order recorded, in force, superseded or withdrawn (who,
    when, why). A deal with none that the workspace does not hold is refused ("no opportunity
    X (did you mean ...?)"), not listed as having none. ``viewer`` is who reads
    (:func:`cosell.service.readers.seen_rows`): a rep the overrides of its own deals, a partner
    user those of its partner's deals, every other partner's name and id hidden."""
    from cosell.service.readers import reader, require_seen, seen_rows

    who = reader(ws.con, viewer)
    require_seen(ws.con, who, opportunity_id)
    found = read_overrides(ws.con, opportunity_id)
    if not who.reads_all:
        texts = ("partner_id", "reason", "source", "withdrawn_reason")
        return seen_rows(ws.con, who, found, lambda o: o.opportunity_id, texts)
    if opportunity_id is not None and not found:
        require_opportunity(ws.con, opportunity_id)
    return found
