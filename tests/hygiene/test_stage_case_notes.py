"""A policy stage that the workspace writes in another case or with other surrounding spaces: the
comparison stays exact (SPEC section 1), and ``cosell attribute`` says so, where nothing did."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli import attribute_cmd
from cosell.cli.app import app
from cosell.cli.common import TextConsole
from cosell.hygiene.gate import stage_case_notes
from cosell.policy import Policy, load_policy

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
from import_fixtures import write_dataset

ENV = {"COLUMNS": "80", "COSELL_NOW": "2026-06-02T09:00:00Z", "COSELL_USER": "controller"}
NOTE = (
    'warning: stages.won: "Closed Won" is not a stage in the workspace; "closed won" is (it differs '
    "by case): its deals count as open"
)


def test_a_stage_differing_only_by_case_or_surrounding_spaces_is_named_with_its_key() -> None:
    policy = Policy()  # won: Closed Won; lost: Closed Lost
    stages = {"Discovery", "closed won", "CLOSED WON", " Closed Lost", "Closed Lost", "closed lost "}
    assert stage_case_notes(policy, stages) == (
        'stages.won: "Closed Won" is not a stage in the workspace; "CLOSED WON" is (it differs by case): '
        "its deals count as open",
        'stages.won: "Closed Won" is not a stage in the workspace; "closed won" is (it differs by case): '
        "its deals count as open",
        'stages.lost: "Closed Lost" is a stage in the workspace, and so is " Closed Lost" (it differs by '
        "surrounding spaces): its deals count as open",
        'stages.lost: "Closed Lost" is a stage in the workspace, and so is "closed lost " (it differs by '
        "case and surrounding spaces): its deals count as open",
    )
    # The same stages, another spelling (Closed Wn), or a stage the policy maps itself: nothing.
    assert stage_case_notes(policy, {"Closed Won", "Closed Wn", "Closed Lost"}) == ()
    assert (
        stage_case_notes(Policy().with_values(stages__won=["Closed Won", "closed won"]), {"closed won"}) == ()
    )
    # The comparison itself stays exact: the note is a diagnostic.
    assert policy.stage_class("closed won") == "open"


def _tables() -> dict[str, list[dict[str, str]]]:
    """One deal in "closed won" (lower case, as some CRM exports write it), sourced by P1's intro."""
    return {
        "accounts": [{"account_id": "A1", "name": "Northwind", "segment": "ENT", "owner_id": "U1"}],
        "partners": [{"partner_id": "P1", "name": "Alpha", "partner_type": "referral", "joined_at": ""}],
        "opportunities": [
            {
                "opportunity_id": "O1",
                "account_id": "A1",
                "created_at": "2026-02-01T00:00:00Z",
                "amount": "10000.00",
                "currency": "USD",
                "stage": "closed won",
                "owner_id": "U1",
            },
        ],
        "stage_history": [
            {"opportunity_id": "O1", "stage": "Discovery", "entered_at": "2026-02-01T00:00:00Z"},
            {"opportunity_id": "O1", "stage": "closed won", "entered_at": "2026-03-01T00:00:00Z"},
        ],
        "touches": [
            {
                "touch_id": "T1",
                "occurred_at": "2026-01-20T00:00:00Z",
                "account_id": "A1",
                "actor": "partner",
                "kind": "intro",
                "opportunity_id": "O1",
                "partner_id": "P1",
            },
        ],
    }


def _run(*args: str) -> str:
    """The command's warnings (stderr); its other output names none."""
    done = CliRunner().invoke(app, list(args), env=ENV)
    assert done.exit_code == 0, done.output
    assert "warning:" not in done.stdout
    return done.stderr


def test_attribute_warns_of_a_won_stage_the_workspace_writes_in_another_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_dataset(tmp_path / "export", _tables())
    ws = str(tmp_path / "ws.duckdb")
    _run("import", "canonical", str(folder), "-w", ws)
    out = _run("attribute", "-w", ws)
    assert NOTE in out.splitlines(), out  # whole on one line in a pipe, at 80 columns too
    # The deal is still open (not won, so no closed deal to attribute as won): the rules are unchanged.
    assert out.count("warning:") == 1
    # Without a workspace, the dataset folder attributed into files says the same.
    assert NOTE in _run("attribute", "--data", str(folder), "--out", str(tmp_path / "out")).splitlines()
    # A policy that names the workspace's stage: no warning.
    policy = tmp_path / "policy.toml"
    policy.write_text('[stages]\nwon = ["closed won"]\n', encoding="utf-8")
    assert load_policy(policy).won_stages == {"closed won"}
    assert "warning:" not in _run("attribute", "-w", ws, "--policy", str(policy))
    # On an 80-column terminal the warning wraps between words, every line within 80.
    terminal = TextConsole(file=io.StringIO(), width=80, force_terminal=True, color_system=None)
    monkeypatch.setattr(attribute_cmd, "err_console", terminal)
    _run("attribute", "-w", ws)
    shown = terminal.file.getvalue()  # type: ignore[attr-defined]
    lines = shown[shown.index("warning:") :].splitlines()[:2]
    assert all(len(line) <= 80 for line in shown.splitlines())
    assert " ".join(line.strip() for line in lines) == NOTE
