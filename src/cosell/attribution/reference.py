"""The reference implementation: one deal at a time, in plain Python, written to be read.

It is the oracle the batch engine is checked against (row for row, to the cent) and the source of
``explain``. Every step follows docs/rules.md, section by section: window and association, sourcing
claims and the direct-first guard, tiers in order, acceleration against a cohort baseline, roles,
credit. All instants are integer UTC microseconds; nothing is a float.

>>> # decision = decide("O1", facts, policy, as_of, "role_weighted")
>>> # rows, credits = attribute_reference(facts, policy, as_of)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from cosell.attribution.cohort import Baseline, Baselines, CohortBaselines
from cosell.attribution.credit import (
    TOUCH_MODELS,
    CreditTouch,
    ModelSettings,
    PartnerRole,
    compute_shares,
    format_amount,
    format_share,
    get_model,
    split_amount,
)
from cosell.attribution.facts import DealFacts, Facts, Lead, Opportunity, Override, Registration, Touch
from cosell.attribution.timeline import (
    amount_band,
    close_time,
    first_entry,
    from_epoch_micros,
    side,
    stage_timeline,
)
from cosell.errors import InputError
from cosell.instants import MICROS_PER_DAY, epoch_micros, format_days, format_instant
from cosell.money import round_money, to_minor
from cosell.policy import ROLES, Policy
from cosell.results import AttributionRow, ClaimRow, CreditRow, EvidenceRow, format_rules, half_micros_text

# Tie order of sourcing claims at the same instant (docs/rules.md: S2 < S1 < S3 < S4).
CLAIM_RANK = {"S2": 0, "S1": 1, "S3": 2, "S4": 3}
ROLE_ORDER = {role: i for i, role in enumerate(ROLES)}
KEPT_DECLARED_ROLES = ("co_seller", "reseller", "influencer", "servicer")


@dataclass(frozen=True)
class Claim:
    """A sourcing claim ``(partner, rule, evidence time)`` and the guard that blocked it, if any."""

    partner_id: str
    rule: str  # S1 .. S4
    at: int
    evidence: str  # lead:L1, registration:R1, touch:T1, opportunity_partner:P1, crm:partner_id
    blocked_by: str = ""  # "", DIRECT_FIRST or TIE_TO_DIRECT
    blocking_touch: str = ""  # the earliest direct touch that blocked it
    blocking_at: int | None = None  # when that touch occurred

    @property
    def blocked(self) -> bool:
        return bool(self.blocked_by)

    @property
    def sort_key(self) -> tuple[int, int, str, str]:
        return (self.at, CLAIM_RANK[self.rule], self.partner_id, self.evidence)


@dataclass(frozen=True)
class DeclaredRole:
    """A declared influence role and whether it passes the activity rule."""

    partner_id: str
    source: str  # opportunity_partners:influencer, opportunity_partners:co_seller, crm:influenced, ...
    activity: tuple[str, ...]  # touch ids (and "crm:partner_activity_log") that show activity
    counts: bool  # passes (activity, or activity not required)


@dataclass(frozen=True)
class Acceleration:
    """The acceleration test of a won, partner-engaged, unsourced deal."""

    stage: str  # s
    stage_entered_at: int  # S (or C for the whole-cycle fallback)
    remaining: int  # microseconds
    baseline: Baseline | None
    fired: bool
    min_pct: Decimal = Decimal("0.20")
    min_days: int = 7
    window_days: int = 365
    min_cohort_size: int = 10

    @property
    def reduction2(self) -> int | None:
        """Twice (baseline - remaining), or None without a baseline."""
        return None if self.baseline is None else self.baseline.median2 - 2 * self.remaining


@dataclass(frozen=True)
class Credit:
    partner_id: str
    role: str
    weight: Decimal
    share: Fraction
    amount: Decimal


@dataclass(frozen=True)
class Decision:
    """Everything decided about one deal, with its evidence. Rows come from :meth:`row` and :meth:`credit_rows`."""

    opportunity_id: str
    account_id: str
    status: str  # open, won, lost
    created_at: int
    closed_at: int  # X (T when open)
    as_of: int
    amount: Decimal
    currency: str
    tier: str
    engagement_at: int | None
    engagement_touch: str
    claims: tuple[Claim, ...]
    sourcer: str
    partner_leads: tuple[Lead, ...]
    registrations: tuple[Registration, ...]
    engagement_touches: tuple[Touch, ...]  # associated partner-engagement touches (any time)
    declared: tuple[DeclaredRole, ...]
    acceleration: Acceleration | None
    roles: tuple[PartnerRole, ...]
    credits: tuple[Credit, ...]
    model: str
    model_fell_back: bool
    primary_partner_id: str
    rules: frozenset[str]
    evidence: tuple[str, ...]
    policy_version: str
    marketplace_partners: tuple[str, ...] = field(default=())
    direct_only: bool = False
    lookback_start: int = 0
    computed_tier: str = ""  # the tier before an override
    override: Override | None = None
    segment: str = ""
    band: int | None = None  # amount band: acceleration candidates and direct-only won deals

    def row(self) -> AttributionRow:
        acc = self.acceleration
        with_baseline = acc is not None and acc.baseline is not None
        baseline = acc.baseline if acc is not None else None
        return AttributionRow(
            opportunity_id=self.opportunity_id,
            tier=self.tier,
            primary_partner_id=self.primary_partner_id,
            engagement_at=_instant_text(self.engagement_at),
            cycle_days=format_days(self.closed_at - self.created_at),
            baseline_days=format_days(Decimal(baseline.median2) / 2) if baseline else "",
            cycle_reduction_days=(
                format_days(Decimal(acc.reduction2) / 2) if acc and acc.reduction2 is not None else ""
            ),
            rules=format_rules(self.rules),
            remaining_days=format_days(acc.remaining) if acc and with_baseline else "",
            as_of=_instant_text(self.as_of),
            policy_version=self.policy_version,
            model=self.model,
            cohort=baseline.level if baseline else "",
            cohort_size=str(baseline.size) if baseline else "",
            evidence=" ".join(self.evidence),
        )

    def evidence_row(self) -> EvidenceRow:
        """What the decision rests on, as stored with the attribution (docs/evidence.md)."""
        acc = self.acceleration
        baseline = acc.baseline if acc is not None else None
        return EvidenceRow(
            opportunity_id=self.opportunity_id,
            status=self.status,
            created_at=_instant_text(self.created_at),
            closed_at="" if self.status == "open" else _instant_text(self.closed_at),
            engagement_at=_instant_text(self.engagement_at),
            engagement_touch_id=self.engagement_touch,
            direct_only="true" if self.direct_only else "false",
            sourcer=self.sourcer,
            computed_tier=self.computed_tier,
            segment=self.segment,
            band="" if self.band is None else str(self.band),
            stage=acc.stage if acc else "",
            stage_entered_at=_instant_text(acc.stage_entered_at) if acc else "",
            remaining_us=str(acc.remaining) if acc else "",
            cohort=baseline.level if baseline else "",
            cohort_size=str(baseline.size) if baseline else "",
            baseline_us=half_micros_text(baseline.median2) if baseline else "",
        )

    def claim_rows(self) -> list[ClaimRow]:
        """The sourcing claims with their guards, by rule, partner and source."""
        rows = [
            ClaimRow(
                self.opportunity_id,
                c.partner_id,
                c.rule,
                _instant_text(c.at),
                c.evidence,
                c.blocked_by,
                c.blocking_touch,
                _instant_text(c.blocking_at),
            )
            for c in self.claims
        ]
        return sorted(rows, key=lambda r: (r.rule, r.partner_id, r.source))

    def credit_rows(self) -> list[CreditRow]:
        return [
            CreditRow(
                self.opportunity_id,
                c.partner_id,
                c.role,
                format_share(c.share),
                format_amount(c.amount),
                self.currency,
            )
            for c in sorted(self.credits, key=lambda c: c.partner_id)
        ]


def _instant_text(instant: int | None) -> str:
    return "" if instant is None else format_instant(from_epoch_micros(instant))


def is_associated(touch: Touch, opp: Opportunity, window_start: int, closed_at: int) -> bool:
    """Linked to the deal, or unlinked on its account inside the window ``[C - L, X]``."""
    if touch.opportunity_id:
        return touch.opportunity_id == opp.opportunity_id
    return touch.account_id == opp.account_id and window_start <= touch.occurred_at <= closed_at


def registration_counts(reg: Registration, created_at: int, policy: Policy) -> bool:
    """A registration's status and dates let it count for a deal created at ``created_at``."""
    if reg.status == "approved":
        pass
    elif reg.status == "expired":
        if reg.expires_at is None or reg.expires_at <= created_at:
            return False
    else:
        return False
    if reg.registered_at > created_at:
        return False
    if reg.approved_at is not None and reg.approved_at > created_at:
        return False
    expiry = reg.expires_at
    if expiry is None:
        expiry = reg.registered_at + policy.protection_window_days * MICROS_PER_DAY
    return expiry > created_at


class _Deal:
    """Per-deal working values (window, touches by side) shared by the steps of :func:`decide`."""

    def __init__(self, inputs: DealFacts, policy: Policy, as_of: int) -> None:
        self.inputs = inputs
        self.opp = opp = inputs.opportunity
        self.policy = policy
        self.status = policy.stage_class(opp.stage)
        self.created_at = opp.created_at
        self.closed_at = as_of if self.status == "open" else close_time(opp, inputs.stage_history, policy)
        if self.closed_at > as_of:
            # A deal that closed after the as-of instant was still open then (docs/rules.md, Times).
            self.status, self.closed_at = "open", as_of
        self.lookback_start = opp.created_at - policy.lookback_days * MICROS_PER_DAY
        self.timeline = stage_timeline(opp, inputs.stage_history)
        associated = [t for t in inputs.touches if is_associated(t, opp, self.lookback_start, self.closed_at)]
        self.associated = associated
        self.partner_touches = [t for t in associated if side(t, policy) == "partner"]
        self.partner_before = [t for t in self.partner_touches if t.occurred_at <= self.closed_at]
        self.partner_after = [t for t in self.partner_touches if t.occurred_at > self.closed_at]
        # Direct engagement on A (any opportunity of A, or linked to O) inside the lookback.
        self.direct_in_lookback = [
            t
            for t in inputs.touches
            if side(t, policy) == "direct"
            and (t.account_id == opp.account_id or t.opportunity_id == opp.opportunity_id)
            and self.lookback_start <= t.occurred_at <= opp.created_at
        ]
        self.partner_leads = tuple(lead for lead in inputs.leads if lead.partner_id)
        self.registrations = tuple(
            r for r in inputs.registrations if registration_counts(r, opp.created_at, policy)
        )

    def in_lookback(self, instant: int) -> bool:
        return self.lookback_start <= instant <= self.created_at

    def is_direct_only(self) -> bool:
        opp = self.opp
        return (
            not self.partner_before
            and all(op.role == "reseller" for op in self.inputs.opportunity_partners)
            and not self.partner_leads
            and not self.registrations
            and not opp.partner_id
            and opp.partner_source in ("", "none")
        )


def _claims(deal: _Deal) -> list[Claim]:
    opp = deal.opp
    raw: list[Claim] = []
    for lead in deal.partner_leads:
        if deal.in_lookback(lead.created_at):
            raw.append(Claim(lead.partner_id, "S1", lead.created_at, f"lead:{lead.lead_id}"))
    for reg in deal.registrations:
        raw.append(Claim(reg.partner_id, "S2", reg.registered_at, f"registration:{reg.registration_id}"))
    engagement = [
        t for t in deal.associated if side(t, deal.policy) is not None and deal.in_lookback(t.occurred_at)
    ]
    if engagement:
        t0 = min(t.occurred_at for t in engagement)
        first: dict[str, str] = {}
        for t in engagement:
            if t.occurred_at == t0 and side(t, deal.policy) == "partner":
                first[t.partner_id] = min(first.get(t.partner_id, t.touch_id), t.touch_id)
        raw += [Claim(p, "S3", t0, f"touch:{tid}") for p, tid in first.items()]
    for op in deal.inputs.opportunity_partners:
        if op.role == "sourcer":
            at = op.added_at if op.added_at is not None else opp.created_at
            raw.append(Claim(op.partner_id, "S4", at, f"opportunity_partner:{op.partner_id}"))
    if opp.partner_id and opp.partner_source == "sourced":
        at = opp.partner_engagement_date if opp.partner_engagement_date is not None else opp.created_at
        raw.append(Claim(opp.partner_id, "S4", at, "crm:partner_id"))

    claims = []
    for claim in raw:
        blocking = [t for t in deal.direct_in_lookback if t.occurred_at <= claim.at]
        if blocking:
            earliest = min(blocking, key=lambda t: t.order_key)
            guard = "DIRECT_FIRST" if earliest.occurred_at < claim.at else "TIE_TO_DIRECT"
            claim = Claim(
                claim.partner_id, claim.rule, claim.at, claim.evidence, guard, earliest.touch_id,
                earliest.occurred_at,
            )  # fmt: skip
        claims.append(claim)
    return sorted(claims, key=lambda c: c.sort_key)


def _declared_roles(deal: _Deal, claims: list[Claim], sourcer: str) -> list[DeclaredRole]:
    """Declared influence roles (and blocked S4 declarations) of partners other than the sourcer."""
    opp = deal.opp
    requires = deal.policy.influence_requires_activity

    def touches_of(partner_id: str) -> tuple[str, ...]:
        return tuple(t.touch_id for t in deal.partner_before if t.partner_id == partner_id)

    declared: list[DeclaredRole] = []
    for op in deal.inputs.opportunity_partners:
        if op.role in ("influencer", "co_seller") and op.partner_id != sourcer:
            activity = touches_of(op.partner_id)
            source = f"opportunity_partners:{op.role}"
            declared.append(DeclaredRole(op.partner_id, source, activity, bool(activity) or not requires))
    if opp.partner_id and opp.partner_source in ("influenced", "accelerated") and opp.partner_id != sourcer:
        activity = touches_of(opp.partner_id)
        if opp.partner_activity_log:
            activity += ("crm:partner_activity_log",)
        source = f"crm:{opp.partner_source}"
        declared.append(DeclaredRole(opp.partner_id, source, activity, bool(activity) or not requires))
    for claim in claims:
        if claim.rule == "S4" and claim.blocked and claim.partner_id != sourcer:
            activity = touches_of(claim.partner_id)
            if claim.evidence == "crm:partner_id" and opp.partner_activity_log:
                activity += ("crm:partner_activity_log",)
            source = "crm:sourced" if claim.evidence == "crm:partner_id" else "opportunity_partners:sourcer"
            declared.append(DeclaredRole(claim.partner_id, source, activity, bool(activity) or not requires))
    return sorted(declared, key=lambda d: (d.partner_id, d.source))


def acceleration_fires(remaining: int, median2: int, policy: Policy) -> bool:
    """Whether ``remaining`` microseconds is measurably faster than a baseline of twice the median
    ``median2``: at most (1 - ``acceleration_min_pct``) of it, and ``acceleration_min_days`` less."""
    pct = Fraction(policy.acceleration_min_pct)
    fast_enough = Fraction(2 * remaining) <= Fraction(median2) * (1 - pct)
    enough_days = median2 - 2 * remaining >= 2 * policy.acceleration_min_days * MICROS_PER_DAY
    return fast_enough and enough_days


def _acceleration(deal: _Deal, engaged_at: int, baselines: CohortBaselines) -> Acceleration:
    opp, timeline = deal.opp, deal.timeline
    if engaged_at <= opp.created_at:
        stage = timeline[0].stage
    else:
        stage = [e for e in timeline if e.entered_at <= engaged_at][-1].stage
    entered = first_entry(timeline, stage)
    assert entered is not None
    baseline = baselines.for_deal(opp, deal.closed_at, stage)
    if baseline is not None and baseline.whole_cycle:
        entered = opp.created_at
    remaining = deal.closed_at - entered
    policy = deal.policy
    fired = baseline is not None and acceleration_fires(remaining, baseline.median2, policy)
    return Acceleration(
        stage,
        entered,
        remaining,
        baseline,
        fired,
        policy.acceleration_min_pct,
        policy.acceleration_min_days,
        policy.baseline_window_days,
        policy.min_cohort_size,
    )


def _assign_roles(
    deal: _Deal, claims: list[Claim], sourcer: str, weights: dict[str, Decimal]
) -> list[PartnerRole]:
    declared: dict[str, list[str]] = {}
    for op in deal.inputs.opportunity_partners:
        declared.setdefault(op.partner_id, []).append(op.role)
    influencers = {c.partner_id for c in claims}
    influencers |= {lead.partner_id for lead in deal.partner_leads}
    influencers |= {r.partner_id for r in deal.registrations}
    influencers |= {t.partner_id for t in deal.partner_before}
    if deal.opp.partner_id:
        influencers.add(deal.opp.partner_id)
    servicers = {t.partner_id for t in deal.partner_after}
    partners = set(declared) | influencers | servicers
    if sourcer:
        partners.add(sourcer)

    roles = []
    for partner_id in sorted(partners):
        kept = [r for r in declared.get(partner_id, []) if r in KEPT_DECLARED_ROLES]
        if partner_id == sourcer:
            role = "sourcer"
        elif kept:
            role = min(kept, key=lambda r: (-weights[r], ROLE_ORDER[r]))
        elif partner_id in influencers or "sourcer" in declared.get(partner_id, []):
            role = "influencer"
        else:
            role = "servicer"
        roles.append(PartnerRole(partner_id, role, weights[role]))
    return roles


def decide(
    deal: str | Opportunity,
    facts: Facts,
    policy: Policy,
    as_of: datetime,
    model: str = "role_weighted",
    *,
    baselines: CohortBaselines | None = None,
    known_at: datetime | None = None,
) -> Decision:
    """Decide one deal as of ``as_of``: tier, claims and guards, acceleration, roles, credit, rule
    ids and evidence.

    ``baselines`` (the direct-only won deals) is built from ``facts`` when not given; pass one
    built by :func:`build_baselines` when deciding many deals. The override applied is the newest
    recorded and not withdrawn at ``known_at`` (the knowledge instant ``facts`` were read at, as
    the batch engine does), else at ``as_of``.
    """
    get_model(model)  # an unknown model is a usage error before any work
    opportunity_id = deal if isinstance(deal, str) else deal.opportunity_id
    as_of_micros = epoch_micros(as_of)
    d = _Deal(facts.deal(opportunity_id), policy, as_of_micros)
    opp = d.opp
    rules: set[str] = set()

    # Tier 1: sourcing claims, the direct-first guard, first in wins.
    claims = _claims(d)
    unblocked = [c for c in claims if not c.blocked]
    sourcer = unblocked[0].partner_id if unblocked else ""
    rules |= {c.rule for c in unblocked}
    rules |= {c.blocked_by for c in claims if c.blocked}
    if len({c.partner_id for c in unblocked}) >= 2:
        rules.add("DOUBLE_SOURCED")
    if any(op.role == "reseller" for op in d.inputs.opportunity_partners):
        rules.add("MARKETPLACE_NOT_SOURCE")

    engagement = min(d.partner_before, key=lambda t: t.order_key) if d.partner_before else None
    declared = _declared_roles(d, claims, sourcer)
    if any(not role.counts for role in declared):
        rules.add("NO_ACTIVITY")

    acceleration: Acceleration | None = None
    if sourcer:
        tier = "sourced"
    else:
        if d.status == "won" and engagement is not None:
            acceleration = _acceleration(
                d, engagement.occurred_at, baselines or build_baselines(facts, policy, as_of_micros)
            )
            if acceleration.baseline is None:
                rules.add("NO_BASELINE")
            elif acceleration.baseline.whole_cycle:
                rules.add("WHOLE_CYCLE")
        if acceleration is not None and acceleration.fired:
            tier = "accelerated"
            rules.add("ACC")
        else:
            if acceleration is not None and acceleration.baseline is not None:
                rules.add("NOT_FASTER")
            influence = (
                d.partner_before or d.partner_leads or d.registrations or any(r.counts for r in declared)
            )
            tier = "influenced" if influence else "none"
            if influence:
                rules.add("INF")

    computed_tier = tier
    override = facts.override_at(opportunity_id, as_of_micros if known_at is None else epoch_micros(known_at))
    if override is not None:
        tier = override.tier
        rules.add("OVR")

    roles: list[PartnerRole] = []
    credits: list[Credit] = []
    fell_back = False
    primary = ""
    if tier != "none":
        weights = policy.role_weights
        roles = _assign_roles(d, claims, sourcer, weights)
        if override is not None:
            roles = _apply_override(roles, override, weights)
        touches = [CreditTouch(t.touch_id, t.occurred_at, t.partner_id) for t in d.partner_before]
        settings = ModelSettings(policy.position_based_weights, policy.time_decay_half_life_days)
        split = compute_shares(model, roles, touches, d.closed_at, settings)
        fell_back = split.fell_back and model in TOUCH_MODELS
        if fell_back:
            rules.add("TOUCH_MODEL_FALLBACK")
        amounts = split_amount(opp.amount, opp.currency, roles, split.shares)
        credits = [
            Credit(r.partner_id, r.role, r.weight, split.shares[r.partner_id], amounts[r.partner_id])
            for r in roles
        ]
        final_sourcer = next((r.partner_id for r in roles if r.role == "sourcer"), "")
        if final_sourcer:
            primary = final_sourcer
        elif credits:  # none: an override to a partner tier, naming no partner, of a deal without one
            best = min(
                credits,
                key=lambda c: (-to_minor(c.amount, opp.currency), -c.weight, c.partner_id),
            )
            primary = best.partner_id

    evidence = _evidence_ids(d, claims, roles, engagement)
    direct_only = d.is_direct_only()
    band = None
    if acceleration is not None:
        band = amount_band(facts, policy, opp, d.closed_at)
    elif direct_only and d.status == "won":
        try:
            band = amount_band(facts, policy, opp, d.closed_at)
        except InputError:  # needed by no cohort: the engine leaves it empty too
            band = None
    return Decision(
        opportunity_id=opp.opportunity_id,
        account_id=opp.account_id,
        status=d.status,
        created_at=opp.created_at,
        closed_at=d.closed_at,
        as_of=as_of_micros,
        amount=round_money(opp.amount, opp.currency),
        currency=opp.currency,
        tier=tier,
        engagement_at=engagement.occurred_at if engagement else None,
        engagement_touch=engagement.touch_id if engagement else "",
        claims=tuple(claims),
        sourcer=sourcer,
        partner_leads=d.partner_leads,
        registrations=d.registrations,
        engagement_touches=tuple(d.partner_touches),
        declared=tuple(declared),
        acceleration=acceleration,
        roles=tuple(roles),
        credits=tuple(credits),
        model=model,
        model_fell_back=fell_back,
        primary_partner_id=primary,
        rules=frozenset(rules),
        evidence=evidence,
        policy_version=policy.version,
        marketplace_partners=tuple(
            sorted({op.partner_id for op in d.inputs.opportunity_partners if op.role == "reseller"})
        ),
        direct_only=direct_only,
        computed_tier=computed_tier,
        override=override,
        lookback_start=d.lookback_start,
        segment=d.inputs.segment,
        band=band,
    )


def _apply_override(
    roles: list[PartnerRole], override: Override, weights: dict[str, Decimal]
) -> list[PartnerRole]:
    """Roles after an override: a sourced override makes its partner the sourcer and the replaced
    sourcer an influencer; any other override demotes the computed sourcer to influencer; a named
    partner not on the deal is added (sourcer for sourced, else influencer)."""
    out = []
    for r in roles:
        if override.tier == "sourced" and override.partner_id and r.partner_id == override.partner_id:
            role = "sourcer"
        elif r.role == "sourcer":
            role = "influencer"
        else:
            role = r.role
        out.append(PartnerRole(r.partner_id, role, weights[role]))
    if override.partner_id and override.partner_id not in {r.partner_id for r in roles}:
        role = "sourcer" if override.tier == "sourced" else "influencer"
        out.append(PartnerRole(override.partner_id, role, weights[role]))
    return sorted(out, key=lambda r: r.partner_id)


_EVIDENCE_KIND_ORDER = {"partner": 0, "lead": 1, "registration": 2, "touch": 3}


def _evidence_ids(
    deal: _Deal, claims: list[Claim], roles: list[PartnerRole], engagement: Touch | None
) -> tuple[str, ...]:
    """Ids of the rows a decision rests on, ``kind:id``, by kind (partner, lead, registration, touch) and id."""
    ids = {f"partner:{r.partner_id}" for r in roles}
    ids |= {f"lead:{lead.lead_id}" for lead in deal.partner_leads}
    ids |= {f"registration:{r.registration_id}" for r in deal.registrations}
    ids |= {f"touch:{t.touch_id}" for t in deal.partner_touches}
    ids |= {f"touch:{c.blocking_touch}" for c in claims if c.blocking_touch}
    ids |= {c.evidence for c in claims if c.evidence.split(":")[0] in _EVIDENCE_KIND_ORDER}
    if engagement is not None:
        ids.add(f"touch:{engagement.touch_id}")
    return tuple(sorted(ids, key=lambda x: (_EVIDENCE_KIND_ORDER[x.split(":", 1)[0]], x.split(":", 1)[1])))


def build_baselines(facts: Facts, policy: Policy, as_of: int) -> Baselines:
    """The direct-only won deals of ``facts`` (the baseline pool of every cohort)."""

    def direct_only(opp: Opportunity, closed_at: int) -> bool:
        return _Deal(facts.deal(opp.opportunity_id), policy, as_of).is_direct_only()

    return Baselines.build(facts, policy, direct_only)


def decide_all(facts: Facts, policy: Policy, as_of: datetime, model: str = "role_weighted") -> list[Decision]:
    """The decision of every deal, by opportunity_id."""
    get_model(model)
    baselines = build_baselines(facts, policy, epoch_micros(as_of))
    return [
        decide(opportunity_id, facts, policy, as_of, model, baselines=baselines)
        for opportunity_id in sorted(facts.opportunities)
    ]


def attribute_reference(
    facts: Facts, policy: Policy, as_of: datetime, model: str = "role_weighted"
) -> tuple[list[AttributionRow], list[CreditRow]]:
    """Attribution and credit rows of every deal, sorted by opportunity_id (credits also by partner_id)."""
    rows: list[AttributionRow] = []
    credits: list[CreditRow] = []
    for decision in decide_all(facts, policy, as_of, model):
        rows.append(decision.row())
        credits += decision.credit_rows()
    return rows, credits
