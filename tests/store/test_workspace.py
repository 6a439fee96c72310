from __future__ import annotations

from pathlib import Path

import pytest

from cosell.errors import CosellError
from cosell.store import workspace as ws_module
from cosell.store.schema import TABLES
from cosell.store.workspace import SCHEMA_VERSION, connect, open_workspace


def test_new_workspace_has_every_table_with_decimal_money_and_utc_instants(tmp_path: Path) -> None:
    ws = open_workspace(tmp_path / "w.duckdb")
    assert ws.schema_version == SCHEMA_VERSION
    for table in TABLES:
        types = dict(
            ws.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                f"WHERE table_name = '{table.name}' AND table_catalog = current_database()"
            ).fetchall()
        )
        for column in table.columns:
            if column.kind == "money":
                assert types[column.name].startswith("DECIMAL"), (table.name, column.name)
            if column.kind == "instant":
                assert types[column.name] == "TIMESTAMP WITH TIME ZONE", (table.name, column.name)
            if column.kind == "id":
                assert types[column.name] == "VARCHAR"
    assert ws.con.execute("SELECT current_setting('TimeZone')").fetchone() == ("UTC",)
    ws.close()


def test_reopening_applies_only_new_migrations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "w.duckdb"
    open_workspace(path).close()
    applied: list[str] = []

    def step(con: object) -> None:
        applied.append("ran")

    newer = (*ws_module.MIGRATIONS, (SCHEMA_VERSION + 1, "a later release's step", step))
    monkeypatch.setattr(ws_module, "MIGRATIONS", newer)
    monkeypatch.setattr(ws_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    ws = open_workspace(path)  # an older workspace opened by a later release
    assert applied == ["ran"]
    assert ws.schema_version == SCHEMA_VERSION + 1
    ws.close()
    open_workspace(path).close()
    assert applied == ["ran"]  # not applied twice


def test_a_workspace_newer_than_this_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    open_workspace(path).close()
    con = connect(str(path))
    con.execute("INSERT INTO schema_migrations VALUES (999, 'future', current_timestamp)")
    con.close()
    with pytest.raises(CosellError, match="newer than this cosell"):
        open_workspace(path)


def test_missing_workspace_without_create_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CosellError, match="cosell init"):
        open_workspace(tmp_path / "nope.duckdb", create=False)


def test_opening_a_current_workspace_runs_no_migration_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command opens the workspace: when its schema is current, one query says so (no DDL,
    no catalog scan per table)."""
    path = tmp_path / "w.duckdb"
    open_workspace(path).close()
    calls: list[object] = []
    monkeypatch.setattr(ws_module, "migrate", lambda con: calls.append(con) or [])
    open_workspace(path).close()
    open_workspace(path, read_only=True).close()
    assert calls == []


def test_a_failing_migration_leaves_the_workspace_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pending steps apply together or not at all: a new workspace whose last step fails keeps
    no table and no schema version, and opens fine once the step is fixed. Made from the template,
    the step fails while the template is made, and nothing is left at the path."""

    def broken(con: object) -> None:
        raise CosellError("the later step failed")

    path = tmp_path / "w.duckdb"
    newer = (*ws_module.MIGRATIONS, (SCHEMA_VERSION + 1, "a broken step", broken))
    monkeypatch.setattr(ws_module, "MIGRATIONS", newer)
    monkeypatch.setattr(ws_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(CosellError, match="the later step failed"):
        open_workspace(path)
    assert not path.exists()
    with pytest.raises(CosellError, match="the later step failed"):
        open_workspace(path, from_template=False)
    con = connect(str(path))
    assert con.execute("SELECT count(*) FROM schema_migrations").fetchone() == (0,)
    assert con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_name = 'accounts' AND table_catalog = current_database()"
    ).fetchone() == (0,)
    con.close()
    monkeypatch.setattr(ws_module, "MIGRATIONS", newer[:-1])
    monkeypatch.setattr(ws_module, "SCHEMA_VERSION", SCHEMA_VERSION)
    ws = open_workspace(path)
    assert ws.schema_version == SCHEMA_VERSION
    ws.close()
