"""Compensation plan versions known to the workspace: added, never changed, read back as a PlanSet.

Each loaded version keeps its exact file text and its digest, who loaded it and when. The plan in
force at an instant is decided by :class:`cosell.pay.plans.PlanSet` from the versions read back
here; :func:`add_plan_version` refuses a version that would make that timeline ambiguous, leave a gap
inside one plan, or silently re-price deals already closed (see :mod:`cosell.pay.plan_check`).

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
from cosell.store.tables import ensure_tables

__all__ = [
    "AddResult",
    "PlanSet",
    "PlanVersionRow",
    "add_plan_version",
    "list_plan_versions",
    "load_plan_set",
    "migration_plans",
]


def migration_plans(con: Engine) -> None:
    """Schema step 6: the plan versions table (append-only by convention: nothing updates it)."""
    con.execute(
        """CREATE TABLE IF NOT EXISTS plan_versions (
            seq BIGINT PRIMARY KEY,              -- the order versions were added
            plan_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            effective_from TIMESTAMPTZ NOT NULL,
            effective_to TIMESTAMPTZ,            -- the file's own end; NULL = until superseded
            currency VARCHAR NOT NULL,
            text VARCHAR NOT NULL,               -- the file exactly as loaded
            digest VARCHAR NOT NULL,             -- sha256 of text
            file VARCHAR NOT NULL,               -- where it was loaded from (for messages)
            loaded_at TIMESTAMPTZ NOT NULL,
            by_user VARCHAR NOT NULL,
            repriced BOOLEAN NOT NULL,           -- added with --reprice over time already past
            UNIQUE (plan_id, version))"""
    )


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

    @property
    def label(self) -> str:
        return f"{self.plan_id}@{self.version}"


@dataclass(frozen=True)
class AddResult:
    """What :func:`add_plan_version` did: ``added`` or ``unchanged`` (the same text was already loaded)."""

    outcome: Literal["added", "unchanged"]
    plan: Plan


def _stored_plans(con: Engine) -> list[tuple[Plan, tuple[datetime, str, bool]]]:
    # A development build recorded step 6 while it was still empty: create the table when missing
    # (idempotent and cheap, like the ledger's ensure step). Every reader and writer comes here.
    ensure_tables(con, ("plan_versions",), migration_plans)
    rows = con.execute(
        "SELECT text, file, digest, loaded_at, by_user, repriced FROM plan_versions ORDER BY seq"
    ).fetchall()
    out = []
    for text, file, digest, loaded_at, by_user, repriced in rows:
        plan = parse_plan(str(text), str(file))
        if plan.digest != digest:
            raise CosellError(f"plan version {plan.label}: stored text does not match its digest")
        out.append((plan, (loaded_at, str(by_user), bool(repriced))))
    return out


def load_plan_set(con: Engine) -> PlanSet:
    """Every plan version of the workspace, in the order added."""
    return PlanSet(tuple(plan for plan, _ in _stored_plans(con)))


def add_plan_version(
    con: Engine,
    plan: Plan,
    by_user: str,
    *,
    now: datetime,
    workspace_currency: str,
    reprice: bool = False,
) -> AddResult:
    """Add one version (no transaction of its own: the caller groups it); refuse with every problem.

    The same text loaded again is ``unchanged``. A version whose label is taken by different text,
    that starts before one already loaded, leaves a gap or overlap, or takes over time before
    ``now`` without ``reprice`` raises :class:`PlanInvalid`.
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
    existing = [p for p, _ in _stored_plans(con)]
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
    problems = check_addition(existing, plan, now=now, reprice=reprice)
    if problems:
        raise PlanInvalid(problems)
    row = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM plan_versions").fetchone()
    assert row is not None
    con.execute(
        "INSERT INTO plan_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            int(row[0]),
            plan.plan_id,
            plan.version,
            plan.effective_from,
            plan.effective_to,
            plan.currency,
            plan.text,
            plan.digest,
            file,
            now,
            by_user,
            _takes_over_past(existing, plan, now),
        ],
    )
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
        plan, (loaded_at, by_user, repriced) = stored[i]
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
            )
        )
    return rows
