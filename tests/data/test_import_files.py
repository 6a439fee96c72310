"""Files as a whole: formats, encodings, empty files, files that are not tables, unknown columns."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest
from import_fixtures import base_tables, csv_text, dataset

from cosell.data.load import import_canonical
from cosell.errors import ImportFailed, Problem, UsageError
from cosell.store.workspace import open_workspace


def fail(folder: Path) -> list[Problem]:
    ws = open_workspace(":memory:")
    with pytest.raises(ImportFailed) as failed:
        import_canonical(ws, folder)
    return failed.value.problems


def test_utf8_with_bom_and_crlf(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    text = csv_text("accounts", base_tables()["accounts"]).replace("Northwind", "Nörthwind")
    (folder / "accounts.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    ws = open_workspace(":memory:")
    import_canonical(ws, folder)
    assert ws.con.execute("SELECT name FROM cur_accounts ORDER BY account_id").fetchall() == [
        ("Nörthwind",),
        ("Contoso",),
    ]


def test_latin1_is_refused(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    text = csv_text("accounts", base_tables()["accounts"]).replace("Contoso", "Contosé")
    (folder / "accounts.csv").write_bytes(text.encode("latin-1"))
    reason = "is not UTF-8 encoded (for example latin-1 or Windows-1252): save it as UTF-8"
    assert fail(folder) == [Problem("accounts.csv", 3, None, None, reason)]


def test_latin1_late_in_a_large_file_is_refused(tmp_path: Path) -> None:
    rows = [dict(base_tables()["accounts"][1], account_id=f"A{i}") for i in range(3, 8000)]
    rows[-1]["name"] = "Café"
    folder = dataset(tmp_path, accounts=[*base_tables()["accounts"], *rows])
    text = csv_text("accounts", [*base_tables()["accounts"], *rows])
    (folder / "accounts.csv").write_bytes(text.encode("latin-1"))
    found = fail(folder)
    assert [(p.file, p.row, p.reason[:22]) for p in found] == [
        ("accounts.csv", 8000, "is not UTF-8 encoded (")
    ]


@pytest.mark.parametrize(("separator", "said"), [(";", '";"'), ("\t", "a tab"), ("|", '"|"')])
def test_a_file_separated_otherwise_is_refused_at_its_header_saying_so(
    tmp_path: Path, separator: str, said: str
) -> None:
    """A spreadsheet saved in a European locale writes ";" between cells: its header is one column,
    so the import named every required column missing without saying why."""
    folder = dataset(tmp_path)
    text = csv_text("accounts", base_tables()["accounts"])
    (folder / "accounts.csv").write_text(text.replace(",", separator), encoding="utf-8")
    reason = f"is separated by {said}, not by commas: save it as comma-separated CSV"
    assert fail(folder) == [Problem("accounts.csv", 1, None, None, reason)]


def test_a_file_starting_with_a_spreadsheet_sep_line_is_refused_saying_so(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    text = csv_text("accounts", base_tables()["accounts"])
    (folder / "accounts.csv").write_text("sep=,\n" + text, encoding="utf-8")
    [problem] = fail(folder)
    assert (problem.file, problem.row, problem.reason[:39]) == (
        "accounts.csv",
        1,
        'starts with a spreadsheet\'s "sep=" line',
    )


def test_utf16_is_refused(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    (folder / "partners.csv").write_bytes(csv_text("partners", base_tables()["partners"]).encode("utf-16"))
    assert fail(folder) == [
        Problem("partners.csv", None, None, None, "is UTF-16 or UTF-32 encoded: save it as UTF-8")
    ]


def test_empty_file_is_refused(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    (folder / "touches.csv").write_bytes(b"")
    assert fail(folder) == [
        Problem("touches.csv", None, None, None, "empty file (0 bytes): expected a header row")
    ]


def test_a_blank_first_line_is_refused_as_no_header(tmp_path: Path) -> None:
    # A file of blank lines has a header with no column: said so, not the engine's own error.
    folder = dataset(tmp_path)
    (folder / "touches.csv").write_bytes(b"\n\n")
    assert fail(folder) == [Problem("touches.csv", 1, None, None, "is not a table: the header row is empty")]


def test_header_only_is_an_empty_table(tmp_path: Path) -> None:
    folder = dataset(tmp_path, touches=None)
    (folder / "touches.csv").write_text("touch_id,occurred_at,account_id,actor,kind\n")
    ws = open_workspace(":memory:")
    report = import_canonical(ws, folder)
    assert next(t for t in report.tables if t.table == "touches").read == 0


def test_binary_garbage_is_not_a_table(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    (folder / "touches.csv").write_bytes(bytes(range(256)) * 4)
    assert fail(folder) == [
        Problem("touches.csv", None, None, None, "is not a text table (it contains NUL bytes)")
    ]


def _not_a_file(path: Path, kind: str) -> None:
    path.unlink()
    if kind == "directory":
        path.mkdir()
    elif kind == "loop":
        path.symlink_to(path.name)
    else:
        path.symlink_to(path.parent / "gone" / path.name)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("directory", "is a directory, not a file"),
        ("loop", "is a link that leads back to itself, not to a file"),
        ("broken", "is a link that leads nowhere (no file where it points)"),
    ],
)
def test_a_table_name_that_is_no_file_is_refused(tmp_path: Path, kind: str, reason: str) -> None:
    # It was skipped without a word: into a workspace that had the table, the import went through.
    ws = open_workspace(":memory:")
    folder = dataset(tmp_path)
    import_canonical(ws, folder)
    _not_a_file(folder / "opportunities.csv", kind)
    with pytest.raises(ImportFailed) as failed:
        import_canonical(ws, folder)
    assert failed.value.problems == [Problem("opportunities.csv", None, None, None, reason)]


def test_ragged_rows_are_not_a_table(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    text = csv_text("fx_rates", base_tables()["fx_rates"]) + "GBP,2026-01,1.27,extra\n"
    (folder / "fx_rates.csv").write_text(text)
    assert fail(folder) == [
        Problem("fx_rates.csv", 3, None, None, "is not a table: this row has 4 columns, the header 3")
    ]


def test_duplicate_header_column(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    (folder / "fx_rates.csv").write_text("currency,period,rate,rate\nEUR,2026-01,1.1,1.2\n")
    assert fail(folder) == [
        Problem("fx_rates.csv", 1, "rate", None, "the column appears twice in the header")
    ]


def test_table_in_two_formats(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    with gzip.open(folder / "fx_rates.csv.gz", "wt") as out:
        out.write(csv_text("fx_rates", base_tables()["fx_rates"]))
    assert fail(folder) == [
        Problem(
            "fx_rates.csv",
            None,
            None,
            None,
            "table fx_rates is given twice (fx_rates.csv and fx_rates.csv.gz)",
        )
    ]


def test_gzip_csv_and_parquet_and_other_files_ignored(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    (folder / "fx_rates.csv").unlink()
    with gzip.open(folder / "fx_rates.csv.gz", "wt") as out:
        out.write(csv_text("fx_rates", base_tables()["fx_rates"]))
    touches = folder / "touches.csv"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv('{touches}', all_varchar = true)) TO '{folder / 'touches.parquet'}' (FORMAT parquet)"
    )
    touches.unlink()
    (folder / "README.txt").write_text("not a table")
    (folder / "notes.csv").write_text("a,b\n1,2\n")
    ws = open_workspace(":memory:")
    report = import_canonical(ws, folder)
    files = {t.table: t.file for t in report.tables}
    assert files["fx_rates"] == "fx_rates.csv.gz"
    assert files["touches"] == "touches.parquet"
    assert ws.counts()["touches"] == 2


def test_parquet_rows_are_record_numbers(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT 'EUR' AS currency, '2026-01' AS period, 1.5::DECIMAL(10,4) AS rate UNION ALL "
        f"SELECT 'GBP', '2026-13', 1.2) TO '{folder / 'fx_rates.parquet'}' (FORMAT parquet)"
    )
    (folder / "fx_rates.csv").unlink()
    assert fail(folder) == [
        Problem(
            "fx_rates.parquet",
            2,
            "period",
            "2026-13",
            "is not a period (a quarter like 2026-Q3 or a month like 2026-08)",
        )
    ]


def test_parquet_float_money_is_refused(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT 'EUR' AS currency, '2026-01' AS period, 1.5::DOUBLE AS rate) "
        f"TO '{folder / 'fx_rates.parquet'}' (FORMAT parquet)"
    )
    (folder / "fx_rates.csv").unlink()
    reason = "is a binary floating-point column (DOUBLE): store amounts as DECIMAL or text"
    assert fail(folder) == [Problem("fx_rates.parquet", None, "rate", None, reason)]


def test_not_a_parquet_file(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    (folder / "fx_rates.csv").rename(folder / "fx_rates.parquet")
    assert fail(folder) == [Problem("fx_rates.parquet", None, None, None, "is not a Parquet file")]


def test_not_gzip(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    (folder / "fx_rates.csv").rename(folder / "fx_rates.csv.gz")
    assert fail(folder) == [Problem("fx_rates.csv.gz", None, None, None, "is not a gzip file")]


def test_unknown_columns_are_kept_as_sorted_json(tmp_path: Path) -> None:
    accounts = [dict(r, zeta="z", Alpha="a, with comma") for r in base_tables()["accounts"]]
    accounts[1]["zeta"] = ""
    folder = dataset(tmp_path, accounts=accounts)
    ws = open_workspace(":memory:")
    import_canonical(ws, folder)
    extras = [
        json.loads(r[0])
        for r in ws.con.execute("SELECT extra FROM cur_accounts ORDER BY account_id").fetchall()
    ]
    assert extras == [{"Alpha": "a, with comma", "zeta": "z"}, {"Alpha": "a, with comma", "zeta": None}]
    row = ws.con.execute("SELECT extra FROM cur_accounts WHERE account_id = 'A1'").fetchone()
    assert row is not None and list(json.loads(row[0])) == ["Alpha", "zeta"]


def test_required_tables(tmp_path: Path) -> None:
    folder = dataset(tmp_path, partners=None, partner_contacts=None, users=None)
    assert fail(folder) == [
        Problem(
            "partners.csv",
            None,
            None,
            None,
            "missing: partners is a required table and the workspace has none",
        )
    ]


def test_no_table_files(tmp_path: Path) -> None:
    (tmp_path / "other.txt").write_text("x")
    assert fail(tmp_path)[0].reason == "has no canonical table files (see docs/data-guide.md)"


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        import_canonical(open_workspace(":memory:"), tmp_path / "missing")


def test_a_parquet_nanosecond_timestamp_is_read_when_it_is_a_microsecond_instant(tmp_path: Path) -> None:
    """A warehouse's Parquet export stores TIMESTAMP_NS (Snowflake, Spark): read as text it has nine
    fraction digits, which were refused as not ISO 8601. A microsecond instant is read exactly; a
    nanosecond one is refused by its record, never truncated."""
    folder = dataset(tmp_path)
    rows = base_tables()["stage_history"]
    con = duckdb.connect()
    history = folder / "stage_history.parquet"

    def write(entered: list[str]) -> None:
        values = ", ".join(
            f"('{r['opportunity_id']}', '{r['stage']}', TIMESTAMP_NS '{at}')"
            for r, at in zip(rows, entered, strict=True)
        )
        con.execute(
            f"COPY (SELECT * FROM (VALUES {values}) t(opportunity_id, stage, entered_at)) "
            f"TO '{history}' (FORMAT parquet)"
        )

    (folder / "stage_history.csv").unlink()
    write(["2026-01-20 10:00:00.123456", "2026-04-30 10:00:00"])
    ws = open_workspace(":memory:")
    import_canonical(ws, folder)
    entered = ws.con.execute("SELECT entered_at FROM stage_history ORDER BY entered_at").fetchall()
    assert [str(e) for (e,) in entered] == ["2026-01-20 10:00:00.123456+00:00", "2026-04-30 10:00:00+00:00"]
    write(["2026-01-20 10:00:00.123456789", "2026-04-30 10:00:00"])
    [problem] = fail(folder)
    assert (problem.file, problem.row, problem.column) == ("stage_history.parquet", 1, "entered_at")
    assert problem.reason.startswith("has a fraction of a second finer than a microsecond")
