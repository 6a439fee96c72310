"""Whatever JSON a Slack file or event holds, the parser answers with referrals or an InputError,
never another exception (no traceback ever reaches a user)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from cosell.errors import InputError
from cosell.referrals.parsed import ParsedReferral
from cosell.referrals.slack_parse import parse_slack_event, parse_slack_export_files

from .slack_helpers import CHANNELS, USERS

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=30)
    | st.sampled_from(
        ["1772460000.000001", "1772460000", "Company: Globex", "<@U1>", "bot_message", "message_changed"]
    )
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
_KEYS = ["type", "subtype", "ts", "thread_ts", "user", "text", "edited", "message", "attachments", "blocks",
         "bot_id", "deleted_ts", "channel", "user_profile", "bot_profile", "username", "fields"]  # fmt: skip
# Message-shaped objects: Slack's own keys with any values, so the parser's every branch is reached.
_MESSAGES = st.dictionaries(st.sampled_from(_KEYS), _JSON, max_size=8)


def _answers(call: Any) -> None:
    try:
        found = call()
    except InputError as error:
        assert str(error).split(":")[0]  # names the file it could not read
        return
    referrals = found if isinstance(found, list) else [] if found is None else [found]
    for referral in referrals:
        assert isinstance(referral, ParsedReferral)
        assert referral.channel == "slack" and referral.received_at is not None
        assert referral.prospect_company or referral.prospect_name or referral.prospect_email


@given(st.lists(_MESSAGES | _JSON, max_size=6), _JSON)
def test_any_day_file_and_users_file(messages: list[Any], users: Any) -> None:
    files = {
        "channels.json": CHANNELS,
        "users.json": json.dumps(users).encode(),
        "partners/2026-03-02.json": json.dumps(messages).encode(),
    }
    _answers(lambda: parse_slack_export_files(files))
    files["users.json"] = USERS
    _answers(lambda: parse_slack_export_files(files))


@given(_MESSAGES, _JSON)
def test_any_event(event: dict[str, Any], envelope: Any) -> None:
    _answers(lambda: parse_slack_event(event))
    _answers(lambda: parse_slack_event({"type": "event_callback", "event": event}))
    _answers(lambda: parse_slack_event({"type": "event_callback", "event": envelope}))
