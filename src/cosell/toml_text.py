"""TOML text read for the files people write (the policy, pay plans, CRM mappings): every way the
file can fail to be read, and the text to be TOML, is one exception with a reason, never a
traceback (nor a read that never ends)."""

from __future__ import annotations

import os
import stat
import tomllib
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any

# A policy, a plan or a mapping is a short text file: anything larger is not one.
MAX_TOML_FILE_BYTES = 16 * 1024 * 1024


class NotToml(ValueError):
    """The text is not TOML; ``str()`` is the reason, starting "not valid TOML"."""


class UnreadableFile(ValueError):
    """The file cannot be read as a short UTF-8 text; ``str()`` is the reason."""


def read_toml_file(path: str | Path, what: str) -> str:
    """The UTF-8 text (a byte-order mark dropped) of the file at ``path``, ``what`` naming what it
    should be ("a policy", "a plan", "a mapping") in the reasons of :class:`UnreadableFile`.

    A device or a pipe (/dev/zero, a FIFO) would be read forever, or wait for a writer: only a
    regular file (a folder gets the reason its read gives) is read, and at most
    ``MAX_TOML_FILE_BYTES`` of it.
    """
    try:
        kind = os.stat(path).st_mode
        if not (stat.S_ISREG(kind) or stat.S_ISDIR(kind)):
            raise UnreadableFile(f"is not a regular file ({what} is a TOML text file)")
        with open(path, "rb") as handle:
            data = handle.read(MAX_TOML_FILE_BYTES + 1)
    except OSError as exc:
        raise UnreadableFile(f"cannot read: {exc.strerror}") from None
    if len(data) > MAX_TOML_FILE_BYTES:
        raise UnreadableFile(f"is larger than {MAX_TOML_FILE_BYTES:,} bytes ({what} is a short text file)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile(f"is not a text file ({what} is TOML text in UTF-8)") from None


def read_toml(text: str) -> dict[str, Any]:
    """Parse ``text``; numbers with a fraction are exact Decimals, never binary floats.

    Raises :class:`NotToml` for a syntax error, an integer of more than 4,300 digits (Python's
    limit on turning text into int) and nesting deeper than the interpreter's recursion limit
    (tomllib recurses once per nested array or inline table)."""
    try:
        return tomllib.loads(text, parse_float=Decimal)
    except ValueError as exc:  # TOMLDecodeError, or an integer too long to convert
        raise NotToml(f"not valid TOML: {exc}") from None
    except RecursionError:
        raise NotToml("not valid TOML: nested too deeply") from None


def shown_value(value: Any) -> str:
    """A value read from TOML as the file wrote it, for an error message: text quoted, numbers
    plain, ``true``/``false`` (never Python's ``True``, ``Decimal('30.5')`` or
    ``datetime.time(12, 0)``).

    >>> shown_value(Decimal("30.5")), shown_value(True), shown_value("30"), shown_value(time(12, 0))
    ('30.5', 'true', "'30'", '12:00:00')
    >>> shown_value([Decimal("0.2"), True]), shown_value({"a": Decimal("1")})
    ('[0.2, true]', '{a = 1}')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | time):  # a TOML date, date-time or local time, as the file wrote it
        return value.isoformat()
    if isinstance(value, list):  # an array, each value as written ("[0.2]", not "[Decimal('0.2')]")
        return "[" + ", ".join(shown_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table
        return "{" + ", ".join(f"{k} = {shown_value(v)}" for k, v in value.items()) + "}"
    return repr(value)
