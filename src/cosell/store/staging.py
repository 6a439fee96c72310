"""Python rows staged as an Arrow table of text, for one set-based INSERT (:meth:`Engine.register`).

A row-at-a-time INSERT costs seconds per thousand rows. Building the Arrow arrays from Python
lists (``pyarrow.array``) imports pandas, half a second a command like ``cosell findings accept``
pays for a hundred rows; Arrow's JSON reader builds the same table without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cosell.engine import Engine


def text_table(columns: Sequence[str], rows: Sequence[Sequence[str | None]]) -> Any:
    """A ``pyarrow.Table`` with one string column per name in ``columns`` (None is null)."""
    import pyarrow as pa
    import pyarrow.json as pj

    schema = pa.schema([(c, pa.string()) for c in columns])
    if not rows:
        return schema.empty_table()
    lines = "\n".join(json.dumps(dict(zip(columns, r, strict=True))) for r in rows)
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="error")
    return pj.read_json(pa.BufferReader(lines.encode()), parse_options=options)


@contextmanager
def staged_rows(
    con: Engine, name: str, columns: Sequence[str], rows: Sequence[Sequence[str | None]]
) -> Iterator[str]:
    """Within: ``rows`` readable on ``con`` as the relation ``name`` (a :func:`text_table`
    registered with the engine), for one set-based statement; unregistered after."""
    con.register(name, text_table(columns, rows))
    try:
        yield name
    finally:
        con.unregister(name)


def typed_text(columns: Sequence[str], types: dict[str, str]) -> str:
    """SQL selecting text ``columns`` (staged rows, or the engine's formatted output) cast to
    their stored ``types`` (VARCHAR when not named); an empty text becomes NULL."""
    return ", ".join(f"CAST(nullif({c}, '') AS {types.get(c, 'VARCHAR')})" for c in columns)


def column_ddl(columns: Sequence[str], types: dict[str, str], required: set[str]) -> str:
    """The column definitions of a table that stores ``columns``: each of its stored type
    (VARCHAR when not named, as :func:`typed_text` casts it), NOT NULL when ``required``."""
    return ", ".join(f"{c} {types.get(c, 'VARCHAR')}{' NOT NULL' if c in required else ''}" for c in columns)
