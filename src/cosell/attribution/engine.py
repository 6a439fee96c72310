"""The batch attribution engine: SPEC sections 2 and 3 for every deal at once.

The rules are relational steps compiled once into a plan of SQL statements
(:mod:`cosell.attribution.engine_build`, cached by :mod:`cosell.attribution.engine_plan_cache`) and
executed where the workspace lives (DuckDB by default), over the ``v_<table>`` views of what was
known at the knowledge instant, evaluated at the as-of instant (:mod:`cosell.asof`). The result is
two tables of formatted strings, the same rows :mod:`cosell.attribution.reference` produces one
deal at a time:

>>> from cosell.store.workspace import open_workspace
>>> ws = open_workspace(":memory:")
>>> run = attribute(ws.con, as_of=parse_instant("2026-06-30"))
>>> run.counts
{'sourced': 0, 'accelerated': 0, 'influenced': 0, 'none': 0}
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cosell import clock
from cosell.asof import knowledge
from cosell.attribution import credit
from cosell.attribution.engine_execute import drop, execute
from cosell.attribution.engine_params import Params, shape_of
from cosell.attribution.engine_plan import (
    ATTRIBUTION_TABLE,
    CLAIMS_OUTPUT,
    CREDITS_TABLE,
    EVIDENCE_OUTPUT,
    STAGE_ENTRIES_OUTPUT,
    Plan,
    PlanOutputs,
    RunContext,
)
from cosell.attribution.engine_plan_cache import PLANS, input_columns, plan_key
from cosell.engine import Engine, settings
from cosell.instants import epoch_micros, parse_instant
from cosell.policy import Policy
from cosell.results import TIERS, AttributionRow, ClaimRow, CreditRow, EvidenceRow
from cosell.store.workspace import as_of_views

# The credit models are registered once, in credit.py; the engine computes the same ones.
MODELS = tuple(credit.MODELS)
TOUCH_MODELS = credit.TOUCH_MODELS
MEMORY_ENV = "COSELL_ENGINE_MEMORY"
DEFAULT_MEMORY_LIMIT = "3GB"
# A run over at most this many deals runs under the dialect's small-input settings (DuckDB: no
# optimizer, one thread): its statements cost more to plan than to run. At 1,000 demo deals that is
# still a tenth less CPU; at 10,000 the optimizer's plans win.
SMALL_RUN_DEALS = 1_000

__all__ = ["MODELS", "EngineRun", "attribute", "check_model", "parse_instant"]


def check_model(name: str) -> str:
    """The model name if it is known; else the registry's UsageError suggesting the closest one."""
    credit.get_model(name)
    return name


@dataclass
class EngineRun(PlanOutputs):
    """One run's results, held as tables on the connection until the next run replaces them."""

    con: Engine
    as_of: datetime
    model: str
    policy_version: str
    counts: dict[str, int] = field(default_factory=dict)
    known_at: datetime | None = None  # the knowledge instant read; None: everything recorded
    attribution_table: str = ATTRIBUTION_TABLE
    credits_table: str = CREDITS_TABLE

    def evidence_rows(self) -> tuple[list[EvidenceRow], list[ClaimRow]]:
        """The evidence rows by deal, and the claims by deal, rule, partner and source."""
        e = self.con.execute(f"{self.evidence_sql} ORDER BY opportunity_id").fetchall()
        c = self.con.execute(
            f"{self.claims_sql} ORDER BY opportunity_id, rule, partner_id, source"
        ).fetchall()
        return [EvidenceRow(*r) for r in e], [ClaimRow(*r) for r in c]

    def rows(self) -> list[AttributionRow]:
        cols = ", ".join(AttributionRow.columns())
        data = self.con.execute(
            f"SELECT {cols} FROM {self.attribution_table} ORDER BY opportunity_id"
        ).fetchall()
        return [AttributionRow(*r) for r in data]

    def credit_rows(self) -> list[CreditRow]:
        cols = ", ".join(CreditRow.columns())
        data = self.con.execute(
            f"SELECT {cols} FROM {self.credits_table} ORDER BY opportunity_id, partner_id"
        ).fetchall()
        return [CreditRow(*r) for r in data]


def attribute(
    con: Engine,
    policy: Policy | None = None,
    as_of: datetime | None = None,
    model: str | None = None,
    *,
    known_at: datetime | None = None,
    progress: Any = None,
    make_views: bool = True,
    evidence: bool = True,
) -> EngineRun:
    """Attribute every opportunity on the workspace connection, evaluated as of ``as_of`` (T,
    default :func:`cosell.clock.now`) with the data known at ``known_at`` (K; default ``as_of``
    when given, else everything recorded: :func:`cosell.asof.knowledge`).

    Builds the ``v_<table>`` views (the rows known at K, the deals created at or before T), runs
    the rules and leaves the formatted results in the temp tables ``cosell_attribution`` and
    ``cosell_credits`` (replaced by the next run). Overrides count as recorded and not withdrawn
    at K (else at T). ``progress(n)`` is called after each of the engine's steps when given. With
    ``make_views=False`` the caller's ``v_<table>`` views are read as they are (for instance the
    current rows evaluated at a past as-of time). With ``evidence=False`` the evidence and claims
    tables (``cosell_evidence``, ``cosell_claims``: what a stored run keeps beside its decisions)
    and the stage entries stored with them (``cosell_stage_entries``) are not made, for a caller
    that only writes the attribution and credits out; a stale one from an earlier run on the
    connection is dropped, so it is never read as this run's.
    """
    policy = policy or Policy()
    model = check_model(model or policy.credit_model)
    when = clock.now(as_of)
    known_at = knowledge(as_of, known_at)
    if make_views:
        as_of_views(con, known_at, existing_at=when)
    plan = compiled_plan(con, policy, model)
    # Overrides are read as recorded at the knowledge instant (else at the as-of instant).
    known_us = epoch_micros(known_at if known_at is not None else when)
    context = RunContext(policy, model, Params.from_policy(policy, epoch_micros(when)), known_us=known_us)
    # Like the import, the engine works under a memory limit and lets DuckDB spill beyond it, so a
    # 1M-deal run stays under 4 GiB (SPEC section 10). A small run is far below it: setting it and
    # back took 5 ms of a run over a hundred deals (DuckDB resizes its buffer pool each time).
    # A large run in a workspace that is small by its rows (cosell.store.size) has every thread.
    tuned: dict[str, str | None]
    if _deals(con) <= SMALL_RUN_DEALS:
        tuned = dict(con.dialect.small_input_settings)
    else:
        tuned = {"memory_limit": os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_LIMIT}
        tuned.update(con.dialect.large_input_settings)
    tick = progress or (lambda: None)
    made: list[str] = []
    skip = frozenset() if evidence else frozenset((EVIDENCE_OUTPUT, CLAIMS_OUTPUT, STAGE_ENTRIES_OUTPUT))
    with settings(con, tuned):
        try:
            drop(con, sorted(skip))
            made = execute(con, plan, context, _PYTHON_STEPS, on_tick=tick, skip=skip)
        finally:
            drop(con, made)
    counts = {tier: 0 for tier in TIERS}
    for tier, n in con.execute(f"SELECT tier, count(*) FROM {ATTRIBUTION_TABLE} GROUP BY tier").fetchall():
        counts[str(tier)] = int(n)
    return EngineRun(con, when, model, policy.version, counts, known_at)


def _deals(con: Engine) -> int:
    """The deals a run evaluates (the rows of ``v_opportunities``)."""
    return int(con.execute("SELECT count(*) FROM v_opportunities").fetchall()[0][0])


def compiled_plan(con: Engine, policy: Policy, model: str) -> Plan:
    """The compiled plan for this policy and model over the relations on ``con`` (cached)."""
    shape = shape_of(Params.from_policy(policy, 0))
    columns = input_columns(con)
    dialect = con.dialect

    def build() -> Plan:
        from cosell.attribution.engine_build import build_plan

        return build_plan(columns, shape, model, dialect)

    return PLANS.get(plan_key(shape, model, columns, dialect.name, con.version), build)


def _touch_credits(context: RunContext) -> Any:
    from cosell.attribution.engine_touch_models import compute_touch_credits

    return compute_touch_credits(context)


def _cohort_medians(context: RunContext) -> Any:
    from cosell.attribution.engine_median import compute_cohort_medians

    return compute_cohort_medians(context)


_PYTHON_STEPS = {"touch_credits": _touch_credits, "cohort_medians": _cohort_medians}
