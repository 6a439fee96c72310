"""price_deal, hand-computed: one test per kind of rule, the worked example, rep commission, rounding, FX."""

from __future__ import annotations

import doctest
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest

import cosell.pay.pricing
from cosell.money import largest_remainder
from cosell.pay.model import DealToPrice, Earning, PartnerCredit
from cosell.pay.plan_parse import example_plan, parse_plan
from cosell.pay.plans import Plan, PlanError
from cosell.pay.pricing import price_deal

D = Decimal
CLOSED = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)

HEAD = """
plan_id = "test"
version = 1
effective_from = 2026-01-01
currency = "{currency}"
"""


def make_plan(rules: str, rep: str = "", currency: str = "USD") -> Plan:
    return parse_plan(HEAD.format(currency=currency) + rep + rules, "test.toml")


def credit(
    partner_id: str,
    partner_type: str,
    role: str,
    amount: str,
    share: str = "1",
    program_tier: str = "silver",
) -> PartnerCredit:
    return PartnerCredit(partner_id, partner_type, program_tier, role, D(share), D(amount))


def deal(
    *credits: PartnerCredit,
    tier: str = "sourced",
    amount: str = "0",
    opportunity_type: str = "new_business",
    currency: str = "USD",
    fx_rate: str = "1",
    workspace_currency: str = "USD",
    rep_id: str = "",
    won: bool = True,
) -> DealToPrice:
    return DealToPrice(
        opportunity_id="006A",
        won=won,
        closed_at=CLOSED,
        close_period="2026-03",
        opportunity_type=opportunity_type,
        tier=tier,
        attribution_run_id=7,
        amount=D(amount),
        currency=currency,
        fx_rate=D(fx_rate),
        workspace_currency=workspace_currency,
        rep_id=rep_id,
        credits=credits,
    )


def amounts(earnings: list[Earning]) -> list[tuple[str, str, str, Decimal]]:
    return [(e.party_id, e.kind, e.rule_id, e.amount) for e in earnings]


REFERRAL_10 = """
[[rules]]
id = "referral-10"
tier = "sourced"
partner_type = "referral"
percent = 10
"""


def test_percent_of_the_credited_amount() -> None:
    """10% of 12,000.00 = 1,200.00."""
    [e] = price_deal(make_plan(REFERRAL_10), deal(credit("P1", "referral", "sourcer", "12000.00")))
    assert (e.party_kind, e.party_id, e.kind, e.rule_id, e.amount) == (
        "partner",
        "P1",
        "partner_payout",
        "referral-10",
        D("1200.00"),
    )
    assert e.plan_version == "test@1"
    assert e.attribution_run_id == 7
    assert e.opportunity_id == "006A"
    assert e.basis == "10% of 12,000.00 USD credited (sourcer, 100% credit)"


def test_flat_fee() -> None:
    plan = make_plan('[[rules]]\nid = "fee"\ntier = "influenced"\nflat = 500\n')
    [e] = price_deal(plan, deal(credit("P1", "agency", "influencer", "80000.00"), tier="influenced"))
    assert e.amount == D("500.00")
    assert e.basis == "flat 500.00 USD (influencer, 100% credit)"


def test_percent_and_flat_together() -> None:
    """20% of 30,000.00 = 6,000.00, plus 250.00 flat = 6,250.00."""
    plan = make_plan('[[rules]]\nid = "both"\npercent = 20\nflat = 250\n')
    [e] = price_deal(plan, deal(credit("P1", "co_sell", "co_seller", "30000.00", "0.3")))
    assert e.amount == D("6250.00")
    assert e.basis == "20% of 30,000.00 USD credited + flat 250.00 USD (co_seller, 30% credit)"


def test_cap_holds_one_earning() -> None:
    """20% of 40,000.00 = 8,000.00, capped at 5,000.00."""
    plan = make_plan('[[rules]]\nid = "capped"\npercent = 20\ncap = 5000\n')
    [e] = price_deal(plan, deal(credit("P1", "co_sell", "co_seller", "40000.00")))
    assert e.amount == D("5000.00")
    assert e.basis.endswith(", capped at 5,000.00 USD")


def test_minimum_raises_a_small_earning() -> None:
    """10% of 1,500.00 = 150.00, raised to the minimum 250.00; 10% of 3,000.00 = 300.00 stays."""
    plan = make_plan('[[rules]]\nid = "min"\npercent = 10\nminimum = 250\n')
    [small] = price_deal(plan, deal(credit("P1", "referral", "sourcer", "1500.00")))
    [large] = price_deal(plan, deal(credit("P1", "referral", "sourcer", "3000.00")))
    assert small.amount == D("250.00")
    assert small.basis.endswith(", raised to the minimum 250.00 USD")
    assert large.amount == D("300.00")


def test_additive_bonus_pays_on_top_of_the_winner() -> None:
    """Partner-sourced expansion of 20,000.00: 10% = 2,000.00 payout, plus a 1,000.00 bonus."""
    plan = make_plan(
        REFERRAL_10 + '[[rules]]\nid = "expansion-bonus"\ntier = "sourced"\nopportunity_type = "expansion"\n'
        "flat = 1000\nadditive = true\n"
    )
    expansion = price_deal(
        plan, deal(credit("P1", "referral", "sourcer", "20000.00"), opportunity_type="expansion")
    )
    assert amounts(expansion) == [
        ("P1", "partner_payout", "referral-10", D("2000.00")),
        ("P1", "bonus", "expansion-bonus", D("1000.00")),
    ]
    new_business = price_deal(plan, deal(credit("P1", "referral", "sourcer", "20000.00")))
    assert amounts(new_business) == [("P1", "partner_payout", "referral-10", D("2000.00"))]


def test_additive_bonus_alone_when_no_other_rule_matches() -> None:
    plan = make_plan('[[rules]]\nid = "bonus"\nopportunity_type = "expansion"\nflat = 100\nadditive = true\n')
    earnings = price_deal(
        plan, deal(credit("P1", "agency", "influencer", "10.00"), opportunity_type="expansion")
    )
    assert amounts(earnings) == [("P1", "bonus", "bonus", D("100.00"))]


def test_most_specific_rule_wins() -> None:
    """Gold referral (4 keys) 12% beats referral (2 keys) 10%: 12% of 10,000.00 = 1,200.00."""
    plan = make_plan(
        REFERRAL_10 + '[[rules]]\nid = "referral-gold"\ntier = "sourced"\npartner_type = "referral"\n'
        'program_tier = "Gold"\nrole = "sourcer"\npercent = 12\n'
    )
    gold = price_deal(plan, deal(credit("P1", "referral", "sourcer", "10000.00", program_tier="gold")))
    silver = price_deal(plan, deal(credit("P1", "referral", "sourcer", "10000.00", program_tier="silver")))
    unknown = price_deal(plan, deal(credit("P1", "referral", "sourcer", "10000.00", program_tier="")))
    assert amounts(gold) == [("P1", "partner_payout", "referral-gold", D("1200.00"))]
    assert amounts(silver) == [("P1", "partner_payout", "referral-10", D("1000.00"))]
    assert amounts(unknown) == [("P1", "partner_payout", "referral-10", D("1000.00"))]


def test_priority_settles_equally_specific_rules() -> None:
    """tier sourced (1 key, priority 0) and role sourcer (1 key, priority 5) both match: 7% wins."""
    plan = make_plan(
        '[[rules]]\nid = "sourced-3"\ntier = "sourced"\npercent = 3\n'
        '[[rules]]\nid = "sourcer-7"\nrole = "sourcer"\npercent = 7\npriority = 5\n'
    )
    [e] = price_deal(plan, deal(credit("P1", "agency", "sourcer", "1000.00")))
    assert (e.rule_id, e.amount) == ("sourcer-7", D("70.00"))
    [other] = price_deal(plan, deal(credit("P1", "agency", "influencer", "1000.00")))
    assert (other.rule_id, other.amount) == ("sourced-3", D("30.00"))


def test_servicer_revenue_share() -> None:
    """A services partner servicing a sourced deal: 5% of its 4,210.50 credit = 210.525 -> 210.53."""
    plan = example_plan()
    d = deal(credit("S1", "services", "servicer", "4210.50", "0.05"))
    assert amounts(price_deal(plan, d)) == [("S1", "partner_payout", "servicer-share", D("210.53"))]


def test_referral_and_cosell_rates_differ() -> None:
    """Example plan: referral sourcer 10% of 50,000.00 = 5,000.00; co-sell sourcer 20% = 10,000.00."""
    plan = example_plan()
    referral = price_deal(plan, deal(credit("R", "referral", "sourcer", "50000.00")))
    cosell = price_deal(plan, deal(credit("C", "co_sell", "sourcer", "50000.00")))
    assert amounts(referral) == [("R", "partner_payout", "referral-sourced", D("5000.00"))]
    assert amounts(cosell) == [("C", "partner_payout", "cosell-20", D("10000.00"))]


@pytest.mark.parametrize("tier", ["influenced", "accelerated"])
def test_flat_fee_for_influenced_and_accelerated_deals(tier: str) -> None:
    plan = example_plan()
    earnings = price_deal(plan, deal(credit("A", "agency", "influencer", "90000.00"), tier=tier))
    assert amounts(earnings) == [("A", "partner_payout", "influence-fee", D("500.00"))]


def test_worked_example_referral_cosell_and_servicer_on_one_deal() -> None:
    """The SPEC's case: a referral partner R sources, a co-seller C and a servicer S help.

    Deal 100,000.00 USD, sourced, new business, won; role_weighted credit: weights 50, 30, 5 of 85.
    Credits by largest remainder in cents: R 10/17 = 5,882,352.94 -> 5,882,352 (+1, remainder .94),
    C 6/17 = 3,529,411.76 -> 3,529,411 (+1, .76), S 1/17 = 588,235.29 -> 588,235; the two leftover
    cents go to R and C: R 58,823.53, C 35,294.12, S 5,882.35 (sum 100,000.00).
    Example plan:
      R referral silver sourcer: referral-sourced 10% of 58,823.53 = 5,882.353 -> 5,882.35
      C co_sell co_seller: cosell-20 20% of 35,294.12 = 7,058.824 -> 7,058.82
      S services servicer: servicer-share 5% of 5,882.35 = 294.1175 -> 294.12
      rep (on top): sourced 6% of 100,000.00 = 6,000.00
    Partner total 13,235.29.
    """
    cents = largest_remainder(10_000_000, [Fraction(10, 17), Fraction(6, 17), Fraction(1, 17)])
    assert cents == [5_882_353, 3_529_412, 588_235]
    credits = (
        credit("C", "co_sell", "co_seller", "35294.12", "0.352941"),
        credit("R", "referral", "sourcer", "58823.53", "0.588235"),
        credit("S", "services", "servicer", "5882.35", "0.058824"),
    )
    earnings = price_deal(example_plan(), deal(*credits, amount="100000.00", rep_id="U1"))
    assert amounts(earnings) == [
        ("C", "partner_payout", "cosell-20", D("7058.82")),
        ("R", "partner_payout", "referral-sourced", D("5882.35")),
        ("S", "partner_payout", "servicer-share", D("294.12")),
        ("U1", "rep_commission", "rep:sourced", D("6000.00")),
    ]
    assert {e.plan_version for e in earnings} == {"partners-2026@1"}
    assert earnings[3].basis == "6% of 100,000.00 USD deal amount (sourced deal)"


REP_OUT = """
[rep_commission]
sourced = 15
influenced = 8
direct = 10
partner_pay = "{pay}"
"""


def _worked_example_with(pay: str, sourced_rate: str = "15") -> list[Earning]:
    rep = REP_OUT.format(pay=pay).replace("sourced = 15", f"sourced = {sourced_rate}")
    rules = (
        '[[rules]]\nid = "referral"\npartner_type = "referral"\npercent = 10\n'
        '[[rules]]\nid = "cosell"\npartner_type = "co_sell"\npercent = 20\n'
        '[[rules]]\nid = "servicer"\npartner_type = "services"\npercent = 5\n'
    )
    credits = (
        credit("R", "referral", "sourcer", "58823.53"),
        credit("C", "co_sell", "co_seller", "35294.12"),
        credit("S", "services", "servicer", "5882.35"),
    )
    return price_deal(make_plan(rules, rep), deal(*credits, amount="100000.00", rep_id="U1"))


def test_rep_commission_on_top_ignores_partner_pay() -> None:
    """15% of 100,000.00 = 15,000.00 whatever the partners earn."""
    rep = [e for e in _worked_example_with("on_top") if e.party_kind == "rep"]
    assert amounts(rep) == [("U1", "rep_commission", "rep:sourced", D("15000.00"))]


def test_rep_commission_out_of_rep_subtracts_the_partner_earnings() -> None:
    """15,000.00 less partner earnings 5,882.35 + 7,058.82 + 294.12 = 13,235.29 leaves 1,764.71."""
    earnings = _worked_example_with("out_of_rep")
    [rep] = [e for e in earnings if e.party_kind == "rep"]
    assert rep.amount == D("1764.71")
    assert rep.basis == (
        "15% of 100,000.00 USD deal amount (sourced deal) = 15,000.00 USD, less 13,235.29 USD "
        "partner earnings on the deal (out of rep), never below zero"
    )


def test_rep_commission_out_of_rep_never_below_zero() -> None:
    """6% of 100,000.00 = 6,000.00 less 13,235.29 is negative: the rep earns 0 (no earning)."""
    earnings = _worked_example_with("out_of_rep", sourced_rate="6")
    assert [e for e in earnings if e.party_kind == "rep"] == []
    assert len(earnings) == 3


def test_rep_commission_out_of_rep_counts_bonuses_too() -> None:
    """Sourced expansion 10,000.00: referral 10% = 1,000.00 + bonus 200.00; rep 15% = 1,500.00 - 1,200.00."""
    rules = (
        '[[rules]]\nid = "referral"\npercent = 10\n'
        '[[rules]]\nid = "bonus"\nopportunity_type = "expansion"\nflat = 200\nadditive = true\n'
    )
    plan = make_plan(rules, REP_OUT.format(pay="out_of_rep"))
    d = deal(
        credit("R", "referral", "sourcer", "10000.00"),
        amount="10000.00",
        rep_id="U1",
        opportunity_type="expansion",
    )
    assert amounts(price_deal(plan, d))[-1] == ("U1", "rep_commission", "rep:sourced", D("300.00"))


def test_rep_rate_by_tier_direct_and_accelerated() -> None:
    """Direct (tier none) 10% of 20,000.00 = 2,000.00; accelerated falls back to influenced 8% = 1,600.00."""
    plan = make_plan(REFERRAL_10, REP_OUT.format(pay="on_top"))
    direct = price_deal(plan, deal(amount="20000.00", tier="none", rep_id="U1"))
    accelerated = price_deal(plan, deal(amount="20000.00", tier="accelerated", rep_id="U1"))
    assert amounts(direct) == [("U1", "rep_commission", "rep:direct", D("2000.00"))]
    assert direct[0].basis == "10% of 20,000.00 USD deal amount (direct deal)"
    assert amounts(accelerated) == [("U1", "rep_commission", "rep:accelerated", D("1600.00"))]


def test_explicit_accelerated_rate() -> None:
    rep = REP_OUT.format(pay="on_top") + "accelerated = 9\n"
    plan = make_plan("", rep)
    [e] = price_deal(plan, deal(amount="20000.00", tier="accelerated", rep_id="U1"))
    assert e.amount == D("1800.00")


def test_no_rep_no_commission_and_tier_none_pays_no_partner() -> None:
    plan = make_plan('[[rules]]\nid = "all"\npercent = 10\n', REP_OUT.format(pay="on_top"))
    no_rep = price_deal(plan, deal(credit("P1", "referral", "sourcer", "100.00"), amount="100.00"))
    assert amounts(no_rep) == [("P1", "partner_payout", "all", D("10.00"))]
    # A tier-none deal pays no partner, even if credits were passed by mistake.
    none_deal = deal(credit("P1", "referral", "sourcer", "100.00"), tier="none", amount="100.00", rep_id="U1")
    assert amounts(price_deal(plan, none_deal)) == [("U1", "rep_commission", "rep:direct", D("10.00"))]


def test_only_won_deals_earn() -> None:
    plan = make_plan(REFERRAL_10, REP_OUT.format(pay="on_top"))
    lost = deal(credit("P1", "referral", "sourcer", "12000.00"), amount="12000.00", rep_id="U1", won=False)
    assert price_deal(plan, lost) == []


def test_rounding_half_a_cent_goes_away_from_zero() -> None:
    """12.5% of 100.04 = 12.505 -> 12.51 (half away from zero; half-even would give 12.50)."""
    plan = make_plan('[[rules]]\nid = "r"\npercent = 12.5\n')
    [e] = price_deal(plan, deal(credit("P1", "referral", "sourcer", "100.04")))
    assert e.amount == D("12.51")
    assert e.amount.as_tuple().exponent == -2


def test_currency_converted_before_the_percent_and_rounded_once() -> None:
    """10,000.00 EUR at 1.08 = 10,800.00 USD; 10% = 1,080.00 USD. The flat fee is already USD.

    Rounded once: 1.03 EUR at 1.5 = 1.545 USD, 10% = 0.1545 -> 0.15 (rounding the converted amount
    first would give 1.55 -> 0.155 -> 0.16).
    """
    plan = make_plan('[[rules]]\nid = "r"\npercent = 10\nflat = 50\n')
    [e] = price_deal(
        plan, deal(credit("P1", "referral", "sourcer", "10000.00"), currency="EUR", fx_rate="1.08")
    )
    assert e.amount == D("1130.00")
    assert (
        e.basis == "10% of 10,000.00 EUR credited at 1.08 USD per EUR + flat 50.00 USD (sourcer, 100% credit)"
    )
    percent_only = make_plan('[[rules]]\nid = "r"\npercent = 10\n')
    [once] = price_deal(
        percent_only, deal(credit("P1", "referral", "sourcer", "1.03"), currency="EUR", fx_rate="1.5")
    )
    assert once.amount == D("0.15")


def test_rep_commission_converts_the_deal_amount() -> None:
    """80,000.00 EUR at 1.25 = 100,000.00 USD; 15% = 15,000.00 USD."""
    plan = make_plan("", REP_OUT.format(pay="on_top"))
    [e] = price_deal(plan, deal(amount="80000.00", currency="EUR", fx_rate="1.25", rep_id="U1"))
    assert e.amount == D("15000.00")
    assert e.basis == "15% of 80,000.00 EUR deal amount at 1.25 USD per EUR (sourced deal)"


def test_workspace_currency_without_minor_unit() -> None:
    """JPY: 10% of 12,345 JPY = 1,234.5 -> 1,235 (no minor unit)."""
    plan = make_plan('[[rules]]\nid = "r"\npercent = 10\n', currency="JPY")
    d = deal(credit("P1", "referral", "sourcer", "12345"), currency="JPY", workspace_currency="JPY")
    [e] = price_deal(plan, d)
    assert e.amount == D("1235")
    assert e.basis == "10% of 12,345 JPY credited (sourcer, 100% credit)"


def test_negative_credit_pays_nothing_beyond_the_flat_fee() -> None:
    plan = make_plan(
        '[[rules]]\nid = "r"\npercent = 10\n[[rules]]\nid = "f"\nrole = "influencer"\npercent = 10\nflat = 20\n'
    )
    assert price_deal(plan, deal(credit("P1", "referral", "sourcer", "-500.00"))) == []
    [e] = price_deal(plan, deal(credit("P1", "referral", "influencer", "-500.00")))
    assert e.amount == D("20.00")


def test_plan_in_another_currency_is_refused() -> None:
    plan = make_plan(REFERRAL_10, currency="EUR")
    with pytest.raises(PlanError, match="plan test@1 is in EUR but the workspace currency is USD"):
        price_deal(plan, deal(credit("P1", "referral", "sourcer", "1.00")))


def test_order_is_fixed_whatever_the_credit_order() -> None:
    credits = [
        credit("B", "co_sell", "co_seller", "300.00"),
        credit("A", "referral", "sourcer", "700.00"),
    ]
    plan = example_plan()
    first = price_deal(plan, deal(*credits, amount="1000.00", rep_id="U", opportunity_type="expansion"))
    second = price_deal(
        plan, deal(*reversed(credits), amount="1000.00", rep_id="U", opportunity_type="expansion")
    )
    assert first == second
    assert [(e.party_id, e.kind) for e in first] == [
        ("A", "partner_payout"),
        ("A", "bonus"),
        ("B", "partner_payout"),
        ("U", "rep_commission"),
    ]


def test_module_doctest() -> None:
    result = doctest.testmod(cosell.pay.pricing)
    assert result.attempted > 0 and result.failed == 0
