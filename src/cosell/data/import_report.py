"""What an import reports: per table, what it did; the warnings it collected; who ran it.

Shared by the canonical import (:mod:`cosell.data.load`) and its one-pass form into a new
workspace (:mod:`cosell.data.fast_load`).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cosell.data.validate import WARNINGS
from cosell.engine import Engine
from cosell.engine.sql import lit
from cosell.errors import Problem, quoted
from cosell.reasons import given_or_ran
from cosell.store.schema import TABLES


@dataclass(frozen=True)
class TableCounts:
    """What an import did to one table. ``replaced``: cost rows without cost_id closed by period."""

    table: str
    file: str
    read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    replaced: int = 0


@dataclass(frozen=True)
class ImportWarning:
    """``count`` rows of ``file`` share this warning; ``first_row`` is the first of them."""

    file: str
    column: str
    value: str | None
    reason: str
    count: int
    first_row: int

    def __str__(self) -> str:
        value = f"{quoted(self.value)} " if self.value is not None else ""
        rows = f"{self.count:,} rows from row {self.first_row}" if self.count > 1 else f"row {self.first_row}"
        return f"{self.file} {rows}, {self.column}: {value}{self.reason}"


@dataclass(frozen=True)
class ImportReport:
    """The outcome of one import; ``problems`` lists the first rejected rows' problems (rejects mode)."""

    import_id: int
    imported_at: datetime
    source: str
    tables: tuple[TableCounts, ...]
    warnings: tuple[ImportWarning, ...]
    warning_count: int
    problems: tuple[Problem, ...] = ()
    problem_count: int = 0
    rejects_file: str | None = None
    reason: str = ""  # why it was recorded: the reason given, else what was run

    @property
    def accepted(self) -> int:
        """Rows read and not rejected (inserted, updated or unchanged)."""
        return sum(t.read - t.rejected for t in self.tables)

    @property
    def rejected(self) -> int:
        return sum(t.rejected for t in self.tables)


def import_reason(
    reason: str | None,
    source: str | None,
    folder: Path,
    rejects: str | os.PathLike[str] | None = None,
) -> str:
    """Why an import is recorded (:func:`cosell.reasons.given_or_ran`): the reason given, else what
    was run: ``source`` when the caller names it (``salesforce PATH``; a CRM import and ``users
    set`` give their own reason), else ``cosell import canonical FOLDER [--rejects FILE]``."""
    ran = f"cosell import canonical {folder.resolve()}"
    if rejects is not None:
        ran += f" --rejects {Path(rejects).resolve()}"
    return given_or_ran(reason, source or ran)


def import_user() -> str:
    """Who runs the import: ``$COSELL_USER``, else the login name (recorded with it)."""
    try:
        return os.environ.get("COSELL_USER") or getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no user database in some containers
        return "unknown"


def table_order_sql() -> str:
    """A SQL expression of ``tbl``: the table's place in the schema (problems and warnings are listed
    table by table, in that order)."""
    return "CASE tbl " + " ".join(f"WHEN {lit(t.name)} THEN {i}" for i, t in enumerate(TABLES)) + " END"


def collected_warnings(con: Engine, limit: int) -> tuple[list[ImportWarning], int]:
    """The first ``limit`` warnings of the import (table by table, then by first row) and how many
    rows were warned in all."""
    counted = con.execute(f"SELECT coalesce(sum(n), 0) FROM {WARNINGS}").fetchone()
    total = int(counted[0]) if counted else 0
    rows = con.execute(
        f"SELECT file, col, val, reason, n, first_row FROM {WARNINGS} "
        f"ORDER BY {table_order_sql()}, first_row, col, reason LIMIT {int(limit)}"
    ).fetchall()
    return [
        ImportWarning(str(f), str(c), v, str(r), int(n), int(first)) for f, c, v, r, n, first in rows
    ], total
