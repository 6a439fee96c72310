"""Table cells as people read them (the table, html and pdf formats): a column's own value, then
the values of the columns printed under it, one per line ("Closed: 2026-09-15").

See :class:`cosell.reports.model.Column` (``under``, ``shown``, ``currency_key``); the machine
formats (json, csv, xlsx) give every column its own cell instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from cosell.reports.model import Column, Table, cell_currency, printed_columns


@dataclass(frozen=True)
class CellText:
    """A table cell as people read it: the column's own value, then the columns printed under it."""

    text: str
    lines: tuple[CellLine, ...] = ()  # the values of the columns printed under it, empty ones left out


@dataclass(frozen=True)
class CellLine:
    """A value printed under another column's value: "Closed: 2026-09-15"."""

    label: str
    text: str
    whole: bool  # a number, a date or an id: never broken; free text wraps at spaces


def printed_cells(table: Table, currency: str) -> tuple[list[Column], list[list[CellText]]]:
    """The columns people read and each row's cells (:func:`cosell.reports.model.printed_columns`).

    A column's own value is bare under a header that names the unit (money in a column of its own
    currency keeps its code); a value printed under another column keeps its unit.
    """
    from cosell.reports.text import display  # text prints with these cells: imported on use

    layout = printed_columns(table.columns)
    rows = []
    for row in table.rows:
        cells = []
        for column, under in layout:
            own = cell_currency(column, row, currency)
            lines = tuple(
                CellLine(
                    u.label,
                    display(value, u.unit, cell_currency(u, row, currency)),
                    u.unit != "text" or not isinstance(value, str),
                )
                for u in under
                if (value := row.get(u.key)) not in (None, "")
            )
            bare = not column.currency_key
            cells.append(CellText(display(row.get(column.key), column.unit, own, bare=bare), lines))
        rows.append(cells)
    return [c for c, _ in layout], rows


def header_text(column: Column, currency: str) -> str:
    """A column header; money in the report's currency names it: "Amount (USD)"."""
    own_currency = column.unit == "money" and not column.currency_key
    return column.label + (f" ({currency})" if own_currency else "")
