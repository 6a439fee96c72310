"""What pricing takes and gives: one won deal's attribution in, the earnings its plan says out.

Pricing (:mod:`cosell.pay.pricing`) is pure: it maps a :class:`DealToPrice` and the plan in force to
:class:`Earning` values. The ledger (:mod:`cosell.pay.ledger`) compares those with what it already
holds and posts reversals and new entries; it never prices anything itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

PartyKind = Literal["partner", "rep"]
# partner_payout: a partner's fee or percent; rep_commission: the owning rep's; bonus: an additive
# rule's extra (e.g. partner-sourced expansion). Reversals and clawbacks are ledger entry kinds.
EarningKind = Literal["partner_payout", "rep_commission", "bonus"]


@dataclass(frozen=True)
class PartnerCredit:
    """One partner's credit on the deal, as the current attribution version says."""

    partner_id: str
    partner_type: str  # referral, co_sell, reseller, integration, agency, affiliate, services
    program_tier: str  # at close where recorded, else current ("" when unknown)
    role: str  # sourcer, co_seller, reseller, influencer, servicer
    share: Decimal
    amount: Decimal  # credited amount in the deal currency (largest remainder, exact)


@dataclass(frozen=True)
class DealToPrice:
    """A deal as pricing needs it. Only won deals earn; a deal that is not won prices to nothing."""

    opportunity_id: str
    won: bool
    closed_at: datetime  # X: picks the plan version in force
    close_period: str  # fiscal month label of X, e.g. 2026-10
    opportunity_type: str  # new_business, expansion, renewal, or ""
    tier: str  # sourced, accelerated, influenced, none
    attribution_run_id: int  # the attribution version priced
    amount: Decimal  # deal amount in the deal currency
    currency: str
    fx_rate: Decimal  # workspace currency per unit of the deal currency, at the close period
    workspace_currency: str
    rep_id: str  # the owner when its first entry is posted ("" when none: no rep commission)
    credits: tuple[PartnerCredit, ...]


@dataclass(frozen=True)
class Earning:
    """What one party earns on one deal under one rule, in workspace currency, rounded once."""

    opportunity_id: str
    party_kind: PartyKind
    party_id: str
    kind: EarningKind
    rule_id: str
    plan_version: str  # plan id and version, e.g. "partners-2026@3"
    attribution_run_id: int
    amount: Decimal  # rounded half away from zero to the workspace currency's minor unit
    basis: str  # plain words: "10% of 12,000.00 USD credited (sourcer, 100%)", "flat 500.00 USD"
