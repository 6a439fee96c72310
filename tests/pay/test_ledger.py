"""The pure ledger arithmetic, hand-computed: lines, reversals, clawbacks, balances, payouts."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from cosell.entries import Entry
from cosell.pay.ledger import (
    PayoutLine,
    PostingContext,
    PricingError,
    balances,
    earned_by_deal,
    live_earnings,
    payment_entries,
    payout_lines,
    post_changes,
    statement_totals,
)
from cosell.pay.model import Earning

T = datetime(2026, 10, 1, tzinfo=UTC)
D = Decimal


def ctx(posting: int, period: str) -> PostingContext:
    return PostingContext(posting, T, period, "USD", "fin")


def earn(opp: str, party: str, amount: str, run: int = 1, rule: str = "r1", kind: str = "partner_payout",
         party_kind: str = "partner", plan: str = "plan@1") -> Earning:  # fmt: skip
    return Earning(opp, party_kind, party, kind, rule, plan, run, D(amount), f"basis {amount}")  # type: ignore[arg-type]


def test_first_posting_numbers_entries_by_deal_then_line() -> None:
    new = post_changes(
        [],
        {"O2": [earn("O2", "P1", "50.00")], "O1": [earn("O1", "U1", "30.00", kind="rep_commission",
                                                         party_kind="rep", rule="rep:none"),
                                                    earn("O1", "P1", "100.00")]},
        ctx(1, "2026-09"),
    )  # fmt: skip
    assert [(e.entry_id, e.opportunity_id, e.party_id, e.amount) for e in new] == [
        ("LE-00000001", "O1", "P1", D("100.00")),
        ("LE-00000002", "O1", "U1", D("30.00")),
        ("LE-00000003", "O2", "P1", D("50.00")),
    ]
    assert new[0].idempotency_key == "O1|partner:P1|r1|plan@1|1|partner_payout"
    assert all(e.period == "2026-09" and e.posting_id == 1 for e in new)


def test_the_same_desired_earnings_post_nothing_even_under_a_newer_attribution_version() -> None:
    first = post_changes([], {"O1": [earn("O1", "P1", "100.00")]}, ctx(1, "2026-09"))
    again = post_changes(first, {"O1": [earn("O1", "P1", "100.00", run=7)]}, ctx(2, "2026-09"))
    assert again == []


def test_a_changed_amount_reverses_the_live_earning_in_full_and_posts_the_new_one() -> None:
    first = post_changes([], {"O1": [earn("O1", "P1", "100.00")]}, ctx(1, "2026-09"))
    new = post_changes(first, {"O1": [earn("O1", "P1", "120.00", run=2)]}, ctx(2, "2026-10"), {"O1": "fix"})
    assert [(e.kind, e.amount, e.reverses, e.period, e.reason) for e in new] == [
        ("reversal", D("-100.00"), "LE-00000001", "2026-10", "fix"),
        ("partner_payout", D("120.00"), None, "2026-10", "fix"),
    ]
    assert new[0].idempotency_key == "O1|partner:P1|r1|plan@1|1|partner_payout|reversal"
    assert earned_by_deal(first + new) == {("O1", "partner", "P1"): D("120.00")}
    assert list(live_earnings(first + new).values()) == [new[1]]


def test_a_deal_with_no_desired_earnings_is_reversed_entirely() -> None:
    first = post_changes(
        [], {"O1": [earn("O1", "P1", "100.00"), earn("O1", "P2", "40.00")]}, ctx(1, "2026-09")
    )
    new = post_changes(first, {"O1": []}, ctx(2, "2026-09"))
    assert sorted((e.party_id, e.amount) for e in new) == [("P1", D("-100.00")), ("P2", D("-40.00"))]
    assert earned_by_deal(first + new) == {("O1", "partner", "P1"): D(0), ("O1", "partner", "P2"): D(0)}


def test_deals_left_out_of_desired_are_not_touched() -> None:
    first = post_changes([], {"O1": [earn("O1", "P1", "100.00")]}, ctx(1, "2026-09"))
    assert post_changes(first, {"O2": []}, ctx(2, "2026-09")) == []


def test_reversing_a_paid_earning_is_a_clawback_and_an_unpaid_one_a_reversal() -> None:
    entries = post_changes([], {"O1": [earn("O1", "P1", "100.00")]}, ctx(1, "2026-09"))
    lines = payout_lines(entries, "2026-09")
    assert lines == [PayoutLine("partner", "P1", D("100.00"), D("100.00"), "pay")]
    entries += payment_entries(1, lines, "PR-000001", ctx(2, "2026-09"))
    assert entries[-1].amount == D("-100.00") and entries[-1].kind == "payment"
    # O2 is earned after the payout: unpaid.
    entries += post_changes(entries, {"O2": [earn("O2", "P1", "60.00")]}, ctx(3, "2026-10"))
    new = post_changes(entries, {"O1": [], "O2": []}, ctx(4, "2026-10"))
    assert [(e.opportunity_id, e.kind, e.amount) for e in new] == [
        ("O1", "clawback", D("-100.00")),
        ("O2", "reversal", D("-60.00")),
    ]
    entries += new
    # Paid 100, earned nothing in the end: the partner owes 100, carried and blocking.
    assert balances(entries) == {("partner", "P1"): D("-100.00")}
    assert payout_lines(entries, "2026-10") == [PayoutLine("partner", "P1", D("-100.00"), D(0), "blocked")]


def test_a_negative_balance_is_netted_against_later_earnings_before_anything_is_paid() -> None:
    entries = post_changes([], {"O1": [earn("O1", "P1", "100.00")]}, ctx(1, "2026-09"))
    entries += payment_entries(1, payout_lines(entries, "2026-09"), "PR-000001", ctx(2, "2026-09"))
    entries += post_changes(entries, {"O1": []}, ctx(3, "2026-10"))  # clawback 100
    entries += post_changes(entries, {"O2": [earn("O2", "P1", "60.00")]}, ctx(4, "2026-10"))
    assert payout_lines(entries, "2026-10") == [PayoutLine("partner", "P1", D("-40.00"), D(0), "blocked")]
    entries += post_changes(entries, {"O3": [earn("O3", "P1", "70.00")]}, ctx(5, "2026-11"))
    assert payout_lines(entries, "2026-11") == [PayoutLine("partner", "P1", D("30.00"), D("30.00"), "pay")]


def test_repricing_back_to_an_earlier_plan_gets_a_fresh_idempotency_key() -> None:
    entries = post_changes([], {"O1": [earn("O1", "P1", "100.00")]}, ctx(1, "2026-09"))
    entries += post_changes(entries, {"O1": [earn("O1", "P1", "120.00", plan="plan@2")]}, ctx(2, "2026-09"))
    entries += post_changes(entries, {"O1": [earn("O1", "P1", "100.00")]}, ctx(3, "2026-09"))
    keys = [e.idempotency_key for e in entries]
    assert len(set(keys)) == len(keys) == 5
    assert keys[-1] == "O1|partner:P1|r1|plan@1|1|partner_payout#2"


def test_pricing_that_returns_two_earnings_on_one_line_is_refused() -> None:
    with pytest.raises(PricingError, match="two earnings"):
        post_changes([], {"O1": [earn("O1", "P1", "1.00"), earn("O1", "P1", "2.00")]}, ctx(1, "2026-09"))
    with pytest.raises(PricingError, match="O2"):
        post_changes([], {"O1": [earn("O2", "P1", "1.00")]}, ctx(1, "2026-09"))


def test_statement_totals_add_up_from_opening_to_closing() -> None:
    entries: list[Entry] = post_changes([], {"O1": [earn("O1", "P1", "100.00")]}, ctx(1, "2026-09"))
    entries += payment_entries(1, payout_lines(entries, "2026-09"), "PR-000001", ctx(2, "2026-09"))
    entries += post_changes(entries, {"O1": [earn("O1", "P1", "80.00", run=2)]}, ctx(3, "2026-10"))
    entries += post_changes(entries, {"O2": [earn("O2", "P1", "10.00")]}, ctx(4, "2026-10"))
    sep = statement_totals(entries, ("partner", "P1"), "2026-09")
    assert (sep.opening, sep.earnings, sep.payments, sep.closing) == (D(0), D("100.00"), D("-100.00"), D(0))
    octo = statement_totals(entries, ("partner", "P1"), "2026-10")
    assert (octo.opening, octo.earnings, octo.clawbacks, octo.reversals, octo.closing) == (
        D(0), D("90.00"), D("-100.00"), D(0), D("-10.00"),
    )  # fmt: skip
