"""A deal's history: every version (batch, fix, dispute, a later batch) with who, when, why, policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.attribution.engine import attribute
from cosell.cli.app import app
from cosell.errors import NotFound
from cosell.hygiene.decisions import accept_findings
from cosell.hygiene.disputes import decide_dispute, open_dispute
from cosell.hygiene.history import deal_versions
from cosell.instants import parse_instant
from cosell.service.reconcile import reconcile_known as reconcile  # with the account overlap matched
from cosell.store.attribution_store import save_run

from .test_findings import AS_OF, POLICY, build_workspace, kinds_data

runner = CliRunner()


@pytest.fixture(scope="module")
def path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """O-OVC with four versions: the batch, an accepted fix, an accepted dispute, a later batch."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COSELL_NOW", "2026-11-01T06:00:00Z")
        tmp_path = tmp_path_factory.mktemp("history")
        ws = build_workspace(tmp_path / "ws.duckdb", kinds_data())
        reconcile(ws, POLICY, period="2026-10", as_of=AS_OF)
        accept_findings(ws, POLICY, ["OVC-O-OVC"], "U-OPS", "direct first", at=parse_instant("2026-11-02"))
        d = open_dispute(
            ws, "O-OVC", "U-P1", "we were there", "influenced/P1", at=parse_instant("2026-11-03")
        )
        decide_dispute(
            ws,
            POLICY,
            d.dispute_id,
            accept=True,
            by_user="U-PM",
            reason="fair",
            at=parse_instant("2026-11-04"),
        )
        later = parse_instant("2026-11-05")
        save_run(
            ws.con,
            attribute(ws.con, POLICY, later, POLICY.credit_model),
            "U-ADMIN",
            "month end",
            run_at=later,
        )
        ws.close()
    return tmp_path / "ws.duckdb"


def test_every_version_is_listed_with_who_when_why(path: Path) -> None:
    from cosell.store.workspace import open_workspace

    ws = open_workspace(path)
    entries = deal_versions(ws.con, "O-OVC")
    summary = [(e.run_id, e.kind, e.scope, e.by_user, e.reason, e.source, e.tier, e.rules) for e in entries]
    assert summary == [
        (1, "batch", "full", "test", "batch", "", "accelerated", "ACC DIRECT_FIRST"),
        (
            2,
            "fix",
            "partial",
            "U-OPS",
            "direct first",
            "finding:OVC-O-OVC",
            "accelerated",
            "ACC OVR DIRECT_FIRST",
        ),
        (3, "dispute", "partial", "U-PM", "fair", "dispute:D-000001", "influenced", "ACC OVR DIRECT_FIRST"),
        (4, "batch", "full", "U-ADMIN", "month end", "", "influenced", "ACC OVR DIRECT_FIRST"),
    ]
    days = ("2026-11-01", "2026-11-02", "2026-11-04", "2026-11-05")  # a dispute's version: its decision
    assert [e.run_at for e in entries] == [parse_instant(d) for d in days]
    assert {e.policy_version for e in entries} == {POLICY.version}
    assert [(c.partner_id, c.role, c.share, c.amount) for c in entries[-1].credits] == [
        ("P1", "influencer", "1.000000", "10000.00")
    ]
    with pytest.raises(NotFound, match=r"no opportunity O-OVX \(did you mean O-OVC\?\)"):
        deal_versions(ws.con, "O-OVX")
    ws.close()


def test_history_command(path: Path) -> None:
    result = runner.invoke(app, ["history", "O-OVC", "-w", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [v["kind"] for v in data] == ["batch", "fix", "dispute", "batch"]
    assert data[2]["source"] == "dispute:D-000001" and data[2]["by_user"] == "U-PM"
    text = runner.invoke(app, ["history", "O-OVC", "-w", str(path)])
    assert text.exit_code == 0
    assert "run 3 (dispute, partial) at 2026-11-04T00:00:00Z by U-PM" in text.output
    assert "why     fair (dispute:D-000001)" in text.output
    missing = runner.invoke(app, ["history", "O-NOPE", "-w", str(path)])
    assert missing.exit_code == 1 and "no opportunity O-NOPE" in missing.output


def test_a_known_deal_without_a_version(tmp_path: Path) -> None:
    ws = build_workspace(tmp_path / "ws.duckdb", kinds_data(), attributed=False)
    assert deal_versions(ws.con, "O-UPI") == []
    ws.close()
    result = runner.invoke(app, ["history", "O-UPI", "-w", str(tmp_path / "ws.duckdb")])
    assert result.exit_code == 0 and "no attribution version yet" in result.output


def test_a_long_reason_wraps_at_80_columns(tmp_path: Path) -> None:
    """Found by fuzzing ``dispute decide --reason``: the history printed the reason on one line of
    any width (a sentence, or a link to the evidence)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COSELL_NOW", "2026-11-01T06:00:00Z")
        ws = build_workspace(tmp_path / "ws.duckdb", kinds_data())
        d = open_dispute(ws, "O-OVC", "U-P1", "ours", "influenced/P1", at=parse_instant("2026-11-03"))
        url = "https://crm.example.com/" + "x" * 90
        reason = "the partner's introduction email predates our first contact, see " + url
        decide_dispute(ws, POLICY, d.dispute_id, accept=True, by_user="U-PM", reason=reason,
                       at=parse_instant("2026-11-04"))  # fmt: skip
        ws.close()
    text = runner.invoke(app, ["history", "O-OVC", "-w", str(tmp_path / "ws.duckdb")], env={"COLUMNS": "80"})
    assert text.exit_code == 0, text.output
    assert max(len(line) for line in text.output.splitlines()) <= 80
    assert "  why     the partner's introduction email predates" in text.output
    shown = "".join(line.strip() for line in text.output.splitlines())
    assert url + " (dispute:D-000001)" in shown
