"""Schema steps a capability re-checks at its entry points, without writing when nothing is missing.

Some workspaces made by development builds recorded a schema step while it was still empty, so the
capabilities' entry points make sure their tables exist. Readers open the workspace read-only
(:mod:`cosell.engine.duckdb_engine`), where even ``CREATE TABLE IF NOT EXISTS`` is refused: the step runs
only when one of its tables is really missing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cosell.engine import Engine


def ensure_tables(con: Engine, tables: Sequence[str], step: Callable[[Engine], None]) -> None:
    """Run the schema ``step`` when any of ``tables`` is missing from the workspace."""
    row = con.execute(
        "SELECT count(DISTINCT table_name) FROM information_schema.tables WHERE list_contains(?, table_name)",
        [list(tables)],
    ).fetchone()
    if row is None or int(row[0]) < len(set(tables)):
        step(con)
