"""Attribution history: every run's rows kept forever, and the overrides every run applies.

::

    attribution_runs       one row per run: when recorded (run_at), evaluated as of (as_of), with
                           the data known at (known_at), policy version, model, who, why, counts
    attribution_history    every run's attribution rows, keyed by (run_id, opportunity_id)
    credit_history         every run's credit rows, keyed by (run_id, opportunity_id, partner_id)
    attribution_overrides  accepted fixes and disputes: (opportunity, tier, partner), withdrawable
    override_withdrawals   who withdrew an override, when and why (one row each, never changed)
    attribution_latest, credits_latest   views of the newest run

History is append-only: a run inserts new versions (a full run of every deal, an incremental run
of the deals it decided again: :mod:`cosell.store.chain`) and never updates or deletes an
earlier one, so any past report can be re-read as it was made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from cosell import clock
from cosell.engine import Engine
from cosell.errors import NotFound, UsageError, did_you_mean
from cosell.instants import format_instant, format_optional
from cosell.money import round_money
from cosell.results import TIERS, AttributionRow, CreditRow
from cosell.store.chain import FULL, INCREMENTAL, chain_of
from cosell.store.evidence_store import EVIDENCE_TYPES, save_evidence_relations, save_stage_entries
from cosell.store.retests import STORED, save_retests
from cosell.store.staging import column_ddl, typed_text

# Stored types of the result columns: money DECIMAL, instants TIMESTAMPTZ, days exact DECIMAL.
# Every other column is VARCHAR. An empty output cell is stored as NULL.
ATTRIBUTION_TYPES = {
    "engagement_at": "TIMESTAMPTZ",
    "cycle_days": "DECIMAL(18,6)",
    "baseline_days": "DECIMAL(18,6)",
    "cycle_reduction_days": "DECIMAL(18,6)",
    "remaining_days": "DECIMAL(18,6)",
    "as_of": "TIMESTAMPTZ",
    "cohort_size": "INTEGER",
}
CREDIT_TYPES = {"share": "DECIMAL(7,6)", "amount": "DECIMAL(18,4)"}
_REQUIRED = {
    "opportunity_id",
    "tier",
    "as_of",
    "policy_version",
    "partner_id",
    "role",
    "share",
    "amount",
    "currency",
}


def migration_attribution(con: Engine) -> None:
    """Schema step: attribution runs, history, overrides and the latest-run views."""
    attribution_cols = column_ddl(AttributionRow.columns(), ATTRIBUTION_TYPES, _REQUIRED)
    credit_cols = column_ddl(CreditRow.columns(), CREDIT_TYPES, _REQUIRED)
    con.execute(
        """CREATE TABLE IF NOT EXISTS attribution_runs (
            run_id BIGINT PRIMARY KEY, run_at TIMESTAMPTZ NOT NULL, as_of TIMESTAMPTZ NOT NULL,
            policy_version VARCHAR NOT NULL, model VARCHAR NOT NULL, by_user VARCHAR NOT NULL,
            reason VARCHAR NOT NULL, counts VARCHAR NOT NULL)"""
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS attribution_history (run_id BIGINT NOT NULL, {attribution_cols}, "
        "PRIMARY KEY (run_id, opportunity_id))"
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS credit_history (run_id BIGINT NOT NULL, {credit_cols}, "
        "PRIMARY KEY (run_id, opportunity_id, partner_id))"
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS attribution_overrides (
            override_id VARCHAR PRIMARY KEY, opportunity_id VARCHAR NOT NULL, tier VARCHAR NOT NULL,
            partner_id VARCHAR, recorded_at TIMESTAMPTZ NOT NULL, by_user VARCHAR NOT NULL,
            reason VARCHAR NOT NULL, source VARCHAR NOT NULL, withdrawn_at TIMESTAMPTZ)"""
    )
    con.execute(
        "CREATE OR REPLACE VIEW attribution_latest AS SELECT * FROM attribution_history "
        "WHERE run_id = (SELECT max(run_id) FROM attribution_runs)"
    )
    con.execute(
        "CREATE OR REPLACE VIEW credits_latest AS SELECT * FROM credit_history "
        "WHERE run_id = (SELECT max(run_id) FROM attribution_runs)"
    )


@dataclass(frozen=True)
class RunRecord:
    """One stored attribution run: recorded at ``run_at``, its deals evaluated as of ``as_of`` (T)
    with the data known at ``known_at`` (K, :mod:`cosell.asof`)."""

    run_id: int
    run_at: datetime
    as_of: datetime
    policy_version: str
    model: str
    by_user: str
    reason: str
    counts: dict[str, int]
    known_at: datetime


# The columns of attribution_runs that make a RunRecord, in its field order (see _record).
RUN_COLUMNS = "run_id, run_at, as_of, policy_version, model, by_user, reason, counts, known_at"


class RunResults(Protocol):
    """What the store keeps of a batch run: its instants, policy version, model and counts, and its
    results as relations (SQL queries whose columns are :meth:`AttributionRow.columns`,
    :meth:`CreditRow.columns`, and the evidence's :meth:`~cosell.results.EvidenceRow.columns` and
    :meth:`~cosell.results.ClaimRow.columns`, as formatted text)."""

    as_of: datetime
    known_at: datetime | None
    policy_version: str
    model: str
    counts: dict[str, int]

    @property
    def attribution_sql(self) -> str: ...

    @property
    def credits_sql(self) -> str: ...

    @property
    def evidence_sql(self) -> str:
        """The evidence rows (:meth:`cosell.results.EvidenceRow.columns`, formatted text)."""
        ...

    @property
    def claims_sql(self) -> str:
        """The sourcing claims (:meth:`cosell.results.ClaimRow.columns`, formatted text)."""
        ...

    @property
    def retests_sql(self) -> str:
        """The re-tested deals (an incremental run's; empty text: none): opportunity_id, from_run
        and :data:`cosell.store.retests.RETESTED`, formatted text (:mod:`cosell.store.retests`)."""
        ...

    @property
    def stage_entries_sql(self) -> str:
        """The first stage entries the cohorts read (opp_id, stage, first_t in epoch microseconds:
        :func:`cosell.store.evidence_store.save_stage_entries`)."""
        ...


def migration_run_last_import(con: Engine) -> None:
    """Schema step 14: a stored run records the newest import it read (``last_import_id``). An
    import recorded at the same instant as a run but after it (a pinned clock: ``--now``,
    ``COSELL_NOW``) is known at the run's knowledge instant, yet the run did not read it; the
    incremental re-run tells the two apart by this id. Runs stored before the step have none
    (NULL: not known)."""
    con.execute("ALTER TABLE attribution_runs ADD COLUMN IF NOT EXISTS last_import_id BIGINT")


def unread_imports_at(con: Engine, run_id: int, at: datetime) -> int:
    """How many imports known at the instant ``at`` (the run's knowledge instant) the stored run
    ``run_id`` did not read: those recorded after it (a later import id) yet dated at or before
    ``at``, by a pinned clock (``--now``, ``COSELL_NOW``) at that very instant or before it. A run
    stored before schema step 14 did not record the last import it read: every import at the
    instant itself counts then (one dated before it cannot be told from one the run read)."""
    row = con.execute(
        "SELECT count(*) FROM imports, (SELECT last_import_id AS read FROM attribution_runs WHERE run_id = ?) "
        "WHERE CASE WHEN read IS NULL THEN imported_at = ? ELSE imported_at <= ? AND import_id > read END",
        [run_id, at, at],
    ).fetchone()
    return int(row[0]) if row else 0


def save_run(
    con: Engine,
    run: RunResults,
    by_user: str,
    reason: str = "",
    *,
    kind: str = "batch",
    run_at: datetime | None = None,
    scope: str = FULL,
    extends: int | None = None,
) -> RunRecord:
    """Store the engine's current results as a new full run (a new version of every deal, with
    the evidence each decision rests on: :mod:`cosell.store.evidence_store`), or with ``scope``
    ``incremental`` as an incremental run on top of the newest complete run (the deals it decided
    again; every other deal is read from that run: :mod:`cosell.store.chain`).

    ``extends`` is the complete run an incremental run is stored on top of (the run its chain
    continues: ``chain_full`` names the chain's full run).

    ``run_at`` (when the version becomes known) defaults to :func:`cosell.clock.now`. The run
    records the engine's as-of and known-at instants; a run over everything recorded
    (``run.known_at`` None) knew what was recorded by ``run_at``.
    """
    if scope not in (FULL, INCREMENTAL):
        raise UsageError(f"a stored run is full or incremental, not {scope!r}")
    if (scope == INCREMENTAL) != (extends is not None):
        raise UsageError("an incremental run, and only one, is stored on top of the run it extends")
    with con.transaction():  # joins the caller's (the use case's) transaction when there is one
        rows = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM attribution_runs").fetchall()
        run_id = int(rows[0][0])
        run_at = clock.now(run_at)
        known_at = run_at if run.known_at is None else run.known_at
        con.execute(
            "INSERT INTO attribution_runs (run_id, run_at, as_of, policy_version, model, by_user, reason, "
            "counts, kind, scope, known_at, stage_entries, last_import_id, chain_full) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, true, (SELECT max(import_id) FROM imports), "
            "coalesce((SELECT chain_full FROM attribution_runs WHERE run_id = ?), ?))",
            [
                run_id,
                run_at,
                run.as_of,
                run.policy_version,
                run.model,
                by_user,
                reason,
                json.dumps(run.counts, sort_keys=True),
                kind,
                scope,
                known_at,
                extends,
                run_id,
            ],
        )
        a_cols = ", ".join(AttributionRow.columns())
        c_cols = ", ".join(CreditRow.columns())
        a_typed = typed_text(AttributionRow.columns(), ATTRIBUTION_TYPES)
        c_typed = typed_text(CreditRow.columns(), CREDIT_TYPES)
        con.execute(
            f"INSERT INTO {STORED['attribution_history']} (run_id, {a_cols}) "
            f"SELECT {run_id}, {a_typed} FROM ({run.attribution_sql})"
        )
        con.execute(
            f"INSERT INTO {STORED['credit_history']} (run_id, {c_cols}) "
            f"SELECT {run_id}, {c_typed} FROM ({run.credits_sql})"
        )
        save_evidence_relations(con, run_id, run.evidence_sql, run.claims_sql)
        save_stage_entries(con, run_id, run.stage_entries_sql)
        if run.retests_sql:
            save_retests(con, run_id, run.retests_sql, {**ATTRIBUTION_TYPES, **EVIDENCE_TYPES})
    return RunRecord(
        run_id, run_at, run.as_of, run.policy_version, run.model, by_user, reason, run.counts, known_at
    )


def list_runs(con: Engine) -> list[RunRecord]:
    """Every stored run, oldest first."""
    rows = con.execute(f"SELECT {RUN_COLUMNS} FROM attribution_runs ORDER BY run_id").fetchall()
    return [_record(r) for r in rows]


def _record(r: tuple[Any, ...]) -> RunRecord:
    return RunRecord(
        int(r[0]),
        r[1].astimezone(UTC),
        r[2].astimezone(UTC),
        r[3],
        r[4],
        r[5],
        r[6],
        json.loads(r[7]),
        r[8].astimezone(UTC),
    )


def run_rows(con: Engine, run_id: int | None = None) -> tuple[list[AttributionRow], list[CreditRow]]:
    """The attribution and credit rows of a stored run (default: the newest); of an incremental
    run, those of every deal (:func:`cosell.store.chain.chain_of`)."""
    if run_id is None:
        rows = con.execute("SELECT max(run_id) FROM attribution_runs").fetchall()
        if rows[0][0] is None:
            raise NotFound("no attribution run yet: run `cosell attribute`")
        run_id = int(rows[0][0])
    a_cols = ", ".join(AttributionRow.columns())
    c_cols = ", ".join(CreditRow.columns())
    chain = chain_of(con, run_id)
    a = con.execute(
        f"SELECT {a_cols} FROM ({chain.rows('attribution_history')}) ORDER BY opportunity_id"
    ).fetchall()
    c = con.execute(
        f"SELECT {c_cols} FROM ({chain.rows('credit_history')}) ORDER BY opportunity_id, partner_id"
    ).fetchall()
    return (
        [AttributionRow(*(_text(c, v) for c, v in zip(AttributionRow.columns(), r, strict=True))) for r in a],
        [_credit_row(r) for r in c],
    )


def _text(column: str, value: Any) -> str:
    """A stored value back as the exact text the engine wrote (the output files' format)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_instant(value)
    return str(value)


def _credit_row(r: tuple[Any, ...]) -> CreditRow:
    opportunity_id, partner_id, role, share, amount, currency = r
    return CreditRow(
        opportunity_id, partner_id, role, str(share), str(round_money(amount, currency)), currency
    )


def record_override(
    con: Engine,
    opportunity_id: str,
    tier: str,
    partner_id: str | None,
    by_user: str,
    reason: str,
    source: str = "manual",
    recorded_at: datetime | None = None,
) -> str:
    """Record an accepted override ``(opportunity, tier, partner)``; every later run applies it."""
    if tier not in TIERS:
        raise UsageError(f"tier must be one of {', '.join(TIERS)}, not {tier!r}")
    if tier == "sourced" and not partner_id:
        raise UsageError("an override to sourced names the sourcing partner")
    if not reason.strip():
        raise UsageError("an override records why: give a reason")
    when = clock.now(recorded_at)
    rows = con.execute("SELECT count(*) + 1 FROM attribution_overrides").fetchall()
    override_id = f"OVR-{int(rows[0][0]):06d}"
    con.execute(
        "INSERT INTO attribution_overrides VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        [override_id, opportunity_id, tier, partner_id or None, when, by_user, reason, source],
    )
    return override_id


def migration_override_withdrawals(con: Engine) -> None:
    """Schema step 16: who withdrew each override, when and why (``override_withdrawals``: one row
    per withdrawn override, never changed). ``attribution_overrides.withdrawn_at`` stays the
    instant every run reads (a run known before it still applies the override); a withdrawal sets
    it once, from empty, beside its row here."""
    con.execute(
        """CREATE TABLE IF NOT EXISTS override_withdrawals (
            override_id VARCHAR PRIMARY KEY, withdrawn_at TIMESTAMPTZ NOT NULL, by_user VARCHAR NOT NULL,
            reason VARCHAR NOT NULL)"""
    )


@dataclass(frozen=True)
class Override:
    """An override as recorded, and its withdrawal when it was withdrawn (``withdrawn_by`` empty
    for one withdrawn before who and why were recorded). ``superseded_by`` names the deal's newer
    override that runs apply instead (a run applies a deal's newest override not withdrawn), empty
    when this one applies or was withdrawn."""

    override_id: str
    opportunity_id: str
    tier: str
    partner_id: str
    recorded_at: datetime
    by_user: str
    reason: str
    source: str
    withdrawn_at: datetime | None
    withdrawn_by: str
    withdrawn_reason: str
    superseded_by: str = ""

    def already_withdrawn(self) -> str:
        """What a second withdrawal of this (withdrawn) override is told."""
        assert self.withdrawn_at is not None
        by = f" by {self.withdrawn_by}" if self.withdrawn_by else ""
        return f"override {self.override_id} was already withdrawn{by} at {format_instant(self.withdrawn_at)}"

    @property
    def status(self) -> str:
        """``withdrawn``, ``superseded`` (not withdrawn, but a newer one applies) or ``in force``."""
        if self.withdrawn_at is not None:
            return "withdrawn"
        return "superseded" if self.superseded_by else "in force"

    def to_json(self) -> dict[str, Any]:
        """The override's stable JSON keys (``cosell overrides list --format json``)."""
        return {
            "override_id": self.override_id,
            "opportunity_id": self.opportunity_id,
            "tier": self.tier,
            "partner_id": self.partner_id,
            "status": self.status,
            "recorded_at": format_instant(self.recorded_at),
            "by_user": self.by_user,
            "reason": self.reason,
            "source": self.source,
            "withdrawn_at": format_optional(self.withdrawn_at),
            "withdrawn_by": self.withdrawn_by,
            "withdrawn_reason": self.withdrawn_reason,
        }


def overrides(con: Engine, opportunity_id: str | None = None) -> list[Override]:
    """Every override (of one deal when given), in the order they were recorded, with who
    withdrew it, when and why."""
    where = "WHERE o.opportunity_id = ?" if opportunity_id is not None else ""
    rows = con.execute(
        "SELECT o.override_id, o.opportunity_id, o.tier, coalesce(o.partner_id, ''), o.recorded_at, "
        "o.by_user, o.reason, o.source, o.withdrawn_at, coalesce(w.by_user, ''), coalesce(w.reason, '') "
        "FROM attribution_overrides o LEFT JOIN override_withdrawals w USING (override_id) "
        f"{where} ORDER BY o.recorded_at, o.override_id",
        [opportunity_id] if opportunity_id is not None else None,
    ).fetchall()
    found = [Override(*r) for r in rows]
    # The rows are in the order runs rank them (recorded_at, override_id): the last one not
    # withdrawn is the one every run applies to its deal; the others are superseded by it.
    applied = {o.opportunity_id: o.override_id for o in found if o.withdrawn_at is None}
    return [
        replace(o, superseded_by=applied[o.opportunity_id])
        if o.withdrawn_at is None and applied[o.opportunity_id] != o.override_id
        else o
        for o in found
    ]


def withdraw_override(
    con: Engine, override_id: str, at: datetime | None = None, *, by_user: str, reason: str
) -> Override:
    """Withdraw an override as ``by_user``, for ``reason``: runs known at ``at`` or later no longer
    apply it; it stays on record, and so does who withdrew it, when and why. Opens no transaction:
    the caller stores the deal's new version with it (:func:`cosell.hygiene.decisions.withdraw`)."""
    found = find_override(con, override_id)
    if found.withdrawn_at is not None:
        raise UsageError(found.already_withdrawn())
    if not reason.strip():
        raise UsageError("a withdrawal records why: give a reason")
    when = clock.now(at)
    con.execute(
        "UPDATE attribution_overrides SET withdrawn_at = ? WHERE override_id = ? AND withdrawn_at IS NULL",
        [when, override_id],
    )
    con.execute(
        "INSERT INTO override_withdrawals VALUES (?, ?, ?, ?)", [override_id, when, by_user, reason.strip()]
    )
    return next(o for o in overrides(con, found.opportunity_id) if o.override_id == override_id)


def find_override(con: Engine, override_id: str) -> Override:
    """The override ``override_id`` as :func:`overrides` lists it; NotFound (with a close id, when
    there is one) for an unknown id."""
    known = {o.override_id: o for o in overrides(con)}
    if override_id not in known:
        raise NotFound(f"no override {override_id}" + did_you_mean(override_id, list(known)))
    return known[override_id]
