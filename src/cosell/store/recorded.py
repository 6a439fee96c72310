"""The newest instant a workspace recorded, and the refusal to record something dated before it.

A write dated (``--now``, ``$COSELL_NOW``) before what is already recorded would change what a
reading at an earlier knowledge instant showed (docs/as-of.md): the review tables
(:func:`cosell.store.review.check_not_backdated`), the ledger
(:func:`cosell.store.ledger.check_ledger_not_backdated`) and plan loads refuse it in the same words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cosell.engine import Engine
from cosell.errors import CosellError
from cosell.instants import format_instant

__all__ = ["newest_instant", "refuse_backdated"]


def newest_instant(con: Engine, instants: Sequence[tuple[str, str]]) -> datetime | None:
    """The latest instant recorded in any of ``instants`` (table, column), or None when all are empty."""
    newest = " UNION ALL ".join(f"SELECT max({column}) AS t FROM {table}" for table, column in instants)
    row = con.execute(f"SELECT max(t) FROM ({newest})").fetchone()
    return None if row is None or row[0] is None else row[0]


def refuse_backdated(at: datetime, last: datetime | None, what: str, since: str) -> None:
    """Refuse to record ``what`` at ``at`` when something was already recorded after it, at ``last``
    (``since`` names it: "the last recorded change"): the record would rewrite what a reading at an
    earlier instant already showed. The same instant is fine (a batch shares one)."""
    if last is not None and last > at:
        when = format_instant(last)
        raise CosellError(
            f"{what} at {format_instant(at)} is before {since} ({when}): give --now {when} or later"
        )
