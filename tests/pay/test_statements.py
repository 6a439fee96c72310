"""Statements: opening balance, traceable entries with reasons, payments, closing balance."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

from cosell.errors import NotFound, UsageError
from cosell.pay.payouts import approve_run, propose_run
from cosell.pay.posting import post_period
from cosell.pay.statements import statement

sys.path.insert(0, str(Path(__file__).parent))
from ledger_support import PRICER, PayWorld, at

D = Decimal


def world() -> PayWorld:
    """P1 sources O1 (1,000.00) and O2 (500.00) in September and is paid 1,500.00; in October a fix
    takes O1 away (a clawback of 1,000.00) and P1 influences O3 (100.00)."""
    w = PayWorld()
    w.partner("P1")
    w.user("U1")
    w.user("F1", "finance")
    w.deal("O1", "10000.00")
    w.deal("O2", "5000.00")
    w.deal("O3", "2000.00", "2026-10-10T00:00:00Z")
    w.attribute({
        "O1": ("sourced", [("P1", "sourcer", "1.000000", "10000.00")]),
        "O2": ("sourced", [("P1", "sourcer", "1.000000", "5000.00")]),
        "O3": ("influenced", [("P1", "influencer", "1.000000", "2000.00")]),
    })  # fmt: skip
    post_period(w.ws, w.policy, PRICER, "2026-09", "fin", at("2026-10-01T06:00:00Z"))
    run, _ = propose_run(w.ws, w.policy, "2026-09", "fin", at("2026-10-01T07:00:00Z"))
    approve_run(w.ws, w.policy, run.run_id, "F1", at("2026-10-01T08:00:00Z"))
    w.attribute({"O1": ("none", [])}, kind="fix", reason="direct engagement came first")
    post_period(w.ws, w.policy, PRICER, "2026-10", "fin", at("2026-11-01T06:00:00Z"))
    return w


def figures(report: object) -> dict[str, Decimal | None]:
    return {f.key: f.value for f in report.sections[0].figures}  # type: ignore[attr-defined]


def test_a_paid_month_opens_at_zero_earns_pays_and_closes_at_zero() -> None:
    report = statement(world().ws.con, "partner", "P1", "2026-09", "USD")
    assert figures(report) == {
        "opening_balance": D("0.00"), "earnings": D("1500.00"), "reversals": D("0.00"), "clawbacks": D("0.00"),
        "payments": D("-1500.00"), "closing_balance": D("0.00"),
    }  # fmt: skip
    assert report.key == "statement" and report.title == "Partner statement: P1 (P1)"
    entries = report.sections[1].table
    assert entries is not None
    assert [(r["opportunity_id"], r["kind"], r["rule_id"], r["plan_version"], r["attribution_version"], r["amount"])
            for r in entries.rows] == [
        ("O1", "payout", "sourcer-pct", "plan@1", 1, D("1000.00")),
        ("O2", "payout", "sourcer-pct", "plan@1", 1, D("500.00")),
    ]  # fmt: skip
    payments = report.sections[2].table
    assert payments is not None
    assert [(r["payout_run_id"], r["approved_by"], r["amount"]) for r in payments.rows] == [
        ("PR-000001", "F1", D("-1500.00"))
    ]
    assert "Period 2026-09 is paid and closed." in report.sections[0].notes


def test_the_next_month_shows_each_clawback_with_its_reason_and_carries_the_negative_balance() -> None:
    report = statement(world().ws.con, "partner", "P1", "2026-10", "USD")
    f = figures(report)
    assert f == {
        "opening_balance": D("0.00"), "earnings": D("100.00"), "reversals": D("0.00"), "clawbacks": D("-1000.00"),
        "payments": D("0.00"), "closing_balance": D("-900.00"),
    }  # fmt: skip
    table = report.sections[1].table
    assert table is not None
    claw = [r for r in table.rows if r["kind"] == "clawback (paid)"]
    assert len(claw) == 1
    assert (claw[0]["opportunity_id"], claw[0]["amount"], claw[0]["reverses"]) == (
        "O1",
        D("-1000.00"),
        "LE-00000001",
    )
    assert claw[0]["reason"] == "attribution changed: version 2 (fix: direct engagement came first)"
    # The negative closing balance stands out: a raised alert about the closing balance figure.
    alerts = {a.key: a for a in report.alerts}
    assert alerts["negative_closing_balance"].raised and alerts["payouts_blocked"].raised
    assert alerts["negative_closing_balance"].text.startswith(
        "the closing balance of -900.00 USD is below zero"
    )
    assert report.alert_figures == {"closing_balance"}
    assert "Period 2026-10 is open: entries may still be posted into it." in report.sections[0].notes
    # Columns every line is traced by, the deal's account, amount, currency and close beside its id.
    assert [c.key for c in table.columns][:13] == [
        "entry_id", "posted_at", "recorded_at", "opportunity_id", "account_name", "deal_amount", "deal_currency",
        "closed_on", "kind", "rule_id", "plan_version", "attribution_version", "amount",
    ]  # fmt: skip


def test_opening_plus_movements_is_closing_for_a_rep_across_months() -> None:
    w = world()
    previous = D(0)
    for month in ("2026-08", "2026-09", "2026-10", "2026-11"):
        f = figures(statement(w.ws.con, "rep", "U1", month, "USD"))
        assert f["opening_balance"] == previous
        movements = sum((f[k] or D(0)) for k in ("earnings", "reversals", "clawbacks", "payments"))
        assert f["opening_balance"] + movements == f["closing_balance"]  # type: ignore[operator]
        previous = f["closing_balance"]  # type: ignore[assignment]
    # U1: O1 2% of 10,000 less 1,000 -> 0; O2 0; O3 2% of 2,000 = 40.00; after the fix O1 5% = 500.00.
    assert previous == D("540.00")


def test_unknown_parties_and_quarters_are_refused() -> None:
    w = world()
    with pytest.raises(NotFound, match="no partner P9"):
        statement(w.ws.con, "partner", "P9", "2026-10", "USD")
    with pytest.raises(UsageError, match="quarter"):
        statement(w.ws.con, "partner", "P1", "2026-Q4", "USD")
    # A known partner with nothing posted gets an empty statement, not an error.
    w.partner("P5")
    assert figures(statement(w.ws.con, "partner", "P5", "2026-10", "USD"))["closing_balance"] == D("0.00")
