"""Use cases of deal registrations (SPEC sections 2 and 7): submit, approve, reject, extend, expire,
list and show (``cosell registrations ...``).

A registration is a canonical row (``deal_registrations``), versioned like every other: each change
here is an import of that one row, logged with who and why (``cosell registrations approve
REG-000001: <reason>``), and an entry in ``registration_events`` with the channel conflicts found
then and whether one was overridden, both in the import's one transaction.

- submit (partner_ops, or a partner user for its own partner): status pending, registered_at now
  (or an earlier instant given, never a later one); conflicts are checked at registered_at.
- approve (partner_ops): approved_at now, expires_at = registered_at + protection_window_days (the
  protection SPEC section 2 gives a registration without expires_at, written down so that a later
  change of the policy does not move it). A channel conflict (checked again) is approved only with
  an override and a reason, both recorded. A registration whose window ended before anyone
  approved it cannot be approved: it is expired.
- reject (partner_ops): a pending one, with the reason.
- extend (partner_ops): once, by 30 days, an approved one not yet expired.
- expire: every pending or approved registration whose protection ended (expires_at, else
  registered_at + window) at or before now becomes expired. An approved one gets the end of its
  protection written in expires_at; a pending one, never approved, gets expires_at = registered_at
  (it never protected the account, and SPEC section 2 must never count it as a registration).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cosell import clock
from cosell.data.load import import_canonical
from cosell.engine import Engine
from cosell.errors import CosellError, NotAllowed, NotFound, UsageError, did_you_mean
from cosell.instants import format_instant, format_optional, is_supported
from cosell.policy import Policy
from cosell.referrals.conflicts import Conflict, RegistrationRow, expiry_of
from cosell.referrals.others import OtherPartners
from cosell.service.channel import (
    DECIDER_ROLES,
    SUBMIT_ROLES,
    account_conflicts,
    check_override,
    conflicts_from_json,
    conflicts_json,
    other_partners,
    partner_scope,
    registration_rows,
    seen_by,
)
from cosell.store import referral_reads as reads
from cosell.store.referrals import (
    REGISTRATION_PREFIX,
    RegistrationEvent,
    ensure_referral_schema,
    insert_registration_event,
    next_id,
    registration_events,
)
from cosell.store.review import check_not_backdated
from cosell.store.schema import REGISTRATION_STATUSES
from cosell.store.users import check_role, partner_scope_of
from cosell.store.workspace import Workspace

EXTENSION_DAYS = 30  # one extension, of this many days (issue 15)
SOURCE = "cosell registrations"
# A partner user's change line of a registration imported (canonical files, a CRM export): the
# source line names the file read, an internal path (the words of ``show``'s other import lines).
FROM_IMPORT = "from the CRM import"

__all__ = ["EXTENSION_DAYS", "Registration", "approve", "expire", "extend", "registration", "registrations",
           "reject", "submit"]  # fmt: skip


@dataclass(frozen=True)
class Registration:
    """A registration as it stands, the conflicts recorded at its last check (submit or approve)
    and every change recorded here (a registration imported from the CRM has none)."""

    row: RegistrationRow
    expiry: datetime  # when its protection ends: expires_at, else registered_at + window
    checked: bool  # whether cosell checked it for conflicts (submitted or approved here)
    conflicts: tuple[Conflict, ...]
    events: tuple[RegistrationEvent, ...]
    changed_at: datetime
    changed_by: str
    change: str  # the import's source line: what changed it and why

    def to_json(self) -> dict[str, Any]:
        """The keys of ``cosell registrations list|show --format json`` (docs/referrals.md)."""
        r = self.row
        return {
            "registration_id": r.registration_id, "partner_id": r.partner_id, "account_id": r.account_id,
            "registered_at": format_instant(r.registered_at), "status": r.status,
            "approved_at": format_optional(r.approved_at), "opportunity_id": r.opportunity_id,
            "expires_at": format_optional(r.expires_at), "protected_until": format_instant(self.expiry),
            "checked": self.checked, "conflicts": [c.to_json() for c in self.conflicts],
            "changed_at": format_instant(self.changed_at), "changed_by": self.changed_by, "change": self.change,
            "events": [{"action": e.action, "by": e.by_user, "at": format_instant(e.recorded_at),
                        "reason": e.reason, "overridden": e.overridden,
                        "conflicts": [c.to_json() for c in conflicts_from_json(e.conflicts_json)]}
                       for e in self.events],
        }  # fmt: skip


def _require(by: str | None, reason: str | None = None) -> str:
    if not by or not by.strip():
        raise UsageError("say who: --by USER (or $COSELL_USER)")
    if reason is not None and not reason.strip():
        raise UsageError("say why: --reason TEXT (recorded with the change)")
    return by.strip()


def registrations(
    ws: Workspace,
    policy: Policy,
    *,
    status: str | None = None,
    partner_id: str | None = None,
    viewer: str | None = None,
) -> list[Registration]:
    """Every registration as it stands (of one status or partner when given), by registered_at, id.
    A partner user (``viewer``) sees only its own partner's, and no other partner's name in their
    conflicts."""
    if status is not None and status not in REGISTRATION_STATUSES:
        raise UsageError(f"--status must be one of {', '.join(REGISTRATION_STATUSES)}, not {status!r}")
    ensure_referral_schema(ws.con)
    scope = partner_scope(ws.con, viewer)
    rows = [
        r
        for r in registration_rows(ws.con)
        if status in (None, r.status) and partner_id in (None, r.partner_id) and scope in (None, r.partner_id)
    ]
    others = other_partners(ws.con, scope)
    return [_seen(r, others) for r in _views(ws.con, policy, rows)]


def _seen(r: Registration, others: OtherPartners | None) -> Registration:
    """The registration as a partner user (``others``: what it may not read; None: a reader who
    sees all) may read it: its conflicts, and those recorded with each change, without another
    partner's name or registration; the reasons and the change line as :func:`_own_change` says."""
    if others is None:
        return r
    scope = others.partner_id
    events = tuple(
        replace(
            e,
            reason=others.hide(e.reason),
            conflicts_json=conflicts_json(seen_by(scope, conflicts_from_json(e.conflicts_json))),
        )
        for e in r.events
    )
    return replace(r, conflicts=seen_by(scope, r.conflicts), events=events, change=_own_change(r, others))


def _own_change(r: Registration, others: OtherPartners) -> str:
    """The change line as a partner user may read it (SPEC section 9).

    - An import's source line names the file it read (``salesforce /home/ops/exports/...``), an
      internal path: the partner reads :data:`FROM_IMPORT`.
    - ``expire`` logs up to three registration ids in one line (``expire REG-1, REG-2: why``),
      other partners' among them: the partner's view names its own registration only, with the
      reason recorded in its own event.
    - The reason, written by partner_ops or an admin, is the partner's to read (why it was
      rejected), without another partner's name or ids in it (:meth:`OtherPartners.hide`).
    """
    if not r.change.startswith(f"{SOURCE} "):
        return FROM_IMPORT
    line = r.change
    if line.startswith(f"{SOURCE} expire "):
        mine = [e for e in r.events if e.action == "expired" and e.recorded_at == r.changed_at]
        line = f"{SOURCE} expire {r.row.registration_id}" + (f": {mine[-1].reason}" if mine else "")
    # The command and its ids come before the first ": " (an id has none), the free text after.
    command, colon, why = line.partition(": ")
    return command + colon + others.hide(why)


def _views(con: Engine, policy: Policy, rows: Sequence[RegistrationRow]) -> list[Registration]:
    events: dict[str, list[RegistrationEvent]] = {}
    for e in registration_events(con):
        events.setdefault(e.registration_id, []).append(e)
    changes = reads.registration_changes(con)
    out = []
    for r in rows:
        own = tuple(events.get(r.registration_id, ()))
        checked = [e for e in own if e.action in ("submitted", "approved")]
        conflicts = conflicts_from_json(checked[-1].conflicts_json) if checked else ()
        at, by, change = changes[r.registration_id]
        out.append(Registration(r, expiry_of(r, policy), bool(checked), conflicts, own, at, by, change))
    return out


def registration(
    ws: Workspace, policy: Policy, registration_id: str, *, viewer: str | None = None
) -> Registration:
    """One registration with its changes. Another partner's registration is, to a partner user
    (``viewer``), one that does not exist."""
    ensure_referral_schema(ws.con)
    scope = partner_scope(ws.con, viewer)
    return _seen(
        _views(ws.con, policy, [_row(ws.con, registration_id, scope)])[0], other_partners(ws.con, scope)
    )


def _row(con: Engine, registration_id: str, scope: str | None = None) -> RegistrationRow:
    """The registration's current row. To a partner user (``scope``: its partner) another
    partner's is one that does not exist, and a did-you-mean names only its own."""
    rows = {r.registration_id: r for r in registration_rows(con) if scope in (None, r.partner_id)}
    if registration_id not in rows:
        raise NotFound(f"no registration {registration_id}" + did_you_mean(registration_id, sorted(rows)))
    return rows[registration_id]


def _write(
    ws: Workspace,
    policy: Policy,
    rows: Sequence[RegistrationRow],
    by: str,
    source: str,
    why: str,
    event: Callable[[RegistrationRow, datetime], RegistrationEvent],
    what: str,
) -> None:
    """Write new versions of ``rows`` (an import of them, logged with ``source`` and ``why``) and
    one event each, in the import's one transaction. Refused when something (an attribution run, a decision,
    another change) was already recorded after now: the change would rewrite what a reading at an
    earlier --known-at showed."""
    check_not_backdated(ws.con, clock.now(), what)
    columns = ("registration_id", "partner_id", "account_id", "registered_at", "status", "approved_at",
               "opportunity_id", "expires_at")  # fmt: skip

    def within(at: datetime) -> None:
        for r in rows:
            insert_registration_event(ws.con, event(r, at))

    with tempfile.TemporaryDirectory(prefix="cosell-registration-") as folder:
        with (Path(folder) / "deal_registrations.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")  # canonical input read back by the import
            writer.writerow(columns)
            for r in rows:
                values = [getattr(r, c) for c in columns]
                writer.writerow([format_instant(v) if isinstance(v, datetime) else (v or "") for v in values])
        import_canonical(
            ws, folder, policy=policy, by_user=by, partial=True, within=within, source=source, reason=why
        )


def _event(con: Engine, action: str, by: str, reason: str, conflicts: tuple[Conflict, ...] = (),
           overridden: bool = False) -> Callable[[RegistrationRow, datetime], RegistrationEvent]:  # fmt: skip
    """The event of one change, dated by the import that writes it, next in the registration's order."""

    def make(r: RegistrationRow, at: datetime) -> RegistrationEvent:
        seq = len(registration_events(con, r.registration_id)) + 1
        return RegistrationEvent(
            r.registration_id, seq, action, at, by, reason, conflicts_json(conflicts), overridden
        )

    return make


def _why(reason: str, default: str) -> str:
    return " ".join(reason.split()) or default


def submit(
    ws: Workspace,
    policy: Policy,
    *,
    partner_id: str | None,
    account_id: str,
    by: str | None,
    reason: str = "",
    registered_at: datetime | None = None,
    opportunity_id: str = "",
) -> Registration:
    """Register ``account_id`` for ``partner_id`` (pending), as partner_ops or as the partner's own
    user (its partner by default); the channel conflicts at registered_at are recorded."""
    who = _require(by)
    con = ws.con
    ensure_referral_schema(con)
    user = check_role(con, who, SUBMIT_ROLES, "submit registrations")
    partner = (partner_id or "").strip() or partner_scope_of(user) or ""
    if not partner:
        raise UsageError("say which partner registers: --partner PARTNER_ID")
    if user is not None and partner_scope_of(user) not in (None, partner):
        raise NotAllowed(f"{who} works for partner {user.partner_id}: it may not register for {partner}")
    if not reads.partner_exists(con, partner):
        raise NotFound(f"no partner {partner}")
    if not reads.account_exists(con, account_id):
        raise NotFound(f"no account {account_id}")
    # The deal registered is one on the account: a registration linked to a deal puts its partner
    # on that deal (a partner user may then dispute it). The same words whether the id is no deal
    # or a deal on another account, so a partner user learns nothing of other accounts' deals.
    if opportunity_id.strip() and not reads.opportunity_on_account(con, opportunity_id.strip(), account_id):
        raise NotFound(f"--opportunity {opportunity_id.strip()}: no deal on account {account_id} has that id")
    now = clock.now()
    at = now if registered_at is None else registered_at
    if partner_scope_of(user) is not None and at != now:
        # First in, first win: a partner dating its own registration back would come first.
        raise NotAllowed(
            f"{who} is a partner user: its registration is registered now ({format_instant(now)}), "
            f"not at --registered-at {format_instant(at)}"
        )
    if at > now:
        raise UsageError(
            f"--registered-at {format_instant(at)} is after now ({format_instant(now)}): first in, first win"
        )
    for other in registration_rows(con, account_id):
        if (
            other.partner_id == partner
            and other.status in ("pending", "approved")
            and expiry_of(other, policy) > at
        ):
            raise CosellError(f"partner {partner} already registered {account_id} in {other.registration_id} "
                              f"({other.status}, protected until {format_instant(expiry_of(other, policy))})")  # fmt: skip
    reg_id = next_id(con, "deal_registrations", "registration_id", REGISTRATION_PREFIX)
    row = RegistrationRow(reg_id, partner, account_id, at, "pending", None, opportunity_id.strip(), None)
    conflicts = account_conflicts(con, policy, account_id, partner, at, exclude_registration=reg_id)
    why = _why(reason, "submitted")
    _write(
        ws,
        policy,
        [row],
        who,
        f"{SOURCE} submit {reg_id}: {why}",
        why,
        _event(con, "submitted", who, why, conflicts),
        f"the submission of {reg_id}",
    )
    return registration(ws, policy, reg_id)


def _decision(
    ws: Workspace, registration_id: str, by: str | None, reason: str | None, verb: str, status: str
) -> tuple[str, Engine, RegistrationRow]:
    """Who decides (a partner_ops user; with a reason unless ``reason`` is None) and the
    registration, which must be ``status`` to ``verb`` it (approve, reject, extend)."""
    who = _require(by, reason)
    con = ws.con
    ensure_referral_schema(con)
    check_role(con, who, DECIDER_ROLES, f"{verb} registrations")
    r = _row(con, registration_id)
    if r.status != status:
        article = "an" if status[0] in "aeiou" else "a"
        done = {"approve": "approved", "reject": "rejected", "extend": "extended"}[verb]
        raise CosellError(
            f"{registration_id} is {r.status}: only {article} {status} registration can be {done}"
        )
    return who, con, r


def approve(
    ws: Workspace, policy: Policy, registration_id: str, *, by: str | None, reason: str = "",
    override_conflict: bool = False,
) -> Registration:  # fmt: skip
    """Approve a pending registration (partner_ops): approved_at now, expires_at registered_at +
    protection window. A channel conflict needs ``override_conflict`` and a reason (recorded)."""
    who, con, r = _decision(ws, registration_id, by, None, "approve", "pending")
    now = clock.now()
    expiry = expiry_of(r, policy)
    if expiry <= now:
        raise CosellError(f"{registration_id}'s protection window ended at {format_instant(expiry)}, before "
                          "approval: expire it (cosell registrations expire); the partner may register again")  # fmt: skip
    conflicts = account_conflicts(con, policy, r.account_id, r.partner_id, r.registered_at,
                                  exclude_registration=registration_id)  # fmt: skip
    check_override(registration_id, "approve", conflicts, override_conflict, reason, "the approval")
    why = _why(reason, "approved")
    new = RegistrationRow(r.registration_id, r.partner_id, r.account_id, r.registered_at, "approved", now,
                          r.opportunity_id, expiry)  # fmt: skip
    _write(ws, policy, [new], who, f"{SOURCE} approve {registration_id}: {why}", why,
           _event(con, "approved", who, why, conflicts, overridden=override_conflict),
           f"the approval of {registration_id}")  # fmt: skip
    return registration(ws, policy, registration_id)


def reject(
    ws: Workspace, policy: Policy, registration_id: str, *, by: str | None, reason: str
) -> Registration:
    """Reject a pending registration (partner_ops), with the reason."""
    who, con, r = _decision(ws, registration_id, by, reason, "reject", "pending")
    why = _why(reason, "")
    new = RegistrationRow(r.registration_id, r.partner_id, r.account_id, r.registered_at, "rejected", None,
                          r.opportunity_id, r.expires_at)  # fmt: skip
    _write(ws, policy, [new], who, f"{SOURCE} reject {registration_id}: {why}", why,
           _event(con, "rejected", who, why), f"the rejection of {registration_id}")  # fmt: skip
    return registration(ws, policy, registration_id)


def extend(
    ws: Workspace, policy: Policy, registration_id: str, *, by: str | None, reason: str
) -> Registration:
    """Extend an approved, unexpired registration once by :data:`EXTENSION_DAYS` days (partner_ops)."""
    who, con, r = _decision(ws, registration_id, by, reason, "extend", "approved")
    expiry = expiry_of(r, policy)
    if expiry <= clock.now():
        raise CosellError(
            f"{registration_id} expired at {format_instant(expiry)}: it can no longer be extended"
        )
    if not is_supported(expiry):  # an open end (9999-12-31, a CRM's never): nothing to extend
        raise CosellError(
            f"{registration_id} is protected until {format_instant(expiry)}, after 2999: a protection "
            "that does not end cannot be extended"
        )
    done = [e for e in registration_events(con, registration_id) if e.action == "extended"]
    if done:
        raise CosellError(f"{registration_id} was extended already (by {done[0].by_user} at "
                          f"{format_instant(done[0].recorded_at)}): one {EXTENSION_DAYS}-day extension only")  # fmt: skip
    new = RegistrationRow(r.registration_id, r.partner_id, r.account_id, r.registered_at, r.status, r.approved_at,
                          r.opportunity_id, expiry + timedelta(days=EXTENSION_DAYS))  # fmt: skip
    why = _why(reason, "")
    _write(ws, policy, [new], who, f"{SOURCE} extend {registration_id}: {why}", why,
           _event(con, "extended", who, why), f"the extension of {registration_id}")  # fmt: skip
    return registration(ws, policy, registration_id)


def expire(ws: Workspace, policy: Policy, *, by: str | None, reason: str = "") -> list[Registration]:
    """Expire every pending or approved registration whose protection ended at or before now; each
    gets its expires_at written down, with who expired it, when and why (``reason``, required).
    Returns them (none: nothing is recorded)."""
    who = _require(by, reason)
    con = ws.con
    ensure_referral_schema(con)
    check_role(con, who, DECIDER_ROLES, "expire registrations")
    now = clock.now()
    # An approved one keeps the end of its protection; a pending one never protected anything:
    # expires_at = registered_at, so that SPEC section 2's "expired with expires_at after C" can
    # never make an unapproved registration evidence of a deal.
    due = [
        RegistrationRow(r.registration_id, r.partner_id, r.account_id, r.registered_at, "expired", r.approved_at,
                        r.opportunity_id, expiry_of(r, policy) if r.status == "approved" else r.registered_at)
        for r in registration_rows(con)
        if r.status in ("pending", "approved") and expiry_of(r, policy) <= now
    ]  # fmt: skip
    if not due:
        return []
    why = _why(reason, "")
    ids = ", ".join(r.registration_id for r in due) if len(due) <= 3 else f"{len(due):,} registrations"
    _write(ws, policy, due, who, f"{SOURCE} expire {ids}: {why}", why, _event(con, "expired", who, why),
           "the expiry sweep")  # fmt: skip
    return _views(con, policy, [_row(con, r.registration_id) for r in due])
