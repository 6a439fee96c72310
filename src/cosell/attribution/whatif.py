"""A policy what-if, compared: the deals a proposed policy would decide differently, and the money
that would move. Pure: the decisions come from two runs of the batch engine at the same instants
(:mod:`cosell.service.simulate`), the money from the deal amounts and the pay plan in force.

Kinds of change, each independent of the others (one deal may have several):

- ``tier``: its tier differs;
- ``partner``: its primary partner differs, or the set of partners credited on it;
- ``credit``: any of its credit rows differs (a partner's role, share or credited amount);
- ``outcome``: whether it is won, lost or open at the as-of instant, or its close time X, differs
  (only a proposed stage mapping does that).

Money, every figure in the workspace currency and signed (+ gained, - lost):

- pipeline moved by tier: the deal's pipeline amount (converted at the rate of its creation month
  and rounded once, as the metrics count it) leaves its current tier and joins its proposed one;
- revenue moved by tier: a won deal's revenue (at the rate of its close month), the same way;
- pay change per party: what the plan in force at the deal's close pays each partner (and the
  owning rep) under the proposed decision, minus what it pays under the current one;
- money moved, the size of one deal's change (the list is sorted by it, largest first, then by
  opportunity id): the largest of the pipeline, the revenue, the credited pipeline and the partner
  pay that change hands, each counted as the larger of what is gained and what is lost.

>>> from cosell.results import AttributionRow
>>> row = AttributionRow("O1", "none", "", "", "10", "", "", "", "", "", "v")
>>> was, now = Decision(row, ()), Decision(row, ())
>>> change_kinds(was, now)
()
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Context, Decimal, localcontext

from cosell.money import quantum, round_money
from cosell.results import TIERS, AttributionRow, CreditRow

KINDS = ("tier", "partner", "credit", "outcome")
_ZERO = Decimal(0)
# Wide enough that an amount times a rate is exact; the result is rounded once.
_EXACT = Context(prec=120)


@dataclass(frozen=True)
class Decision:
    """One deal as one policy decides it: its attribution row, its credit rows, and whether it is
    won, lost or open at the as-of instant with its close time X (None while open)."""

    row: AttributionRow
    credits: tuple[CreditRow, ...]
    outcome: str = ""
    closed_at: datetime | None = None

    @property
    def tier(self) -> str:
        return self.row.tier

    @property
    def primary_partner_id(self) -> str:
        return self.row.primary_partner_id

    def credited(self) -> dict[str, Decimal]:
        """Each credited partner's amount, in the deal currency."""
        return {c.partner_id: Decimal(c.amount) for c in self.credits}


def change_kinds(current: Decision, proposed: Decision) -> tuple[str, ...]:
    """The kinds of change between two decisions on one deal, in :data:`KINDS` order."""
    kinds = []
    if current.tier != proposed.tier:
        kinds.append("tier")
    partners = {c.partner_id for c in current.credits}, {c.partner_id for c in proposed.credits}
    if current.primary_partner_id != proposed.primary_partner_id or partners[0] != partners[1]:
        kinds.append("partner")
    if _credit_key(current.credits) != _credit_key(proposed.credits):
        kinds.append("credit")
    if (current.outcome, current.closed_at) != (proposed.outcome, proposed.closed_at):
        kinds.append("outcome")
    return tuple(kinds)


def _credit_key(credits: Iterable[CreditRow]) -> list[tuple[str, str, Decimal, Decimal, str]]:
    # Compared as numbers: "0.50" and "0.500000" are the same share.
    return sorted((c.partner_id, c.role, Decimal(c.share), Decimal(c.amount), c.currency) for c in credits)


@dataclass(frozen=True)
class Money:
    """What rides on one decision of one deal, in the workspace currency.

    ``pipeline`` is the deal amount at its creation month's rate (``pipeline_rate``), ``revenue``
    the amount at its close month's rate when the decision's outcome is won (else None);
    ``partner_pay`` and ``rep_pay`` what the plan in force at close pays on it per party (empty
    when it is not won, or ``priced`` is False: no plan was in force at its close).
    """

    pipeline: Decimal
    pipeline_rate: Decimal
    revenue: Decimal | None = None
    partner_pay: Mapping[str, Decimal] = field(default_factory=dict)
    rep_pay: Mapping[str, Decimal] = field(default_factory=dict)
    priced: bool = True


def _moved(deltas: Iterable[Decimal], start: Decimal = _ZERO) -> Decimal:
    """What changes hands: the larger of the total gained and the total lost (``start`` when
    nothing moves, so that it keeps the currency's digits)."""
    values = list(deltas)
    with localcontext(_EXACT):
        return max(sum((d for d in values if d > 0), start), sum((-d for d in values if d < 0), start))


def _delta(current: Mapping[str, Decimal], proposed: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """``proposed - current`` per key, leaving out what does not change (sorted by key)."""
    keys = sorted(set(current) | set(proposed))
    deltas = {k: proposed.get(k, _ZERO) - current.get(k, _ZERO) for k in keys}
    return {k: d for k, d in deltas.items() if d != 0}


def _by_tier(tier: str, amount: Decimal | None) -> dict[str, Decimal]:
    return {} if amount is None else {tier: amount}


@dataclass(frozen=True)
class DealChange:
    """One deal the proposed policy decides differently, with the money its change moves."""

    opportunity_id: str
    kinds: tuple[str, ...]
    current: Decision
    proposed: Decision
    current_money: Money
    proposed_money: Money
    currency: str  # the workspace currency
    deal_currency: str = ""  # the currency of the deal's amount and credits

    @property
    def pipeline_moved(self) -> dict[str, Decimal]:
        """Signed pipeline per tier (only the tiers that move)."""
        return _delta(
            _by_tier(self.current.tier, self.current_money.pipeline),
            _by_tier(self.proposed.tier, self.proposed_money.pipeline),
        )

    @property
    def revenue_moved(self) -> dict[str, Decimal]:
        """Signed revenue per tier (only the tiers that move)."""
        return _delta(
            _by_tier(self.current.tier, self.current_money.revenue),
            _by_tier(self.proposed.tier, self.proposed_money.revenue),
        )

    @property
    def partner_pay_change(self) -> dict[str, Decimal]:
        return _delta(self.current_money.partner_pay, self.proposed_money.partner_pay)

    @property
    def rep_pay_change(self) -> dict[str, Decimal]:
        return _delta(self.current_money.rep_pay, self.proposed_money.rep_pay)

    @property
    def credit_moved(self) -> Decimal:
        """The credited amount that changes partners, in the deal currency."""
        start = zero(self.deal_currency) if self.deal_currency else _ZERO
        return _moved(_delta(self.current.credited(), self.proposed.credited()).values(), start)

    @property
    def credit_moved_ws(self) -> Decimal:
        """:attr:`credit_moved` in the workspace currency, at the pipeline rate, rounded once."""
        with localcontext(_EXACT):
            exact = self.credit_moved * self.current_money.pipeline_rate
        return round_money(exact, self.currency)

    @property
    def money_moved(self) -> Decimal:
        """The size of this change (see the module docstring)."""
        nothing = zero(self.currency)
        return max(
            _moved(self.pipeline_moved.values(), nothing),
            _moved(self.revenue_moved.values(), nothing),
            self.credit_moved_ws,
            _moved(self.partner_pay_change.values(), nothing),
        )


@dataclass(frozen=True)
class PartyTotal:
    """One party's pay on the changed deals under each policy, and the change."""

    party_id: str
    current: Decimal
    proposed: Decimal

    @property
    def change(self) -> Decimal:
        return self.proposed - self.current


@dataclass(frozen=True)
class WhatIf:
    """Every changed deal, largest money moved first, and the totals of the summary."""

    currency: str  # the workspace currency
    changes: tuple[DealChange, ...]
    by_kind: dict[str, int]
    pipeline_moved: dict[str, Decimal]  # every tier, signed
    revenue_moved: dict[str, Decimal]
    partner_pay: tuple[PartyTotal, ...]  # parties whose pay changes, largest change first
    rep_pay: tuple[PartyTotal, ...]
    unpriced: tuple[str, ...]  # won deals (under either policy) with no plan in force at close

    @property
    def partner_pay_change(self) -> Decimal:
        with localcontext(_EXACT):
            return sum((p.change for p in self.partner_pay), zero(self.currency))

    @property
    def rep_pay_change(self) -> Decimal:
        with localcontext(_EXACT):
            return sum((p.change for p in self.rep_pay), zero(self.currency))


def zero(currency: str) -> Decimal:
    """0 with the currency's minor-unit digits (``0.00``), so a sum of nothing prints like money."""
    return _ZERO.quantize(quantum(currency))


def _party_totals(
    pairs: Iterable[tuple[Mapping[str, Decimal], Mapping[str, Decimal]]], currency: str
) -> tuple[PartyTotal, ...]:
    current: dict[str, Decimal] = {}
    proposed: dict[str, Decimal] = {}
    nothing = zero(currency)
    with localcontext(_EXACT):
        for was, now in pairs:
            for party, amount in was.items():
                current[party] = current.get(party, nothing) + amount
            for party, amount in now.items():
                proposed[party] = proposed.get(party, nothing) + amount
    totals = [
        PartyTotal(p, current.get(p, nothing), proposed.get(p, nothing)) for p in set(current) | set(proposed)
    ]
    kept = [t for t in totals if t.change != 0]
    return tuple(sorted(kept, key=lambda t: (-abs(t.change), t.party_id)))


def compare(changes: Iterable[DealChange], currency: str) -> WhatIf:
    """The summary of the changed deals: counts by kind, money moved by tier, pay per party, in
    the workspace ``currency``.

    Deals whose decisions do not differ (no kind of change) and that move no money are left out;
    the rest are sorted by money moved, largest first, then by opportunity id (a total order).
    """
    kept = [c for c in changes if c.kinds or c.money_moved]
    kept.sort(key=lambda c: (-c.money_moved, c.opportunity_id))
    by_kind = {kind: sum(1 for c in kept if kind in c.kinds) for kind in KINDS}
    pipeline = {tier: zero(currency) for tier in TIERS}
    revenue = {tier: zero(currency) for tier in TIERS}
    with localcontext(_EXACT):  # totals past 28 digits (10^22 a deal, in four decimals) stay exact
        for c in kept:
            for tier, amount in c.pipeline_moved.items():
                pipeline[tier] += amount
            for tier, amount in c.revenue_moved.items():
                revenue[tier] += amount
    unpriced = sorted(
        c.opportunity_id for c in kept if not (c.current_money.priced and c.proposed_money.priced)
    )
    return WhatIf(
        currency=currency,
        changes=tuple(kept),
        by_kind=by_kind,
        pipeline_moved=pipeline,
        revenue_moved=revenue,
        partner_pay=_party_totals(
            ((c.current_money.partner_pay, c.proposed_money.partner_pay) for c in kept), currency
        ),
        rep_pay=_party_totals(((c.current_money.rep_pay, c.proposed_money.rep_pay) for c in kept), currency),
        unpriced=tuple(unpriced),
    )
