"""Attribution versions: every change to a deal's attribution is a stored run, full or partial.

A *full* run (``cosell attribute``) stores a version of every deal. A *partial* run stores new
versions of a few deals only: an accepted reconciliation fix, a decided dispute, an auto-tag, an
answered prompt. Every run records its kind, who, when (``run_at``), why and the policy version.

Every run records three instants: when it was recorded (``run_at``), the instant its deals were
evaluated at (``as_of``, T) and the data it read (``known_at``, K; :mod:`cosell.asof`).

A deal's version *known at K* is its row in the run that *knew most* of those a reading reads:
runs are ordered by their knowledge instant, then by id, not by when they were recorded. A reading
known at K looks only at the runs recorded at or before K; it stands on the complete run (a full
run, or an incremental run on top of one: :mod:`cosell.store.chain`) that knew most, reads that
run's chain, and puts on top the partial runs that knew more than the chain's full run (a full run
re-decides every deal, so it supersedes every partial run it knew of). So a full run stored today
with an earlier knowledge instant (``--known-at``, to reproduce what was known then) does not hide
a fix recorded after that instant, and is the base of no reading that knows a later full run. A
reader that asks for the attribution evaluated as of T (``--as-of T``) stands on the complete run
evaluated as of T that knew most instead, with the partial runs after its full run (the fixes,
disputes, auto-tags and answered prompts recorded since); when there is none,
:func:`require_attribution` refuses with what is known. :func:`attribution_views` exposes exactly
that as the temp views ``v_attribution`` and ``v_credits``, which every reader of attribution
(reconcile, metrics, reports, pay) uses, so the same ``--known-at`` reads the same versions after
later changes.

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
from cosell.store.known import require_import
from cosell.store.retests import STORED
from cosell.store.staging import staged_rows, typed_text
from cosell.store.workspace import as_of_views

# Kinds of attribution change (attribution_runs.kind).
RUN_KINDS = ("batch", "fix", "dispute", "auto_tag", "prompt", "override", "withdrawal")


def migration_versions(con: Engine) -> None:
    """Schema step 3: run kind and scope (partial runs). The latest-version views it once made
    are made by step 15 (:func:`migration_version_order`), which reads columns added after it."""
    con.execute("ALTER TABLE attribution_runs ADD COLUMN IF NOT EXISTS kind VARCHAR DEFAULT 'batch'")
    con.execute("ALTER TABLE attribution_runs ADD COLUMN IF NOT EXISTS scope VARCHAR DEFAULT 'full'")


def migration_version_order(con: Engine) -> None:
    """Schema step 15: each full or incremental run records the full run its chain starts from
    (``chain_full``), and versions are ordered by what their runs knew (``known_at``, then
    ``run_id``), not by when they were recorded.

    A full run stored with ``--known-at`` before a fix, a decided dispute or an answered prompt
    recorded earlier knew less than that change; ordered by run id it hid the change from every
    later reading. Before this step an incremental run always extended the newest complete run
    by id, so its chain starts at the newest full run before it."""
    con.execute("ALTER TABLE attribution_runs ADD COLUMN IF NOT EXISTS chain_full BIGINT")
    con.execute(f"UPDATE attribution_runs SET chain_full = run_id WHERE scope = '{FULL}'")
    con.execute(
        f"""UPDATE attribution_runs SET chain_full = (
                SELECT max(f.run_id) FROM attribution_runs f
                WHERE f.scope = '{FULL}' AND f.run_id < attribution_runs.run_id)
            WHERE scope = '{INCREMENTAL}'"""
    )
    con.execute(f"CREATE OR REPLACE VIEW attribution_latest AS {_versions_sql('attribution_history', None)}")
    con.execute(f"CREATE OR REPLACE VIEW credits_latest AS {_versions_sql('credit_history', None)}")


def _reading_sql(known_at: datetime | None, evaluated_at: datetime | None) -> str:
    """``run_id, seq``: the runs a reading takes versions from, ``seq`` ranking them by what they
    knew (``known_at``, then ``run_id``); a deal's version is its row in the run of greatest seq.

    The reading stands on the *top* run: of the complete runs (full, or incremental on top of one)
    recorded by ``known_at`` (evaluated as of ``evaluated_at`` when given), the one that knew most.
    It reads the top run's chain and the partial runs that knew more than the chain's full run (a
    full run re-decides every deal, so it supersedes every partial run it knew of) or were recorded
    after it: an import dated back by a pinned clock (``--now``) to before a run's knowledge
    instant auto-tags deals that run never read, so a partial run ranks, by what it knew, above
    every run of the chain recorded before it (as it did when runs were ordered by id). With no
    complete run, a reading of the newest versions reads every partial run and one as of
    ``evaluated_at`` reads nothing."""
    every_partial = "a.root_known IS NULL OR " if evaluated_at is None else ""
    return f"""
        WITH {_top_ctes(known_at, evaluated_at)},
        anchor AS (
            SELECT t.run_id AS top_id, t.chain_full, r.known_at AS root_known
            FROM (SELECT 1 AS one) o LEFT JOIN top t ON true LEFT JOIN known r ON r.run_id = t.chain_full),
        reading AS (
            SELECT k.run_id, k.scope, k.known_at FROM known k, anchor a
            WHERE (k.chain_full = a.chain_full AND k.run_id <= a.top_id)
               OR (k.scope = '{PARTIAL}' AND ({every_partial}k.known_at > a.root_known
                   OR k.run_id > a.chain_full))),
        knew AS (
            SELECT p.run_id, CASE WHEN p.scope <> '{PARTIAL}' THEN p.known_at
                ELSE greatest(p.known_at, coalesce((SELECT max(c.known_at) FROM reading c
                    WHERE c.scope <> '{PARTIAL}' AND c.run_id < p.run_id), p.known_at)) END AS knew
            FROM reading p)
        SELECT run_id, row_number() OVER (ORDER BY knew, run_id) AS seq FROM knew"""


def _versions_sql(history: str, known_at: datetime | None, evaluated_at: datetime | None = None) -> str:
    """Rows of ``history`` (attribution, credit, evidence or claims history) in each deal's
    version of a reading (:func:`_reading_sql`): its rows in the run of the reading that knew
    most among those holding its attribution row."""
    return f"""
        WITH ranked AS ({_reading_sql(known_at, evaluated_at)}),
        pick AS (
            SELECT h.opportunity_id, max(r.seq) AS seq
            FROM attribution_history h JOIN ranked r ON h.run_id = r.run_id
            GROUP BY h.opportunity_id)
        SELECT x.* FROM {history} x JOIN ranked r ON x.run_id = r.run_id
        JOIN pick p ON x.opportunity_id = p.opportunity_id AND r.seq = p.seq
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


def _top_ctes(known_at: datetime | None, evaluated_at: datetime | None) -> str:
    """The common table expressions ``known`` (the runs recorded by ``known_at``) and ``top`` (a
    reading's top run, :func:`_reading_sql`: ``run_id, chain_full``, no row when none)."""
    known = "" if known_at is None else f" WHERE run_at <= {ts(known_at)}"
    evaluated = "" if evaluated_at is None else f" AND as_of = {ts(evaluated_at)}"
    return f"""known AS (SELECT run_id, scope, as_of, known_at, chain_full FROM attribution_runs{known}),
        top AS (
            SELECT run_id, chain_full FROM known WHERE scope IN ('{FULL}', '{INCREMENTAL}'){evaluated}
            ORDER BY known_at DESC, run_id DESC LIMIT 1)"""


def _top_sql(known_at: datetime | None, evaluated_at: datetime | None) -> str:
    """``run_id, chain_full`` of a reading's top run (:func:`_reading_sql`): no row when none."""
    return f"WITH {_top_ctes(known_at, evaluated_at)} SELECT run_id, chain_full FROM top"


def base_run(
    con: Engine, known_at: datetime | None = None, evaluated_at: datetime | None = None
) -> RunRecord | None:
    """The full run a reading stands on (:func:`_reading_sql`: the full run of its top run's
    chain); None when there is none."""
    row = con.execute(_top_sql(known_at, evaluated_at)).fetchone()
    return None if row is None else _run_record(con, int(row[1]))


def complete_run(con: Engine, known_at: datetime | None = None) -> tuple[RunRecord, RunChain] | None:
    """The complete run (a full run or an incremental run on top of one) that knew most of those
    recorded by ``known_at`` (:func:`_reading_sql`'s top run), and its chain; None when there is none."""
    row = con.execute(_top_sql(known_at, None)).fetchone()
    if row is None:
        return None
    return _run_record(con, int(row[0])), chain_of(con, int(row[0]))


def _run_record(con: Engine, run_id: int) -> RunRecord:
    found = con.execute(f"SELECT {RUN_COLUMNS} FROM attribution_runs WHERE run_id = ?", [run_id]).fetchone()
    assert found is not None
    return _record(found)


def latest_run_id(
    con: Engine, known_at: datetime | None = None, evaluated_at: datetime | None = None
) -> int | None:
    """The run of a reading that knew most (see :func:`attribution_views`); None when the reading
    reads no run."""
    row = con.execute(
        f"SELECT run_id FROM ({_reading_sql(known_at, evaluated_at)}) ORDER BY seq DESC LIMIT 1"
    ).fetchone()
    return None if row is None else int(row[0])


def current_run_of(con: Engine, opportunity_id: str) -> int | None:
    """The run holding the deal's newest version (what :func:`attribution_views` reads for it with
    no instant); None when it has none."""
    row = con.execute(
        f"""WITH ranked AS ({_reading_sql(None, None)})
            SELECT h.run_id FROM attribution_history h JOIN ranked r ON h.run_id = r.run_id
            WHERE h.opportunity_id = ? ORDER BY r.seq DESC LIMIT 1""",
        [opportunity_id],
    ).fetchone()
    return None if row is None else int(row[0])


def runs_recorded_after(con: Engine, known_at: datetime) -> int:
    """How many runs (of any scope) were recorded after ``known_at``."""
    row = con.execute("SELECT count(*) FROM attribution_runs WHERE run_at > ?", [known_at]).fetchone()
    return int(row[0]) if row else 0


def unread_partial_runs(con: Engine, run_id: int, at: datetime) -> int:
    """How many partial runs (fixes, disputes, auto-tags, answers) known at the instant ``at`` (the
    stored run's knowledge instant) the run ``run_id`` did not read: those recorded after it yet at
    or before ``at``, by a pinned clock (``--now``, ``COSELL_NOW``) at that very instant. The change
    each stands for (an override, a declaration) was made after the run, and the changes found
    after ``at`` leave it out (the imports' twin: :func:`~cosell.store.attribution_store.unread_imports_at`)."""
    row = con.execute(
        f"SELECT count(*) FROM attribution_runs WHERE scope = '{PARTIAL}' AND run_id > ? AND known_at <= ?",
        [run_id, at],
    ).fetchone()
    return int(row[0]) if row else 0


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


def open_attribution_views(
    con: Engine, known_at: datetime | None, evaluated_at: datetime | None, *, existing_at: datetime
) -> int:
    """Build the views of the data known at ``known_at`` (the deals existing at ``existing_at``)
    and of the attribution evaluated as of ``evaluated_at`` (None: each deal's newest version
    known, :mod:`cosell.asof`); return the run the attribution views read. Raises :class:`NotFound` when nothing was
    imported by ``known_at`` or no such attribution is known (:func:`require_attribution`)."""
    if known_at is not None:
        require_import(con, known_at)
    run_id = require_attribution(con, known_at, evaluated_at)
    as_of_views(con, known_at, existing_at=existing_at)
    attribution_views(con, known_at, evaluated_at)
    return run_id


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
            f"INSERT INTO {STORED[table]} (run_id, {', '.join(columns)}) "
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
