"""The first import into a new workspace (cosell.data.fast_load.import_first) against the canonical
import: the same rows with the same version hashes, the same report, intake and import log when
the data is good; the canonical import's own problems, and nothing applied, when it is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from import_fixtures import dataset
from test_import_fast import CHANGES

from cosell.data import fast_load, import_warnings, load, typed_rows
from cosell.data.demo import generate_dataset
from cosell.data.load import import_canonical, import_time
from cosell.data.read import TableFile, csv_relation, find_table_files
from cosell.errors import CosellError, ImportFailed
from cosell.hygiene.intake import import_with_intake
from cosell.policy import Policy
from cosell.store.schema import TABLES_BY_NAME
from cosell.store.workspace import open_workspace

AT = import_time()


def everything(con: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored table's rows (the canonical tables, the import log, auto-tags, prompts...)
    but the migrations' log (dated when the workspace was opened); a canonical table's rows with
    their hash as a later import compares it (computed from the values when not stored)."""
    names = [
        str(r[0])
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND database_name = current_database() "
            "AND table_name <> 'schema_migrations' ORDER BY table_name"
        ).fetchall()
    ]
    return {
        name: con.execute(f"SELECT {_columns(name)} FROM {name} ORDER BY ALL").fetchall() for name in names
    }


def _columns(name: str) -> str:
    if name not in TABLES_BY_NAME:
        return "*"
    return f"* REPLACE ({typed_rows.stored_row_hash(TABLES_BY_NAME[name])} AS _row_hash)"


def stored_hashes(path: Path, table: str) -> set[str]:
    ws = open_workspace(path)
    try:
        return {str(r[0]) for r in ws.con.execute(f"SELECT DISTINCT _row_hash FROM {table}").fetchall()}
    finally:
        ws.close()


def leftovers(con: Any) -> list[tuple[Any, ...]]:
    """Temporary tables and views an import left on the connection."""
    return con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary UNION ALL "
        "SELECT view_name FROM duckdb_views() WHERE temporary AND NOT internal ORDER BY 1"
    ).fetchall()


def outcome(
    folder: Path, path: Path, monkeypatch: pytest.MonkeyPatch, *, one_pass: bool
) -> tuple[Any, dict[str, list[tuple[Any, ...]]], int]:
    """Import ``folder`` with its intake into a new workspace at ``path``, with or without the one
    pass: (report and intake, or the error text; every table; times the files were staged as text)."""
    staged: list[int] = []
    stage_all = load._stage_all

    def counting(*args: Any, **kwargs: Any) -> Any:
        staged.append(1)
        return stage_all(*args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(load, "_stage_all", counting)
        if not one_pass:
            m.setattr(fast_load, "import_first", lambda *_, **__: None)
        ws = open_workspace(path)
        try:
            try:
                result: Any = import_with_intake(ws, folder, Policy(), now=AT, by_user="t")
            except ImportFailed as failed:
                result = str(failed)
            assert leftovers(ws.con) == []
            return result, everything(ws.con), len(staged)
        finally:
            ws.close()


def test_a_first_import_is_the_canonical_import_in_one_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "data"
    generate_dataset(folder, size=150, seed=3)
    expected, expected_rows, canonical_staged = outcome(
        folder, tmp_path / "a.duckdb", monkeypatch, one_pass=False
    )
    result, rows, staged = outcome(folder, tmp_path / "b.duckdb", monkeypatch, one_pass=True)
    assert (canonical_staged, staged) == (1, 0)  # the one pass was taken, and only it
    report, intake = result
    assert report.warning_count > 0 and intake.prompted > 0  # warnings and an intake to compare
    assert result == expected
    assert rows == expected_rows
    # The canonical import stored each row's md5; the one pass left it to be computed from the
    # stored values, and that gives the same hashes (compared above).
    assert typed_rows.UNHASHED not in stored_hashes(tmp_path / "a.duckdb", "touches")
    assert stored_hashes(tmp_path / "b.duckdb", "touches") == {typed_rows.UNHASHED}
    assert rows["touches"] and all(len(str(r[-4])) == 32 for r in rows["touches"])


def test_importing_the_same_data_again_changes_nothing(tmp_path: Path) -> None:
    """The one pass stores the canonical row hashes: a second (canonical) import finds every row
    unchanged."""
    folder = dataset(tmp_path / "data")
    ws = open_workspace(tmp_path / "ws.duckdb")
    try:
        first = import_canonical(ws, folder, now=AT, by_user="t")
        again = import_canonical(ws, folder, now=AT, by_user="t")
    finally:
        ws.close()
    assert all(t.inserted == t.read and t.unchanged == 0 for t in first.tables)
    assert all((t.inserted, t.updated, t.unchanged) == (0, 0, t.read) for t in again.tables)


@pytest.mark.parametrize(
    "change",
    [
        "bad money",
        "bad instant",
        "duplicate key",
        "dangling reference",
        "closed deal without close time",
        "missing required table",
        "flag disagreeing with the stage (a warning quoting the raw cell)",
        "unknown columns (kept as extra)",
    ],
)
def test_data_with_problems_gets_the_canonical_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    folder = dataset(tmp_path / "data", **CHANGES[change]())
    expected = outcome(folder, tmp_path / "a.duckdb", monkeypatch, one_pass=False)[:2]
    assert outcome(folder, tmp_path / "b.duckdb", monkeypatch, one_pass=True)[:2] == expected


def test_a_failing_intake_leaves_nothing_applied(tmp_path: Path) -> None:
    def failing(_at: Any) -> None:
        raise CosellError("the intake failed")

    ws = open_workspace(tmp_path / "ws.duckdb")
    try:
        before = everything(ws.con)
        with pytest.raises(CosellError, match="the intake failed"):
            import_canonical(ws, dataset(tmp_path / "data"), now=AT, within=failing)
        assert everything(ws.con) == before
        assert leftovers(ws.con) == []
    finally:
        ws.close()


class _FilePlaces:
    """The places of a CSV file's rows: each touch id and its record's index (from 0)."""

    def __init__(self, path: Path) -> None:
        self.numbered = f"(SELECT row_number() OVER () - 1 AS n, * FROM {csv_relation(_csv(path), _HEADER)})"
        self.size = len(path.read_text(encoding="utf-8").splitlines()) - 1
        self.read: list[int | None] = []  # the ``first`` of each relation asked for

    def relation(self, first: int | None = None) -> str:
        self.read.append(first)
        numbered = self.numbered if first is None else f"(SELECT * FROM {self.numbered} LIMIT {first})"
        return f"SELECT c0 AS key, n AS place FROM {numbered}"

    def row(self, place: int) -> int:
        return place + 2


_HEADER = TABLES_BY_NAME["touches"].column_names


def _csv(path: Path) -> TableFile:
    return TableFile("touches", path, "csv")


@pytest.mark.parametrize("first_records", [import_warnings.FIRST_RECORDS, 1, 4])
def test_a_file_read_in_any_order_places_its_warnings_first_rows_as_its_file_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first_records: int
) -> None:
    """A translated file read on every thread comes in in any order: here the touches backwards.
    Its warnings' first rows are found from its rows' places, and are the file's own; its first
    records are read first, more and more of them until every warned kind has one (or all)."""
    monkeypatch.setattr(import_warnings, "FIRST_RECORDS", first_records)
    folder = tmp_path / "data"
    generate_dataset(folder, size=150, seed=3)
    path = folder / "touches.csv"
    assert tuple(path.read_text(encoding="utf-8").splitlines()[0].split(",")) == _HEADER
    places = _FilePlaces(path)
    every = ", ".join(f"c{i}" for i in range(len(_HEADER)))
    backwards = f"(SELECT {every} FROM {places.numbered} ORDER BY n DESC)"
    reports = []
    for files in (
        None,
        {"touches": TableFile("touches", path, "relation", backwards, _HEADER, places=places)},
    ):
        ws = open_workspace(tmp_path / f"{len(reports)}.duckdb")
        try:
            found, _ = find_table_files(folder)
            report = fast_load.import_first(ws, {**found, **(files or {})}, Policy(), AT, source_name="t")
            assert report is not None
            stored = [
                str(r[0]) for r in ws.con.execute("SELECT touch_id FROM touches ORDER BY rowid").fetchall()
            ]
            reports.append((report.warnings, stored))
        finally:
            ws.close()
    (in_order, order), (any_order, reversed_order) = reports
    assert order == reversed_order[::-1] and order != reversed_order, "stored backwards"
    touches = [w for w in in_order if w.file == "touches.csv"]
    assert touches and any(w.first_row > 2 for w in touches), "warnings on touches, not all on row 2"
    assert any_order == in_order
    if first_records == 1:  # (the last warned kind's first touch is row 1001)
        assert places.read == [1, 16, 256, None], "more and more, then every record"
    elif first_records == 4:
        assert places.read == [4, 64, 1024], "stopped once every warned group had a place"
    else:
        assert places.read == [None], "a small file is read whole at once"
