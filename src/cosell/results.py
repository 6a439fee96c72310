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


@dataclass(frozen=True)
class AttributionRow:
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

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def values(self) -> tuple[str, ...]:
        return tuple(str(v) for v in astuple(self))


@dataclass(frozen=True)
class CreditRow:
    """One partner's role and credit on one opportunity (SPEC section 8's credits columns)."""

    opportunity_id: str
    partner_id: str
    role: str
    share: str  # six decimals
    amount: str  # in the deal currency, with its minor-unit digits
    currency: str

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def values(self) -> tuple[str, ...]:
        return tuple(str(v) for v in astuple(self))
