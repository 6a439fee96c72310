"""TOML text read for the files people write (the policy, pay plans, CRM mappings): every way the
text can fail to be TOML is one exception with a reason, never a traceback."""

from __future__ import annotations

import tomllib
from datetime import date, time
from decimal import Decimal
from typing import Any


class NotToml(ValueError):
    """The text is not TOML; ``str()`` is the reason, starting "not valid TOML"."""


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
