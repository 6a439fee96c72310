"""The readable text of an email and the messages attached to it, whatever its MIME shape.

- ``multipart/alternative``: the text/plain version when it has any text, else the HTML one as lines.
- HTML only: :func:`~cosell.referrals.email_html.html_to_lines`.
- ``multipart/mixed`` and ``related``: every inline text part in order; parts marked as attachments
  are not the body.
- ``message/rfc822`` parts (a message forwarded "as attachment", or an attached ``.eml``) are returned
  separately, to be read as messages of their own.

Charsets: a part's bytes are decoded with the charset it declares, but declarations are often wrong,
so bytes that are valid UTF-8 are read as UTF-8 when a Western single-byte charset (or none) is
declared; text that fits nothing is read as windows-1252, the superset of ISO-8859-1 that browsers
use for that label, with undecodable bytes replaced. Decoding never fails.
"""

from __future__ import annotations

import codecs
import re
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from typing import Any

from cosell.referrals.email_headers import MAX_HEADER_CHARS
from cosell.referrals.email_html import html_to_lines

_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
# Declared charsets that UTF-8 bytes are often mislabelled as; windows-1252 reads all of them as a
# browser does (WHATWG maps the labels us-ascii and iso-8859-1 to windows-1252).
_WESTERN = frozenset({"us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "iso8859-1",
                      "windows-1252", "cp1252", "x-unknown", "unknown-8bit"})  # fmt: skip
MAX_DEPTH = 5  # multiparts nested deeper than this are not read (a real client nests two or three)


def decode_text(data: bytes, declared: str | None) -> str:
    """``data`` as text: see the module docstring for the order charsets are tried in.

    >>> decode_text("café".encode("utf-8"), "iso-8859-1")
    'café'
    >>> decode_text("café".encode("cp1252"), None)
    'café'
    >>> decode_text(b"\\x93quoted\\x94", "no-such-charset")
    '\\u201cquoted\\u201d'
    """
    charset = (declared or "").strip().strip('"').lower()
    tries: list[str] = []
    if charset and charset not in _WESTERN and _known(charset):
        tries.append(charset)
    tries += ["utf-8", "windows-1252"]
    for encoding in tries:
        try:
            text = data.decode(encoding)
            text.encode("utf-8")  # an unpaired surrogate (utf-7 "+2AA-") is no text: try the next
            return text
        except (LookupError, ValueError):  # bytes it cannot decode, or a codec that is not text (rot13)
            continue
    return data.decode("windows-1252", errors="replace")


def _known(charset: str) -> bool:
    try:
        codecs.lookup(charset)
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        return False
    return True


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
        charset = part.get_param("charset")
    except Exception:  # the stdlib raises assorted errors on malformed parts
        return ""
    if not isinstance(payload, bytes):
        return ""
    return decode_text(payload, charset if isinstance(charset, str) else None)


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # a malformed Content-Type reads as plain text, as RFC 2045 says
        return "text/plain"


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:  # the stdlib raises assorted errors on malformed parts
        return False


def _text_lines(part: Message) -> list[str]:
    text = _part_text(part)
    if _content_type(part) == "text/html":
        return html_to_lines(text)
    return _LINE_BREAK_RE.split(text.replace("\x00", ""))


def body_lines(message: Message, depth: int = 0) -> list[str]:
    """The lines a reader sees as the message's text (not its attachments); may be empty."""
    kind = _content_type(message)
    if depth > MAX_DEPTH or kind == "message/rfc822":
        return []
    if not message.is_multipart():
        if kind.startswith("text/") and kind != "text/calendar":
            return [] if depth and _is_attachment(message) else _text_lines(message)
        return []
    parts = _subparts(message)
    if kind == "multipart/alternative":
        plain = [p for p in parts if _content_type(p) == "text/plain"]
        for part in plain:
            text = _text_lines(part)
            if any(line.strip() for line in text):
                return text
        for part in parts:  # HTML, or a nested multipart/related holding the HTML
            text = body_lines(part, depth + 1)
            if any(line.strip() for line in text):
                return text
        return []
    lines: list[str] = []
    for part in parts:
        found = body_lines(part, depth + 1)
        if any(line.strip() for line in found):
            lines += [""] if lines else []
            lines += found
    return lines


def _subparts(message: Message) -> list[Message]:
    try:
        payload = message.get_payload()
    except Exception:  # the stdlib raises assorted errors on malformed parts
        return []
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def attached_messages(message: Message, depth: int = 0, limit: int | None = None) -> list[Message]:
    """The messages attached to ``message`` (``message/rfc822`` parts, and ``.eml`` attachments sent
    as application/octet-stream), in the order they appear, the first ``limit`` when given; not
    those inside attached messages."""
    found: list[Message] = []
    if depth > MAX_DEPTH or not message.is_multipart():
        return found
    for part in _subparts(message):
        if limit is not None and len(found) >= limit:
            return found[:limit]
        kind = _content_type(part)
        if kind == "message/rfc822":
            inner = _subparts(part)
            found += inner[:1]
        elif part.is_multipart():
            found += attached_messages(part, depth + 1, None if limit is None else limit - len(found))
        elif _is_attachment(part) and _filename(part).lower().endswith(".eml"):
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload.strip():
                found.append(parse_bytes(payload))
    return found if limit is None else found[:limit]


def _filename(part: Message) -> str:
    try:
        return part.get_filename() or ""
    except Exception:  # the stdlib raises assorted errors on malformed parts
        return ""


class _BoundedPolicy(EmailPolicy):
    """The modern policy, a header cut at MAX_HEADER_CHARS when read: the standard library's
    header parser takes time quadratic in a header's length (a part's Content-Type of 200 KB of
    parameters took 11 s)."""

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if isinstance(value, str) and len(value) > MAX_HEADER_CHARS:
            value = value[:MAX_HEADER_CHARS]
        return super().header_fetch_parse(name, value)


_POLICY = _BoundedPolicy()


def parse_bytes(raw: bytes) -> EmailMessage:
    """The message in ``raw`` under the modern policy (RFC 2047 names decoded, header objects),
    each header read up to MAX_HEADER_CHARS."""
    message: EmailMessage = BytesParser(policy=_POLICY).parsebytes(raw)  # type: ignore[assignment]
    return message
