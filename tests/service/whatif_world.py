"""A small company for the policy what-if, every figure computed by hand.

Partners: P1 (referral, gold), P2 (co_sell, silver). The plan (from 2026-01-01): referral partners
10% of the deals they source, co-sell partners 5% of their credit on any deal; reps 5% of a sourced
deal, 8% of an influenced or accelerated one, 10% of a direct one, partners paid on top.

- D1 (A1, USD 40,000.00, owner R1): created 2026-03-01, won 2026-04-15. P1's intro on A1 on
  2026-01-15 (45 days before creation) sources it (S3) with the 180-day lookback; with a 30-day
  lookback the intro is outside its window and D1 is none (direct).
  Pay: P1 10% = 4,000.00 -> 0; rep 5% = 2,000.00 -> 10% = 4,000.00.
- D2 (A2, USD 10,000.00, owner R2): created 2026-03-01, won 2026-05-01. P1 declared sourcer (S4,
  added at creation), P2 declared influencer with a joint call on D2. Role weights 50/15: P1
  7,692.31 (0.769231), P2 2,307.69; with the influencer at 30 (50/30): P1 6,250.00, P2 3,750.00.
  Pay: P1 769.23 -> 625.00; P2 5% = 115.38 -> 187.50; rep 5% = 500.00 both times.
- D3 (A3, USD 8,000.00): created 2026-03-01, won 2026-04-01, direct only: changes under neither.
- D4 (A4, EUR 5,000.00, owner R4): created 2026-02-10, open at T (stage Proposal, entered
  2026-03-01). P1's intro on A4 on 2025-12-01 (71 days before) sources it with 180 days, not with 30.
  Pipeline at February's rate 1.1 = 5,500.00 USD. Counted as won (Proposal a won stage), it closes
  at 2026-03-01: revenue at the 2026-Q1 rate 1.2 (March has no rate of its own) = 6,000.00; P1 10% of
  6,000.00 = 600.00, rep 5% = 300.00.

Evaluated as of T = 2026-06-30, with everything known then (rows recorded in 1970, the plan loaded
on 2025-12-31).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cosell.instants import parse_instant
from cosell.pay.plan_parse import parse_plan
from cosell.pay.plan_versions import add_plan_version
from cosell.policy import Policy
from cosell.store.workspace import Workspace, open_workspace

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "attribution"))
from engine_support import insert_rows

T = parse_instant("2026-06-30T00:00:00Z")
SHORTER_LOOKBACK = Policy().with_values(windows__sourcing_lookback_days=30, label="shorter-lookback")
MORE_INFLUENCE = Policy().with_values(credit__role_weights__influencer=30, label="more-influence")
BOTH = Policy().with_values(
    windows__sourcing_lookback_days=30, credit__role_weights__influencer=30, label="partner-team"
)
PROPOSAL_WON = Policy().with_values(stages__won=["Closed Won", "Proposal"], label="proposal-won")

PLAN = """
plan_id = "test-plan"
version = 1
effective_from = 2026-01-01
currency = "USD"

[rep_commission]
sourced = 5
influenced = 8
direct = 10
partner_pay = "on_top"

[[rules]]
id = "referral-sourced"
tier = "sourced"
partner_type = "referral"
role = "sourcer"
percent = 10

[[rules]]
id = "cosell-credit"
partner_type = "co_sell"
percent = 5
"""

TABLES = {
    "accounts": [{"account_id": a, "name": f"Account {a}"} for a in ("A1", "A2", "A3", "A4")],
    "partners": [
        {"partner_id": "P1", "name": "Partner One", "partner_type": "referral", "program_tier": "gold"},
        {"partner_id": "P2", "name": "Partner Two", "partner_type": "co_sell", "program_tier": "silver"},
    ],
    "opportunities": [
        {"opportunity_id": "D1", "account_id": "A1", "created_at": "2026-03-01T00:00:00Z",
         "amount": "40000.00", "currency": "USD", "stage": "Closed Won", "owner_id": "R1",
         "close_date": "2026-04-15T00:00:00Z", "partner_source": "none"},
        {"opportunity_id": "D2", "account_id": "A2", "created_at": "2026-03-01T00:00:00Z",
         "amount": "10000.00", "currency": "USD", "stage": "Closed Won", "owner_id": "R2",
         "close_date": "2026-05-01T00:00:00Z", "partner_source": "sourced"},
        {"opportunity_id": "D3", "account_id": "A3", "created_at": "2026-03-01T00:00:00Z",
         "amount": "8000.00", "currency": "USD", "stage": "Closed Won", "owner_id": "R3",
         "close_date": "2026-04-01T00:00:00Z", "partner_source": "none"},
        {"opportunity_id": "D4", "account_id": "A4", "created_at": "2026-02-10T00:00:00Z",
         "amount": "5000.00", "currency": "EUR", "stage": "Proposal", "owner_id": "R4"},
    ],
    "stage_history": [
        {"opportunity_id": "D1", "stage": "Prospecting", "entered_at": "2026-03-01T00:00:00Z"},
        {"opportunity_id": "D1", "stage": "Closed Won", "entered_at": "2026-04-15T00:00:00Z"},
        {"opportunity_id": "D2", "stage": "Prospecting", "entered_at": "2026-03-01T00:00:00Z"},
        {"opportunity_id": "D2", "stage": "Closed Won", "entered_at": "2026-05-01T00:00:00Z"},
        {"opportunity_id": "D3", "stage": "Prospecting", "entered_at": "2026-03-01T00:00:00Z"},
        {"opportunity_id": "D3", "stage": "Closed Won", "entered_at": "2026-04-01T00:00:00Z"},
        {"opportunity_id": "D4", "stage": "Prospecting", "entered_at": "2026-02-10T00:00:00Z"},
        {"opportunity_id": "D4", "stage": "Proposal", "entered_at": "2026-03-01T00:00:00Z"},
    ],
    "opportunity_partners": [
        {"opportunity_id": "D2", "partner_id": "P1", "role": "sourcer", "added_at": "2026-03-01T00:00:00Z"},
        {"opportunity_id": "D2", "partner_id": "P2", "role": "influencer", "added_at": "2026-03-05T00:00:00Z"},
    ],
    "touches": [
        {"touch_id": "T1", "occurred_at": "2026-01-15T00:00:00Z", "account_id": "A1", "actor": "partner",
         "kind": "intro", "partner_id": "P1"},
        {"touch_id": "T2", "occurred_at": "2026-03-10T00:00:00Z", "account_id": "A2", "actor": "partner",
         "kind": "joint_call", "opportunity_id": "D2", "partner_id": "P2"},
        {"touch_id": "T3", "occurred_at": "2026-02-20T00:00:00Z", "account_id": "A3", "actor": "direct",
         "kind": "outbound_call", "opportunity_id": "D3"},
        {"touch_id": "T4", "occurred_at": "2025-12-01T00:00:00Z", "account_id": "A4", "actor": "partner",
         "kind": "intro", "partner_id": "P1"},
    ],
    "fx_rates": [
        {"currency": "EUR", "period": "2026-02", "rate": "1.1"},
        {"currency": "EUR", "period": "2026-Q1", "rate": "1.2"},
        {"currency": "EUR", "period": "2026-Q2", "rate": "1.3"},
    ],
}  # fmt: skip


def small_world(
    path: str | Path = ":memory:", *, plan: bool = True, tables: Mapping[str, Any] | None = None
) -> Workspace:
    """The company above in a workspace (a file when ``path`` is given), with its plan loaded;
    ``tables`` replaces some of its tables."""
    ws = open_workspace(str(path))
    insert_rows(ws, {**TABLES, **(tables or {})})
    if plan:
        add_plan_version(
            ws.con, parse_plan(PLAN, "test-plan.toml"), "tester",
            now=parse_instant("2025-12-31T00:00:00Z"), workspace_currency="USD",
        )  # fmt: skip
    return ws
