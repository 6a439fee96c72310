"""Fiscal periods: months and fiscal quarters, with a configurable fiscal-year start.

A fiscal year is named by the calendar year in which it ends (with a February start, FY2027 runs
from 2026-02-01 to 2027-01-31). Period boundaries are midnight UTC. Period labels are ``2026-08``
for a month and ``2026-Q3`` for a fiscal quarter; the period labels in input files (fx_rates,
program_costs, direct_costs) use the same fiscal calendar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cosell.instants import FIRST_SUPPORTED_YEAR, LAST_SUPPORTED_YEAR, UNSUPPORTED

_MONTH_RE = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")
_QUARTER_RE = re.compile(r"^([0-9]{4})-Q([1-4])$")
PERIOD_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2]|Q[1-4])$"


@dataclass(frozen=True, order=True)
class Period:
    """A month or a fiscal quarter: ``[start, end)`` in UTC."""

    start: datetime
    end: datetime
    label: str

    @property
    def is_quarter(self) -> bool:
        return "Q" in self.label

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end

    @property
    def days(self) -> str:
        """Its first and last days, as finance writes a period (both included).

        >>> parse_period("2026-09").days
        '2026-09-01 to 2026-09-30'
        """
        return (
            f"{self.start.date().isoformat()} to {(self.end - timedelta(microseconds=1)).date().isoformat()}"
        )


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


def _midnight(year: int, month: int) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def month_label(instant: datetime) -> str:
    """``YYYY-MM`` of the instant's UTC month."""
    value = instant.astimezone(UTC)
    return f"{value.year:04d}-{value.month:02d}"


def month(instant: datetime) -> Period:
    value = instant.astimezone(UTC)
    ny, nm = _add_months(value.year, value.month, 1)
    return Period(_midnight(value.year, value.month), _midnight(ny, nm), month_label(value))


def fiscal_quarter(instant: datetime, start_month: int = 1) -> Period:
    """The fiscal quarter containing the instant, for a fiscal year starting in ``start_month``."""
    value = instant.astimezone(UTC)
    offset = (value.month - start_month) % 12  # months since the fiscal year began
    fy_start_year, fy_start_month = _add_months(value.year, value.month, -offset)
    quarter = offset // 3 + 1
    qy, qm = _add_months(fy_start_year, fy_start_month, (quarter - 1) * 3)
    ey, em = _add_months(qy, qm, 3)
    fiscal_year = _add_months(fy_start_year, fy_start_month, 11)[0]  # the year the FY ends in
    return Period(_midnight(qy, qm), _midnight(ey, em), f"{fiscal_year:04d}-Q{quarter}")


def parse_period(label: str, start_month: int = 1) -> Period:
    """A period from its label; raise ValueError for anything else, and for a label whose year is
    outside the supported years 1900 to 2999 (every instant cosell takes is in them).

    >>> parse_period("2999-12").end.isoformat()
    '3000-01-01T00:00:00+00:00'
    >>> parse_period("9999-12")
    Traceback (most recent call last):
    ...
    ValueError: '9999-12' is outside the years 1900 to 2999 (in UTC) that cosell supports
    """
    m = _MONTH_RE.match(label) or _QUARTER_RE.match(label)
    if m and not FIRST_SUPPORTED_YEAR <= int(m.group(1)) <= LAST_SUPPORTED_YEAR:
        raise ValueError(f"{label!r} {UNSUPPORTED}")
    m = _MONTH_RE.match(label)
    if m:
        return month(_midnight(int(m.group(1)), int(m.group(2))))
    q = _QUARTER_RE.match(label)
    if q:
        fiscal_year, quarter = int(q.group(1)), int(q.group(2))
        # FY N ends in calendar year N: with a January start it is N itself, else it began in N-1.
        fy_start = (fiscal_year if start_month == 1 else fiscal_year - 1, start_month)
        qy, qm = _add_months(*fy_start, (quarter - 1) * 3)
        return fiscal_quarter(_midnight(qy, qm), start_month)
    raise ValueError(f"{label!r} is not a period (a month like 2026-08 or a quarter like 2026-Q3)")


def rate_periods(instant: datetime, start_month: int = 1) -> tuple[str, str]:
    """The labels under which an FX rate for the instant is looked up: its month, then its quarter."""
    return month_label(instant), fiscal_quarter(instant, start_month).label
