"""The attribution rules in force, as numbered sentences for a partner agreement (``cosell policy appendix``).

Every number in the sentences is read from the :class:`~cosell.policy.Policy` (windows, thresholds,
cohort levels, kinds, stages, bands, weights, the credit model, the workspace currency) and every
tie order of sourcing claims from the rules themselves
(:data:`cosell.attribution.reference.CLAIM_RANK`), so the appendix cannot say one thing while cosell computes another.
The words follow docs/rules.md, which both implementations follow. Settings that no rule reads
(:data:`NOT_STATED`) get no sentence; the credit model's own parameters are stated only for the
model in force.

>>> from datetime import date
>>> from cosell.policy import Policy
>>> appendix = build_appendix(Policy(), date(2026, 12, 3))
>>> appendix.sections[1].clauses[0].number, appendix.sections[1].title
('2.1', 'Tiers')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise

from cosell.attribution.credit import DECAY_CONTEXT, TOUCH_MODELS
from cosell.attribution.reference import CLAIM_RANK
from cosell.money import minor_unit
from cosell.policy import Policy

__all__ = ["NOT_STATED", "Appendix", "AppendixSection", "Clause", "build_appendix", "stated_settings"]

# Settings the attribution rules never read: a sentence about them would promise something the
# rules do not do (a test checks that every other setting is stated).
NOT_STATED = {
    "hygiene.prompt_expiry_days": "how long an influence prompt stays open (hygiene, not attribution)",
    "metrics.min_deals_for_confidence": "when a report marks a figure as resting on few deals (metrics)",
}
# A credit model's own parameters: stated only when that model is in force.
MODEL_SETTINGS = {
    "credit.position_based_weights": "position_based",
    "credit.time_decay_half_life_days": "time_decay",
}

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
RULE_NAMES = {
    "S1": "a partner lead",
    "S2": "a registration",
    "S3": "an earliest touch",
    "S4": "a declaration",
}


@dataclass(frozen=True)
class Clause:
    """One numbered sentence (or a few that belong together): ``number`` like ``2.3``."""

    number: str
    text: str


@dataclass(frozen=True)
class AppendixSection:
    number: int
    title: str
    clauses: tuple[Clause, ...]


@dataclass(frozen=True)
class Appendix:
    """The rules in force under one policy version, dated."""

    title: str
    version: str  # label@hash, as every result records it
    label: str
    digest: str
    dated: date
    currency: str
    sections: tuple[AppendixSection, ...]

    @property
    def subtitle(self) -> str:
        return (
            f"Appendix to the partner agreement: how partner attribution and credit are decided "
            f"under policy {self.version}, dated {self.dated.isoformat()}."
        )

    @property
    def facts(self) -> tuple[tuple[str, str], ...]:
        """(label, value) lines printed under the title."""
        return (
            ("Policy version", self.version),
            ("Policy label", self.label),
            ("Policy hash", f"{self.digest} (first 12 hex digits of the SHA-256 of the settings)"),
            ("Dated", self.dated.isoformat()),
            ("Currency", f"{self.currency} (the workspace currency)"),
        )

    def clauses(self) -> list[Clause]:
        """Every clause, in order."""
        return [c for s in self.sections for c in s.clauses]


def stated_settings(policy: Policy) -> frozenset[str]:
    """The settings whose values the appendix of ``policy`` states."""
    return frozenset(
        key
        for key in policy.values
        if key not in NOT_STATED and MODEL_SETTINGS.get(key, policy.credit_model) == policy.credit_model
    )


# Formatting: numbers with thousands separators, never in exponent form.
def number(value: Decimal | int) -> str:
    """``Decimal("25000")`` -> ``25,000``; ``Decimal("12.50")`` -> ``12.5``."""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value.normalize():,f}"


def percent(fraction: Decimal) -> str:
    """``Decimal("0.20")`` -> ``20%``."""
    return f"{number(fraction * 100)}%"


def days(count: int) -> str:
    return f"{count:,} day" + ("" if count == 1 else "s")


def names(items: Sequence[str], quote: bool = False, empty: str = "none") -> str:
    """``a, b and c`` (quoted when ``quote``); ``empty`` for no items."""
    shown = [f'"{i}"' if quote else i for i in items]
    if not shown:
        return empty
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _bands(edges: Sequence[Decimal], currency: str) -> str:
    if not edges:
        return f"one band holds every amount ({currency})"
    parts = [f"under {number(edges[0])}"]
    parts += [f"{number(lo)} to under {number(hi)}" for lo, hi in pairwise(edges)]
    parts.append(f"{number(edges[-1])} and above")
    return f"the amount bands, in {currency}, are: " + "; ".join(parts)


def _definitions(p: Policy) -> list[str]:
    lookback = days(p.lookback_days)
    return [
        f"These rules are those of policy version {p.version}. Every attribution result records the "
        "policy version it was decided under; a change to any setting below gives a new version.",
        f"Amounts are in {p.workspace_currency}, the workspace currency, unless a deal's own currency "
        "is named. Times are UTC instants compared exactly, to the microsecond; a number of days is "
        "an exact duration of 86,400 seconds a day, never rounded to whole days.",
        f"A deal is won when its current stage is {names(p.values['stages.won'], True)}, lost when it "
        f"is {names(p.values['stages.lost'], True)}, and open in any other stage. A closed deal's "
        "close time is its first entry into its current stage at or after its last entry into an "
        "open stage, else its close date; an open deal is assessed as of the evaluation date.",
        f"A deal's lookback is the {lookback} up to and including its creation. Its window runs "
        "from the start of its lookback to its close (for an open deal, the evaluation date).",
        "A touch is engagement when its kind is a partner engagement kind ("
        f"{names(p.values['touch_kinds.partner_engagement'])}) or a direct engagement kind ("
        f"{names(p.values['touch_kinds.direct_engagement'])}). Who logged it decides the side: a "
        "touch logged by a partner is partner engagement, one logged by our own team is direct "
        "engagement, whichever list its kind is on. Touches of other kinds ("
        f"{names(p.values['touch_kinds.not_engagement'], empty='no kind is listed')}, and any kind "
        "not listed) are ignored by these rules, as is a partner touch whose partner is known "
        "neither from the touch nor from its partner contact.",
        "A touch counts for a deal when it is logged on that deal, or logged on the deal's account "
        "without a deal and falls inside the deal's window.",
        "A partner lead of a deal is the lead the deal was created from, or a lead converted into "
        "the deal, when the lead names a partner.",
        "A deal registration counts for a deal when it is approved (or expired with an expiry date "
        "after the deal's creation), was registered and approved at or before the deal's creation, "
        "and had not expired when the deal was created: it expires on its expiry date, else "
        f"{days(p.protection_window_days)} after it was registered. A registration that names no "
        "deal belongs to the first deal on its account created at or after it was registered.",
        "A deal is direct-only when it has no partner engagement touch at or before its close, no "
        "partner on it other than a reseller, no partner lead, no registration, no partner in its "
        "CRM partner fields, and a CRM partner source that is empty or none.",
    ]


def _tiers(p: Policy) -> list[str]:
    lookback = days(p.lookback_days)
    by_rank = sorted(CLAIM_RANK, key=CLAIM_RANK.__getitem__)
    tie_order = ", then ".join(f"{RULE_NAMES[r]} ({r})" for r in by_rank)
    if p.influence_requires_activity:
        activity = (
            "A declared partner counts only with logged activity: a partner engagement touch by "
            "that partner on the deal at or before its close, or, for the partner named in the CRM "
            "fields, a non-empty partner activity log."
        )
    else:
        activity = "A declared partner counts whether or not it has logged activity."
    return [
        "Every deal lands in exactly one tier: sourced, accelerated, influenced or none, tested in "
        "that order; the first that holds decides.",
        "Sourced: a partner brought the deal, shown by any of these claims, each dated: (S1) a "
        f"partner lead of the deal created inside its lookback of {lookback}, dated at the lead's "
        "creation; (S2) a registration of the deal, dated at its registration; (S3) the earliest "
        "engagement touch of either side that counts for the deal inside its lookback is the "
        "partner's, dated at that touch "
        "(several partners' touches at that instant each make a claim); (S4) the partner is "
        "declared the deal's sourcer, dated when it was added (else at the deal's creation), or is "
        'named in the CRM partner fields with partner source "sourced", dated at the partner '
        "engagement date (else at the deal's creation). A tag cosell sets by itself on a deal "
        "created from a partner lead is not a declaration (the lead is the evidence).",
        "Direct first: a claim is blocked when our own team logged a direct engagement touch on the "
        "deal or its account inside the lookback at or before the claim's time; a tie goes to the "
        f"direct team. A direct touch older than the lookback of {lookback} never blocks. A blocked "
        "claim sources nothing; the deal may still be accelerated or influenced.",
        "A deal has at most one sourcing partner: among the claims not blocked, the earliest wins "
        f"(first in, first win). At the same instant the order is {tie_order}, then the smaller "
        "partner id. Any other partner with a claim not blocked sources nothing and takes a role "
        f"under clause {_section_of(_credit)}.1 (influencer, unless declared in another role); the "
        "deal is marked double-sourced.",
        "Routing a purchase through a marketplace or a reseller's paper is not evidence of any tier.",
        "Accelerated: a deal that is not sourced is accelerated when it is won, a partner engagement "
        "touch counts for it at or before its close, and it passes the acceleration test (section "
        f"{_section_of(_acceleration)}).",
        "Influenced: otherwise a deal is influenced when a partner engaged with it: a partner "
        "engagement touch at or before its close; a partner lead or a registration of the deal "
        "that sourced nothing; or a partner declared as influencer or co-seller on the deal, named "
        'in the CRM partner fields with partner source "influenced" or "accelerated", or declared '
        f"sourcer with its claim blocked. {activity}",
        "None: any other deal is in tier none and has no partner credit.",
    ]


def _acceleration(p: Policy) -> list[str]:
    size = f"{p.min_cohort_size:,} deal" + ("" if p.min_cohort_size == 1 else "s")
    month = MONTHS[p.fiscal_year_start_month - 1]
    pct = p.acceleration_min_pct
    return [
        "The test compares the deal's remaining time with a baseline. The remaining time runs "
        "from the deal's first entry into the stage it was in when a partner first engaged (its "
        "first stage when that was at or before its creation) to its close. The baseline is the "
        "median of the same time over comparable deals.",
        "Comparable deals are the direct-only won deals that closed in the "
        f"{days(p.baseline_window_days)} up to the deal's close and passed through that stage, at "
        f"the narrowest of three cohort levels with at least {size}: level 1, the same segment and "
        "amount band; level 2, the same segment; level 3, all of them. An empty segment is a "
        "segment of its own.",
        f"For the cohort levels, {_bands(p.band_edges, p.workspace_currency)}. Each deal's amount "
        "is converted at the rate of the month it closed in, else of its fiscal quarter (the "
        f"fiscal year starts in {month}).",
        f"When no level has {size} through that stage, whole cycles are compared instead: the "
        "deal's creation to close against the median creation-to-close time, at the narrowest "
        f"level with at least {size}. When no level has that many, the deal is not accelerated "
        "(no baseline).",
        "The median of an even number of deals is the mean of the two middle values.",
        f"The deal is accelerated when its remaining time is at most the baseline less {percent(pct)} "
        f"(at most {percent(1 - pct)} of the baseline) and at least {days(p.acceleration_min_days)} "
        "shorter than the baseline; both must hold.",
    ]


def _model(p: Policy) -> str:
    model = p.credit_model
    touches = (
        "over the partner engagement touches that count for the deal at or before its close, by "
        "partners with a role, in time order (ties by touch id); a partner's share is the sum of "
        "its touches' shares"
    )
    if model == "role_weighted":
        return (
            "Credit model role_weighted: each partner's share is its role's weight divided by the "
            "sum of the weights of the roles on the deal; when they are all 0, the deal is split evenly."
        )
    if model == "even":
        return "Credit model even: every partner with a role gets an equal share."
    if model in ("first_touch", "last_touch"):
        which = "first" if model == "first_touch" else "last"
        return f"Credit model {model}, {touches}: the partner of the {which} touch gets the whole deal."
    if model == "position_based":
        first, middle, last = p.position_based_weights
        total = first + middle + last
        return (
            f"Credit model position_based, {touches}: one touch takes the whole deal, two take half "
            f"each; of three or more, the first weighs {number(first)}, the last {number(last)}, and "
            f"the touches between share {number(middle)} equally, each weight over their sum "
            f"({number(total)})."
        )
    return (
        f"Credit model time_decay, {touches}: each touch weighs 2^(-age/"
        f"{number(p.time_decay_half_life_days)} days), its age being the time from the touch to the "
        f"deal's close, and the shares are the weights over their sum ({DECAY_CONTEXT.prec} "
        "significant digits)."
    )


def _credit(p: Policy) -> list[str]:
    weights = ", ".join(f"{role.replace('_', '-')} {number(w)}" for role, w in p.role_weights.items())
    unit = minor_unit(p.workspace_currency)
    example = f"{Decimal(1).scaleb(-unit):f} {p.workspace_currency}"
    clauses = [
        "Each partner with evidence on a deal in tier sourced, accelerated or influenced takes "
        "one role: the winner of the sourced tier is the sourcer; otherwise a role it was declared "
        "in on the deal (co-seller, reseller, influencer or servicer) is kept, the one with the "
        "largest weight when several; otherwise a partner with a claim, a lead, a registration, "
        "engagement touches at or before the close, or a mention in the CRM partner fields is an "
        "influencer; a partner whose only touches on the deal come after its close is a servicer.",
        "A partner that fails the activity rule, and a reseller's routing alone, get credit only on "
        "a deal that is partner-attributed by other evidence. Credit is computed for open, won and "
        "lost deals alike.",
        f"The role weights are: {weights}.",
        _model(p),
    ]
    if p.credit_model in TOUCH_MODELS:
        clauses.append(
            "A partner with a role but no such touch gets 0; a deal with no such touch is split by "
            "role weights instead (each role's weight over the sum of the weights on the deal), "
            "and its result says so."
        )
    clauses += [
        "Shares are exact fractions that sum to 1, stated with 6 decimals. Each partner's amount, "
        "in the deal's currency, is the deal amount times its share rounded down to the "
        f"currency's minor unit (for example {example}); the units left over go one each to the partners with "
        "the largest remainders, ties to the larger role weight, then the smaller partner id, so "
        "that the amounts add up exactly to the deal amount.",
        "A deal's primary partner is its sourcer, else the partner with the largest credit (ties "
        "to the larger role weight, then the smaller partner id).",
    ]
    return clauses


def _records(p: Policy) -> list[str]:
    return [
        "Every decision records the rules that fired and the guards that blocked a claim, the ids "
        "of the touches, leads, registrations and partners involved, the cohort level and size, "
        f"the evaluation date and the policy version ({p.version}); the explain command prints them "
        "as sentences.",
        "A dispute or a reconciliation fix that is accepted records an override of the deal's tier "
        "(and partner) that every later decision applies until it is withdrawn, marked OVR.",
    ]


SECTIONS = (
    ("Definitions", _definitions),
    ("Tiers", _tiers),
    ("The acceleration test", _acceleration),
    ("Roles and credit", _credit),
    ("Records and overrides", _records),
)


def _section_of(write: Callable[[Policy], list[str]]) -> int:
    """The number of the section a clause writer fills (for cross-references between clauses)."""
    return next(i for i, (_, w) in enumerate(SECTIONS, start=1) if w is write)


def build_appendix(policy: Policy, dated: date) -> Appendix:
    """The rules of ``policy`` as numbered clauses, dated ``dated`` (a date, never read from a clock here)."""
    sections = tuple(
        AppendixSection(
            i, title, tuple(Clause(f"{i}.{j}", text) for j, text in enumerate(write(policy), start=1))
        )
        for i, (title, write) in enumerate(SECTIONS, start=1)
    )
    return Appendix(
        title="Partner attribution rules",
        version=policy.version,
        label=str(policy.values["label"]),
        digest=policy.digest,
        dated=dated,
        currency=policy.workspace_currency,
        sections=sections,
    )
