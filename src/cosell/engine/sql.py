"""SQL text built from values: literals and lists, quoted the one way every statement uses; and
the texts of cosell's formats (instants, days, half microseconds) for statements written as text.

cosell's statements are written in one SQL (the engine boundary's reference dialect, see
:mod:`cosell.engine.base`); values that cannot be bound as parameters (inside a view, a ``COPY``,
a statement built once and cached) are written into them with these. The formats' originals are
:mod:`cosell.instants` and :mod:`cosell.results` (Python); the batch engine writes them with its
own Ibis expressions (:mod:`cosell.attribution.engine_base`); tests hold the three together.

>>> lit("O'Brien"), in_list({"b", "a"}), in_list(())
("'O''Brien'", "('a', 'b')", "('')")
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cosell.instants import MICROS_PER_DAY, format_instant


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


def instant_text(timestamp: str, micros: str) -> str:
    """SQL: an instant as :func:`cosell.instants.format_instant` writes it (ISO 8601 UTC with
    ``Z``, the microseconds only when there are any), given both as a TIMESTAMPTZ ``timestamp``
    (its seconds) and as its epoch microseconds ``micros`` (its fraction); NULL for NULL."""
    frac = f"(({micros}) % 1000000 + 1000000) % 1000000"
    return (
        f"(strftime({timestamp}, '%Y-%m-%dT%H:%M:%S') || CASE WHEN {frac} = 0 THEN '' "
        f"ELSE '.' || lpad(CAST({frac} AS VARCHAR), 6, '0') END || 'Z')"
    )


def days_text(n: str, halves: int = 1) -> str:
    """SQL: ``n`` microseconds (``halves`` 2: half microseconds) as days with six decimals,
    rounded half-even, the sign kept, as :func:`cosell.instants.format_days` writes them."""
    unit = halves * MICROS_PER_DAY // 1_000_000  # per millionth of a day
    q, r = f"(abs({n}) // {unit})", f"(abs({n}) % {unit})"
    rounded = f"({q} + CASE WHEN {r} * 2 > {unit} OR ({r} * 2 = {unit} AND {q} % 2 = 1) THEN 1 ELSE 0 END)"
    return (
        f"CASE WHEN {n} < 0 THEN '-' ELSE '' END || CAST({rounded} // 1000000 AS VARCHAR) || '.' || "
        f"lpad(CAST({rounded} % 1000000 AS VARCHAR), 6, '0')"
    )


def half_micros_text(doubled: str) -> str:
    """SQL: half of the integer ``doubled`` microseconds, exactly, as
    :func:`cosell.results.half_micros_text` writes it (``247`` gives ``123.5``)."""
    return (
        f"CASE WHEN {doubled} < 0 THEN '-' ELSE '' END || CAST(abs({doubled}) // 2 AS VARCHAR) || "
        f"CASE WHEN abs({doubled}) % 2 = 1 THEN '.5' ELSE '' END"
    )
