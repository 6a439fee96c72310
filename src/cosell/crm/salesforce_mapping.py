"""The draft mapping of a Salesforce export (see :mod:`cosell.crm.mapping_init`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from cosell.crm import values
from cosell.crm.mapping_init import (
    BLUEPRINT_TIERS,
    Draft,
    Loaded,
    classify,
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
from cosell.crm.salesforce import LABELS
from cosell.crm.sources import Export
from cosell.policy import Policy

DATES = {
    "Opportunity": ("CreatedDate", "CloseDate"),
    "OpportunityHistory": ("CreatedDate",),
    "OpportunityFieldHistory": ("CreatedDate",),
    "OpportunityPartner": ("CreatedDate",),
    "Partner": ("CreatedDate",),
    "Lead": ("CreatedDate", "ConvertedDate"),
    "Task": ("ActivityDate", "CreatedDate"),
    "Event": ("ActivityDateTime", "StartDateTime", "ActivityDate", "CreatedDate"),
    "DatedConversionRate": ("StartDate", "NextStartDate"),
}
REQUIRED = {
    "Opportunity": ("Id", "AccountId", "CreatedDate", "Amount", "StageName"),
    "Account": ("Id", "Name"),
    "Lead": ("Id", "CreatedDate"),
    "OpportunityHistory": ("OpportunityId", "StageName", "CreatedDate"),
    "OpportunityFieldHistory": ("OpportunityId", "Field", "CreatedDate"),
    "OpportunityPartner": ("OpportunityId", "AccountToId"),
    "Partner": ("OpportunityId", "AccountToId"),
    "Task": ("Id",),
    "Event": ("Id",),
    "User": ("Id",),
    "CurrencyType": ("IsoCode", "ConversionRate"),
    "DatedConversionRate": ("IsoCode", "ConversionRate", "StartDate"),
}
TIER_RULES = (
    (("accelerat",), "accelerated"),
    (("influenc",), "influenced"),
    (("source", "referr", "originat"), "sourced"),
    (("none", "direct", "no partner"), "none"),
)
TYPE_RULES = (
    (("renew",), "renewal"),
    (("upgrade", "upsell", "expan", "add-on", "cross", "existing"), "expansion"),
    (("new",), "new_business"),
)
SOURCE_RULES = (
    (("partner", "reseller", "channel"), "partner_referral"),
    (("web", "online", "form", "inbound", "chat", "seo", "organic"), "inbound"),
    (("cold", "outbound", "list", "prospect"), "outbound"),
    (("show", "event", "seminar", "webinar", "conference"), "event"),
)
ROLE_RULES = (
    (("resell", "distribut", "var"), "reseller"),
    (("integrat", "consult", "service", "implement"), "servicer"),
    (("influenc", "advis", "refer"), "influencer"),
    (("sourc",), "sourcer"),
    (("co-sell", "cosell", "alliance", "technology", "isv"), "co_seller"),
)
KIND_RULES = (
    (("marketing", "newsletter"), "marketing_email_sent"),
    (("inbound",), "inbound_call"),
    (("intro",), "intro"),
    (("referr",), "referral"),
    (("joint",), "joint_call"),
    (("demo",), "demo_request"),
    (("call",), "outbound_call"),
    (("email", "e-mail"), "outbound_email_reply"),
    (("meeting",), "outbound_call"),
)


def draft_kind(value: str, policy: Policy) -> tuple[str, str]:
    """The touch kind a draft proposes for an activity type, and why: the policy's kind the value
    names word for word (``"Event Speaking"`` is ``event_speaking``), else one read from its words
    (``KIND_RULES``), else ``internal_note`` (ignored by the rules)."""
    named = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    if named in policy.known_kinds:
        return named, f'the policy\'s kind "{named}"'
    kind = classify(value, KIND_RULES)
    if kind:
        return kind, f'read from the words of "{value}"'
    return "internal_note", "no obvious kind: ignored by the rules"


def kind_entries(out: Draft, values: Sequence[str], policy: Policy) -> None:
    """``[activities.kinds]`` entries: each activity value once, with its :func:`draft_kind`, marked
    CHECK (a guess from words until someone confirms it)."""
    for value in dict.fromkeys(values):
        kind, why = draft_kind(value, policy)
        out.entry(value, kind, why, check=True, section="activities.kinds")


def stage_entry(out: Draft, policy: Policy, stage: str, meaning: str, why: str) -> None:
    """A ``[stages]`` entry: the stage's meaning read from the export, marked CHECK with the fix to
    make when the policy's stages.won / stages.lost read it otherwise (the rules read the policy)."""
    disagree = policy.stage_class(stage) != meaning
    if disagree:
        key = "stages.won" if meaning == "won" else "stages.lost"
        why += f"; the policy says {policy.stage_class(stage)}: add {q(stage)} to {key} in the policy"
    out.entry(stage, meaning, why, check=disagree, section="stages")


def partner_column(out: Draft, obj: str, headers: Sequence[str]) -> None:
    """``partner_column``: a column of the activities whose name says partner, marked CHECK (without
    it every activity is a direct touch unless its contact is a partner's), else commented out."""
    found = next((h for h in headers if "partner" in h.lower()), None)
    if found is None:
        out.add(
            '# partner_column = "Partner_Account__c"  # a lookup naming the partner of an activity, if any'
        )
        return
    out.add(f"partner_column = {q(found)}  # CHECK: a partner column of {obj}: the partner of an activity")
    out.notes.append(f"[activities] partner_column = {q(found)}: a partner column of {obj}")


def segment_column(out: Draft, obj: str, headers: Sequence[str]) -> None:
    """``[accounts] segment_column``: a column of the accounts whose name says segment, marked CHECK
    (without it every account has the empty segment, and the cohorts compare deals across
    segments), else commented out."""
    out.add("", "[accounts]")
    found = next((h for h in headers if "segment" in h.lower()), None)
    if found is None:
        out.add('# segment_column = "Segment__c"  # the column of an account\'s segment, if any')
        return
    out.add(f"segment_column = {q(found)}  # CHECK: a segment column of {obj}: the cohorts' segment")
    out.notes.append(f"[accounts] segment_column = {q(found)}: a segment column of {obj}")


def _values(loaded: dict[str, Loaded], obj: str, column: str) -> list[str]:
    return shown_values(loaded, obj, column, LABELS)


def draft(export: Export, policy: Policy) -> Draft:
    """A commented mapping for the Salesforce export, with its CHECK notes."""
    out = Draft()
    items = load_objects(export, "salesforce")
    loaded = {item.obj: item for item in items}
    encoding = export_encoding(out, items)
    out.add(*header(policy, "salesforce", encoding))
    opportunity = loaded.get("Opportunity")
    headers = opportunity.table.header if opportunity else ()
    out.add("", "[fields]  # the five declared fields: their API names on Opportunity")
    partnerish = [h for h in headers if "partner" in h.lower() and h != "PartnerAccountId"]
    chosen = fields_section(out, "salesforce", "Opportunity", headers, partnerish)
    account = loaded.get("Account")
    segment_column(out, "Account", account.table.header if account else ())
    tier_values = _values(loaded, "Opportunity", chosen.get("partner_source", "")) if chosen else []
    value_section(
        out,
        "tiers",
        "partner_source values -> none, sourced, influenced, accelerated",
        tier_values,
        TIER_RULES,
        known=BLUEPRINT_TIERS,
    )
    _stages(out, loaded, policy)
    types = _values(loaded, "Opportunity", "Type")
    value_section(out, "opportunity_types", "Type -> new_business, expansion, renewal", types, TYPE_RULES)
    sources = _values(loaded, "Lead", "LeadSource")
    value_section(
        out,
        "lead_sources",
        "LeadSource -> partner_referral, inbound, outbound, event, other",
        sources,
        SOURCE_RULES,
        "other",
    )
    roles = _values(loaded, "OpportunityPartner", "Role") + _values(loaded, "Partner", "Role")
    value_section(
        out,
        "partner_roles",
        "OpportunityPartner Role -> sourcer, co_seller, influencer, reseller, servicer",
        list(dict.fromkeys(roles)),
        ROLE_RULES,
    )
    out.add(
        "",
        "[partners]  # partners are accounts with IsPartner set, or named as partners on deals",
        'default_type = "co_sell"  # partner_type of a partner whose Account Type is not in [partners.types]',
        "",
        "[users]",
        'default_role = ""  # role of a user not in [users.roles] (empty: none; partner users get partner)',
        "[users.roles]  # a user Id -> ae, sdr, partner_manager, partner_ops, finance, admin, partner",
    )
    _activities(out, loaded, policy)
    for item in items:
        labels = LABELS.get(item.obj, {})
        file_section(out, item, encoding, DATES.get(item.obj, ()), REQUIRED.get(item.obj, ()), labels)
    if not opportunity:
        out.notes.append(missing_note(export, "Opportunity"))
    return out


def _stages(out: Draft, loaded: dict[str, Loaded], policy: Policy) -> None:
    out.add(
        "",
        "[stages]  # StageName -> open, won, lost; the policy's stages.won / stages.lost must agree",
    )
    item = loaded.get("Opportunity")
    stages = _values(loaded, "Opportunity", "StageName") + _values(loaded, "OpportunityHistory", "StageName")
    closed_won: dict[str, set[str]] = {}
    if item is not None:
        s, c, w = (item.table.index(n) for n in ("StageName", "IsClosed", "IsWon"))
        if s is not None and c is not None and w is not None:
            for r in item.table.rows:
                try:
                    meaning = "won" if values.boolean(r[w]) else "lost" if values.boolean(r[c]) else "open"
                except values.BadValue:
                    continue
                closed_won.setdefault(r[s].strip(), set()).add(meaning)
    for stage in dict.fromkeys(stages):
        seen = closed_won.get(stage, set())
        if len(seen) == 1:
            meaning = next(iter(seen))
            why = f"its deals' IsClosed/IsWon say {meaning}"
        else:
            meaning = policy.stage_class(stage)
            why = "the policy's reading (the deals do not say)"
        stage_entry(out, policy, stage, meaning, why)


def _activities(out: Draft, loaded: dict[str, Loaded], policy: Policy) -> None:
    task = loaded.get("Task") or loaded.get("Event")
    column = None
    if task is not None:
        column = next(
            (
                c
                for c in ("Type", "Type__c", "TaskSubtype", "EventSubtype")
                if task.table.index(c) is not None
            ),
            None,
        )
    out.add("", "[activities]  # Task and Event -> touches")
    if column:
        out.add(f"kind_column = {q(column)}  # the column whose value is the kind of touch")
    partner_column(out, task.obj if task else "Task", task.table.header if task else ())
    out.add(
        "[activities.kinds]  # value -> a touch kind of the policy (partner engagement: referral, intro,",
        "# joint_call, ...; direct: outbound_call, demo_request, ...; ignored: internal_note)",
    )
    kinds = _values(loaded, "Task", column or "Type") + _values(loaded, "Event", column or "Type")
    kind_entries(out, kinds, policy)
    if (
        task is not None
        and column
        and any(not r[task.table.index(column) or 0].strip() for r in task.table.rows)
    ):
        out.entry("", "internal_note", "activities with no value", check=True, section="activities.kinds")
