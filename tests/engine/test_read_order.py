"""``Dialect.read_order_settings`` (through ``settings``): a scan joined to lookups keeps its order into an insert, and the
engine's settings are as they were afterwards, also after a statement failed in a transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosell.engine import EngineError, settings
from cosell.store.workspace import open_workspace


def _settings(con: object) -> tuple[object, ...]:
    return con.execute(
        "SELECT current_setting('threads'), current_setting('disabled_optimizers')"
    ).fetchall()[0]  # type: ignore[attr-defined]


def test_a_joined_insert_keeps_the_files_order(tmp_path: Path) -> None:
    """A file read with a join and an IN list: left to itself, DuckDB inserted the rows of this
    very query out of order on two threads (not asserted: it may not, on another machine)."""
    rows = 400_000
    path = tmp_path / "rows.csv"
    path.write_text(
        "id,k,t\n" + "".join(f"{i},{(i * 7919) % 60000},{'abcdefg'[i % 7]}\n" for i in range(rows))
    )
    ws = open_workspace(":memory:")
    try:
        con = ws.con
        con.execute("CREATE TEMP TABLE lookup AS SELECT i::VARCHAR AS k, i % 7 AS v FROM range(50000) t(i)")
        query = (
            "INSERT INTO target SELECT s.id::BIGINT, a.v, lower(s.t) IN ('a', 'b', 'c', 'x', 'y', 'z', 'u', 'v', 'w') "
            f"FROM read_csv('{path}', columns = {{'id': 'VARCHAR', 'k': 'VARCHAR', 't': 'VARCHAR'}}, header = true, "
            "auto_detect = false) s LEFT JOIN lookup a ON a.k = trim(s.k)"
        )
        con.execute("CREATE TEMP TABLE target (n BIGINT, v BIGINT, w BOOLEAN)")
        with settings(con, dict(con.dialect.read_order_settings)):
            con.execute(query)
        assert [r[0] for r in con.execute("SELECT n FROM target ORDER BY rowid").fetchall()] == list(
            range(rows)
        )
    finally:
        ws.close()


def test_the_settings_come_back_after_a_failed_statement_in_a_transaction() -> None:
    ws = open_workspace(":memory:")
    try:
        con = ws.con
        before = _settings(con)
        with (
            pytest.raises(EngineError),
            con.transaction(),
            settings(con, dict(con.dialect.read_order_settings)),
        ):
            assert _settings(con)[0] == 1
            con.execute("SELECT error('stop')")
        assert _settings(con) == before
        with settings(con, dict(con.dialect.read_order_settings)):
            pass
        assert _settings(con) == before
    finally:
        ws.close()
