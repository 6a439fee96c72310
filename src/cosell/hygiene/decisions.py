"""Deciding findings: accept (an override, a new attribution version, a pay change) or reject.

::

    accept_findings(ws, policy, ["OVC-006A000042"], by_user="u-ops", reason="direct team was first")
    reject_findings(ws, ["DBS-006A000043"], by_user="u-ops", reason="second registration was void")

A decision records who, when and why; a decided finding cannot be decided again. Only users with
the role partner_ops or partner_manager decide (when the workspace has a users table with
rows; without one there is no directory to check against). A batch is decided in one transaction,
the use case's (:mod:`cosell.service.reconcile`; these functions open none): a crash part-way
leaves none of it applied.

Accepting a finding whose suggested fix is an override (or with an explicit ``tier``/``partner``)
records the override (rule OVR, source ``finding:<id>``), stores a new attribution version of the
deal (a partial run of kind ``fix``, re-decided with the override applied: see :func:`cosell.attribution.reattribute.redecide`)
and marks the change for payouts (``attribution_changes``). A finding whose fix is a CRM
correction only (``confirm partner_source=none in the CRM``, an account to check) records the
decision alone.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cosell import clock
from cosell.attribution.reattribute import current_versions, store_new_versions
from cosell.engine import Engine
from cosell.errors import CosellError, NotFound, UsageError, did_you_mean
from cosell.instants import format_instant
from cosell.policy import Policy
from cosell.results import TIERS
from cosell.store.attribution_store import (
    Override,
    RunRecord,
    find_override,
    record_override,
    withdraw_override,
)
from cosell.store.review import check_not_backdated, ensure_review_schema, mark_change
from cosell.store.users import check_role
from cosell.store.versions import attribution_views
from cosell.store.workspace import Workspace

# SPEC section 9: only partner_ops (users.role partner_manager or partner_ops) decides disputes and
# reconciliation fixes; an admin manages users, and does not decide attribution.
DECIDER_ROLES = ("partner_ops", "partner_manager")
# Kinds whose fix is a correction in the CRM, never an override.
CRM_ONLY_KINDS = ("account_mismatch", "prompt_expired")
# Test hook for the kill test: seconds to sleep after each override of a batch (or only after the
# override numbered by PAUSE_AT_ENV, counted from 1), and a file to which one line is appended per
# override, so a test can kill the process mid-batch at a point of its choosing.
PAUSE_ENV = "COSELL_FIX_PAUSE"
PAUSE_AT_ENV = "COSELL_FIX_PAUSE_AT"
TRACE_ENV = "COSELL_FIX_TRACE"


class AlreadyDecided(CosellError):
    """A finding or dispute that already has a decision."""


def check_decider(con: Engine, user_id: str, what: str) -> None:
    """Raise unless ``user_id`` may decide ``what`` (a role in :data:`DECIDER_ROLES`)."""
    check_role(con, user_id, DECIDER_ROLES, f"decide {what}")


def check_reason(reason: str, what: str = "a decision") -> str:
    """The reason, stripped; an empty one is refused (``what``, e.g. a dispute, records why)."""
    if not reason.strip():
        raise UsageError(f"{what} records why: give a non-empty --reason")
    return reason.strip()


def check_override(con: Engine, tier: str, partner_id: str | None, *, claim: bool = False) -> None:
    """Refuse an override that cannot be applied: an unknown tier or partner, sourced without one.
    The message names the option the tier came from: ``--tier`` (and ``--partner``), or ``--claim
    TIER/PARTNER`` when ``claim`` (a dispute being opened)."""
    if tier not in TIERS:
        hint = did_you_mean(tier, TIERS)
        option = "--claim" if claim else "--tier"
        raise UsageError(f"{option}: tier must be one of {', '.join(TIERS)}, not {tier!r}{hint}")
    if tier == "sourced" and not partner_id:
        give = "--claim sourced/P" if claim else "--partner P"
        raise UsageError(f"an override to sourced names the sourcing partner: {give}")
    if tier == "none" and partner_id:
        # A tier of none credits no partner: a partner with it would be a contradiction on record
        # (explain read "sets the tier to none with P").
        raise UsageError(
            f"an override to none names no partner, not {partner_id}: drop --partner (or --claim none)"
        )
    if partner_id:
        partners = [r[0] for r in con.execute("SELECT partner_id FROM cur_partners").fetchall()]
        if partner_id not in partners:
            hint = did_you_mean(partner_id, partners)
            raise NotFound(f"no partner {partner_id}{hint}")


@dataclass(frozen=True)
class OverrideRequest:
    """One override to record: on ``opportunity_id``, because of ``source`` (finding:/dispute:)."""

    opportunity_id: str
    tier: str
    partner_id: str | None
    source: str


def _pause(recorded: int) -> None:
    """The test hook, after the batch's ``recorded``-th override."""
    seconds = os.environ.get(PAUSE_ENV)
    trace = os.environ.get(TRACE_ENV)
    if trace:
        with open(trace, "a", encoding="utf-8") as f:
            f.write("override\n")
    at = os.environ.get(PAUSE_AT_ENV)
    if seconds and (not at or int(at) == recorded):
        time.sleep(float(seconds))


def apply_overrides(
    con: Engine,
    policy: Policy,
    requests: Sequence[OverrideRequest],
    *,
    kind: str,
    by_user: str,
    reason: str,
    at: datetime,
) -> tuple[dict[str, str], dict[str, int], list[RunRecord]]:
    """Record each override, store the new versions of the deals, and mark the pay changes.

    Opens no transaction: the caller wraps it with its decisions (all or nothing). Returns the
    override id per request source, the new run id per deal, and the partial runs stored (one per
    credit model in use on the deals, usually one).
    """
    ids = sorted({r.opportunity_id for r in requests})
    previous = current_versions(con, policy, ids)
    overrides: dict[str, str] = {}
    for recorded, r in enumerate(requests, start=1):
        overrides[r.source] = record_override(
            con, r.opportunity_id, r.tier, r.partner_id, by_user, reason, source=r.source, recorded_at=at
        )
        _pause(recorded)
    run_of: dict[str, int] = {}
    runs: list[RunRecord] = []
    # Recording overrides stores no version: the versions read above are still the current ones.
    stored = store_new_versions(
        con, policy, ids, at, kind=kind, by_user=by_user, reason=reason, current=previous
    )
    for record, deals in stored:
        runs.append(record)
        run_of.update({d: record.run_id for d in deals})
    for r in requests:
        before = previous.get(r.opportunity_id)
        mark_change(
            con, r.opportunity_id, run_of[r.opportunity_id], before[0] if before else None,
            r.source, by_user, at,
        )  # fmt: skip
    return overrides, run_of, runs


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawn override and the deal's attribution version made without it."""

    override: Override
    run_id: int


def withdraw(
    con: Engine, policy: Policy, override_id: str, *, by_user: str, reason: str, at: datetime | None = None
) -> Withdrawal:
    """Withdraw an override (SPEC section 4: every later run applies it "until it is withdrawn"),
    as a partner_ops or partner_manager user, for a reason: its deal is decided again without it
    (a partial run of kind ``withdrawal``) and the change is marked for payouts, as accepting it
    was. Opens no transaction: the use case's (:func:`cosell.service.reconcile.withdraw`)."""
    ensure_review_schema(con)
    why = check_reason(reason, "a withdrawal")
    check_decider(con, by_user, "overrides")
    found = find_override(con, override_id)
    if found.withdrawn_at is not None:
        raise AlreadyDecided(found.already_withdrawn())
    when = clock.now(at)
    check_not_backdated(con, when, "the withdrawal")
    deal = found.opportunity_id
    previous = current_versions(con, policy, [deal])
    withdrawn = withdraw_override(con, override_id, when, by_user=by_user, reason=why)
    ((record, _),) = store_new_versions(
        con, policy, [deal], when, kind="withdrawal", by_user=by_user, reason=why, current=previous
    )
    before = previous.get(deal)
    mark_change(
        con, deal, record.run_id, before[0] if before else None, f"withdrawal:{override_id}", by_user, when
    )
    return Withdrawal(withdrawn, record.run_id)


@dataclass(frozen=True)
class Decision:
    """A recorded decision on a finding."""

    finding_id: str
    decision: str
    by_user: str
    reason: str
    decided_at: datetime
    tier: str
    partner_id: str
    override_id: str
    run_id: int | None


@dataclass(frozen=True)
class AcceptResult:
    """Accepted findings, the overrides and attribution versions they made."""

    decisions: tuple[Decision, ...]
    runs: tuple[RunRecord, ...]

    @property
    def overrides(self) -> tuple[str, ...]:
        return tuple(sorted({d.override_id for d in self.decisions if d.override_id}))


def _findings(con: Engine, ids: Iterable[str]) -> list[tuple[str, str, str, str | None]]:
    """(finding_id, opportunity_id, suggested_tier, suggested_partner) of each id; refuse unknown
    ids (with a close match) and decided ones.

    The suggestion is the one the deal's *current* attribution version makes (what ``cosell
    reconcile`` prints now): its computed partner tier and primary partner, else none (a CRM
    correction); the suggestion stored at first detection may be older.
    """
    wanted = sorted(set(ids))
    if not wanted:
        raise UsageError("name at least one finding (or --all-of-kind KIND)")
    attribution_views(con)
    crm_only = ", ".join(f"'{k}'" for k in CRM_ONLY_KINDS)
    rows = con.execute(
        "SELECT f.finding_id, f.opportunity_id, "
        f"CASE WHEN f.kind NOT IN ({crm_only}) AND a.tier IN ('sourced', 'accelerated', 'influenced') "
        "THEN a.tier END, "
        f"CASE WHEN f.kind NOT IN ({crm_only}) AND a.tier IN ('sourced', 'accelerated', 'influenced') "
        "THEN nullif(a.primary_partner_id, '') END, "
        "d.decision, d.by_user, d.decided_at FROM findings f LEFT JOIN finding_decisions d USING (finding_id) "
        "LEFT JOIN v_attribution a ON a.opportunity_id = f.opportunity_id "
        "WHERE list_contains(?, f.finding_id)",
        [wanted],
    ).fetchall()
    found = {r[0]: r for r in rows}
    missing = [i for i in wanted if i not in found]
    if missing:
        every = [r[0] for r in con.execute("SELECT finding_id FROM findings").fetchall()]
        hint = did_you_mean(missing[0], every)
        raise NotFound(
            f"no finding {missing[0]}{hint}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        )
    decided = [found[i] for i in wanted if found[i][4] is not None]
    if decided:
        f = decided[0]
        raise AlreadyDecided(f"finding {f[0]} was already {f[4]} by {f[5]} at {format_instant(f[6])}")
    return [(found[i][0], found[i][1], found[i][2] or "", found[i][3]) for i in wanted]


def open_findings_of_kind(con: Engine, kind: str) -> list[str]:
    """Ids of the undecided findings of one kind."""
    ensure_review_schema(con)
    rows = con.execute(
        "SELECT finding_id FROM findings WHERE kind = ? AND finding_id NOT IN "
        "(SELECT finding_id FROM finding_decisions) ORDER BY finding_id",
        [kind],
    ).fetchall()
    return [r[0] for r in rows]


def accept_findings(
    ws: Workspace,
    policy: Policy,
    finding_ids: Iterable[str],
    by_user: str,
    reason: str,
    *,
    tier: str | None = None,
    partner_id: str | None = None,
    at: datetime | None = None,
) -> AcceptResult:
    """Accept findings (see the module docstring); run it in one transaction (the service does).

    ``tier``/``partner_id`` replace the suggested fix (one finding at a time). Raises before
    changing anything: unknown or decided findings, a user without the role, an empty reason,
    two findings of one deal suggesting different fixes.
    """
    con = ws.con
    ensure_review_schema(con)
    why = check_reason(reason)
    check_decider(con, by_user, "findings")
    items = _findings(con, finding_ids)
    if tier is not None:
        if len(items) != 1:
            raise UsageError("--tier/--partner replace the suggested fix of one finding at a time")
        check_override(con, tier, partner_id)
        items = [(items[0][0], items[0][1], tier, partner_id)]
    fixes: dict[str, tuple[str, str | None]] = {}
    for _, opp, t, p in items:
        if not t:
            continue
        if opp in fixes and fixes[opp] != (t, p):
            raise UsageError(
                f"two findings on {opp} suggest different fixes ({fixes[opp]} and {(t, p)}): decide them one at a time"
            )
        fixes[opp] = (t, p)
    when = clock.now(at)
    check_not_backdated(con, when, "the decision")
    requests = []
    seen: set[str] = set()
    for fid, opp, t, p in items:
        if t and opp not in seen:
            seen.add(opp)
            requests.append(OverrideRequest(opp, t, p, f"finding:{fid}"))
    overrides: dict[str, str] = {}
    run_of: dict[str, int] = {}
    runs: list[RunRecord] = []
    if requests:
        overrides, run_of, runs = apply_overrides(
            con, policy, requests, kind="fix", by_user=by_user, reason=why, at=when
        )
    override_of = {r.opportunity_id: overrides[r.source] for r in requests}
    decisions = []
    for fid, opp, t, p in items:
        override = override_of.get(opp, "") if t else ""
        decision = Decision(
            fid, "accepted", by_user, why, when, t, p or "", override, run_of.get(opp) if t else None
        )
        _insert(con, decision)
        decisions.append(decision)
    return AcceptResult(tuple(decisions), tuple(runs))


def accept_suggested_fixes(
    ws: Workspace, policy: Policy, finding_ids: Iterable[str], by_user: str, reason: str
) -> AcceptResult:
    """Accept each finding's suggested fix (for the demo and payouts), in the caller's transaction."""
    return accept_findings(ws, policy, finding_ids, by_user, reason)


def reject_findings(
    ws: Workspace, finding_ids: Iterable[str], by_user: str, reason: str, *, at: datetime | None = None
) -> tuple[Decision, ...]:
    """Reject findings (the reviewer disagrees with them), in the caller's transaction; nothing else
    changes."""
    con = ws.con
    ensure_review_schema(con)
    why = check_reason(reason)
    check_decider(con, by_user, "findings")
    items = _findings(con, finding_ids)
    when = clock.now(at)
    check_not_backdated(con, when, "the decision")
    decisions = tuple(Decision(fid, "rejected", by_user, why, when, "", "", "", None) for fid, *_ in items)
    for decision in decisions:
        _insert(con, decision)
    return decisions


def _insert(con: Engine, d: Decision) -> None:
    con.execute(
        "INSERT INTO finding_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            d.finding_id, d.decision, d.by_user, d.reason, d.decided_at, d.tier or None,
            d.partner_id or None, d.override_id or None, d.run_id,
        ],
    )  # fmt: skip
