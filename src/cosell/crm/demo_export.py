"""A canonical dataset (the demo's) written as a Salesforce export, with the mapping that reads it.

``cosell demo --out DIR --crm salesforce`` writes the sample company the way a Data Loader
export of an org that had installed the blueprint would look (a BOM, ``1``/blank checkboxes,
``+0000`` offsets, picklist labels, the five fields under :mod:`cosell.crm.fields`' names and
Partner Source values), plus ``salesforce-mapping.toml``, so
``cosell import salesforce`` has a realistic end-to-end test at any size: importing it gives the
same canonical rows, hence the same attribution, as importing the canonical files.

What has no Salesforce object travels as canonical CSV beside the export (deal registrations,
costs, partner account lists: :data:`cosell.crm.canonical.BESIDE`). Two liberties, because the
canonical data is finer than Salesforce's standard fields: a lead's ``ConvertedDate`` keeps its
time, and its ``ConvertedAccountId`` carries the matched account of a lead not converted yet.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterable, Iterator
from decimal import Decimal, localcontext
from pathlib import Path

from cosell.crm.canonical import BESIDE
from cosell.crm.fields import DECLARED_FIELDS, PARTNER_SOURCE_CHOICES
from cosell.outfiles import output_file, write_file

# The five declared fields under the names the blueprint installs (cosell.crm.fields, the one
# definition), so the demo reads like the export of an org that ran `cosell blueprint`.
FIELDS = {f.key: f.salesforce.api_name for f in DECLARED_FIELDS}
# Partner Source as the blueprint's picklist stores it: Data Loader and the APIs export the value
# (``sourced``), a report its label (``Sourced``); the demo's mapping names both.
TIERS = {c.value: c.value for c in PARTNER_SOURCE_CHOICES}
TIER_LABELS = {c.label: c.value for c in PARTNER_SOURCE_CHOICES}
TYPES = {"new_business": "New Customer", "expansion": "Existing Customer - Upgrade", "renewal": "Renewal"}
SOURCES = {
    "partner_referral": "Partner Referral",
    "inbound": "Web",
    "outbound": "Outbound Prospecting",
    "event": "Trade Show",
    "other": "Other",
}
ROLES = {
    "sourcer": "Sourcing Partner",
    "co_seller": "Co-Sell Partner",
    "influencer": "Influencer",
    "reseller": "Reseller",
    "servicer": "Implementation Partner",
}
PARTNER_TYPES = {
    "referral": "Referral Partner",
    "co_sell": "Co-Sell Partner",
    "reseller": "Reseller",
    "integration": "Technology Partner",
    "agency": "Agency",
    "affiliate": "Affiliate",
    "services": "Services Partner",
}


def read(folder: Path, table: str) -> Iterator[dict[str, str]]:
    """The rows of ``table``'s canonical CSV in ``folder``, streamed (none when there is no file)."""
    path = folder / f"{table}.csv"
    if not path.exists():
        return
    with open(path, encoding="utf-8-sig", newline="") as f:
        yield from csv.DictReader(f)


def sf_instant(text: str) -> str:
    """``2024-07-04T13:12:00Z`` as Data Loader writes it: ``2024-07-04T13:12:00.000+0000``."""
    if not text:
        return ""
    return text.removesuffix("Z")[:19] + ".000+0000"


def sf_date(text: str) -> str:
    return text[:10]


def label(kind: str) -> str:
    """A canonical value as a picklist label: ``joint_call`` -> ``Joint Call``."""
    return kind.replace("_", " ").title()


def flag(text: str) -> str:
    return "1" if text.strip().lower() in ("true", "1", "t", "yes") else ""


def write_csv(
    folder: Path, obj: str, header: list[str], rows: Iterable[list[str]], encoding: str = "utf-8-sig"
) -> None:
    """``<obj>.csv`` streamed row by row, in ``encoding``: by default as Data Loader writes it
    (UTF-8 with a BOM)."""
    with (
        output_file(folder / f"{obj}.csv") as temporary,
        temporary.open("x", encoding=encoding, newline="") as f,
    ):
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_salesforce(canonical: Path, out: Path) -> Path:
    """Write the canonical dataset in ``canonical`` as a Salesforce export in ``out``; returns the
    mapping file written beside it."""
    out.mkdir(parents=True, exist_ok=True)
    partners = list(read(canonical, "partners"))
    write_csv(
        out,
        "Account",
        [
            "Id",
            "Name",
            "Type",
            "Website",
            "Industry",
            "BillingCountry",
            "OwnerId",
            "IsPartner",
            "Segment__c",
            "Partner_Tier__c",
            "Partner_Since__c",
        ],
        [
            [
                a["account_id"],
                a["name"],
                "Customer",
                a["domain"],
                a["industry"],
                a["country"],
                a["owner_id"],
                "",
                a["segment"],
                "",
                "",
            ]
            for a in read(canonical, "accounts")
        ]
        + [
            [
                p["partner_id"],
                p["name"],
                PARTNER_TYPES[p["partner_type"]],
                p["domain"],
                "",
                "",
                "",
                "1",
                "",
                p["program_tier"],
                sf_date(p["joined_at"]),
            ]
            for p in partners
        ],
    )
    write_csv(
        out,
        "Contact",
        ["Id", "AccountId", "Name", "Email"],
        [
            [c["contact_id"], c["partner_id"], c["name"], c["email"]]
            for c in read(canonical, "partner_contacts")
        ],
    )
    users = list(read(canonical, "users"))
    write_csv(
        out,
        "User",
        ["Id", "Name", "Email", "UserType", "AccountId"],
        [
            [
                u["user_id"],
                u["name"],
                u["email"],
                "PowerPartner" if u["role"] == "partner" else "Standard",
                u["partner_id"],
            ]
            for u in users
        ],
    )
    write_csv(
        out,
        "Lead",
        ["Id", "CreatedDate", "Company", "Email", "LeadSource", "PartnerAccountId", "Partner_Contact__c", "IsConverted",
         "ConvertedDate", "ConvertedAccountId", "ConvertedOpportunityId"],
        [
            [d["lead_id"], sf_instant(d["created_at"]), d["company"], d["email"], SOURCES.get(d["source"], ""),
             d["partner_id"], d["partner_contact_id"], "1" if d["converted_opportunity_id"] else "",
             sf_instant(d["converted_at"]), d["account_id"], d["converted_opportunity_id"]]
            for d in read(canonical, "leads")
        ],
    )  # fmt: skip
    write_csv(
        out,
        "Opportunity",
        ["Id", "AccountId", "StageName", "Amount", "CurrencyIsoCode", "CloseDate", "CreatedDate", "IsClosed", "IsWon",
         "Type", "OwnerId", *FIELDS.values()],
        [
            [o["opportunity_id"], o["account_id"], o["stage"], o["amount"], o["currency"], sf_date(o["close_date"]),
             sf_instant(o["created_at"]), flag(o["is_closed"]), flag(o["is_won"]), TYPES.get(o["opportunity_type"], ""),
             o["owner_id"], TIERS.get(o["partner_source"], ""), o["partner_id"], o["partner_contact_id"],
             sf_date(o["partner_engagement_date"]), o["partner_activity_log"]]
            for o in read(canonical, "opportunities")
        ],
    )  # fmt: skip
    write_csv(
        out,
        "OpportunityHistory",
        ["Id", "OpportunityId", "StageName", "CreatedDate"],
        [
            [f"008Hx{i:010d}", h["opportunity_id"], h["stage"], sf_instant(h["entered_at"])]
            for i, h in enumerate(read(canonical, "stage_history"), start=1)
        ],
    )
    write_csv(
        out,
        "OpportunityFieldHistory",
        ["Id", "OpportunityId", "Field", "DataType", "OldValue", "NewValue", "CreatedDate", "CreatedById"],
        [
            [f"017Hx{i:010d}", h["opportunity_id"], FIELDS[h["field"]], _data_type(h["field"]), *_history_values(h),
             sf_instant(h["changed_at"]), h["changed_by"]]
            for i, h in enumerate(read(canonical, "field_history"), start=1)
        ],
    )  # fmt: skip
    write_csv(
        out,
        "OpportunityPartner",
        ["Id", "OpportunityId", "AccountToId", "Role", "IsPrimary", "CreatedDate"],
        [
            [f"00JHx{i:010d}", p["opportunity_id"], p["partner_id"], ROLES[p["role"]], flag(p["is_primary"]), sf_instant(p["added_at"])]
            for i, p in enumerate(read(canonical, "opportunity_partners"), start=1)
        ],
    )  # fmt: skip
    kinds: set[str] = set()  # the activity types the mapping names, seen while streaming

    def events() -> Iterator[list[str]]:  # 20M touches at 1M deals: streamed, never held
        for t in read(canonical, "touches"):
            kinds.add(t["kind"])
            yield [t["touch_id"], t["opportunity_id"] or t["account_id"], t["partner_contact_id"], t["account_id"],
                   sf_instant(t["occurred_at"]), label(t["kind"]), t["user_id"], t["notes"], t["partner_id"]]  # fmt: skip

    write_csv(
        out,
        "Event",
        ["Id", "WhatId", "WhoId", "AccountId", "ActivityDateTime", "Type", "OwnerId", "Subject", "Partner_Account__c"],
        events(),
    )  # fmt: skip
    _fx(canonical, out)
    for table in BESIDE:
        if (canonical / f"{table}.csv").exists():
            with output_file(out / f"{table}.csv") as temporary:
                shutil.copyfile(canonical / f"{table}.csv", temporary)
    mapping = out / "salesforce-mapping.toml"
    write_file(mapping, _mapping(users, kinds).encode("utf-8"))
    return mapping


def _data_type(field: str) -> str:
    return "EntityId" if field in ("partner_id", "partner_contact_id") else "Text"


def _history_values(h: dict[str, str]) -> list[str]:
    if h["field"] == "partner_source":
        return [TIERS.get(h["old_value"], h["old_value"]), TIERS.get(h["new_value"], h["new_value"])]
    return [h["old_value"], h["new_value"]]


def _fx(canonical: Path, out: Path) -> None:
    """Monthly rates as dated conversion rates against a USD corporate currency."""
    rates = [r for r in read(canonical, "fx_rates") if len(r["period"]) == 7]
    currencies = sorted({r["currency"] for r in rates})
    if not currencies:
        return
    write_csv(
        out,
        "CurrencyType",
        ["IsoCode", "ConversionRate", "IsCorporate"],
        [["USD", "1", "1"]] + [[c, "1", ""] for c in currencies],
    )
    rows = []
    with localcontext() as ctx:
        ctx.prec = 34
        for r in sorted(rates, key=lambda r: (r["currency"], r["period"])):
            year, month = int(r["period"][:4]), int(r["period"][5:])
            after = f"{year + month // 12:04d}-{month % 12 + 1:02d}-01"
            rows.append([r["currency"], str(Decimal(1) / Decimal(r["rate"])), f"{r['period']}-01", after])
    write_csv(out, "DatedConversionRate", ["IsoCode", "ConversionRate", "StartDate", "NextStartDate"], rows)


def tiers_table() -> list[str]:
    """The ``[tiers]`` of a demo mapping: the blueprint's Partner Source values and labels."""
    entries = {**TIERS, **TIER_LABELS}
    return [
        "[tiers]  # the blueprint's Partner Source picklist: its values, and its labels (report exports)",
        *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in entries.items()),
        "",
    ]


def _mapping(users: list[dict[str, str]], kinds: set[str]) -> str:
    def table(name: str, entries: dict[str, str]) -> list[str]:
        return [f"[{name}]", *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in entries.items()), ""]

    lines = [
        "# The mapping of the demo's Salesforce export (cosell demo --crm salesforce).",
        'crm = "salesforce"',
        'encoding = "utf-8-sig"',
        "",
        "[fields]",
        *(f"{k} = {json.dumps(v)}" for k, v in FIELDS.items()),
        "",
        "[accounts]",
        'segment_column = "Segment__c"',
        "",
        "[leads]",
        'partner_contact_column = "Partner_Contact__c"',
        "",
        *tiers_table(),
        *table("opportunity_types", {v: k for k, v in TYPES.items()}),
        *table("lead_sources", {v: k for k, v in SOURCES.items()}),
        *table("partner_roles", {v: k for k, v in ROLES.items()}),
        "[partners]",
        'default_type = "co_sell"',
        'tier_column = "Partner_Tier__c"',
        'joined_column = "Partner_Since__c"',
        *table("partners.types", {v: k for k, v in PARTNER_TYPES.items()}),
        *table(
            "users.roles", {u["user_id"]: u["role"] for u in users if u["role"] and u["role"] != "partner"}
        ),
        "[activities]",
        'kind_column = "Type"',
        'partner_column = "Partner_Account__c"',
        *table("activities.kinds", {label(k): k for k in sorted(kinds)}),
    ]
    return "\n".join(lines)
