"""Versions: idempotent re-import, changed rows, cost replacement by period, all or nothing."""

from __future__ import annotations

import functools
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from import_fixtures import base_tables, content_checksum, csv_text, dataset, write_dataset

from cosell.data.load import import_canonical, import_time, load_dataset
from cosell.errors import CosellError, ImportFailed
from cosell.store.workspace import as_of_views, open_workspace

T1 = datetime(2026, 5, 1, tzinfo=UTC)
T2 = datetime(2026, 6, 1, tzinfo=UTC)


def test_identical_reimport_changes_nothing(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    ws = open_workspace(":memory:")
    first = import_canonical(ws, folder, now=T1)
    before = content_checksum(ws.con)
    second = import_canonical(ws, folder, now=T2)
    assert all(t.inserted == 0 and t.updated == 0 and t.unchanged == t.read for t in second.tables)
    assert sum(t.inserted for t in first.tables) == sum(t.read for t in first.tables)
    after = content_checksum(ws.con)
    assert [c for c in after if c[0] != "imports"] == [c for c in before if c[0] != "imports"]
    assert ws.con.execute("SELECT import_id, imported_at FROM imports ORDER BY 1").fetchall() == [
        (1, T1),
        (2, T2),
    ]


def test_equal_values_written_differently_are_unchanged(tmp_path: Path) -> None:
    ws = open_workspace(":memory:")
    import_canonical(ws, dataset(tmp_path / "a"), now=T1)
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[0].update(amount=" 48000 ", created_at="2026-01-20T11:00:00+01:00", is_won="yes")
    report = import_canonical(ws, dataset(tmp_path / "b", opportunities=opportunities), now=T2)
    assert next(t for t in report.tables if t.table == "opportunities").unchanged == 2


def test_changed_row_keeps_the_old_version(tmp_path: Path) -> None:
    ws = open_workspace(":memory:")
    import_canonical(ws, dataset(tmp_path / "a"), now=T1)
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[1]["amount"] = "1500.00"
    report = import_canonical(ws, dataset(tmp_path / "b", opportunities=opportunities), now=T2)
    counts = next(t for t in report.tables if t.table == "opportunities")
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 1, 1)
    versions = ws.con.execute(
        "SELECT amount, _valid_from, _valid_to, _import_id FROM opportunities "
        "WHERE opportunity_id = 'O2' ORDER BY _valid_from"
    ).fetchall()
    assert [(str(a), f, t, i) for a, f, t, i in versions] == [
        ("1200.0000", T1, T2, 1),
        ("1500.0000", T2, None, 2),
    ]
    as_of_views(ws.con, datetime(2026, 5, 15, tzinfo=UTC))
    assert ws.con.execute("SELECT amount FROM v_opportunities WHERE opportunity_id = 'O2'").fetchall() == [
        (pytest.approx(1200),)
    ]


def test_new_rows_are_added_and_missing_rows_are_kept(tmp_path: Path) -> None:
    ws = open_workspace(":memory:")
    import_canonical(ws, dataset(tmp_path / "a"), now=T1)
    accounts = [base_tables()["accounts"][0], {"account_id": "A3", "name": "Fabrikam"}]
    report = import_canonical(ws, dataset(tmp_path / "b", accounts=accounts), now=T2)
    counts = next(t for t in report.tables if t.table == "accounts")
    assert (counts.inserted, counts.updated, counts.unchanged) == (1, 0, 1)
    assert ws.counts()["accounts"] == 3


def test_changed_unknown_column_is_a_new_version(tmp_path: Path) -> None:
    ws = open_workspace(":memory:")
    import_canonical(ws, dataset(tmp_path / "a"), now=T1)
    accounts = [dict(r, region="EMEA") for r in base_tables()["accounts"]]
    report = import_canonical(ws, dataset(tmp_path / "b", accounts=accounts), now=T2)
    assert next(t for t in report.tables if t.table == "accounts").updated == 2


def test_costs_without_id_are_replaced_by_period(tmp_path: Path) -> None:
    ws = open_workspace(":memory:")
    costs = [
        {"cost_id": "", "period": "2026-Q1", "category": "headcount", "amount": "100"},
        {"cost_id": "", "period": "2026-Q2", "category": "headcount", "amount": "200"},
        {"cost_id": "K1", "period": "2026-Q2", "category": "tech", "amount": "5"},
    ]
    import_canonical(ws, dataset(tmp_path / "a", program_costs=costs), now=T1)
    again = import_canonical(ws, dataset(tmp_path / "b", program_costs=costs), now=T2)
    assert [(t.inserted, t.unchanged, t.replaced) for t in again.tables if t.table == "program_costs"] == [
        (0, 3, 0)
    ]
    q2 = [
        {"cost_id": "", "period": "2026-Q2", "category": "headcount", "amount": "150"},
        {"cost_id": "", "period": "2026-Q2", "category": "travel", "amount": "30"},
    ]
    t3 = datetime(2026, 7, 1, tzinfo=UTC)
    report = import_canonical(ws, dataset(tmp_path / "c", program_costs=q2), now=t3)
    assert [(t.inserted, t.unchanged, t.replaced) for t in report.tables if t.table == "program_costs"] == [
        (2, 0, 1)
    ]
    current = ws.con.execute(
        "SELECT coalesce(cost_id, ''), period, category, amount::VARCHAR FROM cur_program_costs ORDER BY 2, 3"
    ).fetchall()
    assert current == [
        ("", "2026-Q1", "headcount", "100.0000"),
        ("", "2026-Q2", "headcount", "150.0000"),
        ("K1", "2026-Q2", "tech", "5.0000"),
        ("", "2026-Q2", "travel", "30.0000"),
    ]
    closed = ws.con.execute(
        "SELECT period, amount::VARCHAR, _valid_to FROM program_costs WHERE _valid_to IS NOT NULL"
    ).fetchall()
    assert closed == [("2026-Q2", "200.0000", t3)]


def test_a_bad_row_late_in_a_big_file_applies_nothing(tmp_path: Path) -> None:
    ws = open_workspace(str(tmp_path / "ws.duckdb"))
    import_canonical(ws, dataset(tmp_path / "a"), now=T1)
    before = content_checksum(ws.con)
    touch = base_tables()["touches"][1]
    rows = [dict(touch, touch_id=f"X{i}") for i in range(50_000)]
    rows[49_990]["occurred_at"] = "2026-02-31"
    folder = dataset(tmp_path / "b", accounts=None, partners=None, opportunities=None)
    accounts = [dict(r, name=r["name"] + " Ltd") for r in base_tables()["accounts"]]
    write_dataset(folder, {"touches": rows, "accounts": accounts})
    with pytest.raises(ImportFailed) as failed:
        import_canonical(ws, folder, now=T2)
    assert [(p.row, p.column) for p in failed.value.problems] == [(49_992, "occurred_at")]
    assert content_checksum(ws.con) == before
    ws.close()
    reopened = open_workspace(str(tmp_path / "ws.duckdb"))
    assert content_checksum(reopened.con) == before


def test_import_time_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COSELL_NOW", "2026-03-01T09:30:00+02:00")
    assert import_time() == datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    assert import_time(T1) == T1


def test_import_time_cannot_go_back(tmp_path: Path) -> None:
    ws = open_workspace(":memory:")
    import_canonical(ws, dataset(tmp_path), now=T2)
    with pytest.raises(CosellError, match="before the last import"):
        import_canonical(ws, dataset(tmp_path), now=T1)


def test_load_dataset_gives_a_temporary_workspace(tmp_path: Path) -> None:
    """A file in a temporary folder (DuckDB compresses a file's tables; twenty million touches do
    not fit the memory limit uncompressed), removed when the workspace is closed."""
    ws = load_dataset(dataset(tmp_path))
    path = Path(ws.path)
    assert path.is_file() and not path.is_relative_to(tmp_path)
    assert ws.counts()["opportunities"] == 2
    ws.close()
    assert not path.parent.exists()


@functools.cache
def _content_after_import(touch_order: tuple[int, ...], account_order: tuple[int, ...]) -> object:
    touches = [dict(base_tables()["touches"][i % 2], touch_id=f"T{i}", opportunity_id="") for i in range(6)]
    accounts = [*base_tables()["accounts"], {"account_id": "A3", "name": "Fabrikam", "zz": "1"}]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        partners = base_tables()["partners"]
        write_dataset(folder, {"partners": partners, "opportunities": base_tables()["opportunities"][1:]})
        (folder / "touches.csv").write_text(csv_text("touches", [touches[i] for i in touch_order]))
        (folder / "accounts.csv").write_text(csv_text("accounts", [accounts[i] for i in account_order]))
        ws = open_workspace(":memory:")
        import_canonical(ws, folder, now=T1, by_user="test")
        content = [c for c in content_checksum(ws.con) if c[0] != "imports"]
        ws.close()
    return content


@settings(max_examples=5)
@given(st.permutations(range(6)), st.permutations(range(3)))
def test_row_order_does_not_change_the_content(touch_order: list[int], account_order: list[int]) -> None:
    assert _content_after_import(tuple(touch_order), tuple(account_order)) == _content_after_import(
        tuple(range(6)), tuple(range(3))
    )
