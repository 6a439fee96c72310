"""An email's headers as values: text with RFC 2047 words decoded, addresses, the date in UTC.

Header values are read raw and parsed here, each on its own, so one malformed header (a broken
encoded word, an address list the modern parser trips on) costs that header, not the email: the
standard library's lenient ``getaddresses`` is the fallback for addresses, the raw text for text.

Only the first :data:`MAX_HEADER_CHARS` of a header (all its occurrences together) are read: the
standard library's parser takes time and memory quadratic in a header's length, and a crafted
Subject of a few megabytes would otherwise take minutes and gigabytes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from cosell.instants import is_supported
from cosell.referrals.text_words import EMAIL_RE

Address = tuple[str, str]  # (display name, address in lower case)
# Characters read of one header, its repeats included: a Cc of hundreds of recipients fits.
MAX_HEADER_CHARS = 16_384


def _raw_header(message: Message, key: str) -> list[str]:
    """The raw values of header ``key``, unparsed, up to MAX_HEADER_CHARS in all (the last one
    cut there); the parsing below must survive any of them."""
    values = []
    room = MAX_HEADER_CHARS
    for header, value in message.raw_items():
        if header.lower() == key and room > 0:
            values.append(str(value)[:room])
            room -= len(values[-1])
    return values


def text_header(message: Message, key: str) -> str | None:
    """A header's text with RFC 2047 words decoded and whitespace collapsed; None when absent."""
    for value in _raw_header(message, key):
        try:
            text = str(message.policy.header_factory(key, value))  # type: ignore[attr-defined]
        except Exception:  # a malformed encoded word: keep the raw text
            text = value
        text = " ".join(text.encode("utf-8", "replace").decode("utf-8", "replace").split())
        if text:
            return text
    return None


def addresses(message: Message, key: str) -> list[Address]:
    """The (display name, address) pairs in header ``key``, names decoded, addresses lower case."""
    found: list[Address] = []
    for value in _raw_header(message, key):
        try:
            header = message.policy.header_factory(key, value)  # type: ignore[attr-defined]
            pairs = [(a.display_name, a.addr_spec) for a in header.addresses]
        except Exception:  # fall back to the lenient parser
            try:
                pairs = getaddresses([value])
            except RecursionError:  # comments or groups nested thousands deep: no address read
                continue
        for person, address in pairs:
            match = EMAIL_RE.fullmatch(str(address).strip().strip("<>"))
            if match is not None:
                found.append((" ".join(str(person).split()), match.group(1).lower()))
    return found


def received_at(message: Message) -> datetime | None:
    value = text_header(message, "date")
    if value is None:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" or no zone: RFC 5322 reads the time as UTC
        return when.replace(tzinfo=UTC)
    try:
        when = when.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return when if is_supported(when) else None  # outside 1900 to 2999: read as no date
