"""Compensation plan versions of the workspace: added after every check, never changed, read back
as a PlanSet.

Each loaded version keeps its exact file text and its digest, who loaded it and when
(:mod:`cosell.store.plans`). The plan in force at an instant is decided by
:class:`cosell.pay.plans.PlanSet` from the versions read back here; :func:`add_plan_version` refuses a
version that would make that timeline ambiguous, leave a gap inside one plan, or silently re-price
deals already closed (see :mod:`cosell.pay.plan_check`).

The ledger uses it as::

    plans = load_plan_set(con)
    plan = plans.in_force(deal.closed_at)
    earnings = price_deal(plan, deal)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cosell.engine import Engine
from cosell.errors import CosellError
from cosell.pay.plan_check import check_addition, latest
from cosell.pay.plan_parse import parse_plan
from cosell.pay.plans import Plan, PlanInvalid, PlanProblem, PlanSet
from cosell.store.plans import insert_plan_version, stored_plan_texts
from cosell.store.review import check_not_backdated

__all__ = [
    "AddResult",
    "PlanSet",
    "PlanVersionRow",
    "add_plan_version",
    "list_plan_versions",
    "load_plan_set",
]


@dataclass(frozen=True)
class PlanVersionRow:
    """One stored version, with the range in which it is actually in force."""

    plan_id: str
    version: int
    effective_from: datetime
    effective_to: datetime | None
    in_force_until: datetime | None  # its own end, or the start of the version that supersedes it
    digest: str
    file: str
    loaded_at: datetime
    by_user: str
    repriced: bool
    rules: int
    reason: str = ""  # why it was loaded (empty for one loaded before reasons were recorded)

    @property
    def label(self) -> str:
        return f"{self.plan_id}@{self.version}"


@dataclass(frozen=True)
class AddResult:
    """What :func:`add_plan_version` did: ``added`` or ``unchanged`` (the same text was already loaded)."""

    outcome: Literal["added", "unchanged"]
    plan: Plan


def _stored_plans(con: Engine) -> list[tuple[Plan, tuple[datetime, str, bool, str]]]:
    out = []
    for stored in stored_plan_texts(con):
        plan = parse_plan(stored.text, stored.file)
        if plan.digest != stored.digest:
            raise CosellError(f"plan version {plan.label}: stored text does not match its digest")
        out.append((plan, (stored.loaded_at, stored.by_user, stored.repriced, stored.reason)))
    return out


def load_plan_set(con: Engine, known_at: datetime | None = None) -> PlanSet:
    """Every plan version of the workspace, in the order added; with ``known_at``, only those
    loaded at or before it (what was known then, docs/as-of.md)."""
    return PlanSet(
        tuple(
            plan
            for plan, (loaded_at, _, _, _) in _stored_plans(con)
            if known_at is None or loaded_at <= known_at
        )
    )


def add_plan_version(
    con: Engine,
    plan: Plan,
    by_user: str,
    *,
    now: datetime,
    workspace_currency: str,
    reprice: bool = False,
    reason: str = "",
) -> AddResult:
    """Add one version (no transaction of its own: the caller groups it); refuse with every problem.

    The same text loaded again is ``unchanged``. A version whose label is taken by different text,
    that starts before one already loaded, leaves a gap or overlap, or takes over time before
    ``now`` without ``reprice`` raises :class:`PlanInvalid`. ``reason`` is stored as why it was
    loaded (the command requires one: :func:`cosell.service.plans.load_plan`).
    """
    file = plan.file or plan.label
    if plan.currency != workspace_currency:
        raise PlanInvalid(
            [
                PlanProblem(
                    file, f"currency {plan.currency} is not the workspace currency {workspace_currency}"
                )
            ]
        )
    stored = _stored_plans(con)
    existing = [p for p, _ in stored]
    for other in existing:
        if other.label == plan.label:
            if other.digest == plan.digest:
                return AddResult("unchanged", other)
            raise PlanInvalid(
                [
                    PlanProblem(
                        file,
                        f"{plan.label} is already loaded with different content "
                        "(a loaded version never changes: raise the version)",
                    )
                ]
            )
    # Dated before what is already recorded, a version could dodge --reprice (it would start
    # "in the future") and the plan set as known at an instant would change after the fact.
    check_not_backdated(con, now, f"loading {plan.label}")
    problems = check_addition(existing, plan, now=now, reprice=reprice)
    if problems:
        raise PlanInvalid(problems)
    insert_plan_version(
        con, plan_id=plan.plan_id, version=plan.version, effective_from=plan.effective_from,
        effective_to=plan.effective_to, currency=plan.currency, text=plan.text, digest=plan.digest,
        file=file, loaded_at=now, by_user=by_user, repriced=_takes_over_past(existing, plan, now),
        reason=reason,
    )  # fmt: skip
    return AddResult("added", plan)


def _takes_over_past(existing: list[Plan], plan: Plan, now: datetime) -> bool:
    """True when ``plan`` replaces, before ``now``, a version that was in force (a re-pricing)."""
    previous = latest(existing)
    return previous is not None and previous.covers(plan.effective_from) and plan.effective_from < now


def list_plan_versions(con: Engine) -> list[PlanVersionRow]:
    """Every stored version with its in-force range, sorted by effective_from, then load order."""
    stored = _stored_plans(con)
    order = sorted(range(len(stored)), key=lambda i: (stored[i][0].effective_from, i))
    rows = []
    for position, i in enumerate(order):
        plan, (loaded_at, by_user, repriced, reason) = stored[i]
        until = plan.effective_to
        if position + 1 < len(order):
            nxt = stored[order[position + 1]][0].effective_from
            until = nxt if until is None else min(until, nxt)
        rows.append(
            PlanVersionRow(
                plan_id=plan.plan_id,
                version=plan.version,
                effective_from=plan.effective_from,
                effective_to=plan.effective_to,
                in_force_until=until,
                digest=plan.digest,
                file=plan.file,
                loaded_at=loaded_at,
                by_user=by_user,
                repriced=repriced,
                rules=len(plan.rules),
                reason=reason,
            )
        )
    return rows
