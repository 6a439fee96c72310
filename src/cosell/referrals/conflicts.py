"""Channel conflicts: is the direct team, or another partner, already on this account? (SPEC
sections 2 and 7). Pure: the account's rows in, the conflicts with their evidence out.

A partner's claim on account A at instant t (a referral's received_at, a registration's
registered_at) conflicts with:

- ``open_opportunity``: a deal on A created at or before t and still open at t (its close time,
  read as the rules read it, is after t, or it is open now). A deal created at t itself counts: a
  tie goes to the direct team, as in the rules' direct-first guard.
- ``direct_touch``: a direct engagement touch on A in the lookback ``[t - sourcing_lookback_days,
  t]`` (both ends in). Engagement as the rules classify it
  (:func:`cosell.attribution.timeline.side`): the actor gives the side, the policy's kinds decide
  whether it is engagement.
- ``registration``: another partner's registration on A that protects it at t: registered at or
  before t (the same instant too: neither was first, so both are flagged) and not expired at t
  (expires_at, else registered_at + ``protection_window_days``, after t); pending, approved or
  expired by then, never rejected.

Touches and deals after t never conflict: the partner was first (first in, first win, on UTC
instants). The result is sorted by (kind, instant, id), the same whatever order the rows come in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from cosell.attribution.facts import Opportunity, StageEntry, Touch
from cosell.attribution.timeline import close_time, from_epoch_micros, side
from cosell.instants import epoch_micros, format_instant
from cosell.policy import Policy

CONFLICT_KINDS = ("open_opportunity", "direct_touch", "registration")
# Registration statuses that may protect an account (a rejected one never does).
PROTECTING = ("pending", "approved", "expired")


@dataclass(frozen=True)
class DealRow:
    """A deal on the account, with its recorded stage entries (stage, entered_at), by time."""

    opportunity_id: str
    created_at: datetime
    stage: str
    close_date: datetime | None = None
    history: tuple[tuple[str, datetime], ...] = ()


@dataclass(frozen=True)
class TouchRow:
    touch_id: str
    occurred_at: datetime
    actor: str
    kind: str
    partner_id: str = ""


@dataclass(frozen=True)
class RegistrationRow:
    registration_id: str
    partner_id: str
    account_id: str
    registered_at: datetime
    status: str = "pending"
    approved_at: datetime | None = None
    opportunity_id: str = ""
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Conflict:
    """One reason the claim is not clear: what (``kind``), which row (``ref_id``), its instant and a
    sentence a partner manager can check."""

    kind: str
    ref_id: str
    at: datetime
    detail: str

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "ref_id": self.ref_id,
            "at": format_instant(self.at),
            "detail": self.detail,
        }


def expiry_of(reg: RegistrationRow, policy: Policy) -> datetime:
    """When a registration stops protecting the account: expires_at, else registered_at + window."""
    if reg.expires_at is not None:
        return reg.expires_at
    return reg.registered_at + timedelta(days=policy.protection_window_days)


def _closed_at(deal: DealRow, policy: Policy) -> datetime | None:
    """The deal's close time X as the rules read it, None while it is open."""
    if policy.stage_class(deal.stage) == "open":
        return None
    opp = Opportunity(
        opportunity_id=deal.opportunity_id,
        account_id="",
        created_at=epoch_micros(deal.created_at),
        amount=Decimal(0),  # not read by close_time
        currency="",
        stage=deal.stage,
        close_date=None if deal.close_date is None else epoch_micros(deal.close_date),
    )
    history = tuple(
        StageEntry(s, epoch_micros(t)) for s, t in sorted(deal.history, key=lambda e: (e[1], e[0]))
    )
    return from_epoch_micros(close_time(opp, history, policy))


def channel_conflicts(
    at: datetime,
    partner_id: str,
    deals: Sequence[DealRow],
    touches: Sequence[TouchRow],
    registrations: Sequence[RegistrationRow],
    policy: Policy,
    *,
    exclude_registration: str = "",
) -> tuple[Conflict, ...]:
    """The conflicts of ``partner_id``'s claim at ``at`` on the account these rows are of (see the
    module docstring); ``exclude_registration`` is the claim itself when it is a registration."""
    found: list[Conflict] = []
    for deal in deals:
        if deal.created_at > at:
            continue
        closed = _closed_at(deal, policy)
        if closed is not None and closed <= at:
            continue
        found.append(
            Conflict(
                "open_opportunity",
                deal.opportunity_id,
                deal.created_at,
                f"opportunity {deal.opportunity_id} ({deal.stage}) was created {format_instant(deal.created_at)}"
                + (" and is open" if closed is None else f" and was open until {format_instant(closed)}"),
            )
        )
    start = at - timedelta(days=policy.lookback_days)
    for t in touches:
        touch = Touch(t.touch_id, epoch_micros(t.occurred_at), "", t.actor, t.kind, partner_id=t.partner_id)
        if side(touch, policy) == "direct" and start <= t.occurred_at <= at:
            found.append(
                Conflict(
                    "direct_touch",
                    t.touch_id,
                    t.occurred_at,
                    f"direct {t.kind} touch {t.touch_id} at {format_instant(t.occurred_at)}, inside the "
                    f"{policy.lookback_days}-day lookback from {format_instant(start)}",
                )
            )
    for reg in registrations:
        if reg.registration_id == exclude_registration or reg.partner_id == partner_id:
            continue
        if reg.status not in PROTECTING or reg.registered_at > at:
            continue
        expiry = expiry_of(reg, policy)
        if expiry <= at:
            continue
        found.append(
            Conflict(
                "registration",
                reg.registration_id,
                reg.registered_at,
                f"partner {reg.partner_id} registered the account in {reg.registration_id} at "
                f"{format_instant(reg.registered_at)} ({reg.status}), protected until {format_instant(expiry)}",
            )
        )
    return tuple(sorted(found, key=lambda c: (CONFLICT_KINDS.index(c.kind), c.at, c.ref_id)))
