"""SQL text built from values: literals and lists, quoted the one way every statement uses.

cosell's statements are written in one SQL (the engine boundary's reference dialect, see
:mod:`cosell.engine.base`); values that cannot be bound as parameters (inside a view, a ``COPY``,
a statement built once and cached) are written into them with these.

>>> lit("O'Brien"), in_list({"b", "a"}), in_list(())
("'O''Brien'", "('a', 'b')", "('')")
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cosell.instants import format_instant


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ts(instant: datetime) -> str:
    """A SQL TIMESTAMPTZ literal of a UTC instant."""
    return f"TIMESTAMPTZ '{format_instant(instant)}'"


def in_list(values: Iterable[str]) -> str:
    """``('a', 'b')`` for ``IN``, sorted. An empty list still parses and matches nothing (no stage
    or kind is the empty string)."""
    return "(" + ", ".join(lit(v) for v in sorted(values) or [""]) + ")"


def quoted(values: Iterable[str]) -> str:
    """``'a', 'b'``: the values as literals, sorted and comma-separated (``''`` for none)."""
    return ", ".join(lit(v) for v in sorted(values)) or "''"
