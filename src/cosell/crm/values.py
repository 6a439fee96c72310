"""Cell values of CRM exports, read strictly: dates by an explicit format, booleans, empty lookups.

A date or time is read as ISO 8601 unless the mapping names the column's format
(``[files.Opportunity.formats] CloseDate = "%m/%d/%y"``); a value that does not fit is an error,
never a guess: ``02/03/24`` could be 3 February or 2 March, and only the person who knows the
export can say. A naive date-time is a wall time in the mapping's ``timezone`` (report exports
write the running user's local time); a date stays a date (midnight UTC, SPEC section 1), so a
Salesforce ``ActivityDate`` is never shifted by a time zone. A cell of 12 or 13 digits (epoch
milliseconds, as HubSpot's API and some exports write dates) is refused with a reason that says so.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cosell.instants import ISO_PATTERN, SUB_MICROSECOND, SUB_MICROSECOND_PATTERN, format_instant

_ISO = re.compile(ISO_PATTERN)
_SUB_MICROSECOND = re.compile(SUB_MICROSECOND_PATTERN)
# Epoch milliseconds from 1973-03-03 (10**11) to 2286 (13 digits): no date format reads 12 or 13
# bare digits (%Y%m%d%H%M is 12, but never a bare count from 1970), so the cell is named for what it is.
_EPOCH_MILLISECONDS = re.compile(r"[0-9]{12,13}")
# Salesforce writes an empty lookup as the all-zero id in some exports (15 or 18 characters).
EMPTY_IDS = frozenset({"000000000000000", "000000000000000AAA"})
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y"})
FALSE_WORDS = frozenset({"", "0", "false", "f", "no", "n"})
_TIME_DIRECTIVES = ("%H", "%I", "%M", "%S", "%p", "%f", "%X", "%c", "%z", "%T", "%R")


class BadValue(ValueError):
    """A cell that cannot be read; its message is the reason (without the value or place)."""


def lookup(value: str) -> str:
    """A lookup id with the all-zero "empty" id read as empty."""
    text = value.strip()
    return "" if text in EMPTY_IDS else text


_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def id18(value: str) -> str:
    """A 15-character Salesforce id in its 18-character form (reports write 15, Data Loader 18);
    anything else unchanged.

    The three added characters encode which letters of each five are upper case, so the 18-character
    form is the same id read without case:

    >>> id18("001Ec00000FzlUd")
    '001Ec00000FzlUdIAJ'
    >>> id18("001Ec00000FzlUdIAJ")
    '001Ec00000FzlUdIAJ'
    """
    if len(value) != 15 or not value.isalnum() or not value.isascii():
        return value
    suffix = ""
    for start in (0, 5, 10):
        bits = sum(1 << i for i, ch in enumerate(value[start : start + 5]) if "A" <= ch <= "Z")
        suffix += _SUFFIX[bits]
    return value + suffix


def other_form(value: str, known: set[str]) -> str | None:
    """The id of ``known`` that is ``value`` written in the other length (15 or 18 characters), if
    any: one Salesforce record, exported once by a report and once by Data Loader.

    >>> other_form("001Ec00000FzlUdIAJ", {"001Ec00000FzlUd"}), other_form("001Ec00000FzlUd", {"001Ec00000FzlUdIAJ"})
    ('001Ec00000FzlUd', '001Ec00000FzlUdIAJ')
    >>> other_form("001Ec00000FzlUd", {"001Ec00000FzlUd"}) is None
    True
    """
    if len(value) == 15:
        candidate = id18(value)
        return candidate if candidate != value and candidate in known else None
    if len(value) == 18 and id18(value[:15]) == value and value[:15] in known:
        return value[:15]
    return None


def boolean(value: str) -> bool:
    """A CRM checkbox: ``1``/blank (Data Loader), ``TRUE``/``FALSE`` (Excel), ``true``/``false``."""
    text = value.strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise BadValue("is not a checkbox value (1 or empty, true or false)")


def has_time(fmt: str) -> bool:
    """Whether a strptime format reads a time of day (otherwise it reads a date)."""
    return any(d in fmt for d in _TIME_DIRECTIVES)


def check_format(fmt: str) -> str | None:
    """The reason a strptime format is unusable, or None (it must round-trip a sample instant)."""
    if "%" not in fmt:
        return "has no % directive (a strptime format like %m/%d/%Y)"
    sample = datetime(2026, 11, 23, 20, 55, 7)
    try:
        parsed = datetime.strptime(sample.strftime(fmt), fmt)
    except ValueError as exc:
        return f"is not a usable strptime format ({exc})"
    # strptime fills what a format lacks (the year 1900, the first day, midnight): such a format
    # would read every date of its column as some other date, silently.
    if parsed.date() != sample.date():
        return "does not read a whole date (a year, a month and a day, like %m/%d/%Y)"
    if has_time(fmt) and (parsed.hour, parsed.minute) != (sample.hour, sample.minute):
        return "does not read back the hour and minute of a time (%H:%M, or %I:%M with %p)"
    return None


def instant(value: str, fmt: str | None, zone: ZoneInfo | None) -> str:
    """The cell as canonical ISO text ("" for an empty cell).

    ``fmt`` None: the cell must already be ISO 8601 (passed on as written, offsets included).
    Otherwise it must match ``fmt`` exactly; a naive date-time is read in ``zone`` (None: UTC).
    """
    text = value.strip()
    if not text:
        return ""
    if fmt is None:
        if _ISO.match(text):
            return text
        if _SUB_MICROSECOND.match(text):
            raise NoFormatReads(SUB_MICROSECOND)  # strptime's %f reads six digits at most
        raise _epoch_milliseconds(text) or BadValue("is not an ISO 8601 date or timestamp")
    try:
        parsed = datetime.strptime(text, fmt)
    except ValueError:
        raise _epoch_milliseconds(text) or BadValue(f"does not match the mapping's format {fmt}") from None
    if not has_time(fmt):
        return parsed.date().isoformat()
    if parsed.tzinfo is None:
        local = parsed.replace(tzinfo=zone or UTC)
        # A wall time the zone's clocks skipped (02:30 on a spring-forward night) names no instant:
        # datetime would read it as an hour later or earlier, silently. No export of real times
        # writes one; the mapping's timezone is likely not the export's.
        if local.astimezone(UTC).astimezone(local.tzinfo).replace(tzinfo=None) != parsed:
            raise BadValue(
                f"is not a time that exists in {local.tzinfo} (its clocks skipped it): check the "
                "mapping's timezone against the export's"
            )
        parsed = local
    return format_instant(parsed.astimezone(UTC))


class NoFormatReads(BadValue):
    """A date cell that no mapping format would read either (so the refusal suggests none)."""


class EpochMilliseconds(NoFormatReads):
    """A date cell written as epoch milliseconds: no mapping format reads it (the reason says what to do)."""


def _epoch_milliseconds(text: str) -> EpochMilliseconds | None:
    """The refusal of a cell that looks like epoch milliseconds, naming the instant it would be.

    >>> str(_epoch_milliseconds("1772374500000")).split(":")[0]
    'looks like epoch milliseconds (2026-03-01T14'
    """
    if not _EPOCH_MILLISECONDS.fullmatch(text):
        return None
    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(text))
    return EpochMilliseconds(
        f"looks like epoch milliseconds ({format_instant(at)}), which cosell does not read as a date: "
        "export the column as dates, or convert it to ISO 8601 (e.g. 2026-03-01T14:15:00Z) before the import"
    )


def parse_iso(text: str) -> datetime:
    """An ISO text produced by :func:`instant` as a UTC datetime (for ordering history rows)."""
    from cosell.instants import parse_instant

    return parse_instant(text)
