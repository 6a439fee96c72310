"""The entry points' schema check (cosell.store.tables): a missing table is made, the catalog is
asked once per connection for tables it has seen committed, and never remembers a table that a
rolled-back transaction made."""

from __future__ import annotations

from typing import Any

import pytest

from cosell.engine import Engine
from cosell.store.plans import migration_plans
from cosell.store.tables import ensure_tables, tables_present
from cosell.store.workspace import open_workspace


def _catalog_queries(con: Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement of ``con`` that reads the catalog, from now on."""
    asked: list[str] = []
    real = con.execute

    def spy(sql: str, params: Any = None) -> Any:
        if "information_schema" in sql:
            asked.append(sql)
        return real(sql, params)

    monkeypatch.setattr(con, "execute", spy)
    return asked


def test_committed_tables_are_asked_for_once_per_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    ws = open_workspace(":memory:")
    try:
        asked = _catalog_queries(ws.con, monkeypatch)
        assert tables_present(ws.con, ("plan_versions", "imports"))
        assert tables_present(ws.con, ("imports",))
        assert tables_present(ws.con, ("plan_versions",))
        assert len(asked) == 1
        assert not tables_present(ws.con, ("plan_versions", "no_such_table"))
        assert not tables_present(ws.con, ("no_such_table",))  # a missing table is asked again
        assert len(asked) == 3
    finally:
        ws.close()


def test_a_table_made_in_a_rolled_back_transaction_is_made_again() -> None:
    ws = open_workspace(":memory:")
    try:
        # A development build recorded the step while it was still empty: the table is missing.
        ws.con.execute("DROP TABLE plan_versions")
        with pytest.raises(RuntimeError), ws.transaction():
            ensure_tables(ws.con, ("plan_versions",), migration_plans)
            assert tables_present(ws.con, ("plan_versions",))  # the transaction's own table
            raise RuntimeError("rolled back")
        assert not tables_present(ws.con, ("plan_versions",))
        ensure_tables(ws.con, ("plan_versions",), migration_plans)
        assert ws.con.execute("SELECT count(*) FROM plan_versions").fetchone() == (0,)
    finally:
        ws.close()
