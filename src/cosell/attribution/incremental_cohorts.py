"""The incremental re-run's cohorts: every baseline the change moves, recomputed from the stored
facts of the deals that did not change and the new facts of those that did.

A deal's acceleration test reads the cohort of every comparable direct-only won deal, so a change
to one deal can move the baseline of candidates far from it (any candidate of its segment, band or
stage that closed within the baseline window after it). The engine's cohort step
(:mod:`cosell.attribution.engine_median`) computes each candidate's counts and medians from two
arrays, the baseline deals' rows and the candidates' keys; here those arrays are the union of

- the recomputed deals' rows, as the engine's plan fetched them for its own cohort step, and
- the unchanged deals' rows, read from the base run's stored evidence (segment, band, X and C of
  every direct-only won deal, the key of every tested candidate) and their stage entries (the
  plan's own stage timeline, run over those deals alone: :data:`FIRSTS`).

Every unchanged candidate is measured again; one whose cohort level, size or median moved is
re-tested (:func:`retest`): only its tier, its acceleration figures and its rule ids can change
(a candidate is partner-engaged, so it is accelerated or influenced, with the same credits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

import numpy as np
import pyarrow as pa

from cosell.attribution.engine_median import (
    CYCLE_KEYS,
    CYCLE_STATS,
    STAGE_KEYS,
    STAGE_STATS,
    window_stats,
)
from cosell.attribution.engine_plan import RunContext
from cosell.attribution.reference import acceleration_fires
from cosell.attribution.timeline import from_epoch_micros
from cosell.engine import Engine
from cosell.instants import format_days, format_instant
from cosell.policy import Policy
from cosell.results import format_rules, half_micros_text

# Temp tables of the unchanged deals (built by the caller from the base run's evidence):
CLEAN_BASE = "_cosell_incr_clean_base"  # opp_id, segment, band, x, c: direct-only won deals
CLEAN_CAND = "_cosell_incr_clean_cand"  # opp_id, segment, band, s, x, c, cohort, cohort_size, m2
FIRSTS = "_cosell_incr_firsts"  # opp_id, stage, first_t: each one's first entry into each stage

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
    candidates: pa.Table  # opp_id, segment, band, s, x (``median_cand``'s), and the stored cohort
    found: dict[str, pa.Table] = field(default_factory=dict)

    @classmethod
    def fetch(cls, con: Engine) -> CleanCohorts:
        stage = con.fetch_arrow(
            f"SELECT b.segment, b.band, f.stage AS s, b.x, b.x - f.first_t AS dur FROM {CLEAN_BASE} b "
            f"JOIN {FIRSTS} f ON f.opp_id = b.opp_id ORDER BY b.opp_id, f.stage"
        )
        cycle = con.fetch_arrow(f"SELECT segment, band, x, x - c AS dur FROM {CLEAN_BASE} ORDER BY opp_id")
        cand = con.fetch_arrow(
            f"SELECT opp_id, segment, band, s, x, cohort, cohort_size, m2 FROM {CLEAN_CAND} ORDER BY opp_id"
        )
        return cls(stage, cycle, cand)

    def step(self, context: RunContext) -> dict[str, pa.Table]:
        """The plan's ``cohort_medians`` step over every deal: the recomputed deals' rows and
        candidates (fetched by the plan) with the unchanged ones'. Returns the plan's candidates'
        statistics; keeps the unchanged candidates' in :attr:`found`."""
        fetched = context.fetched
        if fetched["median_cycle_base"]["band"].null_count:
            # A recomputed baseline deal without a rate: the full run says whether a cohort needs it.
            raise NeedsFullRun("a changed baseline deal has no FX rate for its amount band")
        window = context.params.baseline_us
        cand = _stack(fetched["median_cand"], self.candidates)
        stage_base = _stack(fetched["median_stage_base"], self.stage_base)
        cycle_base = _stack(fetched["median_cycle_base"], self.cycle_base)
        stage = window_stats("stage", stage_base, cand, STAGE_KEYS, window)
        cycle = window_stats("cycle", cycle_base, cand, CYCLE_KEYS, window)
        n = fetched["median_cand"].num_rows
        self.found = {"stage": stage.slice(n), "cycle": cycle.slice(n)}
        return {STAGE_STATS: stage.slice(0, n), CYCLE_STATS: cycle.slice(0, n)}


def _stack(recomputed: pa.Table, clean: pa.Table) -> pa.Table:
    """The recomputed rows, then the unchanged ones in the same columns and types."""
    clean = clean.select(recomputed.column_names).cast(recomputed.schema)
    return pa.concat_tables([recomputed, clean])


@dataclass(frozen=True)
class Cohort:
    """The cohort a candidate is measured against (None level: no baseline)."""

    level: str | None
    size: int | None
    median2: int | None


def moved(found: dict[str, pa.Table], stored: pa.Table, minimum: int) -> dict[str, Cohort]:
    """The unchanged candidates whose cohort is not the stored one (``stored``: opp_id, cohort,
    cohort_size, m2, in the order of ``found``), with their new cohort: per candidate the narrowest
    level with at least ``minimum`` deals, stage levels first (as the engine's acceleration step
    chooses)."""
    if not found or not stored.num_rows:
        return {}
    q = stored.num_rows
    counts = np.stack([_ints(found[k][f"{k}_n{lvl}"]) for k, lvl in LEVELS])
    halves = np.stack(
        [
            np.asarray(found[k][f"{k}_m{lvl}"].fill_null(0).combine_chunks().to_numpy(), dtype=np.float64)
            for k, lvl in LEVELS
        ]
    )
    enough = counts >= minimum
    has: np.ndarray = np.asarray(enough.any(axis=0))
    level = np.where(has, enough.argmax(axis=0), -1)
    rows = np.arange(q)
    size = np.where(has, counts[np.maximum(level, 0), rows], -1)
    # The step keeps half of an exact even integer below 2^54: doubling it is exact.
    twice = np.where(has, (halves[np.maximum(level, 0), rows] * 2).astype(np.int64), -1)
    names = [f"{k}:{lvl}" for k, lvl in LEVELS]
    codes = {name: i for i, name in enumerate(names)}
    old_level = np.array([codes.get(c, -1) if c else -1 for c in stored["cohort"].to_pylist()], np.int64)
    old_size = _ints(stored["cohort_size"].fill_null(-1))
    old_twice = _ints(stored["m2"].fill_null(-1))
    differ = np.nonzero((level != old_level) | (size != old_size) | (twice != old_twice))[0]
    ids = stored["opp_id"].to_pylist()
    return {
        ids[i]: Cohort(names[level[i]], int(size[i]), int(twice[i])) if has[i] else Cohort(None, None, None)
        for i in differ.tolist()
    }


def _ints(column: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(column.combine_chunks().to_numpy(zero_copy_only=False), dtype=np.int64)


@dataclass(frozen=True)
class StoredTest:
    """An unchanged candidate's stored test: its key, its stored cohort and what the re-test needs."""

    opportunity_id: str
    closed_at: int  # X
    created_at: int  # C
    stage_first: int  # the first entry into its stage s
    cohort: Cohort


def stored_tests(con: Engine, deals: str) -> dict[str, StoredTest]:
    """The stored tests of the unchanged candidates in ``deals`` (a relation of opportunity_id),
    with their first entry into s (from :data:`FIRSTS`)."""
    rows = con.execute(
        f"SELECT c.opp_id, c.x, c.c, f.first_t, c.cohort, c.cohort_size, c.m2 FROM {CLEAN_CAND} c "
        f"JOIN {FIRSTS} f ON f.opp_id = c.opp_id AND f.stage = c.s "
        f"WHERE c.opp_id IN (SELECT opportunity_id FROM ({deals})) ORDER BY c.opp_id"
    ).fetchall()
    return {
        str(r[0]): StoredTest(
            str(r[0]),
            int(r[1]),
            int(r[2]),
            int(r[3]),
            Cohort(r[4], None if r[5] is None else int(r[5]), None if r[6] is None else int(r[6])),
        )
        for r in rows
    }


# The columns a re-test writes: of the attribution row, and of the evidence row.
ROW_COLUMNS = (
    "tier",
    "baseline_days",
    "cycle_reduction_days",
    "rules",
    "remaining_days",
    "cohort",
    "cohort_size",
)
EVIDENCE_COLUMNS = (
    "computed_tier",
    "stage_entered_at",
    "remaining_us",
    "cohort",
    "cohort_size",
    "baseline_us",
)


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


def retest(tier: str, rules_text: str, test: StoredTest, cohort: Cohort, policy: Policy) -> tuple[
    tuple[str, ...], tuple[str, ...]
]:  # fmt: skip
    """An unchanged candidate tested again against its moved cohort (docs/rules.md, Acceleration),
    from its stored tier and rule ids: the new values of :data:`ROW_COLUMNS` and
    :data:`EVIDENCE_COLUMNS`, written as the engine and the reference write them."""
    whole = cohort.level is not None and cohort.level.startswith("cycle")
    entered = test.created_at if whole else test.stage_first
    remaining = test.closed_at - entered
    fired = cohort.median2 is not None and acceleration_fires(remaining, cohort.median2, policy)
    computed = "accelerated" if fired else "influenced"
    rules = _rules(rules_text, fired, cohort.level is None, whole)
    has = cohort.median2 is not None
    m2 = cohort.median2 or 0
    level = cohort.level or ""
    size = "" if cohort.size is None else str(cohort.size)
    row = (
        tier if "OVR" in rules.split() else computed,
        format_days(Decimal(m2) / 2) if has else "",
        format_days(Decimal(m2 - 2 * remaining) / 2) if has else "",
        rules,
        format_days(remaining) if has else "",
        level,
        size,
    )
    evidence = (
        computed,
        format_instant(from_epoch_micros(entered)),
        str(remaining),
        level,
        size,
        half_micros_text(m2) if has else "",
    )
    return row, evidence
