"""The formats written as SQL text (:mod:`cosell.engine.sql`: instants, days, half microseconds)
give the texts the Python originals give (:mod:`cosell.instants`, :mod:`cosell.results`), the
roundings' ties and the signs included. Reconciliation and the incremental re-test write their
rows with them, beside the engine's rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cosell.engine import Engine, memory_engine
from cosell.engine.sql import days_text, half_micros_text, instant_text
from cosell.instants import format_days, format_instant
from cosell.results import half_micros_text as half_micros_python

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PER_MILLIONTH = 86_400  # microseconds in a millionth of a day: a tie is half of it


@pytest.fixture(scope="module")
def con() -> Iterator[Engine]:
    engine = memory_engine()
    yield engine
    engine.close()


def _texts(con: Engine, sql_of: object, values: list[int]) -> list[str | None]:
    rows = ", ".join(f"({i}, {v})" for i, v in enumerate(values))
    query = f"SELECT {sql_of('v')} FROM (VALUES {rows}) t(i, v) ORDER BY i"  # type: ignore[operator]
    return [r[0] for r in con.execute(query).fetchall()]


INSTANTS = [
    -62_135_596_800_000_000,
    -30_610_224_000_000_001,
    0,
    1,
    999_999,
    1_000_000,
    -1,
    -1_000_000,
    1_767_225_600_123_456,
    253_402_300_799_999_999,
]
DAYS = [0, 1, -1, PER_MILLIONTH // 2, -(PER_MILLIONTH // 2), PER_MILLIONTH * 3 // 2, PER_MILLIONTH * 5 // 2]
DAYS += [PER_MILLIONTH // 2 + 1, 86_400_000_000 * 45 + 7, -(86_400_000_000 * 2) - PER_MILLIONTH // 2]


def test_instants_days_and_halves_on_hand_picked_values(con: Engine) -> None:
    assert _texts(con, lambda v: instant_text(f"make_timestamptz({v})", v), INSTANTS) == [
        format_instant(EPOCH + timedelta(microseconds=m)) for m in INSTANTS
    ]
    assert _texts(con, lambda v: instant_text(f"make_timestamptz({v})", v), [0])[0] == "1970-01-01T00:00:00Z"
    assert _texts(con, days_text, DAYS) == [format_days(n) for n in DAYS]
    # A tie rounds to the even millionth: half a millionth is 0, one and a half is 2.
    assert _texts(con, days_text, DAYS[3:6]) == ["0.000000", "-0.000000", "0.000002"]
    doubled = [n * 2 + 1 for n in DAYS]  # half microseconds: an odd count is a half
    assert _texts(con, lambda v: days_text(v, 2), doubled) == [
        format_days(Decimal(2 * n + 1) / 2) for n in DAYS
    ]
    halves = [-3, -2, 0, 1, 247, 246]
    assert _texts(con, half_micros_text, halves) == ["-1.5", "-1", "0", "0.5", "123.5", "123"]
    assert _texts(con, half_micros_text, halves) == [half_micros_python(h) for h in halves]


@given(
    micros=st.lists(st.integers(-62_135_596_800_000_000, 253_402_300_799_999_999), min_size=1, max_size=20),
    durations=st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=20),
)
def test_the_sql_texts_are_the_python_texts(con: Engine, micros: list[int], durations: list[int]) -> None:
    assert _texts(con, lambda v: instant_text(f"make_timestamptz({v})", v), micros) == [
        format_instant(EPOCH + timedelta(microseconds=m)) for m in micros
    ]
    assert _texts(con, days_text, durations) == [format_days(n) for n in durations]
    assert _texts(con, half_micros_text, durations) == [half_micros_python(n) for n in durations]
