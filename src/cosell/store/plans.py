"""The plan versions table: each loaded compensation plan version's exact file text and digest,
who loaded it, when and why. Added, never changed. Parsing and checking a version is pay's
(:mod:`cosell.pay.plan_versions`); the store keeps the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cosell.engine import Engine
from cosell.store.tables import ensure_tables

__all__ = [
    "StoredPlanText",
    "insert_plan_version",
    "migration_plan_reasons",
    "migration_plans",
    "stored_plan_texts",
]


def migration_plans(con: Engine) -> None:
    """Schema step 6: the plan versions table (append-only by convention: nothing updates it)."""
    con.execute(
        """CREATE TABLE IF NOT EXISTS plan_versions (
            seq BIGINT PRIMARY KEY,              -- the order versions were added
            plan_id VARCHAR NOT NULL,
            version INTEGER NOT NULL,
            effective_from TIMESTAMPTZ NOT NULL,
            effective_to TIMESTAMPTZ,            -- the file's own end; NULL = until superseded
            currency VARCHAR NOT NULL,
            text VARCHAR NOT NULL,               -- the file exactly as loaded
            digest VARCHAR NOT NULL,             -- sha256 of text
            file VARCHAR NOT NULL,               -- where it was loaded from (for messages)
            loaded_at TIMESTAMPTZ NOT NULL,
            by_user VARCHAR NOT NULL,
            repriced BOOLEAN NOT NULL,           -- added with --reprice over time already past
            UNIQUE (plan_id, version))"""
    )


def migration_plan_reasons(con: Engine) -> None:
    """Schema step 17: why each plan version was loaded (``plan_versions.reason``; empty for one
    loaded before the reason was recorded). Idempotent."""
    con.execute("ALTER TABLE plan_versions ADD COLUMN IF NOT EXISTS reason VARCHAR DEFAULT ''")


def _ensure(con: Engine) -> None:
    # A development build recorded step 6 while it was still empty: create the table when missing
    # (idempotent and cheap, like the ledger's ensure step). Every reader and writer comes here.
    ensure_tables(con, ("plan_versions",), _create)


def _create(con: Engine) -> None:
    migration_plans(con)
    migration_plan_reasons(con)


@dataclass(frozen=True)
class StoredPlanText:
    """One stored plan version as loaded: its text and who loaded it, when and why."""

    text: str
    file: str
    digest: str
    loaded_at: datetime
    by_user: str
    repriced: bool
    reason: str = ""


def stored_plan_texts(con: Engine) -> list[StoredPlanText]:
    """Every stored plan version, in the order added."""
    _ensure(con)
    rows = con.execute(
        "SELECT text, file, digest, loaded_at, by_user, repriced, coalesce(reason, '') FROM plan_versions "
        "ORDER BY seq"
    ).fetchall()
    return [
        StoredPlanText(str(t), str(f), str(d), at, str(by), bool(r), str(why))
        for t, f, d, at, by, r, why in rows
    ]


def insert_plan_version(
    con: Engine,
    *,
    plan_id: str,
    version: int,
    effective_from: datetime,
    effective_to: datetime | None,
    currency: str,
    text: str,
    digest: str,
    file: str,
    loaded_at: datetime,
    by_user: str,
    repriced: bool,
    reason: str,
) -> None:
    """Append one plan version (no transaction of its own: the caller groups it)."""
    _ensure(con)
    row = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM plan_versions").fetchone()
    assert row is not None
    con.execute(
        "INSERT INTO plan_versions (seq, plan_id, version, effective_from, effective_to, currency, text, "
        "digest, file, loaded_at, by_user, repriced, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [int(row[0]), plan_id, version, effective_from, effective_to, currency, text, digest, file,
         loaded_at, by_user, repriced, reason],
    )  # fmt: skip
