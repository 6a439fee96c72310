"""The one clock every write and every default instant reads.

:func:`now` is, in this order: the instant given to it; the instant a command's ``--now`` option
pinned (:func:`pin`, set by the shared option in :mod:`cosell.cli.common` for the duration of one
command); ``$COSELL_NOW`` (ISO 8601, in the supported years 1900 to 2999); else the system's UTC time. Every recorded instant (an import,
an attribution version, a decision, a ledger entry) and every default as-of and known-at instant
comes from it, so a test or a demo can pin time and get byte-identical output run after run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from cosell.errors import UsageError
from cosell.instants import parse_supported_instant

NOW_ENV = "COSELL_NOW"

# The instant a command's --now pinned (None: not pinned). Module state, set and released by the
# option's callback around one command; nothing else writes it.
_pinned_now: datetime | None = None


def now(explicit: datetime | None = None) -> datetime:
    """``explicit`` (must be timezone-aware), else ``$COSELL_NOW``, else the current UTC time."""
    if explicit is not None:
        if explicit.tzinfo is None:
            raise UsageError("an instant must be timezone-aware")
        return explicit.astimezone(UTC)
    if _pinned_now is not None:
        return _pinned_now
    text = os.environ.get(NOW_ENV)
    if text:
        try:
            return parse_supported_instant(text)
        except ValueError as exc:
            raise UsageError(f"{NOW_ENV}: {exc}") from None
    return datetime.now(UTC)


@contextmanager
def pinned(instant: datetime) -> Iterator[None]:
    """Within the block, :func:`now` returns ``instant`` unless given one (the pin in force before
    is restored after): ``cosell demo`` records each of its steps at a fixed instant."""
    previous = _pinned_now
    pin(instant)
    try:
        yield
    finally:
        pin(previous)


def pin(instant: datetime | None) -> None:
    """Make :func:`now` return ``instant`` (timezone-aware) until released with ``pin(None)``.

    ``cosell ... --now T`` calls it before the command runs and releases it after; it takes
    precedence over ``$COSELL_NOW``.
    """
    global _pinned_now
    if instant is not None and instant.tzinfo is None:
        raise UsageError("an instant must be timezone-aware")
    _pinned_now = None if instant is None else instant.astimezone(UTC)
