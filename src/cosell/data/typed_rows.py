"""Staged rows in the stored types, and the hash that versions them.

A row's hash is the md5 of its stored values as text (:func:`row_hash_sql`), so it need not be
computed when the row is written: :data:`UNHASHED` stands for the hash of the stored values,
computed when a later import compares (:func:`stored_row_hash`). Shared by the canonical import
(:mod:`cosell.data.load`) and its one-pass form (:mod:`cosell.data.fast_load`).
"""

from __future__ import annotations

from cosell.data.read import Staged
from cosell.data.validate import PROBLEMS, typed
from cosell.engine.sql import lit
from cosell.policy import Policy
from cosell.store.schema import Table

UNHASHED = "-"  # the _row_hash of a row written without it (never an md5 digest): stored_row_hash


def typed_select(
    source: Staged,
    view: str,
    policy: Policy,
    *,
    hashed: bool = True,
    filtered: bool = True,
    also: str | None = None,
) -> str:
    """The accepted rows of a staged file in the stored types, with ``extra`` and ``_row_hash``.

    ``hashed=False``: ``_row_hash`` is :data:`UNHASHED`; ``filtered=False``: every staged row
    (when the file has no problems); ``also``: one more column (``<sql> AS <name>``) computed in
    the projection that converts the cells.
    """
    table = source.table
    cols = [f"{typed(c, policy, table.name)} AS {c.name}" for c in table.columns]
    unknown = source.unknown_columns
    if unknown:
        pairs = ", ".join(f"{lit(name)}, {col}" for name, col in unknown)
        extra = f"CAST(json_object({pairs}) AS VARCHAR)"
    else:
        extra = "NULL::VARCHAR"
    row_hash = row_hash_sql(table) if hashed else lit(UNHASHED)
    rows = (
        f"(SELECT * FROM {view} WHERE _row NOT IN (SELECT row FROM {PROBLEMS} WHERE tbl = {lit(table.name)}))"
        if filtered
        else view
    )
    more = f", {also}" if also else ""
    return f"SELECT *, {row_hash} AS _row_hash FROM (SELECT {', '.join(cols)}, {extra} AS extra{more} FROM {rows})"


def row_hash_sql(table: Table) -> str:
    """The md5 of a row's values in ``table``'s stored types, as text, and its ``extra``: over the
    typed columns of an import's rows, or over a stored row (the same values, the same types)."""
    values = [f"CAST({c.name} AS VARCHAR)" for c in table.columns] + ["extra"]
    digest = " || '|' || ".join(f"coalesce(length({h}) || ':' || {h}, '-')" for h in values)
    return f"md5({digest})"


def stored_row_hash(table: Table) -> str:
    """A stored row's hash: its ``_row_hash``, or computed from its values when it was written
    without one (:data:`UNHASHED`)."""
    return f"CASE WHEN _row_hash = {lit(UNHASHED)} THEN {row_hash_sql(table)} ELSE _row_hash END"


def insert_versions_sql(table: Table, rows: str) -> str:
    """The statement that inserts ``rows`` (a relation of ``table``'s columns, ``extra`` and
    ``_row_hash``) into ``table`` as current versions; its parameters are the instant they are
    valid from and the import's id."""
    columns = ", ".join(table.column_names)
    return (
        f"INSERT INTO {table.name} ({columns}, extra, _row_hash, _valid_from, _valid_to, _import_id) "
        f"SELECT {columns}, extra, _row_hash, ?, NULL, ? FROM ({rows})"
    )
