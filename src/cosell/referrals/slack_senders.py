"""Who sent a Slack referral: the people whose messages named the prospect, resolved from users.json.

A person's message counts for its author. A form bot's post (Workflow Builder) counts for the person
on its ``Submitted by:`` line (or Referred by, Referrer, From, Sent by, Partner contact), named by a
mention, an address, or a name exactly one member goes by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cosell.referrals.parsed import FieldSource
from cosell.referrals.slack_markup import SUBMITTER_LABELS, form_lines, label_of, mentioned_users, plain_text
from cosell.referrals.slack_messages import SlackMessage, SlackUser
from cosell.referrals.text_words import EMAIL_RE


def message_where(message: SlackMessage) -> str:
    """How a FieldSource names a message: ``slack message <ts>``."""
    return f"slack message {message.ts}"


@dataclass(frozen=True)
class Sender:
    """One person who sent (part of) a referral, as far as the export knows them."""

    key: str  # the same person in two messages has the same key: the user id when known
    email: str | None
    name: str | None
    said: str  # how the message names them, for the FieldSource: "author U01", "submitted by U03"
    from_users: bool  # the address is users.json's


def senders(
    messages: Sequence[SlackMessage], users: Mapping[str, SlackUser]
) -> tuple[list[Sender], list[FieldSource]]:
    """Who wrote the messages that named the prospect, first writer first, each once, and the
    sources of the first address and of the first writer's name. Someone who only replied ("thanks,
    on it") never appears: often our own rep."""
    people: list[Sender] = []
    sources: list[FieldSource] = []
    for message in messages:
        sender = _sender_of(message, users)
        if sender is None or any(sender.key == p.key for p in people):
            continue
        if sender.email and not any(p.email for p in people):
            known = " (users.json)" if sender.from_users else ""
            sources.append(
                FieldSource("sender_emails", message_where(message), f"{sender.said}: {sender.email}{known}")
            )
        if sender.name and not people:
            sources.append(
                FieldSource("sender_name", message_where(message), f"{sender.said}: {sender.name}")
            )
        people.append(sender)
    return people, sources


def _sender_of(message: SlackMessage, users: Mapping[str, SlackUser]) -> Sender | None:
    """A person's message: its author (users.json, else the name the message carries). A form bot's
    post: the person on its ``Submitted by:`` line (or Referred by, Referrer, From, Sent by, Partner
    contact), named by a mention, an address, or a name that exactly one member goes by."""
    if not message.bot:
        if message.user is None:
            name = message.author_name
            return Sender(f"name {name}", None, name, "author", False) if name else None
        return _known(message.user, users, f"author {message.user}", message.author_name)
    value = _submitter(message)
    if value is None:
        return None
    if ids := mentioned_users(value):
        return _known(ids[0], users, f"submitted by {ids[0]}", None)
    if address := EMAIL_RE.search(value):
        email = address.group(1).lower()
        user = next((u for u in users.values() if u.email == email), None)
        if user is not None:
            return _known(user.id, users, f"submitted by {email}", None)
        return Sender(email, email, None, f"submitted by {email}", False)
    name = " ".join(plain_text(value, {}).split())
    named = [u for u in users.values() if name.lower() in {(u.name or "").lower(), u.handle.lower()}]
    if len(named) == 1:
        return _known(named[0].id, users, f"submitted by {name}", None)
    return Sender(f"name {name}", None, name, "submitted by", False) if name else None


def _known(uid: str, users: Mapping[str, SlackUser], said: str, fallback_name: str | None) -> Sender:
    user = users.get(uid)
    if user is None:
        return Sender(uid, None, fallback_name, said, False)
    return Sender(uid, user.email, user.name or user.handle, said, True)


def _submitter(message: SlackMessage) -> str | None:
    """The raw value of a form bot's ``Submitted by:`` line (a label alone on its line takes the next)."""
    raw_lines = [line.replace("*", "").strip() for line in (*message.text.split("\n"), *message.lines)]
    for raw in form_lines(raw_lines):
        found = label_of(raw)
        if found and found[0] in SUBMITTER_LABELS:
            return found[1]
    return None
