"""The policy what-if on a small company computed by hand (whatif_world.py): which deals move, by
what kind of change, and the exact money: pipeline and revenue by tier, partner and rep pay."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cosell.errors import InputError, UsageError
from cosell.instants import parse_instant
from cosell.policy import Policy
from cosell.service.simulate import Simulation, resolve_period, simulate

sys.path.insert(0, str(Path(__file__).parent))
from whatif_world import (
    BOTH,
    MORE_INFLUENCE,
    PROPOSAL_WON,
    SHORTER_LOOKBACK,
    TABLES,
    T,
    small_world,
)

D = Decimal


_RUNS: dict[tuple[str, str | None], Simulation] = {}


def run(proposed: Policy, **options: Any) -> Simulation:
    """The what-if of ``proposed`` on the small world (the same question twice is answered once:
    each answer runs the engine twice)."""
    key = (proposed.version, options.get("period"))
    cacheable = set(options) <= {"period"}
    if cacheable and key in _RUNS:
        return _RUNS[key]
    ws = small_world(plan=options.pop("plan", True), tables=options.pop("tables", None))
    try:
        result = simulate(ws.con, proposed, as_of=T, known_at=options.pop("known_at", T), **options)
    finally:
        ws.close()
    if cacheable:
        _RUNS[key] = result
    return result


def deals(result: Simulation) -> list[tuple[str, tuple[str, ...], Decimal]]:
    return [(c.opportunity_id, c.kinds, c.money_moved) for c in result.whatif.changes]


def pay(result: Simulation, kind: str = "partner") -> list[tuple[str, Decimal, Decimal, Decimal]]:
    parties = result.whatif.partner_pay if kind == "partner" else result.whatif.rep_pay
    return [(p.party_id, p.current, p.proposed, p.change) for p in parties]


def test_a_shorter_window_and_a_heavier_influencer_move_these_deals_and_this_money() -> None:
    result = run(BOTH)
    assert result.header() == (
        f"current policy {Policy().version} vs proposed policy {BOTH.version}, as of 2026-06-30T00:00:00Z"
    )
    # Largest money moved first: D1's 40,000.00, D4's 5,500.00 (EUR 5,000.00 at 1.1), D2's credit.
    assert deals(result) == [
        ("D1", ("tier", "partner", "credit"), D("40000.00")),
        ("D4", ("tier", "partner", "credit"), D("5500.00")),
        ("D2", ("credit",), D("1442.31")),
    ]
    w = result.whatif
    assert w.by_kind == {"tier": 2, "partner": 2, "credit": 3, "outcome": 0}
    assert w.pipeline_moved == {
        "sourced": D("-45500.00"),
        "accelerated": 0,
        "influenced": 0,
        "none": D("45500.00"),
    }
    assert w.revenue_moved == {
        "sourced": D("-40000.00"),
        "accelerated": 0,
        "influenced": 0,
        "none": D("40000.00"),
    }
    # P1: 4,000.00 (10% of D1) + 769.23 (10% of 7,692.31) -> 625.00 (10% of 6,250.00).
    # P2: 5% of 2,307.69 = 115.38 -> 5% of 3,750.00 = 187.50.
    assert pay(result) == [
        ("P1", D("4769.23"), D("625.00"), D("-4144.23")),
        ("P2", D("115.38"), D("187.50"), D("72.12")),
    ]
    assert w.partner_pay_change == D("-4072.11")
    # R1: 5% of a sourced D1 -> 10% of a direct one. R2's 500.00 on D2 does not change.
    assert pay(result, "rep") == [("R1", D("2000.00"), D("4000.00"), D("2000.00"))]
    assert result.plan_versions == ("test-plan@1",) and w.unpriced == ()
    assert result.deals_evaluated == 4 and result.currency == "USD"
    d2 = w.changes[2]
    assert [(c.partner_id, c.share, c.amount) for c in d2.current.credits] == [
        ("P1", "0.769231", "7692.31"), ("P2", "0.230769", "2307.69"),
    ]  # fmt: skip
    assert [(c.partner_id, c.share, c.amount) for c in d2.proposed.credits] == [
        ("P1", "0.625000", "6250.00"), ("P2", "0.375000", "3750.00"),
    ]  # fmt: skip
    assert (d2.credit_moved, d2.partner_pay_change) == (D("1442.31"), {"P1": D("-144.23"), "P2": D("72.12")})


def test_a_window_alone_moves_only_the_deals_it_sources_and_a_weight_alone_only_the_credit() -> None:
    window = run(SHORTER_LOOKBACK)
    assert [c.opportunity_id for c in window.whatif.changes] == ["D1", "D4"]
    assert pay(window) == [("P1", D("4000.00"), D("0.00"), D("-4000.00"))]
    weight = run(MORE_INFLUENCE)
    assert deals(weight) == [("D2", ("credit",), D("1442.31"))]
    assert weight.whatif.pipeline_moved == dict.fromkeys(("sourced", "accelerated", "influenced", "none"), 0)
    assert pay(weight) == [
        ("P1", D("769.23"), D("625.00"), D("-144.23")),
        ("P2", D("115.38"), D("187.50"), D("72.12")),
    ]


def test_a_period_keeps_the_deals_that_close_in_it() -> None:
    q2 = run(BOTH, period="2026-Q2")
    assert [c.opportunity_id for c in q2.whatif.changes] == ["D1", "D2"]  # D4 is open at T
    assert q2.deals_evaluated == 3  # D1, D2 and D3 closed in 2026-Q2
    assert q2.whatif.pipeline_moved["sourced"] == D("-40000.00")
    april = run(BOTH, period="2026-04")
    assert [c.opportunity_id for c in april.whatif.changes] == ["D1"] and april.deals_evaluated == 2
    assert resolve_period("all", Policy()) is None and resolve_period(None, Policy()) is None
    with pytest.raises(UsageError, match="--period: '2026-13' is not a period"):
        run(BOTH, period="2026-13")


def test_a_stage_mapping_that_wins_a_deal_moves_its_revenue_and_pay_at_the_close_rate() -> None:
    result = run(PROPOSAL_WON)
    assert deals(result) == [("D4", ("outcome",), D("6000.00"))]
    change = result.whatif.changes[0]
    assert (change.current.outcome, change.proposed.outcome) == ("open", "won")
    assert change.proposed.closed_at == parse_instant("2026-03-01T00:00:00Z")
    # March has no EUR rate of its own: the quarter's 1.2. Pipeline stays at February's 1.1.
    assert result.whatif.revenue_moved["sourced"] == D("6000.00")
    assert result.whatif.pipeline_moved["sourced"] == 0
    assert pay(result) == [("P1", D("0.00"), D("600.00"), D("600.00"))]
    assert pay(result, "rep") == [("R4", D("0.00"), D("300.00"), D("300.00"))]


def test_without_a_plan_known_pay_is_not_computed_and_the_result_says_so() -> None:
    # The plan was loaded on 2025-12-31: known at the day before, there was none.
    result = run(BOTH, known_at=parse_instant("2025-12-30T00:00:00Z"))
    assert [c.opportunity_id for c in result.whatif.changes] == ["D1", "D4", "D2"]
    assert result.whatif.partner_pay == () and result.whatif.unpriced == ("D1", "D2")
    assert not result.plans_known and result.plan_versions == ()
    assert "No compensation plan was loaded: pay is not computed (cosell plans load)." in result.notes()


def test_a_missing_rate_is_an_input_error_naming_currency_period_and_deal() -> None:
    rates = [r for r in TABLES["fx_rates"] if r["period"] != "2026-02"]
    with pytest.raises(InputError, match=r"no rate for EUR in 2026-02 or 2026-Q1: needed by deal D4 created"):
        run(BOTH, tables={"fx_rates": rates[1:]})
    # A deal the proposal does not change needs no rate.
    assert deals(run(MORE_INFLUENCE, tables={"fx_rates": []})) == [("D2", ("credit",), D("1442.31"))]


def test_a_proposal_in_another_currency_is_refused() -> None:
    with pytest.raises(UsageError, match="workspace_currency EUR is not the current USD"):
        run(Policy().with_values(workspace_currency="EUR"))


def test_the_json_carries_every_field_with_money_as_decimal_strings() -> None:
    data = run(BOTH).to_json()
    assert data["pipeline_moved"] == {
        "sourced": "-45500.00",
        "accelerated": "0.00",
        "influenced": "0.00",
        "none": "45500.00",
    }
    assert data["partner_pay"][0] == {
        "partner_id": "P1", "name": "Partner One", "current": "4769.23", "proposed": "625.00", "change": "-4144.23",
    }  # fmt: skip
    d4 = data["deals"][1]
    assert d4["opportunity_id"] == "D4" and d4["deal_currency"] == "EUR" and d4["credit_moved"] == "5000.00"
    assert d4["pipeline_moved"] == {"none": "5500.00", "sourced": "-5500.00"}
    assert d4["current"]["credits"] == [
        {"partner_id": "P1", "role": "sourcer", "share": "1.000000", "amount": "5000.00", "currency": "EUR"}
    ]
    assert (d4["current"]["pipeline"], d4["current"]["revenue"], d4["proposed"]["credits"]) == (
        "5500.00",
        None,
        [],
    )


def test_pay_is_priced_with_the_rep_and_plan_the_ledger_pinned_at_the_first_entry() -> None:
    """D1 was posted in June with R1 as its owner; the CRM names R9 since. Posting would pay R1
    (the rep when its first entry was posted, SPEC section 6), so the what-if moves R1's commission."""
    from cosell.attribution.engine import attribute
    from cosell.pay.plan_versions import load_plan_set
    from cosell.pay.posting import post_period
    from cosell.pay.pricers import PlanSetPricer
    from cosell.store.attribution_store import save_run

    ws = small_world()
    try:
        save_run(ws.con, attribute(ws.con, Policy(), T, known_at=T), "tester", run_at=T)
        pricer = PlanSetPricer(load_plan_set(ws.con))
        posted = post_period(ws, Policy(), pricer, "2026-06", "tester", parse_instant("2026-06-30T01:00:00Z"))
        assert posted.counts["rep_commission"] == 3  # D1, D2, D3
        ws.con.execute(
            "UPDATE opportunities SET _valid_to = TIMESTAMPTZ '2026-07-01 00:00:00Z' WHERE opportunity_id = 'D1'"
        )
        ws.con.execute(
            "INSERT INTO opportunities SELECT * REPLACE ('R9' AS owner_id, TIMESTAMPTZ '2026-07-01 00:00:00Z' "
            "AS _valid_from, NULL AS _valid_to) FROM opportunities WHERE opportunity_id = 'D1'"
        )
        later = parse_instant("2026-07-02T00:00:00Z")
        result = simulate(ws.con, SHORTER_LOOKBACK, as_of=T, known_at=later)
    finally:
        ws.close()
    assert pay(result, "rep") == [("R1", D("2000.00"), D("4000.00"), D("2000.00"))]
