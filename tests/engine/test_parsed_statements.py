"""A statement text the process has run before is executed from its parsed form (the engine's
parse cache): what it does must not change. The same text with other parameters, on another
connection or in several threads at once, gives its own result; a text of several statements runs
them all; a text that does not parse is refused as before; the cache keeps the texts used last."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from cosell.engine import EngineError, open_engine
from cosell.engine.duckdb_engine import _PARSED, _ParsedStatements


def test_a_text_run_again_gives_the_result_of_its_own_parameters_and_tables() -> None:
    one, other = open_engine(":memory:"), open_engine(":memory:")
    try:
        one.execute("CREATE TABLE t AS SELECT range AS n FROM range(10)")
        other.execute("CREATE TABLE t AS SELECT range * 100 AS n FROM range(3)")
        query = "SELECT count(*), sum(n) FROM t WHERE n >= ?"
        assert one.execute(query, [4]).fetchall() == [(6, 39)]
        assert one.execute(query, [8]).fetchall() == [(2, 17)]
        # Names are resolved when the statement runs, on the connection that runs it.
        assert other.execute(query, [100]).fetchall() == [(2, 300)]
        one.execute("DROP TABLE t")
        one.execute("CREATE TABLE t AS SELECT 7 AS n")
        assert one.execute(query, [0]).fetchall() == [(1, 7)]
    finally:
        one.close()
        other.close()


def test_a_text_of_several_statements_runs_them_all() -> None:
    con = open_engine(":memory:")
    try:
        for _ in range(2):
            con.execute("CREATE OR REPLACE TABLE a (x INTEGER); CREATE OR REPLACE TABLE b AS SELECT 2 AS y")
        assert con.execute("SELECT (SELECT count(*) FROM a), (SELECT y FROM b)").fetchall() == [(0, 2)]
    finally:
        con.close()


@pytest.mark.parametrize("text", ["SELEC 1", "SELECT * FROM no_such_table"])
def test_a_text_that_does_not_run_is_refused_each_time(text: str) -> None:
    con = open_engine(":memory:")
    try:
        for _ in range(2):
            with pytest.raises(EngineError):
                con.execute(text)
    finally:
        con.close()


def test_threads_run_the_same_text_side_by_side() -> None:
    query = "SELECT sum(range) FROM range(?)"

    def run(n: int) -> int:
        con = open_engine(":memory:")
        try:
            return int(con.execute(query, [n]).fetchall()[0][0])
        finally:
            con.close()

    sizes = [1000 + i for i in range(64)]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(run, sizes)) == [n * (n - 1) // 2 for n in sizes]
    assert query in _PARSED._parsed


def test_the_cache_keeps_the_texts_used_last_within_its_size() -> None:
    cache = _ParsedStatements()
    cache.TEXT_BYTES = 1000
    con = open_engine(":memory:")
    try:
        texts = [f"SELECT {i:08d} AS n" for i in range(60)]  # 20 characters each
        for text in texts[:50]:
            cache.statement(con.con, text)
        assert list(cache._parsed) == texts[:50]  # 1,000 characters: all kept
        cache.statement(con.con, texts[0])  # used again: kept
        cache.statement(con.con, texts[50])  # one more: the oldest goes
        assert list(cache._parsed) == [*texts[2:50], texts[0], texts[50]]
        assert cache._bytes == sum(len(t) for t in cache._parsed) <= cache.TEXT_BYTES
        cache.statement(con.con, "SELECT '" + "x" * 2000 + "'")  # larger than it all: not kept
        assert not cache._parsed and cache._bytes == 0
        # What it keeps runs as the text does.
        assert con.con.execute(cache.statement(con.con, texts[7])).fetchall() == [(7,)]
        assert cache.statement(con.con, "SELECT 1; SELECT 2") == "SELECT 1; SELECT 2"
    finally:
        con.close()
