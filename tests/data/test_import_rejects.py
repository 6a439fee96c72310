"""``--rejects``: good rows in, bad rows (and the rows that refer to them) out, with exact counts."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from import_fixtures import base_tables, dataset

from cosell.data.load import import_canonical
from cosell.store.workspace import open_workspace

T1 = datetime(2026, 5, 1, tzinfo=UTC)


def read_rejects(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_rejects_file_and_counts(tmp_path: Path) -> None:
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[1].update(amount="12,5OO", currency="usd")
    touches = [dict(r) for r in base_tables()["touches"]]
    touches.append(dict(touches[1], touch_id="T3", opportunity_id="O2", extra_col="kept"))
    folder = dataset(tmp_path / "in", opportunities=opportunities, touches=touches)
    ws = open_workspace(":memory:")
    rejects = tmp_path / "out" / "rejects.csv"
    report = import_canonical(ws, folder, rejects=rejects, now=T1)
    counts = {t.table: (t.read, t.inserted, t.rejected) for t in report.tables}
    assert counts["opportunities"] == (2, 1, 1)
    assert counts["touches"] == (3, 2, 1)
    assert (report.accepted, report.rejected) == (sum(t.read for t in report.tables) - 2, 2)
    assert ws.counts()["opportunities"] == 1 and ws.counts()["touches"] == 2
    rows = read_rejects(rejects)
    assert [(r["_file"], r["_row"], r["_column"], r["_reason"]) for r in rows] == [
        (
            "opportunities.csv",
            "3",
            "amount; currency",
            '"12,5OO" is not a number; "usd" is not an ISO 4217 currency code',
        ),
        ("touches.csv", "4", "opportunity_id", '"O2" refers to a rejected row (opportunities.csv row 3)'),
    ]
    assert rows[0]["opportunity_id"] == "O2" and rows[0]["amount"] == "12,5OO" and rows[0]["touch_id"] == ""
    assert rows[1]["touch_id"] == "T3" and rows[1]["extra_col"] == "kept"
    assert list(rows[0])[-4:] == ["_file", "_row", "_column", "_reason"]
    assert report.problem_count == 3


def test_cascade_goes_through_several_tables(tmp_path: Path) -> None:
    accounts = [dict(r) for r in base_tables()["accounts"]]
    accounts[0]["name"] = ""
    folder = dataset(tmp_path / "in", accounts=accounts)
    ws = open_workspace(":memory:")
    report = import_canonical(ws, folder, rejects=tmp_path / "r.csv", now=T1)
    rejected = {t.table: t.rejected for t in report.tables if t.rejected}
    # A1 out -> O1 (its deal) and T1 (its touch) out -> O1's stage history out.
    assert rejected == {"accounts": 1, "opportunities": 1, "stage_history": 2, "touches": 1}
    reasons = [(r["_file"], r["_row"], r["_reason"]) for r in read_rejects(tmp_path / "r.csv")]
    assert reasons[:2] == [
        ("accounts.csv", "2", "a value is required"),
        ("opportunities.csv", "2", '"A1" refers to a rejected row (accounts.csv row 2)'),
    ]


def test_a_rejected_update_does_not_cascade_when_the_workspace_has_the_row(tmp_path: Path) -> None:
    ws = open_workspace(":memory:")
    import_canonical(ws, dataset(tmp_path / "a"), now=T1)
    accounts = [dict(r) for r in base_tables()["accounts"]]
    accounts[0]["name"] = ""
    report = import_canonical(
        ws,
        dataset(tmp_path / "b", accounts=accounts),
        rejects=tmp_path / "r.csv",
        now=datetime(2026, 6, 1, tzinfo=UTC),
    )
    assert {t.table: t.rejected for t in report.tables if t.rejected} == {"accounts": 1}
    assert ws.con.execute("SELECT name FROM cur_accounts WHERE account_id = 'A1'").fetchall() == [
        ("Northwind",)
    ]


def test_no_rejects_writes_a_header_only_file(tmp_path: Path) -> None:
    ws = open_workspace(":memory:")
    report = import_canonical(ws, dataset(tmp_path / "in"), rejects=tmp_path / "r.csv", now=T1)
    assert report.rejected == 0
    header = (tmp_path / "r.csv").read_text().splitlines()
    assert len(header) == 1 and header[0].endswith("_file,_row,_column,_reason")
