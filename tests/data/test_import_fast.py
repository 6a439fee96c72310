"""The one-pass import of ``--data`` runs (cosell.data.fast_load) against the canonical import:
the same rows, counts and warnings when the data is good; the canonical import's own problems,
and nothing kept from the fast pass, when it is not."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from import_fixtures import base_tables, csv_text, dataset, write_dataset

from cosell.data import fast_load
from cosell.data.demo import generate_dataset
from cosell.data.import_report import ImportReport
from cosell.data.load import import_canonical, import_time, load_dataset
from cosell.data.read import find_table_files
from cosell.errors import ImportFailed
from cosell.policy import Policy
from cosell.store.schema import TABLES
from cosell.store.workspace import Workspace, open_workspace

AT = import_time()


def rows_of(con: Any) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table in TABLES:
        names = ", ".join(table.column_names)
        out[table.name] = con.execute(
            f"SELECT {names}, extra, _row_hash, _valid_from, _valid_to, _import_id FROM {table.name} ORDER BY ALL"
        ).fetchall()
    return out


Outcome = tuple[ImportReport | str, dict[str, list[tuple[Any, ...]]]]

# The canonical outcome of each dataset imported so far in this process, by the dataset's files,
# with the folder it was imported from: the same files give the same outcome (a fixed import time)
# but for the report's source, which names the folder (a problem names files, not the folder).
# Several tests here and in test_import_unread compare against the canonical import of one
# dataset (each CHANGES case): 0.2 s of CPU each.
_CANONICAL: dict[str, tuple[str, Outcome]] = {}


def _files_digest(folder: Path) -> str:
    """Every file under ``folder`` (its path in the folder and its bytes), as one digest."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix().encode()
        data = path.read_bytes()
        digest.update(b"%d:%s%d:" % (len(name), name, len(data)))
        digest.update(data)
    return digest.hexdigest()


def canonical(folder: Path) -> Outcome:
    """What the canonical unversioned import makes of ``folder``: its report or its error (once
    per process for the same files)."""
    key, here = _files_digest(folder), str(folder.resolve())
    if key not in _CANONICAL:
        _CANONICAL[key] = here, _canonical(folder)
    there, (report, rows) = _CANONICAL[key]
    if there == here or isinstance(report, str):
        return report, rows
    # Imported from another folder: the source and the reason (the command run) name this one.
    named = {"source": report.source.replace(there, here), "reason": report.reason.replace(there, here)}
    return dataclasses.replace(report, **named), rows


def _canonical(folder: Path) -> Outcome:
    ws = open_workspace(":memory:")
    try:
        report: ImportReport | str = import_canonical(ws, folder, now=AT, versioned=False, by_user="t")
    except ImportFailed as failed:
        report = str(failed)
    return report, rows_of(ws.con)


def fast(folder: Path) -> tuple[ImportReport | None, dict[str, list[tuple[Any, ...]]]]:
    ws = fast_load.temporary_workspace()
    try:
        files, problems = find_table_files(folder)
        assert not problems
        report = fast_load.import_fast(ws, files, Policy(), AT, by_user="t")
        return report, rows_of(ws.con)
    finally:
        ws.close()


def assert_same_as_canonical(folder: Path) -> ImportReport | None:
    """The fast import gives the canonical report and rows, or gives up and keeps nothing (and then
    load_dataset raises exactly the canonical import's error). Returns the fast report."""
    expected, expected_rows = canonical(folder)
    report, rows = fast(folder)
    if report is None:
        assert all(not r for r in rows.values()), "the fast pass kept rows after giving up"
        if isinstance(expected, str):
            with pytest.raises(ImportFailed) as failed:
                load_dataset(folder)
            assert str(failed.value) == expected
        return None
    assert report == expected
    assert rows == expected_rows
    return report


def with_cell(table: str, index: int, column: str, value: str) -> dict[str, list[dict[str, str]]]:
    rows = [dict(r) for r in base_tables()[table]]
    rows[index][column] = value
    return {table: rows}


def test_good_data_is_imported_in_one_pass_with_the_canonical_result(tmp_path: Path) -> None:
    report = assert_same_as_canonical(dataset(tmp_path))
    assert report is not None and report.accepted == sum(len(r) for r in base_tables().values())


@pytest.mark.parametrize("change", [None, "bad money"])
def test_the_canonical_outcome_is_shared_by_the_same_files_in_another_folder(
    tmp_path: Path, change: str | None
) -> None:
    """The tests' canonical outcome (imported once per process for the same files) is what the
    import makes of these files in this folder: its source names this folder."""
    tables = CHANGES[change]() if change else {}
    first = canonical(dataset(tmp_path / "a", **tables))
    again = dataset(tmp_path / "b", **tables)
    shared = canonical(again)
    assert shared == _canonical(again)
    if change is None:
        assert shared[0] != first[0], "the source names each folder"


def test_a_generated_dataset_with_warnings(tmp_path: Path) -> None:
    generate_dataset(tmp_path, size=150, seed=3)
    report = assert_same_as_canonical(tmp_path)
    assert report is not None and report.warning_count > 0


def _registration(**cells: str) -> dict[str, str]:
    """P1's approved registration R1 of account A1, made 2026-01-05, with ``cells``."""
    row = {"registration_id": "R1", "partner_id": "P1", "account_id": "A1", "registered_at": "2026-01-05"}
    return {**row, "status": "approved", **cells}


CHANGES: dict[str, Callable[[], dict[str, Any]]] = {
    "bad money": lambda: with_cell("opportunities", 0, "amount", "12,5OO"),
    "bad instant": lambda: with_cell("opportunities", 1, "created_at", "2026-02-30"),
    "bad enum": lambda: with_cell("touches", 0, "actor", "Partner"),
    "bad flag": lambda: with_cell("opportunities", 0, "is_won", "maybe"),
    "bad period": lambda: with_cell("program_costs", 1, "period", "2026-Q5"),
    "bad rate": lambda: with_cell("fx_rates", 0, "rate", "0"),
    "required value": lambda: with_cell("touches", 1, "occurred_at", " "),
    "partner touch without partner": lambda: with_cell("touches", 0, "partner_id", ""),
    "dangling reference": lambda: with_cell("touches", 1, "account_id", "A9"),
    "duplicate key": lambda: with_cell("touches", 1, "touch_id", "T1"),
    "duplicate composite key with instants": lambda: {
        "stage_history": [
            *base_tables()["stage_history"],
            {"opportunity_id": "O1", "stage": "Discovery", "entered_at": "2026-01-20 11:00:00+01:00"},
        ]
    },
    "closed deal without close time": lambda: {
        **with_cell("opportunities", 0, "close_date", ""),
        "stage_history": base_tables()["stage_history"][:1],
    },
    "missing required table": lambda: {"accounts": None},
    "flag disagreeing with the stage (a warning quoting the raw cell)": lambda: with_cell(
        "opportunities", 1, "is_won", "yes"
    ),
    "unknown touch kind (a warning)": lambda: with_cell("touches", 1, "kind", "carrier_pigeon"),
    "a registration that expires before it was made (a warning quoting the raw cell)": lambda: {
        "deal_registrations": [_registration(opportunity_id="O1", expires_at="2026-01-01")]
    },
    "a registration linked to a deal of another account (a warning)": lambda: {
        "deal_registrations": [_registration(opportunity_id="O2", expires_at="")]
    },
    "unknown columns (kept as extra)": lambda: {
        "accounts": [dict(r, region="EU", **{"odd name": "x"}) for r in base_tables()["accounts"]]
    },
    "cells with spaces and an empty currency": lambda: with_cell("opportunities", 0, "currency", "  "),
    "a warehouse dump's NULL in a typed cell (refused) and in free text (kept)": lambda: {
        **with_cell("opportunities", 1, "amount", "\\N"),
        **with_cell("accounts", 0, "segment", "\\N"),
    },
    "no users file (references to users are not checked)": lambda: {"users": None},
    "a dangling reference to a user": lambda: with_cell("accounts", 1, "owner_id", "U9"),
    "a closed deal whose close time is its stage_history entry": lambda: with_cell(
        "opportunities", 0, "close_date", ""
    ),
}


@pytest.mark.parametrize("change", CHANGES)
def test_each_kind_of_input_gives_the_canonical_outcome(tmp_path: Path, change: str) -> None:
    assert_same_as_canonical(dataset(tmp_path, **CHANGES[change]()))


@pytest.mark.parametrize(
    ("change", "taken"),
    [
        ("bad money", False),
        ("duplicate key", False),
        ("duplicate composite key with instants", False),
        ("dangling reference", False),
        ("a dangling reference to a user", False),
        ("closed deal without close time", False),
        ("unknown touch kind (a warning)", True),
        ("a registration that expires before it was made (a warning quoting the raw cell)", False),
        ("a registration linked to a deal of another account (a warning)", True),
        ("no users file (references to users are not checked)", True),
        ("a closed deal whose close time is its stage_history entry", True),
    ],
)
def test_the_fast_pass_gives_up_on_problems_only(tmp_path: Path, change: str, taken: bool) -> None:
    report, _ = fast(dataset(tmp_path, **CHANGES[change]()))
    assert (report is not None) == taken


def test_a_file_that_is_not_a_table(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    (folder / "touches.csv").write_text("touch_id,occurred_at\nT1,2026-01-01,extra\n", encoding="utf-8")
    assert assert_same_as_canonical(folder) is None
    (folder / "touches.csv").write_bytes("touch_id\n\xe9t\xe9\n".encode("latin-1"))
    assert assert_same_as_canonical(folder) is None


def test_gzip_and_parquet_files(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    touches = folder / "touches.csv"
    with gzip.open(folder / "touches.csv.gz", "wt", encoding="utf-8") as f:
        f.write(touches.read_text(encoding="utf-8"))
    touches.unlink()
    accounts = folder / "accounts.csv"
    duckdb.connect().execute(
        f"COPY (SELECT * FROM read_csv('{accounts}', all_varchar = true)) "
        f"TO '{folder / 'accounts.parquet'}' (FORMAT parquet)"
    )
    accounts.unlink()
    report = assert_same_as_canonical(folder)
    assert report is not None
    assert {t.file for t in report.tables} >= {"touches.csv.gz", "accounts.parquet"}


def test_load_dataset_falls_back_and_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = dataset(tmp_path, **with_cell("touches", 1, "touch_id", "T1"))
    expected, _ = canonical(folder)
    assert isinstance(expected, str) and "is a duplicate key: also on row 2" in expected
    # A temporary folder of this test's own: the other test process makes its own cosell-data-*.
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(fast_load.tempfile, "tempdir", str(private))
    with pytest.raises(ImportFailed) as failed:
        load_dataset(folder)
    assert str(failed.value) == expected
    assert list(private.iterdir()) == []


def test_a_workspace_with_rows_is_left_to_the_canonical_import(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    ws: Workspace = fast_load.temporary_workspace()
    try:
        import_canonical(ws, folder, now=AT)
        files, _ = find_table_files(folder)
        assert fast_load.import_fast(ws, files, Policy(), import_time()) is None
    finally:
        ws.close()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), bad=st.sampled_from([None, *CHANGES]))
def test_shuffled_rows_and_random_changes(seed: int, bad: str | None) -> None:
    """Row order decides row numbers (first rows of warnings, rows of problems): shuffled files,
    with or without a change, give the canonical outcome."""
    import tempfile

    rng = random.Random(seed)
    tables: dict[str, Any] = dict(base_tables())
    if bad is not None:
        tables.update(CHANGES[bad]())
    touches = [
        dict(
            base_tables()["touches"][i % 2],
            touch_id=f"T{i}",
            kind=rng.choice(["joint_call", "mystery", "intro"]),
        )
        for i in range(30)
    ]
    if bad is None or "touches" not in tables or tables["touches"] == base_tables()["touches"]:
        tables["touches"] = touches
    for name, rows in list(tables.items()):
        if rows is not None:
            rows = list(rows)
            rng.shuffle(rows)
            tables[name] = rows
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_dataset(Path(tmp), {k: v for k, v in tables.items() if v is not None})
        assert_same_as_canonical(folder)


def test_csv_text_helper_keeps_unknown_columns() -> None:
    # The unknown-columns case above relies on the helper writing them.
    assert csv_text("accounts", [{"account_id": "A1", "zz": "1"}]).splitlines()[0] == "account_id,zz"


def test_a_temporary_workspace_is_closed_without_a_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its file is removed at close, so its last changes are not written into it first (a
    checkpoint costs tens of milliseconds at 100 deals): the log of them is still there at close."""
    kept: list[str] = []
    remove = fast_load.shutil.rmtree
    monkeypatch.setattr(fast_load.shutil, "rmtree", lambda folder, **_: kept.append(folder))
    ws = load_dataset(write_dataset(tmp_path / "export", base_tables()), now=AT)
    ws.close()
    (folder,) = kept
    try:
        assert (Path(folder) / "workspace.duckdb.wal").stat().st_size > 0
    finally:
        remove(folder)
