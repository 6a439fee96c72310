"""Evidence stored with each attribution version: what every decision rests on.

::

    attribution_evidence   per (run_id, opportunity_id): status, C, X, E and its touch, direct-only,
                           the tier-1 winner and the computed tier, segment and amount band, and
                           the acceleration test (stage s, S, remaining, cohort level, size, median)
    attribution_claims     per (run_id, opportunity_id, rule, partner_id, source): every sourcing
                           claim with its evidence time and the guard that blocked it
    attribution_stage_entries  per (run_id, opportunity_id, stage): the first entry of each
                           direct-only won deal into every stage it passed through (its rows in
                           the stage cohorts), and of each acceleration candidate into its stage s,
                           as the rules' stage timeline has them; kept by full and incremental
                           runs (``attribution_runs.stage_entries``) for the incremental re-run,
                           which reads the unchanged deals' entries from them (docs/incremental.md)

A full run stores a row for every deal; an incremental or partial run for the deals it decides
again (an incremental run's other deals keep their rows in an earlier run of its chain:
:mod:`cosell.store.chain`). Like the rest of
the attribution history they are append-only: nothing here updates or deletes a row. Readers take
a deal's evidence from the same version as its attribution row (:func:`cosell.store.versions.
attribution_views` exposes them as ``v_evidence`` and ``v_claims``), so reconciliation, the
metrics and a per-deal explain read the rules' own X, E, guards and baselines instead of deriving
them again (docs/evidence.md). Partner roles are stored with the credits (``credit_history``).

Types: instants TIMESTAMPTZ, durations exact microseconds (BIGINT, a median DECIMAL(20,1)), flags
BOOLEAN; never a float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from cosell.engine import Engine
from cosell.instants import format_instant
from cosell.results import ClaimRow, EvidenceRow
from cosell.store.chain import RunChain, chain_of
from cosell.store.retests import STORED
from cosell.store.staging import column_ddl, staged_rows, typed_text

EVIDENCE_TABLE = "attribution_evidence"
CLAIMS_TABLE = "attribution_claims"
STAGE_ENTRIES_TABLE = "attribution_stage_entries"

EVIDENCE_TYPES = {
    "created_at": "TIMESTAMPTZ",
    "closed_at": "TIMESTAMPTZ",
    "engagement_at": "TIMESTAMPTZ",
    "direct_only": "BOOLEAN",
    "band": "INTEGER",
    "stage_entered_at": "TIMESTAMPTZ",
    "remaining_us": "BIGINT",
    "cohort_size": "INTEGER",
    "baseline_us": "DECIMAL(20,1)",
}
CLAIM_TYPES = {"claimed_at": "TIMESTAMPTZ", "blocking_at": "TIMESTAMPTZ"}
_REQUIRED = {
    "opportunity_id",
    "status",
    "created_at",
    "direct_only",
    "computed_tier",
    "partner_id",
    "rule",
    "claimed_at",
    "source",
}


def migration_evidence(con: Engine) -> None:
    """Schema step: the evidence and claims of every attribution version."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {EVIDENCE_TABLE} (run_id BIGINT NOT NULL, "
        f"{column_ddl(EvidenceRow.columns(), EVIDENCE_TYPES, _REQUIRED)}, PRIMARY KEY (run_id, opportunity_id))"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {CLAIMS_TABLE} (run_id BIGINT NOT NULL, "
        f"{column_ddl(ClaimRow.columns(), CLAIM_TYPES, _REQUIRED)}, "
        "PRIMARY KEY (run_id, opportunity_id, rule, partner_id, source))"
    )


def migration_stage_entries(con: Engine) -> None:
    """Schema step: the first stage entries the cohorts read, kept with full and incremental runs,
    and which runs kept them (the runs before this step did not)."""
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {STAGE_ENTRIES_TABLE} (run_id BIGINT NOT NULL, "
        "opportunity_id VARCHAR NOT NULL, stage VARCHAR, entered_at TIMESTAMPTZ)"
    )
    con.execute("ALTER TABLE attribution_runs ADD COLUMN IF NOT EXISTS stage_entries BOOLEAN DEFAULT false")


def save_stage_entries(con: Engine, run_id: int, entries_sql: str) -> None:
    """Store a run's first stage entries from a relation of (opp_id, stage, first_t: epoch
    microseconds), inside the caller's transaction (the caller records the run with
    ``stage_entries`` true). No key: the rows are read by run, and an index would cost the full run
    more than its one reader gains."""
    entered = con.dialect.from_epoch_us.format("first_t")
    con.execute(
        f"INSERT INTO {STAGE_ENTRIES_TABLE} (run_id, opportunity_id, stage, entered_at) "
        f"SELECT {run_id}, opp_id, stage, {entered} FROM ({entries_sql})"
    )


def kept_stage_entries(con: Engine, chain: RunChain) -> bool:
    """Whether every run of ``chain`` kept its first stage entries (:func:`save_stage_entries`)."""
    runs = ", ".join(str(r) for r in chain.runs)
    row = con.execute(
        f"SELECT count(*) FROM attribution_runs WHERE run_id IN ({runs}) AND coalesce(stage_entries, false)"
    ).fetchone()
    return row is not None and int(row[0]) == len(chain.runs)


def save_evidence_relations(con: Engine, run_id: int, evidence_sql: str, claims_sql: str) -> None:
    """Store a run's evidence from two relations of formatted text (:class:`EvidenceRow` and
    :class:`ClaimRow` columns), inside the caller's transaction."""
    e_cols, c_cols = EvidenceRow.columns(), ClaimRow.columns()
    con.execute(
        f"INSERT INTO {STORED[EVIDENCE_TABLE]} (run_id, {', '.join(e_cols)}) "
        f"SELECT {run_id}, {typed_text(e_cols, EVIDENCE_TYPES)} FROM ({evidence_sql})"
    )
    con.execute(
        f"INSERT INTO {STORED[CLAIMS_TABLE]} (run_id, {', '.join(c_cols)}) "
        f"SELECT {run_id}, {typed_text(c_cols, CLAIM_TYPES)} FROM ({claims_sql})"
    )


def save_evidence_rows(
    con: Engine, run_id: int, evidence: Sequence[EvidenceRow], claims: Sequence[ClaimRow]
) -> None:
    """Store the evidence of the deals a partial run re-decided (no transaction of its own)."""
    for table, columns, types, rows in (
        (EVIDENCE_TABLE, EvidenceRow.columns(), EVIDENCE_TYPES, [r.values() for r in evidence]),
        (CLAIMS_TABLE, ClaimRow.columns(), CLAIM_TYPES, [r.values() for r in claims]),
    ):
        if not rows:
            continue
        with staged_rows(con, "_cosell_evidence_rows", columns, rows) as staged:
            con.execute(
                f"INSERT INTO {STORED[table]} (run_id, {', '.join(columns)}) "
                f"SELECT {run_id}, {typed_text(columns, types)} FROM {staged}"
            )


def _text(value: Any) -> str:
    """A stored value back as the text both implementations write."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return format_instant(value.astimezone(UTC))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value != value.to_integral_value() else str(int(value))
    return str(value)


def evidence_rows(
    con: Engine, run_id: int, opportunity_ids: Sequence[str] | None = None
) -> tuple[list[EvidenceRow], list[ClaimRow]]:
    """The stored evidence of a run (of every deal for an incremental run; only
    ``opportunity_ids`` when given), as formatted rows sorted by deal (claims by deal, rule,
    partner and source)."""
    e_cols, c_cols = EvidenceRow.columns(), ClaimRow.columns()
    chain = chain_of(con, run_id)
    where = "TRUE"
    params: list[Any] = []
    if opportunity_ids is not None:
        where = "list_contains(?, opportunity_id)"
        params.append(list(opportunity_ids))
    e = con.execute(
        f"SELECT {', '.join(e_cols)} FROM ({chain.rows(EVIDENCE_TABLE)}) WHERE {where} ORDER BY opportunity_id",
        params,
    ).fetchall()
    c = con.execute(
        f"SELECT {', '.join(c_cols)} FROM ({chain.rows(CLAIMS_TABLE)}) WHERE {where} "
        "ORDER BY opportunity_id, rule, partner_id, source",
        params,
    ).fetchall()
    return (
        [EvidenceRow(*(_text(v) for v in r)) for r in e],
        [ClaimRow(*(_text(v) for v in r)) for r in c],
    )


@dataclass(frozen=True)
class StoredBaseline:
    """The acceleration test of one deal as a stored complete run made it: the candidate's key (X,
    segment, band, stage) and the cohort it was measured against (None: tested without a baseline)."""

    chain: RunChain
    closed_at: datetime
    segment: str
    band: int | None
    stage: str
    cohort: str | None
    cohort_size: int | None
    median2: int | None  # twice the median, exact integer microseconds

    def member_ids(self, con: Engine, window_days: int, opportunity_id: str) -> list[str]:
        """The baseline deals of this cohort, read from the chain's stored evidence: direct-only deals
        won in ``[X - window_days, X]`` at the cohort's level and, for a stage cohort, that passed
        through the stage (a recorded entry into it, or no recorded entry and the stage as the
        current one: ``v_stage_history`` and ``v_opportunities`` hold the rows the run read)."""
        if self.cohort is None:
            return []
        kind, _, level = self.cohort.partition(":")
        conditions = [
            "e.direct_only",
            "e.status = 'won'",
            "e.closed_at >= ?",
            "e.closed_at <= ?",
            "e.opportunity_id <> ?",
        ]
        start = self.closed_at - timedelta(days=window_days)
        params: list[Any] = [start, self.closed_at, opportunity_id]
        if level in ("1", "2"):
            conditions.append("coalesce(e.segment, '') = ?")
            params.append(self.segment)
        if level == "1":
            conditions.append("e.band = ?")
            params.append(self.band)
        sql = f"SELECT e.opportunity_id FROM ({self.chain.rows(EVIDENCE_TABLE)}) e WHERE {' AND '.join(conditions)}"
        if kind == "stage":
            sql = f"""
                WITH e AS ({sql}),
                h AS (SELECT DISTINCT opportunity_id, stage FROM v_stage_history
                      WHERE opportunity_id IN (SELECT opportunity_id FROM e))
                SELECT e.opportunity_id FROM e
                WHERE EXISTS (SELECT 1 FROM h WHERE h.opportunity_id = e.opportunity_id AND h.stage = ?)
                   OR (NOT EXISTS (SELECT 1 FROM h WHERE h.opportunity_id = e.opportunity_id)
                       AND EXISTS (SELECT 1 FROM v_opportunities o
                                   WHERE o.opportunity_id = e.opportunity_id AND o.stage = ?))"""
            params += [self.stage, self.stage]
        rows = con.execute(f"SELECT opportunity_id FROM ({sql}) ORDER BY 1", params).fetchall()
        return [str(r[0]) for r in rows]


def stored_baselines(
    con: Engine, chain: RunChain, opportunity_ids: Sequence[str]
) -> dict[str, StoredBaseline]:
    """The stored acceleration tests of the deals (those the complete run tested), by deal."""
    rows = con.execute(
        f"SELECT opportunity_id, closed_at, segment, band, stage, cohort, cohort_size, baseline_us "
        f"FROM ({chain.rows(EVIDENCE_TABLE)}) WHERE list_contains(?, opportunity_id) "
        "AND stage IS NOT NULL AND closed_at IS NOT NULL",
        [list(opportunity_ids)],
    ).fetchall()
    out = {}
    for opp, closed, segment, band, stage, cohort, size, baseline in rows:
        out[str(opp)] = StoredBaseline(
            chain,
            closed.astimezone(UTC),
            segment or "",
            None if band is None else int(band),
            str(stage),
            cohort,
            None if size is None else int(size),
            None if baseline is None else int(Decimal(baseline) * 2),
        )
    return out


def has_evidence(con: Engine, run_id: int) -> bool:
    """Whether a run stored its evidence (runs made before evidence was kept did not)."""
    row = con.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {EVIDENCE_TABLE} WHERE run_id = ? LIMIT 1)", [run_id]
    ).fetchone()
    return bool(row and row[0])
