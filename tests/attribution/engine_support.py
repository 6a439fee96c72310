"""Test support for the batch engine: a tiny stand-in loader of canonical rows into a workspace.

Rows are dicts of text exactly as they would appear in the canonical CSV files; empty text is an
empty cell. The real import (``cosell.data.load``) validates; this only inserts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
