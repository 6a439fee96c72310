"""Reconciliation findings, their decisions, and disputes."""

from __future__ import annotations

import duckdb


def migration_review(con: duckdb.DuckDBPyConnection) -> None:
    """Schema step (placeholder until its capability lands)."""
