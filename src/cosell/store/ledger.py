"""The append-only pay ledger and payout runs, sealed so that the database refuses to change them.

::

    ledger_postings     one row per write to the ledger: a posting, a re-pricing, a payout approval
    ledger_entries      every earning, reversal, clawback and payment (see cosell.pay.ledger)
    ledger_deal_terms   per deal: the rep (owner at its first entry) and the plan version it is priced
                        with; a new row only when --reprice moves it to another plan version
    ledger_priced       per deal: a digest of what it was last priced from (a cache: lost, it only
                        costs a full re-pricing, never a different result)
    payout_runs         proposed payout runs: period, who, the ledger entries they cover
    payout_run_lines    per run and party: balance, amount to pay, or blocked
    payout_approvals    the approval of a run (a row of its own: a run is never updated)
    ledger_posted_deals per posting and deal: the account's name, amount, currency and close time
                        when posted, and the attribution version (fix, dispute) that caused it

DuckDB has no triggers, so refusal is built from constraints. Each sealed table has a ``digest``
column with ``CHECK (digest = sha256(<every column as text>))``, a primary key ``(<key>, digest)``
and a ``<table>_seal`` table whose foreign key references that primary key, one seal row per row
inserted in the same transaction. An UPDATE of any column (with or without a recomputed digest),
a DELETE and a TRUNCATE of a sealed table then fail with a constraint error and change nothing.
(Whoever can delete the seal rows first can also change the rows: the seal stops mistakes and
careless tools, and :func:`verify_ledger` reports any row without its seal.)
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cosell.engine import Engine
from cosell.entries import ENTRY_KINDS, PARTY_KINDS, Entry
from cosell.errors import CosellError
from cosell.store.tables import ensure_tables

MONEY = "DECIMAL(18,4)"


@dataclass(frozen=True)
class SealedTable:
    """A table that refuses UPDATE and DELETE: digest CHECK, primary key with it, and a seal table."""

    name: str
    columns: tuple[tuple[str, str], ...]  # (name, SQL type with NOT NULL where required)
    key: tuple[str, ...]
    checks: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)

    @property
    def seal(self) -> str:
        return f"{self.name}_seal"

    def digest_sql(self, prefix: str = "") -> str:
        """sha256 over every column as length-prefixed text (so no two rows share a text)."""
        parts = []
        for column, sql_type in self.columns:
            ref = f"{prefix}{column}"
            # Instants as epoch microseconds: the text of a TIMESTAMPTZ depends on the session zone.
            text = (
                f"CAST(epoch_us({ref}) AS VARCHAR)"
                if "TIMESTAMPTZ" in sql_type
                else f"CAST({ref} AS VARCHAR)"
            )
            parts.append(f"coalesce(CAST(length({text}) AS VARCHAR) || ':' || {text}, '~')")
        return f"sha256(concat_ws('|', {', '.join(parts)}))"

    def create(self, con: Engine) -> None:
        cols = ", ".join(f"{c} {t}" for c, t in self.columns)
        key = ", ".join(self.key)
        checks = "".join(f", CHECK ({c})" for c in self.checks)
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {self.name} ({cols}, digest VARCHAR NOT NULL, "
            f"CHECK (digest = {self.digest_sql()}){checks}, PRIMARY KEY ({key}, digest))"
        )
        key_cols = ", ".join(f"{c} {t}" for c, t in self.columns if c in self.key)
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {self.seal} ({key_cols}, digest VARCHAR NOT NULL, "
            f"FOREIGN KEY ({key}, digest) REFERENCES {self.name} ({key}, digest))"
        )

    def insert(self, con: Engine, source: str) -> int:
        """Insert the rows of ``source`` (a table or view with exactly this table's columns) and seal
        them. Call inside a transaction so that rows and seals land together."""
        names = ", ".join(self.column_names)
        staged = f"_staged_{self.name}"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {staged} AS SELECT {names}, {self.digest_sql()} AS digest "
            f"FROM {source}"
        )
        con.execute(f"INSERT INTO {self.name} ({names}, digest) SELECT {names}, digest FROM {staged}")
        key = ", ".join(self.key)
        con.execute(f"INSERT INTO {self.seal} ({key}, digest) SELECT {key}, digest FROM {staged}")
        row = con.execute(f"SELECT count(*) FROM {staged}").fetchone()
        con.execute(f"DROP TABLE {staged}")
        return int(row[0]) if row else 0


_kinds = ", ".join(f"'{k}'" for k in ENTRY_KINDS)
_parties = ", ".join(f"'{k}'" for k in PARTY_KINDS)

LEDGER_POSTINGS = SealedTable(
    "ledger_postings",
    (
        ("posting_id", "BIGINT NOT NULL"),
        ("posted_at", "TIMESTAMPTZ NOT NULL"),
        ("period", "VARCHAR NOT NULL"),
        ("action", "VARCHAR NOT NULL"),  # post, reprice, payment
        ("by_user", "VARCHAR NOT NULL"),
        ("reason", "VARCHAR NOT NULL"),
        ("summary", "VARCHAR NOT NULL"),  # JSON counts
    ),
    ("posting_id",),
)

LEDGER_ENTRIES = SealedTable(
    "ledger_entries",
    (
        ("entry_id", "VARCHAR NOT NULL"),
        ("idempotency_key", "VARCHAR NOT NULL UNIQUE"),
        ("posted_at", "TIMESTAMPTZ NOT NULL"),  # dated: inside its period
        ("recorded_at", "TIMESTAMPTZ NOT NULL"),  # written
        ("period", "VARCHAR NOT NULL"),  # the month of posted_at
        ("posting_id", "BIGINT NOT NULL"),
        ("party_kind", "VARCHAR NOT NULL"),
        ("party_id", "VARCHAR NOT NULL"),
        ("opportunity_id", "VARCHAR"),
        ("kind", "VARCHAR NOT NULL"),
        ("rule_id", "VARCHAR"),
        ("plan_version", "VARCHAR"),
        ("attribution_run_id", "BIGINT"),
        ("amount", f"{MONEY} NOT NULL"),
        ("currency", "VARCHAR NOT NULL"),
        ("basis", "VARCHAR NOT NULL"),
        ("reverses", "VARCHAR"),
        ("payout_run_id", "VARCHAR"),
        ("by_user", "VARCHAR NOT NULL"),
        ("reason", "VARCHAR NOT NULL"),
    ),
    ("entry_id",),
    (f"kind IN ({_kinds})", f"party_kind IN ({_parties})"),
)
ENTRY_COLUMNS = LEDGER_ENTRIES.column_names

LEDGER_DEAL_TERMS = SealedTable(
    "ledger_deal_terms",
    (
        ("opportunity_id", "VARCHAR NOT NULL"),
        ("seq", "INTEGER NOT NULL"),
        ("rep_id", "VARCHAR NOT NULL"),  # "" when the deal had no owner at its first entry
        ("plan_version", "VARCHAR NOT NULL"),
        ("posting_id", "BIGINT NOT NULL"),
        ("reason", "VARCHAR NOT NULL"),  # first entry, reprice
    ),
    ("opportunity_id", "seq"),
)

PAYOUT_RUNS = SealedTable(
    "payout_runs",
    (
        ("run_id", "VARCHAR NOT NULL"),
        ("period", "VARCHAR NOT NULL"),
        ("proposed_at", "TIMESTAMPTZ NOT NULL"),
        ("by_user", "VARCHAR NOT NULL"),
        ("through_entry", "VARCHAR"),  # the newest entry of the covered periods when proposed
        ("parties_paid", "INTEGER NOT NULL"),
        ("total", f"{MONEY} NOT NULL"),
        ("parties_blocked", "INTEGER NOT NULL"),
        ("blocked_total", f"{MONEY} NOT NULL"),
        ("currency", "VARCHAR NOT NULL"),
        ("reason", "VARCHAR NOT NULL"),
    ),
    ("run_id",),
)

PAYOUT_RUN_LINES = SealedTable(
    "payout_run_lines",
    (
        ("run_id", "VARCHAR NOT NULL"),
        ("party_kind", "VARCHAR NOT NULL"),
        ("party_id", "VARCHAR NOT NULL"),
        ("balance", f"{MONEY} NOT NULL"),
        ("pay", f"{MONEY} NOT NULL"),
        ("status", "VARCHAR NOT NULL"),
    ),
    ("run_id", "party_kind", "party_id"),
    ("status IN ('pay', 'blocked')",),
)

PAYOUT_APPROVALS = SealedTable(
    "payout_approvals",
    (
        ("run_id", "VARCHAR NOT NULL"),
        ("approved_at", "TIMESTAMPTZ NOT NULL"),
        ("by_user", "VARCHAR NOT NULL"),
        ("reason", "VARCHAR NOT NULL"),
        ("posting_id", "BIGINT NOT NULL"),
    ),
    ("run_id",),
)

# Per posting and deal: what the deal was when its entries were posted (the account's name, the
# amount and currency, the close time priced) and the attribution version that changed what it earns,
# so that a statement prints each line as it was posted, whatever the CRM says later.
LEDGER_POSTED_DEALS = SealedTable(
    "ledger_posted_deals",
    (
        ("posting_id", "BIGINT NOT NULL"),
        ("opportunity_id", "VARCHAR NOT NULL"),
        ("account_id", "VARCHAR"),
        ("account_name", "VARCHAR"),
        ("amount", MONEY),  # in the deal's currency
        ("currency", "VARCHAR"),
        ("closed_at", "TIMESTAMPTZ"),  # close time X as priced; else the CRM close_date
        ("cause_run_id", "BIGINT"),  # the attribution version that changed what it earns, if any
        ("cause_kind", "VARCHAR"),  # its kind: batch, fix, dispute, ...
        ("cause_source", "VARCHAR"),  # the fix or dispute that made it: finding:F-000012, dispute:D-000001
    ),
    ("posting_id", "opportunity_id"),
)

# The tables of schema step 7, as released: that step creates exactly these.
_STEP_7_TABLES = (
    LEDGER_POSTINGS,
    LEDGER_ENTRIES,
    LEDGER_DEAL_TERMS,
    PAYOUT_RUNS,
    PAYOUT_RUN_LINES,
    PAYOUT_APPROVALS,
)
SEALED_TABLES = (*_STEP_7_TABLES, LEDGER_POSTED_DEALS)


def migration_ledger(con: Engine) -> None:
    """Schema step: the sealed ledger, deal terms, payout runs and approvals; the pricing cache."""
    for table in _STEP_7_TABLES:
        table.create(con)
    con.execute(
        "CREATE TABLE IF NOT EXISTS ledger_priced (opportunity_id VARCHAR NOT NULL, "
        "input_digest VARCHAR NOT NULL, posting_id BIGINT NOT NULL)"
    )


def migration_posted_deals(con: Engine) -> None:
    """Schema step: per posting and deal, the deal as posted and the change that caused its entries."""
    LEDGER_POSTED_DEALS.create(con)


def ensure_ledger_schema(con: Engine) -> None:
    """Create the ledger tables when a workspace lacks them (a development build recorded step 7
    while it was still empty). Cheap and idempotent: every entry point calls it."""
    names = [name for t in SEALED_TABLES for name in (t.name, t.seal)]
    ensure_tables(con, [*names, "ledger_priced"], migration_ledger)
    ensure_tables(con, [LEDGER_POSTED_DEALS.name, LEDGER_POSTED_DEALS.seal], migration_posted_deals)


def next_posting_id(con: Engine) -> int:
    row = con.execute("SELECT coalesce(max(posting_id), 0) + 1 FROM ledger_postings").fetchone()
    assert row is not None
    return int(row[0])


def last_entry_number(con: Engine) -> int:
    row = con.execute("SELECT max(entry_id) FROM ledger_entries").fetchone()
    return 0 if row is None or row[0] is None else int(str(row[0])[3:])


def closed_through(con: Engine) -> str | None:
    """The latest period of an approved payout run: it and every earlier period are closed."""
    row = con.execute(
        "SELECT max(r.period) FROM payout_runs r JOIN payout_approvals a USING (run_id)"
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def check_ledger_currency(con: Engine, currency: str) -> None:
    """Refuse to read or write the ledger in ``currency`` (the policy's workspace currency) when its
    entries are in another: a run or a statement would label one currency's amounts with another's
    code, and a payment would be posted in it."""
    ensure_ledger_schema(con)
    row = con.execute("SELECT min(currency) FROM ledger_entries WHERE currency <> ?", [currency]).fetchone()
    if row and row[0] is not None:
        raise CosellError(
            f"the ledger is in {row[0]} but the policy's workspace_currency is {currency}: give the "
            "policy the workspace was posted with (--policy or $COSELL_POLICY)"
        )


def latest_posted(con: Engine) -> str | None:
    """The latest period entries were posted into (a posting or a re-pricing), or None."""
    row = con.execute(
        "SELECT max(period) FROM ledger_postings WHERE action IN ('post', 'reprice')"
    ).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def read_entries(con: Engine, where: str = "TRUE", params: list[Any] | None = None) -> list[Entry]:
    """Ledger entries matching ``where`` (SQL over ledger_entries' columns), in entry order."""
    ensure_ledger_schema(con)
    rows = con.execute(
        f"SELECT {', '.join(ENTRY_COLUMNS)} FROM ledger_entries WHERE {where} ORDER BY entry_id",
        params or [],
    ).fetchall()
    return [_entry(r) for r in rows]


def stage_rows(
    con: Engine,
    name: str,
    columns: tuple[tuple[str, str], ...],
    rows: list[tuple[Any, ...]],
) -> None:
    """A temp table ``name`` of Python rows, typed as ``columns`` (name, SQL type). Values travel as
    exact text through Arrow (thousands of rows in milliseconds, where one INSERT per row takes
    seconds), instants as ISO 8601 with their offset."""
    import pyarrow as pa  # here, not at the top: opening a workspace must not load Arrow (0.2 s)

    texts = [
        pa.array(
            [
                None if r[i] is None else (r[i].isoformat() if isinstance(r[i], datetime) else str(r[i]))
                for r in rows
            ],
            type=pa.string(),
        )
        for i in range(len(columns))
    ]
    arrow = pa.Table.from_arrays(texts, names=[c for c, _ in columns])
    view = f"_arrow_{name}"
    con.register(view, arrow)
    casts = ", ".join(f"CAST({c} AS {t.split()[0]}) AS {c}" for c, t in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT {casts} FROM {view}")
    con.unregister(view)


@dataclass(frozen=True)
class DealTerms:
    """What a deal's ledger entries are priced with: the rep (its owner when its first entry was
    posted; "" when it had none) and the plan version (pinned then, or moved by a re-pricing)."""

    rep_id: str
    plan_version: str
    # The close time the plan version was pinned for (None when its posting recorded none): a deal
    # that closed again at another instant is priced by the version in force at its new close.
    closed_at: datetime | None = None

    def plan_for(self, closed_at: datetime) -> str | None:
        """The pinned plan version, or None when the deal has closed again at another instant."""
        moved = self.closed_at is not None and self.closed_at != closed_at
        return None if moved else self.plan_version


def pinned_deal_terms(con: Engine, ids: list[str], known_at: datetime | None = None) -> dict[str, DealTerms]:
    """The newest terms of each deal in ``ids`` that has any, from the postings recorded at or
    before ``known_at`` (None: every posting)."""
    if not ids:
        return {}
    ensure_ledger_schema(con)
    known = "TRUE" if known_at is None else "p.posted_at <= $k"
    rows = con.execute(
        f"""SELECT n.*, d.closed_at FROM (
                SELECT t.opportunity_id, arg_max(t.rep_id, t.seq) AS rep_id,
                       arg_max(t.plan_version, t.seq) AS plan_version, arg_max(t.posting_id, t.seq) AS posting_id
                FROM ledger_deal_terms t JOIN ledger_postings p ON p.posting_id = t.posting_id
                WHERE {known} AND t.opportunity_id IN (SELECT unnest($ids::VARCHAR[]))
                GROUP BY 1) n
            LEFT JOIN ledger_posted_deals d ON d.posting_id = n.posting_id AND d.opportunity_id = n.opportunity_id
            ORDER BY 1""",
        {"ids": sorted(set(ids))} | ({} if known_at is None else {"k": known_at}),
    ).fetchall()
    return {
        str(o): DealTerms(str(rep), str(plan), None if closed is None else closed.astimezone(UTC))
        for o, rep, plan, _posting, closed in rows
    }


def insert_entries(con: Engine, entries: list[Entry]) -> int:
    """Insert and seal entries built in Python (payments); call inside a transaction."""
    if not entries:
        return 0
    stage_rows(con, "_new_entries", LEDGER_ENTRIES.columns, [astuple(e) for e in entries])
    count = LEDGER_ENTRIES.insert(con, "_new_entries")
    con.execute("DROP TABLE _new_entries")
    return count


def _entry(r: tuple[Any, ...]) -> Entry:
    values = list(r)
    values[2] = values[2].astimezone(UTC)
    values[3] = values[3].astimezone(UTC)
    values[5] = int(values[5])
    values[12] = None if values[12] is None else int(values[12])
    values[13] = Decimal(values[13])
    return Entry(*values)


class LedgerDamaged(CosellError):
    """The ledger does not hold together: a row without its seal, a gap in the entry ids ..."""


def verify_ledger(con: Engine) -> None:
    """Raise :class:`LedgerDamaged` when a sealed row lost its seal, entry ids have a gap, or an
    entry is reversed twice or reverses something that is not an earning of the same party."""
    for table in SEALED_TABLES:
        key = " AND ".join(f"s.{k} = t.{k}" for k in (*table.key, "digest"))
        row = con.execute(
            f"SELECT count(*) FROM {table.name} t WHERE NOT EXISTS (SELECT 1 FROM {table.seal} s WHERE {key})"
        ).fetchone()
        if row and row[0]:
            rows = (
                f"{row[0]:,} row of {table.name} has"
                if row[0] == 1
                else f"{row[0]:,} rows of {table.name} have"
            )
            raise LedgerDamaged(f"{rows} no seal: the table was tampered with")
    row = con.execute(
        "SELECT count(*), coalesce(max(CAST(substr(entry_id, 4) AS BIGINT)), 0) FROM ledger_entries"
    ).fetchone()
    assert row is not None
    if int(row[0]) != int(row[1]):
        raise LedgerDamaged(f"ledger entry ids have gaps: {row[0]} entries, the last is number {row[1]}")
    row = con.execute(
        """SELECT r.entry_id FROM ledger_entries r LEFT JOIN ledger_entries e ON e.entry_id = r.reverses
           WHERE r.reverses IS NOT NULL AND (e.entry_id IS NULL
               OR e.kind NOT IN ('partner_payout', 'rep_commission', 'bonus')
               OR e.party_kind <> r.party_kind OR e.party_id <> r.party_id OR e.amount <> -r.amount)
           ORDER BY 1 LIMIT 1"""
    ).fetchone()
    if row:
        raise LedgerDamaged(f"entry {row[0]} does not reverse an earning of the same party and amount")
    row = con.execute(
        "SELECT entry_id FROM ledger_entries WHERE strftime(posted_at AT TIME ZONE 'UTC', '%Y-%m') <> period "
        "ORDER BY 1 LIMIT 1"
    ).fetchone()
    if row:
        raise LedgerDamaged(f"entry {row[0]} is dated outside its period")
    row = con.execute(
        "SELECT reverses FROM ledger_entries WHERE reverses IS NOT NULL GROUP BY 1 HAVING count(*) > 1 "
        "ORDER BY 1 LIMIT 1"
    ).fetchone()
    if row:
        raise LedgerDamaged(f"entry {row[0]} is reversed more than once")
