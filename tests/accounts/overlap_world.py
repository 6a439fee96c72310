"""A small purpose-built dataset for the overlap and recommendation tests, every outcome computed
by hand (see each row's comment)."""

from __future__ import annotations

import csv
from pathlib import Path

from cosell.store.schema import TABLES_BY_NAME

TABLES: dict[str, list[dict[str, str]]] = {
    "accounts": [
        {"account_id": "A1", "name": "Acme Logistics", "domain": "acme.com", "segment": "MM"},
        {"account_id": "A2", "name": "Globex", "segment": "MM"},
        {"account_id": "A3", "name": "Initech Software", "domain": "initech.io", "segment": "SMB"},
        {"account_id": "A4", "name": "Umbrella Health", "domain": "umbrella.com", "segment": "SMB"},
    ],
    "partners": [
        {"partner_id": "P1", "name": "Alpha", "partner_type": "co_sell"},
        {"partner_id": "P2", "name": "Beta", "partner_type": "referral"},
    ],
    "partner_contacts": [{"contact_id": "PC1", "partner_id": "P1", "name": "Ann", "email": "ann@alpha.io"}],
    "partner_accounts": [
        # domain: www.acme.com is acme.com -> A1; P1 customer.
        {"partner_id": "P1", "name": "ACME LOGISTICS INC", "domain": "www.acme.com", "status": "customer"},
        # name: "globex" after The and Corporation -> A2; P1 customer.
        {"partner_id": "P1", "name": "The Globex Corporation", "domain": "", "status": "customer"},
        # fuzzy: "initech sofware" vs "initech software", one letter missing: 100 * (1 - 1/31) = 96.8.
        {"partner_id": "P2", "name": "Initech Sofware", "domain": "", "status": "prospect"},
        # review: a word added: 100 * 2 * 15 / 36 = 83.3, words differ.
        {"partner_id": "P2", "name": "Umbrella Health Group", "domain": "", "status": "open_opportunity"},
        # domain -> A4, which has no deal: our status prospect; P1's prospect too.
        {"partner_id": "P1", "name": "Umbrella", "domain": "umbrella.com", "status": "prospect"},
        # not ours.
        {"partner_id": "P2", "name": "Hooli", "domain": "hooli.com", "status": "customer"},
    ],
    "opportunities": [
        # A1: won and open -> our status customer. O1 is influenced by P1's touch T2 (attributed).
        {"opportunity_id": "O1", "account_id": "A1", "created_at": "2026-01-10", "amount": "1000.00",
         "currency": "USD", "stage": "Closed Won", "close_date": "2026-03-01"},
        # Open at P1's customer A1.
        {"opportunity_id": "O2", "account_id": "A1", "created_at": "2026-04-01", "amount": "2500.00",
         "currency": "USD", "stage": "Negotiation"},
        # A2: open only -> open_opportunity; at P1's customer A2.
        {"opportunity_id": "O3", "account_id": "A2", "created_at": "2026-05-01", "amount": "500.00",
         "currency": "EUR", "stage": "Discovery"},
        # A3: won, tier none (its partner touches are older than the lookback) -> unattributed win.
        {"opportunity_id": "O4", "account_id": "A3", "created_at": "2026-02-01", "amount": "700.00",
         "currency": "USD", "stage": "Closed Won", "close_date": "2026-03-15"},
    ],
    "deal_registrations": [
        # P2 registers A2 before O3 is created: protected 90 days (no expires_at) -> 2026-07-19.
        {"registration_id": "R1", "partner_id": "P2", "account_id": "A2", "registered_at": "2026-04-20",
         "status": "approved", "approved_at": "2026-04-21"},
    ],
    "touches": [
        # Inside O1's window (created 2026-01-10, closed 2026-03-01), after creation: influence.
        {"touch_id": "T2", "occurred_at": "2026-02-01", "account_id": "A1", "actor": "partner",
         "kind": "joint_call", "partner_id": "P1"},
        # On A3 long before O4's lookback (2026-02-01 - 180 days = 2025-08-05): not associated.
        {"touch_id": "T1", "occurred_at": "2025-01-01", "account_id": "A3", "actor": "partner",
         "kind": "referral", "partner_id": "P2"},
        # Only a contact: P1's (SPEC section 1); also outside the lookback.
        {"touch_id": "T3", "occurred_at": "2024-12-01", "account_id": "A3", "actor": "partner",
         "kind": "intro", "partner_contact_id": "PC1"},
        # After O4's close (2026-03-15): cannot have contributed to the win, never listed.
        {"touch_id": "T5", "occurred_at": "2026-04-01", "account_id": "A3", "actor": "partner",
         "kind": "referral", "partner_id": "P2"},
        # Not engagement: never listed.
        {"touch_id": "T4", "occurred_at": "2025-02-01", "account_id": "A3", "actor": "partner",
         "kind": "marketing_email_sent", "partner_id": "P2"},
    ],
}  # fmt: skip


def write(folder: Path, tables: dict[str, list[dict[str, str]]] = TABLES) -> Path:
    """The tables as canonical CSV files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        known = TABLES_BY_NAME[name].column_names
        columns = [c for c in known if any(c in r for r in rows)]
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(columns)
            out.writerows([r.get(c, "") for c in columns] for r in rows)
    return folder
