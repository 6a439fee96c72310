"""A forwarded introduction email (an .eml file's bytes) read into a :class:`ParsedReferral`.

Pure: bytes in, a value out; no file, network or clock is touched. What is read from where, and in
what order, is in docs/referrals-email.md; in short:

- ``source_ref``: the Message-ID, else the caller's name for the input (the file name) with a digest
  of the bytes (:func:`source_ref_without_message_id`);
  ``received_at``: the Date header in UTC (a date without a zone, or ``-0000``, is read as UTC), None
  when absent or unreadable;
- the body: :mod:`cosell.referrals.email_body` picks the text a reader sees and the attached
  messages; :mod:`cosell.referrals.email_thread` splits it into the newest text and the forwarded
  and quoted messages below it; each is read by :func:`~cosell.referrals.prospect_text.extract_prospect`,
  the newest first, a field found in a newer message winning;
- the prospect's address, when no text gives one: the author of a message in the thread whose name
  is the prospect's, else a recipient of the email or of a message in it, not on the sender's
  side, whose name matches, else one at a domain carrying the company's name;
- ``sender_emails``: the author of the message that holds the introduction, then the authors of the
  older messages (the original author of a forward before the person who forwarded it), then the
  email's From, Sender and Reply-To, then every recipient; never the prospect's own address or domain.

Anything that is not an email raises :class:`~cosell.errors.InputError` naming the file and why;
nothing else is raised, whatever the bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from email.message import Message

from cosell.accounts.domains import registrable_domain
from cosell.accounts.free_mail import company_domain
from cosell.errors import InputError, Problem
from cosell.referrals.email_body import attached_messages, body_lines, parse_bytes
from cosell.referrals.email_headers import Address, addresses, received_at, text_header
from cosell.referrals.email_thread import split_thread
from cosell.referrals.parsed import FieldSource, ParsedReferral
from cosell.referrals.prospect_text import ProspectFields, extract_prospect

MAX_EMAIL_BYTES = 25 * 1024 * 1024  # what mail servers commonly accept; a bigger file is no email
MAX_ATTACHED_DEPTH = 3  # a message attached to a message attached to a message, and no deeper
# Messages read in one email, newest first (the body's own text is the first): a real thread holds
# a few dozen at most; a crafted one with thousands costs no more than this many.
MAX_MESSAGES = 100
# Body lines read per message: an introduction is at the top of what a person wrote; a body of
# hundreds of thousands of lines is a log or an export, and costs no more than this many.
MAX_BODY_LINES = 20_000
_HEADERS_OF_AN_EMAIL = ("from", "to", "cc", "subject", "date", "message-id", "sender")


@dataclass(frozen=True)
class _Read:
    """One message of the email, ready to read: its text as the body lines from ``first_line``
    (1-based) on, lines of other messages in between left blank; where its lines are found, who
    wrote it and to whom."""

    where: str  # "body", or "attached message 1, body"
    label: str  # "" for the email's own newest text, else "forwarded message 1" and so on
    lines: list[str]
    first_line: int
    author: Address | None
    author_line: int | None  # 0-based body line naming a forwarded or quoted message's author
    recipients: tuple[Address, ...]


def source_ref_without_message_id(raw: bytes, name: str) -> str:
    """The reference of an email without a Message-ID: its file name and the first 16 hex digits of
    the SHA-256 of its bytes. The name alone would make two different messages saved under the same
    name (``message.eml``, as Outlook saves every one) one referral, the second never stored; the
    digest keeps the same bytes the same referral.

    >>> source_ref_without_message_id(b"From: a@b.com", "intro.eml")
    'intro.eml sha256:5cc89c2acce3283f'
    """
    return f"{name} sha256:{hashlib.sha256(raw).hexdigest()[:16]}"


def parse_email(raw: bytes, name: str, *, own_domains: Collection[str] = ()) -> ParsedReferral:
    """The referral in the email ``raw`` (the bytes of an .eml file, or what an inbound-mail webhook
    posts); ``name`` names the input in errors and, with a digest of ``raw``, is the ``source_ref``
    when there is no Message-ID. ``own_domains`` (the workspace's own domains, when the caller knows them) are never
    read as the prospect's and are left out of ``sender_emails``.

    Raises :class:`~cosell.errors.InputError` (file ``name``) when ``raw`` is empty, too large or has
    no email headers; any other bytes give a ParsedReferral, with the fields not found left None.
    """
    message = _message(raw, name)
    subject = text_header(message, "subject")
    sender = addresses(message, "from")
    outer_author = sender[0] if sender else None
    to, cc = addresses(message, "to"), addresses(message, "cc")
    reads = _reads(message, "body", subject, outer_author, tuple(to + cc), 0)[:MAX_MESSAGES]

    authors = [r.author for r in reads if r.author is not None]
    outer_side = [*sender, *addresses(message, "sender"), *addresses(message, "reply-to")]
    sender_side = [*authors, *outer_side]
    inner_authors = [r.author for r in reads if r.label and r.author is not None]
    exclude = _exclusions(outer_side, inner_authors, own_domains)
    found, found_in = _extract(reads, exclude)
    prospect_named = found.name
    if prospect_named is not None and any(_same_person(prospect_named, a) for a in inner_authors):
        # The prospect wrote one of the messages in the thread: read again without excluding
        # their address, so the introduction's own mention of it is the one reported.
        others = [a for a in inner_authors if not _same_person(prospect_named, a)]
        exclude = _exclusions(outer_side, others, own_domains)
        found, found_in = _extract(reads, exclude)
    found = _author_email(found, reads)
    found = _recipient_email(found, reads, exclude)

    intro = next((found_in[f] for f in ("name", "company", "email") if f in found_in), None)
    senders = _sender_order(reads, intro, sender_side, to + cc, found, own_domains)
    names: dict[str, str] = {}
    for person, address in [*sender_side, *to, *cc]:
        if person:
            names.setdefault(address, person)  # the name the most telling mention gives
    return ParsedReferral(
        channel="email",
        source_ref=text_header(message, "message-id") or source_ref_without_message_id(raw, name),
        received_at=received_at(message),
        sender_emails=senders,
        sender_name=names.get(senders[0]) if senders else None,
        notes=f"Subject: {subject}" if subject else "",
        prospect_company=found.company,
        prospect_name=found.name,
        prospect_email=found.email,
        prospect_title=found.title,
        prospect_domain=found.domain,
        sources=found.sources,
    )


def _extract(reads: list[_Read], exclude: list[str]) -> tuple[ProspectFields, dict[str, int]]:
    """The prospect fields of every message, the newest winning each field; and for company, name
    and email, which message (its position in ``reads``) gave it."""
    found = ProspectFields()
    found_in: dict[str, int] = {}
    for position, read in enumerate(reads):
        fields = extract_prospect(read.lines, read.where, exclude, first_line=read.first_line)
        if read.label:
            fields = _relabel(fields, read.label)
        for field in ("company", "name", "email"):
            if getattr(found, field) is None and getattr(fields, field) is not None:
                found_in[field] = position
        found = found.merged(fields)
    return found, found_in


def _error(name: str, reason: str) -> InputError:
    return InputError(Problem(file=name, row=None, column=None, value=None, reason=reason))


def check_size(name: str, size: int) -> None:
    """Refuse an email of more than :data:`MAX_EMAIL_BYTES` (``size`` bytes, named ``name``), before
    or after it is read."""
    if size > MAX_EMAIL_BYTES:
        raise _error(name, f"is {size:,} bytes; an email is at most {MAX_EMAIL_BYTES:,}")


def _message(raw: bytes, name: str) -> Message:
    if not isinstance(raw, bytes | bytearray):
        raise _error(name, "is not the bytes of an email")
    if not raw.strip():
        raise _error(name, "is empty: an email needs headers (From, To, Subject, Date) and a body")
    check_size(name, len(raw))
    try:
        message = parse_bytes(bytes(raw))
        present = {key.lower() for key, _value in message.raw_items()}
    except RecursionError:  # the stdlib parser recurses once per nested part
        raise _error(name, "cannot be read as an email: its parts are nested too deeply") from None
    except Exception as exc:  # the stdlib parser's errors on broken input vary
        raise _error(name, f"cannot be read as an email ({type(exc).__name__})") from None
    if not present & set(_HEADERS_OF_AN_EMAIL):
        raise _error(name, "is not an email: it has none of the headers From, To, Subject, Date")
    return message


def _reads(
    message: Message,
    where: str,
    subject: str | None,
    author: Address | None,
    recipients: tuple[Address, ...],
    depth: int,
) -> list[_Read]:
    """The messages in ``message``'s body, newest first, then those in its attachments."""
    lines = body_lines(message)[:MAX_BODY_LINES]
    counts = {"forwarded": 0, "quoted": 0}
    reads: list[_Read] = []
    for part in split_thread(lines, subject, author):
        label = ""
        if part.kind != "body":
            counts[part.kind] += 1
            label = f"{part.kind} message {counts[part.kind]}"
        # Only the span the message covers: a thread of many short quotes stays linear to read.
        first, last = (min(part.lines), max(part.lines)) if part.lines else (0, -1)
        text = [part.lines.get(i, "") for i in range(first, last + 1)]
        people = recipients if part.kind == "body" else tuple(part.recipients)
        reads.append(_Read(where, label, text, first + 1, part.author, part.author_line, people))
    if depth < MAX_ATTACHED_DEPTH:
        # Only as many as can still be read: a crafted email of thousands costs no more than this.
        for number, attached in enumerate(attached_messages(message, limit=MAX_MESSAGES), start=1):
            if len(reads) >= MAX_MESSAGES:
                break
            inner_from = addresses(attached, "from")
            inner_to = addresses(attached, "to") + addresses(attached, "cc")
            reads += _reads(
                attached,
                f"{where.removesuffix('body')}attached message {number}, body".lstrip(", "),
                text_header(attached, "subject"),
                inner_from[0] if inner_from else None,
                tuple(inner_to),
                depth + 1,
            )
    return reads


def _relabel(fields: ProspectFields, label: str) -> ProspectFields:
    sources = tuple(FieldSource(s.field, f"{s.where} ({label})", s.text) for s in fields.sources)
    return ProspectFields(fields.company, fields.name, fields.email, fields.title, fields.domain, sources)


def _exclusions(
    outer_side: Iterable[Address], authors: Iterable[Address], own_domains: Collection[str]
) -> list[str]:
    """Addresses and domains that are never the prospect's: the email's sender (the whole domain,
    unless it is free mail: the sender's colleagues are not prospects either), ours, and the authors
    of the messages it holds (their address only: one of them may be the prospect, writing in the
    thread, and :func:`_author_email` takes that address when the name matches)."""
    exclude = [d.lower() for d in own_domains]
    for _person, address in outer_side:
        exclude.append(company_domain(address) or address)
    exclude += [address for _person, address in authors]
    return list(dict.fromkeys(exclude))  # once each, in order: a long thread repeats its people


def _author_email(found: ProspectFields, reads: list[_Read]) -> ProspectFields:
    """When no text gives the prospect's address: the author of a forwarded or quoted message
    whose name is the prospect's (the prospect wrote in the thread the partner forwards)."""
    if found.email is not None or found.name is None:
        return found
    for read in reads:
        if not read.label or read.author is None or not _same_person(found.name, read.author):
            continue
        person, address = read.author
        where = (
            f"{read.where} line {read.author_line + 1} ({read.label})"
            if read.author_line is not None
            else f"{read.where} ({read.label})"
        )
        return found.merged(_address_fields(person, address, where))
    return found


def _address_fields(person: str, address: str, where: str) -> ProspectFields:
    """The name (two words or more), email and domain (not free mail) an address gives."""
    text = f"{person} <{address}>" if person else address
    name = person if len(person.split()) >= 2 else None
    domain = company_domain(address)
    given = {"name": name, "email": address, "domain": domain}
    sources = tuple(FieldSource(f"prospect_{f}", where, text) for f, v in given.items() if v)
    return ProspectFields(name=name, email=address, domain=domain, sources=sources)


def _recipient_email(found: ProspectFields, reads: list[_Read], exclude: list[str]) -> ProspectFields:
    """When no text gives the prospect's address but the text names the prospect: a recipient not
    on the sender's side whose name or address matches the name found, else one at a domain that
    carries the company's name (``Globex Corp`` -> ``globex.com``). Without a name or company there
    is no introduction to anchor it: the recipients of an ordinary email are its own people."""
    if found.email is not None or (found.name is None and found.company is None):
        return found
    blocked = set(exclude)
    candidates: list[tuple[Address, str]] = []
    for read in reads:
        where = _recipients_place(read)
        for person, address in read.recipients:
            if address in blocked or registrable_domain(address) in blocked:
                continue
            blocked.add(address)  # the first mention of a recipient is the one reported
            candidates.append(((person, address), where))
    chosen = [c for c in candidates if found.name and _same_person(found.name, c[0])]
    if not chosen and found.company:
        chosen = [c for c in candidates if _company_domain(found.company, c[0][1])]
    if not chosen:
        return found
    (person, address), where = chosen[0]
    return found.merged(_address_fields(person, address, where))


def _recipients_place(read: _Read) -> str:
    """Where a message's recipients are shown: the email's To/Cc header, or a forwarded message's
    To/Cc lines in the body."""
    within = read.where.removesuffix("body").rstrip(", ")
    place = f"{read.label}, To/Cc lines" if read.label else "To/Cc header"
    return f"{within}, {place}" if within else place


def _same_person(name: str, someone: Address) -> bool:
    """Whether ``someone`` (display name, address) is the person called ``name``: the same display
    name, or an address made of the name as companies make them (jane.doe@, janedoe@, jdoe@,
    doej@, jane_d@)."""
    person, address = someone
    if person and " ".join(person.lower().split()) == " ".join(name.lower().split()):
        return True
    words = [w.lower() for w in re.findall(r"[^\W\d_]+", name) if len(w) > 1]
    if len(words) < 2:
        return False
    first, last = words[0], words[-1]
    local = re.sub(r"[._+-]", "", address.split("@", 1)[0].lower())
    return (first in local and last in local) or local in {first[0] + last, last + first[0], first + last[0]}


_LEGAL_WORDS = frozenset({"inc", "corp", "corporation", "co", "ltd", "llc", "gmbh", "ag", "sa", "sarl",
                          "plc", "bv", "nv", "ab", "the", "group", "holdings", "company"})  # fmt: skip


def _company_domain(company: str, address: str) -> bool:
    """Whether the address's domain carries the company's name: its first distinctive word
    (``Globex`` of ``The Globex Corp``), or all its words run together (``wayneenterprises``)."""
    domain = company_domain(address)
    if domain is None:
        return False
    label = domain.split(".", 1)[0].replace("-", "")
    words = [w for w in re.findall(r"[^\W_]+", company.lower()) if w not in _LEGAL_WORDS]
    return bool(words) and ((len(words[0]) >= 3 and words[0] in label) or "".join(words) == label)


def _sender_order(
    reads: list[_Read],
    intro: int | None,
    sender_side: list[Address],
    recipients: list[Address],
    found: ProspectFields,
    own_domains: Collection[str],
) -> tuple[str, ...]:
    """The addresses that may identify the partner, most telling first (see the module docstring);
    never the prospect's own address or domain, nor ours."""
    ours = {registrable_domain(d) or d.lower() for d in own_domains}
    ordered: list[str] = []
    if intro is not None and reads[intro].author is not None:
        ordered.append(reads[intro].author[1])  # type: ignore[index]
    ordered += [r.author[1] for r in reversed(reads) if r.author is not None]
    ordered += [address for _person, address in sender_side]
    ordered += [address for r in reversed(reads) for _person, address in r.recipients]
    ordered += [address for _person, address in recipients]
    prospect_domain = found.domain
    result: dict[str, None] = {}  # an ordered set
    for address in ordered:
        if address in result or address == found.email:
            continue
        domain = registrable_domain(address)
        if domain in ours or (prospect_domain is not None and domain == prospect_domain):
            continue
        result[address] = None
    return tuple(result)
