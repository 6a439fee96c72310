"""parse_email over the real emails of the shared samples folder, read in place (other people's files,
never copied here): ``$COSELL_SAMPLES``, else /work/shared/samples. None of them is a referral, so
each must give no prospect (needs_info listing all three fields) without raising; facts read off the
files by hand pin the headers, the forwards and the attachments."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cosell.errors import InputError
from cosell.referrals.email_parse import parse_email


def _samples() -> Path:
    return Path(os.environ.get("COSELL_SAMPLES") or "/work/shared/samples") / "eml"


SAMPLES = sorted(_samples().rglob("*.eml")) if _samples().is_dir() else []


# Facts read off the files by hand: (file path ending, attribute, expected value).
FACTS: list[tuple[str, str, object]] = [
    # A Gmail inline forward: the forwarded message's author, then the person who forwarded it.
    ("plain_emails/raw_email8.eml", "sender_emails", ("xxxxxxxx@xxx.com", "xxxxxxxxx.xxxxxxx@gmail.com", "xxxxxxx@xxxxxxxxxx.com", "xxxxx@xxxxxxxxx.com")),
    ("plain_emails/raw_email8.eml", "received_at", datetime(2005, 5, 8, 19, 9, 11, tzinfo=UTC)),
    # Apple Mail, forwarded as a message/rfc822 attachment: its author first.
    ("attachment_emails/attachment_message_rfc822.eml", "sender_emails", ("xxxx@xxxx.com", "foo@example.com", "blah@example.com")),
    # Thunderbird forward as attachment.
    ("messages/forwarded_message.eml", "sender_emails", ("group@company.ru", "i.kor@company.ru", "jessica.schmidt@uni.de")),
    ("messages/forwarded_message.eml", "source_ref", "<2405271c-86ac-0a65-e50c-d1ebccfcc644@company.ru>"),
    ("standard_replies/gmail.eml", "sender_emails", ("xxx@gmail.com", "bob@example.com")),
    ("standard_replies/gmail.eml", "sender_name", "Megan One"),
    ("standard_replies/gmail.eml", "received_at", datetime(2012, 4, 2, 16, 21, 52, tzinfo=UTC)),
    # No Message-ID and no Date: the time unknown (the reference: test_email_parse).
    ("standard_replies/outlook.eml", "received_at", None),
]  # fmt: skip


# Without the folder there is one case, which checks that the folder really is absent (not present
# but empty, or moved so that nothing is read).
@pytest.mark.parametrize("path", SAMPLES or [None], ids=[p.name for p in SAMPLES] or ["no-samples-folder"])
def test_each_sample_is_read_without_a_prospect(path: Path | None) -> None:
    if path is None:
        assert not _samples().exists()
        return
    raw = path.read_bytes()
    try:
        parsed = parse_email(raw, path.name)
    except InputError as error:  # allowed, if it says which file and why
        assert str(error).startswith(f"{path.name}: ")
        return
    assert parsed.missing() == ("prospect_company", "prospect_name", "prospect_email")
    assert parsed.sender_emails, "every sample has a sender"
    assert parse_email(raw, path.name) == parsed
    for tail, attribute, expected in FACTS:
        if path.as_posix().endswith(tail):
            assert getattr(parsed, attribute) == expected, (tail, attribute)
