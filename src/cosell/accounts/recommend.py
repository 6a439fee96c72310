"""The partner to bring into an open deal: partners ranked with reasons a rep can act on (issue 15).

::

    history = History(deals, touches, registrations, overlap, partner_names)   # read once
    ranked = recommend(history, "O42", as_of=t, lookback_days=180)
    ranked[0].reasons   # ("registered the account (R7, approved, until 2026-03-01)", ...)

Only what was known at ``as_of`` (T) is used: touches at or before T, registrations registered at
or before T and not expired at T, deals closed at or before T (their tier is decided by evidence up
to their close, so it was known then). The partners' own account lists (overlap) carry no date:
they are read as they are now (the benchmark says what that means for its figures).

Partners are ranked by, in this order (each a reason a rep can check and act on):

1. an open registration of the account (approved, or pending; not expired at T);
2. partner-engagement touches on the account in the lookback before T (more first);
3. the partner's status at the account on its own list: customer, open_opportunity, prospect;
4. won deals attributed to it in the deal's segment, closed by T (more first);
5. its win rate on those comparable deals (won / closed; none when it closed none);
6. the smaller partner_id.

A partner with none of 1-4 is not listed: there is nothing to act on. Pure: facts in, ranking out.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from cosell.instants import format_instant
from cosell.report_model import counted

OVERLAP_RANK = {"customer": 0, "open_opportunity": 1, "prospect": 2}


@dataclass(frozen=True)
class DealFact:
    """One deal as the ranking needs it: where, when, how it ended, and who it is attributed to."""

    opportunity_id: str
    account_id: str
    segment: str
    created_at: datetime
    closed_at: datetime | None  # X; None while open
    outcome: str  # won, lost or open
    partners: tuple[str, ...]  # partners credited on a partner tier in the attribution read


@dataclass(frozen=True)
class TouchFact:
    """A partner-engagement touch on an account."""

    touch_id: str
    account_id: str
    partner_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class RegistrationFact:
    """A deal registration of an account by a partner."""

    registration_id: str
    partner_id: str
    account_id: str
    registered_at: datetime
    status: str
    expires_at: datetime  # expires_at, else registered_at + the protection window


@dataclass(frozen=True)
class History:
    """Everything the ranking reads, indexed once (the benchmark ranks every past deal)."""

    deals: Sequence[DealFact]
    touches: Sequence[TouchFact]
    registrations: Sequence[RegistrationFact]
    overlap: dict[tuple[str, str], str]  # (partner_id, account_id) -> the partner's status
    partner_names: dict[str, str]
    by_id: dict[str, DealFact] = field(init=False)
    touches_at: dict[str, list[TouchFact]] = field(init=False)
    registrations_at: dict[str, list[RegistrationFact]] = field(init=False)
    closed_by_partner_segment: dict[tuple[str, str], list[DealFact]] = field(init=False)
    overlap_at: dict[str, dict[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        touches_at: dict[str, list[TouchFact]] = defaultdict(list)
        for t in sorted(self.touches, key=lambda t: (t.occurred_at, t.touch_id)):
            touches_at[t.account_id].append(t)
        registrations_at: dict[str, list[RegistrationFact]] = defaultdict(list)
        for r in sorted(self.registrations, key=lambda r: (r.registered_at, r.registration_id)):
            registrations_at[r.account_id].append(r)
        closed: dict[tuple[str, str], list[DealFact]] = defaultdict(list)
        for d in sorted(self.deals, key=lambda d: (d.closed_at or d.created_at, d.opportunity_id)):
            if d.closed_at is not None and d.outcome in ("won", "lost"):
                for p in d.partners:
                    closed[(p, d.segment)].append(d)
        overlap_at: dict[str, dict[str, str]] = defaultdict(dict)
        for (p, a), status in sorted(self.overlap.items()):
            overlap_at[a][p] = status
        object.__setattr__(self, "by_id", {d.opportunity_id: d for d in self.deals})
        object.__setattr__(self, "touches_at", dict(touches_at))
        object.__setattr__(self, "registrations_at", dict(registrations_at))
        object.__setattr__(self, "closed_by_partner_segment", dict(closed))
        object.__setattr__(self, "overlap_at", dict(overlap_at))


@dataclass(frozen=True)
class Recommendation:
    """One partner for the deal, with what its rank rests on."""

    rank: int
    partner_id: str
    partner_name: str
    registration: RegistrationFact | None
    touches: int  # partner-engagement touches on the account in the lookback before T
    last_touch_at: datetime | None
    overlap_status: str  # the partner's status at the account on its own list, or ""
    segment_won: int  # won deals attributed to it in the segment, closed by T
    segment_closed: int  # won or lost
    win_rate: Decimal | None  # segment_won / segment_closed, 3 decimals
    median_cycle_days: Decimal | None  # created to close of those won deals, 1 decimal
    reasons: tuple[str, ...]

    def key(self) -> tuple[object, ...]:
        """The ranking key (module docstring): smaller first."""
        return (
            self.registration is None,
            -self.touches,
            OVERLAP_RANK.get(self.overlap_status, 9),
            -self.segment_won,
            -(self.win_rate if self.win_rate is not None else Decimal(-1)),
            self.partner_id,
        )


def _days(delta: timedelta) -> Decimal:
    return (Decimal(delta.days * 86_400 + delta.seconds) + Decimal(delta.microseconds) / 10**6) / 86_400


def _candidate(
    history: History, partner: str, deal: DealFact, as_of: datetime, lookback: timedelta
) -> Recommendation | None:
    registration = next(
        (
            r
            for r in reversed(history.registrations_at.get(deal.account_id, []))
            if r.partner_id == partner
            and r.registered_at <= as_of < r.expires_at
            and r.status in ("approved", "pending")
        ),
        None,
    )
    touches = [
        t
        for t in history.touches_at.get(deal.account_id, [])
        if t.partner_id == partner and as_of - lookback <= t.occurred_at <= as_of
    ]
    status = history.overlap_at.get(deal.account_id, {}).get(partner, "")
    closed = [
        d
        for d in history.closed_by_partner_segment.get((partner, deal.segment), [])
        if d.closed_at is not None and d.closed_at <= as_of and d.opportunity_id != deal.opportunity_id
    ]
    won = [d for d in closed if d.outcome == "won"]
    if registration is None and not touches and not status and not won:
        return None
    rate = (Decimal(len(won)) / len(closed)).quantize(Decimal("0.001"), ROUND_HALF_EVEN) if closed else None
    cycle = None
    if won:
        median = statistics.median(_days(d.closed_at - d.created_at) for d in won if d.closed_at)
        cycle = Decimal(median).quantize(Decimal("0.1"), ROUND_HALF_EVEN)
    reasons = []
    if registration is not None:
        reasons.append(
            f"registered the account ({registration.registration_id}, {registration.status}, "
            f"protected until {format_instant(registration.expires_at)})"
        )
    if touches:
        reasons.append(
            f"{len(touches):,} engagement touch{'es' if len(touches) != 1 else ''} on the account in the "
            f"last {lookback.days} days, the last {format_instant(touches[-1].occurred_at)} ({touches[-1].touch_id})"
        )
    if status:
        reasons.append(f"lists the account as its {status.replace('_', ' ')}")
    segment = deal.segment or "(no segment)"
    if closed:
        reasons.append(
            f"in segment {segment}: {len(won):,} won of {counted(len(closed), 'closed attributed deal')} "
            f"(win rate {rate:.1%})" + (f", median cycle {cycle} days" if cycle is not None else "")
        )
    return Recommendation(
        rank=0,
        partner_id=partner,
        partner_name=history.partner_names.get(partner, ""),
        registration=registration,
        touches=len(touches),
        last_touch_at=touches[-1].occurred_at if touches else None,
        overlap_status=status,
        segment_won=len(won),
        segment_closed=len(closed),
        win_rate=rate,
        median_cycle_days=cycle,
        reasons=tuple(reasons),
    )


def recommend(
    history: History, opportunity_id: str, as_of: datetime, *, lookback_days: int
) -> tuple[Recommendation, ...]:
    """The partners to bring into ``opportunity_id`` as known at ``as_of``, best first, ranked 1..n
    (module docstring). Raises KeyError for a deal the history does not hold."""
    deal = history.by_id[opportunity_id]
    lookback = timedelta(days=lookback_days)
    partners = set(history.overlap_at.get(deal.account_id, {}))
    partners.update(r.partner_id for r in history.registrations_at.get(deal.account_id, []))
    partners.update(t.partner_id for t in history.touches_at.get(deal.account_id, []))
    partners.update(p for (p, segment) in history.closed_by_partner_segment if segment == deal.segment)
    found = [c for p in sorted(partners) if (c := _candidate(history, p, deal, as_of, lookback)) is not None]
    ranked = sorted(found, key=Recommendation.key)
    return tuple(replace(r, rank=i) for i, r in enumerate(ranked, start=1))
