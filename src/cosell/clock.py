"""The one clock every write reads: ``$COSELL_NOW`` (ISO 8601) when set, else the system's UTC time.

Every recorded instant (an import, an attribution version, a decision, a ledger entry) comes from
:func:`now`, so a test or a demo can pin time and get byte-identical output run after run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from cosell.errors import UsageError
from cosell.instants import parse_instant

NOW_ENV = "COSELL_NOW"


def now(explicit: datetime | None = None) -> datetime:
    """``explicit`` (must be timezone-aware), else ``$COSELL_NOW``, else the current UTC time."""
    if explicit is not None:
        if explicit.tzinfo is None:
            raise UsageError("an instant must be timezone-aware")
        return explicit.astimezone(UTC)
    text = os.environ.get(NOW_ENV)
    if text:
        try:
            return parse_instant(text)
        except ValueError as exc:
            raise UsageError(f"{NOW_ENV}: {exc}") from None
    return datetime.now(UTC)


@contextmanager
def pinned(instant: datetime) -> Iterator[None]:
    """Within the block, :func:`now` returns ``instant`` unless given one (``$COSELL_NOW`` is set
    to it and restored after): ``cosell demo`` records each of its steps at a fixed instant."""
    previous = os.environ.get(NOW_ENV)
    os.environ[NOW_ENV] = instant.astimezone(UTC).isoformat()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(NOW_ENV, None)
        else:
            os.environ[NOW_ENV] = previous
