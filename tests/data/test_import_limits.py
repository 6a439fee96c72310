"""Hostile and odd input files: mixed line endings, huge cells and rows, instants outside years 1-9999.

Each is either read, or refused naming the file, the row, the column where one is to blame, and why.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from import_fixtures import base_tables, csv_text, dataset
from typer.testing import CliRunner

from cosell.cli.app import app
from cosell.data.csv_shape import MAX_COLUMNS, MAX_NAME_CHARS, MAX_ROW_BYTES
from cosell.data.load import import_canonical
from cosell.errors import ImportFailed, Problem
from cosell.instants import OUT_OF_RANGE, UNSUPPORTED
from cosell.store.workspace import open_workspace

runner = CliRunner()


def fail(folder: Path) -> list[Problem]:
    ws = open_workspace(":memory:")
    with pytest.raises(ImportFailed) as failed:
        import_canonical(ws, folder)
    return failed.value.problems


def accounts(folder: Path) -> list[tuple[str, str]]:
    ws = open_workspace(":memory:")
    import_canonical(ws, folder)
    rows = ws.con.execute("SELECT account_id, name FROM cur_accounts ORDER BY 1").fetchall()
    return [(str(a), str(n)) for a, n in rows]


def _accounts_lines() -> list[str]:
    return csv_text("accounts", base_tables()["accounts"]).splitlines()


# ---- line endings -----------------------------------------------------------------------------------


def test_one_lf_line_in_a_crlf_file_is_read(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    header, first, second = _accounts_lines()
    (folder / "accounts.csv").write_bytes(f"{header}\r\n{first}\n{second}\r\n".encode())
    assert accounts(folder) == [("A1", "Northwind"), ("A2", "Contoso")]


def test_mixed_line_endings_keep_a_value_s_own_line_breaks(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    header, first, second = _accounts_lines()
    first = first.replace("Northwind", '"North\r\nwind"')
    second = second.replace("Contoso", '"Con\nto\rso"')
    data = f"{header}\r\n{first}\n{second}\r".encode()
    with gzip.open(folder / "accounts.csv.gz", "wb") as out:
        out.write(data)
    (folder / "accounts.csv").unlink()
    assert accounts(folder) == [("A1", "North\r\nwind"), ("A2", "Con\nto\rso")]


def test_mixed_line_endings_with_a_ragged_row_name_the_row(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    header, first, second = _accounts_lines()
    (folder / "accounts.csv").write_bytes(f"{header}\r\n{first}\n{second},extra\r\n".encode())
    assert fail(folder) == [
        Problem("accounts.csv", 3, None, None, "is not a table: this row has 5 columns, the header 4")
    ]


# ---- huge cells, rows and headers -------------------------------------------------------------------


def test_a_10_mb_cell_is_refused_naming_row_column_and_limit(tmp_path: Path) -> None:
    rows = [dict(r) for r in base_tables()["accounts"]]
    rows[1]["name"] = "x" * 10_000_000
    folder = dataset(tmp_path, accounts=rows)
    # "A2," + name + ",SMB,U1": 10,000,010 bytes as written.
    reason = (
        f"the row is 10,000,010 bytes long: a row may hold at most {MAX_ROW_BYTES:,} bytes "
        "(this cell holds 10,000,000)"
    )
    assert fail(folder) == [Problem("accounts.csv", 3, "name", None, reason)]
    assert str(fail(folder)[0]).startswith("accounts.csv row 3, name: the row is 10,000,010 bytes long")


@pytest.mark.parametrize("ending", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_the_row_limit_is_exact(tmp_path: Path, ending: str) -> None:
    header, first, _ = _accounts_lines()
    name = "y" * (MAX_ROW_BYTES - len("A2,,SMB,U1"))
    folder = dataset(tmp_path / "at")
    (folder / "accounts.csv").write_bytes(ending.join([header, first, f"A2,{name},SMB,U1", ""]).encode())
    assert accounts(folder)[1] == ("A2", name)
    folder = dataset(tmp_path / "over")
    (folder / "accounts.csv").write_bytes(ending.join([header, first, f"A2,{name}é,SMB,U1", ""]).encode())
    reason = (
        f"the row is {MAX_ROW_BYTES + 2:,} bytes long: a row may hold at most {MAX_ROW_BYTES:,} bytes "
        f"(this cell holds {MAX_ROW_BYTES - 8:,})"
    )
    assert fail(folder) == [Problem("accounts.csv", 3, "name", None, reason)]


def test_a_50000_field_row_is_refused_with_its_exact_count(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    header, first, second = _accounts_lines()
    (folder / "accounts.csv").write_text(f"{header}\n{first}\n{second}{',v' * 50_000}\n")
    assert fail(folder) == [
        Problem("accounts.csv", 3, None, None, "is not a table: this row has 50,004 columns, the header 4")
    ]


def test_a_50000_column_header_is_refused_with_the_limit(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    header, first, second = _accounts_lines()
    extra = "".join(f",x{i}" for i in range(50_000))
    pad = "," * 50_000
    (folder / "accounts.csv").write_text(f"{header}{extra}\n{first}{pad}\n{second}{pad}\n")
    reason = f"the header has 50,004 columns: a file may have at most {MAX_COLUMNS:,}"
    assert fail(folder) == [Problem("accounts.csv", 1, None, None, reason)]


def test_a_header_longer_than_the_sniffed_sample_is_read_whole(tmp_path: Path) -> None:
    # 1,500 unknown columns of 60 characters between account_id and name: a 90 KB header. Read
    # from a 64 KB sample, the header lost its last columns (name, a required one).
    names = [f"custom_field_{i:04d}_" + "n" * 42 for i in range(1_500)]
    folder = dataset(tmp_path)
    pad = "," * len(names)
    header = ",".join(["account_id", *names, "name", "segment", "owner_id"])
    assert len(header) > 65_536
    text = f"{header}\nA1{pad},Northwind,ENT,U1\nA2{pad},Contoso,SMB,U1\n"
    (folder / "accounts.csv").write_text(text)
    assert accounts(folder) == [("A1", "Northwind"), ("A2", "Contoso")]


def test_a_column_name_longer_than_the_limit_is_refused_at_the_header(tmp_path: Path) -> None:
    # An unknown column is kept in every row's extra under its name: a 1 MB name on a few thousand
    # rows ran the engine out of memory (a traceback), where the name is the file's mistake.
    folder = dataset(tmp_path)
    header, first, second = _accounts_lines()
    name = "x" * (MAX_NAME_CHARS + 1)
    (folder / "accounts.csv").write_text(f"{header},{name}\n{first},\n{second},\n")
    reason = (
        f"column 5 of the header is 1,001 characters long: a column name may have at most {MAX_NAME_CHARS:,}"
    )
    assert fail(folder) == [Problem("accounts.csv", 1, None, None, reason)]


def test_a_parquet_file_with_too_many_columns_is_refused(tmp_path: Path) -> None:
    folder = dataset(tmp_path)
    extra = ", ".join(f"'' AS x{i}" for i in range(MAX_COLUMNS))
    duckdb.connect().execute(
        f"COPY (SELECT 'EUR' AS currency, '2026-01' AS period, '1.5' AS rate, {extra}) "
        f"TO '{folder / 'fx_rates.parquet'}' (FORMAT parquet)"
    )
    (folder / "fx_rates.csv").unlink()
    reason = f"has {MAX_COLUMNS + 3:,} columns: a file may have at most {MAX_COLUMNS:,}"
    assert fail(folder) == [Problem("fx_rates.parquet", None, None, None, reason)]


# ---- instants outside the years 1 to 9999 in UTC, and outside cosell's years 1900 to 2999 ----------


def test_an_instant_before_year_1_in_utc_is_refused(tmp_path: Path) -> None:
    rows = [dict(r) for r in base_tables()["touches"]]
    rows[0]["occurred_at"] = "0001-01-01T00:00:00+14:00"
    rows[1]["occurred_at"] = "9999-12-31T23:00:00-05:00"
    assert fail(dataset(tmp_path, touches=rows)) == [
        Problem("touches.csv", 2, "occurred_at", "0001-01-01T00:00:00+14:00", OUT_OF_RANGE),
        Problem("touches.csv", 3, "occurred_at", "9999-12-31T23:00:00-05:00", OUT_OF_RANGE),
    ]


def test_an_instant_outside_the_supported_years_is_refused(tmp_path: Path) -> None:
    """A deal created in year 1 or closed in 9999 is refused at the import (it made explain and
    registrations list fail with a traceback: a lookback or a protection window left the calendar)."""
    opportunities = [dict(r) for r in base_tables()["opportunities"]]
    opportunities[0]["created_at"] = "0001-01-05"
    opportunities[1]["created_at"] = "1899-12-31T23:59:59.999999Z"
    opportunities[1]["close_date"] = "9999-12-30"
    touches = [dict(r) for r in base_tables()["touches"]]
    touches[0]["occurred_at"] = "2999-12-31T23:00:00-05:00"  # 3000-01-01T04:00Z
    assert fail(dataset(tmp_path, opportunities=opportunities, touches=touches)) == [
        Problem("opportunities.csv", 2, "created_at", "0001-01-05", UNSUPPORTED),
        Problem("opportunities.csv", 3, "created_at", "1899-12-31T23:59:59.999999Z", UNSUPPORTED),
        Problem("opportunities.csv", 3, "close_date", "9999-12-30", UNSUPPORTED),
        Problem("touches.csv", 2, "occurred_at", "2999-12-31T23:00:00-05:00", UNSUPPORTED),
    ]


def test_a_period_outside_the_supported_years_is_refused(tmp_path: Path) -> None:
    rates = [
        {"currency": "EUR", "period": "0001-01", "rate": "1.1"},
        {"currency": "EUR", "period": "9999-Q4", "rate": "1.1"},
    ]
    assert fail(dataset(tmp_path, fx_rates=rates)) == [
        Problem("fx_rates.csv", 2, "period", "0001-01", UNSUPPORTED),
        Problem("fx_rates.csv", 3, "period", "9999-Q4", UNSUPPORTED),
    ]


def test_9999_12_31_the_crm_never_keeps_working(tmp_path: Path) -> None:
    """An end of protection may be any later instant of the calendar (a CRM's never); the first
    and last supported instants import as they are."""
    rows = [dict(r) for r in base_tables()["touches"]]
    rows[0]["occurred_at"] = "1899-12-31T23:00:00-01:00"  # 1900-01-01T00:00:00Z
    rows[1]["occurred_at"] = "2999-12-31T23:59:59.999999Z"
    registrations = [
        {
            "registration_id": "R1",
            "partner_id": "P1",
            "account_id": "A1",
            "registered_at": "2026-01-01",
            "status": "approved",
            "expires_at": "9999-12-31",
        }
    ]
    ws = open_workspace(":memory:")
    import_canonical(ws, dataset(tmp_path, touches=rows, deal_registrations=registrations))
    assert ws.con.execute("SELECT expires_at FROM cur_deal_registrations").fetchall() == [
        (datetime(9999, 12, 31, tzinfo=UTC),)
    ]
    assert ws.con.execute("SELECT occurred_at FROM cur_touches ORDER BY touch_id").fetchall()[:2] == [
        (datetime(1900, 1, 1, tzinfo=UTC),),
        (datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),),
    ]


def test_a_registration_protected_until_9999_is_not_extended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COSELL_NOW", "2026-02-01")
    registrations = [{"registration_id": "R1", "partner_id": "P1", "account_id": "A1",
                      "registered_at": "2026-01-01", "status": "approved", "expires_at": "9999-12-31"}]  # fmt: skip
    path = str(tmp_path / "w.duckdb")
    users = [
        *base_tables()["users"],
        {"user_id": "OPS", "name": "Ops", "role": "partner_ops", "partner_id": ""},
    ]
    folder = dataset(tmp_path / "data", deal_registrations=registrations, users=users)
    assert runner.invoke(app, ["import", "canonical", str(folder), "-w", path]).exit_code == 0
    result = runner.invoke(app, ["registrations", "extend", "R1", "-w", path, "--by", "OPS", "--reason", "x"])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "R1 is protected until 9999-12-31T00:00:00Z, after 2999: a protection that does not end" in (
        result.output
    )


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-05:00", "0001-01-05"])
def test_as_of_and_cosell_now_outside_the_range_are_clear_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instant: str
) -> None:
    folder = dataset(tmp_path / "data")
    result = runner.invoke(
        app, ["attribute", "--data", str(folder), "--out", str(tmp_path / "out"), "--as-of", instant]
    )
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert f"--as-of: '{instant}' {UNSUPPORTED}" in result.output
    monkeypatch.setenv("COSELL_NOW", instant)
    result = runner.invoke(
        app, ["import", "canonical", str(folder), "--workspace", str(tmp_path / "w.duckdb")]
    )
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert f"COSELL_NOW: '{instant}' {UNSUPPORTED}" in result.output


def test_plan_effective_dates_outside_the_range_are_listed(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        'plan_id = "p"\nversion = 1\neffective_from = 0001-01-01T00:00:00+14:00\n'
        'effective_to = "9999-12-31T23:00:00-05:00"\ncurrency = "USD"\n[[rules]]\nid = "r"\npercent = 5\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["plans", "check", str(plan)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [
        f"{plan}: effective_from 0001-01-01T00:00:00+14:00 {OUT_OF_RANGE}",
        f"{plan}: effective_to '9999-12-31T23:00:00-05:00' {OUT_OF_RANGE}",
        "2 problems",
    ]
    plan.write_text(
        plan.read_text()
        .replace("0001-01-01T00:00:00+14:00", "2026-01-01")
        .replace('"9999-12-31T23:00:00-05:00"', "9999-12-31")
    )
    result = runner.invoke(app, ["plans", "check", str(plan)])
    assert result.exit_code == 0, result.output
    assert "until 9999-12-31T00:00:00Z" in result.stdout


def test_a_long_bad_value_is_shown_cut_with_its_length(tmp_path: Path) -> None:
    # A megabyte pasted into a cell was printed whole, a megabyte of terminal per problem.
    deals = [dict(d) for d in base_tables()["opportunities"]]
    deals[0]["amount"] = "9" * 40 + "x" * (1_048_576 - 40)
    folder = dataset(tmp_path / "data", opportunities=deals)
    result = runner.invoke(
        app, ["import", "canonical", str(folder), "--workspace", str(tmp_path / "w.duckdb")]
    )
    assert result.exit_code == 1, result.output[:500]
    shown = '"' + "9" * 40 + "x" * 40 + '…" (1,048,576 characters)'
    assert f"opportunities.csv row 2, amount: {shown} is not a number" in result.stderr
    assert len(result.stderr) < 1_000
    # The problem keeps the value whole: only its message is cut.
    assert len(fail(folder)[0].value or "") == 1_048_576


def test_a_rate_too_large_to_convert_a_deal_is_refused_at_import(tmp_path: Path) -> None:
    # A KWD rate of 99,999,999,999,999 imported, and then every attribution run and report
    # stopped with "an internal error ... Overflow in multiplication of DECIMAL(38)": a 14-digit
    # amount times it does not fit the exact product (22 integer digits). Now the import names it
    # (found by fuzzing reports).
    rates = [
        {"currency": "KWD", "period": "2026-08", "rate": "99999999.999999999999"},
        {"currency": "KWD", "period": "2026-09", "rate": "100000000"},
    ]
    assert fail(dataset(tmp_path, fx_rates=rates)) == [
        Problem(
            "fx_rates.csv",
            3,
            "rate",
            "100000000",
            "is too large (more than 8 digits before the decimal point)",
        )
    ]
