"""UTC instants and exact durations.

Every timestamp in cosell is a timezone-aware ``datetime`` in UTC. Durations are compared as whole
microseconds (integers), never as floating-point days; a number of days is shown as an exact
Decimal (microseconds / 86,400,000,000) rounded only for display.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

MICROS_PER_DAY = 86_400_000_000

# ISO 8601 as CRMs and warehouses export it: a date, or a date and time with optional fraction and
# offset. Accepts "2026-03-01", "2026-03-01T09:30", "2026-03-01 09:30:00.25+02:00", "...Z", and a
# fraction of more than six digits whose digits past the sixth are zeros (Snowflake's
# TIMESTAMP_NTZ(9), BigQuery and Spark write "2026-03-01 10:00:00.123000000"): it is exactly a
# microsecond instant, which is what cosell stores. A time may end in " UTC" for Z, as BigQuery
# writes a TIMESTAMP ("2026-03-01 10:00:00.123456 UTC"); no other zone name is read. A numeric
# offset may follow the time after one space, as Snowflake writes a TIMESTAMP_TZ by default
# ("2026-03-01 10:00:00.000 -0800").
ISO_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6}0*)?)?(Z|z| UTC| ?[+-][0-9]{2}(:?[0-9]{2})?)?)?$"
)
_ISO_RE = re.compile(ISO_PATTERN)

# A timestamp ISO_PATTERN would accept but for a non-zero digit past the microsecond
# ("...10:00:00.123456789Z"): cosell compares instants exactly and cannot keep this one, so it is
# refused with its own reason (never truncated or rounded to a neighbouring microsecond).
SUB_MICROSECOND_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}[0-9]*[1-9][0-9]*"
    r"(Z|z| UTC| ?[+-][0-9]{2}(:?[0-9]{2})?)?$"
)
_SUB_MICROSECOND_RE = re.compile(SUB_MICROSECOND_PATTERN)
SUB_MICROSECOND = (
    "has a fraction of a second finer than a microsecond (a non-zero digit past the sixth): "
    "cosell keeps instants to the microsecond and cannot keep this one exactly"
)
# The zeros past the sixth digit of a fraction, dropped before reading the instant.
_EXTRA_ZEROS_RE = re.compile(r"(\.[0-9]{6})0+")
# The space before a numeric offset (Snowflake's "... -0800"), dropped before reading the instant:
# neither Python's datetime nor the engine's cast reads it. Replace its match by group 1.
SPACED_OFFSET_PATTERN = r" ([+-][0-9]{2}(:?[0-9]{2})?)$"
_SPACED_OFFSET_RE = re.compile(SPACED_OFFSET_PATTERN)

# A text ISO_PATTERN accepts whose offset is no offset: hours past 23 or minutes past 59 (+24:00,
# +05:60, +99:99). Both Python's datetime (+00:60 as +01:00) and the engine's cast (+99:99 as four
# days) would otherwise read some of them as a shifted time.
BAD_OFFSET_PATTERN = r"^.*[T ].*[+-]([0-9]{2}:?[6-9][0-9]|(2[4-9]|[3-9][0-9])(:?[0-9]{2})?)$"
_BAD_OFFSET_RE = re.compile(BAD_OFFSET_PATTERN)


# Every stored instant is a UTC instant in years 1 to 9999 (what Python's datetime holds; DuckDB would
# store an earlier one as a BC date). 9999-12-31, a common "never" in CRMs, is inside.
OUT_OF_RANGE = "is outside the years 1 to 9999 once converted to UTC"


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 date or timestamp; no offset means UTC; a date is midnight UTC.

    An instant whose UTC value falls outside the years 1 to 9999 is refused (ValueError).

    >>> parse_instant("2026-03-01T09:30:00+02:00").isoformat()
    '2026-03-01T07:30:00+00:00'
    >>> parse_instant("0001-01-01T00:00:00+14:00")
    Traceback (most recent call last):
    ...
    ValueError: '0001-01-01T00:00:00+14:00' is outside the years 1 to 9999 once converted to UTC

    Nanoseconds as warehouses write them are read when they are exactly a microsecond instant:

    >>> parse_instant("2026-03-01 10:00:00.123000000").isoformat()
    '2026-03-01T10:00:00.123000+00:00'
    >>> parse_instant("2026-03-01T10:00:00.123456789Z")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: '2026-03-01T10:00:00.123456789Z' has a fraction of a second finer than a microsecond...

    BigQuery's " UTC" reads as Z, and Snowflake's space before an offset is read past:

    >>> parse_instant("2026-03-01 10:00:00.5 UTC").isoformat()
    '2026-03-01T10:00:00.500000+00:00'
    >>> parse_instant("2026-03-01 10:00:00.000 -0800").isoformat()
    '2026-03-01T18:00:00+00:00'
    """
    s = text.strip()
    if _SUB_MICROSECOND_RE.match(s):
        raise ValueError(f"{text!r} {SUB_MICROSECOND}")
    if not _ISO_RE.match(s):
        raise ValueError(f"{text!r} is not an ISO 8601 date or timestamp")
    s = _SPACED_OFFSET_RE.sub(r"\1", _EXTRA_ZEROS_RE.sub(r"\1", s))
    if _BAD_OFFSET_RE.match(s):
        raise ValueError(f"{text!r} is not a valid date or time")
    if s[-1] in "Zz":
        s = s[:-1] + "+00:00"
    elif s.endswith(" UTC"):
        s = s[:-4] + "+00:00"
    try:
        value = datetime.fromisoformat(s)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date or time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} {OUT_OF_RANGE}") from None


# The instants cosell supports as an evaluation or event instant: the years 1900 to 2999 in UTC.
# Every window the policy allows (at most policy.MAX_DAYS, a hundred years) and the quarters and
# fiscal years a report steps back or forward stay inside Python's calendar (years 1 to 9999) from
# any of them; a CRM date before 1900 or after 2999 is a typo (0025 for 2025) or a sentinel.
FIRST_SUPPORTED = datetime(1900, 1, 1, tzinfo=UTC)
END_SUPPORTED = datetime(3000, 1, 1, tzinfo=UTC)  # exclusive: the last is 2999-12-31T23:59:59.999999Z
FIRST_SUPPORTED_YEAR, LAST_SUPPORTED_YEAR = 1900, 2999
UNSUPPORTED = "is outside the years 1900 to 2999 (in UTC) that cosell supports"


def is_supported(instant: datetime) -> bool:
    """Whether an aware instant falls in the supported years 1900 to 2999 (UTC)."""
    return FIRST_SUPPORTED <= instant < END_SUPPORTED


def parse_supported_instant(text: str) -> datetime:
    """:func:`parse_instant`, and refuse (ValueError) an instant outside the supported years 1900
    to 2999 in UTC: the reading of every instant given to a command (options, ``$COSELL_NOW``).

    >>> parse_supported_instant("2999-12-31T23:59:59.999999Z").isoformat()
    '2999-12-31T23:59:59.999999+00:00'
    >>> parse_supported_instant("0001-01-01")
    Traceback (most recent call last):
    ...
    ValueError: '0001-01-01' is outside the years 1900 to 2999 (in UTC) that cosell supports
    """
    try:
        value = parse_instant(text)
    except ValueError as exc:
        if OUT_OF_RANGE not in str(exc):
            raise
        value = None
    if value is None or not is_supported(value):
        raise ValueError(f"{text!r} {UNSUPPORTED}")
    return value


def utc(value: datetime | date) -> datetime:
    """Normalise a datetime (aware) or a date (midnight) to an aware UTC datetime.

    ValueError for a naive datetime, and for one whose UTC value falls outside the years 1 to 9999.
    """
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if value.tzinfo is None:
        raise ValueError("naive datetime: cosell only handles timezone-aware instants")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} {OUT_OF_RANGE}") from None


def micros(delta: timedelta) -> int:
    """A duration as an exact integer number of microseconds."""
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def epoch_micros(instant: datetime) -> int:
    """An aware instant as microseconds since 1970-01-01T00:00:00Z."""
    return micros(utc(instant) - datetime(1970, 1, 1, tzinfo=UTC))


def days(duration_micros: int | Decimal) -> Decimal:
    """Exact days of a duration given in microseconds (may be fractional)."""
    return Decimal(duration_micros) / Decimal(MICROS_PER_DAY)


def format_days(duration_micros: int | Decimal) -> str:
    """Days to six decimals (half-even), the way cosell writes durations in its output files."""
    return str(days(duration_micros).quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN))


def format_instant(instant: datetime) -> str:
    """An instant as ISO 8601 UTC with a ``Z`` suffix and microseconds only when present."""
    value = utc(instant)
    # The year with four digits, as ISO 8601 and the engine write it: strftime writes year 1 as "1".
    text = f"{value.year:04d}" + value.strftime("-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def format_optional(instant: datetime | None) -> str:
    """:func:`format_instant`, or an empty text where there is no instant (a cell left empty)."""
    return "" if instant is None else format_instant(instant)


def json_instant(instant: datetime | None) -> str | None:
    """:func:`format_instant` for a JSON document: ``null`` where there is no instant."""
    return None if instant is None else format_instant(instant)


def display_instant(instant: datetime) -> str:
    """An instant as a person reads it in a report: UTC, to the second (a fraction of a second is
    dropped, never rounded up into the next second). Machines get :func:`format_instant`.

    >>> display_instant(datetime(2026, 11, 1, tzinfo=UTC))
    '2026-11-01 00:00:00 UTC'
    >>> display_instant(datetime(2026, 12, 3, 9, 51, 51, 434089, tzinfo=UTC))
    '2026-12-03 09:51:51 UTC'
    """
    return utc(instant).strftime("%Y-%m-%d %H:%M:%S UTC")
