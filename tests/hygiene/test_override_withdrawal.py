"""Withdrawing an override (SPEC section 4: an accepted fix or dispute is applied by every later
run "until it is withdrawn"): who may, the deal decided again without it, who, when and why on
record, runs known before it still applying it, and refusals that change nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cosell.attribution.engine import attribute
from cosell.cli.app import app
from cosell.errors import CosellError, NotAllowed, NotFound, UsageError
from cosell.hygiene.decisions import AlreadyDecided, withdraw
from cosell.hygiene.disputes import decide_dispute, open_dispute
from cosell.store.attribution_store import overrides
from cosell.store.review import ensure_review_schema
from cosell.store.versions import attribution_views
from cosell.store.workspace import Workspace

from .test_findings import POLICY, build_workspace, kinds_data

OPENED = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
DECIDED = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
WITHDRAWN = datetime(2026, 11, 4, 9, 0, tzinfo=UTC)
TABLES = ("attribution_overrides", "override_withdrawals", "attribution_runs", "attribution_changes")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The findings' workspace with one accepted dispute: O-DMM, sourced by P1 as computed, is
    overridden to influenced/P1 (OVR-000001)."""
    path = tmp_path_factory.mktemp("withdrawal") / "ws.duckdb"
    ws = build_workspace(path, kinds_data())
    open_dispute(ws, "O-DMM", "U-AE", "the partner only joined a call", "influenced/P1", at=OPENED)
    decide_dispute(ws, POLICY, "D-000001", accept=True, by_user="U-OPS", reason="call notes", at=DECIDED)
    ws.close()
    return path


def current(ws: Workspace, opp: str) -> tuple[Any, ...]:
    """The deal's current version: tier, partner, rules, its run's kind, and its credits."""
    attribution_views(ws.con)
    row = ws.con.execute(
        "SELECT a.tier, coalesce(a.primary_partner_id, ''), coalesce(a.rules, ''), r.kind, a.run_id "
        "FROM v_attribution a JOIN attribution_runs r USING (run_id) WHERE a.opportunity_id = ?",
        [opp],
    ).fetchone()
    assert row is not None
    credits = ws.con.execute(
        "SELECT partner_id, role, share, amount FROM credit_history WHERE run_id = ? AND opportunity_id = ? "
        "ORDER BY partner_id",
        [row[4], opp],
    ).fetchall()
    return (*row[:4], credits)


def of_run(ws: Workspace, run_id: int, opp: str) -> tuple[Any, ...]:
    row = ws.con.execute(
        "SELECT tier, coalesce(primary_partner_id, ''), coalesce(rules, '') FROM attribution_history "
        "WHERE run_id = ? AND opportunity_id = ?",
        [run_id, opp],
    ).fetchone()
    assert row is not None
    credits = ws.con.execute(
        "SELECT partner_id, role, share, amount FROM credit_history WHERE run_id = ? AND opportunity_id = ? "
        "ORDER BY partner_id",
        [run_id, opp],
    ).fetchall()
    return (*row, credits)


def snapshot(ws: Workspace) -> dict[str, list[tuple[object, ...]]]:
    ensure_review_schema(ws.con)
    return {t: sorted(ws.con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


def test_the_deal_is_decided_again_without_it_and_who_when_why_are_kept(ws: Workspace) -> None:
    overridden = current(ws, "O-DMM")
    assert overridden[:4] == ("influenced", "P1", "S3 OVR", "dispute"), overridden
    done = withdraw(
        ws.con, POLICY, "OVR-000001", by_user="U-PM", reason=" the call was not the partner's ", at=WITHDRAWN
    )
    o = done.override
    assert (o.status, o.withdrawn_at, o.withdrawn_by, o.withdrawn_reason) == (
        "withdrawn",
        WITHDRAWN,
        "U-PM",
        "the call was not the partner's",
    )
    now = current(ws, "O-DMM")
    assert now[3] == "withdrawal"
    # What the batch run decided before the override, tier, partner, rules and credits alike.
    assert now[:3] + now[4:] == of_run(ws, 1, "O-DMM")
    assert now[:3] == ("sourced", "P1", "S3")
    run = ws.con.execute(
        "SELECT kind, scope, by_user, reason, run_at FROM attribution_runs WHERE run_id = ?", [done.run_id]
    ).fetchone()
    assert run == ("withdrawal", "partial", "U-PM", "the call was not the partner's", WITHDRAWN)
    # Payouts adjust at the next posting, as they did when the dispute was accepted.
    change = ws.con.execute(
        "SELECT opportunity_id, run_id, source, by_user FROM attribution_changes WHERE source LIKE 'withdrawal:%'"
    ).fetchall()
    assert change == [("O-DMM", done.run_id, "withdrawal:OVR-000001", "U-PM")]
    [listed] = overrides(ws.con, "O-DMM")
    assert listed == o and listed.source == "dispute:D-000001" and listed.by_user == "U-OPS"


def test_a_run_known_before_the_withdrawal_still_applies_the_override(ws: Workspace) -> None:
    withdraw(ws.con, POLICY, "OVR-000001", by_user="U-OPS", reason="void", at=WITHDRAWN)

    def decided(known_at: datetime) -> tuple[Any, ...]:
        attribute(ws.con, POLICY, WITHDRAWN, known_at=known_at)
        row = ws.con.execute(
            "SELECT tier, primary_partner_id, rules FROM cosell_attribution WHERE opportunity_id = 'O-DMM'"
        ).fetchone()
        assert row is not None
        return tuple(row)

    assert decided(DECIDED) == ("influenced", "P1", "S3 OVR")
    assert decided(WITHDRAWN) == of_run(ws, 1, "O-DMM")[:3] == ("sourced", "P1", "S3")


@pytest.mark.parametrize(
    ("override_id", "by_user", "reason", "at", "error", "message"),
    [
        ("OVR-000001", "U-AE", "mine", WITHDRAWN, NotAllowed, "U-AE has the role ae"),
        ("OVR-000001", "U-FIN", "mine", WITHDRAWN, NotAllowed, "only partner_ops, partner_manager"),
        ("OVR-000001", "U-OPS", "   ", WITHDRAWN, UsageError, "records why"),
        ("OVR-1", "U-OPS", "why", WITHDRAWN, NotFound, r"no override OVR-1 \(did you mean OVR-000001\?\)"),
        # before what is recorded (the dispute's decision): it would rewrite what a report showed
        ("OVR-000001", "U-OPS", "why", OPENED, CosellError, "before the last recorded change"),
    ],
)
def test_refusals_change_nothing(
    ws: Workspace,
    override_id: str,
    by_user: str,
    reason: str,
    at: datetime,
    error: type[Exception],
    message: str,
) -> None:
    before = snapshot(ws)
    with pytest.raises(error, match=message):
        withdraw(ws.con, POLICY, override_id, by_user=by_user, reason=reason, at=at)
    assert snapshot(ws) == before


def test_an_override_is_withdrawn_once(ws: Workspace) -> None:
    withdraw(ws.con, POLICY, "OVR-000001", by_user="U-OPS", reason="void", at=WITHDRAWN)
    before = snapshot(ws)
    with pytest.raises(AlreadyDecided, match="already withdrawn by U-OPS at 2026-11-04T09:00:00Z"):
        withdraw(ws.con, POLICY, "OVR-000001", by_user="U-PM", reason="again", at=WITHDRAWN)
    assert snapshot(ws) == before


def test_the_commands_list_and_withdraw_at_80_columns(ws: Workspace) -> None:
    path = str(ws.path)
    ws.close()
    runner = CliRunner()
    env = {"COLUMNS": "80", "COSELL_NOW": "2026-11-04T09:00:00Z"}

    def cosell(*args: str) -> tuple[int, str]:
        done = runner.invoke(app, [*args, "-w", path], env=env)
        return done.exit_code, done.output

    code, listed = cosell("overrides", "list")
    [line] = [line for line in listed.splitlines() if line.startswith("OVR-000001")]
    assert code == 0 and line.split()[:6] == ["OVR-000001", "O-DMM", "influenced", "P1", "in", "force"], (
        listed
    )
    code, said = cosell("overrides", "withdraw", "OVR-000001", "--by", "U-OPS", "--reason", "void")
    assert (code, said) == (
        0,
        "override OVR-000001 withdrawn by U-OPS: O-DMM decided again without it, run 3\n",
    )
    code, said = cosell("overrides", "withdraw", "OVR-000001", "--by", "U-OPS", "--reason", "void")
    assert code == 1 and "already withdrawn by U-OPS at 2026-11-04T09:00:00Z" in said
    code, listed = cosell("overrides", "list", "--opportunity", "O-DMM")
    assert code == 0 and max(len(line) for line in listed.splitlines()) <= 80, listed
    [line] = [line for line in listed.splitlines() if line.startswith("OVR-000001")]
    assert line.split()[-2:] == ["withdrawn", "U-OPS"], listed  # the reason: wider, or --format json
    code, text = cosell("overrides", "list", "--format", "json")
    [row] = json.loads(text)
    assert row == {
        "override_id": "OVR-000001", "opportunity_id": "O-DMM", "tier": "influenced", "partner_id": "P1",
        "status": "withdrawn", "recorded_at": "2026-11-03T09:00:00Z", "by_user": "U-OPS",
        "reason": "call notes", "source": "dispute:D-000001", "withdrawn_at": "2026-11-04T09:00:00Z",
        "withdrawn_by": "U-OPS", "withdrawn_reason": "void",
    }  # fmt: skip
    code, history = cosell("history", "O-DMM")
    assert "run 3 (withdrawal, partial, current) at 2026-11-04T09:00:00Z by U-OPS" in history, history


def test_an_override_a_newer_one_replaces_is_listed_superseded_not_in_force(ws: Workspace) -> None:
    """A run applies a deal's newest override not withdrawn: an older one is not "in force" (two
    contradicting overrides of one deal were both listed so); withdrawing the newer one brings it
    back, and the list says so as the deal's version does."""
    later = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    open_dispute(ws, "O-DMM", "U-AE", "the partner was never on it", "none", at=later)
    decide_dispute(ws, POLICY, "D-000002", accept=True, by_user="U-OPS", reason="no partner", at=later)
    assert current(ws, "O-DMM")[:3] == ("none", "", "S3 OVR")
    listed = {o.override_id: (o.status, o.superseded_by) for o in overrides(ws.con, "O-DMM")}
    assert listed == {"OVR-000001": ("superseded", "OVR-000002"), "OVR-000002": ("in force", "")}
    assert [o.status for o in overrides(ws.con)] == ["superseded", "in force"]
    withdraw(ws.con, POLICY, "OVR-000002", by_user="U-OPS", reason="void", at=WITHDRAWN)
    assert current(ws, "O-DMM")[:3] == ("influenced", "P1", "S3 OVR")
    listed = {o.override_id: (o.status, o.superseded_by) for o in overrides(ws.con, "O-DMM")}
    assert listed == {"OVR-000001": ("in force", ""), "OVR-000002": ("withdrawn", "")}
