"""The json, csv, xlsx and table formats of a report: stable keys, typed cells, escaping, bytes."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from cosell.policy import Policy
from cosell.report_model import Band, Chart, Column, Figure, Report, Section, Series, Table
from cosell.reports.cfo import build_cfo
from cosell.reports.partners import build_partners
from cosell.reports.qbr import build_qbr
from cosell.reports.render import render
from metrics.metrics_support import AS_OF, quarter_book

DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"

SAMPLE = Report(
    key="sample",
    title="Sample",
    subtitle="=1+1 in a subtitle",
    currency="USD",
    facts=(("As of", "2026-11-01T00:00:00Z"), ("Who", "@everyone")),
    sections=(
        Section(
            key="numbers",
            title="Numbers",
            figures=(
                Figure(
                    "share",
                    "Share",
                    Decimal("0.153846"),
                    "percent",
                    13,
                    "deals created",
                    band=Band(Decimal("0.15"), Decimal("0.25"), "spec"),
                    verdict="within",
                    beside=(Figure("amount", "Amount", Decimal("-1234.50"), "money", 13, "deals created"),),
                ),
                Figure("missing", "Missing", None, "ratio", 0, "won deals", note="no deals won in 2026-Q3"),
            ),
            table=Table(
                (
                    Column("name", "Name"),
                    Column("amount", "Amount", "money"),
                    Column("rate", "Rate", "percent"),
                    Column("ratio", "Ratio", "ratio"),
                    Column("days", "Days", "days"),
                    Column("deals", "Deals", "count"),
                    Column("day", "Day"),
                    Column("at", "At"),
                ),
                (
                    {
                        "name": '=HYPERLINK("http://evil","x")',
                        "amount": Decimal("1234567.89"),
                        "rate": Decimal("0.25"),
                        "ratio": Decimal("0.1821"),
                        "days": Decimal("35.5"),
                        "deals": 7,
                        "day": date(2026, 9, 30),
                        "at": datetime(2026, 9, 30, 23, 59, 59, tzinfo=UTC),
                    },
                    {
                        "name": "+cmd",
                        "amount": Decimal("-5.00"),
                        "rate": None,
                        "ratio": None,
                        "days": None,
                        "deals": 0,
                        "day": None,
                        "at": None,
                    },
                    {
                        "name": "-2",
                        "amount": None,
                        "rate": None,
                        "ratio": None,
                        "days": None,
                        "deals": None,
                        "day": None,
                        "at": None,
                    },
                    {
                        "name": "@SUM(A1)",
                        "amount": None,
                        "rate": None,
                        "ratio": None,
                        "days": None,
                        "deals": None,
                        "day": None,
                        "at": None,
                    },
                ),
            ),
            charts=(
                Chart("c", "Chart", "line", ("2026-Q3",), (Series("Share", (Decimal("0.15"),)),), "percent"),
            ),
            notes=("A note.",),
        ),
    ),
)


def test_json_keys_and_exact_values() -> None:
    data = json.loads(render(SAMPLE, "json"))
    assert list(data) == ["report", "title", "subtitle", "currency", "as_of", "coverage", "facts", "sections"]
    section = data["sections"]["numbers"]
    assert list(section) == ["title", "notes", "figures", "table", "charts"]
    share = section["figures"]["share"]
    assert share == {
        "label": "Share",
        "value": "0.153846",
        "unit": "percent",
        "deals": 13,
        "deals_label": "deals created",
        "note": "",
        "band": {"low": "0.15", "high": "0.25", "source": "spec"},
        "verdict": "within",
        "beside": {
            "amount": {
                "label": "Amount", "value": "-1234.50", "unit": "money", "deals": 13,
                "deals_label": "deals created", "note": "", "band": None, "verdict": None, "beside": {},
            }
        },
    }  # fmt: skip
    assert section["figures"]["missing"]["value"] is None
    assert section["figures"]["missing"]["note"] == "no deals won in 2026-Q3"
    row = section["table"]["rows"][0]
    assert row == {
        "name": '=HYPERLINK("http://evil","x")',
        "amount": "1234567.89",
        "rate": "0.25",
        "ratio": "0.1821",
        "days": "35.5",
        "deals": 7,
        "day": "2026-09-30",
        "at": "2026-09-30T23:59:59Z",
    }
    assert section["charts"]["c"]["series"] == [{"name": "Share", "values": ["0.15"]}]


def csv_blocks(data: bytes) -> list[list[list[str]]]:
    blocks: list[list[list[str]]] = [[]]
    for row in csv.reader(io.StringIO(data.decode())):
        if not row:
            blocks.append([])
        else:
            blocks[-1].append(row)
    return blocks


def test_csv_blocks_start_with_the_section_and_escape_formulas() -> None:
    report, figures, table = csv_blocks(render(SAMPLE, "csv"))
    assert report[0] == ["section", "field", "value"]
    assert report[2] == ["report", "subtitle", "'=1+1 in a subtitle"]
    assert report[-1] == ["report", "Who", "'@everyone"]
    assert figures[0] == ["section", "figure", "part_of", "label", "value", "unit", "deals", "deals_label",
                          "band_low", "band_high", "verdict", "note"]  # fmt: skip
    assert figures[1] == ["numbers", "share", "", "Share", "0.153846", "percent", "13", "deals created", "0.15",
                          "0.25", "within", ""]  # fmt: skip
    assert figures[2][:5] == ["numbers", "amount", "share", "Amount", "-1234.50"]  # a number stays a number
    assert table[0] == ["section", "name", "amount", "rate", "ratio", "days", "deals", "day", "at"]
    assert table[1] == ["numbers", "'=HYPERLINK(\"http://evil\",\"x\")", "1234567.89", "0.25", "0.1821", "35.5", "7",
                        "2026-09-30", "2026-09-30T23:59:59Z"]  # fmt: skip
    assert [r[1] for r in table[2:]] == ["'+cmd", "'-2", "'@SUM(A1)"]
    assert table[2][2] == "-5.00"


def test_xlsx_cells_are_typed_and_text_never_runs_as_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "sample.xlsx"
    path.write_bytes(render(SAMPLE, "xlsx"))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["report", "numbers", "numbers_figures"]
    assert wb["report"]["A1"].value == "Sample"
    subtitle = wb["report"]["A2"]
    assert (subtitle.value, subtitle.data_type, subtitle.quotePrefix) == ("=1+1 in a subtitle", "s", True)
    figures = wb["numbers_figures"]
    rows = {figures.cell(row=r, column=1).value: r for r in range(1, figures.max_row + 1)}
    share = rows["Share"]
    value = figures.cell(row=share, column=4)
    assert (value.value, value.number_format) == (pytest.approx(0.153846), "0.0%")
    assert figures.cell(row=share, column=5).value == 13
    amount = figures.cell(row=rows["    Amount"], column=4)
    assert (amount.value, amount.number_format) == (pytest.approx(-1234.5), '#,##0.00 "USD"')
    ws = wb["numbers"]
    assert [c.value for c in ws[1]] == ["Name", "Amount", "Rate", "Ratio", "Days", "Deals", "Day", "At"]
    cells = [ws.cell(row=2, column=c) for c in range(1, 9)]
    assert cells[0].value == '=HYPERLINK("http://evil","x")'
    assert (cells[0].data_type, cells[0].quotePrefix) == ("s", True)
    assert (cells[1].value, cells[1].number_format) == (pytest.approx(1234567.89), '#,##0.00 "USD"')
    assert (cells[2].value, cells[2].number_format) == (pytest.approx(0.25), "0.0%")
    assert (cells[3].value, cells[3].number_format) == (pytest.approx(0.1821), "0.0000")
    assert cells[5].value == 7 and isinstance(cells[5].value, int)
    assert cells[6].value == datetime(2026, 9, 30) and cells[6].number_format == "yyyy-mm-dd"
    assert (
        cells[7].value == datetime(2026, 9, 30, 23, 59, 59)
        and cells[7].number_format == "yyyy-mm-dd hh:mm:ss"
    )
    escaped = [ws.cell(row=n, column=1) for n in (3, 4, 5)]
    assert [(c.value, c.data_type, c.quotePrefix) for c in escaped] == [
        ("+cmd", "s", True),
        ("-2", "s", True),
        ("@SUM(A1)", "s", True),
    ]
    assert wb.properties.created == datetime(2026, 11, 1)


def test_xlsx_tables_start_at_row_1_with_a_frozen_header_and_an_autofilter(tmp_path: Path) -> None:
    path = tmp_path / "sample.xlsx"
    path.write_bytes(render(SAMPLE, "xlsx"))
    wb = openpyxl.load_workbook(path)
    for name, header, last in (("numbers", "Name", "H5"), ("numbers_figures", "Figure", "J4")):
        ws = wb[name]
        assert ws["A1"].value == header and ws["A1"].font.bold, name
        assert ws.freeze_panes == "A2", name
        assert ws.auto_filter.ref == f"A1:{last}", name
        assert ws.max_row == int(last[1:]), name  # nothing but the table: no title, no notes
    # The section's title and notes are on the report sheet, with the sheets that hold it.
    cover = [tuple(c.value for c in row[:3]) for row in wb["report"].iter_rows()]
    assert ("Section", "Sheets", "Notes") in cover
    assert ("Numbers", "numbers, numbers_figures", "A note.") in cover


def test_xlsx_and_every_text_format_are_byte_identical_for_the_same_report() -> None:
    for fmt in ("table", "json", "csv", "xlsx"):
        assert render(SAMPLE, fmt) == render(SAMPLE, fmt), fmt
    other = Report(**{**SAMPLE.__dict__, "title": "Other"})
    assert render(other, "xlsx") != render(SAMPLE, "xlsx")


def test_table_format_shows_values_as_a_person_reads_them() -> None:
    text = render(SAMPLE, "table").decode()
    assert "15.4%" in text and "-1,234.50 USD" in text and "15-25%" in text and "within" in text
    assert "n/a" in text and "no deals won in 2026-Q3" in text
    assert "1,234,567.89" in text and "Amount (USD)" in text
    # A report file a controller forwards carries no padding at its lines' ends.
    assert not [line for line in text.splitlines() if line.endswith(" ")]


@pytest.fixture(scope="module")
def real_reports() -> list[Report]:
    ws = quarter_book().save()
    policy = Policy()
    return [build_cfo(ws.con, policy, None, AS_OF), build_qbr(ws.con, policy, None, AS_OF),
            build_partners(ws.con, policy, None, AS_OF)]  # fmt: skip


def test_docs_name_every_stable_json_key(real_reports: list[Report]) -> None:
    docs = DOCS.read_text()
    documented = set(re.findall(r"`([a-z0-9_]+)`", docs))
    missing = set()
    for report in real_reports:
        data = json.loads(render(report, "json"))
        missing |= {data["report"]} - documented
        for key, section in data["sections"].items():
            missing |= {key} - documented
            stack = list(section["figures"].items())
            while stack:
                name, figure = stack.pop()
                missing |= {name} - documented
                stack.extend(figure["beside"].items())
            if section["table"]:
                missing |= {c["key"] for c in section["table"]["columns"]} - documented
            missing |= set(section["charts"]) - documented
    assert not missing, f"docs/metrics.md does not name: {sorted(missing)}"


def test_real_reports_in_csv_and_xlsx(real_reports: list[Report], tmp_path: Path) -> None:
    for report in real_reports:
        blocks = csv_blocks(render(report, "csv"))
        assert {b[1][0] for b in blocks[1:]} == {s.key for s in report.sections}
        path = tmp_path / f"{report.key}.xlsx"
        path.write_bytes(render(report, "xlsx"))
        expected = ["report"]
        for section in report.sections:
            expected += [section.key] if section.table is not None or section.figures else []
            expected += [f"{section.key}_figures"] if section.table is not None and section.figures else []
        assert openpyxl.load_workbook(path).sheetnames == expected


def _money_values(data: dict[str, object]) -> list[object]:
    """Every money value of a report's json: figures (and beside), table cells, chart values."""
    out: list[object] = []
    for section in data["sections"].values():  # type: ignore[attr-defined]
        stack = list(section["figures"].values())
        while stack:
            figure = stack.pop()
            if figure["unit"] == "money":
                out.append(figure["value"])
            stack.extend(figure["beside"].values())
        if section["table"]:
            money = [c["key"] for c in section["table"]["columns"] if c["unit"] == "money"]
            out += [row[k] for row in section["table"]["rows"] for k in money]
        for chart in section["charts"].values():
            if chart["unit"] == "money":
                out += [v for s in chart["series"] for v in s["values"]]
    return out


def test_zero_money_is_written_with_the_minor_unit_like_every_other_amount(
    real_reports: list[Report],
) -> None:
    qbr = json.loads(render(real_reports[1], "json"))
    # 2026-Q2 of the book has no accelerated deal: its amounts are sums of nothing.
    accelerated = next(r for r in qbr["sections"]["pipeline"]["table"]["rows"] if r["tier"] == "Accelerated")
    assert accelerated["prior_amount"] == "0.00"
    for report in real_reports:
        values = [v for v in _money_values(json.loads(render(report, "json"))) if v is not None]
        assert values and all(re.fullmatch(r"-?[0-9]+\.[0-9]{2}", str(v)) for v in values), report.key
    blocks = csv_blocks(render(real_reports[1], "csv"))
    pipeline = next(b for b in blocks if b[0][0] == "section" and b[1][0] == "pipeline" and "tier" in b[0])
    row = next(r for r in pipeline if r[1] == "Accelerated")
    assert row[pipeline[0].index("prior_amount")] == "0.00"
