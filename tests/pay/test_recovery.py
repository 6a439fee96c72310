"""A carried negative balance recovered from later earnings: the statement and the payout run show a
"recovered from carried balance" line with the right amount; blocked parties stand out.

Hand-computed with ledger_support.simple_price (P1 is paid 10% of what it sources):

- September: P1 sources O1 (10,000.00): 1,000.00, paid by PR-000001.
- October: a fix finds O1 direct: P1's 1,000.00 is clawed back: balance -1,000.00. U1, O1's rep,
  now earns 5% (500.00). PR-000002 blocks P1 (-1,000.00 carried) and pays U1 500.00.
- November: P1 sources O4 (6,000.00): +600.00, recovers 600.00 of the 1,000.00; balance -400.00,
  still blocked by PR-000003.
- December: P1 sources O5 (10,000.00): +1,000.00, recovers the last 400.00; PR-000004 pays 600.00.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

from cosell.pay.payouts import approve_run, get_run, propose_run, recovered_amount, run_parties
from cosell.pay.posting import post_period
from cosell.pay.statements import statement
from cosell.store.workspace import open_workspace

sys.path.insert(0, str(Path(__file__).parent))
from ledger_support import PRICER, PayWorld, at

D = Decimal


def sourced(amount: str) -> tuple[str, list[tuple[str, str, str, str]]]:
    return ("sourced", [("P1", "sourcer", "1.000000", amount)])


def month(w: PayWorld, period: str, posted: str) -> str:
    """Post ``period``, propose its run an hour later and approve it: the run's id."""
    post_period(w.ws, w.policy, PRICER, period, "fin", at(posted))
    run, _ = propose_run(w.ws, w.policy, period, "fin", at(posted.replace("T06", "T07")))
    approve_run(w.ws, w.policy, run.run_id, "F1", at(posted.replace("T06", "T08")))
    return run.run_id


def world(december_deal: str = "10000.00", path: Path | None = None) -> PayWorld:
    w = PayWorld() if path is None else PayWorld(ws=open_workspace(path))
    w.partner("P1")
    w.user("U1")
    w.user("F1", "finance")
    w.deal("O1", "10000.00")
    w.attribute({"O1": sourced("10000.00")})
    month(w, "2026-09", "2026-10-01T06:00:00Z")
    w.attribute({"O1": ("none", [])}, kind="fix", reason="direct first", source="finding:F-1")
    month(w, "2026-10", "2026-11-01T06:00:00Z")
    w.deal("O4", "6000.00", "2026-11-10T00:00:00Z")
    w.attribute({"O4": sourced("6000.00")})
    month(w, "2026-11", "2026-12-01T06:00:00Z")
    w.deal("O5", december_deal, "2026-12-10T00:00:00Z")
    w.attribute({"O5": sourced(december_deal)})
    month(w, "2026-12", "2027-01-01T06:00:00Z")
    return w


def figures(w: PayWorld, period: str) -> dict[str, Decimal | None]:
    report = statement(w.ws.con, "partner", "P1", period, "USD")
    out = {}
    for f in report.sections[0].figures:
        out[f.key] = f.value
        out.update({b.key: b.value for b in f.beside})
    return out


def parties(w: PayWorld, run_id: str) -> list[tuple[str, Decimal, Decimal, Decimal, str]]:
    return [
        (p.party_id, p.balance, p.recovered, p.pay, p.status)
        for p in run_parties(w.ws.con, get_run(w.ws.con, run_id))
    ]


def test_the_statement_shows_what_each_month_recovered_of_the_carried_balance() -> None:
    w = world()
    october = figures(w, "2026-10")
    assert "recovered_from_carried_balance" not in october  # nothing was carried into October
    assert october["closing_balance"] == D("-1000.00")
    november = figures(w, "2026-11")
    assert (november["opening_balance"], november["earnings"], november["recovered_from_carried_balance"],
            november["closing_balance"]) == (D("-1000.00"), D("600.00"), D("600.00"), D("-400.00"))  # fmt: skip
    december = figures(w, "2026-12")
    assert (december["opening_balance"], december["earnings"], december["recovered_from_carried_balance"],
            december["payments"], december["closing_balance"]) == (
        D("-400.00"), D("1000.00"), D("400.00"), D("-600.00"), D("0.00"),
    )  # fmt: skip
    report = statement(w.ws.con, "partner", "P1", "2026-12", "USD")
    assert not report.raised  # paid, nothing carried: no alert
    beside = report.sections[0].figures[1].beside[0]
    assert (beside.label, beside.note) == (
        "Recovered from carried balance",
        "of the -400.00 USD carried into the period",
    )


def test_the_payout_runs_show_the_blocked_party_and_what_was_recovered() -> None:
    w = world()
    assert parties(w, "PR-000002") == [
        ("P1", D("-1000.00"), D(0), D(0), "blocked"),
        ("U1", D("500.00"), D(0), D("500.00"), "pay"),
    ]
    assert parties(w, "PR-000003") == [("P1", D("-400.00"), D("600.00"), D(0), "blocked")]
    assert parties(w, "PR-000004") == [("P1", D("600.00"), D("400.00"), D("600.00"), "pay")]


def test_a_balance_recovered_to_exactly_zero_is_listed_by_its_run() -> None:
    # December's deal is 4,000.00: P1 earns 400.00, its balance is 0.00, nothing to pay or carry.
    w = world(december_deal="4000.00")
    assert parties(w, "PR-000004") == [("P1", D("0.00"), D("400.00"), D(0), "recovered")]
    assert figures(w, "2026-12")["recovered_from_carried_balance"] == D("400.00")


def test_the_blocked_payout_is_a_line_of_the_statement_and_an_alert() -> None:
    w = world()
    report = statement(w.ws.con, "partner", "P1", "2026-11", "USD")
    payments = report.sections[2].table
    assert payments is not None
    assert [(r["payout_run_id"], r["status"], r["balance"], r["amount"]) for r in payments.rows] == [
        ("PR-000003", "blocked", D("-400.00"), D("0.00"))
    ]
    alerts = {a.key: a for a in report.alerts}
    assert alerts["payouts_blocked"].raised
    assert alerts["payouts_blocked"].text == (
        "payout run PR-000003 (approved) pays this partner nothing: its balance of -400.00 USD is carried; "
        "no payout run pays this partner until later earnings bring its balance above zero."
    )


def test_recovered_is_never_more_than_was_carried_nor_below_zero() -> None:
    for carried, balance, expected in (
        ("-900", "600", "900"), ("-900", "-400", "500"), ("-900", "-950", "0"), ("0", "500", "0"), ("-900", "0", "900"),
    ):  # fmt: skip
        assert recovered_amount(D(carried), D(balance)) == D(expected)
