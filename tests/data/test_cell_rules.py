"""The two forms of a cell's rules agree: the reason (:func:`cosell.data.validate._cell_reason`,
what a problem says) and the bad-row condition (:func:`cosell.data.validate._cell_bad`, which
finds the bad rows of the canonical import and stops the fast one). A cell is bad by one exactly
when the other gives a reason, for every column of every table, on cells made to break each rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cosell.data.read import Staged, TableFile
from cosell.data.validate import _cell_bad, _cell_reason, typed, with_instants
from cosell.instants import parse_instant
from cosell.policy import Policy
from cosell.store.schema import TABLES, Table

# Cells near every rule's edge: instants out of range or with a bad hour, numbers with too many
# digits or decimals, currencies in and out of ISO 4217 (and in another case), booleans, periods.
CELLS = [
    "", " ", "x", "0", "1", "-1", "+3.5", ".5", "5.", "1e3", "12345678901234", "123456789012345",
    "573600.00", "573600.50", "0.125", "0.1250000000000", "0.0000000000001", "true", "T", "no",
    "maybe", "2026-01-01", "2026-13-01", "2026-02-30", "2026-01-01T24:00:00Z", "2026-01-01T23:59:59z",
    "2026-01-01 10:00:00+14:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
    "2026-Q3", "2026-Q5", "2026-08", "2026-13", "USD", "usd", "JPY", "BHD", "XXX", "US", "USD,EUR",
    "partner", "direct", "sourced", "open",
]  # fmt: skip
cells = st.one_of(st.none(), st.sampled_from(CELLS), st.text(max_size=12))


def _staged(table: Table) -> Staged:
    header = tuple(table.column_names)
    return Staged(table, TableFile(table.name, Path(f"{table.name}.csv"), "csv"), "t", header, 2, 0)


def _created_at_read(con: duckdb.DuckDBPyConnection, cell: str) -> tuple[Any, ...]:
    """How the import reads ``cell`` as a deal's created_at: (its reason, the instant it stores,
    whether the bad-row condition holds)."""
    table = next(t for t in TABLES if t.name == "opportunities")
    column = next(c for c in table.columns if c.name == "created_at")
    staged, policy = _staged(table), Policy()
    reason, value = _cell_reason(column, staged, policy), typed(column, policy, table.name)
    bad = _cell_bad(column, staged, policy)
    # Over the relation as the import makes it: the instant read once (with_instants).
    rows = with_instants(table, "(VALUES (CAST($1 AS VARCHAR))) t(n_created_at)", ["created_at"])
    found = con.execute(f"SELECT {reason}, {value}, {bad} FROM ({rows})", [cell]).fetchone()
    assert found is not None
    return found


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
@settings(max_examples=25)
@given(data=st.data())
def test_a_cell_is_bad_exactly_when_it_has_a_reason(
    con: duckdb.DuckDBPyConnection, table: Table, data: st.DataObject
) -> None:
    staged, policy = _staged(table), Policy()
    rules = [
        (c.name, reason, _cell_bad(c, staged, policy))
        for c in table.columns
        if (reason := _cell_reason(c, staged, policy)) is not None
    ]
    assert all(bad is not None for _, _, bad in rules)
    rows = data.draw(st.lists(st.tuples(*[cells for _ in table.columns]), min_size=1, max_size=30))
    width = len(table.columns)
    values = ", ".join(
        "(" + ", ".join(f"CAST(${r * width + i + 1} AS VARCHAR)" for i in range(width)) + ")"
        for r in range(len(rows))
    )
    names = ", ".join(f"n_{c.name}" for c in table.columns)
    checks = ", ".join(f"({reason}) IS NOT NULL, coalesce(({bad}), false)" for _, reason, bad in rules)
    relation = with_instants(table, f"(VALUES {values}) t({names})")
    found = con.execute(
        f"SELECT {checks} FROM ({relation})", [cell for row in rows for cell in row]
    ).fetchall()
    for row, results in zip(rows, found, strict=True):
        for i, (column, _, _) in enumerate(rules):
            assert results[2 * i] == results[2 * i + 1], (
                table.name,
                column,
                row[table.column_names.index(column)],
            )


@settings(max_examples=200)
@given(
    sign=st.sampled_from("+-"),
    hours=st.integers(0, 99),
    minutes=st.integers(0, 99),
    colon=st.booleans(),
    space=st.sampled_from(["", " "]),
)
def test_an_instant_cell_is_read_as_parse_instant_reads_it(
    con: duckdb.DuckDBPyConnection, sign: str, hours: int, minutes: int, colon: bool, space: str
) -> None:
    """The import takes a timestamp's offset as the Python reading does: one past +23:59 (24:00,
    05:60, 99:99) is not a valid time, and a valid one gives the same UTC instant (the engine's
    cast read +99:99 as 4 days and 3 hours and stored the shifted time). Snowflake's space before
    the offset (``... -0800``) is read alike; the engine's cast alone does not read it."""
    cell = f"2026-03-15 12:00:00.000{space}{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"
    found = _created_at_read(con, cell)
    try:
        expected = parse_instant(cell)
    except ValueError:
        assert found[0] == "is not a valid date or time", cell
    else:
        assert found[0] is None, cell
        assert found[1] == expected, cell


@settings(max_examples=200)
@given(
    micro=st.integers(0, 999_999),
    extra=st.text(alphabet="0123456789", max_size=6),
    zone=st.sampled_from(["", "Z", "z", " UTC", "+02:00", "-0530", " -0800", " +01"]),
)
def test_a_fraction_past_the_microsecond_is_read_as_parse_instant_reads_it(
    con: duckdb.DuckDBPyConnection, micro: int, extra: str, zone: str
) -> None:
    """Nine fraction digits (Snowflake TIMESTAMP_NTZ(9), BigQuery, Spark): the import reads zeros
    past the sixth digit as the exact microsecond instant, and refuses a non-zero one with the
    reason parse_instant gives (the engine's cast would truncate it to a neighbouring instant).
    BigQuery's " UTC" for Z, and Snowflake's space before an offset, are read alike."""
    cell = f"2026-03-15 12:00:00.{micro:06d}{extra}{zone}"
    found = _created_at_read(con, cell)
    try:
        expected = parse_instant(cell)
    except ValueError as exc:
        assert extra.strip("0"), cell
        assert found[0] == str(exc).removeprefix(f"{cell!r} "), cell
        assert found[2] is True, cell
    else:
        assert not extra.strip("0"), cell
        assert found[0] is None and not found[2], cell
        assert found[1] == expected, cell
