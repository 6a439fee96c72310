"""A report as an Excel workbook (openpyxl): a ``report`` sheet, then one sheet per section.

Cells are typed: money is a number with the workspace currency's number format, a percent a number
with a percent format (0.25 shows 25.00%), ratios numbers with four decimals, days numbers, counts
integers, dates and instants real dates (instants in UTC). Every text cell goes through
:func:`cosell.cells.put_xlsx`: stored as text (never a formula), with Excel's quote prefix when it
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return.

A section sheet holds the section title, its figures (one row per figure, the figures shown beside
another indented and naming it), its table (header row of labels) and its notes. The workbook is
byte-identical for the same report: document properties carry the report's as-of instant, and the
zip entries a fixed timestamp.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from cosell.cells import put_xlsx
from cosell.instants import parse_instant
from cosell.money import minor_unit
from cosell.reports.csvout import flat_figures
from cosell.reports.model import Report, Section, Unit, Value

_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_BOLD = Font(bold=True)
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
    return {"percent": "0.00%", "ratio": "0.0000", "days": "0.0", "count": "#,##0"}.get(unit, "General")


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
    if unit == "count":
        target.value = int(value)
    else:
        target.value = Decimal(value)
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


def _write_section(ws: Any, section: Section, currency: str) -> None:
    _title(ws, 1, 1, section.title)
    row = 3
    if section.figures:
        for col, header in enumerate(_FIGURE_HEADER, start=1):
            _title(ws, row, col, header)
        row += 1
        for f, parent in flat_figures(section.figures):
            label = ("    " if parent else "") + f.label
            band_low = f.band.low if f.band else None
            band_high = f.band.high if f.band else None
            cells: tuple[tuple[Value, Unit], ...] = (
                (label, "text"),
                (f.key, "text"),
                (parent or None, "text"),
                (f.value, f.unit),
                (f.deals, "count"),
                (f.deals_label or None, "text"),
                (band_low, f.unit),
                (band_high, f.unit),
                (f.verdict, "text"),
                (f.note or None, "text"),
            )
            for col, (value, unit) in enumerate(cells, start=1):
                _put(ws, row, col, value, unit, currency)
            row += 1
        row += 1
    if section.table is not None:
        for col, column in enumerate(section.table.columns, start=1):
            _title(ws, row, col, column.label)
        row += 1
        for r in section.table.rows:
            for col, column in enumerate(section.table.columns, start=1):
                _put(ws, row, col, r.get(column.key), column.unit, currency)
            row += 1
        row += 1
    for note in section.notes:
        _put(ws, row, 1, note, "text", currency)
        row += 1
    widths = max(len(_FIGURE_HEADER), len(section.table.columns) if section.table else 0)
    for col in range(1, widths + 1):
        ws.column_dimensions[get_column_letter(col)].width = 40 if col == 1 else 18


def _as_of(report: Report) -> datetime:
    """The report's as-of instant (naive UTC, for the document properties); 2000-01-01 if absent."""
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
    _title(cover, 1, 1, report.title)
    _put(cover, 2, 1, report.subtitle, "text", report.currency)
    for i, (label, value) in enumerate(report.facts, start=4):
        _put(cover, i, 1, label, "text", report.currency)
        _put(cover, i, 2, value, "text", report.currency)
    cover.column_dimensions["A"].width = 24
    cover.column_dimensions["B"].width = 100
    used = {"report"}
    for section in report.sections:
        _write_section(wb.create_sheet(_sheet_name(section.key, used)), section, report.currency)
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
