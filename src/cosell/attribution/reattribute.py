"""Re-decide some deals for a partial version (an accepted fix, a decided dispute, an auto-tag,
an answered prompt).

:func:`redecide` picks the cheaper of two implementations that are proven to agree row for row
(tests/attribution/test_engine_parity.py): in a small workspace the per-deal reference
implementation (:func:`reattribute`), which reads every deal's facts into Python, because cohort
baselines need every direct-only won deal; above :data:`REFERENCE_MAX_WORKSPACE` deals one batch
engine run, which works in bounded memory and costs far less per deal (100k deals: about 20 s for
the engine, about 70 s for the reference to read the facts).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cosell.attribution.facts_read import load_facts
from cosell.attribution.reference import build_baselines, decide
from cosell.engine import Engine
from cosell.errors import NotFound
from cosell.instants import epoch_micros
from cosell.policy import Policy
from cosell.results import AttributionRow, CreditRow
from cosell.store.attribution_store import RunRecord

# Workspaces up to this many opportunities re-decide deals with the reference implementation.
REFERENCE_MAX_WORKSPACE = 20_000


def reattribute(
    con: Engine,
    policy: Policy,
    opportunity_ids: Iterable[str],
    as_of: datetime,
    model: str | None = None,
) -> tuple[list[AttributionRow], list[CreditRow]]:
    """Attribution and credit rows of ``opportunity_ids`` as of ``as_of``, on the rows known then.

    Reads the whole workspace (cohort baselines need every direct-only won deal) and decides only
    the deals asked for, with the overrides recorded up to ``as_of``. Rebuilds the ``v_<table>`` views.
    """
    facts = load_facts(con, policy, as_of, existing_at=as_of)
    wanted = sorted(set(opportunity_ids))
    missing = [o for o in wanted if o not in facts.opportunities]
    if missing:
        raise NotFound(f"no opportunity {', '.join(missing)}")
    baselines = build_baselines(facts, policy, epoch_micros(as_of))
    rows: list[AttributionRow] = []
    credits: list[CreditRow] = []
    for opportunity_id in wanted:
        decision = decide(
            opportunity_id,
            facts,
            policy,
            as_of,
            model or policy.credit_model,
            baselines=baselines,
            known_at=as_of,
        )
        rows.append(decision.row())
        credits += decision.credit_rows()
    return rows, credits


def redecide(
    con: Engine,
    policy: Policy,
    opportunity_ids: Iterable[str],
    as_of: datetime,
    model: str | None = None,
) -> tuple[list[AttributionRow], list[CreditRow]]:
    """Attribution and credit rows of ``opportunity_ids`` as of ``as_of`` (with the overrides
    recorded so far), by the reference implementation or the batch engine, whichever is cheaper
    for the workspace's size (see the module docstring). Rows sorted by deal, credits by partner."""
    row = con.execute("SELECT count(*) FROM cur_opportunities").fetchone()
    if row is None or int(row[0]) <= REFERENCE_MAX_WORKSPACE:
        return reattribute(con, policy, opportunity_ids, as_of, model)
    from cosell.attribution.engine import attribute

    run = attribute(con, policy, as_of, model, known_at=as_of)
    wanted = sorted(set(opportunity_ids))
    a_cols, c_cols = ", ".join(AttributionRow.columns()), ", ".join(CreditRow.columns())
    rows = con.execute(
        f"SELECT {a_cols} FROM {run.attribution_table} WHERE list_contains(?, opportunity_id) "
        "ORDER BY opportunity_id",
        [wanted],
    ).fetchall()
    credits = con.execute(
        f"SELECT {c_cols} FROM {run.credits_table} WHERE list_contains(?, opportunity_id) "
        "ORDER BY opportunity_id, partner_id",
        [wanted],
    ).fetchall()
    return [AttributionRow(*r) for r in rows], [CreditRow(*c) for c in credits]


def store_new_version(
    con: Engine,
    policy: Policy,
    opportunity_ids: Iterable[str],
    at: datetime,
    *,
    kind: str,
    by_user: str,
    reason: str,
    model: str | None = None,
) -> RunRecord:
    """Re-decide the deals as of ``at`` (:func:`redecide`) and store them as one partial run of
    ``kind`` recorded at ``at`` (an accepted fix, a decided dispute, an auto-tag, an answered
    prompt). Opens no transaction: the caller makes it all or nothing with its own writes."""
    from cosell.store.versions import save_partial_run

    chosen = model or policy.credit_model
    rows, credits = redecide(con, policy, opportunity_ids, at, chosen)
    return save_partial_run(
        con, rows, credits, kind=kind, by_user=by_user, reason=reason,
        policy_version=policy.version, model=chosen, as_of=at, run_at=at,
    )  # fmt: skip
