"""Attribution versions: every change to a deal's attribution is a stored run, full or partial.

A *full* run (``cosell attribute``) stores a version of every deal. A *partial* run stores new
versions of a few deals only: an accepted reconciliation fix, a decided dispute, an auto-tag, an
answered prompt. Every run records its kind, who, when (``run_at``), why and the policy version.

A deal's version *as known at T* is its row in the newest run made at or before T, looking only at
the newest full run made at or before T and the partial runs after it (a full run re-decides every
deal, so it supersedes every earlier partial one). :func:`attribution_views` exposes exactly that as
the temp views ``v_attribution`` and ``v_credits``, which every reader of attribution (reconcile,
metrics, reports, pay) uses, so the same ``--as-of`` reads the same versions after later changes.

Nothing here updates or deletes a row: history is append-only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from cosell import clock
from cosell.attribution.result import AttributionRow, CreditRow
from cosell.errors import UsageError
from cosell.instants import format_instant
from cosell.store.attribution_store import (
    ATTRIBUTION_TYPES,
    CREDIT_TYPES,
    RunRecord,
    _credit_row,
    _record,
    _text,
    _typed_select,
)

# Kinds of attribution change (attribution_runs.kind).
RUN_KINDS = ("batch", "fix", "dispute", "auto_tag", "prompt", "override")
FULL, PARTIAL = "full", "partial"

_RUN_COLUMNS = "run_id, run_at, as_of, policy_version, model, by_user, reason, counts"


def migration_versions(con: duckdb.DuckDBPyConnection) -> None:
    """Schema step: run kind and scope, and latest-version views that honour partial runs."""
    con.execute("ALTER TABLE attribution_runs ADD COLUMN IF NOT EXISTS kind VARCHAR DEFAULT 'batch'")
    con.execute("ALTER TABLE attribution_runs ADD COLUMN IF NOT EXISTS scope VARCHAR DEFAULT 'full'")
    con.execute(f"CREATE OR REPLACE VIEW attribution_latest AS {_versions_sql('attribution_history', None)}")
    con.execute(f"CREATE OR REPLACE VIEW credits_latest AS {_versions_sql('credit_history', None)}")


def _known_runs(as_of: datetime | None) -> str:
    if as_of is None:
        return "SELECT run_id, scope FROM attribution_runs"
    return f"SELECT run_id, scope FROM attribution_runs WHERE run_at <= TIMESTAMPTZ '{format_instant(as_of)}'"


def _versions_sql(history: str, as_of: datetime | None) -> str:
    """Rows of ``history`` (attribution_history or credit_history) in each deal's current version."""
    return f"""
        WITH known AS ({_known_runs(as_of)}),
        base AS (SELECT coalesce(max(run_id), 0) AS full_id FROM known WHERE scope = '{FULL}'),
        pick AS (
            SELECT h.opportunity_id, max(h.run_id) AS run_id
            FROM attribution_history h JOIN known k ON h.run_id = k.run_id
            WHERE h.run_id >= (SELECT full_id FROM base)
            GROUP BY h.opportunity_id)
        SELECT x.* FROM {history} x JOIN pick p ON x.opportunity_id = p.opportunity_id AND x.run_id = p.run_id
    """


def attribution_views(con: duckdb.DuckDBPyConnection, as_of: datetime | None = None) -> None:
    """Create temp views ``v_attribution`` and ``v_credits``: each deal's version known at ``as_of``.

    Columns: ``run_id`` then the stored (typed) columns of :class:`AttributionRow` / :class:`CreditRow`.
    ``as_of=None`` means every version recorded so far.
    """
    con.execute(f"CREATE OR REPLACE TEMP VIEW v_attribution AS {_versions_sql('attribution_history', as_of)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW v_credits AS {_versions_sql('credit_history', as_of)}")


def latest_run_id(con: duckdb.DuckDBPyConnection, as_of: datetime | None = None) -> int | None:
    """The newest run (full or partial) recorded at or before ``as_of``; None when there is none."""
    row = con.execute(f"SELECT max(run_id) FROM ({_known_runs(as_of)})").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def save_partial_run(
    con: duckdb.DuckDBPyConnection,
    rows: Sequence[AttributionRow],
    credits: Sequence[CreditRow],
    *,
    kind: str,
    by_user: str,
    reason: str,
    policy_version: str,
    model: str,
    as_of: datetime,
    run_at: datetime | None = None,
) -> RunRecord:
    """Store new versions of the deals in ``rows`` (and their credits) as one partial run.

    Opens no transaction of its own, so that a caller can make several changes all or nothing
    (``with workspace.transaction(): ...``). ``run_at`` defaults to :func:`cosell.clock.now`.
    """
    if kind not in RUN_KINDS:
        raise UsageError(f"kind must be one of {', '.join(RUN_KINDS)}, not {kind!r}")
    if not reason.strip():
        raise UsageError("an attribution change records why: give a reason")
    if not rows:
        raise UsageError("a partial run needs at least one deal")
    when = clock.now(run_at)
    row = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM attribution_runs").fetchone()
    assert row is not None
    run_id = int(row[0])
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.tier] = counts.get(r.tier, 0) + 1
    con.execute(
        f"INSERT INTO attribution_runs ({_RUN_COLUMNS}, kind, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            when,
            as_of,
            policy_version,
            model,
            by_user,
            reason,
            json.dumps(counts, sort_keys=True),
            kind,
            PARTIAL,
        ],
    )
    _insert(
        con,
        "attribution_history",
        run_id,
        AttributionRow.columns(),
        ATTRIBUTION_TYPES,
        [r.values() for r in rows],
    )
    if credits:
        _insert(
            con, "credit_history", run_id, CreditRow.columns(), CREDIT_TYPES, [c.values() for c in credits]
        )
    return RunRecord(run_id, when, as_of, policy_version, model, by_user, reason, counts)


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    run_id: int,
    columns: tuple[str, ...],
    types: dict[str, str],
    values: list[tuple[str, ...]],
) -> None:
    """Insert formatted rows in one statement (a row-at-a-time insert costs seconds per thousand)."""
    staged = pa.table({c: pa.array([v[i] for v in values], pa.string()) for i, c in enumerate(columns)})
    con.register("_cosell_partial_rows", staged)
    try:
        con.execute(
            f"INSERT INTO {table} (run_id, {', '.join(columns)}) "
            f"SELECT {run_id}, {_typed_select(columns, types)} FROM _cosell_partial_rows"
        )
    finally:
        con.unregister("_cosell_partial_rows")


@dataclass(frozen=True)
class DealVersion:
    """One stored version of one deal: the run that made it, its row and its credits."""

    run: RunRecord
    kind: str
    scope: str
    row: AttributionRow
    credits: tuple[CreditRow, ...]


def deal_history(con: duckdb.DuckDBPyConnection, opportunity_id: str) -> list[DealVersion]:
    """Every stored version of one deal, oldest first (empty when it was never attributed)."""
    a_cols = ", ".join(f"h.{c}" for c in AttributionRow.columns())
    runs = con.execute(
        f"SELECT {', '.join('r.' + c.strip() for c in _RUN_COLUMNS.split(','))}, r.kind, r.scope, {a_cols} "
        "FROM attribution_history h JOIN attribution_runs r ON r.run_id = h.run_id "
        "WHERE h.opportunity_id = ? ORDER BY r.run_id",
        [opportunity_id],
    ).fetchall()
    c_cols = ", ".join(CreditRow.columns())
    out: list[DealVersion] = []
    n = len(_RUN_COLUMNS.split(","))
    for r in runs:
        record = _record(r[:n])
        credits = con.execute(
            f"SELECT {c_cols} FROM credit_history WHERE run_id = ? AND opportunity_id = ? ORDER BY partner_id",
            [record.run_id, opportunity_id],
        ).fetchall()
        row = AttributionRow(
            *(_text(c, v) for c, v in zip(AttributionRow.columns(), r[n + 2 :], strict=True))
        )
        out.append(DealVersion(record, r[n], r[n + 1], row, tuple(_credit_row(c) for c in credits)))
    return out
