"""The stage gate: check_move, the GateIndex and ``cosell gate check``."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.errors import NotFound, UsageError
from cosell.hygiene.autotag import apply_auto_tags
from cosell.hygiene.gate import DealState, GateIndex, check_move
from cosell.policy import Policy
from cosell.store.workspace import Workspace

MAY_1 = datetime(2026, 5, 1, tzinfo=UTC)
POLICY = Policy()
runner = CliRunner()


@pytest.mark.parametrize("declared", ["sourced", "influenced", "accelerated", "none"])
def test_a_won_stage_needs_a_confirmed_partner_source_and_none_is_valid(declared: str) -> None:
    decision = check_move(DealState("O9", "Proposal", declared, "crm"), "Closed Won", POLICY)
    assert decision.allowed
    assert f"confirmed as '{declared}'" in decision.reason


def test_an_empty_partner_source_is_refused_with_the_reason() -> None:
    decision = check_move(DealState("O9", "Proposal", ""), "Closed Won", POLICY)
    assert not decision.allowed
    assert decision.reason.startswith(
        "O9 may not enter won stage 'Closed Won': partner_source is not confirmed"
    )
    assert "none is a valid answer" in decision.reason


def test_a_value_outside_the_four_answers_is_not_a_confirmation() -> None:
    assert not check_move(DealState("O9", "Proposal", "maybe"), "Closed Won", POLICY).allowed


def test_lost_and_open_moves_are_allowed_unconfirmed() -> None:
    state = DealState("O9", "Proposal", "")
    assert check_move(state, "Closed Lost", POLICY).allowed
    assert check_move(state, "Negotiation", POLICY).allowed
    assert "lost stage" in check_move(state, "Closed Lost", POLICY).reason
    assert "open stage" in check_move(state, "Negotiation", POLICY).reason


def test_the_policy_stage_mapping_decides_what_is_won() -> None:
    policy = POLICY.with_values(stages__won=["Won", "Closed Won"])
    state = DealState("O9", "Proposal", "")
    assert not check_move(state, "Won", policy).allowed
    assert check_move(state, "Won", POLICY).allowed  # by default "Won" is just an open stage


def test_a_move_needs_a_stage() -> None:
    with pytest.raises(UsageError):
        check_move(DealState("O9", "Proposal", ""), "  ", POLICY)


def test_an_unknown_stage_is_refused_with_the_closest_name() -> None:
    state = DealState("O9", "Proposal", "none", "crm")
    stages = {"Proposal", "Discovery", "Closed Won", "Closed Lost"}
    misspelt = check_move(state, "Closed Wn", POLICY, stages)
    assert not misspelt.allowed
    assert misspelt.reason == (
        "O9 may not enter 'Closed Wn': no such stage (did you mean 'Closed Won'?); it is neither in the "
        "policy's stage mapping nor a stage of any opportunity in this workspace"
    )
    assert "(did you mean 'Discovery'?)" in check_move(state, "DISCOVERY", POLICY, stages).reason
    nothing_close = check_move(state, "Legal review", POLICY, stages)
    assert not nothing_close.allowed and "no such stage;" in nothing_close.reason
    assert check_move(state, "Closed Won", POLICY, stages).allowed
    assert check_move(state, "Closed Wn", POLICY).allowed  # without the workspace's stages: not checked


@pytest.fixture
def ws(intake_ws: Workspace) -> Workspace:
    return intake_ws


def test_the_index_answers_from_the_declared_values(ws: Workspace) -> None:
    index = GateIndex.load(ws.con, POLICY)
    assert len(index) == 9
    assert not index.check("O2", "Closed Won").allowed  # empty
    assert index.check("O3", "Closed Won").allowed  # none
    assert index.check("O8", "Closed Won").allowed  # influenced
    assert index.check("O2", "Closed Lost").allowed
    assert index.state("O4") == DealState("O4", "Closed Won", "sourced", "crm")


def test_the_index_knows_the_workspace_stages_and_the_policy_mapping(ws: Workspace) -> None:
    index = GateIndex.load(ws.con, POLICY.with_values(stages__lost=["Closed Lost", "Disqualified"]))
    assert index.check("O2", "Discovery").allowed  # a stage the workspace has seen
    assert index.check("O2", "Disqualified").allowed  # in the policy's mapping, never seen
    refused = index.check("O3", "Closed Wn")  # O3's partner_source is confirmed: only the name is wrong
    assert not refused.allowed
    assert "no such stage (did you mean 'Closed Won'?)" in refused.reason
    index.record(DealState("O2", "Legal Review", "", "crm"))  # a service learns of a new stage
    assert index.check("O3", "Legal Review").allowed


def test_an_auto_tag_satisfies_the_gate(ws: Workspace) -> None:
    assert not GateIndex.load(ws.con, POLICY).check("O5", "Closed Won").allowed
    apply_auto_tags(ws, POLICY, MAY_1)
    index = GateIndex.load(ws.con, POLICY)
    decision = index.check("O5", "Closed Won")
    assert decision.allowed
    assert "auto-tag (system)" in decision.reason
    assert index.state("O5") == DealState("O5", "Discovery", "sourced", "system")
    assert not index.check("O6", "Closed Won").allowed  # its lead names no partner: no tag


def test_an_unknown_opportunity_is_not_found(ws: Workspace) -> None:
    with pytest.raises(NotFound, match="no opportunity O404"):
        GateIndex.load(ws.con, POLICY).check("O404", "Closed Won")


def test_the_index_sees_the_rows_known_at_its_as_of(
    ws: Workspace, intake_tables: dict[str, list[dict[str, str]]], intake_import: Callable[..., Path]
) -> None:
    for row in intake_tables["opportunities"]:
        if row["opportunity_id"] == "O2":
            row["partner_source"] = "none"
    intake_import(ws, intake_tables, datetime(2026, 5, 5, tzinfo=UTC))
    assert GateIndex.load(ws.con, POLICY).check("O2", "Closed Won").allowed
    assert (
        not GateIndex.load(ws.con, POLICY, datetime(2026, 5, 4, tzinfo=UTC)).check("O2", "Closed Won").allowed
    )


def _cli_workspace(tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("COSELL_NOW", "2026-05-01T00:00:00Z")
    path = str(tmp_path / "ws.duckdb")
    result = runner.invoke(app, ["import", "canonical", str(folder), "-w", path])
    assert result.exit_code == 0, result.output
    return path


def test_gate_check_exits_0_when_allowed_and_1_when_refused(
    tmp_path: Path,
    intake_tables: dict[str, list[dict[str, str]]],
    intake_write: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = _cli_workspace(tmp_path, intake_write(intake_tables), monkeypatch)
    refused = runner.invoke(app, ["gate", "check", "O2", "--to", "Closed Won", "-w", path])
    assert refused.exit_code == 1
    assert "refused: O2 may not enter won stage 'Closed Won'" in " ".join(refused.output.split())
    allowed = runner.invoke(app, ["gate", "check", "O3", "--to", "Closed Won", "-w", path])
    assert allowed.exit_code == 0
    assert "allowed: O3 may enter won stage" in allowed.output
    # The import auto-tagged O5, so the gate lets it through.
    tagged = runner.invoke(app, ["gate", "check", "O5", "--to", "Closed Won", "-w", path, "-f", "json"])
    assert tagged.exit_code == 0
    data = json.loads(tagged.output)
    assert (data["allowed"], data["partner_source"], data["declared_by"], data["to_stage_class"]) == (
        True, "sourced", "system", "won",
    )  # fmt: skip
    misspelt = runner.invoke(app, ["gate", "check", "O3", "--to", "Closed Wn", "-w", path, "-f", "json"])
    assert misspelt.exit_code == 1
    data = json.loads(misspelt.output)
    assert data["allowed"] is False
    assert data["reason"].startswith(
        "O3 may not enter 'Closed Wn': no such stage (did you mean 'Closed Won'?)"
    )
    missing = runner.invoke(app, ["gate", "check", "O404", "--to", "Closed Won", "-w", path])
    assert missing.exit_code == 1
    assert "no opportunity O404" in missing.output
    no_stage = runner.invoke(app, ["gate", "check", "O2", "-w", path])
    assert no_stage.exit_code == 2
