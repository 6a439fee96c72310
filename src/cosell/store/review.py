"""Storage of reconciliation findings, their decisions, disputes, and the pay-change markers.

::

    reconciliations      one row per `cosell reconcile`: who, when, why, the period, the as-of instant
    findings             append-only: a finding as first detected, keyed by a stable id (kind + deal)
    finding_decisions    at most one decision per finding: accepted or rejected, who, when, why
    disputes             append-only: a dispute opened on a deal's attribution
    dispute_decisions    at most one decision per dispute
    attribution_changes  one row per deal whose attribution an accepted fix or dispute changed:
                         the marker the pay ledger consumes as an adjustment

Nothing is updated or deleted: a finding's or a dispute's status (open, accepted, rejected) as of
an instant is derived from the decision rows recorded at or before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cosell.engine import Engine
from cosell.engine.sql import lit as _lit
from cosell.engine.sql import ts as _ts
from cosell.instants import format_instant
from cosell.money import minor_unit, round_money
from cosell.store.intake import ensure_intake_schema
from cosell.store.recorded import newest_instant, refuse_backdated
from cosell.store.referrals import ensure_referral_schema
from cosell.store.tables import ensure_tables

DECISIONS = ("accepted", "rejected")
# Finding kinds in the order reports list them (SPEC section 4's, then cosell's own, then prompts').
KINDS = (
    "untagged_partner_involvement",
    "overlap_unattributed",
    "missing_attribution_at_close",
    "over_credited",
    "double_sourced",
    "influence_without_activity",
    "acceleration_unproven",
    "account_mismatch",
    "declared_mismatch",
    "prompt_expired",
)


def migration_review(con: Engine) -> None:
    """Schema step 5: findings, decisions, disputes and attribution changes (idempotent).

    Workspaces made by development builds recorded step 5 while it was still empty; the
    capability's entry points call :func:`ensure_review_schema` so those workspaces work too.
    """
    con.execute(
        """CREATE TABLE IF NOT EXISTS reconciliations (
            reconciliation_id BIGINT PRIMARY KEY,
            run_at TIMESTAMPTZ NOT NULL,
            by_user VARCHAR NOT NULL,
            as_of TIMESTAMPTZ NOT NULL,
            period VARCHAR NOT NULL,
            period_start TIMESTAMPTZ,
            period_end TIMESTAMPTZ,
            attribution_run_id BIGINT,
            deals INTEGER NOT NULL,
            findings INTEGER NOT NULL,
            new_findings INTEGER NOT NULL)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS findings (
            finding_id VARCHAR PRIMARY KEY,
            kind VARCHAR NOT NULL,
            opportunity_id VARCHAR NOT NULL,
            detected_at TIMESTAMPTZ NOT NULL,
            reconciliation_id BIGINT NOT NULL,
            run_id BIGINT,
            closed_at TIMESTAMPTZ,
            declared_source VARCHAR,
            declared_partner_id VARCHAR,
            computed_tier VARCHAR,
            computed_partner_id VARCHAR,
            amount DECIMAL(18,4),
            currency VARCHAR,
            at_stake DECIMAL(38,4),
            at_stake_currency VARCHAR,
            suggested_tier VARCHAR,
            suggested_partner_id VARCHAR,
            suggested_fix VARCHAR NOT NULL,
            evidence VARCHAR NOT NULL)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS finding_decisions (
            finding_id VARCHAR PRIMARY KEY,
            decision VARCHAR NOT NULL,
            by_user VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            decided_at TIMESTAMPTZ NOT NULL,
            tier VARCHAR,
            partner_id VARCHAR,
            override_id VARCHAR,
            run_id BIGINT)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS disputes (
            dispute_id VARCHAR PRIMARY KEY,
            opportunity_id VARCHAR NOT NULL,
            opened_by VARCHAR NOT NULL,
            opened_at TIMESTAMPTZ NOT NULL,
            reason VARCHAR NOT NULL,
            claim_tier VARCHAR,
            claim_partner_id VARCHAR,
            run_id BIGINT,
            tier VARCHAR,
            partner_id VARCHAR)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS dispute_decisions (
            dispute_id VARCHAR PRIMARY KEY,
            decision VARCHAR NOT NULL,
            by_user VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            decided_at TIMESTAMPTZ NOT NULL,
            tier VARCHAR,
            partner_id VARCHAR,
            override_id VARCHAR,
            run_id BIGINT)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS attribution_changes (
            change_id BIGINT PRIMARY KEY,
            opportunity_id VARCHAR NOT NULL,
            run_id BIGINT NOT NULL,
            previous_run_id BIGINT,
            source VARCHAR NOT NULL,
            by_user VARCHAR NOT NULL,
            recorded_at TIMESTAMPTZ NOT NULL)"""
    )


def migration_reconciliation_reasons(con: Engine) -> None:
    """Schema step 18 (with the imports'): why each reconciliation was run
    (``reconciliations.reason``; empty for one recorded before the reason was). Idempotent."""
    migration_review(con)  # idempotent: the reconciliations table exists from step 5 on
    con.execute("ALTER TABLE reconciliations ADD COLUMN IF NOT EXISTS reason VARCHAR DEFAULT ''")


def ensure_review_schema(con: Engine) -> None:
    """Create the review tables when a workspace lacks them (cheap and idempotent)."""
    tables = (
        "reconciliations",
        "findings",
        "finding_decisions",
        "disputes",
        "dispute_decisions",
        "attribution_changes",
    )
    ensure_tables(con, tables, migration_reconciliation_reasons)


# Everything a workspace records, with its instant and what a row of it is: the instants a reading
# at a knowledge instant K goes by (docs/as-of.md: imports, attribution versions, overrides,
# declarations, prompts and their answers, reconciliations, findings, decisions and disputes,
# referrals and registrations) and the pay ledger's (postings, payout runs and approvals, plan
# loads). One rule for every write, review and pay alike: nothing may be recorded dated before
# something already recorded, or a reading at an earlier K (a past report, a statement) re-run
# would differ. On a tie the first listed is named: the act (an approval, a decision, an answer)
# before what it records at the same instant (a posting, an attribution run, a declaration).
RECORDED_INSTANTS = (
    ("payout_approvals", "approved_at", "a payout approval"),
    ("finding_decisions", "decided_at", "a finding decision"),
    ("dispute_decisions", "decided_at", "a dispute decision"),
    ("prompt_answers", "answered_at", "a prompt answer"),
    ("attribution_overrides", "withdrawn_at", "an override withdrawal"),
    ("attribution_overrides", "recorded_at", "an override"),
    ("disputes", "opened_at", "a dispute"),
    ("declarations", "recorded_at", "a declaration"),
    ("referrals", "recorded_at", "a referral"),
    ("registration_events", "recorded_at", "a registration event"),
    ("prompts", "recorded_at", "a prompt"),
    ("reconciliations", "run_at", "a reconciliation"),
    ("findings", "detected_at", "a finding"),
    ("payout_runs", "proposed_at", "a payout run"),
    ("ledger_postings", "posted_at", "a ledger posting"),
    ("plan_versions", "loaded_at", "a plan version load"),
    ("attribution_runs", "run_at", "an attribution run"),
    ("imports", "imported_at", "an import"),
)


def check_not_backdated(con: Engine, at: datetime, what: str) -> None:
    """Refuse to record ``what`` at ``at`` (a decision, a dispute, an answer, a posting, a payout
    run or approval, a plan load) when something in ``RECORDED_INSTANTS`` was already recorded
    after it, naming what and when: the record would rewrite the past (SPEC section 4: any past
    report can be re-run as of the date it was made). The same instant is fine (a batch shares
    one). Like an import, which may not be dated before the last import."""
    ensure_review_schema(con)
    ensure_intake_schema(con)
    ensure_referral_schema(con)
    refuse_backdated(at, newest_instant(con, RECORDED_INSTANTS), what)


def next_number(con: Engine, table: str, column: str) -> int:
    """One more than the largest integer id in ``table.column`` (1 for an empty table)."""
    row = con.execute(f"SELECT coalesce(max({column}), 0) + 1 FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def mark_change(
    con: Engine,
    opportunity_id: str,
    run_id: int,
    previous_run_id: int | None,
    source: str,
    by_user: str,
    recorded_at: datetime,
) -> int:
    """Record that ``opportunity_id``'s attribution changed in run ``run_id`` (a pay adjustment).

    ``source`` says why: ``finding:<id>`` or ``dispute:<id>``. ``previous_run_id`` is the deal's
    version before the change (None when it had none). Opens no transaction: callers group it
    with the change itself.
    """
    change_id = next_number(con, "attribution_changes", "change_id")
    con.execute(
        "INSERT INTO attribution_changes VALUES (?, ?, ?, ?, ?, ?, ?)",
        [change_id, opportunity_id, run_id, previous_run_id, source, by_user, recorded_at],
    )
    return change_id


@dataclass(frozen=True)
class Finding:
    """One finding with its status as of an instant (SPEC section 4; docs/hygiene-review.md).

    Empty text is ``""``. ``at_stake`` is the deal's amount in the workspace currency at its
    close-period rate. ``evidence`` items read ``kind:id[/partner][@instant]``. ``status`` is
    ``open``, ``accepted`` or ``rejected``.
    """

    finding_id: str
    kind: str
    opportunity_id: str
    closed_at: datetime | None
    declared_source: str
    declared_partner_id: str
    computed_tier: str
    computed_partner_id: str
    run_id: int | None
    amount: Decimal | None
    currency: str
    at_stake: Decimal | None
    at_stake_currency: str
    suggested_tier: str
    suggested_partner_id: str
    suggested_fix: str
    evidence: tuple[str, ...]
    detected_at: datetime | None
    status: str = "open"
    decided_by: str = ""
    decided_at: datetime | None = None
    decision_reason: str = ""

    @property
    def declared(self) -> str:
        """``tier/partner`` as declared (``(empty)`` when partner_source is not confirmed)."""
        return _pair(self.declared_source, self.declared_partner_id) or "(empty)"

    @property
    def computed(self) -> str:
        """``tier/partner`` as computed (``(not attributed)`` without a version)."""
        return _pair(self.computed_tier, self.computed_partner_id) or "(not attributed)"

    def to_json(self) -> dict[str, Any]:
        """The finding as JSON-ready values (instants ISO 8601 UTC, money as decimal strings)."""
        return {
            "finding_id": self.finding_id,
            "kind": self.kind,
            "opportunity_id": self.opportunity_id,
            "closed_at": _text(self.closed_at),
            "declared_source": self.declared_source,
            "declared_partner_id": self.declared_partner_id,
            "computed_tier": self.computed_tier,
            "computed_partner_id": self.computed_partner_id,
            "run_id": self.run_id,
            "amount": _text(self.amount),
            "currency": self.currency,
            "at_stake": _text(self.at_stake),
            "at_stake_currency": self.at_stake_currency,
            "suggested_tier": self.suggested_tier,
            "suggested_partner_id": self.suggested_partner_id,
            "suggested_fix": self.suggested_fix,
            "evidence": list(self.evidence),
            "detected_at": _text(self.detected_at),
            "status": self.status,
            "decided_by": self.decided_by,
            "decided_at": _text(self.decided_at),
            "decision_reason": self.decision_reason,
        }


def _pair(tier: str, partner: str) -> str:
    return f"{tier}/{partner}" if tier and partner else tier


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_instant(value)
    return str(value)


# The columns of a finding read back from storage or from ``_rec_findings``, in Finding's order.
_READ = (
    "f.finding_id, f.kind, f.opportunity_id, f.closed_at, f.declared_source, f.declared_partner_id, "
    "f.computed_tier, f.computed_partner_id, f.run_id, f.amount, f.currency, f.at_stake, "
    "{stake_currency}, f.suggested_tier, f.suggested_partner_id, f.suggested_fix, f.evidence, "
    "{detected_at}, d.decision, d.by_user, d.decided_at, d.reason"
)


def decided_sql(as_of: datetime | None) -> str:
    """The finding decisions recorded at or before ``as_of`` (None: all)."""
    known = "" if as_of is None else f" WHERE decided_at <= {_ts(as_of)}"
    return f"(SELECT * FROM finding_decisions{known})"


def read_findings(
    con: Engine,
    source: str,
    *,
    stake_currency: str,
    detected_at: str,
    where: str = "TRUE",
    as_of: datetime | None = None,
    params: Sequence[object] | None = None,
) -> list[Finding]:
    """Findings from ``source`` (a relation aliased ``f`` with the stored columns), each with its
    decision as known at ``as_of``, ordered by kind (in :data:`KINDS` order) then deal."""
    order = " ".join(f"WHEN {_lit(k)} THEN {i}" for i, k in enumerate(KINDS))
    rows = con.execute(
        f"SELECT {_READ.format(stake_currency=stake_currency, detected_at=detected_at)} "
        f"FROM {source} LEFT JOIN {decided_sql(as_of)} d ON d.finding_id = f.finding_id "
        f"WHERE {where} ORDER BY CASE f.kind {order} ELSE 99 END, f.opportunity_id, f.finding_id",
        list(params or []),
    ).fetchall()
    return [_finding(r) for r in rows]


def _finding(r: tuple[Any, ...]) -> Finding:
    def s(v: Any) -> str:
        return "" if v is None else str(v)

    def t(v: Any) -> datetime | None:
        return None if v is None else v.astimezone(UTC)

    stake = None if r[11] is None else Decimal(r[11]).quantize(Decimal(1).scaleb(-minor_unit(s(r[12]))))
    return Finding(
        finding_id=r[0],
        kind=r[1],
        opportunity_id=r[2],
        closed_at=t(r[3]),
        declared_source=s(r[4]),
        declared_partner_id=s(r[5]),
        computed_tier=s(r[6]),
        computed_partner_id=s(r[7]),
        run_id=None if r[8] is None else int(r[8]),
        amount=None if r[9] is None else round_money(Decimal(r[9]), s(r[10])),
        currency=s(r[10]),
        at_stake=stake,
        at_stake_currency=s(r[12]),
        suggested_tier=s(r[13]),
        suggested_partner_id=s(r[14]),
        suggested_fix=s(r[15]),
        evidence=tuple(s(r[16]).split()),
        detected_at=t(r[17]),
        status=s(r[18]) or "open",
        decided_by=s(r[19]),
        decided_at=t(r[20]),
        decision_reason=s(r[21]),
    )
