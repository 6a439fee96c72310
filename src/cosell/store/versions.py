"""Attribution versions: every change to a deal's attribution is a stored run, full or partial.

A *full* run (``cosell attribute``) stores a version of every deal. A *partial* run stores new
versions of a few deals only: an accepted reconciliation fix, a decided dispute, an auto-tag, an
answered prompt. Every run records its kind, who, when (``run_at``), why and the policy version.

Every run records three instants: when it was recorded (``run_at``), the instant its deals were
evaluated at (``as_of``, T) and the data it read (``known_at``, K; :mod:`cosell.asof`).

A deal's version *known at K* is its row in the newest run recorded at or before K, looking only at
the *base* run, the newest full run recorded at or before K, and the incremental and partial runs
recorded after it (a full run re-decides every deal, so it supersedes every earlier partial one;
an incremental run stores only the deals it decided again: :mod:`cosell.store.chain`). A reader that asks
for the attribution evaluated as of T (``--as-of T``) takes as base the newest full run known at K
whose as-of is T instead, with the incremental runs on top of it and the partial runs after it
(the fixes, disputes, auto-tags and answered prompts recorded since); when there is none, :func:`require_attribution` refuses with what
is known. :func:`attribution_views` exposes exactly that as the temp views ``v_attribution`` and
``v_credits``, which every reader of attribution (reconcile, metrics, reports, pay) uses, so the
same ``--known-at`` reads the same versions after later changes.

Nothing here updates or deletes a row: history is append-only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cosell import clock
from cosell.engine import Engine
from cosell.engine.sql import ts
from cosell.errors import NotFound, UsageError
from cosell.instants import format_instant
from cosell.results import AttributionRow, ClaimRow, CreditRow, EvidenceRow
from cosell.store.attribution_store import (
    ATTRIBUTION_TYPES,
    CREDIT_TYPES,
    RUN_COLUMNS,
    RunRecord,
    _credit_row,
    _record,
    _text,
)
from cosell.store.chain import FULL, INCREMENTAL, PARTIAL, RunChain, chain_of
from cosell.store.evidence_store import CLAIMS_TABLE, EVIDENCE_TABLE, save_evidence_rows
from cosell.store.staging import staged_rows, typed_text

# Kinds of attribution change (attribution_runs.kind).
RUN_KINDS = ("batch", "fix", "dispute", "auto_tag", "prompt", "override")


def migration_versions(con: Engine) -> None:
    """Schema step: run kind and scope, and latest-version views that honour partial runs."""
    con.execute("ALTER TABLE attribution_runs ADD COLUMN IF NOT EXISTS kind VARCHAR DEFAULT 'batch'")
    con.execute("ALTER TABLE attribution_runs ADD COLUMN IF NOT EXISTS scope VARCHAR DEFAULT 'full'")
    con.execute(f"CREATE OR REPLACE VIEW attribution_latest AS {_versions_sql('attribution_history', None)}")
    con.execute(f"CREATE OR REPLACE VIEW credits_latest AS {_versions_sql('credit_history', None)}")


def _known_runs(known_at: datetime | None) -> str:
    if known_at is None:
        return "SELECT run_id, scope, as_of FROM attribution_runs"
    return f"SELECT run_id, scope, as_of FROM attribution_runs WHERE run_at <= {ts(known_at)}"


def _base_sql(known_at: datetime | None, evaluated_at: datetime | None) -> str:
    """The id of the base full run: the newest known at ``known_at`` (as of ``evaluated_at`` when
    given; NULL when there is none, so that nothing is read)."""
    if evaluated_at is None:
        return f"SELECT coalesce(max(run_id), 0) FROM ({_known_runs(known_at)}) WHERE scope = '{FULL}'"
    return (
        f"SELECT max(run_id) FROM ({_known_runs(known_at)}) "
        f"WHERE scope = '{FULL}' AND as_of = {ts(evaluated_at)}"
    )


def _after_base(base: str, evaluated_at: datetime) -> str:
    """The runs a reading as of ``evaluated_at`` takes versions from, given its ``base`` full run:
    the base, the partial runs after it and the incremental runs on top of it (those after it
    evaluated as of the same instant: an incremental run always extends the newest complete run)."""
    return (
        f"run_id = {base} OR (run_id > {base} AND (scope = '{PARTIAL}' "
        f"OR (scope = '{INCREMENTAL}' AND as_of = {ts(evaluated_at)})))"
    )


def _versions_sql(history: str, known_at: datetime | None, evaluated_at: datetime | None = None) -> str:
    """Rows of ``history`` (attribution_history or credit_history) in each deal's version known at
    ``known_at``: the base full run (see :func:`_base_sql`) and the partial runs after it."""
    if evaluated_at is None:
        return f"""
        WITH known AS ({_known_runs(known_at)}),
        base AS (SELECT coalesce(max(run_id), 0) AS full_id FROM known WHERE scope = '{FULL}'),
        pick AS (
            SELECT h.opportunity_id, max(h.run_id) AS run_id
            FROM attribution_history h JOIN known k ON h.run_id = k.run_id
            WHERE h.run_id >= (SELECT full_id FROM base)
            GROUP BY h.opportunity_id)
        SELECT x.* FROM {history} x JOIN pick p ON x.opportunity_id = p.opportunity_id AND x.run_id = p.run_id
    """
    return f"""
        WITH known AS ({_known_runs(known_at)}),
        base AS ({_base_sql(known_at, evaluated_at)}),
        read AS (SELECT run_id FROM known WHERE {_after_base("(SELECT * FROM base)", evaluated_at)}),
        pick AS (
            SELECT h.opportunity_id, max(h.run_id) AS run_id
            FROM attribution_history h JOIN read k ON h.run_id = k.run_id
            GROUP BY h.opportunity_id)
        SELECT x.* FROM {history} x JOIN pick p ON x.opportunity_id = p.opportunity_id AND x.run_id = p.run_id
    """


def attribution_views(
    con: Engine, known_at: datetime | None = None, evaluated_at: datetime | None = None
) -> None:
    """Create temp views ``v_attribution``, ``v_credits``, ``v_evidence`` and ``v_claims``: each
    deal's version known at ``known_at``, with the evidence stored with that version.

    Columns: ``run_id`` then the stored (typed) columns of :class:`AttributionRow` / :class:`CreditRow`
    / :class:`EvidenceRow` / :class:`ClaimRow`.
    ``known_at=None`` means every version recorded so far. With ``evaluated_at`` the versions start
    from the newest full run evaluated as of that instant (none: the views are empty; check first
    with :func:`require_attribution`).
    """
    for view, history in (
        ("v_attribution", "attribution_history"),
        ("v_credits", "credit_history"),
        ("v_evidence", EVIDENCE_TABLE),
        ("v_claims", CLAIMS_TABLE),
    ):
        sql = _versions_sql(history, known_at, evaluated_at)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS {sql}")


def base_run(
    con: Engine, known_at: datetime | None = None, evaluated_at: datetime | None = None
) -> RunRecord | None:
    """The base full run of a reading (newest known at ``known_at``, as of ``evaluated_at`` when
    given); None when there is none."""
    row = con.execute(f"SELECT ({_base_sql(known_at, evaluated_at)})").fetchone()
    if row is None or not row[0]:
        return None
    found = con.execute(f"SELECT {RUN_COLUMNS} FROM attribution_runs WHERE run_id = ?", [row[0]]).fetchone()
    return None if found is None else _record(found)


def complete_run(con: Engine, known_at: datetime | None = None) -> tuple[RunRecord, RunChain] | None:
    """The newest complete run known at ``known_at`` (a full run or an incremental run on top of
    one) and its chain; None when there is none."""
    row = con.execute(
        f"SELECT max(run_id) FROM ({_known_runs(known_at)}) WHERE scope IN ('{FULL}', '{INCREMENTAL}')"
    ).fetchone()
    if row is None or row[0] is None:
        return None
    found = con.execute(f"SELECT {RUN_COLUMNS} FROM attribution_runs WHERE run_id = ?", [row[0]]).fetchone()
    assert found is not None
    return _record(found), chain_of(con, int(row[0]))


def latest_run_id(
    con: Engine, known_at: datetime | None = None, evaluated_at: datetime | None = None
) -> int | None:
    """The newest run (full or partial) a reading takes versions from (see :func:`attribution_views`);
    None when there is none."""
    if evaluated_at is None:
        row = con.execute(f"SELECT max(run_id) FROM ({_known_runs(known_at)})").fetchone()
    else:
        base = f"({_base_sql(known_at, evaluated_at)})"
        row = con.execute(
            f"SELECT max(run_id) FROM ({_known_runs(known_at)}) WHERE {_after_base(base, evaluated_at)}"
        ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def require_attribution(con: Engine, known_at: datetime | None, evaluated_at: datetime | None = None) -> int:
    """The newest run a reading takes versions from; :class:`NotFound` naming what is known instead
    when there is none: no run at all, none recorded by ``known_at`` (with the earliest), or none
    evaluated as of ``evaluated_at`` (with the instant the newest known run was evaluated at)."""
    found = latest_run_id(con, known_at, evaluated_at)
    if found is not None:
        return found
    first = con.execute("SELECT min(run_at) FROM attribution_runs").fetchone()
    at = "" if evaluated_at is None else f" --as-of {format_instant(evaluated_at)}"
    if first is None or first[0] is None:
        raise NotFound(f"no attribution run yet: run `cosell attribute{at}` first")
    if known_at is not None and latest_run_id(con, known_at) is None:
        earliest = format_instant(first[0])
        raise NotFound(
            f"no attribution run was recorded at or before {format_instant(known_at)} (the --known-at "
            f"instant): the earliest was recorded at {earliest} (give --known-at {earliest} or later)"
        )
    assert evaluated_at is not None
    newest = base_run(con, known_at)
    when = "yet" if known_at is None else f"at {format_instant(known_at)}"
    instead = (
        "only partial runs (auto-tags, fixes) are"
        if newest is None
        else f"the newest full run known then, run {newest.run_id}, was evaluated as of {format_instant(newest.as_of)}"
    )
    raise NotFound(
        f"no attribution evaluated as of {format_instant(evaluated_at)} is known {when} ({instead}): "
        f"run `cosell attribute{at}` first, or leave out --as-of to read the newest version known"
    )


def save_partial_run(
    con: Engine,
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
    evidence: Sequence[EvidenceRow] = (),
    claims: Sequence[ClaimRow] = (),
) -> RunRecord:
    """Store new versions of the deals in ``rows`` (and their credits, and the evidence each
    decision rests on: :mod:`cosell.store.evidence_store`) as one partial run.

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
        f"INSERT INTO attribution_runs ({RUN_COLUMNS}, kind, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            when,
            as_of,
            policy_version,
            model,
            by_user,
            reason,
            json.dumps(counts, sort_keys=True),
            when,  # known_at: a partial run re-decides on what is recorded when it is made
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
    save_evidence_rows(con, run_id, evidence, claims)
    return RunRecord(run_id, when, as_of, policy_version, model, by_user, reason, counts, when)


def _insert(
    con: Engine,
    table: str,
    run_id: int,
    columns: tuple[str, ...],
    types: dict[str, str],
    values: list[tuple[str, ...]],
) -> None:
    """Insert formatted rows in one statement (a row-at-a-time insert costs seconds per thousand)."""
    with staged_rows(con, "_cosell_partial_rows", columns, values) as staged:
        con.execute(
            f"INSERT INTO {table} (run_id, {', '.join(columns)}) "
            f"SELECT {run_id}, {typed_text(columns, types)} FROM {staged}"
        )


@dataclass(frozen=True)
class DealVersion:
    """One stored version of one deal: the run that made it, its row and its credits."""

    run: RunRecord
    kind: str
    scope: str
    row: AttributionRow
    credits: tuple[CreditRow, ...]


def deal_history(con: Engine, opportunity_id: str) -> list[DealVersion]:
    """Every stored version of one deal, oldest first (empty when it was never attributed)."""
    a_cols = ", ".join(f"h.{c}" for c in AttributionRow.columns())
    runs = con.execute(
        f"SELECT {', '.join('r.' + c.strip() for c in RUN_COLUMNS.split(','))}, r.kind, r.scope, {a_cols} "
        "FROM attribution_history h JOIN attribution_runs r ON r.run_id = h.run_id "
        "WHERE h.opportunity_id = ? ORDER BY r.run_id",
        [opportunity_id],
    ).fetchall()
    c_cols = ", ".join(CreditRow.columns())
    out: list[DealVersion] = []
    n = len(RUN_COLUMNS.split(","))
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


def latest_rows(con: Engine, known_at: datetime | None = None) -> tuple[int | None, list[AttributionRow]]:
    """Every deal's attribution version known at ``known_at`` (None: everything recorded), by
    opportunity_id, with the newest run it reads from (None and no rows when there is no run).
    A partial run's deals come from it, every other deal from the base full run."""
    newest = latest_run_id(con, known_at)
    if newest is None:
        return None, []
    attribution_views(con, known_at)
    cols = AttributionRow.columns()
    rows = con.execute(f"SELECT {', '.join(cols)} FROM v_attribution ORDER BY opportunity_id").fetchall()
    return newest, [AttributionRow(*(_text(c, v) for c, v in zip(cols, r, strict=True))) for r in rows]
