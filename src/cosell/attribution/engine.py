"""The batch attribution engine: SPEC sections 2 and 3 for every deal at once.

The rules are relational steps compiled once into a plan of SQL statements
(:mod:`cosell.attribution.engine_build`, cached by :mod:`cosell.attribution.engine_plan`) and
executed where the workspace lives (DuckDB by default), over the ``v_<table>`` views of what was
known at the as-of instant. The result is two tables of formatted strings, the same rows
:mod:`cosell.attribution.reference` produces one deal at a time:

>>> from cosell.store.workspace import open_workspace
>>> ws = open_workspace(":memory:")
>>> run = attribute(ws.con, as_of=parse_instant("2026-06-30"))
>>> run.counts
{'sourced': 0, 'accelerated': 0, 'influenced': 0, 'none': 0}
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import duckdb

from cosell.attribution import credit
from cosell.attribution.engine_plan import (
    AS_OF_PLACEHOLDER_US,
    PLANS,
    Params,
    Plan,
    RunContext,
    drop,
    execute,
    input_columns,
    integer_weights,
    plan_key,
)
from cosell.attribution.result import TIERS, AttributionRow, CreditRow
from cosell.instants import epoch_micros, parse_instant
from cosell.policy import Policy
from cosell.store.workspace import as_of_views

# The credit models are registered once, in credit.py; the engine computes the same ones.
MODELS = tuple(credit.MODELS)
TOUCH_MODELS = credit.TOUCH_MODELS
MEMORY_ENV = "COSELL_ENGINE_MEMORY"
DEFAULT_MEMORY_LIMIT = "3GB"
ATTRIBUTION_TABLE = "cosell_attribution"
CREDITS_TABLE = "cosell_credits"

__all__ = ["MODELS", "EngineRun", "attribute", "check_model", "parse_instant"]


def check_model(name: str) -> str:
    """The model name if it is known; else the registry's UsageError suggesting the closest one."""
    credit.get_model(name)
    return name


@dataclass
class EngineRun:
    """One run's results, held as tables on the connection until the next run replaces them."""

    con: duckdb.DuckDBPyConnection
    as_of: datetime
    model: str
    policy_version: str
    counts: dict[str, int] = field(default_factory=dict)
    attribution_table: str = ATTRIBUTION_TABLE
    credits_table: str = CREDITS_TABLE

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
    con: duckdb.DuckDBPyConnection,
    policy: Policy | None = None,
    as_of: datetime | None = None,
    model: str | None = None,
    *,
    progress: Any = None,
    make_views: bool = True,
) -> EngineRun:
    """Attribute every opportunity known at ``as_of`` (default now) on the workspace connection.

    Builds the ``v_<table>`` views for ``as_of``, runs the rules and leaves the formatted results in
    the temp tables ``cosell_attribution`` and ``cosell_credits`` (replaced by the next run).
    ``progress(n)`` is called after each of the engine's steps when given. With
    ``make_views=False`` the caller's ``v_<table>`` views are read as they are (for instance the
    current rows evaluated at a past as-of time).
    """
    policy = policy or Policy()
    model = check_model(model or policy.credit_model)
    when = (as_of or datetime.now(UTC)).astimezone(UTC)
    if make_views:
        as_of_views(con, when if as_of is not None else None)
    plan = compiled_plan(con, policy, model)
    context = RunContext(policy, model, Params.from_policy(policy, epoch_micros(when)))
    # Like the import, the engine works under a memory limit and lets DuckDB spill beyond it, so a
    # 1M-deal run stays under 4 GiB (SPEC section 10).
    previous = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    con.execute(f"SET memory_limit = '{os.environ.get(MEMORY_ENV) or DEFAULT_MEMORY_LIMIT}'")
    tick = progress or (lambda: None)
    made: list[str] = []
    try:
        made = execute(con, plan, context, _PYTHON_STEPS, on_tick=tick)
    finally:
        drop(con, made)
        con.execute(f"SET memory_limit = '{previous}'")
    counts = {tier: 0 for tier in TIERS}
    for tier, n in con.execute(f"SELECT tier, count(*) FROM {ATTRIBUTION_TABLE} GROUP BY tier").fetchall():
        counts[str(tier)] = int(n)
    return EngineRun(con, when, model, policy.version, counts)


def compiled_plan(con: duckdb.DuckDBPyConnection, policy: Policy, model: str) -> Plan:
    """The compiled plan for this policy and model over the relations on ``con`` (cached)."""
    params = Params.from_policy(policy, AS_OF_PLACEHOLDER_US)
    weights = integer_weights(policy.role_weights)
    columns = input_columns(con)

    def build() -> Plan:
        from cosell.attribution.engine_build import build_plan

        return build_plan(columns, policy, params, weights, model)

    return PLANS.get(plan_key(params, weights, model, columns), build)


def _touch_credits(context: RunContext) -> Any:
    from cosell.attribution.engine_touch_models import compute_touch_credits

    return compute_touch_credits(context)


_PYTHON_STEPS = {"touch_credits": _touch_credits}
