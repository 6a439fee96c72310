"""Parse and validate a compensation plan's TOML text into a :class:`cosell.pay.plans.Plan`.

Parsing collects every problem it finds (each naming its rule) instead of stopping at the first, so
``cosell plans check`` can list them all. Nothing here does I/O except :func:`read_plan_file` and
reading the shipped example (:func:`example_plan_text`, what ``cosell plans init`` writes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from cosell.errors import did_you_mean
from cosell.instants import OUT_OF_RANGE, format_instant, parse_instant, utc
from cosell.money import (
    MONEY_INTEGER_DIGITS,
    beyond_minor_unit_reason,
    fits_minor_unit,
    fits_storage,
    is_currency,
    significant_fraction_digits,
)
from cosell.pay.plans import (
    DIMENSION_NAMES,
    DIMENSIONS,
    HUNDRED,
    MAX_PRIORITY,
    MAX_VERSION,
    PARTNER_PAY_VALUES,
    PERCENT_DECIMALS,
    Plan,
    PlanInvalid,
    PlanProblem,
    RepCommission,
    Rule,
)
from cosell.shown import control_character
from cosell.toml_text import NotToml, UnreadableFile, read_toml, read_toml_file
from cosell.toml_text import shown_value as _shown

_RULE_KEYS = (
    "id",
    "description",
    *DIMENSION_NAMES,
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


class _Collector:
    """Gathers problems of one file so that all of them are reported at once."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[PlanProblem] = []

    def add(self, message: str, *rules: str) -> None:
        self.problems.append(PlanProblem(self.file, message, tuple(rules)))


def _unknown_key(key: str, known: Iterable[str]) -> str:
    return f"unknown key {key!r}" + did_you_mean(key, list(known), quote=True)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    number = Decimal(value)
    return number if number.is_finite() else None  # TOML allows inf and nan; money does not


def _plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 10, 12.5, 0.001 (1E+30 stays 1E+30)."""
    if abs(value.adjusted()) > 24:  # never expand (or normalize) 1e999999999: it is shown as written
        return str(value)
    return format(value.normalize(), "f")


def _instant(c: _Collector, name: str, value: Any) -> datetime | None:
    """A TOML date, local or offset date-time, or an ISO 8601 string, as a UTC instant."""
    try:
        if isinstance(value, datetime):
            return utc(value.replace(tzinfo=UTC) if value.tzinfo is None else value)
        if isinstance(value, date):
            return utc(value)
        if isinstance(value, str):
            return parse_instant(value)
    except ValueError as exc:
        if OUT_OF_RANGE in str(exc):
            c.add(f"{name} {_shown(value)} {OUT_OF_RANGE}")
            return None
    c.add(f"{name} {_shown(value)} must be a date or an ISO 8601 instant")
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
                hint = did_you_mean(item, allowed, quote=True)
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
    if not fits_storage(number):
        # The ledger stores every earning as DECIMAL(18,4): a fee it cannot hold would pass here and
        # fail every posting while this version is in force.
        c.add(
            f"{name} {_plain(number)} is too large: a plan amount has at most {MONEY_INTEGER_DIGITS} digits "
            "before the decimal point (what the ledger holds)",
            rule_id,
        )
    elif currency is not None and is_currency(currency) and not fits_minor_unit(number, currency):
        c.add(f"{name} {_plain(number)} {beyond_minor_unit_reason(currency)}", rule_id)
    return number


def _percent_problem(number: Decimal) -> str | None:
    """Why a percent (of a rule or a rep rate) is out of bounds, or None."""
    if number < 0:
        return "is negative"
    if number > HUNDRED:
        return "is over 100"
    if significant_fraction_digits(number) > PERCENT_DECIMALS:
        return f"has more than {PERCENT_DECIMALS} decimal places"
    return None


def _percent(c: _Collector, rule_id: str, name: str, value: Any) -> Decimal | None:
    number = _number(value)
    if number is None:
        c.add(f"{name} {_shown(value)} is not a number", rule_id)
        return None
    problem = _percent_problem(number)
    if problem:
        c.add(f"{name} {_plain(number)} {problem}", rule_id)
    return number


def _parse_rule(c: _Collector, index: int, raw: Any, currency: str | None) -> Rule | None:
    if not isinstance(raw, Mapping):
        c.add(f"rule #{index + 1} is not a table")
        return None
    rule_id = raw.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        c.add(f"rule #{index + 1} has no id (every rule needs a unique id)")
        return None
    # A plan or rule id is recorded on every ledger entry and printed on every statement.
    if control_character(rule_id) is not None:
        c.add(f"rule #{index + 1} id {rule_id!r} has a control character (a line break, a tab, ...)")
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
    elif priority is not None and abs(priority) > MAX_PRIORITY:
        c.add(
            f"priority {priority} is not a whole number from -{MAX_PRIORITY:,} to {MAX_PRIORITY:,}", rule_id
        )
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
        problem = None if number is None else _percent_problem(number)
        if number is None:
            c.add(f"rep_commission: {key} {_shown(raw[key])} is not a number")
        elif problem:
            c.add(f"rep_commission: {key} {_plain(number)} {problem}")
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
        data = read_toml(text)
    except NotToml as exc:
        c.add(str(exc))
        return None, c.problems
    for key in data:
        if key not in _TOP_KEYS:
            c.add(_unknown_key(key, _TOP_KEYS))
    plan_id = data.get("plan_id")
    if not isinstance(plan_id, str) or not plan_id.strip() or "@" in plan_id:
        c.add("plan_id must be a non-empty name without '@'")
        plan_id = ""
    elif control_character(plan_id) is not None:
        c.add(f"plan_id {plan_id!r} has a control character (a line break, a tab, ...)")
        plan_id = ""
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        c.add(f"version {_shown(version)} must be a whole number from 1 to {MAX_VERSION:,}")
        version = 0
    effective_from = _instant(c, "effective_from", data.get("effective_from"))
    effective_to = None
    if "effective_to" in data:
        effective_to = _instant(c, "effective_to", data["effective_to"])
        if effective_to is not None and effective_from is not None and effective_to <= effective_from:
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
    text = read_plan_text(path)
    if isinstance(text, PlanProblem):
        raise PlanInvalid([text])
    return parse_plan(text, file)


def read_plan_text(path: str | Path) -> str | PlanProblem:
    """A plan file's text, or the problem reading it (unreadable, not a regular file, too large,
    or not UTF-8 text)."""
    try:
        return read_toml_file(path, "a plan")
    except UnreadableFile as exc:
        return PlanProblem(str(path), str(exc))


def example_plan_text() -> str:
    """The shipped, commented example plan (what ``cosell plans init`` writes)."""
    return resources.files("cosell.pay").joinpath("example_plan.toml").read_text(encoding="utf-8")


def example_plan() -> Plan:
    """The shipped example plan, parsed."""
    return parse_plan(example_plan_text(), "example_plan.toml")
