"""A report as an Excel workbook (openpyxl): a ``report`` sheet, then one sheet per section.

Cells are typed: money is a number with the workspace currency's number format, a percent a number
with a percent format (0.25 shows 25.00%), ratios numbers with four decimals, days numbers, counts
integers, dates and instants real dates (instants in UTC). Every text cell goes through
:func:`cosell.cells.put_xlsx`: stored as text (never a formula), with Excel's quote prefix when it
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return.

Every other sheet is one table starting at row 1: a header row of labels, frozen, with an
autofilter over the table, so it sorts and filters as it is. A section's table is the sheet named
by its key; its figures (one row per figure, the figures shown beside another indented and naming
it) are a sheet of their own, ``<key>_figures`` (or ``<key>`` when the section has no table). The
``report`` sheet holds the title, the facts and, per section, its title, its sheets and its notes.
The ``report`` sheet lists the raised alerts after the facts, in bold red on a light red fill,
and the figure an alert is about is painted the same way. Money in a row's own currency
(``Column.currency_key``: a deal's amount) takes that currency's number format.
The workbook is byte-identical for the same report: document properties carry the report's as-of
instant, and the zip entries a fixed timestamp.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from cosell.cells import put_xlsx
from cosell.instants import parse_instant
from cosell.money import minor_unit
from cosell.report_model import Report, Section, Unit, Value, cell_currency
from cosell.reports.csvout import flat_figures

_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_BOLD = Font(bold=True)
_ALERT = Font(bold=True, color="B3261E")  # a raised alert, and the figure it is about
_ALERT_FILL = PatternFill("solid", fgColor="FDECEA")
_FIGURE_HEADER = (
    "Figure",
    "Key",
    "Part of",
    "Value",
    "Deals",
    "Deals counted",
    "Benchmark low",
    "Benchmark high",
    "Verdict",
    "Note",
)


def number_format(unit: Unit, currency: str) -> str:
    """The Excel number format of a unit."""
    if unit == "money":
        digits = minor_unit(currency)
        return f'#,##0{"." + "0" * digits if digits else ""} "{currency}"'
    # Printed as every other format prints it (one decimal of a percent): a verdict beside it is
    # judged on what shows (docs/metrics.md); the cell keeps the exact value.
    return {"percent": "0.0%", "ratio": "0.0000", "days": "0.0", "count": "#,##0"}.get(unit, "General")


def _put(ws: Any, row: int, column: int, value: Value, unit: Unit, currency: str) -> None:
    """Write one typed cell."""
    target = ws.cell(row=row, column=column)
    if value is None:
        return
    if isinstance(value, str):
        put_xlsx(target, value)
        return
    if isinstance(value, datetime):
        target.value = value.astimezone(UTC).replace(tzinfo=None)
        target.number_format = "yyyy-mm-dd hh:mm:ss"
        return
    if isinstance(value, date):
        target.value = value
        target.number_format = "yyyy-mm-dd"
        return
    put_xlsx(target, int(value) if unit == "count" else Decimal(value))
    target.number_format = number_format(unit, currency)


def _title(ws: Any, row: int, column: int, text: str) -> None:
    """A bold text cell (a title or a header: it may hold a partner's or a deal's name)."""
    target = ws.cell(row=row, column=column)
    put_xlsx(target, text)
    target.font = _BOLD


def _sheet_name(key: str, used: set[str]) -> str:
    name = key[:31] or "section"
    n = 2
    while name in used:
        suffix = f"_{n}"
        name = key[: 31 - len(suffix)] + suffix
        n += 1
    used.add(name)
    return name


def _text_length(value: Value, unit: Unit) -> int:
    """About how many characters a cell shows (for its column's width)."""
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value)
    if isinstance(value, datetime):
        return 19
    if isinstance(value, date):
        return 10
    if unit in ("money", "count"):
        return len(f"{Decimal(value):,.2f}") + 4
    return len(str(value)) + 1


# A typed cell: its value, its unit and the currency of a money value.
Typed = tuple[Value, Unit, str]


def _mark(ws: Any, row: int, columns: int) -> None:
    """Paint a row as a raised alert: bold red text on a light red fill."""
    for col in range(1, columns + 1):
        target = ws.cell(row=row, column=col)
        target.font = _ALERT
        target.fill = _ALERT_FILL


def _write_grid(
    ws: Any, headers: list[str], rows: list[list[Typed]], marked: frozenset[int] = frozenset()
) -> None:
    """A sheet that is one table: headers in row 1 (bold, frozen), the rows under it, an autofilter
    over all of it, and each column as wide as its longest cell (within limits). The rows whose
    indexes are ``marked`` are painted as a raised alert."""
    for col, header in enumerate(headers, start=1):
        _title(ws, 1, col, header)
    for r, cells in enumerate(rows, start=2):
        for col, (value, unit, currency) in enumerate(cells, start=1):
            _put(ws, r, col, value, unit, currency)
        if r - 2 in marked:
            _mark(ws, r, len(headers))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    for col, header in enumerate(headers, start=1):
        longest = max([len(header) + 4, *(_text_length(r[col - 1][0], r[col - 1][1]) for r in rows)])
        ws.column_dimensions[get_column_letter(col)].width = min(max(longest + 2, 10), 60)


def _figure_rows(section: Section, currency: str) -> list[list[Typed]]:
    rows: list[list[Typed]] = []
    for f, parent in flat_figures(section.figures):
        rows.append(
            [
                (("    " if parent else "") + f.label, "text", currency),
                (f.key, "text", currency),
                (parent or None, "text", currency),
                (f.value, f.unit, currency),
                (f.deals, "count", currency),
                (f.deals_label or None, "text", currency),
                (f.band.low if f.band else None, f.unit, currency),
                (f.band.high if f.band else None, f.unit, currency),
                (f.verdict, "text", currency),
                (f.note or None, "text", currency),
            ]
        )
    return rows


def _section_sheets(
    wb: Workbook, section: Section, currency: str, used: set[str], marked: frozenset[str] = frozenset()
) -> list[str]:
    """The section's sheets, each one table from row 1: its table (named by the section key) and
    its figures (named by the key too when there is no table, else ``<key>_figures``); the figures
    whose keys are ``marked`` (a raised alert is about them) painted as the alert."""
    names: list[str] = []
    if section.table is not None:
        name = _sheet_name(section.key, used)
        table = section.table
        _write_grid(
            wb.create_sheet(name),
            [c.label for c in table.columns],
            [
                [(r.get(c.key), c.unit, cell_currency(c, r, currency)) for c in table.columns]
                for r in table.rows
            ],
        )
        names.append(name)
    if section.figures:
        name = _sheet_name(section.key if section.table is None else f"{section.key}_figures", used)
        flat = flat_figures(section.figures)
        hot = frozenset(i for i, (f, _) in enumerate(flat) if f.key in marked)
        _write_grid(wb.create_sheet(name), list(_FIGURE_HEADER), _figure_rows(section, currency), hot)
        names.append(name)
    return names


def _write_cover(cover: Any, report: Report, sheets: list[tuple[Section, list[str]]]) -> None:
    """The ``report`` sheet: title, subtitle, facts (and the coverage note), then each section's
    title, the sheets that hold it and its notes."""
    currency = report.currency
    _title(cover, 1, 1, report.title)
    _put(cover, 2, 1, report.subtitle, "text", currency)
    facts = list(report.facts)
    if report.coverage is not None and report.coverage.note:
        facts.append(("Note", report.coverage.note))
    row = 4
    for label, value in facts:
        _put(cover, row, 1, label, "text", currency)
        _put(cover, row, 2, value, "text", currency)
        row += 1
    for alert in report.raised:
        _put(cover, row, 1, alert.label, "text", currency)
        _put(cover, row, 2, alert.text, "text", currency)
        _mark(cover, row, 2)
        row += 1
    row += 1
    for col, header in enumerate(("Section", "Sheets", "Notes"), start=1):
        _title(cover, row, col, header)
    for section, names in sheets:
        row += 1
        _put(cover, row, 1, section.title, "text", currency)
        _put(cover, row, 2, ", ".join(names) or None, "text", currency)
        _put(cover, row, 3, "\n".join(section.notes) or None, "text", currency)
        cover.cell(row=row, column=3).alignment = Alignment(wrap_text=True, vertical="top")
    cover.column_dimensions["A"].width = 40
    cover.column_dimensions["B"].width = 60
    cover.column_dimensions["C"].width = 100


def _as_of(report: Report) -> datetime:
    """The report's as-of instant (naive UTC, for the document properties); 2000-01-01 if absent."""
    if report.as_of is not None:
        return report.as_of.astimezone(UTC).replace(tzinfo=None)
    for label, value in report.facts:
        if label == "As of":
            try:
                return parse_instant(value.split()[0]).replace(tzinfo=None)
            except (ValueError, IndexError):
                break
    return datetime(2000, 1, 1)


def render_xlsx(report: Report) -> bytes:
    """The workbook as bytes (identical for the same report)."""
    wb = Workbook()
    cover = wb.active
    cover.title = "report"
    used = {"report"}
    sheets = [
        (section, _section_sheets(wb, section, report.currency, used, report.alert_figures))
        for section in report.sections
    ]
    _write_cover(cover, report, sheets)
    when = _as_of(report)
    wb.properties.created = when
    wb.properties.modified = when
    wb.properties.creator = "cosell"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return _fixed_zip_times(raw.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same archive with every entry dated :data:`_FIXED_ZIP_TIME` (zip stores local time)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
