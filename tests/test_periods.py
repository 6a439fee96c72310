from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cosell.periods import fiscal_quarter, month, parse_period, rate_periods


def test_calendar_quarters_with_january_start() -> None:
    q = fiscal_quarter(datetime(2026, 8, 15, tzinfo=UTC))
    assert q.label == "2026-Q3"
    assert q.start == datetime(2026, 7, 1, tzinfo=UTC)
    assert q.end == datetime(2026, 10, 1, tzinfo=UTC)


def test_february_start_names_the_year_it_ends_in() -> None:
    # FY2027 runs 2026-02-01 .. 2027-01-31: January 2027 is its Q4, February 2026 its Q1.
    assert fiscal_quarter(datetime(2026, 2, 1, tzinfo=UTC), 2).label == "2027-Q1"
    assert fiscal_quarter(datetime(2027, 1, 31, 23, 59, tzinfo=UTC), 2).label == "2027-Q4"
    assert fiscal_quarter(datetime(2026, 1, 31, tzinfo=UTC), 2).label == "2026-Q4"
    q = parse_period("2027-Q1", 2)
    assert (q.start, q.end) == (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))


def test_boundaries_are_midnight_utc() -> None:
    assert month(datetime(2026, 9, 30, 23, 59, 59, 999999, tzinfo=UTC)).label == "2026-09"
    assert month(datetime(2026, 10, 1, tzinfo=UTC)).label == "2026-10"
    assert rate_periods(datetime(2026, 12, 31, 23, 0, tzinfo=UTC)) == ("2026-12", "2026-Q4")


@pytest.mark.parametrize("label", ["2026-13", "2026-Q5", "26-Q1", "2026/08", "2026-8"])
def test_bad_labels(label: str) -> None:
    with pytest.raises(ValueError, match="is not a period"):
        parse_period(label)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.integers(1, 12),
)
def test_every_instant_is_in_its_quarter_and_labels_round_trip(instant: datetime, start: int) -> None:
    q = fiscal_quarter(instant, start)
    assert q.contains(instant)
    assert parse_period(q.label, start) == q
    m = month(instant)
    assert m.contains(instant) and parse_period(m.label) == m


@pytest.mark.parametrize("label", ["0001-01", "0001-Q1", "1899-12", "3000-01", "9999-12", "9999-Q4"])
@pytest.mark.parametrize("start_month", [1, 2, 12])
def test_labels_outside_the_supported_years_are_refused(label: str, start_month: int) -> None:
    with pytest.raises(ValueError, match=f"'{label}' is outside the years 1900 to 2999"):
        parse_period(label, start_month)


@pytest.mark.parametrize("start_month", [1, 2, 12])
def test_the_first_and_last_supported_labels_are_periods(start_month: int) -> None:
    for label in ("1900-01", "1900-Q1", "2999-12", "2999-Q4"):
        assert parse_period(label, start_month).label == label
    assert parse_period("2999-12").end == datetime(3000, 1, 1, tzinfo=UTC)
