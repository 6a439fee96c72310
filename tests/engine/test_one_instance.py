"""Every workspace a process opens is attached to the process's one DuckDB instance.

What must still hold, as when each file had an instance of its own: each engine sees only its own
workspace's tables; the same file opened twice is one database, shared; a closed (or forgotten)
engine lets go of its file, so another process can take it; closing writes the last changes into
the file unless the file is thrown away next; spills go beside the workspace. The other process
is real (DuckDB in a child process), as in tests/store/test_workspace_lock.py.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from cosell.engine import open_engine
from cosell.errors import CosellError
from cosell.store.workspace import open_workspace

# Opens the file read-write in another process (which fails while this one holds it), then counts
# the rows of table t.
TAKE = textwrap.dedent(
    """
    import sys, _duckdb
    con = _duckdb.connect(sys.argv[1])
    print(con.execute("SELECT count(*) FROM t").fetchall()[0][0])
    """
)


def taken_by_another_process(path: Path) -> str:
    done = subprocess.run([sys.executable, "-c", TAKE, str(path)], capture_output=True, text=True, timeout=60)
    return done.stdout.strip() if done.returncode == 0 else "refused: " + done.stderr.strip().splitlines()[-1]


def test_two_workspaces_in_one_process_each_see_only_their_own_tables(tmp_path: Path) -> None:
    first = open_workspace(tmp_path / "first.duckdb")
    second = open_workspace(tmp_path / "second.duckdb")
    try:
        first.con.execute("CREATE TABLE only_in_first (x INTEGER)")
        second.con.execute("CREATE TABLE only_in_second (y VARCHAR)")
        assert first.con.columns(["only_in_first", "only_in_second", "accounts"])[0] == (
            "accounts",
            "account_id",
            "VARCHAR",
        )
        seen_first = {t for t, _, _ in first.con.columns(["only_in_first", "only_in_second"])}
        seen_second = {t for t, _, _ in second.con.columns(["only_in_first", "only_in_second"])}
        assert (seen_first, seen_second) == ({"only_in_first"}, {"only_in_second"})
        with first.con.transaction():  # the catalog's way, read in a transaction
            assert {t for t, _, _ in first.con.columns(["only_in_first", "only_in_second"])} == seen_first
    finally:
        first.close()
        second.close()


def test_the_same_file_opened_twice_is_one_database_let_go_when_both_close(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    writer = open_engine(str(path))
    reader = open_engine(str(path), read_only=True)  # served by the writer's database, as before
    writer.execute("CREATE TABLE t AS SELECT 1 AS x")
    assert reader.execute("SELECT x FROM t").fetchall() == [(1,)]
    writer.close()
    assert reader.execute("SELECT count(*) FROM t").fetchall() == [(1,)]  # still open for the reader
    refused = taken_by_another_process(path)
    assert refused.startswith("refused: ") and "Conflicting lock" in refused
    reader.close()
    assert taken_by_another_process(path) == "1"


def test_a_writer_after_a_reader_in_the_same_process_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    open_engine(str(path)).close()
    reader = open_engine(str(path), read_only=True)
    try:
        with pytest.raises(CosellError, match=r"w\.duckdb to write: this process has it open read-only"):
            open_engine(str(path))
    finally:
        reader.close()
    open_engine(str(path)).close()  # once the reader has closed


def test_an_engine_dropped_unclosed_lets_go_of_its_file(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    engine = open_engine(str(path))
    engine.execute("CREATE TABLE t AS SELECT * FROM range(3)")
    del engine
    gc.collect()
    assert taken_by_another_process(path) == "3"


@pytest.mark.parametrize("keep", [True, False])
def test_closing_writes_the_last_changes_into_the_file_unless_it_is_thrown_away(
    tmp_path: Path, keep: bool
) -> None:
    path = tmp_path / "w.duckdb"
    engine = open_engine(str(path))
    engine.execute("CREATE TABLE t AS SELECT * FROM range(5)")
    engine.close(keep=keep)
    wal = Path(str(path) + ".wal")
    assert wal.exists() is not keep
    assert taken_by_another_process(path) == "5"  # either way nothing committed is lost
    # A later file is checkpointed again: not keeping one changed nothing for the others.
    later = open_engine(str(tmp_path / "later.duckdb"))
    later.execute("CREATE TABLE t AS SELECT 1")
    later.close()
    assert not Path(str(tmp_path / "later.duckdb") + ".wal").exists()


def test_spills_go_beside_the_workspace_not_into_the_working_directory(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    engine = open_engine(str(path))
    try:
        (folder,) = engine.execute("SELECT current_setting('temp_directory')").fetchall()[0]
    finally:
        engine.close()
    assert folder == str(path.resolve()) + ".tmp"


def test_in_memory_engines_are_each_their_own_database() -> None:
    one, two = open_engine(":memory:"), open_engine(":memory:")
    try:
        one.execute("CREATE TABLE t AS SELECT 1 AS x")
        assert two.columns(["t"]) == []
        two.execute("CREATE TABLE t AS SELECT 'two' AS x")
        assert (one.execute("SELECT x FROM t").fetchall(), two.execute("SELECT x FROM t").fetchall()) == (
            [(1,)],
            [("two",)],
        )
    finally:
        one.close()
        two.close()


def test_threads_open_and_close_workspaces_side_by_side(tmp_path: Path) -> None:
    """A service opens workspaces on several threads at once: each sees its own rows, and every
    file is let go at the end."""
    shared = tmp_path / "shared.duckdb"
    made = open_engine(str(shared))
    made.execute("CREATE TABLE t AS SELECT * FROM range(7)")
    made.close()

    def work(n: int) -> list[int]:
        seen = []
        for i in range(15):
            own = open_engine(str(tmp_path / f"own-{n}.duckdb"))
            reader = open_engine(str(shared), read_only=True)
            try:
                own.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
                own.execute("INSERT INTO t VALUES (?)", [n * 100 + i])
                seen.append(int(own.execute("SELECT count(*) FROM t").fetchall()[0][0]))
                seen.append(int(reader.execute("SELECT count(*) FROM t").fetchall()[0][0]))
            finally:
                own.close()
                reader.close()
        return seen

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, range(4)))
    assert results == [[v for i in range(1, 16) for v in (i, 7)]] * 4
    assert taken_by_another_process(shared) == "7"
    assert [taken_by_another_process(tmp_path / f"own-{n}.duckdb") for n in range(4)] == ["15"] * 4
