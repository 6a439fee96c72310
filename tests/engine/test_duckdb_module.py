"""The engine runs on DuckDB's compiled module (``_duckdb``), which the duckdb package re-exports,
and imports the package only for relations and Arrow scans (cosell.engine.duckdb_engine). These
tests hold the two together: if a DuckDB release stops re-exporting the same objects, or a
connection of the compiled module cannot fetch or scan Arrow data through the engine, they fail.
"""

from __future__ import annotations

import _duckdb
import duckdb
import pyarrow as pa

from cosell.engine import memory_engine
from cosell.engine.duckdb_engine import software_version

# Every name of the compiled module that cosell.engine.duckdb_engine uses.
USED = (
    "connect",
    "DuckDBPyConnection",
    "Error",
    "CatalogException",
    "ConnectionException",
    "ConstraintException",
    "InvalidInputException",
    "IOException",
)


def test_the_package_re_exports_the_compiled_module() -> None:
    assert {name: getattr(duckdb, name) is getattr(_duckdb, name) for name in USED} == {
        name: True for name in USED
    }
    assert software_version() == duckdb.__duckdb_version__


def test_an_engine_on_the_compiled_module_fetches_and_scans_arrow() -> None:
    engine = memory_engine()
    assert type(engine.con) is _duckdb.DuckDBPyConnection
    engine.register("numbers", pa.table({"n": [3, 1, 2]}))
    fetched = engine.fetch_arrow("SELECT n * 2 AS twice FROM numbers ORDER BY n")
    assert fetched.column("twice").to_pylist() == [2, 4, 6]
    assert engine.execute("SELECT sum(n) FROM numbers").fetchall() == [(6,)]
