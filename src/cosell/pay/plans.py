"""Compensation plans: versioned TOML files with effective dates, parsed into frozen values.

A plan file holds one version of one plan (``plan_id`` and ``version``), the instant it takes
effect (``effective_from``, inclusive) and optionally when it ends (``effective_to``, exclusive), the
workspace currency its fees are written in, a list of partner rules and the rep commission settings.
The shipped example (:data:`EXAMPLE_PLAN_TOML`, written by ``cosell plans init``) documents every key.

Parsing collects every problem it finds (each naming its rule) instead of stopping at the first, so
``cosell plans check`` can list them all; the static checks that need the whole plan (overlapping
rules with no precedence) live in :mod:`cosell.pay.plan_check`. Nothing here does I/O except
:func:`read_plan_file`.
"""

from __future__ import annotations

import difflib
import hashlib
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from cosell.errors import CosellError
from cosell.instants import format_instant, parse_instant
from cosell.money import is_currency, minor_unit

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
_DIMENSION_NAMES = tuple(name for name, _ in DIMENSIONS)
_RULE_KEYS = (
    "id",
    "description",
    *_DIMENSION_NAMES,
    "percent",
    "flat",
    "cap",
    "minimum",
    "additive",
    "priority",
)
_TOP_KEYS = (
    "plan_id",
    "version",
    "description",
    "effective_from",
    "effective_to",
    "currency",
    "rep_commission",
    "rules",
)
_REP_KEYS = ("sourced", "accelerated", "influenced", "direct", "partner_pay")
PartnerPay = Literal["on_top", "out_of_rep"]
PARTNER_PAY_VALUES: tuple[PartnerPay, ...] = ("on_top", "out_of_rep")

HUNDRED = Decimal(100)


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
        return sum(1 for name in _DIMENSION_NAMES if self.constraint(name) is not None)

    @property
    def precedence(self) -> tuple[int, int]:
        """Sort key of a non-additive rule: specificity first, an explicit priority breaks ties."""
        return (self.specificity, self.priority if self.priority is not None else 0)

    def matches(
        self, tier: str, partner_type: str, program_tier: str, role: str, opportunity_type: str
    ) -> bool:
        """True when every constrained key holds the given value (program tiers ignore case)."""
        values = (tier, partner_type, program_tier.casefold(), role, opportunity_type)
        for name, value in zip(_DIMENSION_NAMES, values, strict=True):
            allowed = self.constraint(name)
            if allowed is not None and value not in allowed:
                return False
        return True

    def describe_match(self) -> str:
        """The match keys in words, e.g. ``tier sourced, partner_type referral`` (or ``any deal``)."""
        parts = []
        for name in _DIMENSION_NAMES:
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


# ---- parsing -------------------------------------------------------------------------------------


class _Collector:
    """Gathers problems of one file so that all of them are reported at once."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[PlanProblem] = []

    def add(self, message: str, *rules: str) -> None:
        self.problems.append(PlanProblem(self.file, message, tuple(rules)))


def _unknown_key(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else "")


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    number = Decimal(value)
    return number if number.is_finite() else None  # TOML allows inf and nan; money does not


def _plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 10, 12.5, 0.001."""
    text = format(value.normalize(), "f")
    return text


def _shown(value: Any) -> str:
    """A value as the file wrote it: text quoted, numbers plain."""
    if isinstance(value, Decimal):
        return str(value)
    return repr(value)


def _instant(value: Any) -> datetime | None:
    """A TOML date, local or offset date-time, or an ISO 8601 string, as a UTC instant."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            return parse_instant(value)
        except ValueError:
            return None
    return None


def _match_values(
    c: _Collector, rule_id: str, name: str, value: Any, allowed: tuple[str, ...] | None
) -> frozenset[str] | None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v for v in items):
        c.add(f"{name} must be a value or a non-empty list of values", rule_id)
        return None
    if allowed is not None:
        for item in items:
            if item not in allowed:
                close = difflib.get_close_matches(item, allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                c.add(f"{name} {item!r} is not one of {', '.join(allowed)}{hint}", rule_id)
        if name == "tier" and "none" in items:
            c.add("tier 'none' deals have no partner credits, so this can never pay", rule_id)
        return frozenset(items)
    return frozenset(v.casefold() for v in items)


def _money_amount(c: _Collector, rule_id: str, name: str, value: Any, currency: str | None) -> Decimal | None:
    number = _number(value)
    if number is None:
        c.add(f"{name} {_shown(value)} is not a number", rule_id)
        return None
    if number < 0:
        c.add(f"{name} {_plain(number)} is negative", rule_id)
    if currency is not None and is_currency(currency):
        digits = minor_unit(currency)
        exponent = number.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -digits:
            c.add(
                f"{name} {_plain(number)} has more decimal places than {currency} allows ({digits})", rule_id
            )
    return number


def _percent(c: _Collector, rule_id: str, name: str, value: Any) -> Decimal | None:
    number = _number(value)
    if number is None:
        c.add(f"{name} {_shown(value)} is not a number", rule_id)
        return None
    if number < 0:
        c.add(f"{name} {_plain(number)} is negative", rule_id)
    elif number > HUNDRED:
        c.add(f"{name} {_plain(number)} is over 100", rule_id)
    return number


def _parse_rule(c: _Collector, index: int, raw: Any, currency: str | None) -> Rule | None:
    if not isinstance(raw, Mapping):
        c.add(f"rule #{index + 1} is not a table")
        return None
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        c.add(f"rule #{index + 1} has no id (every rule needs a unique id)")
        return None
    for key in raw:
        if key not in _RULE_KEYS:
            c.add(_unknown_key(key, _RULE_KEYS), rule_id)
    description = raw.get("description", "")
    if not isinstance(description, str):
        c.add("description must be text", rule_id)
        description = ""
    match: dict[str, frozenset[str] | None] = {}
    for name, allowed in DIMENSIONS:
        match[name] = None if name not in raw else _match_values(c, rule_id, name, raw[name], allowed)
    percent = None if "percent" not in raw else _percent(c, rule_id, "percent", raw["percent"])
    amounts: dict[str, Decimal | None] = {}
    for name in ("flat", "cap", "minimum"):
        amounts[name] = None if name not in raw else _money_amount(c, rule_id, name, raw[name], currency)
    if "percent" not in raw and "flat" not in raw:
        c.add("pays nothing: give a percent, a flat fee, or both", rule_id)
    cap, minimum = amounts["cap"], amounts["minimum"]
    if cap is not None and minimum is not None and cap < minimum:
        c.add(f"cap {_plain(cap)} is below its minimum {_plain(minimum)}", rule_id)
    additive = raw.get("additive", False)
    if not isinstance(additive, bool):
        c.add(f"additive {additive!r} is not true or false", rule_id)
        additive = False
    priority = raw.get("priority")
    if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
        c.add(f"priority {_shown(priority)} is not a whole number", rule_id)
        priority = None
    return Rule(
        id=rule_id,
        description=description,
        percent=percent,
        flat=amounts["flat"],
        cap=cap,
        minimum=minimum,
        additive=additive,
        priority=priority,
        **match,
    )


def _parse_rep(c: _Collector, raw: Any) -> RepCommission | None:
    if not isinstance(raw, Mapping):
        c.add("rep_commission must be a table")
        return None
    for key in raw:
        if key not in _REP_KEYS:
            c.add(f"rep_commission: {_unknown_key(key, _REP_KEYS)}")
    rates: dict[str, Decimal] = {}
    for key in ("sourced", "accelerated", "influenced", "direct"):
        if key not in raw:
            if key != "accelerated":
                c.add(f"rep_commission: {key} (percent of the deal amount) is missing")
            continue
        number = _number(raw[key])
        if number is None:
            c.add(f"rep_commission: {key} {_shown(raw[key])} is not a number")
        elif number < 0:
            c.add(f"rep_commission: {key} {_plain(number)} is negative")
        elif number > HUNDRED:
            c.add(f"rep_commission: {key} {_plain(number)} is over 100")
        else:
            rates[key] = number
    partner_pay = raw.get("partner_pay")
    if partner_pay not in PARTNER_PAY_VALUES:
        c.add(f"rep_commission: partner_pay {partner_pay!r} must be 'on_top' or 'out_of_rep'")
        return None
    if not all(k in rates for k in ("sourced", "influenced", "direct")):
        return None
    return RepCommission(
        sourced=rates["sourced"],
        influenced=rates["influenced"],
        direct=rates["direct"],
        accelerated=rates.get("accelerated", rates["influenced"]),
        partner_pay=partner_pay,
    )


def parse_plan_text(text: str, file: str = "<plan>") -> tuple[Plan | None, list[PlanProblem]]:
    """Parse plan TOML; return the plan (None if unusable) and every problem found, rule checks included.

    The plan is returned only when there are no problems at all.
    """
    from cosell.pay.plan_check import check_rules  # the static checks need a parsed rule list

    c = _Collector(file)
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        c.add(f"not valid TOML: {exc}")
        return None, c.problems
    for key in data:
        if key not in _TOP_KEYS:
            c.add(_unknown_key(key, _TOP_KEYS))
    plan_id = data.get("plan_id")
    if not isinstance(plan_id, str) or not plan_id.strip() or "@" in plan_id:
        c.add("plan_id must be a non-empty name without '@'")
        plan_id = ""
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        c.add(f"version {version!r} must be a whole number from 1")
        version = 0
    effective_from = _instant(data.get("effective_from"))
    if effective_from is None:
        c.add(f"effective_from {data.get('effective_from')!r} must be a date or an ISO 8601 instant")
    effective_to = None
    if "effective_to" in data:
        effective_to = _instant(data["effective_to"])
        if effective_to is None:
            c.add(f"effective_to {data['effective_to']!r} must be a date or an ISO 8601 instant")
        elif effective_from is not None and effective_to <= effective_from:
            c.add(
                f"effective_to {format_instant(effective_to)} is not after "
                f"effective_from {format_instant(effective_from)}"
            )
    currency = data.get("currency")
    if not isinstance(currency, str) or not is_currency(currency):
        c.add(f"currency {currency!r} is not an ISO 4217 currency code (the workspace currency)")
        currency = None
    description = data.get("description", "")
    if not isinstance(description, str):
        c.add("description must be text")
        description = ""
    raw_rules = data.get("rules", [])
    rules: list[Rule] = []
    if not isinstance(raw_rules, list):
        c.add("rules must be an array of tables ([[rules]])")
    else:
        for index, raw in enumerate(raw_rules):
            rule = _parse_rule(c, index, raw, currency)
            if rule is not None:
                rules.append(rule)
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            c.add("duplicate rule id", rule.id)
        seen.add(rule.id)
    rep = None if "rep_commission" not in data else _parse_rep(c, data["rep_commission"])
    if not rules and "rep_commission" not in data:
        c.add("the plan has no rules and no rep_commission: it pays nothing")
    # A rule with problems of its own is left out of the overlap analysis: its clashes would be noise.
    flawed = {name for p in c.problems for name in p.rules}
    c.problems.extend(check_rules(file, [r for r in rules if r.id not in flawed]))
    if c.problems or effective_from is None or currency is None:
        return None, c.problems
    plan = Plan(
        plan_id=plan_id,
        version=version,
        effective_from=effective_from,
        effective_to=effective_to,
        currency=currency,
        rules=tuple(rules),
        rep_commission=rep,
        description=description,
        text=text,
        file=file,
    )
    return plan, []


def parse_plan(text: str, file: str = "<plan>") -> Plan:
    """Parse and validate plan TOML; raise :class:`PlanInvalid` listing every problem."""
    plan, problems = parse_plan_text(text, file)
    if plan is None:
        raise PlanInvalid(problems)
    return plan


def read_plan_file(path: str | Path) -> Plan:
    """Read, parse and validate one plan file."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise PlanInvalid([PlanProblem(file, f"cannot read: {exc.strerror}")]) from None
    return parse_plan(text, file)


def example_plan_text() -> str:
    """The shipped, commented example plan (what ``cosell plans init`` writes)."""
    return resources.files("cosell.pay").joinpath("example_plan.toml").read_text(encoding="utf-8")


def example_plan() -> Plan:
    """The shipped example plan, parsed."""
    return parse_plan(example_plan_text(), "example_plan.toml")


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
