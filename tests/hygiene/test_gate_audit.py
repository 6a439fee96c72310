"""``gate_audit``: won deals that entered their won stage with partner_source unconfirmed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.hygiene.autotag import apply_auto_tags
from cosell.hygiene.gate import gate_audit
from cosell.policy import Policy
from cosell.store.workspace import Workspace, open_workspace

POLICY = Policy()
Tables = dict[str, list[dict[str, str]]]


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def ws(intake_ws: Workspace) -> Workspace:
    return intake_ws


def test_violations_with_field_history_and_without(ws: Workspace) -> None:
    found = gate_audit(ws.con, POLICY)
    assert [(v.opportunity_id, v.entered_won_at, v.confirmed_at, v.confirmed_by) for v in found] == [
        ("O1", at("2026-03-01"), None, ""),  # never confirmed (not tagged yet)
        ("O4", at("2026-03-15"), at("2026-04-01"), "U1"),  # field_history: confirmed after the close
        ("O6", at("2026-03-20"), None, ""),  # never confirmed
    ]
    o4 = found[1]
    assert (o4.partner_source_at_entry, o4.partner_source_now, o4.amount, o4.currency, o4.owner_id) == (
        "", "sourced", Decimal("1000.0000"), "USD", "U1",
    )  # fmt: skip
    # Not listed: O3 (no field_history, current value none), O8 (field_history: confirmed before the
    # close), O10 (lost), and the open deals.


def test_an_auto_tag_after_the_entry_does_not_excuse_it_but_one_before_does(
    ws: Workspace, intake_tables: Tables, intake_import: Callable[..., Path]
) -> None:
    apply_auto_tags(ws, POLICY, at("2026-05-01"))
    o1 = next(v for v in gate_audit(ws.con, POLICY) if v.opportunity_id == "O1")
    assert (o1.confirmed_at, o1.confirmed_by, o1.partner_source_now) == (
        at("2026-05-01"),
        "system",
        "sourced",
    )
    # O5 was auto-tagged on 2026-05-01 and is won on 2026-05-05: the gate was satisfied.
    # O7 (never declared) is won the same day: a violation.
    for row in intake_tables["opportunities"]:
        if row["opportunity_id"] in ("O5", "O7"):
            row.update(stage="Closed Won", close_date="2026-05-05")
    intake_tables["stage_history"] += [
        {"opportunity_id": "O5", "stage": "Closed Won", "entered_at": "2026-05-05T10:00:00Z"},
        {"opportunity_id": "O7", "stage": "Closed Won", "entered_at": "2026-05-05T10:00:00Z"},
    ]
    intake_import(ws, intake_tables, at("2026-05-06"))
    ids = [v.opportunity_id for v in gate_audit(ws.con, POLICY)]
    assert ids == ["O1", "O4", "O6", "O7"]
    o7 = gate_audit(ws.con, POLICY)[-1]
    assert o7.entered_won_at == datetime(2026, 5, 5, 10, tzinfo=UTC)
    # As known before the second import, neither was won.
    assert [v.opportunity_id for v in gate_audit(ws.con, POLICY, at("2026-05-02"))] == ["O1", "O4", "O6"]


def test_the_value_before_the_first_change_is_the_old_value(
    intake_tables: Tables, intake_import: Callable[..., Path]
) -> None:
    # O3 was "none" from the start, changed to influenced after its close: never unconfirmed.
    intake_tables["field_history"].append(
        {"opportunity_id": "O3", "field": "partner_source", "old_value": "none", "new_value": "influenced",
         "changed_at": "2026-04-10", "changed_by": "U1"}
    )  # fmt: skip
    # O8 was emptied before its close and set again after it: unconfirmed at the entry.
    intake_tables["field_history"] += [
        {"opportunity_id": "O8", "field": "partner_source", "old_value": "influenced", "new_value": "",
         "changed_at": "2026-03-10", "changed_by": "U2"},
        {"opportunity_id": "O8", "field": "partner_source", "old_value": "", "new_value": "influenced",
         "changed_at": "2026-04-02", "changed_by": "U9"},
    ]  # fmt: skip
    workspace = open_workspace(":memory:")
    intake_import(workspace, intake_tables, at("2026-05-01"))
    found = {v.opportunity_id: v for v in gate_audit(workspace.con, POLICY)}
    assert "O3" not in found
    assert (found["O8"].entered_won_at, found["O8"].confirmed_at, found["O8"].confirmed_by) == (
        at("2026-03-25"), at("2026-04-02"), "U9",
    )  # fmt: skip


def test_the_entry_is_after_the_last_open_stage(
    intake_tables: Tables, intake_import: Callable[..., Path]
) -> None:
    # O4 reopened after its first (unconfirmed) win and won again on 04-20, after it was confirmed on
    # 04-01: its close, the entry that counts, passed the gate.
    intake_tables["stage_history"] += [
        {"opportunity_id": "O4", "stage": "Negotiation", "entered_at": "2026-03-20"},
        {"opportunity_id": "O4", "stage": "Closed Won", "entered_at": "2026-04-20"},
    ]
    workspace = open_workspace(":memory:")
    intake_import(workspace, intake_tables, at("2026-05-01"))
    assert "O4" not in [v.opportunity_id for v in gate_audit(workspace.con, POLICY)]


def test_gate_audit_command(
    tmp_path: Path, intake_tables: Tables, intake_write: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COSELL_NOW", "2026-05-01T00:00:00Z")
    path = str(tmp_path / "ws.duckdb")
    runner = CliRunner()
    assert (
        runner.invoke(app, ["import", "canonical", str(intake_write(intake_tables)), "-w", path]).exit_code
        == 0
    )
    result = runner.invoke(app, ["gate", "audit", "-w", path, "--format", "csv"])
    assert result.exit_code == 0, result.output
    # Which instant is which goes to stderr beside csv, so the csv stays machine-readable.
    assert " ".join(result.stderr.split()) == (
        "Evaluated as of 2026-05-01T00:00:00Z (--as-of), with the data known at 2026-05-01T00:00:00Z (--known-at)."
    )
    assert result.stdout.splitlines() == [
        "opportunity_id,owner_id,stage,entered_won_at,partner_source_at_entry,confirmed_at,confirmed_by,"
        "partner_source_now,amount,currency",
        "O1,U1,Closed Won,2026-03-01T00:00:00Z,,2026-05-01T00:00:00Z,system,sourced,1000.00,USD",
        "O4,U1,Closed Won,2026-03-15T00:00:00Z,,2026-04-01T00:00:00Z,U1,sourced,1000.00,USD",
        "O6,U1,Closed Won,2026-03-20T00:00:00Z,,,,,1000.00,USD",
    ]
    table = runner.invoke(app, ["gate", "audit", "-w", path])
    assert "3 violations" in table.output
    bad = runner.invoke(app, ["gate", "audit", "-w", path, "--as-of", "yesterday"])
    assert bad.exit_code == 2
