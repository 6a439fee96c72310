"""Salesforce exports (weekly Data Export, Data Loader, report exports) as cosell's canonical tables.

One file per object, named ``<Object>.csv`` unless the mapping gives its path; API names as
headers, or report labels (a few standard ones are known, the mapping names the rest). What
becomes what (docs/crm-import.md has the whole table):

- ``Account`` -> accounts; an account flagged ``IsPartner``, or named as a partner by a deal, a
  lead, an ``OpportunityPartner`` row or a partner user, -> partners (and an account too when a
  deal, lead or activity is on it).
- ``Opportunity`` -> opportunities, with the five declared fields from the mapping's ``[fields]``.
- ``OpportunityHistory`` -> stage_history (:mod:`cosell.crm.salesforce_history`).
- ``OpportunityFieldHistory`` -> field_history for the five fields.
- ``OpportunityPartner`` and ``Partner`` -> opportunity_partners.
- ``Contact`` -> partner_contacts (contacts of partner accounts), and the account of a ``WhoId``.
- ``Lead`` -> leads, and each converted deal's ``source_lead_id``.
- ``Task`` and ``Event`` -> touches (:mod:`cosell.crm.salesforce_activity`).
- ``User`` -> users; ``CurrencyType`` and ``DatedConversionRate`` -> fx_rates.

A row with ``IsDeleted`` set is left out (and counted in the report).
"""

from __future__ import annotations

from collections.abc import Callable

from cosell.crm.canonical import BESIDE, Translation
from cosell.crm.mapping import CrmMapping
from cosell.crm.objects import ObjectFile, missing_objects, open_object
from cosell.crm.org import Org, domain_of, emit_accounts, stub_users
from cosell.crm.sources import Export, SourceFile, Table, beside_tables, read_table
from cosell.crm.stages import check_stages, value_of
from cosell.policy import Policy

LABELS: dict[str, dict[str, tuple[str, ...]]] = {
    "Opportunity": {
        "Id": ("Opportunity ID",),
        "AccountId": ("Account ID",),
        "StageName": ("Stage",),
        "CloseDate": ("Close Date",),
        "CreatedDate": ("Created Date",),
        "IsClosed": ("Closed",),
        "IsWon": ("Won",),
        "Type": ("Opportunity Type",),
        "OwnerId": ("Opportunity Owner ID", "Owner ID"),
        "CurrencyIsoCode": ("Opportunity Currency", "Currency"),
        "IsDeleted": ("Deleted",),
    },
    "Account": {
        "Id": ("Account ID",),
        "Name": ("Account Name",),
        "IsPartner": ("Partner",),
        "OwnerId": ("Account Owner ID", "Owner ID"),
        "BillingCountry": ("Billing Country",),
        "Type": ("Account Type",),
        "IsDeleted": ("Deleted",),
    },
    "OpportunityHistory": {"StageName": ("Stage", "To Stage"), "OpportunityId": ("Opportunity ID",)},
    "Task": {"Id": ("Activity ID",), "ActivityDate": ("Due Date", "Date")},
    "Event": {
        "Id": ("Activity ID",),
        "ActivityDate": ("Date",),
        "ActivityDateTime": ("Start", "Start Date Time"),
    },
    "Contact": {"Id": ("Contact ID",), "AccountId": ("Account ID",), "Name": ("Full Name", "Contact Name")},
    "Lead": {
        "Id": ("Lead ID",),
        "CreatedDate": ("Created Date",),
        "LeadSource": ("Lead Source",),
        "ConvertedAccountId": ("Converted Account ID",),
        "ConvertedOpportunityId": ("Converted Opportunity ID",),
        "ConvertedDate": ("Converted Date",),
        "PartnerAccountId": ("Partner Account ID",),
        "IsDeleted": ("Deleted",),
    },
    "User": {
        "Id": ("User ID",),
        "Name": ("Full Name",),
        "UserType": ("User Type",),
        "AccountId": ("Account ID",),
    },
    "OpportunityPartner": {
        "OpportunityId": ("Opportunity ID",),
        "AccountToId": ("Partner Account ID", "Account ID"),
        "IsPrimary": ("Primary",),
        "CreatedDate": ("Created Date",),
    },
    "Partner": {
        "OpportunityId": ("Opportunity ID",),
        "AccountToId": ("Partner Account ID",),
        "IsPrimary": ("Primary",),
        "CreatedDate": ("Created Date",),
    },
}
PARTNER_USER_TYPES = frozenset({"PowerPartner", "Partner"})


def translate(
    export: Export,
    mapping: CrmMapping,
    policy: Policy,
    read: Callable[[SourceFile, str], Table] = read_table,
) -> Translation:
    """Translate a Salesforce export into canonical rows (problems and skips recorded in it).

    ``read`` reads each file; with :func:`cosell.crm.sources.read_header` the translation reads
    headers only, and says which columns it would read and what is missing or contradicts the
    policy, without a row (what the translation in the engine, :mod:`cosell.crm.salesforce_sql`,
    asks before it runs)."""
    from cosell.crm import salesforce_activity, salesforce_history

    out = Translation()
    org = Org()

    def obj(name: str) -> ObjectFile | None:
        return open_object(export, name, mapping, LABELS.get(name, {}), out, read=read)

    accounts, opportunities = obj("Account"), obj("Opportunity")
    if missing_objects(export, out, (("Opportunity", opportunities), ("Account", accounts))):
        return out
    if accounts is not None:
        _accounts(accounts, org, out)
    users = obj("User")
    if users is not None:
        _users(users, mapping, org, out)
    contacts = obj("Contact")
    if contacts is not None:
        _contact_accounts(contacts, org)
    leads = obj("Lead")
    source_leads = _leads(leads, mapping, org, out) if leads is not None else {}
    if opportunities is not None:
        _opportunities(opportunities, mapping, policy, org, out, source_leads)
    salesforce_history.stage_history(obj("OpportunityHistory"), mapping, policy, out)
    salesforce_history.field_history(obj("OpportunityFieldHistory"), mapping, org, out)
    salesforce_history.opportunity_partners(obj("OpportunityPartner"), obj("Partner"), mapping, org, out)
    for name in ("Task", "Event"):
        activity = obj(name)
        if activity is not None:
            salesforce_activity.touches(activity, mapping, policy, org, out)
    org.months = salesforce_activity.months_used(
        [r[2] for r in out.rows("opportunities")]
        + [r[7] for r in out.rows("opportunities")]
        + [r[2] for r in out.rows("stage_history")]
    )
    salesforce_activity.fx_rates(obj("CurrencyType"), obj("DatedConversionRate"), policy, org, out)
    if contacts is not None:
        _partner_contacts(contacts, org, out)
    emit_accounts(mapping, org, out)
    if users is None:
        stub_users(org, out)
    check_stages(mapping, policy, out)
    out.beside = beside_tables(export, BESIDE)
    return out


def _deleted(f: ObjectFile, record: list[str], row: int) -> bool:
    if f.flag(record, "IsDeleted", row):
        f.out.skip(f.file, row, "IsDeleted is set")
        return True
    return False


def _accounts(f: ObjectFile, org: Org, out: Translation) -> None:
    if not f.require("Id", "Name"):
        return
    for row, r in f.numbered():
        if _deleted(f, r, row):
            continue
        account = f.ref(r, "Id")
        values = {
            "account_id": account,
            "name": f.text(r, "Name"),
            "domain": domain_of(f.text(r, "Website")),
            "segment": f.text(r, f.mapping.segment_column) if f.mapping.segment_column else "",
            "industry": f.text(r, "Industry"),
            "country": f.text(r, "BillingCountry"),
            "owner_id": f.ref(r, "OwnerId"),
            "_type": f.text(r, f.mapping.partner_type_column or "Type"),
            "_tier": f.text(r, f.mapping.partner_tier_column) if f.mapping.partner_tier_column else "",
            "_joined": f.when(r, f.mapping.partner_joined_column, row)
            if f.mapping.partner_joined_column
            else "",
        }
        org.use_user(values["owner_id"], f.file, row, f.header("OwnerId"))
        org.accounts[account] = len(org.account_rows)
        org.account_rows.append((f.file, row, values))
        if f.flag(r, f.mapping.partner_flag_column or "IsPartner", row):
            org.flagged_partners.add(account)
    org.account_columns = {
        "account_id": f.header("Id"),
        "name": f.header("Name"),
        "partner_id": f.header("Id"),
        "domain": f.header("Website"),
        "segment": f.header(f.mapping.segment_column) if f.mapping.segment_column else None,
        "industry": f.header("Industry"),
        "country": f.header("BillingCountry"),
        "owner_id": f.header("OwnerId"),
        "partner_type": f.header(f.mapping.partner_type_column or "Type"),
        "program_tier": f.header(f.mapping.partner_tier_column) if f.mapping.partner_tier_column else None,
        "joined_at": f.header(f.mapping.partner_joined_column) if f.mapping.partner_joined_column else None,
    }
    for table in ("accounts", "partners"):
        out.columns(table, f.file, org.account_columns)


def _users(f: ObjectFile, mapping: CrmMapping, org: Org, out: Translation) -> None:
    if not f.require("Id"):
        return
    columns = {"user_id": f.header("Id"), "name": f.header("Name"), "email": f.header("Email")}
    out.columns("users", f.file, {**columns, "partner_id": f.header("AccountId")})
    for row, r in f.numbered():
        user = f.ref(r, "Id")
        name = f.text(r, "Name") or " ".join(p for p in (f.text(r, "FirstName"), f.text(r, "LastName")) if p)
        role = mapping.user_roles.get(user) or mapping.user_roles.get(user[:15])
        if role is None and mapping.role_column:
            role = mapping.user_roles.get(f.text(r, mapping.role_column))
        partner = ""
        if f.text(r, "UserType") in PARTNER_USER_TYPES:
            role = role or "partner"
            partner = f.ref(r, "AccountId")
            org.name_partner(partner, f.file, row, f.header("AccountId"))
        values = {
            "user_id": user,
            "name": name,
            "email": f.text(r, "Email"),
            "role": role or mapping.default_role,
        }
        values["partner_id"] = partner
        org.users.add(user)
        out.add("users", values, f.file, row)


def _contact_accounts(f: ObjectFile, org: Org) -> None:
    for _row, r in f.numbered():
        contact, account = f.ref(r, "Id"), f.ref(r, "AccountId")
        if contact and account:
            org.contacts[contact] = account


def _partner_contacts(f: ObjectFile, org: Org, out: Translation) -> None:
    partners = org.partners
    out.columns(
        "partner_contacts",
        f.file,
        {
            "contact_id": f.header("Id"),
            "partner_id": f.header("AccountId"),
            "name": f.header("Name"),
            "email": f.header("Email"),
        },
    )
    for row, r in f.numbered():
        account = f.ref(r, "AccountId")
        if account not in partners or f.flag(r, "IsDeleted", row):
            continue
        name = f.text(r, "Name") or " ".join(p for p in (f.text(r, "FirstName"), f.text(r, "LastName")) if p)
        out.add(
            "partner_contacts",
            {"contact_id": f.ref(r, "Id"), "partner_id": account, "name": name, "email": f.text(r, "Email")},
            f.file,
            row,
        )


def _leads(f: ObjectFile, mapping: CrmMapping, org: Org, out: Translation) -> dict[str, str]:
    """Leads; returns converted opportunity id -> the lead it came from (the earliest lead id)."""
    source_leads: dict[str, str] = {}
    if not f.require("Id", "CreatedDate"):
        return source_leads
    out.columns(
        "leads",
        f.file,
        {
            "lead_id": f.header("Id"),
            "created_at": f.header("CreatedDate"),
            "company": f.header("Company"),
            "email": f.header("Email"),
            "account_id": f.header("ConvertedAccountId"),
            "source": f.header("LeadSource"),
            "partner_id": f.header("PartnerAccountId"),
            "partner_contact_id": f.header(mapping.lead_partner_contact_column or "-"),
            "converted_opportunity_id": f.header("ConvertedOpportunityId"),
            "converted_at": f.header("ConvertedDate"),
        },
    )
    for row, r in f.numbered():
        if _deleted(f, r, row):
            continue
        lead, account = f.ref(r, "Id"), f.ref(r, "ConvertedAccountId")
        opportunity, partner = f.ref(r, "ConvertedOpportunityId"), f.ref(r, "PartnerAccountId")
        contact_column = mapping.lead_partner_contact_column
        contact = f.ref(r, contact_column) if contact_column else ""
        source = value_of(mapping, "lead_sources", f.text(r, "LeadSource"), f, row, "LeadSource")
        org.name_partner(partner, f.file, row, f.header("PartnerAccountId"))
        if account:
            org.customers.add(account)
            org.lead_accounts[lead] = account
        if opportunity and (opportunity not in source_leads or lead < source_leads[opportunity]):
            source_leads[opportunity] = lead
        values = {
            "lead_id": lead,
            "created_at": f.when(r, "CreatedDate", row),
            "company": f.text(r, "Company"),
            "email": f.text(r, "Email"),
            "account_id": account,
            "source": source,
            "partner_id": partner,
            "partner_contact_id": contact,
            "converted_opportunity_id": opportunity,
            "converted_at": f.when(r, "ConvertedDate", row),
        }
        out.add("leads", values, f.file, row)
    return source_leads


def _opportunities(
    f: ObjectFile,
    mapping: CrmMapping,
    policy: Policy,
    org: Org,
    out: Translation,
    source_leads: dict[str, str],
) -> None:
    if not f.require("Id", "AccountId", "CreatedDate", "Amount", "StageName"):
        return
    declared = {n: c for n, c in mapping.fields.items() if not mapping.fields_if_present or f.has(c)}
    for name, column in declared.items():
        if not f.has(column):
            out.problem(f.file, None, column, None, f"is missing: {mapping.where('fields', name)} names it")
    source_column = declared.get("partner_source")
    columns = {
        "opportunity_id": f.header("Id"),
        "account_id": f.header("AccountId"),
        "created_at": f.header("CreatedDate"),
        "amount": f.header("Amount"),
        "currency": f.header("CurrencyIsoCode"),
        "stage": f.header("StageName"),
        "owner_id": f.header("OwnerId"),
        "close_date": f.header("CloseDate"),
        "is_closed": f.header("IsClosed"),
        "is_won": f.header("IsWon"),
        "opportunity_type": f.header("Type"),
    }
    columns.update({name: f.header(column) for name, column in declared.items()})
    out.columns("opportunities", f.file, columns)
    for row, r in f.numbered():
        if _deleted(f, r, row):
            continue
        opportunity, account = f.ref(r, "Id"), f.ref(r, "AccountId")
        created, close = f.when(r, "CreatedDate", row), f.when(r, "CloseDate", row)
        currency = f.text(r, "CurrencyIsoCode")
        currency = mapping.currency_codes.get(currency, currency) or mapping.default_currency
        closed, won = f.flag(r, "IsClosed", row), f.flag(r, "IsWon", row)
        values = {
            "opportunity_id": opportunity,
            "account_id": account,
            "created_at": created,
            "amount": f.text(r, "Amount"),
            "currency": currency,
            "stage": value_of(mapping, "stages", f.text(r, "StageName"), f, row, "StageName", keep=True),
            "owner_id": f.ref(r, "OwnerId"),
            "close_date": close,
            "is_closed": "" if closed is None else str(closed).lower(),
            "is_won": "" if won is None else str(won).lower(),
            "opportunity_type": value_of(mapping, "opportunity_types", f.text(r, "Type"), f, row, "Type"),
            "source_lead_id": source_leads.get(opportunity, ""),
        }
        if source_column:
            values["partner_source"] = value_of(
                mapping, "tiers", f.text(r, source_column), f, row, source_column
            )
        for name in ("partner_id", "partner_contact_id"):
            if name in declared:
                values[name] = f.ref(r, declared[name])
        if "partner_engagement_date" in declared:
            values["partner_engagement_date"] = f.when(r, declared["partner_engagement_date"], row)
        if "partner_activity_log" in declared:
            values["partner_activity_log"] = f.text(r, declared["partner_activity_log"])
        org.name_partner(values.get("partner_id", ""), f.file, row, columns.get("partner_id"))
        org.use_user(values["owner_id"], f.file, row, columns["owner_id"])
        org.customers.add(account)
        org.opportunity_account[opportunity] = account
        out.add("opportunities", values, f.file, row)
    del policy
