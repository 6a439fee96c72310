"""Ledger entries as stored: the values the pay ledger's arithmetic (:mod:`cosell.pay.ledger`)
and the ledger's table (:mod:`cosell.store.ledger`) both speak.

Every payout and commission is an entry in an append-only ledger (SPEC section 6): an earning, its
reversal (not yet paid) or clawback (paid), or a payment. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

__all__ = [
    "EARNING_KINDS",
    "ENTRY_KINDS",
    "PARTY_KINDS",
    "PAYMENT",
    "REVERSING_KINDS",
    "Entry",
    "LineKey",
    "Party",
]

EARNING_KINDS = ("partner_payout", "rep_commission", "bonus")
REVERSING_KINDS = ("reversal", "clawback")
PAYMENT = "payment"
ENTRY_KINDS = (*EARNING_KINDS, *REVERSING_KINDS, PAYMENT)
PARTY_KINDS = ("partner", "rep")

Party = tuple[str, str]  # (party_kind, party_id)
# (opportunity_id, party_kind, party_id, rule_id, earning kind)
LineKey = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class Entry:
    """One ledger entry, exactly as stored (``ledger_entries``)."""

    entry_id: str
    idempotency_key: str
    posted_at: datetime  # the instant the entry is dated: always inside its period
    recorded_at: datetime  # when it was written (later than posted_at when a period is posted late)
    period: str
    posting_id: int
    party_kind: str
    party_id: str
    opportunity_id: str | None
    kind: str
    rule_id: str | None
    plan_version: str | None
    attribution_run_id: int | None
    amount: Decimal
    currency: str
    basis: str
    reverses: str | None
    payout_run_id: str | None
    by_user: str
    reason: str

    @property
    def party(self) -> Party:
        return (self.party_kind, self.party_id)
