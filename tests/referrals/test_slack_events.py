"""One Slack Events API payload -> a referral or None (fixtures under fixtures/slack/events)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cosell.errors import InputError
from cosell.referrals.slack_parse import parse_slack_event

from .slack_helpers import event


def test_a_message_event() -> None:
    found = parse_slack_event(event("message"))
    assert found is not None
    assert (found.channel, found.source_ref) == ("slack", "C01PARTNR/1772474400.123456")
    assert found.received_at == datetime(2026, 3, 2, 18, 0, 0, 123456, tzinfo=UTC)
    assert (found.prospect_company, found.prospect_name, found.prospect_title) == (
        "Soylent Foods",
        "Maria Lopez",
        "CFO",
    )
    assert (found.prospect_email, found.prospect_domain) == (
        "maria.lopez@soylentfoods.com",
        "soylentfoods.com",
    )
    # no users.json with an event: no address for the sender, the name Slack sent in user_profile
    assert (found.sender_emails, found.sender_name) == ((), "Alice Partner")
    where = "slack message 1772474400.123456"
    assert {s.field: s.where for s in found.sources} == {
        "sender_name": where,
        "prospect_company": f"{where} line 1",
        "prospect_name": f"{where} line 1",
        "prospect_email": f"{where} line 1",
        "prospect_title": f"{where} line 1",
        "prospect_domain": f"{where} line 1",
    }


def test_an_edit_event_gives_the_new_text_dated_by_the_edit() -> None:
    found = parse_slack_event(event("message_changed"))
    assert found is not None
    assert (found.prospect_company, found.prospect_name) == ("Vandelay Industries", "Art Vandelay")
    assert found.prospect_email == "art@vandelayindustries.com"
    assert found.source_ref == "C01PARTNR/1772475000.000200"  # the edited message, not the change event
    assert found.received_at == datetime(2026, 3, 2, 18, 30, 0, tzinfo=UTC)
    assert {s.field: s.where for s in found.sources}[
        "prospect_company"
    ] == "slack message 1772475000.000200 line 2"


def test_a_form_bot_event_with_block_fields() -> None:
    found = parse_slack_event(event("bot_form"))
    assert found is not None
    assert (found.prospect_company, found.prospect_name) == ("Wonka Industries", "Charlie Bucket")
    assert found.prospect_title == "Head of Operations"
    assert found.missing() == ("prospect_email",)
    # lines: text, header, then each block field as "label" + "value" joined (form_lines)
    assert {s.field: s.where for s in found.sources} == {
        "prospect_company": "slack message 1772478000.000400 line 5",
        "prospect_name": "slack message 1772478000.000400 line 7",
        "prospect_title": "slack message 1772478000.000400 line 9",
    }
    assert "Submitted by: @U03DAN" in found.notes  # the submitter's id, for a reviewer with no users.json


def test_a_reply_event_belongs_to_its_thread_root() -> None:
    found = parse_slack_event(event("thread_reply"))
    assert found is not None
    assert found.source_ref == "C01PARTNR/1772460000.000100"
    assert found.received_at == datetime(2026, 3, 2, 19, 16, 40, 700, tzinfo=UTC)  # the reply's own ts
    assert (found.prospect_company, found.prospect_name) == ("Cyberdyne Systems", "Miles Dyson")


def test_a_bare_message_object() -> None:
    found = parse_slack_event(event("bare_message"))
    assert found is not None
    assert found.source_ref == "1772480000.5"  # no channel in the object
    assert found.received_at == datetime(2026, 3, 2, 19, 33, 20, 500000, tzinfo=UTC)
    assert (found.prospect_company, found.prospect_name, found.prospect_email) == (
        "Hooli",
        "Gavin Belson",
        "gavin@hooli.com",
    )


@pytest.mark.parametrize(
    "name", ["url_verification", "reaction_added", "channel_join", "message_deleted", "bot_chatter"]
)
def test_payloads_that_carry_no_referral(name: str) -> None:
    assert parse_slack_event(event(name)) is None


def test_a_bot_post_is_read_only_for_its_labelled_fields() -> None:
    chatter = event("bot_chatter")["event"]
    form = parse_slack_event({**chatter, "text": "Company: Wayne Enterprises\nContact: Bruce Wayne"})
    assert form is not None
    assert (form.prospect_company, form.prospect_name) == ("Wayne Enterprises", "Bruce Wayne")
    # the same intro words a person might write, posted by an integration: ignored
    assert (
        parse_slack_event({**chatter, "text": "A lead: meet Bruce Wayne, CEO at Wayne Enterprises"}) is None
    )
    assert parse_slack_event({**chatter, "text": "A lead: meet Bruce Wayne, CEO at Wayne Enterprises",
                              "subtype": None, "bot_id": None, "user": "U1"}) is not None  # fmt: skip


def test_an_unusable_event_is_refused_with_its_field() -> None:
    with pytest.raises(InputError) as raised:
        parse_slack_event(
            {"type": "event_callback", "event": {"type": "message", "ts": "17:30", "text": "x"}}
        )
    assert str(raised.value) == 'slack event, ts: "17:30" is not a Slack ts (seconds.microseconds)'


@pytest.mark.parametrize("field", ["ts", "thread_ts", "edited"])
def test_a_ts_past_the_year_9999_is_refused_with_its_field(field: str) -> None:
    message = {"type": "message", "ts": "1780308000.000100", "text": "intro: Company: Globex"}
    message[field] = {"ts": "999999999999"} if field == "edited" else "999999999999"
    with pytest.raises(InputError, match="is outside the years 1900 to 2999"):
        parse_slack_event({"type": "event_callback", "event": message})


def test_an_app_mention_and_a_thread_broadcast_are_read_like_messages() -> None:
    text = "<@U0COSELL> referral:\nCompany: Wayne Enterprises\nContact: Bruce Wayne"
    mention = {"type": "app_mention", "user": "U1", "channel": "C7", "ts": "1772460000.000001", "text": text}
    found = parse_slack_event({"type": "event_callback", "event": mention})
    assert found is not None
    assert (found.source_ref, found.prospect_company) == (
        "C7/1772460000.000001",
        "Wayne Enterprises",
    )
    broadcast = {
        "type": "message",
        "subtype": "thread_broadcast",
        "user": "U1",
        "channel": "C7",
        "ts": "1772460100.000002",
        "thread_ts": "1772460000.000001",
        "text": "Lead:\nCompany: Wayne Enterprises\nContact: Bruce Wayne",
    }
    found = parse_slack_event({"type": "event_callback", "event": broadcast})
    assert found is not None
    assert (found.source_ref, found.prospect_company, found.prospect_name) == (
        "C7/1772460000.000001",
        "Wayne Enterprises",
        "Bruce Wayne",
    )
