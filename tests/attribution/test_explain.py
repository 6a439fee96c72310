"""explain: sentences a CFO can read, and stable JSON keys, on golden cases."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cosell.attribution.explain import JSON_KEYS, ExplainReport, explain
from cosell.attribution.reference import decide
from cosell.policy import Policy

sys.path.insert(0, str(Path(__file__).parent))
from golden import case_workspace, empty_workspace, facts_of, insert_tables, load_case


def report(case_name: str, opportunity_id: str) -> ExplainReport:
    case = load_case(case_name)
    ws = case_workspace(case)
    try:
        facts = facts_of(ws, case.policy)
    finally:
        ws.close()
    return explain(decide(opportunity_id, facts, case.policy, case.as_of, case.model), facts)


# An open deal on account A1, created 2026-03-01, of the hand-made workspaces below.
OPEN_O1 = {
    "opportunity_id": "O1",
    "account_id": "A1",
    "created_at": "2026-03-01T00:00:00Z",
    "amount": "100.00",
    "currency": "USD",
    "stage": "Discovery",
}


def decided_o1(tables: dict[str, list[dict[str, str]]], as_of: datetime) -> tuple[Any, Any]:
    """Deal O1 of ``tables`` (in a new in-memory workspace) decided as of ``as_of`` by the reference
    rules under the default policy, role-weighted, with the facts it was decided from."""
    policy = Policy()
    ws = empty_workspace()
    try:
        insert_tables(ws, tables)
        facts = facts_of(ws, policy)
    finally:
        ws.close()
    return decide("O1", facts, policy, as_of, "role_weighted"), facts


def test_sourced_names_partner_evidence_dates_credit_policy_and_as_of() -> None:
    text = report("double_sourced", "O1").text()
    assert "is partner-sourced by Contoso Referrals (P1)" in text
    assert "partner lead L1 created 2026-02-01T00:00:00Z (S1" in text
    assert "deal registration R2 submitted 2026-02-05T00:00:00Z" in text
    assert "[DOUBLE_SOURCED]" in text
    # Amounts in sentences carry thousands separators; the JSON keeps plain digits for machines.
    assert "Opportunity O1 (Account A1 (A1), 10,000.00 USD, created" in text
    assert "Contoso Referrals (P1) sourcer 0.769231 = 7,692.31 USD" in text
    data = report("double_sourced", "O1").data
    assert data["amount"] == "10000.00" and "7692.31" in [c["amount"] for c in data["credits"]]
    assert "as of 2026-10-01T00:00:00Z under policy default@04f5e962523a" in text


def test_blocked_claim_names_the_guard_and_the_direct_touch() -> None:
    text = report("direct_first_guard", "O1").text()
    assert "is blocked: the direct team engaged the account first (touch D1) [DIRECT_FIRST]" in text
    tie = report("tie_to_direct", "O1").text()
    assert "a tie goes to direct [TIE_TO_DIRECT]" in tie


def test_acceleration_gives_cohort_level_size_median_and_remaining() -> None:
    text = report("acc_stage_baseline", "O1").text()
    assert "Baseline (stage:1): the median of 10 direct-only deals" in text
    assert "is 30.5 days" in text
    assert "This deal took 10 days from entering Proposal (2026-04-01T00:00:00Z) to close" in text
    assert "20.5 days (67.2%) faster" in text and "[ACC]" in text


def test_near_miss_shows_the_exact_shortfall() -> None:
    text = report("acc_near_miss_days", "O1").text()
    assert "6.999999999988 days" in text
    assert "it needed a saving of at least 7 days" in text and "[NOT_FASTER]" in text
    pct = report("acc_near_miss_pct", "O1").text()
    assert "it needed at most 80 days (20% below the baseline)" in pct


def test_no_baseline_no_activity_override_and_direct_only() -> None:
    assert "[NO_BASELINE]" in report("cohort_cycle_levels", "O3").text()
    assert "no logged activity" in report("declared_influencer_activity", "O1").text()
    assert "is a direct-only deal" in report("acc_whole_cycle", "B01").text()
    override = report("override_applied", "O1")
    assert "An accepted override (OV1" in override.text()
    assert override.to_json()["computed_tier"] == "sourced"


def test_a_sourced_override_names_its_partner_as_the_stored_row_does() -> None:
    """O1's lead makes P1 its sourcer; the accepted override makes P2 the sourcer, as the stored row
    and the JSON say: the first sentence names P2 too (found by fuzzing the re-decisions: it named
    the rules' sourcer, P1, which holds an influencer's credit)."""
    override = report("override_applied", "O1")
    assert override.to_json()["primary_partner_id"] == "P2"
    assert "is partner-sourced by Fabrikam Co-Sell (P2)." in override.text()


def test_json_has_stable_keys_and_is_serialisable() -> None:
    data = report("acc_whole_cycle", "O1").to_json()
    assert tuple(data) == JSON_KEYS
    json.dumps(data)
    assert data["acceleration"]["cohort"] == "cycle:1"
    assert data["acceleration"]["cohort_size"] == 10
    assert data["acceleration"]["baseline_days"] == "64.500000"
    assert data["rules"] == ["ACC", "WHOLE_CYCLE"]
    assert data["credits"] == [
        {
            "partner_id": "P1",
            "role": "influencer",
            "share": "1.000000",
            "amount": "10000.00",
            "currency": "USD",
        }
    ]


def test_explain_opportunity_reads_a_workspace_and_suggests_a_close_id() -> None:
    import pytest

    from cosell.attribution.explain import explain_opportunity, explanation_json
    from cosell.errors import NotFound

    case = load_case("double_sourced")
    ws = case_workspace(case)
    try:
        found = explain_opportunity(ws.con, "O1", case.policy)  # rows known now
        assert explanation_json(found)["primary_partner_id"] == "P1"
        with pytest.raises(NotFound, match="did you mean O1"):
            explain_opportunity(ws.con, "O10", case.policy)
    finally:
        ws.close()


def test_the_lookback_sentence_says_which_evidence_it_bounds() -> None:
    """SPEC section 2 bounds a partner lead (S1) and a touch (S3) by the lookback, not a
    registration (S2) nor a declaration (S4), which count at their own dates. The sentence said
    "Sourcing evidence counts inside the lookback", then showed a declaration dated before it."""
    text = report("double_sourced", "O1").text()
    assert "A partner lead or touch counts as sourcing evidence inside the lookback from" in text
    assert "a registration or a declaration at its own date; the earliest unblocked claim wins." in text
    assert "Sourcing evidence counts inside the lookback" not in text


def test_double_sourced_names_the_role_each_losing_claimant_takes() -> None:
    # P1's lead (Feb 1) wins; P2 declared sourcer (Feb 10) loses but is also declared co_seller,
    # a role SPEC section 3 keeps: the sentence said "P2 become influencers" beside a credit line
    # giving P2 co_seller (found by fuzzing explain with several partners on one deal).
    tables = {
        "accounts": [{"account_id": "A1", "name": "Acme"}],
        "partners": [
            {"partner_id": "P1", "name": "One", "partner_type": "referral"},
            {"partner_id": "P2", "name": "Two", "partner_type": "co_sell"},
            {"partner_id": "P3", "name": "Three", "partner_type": "services"},
        ],
        "opportunities": [
            {
                "opportunity_id": "O1",
                "account_id": "A1",
                "created_at": "2026-03-01T00:00:00Z",
                "amount": "100.00",
                "currency": "USD",
                "stage": "Closed Won",
                "close_date": "2026-05-01T00:00:00Z",
            }
        ],
        "leads": [
            {
                "lead_id": "L1",
                "created_at": "2026-02-01T00:00:00Z",
                "partner_id": "P1",
                "converted_opportunity_id": "O1",
            }
        ],
        "opportunity_partners": [
            {"opportunity_id": "O1", "partner_id": "P2", "role": role, "added_at": "2026-02-10T00:00:00Z"}
            for role in ("sourcer", "co_seller")
        ]
        + [
            {
                "opportunity_id": "O1",
                "partner_id": "P3",
                "role": "sourcer",
                "added_at": "2026-02-11T00:00:00Z",
            }
        ],
    }
    decision, facts = decided_o1(tables, datetime(2026, 10, 1, tzinfo=UTC))
    assert {c.partner_id: c.role for c in decision.credits} == {
        "P1": "sourcer",
        "P2": "co_seller",
        "P3": "influencer",
    }
    text = explain(decision, facts).text()
    assert (
        "One (P1) was first; Two (P2) takes the co_seller role; Three (P3) takes the influencer role "
        "[DOUBLE_SOURCED]." in text
    )
    assert "become influencers" not in text


def test_every_credited_partner_is_given_a_reason() -> None:
    # three_partners: P3 is credited as servicer for a touch after close, and the sentences never
    # named P3; the CFO saw a credit with no evidence (found by fuzzing explain with several
    # partners on one deal). Every credited partner is named before the credit line.
    text = report("three_partners", "O1").text()
    credits_at = text.index("Credit by the")
    for partner in ("(P1)", "(P2)", "(P3)"):
        assert partner in text[:credits_at], partner
    assert "servicer on a partner-attributed deal" in text
    # position_based: the touches of partners other than the first engager's are named.
    touches = report("credit_position_based", "O1")
    for credit in touches.data["credits"]:
        assert f"({credit['partner_id']})" in touches.text()[: touches.text().index("Credit by the")]


def test_registrations_at_the_same_instant_say_the_tie_break_not_came_first() -> None:
    # Two partners' approved registrations of A1 at the same instant both source O1 (SPEC
    # section 2: ties go to S2, then S1, S3, S4, then the smaller partner_id): the loser's sentence
    # said "a claim of another partner came first" and the winner "was first", though neither was
    # (found by fuzzing registrations with exact ties).
    regs = [
        {
            "registration_id": f"R{i}",
            "partner_id": partner,
            "account_id": "A1",
            "registered_at": "2026-02-01T00:00:00Z",
            "status": "approved",
            "approved_at": "2026-02-02T00:00:00Z",
        }
        for i, partner in ((1, "P2"), (2, "P1"), (3, "P3"))
    ]
    # P3's registration is a day later: that one did come second.
    regs[2]["registered_at"] = "2026-02-02T00:00:00Z"
    tables = {
        "accounts": [{"account_id": "A1", "name": "Acme"}],
        "partners": [
            {"partner_id": p, "name": name, "partner_type": "referral"}
            for p, name in (("P1", "One"), ("P2", "Two"), ("P3", "Three"))
        ],
        "opportunities": [OPEN_O1],
        "deal_registrations": regs,
    }
    decision, facts = decided_o1(tables, datetime(2026, 4, 1, tzinfo=UTC))
    assert decision.sourcer == "P1"
    text = explain(decision, facts).text()
    assert (
        "Two (P2): deal registration R1 submitted 2026-02-01T00:00:00Z (S2, a deal registration) also "
        "qualifies, at the same instant as the winning claim: a tie goes to S2, then S1, S3, S4, then "
        "the smaller partner_id." in text
    )
    assert (
        "Three (P3): deal registration R3 submitted 2026-02-02T00:00:00Z (S2, a deal registration) also "
        "qualifies, but a claim of another partner came first." in text
    )
    assert "One (P1) won the tie;" in text
    assert "was first" not in text


def test_a_blocked_registration_says_it_counts_as_partner_engagement() -> None:
    # SPEC section 2: a registration of O that sources nothing (blocked by the direct-first guard)
    # still counts as its partner's engagement for influence. explain said the claim was blocked and
    # then credited the partner as influencer with no sentence saying why, as it does for a partner
    # lead (found by fuzzing explain with a registration after a direct touch).
    tables = {
        "accounts": [{"account_id": "A1", "name": "Acme"}],
        "partners": [{"partner_id": "P1", "name": "One", "partner_type": "referral"}],
        "opportunities": [OPEN_O1],
        "touches": [
            {
                "touch_id": "T1",
                "occurred_at": "2026-01-01T00:00:00Z",
                "account_id": "A1",
                "actor": "direct",
                "kind": "outbound_call",
            }
        ],
        "deal_registrations": [
            {
                "registration_id": "R1",
                "partner_id": "P1",
                "account_id": "A1",
                "registered_at": "2026-02-01T00:00:00Z",
                "status": "approved",
                "approved_at": "2026-02-02T00:00:00Z",
            }
        ],
    }
    decision, facts = decided_o1(tables, datetime(2026, 4, 1, tzinfo=UTC))
    assert (decision.tier, decision.sourcer) == ("influenced", "")
    text = explain(decision, facts).text()
    assert "[DIRECT_FIRST]" in text
    assert (
        "One (P1) registered the deal (R1, 2026-02-01T00:00:00Z); it sources nothing but counts as "
        "partner engagement." in text
    )
