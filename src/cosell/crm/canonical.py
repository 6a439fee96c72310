"""Canonical rows built from a CRM export, each remembering the file, row and column it came from.

The CRM importers do not validate or store anything themselves: they translate the export into
canonical CSV files (:meth:`Translation.write`) and hand that folder to the canonical import, the
one validated, all-or-nothing path. Its problems name a canonical file (``opportunities.csv row
12, amount``); :meth:`Translation.locate` turns each back into the export's own place
(``Opportunity.csv row 7, Amount``), so a person fixes the file they have.
"""

from __future__ import annotations

import csv
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from cosell.errors import Problem
from cosell.store.schema import TABLES, TABLES_BY_NAME

REQUIRED_TABLES = tuple(t.name for t in TABLES if not t.optional)
# Tables no CRM object holds (a PRM's registrations, finance's costs, a partner's account list):
# an export may carry them as canonical CSV files beside the CRM's own, read as they are.
BESIDE = ("partner_accounts", "deal_registrations", "program_costs", "direct_costs")


@dataclass(frozen=True)
class Skipped:
    """Rows of an export file left out on purpose, with why (reported, never silent)."""

    file: str
    count: int
    reason: str
    first_row: int

    def __str__(self) -> str:
        rows = f"{self.count:,} rows from row {self.first_row}" if self.count > 1 else f"row {self.first_row}"
        return f"{self.file} {rows}: {self.reason}"


class _Rows:
    def __init__(self, table: str) -> None:
        self.columns = TABLES_BY_NAME[table].column_names
        self.rows: list[tuple[str, ...]] = []
        self.files = array("H")
        self.lines = array("L")


class Translation:
    """Canonical rows by table, their origins, the problems found while translating, and skips."""

    def __init__(self) -> None:
        self._tables: dict[str, _Rows] = {}
        self._files: list[str] = []
        self._file_index: dict[str, int] = {}
        self._columns: dict[tuple[str, str], dict[str, str]] = {}
        self.problems: list[Problem] = []
        self._skipped: dict[tuple[str, str], list[int]] = {}
        self.beside: dict[str, bytes] = {}  # canonical table -> its file's bytes, read as they are

    def _file(self, name: str) -> int:
        if name not in self._file_index:
            self._file_index[name] = len(self._files)
            self._files.append(name)
        return self._file_index[name]

    def columns(self, table: str, file: str, columns: Mapping[str, str | None]) -> None:
        """Declare which column of ``file`` each canonical column of ``table`` comes from."""
        known = self._columns.setdefault((table, file), {})
        known.update({k: v for k, v in columns.items() if v})

    def add(self, table: str, values: Mapping[str, str], file: str, row: int) -> None:
        """Add one canonical row (missing columns are empty) made from ``file`` row ``row``."""
        rows = self._tables.get(table)
        if rows is None:
            rows = self._tables[table] = _Rows(table)
        rows.rows.append(tuple(values.get(c, "") for c in rows.columns))
        rows.files.append(self._file(file))
        rows.lines.append(row)

    def add_row(self, table: str, values: tuple[str, ...], file: str, row: int) -> None:
        """Add one canonical row given in the table's column order (the fast form of :meth:`add`)."""
        rows = self._tables.get(table)
        if rows is None:
            rows = self._tables[table] = _Rows(table)
        rows.rows.append(values)
        rows.files.append(self._file(file))
        rows.lines.append(row)

    def problem(self, file: str, row: int | None, column: str | None, value: str | None, reason: str) -> None:
        self.problems.append(Problem(file, row, column, value, reason))

    def skip(self, file: str, row: int, reason: str) -> None:
        """Leave ``file`` row ``row`` out for ``reason`` (counted in the import's report)."""
        self._skipped.setdefault((file, reason), []).append(row)

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        return tuple(
            Skipped(file, len(rows), reason, min(rows))
            for (file, reason), rows in sorted(self._skipped.items())
        )

    def sources(self, table: str) -> str:
        """The export files a table's rows came from, in first-use order (``Task.csv+Event.csv``)."""
        rows = self._tables.get(table)
        if rows is None:
            return ""
        return "+".join(self._files[i] for i in dict.fromkeys(rows.files))

    def count(self, table: str) -> int:
        rows = self._tables.get(table)
        return len(rows.rows) if rows else 0

    def rows(self, table: str) -> Iterable[tuple[str, ...]]:
        rows = self._tables.get(table)
        return rows.rows if rows else ()

    @property
    def translated_tables(self) -> frozenset[str]:
        """The tables :meth:`write` writes from the export's own files (not those beside it)."""
        return frozenset(t.name for t in TABLES if t.name not in self.beside)

    def write(self, folder: Path) -> None:
        """Write every table with rows, and the required ones even when empty, as canonical CSV."""
        for name, data in self.beside.items():
            (folder / f"{name}.csv").write_bytes(data)
        for table in TABLES:
            rows = self._tables.get(table.name)
            if table.name in self.beside:
                continue
            if rows is None and table.name not in REQUIRED_TABLES:
                continue
            with open(folder / f"{table.name}.csv", "w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(table.column_names)
                if rows is not None:
                    writer.writerows(rows.rows)

    def locate(self, problem: Problem) -> Problem:
        """A canonical file's problem at the export's own file, row and column (when it has one)."""
        table = problem.file.removesuffix(".csv")
        rows = self._tables.get(table)
        if rows is None or problem.row is None or not 2 <= problem.row < len(rows.rows) + 2:
            return problem  # a file beside the export, or a whole-table problem: as the import says
        index = problem.row - 2
        file = self._files[rows.files[index]]
        column = self.column_in(table, file, problem.column)
        return replace(problem, file=file, row=int(rows.lines[index]), column=column)

    def column_in(self, table: str, file: str, column: str | None) -> str | None:
        """The column of export ``file`` that canonical ``table``'s ``column`` comes from."""
        if column is None:
            return None
        return self._columns.get((table, file), {}).get(column, f"{column} (cosell's {table})")

    def locate_row(self, file: str, row: int, column: str | None) -> tuple[str, int, str | None]:
        """(file, row, column) of a canonical location, for warnings that count rows."""
        mapped = self.locate(Problem(file, row, column, None, ""))
        return mapped.file, mapped.row or row, mapped.column
