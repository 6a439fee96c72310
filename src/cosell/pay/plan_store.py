"""Compensation plan versions known to the workspace."""

from __future__ import annotations

import duckdb


def migration_plans(con: duckdb.DuckDBPyConnection) -> None:
    """Schema step (placeholder until its capability lands)."""
