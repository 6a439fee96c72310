"""Referrals read from a Slack export: threads, edits, form bots, users.json, and what is ignored.

The expected values are read off the fixture files by hand (tests/referrals/fixtures/slack/export).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cosell.errors import InputError
from cosell.referrals.parsed import ParsedReferral
from cosell.referrals.slack_parse import parse_slack_export, parse_slack_export_files

from .slack_helpers import CHANNELS, EXPORT, USERS, build_zip, day_file, export_files


@pytest.fixture(scope="module")
def referrals() -> dict[str, ParsedReferral]:
    return {r.source_ref: r for r in parse_slack_export(EXPORT)}


def _where(referral: ParsedReferral) -> dict[str, str]:
    return {s.field: s.where for s in referral.sources}


def test_the_export_holds_four_referrals_in_time_order() -> None:
    found = parse_slack_export(EXPORT)
    assert [r.source_ref for r in found] == [
        "C01PARTNR/1772460000.000100",  # Globex: intro thread
        "C01PARTNR/1772465400.000007",  # Initech: edited labelled message
        "C01PARTNR/1772467200.000500",  # Umbrella: the form bot's post
        "C01PARTNR/1772470800.000800",  # Hooli: company only
    ]
    assert {r.channel for r in found} == {"slack"}


def test_a_thread_is_one_referral_and_a_reply_fills_the_missing_email(
    referrals: dict[str, ParsedReferral],
) -> None:
    globex = referrals["C01PARTNR/1772460000.000100"]
    assert (globex.prospect_company, globex.prospect_name, globex.prospect_title) == (
        "Globex",
        "Jane Doe",
        "VP Finance",
    )
    assert (globex.prospect_email, globex.prospect_domain) == ("jane.doe@globex.com", "globex.com")
    assert globex.missing() == ()
    root, reply = "slack message 1772460000.000100", "slack message 1772460600.000300"
    assert _where(globex) == {
        "sender_emails": root,
        "sender_name": root,
        "prospect_company": f"{root} line 1",
        "prospect_name": f"{root} line 1",
        "prospect_title": f"{root} line 1",
        "prospect_email": f"{reply} line 1",
        "prospect_domain": f"{reply} line 1",
    }
    # the root's ts, to the microsecond; the thread's later replies do not move it
    assert globex.received_at == datetime(2026, 3, 2, 14, 0, 0, 100, tzinfo=UTC)


def test_the_sender_is_who_named_the_prospect_resolved_from_users_json(
    referrals: dict[str, ParsedReferral],
) -> None:
    globex = referrals["C01PARTNR/1772460000.000100"]
    # Alice wrote the intro and the email; Bob (our rep) only asked and thanked, so he is not a sender.
    assert globex.sender_emails == ("alice@acme-partners.com",)  # profile.email, lower-cased
    assert globex.sender_name == "Alice Partner"  # profile.real_name
    # the cc link to Alice's own address is hers, never the prospect's
    assert "alice@acme-partners.com" not in (globex.prospect_email or "")


def test_slack_markup_is_unwrapped_before_reading(referrals: dict[str, ParsedReferral]) -> None:
    notes = referrals["C01PARTNR/1772460000.000100"].notes.split("\n")
    assert notes[0] == (
        "[1772460000.000100] Hey @bob.rep, I'd like to introduce you to Jane Doe, VP Finance at Globex. "
        "She is evaluating co-sell tools this quarter & asked for a call."
    )
    assert notes[2] == "[1772460600.000300] Her email is jane.doe@globex.com (cc me)"
    assert len(notes) == 4  # root, two replies on day one, one reply in the next day's file


def test_an_edited_message_counts_from_its_edit(referrals: dict[str, ParsedReferral]) -> None:
    initech = referrals["C01PARTNR/1772465400.000007"]
    assert (initech.prospect_company, initech.prospect_name) == ("Initech", "Peter Gibbons")
    assert (initech.prospect_email, initech.prospect_title) == ("peter.gibbons@initech.com", "Director of IT")
    where = "slack message 1772465400.000007"
    assert _where(initech) == {
        "sender_emails": where,
        "sender_name": where,
        "prospect_company": f"{where} line 2",
        "prospect_name": f"{where} line 3",
        "prospect_email": f"{where} line 4",
        "prospect_domain": f"{where} line 4",
        "prospect_title": f"{where} line 5",
    }
    # An export keeps only the newest text: it is dated by the edit (edited.ts), not the post.
    assert initech.received_at == datetime(2026, 3, 2, 15, 35, 0, tzinfo=UTC)


def test_a_form_bot_post_with_labels_on_their_own_lines(referrals: dict[str, ParsedReferral]) -> None:
    umbrella = referrals["C01PARTNR/1772467200.000500"]
    assert (umbrella.prospect_company, umbrella.prospect_name) == ("Umbrella Corp", "Albert Wesker")
    assert (umbrella.prospect_email, umbrella.prospect_domain) == (
        "awesker@umbrella-corp.com",
        "umbrella-corp.com",
    )
    assert umbrella.prospect_title is None
    assert umbrella.partner_hint == "Acme Partners"
    # the bot posts; the person the form names as submitter is the sender (display_name: no real_name)
    assert umbrella.sender_emails == ("dan@acme-partners.com",)
    assert umbrella.sender_name == "Dan Seller"
    where = "slack message 1772467200.000500"
    assert _where(umbrella) == {
        "sender_emails": where,
        "sender_name": where,
        "partner_hint": f"{where} line 4",
        "prospect_company": f"{where} line 6",
        "prospect_name": f"{where} line 8",
        "prospect_email": f"{where} line 10",
        "prospect_domain": f"{where} line 10",
    }
    texts = {s.field: s.text for s in umbrella.sources}
    assert texts["prospect_company"] == "Company name: Umbrella Corp"
    assert texts["sender_emails"] == "submitted by U03DAN: dan@acme-partners.com (users.json)"


def test_a_referral_with_fields_missing_is_still_a_referral(referrals: dict[str, ParsedReferral]) -> None:
    hooli = referrals["C01PARTNR/1772470800.000800"]
    assert hooli.prospect_company == "Hooli"
    assert hooli.missing() == ("prospect_name", "prospect_email")
    assert _where(hooli)["prospect_company"] == "slack message 1772470800.000800 line 2"
    assert hooli.received_at == datetime(2026, 3, 2, 17, 0, 0, 800, tzinfo=UTC)


def test_chatter_joins_topics_and_integration_bots_are_not_referrals() -> None:
    found = parse_slack_export(EXPORT)
    text = " ".join(f"{r.notes} {r.prospect_company}" for r in found)
    assert "summit" not in text  # "meet" and "leads" but no prospect named: chatter
    assert "platform team" not in text  # a name-ish mention but no cue and no label
    assert "Example Co" not in text  # channel_topic carries labels but is Slack describing an action
    assert "lead-scoring" not in text  # an integration's post with cue words but no labelled field
    assert not any(r.source_ref.startswith("C02RANDOM") for r in found)


def test_the_zip_gives_what_the_folder_gives(tmp_path: Path) -> None:
    files = export_files()
    plain = build_zip(tmp_path / "export.zip", sorted(files.items()))
    # an export zipped again with its folder, members in reverse order
    wrapped = build_zip(
        tmp_path / "wrapped.zip", [(f"Acme export/{n}", d) for n, d in sorted(files.items())][::-1]
    )
    expected = parse_slack_export(EXPORT)
    assert len(expected) == 4
    assert parse_slack_export(plain) == expected
    assert parse_slack_export(wrapped) == expected


def _messages_by_channel() -> dict[str, list[dict[str, object]]]:
    by_channel: dict[str, list[dict[str, object]]] = {}
    for name, data in export_files().items():
        if "/" in name:
            by_channel.setdefault(name.split("/")[0], []).extend(json.loads(data))
    # an older version of the edited Initech message, as if both were in the files: the edit wins
    by_channel["acme-partners"].append(
        {
            "type": "message",
            "user": "U01ALICE",
            "ts": "1772465400.000007",
            "text": "Company: Initech\nContact: Bill",
        }
    )
    return by_channel


@given(st.data())
def test_the_result_depends_on_no_order_of_messages_or_files(data: st.DataObject) -> None:
    files = {n: d for n, d in export_files().items() if "/" not in n}
    for channel, messages in _messages_by_channel().items():
        shuffled = data.draw(st.permutations(messages))
        days = data.draw(
            st.lists(
                st.sampled_from(["2026-03-01", "2026-03-02", "2026-03-05"]),
                min_size=len(shuffled),
                max_size=len(shuffled),
            )
        )
        for day in sorted(set(days)):
            files[f"{channel}/{day}.json"] = json.dumps(
                [m for m, d in zip(shuffled, days, strict=True) if d == day]
            ).encode()
    order = data.draw(st.permutations(sorted(files)))
    found = parse_slack_export_files({name: files[name] for name in order})
    assert found == parse_slack_export(EXPORT)
    assert [r.prospect_name for r in found] == ["Jane Doe", "Peter Gibbons", "Albert Wesker", None]


def test_members_addresses_and_domains_are_never_the_prospect() -> None:
    text = "Intro for <@U2>: meet Jo Smith at Stark Labs. Write to <mailto:rita@ourco.com|rita@ourco.com> or jo@starklabs.io"
    files = {
        "channels.json": CHANNELS,
        "users.json": USERS,
        "partners/2026-03-02.json": day_file(
            {"type": "message", "user": "U1", "text": text, "ts": "1772460000.000001"}
        ),
    }
    (found,) = parse_slack_export_files(files)
    assert (found.prospect_name, found.prospect_company, found.prospect_email) == (
        "Jo Smith",
        "Stark Labs",
        "jo@starklabs.io",
    )
    assert found.source_ref == "C9/1772460000.000001"
    assert (found.sender_emails, found.sender_name) == (("pat@partnerco.com",), "Pat Partner")


def test_message_changed_and_deleted_inside_an_export() -> None:
    original = {"type": "message", "user": "U1", "ts": "1772460000.000001", "text": "Lead: Company: Old Co"}
    change = {
        "type": "message",
        "subtype": "message_changed",
        "ts": "1772460900.000002",
        "message": {
            "type": "message",
            "user": "U1",
            "ts": "1772460000.000001",
            "text": "A lead\nCompany: New Co",
        },
    }
    gone = {"type": "message", "user": "U1", "ts": "1772461000.000003", "text": "Lead\nCompany: Gone Co"}
    delete = {
        "type": "message",
        "subtype": "message_deleted",
        "ts": "1772461100.000004",
        "deleted_ts": gone["ts"],
    }
    files = {
        "channels.json": CHANNELS,
        "users.json": USERS,
        "partners/2026-03-02.json": day_file(change, delete, gone, original),
    }
    (found,) = parse_slack_export_files(files)
    assert found.prospect_company == "New Co"
    assert found.received_at == datetime(
        2026, 3, 2, 14, 15, 0, 2, tzinfo=UTC
    )  # the change's ts dates the new text
    assert found.source_ref == "C9/1772460000.000001"


def test_a_bad_ts_names_the_file_the_message_and_the_field() -> None:
    files = {
        "channels.json": CHANNELS,
        "partners/2026-03-02.json": day_file(
            {"type": "message", "user": "U1", "ts": "1772460000.000001", "text": "hi"},
            {"type": "message", "user": "U1", "ts": 1772460000.5, "text": "a float ts"},
        ),
    }
    with pytest.raises(InputError) as raised:
        parse_slack_export_files(files, "export.zip")
    assert str(raised.value) == "export.zip/partners/2026-03-02.json row 2, ts: is missing or not a string"


def test_json_that_is_not_json_names_the_file_and_line() -> None:
    files = {"channels.json": CHANNELS, "partners/2026-03-02.json": b'[\n {"type": "message",\n "ts": }\n]'}
    with pytest.raises(InputError) as raised:
        parse_slack_export_files(files, "export")
    assert (
        str(raised.value)
        == "export/partners/2026-03-02.json row 3, column 8: is not valid JSON (Expecting value)"
    )


def test_a_member_on_free_mail_excludes_only_their_own_address() -> None:
    users = json.dumps(
        [{"id": "U5", "name": "sam", "profile": {"real_name": "Sam Solo", "email": "sam.solo@gmail.com"}}]
    )
    text = "Referral: meet Jo Smith at Stark Labs, write to sam.solo@gmail.com or jo.smith@gmail.com"
    files = {
        "channels.json": CHANNELS,
        "users.json": users.encode(),
        "partners/2026-03-02.json": day_file(
            {"type": "message", "user": "U5", "text": text, "ts": "1772460000.000001"}
        ),
    }
    (found,) = parse_slack_export_files(files)
    assert found.prospect_email == "jo.smith@gmail.com"  # gmail.com is not excluded, only Sam's address
    assert found.prospect_domain is None  # and a free-mail domain is never the prospect's company
    assert found.sender_emails == ("sam.solo@gmail.com",)


@pytest.mark.parametrize(
    ("submitted_by", "emails", "name", "said"),
    [
        ("<@U1>", ("pat@partnerco.com",), "Pat Partner", "submitted by U1: pat@partnerco.com (users.json)"),
        (
            "pat partner",
            ("pat@partnerco.com",),
            "Pat Partner",
            "submitted by pat partner: pat@partnerco.com (users.json)",
        ),
        ("<mailto:Pat@PartnerCo.com|Pat@PartnerCo.com>", ("pat@partnerco.com",), "Pat Partner", None),
        (
            "kim@partnerco.com",
            ("kim@partnerco.com",),
            None,
            "submitted by kim@partnerco.com: kim@partnerco.com",
        ),
        ("Kim Nobody", (), "Kim Nobody", None),
    ],
)
def test_a_form_names_its_submitter_by_mention_address_or_name(
    submitted_by: str, emails: tuple[str, ...], name: str | None, said: str | None
) -> None:
    form = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B1",
        "username": "Referral form",
        "ts": "1772460000.000001",
        "text": f"*Submitted by*\n{submitted_by}\n*Company*\nGlobex\n*Contact*\nJane Doe",
    }
    files = {"channels.json": CHANNELS, "users.json": USERS, "partners/2026-03-02.json": day_file(form)}
    (found,) = parse_slack_export_files(files)
    assert (found.sender_emails, found.sender_name) == (emails, name)
    assert (found.prospect_company, found.prospect_name) == ("Globex", "Jane Doe")
    if said is not None:
        assert {s.field: s.text for s in found.sources}["sender_emails"] == said
