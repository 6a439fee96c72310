"""The unversioned import of ``--data DIR`` runs: same validation and rows, no hashes or comparisons."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from import_fixtures import base_tables, dataset

from cosell.data.load import import_canonical, load_dataset
from cosell.data.typed_rows import UNHASHED
from cosell.errors import ImportFailed
from cosell.store.schema import TABLES
from cosell.store.workspace import open_workspace

T1 = datetime(2026, 5, 1, tzinfo=UTC)
T2 = datetime(2026, 6, 1, tzinfo=UTC)


def _current(con: object, table: str) -> list[tuple[object, ...]]:
    names = ", ".join(next(t for t in TABLES if t.name == table).column_names)
    return sorted(con.execute(f"SELECT {names}, extra FROM cur_{table}").fetchall(), key=repr)  # type: ignore[attr-defined]


def test_same_rows_and_counts_as_the_versioned_import(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    versioned, plain = open_workspace(":memory:"), open_workspace(":memory:")
    a = import_canonical(versioned, folder, now=T1)
    b = import_canonical(plain, folder, now=T1, versioned=False)
    assert a.tables == b.tables
    assert a.warnings == b.warnings and a.warning_count == b.warning_count
    for table in TABLES:
        assert _current(versioned.con, table.name) == _current(plain.con, table.name)
        hashes = plain.con.execute(
            f"SELECT DISTINCT _row_hash, _valid_from, _valid_to, _import_id FROM {table.name}"
        ).fetchall()
        assert hashes in ([], [(UNHASHED, T1, None, 1)])


def test_same_problems_and_nothing_applied(tmp_path: Path) -> None:
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[0]["amount"] = "12,50"
    opportunities[1]["opportunity_id"] = opportunities[0]["opportunity_id"]
    folder = dataset(tmp_path, opportunities=opportunities)
    errors = []
    for versioned in (True, False):
        ws = open_workspace(":memory:")
        with pytest.raises(ImportFailed) as failed:
            import_canonical(ws, folder, now=T1, versioned=versioned)
        errors.append(str(failed.value))
        assert all(n == 0 for n in ws.counts().values())
    assert errors[0] == errors[1]
    with pytest.raises(ImportFailed):
        load_dataset(folder)


def test_rejects_mode_keeps_the_good_rows(tmp_path: Path) -> None:
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[0]["amount"] = "not money"
    folder = dataset(tmp_path, opportunities=opportunities)
    versioned, plain = open_workspace(":memory:"), open_workspace(":memory:")
    a = import_canonical(versioned, folder, now=T1, rejects=tmp_path / "a.csv")
    b = import_canonical(plain, folder, now=T1, rejects=tmp_path / "b.csv", versioned=False)
    assert a.tables == b.tables and a.rejected == b.rejected > 0
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    for table in TABLES:
        assert _current(versioned.con, table.name) == _current(plain.con, table.name)


def test_a_table_with_rows_is_versioned_as_usual(tmp_path: Path) -> None:
    folder = dataset(tmp_path / "a")
    ws = open_workspace(":memory:")
    import_canonical(ws, folder, now=T1)
    report = import_canonical(ws, folder, now=T2, versioned=False)
    assert all(t.inserted == 0 and t.unchanged == t.read for t in report.tables)
    # A changed row becomes a new version with its hash; the one it replaces is closed.
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[0]["amount"] = "1.00"
    report = import_canonical(
        ws, dataset(tmp_path / "b", opportunities=opportunities), now=T2, versioned=False
    )
    assert {t.table: (t.inserted, t.updated) for t in report.tables}["opportunities"] == (0, 1)
    assert ws.con.execute(
        "SELECT count(*) FROM opportunities WHERE _import_id = 3 AND _row_hash <> ?", [UNHASHED]
    ).fetchone() == (1,)


def test_load_dataset_is_unversioned(tmp_path: Path) -> None:
    ws = load_dataset(dataset(tmp_path))
    try:
        assert ws.con.execute("SELECT DISTINCT _row_hash FROM opportunities").fetchall() == [(UNHASHED,)]
        assert ws.counts()["opportunities"] == len(base_tables()["opportunities"])
    finally:
        ws.close()
