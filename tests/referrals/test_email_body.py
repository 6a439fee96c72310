"""The pieces under parse_email: charsets, HTML to lines, which MIME part is the body, and the
forwarded and quoted messages a body holds."""

from __future__ import annotations

import pytest

from cosell.referrals.email_body import attached_messages, body_lines, decode_text, parse_bytes
from cosell.referrals.email_html import html_to_lines
from cosell.referrals.email_thread import split_thread


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        ("Zoë".encode(), "utf-8", "Zoë"),
        ("Zoë".encode(), "us-ascii", "Zoë"),  # mislabelled UTF-8
        ("Zoë".encode("latin-1"), "iso-8859-1", "Zoë"),
        ("Zoë".encode("latin-1"), "utf-8", "Zoë"),  # mislabelled latin-1
        ("\u201cok\u201d \u20ac5".encode("cp1252"), "iso-8859-1", "\u201cok\u201d \u20ac5"),
        ("Привет".encode("koi8-r"), "koi8-r", "Привет"),
        ("Привет".encode("koi8-r"), None, "ðÒÉ×ÅÔ"),  # unlabelled and not UTF-8: read as windows-1252
        (b"\x81\x8d", None, "\ufffd\ufffd"),  # bytes windows-1252 leaves undefined
    ],
)
def test_decode_text(data: bytes, declared: str | None, expected: str) -> None:
    assert decode_text(data, declared) == expected


def test_html_lines_follow_the_blocks_a_reader_sees() -> None:
    html = (
        "<html><head><title>T</title><style>.x{}</style><script>var a=1;</script></head><body>"
        "<div>Hi&nbsp;Rita,</div><div><br></div><p>Company:\n  <b>Globex</b></p>"
        "<table><tr><td>Contact:</td><td>Jane Doe</td></tr></table>"
        "<ol><li>one</li><li>two</li></ol><blockquote>On Mon, Sue wrote:<blockquote>deep</blockquote>"
        "</blockquote><pre>a   b\nc</pre></body></html>"
    )
    assert html_to_lines(html) == [
        "Hi Rita,",
        "",
        "Company: Globex",
        "Contact: Jane Doe",
        "- one",
        "- two",
        "> On Mon, Sue wrote:",
        "> > deep",
        "a   b",
        "c",
    ]


def test_broken_html_still_gives_lines() -> None:
    # An unclosed tag at the very end is text to html.parser, as to a browser showing the source.
    assert html_to_lines("<div>Meet <b>Jane Doe</div><p>from Globex<br/><span") == [
        "Meet Jane Doe",
        "",
        "from Globex",
        "<span",
    ]


def _mime(*parts: str, kind: str = "mixed") -> bytes:
    body = "".join(f"--b\n{part}\n" for part in parts)
    return f"From: a@x.com\nContent-Type: multipart/{kind}; boundary=b\n\n{body}--b--\n".encode()


def test_alternative_falls_back_to_html_when_the_plain_part_is_empty() -> None:
    raw = _mime(
        "Content-Type: text/plain\n\n  \n", "Content-Type: text/html\n\n<p>Hello</p>", kind="alternative"
    )
    assert body_lines(parse_bytes(raw)) == ["Hello"]


def test_a_text_attachment_is_not_the_body() -> None:
    raw = _mime(
        "Content-Type: text/plain\n\nThe body.",
        "Content-Type: text/plain\nContent-Disposition: attachment; filename=notes.txt\n\nContact: Not Me",
    )
    assert body_lines(parse_bytes(raw)) == ["The body."]


def test_an_eml_sent_as_octet_stream_is_an_attached_message() -> None:
    raw = _mime(
        "Content-Type: text/plain\n\nSee attached.",
        "Content-Type: application/octet-stream\nContent-Disposition: attachment; filename=Intro.EML\n"
        "Content-Transfer-Encoding: base64\n\n"
        "RnJvbTogc3VlQGFjbWUuaW8KU3ViamVjdDogSW50cm8KCk1lZXQgSmFuZSBEb2UuCg==",
    )
    attached = attached_messages(parse_bytes(raw))
    assert [str(m["from"]) for m in attached] == ["sue@acme.io"]
    assert body_lines(attached[0]) == ["Meet Jane Doe.", ""]


def test_thread_split_keeps_line_numbers_and_authors() -> None:
    lines = [
        "Newest text",  # 0
        "",
        "On Mon, 2 Nov 2026 at 10:00, Sue Lee <sue@acme.io> wrote:",  # 2
        "> Quoted text",  # 3
        ">",
        "> -----Original Message-----",  # 5
        "> From: Jane Doe [mailto:jane@globex.com]",  # 6
        "> Sent: Sunday",
        "> To: Sue Lee <sue@acme.io>; Bob <bob@acme.io>",
        "> Subject: Hello",
        ">",
        "> Oldest text",  # 11
        "Reply below the quote",  # 12
    ]
    parts = split_thread(lines, "Re: Hello", ("Bob", "bob@acme.io"))
    summary = [(p.kind, p.author, p.author_line, {i: t for i, t in p.lines.items() if t}) for p in parts]
    assert summary == [
        ("body", ("Bob", "bob@acme.io"), None, {0: "Newest text", 12: "Reply below the quote"}),
        ("quoted", ("Sue Lee", "sue@acme.io"), 2, {3: "Quoted text"}),
        ("quoted", ("Jane Doe", "jane@globex.com"), 6, {11: "Oldest text"}),
    ]
    assert parts[2].recipients == [("Sue Lee", "sue@acme.io"), ("Bob", "bob@acme.io")]
    assert parts[2].subject == "Hello"


def test_labelled_lines_are_not_a_forwarded_header_block() -> None:
    lines = ["From: our partner Acme", "To: the sales team", "Company: Globex"]
    parts = split_thread(lines, "Referral", None)
    assert [p.kind for p in parts] == ["body"]
    assert len(parts[0].lines) == 3
