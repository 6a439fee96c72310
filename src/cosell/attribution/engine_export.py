"""Write an engine run's attribution and credits tables to files (csv, parquet or json).

Columns are SPEC section 8's, in order, then the extras; rows are sorted by opportunity_id (and
partner_id), so the same input gives byte-identical files. In CSV an empty value is an empty cell,
and a text cell that starts like a formula (a partner id ``=HYPERLINK(...)`` from the CRM) is
escaped by :mod:`cosell.cells`; the number columns (days, shares, amounts) stay numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cosell.cells import safe_cell_sql
from cosell.engine import Engine
from cosell.errors import UsageError
from cosell.outfiles import copy_query, output_folder
from cosell.results import AttributionRow, CreditRow

if TYPE_CHECKING:  # pragma: no cover
    from cosell.attribution.engine import EngineRun

FORMATS = ("csv", "parquet", "json")
# Columns that hold numbers (as text): a plain number in them, negative included, is not escaped.
NUMBER_COLUMNS = frozenset(
    {
        "cycle_days",
        "baseline_days",
        "cycle_reduction_days",
        "remaining_days",
        "cohort_size",
        "share",
        "amount",
    }
)


def _copy_options(fmt: str) -> str:
    if fmt == "csv":
        return "FORMAT csv, HEADER true, DELIMITER ','"
    if fmt == "parquet":
        return "FORMAT parquet, COMPRESSION zstd"
    if fmt == "json":
        return "FORMAT json, ARRAY true"
    raise UsageError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def _csv_columns(con: Engine, table: str, columns: tuple[str, ...]) -> list[str]:
    """Each column for CSV: an empty value as an empty cell (DuckDB would quote an empty string),
    text escaped against formula injection, numbers (also numbers held as text) as they are."""
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall())
    out = []
    for c in columns:
        blank_as_null = f"nullif({c}, '')"
        if types[c] == "VARCHAR":
            blank_as_null = safe_cell_sql(blank_as_null, numeric=c in NUMBER_COLUMNS)
        out.append(f"{blank_as_null} AS {c}")
    return out


def write_results(con: Engine, run: EngineRun, out: Path, fmt: str = "csv") -> list[Path]:
    """Write ``attribution.<fmt>`` and ``credits.<fmt>`` into ``out``; return the paths."""
    options = _copy_options(fmt)
    output_folder(out)
    jobs = (
        ("attribution", run.attribution_table, AttributionRow.columns(), "opportunity_id"),
        ("credits", run.credits_table, CreditRow.columns(), "opportunity_id, partner_id"),
    )
    paths = []
    for name, table, columns, order in jobs:
        cols = ", ".join(_csv_columns(con, table, columns) if fmt == "csv" else columns)
        path = out / f"{name}.{fmt}"
        # Written whole: a failed copy leaves the previous file (or none), never a partial one.
        copy_query(con, f"SELECT {cols} FROM {table} ORDER BY {order}", path, options)
        paths.append(path)
    return paths
