from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cosell.instants import (
    END_SUPPORTED,
    FIRST_SUPPORTED,
    OUT_OF_RANGE,
    SUB_MICROSECOND,
    UNSUPPORTED,
    epoch_micros,
    format_days,
    format_instant,
    is_supported,
    micros,
    parse_instant,
    parse_supported_instant,
    utc,
)


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


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00+14:00", "0001-01-01T00:59:59+01:00", "9999-12-31T23:00:00-05:00"]
)
def test_instants_outside_years_1_to_9999_in_utc_are_refused(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_instant(text)
    assert str(refused.value) == f"'{text}' {OUT_OF_RANGE}"


def test_the_edges_of_the_range_are_instants() -> None:
    assert parse_instant("9999-12-31") == datetime(9999, 12, 31, tzinfo=UTC)
    assert parse_instant("9999-12-31T23:59:59.999999Z") == datetime(
        9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC
    )
    assert parse_instant("0001-01-01T00:00:00Z") == datetime(1, 1, 1, tzinfo=UTC)
    assert parse_instant("0001-01-01T01:00:00+01:00") == datetime(1, 1, 1, tzinfo=UTC)


def test_utc_refuses_an_aware_datetime_outside_the_range() -> None:
    with pytest.raises(ValueError, match=OUT_OF_RANGE):
        utc(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))))
    assert utc(datetime(9999, 12, 31, 18, tzinfo=timezone(timedelta(hours=-5)))) == datetime(
        9999, 12, 31, 23, tzinfo=UTC
    )


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


@pytest.mark.parametrize(
    "text",
    ["0001-01-01", "1899-12-31T23:59:59.999999Z", "1900-01-01T00:30:00+01:00", "3000-01-01", "9999-12-31",
     "2999-12-31T23:00:00-05:00", "0001-01-01T00:00:00+14:00"],
)  # fmt: skip
def test_instants_outside_the_supported_years_are_refused(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_supported_instant(text)
    assert str(refused.value) == f"'{text}' {UNSUPPORTED}"


def test_the_edges_of_the_supported_years_are_instants() -> None:
    assert parse_supported_instant("1900-01-01") == FIRST_SUPPORTED
    assert parse_supported_instant("1899-12-31T19:00:00-05:00") == FIRST_SUPPORTED
    last = parse_supported_instant("2999-12-31T23:59:59.999999Z")
    assert last == END_SUPPORTED - timedelta(microseconds=1)
    assert is_supported(last) and not is_supported(END_SUPPORTED)
    with pytest.raises(ValueError, match="not an ISO 8601"):
        parse_supported_instant("yesterday")


@given(sign=st.sampled_from("+-"), hours=st.integers(0, 99), minutes=st.integers(0, 99))
def test_an_offset_is_valid_only_up_to_23_59(sign: str, hours: int, minutes: int) -> None:
    """An offset is hours 00 to 23 and minutes 00 to 59 (ISO 8601, RFC 3339); datetime took +00:60
    as +01:00, which the import's reading refuses."""
    text = f"2026-03-15T12:00:00{sign}{hours:02d}:{minutes:02d}"
    if hours <= 23 and minutes <= 59:
        shift = timedelta(hours=hours, minutes=minutes)
        local = datetime(2026, 3, 15, 12, tzinfo=UTC)
        assert parse_instant(text) == (local - shift if sign == "+" else local + shift)
    else:
        with pytest.raises(ValueError, match="is not a valid date or time"):
            parse_instant(text)


@given(
    micro=st.integers(0, 999_999),
    extra=st.text(alphabet="0123456789", min_size=1, max_size=6),
    suffix=st.sampled_from(["", "Z", "z", "+02:00", "-0530"]),
    separator=st.sampled_from("T "),
)
def test_fraction_digits_past_the_sixth_are_read_only_when_they_are_zeros(
    micro: int, extra: str, suffix: str, separator: str
) -> None:
    """Warehouses write nanoseconds (``.123000000``): zeros past the sixth digit are exactly a
    microsecond instant and read as it; a non-zero digit there is refused (never truncated)."""
    text = f"2026-03-01{separator}10:00:00.{micro:06d}{extra}{suffix}"
    exact = parse_instant(f"2026-03-01T10:00:00.{micro:06d}{suffix}")
    if set(extra) == {"0"}:
        assert parse_instant(text) == exact
        assert parse_supported_instant(text) == exact
    else:
        with pytest.raises(ValueError) as refused:
            parse_instant(text)
        assert str(refused.value) == f"{text!r} {SUB_MICROSECOND}"
        with pytest.raises(ValueError, match="finer than a microsecond"):
            parse_supported_instant(text)


@given(
    instant=st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2999, 12, 30)),
    separator=st.sampled_from("T "),
    seconds=st.sampled_from(["", ":00", ":00.5", ":00.123456", ":00.123000000"]),
)
def test_bigquery_s_utc_suffix_is_z_and_no_other_zone_name_is_read(
    instant: datetime, separator: str, seconds: str
) -> None:
    """BigQuery writes a TIMESTAMP as "2026-03-01 10:00:00.123456 UTC": the same instant as with Z.
    Another spelling of a zone name (utc, two spaces, UTC+1, a region) is not ISO 8601 and is
    refused, never guessed."""
    text = f"{instant:%Y-%m-%d}{separator}{instant:%H:%M}{seconds}"
    assert parse_instant(f"{text} UTC") == parse_instant(f"{text}Z")
    for other in (" utc", "  UTC", " UTC+1", " GMT", " Europe/Paris"):
        with pytest.raises(ValueError, match="is not an ISO 8601 date or timestamp"):
            parse_instant(text + other)


@given(
    instant=st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2999, 12, 30)),
    separator=st.sampled_from("T "),
    seconds=st.sampled_from(["", ":00", ":00.000", ":00.123456", ":00.123000000"]),
    offset=st.sampled_from(["-0800", "+05:30", "+01", "-00:00", "+1400"]),
)
def test_snowflake_s_space_before_the_offset_is_read_as_the_offset(
    instant: datetime, separator: str, seconds: str, offset: str
) -> None:
    """Snowflake writes a TIMESTAMP_TZ as "2026-03-01 10:00:00.000 -0800" by default: the same
    instant as with the offset written against the time. Two spaces, a space before Z, or a space
    before an offset with no time are not ISO 8601 and are refused."""
    text = f"{instant:%Y-%m-%d}{separator}{instant:%H:%M}{seconds}"
    assert parse_instant(f"{text} {offset}") == parse_instant(f"{text}{offset}")
    for other in (f"{text}  {offset}", f"{text} Z", f"{instant:%Y-%m-%d} {offset}"):
        with pytest.raises(ValueError, match="is not an ISO 8601 date or timestamp"):
            parse_instant(other)
