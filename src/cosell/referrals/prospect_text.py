"""The prospect named in the plain text of a referral: company, contact name, email, title, domain.

Shared by every channel that carries free text (an email body, a Slack message): the channel's parser
turns its message into plain-text lines and calls :func:`extract_prospect`. Nothing is guessed by a
model; each value comes from one of these readings, most explicit first, and carries a
:class:`~cosell.referrals.parsed.FieldSource` naming the line that gave it:

1. **Labelled lines**: ``Company: Globex``, ``Contact: Jane Doe <jane@globex.com>``, ``Email:``,
   ``Title:``/``Role:``, ``Website:`` (case-insensitive; bullets, quote marks, ``*bold*``,
   ``**markdown**`` and Slack ``<mailto:...|...>`` links stripped first).
2. **Introduction sentences**: "I'd like to introduce you to Jane Doe, VP Finance at Globex
   (jane@globex.com)", "meet Jane Doe from Globex", "connecting you with Jane Doe (CFO of Globex)",
   a sentence that may wrap over several lines of its paragraph.
3. **"<name> is the <title> at <company>"** anywhere in the text; also "<name> runs finance at
   <company>", "<name> works at <company>" (a company, no title) and "<name> (cc'd)".
4. **Addresses in the text** that are not excluded (the sender's, ours): the first one, or the one
   whose local part matches the name found above; ``Jane Doe <jane@globex.com>`` also gives a name.
5. **The signature block** around that address (name on top, "VP Finance | Globex Inc.", a website).

Within one reading the earliest line wins. The domain is the ``Website:`` line's registrable domain,
else the prospect email's (never a free-mail provider's). A company is never invented from a domain:
a referral without one is ``needs_info`` and a person supplies it.

>>> found = extract_prospect(
...     ["Hi Bob,", "", "Meet Jane Doe, VP Finance at Globex (jane@globex.com)."],
...     "body",
...     exclude=["acme-partners.com"],
... )
>>> (found.company, found.name, found.email, found.title, found.domain)
('Globex', 'Jane Doe', 'jane@globex.com', 'VP Finance', 'globex.com')
>>> [(s.field, s.where) for s in found.sources][:2]
[('prospect_company', 'body line 3'), ('prospect_name', 'body line 3')]
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from cosell.accounts.domains import registrable_domain
from cosell.accounts.free_mail import company_domain
from cosell.referrals.parsed import MAX_FIELD_CHARS, FieldSource
from cosell.referrals.prospect_labels import label_kind, labelled_fields
from cosell.referrals.prospect_signature import signature_fields
from cosell.referrals.text_words import (
    EMAIL_RE,
    clean_line,
    company_at,
    looks_like_title,
    name_at,
    name_before,
    split_contact,
)

_NAMED_ADDRESS_RE = re.compile(r"\"?([^\"<>,;:@]{2,60}?)\"?\s*<\s*([^<>\s]+@[^<>\s]+)\s*>")

# The words that open an introduction, before the person's name. Case-insensitive.
_INTRO_RE = re.compile(
    r"(?i)\b(?:introduc(?:e|ing)(?:\s+you)?(?:\s+(?:to|with))?|meet"
    r"|connect(?:ing)?\s+(?:you\s+)?(?:with|to)|put(?:ting)?\s+you\s+in\s+touch\s+with"
    r"|in\s+touch\s+with|loop(?:ing)?\s+in|say\s+hello\s+to)\s+"
)
_IS_RE = re.compile(r"\s+(?:is|was)\s+(?:(?:the|our|their|a|an)\s+)?")
_WORKS_RE = re.compile(r"\s+(?:runs|leads|heads|manages|oversees|works)\b")
_WORKPLACE_RE = re.compile(r"\s(?:at|for)\s+")
_COPIED_RE = re.compile(r"(?i)\s*\((?:cc['\u2019]?e?d|cc|copied|in cc|copied here)\)")
_COPIED_BEFORE_RE = re.compile(_COPIED_RE.pattern + r"$")
_PREPOSITION_RE = re.compile(r"(?i)\s*,?\s*(?:from|at|of|with)\s+")
# Words between an introduction's opening and the name ("meet my colleague Jane Doe").
_BEFORE_NAME_RE = re.compile(
    r"(?i)(?:(?:my|our|their|his|her|a)\s+)?(?:(?:good|old|dear|new)\s+)?"
    r"(?:friend|colleague|contact|client|customer|partner|prospect)\s*,?\s+"
)
_TITLE_FIRST_RE = re.compile(r"(?i)(?:the|their|our)\s+")  # "the CFO of Globex, Jane Doe"
_BRACKETED_ADDRESS_RE = re.compile(r"\s*[(<]\s*[^()<>\s]+@[^()<>\s]+\s*[)>]")
# What comes between a name and its title: ", VP Finance at", " (CFO of", " is the Head of ... at".
_OPENER_RE = re.compile(r"\s*(?:,|\(|-|\u2013|\u2014)\s*|\s*,?\s*(?:who\s+)?(?:is|'s)\s+")
_TITLE_SPLIT_RE = re.compile(r"(?i)\s+(?:at|@)\s+")
_TITLE_SPLIT_WEAK_RE = re.compile(r"(?i)\s+(?:of|for|with)\s+")
_SOURCE_TEXT_MAX = 200

# The readings in precedence order; a lower rank wins, then the earlier line.
_LABELLED, _INTRO, _IS_SENTENCE, _ADDRESS, _SIGNATURE = 0, 1, 2, 3, 4
_FIELDS = ("company", "name", "email", "title", "domain")


class _Offer(Protocol):
    """offer(field, rank, first line, value, last line): keep the value if it beats what was found."""

    def __call__(
        self, name: str, rank: int, line: int, value: str | None, last: int | None = None, /
    ) -> None: ...


@dataclass(frozen=True)
class ProspectFields:
    """The prospect fields found in one text, each with its source (``prospect_<field>``)."""

    company: str | None = None
    name: str | None = None
    email: str | None = None
    title: str | None = None
    domain: str | None = None
    sources: tuple[FieldSource, ...] = field(default=())

    def merged(self, later: ProspectFields) -> ProspectFields:
        """These fields, with the ones missing here taken from ``later`` (a text read after this
        one: a quoted or forwarded message below the newest text)."""
        values = {}
        sources = list(self.sources)
        for name in _FIELDS:
            if getattr(self, name) is None and getattr(later, name) is not None:
                values[name] = getattr(later, name)
                sources += [s for s in later.sources if s.field == f"prospect_{name}"]
        return replace(self, **values, sources=tuple(sources))

    def referral_fields(self) -> dict[str, object]:
        """The keyword arguments these fields give a :class:`~cosell.referrals.parsed.ParsedReferral`
        (``prospect_company=...``, ..., ``sources=...``)."""
        found: dict[str, object] = {f"prospect_{name}": getattr(self, name) for name in _FIELDS}
        found["sources"] = self.sources
        return found


@dataclass(frozen=True)
class _Found:
    rank: int
    line: int  # 0-based index of the first line that gave the value
    value: str
    where: str
    text: str


def extract_prospect(
    lines: Sequence[str], where: str, exclude: Collection[str] = (), *, first_line: int = 1
) -> ProspectFields:
    """The prospect named in ``lines`` (plain text, one line each), each field with a FieldSource
    whose ``where`` is ``f"{where} line {n}"`` (``n`` counts from ``first_line``, 1 unless the lines
    are a slice of a longer text; ``lines n-m`` for a sentence that wraps). ``exclude`` holds
    addresses (``bob@acme.com``) and domains (``acme.com``; any address under that registrable
    domain) that are never the prospect's: the sender's, the forwarder's, ours.
    Pure and deterministic: the same lines give the same fields."""
    cleaned = [clean_line(line) for line in lines]
    skip = _Exclusions(exclude)
    found: dict[str, _Found] = {}

    def offer(name: str, rank: int, line: int, value: str | None, last: int | None = None) -> None:
        if not value or len(value) > MAX_FIELD_CHARS:  # a megabyte of text after a label is no name
            return
        current = found.get(name)
        if current is not None and (current.rank, current.line) <= (rank, line):
            return
        start, end = line + first_line, (line if last is None else last) + first_line
        span = f"line {start}" if end == start else f"lines {start}-{end}"
        text = " ".join(c for c in cleaned[line : (last if last is not None else line) + 1] if c)
        found[name] = _Found(rank, line, value, f"{where} {span}", _trim(text))

    for labelled, index, value in labelled_fields(cleaned, lambda text: _first_address(text, skip)):
        offer(labelled, _LABELLED, index, value)
    for first, _last, text, offsets in _paragraphs(cleaned):
        _intros(text, offsets, first, skip, offer)
    name = found["name"].value if "name" in found else None
    _addresses(cleaned, skip, name, offer)
    if "domain" not in found and "email" in found:
        domain = company_domain(found["email"].value)
        if domain is not None:
            email = found["email"]
            found["domain"] = replace(email, value=domain)
    values = {name: found[name].value if name in found else None for name in _FIELDS}
    sources = tuple(
        FieldSource(f"prospect_{name}", found[name].where, found[name].text)
        for name in _FIELDS
        if name in found
    )
    return ProspectFields(**values, sources=sources)


class _Exclusions:
    """Addresses and registrable domains that are never the prospect's."""

    def __init__(self, exclude: Collection[str]) -> None:
        self.addresses = {e.strip().lower() for e in exclude if "@" in e}
        self.domains = {registrable_domain(e) or e.strip().lower() for e in exclude if "@" not in e}

    def allows(self, address: str) -> bool:
        address = address.lower()
        return address not in self.addresses and registrable_domain(address) not in self.domains


def _first_address(text: str, skip: _Exclusions) -> str | None:
    for match in EMAIL_RE.finditer(text):
        address = match.group(1).lower().rstrip(".")
        if skip.allows(address):
            return address
    return None


def _paragraphs(cleaned: Sequence[str]) -> list[tuple[int, int, str, list[int]]]:
    """Runs of non-empty, unlabelled lines joined by spaces, as (first line, last line, text, start
    offset of each line), so a sentence wrapped at 72 columns is read whole."""
    runs: list[tuple[int, int, str, list[int]]] = []
    first, length = -1, 0
    parts: list[str] = []
    offsets: list[int] = []
    for index, line in enumerate([*cleaned, ""]):
        if line and label_kind(line) is None:
            if first < 0:
                first, parts, offsets, length = index, [], [], 0
            offsets.append(length)
            parts.append(line)
            length += len(line) + 1
            continue
        if first >= 0:
            runs.append((first, index - 1, " ".join(parts), offsets))
            first = -1
    return runs


def _intros(text: str, offsets: list[int], first: int, skip: _Exclusions, offer: _Offer) -> None:
    def line_of(position: int) -> int:
        return first + bisect_right(offsets, position) - 1

    for trigger in _INTRO_RE.finditer(text):
        found, title_before, company_before = _name_after_opening(text, trigger.end())
        if found is None:
            continue
        name, end = found
        start_line = line_of(trigger.start())
        title, company, stop = _after_name(text, end)
        title, company = title or title_before, company or company_before
        last = line_of(max(stop - 1, trigger.end()))
        offer("name", _INTRO, start_line, name, last)
        offer("title", _INTRO, start_line, title, last)
        offer("company", _INTRO, start_line, company, last)
        sentence_end = _sentence_end(text, end)
        address = _first_address(text[trigger.start() : sentence_end], skip)
        if address is not None:
            offer("email", _INTRO, start_line, address, line_of(sentence_end - 1))
    for verb in _IS_RE.finditer(text):
        found_before = name_before(text, verb.start())
        if found_before is None:
            continue
        name, start = found_before
        title, company = _title_company(text[verb.end() : _clause_end(text, verb.end())])
        if title is None or company is None:
            continue
        line, last = line_of(start), line_of(verb.end())
        offer("name", _IS_SENTENCE, line, name, last)
        offer("title", _IS_SENTENCE, line, title, last)
        offer("company", _IS_SENTENCE, line, company, last)
    for verb in _WORKS_RE.finditer(text):  # "Jane Doe runs finance at Globex": a company, no title
        copied = _COPIED_BEFORE_RE.search(text, max(0, verb.start() - 20), verb.start())
        found_before = name_before(text, copied.start() if copied is not None else verb.start())
        at = _WORKPLACE_RE.search(text, verb.end(), _clause_end(text, verb.end()))
        if found_before is None or at is None:
            continue
        place = company_at(text, at.end())
        if place is not None:
            line, last = line_of(found_before[1]), line_of(at.end())
            offer("name", _IS_SENTENCE, line, found_before[0], last)
            offer("company", _IS_SENTENCE, line, place[0], last)
    for copied in _COPIED_RE.finditer(text):  # "Jane Doe (cc'd)": the person the email copies
        found_before = name_before(text, copied.start())
        if found_before is not None:
            line = line_of(found_before[1])
            offer("name", _IS_SENTENCE, line, found_before[0], line_of(copied.end() - 1))


def _name_after_opening(text: str, start: int) -> tuple[tuple[str, int] | None, str | None, str | None]:
    """The name an introduction's opening words lead to, and a title and company written before
    it: "meet Jane Doe", "meet my colleague Jane Doe", "introduce you to the CFO of Globex, Jane Doe"."""
    lead = _BEFORE_NAME_RE.match(text, start)
    found = name_at(text, lead.end() if lead is not None else start)
    if found is not None or lead is not None:
        return found, None, None
    article = _TITLE_FIRST_RE.match(text, start)
    comma = text.find(",", start, start + 80) if article is not None else -1
    if article is None or comma < 0:
        return None, None, None
    title, company = _title_company(text[article.end() : comma])
    if title is None or company is None:
        return None, None, None
    return name_at(text, comma + 1), title, company


def _after_name(text: str, end: int) -> tuple[str | None, str | None, int]:
    """The title and company right after a name in an introduction, and where they stop."""
    rest_start = end
    # Patterns matched at a position, never on a slice: a slice copies the rest of the paragraph.
    bracket = _BRACKETED_ADDRESS_RE.match(text, end)
    if bracket is not None:  # "Jane Doe (jane@globex.com), VP Finance at Globex"
        rest_start = bracket.end()
    preposition = _PREPOSITION_RE.match(text, rest_start)
    if preposition is not None:  # "meet Jane Doe from Globex"
        at = company_at(text, preposition.end())
        return (None, at[0], at[1]) if at is not None else (None, None, rest_start)
    opener = _OPENER_RE.match(text, rest_start)
    if opener is None:
        return None, None, rest_start
    clause_start = opener.end()
    clause_stop = _clause_end(text, clause_start)
    title, company = _title_company(text[clause_start:clause_stop])
    return title, company, clause_stop


def _title_company(clause: str) -> tuple[str | None, str | None]:
    """``VP Finance at Globex`` -> (``VP Finance``, ``Globex``); ``the CFO of Globex`` too."""
    clause = re.sub(r"(?i)^(?:the|our|their|a|an)\s+", "", clause.strip())
    for splitter in (_TITLE_SPLIT_RE, _TITLE_SPLIT_WEAK_RE):
        for split in splitter.finditer(clause):
            title = clause[: split.start()].strip()
            company = company_at(clause, split.end())
            if company is not None and looks_like_title(title):
                return title, company[0]
    return None, None


# An introduction's clause or sentence is read this far at most: a paragraph with no punctuation
# (a pasted log, a run of "meet meet meet") then costs time in proportion to its length, no more.
_WINDOW = 300
_CLAUSE_END_RE = re.compile(r"[,;()<>\[\]]|[.!?](?:\s|$)|\s[-\u2013\u2014]\s")
_SENTENCE_END_RE = re.compile(r"[.!?](?:\s|$)")


def _clause_end(text: str, start: int) -> int:
    stop = min(len(text), start + _WINDOW)
    match = _CLAUSE_END_RE.search(text, start, stop)
    return stop if match is None else match.start()


def _sentence_end(text: str, start: int) -> int:
    stop = min(len(text), start + _WINDOW)
    match = _SENTENCE_END_RE.search(text, start, stop)
    return stop if match is None else match.end()


def _addresses(cleaned: Sequence[str], skip: _Exclusions, name: str | None, offer: _Offer) -> None:
    """The prospect's address among those in the text: the one matching the name found, else the
    first; a ``Jane Doe <jane@globex.com>`` form also names the person, and the signature block
    around it (:mod:`cosell.referrals.prospect_signature`) may give name, title, company, website."""
    candidates: list[tuple[int, int, str]] = []
    for index, line in enumerate(cleaned):
        for match in EMAIL_RE.finditer(line):
            address = match.group(1).lower().rstrip(".")
            if skip.allows(address):
                candidates.append((0 if _matches_name(address, name) else 1, index, address))
    if not candidates:
        return
    _, index, address = min(candidates)
    offer("email", _ADDRESS, index, address)
    for match in _NAMED_ADDRESS_RE.finditer(cleaned[index]):
        if match.group(2).lower() == address:
            person, _title = split_contact(match.group(1))
            offer("name", _ADDRESS, index, person)
    for signed, number, value in signature_fields(cleaned, index):
        offer(signed, _SIGNATURE, number, value)


def _matches_name(address: str, name: str | None) -> bool:
    if not name:
        return False
    local = address.split("@", 1)[0]
    parts = [p.lower() for p in re.findall(r"[^\W\d_]+", name)]
    if not parts:
        return False
    return parts[0] in local or parts[-1] in local


def _trim(text: str) -> str:
    return text if len(text) <= _SOURCE_TEXT_MAX else text[: _SOURCE_TEXT_MAX - 1] + "\u2026"
