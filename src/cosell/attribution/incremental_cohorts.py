"""The incremental re-run's cohorts: every baseline the change moves, recomputed from the stored
facts of the deals that did not change and the new facts of those that did.

A deal's acceleration test reads the cohort of every comparable direct-only won deal, so a change
to one deal can move the baseline of candidates far from it (any candidate of its segment, band or
stage that closed within the baseline window after it). The engine's cohort step
(:mod:`cosell.attribution.engine_median`) computes each candidate's counts and medians from two
arrays, the baseline deals' rows and the candidates' keys; here those arrays are the union of

- the recomputed deals' rows, as the engine's plan fetched them for its own cohort step, and
- the unchanged deals' rows, read from the base run's stored evidence (segment, band, X and C of
  every direct-only won deal, the key of every tested candidate) and their first entries into
  each stage, as the plan's stage timeline has them (:data:`FIRSTS`, from those deals' stage
  history alone).

Every unchanged candidate is measured again; one whose cohort level, size or median moved is
re-tested (:func:`retest`): only its tier, its acceleration figures and its rule ids can change
(a candidate is partner-engaged, so it is accelerated or influenced, with the same credits).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from cosell.attribution.engine_plan import RunContext
from cosell.engine import Engine
from cosell.engine.sql import days_text, half_micros_text, instant_text
from cosell.results import format_rules
from cosell.store.retests import RETESTED
from cosell.store.staging import staged_rows

if TYPE_CHECKING:
    import pyarrow as pa

# numpy and Arrow (engine_median's) are imported where the cohort step first needs them, not with
# this module: the incremental run imports them beside its first statements (cosell.imports).

# Temp tables of the unchanged deals (built by the caller from the base run's evidence):
CLEAN_BASE = "_cosell_incr_clean_base"  # opp_id, segment, band, x, c: direct-only won deals
CLEAN_CAND = "_cosell_incr_clean_cand"  # opp_id, segment, band, s, x, c, cohort, cohort_size, m2, first_t
# opp_id, stage, first_t: each one's first entry into each stage (of the baseline deals, and of the
# candidates whose stored first_t is NULL: their stored entry was their creation, C)
FIRSTS = "_cosell_incr_firsts"

# The rule ids an acceleration re-test decides; every other id of the row stays.
RETESTED_RULES = frozenset({"ACC", "INF", "NO_BASELINE", "NOT_FASTER", "WHOLE_CYCLE"})
LEVELS = [("stage", level) for level in ("1", "2", "3")] + [("cycle", level) for level in ("1", "2", "3")]


class NeedsFullRun(Exception):
    """Something the incremental path cannot follow: run everything again (the reason is the text)."""


@dataclass
class CleanCohorts:
    """The unchanged deals' cohort rows, fetched once, and what the cohort step found for them."""

    stage_base: pa.Table
    cycle_base: pa.Table
    candidates: pa.Table  # opp_id, segment, band, s, x (``median_cand``'s)
    found: dict[str, pa.Table] = field(default_factory=dict)

    @classmethod
    def fetch(cls, con: Engine) -> CleanCohorts:
        # In no particular order: the counts and medians of a window do not depend on it.
        stage = con.fetch_arrow(
            f"SELECT b.segment, b.band, f.stage AS s, b.x, b.x - f.first_t AS dur FROM {CLEAN_BASE} b "
            f"JOIN {FIRSTS} f ON f.opp_id = b.opp_id"
        )
        cycle = con.fetch_arrow(f"SELECT segment, band, x, x - c AS dur FROM {CLEAN_BASE}")
        cand = con.fetch_arrow(f"SELECT opp_id, segment, band, s, x FROM {CLEAN_CAND}")
        return cls(stage, cycle, cand)

    def step(self, context: RunContext) -> dict[str, pa.Table]:
        """The plan's ``cohort_medians`` step over every deal: the recomputed deals' rows and
        candidates (fetched by the plan) with the unchanged ones'. Returns the plan's candidates'
        statistics; keeps the unchanged candidates' in :attr:`found`."""
        from cosell.attribution.engine_median import CYCLE_STATS, STAGE_STATS, cohort_stats

        fetched = context.fetched
        if fetched["median_cycle_base"]["band"].null_count:
            # A recomputed baseline deal without a rate: the full run says whether a cohort needs it.
            raise NeedsFullRun("a changed baseline deal has no FX rate for its amount band")
        cand = _stack(fetched["median_cand"], self.candidates)
        stage_base = _stack(fetched["median_stage_base"], self.stage_base)
        cycle_base = _stack(fetched["median_cycle_base"], self.cycle_base)
        # The ranks and the key codes in two threads: the step is the longest branch of the plan
        # (its acceleration step waits for it), and the plan's SQL beside it is short, so a core
        # would be idle.
        with ThreadPoolExecutor(2, thread_name_prefix="cosell-cohort") as pool:
            stage, cycle = cohort_stats(
                stage_base, cycle_base, cand, context.params.baseline_us, context.params.min_cohort_size, pool
            )
        n = fetched["median_cand"].num_rows
        self.found = {"stage": stage.slice(n), "cycle": cycle.slice(n)}
        return {STAGE_STATS: stage.slice(0, n), CYCLE_STATS: cycle.slice(0, n)}


def _stack(recomputed: pa.Table, clean: pa.Table) -> pa.Table:
    """The recomputed rows, then the unchanged ones in the same columns and types."""
    import pyarrow as pa

    clean = clean.select(recomputed.column_names).cast(recomputed.schema)
    return pa.concat_tables([recomputed, clean])


# The re-tested candidates (:func:`find_moved`): opp_id, the new cohort, cohort_size and m2 (NULL:
# no baseline), and what the test reads, x, c and first_t (the first entry into the stored stage s).
MOVED = "_cosell_incr_moved"
# Their re-tests (:func:`retest`): the tier and the acceleration figures, as integers and flags;
# their stored attribution rows; and what the store keeps of each re-test, as text.
TESTS = "_cosell_incr_tests"
STORED_ROWS = "_cosell_incr_stored_rows"
RETEST_ROWS = "_cosell_incr_retests"
_FOUND = "_cosell_incr_found_"


def find_moved(con: Engine, found: dict[str, pa.Table], minimum: int) -> int:
    """Keep as :data:`MOVED` the unchanged candidates whose cohort is not the stored one (``found``:
    the cohort step's statistics of every candidate of :data:`CLEAN_CAND`), with their new cohort:
    the narrowest level with at least ``minimum`` deals, stage levels first (as the engine's
    acceleration step chooses). Returns how many there are."""

    def chosen(value: str) -> str:
        cases = " ".join(
            f"WHEN {k}_n{lvl} >= {int(minimum)} THEN {value.format(k=k, lvl=lvl)}" for k, lvl in LEVELS
        )
        return f"CASE {cases} END"

    if not found:  # the cohort step did not run: nothing was measured again
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {MOVED} AS SELECT opp_id, CAST(NULL AS VARCHAR) AS cohort, "
            "CAST(NULL AS BIGINT) AS cohort_size, CAST(NULL AS BIGINT) AS m2, x, c, "
            f"CAST(NULL AS BIGINT) AS first_t FROM {CLEAN_CAND} WHERE false"
        )
        return 0
    for kind in ("stage", "cycle"):
        con.register(_FOUND + kind, found[kind])
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE {MOVED} AS
            WITH now AS (
                SELECT s.opp_id, {chosen("'{k}:{lvl}'")} AS cohort, {chosen("{k}_n{lvl}")} AS cohort_size,
                       CAST({chosen("{k}_m{lvl}")} * 2 AS BIGINT) AS m2
                FROM {_FOUND}stage s JOIN {_FOUND}cycle c ON c.opp_id = s.opp_id)
            SELECT now.*, k.x, k.c, coalesce(k.first_t, f.first_t) AS first_t
            FROM now JOIN {CLEAN_CAND} k ON k.opp_id = now.opp_id
            LEFT JOIN {FIRSTS} f ON f.opp_id = k.opp_id AND f.stage = k.s
            WHERE now.cohort IS DISTINCT FROM nullif(k.cohort, '') OR now.cohort_size IS DISTINCT FROM k.cohort_size
               OR now.m2 IS DISTINCT FROM k.m2"""
        )
    finally:
        for kind in ("stage", "cycle"):
            con.unregister(_FOUND + kind)
    row = con.execute(f"SELECT count(*), count(first_t) FROM {MOVED}").fetchone()
    assert row is not None
    if row[0] != row[1]:  # every tested deal entered its own stage s
        raise NeedsFullRun("a re-tested deal has no entry into its stored stage")
    return int(row[0])


# The rule ids of each distinct stored set and outcome (:func:`retest`), as staged text.
RULE_COLUMNS = ("old", "fired", "no_baseline", "whole", "rules", "overridden")


@lru_cache(maxsize=4096)
def _rules(stored: str, fired: bool, no_baseline: bool, whole: bool) -> str:
    """The rule ids of a re-tested row (a few distinct combinations: cached)."""
    rules = set(stored.split()) - RETESTED_RULES
    rules.add("ACC" if fired else "INF")
    if no_baseline:
        rules.add("NO_BASELINE")
    elif not fired:
        rules.add("NOT_FASTER")
    if whole:
        rules.add("WHOLE_CYCLE")
    return format_rules(rules)


def retest(con: Engine, stored_rows: str, whole_rows: str, params: dict[str, Any]) -> None:
    """The :data:`MOVED` candidates tested again against their moved cohort (docs/rules.md,
    Acceleration), set at a time, kept as :data:`RETEST_ROWS` for the store
    (:mod:`cosell.store.retests`): each deal, ``from_run`` (the run of ``whole_rows``, the chain's
    newest whole rows of the deal) and :data:`~cosell.store.retests.RETESTED` written again as the
    engine writes them, as text. Only the tier, the acceleration figures and the rule ids can move
    (a candidate is partner-engaged: accelerated or influenced, with the same credits; an override
    keeps its tier), from the deal's current rule ids and tier (``stored_rows``: the complete
    run's attribution rows). ``params`` are the plan's values
    (:func:`cosell.attribution.engine_params.values`)."""
    keep_n, keep_d = int(params["keep_numerator"]), int(params["keep_denominator"])
    twice_min = int(params["twice_min_days_us"])
    # A deal is accelerated when its remaining time is at most the kept share of the baseline and
    # short of it by the minimum days (reference.acceleration_fires), in exact integers.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {TESTS} AS
        SELECT opp_id, cohort, cohort_size, m2, entered, x - entered AS remaining, whole, no_baseline,
               coalesce(CAST(2 * (x - entered) AS HUGEINT) * {keep_d} <= CAST(m2 AS HUGEINT) * {keep_n}
                        AND m2 - 2 * (x - entered) >= {twice_min}, false) AS fired
        FROM (SELECT *, CASE WHEN whole THEN c ELSE first_t END AS entered
              FROM (SELECT *, coalesce(starts_with(cohort, 'cycle'), false) AS whole,
                           cohort IS NULL AS no_baseline FROM {MOVED}))"""
    )
    moved = f"opportunity_id IN (SELECT opp_id FROM {MOVED})"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {STORED_ROWS} AS SELECT a.opportunity_id, a.tier, a.rules, w.run_id AS from_run "
        f"FROM (SELECT opportunity_id, tier, rules FROM ({stored_rows}) WHERE {moved}) a "
        f"JOIN (SELECT opportunity_id, run_id FROM ({whole_rows}) WHERE {moved}) w ON w.opportunity_id = a.opportunity_id"
    )
    # The rule ids: each distinct stored set with each outcome, written by the rules' own order.
    pairs = con.execute(
        f"SELECT DISTINCT coalesce(CAST(a.rules AS VARCHAR), ''), t.fired, t.no_baseline, t.whole "
        f"FROM {STORED_ROWS} a JOIN {TESTS} t ON t.opp_id = a.opportunity_id"
    ).fetchall()
    mapped = [(str(old), bool(f), bool(nb), bool(w)) for old, f, nb, w in pairs]
    new = [_rules(*m) for m in mapped]
    flag = {True: "true", False: "false"}
    rules = [
        (old, flag[fired], flag[no_baseline], flag[whole], ids, flag["OVR" in ids.split()])
        for (old, fired, no_baseline, whole), ids in zip(mapped, new, strict=True)
    ]
    computed = "CASE WHEN t.fired THEN 'accelerated' ELSE 'influenced' END"
    has = "t.m2 IS NOT NULL"
    written = {
        "tier": f"CASE WHEN r.overridden THEN CAST(a.tier AS VARCHAR) ELSE {computed} END",
        "baseline_days": f"CASE WHEN {has} THEN {days_text('t.m2', 2)} ELSE '' END",
        "cycle_reduction_days": f"CASE WHEN {has} THEN {days_text('t.m2 - 2 * t.remaining', 2)} ELSE '' END",
        "rules": "r.rules",
        "remaining_days": f"CASE WHEN {has} THEN {days_text('t.remaining', 1)} ELSE '' END",
        "cohort": "coalesce(t.cohort, '')",
        "cohort_size": "coalesce(CAST(t.cohort_size AS VARCHAR), '')",
        "computed_tier": computed,
        "stage_entered_at": instant_text(con.dialect.from_epoch_us.format("t.entered"), "t.entered"),
        "remaining_us": "CAST(t.remaining AS VARCHAR)",
        "baseline_us": f"CASE WHEN {has} THEN {half_micros_text('t.m2')} ELSE '' END",
    }
    columns = ", ".join(f"{written[c]} AS {c}" for c in RETESTED)
    # Staged as text (Arrow's arrays from Python lists would import pandas), typed as read.
    with staged_rows(con, "_cosell_incr_rules", RULE_COLUMNS, rules) as staged:
        typed = (
            "SELECT old, CAST(fired AS BOOLEAN) AS fired, CAST(no_baseline AS BOOLEAN) AS no_baseline, "
            f"CAST(whole AS BOOLEAN) AS whole, rules, CAST(overridden AS BOOLEAN) AS overridden FROM {staged}"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {RETEST_ROWS} AS "
            f"SELECT a.opportunity_id, a.from_run, {columns} FROM {STORED_ROWS} a "
            f"JOIN {TESTS} t ON t.opp_id = a.opportunity_id "
            f"JOIN ({typed}) r ON r.old = coalesce(CAST(a.rules AS VARCHAR), '') "
            "AND r.fired = t.fired AND r.no_baseline = t.no_baseline AND r.whole = t.whole"
        )
    counts = con.execute(
        f"SELECT (SELECT count(*) FROM {MOVED}), (SELECT count(*) FROM {RETEST_ROWS})"
    ).fetchone()
    if counts is None or len(set(counts)) != 1:
        raise NeedsFullRun("the base run's rows of a re-tested deal are missing")
