"""``cosell payouts`` through the real typer app: post, run, approve, list, ledger, statement."""

from __future__ import annotations

import csv
import io
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.pay.plan_parse import example_plan_text
from cosell.store.workspace import open_workspace
from payouts_args import payouts_args

sys.path.insert(0, str(Path(__file__).parent))
from ledger_support import PayWorld

runner = CliRunner()


@pytest.fixture()
def ws_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COSELL_NOW", "2026-10-01T06:00:00Z")
    # The workspace has users, so whoever posts or proposes must be one with a pay role.
    monkeypatch.setenv("COSELL_USER", "ops")
    path = str(tmp_path / "ws.duckdb")
    w = PayWorld(ws=open_workspace(path))
    w.partner("P1", "referral", "gold")
    w.user("U1")
    w.user("F1", "finance")
    w.user("ops", "partner_ops")
    w.deal("O1", "10000.00")  # sourced by P1: 12% = 1,200.00; rep 6% = 600.00 (example plan)
    w.deal("O2", "3000.00")  # direct: rep 10% = 300.00
    w.attribute({"O1": ("sourced", [("P1", "sourcer", "1.000000", "10000.00")]), "O2": ("none", [])})
    w.ws.close()
    plan = tmp_path / "plan.toml"
    plan.write_text(example_plan_text())
    result = runner.invoke(
        app, ["plans", "load", "--reason", "new plan year", str(plan), "--workspace", path, "--by", "ops"]
    )
    assert result.exit_code == 0, result.output
    return path


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def payouts(
    action: str,
    workspace: str,
    *args: str,
    period: str | None = None,
    by: str | None = "ops",
    exit_code: int = 0,
) -> str:
    """``cosell payouts ACTION --reason "monthly close" [--period P] --workspace W [--by USER] ARGS``
    (each money move says why, :func:`payouts_args`): its output, the command ending with ``exit_code``."""
    result = runner.invoke(app, payouts_args(action, workspace, *args, period=period, by=by))
    assert result.exit_code == exit_code, result.output
    return result.output


def test_post_run_approve_list_and_ledger(ws_path: str) -> None:
    out = payouts("post", ws_path, period="2026-09")
    assert "3 entries posted (posting 1)" in out
    assert "won deal(s)" not in out  # counted in words a controller forwards: "2 won deals", "1 won deal"
    again = payouts("post", ws_path, period="2026-09")
    assert "0 entries posted (nothing to post)" in again
    ledger = json.loads(invoke("payouts", "ledger", "--workspace", ws_path, "--format", "json"))
    assert [(e["entry_id"], e["party_id"], e["rule_id"], e["amount"]) for e in ledger] == [
        ("LE-00000001", "P1", "referral-sourced-gold", "1200.00"),
        ("LE-00000002", "U1", "rep:sourced", "600.00"),
        ("LE-00000003", "U1", "rep:direct", "300.00"),
    ]
    assert (ledger[0]["posted_at"], ledger[0]["recorded_at"]) == (
        "2026-09-30T23:59:59.999999Z",
        "2026-10-01T06:00:00Z",
    )
    assert ledger[0]["by_user"] == "ops"
    run = payouts("run", ws_path, "--format", "csv", period="2026-09")
    # Plain amounts for machines (as payouts list and ledger), names, and what was recovered.
    assert list(csv.DictReader(io.StringIO(run))) == [
        {"party_kind": "partner", "party_id": "P1", "name": "P1", "balance": "1200.00", "recovered": "0.00",
         "pay": "1200.00", "status": "pay"},
        {"party_kind": "rep", "party_id": "U1", "name": "U1", "balance": "900.00", "recovered": "0.00",
         "pay": "900.00", "status": "pay"},
    ]  # fmt: skip
    refused = payouts("approve", ws_path, "PR-000001", by="U1", exit_code=1)
    assert "only a finance user approves" in refused
    approved = payouts("approve", ws_path, "PR-000001", by="F1")
    assert "run PR-000001 approved by F1: 2 payments, 2,100.00 USD" in approved
    runs = json.loads(invoke("payouts", "list", "--workspace", ws_path, "--format", "json"))
    assert [(r["run_id"], r["status"], r["approved_by"], r["total"]) for r in runs] == [
        ("PR-000001", "approved", "F1", "2100.00")
    ]
    rep = json.loads(invoke("payouts", "ledger", "--rep", "U1", "--period", "2026-09", "--workspace", ws_path,
                            "--format", "json"))  # fmt: skip
    assert [(e["kind"], e["amount"]) for e in rep] == [
        ("rep_commission", "600.00"), ("rep_commission", "300.00"), ("payment", "-900.00"),
    ]  # fmt: skip
    closed = runner.invoke(
        app, ["payouts", "post", "--reason", "monthly close", "--period", "2026-09", "--workspace", ws_path]
    )
    assert closed.exit_code == 1 and "paid and closed" in closed.output


def test_bad_usage_is_exit_2(ws_path: str) -> None:
    for args in (
        ["payouts", "post", "--reason", "monthly close", "--period", "2026-Q3", "--workspace", ws_path],
        ["payouts", "post", "--reason", "monthly close", "--period", "September", "--workspace", ws_path],
        ["payouts", "statement", "--period", "2026-09", "--workspace", ws_path],
        [
            "payouts",
            "statement",
            "--period",
            "2026-09",
            "--partner",
            "P1",
            "--rep",
            "U1",
            "--workspace",
            ws_path,
        ],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
    # A label that is no month says which option it came from, as the reports' --period does.
    # A statement covers a month or a quarter; postings a month only, which is what they say.
    for command, said in (
        (["post", "--reason", "monthly close"], "a month"),
        (["statement", "--partner", "P1"], "a period"),
    ):
        result = runner.invoke(app, ["payouts", *command, "--period", "2026-13", "--workspace", ws_path])
        assert result.exit_code == 2 and f"error: --period: '2026-13' is not {said}" in result.output, (
            result.output
        )
    missing = runner.invoke(
        app,
        [
            "payouts",
            "approve",
            "--reason",
            "monthly close",
            "PR-000042",
            "--by",
            "F1",
            "--workspace",
            ws_path,
        ],
    )
    assert missing.exit_code == 1 and "no payout run PR-000042" in missing.output


def test_statement_in_every_format(ws_path: str, tmp_path: Path) -> None:
    payouts("post", ws_path, period="2026-09", by=None)
    table = invoke("payouts", "statement", "--partner", "P1", "--period", "2026-09", "--workspace", ws_path)
    assert "Partner statement: P1 (P1)" in table and "1,200.00" in table
    # The period's first and last days, as the reports write a period (it said "to 2026-10-01, exclusive").
    assert "Period 2026-09 (2026-09-01 to 2026-09-30), in USD" in table
    doc = json.loads(
        invoke(
            "payouts",
            "statement",
            "--partner",
            "P1",
            "--period",
            "2026-09",
            "--workspace",
            ws_path,
            "-f",
            "json",
        )
    )
    text = json.dumps(doc)
    assert "closing_balance" in text and "referral-sourced-gold" in text and "LE-00000001" in text
    csv_text = invoke(
        "payouts", "statement", "--rep", "U1", "--period", "2026-09", "--workspace", ws_path, "-f", "csv"
    )
    assert "rep:sourced" in csv_text and "rep:direct" in csv_text
    for fmt, magic in (("xlsx", b"PK"), ("pdf", b"%PDF"), ("html", b"<!")):
        out = tmp_path / f"statement.{fmt}"
        invoke("payouts", "statement", "--partner", "P1", "--period", "2026-09", "--workspace", ws_path,
               "-f", fmt, "--out", str(out))  # fmt: skip
        assert out.read_bytes()[:4].upper().startswith(magic.upper()), fmt


def test_a_statement_file_without_out_is_named_after_the_party_and_period(
    ws_path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    payouts("post", ws_path, period="2026-09", by=None)
    monkeypatch.chdir(tmp_path)
    said = invoke(
        "payouts", "statement", "--rep", "U1", "--period", "2026-09", "--workspace", ws_path, "-f", "pdf"
    )
    assert "wrote cosell-statement-U1-2026-09.pdf" in said
    assert (tmp_path / "cosell-statement-U1-2026-09.pdf").read_bytes().startswith(b"%PDF")
    invoke("payouts", "statement", "--rep", "U1", "--period", "2026-09", "--workspace", ws_path, "-f", "xlsx",
           "-o", "u1.xlsx")  # fmt: skip
    assert (tmp_path / "u1.xlsx").read_bytes().startswith(b"PK")


def test_a_rep_may_not_post_or_propose_and_an_unknown_user_is_named(ws_path: str) -> None:
    for args in (["payouts", "post", "--reason", "close"], ["payouts", "run", "--reason", "close"]):
        rep = runner.invoke(app, [*args, "--period", "2026-09", "--workspace", ws_path, "--by", "U1"])
        assert rep.exit_code == 1 and "U1 has the role ae" in rep.output, rep.output
        unknown = runner.invoke(app, [*args, "--period", "2026-09", "--workspace", ws_path, "--by", "F2"])
        assert unknown.exit_code == 1 and "no user F2" in unknown.output
    ledger = json.loads(invoke("payouts", "ledger", "--workspace", ws_path, "--format", "json"))
    assert ledger == []  # nothing was posted by the refused commands


@pytest.fixture()
def recovered_path(tmp_path: Path) -> str:
    """The story of test_recovery: P1 blocked by PR-000002 and PR-000003, recovered in PR-000004."""
    from test_recovery import world

    path = tmp_path / "recovered.duckdb"
    world(path=path).ws.close()
    return str(path)


def test_payouts_show_lists_the_parties_amounts_and_blocked_parties(recovered_path: str) -> None:
    table = invoke("payouts", "show", "PR-000003", "--workspace", recovered_path)
    assert "Payout run PR-000003 for 2026-11: approved 2026-12-01T08:00:00Z by F1" in table
    assert (
        "0 part(ies) 0.00 USD; 1 blocked, -400.00 USD carried; 600.00 USD recovered from carried balances"
        in table
    )
    assert "BLOCKED: partner P1 (P1): balance -400.00 USD carried until later earnings recover it." in table
    assert (
        "BLOCKED" in table.split("Payout run PR-000003")[2]
    )  # the party's row in the table, not only the line
    doc = json.loads(
        invoke("payouts", "show", "PR-000002", "--workspace", recovered_path, "--format", "json")
    )
    assert (doc["run_id"], doc["period"], doc["status"], doc["approved_by"], doc["total"], doc["blocked_total"]) == (
        "PR-000002", "2026-10", "approved", "F1", "500.00", "-1000.00",
    )  # fmt: skip
    assert doc["parties"] == [
        {"party_kind": "partner", "party_id": "P1", "name": "P1", "balance": "-1000.00", "recovered": "0.00",
         "pay": "0.00", "status": "blocked"},
        {"party_kind": "rep", "party_id": "U1", "name": "U1", "balance": "500.00", "recovered": "0.00",
         "pay": "500.00", "status": "pay"},
    ]  # fmt: skip
    assert doc["blocked"] == [
        {"party_kind": "partner", "party_id": "P1", "name": "P1", "balance": "-1000.00"}
    ]
    rows = list(csv.DictReader(io.StringIO(invoke("payouts", "show", "PR-000004", "--workspace", recovered_path,
                                                  "--format", "csv"))))  # fmt: skip
    assert rows == [
        {"run_id": "PR-000004", "party_kind": "partner", "party_id": "P1", "name": "P1", "balance": "600.00",
         "recovered": "400.00", "pay": "600.00", "status": "pay"},
    ]  # fmt: skip
    missing = runner.invoke(app, ["payouts", "show", "PR-000042", "--workspace", recovered_path])
    assert missing.exit_code == 1 and "no payout run PR-000042" in missing.output


def test_the_statement_command_shows_the_recovery_and_the_blocked_run(recovered_path: str) -> None:
    doc = json.loads(invoke("payouts", "statement", "--partner", "P1", "--period", "2026-11", "--workspace",
                            recovered_path, "-f", "json"))  # fmt: skip
    earnings = doc["sections"]["summary"]["figures"]["earnings"]
    assert (earnings["value"], earnings["beside"]["recovered_from_carried_balance"]["value"]) == (
        "600.00",
        "600.00",
    )
    assert doc["alerts"]["payouts_blocked"]["raised"] is True
    assert doc["alerts"]["payouts_blocked"]["text"].startswith(
        "payout run PR-000003 (approved) pays this partner"
    )
    table = invoke(
        "payouts", "statement", "--partner", "P1", "--period", "2026-11", "--workspace", recovered_path
    )
    assert "Payouts blocked:" in table and "Negative closing balance:" in table


def test_amounts_keep_the_minor_unit_of_a_workspace_currency_that_is_not_two_digits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KWD has three decimals: 12% of 10,000.125 KWD is 1,200.015, never shown as 1,200.02 (a mil
    off); JPY has none."""
    monkeypatch.setenv("COSELL_NOW", "2026-10-01T06:00:00Z")
    for currency, amount, partner, rep in (
        ("KWD", "10000.125", "1200.015", "600.008"),
        ("JPY", "10005", "1201", "600"),
    ):
        path = str(tmp_path / f"{currency}.duckdb")
        w = PayWorld(ws=open_workspace(path))
        w.partner("P1", "referral", "gold")
        w.user("U1")
        w.user("F1", "finance")
        w.user("ops", "partner_ops")  # proposes: who proposes a run does not approve it
        w.deal("O1", amount, currency=currency)
        w.fx(currency, "2026-09", "1")
        w.attribute({"O1": ("sourced", [("P1", "sourcer", "1.000000", amount)])})
        w.ws.close()
        policy = tmp_path / f"{currency}.toml"
        policy.write_text(f'workspace_currency = "{currency}"\n', encoding="utf-8")
        plan = tmp_path / f"{currency}-plan.toml"
        plan.write_text(example_plan_text().replace('currency = "USD"', f'currency = "{currency}"'))
        common = ("--workspace", path, "--policy", str(policy))
        invoke("plans", "load", "--reason", "new plan year", str(plan), *common, "--by", "F1")
        posted = invoke(
            "payouts", "post", "--reason", "monthly close", "--period", "2026-09", *common, "--by", "F1"
        )
        assert f"{Decimal(partner):,}" in posted, posted
        ledger = json.loads(invoke("payouts", "ledger", "--workspace", path, "--format", "json"))
        assert [e["amount"] for e in ledger] == [partner, rep]
        run = json.loads(payouts("run", path, "--policy", str(policy), "-f", "json", period="2026-09"))
        assert [(p["balance"], p["pay"]) for p in run] == [(partner, partner), (rep, rep)]
        total = str(Decimal(partner) + Decimal(rep))
        approved = invoke(
            "payouts", "approve", "--reason", "monthly close", "PR-000001", *common, "--by", "F1"
        )
        assert f"{Decimal(total):,} {currency}" in approved, approved
        shown = json.loads(invoke("payouts", "show", "PR-000001", "--workspace", path, "-f", "json"))
        assert (shown["total"], shown["recovered_total"]) == (total, str(Decimal(0).quantize(Decimal(rep))))
        runs = json.loads(invoke("payouts", "list", "--workspace", path, "--format", "json"))
        assert [r["total"] for r in runs] == [total]


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (
            "2026-9",
            "--period: '2026-9' is not a month (ledger entries are in months; a month is written 2026-08)",
        ),
        (
            "Sept",
            "--period: 'Sept' is not a month (ledger entries are in months; a month is written 2026-08)",
        ),
        ("2026-Q3", "ledger entries are in months, not a quarter: 2026-Q3"),
        # A month, of a year cosell does not take: said so, not "not a month".
        ("9999-12", "--period: '9999-12' is outside the years 1900 to 2999 (in UTC) that cosell supports"),
    ],
)
def test_ledger_refuses_a_period_that_is_not_a_month(ws_path: str, period: str, message: str) -> None:
    """Found by fuzzing `payouts ledger --period`: a typo printed an empty ledger with exit 0, as
    if the month had no entries; it is now a usage error naming the option (as post, run and
    statement do)."""
    payouts("post", ws_path, period="2026-09", by=None)
    assert json.loads(
        invoke("payouts", "ledger", "--period", "2026-09", "--workspace", ws_path, "-f", "json")
    )
    result = runner.invoke(app, ["payouts", "ledger", "--period", period, "--workspace", ws_path])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_who_proposed_a_run_does_not_approve_it(ws_path: str) -> None:
    ws = open_workspace(ws_path)  # a second finance user
    try:
        ws.con.execute(
            "INSERT INTO users (user_id, name, role, _row_hash, _valid_from, _import_id) "
            "VALUES ('F2', 'F2', 'finance', 'h', '2024-01-01T00:00:00Z', 99)"
        )
    finally:
        ws.close()
    payouts("post", ws_path, period="2026-09", by="F1")
    payouts("run", ws_path, period="2026-09", by="F1")
    ledger = invoke("payouts", "ledger", "--workspace", ws_path, "--format", "json")
    refused = payouts("approve", ws_path, "PR-000001", by="F1", exit_code=1)
    said = " ".join(refused.split())
    assert "run PR-000001 was proposed by F1" in said and "four eyes" in said
    # Nothing recorded: no payment, the run still proposed.
    assert invoke("payouts", "ledger", "--workspace", ws_path, "--format", "json") == ledger
    runs = json.loads(invoke("payouts", "list", "--workspace", ws_path, "--format", "json"))
    assert [(r["status"], r["approved_by"]) for r in runs] == [("proposed", "")]
    approved = payouts("approve", ws_path, "PR-000001", by="F2")
    assert "run PR-000001 approved by F2: 2 payments" in approved


def test_a_user_who_may_not_approve_learns_nothing_of_the_run(ws_path: str) -> None:
    """A rep (or a partner user) asking to approve a run is refused for its role before the run is
    read: the same answer for an approved run, a proposed one and one that does not exist, never
    the run's status or who approved it (found by fuzzing payouts approve as a rep)."""
    payouts("post", ws_path, period="2026-09")
    payouts("run", ws_path, period="2026-09")
    payouts("approve", ws_path, "PR-000001", by="F1")
    said = []
    for run_id in ("PR-000001", "PR-999999"):
        refused = runner.invoke(
            app,
            ["payouts", "approve", "--reason", "monthly close", run_id, "--by", "U1", "--workspace", ws_path],
        )
        assert refused.exit_code == 1
        said.append(refused.output)
    assert said == ["error: only a finance user approves payout runs: U1 has role ae\n"] * 2


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_moving_money_records_why_or_is_refused(ws_path: str, blank: str | None) -> None:
    """Found by fuzzing ``payouts post/run/approve`` without ``--reason``: a posting, a run and an
    approval were recorded with an empty why (SPEC section 9). Each now refuses a missing or blank
    ``--reason`` as bad usage (exit 2, naming the option) and records nothing."""
    why = [] if blank is None else ["--reason", blank]
    common = ["--workspace", ws_path]
    for args in (
        ["post", "--period", "2026-09", "--by", "ops"],
        ["run", "--period", "2026-09", "--by", "ops"],
    ):
        refused = runner.invoke(app, ["payouts", *args, *why, *common])
        assert refused.exit_code == 2 and "--reason" in refused.output, refused.output
    assert json.loads(invoke("payouts", "ledger", *common, "--format", "json")) == []
    assert json.loads(invoke("payouts", "list", *common, "--format", "json")) == []
    invoke("payouts", "post", "--period", "2026-09", "--by", "ops", "--reason", "September close", *common)
    invoke("payouts", "run", "--period", "2026-09", "--by", "ops", "--reason", "September close", *common)
    refused = runner.invoke(app, ["payouts", "approve", "PR-000001", "--by", "F1", *why, *common])
    assert refused.exit_code == 2 and "--reason" in refused.output, refused.output
    shown = json.loads(invoke("payouts", "show", "PR-000001", *common, "--format", "json"))
    assert shown["status"] == "proposed" and shown["reason"] == "September close"
    entries = json.loads(invoke("payouts", "ledger", *common, "--format", "json"))
    assert entries and all("September close" in e["reason"] for e in entries)
    invoke("payouts", "approve", "PR-000001", "--by", "F1", "--reason", "checked against the GL", *common)
    table = invoke("payouts", "show", "PR-000001", *common)
    assert '("checked against the GL")' in table and '("September close")' in table, table
    listed = json.loads(invoke("payouts", "list", *common, "--format", "json"))
    assert [(r["reason"], r["approval_reason"]) for r in listed] == [
        ("September close", "checked against the GL")
    ]
