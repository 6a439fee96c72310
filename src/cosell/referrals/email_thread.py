"""An email body split into the messages it holds: the newest text, then each forwarded or quoted
message below it, each with its author and recipients where the body names them.

Recognised, in the plain text (an HTML body is first turned into lines, blockquotes as ``>``):

- forwarded inline: Gmail's ``---------- Forwarded message ---------``, Thunderbird's
  ``-------- Forwarded Message --------``, Apple Mail's ``Begin forwarded message:``, each followed by
  its ``From: / Date: / Subject: / To:`` lines;
- Outlook: ``-----Original Message-----``, or a bare ``From: / Sent: / To: / Subject:`` block;
- quoted replies: an ``On <date>, <name> <address> wrote:`` line (also wrapped over two lines) and the
  ``>`` lines below it; ``>`` lines without one; quotes inside quotes, one level at a time.

Line numbers never move: each message keeps the body's own line numbers, so a field read from a
quoted introduction is reported as ``body line 17`` of the text a reader sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import getaddresses

from cosell.referrals.email_headers import Address
from cosell.referrals.text_words import EMAIL_RE, clean_line

_FORWARD_MARK_RE = re.compile(
    r"(?i)^(?:-{2,}\s*(?:forwarded message|original message)\s*-{2,}|begin forwarded message:?"
    r"|-{2,}\s*(?:message transféré|weitergeleitete nachricht)\s*-{2,})$"
)
_HEADER_RE = re.compile(
    r"(?i)^(from|sent|date|to|cc|bcc|subject|reply-to|importance|envoyé|de|à|objet|von|an|betreff"
    r"|gesendet)\s*:\s*(.*)$"
)
_HEADER_ALIASES = {"envoyé": "sent", "de": "from", "à": "to", "objet": "subject", "von": "from",
                   "an": "to", "betreff": "subject", "gesendet": "sent"}  # fmt: skip
_WROTE_RE = re.compile(r"(?i)(?:\bwrote|\ba écrit|\bschrieb)\s*:$")
_ON_RE = re.compile(r"(?i)^(?:-+\s*)?(?:on|le|am)\s")
_FORWARD_SUBJECT_RE = re.compile(r"(?i)^\s*(?:fwd?|wg|tr)\s*:")
MAX_QUOTE_DEPTH = 10  # quotes nested deeper are read as text of the deepest message


@dataclass
class Part:
    """One message within a body: ``kind`` is ``body`` (the newest text), ``forwarded`` or
    ``quoted``; ``lines`` maps a body line number (0-based) to its text without quote marks."""

    kind: str
    author: Address | None = None
    author_line: int | None = None  # the body line naming the author (From: or "... wrote:")
    recipients: list[Address] = field(default_factory=list)
    subject: str | None = None
    lines: dict[int, str] = field(default_factory=dict)
    resume: Part | None = None  # whose text continues after this message's quoted lines end

    def has_text(self) -> bool:
        return any(text.strip() for text in self.lines.values())


def split_thread(lines: list[str], subject: str | None, author: Address | None) -> list[Part]:
    """The messages in a body's ``lines``, newest first; the first is the body's own text, written
    by ``author`` (the email's sender). Messages with neither text nor an author are left out."""
    first = Part("body", author=author)
    parts = _split(list(enumerate(lines)), first, subject or "", 0)
    return [p for p in parts if p is first or p.has_text() or p.author is not None]


def _split(items: list[tuple[int, str]], first: Part, subject: str, depth: int) -> list[Part]:
    parts = [first]
    current = first
    i = 0
    while i < len(items):
        index, raw = items[i]
        if _is_quoted(raw):
            run, i = _quoted_run(items, i)
            target = current
            if current.kind == "body" or current.has_text():
                target = Part("quoted", resume=current)
                parts.append(target)
            if depth >= MAX_QUOTE_DEPTH:
                target.lines.update(run)
            else:
                parts += _split(run, target, subject, depth + 1)[1:]
            current = target.resume or target
            continue
        text = clean_line(raw)
        wrote = _attribution(items, i)
        if wrote is not None:
            author, i = wrote
            current = Part("quoted", author=author, author_line=index, resume=current)
            parts.append(current)
            continue
        # On the raw line: cleaning would take the leading dashes of "----- Forwarded message" for a bullet.
        marked = _FORWARD_MARK_RE.match(raw.strip(" \t*_")) is not None
        block = _header_block(items, i + 1 if marked else i, need_from=not marked)
        if marked or block is not None:
            start = i + 1 if marked else i
            headers, i = block if block is not None else ({}, i + 1)
            forwarded = "forward" in text.lower() or any(
                _FORWARD_SUBJECT_RE.match(s) for s in (headers.get("subject", ""), subject)
            )
            current = Part("forwarded" if forwarded else "quoted", subject=headers.get("subject"))
            current.author = next(iter(_addresses(headers.get("from", ""))), None)
            current.author_line = next(
                (n for n, text in items[start:i] if _header_key(clean_line(text)) == "from"), None
            )
            current.recipients = _addresses(headers.get("to", "")) + _addresses(headers.get("cc", ""))
            parts.append(current)
            continue
        current.lines[index] = raw
        i += 1
    return parts


def _is_quoted(raw: str) -> bool:
    return raw.lstrip(" \t").startswith(">")


def _dequote(raw: str) -> str:
    text = raw.lstrip(" \t")[1:]
    return text[1:] if text.startswith(" ") else text


def _quoted_run(items: list[tuple[int, str]], start: int) -> tuple[list[tuple[int, str]], int]:
    """The ``>`` lines from ``start`` (blank lines between them included), one quote level off."""
    run: list[tuple[int, str]] = []
    i = start
    while i < len(items):
        index, raw = items[i]
        if _is_quoted(raw):
            run.append((index, _dequote(raw)))
        elif not raw.strip() and i + 1 < len(items) and _is_quoted(items[i + 1][1]):
            run.append((index, ""))
        else:
            break
        i += 1
    return run, i


def _attribution(items: list[tuple[int, str]], i: int) -> tuple[Address | None, int] | None:
    """An ``On ..., Jane <jane@x.com> wrote:`` line (or two) at ``i``: its author and the next line."""
    text = clean_line(items[i][1])
    if _WROTE_RE.search(text) and (_ON_RE.match(text) or "@" in text):
        return _attribution_author(text), i + 1
    if _ON_RE.match(text) and i + 1 < len(items):
        following = clean_line(items[i + 1][1])
        if _WROTE_RE.search(following) and len(following) < 80:
            return _attribution_author(f"{text} {following}"), i + 2
    return None


def _attribution_author(text: str) -> Address | None:
    found = list(EMAIL_RE.finditer(text))
    if not found:
        return None
    address = found[-1].group(1).lower()
    before = text[: found[-1].start()].rstrip(" <[(\"'")
    name = before.rsplit(",", 1)[-1].strip(" \"'") if "<" in text or "[" in text else ""
    # "On Mon, Nov 16, 2026 at 10:00 AM Sue Lee": the name is what follows the date and time.
    name = re.sub(r"(?i)^.*\d(?:\s*[ap]\.?m\.?)?(?:\s*\([^)]*\))?\s+", "", name).strip()
    name = re.sub(r"(?i)^(?:-+\s*)?(?:on|le|am)\s+", "", name).strip()
    return ("" if name == address or any(c.isdigit() for c in name) else name), address


def _header_block(
    items: list[tuple[int, str]], start: int, need_from: bool
) -> tuple[dict[str, str], int] | None:
    """The ``From: / Sent: / To: / Subject:`` lines from ``start`` (blank lines before them skipped
    after a forward mark) and the line after them; None when there is no block. Without a mark a
    block needs a From line and a Sent or Date line, so a referral's own labelled lines never start
    a message."""
    i = start
    if not need_from:
        while i < len(items) and not items[i][1].strip() and i - start < 3:
            i += 1
    headers: dict[str, str] = {}
    last = ""
    while i < len(items):
        text = clean_line(items[i][1])
        key = _header_key(text)
        if key is not None:
            last = key
            headers.setdefault(last, text.split(":", 1)[1].strip())
        elif last in ("to", "cc") and "@" in text and not text.endswith(":"):
            headers[last] += ", " + text  # a long recipient list wrapped onto the next line
        else:
            break
        i += 1
    if need_from and not ("from" in headers and ("sent" in headers or "date" in headers)):
        return None
    if need_from and len(headers) < 3:
        return None
    return headers, i


def _header_key(text: str) -> str | None:
    match = _HEADER_RE.match(text)
    if match is None:
        return None
    return _HEADER_ALIASES.get(match.group(1).lower(), match.group(1).lower())


def _addresses(value: str) -> list[Address]:
    """The addresses in a header line as a body shows it (``Bob <bob@x.com>; Sue [mailto:sue@x.com]``)."""
    # Outlook writes "Sue Lee [mailto:sue@acme.io]" (the line cleaner may have dropped "mailto:").
    value = re.sub(r"\[(?:mailto:)?([^\]\s]+@[^\]\s]+)\]", r"<\1>", value)
    found: list[Address] = []
    try:
        pairs = getaddresses([value.replace(";", ",")])
    except Exception:  # the stdlib raises assorted errors on odd input
        pairs = []
    for name, address in pairs:
        match = EMAIL_RE.search(address) or EMAIL_RE.search(name)
        if match is not None:
            found.append((name.strip(" *\"'") if "@" not in name else "", match.group(1).lower()))
    if not found:
        found = [("", m.group(1).lower()) for m in EMAIL_RE.finditer(value)]
    return found
