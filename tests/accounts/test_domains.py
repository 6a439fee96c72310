"""Registrable domains: the one key that ties an address, a URL and a partner's list to a company."""

from __future__ import annotations

import pytest

from cosell.accounts.domains import host_of, registrable_domain


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("acme.com", "acme.com"),
        ("WWW.Acme.com", "acme.com"),
        ("https://www.eu.acme.co.uk/about?x=1", "acme.co.uk"),
        ("Jane.Doe@Sales.Acme.co.uk", "acme.co.uk"),
        ("acme.com.", "acme.com"),
        ("acme.com:8443", "acme.com"),
        ("<jane@globex.io>", "globex.io"),
        ("co.uk", None),  # a public suffix names no company
        ("", None),
        ("not a domain", None),
        ("localhost", None),
        ("192.168.1.1", None),  # an IP address names no company (the list would read it as "1.1")
        ("http://10.0.1.1:8080/crm", None),
        ("xn--mller-kva.de", "müller.de"),  # punycode is the same domain as its letters
        ("https://www.XN--MLLER-KVA.DE/", "müller.de"),
        ("Müller.de", "müller.de"),
        ("xn--zz.com", "xn--zz.com"),  # not valid punycode: as it is written
        # Found by fuzzing accounts match: an "@" in a URL's query or fragment was read as an email
        # address's, so acme.com's site matched evil.com; a decomposed (NFD) or full-width name and
        # ideographic full stops were another domain than the same name written plainly.
        ("https://acme.com/contact?ref=bob@evil.com", "acme.com"),
        ("https://www.acme.com#team@evil.com", "acme.com"),
        ("https://bob@acme.com/x", "acme.com"),
        ("bob@acme.com?subject=hi", "acme.com"),
        ("mu\u0308ller.de", "müller.de"),
        ("\uff41\uff43\uff4d\uff45.com", "acme.com"),
        ("acme\u3002co\uff0euk", "acme.co.uk"),
    ],
)
def test_registrable_domain(value: str, expected: str | None) -> None:
    assert registrable_domain(value) == expected


def test_host_keeps_subdomains_but_not_www() -> None:
    assert host_of("http://www.shop.acme.com/") == "shop.acme.com"
