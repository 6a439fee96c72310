"""A small HubSpot portal written as exports: with property names (API, ``hs_v2_date_entered_*``)
or with the UI's labels (``Record ID``, ``Date entered "Closed Won (Sales Pipeline)"``, owner
names). Our own fixtures, in the shapes of real exports.

Companies 5001 Northwind and 5003 Café Réseau (customers), 5002 Contoso Partners (type PARTNER);
owner 101 Ana Ruiz; contacts 7001 at Contoso, 7002 at Northwind; deal 9001 won (declared Partner
Sourced by Contoso, Contoso associated as Reseller), deal 9002 open on Café Réseau (its company by
association; its stage entry only in the legacy hs_date_entered_ column); calls 8001 (joint, with
Contoso's contact, on 9001), 8002 (discovery with Northwind's contact) and 8003 (nothing: left out).
"""

from __future__ import annotations

import csv
from pathlib import Path

MAPPING = """\
crm = "hubspot"

[currencies]
default = "USD"

[fields]
partner_source = "partner_source"
partner_id = "partner_company_id"
partner_contact_id = "partner_contact_id"
partner_engagement_date = "partner_engagement_date"
partner_activity_log = "partner_activity_log"

[tiers]
"Partner Sourced" = "sourced"

[stages]
"Appointment Scheduled" = "open"
"Contract Sent" = "open"
"Closed Won" = "won"

[opportunity_types]
"existingbusiness" = "expansion"
"Existing Business" = "expansion"

[partner_roles]
"Reseller" = "reseller"

[partners.types]
"PARTNER" = "reseller"

[users.roles]
"101" = "ae"

[activities]
kind_column = "hs_activity_type"
[activities.kinds]
"Partner Joint Call" = "joint_call"
"Discovery Call" = "outbound_call"
"""

LABEL_COLUMNS = """
[files.deals.columns]
partner_source = "Partner Source"
partner_company_id = "Partner Company ID"
partner_contact_id = "Partner Contact ID"
partner_engagement_date = "Partner Engagement Date"
partner_activity_log = "Partner Activity Log"
[files.calls.columns]
hs_activity_type = "Call and meeting type"
"""


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_portal(folder: Path, labels: bool = False) -> Path:
    """Write the portal with property names, or (``labels``) as the UI exports it."""
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder / "owners.csv",
        ["id", "email", "firstName", "lastName"],
        [["101", "ana@ourco.com", "Ana", "Ruiz"]],
    )
    _write(
        folder / "pipelines.csv",
        ["pipeline_id", "pipeline_label", "stage_id", "stage_label", "is_closed", "probability"],
        [
            ["default", "Sales Pipeline", "appointmentscheduled", "Appointment Scheduled", "false", "0.2"],
            ["default", "Sales Pipeline", "contractsent", "Contract Sent", "false", "0.9"],
            ["default", "Sales Pipeline", "closedwon", "Closed Won", "true", "1.0"],
        ],
    )
    company_header = ["Record ID", "Company name", "Company Domain Name", "Type", "Country/Region"]
    _write(
        folder / "companies.csv",
        company_header if labels else ["hs_object_id", "name", "domain", "type", "country"],
        [
            ["5001", "Northwind", "northwind.com", "PROSPECT", "US"],
            ["5002", "Contoso Partners", "www.contoso.io", "PARTNER", ""],
            ["5003", "Café Réseau", "", "", "FR"],
        ],
    )
    _write(
        folder / "contacts.csv",
        ["Record ID", "First Name", "Last Name", "Email", "Associated Company IDs (Primary)"]
        if labels
        else ["hs_object_id", "firstname", "lastname", "email", "associatedcompanyid"],
        [
            ["7001", "Carla", "Diaz", "carla@contoso.io", "5002"],
            ["7002", "Cy", "Fox", "cy@northwind.com", "5001"],
        ],
    )
    if labels:
        deal_header = [
            "Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Currency", "Create Date", "Close Date",
            "Deal owner", "Deal Type", "Associated Company IDs (Primary)", "Partner Source", "Partner Company ID",
            "Partner Contact ID", "Partner Engagement Date", "Partner Activity Log",
            'Date entered "Appointment Scheduled (Sales Pipeline)"', 'Date entered "Contract Sent (Sales Pipeline)"',
            'Date entered "Closed Won (Sales Pipeline)"',
        ]  # fmt: skip
        deals = [
            ["9001", "Northwind expansion", "Closed Won", "Sales Pipeline", "48000", "USD", "2026-01-20 10:00",
             "2026-05-01 00:00", "Ana Ruiz", "Existing Business", "5001", "Partner Sourced", "5002", "7001",
             "2026-01-10", "Joint call, 3 Feb", "2026-01-20 10:00", "2026-03-01 14:15", "2026-04-28 15:00"],
            ["9002", "Café Réseau", "Contract Sent", "Sales Pipeline", "1200.50", "EUR", "2026-02-02 08:30",
             "2026-06-30 00:00", "Ana Ruiz", "", "", "", "", "", "", "", "", "2026-02-05 09:00", ""],
        ]  # fmt: skip
    else:
        deal_header = [
            "hs_object_id", "dealname", "dealstage", "pipeline", "amount", "deal_currency_code", "createdate",
            "closedate", "hubspot_owner_id", "dealtype", "associatedcompanyid", "partner_source",
            "partner_company_id", "partner_contact_id", "partner_engagement_date", "partner_activity_log",
            "hs_v2_date_entered_appointmentscheduled", "hs_v2_date_entered_contractsent",
            "hs_v2_date_entered_closedwon", "hs_date_entered_contractsent", "hs_date_entered_closedwon",
        ]  # fmt: skip
        deals = [
            ["9001", "Northwind expansion", "closedwon", "default", "48000", "USD", "2026-01-20T10:00:00.000Z",
             "2026-05-01T00:00:00Z", "101", "existingbusiness", "5001", "Partner Sourced", "5002", "7001",
             "2026-01-10", "Joint call, 3 Feb", "2026-01-20T10:00:00.000Z", "2026-03-01T14:15:00.000Z",
             "2026-04-28T15:00:00.000Z", "2026-02-28T11:00:00Z", "2026-04-29T00:00:00Z"],
            ["9002", "Café Réseau", "contractsent", "default", "1200.50", "EUR", "2026-02-02T08:30:00.000Z",
             "2026-06-30T00:00:00Z", "101", "", "", "", "", "", "", "", "", "", "", "2026-02-05T09:00:00Z", ""],
        ]  # fmt: skip
    _write(folder / "deals.csv", deal_header, deals)
    _write(
        folder / "associations.csv",
        ["from_object_type", "from_object_id", "to_object_type", "to_object_id", "association_label"],
        [
            ["deals", "9001", "companies", "5002", "Reseller"],
            ["deals", "9002", "companies", "5003", ""],
            ["calls", "8001", "deals", "9001", ""],
            ["calls", "8001", "contacts", "7001", ""],
            ["calls", "8002", "contacts", "7002", ""],
        ],
    )
    _write(
        folder / "calls.csv",
        ["Record ID", "Activity date", "Activity assigned to", "Call Title", "Call and meeting type"]
        if labels
        else ["hs_object_id", "hs_timestamp", "hubspot_owner_id", "hs_call_title", "hs_activity_type"],
        [
            ["8001", "2026-02-03T16:00:00Z", "101", "Joint discovery", "Partner Joint Call"],
            ["8002", "2026-02-10T09:30:00Z", "101", "Follow-up", "Discovery Call"],
            ["8003", "2026-02-11T12:00:00Z", "101", "Expenses", "Discovery Call"],
        ],
    )
    return folder


def mapping(labels: bool = False) -> str:
    return MAPPING + (LABEL_COLUMNS if labels else "")
