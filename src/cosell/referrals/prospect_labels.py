"""Labelled lines in a referral: ``Company: Globex``, ``Contact: Jane Doe <jane@globex.com>``,
``Email:``, ``Title:``/``Role:``, ``Website:``, the strongest reading of
:func:`~cosell.referrals.prospect_text.extract_prospect`. Labels are matched case-insensitively
after the line is cleaned (bullets, quote marks and emphasis gone).

>>> labelled_fields(["Company: Globex (globex.com)", "Role: CFO"], lambda text: None)
[('company', 0, 'Globex'), ('domain', 0, 'globex.com'), ('title', 1, 'CFO')]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from cosell.accounts.domains import registrable_domain
from cosell.referrals.text_words import EMAIL_RE, split_contact

# Labels a person writes in a referral, lower case, to the field they give.
_LABELS: dict[str, str] = {
    **dict.fromkeys(
        ("company", "company name", "account", "account name", "organisation", "organization",
         "prospect", "prospect company", "customer", "client", "org"),
        "company",
    ),
    **dict.fromkeys(
        ("contact", "contact name", "name", "prospect name", "full name", "point of contact",
         "poc", "prospect contact", "main contact"),
        "contact",
    ),
    **dict.fromkeys(
        ("email", "e-mail", "email address", "e-mail address", "contact email", "mail"),
        "email",
    ),
    **dict.fromkeys(("title", "job title", "role", "position", "contact title"), "title"),
    **dict.fromkeys(("website", "web", "web site", "domain", "url", "company website", "site"),
                    "website"),
}  # fmt: skip
_LABEL_RE = re.compile(r"^([A-Za-z][A-Za-z .'-]{0,30}?)\s*[:\uff1a]\s*(.*?)\s*$")


def labelled_fields(
    cleaned: Sequence[str], first_address: Callable[[str], str | None]
) -> list[tuple[str, int, str]]:
    """(field, line index, value) for every labelled line of ``cleaned`` (lines already through
    :func:`~cosell.referrals.text_words.clean_line`); ``field`` is company, name, email, title or
    domain. ``first_address`` picks the prospect's address out of a value (skipping excluded ones)."""
    found: list[tuple[str, int, str | None]] = []
    for index, line in enumerate(cleaned):
        match = _LABEL_RE.match(line)
        if match is None:
            continue
        kind = _LABELS.get(" ".join(match.group(1).lower().split()))
        value = match.group(2)
        if kind is None or not value:
            continue
        if kind == "email":
            found.append(("email", index, first_address(value)))
        elif kind == "website":
            found.append(("domain", index, registrable_domain(value.split()[0])))
        elif kind == "title":
            found.append(("title", index, value.rstrip(".;,")))
        elif kind == "company":
            company, domain = split_company(value)
            found += [("company", index, company), ("domain", index, domain)]
        else:
            name, title = split_contact(EMAIL_RE.sub(" ", value))
            found += [("name", index, name), ("title", index, title), ("email", index, first_address(value))]
    return [(field, index, value) for field, index, value in found if value]


def split_company(value: str) -> tuple[str | None, str | None]:
    """``Globex (globex.com)`` -> (``Globex``, ``globex.com``); a value that is only a domain gives
    no company."""
    domain = None
    paren = re.search(r"\(([^()]*)\)", value)
    if paren is not None:
        inner = paren.group(1).strip()
        if "." in inner and " " not in inner:
            domain = registrable_domain(inner)
        value = value[: paren.start()] + value[paren.end() :]
    company = value.strip(" \t.,;-")
    if company and " " not in company and "." in company and "@" not in company:
        # "Company: globex.com" names a domain, not the company's name.
        return None, domain or registrable_domain(company)
    return (company or None), domain


def label_kind(line: str) -> str | None:
    """The field a labelled line gives (company, contact, email, title, website), or None."""
    match = _LABEL_RE.match(line)
    return None if match is None else _LABELS.get(" ".join(match.group(1).lower().split()))
