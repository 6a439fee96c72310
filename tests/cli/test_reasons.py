"""``--reason``: a reason is what a controller reads in the history of a write. Blank is no reason
(a command that needs one refuses it; a batch write records what was run, as when not given), and it
is at most MAX_REASON_CHARS long (a 10 MB reason was stored and printed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.cli.common import MAX_REASON_CHARS
from stored_rows import stored_rows as rows

runner = CliRunner()
GOLDEN = Path(__file__).parents[1] / "golden" / "credit_role_weighted"


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "80", "COSELL_NOW": "2026-10-01T00:00:00Z"})
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, " ".join(result.output.split())


def test_a_required_reason_blank_or_too_long_is_refused_and_nothing_is_recorded(tmp_path: Path) -> None:
    ws = str(tmp_path / "w.duckdb")
    for reason in ("   ", "\t \n", "x" * (MAX_REASON_CHARS + 1)):
        code, out = invoke(
            "users", "set", "u1", "--role", "admin", "--reason", reason, "-w", ws, "--by", "u1"
        )
        assert code != 0 and "reason" in out, out
        if reason.strip():
            assert code == 2 and "--reason" in out and f"at most {MAX_REASON_CHARS:,} characters" in out, out
        assert rows(tmp_path / "w.duckdb", "SELECT count(*) FROM users") == [(0,)]
    most = "y" * MAX_REASON_CHARS
    code, out = invoke(
        "users", "set", "u1", "--role", "admin", "--reason", f"  {most}  ", "-w", ws, "--by", "u1"
    )
    assert code == 0, out


@pytest.mark.parametrize("blank", ["", "   ", " \t "])
def test_a_blank_optional_reason_records_what_was_run_and_a_long_one_is_refused(
    tmp_path: Path, blank: str
) -> None:
    """Found by fuzzing ``attribute`` without ``--reason``: the run was stored with an empty why.
    Without one (or with a blank one) the run now records what was run as its why."""
    workspace = tmp_path / "w.duckdb"
    ws = str(workspace)
    assert invoke("import", "canonical", str(GOLDEN), "-w", ws)[0] == 0
    code, out = invoke("attribute", "-w", ws, "--reason", "x" * (MAX_REASON_CHARS + 1))
    assert code == 2 and "--reason" in out and f"at most {MAX_REASON_CHARS:,} characters" in out, out
    assert rows(workspace, "SELECT count(*) FROM attribution_runs") == [(0,)]
    assert invoke("attribute", "-w", ws)[0] == 0
    assert invoke("attribute", "-w", ws, "--reason", blank)[0] == 0
    assert invoke("attribute", "-w", ws, "--reason", "  month-end run  ")[0] == 0
    reasons = rows(workspace, "SELECT reason FROM attribution_runs ORDER BY run_id")
    ran = "cosell attribute --as-of 2026-10-01T00:00:00Z --known-at 2026-10-01T00:00:00Z --model "
    assert [str(r[0]).startswith(ran) for r in reasons] == [True, True, False], reasons
    assert reasons[0] == reasons[1] and reasons[2] == ("month-end run",)
