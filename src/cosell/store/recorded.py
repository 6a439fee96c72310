"""The newest instant a workspace recorded, and the refusal to record something dated before it.

A write dated (``--now``, ``$COSELL_NOW``) before what is already recorded would change what a
reading at an earlier knowledge instant showed (docs/as-of.md). One rule for every write, review
and pay alike: :func:`cosell.store.review.check_not_backdated` over what its ``RECORDED_INSTANTS``
list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cosell.engine import Engine
from cosell.errors import CosellError
from cosell.instants import format_instant
from cosell.store.tables import tables_found

__all__ = ["newest_instant", "refuse_backdated"]


def newest_instant(con: Engine, instants: Sequence[tuple[str, str, str]]) -> tuple[datetime, str] | None:
    """The latest instant recorded in any of ``instants`` (table, column, what a row of it is: "a
    ledger posting") with what was recorded then, or None when all are empty. Tables the workspace
    lacks (a capability never used) hold nothing. On a tie the first of ``instants`` is named."""
    # Asked of the catalog only for tables the connection has not found yet: every write asks this.
    present = tables_found(con, {table for table, _, _ in instants})
    newest = " UNION ALL ".join(
        f"SELECT max({column}) AS t, {i} AS i FROM {table}"
        for i, (table, column, _) in enumerate(instants)
        if table in present
    )
    if not newest:
        return None
    row = con.execute(
        f"SELECT t, i FROM ({newest}) WHERE t IS NOT NULL ORDER BY t DESC, i LIMIT 1"
    ).fetchone()
    return None if row is None else (row[0], instants[int(row[1])][2])


def refuse_backdated(at: datetime, last: tuple[datetime, str] | None, what: str) -> None:
    """Refuse to record ``what`` at ``at`` when something was already recorded after it: ``last``
    is when and what (:func:`newest_instant`). The record would rewrite what a reading at an
    earlier instant already showed. The same instant is fine (a batch shares one)."""
    if last is not None and last[0] > at:
        when = format_instant(last[0])
        raise CosellError(
            f"{what} at {format_instant(at)} is before the last recorded change, {last[1]} at "
            f"{when}: give --now {when} or later"
        )
