"""Declarations (auto-tags, answered prompts) and influence prompts."""

from __future__ import annotations

import duckdb


def migration_intake(con: duckdb.DuckDBPyConnection) -> None:
    """Schema step (placeholder until its capability lands)."""
