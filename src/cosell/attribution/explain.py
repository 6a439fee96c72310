"""Explain one decision as sentences a CFO can read, and as data with stable keys.

>>> # report = explain(decide("O1", facts, policy, as_of), facts)
>>> # print(report.text()); json.dumps(report.to_json())

The sentences say which partner got which tier and why: the evidence with its dates, the guard that
blocked each claim, the declared roles and their activity, the cohort behind an acceleration test
(level, size, median) with the remaining time against it, the credit split, the as-of time, the
instant the data was known at (:mod:`cosell.asof`) and the policy version. ``to_json()`` carries
the same facts as data; its keys are documented in
:data:`JSON_KEYS` and do not change between releases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from cosell import clock
from cosell.asof import knowledge
from cosell.attribution.credit import format_amount, format_share
from cosell.attribution.facts import Facts
from cosell.attribution.facts_read import load_facts
from cosell.attribution.per_deal import BaselineMoved, decide_deals
from cosell.attribution.reference import Acceleration, Claim, Credit, Decision, decide
from cosell.attribution.timeline import from_epoch_micros
from cosell.engine import Engine
from cosell.errors import NotFound
from cosell.instants import MICROS_PER_DAY, format_days, format_instant, json_instant
from cosell.money import format_money
from cosell.policy import Policy
from cosell.results import format_rules
from cosell.store.known import require_import, why_unknown

JSON_KEYS = (
    "opportunity_id", "account_id", "tier", "status", "primary_partner_id", "created_at", "closed_at",
    "as_of", "known_at", "policy_version", "model", "amount", "currency", "engagement_at", "engagement_touch_id",
    "rules", "claims", "declared_roles", "acceleration", "credits", "evidence", "direct_only",
    "computed_tier", "override", "sentences",
)  # fmt: skip

_LEVELS = {
    "1": "the same segment and amount band",
    "2": "the same segment",
    "3": "all segments",
}
_RULE_WORDS = {
    "S1": "a partner lead",
    "S2": "a deal registration",
    "S3": "the first engagement touch",
    "S4": "a sourcer declaration",
}


@dataclass(frozen=True)
class ExplainReport:
    """The explanation of one decision: sentences for people, :meth:`to_json` for machines."""

    opportunity_id: str
    sentences: tuple[str, ...]
    data: Mapping[str, Any]

    def text(self) -> str:
        return "\n".join(self.sentences)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with the keys of :data:`JSON_KEYS`, in that order."""
        return {key: self.data[key] for key in JSON_KEYS}


def _when(instant: int | None) -> str:
    return "" if instant is None else format_instant(from_epoch_micros(instant))


class _Names:
    def __init__(self, facts: Facts | None) -> None:
        self.facts = facts

    def partner(self, partner_id: str) -> str:
        if self.facts is None:
            return partner_id
        name = self.facts.partner_name(partner_id)
        return partner_id if name == partner_id else f"{name} ({partner_id})"

    def account(self, account_id: str) -> str:
        name = self.facts.account_names.get(account_id, "") if self.facts else ""
        return f"{name} ({account_id})" if name else account_id


def _evidence_phrase(claim: Claim) -> str:
    kind, _, ident = claim.evidence.partition(":")
    at = _when(claim.at)
    if kind == "lead":
        return f"partner lead {ident} created {at}"
    if kind == "registration":
        return f"deal registration {ident} submitted {at}"
    if kind == "touch":
        return f"touch {ident} on {at}, the first engagement with the account in the lookback"
    if kind == "opportunity_partner":
        return f"declaration as sourcer in the deal's partner list (added {at})"
    return f"declaration as sourcer in the CRM partner fields (engagement date {at})"


def _unexplained_credit_sentences(d: Decision, names: _Names) -> list[str]:
    """Why each credited partner no other sentence names is on the deal (SPEC section 3): its
    partner-engagement touches before close, its touches after close only (a servicer), or its
    name on the deal (the CRM partner_id, a declared role) on a deal attributed by other evidence."""
    named = {d.sourcer, *(c.partner_id for c in d.claims), *(lead.partner_id for lead in d.partner_leads)}
    named |= {role.partner_id for role in d.declared} | set(d.marketplace_partners)
    named |= {t.partner_id for t in d.engagement_touches if t.touch_id == d.engagement_touch}
    if d.override is not None:
        named.add(d.override.partner_id)
    sentences = []
    for credit in sorted(d.credits, key=lambda c: c.partner_id):
        if credit.partner_id in named:
            continue
        mine = [t for t in d.engagement_touches if t.partner_id == credit.partner_id]
        before = [t.touch_id for t in mine if t.occurred_at <= d.closed_at]
        after = [t.touch_id for t in mine if t.occurred_at > d.closed_at]
        who = names.partner(credit.partner_id)
        if before:
            why = f"engaged with the deal before close ({_touches(before)})"
        elif after:
            why = f"engaged with the deal only after close ({_touches(after)})"
        else:
            why = "is named on the deal (its CRM partner or partner list) with no evidence of its own"
        sentences.append(f"{who} {why}: {credit.role} on a partner-attributed deal.")
    return sentences


def _touches(ids: list[str]) -> str:
    return ("touch " if len(ids) == 1 else "touches ") + ", ".join(ids)


def _claim_sentence(claim: Claim, names: _Names, sourcer: str, winner: Claim | None) -> str:
    who = names.partner(claim.partner_id)
    base = f"{who}: {_evidence_phrase(claim)} ({claim.rule}, {_RULE_WORDS[claim.rule]})"
    if claim.blocked_by == "DIRECT_FIRST":
        return (
            f"{base} is blocked: the direct team engaged the account first "
            f"(touch {claim.blocking_touch}) [DIRECT_FIRST]."
        )
    if claim.blocked_by == "TIE_TO_DIRECT":
        return (
            f"{base} is blocked: a direct touch ({claim.blocking_touch}) happened at the same instant, "
            "and a tie goes to direct [TIE_TO_DIRECT]."
        )
    if claim.partner_id == sourcer:
        return f"{base} qualifies to source the deal."
    if winner is not None and winner.at == claim.at:
        # SPEC section 2: claims at the same instant are ordered S2, S1, S3, S4, then partner_id;
        # neither came first, so the sentence says which tie-break decided.
        return f"{base} also qualifies, at the same instant as the winning claim: {_TIE_WORDS}."
    return f"{base} also qualifies, but a claim of another partner came first."


_TIE_WORDS = "a tie goes to S2, then S1, S3, S4, then the smaller partner_id"


def _exact_days(duration2: int) -> str:
    """Days of a doubled microsecond duration, exact to the microsecond (trailing zeros trimmed)."""
    value = (Decimal(duration2) / 2 / MICROS_PER_DAY).quantize(Decimal("0.000000000001"))
    text = format(value, "f").rstrip("0").rstrip(".")
    return f"{text} day" if text in ("1", "-1") else f"{text} days"


def _acceleration_sentences(acc: Acceleration) -> list[str]:
    pct = format((acc.min_pct * 100).normalize(), "f")
    if acc.baseline is None:
        return [
            f"Acceleration was tested but there is no baseline: no cohort level had at least "
            f"{acc.min_cohort_size} comparable direct-only deals won in the {acc.window_days} days "
            f"before close, so the deal cannot be shown to be faster [NO_BASELINE]."
        ]
    baseline = acc.baseline
    kind, _, level = baseline.level.partition(":")
    if kind == "stage":
        measure = f"from first entering stage {acc.stage} to close"
        mine = (
            f"This deal took {_exact_days(2 * acc.remaining)} from entering {acc.stage} "
            f"({_when(acc.stage_entered_at)}) to close"
        )
    else:
        measure = "from creation to close (whole cycle: too few comparable deals passed through the stage)"
        mine = f"This deal took {_exact_days(2 * acc.remaining)} from creation to close"
    sentences = [
        f"Baseline ({baseline.level}): the median of {baseline.size} direct-only deals won in the "
        f"{acc.window_days} days before close, in {_LEVELS[level]}, measured {measure}, is "
        f"{_exact_days(baseline.median2)}."
    ]
    saved2 = baseline.median2 - 2 * acc.remaining
    share = (
        (Decimal(saved2) / Decimal(baseline.median2) * 100).quantize(Decimal("0.1"))
        if baseline.median2
        else 0
    )
    if acc.fired:
        sentences.append(
            f"{mine}: {_exact_days(saved2)} ({share}%) faster, which meets both thresholds "
            f"({pct}% and {acc.min_days} days): accelerated [ACC]."
        )
        return sentences
    limit2 = Fraction(baseline.median2) * (1 - Fraction(acc.min_pct))
    misses = []
    if Fraction(2 * acc.remaining) > limit2:
        limit = Decimal(limit2.numerator) / Decimal(limit2.denominator) / 2 / MICROS_PER_DAY
        limit_text = format(limit.quantize(Decimal("0.000001")), "f").rstrip("0").rstrip(".")
        misses.append(f"at most {limit_text} days ({pct}% below the baseline)")
    if saved2 < 2 * acc.min_days * MICROS_PER_DAY:
        misses.append(f"a saving of at least {acc.min_days} days")
    sentences.append(
        f"{mine}: {_exact_days(saved2)} ({share}%) against the baseline, but it needed {' and '.join(misses)}: "
        "not measurably faster [NOT_FASTER]."
    )
    return sentences


def explain(
    decision: Decision,
    facts: Facts | None = None,
    known_at: datetime | None = None,
    *,
    credited_to: str | None = None,
) -> ExplainReport:
    """Sentences and data explaining ``decision`` (``facts`` gives partner and account names;
    ``known_at``, the instant ``facts`` were known at, is said when given).

    With ``credited_to`` (the partner whose user reads it, SPEC section 9) the credits list that
    partner's credit only, and says that the others are not shown: another partner's amount is
    not the reader's to read."""
    names = _Names(facts)
    d = decision
    money = format_money(d.amount, d.currency)  # the JSON keeps format_amount's plain digits
    state = {
        "won": f"won on {_when(d.closed_at)}",
        "lost": f"lost on {_when(d.closed_at)}",
        "open": f"open as of {_when(d.as_of)}",
    }[d.status]
    head = f"Opportunity {d.opportunity_id} ({names.account(d.account_id)}, {money}, created {_when(d.created_at)}, {state})"
    # The primary partner, not the rules' sourcer: an accepted override may name another sourcer.
    if d.tier == "sourced":
        head += f" is partner-sourced by {names.partner(d.primary_partner_id)}."
    elif d.tier in ("accelerated", "influenced") and not d.primary_partner_id:
        head += f" is partner-{d.tier}, with no partner to credit (the override names none)."
    elif d.tier in ("accelerated", "influenced"):
        head += f" is partner-{d.tier}; the largest credit goes to {names.partner(d.primary_partner_id)}."
    elif d.direct_only:
        head += " is a direct-only deal: no partner evidence at all. It has no partner credit."
    else:
        head += " has no partner attribution and no partner credit."
    sentences = [head]

    winner = next((c for c in d.claims if not c.blocked), None)
    if d.claims:
        sentences.append(
            # SPEC section 2: only a partner lead (S1) and a touch (S3) must fall inside the lookback;
            # a registration (S2) and a declaration (S4) count at their own dates.
            f"A partner lead or touch counts as sourcing evidence inside the lookback from "
            f"{_when(d.lookback_start)} to creation, a registration or a declaration at its own date; "
            "the earliest unblocked claim wins."
        )
        sentences += [_claim_sentence(c, names, d.sourcer, winner) for c in d.claims]
    if "DOUBLE_SOURCED" in d.rules:
        others = sorted({c.partner_id for c in d.claims if not c.blocked and c.partner_id != d.sourcer})
        # SPEC section 3: a losing claimant keeps a declared co_seller, reseller or servicer role;
        # only otherwise is it an influencer. Its role is the one it is credited with.
        roles = {c.partner_id: c.role for c in d.credits}
        takes = [
            f"{names.partner(p)} takes the {roles[p]} role"
            if p in roles
            else f"{names.partner(p)} does not source it"
            for p in others
        ]
        tied = winner is not None and any(
            not c.blocked and c.partner_id != d.sourcer and c.at == winner.at for c in d.claims
        )
        first = "won the tie" if tied else "was first"
        sentences.append(
            f"Several partners qualified to source (double sourced): {names.partner(d.sourcer)} "
            f"{first}; {'; '.join(takes)} [DOUBLE_SOURCED]."
        )
    if d.engagement_at is not None:
        who = next((t.partner_id for t in d.engagement_touches if t.touch_id == d.engagement_touch), "")
        sentences.append(
            f"Partners first engaged with the deal on {_when(d.engagement_at)} "
            f"(touch {d.engagement_touch} by {names.partner(who)})."
        )
    for lead in d.partner_leads:
        if not any(c.evidence == f"lead:{lead.lead_id}" and not c.blocked for c in d.claims):
            sentences.append(
                f"{names.partner(lead.partner_id)} referred partner lead {lead.lead_id} "
                f"(created {_when(lead.created_at)}); it sources nothing but counts as partner engagement."
            )
    for reg in d.registrations:
        # SPEC section 2: a registration of O that sources nothing (blocked) still counts as its
        # partner's engagement for influence, as a partner lead does.
        if not any(c.evidence == f"registration:{reg.registration_id}" and not c.blocked for c in d.claims):
            sentences.append(
                f"{names.partner(reg.partner_id)} registered the deal ({reg.registration_id}, "
                f"{_when(reg.registered_at)}); it sources nothing but counts as partner engagement."
            )
    for role in d.declared:
        what = role.source.replace("opportunity_partners:", "declared ").replace(
            "crm:", "CRM partner_source "
        )
        if role.activity:
            sentences.append(
                f"{names.partner(role.partner_id)} is {what} with logged activity ({', '.join(role.activity)})."
            )
        elif role.counts:
            sentences.append(
                f"{names.partner(role.partner_id)} is {what} without logged activity; the policy does not require it."
            )
        else:
            sentences.append(
                f"{names.partner(role.partner_id)} is {what} but has no logged activity, so that "
                "declaration counts for no tier [NO_ACTIVITY]."
            )
    for partner_id in d.marketplace_partners:
        sentences.append(
            f"{names.partner(partner_id)} is the reseller (marketplace or paper); routing the purchase "
            "is not evidence of any tier [MARKETPLACE_NOT_SOURCE]."
        )
    sentences += _unexplained_credit_sentences(d, names)
    if d.acceleration is not None:
        sentences += _acceleration_sentences(d.acceleration)

    if d.override is not None:
        ov = d.override
        named = f" with {names.partner(ov.partner_id)}" if ov.partner_id else ""
        sentences.append(
            f"An accepted override ({ov.override_id}, recorded {_when(ov.recorded_at)}) sets the tier to "
            f"{ov.tier}{named}; the rules alone gave {d.computed_tier} [OVR]."
        )
    if d.credits:
        parts = [
            f"{names.partner(c.partner_id)} {c.role} {format_share(c.share)} = {format_money(c.amount, d.currency)}"
            for c in _shown_credits(d, credited_to)
        ]
        if len(parts) < len(d.credits):
            parts.append("other partners' credits are not shown")
        fallback = (
            " (no partner touch before close, so the touch model fell back to role_weighted "
            "[TOUCH_MODEL_FALLBACK])"
            if d.model_fell_back
            else ""
        )
        sentences.append(f"Credit by the {d.model} model{fallback}: " + "; ".join(parts) + ".")
    sentences.append(
        f"Rules: {format_rules(d.rules) or 'none'}. Decided as of {_when(d.as_of)} under policy {d.policy_version}."
    )
    if known_at is not None:
        sentences.append(
            f"Read from the data known at {format_instant(known_at)}: rows imported, overrides and "
            "declarations recorded at or before it."
        )
    return ExplainReport(
        d.opportunity_id, tuple(sentences), _data(d, tuple(sentences), known_at, credited_to)
    )


def _shown_credits(d: Decision, credited_to: str | None) -> list[Credit]:
    """The deal's credits by partner_id: every one, or only ``credited_to``'s when given."""
    return [
        c
        for c in sorted(d.credits, key=lambda c: c.partner_id)
        if credited_to is None or c.partner_id == credited_to
    ]


def _data(
    d: Decision, sentences: tuple[str, ...], known_at: datetime | None, credited_to: str | None = None
) -> dict[str, Any]:
    acc = d.acceleration
    acceleration: dict[str, Any] | None = None
    if acc is not None:
        baseline = acc.baseline
        acceleration = {
            "stage": acc.stage,
            "stage_entered_at": _when(acc.stage_entered_at),
            "remaining_days": format_days(acc.remaining),
            "baseline_days": format_days(Decimal(baseline.median2) / 2) if baseline else None,
            "reduction_days": format_days(Decimal(acc.reduction2) / 2)
            if acc.reduction2 is not None
            else None,
            "cohort": baseline.level if baseline else None,
            "cohort_size": baseline.size if baseline else None,
            "cohort_deal_ids": list(baseline.deal_ids) if baseline else [],
            "whole_cycle": bool(baseline and baseline.whole_cycle),
            "fired": acc.fired,
            "min_pct": str(acc.min_pct),
            "min_days": acc.min_days,
        }
    return {
        "opportunity_id": d.opportunity_id,
        "account_id": d.account_id,
        "tier": d.tier,
        "status": d.status,
        "primary_partner_id": d.primary_partner_id or None,
        "created_at": _when(d.created_at),
        "closed_at": _when(d.closed_at) if d.status != "open" else None,
        "as_of": _when(d.as_of),
        "known_at": json_instant(known_at),
        "policy_version": d.policy_version,
        "model": d.model,
        "amount": format_amount(d.amount),
        "currency": d.currency,
        "engagement_at": _when(d.engagement_at) or None,
        "engagement_touch_id": d.engagement_touch or None,
        "rules": format_rules(d.rules).split(),
        "claims": [
            {
                "partner_id": c.partner_id,
                "rule": c.rule,
                "at": _when(c.at),
                "evidence": c.evidence,
                "blocked_by": c.blocked_by or None,
                "blocking_touch_id": c.blocking_touch or None,
                "won": bool(c.partner_id == d.sourcer and not c.blocked),
            }
            for c in d.claims
        ],
        "declared_roles": [
            {"partner_id": r.partner_id, "source": r.source, "activity": list(r.activity), "counts": r.counts}
            for r in d.declared
        ],
        "acceleration": acceleration,
        "credits": [
            {
                "partner_id": c.partner_id,
                "role": c.role,
                "share": format_share(c.share),
                "amount": format_amount(c.amount),
                "currency": d.currency,
            }
            for c in _shown_credits(d, credited_to)
        ],
        "evidence": list(d.evidence),
        "direct_only": d.direct_only,
        "computed_tier": d.computed_tier,
        "override": (
            {
                "override_id": d.override.override_id,
                "tier": d.override.tier,
                "partner_id": d.override.partner_id or None,
                "recorded_at": _when(d.override.recorded_at),
            }
            if d.override is not None
            else None
        ),
        "sentences": list(sentences),
    }


def explain_opportunity(
    con: Engine,
    opportunity_id: str,
    policy: Policy,
    as_of: datetime | None = None,
    model: str = "role_weighted",
    *,
    known_at: datetime | None = None,
    credited_to: str | None = None,
) -> ExplainReport:
    """Decide and explain one deal of a workspace as of ``as_of`` (T, default
    :func:`cosell.clock.now`) on the rows known at ``known_at`` (K, default ``as_of`` when given,
    else everything recorded: :func:`cosell.asof.knowledge`); a given ``known_at`` is said.

    Reads the deal's own rows and, when it is tested for acceleration, its cohort's baseline as the
    newest full run stored it (:mod:`cosell.attribution.per_deal`); only when that baseline does
    not apply (no such run, data changed since) does it read every deal to compute it. A deal not
    known at K, or created after T, is a :class:`NotFound` that says which.
    """
    when = clock.now(as_of)
    known = knowledge(as_of, known_at)
    if known_at is not None:
        require_import(con, known_at)
    try:
        facts, decisions = decide_deals(
            con, policy, [opportunity_id], when, model, known_at=known, with_members=True
        )
    except BaselineMoved:
        facts = load_facts(con, policy, known, existing_at=when)
        known_deal = opportunity_id in facts.opportunities
        decisions = [decide(opportunity_id, facts, policy, when, model, known_at=known)] if known_deal else []
    if not decisions:
        ids = [str(r[0]) for r in con.execute("SELECT opportunity_id FROM v_opportunities").fetchall()]
        raise NotFound(why_unknown(con, opportunity_id, when, known, ids))
    return explain(decisions[0], facts, known_at, credited_to=credited_to)


def explanation_json(report: ExplainReport) -> dict[str, Any]:
    """``report.to_json()``, as a function for callers that prefer one."""
    return report.to_json()


def explanation_text(report: ExplainReport) -> str:
    """``report.text()``: one sentence per line."""
    return report.text()


__all__ = [
    "JSON_KEYS",
    "ExplainReport",
    "explain",
    "explain_opportunity",
    "explanation_json",
    "explanation_text",
]
