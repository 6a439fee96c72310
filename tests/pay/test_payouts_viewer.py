"""Who may read which pay (SPEC section 9) through ``cosell payouts ... --by USER``: a partner user
its own partner's statement and ledger lines, a rep its own, finance and partner_ops everything."""

from __future__ import annotations

import json
import sys
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

# Each party's amount is its own: 12% and 6% of 10,000.00 (P1, U1), of 7,000.00 (P2, U2).
OWN = {"P1": "1,200.00", "U1": "600.00"}
OTHERS = {"P2": "840.00", "U2": "420.00"}


@pytest.fixture()
def ws_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COSELL_NOW", "2026-10-01T06:00:00Z")
    monkeypatch.delenv("COSELL_USER", raising=False)
    path = str(tmp_path / "ws.duckdb")
    w = PayWorld(ws=open_workspace(path))
    for partner_id, name in (("P1", "Alpha Consulting"), ("P2", "Apex Partners")):
        w._insert(
            "partners",
            {"partner_id": partner_id, "name": name, "partner_type": "referral", "program_tier": "gold"},
        )
    w._insert("users", {"user_id": "pu1", "name": "Pat", "role": "partner", "partner_id": "P1"})
    w.user("U1")
    w.user("U2", "sdr")
    w.user("F1", "finance")
    w.user("ops", "partner_ops")
    w.deal("O1", "10000.00", owner="U1")
    w.deal("O2", "7000.00", owner="U2", account="A2")
    w.attribute(
        {
            "O1": ("sourced", [("P1", "sourcer", "1.000000", "10000.00")]),
            "O2": ("sourced", [("P2", "sourcer", "1.000000", "7000.00")]),
        }
    )
    w.ws.close()
    plan = tmp_path / "plan.toml"
    plan.write_text(example_plan_text())
    invoke("plans", "load", "--reason", "new plan year", str(plan), "--workspace", path, "--by", "ops")
    # The posting's reason names the other partner: a partner user must not read it in its lines.
    invoke(
        "payouts",
        "post",
        "--period",
        "2026-09",
        "--workspace",
        path,
        "--by",
        "ops",
        "--reason",
        "Apex Partners (P2) ok",
    )
    return path


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def refused(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code != 0, result.output
    return " ".join(result.output.split())


def statement(ws_path: str, *party: str, by: str | None = None, fmt: str = "table") -> list[str]:
    return [
        "payouts", "statement", *party, "--period", "2026-09", "--workspace", ws_path, "-f", fmt,
        *(["--by", by] if by else []),
    ]  # fmt: skip


def test_a_partner_user_reads_its_own_partners_statement(ws_path: str) -> None:
    out = invoke(*statement(ws_path, "--partner", "P1", by="pu1"))
    assert "Partner statement: Alpha Consulting (P1)" in out and OWN["P1"] in out
    data = json.loads(invoke(*statement(ws_path, "--partner", "P1", by="pu1", fmt="json")))
    text = json.dumps(data)
    assert "Apex" not in text and "P2" not in text  # the reason naming P2 is hidden


def test_another_partners_statement_is_refused_as_one_that_does_not_exist(ws_path: str) -> None:
    other = refused(*statement(ws_path, "--partner", "P2", by="pu1"))
    unknown = refused(*statement(ws_path, "--partner", "P9", by="pu1"))
    assert other == unknown.replace("P9", "P2")
    assert "no partner P2" in other and "Apex" not in other and "840" not in other
    # A rep's statement, or another rep's to a rep, is refused alike.
    assert refused(*statement(ws_path, "--rep", "U1", by="pu1")) == refused(
        *statement(ws_path, "--rep", "U7", by="pu1")
    ).replace("U7", "U1")
    assert "no user U2" in refused(*statement(ws_path, "--rep", "U2", by="U1"))


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_partner_users_ledger_holds_no_other_party(ws_path: str, fmt: str) -> None:
    for party in ([], ["--partner", "P2"], ["--rep", "U1"]):
        out = invoke(
            "payouts",
            "ledger",
            *party,
            "--workspace",
            ws_path,
            "-f",
            fmt,
            "--by",
            "pu1",
            "--period",
            "2026-09",
        )
        for hidden in ("P2", "Apex", "U1", "U2", *OTHERS.values(), OWN["U1"], "840", "420", "600"):
            assert hidden not in out, (party, hidden)
    out = invoke("payouts", "ledger", "--workspace", ws_path, "-f", "json", "--by", "pu1")
    assert [(e["party_id"], e["amount"]) for e in json.loads(out)] == [("P1", "1200.00")]


def test_a_rep_reads_its_own_lines_and_finance_all(ws_path: str) -> None:
    rep = json.loads(invoke("payouts", "ledger", "--workspace", ws_path, "-f", "json", "--by", "U2"))
    assert [(e["party_id"], e["amount"]) for e in rep] == [("U2", "420.00")]
    assert "420.00" in invoke(*statement(ws_path, "--rep", "U2", by="U2"))
    for reader in ("F1", "ops", None):
        every = json.loads(
            invoke(
                "payouts",
                "ledger",
                "--workspace",
                ws_path,
                "-f",
                "json",
                *(["--by", reader] if reader else []),
            )
        )
        assert sorted(e["party_id"] for e in every) == ["P1", "P2", "U1", "U2"]
        assert "840.00" in invoke(*statement(ws_path, "--partner", "P2", by=reader))


def test_payout_runs_are_refused_to_a_party_reader_and_an_unknown_reader_names_by(ws_path: str) -> None:
    invoke(*payouts_args("run", ws_path, period="2026-09", by="ops"))
    for command in (["list"], ["show", "PR-000001"]):
        assert "reads only its own pay" in refused("payouts", *command, "--workspace", ws_path, "--by", "pu1")
        assert "3,060.00" in invoke("payouts", *command, "--workspace", ws_path, "--by", "F1")  # every party
    assert "--by (or $COSELL_USER): no user nobody" in refused(
        "payouts", "ledger", "--workspace", ws_path, "--by", "nobody"
    )


def test_a_user_without_a_role_reads_no_pay(ws_path: str, tmp_path: Path) -> None:
    """A user imported without a role is none of those who read every party's pay (finance,
    partner_ops, partner_manager, admin): its ledger and statements are refused naming --by, not
    every party's amounts."""
    from cosell.data.load import import_canonical

    folder = tmp_path / "users"
    folder.mkdir()
    (folder / "users.csv").write_text("user_id,name,email,role,partner_id\nnr,Nora,nora@ourco.com,,\n")
    w = open_workspace(ws_path)
    try:
        import_canonical(w, folder, partial=True)
    finally:
        w.close()
    message = (
        "--by: nr has the role (none): only a partner user, a rep (ae, sdr) or a user with role finance, "
        "partner_ops, partner_manager, admin reads pay"
    )
    assert message in refused("payouts", "ledger", "--workspace", ws_path, "--by", "nr")
    assert message in refused(*statement(ws_path, "--partner", "P2", by="nr"))
    assert message in refused("payouts", "list", "--workspace", ws_path, "--by", "nr")
