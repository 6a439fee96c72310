"""``cosell.engine.settings``: a session's settings for a block (``Dialect.lookup_settings``, the
small-input settings) are as they were afterwards, also after a statement failed in a transaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from cosell.engine import EngineError, open_engine, settings
from cosell.store.workspace import open_workspace


def _settings(con: object) -> tuple[object, ...]:
    return con.execute(
        "SELECT current_setting('threads'), current_setting('disabled_optimizers'), "
        "current_setting('enable_optimizer')"
    ).fetchall()[0]  # type: ignore[attr-defined]


@pytest.mark.parametrize("which", ["lookup_settings", "small_input_settings"])
def test_the_settings_come_back_after_a_failed_statement_in_a_transaction(which: str) -> None:
    ws = open_workspace(":memory:")
    try:
        con = ws.con
        values = dict(getattr(con.dialect, which))
        assert values, "the DuckDB dialect sets something"
        before = _settings(con)
        with pytest.raises(EngineError), con.transaction(), settings(con, values):
            assert _settings(con) != before
            con.execute("SELECT error('stop')")
        assert _settings(con) == before
        with settings(con, values):
            assert _settings(con) != before
        assert _settings(con) == before
    finally:
        ws.close()


def test_only_a_scratch_file_is_written_without_syncing_it(tmp_path: Path) -> None:
    """A ``--data`` run's scratch file is thrown away with its process: not synced. A workspace
    is: a commit is on the disk when the command says it is done."""
    scratch = open_engine(str(tmp_path / "scratch.duckdb"), scratch=True)
    workspace = open_workspace(str(tmp_path / "workspace.duckdb"))
    try:
        assert scratch.execute("SELECT current_setting('fsync_mode')").fetchall() == [("NONE",)]
        assert workspace.con.execute("SELECT current_setting('fsync_mode')").fetchall() == [("STANDARD",)]
    finally:
        scratch.close()
        workspace.close()


def test_a_relations_columns_are_the_catalogs_in_a_transaction_and_out() -> None:
    """The engine describes its inputs by a query of none of their rows (cheaper than the
    catalog), and by the catalog in a transaction, where a missing relation would abort it: the
    same rows either way, a missing relation left out."""
    from cosell.attribution.engine_plan import INPUTS
    from cosell.engine.base import catalog_columns
    from cosell.store.workspace import as_of_views

    ws = open_workspace(":memory:")
    try:
        con = ws.con
        as_of_views(con, None)
        asked = [*INPUTS, "no_such_relation"]
        described = con.columns(asked)
        assert described == catalog_columns(con, asked)
        assert {r[0] for r in described} == set(INPUTS)
        assert ("v_opportunities", "amount", "DECIMAL(18,4)") in described
        with con.transaction():
            assert con.columns(asked) == described
            con.execute("CREATE TEMP TABLE still_usable AS SELECT 1 AS x")  # not aborted
        assert con.columns(["still_usable"]) == [("still_usable", "x", "INTEGER")]
    finally:
        ws.close()
