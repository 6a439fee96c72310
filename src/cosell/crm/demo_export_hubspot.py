"""A canonical dataset (the demo's) written as a HubSpot export (``cosell demo --crm hubspot``),
with the mapping that reads it: property names, ``hs_v2_date_entered_<stage id>`` columns, a
pipelines file, labelled deal-to-partner associations, activities with their associations.
See :mod:`cosell.crm.demo_export` for the Salesforce one and what travels beside the export.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from cosell.crm.canonical import BESIDE
from cosell.crm.demo_export import PARTNER_TYPES, ROLES, TIERS, TYPES, label, read, tiers_table, write_csv
from cosell.crm.fields import DECLARED_FIELDS
from cosell.outfiles import output_file, write_file
from cosell.policy import Policy

# The five declared deal properties under the names the blueprint installs (cosell.crm.fields).
FIELDS = {f.key: f.hubspot.name for f in DECLARED_FIELDS}


def _names(name: str) -> list[str]:
    """First and last name of a full name (HubSpot keeps them apart)."""
    first, _, last = name.partition(" ")
    return [first, last]


def stage_id(stage: str) -> str:
    """A HubSpot-style internal stage id for a stage name: ``Closed Won`` -> ``closedwon``."""
    return "".join(ch for ch in stage.lower() if ch.isalnum())


def _plain(folder: Path, name: str, header: list[str], rows: Iterable[list[str]]) -> None:
    """``<name>.csv`` as HubSpot writes it: UTF-8 without a BOM."""
    write_csv(folder, name, header, rows, encoding="utf-8")


def write_hubspot(canonical: Path, out: Path) -> Path:
    """Write the canonical dataset in ``canonical`` as a HubSpot export (property names) in ``out``;
    returns the mapping file written beside it.

    Leads and the five fields' history have no place in a HubSpot deal export: they travel as
    canonical ``leads.csv`` and ``field_history.csv`` beside it, like the registrations and costs.
    """
    policy = Policy()
    out.mkdir(parents=True, exist_ok=True)
    users = list(read(canonical, "users"))
    _plain(out, "owners", ["id", "email", "firstName", "lastName", "partner_company_id"], [
        [u["user_id"], u["email"], *_names(u["name"]), u["partner_id"]] for u in users
    ])  # fmt: skip
    history = list(read(canonical, "stage_history"))
    opportunities = list(read(canonical, "opportunities"))
    stages = sorted({h["stage"] for h in history} | {o["stage"] for o in opportunities})
    _plain(
        out,
        "pipelines",
        ["pipeline_id", "pipeline_label", "stage_id", "stage_label", "is_closed", "probability"],
        [
            ["default", "Sales Pipeline", stage_id(s), s, str(policy.stage_class(s) != "open").lower(),
             "1.0" if policy.stage_class(s) == "won" else "0.0" if policy.stage_class(s) == "lost" else "0.5"]
            for s in stages
        ],
    )  # fmt: skip
    partners = list(read(canonical, "partners"))
    _plain(
        out,
        "companies",
        ["hs_object_id", "name", "domain", "industry", "country", "hubspot_owner_id", "type", "segment",
         "partner_tier", "partner_since"],
        [[a["account_id"], a["name"], a["domain"], a["industry"], a["country"], a["owner_id"], "PROSPECT", a["segment"],
          "", ""] for a in read(canonical, "accounts")]
        + [[p["partner_id"], p["name"], p["domain"], "", "", "", PARTNER_TYPES[p["partner_type"]], "",
            p["program_tier"], p["joined_at"]] for p in partners],
    )  # fmt: skip
    _plain(
        out,
        "contacts",
        ["hs_object_id", "firstname", "lastname", "email", "associatedcompanyid"],
        [[c["contact_id"], *_names(c["name"]), c["email"], c["partner_id"]]
         for c in read(canonical, "partner_contacts")],
    )  # fmt: skip
    entered: dict[str, dict[str, str]] = {}
    for h in history:
        entered.setdefault(h["opportunity_id"], {})[stage_id(h["stage"])] = h["entered_at"]
    stage_columns = [f"hs_v2_date_entered_{stage_id(s)}" for s in stages]
    _plain(
        out,
        "deals",
        ["hs_object_id", "dealstage", "pipeline", "amount", "deal_currency_code", "createdate", "closedate",
         "hubspot_owner_id", "dealtype", "associatedcompanyid", "hs_is_closed", "hs_is_closed_won",
         *FIELDS.values(), *stage_columns],
        [
            [o["opportunity_id"], stage_id(o["stage"]), "default", o["amount"], o["currency"], o["created_at"],
             o["close_date"], o["owner_id"], TYPES.get(o["opportunity_type"], ""), o["account_id"], o["is_closed"],
             o["is_won"], TIERS.get(o["partner_source"], ""), o["partner_id"], o["partner_contact_id"],
             o["partner_engagement_date"], o["partner_activity_log"],
             *(entered.get(o["opportunity_id"], {}).get(stage_id(s), "") for s in stages)]
            for o in opportunities
        ],
    )  # fmt: skip
    _plain(
        out,
        "associations",
        ["from_object_type", "from_object_id", "to_object_type", "to_object_id", "association_label", "created_at",
         "is_primary"],
        [["deals", p["opportunity_id"], "companies", p["partner_id"], ROLES[p["role"]], p["added_at"], p["is_primary"]]
         for p in read(canonical, "opportunity_partners")],
    )  # fmt: skip
    kinds: set[str] = set()  # the activity types the mapping names, seen while streaming

    def engagements() -> Iterator[list[str]]:  # 20M touches at 1M deals: streamed, never held
        for t in read(canonical, "touches"):
            kinds.add(t["kind"])
            yield [t["touch_id"], "MEETING", label(t["kind"]), t["occurred_at"], t["user_id"], t["notes"],
                   t["partner_id"], t["opportunity_id"], t["account_id"], t["partner_contact_id"]]  # fmt: skip

    _plain(
        out,
        "engagements",
        ["hs_object_id", "hs_engagement_type", "hs_activity_type", "hs_timestamp", "hubspot_owner_id",
         "hs_meeting_title", "partner_company", "Associated Deal IDs", "Associated Company IDs",
         "Associated Contact IDs"],
        engagements(),
    )  # fmt: skip
    for table in (*BESIDE, "leads", "field_history", "fx_rates"):
        if (canonical / f"{table}.csv").exists():
            with output_file(out / f"{table}.csv") as temporary:
                shutil.copyfile(canonical / f"{table}.csv", temporary)
    mapping = out / "hubspot-mapping.toml"
    write_file(mapping, _hubspot_mapping(users, kinds).encode("utf-8"))
    return mapping


def _hubspot_mapping(users: list[dict[str, str]], kinds: set[str]) -> str:
    def table(name: str, entries: dict[str, str]) -> list[str]:
        return [f"[{name}]", *(f"{json.dumps(k)} = {json.dumps(v)}" for k, v in entries.items()), ""]

    lines = [
        "# The mapping of the demo's HubSpot export (cosell demo --crm hubspot).",
        'crm = "hubspot"',
        "",
        "[fields]",
        *(f"{k} = {json.dumps(v)}" for k, v in FIELDS.items()),
        "",
        "[accounts]",
        'segment_column = "segment"',
        "",
        *tiers_table(),
        *table("opportunity_types", {v: k for k, v in TYPES.items()}),
        *table("partner_roles", {v: k for k, v in ROLES.items()}),
        "[partners]",
        'tier_column = "partner_tier"',
        'joined_column = "partner_since"',
        *table("partners.types", {v: k for k, v in PARTNER_TYPES.items()}),
        *table("users.roles", {u["user_id"]: u["role"] for u in users if u["role"]}),
        "[activities]",
        'kind_column = "hs_activity_type"',
        'partner_column = "partner_company"',
        *table("activities.kinds", {label(k): k for k in sorted(kinds)}),
    ]
    return "\n".join(lines)
