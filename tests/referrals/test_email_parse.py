"""parse_email on hand-written fixtures, one per shape of email a partner sends: every prospect field,
the place that gave it, the partner-side addresses in order, the message's id and date."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cosell.referrals.email_parse import parse_email
from cosell.referrals.parsed import FieldSource, ParsedReferral

FIXTURES = Path(__file__).parent / "fixtures" / "email"


def _parse(name: str, **options: object) -> ParsedReferral:
    return parse_email((FIXTURES / name).read_bytes(), name, **options)  # type: ignore[arg-type]


def _prospect(parsed: ParsedReferral) -> tuple[str | None, ...]:
    return (
        parsed.prospect_company,
        parsed.prospect_name,
        parsed.prospect_email,
        parsed.prospect_title,
        parsed.prospect_domain,
    )


def _where(parsed: ParsedReferral) -> dict[str, str]:
    return {s.field: s.where for s in parsed.sources}


def test_gmail_inline_forward() -> None:
    parsed = _parse("gmail_forward.eml")
    assert parsed.channel == "email"
    assert parsed.source_ref == "<fwd-globex-1@mail.acme-partners.com>"
    assert parsed.received_at == datetime(2026, 11, 3, 9, 30, tzinfo=UTC)  # 10:30 +0100
    assert _prospect(parsed) == ("Globex", "Jane Doe", "jane.doe@globex.com", "VP Finance", "globex.com")
    # Line 13 of the body opens the sentence; the address wraps onto line 14.
    assert _where(parsed) == {
        "prospect_company": "body line 13 (forwarded message 1)",
        "prospect_name": "body line 13 (forwarded message 1)",
        "prospect_email": "body lines 13-14 (forwarded message 1)",
        "prospect_title": "body line 13 (forwarded message 1)",
        "prospect_domain": "body lines 13-14 (forwarded message 1)",
    }
    # Sue wrote the introduction, Bob forwarded it, Rita received it; Jane is the prospect.
    assert parsed.sender_emails == ("sue@acme-partners.com", "bob@acme-partners.com", "rita@ourco.com")
    assert parsed.sender_name == "Sue Lee"
    assert parsed.notes == "Subject: Fwd: Intro: Globex"
    assert parsed.missing() == ()


def test_outlook_forward_with_labelled_lines_and_crlf() -> None:
    parsed = _parse("outlook_forward_crlf.eml")
    assert _prospect(parsed) == (
        "Initech",
        "Peter Gibbons",
        "peter.gibbons@initech.io",
        "Director of IT",
        "initech.io",
    )
    assert parsed.sources == (
        FieldSource("prospect_company", "body line 13 (forwarded message 1)", "Company: Initech"),
        FieldSource("prospect_name", "body line 14 (forwarded message 1)", "Contact: Peter Gibbons"),
        FieldSource(
            "prospect_email", "body line 15 (forwarded message 1)", "Email: peter.gibbons@initech.io"
        ),
        FieldSource("prospect_title", "body line 16 (forwarded message 1)", "Role: Director of IT"),
        FieldSource(
            "prospect_domain", "body line 15 (forwarded message 1)", "Email: peter.gibbons@initech.io"
        ),
    )
    assert parsed.sender_emails[:2] == ("sue@acme-partners.com", "bob@acme-partners.com")


def test_outlook_original_message_reply() -> None:
    parsed = _parse("outlook_original_message.eml")
    assert _prospect(parsed) == (
        "Umbrella Corp",
        "Carlos Ruiz",
        "carlos.ruiz@umbrella-corp.com",
        None,
        "umbrella-corp.com",
    )
    assert _where(parsed)["prospect_name"] == "body line 9 (quoted message 1)"
    assert parsed.received_at == datetime(2026, 11, 5, 13, 0, tzinfo=UTC)
    assert parsed.missing() == ()  # the title is not required


def test_apple_mail_forward_with_quoted_headers() -> None:
    parsed = _parse("apple_forward.eml")
    assert _prospect(parsed) == ("Hooli", "Gavin Belson", "gavin@hooli.xyz", "CEO", "hooli.xyz")
    assert _where(parsed)["prospect_name"] == "body line 10 (forwarded message 1)"
    assert _where(parsed)["prospect_email"] == "body line 11 (forwarded message 1)"
    assert parsed.source_ref == "<5F1E2A3B-APPLE@acme-partners.com>"
    assert parsed.sender_emails[:2] == ("sue@acme-partners.com", "bob@acme-partners.com")


def test_forward_as_rfc822_attachment_takes_the_email_from_the_cc_header() -> None:
    parsed = _parse("rfc822_attachment.eml")
    assert _prospect(parsed) == (
        "FBI Analytics",
        "Dana Scully",
        "dana.scully@fbi-analytics.com",
        "Head of Analytics",
        "fbi-analytics.com",
    )
    assert _where(parsed) == {
        "prospect_company": "attached message 1, body line 3",
        "prospect_name": "attached message 1, body line 3",
        "prospect_title": "attached message 1, body line 3",
        "prospect_email": "attached message 1, To/Cc header",
        "prospect_domain": "attached message 1, To/Cc header",
    }
    assert parsed.source_ref == "<outer-rfc822@acme-partners.com>"  # the outer message's id
    assert parsed.sender_emails == ("sue@acme-partners.com", "bob@acme-partners.com", "rita@ourco.com")


def test_html_only_body_keeps_its_lines() -> None:
    parsed = _parse("html_only.eml")
    assert _prospect(parsed) == (
        "Müller & Söhne GmbH",
        "Zoë Müller",
        "zoe.mueller@mueller-soehne.de",
        "Chief Financial Officer",
        "mueller-soehne.de",
    )
    # Line 1 "Hi Rita,", line 2 the <br> div, line 3 the introduction (wrapped in the HTML source).
    assert _where(parsed)["prospect_name"] == "body line 3"
    assert parsed.notes == "Subject: Intro: Müller & Söhne"


def test_html_only_outlook_forward_in_windows_1252() -> None:
    parsed = _parse("html_outlook_forward.eml")
    assert _prospect(parsed) == (
        "Stark Industries",
        "Pepper Potts",
        "pepper.potts@stark-industries.com",
        "COO",
        "stark-industries.com",
    )
    # Lines 3-6 are the From/Sent/To/Subject block Outlook draws in HTML; line 8 its message.
    assert set(_where(parsed).values()) == {"body line 8 (forwarded message 1)"}
    assert parsed.sources[0].text.startswith("Bob, Pepper Potts is the COO at Stark Industries \u2013 reach")
    assert parsed.sender_emails == ("sue@acme-partners.com", "bob@acme-partners.com", "rita@ourco.com")


def test_multipart_alternative_prefers_the_plain_text() -> None:
    parsed = _parse("multipart_alternative.eml")
    assert _prospect(parsed) == (
        "Wayne Enterprises",
        "Lucius Fox",
        "lucius.fox@wayne-enterprises.com",
        "CEO",
        "wayne-enterprises.com",
    )
    assert _where(parsed)["prospect_company"] == "body line 1"


def test_rfc2047_encoded_names() -> None:
    parsed = _parse("rfc2047_names.eml")
    assert parsed.sender_name == "José Núñez"
    assert parsed.sender_emails == ("jose@acme-partners.com", "rita@ourco.com")
    assert parsed.notes == "Subject: Presentación: Telefónica Tech"
    assert _prospect(parsed) == (
        "Telefónica Tech",
        "Ana María García",
        "ana.garcia@telefonica-tech.es",
        None,
        "telefonica-tech.es",
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "latin1.eml",
            (
                "Société Générale Conseil",
                "François Lefèvre",
                "francois.lefevre@sgconseil.fr",
                "Directeur Financier",
                "sgconseil.fr",
            ),
        ),
        (
            "windows1252.eml",
            (
                "Dún Laoghaire Logistics",
                "Seán O\u2019Brien",
                "sean.obrien@dlr-logistics.ie",
                "Head of Procurement",
                "dlr-logistics.ie",
            ),
        ),
        # Declared us-ascii, sent as UTF-8.
        ("wrong_charset.eml", ("Nordkraft AB", "Björn Ångström", "bjorn@nordkraft.se", None, "nordkraft.se")),
        # No charset declared, written in windows-1252.
        (
            "no_charset_cp1252.eml",
            ("Café Crème SARL", "Renée Dupré", "renee@cafecreme.fr", None, "cafecreme.fr"),
        ),
    ],
)
def test_other_charsets(name: str, expected: tuple[str | None, ...]) -> None:
    assert _prospect(_parse(name)) == expected


def test_quoted_reply_reads_the_introduction_below_the_newest_text() -> None:
    parsed = _parse("quoted_reply.eml")
    assert _prospect(parsed) == ("Globex", "Jane Doe", "jane.doe@globex.com", "VP Finance", "globex.com")
    assert _where(parsed)["prospect_email"] == "body line 9 (quoted message 1)"
    # The title of the older message Jane wrote ("Title: Controller") loses to the newer one.
    assert "Controller" not in {s.text for s in parsed.sources}
    # Sue wrote the introduction (the wrapped "On ... wrote:" line), Bob replied; Jane, who wrote
    # the message quoted inside, is the prospect and never a sender.
    assert parsed.sender_emails == ("sue@acme-partners.com", "bob@acme-partners.com", "rita@ourco.com")
    assert parsed.sender_name == "Sue Lee"


def test_forwarded_message_written_by_the_prospect_gives_the_signature() -> None:
    parsed = _parse("prospect_signature_forward.eml")
    assert _prospect(parsed) == ("Globex", "Jane Doe", "jane.doe@globex.com", "VP Finance", "globex.com")
    assert _where(parsed) == {
        "prospect_company": "body line 1",
        "prospect_name": "body line 1",
        "prospect_email": "body line 16 (forwarded message 1)",
        "prospect_title": "body line 15 (forwarded message 1)",
        "prospect_domain": "body line 18 (forwarded message 1)",
    }
    # Jane wrote the forwarded message, but she is the prospect: Sue is the partner.
    assert parsed.sender_emails == ("sue@acme-partners.com", "rita@ourco.com")


def test_nothing_usable() -> None:
    parsed = _parse("nothing_usable.eml")
    assert _prospect(parsed) == (None, None, None, None, None)
    assert parsed.sources == ()
    assert parsed.missing() == ("prospect_company", "prospect_name", "prospect_email")
    # No Message-ID and no Date: the file name and a digest of its bytes are the reference, and
    # the time is unknown.
    assert parsed.source_ref.startswith("nothing_usable.eml sha256:")
    assert parsed.received_at is None
    assert parsed.sender_emails == ("bob@acme-partners.com", "rita@ourco.com")


def test_own_domains_are_never_a_sender_or_the_prospect() -> None:
    parsed = _parse("gmail_forward.eml", own_domains=["ourco.com"])
    assert parsed.sender_emails == ("sue@acme-partners.com", "bob@acme-partners.com")
    raw = b"From: rita@ourco.com\nTo: sue@acme-partners.com\nSubject: x\n\nCopying tom@ourco.com here.\n"
    assert parse_email(raw, "x.eml", own_domains=["ourco.com"]).prospect_email is None
    assert parse_email(raw, "x.eml").prospect_email is None  # the sender's own domain, too


def test_every_fixture_parses_the_same_twice() -> None:
    for path in sorted(FIXTURES.glob("*.eml")):
        raw = path.read_bytes()
        assert parse_email(raw, path.name) == parse_email(raw, path.name), path.name


def test_a_cc_address_made_of_the_prospects_name_is_theirs() -> None:
    raw = (
        b"From: Sue Lee <sue@acme-partners.com>\nTo: rita@ourco.com\n"
        b"Cc: Rita's boss <boss@ourco.com>, jdoe@globex.com\nSubject: Intro\n\n"
        b"Rita, meet Jane Doe, our contact at Globex (cc'd).\n"
    )
    parsed = parse_email(raw, "cc.eml")
    assert (parsed.prospect_name, parsed.prospect_email) == ("Jane Doe", "jdoe@globex.com")
    assert _where(parsed)["prospect_email"] == "To/Cc header"
    assert parsed.sender_emails == ("sue@acme-partners.com", "rita@ourco.com", "boss@ourco.com")


def test_with_a_company_and_no_name_a_recipient_at_the_companys_domain_is_the_prospect() -> None:
    raw = (
        b"From: Sue Lee <sue@acme-partners.com>\nTo: rita@ourco.com\nCc: cfo@globex.com\n"
        b"Subject: Referral\n\nCompany: The Globex Corporation\n"
    )
    parsed = parse_email(raw, "r.eml")
    assert (parsed.prospect_email, parsed.prospect_domain) == ("cfo@globex.com", "globex.com")
    assert _where(parsed)["prospect_email"] == "To/Cc header"
    # Without a recipient at Globex's domain, no recipient is taken (rita@ourco.com is ours).
    raw = raw.replace(b"Cc: cfo@globex.com\n", b"")
    assert parse_email(raw, "r.eml").prospect_email is None


def test_a_prospect_copied_on_the_introduction() -> None:
    parsed = _parse("cc_intro.eml")
    assert _prospect(parsed) == ("Globex", "Jane Doe", "jane.doe@globex.com", None, "globex.com")
    assert _where(parsed) == {
        "prospect_company": "body line 3",
        "prospect_name": "body line 3",
        "prospect_email": "To/Cc header",
        "prospect_domain": "To/Cc header",
    }
    assert parsed.sources[2].text == "Doe, Jane <jane.doe@globex.com>"
    assert parsed.received_at == datetime(2026, 11, 20, 17, 45, tzinfo=UTC)
