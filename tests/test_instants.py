from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cosell.instants import epoch_micros, format_days, format_instant, micros, parse_instant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
        ("2026-03-01T09:30", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        ("2026-03-01 09:30:00.25", datetime(2026, 3, 1, 9, 30, 0, 250000, tzinfo=UTC)),
        ("2026-03-01T09:30:00Z", datetime(2026, 3, 1, 9, 30, tzinfo=UTC)),
        ("2026-03-01T09:30:00+02:00", datetime(2026, 3, 1, 7, 30, tzinfo=UTC)),
        ("2026-03-01T00:30:00-05:00", datetime(2026, 3, 1, 5, 30, tzinfo=UTC)),
    ],
)
def test_parse_instant_normalises_to_utc(text: str, expected: datetime) -> None:
    value = parse_instant(text)
    assert value == expected
    assert value.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text", ["03/01/2026", "2026-13-01", "2026-02-30", "yesterday", "", "2026-03-01T25:00"]
)
def test_parse_instant_refuses_non_iso(text: str) -> None:
    with pytest.raises(ValueError):
        parse_instant(text)


def test_days_are_exact_and_rounded_only_for_display() -> None:
    assert format_days(86_400_000_000) == "1.000000"
    assert format_days(129_600_000_000) == "1.500000"
    assert format_days(1) == "0.000000"
    assert format_days(-43_200_000_000) == "-0.500000"


def test_format_instant() -> None:
    assert format_instant(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"
    tz = timezone(timedelta(hours=2))
    assert format_instant(datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=tz)) == "2026-01-02T01:04:05.000007Z"


@given(st.datetimes(timezones=st.just(UTC)), st.datetimes(timezones=st.just(UTC)))
def test_micros_orders_like_instants(a: datetime, b: datetime) -> None:
    assert (epoch_micros(a) < epoch_micros(b)) == (a < b)
    assert micros(b - a) == epoch_micros(b) - epoch_micros(a)
