"""Who referred it and which account it is about: hand-computed cases of each rule."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cosell.referrals.identify import (
    AccountRow,
    ContactRow,
    PartnerRow,
    identify_partner,
    match_account,
    own_domains,
)

PARTNERS = [
    PartnerRow("P1", "Alpha Partners", "alpha-partners.com"),
    PartnerRow("P2", "Beta Consulting", "https://www.beta.co.uk/"),
    PartnerRow("P3", "Gamma", ""),
]
CONTACTS = [
    ContactRow("C1", "P1", "Ann Alpha", "Ann@Alpha-Partners.com"),
    ContactRow("C2", "P2", "Ben Beta", "ben.beta@gmail.com"),  # a contact's own free-mail address
    ContactRow("C3", "P3", "Gus Gamma", "gus@gamma-mail.net"),
]
OWN = own_domains(["ae@ourco.com", "ops@ourco.com", "someone@gmail.com"])


def test_own_domains_are_our_users_domains_without_free_mail() -> None:
    assert frozenset({"ourco.com"}) == OWN


def test_a_contact_email_comes_first_even_after_a_domain_match() -> None:
    # The first address is on P1's domain, the second is P3's contact: contacts are tried first.
    found = identify_partner(["zed@alpha-partners.com", "GUS@gamma-mail.net"], CONTACTS, PARTNERS, OWN)
    assert (found.partner_id, found.contact_id, found.method, found.matched) == (
        "P3", "C3", "contact_email", "gus@gamma-mail.net",
    )  # fmt: skip


def test_a_domain_identifies_the_partner_without_a_contact() -> None:
    found = identify_partner(["new.person@sales.beta.co.uk"], CONTACTS, PARTNERS, OWN)
    assert (found.partner_id, found.contact_id, found.method, found.matched) == (
        "P2",
        "",
        "domain",
        "beta.co.uk",
    )


def test_free_mail_never_identifies_by_domain_but_a_listed_contact_address_does() -> None:
    assert identify_partner(["other@gmail.com"], CONTACTS, PARTNERS, OWN).method == "none"
    found = identify_partner(["other@gmail.com", "ben.beta@gmail.com"], CONTACTS, PARTNERS, OWN)
    assert (found.partner_id, found.contact_id) == ("P2", "C2")


def test_our_own_domain_never_identifies_a_partner() -> None:
    # Our colleague forwarded it; even a partner listing our address as a contact does not count.
    contacts = [*CONTACTS, ContactRow("C9", "P1", "Odd", "ae@ourco.com")]
    partners = [*PARTNERS, PartnerRow("P9", "Us", "ourco.com")]
    found = identify_partner(["ae@ourco.com"], contacts, partners, OWN)
    assert found.method == "none" and "ae@ourco.com (our own domain)" in found.explanation
    found = identify_partner(["ae@ourco.com", "ann@alpha-partners.com"], contacts, partners, OWN)
    assert (found.partner_id, found.contact_id) == ("P1", "C1")


def test_an_address_of_two_partners_is_ambiguous_and_the_next_one_decides() -> None:
    contacts = [*CONTACTS, ContactRow("C4", "P2", "Ann again", "ann@alpha-partners.com")]
    found = identify_partner(["ann@alpha-partners.com"], contacts, PARTNERS, OWN)
    # Not a contact match (two partners), but the domain is P1's alone.
    assert (found.partner_id, found.method) == ("P1", "domain")
    assert (
        identify_partner([], CONTACTS, PARTNERS, OWN).explanation
        == "no sender address to identify the partner by"
    )


@given(st.permutations(CONTACTS), st.permutations(PARTNERS))
def test_identification_does_not_depend_on_row_order(
    contacts: list[ContactRow], partners: list[PartnerRow]
) -> None:
    senders = ["x@ourco.com", "y@gmail.com", "zed@alpha-partners.com", "ben.beta@gmail.com"]
    assert identify_partner(senders, contacts, partners, OWN) == identify_partner(
        senders, CONTACTS, PARTNERS, OWN
    )


def test_the_prospect_company_is_normalised_as_overlap_matching_normalises_names() -> None:
    accounts = [
        AccountRow("A9", "Müller & Söhne GmbH & Co. KG", ""),
        AccountRow("A8", "The Acme Co., Inc.", ""),
    ]
    assert match_account("", "", "Muller and Sohne", accounts).account_id == "A9"
    assert match_account("", "", "ACME", accounts).account_id == "A8"
    assert match_account("", "", "Acme Holdings", accounts).account_id == ""  # a distinguishing word
    # A placeholder company is no name: it lands on no placeholder account.
    placeholder = match_account("", "", "N/A", [*accounts, AccountRow("A1", "n.a.", "")])
    assert (placeholder.account_id, placeholder.method) == ("", "none")


ACCOUNTS = [
    AccountRow("A2", "Northwind Traders Ltd", "northwind.com"),
    AccountRow("A1", "Northwind (old record)", "www.northwind.com"),
    AccountRow("A3", "The Contoso Company", ""),
    AccountRow("A4", "Fabrikam", "fabrikam.co.uk"),
]


def test_an_account_by_domain_then_email_then_name() -> None:
    by_domain = match_account("https://shop.fabrikam.co.uk", "", "", ACCOUNTS)
    assert (by_domain.account_id, by_domain.method, by_domain.matched) == ("A4", "domain", "fabrikam.co.uk")
    # Two accounts share the domain: the smallest id, said so.
    shared = match_account("", "cfo@northwind.com", "Whatever", ACCOUNTS)
    assert shared.account_id == "A1" and "2 accounts share it: A1, A2" in shared.explanation
    by_name = match_account("", "jo@gmail.com", "contoso co.", ACCOUNTS)
    assert (by_name.account_id, by_name.method, by_name.matched) == ("A3", "name", "contoso")


def test_free_mail_is_not_the_prospects_domain_and_no_match_is_a_new_prospect() -> None:
    found = match_account("", "jo@gmail.com", "Tailspin Toys", ACCOUNTS)
    assert (found.account_id, found.method) == ("", "none")
    assert found.explanation == 'no account has company "tailspin toys": a new prospect'
