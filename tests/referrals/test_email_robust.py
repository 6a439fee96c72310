"""Broken, odd and arbitrary input: parse_email either reads it or raises an InputError naming the
file and why; nothing else, ever, and the same bytes always give the same answer."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import Message

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cosell.errors import InputError
from cosell.referrals import email_parse
from cosell.referrals.email_body import parse_bytes
from cosell.referrals.email_headers import MAX_HEADER_CHARS
from cosell.referrals.email_parse import MAX_BODY_LINES, MAX_EMAIL_BYTES, MAX_MESSAGES, parse_email
from cosell.referrals.parsed import MAX_FIELD_CHARS


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "is empty"),
        (b"  \r\n\t", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not an email"),
        (b"just some words\nand more words\n", "is not an email"),
    ],
)
def test_what_is_not_an_email_is_an_input_error_naming_the_file(raw: bytes, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_email(raw, "intro.eml")
    assert str(caught.value).startswith("intro.eml: ")
    assert reason in str(caught.value)
    assert caught.value.problem.file == "intro.eml"


def test_a_value_longer_than_a_field_is_no_prospect_field() -> None:
    # Found by fuzzing: a 5 MB line after "Company:" was the company (15 MB of JSON, 6 s wrapping
    # the follow-up); past MAX_FIELD_CHARS it is no name, and the rest is read as ever.
    for length in (MAX_FIELD_CHARS, MAX_FIELD_CHARS + 1):
        raw = (
            b"From: a@partner.com\nSubject: intro\n\nCompany: "
            + b"x" * length
            + b"\nContact: Jo Smith <jo@acme.com>\n"
        )
        found = parse_email(raw, "long.eml")
        assert found.prospect_company == ("x" * length if length == MAX_FIELD_CHARS else None)
        assert (found.prospect_name, found.prospect_email) == ("Jo Smith", "jo@acme.com")


def test_too_large_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"big.eml: is 26,214,401 bytes; an email is at most 26,214,400"):
        parse_email(b"From: a@b.com\n\n" + b"x" * (MAX_EMAIL_BYTES + 1 - 15), "big.eml")


def test_parts_nested_too_deeply_are_an_input_error_in_words() -> None:
    # Found by fuzzing: a multipart 1,000 deep was refused naming Python's RecursionError.
    raw = b"From: a@b.com\nSubject: intro\n"
    for depth in range(1000):
        raw += f'Content-Type: multipart/mixed; boundary="b{depth}"\n\n--b{depth}\n'.encode()
    raw += b"Content-Type: text/plain\n\nhi\n"
    with pytest.raises(
        InputError, match=r"deep\.eml: cannot be read as an email: its parts are nested too deeply"
    ):
        parse_email(raw, "deep.eml")


def test_not_bytes_is_an_input_error() -> None:
    with pytest.raises(InputError, match="is not the bytes of an email"):
        parse_email("From: a@b.com\n\nhi", "text.eml")  # type: ignore[arg-type]


def test_headers_without_a_body() -> None:
    parsed = parse_email(b"From: Bob <bob@acme-partners.com>\nSubject: hi\n", "h.eml")
    assert parsed.missing() == ("prospect_company", "prospect_name", "prospect_email")
    assert parsed.sender_emails == ("bob@acme-partners.com",)


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Tue, 3 Nov 2026 10:30:00 +0100", datetime(2026, 11, 3, 9, 30, tzinfo=UTC)),
        ("Tue, 3 Nov 2026 10:30:00 -0000", datetime(2026, 11, 3, 10, 30, tzinfo=UTC)),  # zone unknown
        ("3 Nov 2026 10:30:00", datetime(2026, 11, 3, 10, 30, tzinfo=UTC)),  # no zone: read as UTC
        ("Tue, 3 Nov 2026 10:30:00 PST", datetime(2026, 11, 3, 18, 30, tzinfo=UTC)),
        ("next tuesday", None),
        ("Tue, 31 Feb 2026 10:30:00 +0000", None),
        ("", None),
    ],
)
def test_received_at_is_utc_or_none(date: str, expected: datetime | None) -> None:
    raw = f"From: bob@acme-partners.com\nDate: {date}\n\nhello\n".encode()
    assert parse_email(raw, "d.eml").received_at == expected


def test_broken_mime_is_read_as_far_as_it_goes() -> None:
    raw = (
        b"From: =?utf-8?B?broken?= <bob@acme-partners.com>\n"
        b"To: undisclosed-recipients:;\n"
        b"Subject: =?x-unknown?Q?=FF?=\n"
        b'Content-Type: multipart/mixed; boundary="b"\n\n'
        b"--b\n"
        b"Content-Type: text/plain; charset=x-no-such-charset\n"
        b"Content-Transfer-Encoding: base64\n\n"
        b"Q29tcGFueTogR2xvYmV4!!!not base64\n"
        b"--b\n"
        b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: quoted-printable\n\n"
        b"Contact: Jane Doe <jane@globex.com>=\n"  # no closing boundary: the file was cut short
    )
    parsed = parse_email(raw, "cut.eml")
    assert parsed.prospect_email == "jane@globex.com"
    assert parsed.prospect_name == "Jane Doe"
    assert parsed.sender_emails == ("bob@acme-partners.com",)


def test_an_mbox_from_line_before_the_headers() -> None:
    raw = b"From bob@acme-partners.com Sun May  8 19:07:09 2026\nFrom: bob@acme-partners.com\n\nhi\n"
    assert parse_email(raw, "m.eml").sender_emails == ("bob@acme-partners.com",)


_HEADER_LINES = st.sampled_from(
    [
        b"From: Bob <bob@acme-partners.com>",
        b"From: =?utf-8?q?Jos=C3=A9?= <jose@acme.io>",
        b"To: rita@ourco.com, =?iso-8859-1?q?Ana_Mar=EDa?= <ana@x.es>",
        b"Cc: <>",
        b"Date: Tue, 3 Nov 2026 10:30:00 +0100",
        b"Date: \xff\xfe",
        b"Subject: Fwd: Intro",
        b"Message-ID: <a@b>",
        b"Content-Type: multipart/mixed; boundary=b",
        b"Content-Type: multipart/alternative; boundary=b",
        b"Content-Type: text/html; charset=utf-8",
        b"Content-Type: text/plain; charset=bogus",
        b"Content-Type: message/rfc822",
        b"Content-Transfer-Encoding: base64",
        b"Content-Transfer-Encoding: quoted-printable",
    ]
)
_BODY_LINES = st.one_of(
    st.sampled_from(
        [
            b"--b",
            b"--b--",
            b"Content-Type: text/plain",
            b"Content-Type: message/rfc822",
            b"",
            b"---------- Forwarded message ---------",
            b"-----Original Message-----",
            b"Begin forwarded message:",
            b"From: Sue <sue@acme-partners.com>",
            b"Sent: Monday",
            b"To: Jane Doe <jane@globex.com>",
            b"On Mon, Nov 2, 2026 Sue <sue@acme-partners.com> wrote:",
            b"> Meet Jane Doe, VP Finance at Globex (jane@globex.com).",
            b">> Company: Initech",
            b"<blockquote><div>Meet <b>Jane Doe</b></div>",
            b"Contact: Jane Doe <jane@globex.com>",
            b"=C3=A9=\xff",
        ]
    ),
    st.binary(max_size=40),
)


@given(
    headers=st.lists(_HEADER_LINES, max_size=6),
    body=st.lists(_BODY_LINES, max_size=20),
    newline=st.sampled_from([b"\n", b"\r\n"]),
)
def test_email_shaped_bytes_parse_or_raise_input_error_and_are_deterministic(
    headers: list[bytes], body: list[bytes], newline: bytes
) -> None:
    raw = newline.join([*headers, b"", *body])
    _check(raw)


@given(st.binary(max_size=600))
def test_arbitrary_bytes_parse_or_raise_input_error_and_are_deterministic(raw: bytes) -> None:
    _check(raw)


def _check(raw: bytes) -> None:
    try:
        first = parse_email(raw, "any.eml")
    except InputError as error:
        assert str(error).startswith("any.eml: ")
        with pytest.raises(InputError):
            parse_email(raw, "any.eml")
        return
    assert parse_email(bytes(raw), "any.eml") == first
    for source in first.sources:
        assert getattr(first, source.field) is not None
    assert len(set(first.sender_emails)) == len(first.sender_emails)
    assert first.prospect_email not in first.sender_emails


@pytest.mark.parametrize("charset", ["utf\\x00-8", "rot13", "base64", "idna"])
def test_a_charset_that_names_no_text_encoding_falls_back(charset: str) -> None:
    # Found by fuzzing: a NUL in the charset name made the codec lookup raise ValueError.
    declared = charset.replace("\\x00", "\x00").encode("latin-1")
    raw = (
        b"From: a@acme.io\nContent-Type: text/plain; charset="
        + declared
        + b"\n\nContact: Ren\xe9e Dupr\xe9\n"
    )
    assert parse_email(raw, "c.eml").prospect_name == "Renée Dupré"


@pytest.mark.parametrize(
    ("charset", "word"), [("utf-7", b"Glo+2AA-bex"), ("unicode_escape", b"Glo\\ud800bex")]
)
def test_a_charset_that_decodes_to_an_unpaired_surrogate_falls_back(charset: str, word: bytes) -> None:
    # Found by fuzzing: utf-7 decoded "+2AA-" to a lone surrogate, which no database can store
    # (the referral was refused with a traceback); such a decoding is not text, the next is tried.
    raw = b"From: a@acme.io\nContent-Type: text/plain; charset=" + charset.encode() + b"\n\nCompany: " + word
    company = parse_email(raw, "s.eml").prospect_company
    assert company is not None and company.encode("utf-8") == word


def test_a_thread_of_many_messages_is_read_up_to_the_limit() -> None:
    # Each message quotes an introduction of its own; only the first MAX_MESSAGES are read, so the
    # newest (message 1, in the body's own text) wins and a crafted thread costs a bounded time.
    blocks = [
        f"On Mon, Sue <sue{i}@acme.io> wrote:\n> Meet Jane Doe{i} from Globex{i}.\n" for i in range(150)
    ]
    raw = ("From: bob@acme.io\nSubject: x\n\nNewest text.\n" + "\n".join(blocks)).encode()
    parsed = parse_email(raw, "t.eml")
    assert parsed.prospect_company == "Globex0"
    assert len(parsed.sender_emails) == MAX_MESSAGES  # bob and the authors of the 99 messages read
    assert "sue99@acme.io" not in parsed.sender_emails and "sue98@acme.io" in parsed.sender_emails


def test_only_the_first_body_lines_are_read() -> None:
    filler = "x\n" * MAX_BODY_LINES
    raw = f"From: bob@acme.io\nSubject: x\n\n{filler}Meet Jane Doe from Globex.\n".encode()
    assert parse_email(raw, "long.eml").prospect_company is None
    raw = f"From: bob@acme.io\nSubject: x\n\n{filler[2:]}Meet Jane Doe from Globex.\n".encode()
    assert parse_email(raw, "long.eml").prospect_company == "Globex"


def test_a_header_is_read_up_to_its_limit() -> None:
    # Found by fuzzing: the standard library's header parser takes time and memory quadratic in a
    # header's length (a Subject of 200,000 encoded words, 2.8 MB, took over 20 GB; a Cc of 50,000
    # addresses 15 s), so only the first MAX_HEADER_CHARS of each header are read.
    subject = b"=?utf-8?Q?a?= " * 5_000
    cc = b", ".join(b"u%d@x.com" % i for i in range(5_000))
    raw = b"From: bob@acme-partners.com\nSubject: " + subject + b"\nCc: " + cc + b"\n\nhi\n"
    parsed = parse_email(raw, "h.eml")
    assert parsed.notes.startswith("Subject: aaaa")
    assert len(parsed.notes) <= len("Subject: ") + MAX_HEADER_CHARS
    assert parsed.sender_emails[:2] == ("bob@acme-partners.com", "u0@x.com")
    assert "u4999@x.com" not in parsed.sender_emails


def test_the_limit_holds_for_a_header_repeated() -> None:
    cc = b"".join(b"Cc: u%d@x.com\n" % i for i in range(5_000))
    parsed = parse_email(b"From: bob@acme-partners.com\n" + cc + b"\nhi\n", "h.eml")
    assert "u0@x.com" in parsed.sender_emails
    assert "u4999@x.com" not in parsed.sender_emails


@pytest.mark.parametrize("value", [b"(" * 5_000, b"g:" * 3_000, b"a@b.com, " + b"(" * 5_000])
def test_an_address_header_the_lenient_parser_cannot_read_is_skipped(value: bytes) -> None:
    # Found by fuzzing: nested comments or groups made the fallback parser raise RecursionError.
    parsed = parse_email(b"From: bob@acme-partners.com\nTo: " + value + b"\n\nhi\n", "p.eml")
    assert parsed.sender_emails[0] == "bob@acme-partners.com"


def test_a_mime_header_is_read_up_to_the_limit_too() -> None:
    # Found by fuzzing: a part's Content-Type and Content-Disposition go through the same quadratic
    # parser when read (200 KB of parameters took 11 s), so they are cut at the limit as well.
    raw = (
        b"From: a@acme.io\nContent-Type: text/plain; charset=utf-8; "
        + b"; ".join(b"a%d=b" % i for i in range(5_000))
        + b"\n\nContact: Jane Doe <jane@globex.com>\n"
    )
    params = parse_bytes(raw)["content-type"].params
    assert params["charset"] == "utf-8" and "a0" in params and "a4999" not in params
    assert parse_email(raw, "c.eml").prospect_email == "jane@globex.com"


def test_thousands_of_attached_messages_are_read_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # Found by fuzzing: every attached message was read before the first MAX_MESSAGES were kept
    # (200,000 tiny message/rfc822 parts, 15 MB, took 98 s); now reading stops at the limit.
    part = b"--P\nContent-Type: message/rfc822\n\nFrom: a@b.com\n\nMeet Jane Doe from Globex.\n"
    raw = b'From: bob@acme.io\nContent-Type: multipart/mixed; boundary="P"\n\n' + part * 1_000 + b"--P--\n"
    read = []
    real_body_lines = email_parse.body_lines

    def counting(message: Message) -> list[str]:
        read.append(message)
        return real_body_lines(message)

    monkeypatch.setattr(email_parse, "body_lines", counting)
    assert parse_email(raw, "many.eml").prospect_company == "Globex"
    assert len(read) <= MAX_MESSAGES
