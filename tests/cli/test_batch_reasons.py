"""Every write records why (SPEC section 9): an import (``cosell import canonical``, ``users set``)
and a reconciliation record the ``--reason`` given, else the command that was run; never an empty
why. Schema step 18 adds the column to a workspace made before it: its older rows read back with an
empty reason, shown as such."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.store.workspace import open_workspace
from stored_rows import stored_rows as rows

runner = CliRunner()
GOLDEN = Path(__file__).parents[1] / "golden" / "credit_role_weighted"
NOW = "2026-10-01T00:00:00Z"


def invoke(*args: str, columns: int = 80) -> tuple[int, str]:
    result = runner.invoke(
        app, list(args), env={"COLUMNS": str(columns), "COSELL_NOW": NOW, "COSELL_USER": "tester"}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


@pytest.mark.parametrize("blank", [None, "", "  \t "])
def test_an_import_without_a_reason_records_the_command_it_ran(tmp_path: Path, blank: str | None) -> None:
    """Found auditing the writes: the import log had who and when but no why."""
    workspace = tmp_path / "w.duckdb"
    why = [] if blank is None else ["--reason", blank]
    code, out = invoke("import", "canonical", str(GOLDEN), "-w", str(workspace), "-f", "json", *why)
    assert code == 0, out
    ran = f"cosell import canonical {GOLDEN.resolve()}"
    assert json.loads(out)["reason"] == ran
    assert rows(workspace, "SELECT by_user, reason FROM imports") == [("tester", ran)]


def test_an_import_records_the_reason_given_and_a_rejects_file_in_its_command(tmp_path: Path) -> None:
    workspace = str(tmp_path / "w.duckdb")
    assert invoke("import", "canonical", str(GOLDEN), "-w", workspace, "--reason", "  Q3 close  ")[0] == 0
    rejects = tmp_path / "rejected.csv"
    code, out = invoke("import", "canonical", str(GOLDEN), "-w", workspace, "--rejects", str(rejects))
    assert code == 0, out
    assert rows(tmp_path / "w.duckdb", "SELECT import_id, reason FROM imports ORDER BY import_id") == [
        (1, "Q3 close"),
        (2, f"cosell import canonical {GOLDEN.resolve()} --rejects {rejects.resolve()}"),
    ]


def test_a_reconciliation_records_the_reason_given_else_the_command(tmp_path: Path) -> None:
    """Found auditing the writes: a reconciliation (the findings it records) had no why."""
    workspace = tmp_path / "w.duckdb"
    ws = str(workspace)
    assert invoke("import", "canonical", str(GOLDEN), "-w", ws)[0] == 0
    assert invoke("attribute", "-w", ws)[0] == 0
    assert invoke("attribute", "-w", ws, "--as-of", "2026-09-30")[0] == 0
    code, out = invoke("reconcile", "-w", ws, "--by", "tester")
    assert code == 0, out
    assert (
        invoke("reconcile", "-w", ws, "--period", "2026-Q3", "--as-of", "2026-09-30", "--reason", " ")[0] == 0
    )
    assert invoke("reconcile", "-w", ws, "--period", "all", "--reason", "  before the QBR ")[0] == 0
    assert rows(
        workspace, "SELECT by_user, period, reason FROM reconciliations ORDER BY reconciliation_id"
    ) == [
        # The default window (the last complete month) is named; --as-of only when asked for.
        ("tester", "2026-09", f"cosell reconcile --period 2026-09 --known-at {NOW}"),
        (
            "tester",
            "2026-Q3",
            f"cosell reconcile --period 2026-Q3 --as-of 2026-09-30T00:00:00Z --known-at {NOW}",
        ),
        ("tester", "all", "before the QBR"),
    ]


def test_users_list_shows_why_each_user_was_changed_within_80_columns(tmp_path: Path) -> None:
    workspace = str(tmp_path / "w.duckdb")
    code, out = invoke(
        "users",
        "set",
        "u-admin",
        "--role",
        "admin",
        "--reason",
        "first admin",
        "-w",
        workspace,
        "--by",
        "u-admin",
    )
    assert code == 0, out
    code, out = invoke("users", "-w", workspace)
    assert code == 0 and "first admin" in out and "reason" in out, out
    assert max(len(line) for line in out.splitlines()) <= 80, out
    listed = json.loads(invoke("users", "-w", workspace, "-f", "json")[1])
    assert [(u["source"], u["reason"]) for u in listed] == [("cosell users set u-admin", "first admin")]


def test_a_workspace_from_before_the_step_is_upgraded_and_its_older_rows_have_no_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema step 18 adds imports.reason and reconciliations.reason to an existing workspace: what
    was recorded before reads back with an empty reason (shown empty), what is recorded after has
    one."""
    from cosell.store import workspace as ws_module

    path = tmp_path / "old.duckdb"
    with monkeypatch.context() as old:
        old.setattr(ws_module, "MIGRATIONS", ws_module.MIGRATIONS[:17])
        old.setattr(ws_module, "SCHEMA_VERSION", 17)
        ws = open_workspace(path)
        assert ws.schema_version == 17
        for table in ("imports", "reconciliations"):
            assert "reason" not in {r[0] for r in ws.con.execute(f"DESCRIBE {table}").fetchall()}
        # A user change as that release recorded it (its why inside the import's source), and a
        # reconciliation.
        ws.con.execute(
            "INSERT INTO imports VALUES (1, '2026-09-01', 'cosell users set u-admin: first admin', 'x', '[]')"
        )
        ws.con.execute(
            "INSERT INTO users (user_id, role, _row_hash, _valid_from, _import_id) "
            "VALUES ('u-admin', 'admin', 'h', '2026-09-01', 1)"
        )
        ws.con.execute(
            "INSERT INTO reconciliations (reconciliation_id, run_at, by_user, as_of, period, deals, findings, "
            "new_findings) VALUES (1, '2026-09-01', 'old-user', '2026-09-01', 'all', 0, 0, 0)"
        )
        ws.close()
    upgraded = open_workspace(path)
    try:
        assert upgraded.schema_version == ws_module.SCHEMA_VERSION >= 18
        assert upgraded.con.execute("SELECT reason FROM imports").fetchall() == [("",)]
        assert upgraded.con.execute("SELECT reason FROM reconciliations").fetchall() == [("",)]
    finally:
        upgraded.close()
    listed = json.loads(invoke("users", "-w", str(path), "-f", "json")[1])
    assert [(u["source"], u["reason"]) for u in listed] == [("cosell users set u-admin: first admin", "")]
    assert invoke("import", "canonical", str(GOLDEN), "-w", str(path), "--reason", "first data")[0] == 0
    assert rows(path, "SELECT import_id, reason FROM imports ORDER BY import_id") == [
        (1, ""),
        (2, "first data"),
    ]
