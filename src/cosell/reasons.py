"""Why a write is recorded (SPEC section 9: every write records who, when and why).

A command that needs a person's reason refuses a blank one (``check_reason`` of
:mod:`cosell.hygiene.decisions`). A batch command (an import, an attribution run, a
reconciliation, a referral read from a file) is its own why: without a reason, or with a blank
one, it records what was run, so no write is ever stored with an empty why. :func:`given_or_ran`
is that rule, the one place it is written; each command says what it ran (``cosell import
canonical DIR``, ``cosell reconcile --period P --as-of T --known-at K``).
"""

from __future__ import annotations

__all__ = ["given_or_ran"]


def given_or_ran(reason: str | None, ran: str) -> str:
    """The reason given, without the blanks around it; else (none given, or a blank one) ``ran``,
    the command that made the write.

    >>> given_or_ran("  Q3 close ", "cosell import canonical /data/q3")
    'Q3 close'
    >>> given_or_ran(" \\t", "cosell import canonical /data/q3")
    'cosell import canonical /data/q3'
    >>> given_or_ran(None, "cosell reconcile --period 2026-09")
    'cosell reconcile --period 2026-09'
    """
    given = (reason or "").strip()
    return given or ran
