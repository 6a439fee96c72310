"""What a parser read out of one inbound referral, before anything is stored.

Every intake channel (an .eml, a Slack message, a JSON form) is turned into a :class:`ParsedReferral`
by a pure function; the referral use case identifies the partner, finds the account, checks for
conflicts and stores it. Parsing is deterministic and explainable: each field found carries a
:class:`FieldSource` saying which part of the message gave it, so ``cosell referrals show`` can answer
"why does cosell think this came from Acme Partners?".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Channel = Literal["email", "slack", "api", "portal"]

# The prospect fields a complete referral names; a referral missing any is ``needs_info``. The title is
# kept when given but not required: most introductions leave it out, and a rep can act without it.
PROSPECT_FIELDS = ("prospect_company", "prospect_name", "prospect_email")
# A value longer than this is not a name, a company, a title or an address, however it was found.
MAX_FIELD_CHARS = 2_000


@dataclass(frozen=True)
class FieldSource:
    """Where one field's value came from: ``where`` is a place a person can find again (``From
    header``, ``body line 12``, ``forwarded block 1, line 3``, ``slack message 1700000000.000100``)
    and ``text`` the words there that gave the value (trimmed to one line)."""

    field: str
    where: str
    text: str


@dataclass(frozen=True)
class ParsedReferral:
    """One referral as read from its channel; every value is as found, normalised only in case and
    whitespace (emails lower-cased, domains without ``www.``).

    ``sender_emails`` lists the addresses that may identify the referring partner, most telling
    first: the person who wrote the introduction (the original author of a forwarded message before
    the person who forwarded it), then the other senders and recipients on the partner's side. The
    referral use case takes the first that matches a partner contact's email, else the first whose
    domain is a partner's domain; the workspace's own domains and free-mail domains never identify a
    partner.
    """

    channel: Channel
    source_ref: str  # the message's id: Message-ID, Slack channel and ts, or the caller's reference
    received_at: datetime | None  # UTC; None when the message carries no date
    sender_emails: tuple[str, ...] = ()
    sender_name: str | None = None
    partner_hint: str | None = None  # a partner named in words ("from Acme Partners"), when no address
    prospect_company: str | None = None
    prospect_name: str | None = None
    prospect_email: str | None = None
    prospect_title: str | None = None
    prospect_domain: str | None = None
    notes: str = ""
    sources: tuple[FieldSource, ...] = field(default=())

    def missing(self) -> tuple[str, ...]:
        """The prospect fields this referral does not name, in :data:`PROSPECT_FIELDS` order."""
        return tuple(f for f in PROSPECT_FIELDS if not getattr(self, f))
