"""One rule for review and pay writes: nothing is recorded dated before something already recorded.

Found by fuzzing `disputes open/decide --now` against `payouts post/approve --now`: the review
writes read only the review and attribution records, the pay writes only the ledger's, so a
dispute could be dated before a posting already recorded and a posting before a decision. Each
is now refused by the one check (cosell.store.review.check_not_backdated), naming what was
recorded later, and records nothing; the same instant is fine.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cosell.errors import CosellError
from cosell.hygiene.disputes import decide_dispute, open_dispute
from cosell.pay.payouts import approve_run, propose_run
from cosell.pay.posting import post_period
from cosell.store.review import check_not_backdated
from cosell.store.workspace import Workspace

sys.path.insert(0, str(Path(__file__).parent))
from ledger_support import PRICER, PayWorld, at


def world() -> PayWorld:
    w = PayWorld()
    w.partner("P1")
    w.user("U1")
    w.user("U-OPS", "partner_ops")
    w.user("F1", "finance")
    w.deal("O1", "10000.00")
    w.deal("O2", "5000.00")
    w.attribute({"O1": ("none", []), "O2": ("sourced", [("P1", "sourcer", "1.000000", "5000.00")])})
    return w


# What the writes below record (and the attribution runs an accepted dispute makes).
WRITTEN = (
    "attribution_runs",
    "disputes",
    "dispute_decisions",
    "ledger_postings",
    "payout_runs",
    "payout_approvals",
)


def counts(ws: Workspace) -> dict[str, int]:
    present = {
        str(r[0])
        for r in ws.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE list_contains(?, table_name) "
            "AND table_catalog = current_database()",
            [list(WRITTEN)],
        ).fetchall()
    }
    return {t: ws.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in sorted(present)}  # type: ignore[index]


def test_a_dispute_is_not_dated_before_a_ledger_posting() -> None:
    w = world()
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", at("2026-10-03T00:00:00Z"))
    before = counts(w.ws)
    with pytest.raises(CosellError) as refused:
        open_dispute(w.ws, "O1", "U1", "P1 introduced us", "sourced/P1", at=at("2026-10-02T00:00:00Z"))
    assert str(refused.value) == (
        "the dispute at 2026-10-02T00:00:00Z is before the last recorded change, a ledger posting at "
        "2026-10-03T00:00:00Z: give --now 2026-10-03T00:00:00Z or later"
    )
    assert refused.value.exit_code == 1
    assert counts(w.ws) == before
    # The same instant is fine.
    open_dispute(w.ws, "O1", "U1", "P1 introduced us", "sourced/P1", at=at("2026-10-03T00:00:00Z"))


def test_a_dispute_decision_is_not_dated_before_a_payout_approval() -> None:
    w = world()
    d = open_dispute(w.ws, "O1", "U1", "P1 introduced us", "sourced/P1", at=at("2026-10-02T00:00:00Z"))
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", at("2026-10-03T00:00:00Z"))
    run, _ = propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-04T00:00:00Z"))
    approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-05T00:00:00Z"))
    before = counts(w.ws)
    with pytest.raises(
        CosellError, match="before the last recorded change, a payout approval at 2026-10-05T00:00:00Z:"
    ):
        decide_dispute(
            w.ws,
            w.policy,
            d.dispute_id,
            accept=True,
            by_user="U-OPS",
            reason="ok",
            at=at("2026-10-04T12:00:00Z"),
        )
    assert counts(w.ws) == before


def test_no_pay_write_is_dated_before_a_review_decision() -> None:
    w = world()
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", at("2026-10-03T00:00:00Z"))
    d = open_dispute(w.ws, "O1", "U1", "P1 introduced us", "sourced/P1", at=at("2026-10-04T00:00:00Z"))
    decide_dispute(
        w.ws, w.policy, d.dispute_id, accept=True, by_user="U-OPS", reason="ok", at=at("2026-10-06T00:00:00Z")
    )
    before = counts(w.ws)
    decided = "before the last recorded change, a dispute decision at 2026-10-06T00:00:00Z:"
    with pytest.raises(CosellError, match="posting 2026-10 at 2026-10-05T00:00:00Z is " + decided):
        post_period(w.ws, w.policy, PRICER, "2026-10", "fin", at("2026-10-05T00:00:00Z"))
    with pytest.raises(CosellError, match="a payout run for 2026-09 at 2026-10-05T00:00:00Z is " + decided):
        propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-05T00:00:00Z"))
    assert counts(w.ws) == before
    run, _ = propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-06T00:00:00Z"))
    # An approval is a write too: dated before a dispute opened after the run was proposed.
    open_dispute(w.ws, "O2", "U1", "not P1", "none", at=at("2026-10-08T00:00:00Z"))
    with pytest.raises(
        CosellError,
        match="approving run PR-000001 at 2026-10-07T00:00:00Z is before the last recorded change, a dispute at",
    ):
        approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-07T00:00:00Z"))


# Each step: (what, minutes after 2026-10-01T00:00Z). Posting and payout steps are the ledger's,
# dispute steps the review's.
STEPS = st.lists(
    st.tuples(st.sampled_from(["post", "dispute", "decide", "propose"]), st.integers(0, 6 * 24 * 60)),
    min_size=2,
    max_size=5,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
@example([("post", 10), ("dispute", 5)])
@example([("dispute", 10), ("post", 5)])
def test_a_write_is_refused_exactly_when_something_was_recorded_after_its_instant(
    steps: list[tuple[str, int]],
) -> None:
    """Whatever the order of review and pay writes and their instants, a write is refused exactly
    when something already recorded is dated after it; a refused write records nothing."""
    w = world()
    base = at("2026-10-01T00:00:00Z")
    newest: datetime = w.ws.con.execute("SELECT max(run_at) FROM attribution_runs").fetchone()[0]  # type: ignore[index]
    disputes: list[str] = []
    for what, minutes in steps:
        when = base + timedelta(minutes=minutes)
        before = counts(w.ws)
        try:
            if what == "post":
                post_period(w.ws, w.policy, PRICER, "2026-09", "fin", when, recheck=True)
            elif what == "dispute":
                disputes.append(open_dispute(w.ws, "O1", "U1", "why", "sourced/P1", at=when).dispute_id)
            elif what == "decide":
                if not disputes:
                    continue
                decide_dispute(
                    w.ws, w.policy, disputes.pop(), accept=False, by_user="U-OPS", reason="no", at=when
                )
            else:
                propose_run(w.ws, w.policy, "2026-09", "ops", when)
        except CosellError as refused:
            if "is before the last recorded change" not in str(refused):
                assert counts(w.ws) == before
                continue
            assert when < newest
            assert counts(w.ws) == before
            continue
        if counts(w.ws) != before:  # a posting with nothing new records nothing
            assert when >= newest
            newest = when


def test_the_check_names_the_newest_thing_recorded() -> None:
    w = world()
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", at("2026-10-03T00:00:00Z"))
    with pytest.raises(
        CosellError, match="x at 2026-10-01T00:00:00Z is before the last recorded change, a ledger posting"
    ):
        check_not_backdated(w.ws.con, at("2026-10-01T00:00:00Z"), "x")
    check_not_backdated(w.ws.con, at("2026-10-03T00:00:00Z"), "x")
