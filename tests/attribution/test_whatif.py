"""The pure comparison of a policy what-if (cosell.attribution.whatif), on hand-made decisions."""

from __future__ import annotations

from decimal import Context, Decimal

from cosell.attribution.whatif import DealChange, Decision, Money, change_kinds, compare
from cosell.results import AttributionRow, CreditRow

D = Decimal


def decision(
    opp: str, tier: str, primary: str = "", *credits: tuple[str, str, str, str], outcome: str = "won"
) -> Decision:
    row = AttributionRow(opp, tier, primary, "", "1", "", "", "", "", "2026-06-30T00:00:00Z", "v")
    return Decision(row, tuple(CreditRow(opp, p, r, s, a, "USD") for p, r, s, a in credits), outcome)


def change(was: Decision, now: Decision, was_money: Money, now_money: Money) -> DealChange:
    opp = was.row.opportunity_id
    return DealChange(opp, change_kinds(was, now), was, now, was_money, now_money, "USD", "USD")


def test_kinds_compare_values_not_text() -> None:
    a = decision(
        "O1", "sourced", "P1", ("P1", "sourcer", "0.5", "50.00"), ("P2", "influencer", "0.5", "50.00")
    )
    same = decision(
        "O1", "sourced", "P1", ("P1", "sourcer", "0.500000", "50"), ("P2", "influencer", "0.500000", "50.0")
    )
    assert change_kinds(a, same) == ()
    reweighted = decision(
        "O1", "sourced", "P1", ("P1", "sourcer", "0.6", "60.00"), ("P2", "influencer", "0.4", "40.00")
    )
    assert change_kinds(a, reweighted) == ("credit",)
    swapped = decision(
        "O1", "sourced", "P2", ("P1", "influencer", "0.5", "50.00"), ("P2", "sourcer", "0.5", "50.00")
    )
    assert change_kinds(a, swapped) == ("partner", "credit")
    lost = decision("O1", "none", outcome="lost")
    assert change_kinds(a, lost) == ("tier", "partner", "credit", "outcome")


def test_money_moved_is_the_largest_amount_that_changes_hands_and_the_order_is_total() -> None:
    rate = D("1")
    # O1: 100.00 of credit moves from P1 to P2 on an open deal: 100.00, nothing else.
    o1 = change(
        decision("O1", "influenced", "P1", ("P1", "influencer", "1.000000", "100.00"), outcome="open"),
        decision("O1", "influenced", "P2", ("P2", "influencer", "1.000000", "100.00"), outcome="open"),
        Money(D("100.00"), rate), Money(D("100.00"), rate),
    )  # fmt: skip
    # O0: the same size of change, sorted before O1 by id; O2: none -> sourced, 80.00 and pay 8.00.
    o0 = change(
        decision("O0", "influenced", "P1", ("P1", "influencer", "1.000000", "100.00"), outcome="open"),
        decision("O0", "influenced", "P3", ("P3", "influencer", "1.000000", "100.00"), outcome="open"),
        Money(D("100.00"), rate), Money(D("100.00"), rate),
    )  # fmt: skip
    o2 = change(
        decision("O2", "none"),
        decision("O2", "sourced", "P1", ("P1", "sourcer", "1.000000", "80.00")),
        Money(D("80.00"), rate, D("80.00")), Money(D("80.00"), rate, D("80.00"), {"P1": D("8.00")}),
    )  # fmt: skip
    unchanged = change(
        decision("O3", "none"), decision("O3", "none"), Money(D("5.00"), rate), Money(D("5.00"), rate)
    )
    result = compare([o2, o1, unchanged, o0], "USD")
    assert [(c.opportunity_id, c.money_moved) for c in result.changes] == [
        ("O0", D("100.00")), ("O1", D("100.00")), ("O2", D("80.00")),
    ]  # fmt: skip
    assert (o1.credit_moved, o1.pipeline_moved, o2.pipeline_moved) == (
        D("100.00"), {}, {"none": D("-80.00"), "sourced": D("80.00")},
    )  # fmt: skip
    assert result.pipeline_moved == {
        "sourced": D("80.00"),
        "accelerated": 0,
        "influenced": 0,
        "none": D("-80.00"),
    }
    assert (
        result.revenue_moved["sourced"] == D("80.00") and str(result.revenue_moved["accelerated"]) == "0.00"
    )
    assert [(p.party_id, p.current, p.proposed, p.change) for p in result.partner_pay] == [
        ("P1", D("0.00"), D("8.00"), D("8.00"))
    ]
    assert result.by_kind == {"tier": 1, "partner": 3, "credit": 3, "outcome": 0}


def test_credit_moved_converts_at_the_pipeline_rate_rounded_once() -> None:
    was = decision("O1", "influenced", "P1", ("P1", "influencer", "1.000000", "1000.005"), outcome="open")
    now = decision("O1", "influenced", "P2", ("P2", "influencer", "1.000000", "1000.005"), outcome="open")
    moved = change(was, now, Money(D("1100.01"), D("1.1")), Money(D("1100.01"), D("1.1")))
    assert moved.credit_moved_ws == D("1100.01")  # 1,000.005 x 1.1 = 1,100.0055, rounded half away once


def test_money_moved_by_tier_adds_up_exactly_past_28_digits() -> None:
    """A thousand deals of 10^22 CLF each (a 14-digit amount at an 8-digit rate, four decimals)
    moving from none to sourced: the tiers' totals have 29 digits, and Python's default context
    (28) rounded their last ten-thousandth away (found by fuzzing huge amounts through simulate)."""
    rate = D("99999999.123456789012")
    changes = []
    for i in range(1000):
        amount = D("9999999912345677601200.0114") + D(i).scaleb(-4)
        was = decision(f"O{i:04d}", "none")
        now = decision(f"O{i:04d}", "sourced", "P1", ("P1", "sourcer", "1.000000", "1.00"))
        changes.append(change(was, now, Money(amount, rate, amount), Money(amount, rate, amount)))
    result = compare(changes, "CLF")
    exact = D(1000 * 99999999123456776012000114 + sum(range(1000))).scaleb(-4, Context(prec=60))
    assert str(exact) == "9999999912345677601200061.3500"
    assert result.pipeline_moved["sourced"] == exact
    assert result.revenue_moved["none"] == -exact
