"""The engine boundary (:mod:`cosell.engine.base`) and its implementations.

Everything outside this package reaches data through :class:`Engine`; only
:mod:`cosell.engine.duckdb_engine` imports ``duckdb``. See docs/engine.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cosell.engine.base import (
    DIALECTS,
    DUCKDB,
    POSTGRES,
    SPARK,
    ConstraintViolation,
    Cursor,
    Dialect,
    Engine,
    EngineError,
    EngineIOError,
    Params,
    ReadOnlyViolation,
    apply_settings,
    count_of,
    fit_settings,
    rows_as_dicts,
    settings,
)

__all__ = [
    "DIALECTS",
    "DUCKDB",
    "POSTGRES",
    "SPARK",
    "ConstraintViolation",
    "Cursor",
    "Dialect",
    "Engine",
    "EngineError",
    "EngineIOError",
    "Params",
    "ReadOnlyViolation",
    "apply_settings",
    "count_of",
    "engine_version",
    "fit_settings",
    "memory_engine",
    "open_engine",
    "rows_as_dicts",
    "settings",
]


def open_engine(
    path: str,
    *,
    read_only: bool = False,
    on_wait: Callable[[Any, float], None] | None = None,
    scratch: bool = False,
) -> Engine:
    """The engine over a workspace: a DuckDB file, or ``:memory:``. ``scratch``: a file of this
    process's own, written once in bulk and thrown away (a ``--data`` run's), stored the way that
    is quickest to write."""
    from cosell.engine.duckdb_engine import open_duckdb

    return open_duckdb(path, read_only=read_only, on_wait=on_wait, scratch=scratch)


def engine_version() -> str:
    """The version of the software :func:`open_engine` runs (its engines' ``version``), known
    without opening one: a file written by one version is kept for that version."""
    from cosell.engine.duckdb_engine import software_version

    return software_version()


def memory_engine() -> Engine:
    """A fresh in-memory engine (a ``--data`` run, a scratch computation)."""
    from cosell.engine.duckdb_engine import memory_engine as make

    return make()
