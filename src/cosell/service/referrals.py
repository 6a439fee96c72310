"""Use cases of referral intake (SPEC section 7): submit (any channel's parse, or JSON), list, show,
answer what is missing, accept (a partner lead), reject (``cosell referrals ...``).

Each write is one transaction, owned here, and a new version of the referral with who, when and
why (:mod:`cosell.store.referrals`); nothing is updated in place. Accepting writes the partner lead
as a versioned ``leads`` row the way every change of a canonical row is written outside a CRM
import (an import of that one row, logged with who and why, like ``cosell users set``), with the
intake an import sets off (auto-tags, prompts) and the referral's new version inside the same
transaction: all of it, or none. See docs/referrals.md.
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from cosell import clock
from cosell.accounts.domains import registrable_domain
from cosell.data.load import import_canonical
from cosell.engine import Engine
from cosell.errors import CosellError, NotAllowed, NotFound, UsageError, did_you_mean
from cosell.hygiene.intake import run_intake
from cosell.instants import format_instant, utc
from cosell.policy import Policy
from cosell.reasons import given_or_ran
from cosell.referrals.assess import ANSWER_OPTION, follow_up_message, missing_fields, status_of
from cosell.referrals.conflicts import Conflict
from cosell.referrals.identify import (
    AccountRow,
    ContactRow,
    PartnerRow,
    identify_partner,
    match_account,
    own_domains,
    without_inside_prospect,
)
from cosell.referrals.json_input import EMAIL, parse_json_referral
from cosell.referrals.others import OtherPartners
from cosell.referrals.parsed import FieldSource, ParsedReferral
from cosell.service.channel import (
    DECIDER_ROLES,
    SUBMIT_ROLES,
    account_conflicts,
    check_override,
    conflicts_from_json,
    conflicts_json,
    other_partners,
    partner_scope,
    seen_by,
)
from cosell.store import referral_reads as reads
from cosell.store.referrals import (
    REFERRAL_PREFIX,
    REFERRAL_STATUSES,
    ReferralVersion,
    current_referrals,
    ensure_referral_schema,
    insert_referral,
    next_id,
    referral_by_source,
    referral_ids,
    referral_versions,
)
from cosell.store.review import check_not_backdated
from cosell.store.users import User, check_role, partner_scope_of
from cosell.store.workspace import Workspace

__all__ = ["Referral", "Submitted", "accept", "answer", "referral", "referrals", "reject", "submit_json",
           "submit_parsed"]  # fmt: skip


@dataclass(frozen=True)
class Referral:
    """A referral as it stands (its newest version), its conflicts and field sources, and every
    version before (``history``, oldest first)."""

    current: ReferralVersion
    conflicts: tuple[Conflict, ...]
    sources: tuple[FieldSource, ...]
    history: tuple[ReferralVersion, ...]

    def to_json(self) -> dict[str, Any]:
        """The keys of ``cosell referrals show --format json`` (docs/referrals.md)."""
        v = self.current
        return {
            "referral_id": v.referral_id, "status": v.status, "version": v.version,
            "channel": v.channel, "source_ref": v.source_ref,
            "received_at": format_instant(v.received_at), "received_at_given": v.received_at_given,
            "sender_emails": list(v.sender_emails), "sender_name": v.sender_name,
            "partner_id": v.partner_id, "partner_contact_id": v.partner_contact_id,
            "partner_method": v.partner_method, "partner_evidence": v.partner_evidence,
            "prospect": {"company": v.prospect_company, "name": v.prospect_name, "email": v.prospect_email,
                         "title": v.prospect_title, "domain": v.prospect_domain},
            "account_id": v.account_id, "account_method": v.account_method,
            "account_evidence": v.account_evidence, "missing": list(v.missing), "follow_up": v.follow_up,
            "conflicts": [c.to_json() for c in self.conflicts], "override_reason": v.override_reason,
            "lead_id": v.lead_id, "notes": v.notes,
            "sources": [{"field": s.field, "where": s.where, "text": s.text} for s in self.sources],
            "history": [{"version": h.version, "action": h.action, "status": h.status, "by": h.by_user,
                         "at": format_instant(h.recorded_at), "reason": h.reason} for h in self.history],
        }  # fmt: skip


@dataclass(frozen=True)
class Submitted:
    """A submission's referral, and whether it is new (False: the same message was submitted before)."""

    referral: Referral
    created: bool


def _view(
    con: Any, referral_id: str, scope: str | None = None, others: OtherPartners | None = None
) -> Referral:
    """The referral with every version. To a partner user (``scope``: its partner) another
    partner's referral is one that does not exist (a did-you-mean names only its own), and the
    conflicts and reasons are as that user may read them (SPEC section 9; ``others``, when read
    already for a list: :func:`cosell.service.channel.other_partners` of ``scope``)."""
    versions = referral_versions(con, referral_id)
    if not versions or scope not in (None, versions[-1].partner_id):
        if scope is None:
            known = referral_ids(con)
        else:
            known = [v.referral_id for v in current_referrals(con) if v.partner_id == scope]
        raise NotFound(f"no referral {referral_id}" + did_you_mean(referral_id, known))
    v = versions[-1]
    sources = tuple(FieldSource(**s) for s in json.loads(v.sources_json))
    found = Referral(v, conflicts_from_json(v.conflicts_json), sources, tuple(versions))
    return _seen(found, others if others is not None else other_partners(con, scope))


def _sources_json(sources: tuple[FieldSource, ...]) -> str:
    return json.dumps([{"field": s.field, "where": s.where, "text": s.text} for s in sources], sort_keys=True)


def _append(con: Engine, v: ReferralVersion) -> None:
    """Append the version ``v``, refused when something was already recorded after its instant
    (a pinned clock): a referral's history must not hold a rejection dated before its submission."""
    check_not_backdated(con, v.recorded_at, f"{v.referral_id} {v.action}")
    insert_referral(con, v)


def _require(by_user: str | None) -> str:
    if not by_user or not by_user.strip():
        raise UsageError("say who: --by USER (or $COSELL_USER)")
    return by_user.strip()


def _check_partner_user(user: User | None, partner_id: str, what: str) -> None:
    """A partner user acts only on its own partner's referrals (SPEC section 9). The refusal does
    not name the other partner: it may have been found from the message, not typed by the user."""
    if user is not None and partner_id and partner_scope_of(user) not in (None, partner_id):
        raise NotAllowed(
            f"{user.user_id} works for partner {user.partner_id}: it may not {what} of another partner"
        )


def _assessed(ws: Workspace, policy: Policy, v: ReferralVersion) -> ReferralVersion:
    """``v`` with its account, conflicts, missing fields, status and follow-up message worked out
    from its partner and prospect fields and the workspace's rows now."""
    con = ws.con
    match = match_account(v.prospect_domain, v.prospect_email, v.prospect_company,
                          [AccountRow(*r) for r in reads.account_rows(con)])  # fmt: skip
    v = replace(
        v, account_id=match.account_id, account_method=match.method, account_evidence=match.explanation
    )
    conflicts = (
        account_conflicts(con, policy, v.account_id, v.partner_id, v.received_at) if v.account_id else ()
    )
    missing = missing_fields(v.partner_id, v.prospect_company, v.prospect_name, v.prospect_email)
    contact = {c[0]: c for c in reads.contact_rows(con)}.get(v.partner_contact_id)
    to_name, to_address = (contact[2], contact[3]) if contact and contact[3] else (v.sender_name, "")
    if not to_address:
        own = own_domains(reads.own_user_emails(con))
        outside = [e for e in v.sender_emails if e.rsplit("@", 1)[-1] not in own]
        to_address = (outside or list(v.sender_emails) or [""])[0]
    message = follow_up_message(v.referral_id, missing, to_name, to_address, v.prospect_company)
    return replace(v, missing=missing, conflicts_json=conflicts_json(conflicts),
                   status=status_of(missing, conflicts), follow_up=message)  # fmt: skip


# The channels whose referrals are messages dated by their sender (the rest state received_at).
MESSAGE_CHANNELS = frozenset({"email", "slack"})


def submit_parsed(
    ws: Workspace, parsed: ParsedReferral, by: str | None, reason: str = "", *, policy: Policy | None = None
) -> Submitted:
    """Store a referral read from any channel, in one transaction: identify the partner, match the
    prospect's account, check for channel conflicts, and set its status (needs_info with a follow-up
    message listing what is missing, conflict, or open). The same channel and source_ref submitted
    again returns the referral already stored (``created`` False) and records nothing."""
    who = _require(by)
    policy = policy or Policy()
    if not parsed.source_ref.strip():
        raise UsageError(
            "a referral needs its source reference (source_ref): it makes a re-submission idempotent"
        )
    try:
        received = None if parsed.received_at is None else utc(parsed.received_at)
    except ValueError as exc:
        raise UsageError(f"{parsed.source_ref}: received_at: {exc}") from None
    if received is not None and received > clock.now() and parsed.channel in MESSAGE_CHANNELS:
        # A message's own date is written by the sender's clock, which may run ahead of ours: read
        # as a date that is not there (received when recorded, never earlier), not a refusal that
        # would lose the referral.
        received = None
    if received is not None and received > clock.now():
        # First in, first win: a referral received after it was recorded would be checked for
        # channel conflicts at an instant no one has seen yet (a direct touch of today falls out
        # of a lookback that ends next year) and its lead would be created in the future.
        raise UsageError(
            f"{parsed.channel} referral {parsed.source_ref}: received_at {format_instant(received)} is after now "
            f"({format_instant(clock.now())}): a referral is received before it is recorded"
        )
    con = ws.con
    ensure_referral_schema(con)
    with ws.transaction():
        user = check_role(con, who, SUBMIT_ROLES, "submit referrals")
        scope = partner_scope_of(user)
        existing = referral_by_source(con, parsed.channel, parsed.source_ref)
        if existing is not None:
            found = _view(con, existing)
            if scope not in (None, found.current.partner_id):
                raise NotAllowed(
                    f"{who} works for partner {scope}: {parsed.channel} message {parsed.source_ref} "
                    "was submitted before, and not as its partner's referral"
                )
            return Submitted(_seen(found, other_partners(con, scope)), created=False)
        if scope is not None and received is not None:
            # First in, first win: a partner dating its own referral back (before a deal the direct
            # team opened, before another partner's registration) would come first. A message's
            # date is the partner's to write too: it is dated when it was submitted.
            if parsed.channel in MESSAGE_CHANNELS:
                received = None
            elif received != clock.now():
                raise NotAllowed(
                    f"{who} is a partner user: its referral is received now "
                    f"({format_instant(clock.now())}), not at received_at {format_instant(received)}"
                )
        partners = [PartnerRow(*r) for r in reads.partner_rows(con)]
        contacts = [ContactRow(*r) for r in reads.contact_rows(con)]
        own = own_domains(reads.own_user_emails(con))
        match = identify_partner(parsed.sender_emails, contacts, partners, own)
        partner, contact, method, evidence = (
            match.partner_id,
            match.contact_id,
            match.method,
            match.explanation,
        )
        if user is not None and partner_scope_of(user) is not None and method == "none":
            partner, method, evidence = user.partner_id, "submitted_by", f"submitted by partner user {who}"
        _check_partner_user(user, partner, "submit referrals")
        theirs = {registrable_domain(p.domain) for p in partners if p.partner_id == partner}
        parsed = without_inside_prospect(parsed, own | {d for d in theirs if d})
        now = clock.now()
        v = ReferralVersion(
            referral_id=next_id(con, "referrals", "referral_id", REFERRAL_PREFIX), version=1,
            action="submitted", recorded_at=now, by_user=who, reason=" ".join(reason.split()),
            channel=parsed.channel, source_ref=parsed.source_ref,
            received_at=received or now, received_at_given=received is not None,
            sender_emails=parsed.sender_emails, sender_name=parsed.sender_name or "",
            partner_hint=parsed.partner_hint or "", partner_id=partner, partner_contact_id=contact,
            partner_method=method, partner_evidence=evidence,
            prospect_company=parsed.prospect_company or "", prospect_name=parsed.prospect_name or "",
            prospect_email=(parsed.prospect_email or "").lower(), prospect_title=parsed.prospect_title or "",
            prospect_domain=parsed.prospect_domain or "", account_id="", account_method="",
            account_evidence="", status="", missing=(), follow_up="", conflicts_json="[]",
            override_reason="", lead_id="", notes=parsed.notes, sources_json=_sources_json(parsed.sources),
        )  # fmt: skip
        v = _assessed(ws, policy, v)
        _append(con, v)
        return Submitted(_view(con, v.referral_id, scope), created=True)


def submit_json(
    ws: Workspace, data: bytes, name: str, by: str | None, reason: str = "", *, policy: Policy | None = None
) -> Submitted:
    """Validate a JSON referral (:mod:`cosell.referrals.json_input`; errors name the field) and
    submit it (:func:`submit_parsed`) with ``reason``, else ``cosell referrals submit NAME``."""
    why = given_or_ran(reason, f"cosell referrals submit {name}")
    return submit_parsed(ws, parse_json_referral(data, name), by, why, policy=policy)


def referrals(ws: Workspace, status: str | None = None, *, viewer: str | None = None) -> list[Referral]:
    """Every referral as it stands, by id; of one status when given. A partner user (``viewer``)
    sees only its own partner's, and no other partner's name in their conflicts."""
    if status is not None and status not in REFERRAL_STATUSES:
        raise UsageError(f"--status must be one of {', '.join(REFERRAL_STATUSES)}, not {status!r}")
    ensure_referral_schema(ws.con)
    scope = partner_scope(ws.con, viewer)
    others = other_partners(ws.con, scope)
    return [
        _view(ws.con, v.referral_id, scope, others)
        for v in current_referrals(ws.con, status)
        if scope in (None, v.partner_id)
    ]


def referral(ws: Workspace, referral_id: str, *, viewer: str | None = None) -> Referral:
    """One referral with its history and which part of the message gave which field. Another
    partner's referral is, to a partner user (``viewer``), one that does not exist."""
    ensure_referral_schema(ws.con)
    return _view(ws.con, referral_id, partner_scope(ws.con, viewer))


def _seen(r: Referral, others: OtherPartners | None) -> Referral:
    """The referral as a partner user (``others``: what it may not read; None: a reader who sees
    all) may read it: its conflicts without another partner's registration, and the reasons of its
    versions (written by partner_ops or an admin too: why it was rejected, why a conflict was
    overridden) without another partner's name or ids."""
    if others is None:
        return r

    def hidden(v: ReferralVersion) -> ReferralVersion:
        return replace(v, reason=others.hide(v.reason), override_reason=others.hide(v.override_reason))

    return replace(
        r,
        current=hidden(r.current),
        conflicts=seen_by(others.partner_id, r.conflicts),
        history=tuple(hidden(h) for h in r.history),
    )


def _open_for_change(ws: Workspace, referral_id: str, what: str, scope: str | None = None) -> ReferralVersion:
    v = _view(ws.con, referral_id, scope).current
    if v.status in ("accepted", "rejected"):
        done = f" as lead {v.lead_id}" if v.lead_id else ""
        raise CosellError(
            f"{referral_id} was {v.status}{done} by {v.by_user} at {format_instant(v.recorded_at)}: it cannot be {what}"
        )
    return v


def answer(
    ws: Workspace,
    referral_id: str,
    *,
    by: str | None,
    reason: str = "",
    company: str | None = None,
    name: str | None = None,
    email: str | None = None,
    title: str | None = None,
    partner_id: str | None = None,
    policy: Policy | None = None,
) -> Referral:
    """Fill (or correct) fields of a referral not yet decided: a new version, with the account,
    conflicts and status worked out again (complete: open or conflict), recorded with ``reason``,
    else ``cosell referrals answer REFERRAL_ID``."""
    who = _require(by)
    policy = policy or Policy()
    offered = {"prospect_company": company, "prospect_name": name, "prospect_email": email,
               "prospect_title": title}  # fmt: skip
    fields = {k: " ".join(v.split()) for k, v in offered.items() if v is not None and v.strip()}
    partner = " ".join((partner_id or "").split())
    if not fields and not partner:
        raise UsageError("give what is missing: " + ", ".join(ANSWER_OPTION.values()))
    if "prospect_email" in fields:
        address = fields["prospect_email"] = fields["prospect_email"].lower()
        if not EMAIL.fullmatch(address):
            raise UsageError(f"--email {address!r} is not an email address")
    con = ws.con
    ensure_referral_schema(con)
    with ws.transaction():
        user = check_role(con, who, SUBMIT_ROLES, "answer referrals")
        v = _open_for_change(ws, referral_id, "answered", partner_scope_of(user))
        now = clock.now()
        where = f"answered by {who} at {format_instant(now)}"
        sources = list(json.loads(v.sources_json))
        sources += [{"field": key, "where": where, "text": value} for key, value in fields.items()]
        new = replace(v, version=v.version + 1, action="answered", recorded_at=now, by_user=who,
                      reason=" ".join(given_or_ran(reason, f"cosell referrals answer {referral_id}").split()),
                      sources_json=json.dumps(sources, sort_keys=True),
                      prospect_company=fields.get("prospect_company", v.prospect_company),
                      prospect_name=fields.get("prospect_name", v.prospect_name),
                      prospect_email=fields.get("prospect_email", v.prospect_email),
                      prospect_title=fields.get("prospect_title", v.prospect_title))  # fmt: skip
        if partner:
            _check_partner_user(user, partner, "answer referrals")
            if not reads.partner_exists(con, partner):
                raise NotFound(f"no partner {partner}")
            new = replace(new, partner_id=partner, partner_contact_id="", partner_method="answered",
                          partner_evidence=f"partner {partner} {where}")  # fmt: skip
        if "prospect_email" in fields:
            _check_outside(con, new.partner_id, fields["prospect_email"])
        new = _assessed(ws, policy, new)
        _append(con, new)
        return _view(con, referral_id, partner_scope_of(user))


def _check_outside(con: Engine, partner_id: str, address: str) -> None:
    """Refuse an answered prospect email on our own domain or the referring partner's: the person a
    partner introduces works neither for us nor for that partner (what a parser read there is
    dropped, :func:`~cosell.referrals.identify.without_inside_prospect`; a person typing it is told)."""
    domain = registrable_domain(address)
    if domain in own_domains(reads.own_user_emails(con)):
        whose = "our own domain"
    elif domain and any(
        p.partner_id == partner_id and registrable_domain(p.domain) == domain
        for p in (PartnerRow(*r) for r in reads.partner_rows(con))
    ):
        whose = f"partner {partner_id}'s own domain"
    else:
        return
    raise UsageError(
        f"--email {address!r} is on {whose} {domain}: the person a partner introduces works neither "
        "for us nor for that partner"
    )


def accept(
    ws: Workspace,
    policy: Policy,
    referral_id: str,
    *,
    by: str | None,
    reason: str = "",
    override_conflict: bool = False,
) -> Referral:
    """Accept a complete referral as a partner lead (lead_id = the referral id, source
    partner_referral, the partner and contact, created_at = received_at), in one transaction with
    the referral's new version and the intake an import sets off. A channel conflict (checked again
    now) is accepted only with ``override_conflict`` and a reason, both recorded."""
    who = _require(by)
    con = ws.con
    ensure_referral_schema(con)
    check_role(con, who, DECIDER_ROLES, "accept referrals")
    v = _open_for_change(ws, referral_id, "accepted")
    if v.status == "needs_info":
        options = " ".join(f"{ANSWER_OPTION[f]} ..." for f in v.missing)
        raise CosellError(
            f"{referral_id} needs info first ({', '.join(v.missing)}): cosell referrals answer {referral_id} {options}"
        )
    # The account and the conflicts as the workspace stands now (an account or a deal may have
    # been imported since the referral was submitted), at the referral's own instant.
    v = _assessed(ws, policy, v)
    conflicts = conflicts_from_json(v.conflicts_json)
    check_override(referral_id, "accept", conflicts, override_conflict, reason, "the lead")
    if reads.lead_exists(con, referral_id):
        raise CosellError(f"a lead {referral_id} already exists: the referral cannot become it")
    why = " ".join(reason.split()) or "accepted"
    lead = {"lead_id": referral_id, "created_at": format_instant(v.received_at), "company": v.prospect_company,
            "email": v.prospect_email, "account_id": v.account_id, "source": "partner_referral",
            "partner_id": v.partner_id, "partner_contact_id": v.partner_contact_id}  # fmt: skip

    def within(at: datetime) -> None:
        run_intake(ws, policy, at)
        _append(con, replace(
            v, version=v.version + 1, action="accepted", recorded_at=at, by_user=who, reason=why,
            status="accepted", lead_id=referral_id, conflicts_json=conflicts_json(conflicts),
            override_reason=why if override_conflict else "", follow_up="",
        ))  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="cosell-referral-") as folder:
        with (Path(folder) / "leads.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")  # canonical input read back by the import
            writer.writerow(list(lead))
            writer.writerow(list(lead.values()))
        import_canonical(ws, folder, policy=policy, by_user=who, partial=True, within=within,
                         source=f"cosell referrals accept {referral_id}", reason=why)  # fmt: skip
    return _view(con, referral_id)


def reject(ws: Workspace, referral_id: str, *, by: str | None, reason: str) -> Referral:
    """Reject a referral not yet decided, with the reason (recorded); it never becomes a lead."""
    who = _require(by)
    if not reason.strip():
        raise UsageError("say why: --reason TEXT (recorded with the rejection)")
    con = ws.con
    ensure_referral_schema(con)
    with ws.transaction():
        check_role(con, who, DECIDER_ROLES, "reject referrals")
        v = _open_for_change(ws, referral_id, "rejected")
        _append(con, replace(v, version=v.version + 1, action="rejected", recorded_at=clock.now(),
                                     by_user=who, reason=" ".join(reason.split()), status="rejected",
                                     follow_up=""))  # fmt: skip
        return _view(con, referral_id)
