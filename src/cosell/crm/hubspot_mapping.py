"""The draft mapping of a HubSpot export (see :mod:`cosell.crm.mapping_init`)."""

from __future__ import annotations

import re

from cosell.crm import values
from cosell.crm.hubspot import LABELS
from cosell.crm.hubspot_activity import ACTIVITY_FILES
from cosell.crm.mapping_init import (
    BLUEPRINT_TIERS,
    Draft,
    Loaded,
    export_encoding,
    fields_section,
    file_section,
    header,
    load_objects,
    missing_note,
    q,
    shown_values,
    value_section,
)
from cosell.crm.salesforce_mapping import (
    ROLE_RULES,
    TIER_RULES,
    TYPE_RULES,
    kind_entries,
    partner_column,
    segment_column,
    stage_entry,
)
from cosell.crm.sources import Export
from cosell.policy import Policy

_ENTERED = re.compile(r'^(hs_v2_date_entered_|hs_date_entered_|Date entered ")')
DATES = {
    "deals": ("createdate", "closedate"),
    "engagements": ("hs_timestamp",),
    **{name: ("hs_timestamp",) for name in ACTIVITY_FILES},
}
REQUIRED = {
    "deals": ("hs_object_id", "createdate", "amount", "dealstage"),
    "companies": ("hs_object_id", "name"),
}


def _values(loaded: dict[str, Loaded], obj: str, column: str) -> list[str]:
    return shown_values(loaded, obj, column, LABELS)


def draft(export: Export, policy: Policy) -> Draft:
    """A commented mapping for the HubSpot export, with its CHECK notes."""
    out = Draft()
    items = load_objects(export, "hubspot")
    loaded = {item.obj: item for item in items}
    encoding = export_encoding(out, items)
    out.add(*header(policy, "hubspot", encoding))
    deals = loaded.get("deals")
    headers = deals.table.header if deals else ()
    out.add("", "[fields]  # the five declared fields: their deal property names")
    partnerish = [h for h in headers if "partner" in h.lower() and not _ENTERED.match(h)]
    chosen = fields_section(out, "hubspot", "deals", headers, partnerish)
    companies = loaded.get("companies")
    segment_column(out, "companies", companies.table.header if companies else ())
    tiers = _values(loaded, "deals", chosen["partner_source"]) if "partner_source" in chosen else []
    value_section(
        out,
        "tiers",
        "partner_source values -> none, sourced, influenced, accelerated",
        tiers,
        TIER_RULES,
        known=BLUEPRINT_TIERS,
    )
    _stages(out, loaded, policy)
    value_section(
        out,
        "opportunity_types",
        "dealtype -> new_business, expansion, renewal",
        _values(loaded, "deals", "dealtype"),
        TYPE_RULES,
    )
    roles = _values(loaded, "associations", "association_label")
    value_section(
        out, "partner_roles", "deal-to-company association label -> a partner role", roles, ROLE_RULES
    )
    out.add("", "[partners.types]  # a company type that makes a company a partner -> partner_type")
    for value in _values(loaded, "companies", "type"):
        low = value.lower()
        if "partner" in low or "resell" in low:
            out.entry(
                value,
                "reseller" if "resell" in low else "co_sell",
                "a partner type of company",
                check=True,
                section="partners.types",
            )
    out.add(
        "", "[users.roles]  # an owner id or email -> ae, sdr, partner_manager, partner_ops, finance, admin"
    )
    _activities(out, loaded, policy)
    for item in items:
        dates = list(DATES.get(item.obj, ()))
        dates += [h for h in item.table.header if _ENTERED.match(h)]
        file_section(out, item, encoding, dates, REQUIRED.get(item.obj, ()), LABELS.get(item.obj, {}))
    for obj in ("deals", "companies"):  # the two files the import cannot do without
        if obj not in loaded:
            out.notes.append(missing_note(export, obj))
    return out


def _stages(out: Draft, loaded: dict[str, Loaded], policy: Policy) -> None:
    out.add(
        "", "[stages]  # stage label -> open, won, lost; the policy's stages.won / stages.lost must agree"
    )
    pipelines = loaded.get("pipelines")
    meanings: dict[str, str] = {}
    ids: set[str] = set()
    if pipelines is not None:
        t = pipelines.table
        stage_id = t.index("stage_id")
        ids = {r[stage_id].strip() for r in t.rows} if stage_id is not None else set()
        label, closed, probability = (t.index(c) for c in ("stage_label", "is_closed", "probability"))
        for r in t.rows:
            if label is None:
                break
            try:
                is_closed = closed is not None and values.boolean(r[closed])
            except values.BadValue:
                continue
            won = probability is not None and r[probability].strip() in ("1", "1.0", "1.00")
            meanings[r[label].strip()] = ("won" if won else "lost") if is_closed else "open"
    for stage in dict.fromkeys(
        [*sorted(meanings), *(s for s in _values(loaded, "deals", "dealstage") if s not in ids)]
    ):
        meaning = meanings.get(stage) or policy.stage_class(stage)
        why = "the pipeline says so" if stage in meanings else "the policy's reading"
        stage_entry(out, policy, stage, meaning, why)


def _activities(out: Draft, loaded: dict[str, Loaded], policy: Policy) -> None:
    column = None
    kinds: list[str] = []
    for name in ACTIVITY_FILES:
        item = loaded.get(name)
        if item is None:
            continue
        for candidate in ("hs_activity_type", "hs_engagement_type", "Call and meeting type", "Activity type"):
            if item.table.index(candidate) is not None:
                column = column or candidate
        if column and item.table.index(column) is not None:
            kinds += _values(loaded, name, column)
        elif name != "engagements":
            kinds.append(name.removesuffix("s").upper())
    out.add("", "[activities]  # calls, meetings, emails, notes, tasks -> touches")
    if column:
        out.add(f"kind_column = {q(column)}  # the property whose value is the kind of touch")
    first = next((loaded[name] for name in ACTIVITY_FILES if name in loaded), None)
    partner_column(out, first.obj if first else "engagements", first.table.header if first else ())
    out.add("[activities.kinds]  # value -> a touch kind of the policy")
    kind_entries(out, kinds, policy)
