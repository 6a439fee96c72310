"""A referral as JSON (a partner's CRM, the portal form, ``cosell referrals submit FILE.json``),
validated at the edge into a :class:`~cosell.referrals.parsed.ParsedReferral`. Pure.

::

    {
      "source_ref": "partner-crm-4711",          required: the caller's reference (idempotence key)
      "channel": "api",                         api (default) or portal
      "received_at": "2026-10-20T14:05:00Z",    optional, ISO 8601 (no offset = UTC)
      "sender_emails": ["jane@partner.example"],   optional: who sent it, most telling first
      "sender_name": "Jane Doe",                optional
      "partner_hint": "Partner Co",             optional: the partner named in words
      "prospect": {"company": "...", "name": "...", "email": "...", "title": "...", "domain": "..."},
      "notes": "..."                            optional
    }

Every problem names the file and the field (``referral.json, prospect.email: "bob@" is not an email
address``); unknown keys are refused (a misspelt key would otherwise be silently lost).
"""

from __future__ import annotations

import json
import re
from typing import Any

from cosell.errors import InputError, Problem
from cosell.instants import parse_supported_instant
from cosell.referrals.parsed import MAX_FIELD_CHARS, Channel, FieldSource, ParsedReferral
from cosell.referrals.text_words import UNPAIRED_SURROGATE, has_unpaired_surrogate

TOP_KEYS = ("source_ref", "channel", "received_at", "sender_emails", "sender_name", "partner_hint",
            "prospect", "notes")  # fmt: skip
PROSPECT_KEYS = ("company", "name", "email", "title", "domain")
JSON_CHANNELS = ("api", "portal")
MAX_TEXT = MAX_FIELD_CHARS
EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")


def _fail(name: str, field: str | None, value: Any, reason: str) -> InputError:
    shown = None if value is None else (value if isinstance(value, str) else json.dumps(value))[:80]
    return InputError(Problem(name, None, field, shown, reason))


def _text(name: str, field: str, value: Any, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _fail(name, field, value, "must be a string")
    text = " ".join(value.split())
    if required and not text:
        raise _fail(name, field, None, "is required (the caller's reference of this referral)")
    if len(text) > MAX_TEXT:
        raise _fail(name, field, text, f"is longer than {MAX_TEXT:,} characters")
    return text


def _email(name: str, field: str, value: Any) -> str:
    text = _text(name, field, value).lower()
    if text and not EMAIL.fullmatch(text):
        raise _fail(name, field, text, "is not an email address")
    return text


def parse_json_referral(data: bytes, name: str) -> ParsedReferral:
    """The referral in ``data`` (JSON text of one object); ``name`` is the file or ``-`` for stdin,
    used in errors and in each field's source."""
    try:
        text = data.decode("utf-8")
        doc = json.loads(text)
    except UnicodeDecodeError as exc:
        raise _fail(name, None, None, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise _fail(
            name, None, None, f"is not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:  # "[[[[...": deeper than Python's JSON reader goes, never a referral
        raise _fail(name, None, None, "is not JSON: nested too deeply") from None
    if not isinstance(doc, dict):
        raise _fail(name, None, None, "must be one JSON object (a referral)")
    if has_unpaired_surrogate(text, doc):
        raise _fail(name, None, None, UNPAIRED_SURROGATE)
    for key in sorted(doc):
        if key not in TOP_KEYS:
            raise _fail(name, key, None, f"is not a referral field (fields: {', '.join(TOP_KEYS)})")
    prospect = doc.get("prospect") or {}
    if not isinstance(prospect, dict):
        raise _fail(name, "prospect", prospect, "must be an object with company, name, email, title, domain")
    for key in sorted(prospect):
        if key not in PROSPECT_KEYS:
            raise _fail(
                name, f"prospect.{key}", None, f"is not a prospect field ({', '.join(PROSPECT_KEYS)})"
            )
    channel = _text(name, "channel", doc.get("channel")) or "api"
    if channel not in JSON_CHANNELS:
        raise _fail(name, "channel", channel, f"must be one of {', '.join(JSON_CHANNELS)}")
    received = _text(name, "received_at", doc.get("received_at"))
    try:
        received_at = parse_supported_instant(received) if received else None
    except ValueError as exc:
        # The problem shows the value beside the reason: the reason need not repeat it.
        raise _fail(name, "received_at", received, str(exc).removeprefix(f"{received!r} ")) from None
    senders = doc.get("sender_emails") or []
    if isinstance(senders, str):
        senders = [senders]
    if not isinstance(senders, list):
        raise _fail(name, "sender_emails", senders, "must be a list of email addresses")
    emails = tuple(_email(name, f"sender_emails[{i}]", s) for i, s in enumerate(senders))
    values = {key: _text(name, f"prospect.{key}", prospect.get(key)) for key in PROSPECT_KEYS}
    values["email"] = _email(name, "prospect.email", prospect.get("email"))
    sources = [
        FieldSource(f"prospect_{key}", f"{name} prospect.{key}", values[key])
        for key in PROSPECT_KEYS
        if values[key]
    ]
    if emails:
        sources.insert(0, FieldSource("sender_emails", f"{name} sender_emails", ", ".join(emails)))
    ch: Channel = "portal" if channel == "portal" else "api"
    return ParsedReferral(
        channel=ch,
        source_ref=_text(name, "source_ref", doc.get("source_ref"), required=True),
        received_at=received_at,
        sender_emails=tuple(dict.fromkeys(e for e in emails if e)),
        sender_name=_text(name, "sender_name", doc.get("sender_name")) or None,
        partner_hint=_text(name, "partner_hint", doc.get("partner_hint")) or None,
        prospect_company=values["company"] or None,
        prospect_name=values["name"] or None,
        prospect_email=values["email"] or None,
        prospect_title=values["title"] or None,
        prospect_domain=values["domain"].lower() or None,
        notes=_text(name, "notes", doc.get("notes")),
        sources=tuple(sources),
    )
