"""Posting a period from a workspace, hand-computed (the plan of ledger_support.simple_price unless
the real example plan is named)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from cosell.errors import CosellError, InputError, UsageError
from cosell.fx import MissingRate
from cosell.pay.ledger import balances, earned_by_deal
from cosell.pay.payouts import approve_run, propose_run
from cosell.pay.plan_parse import example_plan, parse_plan
from cosell.pay.plan_versions import add_plan_version, load_plan_set
from cosell.pay.posting import post_period
from cosell.pay.pricers import FunctionPricer, PlanSetPricer
from cosell.store.ledger import read_entries

sys.path.insert(0, str(Path(__file__).parent))
from ledger_support import PRICER, PayWorld, at, simple_price

D = Decimal
SEP_CLOSE = at("2026-10-01T09:00:00Z")  # when September is posted
OCT_CLOSE = at("2026-11-01T09:00:00Z")


def rows(w: PayWorld) -> list[tuple[object, ...]]:
    return [(e.opportunity_id, e.party_id, e.kind, e.rule_id, e.amount) for e in read_entries(w.ws.con)]


def world() -> PayWorld:
    w = PayWorld()
    w.partner("P1")
    w.partner("P2", "co_sell", "silver")
    w.user("U1")
    w.user("U2")
    w.user("F1", "finance")
    return w


def test_a_period_posts_every_won_deal_closed_before_it_ends_and_nothing_else() -> None:
    w = world()
    w.deal("O1", "10000.00")  # direct: rep 5% = 500.00
    w.deal("O2", "5000.00")  # sourced by P1: 10% = 500.00; rep 2% = 100.00 less 500.00 -> 0, left out
    w.deal("O3", "3000.00", "2026-10-05T00:00:00Z")  # closes in October
    w.deal("O4", "9000.00", stage="Closed Lost")
    w.deal("O5", "9000.00", stage="Negotiation")
    w.deal("O6", "1000.00")  # won but never attributed
    w.attribute({
        "O1": ("none", []), "O2": ("sourced", [("P1", "sourcer", "1.000000", "5000.00")]),
        "O3": ("none", []), "O4": ("none", []), "O5": ("none", []),
    })  # fmt: skip
    result = post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)
    assert rows(w) == [
        ("O1", "U1", "rep_commission", "rep:none", D("500.00")),
        ("O2", "P1", "partner_payout", "sourcer-pct", D("500.00")),
    ]
    assert (result.deals_eligible, result.deals_priced, result.unattributed, result.entries) == (2, 2, 1, 2)
    first = read_entries(w.ws.con)[0]
    # Posted after September ended: dated at its last instant, recorded when it was written.
    assert (first.entry_id, first.period, first.recorded_at, first.by_user) == (
        "LE-00000001",
        "2026-09",
        SEP_CLOSE,
        "fin",
    )
    assert first.posted_at == at("2026-09-30T23:59:59.999999Z")
    assert first.idempotency_key == "O1|rep:U1|rep:none|plan@1|1|rep_commission"
    assert first.reason == "won 2026-09-15, attribution version 1, plan plan@1"

    again = post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)
    assert (again.posting_id, again.entries, again.deals_priced, again.unchanged_since) == (None, 0, 0, 1)
    assert post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE, recheck=True).entries == 0
    assert len(read_entries(w.ws.con)) == 2

    october = post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCT_CLOSE)
    assert october.counts == {"rep_commission": 1}
    assert rows(w)[-1] == ("O3", "U1", "rep_commission", "rep:none", D("150.00"))


def test_a_period_before_the_latest_posted_one_is_refused_and_posts_nothing() -> None:
    """Found by fuzzing: posting September after October took back October's deal ("closed after
    P"), the next October posting earned it again, and a September run showed its partner blocked
    at a negative balance owed nothing. A posting covers every deal closed before its period ends,
    so the months are posted in order; an earlier month's change is adjusted in the next one."""
    w = world()
    w.deal("O1", "10000.00")  # closes in September
    w.deal("O3", "3000.00", "2026-10-05T00:00:00Z")  # closes in October
    w.attribute({"O1": ("none", []), "O3": ("none", [])})
    post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCT_CLOSE)
    before = rows(w)
    assert before == [
        ("O1", "U1", "rep_commission", "rep:none", D("500.00")),
        ("O3", "U1", "rep_commission", "rep:none", D("150.00")),
    ]
    with pytest.raises(CosellError, match="period 2026-10 is posted already: post 2026-10 or a later period"):
        post_period(w.ws, w.policy, PRICER, "2026-09", "fin", OCT_CLOSE)
    assert rows(w) == before
    assert post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCT_CLOSE).entries == 0


def test_an_attribution_change_reverses_each_affected_entry_and_posts_the_new_one() -> None:
    w = world()
    w.deal("O1", "10000.00")
    w.deal("O2", "4000.00")
    w.attribute({"O1": ("none", []), "O2": ("none", [])})
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)
    # A batch run that decides the same again posts nothing.
    w.attribute({"O1": ("none", []), "O2": ("none", [])})
    same = post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)
    assert (same.entries, same.deals_priced) == (0, 0)  # same tier and credits: not even priced
    # A fix: P2 influenced O1. The rep now earns 2% (200.00), P2 a flat 100.00.
    run = w.attribute({"O1": ("influenced", [("P2", "influencer", "1.000000", "10000.00")])},
                      kind="fix", reason="finding F-7 accepted")  # fmt: skip
    post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCT_CLOSE)
    new = read_entries(w.ws.con, "period = '2026-10'")
    assert [(e.entry_id, e.party_id, e.kind, e.rule_id, e.amount, e.reverses) for e in new] == [
        ("LE-00000003", "U1", "reversal", "rep:none", D("-500.00"), "LE-00000001"),
        ("LE-00000004", "P2", "partner_payout", "influence-flat", D("100.00"), None),
        ("LE-00000005", "U1", "rep_commission", "rep:influenced", D("200.00"), None),
    ]
    assert {e.reason for e in new} == {f"attribution changed: version {run} (fix: finding F-7 accepted)"}
    assert new[2].attribution_run_id == run
    assert earned_by_deal(read_entries(w.ws.con)) == {
        ("O1", "rep", "U1"): D("200.00"), ("O1", "partner", "P2"): D("100.00"), ("O2", "rep", "U1"): D("200.00"),
    }  # fmt: skip


def test_a_deal_that_is_no_longer_won_is_reversed_with_the_reason() -> None:
    w = world()
    w.deal("O1", "10000.00")
    w.attribute({"O1": ("none", [])})
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)
    w.deal("O1", "10000.00", stage="Closed Lost", when=at("2026-10-10T00:00:00Z"))
    result = post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCT_CLOSE)
    assert result.deals_reversed == 1
    last = read_entries(w.ws.con)[-1]
    assert (last.kind, last.amount, last.reason) == (
        "reversal", D("-500.00"), "the deal is no longer won (stage Closed Lost)",
    )  # fmt: skip
    assert post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCT_CLOSE).entries == 0
    # Won again with the very same inputs: earned again.
    w.deal("O1", "10000.00", when=at("2026-10-20T00:00:00Z"))
    assert post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCT_CLOSE).counts == {"rep_commission": 1}


def test_a_rep_paid_at_the_direct_rate_is_clawed_back_when_a_partner_is_found_to_have_sourced_it() -> None:
    """The example plan: rep 10% on direct deals, 6% on sourced ones; gold referral partners 12%."""
    w = world()
    add_plan_version(
        w.ws.con, example_plan(), "fin", now=at("2025-12-01T00:00:00Z"), workspace_currency="USD"
    )
    pricer = PlanSetPricer(load_plan_set(w.ws.con))
    w.deal("O1", "10000.00")
    w.attribute({"O1": ("none", [])})
    post_period(w.ws, w.policy, pricer, "2026-09", "fin", SEP_CLOSE)
    run, _ = propose_run(w.ws, w.policy, "2026-09", "fin", at("2026-10-01T10:00:00Z"))
    approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-01T11:00:00Z"))
    assert balances(read_entries(w.ws.con)) == {("rep", "U1"): D(0)}  # 1,000.00 earned and paid

    w.attribute({"O1": ("sourced", [("P1", "sourcer", "1.000000", "10000.00")])},
                kind="fix", reason="partner lead found: P1 sourced it")  # fmt: skip
    post_period(w.ws, w.policy, pricer, "2026-10", "fin", OCT_CLOSE)
    october = read_entries(w.ws.con, "period = '2026-10'")
    assert [(e.party_id, e.kind, e.rule_id, e.amount, e.reverses) for e in october] == [
        ("U1", "clawback", "rep:direct", D("-1000.00"), "LE-00000001"),
        ("P1", "partner_payout", "referral-sourced-gold", D("1200.00"), None),
        ("U1", "rep_commission", "rep:sourced", D("600.00"), None),
    ]
    assert october[0].reason.endswith("(fix: partner lead found: P1 sourced it)")
    assert october[1].basis == "12% of 10,000.00 USD credited (sourcer, 100% credit)"
    # The rep owes 400.00 back: carried, blocking its payouts; the partner is paid.
    run2, lines = propose_run(w.ws, w.policy, "2026-10", "fin", at("2026-11-01T10:00:00Z"))
    assert [(x.party_id, x.balance, x.pay, x.status) for x in lines] == [
        ("P1", D("1200.00"), D("1200.00"), "pay"),
        ("U1", D("-400.00"), D(0), "blocked"),
    ]
    assert (run2.total, run2.blocked_total) == (D("1200.00"), D("-400.00"))


def test_amounts_convert_at_the_close_period_rate_month_first_then_quarter() -> None:
    w = world()
    w.fx("EUR", "2026-09", "1.100000")
    w.fx("EUR", "2026-Q3", "9.000000")  # not used: the month's rate wins
    w.fx("GBP", "2026-Q3", "1.250000")
    w.deal("O1", "1000.00", currency="EUR")
    w.deal("O2", "1000.00", currency="GBP")
    w.attribute({"O1": ("none", []), "O2": ("none", [])})
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)
    assert [(e.opportunity_id, e.amount) for e in read_entries(w.ws.con)] == [
        ("O1", D("55.00")),  # 5% of 1,000 EUR x 1.10
        ("O2", D("62.50")),  # 5% of 1,000 GBP x 1.25
    ]


def test_a_missing_rate_names_currency_and_period_and_posts_nothing() -> None:
    w = world()
    w.deal("O1", "1000.00")
    w.deal("O2", "1000.00", currency="CHF")
    w.attribute({"O1": ("none", []), "O2": ("none", [])})
    with pytest.raises(MissingRate, match="CHF in 2026-Q3"):
        post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)
    assert read_entries(w.ws.con) == []
    assert w.ws.con.execute("SELECT count(*) FROM ledger_priced").fetchone() == (0,)


def test_the_program_tier_is_the_partners_at_close_and_the_rep_is_pinned_at_the_first_entry() -> None:
    w = world()
    add_plan_version(
        w.ws.con, example_plan(), "fin", now=at("2025-12-01T00:00:00Z"), workspace_currency="USD"
    )
    pricer = PlanSetPricer(load_plan_set(w.ws.con))
    w.partner("P3", "referral", "silver")
    w.deal("O1", "10000.00")
    w.attribute({"O1": ("sourced", [("P3", "sourcer", "1.000000", "10000.00")])})
    # P3 became gold after O1 closed (recorded 2026-10-15); O2 closes after that.
    w._insert("partners", {"partner_id": "P3", "name": "P3", "partner_type": "referral", "program_tier": "gold"},
              at("2026-10-15T00:00:00Z"))  # fmt: skip
    w.deal("O2", "10000.00", "2026-10-20T00:00:00Z")
    w.attribute({"O2": ("sourced", [("P3", "sourcer", "1.000000", "10000.00")])})
    post_period(w.ws, w.policy, pricer, "2026-10", "fin", OCT_CLOSE)
    partner = [
        (e.opportunity_id, e.rule_id, e.amount) for e in read_entries(w.ws.con, "party_kind = 'partner'")
    ]
    assert partner == [
        ("O1", "referral-sourced", D("1000.00")),
        ("O2", "referral-sourced-gold", D("1200.00")),
    ]
    # O1 changes owner, then its amount: it is re-priced, and its rep stays U1.
    w.deal("O1", "20000.00", owner="U2", when=at("2026-11-02T00:00:00Z"))
    w.attribute(
        {"O1": ("sourced", [("P3", "sourcer", "1.000000", "20000.00")])}, run_at=at("2026-11-02T00:00:00Z")
    )
    post_period(w.ws, w.policy, pricer, "2026-11", "fin", at("2026-11-03T00:00:00Z"))
    reps = {e.party_id for e in read_entries(w.ws.con, "party_kind = 'rep' AND opportunity_id = 'O1'")}
    assert reps == {"U1"}
    assert earned_by_deal(read_entries(w.ws.con))[("O1", "rep", "U1")] == D("1200.00")  # 6% of 20,000


def test_a_new_plan_version_reprices_closed_deals_only_when_asked() -> None:
    w = world()
    w.deal("O1", "10000.00")
    w.attribute({"O1": ("sourced", [("P1", "sourcer", "1.000000", "10000.00")])})
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)
    both = FunctionPricer(simple_price, (("plan@1", datetime(1970, 1, 1, tzinfo=UTC)),
                                         ("plan@2", at("2026-01-01T00:00:00Z"))))  # fmt: skip
    assert post_period(w.ws, w.policy, both, "2026-10", "fin", OCT_CLOSE).entries == 0
    result = post_period(w.ws, w.policy, both, "2026-10", "fin", OCT_CLOSE, reprice=True)
    new = read_entries(w.ws.con, "period = '2026-10'")
    assert [(e.kind, e.plan_version, e.amount) for e in new] == [
        ("reversal", "plan@1", D("-1000.00")),
        ("partner_payout", "plan@2", D("1200.00")),
    ]
    assert new[1].reason == "re-priced with plan plan@2"
    assert result.counts == {"partner_payout": 1, "reversal": 1}
    terms = w.ws.con.execute(
        "SELECT seq, plan_version, reason FROM ledger_deal_terms ORDER BY seq"
    ).fetchall()
    assert terms == [(1, "plan@1", "first entry"), (2, "plan@2", "reprice")]
    # Without --reprice the deal now stays on plan@2, even with a pricer that offers plan@1 only.
    assert post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCT_CLOSE).entries == 0


def test_a_deal_closed_again_is_priced_by_the_plan_in_force_at_its_new_close() -> None:
    # Found by fuzzing pay: a deal first posted under plan@1, reopened and won again once plan@2 was
    # in force, stayed on plan@1 (while its FX rate followed the new close). SPEC 6: the plan
    # version is the one in force at the deal's close time; the rep stays the first entry's.
    w = world()
    w.deal("O1", "10000.00", "2026-09-15T12:00:00Z")
    w.attribute({"O1": ("sourced", [("P1", "sourcer", "1.000000", "10000.00")])})
    both = FunctionPricer(simple_price, (("plan@1", datetime(1970, 1, 1, tzinfo=UTC)),
                                         ("plan@2", at("2026-10-01T00:00:00Z"))))  # fmt: skip
    post_period(w.ws, w.policy, both, "2026-09", "fin", SEP_CLOSE)
    w.deal("O1", "10000.00", "2026-10-20T12:00:00Z", owner="U2", when=at("2026-10-21T00:00:00Z"))
    w.attribute(
        {"O1": ("sourced", [("P1", "sourcer", "1.000000", "10000.00")])}, run_at=at("2026-10-21T00:00:00Z")
    )
    post_period(w.ws, w.policy, both, "2026-10", "fin", OCT_CLOSE)
    new = read_entries(w.ws.con, "period = '2026-10'")
    assert [(e.party_id, e.kind, e.plan_version, e.amount) for e in new] == [
        ("P1", "reversal", "plan@1", D("-1000.00")),
        ("P1", "partner_payout", "plan@2", D("1200.00")),
    ]
    terms = w.ws.con.execute(
        "SELECT seq, rep_id, plan_version, reason FROM ledger_deal_terms ORDER BY seq"
    ).fetchall()
    assert terms == [(1, "U1", "plan@1", "first entry"), (2, "U1", "plan@2", "closed again")]
    # Pinned again at the new close: nothing more to post, and a pricer offering plan@1 only keeps plan@2.
    assert post_period(w.ws, w.policy, both, "2026-10", "fin", OCT_CLOSE).entries == 0
    assert post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCT_CLOSE, recheck=True).entries == 0


def test_a_what_if_prices_a_deal_closed_again_by_the_plan_in_force_at_its_new_close() -> None:
    # The what-if pricing (simulate) reads the same pinned terms as posting: a deal closed again once
    # plan v2 was in force is priced by v2 (found by fuzzing pay, with the fix to posting above).
    from cosell.pay.hypothetical import ToPrice, price_decisions
    from cosell.results import CreditRow

    w = world()
    v1 = example_plan()
    text2 = v1.text.replace("version = 1", "version = 2").replace("effective_from = 2026-01-01",
                                                                   "effective_from = 2026-10-01")  # fmt: skip
    add_plan_version(w.ws.con, v1, "fin", now=at("2025-12-01T00:00:00Z"), workspace_currency="USD")
    add_plan_version(w.ws.con, parse_plan(text2.replace("direct = 10", "direct = 9"), "v2.toml"), "fin",
                     now=at("2026-09-01T00:00:00Z"), workspace_currency="USD")  # fmt: skip
    plans = load_plan_set(w.ws.con)
    w.deal("O1", "1000.00", "2026-09-15T12:00:00Z")
    w.attribute({"O1": ("none", [])})
    post_period(w.ws, w.policy, PlanSetPricer(plans), "2026-09", "fin", SEP_CLOSE)

    def priced(closed: str) -> list[tuple[str, str, Decimal]]:
        decision = ToPrice("O1", True, at(closed), "new_business", "none", D("1000.00"), "USD", D(1), "U2",
                           tuple[CreditRow, ...]())  # fmt: skip
        (result,) = price_decisions(w.ws.con, plans, "USD", [decision])
        return [(e.party_id, e.plan_version, e.amount) for e in result.earnings]

    assert priced("2026-09-15T12:00:00Z") == [("U1", "partners-2026@1", D("100.00"))]
    assert priced("2026-10-20T12:00:00Z") == [("U1", "partners-2026@2", D("90.00"))]


def test_posting_is_refused_into_a_paid_period_a_future_one_or_a_quarter() -> None:
    w = world()
    w.deal("O1", "10000.00")
    w.attribute({"O1": ("none", [])})
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)
    run, _ = propose_run(w.ws, w.policy, "2026-09", "fin", SEP_CLOSE)
    approve_run(w.ws, w.policy, run.run_id, "F1", SEP_CLOSE)
    with pytest.raises(CosellError, match="2026-09 is paid and closed"):
        post_period(w.ws, w.policy, PRICER, "2026-08", "fin", SEP_CLOSE)
    with pytest.raises(CosellError, match="has not begun at 2026-10-01T09:00:00Z: "):
        post_period(w.ws, w.policy, PRICER, "2026-11", "fin", SEP_CLOSE)
    with pytest.raises(UsageError, match="quarter"):
        post_period(w.ws, w.policy, PRICER, "2026-Q4", "fin", OCT_CLOSE)


def test_a_won_deal_without_a_close_time_is_an_input_error() -> None:
    w = world()
    w._insert("opportunities", {"opportunity_id": "O9", "account_id": "A1", "created_at": at("2026-01-01T00:00:00Z"),
                                "amount": D("1.00"), "stage": "Closed Won"})  # fmt: skip
    with pytest.raises(InputError, match="O9"):
        post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)


def test_the_close_time_is_the_entry_into_the_won_stage_after_the_last_open_stage() -> None:
    w = world()
    w.deal("O1", "10000.00", "2026-08-01T00:00:00Z")  # close_date in August, but reopened:
    for stage, when in (("Discovery", "2026-01-05"), ("Closed Won", "2026-08-01"), ("Negotiation", "2026-08-20"),
                        ("Closed Won", "2026-10-02")):  # fmt: skip
        w._insert(
            "stage_history", {"opportunity_id": "O1", "stage": stage, "entered_at": at(when + "T00:00:00Z")}
        )
    w.attribute({"O1": ("none", [])})
    assert post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE).entries == 0
    assert post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCT_CLOSE).entries == 1


def test_a_second_plan_version_with_its_own_start_prices_new_deals_by_close_time() -> None:
    w = world()
    v1 = example_plan()
    text2 = v1.text.replace("version = 1", "version = 2").replace("effective_from = 2026-01-01",
                                                                   "effective_from = 2026-10-01")  # fmt: skip
    text2 = text2.replace("direct = 10", "direct = 9")
    add_plan_version(w.ws.con, v1, "fin", now=at("2025-12-01T00:00:00Z"), workspace_currency="USD")
    add_plan_version(w.ws.con, parse_plan(text2, "v2.toml"), "fin", now=at("2026-09-01T00:00:00Z"),
                     workspace_currency="USD")  # fmt: skip
    pricer = PlanSetPricer(load_plan_set(w.ws.con))
    w.deal("O1", "1000.00", "2026-09-30T23:59:59Z")
    w.deal("O2", "1000.00", "2026-10-01T00:00:00Z")
    w.attribute({"O1": ("none", []), "O2": ("none", [])})
    post_period(w.ws, w.policy, pricer, "2026-10", "fin", OCT_CLOSE)
    assert [(e.opportunity_id, e.plan_version, e.amount) for e in read_entries(w.ws.con)] == [
        ("O1", "partners-2026@1", D("100.00")),
        ("O2", "partners-2026@2", D("90.00")),
    ]


def test_losing_the_record_of_what_was_priced_costs_a_re_pricing_never_an_entry() -> None:
    w = world()
    w.deal("O1", "10000.00")
    w.deal("O2", "5000.00")
    w.attribute({"O1": ("none", []), "O2": ("sourced", [("P1", "sourcer", "1.000000", "5000.00")])})
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)
    before = read_entries(w.ws.con)
    w.ws.con.execute("DELETE FROM ledger_priced")  # a cache, not part of the sealed ledger
    w.fx("EUR", "2026-09", "1.1")  # any import: the unchanged-inputs shortcut no longer applies
    again = post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)
    assert (again.deals_priced, again.entries) == (2, 0)
    assert read_entries(w.ws.con) == before


def test_an_earning_too_large_for_the_ledger_is_an_error_naming_deal_and_rule() -> None:
    """Found by fuzzing plans: a plan that checks (percent 100 plus the largest flat fee, each
    within bounds) priced an earning over 14 integer digits, and posting stopped on an internal
    DECIMAL(18,4) conversion error. It is now refused naming the deal, party, rule and amount,
    and nothing is posted; an earning at the bound posts."""
    w = world()
    w.plan('[[rules]]\nid = "all"\npercent = 100\nflat = 99999999999999.99\n', "2025-12-01T00:00:00Z")
    pricer = PlanSetPricer(load_plan_set(w.ws.con))
    w.deal("O1", "0.00")
    w.deal("O2", "0.01")
    w.attribute({
        "O1": ("sourced", [("P1", "sourcer", "1.000000", "0.00")]),
        "O2": ("sourced", [("P1", "sourcer", "1.000000", "0.01")]),
    })  # fmt: skip
    with pytest.raises(CosellError, match=r"^pricing O2 gives partner P1 100,000,000,000,000\.00 under rule all of "
                       r"big@1: too large for the ledger \(at most 14 digits") as refused:  # fmt: skip
        post_period(w.ws, w.policy, pricer, "2026-09", "fin", SEP_CLOSE)
    assert refused.value.exit_code == 1
    assert read_entries(w.ws.con) == []
    w.deal("O2", "0.00")
    w.attribute({"O2": ("sourced", [("P1", "sourcer", "1.000000", "0.00")])})
    post_period(w.ws, w.policy, pricer, "2026-09", "fin", SEP_CLOSE)
    assert max(e.amount for e in read_entries(w.ws.con)) == D("99999999999999.99")


def test_a_deal_changed_since_it_was_attributed_is_refused_until_it_is_attributed_again() -> None:
    """Found by fuzzing `payouts post` after a CRM amount change without `cosell attribute`: the
    rep was paid on the new amount while the partner kept earning on the old credited amount (and
    a changed currency priced the old credits at the new currency's rate). Posting is refused
    naming the deal and both amounts, and writes nothing; once attributed again, the changed amount
    is adjusted (SPEC section 6)."""
    w = world()
    w.deal("O2", "5000.00")  # sourced by P1: 10% = 500.00; rep 2% = 100.00 less 500.00 -> 0
    w.attribute({"O2": ("sourced", [("P1", "sourcer", "1.000000", "5000.00")])})
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)
    counts = "SELECT (SELECT count(*) FROM ledger_entries), (SELECT count(*) FROM ledger_postings), " \
        "(SELECT count(*) FROM ledger_priced)"  # fmt: skip
    before = w.ws.con.execute(counts).fetchone()
    w.deal("O2", "6000.00", when=at("2026-10-02T00:00:00Z"))
    with pytest.raises(InputError, match=r'"O2" is won at 6,000\.00 USD but its attribution version 1 split '
                       r"5,000\.00 USD between its partners") as refused:  # fmt: skip
        post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCT_CLOSE)
    assert refused.value.exit_code == 1 and "cosell attribute" in str(refused.value)
    assert w.ws.con.execute(counts).fetchone() == before
    w.attribute({"O2": ("sourced", [("P1", "sourcer", "1.000000", "6000.00")])})
    w.deal("O2", "6000.00", currency="EUR", when=at("2026-10-03T00:00:00Z"))
    with pytest.raises(
        InputError, match=r"won at 6,000\.00 EUR but its attribution version 2 split 6,000\.00 USD"
    ):
        post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCT_CLOSE)
    w.deal("O2", "6000.00", when=at("2026-10-04T00:00:00Z"))
    post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCT_CLOSE)
    assert rows(w) == [
        ("O2", "P1", "partner_payout", "sourcer-pct", D("500.00")),
        ("O2", "P1", "reversal", "sourcer-pct", D("-500.00")),
        ("O2", "P1", "partner_payout", "sourcer-pct", D("600.00")),
    ]


def test_a_won_deal_without_a_close_time_is_refused_by_name_and_posts_nothing() -> None:
    # Pay reads the close period from X; a won deal with no close_date and no stage entry has none.
    w = world()
    w.deal("O1", "10000.00")
    w._insert(
        "opportunities",
        {"opportunity_id": "O2", "account_id": "A1", "created_at": at("2026-01-05T00:00:00Z"),
         "amount": D("500.00"), "currency": "USD", "stage": "Closed Won", "owner_id": "U1",
         "close_date": None, "opportunity_type": "new_business"},
    )  # fmt: skip
    w.attribute({"O1": ("none", []), "O2": ("none", [])})
    with pytest.raises(InputError) as refused:
        post_period(w.ws, w.policy, PRICER, "2026-09", "fin", SEP_CLOSE)
    assert str(refused.value.problem) == (
        'opportunities, close_date: "O2" is closed but has no close time (no stage_history entry into '
        "its stage, no close_date)"
    )
    assert read_entries(w.ws.con) == []
