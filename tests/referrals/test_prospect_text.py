"""The prospect read out of plain text: each field, and the line that gave it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cosell.referrals.parsed import FieldSource
from cosell.referrals.prospect_text import ProspectFields, extract_prospect

PARTNER = ["acme-partners.com"]


def _fields(found: ProspectFields) -> tuple[str | None, ...]:
    return (found.company, found.name, found.email, found.title, found.domain)


def _where(found: ProspectFields) -> dict[str, str]:
    return {s.field: s.where for s in found.sources}


def test_labelled_lines_with_bullets_and_bold() -> None:
    lines = [
        "Hi team, a referral for you:",
        "",
        "* *Company:* Globex Corporation",
        "- **Contact:** Jane Doe <Jane.Doe@Globex.com>",
        "  ROLE: VP Finance",
        "> Website: https://www.globex.co.uk/about",
    ]
    found = extract_prospect(lines, "body", PARTNER)
    assert _fields(found) == (
        "Globex Corporation",
        "Jane Doe",
        "jane.doe@globex.com",
        "VP Finance",
        "globex.co.uk",
    )
    assert _where(found) == {
        "prospect_company": "body line 3",
        "prospect_name": "body line 4",
        "prospect_email": "body line 4",
        "prospect_title": "body line 5",
        "prospect_domain": "body line 6",
    }
    assert FieldSource("prospect_title", "body line 5", "ROLE: VP Finance") in found.sources


def test_account_name_email_labels_and_a_domain_in_brackets() -> None:
    lines = ["Account: Initech (initech.io)", "Name: Peter Gibbons", "E-mail: peter@initech.io"]
    found = extract_prospect(lines, "slack message 1700000000.000100", PARTNER)
    assert _fields(found) == ("Initech", "Peter Gibbons", "peter@initech.io", None, "initech.io")
    assert _where(found)["prospect_email"] == "slack message 1700000000.000100 line 3"
    assert _where(found)["prospect_domain"] == "slack message 1700000000.000100 line 1"


def test_intro_sentence_with_title_company_and_address() -> None:
    lines = ["Hi Bob,", "", "I'd like to introduce you to Jane Doe, VP Finance at Globex (jane@globex.com)."]
    found = extract_prospect(lines, "body", PARTNER)
    assert _fields(found) == ("Globex", "Jane Doe", "jane@globex.com", "VP Finance", "globex.com")
    assert set(_where(found).values()) == {"body line 3"}


def test_intro_sentence_wrapped_over_two_lines() -> None:
    lines = [
        "Bob, happy to connect you with Maria van der Berg",
        "(maria@umbrella.nl), Head of Procurement at Umbrella Holdings, who is",
        "evaluating tools this quarter.",
    ]
    found = extract_prospect(lines, "body", PARTNER)
    assert _fields(found) == (
        "Umbrella Holdings",
        "Maria van der Berg",
        "maria@umbrella.nl",
        "Head of Procurement",
        "umbrella.nl",
    )
    assert _where(found)["prospect_company"] == "body lines 1-2"
    assert _where(found)["prospect_email"] == "body lines 1-3"


def test_meet_name_from_company() -> None:
    found = extract_prospect(["Hey, meet Jane Doe from Globex Corp. She runs IT."], "m", PARTNER)
    assert _fields(found) == ("Globex Corp", "Jane Doe", None, None, None)
    assert found.sources[0].text == "Hey, meet Jane Doe from Globex Corp. She runs IT."


def test_name_is_the_title_at_company() -> None:
    lines = ["Some context first.", "Our contact Jane Doe is the CFO of Globex.", "Write to jd@globex.com."]
    found = extract_prospect(lines, "body", PARTNER)
    assert _fields(found) == ("Globex", "Jane Doe", "jd@globex.com", "CFO", "globex.com")
    assert _where(found)["prospect_name"] == "body line 2"
    assert _where(found)["prospect_email"] == "body line 3"


def test_labelled_lines_beat_an_intro_sentence() -> None:
    lines = ["Meet Jane Doe from Globex.", "Company: Globex Holdings Ltd"]
    found = extract_prospect(lines, "body", PARTNER)
    assert found.company == "Globex Holdings Ltd"
    assert _where(found)["prospect_company"] == "body line 2"
    assert found.name == "Jane Doe"


def test_excluded_addresses_and_domains_are_never_the_prospect() -> None:
    lines = [
        "Thanks, Bob Smith <bob@acme-partners.com>",
        "cc rep@ourco.com",
        "Jane's address is jane@globex.com",
    ]
    found = extract_prospect(lines, "body", ["acme-partners.com", "rep@ourco.com"])
    assert found.email == "jane@globex.com"
    assert found.name is None  # "Bob Smith" goes with an excluded address
    assert _where(found)["prospect_email"] == "body line 3"


def test_the_address_matching_the_name_wins_over_the_first() -> None:
    lines = ["Meet Jane Doe at Globex.", "Office: office@globex.com, direct: jane.doe@globex.com"]
    found = extract_prospect(lines, "body", PARTNER)
    assert found.email == "jane.doe@globex.com"


def test_free_mail_gives_an_email_but_no_domain() -> None:
    found = extract_prospect(['Please connect with "Jane Doe" <jane@gmail.com>'], "body", PARTNER)
    assert _fields(found) == (None, "Jane Doe", "jane@gmail.com", None, None)


def test_company_given_as_a_domain_is_a_domain() -> None:
    found = extract_prospect(["Company: globex.com"], "body", PARTNER)
    assert (found.company, found.domain) == (None, "globex.com")


def test_nothing_usable() -> None:
    lines = ["Thanks for the call yesterday!", "", "Best,", "Bob", "bob@acme-partners.com"]
    found = extract_prospect(lines, "body", PARTNER)
    assert _fields(found) == (None, None, None, None, None)
    assert found.sources == ()


def test_sentences_that_are_not_introductions() -> None:
    lines = ["This is the best quarter at Acme.", "I'd like to introduce you to our new pricing."]
    assert _fields(extract_prospect(lines, "body", PARTNER)) == (None, None, None, None, None)


def test_signature_block_around_the_prospect_address() -> None:
    lines = [
        "Bob, this one is for you.",
        "",
        "Best,",
        "Jane Doe",
        "VP Finance | Globex Inc.",
        "jane.doe@globex.com",
        "+1 (555) 010-0100",
        "www.globex.com",
    ]
    found = extract_prospect(lines, "body", PARTNER)
    assert _fields(found) == ("Globex Inc", "Jane Doe", "jane.doe@globex.com", "VP Finance", "globex.com")
    assert _where(found) == {
        "prospect_company": "body line 5",
        "prospect_name": "body line 4",
        "prospect_email": "body line 6",
        "prospect_title": "body line 5",
        "prospect_domain": "body line 8",
    }


def test_signature_with_title_and_company_on_their_own_lines() -> None:
    lines = ["Thanks!", "", "Jane Doe", "Controller", "Globex Holdings Ltd.", "E: jane@globex.com"]
    found = extract_prospect(lines, "body", PARTNER)
    assert _fields(found) == (
        "Globex Holdings Ltd",
        "Jane Doe",
        "jane@globex.com",
        "Controller",
        "globex.com",
    )


def test_the_partners_own_signature_is_never_the_prospect() -> None:
    lines = ["Best,", "Sue Lee", "Partner Manager, Acme Partners", "sue@acme-partners.com"]
    assert _fields(extract_prospect(lines, "body", PARTNER)) == (None, None, None, None, None)


def test_an_address_in_prose_has_no_signature() -> None:
    lines = ["Globex Corp", "Looking forward to it, her address is jane@globex.com."]
    found = extract_prospect(lines, "body", PARTNER)
    assert (found.company, found.email) == (None, "jane@globex.com")


def test_signature_fields_lose_to_an_introduction() -> None:
    lines = ["Meet Jane Doe from Globex.", "", "Jane Doe", "CFO | Globex Holdings", "jane@globex.com"]
    found = extract_prospect(lines, "body", PARTNER)
    assert (found.company, found.title) == ("Globex", "CFO")
    assert _where(found)["prospect_company"] == "body line 1"
    assert _where(found)["prospect_title"] == "body line 4"


def test_merged_takes_missing_fields_from_later_text() -> None:
    newest = extract_prospect(["Company: Globex"], "body", PARTNER)
    quoted = extract_prospect(["Meet Jane Doe from Initech (jane@initech.com)"], "quoted", PARTNER)
    merged = newest.merged(quoted)
    assert _fields(merged) == ("Globex", "Jane Doe", "jane@initech.com", None, "initech.com")
    assert _where(merged) == {
        "prospect_company": "body line 1",
        "prospect_name": "quoted line 1",
        "prospect_email": "quoted line 1",
        "prospect_domain": "quoted line 1",
    }


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=8))
def test_any_text_gives_the_same_answer_twice(lines: list[str]) -> None:
    first = extract_prospect(lines, "body", PARTNER)
    assert first == extract_prospect(list(lines), "body", PARTNER)
    for source in first.sources:
        assert source.where.startswith("body line")
        assert getattr(first, source.field.removeprefix("prospect_")) is not None


def test_contact_line_with_title_and_a_subdomain_address() -> None:
    found = extract_prospect(["Contact: Jane Doe, VP Finance <jane@mail.globex.co.uk>"], "body", PARTNER)
    assert _fields(found) == (None, "Jane Doe", "jane@mail.globex.co.uk", "VP Finance", "globex.co.uk")


def test_connecting_you_with_name_and_title_of_company_in_brackets() -> None:
    found = extract_prospect(["Happy to be connecting you with Jane Doe (CFO of Globex)."], "body", PARTNER)
    assert _fields(found) == ("Globex", "Jane Doe", None, "CFO", None)


def test_words_between_the_opening_and_the_name() -> None:
    found = extract_prospect(["Let me introduce you to my colleague Jane Doe from Globex."], "b", PARTNER)
    assert _fields(found) == ("Globex", "Jane Doe", None, None, None)
    found = extract_prospect(["Meet our good friend, Jane Doe, Head of IT at Initech."], "b", PARTNER)
    assert _fields(found) == ("Initech", "Jane Doe", None, "Head of IT", None)


def test_title_and_company_before_the_name() -> None:
    lines = ["I want to introduce you to the CFO of Globex, Jane Doe (jane@globex.com)."]
    found = extract_prospect(lines, "body", PARTNER)
    assert _fields(found) == ("Globex", "Jane Doe", "jane@globex.com", "CFO", "globex.com")


def test_first_line_numbers_a_slice_of_a_longer_text() -> None:
    found = extract_prospect(["", "Company: Globex"], "body", PARTNER, first_line=40)
    assert _where(found) == {"prospect_company": "body line 41"}


def test_name_runs_or_works_at_company() -> None:
    found = extract_prospect(["Jane Doe (cc'd) runs finance at Globex and is keen."], "body", PARTNER)
    assert _fields(found) == ("Globex", "Jane Doe", None, None, None)
    assert _fields(extract_prospect(["Jane Doe works at Initech."], "b", PARTNER))[:2] == (
        "Initech",
        "Jane Doe",
    )
    assert _fields(extract_prospect(["Jane Doe runs the numbers for us."], "b", PARTNER)) == (None,) * 5


def test_a_copied_name() -> None:
    found = extract_prospect(["Looping in Jane Doe (copied)."], "body", PARTNER)
    assert (found.name, found.company) == ("Jane Doe", None)
