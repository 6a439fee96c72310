"""The session settings a module of cosell asks the engine for, recorded as it asks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from cosell.engine import settings


def recorded_settings(monkeypatch: pytest.MonkeyPatch, module: Any) -> list[dict[str, str]]:
    """Every ``settings(con, values)`` that ``module`` calls from now on, its values in order (the
    settings are still applied: the module runs as it would)."""
    asked: list[dict[str, str]] = []

    def record(con: Any, values: Mapping[str, str]) -> Any:
        asked.append(dict(values))
        return settings(con, values)

    monkeypatch.setattr(module, "settings", record)
    return asked


def threads_of(con: Any) -> int:
    """The DuckDB threads a connection runs on now (its instance's)."""
    return int(con.execute("SELECT current_setting('threads')").fetchone()[0])


def default_threads() -> int:
    """DuckDB's own default number of threads, read from an instance of its own."""
    import duckdb

    con = duckdb.connect()
    try:
        return threads_of(con)
    finally:
        con.close()
