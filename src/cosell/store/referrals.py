"""Storage of referrals and of the audit trail of deal registrations (SPEC section 7).

::

    referrals             append-only, versioned: every change of a referral (submitted, answered,
                          accepted, rejected) is a new row (referral_id, version) with who, when
                          and why, and the whole referral as it stands after the change
    registration_events   append-only: every change of a deal registration (submitted, approved,
                          rejected, extended, expired) with who, when, why, the channel conflicts
                          found then (with their evidence) and whether a conflict was overridden

A referral's current state is its highest version; nothing is updated or deleted, so
``cosell referrals show`` can print its whole history. A referral is keyed for idempotence by its
channel and source reference (a Message-ID, a Slack channel and ts, the caller's reference): the
same message submitted twice is one referral. Deal registrations themselves are a canonical table
(``deal_registrations``, versioned like every canonical row); this module keeps what that table has
no columns for.

The lists and the JSON columns (conflicts, field sources) are stored as JSON text written with
sorted keys, so the same referral is stored byte for byte the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from cosell.engine import Engine
from cosell.store.tables import ensure_tables

REFERRAL_STATUSES = ("needs_info", "open", "conflict", "accepted", "rejected")
REFERRAL_ACTIONS = ("submitted", "answered", "accepted", "rejected")
REGISTRATION_ACTIONS = ("submitted", "approved", "rejected", "extended", "expired")
REFERRAL_PREFIX = "REF"
REGISTRATION_PREFIX = "REG"


@dataclass(frozen=True)
class ReferralVersion:
    """One stored version of a referral: the change (action, by, when, why) and the whole referral
    after it. Text fields are ``""`` when empty; ``conflicts_json`` and ``sources_json`` are JSON
    text owned by the referral capability (the store does not read them)."""

    referral_id: str
    version: int
    action: str
    recorded_at: datetime
    by_user: str
    reason: str
    channel: str
    source_ref: str
    received_at: datetime
    received_at_given: bool  # False: the message had no date; received_at is when it was submitted
    sender_emails: tuple[str, ...]
    sender_name: str
    partner_hint: str
    partner_id: str
    partner_contact_id: str
    partner_method: str  # contact_email, domain, answered or none
    partner_evidence: str  # the address or domain that identified the partner, or why none did
    prospect_company: str
    prospect_name: str
    prospect_email: str
    prospect_title: str
    prospect_domain: str
    account_id: str
    account_method: str  # domain, name or none
    account_evidence: str
    status: str
    missing: tuple[str, ...]
    follow_up: str
    conflicts_json: str
    override_reason: str
    lead_id: str
    notes: str
    sources_json: str


_REFERRAL_TYPES = {
    "version": "INTEGER NOT NULL",
    "recorded_at": "TIMESTAMPTZ NOT NULL",
    "received_at": "TIMESTAMPTZ NOT NULL",
    "received_at_given": "BOOLEAN NOT NULL",
}
_LISTS = ("sender_emails", "missing")
COLUMNS = tuple(f.name for f in fields(ReferralVersion))


@dataclass(frozen=True)
class RegistrationEvent:
    """One change of a deal registration, beside its canonical row version."""

    registration_id: str
    seq: int
    action: str
    recorded_at: datetime
    by_user: str
    reason: str
    conflicts_json: str  # the channel conflicts found at this change, JSON text ("[]" for none)
    overridden: bool  # approved although conflicts were found (the reason says why)


def migration_referrals(con: Engine) -> None:
    """Schema step 11: the versioned referrals (idempotent: IF NOT EXISTS)."""
    cols = ", ".join(f"{name} {_REFERRAL_TYPES.get(name, 'VARCHAR NOT NULL')}" for name in COLUMNS)
    con.execute(f"CREATE TABLE IF NOT EXISTS referrals ({cols}, PRIMARY KEY (referral_id, version))")
    # The same message (channel + reference) is one referral: its first version is unique.
    con.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS referrals_source ON referrals (channel, source_ref, version)"
    )


def migration_registration_events(con: Engine) -> None:
    """Schema step 12: the audit trail of deal registrations (idempotent: IF NOT EXISTS)."""
    con.execute(
        """CREATE TABLE IF NOT EXISTS registration_events (
            registration_id VARCHAR NOT NULL,
            seq INTEGER NOT NULL,
            action VARCHAR NOT NULL,
            recorded_at TIMESTAMPTZ NOT NULL,
            by_user VARCHAR NOT NULL,
            reason VARCHAR NOT NULL,
            conflicts_json VARCHAR NOT NULL,
            overridden BOOLEAN NOT NULL,
            PRIMARY KEY (registration_id, seq))"""
    )


def ensure_referral_schema(con: Engine) -> None:
    """Create the referral tables when a workspace lacks them (cheap and idempotent)."""
    ensure_tables(con, ("referrals",), migration_referrals)
    ensure_tables(con, ("registration_events",), migration_registration_events)


def next_id(con: Engine, table: str, column: str, prefix: str) -> str:
    """The next id ``PREFIX-000001`` in ``table.column`` (ids of another shape are left aside)."""
    row = con.execute(
        f"SELECT coalesce(max(CAST(substr({column}, {len(prefix) + 2}) AS BIGINT)), 0) + 1 FROM {table} "
        f"WHERE regexp_full_match({column}, ?)",
        [f"{prefix}-[0-9]+"],
    ).fetchone()
    assert row is not None
    return f"{prefix}-{int(row[0]):06d}"


def insert_referral(con: Engine, v: ReferralVersion) -> None:
    """Append one version (never replaces one: the key (referral_id, version) is unique). The
    service checks first that nothing was recorded after its instant
    (:func:`cosell.service.referrals`'s ``_append``)."""
    values: list[Any] = []
    for name in COLUMNS:
        value = getattr(v, name)
        values.append(json.dumps(list(value)) if name in _LISTS else value)
    marks = ", ".join("?" for _ in COLUMNS)
    con.execute(f"INSERT INTO referrals ({', '.join(COLUMNS)}) VALUES ({marks})", values)


def _referral(row: tuple[Any, ...]) -> ReferralVersion:
    values = dict(zip(COLUMNS, row, strict=True))
    for name in _LISTS:
        values[name] = tuple(json.loads(values[name]))
    for name in ("recorded_at", "received_at"):
        values[name] = values[name].astimezone(UTC)
    return ReferralVersion(**values)


def referral_by_source(con: Engine, channel: str, source_ref: str) -> str | None:
    """The referral already submitted from this channel and reference, or None."""
    row = con.execute(
        "SELECT min(referral_id) FROM referrals WHERE channel = ? AND source_ref = ?", [channel, source_ref]
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def referral_versions(con: Engine, referral_id: str) -> list[ReferralVersion]:
    """Every version of one referral, oldest first (empty when there is no such referral)."""
    rows = con.execute(
        f"SELECT {', '.join(COLUMNS)} FROM referrals WHERE referral_id = ? ORDER BY version", [referral_id]
    ).fetchall()
    return [_referral(r) for r in rows]


def current_referrals(con: Engine, status: str | None = None) -> list[ReferralVersion]:
    """Every referral as it stands (its highest version), by referral_id; of one status if given."""
    where = "" if status is None else "WHERE status = ?"
    rows = con.execute(
        f"""SELECT {", ".join(COLUMNS)} FROM (
            SELECT * FROM referrals QUALIFY version = max(version) OVER (PARTITION BY referral_id))
            {where} ORDER BY referral_id""",
        [] if status is None else [status],
    ).fetchall()
    return [_referral(r) for r in rows]


def referral_ids(con: Engine) -> list[str]:
    """Every referral id, sorted (for a did-you-mean)."""
    return [
        str(r[0]) for r in con.execute("SELECT DISTINCT referral_id FROM referrals ORDER BY 1").fetchall()
    ]


def insert_registration_event(con: Engine, e: RegistrationEvent) -> None:
    """Append one change of a registration."""
    con.execute(
        "INSERT INTO registration_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [e.registration_id, e.seq, e.action, e.recorded_at, e.by_user, e.reason, e.conflicts_json,
         e.overridden],
    )  # fmt: skip


def registration_events(con: Engine, registration_id: str | None = None) -> list[RegistrationEvent]:
    """The changes of one registration (or of all), by registration_id and order of recording."""
    where = "" if registration_id is None else "WHERE registration_id = ?"
    rows = con.execute(
        f"SELECT registration_id, seq, action, recorded_at, by_user, reason, conflicts_json, overridden "
        f"FROM registration_events {where} ORDER BY registration_id, seq",
        [] if registration_id is None else [registration_id],
    ).fetchall()
    return [
        RegistrationEvent(
            str(r[0]), int(r[1]), str(r[2]), r[3].astimezone(UTC), str(r[4]), str(r[5]), str(r[6]), bool(r[7])
        )
        for r in rows
    ]
