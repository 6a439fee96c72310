"""Matching a partner's account list to ours: each method, the review list, ties, row order."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cosell.accounts.match import (
    FUZZY_THRESHOLD,
    REVIEW_FLOOR,
    OurAccount,
    PartnerAccount,
    match_accounts,
    pair_decision,
    statuses_of,
)
from cosell.accounts.names import PLACEHOLDER_NAMES

OURS = [
    OurAccount("A1", "Northwind Bay Logistics", "northwindbaylogistics.com"),
    OurAccount("A2", "Crescent Dale Financial", "crescentdale.co.uk"),
    OurAccount("A3", "Acme Holdings", "acme.de"),
    OurAccount("A4", "Globex", None),
    OurAccount("A5", "Goldman Sachs", None),
    OurAccount("A6", "Initech Software", "initech.com"),
]


def _row(
    name: str, domain: str | None = None, partner: str = "P1", status: str = "customer"
) -> PartnerAccount:
    return PartnerAccount(partner, name, domain, status)


def _only(rows: list[PartnerAccount], ours: list[OurAccount] = OURS) -> tuple[str, str, float, str]:
    """(account_id, method, score, reason) of the one partner row's match or review candidate."""
    result = match_accounts(ours, rows)
    found = result.matches or result.review
    assert len(found) == 1, result
    m = found[0]
    return m.account_id, m.method, m.score, m.reason


def test_domain_match_ignores_www_and_subdomains() -> None:
    assert _only([_row("NW Logistics (EMEA)", "https://www.eu.northwindbaylogistics.com/")]) == (
        "A1", "domain", 100.0, "")  # fmt: skip


def test_name_match_after_legal_form_case_and_the() -> None:
    assert _only([_row("THE GLOBEX CORPORATION")]) == ("A4", "name", 100.0, "")


def test_fuzzy_match_on_a_typo_with_its_score() -> None:
    # 23 letters each side, one swap = 2 Indel edits: 100 * (1 - 2/46) = 95.65 -> 95.7.
    assert _only([_row("Nortwhind Bay Logistics Inc.")]) == ("A1", "fuzzy_name", 95.7, "")


def test_a_domain_of_the_same_name_in_another_country_agrees() -> None:
    # acme.com vs acme.de: the same domain name (acme), so the name match counts.
    assert _only([_row("Acme Holdings GmbH", "acme.com")]) == ("A3", "name", 100.0, "")


def test_name_match_with_a_different_domain_is_for_review() -> None:
    assert _only([_row("Crescent Dale Financial Ltd", "crescentdalefinancialco.com")]) == (
        "A2", "name", 100.0, "domains_differ")  # fmt: skip


def test_another_word_is_not_a_typo() -> None:
    # "summit hall analytics" vs "summit hill analytics": 21 letters each, one wrong letter = 2
    # Indel edits: 100 * (1 - 2/42) = 95.2; but Hall is a four-letter word, not a typo of Hill:
    # listed for review, not counted.
    ours = [OurAccount("S1", "Summit Hill Analytics", None)]
    assert _only([_row("Summit Hall Analytics")], ours) == ("S1", "fuzzy_name", 95.2, "words_differ")
    # An added word: "goldman sachs group" vs "goldman sachs" = 100 * 2 * 13 / 32 = 81.25 -> 81.2.
    assert _only([_row("Goldman Sachs Group")]) == ("A5", "fuzzy_name", 81.2, "words_differ")
    # Another word with another first letter is not even near: nothing to review.
    result = match_accounts(OURS, [_row("Crescent Vale Financial")])
    assert (result.matches, result.review, result.unmatched) == ((), (), 1)


def test_below_the_threshold_with_the_same_words_is_for_review() -> None:
    # "amce" vs "acme": one swap in 4 letters = 100 * (1 - 2/8) = 75: under 80, over the floor 70.
    ours = [OurAccount("A9", "Acme", None)]
    assert _only([_row("Amce")], ours) == ("A9", "fuzzy_name", 75.0, "below_threshold")
    assert REVIEW_FLOOR <= 75.0 < FUZZY_THRESHOLD


@pytest.mark.parametrize("placeholder", ["-", "???", "…", "🚀", "* *"])
def test_a_name_of_no_letter_or_digit_matches_no_name(placeholder: str) -> None:
    ours = [*OURS, OurAccount("A9", "--", None), OurAccount("A8", "(none)", None)]
    result = match_accounts(ours, [_row(placeholder)])
    assert result.matches == () and result.review == () and result.unmatched == 1
    assert pair_decision(placeholder, "--")[0] is None


def test_a_placeholder_name_matches_no_name_but_its_domain_still_counts() -> None:
    ours = [
        *OURS,
        OurAccount("U1", "Unknown", None),
        OurAccount("U2", "N/A", "initech.com"),
        OurAccount("U3", "TBD Inc.", None),
        OurAccount("U4", "IBM", None),
    ]
    rows = [
        _row("unknown"),  # was a name match with U1 at 100
        _row("[Not Provided]"),
        _row("n.a."),  # was a name match with U2 ("N/A" and "n.a." are both "na")
        _row("Test Account"),
        _row("N/A", "initech.com"),  # a placeholder on a real shared domain: A6's and U2's
        _row("I.B.M. Corp"),  # a real short name still matches
        _row("Globex GmbH"),  # and so does any real name
    ]
    result = match_accounts(ours, rows)
    got = sorted((m.partner_name, m.account_id, m.method, m.score, m.name_score) for m in result.matches)
    assert got == [
        ("Globex GmbH", "A4", "name", 100.0, 100.0),
        ("I.B.M. Corp", "U4", "name", 100.0, 100.0),
        # A6 and U2 are both on initech.com; no name is like no other (name_score 0, where "N/A"
        # and "N/A" scored 100 and took U2), so the tie goes to the smaller id.
        ("N/A", "A6", "domain", 100.0, 0.0),
    ]
    assert (result.review, result.unmatched) == ((), 4)
    assert pair_decision("Unknown", "UNKNOWN") == (None, 0.0)
    assert pair_decision("HP", "H.P. Inc") == ("name", 100.0)


def test_a_free_mail_domain_is_no_company_s_domain() -> None:
    ours = [*OURS, OurAccount("A7", "Bob's Plumbing", "gmail.com"), OurAccount("A8", "Acme", "acme.com")]
    # another company at gmail.com is not Bob's Plumbing
    assert match_accounts(ours, [_row("Alice Bakery", "gmail.com")]).unmatched == 1
    # the name decides, and gmail.com casts no doubt on it
    assert _only([_row("ACME Inc", "acme.sales@gmail.com")], ours) == ("A8", "name", 100.0, "")
    assert _only([_row("Bobs Plumbing", "yahoo.co.uk")], ours) == ("A7", "name", 100.0, "")


def test_an_ip_address_matches_nothing_and_punycode_is_its_own_domain() -> None:
    ours = [*OURS, OurAccount("A7", "Harbor Freight", "10.0.1.1"), OurAccount("A8", "Müller", "müller.de")]
    assert match_accounts(ours, [_row("Zenith Labs", "192.168.1.1")]).unmatched == 1
    assert _only([_row("Müller GmbH", "https://www.xn--mller-kva.de/")], ours) == ("A8", "domain", 100.0, "")


def test_nothing_near_is_unmatched() -> None:
    result = match_accounts(OURS, [_row("Umbrella Pharmaceuticals", "umbrella.com")])
    assert (result.matches, result.review, result.unmatched, result.partner_rows) == ((), (), 1, 1)


def test_ties_go_to_the_more_alike_name_then_the_smallest_account_id() -> None:
    ours = [
        OurAccount("B3", "Zeta Shop", "zeta.com"),
        OurAccount("B2", "Zeta Labs", "zeta.com"),
        OurAccount("B1", "Zeta Labs Inc", "zeta.com"),
    ]
    # Three accounts on the partner's domain: B1 and B2 are both named "Zeta Labs" (score 100),
    # B3 less alike; the tie between B1 and B2 goes to the smaller id.
    assert _only([_row("Zeta Labs", "zeta.com")], ours)[:2] == ("B1", "domain")
    # Without a domain: two equal names, the smaller id.
    assert _only([_row("ZETA LABS LLC")], ours)[:2] == ("B1", "name")


def test_a_domain_match_beats_a_name_match_elsewhere() -> None:
    ours = [OurAccount("C1", "Globex", None), OurAccount("C2", "Globex Europe", "globex.eu")]
    assert _only([_row("Globex", "globex.eu")], ours)[:2] == ("C2", "domain")


def test_the_strongest_status_of_a_partner_listing_an_account_twice() -> None:
    result = match_accounts(
        OURS,
        [
            _row("Globex", status="prospect"),
            _row("Globex Inc", status="customer"),
            _row("GLOBEX", "", "P2", "prospect"),
        ],
    )
    assert statuses_of(result.matches) == {("P1", "A4"): "customer", ("P2", "A4"): "prospect"}


def test_blocking_finds_a_typo_among_many_similar_names() -> None:
    # 3,000 accounts that share their words in every combination; a typo in each word in turn.
    first = ["Northwind", "Bluefin", "Crescent", "Ironwood", "Silverline", "Harbor", "Summit", "Evergreen",
             "Granite", "Redwood", "Beacon", "Cobalt", "Falcon", "Juniper", "Keystone"]  # fmt: skip
    second = ["Bay", "Bridge", "Crest", "Dale", "Edge", "Field", "Gate", "Hill", "Isle", "Point"]
    kind = ["Logistics", "Health", "Financial", "Manufacturing", "Retail", "Systems", "Analytics",
            "Energy", "Foods", "Media", "Insurance", "Labs", "Capital", "Pharma", "Software", "Telecom",
            "Education", "Motors", "Hotels", "Partners"]  # fmt: skip
    ours = [
        OurAccount(f"A{i:05d}", f"{f} {s} {k}", None)
        for i, (f, s, k) in enumerate((f, s, k) for f in first for s in second for k in kind)
    ]
    rows = [_row("Nrothwind Bay Logistics"), _row("Bluefin Bya Health"), _row("Crescent Dale Finacnial")]
    result = match_accounts(ours, rows)
    got = {m.partner_name: (m.account_name, m.method) for m in result.matches}
    assert got == {
        "Nrothwind Bay Logistics": ("Northwind Bay Logistics", "fuzzy_name"),
        "Bluefin Bya Health": ("Bluefin Bay Health", "fuzzy_name"),
        "Crescent Dale Finacnial": ("Crescent Dale Financial", "fuzzy_name"),
    }


def test_bad_thresholds_are_refused() -> None:
    with pytest.raises(ValueError, match="floor"):
        match_accounts(OURS, [], threshold=60, floor=70)


NAMES = st.sampled_from(
    [
        "Acme",
        "ACME Inc",
        "Acme Holdings",
        "Amce",
        "Globex",
        "Globex GmbH",
        "Initech",
        "Intech",
        "Goldman Sachs",
        "Goldman Sachs Group",
        "Crescent Dale",
        "Crescent Vale",
    ]
)
DOMAINS = st.sampled_from([None, "acme.com", "www.acme.com", "acme.de", "globex.com", "initech.io"])


@given(
    ours=st.lists(st.tuples(NAMES, DOMAINS), min_size=1, max_size=8),
    theirs=st.lists(st.tuples(NAMES, DOMAINS, st.sampled_from(["customer", "prospect"])), max_size=8),
    seed=st.integers(0, 1000),
)
def test_matching_does_not_depend_on_row_order(
    ours: list[tuple[str, str | None]], theirs: list[tuple[str, str | None, str]], seed: int
) -> None:
    accounts = [OurAccount(f"A{i}", n, d) for i, (n, d) in enumerate(ours)]
    rows = [PartnerAccount(f"P{i % 2}", n, d, s) for i, (n, d, s) in enumerate(theirs)]
    shuffled_accounts, shuffled_rows = accounts[:], rows[:]
    random.Random(seed).shuffle(shuffled_accounts)
    random.Random(seed + 1).shuffle(shuffled_rows)
    assert match_accounts(accounts, rows) == match_accounts(shuffled_accounts, shuffled_rows)


@given(name=NAMES, domain=DOMAINS)
def test_every_row_is_matched_reviewed_or_unmatched_once(name: str, domain: str | None) -> None:
    accounts = [OurAccount("A1", "Acme", "acme.com"), OurAccount("A2", "Globex", None)]
    result = match_accounts(accounts, [PartnerAccount("P1", name, domain, "customer")])
    assert len(result.matches) + len(result.review) + result.unmatched == result.partner_rows == 1
    assert sum(result.by_method.values()) == len(result.matches)


SEPARATORS = st.sampled_from([" ", "  ", "\t", " - ", "_", "/", ", ", " . ", "|"])
EDGES = st.text(alphabet=" \t\n.,;:!?-_/*'\"()[]{}<>", max_size=4)


@st.composite
def placeholder_variants(draw: st.DrawFn) -> str:
    """A placeholder as people type it: any case, any separators between its words, punctuation or
    spaces around it, perhaps a legal form after it."""
    words = draw(st.sampled_from(PLACEHOLDER_NAMES)).replace("/", " ").split()
    text = words[0] + "".join(draw(SEPARATORS) + w for w in words[1:])
    text = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in text)
    if any(c.isalpha() for c in text):  # "- Inc." is the name "Inc", not a placeholder
        text += draw(st.sampled_from(["", " Inc.", ", LLC", " Ltd", " GmbH", " Co."]))
    return draw(EDGES) + text + draw(EDGES)


@given(
    placeholder=placeholder_variants(),
    other=st.one_of(placeholder_variants(), NAMES),
    domains=st.tuples(DOMAINS, DOMAINS),
    swap=st.booleans(),
)
def test_a_placeholder_never_matches_by_name(
    placeholder: str, other: str, domains: tuple[str | None, str | None], swap: bool
) -> None:
    ours_name, their_name = (other, placeholder) if swap else (placeholder, other)
    accounts = [OurAccount("A1", ours_name, domains[0]), OurAccount("A2", placeholder, None)]
    result = match_accounts(accounts, [_row(their_name, domains[1])])
    assert all(m.method == "domain" for m in result.matches), result
    assert result.review == (), result
    assert pair_decision(placeholder, other)[0] is None
    assert pair_decision(other, placeholder)[0] is None
