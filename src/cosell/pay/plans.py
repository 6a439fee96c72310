"""Compensation plans: versioned TOML files with effective dates, parsed into frozen values.

A plan file holds one version of one plan (``plan_id`` and ``version``), the instant it takes
effect (``effective_from``, inclusive) and optionally when it ends (``effective_to``, exclusive), the
workspace currency its fees are written in, a list of partner rules and the rep commission settings.
The shipped example (:data:`EXAMPLE_PLAN_TOML`, written by ``cosell plans init``) documents every key.

This module holds the values (a plan, its rules, the set of versions in force over time); parsing
and validating the TOML text is :mod:`cosell.pay.plan_parse`, and the static checks that need the
whole plan (overlapping rules with no precedence) are :mod:`cosell.pay.plan_check`. No I/O here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal

from cosell.errors import CosellError
from cosell.instants import format_instant

# Match values a rule may name (SPEC section 1 and 2). Program tiers are the partner's own free text.
TIERS = ("sourced", "accelerated", "influenced", "none")
PARTNER_TYPES = ("referral", "co_sell", "reseller", "integration", "agency", "affiliate", "services")
ROLES = ("sourcer", "co_seller", "influencer", "reseller", "servicer")
OPPORTUNITY_TYPES = ("new_business", "expansion", "renewal")

# The match dimensions in the order they are printed; each maps to its allowed values (None = free).
DIMENSIONS: tuple[tuple[str, tuple[str, ...] | None], ...] = (
    ("tier", TIERS),
    ("partner_type", PARTNER_TYPES),
    ("program_tier", None),
    ("role", ROLES),
    ("opportunity_type", OPPORTUNITY_TYPES),
)
DIMENSION_NAMES = tuple(name for name, _ in DIMENSIONS)
PartnerPay = Literal["on_top", "out_of_rep"]
PARTNER_PAY_VALUES: tuple[PartnerPay, ...] = ("on_top", "out_of_rep")

HUNDRED = Decimal(100)

# Bounds on a plan's numbers, checked when a plan is checked or loaded (never at posting time).
MAX_VERSION = 2_147_483_647  # plan_versions.version is an INTEGER
MAX_PRIORITY = 1_000_000  # a tie-breaker between rules: far more room than any plan needs
PERCENT_DECIMALS = 6  # 12.345678%: finer rates are typing mistakes, not commission terms


class PlanError(CosellError):
    """A plan cannot be used (wrong currency for the workspace, no plan in force, ...)."""


class NoPlanInForce(PlanError):
    """No plan version is in force at the instant asked (before the first, or in a gap)."""


@dataclass(frozen=True)
class PlanProblem:
    """One problem in a plan file, naming the rule (or rules) it is about when there is one."""

    file: str
    message: str
    rules: tuple[str, ...] = ()

    def __str__(self) -> str:
        if not self.rules:
            return f"{self.file}: {self.message}"
        if len(self.rules) == 1:
            return f'{self.file} rule "{self.rules[0]}": {self.message}'
        names = " and ".join(f'"{r}"' for r in self.rules)
        return f"{self.file} rules {names}: {self.message}"


class PlanInvalid(CosellError):
    """A plan file (or a set of plan files) has problems; every one of them is listed."""

    def __init__(self, problems: Sequence[PlanProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Rule:
    """One partner pay rule: what it matches (None = any value) and what it pays.

    ``percent`` applies to the credited amount converted to the workspace currency; ``flat`` is in
    the workspace currency; ``cap`` and ``minimum`` bound one earning. An ``additive`` rule pays on
    top of whichever rule wins; among the others the most specific wins, then the higher priority.
    """

    id: str
    description: str = ""
    tier: frozenset[str] | None = None
    partner_type: frozenset[str] | None = None
    program_tier: frozenset[str] | None = None  # casefolded
    role: frozenset[str] | None = None
    opportunity_type: frozenset[str] | None = None
    percent: Decimal | None = None
    flat: Decimal | None = None
    cap: Decimal | None = None
    minimum: Decimal | None = None
    additive: bool = False
    priority: int | None = None

    def constraint(self, dimension: str) -> frozenset[str] | None:
        value: frozenset[str] | None = getattr(self, dimension)
        return value

    @property
    def specificity(self) -> int:
        """How many match keys the rule constrains (a rule with more is more specific)."""
        return sum(1 for name in DIMENSION_NAMES if self.constraint(name) is not None)

    @property
    def precedence(self) -> tuple[int, int]:
        """Sort key of a non-additive rule: specificity first, an explicit priority breaks ties."""
        return (self.specificity, self.priority if self.priority is not None else 0)

    def matches(
        self, tier: str, partner_type: str, program_tier: str, role: str, opportunity_type: str
    ) -> bool:
        """True when every constrained key holds the given value (program tiers ignore case)."""
        values = (tier, partner_type, program_tier.casefold(), role, opportunity_type)
        for name, value in zip(DIMENSION_NAMES, values, strict=True):
            allowed = self.constraint(name)
            if allowed is not None and value not in allowed:
                return False
        return True

    def describe_match(self) -> str:
        """The match keys in words, e.g. ``tier sourced, partner_type referral`` (or ``any deal``)."""
        parts = []
        for name in DIMENSION_NAMES:
            allowed = self.constraint(name)
            if allowed is not None:
                parts.append(f"{name} {'/'.join(sorted(allowed))}")
        return ", ".join(parts) if parts else "any credit"


@dataclass(frozen=True)
class RepCommission:
    """The owning rep's commission: percent of the deal amount by tier; ``direct`` is tier none."""

    sourced: Decimal
    influenced: Decimal
    direct: Decimal
    accelerated: Decimal  # defaults to the influenced rate when the file leaves it out
    partner_pay: PartnerPay

    def rate(self, tier: str) -> tuple[str, Decimal]:
        """The rate key and percent for a deal's tier."""
        key = "direct" if tier == "none" else tier
        return key, {
            "sourced": self.sourced,
            "accelerated": self.accelerated,
            "influenced": self.influenced,
            "direct": self.direct,
        }[key]


@dataclass(frozen=True)
class Plan:
    """One version of one compensation plan, validated."""

    plan_id: str
    version: int
    effective_from: datetime
    effective_to: datetime | None
    currency: str
    rules: tuple[Rule, ...]
    rep_commission: RepCommission | None
    description: str = ""
    text: str = field(default="", compare=False, repr=False)
    file: str = field(default="", compare=False)

    @property
    def label(self) -> str:
        """``<plan_id>@<version>``: recorded on every earning."""
        return f"{self.plan_id}@{self.version}"

    @property
    def digest(self) -> str:
        """SHA-256 of the file text: the same text loaded twice is the same version."""
        return text_digest(self.text)

    def covers(self, at: datetime) -> bool:
        """True when ``at`` is inside the plan's own effective range [from, to)."""
        return self.effective_from <= at and (self.effective_to is None or at < self.effective_to)

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise KeyError(rule_id)


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PlanSet:
    """The plan versions of a workspace, in the order they were added.

    At an instant the plan in force is the version with the latest ``effective_from`` at or before
    it (the later-added one on a tie, i.e. a correction), unless that version's own
    ``effective_to`` has passed: then no plan is in force. Versions are only added in date order
    (:func:`cosell.pay.plan_check.check_addition`), so this is the timeline the checks accepted.
    """

    versions: tuple[Plan, ...] = ()

    def find(self, at: datetime) -> Plan | None:
        """The plan in force at ``at`` (an aware instant), or None when none is."""
        best: Plan | None = None
        for plan in self.versions:
            if plan.effective_from <= at and (best is None or plan.effective_from >= best.effective_from):
                best = plan
        if best is None or (best.effective_to is not None and at >= best.effective_to):
            return None
        return best

    def in_force(self, at: datetime) -> Plan:
        """The plan in force at ``at``; :class:`PlanError` when no version covers it."""
        plan = self.find(at)
        if plan is None:
            raise NoPlanInForce(f"no compensation plan is in force at {format_instant(at)}")
        return plan

    def by_label(self, label: str) -> Plan:
        """A version by its ``<plan_id>@<version>`` label."""
        for plan in self.versions:
            if plan.label == label:
                return plan
        raise PlanError(f"no plan version {label!r} in this workspace")
