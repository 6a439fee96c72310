"""Small canonical datasets written from Python into a temporary folder (no committed fixtures)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

from cosell.engine import Engine
from cosell.store.schema import TABLES_BY_NAME

Rows = Sequence[Mapping[str, str]]


def base_tables() -> dict[str, list[dict[str, str]]]:
    """A tiny valid dataset touching every kind of column."""
    return {
        "accounts": [
            {"account_id": "A1", "name": "Northwind", "segment": "ENT", "owner_id": "U1"},
            {"account_id": "A2", "name": "Contoso", "segment": "SMB", "owner_id": "U1"},
        ],
        "partners": [
            {"partner_id": "P1", "name": "Alpha", "partner_type": "co_sell", "joined_at": "2024-02-01"},
            {"partner_id": "P2", "name": "Beta", "partner_type": "referral", "joined_at": ""},
        ],
        "partner_contacts": [{"contact_id": "PC1", "partner_id": "P1", "name": "Ana", "email": "ana@a.io"}],
        "users": [
            {"user_id": "U1", "name": "Sam", "role": "ae", "partner_id": ""},
            {"user_id": "U2", "name": "Pat", "role": "partner", "partner_id": "P1"},
        ],
        "opportunities": [
            {
                "opportunity_id": "O1",
                "account_id": "A1",
                "created_at": "2026-01-20T10:00:00Z",
                "amount": "48000.00",
                "currency": "EUR",
                "stage": "Closed Won",
                "owner_id": "U1",
                "close_date": "2026-04-30",
                "is_closed": "true",
                "is_won": "TRUE",
                "partner_source": "sourced",
                "partner_id": "P1",
            },
            {
                "opportunity_id": "O2",
                "account_id": "A2",
                "created_at": "2026-02-01 09:30",
                "amount": "1200",
                "currency": "",
                "stage": "Discovery",
                "owner_id": "U1",
                "close_date": "",
                "is_closed": "no",
                "is_won": "0",
                "partner_source": "",
                "partner_id": "",
            },
        ],
        "stage_history": [
            {"opportunity_id": "O1", "stage": "Discovery", "entered_at": "2026-01-20T10:00:00Z"},
            {"opportunity_id": "O1", "stage": "Closed Won", "entered_at": "2026-04-30T12:00:00+02:00"},
        ],
        "touches": [
            {
                "touch_id": "T1",
                "occurred_at": "2026-01-10T17:00:00+01:00",
                "account_id": "A1",
                "actor": "partner",
                "kind": "joint_call",
                "opportunity_id": "O1",
                "partner_id": "P1",
                "partner_contact_id": "",
                "user_id": "",
            },
            {
                "touch_id": "T2",
                "occurred_at": "2026-01-12",
                "account_id": "A2",
                "actor": "direct",
                "kind": "outbound_call",
                "opportunity_id": "",
                "partner_id": "",
                "partner_contact_id": "",
                "user_id": "U1",
            },
        ],
        "program_costs": [
            {"cost_id": "", "period": "2026-Q1", "category": "headcount", "amount": "185000.00"},
            {"cost_id": "", "period": "2026-Q1", "category": "tech", "amount": "5000"},
        ],
        "fx_rates": [{"currency": "EUR", "period": "2026-01", "rate": "1.0875"}],
    }


def csv_text(table: str, rows: Rows, columns: Sequence[str] | None = None) -> str:
    """CSV text with a header of ``columns`` (default: the schema's columns present in any row)."""
    if columns is None:
        names = TABLES_BY_NAME[table].column_names
        seen = {k for r in rows for k in r}
        columns = [c for c in names if c in seen] + sorted(seen - set(names))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buffer.getvalue()


def write_dataset(folder: Path, tables: Mapping[str, Rows]) -> Path:
    """Write each table as ``<table>.csv`` in ``folder`` (created); return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in tables.items():
        (folder / f"{table}.csv").write_text(csv_text(table, rows), encoding="utf-8")
    return folder


def dataset(folder: Path, **changes: Rows | None) -> Path:
    """The base dataset with some tables replaced (``None`` drops a table), written to ``folder``."""
    tables: dict[str, Rows] = dict(base_tables())
    for name, rows in changes.items():
        if rows is None:
            tables.pop(name, None)
        else:
            tables[name] = rows
    return write_dataset(folder, tables)


def content_checksum(con: Engine) -> tuple[tuple[str, int, str], ...]:
    """Row count and an order-independent checksum of every versioned table and the import log."""
    out = []
    for name in [*TABLES_BY_NAME, "imports"]:
        row = con.execute(
            f"SELECT count(*), coalesce(bit_xor(hash(t::VARCHAR)), 0)::VARCHAR FROM {name} t"
        ).fetchone()
        assert row is not None
        out.append((name, int(row[0]), str(row[1])))
    return tuple(out)
