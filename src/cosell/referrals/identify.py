"""Who referred it, and which of our accounts it is about (SPEC section 7). Pure: rows in, values out.

The partner, from the referral's sender addresses (:attr:`ParsedReferral.sender_emails`, most
telling first):

1. the first address equal (case-insensitively) to a partner contact's email: that contact and its
   partner;
2. else the first address whose registrable domain is a partner's domain: that partner, no contact.

An address on one of the workspace's own domains never identifies a partner (a colleague who
forwarded the introduction is not the partner), nor does a free-mail domain in step 2 (a
``gmail.com`` address says nothing about a company; a partner contact's own free-mail address,
listed in partner_contacts, still identifies them in step 1: the address is the person's). An
address or a domain that belongs to two partners is ambiguous and identifies neither; the next
address is tried.

The account, from the prospect: the registrable domain of ``prospect_domain`` (else of
``prospect_email``, unless it is free mail) equal to an account's; else the company name, normalised
(:func:`normalise_company`), equal to an account's; else none (a new prospect). Several accounts
on the same key: the smallest account_id, and the match says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from cosell.accounts.domains import registrable_domain
from cosell.accounts.free_mail import company_domain, is_free_mail
from cosell.accounts.names import normalise_name
from cosell.referrals.parsed import ParsedReferral


@dataclass(frozen=True)
class PartnerRow:
    partner_id: str
    name: str
    domain: str


@dataclass(frozen=True)
class ContactRow:
    contact_id: str
    partner_id: str
    name: str
    email: str


@dataclass(frozen=True)
class AccountRow:
    account_id: str
    name: str
    domain: str


@dataclass(frozen=True)
class PartnerMatch:
    """The partner found (``method`` contact_email or domain) or none, and the words that say why."""

    partner_id: str
    contact_id: str
    method: str  # contact_email, domain or none
    matched: str  # the address or the domain that identified the partner ("" for none)
    explanation: str


@dataclass(frozen=True)
class AccountMatch:
    """The account found (``method`` domain or name) or none (a new prospect), and why."""

    account_id: str
    method: str  # domain, name or none
    matched: str  # the domain or the normalised name ("" for none)
    explanation: str


def own_domains(user_emails: Iterable[str], extra: Iterable[str] = ()) -> frozenset[str]:
    """The workspace's own registrable domains: those of its own users' addresses (users who are not
    partner users) and of ``extra`` domains, free-mail domains left out (a colleague's private
    address does not make gmail.com ours)."""
    found = {company_domain(v) for v in (*user_emails, *extra)}
    return frozenset(d for d in found if d is not None)


def identify_partner(
    sender_emails: Sequence[str],
    contacts: Sequence[ContactRow],
    partners: Sequence[PartnerRow],
    own: frozenset[str],
) -> PartnerMatch:
    """The referring partner by the rules of the module docstring."""
    by_email: dict[str, set[str]] = {}
    contact_of: dict[tuple[str, str], str] = {}
    for c in sorted(contacts, key=lambda c: c.contact_id):
        email = c.email.strip().lower()
        if email:
            by_email.setdefault(email, set()).add(c.partner_id)
            contact_of.setdefault((email, c.partner_id), c.contact_id)
    by_domain: dict[str, set[str]] = {}
    for p in partners:
        domain = registrable_domain(p.domain) if p.domain.strip() else None
        if domain:
            by_domain.setdefault(domain, set()).add(p.partner_id)
    addresses = [e.strip().lower() for e in sender_emails if e.strip()]
    notes: list[str] = []
    for address in addresses:
        domain = registrable_domain(address)
        if domain in own:
            continue
        partners_of = by_email.get(address, set())
        if len(partners_of) == 1:
            partner = next(iter(partners_of))
            contact = contact_of[(address, partner)]
            return PartnerMatch(
                partner, contact, "contact_email", address, f"{address} is partner contact {contact}'s email"
            )
        if len(partners_of) > 1:
            notes.append(f"{address} is a contact of several partners ({', '.join(sorted(partners_of))})")
    for address in addresses:
        domain = registrable_domain(address)
        if domain is None or domain in own or is_free_mail(domain):
            continue
        partners_of = by_domain.get(domain, set())
        if len(partners_of) == 1:
            partner = next(iter(partners_of))
            return PartnerMatch(
                partner, "", "domain", domain, f"{address} is on partner {partner}'s domain {domain}"
            )
        if len(partners_of) > 1:
            notes.append(f"{domain} is the domain of several partners ({', '.join(sorted(partners_of))})")
    return PartnerMatch("", "", "none", "", _none_explanation(addresses, own, notes))


def _none_explanation(addresses: Sequence[str], own: frozenset[str], notes: Sequence[str]) -> str:
    if not addresses:
        return "no sender address to identify the partner by"
    checked = []
    for address in addresses:
        domain = registrable_domain(address) or ""
        why = " (our own domain)" if domain in own else " (free mail)" if is_free_mail(domain) else ""
        checked.append(address + why)
    text = "no sender address is a partner contact's or on a partner's domain: " + ", ".join(checked)
    return text + "".join(f"; {n}" for n in notes)


def match_account(
    prospect_domain: str, prospect_email: str, prospect_company: str, accounts: Sequence[AccountRow]
) -> AccountMatch:
    """The prospect's account by the rules of the module docstring."""
    domain = registrable_domain(prospect_domain) if prospect_domain.strip() else None
    source = "prospect domain"
    if domain is None and prospect_email.strip():
        domain = company_domain(prospect_email)
        source = "prospect email"
    ordered = sorted(accounts, key=lambda a: a.account_id)
    if domain is not None:
        same = [a.account_id for a in ordered if a.domain.strip() and registrable_domain(a.domain) == domain]
        if same:
            return AccountMatch(same[0], "domain", domain, _matched(f"{source} {domain}", same, "domain"))
    name = normalise_name(prospect_company) if prospect_company.strip() else ""
    if name:
        same = [a.account_id for a in ordered if a.name.strip() and normalise_name(a.name) == name]
        if same:
            return AccountMatch(same[0], "name", name, _matched(f'company "{name}"', same, "name"))
    looked = [f"domain {domain}"] if domain else []
    looked += [f'company "{name}"'] if name else []
    what = " or ".join(looked) if looked else "nothing to match (no domain, email or company)"
    return AccountMatch("", "none", "", f"no account has {what}: a new prospect" if looked else what)


def _matched(what: str, ids: Sequence[str], key: str) -> str:
    text = f"{what} is account {ids[0]}'s {key}"
    if len(ids) > 1:
        text += f" ({len(ids)} accounts share it: {', '.join(ids)}; the smallest id is taken)"
    return text


def without_inside_prospect(parsed: ParsedReferral, inside: frozenset[str]) -> ParsedReferral:
    """``parsed`` without a prospect email or domain on one of the ``inside`` registrable domains
    (ours, the referring partner's): a parser that takes the prospect from a message's recipients
    cannot tell our ``partners@`` inbox from a prospect copied in, but the workspace can, and the
    person a partner introduces never works for us or for that partner. What is dropped is asked
    for again as missing."""
    email_domain = registrable_domain(parsed.prospect_email or "")
    domain = registrable_domain(parsed.prospect_domain or "")
    drop = set()
    if email_domain in inside:
        drop.add("prospect_email")
    if domain in inside:
        drop.add("prospect_domain")
    if not drop:
        return parsed
    return replace(
        parsed,
        prospect_email=None if "prospect_email" in drop else parsed.prospect_email,
        prospect_domain=None if "prospect_domain" in drop else parsed.prospect_domain,
        sources=tuple(s for s in parsed.sources if s.field not in drop),
    )
