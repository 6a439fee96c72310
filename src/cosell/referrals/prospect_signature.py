"""The prospect's signature block: the short lines around their address, read for a name, a title, a
company and a website, the way people sign emails::

    Jane Doe
    VP Finance | Globex Inc.
    jane.doe@globex.com
    www.globex.com

Read only around the address the text gives for the prospect (never around an excluded one, so the
partner's own signature is never taken for the prospect's), and weakest of all readings: a field
found any other way wins. A block is at most four lines above the address and three below, within
its paragraph, each short and none ending like a sentence or a sign-off ("Best,").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cosell.accounts.domains import registrable_domain
from cosell.referrals.text_words import TITLE_WORDS, company_at, looks_like_title, name_at

_MAX_LINE = 70
_UP, _DOWN = 4, 3
_PHONE_RE = re.compile(
    r"(?i)^(?:t|m|p|tel|phone|mobile|cell|office|direct)?\.?\s*:?\s*[+()\d][\d\s().+/-]{5,}$"
)
_WEBSITE_RE = re.compile(
    r"(?i)^(?:w(?:eb)?\s*:\s*)?((?:https?://)?(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:/\S*)?)$"
)
_SEPARATOR_RE = re.compile(r"\s+[|\u2013\u2014-]\s+|\s*[|,]\s*|\s+(?:at|@)\s+")


def _block(cleaned: Sequence[str], index: int) -> list[int]:
    """The line numbers of the signature around line ``index`` (the address line), top to bottom;
    empty when the address sits in prose."""
    if len(cleaned[index]) > _MAX_LINE:
        return []

    def fits(line: str) -> bool:
        # A sentence or a sign-off ("Best,", "Thanks!") ends the block; "Globex Inc." does not: a
        # sentence has lower-case words, a signature line hardly any.
        lower_words = sum(1 for word in line.split() if word[:1].islower())
        ends_like_prose = line.endswith((",", ";", ":", "!", "?")) or (
            line.endswith(".") and lower_words >= 2
        )
        return bool(line) and len(line) <= _MAX_LINE and not ends_like_prose

    top = index
    while top > 0 and index - top < _UP and fits(cleaned[top - 1]):
        top -= 1
    bottom = index
    while bottom + 1 < len(cleaned) and bottom - index < _DOWN and fits(cleaned[bottom + 1]):
        bottom += 1
    return list(range(top, bottom + 1))


def signature_fields(cleaned: Sequence[str], index: int) -> list[tuple[str, int, str]]:
    """(field, line number, value) for what the signature around the address on line ``index``
    gives; ``field`` is one of name, title, company, domain."""
    lines = _block(cleaned, index)
    found: dict[str, tuple[int, str]] = {}
    for number in lines:
        line = cleaned[number]
        if number == index or "@" in line or _PHONE_RE.match(line):
            continue
        website = _WEBSITE_RE.match(line)
        if website is not None:
            domain = registrable_domain(website.group(1))
            if domain is not None:
                found.setdefault("domain", (number, domain))
            continue
        named = name_at(line, 0)
        if named is not None and named[1] == len(line) and found.keys() <= {"domain"}:
            found["name"] = (number, named[0])  # the first full name, above any title or company
            continue
        title, company = _title_and_company(line)
        if title is not None:
            found.setdefault("title", (number, title))
        if company is not None and ("name" in found or title is not None):
            found.setdefault("company", (number, company))
    return [(field, number, value) for field, (number, value) in found.items()]


def _title_and_company(line: str) -> tuple[str | None, str | None]:
    """``VP Finance | Globex Inc.`` -> (``VP Finance``, ``Globex Inc``); ``VP Finance`` alone ->
    (``VP Finance``, None); ``Globex Inc.`` alone -> (None, ``Globex Inc``)."""
    parts = [p for p in _SEPARATOR_RE.split(line) if p]
    title = None
    rest = parts
    if parts and _is_title(parts[0]):
        title, rest = parts[0], parts[1:]
    company = None
    if len(rest) == 1:
        at = company_at(rest[0], 0)
        if at is not None and at[1] >= len(rest[0].rstrip(".")):
            company = at[0]
    return title, company


def _is_title(text: str) -> bool:
    words = {w.lower().strip(".,") for w in text.split()}
    return looks_like_title(text) and bool(words & TITLE_WORDS)
