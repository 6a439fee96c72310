"""Schema steps a capability re-checks at its entry points, without writing when nothing is missing.

Some workspaces made by development builds recorded a schema step while it was still empty, so the
capabilities' entry points make sure their tables exist. Readers open the workspace read-only
(:mod:`cosell.engine.duckdb_engine`), where even ``CREATE TABLE IF NOT EXISTS`` is refused: the step runs
only when one of its tables is really missing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from cosell.engine import Engine, EngineError


def ensure_tables(con: Engine, tables: Sequence[str], step: Callable[[Engine], None]) -> None:
    """Run the schema ``step`` when any of ``tables`` is missing from the workspace."""
    if not tables_present(con, tables):
        step(con)


def tables_present(con: Engine, tables: Sequence[str]) -> bool:
    """Whether every one of ``tables`` exists in the workspace.

    Asked of the catalog once per connection: tables found outside a transaction are committed,
    and no cosell command drops a workspace table, so the answer is kept on the connection
    (``Engine.present_tables``). A catalog query costs about 2 ms, and a command's entry points
    each ask for their tables (a payout run asks for the ledger's a dozen times). Tables found
    inside a transaction may be the transaction's own, gone if it rolls back: they are kept for
    the transaction (``Engine.found_in_transaction``), and on the connection once it commits.

    Outside a transaction, a query of none of their rows is asked first (under a millisecond, where
    a connection's first catalog query takes 8 to 12: the catalog describes every table); only
    when it fails (a table missing) does the catalog say. Inside one, a failed statement would
    abort the transaction, so the catalog is asked."""
    wanted = set(tables)
    if wanted <= con.present_tables | con.found_in_transaction:
        return True
    if not con.in_transaction and _read_as_relations(con, sorted(wanted)):
        con.present_tables.update(wanted)
        return True
    return tables_found(con, wanted) == wanted


def tables_found(con: Engine, tables: Collection[str]) -> set[str]:
    """Which of ``tables`` exist in the workspace: the catalog is asked only for those the
    connection has not found before, and what it finds is kept on the connection, from the
    commit of the transaction it was found in (:func:`tables_present` says why)."""
    wanted = set(tables)
    unknown = sorted(wanted - con.present_tables - con.found_in_transaction)
    if unknown:
        found = {
            str(r[0])
            for r in con.execute(
                "SELECT DISTINCT table_name FROM information_schema.tables "
                f"WHERE list_contains(?, table_name) AND {con.dialect.own_relations}",
                [unknown],
            ).fetchall()
        }
        if con.in_transaction:  # they may be its own: kept once it commits
            con.found_in_transaction.update(found)
        else:
            con.present_tables.update(found)
    return wanted & (con.present_tables | con.found_in_transaction)


def _read_as_relations(con: Engine, tables: Sequence[str]) -> bool:
    """Whether one query of none of the rows of ``tables`` runs: each is a relation the connection
    reads. Outside a transaction only (a failed statement aborts nothing there)."""
    try:
        names = ", ".join(f'"{name}"' for name in tables)
        con.execute(f"SELECT 1 FROM {names} LIMIT 0").fetchall()
    except EngineError:
        return False
    return True
