"""Salesforce history and deal partners: OpportunityHistory, OpportunityFieldHistory,
OpportunityPartner and Partner, as stage_history, field_history and opportunity_partners.

A stage's entry is its earliest history row (SPEC section 7): OpportunityHistory writes a row each
time the amount, probability, close date or stage changes, so a deal's rows are ordered by
``CreatedDate`` (then ``Id``, then file order, for rows of the same instant) and each run of rows
in one stage is one entry, at the run's first row. A deal that goes back to a stage it left enters
it again: that is a second entry, as it is in the CRM.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cosell.crm import values
from cosell.crm.canonical import Translation
from cosell.crm.mapping import CrmMapping
from cosell.crm.objects import ObjectFile
from cosell.crm.stages import value_of
from cosell.instants import parse_instant
from cosell.policy import Policy

if TYPE_CHECKING:
    from cosell.crm.org import Org

_LOOKUPS = ("partner_id", "partner_contact_id")


def _instant(text: str) -> datetime | None:
    """The instant an entry is ordered by, as every reader of ISO text reads it (None: unreadable)."""
    try:
        return parse_instant(text)
    except ValueError:
        return None


def stage_history(f: ObjectFile | None, mapping: CrmMapping, policy: Policy, out: Translation) -> None:
    """Stage entries from OpportunityHistory: the first row of each run of rows in one stage."""
    del policy
    if f is None or not f.require("OpportunityId", "StageName", "CreatedDate"):
        return
    out.columns(
        "stage_history",
        f.file,
        {
            "opportunity_id": f.header("OpportunityId"),
            "stage": f.header("StageName"),
            "entered_at": f.header("CreatedDate"),
        },
    )
    deals: dict[str, list[tuple[datetime, str, int, str, str]]] = {}
    for row, r in f.numbered():
        if f.flag(r, "IsDeleted", row):
            out.skip(f.file, row, "IsDeleted is set")
            continue
        text = f.when(r, "CreatedDate", row)
        stage = value_of(mapping, "stages", f.text(r, "StageName"), f, row, "StageName", keep=True)
        if not text:
            continue  # an empty date is reported by the canonical import; a bad one is already
        at = _instant(text)
        if at is None:
            out.problem(f.file, row, f.header("CreatedDate"), text, "is not a valid date or time")
            continue
        deals.setdefault(f.ref(r, "OpportunityId"), []).append((at, f.text(r, "Id"), row, stage, text))
    for opportunity, rows in deals.items():
        rows.sort(key=lambda e: (e[0], e[1], e[2]))
        previous = None
        for _at, _id, row, stage, text in rows:
            if stage == previous:
                out.skip(f.file, row, "the deal was already in this stage (its entry is an earlier row)")
                continue
            previous = stage
            out.add(
                "stage_history",
                {"opportunity_id": opportunity, "stage": stage, "entered_at": text},
                f.file,
                row,
            )


def field_history(f: ObjectFile | None, mapping: CrmMapping, org: Org, out: Translation) -> None:
    """Changes of the five declared fields; other fields' rows are left out (counted)."""
    if f is None or not f.require("OpportunityId", "Field", "CreatedDate"):
        return
    fields = {column.lower(): name for name, column in mapping.fields.items()}
    out.columns(
        "field_history",
        f.file,
        {
            "opportunity_id": f.header("OpportunityId"),
            "field": f.header("Field"),
            "old_value": f.header("OldValue"),
            "new_value": f.header("NewValue"),
            "changed_at": f.header("CreatedDate"),
            "changed_by": f.header("CreatedById"),
        },
    )
    seen: set[tuple[str, str, str]] = set()
    for row, r in f.numbered():
        name = fields.get(f.text(r, "Field").lower())
        if name is None:
            out.skip(f.file, row, "not one of the five declared fields")
            continue
        if f.flag(r, "IsDeleted", row):
            out.skip(f.file, row, "IsDeleted is set")
            continue
        # A lookup's change is written twice: its ids (DataType EntityId) and its names (Text).
        if name in _LOOKUPS and f.has("DataType") and f.text(r, "DataType") not in ("EntityId", "Lookup"):
            out.skip(f.file, row, "the names row of a lookup change (its ids row is read)")
            continue
        old, new = f.text(r, "OldValue"), f.text(r, "NewValue")
        if name in _LOOKUPS and mapping.ids == "18":
            old, new = values.id18(old), values.id18(new)
        if name == "partner_source":
            old = value_of(mapping, "tiers", old, f, row, "OldValue")
            new = value_of(mapping, "tiers", new, f, row, "NewValue")
        opportunity, at = f.ref(r, "OpportunityId"), f.when(r, "CreatedDate", row)
        if (opportunity, name, at) in seen:
            out.skip(f.file, row, "a second row for the same change")
            continue
        seen.add((opportunity, name, at))
        by = f.ref(r, "CreatedById")
        org.use_user(by, f.file, row, f.header("CreatedById"))
        out.add(
            "field_history",
            {
                "opportunity_id": opportunity,
                "field": name,
                "old_value": old,
                "new_value": new,
                "changed_at": at,
                "changed_by": by,
            },
            f.file,
            row,
        )


def opportunity_partners(
    partners: ObjectFile | None, links: ObjectFile | None, mapping: CrmMapping, org: Org, out: Translation
) -> None:
    """OpportunityPartner rows, then Partner rows (its writable parent) not already read."""
    seen: set[tuple[str, str, str]] = set()
    for f in (partners, links):
        if f is None or not f.require("OpportunityId", "AccountToId"):
            continue
        out.columns(
            "opportunity_partners",
            f.file,
            {
                "opportunity_id": f.header("OpportunityId"),
                "partner_id": f.header("AccountToId"),
                "role": f.header("Role"),
                "added_at": f.header("CreatedDate"),
                "is_primary": f.header("IsPrimary"),
            },
        )
        for row, r in f.numbered():
            opportunity, partner = f.ref(r, "OpportunityId"), f.ref(r, "AccountToId")
            if not opportunity:
                out.skip(f.file, row, "an account-to-account relationship (no OpportunityId)")
                continue
            if f.flag(r, "IsDeleted", row):
                out.skip(f.file, row, "IsDeleted is set")
                continue
            role = value_of(mapping, "partner_roles", f.text(r, "Role"), f, row, "Role")
            if (opportunity, partner, role) in seen:
                out.skip(f.file, row, "the same deal, partner and role as an earlier row")
                continue
            seen.add((opportunity, partner, role))
            org.name_partner(partner, f.file, row, f.header("AccountToId"))
            primary = f.flag(r, "IsPrimary", row)
            out.add(
                "opportunity_partners",
                {
                    "opportunity_id": opportunity,
                    "partner_id": partner,
                    "role": role,
                    "added_at": f.when(r, "CreatedDate", row),
                    "is_primary": "" if primary is None else str(primary).lower(),
                },
                f.file,
                row,
            )
