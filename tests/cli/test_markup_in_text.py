"""Text from a person or a CRM (a path, an id, a stage, a name) is printed as written: ``[/x]`` in it
is not rich markup, so it never stops a command with a MarkupError traceback after its work is done.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app

runner = CliRunner()
NOW = "2026-11-02T09:00:00Z"
MARKUP = "[/x]"


@pytest.fixture()
def workspace(small_demo: Path, tmp_path: Path) -> str:
    """A copy of the small demo's workspace that a command may write to."""
    return str(shutil.copy(small_demo, tmp_path / "ws.duckdb"))


def cosell(workspace: str, *args: str, exit_code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--workspace", workspace], env={"COSELL_NOW": NOW, "COLUMNS": "80"})
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == exit_code, result.output
    return result.output


def test_a_report_written_to_a_path_with_brackets_says_where(workspace: str, tmp_path: Path) -> None:
    out = tmp_path / f"cfo{MARKUP}.html"
    assert f"wrote {out}" in cosell(workspace, "report", "cfo", "--format", "html", "--out", str(out))
    assert out.is_file()


def test_a_user_id_with_brackets_is_echoed_as_given(workspace: str) -> None:
    said = cosell(
        workspace, "users", "set", f"u{MARKUP}", "--role", "ae", "--reason", "new", "--by", "u-admin"
    )
    assert f"u{MARKUP}" in said


def test_a_stage_with_brackets_is_named_in_the_gate_verdict(workspace: str) -> None:
    audit = runner.invoke(
        app, ["gate", "audit", "--format", "json", "--workspace", workspace], env={"COSELL_NOW": NOW}
    )
    deal = json.loads(audit.stdout)[0]["opportunity_id"]
    said = cosell(workspace, "gate", "check", deal, "--to", f"Stage {MARKUP}", exit_code=1)  # no such stage
    assert f"Stage {MARKUP}" in said
