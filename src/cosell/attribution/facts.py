"""The inputs of attribution, read once from a workspace into plain frozen values.

:func:`build_facts` turns rows (read by :func:`cosell.attribution.facts_read.load_facts`) into a
:class:`Facts` holding every deal's inputs, indexed the way the per-deal rules look them up. Pure:
no engine, no store. Instants are integer UTC microseconds since
the epoch; money is :class:`~decimal.Decimal`; an empty cell is ``""`` (text) or ``None`` (instant).

Nothing here applies a rule: which touches are associated with a deal depends on its window, which
depends on the policy and the as-of time, and is decided in :mod:`cosell.attribution.reference`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Opportunity:
    """One deal with its five declared CRM attribution fields."""

    opportunity_id: str
    account_id: str
    created_at: int
    amount: Decimal
    currency: str
    stage: str
    close_date: int | None = None
    source_lead_id: str = ""
    partner_source: str = ""
    partner_id: str = ""
    partner_contact_id: str = ""
    partner_engagement_date: int | None = None
    partner_activity_log: str = ""
    owner_id: str = ""
    opportunity_type: str = ""


@dataclass(frozen=True)
class StageEntry:
    """One recorded entry of a deal into a stage."""

    stage: str
    entered_at: int


@dataclass(frozen=True)
class Touch:
    """An activity; ``partner_id`` is already resolved from the contact when it was empty."""

    touch_id: str
    occurred_at: int
    account_id: str
    actor: str
    kind: str
    opportunity_id: str = ""
    partner_id: str = ""
    user_id: str = ""

    @property
    def order_key(self) -> tuple[int, str]:
        return (self.occurred_at, self.touch_id)


@dataclass(frozen=True)
class Lead:
    lead_id: str
    created_at: int
    account_id: str = ""
    partner_id: str = ""
    converted_opportunity_id: str = ""
    source: str = ""


@dataclass(frozen=True)
class Registration:
    registration_id: str
    partner_id: str
    account_id: str
    registered_at: int
    status: str = ""
    approved_at: int | None = None
    opportunity_id: str = ""
    expires_at: int | None = None


@dataclass(frozen=True)
class OpportunityPartner:
    """A partner declared on a deal with a role (``opportunity_partners``)."""

    opportunity_id: str
    partner_id: str
    role: str
    added_at: int | None = None


@dataclass(frozen=True)
class Partner:
    partner_id: str
    name: str
    partner_type: str = ""


@dataclass(frozen=True)
class Override:
    """An accepted fix or dispute (``attribution_overrides``): replaces a deal's tier (rule OVR)."""

    override_id: str
    opportunity_id: str
    tier: str
    partner_id: str
    recorded_at: int
    withdrawn_at: int | None = None

    def active_at(self, instant: int) -> bool:
        return self.recorded_at <= instant and (self.withdrawn_at is None or self.withdrawn_at > instant)


@dataclass(frozen=True)
class DealFacts:
    """Every input row that can bear on one deal, before any window or rule is applied."""

    opportunity: Opportunity
    stage_history: tuple[StageEntry, ...]
    touches: tuple[Touch, ...]  # linked to the deal or on its account, by (occurred_at, touch_id)
    leads: tuple[Lead, ...]  # source_lead_id and leads converted to it, by lead_id
    registrations: tuple[Registration, ...]  # linked to it, or unlinked and resolved to it
    opportunity_partners: tuple[OpportunityPartner, ...]
    segment: str


@dataclass(frozen=True)
class Facts:
    """All deals' inputs, indexed for per-deal lookups. Build with :func:`load_facts` or :func:`build_facts`."""

    opportunities: Mapping[str, Opportunity]
    stage_history: Mapping[str, tuple[StageEntry, ...]]
    touches_by_opportunity: Mapping[str, tuple[Touch, ...]]
    touches_by_account: Mapping[str, tuple[Touch, ...]]
    leads: Mapping[str, Lead]
    leads_by_converted_opportunity: Mapping[str, tuple[Lead, ...]]
    registrations_by_opportunity: Mapping[str, tuple[Registration, ...]]
    opportunity_partners: Mapping[str, tuple[OpportunityPartner, ...]]
    segments: Mapping[str, str]
    account_names: Mapping[str, str]
    partners: Mapping[str, Partner]
    fx_rates: Mapping[tuple[str, str], Decimal]
    workspace_currency: str
    opportunities_by_account: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    overrides: Mapping[str, tuple[Override, ...]] = field(default_factory=dict)

    def override_at(self, opportunity_id: str, instant: int) -> Override | None:
        """The newest override of a deal recorded at or before ``instant`` and not withdrawn by then."""
        active = [o for o in self.overrides.get(opportunity_id, ()) if o.active_at(instant)]
        return max(active, key=lambda o: (o.recorded_at, o.override_id)) if active else None

    def deal(self, opportunity_id: str) -> DealFacts:
        """The inputs of one deal (raises KeyError for an unknown id)."""
        opp = self.opportunities[opportunity_id]
        touches = {t.touch_id: t for t in self.touches_by_account.get(opp.account_id, ())}
        for t in self.touches_by_opportunity.get(opportunity_id, ()):
            touches[t.touch_id] = t
        leads: dict[str, Lead] = {}
        source = self.leads.get(opp.source_lead_id) if opp.source_lead_id else None
        if source is not None:
            leads[source.lead_id] = source
        for lead in self.leads_by_converted_opportunity.get(opportunity_id, ()):
            leads[lead.lead_id] = lead
        return DealFacts(
            opportunity=opp,
            stage_history=self.stage_history.get(opportunity_id, ()),
            touches=tuple(sorted(touches.values(), key=lambda t: t.order_key)),
            leads=tuple(leads[k] for k in sorted(leads)),
            registrations=self.registrations_by_opportunity.get(opportunity_id, ()),
            opportunity_partners=self.opportunity_partners.get(opportunity_id, ()),
            segment=self.segments.get(opp.account_id, ""),
        )

    def partner_name(self, partner_id: str) -> str:
        partner = self.partners.get(partner_id)
        return partner.name if partner is not None and partner.name else partner_id


def _text(row: Row, name: str) -> str:
    value = row.get(name)
    return "" if value is None else str(value).strip()


def _instant(row: Row, name: str) -> int | None:
    value = row.get(name)
    return None if value is None else int(value)


def _required_instant(row: Row, name: str) -> int:
    value = _instant(row, name)
    if value is None:
        raise ValueError(f"{name} is required")
    return value


def build_facts(tables: Mapping[str, Sequence[Row]], workspace_currency: str = "USD") -> Facts:
    """Index rows of the canonical tables (instants as epoch microseconds, money as Decimal).

    Tables that are absent are empty. Rows are sorted on their keys, so the result does not depend on
    the order the rows came in.
    """

    def rows(name: str) -> list[Row]:
        return list(tables.get(name, ()))

    contacts = {_text(r, "contact_id"): _text(r, "partner_id") for r in rows("partner_contacts")}
    partners = {
        _text(r, "partner_id"): Partner(_text(r, "partner_id"), _text(r, "name"), _text(r, "partner_type"))
        for r in rows("partners")
    }
    segments = {_text(r, "account_id"): _text(r, "segment") for r in rows("accounts")}
    account_names = {_text(r, "account_id"): _text(r, "name") for r in rows("accounts")}

    opportunities: dict[str, Opportunity] = {}
    for r in sorted(rows("opportunities"), key=lambda r: _text(r, "opportunity_id")):
        opp = Opportunity(
            opportunity_id=_text(r, "opportunity_id"),
            account_id=_text(r, "account_id"),
            created_at=_required_instant(r, "created_at"),
            amount=Decimal(r["amount"]),
            currency=_text(r, "currency") or workspace_currency,
            stage=_text(r, "stage"),
            close_date=_instant(r, "close_date"),
            source_lead_id=_text(r, "source_lead_id"),
            partner_source=_text(r, "partner_source"),
            partner_id=_text(r, "partner_id"),
            partner_contact_id=_text(r, "partner_contact_id"),
            partner_engagement_date=_instant(r, "partner_engagement_date"),
            partner_activity_log=_text(r, "partner_activity_log"),
            owner_id=_text(r, "owner_id"),
            opportunity_type=_text(r, "opportunity_type"),
        )
        opportunities[opp.opportunity_id] = opp

    by_account: dict[str, list[Opportunity]] = defaultdict(list)
    for opp in opportunities.values():
        by_account[opp.account_id].append(opp)
    opportunities_by_account = {
        a: tuple(o.opportunity_id for o in sorted(os_, key=lambda o: (o.created_at, o.opportunity_id)))
        for a, os_ in by_account.items()
    }

    history: dict[str, list[StageEntry]] = defaultdict(list)
    for r in rows("stage_history"):
        history[_text(r, "opportunity_id")].append(
            StageEntry(_text(r, "stage"), _required_instant(r, "entered_at"))
        )
    stage_history = {
        k: tuple(sorted(set(v), key=lambda e: (e.entered_at, e.stage))) for k, v in history.items()
    }

    touches_by_opportunity: dict[str, list[Touch]] = defaultdict(list)
    touches_by_account: dict[str, list[Touch]] = defaultdict(list)
    for r in rows("touches"):
        partner = _text(r, "partner_id") or contacts.get(_text(r, "partner_contact_id"), "")
        touch = Touch(
            touch_id=_text(r, "touch_id"),
            occurred_at=_required_instant(r, "occurred_at"),
            account_id=_text(r, "account_id"),
            actor=_text(r, "actor"),
            kind=_text(r, "kind"),
            opportunity_id=_text(r, "opportunity_id"),
            partner_id=partner,
            user_id=_text(r, "user_id"),
        )
        touches_by_account[touch.account_id].append(touch)
        if touch.opportunity_id:
            touches_by_opportunity[touch.opportunity_id].append(touch)

    leads: dict[str, Lead] = {}
    leads_by_converted: dict[str, list[Lead]] = defaultdict(list)
    for r in rows("leads"):
        lead = Lead(
            lead_id=_text(r, "lead_id"),
            created_at=_required_instant(r, "created_at"),
            account_id=_text(r, "account_id"),
            partner_id=_text(r, "partner_id"),
            converted_opportunity_id=_text(r, "converted_opportunity_id"),
            source=_text(r, "source"),
        )
        leads[lead.lead_id] = lead
        if lead.converted_opportunity_id:
            leads_by_converted[lead.converted_opportunity_id].append(lead)

    registrations: dict[str, list[Registration]] = defaultdict(list)
    for r in rows("deal_registrations"):
        reg = Registration(
            registration_id=_text(r, "registration_id"),
            partner_id=_text(r, "partner_id"),
            account_id=_text(r, "account_id"),
            registered_at=_required_instant(r, "registered_at"),
            status=_text(r, "status"),
            approved_at=_instant(r, "approved_at"),
            opportunity_id=_text(r, "opportunity_id"),
            expires_at=_instant(r, "expires_at"),
        )
        target = reg.opportunity_id or _first_opportunity_at_or_after(
            opportunities, opportunities_by_account.get(reg.account_id, ()), reg.registered_at
        )
        if target:
            registrations[target].append(reg)

    opp_partners: dict[str, list[OpportunityPartner]] = defaultdict(list)
    for r in rows("opportunity_partners"):
        op = OpportunityPartner(
            opportunity_id=_text(r, "opportunity_id"),
            partner_id=_text(r, "partner_id"),
            role=_text(r, "role"),
            added_at=_instant(r, "added_at"),
        )
        opp_partners[op.opportunity_id].append(op)

    fx_rates = {(_text(r, "currency"), _text(r, "period")): Decimal(r["rate"]) for r in rows("fx_rates")}

    overrides: dict[str, list[Override]] = defaultdict(list)
    for r in rows("attribution_overrides"):
        override = Override(
            override_id=_text(r, "override_id"),
            opportunity_id=_text(r, "opportunity_id"),
            tier=_text(r, "tier"),
            partner_id=_text(r, "partner_id"),
            recorded_at=_required_instant(r, "recorded_at"),
            withdrawn_at=_instant(r, "withdrawn_at"),
        )
        overrides[override.opportunity_id].append(override)

    return Facts(
        opportunities=opportunities,
        stage_history=stage_history,
        touches_by_opportunity={
            k: tuple(sorted(v, key=lambda t: t.order_key)) for k, v in touches_by_opportunity.items()
        },
        touches_by_account={
            k: tuple(sorted(v, key=lambda t: t.order_key)) for k, v in touches_by_account.items()
        },
        leads=dict(sorted(leads.items())),
        leads_by_converted_opportunity={
            k: tuple(sorted(v, key=lambda x: x.lead_id)) for k, v in leads_by_converted.items()
        },
        registrations_by_opportunity={
            k: tuple(sorted(v, key=lambda x: x.registration_id)) for k, v in registrations.items()
        },
        opportunity_partners={
            k: tuple(sorted(v, key=lambda x: (x.partner_id, x.role))) for k, v in opp_partners.items()
        },
        segments=segments,
        account_names=account_names,
        partners=partners,
        fx_rates=fx_rates,
        workspace_currency=workspace_currency,
        opportunities_by_account=opportunities_by_account,
        overrides={k: tuple(sorted(v, key=lambda o: o.override_id)) for k, v in overrides.items()},
    )


def _first_opportunity_at_or_after(
    opportunities: Mapping[str, Opportunity], ordered_ids: Sequence[str], instant: int
) -> str:
    """The first deal of an account created at or after ``instant`` (ties: the smaller id), or ""."""
    for opportunity_id in ordered_ids:  # ordered by (created_at, opportunity_id)
        if opportunities[opportunity_id].created_at >= instant:
            return opportunity_id
    return ""
