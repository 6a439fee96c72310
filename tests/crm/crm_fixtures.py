"""A small Salesforce org written as the exports real people send: our own fixtures, in the shapes
of real files (Data Loader with a BOM and 1/blank checkboxes, weekly Data Export, report exports
with labels, Excel-resaved US dates and TRUE/FALSE, Windows-1252), never copies of them.

The org (the same in every shape):

- accounts 001A00000000001 Northwind (customer), 001A00000000002 Contoso Partners (IsPartner,
  Type Reseller), 001A00000000003 Café Réseau (customer);
- users 005A00000000001 Ana Ruiz (AE) and 005A00000000002 a partner user of Contoso;
- contacts 003A00000000001 at Contoso (a partner contact) and 003A00000000002 at Northwind;
- deal 006A00000000001 on Northwind, Closed Won, 48,000.00, declared Partner Sourced by Contoso,
  with five OpportunityHistory rows (three stage entries) and a partner_source change;
- deal 006A00000000002 on Café Réseau, Negotiation, 1,200.50 EUR, empty partner lookup
  (``000000000000000AAA``);
- lead 00QA0000000001 from Contoso, converted into the first deal;
- tasks: a joint call with Contoso's contact on the first deal, a call with Northwind's contact,
  and one naming nothing (left out).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

ACME, CONTOSO, CAFE = "001A00000000001", "001A00000000002", "001A00000000003"
ANA, PARTNER_USER = "005A00000000001", "005A00000000002"
PARTNER_CONTACT, CUSTOMER_CONTACT = "003A00000000001", "003A00000000002"
WON, OPEN = "006A00000000001", "006A00000000002"
LEAD = "00QA0000000001"
EMPTY_LOOKUP = "000000000000000AAA"
LOG = 'Joint call, 3 Feb\n"great" intro'

MAPPING = """\
crm = "salesforce"
encoding = "utf-8-sig"

[currencies]
default = "USD"

[fields]
partner_source = "Partner_Source__c"
partner_id = "Partner_Account__c"
partner_contact_id = "Partner_Contact__c"
partner_engagement_date = "Partner_Engagement_Date__c"
partner_activity_log = "Partner_Activity_Log__c"

[tiers]
"Partner Sourced" = "sourced"
"Partner Influenced" = "influenced"

[stages]
"Prospecting" = "open"
"Negotiation" = "open"
"Closed Won" = "won"

[lead_sources]
"Partner Referral" = "partner_referral"

[partner_roles]
"Reseller" = "reseller"

[partners]
default_type = "co_sell"
[partners.types]
"Reseller" = "reseller"

[users.roles]
"005A00000000001" = "ae"

[activities.kinds]
"Joint Call" = "joint_call"
"Call" = "outbound_call"
"""

# (API name, report label) of each column, per object; then rows as {API name: value}.
OBJECTS: dict[str, list[tuple[str, str]]] = {
    "Account": [
        ("Id", "Account ID"),
        ("Name", "Account Name"),
        ("Type", "Account Type"),
        ("Website", "Website"),
        ("BillingCountry", "Billing Country"),
        ("IsPartner", "Partner"),
        ("OwnerId", "Account Owner ID"),
    ],
    "User": [
        ("Id", "User ID"),
        ("Name", "Full Name"),
        ("Email", "Email"),
        ("UserType", "User Type"),
        ("AccountId", "Account ID"),
    ],
    "Contact": [("Id", "Contact ID"), ("AccountId", "Account ID"), ("Name", "Full Name"), ("Email", "Email")],
    "Opportunity": [
        ("Id", "Opportunity ID"),
        ("AccountId", "Account ID"),
        ("Name", "Opportunity Name"),
        ("StageName", "Stage"),
        ("Amount", "Amount"),
        ("CurrencyIsoCode", "Opportunity Currency"),
        ("CloseDate", "Close Date"),
        ("CreatedDate", "Created Date"),
        ("IsClosed", "Closed"),
        ("IsWon", "Won"),
        ("OwnerId", "Opportunity Owner ID"),
        ("Partner_Source__c", "Partner Source"),
        ("Partner_Account__c", "Partner Account"),
        ("Partner_Contact__c", "Partner Contact"),
        ("Partner_Engagement_Date__c", "Partner Engagement Date"),
        ("Partner_Activity_Log__c", "Partner Activity Log"),
    ],
    "OpportunityHistory": [
        ("Id", "History ID"),
        ("OpportunityId", "Opportunity ID"),
        ("StageName", "Stage"),
        ("Amount", "Amount"),
        ("CreatedDate", "Created Date"),
    ],
    "OpportunityFieldHistory": [
        ("Id", "History ID"),
        ("OpportunityId", "Opportunity ID"),
        ("Field", "Field"),
        ("OldValue", "Old Value"),
        ("NewValue", "New Value"),
        ("CreatedDate", "Created Date"),
        ("CreatedById", "Created By ID"),
    ],
    "OpportunityPartner": [
        ("Id", "ID"),
        ("OpportunityId", "Opportunity ID"),
        ("AccountToId", "Partner Account ID"),
        ("Role", "Role"),
        ("IsPrimary", "Primary"),
        ("CreatedDate", "Created Date"),
    ],
    "Lead": [
        ("Id", "Lead ID"),
        ("CreatedDate", "Created Date"),
        ("Company", "Company"),
        ("Email", "Email"),
        ("LeadSource", "Lead Source"),
        ("PartnerAccountId", "Partner Account ID"),
        ("IsConverted", "Converted"),
        ("ConvertedDate", "Converted Date"),
        ("ConvertedAccountId", "Converted Account ID"),
        ("ConvertedOpportunityId", "Converted Opportunity ID"),
    ],
    "Task": [
        ("Id", "Activity ID"),
        ("WhatId", "Related To ID"),
        ("WhoId", "Name ID"),
        ("Subject", "Subject"),
        ("ActivityDate", "Due Date"),
        ("Type", "Type"),
        ("OwnerId", "Assigned ID"),
        ("AccountId", "Account ID"),
    ],
}

# Instants are (date, time or None); each style writes them its own way.
D = tuple[str, str | None]


def rows() -> dict[str, list[dict[str, object]]]:
    return {
        "Account": [
            {"Id": ACME, "Name": "Northwind", "Website": "https://www.northwind.com/", "BillingCountry": "US", "IsPartner": False, "OwnerId": ANA},
            {"Id": CONTOSO, "Name": "Contoso Partners", "Type": "Reseller", "Website": "contoso.io", "IsPartner": True, "OwnerId": ANA},
            {"Id": CAFE, "Name": "Café Réseau", "BillingCountry": "FR", "IsPartner": False, "OwnerId": ANA},
        ],
        "User": [
            {"Id": ANA, "Name": "Ana Ruiz", "Email": "ana@ourco.com", "UserType": "Standard"},
            {"Id": PARTNER_USER, "Name": "Pat O’Neil", "Email": "pat@contoso.io", "UserType": "PowerPartner", "AccountId": CONTOSO},
        ],
        "Contact": [
            {"Id": PARTNER_CONTACT, "AccountId": CONTOSO, "Name": "Carla Diaz", "Email": "carla@contoso.io"},
            {"Id": CUSTOMER_CONTACT, "AccountId": ACME, "Name": "Cy Fox", "Email": "cy@northwind.com"},
        ],
        "Opportunity": [
            {
                "Id": WON, "AccountId": ACME, "Name": "Northwind, expansion", "StageName": "Closed Won",
                "Amount": "48000.00", "CurrencyIsoCode": "USD", "CloseDate": ("2026-04-30", None),
                "CreatedDate": ("2026-01-20", "10:00"), "IsClosed": True, "IsWon": True, "OwnerId": ANA,
                "Partner_Source__c": "Partner Sourced", "Partner_Account__c": CONTOSO,
                "Partner_Contact__c": PARTNER_CONTACT, "Partner_Engagement_Date__c": ("2026-01-10", None),
                "Partner_Activity_Log__c": LOG,
            },
            {
                "Id": OPEN, "AccountId": CAFE, "Name": "Café Réseau", "StageName": "Negotiation", "Amount": "1200.50",
                "CurrencyIsoCode": "EUR", "CloseDate": ("2026-06-30", None), "CreatedDate": ("2026-02-02", "08:30"),
                "IsClosed": False, "IsWon": False, "OwnerId": ANA, "Partner_Account__c": EMPTY_LOOKUP,
            },
        ],
        "OpportunityHistory": [
            {"Id": "008A00000000005", "OpportunityId": WON, "StageName": "Closed Won", "Amount": "48000.00", "CreatedDate": ("2026-04-29", "09:00")},
            {"Id": "008A00000000001", "OpportunityId": WON, "StageName": "Prospecting", "Amount": "40000.00", "CreatedDate": ("2026-01-20", "10:00")},
            {"Id": "008A00000000002", "OpportunityId": WON, "StageName": "Prospecting", "Amount": "45000.00", "CreatedDate": ("2026-01-25", "11:00")},
            {"Id": "008A00000000003", "OpportunityId": WON, "StageName": "Negotiation", "Amount": "45000.00", "CreatedDate": ("2026-03-01", "14:15")},
            {"Id": "008A00000000004", "OpportunityId": WON, "StageName": "Closed Won", "Amount": "45000.00", "CreatedDate": ("2026-04-28", "15:00")},
        ],
        "OpportunityFieldHistory": [
            {"Id": "017A00000000001", "OpportunityId": WON, "Field": "Partner_Source__c", "OldValue": "", "NewValue": "Partner Sourced", "CreatedDate": ("2026-01-21", "09:00"), "CreatedById": ANA},
            {"Id": "017A00000000002", "OpportunityId": WON, "Field": "StageName", "OldValue": "Prospecting", "NewValue": "Negotiation", "CreatedDate": ("2026-03-01", "14:15"), "CreatedById": ANA},
        ],
        "OpportunityPartner": [
            {"Id": "00JA00000000001", "OpportunityId": WON, "AccountToId": CONTOSO, "Role": "Reseller", "IsPrimary": True, "CreatedDate": ("2026-01-21", "09:00")},
        ],
        "Lead": [
            {
                "Id": LEAD, "CreatedDate": ("2026-01-05", "16:02"), "Company": "Northwind", "Email": "cfo@northwind.com",
                "LeadSource": "Partner Referral", "PartnerAccountId": CONTOSO, "IsConverted": True,
                "ConvertedDate": ("2026-01-20", None), "ConvertedAccountId": ACME, "ConvertedOpportunityId": WON,
            },
        ],
        "Task": [
            {"Id": "00TA00000000001", "WhatId": WON, "WhoId": PARTNER_CONTACT, "Subject": "Joint discovery", "ActivityDate": ("2026-02-03", None), "Type": "Joint Call", "OwnerId": ANA, "AccountId": ACME},
            {"Id": "00TA00000000002", "WhoId": CUSTOMER_CONTACT, "Subject": "Follow-up", "ActivityDate": ("2026-02-10", None), "Type": "Call", "OwnerId": ANA, "AccountId": EMPTY_LOOKUP},
            {"Id": "00TA00000000003", "Subject": "Expenses", "ActivityDate": ("2026-02-11", None), "Type": "Call", "OwnerId": ANA},
        ],
    }  # fmt: skip


def _cell(value: object, style: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return {"loader": "1" if value else "", "export": str(value).lower(), "report": str(value).upper()}[
            style
        ]
    if isinstance(value, tuple):
        day, time = value
        if style == "report":  # Excel re-saved: 01/20/26 and 01/20/26 10:00 AM
            y, m, d = day.split("-")
            text = f"{m}/{d}/{y[2:]}"
            if time is None:
                return text
            hour, minute = (int(p) for p in time.split(":"))
            return f"{text} {(hour - 1) % 12 + 1:02d}:{minute:02d} {'AM' if hour < 12 else 'PM'}"
        if time is None:
            return day
        return f"{day}T{time}:00.000+0000" if style == "loader" else f"{day}T{time}:00.000Z"
    return str(value)


def write_org(folder: Path, style: str = "loader", objects: Sequence[str] | None = None) -> Path:
    """Write the org as ``style``: ``loader`` (UTF-8 BOM, 1/blank, +0000), ``export`` (UTF-8,
    true/false, Z) or ``report`` (labels, MM/DD/YY dates, TRUE/FALSE, Windows-1252)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = rows()
    for obj in objects or OBJECTS:
        columns = OBJECTS[obj]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n" if style == "report" else "\n")
        writer.writerow([label if style == "report" else api for api, label in columns])
        for row in data[obj]:
            writer.writerow([_cell(row.get(api), style) for api, _ in columns])
        text = buffer.getvalue()
        raw = text.encode("cp1252") if style == "report" else text.encode("utf-8")
        if style == "loader":
            raw = b"\xef\xbb\xbf" + raw
        (folder / f"{obj}.csv").write_bytes(raw)
    return folder


REPORT_FORMATS = """
[files.Opportunity.formats]
CloseDate = "%m/%d/%y"
CreatedDate = "%m/%d/%y %I:%M %p"
Partner_Engagement_Date__c = "%m/%d/%y"
[files.OpportunityHistory.formats]
CreatedDate = "%m/%d/%y %I:%M %p"
[files.OpportunityFieldHistory.formats]
CreatedDate = "%m/%d/%y %I:%M %p"
[files.OpportunityPartner.formats]
CreatedDate = "%m/%d/%y %I:%M %p"
[files.Lead.formats]
CreatedDate = "%m/%d/%y %I:%M %p"
ConvertedDate = "%m/%d/%y"
[files.Task.formats]
ActivityDate = "%m/%d/%y"
[files.Opportunity.columns]
Partner_Source__c = "Partner Source"
Partner_Account__c = "Partner Account"
Partner_Contact__c = "Partner Contact"
Partner_Engagement_Date__c = "Partner Engagement Date"
Partner_Activity_Log__c = "Partner Activity Log"
[files.OpportunityHistory.columns]
Id = "History ID"
[files.Task.columns]
Id = "Activity ID"
WhatId = "Related To ID"
WhoId = "Name ID"
ActivityDate = "Due Date"
OwnerId = "Assigned ID"
"""


def mapping(style: str = "loader") -> str:
    """The mapping text for ``style`` (reports: cp1252, their date formats and labels)."""
    if style != "report":
        return MAPPING
    return MAPPING.replace('encoding = "utf-8-sig"', 'encoding = "cp1252"') + REPORT_FORMATS
