"""HubSpot activities and associations as touches and opportunity_partners.

``associations.csv`` has ``from_object_type, from_object_id, to_object_type, to_object_id`` and
an optional ``association_label`` (a record's association columns, ``Associated Deal IDs`` and
the like, are read too). A deal-to-company association whose label is in ``[partner_roles]``
(``Reseller``, ``Referral partner``) is a partner on the deal with that role; an unlabelled one is
the deal's customer when the deal names none.

An activity (``engagements.csv``, or one file per type: ``calls``, ``meetings``, ``emails``,
``notes``, ``tasks``) is a touch at its ``hs_timestamp`` on its customer company, else its deal's
company, else its contact's company; a partner touch when it names a partner (the
mapping's ``partner_column``, a contact of a partner company, a partner company). Its kind is its
type (``CALL``, ``MEETING``, ...; or the mapping's ``kind_column``) through ``[activities.kinds]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cosell.crm.canonical import Translation
from cosell.crm.mapping import CrmMapping
from cosell.crm.objects import ObjectFile
from cosell.policy import Policy

if TYPE_CHECKING:
    from cosell.crm.org import Org

ACTIVITY_FILES = ("engagements", "calls", "meetings", "emails", "notes", "tasks")
_TYPES = {
    "deal": "deal",
    "deals": "deal",
    "company": "company",
    "companies": "company",
    "contact": "contact",
    "contacts": "contact",
}
_SUBJECTS = ("hs_call_title", "hs_meeting_title", "hs_email_subject", "hs_task_subject", "hs_note_body")
LABELS: dict[str, tuple[str, ...]] = {
    "hs_object_id": ("Record ID", "Activity ID", "engagement_id"),
    "hs_timestamp": ("Activity date", "Timestamp"),
    "hs_createdate": ("Create date", "Created at"),
    "hubspot_owner_id": ("Activity assigned to", "Assigned to"),
    "hs_call_title": ("Call Title",),
    "hs_meeting_title": ("Meeting name",),
    "hs_email_subject": ("Email subject",),
    "hs_task_subject": ("Task Title",),
    "hs_note_body": ("Note body",),
    "deal": ("Associated Deal IDs", "Associated Deal", "associated_deal_ids"),
    "company": ("Associated Company IDs", "Associated Company", "associated_company_ids"),
    "contact": ("Associated Contact IDs", "Associated Contact", "associated_contact_ids"),
}


def first_id(value: str) -> str:
    """The first id of a HubSpot association cell (``123;456`` lists several)."""
    return value.split(";", 1)[0].strip()


def association_ids(value: str) -> list[str]:
    """The ids of a HubSpot association cell, in the cell's order (``123;456`` lists several).

    >>> association_ids(" 123; 456 ;")
    ['123', '456']
    """
    return [ident.strip() for ident in value.split(";") if ident.strip()]


def customer_first(ids: list[str], partners: set[str] | frozenset[str]) -> str:
    """The first of ``ids`` that is no partner, else the first (a record associated with its
    customer and its partner lists both, in no set order); "" for none.

    >>> customer_first(["9", "5"], {"9"}), customer_first(["9"], {"9"}), customer_first([], set())
    ('5', '9', '')
    """
    return next((i for i in ids if i not in partners), ids[0] if ids else "")


def _kind_type(name: str) -> str:
    low = name.strip().lower()
    return _TYPES.get(low, "engagement")


@dataclass
class Associations:
    """Associations both ways: (type, id) -> [(type, id, label, file, row)]."""

    links: dict[tuple[str, str], list[tuple[str, str, str, str, int]]] = field(default_factory=dict)
    details: dict[tuple[str, int], tuple[str, str]] = field(
        default_factory=dict
    )  # (file, row) -> (created, primary)

    def add(self, a: tuple[str, str], b: tuple[str, str], label: str, file: str, row: int) -> None:
        self.links.setdefault(a, []).append((*b, label, file, row))
        self.links.setdefault(b, []).append((*a, label, file, row))

    def first(self, record: tuple[str, str], kind: str, label: str = "") -> str:
        """The first associated id of ``kind`` (with ``label``; "" for an unlabelled one)."""
        for other, ident, lab, _file, _row in self.links.get(record, ()):
            if other == kind and lab == label:
                return ident
        return ""


def read_associations(f: ObjectFile | None) -> Associations:
    found = Associations()
    if f is None or not f.require("from_object_type", "from_object_id", "to_object_type", "to_object_id"):
        return found
    for row, r in f.numbered():
        a = (_kind_type(f.text(r, "from_object_type")), f.text(r, "from_object_id"))
        b = (_kind_type(f.text(r, "to_object_type")), f.text(r, "to_object_id"))
        found.add(a, b, f.text(r, "association_label"), f.file, row)
        primary = f.flag(r, "is_primary", row)
        found.details[(f.file, row)] = (
            f.when(r, "created_at", row),
            "" if primary is None else str(primary).lower(),
        )
    return found


def deal_partners(associations: Associations, mapping: CrmMapping, org: Org, out: Translation) -> None:
    """Labelled deal-to-company associations as partners on deals, in file order."""
    rows = sorted(
        {
            (file, row, deal, company, label)
            for (kind, deal), links in associations.links.items()
            if kind == "deal"
            for other, company, label, file, row in links
            if other == "company" and label
        },
        key=lambda e: (e[0], e[1]),
    )
    for file, row, deal, company, label in rows:
        roles = mapping.value_map("partner_roles")
        role = roles.get(label) or (
            label.lower()
            if label.lower() in ("sourcer", "co_seller", "influencer", "reseller", "servicer")
            else ""
        )
        if not role:
            out.problem(file, row, "association_label", label, "is not in [partner_roles] of the mapping")
            continue
        out.columns(
            "opportunity_partners",
            file,
            {
                "opportunity_id": "from_object_id",
                "partner_id": "to_object_id",
                "role": "association_label",
                "added_at": "created_at",
                "is_primary": "is_primary",
            },
        )
        org.name_partner(company, file, row, "to_object_id")
        added, primary = associations.details.get((file, row), ("", ""))
        values = {
            "opportunity_id": deal,
            "partner_id": company,
            "role": role,
            "added_at": added,
            "is_primary": primary,
        }
        out.add("opportunity_partners", values, file, row)


def touches(
    f: ObjectFile,
    mapping: CrmMapping,
    policy: Policy,
    org: Org,
    owners: Mapping[str, str],
    associations: Associations,
    out: Translation,
) -> None:
    """One activity file's rows as touches."""
    if not f.require("hs_object_id"):
        return
    default_kind = "" if f.obj == "engagements" else f.obj.removesuffix("s").upper()
    kind_column = mapping.kind_column or next(
        (c for c in ("hs_engagement_type", "hs_activity_type", "Activity type", "type") if f.has(c)), None
    )
    partners = org.partners
    out.columns(
        "touches",
        f.file,
        {
            "touch_id": f.header("hs_object_id"),
            "occurred_at": f.header("hs_timestamp"),
            "account_id": f.header("company") or f.header("deal"),
            "kind": f.header(kind_column) if kind_column else None,
            "opportunity_id": f.header("deal"),
            "partner_contact_id": f.header("contact"),
            "user_id": f.header("hubspot_owner_id"),
        },
    )
    for row, r in f.numbered():
        touch = f.text(r, "hs_object_id")
        record = ("engagement", touch)
        deal = first_id(f.text(r, "deal")) or associations.first(record, "deal")
        companies = association_ids(f.text(r, "company")) or [associations.first(record, "company")]
        company = customer_first(companies, partners)
        contact = first_id(f.text(r, "contact")) or associations.first(record, "contact")
        candidates = [company, org.opportunity_account.get(deal, ""), org.contacts.get(contact, "")]
        customer = next((a for a in candidates if a in org.accounts and a not in partners), "")
        if not customer:
            out.skip(f.file, row, "no customer company (no deal, company or contact of the export)")
            continue
        partner = f.text(r, mapping.partner_column) if mapping.partner_column else ""
        partner = partner or next((c for c in companies if c in partners), "")
        # A contact of a partner names the partner; the touch keeps only the contact, as the
        # canonical rule derives its partner from it (SPEC section 1).
        partner_contact = contact if org.contacts.get(contact, "") in partners else ""
        value = f.text(r, kind_column) if kind_column else default_kind
        kind = mapping.kinds.get(value)
        if kind is None:
            kind = value.lower() if value.lower() in policy.known_kinds else ""
        if not kind:
            out.problem(
                f.file,
                row,
                f.header(kind_column) if kind_column else None,
                value,
                "is not in [activities.kinds] of the mapping: map it to a touch kind",
            )
        owner = f.text(r, "hubspot_owner_id")
        owner = owners.get(owner, owners.get(owner.lower(), owner))
        org.use_user(owner, f.file, row, f.header("hubspot_owner_id"))
        org.customers.add(customer)
        notes = next((f.text(r, c) for c in _SUBJECTS if f.text(r, c)), "")
        out.add(
            "touches",
            {
                "touch_id": touch,
                "occurred_at": f.when(r, "hs_timestamp", row) or f.when(r, "hs_createdate", row),
                "account_id": customer,
                "actor": "partner" if partner or partner_contact else "direct",
                "kind": kind,
                "opportunity_id": deal if deal in org.opportunity_account else "",
                "partner_id": partner,
                "partner_contact_id": partner_contact,
                "user_id": owner,
                "notes": notes,
            },
            f.file,
            row,
        )
