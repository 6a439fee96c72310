"""Pricing: what a plan says one won deal earns, for each partner and for the owning rep. Pure.

For each partner credit, the rules matching the deal's tier and opportunity type and the partner's
type, program tier and role are found; the most specific non-additive rule wins (an explicit
``priority`` breaks a tie; the plan checks guarantee there is no other tie), and every matching
additive rule pays on top as a ``bonus``. An earning is ``percent`` of the credited amount converted
to the workspace currency at the deal's close-period rate, plus the ``flat`` fee, raised to the
rule's ``minimum`` and held to its ``cap``, then rounded once, half away from zero, to the minor unit
(SPEC section 6, "Precise readings for pay").

The rep commission is the tier's rate times the whole deal amount in workspace currency (rounded
once); with ``partner_pay = "out_of_rep"`` the deal's partner earnings (payouts and bonuses) are
taken out of it, never below zero.

Earnings of zero are left out: the ledger reads a missing earning as zero (and reverses what it
holds). Nothing is ever negative: a negative credited or deal amount (a credit note) pays no
percent and no rep commission; a rule's flat fee still pays, and its minimum still applies (the
rule matched: docs/pay-plans.md).

>>> from cosell.pay.plan_parse import example_plan
>>> from cosell.pay.model import DealToPrice, PartnerCredit
>>> from datetime import UTC, datetime
>>> from decimal import Decimal
>>> deal = DealToPrice("006A", True, datetime(2026, 3, 2, tzinfo=UTC), "2026-03", "new_business",
...     "sourced", 1, Decimal("12000.00"), "USD", Decimal(1), "USD", "rep-1",
...     (PartnerCredit("P1", "referral", "gold", "sourcer", Decimal(1), Decimal("12000.00")),))
>>> for e in price_deal(example_plan(), deal):
...     print(e.party_id, e.rule_id, e.amount, e.basis)
P1 referral-sourced-gold 1440.00 12% of 12,000.00 USD credited (sourcer, 100% credit)
rep-1 rep:sourced 720.00 6% of 12,000.00 USD deal amount (sourced deal)
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Context, Decimal, localcontext

from cosell.money import format_money, round_money
from cosell.pay.model import DealToPrice, Earning, EarningKind, PartnerCredit
from cosell.pay.plans import HUNDRED, Plan, PlanError, Rule

# Wide enough that every intermediate product (amount x rate x percent) is exact; rounding happens once.
_EXACT = Context(prec=120)
_ZERO = Decimal(0)
_KIND_ORDER: dict[str, int] = {"partner_payout": 0, "bonus": 1, "rep_commission": 2}


def format_number(value: Decimal) -> str:
    """A rate or percent as written: 10, 12.5, 1.0845 (no exponent, no trailing zeros)."""
    return format(value.normalize(), "f")


def _share(share: Decimal) -> str:
    with localcontext(_EXACT):
        percent = (share * HUNDRED).quantize(Decimal("0.0001"))
    return f"{format_number(percent)}%"


def winning_rules(plan: Plan, deal: DealToPrice, credit: PartnerCredit) -> list[Rule]:
    """The rules that pay on one credit: the winning non-additive rule (if any), then the additive ones."""
    matching = [
        r
        for r in plan.rules
        if r.matches(deal.tier, credit.partner_type, credit.program_tier, credit.role, deal.opportunity_type)
    ]
    contenders = [r for r in matching if not r.additive]
    chosen: list[Rule] = []
    if contenders:
        # Ties are refused by the plan checks; the rule id only keeps an unchecked plan deterministic.
        chosen.append(max(sorted(contenders, key=lambda r: r.id, reverse=True), key=lambda r: r.precedence))
    chosen.extend(sorted((r for r in matching if r.additive), key=lambda r: r.id))
    return chosen


def _credited_words(deal: DealToPrice, credit: PartnerCredit) -> str:
    words = f"{format_money(credit.amount, deal.currency)} credited"
    if deal.currency != deal.workspace_currency:
        words += f" at {format_number(deal.fx_rate)} {deal.workspace_currency} per {deal.currency}"
    return words


def price_rule(rule: Rule, deal: DealToPrice, credit: PartnerCredit) -> tuple[Decimal, str]:
    """One rule applied to one credit: the rounded amount and the basis in plain words."""
    currency = deal.workspace_currency
    parts: list[str] = []
    with localcontext(_EXACT):
        amount = _ZERO
        if rule.percent is not None:
            base = max(credit.amount * deal.fx_rate, _ZERO)
            amount += base * rule.percent / HUNDRED
            parts.append(f"{format_number(rule.percent)}% of {_credited_words(deal, credit)}")
        if rule.flat is not None:
            amount += rule.flat
            parts.append(f"flat {format_money(rule.flat, currency)}")
        basis = " + ".join(parts) + f" ({credit.role}, {_share(credit.share)} credit)"
        if rule.minimum is not None and amount < rule.minimum:
            amount = rule.minimum
            basis += f", raised to the minimum {format_money(rule.minimum, currency)}"
        if rule.cap is not None and amount > rule.cap:
            amount = rule.cap
            basis += f", capped at {format_money(rule.cap, currency)}"
    return round_money(amount, currency), basis


def _partner_earnings(plan: Plan, deal: DealToPrice) -> Iterable[Earning]:
    if deal.tier == "none":
        return  # a deal in tier none has no credits, and partners earn nothing on it
    for credit in sorted(deal.credits, key=lambda c: (c.partner_id, c.role)):
        for rule in winning_rules(plan, deal, credit):
            amount, basis = price_rule(rule, deal, credit)
            kind: EarningKind = "bonus" if rule.additive else "partner_payout"
            yield Earning(
                opportunity_id=deal.opportunity_id,
                party_kind="partner",
                party_id=credit.partner_id,
                kind=kind,
                rule_id=rule.id,
                plan_version=plan.label,
                attribution_run_id=deal.attribution_run_id,
                amount=amount,
                basis=basis,
            )


def rep_commission(plan: Plan, deal: DealToPrice, partner_total: Decimal) -> Earning | None:
    """The owning rep's commission on a won deal (None when the plan or the deal has no rep)."""
    settings = plan.rep_commission
    if settings is None or not deal.rep_id:
        return None
    currency = deal.workspace_currency
    key, rate = settings.rate(deal.tier)
    with localcontext(_EXACT):
        gross = round_money(max(deal.amount * deal.fx_rate, _ZERO) * rate / HUNDRED, currency)
    deal_words = format_money(deal.amount, deal.currency) + " deal amount"
    if deal.currency != currency:
        deal_words += f" at {format_number(deal.fx_rate)} {currency} per {deal.currency}"
    tier_words = "direct deal" if key == "direct" else f"{deal.tier} deal"
    basis = f"{format_number(rate)}% of {deal_words} ({tier_words})"
    amount = gross
    if settings.partner_pay == "out_of_rep":
        amount = max(gross - partner_total, _ZERO)
        basis += (
            f" = {format_money(gross, currency)}, less {format_money(partner_total, currency)} partner "
            "earnings on the deal (out of rep), never below zero"
        )
    return Earning(
        opportunity_id=deal.opportunity_id,
        party_kind="rep",
        party_id=deal.rep_id,
        kind="rep_commission",
        rule_id=f"rep:{key}",
        plan_version=plan.label,
        attribution_run_id=deal.attribution_run_id,
        amount=round_money(amount, currency),
        basis=basis,
    )


def price_deal(plan: Plan, deal: DealToPrice) -> list[Earning]:
    """Every non-zero earning ``plan`` gives on ``deal``, in a fixed order.

    Only won deals earn. Partner earnings come first (by partner id, the winning rule before the
    additive bonuses), then the rep commission. ``plan`` must be the version in force at the
    deal's close time (:meth:`cosell.pay.plans.PlanSet.in_force`) and in the workspace currency.
    """
    if not deal.won:
        return []
    if plan.currency != deal.workspace_currency:
        raise PlanError(
            f"plan {plan.label} is in {plan.currency} but the workspace currency is {deal.workspace_currency}"
        )
    partner = list(_partner_earnings(plan, deal))
    with localcontext(_EXACT):
        partner_total = sum((e.amount for e in partner), _ZERO)
    earnings = partner
    rep = rep_commission(plan, deal, partner_total)
    if rep is not None:
        earnings.append(rep)
    kept = [e for e in earnings if e.amount != 0]
    return sorted(kept, key=lambda e: (e.party_kind, e.party_id, _KIND_ORDER[e.kind], e.rule_id))
