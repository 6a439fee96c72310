"""Which instant is which: every result is *as of* T, read from the data *known at* K.

Two different questions hide in "as of", and cosell keeps them apart (docs/as-of.md):

- **as of T**, the evaluation instant (``--as-of``): the instant the rules and the reports stand at.
  An open deal is evaluated at T (its close time X is T), a deal whose close time is after T was
  still open at T, a deal created after T did not exist yet, and a report's default period is the
  last complete one before T. Default: K.
- **known at K**, the knowledge instant (``--known-at``): what cosell had been told by K. Rows
  imported, attribution versions, overrides, declarations, decisions and ledger entries recorded at
  or before K. Default: now (:func:`cosell.clock.now`), that is everything recorded so far.

So ``--known-at T`` alone gives the numbers as they stood at T (reproducible: the same bytes after
any later import, run, fix or payout), and ``--as-of T`` alone gives T evaluated with everything
known today (for instance a quarter evaluated at its end with data imported since).

>>> from cosell.instants import parse_instant
>>> AsOf(parse_instant("2025-12-31"), parse_instant("2026-12-03T09:00:00Z"), True).sentence()
'as of 2025-12-31T00:00:00Z, with the data known at 2026-12-03T09:00:00Z'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cosell import clock
from cosell.errors import UsageError
from cosell.instants import format_instant


@dataclass(frozen=True)
class AsOf:
    """The two instants of one reading: ``as_of`` (T, evaluation) and ``known_at`` (K, knowledge).

    ``as_of_asked`` says T was asked for (``--as-of``), not defaulted to K: a reader of stored
    attribution then needs a version evaluated as of T (:func:`cosell.store.versions.base_run`);
    without it, it reads the newest version known at K, whatever instant it was evaluated at.
    """

    as_of: datetime
    known_at: datetime
    as_of_asked: bool = False

    @classmethod
    def resolve(cls, as_of: datetime | None = None, known_at: datetime | None = None) -> AsOf:
        """The instants of a command: K defaults to :func:`cosell.clock.now` and T to K.

        A knowledge instant after now is refused: nothing can be known later than now, and a
        result read "as known" at a future instant would change as data arrives.
        """
        now = clock.now()
        if known_at is not None and known_at > now:
            raise UsageError(
                f"--known-at {format_instant(known_at)} is after now ({format_instant(now)}): "
                "nothing is known later than now"
            )
        known = now if known_at is None else clock.now(known_at)
        return cls(known if as_of is None else clock.now(as_of), known, as_of is not None)

    @property
    def evaluated_at(self) -> datetime | None:
        """T when it was asked for (the stored attribution read must be evaluated then), else None."""
        return self.as_of if self.as_of_asked else None

    def sentence(self) -> str:
        """``as of T, with the data known at K`` (both ISO 8601 UTC)."""
        return f"as of {format_instant(self.as_of)}, with the data known at {format_instant(self.known_at)}"

    def line(self) -> str:
        """The line every command prints: which instant is which."""
        return (
            f"Evaluated as of {format_instant(self.as_of)} (--as-of), with the data known at "
            f"{format_instant(self.known_at)} (--known-at)."
        )

    def known_line(self) -> str:
        """The line of a command that has no as-of instant (``--known-at`` only): what it read."""
        return f"Read with the data known at {format_instant(self.known_at)} (--known-at)."


def knowledge(as_of: datetime | None, known_at: datetime | None) -> datetime | None:
    """The knowledge instant of a call of the library: ``known_at``; else ``as_of`` (an instant
    alone is the numbers as they stood then, T = K); else None, everything recorded so far.

    The command line always passes K (default now), so there ``--as-of T`` alone is T evaluated
    with everything known now; the library keeps the reading of its callers that pass one instant.
    """
    return as_of if known_at is None else known_at


def evaluation(as_of: datetime | None, known_at: datetime | None) -> datetime | None:
    """The instant a reader of stored attribution needs a run evaluated as of: ``as_of`` when both
    instants are given (``--as-of T`` on the command line), else None (the newest version known).
    """
    return as_of if as_of is not None and known_at is not None else None


def instants_line(as_of: datetime, known_at: datetime | None) -> str:
    """:meth:`AsOf.line` for a result that records its two instants (None: everything recorded)."""
    if known_at is None:
        return f"Evaluated as of {format_instant(as_of)} (--as-of), with everything recorded so far."
    return AsOf(as_of, known_at).line()


__all__ = ["AsOf", "evaluation", "instants_line", "knowledge"]
