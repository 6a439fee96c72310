"""What referrals and deal registrations share: who may submit and decide, and the channel
conflicts of a partner's claim on an account, read from the workspace (the rule itself is pure:
:mod:`cosell.referrals.conflicts`)."""

from __future__ import annotations

import json
from datetime import datetime

from cosell.engine import Engine
from cosell.errors import CosellError, UsageError
from cosell.instants import format_instant, parse_instant
from cosell.policy import Policy
from cosell.referrals.conflicts import Conflict, DealRow, RegistrationRow, TouchRow, channel_conflicts
from cosell.referrals.others import OtherPartners
from cosell.report_model import counted
from cosell.store import referral_reads as reads
from cosell.store.users import find_user, partner_scope_of

# SPEC section 9: partner_ops are users with the role partner_ops or partner_manager; admins may do
# what they may. A partner user submits (and answers) its own partner's referrals and registrations.
DECIDER_ROLES = ("partner_ops", "partner_manager", "admin")
SUBMIT_ROLES = (*DECIDER_ROLES, "partner")


def registration_rows(con: Engine, account_id: str | None = None) -> list[RegistrationRow]:
    """The current registrations (of one account when given), by registered_at and id."""
    return [RegistrationRow(*r) for r in reads.registrations(con, account_id)]


def account_conflicts(
    con: Engine,
    policy: Policy,
    account_id: str,
    partner_id: str,
    at: datetime,
    *,
    exclude_registration: str = "",
) -> tuple[Conflict, ...]:
    """The channel conflicts of ``partner_id``'s claim on ``account_id`` at ``at``, from the current
    rows of the account's deals, touches and registrations."""
    deals = [DealRow(*r) for r in reads.account_deals(con, account_id)]
    touches = [TouchRow(*r) for r in reads.account_touches(con, account_id)]
    return channel_conflicts(
        at, partner_id, deals, touches, registration_rows(con, account_id), policy,
        exclude_registration=exclude_registration,
    )  # fmt: skip


def conflicts_json(conflicts: tuple[Conflict, ...]) -> str:
    """The conflicts as stored: JSON text, sorted keys."""
    return json.dumps([c.to_json() for c in conflicts], sort_keys=True)


def conflicts_from_json(text: str) -> tuple[Conflict, ...]:
    """The conflicts stored by :func:`conflicts_json`."""
    return tuple(
        Conflict(c["kind"], c["ref_id"], parse_instant(c["at"]), c["detail"]) for c in json.loads(text)
    )


def partner_scope(con: Engine, viewer: str | None) -> str | None:
    """The partner a reader is limited to (SPEC section 9): a partner user's own partner; None for
    every other role, and when no reader is named (the workspace's owner at a terminal)."""
    if viewer is None or not viewer.strip():
        return None
    return partner_scope_of(find_user(con, viewer.strip()))


def other_partners(con: Engine, scope: str | None) -> OtherPartners | None:
    """What ``scope``'s partner user may not read in a reason written by someone else (SPEC section
    9): every other partner's current name, its partner_id and its registrations' ids. None for a
    reader limited to no partner (``scope`` None), who reads every reason whole."""
    if scope is None:
        return None
    partners = [(partner_id, name) for partner_id, name, _ in reads.partner_rows(con)]
    return OtherPartners.of(
        scope, partners, [(r.registration_id, r.partner_id) for r in registration_rows(con)]
    )


def seen_by(partner_id: str | None, conflicts: tuple[Conflict, ...]) -> tuple[Conflict, ...]:
    """The conflicts as ``partner_id``'s own user may read them: another partner's registration (a
    partner's own never conflicts) says when the account was registered, never by whom or under
    which id."""
    if partner_id is None:
        return conflicts
    return tuple(
        c
        if c.kind != "registration"
        else Conflict(c.kind, "", c.at, f"another partner registered the account at {format_instant(c.at)}")
        for c in conflicts
    )


def check_override(
    claim: str, verb: str, conflicts: tuple[Conflict, ...], override: bool, reason: str, recorded: str
) -> None:
    """Refuse to ``verb`` (accept, approve) a conflicting ``claim`` without an override and a reason,
    and an override with nothing to override. The refusal counts the conflicts by kind and names
    the newest: the whole list, hundreds of touches on a busy account, is in ``show``."""
    if conflicts and not override:
        kinds = sorted({c.kind for c in conflicts})
        counts = ", ".join(counted(sum(c.kind == k for c in conflicts), KIND_WORDS.get(k, k)) for k in kinds)
        newest = max(conflicts, key=lambda c: (c.at, c.ref_id))
        raise CosellError(
            f"{claim} is a channel conflict ({counts}; the newest: {newest.detail}): {verb} it only with "
            "--override-conflict --reason WHY"
        )
    if override and not conflicts:
        raise UsageError(f"--override-conflict: {claim} has no channel conflict to override")
    if override and not reason.strip():
        raise UsageError(f"--override-conflict needs --reason WHY (recorded with {recorded})")


# A conflict's kind as a refusal counts it ("2 open deals, 97 direct touches").
KIND_WORDS = {"open_opportunity": "open deal", "direct_touch": "direct touch", "registration": "registration"}
