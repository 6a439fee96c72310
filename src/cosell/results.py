"""The results of attribution, as both implementations produce them.

Column order of the output files is fixed by SPEC section 8; extra columns follow the required
ones. Values are already formatted as the strings written to CSV (empty string = empty cell), so
two implementations agree byte for byte or not at all.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

TIERS = ("sourced", "accelerated", "influenced", "none")

# The order in which rule and guard ids are written in the ``rules`` column.
RULE_ORDER = (
    "S1", "S2", "S3", "S4", "ACC", "INF", "OVR",
    "DIRECT_FIRST", "TIE_TO_DIRECT", "DOUBLE_SOURCED", "MARKETPLACE_NOT_SOURCE", "NO_ACTIVITY",
    "NO_BASELINE", "NOT_FASTER", "WHOLE_CYCLE", "TOUCH_MODEL_FALLBACK",
)  # fmt: skip
_RANK = {rule: i for i, rule in enumerate(RULE_ORDER)}


def format_rules(rule_ids: set[str] | frozenset[str]) -> str:
    """Space-separated rule ids in :data:`RULE_ORDER` (OVR, if present, keeps its place)."""
    return " ".join(sorted(rule_ids, key=lambda r: (_RANK.get(r, len(_RANK)), r)))


class _Row:
    """A row of formatted strings, in its columns' order (every stored result row is one)."""

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]  # subclasses are dataclasses

    def values(self) -> tuple[str, ...]:
        return tuple(str(v) for v in astuple(self))  # type: ignore[call-overload]


@dataclass(frozen=True)
class AttributionRow(_Row):
    """One opportunity's decision. Fields up to ``policy_version`` are SPEC section 8's columns."""

    opportunity_id: str
    tier: str
    primary_partner_id: str
    engagement_at: str  # E, ISO 8601 UTC, or ""
    cycle_days: str
    baseline_days: str
    cycle_reduction_days: str
    rules: str
    remaining_days: str
    as_of: str
    policy_version: str
    # Extra columns (after the required ones).
    model: str = ""
    cohort: str = ""  # stage:1 .. cycle:3, or ""
    cohort_size: str = ""
    evidence: str = ""  # space-separated evidence ids: touch:T1 lead:L1 registration:R1 partner:P1 ...


@dataclass(frozen=True)
class CreditRow(_Row):
    """One partner's role and credit on one opportunity (SPEC section 8's credits columns)."""

    opportunity_id: str
    partner_id: str
    role: str
    share: str  # six decimals
    amount: str  # in the deal currency, with its minor-unit digits
    currency: str

    def to_json(self) -> dict[str, str]:
        """The credit as JSON inside its deal's object (which holds the opportunity_id)."""
        return {
            "partner_id": self.partner_id,
            "role": self.role,
            "share": self.share,
            "amount": self.amount,
            "currency": self.currency,
        }


@dataclass(frozen=True)
class EvidenceRow(_Row):
    """What one deal's decision rests on, as both implementations state it (docs/evidence.md).

    Formatted like :class:`AttributionRow`: instants ISO 8601 UTC, durations in exact integer
    microseconds (a median may end in half a microsecond: ``123.5``), flags ``true``/``false``,
    ``""`` for no value. Stored with every attribution version, keyed by run and deal.
    """

    opportunity_id: str
    status: str  # open, won or lost, as of the run's as-of instant T
    created_at: str  # C
    closed_at: str  # X of a won or lost deal; "" while open at T
    engagement_at: str  # E: the earliest associated partner-engagement touch at or before X
    engagement_touch_id: str  # the touch at E (the smallest touch_id among ties)
    direct_only: str  # "true" or "false": the deal counts in the baselines when won
    sourcer: str  # the tier-1 winner, before any override
    computed_tier: str  # the tier the rules gave, before any override
    segment: str  # the account's segment ("" is a segment of its own)
    band: str  # amount band index (acceleration candidates and direct-only won deals), else ""
    stage: str  # s, the stage at E (only when acceleration was tested)
    stage_entered_at: str  # S, its first entry (C for the whole-cycle fallback)
    remaining_us: str  # X - S in microseconds (when tested)
    cohort: str  # stage:1 .. cycle:3, "" when tested without a baseline or not tested
    cohort_size: str
    baseline_us: str  # the cohort's median duration in microseconds


@dataclass(frozen=True)
class ClaimRow(_Row):
    """One sourcing claim of a deal and the guard that blocked it (docs/rules.md, Evidence)."""

    opportunity_id: str
    partner_id: str
    rule: str  # S1 .. S4
    claimed_at: str  # the claim's evidence time
    source: str  # lead:L1, registration:R1, touch:T1, opportunity_partner:P1 or crm:partner_id
    guard: str  # "", DIRECT_FIRST or TIE_TO_DIRECT
    blocking_touch_id: str  # the earliest direct touch in the lookback, when blocked
    blocking_at: str  # when that touch occurred


def half_micros_text(doubled: int) -> str:
    """Half of an integer number of microseconds, exactly: ``247`` gives ``123.5``, ``246`` ``123``.

    >>> half_micros_text(-3)
    '-1.5'
    """
    sign = "-" if doubled < 0 else ""
    whole, odd = divmod(abs(doubled), 2)
    return f"{sign}{whole}{'.5' if odd else ''}"
