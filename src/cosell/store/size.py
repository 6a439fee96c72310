"""How large a workspace is, and the engine settings that follow from it.

A small workspace's statements cost more to plan and to hand out than to run: its connection runs
under the engine's small-workspace settings (DuckDB: one thread), whatever the command. A large
input on it (a large dataset imported, a run over many deals) asks for the engine's defaults back
for its own statements (:attr:`cosell.engine.Dialect.large_input_settings`), and an import that
makes the workspace large leaves it with them (:func:`fit_to_size`, called when a workspace is
opened and after a large dataset's import).

DuckDB's threads are its instance's, and every workspace a process opens is attached to one
instance (:mod:`cosell.engine.duckdb_engine`): they follow the workspace opened or imported last.
"""

from __future__ import annotations

from cosell.engine import Engine, fit_settings

# A workspace holding at most this many rows of touches and opportunities (every version; its
# largest tables) is small: its statements too cost more to plan than to run (a hundred-deal
# workspace holds about 2,000 such rows, the demo's three thousand deals about 64,000).
SMALL_WORKSPACE_ROWS = 100_000


def small_workspace(con: Engine) -> bool:
    """Whether the workspace holds at most :data:`SMALL_WORKSPACE_ROWS` rows of touches and
    opportunities, its largest tables (every version; counted no further)."""
    limit = SMALL_WORKSPACE_ROWS + 1
    rows = " + ".join(
        f"(SELECT count(*) FROM (SELECT 1 FROM {name} LIMIT {limit}))"
        for name in ("touches", "opportunities")
    )
    row = con.execute(f"SELECT {rows}").fetchone()
    return row is not None and int(row[0]) <= SMALL_WORKSPACE_ROWS


def fit_to_size(con: Engine) -> None:
    """Put the connection under the engine's small-workspace settings when the workspace is small,
    else under its defaults (nothing is set that already has its value)."""
    dialect = con.dialect
    if not dialect.small_workspace_settings:
        return
    fit_settings(
        con, dict(dialect.small_workspace_settings if small_workspace(con) else dialect.large_input_settings)
    )


__all__ = ["SMALL_WORKSPACE_ROWS", "fit_to_size", "small_workspace"]
