"""The append-only pay ledger and payout runs."""

from __future__ import annotations

import duckdb


def migration_ledger(con: duckdb.DuckDBPyConnection) -> None:
    """Schema step (placeholder until its capability lands)."""
