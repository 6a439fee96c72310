"""Test support for the batch engine: a tiny stand-in loader of canonical rows into a workspace.

Rows are dicts of text exactly as they would appear in the canonical CSV files; empty text is an
empty cell. The real import (``cosell.data.load``) validates; this only inserts.

And the ways through the rules other engines take, run on DuckDB (:func:`run_path`): the golden
parity (test_engine_parity) and tests/engine/test_dialect_paths.py run them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest

from cosell.attribution import engine
from cosell.engine import DUCKDB, Dialect
from cosell.store.schema import TABLES_BY_NAME
from cosell.store.workspace import Workspace, open_workspace

Rows = Mapping[str, Sequence[Mapping[str, str]]]


def insert_rows(ws: Workspace, tables: Rows, valid_from: str = "1970-01-01T00:00:00Z") -> None:
    """Insert canonical rows as current versions (valid from ``valid_from``)."""
    for name, rows in tables.items():
        table = TABLES_BY_NAME[name]
        cols = list(table.column_names)
        for row in rows:
            values = [None if row.get(c, "") == "" else row[c] for c in cols]
            marks = ", ".join(["?"] * (len(cols) + 4))
            ws.con.execute(
                f"INSERT INTO {name} ({', '.join(cols)}, _row_hash, _valid_from, _valid_to, _import_id) "
                f"VALUES ({marks})",
                [*values, "h", valid_from, None, 1],
            )


def workspace_with(tables: Rows) -> Workspace:
    ws = open_workspace(":memory:")
    insert_rows(ws, tables)
    return ws


# --- the ways through the rules -----------------------------------------------------------------


class PortablePaths(Dialect):
    """DuckDB's SQL, but the paths an engine without a windowed median or struct lists takes
    (PostgreSQL's: the cohort medians per group, joined back; a deal's evidence tokens joined with
    an ordered string aggregate)."""

    name = "duckdb-portable-paths"
    windowed_median = False
    client_median = False
    struct_lists = False


@dataclass(frozen=True)
class RulePath:
    """A way through the rules: the dialect's plan, with the guard ``client_median`` given
    (True: the client's medians; False: the windowed median, Spark's way) or, when None, as the
    plan has it."""

    name: str
    dialect: Dialect
    client_median: bool | None = None


# DuckDB's own plan (the one every DuckDB run reads) with its guard given either way, and the
# grouped median with the ordered tokens (PostgreSQL's paths).
CLIENT = RulePath("client", DUCKDB, True)
WINDOWED = RulePath("windowed", DUCKDB, False)
GROUPED = RulePath("grouped", PortablePaths())


def run_path(
    ws: Workspace, path: RulePath, monkeypatch: pytest.MonkeyPatch, *args: Any, **kwargs: Any
) -> Any:
    """``attribute(ws.con, *args, **kwargs)`` through ``path``."""
    if path.client_median is None:
        monkeypatch.setattr(engine, "execute", _EXECUTE)
    else:
        given = path.client_median

        def execute(con: Any, plan: Any, context: Any, *rest: Any, **named: Any) -> Any:
            return _EXECUTE(con, plan, replace(context, guards={"client_median": given}), *rest, **named)

        monkeypatch.setattr(engine, "execute", execute)
    ws.con.dialect = path.dialect  # type: ignore[misc]
    try:
        return engine.attribute(ws.con, *args, **kwargs)
    finally:
        ws.con.dialect = DUCKDB  # type: ignore[misc]
        monkeypatch.setattr(engine, "execute", _EXECUTE)


_EXECUTE = engine.execute
