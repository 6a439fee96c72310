"""The entry points' schema check (cosell.store.tables): a missing table is made, the catalog is
asked once per connection for tables it has seen committed (inside a transaction, once for the
transaction, then once it commits), and never remembers a table that a rolled-back transaction
made or found."""

from __future__ import annotations

from typing import Any

import pytest

from cosell.engine import Engine
from cosell.store.plans import migration_plans
from cosell.store.tables import ensure_tables, tables_present
from cosell.store.workspace import open_workspace


def _statements(con: Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement of ``con``, from now on."""
    asked: list[str] = []
    real = con.execute

    def spy(sql: str, params: Any = None) -> Any:
        asked.append(sql)
        return real(sql, params)

    monkeypatch.setattr(con, "execute", spy)
    return asked


def _catalog(statements: list[str]) -> list[str]:
    return [sql for sql in statements if "information_schema" in sql]


def test_committed_tables_are_asked_for_once_per_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    ws = open_workspace(":memory:")
    try:
        asked = _statements(ws.con, monkeypatch)
        assert tables_present(ws.con, ("plan_versions", "imports"))
        assert tables_present(ws.con, ("imports",))
        assert tables_present(ws.con, ("plan_versions",))
        # Outside a transaction: one query of none of their rows, no catalog query.
        assert asked == ['SELECT 1 FROM "imports", "plan_versions" LIMIT 0']
        assert not tables_present(ws.con, ("plan_versions", "no_such_table"))
        assert not tables_present(ws.con, ("no_such_table",))  # a missing table is asked again
        assert len(_catalog(asked)) == 2  # the query failed: the catalog says
        assert len(asked) == 5
        ws.con.execute("CREATE TEMP VIEW no_such_table AS SELECT 1 AS x")  # any relation read by name
        assert tables_present(ws.con, ("plan_versions", "no_such_table"))
        assert len(_catalog(asked)) == 2
    finally:
        ws.close()


def test_in_a_transaction_the_catalog_is_asked_and_the_transaction_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws = open_workspace(":memory:")
    try:
        asked = _statements(ws.con, monkeypatch)
        with ws.transaction():
            assert not tables_present(ws.con, ("imports", "no_such_table"))
            assert tables_present(ws.con, ("imports",))  # found above: kept for the transaction
            assert not tables_present(ws.con, ("no_such_table",))  # a missing table is asked again
            assert len(_catalog(asked)) == 2
            assert all("LIMIT 0" not in sql for sql in asked)  # no query that could fail
            ws.con.execute("INSERT INTO imports VALUES (1, now(), 'test', 'me', '[]', 'test')")  # not aborted
        assert ws.con.execute("SELECT count(*) FROM imports").fetchone() == (1,)
        # Committed: kept on the connection, nothing asked again.
        before = len(asked)
        assert tables_present(ws.con, ("imports",))
        assert len(asked) == before
    finally:
        ws.close()


def test_a_table_found_in_a_rolled_back_transaction_is_asked_for_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ws = open_workspace(":memory:")
    try:
        asked = _statements(ws.con, monkeypatch)
        with pytest.raises(RuntimeError), ws.transaction():
            assert tables_present(ws.con, ("imports",))
            raise RuntimeError("rolled back")
        with ws.transaction():
            assert tables_present(ws.con, ("imports",))
        assert len(_catalog(asked)) == 2
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
