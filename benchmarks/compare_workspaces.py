"""Whether two workspaces hold the same rows: every table's rows compared as a multiset.

A change to an import must leave what it stores as it was; the rows' stored order may differ (the
touches are inserted on every thread), their contents may not. Each table of either workspace is
compared both ways with ``EXCEPT ALL`` (a row twice in one and once in the other differs).

Reproduce: ``.venv/bin/python benchmarks/compare_workspaces.py A.duckdb B.duckdb`` (exit status 1
when any table differs); both files are opened read-only.
"""

from __future__ import annotations

import argparse
import sys

import duckdb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a")
    parser.add_argument("b")
    args = parser.parse_args()
    con = duckdb.connect(":memory:")
    for name, path in (("a", args.a), ("b", args.b)):
        con.execute(f"ATTACH '{path.replace(chr(39), chr(39) * 2)}' AS {name} (READ_ONLY)")
    tables: dict[str, set[tuple[str, str]]] = {}
    for name in ("a", "b"):
        rows = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ?", [name]
        ).fetchall()
        tables[name] = {(str(s), str(t)) for s, t in rows}
    differ = 0
    for schema, table in sorted(tables["a"] ^ tables["b"]):
        print(f"{schema}.{table}: in one workspace only")
        differ += 1
    for schema, table in sorted(tables["a"] & tables["b"]):
        count = int(con.execute(f'SELECT count(*) FROM a."{schema}"."{table}"').fetchall()[0][0])
        in_a, in_b = _only(con, "a", "b", schema, table), _only(con, "b", "a", schema, table)
        differ += bool(in_a or in_b)
        print(f"{schema}.{table}: {count:,} rows; only in the first {in_a:,}, only in the second {in_b:,}")
    print(f"{differ} tables differ" if differ else "the same rows in every table")
    return 1 if differ else 0


def _only(con: duckdb.DuckDBPyConnection, x: str, y: str, schema: str, table: str) -> int:
    """How many of ``x``'s rows of the table ``y`` does not hold (counted as a multiset)."""
    found = con.execute(
        f'SELECT count(*) FROM (SELECT * FROM {x}."{schema}"."{table}" '
        f'EXCEPT ALL SELECT * FROM {y}."{schema}"."{table}")'
    ).fetchall()
    return int(found[0][0])


if __name__ == "__main__":
    sys.exit(main())
