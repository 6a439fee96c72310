"""HubSpot exports (property names or the UI's labels) as cosell's canonical tables.

Files (``<object>.csv`` unless the mapping gives a path; docs/crm-import.md has every column):

- ``companies`` -> accounts and partners: a company is a partner when its ``type`` (or the
  mapping's ``[partners] type_column``) is a key of ``[partners.types]``, when the mapping's
  ``flag_column`` is set, or when a deal names it as its partner.
- ``deals`` -> opportunities; ``hs_v2_date_entered_<stage id>`` (else the legacy
  ``hs_date_entered_<stage id>``, or the label ``Date entered "<stage> (<pipeline>)"``) ->
  stage_history. ``closedate`` is HubSpot's to overwrite when a deal closes, so it is only the
  deal's close date: its cycle time comes from the date it entered its closed stage.
- ``pipelines`` (``pipeline_id, pipeline_label, stage_id, stage_label, is_closed, probability``):
  stage ids become their labels (the names the policy and the reports use).
- ``contacts`` -> partner_contacts (contacts of partner companies); ``owners`` -> users.
- activities (``engagements``, or ``calls``, ``meetings``, ``emails``, ``notes``, ``tasks``) and
  ``associations`` -> touches and opportunity_partners (:mod:`cosell.crm.hubspot_activity`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from cosell.crm import hubspot_activity
from cosell.crm.canonical import BESIDE, Translation
from cosell.crm.mapping import CrmMapping
from cosell.crm.objects import ObjectFile, missing_objects, open_object
from cosell.crm.org import Org, domain_of, emit_accounts, stub_users
from cosell.crm.sources import Export, beside_tables
from cosell.crm.stages import check_stages, value_of
from cosell.policy import Policy

LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "deals": {
        "hs_object_id": ("Record ID", "Deal ID"),
        "dealname": ("Deal Name",),
        "dealstage": ("Deal Stage",),
        "pipeline": ("Pipeline",),
        "deal_currency_code": ("Currency",),
        "closedate": ("Close Date",),
        "createdate": ("Create Date",),
        "hubspot_owner_id": ("Deal owner", "Deal Owner"),
        "dealtype": ("Deal Type",),
        "hs_is_closed": ("Is Closed", "Is closed"),
        "hs_is_closed_won": ("Is Closed Won", "Is closed won"),
        "company": (
            "associatedcompanyid",
            "Associated Company IDs (Primary)",
            "Associated Company IDs",
            "Associated Company ID",
        ),
    },
    "companies": {
        "hs_object_id": ("Record ID", "Company ID"),
        "name": ("Company name", "Name"),
        "domain": ("Company Domain Name", "Website URL"),
        "industry": ("Industry",),
        "country": ("Country/Region", "Country"),
        "hubspot_owner_id": ("Company owner",),
        "type": ("Type",),
    },
    "contacts": {
        "hs_object_id": ("Record ID", "Contact ID"),
        "firstname": ("First Name",),
        "lastname": ("Last Name",),
        "email": ("Email",),
        "company": ("associatedcompanyid", "Associated Company IDs (Primary)", "Associated Company IDs"),
    },
    "owners": {"id": ("Owner ID", "ownerId"), "firstName": ("First Name",), "lastName": ("Last Name",)},
}
LABELS.update({name: hubspot_activity.LABELS for name in hubspot_activity.ACTIVITY_FILES})
# A HubSpot deal export has no leads and no property history: they may travel as canonical CSV.
HUBSPOT_BESIDE = ("leads", "field_history", "fx_rates")
_ENTERED = (
    re.compile(r"^hs_v2_date_entered_(.+)$"),
    re.compile(r"^hs_date_entered_(.+)$"),
    re.compile(r'^Date entered "(.+?)(?: \((.+)\))?"$'),
)


@dataclass
class Portal:
    """The portal's pipelines: stage id -> label, and the owners by id, email and name."""

    stage_labels: dict[str, str] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)


def translate(export: Export, mapping: CrmMapping, policy: Policy) -> Translation:
    """Translate a HubSpot export into canonical rows (problems and skips recorded in it)."""
    out = Translation()
    org = Org()
    portal = Portal()

    def obj(name: str) -> ObjectFile | None:
        return open_object(export, name, mapping, LABELS.get(name, {}), out)

    deals, companies = obj("deals"), obj("companies")
    if missing_objects(export, out, (("deals", deals), ("companies", companies))):
        return out
    pipelines = obj("pipelines")
    if pipelines is not None:
        _pipelines(pipelines, portal)
    owners = obj("owners")
    if owners is not None:
        _owners(owners, mapping, org, portal, out)
    if companies is not None:
        _companies(companies, mapping, org, out)
    contacts = obj("contacts")
    if contacts is not None:
        for _row, r in contacts.numbered():
            company = hubspot_activity.first_id(contacts.text(r, "company"))
            if company:
                org.contacts[contacts.text(r, "hs_object_id")] = company
    associations = hubspot_activity.read_associations(obj("associations"))
    if deals is not None:
        _deals(deals, mapping, org, portal, out, associations, _source_leads(export))
    hubspot_activity.deal_partners(associations, mapping, org, out)
    for name in hubspot_activity.ACTIVITY_FILES:
        activity = obj(name)
        if activity is not None:
            hubspot_activity.touches(activity, mapping, policy, org, portal.owners, associations, out)
    if contacts is not None:
        _partner_contacts(contacts, org, out)
    emit_accounts(mapping, org, out)
    if owners is None:
        stub_users(org, out)
    check_stages(mapping, policy, out)
    out.beside = beside_tables(export, (*BESIDE, *HUBSPOT_BESIDE))
    return out


def _source_leads(export: Export) -> dict[str, str]:
    """Deal id -> the lead converted into it (the smallest lead id), from a canonical leads.csv."""
    source = export.find("leads.csv")
    if source is None:
        return {}
    import csv
    import io

    found: dict[str, str] = {}
    text = source.read_bytes().decode("utf-8-sig", "replace")
    for row in csv.DictReader(io.StringIO(text, newline="")):
        deal, lead = (row.get("converted_opportunity_id") or "").strip(), (row.get("lead_id") or "").strip()
        if deal and lead and (deal not in found or lead < found[deal]):
            found[deal] = lead
    return found


def _pipelines(f: ObjectFile, portal: Portal) -> None:
    if not f.require("stage_id", "stage_label"):
        return
    for _row, r in f.numbered():
        stage, label = f.text(r, "stage_id"), f.text(r, "stage_label")
        if stage and label:
            portal.stage_labels[stage] = label


def _owners(f: ObjectFile, mapping: CrmMapping, org: Org, portal: Portal, out: Translation) -> None:
    if not f.require("id"):
        return
    out.columns(
        "users",
        f.file,
        {"user_id": f.header("id"), "email": f.header("email"), "partner_id": f.header("partner_company_id")},
    )
    for row, r in f.numbered():
        owner = f.text(r, "id")
        name = " ".join(p for p in (f.text(r, "firstName"), f.text(r, "lastName")) if p)
        email = f.text(r, "email")
        for key in (owner, email.lower(), name.lower()):
            if key:
                portal.owners.setdefault(key, owner)
        role = mapping.user_roles.get(owner) or mapping.user_roles.get(email) or mapping.default_role
        # HubSpot has no partner users; a portal that keeps their company in the owners file names it.
        partner = f.text(r, "partner_company_id")
        org.name_partner(partner, f.file, row, f.header("partner_company_id"))
        org.users.add(owner)
        values = {"user_id": owner, "name": name, "email": email, "role": role, "partner_id": partner}
        out.add("users", values, f.file, row)


def _companies(f: ObjectFile, mapping: CrmMapping, org: Org, out: Translation) -> None:
    if not f.require("hs_object_id", "name"):
        return
    type_column = mapping.partner_type_column or "type"
    org.account_columns = {
        "account_id": f.header("hs_object_id"),
        "partner_id": f.header("hs_object_id"),
        "name": f.header("name"),
        "domain": f.header("domain"),
        "segment": f.header(mapping.segment_column) if mapping.segment_column else None,
        "industry": f.header("industry"),
        "country": f.header("country"),
        "owner_id": f.header("hubspot_owner_id"),
        "partner_type": f.header(type_column),
        "program_tier": f.header(mapping.partner_tier_column) if mapping.partner_tier_column else None,
        "joined_at": f.header(mapping.partner_joined_column) if mapping.partner_joined_column else None,
    }
    for row, r in f.numbered():
        company = f.text(r, "hs_object_id")
        kind = f.text(r, type_column)
        values = {
            "account_id": company,
            "name": f.text(r, "name"),
            "domain": domain_of(f.text(r, "domain")),
            "segment": f.text(r, mapping.segment_column) if mapping.segment_column else "",
            "industry": f.text(r, "industry"),
            "country": f.text(r, "country"),
            "owner_id": f.text(r, "hubspot_owner_id"),
            "_type": kind,
            "_tier": f.text(r, mapping.partner_tier_column) if mapping.partner_tier_column else "",
            "_joined": f.when(r, mapping.partner_joined_column, row) if mapping.partner_joined_column else "",
        }
        org.use_user(values["owner_id"], f.file, row, f.header("hubspot_owner_id"))
        org.accounts[company] = len(org.account_rows)
        org.account_rows.append((f.file, row, values))
        flagged = f.flag(r, mapping.partner_flag_column, row) if mapping.partner_flag_column else False
        if flagged or kind in mapping.partner_types:
            org.flagged_partners.add(company)


def _partner_contacts(f: ObjectFile, org: Org, out: Translation) -> None:
    partners = org.partners
    out.columns(
        "partner_contacts",
        f.file,
        {
            "contact_id": f.header("hs_object_id"),
            "partner_id": f.header("company"),
            "email": f.header("email"),
        },
    )
    for row, r in f.numbered():
        contact = f.text(r, "hs_object_id")
        company = org.contacts.get(contact, "")
        if company in partners:
            name = " ".join(p for p in (f.text(r, "firstname"), f.text(r, "lastname")) if p)
            values = {"contact_id": contact, "partner_id": company, "name": name, "email": f.text(r, "email")}
            out.add("partner_contacts", values, f.file, row)


def _stage_columns(f: ObjectFile, portal: Portal) -> dict[str, list[int]]:
    """Stage label -> the columns holding its entry date, hs_v2_ before the legacy hs_ (a row
    whose hs_v2_ cell is empty falls back to its legacy one)."""
    found: dict[str, list[tuple[int, int]]] = {}
    for i, name in enumerate(f.table.header):
        for rank, pattern in enumerate(_ENTERED):
            m = pattern.match(name)
            if m:
                stage = m.group(1)
                found.setdefault(portal.stage_labels.get(stage, stage), []).append((rank, i))
                break
    return {label: [i for _rank, i in sorted(cols)] for label, cols in found.items()}


def _deals(
    f: ObjectFile,
    mapping: CrmMapping,
    org: Org,
    portal: Portal,
    out: Translation,
    associations: hubspot_activity.Associations,
    source_leads: dict[str, str],
) -> None:
    if not f.require("hs_object_id", "createdate", "amount", "dealstage"):
        return
    declared = {n: c for n, c in mapping.fields.items() if not mapping.fields_if_present or f.has(c)}
    for name, column in declared.items():
        if not f.has(column):
            out.problem(f.file, None, column, None, f"is missing: {mapping.where('fields', name)} names it")
    columns = {
        "opportunity_id": f.header("hs_object_id"),
        "account_id": f.header("company"),
        "created_at": f.header("createdate"),
        "amount": f.header("amount"),
        "currency": f.header("deal_currency_code"),
        "stage": f.header("dealstage"),
        "owner_id": f.header("hubspot_owner_id"),
        "close_date": f.header("closedate"),
        "is_closed": f.header("hs_is_closed"),
        "is_won": f.header("hs_is_closed_won"),
        "opportunity_type": f.header("dealtype"),
    }
    columns.update({name: f.header(column) for name, column in declared.items()})
    out.columns("opportunities", f.file, columns)
    stage_columns = _stage_columns(f, portal)
    for row, r in f.numbered():
        deal = f.text(r, "hs_object_id")
        # The companies flagged or typed as partners are all known here (a deal's own partner is
        # named below, row by row, so it cannot decide another row's account).
        companies = hubspot_activity.association_ids(f.text(r, "company"))
        company = hubspot_activity.customer_first(companies, org.flagged_partners) or associations.first(
            ("deal", deal), "company"
        )
        stage_id = f.text(r, "dealstage")
        stage = value_of(
            mapping, "stages", portal.stage_labels.get(stage_id, stage_id), f, row, "dealstage", keep=True
        )
        owner = f.text(r, "hubspot_owner_id")
        owner = portal.owners.get(owner, portal.owners.get(owner.lower(), owner))
        closed, won = f.flag(r, "hs_is_closed", row), f.flag(r, "hs_is_closed_won", row)
        currency = f.text(r, "deal_currency_code")
        values = {
            "opportunity_id": deal,
            "account_id": company,
            "created_at": f.when(r, "createdate", row),
            "amount": f.text(r, "amount"),
            "currency": mapping.currency_codes.get(currency, currency) or mapping.default_currency,
            "stage": stage,
            "owner_id": owner,
            "close_date": f.when(r, "closedate", row),
            "is_closed": "" if closed is None else str(closed).lower(),
            "is_won": "" if won is None else str(won).lower(),
            "opportunity_type": value_of(
                mapping, "opportunity_types", f.text(r, "dealtype"), f, row, "dealtype"
            ),
            "source_lead_id": source_leads.get(deal, ""),
        }
        if "partner_source" in declared:
            column = declared["partner_source"]
            values["partner_source"] = value_of(mapping, "tiers", f.text(r, column), f, row, column)
        for name in ("partner_id", "partner_contact_id", "partner_activity_log"):
            if name in declared:
                values[name] = f.text(r, declared[name])
        if "partner_engagement_date" in declared:
            values["partner_engagement_date"] = f.when(r, declared["partner_engagement_date"], row)
        org.name_partner(values.get("partner_id", ""), f.file, row, columns.get("partner_id"))
        org.use_user(owner, f.file, row, columns["owner_id"])
        org.customers.add(company)
        org.opportunity_account[deal] = company
        out.add("opportunities", values, f.file, row)
        for label, indexes in sorted(stage_columns.items(), key=lambda e: e[1]):
            entered = ""
            for i in indexes:
                entered = f.when(r, f.table.header[i], row)
                if entered:
                    break
            if entered:
                out.columns(
                    "stage_history",
                    f.file,
                    {"opportunity_id": columns["opportunity_id"], "entered_at": "hs_v2_date_entered_<stage>"},
                )
                value_of(mapping, "stages", label, f, row, f.table.header[i], keep=True)
                out.add(
                    "stage_history",
                    {"opportunity_id": deal, "stage": label, "entered_at": entered},
                    f.file,
                    row,
                )
