"""Why an adjustment is posted: the attribution version that changed what the deal earns, not the
deal's current version (a batch run between the change and the posting must not replace the cause).

Hand-computed with ledger_support.simple_price: O1 is a 10,000.00 USD direct deal won in September;
the rep U1 earns 5% (500.00), paid in September. A fix or a dispute then finds P1 sourced it: P1
earns 10% (1,000.00) and U1 2% less P1's 1,000.00, so nothing; U1's 500.00 is clawed back.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosell.pay.payouts import approve_run, propose_run
from cosell.pay.posting import post_period
from cosell.store.ledger import read_entries

sys.path.insert(0, str(Path(__file__).parent))
from ledger_support import PRICER, PayWorld, at

D = Decimal
SOURCED = ("sourced", [("P1", "sourcer", "1.000000", "10000.00")])
OCTOBER = at("2026-11-01T06:00:00Z")


def paid_september() -> PayWorld:
    w = PayWorld()
    w.partner("P1")
    w.partner("P2")
    w.user("U1")
    w.user("F1", "finance")
    w.deal("O1", "10000.00")
    w.attribute({"O1": ("none", [])}, reason="D1 import")
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", at("2026-10-01T06:00:00Z"))
    run, _ = propose_run(w.ws, w.policy, "2026-09", "fin", at("2026-10-01T07:00:00Z"))
    approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-01T08:00:00Z"))
    return w


def october(w: PayWorld) -> list[tuple[str, str, Decimal, int | None, str]]:
    post_period(w.ws, w.policy, PRICER, "2026-10", "fin", OCTOBER)
    return [
        (e.party_id, e.kind, e.amount, e.attribution_run_id, e.reason)
        for e in read_entries(w.ws.con, "period = '2026-10'")
    ]


def test_a_fix_then_a_batch_run_then_posting_names_the_fix() -> None:
    w = paid_september()
    fix = w.attribute({"O1": SOURCED}, kind="fix", reason="partner lead found", source="finding:F-000012")
    batch = w.attribute({"O1": SOURCED}, reason="D5 closed")  # decides as the fix did
    assert (fix, batch) == (2, 3)
    why = "attribution changed: version 2 (fix, finding:F-000012: partner lead found)"
    assert october(w) == [
        ("U1", "clawback", D("-500.00"), 1, why),
        ("P1", "partner_payout", D("1000.00"), 3, why),  # priced from the current version
    ]


def test_a_dispute_then_a_batch_run_then_posting_names_the_dispute() -> None:
    w = paid_september()
    w.attribute({"O1": SOURCED}, kind="dispute", reason="intro email on file", source="dispute:D-000001")
    w.attribute({"O1": SOURCED}, reason="D5 closed")
    w.attribute({"O1": SOURCED}, reason="D6 closed")
    reasons = {reason for *_, reason in october(w)}
    assert reasons == {"attribution changed: version 2 (dispute, dispute:D-000001: intro email on file)"}


def test_after_two_changes_the_reason_names_the_one_that_made_the_current_attribution() -> None:
    w = paid_september()
    w.attribute({"O1": SOURCED}, kind="fix", reason="partner lead found", source="finding:F-000012")
    # Then a dispute: P2 only influenced it. P2 earns a flat 100.00, U1 2% (200.00).
    w.attribute({"O1": ("influenced", [("P2", "influencer", "1.000000", "10000.00")])},
                kind="dispute", reason="P2 introduced them late", source="dispute:D-000001")  # fmt: skip
    w.attribute({"O1": ("influenced", [("P2", "influencer", "1.000000", "10000.00")])}, reason="D5 closed")
    why = "attribution changed: version 3 (dispute, dispute:D-000001: P2 introduced them late)"
    assert october(w) == [
        ("U1", "clawback", D("-500.00"), 1, why),
        ("P2", "partner_payout", D("100.00"), 4, why),
        ("U1", "rep_commission", D("200.00"), 4, why),
    ]


def test_a_batch_run_that_changes_only_the_amount_is_not_called_an_attribution_change() -> None:
    w = paid_september()
    w.deal("O1", "12000.00", when=at("2026-10-05T00:00:00Z"))
    w.attribute({"O1": ("none", [])}, reason="D5 closed")  # same tier, no partner: same attribution
    assert october(w) == [
        ("U1", "clawback", D("-500.00"), 1, "deal amount, close, rate or partner changed"),
        ("U1", "rep_commission", D("600.00"), 2, "deal amount, close, rate or partner changed"),
    ]


def test_a_change_and_its_undoing_before_the_posting_post_nothing() -> None:
    w = paid_september()
    w.attribute({"O1": SOURCED}, kind="fix", reason="partner lead found", source="finding:F-000012")
    w.attribute({"O1": ("none", [])}, reason="D5 closed: the override was withdrawn")
    assert october(w) == []


DECISIONS = {
    "direct": ("none", []),
    "sourced": SOURCED,
    "influenced": ("influenced", [("P2", "influencer", "1.000000", "10000.00")]),
}
changes = st.lists(
    st.tuples(st.sampled_from(sorted(DECISIONS)), st.sampled_from(["batch", "fix", "dispute"])),
    min_size=1,
    max_size=4,
)


@pytest.fixture(scope="module")
def september(tmp_path_factory: pytest.TempPathFactory) -> tuple[PayWorld, str]:
    """:func:`paid_september` made once for the module and saved to a file: each generated
    example starts from its own copy of it (the same rows), not from making it again."""
    world = paid_september()
    path = str(tmp_path_factory.mktemp("september") / "paid.duckdb")
    world.save(path)
    world.ws.close()
    return world, path


@settings(max_examples=15, deadline=None)
@given(changes)
def test_the_cause_is_the_first_of_the_versions_that_decide_as_the_current_one(
    september: tuple[PayWorld, str], versions: list[tuple[str, str]]
) -> None:
    """Whatever versions follow the one paid on (version 1: direct), the adjustments name the version
    from which on every version decides as the current one, with its kind and source; none when the
    current one decides as version 1 did."""
    made, path = september
    w = made.copy_of(path)
    for n, (decision, kind) in enumerate(versions, start=2):
        source = f"finding:F-{n}" if kind == "fix" else f"dispute:D-{n}" if kind == "dispute" else ""
        w.attribute({"O1": DECISIONS[decision]}, kind=kind, reason=f"change {n}", source=source)
    entries = october(w)
    decided = ["direct", *(d for d, _ in versions)]
    if decided[-1] == "direct":
        assert entries == []
        return
    first = len(decided)
    while decided[first - 2] == decided[-1]:
        first -= 1
    kind = versions[first - 2][1]
    source = {"fix": f", finding:F-{first}", "dispute": f", dispute:D-{first}"}.get(kind, "")
    assert {reason for *_, reason in entries} == {
        f"attribution changed: version {first} ({kind}{source}: change {first})"
    }
