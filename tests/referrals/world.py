"""A small purpose-built workspace for the referral and registration tests.

::

    accounts   A1 Northwind (northwind.com): open deal O1, created 2026-01-10 -> open_opportunity
               A2 Contoso (contoso.com): nothing on it -> a clean referral
               A3 Fabrikam (fabrikam.com): direct outbound_call T1 at 2026-05-01 -> direct_touch
               A4 Tailspin (tailspin.com): P2's approved registration R1 at 2026-05-15 -> registration
    partners   P1 Alpha (alpha-partners.com, contact C1 ann@alpha-partners.com), P2 Beta (beta.io)
    users      u-ops (partner_ops, ops@ourco.com), u-ae (ae), u-fin (finance), u-p1 (partner of P1)

Imported at 2026-06-01T00:00:00Z; the tests act at 2026-06-02 and later (``at(...)``).
"""

from __future__ import annotations

import csv
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

from cosell import clock
from cosell.store.schema import TABLES_BY_NAME

IMPORTED = datetime(2026, 6, 1, tzinfo=UTC)

TABLES: dict[str, list[dict[str, str]]] = {
    "accounts": [
        {"account_id": "A1", "name": "Northwind Traders", "domain": "northwind.com", "segment": "SMB"},
        {"account_id": "A2", "name": "Contoso Ltd", "domain": "contoso.com", "segment": "SMB"},
        {"account_id": "A3", "name": "Fabrikam", "domain": "fabrikam.com", "segment": "SMB"},
        {"account_id": "A4", "name": "Tailspin Toys", "domain": "tailspin.com", "segment": "SMB"},
    ],
    "partners": [
        {"partner_id": "P1", "name": "Alpha Partners", "domain": "alpha-partners.com", "partner_type": "referral"},
        {"partner_id": "P2", "name": "Beta", "domain": "beta.io", "partner_type": "co_sell"},
    ],
    "partner_contacts": [{"contact_id": "C1", "partner_id": "P1", "name": "Ann Alpha", "email": "ann@alpha-partners.com"}],
    "users": [
        {"user_id": "u-ops", "name": "Olga Ops", "email": "ops@ourco.com", "role": "partner_ops"},
        {"user_id": "u-ae", "name": "Al Exec", "email": "ae@ourco.com", "role": "ae"},
        {"user_id": "u-fin", "name": "Fin", "email": "fin@ourco.com", "role": "finance"},
        {"user_id": "u-p1", "name": "Ann Alpha", "email": "ann@alpha-partners.com", "role": "partner", "partner_id": "P1"},
    ],
    "opportunities": [
        {"opportunity_id": "O1", "account_id": "A1", "created_at": "2026-01-10", "amount": "5000.00",
         "currency": "USD", "stage": "Discovery", "owner_id": "u-ae"},
    ],
    "touches": [
        {"touch_id": "T1", "occurred_at": "2026-05-01", "account_id": "A3", "actor": "direct",
         "kind": "outbound_call", "user_id": "u-ae"},
    ],
    "deal_registrations": [
        {"registration_id": "R1", "partner_id": "P2", "account_id": "A4", "registered_at": "2026-05-15",
         "status": "approved", "approved_at": "2026-05-16"},
    ],
}  # fmt: skip


def write_tables(folder: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    """The tables as canonical CSV files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        columns = [c for c in TABLES_BY_NAME[name].column_names if any(c in r for r in rows)]
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([r.get(c, "") for c in columns] for r in rows)
    return folder


def at(text: str) -> AbstractContextManager[None]:
    """Pin the clock at an ISO instant for a block (every write there is dated by it)."""
    return clock.pinned(datetime.fromisoformat(text.replace("Z", "+00:00")))
