"""prompt_expired: an influence prompt that expired unanswered is a finding of the period it expired in."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from cosell.hygiene.prompts import answer_prompt, list_prompts, refresh_prompts
from cosell.instants import parse_instant
from cosell.service.reconcile import reconcile_known as reconcile  # with the account overlap matched

from .test_findings import AS_OF, IMPORT_AT, POLICY, Data, build_workspace


def prompt_data() -> Data:
    """Two won deals, nothing declared, a partner added as influencer after creation."""
    d = Data()
    for opp, account in (("O-PEX", "A40"), ("O-PEX-ANSWERED", "A41")):
        d.won(opp, account)
        d.t["opportunity_partners"].append(
            {
                "opportunity_id": opp,
                "partner_id": "P2",
                "role": "influencer",
                "added_at": "2026-09-10T00:00:00Z",
            }
        )
    return d


def test_an_expired_prompt_is_a_finding_and_an_answered_one_is_not(tmp_path: Path) -> None:
    ws = build_workspace(tmp_path / "ws.duckdb", prompt_data())
    issued = refresh_prompts(ws, POLICY, now=IMPORT_AT)
    assert sorted(p.opportunity_id for p in issued) == ["O-PEX", "O-PEX-ANSWERED"]
    answered = next(p for p in issued if p.opportunity_id == "O-PEX-ANSWERED")
    answer_prompt(
        ws, POLICY, answered.prompt_id, tier="influenced", activity="joint call on 2026-09-12", by_user="U-AE",
        now=parse_instant("2026-11-05T00:00:00Z"),
    )  # fmt: skip
    expiry = next(p.expires_at for p in issued if p.opportunity_id == "O-PEX")
    assert expiry == parse_instant("2026-11-14T23:00:00Z")  # 14 days after it was issued

    # Not expired at the end of October: no prompt finding then.
    october = reconcile(ws, POLICY, period="2026-10", as_of=AS_OF)
    assert all(f.kind != "prompt_expired" for f in october.findings)

    november = reconcile(ws, POLICY, period="2026-11", as_of=parse_instant("2026-12-01T00:00:00Z"))
    found = [f for f in november.findings if f.kind == "prompt_expired"]
    assert [f.finding_id for f in found] == ["PEX-O-PEX"]
    (f,) = found
    prompt = next(p for p in list_prompts(ws.con) if p.opportunity_id == "O-PEX")
    assert set(f.evidence) == {
        f"prompt:{prompt.prompt_id}/P2@2026-11-14T23:00:00Z",
        "rep:U-AE",
        f"trigger:{prompt.trigger_ref}",
    }
    assert f.closed_at is None  # closed in October, not in the period reconciled
    assert (f.at_stake, f.suggested_tier) == (f.amount, "")
    assert f.suggested_fix.startswith("the owning rep declares partner_source")
    ws.close()


def test_an_expired_prompt_states_its_money_at_the_creation_period_rate(tmp_path: Path) -> None:
    # A EUR deal created in October; the prompt expires in November, which the rate table does not
    # cover (only EUR 2026-10 = 1.0875). The money at stake is the pipeline's: 2,000.00 EUR at the
    # creation month's rate = 2,175.00 USD, and the missing November rate is no error.
    d = Data()
    d.won("O-PEX-EUR", "A42", created="2026-10-02T10:00:00Z", amount="2000.00", currency="EUR")
    d.t["opportunity_partners"].append(
        {
            "opportunity_id": "O-PEX-EUR",
            "partner_id": "P2",
            "role": "influencer",
            "added_at": "2026-10-10T00:00:00Z",
        }
    )
    ws = build_workspace(tmp_path / "ws.duckdb", d)
    refresh_prompts(ws, POLICY, now=IMPORT_AT)
    november = reconcile(ws, POLICY, period="2026-11", as_of=parse_instant("2026-12-01T00:00:00Z"))
    (f,) = [f for f in november.findings if f.kind == "prompt_expired"]
    assert (f.amount, f.currency) == (Decimal("2000.00"), "EUR")
    assert (f.at_stake, f.at_stake_currency) == (Decimal("2175.00"), "USD")
    ws.close()
