"""Pricing decisions that are not stored: what the plan in force would pay on a deal decided one
way or another, priced as posting prices it, with nothing written to the ledger.

A policy what-if (:mod:`cosell.service.simulate`) asks what each party would earn on a deal under
the current and under a proposed decision. Each is priced the way :func:`cosell.pay.posting.post_period`
prices a won deal: the plan version pinned by the deal's first ledger entry (unless the deal has
closed again at another instant since), else the version in force at its close time X
(:class:`cosell.pay.pricers.PlanSetPricer` over the plan versions known at the knowledge
instant); the rep pinned then, else the deal's owner; each partner's type and program tier at X
where recorded, else its current ones; the credited amounts in the deal currency
converted at the close month's rate, each earning rounded once (:func:`cosell.pay.pricing.price_deal`).
Only won deals earn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from cosell.engine import Engine
from cosell.money import quantum
from cosell.pay.model import DealToPrice, Earning, PartnerCredit
from cosell.pay.plans import PlanSet
from cosell.pay.pricers import PlanSetPricer
from cosell.periods import month_label
from cosell.results import CreditRow
from cosell.store.ledger import pinned_deal_terms


@dataclass(frozen=True)
class ToPrice:
    """One decision on one deal, as pricing needs it."""

    opportunity_id: str
    won: bool
    closed_at: datetime | None  # X (won deals have one)
    opportunity_type: str
    tier: str
    amount: Decimal  # in the deal currency
    currency: str
    close_rate: Decimal | None  # workspace currency per unit of the deal currency, at X's month
    owner_id: str
    credits: tuple[CreditRow, ...]


@dataclass(frozen=True)
class Priced:
    """What one decision earns: each earning, and the plan version that priced it (None: a won deal
    with no plan in force at its close, so not priced; or a deal that is not won)."""

    earnings: tuple[Earning, ...]
    plan_version: str | None
    priced: bool  # False: won, but no plan in force at its close

    def by_party(self, party_kind: str) -> dict[str, Decimal]:
        """The total each party of ``party_kind`` (partner or rep) earns."""
        totals: dict[str, Decimal] = {}
        for e in self.earnings:
            if e.party_kind == party_kind:
                totals[e.party_id] = totals.get(e.party_id, Decimal(0)) + e.amount
        return totals


NOT_WON = Priced((), None, True)


def price_decisions(
    con: Engine,
    plans: PlanSet,
    workspace_currency: str,
    decisions: Sequence[ToPrice],
    known_at: datetime | None = None,
) -> list[Priced]:
    """Price each decision (in order); nothing is written. Reads the ledger's pinned deal terms and
    the partners known at ``known_at`` (None: everything recorded): build the ``v_<table>`` views
    of that instant first (:func:`cosell.store.workspace.as_of_views`)."""
    won = [d for d in decisions if d.won]
    if not won:
        return [NOT_WON for _ in decisions]
    terms = pinned_deal_terms(con, sorted({d.opportunity_id for d in won}), known_at)
    partners = _partners_at_close(con, won, known_at)
    pricer = PlanSetPricer(plans)
    out = []
    for d in decisions:
        if not d.won:
            out.append(NOT_WON)
            continue
        assert d.closed_at is not None and d.close_rate is not None
        pinned = terms.get(d.opportunity_id)
        plan = plans.find(d.closed_at)
        pinned_plan = pinned.plan_for(d.closed_at) if pinned else None
        version = pinned_plan or (plan.label if plan else None)
        if version is None:
            out.append(Priced((), None, False))
            continue
        q = quantum(d.currency)
        credits = tuple(
            PartnerCredit(
                c.partner_id,
                *partners.get((c.partner_id, d.closed_at), ("", "")),
                c.role,
                Decimal(c.share),
                Decimal(c.amount).quantize(q),
            )
            for c in d.credits
        )
        deal = DealToPrice(
            opportunity_id=d.opportunity_id,
            won=True,
            closed_at=d.closed_at,
            close_period=month_label(d.closed_at),
            opportunity_type=d.opportunity_type,
            tier=d.tier,
            attribution_run_id=0,  # a hypothetical decision: no attribution version
            amount=d.amount.quantize(q),
            currency=d.currency,
            fx_rate=d.close_rate,
            workspace_currency=workspace_currency,
            rep_id=pinned.rep_id if pinned else d.owner_id,
            credits=credits,
        )
        out.append(Priced(tuple(pricer.price(version, deal)), version, True))
    return out


def _partners_at_close(
    con: Engine, won: Sequence[ToPrice], known_at: datetime | None
) -> dict[tuple[str, datetime], tuple[str, str]]:
    """(partner type, program tier) of each credited partner at each deal's close time X: the
    version of the partner row in force at X where one was recorded, else the one known at K."""
    pairs = sorted({(c.partner_id, d.closed_at) for d in won for c in d.credits if d.closed_at is not None})
    if not pairs:
        return {}
    # A version recorded after K was not known at K; one replaced after K was still in force then.
    known = "TRUE" if known_at is None else "pa._valid_from <= $k"
    until = "w.closed_at" if known_at is None else "least(w.closed_at, $k)"
    params: dict[str, object] = {"partners": [p for p, _ in pairs], "closes": [x for _, x in pairs]}
    if known_at is not None:
        params["k"] = known_at
    rows = con.execute(
        f"""WITH w AS (SELECT unnest($partners::VARCHAR[]) AS partner_id, unnest($closes::TIMESTAMPTZ[]) AS closed_at)
            SELECT w.partner_id, w.closed_at,
                coalesce(nullif(arg_max(pa.partner_type, pa._valid_from), ''), any_value(pc.partner_type), ''),
                coalesce(nullif(arg_max(pa.program_tier, pa._valid_from), ''), any_value(pc.program_tier), '')
            FROM w
            LEFT JOIN partners pa ON pa.partner_id = w.partner_id AND pa._valid_from <= w.closed_at
                AND (pa._valid_to IS NULL OR pa._valid_to > {until}) AND {known}
            LEFT JOIN v_partners pc ON pc.partner_id = w.partner_id
            GROUP BY 1, 2 ORDER BY 1, 2""",
        params,
    ).fetchall()
    return {(str(p), x): (str(t), str(tier)) for p, x, t, tier in rows}


def partner_names(con: Engine, partner_ids: Sequence[str]) -> dict[str, str]:
    """Each partner's name as known (``v_partners``); a partner without a row is left out."""
    wanted = sorted(set(partner_ids))
    if not wanted:
        return {}
    rows = con.execute(
        "SELECT partner_id, coalesce(name, '') FROM v_partners WHERE list_contains(?, partner_id) ORDER BY 1",
        [wanted],
    ).fetchall()
    return {str(p): str(n) for p, n in rows}
