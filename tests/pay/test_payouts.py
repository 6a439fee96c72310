"""Payout runs: what is paid, what is blocked, who approves, and that nothing is paid twice."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from cosell.errors import CosellError, NotAllowed, NotFound, UsageError
from cosell.pay.ledger import balances
from cosell.pay.payouts import approve_run, get_run, list_runs, propose_run, run_lines
from cosell.pay.plan_versions import load_plan_set
from cosell.pay.posting import post_period
from cosell.pay.pricers import PlanSetPricer
from cosell.pay.statements import statement
from cosell.policy import parse_policy
from cosell.store.ledger import closed_through, read_entries

sys.path.insert(0, str(Path(__file__).parent))
from ledger_support import PRICER, PayWorld, at

D = Decimal


def world(users: bool = True) -> PayWorld:
    w = PayWorld()
    w.partner("P1")
    if users:
        w.user("U1")
        w.user("F1", "finance")
        w.user("A1", "admin")
    w.deal("O1", "10000.00")  # U1: 500.00
    w.deal("O2", "5000.00")  # P1: 500.00
    w.attribute({"O1": ("none", []), "O2": ("sourced", [("P1", "sourcer", "1.000000", "5000.00")])})
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", at("2026-10-01T00:00:00Z"))
    return w


def test_a_run_pays_each_positive_balance_and_approval_posts_the_payments() -> None:
    w = world()
    run, lines = propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-02T00:00:00Z"), "September")
    assert (run.run_id, run.status, run.parties_paid, run.total, run.through_entry) == (
        "PR-000001", "proposed", 2, D("1000.00"), "LE-00000002",
    )  # fmt: skip
    assert [(x.party_kind, x.party_id, x.pay) for x in lines] == [
        ("partner", "P1", D("500.00")),
        ("rep", "U1", D("500.00")),
    ]
    assert read_entries(w.ws.con, "kind = 'payment'") == []  # proposing pays nothing
    approved, payments = approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-03T00:00:00Z"), "ok")
    assert (approved.status, approved.approved_by, payments) == ("approved", "F1", 2)
    paid = read_entries(w.ws.con, "kind = 'payment'")
    assert [(e.entry_id, e.party_id, e.amount, e.period, e.payout_run_id) for e in paid] == [
        ("LE-00000003", "P1", D("-500.00"), "2026-09", "PR-000001"),
        ("LE-00000004", "U1", D("-500.00"), "2026-09", "PR-000001"),
    ]
    assert paid[0].idempotency_key == "payment|PR-000001|partner:P1"
    assert balances(read_entries(w.ws.con)) == {("partner", "P1"): D(0), ("rep", "U1"): D(0)}
    assert closed_through(w.ws.con) == "2026-09"


def test_nothing_is_paid_twice() -> None:
    w = world()
    run, _ = propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-02T00:00:00Z"))
    other, _ = propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-02T01:00:00Z"))
    approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-03T00:00:00Z"))
    with pytest.raises(CosellError, match=r"already approved at 2026-10-03T00:00:00Z by F1$"):
        approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-03T00:00:00Z"))
    with pytest.raises(CosellError, match="superseded") as refused:
        approve_run(w.ws, w.policy, other.run_id, "F1", at("2026-10-03T00:00:00Z"))
    assert refused.value.exit_code == 1  # refused by what is recorded: not bad usage
    assert get_run(w.ws.con, other.run_id).status == "superseded"
    with pytest.raises(CosellError, match="already paid") as refused:
        propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-04T00:00:00Z"))
    assert refused.value.exit_code == 1
    # October has nothing new: its run pays nobody.
    october, lines = propose_run(w.ws, w.policy, "2026-10", "ops", at("2026-11-01T00:00:00Z"))
    assert (lines, october.total) == ([], D(0))
    approve_run(w.ws, w.policy, october.run_id, "F1", at("2026-11-01T01:00:00Z"))
    assert sum(e.amount for e in read_entries(w.ws.con, "kind = 'payment'")) == D("-1000.00")
    assert [r.status for r in list_runs(w.ws.con)] == ["approved", "superseded", "approved"]


def test_only_a_finance_user_approves() -> None:
    w = world()
    run, _ = propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-02T00:00:00Z"))
    with pytest.raises(NotAllowed, match="A1 has role admin"):
        approve_run(w.ws, w.policy, run.run_id, "A1")
    with pytest.raises(NotAllowed, match="nobody is not a user"):
        approve_run(w.ws, w.policy, run.run_id, "nobody")
    for empty in ("", "  "):  # --by "": say who, not "  is not a user"
        with pytest.raises(UsageError, match=r"^say who approves: --by FINANCE_USER"):
            approve_run(w.ws, w.policy, run.run_id, empty)
    assert get_run(w.ws.con, run.run_id).status == "proposed"
    assert read_entries(w.ws.con, "kind = 'payment'") == []
    without = world(users=False)
    run, _ = propose_run(without.ws, without.policy, "2026-09", "ops", at("2026-10-02T00:00:00Z"))
    with pytest.raises(NotAllowed, match="no users"):
        approve_run(without.ws, without.policy, run.run_id, "F1")
    with pytest.raises(NotFound, match="PR-000009"):
        approve_run(w.ws, w.policy, "PR-000009", "F1")


def test_a_run_changed_under_it_is_not_approved() -> None:
    w = world()
    run, _ = propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-02T00:00:00Z"))
    w.deal("O3", "2000.00")
    w.attribute({"O3": ("none", [])})
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", at("2026-10-02T02:00:00Z"))
    with pytest.raises(CosellError, match="propose a new run") as refused:
        approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-03T00:00:00Z"))
    assert refused.value.exit_code == 1
    fresh, _ = propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-03T01:00:00Z"))
    assert fresh.total == D("1100.00")
    approve_run(w.ws, w.policy, fresh.run_id, "F1", at("2026-10-03T02:00:00Z"))


def test_a_run_pays_a_period_only_once_it_has_ended() -> None:
    w = world()
    with pytest.raises(CosellError, match="has not ended at 2026-") as refused:
        propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-09-30T23:59:59Z"))
    assert refused.value.exit_code == 1 and "at 2026-09-30T23:59:59Z:" in str(refused.value)


def test_no_pay_write_is_dated_before_the_ledgers_last_one() -> None:
    """Found by fuzzing `payouts approve --now`: a run approved before it was proposed, its payments
    dated before the postings they settle, rewrote the ledger's past. Each write is refused, naming
    the last recorded instant, and records nothing; the same instant is fine."""
    w = world()
    w.deal("O3", "2000.00")
    w.attribute({"O3": ("none", [])})
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", at("2026-10-03T00:00:00Z"))
    with pytest.raises(
        CosellError, match="before the last recorded change, a ledger posting at 2026-10-03T00:00:00Z:"
    ):
        propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-02T00:00:00Z"))
    run, _ = propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-05T00:00:00Z"))
    with pytest.raises(CosellError, match="give --now 2026-10-05T00:00:00Z or later") as refused:
        approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-04T00:00:00Z"))
    assert refused.value.exit_code == 1
    assert get_run(w.ws.con, run.run_id).status == "proposed"
    assert read_entries(w.ws.con, "kind = 'payment'") == []
    w.deal("O4", "3000.00")
    w.attribute({"O4": ("none", [])})
    with pytest.raises(CosellError, match="posting 2026-10 at 2026-10-04T00:00:00Z is before"):
        post_period(w.ws, w.policy, PRICER, "2026-10", "fin", at("2026-10-04T00:00:00Z"))
    approved, _ = approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-05T00:00:00Z"))
    assert approved.approved_at == at("2026-10-05T00:00:00Z") >= approved.proposed_at


def test_a_negative_balance_is_carried_blocks_payouts_and_is_recovered_from_later_earnings() -> None:
    w = world()
    run, _ = propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-02T00:00:00Z"))
    approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-02T01:00:00Z"))
    # O2 turns out direct: P1's paid 500.00 is clawed back; U1 earns 2% -> 5% on it (250.00).
    w.attribute({"O2": ("none", [])}, kind="dispute", reason="dispute D-1: no partner involvement")
    post_period(w.ws, w.policy, PRICER, "2026-10", "fin", at("2026-10-15T00:00:00Z"))
    claw = read_entries(w.ws.con, "kind = 'clawback'")
    assert [(e.party_id, e.amount, e.reverses) for e in claw] == [("P1", D("-500.00"), "LE-00000002")]
    # P1 earns 300.00 on a new deal in October: still 200.00 short, blocked, shown with its amount.
    w.deal("O4", "3000.00", "2026-10-10T00:00:00Z")
    w.attribute({"O4": ("sourced", [("P1", "sourcer", "1.000000", "3000.00")])})
    post_period(w.ws, w.policy, PRICER, "2026-10", "fin", at("2026-10-20T00:00:00Z"))
    october, lines = propose_run(w.ws, w.policy, "2026-10", "ops", at("2026-11-01T00:00:00Z"))
    assert [(x.party_id, x.balance, x.pay, x.status) for x in lines] == [
        ("P1", D("-200.00"), D(0), "blocked"),
        ("U1", D("250.00"), D("250.00"), "pay"),
    ]
    assert (october.parties_blocked, october.blocked_total) == (1, D("-200.00"))
    approve_run(w.ws, w.policy, october.run_id, "F1", at("2026-11-01T01:00:00Z"))
    assert [x.status for x in run_lines(w.ws.con, october.run_id)] == ["blocked", "pay"]
    assert balances(read_entries(w.ws.con))[("partner", "P1")] == D("-200.00")  # carried, never dropped
    # November: 500.00 more recovers the 200.00 and pays 300.00.
    w.deal("O5", "5000.00", "2026-11-10T00:00:00Z")
    w.attribute({"O5": ("sourced", [("P1", "sourcer", "1.000000", "5000.00")])})
    post_period(w.ws, w.policy, PRICER, "2026-11", "fin", at("2026-11-20T00:00:00Z"))
    _, lines = propose_run(w.ws, w.policy, "2026-11", "ops", at("2026-12-01T00:00:00Z"))
    assert [(x.party_id, x.pay) for x in lines] == [("P1", D("300.00"))]


def test_a_run_whose_amounts_do_not_fit_the_ledger_is_refused_by_name() -> None:
    """Found by fuzzing plan amounts: two earnings at the largest flat fee a plan may give left a
    partner's balance over 14 integer digits, and proposing the run stopped on an internal
    DECIMAL(18,4) conversion error. It is refused naming the party and amount; nothing is
    recorded."""
    w = world()
    w.plan('[[rules]]\nid = "all"\nflat = 99999999999999.99\n', "2026-10-01T00:00:00Z")
    w.deal("O3", "1.00")
    w.deal("O4", "1.00")
    w.attribute({
        "O3": ("sourced", [("P1", "sourcer", "1.000000", "1.00")]),
        "O4": ("sourced", [("P1", "sourcer", "1.000000", "1.00")]),
    })  # fmt: skip
    post_period(w.ws, w.policy, PlanSetPricer(load_plan_set(w.ws.con)), "2026-09", "fin",
                at("2026-10-01T01:00:00Z"))  # fmt: skip
    with pytest.raises(CosellError, match=r"^a payout run for 2026-09 cannot be recorded: partner P1 "
                       r"[0-9]{3}(,[0-9]{3}){4}\.[0-9]{2} USD") as refused:  # fmt: skip
        propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-02T00:00:00Z"))
    assert refused.value.exit_code == 1 and "the total paid" in str(refused.value)
    assert list_runs(w.ws.con) == []


def test_the_ledger_is_read_and_written_only_in_its_own_currency() -> None:
    """Found by fuzzing `payouts run --policy` with another workspace_currency: a run over a USD
    ledger was recorded in EUR (USD balances labelled EUR, and approving would post EUR payments),
    and a statement printed USD entries "in EUR". Posting, proposing, approving and statements
    are refused naming both currencies; nothing is recorded."""
    w = world()  # posted in USD
    euro = parse_policy('workspace_currency = "EUR"\n')
    wrong = r"^the ledger is in USD but the policy's workspace_currency is EUR"
    with pytest.raises(CosellError, match=wrong):
        propose_run(w.ws, euro, "2026-09", "ops", at("2026-10-02T00:00:00Z"))
    assert list_runs(w.ws.con) == []
    with pytest.raises(CosellError, match=wrong):
        post_period(w.ws, euro, PRICER, "2026-10", "fin", at("2026-10-02T00:00:00Z"))
    with pytest.raises(CosellError, match=wrong):
        statement(w.ws.con, "partner", "P1", "2026-09", euro.workspace_currency)
    run, _ = propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-02T00:00:00Z"))
    with pytest.raises(CosellError, match=wrong) as refused:
        approve_run(w.ws, euro, run.run_id, "F1", at("2026-10-03T00:00:00Z"))
    assert refused.value.exit_code == 1
    assert read_entries(w.ws.con, "kind = 'payment'") == []
    assert {e.currency for e in read_entries(w.ws.con)} == {"USD"}


def test_a_run_does_not_pay_an_earning_a_later_period_already_reversed() -> None:
    """Found by fuzzing `payouts run`/`approve` after posting the next month: September's run paid
    P1's 500.00 on O2 although October had already reversed it as *unpaid*, so a reversal stood
    for money that had left (a clawback, SPEC section 6). The run is refused, at proposal and at
    approval, naming both entries; a run for October pays September too, net of the reversal."""
    w = world()
    september, _ = propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-02T00:00:00Z"))
    w.attribute({"O2": ("none", [])}, kind="dispute", reason="dispute D-1: no partner involvement")
    post_period(w.ws, w.policy, PRICER, "2026-10", "fin", at("2026-10-15T00:00:00Z"))
    (rev,) = read_entries(w.ws.con, "kind = 'reversal'")
    assert (rev.party_id, rev.amount, rev.period, rev.reverses) == (
        "P1",
        D("-500.00"),
        "2026-10",
        "LE-00000002",
    )
    refusal = f"would pay partner P1 for LE-00000002 \\(2026-09\\), which {rev.entry_id} in 2026-10 already"
    with pytest.raises(CosellError, match=refusal) as refused:
        approve_run(w.ws, w.policy, september.run_id, "F1", at("2026-10-16T00:00:00Z"))
    assert refused.value.exit_code == 1
    with pytest.raises(CosellError, match="pay 2026-10 instead"):
        propose_run(w.ws, w.policy, "2026-09", "ops", at("2026-10-16T00:00:00Z"))
    assert read_entries(w.ws.con, "kind = 'payment'") == [] and len(list_runs(w.ws.con)) == 1
    october, lines = propose_run(w.ws, w.policy, "2026-10", "ops", at("2026-11-01T00:00:00Z"))
    assert [(x.party_id, x.pay, x.status) for x in lines] == [("U1", D("750.00"), "pay")]
    approve_run(w.ws, w.policy, october.run_id, "F1", at("2026-11-01T01:00:00Z"))
    assert balances(read_entries(w.ws.con)) == {("partner", "P1"): D(0), ("rep", "U1"): D(0)}
