"""The incremental re-run: after a few deals change, decide only what changed, with the same
result a full run gives (SPEC section 10; docs/incremental.md).

The base is the newest complete run known at K (a full run, or an incremental run on top of one:
:mod:`cosell.store.chain`), when it was evaluated at the same as-of instant T, under the same
policy version and credit model, and stored its evidence. Then:

1. the deals whose inputs changed since the base run's knowledge instant are found from the
   versioned rows (:func:`cosell.store.changes.changed_deals`): a touch on an account changes the
   deals whose window (as the base run read it) holds it;
2. the engine's compiled plan runs over those deals alone: its inputs are the rows of those deals
   and accounts (the rules read nothing else of a deal), and its cohort step measures their
   candidates against every baseline deal, changed or not
   (:mod:`cosell.attribution.incremental_cohorts`);
3. every unchanged acceleration candidate is measured again the same way, and re-tested when its
   cohort moved;
4. the run is stored as an incremental run on top of the base: the rows of the recomputed deals,
   and each re-tested deal as the change of its acceleration columns (:mod:`cosell.store.retests`:
   it reads as its whole rows written again); every other deal is read from the base's chain, so
   the stored run reads as the full run would.

Whatever the path cannot follow (no such base run, FX rates or partner contacts changed, a
changed deal that is bad input) makes it a full run, and
the result says why (:attr:`Incremental.full_because`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from cosell.attribution.engine_execute import drop, execute
from cosell.attribution.engine_params import Params, values
from cosell.attribution.engine_plan import ATTRIBUTION_TABLE, Plan, PlanOutputs, RunContext
from cosell.attribution.incremental_cohorts import (
    CLEAN_BASE,
    CLEAN_CAND,
    FIRSTS,
    MOVED,
    RETEST_ROWS,
    STORED_ROWS,
    TESTS,
    CleanCohorts,
    NeedsFullRun,
    find_moved,
    retest,
)
from cosell.engine import Engine, count_of
from cosell.errors import InputError
from cosell.imports import import_beside
from cosell.instants import MICROS_PER_DAY, epoch_micros
from cosell.policy import Policy
from cosell.profiling import timed
from cosell.results import TIERS
from cosell.store.attribution_store import RunRecord, unread_imports_at
from cosell.store.chain import RunChain
from cosell.store.changes import DIRTY_ACCOUNTS, DIRTY_DEALS, changed_deals
from cosell.store.evidence_store import (
    EVIDENCE_TABLE,
    STAGE_ENTRIES_TABLE,
    has_evidence,
    kept_stage_entries,
)
from cosell.store.retests import STORED
from cosell.store.versions import complete_run, runs_recorded_after, unread_partial_runs
from cosell.store.workspace import as_of_views

# The plan's inputs narrowed to some deals: each is a temp table of the name the plan reads.
NARROWED = {
    "opportunities": "opportunity_id IN (SELECT opportunity_id FROM {deals})",
    "accounts": "account_id IN (SELECT account_id FROM {accounts})",
    "stage_history": "opportunity_id IN (SELECT opportunity_id FROM {deals})",
    "touches": "account_id IN (SELECT account_id FROM {accounts}) "
    "OR opportunity_id IN (SELECT opportunity_id FROM {deals})",
    "leads": "converted_opportunity_id IN (SELECT opportunity_id FROM {deals}) "
    "OR lead_id IN (SELECT source_lead_id FROM v_opportunities)",
    # A registration logged on one of the deals, or logged on none whose deal is one of them: the
    # first deal on its account created at or after it (SPEC section 2; the plan's "regs" step),
    # found among all the deals, so that the deals decided need not bring the rest of their account.
    "deal_registrations": "opportunity_id IN (SELECT opportunity_id FROM {deals}) "
    "OR registration_id IN (SELECT r.registration_id FROM {full}deal_registrations r "
    "JOIN {full}opportunities o ON o.account_id = nullif(r.account_id, '') AND {created_us} >= {registered_us} "
    "WHERE nullif(r.opportunity_id, '') IS NULL AND r.account_id IN (SELECT account_id FROM {accounts}) "
    "AND o.account_id IN (SELECT account_id FROM {accounts}) "
    "GROUP BY r.registration_id "
    "HAVING arg_min(o.opportunity_id, (o.created_at, o.opportunity_id)) IN (SELECT opportunity_id FROM {deals}))",
    "opportunity_partners": "opportunity_id IN (SELECT opportunity_id FROM {deals})",
}
FULL = "vfull_"  # the prefix of the whole inputs' views while the narrowed ones are in place
NARROWED_ACCOUNTS = "_cosell_incr_accounts"
REDECIDED = "_cosell_incr_redecided"
_NEW_TIERS = f"SELECT tier FROM {ATTRIBUTION_TABLE} UNION ALL SELECT tier FROM {RETEST_ROWS}"


@dataclass
class Incremental(PlanOutputs):
    """An incremental re-run's results, held as tables on the connection for
    :func:`cosell.store.attribution_store.save_run` (the recomputed and re-tested deals; the rest
    is read from :attr:`chain`, whose newest run is :attr:`base`), or the reason it must be a full
    run."""

    con: Engine
    as_of: datetime
    known_at: datetime | None
    policy_version: str
    model: str
    base: RunRecord | None = None
    chain: RunChain | None = None
    full_because: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    recomputed: int = 0  # deals whose inputs changed (with their accounts' deals)
    retested: int = 0  # unchanged candidates re-tested against a moved cohort
    deals: int = 0  # deals in the run

    @property
    def retests_sql(self) -> str:
        # The re-tested deals, as the change of their acceleration columns (cosell.store.retests).
        return f"SELECT * FROM {RETEST_ROWS}"


def attribute_incremental(
    con: Engine, policy: Policy, as_of: datetime, model: str, *, known_at: datetime | None
) -> Incremental:
    """Decide again, as of ``as_of`` with the data known at ``known_at``, only the deals whose
    inputs changed since the base run and the candidates whose cohort moved. The result either
    holds the run (store it with ``save_run(..., scope="incremental")``) or says why a full run is
    needed (``full_because``; nothing is left on the connection then)."""
    # The cohort step's libraries (and Arrow's compute functions, which its first cast would
    # import inside it), imported while the run's statements run; waited for before returning,
    # so that no import is still under way when the command ends.
    importing = import_beside("numpy", "pyarrow", "pyarrow.compute")
    try:
        return _attempt(con, policy, as_of, model, known_at)
    finally:
        importing.join()


def _attempt(
    con: Engine, policy: Policy, as_of: datetime, model: str, known_at: datetime | None
) -> Incremental:
    result = Incremental(con, as_of, known_at, policy.version, model)
    found = complete_run(con, known_at)
    why = _unsuitable(con, found, policy, as_of, model, known_at)
    if why or found is None:
        result.full_because = why
        return result
    base, chain = found
    result.base, result.chain = base, chain
    as_of_views(con, known_at, FULL, existing_at=as_of)
    as_of_views(con, known_at, existing_at=as_of)  # every input the plan's key reads
    try:
        _run(con, result, policy, base, chain, as_of, model, known_at)
    except NeedsFullRun as reason:
        result.full_because = str(reason)
    except InputError:
        # A changed deal is bad input: the full run names the first problem, as it always does.
        result.full_because = "a changed deal is bad input"
    finally:
        _restore_views(con, known_at, as_of)
        if result.full_because:
            drop_results(con)
    return result


def _unsuitable(
    con: Engine,
    found: tuple[RunRecord, RunChain] | None,
    policy: Policy,
    as_of: datetime,
    model: str,
    known_at: datetime | None,
) -> str:
    if found is None:
        return "no full run known yet"
    base, chain = found
    if known_at is not None and runs_recorded_after(con, known_at):
        # The new run would sit on top of runs its knowledge instant does not know.
        return f"a run was recorded after run {base.run_id}, the newest known at the knowledge instant"
    if unread_imports_at(con, base.run_id, base.known_at):
        # Known at the base run's knowledge instant, yet not read by it (a pinned clock, at that
        # instant or before it): the changes found after that instant would leave it out.
        return (
            f"an import dated at or before run {base.run_id}'s knowledge instant was recorded after the run"
        )
    if unread_partial_runs(con, base.run_id, base.known_at):
        # A fix, a dispute, an auto-tag or an answer recorded at that instant after the run: its
        # override or declaration is no change after the instant, yet the run never read it.
        return f"a change was recorded at run {base.run_id}'s knowledge instant after the run"
    if base.as_of != as_of:
        return f"{_newest_complete(chain)} was evaluated at another as-of instant"
    if base.policy_version != policy.version:
        return f"{_newest_complete(chain)} was made under another policy"
    if base.model != model:
        return f"{_newest_complete(chain)} used another credit model"
    if not con.dialect.client_median:
        return "this engine computes cohort medians in SQL"
    if not has_evidence(con, chain.full):
        return f"the newest full run, run {chain.full}, stored no evidence"
    return ""


def _newest_complete(chain: RunChain) -> str:
    """The base run as ``cosell history`` lists it: a full run, or an incremental run on top of one
    (its chain's full run named too)."""
    if chain.newest == chain.full:
        return f"the newest full run, run {chain.full},"
    return f"the newest complete run, run {chain.newest} (incremental, on full run {chain.full}),"


def _run(
    con: Engine,
    result: Incremental,
    policy: Policy,
    base: RunRecord,
    chain: RunChain,
    as_of: datetime,
    model: str,
    known_at: datetime | None,
) -> None:
    from cosell.attribution.engine import _PYTHON_STEPS, compiled_plan

    with timed("incremental changed deals"):
        changes = changed_deals(
            con,
            base.known_at,
            known_at,
            f"{FULL}opportunities",
            _windows(con, chain, policy, as_of),
        )
    if changes.unsupported:
        raise NeedsFullRun(f"{' and '.join(changes.unsupported)} changed")
    with timed("incremental clean tables"):
        _clean_tables(con, chain)
    if count_of(con, f"SELECT count(*) FROM {CLEAN_BASE} WHERE band IS NULL"):
        raise NeedsFullRun("a baseline deal has no FX rate for its amount band")
    plan = compiled_plan(con, policy, model)
    context = RunContext(
        policy,
        model,
        Params.from_policy(policy, epoch_micros(as_of)),
        known_us=epoch_micros(known_at if known_at is not None else as_of),
    )
    # The first entries of the unchanged baseline deals, and of the candidates whose stored entry
    # is their creation.
    clean = (
        f"(SELECT opp_id AS opportunity_id FROM {CLEAN_BASE} "
        f"UNION SELECT opp_id FROM {CLEAN_CAND} WHERE first_t IS NULL)"
    )
    with timed("incremental clean entries"):
        if kept_stage_entries(con, chain):
            _kept_first_entries(con, chain, clean)
        else:  # a chain with a run from before the entries were kept
            _first_entries(con, clean)
    with timed("incremental fetch clean"):
        cohorts = CleanCohorts.fetch(con)
    # The changed deals, with every baseline deal in their cohorts.
    with timed("incremental narrow changed"):
        _narrow(con, DIRTY_DEALS, tuple(NARROWED), plan)
    # Its cohort step replaces the client's medians, so that branch runs whatever the size.
    replaced = replace(context, guards={"client_median": True})
    made = execute(con, plan, replaced, {**_PYTHON_STEPS, "cohort_medians": cohorts.step})
    drop(con, made)
    with timed("incremental moved"):
        result.retested = find_moved(con, cohorts.found, policy.min_cohort_size)
    with timed("incremental retest"):
        retest(
            con,
            chain.rows("attribution_history"),
            chain.held_rows(STORED["attribution_history"]),
            values(context.params),
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {REDECIDED} AS SELECT opportunity_id FROM {DIRTY_DEALS} "
            f"UNION SELECT opp_id FROM {MOVED}"
        )
    result.recomputed = count_of(con, f"SELECT count(*) FROM {ATTRIBUTION_TABLE}")
    with timed("incremental counts"):
        result.counts = _counts(con, chain)
    result.deals = sum(result.counts.values())


def _windows(con: Engine, chain: RunChain, policy: Policy, as_of: datetime) -> str:
    """The deals' windows as the base run read them (from its evidence: C, and X, or T for a deal
    open at T): opportunity_id, lo_us (C - lookback) and hi_us (the later of X and C). A deal whose
    own rows did not change has the same C and X now."""
    us = con.dialect.epoch_us
    created, closed = us.format("created_at"), us.format("closed_at")
    return (
        f"(SELECT opportunity_id, {created} - {policy.lookback_days * MICROS_PER_DAY} AS lo_us, "
        f"greatest(coalesce({closed}, {epoch_micros(as_of)}), {created}) AS hi_us "
        f"FROM ({chain.rows(EVIDENCE_TABLE)}))"
    )


def _clean_tables(con: Engine, chain: RunChain) -> None:
    """The unchanged deals' stored facts: direct-only won deals and tested candidates."""
    us = con.dialect.epoch_us
    clean = f"e.opportunity_id NOT IN (SELECT opportunity_id FROM {DIRTY_DEALS})"
    stored = f"({chain.rows(EVIDENCE_TABLE)})"
    segment = "coalesce(e.segment, '')"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {CLEAN_BASE} AS SELECT e.opportunity_id AS opp_id, {segment} AS segment, "
        f"CAST(e.band AS BIGINT) AS band, {us.format('e.closed_at')} AS x, {us.format('e.created_at')} AS c "
        f"FROM {stored} e WHERE {clean} AND e.direct_only AND e.status = 'won'"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {CLEAN_CAND} AS SELECT e.opportunity_id AS opp_id, {segment} AS segment, "
        f"CAST(e.band AS BIGINT) AS band, e.stage AS s, {us.format('e.closed_at')} AS x, "
        f"{us.format('e.created_at')} AS c, e.cohort, CAST(e.cohort_size AS BIGINT) AS cohort_size, "
        "CAST(e.baseline_us * 2 AS BIGINT) AS m2, "
        # Its stored entry is its first into s, unless its cohort was the whole cycle (then it is C).
        f"CASE WHEN coalesce(e.cohort, '') NOT LIKE 'cycle%' THEN {us.format('e.stage_entered_at')} END AS first_t "
        f"FROM {stored} e WHERE {clean} AND e.stage IS NOT NULL AND e.closed_at IS NOT NULL"
    )


def _kept_first_entries(con: Engine, chain: RunChain, deals: str) -> None:
    """:data:`FIRSTS` of the deals of ``deals`` (unchanged since the base run) as the chain kept
    them: every stage of a baseline deal, the stage s of a candidate (the only one its test
    reads), each from the run that last computed the deal
    (:func:`cosell.store.evidence_store.save_stage_entries`): what :func:`_first_entries` groups
    from their stage history, read instead of grouped."""
    entered = con.dialect.epoch_us.format("entered_at")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {FIRSTS} AS SELECT opportunity_id AS opp_id, stage, {entered} AS first_t "
        f"FROM ({chain.held_rows(STAGE_ENTRIES_TABLE)}) WHERE opportunity_id IN (SELECT opportunity_id FROM {deals})"
    )


def _first_entries(con: Engine, deals: str) -> None:
    """:data:`FIRSTS`: the first entry of each deal of ``deals`` (a relation of opportunity_id)
    into each of its stages, as the plan's stage timeline has them (``build_deals``): its
    earliest recorded entry into the stage, the first stage (the earliest entry, ties by stage)
    entered no later than the deal's creation C, and a deal without recorded entries in its
    current stage from C. A grouping of its rows instead of the timeline's numbered rows (the
    timeline is the plan's first costly step: a window over every entry). Every deal of ``deals``
    is one the new run decides (unchanged since the base run, which decided it)."""
    us = con.dialect.epoch_us
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {FIRSTS} AS
        WITH d AS (
            SELECT nullif(opportunity_id, '') AS opp_id, stage, {us.format("created_at")} AS c
            FROM {FULL}opportunities WHERE opportunity_id IN (SELECT opportunity_id FROM {deals})),
        e AS (
            SELECT nullif(opportunity_id, '') AS opp_id, stage, min({us.format("entered_at")}) AS t
            FROM {FULL}stage_history WHERE opportunity_id IN (SELECT opportunity_id FROM {deals})
            GROUP BY 1, 2),
        -- The first stages entered after C (a few): from C instead.
        late AS (
            SELECT f.opp_id, f.stage, d.c
            FROM (SELECT opp_id, arg_min(stage, (t, stage)) AS stage, min(t) AS t FROM e GROUP BY opp_id) f
            JOIN d ON d.opp_id = f.opp_id WHERE least(f.t, d.c) IS DISTINCT FROM f.t)
        SELECT e.opp_id, e.stage, coalesce(l.c, e.t) AS first_t
        FROM e LEFT JOIN late l ON l.opp_id = e.opp_id AND l.stage = e.stage
        UNION ALL
        SELECT opp_id, stage, c FROM d WHERE opp_id NOT IN (SELECT opp_id FROM e)"""
    )


def _narrow(con: Engine, deals: str, tables: tuple[str, ...], plan: Plan) -> None:
    """The plan's inputs ``tables`` as the rows of ``deals`` (a relation of opportunity_id) and
    their accounts: temp tables named as the plan's input views (same columns and types, so the
    same cached plan), read once each instead of filtering the whole tables at every step. A
    column the plan's SQL never names (a touch's notes) is left empty: copying it is most of the
    cost."""
    accounts = NARROWED_ACCOUNTS
    us = con.dialect.epoch_us
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {accounts} AS SELECT DISTINCT account_id FROM {FULL}opportunities "
        f"WHERE opportunity_id IN (SELECT opportunity_id FROM {deals})"
    )
    for table in tables:
        _drop_relation(con, f"v_{table}")
        where = NARROWED[table].format(
            deals=deals,
            accounts=accounts,
            full=FULL,
            created_us=us.format("o.created_at"),
            registered_us=us.format("r.registered_at"),
        )
        con.execute(
            f"CREATE TEMP TABLE v_{table} AS SELECT {_read_columns(con, f'{FULL}{table}', plan)} "
            f"FROM {FULL}{table} WHERE {where}"
        )


def _read_columns(con: Engine, relation: str, plan: Plan) -> str:
    """The columns of ``relation``, each NULL of its type when no statement of ``plan`` names it."""
    named = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", " ".join(op.sql for op in plan.ops)))
    columns = con.columns([relation])
    return ", ".join(f'"{c}"' if c in named else f'CAST(NULL AS {t}) AS "{c}"' for _, c, t in columns)


def _drop_relation(con: Engine, name: str) -> None:
    """Drop the view or table ``name`` (either may hold the name; dropping the wrong kind fails)."""
    rows = con.execute(
        f"SELECT table_type FROM information_schema.tables WHERE table_name = ? AND {con.dialect.own_relations}",
        [name],
    ).fetchall()
    for (kind,) in rows:
        con.execute(f"DROP {'VIEW' if str(kind).upper() == 'VIEW' else 'TABLE'} IF EXISTS {name}")


def _restore_views(con: Engine, known_at: datetime | None, as_of: datetime) -> None:
    for table in NARROWED:
        _drop_relation(con, f"v_{table}")
    as_of_views(con, known_at, existing_at=as_of)


def _counts(con: Engine, chain: RunChain) -> dict[str, int]:
    """The run's deals by tier: the new rows and the chain's rows of every other deal."""
    rows = con.execute(
        f"SELECT tier, count(*) FROM (SELECT tier FROM ({_NEW_TIERS}) "
        f"UNION ALL SELECT tier FROM ({chain.rows('attribution_history')}) "
        f"WHERE opportunity_id NOT IN (SELECT opportunity_id FROM {REDECIDED})) GROUP BY tier"
    ).fetchall()
    counts = {tier: 0 for tier in TIERS}
    for tier, n in rows:
        counts[str(tier)] = int(n)
    return counts


def drop_results(con: Engine) -> None:
    """Drop what an incremental run left on the connection (after storing it)."""
    made = [CLEAN_BASE, CLEAN_CAND, FIRSTS, MOVED, TESTS, STORED_ROWS, RETEST_ROWS]
    drop(con, [*made, REDECIDED, DIRTY_DEALS, NARROWED_ACCOUNTS, DIRTY_ACCOUNTS])


__all__ = ["Incremental", "attribute_incremental", "drop_results"]
