"""Static checks of plans: rules that overlap with no precedence, and the effective-date timeline.

Overlap is decided exactly, not guessed: every combination of the values a credit can carry (tier,
partner type, each program tier a rule names plus "any other", role, opportunity type plus
"unknown") is tried against the plan's non-additive rules; where two rules tie for the win (equal
specificity and equal priority), the plan is ambiguous and both rules are named. Two rules whose
constraint sets overlap only where a third, more specific rule wins are fine.

The timeline: at any instant at most one plan version is in force. A version without
``effective_to`` runs until the next version (of any plan) takes effect; a version with one ends
there. Within one plan_id the next version must start exactly where an ended version ends (no gap,
no overlap). A version added to a workspace must not start before one already there, and must not
take over time that has already passed (deals were priced under the old version) unless the caller
asks to re-price.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime

from cosell.instants import format_instant
from cosell.pay.plans import (
    OPPORTUNITY_TYPES,
    PARTNER_TYPES,
    ROLES,
    TIERS,
    Plan,
    PlanProblem,
    Rule,
)

_OTHER = ""  # a program tier no rule names, or an opportunity without a type


def _points(rules: Sequence[Rule]) -> list[tuple[str, str, str, str, str]]:
    """Every distinguishable credit: tier, partner type, program tier, role, opportunity type."""
    program_tiers = sorted({t for r in rules if r.program_tier is not None for t in r.program_tier})
    tiers = [t for t in TIERS if t != "none"]  # tier none deals have no credits
    return list(
        itertools.product(tiers, PARTNER_TYPES, [*program_tiers, _OTHER], ROLES, [*OPPORTUNITY_TYPES, _OTHER])
    )


def _where(a: Rule, b: Rule, point: tuple[str, str, str, str, str]) -> str:
    """The keys either rule constrains, at an example credit both match."""
    names = ("tier", "partner_type", "program_tier", "role", "opportunity_type")
    parts = []
    for name, value in zip(names, point, strict=True):
        if a.constraint(name) is None and b.constraint(name) is None:
            continue
        parts.append(f"{name} {value or '(any other)'}")
    return ", ".join(parts) if parts else "every credit"


def check_rules(file: str, rules: Sequence[Rule]) -> list[PlanProblem]:
    """Pairs of non-additive rules that both win somewhere (no precedence between them)."""
    contenders = [r for r in rules if not r.additive]
    if len(contenders) < 2:
        return []
    clashes: dict[tuple[str, str], tuple[Rule, Rule, tuple[str, str, str, str, str]]] = {}
    for point in _points(contenders):
        tier, partner_type, program_tier, role, opportunity_type = point
        matching = [
            r for r in contenders if r.matches(tier, partner_type, program_tier, role, opportunity_type)
        ]
        if len(matching) < 2:
            continue
        best = max(r.precedence for r in matching)
        top = sorted((r for r in matching if r.precedence == best), key=lambda r: r.id)
        for a, b in itertools.combinations(top, 2):
            if a.id == b.id:
                continue  # a duplicate id is reported on its own
            clashes.setdefault((a.id, b.id), (a, b, point))
    problems = []
    for (a_id, b_id), (a, b, point) in sorted(clashes.items()):
        problems.append(
            PlanProblem(
                file,
                f"overlapping rules with no precedence: both match {_where(a, b, point)}"
                " (give one a higher priority, or make one more specific)",
                (a_id, b_id),
            )
        )
    return problems


def _at(instant: datetime) -> str:
    return format_instant(instant)


def check_next_version(
    previous: Plan | None,
    new: Plan,
    *,
    now: datetime | None = None,
    reprice: bool = False,
) -> list[PlanProblem]:
    """Problems of ``new`` taking effect after ``previous`` (the version latest in the timeline so far).

    ``now`` is given when adding to a workspace: then taking over time before ``now`` that an
    earlier version covered needs ``reprice``. Without ``now`` (checking a folder of files) versions
    that start together are an overlap.
    """
    file = new.file or new.label
    if previous is None:
        return []
    if new.effective_from < previous.effective_from:
        return [
            PlanProblem(
                file,
                f"{new.label} takes effect {_at(new.effective_from)}, before {previous.label} "
                f"({_at(previous.effective_from)}): versions must be added in date order",
            )
        ]
    problems: list[PlanProblem] = []
    ends = previous.effective_to
    if ends is not None and ends < new.effective_from:
        if previous.plan_id == new.plan_id:
            problems.append(
                PlanProblem(
                    file,
                    f"a gap in effective dates: {previous.label} ends {_at(ends)} but {new.label} "
                    f"starts {_at(new.effective_from)}",
                )
            )
        return problems
    if ends is not None and ends == new.effective_from:
        return problems
    # ``new`` starts inside ``previous``'s range: it supersedes it from its effective_from.
    takes_over_past = now is None or new.effective_from < now
    if ends is not None and not reprice:
        problems.append(
            PlanProblem(
                file,
                f"an overlap in effective dates: {previous.label} runs until {_at(ends)} but "
                f"{new.label} starts {_at(new.effective_from)}",
            )
        )
    elif now is None and new.effective_from == previous.effective_from:
        problems.append(
            PlanProblem(
                file,
                f"an overlap in effective dates: {previous.label} and {new.label} both take effect "
                f"{_at(new.effective_from)}",
            )
        )
    elif now is not None and takes_over_past and not reprice:
        problems.append(
            PlanProblem(
                file,
                f"{new.label} takes effect {_at(new.effective_from)}, before now ({_at(now)}), over "
                f"{previous.label}: deals closed since then would be re-priced; pass --reprice to do "
                "that on purpose",
            )
        )
    return problems


def check_addition(
    existing: Sequence[Plan], new: Plan, *, now: datetime, reprice: bool = False
) -> list[PlanProblem]:
    """Problems of adding ``new`` to a workspace holding ``existing`` (in load order)."""
    file = new.file or new.label
    same = [p for p in existing if p.plan_id == new.plan_id]
    problems: list[PlanProblem] = []
    if same and new.version <= max(p.version for p in same):
        newest = max(p.version for p in same)
        problems.append(
            PlanProblem(
                file,
                f"version {new.version} of {new.plan_id} is not after version {newest}, already loaded "
                "(a loaded version never changes: add a new version)",
            )
        )
    previous = latest(existing)
    problems.extend(check_next_version(previous, new, now=now, reprice=reprice))
    return problems


def latest(plans: Sequence[Plan]) -> Plan | None:
    """The version that takes effect last (the later-added one on a tie)."""
    best: Plan | None = None
    for plan in plans:
        if best is None or plan.effective_from >= best.effective_from:
            best = plan
    return best


def check_folder(plans: Sequence[Plan]) -> list[PlanProblem]:
    """Timeline problems of a set of plan files checked together (e.g. a folder)."""
    problems: list[PlanProblem] = []
    by_key: dict[tuple[str, int], Plan] = {}
    for plan in plans:
        key = (plan.plan_id, plan.version)
        if key in by_key:
            problems.append(PlanProblem(plan.file, f"{plan.label} is also defined in {by_key[key].file}"))
        else:
            by_key[key] = plan
    unique = sorted(by_key.values(), key=lambda p: (p.plan_id, p.version))
    for a, b in itertools.pairwise(unique):
        if a.plan_id == b.plan_id and b.effective_from < a.effective_from:
            problems.append(
                PlanProblem(
                    b.file,
                    f"{b.label} takes effect {_at(b.effective_from)}, before {a.label} "
                    f"({_at(a.effective_from)})",
                )
            )
    if problems:
        return problems
    timeline = sorted(unique, key=lambda p: (p.effective_from, p.plan_id, p.version))
    for a, b in itertools.pairwise(timeline):
        problems.extend(check_next_version(a, b))
    return problems
