"""Write an engine run's attribution and credits tables to files (csv, parquet or json).

Columns are SPEC section 8's, in order, then the extras; rows are sorted by opportunity_id (and
partner_id), so the same input gives byte-identical files. In CSV an empty value is an empty cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from cosell.attribution.result import AttributionRow, CreditRow
from cosell.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from cosell.attribution.engine import EngineRun

FORMATS = ("csv", "parquet", "json")


def _copy_options(fmt: str) -> str:
    if fmt == "csv":
        return "FORMAT csv, HEADER true, DELIMITER ','"
    if fmt == "parquet":
        return "FORMAT parquet, COMPRESSION zstd"
    if fmt == "json":
        return "FORMAT json, ARRAY true"
    raise UsageError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def write_results(con: duckdb.DuckDBPyConnection, run: EngineRun, out: Path, fmt: str = "csv") -> list[Path]:
    """Write ``attribution.<fmt>`` and ``credits.<fmt>`` into ``out``; return the paths."""
    options = _copy_options(fmt)
    out.mkdir(parents=True, exist_ok=True)
    jobs = (
        ("attribution", run.attribution_table, AttributionRow.columns(), "opportunity_id"),
        ("credits", run.credits_table, CreditRow.columns(), "opportunity_id, partner_id"),
    )
    paths = []
    for name, table, columns, order in jobs:
        # In CSV an empty value is an empty cell (DuckDB would quote an empty string).
        blank_as_null = [f"nullif({c}, '') AS {c}" for c in columns]
        cols = ", ".join(blank_as_null if fmt == "csv" else columns)
        path = out / f"{name}.{fmt}"
        target = str(path).replace("'", "''")
        con.execute(f"COPY (SELECT {cols} FROM {table} ORDER BY {order}) TO '{target}' ({options})")
        paths.append(path)
    return paths
