"""Re-decide a few deals with the per-deal reference implementation, for a partial version.

An accepted fix, a decided dispute or an answered prompt changes one deal; re-running the batch
engine over the whole workspace for it would be wasteful, and the reference implementation is
proven to agree with the engine row for row (tests/attribution/test_engine_parity.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb

from cosell.attribution.facts import load_facts
from cosell.attribution.reference import build_baselines, decide
from cosell.attribution.result import AttributionRow, CreditRow
from cosell.errors import NotFound
from cosell.instants import epoch_micros
from cosell.policy import Policy


def reattribute(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    opportunity_ids: Iterable[str],
    as_of: datetime,
    model: str | None = None,
) -> tuple[list[AttributionRow], list[CreditRow]]:
    """Attribution and credit rows of ``opportunity_ids`` on the rows known at ``as_of``.

    Reads the whole workspace (cohort baselines need every direct-only won deal) and decides only
    the deals asked for, with the overrides recorded up to ``as_of``. Rebuilds the ``v_<table>`` views.
    """
    facts = load_facts(con, policy, as_of)
    wanted = sorted(set(opportunity_ids))
    missing = [o for o in wanted if o not in facts.opportunities]
    if missing:
        raise NotFound(f"no opportunity {', '.join(missing)}")
    baselines = build_baselines(facts, policy, epoch_micros(as_of))
    rows: list[AttributionRow] = []
    credits: list[CreditRow] = []
    for opportunity_id in wanted:
        decision = decide(
            opportunity_id, facts, policy, as_of, model or policy.credit_model, baselines=baselines
        )
        rows.append(decision.row())
        credits += decision.credit_rows()
    return rows, credits
