"""Properties of price_deal over random plans and deals (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from cosell.money import round_money
from cosell.pay.model import DealToPrice, PartnerCredit
from cosell.pay.plans import OPPORTUNITY_TYPES, PARTNER_TYPES, ROLES, TIERS, Plan, RepCommission, Rule
from cosell.pay.pricing import price_deal

PROGRAM_TIERS = ("gold", "silver", "registered", "")


def cents(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low, high).map(lambda n: Decimal(n).scaleb(-2))


percents = st.integers(0, 10_000).map(lambda n: Decimal(n).scaleb(-2))  # 0.00 .. 100.00


def constraint(values: tuple[str, ...]) -> st.SearchStrategy[frozenset[str] | None]:
    # Any value, one value, or two neighbouring values (cheap to draw, and lists overlap each other).
    options: list[frozenset[str] | None] = [None, None]
    options += [frozenset({v}) for v in values]
    options += [frozenset(values[i : i + 2]) for i in range(len(values) - 1)]
    return st.sampled_from(options)


@st.composite
def rules(draw: st.DrawFn, index: int) -> Rule:
    percent = draw(st.none() | percents)
    flat = draw(cents(0, 500_000)) if percent is None else draw(st.none() | cents(0, 500_000))
    minimum = draw(st.none() | cents(0, 100_000))
    cap = draw(st.none() | cents(0, 10_000_000))
    if cap is not None and minimum is not None and cap < minimum:
        cap, minimum = minimum, cap
    return Rule(
        id=f"r{index}",
        tier=draw(constraint(tuple(t for t in TIERS if t != "none"))),
        partner_type=draw(constraint(PARTNER_TYPES)),
        program_tier=draw(constraint(("gold", "silver"))),
        role=draw(constraint(ROLES)),
        opportunity_type=draw(constraint(OPPORTUNITY_TYPES)),
        percent=percent,
        flat=flat,
        cap=cap,
        minimum=minimum,
        additive=draw(st.booleans()),
        priority=draw(st.none() | st.integers(-2, 2)),
    )


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    count = draw(st.integers(0, 6))
    rep = draw(
        st.none()
        | st.builds(
            RepCommission,
            sourced=percents,
            influenced=percents,
            direct=percents,
            accelerated=percents,
            partner_pay=st.sampled_from(("on_top", "out_of_rep")),
        )
    )
    return Plan(
        plan_id="h",
        version=1,
        effective_from=datetime(2026, 1, 1, tzinfo=UTC),
        effective_to=None,
        currency="USD",
        rules=tuple(draw(rules(i)) for i in range(count)),
        rep_commission=rep,
    )


@st.composite
def deals(draw: st.DrawFn) -> DealToPrice:
    count = draw(st.integers(0, 4))
    partner_ids = draw(st.lists(st.sampled_from("ABCDEFG"), min_size=count, max_size=count, unique=True))
    credits = tuple(
        PartnerCredit(
            partner_id=p,
            partner_type=draw(st.sampled_from(PARTNER_TYPES)),
            program_tier=draw(st.sampled_from(PROGRAM_TIERS)),
            role=draw(st.sampled_from(ROLES)),
            share=Decimal(1) / Decimal(count),
            amount=draw(cents(-1_000_000, 100_000_000)),
        )
        for p in partner_ids
    )
    currency = draw(st.sampled_from(("USD", "EUR", "JPY")))
    fx = Decimal(1) if currency == "USD" else draw(st.integers(1, 10**7).map(lambda n: Decimal(n).scaleb(-6)))
    amount = draw(st.integers(-(10**8), 10**10))
    return DealToPrice(
        opportunity_id="006H",
        won=True,
        closed_at=datetime(2026, 3, 1, tzinfo=UTC),
        close_period="2026-03",
        opportunity_type=draw(st.sampled_from((*OPPORTUNITY_TYPES, ""))),
        tier=draw(st.sampled_from(TIERS)),
        attribution_run_id=3,
        amount=Decimal(amount).scaleb(0 if currency == "JPY" else -2),
        currency=currency,
        fx_rate=fx,
        workspace_currency="USD",
        rep_id=draw(st.sampled_from(("", "U1"))),
        credits=credits,
    )


@given(plans(), deals())
def test_earnings_are_positive_and_rounded_to_the_cent(plan: Plan, deal: DealToPrice) -> None:
    earnings = price_deal(plan, deal)
    payouts = [e.party_id for e in earnings if e.kind == "partner_payout"]
    assert len(payouts) == len(set(payouts))  # one winning rule per credit; the rest are bonuses
    for earning in earnings:
        assert earning.amount > 0
        assert earning.amount == round_money(earning.amount, "USD")
        assert earning.amount.as_tuple().exponent == -2
        assert earning.plan_version == "h@1" and earning.attribution_run_id == 3


@given(plans(), deals())
def test_each_earning_respects_its_rule_minimum_and_cap(plan: Plan, deal: DealToPrice) -> None:
    for earning in price_deal(plan, deal):
        if earning.party_kind != "partner":
            continue
        rule = plan.rule(earning.rule_id)
        if rule.cap is not None:
            assert earning.amount <= rule.cap
        if rule.minimum is not None:
            assert earning.amount >= rule.minimum


@given(plans(), deals())
def test_rep_commission_out_of_rep_never_below_zero(plan: Plan, deal: DealToPrice) -> None:
    earnings = price_deal(plan, deal)
    rep = [e for e in earnings if e.party_kind == "rep"]
    partner_total = sum((e.amount for e in earnings if e.party_kind == "partner"), Decimal(0))
    settings = plan.rep_commission
    if settings is None or not deal.rep_id:
        assert rep == []
        return
    _, rate = settings.rate(deal.tier)
    gross = round_money(max(deal.amount * deal.fx_rate, Decimal(0)) * rate / 100, "USD")
    expected = gross if settings.partner_pay == "on_top" else max(gross - partner_total, Decimal(0))
    assert sum((e.amount for e in rep), Decimal(0)) == expected
    assert all(e.amount >= 0 for e in rep)


@given(plans(), deals())
def test_order_of_credits_does_not_matter_and_lost_deals_earn_nothing(plan: Plan, deal: DealToPrice) -> None:
    reversed_deal = DealToPrice(**{**deal.__dict__, "credits": tuple(reversed(deal.credits))})
    assert price_deal(plan, deal) == price_deal(plan, reversed_deal)
    assert price_deal(plan, DealToPrice(**{**deal.__dict__, "won": False})) == []
    if deal.tier == "none":
        assert all(e.party_kind == "rep" for e in price_deal(plan, deal))
