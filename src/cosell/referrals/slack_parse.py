"""Referrals posted in Slack: a workspace export (folder or .zip) or one Events API payload ->
:class:`~cosell.referrals.parsed.ParsedReferral` values.

A thread (its root and every reply) is one conversation and gives at most one referral. Which
conversations are referrals is decided by a fixed rule, so the same export always gives the same
referrals and a reviewer can say why (docs/referrals-slack.md):

* each message is read in its newest version (an export's text is already the edited one; a
  ``message_changed`` replaces the text of the message it names; a ``message_deleted`` removes it);
* only messages people (or a form bot) wrote are read: no subtype, ``thread_broadcast``, or
  ``bot_message``; a bot's message is read only when it carries a labelled prospect field
  (``Company: ...``), so integrations' chatter never becomes a referral;
* the prospect is read from each message's plain text by :func:`~cosell.referrals.prospect_text.
  extract_prospect`, message by message in time order: what an earlier message names stands, a
  reply only fills a field still missing; each field's source names the message's ts;
* the conversation is a referral when a prospect company, name or email was found AND some read
  message has a labelled prospect field or a referral cue word (refer, referral, intro, introduce,
  lead, prospect, opportunity, meet, connect, in touch). Fields still missing make it ``needs_info``
  downstream, via :meth:`ParsedReferral.missing`.

``source_ref`` is ``<channel id>/<root ts>`` (the folder name when channels.json does not list the
channel), the same for an export and for an event about the same thread.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cosell.accounts.free_mail import company_domain
from cosell.referrals.parsed import FieldSource, ParsedReferral
from cosell.referrals.prospect_text import ProspectFields, extract_prospect
from cosell.referrals.slack_export import INDEX_FILES, read_export_files
from cosell.referrals.slack_markup import (
    PARTNER_LABELS,
    form_lines,
    has_labelled_field,
    label_of,
    plain_text,
)
from cosell.referrals.slack_messages import (
    CONTENT_SUBTYPES,
    SlackMessage,
    SlackUser,
    load_json,
    newest_versions,
    problem,
    read_message,
    read_users,
)
from cosell.referrals.slack_senders import message_where, senders

_CUE_RE = re.compile(
    r"(?i)\b(?:refer(?:s|red|ring|ral|rals)?|intro(?:s|duce|duces|duced|ducing|duction|ductions)?"
    r"|leads?|prospects?|opportunit(?:y|ies)|meet|connect(?:ing)?|in\s+touch)\b"
)
_SOURCE_TEXT_MAX = 200


def parse_slack_export(path: Path) -> list[ParsedReferral]:
    """The referrals in a Slack export folder or .zip at ``path``, sorted by received_at then
    source_ref. Reads only the export's index and day files (see :mod:`.slack_export` for the limits
    and what is refused); raises InputError naming the file, message and field of bad input."""
    return parse_slack_export_files(read_export_files(path), str(path))


def parse_slack_export_files(files: Mapping[str, bytes], name: str = "slack export") -> list[ParsedReferral]:
    """The referrals in an export given as ``{member name: bytes}`` (``channels.json``,
    ``users.json``, ``<channel>/<YYYY-MM-DD>.json``); pure. ``name`` prefixes file names in errors.
    The result depends neither on the order of the files nor on the order of messages in them."""
    folder_channel = _channel_ids(files, name)
    users_file = f"{name}/users.json"
    users = (
        read_users(load_json(files["users.json"], users_file), users_file) if "users.json" in files else {}
    )
    messages: list[SlackMessage] = []
    deleted: list[tuple[str, str]] = []
    for member in sorted(files):
        if "/" not in member:
            continue
        folder = member.split("/", 1)[0]
        channel = folder_channel.get(folder, folder)
        raw_messages = load_json(files[member], f"{name}/{member}")
        if not isinstance(raw_messages, list):
            raise problem(f"{name}/{member}", "should hold a JSON list of messages")
        for row, raw in enumerate(raw_messages, start=1):
            _collect(raw, channel, f"{name}/{member}", row, messages, deleted)
    return _referrals(newest_versions(messages, deleted), users)


def _channel_ids(files: Mapping[str, bytes], name: str) -> dict[str, str]:
    """``{folder name: channel id}`` from channels.json, groups.json, mpims.json and dms.json (a
    direct message's folder is its id)."""
    found: dict[str, str] = {}
    for index in INDEX_FILES[:4]:
        if index not in files:
            continue
        raw = load_json(files[index], f"{name}/{index}")
        if not isinstance(raw, list):
            raise problem(f"{name}/{index}", "should hold a JSON list of channels")
        for entry in raw:
            if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                folder = entry.get("name")
                found[folder if isinstance(folder, str) and folder else entry["id"]] = entry["id"]
    return found


def parse_slack_event(payload: Mapping[str, Any]) -> ParsedReferral | None:
    """The referral in one Events API payload (an ``event_callback`` whose event is a message, an
    edit of one, or an app mention) or in a bare message object; None when it carries none
    (``url_verification``, reactions, joins, deletions, chatter, a bot post without labelled
    fields). With no users.json at hand, sender_emails holds only an address a form names on its
    ``Submitted by:`` line, and sender_name is the message's own user_profile name when Slack sent one."""
    if not isinstance(payload, Mapping):
        raise problem("slack event", "is not a JSON object")
    if payload.get("type") == "url_verification":
        return None
    event = payload.get("event") if "event" in payload else payload
    if not isinstance(event, Mapping):
        raise problem("slack event", "has an event that is not a JSON object", column="event")
    messages: list[SlackMessage] = []
    deleted: list[tuple[str, str]] = []
    channel = event["channel"] if isinstance(event.get("channel"), str) else ""
    _collect(event, channel, "slack event", None, messages, deleted)
    found = _referrals(newest_versions(messages, deleted), {})
    return found[0] if found else None


def _collect(
    raw: Any,
    channel: str,
    file: str,
    row: int | None,
    out: list[SlackMessage],
    deleted: list[tuple[str, str]],
) -> None:
    if isinstance(raw, Mapping) and raw.get("subtype") == "message_deleted":
        if isinstance(raw.get("deleted_ts"), str):
            deleted.append((str(raw.get("channel") or channel), raw["deleted_ts"]))
        return
    message = read_message(raw, channel, file, row)
    if message is not None:
        out.append(message)


def _referrals(messages: Sequence[SlackMessage], users: Mapping[str, SlackUser]) -> list[ParsedReferral]:
    threads: dict[tuple[str, str], list[SlackMessage]] = defaultdict(list)
    for message in messages:
        if message.subtype in CONTENT_SUBTYPES:
            threads[(message.channel, message.thread_ts)].append(message)
    exclude = _workspace_addresses(users)
    found = [
        referral
        for (channel, root_ts), thread in threads.items()
        if (referral := _thread_referral(channel, root_ts, thread, users, exclude)) is not None
    ]
    return sorted(found, key=lambda r: (r.received_at, r.source_ref))


def _workspace_addresses(users: Mapping[str, SlackUser]) -> list[str]:
    """The members' addresses and their companies' domains: a member of the workspace (ours or the
    partner's) is never the prospect. A free-mail domain is kept out, or every gmail prospect would go."""
    found: set[str] = set()
    for user in users.values():
        if user.email:
            # the domain covers its addresses; a free-mail address is excluded on its own
            found.add(company_domain(user.email) or user.email)
    return sorted(found)


def _thread_referral(
    channel: str, root_ts: str, thread: list[SlackMessage], users: Mapping[str, SlackUser], exclude: list[str]
) -> ParsedReferral | None:
    handles = {uid: user.handle for uid, user in users.items()}
    read: list[tuple[SlackMessage, list[str]]] = []
    cue = False
    for message in sorted(thread, key=lambda m: m.instant):
        lines = form_lines(
            [
                *plain_text(message.text, handles).split("\n"),
                *(line for raw in message.lines for line in plain_text(raw, handles).split("\n")),
            ]
        )
        labelled = has_labelled_field(lines)
        if message.bot and not labelled:
            continue  # integrations' posts: only a form's labelled fields make a bot's message count
        read.append((message, lines))
        cue = cue or labelled or any(_CUE_RE.search(line) for line in lines)
    if not cue:
        return None  # chatter: no label and no cue word, whatever names it mentions
    fields = ProspectFields()
    for message, lines in read:
        fields = fields.merged(extract_prospect(lines, message_where(message), exclude))
    if not (fields.company or fields.name or fields.email):
        return None
    givers = {s.where.split(" line", 1)[0] for s in fields.sources}
    received_at = min(m.provable_instant for m, _ in read if message_where(m) in givers)
    people, sender_sources = senders([m for m, _ in read if message_where(m) in givers], users)
    hint = _labelled_value(read, PARTNER_LABELS)
    partner_sources = (FieldSource("partner_hint", hint[0], hint[2]),) if hint else ()
    return ParsedReferral(
        channel="slack",
        source_ref=f"{channel}/{root_ts}" if channel else root_ts,
        received_at=received_at,
        sender_emails=tuple(dict.fromkeys(p.email for p in people if p.email)),
        sender_name=people[0].name if people else None,
        partner_hint=hint[1] if hint else None,
        prospect_company=fields.company,
        prospect_name=fields.name,
        prospect_email=fields.email,
        prospect_title=fields.title,
        prospect_domain=fields.domain,
        notes="\n".join(f"[{m.ts}] " + " ".join(" ".join(lines).split()) for m, lines in read),
        sources=(*sender_sources, *partner_sources, *fields.sources),
    )


def _labelled_value(
    read: list[tuple[SlackMessage, list[str]]], labels: frozenset[str]
) -> tuple[str, str, str] | None:
    """(where, value, line) of the first line labelled with one of ``labels``, in time order."""
    for message, lines in read:
        for number, line in enumerate(lines, start=1):
            found = label_of(line)
            if found and found[0] in labels:
                return f"{message_where(message)} line {number}", found[1], line.strip()[:_SOURCE_TEXT_MAX]
    return None
