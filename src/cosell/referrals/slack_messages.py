"""Slack's JSON (an export's channels.json, users.json and day files, or one Events API message) as
values: users, messages with their newest text, and threads. Pure: takes decoded JSON, returns values.

A message's time is its ``ts``, a decimal string of seconds and microseconds since the epoch
(``"1700000000.000100"``); it is read exactly, as integers, never through a float.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cosell.errors import InputError, Problem
from cosell.instants import UNSUPPORTED, is_supported
from cosell.referrals.text_words import UNPAIRED_SURROGATE, has_unpaired_surrogate

_TS_RE = re.compile(r"^(\d{1,12})(?:\.(\d{1,6}))?$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The messages that carry words a person (or a form bot) wrote. Everything else (channel_join,
# channel_leave, bot_add, file_share, file_comment, pinned_item, channel_topic, tombstone, ...) is
# Slack describing an action, never a referral.
CONTENT_SUBTYPES = frozenset({None, "thread_broadcast", "bot_message"})


def ts_instant(ts: str) -> datetime:
    """The UTC instant of a Slack ``ts`` (``"1700000000.000100"`` -> 2023-11-14 22:13:20.000100+00:00).

    Raises ValueError for anything but digits, a dot and up to six digits, and for an instant
    outside the supported years 1900 to 2999."""
    match = _TS_RE.match(ts)
    if match is None:
        raise ValueError(f'"{ts}" is not a Slack ts (seconds.microseconds)')
    micro = int((match.group(2) or "").ljust(6, "0"))
    try:
        instant = _EPOCH + timedelta(seconds=int(match.group(1)), microseconds=micro)
    except OverflowError:
        instant = None
    if instant is None or not is_supported(instant):
        raise ValueError(f'"{ts}" {UNSUPPORTED}')
    return instant


@dataclass(frozen=True)
class SlackUser:
    """A workspace member from users.json: ``handle`` is the Slack user name (``jdoe``), ``name`` the
    name a person goes by (profile real_name, else display_name), ``email`` the profile's address."""

    id: str
    handle: str
    name: str | None
    email: str | None


@dataclass(frozen=True)
class SlackMessage:
    """One message, in its newest version. ``thread_ts`` is the thread root's ts (its own ts for a
    message outside a thread); ``edited_ts`` the ts of the newest edit, when edited; ``lines`` the
    extra raw lines a bot posts beside ``text`` (attachment and block fields, ``Title: value``)."""

    channel: str
    ts: str
    thread_ts: str
    user: str | None
    author_name: str | None  # from the message's own user_profile or bot name, when users.json lacks it
    bot: bool
    subtype: str | None
    text: str
    lines: tuple[str, ...] = ()
    edited_ts: str | None = None

    @property
    def instant(self) -> datetime:
        return ts_instant(self.ts)

    @property
    def provable_instant(self) -> datetime:
        """When this text is known to have been written: the newest edit's time if edited (an export
        keeps only the newest text, so what the message said before is unknown), else the ts."""
        return ts_instant(self.edited_ts) if self.edited_ts else self.instant


def problem(file: str, reason: str, row: int | None = None, column: str | None = None) -> InputError:
    return InputError(Problem(file=file, row=row, column=column, value=None, reason=reason))


def load_json(data: bytes, file: str) -> Any:
    """The JSON in ``data``; an InputError naming the file, line and column when it is not JSON."""
    try:
        text = data.decode("utf-8-sig")
        loaded = json.loads(text)
    except UnicodeDecodeError as error:
        raise problem(file, f"is not UTF-8 text (byte {error.start})") from None
    except json.JSONDecodeError as error:
        raise problem(
            file, f"is not valid JSON ({error.msg})", error.lineno, f"column {error.colno}"
        ) from None
    except RecursionError:  # "[[[[...": nested deeper than Python's parser goes, never a Slack file
        raise problem(file, "is nested too deeply to be a Slack export file") from None
    if has_unpaired_surrogate(text, loaded):
        raise problem(file, UNPAIRED_SURROGATE)
    return loaded


def read_users(raw: Any, file: str) -> dict[str, SlackUser]:
    """users.json as ``{id: SlackUser}``."""
    if not isinstance(raw, list):
        raise problem(file, "should hold a JSON list of users")
    users: dict[str, SlackUser] = {}
    for number, entry in enumerate(raw, start=1):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            raise problem(file, "is not a user with an id", number, "id")
        raw_profile = entry.get("profile")
        profile: Mapping[str, Any] = raw_profile if isinstance(raw_profile, Mapping) else {}
        name = _first_text(profile.get("real_name"), entry.get("real_name"), profile.get("display_name"))
        email = _first_text(profile.get("email"))
        handle = _first_text(entry.get("name")) or entry["id"]
        users[entry["id"]] = SlackUser(entry["id"], handle, name, email.lower() if email else None)
    return users


def read_message(raw: Any, channel: str, file: str, row: int | None) -> SlackMessage | None:
    """One message object as a SlackMessage (a ``message_changed`` as its new version), or None when
    it is no message at all (another event type). An InputError names the file, the message's
    position and the field when its ts is unusable."""
    if not isinstance(raw, Mapping):
        raise problem(file, "is not a JSON object", row)
    if raw.get("type", "message") not in ("message", "app_mention"):
        return None
    if raw.get("subtype") == "message_changed" and isinstance(raw.get("message"), Mapping):
        new = dict(raw["message"])
        new.setdefault("channel", raw.get("channel"))
        if not isinstance(new.get("edited"), Mapping):  # the change's own time dates the new text
            new["edited"] = {"ts": raw.get("ts")}
        raw = new
    ts = raw.get("ts")
    _check_ts(ts, file, row, "ts")
    assert isinstance(ts, str)
    thread_ts = raw.get("thread_ts") or ts
    _check_ts(thread_ts, file, row, "thread_ts")
    edited = raw.get("edited")
    edited_ts = edited.get("ts") if isinstance(edited, Mapping) else None
    if edited_ts is not None:
        _check_ts(edited_ts, file, row, "edited.ts")
    subtype = raw.get("subtype") if isinstance(raw.get("subtype"), str) else None
    bot = subtype == "bot_message" or isinstance(raw.get("bot_id"), str)
    text = raw.get("text") if isinstance(raw.get("text"), str) else ""
    return SlackMessage(
        channel=str(raw.get("channel") or channel),
        ts=ts,
        thread_ts=str(thread_ts),
        user=raw["user"] if isinstance(raw.get("user"), str) else None,
        author_name=_author_name(raw),
        bot=bot,
        subtype=subtype,
        text=text,
        lines=_bot_lines(raw) if bot else (),
        edited_ts=edited_ts,
    )


def _check_ts(value: object, file: str, row: int | None, column: str) -> None:
    try:
        if not isinstance(value, str):
            raise ValueError("is missing or not a string")
        ts_instant(value)
    except ValueError as error:
        raise problem(file, f"{error}", row, column) from None


def _first_text(*values: object) -> str | None:
    return next((v.strip() for v in values if isinstance(v, str) and v.strip()), None)


def _author_name(raw: Mapping[str, Any]) -> str | None:
    profile = raw.get("user_profile")
    if isinstance(profile, Mapping):
        found = _first_text(profile.get("real_name"), profile.get("display_name"))
        if found:
            return found
    bot_profile = raw.get("bot_profile")
    return _first_text(
        raw.get("username"), bot_profile.get("name") if isinstance(bot_profile, Mapping) else None
    )


def _bot_lines(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """What a bot posts beside ``text``: legacy attachments (pretext, title, text, fields) and
    Block Kit header and section blocks (text, fields), in the order Slack shows them."""
    lines: list[str] = []
    for attachment in _mappings(raw.get("attachments")):
        for key in ("pretext", "title", "text"):
            lines += _text_lines(attachment.get(key))
        for item in _mappings(attachment.get("fields")):
            title, value = _text_of(item.get("title")), _text_of(item.get("value"))
            if title and value:
                lines.append(f"{title}: {value}")
    for block in _mappings(raw.get("blocks")):
        if block.get("type") in ("header", "section"):
            lines += _text_lines(_text_of(block.get("text")))
            for item in _mappings(block.get("fields")):
                lines += _text_lines(_text_of(item))
    return tuple(lines)


def _mappings(value: object) -> Iterable[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _text_of(value: object) -> str | None:
    if isinstance(value, Mapping):  # a Block Kit text object {"type": "mrkdwn", "text": "..."}
        value = value.get("text")
    return value if isinstance(value, str) and value.strip() else None


def _text_lines(value: object) -> list[str]:
    return value.split("\n") if isinstance(value, str) and value.strip() else []


def newest_versions(
    messages: Iterable[SlackMessage], deleted: Iterable[tuple[str, str]] = ()
) -> list[SlackMessage]:
    """One message per (channel, ts): the newest version (latest edit; for equal edit times the
    greater text, so the choice never depends on the order read), without deleted ones; sorted by
    channel, thread and ts."""
    gone = set(deleted)
    best: dict[tuple[str, str], SlackMessage] = {}
    for message in messages:
        key = (message.channel, message.ts)
        if key in gone:
            continue
        current = best.get(key)
        if current is None or _version_key(message) > _version_key(current):
            best[key] = message
    return sorted(best.values(), key=lambda m: (m.channel, ts_instant(m.thread_ts), m.instant))


def _version_key(message: SlackMessage) -> tuple[datetime, str, tuple[str, ...], str]:
    return (message.provable_instant, message.text, message.lines, repr(message))
